#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Self-test of the VM harness, in TAP: boots the Debian kernel with run.sh and
# checks inside it the kernel release, BTF, bpffs, cgroup2, module autoloading,
# netem on lo and on a veth between two `ip netns`, ifb/clsact, and that a
# libbpf-linked host binary (bpftool) runs; then checks run.sh itself (stdout and
# stderr kept apart, exit status, timeout). Reports each VM run's wall time.
#
# usage: selftest.sh            (host; exit status 0 iff every test passed)
#        selftest.sh --guest KVER CWD MARKER [PROBE]   (what run.sh runs in the VM)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { # description command...
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$d"
	else
		not_ok "$d"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

ping_log=/dev/null
# ping COUNT TARGET [nsenter args...]: average RTT in ms of COUNT replies, or "".
avg_rtt() {
	local count=$1 target=$2 out
	shift 2
	out=$("$@" ping -c "$count" -i 0.2 -W 2 "$target" 2>&1) || true
	printf '%s\n' "$out" >"$ping_log"
	printf '%s\n' "$out" | awk -v want="$count" '
		match($0, /time=[0-9.]+/) { s += substr($0, RSTART + 5, RLENGTH - 5); k++ }
		END { if (k == want) printf "%.1f\n", s / k }'
}

show_ping() { sed 's/^/#   /' "$ping_log"; }

within() { # value lo hi
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'
}

guest() {
	local kver=$1 cwd=$2 marker=$3 probe=${4:-} rtt m
	# The guest's own TAP lines; the host numbers and counts them.
	n=0
	ping_log=$(mktemp)

	check "kernel release is the Debian kernel $kver" test "$(uname -r)" = "$kver"
	check "cwd is the host's ($cwd)" test "$(pwd)" = "$cwd"
	check "/sys/kernel/btf/vmlinux present" test -s /sys/kernel/btf/vmlinux
	check "bpffs mounted at /sys/fs/bpf" test "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs
	check "cgroup2 mounted at /sys/fs/cgroup" test "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs
	check "the repo is writable through the overlay" touch "$cwd/$marker"

	# netem on lo delays both directions: ~200 ms RTT. This also autoloads sch_netem.
	if tc qdisc add dev lo root netem delay 100ms; then
		ok "tc qdisc add dev lo root netem delay 100ms"
		rtt=$(avg_rtt 3 127.0.0.1)
		if within "$rtt" 190 220; then ok "ping RTT over lo with netem: $rtt ms (~200)"
		else not_ok "ping RTT over lo with netem: '${rtt}' ms, want 190..220"; show_ping; fi
		check "netem qdisc deleted from lo" tc qdisc del dev lo root
		rtt=$(avg_rtt 3 127.0.0.1)
		if within "$rtt" 0 20; then ok "ping RTT over lo without netem: $rtt ms"
		else not_ok "ping RTT over lo without netem: '${rtt}' ms, want < 20"; show_ping; fi
	else
		not_ok "tc qdisc add dev lo root netem delay 100ms"
	fi

	# veth (autoloaded) between two named netns, netem on one end only.
	if ip netns add ncA && ip netns add ncB &&
		ip link add ncva netns ncA type veth peer name ncvb netns ncB &&
		ip -n ncA addr add 10.231.0.1/24 dev ncva && ip -n ncA link set ncva up &&
		ip -n ncB addr add 10.231.0.2/24 dev ncvb && ip -n ncB link set ncvb up; then
		ok "ip netns add + veth pair between two namespaces"
		avg_rtt 1 10.231.0.2 nsenter --net=/run/netns/ncA >/dev/null # ARP warm-up
		check "netem delay 100ms on the veth" \
			ip netns exec ncA tc qdisc add dev ncva root netem delay 100ms
		rtt=$(avg_rtt 3 10.231.0.2 nsenter --net=/run/netns/ncA)
		if within "$rtt" 90 110; then ok "ping RTT over veth with netem: $rtt ms (100 +-10%)"
		else not_ok "ping RTT over veth with netem: '${rtt}' ms, want 90..110"; show_ping; fi
	else
		not_ok "ip netns add + veth pair between two namespaces"
	fi

	check "ifb device can be created (ifb autoload)" ip link add ncifb0 type ifb
	check "clsact qdisc (sch_ingress)" tc qdisc add dev lo clsact
	for m in sch_netem ifb veth sch_htb sch_tbf cls_bpf act_mirred sch_ingress; do
		check "modprobe $m" modprobe "$m"
	done
	check "htb and tbf qdiscs" sh -c 'tc qdisc add dev ncifb0 root handle 1: htb &&
		tc class add dev ncifb0 parent 1: classid 1:1 htb rate 10mbit &&
		tc qdisc add dev ncifb0 parent 1:1 handle 2: tbf rate 1mbit burst 10k latency 50ms'
	check "mirred redirect to ifb" sh -c 'ip link set ncifb0 up &&
		tc filter add dev lo ingress protocol all prio 1 u32 match u32 0 0 \
			action mirred egress redirect dev ncifb0'
	check "bpftool (libbpf-linked host binary) lists programs" bpftool prog list
	check "bpftool sees BTF" sh -c 'bpftool btf list | grep -q vmlinux'
	if [ -n "$probe" ]; then
		check "host program linked to libbpf.so loads a sched_cls program" "$probe"
	else
		ok "host program linked to libbpf.so # SKIP no cc or libbpf-dev on the host"
	fi
	return 0
}

