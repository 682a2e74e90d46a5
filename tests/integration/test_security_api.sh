#!/bin/sh
# tests/integration/test_security_api.sh -- who gets into `snapset serve`
# and what they may touch, against the real serve, the real Keystone of the
# test cloud (tests/cloud/setup) and the real guest ($DOM):
#   - noauth (Cinder's setting) never opens the API: without a usable
#     tokens file serve refuses to start, and "user:project" tokens get 401;
#   - a tokens file that its group may write (0660) is refused;
#   - default deny: an unscoped token gets 401; a token of an unrelated
#     project (made here in Keystone with the openstack CLI, idempotently)
#     gets 403 on every route that names the domain or its set and does not
#     see the set in GET /v1/sets; the owner project (the guest's
#     snapset:owner metadata) gets 202; an admin gets 202;
#   - with Keystone stopped (SIGSTOP, ~6 s; SIGCONT in the EXIT trap)
#     /healthz and a request with a cached token answer in < 1 s while 20
#     bogus tokens wait, and those get 503 at the validation deadline;
#   - a client sending one header byte every 2 s is cut at the request
#     deadline (request_timeout_ms = 3000).
# Needs the guest from tests/guest/setup running (domain $DOM).
set -u
. "$(dirname "$0")/lib.sh"

OWNER_NS=urn:snapset:owner
SPID=""
PORT=""
URL=""
TOKEN=""
KS_PIDS=""
stop_all() {
    if [ -n "$KS_PIDS" ]; then
        # shellcheck disable=SC2086
        kill -CONT $KS_PIDS 2>/dev/null
    fi
    if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
        kill -TERM "$SPID" 2>/dev/null
        wait "$SPID" 2>/dev/null
    fi
    virsh -q -c qemu:///system metadata "$DOM" --uri "$OWNER_NS" --remove \
        >/dev/null 2>&1 || :
}
at_exit stop_all

rand() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

start_serve() { # start_serve CONF: sets SPID, PORT, URL
    : >"$SNAP_ITMP/serve.out"
    "$SNAPSET" -c "$1" --catalog-dir "$SNAP_CATALOG" serve --no-schedule \
        >"$SNAP_ITMP/serve.out" 2>>"$SNAP_ITMP/serve.err" &
    SPID=$!
    PORT=""
    i=0
    while [ $i -lt 600 ]; do
        PORT=$(sed -n 's|^snapset: serving on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$SNAP_ITMP/serve.out")
        [ -n "$PORT" ] && break
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    URL=http://127.0.0.1:$PORT
    [ -n "$PORT" ]
}
stop_serve() {
    kill -TERM "$SPID" 2>/dev/null
    wait "$SPID"
    SPID=""
}
# api METHOD PATH: prints the status; the body is in $SNAP_ITMP/body.
api() {
    curl -s --noproxy '*' --max-time 30 -o "$SNAP_ITMP/body" -w '%{http_code}' \
        -X "$1" ${TOKEN:+-H "X-Auth-Token: $TOKEN"} "$URL$2"
}
api_body() { # api_body METHOD PATH BODY
    curl -s --noproxy '*' --max-time 30 -o "$SNAP_ITMP/body" -w '%{http_code}' \
        -X "$1" ${TOKEN:+-H "X-Auth-Token: $TOKEN"} \
        -H "Content-Type: application/json" --data-binary "$3" "$URL$2"
}
snapshot() { api_body POST "/v1/servers/$DOM/action" "{\"createSnapshot\": {\"name\": \"$1\"}}"; }
wait_done() { # wait_done ID: available / error / http-CODE / timeout
    i=0
    while [ $i -lt 1200 ]; do
        code=$(api GET "/v1/sets/$1")
        [ "$code" = 200 ] || { echo "http-$code"; return; }
        s=$(jq -r .set.state "$SNAP_ITMP/body")
        case $s in available | error) echo "$s"; return ;; esac
        sleep 0.25
        i=$((i + 1))
    done
    echo timeout
}
ms() { date +%s%3N; }

# ---- noauth and the tokens file (no cloud needed) ----------------------------------
begin "noauth never opens the API"
tokens=$SNAP_ITMP/tokens
FILETOK=it-file-$(rand)
printf '%s fileproj admin\n' "$FILETOK" >"$tokens"
chmod 600 "$tokens"
cat >"$SNAP_ITMP/noauth.conf" <<CONF
openstack = { enabled = true; use_env = false; auth_type = "noauth";
              project_id = "c0ffee00c0ffee00c0ffee00c0ffee00";
              volume_endpoint = "http://127.0.0.1:8776/v3/%(project_id)s"; };
