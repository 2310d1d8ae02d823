# SPDX-License-Identifier: GPL-2.0-only
# Shared set-up for the end-to-end tests: namespaces joined by veth pairs,
# a real netchaosd, TAP output and cleanup that always runs.
#
# Topology (names unique per run):
#   $NS_A --veth-- $NS_B    198.18.1.1/24 <-> 198.18.1.2/24, 2001:db8:1::1 <-> ::2
#   $NS_A --veth-- $NS_C    198.18.2.1/24 <-> 198.18.2.2/24, 2001:db8:2::1 <-> ::2
# Traffic goes only between these namespaces (and their loopbacks).

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${NC_BUILD:-$ROOT/build}
TRAFFIC="python3 $ROOT/tests/tools/traffic.py"
SUFFIX=$$
NS_A=nca-$SUFFIX NS_B=ncb-$SUFFIX NS_C=ncc-$SUFFIX
A_B4=198.18.1.1 B4=198.18.1.2 A_C4=198.18.2.1 C4=198.18.2.2
A_B6=2001:db8:1::1 B6=2001:db8:1::2 A_C6=2001:db8:2::1 C6=2001:db8:2::2
WORK=$(mktemp -d /tmp/netchaos-e2e.XXXXXX)
SOCK=$WORK/netchaosd.sock
AGENT_PID=
AGENT_LOG=$WORK/agent.log
BG_PIDS=()
T_PASS=0 T_FAIL=0

ok() { echo "ok - $*"; T_PASS=$((T_PASS + 1)); }
not_ok() { echo "not ok - $*"; T_FAIL=$((T_FAIL + 1)); }
skip() { echo "ok - $1 # SKIP $2"; }
# check DESC CMD...: ok if CMD succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# within VALUE LO HI: LO <= VALUE <= HI (floating point).
within() { python3 -c "import sys; v,lo,hi=map(float,sys.argv[1:]); sys.exit(0 if lo<=v<=hi else 1)" "$1" "$2" "$3"; }
json_get() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval('d'+sys.argv[2]))" "$1" "$2"; }

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

make_topology() {
	ip netns add "$NS_A" && ip netns add "$NS_B" && ip netns add "$NS_C" || return 1
	ip link add vab-$SUFFIX netns "$NS_A" type veth peer name vba-$SUFFIX netns "$NS_B" || return 1
	ip link add vac-$SUFFIX netns "$NS_A" type veth peer name vca-$SUFFIX netns "$NS_C" || return 1
	in_ns "$NS_A" ip addr add $A_B4/24 dev vab-$SUFFIX
	in_ns "$NS_A" ip addr add $A_B6/64 dev vab-$SUFFIX nodad
	in_ns "$NS_A" ip addr add $A_C4/24 dev vac-$SUFFIX
	in_ns "$NS_A" ip addr add $A_C6/64 dev vac-$SUFFIX nodad
	in_ns "$NS_B" ip addr add $B4/24 dev vba-$SUFFIX
	in_ns "$NS_B" ip addr add $B6/64 dev vba-$SUFFIX nodad
	in_ns "$NS_C" ip addr add $C4/24 dev vca-$SUFFIX
	in_ns "$NS_C" ip addr add $C6/64 dev vca-$SUFFIX nodad
	for ns in "$NS_A" "$NS_B" "$NS_C"; do
		in_ns "$ns" ip link set lo up
		for l in $(in_ns "$ns" ls /sys/class/net); do in_ns "$ns" ip link set "$l" up; done
	done
}

start_agent() { # extra agent options...
	"$BUILD/netchaosd" --socket "$SOCK" "$@" >>"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	# A dead agent may have left its socket file: wait for an answer.
	for _ in $(seq 200); do
		"$BUILD/chaosctl" --socket "$SOCK" ping >/dev/null 2>&1 && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "# agent did not start:"; sed 's/^/#   /' "$AGENT_LOG"
	return 1
}

stop_agent() {
	[ -n "$AGENT_PID" ] || return 0
	kill -TERM "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
}

chaosctl() { "$BUILD/chaosctl" --socket "$SOCK" "$@"; }

# Start a background program (not a shell function: its pid must be the
# program's own) that cleanup kills; its output goes nowhere, so a straggler
# can never hold the test runner's pipe open.
bg() { "$@" </dev/null >/dev/null 2>&1 & BG_PIDS+=($!); }

# tcp_ok NS ADDR PORT: a TCP connection with an echo gets through.
tcp_ok() { in_ns "$1" $TRAFFIC tcp-probe --to "$2" --port "$3" --timeout "${4:-1}" >/dev/null; }

