#!/bin/sh
# tests/integration/test_faults.sh -- the fault matrix: snapset killed
# (SIGKILL) at every step, or stuck inside the frozen window, on the real
# guest with a real Cinder volume attached. For every row, right away: the
# guest is running and thawed (the watchdog released it); after
# `snapset recover`: no set left 'creating', nothing unaccounted for (no
# copy on disk and no Cinder snapshot of a failed set), the catalog parses.
#
# Then real failures timed inside the frozen window by a fault point's
# "run=" action (SNAPSET_FAULT=<point>:run=COMMAND runs COMMAND there):
#   - qemu-ga stopped (SIGSTOP) inside the guest after the freeze: the thaw
#     cannot be answered; `recover` thaws it once the agent continues;
#   - a foreign libvirt backup job: already running (refused before the
#     freeze), or started right after the freeze (libvirt's own error on
#     our backup job, the watchdog releases the guest at frozen_ms);
#   - Cinder 413: the project's snapshot quota filled after snapshot's own
#     check (lowered with the admin credentials, restored afterwards);
#   - Cinder 500: MariaDB made read-only under cinder-api (a real
#     OperationalError, HTTP 500 at once); MariaDB stopped (SIGSTOP): only a
#     timeout can be had that way, bounded by openstack.request_timeout_ms.
# At the end a table: one line per row, a column per kind of check.
# FAULT_ROWS="kill hang agent libvirt quota db" picks rows (default all).
#
# Needs a build with -DSNAP_FAULTS=ON (scripts/test's sanitized build).
set -u
. "$(dirname "$0")/lib.sh"

conf=$SNAP_ITMP/snapset.conf
vol=""
if [ -r "$OS_STATE/openrc-demo" ]; then
    . "$OS_STATE/openrc-demo"
    cloud_conf "$conf" "delete_timeout_ms = 30000"
else
    echo '# no test cloud: local disks only' >"$conf"
fi
FAULT_ROWS=${FAULT_ROWS:-kill hang agent libvirt quota db}
want() { case " $FAULT_ROWS " in *" $1 "*) return 0 ;; esac; return 1; }
V="virsh -c qemu:///system"
DB="mariadb --no-defaults -S $OS_STATE/run/mysqld.sock -u root"
svc_pid() { read -r p _ <"$OS_STATE/run/$1.pid" && echo "$p"; }
svc_signal() { /bin/kill -s "$1" -- "-$(svc_pid "$2")"; } # its process group
filler="" quota_orig="" project="" stopped="" db_ro=false foreign_job=false
cleanup() {
    for s in $stopped; do svc_signal CONT "$s" 2>/dev/null; done
    ! $db_ro || $DB -e 'SET GLOBAL read_only = 0' 2>/dev/null
    ! $foreign_job || $V domjobabort "$DOM" >/dev/null 2>&1
    [ -z "$quota_orig" ] || "$C/os" --admin cinder PUT "/os-quota-sets/$project" \
        "{\"quota_set\":{\"snapshots\":$quota_orig}}" >/dev/null 2>&1 || echo "cannot restore the quota"
    if [ -n "$filler" ]; then
        for s in $("$C/os" cinder GET /snapshots/detail 2>/dev/null |
            jq -r --arg v "$filler" '.snapshots[] | select(.volume_id == $v) | .id'); do
            "$C/os" cinder DELETE "/snapshots/$s" >/dev/null 2>&1
        done
        i=0
        while [ $i -lt 30 ] && "$C/os" cinder GET /snapshots/detail 2>/dev/null |
            jq -e --arg v "$filler" '[.snapshots[] | select(.volume_id == $v)] | length > 0' >/dev/null; do
            sleep 1; i=$((i + 1))
        done
        "$C/os" cinder DELETE "/volumes/$filler" >/dev/null 2>&1 || echo "cannot delete $filler"
    fi
    "$G/gexec" "$DOM" 'rm -f /.fzprobe /run/fz.*' >/dev/null 2>&1
    if [ -n "$vol" ]; then
        "$G/gexec" "$DOM" "volrelease $vol" >/dev/null 2>&1 || :
        "$C/detach-volume" "$DOM" "$vol" --delete >/dev/null 2>&1 || echo "cannot detach $vol"
    fi
}
at_exit cleanup

