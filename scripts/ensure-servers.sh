#!/usr/bin/env bash
# Makes sure the Debian packages meshserve needs are installed, and installs the missing ones.
#   ensure-servers.sh start   nats-server and redis-server (what `npm start` runs)
#   ensure-servers.sh test    those, docker-compose (1.29 validates docker-compose.yml without a
#                             Docker engine), chromium (the dashboard's browser test) and
#                             prometheus (the scrape test), iproute2 (the fault tests across
#                             network namespaces): what `npm test` needs (the default)
# It installs only as root or with password-less sudo, saying so first; otherwise it names the
# command to run and fails. `npm install` never runs it: `npm start` and `npm test` do.
set -euo pipefail
mode="${1:-test}"
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
missing=()
have nats-server || missing+=(nats-server)
have redis-server || missing+=(redis-server)
if [ "$mode" = test ]; then
  have docker-compose || missing+=(docker-compose)
  have chromium || missing+=(chromium)
  have prometheus || missing+=(prometheus)
  have ip || [ -x /sbin/ip ] || missing+=(iproute2)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "meshserve: npm $mode needs ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "meshserve: npm $mode needs ${missing[*]}: installing them from Debian's packages (apt-get)" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
