#!/bin/sh
# tests/integration/test_http_api.sh -- `snapset serve` on the real guest,
# driven with curl on 127.0.0.1: createBackup x4 with rotation 2 leaves the
# 2 newest sets; two concurrent createBackup calls give one 202 and one 409
# (and the CLI is locked out too); every bad input gets its code and the
# server keeps serving; no token -> 401; metrics; DELETE; SIGTERM during a
# job finishes it; a killed server is recovered at the next start. With the
# test cloud (tests/cloud/setup): Keystone tokens, rotation removes the
# Cinder snapshots of the sets it deletes, POST /v1/sets/{id}/export makes
# an OVA image in Glance, and rotation deletes that image with its set.
#
# Needs the guest from tests/guest/setup running (domain $DOM).
set -u
. "$(dirname "$0")/lib.sh"

osconf=$SNAP_ITMP/snapset-os.conf
SPID=""
PORT=""
URL=""
TOKEN=""
vols=""
stop_all() {
    if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
        kill -TERM "$SPID" 2>/dev/null
        wait "$SPID" 2>/dev/null
    fi
    if [ -n "$vols" ]; then
        # Sets with Cinder snapshots keep their volume from being deleted.
        for id in $(ss -c "$osconf" list --json 2>/dev/null | jq -r '.[].uuid'); do
            ss -c "$osconf" delete "$id" >/dev/null 2>&1 || echo "cannot delete set $id"
        done
    fi
    for v in $vols; do
        "$G/gexec" "$DOM" "volrelease $v" >/dev/null 2>&1 || :
        "$C/detach-volume" "$DOM" "$v" --delete >/dev/null 2>&1 || echo "cannot detach $v"
    done
    # the owner given to the guest for the Keystone part
    virsh -q -c qemu:///system metadata "$DOM" --uri urn:snapset:owner --remove \
        >/dev/null 2>&1 || :
}
at_exit stop_all

rand() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
ADMIN=it-admin-$(rand)
READER=it-reader-$(rand)
tokens=$SNAP_ITMP/tokens
printf '# test tokens\n%s admin admin,member\n%s admin reader\n' "$ADMIN" "$READER" >"$tokens"
conf=$SNAP_ITMP/snapset.conf
cat >"$conf" <<CONF
http = { port = 0; tokens_file = "$tokens"; allowed_roles = [ "admin" ];
         max_body_bytes = 4096; workers = 2; shutdown_timeout_ms = 300000; };
CONF

# start_serve CONF [OPTIONS]: starts serve in the background; sets SPID, PORT
# and URL from the line it prints. False when it does not come up.
start_serve() {
    c=$1
    shift
    : >"$SNAP_ITMP/serve.out"
    "$SNAPSET" -c "$c" --catalog-dir "$SNAP_CATALOG" serve "$@" \
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
# stop_serve: SIGTERM, wait; serve's exit status in $SRC. (Not in a $(...):
# only this shell can wait for its child.)
stop_serve() {
    kill -TERM "$SPID" 2>/dev/null
    wait "$SPID"
    SRC=$?
    SPID=""
}

hcurl() { # curl with the current $TOKEN (none when empty)
    if [ -n "$TOKEN" ]; then
        curl -s --noproxy '*' --max-time 60 -H "X-Auth-Token: $TOKEN" "$@"
    else
        curl -s --noproxy '*' --max-time 60 "$@"
    fi
}
# api METHOD PATH [BODY [CONTENT-TYPE]]: prints the status code; the body is
# in $SNAP_ITMP/body, the headers in $SNAP_ITMP/headers.
api() {
    m=$1
    p=$2
    shift 2
    if [ $# -ge 1 ]; then
        hcurl -o "$SNAP_ITMP/body" -D "$SNAP_ITMP/headers" -w '%{http_code}' \
            -X "$m" -H "Content-Type: ${2:-application/json}" --data-binary "$1" "$URL$p"
    else
        hcurl -o "$SNAP_ITMP/body" -D "$SNAP_ITMP/headers" -w '%{http_code}' -X "$m" "$URL$p"
    fi
}
backup() { # backup DOMAIN NAME TYPE ROTATION: POST createBackup, prints the code
    api POST "/v1/servers/$1/action" \
        "{\"createBackup\": {\"name\": \"$2\", \"backup_type\": \"$3\", \"rotation\": $4}}"
}
# wait_done ID: waits until the set is available or error (or gone); prints it.
wait_done() {
    i=0
    while [ $i -lt 2400 ]; do
        code=$(api GET "/v1/sets/$1")
        case $code in
        200) ;;
        404) echo gone; return ;;
        *) echo "http-$code"; return ;;
        esac
        s=$(jq -r .set.state "$SNAP_ITMP/body" 2>/dev/null)
        case $s in available | error) echo "$s"; return ;; esac
        sleep 0.25
        i=$((i + 1))
    done
    echo timeout
}
# ids DOMAIN TYPE: the ids of the domain's sets of that type, oldest first.
ids() {
    api GET "/v1/sets?domain=$1&backup_type=$2" >/dev/null
    jq -r '.sets | sort_by(.created) | .[].id' "$SNAP_ITMP/body"
}
# wait_count DOMAIN TYPE N: until the domain has N sets of that type (60 s).
wait_count() {
    i=0
    while [ $i -lt 240 ]; do
        [ "$(ids "$1" "$2" | wc -l)" -eq "$3" ] && return 0
        sleep 0.25
        i=$((i + 1))
    done
    return 1
}
alive() { kill -0 "$SPID" 2>/dev/null; }