if [ -r "$OS_STATE/openrc-demo" ]; then
    vol=$("$C/attach-volume" "$DOM" 1 snapset-faults 2>/dev/null | tail -n1)
    i=0
    while [ $i -lt 60 ] && ! "$G/gexec" "$DOM" "test -s /vol/$(echo "$vol" | cut -c1-20)/writer.log" >/dev/null 2>&1; do
        sleep 1; i=$((i + 1))
    done
fi


cinder_left() { # snapshots in Cinder of sets the catalog says failed
    [ -n "$vol" ] || { echo 0; return; }
    errs=$(sso list --json | jq -r '[.[] | select(.state == "error") | .uuid] | join(" ")')
    "$C/os" cinder GET /snapshots/detail | jq --arg e "$errs" \
        '[.snapshots[] | select(.metadata.snapset_set as $s | $s != null and ($e | split(" ") | index($s)))] | length'
}

# ---- the table: one line per row, one column per kind of check ---------
# row NAME starts a row; col COLUMN CHECK... runs a check and marks the
# column FAIL if it failed. Columns: fail (killed/failed as expected),
# rel (guest released), rec (recovered), left (nothing left), cat
# (catalog ok).
table=$SNAP_ITMP/table
tfmt='%-50s | %-26s | %-14s | %-9s | %-12s | %s\n'
row_name=""
row_end() {
    [ -n "$row_name" ] || return 0
    printf "$tfmt" "$row_name" "$r_fail" "$r_rel" "$r_rec" "$r_left" "$r_cat" >>"$table"
    row_name=""
}
row() {
    row_end
    row_name=$1 r_fail=ok r_rel=ok r_rec=ok r_left=ok r_cat=ok
    begin "$1"
}
col() {
    c=$1; shift
    f0=$failed
    "$@"
    [ "$failed" -eq "$f0" ] || eval "r_$c=FAIL"
}
no_creating() { test "$(sso list --json | jq '[.[] | select(.state == "creating")] | length')" = 0; }
# After a row: recover, then everything the matrix promises.
recovered_and_clean() {
    sso recover >"$SNAP_ITMP/rec" 2>&1
    rc=$?
    col rec check "recover exits 0" test $rc -eq 0
    [ $rc -eq 0 ] || cat "$SNAP_ITMP/rec"
    grep "journal never recorded\|perhaps still" "$SNAP_ITMP/rec" | sed 's/^/     recover: /'
    col rec check "no set left creating" no_creating
    col rel check "guest running and thawed after recover" released
    col left check "no copy of a failed set on disk" \
        test -z "$(sso list --json | jq -r '.[] | select(.state == "error") | .dir' | while read -r d; do [ -e "$d" ] && echo "$d"; done)"
    col left check_num "no Cinder snapshot of a failed set" "$(cinder_left)" -eq 0
    col cat check "catalog parses" sh -c "'$SNAPSET' --catalog-dir '$SNAP_CATALOG' list --json | jq -e . >/dev/null"
    col cat check "no temporary left in the catalog" test -z "$(find "$SNAP_CATALOG/sets" -name '*.tmp.*')"
}
# How long the guest was frozen: a poller asks the agent every 0.2 s (1 s
# bound per answer) from start_poll to stop_poll; frozen_for prints the ms
# from the first 'frozen' answer to the first 'thawed' after it.
start_poll() {
    (while :; do
        st=$($V qemu-agent-command "$DOM" --timeout 1 '{"execute":"guest-fsfreeze-status"}' 2>/dev/null |
            jq -r .return 2>/dev/null)
        echo "$(date +%s%3N) ${st:-noanswer}"
        sleep 0.2
    done) >"$SNAP_ITMP/poll" 2>/dev/null &
    poller=$!
}
stop_poll() { kill "$poller" 2>/dev/null; wait "$poller" 2>/dev/null; }
frozen_for() {
    awk '$2 == "frozen" && !f { f = $1 } f && $2 == "thawed" { print $1 - f; t = 1; exit }
        END { if (!t) print "?" }' "$SNAP_ITMP/poll"
}
# A window shorter than the poller sees: the set's own measure (freeze to
# confirmed thaw).
frozen_of() { # JSON of the set
    fz=$(frozen_for)
    [ "$fz" != "?" ] || fz="$(jq -r '.freeze_window_ms // "?"' "$1") (snapset's measure)"
    echo "$fz"
}
# The one error line of a failed command (warnings and fault notes aside).
err_lines() { grep -v '^snapset: warning:\|^snapset: fault \|^snapset: watchdog:' "$1"; }
one_line() { test "$(err_lines "$1" | wc -l)" -eq 1; }

