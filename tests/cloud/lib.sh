# tests/cloud/lib.sh -- shared by the tests/cloud scripts (sourced, not run).
#
# State directory: $OS_STATE (default /var/lib/snapset-cloud). Everything the
# test cloud owns lives there: configs, databases, Ceph, logs, PID files.
# Every wait is bounded; the bounds are environment variables (see README).

# shellcheck disable=SC2034  # used by the scripts that source this file
CLOUD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
S=${OS_STATE:-/var/lib/snapset-cloud}
case "$S" in /*) ;; *) S=$(pwd)/$S ;; esac
S=${S%/}
PY=/usr/bin/python3          # the Debian python: pyenv's has no OpenStack modules
VIRSH_URI=${VIRSH_URI:-qemu:///system}
CEPH_CONF=$S/ceph/ceph.conf

CLOUD_HTTP_TIMEOUT=${CLOUD_HTTP_TIMEOUT:-60}       # one HTTP request
CLOUD_STOP_TIMEOUT=${CLOUD_STOP_TIMEOUT:-30}       # TERM -> KILL
CLOUD_CMD_TIMEOUT=${CLOUD_CMD_TIMEOUT:-120}        # one ceph/rbd/virsh/db command
CLOUD_LOCK_TIMEOUT=${CLOUD_LOCK_TIMEOUT:-900}      # another setup/teardown running

prog=${0##*/}

die() {
    printf '%s: error: %s\n' "$prog" "$*" >&2
    exit 1
}
say() { printf '%s: %s\n' "$prog" "$*" >&2; }

# now_ms: milliseconds since the epoch.
now_ms() { date +%s%3N; }

# need CMD...: fail early with the fix when a tool is missing.
need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || die "'$c' not found: run tests/cloud/setup first"
    done
}

# cloud_lock: serialise setup/teardown on the same state directory.
cloud_lock() {
    local lock
    lock=/tmp/snapset-cloud-$(printf %s "$S" | cksum | cut -d' ' -f1).lock
    exec 9>"$lock"
    flock -w "$CLOUD_LOCK_TIMEOUT" 9 ||
        die "another setup/teardown holds $lock for more than ${CLOUD_LOCK_TIMEOUT} s (CLOUD_LOCK_TIMEOUT)"
}

