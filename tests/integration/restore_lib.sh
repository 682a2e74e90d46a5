# tests/integration/restore_lib.sh -- shared by test_restore.sh and
# test_spawn.sh (sourced before lib.sh). Restore stops its VM, so these
# tests never use the shared guest: they bring up their own domain
# ($RESTORE_DOM, default snaprestore) on its own images
# ($RESTORE_WORK, default <repo>/work-restore), a catalog of their own under
# /tmp, and a Cinder volume of their own; and they remove all of it at the
# end (KEEP_GUEST=1 leaves the guest running).

r_repo=$(cd "$(dirname "$0")/../.." && pwd)
DOM=${RESTORE_DOM:-snaprestore}
SNAP_WORK=${RESTORE_WORK:-$r_repo/work-restore}
export DOM SNAP_WORK
mkdir -p "$SNAP_WORK/tmp"
SNAP_CATALOG=$(mktemp -d /tmp/snapset-it-restore.XXXXXX)
OS_STATE=${OS_STATE:-/var/lib/snapset-cloud}
CEPH_CONF=$OS_STATE/ceph/ceph.conf
r_vols=""     # volumes the test made (Cinder ids), deleted at the end
r_doms=""     # domains the test made, removed at the end
r_files=""    # files the test made outside the catalog

vsh() { timeout 60 virsh -q -c qemu:///system "$@"; }

# The shared guest's debs are the same: link them instead of downloading.
r_seed_debs() {
    [ -d "$r_repo/work/debs" ] || return 0
    [ -e "$SNAP_WORK/debs/selected" ] && return 0
    mkdir -p "$SNAP_WORK/debs"
    cp -al "$r_repo/work/debs/." "$SNAP_WORK/debs/" 2>/dev/null || :
}

# Brings up our guest; prints setup's last line. A run that died may have
# left volumes on it: they are ours (so is the domain), and they go.
r_guest_up() {
    r_seed_debs
    if vsh domblklist "$DOM" 2>/dev/null | awk '$2 ~ /^volumes\//' | grep -q .; then
        vsh destroy "$DOM" >/dev/null 2>&1
        for t in $(vsh domblklist "$DOM" | awk '$2 ~ /^volumes\// { print $1 }'); do
            v=$(vol_of "$DOM" "$t")
            vsh detach-disk "$DOM" "$t" --config >/dev/null 2>&1
            [ -z "$v" ] || r_vol_delete "$v" >/dev/null 2>&1 || :
        done
    fi
    "$r_repo/tests/guest/setup" >"$SNAP_WORK/tmp/setup.log" 2>&1 || {
        cat "$SNAP_WORK/tmp/setup.log"
        return 1
    }
    tail -n 1 "$SNAP_WORK/tmp/setup.log"
}

# gexec in our guest, quiet on errors.
gx() { "$G/gexec" "$DOM" "$1" 2>/dev/null; }

# wait_agent DOM SECONDS: until the guest agent answers.
wait_agent() {
    _i=0
    while [ $_i -lt $(($2 * 5)) ]; do
        vsh qemu-agent-command --timeout 2 "$1" '{"execute":"guest-ping"}' >/dev/null 2>&1 && return 0
        sleep 0.2
        _i=$((_i + 1))
    done
    return 1
}

# The id of the Cinder volume behind disk TARGET of domain DOM (its serial).
vol_of() { # vol_of DOM TARGET
    vsh dumpxml --inactive "$1" | xmllint --xpath "string(//disk[target/@dev='$2']/serial)" - 2>/dev/null
}

# The mount point of the volume behind disk vdd in the guest.
vol_dir() { echo "/vol/$(vol_of "$DOM" "${1:-vdd}" | cut -c1-20)"; }

# wait_mounts SECONDS DIR...: until every DIR is a mounted volume with a
# writer log in the guest.
wait_mounts() {
    _s=$1
    shift
    _i=0
    while [ $_i -lt $((_s * 2)) ]; do
        _ok=1
        for _d in "$@"; do
            gx "grep -q ' $_d ' /proc/mounts && test -s $_d/writer.log" >/dev/null || _ok=0
        done
        [ $_ok = 1 ] && return 0
        sleep 0.5
        _i=$((_i + 1))
    done
    return 1
}

# Attaches a new 1 GiB volume like Nova; sets $vol to its id (and
# remembers it for the cleanup).
r_attach() { # r_attach NAME
    vol=$("$r_repo/tests/cloud/attach-volume" "$DOM" 1 "$1" 2>"$SNAP_ITMP/attach.err" | tail -n 1)
    [ -n "$vol" ] || { cat "$SNAP_ITMP/attach.err" >&2; return 1; }
    r_vols="$r_vols $vol"
}

# Content of the image on the host: sha256 of its raw form.
img_sum() { # img_sum IMAGE [FORMAT]
    _f=${2:-$(qemu-img info -U --output=json "$1" | jq -r .format)}
    _t=$(mktemp "$SNAP_WORK/tmp/sum.XXXXXX")
    qemu-img convert -U -f "$_f" -O raw "$1" "$_t" && sha256sum <"$_t" | cut -c1-64
    rm -f "$_t"
}
rbd_url() { # rbd_url VOLUME [SNAPSHOT]
    echo "rbd:volumes/volume-$1${2:+@snapshot-$2}:id=admin:conf=$CEPH_CONF"
}

# Detaches volume V in Cinder from whatever holds it (its domain is
# stopped or gone: tests/cloud/detach-volume needs a running one), then
# deletes its snapshots and it, waiting until they are gone.
r_vol_delete() { # r_vol_delete V
    _os=$r_repo/tests/cloud/os
    _info=$("$_os" cinder GET "/volumes/$1" 2>/dev/null) || return 0
    _conn='{"host":"127.0.0.1","ip":"127.0.0.1","platform":"x86_64","os_type":"linux","multipath":false,"do_local_attach":false}'
    case $(echo "$_info" | jq -r .volume.status) in
    in-use | attaching | reserved)
        "$_os" cinder POST "/volumes/$1/action" "{\"os-terminate_connection\":{\"connector\":$_conn}}" >/dev/null
        _att=$(echo "$_info" | jq -r '.volume.attachments[0].attachment_id // empty')
        if [ -n "$_att" ]; then
            "$_os" cinder POST "/volumes/$1/action" "{\"os-detach\":{\"attachment_id\":\"$_att\"}}" >/dev/null
        else
            "$_os" cinder POST "/volumes/$1/action" '{"os-unreserve":{}}' >/dev/null
        fi ;;
    esac
    _i=0
    while [ $_i -lt 120 ] && [ "$("$_os" cinder GET "/volumes/$1" | jq -r .volume.status)" != available ]; do
        sleep 0.5; _i=$((_i + 1))
    done
    for _s in $("$_os" cinder GET "/snapshots?volume_id=$1" | jq -r '.snapshots[].id'); do
        "$_os" cinder DELETE "/snapshots/$_s" >/dev/null
        _i=0
        while [ $_i -lt 120 ] && "$_os" cinder GET "/snapshots/$_s" >/dev/null 2>&1; do
            sleep 0.5; _i=$((_i + 1))
        done
    done
    "$_os" cinder DELETE "/volumes/$1" >/dev/null || return 1
    _i=0
    while [ $_i -lt 120 ] && "$_os" cinder GET "/volumes/$1" >/dev/null 2>&1; do
        sleep 0.5; _i=$((_i + 1))
    done
    ! "$_os" cinder GET "/volumes/$1" >/dev/null 2>&1
}

