#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run every libFuzzer target of tests/fuzz for SECONDS each (default 60) from
# its seed corpus and print one TAP line per target:
#   ok - fuzz_request: N execs in S s, no crash
#   not ok - fuzz_request: exit N after N execs, input saved in PATH
# (with the report in "# " lines); the exit status is 1 if any failed.
# New inputs go to a scratch copy of the corpus, never into the checkout
# (FUZZ_KEEP=DIR keeps them in DIR/<target>). Binaries are (re)built into
# BUILD_DIR/fuzz by `make fuzz-build`. Usage: tests/fuzz/run.sh [SECONDS] [BUILD_DIR]
set -euo pipefail

SECONDS_EACH=${1:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${2:-${NC_BUILD:-$ROOT/build}}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
FUZZ=$ROOT/tests/fuzz
WORK=$(mktemp -d /tmp/netchaos-fuzz.XXXXXX)
CRASHES=${FUZZ_CRASH_DIR:-$BUILD/fuzz/crashes}
FUZZ_PID=
FAILED=0

cleanup() {
	if [ -n "$FUZZ_PID" ]; then kill "$FUZZ_PID" 2>/dev/null || true; wait "$FUZZ_PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# target corpus-dir extra-options...
fuzz_one() {
	local name=$1 seeds=$2 bin=$BUILD/fuzz/$1 corpus log rc start execs secs crash
	shift 2
	if [ ! -x "$bin" ]; then
		FAILED=$((FAILED + 1))
		echo "not ok - $name: $bin missing (make fuzz-build)"
		return 0
	fi
	corpus=${FUZZ_KEEP:+$FUZZ_KEEP/$name}
	corpus=${corpus:-$WORK/corpus-$name}
	mkdir -p "$corpus" "$CRASHES"
	log=$WORK/$name.log
	# -jobs/-workers stay at 1: the suite's budget, and one core left for
	# anything else running. Leaks are checked on every input.
	"$bin" -max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=2560 \
		-print_final_stats=1 -artifact_prefix="$CRASHES/$name-" "$@" \
		"$corpus" "$seeds" >"$log" 2>&1 &
	FUZZ_PID=$!
	rc=0 start=$SECONDS
	wait "$FUZZ_PID" || rc=$?
	secs=$((SECONDS - start))
	FUZZ_PID=
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	if [ "$rc" = 0 ] && [ -z "$crash" ]; then
		echo "ok - $name: ${execs:-?} execs in $secs s, no crash"
		return 0
	fi
	FAILED=$((FAILED + 1))
	echo "not ok - $name: exit $rc after ${execs:-?} execs, input saved in ${crash:-?}"
	grep -E 'ERROR: |SUMMARY: |invariant|runtime error|^    #[0-9]+ ' "$log" | head -n 30 | sed 's/^/# /'
}

# `make check` does not build the fuzzers: do it here (a no-op when current).
if ! make -C "$ROOT" BUILD="$BUILD" fuzz-build >"$WORK/build.log" 2>&1; then
	echo "not ok - fuzz: make fuzz-build"
	tail -n 20 "$WORK/build.log" | sed 's/^/# /'
	exit 1
fi
echo "# fuzzing each target for ${SECONDS_EACH}s"
fuzz_one fuzz_request "$FUZZ/corpus/request" -dict="$FUZZ/request.dict" -max_len=16384
fuzz_one fuzz_http "$FUZZ/corpus/http" -max_len=32768
[ "$FAILED" = 0 ]
