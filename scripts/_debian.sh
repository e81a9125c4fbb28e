# Debian packages some tests need (they report the tool missing without it).
# Idempotent and quiet: installs only when the command is missing, with apt-get (as root, or
# through sudo -n); never fails the run.
#   install_debian_package PACKAGE COMMAND PURPOSE [apt-get options…]
install_debian_package() {
  local package="$1" command="$2" purpose="$3"
  shift 3
  if command -v "$command" >/dev/null 2>&1; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      echo "!! $package missing and not root: $purpose will report it missing" >&2
      return 0
    fi
  fi
  echo "== installing $package ($purpose)"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" "$package" >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" "$package" >/dev/null 2>&1 \
      || echo "!! could not install $package; $purpose will report it missing" >&2
  fi
}
