#!/bin/sh
# tests/integration/test_openrc.sh -- OpenStack from the usual environment
# (issue #15, item 5), on the real guest and the real test cloud. With no
# snapset.conf at all but the demo project's openrc sourced (OS_AUTH_URL,
# OS_USERNAME, ...), a volume attached the way Nova does it is snapshotted
# through Cinder; with `openstack.enabled = false` in a file the same disk
# is copied as a local disk, and snapset says so: on stderr, naming the disk
# and its serial, and in the set's record (`warnings`, shown by `show`).
set -u
. "$(dirname "$0")/lib.sh"

need_cloud # sources openrc-demo: the OS_* variables of the demo user
# No configuration file: SNAPSET_CONF unset, and the system's file (if this
# host has one) replaced by an empty one -- a file without an openstack
# group is the same case as no file.
unset SNAPSET_CONF
noconf=""
if [ -e /etc/snapset/snapset.conf ]; then
    : >"$SNAP_ITMP/empty.conf"
    noconf="-c $SNAP_ITMP/empty.conf"
fi
# snapset with the openrc and no openstack settings of ours.
# shellcheck disable=SC2086 # $noconf is empty or "-c FILE"
ssenv() { ss $noconf "$@"; }
conf=$SNAP_ITMP/off.conf
echo 'openstack = { enabled = false; };' >"$conf"

vol=""
sets=""
detach() {
    [ -n "$vol" ] || return 0
    p=$(echo "$vol" | cut -c1-20)
    # Unmounted and its mountpoint gone: a stale /vol entry would be taken
    # for a disk by the next suite.
    "$G/gexec" "$DOM" "volrelease $p" >/dev/null 2>&1 || :
    "$C/detach-volume" "$DOM" "$vol" --delete >/dev/null 2>&1 || echo "cannot detach $vol"
}
drop_sets() {
    for s in $sets; do
        ssenv delete "$s" >/dev/null 2>&1 || sso delete "$s" >/dev/null 2>&1 || echo "cannot delete set $s"
    done
}
at_exit detach
at_exit drop_sets

begin "attach a volume like Nova"
vol=$("$C/attach-volume" "$DOM" 1 "snapset-it-openrc" 2>"$SNAP_ITMP/attach.err" | tail -n1)
if [ -z "$vol" ]; then cat "$SNAP_ITMP/attach.err"; bad "attach the volume"; summary; exit 1; fi
ok "attached $vol"
# The guest formats and mounts a new disk on /vol/<first 20 characters of
# the serial>: let it finish before the freeze (bounded).
p=$(echo "$vol" | cut -c1-20)
i=0
while [ $i -lt 60 ] && ! "$G/gexec" "$DOM" "test -s /vol/$p/writer.log" >/dev/null 2>&1; do
    sleep 1; i=$((i + 1))
done
check "the guest writes to the volume" "$G/gexec" "$DOM" "test -s /vol/$p/writer.log"

# ---- the openrc alone --------------------------------------------------------
begin "check-config: OpenStack from the environment"
ssenv check-config >"$SNAP_ITMP/cc.out" 2>"$SNAP_ITMP/cc.err"
check_num "check-config exits 0" $? -eq 0
check "it says OpenStack is in use because of OS_AUTH_URL" \
    grep -q "^openstack: in use: OS_AUTH_URL is set" "$SNAP_ITMP/cc.out"
check "it says where the user came from" \
    grep -q "^  openstack.username = $OS_USERNAME (from OS_USERNAME)\$" "$SNAP_ITMP/cc.out"
check "it never prints the password" sh -c "! grep -qF -- '$OS_PASSWORD' '$SNAP_ITMP/cc.out'"

