#!/bin/sh
# tests/integration/test_incremental.sh -- incremental sets on a real guest
# of its own (restore stops it: never the shared one), with root (qcow2),
# data1 (qcow2) and data2 (raw):
#   - the first set is full and creates checkpoint snapset-<set>; the next
#     copies only what changed (4 MiB written: ~4 MiB copied for data1) into
#     a qcow2 overlay on the previous copy, raw data2 stays full, and only
#     the newest checkpoint stays on the domain;
#   - incremental copies hold the freeze's consistent cut (fsck-clean
#     through their chain, the writer's records form a cut);
#   - a chain of 4 with sets 2 and 3 deleted: set 4 is rebased onto set 1
#     and still holds everything; sets 4 and 1 restored by content; the
#     next set after a restore is full;
#   - spawn (linked and --full) and an OVA export of the last set read
#     through its chain;
#   - `verify` passes, fails on a byte flipped in a middle copy (naming it
#     and what stacks on it), and passes again;
#   - fallbacks: a checkpoint deleted with virsh, an unknown snapset-
#     checkpoint, a bitmap removed inside QEMU, a failed set;
#   - faults (fault build): SIGKILL during the incremental copy, at each
#     merge step of a delete, and between a set and its checkpoint trim.
set -u
. "$(dirname "$0")/restore_lib.sh"
. "$(dirname "$0")/lib.sh"

conf=$SNAP_ITMP/snapset.conf
: >"$conf" # defaults: qcow2 copies, no OpenStack
at_exit r_cleanup
disks() { echo "/ /vol/data1 /vol/data2"; }
mark() { gx "for d in $(disks); do echo $1 > \$d/$1.txt; done; sync" >/dev/null; }
has() {
    gx "r=0; for d in $(disks); do test -s \$d/$1.txt || { echo \"     \$d has no $1.txt\"; r=1; }; done; exit \$r"
}
lacks() {
    gx "r=0; for d in $(disks); do test ! -e \$d/$1.txt || { echo \"     \$d has $1.txt\"; r=1; }; done; exit \$r"
}
back_up() { wait_agent "$DOM" 120 && wait_mounts 60 /vol/data1 /vol/data2; }
# The domain's snapset checkpoints, sorted, on one line.
cps() { vsh checkpoint-list "$DOM" --name 2>/dev/null | grep '^snapset-' | sort | tr '\n' ' ' | sed 's/ $//'; }
# mk NAME [OPTION...]: a set; its JSON in $SNAP_ITMP/NAME.json, its id
# printed. Exits the suite when create fails.
mk() {
    _n=$1
    shift
    if ! sso "$@" create "$DOM" --json >"$SNAP_ITMP/$_n.json" 2>"$SNAP_ITMP/$_n.err"; then
        cat "$SNAP_ITMP/$_n.err" >&2
        return 1
    fi
    jq -r .uuid "$SNAP_ITMP/$_n.json"
}
# refresh NAME ID: the set's record now.
refresh() { sso show "$2" --json >"$SNAP_ITMP/$1.json"; }
# m NAME TARGET FIELD: a member's field in NAME's record.
m() { jq -r --arg t "$2" ".members[] | select(.target == \$t) | .$3" "$SNAP_ITMP/$1.json"; }
# backing FILE: the backing file name the image records ("" when none).
backing() { qemu-img info -U --output=json "$1" | jq -r '.["backing-filename"] // ""'; }
fail_out() { bad "$1"; summary; exit 1; }

begin "guest"
r_guest_up || fail_out "tests/guest/setup for $DOM"
check "the guest mounts its data disks" wait_mounts 60 /vol/data1 /vol/data2
gx "for d in $(disks); do rm -f \$d/*.txt \$d/*.bin; done; sync" >/dev/null

