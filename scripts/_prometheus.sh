# Prometheus (Debian package `prometheus`) for the `hashigo check` test that reads through a real server.
# Idempotent and quiet: installs only when missing, with apt-get (as root, or through sudo -n). The test
# starts its own server on a free port; a daemon the package may start is not used.
install_prometheus() {
  if command -v prometheus >/dev/null 2>&1; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      echo "!! prometheus missing and not root: the check test through Prometheus will report it missing" >&2
      return 0
    fi
  fi
  echo "== installing prometheus (for the hashigo check test through a real Prometheus)"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
      || echo "!! could not install prometheus; the check test through Prometheus will report it missing" >&2
  fi
}
