#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# An agent SIGKILLed with faults active: traffic is back to normal within 2 s
# with no action from anyone, in both attach modes. With tcx links the
# kernel detaches the classifier the moment the agent dies and nothing is
# left; with tc (clsact + cls_bpf: kernels before 6.6, or --attach tc) the
# dead-man switch stops the faults and the inert filters stay until a new
# agent finds them and removes them. Either way a second live agent's faults
# are left alone.
. "$(dirname "$0")/lib.sh"

make_topology || { not_ok "topology"; exit 1; }
start_echo "$NS_B" 0.0.0.0 7000

now() { date +%s.%N; }

# crash_run MODE: start an agent (and a second one) with --attach MODE,
# fault, SIGKILL the first, measure, restart it, check the sweep.
crash_run() {
	local mode=$1 used sock2=$WORK/second-$1.sock res t left ns agent2
	start_agent --attach "$mode" || { not_ok "$mode: agent starts"; return; }
	# a second, live agent with its own fault in NS_C must survive the sweep
	"$BUILD/netchaosd" --socket "$sock2" --state-file "$WORK/state2-$mode.json" --attach "$mode" \
		>>"$WORK/agent2.log" 2>&1 &
	agent2=$!
	BG_PIDS+=("$agent2")
	for _ in $(seq 100); do [ -S "$sock2" ] && break; sleep 0.05; done
	"$BUILD/chaosctl" --socket "$sock2" drop --netns "$NS_C" --dport 7000 --for 10m >/dev/null

	chaosctl drop --netns "$NS_A" --dport 7000 --for 10m >/dev/null
	chaosctl loss --netns "$NS_B" --port 5000 100% --for 10m >/dev/null
	used=$(json_get "$(chaosctl --json status)" '["kernel"]["attach"]')
	check "$mode: the agent attaches with $mode ($used)" test "$used" = "$mode"
	check "$mode: before the crash: tcp 7000 blocked" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B4 --port 7000 --timeout 0.5 >/dev/null"
	res=$(udp_run "$NS_A" "$B4" "$NS_B" 5000 100)
	check "$mode: before the crash: udp 5000 lost" within "$(json_get "$res" '["unique"]')" 0 0

	t0=$(now)
	kill -KILL "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=
	res=$(in_ns "$NS_A" $TRAFFIC tcp-wait --to "$B4" --port 7000 --seconds 8 --timeout 0.1)
	t=$(python3 -c "import json,sys; print(round(json.loads(sys.argv[1]).get('at', 1e12) - $t0, 3))" "$res")
	echo "# $mode: SIGKILL: tcp 7000 back ${t}s after the kill"
	check "$mode: SIGKILL: traffic back within 2 s (${t}s)" within "$t" 0 2.0
	res=$(udp_run "$NS_A" "$B4" "$NS_B" 5000 200)
	check "$mode: SIGKILL: udp loss stopped too" within "$(json_get "$res" '["unique"]')" 200 200
	left=$(leftovers "$NS_A")
	if [ "$mode" = tcx ]; then
		check "tcx: SIGKILL: the links died with the agent, nothing attached${left:+: $left}" test -z "$left"
	else
		check "tc: SIGKILL: the dead agent's filters are still attached (inert)" test -n "$left"
	fi

	# netem trees stand-ins (an htb root at our handle, what the sweep
	# looks for; this kernel may lack sch_netem): the live second agent's in
	# NS_C, a dead agent's in NS_B
	in_ns "$NS_C" tc qdisc add dev vca-$SUFFIX root handle 4e43: htb
	in_ns "$NS_B" tc qdisc add dev vba-$SUFFIX root handle 4e43: htb

	start_agent -v --attach "$mode" || not_ok "$mode: a new agent starts over the dead one's socket"
	sleep 0.2
	check "$mode: restart: the live second agent's qdisc tree left alone" \
		bash -c "ip netns exec $NS_C tc qdisc show dev vca-$SUFFIX | grep -q 'htb 4e43:'"
	check "$mode: restart: a dead agent's qdisc tree removed" \
		bash -c "! ip netns exec $NS_B tc qdisc show dev vba-$SUFFIX | grep -q 'htb 4e43:'"
	in_ns "$NS_C" tc qdisc del dev vca-$SUFFIX root
	for ns in "$NS_A" "$NS_B"; do
		left=$(leftovers "$ns")
		check "$mode: restart: nothing of the dead agent left in ${ns%%-*}${left:+: $left}" test -z "$left"
	done
	left=$(leftovers "$NS_C")
	check "$mode: restart: the live second agent's classifier left alone" test -n "$left"
	if [ "$mode" = tc ]; then
		grep -q "previous agent" "$AGENT_LOG" && ok "tc: restart: the log says what was found" ||
			not_ok "tc: restart: the log says what was found"
	fi
	check "$mode: restart: traffic normal" tcp_ok "$NS_A" "$B4" 7000
	kill -TERM "$agent2"; wait "$agent2" 2>/dev/null
	left=$(leftovers "$NS_C")
	check "$mode: second agent stopped cleanly: nothing left${left:+: $left}" test -z "$left"
	stop_agent
	: >"$AGENT_LOG"
}

crash_run tc
if "$BUILD/tests/nc_hooks" --has-tcx; then
	crash_run tcx
else
	skip "tcx crash run" "no tcx in kernel $(uname -r) (needs 6.6)"
fi
