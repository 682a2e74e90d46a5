#!/bin/sh
# tests/integration/test_spawn.sh -- `snapset spawn`, `volume-from` and
# `flatten` on a real guest of its own with three local disks and a Cinder
# RBD volume: the new VM boots and its agent answers, each of its disks is
# byte-identical to the set's member (checked from the host), the original
# is untouched and still running; bad input (a network that does not
# exist, a name in use, more vCPUs than the host) fails before anything is
# made; a spawn failing half-way (fault build) leaves nothing; spawning
# twice gives the same content; volume-from gives the member's content; a
# set that a linked clone depends on cannot be deleted.
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
r_doms="$N1 $N2 ${DOM}-bad"
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