# ---- start ------------------------------------------------------------------
begin "serve starts"
chmod 644 "$tokens"
"$SNAPSET" -c "$conf" --catalog-dir "$SNAP_CATALOG" serve >/dev/null 2>"$SNAP_ITMP/e"
check_num "a tokens file others can read: serve refuses to start" $? -eq 1
check "... and says why" grep -q "can be read by others" "$SNAP_ITMP/e"
chmod 600 "$tokens"
if ! start_serve "$conf"; then
    cat "$SNAP_ITMP/serve.err"
    bad "serve did not start"
    summary
    exit 1
fi
ok "listening on 127.0.0.1:$PORT"
check "bound to loopback only" sh -c "grep -q 'serving on http://127.0.0.1:' '$SNAP_ITMP/serve.out'"
check_num "GET /healthz needs no token" "$(api GET /healthz)" -eq 200

begin "auth"
TOKEN=""
check_num "no token: 401" "$(api GET /v1/sets)" -eq 401
TOKEN=wrong-token-0123456789abcdef
check_num "unknown token: 401" "$(api GET /v1/sets)" -eq 401
check_num "unknown token on an action: 401" "$(backup "$DOM" x daily 2)" -eq 401
TOKEN=$READER
# default deny: a project that owns no domain sees no set and acts on none
check_num "a token without the admin role: GET /v1/sets 200" "$(api GET /v1/sets)" -eq 200
check "... and sees no set" test "$(jq '.sets | length' "$SNAP_ITMP/body")" = 0
check_num "... createBackup of a domain its project does not own: 403" "$(backup "$DOM" x daily 2)" -eq 403
TOKEN=$ADMIN
check_num "the admin token: 200" "$(api GET /v1/sets)" -eq 200

# ---- createBackup x4, rotation 2 ----------------------------------------------
begin "createBackup x4 with rotation 2"
snap_id=""
code=$(api POST "/v1/servers/$DOM/action" '{"createSnapshot": {"name": "keep me", "metadata": {"ticket": "OPS-42", "why": "before upgrade"}}}')
check_num "createSnapshot: 202" "$code" -eq 202
snap_id=$(jq -r .set_id "$SNAP_ITMP/body")
snap_job=$(jq -r .job_id "$SNAP_ITMP/body")
check "the answer names its job" test "$(jq -r .job "$SNAP_ITMP/body")" = "/v1/jobs/$snap_job"
check "createSnapshot set is available" test "$(wait_done "$snap_id")" = available
check "GET shows the metadata it was made with" \
    test "$(jq -c .set.metadata "$SNAP_ITMP/body")" = '{"ticket":"OPS-42","why":"before upgrade"}'
