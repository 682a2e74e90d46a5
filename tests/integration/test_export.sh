#!/bin/sh
# tests/integration/test_export.sh -- `snapset export` on the real guest and
# the real test cloud: a set of the root disk, the data disks and two RBD
# volumes (attached like Nova does) packaged as an OVA, an OVF directory and
# an OVA streamed into the real Glance; each disk of the package converted
# back and compared with the member's point in time; a real importer
# (virt-v2v) reads the package; faults: Glance killed mid-upload, a full
# disk under the OVA, SIGINT while converting, writing and uploading.
#
# Needs the guest (tests/guest/setup) and the cloud (tests/cloud/setup).
# Glance is killed and restarted once (a few seconds) by the fault test
# (SNAP_KEEP_GLANCE=1 skips that step, for a cloud shared with others).
# SNAP_V2V_FULL=1 also runs virt-v2v's whole import (its libguestfs
# appliance, ~1 min under TCG; on a host without a kernel of its own, point
# SUPERMIN_KERNEL, SUPERMIN_MODULES (with modules.dep) and
# SUPERMIN_KERNEL_VERSION at a Debian kernel); by default only its OVA
# reader runs (--print-source).
set -u
. "$(dirname "$0")/lib.sh"

need_cloud
T=$SNAP_ITMP
conf=$T/snapset.conf
cloud_conf "$conf" "delete_timeout_ms = 20000"
# In the background, snapset itself must be $! (a backgrounded shell
# function is a subshell, which ignores SIGINT as background jobs do).
sso_bg() { "$SNAPSET" -c "$conf" --catalog-dir "$SNAP_CATALOG" "$@" & }
# Cinder members are read straight from RBD.
export SNAPSET_CEPH_CONF="$CEPH_CONF" SNAPSET_CEPH_USER=admin
GLANCE=http://127.0.0.1:9292
token() { "$C/os" token; }
gimage() { curl -sS --max-time 30 -H "X-Auth-Token: $(token)" "$GLANCE/v2/images/$1"; }
gdelete() { curl -sS --max-time 30 -o /dev/null -X DELETE -H "X-Auth-Token: $(token)" "$GLANCE/v2/images/$1"; }
# Images of set $1 that Glance still has (any state but deleted).
gimages_of() {
    curl -sS --max-time 30 -H "X-Auth-Token: $(token)" "$GLANCE/v2/images?snapset_set=$1" |
        jq '[.images[] | select(.status != "deleted")] | length'
}
glance_pidfile=$OS_STATE/run/glance-api.pid
glance_pid() { read -r p _ <"$glance_pidfile" && echo "$p"; }
glance_up() { curl -s -o /dev/null --max-time 2 "$GLANCE/" ; }
# Starts glance-api as tests/cloud/setup does (same command, same pid file;
# its recorded configuration hash is kept, so setup sees it unchanged).
glance_start() {
    bash -c '. "$1/tests/cloud/lib.sh"
        h=$(cat "$S/run/glance-api.hash" 2>/dev/null)
        svc_start glance-api "$S/etc/glance/glance-api.conf" "$S/log/glance-api.out" \
            glance-api --config-file "$S/etc/glance/glance-api.conf"
        [ -z "$h" ] || echo "$h" >"$S/run/glance-api.hash"' _ "$repo"
}
glance_killed=false
vols="" images="" mnt="" set_id=""
cleanup() {
    if $glance_killed; then glance_start; fi
    [ -z "$mnt" ] || umount "$mnt" 2>/dev/null
    # Every image of our set, also one a failed check may have left.
    if [ -n "${set_id:-}" ]; then
        images="$images $(curl -sS --max-time 30 -H "X-Auth-Token: $(token)" \
            "$GLANCE/v2/images?snapset_set=$set_id" | jq -r '.images[].id' 2>/dev/null)"
    fi
    for i in $images; do gdelete "$i" >/dev/null 2>&1; done
    for v in $vols; do
        "$G/gexec" "$DOM" "volrelease $(echo "$v" | cut -c1-20)" >/dev/null 2>&1 || :
        "$C/detach-volume" "$DOM" "$v" --delete >/dev/null 2>&1 || echo "cannot detach $v"
    done
}
at_exit cleanup
# Waits (60 s at most) until file $1 has a line matching $2; polls every
# 20 ms, so that a signal lands while the step it waited for runs (the
# smallest window below, writing the 130 MiB disk, is a few hundred ms).
wait_for_line() {
    i=0
    while [ $i -lt 3000 ] && ! grep -q "$2" "$1" 2>/dev/null; do sleep 0.02; i=$((i + 1)); done
    grep -q "$2" "$1" 2>/dev/null
}
xp() { xmllint --xpath "$2" "$1" 2>/dev/null; }
# The vendored OVF schemas (DSP8023, CIM RASD/VSSD): every descriptor must
# validate, and `export --check` validates against the same copy.
OVF_SCHEMAS=$repo/glance/schemas
export SNAPSET_OVF_SCHEMA_DIR="$OVF_SCHEMAS"
valid_ovf() { xmllint --noout --schema "$OVF_SCHEMAS/ovf-all.xsd" "$1"; }
# A fact of the set (class snapset.set) or of member $2 (class
# snapset.member, instance $2): the value of its ProductSection Property $1.
set_fact() {
    xp "$ovf" "string(//*[local-name()='ProductSection'][@*[local-name()='class']='snapset.set']/*[local-name()='Property'][@*[local-name()='key']='$1']/@*[local-name()='value'])"
}
member_fact() {
    xp "$ovf" "string(//*[local-name()='ProductSection'][@*[local-name()='class']='snapset.member'][@*[local-name()='instance']='$2']/*[local-name()='Property'][@*[local-name()='key']='$1']/@*[local-name()='value'])"
}
# No qemu-img of ours writes into the staging directory any more.
no_convert_left() { ! pgrep -f "[q]emu-img.*$SNAP_CATALOG/[s]taging" >/dev/null; }

