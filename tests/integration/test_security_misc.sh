#!/bin/sh
# tests/integration/test_security_misc.sh -- nothing of anyone else's is
# touched, no descriptor reaches a child, no outside text reaches the
# terminal raw; on the real guest and the real test cloud (tests/cloud/setup).
#
#   - A snapshot of a volume that is not a member, tagged by the tenant with
#     a set's snapset_set (the real `openstack volume snapshot create
#     --property`), survives `recover` and `delete` of that set, and so does
#     a tagged snapshot of a member volume that is not the recorded one;
#     the set's own snapshots go. `list --source cinder` marks them.
#   - qemu-img (a wrapper first on PATH, run by `volume-from` with the Cinder
#     session open) and the freeze watchdog hold no descriptor of ours.
#   - A guest agent's error text with ESC in it, tenant metadata with ESC,
#     and a log line quoting ESC come out escaped.
#   - check-config warns about openstack.insecure and http:// URLs.
# The recover and watchdog parts need a build with -DSNAP_FAULTS=ON (they are
# skipped otherwise).
set -u
. "$(dirname "$0")/lib.sh"

need_cloud
conf=$SNAP_ITMP/snapset.conf
cloud_conf "$conf" "delete_timeout_ms = 30000"
# snapset with nothing open but 0, 1 and 2, so what a child holds is what
# snapset gave it (not what this shell inherited).
bare() {
    python3 -c 'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}
faults=false
grep -q SNAPSET_FAULT "$SNAPSET" && faults=true
ESC=$(printf '\033')
raw_esc() { grep -q "$ESC" "$@"; } # true when a raw ESC byte is in the files
dom_uuid=$(virsh -c qemu:///system domuuid "$DOM")

member="" foreign=""
cleanup() {
    if [ -n "$member" ]; then
        p=$(echo "$member" | cut -c1-20)
        # The guest mounted it on /vol/<serial>: release it (unmount, no
        # mountpoint left behind: test_cinder.sh takes every /vol entry
        # for a disk).
        "$G/gexec" "$DOM" "volrelease $p" >/dev/null 2>&1 || :
        "$C/detach-volume" "$DOM" "$member" --delete >/dev/null 2>&1 || echo "cannot detach $member"
    fi
    [ -z "$foreign" ] || openstack volume delete --purge "$foreign" >/dev/null 2>&1 || echo "cannot delete $foreign"
    "$G/gexec" "$DOM" 'd=$(printf "/mnt/\033[2Jnope"); umount /mnt 2>/dev/null; umount "$d" 2>/dev/null; rmdir "$d" 2>/dev/null' >/dev/null 2>&1 || :
}
at_exit cleanup

# snap_status ID: the snapshot's status, "gone" when it does not exist.
snap_status() {
    st=$("$C/os" cinder GET "/snapshots/$1" 2>/dev/null | jq -r .snapshot.status 2>/dev/null)
    echo "${st:-gone}"
}
snap_exists() { test "$(snap_status "$1")" != gone; }
snap_wait_available() {
    i=0
    while [ $i -lt 120 ] && [ "$(snap_status "$1")" != available ]; do sleep 0.5; i=$((i + 1)); done
    test "$(snap_status "$1")" = available
}
# tenant_snap VOLUME SET NAME [openstack options...]: a snapshot the tenant
# makes and tags, with the real client; prints its id.
tenant_snap() {
    v=$1 s=$2 n=$3
    shift 3
    openstack volume snapshot create --volume "$v" --force --property "snapset_set=$s" \
        "$@" -f value -c id "$n" 2>"$SNAP_ITMP/osc.err"
}
# tagged SET: the ids of the snapshots tagged with SET, sorted.
tagged() {
    "$C/os" cinder GET /snapshots/detail | jq -r --arg s "$1" '.snapshots[] | select(.metadata.snapset_set == $s) | .id' | sort
}

begin "a member volume attached like Nova, a foreign volume that is not"
member=$("$C/attach-volume" "$DOM" 1 "snapset-misc-member" 2>"$SNAP_ITMP/attach.err" | tail -n1)
if [ -z "$member" ]; then cat "$SNAP_ITMP/attach.err"; bad "attach the member volume"; summary; exit 1; fi
foreign=$(openstack volume create --size 1 -f value -c id snapset-misc-foreign 2>"$SNAP_ITMP/osc.err")
i=0
while [ $i -lt 120 ] && [ "$("$C/os" cinder GET "/volumes/$foreign" 2>/dev/null | jq -r .volume.status)" != available ]; do
    sleep 0.5; i=$((i + 1))
done
check "member $member attached, foreign volume $foreign available" \
    test "$("$C/os" cinder GET "/volumes/$foreign" | jq -r .volume.status)" = available
p=$(echo "$member" | cut -c1-20)
i=0
while [ $i -lt 60 ] && ! "$G/gexec" "$DOM" "test -s /vol/$p/writer.log" >/dev/null 2>&1; do sleep 1; i=$((i + 1)); done

# ---- 4: delete ---------------------------------------------------------------
begin "tenant-tagged snapshots of a set"
sso create "$DOM" --json >"$SNAP_ITMP/s2.json" 2>"$SNAP_ITMP/s2.err"
check_num "a mixed set is made" $? -eq 0
s2=$(jq -r .uuid "$SNAP_ITMP/s2.json")
own2=$(jq -r '.members[] | select(.kind == "cinder") | .location' "$SNAP_ITMP/s2.json")
check "with one Cinder member" test -n "$own2"
f2=$(tenant_snap "$foreign" "$s2" snapset-misc-f2 --property "snapset_target=$(printf 'vd\033[2Jz')" --property snapset_domain="$DOM")
check "the tenant tags a snapshot of the foreign volume with the set (openstack CLI)" test -n "$f2"
[ -n "$f2" ] || cat "$SNAP_ITMP/osc.err"
m2=$(tenant_snap "$member" "$s2" snapset-misc-m2)
check "... and a snapshot of the member volume that is not the set's" test -n "$m2"
snap_wait_available "$f2" && snap_wait_available "$m2"
check_num "three snapshots carry the set's tag" "$(tagged "$s2" | wc -l)" -eq 3

begin "list --source cinder marks them and escapes tenant metadata"
sso list --source cinder >"$SNAP_ITMP/l.out" 2>"$SNAP_ITMP/l.err"
check_num "list --source cinder exits 0" $? -eq 0
check "the tenant's ESC is shown escaped" grep -qF 'vd\x1b[2Jz' "$SNAP_ITMP/l.out"
check "no raw ESC reaches the terminal" sh -c "! grep -q '$ESC' '$SNAP_ITMP/l.out' '$SNAP_ITMP/l.err'"
check "the foreign snapshot is marked" grep -q "$f2:available:foreign" "$SNAP_ITMP/l.out"
check "the member's other snapshot is marked" grep -q "$m2:available:foreign" "$SNAP_ITMP/l.out"
check "the set's own is not" grep -qE ":$own2:available( |\$)" "$SNAP_ITMP/l.out"
sso list --source cinder --json >"$SNAP_ITMP/l.json" 2>/dev/null
check "JSON: member false for the foreign one, true for the set's" \
    test "$(jq -r --arg s "$s2" --arg f "$f2" --arg o "$own2" \
        '[.[] | select(.set == $s) | .snapshots[] | select(.id == $f or .id == $o) | "\(.id == $o):\(.member)"] | sort | join(" ")' \
        "$SNAP_ITMP/l.json")" = "false:false true:true"

begin "delete leaves them alone, deletes the set's own"
sso delete "$s2" >"$SNAP_ITMP/d.out" 2>"$SNAP_ITMP/d.err"
check_num "delete exits 0" $? -eq 0
check "the set's own snapshot is deleted" test "$(snap_status "$own2")" = gone
check "the foreign volume's tagged snapshot survives" test "$(snap_status "$f2")" = available
check "the member volume's tenant snapshot survives" test "$(snap_status "$m2")" = available
check "delete says it left them alone" grep -q "leaving snapshot $f2 .* alone" "$SNAP_ITMP/d.err"

# ---- 4: recover ----------------------------------------------------------------
begin "recover leaves a tagged snapshot of a non-member volume alone"
if ! $faults; then
    ok "skipped: $SNAPSET is not a -DSNAP_FAULTS=ON build"
else
    # Killed after Cinder accepted the request, before the journal had the
    # id: recovery must find the set's snapshot by its metadata.
    SNAPSET_FAULT=before-request-journal:kill sso create "$DOM" >/dev/null 2>&1
    s1=$(sso list --json | jq -r '.[] | select(.state == "creating") | .uuid' | head -n1)
    check "a set left creating by a killed snapset" test -n "$s1"
    i=0
    while [ $i -lt 60 ] && [ -z "$(tagged "$s1")" ]; do sleep 0.5; i=$((i + 1)); done
    own1=$(tagged "$s1")
    check "Cinder has its unrecorded snapshot" test -n "$own1"
    f1=$(tenant_snap "$foreign" "$s1" snapset-misc-f1)
    check "the tenant tags a snapshot of the foreign volume with it" test -n "$f1"
    snap_wait_available "$f1"
    i=0
    while [ $i -lt 60 ] && [ "$(agent_status)" != thawed ]; do sleep 0.5; i=$((i + 1)); done
    sso recover "$DOM" >"$SNAP_ITMP/r.out" 2>"$SNAP_ITMP/r.err"
    check_num "recover exits 0" $? -eq 0
    for s in $own1; do
        check "the set's unrecorded snapshot is deleted" test "$(snap_status "$s")" = gone
    done
    check "the foreign volume's tagged snapshot survives" test "$(snap_status "$f1")" = available
    check "recover says it left it alone" grep -q "leaving snapshot $f1 .* alone" "$SNAP_ITMP/r.err"
    sso delete "$s1" >/dev/null 2>&1
    check "... and delete of the recovered set too" test "$(snap_status "$f1")" = available
fi

# ---- 11: descriptors ---------------------------------------------------------
begin "qemu-img gets only 0, 1 and 2"
sso create "$DOM" --json >"$SNAP_ITMP/s3.json" 2>"$SNAP_ITMP/s3.err"
s3=$(jq -r .uuid "$SNAP_ITMP/s3.json")
# A wrapper that writes the descriptors it got, then is qemu-img.
mkdir -p "$SNAP_ITMP/bin"
cat >"$SNAP_ITMP/fds.c" <<'C'
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    DIR *d = opendir("/proc/self/fd");
    FILE *f = fopen(getenv("FDS_OUT"), "ae");
    struct dirent *de;
    char l[64], t[256];
    ssize_t n;
    (void)argc;
    while (d && f && (de = readdir(d))) {
        if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d) || atoi(de->d_name) == fileno(f))
            continue;
        snprintf(l, sizeof(l), "/proc/self/fd/%s", de->d_name);
        n = readlink(l, t, sizeof(t) - 1);
        t[n > 0 ? n : 0] = 0;
        fprintf(f, "%s %s\n", de->d_name, t);
    }
    if (f) fclose(f);
    if (d) closedir(d);
    argv[0] = "qemu-img";
    execv("/usr/bin/qemu-img", argv);
    return 127;
}
C
cc -o "$SNAP_ITMP/bin/qemu-img" "$SNAP_ITMP/fds.c"
check "the wrapper is built" test -x "$SNAP_ITMP/bin/qemu-img"
FDS_OUT=$SNAP_ITMP/qimg.fds
export FDS_OUT
odd=$SNAP_ITMP/$(printf 'x\033[2Jy')
mkdir -p "$odd"
# volume-from a local disk of a set with a Cinder member: the Keystone and
# Cinder connections are open (and cached) while qemu-img runs.
PATH=$SNAP_ITMP/bin:$PATH bare "$SNAPSET" -vv -c "$conf" --catalog-dir "$SNAP_CATALOG" \
    volume-from "$s3" vda --dir "$odd" >"$SNAP_ITMP/v.out" 2>"$SNAP_ITMP/v.err"
