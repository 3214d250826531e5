#!/usr/bin/env bash
# warpctl against a fake admin server (warpctl_fake_admin, canned answers
# in warpctl_answers.json): every command's table and --json, the request
# each sends, every exit code, and servers that misbehave (close early,
# garbage, a partial line, 17 MiB without a line end, silence). No root,
# no data plane; a few seconds.
set -euo pipefail
BUILD=${WE_BUILD_DIR:?}
SRC=${WE_SOURCE_DIR:?}
WARPCTL=${WARPCTL:-$BUILD/tools/warpctl/warpctl}
FAKE=${WARPCTL_FAKE_ADMIN:-$BUILD/tools/warpctl/warpctl_fake_admin}
ANSWERS=$SRC/tests/integration/warpctl_answers.json

tmp=$(mktemp -d)
fake_pid=
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
SOCK=$tmp/admin.sock
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# start_fake ANSWERS_FILE: serve it on $SOCK, requests logged to $tmp/requests.
start_fake() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true; fi
  rm -f "$SOCK" "$tmp/requests"
  "$FAKE" "$SOCK" "$1" "$tmp/requests" &
  fake_pid=$!
  for _ in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
  echo "the fake admin server did not start"; exit 1
}

# run WANT_RC ARGS...: warpctl's stdout in $tmp/out, stderr in $tmp/err.
run() {
  local want=$1 rc=0
  shift
  "$WARPCTL" --socket "$SOCK" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    fail "warpctl $* exited $rc, expected $want"
    sed 's/^/  stdout: /' "$tmp/out" | head -20
    sed 's/^/  stderr: /' "$tmp/err" | head -5
  fi
}
# has FILE TEXT: FILE has a line matching the extended regex TEXT.
has() { grep -Eq -- "$2" "$tmp/$1" || { fail "$1 of the last command lacks /$2/"; sed 's/^/  /' "$tmp/$1" | head -20; }; }
last_request() { tail -n 1 "$tmp/requests"; }

start_fake "$ANSWERS"

# Tables for people.
run 0 status
has out '^state +stable$'
has out '^control uptime +2h 05m$'
has out '^data plane +connected, up 3d 04h 04m$'
has out '^requests +1\.23 M/s$'
has out '^items +12\.3 M$'
[ "$(last_request)" = '{"command":"status"}' ] || fail "status sent $(last_request)"

run 0 health
has out '^overall: warning$'
has out '^entropy_levels +warning +0\.31 +0\.25 +load imbalance'
has out '^vacuum_stability +healthy +42\.5 % +90 % '

run 0 stats
has out '^rates over the last 1 s$'
has out '^rx_packets +123 M +1\.23 M/s$'
has out '^rx_bytes +9\.2 GiB +94\.2 MiB/s$'
grep -q '^req_delete' "$tmp/out" && fail "stats shows a zero counter without --all"
has out '^ +1 +61\.7 M +61\.7 M +61\.5 M +988 M +1\.2 ms$'
has out 'service time .*1 k samples, mean 1\.8 us, p50 <= 1 us, p90 <= 2 us, p99 <= 4 us'
run 0 stats --all
has out "^req_delete +0 +0/s$"
run 0 stats --worker 1
[ "$(last_request)" = '{"command":"stats","worker":1}' ] || fail "stats --worker 1 sent $(last_request)"
run 2 stats --worker 9
has err "^warpctl: stats: no worker 9 \(the data plane has 4: 0..3\)$"

run 0 shards
has out '^worker +items +capacity +memory used +memory +used +in pieces +regions +requests +load share +raw/lz4/hc/disk$'
has out '^ +0 +6\.17 M +8\.39 M +512 MiB +1 GiB +50 % +- +1024 +617 k/s +50 % +-$'
has out '^ +1 +6\.17 M +8\.39 M +256 MiB +1 GiB +25 % +24 MiB +1024 +617 k/s +50 % +6000000/170000/2839/12$'

