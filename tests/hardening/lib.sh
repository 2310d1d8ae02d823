# shellcheck shell=bash disable=SC2034,SC2086
# SPDX-License-Identifier: GPL-2.0-only
# (SC2034: variables for the sourcing scripts; SC2086: $TRAFFIC is a command
# with its arguments.)
# Shared by tests/hardening/test_*.sh: TAP helpers, a namespace pair joined
# by a veth, an agent started from a given build (under a given wrapper), the
# fault scenario both sanitizer and valgrind runs go through, and cleanup that
# kills only what these scripts started. Traffic stays inside the pair.
#
# Topology (names unique per run):  $NS_A 198.18.77.1 2001:db8:77::1
#                                     --veth--  $NS_B 198.18.77.2 2001:db8:77::2

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${NC_BUILD:-$ROOT/build}
ASAN_BUILD=${NC_ASAN_BUILD:-$BUILD/asan}
TRAFFIC="python3 $ROOT/tests/tools/traffic.py"
SUFFIX=$$
NS_A=nch-a-$SUFFIX NS_B=nch-b-$SUFFIX
A4=198.18.77.1 B4=198.18.77.2 A6=2001:db8:77::1 B6=2001:db8:77::2
WORK=$(mktemp -d /tmp/netchaos-hardening.XXXXXX)
chmod 0755 "$WORK" # an unprivileged peer must reach sockets in it
SOCK=$WORK/netchaosd.sock
AGENT_PID='' AGENT_LOG=$WORK/agent.log AGENT_STATUS=
CTL=$BUILD/chaosctl
PIDS=()
T_PASS=0 T_FAIL=0

ok() { echo "ok - $*"; T_PASS=$((T_PASS + 1)); }
not_ok() { echo "not ok - $*"; T_FAIL=$((T_FAIL + 1)); }
skip() { echo "ok - $1 # SKIP $2"; }
# check DESC CMD...: ok if CMD succeeds.
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
comment() { sed 's/^/#   /'; }

need_root() { # name of the test
	if [ "$(id -u)" != 0 ]; then
		skip "$1" "needs root"
		exit 0
	fi
}

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

make_pair() {
	ip netns add "$NS_A" || return 1
	ip netns add "$NS_B" || return 1
	ip link add "ha-$SUFFIX" netns "$NS_A" type veth peer name "hb-$SUFFIX" netns "$NS_B" ||
		return 1
	in_ns "$NS_A" ip addr add "$A4/24" dev "ha-$SUFFIX"
	in_ns "$NS_A" ip addr add "$A6/64" dev "ha-$SUFFIX" nodad
	in_ns "$NS_B" ip addr add "$B4/24" dev "hb-$SUFFIX"
	in_ns "$NS_B" ip addr add "$B6/64" dev "hb-$SUFFIX" nodad
	in_ns "$NS_A" ip link set lo up
	in_ns "$NS_B" ip link set lo up
	in_ns "$NS_A" ip link set "ha-$SUFFIX" up
	in_ns "$NS_B" ip link set "hb-$SUFFIX" up
}

# start_agent WRAPPER... -- AGENT_BINARY [agent options]: wait for the socket.
# Under valgrind loading the BPF object takes a while: up to 120 s.
start_agent() {
	"$@" --socket "$SOCK" >>"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	for _ in $(seq 1200); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# agent did not start:"
	tail -n 30 "$AGENT_LOG" | comment
	return 1
}

# SIGTERM, then its exit status in AGENT_STATUS (124 if it did not stop
# within the timeout: it is killed).
stop_agent() { # [timeout seconds]
	local t=${1:-30} i
	AGENT_STATUS=
	[ -n "$AGENT_PID" ] || return 0
	kill -TERM "$AGENT_PID" 2>/dev/null || true
	for ((i = 0; i < t * 10; i++)); do
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -KILL "$AGENT_PID" 2>/dev/null || true
		wait "$AGENT_PID" 2>/dev/null || true
		AGENT_STATUS=124
	else
		AGENT_STATUS=0
		wait "$AGENT_PID" || AGENT_STATUS=$?
	fi
	AGENT_PID=
}

ctl() { "$CTL" --socket "$SOCK" "$@"; }
ctlq() { ctl "$@" >/dev/null; } # quiet on success; its errors stay on stderr

# A background process, killed at exit. Commands only: a function would run
# in a subshell whose children outlive the kill (`ip netns exec` execs in
# place, so use it rather than in_ns).
bg() {
	if declare -F "$1" >/dev/null; then
		echo "bg: $1 is a function" >&2
		return 1
	fi
	"$@" &
	PIDS+=($!)
}

# clsact qdiscs, our filters or our tcx programs left in a namespace.
leftovers() { # NS
	local l
	for l in $(in_ns "$1" ls /sys/class/net); do
		in_ns "$1" tc qdisc show dev "$l" | grep -E 'clsact' | sed "s/^/$l: /" || true
		in_ns "$1" tc filter show dev "$l" ingress 2>/dev/null | grep -E 'nc_tc' |
			sed "s/^/$l: /" || true
		in_ns "$1" tc filter show dev "$l" egress 2>/dev/null | grep -E 'nc_tc' |
			sed "s/^/$l: /" || true
	done
	in_ns "$1" "$BUILD/tests/nc_hooks" | grep -E ' nc_tc' || true
}

