#!/usr/bin/env bash
# Builds Wharf's image from the working tree with the classic builder, on the local Node 20 base image that
# base-image.sh makes once per machine (no registry needed). Usage: wharf-image.sh [tag]; prints the tag.
# DOCKER_HOST selects the engine (default: the one test/docker/engine.sh starts).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TAG=${1:-wharf-test/wharf:latest}
export DOCKER_HOST=${DOCKER_HOST:-unix://${WHARF_DOCKER_DIR:-/tmp/wharf-docker-engine}/docker.sock}

log() { echo "wharf-image.sh: $*" >&2; }
die() { log "$*"; exit 1; }

docker_cli() {
  if [ -x /usr/bin/docker ]; then /usr/bin/docker "$@"; else docker "$@"; fi
}

[ -d "$REPO/node_modules" ] || die "no node_modules in $REPO: run npm ci first (the build reuses it, offline)"
BASE=$(bash "$HERE/base-image.sh" import) || die "the base image could not be made (see base-image.sh's message above)"
# --network host: the test engine runs without a bridge, and the build needs no network of its own anyway.
DOCKER_BUILDKIT=0 docker_cli build --network host --build-arg "NODE_IMAGE=$BASE" \
  -f "$REPO/examples/swarm/Dockerfile" -t "$TAG" "$REPO" >&2 || die "docker build of $TAG failed (output above)"
echo "$TAG"
