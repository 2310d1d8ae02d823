#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Fetch a stock Debian 12 kernel (generic linux-image-6.1.0-*-amd64, which has
# sch_netem & co. as modules, 9p and BTF) for the VM test harness, without
# installing it: `apt-get download` + `dpkg -x` into the cache directory, then
# build modules.dep for it. Idempotent: a kernel already unpacked is reused.
#
# usage: fetch-kernel.sh [--refresh]
#   --refresh        ask apt-cache for the newest kernel even if one is cached
# env:
#   NC_VM_CACHE      cache directory (default: <repo>/build/vm)
#   NC_VM_KVER       pin a kernel release, e.g. 6.1.0-56-amd64
#   NC_VM_KSERIES    which Debian 12 kernel series: 6.1 (default, the stock
#                    bookworm kernel) or 6.12 (bookworm's newer one: tcx)
# stdout: the directory the package was unpacked into (boot/, lib/modules/)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${NC_VM_CACHE:-$here/../../build/vm}
refresh=0

die() { echo "fetch-kernel: $*" >&2; exit 1; }
log() { echo "fetch-kernel: $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--refresh) refresh=1 ;;
	-h | --help) awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) die "unknown argument: $1" ;;
	esac
	shift
done

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

series=${NC_VM_KSERIES:-6.1}
case $series in
6.1) series_re='6\.1\.0-[0-9]+-amd64' ;;
6.12) series_re='6\.12\.[0-9]+\+deb12-amd64' ;;
*) die "NC_VM_KSERIES=$series: 6.1 or 6.12" ;;
esac

# Newest unpacked kernel of the series in the cache, if any.
cached_kver() {
	local d best=
	for d in "$cache"/linux-*/.complete; do
		[[ ${d%/.complete} =~ /linux-${series_re}$ ]] || continue
		[ -e "$d" ] || continue
		d=${d%/.complete}
		best=$(printf '%s\n%s\n' "$best" "${d##*/linux-}" | sed '/^$/d' | sort -V | tail -n1)
	done
	printf '%s' "$best"
}

# Newest generic (non-cloud, non-rt) kernel image of the series apt knows
# about and can fetch.
apt_kver() {
	local list pkg pol
	list=$(apt-cache pkgnames "linux-image-$series." 2>/dev/null |
		grep -E "^linux-image-${series_re}\$" | sort -rV) || return 0
	for pkg in $list; do
		pol=$(apt-cache policy "$pkg" 2>/dev/null) || continue
		if [[ $pol == *"Candidate: "[0-9]* ]]; then
			printf '%s\n' "${pkg#linux-image-}"
			return 0
		fi
	done
}

exec 9>"$cache/.fetch.lock"
flock 9

kver=${NC_VM_KVER:-}
if [ -z "$kver" ] && [ "$refresh" = 0 ]; then
	kver=$(cached_kver)
fi
if [ -z "$kver" ]; then
	kver=$(apt_kver)
	[ -n "$kver" ] || die "apt-cache knows no generic linux-image of the $series series (run apt-get update?)"
fi
case $kver in
*cloud* | *-rt-*) die "$kver: need the generic amd64 flavour (cloud lacks 9p)" ;;
esac

# Booting the bzImage costs ~4 s of TCG time in its xz decompressor; qemu can
# boot the uncompressed ELF directly through its PVH entry point instead.
# Writes boot/vmlinux-KVER when the kernel has one; run.sh falls back otherwise.
extract_vmlinux() {
	local bz=$1/boot/vmlinuz-$kver out=$1/boot/vmlinux-$kver magic tool off
	[ -e "$out" ] && return 0
	command -v readelf >/dev/null 2>&1 || return 0
	for magic in '\xFD7zXZ\x00:xz -dc --single-stream' '\x28\xB5\x2F\xFD:zstd -dcq' \
		'\x1F\x8B\x08:gzip -dcq'; do
		tool=${magic#*:}
		command -v "${tool%% *}" >/dev/null 2>&1 || continue
		off=$(LC_ALL=C grep -obUaP "${magic%%:*}" "$bz" | head -n1 | cut -d: -f1) || true
		[ -n "$off" ] || continue
		# gzip and zstd complain about the bytes after the stream; the ELF check decides.
		tail -c +$((off + 1)) "$bz" | $tool >"$out.tmp" 2>/dev/null || true
		if [ "$(head -c4 "$out.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] &&
			readelf -n "$out.tmp" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
			mv "$out.tmp" "$out"
			return 0
		fi
	done
	rm -f "$out.tmp"
}

dest=$cache/linux-$kver
if [ -e "$dest/.complete" ]; then
	extract_vmlinux "$dest"
	printf '%s\n' "$dest"
	exit 0
fi

pkg=linux-image-$kver
log "downloading $pkg"
tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt drops privileges to _apt for downloads; let it write there.
chmod 755 "$tmp"
chown _apt "$tmp" 2>/dev/null || true
(cd "$tmp" && apt-get -q download "$pkg" >&2) || die "apt-get download $pkg failed"
deb=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
[ -n "$deb" ] || die "apt-get download produced no .deb for $pkg"

log "unpacking $(basename "$deb")"
mkdir "$tmp/root"
dpkg -x "$deb" "$tmp/root"
[ -f "$tmp/root/boot/vmlinuz-$kver" ] || die "no boot/vmlinuz-$kver in $deb"
[ -d "$tmp/root/lib/modules/$kver/kernel" ] || die "no lib/modules/$kver in $deb"

log "depmod $kver"
busybox depmod -b "$tmp/root" "$kver" ||
	die "busybox depmod failed"
# kmod's depmod adds the binary indexes its modprobe needs; the guest runs the
# host's userland, so `modprobe` typed in the guest may well be kmod's.
if command -v depmod >/dev/null 2>&1 && depmod -V 2>/dev/null | grep -q kmod; then
	depmod -b "$tmp/root" "$kver" || die "depmod (kmod) failed"
fi
[ -s "$tmp/root/lib/modules/$kver/modules.dep" ] || die "modules.dep is empty"
grep -q 'sch_netem\.ko' "$tmp/root/lib/modules/$kver/modules.dep" ||
	die "$pkg has no sch_netem module"

extract_vmlinux "$tmp/root"
touch "$tmp/root/.complete"
rm -rf "$dest"
mv "$tmp/root" "$dest"
log "kernel $kver ready in $dest"
printf '%s\n' "$dest"
