#!/bin/sh
# tests/integration/test_security_files.sh -- snapset, running as root,
# never deletes what it did not make and never follows a planted symlink,
# on the real guest ($DOM, local disks only: no cloud needed):
#  - delete --with-exports of an --ovf DIR export removes only the files
#    the export wrote: a foreign file in DIR survives, also when DIR was
#    swapped for a symlink to a directory holding foreign files (under our
#    names too); a directory the export made goes when empty; an --ova
#    FILE swapped for a symlink is not followed;
#  - --ovf into a non-empty directory is refused without --force;
#  - the staging sweep does not follow a symlink named like a dead
#    export's staging directory, and sweeps a real one;
#  - a staging root writable by group or others (/tmp, a 1777 directory)
#    is refused;
#  - restore writes its new images under unpredictable names made with
#    O_EXCL: symlinks planted (and re-planted while it runs) at the old
#    predictable name .BASE.snapset-restore.new leave their target's
#    content, owner and mode unchanged, and are not removed by restore;
#    the new name swapped for a symlink while qemu-img writes is noticed
#    (restore fails, undone) and the symlink's target is untouched.
# Restore stops and restarts $DOM: run it on a guest of your own
# (RESTORE_DOM, by default the snaprestore guest of test_restore.sh).
# The guest is left running and thawed.
set -u
. "$(dirname "$0")/restore_lib.sh"
. "$(dirname "$0")/lib.sh"