begin "openrc only: the volume is snapshotted through Cinder"
ssenv create "$DOM" --json >"$SNAP_ITMP/env.json" 2>"$SNAP_ITMP/env.err"
rc=$?
check_num "create exits 0" $rc -eq 0
[ $rc -eq 0 ] || { cat "$SNAP_ITMP/env.err"; summary; exit 1; }
env_set=$(jq -r .uuid "$SNAP_ITMP/env.json")
sets="$sets $env_set"
ssenv show --json "$env_set" >"$SNAP_ITMP/env.show.json"
m=$(jq -c --arg v "$vol" '.members[] | select(.serial == $v)' "$SNAP_ITMP/env.show.json")
check "the volume is a member" test -n "$m"
check "its kind is cinder" test "$(echo "$m" | jq -r .kind)" = cinder
check "its volume id is the volume" test "$(echo "$m" | jq -r .volume_id)" = "$vol"
sid=$(echo "$m" | jq -r .location)
snap=$("$C/os" cinder GET "/snapshots/$sid")
check "the Cinder snapshot is available" test "$(echo "$snap" | jq -r .snapshot.status)" = available
check "it is tagged with the set" test "$(echo "$snap" | jq -r .snapshot.metadata.snapset_set)" = "$env_set"
check "no warning about a Cinder-looking disk" \
    sh -c "! grep -q 'looks like a Cinder volume' '$SNAP_ITMP/env.err'"
check "the set records no warning" test "$(jq '.warnings | length' "$SNAP_ITMP/env.show.json")" = 0
check "agent reports thawed" test "$(agent_status)" = thawed
check "delete exits 0" ssenv delete "$env_set"
sets=""
left=$("$C/os" cinder GET /snapshots/detail | jq --arg s "$env_set" '[.snapshots[] | select(.metadata.snapset_set == $s)] | length')
check_num "no snapshot of the set is left in Cinder" "$left" -eq 0

# ---- enabled = false wins over the environment -------------------------------
begin "check-config: enabled = false wins over OS_AUTH_URL"
sso check-config >"$SNAP_ITMP/off.cc" 2>&1
check "it says OpenStack is not in use and why" \
    grep -q "^openstack: not in use: openstack.enabled = false\$" "$SNAP_ITMP/off.cc"

begin "openstack.enabled = false: a local copy, with a warning"
before=$("$C/os" cinder GET /snapshots/detail | jq '.snapshots | length')
sso create "$DOM" --json >"$SNAP_ITMP/off.json" 2>"$SNAP_ITMP/off.err"
rc=$?
check_num "create exits 0" $rc -eq 0
[ $rc -eq 0 ] || { cat "$SNAP_ITMP/off.err"; summary; exit 1; }
off_set=$(jq -r .uuid "$SNAP_ITMP/off.json")
sets="$sets $off_set"
tgt=$(jq -r --arg v "$vol" '.members[] | select(.serial == $v) | .target' "$SNAP_ITMP/off.json")
check "the volume is a member" test -n "$tgt"
check "its kind is local" \
    test "$(jq -r --arg v "$vol" '.members[] | select(.serial == $v) | .kind' "$SNAP_ITMP/off.json")" = local
check "stderr warns, naming the disk and its serial" grep -qF \
    "snapset: warning: disk $tgt (serial $vol) looks like a Cinder volume, but OpenStack is not in use (openstack.enabled = false): it is copied as a local disk" \
    "$SNAP_ITMP/off.err"
check_num "one warning line" "$(grep -c 'looks like a Cinder volume' "$SNAP_ITMP/off.err")" -eq 1
sso show --json "$off_set" >"$SNAP_ITMP/off.show.json"
check "the set records the warning" \
    sh -c "jq -r '.warnings[]' '$SNAP_ITMP/off.show.json' | grep -qF 'disk $tgt (serial $vol) looks like a Cinder volume'"
sso show "$off_set" >"$SNAP_ITMP/off.show" 2>&1
check "show prints it" sh -c "grep -q '^warnings: ' '$SNAP_ITMP/off.show' && grep -qF 'disk $tgt (serial $vol)' '$SNAP_ITMP/off.show'"
after=$("$C/os" cinder GET /snapshots/detail | jq '.snapshots | length')
check_num "no Cinder snapshot was made" "$after" -eq "$before"
check "agent reports thawed" test "$(agent_status)" = thawed
check "domain is running" test "$(domstate)" = running
check "delete exits 0" sso delete "$off_set"
sets=""
summary