ss show "$snap_id" >"$SNAP_ITMP/show.txt" 2>&1
check "so does the catalog (snapset show)" grep -q 'ticket = OPS-42' "$SNAP_ITMP/show.txt"
# the job ends just after the set: bounded wait for its record
job_state() {
    api GET "/v1/jobs/$1" >/dev/null
    jq -r .job.state "$SNAP_ITMP/body"
}
i=0
while [ $i -lt 40 ] && [ "$(job_state "$snap_job")" != succeeded ]; do sleep 0.25; i=$((i + 1)); done
check "GET /v1/jobs/{id}: succeeded" test "$(job_state "$snap_job")" = succeeded
check "... its result locates the set" test "$(jq -r .job.result.location "$SNAP_ITMP/body")" = "/v1/sets/$snap_id"
check "... kind create, progress 100, finished" test "$(jq -r '[.job.kind, .job.progress, (.job.finished > 0)] | join(" ")' "$SNAP_ITMP/body")" = "create 100 true"
check_num "GET /v1/jobs?state=succeeded: 200" "$(api GET "/v1/jobs?state=succeeded&domain=$DOM")" -eq 200
check "... lists it" sh -c "jq -e --arg j '$snap_job' '[.jobs[].id] | index(\$j) != null' '$SNAP_ITMP/body' >/dev/null"
check "the record is in the catalog, 0600" test "$(stat -c %a "$SNAP_CATALOG/jobs/$snap_job.json")" = 600
made=""
n=1
while [ $n -le 4 ]; do
    code=$(backup "$DOM" "daily $n" daily 2)
    check_num "createBackup $n: 202" "$code" -eq 202
    id=$(jq -r .set_id "$SNAP_ITMP/body")
    loc=$(sed -n 's/^[Ll]ocation: *//p' "$SNAP_ITMP/headers" | tr -d '\r')
    check "createBackup $n: Location names the set" test "$loc" = "/v1/sets/$id"
    st=$(wait_done "$id")
    check "createBackup $n: set is available" test "$st" = available
    if [ "$st" = available ]; then
        check "createBackup $n: filesystem-consistent" \
            test "$(jq -r .set.consistency "$SNAP_ITMP/body")" = filesystem
    fi
    made="$made $id"
    # Rotation runs after the set is available and holds the domain: the
    # next createBackup would get 409 until it is done.
    [ $n -lt 2 ] || check "createBackup $n: rotation keeps 2" wait_count "$DOM" daily 2
    n=$((n + 1))
done
check "rotation leaves exactly 2 daily sets" wait_count "$DOM" daily 2
want=$(echo $made | tr ' ' '\n' | tail -n 2)
check "... the 2 newest" test "$(ids "$DOM" daily)" = "$want"
gone=$(echo $made | tr ' ' '\n' | head -n 2)
for id in $gone; do
    check_num "rotated set $id: 404" "$(api GET "/v1/sets/$id")" -eq 404
    check "rotated set $id: no file left" test ! -e "$SNAP_CATALOG/sets/$id" -a ! -e "$SNAP_CATALOG/sets/$id.json"
done
check_num "the createSnapshot set is untouched" "$(api GET "/v1/sets/$snap_id")" -eq 200
check "agent reports thawed" test "$(agent_status)" = thawed
check "domain is running" test "$(domstate)" = running

# ---- one operation per domain ----------------------------------------------------
begin "concurrent createBackup on one domain"
backup "$DOM" c1 conc 1 >"$SNAP_ITMP/c1" &
p1=$!
backup "$DOM" c2 conc 1 >"$SNAP_ITMP/c2" &
p2=$!
wait $p1 $p2
codes=$( (cat "$SNAP_ITMP/c1"; echo; cat "$SNAP_ITMP/c2"; echo) | sort | tr '\n' ' ' | sed 's/ $//')
check "one 202 and one 409 (got $codes)" test "$codes" = "202 409"
check_num "the domain's set is counted once" "$(ids "$DOM" conc | wc -l)" -eq 1
ss create "$DOM" >/dev/null 2>"$SNAP_ITMP/cli.err"
check_num "the CLI is locked out while the API makes the set" $? -eq 1
check "... and says so" grep -q "already has a snapset operation in progress" "$SNAP_ITMP/cli.err"
cid=$(ids "$DOM" conc | head -n 1)
check "the accepted set completes" test "$(wait_done "$cid")" = available
check_num "after it, the domain is free again" "$(backup "$DOM" c3 conc 1)" -eq 202
c3=$(jq -r .set_id "$SNAP_ITMP/body")
check "... the set completes" test "$(wait_done "$c3")" = available
check "... and rotation 1 keeps only it" wait_count "$DOM" conc 1
check "... (that one)" test "$(ids "$DOM" conc)" = "$c3"
check_num "GET /v1/servers/$DOM/sets: 200" "$(api GET "/v1/servers/$DOM/sets?backup_type=conc")" -eq 200
check "... lists the same sets as /v1/sets?domain=" test "$(jq -r '.sets[].id' "$SNAP_ITMP/body")" = "$c3"
check_num "GET /v1/servers/nosuchdomain/sets: 404" "$(api GET /v1/servers/nosuchdomain/sets)" -eq 404

