#!/usr/bin/env bash
# The whole test suite against real PostgreSQL and Redis, installing what is missing first:
# .venv with requirements-dev.txt, Debian's chromium for the browser tests, a local PostgreSQL
# and Redis when none answers. Then `ruff check .` and `python -m pytest` (extra arguments go to
# pytest). Exits with pytest's code; "no tests collected" (5) and a ruff failure count as failures.
#
# Environment: DATABASE_URL (postgres://postgres@127.0.0.1:5432/balas), REDIS_URL (the test
# settings' redis://127.0.0.1:6379/15), TEST_DB_NAME, CHANNELS_PREFIX (parallel runs keep apart).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/balas}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/15}
export DJANGO_SETTINGS_MODULE=config.settings.test
export PYTHONUNBUFFERED=1

venv_ensure requirements-dev.txt
# shellcheck disable=SC1091
. .venv/bin/activate

# --- Chromium for the browser tests (Playwright drives the Debian build) -----------------------
if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian chromium for the browser tests"
    # The emoji font lets the screenshots show the 😊🙏 the shop's replies carry.
    apt_install chromium fonts-noto-color-emoji || apt_install chromium || warn "could not install chromium (needs apt-get and root or sudo): browser tests will fail"
fi

# --- PostgreSQL -------------------------------------------------------------------------------
pg_ping() {
    python - "$DATABASE_URL" <<'PY' >/dev/null 2>&1
import sys
from urllib.parse import unquote, urlsplit
import psycopg
url = urlsplit(sys.argv[1])
psycopg.connect(
    host=url.hostname or "127.0.0.1", port=url.port or 5432, user=unquote(url.username or "postgres"),
    password=unquote(url.password or "") or None, dbname="postgres", connect_timeout=3,
).close()
PY
}

pg_start() {
    local version started=1
    for version in $(ls /etc/postgresql 2>/dev/null); do
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start && started=0
    done
    return $started
}

pg_trust_local() {
    # Only for a cluster this script just installed: let `postgres` in over TCP from this machine
    # without a password, like the DATABASE_URL default expects.
    local hba
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
        as_root sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
    done
}

if ! pg_ping; then
    read -r pg_host _ < <(url_host_port "$DATABASE_URL" 5432)
    is_local_host "$pg_host" || die "PostgreSQL at $DATABASE_URL does not answer (and it is not on this machine)"
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        say "installing PostgreSQL with apt-get"
        apt_install postgresql || die "PostgreSQL is not installed and apt-get could not install it"
        pg_trust_local
    fi
    say "PostgreSQL is down; starting it"
    pg_start || warn "pg_ctlcluster could not start the cluster"
    for _ in $(seq 1 60); do
        pg_ping && break
        sleep 0.5
    done
    pg_ping || die "PostgreSQL at $DATABASE_URL still does not answer"
fi
say "PostgreSQL: $DATABASE_URL"

# --- Redis ------------------------------------------------------------------------------------
redis_ensure "$REDIS_URL" install
say "Redis: $REDIS_URL"

# --- lint and tests ---------------------------------------------------------------------------
lint=0
say "ruff check ."
ruff check . || lint=$?
say "mypy . (django-stubs, DRF stubs)"
mypy . || lint=$?

say "python -m pytest $*"
set +e
python -m pytest "$@"
code=$?
set -e
if [ "$code" = 5 ]; then
    warn "pytest collected no tests: that is a failure"
    code=1
fi

# The demo runs on the embedded SQLite: replay the webhook, reply and monitoring pipeline there
# too (only on a full run), so nothing PostgreSQL-only slips into that path. Statement-count,
# concurrency and report-SQL tests are PostgreSQL's alone and stay out of this pass.
if [ "$code" = 0 ] && [ "$#" = 0 ]; then
    sqlite_dir=$(mktemp -d)
    say "SQLite pass: webhooks, replies and monitoring on the embedded database"
    set +e
    DATABASE_URL="sqlite:///$sqlite_dir/balas.db" TEST_DB_NAME="$sqlite_dir/test_balas.db" python -m pytest -q \
        -m "not browser" \
        tests/inbox/test_webhook_whatsapp.py tests/inbox/test_webhook_instagram.py \
        tests/inbox/test_webhook_messenger.py tests/inbox/test_webhook_shopee.py \
        tests/inbox/test_webhook_tiktokshop.py tests/inbox/test_replies.py tests/devtools/test_simulator.py \
        tests/devtools/test_demo.py tests/monitoring/test_periods.py tests/monitoring/test_terse_alerts.py \
        tests/monitoring/test_deadline_catch_up.py tests/monitoring/test_dashboard_views.py
    code=$?
    set -e
    rm -rf "$sqlite_dir"
fi
if [ "$code" = 0 ] && [ "$lint" != 0 ]; then
    warn "tests passed but ruff or mypy found problems"
    code=1
fi
exit "$code"
