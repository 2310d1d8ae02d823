#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run a host command inside a stock Debian 6.1 kernel (which has sch_netem and
# friends as modules) under qemu (TCG, no KVM needed). The guest sees the host's
# / read-only through 9p with a throw-away tmpfs overlay on top, so host-built
# binaries run unchanged, in the current directory. The command's stdout and
# stderr are streamed to ours, and we exit with its exit status.
#
# usage: run.sh [options] -- CMD [ARGS...]
#   --mem MB         guest memory (default 1024, env NC_VM_MEM)
#   --timeout S      kill the VM after S seconds (default 300, env NC_VM_TIMEOUT)
#   --share DIR      make host DIR writable in the guest at the same path;
#                    repeatable (everything else the guest writes is discarded)
#   --env NAME[=VAL] pass an environment variable (the guest gets a clean
#                    environment: PATH, HOME, TERM, LANG, NC_VM=1, and our
#                    NC_* variables except NC_VM_*)
#   --console FILE   keep the guest's serial console log in FILE
#   -v               report kernel and timings on stderr
# exit status: CMD's; 124 if the timeout hit, 125 if the VM failed to boot or
# to report an exit status (the console log's tail is shown on stderr).
# env: NC_VM_CACHE (default <repo>/build/vm), NC_VM_KVER (pin a kernel),
#      NC_VM_QEMU (qemu binary), NC_VM_QEMU_ARGS (extra qemu arguments),
#      NC_VM_APPEND (extra kernel command line).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mem=${NC_VM_MEM:-1024}
timeout=${NC_VM_TIMEOUT:-300}
qemu=${NC_VM_QEMU:-qemu-system-x86_64}
console_keep=
verbose=0
shares=()
envs=()

usage() { awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; }
die() { echo "run.sh: $*" >&2; exit 125; }
vlog() { [ "$verbose" = 0 ] || echo "run.sh: $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--mem) [ $# -ge 2 ] || die "--mem needs a value"; mem=$2; shift ;;
	--timeout) [ $# -ge 2 ] || die "--timeout needs a value"; timeout=$2; shift ;;
	--share) [ $# -ge 2 ] || die "--share needs a value"; shares+=("$2"); shift ;;
	--env) [ $# -ge 2 ] || die "--env needs a value"; envs+=("$2"); shift ;;
	--console) [ $# -ge 2 ] || die "--console needs a value"; console_keep=$2; shift ;;
	-v) verbose=1 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) die "unknown option: $1 (the command goes after --)" ;;
	esac
	shift
