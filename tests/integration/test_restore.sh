#!/bin/sh
# tests/integration/test_restore.sh -- `snapset restore` on a real guest of
# its own (restore stops the VM: never the shared one) with three local
# disks and a Cinder RBD volume attached like Nova: a file written after
# the set is gone after restore and one written before is there, on every
# disk; restoring the same set twice works; Cinder members go back by
# revert-to-snapshot when the set's snapshot is the volume's latest and by a
# new volume from the snapshot otherwise; a restore failing half-way (fault
# build) is undone; --no-start leaves the domain shut off; a set with RAM
# state (create --memory) brings the guest back running at its instant: a
# counter that lives only in memory continues from its saved value, and
# the uptime continues.
set -u
. "$(dirname "$0")/restore_lib.sh"
. "$(dirname "$0")/lib.sh"

need_cloud
conf=$SNAP_ITMP/snapset.conf
cloud_conf "$conf" "delete_timeout_ms = 30000"
# A raw block device too (a loop device on a file of ours), when this host
# can make one: restore writes it in place, after saving its content.
blk=""
blk_file=$SNAP_WORK/tmp/restore-blk.img
blk_down() {
    [ -n "$blk" ] || return 0
    vsh destroy "$DOM" >/dev/null 2>&1
    vsh detach-disk "$DOM" vde --config >/dev/null 2>&1
    losetup -d "$blk" 2>/dev/null
    rm -f "$blk_file"
}
at_exit r_cleanup
at_exit blk_down
# Guest and data disks: root, data1 (qcow2), data2 (raw), the volume, and
# the block device.
disks() { echo "/ /vol/data1 /vol/data2 $(vol_dir)${blk:+ /vol/blk1}"; }

begin "guest and volume"
if ! r_guest_up; then bad "tests/guest/setup for $DOM"; summary; exit 1; fi
r_attach snapset-it-restore || { bad "attach a volume"; summary; exit 1; }
if truncate -s 64M "$blk_file" && blk=$(losetup -f --show "$blk_file" 2>/dev/null) && [ -b "$blk" ]; then
    vsh attach-disk "$DOM" "$blk" vde --sourcetype block --driver qemu --subdriver raw \
        --serial blk1 --live --config >/dev/null
    check_num "a block device attached as vde ($blk)" $? -eq 0
else
    blk=""
    rm -f "$blk_file"
    ok "no loop device on this host: the block device part is skipped"
fi
check "the guest mounts every data disk" wait_mounts 60 $(disks | cut -d' ' -f2-)

# mark NAME: writes NAME on every disk, synced (so that a restore cannot
# lose it by accident: it must be the restore that takes it away).
mark() {
    gx "for d in $(disks); do echo $1 > \$d/$1.txt; done; sync" >/dev/null
}
# has NAME: every disk has NAME; lacks NAME: none has it.
has() {
    gx "r=0; for d in $(disks); do test -s \$d/$1.txt || { echo \"     \$d has no $1.txt\"; r=1; }; done; exit \$r"
}
lacks() {
    gx "r=0; for d in $(disks); do test ! -e \$d/$1.txt || { echo \"     \$d has $1.txt\"; r=1; }; done; exit \$r"
}
# After a restore that started the domain: agent, then every mount.
back_up() {
    wait_agent "$DOM" 120 && wait_mounts 60 $(disks | cut -d' ' -f2-)
}

begin "a set with the volume"
# The guest's images outlive a run: markers of an earlier one go first.
gx "for d in $(disks); do rm -f \$d/*.txt; done; sync" >/dev/null
mark before
check "the guest wrote a file before the set on every disk" has before
sso create "$DOM" --json >"$SNAP_ITMP/a.json" 2>"$SNAP_ITMP/a.err"
rc=$?
check_num "create exits 0" $rc -eq 0
[ $rc -eq 0 ] || { cat "$SNAP_ITMP/a.err"; summary; exit 1; }
set_a=$(jq -r .uuid "$SNAP_ITMP/a.json")
r_made_sets="$r_made_sets $set_a"
check "one Cinder member" test "$(jq '[.members[] | select(.kind == "cinder")] | length' "$SNAP_ITMP/a.json")" = 1
mark after
check "the guest wrote a file after the set on every disk" has after