begin "attach two volumes like Nova"
for i in 1 2; do
    v=$("$C/attach-volume" "$DOM" 1 "snapset-export-$i" 2>"$T/attach.err" | tail -n1)
    if [ -z "$v" ]; then cat "$T/attach.err"; bad "attach volume $i"; summary; exit 1; fi
    vols="$vols $v"
done
ok "attached$vols"
v1=$(echo $vols | cut -d' ' -f1)
p1=$(echo "$v1" | cut -c1-20)
i=0
while [ $i -lt 60 ]; do
    n=0
    for v in $vols; do
        "$G/gexec" "$DOM" "test -s /vol/$(echo "$v" | cut -c1-20)/writer.log" >/dev/null 2>&1 && n=$((n + 1))
    done
    [ $n -eq 2 ] && break
    sleep 1; i=$((i + 1))
done
check_num "the guest writes to both volumes" "$n" -eq 2
# Incompressible data on one volume: the package is then large enough
# (~130 MiB) for the faults below to hit the middle of an upload.
"$G/gexec" "$DOM" "dd if=/dev/urandom of=/vol/$p1/big bs=1M count=128 2>/dev/null && sync" >/dev/null
check "128 MiB of random data written to volume 1" "$G/gexec" "$DOM" "test -s /vol/$p1/big"

begin "a set of root, data disks and two RBD volumes"
mark="MARK-$$-$(date +%s%N)"
"$G/gexec" "$DOM" "for d in / /vol/*; do echo $mark > \$d/marker; done" >/dev/null
sso create "$DOM" --json >"$T/set.json" 2>"$T/create.err"
rc=$?
check_num "create exits 0" $rc -eq 0
[ $rc -eq 0 ] || { cat "$T/create.err"; summary; exit 1; }
set_id=$(jq -r .uuid "$T/set.json")
set_dir=$(jq -r .dir "$T/set.json")
nm=$(jq '.members | length' "$T/set.json")
check "set is available" test "$(jq -r .state "$T/set.json")" = available
check "two Cinder members" test "$(jq '[.members[] | select(.kind == "cinder")] | length' "$T/set.json")" = 2
check_num "the root and data disks are local members" "$(jq '[.members[] | select(.kind == "local")] | length' "$T/set.json")" -ge 3
targets=$(jq -r '.members[].target' "$T/set.json")
# The member's point in time, as qemu-img reads it: FORMAT SOURCE.
member_src() {
    m=$(jq -c --arg t "$1" '.members[] | select(.target == $t)' "$T/set.json")
    if [ "$(echo "$m" | jq -r .kind)" = cinder ]; then
        echo "raw rbd:$(echo "$m" | jq -r .source)@snapshot-$(echo "$m" | jq -r .location):id=admin:conf=$CEPH_CONF"
    else
        echo "$(echo "$m" | jq -r .copy_format) $(echo "$m" | jq -r .location)"
    fi
}
ls "$set_dir" >"$T/setdir.before"
sso show "$set_id" --json | jq -S 'del(.journal)' >"$T/set.before"

