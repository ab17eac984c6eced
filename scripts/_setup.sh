# Sourced by scripts/bench and scripts/test: make this Debian machine ready to build and
# run tightbind, from nothing.  Installs missing system packages with apt-get (as root,
# or through sudo), creates .venv with pinned Python packages, and installs tightbind
# from this tree into it, failing if any native part cannot be built.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="${TIGHTBIND_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
PY="$VENV/bin/python"

log() { printf '[setup] %s\n' "$*" >&2; }

# Once per command: scripts/test runs scripts/build-wheels, which sources this again.
if [ "${TIGHTBIND_SETUP_DONE:-}" = "$VENV" ]; then
    return 0
fi

APT_PACKAGES=(
    build-essential pkg-config
    libssl-dev openssl
    libtesseract-dev libleptonica-dev libjpeg-dev tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd
    tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-ara tesseract-ocr-chi-sim tesseract-ocr-chi-sim-vert
    fonts-dejavu-core fonts-wqy-microhei
    qpdf poppler-utils
    debootstrap bubblewrap nasm
    protobuf-compiler libprotobuf-dev g++ libprotobuf-java default-jdk-headless
    ${TIGHTBIND_EXTRA_APT:-}
)

missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' \
            || printf '%s\n' "$pkg"
    done
}

apt_install() {
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            log "missing Debian packages: $*"
            log "run as root: apt-get install $*"
            exit 1
        fi
    fi
    log "apt-get install $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The interpreter must be able to make a venv and compile extensions.
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    APT_PACKAGES+=(python3-venv)
fi
if ! "$PYTHON" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    APT_PACKAGES+=(python3-dev)
fi

if command -v dpkg-query >/dev/null 2>&1; then
    mapfile -t MISSING < <(missing_packages "${APT_PACKAGES[@]}")
    if [ "${#MISSING[@]}" -gt 0 ]; then
        apt_install "${MISSING[@]}"
    fi
else
    log "not a Debian system: make sure these are installed: ${APT_PACKAGES[*]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
log "installing Python packages into $VENV"
"$PY" -m pip install -q --disable-pip-version-check --upgrade pip
"$PY" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements/${TIGHTBIND_REQUIREMENTS:-test}.txt"
log "building and installing tightbind"
TIGHTBIND_REQUIRE=all "$PY" -m pip install -q --disable-pip-version-check \
    --no-build-isolation --no-deps --force-reinstall "$ROOT"
export TIGHTBIND_SETUP_DONE="$VENV"