begin "restore (revert to the latest snapshot)"
blk_before=$(blklist)
up0=$(guest_uptime)
t0=$(date +%s%3N)
sso restore "$set_a" >"$SNAP_ITMP/r1.out" 2>"$SNAP_ITMP/r1.err"
rc=$?
t1=$(date +%s%3N)
check_num "restore exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$SNAP_ITMP/r1.err"
sed 's/^/     /' "$SNAP_ITMP/r1.out"
echo "     restore took $((t1 - t0)) ms"
check "the volume was reverted" grep -q "vdd: Cinder volume $vol reverted" "$SNAP_ITMP/r1.out"
[ -z "$blk" ] || check "the block device was written back" grep -q "vde: device $blk, written back" "$SNAP_ITMP/r1.out"
check "domain is running again" test "$(domstate)" = running
check "guest is back with every disk" back_up
up1=$(guest_uptime)
check "the guest rebooted (uptime $up0 -> $up1)" awk -v a="$up0" -v b="$up1" 'BEGIN { exit !(b < a) }'
check "a file written before the set is on every disk" has before
check "a file written after the set is gone from every disk" lacks after
check "the domain's disks are the same (domblklist)" test "$(blklist)" = "$blk_before"
check "the volume is in-use by the domain" \
    test "$("$C/os" cinder GET "/volumes/$vol" | jq -r '.volume.status + " " + .volume.attachments[0].server_id')" = "in-use $(vsh domuuid "$DOM")"
check "the set is unchanged and still available" \
    test "$(sso show "$set_a" --json | jq -r .state)" = available
check "no old image is left next to the disks" test -z "$(ls -A "$SNAP_WORK/img" | grep snapset-restore)"

begin "restore the same set twice"
mark after2
check "the guest wrote after2.txt on every disk" has after2
sso restore "$set_a" >"$SNAP_ITMP/r2.out" 2>"$SNAP_ITMP/r2.err"
rc=$?
check_num "second restore exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$SNAP_ITMP/r2.err"
check "guest is back with every disk" back_up
check "a file written before the set is on every disk" has before
check "after2 is gone" lacks after2
check "after is still gone" lacks after

begin "restore an older set (a new volume from its snapshot)"
mark between
check "the guest wrote between.txt on every disk" has between
sso create "$DOM" --json >"$SNAP_ITMP/b.json" 2>"$SNAP_ITMP/b.err"
check_num "create a newer set" $? -eq 0
set_b=$(jq -r .uuid "$SNAP_ITMP/b.json")
r_made_sets="$r_made_sets $set_b"
mark after3
check "the guest wrote after3.txt on every disk" has after3
sso restore "$set_a" >"$SNAP_ITMP/r3.out" 2>"$SNAP_ITMP/r3.err"
rc=$?
check_num "restore exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$SNAP_ITMP/r3.err"
sed 's/^/     /' "$SNAP_ITMP/r3.out"
check "a new volume replaced the old one" grep -q "vdd: new Cinder volume" "$SNAP_ITMP/r3.out"
new=$(vol_of "$DOM" vdd)
check "the disk's serial is the new volume" test -n "$new" -a "$new" != "$vol"
check "the new volume was made from set A's snapshot" \
    test "$("$C/os" cinder GET "/volumes/$new" | jq -r .volume.snapshot_id)" = "$(jq -r '.members[] | select(.target == "vdd") | .location' "$SNAP_ITMP/a.json")"
check "the old volume is kept, detached" \
    test "$("$C/os" cinder GET "/volumes/$vol" | jq -r .volume.status)" = available
check "guest is back with every disk" back_up
check "set A's file is on every disk" has before
check "files of later times are gone" lacks between
check "after3 is gone" lacks after3

begin "restore the newer set (again a new volume; the restore's volume goes)"
sso restore "$set_b" >"$SNAP_ITMP/r4.out" 2>"$SNAP_ITMP/r4.err"
rc=$?
check_num "restore exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$SNAP_ITMP/r4.err"
check "the volume made by the earlier restore was deleted" grep -q "$new (made by an earlier restore) deleted" "$SNAP_ITMP/r4.out"
"$C/os" cinder GET "/volumes/$new" >/dev/null 2>&1
check_num "... and is gone from Cinder" $? -eq 2
check "guest is back with every disk" back_up
check "set B's file is on every disk" has between
check "set A's file too" has before
check "after3 is still gone" lacks after3