http = { port = 0; tokens_file = "$SNAP_ITMP/no-such-tokens"; };
CONF
"$SNAPSET" -c "$SNAP_ITMP/noauth.conf" --catalog-dir "$SNAP_CATALOG" serve --no-schedule \
    >"$SNAP_ITMP/out" 2>"$SNAP_ITMP/e" &
p=$!
i=0
while kill -0 $p 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $p 2>/dev/null; then
    kill -TERM $p; wait $p
    bad "noauth without a tokens file: serve started"
else
    wait $p
    check_num "noauth without a tokens file: serve refuses to start" $? -ne 0
    check "... and says the API needs a tokens file" grep -q "noauth, so the API takes its tokens from http.tokens_file" "$SNAP_ITMP/e"
fi
sed -i "s|$SNAP_ITMP/no-such-tokens|$tokens|" "$SNAP_ITMP/noauth.conf"
if start_serve "$SNAP_ITMP/noauth.conf"; then
    check "noauth with a tokens file: tokens come from the file" grep -q "tokens file" "$SNAP_ITMP/serve.out"
    TOKEN=x:anything
    check_num "noauth: a 'user:project' token gets 401" "$(api GET /v1/sets)" -eq 401
    check_num "noauth: ... also on createSnapshot" "$(snapshot noauth)" -eq 401
    TOKEN=$FILETOK
    check_num "noauth: the file's admin token gets 200" "$(api GET /v1/sets)" -eq 200
    stop_serve
else
    cat "$SNAP_ITMP/serve.err"
    bad "noauth with a tokens file: serve did not start"
fi

begin "tokens file"
cat >"$SNAP_ITMP/file.conf" <<CONF
http = { port = 0; tokens_file = "$tokens"; };
CONF
chmod 660 "$tokens"
"$SNAPSET" -c "$SNAP_ITMP/file.conf" --catalog-dir "$SNAP_CATALOG" serve --no-schedule >/dev/null 2>"$SNAP_ITMP/e"
check_num "a 0660 tokens file: serve refuses to start" $? -ne 0
check "... and names the reason" grep -q "written by its group or others (mode 0660)" "$SNAP_ITMP/e"
chmod 600 "$tokens"
ln -sf "$tokens" "$SNAP_ITMP/tokens-link"
sed "s|$tokens|$SNAP_ITMP/tokens-link|" "$SNAP_ITMP/file.conf" >"$SNAP_ITMP/link.conf"
"$SNAPSET" -c "$SNAP_ITMP/link.conf" --catalog-dir "$SNAP_CATALOG" serve --no-schedule >/dev/null 2>"$SNAP_ITMP/e"
check_num "a symlinked tokens file: serve refuses to start" $? -ne 0
check "... and says it is a symlink" grep -q "is a symlink" "$SNAP_ITMP/e"

# ---- Keystone --------------------------------------------------------------------------
if [ ! -r "$OS_STATE/openrc" ] || ! command -v openstack >/dev/null; then
    echo "     no test cloud (tests/cloud/setup): Keystone checks skipped"
    summary
    exit $?
