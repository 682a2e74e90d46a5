# tests/guest/lib.sh -- shared helpers for the test-guest scripts (sourced, not run).
#
# The caller sets `here` (the directory of the script) before sourcing this.
# Everything that waits is bounded; every bound can be overridden from the
# environment (see the *_S variables below).

prog=${0##*/}
REPO=$(cd "$here/../.." && pwd)
SNAP_WORK=${SNAP_WORK:-$REPO/work}
case $SNAP_WORK in /*) ;; *) SNAP_WORK=$(pwd)/$SNAP_WORK ;; esac
DOM=${DOM:-snapdemo}

# Bounds (seconds). VIRSH_TIMEOUT_S caps any single virsh call, so a hung
# libvirtd can never hang a test; AGENT_TIMEOUT_S is what libvirt waits for
# the guest agent to answer one command.
VIRSH_TIMEOUT_S=${VIRSH_TIMEOUT_S:-60}
AGENT_TIMEOUT_S=${AGENT_TIMEOUT_S:-10}

die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "$prog: $*"; }
warn() { echo "$prog: warning: $*" >&2; }

# Milliseconds since the epoch (GNU date).
now_ms() { date +%s%3N; }

# secs_since START_MS -> "12.3"
secs_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# Every virsh call goes to the system libvirtd and is bounded.
vsh() { timeout "$VIRSH_TIMEOUT_S" virsh -q -c qemu:///system "$@"; }

# dom_exists / dom_active DOM
dom_exists() { vsh domuuid "$1" >/dev/null 2>&1; }
dom_state() { vsh domstate "$1" 2>/dev/null | head -n 1; }
dom_active() {
    case $(dom_state "$1") in running|paused|"in shutdown"|pmsuspended|blocked) return 0 ;; esac
    return 1
}

# pid_of PIDFILE NAME: print the pid in PIDFILE if that process is alive and
# its argv[0] is NAME (so a stale pidfile whose pid got reused never makes us
# signal an unrelated process).
pid_of() {
    [ -r "$1" ] || return 1
    _p=$(cat "$1" 2>/dev/null) || return 1
    case $_p in ''|*[!0-9]*) return 1 ;; esac
    [ -r "/proc/$_p/cmdline" ] || return 1
    _a0=$(tr '\0' '\n' <"/proc/$_p/cmdline" 2>/dev/null | head -n 1)
    [ "${_a0##*/}" = "$2" ] || return 1
    echo "$_p"
}

# proc_named NAME: true if any process has exactly that comm (a daemon that
# somebody else started, maybe without our pidfile).
proc_named() {
    grep -qx -- "$1" /proc/[0-9]*/comm 2>/dev/null
}

# agent_cmd DOM JSON: one qemu-guest-agent command through libvirt. Prints
# the JSON reply; on failure prints a one-line reason to stderr and returns
# 1 (2 if the agent refused because the guest filesystems are frozen).
agent_cmd() {
    _err=$(mktemp "${TMPDIR:-/tmp}/snapset-agent.XXXXXX")
    if vsh qemu-agent-command --timeout "$AGENT_TIMEOUT_S" "$1" "$2" 2>"$_err"; then
        rm -f "$_err"
        return 0
    fi
    _rc=$?
    _msg=$(grep -v '^$' "$_err" | sed 's/^error: //' | tr '\n' ' ')
    rm -f "$_err"
    [ "$_rc" -eq 124 ] && _msg="virsh did not return within ${VIRSH_TIMEOUT_S}s"
    case $_msg in
    *"frozen state"*)
        echo "$prog: the guest agent refuses this while the guest filesystems are frozen (thaw first: virsh domfsthaw $1): $_msg" >&2
        return 2 ;;
    esac
    echo "$prog: agent command failed on $1: $_msg" >&2
    return 1
}

# image_raw IMAGE [FORMAT]: sets $raw to a raw view of IMAGE that debugfs,
# dumpe2fs and e2fsck can read. A raw image (or block device) is used as is
# (those tools only read it); anything else (qcow2, with its whole backing
# chain) is converted into a sparse temp file under $SNAP_WORK/tmp, removed
# on exit. -U (force-share): QEMU may hold the image open and locked.
image_raw() {
    [ -e "$1" ] || die "no such image: $1"
    _fmt=${2:-}
    if [ -z "$_fmt" ]; then
        _fmt=$(qemu-img info -U --output=json "$1" 2>/dev/null | jq -r '.format // empty') ||
            die "qemu-img info failed on $1"
        [ -n "$_fmt" ] || die "cannot tell the format of $1"
    fi
    if [ "$_fmt" = raw ]; then
        raw=$1
        return 0
    fi
    mkdir -p "$SNAP_WORK/tmp"
    tmp_raw=$(mktemp "$SNAP_WORK/tmp/$prog.XXXXXX.raw")
    trap 'rm -f "$tmp_raw"' EXIT
    trap 'exit 130' INT TERM
    qemu-img convert -U -f "$_fmt" -O raw "$1" "$tmp_raw" || die "qemu-img convert -f $_fmt failed on $1"
    raw=$tmp_raw
}