# Echo servers on every namespace address, for the test's lifetime.
start_echo() { # NS ADDR PORT
	local ready=$WORK/ready-$1-$3-$(echo "$2" | tr ':.' '__')
	bg ip netns exec "$1" $TRAFFIC tcp-echo --bind "$2" --port "$3" --seconds 300 --ready "$ready"
	for _ in $(seq 100); do [ -e "$ready" ] && return 0; sleep 0.05; done
	return 1
}

# Can this kernel make a netem qdisc? (tried in a throw-away namespace)
has_netem() {
	local ns=probe-$SUFFIX ret=0
	ip netns add "$ns" 2>/dev/null || return 1
	ip netns exec "$ns" tc qdisc add dev lo root netem delay 1ms 2>/dev/null || ret=1
	ip netns del "$ns"
	return $ret
}

# Our filters, qdiscs and tcx programs in a namespace: prints anything
# netchaos left.
leftovers() { # NS
	local l
	for l in $(in_ns "$1" ls /sys/class/net); do
		in_ns "$1" tc qdisc show dev "$l" | grep -E 'clsact|ingress' | sed "s/^/$l: /"
		in_ns "$1" tc filter show dev "$l" ingress 2>/dev/null | grep -E 'nc_tc' | sed "s/^/$l: /"
		in_ns "$1" tc filter show dev "$l" egress 2>/dev/null | grep -E 'nc_tc' | sed "s/^/$l: /"
	done
	in_ns "$1" "$BUILD/tests/nc_hooks" | grep -E ' nc_tc'
}

# Ids of the BPF programs attached in a namespace (other agents on this host,
# e.g. a concurrent test's, have their own and must not confuse the check).
attached_prog_ids() { # NS
	local l
	{
	for l in $(in_ns "$1" ls /sys/class/net); do
		in_ns "$1" tc filter show dev "$l" ingress 2>/dev/null
		in_ns "$1" tc filter show dev "$l" egress 2>/dev/null
	done | grep -oE ' id [0-9]+' | awk '{print $2}'
	in_ns "$1" "$BUILD/tests/nc_hooks" | awk '$4 ~ /^nc_tc/ {print $3}'
	} | sort -u
}
# Which of these program ids still exist in the kernel (freeing is deferred
# by RCU: allow it a second).
bpf_leftovers() {
	local id i
	for id in "$@"; do
		for i in $(seq 10); do
			bpftool prog show id "$id" >/dev/null 2>&1 || continue 2
			sleep 0.1
		done
		echo "prog $id"
	done
}

cleanup() {
	stop_agent
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	if [ "$T_FAIL" != 0 ] && [ -s "$AGENT_LOG" ]; then
		echo "# agent log:"; tail -n 40 "$AGENT_LOG" | sed 's/^/#   /'
	fi
	rm -rf "$WORK"
	[ "$T_FAIL" = 0 ] || exit 1
}
trap cleanup EXIT

# snmp_get NS GROUP FIELD: a counter of /proc/net/{snmp,netstat} (e.g. IpExt
# InCsumErrors) or /proc/net/snmp6 (GROUP "6", FIELD Ip6InTruncatedPkts).
snmp_get() {
	if [ "$2" = 6 ]; then
		in_ns "$1" awk -v f="$3" '$1 == f { print $2 }' /proc/net/snmp6
		return
	fi
	in_ns "$1" cat /proc/net/snmp /proc/net/netstat | awk -v g="$2:" -v f="$3" '
		$1 == g && !hdr[g] { for (i = 2; i <= NF; i++) col[i] = $i; hdr[g] = 1; next }
		$1 == g && hdr[g] { for (i = 2; i <= NF; i++) if (col[i] == f) print $i }'
}

# udp_run NS_FROM TO NS_TO PORT COUNT [SIZE]: send COUNT datagrams, print the
# sink's JSON ({"received":..,"unique":..,"damaged":..}).
udp_run() {
	local from=$1 to=$2 tons=$3 port=$4 count=$5 size=${6:-64} out=$WORK/sink-$RANDOM
	local ready=$out.ready bind=0.0.0.0
	case $to in *:*) bind=:: ;; esac
	in_ns "$tons" $TRAFFIC udp-sink --bind "$bind" --port "$port" --seconds 20 \
		--expect "$count" --ready "$ready" --stop-file "$out.stop" >"$out" &
	local sink=$!
	for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.05; done
	in_ns "$from" $TRAFFIC udp-send --to "$to" --port "$port" --count "$count" \
		--gap-us 300 --size "$size" >/dev/null
	sleep 0.3
	touch "$out.stop"
	wait "$sink" 2>/dev/null
	cat "$out"
}
