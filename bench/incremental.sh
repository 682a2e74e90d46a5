#!/bin/bash
# bench/incremental.sh -- what an incremental set costs against a full one,
# measured in the same run on the same guest (issue #14).
#
#   bench/incremental.sh            # ~12 min: own guest, 3 rounds, table; cleans up
#
# The guest (tests/guest/setup, own work dir) gets an extra local qcow2 data
# disk, BIG_GIB (2) GiB, serial `big`, target vdd, holding one file of
# DATA_MIB (1024) MiB of random data. The disk is made on the host (the
# file from /dev/urandom, `mkfs.ext4 -d` on a raw file, `qemu-img convert`
# to qcow2; writing 1 GiB from the guest is slow under TCG), then attached
# live and persistently; the guest's volmgr mounts it on /vol/big.
#
# A round is two variants on that one domain, one after the other (they
# cannot interleave set by set: a set made with `incremental = false`
# deletes the domain's checkpoints, and so does a restore; so the first set
# of each variant is full in both, as it should be):
#   incr   the default (`incremental = true`): set 1 full, sets 2..SETS
#          incremental, each an overlay on the previous copy
#   full   `incremental = false`: the baseline, every set a whole copy
# In each variant: set 1; then before each of sets 2..SETS the guest
# rewrites WRITE_MIB (32) MiB of the file in CHUNK_MIB (1) MiB chunks at
# distinct random offsets (dd conv=notrunc; sync; offsets drawn on the host,
# SEED, the same for both variants of a round). Per set: create's wall time
# (it returns when the set is available; the record's created → finished
# is kept too), the frozen window, bytes copied
# and own file size (`bytes_copied`, `allocated`) of vdd and of all local
# members. Then sets 2..SETS-1 are deleted (oldest first, as retention
# does: in `incr` each delete rebases the next copy), set SETS is exported
# (`export --ova`) and restored (`restore --no-start`, the domain shut off
# beforehand with `virsh destroy`, so that only putting the disks back is
# timed, not the guest's shutdown), then the guest is started again and the
# remaining sets are deleted.
# Prints every set, the totals, and each of the issue's targets with the
# measured ratio next to it; nothing passes or fails.
#
# Knobs: ROUNDS (3), SETS (8), WRITE_MIB (32), CHUNK_MIB (1), DATA_MIB (1024),
# BIG_GIB (2), SEED (14), DATA_DISKS (1: setup's data1 only; 2 adds the raw
# data2, which is copied whole in every set), DOM (snapbinc),
# SNAP_WORK (<repo>/work-bench-incr), SNAPSET (/tmp/snapset-bench, else the
# build's binary), OUT (<repo>/bench/results/incremental), KEEP=1 (leave
# the guest and its big disk; the sets are deleted anyway).
# Outputs in $OUT: runs.jsonl (one raw record per line: the machine, each
# set with snapset's whole --json record, each delete/export/restore),
# table.md (what is printed).
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
SETS=${SETS:-8}
WRITE_MIB=${WRITE_MIB:-32}
CHUNK_MIB=${CHUNK_MIB:-1}
DATA_MIB=${DATA_MIB:-1024}
BIG_GIB=${BIG_GIB:-2}
SEED=${SEED:-14}
DATA_DISKS=${DATA_DISKS:-1}
DOM=${DOM:-snapbinc}
SNAP_WORK=${SNAP_WORK:-$repo/work-bench-incr}
if [ -z "${SNAPSET:-}" ]; then
    SNAPSET=/tmp/snapset-bench
    [ -x "$SNAPSET" ] || SNAPSET=$repo/build/coordinator/cli/snapset
