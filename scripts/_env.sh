# Shared settings for the FluxiLab developer scripts. Sourced, never run.
#
# Home Assistant 2026.10 needs Python >= 3.14.2. When such a Python is on PATH we use
# it directly ("host" mode). Otherwise we build a Debian sid root with debootstrap
# ("root" mode), cache it outside the repository, and run every Home Assistant side
# command inside it through scripts/run, with the repository bind-mounted at the same
# absolute path so that paths are identical inside and out.
# shellcheck shell=bash

FLUXILAB_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
FLUXILAB_CACHE="${FLUXILAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fluxilab}"
FLUXILAB_ROOT="$FLUXILAB_CACHE/sid-root"
# Packages the sid root needs. debootstrap installs the base (the interpreter, TLS
# roots, the broker for tests and the live system, a compiler for the few HA
# requirements that build from source); the extras (a PostgreSQL server that the
# recorder tests start, Chromium and its driver for the panel's browser tests) go in
# afterwards with apt inside the root: Chromium's desktop dependencies (dconf) fail
# to configure in debootstrap's base stage. Roots built before a package was added
# here get it from scripts/bootstrap.
FLUXILAB_ROOT_PACKAGES="python3.14,python3.14-venv,python3.14-dev,ca-certificates,mosquitto,build-essential"
FLUXILAB_ROOT_EXTRA_PACKAGES="postgresql,mariadb-server,chromium,chromium-driver,libjemalloc2"
FLUXILAB_MIN_PY="3.14.2"
# Edge-agent side: the Python that Raspberry Pi OS ships.
FLUXILAB_AGENT_PY="${FLUXILAB_AGENT_PY:-python3.11}"
FLUXILAB_AGENT_VENV="$FLUXILAB_CACHE/agent-venv"

fluxilab_log() { printf '\033[1;34m[fluxilab]\033[0m %s\n' "$*" >&2; }
fluxilab_die() { printf '\033[1;31m[fluxilab] error:\033[0m %s\n' "$*" >&2; exit 1; }

# Print the path of a Python >= FLUXILAB_MIN_PY found on PATH, or nothing.
fluxilab_find_host_python() {
    local candidate path
    for candidate in ${FLUXILAB_PYTHON:-} python3.16 python3.15 python3.14 python3; do
        path="$(command -v "$candidate" 2>/dev/null)" || continue
        if "$path" -c "import sys; sys.exit(0 if sys.version_info >= tuple(map(int, '$FLUXILAB_MIN_PY'.split('.'))) else 1)" 2>/dev/null; then
            printf '%s\n' "$path"
            return 0
        fi
    done
    return 1
}

# "host" when a suitable Python is on PATH, else "root". FLUXILAB_MODE overrides.
fluxilab_mode() {
    if [ -n "${FLUXILAB_MODE:-}" ]; then
        printf '%s\n' "$FLUXILAB_MODE"
    elif fluxilab_find_host_python >/dev/null; then
        printf 'host\n'
    else
        printf 'root\n'
    fi
}

# The Home Assistant side venv, as seen by commands run through scripts/run.
# FLUXILAB_VENV picks another one (the newest-HA venv: fluxilab_newest_venv).
fluxilab_venv() {
    if [ -n "${FLUXILAB_VENV:-}" ]; then
        printf '%s\n' "$FLUXILAB_VENV"
    elif [ "$(fluxilab_mode)" = host ]; then
        printf '%s\n' "$FLUXILAB_CACHE/venv"
    else
        printf '/opt/fluxilab-venv\n'
    fi
}

# The optional second venv with the newest Home Assistant release
# (requirements_test_newest.txt), built by `scripts/bootstrap --newest`, for CI's
# second run of the integration tests. Commands reach it through
# `FLUXILAB_VENV="$(fluxilab_newest_venv)" scripts/run ...`.
fluxilab_newest_venv() {
    if [ "$(fluxilab_mode)" = host ]; then
        printf '%s\n' "$FLUXILAB_CACHE/venv-newest"
    else
        printf '/opt/fluxilab-venv-newest\n'
    fi
}

fluxilab_newest_requirements_hash() {
    cat "$FLUXILAB_REPO/requirements_test_newest.txt" "$FLUXILAB_REPO/requirements_harness_newest.txt" 2>/dev/null | sha256sum | cut -c1-16
}

# Hash of the pinned requirements: a change rebuilds the venv.
fluxilab_requirements_hash() {
    cat "$FLUXILAB_REPO/requirements_test.txt" "$FLUXILAB_REPO/requirements_dev.txt" 2>/dev/null | sha256sum | cut -c1-16
}
