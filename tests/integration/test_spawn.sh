#!/bin/sh
# tests/integration/test_spawn.sh -- `snapset spawn`, `volume-from` and
# `flatten` on a real guest of its own with three local disks and a Cinder
# RBD volume: the new VM boots and its agent answers, each of its disks is
# byte-identical to the set's member (checked from the host), the original
# is untouched and still running; bad input (a network that does not
# exist, a name in use, more vCPUs than the host) fails before anything is
# made; a spawn failing half-way (fault build) leaves nothing; spawning
# twice gives the same content; volume-from gives the member's content; a
# set that a linked clone depends on cannot be deleted. Through the API
# (serve as the test cloud's demo user): POST /v1/sets/{id}/spawn with
# count 3 gives 3 running VMs whose agents answer; one whose 3rd VM fails
# (fault build) leaves none of the 3; POST /v1/sets/{id}/volumes gives a
# volume holding the member's data; bad input 400, another project 403.
#
# The networks are an isolated bridge with no uplink and no address: the
# guests have no NIC driver anyway, nothing is sent anywhere.
set -u
. "$(dirname "$0")/restore_lib.sh"
. "$(dirname "$0")/lib.sh"

need_cloud
conf=$SNAP_ITMP/snapset.conf
cloud_conf "$conf" "delete_timeout_ms = 30000"
NET=snapset-it-spawn
BR=snapsetitbr0
N1=${DOM}-clone1
N2=${DOM}-clone2
A=${DOM}-api
r_doms="$N1 $N2 ${DOM}-bad $A-1 $A-2 $A-3 $A-f-1 $A-f-2 $A-f-3"
net_down() {
    vsh net-destroy "$NET" >/dev/null 2>&1
    vsh net-undefine "$NET" >/dev/null 2>&1
    ip link del "$BR" >/dev/null 2>&1 || :
}
at_exit net_down
at_exit r_cleanup

begin "guest, volume, network"
if ! r_guest_up; then bad "tests/guest/setup for $DOM"; summary; exit 1; fi
r_attach snapset-it-spawn || { bad "attach a volume"; summary; exit 1; }
check "the guest mounts every data disk" wait_mounts 60 /vol/data1 /vol/data2 "$(vol_dir)"
net_down
ip link add "$BR" type bridge && ip link set "$BR" up &&
    printf "<network><name>%s</name><forward mode='bridge'/><bridge name='%s'/></network>" "$NET" "$BR" >"$SNAP_ITMP/net.xml" &&
    vsh net-define "$SNAP_ITMP/net.xml" >/dev/null && vsh net-start "$NET" >/dev/null
check_num "an isolated network for the clones" $? -eq 0

begin "the set"
mark="SPAWN-$$-$(date +%s%N)"
gx "for d in / /vol/data1 /vol/data2 $(vol_dir); do rm -f \$d/*.txt; echo $mark > \$d/spawn.txt; done" >/dev/null
sso create "$DOM" --json >"$SNAP_ITMP/s.json" 2>"$SNAP_ITMP/s.err"
rc=$?
check_num "create exits 0" $rc -eq 0
[ $rc -eq 0 ] || { cat "$SNAP_ITMP/s.err"; summary; exit 1; }
set_id=$(jq -r .uuid "$SNAP_ITMP/s.json")
r_made_sets="$set_id"
member() { jq -r --arg t "$1" ".members[] | select(.target == \$t) | .$2" "$SNAP_ITMP/s.json"; }
blk0=$(blklist)
up0=$(guest_uptime)
uuid0=$(vsh domuuid "$DOM")

# nothing_of NAME: no domain, image, console log or volume of that name.
nothing_of() {
    ! vsh domuuid "$1" >/dev/null 2>&1 &&
        [ -z "$(ls "$SNAP_WORK/img" | grep -e "^$1-" -e "^$1\.")" ] &&
        [ "$("$C/os" cinder GET /volumes/detail | jq --arg n "$1-" '[.volumes[] | select(.name | startswith($n))] | length')" = 0 ]
}