if want kill; then
for point in after-journal after-freeze after-pause before-request-journal after-request \
    after-backup-begin during-wait after-resume after-thaw during-catalog-write; do
    row "SIGKILL $point"
    SNAPSET_FAULT=$point:kill sso create "$DOM" --pause >/dev/null 2>"$SNAP_ITMP/err"
    rc=$?
    col fail check_num "killed" "$rc" -eq 137
    [ "$rc" -eq 137 ] || cat "$SNAP_ITMP/err"
    col rel check "guest running and thawed at once" released
    recovered_and_clean
done
fi

if want hang; then
row "stuck inside the frozen window"
t0=$(date +%s%N)
# exec: $! must be snapset itself, not a subshell, for the kill below.
(SNAPSET_FAULT=after-freeze:hang exec "$SNAPSET" --catalog-dir "$SNAP_CATALOG" \
    -c "$conf" --frozen-timeout 3000 create "$DOM" --pause \
    >/dev/null 2>"$SNAP_ITMP/hang.err") &
pid=$!
sleep 1
col fail check "the guest is frozen while we hang" test "$(agent_status)" = frozen
i=0
while [ $i -lt 40 ] && [ "$(agent_status)" != thawed ]; do sleep 0.25; i=$((i + 1)); done
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
col rel check "the watchdog thawed the guest" test "$(agent_status)" = thawed
col rel check_num "within the frozen deadline plus slack" "$ms" -le 8000
col rel check "domain running" test "$(domstate)" = running
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
recovered_and_clean
fi

# ---- real failures inside the window (fault points with run=) -------------
# conf2: Cinder calls bounded by 3 s, so that a stopped database cannot
# hold the window for long.
conf2=$SNAP_ITMP/snapset2.conf
sed 's/delete_timeout_ms = 30000;/delete_timeout_ms = 30000; request_timeout_ms = 3000;/' "$conf" >"$conf2"
sso2() { ss -c "$conf2" "$@"; }

if want agent; then
row "qemu-ga stopped after the freeze"
# In the guest: probe the root file system every 0.2 s; once a probe write
# blocks (frozen), stop qemu-ga, continue it 15 s later. Started before the
# create: while frozen the agent refuses guest-exec. On the host, the fault
# point waits until the agent stops answering, then snapset goes on.
"$G/gexec" "$DOM" "p=\$(pidof qemu-ga); rm -f /run/fz.*; (i=0; while [ \$i -lt 300 ]; do
    rm -f /run/fz.ok; (: >/.fzprobe && : >/run/fz.ok) & sleep 0.2
    if [ ! -e /run/fz.ok ]; then sleep 0.3; if [ ! -e /run/fz.ok ]; then
        kill -STOP \$p; sleep 15; kill -CONT \$p; exit 0; fi; fi
    i=\$((i + 1)); done) >/dev/null 2>&1 &" >/dev/null
cat >"$SNAP_ITMP/agent-gone" <<EOF
#!/bin/sh
i=0
while [ \$i -lt 40 ]; do
    $V qemu-agent-command $DOM --timeout 1 '{"execute":"guest-ping"}' >/dev/null 2>&1 || exit 0
    sleep 0.25; i=\$((i + 1))
done
exit 1
EOF
chmod +x "$SNAP_ITMP/agent-gone"
start_poll
t0=$(date +%s%N)
SNAPSET_FAULT="after-freeze:run=$SNAP_ITMP/agent-gone" sso --agent-timeout 2000 \
    --frozen-timeout 20000 create "$DOM" --pause --json >"$SNAP_ITMP/a.json" 2>"$SNAP_ITMP/a.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