# wait_until SECONDS WHAT CMD...: run CMD every 0.2 s until it succeeds.
# Returns 1 (after SECONDS) if it never did; the caller says what failed.
wait_until() {
    local bound=$1 what=$2 deadline
    shift 2
    deadline=$(($(now_ms) + bound * 1000))
    while ! "$@" >/dev/null 2>&1; do
        if [ "$(now_ms)" -ge "$deadline" ]; then
            say "timed out after ${bound} s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------
# Processes. Each service runs in its own session (setsid), so its PID is also
# its process group. $S/run/NAME.pid holds "PID MATCH": MATCH is a string that
# must occur in /proc/PID/cmdline (guards against a reused PID).

svc_pid() {
    local f=$S/run/$1.pid pid match
    [ -r "$f" ] || return 1
    read -r pid match <"$f" || true
    [ -n "${pid:-}" ] && [ -n "${match:-}" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$match" || return 1
    printf '%s\n' "$pid"
}

# svc_start NAME MATCH LOG CMD...: start CMD in its own session.
svc_start() {
    local name=$1 match=$2 log=$3 pid _
    shift 3
    mkdir -p "$S/run" "$(dirname "$log")"
    printf '=== %s start %s\n' "$(date '+%F %T')" "$name" >>"$log"
    # Close fd 3 (setup's log) and 9 (the lock): a daemon must not hold them.
    setsid "$@" >>"$log" 2>&1 </dev/null 3>&- 9>&- &
    pid=$!
    printf '%s %s\n' "$pid" "$match" >"$S/run/$name.pid"
    # Until the exec, /proc/PID/cmdline is still ours: wait for it (<= 5 s).
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do
        svc_pid "$name" >/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
}

# svc_stop NAME...: TERM every named service's process group at once, wait
# up to CLOUD_STOP_TIMEOUT, then KILL what is left. Missing ones are skipped.
svc_stop() {
    local name pid pids="" deadline left
    for name in "$@"; do
        if pid=$(svc_pid "$name"); then
            kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
            pids="$pids $pid"
        fi
        rm -f "$S/run/$name.hash"
    done
    [ -n "$pids" ] || { rm_pidfiles "$@"; return 0; }
    deadline=$(($(now_ms) + CLOUD_STOP_TIMEOUT * 1000))
    while :; do
        left=""
        for pid in $pids; do
            if kill -0 -- "-$pid" 2>/dev/null || kill -0 "$pid" 2>/dev/null; then
                left="$left $pid"
            fi
        done
        [ -n "$left" ] || break
        if [ "$(now_ms)" -ge "$deadline" ]; then
            say "still running after ${CLOUD_STOP_TIMEOUT} s, killing:$left"
            for pid in $left; do
                kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            done
            sleep 0.5
            break
        fi
        sleep 0.2
    done
    rm_pidfiles "$@"
}

rm_pidfiles() {
    local name
    for name in "$@"; do rm -f "$S/run/$name.pid" "$S/run/$name.hash"; done
}

# ---------------------------------------------------------------------------
# Ceph and libvirt commands, bounded.

ceph_cmd() { timeout "$CLOUD_CMD_TIMEOUT" ceph -c "$CEPH_CONF" --connect-timeout 30 "$@"; }
rbd_cmd() { timeout "$CLOUD_CMD_TIMEOUT" rbd -c "$CEPH_CONF" "$@"; }
virsh_cmd() { timeout "$CLOUD_CMD_TIMEOUT" virsh -q -c "$VIRSH_URI" "$@"; }

# ---------------------------------------------------------------------------
# REST. os_auth USER (admin|demo) reads $S/openrc[-demo], gets a project-scoped
# token (cached in $S/run for 30 min) and sets OS_TOKEN and OS_CATALOG (file).

os_auth() {
    local user=$1 rc cache now age body hdr code
    case "$user" in
    admin) rc=$S/openrc ;;
    *) rc=$S/openrc-$user ;;
    esac
    [ -r "$rc" ] || die "$rc missing: run tests/cloud/setup first"
    OS_USER_=$user
    cache=$S/run/token-$user
    OS_CATALOG=$cache.json
    if [ -s "$cache" ] && [ -s "$OS_CATALOG" ]; then
        now=$(date +%s)
        age=$((now - $(stat -c %Y "$cache")))
        if [ "$age" -lt 1800 ]; then
            OS_TOKEN=$(cat "$cache")
            return 0
        fi
    fi
    # shellcheck disable=SC1090
    body=$(. "$rc" && jq -n --arg u "$OS_USERNAME" --arg p "$OS_PASSWORD" \
        --arg ud "$OS_USER_DOMAIN_NAME" --arg pr "$OS_PROJECT_NAME" \
        --arg pd "$OS_PROJECT_DOMAIN_NAME" \
        '{auth:{identity:{methods:["password"],password:{user:{name:$u,domain:{name:$ud},password:$p}}},
          scope:{project:{name:$pr,domain:{name:$pd}}}}}')
    # shellcheck disable=SC1090,SC2153
    OS_AUTH_URL_=$(. "$rc" && printf %s "${OS_AUTH_URL%/}")
    mkdir -p "$S/run"
    hdr=$(mktemp "$S/run/.hdr.XXXXXX")
    code=$(curl -sS --connect-timeout 10 --max-time "$CLOUD_HTTP_TIMEOUT" -o "$OS_CATALOG.tmp.$$" \
        -D "$hdr" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "$body" "$OS_AUTH_URL_/auth/tokens") || { rm -f "$hdr"; die "keystone at $OS_AUTH_URL_ unreachable"; }
    if [ "$code" != 201 ]; then
        rm -f "$hdr" "$OS_CATALOG.tmp.$$"
        die "token for '$user' refused: HTTP $code"
    fi
    OS_TOKEN=$(tr -d '\r' <"$hdr" | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: *//p')
    rm -f "$hdr"
    [ -n "$OS_TOKEN" ] || die "keystone returned no X-Subject-Token"
    mv -f "$OS_CATALOG.tmp.$$" "$OS_CATALOG"
    printf '%s' "$OS_TOKEN" >"$cache.tmp.$$"
    mv -f "$cache.tmp.$$" "$cache"
}

# os_forget USER: drop the cached token (e.g. after a 401).
os_forget() { rm -f "$S/run/token-$1" "$S/run/token-$1.json"; }

# os_endpoint SERVICE: catalog URL of cinder|glance|keystone (or a type).
os_endpoint() {
    local type url
    case "$1" in
    cinder | volume | volumev3) type=volumev3 ;;
    glance | image) type=image ;;
    keystone | identity) type=identity ;;
    *) type=$1 ;;
    esac
    url=$(jq -r --arg t "$type" --arg i "${OS_INTERFACE:-public}" --arg r "${OS_REGION_NAME:-RegionOne}" \
        '[.token.catalog[] | select(.type == $t) | .endpoints[]
          | select(.interface == $i and (.region_id == $r or .region == $r)) | .url][0] // empty' \
        "$OS_CATALOG")
    [ -n "$url" ] || die "no '$type' endpoint in the catalog"
    printf '%s\n' "${url%/}"
}