check_num "volume-from exits 0" $? -eq 0
check "qemu-img ran through the wrapper" test -s "$FDS_OUT"
echo "     qemu-img's descriptors: $(tr '\n' ';' <"$FDS_OUT")"
check "... and had only 0, 1 and 2" test "$(cut -d' ' -f1 "$FDS_OUT" | sort -un | tr '\n' ' ')" = "0 1 2 "
check "a log line quoting ESC escapes it" grep -qF 'x\x1b[2Jy' "$SNAP_ITMP/v.err"
check "the new image's path on stdout is escaped too" grep -qF 'x\x1b[2Jy' "$SNAP_ITMP/v.out"
check "no raw ESC on stdout" sh -c "! grep -q '$ESC' '$SNAP_ITMP/v.out'"
check "no raw ESC in the log (stderr)" sh -c "! grep -q '$ESC' '$SNAP_ITMP/v.err'"
rm -rf "$odd"

begin "the watchdog holds its pipes and its own libvirt connection only"
if ! $faults; then
    ok "skipped: $SNAPSET is not a -DSNAP_FAULTS=ON build"
else
    cat >"$SNAP_ITMP/wdfds" <<EOF
#!/bin/sh
wd=\$(pgrep -f "__watchdog .*$dom_uuid" | head -n1)
[ -n "\$wd" ] || exit 1
for f in /proc/\$wd/fd/*; do echo "\${f##*/} \$(readlink "\$f")"; done >"$SNAP_ITMP/wd.fds"
EOF
    chmod +x "$SNAP_ITMP/wdfds"
    SNAPSET_FAULT="after-freeze:run=$SNAP_ITMP/wdfds" bare "$SNAPSET" -c "$conf" --catalog-dir "$SNAP_CATALOG" \
        create "$DOM" --json >"$SNAP_ITMP/s4.json" 2>"$SNAP_ITMP/s4.err"
    check_num "a mixed set with the watchdog armed" $? -eq 0
    check "the watchdog's descriptors were read" test -s "$SNAP_ITMP/wd.fds"
    echo "     the watchdog's descriptors: $(tr '\n' ';' <"$SNAP_ITMP/wd.fds")"
    # Sockets of the watchdog that are TCP (curl's to Keystone and Cinder).
    tcp=0
    for ino in $(sed -n 's/^[0-9]* socket:\[\([0-9]*\)\]$/\1/p' "$SNAP_ITMP/wd.fds"); do
        awk -v i="$ino" '$10 == i { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 && tcp=$((tcp + 1))
    done
    check_num "no TCP socket (curl's)" "$tcp" -eq 0
    check "0 and 1 are its pipes" test "$(sed -n 's/^\([01]\) pipe:.*/\1/p' "$SNAP_ITMP/wd.fds" | tr '\n' ' ')" = "0 1 "
    check "nothing of the catalog" sh -c "! grep -qF '$SNAP_CATALOG' '$SNAP_ITMP/wd.fds'"
    # Beyond 0-2 only what it opened itself after exec: its libvirt
    # connection (one socket) and libvirt's eventfd.
    other=$(awk '$1 > 2 && $2 !~ /^socket:/ && $2 !~ /^anon_inode:/' "$SNAP_ITMP/wd.fds" | wc -l)
    check_num "beyond 0-2 nothing but sockets and libvirt's eventfd" "$other" -eq 0
    socks=$(awk '$1 > 2 && $2 ~ /^socket:/' "$SNAP_ITMP/wd.fds" | wc -l)
    check_num "one socket: its own libvirt connection (no curl socketpair)" "$socks" -eq 1
    sso delete "$(jq -r .uuid "$SNAP_ITMP/s4.json")" >/dev/null 2>&1 || bad "delete the watchdog set"