begin "a restore failing half-way is undone"
mark post
check "the guest wrote post.txt on every disk" has post
blk_before=$(blklist)
ls -i "$SNAP_WORK/img" >"$SNAP_ITMP/inodes.before"
SNAPSET_FAULT=restore-swapped:fail sso restore "$set_a" >"$SNAP_ITMP/f.out" 2>"$SNAP_ITMP/f.err"
rc=$?
if grep -q "fault injected" "$SNAP_ITMP/f.err"; then
    check_num "restore exits 1" $rc -eq 1
    check "the error names the step and says it was undone" \
        grep -q "failed at step 'start the domain' and was undone" "$SNAP_ITMP/f.err"
    check "domain is running again" test "$(domstate)" = running
    check "the domain's disks are as before (domblklist)" test "$(blklist)" = "$blk_before"
    check "the disk images are the same files" sh -c "ls -i '$SNAP_WORK/img' | cmp -s - '$SNAP_ITMP/inodes.before'"
    check "no image of the restore is left" test -z "$(ls -A "$SNAP_WORK/img" | grep snapset-restore)"
    check "no volume of the restore is left" \
        test "$("$C/os" cinder GET /volumes/detail | jq --arg s "$set_a" '[.volumes[] | select(.metadata.snapset_from_set == $s and .status != "deleting")] | length')" = 0
    check "guest is back with every disk" back_up
    check "what the guest wrote before the failed restore is there" has post
else
    ok "skipped: not a -DSNAP_FAULTS=ON build"
fi

begin "a guest that does not power off is forced off after the bound"
# qemu-ga stopped inside the guest: no agent shutdown, and busybox has no
# ACPI daemon, so only the bound ends the wait.
gx "p=\$(pidof qemu-ga); (sleep 1; kill -STOP \$p; sleep 30; kill -CONT \$p) >/dev/null 2>&1 &" >/dev/null
sleep 2
sso --agent-timeout 1000 restore "$set_b" --shutdown-timeout 2000 >"$SNAP_ITMP/r6.out" 2>"$SNAP_ITMP/r6.err"
rc=$?
check_num "restore exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$SNAP_ITMP/r6.err"
grep timing "$SNAP_ITMP/r6.out" | sed 's/^/     /'
stop=$(sed -n 's/.*stop \([0-9]*\) forced.*/\1/p' "$SNAP_ITMP/r6.out")
check "the guest was forced off" test -n "$stop"
check_num "after the bound (2 s + 1 s agent ping), not much later (ms)" "${stop:-99999}" -le 6000
check "guest is back with every disk" back_up
check "set B's file is on every disk" has between

begin "restore --no-start"
sso restore "$set_b" --no-start >"$SNAP_ITMP/r5.out" 2>"$SNAP_ITMP/r5.err"
rc=$?
check_num "restore --no-start exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$SNAP_ITMP/r5.err"
check "the domain is left shut off" test "$(domstate)" = "shut off"
check "the output says so" grep -q "is shut off" "$SNAP_ITMP/r5.out"

begin "RAM state: create --memory, restore continues the running guest"
vsh start "$DOM" >/dev/null 2>&1
check "guest is back with every disk" back_up
# A counter that lives only in the guest's memory (tmpfs), ticking 5x/s.
gx "(i=0; while :; do i=\$((i + 1)); echo \$i > /run/counter; sleep 0.2; done) >/dev/null 2>&1 &" >/dev/null
sleep 2
mark membefore
c_before=$(gx 'cat /run/counter')
up_before=$(guest_uptime)
sso create "$DOM" --memory --json >"$SNAP_ITMP/m.json" 2>"$SNAP_ITMP/m.err"
rc=$?
c_after=$(gx 'cat /run/counter')
check_num "create --memory exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$SNAP_ITMP/m.err"
set_m=$(jq -r .uuid "$SNAP_ITMP/m.json")
r_made_sets="$r_made_sets $set_m"
mem=$(jq -r '.memory // empty' "$SNAP_ITMP/m.json")
check "the set records its RAM state file" test -n "$mem" -a -s "$mem"
check "taken paused, not frozen (a guest saved frozen would come back frozen)" \
    test "$(jq -r '[.quiesce, .consistency, (.pause_window_ms != null), .freeze_window_ms] | join(" ")' "$SNAP_ITMP/m.json")" = "off crash true "
