#!/bin/sh
# tests/integration/test_policy.sh -- backup policies on real guests:
# `policy run` over two VMs at parallelism 2 (both reported, the sets made
# at the same time), a domain that does not exist or does not run, retention
# after a run, an export to an OVA file after each set (pruned with it), `policy prune --dry-run` and prune, selection by libvirt
# metadata, `policy list`, usage errors, and `serve` running a policy on its
# schedule.
#
# Needs the guest from tests/guest/setup (domain $DOM). A second guest
# ($DOM2, default snapdemo2) is booted for the parallel run if it is not
# running -- with its own work directory, since two domains cannot share
# disk images -- and torn down again at the end.
set -u
. "$(dirname "$0")/lib.sh"

DOM2=${DOM2:-snapdemo2}
WORK2=${SNAP_WORK2:-$SNAP_WORK/second-guest}
OFF=snapset-it-off-$$
started2=0
SPID=""
cleanup() {
    if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
        kill -TERM "$SPID" 2>/dev/null
        wait "$SPID" 2>/dev/null
    fi
    virsh -q -c qemu:///system metadata "$DOM2" --uri urn:snapset:policy \
        --live --remove >/dev/null 2>&1 || :
    virsh -q -c qemu:///system undefine "$OFF" >/dev/null 2>&1 || :
    if [ $started2 = 1 ]; then
        DOM=$DOM2 SNAP_WORK=$WORK2 KEEP_DAEMONS=1 "$G/teardown" >/dev/null 2>&1 ||
            echo "cannot tear down $DOM2"
    fi
}
at_exit cleanup

dom_running() { [ "$(virsh -q -c qemu:///system domstate "$1" 2>/dev/null | head -n1)" = running ]; }

begin "a second guest"
if ! dom_running "$DOM2"; then
    mkdir -p "$WORK2"
    # The built kernel and unpacked debs are shared; images are not.
    [ -e "$WORK2/debs" ] || ln -s "$SNAP_WORK/debs" "$WORK2/debs"
    [ -e "$WORK2/x" ] || ln -s "$SNAP_WORK/x" "$WORK2/x"
    if DOM=$DOM2 SNAP_WORK=$WORK2 "$G/setup" >"$SNAP_ITMP/setup2.log" 2>&1; then
        started2=1
    else
        cat "$SNAP_ITMP/setup2.log"
    fi
fi
check "$DOM2 is running" dom_running "$DOM2"
agent2() {
    virsh -c qemu:///system qemu-agent-command "$DOM2" \
        '{"execute":"guest-fsfreeze-status"}' 2>&1 | jq -r '.return' 2>/dev/null
}

conf=$SNAP_ITMP/snapset.conf
cat >"$conf" <<CONF
policies = (
  { name = "pair"; domains = [ "$DOM", "$DOM2" ]; quiesce = "required";
    parallelism = 2; },
  { name = "broken"; domains = [ "$DOM", "nosuch-vm-$$", "$OFF" ]; },
  { name = "keep2"; domains = [ "$DOM" ]; keep_last = 2; },
  { name = "many"; domains = [ "$DOM" ]; },
  { name = "tagged"; metadata = true; exclude = [ "$DOM" ]; },
  { name = "exported"; domains = [ "$DOM" ]; export = "ova:$SNAP_ITMP/ova";
    keep_last = 1; },
  { name = "toglance"; domains = [ "$DOM" ]; export = "glance"; }
);
CONF
# The same policy "many" with retention, to prune what the first one made.
conf_prune=$SNAP_ITMP/snapset-prune.conf
cat >"$conf_prune" <<CONF
policies = ( { name = "many"; domains = [ "$DOM" ]; keep_last = 1; } );
CONF
ps() { ss -c "$conf" policy "$@"; }

begin "policy list"
ps list >"$SNAP_ITMP/list.txt"
check_num "exit 0" $? -eq 0
check "lists every policy" test "$(grep -c -E '^(pair|broken|keep2|many|tagged|exported|toglance) ' "$SNAP_ITMP/list.txt")" = 7
check "shows the retention" grep -q '^keep2 .*keep-last=2' "$SNAP_ITMP/list.txt"
check "--json parses" sh -c "'$SNAPSET' -c '$conf' policy list --json | jq -e 'length == 7 and .[0].parallelism == 2' >/dev/null"

