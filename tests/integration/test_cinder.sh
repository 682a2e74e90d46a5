#!/bin/sh
# tests/integration/test_cinder.sh -- Cinder members in the same freeze, on
# the real guest and the real test cloud (Keystone + Cinder with the RBD
# driver on a single-node Ceph, tests/cloud/setup). Two volumes are attached
# the way Nova does it; the set mixes them with the three local disks. Also:
# the quota checked before the freeze, and a token revoked in Keystone in the
# middle of a long-running serve (a real 401, answered by authenticating
# again).
set -u
. "$(dirname "$0")/lib.sh"

need_cloud
conf=$SNAP_ITMP/snapset.conf
cloud_conf "$conf" "delete_timeout_ms = 20000"
OWNER_NS=urn:snapset:owner
drop_owner() {
    virsh -q -c qemu:///system metadata "$DOM" --uri "$OWNER_NS" --remove >/dev/null 2>&1 || :
}
at_exit drop_owner

attach_volumes snapset-it 2

begin "a mixed set in one freeze"
mark="MARK-$$-$(date +%s%N)"
"$G/gexec" "$DOM" "for d in / /vol/*; do echo $mark > \$d/marker; done" >/dev/null
order=$("$G/gexec" "$DOM" 'ls /vol')
sso create "$DOM" --json >"$SNAP_ITMP/set.json" 2>"$SNAP_ITMP/create.err"
rc=$?
check_num "create exits 0" $rc -eq 0
[ $rc -eq 0 ] || { cat "$SNAP_ITMP/create.err"; summary; exit 1; }
set_id=$(jq -r .uuid "$SNAP_ITMP/set.json")
check "set is available" test "$(jq -r .state "$SNAP_ITMP/set.json")" = available
check "consistency is filesystem" test "$(jq -r .consistency "$SNAP_ITMP/set.json")" = filesystem
check "two Cinder members" test "$(jq '[.members[] | select(.kind == "cinder")] | length' "$SNAP_ITMP/set.json")" = 2
check "three local members" test "$(jq '[.members[] | select(.kind == "local")] | length' "$SNAP_ITMP/set.json")" = 3
check "agent reports thawed" test "$(agent_status)" = thawed
check "domain is running" test "$(domstate)" = running
echo "     freeze window $(jq .freeze_window_ms "$SNAP_ITMP/set.json") ms"

begin "the Cinder snapshots"
logs=""
for d in $order; do
    case $d in
    data*)
        t=$(jq -r --arg s "$d" '.members[] | select(.serial == $s) | .location' "$SNAP_ITMP/set.json")
        "$G/image-cat" "$t" /writer.log >"$SNAP_ITMP/$d.log"
        ;;
    *)
        m=$(jq -c --arg p "$d" '.members[] | select(.kind == "cinder" and (.volume_id | startswith($p)))' "$SNAP_ITMP/set.json")
        sid=$(echo "$m" | jq -r .location)
        vid=$(echo "$m" | jq -r .volume_id)
        snap=$("$C/os" cinder GET "/snapshots/$sid")
        check "$d: snapshot is available" test "$(echo "$snap" | jq -r .snapshot.status)" = available
        check "$d: tagged with the set" test "$(echo "$snap" | jq -r .snapshot.metadata.snapset_set)" = "$set_id"
        check "$d: tagged with the consistency" test "$(echo "$snap" | jq -r .snapshot.metadata.snapset_consistency)" = filesystem
        # Read the RBD snapshot itself, straight from Ceph.
        qemu-img convert -f raw -O raw \
            "rbd:volumes/volume-$vid@snapshot-$sid:id=admin:conf=$CEPH_CONF" "$SNAP_ITMP/$d.raw"
        check "$d: snapshot is fsck-clean without journal replay" "$G/image-fsck" "$SNAP_ITMP/$d.raw" raw
        check "$d: snapshot holds the unsynced marker" \
            test "$("$G/image-cat" "$SNAP_ITMP/$d.raw" /marker raw)" = "$mark"
        "$G/image-cat" "$SNAP_ITMP/$d.raw" /writer.log raw >"$SNAP_ITMP/$d.log"
        rm -f "$SNAP_ITMP/$d.raw"
        ;;
    esac
    logs="$logs $SNAP_ITMP/$d.log"
done
# shellcheck disable=SC2086
check "local disks and Cinder volumes form one consistent cut" "$G/check-cut" $logs

begin "list --source cinder"
sso list --source cinder --json >"$SNAP_ITMP/fromcinder.json"
check "the set is rebuilt from Cinder alone" \
    test "$(jq --arg s "$set_id" '[.[] | select(.set == $s) | .snapshots[]] | length' "$SNAP_ITMP/fromcinder.json")" = 2

begin "delete"
check "delete exits 0" sso delete "$set_id"
left=$("$C/os" cinder GET /snapshots/detail | jq --arg s "$set_id" '[.snapshots[] | select(.metadata.snapset_set == $s)] | length')
check_num "no snapshot of the set is left in Cinder" "$left" -eq 0

