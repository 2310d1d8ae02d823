#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The VM part of the benchmark suite, run by bench/bench.sh inside a kernel
# that has sch_netem (tests/vm/run.sh): netem delay accuracy (configured vs
# measured round-trip delay, and the spread under jitter) and the throughput
# of unmatched traffic on an interface that carries a netem rule for another
# port. Uses `chaosctl delay` when the agent has it and it works; otherwise
# kernel netem set up with tc, labelled so.
#
# usage (in the guest): bench/vm_netem.sh --mode quick|full --build DIR --out DIR
# Writes OUT/vm-rtt.csv, OUT/vm-tput.csv and OUT/vm-info.txt.
set -euo pipefail

mode=quick build='' out=''
while [ $# -gt 0 ]; do
	case $1 in
	--mode) mode=$2; shift ;;
	--build) build=$2; shift ;;
	--out) out=$2; shift ;;
	*) echo "vm_netem.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$build" ] || [ -z "$out" ]; then
	echo "vm_netem.sh: --build and --out are required" >&2
	exit 2
fi

if [ "$mode" = quick ]; then
	N_BASE=30 N_FIX=30 N_200=15 N_JIT=100 ROUNDS=2 TPUT_SECS=1
else
	N_BASE=100 N_FIX=200 N_200=60 N_JIT=400 ROUNDS=5 TPUT_SECS=5
fi
A=vmb-a B=vmb-b VA=vmba VB=vmbb IPA=198.18.200.1 IPB=198.18.200.2
PROBE_PORT=7000 OTHER_PORT=9999 TCP_PORT=5201
SOCK=/tmp/vm-bench-agent.sock
pids=()
info=$out/vm-info.txt

# shellcheck disable=SC2317 # called through trap
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del $A 2>/dev/null || true
	ip netns del $B 2>/dev/null || true
}
trap cleanup EXIT

{
	echo "vm_kernel=$(uname -sr)"
	echo "vm_cpus=$(nproc)"
	echo "vm_cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
} >"$info"

ip netns add $A
ip netns add $B
ip link add $VA netns $A type veth peer name $VB netns $B
ip -n $A addr add $IPA/24 dev $VA
ip -n $B addr add $IPB/24 dev $VB
ip -n $A link set lo up
ip -n $B link set lo up
ip -n $A link set $VA up
ip -n $B link set $VB up
# Static neighbours: no ARP exchange (delayed by netem too) inside a probe.
ip -n $A neigh replace $IPB lladdr "$(ip -n $B -br link show $VB | awk '{ print $3 }')" dev $VA nud permanent
ip -n $B neigh replace $IPA lladdr "$(ip -n $A -br link show $VA | awk '{ print $3 }')" dev $VB nud permanent

# The agent's netem: through chaosctl when it has a delay command, else
# through the agent's socket (the same request chaosctl would send).
agent=0 via=
"$build/netchaosd" --socket $SOCK >/tmp/vm-bench-agent.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S $SOCK ] && break; sleep 0.05; done
if [ -S $SOCK ]; then
	agent=1
	if "$build/chaosctl" help 2>/dev/null | grep -qE '^ +delay( |$)'; then
		via=chaosctl
	else
		via=socket
	fi
fi
echo "agent_started=$agent" >>"$info"
echo "agent_delay_via=$via" >>"$info"
ctl() { "$build/chaosctl" --socket $SOCK "$@"; }

# set_delay MS JITTER_MS DIST PORT: prints the source used
set_delay() {
	local ms=$1 jit=$2 dist=$3 port=$4 args=() json
	if [ "$agent" = 1 ] && [ "$via" = chaosctl ]; then
		args=(delay "${ms}ms" --netns "$A" --dport "$port" --proto udp --for 10m)
		[ "$jit" = 0 ] || args+=(--jitter "${jit}ms")
		[ "$dist" = uniform ] || args+=(--distribution "$dist")
		if ctl "${args[@]}" >/dev/null 2>>"$info.agent-errors"; then
			echo "netchaos (chaosctl delay)"
			return
		fi
		echo "agent_delay_failed=chaosctl ${args[*]}" >>"$info"
	elif [ "$agent" = 1 ]; then
		json='{"v":1,"cmd":"add","fault":{"kind":"delay","netem":{"latency_ns":'$((ms * 1000000))
		[ "$jit" = 0 ] || json+=',"jitter_ns":'$((jit * 1000000))
		[ "$dist" = uniform ] || json+=',"distribution":"'$dist'"'
		json+='}},"target":{"dports":["'$port'"],"protos":["udp"],"netns":"'$A'"},"duration_ms":600000}'
		if "$build/bench/ncb_client" req --sock $SOCK --json "$json" >>"$info.agent-replies" 2>&1; then
			echo "netchaos agent (socket request; chaosctl has no delay command yet)"
			return
		fi
		echo "agent_delay_failed=$(tail -n 1 "$info.agent-replies")" >>"$info"
	fi
	args=(delay "${ms}ms")
	[ "$jit" = 0 ] || args+=("${jit}ms")
	[ "$dist" = uniform ] || args+=(distribution "$dist")
	tc -n $A qdisc add dev $VA root netem "${args[@]}"
	echo "kernel netem (agent netem integration pending)"
}

