#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the tiny initramfs of the netchaos test VM: the host's static busybox,
# tests/vm/init.sh as /init, and the virtio_pci, 9pnet_virtio, 9p and overlay
# modules (with their dependencies, in load order) of a kernel unpacked by
# fetch-kernel.sh. Cached: rebuilt only when an input is newer than the output.
#
# usage: mkinitramfs.sh KERNEL_DIR [OUTPUT]
#   KERNEL_DIR   directory printed by fetch-kernel.sh
#   OUTPUT       default: KERNEL_DIR/../initramfs-<kernel release>.cpio
# stdout: the path of the initramfs
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "mkinitramfs: $*" >&2; exit 1; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	die "usage: mkinitramfs.sh KERNEL_DIR [OUTPUT]"
fi
kdir=$(cd "$1" && pwd) || die "no such directory: $1"
kvers=("$kdir"/lib/modules/*/modules.dep)
[ -e "${kvers[0]}" ] || die "$kdir has no lib/modules/*/modules.dep (run fetch-kernel.sh)"
[ ${#kvers[@]} -eq 1 ] || die "$kdir holds more than one kernel release"
moddir=$(dirname "${kvers[0]}")
kver=${moddir##*/}
out=${2:-$(dirname "$kdir")/initramfs-$kver.cpio}

busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
busybox=$(readlink -f "$busybox")
if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
	# `file` may be missing; ldd says "not a dynamic executable" for static ones.
	if ldd "$busybox" >/dev/null 2>&1; then
		die "$busybox is not statically linked (apt-get install busybox-static)"
	fi
fi

inputs=("$here/init.sh" "$here/mkinitramfs.sh" "$busybox" "$moddir/modules.dep")
fresh=1
[ -s "$out" ] || fresh=0
for f in "${inputs[@]}"; do
	[ "$fresh" = 1 ] && [ "$out" -nt "$f" ] || fresh=0
done
if [ "$fresh" = 1 ]; then
	printf '%s\n' "$out"
	exit 0
fi

# module name -> path relative to $moddir, and its direct dependencies
declare -A path deps
while IFS= read -r line; do
	p=${line%%:*}
	n=${p##*/}
	n=${n%.ko*}
	n=${n//-/_}
	path[$n]=$p
	deps[$n]=${line#*:}
done <"$moddir/modules.dep"

declare -A done_mod
order=()
add() {
	local n=$1 d dn
	[ -z "${done_mod[$n]:-}" ] || return 0
	[ -n "${path[$n]:-}" ] || {
		grep -qE "/$n\.ko" "$moddir/modules.builtin" 2>/dev/null && return 0
		die "module $n not found in $moddir/modules.dep"
	}
	done_mod[$n]=1
	for d in ${deps[$n]}; do
		dn=${d##*/}
		dn=${dn%.ko*}
		add "${dn//-/_}"
	done
	order+=("${path[$n]}")
}
for m in virtio_pci 9pnet_virtio 9p overlay; do
	add "$m"
done

stage=$(mktemp -d)
trap 'rm -rf "$stage" "${tmpout:-}"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,lib/modules}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 0755 "$here/init.sh" "$stage/init"
# Newer Debian kernels (6.12) ship xz-compressed modules: busybox's insmod
# wants them plain, so those are unpacked here.
for p in "${order[@]}"; do
	mkdir -p "$stage/lib/modules/$(dirname "$p")"
	case $p in
	*.ko) cp "$moddir/$p" "$stage/lib/modules/$p" ;;
	*.ko.xz)
		xz -dc "$moddir/$p" >"$stage/lib/modules/${p%.xz}" || die "cannot unpack $p"
		p=${p%.xz}
		;;
	*) die "$p: only plain and xz-compressed modules are supported" ;;
	esac
	printf '%s\n' "$p" >>"$stage/modules.load"
done
# init reopens its stdio on /dev/console after mounting devtmpfs, but the
# kernel wants the node before that, for init's first messages.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

tmpout=$(mktemp "$out.XXXXXX")
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$tmpout" ||
	die "cpio failed"
chmod 644 "$tmpout"
mv -f "$tmpout" "$out"
tmpout=
printf '%s\n' "$out"
