# ShellCheck (Debian package `shellcheck`) for `hashigo deploy validate`'s check of cloudrun/deploy.sh.
# Idempotent and quiet: installs only when missing, with apt-get (as root, or through sudo -n).
install_shellcheck() {
  if command -v shellcheck >/dev/null 2>&1; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      echo "!! shellcheck missing and not root: the deploy shell-script test will report it missing" >&2
      return 0
    fi
  fi
  echo "== installing shellcheck (deploy validation)"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq shellcheck >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq shellcheck >/dev/null 2>&1 \
      || echo "!! could not install shellcheck; the deploy shell-script test will report it missing" >&2
  fi
}
