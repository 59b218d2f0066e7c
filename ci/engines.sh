#!/usr/bin/env bash
# The current engines as oracles: Buildah 1.39, podman 5.4 and Docker 26 (BuildKit) from a
# Debian 13 (trixie) root filesystem, run in a chroot. Nothing from Debian 13 is installed on
# the host, and host networking is not touched: dockerd runs with no bridge, no iptables, no
# ip-forward and no masquerade.
#
#   bash ci/engines.sh up      build the root if missing, mount it, start podman and dockerd
#   bash ci/engines.sh down    stop exactly the recorded PIDs, unmount everything under the root
#   bash ci/engines.sh status  what is recorded, running and mounted (exit 0 when up)
#
# Layout under ${MOUNTFUZZ_ENGINES_ROOT:-/var/lib/mountfuzz/engines}:
#   rootfs/   the trixie root (mmdebstrap, mirror from the host's apt sources)
#   work/     scratch for real-engine tests, bind-mounted at the same path inside the root
#   state/    pids/, logs/, and `env`, which the tests read (ROOTFS, WORK, sockets, DOCKER_DATA)
# Recipe and observations: ../shared/design/real-engines.md. Both are idempotent.
set -euo pipefail

ROOT=${MOUNTFUZZ_ENGINES_ROOT:-/var/lib/mountfuzz/engines}
ROOTFS=$ROOT/rootfs
WORK=$ROOT/work
STATE=$ROOT/state
PIDS=$STATE/pids
LOGS=$STATE/logs
# Paths inside the root.
IN_RUN=/run/mountfuzz
IN_DATA=/var/lib/mountfuzz-engines
PODMAN_SOCK=$ROOTFS$IN_RUN/podman.sock
DOCKER_SOCK=$ROOTFS$IN_RUN/docker.sock
PACKAGES=buildah,podman,busybox-static,runc,crun,docker.io,docker-cli,docker-buildx,containerd,tini,ca-certificates