# ---- bad input ----------------------------------------------------------------
begin "bad input gets its code, the server keeps serving"
A=/v1/servers/$DOM/action
check_num "malformed JSON: 400" "$(api POST "$A" '{"createBackup": ')" -eq 400
check "... with a JSON error body" test "$(jq -r .error.code "$SNAP_ITMP/body")" = 400
check_num "wrong type: 400" "$(api POST "$A" '{"createBackup": {"name": 1, "backup_type": "d", "rotation": 1}}')" -eq 400
check_num "unknown action: 400" "$(api POST "$A" '{"reboot": {}}')" -eq 400
check_num "rotation 0: 400" "$(backup "$DOM" x daily 0)" -eq 400
check "... says why" grep -q "rotation must be between 1" "$SNAP_ITMP/body"
check_num "rotation -1: 400" "$(backup "$DOM" x daily -1)" -eq 400
check_num "rotation as a string: 400" "$(api POST "$A" '{"createBackup": {"name": "x", "backup_type": "d", "rotation": "2"}}')" -eq 400
check_num "unknown domain: 404" "$(backup nosuchdomain x daily 1)" -eq 404
check_num "unknown set: 404" "$(api GET /v1/sets/0badc0de-0000-4000-8000-000000000000)" -eq 404
check_num "delete of an unknown set: 404" "$(api DELETE /v1/sets/0badc0de-0000-4000-8000-000000000000)" -eq 404
check_num "bad set id: 400" "$(api GET /v1/sets/not-a-set-id)" -eq 400
check_num "unknown route: 404" "$(api GET /v2/sets)" -eq 404
head -c 8192 /dev/zero | tr '\0' ' ' >"$SNAP_ITMP/big"
check_num "oversized body: 413" "$(api POST "$A" "@$SNAP_ITMP/big")" -eq 413
check_num "oversized chunked body: 413" \
    "$(hcurl -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$SNAP_ITMP/big" "$URL$A")" -eq 413
check_num "text/plain: 415" "$(api POST "$A" '{"createSnapshot": {"name": "x"}}' text/plain)" -eq 415
check_num "PUT on a set: 405" "$(api PUT "/v1/sets/$snap_id" '{}')" -eq 405
check_num "export without Glance configured: 400" "$(api POST "/v1/sets/$snap_id/export" '{}')" -eq 400
check "... saying so" grep -q "Glance is not configured" "$SNAP_ITMP/body"
check_num "export, unknown field: 400" "$(api POST "/v1/sets/$snap_id/export" '{"colour": 1}')" -eq 400
check "the server is alive" alive
check_num "... and answers" "$(api GET /healthz)" -eq 200
check_num "... and still makes sets" "$(api POST "$A" '{"createSnapshot": {"name": "after bad input"}}')" -eq 202
check "... which complete" test "$(wait_done "$(jq -r .set_id "$SNAP_ITMP/body")")" = available

# ---- delete -----------------------------------------------------------------------
begin "DELETE"
dir=$(ss show "$snap_id" --json | jq -r .dir)
check_num "DELETE: 202" "$(api DELETE "/v1/sets/$snap_id")" -eq 202
# (wait_done would return at once: the set is 'available' until the
# background job marks it 'deleting')
i=0
while [ $i -lt 240 ] && [ "$(api GET "/v1/sets/$snap_id")" != 404 ]; do sleep 0.25; i=$((i + 1)); done
check_num "the set goes" "$(api GET "/v1/sets/$snap_id")" -eq 404
check "its files go" test ! -e "$dir"

# ---- metrics ------------------------------------------------------------------------
begin "metrics"
check_num "GET /metrics: 200" "$(api GET /metrics)" -eq 200
m=$SNAP_ITMP/body
check "Prometheus text" grep -q '^# TYPE snapset_freeze_window_seconds histogram' "$m"
made_fs=$(sed -n 's/^snapset_sets_made_total{result="available",consistency="filesystem"} //p' "$m")
check_num "sets made, filesystem-consistent" "${made_fs:-0}" -ge 8
check "409s counted" grep -q '^snapset_http_requests_total{code="409"} [1-9]' "$m"
check "400s counted" grep -q '^snapset_http_requests_total{code="400"} [1-9]' "$m"
check "401s counted" grep -q '^snapset_http_requests_total{code="401"} [1-9]' "$m"
check "freeze windows observed" grep -q '^snapset_freeze_window_seconds_count [1-9]' "$m"
check "no guest frozen now" grep -q '^snapset_guests_frozen 0$' "$m"
check "rotation deletions counted" grep -q '^snapset_set_deletions_total{result="ok"} [1-9]' "$m"
TOKEN=""
check_num "metrics need a token" "$(api GET /metrics)" -eq 401
TOKEN=$ADMIN

