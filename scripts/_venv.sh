# Shared by scripts/run and scripts/test: a Python >= 3.11 virtual environment in .venv.
ensure_venv() {
  local py="${PYTHON:-}"
  if [ -z "$py" ]; then
    for candidate in python3.13 python3.12 python3.11 python3; do
      if command -v "$candidate" >/dev/null 2>&1 \
         && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
        py="$candidate"; break
      fi
    done
  fi
  if [ -z "$py" ]; then
    echo "hashigo needs Python >= 3.11; none found on PATH (set PYTHON=/path/to/python3.11)" >&2
    exit 2
  fi
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    "$py" -m venv --clear .venv
  fi
  # shellcheck disable=SC1091
  source .venv/bin/activate
  python -m pip install -q --upgrade pip >/dev/null
}
