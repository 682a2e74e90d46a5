#!/bin/sh
# bench/api_load.sh -- load test of the HTTP API (`snapset serve`) with wrk
# on 127.0.0.1: throughput and p99 latency of GET /v1/sets (the catalog read
# and turned into JSON on every request), GET /v1/sets/{id} and /metrics,
# each next to GET /healthz measured in the same run (the server's floor:
# routing and a fixed answer, no token, no catalog), and the server's RSS
# before, between and after the rounds (memory must stay flat).
#
#   bench/api_load.sh            SNAPSET=build/coordinator/cli/snapset
#   DURATION=10 CONNS=16 THREADS=2 NSETS=50 SERVE_THREADS=4 ROUNDS=5 \
#       bench/api_load.sh
#
# It prints numbers and ratios; it never passes or fails on timing (the exit
# status only says whether the benchmark could run). The catalog is
# synthetic -- NSETS documents of 4 domains, 3 members each, as snapset
# writes them -- so no guest is needed; serve's start-up recovery talks to
# libvirt's in-process test driver (test:///default). Loopback only.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
SNAPSET=${SNAPSET:-$repo/build/coordinator/cli/snapset}
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
NSETS=${NSETS:-50}
SERVE_THREADS=${SERVE_THREADS:-4}

for t in wrk curl jq; do
    command -v $t >/dev/null 2>&1 || { echo "api_load: $t not found: run scripts/install-deps" >&2; exit 1; }
