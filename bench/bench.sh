#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# netchaos benchmark suite: netchaos against the classic tc / iptables approach
# and against no program at all, side by side in one run. Prints a markdown
# table per benchmark, writes them with the machine, kernel and date to
# BUILD/bench/results-<date>.md, and plots overhead vs rules to
# BUILD/bench/overhead.png. Figures only: nothing here asserts a speed.
#
# usage: bench/bench.sh [--quick | --full] [--build DIR] [--out DIR]
#                       [--only SECTIONS] [--no-vm] [--keep-raw]
#   --quick        about 3 minutes on 2 cores (default; `make bench`)
#   --full         longer runs, more repetitions (`make bench-full`)
#   --only LIST    comma-separated subset of: datapath,latency,classifier,
#                  footprint,vm
#   --no-vm        skip the VM (netem) section
# Needs root, the built tree (make bench-tools), iperf3, tc, iptables-restore,
# nsenter; gnuplot for the plot and qemu (tests/vm) for the VM section.
#
# Sections (docs/benchmarks.md explains what each measures and how):
#   1 datapath    UDP packet rate and TCP throughput over a veth pair, rules
#                 that do not match the traffic: none / netchaos / tc htb+u32 /
#                 iptables at N = 1, 100, 1000, 10000; interleaved rounds
#   2 latency     apply and removal latency seen by a UDP stream: chaosctl,
#                 a persistent socket client, forked tc, forked iptables
#   3 classifier  per-packet cost with BPF_PROG_TEST_RUN (bench_classifier)
#   4 footprint   agent RSS and CPU: idle, 10,000 rules, many clients
#   5 vm          netem delay accuracy and unmatched throughput (qemu guest)
#
# Traffic only flows inside the network namespaces created here (veth pairs,
# 198.18.0.0/15, the benchmarking range). Every load is bounded in count and
# time; every process started here is stopped by its pid on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$here/.." && pwd)
mode=quick
build=$ROOT/build
out=
only=datapath,latency,classifier,footprint,vm
keep_raw=1

usage() { awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; }
die() { echo "bench: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--quick) mode=quick ;;
	--full) mode=full ;;
	--build) [ $# -ge 2 ] || die "--build needs a value"; build=$2; shift ;;
	--out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift ;;
	--only) [ $# -ge 2 ] || die "--only needs a value"; only=$2; shift ;;
	--no-vm) only=${only//vm/} ;;
	--keep-raw) keep_raw=1 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option: $1 (see --help)" ;;
	esac
	shift
done

BUILD=$(cd "$build" && pwd) || die "no build directory $build"
OUT=${out:-$BUILD/bench}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
want() { [[ ,$only, == *,$1,* ]]; }

[ "$(id -u)" = 0 ] || die "must run as root (namespaces, BPF, tc)"
for b in netchaosd chaosctl bench/ncb_flood bench/ncb_lat bench/ncb_rtt bench/ncb_client \
	bench/bench_classifier bench/ncb_null; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b is missing: run 'make bench-tools'"
done
for t in iperf3 tc ip iptables-restore nsenter python3 timeout; do
	command -v "$t" >/dev/null || die "$t is not installed"
done

# ---- parameters -------------------------------------------------------------
RULE_COUNTS=(1 100 1000 10000)
NCTC_COUNTS=(1 10000) # netchaos with --attach tc too, where the kernel has tcx
if [ "$mode" = quick ]; then
	ROUNDS=3 UDP_SLICES=20 UDP_SLICE_MS=20 TCP_BYTES=192M LAT_RUNS=30 LAT_RUNS_COLD=10
	PREC_ROUNDS=2 PREC_SLICES=20 PREC_SLICE_MS=50 INSITU_ROUNDS=2 INSITU_SLICES=5
	CLS_REPEAT=500000 CLS_ROUNDS=3 IDLE_SECS=3 CLIENTS=32 CLIENT_SECS=3 VM_TIMEOUT=150
else
	ROUNDS=5 UDP_SLICES=40 UDP_SLICE_MS=50 TCP_BYTES=1G LAT_RUNS=200 LAT_RUNS_COLD=40 CLS_REPEAT=1000000 CLS_ROUNDS=11
	IDLE_SECS=20 CLIENTS=64 CLIENT_SECS=10 VM_TIMEOUT=400
	PREC_ROUNDS=48 PREC_SLICES=20 PREC_SLICE_MS=50 INSITU_ROUNDS=7 INSITU_SLICES=10