fi

# ---- 12: agent text ------------------------------------------------------------
begin "a guest agent's error text with ESC comes out escaped"
# A mount the agent lists but cannot open (hidden under another mount): its
# name, with ESC, comes back in the agent's error.
"$G/gexec" "$DOM" 'd=$(printf "/mnt/\033[2Jnope"); mkdir -p "$d" && mount --bind /vol/data1 "$d" && mount -t tmpfs tmpfs /mnt' >/dev/null 2>&1
ss create "$DOM" --quiesce=required --mountpoint "$(printf '/mnt/\033[2Jnope')" >"$SNAP_ITMP/a.out" 2>"$SNAP_ITMP/a.err"
check_num "create fails" $? -eq 1
check "the agent's words are in the error, escaped (stderr)" grep -qF 'failed to open /mnt/\x1b[2Jnope' "$SNAP_ITMP/a.err"
check "... and in the set shown (stdout)" grep -qF 'error:         cannot freeze' "$SNAP_ITMP/a.out"
check "no raw ESC on stdout or stderr" sh -c "! grep -q '$ESC' '$SNAP_ITMP/a.out' '$SNAP_ITMP/a.err'"
aset=$(ss list --json | jq -r '[.[] | select(.state == "error")] | last | .uuid')
ss show "$aset" >"$SNAP_ITMP/show.out" 2>&1
check "show escapes it too" sh -c "grep -qF '\\x1b[2Jnope' '$SNAP_ITMP/show.out' && ! grep -q '$ESC' '$SNAP_ITMP/show.out'"
json_has_esc() { ss show "$aset" --json | jq -r .error | grep -q "$ESC"; }
check "JSON keeps the text exact (jansson escapes it)" json_has_esc

