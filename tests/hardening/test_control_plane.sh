#!/usr/bin/env bash
# shellcheck disable=SC2086,SC2154 # $CP is a command; timed() sets its variables
# SPDX-License-Identifier: GPL-2.0-only
# The control socket under abuse, against a real agent ($NC_BUILD/netchaosd):
# 300 connections held open while chaosctl still answers fast; a client
# stalled in the middle of a request; an oversized request; malformed and
# hostile JSON (each answered with an error, nothing applied, agent up); 200
# concurrent clients; clear --all and abort of 100 rules with the 300
# connections held (latencies in "# " lines); a client that writes and never
# reads; an unprivileged peer (SO_PEERCRED) and the control group. Prints TAP.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
need_root "control plane"

CP="python3 $ROOT/tests/hardening/ctlplane.py"
FAST_MS=${NC_FAST_MS:-1000} # "answers fast": generous for a loaded CI box

ms_now() { date +%s%N | cut -c1-13; }
# timed VAR CMD...: run CMD, put its duration in ms in VAR; CMD's status.
timed() {
	local __var=$1 t0 rc=0
	shift
	t0=$(ms_now)
	"$@" >/dev/null 2>&1 || rc=$?
	printf -v "$__var" '%s' "$(($(ms_now) - t0))"
	return $rc
}
jget() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval('d'+sys.argv[2]))" "$1" "$2"; }

agent_up() { kill -0 "$AGENT_PID" 2>/dev/null && ctl ping >/dev/null 2>&1; }

make_pair || { not_ok "control plane: namespace pair"; exit 1; }
start_agent "$BUILD/netchaosd" || { not_ok "control plane: agent starts"; exit 1; }
ok "control plane: agent starts"

# --- 300 connections held open (a blank every 3 s keeps the idle timeout off)
bg $CP hold --socket "$SOCK" --count 300 --keepalive 3 --ready "$WORK/hold.ready" \
	--stop "$WORK/hold.stop" >"$WORK/hold.json"
HOLDER=${PIDS[-1]}
for _ in $(seq 200); do [ -s "$WORK/hold.ready" ] && break; sleep 0.05; done
held=$(cat "$WORK/hold.ready" 2>/dev/null || echo 0)
check "control plane: 300 connections held open ($held)" test "$held" = 300

timed t_ping ctl ping || true
timed t_list ctl list || true
echo "# with 300 connections held: ping ${t_ping} ms, list ${t_list} ms"
check "control plane: ping answers fast with 300 connections held (${t_ping} ms)" \
	test "$t_ping" -lt "$FAST_MS"
check "control plane: list answers fast with 300 connections held (${t_list} ms)" \
	test "$t_list" -lt "$FAST_MS"

# --- a client stalled halfway through a request blocks nobody
stall_start=$SECONDS
bg $CP hold --socket "$SOCK" --count 1 --partial --ready "$WORK/stall.ready" \
	--stop "$WORK/stall.stop" >"$WORK/stall.json"
for _ in $(seq 200); do [ -s "$WORK/stall.ready" ] && break; sleep 0.05; done
timed t_ping ctl ping || true
check "control plane: a stalled half request blocks nobody (ping ${t_ping} ms)" \
	test "$t_ping" -lt "$FAST_MS"

# --- oversized request: an error, then the connection is closed
out=$($CP send --socket "$SOCK" --timeout 3 --data-hex 78 --repeat 70000)
if [ "$(jget "$out" "['closed']")" = True ] &&
	grep -q 'larger than' <<<"$(jget "$out" "['replies']")"; then
	ok "control plane: a 70000-byte request gets an error and the connection is closed"
else
	not_ok "control plane: a 70000-byte request gets an error and the connection is closed ($out)"
fi

# --- malformed and hostile requests
res=$($CP hostile --socket "$SOCK")
n_bad=0
while IFS=$'\t' read -r name replies okv first; do
	if [ "$replies" = 1 ] && [ "$okv" = "[False]" ]; then
		ok "control plane: hostile request: $name: one error reply"
	else
		not_ok "control plane: hostile request: $name: $replies replies, ok=$okv: $first"
		n_bad=$((n_bad + 1))
	fi
