#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Docker containers as targets, under a private dockerd this test starts
# (tests/docker/dockerd-up.sh) and real traffic: a fault on one container and
# not its neighbour on the same bridge, loss ratios, --label and --service,
# following `docker restart` (measured) and removal, Docker's event stream
# lost and back, group partitions (both ways, one way, against the host,
# overlapping), container:X, and the errors
# (unknown, stopped, --network host, Docker unreachable, Docker hanging while
# other clients are served). Traffic goes only to addresses of the containers
# this test made and to the private bridge's own address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker-lib.sh"

HOST_PORT=18080
# A container reaching the host's listener on the bridge address.
ct_to_host() { [ "$(timeout 4 docker --host "unix://$NC_DOCKER_SOCK" exec "$P-$1" nc -w 1 "$BRIDGE_IP" $HOST_PORT </dev/null 2>/dev/null)" = host ]; }

# An agent of our own besides the main one: start_agent2 NAME [options...]
start_agent2() {
	local name=$1
	shift
	"$BUILD/netchaosd" --socket "$WORK/$name.sock" --state-file "$WORK/$name.state" "$@" \
		>>"$WORK/$name.log" 2>&1 &
	AGENTS+=($!)
	for _ in $(seq 200); do
		"$BUILD/chaosctl" --socket "$WORK/$name.sock" ping >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# --- set-up ---------------------------------------------------------------
BRIDGE_IP=$(ip -4 -o addr show dev "${NC_DOCKER_BRIDGE:-ncdock0}" | awk '{print $4}' | cut -d/ -f1)
for c in web api db nb; do run_ct $c --label "tier=$P-$c" || { not_ok "container $c runs"; exit 1; }; done
run_ct svc1 --label "com.docker.compose.service=$P-svc"
run_ct svc2 --label "com.docker.compose.service=$P-svc"
dk create --pull=never --name "$P-stopped" --label "nctest=$P" "$IMAGE" true >/dev/null
dk run -d --init --pull=never --name "$P-hostnet" --label "nctest=$P" --network host "$IMAGE" \
	sleep 600 >/dev/null
dk run -d --init --pull=never --name "$P-side" --label "nctest=$P" --network "container:$P-db" \
	"$IMAGE" sleep 600 >/dev/null
bg busybox nc -ll -p $HOST_PORT -e echo host
start_agent --docker-socket "$NC_DOCKER_SOCK" || { not_ok "agent starts"; exit 1; }
ok "agent and containers up (web $(ip_of web), api $(ip_of api), db $(ip_of db), nb $(ip_of nb))"
all_ok=1
for c in web api db nb svc1 svc2; do from_host $c || all_ok=0; done
check "before faults: every container answers" test $all_ok = 1
check "before faults: the host's listener answers containers" ct_to_host web

# --- drop on one container, never its neighbour -----------------------------
t0=$(ms)
id=$(chaosctl drop --container "$P-web" --for 2m | rule_id)
echo "# add drop --container: $(($(ms) - t0)) ms"
check "drop --container web: rule added" test -n "$id"
check_blocked "drop --container web: host -> web blocked" from_host web
check_blocked "drop --container web: web -> api blocked" from_ct web api
check "drop --container web: neighbour nb still answers the host" from_host nb
check "drop --container web: nb -> api untouched" from_ct nb api
chaosctl list | grep -q "$P-web" && ok "list shows the container's name" || not_ok "list shows the container's name"
check "list: the rule's container is web, in /proc/PID/ns/net" \
	test "$(rule_json "$id" "r['containers'][0]['name'] + ' ' + r['containers'][0]['netns']")" = "$P-web /proc/$(pid_of web)/ns/net"
# by id and by unique id prefix too
full=$(dk inspect -f '{{.Id}}' "$P-api")
id2=$(chaosctl drop --container "${full:0:12}" --for 1m | rule_id)
check_blocked "drop --container by id prefix: api blocked" from_host api
check "by id prefix: resolves to api's full id" test "$(rule_json "$id2" "r['containers'][0]['id']")" = "$full"
chaosctl clear --all >/dev/null
check "clear: web answers again" from_host web
check "clear: api answers again" from_host api

# --- loss ratios ---------------------------------------------------------
id=$(chaosctl loss --container "$P-web" 30% --for 2m | rule_id)
got=$(udp_ct host web 2000)
echo "# loss 30% on web: $got of 2000 delivered"
check "loss 30% --container web: 70% +- 5% delivered (got $got/2000)" within "$got" 1300 1500
got=$(udp_ct host nb 1000)
check "loss 30% on web: neighbour nb loses nothing (got $got/1000)" within "$got" 1000 1000
# change in place, and a restart afterwards keeps the new parameters
check "change --container rule: loss 30% -> 80%" bash -c "$BUILD/chaosctl --socket $SOCK change $id loss 80% | grep -q '^rule $id changed: loss 80%'"
got=$(udp_ct host web 2000)
echo "# loss changed to 80% on web: $got of 2000 delivered"
check "change: loss 80% on web, 20% +- 5% delivered (got $got/2000)" within "$got" 300 500
old_pid=$(pid_of web)
dk restart -t 0 "$P-web" >/dev/null
new_pid=$(pid_of web)
wait_in_netns "$new_pid" "$(ms)" >/dev/null
got=$(udp_ct host web 2000)
echo "# after a restart ($old_pid -> $new_pid): $got of 2000 delivered"
check "change then restart: the re-applied rule has the new parameters (got $got/2000)" within "$got" 300 500
got=$(udp_ct host nb 1000)
check "change: neighbour nb still loses nothing (got $got/1000)" within "$got" 1000 1000
chaosctl clear "$id" >/dev/null
id=$(chaosctl loss --container "$P-web" 100% --for 1m | rule_id)
got=$(udp_ct host web 500)
check "loss 100% --container web: nothing delivered (got $got/500)" within "$got" 0 0
check "loss 100%: counters show it (affected >= 500)" \
	within "$(rule_json "$id" "r['affected']")" 500 100000
chaosctl clear "$id" >/dev/null

# --- --label and --service ---------------------------------------------
id=$(chaosctl drop --label "tier=$P-api" --label "tier=$P-db" --for 2m | rule_id)
check "drop --label x2: rule added with 2 containers" test "$(rule_json "$id" "len(r['containers'])")" = 2
check_blocked "drop --label: api blocked" from_host api
check_blocked "drop --label: db blocked" from_host db
check "drop --label: web untouched" from_host web
check "drop --label: nb untouched" from_host nb
# a container started later with the label joins the rule
run_ct late --label "tier=$P-api"
t0=$(ms)
joined=0
for _ in $(seq 40); do
	[ "$(rule_json "$id" "len(r['containers'])")" = 3 ] && { joined=1; break; }
	sleep 0.05
done
echo "# new container with the label followed after $(($(ms) - t0)) ms"
check "drop --label: a new container with the label joins the rule" test $joined = 1
check_blocked "drop --label: the new container is blocked" from_host late
chaosctl clear "$id" >/dev/null
dk rm -f "$P-late" >/dev/null

id=$(chaosctl drop --service "$P-svc" --dport 80 --for 2m | rule_id)
check "drop --service: both containers of the service" test "$(rule_json "$id" "len(r['containers'])")" = 2
check_blocked "drop --service --dport 80: svc1 blocked" from_host svc1
check_blocked "drop --service --dport 80: svc2 blocked" from_host svc2
check "drop --service: web untouched" from_host web
chaosctl clear "$id" >/dev/null

# --- following a restart ---------------------------------------------------
id=$(chaosctl drop --container "$P-web" --for 2m | rule_id)
old_pid=$(pid_of web)
t0=$(ms)
dk restart -t 0 "$P-web" >/dev/null
t1=$(ms)
new_pid=$(pid_of web)
lat=$(wait_in_netns "$new_pid" "$t1")
echo "# docker restart took $((t1 - t0)) ms; the rule was back in the new namespace $lat ms after it returned"
evlat=$(grep "re-applied in container $P-web (pid $new_pid" "$AGENT_LOG" |
	sed -n 's/.*, \([0-9.]*\) ms after Docker.*/\1/p' | tail -n 1)
echo "# the agent re-applied the rule ${evlat:-?} ms after Docker's start event"
check "restart: the container has a new pid ($old_pid -> $new_pid)" test "$old_pid" != "$new_pid"
check "restart: re-applied within 2 s of Docker's start event (${evlat:-?} ms)" within "${evlat:-99999}" 0 2000
check "restart: list shows it active in the new namespace within 2 s of the restart (${lat} ms)" within "$lat" 0 2000
check "restart: the rule is active" test "$(rule_json "$id" "r['state'] + ' ' + r['containers'][0]['state']")" = "active active"
check "restart: the rule acts in /proc/$new_pid/ns/net" \
	test "$(rule_json "$id" "r['containers'][0]['netns']")" = "/proc/$new_pid/ns/net"
check_blocked "restart: host -> web blocked again" from_host web
check "restart: nb still untouched" from_host nb
# stop, then start: waiting meanwhile, back when it starts
dk stop -t 0 "$P-web" >/dev/null
sleep 0.5
check "stopped: the rule waits" test "$(rule_json "$id" "r['state']")" = waiting
dk start "$P-web" >/dev/null
sleep 1
check "started again: the rule is active" test "$(rule_json "$id" "r['state']")" = active
check_blocked "started again: host -> web blocked" from_host web

# --- removal ends the rule, and list says why ---------------------------
run_ct gone
gid=$(chaosctl loss --container "$P-gone" 50% --for 2m | rule_id)
dk rm -f "$P-gone" >/dev/null
t0=$(ms)
st=
for _ in $(seq 40); do
	st=$(rule_json "$gid" "r['state'] + ': ' + r.get('reason', '')")
	[ "$st" = "ended: container removed" ] && break
	sleep 0.05
done
echo "# removal seen after $(($(ms) - t0)) ms"
check "removal: the rule ends with reason 'container removed' (got '$st')" test "$st" = "ended: container removed"
chaosctl list | grep -q "container removed" && ok "removal: list shows the reason" || not_ok "removal: list shows the reason"
check "removal: the other rule is still active" test "$(rule_json "$id" "r['state']")" = active
chaosctl clear --all >/dev/null

# --- group partitions ------------------------------------------------------
id=$(chaosctl partition --group "$P-web,$P-api" --group "$P-db" --for 2m | rule_id)
check "partition web,api | db: added" test -n "$id"
check_blocked "partition: web -> db blocked" from_ct web db
check_blocked "partition: db -> web blocked" from_ct db web
check_blocked "partition: api -> db blocked" from_ct api db
check_blocked "partition: db -> api blocked" from_ct db api
check "partition: web -> api (same group) works" from_ct web api
check "partition: api -> web (same group) works" from_ct api web
check "partition: nb -> db (no group) works" from_ct nb db
check "partition: host -> db (not in a group) works" from_host db
# overlapping: a second partition web | nb composes with the first
id2=$(chaosctl partition --group "$P-web" --group "$P-nb" --for 2m | rule_id)
check_blocked "overlap: web -> nb blocked" from_ct web nb
check_blocked "overlap: web -> db still blocked" from_ct web db
check "overlap: web -> api still works" from_ct web api
chaosctl clear "$id" >/dev/null
check "overlap, first cleared: web -> db works" from_ct web db
check_blocked "overlap, first cleared: web -> nb still blocked" from_ct web nb
chaosctl clear "$id2" >/dev/null
check "both cleared: web -> nb works" from_ct web nb

# partition after a restart: the peers' rules follow the new address
id=$(chaosctl partition --group "$P-web" --group "$P-db" --for 2m | rule_id)
dk restart -t 0 "$P-db" >/dev/null
sleep 1
check_blocked "partition, db restarted: web -> db blocked" from_ct web db
check_blocked "partition, db restarted: db -> web blocked" from_ct db web
chaosctl clear "$id" >/dev/null

# one way: web sends nothing to db; db's datagrams still reach web
id=$(chaosctl partition --group "$P-web" --group "$P-db" --one-way --for 2m | rule_id)
got=$(udp_ct web db 300)
check "one-way web -> db: web's datagrams to db dropped (got $got/300)" within "$got" 0 0
got=$(udp_ct db web 300)
check "one-way web -> db: db's datagrams to web arrive (got $got/300)" within "$got" 300 300
got=$(udp_ct web api 300)
check "one-way: web -> api untouched (got $got/300)" within "$got" 300 300
chaosctl clear "$id" >/dev/null

# a container against the host
id=$(chaosctl partition --group "$P-web" --group host --for 2m | rule_id)
check_blocked "partition web | host: host -> web blocked" from_host web
check_blocked "partition web | host: web -> host blocked" ct_to_host web
check "partition web | host: host -> nb works" from_host nb
check "partition web | host: nb -> host works" ct_to_host nb
check "partition web | host: web -> api works" from_ct web api
chaosctl clear "$id" >/dev/null
check "partition cleared: web -> host works" ct_to_host web

# --- container:X, --network host --------------------------------------------
out=$(chaosctl --json drop --container "$P-side" --for 1m 2>&1)
id=$(json_get "$out" '["rule"]["id"]' 2>/dev/null)
check "container:X: resolved to db" test "$(rule_json "$id" "r['containers'][0]['name']")" = "$P-db"
echo "$out" | grep -q "shares the network namespace of container $P-db" &&
	ok "container:X: the reply says so" || not_ok "container:X: the reply says so ($out)"
check_blocked "container:X: db blocked" from_host db
chaosctl clear "$id" >/dev/null

n0=$(n_rules)
out=$(chaosctl drop --container "$P-hostnet" --port 9 2>&1)
rc=$?
check "--network host: refused (rc $rc)" test "$rc" != 0
echo "$out" | grep -q -- "--allow-host-network" && ok "--network host: the error names --allow-host-network" ||
	not_ok "--network host: the error names --allow-host-network ($out)"
out=$(chaosctl --json drop --container "$P-hostnet" --port 9 --allow-host-network --dry-run 2>&1)
check "--network host with --allow-host-network: accepted (dry run: the host's namespace)" \
	test "$(json_get "$out" '["plan"]["containers"][0]["netns"]' 2>/dev/null)" = host

# --- errors: clear, nothing applied ---------------------------------------
out=$(chaosctl drop --container "$P-nope" 2>&1)
rc=$?
check "unknown container: refused" test "$rc" != 0
echo "$out" | grep -q "$P-nope" && ok "unknown container: the message names it ($out)" ||
	not_ok "unknown container: the message names it ($out)"
out=$(chaosctl drop --container "$P-web" --container "$P-nope" 2>&1)
check "one unknown among two: refused" test $? != 0
check "one unknown among two: nothing applied (web answers)" from_host web
out=$(chaosctl drop --container "$P-stopped" 2>&1)
check "stopped container: refused" test $? != 0
echo "$out" | grep -q "not running" && ok "stopped container: says it is not running ($out)" ||
	not_ok "stopped container: says it is not running ($out)"
out=$(chaosctl drop --label "tier=$P-none" 2>&1)
check "label matching nothing: refused" test $? != 0
echo "$out" | grep -q "no running container" && ok "label matching nothing: says so" ||
	not_ok "label matching nothing: says so ($out)"
check "errors: no rule was added" test "$(n_rules)" = "$n0"

# Docker not reachable: a bogus socket
if start_agent2 bogus --docker-socket "$WORK/no-docker.sock"; then
	out=$("$BUILD/chaosctl" --socket "$WORK/bogus.sock" drop --container "$P-web" 2>&1)
	rc=$?
	check "Docker unreachable: refused (rc $rc)" test "$rc" != 0
	echo "$out" | grep -q "cannot reach Docker" && ok "Docker unreachable: says so ($out)" ||
		not_ok "Docker unreachable: says so ($out)"
	check "Docker unreachable: nothing applied" test "$("$BUILD/chaosctl" --socket "$WORK/bogus.sock" --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rules"]))')" = 0
