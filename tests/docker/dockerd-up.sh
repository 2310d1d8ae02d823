#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Start a private dockerd for the container tests and build the local busybox
# image, leaving the host's firewall, docker0 and /var/lib/docker alone: its
# own bridge, no iptables/forwarding/masquerading, its own directories and
# socket. Idempotent: a daemon already answering is reused.
#
#   tests/docker/dockerd-up.sh            prints the socket path (stdout)
#   . tests/docker/dockerd-up.sh          exports NC_DOCKER_SOCK, DOCKER_HOST
#
# Exit 77 when this machine cannot run it (tools missing, not root).
# Environment: NC_DOCKER_DIR (state, default /var/tmp/netchaos-dockerd),
# NC_DOCKER_BRIDGE (ncdock0), NC_DOCKER_NET (172.31.250.1/24), DOCKER (CLI),
# NC_DOCKER_PROBE=1 (only reuse: exit 1 if no daemon of ours answers).

# Sourced: run in a child so `set -e` and traps stay out of the caller's shell.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
	NC_DOCKER_SOCK=$(bash "${BASH_SOURCE[0]}") || return $?
	export NC_DOCKER_SOCK DOCKER_HOST="unix://$NC_DOCKER_SOCK"
	return 0
fi

set -euo pipefail

DIR=${NC_DOCKER_DIR:-/var/tmp/netchaos-dockerd}
BRIDGE=${NC_DOCKER_BRIDGE:-ncdock0}
NET=${NC_DOCKER_NET:-172.31.250.1/24}
IMAGE=netchaos-busybox:test
SOCK=$DIR/docker.sock
PIDFILE=$DIR/dockerd.pid
DOCKER=${DOCKER:-docker}

log() { printf 'dockerd-up: %s\n' "$*" >&2; }
ms() { date +%s%3N; }

# Everything the private daemon needs, checked before touching anything.
check_tools() {
	local missing=() t
	for t in dockerd containerd containerd-shim-runc-v2 runc "$DOCKER" curl ip busybox tar chroot file; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	if ((${#missing[@]})); then
		log "missing: ${missing[*]} (Debian: apt-get install docker.io containerd runc busybox-static curl)"
		exit 77
	fi
	if [[ $(id -u) != 0 ]]; then
		log "needs root (dockerd)"
		exit 77
	fi
	if ! file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked'; then
		log "busybox is not static (install busybox-static)"
		exit 77
	fi
}

api_up() {
	curl -sf --max-time 2 --unix-socket "$SOCK" http://docker/_ping >/dev/null 2>&1
}

daemon_alive() {
	[[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

STARTED_PID=
CREATED_BRIDGE=
cleanup() {
	local rc=$?
	# only undo what this run created, and only if it failed
	if ((rc != 0)); then
		if [[ -n $STARTED_PID ]]; then
			kill "$STARTED_PID" 2>/dev/null || true
			wait "$STARTED_PID" 2>/dev/null || true
		fi
		if [[ -n $CREATED_BRIDGE ]]; then
			ip link del "$BRIDGE" 2>/dev/null || true
		fi
		[[ -f $DIR/dockerd.log ]] && tail -n 20 "$DIR/dockerd.log" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT

overlay_works() {
	local t ok=1
	t=$(mktemp -d "$1/overlay-probe.XXXXXX")
	mkdir "$t"/{l,u,w,m}
	mount -t overlay overlay -o "lowerdir=$t/l,upperdir=$t/u,workdir=$t/w" "$t/m" 2>/dev/null && {
		ok=0
		umount "$t/m"
	}
	rm -rf "$t"
	return $ok
}

start_daemon() {
	local t0 driver=vfs
	mkdir -p "$DIR/data" "$DIR/exec"
	if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
		ip link add "$BRIDGE" type bridge
		CREATED_BRIDGE=1
	fi
	ip addr replace "$NET" dev "$BRIDGE"
	ip link set "$BRIDGE" up
	# overlay2 where an overlay can be mounted in the data directory (not on
	# top of another overlay, as in the VM tier's guest); else vfs, which is
	# fine for a busybox image
	if grep -qw overlay /proc/filesystems && overlay_works "$DIR"; then
		driver=overlay2
	fi
	echo '{}' >"$DIR/daemon.json"
	rm -f "$SOCK"
	t0=$(ms)
	# setsid: the daemon must outlive this script and its caller's job control
	setsid dockerd \
		--config-file "$DIR/daemon.json" \
		-H "unix://$SOCK" \
		--data-root "$DIR/data" \
		--exec-root "$DIR/exec" \
		--pidfile "$PIDFILE" \
		--bridge "$BRIDGE" \
		--iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
		--userland-proxy=false \
		--storage-driver "$driver" \
		--log-level warn \
		</dev/null >"$DIR/dockerd.log" 2>&1 &
	STARTED_PID=$!
	for _ in $(seq 1 300); do
		api_up && break
		kill -0 "$STARTED_PID" 2>/dev/null || { log "dockerd exited"; return 1; }
		sleep 0.1
	done
	api_up || { log "dockerd did not answer within 30 s"; return 1; }
	log "dockerd up in $(($(ms) - t0)) ms (storage $driver, bridge $BRIDGE $NET)"
}

# A static busybox and its applet links: enough for sh, sleep, nc, ip.
build_image() {
	local root t0
	if "$DOCKER" --host "unix://$SOCK" image inspect "$IMAGE" >/dev/null 2>&1; then
		return 0
	fi
	t0=$(ms)
	root=$(mktemp -d "$DIR/rootfs.XXXXXX")
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}
	cp "$(command -v busybox)" "$root/bin/busybox"
	# one process for all applet links (a loop of `ln` takes seconds here)
	chroot "$root" /bin/busybox --install -s
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
	tar -C "$root" -c . | "$DOCKER" --host "unix://$SOCK" import \
		-c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
	rm -rf "$root"
	log "image $IMAGE built in $(($(ms) - t0)) ms"
}

check_tools
if daemon_alive && api_up; then
	log "reusing dockerd $(cat "$PIDFILE") at $SOCK"
elif [[ ${NC_DOCKER_PROBE:-0} == 1 ]]; then
	exit 1
else
	if daemon_alive; then
		log "dockerd $(cat "$PIDFILE") is not answering; run dockerd-down.sh first"
		exit 1
	fi
	start_daemon
fi
build_image
STARTED_PID= # success: leave it running
echo "$SOCK"
