#!/usr/bin/env bash
# One command: install the project with its test extras into .venv and run the whole suite
# on SQLite and on PostgreSQL (ITSM_TEST_PG_URL, default: the local server, database itsm_test).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]"
exec .venv/bin/python -m pytest "$@"
