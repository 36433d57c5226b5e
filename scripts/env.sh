# Sourced by the other scripts: makes sure .venv exists with the pinned requirements, then activates it.
#   ENV_REQUIREMENTS=requirements.txt source scripts/env.sh   # the program only (scripts/plan)
#   source scripts/env.sh                                      # requirements-dev.txt (tests, lint, type check)
# Installs with uv: the one on PATH, else a pinned uv bootstrapped from PyPI into .uv/ (needs only Python and
# its pip or venv module). uv checks an installed environment in a fraction of a second, so every run
# re-checks the requirements instead of trusting a stamp; `pulumi install` (uv sync) may have changed .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
UV_VERSION=0.13.9  # the uv bootstrapped when none is on PATH (.github/renovate.json keeps it current)
requirements="${ENV_REQUIREMENTS:-requirements-dev.txt}"

if command -v uv > /dev/null; then
  UV=uv
else
  UV="$ROOT/.uv/bin/uv"
  if [ ! -x "$UV" ] || [ "$("$UV" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    echo "bootstrapping uv $UV_VERSION from PyPI into .uv/" >&2
    rm -rf .uv
    # pip's --target is the quickest way in; a Python without pip gets a small venv of its own.
    if ! "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile --no-deps --only-binary=:all: --target .uv "uv==$UV_VERSION" > /dev/null 2>&1; then
      rm -rf .uv
      "$PYTHON" -m venv .uv
      .uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
    fi
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $("$PYTHON" --version)" >&2
  # No pip in it (no --seed): Pulumi's uv toolchain creates this virtualenv the same way and never runs pip in it
  # (docs/facts.md#pulumi). Seeding pip would be 900 more files to write on every fresh clone.
  "$UV" venv --quiet --python "$PYTHON" .venv
fi
if ! "$UV" pip install --quiet --python .venv/bin/python -r "$requirements" > .venv/install.log 2>&1; then
  cat .venv/install.log >&2
  echo "installing $requirements failed (log above, also in .venv/install.log)" >&2
  exit 1
fi
# What `source .venv/bin/activate` does, without the external commands uv's activate script calls.
export VIRTUAL_ENV="$ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
unset PYTHONHOME