fi
# Development overrides (documented in docs/benchmarks.md).
ROUNDS=${BENCH_ROUNDS:-$ROUNDS} LAT_RUNS=${BENCH_LAT_RUNS:-$LAT_RUNS}
PREC_ROUNDS=${BENCH_PREC_ROUNDS:-$PREC_ROUNDS}
LAT_RUNS_COLD=${BENCH_LAT_RUNS_COLD:-$LAT_RUNS_COLD}
UDP_PORT=9000 TCP_PORT=5201 LAT_PORT=9100 RULE_PORT_BASE=20000

STAMP=$(date -u +%Y%m%d-%H%M%S)
RAW=$OUT/raw-$STAMP
RESULTS=$OUT/results-$STAMP.md
mkdir -p "$RAW"
WORK=$(mktemp -d /tmp/netchaos-bench.XXXXXX)
SUF=$$
T_START=$(date +%s)

# ---- bookkeeping and cleanup -------------------------------------------------
declare -a PIDS=() NSES=()
declare -A NSA=() NSB=() IFA=() ADDR=() AGENT=() SOCK=()

log() { printf '[bench %4ds] %s\n' $(($(date +%s) - T_START)) "$*" >&2; }

# shellcheck disable=SC2317 # called through trap
cleanup() {
	local rc=$? p ns
	trap - EXIT INT TERM HUP
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	for ns in "${NSES[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$WORK"
	[ "$keep_raw" = 1 ] || rm -rf "$RAW"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

nsx() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

# make_pair KEY IDX: namespaces a/b joined by a veth pair, 198.18.IDX.1 -> .2
make_pair() {
	local key=$1 idx=$2 a=ncb$SUF-$1-a b=ncb$SUF-$1-b
	ip netns add "$a"
	NSES+=("$a")
	ip netns add "$b"
	NSES+=("$b")
	ip link add "nb${idx}a" netns "$a" type veth peer name "nb${idx}b" netns "$b"
	ip -n "$a" addr add "198.18.$idx.1/24" dev "nb${idx}a"
	ip -n "$b" addr add "198.18.$idx.2/24" dev "nb${idx}b"
	ip -n "$a" link set lo up
	ip -n "$b" link set lo up
	ip -n "$a" link set "nb${idx}a" up
	ip -n "$b" link set "nb${idx}b" up
	NSA[$key]=$a NSB[$key]=$b IFA[$key]=nb${idx}a ADDR[$key]=198.18.$idx.2
}

# start_null KEY: the empty TC program on KEY's sending namespace
start_null() {
	local key=$1 out=$WORK/null-$1.out
	"$BUILD/bench/ncb_null" --netns "${NSA[$key]}" >"$out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 200); do
		grep -q '^attached=' "$out" && {
			echo "$(sed -n 's/^attached=//p' "$out")" >"$RAW/load-$key.txt"
			return 0
		}
		kill -0 $! 2>/dev/null || break
		sleep 0.05
	done
	sed 's/^/  ncb_null: /' "$out" >&2
	die "ncb_null ($key) did not attach"
}

# start_agent KEY: a netchaosd of its own, socket in WORK
start_agent() { # KEY [agent options...]
	local key=$1 sock=$WORK/agent-$1.sock
	shift
	"$BUILD/netchaosd" --socket "$sock" --max-rules 16384 "$@" >>"$WORK/agent-$key.log" 2>&1 &
	AGENT[$key]=$!
	PIDS+=($!)
	SOCK[$key]=$sock
	for _ in $(seq 200); do
		[ -S "$sock" ] && return 0
		kill -0 "${AGENT[$key]}" 2>/dev/null || break
		sleep 0.05
	done
	sed 's/^/  agent: /' "$WORK/agent-$key.log" >&2
	die "netchaosd ($key) did not start"
}

chaosctl_k() { local key=$1; shift; "$BUILD/chaosctl" --socket "${SOCK[$key]}" "$@"; }

# timed FILE CMD...: run CMD, write its wall time in seconds to FILE
timed() {
	local f=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	"$@"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >"$f"
}

# proc_cpu_ns PID: CPU time of the process's threads in ns (schedstat: ns
# resolution; /proc/PID/stat's utime + stime count 10 ms ticks)
proc_cpu_ns() {
	local t s=0
	for t in /proc/"$1"/task/*/schedstat; do
		s=$((s + $(cut -d' ' -f1 "$t")))
	done
	echo "$s"
}
proc_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# A CSV row of key=value output: kv_get "k=v k2=v2" k2 -> v2
kv_get() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }

# ---- environment ------------------------------------------------------------
env_info() {
	local cpu mem
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	{
		echo "date_utc=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
		echo "host=$(uname -n)"
		echo "kernel=$(uname -sr) ($(uname -v))"
		echo "os=$(awk -F= '$1 == "PRETTY_NAME" { gsub(/"/, "", $2); print $2 }' /etc/os-release)"
		echo "cpu=$cpu, $(nproc) online CPUs"
		echo "memory=$mem"
		echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
		echo "mode=$mode"
		echo "params=rounds=$ROUNDS udp_slices=${UDP_SLICES}x${UDP_SLICE_MS}ms precision_rounds=$PREC_ROUNDS precision_slices=${PREC_SLICES}x${PREC_SLICE_MS}ms tcp_bytes=$TCP_BYTES lat_runs=$LAT_RUNS lat_runs_cold=$LAT_RUNS_COLD cls_repeat=$CLS_REPEAT cls_rounds=$CLS_ROUNDS idle_secs=$IDLE_SECS clients=$CLIENTS client_secs=$CLIENT_SECS"
		echo "tools=$(iperf3 --version | head -1 | cut -d' ' -f1-2); $(tc -V 2>&1 | head -1); $(iptables -V); $(gcc --version | head -1); $(clang --version | head -1)"
	} >"$RAW/env.txt"
}

# ---- 1. datapath overhead -----------------------------------------------------
# Contender configs, each on its own identical veth pair: ctl (a second pair
# with no program: the A/A control, its "overhead" is the noise floor), nc-N
# (netchaos, N rules through the agent's socket), tc-N (htb root + N u32
# filters, tc -batch), ipt-N (an iptables chain with N rules, iptables-restore).
# The baseline pair "base" has no program either.
CONFIGS=()

setup_datapath() {
	local idx=1 n key f has_tcx=0
	"$BUILD/tests/nc_hooks" --has-tcx 2>/dev/null && has_tcx=1
	# null-0: the hook's own cost, an empty program attached like netchaos's
	# classifier (tcx, both directions, every interface of the namespace);
	# nctc-N: the other way to attach, for comparison (tcx is the default
	# where the kernel has it; without tcx, nc-N already uses clsact)
	CONFIGS=(ctl)
	[ $has_tcx = 0 ] || CONFIGS+=(null-0)
	for n in "${RULE_COUNTS[@]}"; do CONFIGS+=("nc-$n"); done
	# nca-1: one rule by address only (a network no traffic here goes to),
	# which turns the classifier's fast front off for the namespace
	CONFIGS+=(nca-1)
	if [ $has_tcx = 1 ]; then
		for n in "${NCTC_COUNTS[@]}"; do CONFIGS+=("nctc-$n"); done
	fi
	for n in "${RULE_COUNTS[@]}"; do CONFIGS+=("tc-$n"); done
	for n in "${RULE_COUNTS[@]}"; do CONFIGS+=("ipt-$n"); done
	for key in base "${CONFIGS[@]}"; do
		make_pair "$key" $idx
		idx=$((idx + 1))
	done
	# every pair against the base pair before anything is installed: the
	# pairs' own differences, which the precision figures take out
	precision_rounds calibration

	[ $has_tcx = 0 ] || start_null null-0
	for n in "${RULE_COUNTS[@]}"; do
		key=nc-$n
		start_agent "$key"
		log "netchaos: loading $n rules through the agent's socket"
		"$BUILD/bench/ncb_client" load --sock "${SOCK[$key]}" --netns "${NSA[$key]}" \
			--count "$n" --port-base $RULE_PORT_BASE >"$RAW/load-$key.txt"
	done
	key=nca-1
	start_agent "$key"
	log "netchaos: one address-only rule (198.51.100.0/24) through chaosctl"
	timed "$RAW/load-$key.txt" chaosctl_k "$key" drop --netns "${NSA[$key]}" \
		--ip 198.51.100.0/24 --for 3h >/dev/null
	if [ $has_tcx = 1 ]; then
		for n in "${NCTC_COUNTS[@]}"; do
			key=nctc-$n
			start_agent "$key" --attach tc
			log "netchaos, --attach tc: loading $n rules through the agent's socket"
			"$BUILD/bench/ncb_client" load --sock "${SOCK[$key]}" --netns "${NSA[$key]}" \
				--count "$n" --port-base $RULE_PORT_BASE >"$RAW/load-$key.txt"
		done
	fi
	echo "nc_attach=$("$BUILD/chaosctl" --socket "${SOCK[nc-1]}" --json status |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["kernel"]["attach"])')" >>"$RAW/env.txt"
	for n in "${RULE_COUNTS[@]}"; do
		key=tc-$n
		f=$WORK/$key.tc
		{
			# The peers' tree: a classful root, a "fault" class (here a
			# blackhole: pfifo limit 0; theirs holds netem), one u32 filter
			# per targeted port. Unclassified traffic goes htb's direct way.
			echo "qdisc add dev ${IFA[$key]} root handle 1: htb"
			echo "class add dev ${IFA[$key]} parent 1: classid 1:2 htb rate 100gbit quantum 60000"
			echo "qdisc add dev ${IFA[$key]} parent 1:2 handle 20: pfifo limit 0"
			awk -v n="$n" -v b=$RULE_PORT_BASE -v d="${IFA[$key]}" 'BEGIN {
				for (i = 0; i < n; i++)
					printf "filter add dev %s parent 1: protocol ip prio 1 u32 match ip protocol %d 0xff match ip dport %d 0xffff flowid 1:2\n", d, i % 2 ? 17 : 6, b + i }'
		} >"$f"
		log "tc: $n u32 filters with tc -batch"
		timed "$RAW/load-$key.txt" tc -n "${NSA[$key]}" -batch "$f"
	done
	for n in "${RULE_COUNTS[@]}"; do
		key=ipt-$n
		f=$WORK/$key.ipt
		{
			echo "*filter"
			echo ":NCBENCH - [0:0]"
			echo "-A INPUT -j NCBENCH"
			echo "-A OUTPUT -j NCBENCH"
			awk -v n="$n" -v b=$RULE_PORT_BASE 'BEGIN {
				for (i = 0; i < n; i++)
					printf "-A NCBENCH -p %s --dport %d -j DROP\n", i % 2 ? "udp" : "tcp", b + i }'
			echo "COMMIT"
		} >"$f"
		log "iptables: $n rules with iptables-restore (in the namespace only)"
		timed "$RAW/load-$key.txt" nsx "${NSA[$key]}" iptables-restore -w <"$f"
	done
	# iperf3 servers, one per receiving namespace
	for key in base "${CONFIGS[@]}"; do
		# nsenter execs iperf3: $! is the server itself (a function would fork)
		nsenter --net="/run/netns/${NSB[$key]}" iperf3 -s -p $TCP_PORT -B "${ADDR[$key]}" \
			>/dev/null 2>&1 &
		PIDS+=($!)
	done
	for key in base "${CONFIGS[@]}"; do
		for _ in $(seq 100); do
			nsx "${NSB[$key]}" ss -Hltn "sport = :$TCP_PORT" | grep -q . && break
			sleep 0.05
		done
	done
}

# What is installed, counted from the kernel/agent, and how much of the
# measured traffic it matched (must be 0: the rules are not for this traffic).
installed_row() {
	local key=$1 kind=${1%%-*} n=${1#*-} inst matched res
	case $kind in
	nc | nctc | nca)
		# (chaosctl list cannot carry 10,000 rules: its replies stop at 64 KiB)
		res=$("$BUILD/bench/ncb_client" list --sock "${SOCK[$key]}")
		inst=$(kv_get "$res" rules) matched=$(kv_get "$res" matched)
		;;
	tc)
		inst=$(tc -n "${NSA[$key]}" filter show dev "${IFA[$key]}" | grep -c 'flowid 1:2' || true)
		matched=$(tc -n "${NSA[$key]}" -s class show dev "${IFA[$key]}" classid 1:2 |
			awk '/Sent/ { print $4; exit }')
		;;
	null)
		inst=$(tail -n 1 "$RAW/load-$key.txt") matched=
		;;
	ipt)
		inst=$(nsx "${NSA[$key]}" iptables -w -S NCBENCH | grep -c '^-A' || true)
		matched=$(nsx "${NSA[$key]}" iptables -w -L NCBENCH -v -x -n |
			awk 'NR > 2 { s += $1 } END { print s + 0 }')
		;;
	*) return 0 ;;
	esac
	echo "$key,$kind,$n,$inst,${matched:-0},$(tail -n 1 "$RAW/load-$key.txt" | tr ' ' ';')" >>"$RAW/installed.csv"
}

# tcp_run KEY: "bits_per_second skb_per_second" of one iperf3 run (TCP_BYTES)
tcp_run() {
	local key=$1 j before after
	before=$(ip netns exec "${NSA[$key]}" cat "/sys/class/net/${IFA[$key]}/statistics/tx_packets")
	j=$(timeout 60 nsenter --net="/run/netns/${NSA[$key]}" iperf3 -c "${ADDR[$key]}" -p $TCP_PORT \
		-n "$TCP_BYTES" -A 0,1 -J 2>/dev/null) || j='{}'
	after=$(ip netns exec "${NSA[$key]}" cat "/sys/class/net/${IFA[$key]}/statistics/tx_packets")
	python3 -c '
import json, sys
try:
    e = json.loads(sys.argv[1])["end"]["sum_received"]
    print("%.0f %.0f" % (e["bits_per_second"], (int(sys.argv[3]) - int(sys.argv[2])) / e["seconds"]))
except Exception:
    print(" ")' "$j" "$before" "$after"
}

# measure_one SEQ ROUND KEY: UDP (base and KEY interleaved in slices), then
# TCP: base, then KEY (the next contender's base, or the round's closing one,
# is KEY's baseline after).
# udp_run KEY SLICES SLICE_MS: "base_pps key_pps", the base pair and KEY's
# interleaved in slices by one ncb_flood
udp_run() {
	local key=$1 udp pb=0 pc=1
	local pairs=("${NSA[base]},${NSB[base]},${ADDR[base]}" "${NSA[$key]},${NSB[$key]},${ADDR[$key]}")
	# which pair gets the first slice: random, so that position cannot bias
	if [ $((RANDOM % 2)) = 1 ]; then
		pairs=("${pairs[1]}" "${pairs[0]}") pb=1 pc=0
	fi
	udp=$(timeout 120 "$BUILD/bench/ncb_flood" --port $UDP_PORT --slices "$2" \
		--slice-ms "$3" --tx-cpu 0 --rx-cpu 1 \
		--pair "${pairs[0]}" --pair "${pairs[1]}") || udp=
	echo "$(grep "^pair=$pb " <<<"$udp" | tr ' ' '\n' | awk -F= '$1 == "rx_pps" { print $2 }')" \
		"$(grep "^pair=$pc " <<<"$udp" | tr ' ' '\n' | awk -F= '$1 == "rx_pps" { print $2 }')"
}

measure_one() {
	local seq=$1 round=$2 key=$3 kind=${3%%-*} n=${3#*-} ub uc tb tc_
	[ "$key" != ctl ] || n=0
	read -r ub uc <<<"$(udp_run "$key" "$UDP_SLICES" "$UDP_SLICE_MS")"
	read -r tb _ <<<"$(tcp_run base)"
	echo "$seq,$round,base,base,0,,,${tb:-}," >>"$RAW/datapath.csv"
	read -r tc_ skb <<<"$(tcp_run "$key")"
	echo "$((seq + 1)),$round,$key,$kind,$n,${ub:-},${uc:-},${tc_:-},${skb:-}" >>"$RAW/datapath.csv"
}

# precision_rounds PHASE: the few contenders the 1 % question is about, UDP
# only, many more times than the main rounds, so that a median can be told
# apart from its neighbours; once before anything is installed (calibration:
# each pair's own difference to the base pair) and once with the contenders
# installed. report.py takes the first out of the second, with bootstrap
# intervals.
PREC_KEYS=(ctl null-0 nc-1 nc-10000)
precision_rounds() {
	local phase=$1 prec=() key round order ub uc n seq
	for key in "${PREC_KEYS[@]}"; do
		[[ " ${CONFIGS[*]} " == *" $key "* ]] && prec+=("$key")
	done
	[ -e "$RAW/datapath-precision.csv" ] ||
		echo "seq,phase,round,config,kind,rules,udp_base_pps,udp_pps" >"$RAW/datapath-precision.csv"
	seq=$(($(wc -l <"$RAW/datapath-precision.csv") - 1))
	for round in $(seq "$PREC_ROUNDS"); do
		mapfile -t order < <(printf '%s\n' "${prec[@]}" | shuf)
		[ $((round % 10)) != 1 ] ||
			log "datapath: precision ($phase) rounds $round-$((round + 9 < PREC_ROUNDS ? round + 9 : PREC_ROUNDS))/$PREC_ROUNDS: ${prec[*]}"
		for key in "${order[@]}"; do
			seq=$((seq + 1))
			read -r ub uc <<<"$(udp_run "$key" "$PREC_SLICES" "$PREC_SLICE_MS")"
			n=${key#*-}
			[ "$key" != ctl ] || n=0
			echo "$seq,$phase,$round,$key,${key%%-*},$n,${ub:-},${uc:-}" >>"$RAW/datapath-precision.csv"
		done
	done
}

# prog_stats: "id:run_time_ns:run_cnt ..." of every TC program of the
# contenders (kernel.bpf_stats_enabled must be on)
prog_stats() {
	bpftool prog show -j | python3 -c '
import json, sys
print(" ".join("%d:%d:%d" % (p["id"], p.get("run_time_ns", 0), p.get("run_cnt", 0))
               for p in json.load(sys.stdin) if p.get("name") in ("nc_tc_egress", "ncb_null")))'
}

# insitu_rounds: the program's own time per packet on real traffic, from the
# kernel's BPF run-time statistics (kernel.bpf_stats_enabled, set for these
# runs only and put back): the empty program against netchaos, each pair
# flooded alone so that the programs that ran are the contender's.
INSITU_KEYS=(null-0 nc-1 nc-10000 nca-1)
insitu_rounds() {
	local old key round before after keys=()
	for key in "${INSITU_KEYS[@]}"; do
		[[ " ${CONFIGS[*]} " == *" $key "* ]] && keys+=("$key")
	done
	[ ${#keys[@]} -gt 0 ] && command -v bpftool >/dev/null || return 0
	old=$(sysctl -n kernel.bpf_stats_enabled) || return 0
	sysctl -qw kernel.bpf_stats_enabled=1 || return 0
	log "datapath: in-situ program time (kernel.bpf_stats_enabled), $INSITU_ROUNDS rounds: ${keys[*]}"
	echo "round,config,kind,rules,ns_per_run,runs,pps" >"$RAW/datapath-insitu.csv"
	for round in $(seq "$INSITU_ROUNDS"); do
		for key in $(printf '%s\n' "${keys[@]}" | shuf); do
			before=$(prog_stats)
			out=$(timeout 60 "$BUILD/bench/ncb_flood" --port $UDP_PORT --slices "$INSITU_SLICES" --slice-ms 100 \
				--tx-cpu 0 --rx-cpu 1 --pair "${NSA[$key]},${NSB[$key]},${ADDR[$key]}") || out=
			after=$(prog_stats)
			python3 - "$before" "$after" "$round,$key,${key%%-*},${key#*-}" \
				"$(tr ' ' '\n' <<<"$out" | awk -F= '$1 == "rx_pps" { print $2 }')" <<'PY' >>"$RAW/datapath-insitu.csv"
import sys
before = {x.split(":")[0]: x.split(":")[1:] for x in sys.argv[1].split()}
t = c = 0
for x in sys.argv[2].split():
    i, rt, rc = x.split(":")
    t0, c0 = before.get(i, ["0", "0"])
    t += int(rt) - int(t0)
    c += int(rc) - int(c0)
if c > 1000:
    print("%s,%.2f,%d,%s" % (sys.argv[3], t / c, c, sys.argv[4] or ""))
PY
		done
	done
	sysctl -qw kernel.bpf_stats_enabled="$old"
}

run_datapath() {
	local round seq=0 key order tb n
	log "datapath: setting up the veth pairs, the agents, tc and iptables contenders"
	setup_datapath
	echo "key,kind,rules,installed,matched_packets,load_info" >"$RAW/installed.csv"
	echo "seq,round,config,kind,rules,udp_base_pps,udp_pps,tcp_bps,tcp_skb_per_s" >"$RAW/datapath.csv"
	for round in $(seq "$ROUNDS"); do
		mapfile -t order < <(printf '%s\n' "${CONFIGS[@]}" | shuf)
		log "datapath: round $round/$ROUNDS: ${order[*]}"
		for key in "${order[@]}"; do
			measure_one $((seq + 1)) "$round" "$key"
			seq=$((seq + 2))
		done
		seq=$((seq + 1))
		read -r tb _ <<<"$(tcp_run base)"
		echo "$seq,$round,base,base,0,,,${tb:-}," >>"$RAW/datapath.csv"
	done
	precision_rounds installed
	insitu_rounds
	for key in "${CONFIGS[@]}"; do
		installed_row "$key"
	done
}

# ---- 2. apply / removal latency ----------------------------------------------
lat_run() { # name runs [ncb_lat options and commands...]
	local name=$1 runs=$2
	shift 2
	log "latency: $name ($runs runs)"
	timeout 600 "$BUILD/bench/ncb_lat" --from-ns "${NSA[lat]}" --to-ns "${NSB[lat]}" \
		--to "${ADDR[lat]}" --port $LAT_PORT --runs "$runs" --interval-us 100 \
		--hold-ms 10 --pause-ms 15 --timeout-ms 2000 --max-seconds 500 "$@" \
		>"$RAW/latency-$name.csv" 2>>"$RAW/latency-$name.err" || log "latency: $name failed (see raw)"
}

# Each variant starts from a known state, whatever the previous one left.
lat_reset() { # [keeper]: no rule, no qdisc, no iptables rule; a keeper rule if asked
	local a=${NSA[lat]}
	chaosctl_k lat clear --all >/dev/null 2>&1 || true
	tc -n "$a" qdisc del dev "${IFA[lat]}" root 2>/dev/null || true
	while nsx "$a" iptables -w -D OUTPUT -p udp --dport $LAT_PORT -j DROP 2>/dev/null; do :; done
	if [ "${1:-}" = keeper ]; then
		# another rule keeps the classifier loaded and attached in the namespace
		chaosctl_k lat drop --netns "$a" --dport $RULE_PORT_BASE --proto tcp --for 30m >/dev/null
	fi
}

lat_tc_tree() {
	tc -n "${NSA[lat]}" qdisc add dev "${IFA[lat]}" root handle 1: htb
	tc -n "${NSA[lat]}" class add dev "${IFA[lat]}" parent 1: classid 1:2 htb rate 100gbit quantum 60000
	tc -n "${NSA[lat]}" qdisc add dev "${IFA[lat]}" parent 1:2 handle 20: pfifo limit 0
}

run_latency() {
	local a dev
	make_pair lat 100
	start_agent lat
	a=${NSA[lat]} dev=${IFA[lat]}
	local ctl=("$BUILD/chaosctl" --socket "${SOCK[lat]}")
	# netchaos, cold: the namespace has no rule yet (program load + attach)
	lat_reset
	lat_run nc-cli-cold "$LAT_RUNS_COLD" -- \
		+apply "${ctl[@]}" drop --netns "$a" --dport $LAT_PORT --proto udp --for 1m \
		+remove "${ctl[@]}" clear "{id}"
	lat_reset
	lat_run nc-socket-cold "$LAT_RUNS_COLD" --sock "${SOCK[lat]}" --rule-netns "$a"
	# netchaos, warm: another rule keeps the programs attached
	lat_reset keeper
	lat_run nc-cli-warm "$LAT_RUNS" -- \
		+apply "${ctl[@]}" drop --netns "$a" --dport $LAT_PORT --proto udp --for 1m \
		+remove "${ctl[@]}" clear "{id}"
	lat_reset keeper
	lat_run nc-socket-warm "$LAT_RUNS" --sock "${SOCK[lat]}" --rule-netns "$a"
	# tc the peers' way: fork tc per change. (a) the tree exists, one filter
	lat_reset
	lat_tc_tree
	lat_run tc-filter "$LAT_RUNS" -- \
		+apply tc -n "$a" filter add dev "$dev" parent 1: protocol ip prio 1 handle 800::100 \
		u32 match ip dport $LAT_PORT 0xffff flowid 1:2 \
		+remove tc -n "$a" filter del dev "$dev" parent 1: protocol ip prio 1 handle 800::100 u32
	# (b) the whole tree per fault, removed with the root qdisc (Pumba, ChaosBlade)
	lat_reset
	lat_run tc-tree "$LAT_RUNS" -- \
		+apply tc -n "$a" qdisc add dev "$dev" root handle 1: htb \
		+apply tc -n "$a" class add dev "$dev" parent 1: classid 1:2 htb rate 100gbit quantum 60000 \
		+apply tc -n "$a" qdisc add dev "$dev" parent 1:2 handle 20: pfifo limit 0 \
		+apply tc -n "$a" filter add dev "$dev" parent 1: protocol ip prio 1 u32 \
		match ip dport $LAT_PORT 0xffff flowid 1:2 \
		+remove tc -n "$a" qdisc del dev "$dev" root
	# iptables through nsenter, one rule (ChaosBlade, Chaos Mesh style)
	lat_reset
	lat_run iptables "$LAT_RUNS" -- \
		+apply nsenter --net="/run/netns/$a" iptables -w -I OUTPUT -p udp --dport $LAT_PORT -j DROP \
		+remove nsenter --net="/run/netns/$a" iptables -w -D OUTPUT -p udp --dport $LAT_PORT -j DROP
	lat_reset
}

# ---- 3. per-packet classifier cost -------------------------------------------
run_classifier() {
	log "classifier: BPF_PROG_TEST_RUN, repeat $CLS_REPEAT x $CLS_ROUNDS rounds"
	"$BUILD/bench/bench_classifier" --rules 1,10000 --repeat "$CLS_REPEAT" \
		--rounds "$CLS_ROUNDS" >"$RAW/classifier.csv"
}

# ---- 4. agent footprint --------------------------------------------------------
cpu_window() { # pid seconds -> "cpu_percent"
	local pid=$1 secs=$2 t0 t1 c0 c1
	c0=$(proc_cpu_ns "$pid")
	t0=$(date +%s.%N)
	sleep "$secs"
	c1=$(proc_cpu_ns "$pid")
	t1=$(date +%s.%N)
	awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" \
		'BEGIN { printf "%.3f", 100 * (b - a) / 1e9 / (t1 - t0) }'
}

bpf_map_kb() { # pid: kernel memory (memlock) of the BPF maps the process holds
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '$1 == "map_id:" { id = $2 } $1 == "memlock:" { m = $2 }
			END { if (id != "") print id, m }' "$f" 2>/dev/null
	done | sort -u -k1,1 | awk '{ s += $2 } END { printf "%d", s / 1024 }'
}

foot_row() { # state pid cpu extra
	echo "$1,$(proc_kb "$2" VmRSS),$(proc_kb "$2" VmHWM),$3,$(bpf_map_kb "$2"),$4" >>"$RAW/footprint.csv"
}

run_footprint() {
	local pid key=foot t0 t1 c0 c1 res cpu
	echo "state,rss_kb,hwm_kb,cpu_percent,bpf_maps_kb,extra" >"$RAW/footprint.csv"
	make_pair foot 101
	start_agent foot
	pid=${AGENT[foot]}
	sleep 0.5
	log "footprint: idle agent, no rules ($IDLE_SECS s)"
	foot_row "idle (0 rules)" "$pid" "$(cpu_window "$pid" "$IDLE_SECS")" ""
	log "footprint: loading 10000 rules"
	"$BUILD/bench/ncb_client" load --sock "${SOCK[$key]}" --netns "${NSA[$key]}" --count 10000 \
		--port-base $RULE_PORT_BASE >"$RAW/load-foot.txt"
	log "footprint: idle agent, 10000 rules ($IDLE_SECS s)"
	foot_row "idle (10000 rules)" "$pid" "$(cpu_window "$pid" "$IDLE_SECS")" \
		"load: $(cat "$RAW/load-foot.txt")"
	log "footprint: $CLIENTS clients doing add/clear for $CLIENT_SECS s (10000 rules)"
	c0=$(proc_cpu_ns "$pid")
	t0=$(date +%s.%N)
	res=$(timeout $((${CLIENT_SECS%.*} + 60)) "$BUILD/bench/ncb_client" clients --sock "${SOCK[$key]}" \
		--netns "${NSA[$key]}" --clients "$CLIENTS" --seconds "$CLIENT_SECS" --port-base 40000) ||
		log "footprint: some client requests failed: $res"
	c1=$(proc_cpu_ns "$pid")
	t1=$(date +%s.%N)
	cpu=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" \
		'BEGIN { printf "%.3f", 100 * (b - a) / 1e9 / (t1 - t0) }')
	foot_row "serving $CLIENTS clients (10000 rules)" "$pid" "$cpu" "$res"
	log "footprint: idle again ($IDLE_SECS s)"
	foot_row "idle after the clients (10000 rules)" "$pid" "$(cpu_window "$pid" "$IDLE_SECS")" ""
	# list with 10,000 rules: on the socket, and what chaosctl makes of it
	log "footprint: one list of 10000 rules"
	c0=$(proc_cpu_ns "$pid")
	"$BUILD/bench/ncb_client" list --sock "${SOCK[$key]}" >"$RAW/footprint-list.txt"
	c1=$(proc_cpu_ns "$pid")
	foot_row "after one list request (10000 rules)" "$pid" "" \
		"list: $(head -n 1 "$RAW/footprint-list.txt") agent_cpu_ms=$(((c1 - c0) / 1000000))"
	if chaosctl_k foot list >/dev/null 2>"$WORK/list.err"; then
		echo "chaosctl_list=ok" >>"$RAW/footprint-list.txt"
	else
		echo "chaosctl_list=failed: $(head -n 1 "$WORK/list.err")" >>"$RAW/footprint-list.txt"
	fi
}

# ---- 5. the VM: netem delay accuracy, unmatched throughput ---------------------
run_vm() {
	local rc=0
	[ -x "$ROOT/tests/vm/run.sh" ] || { log "vm: tests/vm/run.sh missing: skipped"; return 0; }
	command -v qemu-system-x86_64 >/dev/null || { log "vm: no qemu: skipped"; return 0; }
	log "vm: booting the netem kernel under qemu (TCG)"
	(cd "$ROOT" && NC_VM_TIMEOUT=$VM_TIMEOUT tests/vm/run.sh --share "$RAW" -- \
		bench/vm_netem.sh --mode "$mode" --build "$BUILD" --out "$RAW") \
		>"$RAW/vm.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || log "vm: the VM run failed (status $rc; $RAW/vm.log)"
}

# ---- main -----------------------------------------------------------------------
env_info
log "mode $mode; raw data in $RAW"
for section in datapath latency classifier footprint vm; do
	if want $section; then
		"run_$section"
	fi
done

echo "total_seconds=$(($(date +%s) - T_START))" >>"$RAW/env.txt"
python3 "$here/report.py" --raw "$RAW" --out "$RESULTS" --plot-data "$RAW/overhead.dat"
if [ -s "$RAW/overhead.dat" ]; then
	if command -v gnuplot >/dev/null &&
		gnuplot -e "datafile='$RAW/overhead.dat'; outfile='$OUT/overhead.png'" "$here/overhead.gp"; then
		cp "$OUT/overhead.png" "$RAW/overhead.png"
		printf '\n![overhead vs rules](overhead.png)\n\nPlot: %s\n' "$OUT/overhead.png" >>"$RESULTS"
	else
		log "no plot: gnuplot missing or failed"
	fi
fi
ln -sfn "$(basename "$RESULTS")" "$OUT/results-latest.md"
cat "$RESULTS"
log "done in $(($(date +%s) - T_START)) s: $RESULTS"