done
[ -x "$SNAPSET" ] || { echo "api_load: no $SNAPSET: build first (cmake --build build)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/snapset-bench.XXXXXX)
spid=""
cleanup() {
    if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
        kill -TERM "$spid"
        wait "$spid" 2>/dev/null || :
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# ---- a synthetic catalog ---------------------------------------------------------
mkdir -p "$tmp/cat/sets" "$tmp/cat/locks"
chmod 700 "$tmp/cat"
i=0
while [ $i -lt "$NSETS" ]; do
    uuid=$(printf '%08x-0000-4000-8000-%012x' "$i" "$i")
    d=$((i % 4))
    duuid=$(printf 'dddddddd-0000-4000-8000-%012x' "$d")
    created=$(date -u -d "@$((1790000000 + i * 3600))" +%Y-%m-%dT%H:%M:%S.000Z)
    finished=$(date -u -d "@$((1790000000 + i * 3600 + 5))" +%Y-%m-%dT%H:%M:%S.000Z)
    jq -n --arg u "$uuid" --arg dn "vm$d" --arg du "$duuid" --arg dir "$tmp/cat/sets/$uuid" \
        --arg c "$created" --arg f "$finished" '{
        version: 1, uuid: $u, name: "bench", domain: {name: $dn, uuid: $du},
        dir: $dir, backup_type: "daily", rotation: 7, created: $c, finished: $f,
        state: "available", consistency: "filesystem", quiesce: "preferred",
        pause_requested: false, error: null, group_snapshot_id: null,
        freeze_window_ms: 183, pause_window_ms: null, frozen_filesystems: 3,
        members: [ ("vda", "vdb", "vdc") as $t | {target: $t, serial: $t,
            kind: "local", source_type: "file", source: ("/img/" + $t + ".qcow2"),
            format: "qcow2", volume_id: null, location: ($dir + "/" + $t + ".qcow2"),
            copy_format: "qcow2", size: 67108864, state: "available"} ],
        journal: {freeze_attempted: true, thawed: true, pause_attempted: false,
            resumed: false, owner_pid: 1, owner_start: 1} }' >"$tmp/cat/sets/$uuid.json"
    i=$((i + 1))
done
one=$(printf '%08x-0000-4000-8000-%012x' 0 0)

token=bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s admin admin\n' "$token" >"$tmp/tokens"
chmod 600 "$tmp/tokens"
cat >"$tmp/snapset.conf" <<CONF
libvirt_uri = "test:///default";
http = { address = "127.0.0.1"; port = 0; tokens_file = "$tmp/tokens";
         threads = $SERVE_THREADS; workers = 1; };
CONF

# ---- the server ------------------------------------------------------------------
"$SNAPSET" -c "$tmp/snapset.conf" --catalog-dir "$tmp/cat" serve >"$tmp/serve.out" 2>"$tmp/serve.err" &
spid=$!
port=""
n=0
while [ -z "$port" ] && [ $n -lt 100 ]; do
    port=$(sed -n 's|^snapset: serving on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$tmp/serve.out")
    kill -0 "$spid" 2>/dev/null || break
    [ -n "$port" ] || sleep 0.1
    n=$((n + 1))
done
if [ -z "$port" ]; then
    cat "$tmp/serve.err" >&2
    echo "api_load: serve did not start" >&2
    exit 1
fi
url=http://127.0.0.1:$port
got=$(curl -s --noproxy '*' -H "X-Auth-Token: $token" "$url/v1/sets" | jq '.sets | length')
if [ "$got" != "$NSETS" ]; then
    echo "api_load: GET /v1/sets shows $got sets, not $NSETS (catalog format changed?)" >&2
    exit 1
fi

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$spid/status"; }

# run NAME PATH [TOKEN]: one wrk measurement; sets RPS, P99 (ms), BAD.
run() {
    if [ -n "${3:-}" ]; then
        wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -H "X-Auth-Token: $3" "$url$2" >"$tmp/$1.wrk" 2>&1
    else
        wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$url$2" >"$tmp/$1.wrk" 2>&1
    fi
    RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/$1.wrk")
    P99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                             f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1
                             printf "%.3f", v * f }' "$tmp/$1.wrk")
    BAD=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$tmp/$1.wrk")
    BAD=${BAD:-0}
    ERR=$(awk '/Socket errors:/ { print }' "$tmp/$1.wrk")
}

ROUNDS=${ROUNDS:-5}
echo "snapset HTTP API load: wrk -t$THREADS -c$CONNS, ${DURATION}s per round, $NSETS sets, serve threads $SERVE_THREADS"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
rss_start=$(rss)
run warmup /healthz
run healthz /healthz
h_rps=$RPS h_p99=$P99 h_bad=$BAD
rss_h=$(rss)
row() { # row NAME: the last measurement against the baseline
    printf '%-22s %12s %10s %10s %10s %8s %9s\n' "$1" "$RPS" "$P99" "$(ratio "$RPS" "$h_rps")" \
        "$(ratio "$P99" "$h_p99")" "$BAD" "$(rss)"
    [ -z "$ERR" ] || echo "    wrk: $ERR"
}
echo
printf '%-22s %12s %10s %10s %10s %8s %9s\n' "GET" "req/s" "p99 ms" "req/s:hz" "p99:hz" "non-2xx" "RSS kB"
RPS=$h_rps P99=$h_p99 BAD=$h_bad
row "/healthz (baseline)"
k=1
rss_first=""
while [ $k -le "$ROUNDS" ]; do
    run "sets$k" /v1/sets "$token"
    row "/v1/sets round $k"
    [ -n "$rss_first" ] || rss_first=$(rss)
    k=$((k + 1))
done
rss_last=$(rss)
run set "/v1/sets/$one" "$token"
row "/v1/sets/{id}"
run metrics /metrics "$token"
row "/metrics"
rss_end=$(rss)
echo
echo "RSS (kB): start $rss_start, after /healthz $rss_h, after /v1/sets round 1 $rss_first, after round $ROUNDS $rss_last, end $rss_end"
echo "RSS over the /v1/sets rounds (last / first): $(ratio "$rss_last" "$rss_first")"
echo "RSS end / start: $(ratio "$rss_end" "$rss_start")"
kill -TERM "$spid"
wait "$spid" && echo "serve stopped cleanly" || echo "serve exit status $?"
spid=""