col fail check_num "create fails" $rc -eq 1
col fail check "the agent was stopped inside the window" grep -q "fault command at after-freeze exited with 0" "$SNAP_ITMP/a.err"
col fail check "one clear error line" one_line "$SNAP_ITMP/a.err"
col fail check "it says the guest may be left frozen" grep -q "^snapset: domain '$DOM' may be left frozen: " "$SNAP_ITMP/a.err"
err_lines "$SNAP_ITMP/a.err" | sed 's/^/     /'
col fail check_num "bounded: the thaw attempts are (3 x 2 s)" "$ms" -le 20000
col rel check "not left paused by us" test "$(domstate)" = running
col fail check "the set is recorded as error" test "$(jq -r .state "$SNAP_ITMP/a.json")" = error
col fail check "its journal says the guest may be frozen" \
    test "$(jq -r '[.journal.freeze_attempted, .journal.thawed, .journal.resumed] | map(tostring) | join(" ")' "$SNAP_ITMP/a.json")" = "true false true"
a_set=$(jq -r .uuid "$SNAP_ITMP/a.json")
i=0 # the agent continues by itself 15 s after it was stopped
while [ $i -lt 40 ] && ! $V qemu-agent-command "$DOM" --timeout 1 '{"execute":"guest-ping"}' >/dev/null 2>&1; do
    sleep 0.5; i=$((i + 1))
done
col rel check "the agent answers again" $V qemu-agent-command "$DOM" --timeout 2 '{"execute":"guest-ping"}'
echo "     after SIGCONT, before recover, the agent says: $(agent_status)"
recovered_and_clean
stop_poll
col rec check "the journal now says thawed" test "$(sso show "$a_set" --json | jq -r .journal.thawed)" = true
col rec check "the set keeps its cause" grep -q "may be left frozen" "$SNAP_CATALOG/sets/$a_set.json"
echo "     create failed after $ms ms; the guest was frozen $(frozen_for) ms (until recover)"
"$G/gexec" "$DOM" 'rm -f /.fzprobe /run/fz.*' >/dev/null 2>&1
fi

if want libvirt; then
# Someone else's backup job: pull mode (NBD) stays until aborted.
pull_xml() {
    echo "<domainbackup mode='pull'><server transport='unix' socket='$SNAP_ITMP/nbd.sock'/><disks>"
    for t in $($V domblklist "$DOM" | awk 'NR > 2 && NF { print $1 }'); do
        if [ "$t" = vda ]; then
            echo "<disk name='vda' backup='yes' type='file'><scratch file='$SNAP_ITMP/scratch.qcow2'/></disk>"
        else
            echo "<disk name='$t' backup='no'/>"
        fi
    done
    echo "</disks></domainbackup>"
}
pull_xml >"$SNAP_ITMP/pull.xml"
foreign_running() { $V domjobinfo "$DOM" 2>/dev/null | grep -q '^Operation: *Backup'; }
foreign_abort() {
    $V domjobabort "$DOM" >/dev/null 2>&1
    i=0
    while [ $i -lt 50 ] && foreign_running; do sleep 0.1; i=$((i + 1)); done
    foreign_job=false
    rm -f "$SNAP_ITMP/scratch.qcow2"
}

row "foreign backup job already running"
$V backup-begin "$DOM" "$SNAP_ITMP/pull.xml" >/dev/null && foreign_job=true
n0=$(sso list --json | jq length)
start_poll
sso create "$DOM" --json >"$SNAP_ITMP/l.json" 2>"$SNAP_ITMP/l.err"
col fail check_num "create fails" $? -eq 1
stop_poll
col fail check "one clear error line naming the job" sh -c "grep -q 'has a backup job running' '$SNAP_ITMP/l.err'"
col fail check "one line" one_line "$SNAP_ITMP/l.err"
err_lines "$SNAP_ITMP/l.err" | sed 's/^/     /'
col rel check "the guest was never frozen" sh -c "! grep -q ' frozen\$' '$SNAP_ITMP/poll'"
col left check "no set was recorded" test "$(sso list --json | jq length)" = "$n0"
col fail check "the foreign job is left alone" foreign_running
foreign_abort
recovered_and_clean

row "foreign backup job started after the freeze"
cat >"$SNAP_ITMP/foreign-job" <<EOF
#!/bin/sh
$V backup-begin $DOM $SNAP_ITMP/pull.xml >/dev/null
EOF
chmod +x "$SNAP_ITMP/foreign-job"
start_poll
t0=$(date +%s%N)
SNAPSET_FAULT="after-freeze:run=$SNAP_ITMP/foreign-job" sso --frozen-timeout 5000 \
    create "$DOM" --json >"$SNAP_ITMP/l2.json" 2>"$SNAP_ITMP/l2.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
