# Headless Chromium (Debian package `chromium`) for the `hashigo plan --html` report test.
# Idempotent and quiet: installs only when missing, with apt-get (as root, or through sudo -n).
install_chromium() {
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      echo "!! chromium missing and not root: the plan HTML report test will report it missing" >&2
      return 0
    fi
  fi
  echo "== installing chromium (headless browser for the plan report test)"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null 2>&1 \
      || echo "!! could not install chromium; the plan HTML report test will report it missing" >&2
  fi
}