T=$SNAP_ITMP
IMG=$SNAP_WORK/img
racer=""
stop_racer() {
    [ -z "$racer" ] || { kill "$racer" 2>/dev/null; wait "$racer" 2>/dev/null; }
    racer=""
}
cleanup() {
    stop_racer
    # Whatever failed, the guest is left running.
    [ "$(vsh domstate "$DOM" 2>/dev/null)" = running ] || vsh start "$DOM" >/dev/null 2>&1
    rm -f "$IMG"/.*.snapset-restore.new 2>/dev/null
    rm -rf "$SNAP_CATALOG"
}
at_exit cleanup
vsh() { timeout 60 virsh -q -c qemu:///system "$@"; }
wait_agent() {
    _i=0
    while [ $_i -lt $(($1 * 5)) ]; do
        vsh qemu-agent-command --timeout 2 "$DOM" '{"execute":"guest-ping"}' >/dev/null 2>&1 && return 0
        sleep 0.2
        _i=$((_i + 1))
    done
    return 1
}
# A pid that is surely not running: a shell that has exited.
dead_pid() { sh -c 'echo $$'; }
# owner:group mode content of a file, for before/after comparisons.
fingerprint() { printf '%s %s\n' "$(stat -c '%U:%G %a' "$1")" "$(sha256sum <"$1" | cut -c1-16)"; }

begin "a set of the guest"
if [ "$DOM" = snapdemo ]; then
    bad "restore stops the domain: give RESTORE_DOM=<a guest of your own>"; summary; exit 1
fi
if ! r_guest_up; then bad "tests/guest/setup for $DOM"; summary; exit 1; fi
check "the guest's agent answers" wait_agent 60
ss create "$DOM" --json >"$T/set.json" 2>"$T/create.err"
rc=$?
check_num "create exits 0" $rc -eq 0
[ $rc -eq 0 ] || { cat "$T/create.err"; summary; exit 1; }
set_id=$(jq -r .uuid "$T/set.json")
set_dir=$(jq -r .dir "$T/set.json")

begin "--ovf into a non-empty directory"
mkdir -p "$T/ovf1"
echo "the user's notes" >"$T/ovf1/notes.md"
ss export "$set_id" --ovf "$T/ovf1" --disk-format qcow2 >"$T/e1.out" 2>"$T/e1.err"
rc=$?
check_num "is refused (exit 1)" $rc -eq 1
check "with one line naming the directory" \
    sh -c "test \$(wc -l <'$T/e1.err') -eq 1 && grep -q \"'$T/ovf1' is not empty\" '$T/e1.err'"
sed 's/^/     /' "$T/e1.err"
check "nothing was written there" test "$(ls -A "$T/ovf1")" = notes.md
ss export "$set_id" --ovf "$T/ovf1" --disk-format qcow2 --force >"$T/e1.out" 2>"$T/e1.err"
check_num "--force writes the package beside it" $? -eq 0
check "the package is there, notes.md too" \
    sh -c "test -f '$T/ovf1/$DOM.ovf' && test -f '$T/ovf1/notes.md'"

begin "exports to be deleted"
ss export "$set_id" --ovf "$T/ovf2" --disk-format qcow2 >/dev/null 2>"$T/e2.err"
check_num "export --ovf into a new directory (ovf2)" $? -eq 0
ss export "$set_id" --ovf "$T/ovf3" --disk-format qcow2 >/dev/null 2>"$T/e3.err"
check_num "export --ovf into a new directory (ovf3)" $? -eq 0
ss export "$set_id" --ova "$T/a.ova" --disk-format qcow2 >/dev/null 2>"$T/e4.err"
check_num "export --ova" $? -eq 0
check "exports.json lists the files of each --ovf export" \
    test "$(jq '[.exports[] | select(.kind == "ovf") | select((.files | length) > 2)] | length' "$set_dir/exports.json")" = 3
# ovf2 is swapped for a symlink to a directory of someone else's, holding
# files under the package's names too; a.ova for a symlink to a file.
mkdir "$T/victim"
for f in notes.md $(ls "$T/ovf2"); do echo "foreign $f" >"$T/victim/$f"; done
mv "$T/ovf2" "$T/ovf2.moved"
ln -s "$T/victim" "$T/ovf2"
victim_before=$(cd "$T/victim" && sha256sum * | sha256sum)
echo "someone's file" >"$T/victim.ova"
rm -f "$T/a.ova"
ln -s "$T/victim.ova" "$T/a.ova"

begin "delete --with-exports"
ss delete "$set_id" --with-exports >"$T/del.out" 2>"$T/del.err"
rc=$?
check_num "delete --with-exports exits 0" $rc -eq 0
sed 's/^/     /' "$T/del.out" "$T/del.err"
check "the foreign notes.md in ovf1 survives" test -f "$T/ovf1/notes.md"
check "the package's files in ovf1 are gone" test "$(ls -A "$T/ovf1")" = notes.md
check "ovf3, made by the export, is gone" test ! -e "$T/ovf3"
check "the directory behind the ovf2 symlink is untouched" \
    test "$(cd "$T/victim" && sha256sum * | sha256sum)" = "$victim_before"
check "the ovf2 symlink itself is left" test -L "$T/ovf2"
check "it says it kept ovf2" grep -q "^kept $T/ovf2 " "$T/del.out"
check "the file behind the a.ova symlink is untouched" \
    test "$(cat "$T/victim.ova")" = "someone's file"
check "the set is gone" test ! -e "$set_dir"

begin "staging sweep"
stage=$T/stage
mkdir -m 0700 "$stage"
mkdir "$T/precious"
echo "keep me" >"$T/precious/keep"
pid=$(dead_pid)
ln -s "$T/precious" "$stage/export-$pid-1-abcdef"
mkdir -m 0700 "$stage/export-$pid-1-ghijkl"
echo staged >"$stage/export-$pid-1-ghijkl/vda.vmdk"
ss create "$DOM" --json >"$T/set2.json" 2>"$T/create2.err"
check_num "a second set" $? -eq 0
set2=$(jq -r .uuid "$T/set2.json")
ss export "$set2" --ova "$T/s.ova" --disk-format qcow2 --staging-dir "$stage" >/dev/null 2>"$T/s.err"
rc=$?
check_num "export --staging-dir exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$T/s.err"
check "the files behind the planted symlink survive" test "$(cat "$T/precious/keep")" = "keep me"
check "the planted symlink is not swept" test -L "$stage/export-$pid-1-abcdef"
check "the dead export's real staging directory is swept" test ! -e "$stage/export-$pid-1-ghijkl"

begin "a staging root others can write"
mkdir "$T/shared"
chmod 1777 "$T/shared"
for root in "$T/shared" /tmp; do
    ss export "$set2" --ova "$T/w.ova" --staging-dir "$root" >/dev/null 2>"$T/w.err"
    rc=$?
    check_num "--staging-dir $root is refused (exit 1)" $rc -eq 1
    check "with one line saying why" \
        sh -c "test \$(wc -l <'$T/w.err') -eq 1 && grep -q \"staging directory '$root' is writable by group or others\" '$T/w.err'"
    sed 's/^/     /' "$T/w.err"
done
check "no OVA was written" test ! -e "$T/w.ova"

begin "restore and planted symlinks"
# The victim: someone's file whose content, owner and mode must not change.
echo "not an image" >"$T/victim.txt"
chown nobody:nogroup "$T/victim.txt"
chmod 0600 "$T/victim.txt"
v_before=$(fingerprint "$T/victim.txt")
disks=$(vsh domblklist "$DOM" --details | awk '$1 == "file" && $2 == "disk" { print $4 }')
for d in $disks; do
    ln -sfn "$T/victim.txt" "$(dirname "$d")/.$(basename "$d").snapset-restore.new"
done
# Re-plant them without pause while restore runs (the old code removed
# the name, then qemu-img created it and chown followed it by path).
(
    while :; do
        for d in $disks; do
            ln -sfn "$T/victim.txt" "$(dirname "$d")/.$(basename "$d").snapset-restore.new" 2>/dev/null
        done
    done
) &
racer=$!
ss restore "$set2" >"$T/r.out" 2>"$T/r.err"
rc=$?
stop_racer
check_num "restore exits 0" $rc -eq 0
[ $rc -eq 0 ] || cat "$T/r.err"
check "the victim's content, owner and mode are unchanged ($v_before)" \
    test "$(fingerprint "$T/victim.txt")" = "$v_before"
for d in $disks; do
    l="$(dirname "$d")/.$(basename "$d").snapset-restore.new"
    check "the symlink planted at $(basename "$l") is still there, not followed" \
        sh -c "test -L '$l' && test \"\$(readlink '$l')\" = '$T/victim.txt'"
done
check "no temporary image is left beside the disks" \
    test -z "$(ls -A "$IMG" | grep -E 'snapset-restore-|snapset-restore\.old')"
check "the domain is running again" test "$(vsh domstate "$DOM")" = running
check "its agent answers" wait_agent 120
rm -f "$IMG"/.*.snapset-restore.new

begin "restore and a swapped temporary image"
# Someone who can write the image directory sees restore's new (random)
# name and swaps it for a symlink to the victim while qemu-img writes:
# qemu-img writes the file restore opened, not the name; restore notices
# that the name is no longer its image, renames nothing in and fails,
# undone; the victim is untouched.
(
    while :; do
        for f in "$IMG"/.*.snapset-restore-??????; do
            [ -f "$f" ] && [ ! -L "$f" ] || continue
            ln -sfn "$T/victim.txt" "$f" 2>/dev/null
        done
    done
) &
racer=$!
ss restore "$set2" >"$T/r2.out" 2>"$T/r2.err"
rc=$?
stop_racer
check_num "restore fails (exit 1)" $rc -eq 1
sed 's/^/     /' "$T/r2.err"
check "it says the temporary image was replaced" grep -q "is no longer the image restore wrote" "$T/r2.err"
check "the victim's content, owner and mode are unchanged" \
    test "$(fingerprint "$T/victim.txt")" = "$v_before"
check "every disk is still a regular file, not a symlink" \
    sh -c "for d in $(echo $disks); do test -f \"\$d\" && test ! -L \"\$d\" || exit 1; done"
check "no old image is left beside the disks" test -z "$(ls -A "$IMG" | grep -E 'snapset-restore\.old')"
check "the domain is running again" test "$(vsh domstate "$DOM")" = running
check "its agent answers" wait_agent 120
rm -f "$IMG"/.*.snapset-restore-??????

begin "cleanup"
ss delete "$set2" >/dev/null 2>&1
check_num "the second set is deleted" $? -eq 0
check "the guest is not frozen" test "$(agent_status)" = thawed

summary
