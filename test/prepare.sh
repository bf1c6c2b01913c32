#!/usr/bin/env bash
# Makes sure what the tests need is installed (Debian packages through apt-get when running as root),
# and that dependencies and the build are in place. Prints the one command to run when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the suite needs, as "command:package".
NEEDED=("chromium:chromium" "redis-server:redis-server" "dockerd:docker.io" "busybox:busybox-static" "pebble:pebble" "/usr/sbin/debootstrap:debootstrap")

missing=()
for entry in "${NEEDED[@]}"; do
  cmd=${entry%%:*}; pkg=${entry#*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "$cmd" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test/prepare.sh: installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test/prepare.sh: missing ${missing[*]}; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

[ -d node_modules ] || npm ci

# The local Node 20 base image test/e2e/docker-image.test.ts builds Wharf's image on (no registry here): made once
# per machine by debootstrap (a few minutes), then reused; the test itself only checks that it exists.
if [ "$(id -u)" = 0 ]; then bash test/docker/base-image.sh make >/dev/null; fi
