#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# packaging/netchaosd.service without booting systemd: the unit verifies
# (systemd-analyze), and the agent does its whole job inside the unit's
# CapabilityBoundingSet with no_new_privs (setpriv stands in for systemd):
# rules in a named namespace, in the namespaces of a root and of an
# unprivileged process (/proc/PID/ns/net), on the host; list, status, clear,
# SIGTERM. Then the set is shown minimal: without any one capability of it,
# some of that fails. The rest of the sandbox (ProtectSystem, seccomp, ...)
# needs systemd itself. Prints TAP.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
need_root "systemd unit"

UNIT=$ROOT/packaging/netchaosd.service
if command -v systemd-analyze >/dev/null; then
	# The unit names the installed binary: point it at this build.
	sed "s|/usr/local/sbin/netchaosd|$BUILD/netchaosd|" "$UNIT" >"$WORK/netchaosd.service"
	if out=$(systemd-analyze verify "$WORK/netchaosd.service" 2>&1) && [ -z "$out" ]; then
		ok "systemd unit: systemd-analyze verify is clean"
	else
		not_ok "systemd unit: systemd-analyze verify is clean"
		echo "$out" | comment
	fi
	score=$(systemd-analyze security --offline=yes "$WORK/netchaosd.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "# systemd-analyze security: exposure ${score:-?} (0 = locked down, 10 = exposed)"
else
	skip "systemd unit: systemd-analyze verify" "systemd-analyze not installed"
fi

caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
check "systemd unit: has a CapabilityBoundingSet ($caps)" test -n "$caps"
nnp=$(sed -n 's/^NoNewPrivileges=//p' "$UNIT")
check "systemd unit: NoNewPrivileges=yes" test "$nnp" = yes
# "CAP_NET_ADMIN CAP_SYS_ADMIN" -> "+net_admin,+sys_admin"
setpriv_caps() { echo "$*" | tr 'A-Z' 'a-z' | sed -e 's/cap_/+/g' -e 's/ \+/,/g'; }

make_pair || { not_ok "systemd unit: namespace pair"; exit 1; }
# Processes living in B: one root with every capability, one unprivileged.
bg ip netns exec "$NS_B" sleep 120
ROOT_PID=${PIDS[-1]}
bg ip netns exec "$NS_B" setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 120
NOBODY_PID=${PIDS[-1]}
sleep 0.3

# Each step's result as "name:0|1" words on stdout.
scenario() {
	local r=()
	ctlq drop --netns "$NS_A" --port 80 2>/dev/null && r+=(named:0) || r+=(named:1)
	ctlq drop --netns "/proc/$ROOT_PID/ns/net" --port 81 2>/dev/null && r+=(rootproc:0) ||
		r+=(rootproc:1)
	ctlq drop --netns "/proc/$NOBODY_PID/ns/net" --port 82 2>/dev/null && r+=(userproc:0) ||
		r+=(userproc:1)
	ctlq drop --iface lo --port 83 2>/dev/null && r+=(host:0) || r+=(host:1)
	ctlq list 2>/dev/null && r+=(list:0) || r+=(list:1)
	ctlq status 2>/dev/null && r+=(status:0) || r+=(status:1)
	ctlq clear --all 2>/dev/null && r+=(clear:0) || r+=(clear:1)
	echo "${r[*]}"
}

# run_with CAPS...: the agent under this bounding set; the steps' results in
# $res ("start:1" alone if it did not even start), its exit in AGENT_STATUS.
run_with() {
	: >"$AGENT_LOG"
	if ! start_agent setpriv --bounding-set="-all,$(setpriv_caps "$@")" --inh-caps=-all \
		--ambient-caps=-all --no-new-privs "$BUILD/netchaosd" $AGENT_OPTS >/dev/null; then
		res="start:1"
		stop_agent 5
		return
	fi
	res="start:0 $(scenario)"
	stop_agent 30
}

AGENT_OPTS=
run_with $caps
for step in start named rootproc userproc host list status clear; do
	check "systemd unit: with $caps: $step" grep -qw "$step:0" <<<"$res"
done
check "systemd unit: agent exits 0 on SIGTERM (status $AGENT_STATUS)" test "$AGENT_STATUS" = 0
denied=$(grep -ciE 'operation not permitted|permission denied' "$AGENT_LOG" || true)
check "systemd unit: no EPERM/EACCES in the agent's log ($denied)" test "$denied" = 0
left="$(leftovers "$NS_A")$(leftovers "$NS_B")"
check "systemd unit: nothing left in the namespaces${left:+: $left}" test -z "$left"

# Minimal: drop one capability at a time, something must break. With tcx
# links (Linux 6.6+) the BPF faults need no netlink configuration; clsact,
# netem qdiscs and IFBs do (CAP_NET_ADMIN), so the check runs the agent in
# its tc attach mode, as on the kernels without tcx.
AGENT_OPTS="--attach tc"
for c in $caps; do
	rest=$(for o in $caps; do [ "$o" = "$c" ] || printf '%s ' "$o"; done)
	run_with $rest
	if grep -qw '[a-z]*:1' <<<"$res"; then
		ok "systemd unit: $c is needed (without it: $(grep -o '[a-z]*:1' <<<"$res" | cut -d: -f1 | tr '\n' ' '| sed 's/ $//') fail)"
	else
		not_ok "systemd unit: $c is needed (everything works without it)"
	fi
	ctl clear --all >/dev/null 2>&1 || true
done
[ "$T_FAIL" = 0 ]
