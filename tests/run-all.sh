#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The whole test suite, every tier in turn: cmocka unit tests, classifier and
# kernel tests on this host, end-to-end tests with real traffic on this host,
# then the VM tier (stock kernel with sch_netem under qemu). Every test program
# prints TAP lines; this script echoes them and ends with the summary line
# "N passed, N failed, N skipped". Exit status is non-zero if anything failed.
# Usage: tests/run-all.sh [BUILD_DIR] [TIER...]
#        (tiers: unit misc bpf e2e hardening vm; default all)
set -uo pipefail

BUILD=${1:-build}
shift || true
TIERS=${*:-unit misc bpf e2e hardening vm}
cd "$(dirname "$0")/.."
export NC_BUILD=$PWD/$BUILD CMOCKA_MESSAGE_OUTPUT=TAP

passed=0 failed=0 skipped=0
failures=()

run_one() { # name, command...
	local name=$1 log rc p f s
	shift
	log=$(mktemp)
	echo "# --- $name"
	local start=$SECONDS
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -cE '^ok ' "$log" | head -1)
	s=$(grep -cE '^ok .*# (SKIP|skip)' "$log" | head -1)
	f=$(grep -cE '^not ok ' "$log" | head -1)
	p=$((p - s))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	if [ "$((p + f + s))" = 0 ]; then
		echo "not ok - $name ran no test"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	[ "$f" != 0 ] && failures+=("$name")
	echo "# --- $name: $p passed, $f failed, $s skipped ($((SECONDS - start))s)"
	rm -f "$log"
}

for tier in $TIERS; do
	case $tier in
	unit)
		for t in tests/unit/test_*.c; do
			b=$BUILD/tests/$(basename "$t" .c)
			run_one "unit/$(basename "$b")" "$b"
		done ;;
	misc)
		for t in tests/misc/test_*.sh; do
			run_one "misc/$(basename "$t" .sh)" bash "$t"
		done ;;
	hardening)
		for t in tests/hardening/test_*.sh; do
			[ -f "$t" ] && run_one "hardening/$(basename "$t" .sh)" bash "$t"
		done
		if [ -x tests/fuzz/run.sh ]; then
			run_one "fuzz" tests/fuzz/run.sh "${NC_FUZZ_SECONDS:-30}"
		fi ;;
	bpf)
		for t in tests/bpf/test_*.c; do
			b=$BUILD/tests/$(basename "$t" .c)
			run_one "bpf/$(basename "$b")" "$b"
		done ;;
	e2e)
		for t in tests/e2e/test_*.sh; do
			run_one "e2e/$(basename "$t" .sh)" bash "$t"
		done ;;
	vm)
		if [ -x tests/vm/run-suite.sh ]; then
			run_one "vm" tests/vm/run-suite.sh
		fi ;;
	*) echo "unknown tier $tier" >&2; exit 2 ;;
	esac
done

[ "${#failures[@]}" != 0 ] && echo "# failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