clear_delay() {
	if [ "$agent" = 1 ]; then ctl clear --all >/dev/null 2>&1 || true; fi
	tc -n $A qdisc del dev $VA root 2>/dev/null || true
}

rtt() { # label configured jitter dist source count interval_ms
	local r
	r=$("$build/bench/ncb_rtt" --from-ns $A --to-ns $B --to $IPB --port $PROBE_PORT \
		--count "$6" --interval-ms "$7" --wait-ms 3000)
	awk -v l="$1" -v c="$2" -v j="$3" -v d="$4" -v s="$5" \
		'/^rtt_us/ { printf "%s,%s,%s,%s,%s,%s\n", l, c, j, d, s, $2 }' <<<"$r" >>"$out/vm-rtt.csv"
	echo "rtt_$1: $(tail -n 1 <<<"$r")" >>"$info"
}

echo "label,configured_ms,jitter_ms,distribution,source,rtt_us" >"$out/vm-rtt.csv"
"$build/bench/ncb_rtt" --from-ns $A --to-ns $B --to $IPB --port $PROBE_PORT --count 5 \
	--interval-ms 10 --wait-ms 1000 >/dev/null # warm-up, not recorded
rtt "none" 0 0 none "no qdisc" "$N_BASE" 10
for d in 1 10 200; do
	src=$(set_delay "$d" 0 uniform $PROBE_PORT)
	if [ "$d" = 200 ]; then rtt "delay ${d}ms" "$d" 0 none "$src" "$N_200" 20
	else rtt "delay ${d}ms" "$d" 0 none "$src" "$N_FIX" 10; fi
	clear_delay
done
src=$(set_delay 10 5 uniform $PROBE_PORT)
rtt "delay 10ms jitter 5ms" 10 5 uniform "$src" "$N_JIT" 5
clear_delay
src=$(set_delay 50 10 normal $PROBE_PORT)
rtt "delay 50ms jitter 10ms normal" 50 10 normal "$src" "$N_JIT" 5
clear_delay

# Throughput of traffic that no rule targets, on an interface that carries a
# netem rule for another port.
classic_on() {
	# ChaosBlade / Pumba layout: prio root, netem under an extra band, a u32
	# filter steering the targeted port to it.
	tc -n $A qdisc add dev $VA root handle 1: prio bands 4
	tc -n $A qdisc add dev $VA parent 1:4 handle 40: netem delay 100ms
	tc -n $A filter add dev $VA parent 1: protocol ip prio 4 u32 \
		match ip dport $OTHER_PORT 0xffff flowid 1:4
}
configs=(none classic)
case $(set_delay 100 0 uniform $OTHER_PORT) in
netchaos*) configs+=(netchaos) ;;
esac
clear_delay
# the classic tree really leaves the probe port alone
classic_on
rtt "unmatched port under prio+netem (100ms on port $OTHER_PORT)" 0 0 none "prio+netem+u32" 20 10
clear_delay

nsenter --net=/run/netns/$B iperf3 -s -p $TCP_PORT -B $IPB >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	nsenter --net=/run/netns/$B ss -Hltn "sport = :$TCP_PORT" | grep -q . && break
	sleep 0.1
done
echo "round,config,bits_per_second" >"$out/vm-tput.csv"
for round in $(seq $ROUNDS); do
	for c in "${configs[@]}"; do
		case $c in
		classic) classic_on ;;
		netchaos) set_delay 100 0 uniform $OTHER_PORT >/dev/null ;;
		esac
		bps=$(timeout $((TPUT_SECS + 30)) nsenter --net=/run/netns/$A iperf3 -c $IPB -p $TCP_PORT \
			-t $TPUT_SECS -J 2>/dev/null | python3 -c '
import json, sys
try: print("%.0f" % json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])
except Exception: print("")') || bps=
		echo "$round,$c,$bps" >>"$out/vm-tput.csv"
		clear_delay
	done
done
echo "vm_done=1" >>"$info"