else
	not_ok "agent with a bogus --docker-socket starts"
fi

# Docker hanging: other clients are served while an add waits on it
python3 - "$WORK/docker-hang.sock" 60 <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(16)
conns, end = [], time.time() + float(sys.argv[2])
s.settimeout(0.2)
while time.time() < end:
    try:
        conns.append(s.accept()[0])  # accept, read nothing, answer nothing
    except socket.timeout:
        pass
EOF
BG_PIDS+=($!)
for _ in $(seq 50); do [ -S "$WORK/docker-hang.sock" ] && break; sleep 0.05; done
if start_agent2 hang --docker-socket "$WORK/docker-hang.sock"; then
	t0=$(ms)
	"$BUILD/chaosctl" --socket "$WORK/hang.sock" drop --container "$P-web" >"$WORK/hang.out" 2>&1 &
	add=$!
	sleep 0.3
	t1=$(ms)
	"$BUILD/chaosctl" --socket "$WORK/hang.sock" ping >/dev/null 2>&1
	prc=$?
	t2=$(ms)
	"$BUILD/chaosctl" --socket "$WORK/hang.sock" list >/dev/null 2>&1
	lrc=$?
	echo "# while an add waited on a hanging Docker: ping answered in $((t2 - t1)) ms"
	check "Docker hanging: ping answered meanwhile" test "$prc" = 0
	check "Docker hanging: ping answered in < 500 ms ($((t2 - t1)) ms)" within "$((t2 - t1))" 0 500
	check "Docker hanging: list answered meanwhile" test "$lrc" = 0
	wait "$add"
	arc=$?
	echo "# the add gave up after $(($(ms) - t0)) ms: $(cat "$WORK/hang.out")"
	check "Docker hanging: the add fails (rc $arc)" test "$arc" != 0
	grep -q "did not answer" "$WORK/hang.out" && ok "Docker hanging: says Docker did not answer" ||
		not_ok "Docker hanging: says Docker did not answer ($(cat "$WORK/hang.out"))"