# Removes a domain the test spawned: the domain, its volumes, its files.
r_drop_domain() { # r_drop_domain NAME
    _vols=$(vsh dumpxml --inactive "$1" 2>/dev/null | sed -n 's/.*<serial>\([0-9a-f-]\{36\}\)<\/serial>.*/\1/p')
    vsh destroy "$1" >/dev/null 2>&1
    vsh undefine "$1" --nvram --checkpoints-metadata >/dev/null 2>&1 ||
        vsh undefine "$1" --checkpoints-metadata >/dev/null 2>&1
    for _v in $_vols; do
        r_vol_delete "$_v" || echo "cleanup: cannot delete volume $_v of $1"
    done
    rm -f "$SNAP_WORK/img/$1-"* "$SNAP_WORK/img/$1.console.log"
    ! vsh domuuid "$1" >/dev/null 2>&1
}

# Removes everything the test made: spawned domains (and their files and
# volumes), volumes, sets, our guest (KEEP_GUEST=1: left shut off, without
# the test's volumes).
r_cleanup() {
    set +e
    # Stopped, every detach below is a definition change: no hot-unplug.
    vsh destroy "$DOM" >/dev/null 2>&1
    for t in $(vsh domblklist "$DOM" 2>/dev/null | awk '$2 ~ /^volumes\// { print $1 }'); do
        vsh detach-disk "$DOM" "$t" --config >/dev/null 2>&1 ||
            echo "cleanup: cannot detach disk $t of $DOM"
    done
    for d in $r_doms; do r_drop_domain "$d"; done
    # Volumes made from the sets' snapshots (restore, spawn, volume-from)
    # go before the sets: Cinder keeps a snapshot that has clones.
    sets_json=$(printf '%s\n' $r_made_sets | jq -R . | jq -sc .)
    for v in $("$r_repo/tests/cloud/os" cinder GET /volumes/detail 2>/dev/null | jq -r --argjson s "$sets_json" \
        '.volumes[] | select(.metadata.snapset_from_set as $x | $x != null and ($s | index($x)) != null) | .id'); do
        r_vol_delete "$v" || echo "cleanup: cannot delete volume $v"
    done
    for s in $r_made_sets; do
        ss -c "$conf" delete "$s" >/dev/null 2>&1 || echo "cleanup: cannot delete set $s"
    done
    for v in $r_vols; do
        r_vol_delete "$v" || echo "cleanup: cannot delete volume $v"
    done
    for f in $r_files; do rm -f "$f"; done
    rm -rf "$SNAP_CATALOG"
    if [ "${KEEP_GUEST:-0}" != 1 ]; then
        KEEP_DAEMONS=1 "$r_repo/tests/guest/teardown" >/dev/null 2>&1 ||
            echo "cleanup: teardown of $DOM failed"
    fi
}
r_made_sets=""
