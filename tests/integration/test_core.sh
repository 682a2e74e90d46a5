#!/bin/sh
# tests/integration/test_core.sh -- the core loop on the real guest: a
# consistent snapshot set of a running VM with a real qemu-guest-agent.
#
# Needs the guest from tests/guest/setup running (domain $DOM).
set -u
. "$(dirname "$0")/lib.sh"

# ---- a consistent set ------------------------------------------------------
begin "create"
before_blk=$(blklist)
mark="MARK-$$-$(date +%s%N)"
# Written just before the freeze and never synced: only a real freeze (which
# flushes the guest's page cache) puts it into the snapshots.
"$G/gexec" "$DOM" "echo $mark > /marker; echo $mark > /vol/data1/marker; \
echo $mark > /vol/data2/marker" >/dev/null || bad "write the marker"
r1=$("$G/gexec" "$DOM" 'tail -n1 /vol/data1/writer.log' | cut -d' ' -f1)
r2=$("$G/gexec" "$DOM" 'tail -n1 /vol/data2/writer.log' | cut -d' ' -f1)
t0=$(guest_uptime)
ss create "$DOM" --json >"$SNAP_ITMP/set.json" 2>"$SNAP_ITMP/create.err"
rc=$?
check_num "create exits 0" "$rc" -eq 0
if [ $rc -ne 0 ]; then
    cat "$SNAP_ITMP/create.err"
    bad "cannot go on without a set"
    summary
    exit 1
fi
set_id=$(jq -r .uuid "$SNAP_ITMP/set.json")
check "set is available" test "$(jq -r .state "$SNAP_ITMP/set.json")" = available
check "consistency is filesystem" \
    test "$(jq -r .consistency "$SNAP_ITMP/set.json")" = filesystem
check "three members, all available" \
    test "$(jq '[.members[] | select(.state == "available")] | length' "$SNAP_ITMP/set.json")" = 3
check "agent reports thawed" test "$(agent_status)" = thawed
check "domain is running" test "$(domstate)" = running
check "disk sources unchanged (domblklist)" test "$(blklist)" = "$before_blk"

# ---- each copy holds the point in time -------------------------------------
for t in vda vdb vdc; do
    copy=$(jq -r --arg t $t '.members[] | select(.target == $t) | .location' "$SNAP_ITMP/set.json")
    check "$t copy exists outside the VM's chain" test -s "$copy"
    check "$t copy is fsck-clean without journal replay" "$G/image-fsck" "$copy"
    vsize=$(qemu-img info -U --output=json "$copy" | jq -r '.["virtual-size"]')
    check "$t's size in the catalog is its virtual size ($vsize)" \
        test "$(jq -r --arg t $t '.members[] | select(.target == $t) | .size' "$SNAP_ITMP/set.json")" = "$vsize"
done
vda=$(jq -r '.members[] | select(.target == "vda") | .location' "$SNAP_ITMP/set.json")
vdb=$(jq -r '.members[] | select(.target == "vdb") | .location' "$SNAP_ITMP/set.json")
vdc=$(jq -r '.members[] | select(.target == "vdc") | .location' "$SNAP_ITMP/set.json")
check "root copy holds the unsynced marker" \
    test "$("$G/image-cat" "$vda" /marker)" = "$mark"
check "data1 copy holds the unsynced marker" \
    test "$("$G/image-cat" "$vdb" /marker)" = "$mark"
check "data2 copy holds the unsynced marker" \
    test "$("$G/image-cat" "$vdc" /marker)" = "$mark"
"$G/image-cat" "$vdb" /writer.log >"$SNAP_ITMP/w1.log"
"$G/image-cat" "$vdc" /writer.log >"$SNAP_ITMP/w2.log"
l1=$(tail -n1 "$SNAP_ITMP/w1.log" | cut -d' ' -f1)
l2=$(tail -n1 "$SNAP_ITMP/w2.log" | cut -d' ' -f1)
check_num "data1 copy has every record written before the freeze" "$l1" -ge "$r1"
check_num "data2 copy has every record written before the freeze" "$l2" -ge "$r2"
check "the records across the disks form a consistent cut" \
    "$G/check-cut" "$SNAP_ITMP/w1.log" "$SNAP_ITMP/w2.log"