begin "validation before anything is made"
sso spawn "$set_id" --name "${DOM}-bad" --network no-such-net >/dev/null 2>"$SNAP_ITMP/e1"
check_num "a network that does not exist fails" $? -eq 1
check "the error names the network" grep -q "network 'no-such-net' does not exist" "$SNAP_ITMP/e1"
check "nothing was made" nothing_of "${DOM}-bad"
sso spawn "$set_id" --name "$DOM" >/dev/null 2>"$SNAP_ITMP/e2"
check_num "a name in use fails" $? -eq 1
check "the error says so" grep -q "a domain named '$DOM' exists already" "$SNAP_ITMP/e2"
sso spawn "$set_id" --name "${DOM}-bad" --vcpus 4096 >/dev/null 2>"$SNAP_ITMP/e3"
check_num "more vCPUs than the host fails" $? -eq 1
check "the error gives the host's CPUs" grep -q "4096 vCPUs asked for, but the host has" "$SNAP_ITMP/e3"
check "nothing was made" nothing_of "${DOM}-bad"
sso spawn "$set_id" 2>/dev/null
check_num "spawn without --name is a usage error" $? -eq 2

begin "a spawn failing half-way leaves nothing"
SNAPSET_FAULT=spawn-defined:fail sso spawn "$set_id" --name "${DOM}-bad" >/dev/null 2>"$SNAP_ITMP/e4"
rc=$?
if grep -q "fault injected" "$SNAP_ITMP/e4"; then
    check_num "spawn exits 1" $rc -eq 1
    check "the error names the step" grep -q "failed at step 'define the domain'" "$SNAP_ITMP/e4"
    check "nothing was left: domain, images, volumes" nothing_of "${DOM}-bad"
else
    ok "skipped: not a -DSNAP_FAULTS=ON build"
fi

begin "spawn a linked clone"
t0=$(date +%s%3N)
sso spawn "$set_id" --name "$N1" --vcpus 2 --memory 320 --network "$NET" --no-start \
    >"$SNAP_ITMP/n1.out" 2>"$SNAP_ITMP/n1.err"
