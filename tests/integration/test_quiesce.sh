#!/bin/sh
# tests/integration/test_quiesce.sh -- consistency modes when the guest agent
# does not answer: qemu-ga is stopped (SIGSTOP) inside the real guest.
set -u
. "$(dirname "$0")/lib.sh"

STOP_S=${STOP_S:-20}
begin "agent stopped"
# Stop the agent from a background shell in the guest, so the guest-exec
# that starts it is answered first; it continues by itself after STOP_S.
"$G/gexec" "$DOM" "p=\$(pidof qemu-ga); \
(sleep 1; kill -STOP \$p; sleep $STOP_S; kill -CONT \$p) >/dev/null 2>&1 &" >/dev/null
sleep 2
before=$(ls "$SNAP_CATALOG/sets" 2>/dev/null | wc -l)

ss --agent-timeout 1000 create "$DOM" --quiesce=required --json \
    >"$SNAP_ITMP/r.json" 2>"$SNAP_ITMP/r.err"
check_num "required without an agent fails" $? -eq 1
check "the error names the agent" grep -q "quiesce required but the guest agent" "$SNAP_ITMP/r.err"
check "the failed set is recorded as error" test "$(jq -r .state "$SNAP_ITMP/r.json")" = error
r_dir=$(jq -r .dir "$SNAP_ITMP/r.json")
check "nothing was copied" test ! -e "$r_dir"
check "domain still running" test "$(domstate)" = running

ss --agent-timeout 1000 create "$DOM" --quiesce=preferred --json \
    >"$SNAP_ITMP/p.json" 2>"$SNAP_ITMP/p.err"
check_num "preferred without an agent succeeds" $? -eq 0
check "recorded as crash-consistent" test "$(jq -r .consistency "$SNAP_ITMP/p.json")" = crash
check "with a pause window" test "$(jq -r .pause_window_ms "$SNAP_ITMP/p.json")" != null
check "and no freeze window" test "$(jq -r .freeze_window_ms "$SNAP_ITMP/p.json")" = null
check "domain running after the crash-consistent set" test "$(domstate)" = running

# Wait (bounded) for the agent to come back for the next tests.
i=0
while [ $i -lt $((STOP_S + 30)) ]; do
    virsh -c qemu:///system qemu-agent-command "$DOM" '{"execute":"guest-ping"}' \
        --timeout 2 >/dev/null 2>&1 && break
    sleep 1; i=$((i + 1))
done
check "agent answers again" test "$(agent_status)" = thawed
ss delete "$(jq -r .uuid "$SNAP_ITMP/p.json")" >/dev/null
ss delete "$(jq -r .uuid "$SNAP_ITMP/r.json")" >/dev/null
check "catalog back to where it was" test "$(ls "$SNAP_CATALOG/sets" | wc -l)" -eq "$before"

summary