# udp_received PORT COUNT [GAP_US]: datagrams from A that reach B's sink on PORT.
udp_received() {
	local port=$1 count=$2 gap=${3:-200} out=$WORK/sink-$1-$RANDOM sink
	ip netns exec "$NS_B" $TRAFFIC udp-sink --bind 0.0.0.0 --port "$port" --seconds 15 \
		--expect "$count" --ready "$out.ready" --stop-file "$out.stop" >"$out" &
	sink=$!
	for _ in $(seq 100); do
		[ -e "$out.ready" ] && break
		sleep 0.05
	done
	in_ns "$NS_A" $TRAFFIC udp-send --to "$B4" --port "$port" --count "$count" \
		--gap-us "$gap" >/dev/null || true
	sleep 0.3
	touch "$out.stop"
	wait "$sink" || true
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["received"])' "$out" \
		2>/dev/null || echo -1
}

# A TCP echo server on B, for the scenario's lifetime.
start_echo() { # PORT
	bg ip netns exec "$NS_B" $TRAFFIC tcp-echo --bind 0.0.0.0 --port "$1" --seconds 300 \
		--ready "$WORK/echo-$1.ready"
	for _ in $(seq 100); do
		[ -e "$WORK/echo-$1.ready" ] && return 0
		sleep 0.05
	done
	return 1
}

tcp_ok() { # PORT: a connection from A to B with one echo gets through
	in_ns "$NS_A" $TRAFFIC tcp-probe --to "$B4" --port "$1" --timeout 1 >/dev/null 2>&1
}

rule_count() { # -1 if the agent does not answer
	ctl --json list 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rules"]))' 2>/dev/null ||
		echo -1
}

# The scenario of the sanitizer and valgrind runs: every fault kind, both
# families, dry runs and refused requests, traffic, expiry, clear.
# Prefix names with $1.
fault_scenario() {
	local p=$1 n id

	start_echo 7200 || not_ok "$p: TCP echo server in B"
	check "$p: ping" ctlq ping
	check "$p: drop" ctlq drop --netns "$NS_A" --proto udp --dport 7001
	check "$p: loss" ctlq loss --netns "$NS_A" --port 7002 50%
	check "$p: corrupt" ctlq corrupt --netns "$NS_A" --proto udp --dport 7003 30%
	check "$p: corrupt --payload" ctlq corrupt --payload --netns "$NS_A" --proto udp \
		--dport 7004 20% --direction egress
	check "$p: drop IPv6 range with interface" ctlq drop --netns "$NS_A" --iface "ha-$SUFFIX" \
		--ip 2001:db8:77::/64 --proto tcp --port 7100-7163
	check "$p: dry run" ctlq drop --netns "$NS_A" --dport 9 --dry-run
	if ctl drop --netns "$NS_A" --port 70000 >/dev/null 2>&1 ||
		ctl drop --netns "nosuch-$SUFFIX" --port 80 >/dev/null 2>&1 ||
		ctl drop --netns "$NS_A" --iface nosuch0 --port 80 >/dev/null 2>&1; then
		not_ok "$p: bad requests refused"
	else
		ok "$p: bad requests refused"
	fi
	n=$(rule_count)
	check "$p: list shows 5 rules (got $n)" test "$n" = 5
	check "$p: status" ctl status >/dev/null

	n=$(udp_received 7001 50)
	check "$p: drop drops UDP to 7001 (received $n of 50)" test "$n" = 0
	n=$(udp_received 7002 100)
	check "$p: loss loses some UDP to 7002 (received $n of 100)" test "$n" -ge 0 -a "$n" -lt 100
	udp_received 7003 50 >/dev/null
	udp_received 7004 50 >/dev/null
	check "$p: TCP to another port passes" tcp_ok 7200

	# Long enough for a slow probe (loaded CI, valgrind) to start inside it.
	check "$p: partition for 3s" ctlq partition --netns "$NS_A" --ip "$B4" --ip "$B6" \
		--for 3s
	if tcp_ok 7200; then not_ok "$p: partition cuts B off"; else ok "$p: partition cuts B off"; fi
	sleep 3
	check "$p: partition expired by itself" tcp_ok 7200

	id=$(ctl --json list 2>/dev/null | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["rules"][0]["id"])' 2>/dev/null || echo 0)
	check "$p: clear $id" ctlq clear "$id"
	check "$p: clear --all" ctlq clear --all
	n=$(rule_count)
	check "$p: no rule left (got $n)" test "$n" = 0
	n=$(udp_received 7001 50)
	check "$p: traffic flows after clear (received $n of 50)" test "$n" -ge 48

	# Leave rules for the agent's exit to remove.
	ctl loss --netns "$NS_A" --port 7005 10% >/dev/null || true
	ctl drop --netns "$NS_B" --proto icmp >/dev/null || true
	check "$p: rules left for shutdown" test "$(rule_count)" = 2
}

cleanup() {
	local p
	stop_agent 10 || true
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	if [ "$T_FAIL" != 0 ] && [ -s "$AGENT_LOG" ]; then
		echo "# agent log (last 40 lines):"
		tail -n 40 "$AGENT_LOG" | comment
	fi
	rm -rf "$WORK"
}
