#!/usr/bin/env bash
# Balas on this machine, in the foreground: install, migrate, seed the demo shop, then run the web
# server (HTTP + WebSockets), a Celery worker, Celery beat, the fake platform send-APIs and the
# customer simulator. Ctrl-C stops them all.
#
# Environment (all optional): PORT (8000), HOST (127.0.0.1), REDIS_URL (redis://127.0.0.1:6379/0),
# DATABASE_URL (SQLite db.sqlite3 when unset), FAKE_PLATFORMS_PORT (9100), SIM_INTERVAL (15 seconds
# between new simulated customers), SIMULATE (1; 0 = no simulated customers), CELERY_CONCURRENCY (2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}
FAKE_PLATFORMS_PORT=${FAKE_PLATFORMS_PORT:-9100}
SIM_INTERVAL=${SIM_INTERVAL:-15}
SIMULATE=${SIMULATE:-1}
CELERY_CONCURRENCY=${CELERY_CONCURRENCY:-2}
export PORT
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
export BALAS_PUBLIC_URL=${BALAS_PUBLIC_URL:-http://$HOST:$PORT}
export PYTHONUNBUFFERED=1

venv_ensure requirements.txt
# shellcheck disable=SC1091
. .venv/bin/activate

port_free() {
    python - "$1" "$2" <<'PY'
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((sys.argv[1], int(sys.argv[2])))
    except OSError:
        sys.exit(1)
PY
}
port_free "$HOST" "$PORT" || die "port $PORT is in use on $HOST: stop what uses it, or run with PORT=<another port>"
port_free 127.0.0.1 "$FAKE_PLATFORMS_PORT" ||
    die "port $FAKE_PLATFORMS_PORT (fake platform APIs) is in use: run with FAKE_PLATFORMS_PORT=<another port>"

redis_ensure "$REDIS_URL"
say "Redis: $REDIS_URL"
say "database: ${DATABASE_URL:-SQLite db.sqlite3} (migrating)"
python manage.py migrate --noinput -v 1
mkdir -p var
python manage.py seeddemo --port "$PORT" --host "$HOST"

# Replies typed in the inbox go to the local stand-in for the platforms' send APIs.
eval "$(python - "$FAKE_PLATFORMS_PORT" <<'PY'
import shlex, sys
from devtools.fake_platforms import FakePlatformServer
server = FakePlatformServer("127.0.0.1", int(sys.argv[1]))
for name, value in server.settings_overrides().items():
    print(f"export {name}={shlex.quote(value)}")
PY
)"

PIDS=()
NAMES=()
COLORS=(36 32 35 33 34 31)

prefix() {
    local label=$1 color=$2 line
    if [ -t 1 ]; then label=$(printf '\033[%sm%-6s|\033[0m' "$color" "$label"); else label=$(printf '%-6s|' "$label"); fi
    while IFS= read -r line || [ -n "$line" ]; do
        printf '%s %s\n' "$label" "$line"
    done
}

start() {
    local name=$1 color=${COLORS[${#PIDS[@]} % ${#COLORS[@]}]}
    shift
    "$@" </dev/null > >(prefix "$name" "$color") 2>&1 &
    PIDS+=("$!")
    NAMES+=("$name")
}

alive() {
    local pid
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        if kill -0 "$pid" 2>/dev/null; then return 0; fi
    done
    return 1
}

STOPPING=0
stop_all() {
    local code=$? i pgid pid
    set +eu
    [ "$STOPPING" = 1 ] && return
    STOPPING=1
    trap '' INT TERM HUP
    say "stopping web, worker, beat, fake platforms and simulator"
    [ "${#PIDS[@]}" -gt 0 ] && kill -TERM "${PIDS[@]}" 2>/dev/null
    for i in $(seq 1 60); do
        alive || break
        sleep 0.25
    done
    if alive; then
        warn "still running after 15 s; killing"
        kill -KILL "${PIDS[@]}" 2>/dev/null || true
    fi
    # Whatever they started (Celery's pool processes) is in our process group: end it too,
    # when the group is ours (a terminal gives every foreground job its own).
    pgid=$(python -c 'import os; print(os.getpgid(os.getppid()))' 2>/dev/null || echo)
    if [ "$pgid" = "$$" ] && command -v pgrep >/dev/null 2>&1; then
        for pid in $(pgrep -g "$$"); do
            [ "$pid" != "$$" ] && kill -KILL "$pid" 2>/dev/null || true
        done
    fi
    wait 2>/dev/null || true
    say "stopped"
    exit "$code"
}
trap 'exit 130' INT
trap 'exit 143' TERM HUP
trap stop_all EXIT

start fake python -m devtools.fake_platforms --port "$FAKE_PLATFORMS_PORT"
start web python -m uvicorn config.asgi:application --host "$HOST" --port "$PORT" --no-access-log
start worker python -m celery -A config worker --loglevel INFO --concurrency "$CELERY_CONCURRENCY"
start beat python -m celery -A config beat --loglevel INFO --schedule var/celerybeat-schedule
if [ "$SIMULATE" != 0 ]; then
    start sim python manage.py simulate --url "http://$HOST:$PORT" --interval "$SIM_INTERVAL"
fi

announced=0
while true; do
    for i in "${!PIDS[@]}"; do
        if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
            warn "${NAMES[$i]} exited; stopping the rest (see its output above)"
            exit 1
        fi
    done
    if [ "$announced" = 0 ] && python - "http://$HOST:$PORT/api/schema/" <<'PY' 2>/dev/null; then
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError:
    pass  # any HTTP answer means the server is up
PY
        announced=1
        say "Balas is running at http://$HOST:$PORT/  (logins and API token: printed above, also in var/demo.json; Ctrl-C stops)"
    fi
    sleep 1
done
