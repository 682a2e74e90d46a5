# tests/integration/lib.sh -- a tiny harness for the integration tests:
# named checks, a pass/fail count, and the snapset command under test.
# Sourced by each test_*.sh; SNAPSET and SNAP_CATALOG come from scripts/test
# (or default to the build tree and a fresh temporary catalog).

repo=$(cd "$(dirname "$0")/../.." && pwd)
SNAPSET=${SNAPSET:-$repo/build/coordinator/cli/snapset}
DOM=${DOM:-snapdemo}
G=$repo/tests/guest
SNAP_WORK=${SNAP_WORK:-$repo/work}
export SNAP_WORK
SNAP_CATALOG=${SNAP_CATALOG:-$(mktemp -d "$SNAP_WORK/tmp/catalog.XXXXXX")}
SNAP_ITMP=$(mktemp -d "$SNAP_WORK/tmp/it.XXXXXX")
passed=0
failed=0
current=""

# ---- cleanup: one list, one trap --------------------------------------------
# at_exit CMD...: CMD (a command line, run with eval in this shell, so it
# sees the suite's variables and may wait for its children) runs when the
# suite ends: at its end, at an exit, on SIGINT or SIGTERM. The last one
# registered runs first, like undo steps; one that fails is named on stdout
# and the others still run. Suites register here and never set a trap of
# their own: a second `trap ... EXIT` silently drops the first one's cleanup.
at_exit_n=0
at_exit() {
    at_exit_n=$((at_exit_n + 1))
    eval "at_exit_$at_exit_n=\$*"
}
run_at_exit() {
    at_exit_rc=$?
    while [ "$at_exit_n" -gt 0 ]; do
        eval "at_exit_cmd=\$at_exit_$at_exit_n"
        unset "at_exit_$at_exit_n"
        at_exit_n=$((at_exit_n - 1))
        eval "$at_exit_cmd" || echo "cleanup: '$at_exit_cmd' failed (status $?)"
    done
    exit "$at_exit_rc"
}
trap run_at_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cleanup_tmp() { rm -rf "$SNAP_ITMP"; }
at_exit cleanup_tmp

# snapset with the test catalog; extra options before the command go first.
ss() { "$SNAPSET" --catalog-dir "$SNAP_CATALOG" "$@"; }
# ... and with the suite's configuration file, $conf.
sso() { ss -c "$conf" "$@"; }

# ---- the test cloud (tests/cloud/setup) -------------------------------------
OS_STATE=${OS_STATE:-/var/lib/snapset-cloud}
CEPH_CONF=$OS_STATE/ceph/ceph.conf
C=$repo/tests/cloud
# need_cloud: the demo project's credentials (openrc-demo) in the
# environment; without a test cloud the suite ends here, one check failed.
need_cloud() {
    if [ ! -r "$OS_STATE/openrc-demo" ]; then
        begin "cloud"; bad "no test cloud: run tests/cloud/setup"; summary; exit 1
    fi
    . "$OS_STATE/openrc-demo"
}
# cloud_conf FILE [SETTING...]: writes a snapset.conf with OpenStack enabled
# to FILE, each SETTING ("delete_timeout_ms = 30000") in its openstack group;
# a suite appends other groups (http, policies) to FILE itself.
cloud_conf() {
    _f=$1
    shift
    {
        printf 'openstack = { enabled = true;'
        for _s in "$@"; do printf ' %s;' "$_s"; done
        printf ' };\n'
    } >"$_f"
}

begin() { current=$1; echo "--- $current"; }
ok() { passed=$((passed + 1)); echo "ok   $current: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $current: $*"; }
check() { # check "what" command...
    what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
# Compare numbers: check_num "what" A OP B
check_num() {
    if [ "$2" "$3" "$4" ]; then ok "$1 ($2 $3 $4)"; else bad "$1 ($2 $3 $4)"; fi
}

agent_status() {
    virsh -c qemu:///system qemu-agent-command "$DOM" \
        '{"execute":"guest-fsfreeze-status"}' 2>&1 | jq -r '.return' 2>/dev/null
}
domstate() { virsh -c qemu:///system domstate "$DOM" 2>&1 | head -n1; }
# Is the guest released? Running and its agent says thawed, retried for
# 10 s: the agent may still be answering the watchdog's thaw.
released() {
    i=0
    while [ $i -lt 20 ]; do
        [ "$(domstate)" = running ] && [ "$(agent_status)" = thawed ] && return 0
        sleep 0.5; i=$((i + 1))
    done
    return 1
}
# attach_volumes NAME N: attaches N new Cinder volumes to $DOM the way Nova
# does (named NAME-1 ... NAME-N), adds their ids to $vols, and waits until
# the guest's writer writes to each (it formats and mounts a new disk on
# /vol/<the first 20 characters of the volume id>, the serial the guest
# sees). The volumes are released in the guest, detached and deleted at
# exit. A volume that cannot be attached ends the suite. ATTACH_APIS (a
# list: the i-th volume takes the i-th word, the last one repeats; default
# legacy) picks the attach flow of each: legacy or attachments (see
# tests/cloud/attach-volume).
vols=""
detach_all() {
    for v in $vols; do
        p=$(echo "$v" | cut -c1-20)
        # Unmounted and its mountpoint gone: a stale /vol entry would be
        # taken for a disk by the next run.
        "$G/gexec" "$DOM" "volrelease $p" >/dev/null 2>&1 || :
        "$C/detach-volume" "$DOM" "$v" --delete >/dev/null 2>&1 || echo "cannot detach $v"
    done
}
attach_volumes() {
    [ -n "${_detach_hooked:-}" ] || { at_exit detach_all; _detach_hooked=1; }
    begin "attach $2 volumes like Nova (${ATTACH_APIS:-legacy})"
    _i=1
    while [ "$_i" -le "$2" ]; do
        # shellcheck disable=SC2086
        _api=$(set -- ${ATTACH_APIS:-legacy}; [ "$_i" -le $# ] && shift $((_i - 1)) || shift $(($# - 1)); echo "$1")
        _v=$(ATTACH_API=$_api "$C/attach-volume" "$DOM" 1 "$1-$_i" 2>"$SNAP_ITMP/attach.err" | tail -n1)
        if [ -z "$_v" ]; then cat "$SNAP_ITMP/attach.err"; bad "attach volume $_i"; summary; exit 1; fi
        vols="$vols $_v"
        _i=$((_i + 1))
    done
    ok "attached$vols"
    _i=0
    while [ $_i -lt 60 ]; do
        _n=0
        for _v in $vols; do
            "$G/gexec" "$DOM" "test -s /vol/$(echo "$_v" | cut -c1-20)/writer.log" >/dev/null 2>&1 &&
                _n=$((_n + 1))
        done
        [ "$_n" -eq "$2" ] && break
        sleep 1; _i=$((_i + 1))
    done
    check_num "the guest writes to every volume" "$_n" -eq "$2"
}
blklist() { virsh -c qemu:///system domblklist "$DOM" --details | awk 'NF' ; }

# Guest uptime in centiseconds-free seconds ("123.45").
guest_uptime() { "$G/gexec" "$DOM" 'cut -d" " -f1 /proc/uptime'; }

summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