run 0 dashboard
has out '^universe_status +uptime_seconds +274 k +seconds since the data plane started$'
has out '^physics_state +entropy_rebalancing_needed +false +imbalance above'
has out '^resource_utilization +total_memory_mb +4 GiB +shard memory'
has out '^performance_metrics +wormhole_routes_per_second +12 k +requests forwarded'
run 0 --json dashboard
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["performance_metrics"]["avg_operation_latency_us"]==3.2' "$tmp/out" \
  || fail "dashboard --json is not the dashboard object"

run 0 config get
has out '^idle_sleep_us +worker +50,50,200,50 +us +1\.\.100000 +yes +operate '
has out '^arena_mb +worker +1024 \(all workers\) +MiB +16\.\.65536 +restart +admin '
run 2 config get nonesuch
has err '^warpctl: config-get: no setting "nonesuch"'
[ "$(last_request)" = '{"command":"config-get","name":"nonesuch"}' ] || fail "config get sent $(last_request)"
run 0 config set idle_sleep_us 100 --worker 2
has out '^idle_sleep_us = 100: applied, persisted'
[ "$(last_request)" = '{"command":"config-set","name":"idle_sleep_us","value":"100","worker":2}' ] \
  || fail "config set sent $(last_request)"

run 1 checkpoint
has err '^warpctl: checkpoint: no data directory \(start with --data-dir\)$'
[ ! -s "$tmp/out" ] || fail "a failed command printed to stdout"

run 0 regions
has out '^8 regions over 4 workers$'
has out '^ +2 +9002 +3$'
sed 's/"udp_port_base": 9000,/"udp_port_base": 9000, "epoch": 12, "moving": [{"region": 3, "from": 3, "to": 0, "state": "importing"}],/' \
  "$ANSWERS" >"$tmp/answers_epoch.json"
start_fake "$tmp/answers_epoch.json"
run 0 regions
has out '^8 regions over 4 workers, map epoch 12, 1 moving$'
start_fake "$ANSWERS"
run 0 regions --output "$tmp/map.json"
has out "^wrote .*map.json: 8 regions over 4 workers$"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d=={"workers":4,"regions":8,"udp_port_base":9000,"owner":[0,1,2,3,0,1,2,2]}, d' "$tmp/map.json" \
  || fail "regions --output did not write the result object"
ls "$tmp"/map.json.tmp.* 2>/dev/null && fail "regions --output left a temporary file"
run 1 regions --output "$tmp/no/such/dir/map.json"
has err '^warpctl: --output .*/no/such/dir/map.json.tmp.[0-9]+: No such file or directory$'

run 0 topology
has out '^version 7, 3 workers, updated 2026-12-03T14:00:05Z$'
has out '^connection +type +strength +cost +share +usage +rate +last accessed$'
# the strongest first; usage and rates for people
sed -n 4p "$tmp/out" | grep -Eq '^worker0->worker1 +fast_lane +1\.000 +1 +87\.7 % +1\.5 M +12\.3 k/s +2026-12-03T14:00:05Z$' \
  || fail "topology: the first row is not the strongest connection: $(sed -n 4p "$tmp/out")"
sed -n 5p "$tmp/out" | grep -Eq '^worker1->worker2 +standard +0\.140 +7\.143 ' || fail "topology: row 2 is $(sed -n 5p "$tmp/out")"
has out '^worker2->worker0 +experimental +0\.010 +100 +0 % +0 +- +never$'
[ "$(last_request)" = '{"command":"topology"}' ] || fail "topology sent $(last_request)"
run 0 route worker0 2 --max-hops 3
has out '^worker0 -> worker1 -> worker2$'
has out '^hops 2, cost 8\.143 \(from the route cache\)$'
[ "$(last_request)" = '{"command":"route","from":"worker0","to":"2","max_hops":3}' ] || fail "route sent $(last_request)"
run 0 route 0 1
[ "$(last_request)" = '{"command":"route","from":"0","to":"1"}' ] || fail "route without --max-hops sent $(last_request)"
run 2 route worker0
run 2 topology --max-hops 2
has err '^warpctl: --max-hops does not apply to'
run 2 route 0 1 --max-hops 200
run 0 --json topology
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["connections"][1]["last_accessed"] is None and d["version"]==7' "$tmp/out" \
  || fail "topology --json is not the topology object"