say() { printf 'engines: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

in_root() { chroot "$ROOTFS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

mirror() {
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

build_root() {
  [ -x "$ROOTFS/usr/bin/buildah" ] && [ -x "$ROOTFS/usr/sbin/dockerd" ] && return 0
  command -v mmdebstrap >/dev/null || {
    say "installing mmdebstrap (a Debian 12 package) on the host"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
  }
  local tmp=$ROOT/rootfs.partial m
  m=$(mirror)
  rm -rf "$tmp"
  say "building the trixie root from $m (about a minute)"
  mmdebstrap --quiet --variant=minbase --mode=root \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --include="$PACKAGES" trixie "$tmp" "$m" >"$LOGS/mmdebstrap.log" 2>&1 ||
    { tail -20 "$LOGS/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $LOGS/mmdebstrap.log)"; }
  # Nothing in the root may start a daemon on its own.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod +x "$tmp/usr/sbin/policy-rc.d"
  mv "$tmp" "$ROOTFS"
}

configure() {
  mkdir -p "$ROOTFS/etc/containers" "$ROOTFS/etc/mountfuzz" "$ROOTFS$IN_RUN" "$ROOTFS$IN_DATA" "$ROOTFS$WORK"
  # crun fails on this host's hybrid cgroups; the default ulimits ask for more than the host
  # allows without CAP_SYS_RESOURCE.
  cat >"$ROOTFS/etc/containers/containers.conf" <<EOF
[containers]
netns = "host"
cgroups = "disabled"
default_ulimits = ["nproc=$(ulimit -Hu):$(ulimit -Hu)", "nofile=$(ulimit -Hn):$(ulimit -Hn)"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOF
  cat >"$ROOTFS/etc/mountfuzz/daemon.json" <<'EOF'
{"features": {"buildkit": true}, "builder": {"gc": {"enabled": false}}}
EOF
}

mounted() { findmnt -rn -o TARGET | awk -v r="$ROOTFS" 'index($0, r) == 1'; }

mount_root() {
  mountpoint -q "$ROOTFS" || { mount --bind "$ROOTFS" "$ROOTFS"; mount --make-private "$ROOTFS"; }
  mountpoint -q "$ROOTFS/proc" || mount -t proc proc "$ROOTFS/proc"
  for d in sys dev; do
    mountpoint -q "$ROOTFS/$d" || { mount --rbind "/$d" "$ROOTFS/$d"; mount --make-rslave "$ROOTFS/$d"; }
  done
  mountpoint -q "$ROOTFS$WORK" || mount --bind "$WORK" "$ROOTFS$WORK"
}

alive() { [ -f "$PIDS/$1" ] && kill -0 "$(cat "$PIDS/$1")" 2>/dev/null; }

wait_until() { # seconds, description, command...
  local n=$(($1 * 10)) what=$2
  shift 2
  while ! "$@" >/dev/null 2>&1; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || return 1
    sleep 0.1
  done
}

start_podman() {
  alive podman && return 0
  rm -f "$PODMAN_SOCK"
  mkdir -p "$ROOTFS$IN_DATA/podman-tmp"
  setsid chroot "$ROOTFS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    TMPDIR=$IN_DATA/podman-tmp podman --root $IN_DATA/podman/root --runroot $IN_DATA/podman/runroot \
    --tmpdir $IN_DATA/podman-tmp --storage-driver vfs system service --time=0 "unix://$IN_RUN/podman.sock" \
    </dev/null >"$LOGS/podman.log" 2>&1 &
  echo $! >"$PIDS/podman"
  wait_until 30 "podman socket" in_root podman --remote --url "unix://$IN_RUN/podman.sock" version ||
    { tail -5 "$LOGS/podman.log" >&2; die "podman 5.4 service did not answer (log: $LOGS/podman.log)"; }
}

start_dockerd() {
  alive dockerd && return 0
  rm -f "$DOCKER_SOCK"
  setsid chroot "$ROOTFS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    dockerd --config-file /etc/mountfuzz/daemon.json -H "unix://$IN_RUN/docker.sock" \
    --data-root $IN_DATA/docker --exec-root $IN_RUN/docker-exec --pidfile $IN_RUN/docker.pid \
    --storage-driver overlay2 --iptables=false --ip6tables=false --bridge=none \
    --ip-forward=false --ip-masq=false --userland-proxy=false \
    </dev/null >"$LOGS/dockerd.log" 2>&1 &
  echo $! >"$PIDS/dockerd"
  wait_until 60 "docker socket" in_root docker -H "unix://$IN_RUN/docker.sock" version ||
    { tail -5 "$LOGS/dockerd.log" >&2; die "dockerd 26 did not answer (log: $LOGS/dockerd.log)"; }
  # dockerd's own containerd child, recorded so `down` stops it by PID too.
  local c
  c=$(pgrep -P "$(cat "$PIDS/dockerd")" containerd || true)
  [ -n "$c" ] && echo "$c" >"$PIDS/containerd"
  return 0
}

write_env() {
  local tmp=$STATE/env.tmp
  {
    echo "ROOTFS=$ROOTFS"
    echo "WORK=$WORK"
    echo "PODMAN_SOCK=$PODMAN_SOCK"
    echo "DOCKER_SOCK=$DOCKER_SOCK"
    echo "DOCKER_DATA=$ROOTFS$IN_DATA/docker"
    echo "BUILDAH_VERSION=$(in_root buildah --version | awk '{print $3}')"
    echo "PODMAN_VERSION=$(in_root podman --version | awk '{print $3}')"
    echo "DOCKER_VERSION=$(in_root dockerd --version | awk '{print $3}' | tr -d ,)"
  } >"$tmp"
  mv "$tmp" "$STATE/env"
}

stop_pid() { # name
  [ -f "$PIDS/$1" ] || return 0
  local pid n=100
  pid=$(cat "$PIDS/$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
    kill -0 "$pid" 2>/dev/null && { say "$1 ($pid) ignored SIGTERM; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$PIDS/$1"
}

rooted() { # PIDs of processes whose root is inside the root filesystem
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    case "$r" in "$ROOTFS" | "$ROOTFS"/*) echo "${p#/proc/}" ;; esac
  done
}

down() {
  rm -f "$STATE/env"
  # dockerd first (it stops its containerd), then the rest.
  for n in dockerd containerd podman; do stop_pid "$n"; done
  local left
  left=$(rooted | tr '\n' ' ')
  [ -z "$left" ] || say "still rooted in $ROOTFS (not started here, left alone): $left"
  local m
  for m in $(mounted | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "could not unmount $m"
  done
  # The cgroup dirs dockerd made, when empty.
  rmdir /sys/fs/cgroup/docker /sys/fs/cgroup/*/docker 2>/dev/null || true
  [ -z "$(mounted)" ] || die "mounts left under $ROOTFS: $(mounted | tr '\n' ' ')"
  say "down: nothing recorded is running, nothing is mounted under $ROOTFS"
}

up() {
  [ "$(id -u)" = 0 ] || die "needs root (chroot, mounts, daemons)"
  mkdir -p "$ROOT" "$WORK" "$PIDS" "$LOGS"
  if [ -f "$STATE/env" ] && alive podman && alive dockerd; then
    write_env
    say "already up"
    return 0
  fi
  build_root
  configure
  mount_root
  start_podman
  start_dockerd
  write_env
  say "up: $(grep -E 'VERSION' "$STATE/env" | tr '\n' ' ')"
}

status() {
  local ok=0 n
  for n in podman dockerd containerd; do
    if alive "$n"; then echo "$n: running, pid $(cat "$PIDS/$n")"; else echo "$n: not running"; [ "$n" = containerd ] || ok=1; fi
  done
  echo "mounts under $ROOTFS: $(mounted | wc -l)"
  [ -f "$STATE/env" ] && cat "$STATE/env" || { echo "no $STATE/env"; ok=1; }
  return $ok
}

case "${1:-}" in
  up) up ;;
  down) mkdir -p "$PIDS"; down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
