#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Stop the private dockerd of dockerd-up.sh and remove what it left: its
# containers, mounts, bridge and state directory. Safe to run when nothing is
# up. Sourceable: then it also unsets NC_DOCKER_SOCK and DOCKER_HOST.

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
	bash "${BASH_SOURCE[0]}" || return $?
	unset NC_DOCKER_SOCK DOCKER_HOST
	return 0
fi

set -euo pipefail

DIR=${NC_DOCKER_DIR:-/var/tmp/netchaos-dockerd}
BRIDGE=${NC_DOCKER_BRIDGE:-ncdock0}
SOCK=$DIR/docker.sock
PIDFILE=$DIR/dockerd.pid
DOCKER=${DOCKER:-docker}

log() { printf 'dockerd-down: %s\n' "$*" >&2; }
on_exit() {
	local rc=$?
	((rc == 0)) || log "failed (exit $rc)"
	exit "$rc"
}
trap on_exit EXIT

# Refuse anything that is not our own state directory before rm -rf.
case $DIR in
/ | /var | /var/tmp | /tmp | "") log "refusing NC_DOCKER_DIR=$DIR"; exit 1 ;;
esac

if [[ -f $PIDFILE ]] && pid=$(cat "$PIDFILE") && kill -0 "$pid" 2>/dev/null; then
	# rm -f kills at once; a plain stop of a shell PID 1 would wait 10 s each
	ids=$("$DOCKER" --host "unix://$SOCK" ps -aq 2>/dev/null || true)
	if [[ -n $ids ]]; then
		# shellcheck disable=SC2086
		"$DOCKER" --host "unix://$SOCK" rm -f $ids >/dev/null 2>&1 || true
	fi
	kill "$pid"
	for _ in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "dockerd $pid ignored SIGTERM for 15 s; killing it"
		kill -9 "$pid" 2>/dev/null || true
	fi
	log "dockerd $pid stopped"
fi
# dockerd stops the containerd it started; after a SIGKILL it could not
cpid=$(cat "$DIR/exec/containerd/containerd.pid" 2>/dev/null || true)
if [[ -n $cpid ]] && kill -0 "$cpid" 2>/dev/null &&
	grep -q "$DIR" "/proc/$cpid/cmdline" 2>/dev/null; then
	log "stopping orphaned containerd $cpid"
	kill "$cpid" 2>/dev/null || true
	sleep 1
	kill -9 "$cpid" 2>/dev/null || true
fi

# Mounts under DIR (overlay layers, netns files, shm): deepest first.
if [[ -d $DIR ]]; then
	awk -v d="$DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$DIR"
fi
if ip link show "$BRIDGE" >/dev/null 2>&1; then
	ip link del "$BRIDGE"
fi
