#!/usr/bin/env bash
# Starts and stops the real Docker Engine the docker provider's tests run against (a private dockerd in swarm
# mode, no registry: the backend image is imported from the static busybox). Usage: engine.sh start|stop|env|kill|revive
#   start   install docker.io/busybox-static when missing, start a fresh dockerd, init swarm, import the image; prints env
#   stop    stop dockerd and everything it started, unmount and remove the state directory
#   env     print DOCKER_HOST and DOCKER_CLI for the running engine
#   kill    SIGKILL dockerd only (containers keep running), to test engine loss; revive starts it again
# WHARF_DOCKER_DIR gives a second engine its own state; WHARF_DOCKER_SWARM=0 leaves it out of swarm mode, so it
# runs beside a swarm engine (only one can listen on the swarm port, 2377); WHARF_DOCKER_STORAGE=overlay2 spares
# image builds vfs's full copy of the root for every step, where the kernel allows overlay mounts.
set -euo pipefail

DIR=${WHARF_DOCKER_DIR:-/tmp/wharf-docker-engine}
SOCK="$DIR/docker.sock"
IMAGE=wharf-test/busybox:latest
READY_TIMEOUT=${WHARF_DOCKER_READY_TIMEOUT:-60}

log() { echo "engine.sh: $*" >&2; }
die() { log "$*"; exit 1; }

cli() {
  # The client from docker.io matches the daemon it installs; a newer client elsewhere on PATH also works.
  if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker || true; fi
}

install_missing() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  # The image's rootfs holds nothing but /bin/busybox, so it must be the static build (not Debian's dynamic busybox).
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing+=(busybox-static)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  log "installing ${missing[*]}"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# A SIGKILLed dockerd (and its containerd) can linger as zombies when nothing reaps them: that is not alive.
running_pid() {
  [ -f "$1" ] || return 1
  local state
  state=$(awk '{ print $3 }' "/proc/$(cat "$1")/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
alive() { running_pid "$DIR/dockerd.pid"; }
responds() { "$(cli)" -H "unix://$SOCK" version >/dev/null 2>&1; }

start_daemon() {
  [ "$(id -u)" = 0 ] || die "dockerd needs root"
  mkdir -p "$DIR"
  # dockerd refuses to start, or waits for a containerd that never answers, while a stale pid file names a zombie.
  alive || rm -f "$DIR/dockerd.pid"
  running_pid "$DIR/exec/containerd/containerd.pid" || rm -f "$DIR/exec/containerd/containerd.pid"
  # Flags from the issue: no iptables or bridge (the sandbox forbids them), vfs storage (no overlayfs needed).
  nohup dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver="${WHARF_DOCKER_STORAGE:-vfs}" \
    -H "unix://$SOCK" --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$DIR/dockerd.pid" \
    >>"$DIR/dockerd.log" 2>&1 </dev/null 9>&- &
  local deadline=$((SECONDS + READY_TIMEOUT))
  until responds; do
    if [ $SECONDS -ge $deadline ]; then
      tail -20 "$DIR/dockerd.log" >&2 || true
      die "dockerd did not answer on $SOCK within ${READY_TIMEOUT}s (log: $DIR/dockerd.log)"
    fi
    sleep 0.1
  done
}

init_swarm() {
  local state
  state=$("$(cli)" -H "unix://$SOCK" info --format '{{.Swarm.LocalNodeState}}')
  [ "$state" = active ] && return 0
  "$(cli)" -H "unix://$SOCK" swarm init --advertise-addr 127.0.0.1 >/dev/null || die "docker swarm init failed"
}

import_image() {
  "$(cli)" -H "unix://$SOCK" image inspect "$IMAGE" >/dev/null 2>&1 && return 0
  local rootfs="$DIR/rootfs"
  rm -rf "$rootfs" && mkdir -p "$rootfs/bin" "$rootfs/www" "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in sh httpd wget echo mkdir cat sleep rm touch test; do ln -s busybox "$rootfs/bin/$applet"; done
  echo ok >"$rootfs/www/index.html"
  tar -C "$rootfs" -c . | "$(cli)" -H "unix://$SOCK" import -c 'ENTRYPOINT ["/bin/busybox"]' -c 'CMD ["httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/www"]' - "$IMAGE" >/dev/null \
    || die "docker import of $IMAGE failed"
}

print_env() {
  echo "DOCKER_HOST=unix://$SOCK"
  echo "DOCKER_CLI=$(cli)"
  echo "WHARF_TEST_IMAGE=$IMAGE"
}

stop_all() {
  if alive; then
    local pid
    pid=$(cat "$DIR/dockerd.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # After a SIGKILL (see `kill`) containers, their shims and containerd outlive dockerd: end them by pid.
  local f pid shim
  for f in "$DIR"/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/*/init.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    shim=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null || true)
    kill -KILL "$pid" 2>/dev/null || true
    [ -n "$shim" ] && grep -q containerd-shim "/proc/$shim/cmdline" 2>/dev/null && kill -KILL "$shim" 2>/dev/null || true
  done
  [ -f "$DIR/exec/containerd/containerd.pid" ] && kill -KILL "$(cat "$DIR/exec/containerd/containerd.pid")" 2>/dev/null || true
  # dockerd mounts network namespaces under the exec root; they must go before the directory can.
  local mounts
  mounts=$(awk -v d="$DIR" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
  for m in $mounts; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  rm -rf "$DIR"
}

with_lock() {
  mkdir -p "$(dirname "$DIR")"
  exec 9>"$DIR.lock"
  flock -w 120 9 || die "could not lock $DIR.lock"
  "$@"
}

cmd_start() {
  install_missing
  # Always a clean engine: one left by an interrupted run would still hold its containers and services.
  [ -d "$DIR" ] && stop_all
  start_daemon
  [ "${WHARF_DOCKER_SWARM:-1}" = 0 ] || init_swarm
  import_image
  print_env
}

cmd_kill() {
  alive || die "dockerd is not running"
  kill -KILL "$(cat "$DIR/dockerd.pid")"
  while responds; do sleep 0.05; done
}

case "${1:-}" in
  start) with_lock cmd_start ;;
  stop) with_lock stop_all ;;
  env) responds || die "no engine answers on $SOCK (run: $0 start)"; print_env ;;
  kill) with_lock cmd_kill ;;
  revive) with_lock start_daemon; print_env ;;
  *) die "usage: $0 start|stop|env|kill|revive" ;;
esac
