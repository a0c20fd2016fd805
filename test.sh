#!/usr/bin/env bash
# Set up and run the full test suite. SQLite by default; PostgreSQL with
# TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test ./test.sh
# and both in one run (each database test on each, a browser test on one, the others once;
# what .ci/run does) with
# TEST_DATABASE_URL="sqlite postgresql+psycopg://postgres@127.0.0.1:5432/test" ./test.sh
# Extra arguments go to pytest (e.g. ./test.sh tests/faq -x).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh test
# System packages the tests use: a real IMAP server, a real spamd, a real browser, and npm to
# fetch axe-core for the accessibility test (test tooling, never a product dependency).
need=()
command -v dovecot >/dev/null 2>&1 || need+=(dovecot-imapd)
command -v spamd >/dev/null 2>&1 || need+=(spamassassin spamc)
[ -x /usr/bin/chromium ] || need+=(chromium)
# The browser tests run Chromium's headless shell when it is there (tests/browser_tools.py).
[ -x /usr/bin/chromium-headless-shell ] || need+=(chromium-headless-shell)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "note: ${need[*]} missing and cannot be installed here; the tests that need them skip" >&2
  fi
fi
# Byte code is kept (in __pycache__, which git ignores): with PYTHONDONTWRITEBYTECODE set, as some
# environments set it, every test process rewrote the asserts of and compiled all ~430 test and
# project modules again (collecting: 14.8 s of CPU a process instead of 5.5), and every `support`
# subprocess of the tests compiled the project again.
unset PYTHONDONTWRITEBYTECODE
# Two test processes a core by default: about two fifths of the suite's time is waiting (servers
# and browsers starting, mail over loopback, subprocesses), which another process's tests fill.
# A module's tests stay together, so its fixtures are built once. TEST_PROCESSES=0 runs them in
# this process (for -s or --pdb).
processes="${TEST_PROCESSES:-$(( $(nproc 2>/dev/null || echo 1) * 2 ))}"
exec .venv/bin/python -m pytest -n "$processes" --dist loadfile "$@"
