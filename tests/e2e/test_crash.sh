#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The dead-man switch: SIGKILL the agent with faults active and measure that
# traffic is back to normal within 2 s with no action from anyone; then a new
# agent finds the previous one's filters and clsact qdiscs and removes them,
# while a second live agent's faults are left alone.
. "$(dirname "$0")/lib.sh"

make_topology || { not_ok "topology"; exit 1; }
start_agent || { not_ok "agent starts"; exit 1; }
start_echo "$NS_B" 0.0.0.0 7000

now() { date +%s.%N; }

# A second, live agent with its own fault in NS_C must survive the sweep.
SOCK2=$WORK/second.sock
"$BUILD/netchaosd" --socket "$SOCK2" --state-file "$WORK/state2.json" >>"$WORK/agent2.log" 2>&1 &
AGENT2=$!
BG_PIDS+=("$AGENT2")
for _ in $(seq 100); do [ -S "$SOCK2" ] && break; sleep 0.05; done
"$BUILD/chaosctl" --socket "$SOCK2" drop --netns "$NS_C" --dport 7000 --for 10m >/dev/null


chaosctl drop --netns "$NS_A" --dport 7000 --for 10m >/dev/null
chaosctl loss --netns "$NS_B" --port 5000 100% --for 10m >/dev/null
check "before the crash: tcp 7000 blocked" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B4 --port 7000 --timeout 0.5 >/dev/null"
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5000 100)
check "before the crash: udp 5000 lost" within "$(json_get "$res" '["unique"]')" 0 0

t0=$(now)
kill -KILL "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=
res=$(in_ns "$NS_A" $TRAFFIC tcp-wait --to "$B4" --port 7000 --seconds 8 --timeout 0.1)
t=$(python3 -c "import json,sys; print(round(json.loads(sys.argv[1]).get('at', 1e12) - $t0, 3))" "$res")
echo "# SIGKILL: tcp 7000 back ${t}s after the kill"
check "SIGKILL: traffic back within 2 s (${t}s)" within "$t" 0 2.0
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5000 200)
check "SIGKILL: udp loss stopped too" within "$(json_get "$res" '["unique"]')" 200 200
left=$(leftovers "$NS_A")
check "SIGKILL: the dead agent's filters are still attached (inert)" test -n "$left"

start_agent -v || not_ok "a new agent starts over the dead one's socket"
sleep 0.2
for ns in "$NS_A" "$NS_B"; do
	left=$(leftovers "$ns")
	check "restart: the dead agent's leftovers removed from ${ns%%-*}${left:+: $left}" test -z "$left"
done
left=$(leftovers "$NS_C")
check "restart: the live second agent's filters left alone" test -n "$left"
grep -q "previous agent" "$AGENT_LOG" && ok "restart: the log says what was found" ||
	not_ok "restart: the log says what was found"
check "restart: traffic normal" tcp_ok "$NS_A" "$B4" 7000
kill -TERM "$AGENT2"; wait "$AGENT2" 2>/dev/null
left=$(leftovers "$NS_C")
check "second agent stopped cleanly: nothing left${left:+: $left}" test -z "$left"