# ---- the freeze window is what the guest saw --------------------------------
# The writer appends every 100 ms; while frozen its writes block. Its largest
# gap after t0 must cover the recorded window (and not much more).
fw=$(jq -r .freeze_window_ms "$SNAP_ITMP/set.json")
sleep 1
"$G/gexec" "$DOM" 'cat /vol/data1/writer.log' >"$SNAP_ITMP/live1.log"
gap=$(awk -v t0="$t0" '$2 > t0 { if (p != "") { g = ($2 - p) * 1000; if (g > m) m = g } p = $2 } END { printf "%d", m }' "$SNAP_ITMP/live1.log")
echo "     freeze window $fw ms, largest writer gap $gap ms"
check_num "writer gap covers the freeze window" "$gap" -ge $((fw - 30))
check_num "writer gap is not much longer than the window" "$gap" -le $((fw + 600))

# ---- show / list -----------------------------------------------------------
begin "show and list"
ss show "$set_id" >"$SNAP_ITMP/show.txt"
check "show prints the freeze window" grep -q "^freeze window: $fw ms" "$SNAP_ITMP/show.txt"
check "show by 8-character prefix" ss show "$(echo "$set_id" | cut -c1-8)" --json >/dev/null
check "list shows the set" sh -c "'$SNAPSET' --catalog-dir '$SNAP_CATALOG' list $DOM | grep -q $set_id"
check "list --json parses" sh -c "'$SNAPSET' --catalog-dir '$SNAP_CATALOG' list --json | jq -e 'length >= 1' >/dev/null"

# ---- pause -----------------------------------------------------------------
begin "create --pause"
ss create "$DOM" --pause --json >"$SNAP_ITMP/p.json" 2>"$SNAP_ITMP/p.err"
check_num "create --pause exits 0" $? -eq 0
pw=$(jq -r .pause_window_ms "$SNAP_ITMP/p.json")
fw2=$(jq -r .freeze_window_ms "$SNAP_ITMP/p.json")
check "pause window recorded" test "$pw" != null
check_num "pause window inside the freeze window" "$pw" -le "$fw2"
check "domain running after --pause" test "$(domstate)" = running
check "agent thawed after --pause" test "$(agent_status)" = thawed
p_id=$(jq -r .uuid "$SNAP_ITMP/p.json")

# ---- delete ----------------------------------------------------------------
begin "delete"
set_dir=$(jq -r .dir "$SNAP_ITMP/set.json")
check "delete exits 0" ss delete "$set_id"
check "set directory was known and is gone" test -n "$set_dir" -a "$set_dir" != null -a ! -e "$set_dir"
check "set document is gone" test ! -e "$SNAP_CATALOG/sets/$set_id.json"
check "show of a deleted set fails" sh -c "! '$SNAPSET' --catalog-dir '$SNAP_CATALOG' show $set_id 2>/dev/null"
check "delete --pause set" ss delete "$p_id"
check "no file left in the catalog" test -z "$(find "$SNAP_CATALOG/sets" -mindepth 1)"

# ---- usage and bad input ---------------------------------------------------
begin "bad input"
ss create 2>/dev/null; check_num "create without domain is a usage error" $? -eq 2
ss create nosuchdomain 2>"$SNAP_ITMP/e"; rc=$?
check_num "unknown domain fails" $rc -eq 1
check "unknown domain names it" grep -q "no domain 'nosuchdomain'" "$SNAP_ITMP/e"
ss create "$DOM" --quiesce=maybe 2>/dev/null; check_num "bad --quiesce is a usage error" $? -eq 2

summary
