# Helpers shared by scripts/up.sh and scripts/test.sh (sourced, not run).
# shellcheck shell=bash

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf '\033[33m==> %s\033[0m\n' "$*" >&2; }
die() {
    printf '\033[31m==> %s\033[0m\n' "$*" >&2
    exit 1
}

# Run as root, or through sudo when it is there without a password prompt (CI has no stdin).
as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 1
    fi
}

can_be_root() { [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; }

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || return 1
    can_be_root || return 1
    if [ "$APT_UPDATED" = 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# The first Python >= 3.11 on PATH.
python_find() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# .venv with the given requirements file installed; re-installs only when the files change.
venv_ensure() {
    local requirements=$1 python stamp want have
    if [ ! -x .venv/bin/python ]; then
        python=$(python_find) || die "Balas needs Python 3.11 or newer on PATH (e.g. 'apt-get install python3 python3-venv', 'brew install python@3.12')."
        say "creating .venv with $python"
        "$python" -m venv .venv || die "could not create .venv: on Debian/Ubuntu install the venv module first: apt-get install python3-venv"
    fi
    stamp=".venv/.balas-$(basename "$requirements").sha256"
    want=$(cat requirements*.txt | .venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
    have=$(cat "$stamp" 2>/dev/null || true)
    if [ "$want" != "$have" ]; then
        say "installing $requirements into .venv"
        .venv/bin/python -m pip install --disable-pip-version-check --no-input -q -r "$requirements" ||
            die "pip install -r $requirements failed (see above)"
        echo "$want" >"$stamp"
    fi
}

# Exit status 0 when the Redis at $1 answers PING.
redis_ping() {
    .venv/bin/python - "$1" <<'PY' >/dev/null 2>&1
import sys
import redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2, socket_timeout=2).ping()
PY
}

# "host port" of a URL (redis://, postgres://), with the scheme's default port.
url_host_port() {
    .venv/bin/python - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit
parts = urlsplit(sys.argv[1])
print(parts.hostname or "127.0.0.1", parts.port or int(sys.argv[2]))
PY
}

is_local_host() {
    case "$1" in 127.0.0.1 | localhost | ::1 | 0.0.0.0) return 0 ;; *) return 1 ;; esac
}

# Make the Redis at $1 answer: start a local one when it is local and redis-server is installed
# (or installable with $2 = install), else explain how to get one and exit.
redis_ensure() {
    local url=$1 install=${2:-} host port i
    redis_ping "$url" && return 0
    read -r host port < <(url_host_port "$url" 6379)
    if is_local_host "$host"; then
        if ! command -v redis-server >/dev/null 2>&1 && [ "$install" = install ]; then
            say "installing redis-server with apt-get"
            apt_install redis-server || true
        fi
        if command -v redis-server >/dev/null 2>&1; then
            say "no Redis at $url; starting a local one on port $port (it keeps running after Balas stops)"
            redis-server --daemonize yes --port "$port" --save "" >/dev/null
            for i in $(seq 1 50); do
                redis_ping "$url" && return 0
                sleep 0.2
            done
        fi
    fi
    die "No Redis answers at $url. Start one and run again, or point REDIS_URL at one:
      Debian/Ubuntu:  sudo apt-get install redis-server   (then: redis-server --daemonize yes --port 6379 --save \"\")
      macOS:          brew install redis && brew services start redis
      Docker:         docker run -d --name balas-redis -p 6379:6379 redis:7"
}