pw=$(jq -r .pause_window_ms "$SNAP_ITMP/m.json")
ms=$(jq -r .memory_save_ms "$SNAP_ITMP/m.json")
echo "     paused $pw ms, of which saving $(du -m "$mem" | cut -f1) MiB of RAM state $ms ms"
check_num "the save is inside the pause" "${ms:-99999}" -le "${pw:-0}"
check "the Cinder member is in the set" test "$(jq '[.members[] | select(.kind == "cinder" and .state == "available")] | length' "$SNAP_ITMP/m.json")" = 1
check "list marks the set as having RAM state" sh -c "'$SNAPSET' --catalog-dir '$SNAP_CATALOG' -c '$conf' list | grep '^$set_m' | grep -q ' yes\$'"
check "the guest runs on" test "$(domstate)" = running
sleep 6
mark memafter
c_late=$(gx 'cat /run/counter')
up_late=$(guest_uptime)
echo "     counter $c_before before the set, $c_after after, $c_late before the restore"

cur_vol=$(vol_of "$DOM" vdd)
sso restore "$set_m" >"$SNAP_ITMP/rm.out" 2>"$SNAP_ITMP/rm.err"
rc=$?
check_num "restore exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$SNAP_ITMP/rm.err"
grep -E 'timing|RAM' "$SNAP_ITMP/rm.out" | sed 's/^/     /'
check "the output says the RAM state was loaded" grep -q "RAM state loaded" "$SNAP_ITMP/rm.out"
check "the volume was reverted in place" grep -q "vdd: Cinder volume $cur_vol reverted" "$SNAP_ITMP/rm.out"
check "the agent answers" wait_agent "$DOM" 30
c_r=$(gx 'cat /run/counter')
up_r=$(guest_uptime)
echo "     after the restore: counter $c_r, uptime $up_r (was $up_before at the set, $up_late before the restore)"
check "the counter continues from its saved value ($c_before <= $c_r < $c_late)" \
    test "${c_r:-0}" -ge "${c_before:-1}" -a "${c_r:-0}" -lt "${c_late:-0}"
sleep 1
c_r2=$(gx 'cat /run/counter')
check "the counter process is alive and ticking ($c_r -> $c_r2)" test "${c_r2:-0}" -gt "${c_r:-0}"
check "the uptime continues, no reboot ($up_before <= $up_r < $up_late)" \
    awk -v a="$up_before" -v b="$up_r" -v c="$up_late" 'BEGIN { exit !(b >= a && b < c) }'
check "a file written before the set is on every disk" has membefore
check "a file written after the set is gone from every disk" lacks memafter
check "the guest is not frozen" test "$(agent_status)" = thawed
sso create "$DOM" --memory --quiesce=required 2>"$SNAP_ITMP/mq.err"
check_num "--memory with --quiesce=required is a usage error" $? -eq 2
check "... saying why" grep -q "would come back frozen" "$SNAP_ITMP/mq.err"

begin "restore through the API: POST /v1/sets/{id}/restore is a job"
# serve on our own domain and catalog as the test cloud's demo user, with
# a demo token (as test_http_api.sh): the domain is the demo project's, as
# Nova would record it, so the project's member may restore it
atok=$(. "$OS_STATE/openrc-demo" && "$C/os" token)
aproj=$(. "$OS_STATE/openrc-demo" && "$C/os" project-id)
vsh metadata "$DOM" --uri urn:snapset:owner --key snapset \
    --set "<owner project=\"$aproj\"/>" --live --config >/dev/null
at_exit 'vsh metadata "$DOM" --uri urn:snapset:owner --remove --config >/dev/null 2>&1; :'
aconf=$SNAP_ITMP/api.conf
cp "$conf" "$aconf"
echo 'http = { port = 0; workers = 1; };' >>"$aconf"
(. "$OS_STATE/openrc-demo" && exec "$SNAPSET" -c "$aconf" --catalog-dir "$SNAP_CATALOG" serve \
    >"$SNAP_ITMP/serve.out" 2>"$SNAP_ITMP/serve.err") &