# ---- SIGTERM while a set is being made ---------------------------------------------
begin "SIGTERM finishes the running job"
check_num "createBackup: 202" "$(backup "$DOM" term term 3)" -eq 202
tid=$(jq -r .set_id "$SNAP_ITMP/body")
i=0
while [ $i -lt 200 ] && [ ! -e "$SNAP_CATALOG/sets/$tid.json" ]; do sleep 0.05; i=$((i + 1)); done
stop_serve
check_num "serve exits 0 after the job" "$SRC" -eq 0
check "it waited for the job" grep -q "set $tid of '$DOM': available" "$SNAP_ITMP/serve.err"
check "the set is available in the catalog" test "$(ss show "$tid" --json | jq -r .state)" = available
check "agent reports thawed" test "$(agent_status)" = thawed
check "domain is running" test "$(domstate)" = running

# ---- a killed server is recovered at the next start -----------------------------------
begin "recovery at start"
start_serve "$conf" || bad "serve restarts"
check_num "createBackup: 202" "$(backup "$DOM" kill kill 3)" -eq 202
kid=$(jq -r .set_id "$SNAP_ITMP/body")
kjob=$(jq -r .job_id "$SNAP_ITMP/body")
i=0
while [ $i -lt 100 ] && [ ! -e "$SNAP_CATALOG/sets/$kid.json" ]; do sleep 0.05; i=$((i + 1)); done
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
SPID=""
state=$(jq -r .state "$SNAP_CATALOG/sets/$kid.json" 2>/dev/null || echo none)
echo "     killed while the set was '$state'"
start_serve "$conf" || bad "serve restarts after SIGKILL"
st=$(ss show "$kid" --json 2>/dev/null | jq -r .state)
check "the set is no longer 'creating' ($st)" test "$st" != creating
api GET "/v1/jobs/$kjob" >/dev/null
kst=$(jq -r .job.state "$SNAP_ITMP/body")
check "its job is no longer queued or running ($kst)" test "$kst" = failed -o "$kst" = succeeded
if [ "$kst" = failed ]; then
    check "... and says the server stopped" grep -q "snapset serve stopped before the job finished" "$SNAP_ITMP/body"
fi
check "agent reports thawed" test "$(agent_status)" = thawed
check "domain is running" test "$(domstate)" = running
check_num "the server takes new work" "$(backup "$DOM" kill kill 3)" -eq 202
check "... which completes" test "$(wait_done "$(jq -r .set_id "$SNAP_ITMP/body")")" = available

# ---- templates, and the audit log of it all ------------------------------------------
begin "templates: a template outlives its set and gives linked VMs; the audit log"
TDOM=${DOM}-tpl
tvsh() { virsh -q -c qemu:///system "$@"; }
tpl_drop() { # tpl_drop NAME: the domain and its files
    tvsh destroy "$1" >/dev/null 2>&1
    tvsh undefine "$1" >/dev/null 2>&1
    rm -f "$SNAP_WORK/img/$1-"* "$SNAP_WORK/img/$1.console.log"
    ! tvsh domuuid "$1" >/dev/null 2>&1
}
at_exit 'tpl_drop "$TDOM-1"; tpl_drop "$TDOM-2"; :'
# job_end ID: the job's end state (its record in $SNAP_ITMP/body)
job_end() {
    _i=0
    while [ $_i -lt 2400 ]; do
        [ "$(api GET "/v1/jobs/$1")" = 200 ] || { echo http-error; return; }
        _s=$(jq -r .job.state "$SNAP_ITMP/body")
        case $_s in succeeded | failed) echo "$_s"; return ;; esac
        sleep 0.25
        _i=$((_i + 1))
    done
    echo timeout
}
agent_up() { # agent_up NAME SECONDS
    _i=0
    while [ $_i -lt $(($2 * 4)) ]; do
        tvsh qemu-agent-command --timeout 2 "$1" '{"execute":"guest-ping"}' >/dev/null 2>&1 && return 0
        sleep 0.25
        _i=$((_i + 1))
    done
    return 1
}
check_num "a set to make a template of: 202" "$(backup "$DOM" tpl tpl 5)" -eq 202
tset=$(jq -r .set_id "$SNAP_ITMP/body")
check "... available" test "$(wait_done "$tset")" = available
check_num "POST /v1/sets/{id}/template: 202" "$(api POST "/v1/sets/$tset/template" '{"name": "gold"}')" -eq 202
check "the job succeeded" test "$(job_end "$(jq -r .job_id "$SNAP_ITMP/body")")" = succeeded
tid=$(jq -r '.job.result.template_id // empty' "$SNAP_ITMP/body")
at_exit '[ -z "$tid" ] || ss template delete "$tid" >/dev/null 2>&1; :'
check "its result names the template" test -n "$tid"
check_num "GET /v1/templates/{id}: 200" "$(api GET "/v1/templates/$tid")" -eq 200
check "... made of the set" test "$(jq -r .template.set_id "$SNAP_ITMP/body")" = "$tset"
tvda=$(jq -r '.template.members[] | select(.target == "vda") | .location' "$SNAP_ITMP/body")
check "its copy of vda is independent (no backing file)" \
    test "$(qemu-img info -U --output=json "$tvda" | jq -r '."backing-filename" // "none"')" = none
