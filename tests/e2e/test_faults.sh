#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Real traffic between namespaces through the real agent: loss ratio, change
# of a live rule, drop,
# partition (IPv4 and IPv6, both directions), corruption in both modes, and
# that unmatched ports and peers are never touched.
. "$(dirname "$0")/lib.sh"

make_topology || { not_ok "topology"; exit 1; }
start_agent || { not_ok "agent starts"; exit 1; }
ok "agent starts"
start_echo "$NS_B" 0.0.0.0 7000; start_echo "$NS_B" 0.0.0.0 7001
start_echo "$NS_B" :: 7100; start_echo "$NS_C" 0.0.0.0 7001; start_echo "$NS_C" :: 7101
start_echo "$NS_A" 0.0.0.0 7200

# --- loss 30% on 2,000 UDP datagrams delivers 70% +- 5%
id=$(chaosctl loss --netns "$NS_A" --port 5000 30% --for 2m | sed -n 's/^rule \([0-9]*\).*/\1/p')
check "loss rule added" test -n "$id"
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5000 2000)
got=$(json_get "$res" '["unique"]')
echo "# loss 30%: $got of 2000 delivered"
check "loss 30%: 2000 datagrams deliver 70% +- 5% (got $got)" within "$got" 1300 1500
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5001 1000)
got=$(json_get "$res" '["unique"]')
check "loss: an unmatched port loses nothing (got $got/1000)" within "$got" 1000 1000
res=$(udp_run "$NS_A" "$B6" "$NS_B" 5000 2000)
got=$(json_get "$res" '["unique"]')
check "loss 30% over IPv6 delivers 70% +- 5% (got $got)" within "$got" 1300 1500
listing=$(chaosctl --json list)
matched=$(json_get "$listing" '["rules"][0]["matched"]')
affected=$(json_get "$listing" '["rules"][0]["affected"]')
echo "# counters: matched $matched affected $affected"
check "loss counters: matched >= 4000 datagrams" within "$matched" 4000 100000
check "loss counters: affected ~30% of matched" \
	within "$(python3 -c "print($affected / $matched)")" 0.25 0.35
chaosctl list | grep -q "loss" && ok "list shows the rule" || not_ok "list shows the rule"

# --- change in place: same rule, same id and counters, new probability
out=$(chaosctl change "$id" loss 80%)
echo "# $out"
check "change: chaosctl says the rule changed ($out)" grep -q "^rule $id changed: loss 80%" <<<"$out"
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5000 2000)
got=$(json_get "$res" '["unique"]')
echo "# loss changed to 80%: $got of 2000 delivered"
check "change to loss 80%: 2000 datagrams deliver 20% +- 5% (got $got)" within "$got" 300 500
listing=$(chaosctl --json list)
n_rules() { python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["rules"]))' "$1"; }
check "change: still one rule, same id" test "$(n_rules "$listing")-$(json_get "$listing" '["rules"][0]["id"]')" = "1-$id"
m2=$(json_get "$listing" '["rules"][0]["matched"]')
check "change: counters carry on ($matched -> $m2)" within "$m2" $((matched + 2000)) 1000000
left=$(json_get "$listing" '["rules"][0]["remaining_ms"]')
check "change without --for keeps the rule's end (${left} ms of 2m left)" within "$left" 60000 120000
chaosctl change "$id" loss 1% --for 6s >/dev/null
left=$(json_get "$(chaosctl --json list)" '["rules"][0]["remaining_ms"]')
check "change --for 6s: the rule now ends 6 s from the change (${left} ms left)" within "$left" 5000 6000
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5000 1000)
check "change to loss 1%: ~99% delivered (got $(json_get "$res" '["unique"]')/1000)" within "$(json_get "$res" '["unique"]')" 970 1000
chaosctl change "$id" loss 100% >/dev/null
left=$(json_get "$(chaosctl --json list)" '["rules"][0]["remaining_ms"]')
sleep "$(python3 -c "print($left / 1000 + 0.3)")"
check "change: the rule ends at its changed end" test "$(n_rules "$(chaosctl --json list)")" = 0
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5000 500)
check "after the changed end: delivery back (got $(json_get "$res" '["unique"]')/500)" within "$(json_get "$res" '["unique"]')" 500 500
id=$(chaosctl loss --netns "$NS_A" --port 5000 30% --for 2m | sed -n 's/^rule \([0-9]*\).*/\1/p')
out=$(chaosctl change "$id" loss 100% --dry-run)
check "change --dry-run says so ($out)" grep -q "^dry run, nothing changed: rule $id would be: loss 100%" <<<"$out"
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5000 2000)
got=$(json_get "$res" '["unique"]')
check "change --dry-run: still 30% loss (got $got/2000)" within "$got" 1300 1500
out=$(chaosctl change "$id" --for 30s)
left=$(json_get "$(chaosctl --json list)" '["rules"][0]["remaining_ms"]')
check "change ID --for 30s: a new end only ($out; ${left} ms left)" within "$left" 25000 30000
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5000 2000)
got=$(json_get "$res" '["unique"]')
check "change ID --for: the fault stays loss 30% (got $got/2000)" within "$got" 1300 1500
chaosctl clear "$id" >/dev/null
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5000 1000)
check "clear restores delivery at once" within "$(json_get "$res" '["unique"]')" 1000 1000