done
[ $# -gt 0 ] || { usage >&2; exit 125; }
[[ $mem =~ ^[0-9]+$ ]] || die "--mem: not a number: $mem"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout: not a number: $timeout"
command -v "$qemu" >/dev/null || die "$qemu not found (apt-get install qemu-system-x86)"

# The guest sees the host's / except under these (its own mounts hide them).
hidden() { case $1/ in /run/* | /proc/* | /sys/* | /dev/*) return 0 ;; esac; return 1; }
hidden "$(pwd -P)" && die "the current directory $(pwd -P) is not visible in the guest"

t0=$(date +%s.%N)
kdir=$("$here/fetch-kernel.sh") || die "could not fetch the kernel"
initrd=$("$here/mkinitramfs.sh" "$kdir") || die "could not build the initramfs"
kvers=("$kdir"/lib/modules/*/modules.dep)
moddir=$(dirname "${kvers[0]}")
kver=${moddir##*/}
hidden "$moddir" && die "the kernel cache $kdir is not visible in the guest (NC_VM_CACHE)"
kernel=$kdir/boot/vmlinux-$kver # uncompressed, PVH entry: boots ~4 s faster
[ -f "$kernel" ] || kernel=$kdir/boot/vmlinuz-$kver
[ -f "$kernel" ] || die "no kernel image $kernel"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ncvm.XXXXXX")
runner_pid=
tail_pids=()
# shellcheck disable=SC2317 # called through trap
cleanup() {
	local rc=$? p
	trap - EXIT INT TERM HUP
	if [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2>/dev/null; then
		kill "$runner_pid" 2>/dev/null || true
		wait "$runner_pid" 2>/dev/null || true
	fi
	# `timeout` forwards the signal, but make sure no qemu of ours survives.
	if [ -s "$tmp/qemu.pid" ]; then
		p=$(cat "$tmp/qemu.pid" 2>/dev/null || true)
		if [ -n "$p" ] && grep -qF "$tmp" "/proc/$p/cmdline" 2>/dev/null; then
			kill -9 "$p" 2>/dev/null || true
		fi
	fi
	for p in "${tail_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

res=$tmp/res
mkdir -m 0755 "$res"
: >"$res/stdout"
: >"$res/stderr"

# Single-quoted for busybox ash (config.sh is read by the guest's init).
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

{
	echo "NCVM_MODDIR=$(shq "$moddir")"
	echo "NCVM_SHELL=$(shq "$(command -v bash)")"
	echo "NCVM_NSHARES=${#shares[@]}"
} >"$res/config.sh"

qemu_fsdev() { # id path mount_tag [readonly]
	local opts="local,id=$1,path=${2//,/,,},security_model=none,multidevs=remap"
	[ -z "${4:-}" ] || opts+=",readonly=on"
	qargs+=(-fsdev "$opts" -device "virtio-9p-pci,fsdev=$1,mount_tag=$3")
}

qargs=(
	-nographic -nodefaults -no-user-config -no-reboot
	-machine pc -accel tcg -cpu max -smp 1 -m "$mem"
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 oops=panic quiet loglevel=4 mitigations=off${NC_VM_APPEND:+ $NC_VM_APPEND}"
	-serial "file:$tmp/console.log" -monitor none
	-pidfile "$tmp/qemu.pid"
)
# shellcheck disable=SC2206 # extra qemu arguments are split on blanks on purpose
[ -z "${NC_VM_QEMU_ARGS:-}" ] || qargs+=($NC_VM_QEMU_ARGS)
qemu_fsdev root / hostroot ro
qemu_fsdev res "$res" ncres
i=0
for s in "${shares[@]}"; do
	[ -d "$s" ] || die "--share $s: not a directory"
	s=$(cd "$s" && pwd -P)
	echo "NCVM_SHARE_$i=$(shq "$s")" >>"$res/config.sh"
	qemu_fsdev "share$i" "$s" "ncshare$i"
	i=$((i + 1))
done

{
	echo '#!/bin/bash'
	echo '# generated by tests/vm/run.sh'
	for v in "${!NC_@}"; do
		case $v in NC_VM_*) continue ;; esac
		printf 'export %s=%q\n' "$v" "${!v}"
	done
	for e in "${envs[@]}"; do
		name=${e%%=*}
		[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "--env $e: bad variable name"
		if [[ $e == *=* ]]; then
			printf 'export %s=%q\n' "$name" "${e#*=}"
		elif [ -n "${!name+x}" ]; then
			printf 'export %s=%q\n' "$name" "${!name}"
		fi
	done
	printf 'cd -- %q || exit 125\n' "$(pwd)"
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$res/cmd.sh"

vlog "kernel $kver, initramfs $(basename "$initrd"), ${mem} MB, timeout ${timeout}s"
t1=$(date +%s.%N)
timeout -k 5 "$timeout" "$qemu" "${qargs[@]}" </dev/null >"$tmp/qemu.out" 2>&1 &
runner_pid=$!
tail -n +1 -s 0.2 -f --pid="$runner_pid" "$res/stdout" &
tail_pids+=($!)
tail -n +1 -s 0.2 -f --pid="$runner_pid" "$res/stderr" >&2 &
tail_pids+=($!)

qrc=0
wait "$runner_pid" || qrc=$?
runner_pid=
for p in "${tail_pids[@]}"; do
	wait "$p" 2>/dev/null || true
done
tail_pids=()
t2=$(date +%s.%N)
[ -z "$console_keep" ] || cp "$tmp/console.log" "$console_keep" 2>/dev/null || true

show_console() {
	echo "run.sh: --- last lines of the guest console ---" >&2
	tail -n 25 "$tmp/console.log" 2>/dev/null |
		sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' >&2 || true
	if [ -s "$tmp/qemu.out" ]; then
		echo "run.sh: --- qemu said ---" >&2
		tail -n 10 "$tmp/qemu.out" >&2
	fi
}

vlog "$(awk -v a="$t0" -v b="$t1" -v c="$t2" \
	'BEGIN { printf "setup %.2fs, VM boot+run %.2fs", b - a, c - b }')"
if [ -s "$res/rc" ]; then
	rc=$(cat "$res/rc")
	[[ $rc =~ ^[0-9]+$ ]] || die "bad exit status from the guest: $rc"
	exit "$rc"
fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "run.sh: timeout: the VM ran for more than ${timeout}s, killed" >&2
	show_console
	exit 124
fi
echo "run.sh: the VM stopped (qemu exit status $qrc) without reporting the command's exit status" >&2
show_console
exit 125