check "snapset template list shows it" sh -c "'$SNAPSET' --catalog-dir '$SNAP_CATALOG' template list | grep -q '^$tid .* gold\$'"
check_num "DELETE the set: 202" "$(api DELETE "/v1/sets/$tset")" -eq 202
i=0
while [ $i -lt 240 ] && [ "$(api GET "/v1/sets/$tset")" != 404 ]; do sleep 0.25; i=$((i + 1)); done
check_num "the set is gone" "$(api GET "/v1/sets/$tset")" -eq 404
check_num "the template is not" "$(api GET "/v1/templates/$tid")" -eq 200
check "... nor its copy" test -s "$tvda"
check_num "POST /v1/templates/{id}/spawn count 2: 202" \
    "$(api POST "/v1/templates/$tid/spawn" "{\"name\": \"$TDOM\", \"count\": 2}")" -eq 202
check "the spawn job succeeded" test "$(job_end "$(jq -r .job_id "$SNAP_ITMP/body")")" = succeeded
[ "$(jq -r .job.state "$SNAP_ITMP/body")" = succeeded ] || jq -r .job.error "$SNAP_ITMP/body"
for k in 1 2; do
    check "$TDOM-$k runs" test "$(tvsh domstate "$TDOM-$k" 2>/dev/null)" = running
    check "... its vda is a linked clone of the template's copy" \
        test "$(qemu-img info -U --output=json "$SNAP_WORK/img/$TDOM-$k-vda.qcow2" | jq -r '."full-backing-filename"')" = "$tvda"
    tvsh dumpxml --inactive "$TDOM-$k" >"$SNAP_ITMP/tpl-$k.xml" 2>/dev/null
    check "... records the template" grep -q "template=.$tid." "$SNAP_ITMP/tpl-$k.xml"
    check "... and the set it was made of" grep -q "set=.$tset." "$SNAP_ITMP/tpl-$k.xml"
done
for k in 1 2; do
    check "$TDOM-$k's agent answers" agent_up "$TDOM-$k" 120
done
check_num "DELETE the template while VMs use it: 202" "$(api DELETE "/v1/templates/$tid")" -eq 202
check "... the job fails" test "$(job_end "$(jq -r .job_id "$SNAP_ITMP/body")")" = failed
check "... naming a domain that uses it" grep -q "template $tid is in use by domain '$TDOM-" "$SNAP_ITMP/body"
check "... and the template stays" test -s "$tvda"
tpl_drop "$TDOM-1" && tpl_drop "$TDOM-2"
check_num "... the VMs are gone" $? -eq 0
check_num "DELETE the template: 202" "$(api DELETE "/v1/templates/$tid")" -eq 202
check "... the job succeeded" test "$(job_end "$(jq -r .job_id "$SNAP_ITMP/body")")" = succeeded
check_num "... it is gone: 404" "$(api GET "/v1/templates/$tid")" -eq 404
check "... with its copies" test ! -e "$tvda"
check_num "an unknown template: 404" "$(api POST "/v1/templates/00000000-0000-0000-0000-000000000000/spawn" '{"name": "x"}')" -eq 404