# --- drop: TCP to one port stops, another port keeps working
check "before drop: tcp 7000 works" tcp_ok "$NS_A" "$B4" 7000
id=$(chaosctl drop --netns "$NS_A" --dport 7000 --proto tcp | sed -n 's/^rule \([0-9]*\).*/\1/p')
check "drop --dport 7000: tcp 7000 blocked" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B4 --port 7000 --timeout 1 >/dev/null"
check "drop --dport 7000: tcp 7001 still works" tcp_ok "$NS_A" "$B4" 7001
res=$(udp_run "$NS_A" "$B4" "$NS_B" 7000 200)
check "drop --proto tcp: udp to port 7000 untouched" within "$(json_get "$res" '["unique"]')" 200 200
chaosctl clear "$id" >/dev/null
check "after clear: tcp 7000 works" tcp_ok "$NS_A" "$B4" 7000

# --- partition: A <-> B cut both ways (v4 and v6), A <-> C untouched
chaosctl partition --netns "$NS_A" --ip "$B4" --ip "$B6" --for 1m >/dev/null
check "partition: A -> B v4 blocked" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B4 --port 7001 >/dev/null"
check "partition: A -> B v6 blocked" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B6 --port 7100 >/dev/null"
check "partition: B -> A v4 blocked" bash -c "! ip netns exec $NS_B $TRAFFIC tcp-probe --to $A_B4 --port 7200 >/dev/null"
check "partition: A -> C v4 works" tcp_ok "$NS_A" "$C4" 7001
check "partition: A -> C v6 works" tcp_ok "$NS_A" "$C6" 7101
chaosctl clear --all >/dev/null
check "clear --all: A -> B works again" tcp_ok "$NS_A" "$B4" 7001
check "clear --all: A -> B v6 works again" tcp_ok "$NS_A" "$B6" 7100

# --- partition by CIDR: a /24 cuts the whole subnet
chaosctl partition --netns "$NS_A" --ip 198.18.1.0/24 --for 1m >/dev/null
check "partition 198.18.1.0/24: A -> B blocked" bash -c "! ip netns exec $NS_A $TRAFFIC tcp-probe --to $B4 --port 7001 >/dev/null"
check "partition 198.18.1.0/24: A -> C works" tcp_ok "$NS_A" "$C4" 7001
chaosctl clear --all >/dev/null

# --- corrupt (default): the receiver's stack rejects the damaged packets
before=$(snmp_get "$NS_B" IpExt InCsumErrors)
chaosctl corrupt --netns "$NS_A" --dport 5002 --proto udp 100% >/dev/null
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5002 300)
after=$(snmp_get "$NS_B" IpExt InCsumErrors)
echo "# corrupt v4: delivered $(json_get "$res" '["received"]'), InCsumErrors +$((after - before))"
check "corrupt 100% v4: nothing delivered to the application" within "$(json_get "$res" '["received"]')" 0 0
check "corrupt 100% v4: receiver counts ~300 checksum errors" within "$((after - before))" 295 305
before=$(snmp_get "$NS_B" 6 Ip6InTruncatedPkts)
res=$(udp_run "$NS_A" "$B6" "$NS_B" 5002 300)
after=$(snmp_get "$NS_B" 6 Ip6InTruncatedPkts)
echo "# corrupt v6: delivered $(json_get "$res" '["received"]'), Ip6InTruncatedPkts +$((after - before))"
check "corrupt 100% v6: nothing delivered to the application" within "$(json_get "$res" '["received"]')" 0 0
check "corrupt 100% v6: receiver discards ~300 damaged packets" within "$((after - before))" 295 305
chaosctl clear --all >/dev/null

# --- corrupt --payload: damaged bytes reach the application
chaosctl corrupt --payload --netns "$NS_A" --dport 5003 --proto udp 50% >/dev/null
res=$(udp_run "$NS_A" "$B4" "$NS_B" 5003 1000 200)
echo "# corrupt --payload 50%: $res"
check "corrupt --payload: every datagram delivered" within "$(json_get "$res" '["received"]')" 1000 1000
check "corrupt --payload 50%: ~half arrive damaged" within "$(json_get "$res" '["damaged"]')" 420 580
res=$(udp_run "$NS_A" "$B6" "$NS_B" 5003 1000 200)
check "corrupt --payload v6: ~half arrive damaged" within "$(json_get "$res" '["damaged"]')" 420 580
chaosctl clear --all >/dev/null
