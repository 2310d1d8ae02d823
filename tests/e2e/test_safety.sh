#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Game-day safety: protected ports (refused when named, left alone by broad
# faults, allowed with --force), dry runs that change nothing, abort, limits,
# doctor, and - on a kernel without sch_netem - the clear netem error that
# leaves nothing half-applied while BPF faults keep working.
. "$(dirname "$0")/lib.sh"

make_topology || { not_ok "topology"; exit 1; }
start_agent --protect-port 22 --protect-port 7022 --max-rules 5 --max-duration 1h ||
	{ not_ok "agent starts"; exit 1; }
start_echo "$NS_B" 0.0.0.0 7000
start_echo "$NS_B" 0.0.0.0 7022
# fails_with RC OUTPUT PATTERN: the command failed and said PATTERN.
fails_with() { [ "$1" != 0 ] && grep -qiE "$3" <<<"$2"; }
count_rules() { chaosctl --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rules"]))'; }

# --- protected ports
out=$(chaosctl drop --netns "$NS_A" --dport 7022 2>&1); rc=$?
check "protected port named: refused ($out)" fails_with "$rc" "$out" 'protected' 
out=$(chaosctl drop --netns "$NS_A" --port 7000-8000 2>&1); rc=$?
check "a range covering a protected port: refused" test "$rc" != 0
check "refusals applied nothing" test "$(count_rules)" = 0
chaosctl partition --netns "$NS_A" --ip "$B4" >/dev/null
check "broad partition: tcp 7000 cut" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B4 --port 7000 --timeout 0.5 >/dev/null"
check "broad partition: the protected port 7022 still answers" tcp_ok "$NS_A" "$B4" 7022
chaosctl clear --all >/dev/null
chaosctl drop --netns "$NS_A" --dport 7022 --force >/dev/null
check "--force: the protected port can be faulted" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B4 --port 7022 --timeout 0.5 >/dev/null"
chaosctl clear --all >/dev/null

# --- dry run changes nothing
before=$(leftovers "$NS_A")
out=$(chaosctl drop --netns "$NS_A" --dport 7000 --dry-run 2>&1)
echo "$out" | sed 's/^/# dry-run: /'
check "dry run: describes the interfaces it would use" grep -q "vab-$SUFFIX" <<<"$out"
check "dry run: no rule" test "$(count_rules)" = 0
check "dry run: nothing attached" test "$(leftovers "$NS_A")" = "$before"
check "dry run: traffic untouched" tcp_ok "$NS_A" "$B4" 7000

# --- limits
out=$(chaosctl drop --netns "$NS_A" --dport 7000 --for 2h 2>&1); rc=$?
check "longest duration enforced ($out)" fails_with "$rc" "$out" 'limit' 
for p in 1 2 3 4 5; do chaosctl drop --netns "$NS_A" --dport 600$p >/dev/null; done
out=$(chaosctl drop --netns "$NS_A" --dport 6006 2>&1); rc=$?
check "max concurrent rules enforced ($out)" fails_with "$rc" "$out" 'too many rules' 

# --- abort removes everything at once
t0=$(date +%s%N)
chaosctl abort >/dev/null
t1=$(date +%s%N)
echo "# abort of 5 rules: $(( (t1 - t0) / 1000000 )) ms including the CLI"
check "abort: no rule left" test "$(count_rules)" = 0
left=$(leftovers "$NS_A")
check "abort: nothing attached${left:+: $left}" test -z "$left"

# --- doctor and status
out=$(chaosctl --json doctor)
check "doctor: reports BTF, clsact, sch_netem, ifb, cgroup2, docker" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); names={c['name'] for c in d['checks']}
sys.exit(0 if {'btf','clsact','sch_netem','ifb','cgroup2','docker'} <= names else 1)" "$out"
netem=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print([c['ok'] for c in d['checks'] if c['name']=='sch_netem'][0])" "$out")
chaosctl doctor | sed 's/^/# doctor: /'

# --- a kernel without sch_netem: a clear error, nothing half-applied
if [ "$netem" = False ]; then
	tcbefore=$(in_ns "$NS_A" tc qdisc show)
	out=$(chaosctl delay --netns "$NS_A" --port 7000 200ms 2>&1); rc=$?
	echo "# $out"
	check "no sch_netem: delay fails, naming sch_netem" fails_with "$rc" "$out" 'sch_netem is not available in this kernel' 
	check "no sch_netem: one line" test "$(printf '%s\n' "$out" | wc -l)" = 1
	check "no sch_netem: no rule left" test "$(count_rules)" = 0
	check "no sch_netem: qdiscs exactly as before" test "$(in_ns "$NS_A" tc qdisc show)" = "$tcbefore"
	check "no sch_netem: no ifb device left" test -z "$(in_ns "$NS_A" ip link show type ifb)"
	chaosctl drop --netns "$NS_A" --dport 7000 >/dev/null
	check "no sch_netem: BPF faults keep working" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B4 --port 7000 --timeout 0.5 >/dev/null"
	chaosctl abort >/dev/null
	st=$(chaosctl --json status)
	check "status reports netem unavailable" python3 -c "import json,sys; sys.exit(0 if json.loads(sys.argv[1])['kernel']['netem'] is False else 1)" "$st"
else
	skip "no-sch_netem error path" "this kernel has sch_netem (tested by the VM tier on the host kernel)"
fi

# --- unprivileged users
chmod 0755 "$WORK"
chmod 0666 "$SOCK"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$BUILD/chaosctl" --socket "$SOCK" drop --netns "$NS_A" --dport 7000 2>&1); rc=$?
check "unprivileged user: add refused ($out)" fails_with "$rc" "$out" 'permission denied' 
check "unprivileged user: may list" setpriv --reuid=nobody --regid=nogroup --clear-groups "$BUILD/chaosctl" --socket "$SOCK" list
check "unprivileged user: changed nothing" test "$(count_rules)" = 0
grep -q "uid 65534" "$AGENT_LOG" && ok "the refusal is logged with the uid" || not_ok "the refusal is logged with the uid"
