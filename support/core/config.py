"""Configuration: built-in defaults, then instance/config.toml, then SUPPORT_* variables.

Every setting is declared once (name, default, type, help) in its area's `settings.py`; the factory
(`support.app`) lists the areas, and the README table is generated from the same declarations
(`support config-table`), so docs cannot drift.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ENV_PREFIX = "SUPPORT_"
#: The instance folder (`support --instance`), chosen before any setting is read: not a setting.
INSTANCE_PATH_ENV = "SUPPORT_INSTANCE_PATH"
DEV_SECRET_KEY = "development-only-insecure-key"


class ConfigError(Exception):
    """A setting is unknown or has a bad value; the message names it."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    type: type
    help: str
    # Lists and tables come from TOML natively and from the environment as JSON.
    secret: bool = False


def default_instance_path() -> Path:
    """SUPPORT_INSTANCE_PATH, else ``./instance`` of the folder the command runs in (the
    checkout). The variable counts here too, not only for `support --instance`: a WSGI server
    (`gunicorn wsgi:app`) under a deployment's unit builds the app with no folder given."""
    chosen = os.environ.get(INSTANCE_PATH_ENV, "").strip()
    return Path(chosen) if chosen else Path.cwd() / "instance"


@functools.lru_cache(maxsize=64)
def _file_path(configured: str, folder: str, default_name: str) -> Path:
    if configured:
        return Path(configured).expanduser()
    return Path(folder) / default_name


def file_setting_path(
    config: Mapping[str, Any], setting: str, folder: str | os.PathLike[str], default_name: str
) -> Path:
    """The file ``config[setting]`` names (``~`` expanded), else ``default_name`` in ``folder``.

    Remembered per (value, folder, name): the worker asks for its models' paths for every mail;
    building both cost about 10 us of CPU a mail, remembered 0.7 (a Path is immutable, so
    sharing one is safe; a ``~`` is expanded once per process: HOME stays under a running one).
    """
    return _file_path(str(config.get(setting) or "").strip(), os.fspath(folder), default_name)


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    """Turn a value from TOML or the environment into the setting's type, or say what is wrong."""
    expected = setting.type
    if value is None:
        return None
    try:
        if isinstance(value, str) and expected is not str:
            if expected is bool:
                lowered = value.strip().lower()
                if lowered in ("1", "true", "yes", "on"):
                    return True
                if lowered in ("0", "false", "no", "off", ""):
                    return False
                raise ValueError(f"expected true or false, got {value!r}")
            if expected in (list, dict):
                if expected is list and not value.strip().startswith("["):
                    return [item.strip() for item in value.split(",") if item.strip()]
                value = json.loads(value)
            else:
                return expected(value)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ValueError(f"expected {expected.__name__}, got {type(value).__name__}")
        return value
    except (ValueError, json.JSONDecodeError) as exc:
        raise ConfigError(f"bad value for {setting.name} (from {origin}): {exc}") from None


