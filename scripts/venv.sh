# Sourced by start.sh and test.sh: create .venv when needed and install the project into it.
# Reinstalls only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else 1)'; then
  echo "error: Python 3.11 to 3.13 is needed (found: $("$PYTHON" --version 2>&1)); set PYTHON=..." >&2
  exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
extras="${1:-}"
stamp="$VENV/.installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  # pip is quiet for minutes on a first install: say what is going on.
  echo "installing the project and its packages into .venv${extras:+ (with $extras)}" \
    "(a few minutes the first time)..." >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT${extras:+[$extras]}"
  touch "$stamp"
fi
