#!/usr/bin/env bash
# Set up (virtual environment, instance/, schema, demo data) and start the whole system:
# web portal on :8080, SMTP intake on :2525, worker and periodic checks. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh ""
# --then-run: init does not tell to run `support run`, which follows here.
.venv/bin/support init --then-run
exec .venv/bin/support run
