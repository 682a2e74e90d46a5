#!/bin/sh
# tests/integration/test_service_faults.sh -- real failures of the real
# services around a set, on the real guest with a real RBD volume attached:
#   - cinder-volume stopped (SIGSTOP): the snapshot stays 'creating';
#   - Keystone stopped, cinder-api stopped: nothing may be frozen;
#   - glance-api stopped (SIGSTOP) while `export --glance` uploads: the
#     upload stalls, bounded by openstack.stall_timeout_ms (8 s here); the image it
#     cannot delete is recorded and removed once Glance is back;
#   - the catalog's file system full (a small tmpfs): before anything, and
#     while the backup job copies.
# For every row: the guest is running and thawed afterwards, the error is one
# clear line, and nothing is left unaccounted for.
set -u
. "$(dirname "$0")/lib.sh"

need_cloud
conf=$SNAP_ITMP/snapset.conf
cloud_conf "$conf" "request_timeout_ms = 3000" "delete_timeout_ms = 3000" "stall_timeout_ms = 8000"
vol=""
stopped=""
mnt=""
g_set=""
svc_pid() { read -r p _ <"$OS_STATE/run/$1.pid" && echo "$p"; }
svc_signal() { /bin/kill -s "$1" -- "-$(svc_pid "$2")"; } # its process group
cleanup() {
    for s in $stopped; do svc_signal CONT "$s" 2>/dev/null; done
    [ -z "$g_set" ] || ss -c "$conf" delete "$g_set" --with-exports >/dev/null 2>&1
    [ -z "$mnt" ] || umount "$mnt" 2>/dev/null
    if [ -n "$vol" ]; then
        "$G/gexec" "$DOM" "volrelease $(echo "$vol" | cut -c1-20)" >/dev/null 2>&1 || :
        "$C/detach-volume" "$DOM" "$vol" --delete >/dev/null 2>&1 || echo "cannot detach $vol"
    fi
}
at_exit cleanup
released() { [ "$(domstate)" = running ] && [ "$(agent_status)" = thawed ]; }

vol=$("$C/attach-volume" "$DOM" 1 snapset-svc-faults 2>/dev/null | tail -n1)
i=0
while [ $i -lt 60 ] && ! "$G/gexec" "$DOM" "test -s /vol/$(echo "$vol" | cut -c1-20)/writer.log" >/dev/null 2>&1; do
    sleep 1; i=$((i + 1))
done

begin "cinder-volume stopped: the snapshot stays creating"
svc_signal STOP cinder-volume; stopped="cinder-volume"
t0=$(date +%s%N)
sso --frozen-timeout 4000 create "$DOM" --json >"$SNAP_ITMP/s.json" 2>"$SNAP_ITMP/s.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check_num "create fails" $rc -eq 1
check "the error says the snapshot is still creating" grep -q "creating" "$SNAP_ITMP/s.err"
check "guest running and thawed" released
fw=$(jq -r .freeze_window_ms "$SNAP_ITMP/s.json")
check_num "the frozen window ended at its deadline" "$fw" -le 6000
sid=$(jq -r '.members[] | select(.kind == "cinder") | .location' "$SNAP_ITMP/s.json")
check "the stuck snapshot stays recorded with its id" test -n "$sid" -a "$sid" != null
svc_signal CONT cinder-volume; stopped=""
set_id=$(jq -r .uuid "$SNAP_ITMP/s.json")
i=0
while [ $i -lt 60 ] && [ "$("$C/os" cinder GET "/snapshots/$sid" | jq -r .snapshot.status)" = creating ]; do
    sleep 1; i=$((i + 1))
done
check "delete of the failed set removes the late snapshot" sso delete "$set_id"
check "it is gone from Cinder" sh -c "! '$C/os' cinder GET /snapshots/$sid >/dev/null 2>&1"
echo "     (create took $ms ms)"

for svc in keystone cinder-api; do
    begin "$svc stopped"
    "$C/os" token >/dev/null 2>&1 # keep the helper's own token warm
    svc_signal STOP "$svc"; stopped="$svc"
    sso create "$DOM" --json >"$SNAP_ITMP/k.json" 2>"$SNAP_ITMP/k.err"
    check_num "create fails" $? -eq 1
    check "one clear line" test "$(wc -l <"$SNAP_ITMP/k.err")" -le 2
    sed 's/^/     /' "$SNAP_ITMP/k.err"
    check "the guest was never frozen" test "$(jq -r '.journal.freeze_attempted // false' "$SNAP_ITMP/k.json" 2>/dev/null || echo false)" != true
    check "guest running and thawed" released
    svc_signal CONT "$svc"; stopped=""
done

begin "glance-api stopped in the middle of an export"
GLANCE=http://127.0.0.1:9292
gimages_of() { # images of set $1 Glance still has, as "id:status ..."
    curl -sS --max-time 30 -H "X-Auth-Token: $("$C/os" token)" "$GLANCE/v2/images?snapset_set=$1" |
        jq -r '[.images[] | select(.status != "deleted") | .id + ":" + .status] | join(" ")'
}
export SNAPSET_CEPH_CONF="$OS_STATE/ceph/ceph.conf" SNAPSET_CEPH_USER=admin
sso create "$DOM" --json >"$SNAP_ITMP/g.json" 2>"$SNAP_ITMP/g.err"
check_num "a set to export" $? -eq 0
g_set=$(jq -r .uuid "$SNAP_ITMP/g.json")
g_dir=$(jq -r .dir "$SNAP_ITMP/g.json")
sso show "$g_set" --json | jq -S 'del(.journal)' >"$SNAP_ITMP/g.before"
t0=$(date +%s%N)
"$SNAPSET" -c "$conf" --catalog-dir "$SNAP_CATALOG" export "$g_set" --glance \
    --name "snapset-svc-faults-$$" --json --cleanup-timeout 2000 >"$SNAP_ITMP/ge.json" 2>"$SNAP_ITMP/ge.err" &