# ---- OVA -------------------------------------------------------------------
begin "export to an OVA"
t0=$(date +%s%N)
sso export "$set_id" --ova "$T/set.ova" --json >"$T/ova.json" 2>"$T/ova.err"
rc=$?
t1=$(date +%s%N)
check_num "export --ova exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$T/ova.err"
echo "     OVA of $(stat -c %s "$T/set.ova" 2>/dev/null) bytes in $(((t1 - t0) / 1000000)) ms"
check "progress events per disk (convert, write)" \
    test "$(grep -c '"event":"progress".*"complete":true' "$T/ova.json")" -ge $((nm * 2))
check "the done event names the OVA" \
    test "$(tail -n1 "$T/ova.json" | jq -r '.event + " " + .path')" = "done $T/set.ova"
tar tvf "$T/set.ova" >"$T/tar.txt"
tar tf "$T/set.ova" >"$T/names.txt"
cat "$T/tar.txt"
check "the descriptor is first" test "$(sed -n 1p "$T/names.txt")" = "$DOM.ovf"
check "the manifest is second" test "$(sed -n 2p "$T/names.txt")" = "$DOM.mf"
expect=$(printf '%s.ovf\n%s.mf\n' "$DOM" "$DOM"; for t in $targets; do echo "$t.vmdk"; done)
check "then every disk, in member order, and nothing else" test "$(cat "$T/names.txt")" = "$expect"
check "plain ustar members owned by 0/0" sh -c "! grep -v '^-rw-r--r-- 0/0 ' '$T/tar.txt'"
x=$T/x
mkdir -p "$x"
tar xf "$T/set.ova" -C "$x"
check "manifest lines are exactly SHA256(name)= hex, one per other member" \
    test "$(grep -cE '^SHA256\([A-Za-z0-9._+-]+\)= [0-9a-f]{64}$' "$x/$DOM.mf")" -eq $((nm + 1))
check "manifest has nothing else" test "$(wc -l <"$x/$DOM.mf")" -eq $((nm + 1))
sed -E 's/^SHA256\((.*)\)= ([0-9a-f]+)$/\2  \1/' "$x/$DOM.mf" >"$x/sums"
check "every digest verifies (sha256sum -c)" sh -c "cd '$x' && sha256sum -c --quiet sums"
check "the package verifies (snapset export --check)" ss export --check "$T/set.ova"
ovf=$x/$DOM.ovf
check "the descriptor is well-formed XML (xmllint)" xmllint --noout "$ovf"
check "the descriptor validates against DSP8023 and the CIM schemas" valid_ovf "$ovf"
check "OVF 1.x envelope namespace" \
    test "$(xp "$ovf" 'namespace-uri(/*)')" = "http://schemas.dmtf.org/ovf/envelope/1"