begin "the audit log: one line per resource made and removed"
ev=$SNAP_CATALOG/events.jsonl
# nev ACTION KIND ID: how many lines say so, ok
nev() { jq -c --arg a "$1" --arg k "$2" --arg i "$3" 'select(.action == $a and .kind == $k and .id == $i and .result == "ok")' "$ev" | wc -l; }
check "events.jsonl is there, 0600" test "$(stat -c %a "$ev" 2>/dev/null)" = 600
check_num "the template: made once" "$(nev create template "$tid")" -eq 1
check_num "... removed once" "$(nev delete template "$tid")" -eq 1
check_num "... a refused removal, recorded as failed" \
    "$(jq -c --arg i "$tid" 'select(.action == "delete" and .kind == "template" and .id == $i and .result == "failed")' "$ev" | wc -l)" -eq 1
check_num "its set: made once" "$(nev create set "$tset")" -eq 1
check_num "... removed once" "$(nev delete set "$tset")" -eq 1
# ncopies ACTION: the lines of copies of the set (named by its directory)
ncopies() { jq -c --arg a "$1" --arg s "$tset" 'select(.action == $a and .kind == "copy" and (.id | contains($s)))' "$ev" | wc -l; }
ndisks=$(tvsh domblklist "$DOM" | grep -c ' /')
check_num "... each of its $ndisks copies made once" "$(ncopies create)" -eq "$ndisks"
check_num "... and removed once" "$(ncopies delete)" -eq "$ndisks"
for k in 1 2; do
    check_num "$TDOM-$k: one domain made" "$(nev create domain "$TDOM-$k")" -eq 1
done
check "the API calls name the token's project and their job" \
    sh -c "jq -e -s 'map(select(.kind == \"job\" and .action == \"template\" and .actor == \"-@admin\" and .job != null)) | length == 1' '$ev' >/dev/null"
check "snapset events --json reads it" \
    sh -c "'$SNAPSET' --catalog-dir '$SNAP_CATALOG' events --json --kind template | jq -e -s --arg i '$tid' 'map(select(.id == \$i)) | length >= 2' >/dev/null"
check_num "GET /v1/events?kind=template: 200" "$(api GET "/v1/events?kind=template")" -eq 200
check "... with the template's events" test "$(jq --arg i "$tid" '[.events[] | select(.id == $i)] | length' "$SNAP_ITMP/body")" -ge 2
stop_serve
check_num "serve stops cleanly" "$SRC" -eq 0

# ---- Keystone tokens and Cinder snapshots (test cloud) -----------------------------------
begin "Keystone + Cinder: rotation deletes the Cinder snapshots"
if [ ! -r "$OS_STATE/openrc-demo" ] || ! "$C/os" token >/dev/null 2>&1; then
    echo "     no test cloud (tests/cloud/setup): Keystone and Cinder checks skipped"
    check "skipped without a test cloud" true
