#!/usr/bin/env bash
# One command: install the project into .venv, initialize the SQLite database with demo data, start the app.
# Admin and demo passwords come from ITSM_ADMIN_PASSWORD / ITSM_DEMO_PASSWORD, else are generated and printed once.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
.venv/bin/flask --app wsgi itsm init --demo
HOST=${ITSM_HOST:-127.0.0.1}
PORT=${ITSM_PORT:-5000}
echo "ITSM is starting at http://$HOST:$PORT/  (log in as admin, or a demo user such as alice)"
if [ "${ITSM_SCHEDULER:-1}" = "1" ]; then
  # the scheduler (notices, reminders, callbacks) runs beside the web workers, never inside them
  .venv/bin/flask --app wsgi itsm scheduler &
  SCHEDULER_PID=$!
  trap 'kill "$SCHEDULER_PID" 2>/dev/null || true' EXIT
  .venv/bin/gunicorn --workers "${ITSM_WORKERS:-2}" --threads 4 --bind "$HOST:$PORT" --access-logfile - wsgi:app
else
  exec .venv/bin/gunicorn --workers "${ITSM_WORKERS:-2}" --threads 4 --bind "$HOST:$PORT" \
    --access-logfile - wsgi:app
fi
