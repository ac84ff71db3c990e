#!/usr/bin/env bash
# The heavy fault scenarios at full size, each on its own production-like stack on loopback
# (own redis-server on ports 6391/6393/6394, own PostgreSQL database, uvicorn, Celery worker and
# beat), then the API fuzzing with more examples. Figures: var/faults/<scenario>.json; a summary
# is printed at the end. Exit code 0 only if every scenario's checks hold.
#
#   bash scripts/faults/run_all.sh              # everything (about 10 minutes on 2 cores)
#   bash scripts/faults/run_all.sh redis_outage # one scenario: redis_outage | worker_kill | outage_catch_up |
#                                               outage_catch_up_redis | duplicate_storm | fuzz
#
# Environment: TEST_DB_NAME, REDIS_URL, CHANNELS_PREFIX (the fuzz step, as for scripts/test.sh),
# FAULT_PG_URL (postgres://postgres@127.0.0.1:5432, a server where the script may
# create and drop balas_fault_* databases), SCHEMATHESIS_MAX_EXAMPLES (100).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck disable=SC1091
[ -x .venv/bin/python ] && . .venv/bin/activate

want=${1:-all}
failed=()
run() {
    local name=$1
    shift
    if [ "$want" = all ] || [ "$want" = "$name" ]; then
        echo "==> $name: $*"
        "$@" || failed+=("$name")
    fi
}

run redis_outage python scripts/faults/redis_outage.py --outage-s 60 --rate 8 --redis-port 6391
run worker_kill python scripts/faults/worker_kill.py --conversations 600 --redis-port 6393
run outage_catch_up python scripts/faults/outage_catch_up.py --messages 10000 --redis-port 6386 --max-s 60
run outage_catch_up_redis python scripts/faults/outage_catch_up.py --mode redis --messages 10000 --redis-port 6385 \
    --name outage_catch_up_redis --max-s 60
run duplicate_storm python scripts/faults/duplicate_storm.py --messages 1000 --copies 10 --threads 16 --redis-port 6394
# The fuzz tests use the test settings: TEST_DB_NAME, REDIS_URL (a Redis db they may flush) and
# CHANNELS_PREFIX as for scripts/test.sh.
run fuzz env SCHEMATHESIS_MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-100}" \
    python -m pytest tests/reliability/test_schema_fuzz.py tests/reliability/test_webhook_fuzz.py -q -p no:warnings

python - <<'PY'
import json, pathlib
for path in sorted(pathlib.Path("var/faults").glob("*.json")):
    data = json.loads(path.read_text())
    checks = data.get("checks", {})
    verdict = "PASS" if checks and all(checks.values()) else "FAIL"
    print(f"{verdict} {path.name}: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}" for k, v in checks.items()))
PY
if [ "${#failed[@]}" -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
echo "all fault scenarios passed"