"$G/gexec" "$DOM" 'd=$(printf "/mnt/\033[2Jnope"); umount /mnt; umount "$d"; rmdir "$d"' >/dev/null 2>&1
check "agent reports thawed" test "$(agent_status)" = thawed
ss delete "$aset" >/dev/null 2>&1

# ---- 14b, 10b: check-config ------------------------------------------------------
begin "check-config warns about insecure settings"
cat >"$SNAP_ITMP/insecure.conf" <<CONF
openstack = { enabled = true; use_env = false; insecure = true;
              auth_url = "http://keystone.example:5000/v3"; };
CONF
"$SNAPSET" -c "$SNAP_ITMP/insecure.conf" check-config >"$SNAP_ITMP/c.out" 2>"$SNAP_ITMP/c.err"
check_num "check-config still exits 0" $? -eq 0
check "it warns about openstack.insecure" grep -q "warning: openstack.insecure = true" "$SNAP_ITMP/c.err"
check "it warns about the http:// auth_url" grep -q "warning: openstack.auth_url 'http://keystone.example:5000/v3' is plain http" "$SNAP_ITMP/c.err"
check_num "one line each" "$(wc -l <"$SNAP_ITMP/c.err")" -eq 2
"$SNAPSET" --allow-insecure-config -c "$SNAP_ITMP/insecure.conf" check-config >/dev/null 2>&1
check_num "--allow-insecure-config is a global option" $? -eq 0
check "--help names it" sh -c "'$SNAPSET' --help | grep -q -- --allow-insecure-config"

for id in $(ss list --json | jq -r '.[].uuid'); do sso delete "$id" >/dev/null 2>&1 || bad "delete $id"; done
check "agent reports thawed" test "$(agent_status)" = thawed
check "domain is running" test "$(domstate)" = running
summary
