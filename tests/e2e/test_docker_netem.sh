#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# netem faults on Docker containers, measured with real traffic under a
# private dockerd: `delay --container C --port P D` adds D to each round trip
# to C (not 2 x D), the neighbour on the same bridge is not delayed, a
# container's whole traffic can be delayed, `change` acts in place, the delay
# follows `docker restart`, and clear leaves the container's qdiscs as they
# were. Needs sch_netem: the VM tier runs it with dockerd inside the guest;
# on a kernel without it, it skips (test_docker.sh covers the BPF faults).
. "$(dirname "$0")/lib.sh"

if ! has_netem; then
	skip "netem faults on containers" "no sch_netem in kernel $(uname -r); the VM tier runs this test"
	exit 0
fi
. "$(dirname "$0")/docker-lib.sh"

# A container answering TCP on 7000 with an echo (busybox nc + cat).
run_echo() {
	dk run -d --init --pull=never --name "$P-$1" --label "nctest=$P" "$IMAGE" \
		nc -ll -p 7000 -e cat >/dev/null
}
up_ct() { # NAME: wait until its echo answers
	for _ in $(seq 100); do
		$TRAFFIC tcp-probe --to "$(ip_of "$1")" --port 7000 --timeout 1 >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
rtt_ct() { $TRAFFIC tcp-rtt --to "$(ip_of "$1")" --port 7000 --count "${2:-8}"; }
med() { json_get "$1" '["median_ms"]'; }
# a container's qdiscs and classes, counters left out (seen from the host)
qdiscs_ct() {
	nsenter -t "$(pid_of "$1")" -n sh -c \
		'for l in $(ip -o link show | sed "s/^[0-9]*: \\([^:@]*\\).*/\\1/"); do
			tc qdisc show dev "$l" | grep -v clsact; tc class show dev "$l"; done'
}
wait_netns() { # NAME PID: the rule lists the container in /proc/PID/ns/net
	for _ in $(seq 200); do
		chaosctl --json list | grep -Eq "\"netns\": ?\"/proc/$2/ns/net\"" && return 0
		sleep 0.05
	done
	return 1
}

run_echo web || { not_ok "container web runs"; exit 1; }
run_echo nb || { not_ok "container nb runs"; exit 1; }
start_agent --docker-socket "$NC_DOCKER_SOCK" || { not_ok "agent starts"; exit 1; }
up_ct web && up_ct nb || { not_ok "containers answer on 7000"; exit 1; }
r=$(rtt_ct web 5)
ok "containers and agent up (web $(ip_of web), nb $(ip_of nb)); baseline rtt $(med "$r") ms"
q_before=$(qdiscs_ct web)

# --- delay --container web --port 7000 200ms: +200 ms per round trip
id=$(chaosctl delay --container "$P-web" --port 7000 200ms --for 5m | rule_id)
check "delay --container web: rule added" test -n "$id"
r=$(rtt_ct web); m=$(med "$r")
echo "# delay 200ms on container web port 7000: $r"
check "delay 200ms --container web: rtt ${m} ms within 200 +- 5%" within "$m" 190 210
r=$(rtt_ct nb); m=$(med "$r")
check "delay on web: neighbour nb on the same bridge not delayed (${m} ms)" within "$m" 0 20
check "the netem tree is inside web's namespace" bash -c "nsenter -t $(pid_of web) -n tc qdisc show | grep -q netem"
check "nothing on the host's bridge" bash -c "! tc qdisc show | grep -q netem"

# --- change in place
chaosctl change "$id" delay 50ms >/dev/null
r=$(rtt_ct web); m=$(med "$r")
check "change --container rule 200ms -> 50ms: rtt ${m} ms within 50 +- 5% (+ base)" within "$m" 47.5 56

# --- the delay follows docker restart (new pid, new namespace)
old_pid=$(pid_of web)
dk restart -t 0 "$P-web" >/dev/null
new_pid=$(pid_of web)
check "restart: re-applied in the new namespace ($old_pid -> $new_pid)" wait_netns web "$new_pid"
up_ct web
r=$(rtt_ct web); m=$(med "$r")
check "restart: the changed delay holds in the new namespace (${m} ms ~ 50)" within "$m" 47.5 56
chaosctl clear "$id" >/dev/null
r=$(rtt_ct web); m=$(med "$r")
check "clear: web not delayed (${m} ms)" within "$m" 0 20
check "clear: web's qdiscs as they were" test "$(qdiscs_ct web)" = "$q_before"

# --- all of a container's traffic: what it sends is delayed, once per round trip
id=$(chaosctl delay --container "$P-web" 100ms --for 2m | rule_id)
r=$(rtt_ct web); m=$(med "$r")
echo "# delay 100ms on all of web's traffic: $r"
check "delay --container web (no port): rtt ${m} ms within 100 +- 5%" within "$m" 95 106
r=$(rtt_ct nb); m=$(med "$r")
check "delay on all of web: nb not delayed (${m} ms)" within "$m" 0 20
stop_agent
check "agent exit: web's qdiscs as they were" test "$(qdiscs_ct web)" = "$q_before"
r=$(rtt_ct web); m=$(med "$r")
check "agent exit: web not delayed (${m} ms)" within "$m" 0 20