run 0 ping
has out '^control +0\.1\.0, up 2h 05m$'
has out '^data plane +not connected$'
run 4 whoami
has err '^warpctl: whoami: uid 1234 is not on the allow-list$'
run 0 commands
has out '^checkpoint +operate +begin a checkpoint now$'
[ "$(last_request)" = '{"command":"list-commands"}' ] || fail "commands sent $(last_request)"
run 0 help config set
has out '^config-set \(role operate\): change a setting$'
[ "$(last_request)" = '{"command":"help","name":"config-set"}' ] || fail "help config set sent $(last_request)"
run 3 help status
has err 'the data plane is not reachable right now'

# Load balancing: hot keys, the entropy monitor, region moves, rebalances.
run 0 hotkeys
has out '^merged: 1000 sampled \(1 of every 16 requests\), window 10 s$'
has out '^ +1 +user:42 +31\.2 % +312 +<= 2$'
has out '^ +2 +cart:\\x00\\x01 +10 % +100 +<= 0$'
grep -q '^worker 0' "$tmp/out" && fail "hotkeys shows workers without --per-worker"
[ "$(last_request)" = '{"command":"hotkeys","n":20}' ] || fail "hotkeys sent $(last_request)"
run 0 hotkeys --n 5 --per-worker
has out '^worker 1: 400 sampled$'
[ "$(last_request)" = '{"command":"hotkeys","n":5}' ] || fail "hotkeys --n 5 sent $(last_request)"
run 2 hotkeys --n 0
run 0 entropy
has out '^max/mean +1\.620 \(threshold 1\.5, 2 samples above\)$'
has out '^entropy, workers +0\.780$'
has out '^automatic rebalance +off \(threshold 1\.5, cooldown 30 s\)$'
has out '^ +0 +2048 +202 k/s +81 % +70 % +2\.50 bits$'
has out '^ +1 +2048 +47\.5 k/s +19 % +30 % +-$'
run 0 move-region 12 3
has out '^move 7: region 12, worker 0 -> 3: done, 1200 items in 4 ms$'
[ "$(last_request)" = '{"command":"move-region","region":12,"worker":3,"wait":true}' ] \
  || fail "move-region sent $(last_request)"
run 0 move-region 12 3 --no-wait
[ "$(last_request)" = '{"command":"move-region","region":12,"worker":3,"wait":false}' ] \
  || fail "move-region --no-wait sent $(last_request)"
run 2 move-region 4096 1
has err "region: '4096' is not a number in 0\.\.4095"
run 2 move-region 1
run 0 move-status
has out '^active +move 9: region 14, 0 -> 1, exporting$'
has out '^last error +region 3: worker 9 does not exist$'
has out '^ +8 +3 +0 +9 +0 +0 s +failed$'
: >"$tmp/requests"
run 0 rebalance moderate
[ "$(head -n 1 "$tmp/requests")" = '{"command":"rebalance","mode":"moderate","dry_run":false}' ] \
  || fail "rebalance sent $(head -n 1 "$tmp/requests")"
[ "$(last_request)" = '{"command":"rebalance-status"}' ] || fail "rebalance did not follow with rebalance-status"
has out '^rebalance 4 \(moderate, manual\): done$'
has out '^measured after +1\.080 +0\.990 +0\.910$'
has out '^predicted after +1\.070 +0\.990 +-$'
has out '^ +12 +0 +1 +50 k/s$'
: >"$tmp/requests"
run 0 rebalance aggressive --dry-run
[ "$(head -n 1 "$tmp/requests")" = '{"command":"rebalance","mode":"aggressive","dry_run":true}' ] \
  || fail "rebalance --dry-run sent $(head -n 1 "$tmp/requests")"
run 2 rebalance fast
has err "minimal, moderate or aggressive"
run 2 --dry-run status
has err '^warpctl: --dry-run does not apply to'

# --json: the result as received, keys in the server's order, reals exact.
run 0 --json stats
python3 - "$tmp/out" "$ANSWERS" <<'PY' || fail "stats --json differs from the answer's result"
import json, sys
got = json.load(open(sys.argv[1]), object_pairs_hook=list)
want = json.load(open(sys.argv[2]), object_pairs_hook=list)
want = dict(want)["stats"]
assert got == dict(want)["result"], (got, want)
PY
has out '^  "interval_s": 1\.0,$'
has out '^    "rx_bytes": 98765432\.1,$'