rc=$?
t1=$(date +%s%3N)
check_num "spawn exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$SNAP_ITMP/n1.err"
sed 's/^/     /' "$SNAP_ITMP/n1.out"
echo "     spawn (linked, not started) took $((t1 - t0)) ms"
vsh dumpxml --inactive "$N1" >"$SNAP_ITMP/n1.xml"
x() { xmllint --xpath "$1" "$SNAP_ITMP/n1.xml" 2>/dev/null; }
check "new UUID" test -n "$(x 'string(/domain/uuid)')" -a "$(x 'string(/domain/uuid)')" != "$uuid0"
check "2 vCPUs" test "$(x 'string(/domain/vcpu)')" = 2
check "320 MiB" test "$(x 'string(/domain/memory)')" = 327680
check "one NIC on the chosen network" test "$(x "count(//interface[source/@network='$NET'])")" = 1
check "with a MAC address of its own" test -n "$(x 'string(//interface/mac/@address)')"
check "records its origin" test "$(x 'string(/domain/metadata/*/@set)')" = "$set_id"
check "its console log is its own" test "$(x 'string(//serial/source/@path)')" = "$SNAP_WORK/img/$N1.console.log"
# Each disk, from the host, before the clone ever ran.
for t in vda vdb vdc; do
    img=$SNAP_WORK/img/$N1-$t.qcow2
    check "$t is a linked clone of the set's copy" \
        test "$(qemu-img info -U --output=json "$img" | jq -r '."full-backing-filename"')" = "$(member $t location)"
    check "$t is byte-identical to the set's member" \
        test "$(img_sum "$img" qcow2)" = "$(img_sum "$(member $t location)" qcow2)"
done
v1=$(vol_of "$N1" vdd)
check "vdd is a new Cinder volume" test -n "$v1" -a "$v1" != "$vol"
check "made from the set's snapshot" \
    test "$("$C/os" cinder GET "/volumes/$v1" | jq -r .volume.snapshot_id)" = "$(member vdd location)"
check "attached to the clone in Cinder" \
    test "$("$C/os" cinder GET "/volumes/$v1" | jq -r '.volume.status + " " + .volume.attachments[0].server_id')" = "in-use $(x 'string(/domain/uuid)')"
check "vdd is byte-identical to the set's member" \
    qemu-img compare -q -f raw -F raw "$(rbd_url "$v1")" "$(rbd_url "$vol" "$(member vdd location)")"
vsh start "$N1" >/dev/null
check "the clone starts" test "$(vsh domstate "$N1")" = running
check "its agent answers" wait_agent "$N1" 120
c1=$("$G/gexec" "$N1" "cat /spawn.txt /vol/data1/spawn.txt /vol/data2/spawn.txt 2>&1; i=0; while [ \$i -lt 60 ]; do cat /vol/$(echo "$v1" | cut -c1-20)/spawn.txt 2>/dev/null && break; sleep 0.5; i=\$((i+1)); done" | sort -u)
check "it sees the set's content on every disk" test "$c1" = "$mark"
check "it has 2 vCPUs" test "$("$G/gexec" "$N1" 'grep -c ^processor /proc/cpuinfo')" = 2

begin "the original is untouched"
check "still running" test "$(domstate)" = running
check "its disks are the same (domblklist)" test "$(blklist)" = "$blk0"
up1=$(guest_uptime)
check "it did not restart (uptime $up0 -> $up1)" awk -v a="$up0" -v b="$up1" 'BEGIN { exit !(b > a) }'
check "its volume is still its own" \
    test "$("$C/os" cinder GET "/volumes/$vol" | jq -r '.volume.status + " " + .volume.attachments[0].server_id')" = "in-use $uuid0"

begin "spawn again, a full copy, started"
t0=$(date +%s%3N)
sso spawn "$set_id" --name "$N2" --full >"$SNAP_ITMP/n2.out" 2>"$SNAP_ITMP/n2.err"
rc=$?
t1=$(date +%s%3N)
check_num "spawn --full exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$SNAP_ITMP/n2.err"
echo "     spawn (full copies, started) took $((t1 - t0)) ms"
for t in vda vdb; do
    check "$t has no backing file" \
        test "$(qemu-img info -U --output=json "$SNAP_WORK/img/$N2-$t.qcow2" | jq -r '."backing-filename" // "none"')" = none
done
check "vdc stays raw" test -s "$SNAP_WORK/img/$N2-vdc.raw"
check "its agent answers" wait_agent "$N2" 120
v2=$(vol_of "$N2" vdd)
c2=$("$G/gexec" "$N2" "cat /spawn.txt /vol/data1/spawn.txt /vol/data2/spawn.txt 2>&1; i=0; while [ \$i -lt 60 ]; do cat /vol/$(echo "$v2" | cut -c1-20)/spawn.txt 2>/dev/null && break; sleep 0.5; i=\$((i+1)); done" | sort -u)
check "the same content as the first spawn" test "$c2" = "$mark"
check "its MAC differs from the first clone's" \
    test "$(vsh dumpxml "$N2" | xmllint --xpath 'string(//interface/mac/@address)' - 2>/dev/null)" != "$(x 'string(//interface/mac/@address)')"

begin "volume-from"
nv=$(sso volume-from "$set_id" vdd --name snapset-it-volfrom 2>"$SNAP_ITMP/vf.err")
check_num "volume-from of the Cinder member exits 0" $? -eq 0
[ -n "$nv" ] || cat "$SNAP_ITMP/vf.err"
check "the new volume is available" test "$("$C/os" cinder GET "/volumes/$nv" | jq -r .volume.status)" = available
check "its content is the member's" \
    qemu-img compare -q -f raw -F raw "$(rbd_url "$nv")" "$(rbd_url "$vol" "$(member vdd location)")"
img=$(sso volume-from "$set_id" vdc --dir "$SNAP_ITMP" --format raw 2>"$SNAP_ITMP/vf2.err")
check_num "volume-from of a local member exits 0" $? -eq 0
check "the new image's content is the member's" \
    test "$(img_sum "$img" raw)" = "$(img_sum "$(member vdc location)" qcow2)"
sso volume-from "$set_id" vdz >/dev/null 2>&1
check_num "an unknown disk fails" $? -eq 1

begin "through the API: spawn count 3, all or none; a volume from a member"
# serve as the test cloud's demo user (as test_restore.sh): the domain is
# the demo project's, so its member may use the domain's sets.
atok=$(. "$OS_STATE/openrc-demo" && "$C/os" token)
aproj=$(. "$OS_STATE/openrc-demo" && "$C/os" project-id)
vsh metadata "$DOM" --uri urn:snapset:owner --key snapset \
    --set "<owner project=\"$aproj\"/>" --live --config >/dev/null
at_exit 'vsh metadata "$DOM" --uri urn:snapset:owner --remove --config >/dev/null 2>&1; :'
aconf=$SNAP_ITMP/api.conf
cp "$conf" "$aconf"
echo 'http = { port = 0; workers = 1; };' >>"$aconf"
apid=""
at_exit '[ -z "$apid" ] || { kill -TERM $apid 2>/dev/null; wait $apid 2>/dev/null; }; :'
# aserve [ENV=VALUE]: (re)starts serve; false when it does not come up
aserve() {
    if [ -n "$apid" ]; then
        kill -TERM "$apid" 2>/dev/null
        wait "$apid" 2>/dev/null
    fi
    : >"$SNAP_ITMP/serve.out"
    (. "$OS_STATE/openrc-demo" && exec env "$@" "$SNAPSET" -c "$aconf" --catalog-dir "$SNAP_CATALOG" serve \
        >"$SNAP_ITMP/serve.out" 2>>"$SNAP_ITMP/serve.err") &
    apid=$!
    aport=""
    _i=0
    while [ $_i -lt 600 ] && [ -z "$aport" ] && kill -0 "$apid" 2>/dev/null; do
        aport=$(sed -n 's|^snapset: serving on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$SNAP_ITMP/serve.out")
        sleep 0.1
        _i=$((_i + 1))
    done
    [ -n "$aport" ]
}
aapi() { # aapi METHOD PATH [BODY]: the status code; body in $SNAP_ITMP/abody
    curl -s --noproxy '*' --max-time 60 -H "X-Auth-Token: ${atok_as:-$atok}" -o "$SNAP_ITMP/abody" \
        -D "$SNAP_ITMP/aheaders" -w '%{http_code}' -X "$1" \
        ${3:+-H "Content-Type: application/json" --data-binary "$3"} "http://127.0.0.1:$aport$2"
}
wait_job() { # wait_job ID: its end state (succeeded, failed, http-error, timeout)
    _i=0
    while [ $_i -lt 2400 ]; do
        [ "$(aapi GET "/v1/jobs/$1")" = 200 ] || { echo http-error; return; }
        _s=$(jq -r .job.state "$SNAP_ITMP/abody")
        case $_s in succeeded | failed) echo "$_s"; return ;; esac
        sleep 0.25
        _i=$((_i + 1))
    done
    echo timeout
}
all_nothing() { # all_nothing NAME...: nothing_of each
    for _n in "$@"; do nothing_of "$_n" || return 1; done
}

# (in a build without faults the job succeeds: its VMs are removed again)
check "serve, the 3rd VM of a spawn failing (fault build)" aserve SNAPSET_FAULT=spawn-defined-3:fail
check_num "POST spawn count 3: 202" \
    "$(aapi POST "/v1/sets/$set_id/spawn" "{\"name\": \"$A-f\", \"count\": 3, \"networks\": [\"$NET\"]}")" -eq 202
fst=$(wait_job "$(jq -r .job_id "$SNAP_ITMP/abody")")
if grep -q "fault injected" "$SNAP_ITMP/abody"; then
    check "the job failed ($fst)" test "$fst" = failed
    check "its error names the 3rd VM and the step" \
        grep -q "spawn of '$A-f-3' (3 of 3) failed at step 'define the domain'" "$SNAP_ITMP/abody"
    check "none of the 3 is left: domains, images, volumes" all_nothing "$A-f-1" "$A-f-2" "$A-f-3"
    check_num "the same with keep_failed: 202" \
        "$(aapi POST "/v1/sets/$set_id/spawn" "{\"name\": \"$A-f\", \"count\": 3, \"networks\": [\"$NET\"], \"keep_failed\": true}")" -eq 202
    check "the job failed" test "$(wait_job "$(jq -r .job_id "$SNAP_ITMP/abody")")" = failed
    check "... saying the 3rd was kept" grep -q "spawn of '$A-f-3' (3 of 3) failed .*kept for inspection" "$SNAP_ITMP/abody"
    check "$A-f-3 is defined, shut off" test "$(vsh domstate "$A-f-3" 2>/dev/null)" = "shut off"
    vsh dumpxml --inactive "$A-f-3" >"$SNAP_ITMP/kept.xml" 2>/dev/null
    check "... marked state=error in its snapset metadata" grep -q 'state="error"' "$SNAP_ITMP/kept.xml"
    check "... with its disks kept" test -s "$SNAP_WORK/img/$A-f-3-vda.qcow2"
    check "the two before it are gone" all_nothing "$A-f-1" "$A-f-2"
    r_drop_domain "$A-f-3" >/dev/null
    check "the kept one, dropped, leaves nothing" all_nothing "$A-f-3"
else
    for k in 1 2 3; do r_drop_domain "$A-f-$k" >/dev/null; done
    ok "skipped: not a -DSNAP_FAULTS=ON build"
fi
check "serve" aserve
check_num "a bad body (count 0): 400" "$(aapi POST "/v1/sets/$set_id/spawn" "{\"name\": \"$A\", \"count\": 0}")" -eq 400
check_num "a path for a name: 400" "$(aapi POST "/v1/sets/$set_id/spawn" '{"name": "../x"}')" -eq 400
check_num "a name in use: the job fails before anything is made" \
    "$(aapi POST "/v1/sets/$set_id/spawn" "{\"name\": \"$DOM\"}")" -eq 202
check "... saying so" test "$(wait_job "$(jq -r .job_id "$SNAP_ITMP/abody")")" = failed
check "... naming the domain" grep -q "a domain named '$DOM' exists already" "$SNAP_ITMP/abody"
check_num "no token: 401" "$(atok_as=none aapi POST "/v1/sets/$set_id/spawn" "{\"name\": \"$A\"}")" -eq 401
check_num "an unknown set: 404" \
    "$(aapi POST "/v1/sets/00000000-0000-0000-0000-000000000000/spawn" "{\"name\": \"$A\"}")" -eq 404
t0=$(date +%s%3N)
check_num "POST spawn count 3: 202" \
    "$(aapi POST "/v1/sets/$set_id/spawn" "{\"name\": \"$A\", \"count\": 3, \"networks\": [\"$NET\"], \"memory_mib\": 256}")" -eq 202
sjob=$(jq -r .job_id "$SNAP_ITMP/abody")
check "the answer names the 3 VMs" test "$(jq -r '.servers | join(" ")' "$SNAP_ITMP/abody")" = "$A-1 $A-2 $A-3"
check_num "the set's domain is locked meanwhile: 409" \
    "$(aapi POST "/v1/sets/$set_id/volumes" '{"disk": "vdz"}')" -eq 409
check "the job succeeded" test "$(wait_job "$sjob")" = succeeded
echo "     spawn of 3 (linked, started) took $(($(date +%s%3N) - t0)) ms"
check "its result names 3 domains" test "$(jq '.job.result.servers | length' "$SNAP_ITMP/abody")" = 3
for k in 1 2 3; do
    check "$A-$k runs" test "$(vsh domstate "$A-$k" 2>/dev/null)" = running
    check "... with its UUID as the result says" \
        test "$(vsh domuuid "$A-$k")" = "$(jq -r --arg n "$A-$k" '.job.result.servers[] | select(.name == $n) | .uuid' "$SNAP_ITMP/abody")"
    check "... records the set it came from" \
        test "$(vsh dumpxml --inactive "$A-$k" | xmllint --xpath 'string(/domain/metadata/*/@set)' - 2>/dev/null)" = "$set_id"
done
for k in 1 2 3; do
    check "$A-$k's agent answers" wait_agent "$A-$k" 180
done
check "each sees the set's content" test "$("$G/gexec" "$A-2" "cat /vol/data1/spawn.txt")" = "$mark"
for k in 1 2 3; do r_drop_domain "$A-$k" >/dev/null; done

check_num "POST volumes of the Cinder member: 202" \
    "$(aapi POST "/v1/sets/$set_id/volumes" '{"disk": "vdd", "name": "snapset-it-apivol"}')" -eq 202
check "the job succeeded" test "$(wait_job "$(jq -r .job_id "$SNAP_ITMP/abody")")" = succeeded
av=$(jq -r '.job.result.volume_id // empty' "$SNAP_ITMP/abody")
check "its result names the volume" test -n "$av"
check "the new volume is available" test "$("$C/os" cinder GET "/volumes/$av" | jq -r .volume.status)" = available
check "it holds the member's data" \
    qemu-img compare -q -f raw -F raw "$(rbd_url "$av")" "$(rbd_url "$vol" "$(member vdd location)")"
# attached to the guest the way Nova attaches one, it shows the member's files
if VOLUME_ID=$av "$C/attach-volume" "$DOM" >/dev/null 2>"$SNAP_ITMP/av.err"; then
    ok "it attaches to the guest (tests/cloud/attach-volume)"
    check "the guest reads the set's file from it" \
        sh -c "i=0; while [ \$i -lt 120 ]; do [ \"\$('$G/gexec' '$DOM' 'cat /vol/$(echo "$av" | cut -c1-20)/spawn.txt' 2>/dev/null)\" = '$mark' ] && exit 0; sleep 0.5; i=\$((i + 1)); done; exit 1"
    "$C/detach-volume" "$DOM" "$av" >/dev/null 2>&1 || echo "cannot detach volume $av"
else
    bad "it attaches to the guest: $(cat "$SNAP_ITMP/av.err")"
fi
check_num "POST volumes of an unknown disk: the job fails" \
    "$(aapi POST "/v1/sets/$set_id/volumes" '{"disk": "vdz"}')" -eq 202
check "... naming the disk" test "$(wait_job "$(jq -r .job_id "$SNAP_ITMP/abody")")" = failed
check_num "a path for a name: 400" "$(aapi POST "/v1/sets/$set_id/volumes" '{"disk": "vdc", "name": "/etc/x"}')" -eq 400
r_vol_delete "$av" >/dev/null 2>&1 || echo "cannot delete volume $av"
kill -TERM "$apid" 2>/dev/null
wait "$apid" 2>/dev/null
check_num "serve stops cleanly" $? -eq 0
apid=""

begin "a set in use cannot be deleted"
sso delete "$set_id" >/dev/null 2>"$SNAP_ITMP/d.err"
rc=$?
check_num "delete of a set a linked clone depends on fails" $rc -eq 1
check "the error names the clone" grep -q "$N1" "$SNAP_ITMP/d.err"
check "the set is still there" test "$(sso show "$set_id" --json | jq -r .state)" = available
check "flatten the clone (running: block pull)" sso flatten "$N1"
check "no disk of it has a backing file any more" \
    test -z "$(for t in vda vdb vdc; do qemu-img info -U --output=json "$SNAP_WORK/img/$N1-$t.qcow2" | jq -r '."backing-filename" // empty'; done)"
check "the clone still answers" wait_agent "$N1" 10
sso delete "$set_id" >/dev/null 2>"$SNAP_ITMP/d2.err"
check_num "delete still fails: volumes were made from its snapshot" $? -eq 1
check "the error names such a volume" grep -q "made from the snapshot of disk 'vdd'" "$SNAP_ITMP/d2.err"
r_drop_domain "$N1" && r_drop_domain "$N2" && r_vol_delete "$nv"
check_num "the clones and the volume are gone" $? -eq 0
check "delete works once nothing depends on the set" sso delete "$set_id"
r_made_sets=""

summary
