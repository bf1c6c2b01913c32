#!/usr/bin/env bash
# The examples/swarm stacks deployed for real on one node: a private dockerd with its default networking (bridge,
# iptables; overlay networks need them), in swarm mode on ports that do not collide with engine.sh's swarm engine,
# Wharf's image and the bank image built from the working tree, the overlay `golf`, then bank.stack.yml and
# gateway.single-node.stack.yml. Usage: stack.sh up|check|tasks|gateways|down
#   up     start the engine, build, deploy; wait for 3 bank tasks and 2 healthy gateway replicas; prints env
#   check  from a client container on golf, GET Host(golf.tistory.kr) through each gateway replica; prints who answered
#   tasks  the bank tasks' container ids (the hostnames they answer with)
#   gateways  each healthy gateway replica's container id and its host port on 127.0.0.1 (host-mode publishing)
#   down   remove the stacks, stop dockerd, remove the bridges and iptables chains it made
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DIR=${WHARF_STACK_DIR:-/tmp/wharf-docker-stack}
SOCK="$DIR/docker.sock"
export DOCKER_HOST="unix://$SOCK"
READY_TIMEOUT=${WHARF_STACK_READY_TIMEOUT:-180}

log() { echo "stack.sh: $*" >&2; }
die() { log "$*"; exit 1; }
cli() { if [ -x /usr/bin/docker ]; then /usr/bin/docker "$@"; else docker "$@"; fi; }
responds() { cli version >/dev/null 2>&1; }

start_engine() {
  [ "$(id -u)" = 0 ] || die "dockerd needs root"
  responds && return 0
  mkdir -p "$DIR"
  nohup dockerd --storage-driver=overlay2 -H "unix://$SOCK" --data-root "$DIR/data" --exec-root "$DIR/exec" \
    --pidfile "$DIR/dockerd.pid" >>"$DIR/dockerd.log" 2>&1 </dev/null 9>&- &
  local deadline=$((SECONDS + 60))
  until responds; do
    [ $SECONDS -lt $deadline ] || { tail -20 "$DIR/dockerd.log" >&2; die "dockerd did not answer on $SOCK (log: $DIR/dockerd.log)"; }
    sleep 0.2
  done
  # 2378 and data path 4790: engine.sh's swarm engine keeps 2377 and 4789.
  [ "$(cli info --format '{{.Swarm.LocalNodeState}}')" = active ] \
    || cli swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2378 --data-path-port 4790 >/dev/null
}

build_images() {
  local base
  base=$(bash "$HERE/base-image.sh" import)
  bash "$HERE/wharf-image.sh" wharf:latest >/dev/null
  DOCKER_BUILDKIT=0 cli build -q --network host --build-arg "NODE_IMAGE=$base" -t golf/bank:latest "$REPO/examples/swarm/bank" >/dev/null
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT)) bank healthy
  for (( ; ; )); do
    bank=$(cli service ls --filter name=golf_bank --format '{{.Replicas}}')
    healthy=$(cli ps --filter name=gateway_traefik --filter health=healthy -q | wc -l)
    [ "$bank" = 3/3 ] && [ "$healthy" -ge 2 ] && return 0
    if [ $SECONDS -ge $deadline ]; then
      cli service ps --no-trunc gateway_traefik golf_bank >&2 || true
      die "not ready within ${READY_TIMEOUT}s: bank $bank, healthy gateway replicas $healthy"
    fi
    sleep 1
  done
}

gateway_ips() {
  local c
  for c in $(cli ps -q --filter name=gateway_traefik --filter health=healthy); do
    cli inspect -f '{{(index .NetworkSettings.Networks "golf").IPAddress}}' "$c"
  done
}

cmd_up() {
  start_engine
  build_images
  cli network inspect golf >/dev/null 2>&1 || cli network create -d overlay --attachable golf >/dev/null
  cli stack deploy -c "$REPO/examples/swarm/bank.stack.yml" golf >/dev/null
  DOCKER_SOCK="$SOCK" cli stack deploy -c "$REPO/examples/swarm/gateway.single-node.stack.yml" gateway >/dev/null
  wait_ready
  echo "DOCKER_HOST=$DOCKER_HOST"
  echo "GATEWAY_IPS=$(gateway_ips | tr '\n' ' ' | sed 's/ $//')"
}

# A client on golf, as the single-node adaptation reaches each gateway replica: /ping, then 9 requests for
# golf.tistory.kr; one JSON line per replica: {"gateway", "ping", "answers": {"<status> <bank task>": count}}.
cmd_check() {
  local base
  base=$(bash "$HERE/base-image.sh" name)
  # shellcheck disable=SC2046
  cli run --rm --network golf "$base" node -e '
    const http = require("node:http");
    const get = (host, path, headers) => new Promise((resolve) => http.get({ host, port: 80, path, headers }, (res) => {
      let body = ""; res.on("data", (d) => (body += d)); res.on("end", () => resolve(`${res.statusCode} ${(/"task":"([^"]+)/.exec(body) || [])[1] || ""}`.trim()));
    }).on("error", (e) => resolve(e.message)));
    (async () => {
      for (const ip of process.argv.slice(1)) {
        const answers = {};
        for (let i = 0; i < 9; i++) { const r = await get(ip, "/", { host: "golf.tistory.kr" }); answers[r] = (answers[r] || 0) + 1; }
        console.log(JSON.stringify({ gateway: ip, ping: await get(ip, "/ping", {}), answers }));
      }
    })();' $(gateway_ips)
}

# The bank tasks' container ids: their hostnames, which bank answers with.
cmd_tasks() {
  cli ps --filter name=golf_bank --format '{{.ID}}'
}

# One line per healthy gateway replica: its container id and the host port its :80 is published on (each replica
# gets its own: host-mode publishing without a fixed port), reachable on 127.0.0.1.
cmd_gateways() {
  local c port
  for c in $(cli ps -q --filter name=gateway_traefik --filter health=healthy); do
    # A replica being replaced can still be listed healthy after its port is gone: it is not one to send to.
    port=$(cli port "$c" 80/tcp 2>/dev/null | awk 'NR == 1') || continue
    [ -n "$port" ] && echo "$c ${port##*:}"
  done
  return 0
}

# dockerd leaves its bridges and iptables chains behind; this engine is the only one here that makes them.
remove_networking() {
  local table rule
  for table in filter nat; do
    iptables -t "$table" -S 2>/dev/null | grep -E '^-A (FORWARD|PREROUTING|OUTPUT|POSTROUTING) .*(docker|DOCKER)' | while read -r rule; do
      eval "iptables -t $table -D ${rule#-A }" || true
    done
    for chain in DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER-USER DOCKER-INGRESS; do
      iptables -t "$table" -F "$chain" 2>/dev/null && iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
  for link in docker0 docker_gwbridge; do ip link del "$link" 2>/dev/null || true; done
}

cmd_down() {
  if responds; then
    cli stack rm gateway golf >/dev/null 2>&1 || true
    cli swarm leave --force >/dev/null 2>&1 || true
  fi
  if [ -f "$DIR/dockerd.pid" ]; then
    local pid
    pid=$(cat "$DIR/dockerd.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  local mounts
  mounts=$(awk -v d="$DIR" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
  for m in $mounts; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  remove_networking
  rm -rf "$DIR"
}

case "${1:-}" in
  up) cmd_up ;;
  check) cmd_check ;;
  tasks) cmd_tasks ;;
  gateways) cmd_gateways ;;
  down) cmd_down ;;
  *) die "usage: $0 up|check|tasks|gateways|down" ;;
esac
