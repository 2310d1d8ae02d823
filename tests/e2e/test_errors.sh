#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input gets one clear line and a non-zero exit, and changes nothing.
. "$(dirname "$0")/lib.sh"

make_topology || { not_ok "topology"; exit 1; }

# expect_error DESC PATTERN chaosctl-args...: fails with a line matching PATTERN.
expect_error() {
	local desc=$1 pat=$2 out rc
	shift 2
	out=$(chaosctl "$@" 2>&1); rc=$?
	if [ "$rc" != 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && grep -qiE -e "$pat" <<<"$out"; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc: $out)"
	fi
}

expect_error "agent not running" "cannot reach netchaosd at $SOCK: is it running\?" list
start_agent || { not_ok "agent starts"; exit 1; }
expect_error "unknown command" "unknown command" explode --port 80
expect_error "unknown option" "unrecognized|unknown option" loss --bogus 10%
expect_error "loss 130%" "130" loss --netns "$NS_A" --port 80 130%
expect_error "port 70000" "70000" drop --netns "$NS_A" --port 70000
expect_error "port range reversed" "2000-1000|range" drop --netns "$NS_A" --port 2000-1000
expect_error "bad address" "10.0.0.300" partition --netns "$NS_A" --ip 10.0.0.300
expect_error "partition without peers" "--ip|peer" partition --netns "$NS_A"
expect_error "bad duration" "duration|10x" drop --netns "$NS_A" --port 80 --for 10x
expect_error "unknown interface" "nosuch0" drop --netns "$NS_A" --iface nosuch0 --port 80
expect_error "unknown netns" "nosuchns" drop --netns nosuchns-$SUFFIX --port 80
expect_error "not a netns path" "not a network namespace" drop --netns /etc/hostname --port 80
expect_error "ports with icmp" "icmp" drop --netns "$NS_A" --proto icmp --port 80
expect_error "clear of an unknown rule" "no rule 4242" clear 4242
expect_error "loss without a percentage" "percent|loss" loss --netns "$NS_A" --port 80
expect_error "change of an unknown rule" "no rule 4242" change 4242 loss 10%
expect_error "change without parameters" "change needs" change 1

# change refusals leave the rule as it was
id=$(chaosctl loss --netns "$NS_A" --port 5000 30% --for 1m | sed -n 's/^rule \([0-9]*\).*/\1/p')
before=$(chaosctl --json list | python3 -c 'import json,sys; r=json.load(sys.stdin)["rules"][0]; print(r["fault"], r["target"])')
expect_error "change to another kind" "keeps a rule's kind" change "$id" delay 100ms
expect_error "change to a netem loss model" "loss model" change "$id" loss --model gemodel 1%
expect_error "change of the target" "keeps the rule's target" change "$id" loss 10% --port 80
expect_error "change with a bad value" "130" change "$id" loss 130%
expect_error "change beyond the longest duration" "longer than" change "$id" loss 10% --for 48h
expect_error "change with options first" "rule id first" change --dry-run "$id" loss 10%
expect_error "change with neither a fault nor --for" "needs --for" change "$id" --dry-run
after=$(chaosctl --json list | python3 -c 'import json,sys; r=json.load(sys.stdin)["rules"][0]; print(r["fault"], r["target"])')
check "refused changes left the rule as it was ($after)" test "$before" = "$after"
chaosctl clear "$id" >/dev/null

n=$(chaosctl --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rules"]))')
check "no rule was created by bad input" test "$n" = 0
left=$(leftovers "$NS_A")
check "bad input attached nothing${left:+: $left}" test -z "$left"

# Malformed protocol requests straight to the socket.
raw() { printf '%s' "$1" | timeout 5 socat - UNIX-CONNECT:"$SOCK"; }
out=$(raw 'garbage'$'\n')
check "protocol: garbage gets an error reply" grep -qE '"ok": ?false' <<<"$out"
out=$(raw '{"v":99,"cmd":"list"}'$'\n')
check "protocol: wrong version is refused, naming it ($out)" grep -qE '"ok": ?false.*99|99.*"ok": ?false' <<<"$out"
out=$(raw '{"v":1,"cmd":"add","fault":{"kind":"loss","percent":30},"target":{"ports":["80"],"netns":"'"$NS_A"'"},"duration_ms":1000,"bogus":1}'$'\n')
check "protocol: unknown field refused" grep -q bogus <<<"$out"
check "agent still alive after bad requests" chaosctl ping
n=$(chaosctl --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rules"]))')
check "protocol: nothing applied by bad requests" test "$n" = 0
