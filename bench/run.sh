#!/usr/bin/env bash
# `make bench`: every benchmark in one run (about 10 minutes on 2 cores), figures into docs/benchmarks.md.
# The dashboard first (it wants a quiet machine), then the terse judge, then the system under load,
# which also writes the summary table at the top (quoting the other two sections).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
# A fresh clone: the virtualenv (gunicorn, uvicorn, celery are in requirements.txt) and wrk.
venv_ensure requirements-dev.txt
# shellcheck disable=SC1091
. .venv/bin/activate
command -v wrk >/dev/null || apt_install wrk || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
start=$(date +%s)
python bench/bench_dashboard.py --runs 5 --quiet-wait 60
python bench/bench_tone.py --seconds 5
python bench/bench_system.py "$@"
echo "make bench: done in $(( $(date +%s) - start )) s; figures in docs/benchmarks.md"