check_num "one Disk per member" "$(xp "$ovf" "count(//*[local-name()='DiskSection']/*[local-name()='Disk'])")" -eq "$nm"
check_num "one disk Item (17) per member" "$(xp "$ovf" "count(//*[local-name()='Item'][*[local-name()='ResourceType']='17'])")" -eq "$nm"
vcpus=$(virsh -c qemu:///system dominfo "$DOM" | sed -n 's/^CPU(s): *//p')
mem_mib=$(($(virsh -c qemu:///system dumpxml "$DOM" | sed -n "s/.*<memory unit='KiB'>\([0-9]*\)<.*/\1/p") / 1024))
check "CPU count is the domain's ($vcpus)" \
    test "$(xp "$ovf" "string(//*[local-name()='Item'][*[local-name()='ResourceType']='3']/*[local-name()='VirtualQuantity'])")" = "$vcpus"
check "memory is the domain's ($mem_mib MiB)" \
    test "$(xp "$ovf" "string(//*[local-name()='Item'][*[local-name()='ResourceType']='4']/*[local-name()='VirtualQuantity'])")" = "$mem_mib"
check "memory unit is byte * 2^20" \
    test "$(xp "$ovf" "string(//*[local-name()='Item'][*[local-name()='ResourceType']='4']/*[local-name()='AllocationUnits'])")" = "byte * 2^20"
check "the set's facts are in ProductSections importers may skip" \
    test "$(xp "$ovf" "count(//*[local-name()='ProductSection'][not(@*[local-name()='required']='false')])")" = 0
check "the set's UUID is recorded" test "$(set_fact uuid)" = "$set_id"
check "the set's domain is recorded" test "$(set_fact domain)" = "$DOM"
check "the set's consistency is recorded" \
    test "$(set_fact consistency)" = "$(jq -r .consistency "$T/set.json")"
check_num "one member section per member" \
    "$(xp "$ovf" "count(//*[local-name()='ProductSection'][@*[local-name()='class']='snapset.member'])")" -eq "$nm"
check "the members are recorded in order, with their kind" \
    test "$(i=1; for t in $targets; do echo "$(member_fact target $i) $(member_fact kind $i)"; i=$((i + 1)); done)" = \
    "$(jq -r '.members[] | .target + " " + .kind' "$T/set.json")"

begin "each disk of the OVA is the member's point in time"
for t in $targets; do
    set -- $(member_src "$t")
    fmt=$1 src=$2
    fid=$(xp "$ovf" "string(//*[local-name()='File'][@*[local-name()='href']='$t.vmdk']/@*[local-name()='id'])")
    cap=$(xp "$ovf" "string(//*[local-name()='Disk'][@*[local-name()='fileRef']='$fid']/@*[local-name()='capacity'])")
    want=$(qemu-img info --output=json -f "$fmt" "$src" | jq '."virtual-size"')
    check "$t: capacity $cap is the member's virtual size" test "$cap" = "$want"
    check "$t: file size in References matches the member" \
        test "$(xp "$ovf" "string(//*[local-name()='File'][@*[local-name()='href']='$t.vmdk']/@*[local-name()='size'])")" = "$(stat -c %s "$x/$t.vmdk")"
    check "$t: streamOptimized VMDK (qemu-img info)" \
        test "$(qemu-img info --output=json "$x/$t.vmdk" | jq -r '."format-specific".data."create-type"')" = streamOptimized
    check "$t: qemu-img check is clean" qemu-img check -q "$x/$t.vmdk"
    qemu-img convert -O raw "$x/$t.vmdk" "$x/$t.raw"
    check "$t: back to raw, byte-identical to the member (qemu-img compare)" \
        qemu-img compare -q -f raw -F "$fmt" "$x/$t.raw" "$src"
    if [ "$t" = vda ]; then
        check "vda: holds the marker written before the freeze" \
            test "$("$G/image-cat" "$x/$t.raw" /marker raw)" = "$mark"
    fi
    rm -f "$x/$t.raw"
done
check "the export is recorded in the set (exports.json)" \
    test "$(jq -r --arg p "$T/set.ova" '[.exports[] | select(.kind == "ova" and .state == "complete" and .path == $p)] | length' "$set_dir/exports.json")" = 1

begin "a real importer reads the package (virt-v2v -i ova)"
if command -v virt-v2v >/dev/null 2>&1; then
    # --print-source runs virt-v2v's OVA input (tar layout, manifest, OVF
    # parsing) and prints what it would import, without its appliance.
    LIBGUESTFS_BACKEND=direct timeout 300 virt-v2v -i ova "$T/set.ova" --print-source >"$T/v2v.txt" 2>&1
    rc=$?
    check_num "virt-v2v reads the OVA" $rc -eq 0
    [ $rc -eq 0 ] || tail -n 5 "$T/v2v.txt"
    check "virt-v2v: source name is the domain" grep -q "source name: $DOM\$" "$T/v2v.txt"
    check "virt-v2v: memory is the domain's" grep -q "memory: $((mem_mib * 1048576)) (bytes)" "$T/v2v.txt"
    check "virt-v2v: vCPUs are the domain's" grep -q "nr vCPUs: $vcpus\$" "$T/v2v.txt"
    check_num "virt-v2v: every disk" "$(grep -cE '^[[:space:]]+[0-9]+ \[scsi\]' "$T/v2v.txt")" -eq "$nm"
    if [ "${SNAP_V2V_FULL:-0}" = 1 ]; then
        mkdir -p "$T/v2v"
        LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg timeout 1500 \
            virt-v2v -i ova "$T/set.ova" -o local -os "$T/v2v" -of qcow2 >"$T/v2v-full.txt" 2>&1
        # The test guest (busybox, no OS release files) cannot be inspected
        # as an OS: getting that far means every disk was opened.
        check "virt-v2v opens every disk (stops at OS inspection)" \
            grep -qE "Inspecting the source|inspection could not detect" "$T/v2v-full.txt"
    fi
else
    bad "virt-v2v is not installed (scripts/install-deps installs it)"
fi

# ---- OVF directory and qcow2 ----------------------------------------------
begin "export to an OVF directory, qcow2 disks"
sso export "$set_id" --ovf "$T/ovfdir" --disk-format qcow2 >"$T/ovf.out" 2>"$T/ovf.err"
rc=$?
check_num "export --ovf exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$T/ovf.err"
check "descriptor, manifest and disks, nothing else" \
    test "$(ls "$T/ovfdir" | sort | tr '\n' ' ')" = "$( (echo "$DOM.mf"; echo "$DOM.ovf"; for t in $targets; do echo "$t.qcow2"; done) | sort | tr '\n' ' ')"
sed -E 's/^SHA256\((.*)\)= ([0-9a-f]+)$/\2  \1/' "$T/ovfdir/$DOM.mf" >"$T/ovfsums"
check "every digest verifies (sha256sum -c)" sh -c "cd '$T/ovfdir' && sha256sum -c --quiet '$T/ovfsums'"
check "the descriptor validates against DSP8023 and the CIM schemas" valid_ovf "$T/ovfdir/$DOM.ovf"
check "the format URI is qcow2's" \
    test "$(xp "$T/ovfdir/$DOM.ovf" "count(//*[local-name()='Disk'][contains(@*[local-name()='format'],'qcow')])")" = "$nm"
set -- $(member_src vdd)
check "vdd.qcow2 is the member's content" qemu-img compare -q -f qcow2 -F "$1" "$T/ovfdir/vdd.qcow2" "$2"
rm -rf "$T/ovfdir"

# ---- Glance ----------------------------------------------------------------
begin "export into the real Glance"
name="snapset-it-export-$$"
sso export "$set_id" --glance --name "$name" --json >"$T/g.json" 2>"$T/g.err"
rc=$?
check_num "export --glance exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$T/g.err"
img=$(tail -n1 "$T/g.json" | jq -r '.image_id // empty')
sha=$(tail -n1 "$T/g.json" | jq -r '.sha512 // empty')
images="$images $img"
gimage "$img" >"$T/img.json"
check "the image is active" test "$(jq -r .status "$T/img.json")" = active
check "container_format ova, disk_format vmdk" \
    test "$(jq -r '.container_format + " " + .disk_format' "$T/img.json")" = "ova vmdk"
check "its properties name the set" \
    test "$(jq -r '[.snapset_set, .snapset_domain, .snapset_consistency, .image_type] | join(" ")' "$T/img.json")" = \
    "$set_id $DOM $(jq -r .consistency "$T/set.json") backup"
check "os_hash_value is the sha512 snapset computed while streaming" \
    test "$(jq -r .os_hash_algo "$T/img.json"):$(jq -r .os_hash_value "$T/img.json")" = "sha512:$sha"
curl -sS --max-time 300 -H "X-Auth-Token: $(token)" -o "$T/dl.ova" "$GLANCE/v2/images/$img/file"
check "the downloaded image's sha512sum is os_hash_value" \
    test "$(sha512sum "$T/dl.ova" | cut -d' ' -f1)" = "$(jq -r .os_hash_value "$T/img.json")"
check "the image is of the announced size" test "$(stat -c %s "$T/dl.ova")" = "$(jq -r .size "$T/img.json")"
check "the downloaded image verifies (snapset export --check)" ss export --check "$T/dl.ova"
check "same member order as the OVA file" test "$(tar tf "$T/dl.ova")" = "$(cat "$T/names.txt")"
mkdir -p "$T/dl"
tar xf "$T/dl.ova" -C "$T/dl"
check "the downloaded descriptor validates against DSP8023 and the CIM schemas" \
    valid_ovf "$T/dl/$DOM.ovf"
for t in $targets; do
    check "$t: the uploaded disk has the OVA file's content" \
        qemu-img compare -q "$T/dl/$t.vmdk" "$x/$t.vmdk"
done
rm -rf "$T/dl" "$T/dl.ova"
check "the image is recorded in the set (exports.json)" \
    test "$(jq -r --arg i "$img" '[.exports[] | select(.image_id == $i and .state == "complete")] | length' "$set_dir/exports.json")" = 1
check "no staging left in the catalog" test -z "$(ls "$SNAP_CATALOG/staging")"
gdelete "$img"
check "the image is deleted at the end" sh -c "test \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Auth-Token: $(token)' $GLANCE/v2/images/$img)\" = 404"
images=""
rm -rf "$x"

# ---- faults ----------------------------------------------------------------
begin "fault: Glance killed in the middle of the upload"
if [ "${SNAP_KEEP_GLANCE:-0}" = 1 ]; then
    # A shared test cloud: others' runs would see Glance go away.
    ok "skipped (SNAP_KEEP_GLANCE=1: glance-api is not killed)"
else
sso_bg export "$set_id" --glance --name "$name-killed" --json --cleanup-timeout 60000 >"$T/gk.json" 2>"$T/gk.err"
pid=$!
# The big volume's disk is uploaded for ~2 s: kill Glance inside it.
if wait_for_line "$T/gk.json" '"step":"upload","file":"vdd.vmdk","done":0'; then
    gp=$(glance_pid)
    /bin/kill -s KILL -- "-$gp" 2>/dev/null
    glance_killed=true
    ok "glance-api (pid $gp) killed while vdd.vmdk was being sent"
    sleep 2
    glance_start
    i=0
    while [ $i -lt 150 ] && ! glance_up; do sleep 0.2; i=$((i + 1)); done
    glance_killed=false
    check "glance-api is back" glance_up
else
    bad "the upload never started"
fi
wait $pid
rc=$?
check_num "export fails" $rc -eq 1
echo "     $(cat "$T/gk.err")"
check "the error names the upload" grep -q "PUT\|upload\|image" "$T/gk.err"
check "no image of the set is left in Glance (the failed one was deleted)" test "$(gimages_of "$set_id")" = 0
check "no uploading or left-behind record" \
    test "$(jq '[.exports[] | select(.state != "complete")] | length' "$set_dir/exports.json")" = 0
fi

begin "fault: disk full while writing the OVA"
mnt=$T/full
mkdir -p "$mnt"
mount -t tmpfs -o size=8m tmpfs "$mnt"
sso export "$set_id" --ova "$mnt/set.ova" >"$T/full.out" 2>"$T/full.err"
check_num "export fails" $? -eq 1
echo "     $(cat "$T/full.err")"
check "the error says the disk is full" grep -q "No space left on device" "$T/full.err"
check "no partial OVA or temporary file is left" test -z "$(ls -A "$mnt")"
umount "$mnt"; mnt=""

begin "fault: SIGINT"
# While converting the big volume, while writing its disk into the OVA,
# while uploading it to Glance.
for phase in convert:vdd write:vdd.vmdk upload:vdd.vmdk; do
    step=${phase%%:*} file=${phase#*:}
    if [ "$step" = upload ]; then
        args="--glance --name $name-int"
    else
        args="--ova $T/int.ova"
    fi
    # shellcheck disable=SC2086
    sso_bg export "$set_id" $args --json >"$T/int.json" 2>"$T/int.err"
    pid=$!
    if wait_for_line "$T/int.json" "\"step\":\"$step\",\"file\":\"$file\",\"done\":0"; then
        kill -INT $pid
    else
        bad "$step: never reached $file"
    fi
    wait $pid
    check_num "$step: interrupted export exits 1" $? -eq 1
    check "$step: the error says why" grep -q "interrupted by SIGINT" "$T/int.err"
    check "$step: no partial OVA, no temporary file" \
        test -z "$(ls -A "$T" | grep -E '^int\.ova$|^\..*\.ovf\.')"
    check "$step: no staging left" test -z "$(ls "$SNAP_CATALOG/staging")"
    check "$step: no qemu-img left running" no_convert_left
    check "$step: no image of the set in Glance" test "$(gimages_of "$set_id")" = 0
done

begin "the set is untouched"
sso show "$set_id" --json | jq -S 'del(.journal)' >"$T/set.after"
check "the set's record is unchanged" cmp -s "$T/set.before" "$T/set.after"
ls "$set_dir" | grep -v '^exports.json$' >"$T/setdir.after"
check "the set's directory holds the same files (+ exports.json)" cmp -s "$T/setdir.before" "$T/setdir.after"
check_num "exports.json lists the 3 complete exports, nothing else" \
    "$(jq '[.exports[] | select(.state == "complete")] | length' "$set_dir/exports.json")" -eq 3
check_num "exports.json has no other entry" "$(jq '.exports | length' "$set_dir/exports.json")" -eq 3
# A failed set (a copy of the record in state error) is refused by name.
bad_id=$(cat /proc/sys/kernel/random/uuid)
jq --arg u "$bad_id" '.uuid = $u | .state = "error" | .error = "test"' "$T/set.json" \
    >"$SNAP_CATALOG/sets/$bad_id.json"
ss export "$bad_id" --ova "$T/bad.ova" >/dev/null 2>"$T/bad.err"
check_num "exporting a failed set exits 1" $? -eq 1
check "the error says only available sets can be exported" \
    grep -q "is 'error': only an available set can be exported" "$T/bad.err"
rm -f "$SNAP_CATALOG/sets/$bad_id.json"

begin "Cinder snapshots without RBD access"
sso export "$set_id" --ova "$T/norbd.ova" --ceph-conf /nonexistent/ceph.conf >/dev/null 2>"$T/norbd.err"
check_num "export fails" $? -eq 1
echo "     $(cat "$T/norbd.err")"
check "the error says the Cinder-API path is not implemented" grep -q "not implemented" "$T/norbd.err"
check "nothing was written" test ! -e "$T/norbd.ova"

check "no sanitizer report in any export's stderr" sh -c "! cat '$T'/*.err | grep -q Sanitizer"

begin "delete --with-exports"
sso export "$set_id" --glance --name "$name-last" --json >"$T/last.json" 2>"$T/last.err"
check_num "one more export into Glance" $? -eq 0
img=$(tail -n1 "$T/last.json" | jq -r '.image_id // empty')
images="$images $img"
files=$(jq -r '.exports[] | .path // empty' "$set_dir/exports.json")
check "exports.json records the OVA file(s) too" test -n "$files"
sso delete "$set_id" --with-exports >"$T/del.out" 2>&1
check_num "delete --with-exports exits 0" $? -eq 0
cat "$T/del.out" | sed 's/^/     /'
check "it names the image it deleted" grep -q "^deleted Glance image $img" "$T/del.out"
check "the image is gone from Glance" sh -c "test \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Auth-Token: $(token)' $GLANCE/v2/images/$img)\" = 404"
images=""
for f in $files; do check "the exported file $f is gone" test ! -e "$f"; done
check "the set's directory is gone (exports.json too)" test ! -e "$set_dir"

summary