# ---- parallel run over two VMs ------------------------------------------------
begin "policy run over two VMs at parallelism 2"
ps run pair --json >"$SNAP_ITMP/pair.json" 2>"$SNAP_ITMP/pair.err"
rc=$?
check_num "exit 0: every VM succeeded" $rc -eq 0
[ $rc -eq 0 ] || cat "$SNAP_ITMP/pair.err" "$SNAP_ITMP/pair.json"
check "reports both VMs" test "$(jq -r '[.domains[].domain] | sort | join(" ")' "$SNAP_ITMP/pair.json")" = "$(printf '%s\n%s\n' "$DOM" "$DOM2" | sort | tr '\n' ' ' | sed 's/ $//')"
check "both ok" test "$(jq '[.domains[] | select(.result == "ok")] | length' "$SNAP_ITMP/pair.json")" = 2
check "both filesystem-consistent" test "$(jq '[.domains[] | select(.consistency == "filesystem")] | length' "$SNAP_ITMP/pair.json")" = 2
s1=$(jq -r --arg d "$DOM" '.domains[] | select(.domain == $d) | .set_id' "$SNAP_ITMP/pair.json")
s2=$(jq -r --arg d "$DOM2" '.domains[] | select(.domain == $d) | .set_id' "$SNAP_ITMP/pair.json")
ss show "$s1" --json >"$SNAP_ITMP/s1.json"
ss show "$s2" --json >"$SNAP_ITMP/s2.json"
check "both sets are in the catalog, available" \
    test "$(jq -r .state "$SNAP_ITMP/s1.json") $(jq -r .state "$SNAP_ITMP/s2.json")" = "available available"
check "the sets carry the policy's backup type" \
    test "$(jq -r .backup_type "$SNAP_ITMP/s1.json")" = pair
# Parallel: each set began before the other one finished.
c1=$(jq -r .created "$SNAP_ITMP/s1.json"); f1=$(jq -r .finished "$SNAP_ITMP/s1.json")
c2=$(jq -r .created "$SNAP_ITMP/s2.json"); f2=$(jq -r .finished "$SNAP_ITMP/s2.json")
echo "     $DOM: $c1 .. $f1"
echo "     $DOM2: $c2 .. $f2"
check "the two sets were made at the same time" \
    sh -c "[ \"$c1\" \\< \"$f2\" ] && [ \"$c2\" \\< \"$f1\" ]"
check "agent of $DOM reports thawed" test "$(agent_status)" = thawed
check "agent of $DOM2 reports thawed" test "$(agent2)" = thawed
ps run pair >"$SNAP_ITMP/pair.txt" 2>&1
check_num "the table form: exit 0" $? -eq 0
check "the table has a row per VM" test "$(grep -c -E "^($DOM|$DOM2) +ok " "$SNAP_ITMP/pair.txt")" = 2
check "and a summary" grep -q '^policy pair: 2 ok, 0 failed, 0 skipped' "$SNAP_ITMP/pair.txt"

# ---- a VM that fails --------------------------------------------------------------
begin "a missing VM fails the run, a stopped one is skipped"
cat >"$SNAP_ITMP/off.xml" <<XML
<domain type='qemu'><name>$OFF</name><memory unit='MiB'>16</memory>
<os><type arch='x86_64'>hvm</type></os></domain>
XML
virsh -q -c qemu:///system define "$SNAP_ITMP/off.xml" >/dev/null 2>&1 ||
    bad "define the stopped domain $OFF"
ps run broken --json >"$SNAP_ITMP/broken.json" 2>/dev/null
check_num "exit 1" $? -eq 1
check "the missing VM is reported failed" \
    test "$(jq -r --arg d "nosuch-vm-$$" '.domains[] | select(.domain == $d) | .result' "$SNAP_ITMP/broken.json")" = failed
check "... naming it" \
    test "$(jq -r --arg d "nosuch-vm-$$" '.domains[] | select(.domain == $d) | .error' "$SNAP_ITMP/broken.json")" = "no domain 'nosuch-vm-$$'"
check "the stopped VM is skipped" \
    test "$(jq -r --arg d "$OFF" '.domains[] | select(.domain == $d) | .result' "$SNAP_ITMP/broken.json")" = skipped
check "the good VM still got its set" \
    test "$(jq -r --arg d "$DOM" '.domains[] | select(.domain == $d) | .result' "$SNAP_ITMP/broken.json")" = ok
check "ok: false in the JSON" test "$(jq -r .ok "$SNAP_ITMP/broken.json")" = false

