#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the netchaos test VM (busybox ash, not bash; see mkinitramfs.sh).
# Stage 1 (in the initramfs): load virtio/9p/overlay, mount the host's / read-only
# over 9p with a tmpfs overlay on top, mount the result share (tag "ncres")
# and switch_root into it. Stage 2 (PID 1 in the new root): mount the API
# filesystems, make the unpacked Debian modules the guest's /lib/modules,
# run the command that run.sh wrote to the result share, store its exit status
# there and power off. Anything going wrong ends in a poweroff; run.sh then
# reports a boot failure (no exit status file) and shows the console log.
# shellcheck shell=sh disable=SC3036,SC3045

BB=/bin/busybox
NCVM=/run/ncvm

say() { echo "ncvm-init: $*"; }
die() {
	echo "ncvm-init: FATAL: $*"
	$BB sync
	$BB poweroff -f
	exit 1
}

stage1() {
	$BB mount -t devtmpfs dev /dev 2>/dev/null
	exec </dev/console >/dev/console 2>&1
	$BB mount -t proc proc /proc
	$BB mount -t sysfs sys /sys

	while read -r m; do
		[ -n "$m" ] || continue
		$BB insmod "/lib/modules/$m" || die "insmod $m failed"
	done </modules.load

	$BB mkdir -p /lower /rw /newroot
	$BB mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 \
		hostroot /lower || die "cannot mount the host root over 9p"
	$BB mount -t tmpfs -o mode=0755 rw /rw
	$BB mkdir -p /rw/upper /rw/work
	$BB mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \
		overlay /newroot || die "cannot mount the overlay root"

	$BB mount -t tmpfs -o mode=0755,nosuid,nodev run /newroot/run ||
		die "cannot mount /run"
	$BB mkdir -p /newroot$NCVM/res /newroot$NCVM/bin
	$BB mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=512000 \
		ncres /newroot$NCVM/res || die "cannot mount the result share"
	{ $BB cp /bin/busybox /newroot$NCVM/bin/busybox && $BB cp /init /newroot$NCVM/init; } ||
		die "cannot copy busybox into the new root"
	$BB umount /proc /sys /dev 2>/dev/null
	# shellcheck disable=SC2093 # exec fails only if switch_root is missing
	exec $BB switch_root /newroot $NCVM/bin/busybox sh $NCVM/init stage2
	die "switch_root failed"
}

stage2() {
	BB=$NCVM/bin/busybox
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$NCVM/bin
	export HOME=/root TERM=dumb LANG=C.UTF-8 NC_VM=1
	$BB mount -t proc -o nosuid,nodev,noexec proc /proc
	$BB mount -t sysfs -o nosuid,nodev,noexec sys /sys
	$BB mount -t devtmpfs -o nosuid,mode=0755 dev /dev
	exec </dev/null >/dev/console 2>&1
	$BB mkdir -p /dev/pts /dev/shm
	$BB mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=0666 devpts /dev/pts
	$BB mount -t tmpfs -o nosuid,nodev shm /dev/shm
	# /tmp stays the overlay's: host files there (scripts, mktemp dirs of the
	# caller) are visible, and what the guest writes lands in the tmpfs upper.
	$BB mount -t bpf -o mode=0700 bpf /sys/fs/bpf || die "cannot mount bpffs"
	$BB mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || die "cannot mount cgroup2"
	$BB mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	$BB mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	# So that `ip netns add`'s bind mounts and friends behave as on a systemd host.
	$BB mount --make-rshared /

	# The host userland plus busybox applets for tools the host lacks (ping...).
	$BB --install -s $NCVM/bin 2>/dev/null
	$BB rm -f $NCVM/bin/init $NCVM/bin/linuxrc

	# shellcheck source=/dev/null
	. $NCVM/res/config.sh || die "no config.sh in the result share"

	kver=$($BB uname -r)
	[ -d "$NCVM_MODDIR" ] || die "module tree $NCVM_MODDIR is not visible in the guest"
	$BB mkdir -p "/lib/modules/$kver" || die "cannot create /lib/modules/$kver"
	$BB mount --bind "$NCVM_MODDIR" "/lib/modules/$kver" || die "cannot bind the module tree"
	# Kernel autoloading (veth, netem, ifb...) runs kernel.modprobe. Prefer the
	# host's kmod (reads the binary indexes fetch-kernel.sh made, and the host's
	# modprobe.d, so it behaves like `modprobe` typed in the guest and like a
	# Debian host: e.g. ifb gets numifbs=0); else busybox's (text modules.dep).
	$BB ln -sf busybox $NCVM/bin/modprobe
	modprobe=$NCVM/bin/modprobe
	if [ -e "$NCVM_MODDIR/modules.dep.bin" ] &&
		/sbin/modprobe --version 2>/dev/null | $BB grep -q kmod; then
		modprobe=/sbin/modprobe
	fi
	echo "$modprobe" >/proc/sys/kernel/modprobe

	i=0
	while [ "$i" -lt "${NCVM_NSHARES:-0}" ]; do
		eval "dir=\$NCVM_SHARE_$i"
		# shellcheck disable=SC2154
		if ! $BB mkdir -p "$dir" ||
			! $BB mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=512000 \
				"ncshare$i" "$dir"; then
			die "cannot mount share $i at $dir"
		fi
		i=$((i + 1))
	done

	$BB hostname ncvm
	$BB ip link set lo up

	say "running command"
	cd / || die "no /"
	"$NCVM_SHELL" $NCVM/res/cmd.sh </dev/null >>$NCVM/res/stdout 2>>$NCVM/res/stderr
	rc=$?
	echo "$rc" >$NCVM/res/rc.tmp && $BB mv $NCVM/res/rc.tmp $NCVM/res/rc
	say "command exited with $rc"
	$BB sync
	$BB poweroff -f
}

case ${1:-} in
stage2) stage2 ;;
*) stage1 ;;
esac
die "init fell through"
