#!/bin/sh
# bench/export_bench.sh -- `snapset export` of a large sparse disk against the
# staged shell pipeline a user would write, measured in the same run:
#
#   qemu-img convert -> sha256sum -> .mf -> tar -> curl -T (Glance)
#
# versus `snapset export SET --ova FILE` and `snapset export SET --glance`.
# For each: wall time, peak RSS (the largest process of the step, children
# included), and the extra disk space it needs (staged disks + OVA).
#
#   bench/export_bench.sh
#
# Environment: SNAPSET (default build/coordinator/cli/snapset), BENCH_DIR (a
# work directory, default a new one under /tmp), BENCH_VIRT_GIB (virtual
# size of the disk, 20), BENCH_DATA_MIB (random data written into it, 1024,
# in 16 extents spread over the disk), OS_STATE (test cloud; Glance is
# skipped without it). Everything it creates (catalog, files, images) is
# removed at the end. Talks to 127.0.0.1 only.
#
# The set is a catalog record made by this script around one local member
# (no VM needed): export reads only the catalog, the set's copy and its
# domain.xml.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
SNAPSET=${SNAPSET:-$repo/build/coordinator/cli/snapset}
VIRT_GIB=${BENCH_VIRT_GIB:-20}
DATA_MIB=${BENCH_DATA_MIB:-1024}
OS_STATE=${OS_STATE:-/var/lib/snapset-cloud}
B=${BENCH_DIR:-$(mktemp -d /tmp/snapset-export-bench.XXXXXX)}
mkdir -p "$B"
GLANCE=http://127.0.0.1:9292
images=""
cleanup() {
    for i in $images; do
        curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" "$GLANCE/v2/images/$i" || :
    done
    rm -rf "$B"
}
trap cleanup EXIT
TOKEN=""

# measure NAME CMD...: runs CMD, prints "NAME <wall s> <peak RSS MiB>" and
# appends it to $B/results. Peak RSS is ru_maxrss of the children (the
# largest single process among them).
measure() {
    name=$1; shift
    python3 - "$name" "$@" >>"$B/results" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.run(sys.argv[2:]).returncode
wall = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if rc != 0:
    sys.exit(f"{sys.argv[1]}: exit status {rc}")
print(f"{sys.argv[1]} {wall:.2f} {rss:.1f}")
PY
    tail -n1 "$B/results"
}

echo "== the disk: ${VIRT_GIB} GiB virtual, ${DATA_MIB} MiB of random data"
cat="$B/catalog"
uuid=$(cat /proc/sys/kernel/random/uuid)
dom_uuid=$(cat /proc/sys/kernel/random/uuid)
setdir=$cat/sets/$uuid
mkdir -p "$setdir" "$cat/locks"
qemu-img create -q -f raw "$B/disk.raw" "${VIRT_GIB}G"
ext=$((DATA_MIB / 16))
step=$((VIRT_GIB * 1024 / 16))
i=0
while [ $i -lt 16 ]; do
    dd if=/dev/urandom of="$B/disk.raw" bs=1M count=$ext seek=$((i * step)) conv=notrunc status=none
    i=$((i + 1))
done
qemu-img convert -f raw -O qcow2 "$B/disk.raw" "$setdir/vda.qcow2"
rm -f "$B/disk.raw"
sync
cat >"$setdir/domain.xml" <<XML
<domain type='kvm'>
  <name>benchvm</name>
  <uuid>$dom_uuid</uuid>
  <memory unit='KiB'>2097152</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$B/vm-root.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
jq -n --arg u "$uuid" --arg d "$dom_uuid" --arg dir "$setdir" --arg now "$now" \
    --arg src "$B/vm-root.qcow2" --arg loc "$setdir/vda.qcow2" '{
  version: 1, uuid: $u, name: null, domain: {name: "benchvm", uuid: $d},
  dir: $dir, backup_type: null, rotation: 0, created: $now, finished: $now,
  state: "available", consistency: "filesystem", quiesce: "preferred",
  pause_requested: false, error: null, group_snapshot_id: null,
  freeze_window_ms: 100, pause_window_ms: null, frozen_filesystems: 1,
  timings: {freeze_ms: 50, request_ms: 10, wait_ms: null, thaw_ms: 40},
  members: [{target: "vda", serial: null, kind: "local", source_type: "file",
    source: $src, format: "qcow2", volume_id: null, location: $loc,
    copy_format: "qcow2", size: 0, state: "available"}],
  journal: {freeze_attempted: true, thawed: true, pause_attempted: false,
    resumed: false, owner_pid: 0, owner_start: 0}}' >"$cat/sets/$uuid.json"
