#!/bin/sh
# tests/integration/test_faults.sh -- the fault matrix: snapset killed
# (SIGKILL) at every step, or stuck inside the frozen window, on the real
# guest with a real Cinder volume attached. For every row, right away: the
# guest is running and thawed (the watchdog released it); after
# `snapset recover`: no set left 'creating', nothing unaccounted for (no
# copy on disk and no Cinder snapshot of a failed set), the catalog parses.
#
# Needs a build with -DSNAP_FAULTS=ON (scripts/test's sanitized build).
set -u
. "$(dirname "$0")/lib.sh"

OS_STATE=${OS_STATE:-/var/lib/snapset-cloud}
C=$repo/tests/cloud
conf=$SNAP_ITMP/snapset.conf
vol=""
if [ -r "$OS_STATE/openrc-demo" ]; then
    . "$OS_STATE/openrc-demo"
    echo 'openstack = { enabled = true; delete_timeout_ms = 30000; };' >"$conf"
else
    echo '# no test cloud: local disks only' >"$conf"
fi
sso() { ss -c "$conf" "$@"; }
cleanup() {
    if [ -n "$vol" ]; then
        "$G/gexec" "$DOM" "umount /vol/$(echo "$vol" | cut -c1-20)" >/dev/null 2>&1 || :
        "$C/detach-volume" "$DOM" "$vol" --delete >/dev/null 2>&1 || echo "cannot detach $vol"
    fi
    cleanup_tmp
}
trap cleanup EXIT

if [ -r "$OS_STATE/openrc-demo" ]; then
    vol=$("$C/attach-volume" "$DOM" 1 snapset-faults 2>/dev/null | tail -n1)
    i=0
    while [ $i -lt 60 ] && ! "$G/gexec" "$DOM" "test -s /vol/$(echo "$vol" | cut -c1-20)/writer.log" >/dev/null 2>&1; do
        sleep 1; i=$((i + 1))
    done
fi

# Is the guest released? Retried briefly: the agent may still be answering
# the watchdog's thaw.
released() {
    i=0
    while [ $i -lt 20 ]; do
        [ "$(domstate)" = running ] && [ "$(agent_status)" = thawed ] && return 0
        sleep 0.5; i=$((i + 1))
    done
    return 1
}

cinder_left() { # snapshots in Cinder of sets the catalog says failed
    [ -n "$vol" ] || { echo 0; return; }
    errs=$(sso list --json | jq -r '[.[] | select(.state == "error") | .uuid] | join(" ")')
    "$C/os" cinder GET /snapshots/detail | jq --arg e "$errs" \
        '[.snapshots[] | select(.metadata.snapset_set as $s | $s != null and ($e | split(" ") | index($s)))] | length'
}

for point in after-journal after-freeze after-pause before-request-journal after-request \
    after-backup-begin during-wait after-resume after-thaw during-catalog-write; do
    begin "SIGKILL $point"
    SNAPSET_FAULT=$point:kill sso create "$DOM" --pause >/dev/null 2>"$SNAP_ITMP/err"
    rc=$?
    check_num "killed" "$rc" -eq 137
    [ "$rc" -eq 137 ] || cat "$SNAP_ITMP/err"
    check "guest running and thawed at once" released
    sso recover >"$SNAP_ITMP/rec" 2>&1
    check "recover exits 0" test $? -eq 0
    check "no set left creating" test "$(sso list --json | jq '[.[] | select(.state == "creating")] | length')" = 0
    check "no copy of a failed set on disk" \
        test -z "$(sso list --json | jq -r '.[] | select(.state == "error") | .dir' | while read -r d; do [ -e "$d" ] && echo "$d"; done)"
    check_num "no Cinder snapshot of a failed set" "$(cinder_left)" -eq 0
    check "catalog parses" sh -c "'$SNAPSET' --catalog-dir '$SNAP_CATALOG' list --json | jq -e . >/dev/null"
    check "no temporary left in the catalog" test -z "$(find "$SNAP_CATALOG/sets" -name '*.tmp.*')"
done

begin "stuck inside the frozen window"
t0=$(date +%s%N)
# exec: $! must be snapset itself, not a subshell, for the kill below.
(SNAPSET_FAULT=after-freeze:hang exec "$SNAPSET" --catalog-dir "$SNAP_CATALOG" \
    -c "$conf" --frozen-timeout 3000 create "$DOM" --pause \
    >/dev/null 2>"$SNAP_ITMP/hang.err") &
pid=$!
sleep 1
check "the guest is frozen while we hang" test "$(agent_status)" = frozen
i=0
while [ $i -lt 40 ] && [ "$(agent_status)" != thawed ]; do sleep 0.25; i=$((i + 1)); done
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
check "the watchdog thawed the guest" test "$(agent_status)" = thawed
check_num "within the frozen deadline plus slack" "$ms" -le 8000
check "domain running" test "$(domstate)" = running
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
sso recover >/dev/null 2>&1
check "recovered" test "$(sso list --json | jq '[.[] | select(.state == "creating")] | length')" = 0
check_num "no Cinder snapshot of a failed set" "$(cinder_left)" -eq 0

begin "a good set after all that"
sso create "$DOM" --json >"$SNAP_ITMP/good.json" 2>&1
check "create works" test "$(jq -r .state "$SNAP_ITMP/good.json")" = available

begin "delete every set"
for s in $(sso list --json | jq -r '.[].uuid'); do sso delete "$s" >/dev/null || bad "delete $s"; done
check "catalog empty" test -z "$(find "$SNAP_CATALOG/sets" -mindepth 1)"
[ -z "$vol" ] || check_num "no snapset snapshot left in Cinder" \
    "$("$C/os" cinder GET /snapshots/detail | jq --arg v "$vol" '[.snapshots[] | select(.volume_id == $v)] | length')" -eq 0

summary