# ---- retention after a run -----------------------------------------------------------
begin "retention after each run (keep_last = 2)"
n=1
while [ $n -le 3 ]; do
    ps run keep2 --json >"$SNAP_ITMP/k$n.json" 2>/dev/null
    check_num "run $n: exit 0" $? -eq 0
    n=$((n + 1))
done
kept=$(ss list "$DOM" --json | jq -r '[.[] | select(.backup_type == "keep2")] | sort_by(.created) | .[].uuid')
check_num "2 sets of the policy are left" "$(echo "$kept" | wc -l)" -eq 2
check "... the newest 2" test "$kept" = "$(printf '%s\n%s' "$(jq -r '.domains[0].set_id' "$SNAP_ITMP/k2.json")" "$(jq -r '.domains[0].set_id' "$SNAP_ITMP/k3.json")")"
check "the third run reports what it pruned" test "$(jq '.domains[0].pruned' "$SNAP_ITMP/k3.json")" = 1
check "the first set's files are gone" test ! -e "$SNAP_CATALOG/sets/$(jq -r '.domains[0].set_id' "$SNAP_ITMP/k1.json")"
check "other policies' sets are untouched" test "$(ss list "$DOM" --json | jq '[.[] | select(.backup_type == "pair")] | length')" = 2

# ---- prune -------------------------------------------------------------------------------
begin "policy prune --dry-run, then prune"
n=1
while [ $n -le 3 ]; do
    ps run many >/dev/null 2>&1
    n=$((n + 1))
done
check_num "3 sets of 'many' (no retention)" "$(ss list "$DOM" --json | jq '[.[] | select(.backup_type == "many")] | length')" -eq 3
ss -c "$conf_prune" policy prune many --dry-run --json >"$SNAP_ITMP/dry.json"
check_num "dry run: exit 0" $? -eq 0
check "dry run: 2 would be removed" test "$(jq .remove "$SNAP_ITMP/dry.json")" = 2
check "dry run: the newest is kept by keep-last" \
    test "$(jq -r '.sets | sort_by(.created) | .[-1].verdict' "$SNAP_ITMP/dry.json")" = keep-last
check "dry run: nothing deleted" test "$(ss list "$DOM" --json | jq '[.[] | select(.backup_type == "many")] | length')" = 3
ss -c "$conf_prune" policy prune many --dry-run >"$SNAP_ITMP/dry.txt"
check "dry run table says so" grep -q "2 would be removed (dry run)" "$SNAP_ITMP/dry.txt"
ss -c "$conf_prune" policy prune many >"$SNAP_ITMP/prune.txt"
check_num "prune: exit 0" $? -eq 0
check_num "1 set of 'many' left" "$(ss list "$DOM" --json | jq '[.[] | select(.backup_type == "many")] | length')" -eq 1
check "the one left is the newest" \
    test "$(ss list "$DOM" --json | jq -r '[.[] | select(.backup_type == "many")][0].uuid')" = "$(jq -r '.sets | sort_by(.created) | .[-1].set_id' "$SNAP_ITMP/dry.json")"

# ---- libvirt metadata --------------------------------------------------------------------
begin "selection by libvirt metadata"
virsh -q -c qemu:///system metadata "$DOM2" --uri urn:snapset:policy --key snapset \
    --live --set '<policies>other tagged</policies>' >/dev/null 2>&1 ||
    bad "set the metadata on $DOM2"
ps run tagged --json >"$SNAP_ITMP/tagged.json" 2>/dev/null
check_num "exit 0" $? -eq 0
check "selects exactly the tagged domain" test "$(jq -r '[.domains[].domain] | join(" ")' "$SNAP_ITMP/tagged.json")" = "$DOM2"

# ---- errors -------------------------------------------------------------------------------
begin "usage and errors"
ss -c "$conf" policy >/dev/null 2>&1; check_num "policy without a command: 2" $? -eq 2
ss -c "$conf" policy run >/dev/null 2>&1; check_num "run without a name: 2" $? -eq 2
ss -c "$conf" policy frob x >/dev/null 2>&1; check_num "unknown command: 2" $? -eq 2
ss -c "$conf" policy run pair --dry-run >/dev/null 2>&1; check_num "run --dry-run: 2" $? -eq 2
ss -c "$conf" policy run nosuch 2>"$SNAP_ITMP/e"; check_num "unknown policy: 1" $? -eq 1
check "... named" grep -q "no policy 'nosuch'" "$SNAP_ITMP/e"

