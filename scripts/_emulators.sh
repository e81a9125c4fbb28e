# Emulators that come from the npm registry (PyPI ones are in the [test] extra).
install_emulators() {
  if command -v npm >/dev/null 2>&1; then
    if [ ! -x .tools/node_modules/.bin/azurite-blob ]; then
      echo "== installing Azurite (Azure Blob emulator) into .tools/"
      mkdir -p .tools
      npm install --silent --no-audit --no-fund --prefix .tools azurite@3 >/dev/null 2>&1 \
        || echo "!! could not install Azurite; Azure conformance tests will report it missing" >&2
    fi
    export PATH="$PWD/.tools/node_modules/.bin:$PATH"
  else
    echo "!! npm not found: Azure conformance tests will report Azurite missing" >&2
  fi
}