stop_poll
foreign_running && foreign_job=true
col fail check_num "create fails" $rc -eq 1
col fail check "libvirt's own error on our backup job" grep -q "^snapset: cannot start the backup job: " "$SNAP_ITMP/l2.err"
col fail check "one line" one_line "$SNAP_ITMP/l2.err"
err_lines "$SNAP_ITMP/l2.err" | sed 's/^/     /'
fz=$(frozen_for)
col rel check "the watchdog released the guest at frozen_ms (5 s) + slack" test "$fz" != "?" -a "${fz%%.*}" -le 8000
col rel check "guest running and thawed" released
col fail check "the set is recorded as error" test "$(jq -r .state "$SNAP_ITMP/l2.json")" = error
col left check "no Cinder member left" \
    test "$(jq '[.members[] | select(.kind == "cinder" and .state != "deleted" and .state != "pending")] | length' "$SNAP_ITMP/l2.json")" = 0
col fail check "the foreign job is left alone" foreign_running
foreign_abort
recovered_and_clean
echo "     create failed after $ms ms (libvirt waits 30 s for its job lock); the guest was frozen $fz ms"
fi

if want quota && [ -n "$vol" ]; then
row "Cinder 413: snapshot quota filled after the check"
project=$("$C/os" project-id)
filler=$("$C/os" cinder POST /volumes '{"volume":{"size":1,"name":"snapset-faults-filler"}}' | jq -r .volume.id)
i=0
while [ $i -lt 60 ] && [ "$("$C/os" cinder GET "/volumes/$filler" | jq -r .volume.status)" != available ]; do
    sleep 1; i=$((i + 1))
done
q=$("$C/os" --admin cinder GET "/os-quota-sets/$project")
used=$("$C/os" cinder GET "/os-quota-sets/$project?usage=true" | jq '.quota_set.snapshots.in_use + .quota_set.snapshots.reserved')
quota_orig=$(echo "$q" | jq .quota_set.snapshots)
# Room for exactly the set's one snapshot: snapset's own check passes.
"$C/os" --admin cinder PUT "/os-quota-sets/$project" "{\"quota_set\":{\"snapshots\":$((used + 1))}}" >/dev/null
cat >"$SNAP_ITMP/fill" <<EOF
#!/bin/sh
"$C/os" cinder POST /snapshots '{"snapshot":{"volume_id":"$filler","name":"snapset-faults-filler"}}' >/dev/null
EOF
chmod +x "$SNAP_ITMP/fill"
start_poll
SNAPSET_FAULT="after-freeze:run=$SNAP_ITMP/fill" sso create "$DOM" --pause --json >"$SNAP_ITMP/q.json" 2>"$SNAP_ITMP/q.err"
rc=$?
stop_poll
col fail check_num "create fails" $rc -eq 1
col fail check "the quota was filled inside the window" grep -q "fault command at after-freeze exited with 0" "$SNAP_ITMP/q.err"
# Cinder's own words: "over limit (HTTP 413 ...): SnapshotLimitExceeded:
# Maximum number of snapshots allowed (N) exceeded".
quota_named() { err_lines "$SNAP_ITMP/q.err" | grep -q 'HTTP 413.*SnapshotLimitExceeded'; }
col fail check "the error names the exceeded snapshot quota (413)" quota_named
col fail check "one line" one_line "$SNAP_ITMP/q.err"
err_lines "$SNAP_ITMP/q.err" | sed 's/^/     /'
col rel check "guest running and thawed" released
col fail check "the set is recorded as error" test "$(jq -r .state "$SNAP_ITMP/q.json")" = error
col left check "nothing of the set in Cinder" \
    test "$("$C/os" cinder GET /snapshots/detail | jq --arg s "$(jq -r .uuid "$SNAP_ITMP/q.json")" '[.snapshots[] | select(.metadata.snapset_set == $s)] | length')" = 0
"$C/os" --admin cinder PUT "/os-quota-sets/$project" "{\"quota_set\":{\"snapshots\":$quota_orig}}" >/dev/null &&
    quota_orig=""
