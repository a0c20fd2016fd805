"""Staff pages a fresh server is slow on: the first ticket page, and saving an FAQ article.

Starts the real server (`support run`) on an instance made by `support init` (demo content),
waits for its "ready:" line, signs in as the admin over HTTP and then times, per request, the
wall time seen by the client and the CPU time the server process spent meanwhile (from
/proc/PID/stat: every thread of the process, so the worker's and the periodic jobs' work in the
same window is counted too; the machine is shared, so CPU time is the figure to compare):

- the first ticket page after "ready", then a second ticket and the first one again, and the
  reply box's FAQ search (Chinese, then English);
- saving one published article in the staff editor SAVES times (each save changes its answer),
  and a portal search for the word the last save added (it must find the article).

    .venv/bin/python bench/staff_first_pages.py                       # a new instance in /tmp
    .venv/bin/python bench/staff_first_pages.py --instance /tmp/inst  # init'ed once, reused
    .venv/bin/python bench/staff_first_pages.py --database-url postgresql+psycopg://u@h/db
"""

from __future__ import annotations

import argparse
import html
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-" + "x" * 8
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def support(instance: Path, env: dict[str, str], *args: str) -> list[str]:
    return [sys.executable, "-m", "support", "--instance", str(instance), *args]


def timed(label: str, pid: int, call) -> requests.Response:
    wall, cpu = time.perf_counter(), cpu_seconds(pid)
    response = call()
    wall, cpu = time.perf_counter() - wall, cpu_seconds(pid) - cpu
    print(
        f"{label:<28} {response.status_code}  wall {wall * 1000:6.0f} ms"
        f"  server CPU {cpu * 1000:5.0f} ms",
        flush=True,
    )
    return response


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def article_form(page: str) -> dict[str, str]:
    """The editor form's fields as the browser would post them."""

    def value(name: str) -> str:
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
        return html.unescape(found.group(1)) if found else ""

    def text(name: str) -> str:
        found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\n?(.*?)</textarea>', page, re.S)
        return html.unescape(found.group(1)) if found else ""

    def selected(name: str) -> str:
        select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
        assert select, name
        found = re.search(r'<option selected value="([^"]*)"', select.group(1)) or re.search(
            r'<option value="([^"]*)" selected', select.group(1)
        )
        assert found, name
        return found.group(1)

    return {
        "csrf_token": csrf(page),
        "question": value("question"),
        "answer_md": text("answer_md"),
        "category_id": selected("category_id"),
        "language": selected("language"),
        "slug": value("slug"),
        "translation_key": value("translation_key"),
        "phrasings": text("phrasings"),
        "is_published": "y",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instance", type=Path, help="instance folder (made when missing)")
    parser.add_argument("--database-url", default="", help="instead of SQLite in the instance")
    parser.add_argument("--saves", type=int, default=5)
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds to wait after ready (the worker loads its models after it, in-process)",
    )
    parser.add_argument("--password", default=PASSWORD, help="the admin's (a given instance)")
    args = parser.parse_args()
    instance = args.instance or Path(tempfile.mkdtemp(prefix="staff-pages-")) / "instance"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SUPPORT_LOG_LEVEL": "WARNING"}
    env.pop("SUPPORT_INSTANCE", None)
    if args.database_url:
        env["SUPPORT_DATABASE_URL"] = args.database_url
    if not (instance / "config.toml").exists():
        started = time.perf_counter()
        subprocess.run(
            support(instance, env, "init", "--password", args.password),
            env=env,
            check=True,
            capture_output=True,
        )
        print(f"support init: {time.perf_counter() - started:.1f} s", flush=True)
    port = free_port()
    env |= {
        "SUPPORT_HTTP_PORT": str(port),
        "SUPPORT_SMTP_PORT": str(free_port()),
        "SUPPORT_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    started = time.perf_counter()
    server = subprocess.Popen(
        support(instance, env, "run"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if line.startswith("ready:"):
                break
        else:
            raise SystemExit("the server stopped before it was ready")
        pid = server.pid
        print(
            f"ready after {time.perf_counter() - started:.1f} s wall,"
            f" server CPU {cpu_seconds(pid):.1f} s; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        base = f"http://127.0.0.1:{port}"
        http = requests.Session()
        login = http.get(f"{base}/staff/login")
        signed_in = http.post(
            f"{base}/staff/login",
            data={
                "csrf_token": csrf(login.text),
                "email": "admin@example.com",
                "password": args.password,
            },
            allow_redirects=False,
        )
        assert signed_in.status_code == 302, "sign-in failed (another password in the instance?)"
        time.sleep(args.settle)
        idle = cpu_seconds(pid)
        time.sleep(2.0)
        idle = cpu_seconds(pid) - idle
        print(
            f"server without requests, {args.settle:.0f}-{args.settle + 2:.0f} s after ready:"
            f" CPU {idle * 500:.0f} ms per second",
            flush=True,
        )
        first = timed("first ticket page", pid, lambda: http.get(f"{base}/staff/tickets/1"))
        assert first.status_code == 200
        timed("second ticket page", pid, lambda: http.get(f"{base}/staff/tickets/2"))
        timed("first ticket page again", pid, lambda: http.get(f"{base}/staff/tickets/1"))
        for n, words in enumerate(("退货 运费", "refund delivery")):
            timed(
                f"reply box FAQ search {n + 1}",
                pid,
                lambda words=words: http.get(
                    f"{base}/staff/tickets/1/faq-answers", params={"q": words}
                ),
            )
        editor = http.get(f"{base}/staff/faq/")
        article = re.search(r'href="/staff/faq/articles/(\d+)"', editor.text)
        assert article, "no article in the editor's list"
        url = f"{base}/staff/faq/articles/{article.group(1)}"
        word = slug = ""
        for n in range(args.saves):
            form = article_form(http.get(url).text)
            slug = form["slug"]
            word = f"benchword{secrets.token_hex(4)}"
            form["answer_md"] = re.sub(r"\s*benchword\w+$", "", form["answer_md"]) + f" {word}"
            saved = timed(
                f"article save {n + 1}",
                pid,
                lambda form=form: http.post(url, data=form, allow_redirects=False),
            )
            assert saved.status_code == 302, saved.text[:2000]
        found = http.get(f"{base}/search", params={"q": word})
        hit = f"/a/{slug}" in found.text
        print(
            f"portal search for the last save's word finds it: {hit}"
            + ("" if hit else f" (search page: HTTP {found.status_code})")
        )
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
