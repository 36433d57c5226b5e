# Sourced by the other scripts: makes sure .venv exists with requirements-dev.txt installed, then activates it.
# Reinstalls only when a requirements file changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $($PYTHON --version)" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
wanted="$(cat requirements.txt requirements-dev.txt requirements-doctor.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "installing requirements-dev.txt into .venv (first run takes about a minute)" >&2
  if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt > .venv/pip.log 2>&1; then
    cat .venv/pip.log >&2
    echo "pip install failed (log above, also in .venv/pip.log)" >&2
    exit 1
  fi
  echo "$wanted" > "$stamp"
fi
# shellcheck disable=SC1091
source .venv/bin/activate