done < <(python3 -c 'import json,sys
for r in json.loads(sys.argv[1]):
    print("\t".join([r["name"], str(r["replies"]), str(r["ok"]), r["first"].replace("\t", " ")]))' "$res")
check "control plane: agent up after hostile requests" agent_up
n=$(rule_count)
check "control plane: hostile requests applied nothing ($n rules)" test "$n" = 0

# --- 200 concurrent clients
out=$($CP pings --socket "$SOCK" --count 200)
echo "# 200 concurrent pings: $out"
check "control plane: 200 concurrent clients all answered ($(jget "$out" "['ok']") ok)" \
	test "$(jget "$out" "['ok']")" = 200

# --- clear --all and abort of 100 rules with the 300 connections held
add_rules() { # N: rules on distinct ports in NS_A
	local i failed=0
	for ((i = 0; i < $1; i++)); do
		ctl drop --netns "$NS_A" --proto udp --dport $((20000 + i)) --for 5m >/dev/null ||
			failed=$((failed + 1))
	done
	[ "$failed" = 0 ]
}
check "control plane: 100 rules added" add_rules 100
n=$(rule_count)
check "control plane: list shows 100 rules ($n)" test "$n" = 100
timed t_clear ctl clear --all || true
n=$(rule_count)
echo "# clear --all of 100 rules with 300 connections held: ${t_clear} ms"
check "control plane: clear --all removed 100 rules in ${t_clear} ms ($n left)" test "$n" = 0
check "control plane: 100 rules added again" add_rules 100
timed t_abort ctl abort || true
n=$(rule_count)
echo "# abort of 100 rules with 300 connections held: ${t_abort} ms"
check "control plane: abort removed 100 rules in ${t_abort} ms ($n left)" test "$n" = 0
left=$(leftovers "$NS_A")
check "control plane: nothing left in the namespace after abort${left:+: $left}" test -z "$left"

# --- the held connections were served all along
touch "$WORK/hold.stop"
wait "$HOLDER" || true
out=$(cat "$WORK/hold.json")
check "control plane: the 300 held connections stayed open ($out)" \
	test "$(jget "$out" "['open_at_end']")" = 300

# --- a client that pipelines requests and never reads its replies must
# neither stall the others nor the heartbeat (a stall past --deadman, 2 s,
# turns every fault off), nor grow the agent without bound. With 100 rules
# each list reply is ~20 kB. The flood stops by itself at +256 MB.
check "control plane: 100 rules added for the flood" add_rules 100
bg $CP flood --socket "$SOCK" --pid "$AGENT_PID" --cmd list --seconds 6 \
	--max-growth-mb 256 >"$WORK/flood.json"
FLOODER=${PIDS[-1]}
sleep 1
( timed t ctl ping || true; echo "$t" >"$WORK/flood-ping" ) &
PIDS+=($!)
# One datagram every 20 ms for 4 s, all to a dropped port.
n=$(udp_received 20000 200 20000)
check "control plane: faults stay in force during the flood (received $n of 200 dropped datagrams)" \
	test "$n" = 0
wait "${PIDS[-1]}" || true
t_ping=$(cat "$WORK/flood-ping" 2>/dev/null || echo 99999)
echo "# ping while a client floods list requests without reading: ${t_ping} ms"
check "control plane: a client that never reads does not stall others (ping ${t_ping} ms)" \
	test "$t_ping" -lt "$FAST_MS"
wait "$FLOODER" || true
out=$(cat "$WORK/flood.json")
growth=$(jget "$out" "['rss_growth_mb']")
echo "# a client writing list requests (100 rules) for 6 s and never reading: $out"
check "control plane: a client that never reads cannot grow the agent by 64 MB (grew ${growth} MB)" \
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 64 else 1)" "$growth"
check "control plane: agent up after the flood" agent_up
ctl abort >/dev/null || true

# --- the stalled half request was closed by the idle timeout
while [ $((SECONDS - stall_start)) -lt 12 ]; do sleep 0.5; done
touch "$WORK/stall.stop"
for _ in $(seq 100); do [ -s "$WORK/stall.json" ] && break; sleep 0.1; done
out=$(cat "$WORK/stall.json")
check "control plane: the stalled client was closed by the idle timeout ($out)" \
	test "$(jget "$out" "['open_at_end']")" = 0

# --- peers that are not root (SO_PEERCRED)
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$CTL" --socket "$SOCK" "$@"; }
as_nobody_q() { as_nobody "$@" >/dev/null; }
as_daemon() { setpriv --reuid=daemon --regid=daemon --clear-groups "$CTL" --socket "$SOCK" "$@"; }
mode=$(stat -c %a "$SOCK")
check "control plane: the socket is 0600 without --group ($mode)" test "$mode" = 600
if as_nobody list >/dev/null 2>&1; then
	not_ok "control plane: nobody cannot connect to a 0600 socket"
else
	ok "control plane: nobody cannot connect to a 0600 socket"
fi
chmod 0666 "$SOCK" # only to reach the agent's own check
check "control plane: nobody may list" as_nobody_q list
check "control plane: nobody may ask status" as_nobody_q status
for cmd in "drop --netns $NS_A --port 80" "clear --all" "abort"; do
	# shellcheck disable=SC2086
	out=$(as_nobody $cmd 2>&1) && rc=0 || rc=$?
	if [ "$rc" != 0 ] && grep -qi 'permission denied' <<<"$out"; then
		ok "control plane: nobody may not $cmd (permission denied)"
	else
		not_ok "control plane: nobody may not $cmd (exit $rc: $out)"
	fi
done
n=$(rule_count)
check "control plane: refused peers changed nothing ($n rules)" test "$n" = 0
stop_agent 30
check "control plane: agent exits 0 on SIGTERM (status $AGENT_STATUS)" test "$AGENT_STATUS" = 0

# --- the control group: --group nogroup lets nobody change faults, not daemon
start_agent "$BUILD/netchaosd" --group nogroup ||
	{ not_ok "control plane: agent starts with --group nogroup"; exit 1; }
perm=$(stat -c '%a %G' "$SOCK")
check "control plane: --group makes the socket 0660 for the group ($perm)" \
	test "$perm" = "660 nogroup"
check "control plane: a group member may add a rule" as_nobody_q drop --netns "$NS_A" --port 80
check "control plane: a group member may clear" as_nobody_q clear --all
if as_daemon ping >/dev/null 2>&1; then
	not_ok "control plane: a user outside the group cannot connect"
else
	ok "control plane: a user outside the group cannot connect"
fi
stop_agent 30
check "control plane: agent exits 0 on SIGTERM (status $AGENT_STATUS)" test "$AGENT_STATUS" = 0
left="$(leftovers "$NS_A")$(leftovers "$NS_B")"
check "control plane: nothing left in the namespaces${left:+: $left}" test -z "$left"
[ "$T_FAIL" = 0 ]