# ---- the first set is full ---------------------------------------------------
begin "first set"
mark s1
# 1 MiB of a pattern on data1, overwritten with zeros before set 2: an
# incremental copy must carry the zeros, not read the old pattern through
# its backing file (a backup job that skipped zero ranges would).
gx "yes SNAPSETPATTERN | head -c 1048576 > /vol/data1/pat.bin; sync" >/dev/null
s1=$(mk s1) || fail_out "create the first set"
r_made_sets="$r_made_sets $s1"
check "vda is a full copy" test "$(m s1 vda mode)" = full
check "vdb is a full copy: no earlier set" sh -c "test '$(m s1 vdb mode)' = full && echo '$(m s1 vdb full_reason)' | grep -q 'no earlier set'"
check "vdc (raw) is full: no persistent bitmap" sh -c "echo '$(m s1 vdc full_reason)' | grep -q 'no persistent bitmap'"
check "the set records its checkpoint" test "$(jq -r .checkpoint "$SNAP_ITMP/s1.json")" = "snapset-$s1"
check "the domain has exactly that checkpoint" test "$(cps)" = "snapset-$s1"
check "every copy has a digest" test "$(jq '[.members[] | select(.sha256 | test("^[0-9a-f]{64}$"))] | length' "$SNAP_ITMP/s1.json")" = 3
check "vdb's digest is its file's" test "$(m s1 vdb sha256)" = "$(sha256sum "$(m s1 vdb location)" | cut -d' ' -f1)"

# ---- the second copies what changed -------------------------------------------
begin "incremental set"
gx "dd if=/dev/urandom of=/vol/data1/s2.bin bs=1M count=4 2>/dev/null; \
dd if=/dev/zero of=/vol/data1/pat.bin bs=64k count=16 conv=notrunc 2>/dev/null; sync" >/dev/null
mark s2
s2=$(mk s2) || fail_out "create the second set"
r_made_sets="$r_made_sets $s2"
vdb2=$(m s2 vdb location)
check "vdb is incremental on set 1" sh -c "test '$(m s2 vdb mode)' = incremental && test '$(m s2 vdb base)' = '$s1'"
check "vda is incremental too" test "$(m s2 vda mode)" = incremental
check "vdc (raw) is still full" test "$(m s2 vdc mode)" = full
check "the catalog's backing is relative" test "$(m s2 vdb backing)" = "../$s1/vdb.qcow2"
check "the image's backing is the same" test "$(backing "$vdb2")" = "../$s1/vdb.qcow2"
c1=$(m s1 vdb bytes_copied)
c2=$(m s2 vdb bytes_copied)
cr1=$(m s1 vdc bytes_copied)
cr2=$(m s2 vdc bytes_copied)
echo "     vdb: set 1 copied $c1 bytes, set 2 $c2 (4 MiB written); raw vdc: $cr1 then $cr2; vda: $(m s2 vda bytes_copied)"
check_num "set 2's vdb holds at least the 4 MiB written" "$c2" -ge 4194304
check_num "... and not much more (what changed, not the disk)" "$c2" -le 8388608
check_num "raw vdc is copied whole both times (negative control)" "$cr2" -ge "$cr1"
check "only the newest checkpoint stays on the domain" test "$(cps)" = "snapset-$s2"
check "set 2's vdb is fsck-clean through its chain" "$G/image-fsck" "$vdb2"
check "set 2's vdb holds its marker" test "$("$G/image-cat" "$vdb2" /s2.txt)" = s2
check "... and set 1's, from the layer below" test "$("$G/image-cat" "$vdb2" /s1.txt)" = s1
check "set 1 holds the pattern (negative control)" sh -c "'$G/image-cat' '$(m s1 vdb location)' /pat.bin | grep -q SNAPSETPATTERN"
check_num "set 2 reads the whole file" "$("$G/image-cat" "$vdb2" /pat.bin | wc -c)" -eq 1048576
check_num "set 2 holds the zeros written over it, not the pattern below (non-zero bytes)" \
    "$("$G/image-cat" "$vdb2" /pat.bin | tr -d '\000' | wc -c)" -eq 0
"$G/image-cat" "$vdb2" /writer.log >"$SNAP_ITMP/w1.log"
"$G/image-cat" "$(m s2 vdc location)" /writer.log >"$SNAP_ITMP/w2.log"
check "the writer's records across the disks form a consistent cut" \
    "$G/check-cut" "$SNAP_ITMP/w1.log" "$SNAP_ITMP/w2.log"
sso show "$s2" >"$SNAP_ITMP/show2.txt"
check "show prints vdb's chain" grep -q "chain: $s2 <- $s1" "$SNAP_ITMP/show2.txt"
sso list >"$SNAP_ITMP/list.txt"
check "list has OWN and TOTAL" grep -q 'OWN.*TOTAL' "$SNAP_ITMP/list.txt"