echo "   copy: $(du -h --apparent-size "$setdir/vda.qcow2" | cut -f1) apparent, $(du -h "$setdir/vda.qcow2" | cut -f1) on disk"

have_glance=false
if [ -r "$OS_STATE/openrc-demo" ] && curl -s -o /dev/null --max-time 3 "$GLANCE/"; then
    # shellcheck disable=SC1091
    . "$OS_STATE/openrc-demo"
    TOKEN=$("$repo/tests/cloud/os" token)
    have_glance=true
    conf=$B/snapset.conf
    echo 'openstack = { enabled = true; };' >"$conf"
fi
: >"$B/results"

# Both read a warm copy: no run pays for the other's cold cache.
cat "$setdir/vda.qcow2" >/dev/null
echo "== snapset export --ova"
sync
measure snapset.ova sh -c "'$SNAPSET' --catalog-dir '$cat' export '$uuid' --ova '$B/set.ova' >/dev/null"
ova_size=$(stat -c %s "$B/set.ova")
echo "   OVA $((ova_size / 1048576)) MiB; extra space $(((ova_size * 2) / 1048576)) MiB at peak (staged VMDK + OVA)"
tar -C "$B" --occurrence=1 -xf "$B/set.ova" benchvm.ovf
rm -f "$B/set.ova"

echo "== staged shell pipeline: qemu-img convert, sha256sum, tar, curl -T"
p=$B/pipe
mkdir -p "$p"
t0=$(date +%s%N)
measure pipe.convert qemu-img convert -f qcow2 -O vmdk -o subformat=streamOptimized \
    "$setdir/vda.qcow2" "$p/vda.vmdk"
# The descriptor a user would have to write by hand; we lend them the one
# snapset wrote (a few KB, no cost worth measuring).
cp "$B/benchvm.ovf" "$p/benchvm.ovf"
measure pipe.sha256 sh -c "cd '$p' && for f in benchvm.ovf vda.vmdk; do
    printf 'SHA256(%s)= %s\n' \$f \$(sha256sum \$f | cut -d' ' -f1); done >benchvm.mf"
measure pipe.tar tar -C "$p" --format=ustar --owner=0 --group=0 -cf "$p/benchvm.ova" \
    benchvm.ovf benchvm.mf vda.vmdk
pipe_space=$(($(stat -c %s "$p/vda.vmdk") + $(stat -c %s "$p/benchvm.ova")))
if $have_glance; then
    img=$(curl -sS -X POST -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
        -d '{"name": "bench-pipeline", "container_format": "ova", "disk_format": "vmdk"}' \
        "$GLANCE/v2/images" | jq -r .id)
    images="$images $img"
    measure pipe.upload curl -sS -f -T "$p/benchvm.ova" -H "X-Auth-Token: $TOKEN" \
        -H 'Content-Type: application/octet-stream' "$GLANCE/v2/images/$img/file"
fi
t1=$(date +%s%N)
echo "pipe.total $(((t1 - t0) / 1000000)) ms, extra space $((pipe_space / 1048576)) MiB (staged VMDK + OVA)"
rm -rf "$p"

if $have_glance; then
    echo "== snapset export --glance (streamed, no OVA on disk)"
    measure snapset.glance sh -c "'$SNAPSET' -c '$conf' --catalog-dir '$cat' export '$uuid' \
        --glance --name bench-snapset --json >'$B/glance.json' 2>/dev/null" || :
    img=$(tail -n1 "$B/glance.json" | jq -r '.image_id // empty' 2>/dev/null || :)
    [ -z "$img" ] || images="$images $img"
    echo "   extra space $((ova_size / 1048576)) MiB at peak (staged VMDK only)"
fi

echo "== summary (wall s, peak RSS MiB)"
awk '{ printf "%-16s %8s s %8s MiB\n", $1, $2, $3 }' "$B/results"
awk '/^pipe\./ { w += $2; if ($3 > r) r = $3 } END { printf "%-16s %8.2f s %8.1f MiB\n", "pipe (all steps)", w, r }' "$B/results"