pid=$!
i=0
while [ $i -lt 3000 ] && ! grep -q '"step":"upload"' "$SNAP_ITMP/ge.json" 2>/dev/null; do
    sleep 0.02; i=$((i + 1))
done
if grep -q '"step":"upload"' "$SNAP_ITMP/ge.json"; then
    svc_signal STOP glance-api; stopped="glance-api"
    ok "glance-api stopped while the package was being sent"
else
    bad "the upload never started"
fi
wait $pid
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check_num "export fails" $rc -eq 1
sed 's/^/     /' "$SNAP_ITMP/ge.err"
check "one clear error line" test "$(grep -vc '^snapset: warning:' "$SNAP_ITMP/ge.err")" -le 2
check "the error says the upload stalled" grep -q "stalled" "$SNAP_ITMP/ge.err"
check_num "bounded: the stall timeout (8 s) + the cleanup timeout (2 s) + slack" "$ms" -le 30000
left=$(jq -r '[.exports[] | select(.state == "left-behind") | .image_id] | join(" ")' "$g_dir/exports.json" 2>/dev/null)
check "the image it could not delete is recorded as left-behind" test -n "$left"
check "no upload record left 'uploading'" \
    test "$(jq '[.exports[] | select(.state == "uploading")] | length' "$g_dir/exports.json")" = 0
check "the staging area is empty" test -z "$(ls -A "$SNAP_CATALOG/staging" 2>/dev/null)"
svc_signal CONT glance-api; stopped=""
i=0
while [ $i -lt 100 ] && ! curl -s -o /dev/null --max-time 2 "$GLANCE/"; do sleep 0.2; i=$((i + 1)); done
imgs=$(gimages_of "$g_set")
echo "     Glance after SIGCONT: $imgs"
# Glance, once continued, may carry out the DELETEs queued while it was
# stopped: the recorded image may be gone already. Nothing unrecorded.
unrecorded() {
    for i in $imgs; do
        case " $left " in *" ${i%%:*} "*) ;; *) echo "$i" ;; esac
    done
}
check "no image of the set in Glance but the recorded one" test -z "$(unrecorded)"
sso show "$g_set" --json | jq -S 'del(.journal)' >"$SNAP_ITMP/g.after"
check "the set is intact" cmp -s "$SNAP_ITMP/g.before" "$SNAP_ITMP/g.after"
check "still available" test "$(jq -r .state "$SNAP_ITMP/g.after")" = available
# The next export into Glance deletes the recorded image first.
sso export "$g_set" --glance --name "snapset-svc-faults-$$-2" --json >"$SNAP_ITMP/ge2.json" 2>"$SNAP_ITMP/ge2.err"
check_num "the next export works" $? -eq 0
img2=$(tail -n1 "$SNAP_ITMP/ge2.json" | jq -r '.image_id // empty')
check "it deleted the left-behind image" test "$(gimages_of "$g_set")" = "$img2:active"
check "exports.json: one complete export, nothing else" \
    test "$(jq -c '[.exports[] | .state]' "$g_dir/exports.json")" = '["complete"]'
sso delete "$g_set" --with-exports >/dev/null 2>&1
check_num "delete --with-exports" $? -eq 0
check "no image of the set is left in Glance" test -z "$(gimages_of "$g_set")"
g_set=""
check "guest running and thawed" released
echo "     (the failed export took $ms ms)"

begin "catalog file system full"
mnt=$SNAP_ITMP/full
mkdir -p "$mnt"
mount -t tmpfs -o size=64k tmpfs "$mnt"
dd if=/dev/zero of="$mnt/filler" bs=4k count=100 2>/dev/null
ss -c "$conf" --catalog-dir "$mnt/cat" create "$DOM" 2>"$SNAP_ITMP/f.err"
check_num "create fails when nothing can be written" $? -eq 1
check "the error names the file system" grep -qi "space\|cannot create" "$SNAP_ITMP/f.err"
check "guest running and thawed" released
rm -f "$mnt/filler"
# Room for the journal but not for the copies: the backup job fails after
# the thaw, and the set is rolled back and recorded.
"$SNAPSET" -c "$conf" --catalog-dir "$mnt/cat" create "$DOM" --json >"$SNAP_ITMP/f2.json" 2>"$SNAP_ITMP/f2.err"
check_num "create fails when the copies do not fit" $? -eq 1
sed 's/^/     /' "$SNAP_ITMP/f2.err"
check "guest running and thawed" released
check "the set is recorded as error" test "$(jq -r .state "$SNAP_ITMP/f2.json")" = error
check "no copy is left" test -z "$(find "$mnt/cat/sets" -mindepth 1 -type d)"
left=$("$C/os" cinder GET /snapshots/detail | jq --arg v "$vol" '[.snapshots[] | select(.volume_id == $v)] | length')
check_num "no snapshot of the volume is left in Cinder" "$left" -eq 0
umount "$mnt"; mnt=""

summary
