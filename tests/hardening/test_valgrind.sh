#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The agent (the normal build, $NC_BUILD/netchaosd) under valgrind memcheck
# through the scenario of test_sanitizers.sh. Passes when the agent exits 0
# on SIGTERM and valgrind found no error and no definitely or indirectly lost
# block ("still reachable" memory of libbpf/libnl/libc is fine), no
# descriptor it opened is still open at exit, and nothing is left in the
# namespaces. valgrind.supp hides reports inside libbpf (see there). Prints TAP; the leak summary goes in "# " lines.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
need_root "valgrind: agent under memcheck"
if ! command -v valgrind >/dev/null; then
	skip "valgrind: agent under memcheck" "valgrind not installed"
	exit 0
fi
if [ ! -x "$BUILD/netchaosd" ] || [ ! -x "$BUILD/chaosctl" ]; then
	not_ok "valgrind: $BUILD/netchaosd and chaosctl built (make all)"
	exit 1
fi

# One log per process: the agent forks children (netem probe, doctor) that
# valgrind follows; they exit with inherited descriptors open, by design.
VG_LOGS=$WORK/valgrind
mkdir -p "$VG_LOGS"
make_pair || { not_ok "valgrind: namespace pair"; exit 1; }
start=$SECONDS
start_agent valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=yes \
	--suppressions="$ROOT/tests/hardening/valgrind.supp" \
	--num-callers=30 --log-file="$VG_LOGS/%p.log" "$BUILD/netchaosd" ||
	{ not_ok "valgrind: agent starts under valgrind"; tail -n 30 "$VG_LOGS"/*.log | comment; exit 1; }
VG_LOG=$VG_LOGS/$AGENT_PID.log
ok "valgrind: agent starts under valgrind ($((SECONDS - start)) s)"

fault_scenario valgrind

start=$SECONDS
stop_agent 120
# 99: valgrind's --error-exitcode, i.e. memory errors or leaks.
check "valgrind: agent exits 0 on SIGTERM (status $AGENT_STATUS, $((SECONDS - start)) s)" \
	test "$AGENT_STATUS" = 0
left="$(leftovers "$NS_A")$(leftovers "$NS_B")"
check "valgrind: nothing left in the namespaces${left:+: $left}" test -z "$left"

errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$VG_LOG" | tail -1)
definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$VG_LOG" | tail -1)
indirect=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$VG_LOG" | tail -1)
grep -E 'definitely lost|indirectly lost|possibly lost|still reachable|All heap blocks|FILE DESCRIPTORS' \
	"$VG_LOG" | sed 's/^==[0-9]*== *//' | comment
check "valgrind: no memory error (${errors:-no summary})" test "${errors:-x}" = 0
# Descriptors open at exit that the agent did not inherit: leaked.
fds=$(awk '/Open (file descriptor|AF_[A-Z0-9]+ socket)/ { open = 1; next }
	open { if ($0 !~ /inherited from parent/) n++; open = 0 } END { print n + 0 }' "$VG_LOG")
check "valgrind: no descriptor of the agent's left open at exit ($fds)" test "$fds" = 0
# No leak summary at all means every block was freed.
check "valgrind: no definitely lost block (${definite:-0} bytes)" test "${definite:-0}" = 0
check "valgrind: no indirectly lost block (${indirect:-0} bytes)" test "${indirect:-0}" = 0
# Forked children: memory errors count, their exit-time descriptors do not.
children=0 child_errors=0
for f in "$VG_LOGS"/*.log; do
	[ "$f" = "$VG_LOG" ] && continue
	children=$((children + 1))
	e=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -1)
	child_errors=$((child_errors + ${e:-0}))
	[ "${e:-0}" = 0 ] || sed -n '/Invalid\|uninitialised\|are definitely\|Syscall param/,+20p' "$f" |
		head -n 40 | comment
done
check "valgrind: no memory error in the agent's $children forked children ($child_errors)" \
	test "$child_errors" = 0
if [ "$T_FAIL" != 0 ]; then
	echo "# valgrind log (errors and leaks):"
	grep -vE '^==[0-9]+== *$' "$VG_LOG" | sed -n '/Invalid\|uninitialised\|are definitely\|are indirectly\|Syscall param/,+25p' |
		head -n 120 | comment || true
fi
[ "$T_FAIL" = 0 ]
