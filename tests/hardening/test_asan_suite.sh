#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The cmocka unit tests (tests/unit) and the classifier/kernel C tests
# (tests/bpf) built with AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer (make SANITIZE=1 into $NC_BUILD/asan) and run
# from that build. Their TAP lines are echoed renamed "asan/<binary>: <test>";
# a binary that dies (a sanitizer report aborts it) is one "not ok" with the
# report in "# " lines. Tests needing root skip themselves without it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

if make -C "$ROOT" BUILD="$ASAN_BUILD" SANITIZE=1 all tests >"$WORK/build.log" 2>&1; then
	ok "asan: build of the agent, CLI and tests with SANITIZE=1 into $ASAN_BUILD"
else
	not_ok "asan: build of the agent, CLI and tests with SANITIZE=1 into $ASAN_BUILD"
	tail -n 20 "$WORK/build.log" | comment
	exit 1
fi

export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_bin() { # tier binary
	local name log=$WORK/run.log rc=0 start=$SECONDS n_ok n_bad
	name="asan/$1/$(basename "$2")"
	if [ ! -x "$2" ]; then
		not_ok "$name: not built"
		return
	fi
	timeout 600 "$2" >"$log" 2>&1 || rc=$?
	# "ok 3 - test_x" (or "ok - test_x") -> "ok - asan/unit/test_units: test_x";
	# the rest as comments
	sed -E -e "s|^(not )?ok( [0-9]+)? - (.*)$|\\1ok - $name: \\3|" \
		-e '/^(not )?ok - /!s/^/# /' "$log" | grep -vE '^# 1\.\.[0-9]+$' || true
	n_ok=$(grep -cE '^ok( [0-9]+)? - ' "$log" || true)
	n_bad=$(grep -cE '^not ok( [0-9]+)? - ' "$log" || true)
	T_PASS=$((T_PASS + n_ok)) T_FAIL=$((T_FAIL + n_bad))
	if [ "$rc" != 0 ] && [ "$n_bad" = 0 ]; then
		not_ok "$name: exited with status $rc after $n_ok tests"
	fi
	echo "# $name: $n_ok passed, $n_bad failed, status $rc ($((SECONDS - start)) s)"
}

for t in "$ROOT"/tests/unit/test_*.c; do
	run_bin unit "$ASAN_BUILD/tests/$(basename "$t" .c)"
done
for t in "$ROOT"/tests/bpf/test_*.c; do
	run_bin bpf "$ASAN_BUILD/tests/$(basename "$t" .c)"
done
[ "$T_FAIL" = 0 ]