col rec check "the quota is restored" test "$("$C/os" --admin cinder GET "/os-quota-sets/$project" | jq .quota_set.snapshots)" = "$(echo "$q" | jq .quota_set.snapshots)"
recovered_and_clean
echo "     the guest was frozen $(frozen_of "$SNAP_ITMP/q.json") ms"
fi

if want db && [ -n "$vol" ]; then
row "Cinder 500: database read-only"
cat >"$SNAP_ITMP/db-ro" <<EOF
#!/bin/sh
$DB -e 'SET GLOBAL read_only = 1'
EOF
chmod +x "$SNAP_ITMP/db-ro"
db_ro=true
start_poll
SNAPSET_FAULT="after-freeze:run=$SNAP_ITMP/db-ro" sso2 create "$DOM" --pause --json >"$SNAP_ITMP/d.json" 2>"$SNAP_ITMP/d.err"
rc=$?
stop_poll
$DB -e 'SET GLOBAL read_only = 0' && db_ro=false
col fail check_num "create fails" $rc -eq 1
col fail check "a real HTTP 500 from Cinder" grep -q "HTTP 500" "$SNAP_ITMP/d.err"
col fail check "one line" one_line "$SNAP_ITMP/d.err"
err_lines "$SNAP_ITMP/d.err" | sed 's/^/     /'
col rel check "guest running and thawed" released
col fail check "the set is recorded as error" test "$(jq -r .state "$SNAP_ITMP/d.json")" = error
recovered_and_clean
echo "     the guest was frozen $(frozen_of "$SNAP_ITMP/d.json") ms"

row "Cinder API stuck: MariaDB stopped"
# SIGSTOP gives no 5xx: cinder-api waits on its database connection, so
# the request times out (openstack.request_timeout_ms = 3000).
cat >"$SNAP_ITMP/db-stop" <<EOF
#!/bin/sh
/bin/kill -s STOP -- -$(svc_pid mariadb)
EOF
chmod +x "$SNAP_ITMP/db-stop"
stopped=mariadb
start_poll
t0=$(date +%s%N)
SNAPSET_FAULT="after-freeze:run=$SNAP_ITMP/db-stop" sso2 create "$DOM" --pause --json >"$SNAP_ITMP/m.json" 2>"$SNAP_ITMP/m.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
stop_poll
# The vCPUs are paused right after the freeze, so the poller may never see
# "frozen" (a paused guest does not answer): then the set's own measure,
# freeze to confirmed thaw, is what is checked.
fz=$(frozen_for)
[ "$fz" != "?" ] || fz=$(jq -r '.freeze_window_ms // "?"' "$SNAP_ITMP/m.json")
col fail check_num "create fails" $rc -eq 1
col fail check "one line" one_line "$SNAP_ITMP/m.err"
err_lines "$SNAP_ITMP/m.err" | sed 's/^/     /'
col rel check "guest running and thawed" released
col rel check "frozen no longer than request_timeout_ms + slack" test "$fz" != "?" -a "${fz%%.*}" -le 8000
col fail check "the set is recorded as error" test "$(jq -r .state "$SNAP_ITMP/m.json")" = error
svc_signal CONT mariadb; stopped=""
# The request snapset gave up on may still be done by cinder-api now.
sleep 5
recovered_and_clean
echo "     create failed after $ms ms; the guest was frozen $fz ms"
fi
row_end

begin "a good set after all that"
sso create "$DOM" --json >"$SNAP_ITMP/good.json" 2>&1
check "create works" test "$(jq -r .state "$SNAP_ITMP/good.json")" = available

begin "delete every set"
for s in $(sso list --json | jq -r '.[].uuid'); do sso delete "$s" >/dev/null || bad "delete $s"; done
check "catalog empty" test -z "$(find "$SNAP_CATALOG/sets" -mindepth 1)"
[ -z "$vol" ] || check_num "no snapset snapshot left in Cinder" \
    "$("$C/os" cinder GET /snapshots/detail | jq --arg v "$vol" '[.snapshots[] | select(.volume_id == $v)] | length')" -eq 0

echo
echo "fault matrix:"
printf "$tfmt" row "killed/failed as expected" "guest released" recovered "nothing left" "catalog ok"
cat "$table" 2>/dev/null
summary