apid=$!
at_exit 'kill -TERM $apid 2>/dev/null; wait $apid 2>/dev/null; :'
aport=""
i=0
while [ $i -lt 600 ] && [ -z "$aport" ] && kill -0 "$apid" 2>/dev/null; do
    aport=$(sed -n 's|^snapset: serving on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$SNAP_ITMP/serve.out")
    sleep 0.1
    i=$((i + 1))
done
check "serve is up" test -n "$aport"
aapi() { # aapi METHOD PATH [BODY]: the status code; body in $SNAP_ITMP/abody
    curl -s --noproxy '*' --max-time 60 -H "X-Auth-Token: $atok" -o "$SNAP_ITMP/abody" \
        -D "$SNAP_ITMP/aheaders" -w '%{http_code}' -X "$1" \
        ${3:+-H "Content-Type: application/json" --data-binary "$3"} "http://127.0.0.1:$aport$2"
}
check "guest is back with every disk" back_up
gx "for d in $(disks); do rm -f \$d/*.txt; done; sync" >/dev/null
mark apibefore
sso create "$DOM" --json >"$SNAP_ITMP/api-set.json" 2>"$SNAP_ITMP/api-set.err"
check_num "a set to go back to" $? -eq 0
set_api=$(jq -r .uuid "$SNAP_ITMP/api-set.json")
r_made_sets="$r_made_sets $set_api"
mark apiafter
check_num "a bad body: 400" "$(aapi POST "/v1/sets/$set_api/restore" '{"start": "yes"}')" -eq 400
check "the guest was not touched" has apiafter
check_num "POST /v1/sets/{id}/restore: 202" "$(aapi POST "/v1/sets/$set_api/restore" '{"start": true, "shutdown_timeout_ms": 60000}')" -eq 202
ajob=$(jq -r .job_id "$SNAP_ITMP/abody")
check "Location names the job" grep -qi "^location: /v1/jobs/$ajob" "$SNAP_ITMP/aheaders"
check_num "the domain is locked meanwhile: a second restore is 409" \
    "$(aapi POST "/v1/sets/$set_api/restore" '{}')" -eq 409
i=0
jst=""
while [ $i -lt 1200 ]; do
    [ "$(aapi GET "/v1/jobs/$ajob")" = 200 ] || { jst="http-error"; break; }
    jst=$(jq -r .job.state "$SNAP_ITMP/abody")
    case $jst in succeeded | failed) break ;; esac
    sleep 0.25
    i=$((i + 1))
done
check "the job succeeded ($jst)" test "$jst" = succeeded
[ "$jst" = succeeded ] || jq -r .job.error "$SNAP_ITMP/abody"
check "its result says the domain was started" test "$(jq -r .job.result.started "$SNAP_ITMP/abody")" = true
check "... and what became of each disk" test "$(jq '.job.result.disks | length' "$SNAP_ITMP/abody")" -ge 4
check "the guest is back" back_up
check "a file written before the set is on every disk" has apibefore
check "a file written after the set is gone from every disk" lacks apiafter
# wait_job ID: the job's end state (succeeded, failed, http-error, timeout)
wait_job() {
    _i=0
    while [ $_i -lt 1200 ]; do
        [ "$(aapi GET "/v1/jobs/$1")" = 200 ] || { echo http-error; return; }
        _s=$(jq -r .job.state "$SNAP_ITMP/abody")
        case $_s in succeeded | failed) echo "$_s"; return ;; esac
        sleep 0.25
        _i=$((_i + 1))
    done
    echo timeout
}

begin "RAM states through the API: save, list, apply, delete"
# A counter in the guest's /tmp, a tmpfs: only the RAM state can bring it back.
gx "echo 1 >/tmp/counter" >/dev/null
check_num "POST /v1/servers/{domain}/states: 202" "$(aapi POST "/v1/servers/$DOM/states" '{"name": "api state"}')" -eq 202
st_id=$(jq -r .state_id "$SNAP_ITMP/abody")
st_job=$(jq -r .job_id "$SNAP_ITMP/abody")
r_made_sets="$r_made_sets $st_id"
check "the save job succeeded" test "$(wait_job "$st_job")" = succeeded
gx "echo 2 >/tmp/counter" >/dev/null
check_num "GET /v1/servers/{domain}/states: 200" "$(aapi GET "/v1/servers/$DOM/states")" -eq 200
check "... lists the new state, with its RAM state" \
    test "$(jq -r --arg i "$st_id" '.states[] | select(.id == $i) | .memory' "$SNAP_ITMP/abody")" = true
