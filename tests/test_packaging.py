"""An installed wheel runs: build it, install it into a fresh venv without network, start `support`.

The wheel is built from a copy of the checkout (so no build/ or *.egg-info is left behind and no
stale build/ folder can hide a missing file). The fresh venv gets the wheel with
`pip install --no-index --no-deps`; the dependencies are made visible through a .pth file naming the
running interpreter's site-packages folders (plain path lines, so no editable-install hook of the
checkout runs there). Everything runs from a temporary folder with PYTHONPATH unset, and the test
asserts that `support` is imported from the venv, not from the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_FOLDERS = ("support", "faq", "mailrouter")
# Not part of the source: local state, build output, caches, compiled catalogues (.mo files are
# compiled at start-up into the instance folder, see support/core/i18n.py).
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "instance", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", "*.mo",
    ".pytest_cache", ".ruff_cache", "results", "node_modules",
)  # fmt: skip


def _run(args: list[str | Path], *, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs
    )


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without the checkout, the runner's venv or anyone's SUPPORT_* settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SUPPORT_")
        and k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH")
    }
    env.update(extra)
    return env


def _build_wheel(source: Path, outdir: Path) -> Path:
    """`python -m build --wheel`, as a user runs it. When its isolated environment cannot get the
    build backend (no index reachable), build once more with the running interpreter's setuptools;
    skip only when that is impossible too, and fail on any other build error."""
    outputs = []
    for extra in ([], ["--no-isolation", "--skip-dependency-check"]):
        result = _run(
            [sys.executable, "-m", "build", "--wheel", *extra, "--outdir", outdir, source],
            timeout=300,
            cwd=source,
        )
        output = result.stdout + result.stderr
        outputs.append(f"$ python -m build --wheel {' '.join(extra)}\n{output[-4000:]}")
        wheels = sorted(outdir.glob("*.whl"))
        if result.returncode == 0 and wheels:
            return wheels[-1]
        if not extra and "Installing packages in isolated environment" not in output:
            break  # the backend ran and failed: a real build error, not a missing backend
    else:
        pytest.skip(
            "cannot build the wheel here: the isolated build could not install its backend "
            "(setuptools>=68; no package index reachable?) and the test environment's own "
            "setuptools cannot build it either:\n" + "\n".join(outputs)
        )
    pytest.fail("python -m build failed:\n" + "\n".join(outputs))


def _expected_wheel_files(source: Path) -> set[str]:
    """Every file of the package folders, and templates/ as support/templates/."""
    expected = set()
    for folder in PACKAGE_FOLDERS:
        for path in (source / folder).rglob("*"):
            if path.is_file():
                expected.add(path.relative_to(source).as_posix())
    for path in (source / "templates").rglob("*"):
        if path.is_file():
            expected.add("support/" + path.relative_to(source).as_posix())
    return expected


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding only the built wheel (dependencies visible through a .pth file)."""
    try:
        import build  # noqa: F401
    except ImportError:
        pytest.skip(
            "the `build` package is not installed in the test environment (pip install build)"
        )

    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    wheel = _build_wheel(source, tmp / "dist")

    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    missing = sorted(_expected_wheel_files(source) - shipped)
    assert not missing, f"files of the checkout missing from {wheel.name}: {missing}"
    assert "support/templates/static/style.css" in shipped

    env_dir = tmp / "venv"
    created = _run([sys.executable, "-m", "venv", "--without-pip", env_dir], timeout=120)
    if created.returncode != 0:
        pytest.skip(f"cannot create a venv with {sys.executable}: {created.stderr.strip()}")
    python = env_dir / "bin" / "python"

    installed = _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-deps",
         "--no-compile", "--disable-pip-version-check", wheel],
        timeout=180,
        cwd=tmp,
        env=_clean_env(),
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr

    purelib = _run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        timeout=30,
        cwd=tmp,
        env=_clean_env(),
    ).stdout.strip()
    # Plain path lines: the .pth files in those folders (such as the editable install's finder,
    # which would map `support` back to the checkout) are not run; the check below makes sure.
    dependency_dirs = [
        entry
        for entry in sys.path
        if entry.rstrip("/").endswith(("site-packages", "dist-packages")) and Path(entry).is_dir()
    ]
    (Path(purelib) / "_test_runner_dependencies.pth").write_text(
        "".join(f"{entry}\n" for entry in dependency_dirs), encoding="utf-8"
    )

    where = _run(
        [python, "-c",
         "import json, support, support.core.resources as r, support.core.i18n as i;"
         "print(json.dumps([support.__file__, str(r.templates_dir()), str(i.SOURCE_DIR)]))"],
        timeout=60,
        cwd=tmp,
        env=_clean_env(),
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    for path in json.loads(where.stdout):
        assert Path(path).resolve().is_relative_to(env_dir.resolve()), (
            f"{path} is not inside the new venv: the checkout leaked in"
        )
    yield env_dir


def test_installed_wheel_initialises_serves_styled_bilingual_pages_and_stops(venv: Path) -> None:
    support_bin = venv / "bin" / "support"
    work = venv.parent / "run"
    work.mkdir()
    instance = work / "instance"

    init = _run(
        [support_bin, "--instance", instance, "init", "--password", "pw-123456"],
        timeout=240,
        cwd=work,
        env=_clean_env(),
    )
    assert init.returncode == 0, init.stdout + init.stderr
    assert re.search(r"demo FAQ: [1-9]\d* articles", init.stdout), init.stdout
    assert "ready:" not in init.stdout  # `support run` says it, once it listens

    http_port, smtp_port = _free_port(), _free_port()
    while smtp_port == http_port:
        smtp_port = _free_port()
    base = f"http://127.0.0.1:{http_port}"
    log_path = work / "run.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(support_bin), "--instance", str(instance), "run"],
            cwd=work,
            env=_clean_env(SUPPORT_HTTP_PORT=str(http_port), SUPPORT_SMTP_PORT=str(smtp_port)),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 300  # a start took over 120 s at a load of 28
        while True:
            assert process.poll() is None, f"`support run` exited early:\n{log_path.read_text()}"
            try:
                if _get(f"{base}/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no /healthz in 300 s:\n{log_path.read_text()}"
            time.sleep(0.3)

        demo = json.loads((ROOT / "faq" / "demo_content.json").read_text(encoding="utf-8"))
        ui_texts = {
            "zh": ("帮助中心", "有什么可以帮您？"),
            "en": ("Help centre", "How can we help?"),
        }
        pages = {}
        for lang, texts in ui_texts.items():
            status, page = _get(f"{base}/?lang={lang}")
            assert status == 200, page
            for text in texts:
                assert text in page, f"{text!r} missing from the {lang} home page"
            names = [c[f"name_{lang}"] for c in demo["categories"]]
            assert any(name in page for name in names), f"no demo FAQ category on the {lang} page"
            pages[lang] = page
        assert "How can we help?" not in pages["zh"]
        assert "有什么可以帮您？" not in pages["en"]

        stylesheets = re.findall(
            r'<link rel="stylesheet" href="(/static/[^"?]+\.css)[^"]*"', pages["en"]
        )
        assert stylesheets, "the page links no /static/*.css"
        for href in stylesheets:
            status, css = _get(base + href)
            assert status == 200 and css.strip(), f"{href}: {status}"

        status, login = _get(f"{base}/staff/login?lang=en")
        assert status == 200, login
        assert "Staff sign-in" in login
        status, login = _get(f"{base}/staff/login?lang=zh")
        assert status == 200 and "员工登录" in login
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(
                f"`support run` did not stop within 30 s of SIGTERM:\n{log_path.read_text()}"
            )
    assert code == 0, f"`support run` exited with {code}:\n{log_path.read_text()}"
    assert "ready: the FAQ portal at" in log_path.read_text()