# ---- export after each set ----------------------------------------------------------------
begin "a policy that exports each set as an OVA file, keep_last = 1"
mkdir -p "$SNAP_ITMP/ova"
ps run exported --json >"$SNAP_ITMP/x1.json" 2>"$SNAP_ITMP/x1.err"
check_num "run 1: exit 0" $? -eq 0
x1=$(jq -r '.domains[0].export // empty' "$SNAP_ITMP/x1.json")
x1set=$(jq -r '.domains[0].set_id' "$SNAP_ITMP/x1.json")
check "run 1 reports its OVA, named after the domain and set" test "$x1" = "$SNAP_ITMP/ova/$DOM-$x1set.ova"
[ -n "$x1" ] || cat "$SNAP_ITMP/x1.err"
check "the OVA verifies (order, manifest, digests)" ss export --check "$x1"
check "the set records its export" \
    test "$(jq -r '.exports[0].path' "$SNAP_CATALOG/sets/$x1set/exports.json")" = "$x1"
ps run exported >"$SNAP_ITMP/x2.txt" 2>&1
check_num "run 2: exit 0" $? -eq 0
check "the table says where it exported" grep -q "^$DOM: exported to $SNAP_ITMP/ova/$DOM-" "$SNAP_ITMP/x2.txt"
check "retention removed set 1 ..." test ! -e "$SNAP_CATALOG/sets/$x1set.json"
check "... and its OVA with it" test ! -e "$x1"
check_num "one OVA left" "$(ls "$SNAP_ITMP/ova" | wc -l)" -eq 1
check "no staging left" test -z "$(ls "$SNAP_CATALOG/staging" 2>/dev/null)"
x2=$(ls "$SNAP_ITMP/ova"/*.ova)
x2set=$(basename "$x2" .ova | sed "s/^$DOM-//")
ss delete "$x2set" >"$SNAP_ITMP/del.txt" 2>&1
check_num "a plain delete of the set: exit 0" $? -eq 0
check "... keeps its export, and says so" grep -q "^kept $x2 (export of this set)" "$SNAP_ITMP/del.txt"
check "... the OVA is still there" test -s "$x2"
ps run toglance --json >"$SNAP_ITMP/g.json" 2>/dev/null
check_num "export to Glance without OpenStack configured: 1" $? -eq 1
check "... the set is made, the export failure named" \
    sh -c "jq -r '.domains[0].error' '$SNAP_ITMP/g.json' | grep -q '^set made, export failed: '"
echo "     $(jq -r '.domains[0].error' "$SNAP_ITMP/g.json")"
check "agent reports thawed" test "$(agent_status)" = thawed

# ---- serve runs a policy on its schedule ----------------------------------------------------
begin "serve runs a scheduled policy"
tokens=$SNAP_ITMP/tokens
printf 'sched-0123456789abcdef admin admin\n' >"$tokens"
chmod 600 "$tokens"
sconf=$SNAP_ITMP/sched.conf
cat >"$sconf" <<CONF
http = { port = 0; tokens_file = "$tokens"; };
policies = ( { name = "minutely"; domains = [ "$DOM" ]; keep_last = 1;
               schedule = "every 1m"; } );
CONF
"$SNAPSET" -c "$sconf" --catalog-dir "$SNAP_CATALOG" serve >"$SNAP_ITMP/serve.out" 2>"$SNAP_ITMP/serve.err" &
SPID=$!
i=0
while [ $i -lt 800 ]; do # the next whole minute, plus the run (at most 80 s)
    n=$(ss list "$DOM" --json 2>/dev/null | jq '[.[] | select(.backup_type == "minutely" and .state == "available")] | length')
    [ "${n:-0}" -ge 1 ] && break
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
check_num "a set of the scheduled policy appeared" "${n:-0}" -ge 1
logged() { # the run's report follows its prune: wait for it (30 s)
    j=0
    while [ $j -lt 300 ]; do
        grep -q "$1" "$SNAP_ITMP/serve.err" && return 0
        sleep 0.1
        j=$((j + 1))
    done
    return 1
}
check "serve logged the run" logged "policy minutely: $DOM: ok set"
check "and the next run time" grep -q "policy minutely: next run" "$SNAP_ITMP/serve.err"
kill -TERM "$SPID"
wait "$SPID"
check_num "serve stops cleanly" $? -eq 0
SPID=""
check "agent reports thawed" test "$(agent_status)" = thawed

summary