check "... and no set without RAM state" test "$(jq '[.states[] | select(.memory != true)] | length' "$SNAP_ITMP/abody")" = 0
check_num "GET one state: 200" "$(aapi GET "/v1/servers/$DOM/states/$st_id")" -eq 200
check_num "a set without RAM state is no state: 404" "$(aapi GET "/v1/servers/$DOM/states/$set_api")" -eq 404
check "the guest runs on after the save" test "$(domstate)" = running
check_num "POST .../states/apply: 202" "$(aapi POST "/v1/servers/$DOM/states/apply" "{\"uuid\": \"$st_id\"}")" -eq 202
check "the apply job succeeded" test "$(wait_job "$(jq -r .job_id "$SNAP_ITMP/abody")")" = succeeded
check "... loaded from the RAM state" test "$(jq -r .job.result.memory "$SNAP_ITMP/abody")" = true
check "the agent answers" wait_agent "$DOM" 30
check "the guest runs" test "$(domstate)" = running
check "the in-memory counter is back to 1 ($(gx 'cat /tmp/counter' 2>&1))" test "$(gx 'cat /tmp/counter')" = 1
check_num "DELETE the state: 202" "$(aapi DELETE "/v1/servers/$DOM/states/$st_id")" -eq 202
check "the delete job succeeded" test "$(wait_job "$(jq -r .job_id "$SNAP_ITMP/abody")")" = succeeded
check_num "... and it is gone: 404" "$(aapi GET "/v1/servers/$DOM/states/$st_id")" -eq 404
[ "$(aapi GET "/v1/servers/$DOM/states/$st_id")" = 404 ] &&
    r_made_sets=$(printf '%s\n' $r_made_sets | grep -v "^$st_id\$" | tr '\n' ' ')

kill -TERM "$apid" 2>/dev/null
wait "$apid" 2>/dev/null
check_num "serve stops cleanly" $? -eq 0

begin "RAM states from the CLI: state save, list, load, delete"
gx "echo 1 >/tmp/counter" >/dev/null
sso state save "$DOM" "cli state" >"$SNAP_ITMP/ss.out" 2>"$SNAP_ITMP/ss.err"
check_num "state save exits 0" $? -eq 0
cst=$(sed -n 's/^saved state \([0-9a-f-]\{36\}\) .*/\1/p' "$SNAP_ITMP/ss.out")
[ -n "$cst" ] || cat "$SNAP_ITMP/ss.out" "$SNAP_ITMP/ss.err"
r_made_sets="$r_made_sets $cst"
check "the guest runs on after the save" test "$(domstate)" = running
gx "echo 2 >/tmp/counter" >/dev/null
sso state list "$DOM" >"$SNAP_ITMP/sls.out" 2>&1
check "state list shows it with its name" grep -q "^$cst .* cli state\$" "$SNAP_ITMP/sls.out"
check "state list shows no set without RAM state" test "$(grep -c "^$set_a" "$SNAP_ITMP/sls.out")" = 0
sso state load "$DOM" "$set_a" >/dev/null 2>"$SNAP_ITMP/sl.err"
check_num "state load of a set without RAM state fails" $? -eq 1
check "... saying so" grep -q "has no RAM state" "$SNAP_ITMP/sl.err"
check "state load exits 0" sso state load "$DOM" "$cst"
check "the agent answers" wait_agent "$DOM" 30
check "the in-memory counter is back to 1" test "$(gx 'cat /tmp/counter')" = 1
sso state delete "$DOM" "$set_a" "$cst" >"$SNAP_ITMP/sd.out" 2>"$SNAP_ITMP/sd.err"
check_num "state delete of a state and a set without one exits 1" $? -eq 1
check "... and still deleted the state" grep -q "^deleted state $cst" "$SNAP_ITMP/sd.out"
check "... and kept the other set" test "$(sso show "$set_a" --json | jq -r .state)" = available
r_made_sets=$(printf '%s\n' $r_made_sets | grep -v "^$cst\$" | tr '\n' ' ')

begin "bad input"
sso restore 2>/dev/null; check_num "restore without a set is a usage error" $? -eq 2
sso restore "$set_a" --bogus 2>/dev/null; check_num "unknown option is a usage error" $? -eq 2
sso restore 00000000-0000-0000-0000-000000000000 2>"$SNAP_ITMP/e"; rc=$?
check_num "unknown set fails" $rc -eq 1

summary