# ---- a chain of four, the middle deleted -------------------------------------
begin "chain of four"
mark s3
s3=$(mk s3) || fail_out "create set 3"
r_made_sets="$r_made_sets $s3"
mark s4
s4=$(mk s4) || fail_out "create set 4"
r_made_sets="$r_made_sets $s4"
check "set 4's vdb stacks on set 3" test "$(m s4 vdb base)" = "$s3"
if sso verify --all >"$SNAP_ITMP/v.out" 2>&1; then ok "verify passes on the chain"; else bad "verify passes on the chain"; cat "$SNAP_ITMP/v.out"; fi
vdb3=$(m s3 vdb location)
cp "$vdb3" "$SNAP_ITMP/vdb3.save"
size=$(stat -c %s "$vdb3")
off=$((size / 2))
# One byte, inverted (whatever it was), in the middle of the file.
python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xFF]))' "$vdb3" "$off"
check "the byte is flipped (negative control: the file changed)" sh -c "! cmp -s '$vdb3' '$SNAP_ITMP/vdb3.save'"
sso verify --all >"$SNAP_ITMP/v2.out" 2>&1
rc=$?
check_num "verify fails after a byte flipped in set 3's vdb" $rc -eq 1
check "... naming set 3" grep -q "$s3.*broken" "$SNAP_ITMP/v2.out"
check "... and set 4, which stacks on it" grep -q "$s4" "$SNAP_ITMP/v2.out"
check "... not set 1" sh -c "grep '$s1' '$SNAP_ITMP/v2.out' | grep -vq broken"
cp "$SNAP_ITMP/vdb3.save" "$vdb3"
if sso verify --all >/dev/null 2>&1; then ok "verify passes again with the byte back"; else bad "verify passes again with the byte back"; fi

sso delete "$s2" >"$SNAP_ITMP/d2.out" 2>&1
check_num "delete set 2 (the base of set 3)" $? -eq 0
r_made_sets=$(echo "$r_made_sets" | sed "s/ $s2//")
refresh s3 "$s3"
check "set 3 now stacks on set 1" test "$(m s3 vdb base)" = "$s1"
check "... in its image too" test "$(backing "$vdb3")" = "../$s1/vdb.qcow2"
check "set 3 still holds set 2's data" test "$("$G/image-cat" "$vdb3" /s2.txt)" = s2
check "set 3's recorded digest is its file's" test "$(m s3 vdb sha256)" = "$(sha256sum "$vdb3" | cut -d' ' -f1)"
sso delete "$s3" >"$SNAP_ITMP/d3.out" 2>&1
check_num "delete set 3" $? -eq 0
r_made_sets=$(echo "$r_made_sets" | sed "s/ $s3//")
refresh s4 "$s4"
vdb4=$(m s4 vdb location)
check "set 4 stacks on set 1" test "$(m s4 vdb base)" = "$s1"
check "set 4's vdb is fsck-clean" "$G/image-fsck" "$vdb4"
for f in s1 s2 s3 s4; do
    check "set 4 holds $f.txt" test "$("$G/image-cat" "$vdb4" /$f.txt)" = $f
done
check "set 4's root is fsck-clean" "$G/image-fsck" "$(m s4 vda location)"
if sso verify "$s4" "$s1" >/dev/null 2>&1; then ok "verify passes on sets 4 and 1"; else bad "verify passes on sets 4 and 1"; fi

