# SPDX-License-Identifier: GPL-2.0-only
# Shared by the Docker end-to-end tests (sourced after lib.sh): a private
# dockerd (tests/docker/dockerd-up.sh, reused if one of ours runs, stopped at
# the end if this test started it), busybox containers labelled for this run
# and removed at exit, and helpers to reach them. A test that cannot run
# Docker here says why and skips.

IMAGE=netchaos-busybox:test
P=nct$SUFFIX # container names and labels of this run
STARTED_DOCKERD=
AGENTS=() # extra agents: pids

skip_all() { echo "ok - docker tests # SKIP $1"; exit 0; }

if NC_DOCKER_PROBE=1 bash "$ROOT/tests/docker/dockerd-up.sh" >/dev/null 2>&1; then
	STARTED_DOCKERD=
else
	STARTED_DOCKERD=1
fi
NC_DOCKER_SOCK=$(bash "$ROOT/tests/docker/dockerd-up.sh" 2>"$WORK/dockerd-up.log")
rc=$?
if [ "$rc" = 77 ]; then
	skip_all "$(tail -n 1 "$WORK/dockerd-up.log")"
elif [ "$rc" != 0 ]; then
	sed 's/^/# /' "$WORK/dockerd-up.log"
	not_ok "private dockerd starts"
	exit 1
fi
export NC_DOCKER_SOCK
unset DOCKER_HOST
command -v nsenter >/dev/null || skip_all "nsenter missing (util-linux)"

dk() { docker --host "unix://$NC_DOCKER_SOCK" "$@"; }
ms() { date +%s%3N; }

docker_cleanup() {
	local ids p
	for p in "${AGENTS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ids=$(dk ps -aq --filter "label=nctest=$P" 2>/dev/null)
	# shellcheck disable=SC2086
	[ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
	if [ -n "$STARTED_DOCKERD" ]; then
		bash "$ROOT/tests/docker/dockerd-down.sh" 2>/dev/null
	fi
}
trap 'stop_agent; docker_cleanup; cleanup' EXIT

# run_ct NAME [docker run options...]: a busybox container serving its name
# on TCP 80 (one process per connection), PID 1 under --init so that stop and
# restart take no time.
run_ct() {
	local name=$1
	shift
	dk run -d --init --pull=never --name "$P-$name" --label "nctest=$P" "$@" "$IMAGE" \
		sh -c "nc -ll -p 80 -e echo $name" >/dev/null
}
ip_of() { dk inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$P-$1"; }
pid_of() { dk inspect -f '{{.State.Pid}}' "$P-$1"; }

# wait_in_netns PID T0 [CTL [STEP]]: poll CTL's (default chaosctl) `list`
# every STEP seconds (0.02) until a rule acts in /proc/PID/ns/net; prints the
# milliseconds since T0 (from ms), or -1 after 100 polls
wait_in_netns() {
	local pid=$1 t0=$2 ctl=${3:-chaosctl} step=${4:-0.02}
	for _ in $(seq 100); do
		# grep, not python: a cheap poll on a loaded machine
		if "$ctl" --json list | grep -Eq "\"netns\": ?\"/proc/$pid/ns/net\""; then
			echo $(($(ms) - t0))
			return 0
		fi
		sleep "$step"
	done
	echo -1
}

# TCP to a container's port 80: the answer is its name.
from_host() { [ "$(timeout 4 busybox nc -w 1 "$(ip_of "$1")" 80 </dev/null 2>/dev/null)" = "$1" ]; }
from_ct() { [ "$(timeout 4 docker --host "unix://$NC_DOCKER_SOCK" exec "$P-$1" nc -w 1 "$(ip_of "$2")" 80 </dev/null 2>/dev/null)" = "$2" ]; }

# udp_ct FROM TO COUNT: datagrams from container FROM (or "host") to
# container TO, counted by a sink inside TO's namespace (entered by the test,
# not by the agent: nothing of netchaos runs in the container). Prints the
# number received.
udp_ct() {
	local from=$1 to=$2 count=$3 out=$WORK/udp-$RANDOM sink to_pid from_pid
	to_pid=$(pid_of "$to")
	nsenter -t "$to_pid" -n $TRAFFIC udp-sink --bind 0.0.0.0 --port 9000 --seconds 20 \
		--expect "$count" --ready "$out.ready" --stop-file "$out.stop" >"$out" &
	sink=$!
	for _ in $(seq 100); do [ -e "$out.ready" ] && break; sleep 0.05; done
	if [ "$from" = host ]; then
		$TRAFFIC udp-send --to "$(ip_of "$to")" --port 9000 --count "$count" --gap-us 300 >/dev/null
	else
		from_pid=$(pid_of "$from")
		nsenter -t "$from_pid" -n $TRAFFIC udp-send --to "$(ip_of "$to")" --port 9000 \
			--count "$count" --gap-us 300 >/dev/null
	fi
	sleep 0.3
	touch "$out.stop"
	wait "$sink" 2>/dev/null
	json_get "$(cat "$out")" '["unique"]' 2>/dev/null || echo -1
}

# check_blocked DESC CMD...: ok if CMD fails (the traffic did not get through).
check_blocked() { local d=$1; shift; if "$@"; then not_ok "$d"; else ok "$d"; fi; }
rule_id() { sed -n 's/^rule \([0-9]*\).*/\1/p'; }
# rule_json ID EXPR: a field of rule ID in `list --json` (python expression on r).
rule_json() {
	chaosctl --json list | python3 -c "
import json, sys
r = [x for x in json.load(sys.stdin)['rules'] if x['id'] == int(sys.argv[1])]
r = r[0] if r else None
print(eval(sys.argv[2]))" "$1" "$2"
}
n_rules() { chaosctl --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rules"]))'; }

