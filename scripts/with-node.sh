#!/bin/sh
# Runs a command under Node.js 24 LTS, Tessera's runtime. When the machine's node is older
# than 22, Node 24 is installed once from the npm registry (the node-<os>-<arch> package)
# into .tools/ and put first on PATH. No other download happens.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 22 ]; then
  platform=$(uname -s | tr 'A-Z' 'a-z')
  case $(uname -m) in x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  package="node-$platform-$arch"
  bin="$root/.tools/node_modules/$package/bin"
  if [ ! -x "$bin/node" ]; then
    echo "tessera: node $(node --version 2>/dev/null || echo missing) is older than 22; installing Node 24 LTS ($package) into .tools/" >&2
    mkdir -p "$root/.tools"
    [ -f "$root/.tools/package.json" ] || echo '{"private":true}' > "$root/.tools/package.json"
    npm install --prefix "$root/.tools" --no-audit --no-fund --loglevel=error "$package@24" >&2
  fi
  PATH="$bin:$PATH"
  export PATH
fi
exec "$@"