begin "quota checked before the freeze"
project=$(jq -r .projects.demo "$OS_STATE/ids.json")
used=$("$C/os" cinder GET /limits | jq .limits.absolute.totalSnapshotsUsed)
"$C/os" --admin cinder PUT "/os-quota-sets/$project" \
    "{\"quota_set\": {\"snapshots\": $((used + 1))}}" >/dev/null
sso create "$DOM" --json >"$SNAP_ITMP/q.json" 2>"$SNAP_ITMP/q.err"
check_num "a set over the snapshot quota fails" $? -eq 1
check "the error names the quota" grep -q "snapshot quota" "$SNAP_ITMP/q.err"
check "the guest was never frozen" test "$(jq -r .frozen_filesystems "$SNAP_ITMP/q.json" 2>/dev/null || echo 0)" != 4
after=$("$C/os" cinder GET /limits | jq .limits.absolute.totalSnapshotsUsed)
check_num "no snapshot was made" "$after" -eq "$used"
"$C/os" --admin cinder PUT "/os-quota-sets/$project" '{"quota_set": {"snapshots": -1}}' >/dev/null
check "agent reports thawed" test "$(agent_status)" = thawed

# ---- a token that stops working in the middle of a long run ----------------
# `serve` keeps its Keystone session from one set to the next. Disabling and
# re-enabling the user in Keystone revokes every token it holds; the next
# set's first Cinder request gets a real 401, and snapset must authenticate
# again (once) and carry on.
begin "a token revoked mid-run: snapset authenticates again on the 401"
sconf=$SNAP_ITMP/serve.conf
cloud_conf "$sconf" "delete_timeout_ms = 20000"
echo 'http = { port = 0; workers = 1; };' >>"$sconf"
"$SNAPSET" -c "$sconf" --catalog-dir "$SNAP_CATALOG" serve >"$SNAP_ITMP/serve.out" 2>"$SNAP_ITMP/serve.err" &
spid=$!
port=""
i=0
while [ $i -lt 300 ] && [ -z "$port" ] && kill -0 $spid 2>/dev/null; do
    port=$(sed -n 's|^snapset: serving on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$SNAP_ITMP/serve.out" 2>/dev/null)
    sleep 0.1; i=$((i + 1))
done
check "serve is up" test -n "$port"
# The API lets a project act on its own guests only: the demo project owns
# the guest for this test (the way test_security_api.sh gives it an owner).
virsh -q -c qemu:///system metadata "$DOM" --uri "$OWNER_NS" --key snapset \
    --set "<owner project=\"$(jq -r .projects.demo "$OS_STATE/ids.json")\"/>" >/dev/null
check_num "the demo project owns the guest (snapset:owner metadata)" $? -eq 0
snap_via_api() { # makes a set through the API, prints its final state
    tok=$("$C/os" token)
    id=$(curl -s --max-time 30 -H "X-Auth-Token: $tok" -H 'Content-Type: application/json' \
        -d '{"createSnapshot": {"name": "token test"}}' "http://127.0.0.1:$port/v1/servers/$DOM/action" | jq -r '.set_id // empty')
    [ -n "$id" ] || { echo no-set; return; }
    j=0
    while [ $j -lt 240 ]; do
        st=$(curl -s --max-time 30 -H "X-Auth-Token: $tok" "http://127.0.0.1:$port/v1/sets/$id" | jq -r '.set.state // empty')
        case $st in available | error) break ;; esac
        sleep 0.5; j=$((j + 1))
    done
    curl -s --max-time 30 -H "X-Auth-Token: $tok" "http://127.0.0.1:$port/v1/sets/$id" >"$SNAP_ITMP/tokset.json"
    echo "$st"
}
check "a first set through serve" test "$(snap_via_api)" = available
demo_id=$(jq -r .users.demo "$OS_STATE/ids.json")
"$C/os" --admin keystone PATCH "/users/$demo_id" '{"user": {"enabled": false}}' >/dev/null &&
    "$C/os" --admin keystone PATCH "/users/$demo_id" '{"user": {"enabled": true}}' >/dev/null
check_num "the user's tokens are revoked (disabled, enabled again)" $? -eq 0
rm -f "$OS_STATE/run/token-demo" "$OS_STATE/run/token-demo.json" # the test's own cached token too
sleep 6 # Cinder's token cache (token_cache_time = 5 in the test cloud)
log=$OS_STATE/log/cinder-api.log
before=$(stat -c %s "$log")
check "the next set is made all the same" test "$(snap_via_api)" = available
check "... with its Cinder members" \
    test "$(jq '[.set.members[] | select(.kind == "cinder" and .state == "available")] | length' "$SNAP_ITMP/tokset.json")" = 2
check "Cinder really refused the old token (401 in cinder-api's log)" \
    sh -c "tail -c +$((before + 1)) '$log' | grep -q 'status: 401'"
kill -TERM $spid 2>/dev/null
wait $spid 2>/dev/null
drop_owner
check "agent reports thawed" test "$(agent_status)" = thawed
for id in $(sso list --json | jq -r '.[].uuid'); do sso delete "$id" >/dev/null 2>&1 || bad "delete $id"; done

summary
