#!/bin/sh
# tests/integration/test_ram_state.sh -- RAM-state sets (create --memory)
# on the shared guest, several in a row while it writes: after each one
# QEMU is alive, the guest runs, its agent answers and its disks' copies are
# complete. The memory save leaves QEMU's disks inactive; a guest resumed
# while the backup job still copied crashed QEMU 7.2 (a segfault in
# qcow2_get_host_offset, 2 of 6 sets here) until the job's end came before
# the resume (coord_disk_ops.wait). The sets are deleted again.
set -u
. "$(dirname "$0")/lib.sh"

N=${RAM_SETS:-6}
before=$(ls "$SNAP_CATALOG/sets" 2>/dev/null | wc -l)
made=""
drop_sets() {
    for u in $made; do ss delete "$u" >/dev/null 2>&1 || echo "cannot delete set $u"; done
}
at_exit drop_sets
qemu_pid() { cat "/run/libvirt/qemu/$DOM.pid" 2>/dev/null; }
qlog=/var/log/libvirt/qemu/$DOM.log
crashes() { grep -c 'reason=crashed' "$qlog" 2>/dev/null || :; }
crashes0=$(crashes)

i=0
pid0=$(qemu_pid)
while [ $i -lt "$N" ]; do
    i=$((i + 1))
    begin "RAM state set $i of $N"
    # Something to copy while the set is made: 8 MiB more, synced.
    "$G/gexec" "$DOM" "dd if=/dev/urandom of=/vol/data1/ram-burst bs=1M count=8 conv=fsync 2>/dev/null" >/dev/null
    ss create "$DOM" --memory --json >"$SNAP_ITMP/m$i.json" 2>"$SNAP_ITMP/m$i.err"
    rc=$?
    check_num "create --memory exits 0" $rc -eq 0
    [ $rc -eq 0 ] || tail -n 3 "$SNAP_ITMP/m$i.err"
    u=$(jq -r '.uuid // empty' "$SNAP_ITMP/m$i.json" 2>/dev/null)
    made="$made $u"
    echo "     paused $(jq -r .pause_window_ms "$SNAP_ITMP/m$i.json") ms, the memory save $(jq -r .memory_save_ms "$SNAP_ITMP/m$i.json") ms"
    check "every local copy is complete" test "$(jq '[.members[] | select(.kind == "local" and .state != "available")] | length' "$SNAP_ITMP/m$i.json")" = 0
    sleep 1
    check "the same QEMU process runs the guest" test -n "$pid0" -a "$(qemu_pid)" = "$pid0" -a -d "/proc/$pid0"
    check "the guest runs" test "$(domstate)" = running
    check "its agent answers" test "$(agent_status)" = thawed
    check "the guest writes to its disks" "$G/gexec" "$DOM" "echo $i > /vol/data1/ram-after && sync"
    if [ "$(domstate)" != running ]; then
        bad "the guest died: the rest would only fail"
        break
    fi
done

begin "afterwards"
"$G/gexec" "$DOM" "rm -f /vol/data1/ram-burst /vol/data1/ram-after" >/dev/null
drop_sets
made=""
check "catalog back to where it was" test "$(ls "$SNAP_CATALOG/sets" | wc -l)" -eq "$before"
check "libvirt logged no crash of QEMU ($qlog)" test "$(crashes)" = "$crashes0"
summary
