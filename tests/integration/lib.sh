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

cleanup_tmp() { rm -rf "$SNAP_ITMP"; }
trap cleanup_tmp EXIT

# snapset with the test catalog; extra options before the command go first.
ss() { "$SNAPSET" --catalog-dir "$SNAP_CATALOG" "$@"; }

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
blklist() { virsh -c qemu:///system domblklist "$DOM" --details | awk 'NF' ; }

# Guest uptime in centiseconds-free seconds ("123.45").
guest_uptime() { "$G/gexec" "$DOM" 'cut -d" " -f1 /proc/uptime'; }

summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
