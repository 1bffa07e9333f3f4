#!/usr/bin/env bash
# Create or update .venv with everything rimmodel needs; skip whatever is already there.
# Idempotent: the install step reruns only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv

find_python() {
    local candidates=("${PYTHON:-}" python3.12 python3.13 python3)
    candidates+=("$HOME"/.pyenv/versions/3.1[2-9]*/bin/python /root/.pyenv/versions/3.1[2-9]*/bin/python)
    for py in "${candidates[@]}"; do
        [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
        if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$py"; return 0
        fi
    done
    return 1
}

venv_ok() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null
}

if ! venv_ok; then
    PY=$(find_python) || {
        echo "rimmodel needs Python >= 3.12 (DOLFINx 0.11 wheels). Install it (e.g. 'pyenv install 3.12')" \
             "or set PYTHON=/path/to/python3.12." >&2
        exit 1
    }
    echo "[bootstrap] creating $VENV with $PY"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
fi

# Off-screen rendering needs an EGL/GL library (present on most desktops and on this image).
if ! ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1'; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "[bootstrap] installing EGL/Mesa for off-screen rendering"
        apt-get update -qq && apt-get install -y -qq libegl1 libgl1 libgl1-mesa-dri >/dev/null
    else
        echo "[bootstrap] warning: no libEGL found; pyvista rendering may fail" >&2
    fi
fi

# Headless Chromium checks the HTML reports in the tests (only `make test` asks for it).
if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "[bootstrap] installing chromium (report tests)"
        apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else
        echo "[bootstrap] warning: no chromium; the HTML report test will be skipped" >&2
    fi
fi

stamp="$VENV/.rimmodel-install-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "[bootstrap] installing rimmodel and its dependencies into $VENV (first time: a few minutes)"
    log="$VENV/install.log"
    if ! { "$VENV/bin/python" -m pip install --upgrade pip && "$VENV/bin/python" -m pip install -e ".[all]"; } \
            > "$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "[bootstrap] installation failed; full log: $log" >&2
        exit 1
    fi
    rm -f "$VENV"/.rimmodel-install-*
    touch "$stamp"
fi