else
    . "$OS_STATE/openrc-demo"
    # default deny: the demo project's member token acts on the guest
    # because the guest is the demo project's (as Nova would record it)
    virsh -q -c qemu:///system metadata "$DOM" --uri urn:snapset:owner --key snapset \
        --set "<owner project=\"$("$C/os" project-id)\"/>" >/dev/null
    # exports read the RBD snapshots with the test cloud's own Ceph keys
    export SNAPSET_CEPH_CONF="$OS_STATE/ceph/ceph.conf" SNAPSET_CEPH_USER=admin
    cloud_conf "$osconf" "delete_timeout_ms = 60000"
    echo 'http = { port = 0; workers = 2; };' >>"$osconf"
    v=$("$C/attach-volume" "$DOM" 1 "snapset-api-it" 2>"$SNAP_ITMP/attach.err" | tail -n1)
    if [ -z "$v" ]; then
        cat "$SNAP_ITMP/attach.err"
        bad "attach a volume like Nova"
    else
        vols=$v
        ok "attached volume $v"
        if start_serve "$osconf"; then
            check "serve checks tokens with Keystone" grep -q "Keystone tokens" "$SNAP_ITMP/serve.out"
            TOKEN=""
            check_num "no token: 401" "$(api GET /v1/sets)" -eq 401
            TOKEN=not-a-keystone-token
            check_num "a token Keystone does not know: 401" "$(api GET /v1/sets)" -eq 401
            TOKEN=$("$C/os" token)
            check_num "a Keystone token: 200" "$(api GET /v1/sets)" -eq 200
            made=""
            n=1
            while [ $n -le 4 ]; do
                check_num "createBackup $n: 202" "$(backup "$DOM" "cinder $n" cinder 2)" -eq 202
                id=$(jq -r .set_id "$SNAP_ITMP/body")
                st=$(wait_done "$id")
                check "createBackup $n: available" test "$st" = available
                if [ "$st" = available ]; then
                    check "createBackup $n: one Cinder member" \
                        test "$(jq '[.set.members[] | select(.kind == "cinder")] | length' "$SNAP_ITMP/body")" = 1
                fi
                made="$made $id"
                [ $n -lt 2 ] || check "createBackup $n: rotation keeps 2" wait_count "$DOM" cinder 2
                n=$((n + 1))
            done
            check "rotation leaves exactly 2 sets" wait_count "$DOM" cinder 2
            check "... the 2 newest" test "$(ids "$DOM" cinder)" = "$(echo $made | tr ' ' '\n' | tail -n 2)"
            "$C/os" cinder GET /snapshots/detail >"$SNAP_ITMP/snaps.json"
            for id in $(echo $made | tr ' ' '\n' | head -n 2); do
                check_num "no Cinder snapshot left of rotated set $id" \
                    "$(jq --arg s "$id" '[.snapshots[] | select(.metadata.snapset_set == $s)] | length' "$SNAP_ITMP/snaps.json")" -eq 0
            done
            for id in $(echo $made | tr ' ' '\n' | tail -n 2); do
                check_num "kept set $id still has its Cinder snapshot" \
                    "$(jq --arg s "$id" '[.snapshots[] | select(.metadata.snapset_set == $s)] | length' "$SNAP_ITMP/snaps.json")" -eq 1
            done

            begin "POST /v1/sets/{id}/export: an OVA of the set into Glance"
            ex=$(ids "$DOM" cinder | head -n 1) # the next one rotation removes
            check_num "bad disk_format: 400" "$(api POST "/v1/sets/$ex/export" '{"disk_format": "raw"}')" -eq 400
            check_num "export: 202" "$(api POST "/v1/sets/$ex/export" "{\"name\": \"snapset-api-export-$$\"}")" -eq 202
            check "Location names the set" grep -qi "^location: /v1/sets/$ex" "$SNAP_ITMP/headers"
            img=""
            i=0
            while [ $i -lt 480 ]; do # 120 s
                api GET "/v1/sets/$ex" >/dev/null
                img=$(jq -r '[.set.exports[]? | select(.state == "complete") | .image_id][0] // empty' "$SNAP_ITMP/body")
                [ -n "$img" ] && break
                sleep 0.25
                i=$((i + 1))
            done
            check "GET shows the export complete, with its image" test -n "$img"
            [ -n "$img" ] || tail -n 5 "$SNAP_ITMP/serve.err"
            gtoken=$("$C/os" token)
            gimg() { curl -s --noproxy '*' --max-time 30 -H "X-Auth-Token: $gtoken" "http://127.0.0.1:9292/v2/images/$1"; }
            if [ -n "$img" ]; then
                gimg "$img" >"$SNAP_ITMP/img.json"
                check "the image is active, an OVA of this set" \
                    test "$(jq -r '[.status, .container_format, .snapset_set, .name] | join(" ")' "$SNAP_ITMP/img.json")" = \
                    "active ova $ex snapset-api-export-$$"
                check "its size is what the export recorded" \
                    test "$(jq -r .size "$SNAP_ITMP/img.json")" = "$(jq -r --arg i "$img" '.set.exports[] | select(.image_id == $i) | .size' "$SNAP_ITMP/body")"
            fi
            check_num "createBackup 5: 202" "$(backup "$DOM" "cinder 5" cinder 2)" -eq 202
            check "createBackup 5: available" test "$(wait_done "$(jq -r .set_id "$SNAP_ITMP/body")")" = available
            gcode() { curl -s --noproxy '*' --max-time 30 -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $gtoken" "http://127.0.0.1:9292/v2/images/$1"; }
            i=0
            while [ $i -lt 240 ] && ids "$DOM" cinder | grep -q "$ex"; do sleep 0.25; i=$((i + 1)); done
            check "rotation removed the exported set" sh -c "! echo '$(ids "$DOM" cinder)' | grep -q '$ex'"
            if [ -n "$img" ]; then
                check_num "... and its Glance image with it" "$(gcode "$img")" -eq 404
                [ "$(gcode "$img")" = 404 ] || curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $gtoken" "http://127.0.0.1:9292/v2/images/$img"
            fi
            for id in $(ids "$DOM" cinder); do
                api DELETE "/v1/sets/$id" >/dev/null
                wait_done "$id" >/dev/null
            done
            stop_serve
check_num "serve stops cleanly" "$SRC" -eq 0
        else
            cat "$SNAP_ITMP/serve.err"
            bad "serve with Keystone did not start"
        fi
    fi
fi

summary