fi
OUT=${OUT:-$repo/bench/results/incremental}
export DOM SNAP_WORK DATA_DISKS
case $DOM in snapdemo|snapincr|snaprestore) echo "bench: DOM=$DOM belongs to the tests; use another" >&2; exit 2 ;; esac
[ -x "$SNAPSET" ] || { echo "bench: no snapset at $SNAPSET (build first, or set SNAPSET)" >&2; exit 2; }
[ "$SETS" -ge 3 ] || { echo "bench: SETS must be at least 3" >&2; exit 2; }
[ $((WRITE_MIB / CHUNK_MIB)) -le $((DATA_MIB / CHUNK_MIB)) ] || { echo "bench: WRITE_MIB > DATA_MIB" >&2; exit 2; }
T=$(mktemp -d /tmp/snapset-bench-incr.XXXXXX)
CAT=$T/catalog
BIG=$SNAP_WORK/img/bench-big.qcow2
mkdir -p "$CAT" "$SNAP_WORK/img" "$OUT"
printf 'incremental = true;\n' >"$T/incr.conf"
printf 'incremental = false;\n' >"$T/full.conf"
G=$repo/tests/guest
RUNS=$T/runs.jsonl
: >"$RUNS"
vsh() { timeout 60 virsh -q -c qemu:///system "$@"; }
gx() { "$G/gexec" "$DOM" "$1" 2>/dev/null; }
ss() { timeout 900 "$SNAPSET" --catalog-dir "$CAT" "$@"; }
now() { date +%s%3N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
cleanup() {
    trap - EXIT INT TERM
    # Every set this run made (the catalog is ours alone), newest first so
    # no delete has to rebase anything.
    for s in $(ss list --json 2>/dev/null | jq -r 'sort_by(.created) | reverse | .[].uuid' 2>/dev/null); do
        ss delete "$s" >/dev/null 2>&1 || echo "bench: warning: cannot delete set $s" >&2
    done
    if [ "${KEEP:-0}" != 1 ]; then
        KEEP_DAEMONS=1 "$G/teardown" >/dev/null 2>&1 || echo "bench: warning: guest teardown failed" >&2
        rm -f "$BIG" "$BIG".*
    fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The shared guest's debs, linked rather than downloaded again.
if [ -d "$repo/work/debs" ] && [ ! -e "$SNAP_WORK/debs/selected" ]; then
    mkdir -p "$SNAP_WORK/debs"
    cp -al "$repo/work/debs/." "$SNAP_WORK/debs/" 2>/dev/null || :
fi
T0=$(now)
load0=$(load)
echo "bench: guest $DOM ($SNAP_WORK), snapset $SNAPSET"
echo "bench: load before: $load0; $(nproc) CPUs"
"$G/setup" >"$T/setup.log" 2>&1 || { tail -n 20 "$T/setup.log"; exit 1; }
tail -n 1 "$T/setup.log"

# The big disk: made on the host, attached live + persistent, mounted by
# the guest's volmgr on /vol/big.
if ! vsh domblklist "$DOM" | grep -q '^vdd '; then
    t0=$(now)
    mkdir -p "$T/tree"
    head -c "${DATA_MIB}M" /dev/urandom >"$T/tree/data.bin"
    # lazy_*_init=0: the guest kernel must not initialise inode tables in
    # the background, which would be written data in every set.
    mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 -L big -d "$T/tree" "$T/big.raw" "${BIG_GIB}G" >/dev/null ||
        { echo "bench: mkfs.ext4 failed" >&2; exit 1; }
    rm -rf "$T/tree"
    qemu-img convert -f raw -O qcow2 "$T/big.raw" "$BIG" || { echo "bench: qemu-img convert failed" >&2; exit 1; }
    rm -f "$T/big.raw"
    vsh attach-disk "$DOM" "$BIG" vdd --driver qemu --subdriver qcow2 --cache none \
        --targetbus virtio --serial big --persistent >/dev/null || { echo "bench: attach-disk failed" >&2; exit 1; }
    echo "bench: vdd $BIG: ${BIG_GIB} GiB, ${DATA_MIB} MiB written on the host, attached in $(( ($(now) - t0) / 1000 ))s"
fi
wait_big() { # the guest has /vol/big/data.bin mounted
    for _i in $(seq 120); do
        gx "grep -q ' /vol/big ' /proc/mounts && test -s /vol/big/data.bin" && return 0
        sleep 1
    done
    echo "bench: /vol/big is not mounted in the guest" >&2
    return 1
}
wait_big || exit 1
jq -nc --arg l "$load0" --argjson n "$(nproc)" --arg d "$(date -Is)" --arg s "$SNAPSET" \
    --argjson rounds "$ROUNDS" --argjson sets "$SETS" --argjson w "$WRITE_MIB" --argjson c "$CHUNK_MIB" \
    --argjson data "$DATA_MIB" --argjson big "$BIG_GIB" --argjson seed "$SEED" --argjson dd "$DATA_DISKS" \
    '{type: "machine", date: $d, nproc: $n, load_before: $l, snapset: $s, rounds: $rounds, sets: $sets,
      write_mib: $w, chunk_mib: $c, data_mib: $data, big_gib: $big, seed: $seed, data_disks: $dd}' >>"$RUNS"

# offsets R K: WRITE_MIB/CHUNK_MIB distinct chunk numbers of the file,
# the same for both variants of round R.
offsets() {
    awk -v n=$((WRITE_MIB / CHUNK_MIB)) -v max=$((DATA_MIB / CHUNK_MIB)) -v s=$((SEED * 1000 + $1 * 100 + $2)) '
        BEGIN { srand(s); while (c < n) { o = int(rand() * max); if (!(o in u)) { u[o] = 1; c++; printf "%d ", o } } }'
}
# rewrite R K: the guest rewrites the chunks; prints the ms it took.
rewrite() {
    _t0=$(now)
    GEXEC_TIMEOUT_S=600 "$G/gexec" "$DOM" "for o in $(offsets "$1" "$2"); do
        dd if=/dev/urandom of=/vol/big/data.bin bs=${CHUNK_MIB}M count=1 seek=\$o conv=notrunc 2>/dev/null || exit 1
        done; sync" >/dev/null || { echo "bench: the guest's rewrite failed" >&2; return 1; }
    echo $(($(now) - _t0))
}

# one R VARIANT K: (the rewrite, unless K = 1), set K; appends its record to
# runs.jsonl and remembers its uuid in $T/VARIANT.K.
one() {
    rw=0
    if [ "$3" -gt 1 ]; then rw=$(rewrite "$1" "$3") || return 1; fi
    l=$(load)
    t0=$(now)
    ss -c "$T/$2.conf" create "$DOM" --json >"$T/set.json" 2>"$T/err" ||
        { echo "bench: create failed: $(tail -n 1 "$T/err")" >&2; return 1; }
    t1=$(now)
    jq -r .uuid "$T/set.json" >"$T/$2.$3"
    jq -c --argjson r "$1" --arg v "$2" --argjson k "$3" --argjson w $([ "$3" -gt 1 ] && echo "$WRITE_MIB" || echo 0) \
        --argjson rw "$rw" --argjson wall $((t1 - t0)) --arg l "$l" '
        def ms: (.[0:19] + "Z" | fromdateiso8601) * 1000 + (.[20:23] | tonumber);
        [.members[] | select(.kind == "local")] as $loc |
        ([$loc[] | select(.target == "vdd")] | first) as $b |
        {type: "set", round: $r, variant: $v, k: $k, write_mib: $w, rewrite_ms: $rw, wall_ms: $wall,
         record_ms: ((.finished | ms) - (.created | ms)), window_ms: .freeze_window_ms, load: $l,
         big: {mode: $b.mode, full_reason: $b.full_reason, copied: $b.bytes_copied, allocated: $b.allocated},
         set: {copied: ([$loc[].bytes_copied] | add), allocated: ([$loc[].allocated] | add),
               modes: ([$loc[] | "\(.target):\(.mode)"] | join(","))},
         record: .}' "$T/set.json" >>"$RUNS"
}
# op R VARIANT K OP ARGS...: a timed snapset command on set K.
op() {
    _r=$1 _v=$2 _k=$3 _op=$4
    shift 4
    _t0=$(now)
    ss "$_op" "$(cat "$T/$_v.$_k")" "$@" >"$T/op.out" 2>&1 ||
        { echo "bench: $_op of $_v set $_k failed: $(tail -n 1 "$T/op.out")" >&2; return 1; }
    _ms=$(($(now) - _t0))
    _bytes=null
    [ "$_op" != export ] || _bytes=$(stat -c %s "$T/set.ova")
    jq -nc --argjson r "$_r" --arg v "$_v" --argjson k "$_k" --arg op "$_op" --argjson ms "$_ms" \
        --argjson b "$_bytes" --arg l "$(load)" \
        '{type: "op", round: $r, variant: $v, k: $k, op: $op, wall_ms: $ms, bytes: $b, load: $l}' >>"$RUNS"
}

# variant R VARIANT: its sets, deletes, export, restore; the guest runs
# again afterwards unless LAST.
variant() {
    for k in $(seq "$SETS"); do one "$1" "$2" "$k" || return 1; done
    for k in $(seq 2 $((SETS - 1))); do op "$1" "$2" "$k" delete || return 1; done
    op "$1" "$2" "$SETS" export --ova "$T/set.ova" || return 1
    rm -f "$T/set.ova"
    vsh destroy "$DOM" >/dev/null || { echo "bench: virsh destroy failed" >&2; return 1; }
    op "$1" "$2" "$SETS" restore --no-start || return 1
    for k in "$SETS" 1; do ss delete "$(cat "$T/$2.$k")" >/dev/null || { echo "bench: delete failed" >&2; return 1; }; done
    [ "${3:-}" = last ] && return 0
    "$G/setup" start wait >"$T/setup.log" 2>&1 || { tail -n 20 "$T/setup.log"; return 1; }
    wait_big
}

for r in $(seq "$ROUNDS"); do
    for v in incr full; do
        last=
        [ "$r" = "$ROUNDS" ] && [ $v = full ] && last=last
        variant "$r" $v $last || exit 1
        echo "bench: round $r $v done at $(( ($(now) - T0) / 1000 ))s, load $(load)"
    done
done
load1=$(load)
jq -nc --arg l "$load1" --argjson s $((($(now) - T0) / 1000)) '{type: "machine", load_after: $l, runtime_s: $s}' >>"$RUNS"
echo "bench: load after: $load1"
echo

# ---------------------------------------------------------------- report
report() {
    jq -rs --arg l0 "$load0" --arg l1 "$load1" '
    def mib: if . == null then "-" else (. / 1048576 * 10 | round / 10 | tostring) end;
    def r2: if . == null then "-" else (. * 100 | round / 100 | tostring) end;
    def med: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
             else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    (map(select(.type == "machine")) | add) as $m |
    map(select(.type == "set")) as $sets |
    map(select(.type == "op")) as $ops |
    ($m.write_mib * 1048576) as $chg |
    ([$sets[].round] | unique) as $rounds |
    def S($r; $v): [$sets[] | select(.round == $r and .variant == $v)] | sort_by(.k);
    def O($r; $v; $o): [$ops[] | select(.round == $r and .variant == $v and .op == $o)][0].wall_ms;
    def per(f): [$rounds[] | f] | map(select(. != null));
    def span: if length == 0 then "-" else (med | r2) + (if length > 1 then " (" + (min | r2) + "–" + (max | r2) + ")" else "" end) end;
    "Machine: \($m.nproc) CPUs; load (1, 5, 15 min) before \($l0), after \($l1); 1-min load when each set started \([$sets[].load | split(" ")[0] | tonumber] | "median \(med | r2), \(min)–\(max)"); \($m.date); \($m.runtime_s) s.",
    "Guest: TCG; vdd \($m.big_gib) GiB qcow2 holding \($m.data_mib) MiB; before each set k ≥ 2 the guest rewrites \($m.write_mib) MiB in \($m.chunk_mib) MiB chunks at random offsets; \($m.sets) sets per variant, \($rounds | length) round(s) incr, full.",
    "",
    "### Per set",
    "",
    "| round | variant | set | vdd copy | rewrite ms | create → available ms | record: created → finished ms | window ms | vdd copied MiB | vdd own file MiB | all disks copied MiB | all disks own files MiB |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ($sets | sort_by(.round, (.variant != "incr"), .k)[] |
        "| \(.round) | \(.variant) | \(.k) | \(.big.mode)\(if .variant == "incr" and .big.mode == "full" then " (" + .big.full_reason + ")" else "" end) | \(.rewrite_ms) | \(.wall_ms) | \(.record_ms) | \(.window_ms) | \(.big.copied | mib) | \(.big.allocated | mib) | \(.set.copied | mib) | \(.set.allocated | mib) |"),
    "",
    "### Totals of \($m.sets) sets",
    "",
    "| round | variant | create → available, s | vdd copied MiB | vdd own files MiB | all disks copied MiB | all disks own files MiB |",
    "|---|---|---|---|---|---|---|",
    ($rounds[] as $r | ("incr", "full") as $v | S($r; $v) |
        "| \($r) | \($v) | \([.[].wall_ms] | add / 1000 | r2) | \([.[].big.copied] | add | mib) | \([.[].big.allocated] | add | mib) | \([.[].set.copied] | add | mib) | \([.[].set.allocated] | add | mib) |"),
    ($rounds[] as $r | S($r; "incr") as $a | S($r; "full") as $b |
        def q(f): ([$a[] | f] | add) / ([$b[] | f] | add) | r2;
        "| \($r) | incr / full | \(q(.wall_ms)) | \(q(.big.copied)) | \(q(.big.allocated)) | \(q(.set.copied)) | \(q(.set.allocated)) |"),
    "",
    "### Delete, export, restore (ms)",
    "",
    "| round | variant | delete of set 2 … \($m.sets - 1) (each) | export --ova of set \($m.sets) | OVA MiB | restore --no-start of set \($m.sets) |",
    "|---|---|---|---|---|---|",
    ($rounds[] as $r | ("incr", "full") as $v |
        "| \($r) | \($v) | \([$ops[] | select(.round == $r and .variant == $v and .op == "delete") | .wall_ms] | map(tostring) | join(", ")) | \(O($r; $v; "export")) | \([$ops[] | select(.round == $r and .variant == $v and .op == "export")][0].bytes | mib) | \(O($r; $v; "restore")) |"),
    "",
    "### The issue'"'"'s targets, as measured (median over rounds, min–max)",
    "",
    "| target | measured |",
    "|---|---|",
    "| set k ≥ 2: bytes copied ≤ 1.1 × changed data + 2 MiB (= \($chg * 1.1 + 2097152 | mib) MiB for \($m.write_mib) MiB) | vdd: worst set \(per(S(.; "incr") | [.[] | select(.k >= 2) | .big.copied] | max / 1048576) | span) MiB; copied / changed: worst set \(per(S(.; "incr") | [.[] | select(.k >= 2) | .big.copied] | max / $chg) | span), median set \(per(S(.; "incr") | [.[] | select(.k >= 2) | .big.copied] | med / $chg) | span); all disks: worst \(per(S(.; "incr") | [.[] | select(.k >= 2) | .set.copied] | max / $chg) | span) |",
    "| set k ≥ 2: create → available ≤ 0.15 × set 1 | worst set \(per(S(.; "incr") | (.[0].wall_ms) as $a | [.[] | select(.k >= 2) | .wall_ms] | max / $a) | span), median set \(per(S(.; "incr") | (.[0].wall_ms) as $a | [.[] | select(.k >= 2) | .wall_ms] | med / $a) | span); against the baseline'"'"'s full sets 2–\($m.sets) (median / median) \(per(([S(.; "incr")[] | select(.k >= 2) | .wall_ms] | med) / ([S(.; "full")[] | select(.k >= 2) | .wall_ms] | med)) | span) |",
    "| space of \($m.sets) sets ≤ 1.3 × (\($m.data_mib) MiB + \($m.sets - 1) × \($m.write_mib) MiB) | vdd own files \(per(S(.; "incr") | [.[].big.allocated] | add / (($m.data_mib + ($m.sets - 1) * $m.write_mib) * 1048576)) | span); all disks \(per(S(.; "incr") | [.[].set.allocated] | add / (($m.data_mib + ($m.sets - 1) * $m.write_mib) * 1048576)) | span); against \($m.sets) full sets (all disks) \(per((S(.; "incr") | [.[].set.allocated] | add) / (S(.; "full") | [.[].set.allocated] | add)) | span) |",
    "| frozen window of incremental sets ≤ 1.1 × full sets | sets k ≥ 2, median incr / median full \(per(([S(.; "incr")[] | select(.k >= 2) | .window_ms] | med) / ([S(.; "full")[] | select(.k >= 2) | .window_ms] | med)) | span) |",
    "| restore of set \($m.sets) (sets 2–\($m.sets - 1) deleted) ≤ 1.3 × from a full set \($m.sets) | \(per(O(.; "incr"; "restore") / O(.; "full"; "restore")) | span) |",
    "| export of set \($m.sets) (sets 2–\($m.sets - 1) deleted) ≤ 1.3 × from a full set \($m.sets) | \(per(O(.; "incr"; "export") / O(.; "full"; "export")) | span) |"
    ' "$RUNS"
}
report | tee "$OUT/table.md"
cp "$RUNS" "$OUT/runs.jsonl"