else
	not_ok "agent with a hanging Docker starts"
fi

# DOCKER_HOST=unix://... is honoured when --docker-socket is not given
if DOCKER_HOST="unix://$NC_DOCKER_SOCK" start_agent2 envhost; then
	out=$("$BUILD/chaosctl" --socket "$WORK/envhost.sock" drop --container "$P-nb" --port 9 --dry-run 2>&1)
	check "DOCKER_HOST honoured (dry run resolves nb)" test $? = 0
else
	not_ok "agent with DOCKER_HOST starts"
fi

# --- Docker's event stream lost and back: rules stay in place, and a restart
# that happened meanwhile is caught up with (a proxy in front of the socket is
# cut, the container restarted, the proxy started again)
proxy_up() {
	rm -f "$WORK/dproxy.sock"
	socat UNIX-LISTEN:"$WORK/dproxy.sock",fork UNIX-CONNECT:"$NC_DOCKER_SOCK" </dev/null \
		>/dev/null 2>&1 &
	PROXY=$!
	BG_PIDS+=("$PROXY")
	for _ in $(seq 50); do [ -S "$WORK/dproxy.sock" ] && break; sleep 0.05; done
}
proxy_down() { # socat serves each connection in a child: end those too
	pkill -TERM -P "$PROXY" 2>/dev/null
	kill "$PROXY" 2>/dev/null
	wait "$PROXY" 2>/dev/null
}
proxy_up
if start_agent2 evt --docker-socket "$WORK/dproxy.sock"; then
	ectl() { "$BUILD/chaosctl" --socket "$WORK/evt.sock" "$@"; }
	eid=$(ectl drop --container "$P-api" --for 2m | rule_id)
	check_blocked "event stream: api blocked" from_host api
	proxy_down
	sleep 0.5
	grep -q "reconnecting" "$WORK/evt.log" && ok "event stream lost: the agent says so and retries" ||
		not_ok "event stream lost: the agent says so and retries"
	check_blocked "event stream lost: the rule stays in place" from_host api
	old_pid=$(pid_of api)
	dk restart -t 0 "$P-api" >/dev/null
	new_pid=$(pid_of api)
	proxy_up
	back=$(wait_in_netns "$new_pid" "$(ms)" ectl 0.05)
	echo "# a restart during the outage ($old_pid -> $new_pid) caught up ${back} ms after Docker was back"
	check "event stream back: the restart during the outage is caught up within 5 s (${back} ms)" \
		within "$back" 0 5000
	check_blocked "event stream back: api blocked in its new namespace" from_host api
	ectl clear "$eid" >/dev/null
	check "event stream back: clear, api answers" from_host api
else
	not_ok "agent behind a Docker proxy starts"
fi

# --- the agent leaves nothing in the containers -----------------------------
id=$(chaosctl drop --container "$P-web" --for 1m | rule_id)
stop_agent
left=$(nsenter -t "$(pid_of web)" -n tc filter show dev eth0 ingress 2>/dev/null | grep -c nc_tc)
left=$((left + $(nsenter -t "$(pid_of web)" -n "$BUILD/tests/nc_hooks" | grep -c nc_tc)))
check "agent stopped: no classifier left in web ($left)" test "$left" = 0
check "agent stopped: web answers" from_host web

echo "# $T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" = 0 ]
