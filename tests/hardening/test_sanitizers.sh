#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The real agent and CLI built with AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer (make SANITIZE=1, into $NC_BUILD/asan) through one
# end-to-end scenario in a namespace pair: every fault kind, traffic, expiry,
# clear, bad requests, rules left for shutdown, SIGTERM. Passes when the agent
# exits 0, no sanitizer said anything (agent or chaosctl), and nothing of
# netchaos is left in the namespaces. Prints TAP.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
need_root "sanitizers: agent under ASan/UBSan"

if make -C "$ROOT" BUILD="$ASAN_BUILD" SANITIZE=1 all >"$WORK/build.log" 2>&1; then
	ok "sanitizers: build with SANITIZE=1 into $ASAN_BUILD"
else
	not_ok "sanitizers: build with SANITIZE=1 into $ASAN_BUILD"
	tail -n 20 "$WORK/build.log" | comment
	exit 1
fi

# Reports go to files, one per process, so chaosctl's count too.
SAN=$WORK/sanitizer
mkdir -p "$SAN"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$SAN/asan:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$SAN/ubsan"
export LSAN_OPTIONS="log_path=$SAN/lsan"
CTL=$ASAN_BUILD/chaosctl

make_pair || { not_ok "sanitizers: namespace pair"; exit 1; }
start_agent "$ASAN_BUILD/netchaosd" || { not_ok "sanitizers: ASan agent starts"; exit 1; }
ok "sanitizers: ASan agent starts"

fault_scenario asan

start=$SECONDS
stop_agent 30
check "sanitizers: agent exits 0 on SIGTERM (status $AGENT_STATUS, $((SECONDS - start)) s)" \
	test "$AGENT_STATUS" = 0
check "sanitizers: shutdown removed the 2 rules left" grep -q 'removed 2 rule' "$AGENT_LOG"
left="$(leftovers "$NS_A")$(leftovers "$NS_B")"
check "sanitizers: nothing left in the namespaces${left:+: $left}" test -z "$left"

reports=$(find "$SAN" -type f | sort)
if [ -z "$reports" ] && ! grep -qE 'Sanitizer|runtime error' "$AGENT_LOG"; then
	ok "sanitizers: no ASan/LSan/UBSan report from the agent or chaosctl"
else
	not_ok "sanitizers: no ASan/LSan/UBSan report from the agent or chaosctl"
	for f in $reports; do
		echo "# $f:"
		head -n 40 "$f" | comment
	done
	grep -E -A20 'Sanitizer|runtime error' "$AGENT_LOG" | head -n 40 | comment || true
fi
[ "$T_FAIL" = 0 ]