fi
begin "Keystone projects and tokens"
. "$OS_STATE/openrc"
# ensure_user NAME: a project NAME with a member user NAME (password NAME-pw)
ensure_user() {
    openstack project show "$1" >/dev/null 2>&1 ||
        openstack project create --domain Default "$1" >/dev/null 2>&1 ||
        openstack project show "$1" >/dev/null 2>&1 || return 1
    openstack user show "$1" >/dev/null 2>&1 ||
        openstack user create --domain Default --password "$1-pw" --project "$1" "$1" >/dev/null 2>&1 ||
        openstack user show "$1" >/dev/null 2>&1 || return 1
    openstack user set --password "$1-pw" "$1" >/dev/null 2>&1
    openstack role add --project "$1" --user "$1" member >/dev/null 2>&1 || :
    openstack role assignment list --project "$1" --user "$1" --names -f value | grep -q member
}
user_token() { # user_token NAME
    openstack --os-username "$1" --os-password "$1-pw" --os-project-name "$1" \
        --os-project-domain-name Default --os-user-domain-name Default \
        token issue -f value -c id
}
check "project + member user snapset-sec-owner" ensure_user snapset-sec-owner
check "project + member user snapset-sec-other" ensure_user snapset-sec-other
OWNER_PID=$(openstack project show snapset-sec-owner -f value -c id)
OWNER_TOK=$(user_token snapset-sec-owner)
OTHER_TOK=$(user_token snapset-sec-other)
ADMIN_TOK=$(openstack token issue -f value -c id)
UNSCOPED_TOK=$(curl -s --noproxy '*' -D - -o /dev/null -H 'Content-Type: application/json' \
    -d '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"snapset-sec-other","domain":{"name":"Default"},"password":"snapset-sec-other-pw"}}},"scope":"unscoped"}}' \
    "$OS_AUTH_URL/auth/tokens" | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: *\([^\r]*\).*/\1/p')
check "four tokens (owner, other, admin, unscoped)" test -n "$OWNER_TOK" -a -n "$OTHER_TOK" -a -n "$ADMIN_TOK" -a -n "$UNSCOPED_TOK"
virsh -q -c qemu:///system metadata "$DOM" --uri "$OWNER_NS" --key snapset \
    --set "<owner project=\"$OWNER_PID\"/>" >/dev/null
check "the guest is owned by snapset-sec-owner (snapset:owner metadata)" \
    sh -c "virsh -q -c qemu:///system metadata '$DOM' --uri '$OWNER_NS' | grep -q '$OWNER_PID'"

# snapset's own credentials (admin: it may validate others' tokens) from the
# environment; short bounds so the stall below is quick.
cloud_conf "$SNAP_ITMP/ks.conf" "request_timeout_ms = 4000"
cat >>"$SNAP_ITMP/ks.conf" <<CONF
http = { port = 0; request_timeout_ms = 3000; connection_timeout_ms = 30000;
         validate_timeout_ms = 2000; max_connections_per_ip = 64; };
CONF
chmod 600 "$SNAP_ITMP/ks.conf"
if ! start_serve "$SNAP_ITMP/ks.conf"; then
    cat "$SNAP_ITMP/serve.err"
    bad "serve with Keystone did not start"
    summary
    exit 1
fi
check "serve checks tokens with Keystone" grep -q "Keystone tokens" "$SNAP_ITMP/serve.out"

begin "default deny"
TOKEN=$UNSCOPED_TOK
check_num "an unscoped token: GET /v1/sets 401" "$(api GET /v1/sets)" -eq 401
check_num "an unscoped token: createSnapshot 401" "$(snapshot unscoped)" -eq 401
TOKEN=$OTHER_TOK
check_num "another project: createSnapshot 403" "$(snapshot other)" -eq 403
TOKEN=$OWNER_TOK
code=$(snapshot owner)
check_num "the owner project: createSnapshot 202" "$code" -eq 202
SET=$(jq -r .set_id "$SNAP_ITMP/body")
check "the owner's set is made" test "$(wait_done "$SET")" = available
TOKEN=$OTHER_TOK
check_num "another project: GET /v1/sets/{id} 403" "$(api GET "/v1/sets/$SET")" -eq 403
check_num "another project: GET /v1/sets/{prefix} 403" "$(api GET "/v1/sets/$(echo "$SET" | cut -c1-8)")" -eq 403
check_num "another project: DELETE /v1/sets/{id} 403" "$(api DELETE "/v1/sets/$SET")" -eq 403
check_num "another project: export 403" "$(api_body POST "/v1/sets/$SET/export" '{"name":"x"}')" -eq 403
check_num "another project: createBackup 403" \
    "$(api_body POST "/v1/servers/$DOM/action" '{"createBackup":{"name":"x","backup_type":"d","rotation":1}}')" -eq 403
check_num "another project: /metrics 403" "$(api GET /metrics)" -eq 403
check_num "another project: GET /v1/sets 200" "$(api GET /v1/sets)" -eq 200
check "... without the owner's set" sh -c "! grep -q '$SET' '$SNAP_ITMP/body'"
TOKEN=$OWNER_TOK
check_num "the owner: GET /v1/sets 200" "$(api GET /v1/sets)" -eq 200
check "... with its set" grep -q "$SET" "$SNAP_ITMP/body"
api GET "/v1/sets/$SET" >/dev/null
check "... which recorded its owner" test "$(jq -r '.set.metadata["snapset.owner.project"]' "$SNAP_ITMP/body")" = "$OWNER_PID"
TOKEN=$ADMIN_TOK
code=$(snapshot admin)
check_num "an admin: createSnapshot 202" "$code" -eq 202
ASET=$(jq -r .set_id "$SNAP_ITMP/body")
check "the admin's set is made" test "$(wait_done "$ASET")" = available
check_num "an admin: GET the owner's set 200" "$(api GET "/v1/sets/$SET")" -eq 200
check_num "an admin: DELETE the owner's set 202" "$(api DELETE "/v1/sets/$SET")" -eq 202

begin "Keystone stalled"
pidfile=$OS_STATE/run/keystone-uwsgi.pidfile
master=$(cat "$pidfile" 2>/dev/null)
if [ -z "$master" ] || ! kill -0 "$master" 2>/dev/null; then
    bad "no keystone process ($pidfile)"
else
    KS_PIDS="$master $(pgrep -P "$master" | tr '\n' ' ')"
    TOKEN=$OWNER_TOK
    api GET /v1/sets >/dev/null # cached now
    # shellcheck disable=SC2086
    kill -STOP $KS_PIDS
    t0=$(ms)
    n=0
    bogus=""
    while [ $n -lt 20 ]; do
        curl -s --noproxy '*' --max-time 30 -o "$SNAP_ITMP/bogus-body.$n" -w '%{http_code}\n' \
            -H "X-Auth-Token: gAAAAA-bogus-$n-$(rand)" "$URL/v1/sets" >"$SNAP_ITMP/bogus.$n" &
        bogus="$bogus $!"
        n=$((n + 1))
    done
    sleep 1
    # the answer time as curl measures it (not the start of a process on a
    # loaded host)
    r=$(curl -s --noproxy '*' --max-time 30 -o /dev/null -w '%{http_code} %{time_total}' "$URL/healthz")
    check_num "/healthz while 20 bogus tokens wait: 200" "${r% *}" -eq 200
    check_num "... in < 1 s (ms)" "$(echo "${r#* }" | awk '{printf "%d", $1 * 1000}')" -lt 1000
    r=$(curl -s --noproxy '*' --max-time 30 -o /dev/null -w '%{http_code} %{time_total}' \
        -H "X-Auth-Token: $TOKEN" "$URL/v1/sets")
    check_num "a cached token while Keystone is stopped: 200" "${r% *}" -eq 200
    check_num "... in < 1 s (ms)" "$(echo "${r#* }" | awk '{printf "%d", $1 * 1000}')" -lt 1000
    wait_ms=$((6000 - ($(ms) - t0)))
    [ $wait_ms -gt 0 ] && sleep "$(echo "$wait_ms" | awk '{printf "%.3f", $1 / 1000}')"
    # shellcheck disable=SC2086
    kill -CONT $KS_PIDS
    KS_PIDS=""
    # shellcheck disable=SC2086
    wait $bogus
    cat "$SNAP_ITMP"/bogus.* | sort | uniq -c | sed 's/^/     bogus tokens: /'
    n503=$(cat "$SNAP_ITMP"/bogus.* | grep -c '^503$')
    n401=$(cat "$SNAP_ITMP"/bogus.* | grep -c '^401$')
    check_num "the 20 bogus tokens were all refused: 503 at the validation deadline (or 401 once Keystone was back)" \
        $((n503 + n401)) -eq 20
    check_num "... most of them while Keystone was stopped (503)" "$n503" -ge 10
    check "... saying only \"authentication service unavailable\"" \
        grep -q '"message":"authentication service unavailable"' "$SNAP_ITMP/bogus-body.0"
    check "... naming no internal URL or user" sh -c \
        "! grep -q '127.0.0.1\\|:5000\\|admin' '$SNAP_ITMP/bogus-body.0'"
    check_num "after the stall, the owner token still works" "$(api GET /v1/sets)" -eq 200
fi

begin "slow clients"
cat >"$SNAP_ITMP/slow.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.time()
line = b"GET /v1/sets HTTP/1.1\r\n"  # 23 bytes: 46 s if never cut
try:
    for ch in line:
        s.send(bytes([ch]))
        s.settimeout(2.0)
        try:
            if s.recv(1) == b"":
                break
        except socket.timeout:
            pass
    else:
        print("never-cut")
        sys.exit(0)
except (BrokenPipeError, ConnectionResetError):
    pass
print("%d" % int((time.time() - t0) * 1000))
PY
cut_ms=$(python3 "$SNAP_ITMP/slow.py" "$PORT")
check "a client sending a byte every 2 s is cut" test "$cut_ms" != never-cut
check_num "... at the 3 s request deadline (ms)" "${cut_ms:-99999}" -lt 6000
TOKEN=""
check_num "the server still answers" "$(api GET /healthz)" -eq 200
stop_serve

summary