def load_config(
    instance_path: str | Path,
    *,
    declared: Sequence[Setting],
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Resolve every setting in `declared` (the factory's list of every area's settings).

    Unknown keys are an error: a typo must not silently do nothing.
    """
    settings = {s.name: s for s in declared}
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {name: s.default for name, s in settings.items()}

    config_file = Path(instance_path) / "config.toml"
    if config_file.exists():
        try:
            text = config_file.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except UnicodeDecodeError as exc:
            raise ConfigError(f"cannot read {config_file}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"cannot read {config_file}: {exc}{_toml_hint(text, exc)}") from None
        for key, value in data.items():
            name = key.upper()
            if name not in settings:
                raise ConfigError(
                    f"unknown setting {key!r} in {config_file}{_did_you_mean(key, settings)}"
                )
            config[name] = _coerce(settings[name], value, str(config_file))

    for env_key, value in environ.items():
        if not env_key.startswith(ENV_PREFIX) or env_key == INSTANCE_PATH_ENV:
            continue
        name = env_key[len(ENV_PREFIX) :]
        if name not in settings:
            raise ConfigError(
                f"unknown setting in environment variable {env_key}"
                + _did_you_mean(name, settings, prefix=ENV_PREFIX)
            )
        config[name] = _coerce(settings[name], value, f"environment variable {env_key}")

    for key, value in (overrides or {}).items():
        name = key.upper()
        if name in settings:
            config[name] = _coerce(settings[name], value, "test configuration")
        else:
            config[name] = value  # Flask's own keys (TESTING, WTF_CSRF_ENABLED, ...)

    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{Path(instance_path).resolve() / 'support.db'}"
    if not config.get("PUBLIC_BASE_URL"):
        config["PUBLIC_BASE_URL"] = own_address(config)
    _validate(config)
    return config


def _did_you_mean(key: str, settings: Mapping[str, Setting], *, prefix: str = "") -> str:
    """The hint `; did you mean 'http_port'?` for a key close to a setting's name, else ""."""
    lower = key.lower()
    close = difflib.get_close_matches(lower[:100], [n.lower() for n in settings], n=1, cutoff=0.8)
    if not close:
        return ""
    suggestion = close[0].upper() if key.isupper() else close[0]
    return f"; did you mean {prefix + suggestion!r}?"


#: Where TOML's error message says it stopped ("... (at line 4, column 16)").
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
#: A setting written as `key = value`, as a hand-written config.toml's lines are.
_KEY_VALUE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def _toml_hint(text: str, exc: tomllib.TOMLDecodeError) -> str:
    """The line TOML stopped at, and for text left unquoted (`company_name = Acme Ltd`, the
    commonest slip of someone new to TOML) the line as it should be written."""
    found = _TOML_LINE.search(str(exc))
    lines = text.splitlines()
    if not found or not 1 <= int(found.group(1)) <= len(lines):
        return ""
    line = lines[int(found.group(1)) - 1]
    shown = "".join(c if c.isprintable() else "?" for c in line[:200])
    hint = f"\n  {shown}"
    setting = _KEY_VALUE.match(line[:2000])
    if setting and setting.group(2) and setting.group(2)[0] not in "\"'[{":
        quoted = json.dumps(setting.group(2), ensure_ascii=False)  # a valid TOML basic string
        hint += f"\ntext needs quotes: {setting.group(1)} = {quoted}"[:400]
    return hint


def company_name(config: Mapping[str, Any], language: str | None) -> str:
    """The company as a reader of `language` knows it: 流明家居 on Chinese pages and in
    Chinese mail, Lumen Home in English (COMPANY_NAME_ZH, else COMPANY_NAME)."""
    if (language or "").split("-")[0].split("_")[0].lower() == "zh" and config.get(
        "COMPANY_NAME_ZH"
    ):
        return str(config["COMPANY_NAME_ZH"])
    return str(config.get("COMPANY_NAME") or "")


def relay_host(config: Mapping[str, Any]) -> str:
    """OUTBOUND_SMTP_HOST as used: "" when no relay is set (mail then only lands in
    instance/outbox/, which the staff pages say: a fresh install has none)."""
    return str(config.get("OUTBOUND_SMTP_HOST") or "").strip()


def mail_domains(config: Mapping[str, Any]) -> list[str]:
    """MAIL_DOMAINS as compared: lower-case, blanks dropped, in the configured order (the first
    names our own mail: `support.desk.outbox.our_domain`)."""
    return [d.strip().lower() for d in config.get("MAIL_DOMAINS") or [] if d.strip()]


def public_base_url(config: Mapping[str, Any]) -> str:
    """PUBLIC_BASE_URL without a trailing slash: every absolute link is this plus a path."""
    return str(config["PUBLIC_BASE_URL"]).rstrip("/")


def own_address(config: Mapping[str, Any]) -> str:
    """The portal's address as this host serves it (HTTP_HOST:HTTP_PORT); a wildcard listen
    address is reached on loopback."""
    host = str(config.get("HTTP_HOST") or "127.0.0.1")
    if host in ("0.0.0.0", "::", "*"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{int(config.get('HTTP_PORT') or 80)}"


def _validate(config: dict[str, Any]) -> None:

    try:
        url = make_url(config["DATABASE_URL"])
    except ArgumentError:
        raise ConfigError(f"bad DATABASE_URL {config['DATABASE_URL']!r}") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL uses {url.get_backend_name()!r}; supported: sqlite, postgresql"
        )
    for port_key in ("HTTP_PORT", "SMTP_PORT"):
        if not 0 <= int(config[port_key]) <= 65535:
            raise ConfigError(f"{port_key} must be between 0 and 65535")
    if not config.get("SECRET_KEY"):
        if config.get("DEVELOPMENT") or config.get("TESTING"):
            config["SECRET_KEY"] = DEV_SECRET_KEY
        else:
            raise ConfigError(
                "no SECRET_KEY: run `support init` (it writes one to instance/config.toml) or set "
                "SUPPORT_SECRET_KEY; only SUPPORT_DEVELOPMENT=1 may run without one"
            )
    elif config["SECRET_KEY"] == DEV_SECRET_KEY and not config.get("DEVELOPMENT"):
        raise ConfigError("SECRET_KEY is the development key; set a real one")
    notice = str(config.get("PRIVACY_NOTICE_URL") or "")
    if notice and (
        not notice.lower().startswith(("https://", "http://"))
        or any(c.isspace() or ord(c) < 32 for c in notice)
        or len(notice) > 2000
    ):
        raise ConfigError(f"PRIVACY_NOTICE_URL must be an http(s) address, got {notice!r}")


def settings_table_markdown(declared: Sequence[Setting]) -> str:
    """The README's configuration table."""
    lines = ["| setting (env `SUPPORT_…`) | default | meaning |", "|---|---|---|"]
    for s in declared:
        default = "(secret)" if s.secret else json.dumps(s.default, ensure_ascii=False)
        if s.name == "DATABASE_URL":
            default = "`sqlite:///instance/support.db`"
        elif s.name == "PUBLIC_BASE_URL":
            default = "`http://HTTP_HOST:HTTP_PORT`"
        else:
            default = f"`{default}`"
        lines.append(f"| `{s.name}` | {default} | {s.help} |")
    return "\n".join(lines)