# ---- spawn and export read through the chain ---------------------------------
begin "spawn and export of the last set"
N1=incr-linked-$$
N2=incr-full-$$
r_doms="$r_doms $N1 $N2"
sso spawn "$s4" --name "$N1" --no-start >"$SNAP_ITMP/sp1.out" 2>&1
check_num "spawn (linked)" $? -eq 0
c=$(vsh domblklist "$N1" --details | awk '$3 == "vdb" { print $4 }')
check "the clone's vdb reads set 4's data" test "$("$G/image-cat" "$c" /s4.txt)" = s4
check "... and set 1's, two layers down" test "$("$G/image-cat" "$c" /s1.txt)" = s1
sso delete "$s1" >"$SNAP_ITMP/d1.err" 2>&1
check_num "set 1 cannot go while the clone reads through it" $? -ne 0
sed 's/^/     /' "$SNAP_ITMP/d1.err"
sso spawn "$s4" --name "$N2" --full --no-start >"$SNAP_ITMP/sp2.out" 2>&1
check_num "spawn --full" $? -eq 0
c=$(vsh domblklist "$N2" --details | awk '$3 == "vdb" { print $4 }')
check "the full clone has no backing file" test -z "$(backing "$c")"
check "... and holds set 2's data" test "$("$G/image-cat" "$c" /s2.txt)" = s2
r_drop_domain "$N1"
r_drop_domain "$N2"
sso export "$s4" --ova "$SNAP_ITMP/s4.ova" >"$SNAP_ITMP/ex.out" 2>&1
check_num "export set 4 as an OVA" $? -eq 0
mkdir -p "$SNAP_ITMP/ova"
tar -xf "$SNAP_ITMP/s4.ova" -C "$SNAP_ITMP/ova"
d=$(ls "$SNAP_ITMP/ova"/*vdb*.vmdk 2>/dev/null | head -n1)
check "the OVA's vdb is one self-contained file" sh -c "test -n '$d' && test -z \"\$(qemu-img info --output=json '$d' | jq -r '.[\"backing-filename\"] // \"\"')\""
[ -n "$d" ] && check "... holding set 2's data" test "$("$G/image-cat" "$d" /s2.txt vmdk)" = s2
for t in vda vdb vdc; do
    check "the OVA's $t is set 4's $t, read through its chain (qemu-img compare)" \
        qemu-img compare -q -U -f vmdk -F "$(m s4 $t copy_format)" "$SNAP_ITMP/ova/$t.vmdk" "$(m s4 $t location)"
done
if command -v virt-v2v >/dev/null 2>&1; then
    LIBGUESTFS_BACKEND=direct timeout 300 virt-v2v -i ova "$SNAP_ITMP/s4.ova" --print-source >"$SNAP_ITMP/v2v.txt" 2>&1
    check_num "virt-v2v reads the OVA of the incremental set" $? -eq 0
    check_num "virt-v2v: every disk" "$(grep -cE '^[[:space:]]+[0-9]+ \[scsi\]' "$SNAP_ITMP/v2v.txt")" -eq 3
else
    bad "virt-v2v is not installed (scripts/install-deps installs it)"
fi

# ---- restore by content ------------------------------------------------------
begin "restore of sets 4 and 1"
mark after
"$G/image-cat" "$(m s4 vdb location)" /writer.log >"$SNAP_ITMP/w4.log"
sso restore "$s4" >"$SNAP_ITMP/r4.out" 2>&1
check_num "restore set 4" $? -eq 0
check "guest is back" back_up
gx 'cat /vol/data1/writer.log' >"$SNAP_ITMP/w4now.log"
n4=$(wc -l <"$SNAP_ITMP/w4.log")
check "the guest's writer records are set 4's up to its point ($n4 records)" \
    sh -c "test $n4 -gt 0 && head -n $n4 '$SNAP_ITMP/w4now.log' | cmp -s - '$SNAP_ITMP/w4.log'"
check "set 4's files are there" has s4
check "set 2's, merged into it, too" has s2
check "what came after is gone" lacks after
check "restore dropped the domain's checkpoints" test -z "$(cps)"
sso restore "$s1" >"$SNAP_ITMP/r1.out" 2>&1
check_num "restore set 1" $? -eq 0
check "guest is back" back_up
check "set 1's files are there" has s1
check "set 2's are not" lacks s2
s5=$(mk s5) || fail_out "create set 5"
r_made_sets="$r_made_sets $s5"
check "after a restore the next set is full" sh -c "test '$(m s5 vdb mode)' = full && echo '$(m s5 vdb full_reason)' | grep -q 'not on the domain'"

# ---- fallbacks ---------------------------------------------------------------
begin "fallbacks"
vsh checkpoint-delete "$DOM" "snapset-$s5" >/dev/null
s6=$(mk s6) || fail_out "create set 6"
r_made_sets="$r_made_sets $s6"
check "a checkpoint deleted with virsh: full" sh -c "echo '$(m s6 vdb full_reason)' | grep -q 'not on the domain'"
s7=$(mk s7) || fail_out "create set 7"
r_made_sets="$r_made_sets $s7"
check "the set after it is incremental again" test "$(m s7 vdb mode)" = incremental
foreign=snapset-00000000-0000-4000-8000-0000000000ff
vsh checkpoint-create-as "$DOM" --name "$foreign" --diskspec vdb,checkpoint=bitmap \
    --diskspec vda,checkpoint=no --diskspec vdc,checkpoint=no >/dev/null
s8=$(mk s8) || fail_out "create set 8"
r_made_sets="$r_made_sets $s8"
check "an unknown snapset- checkpoint: full" sh -c "echo '$(m s8 vdb full_reason)' | grep -q 'does not expect'"
check "... and it is trimmed with the rest" test "$(cps)" = "snapset-$s8"
node=$(vsh qemu-monitor-command "$DOM" '{"execute":"query-named-block-nodes","arguments":{"flat":true}}' |
    jq -r --arg b "snapset-$s8" '.return[] | select(any(.["dirty-bitmaps"][]?; .name == $b)) | .["node-name"]' | head -n1)
vsh qemu-monitor-command "$DOM" "{\"execute\":\"block-dirty-bitmap-remove\",\"arguments\":{\"node\":\"$node\",\"name\":\"snapset-$s8\"}}" >/dev/null
check "bitmap removed inside QEMU (node $node)" test -n "$node"
s9=$(mk s9) || fail_out "create set 9"
r_made_sets="$r_made_sets $s9"
check "a missing bitmap: vdb full" sh -c "echo '$(m s9 vdb full_reason)' | grep -q 'bitmap.*missing'"
check "... vda (its bitmap there) incremental" test "$(m s9 vda mode)" = incremental
sso --frozen-timeout 1 create "$DOM" >"$SNAP_ITMP/fail.out" 2>&1
check_num "a set that fails (frozen window of 1 ms)" $? -ne 0
echo "     checkpoints: $(cps)"
check "it leaves no checkpoint behind" test "$(cps)" = "snapset-$s9"
s10=$(mk s10) || fail_out "create set 10"
r_made_sets="$r_made_sets $s10"
check "the next stacks on the last available set" sh -c "test '$(m s10 vdb mode)' = incremental && test '$(m s10 vdb base)' = '$s9'"
# The disk replaced by another image of the same size (virsh blockcopy
# with a pivot: the guest goes on, on a new file).
vsh blockcopy "$DOM" vdb "$SNAP_ITMP/vdb-new.qcow2" --format qcow2 --transient-job --wait --pivot >/dev/null 2>&1
check "vdb copied to a new image and pivoted (virsh blockcopy)" test "$(vsh domblklist "$DOM" | awk '$1 == "vdb" { print $2 }')" = "$SNAP_ITMP/vdb-new.qcow2"
sb=$(mk sb) || fail_out "create the set after the blockcopy"
r_made_sets="$r_made_sets $sb"
check "a replaced image: vdb full, its source changed" sh -c "test '$(m sb vdb mode)' = full && echo '$(m sb vdb full_reason)' | grep -q 'source changed'"
check "... vda incremental all the same" test "$(m sb vda mode)" = incremental
s10=$sb # the newest available set from here on

# ---- faults ------------------------------------------------------------------
begin "faults"
mark k1
SNAPSET_FAULT=after-thaw:kill sso create "$DOM" >/dev/null 2>&1
check "killed during the incremental copy: the guest is thawed" test "$(agent_status)" = thawed
sso recover >/dev/null 2>&1
check_num "... then recovered" $? -eq 0
check "set $s10 still reads as before" test "$("$G/image-cat" "$(m sb vdb location)" /s1.txt)" = s1
echo "     checkpoints: $(cps)"
check "no checkpoint of the dead set" test "$(cps)" = "snapset-$s10"
check "its copies are gone" test "$(find "$SNAP_CATALOG/sets" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq "$(echo $r_made_sets | wc -w)"
SNAPSET_FAULT=before-checkpoint-trim:kill sso create "$DOM" >/dev/null 2>&1
check "killed before the trim: the guest is thawed" test "$(agent_status)" = thawed
s11=$(sso list --json | jq -r --arg d "$DOM" '[.[] | select(.state == "available")] | sort_by(.created) | last | .uuid')
r_made_sets="$r_made_sets $s11"
check "killed before the trim: the set is available" test "$s11" != "$s10"
echo "     checkpoints: $(cps)"
check "... both checkpoints are left" test "$(cps)" = "$(printf 'snapset-%s\nsnapset-%s\n' "$s10" "$s11" | sort | tr '\n' ' ' | sed 's/ $//')"
s12=$(mk s12) || fail_out "create set 12"
r_made_sets="$r_made_sets $s12"
check "the next set is incremental all the same" test "$(m s12 vdb mode)" = incremental
check "... and trims both" test "$(cps)" = "snapset-$s12"
for p in delete-before-merge merge-after-rebase merge-after-record; do
    # The base of the newest set's root copy goes, killed at $p: every
    # available set stays readable, and delete run again finishes.
    refresh s12 "$s12"
    base=$(m s12 vda base)
    SNAPSET_FAULT=$p:kill sso delete "$base" >/dev/null 2>&1
    check_num "delete killed at $p (SIGKILL)" $? -eq 137
    check "... the guest is not touched (thawed)" test "$(agent_status)" = thawed
    check "set 12's root is readable after the kill at $p" "$G/image-fsck" "$(m s12 vda location)"
    check "set 12's root holds set 1's data (at $p)" test "$("$G/image-cat" "$(m s12 vda location)" /s1.txt)" = s1
    sso delete "$base" >"$SNAP_ITMP/dd.out" 2>&1
    check_num "delete run again finishes (at $p)" $? -eq 0
    [ -s "$SNAP_ITMP/dd.out" ] && sed 's/^/     /' "$SNAP_ITMP/dd.out"
    r_made_sets=$(echo "$r_made_sets" | sed "s/ $base//")
    refresh s12 "$s12"
    check "set 12 no longer names it (at $p)" test "$(m s12 vda base)" != "$base"
    check "set 12's root still holds set 1's data (at $p)" test "$("$G/image-cat" "$(m s12 vda location)" /s1.txt)" = s1
    if sso verify "$s12" >/dev/null 2>&1; then ok "verify passes (at $p)"; else bad "verify passes (at $p)"; fi
done
# Nothing unaccounted for: every directory under sets/ is an available set
# of ours, and the domain has the newest one's checkpoint only.
check "no set directory but the available sets'" test "$(find "$SNAP_CATALOG/sets" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq "$(sso list --json | jq '[.[] | select(.state == "available")] | length')"
check "one checkpoint, the newest set's" test "$(cps)" = "snapset-$s12"

# ---- a policy that verifies ---------------------------------------------------
begin "policy verify"
pconf=$SNAP_ITMP/policy.conf
printf 'policies = ( { name = "inc"; domains = [ "%s" ]; verify = true; } );\n' "$DOM" >"$pconf"
sso_p() { ss -c "$pconf" "$@"; }
sso_p policy run inc --json >"$SNAP_ITMP/p1.json" 2>"$SNAP_ITMP/p1.err"
check_num "a policy run that verifies its set" $? -eq 0
p1=$(jq -r '.. | .set_id? // empty' "$SNAP_ITMP/p1.json" | head -n1)
r_made_sets="$r_made_sets $p1"
check "... made an incremental set" test "$(sso show "$p1" --json | jq -r '.members[] | select(.target == "vdb") | .mode')" = incremental
# The base of the next set broken: the next set stacks on it, its verify fails.
pv=$(sso show "$p1" --json | jq -r '.members[] | select(.target == "vdb") | .location')
cp "$pv" "$SNAP_ITMP/pv.save"
python3 -c 'import sys, os
f = open(sys.argv[1], "r+b"); o = os.path.getsize(sys.argv[1]) // 2; f.seek(o); b = f.read(1)
f.seek(o); f.write(bytes([b[0] ^ 0xFF]))' "$pv"
sso_p policy run inc --json >"$SNAP_ITMP/p2.json" 2>"$SNAP_ITMP/p2.err"
check_num "the next run fails: its set stacks on a broken one" $? -ne 0
check "... saying the verify failed" grep -q "verify failed" "$SNAP_ITMP/p2.json"
p2=$(jq -r '.. | .set_id? // empty' "$SNAP_ITMP/p2.json" | head -n1)
[ -n "$p2" ] && r_made_sets="$r_made_sets $p2"
cp "$SNAP_ITMP/pv.save" "$pv"
if sso verify --all >/dev/null 2>&1; then ok "verify passes again with the byte back"; else bad "verify passes again with the byte back"; fi

# ---- deleting the newest set -------------------------------------------------
begin "delete the newest set"
newest=${p2:-$p1}
sso delete "$newest" >"$SNAP_ITMP/dn.out" 2>&1
check_num "delete the newest set" $? -eq 0
r_made_sets=$(echo "$r_made_sets" | sed "s/ $newest//")
check "its checkpoint went with it" test -z "$(cps)"
sn=$(mk sn) || fail_out "create the set after it"
r_made_sets="$r_made_sets $sn"
check "the next set is full: no checkpoint to start from" sh -c "test '$(m sn vdb mode)' = full && echo '$(m sn vdb full_reason)' | grep -q 'not on the domain'"
check "... and all of it is there" test "$("$G/image-cat" "$(m sn vdb location)" /s1.txt)" = s1
summary