# Usage errors: exit 2, nothing sent.
: >"$tmp/requests"
run 2 nonesuch
has err "unknown command 'nonesuch'"
run 2 config set only_a_name
run 2 --all status
has err '^warpctl: --all does not apply to'
run 2 --timeout-ms 0 status
has err "^warpctl: --timeout-ms: '0' is not a number in 1\.\.3600000 ms$"
run 2 --bogus status
run 2
[ -s "$tmp/requests" ] && fail "a usage error sent a request"
run 0 --help
has out '^  4  permission denied$'
# docs/warpctl.md's option table is the one the option table generates.
"$WARPCTL" --help-markdown >"$tmp/options.md"
grep -A 100 '^| option | value |' "$SRC/docs/warpctl.md" | sed '/^$/,$d' >"$tmp/options_doc.md"
diff -u "$tmp/options_doc.md" "$tmp/options.md" \
  || fail "docs/warpctl.md's option table differs from warpctl --help-markdown"

# Servers that misbehave: a clear sentence, exit 1 or 3, never a crash.
misbehave() { # HOW WANT_RC MESSAGE_REGEX
  printf '{"*": "%s"}\n' "$1" >"$tmp/answers_$1.json"
  start_fake "$tmp/answers_$1.json"
  run "$2" --timeout-ms 2000 status
  has err "$3"
}
misbehave close 3 'closed the connection without answering'
misbehave garbage 1 'malformed answer from the server \(not JSON'
misbehave partial 1 'closed the connection in the middle of its answer'
misbehave not-object 1 'malformed answer .*not an object with "ok"'
misbehave no-ok 1 'malformed answer .*not an object with "ok"'
misbehave huge 1 'longer than 16 MiB without a line end'
t0=$(date +%s%N)
misbehave silent 3 'no answer within the timeout'
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -lt 4000 ] || fail "--timeout-ms 2000 took $(( (t1 - t0) / 1000000 )) ms"

# A result the table cannot show: exit 1 and a pointer to --json.
printf '{"status": {"ok": true, "result": {"no_state": 1}}}\n' >"$tmp/answers_odd.json"
start_fake "$tmp/answers_odd.json"
run 1 status
has err 'status: the answer has no "state" \(--json shows the answer as received\)'
run 0 --json status

# route's errors: the server's sentence and code.
printf '%s\n' '{"route": {"ok": false, "error": "no node \"worker9\": the topology has worker0..worker3", "code": "usage"},' \
  '"topology": {"ok": false, "error": "no topology yet (no sample of the data plane so far)", "code": "unavailable"}}' >"$tmp/answers_route.json"
start_fake "$tmp/answers_route.json"
run 2 route worker0 worker9
has err '^warpctl: route: no node "worker9": the topology has worker0\.\.worker3$'
run 3 topology
has err '^warpctl: topology: no topology yet'


# Nobody there: no socket, then a socket nobody listens on.
kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true; fake_pid=
run 3 status
has err 'Connection refused'
rm -f "$SOCK"
run 3 status
has err 'No such file or directory'
WARPCTL_SOCKET=$tmp/env.sock "$WARPCTL" status 2>"$tmp/err" && fail "status without a server succeeded"
has err "$tmp/env.sock"

# A socket this user may not open: mode 0600, and as root warpctl runs as
# nobody (root opens any socket).
start_fake "$ANSWERS"
chmod 600 "$SOCK"
as_other=
if [ "$(id -u)" = 0 ]; then
  command -v setpriv >/dev/null && as_other="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
if [ "$(id -u)" != 0 ] || [ -n "$as_other" ]; then
  rc=0
  $as_other "$WARPCTL" --socket "$SOCK" status >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ "$rc" = 4 ] || fail "status on a 0600 socket of another user exited $rc, expected 4"
  has err 'Permission denied'
else
  echo "note: running as root without setpriv: the permission-denied case is not checked"
fi

if [ "$failures" != 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "warpctl: every command, exit code and misbehaving server as expected"
