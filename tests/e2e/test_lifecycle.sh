#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Rule lifetime: expiry in time (and enforced by the kernel even when the
# agent is frozen), loopback faulted once, clear and shutdown restoring the
# namespaces exactly (no qdisc, filter or BPF program left; a clsact the user
# had stays).
. "$(dirname "$0")/lib.sh"

make_topology || { not_ok "topology"; exit 1; }
start_agent || { not_ok "agent starts"; exit 1; }
start_echo "$NS_B" 0.0.0.0 7000
start_echo "$NS_A" 127.0.0.1 7300

now() { date +%s.%N; }

# --- expiry restores traffic within 1 s of the deadline
# The rule is inserted somewhere between t0 and t1 (loading the classifier
# into a new namespace takes a while on a slow machine): its deadline lies in
# [t0 + 2, t1 + 2]. Traffic must not come back before it, and must be back
# within 1 s after it.
t0=$(now)
chaosctl drop --netns "$NS_A" --dport 7000 --for 2s >/dev/null
t1=$(now)
check "expiry: blocked while the rule lives" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B4 --port 7000 --timeout 0.5 >/dev/null"
res=$(in_ns "$NS_A" $TRAFFIC tcp-wait --to "$B4" --port 7000 --seconds 8 --timeout 0.1)
at=$(python3 -c "import json,sys; print(json.loads(sys.argv[1]).get('at', 1e12))" "$res")
early=$(python3 -c "print(round($at - $t0, 3))")
late=$(python3 -c "print(round($at - $t1, 3))")
echo "# drop --for 2s: traffic back ${early}s after the command started, ${late}s after it returned"
check "expiry: not back before the deadline (${early}s after the command started)" within "$early" 1.95 100
check "expiry: back within 1 s of the deadline (${late}s after the command returned)" within "$late" 0 3.0
n=$(chaosctl --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rules"]))')
check "expiry: the rule is gone from list" test "$n" = 0
left=$(leftovers "$NS_A")
check "expiry: nothing left on the interfaces${left:+: $left}" test -z "$left"

# --- loopback: a packet is faulted once (loss 30% -> ~70%, not ~49%)
res=$(udp_run "$NS_A" 127.0.0.1 "$NS_A" 5400 2000)
check "loopback baseline: nothing lost" within "$(json_get "$res" '["unique"]')" 2000 2000
chaosctl loss --netns "$NS_A" --iface lo --port 5400 30% >/dev/null
res=$(udp_run "$NS_A" 127.0.0.1 "$NS_A" 5400 2000)
got=$(json_get "$res" '["unique"]')
echo "# loopback loss 30%: $got of 2000"
check "loopback loss 30% faults each packet once: 70% +- 5% (got $got)" within "$got" 1300 1500
chaosctl drop --netns "$NS_A" --port 7300 >/dev/null
check "loopback drop --port 7300 blocks a local client" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to 127.0.0.1 --port 7300 >/dev/null"
chaosctl clear --all >/dev/null
check "loopback: clear restores" tcp_ok "$NS_A" 127.0.0.1 7300

# --- the kernel enforces expiry even with the agent frozen (dead-man off)
stop_agent
start_agent --deadman 0 || not_ok "agent restarts"
chaosctl drop --netns "$NS_A" --dport 7000 --for 1s >/dev/null
kill -STOP "$AGENT_PID"
check "frozen agent: blocked before expiry" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B4 --port 7000 --timeout 0.3 >/dev/null"
sleep 1
check "frozen agent: the kernel lets traffic through once the rule expired" tcp_ok "$NS_A" "$B4" 7000
kill -CONT "$AGENT_PID"
sleep 0.3

# --- a clsact the user had stays; ours goes
in_ns "$NS_B" tc qdisc add dev vba-$SUFFIX clsact
chaosctl drop --netns "$NS_B" --iface vba-$SUFFIX --sport 7000 >/dev/null
check "user's clsact: fault works on it" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B4 --port 7000 --timeout 0.5 >/dev/null"
chaosctl clear --all >/dev/null
check "user's clsact: still there after clear" bash -c "ip netns exec $NS_B tc qdisc show dev vba-$SUFFIX | grep -q clsact"
check "user's clsact: our filters gone" bash -c "! ip netns exec $NS_B tc filter show dev vba-$SUFFIX ingress | grep -q nc_tc"
in_ns "$NS_B" tc qdisc del dev vba-$SUFFIX clsact

# --- shutdown with live rules restores everything at once
chaosctl drop --netns "$NS_A" --dport 7000 --for 10m >/dev/null
chaosctl loss --netns "$NS_B" 10% --for 10m >/dev/null
chaosctl partition --netns "$NS_C" --ip "$A_C4" --for 10m >/dev/null
progs=$(for ns in "$NS_A" "$NS_B" "$NS_C"; do attached_prog_ids "$ns"; done)
check "shutdown: programs were attached before" test -n "$progs"
stop_agent
check "shutdown: traffic restored at once" tcp_ok "$NS_A" "$B4" 7000
for ns in "$NS_A" "$NS_B" "$NS_C"; do
	left=$(leftovers "$ns")
	check "shutdown: nothing left in ${ns%%-*}${left:+: $left}" test -z "$left"
done
# shellcheck disable=SC2086
left=$(bpf_leftovers $progs)
check "shutdown: no netchaos BPF program left in the kernel${left:+: $left}" test -z "$left"
left=$(ls /sys/fs/bpf 2>/dev/null | grep -i netchaos)
check "shutdown: nothing pinned${left:+: $left}" test -z "$left"