# os_call SERVICE METHOD PATH [BODY|@FILE]: prints the response body. On
# HTTP >= 400 prints a one-line error and returns 1, or 2 for a 404. A 401
# (expired token) is retried once with a new token.
# Cinder requests carry OpenStack-API-Version: volume $OS_VOLUME_MV (3.70), and
# X-Service-Token: $OS_SERVICE_TOKEN when that is set.
os_call() {
    local rc=0
    os_call_once "$@" || rc=$?
    if [ "$rc" = 3 ]; then
        os_forget "$OS_USER_"
        os_auth "$OS_USER_"
        rc=0
        os_call_once "$@" || rc=$?
        [ "$rc" != 3 ] || rc=1
    fi
    return "$rc"
}

os_call_once() {
    local svc=$1 method=$2 path=$3 data=${4-} url out code ctype msg
    local -a args
    case "$path" in
    http://* | https://*) url=$path ;;
    *) url=$(os_endpoint "$svc")$path ;;
    esac
    args=(-sS --connect-timeout 10 --max-time "$CLOUD_HTTP_TIMEOUT" -X "$method"
        -H "X-Auth-Token: $OS_TOKEN" -H 'Accept: application/json')
    case "$svc" in
    cinder | volume | volumev3) args+=(-H "OpenStack-API-Version: volume ${OS_VOLUME_MV:-3.70}") ;;
    esac
    [ -z "${OS_SERVICE_TOKEN:-}" ] || args+=(-H "X-Service-Token: $OS_SERVICE_TOKEN")
    ctype=application/json
    case "$svc:$method:$path" in
    glance:PUT:*/file | glance:PUT:*/stage | image:PUT:*/file) ctype=application/octet-stream ;;
    glance:PATCH:* | image:PATCH:*) ctype=application/openstack-images-v2.1-json-patch ;;
    esac
    if [ -n "$data" ]; then
        args+=(-H "Content-Type: $ctype")
        case "$data" in
        @*)
            [ -r "${data#@}" ] || { say "cannot read ${data#@}"; return 1; }
            if [ "$ctype" = application/octet-stream ]; then
                args+=(-T "${data#@}")
            else
                args+=(--data-binary "$data")
            fi
            ;;
        *) args+=(--data-binary "$data") ;;
        esac
    fi
    out=$(mktemp "${TMPDIR:-/tmp}/os-body.XXXXXX")
    code=$(curl "${args[@]}" -o "$out" -w '%{http_code}' "$url") || {
        rm -f "$out"
        say "$method $url: no response"
        return 1
    }
    if [ "$code" = 401 ]; then
        rm -f "$out"
        return 3
    fi
    if [ "$code" -ge 400 ]; then
        msg=$(jq -r '[.. | .message? // empty | strings][0] // empty' "$out" 2>/dev/null || true)
        [ -n "$msg" ] || msg=$(head -c 300 "$out" | tr '\n' ' ')
        rm -f "$out"
        say "HTTP $code from $method $url: $msg"
        [ "$code" = 404 ] && return 2
        return 1
    fi
    cat "$out"
    # End with a newline (Cinder's bodies have none); $(...) strips it anyway.
    [ ! -s "$out" ] || [ -z "$(tail -c 1 "$out")" ] || echo
    rm -f "$out"
}

# os_json SERVICE METHOD PATH [BODY] FILTER: os_call, then jq -r FILTER.
os_json() {
    local filter=${!#} body rc=0
    body=$(os_call "${@:1:$#-1}") || rc=$?
    [ "$rc" = 0 ] || return "$rc"
    printf '%s' "$body" | jq -r "$filter"
}

# cinder_wait_status KIND ID WANT BOUND: poll GET /KINDs/ID until .status is
# WANT ("gone" = 404). Any status containing "error" fails at once.
cinder_wait_status() {
    local kind=$1 id=$2 want=$3 bound=$4 deadline st rc
    deadline=$(($(now_ms) + bound * 1000))
    while :; do
        rc=0
        st=$(os_json cinder GET "/${kind}s/$id" ".$kind.status" 2>/dev/null) || rc=$?
        case "$rc" in
        0) ;;
        2) st=gone ;;
        *) st=unreachable ;;
        esac
        [ "$st" = "$want" ] && return 0
        case "$st" in *error*) say "$kind $id went to status '$st'"; return 1 ;; esac
        if [ "$(now_ms)" -ge "$deadline" ]; then
            say "$kind $id still '$st' after ${bound} s (wanted '$want')"
            return 1
        fi
        sleep 0.2
    done
}

# domain_xml_disk DOMAIN VOLUME_ID [--inactive]: prints the <disk> element
# whose <serial> is VOLUME_ID, or nothing.
domain_xml_disk() {
    local dom=$1 vol=$2
    shift 2
    virsh_cmd dumpxml "$@" "$dom" | "$PY" -c '
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
for d in root.findall("./devices/disk"):
    if (d.findtext("serial") or "").strip() == sys.argv[1]:
        d.tail = None
        sys.stdout.write(ET.tostring(d, encoding="unicode") + "\n")
        break
' "$vol"
}