if [ "${1:-}" = --guest ]; then
	shift
	guest "$@"
	exit 0
fi

# ---- host side ----
cd "$here/../.."
repo=$(pwd)
kdir=$("$here/fetch-kernel.sh")
kvers=("$kdir"/lib/modules/*/modules.dep)
kver=$(basename "$(dirname "${kvers[0]}")")
"$here/mkinitramfs.sh" "$kdir" >/dev/null
marker=.ncvm-selftest.$$
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; rm -f "$repo/$marker"' EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# A dynamically linked libbpf user, built here, run there (tmp is under /tmp,
# which the guest sees through its overlay).
probe=
if command -v cc >/dev/null && pkg-config --exists libbpf 2>/dev/null; then
	cat >"$tmp/probe.c" <<'EOF'
#include <stdio.h>
#include <bpf/libbpf.h>
int main(void)
{
	int r = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL);

	printf("libbpf %s: sched_cls probe %d\n", libbpf_version_string(), r);
	return r == 1 ? 0 : 1;
}
EOF
	# shellcheck disable=SC2046
	if cc -o "$tmp/probe" "$tmp/probe.c" $(pkg-config --cflags --libs libbpf) 2>"$tmp/cc.err"; then
		probe=$tmp/probe
	else
		sed 's/^/# cc: /' "$tmp/cc.err"
	fi
fi

echo "# kernel $kver; a VM run = boot + command + poweroff, wall time"
t0=$(now)
rc=0
"$here/run.sh" -- "$here/selftest.sh" --guest "$kver" "$repo" "$marker" "$probe" >"$tmp/guest.out" \
	2>"$tmp/guest.err" || rc=$?
t1=$(now)
echo "# VM run with the guest checks: $(secs "$t0" "$t1") s"
guest_n=0
while IFS= read -r line; do
	case $line in
	"ok "*) n=$((n + 1)); echo "ok $n - ${line#ok * - }"; guest_n=$((guest_n + 1)) ;;
	"not ok "*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - ${line#not ok * - }"
		guest_n=$((guest_n + 1)) ;;
	*) echo "$line" ;;
	esac
done <"$tmp/guest.out"
if [ "$rc" = 0 ] && [ "$guest_n" -gt 0 ]; then
	ok "guest checks ran ($guest_n)"
else
	not_ok "guest checks ran (run.sh exit status $rc)"
	sed 's/^/#   /' "$tmp/guest.err"
fi
if [ -e "$repo/$marker" ]; then
	not_ok "guest writes stay in the guest"
else
	ok "guest writes stay in the guest"
fi

t0=$(now)
rc=0
"$here/run.sh" -- sh -c 'echo to-stdout; echo to-stderr >&2; exit 7' >"$tmp/o" 2>"$tmp/e" || rc=$?
t1=$(now)
echo "# VM run with a trivial command: $(secs "$t0" "$t1") s"
if [ "$rc" = 7 ]; then ok "run.sh exits with the command's status"
else not_ok "run.sh exits with the command's status (got $rc, want 7)"; fi
if [ "$(cat "$tmp/o")" = to-stdout ] && [ "$(cat "$tmp/e")" = to-stderr ]; then
	ok "run.sh passes stdout and stderr separately"
else
	not_ok "run.sh passes stdout and stderr separately"
	sed 's/^/#   stdout: /' "$tmp/o"
	sed 's/^/#   stderr: /' "$tmp/e"
fi

t0=$(now)
rc=0
"$here/run.sh" --timeout 3 -- sleep 60 >/dev/null 2>&1 || rc=$?
t1=$(now)
if [ "$rc" = 124 ]; then ok "run.sh --timeout kills the VM and exits 124 ($(secs "$t0" "$t1") s)"
else not_ok "run.sh --timeout kills the VM and exits 124 (got $rc)"; fi

echo "1..$n"
[ "$failed" = 0 ]
