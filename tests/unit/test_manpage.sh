#!/bin/bash
# tests/unit/test_manpage.sh -- docs/snapset.8 and etc/bash-completion/snapset
# cannot drift from the snapset they describe.
#
#   test_manpage.sh SNAPSET SRCDIR [MANPAGE COMPLETION]
#
# What must be documented and completed comes from the built binary and
# its sources, never from a list kept here:
#   - the commands: `snapset --help` ("commands:") and the command table in
#     coordinator/cli/main.c (a command missing from --help fails too);
#   - the subcommands (`policy list`, ...): `snapset --help`;
#   - each command's long options: its lines in `snapset --help`, and the
#     sources: every {"name", ..._argument} and "--name" literal in the
#     command's function in coordinator/cli/*.c and in the functions of
#     coordinator/cli/ it calls;
#   - the global options: main()'s table and "global options:" in --help;
#   - the environment variables read (getenv(), keystone's env()) and the
#     HTTP API's path segments (coordinator/http/http_route.c).
# The man page must have a ".SS CMD" per command naming its options and
# subcommands, the global options under OPTIONS, the variables under
# ENVIRONMENT, the segments under "HTTP API"; it must render without a
# warning (groff -ww). The completion is run (in a bash with an empty PATH
# but cat: no virsh, no snapset, no libvirt, no catalog) and must offer
# every command, subcommand and option where it belongs, and know which
# options take a value (_snapset_takes_arg), so that it counts positional
# arguments right.
#
# Negative controls: the same checks on a copy of the man page without one
# command's section, and on a copy of the completion without one option,
# must fail naming what is missing. KEEP=1 keeps the temporary directory.
set -u

snapset=${1:?usage: test_manpage.sh SNAPSET SRCDIR [MANPAGE COMPLETION]}
src=${2:?usage: test_manpage.sh SNAPSET SRCDIR [MANPAGE COMPLETION]}
man=${3:-$src/docs/snapset.8}
completion=${4:-$src/etc/bash-completion/snapset}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_manpage.XXXXXX") || exit 1
[[ -n ${KEEP:-} ]] || trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "test_manpage: $*" >&2
    exit 1
}

# ---- what snapset has -------------------------------------------------------
#
# $tmp/required: one "KIND|CMD|SUB|ITEM" a line:
#   cmd|CMD||   sub|CMD|SUB|   opt|CMD|SUB|--OPT (SUB may be empty)
#   arg|CMD||--OPT, flag|CMD||--OPT (from the sources; CMD empty: global)
#   gopt|||-X or --OPT   env|||NAME   route|||SEGMENT

help=$("$snapset" --help) || fail "'$snapset --help' failed"
[[ -n $help ]] || fail "'$snapset --help' printed nothing"

# From --help: the "commands:" block (a command's line is indented by two
# spaces, its continuation lines by more) and the "global options:" block.
printf '%s\n' "$help" | awk '
    /^commands:/ { sect = "c"; next }
    /^global options:/ { sect = "g"; next }
    /^[^ ]/ || /^$/ { sect = "" }
    sect == "c" && /^  [a-z]/ {
        cmd = $1; sub_ = ""
        if ($2 ~ /^[a-z][a-z-]*$/) {
            sub_ = $2
            print "sub|" cmd "|" sub_ "|"
        }
        print "cmd|" cmd "||"
    }
    sect == "c" && cmd != "" {
        line = $0
        while (match(line, /--[a-z][a-z0-9-]*/)) {
            print "opt|" cmd "|" sub_ "|" substr(line, RSTART, RLENGTH)
            line = substr(line, RSTART + RLENGTH)
        }
    }
    sect == "g" {
        if (match($0, /^  -[a-zA-Z],/))
            print "gopt|||" substr($0, 3, 2)
        line = $0
        while (match(line, /--[a-z][a-z0-9-]*/)) {
            print "gopt|||" substr(line, RSTART, RLENGTH)
            line = substr(line, RSTART + RLENGTH)
        }
    }' >"$tmp/help"
grep -q '^cmd|' "$tmp/help" || fail "no command found in '$snapset --help'"

# From the sources: the command table of main.c ("NAME FUNCTION" lines).
awk '/commands\[\] = \{/ { t = 1; next }
     t && /^};/ { t = 0 }
     t && match($0, /\{"[a-z][a-z0-9-]*", *[A-Za-z_][A-Za-z0-9_]*\}/) {
         s = substr($0, RSTART + 2, RLENGTH - 3)
         name = s; sub(/".*/, "", name)
         fn = s; sub(/^[^,]*, */, "", fn)
         print name, fn
     }' "$src/coordinator/cli/main.c" >"$tmp/table"
[[ -s $tmp/table ]] || fail "no command table found in coordinator/cli/main.c"

# Every function of coordinator/cli/*.c (return type on its own line, the
# name at column 0, the body up to "}" at column 0): "D FN" for its
# definition, "F FN --OPT arg|flag" for each option it parses (a "--OPT"
# literal, compared by hand, is a flag), "C FN CALLEE" for each call.
awk '
    FNR == 1 { infn = 0 }
    /^[A-Za-z_][A-Za-z0-9_]*\(/ && !/;[ \t]*$/ {
        fn = $0; sub(/\(.*/, "", fn); infn = 1; print "D", fn; next
    }
    infn && /^}/ { infn = 0; next }
    infn {
        line = $0
        while (match(line, /\{"[a-z][a-z0-9-]*", *(no|required|optional)_argument/)) {
            o = substr(line, RSTART + 2, RLENGTH - 2)
            a = o; sub(/_argument$/, "", a); sub(/^.*[ ,]/, "", a)
            sub(/".*/, "", o)
            print "F", fn, "--" o, (a == "no" ? "flag" : "arg")
            line = substr(line, RSTART + RLENGTH)
        }
        line = $0
        while (match(line, /"--[a-z][a-z0-9-]*"/)) {
            print "F", fn, substr(line, RSTART + 1, RLENGTH - 2), "flag"
            line = substr(line, RSTART + RLENGTH)
        }
        line = $0
        while (match(line, /[A-Za-z_][A-Za-z0-9_]*\(/)) {
            print "C", fn, substr(line, RSTART, RLENGTH - 1)
            line = substr(line, RSTART + RLENGTH)
        }
    }' "$src"/coordinator/cli/*.c >"$tmp/funcs"

# "CMD --OPT arg|flag" for each option a command parses, in its function or
# in the functions of coordinator/cli/ it calls (CMD "-": main(), the
# global options).
{
    cat "$tmp/table"
    echo "- main"
} | awk '
    FILENAME == ARGV[1] {
        if ($1 == "D") def[$2] = 1
        else if ($1 == "F") fo[$2, ++nf[$2]] = $3 " " $4
        else if ($1 == "C") fc[$2, ++nc[$2]] = $3
        next
    }
    {
        split("", seen); n = 0; queue[++n] = $2
        for (i = 1; i <= n; i++) {
            f = queue[i]
            if (f in seen) continue
            seen[f] = 1
            for (k = 1; k <= nf[f]; k++) print $1, fo[f, k]
            for (k = 1; k <= nc[f]; k++)
                if ((fc[f, k] in def) && !(fc[f, k] in seen)) queue[++n] = fc[f, k]
        }
    }' "$tmp/funcs" - | sort -u >"$tmp/srcopts"

{
    cat "$tmp/help"
    awk '{ print "cmd|" $1 "||" }' "$tmp/table"
    awk '$1 == "-" { print "gopt|||" $2; print $3 "|||" $2 }
         $1 != "-" { print "opt|" $1 "||" $2; print $3 "|" $1 "||" $2 }' \
        "$tmp/srcopts"
    # Environment variables: getenv("X") and getenv(MACRO) with MACRO
    # #defined to "X" anywhere, and cinder/keystone.c's env("OS_...")
    # wrapper. PATH is only looked up, not ours.
    dirs=("$src"/common "$src"/qga "$src"/cinder "$src"/glance
        "$src"/coordinator "$src"/virt)
    grep -rhoE '(getenv|[^a-z_]env)\("[A-Z][A-Z0-9_]*"\)' --include='*.c' \
        "${dirs[@]}" 2>/dev/null |
        sed -E 's/.*\("([A-Z0-9_]+)"\)/env|||\1/' | grep -v '^env|||PATH$'
    grep -rhoE 'getenv\([A-Z][A-Z0-9_]*\)' --include='*.c' "${dirs[@]}" \
        2>/dev/null | sed -E 's/getenv\((.*)\)/\1/' | sort -u |
        while read -r macro; do
            grep -rhE "^#define[[:space:]]+$macro[[:space:]]+\"[A-Z][A-Z0-9_]*\"" \
                --include='*.[ch]' "${dirs[@]}" 2>/dev/null |
                sed -E 's/.*"([A-Z0-9_]+)".*/env|||\1/'
        done
    # The API's path segments.
    grep -oE 'seg_is\(seg\[[0-9]\], len\[[0-9]\], "[a-z_]+"\)' \
        "$src/coordinator/http/http_route.c" |
        sed -E 's/.*"([a-z_]+)"\)/route|||\1/'
} | sort -u >"$tmp/required"

# A command in the table must be in --help, and the other way round.
while read -r name _; do
    grep -qx "cmd|$name||" "$tmp/help" ||
        echo "snapset --help does not list command '$name' (add it to usage_text in coordinator/cli/main.c)"
done <"$tmp/table" >"$tmp/help_missing"
while IFS='|' read -r _ name _ _; do
    awk -v n="$name" '$1 == n { f = 1 } END { exit !f }' "$tmp/table" ||
        echo "snapset --help lists '$name', which is not in the command table"
done < <(grep '^cmd|' "$tmp/help") >>"$tmp/help_missing"
if [[ -s $tmp/help_missing ]]; then
    cat "$tmp/help_missing" >&2
    fail "the help text and the command table disagree"
fi

# ---- the checker ------------------------------------------------------------

# check MANPAGE COMPLETION: prints one line per thing missing; fails if any.
check() {
    local man=$1 comp=$2 out cmd

    out=$(mktemp -d "$tmp/check.XXXXXX") || return 1
    # The man page as text to search: fonts, escapes and quotes dropped.
    sed -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\-/-/g' -e 's/\\&//g' \
        -e 's/\\(em/-/g' -e 's/"//g' "$man" >"$out/man"
    # The completion, run: "QUERY|WORD" for what it offers to each query.
    mkdir -p "$out/bin"
    ln -s "$(type -P cat)" "$out/bin/cat"
    {
        # NAME|WORD...: the words after "snapset", the last one the one
        # completed ("@": an empty one).
        echo "top|@"
        echo "top|-"
        echo "top|--"
        grep -E '^cmd\|' "$tmp/required" | cut -d'|' -f2 | while read -r cmd; do
            echo "$cmd|$cmd|--"
            grep -E "^sub\|$cmd\|" "$tmp/required" | cut -d'|' -f3 |
                while read -r sub; do echo "$cmd $sub|$cmd|$sub|--"; done
        done
        grep -E '^sub\|' "$tmp/required" | cut -d'|' -f2 | sort -u |
            while read -r cmd; do echo "$cmd :|$cmd|@"; done
        # T|CMD|--OPT: does the completion skip a value after it?
        grep -E '^(arg|flag)\|' "$tmp/required" | cut -d'|' -f2,4 |
            sed 's/^/T|/'
    } >"$out/queries"
    # shellcheck disable=SC2016 # expanded by that bash
    env -i PATH="$out/bin" HOME="$out" "$BASH" --norc --noprofile -c '
        source "$1" || exit 1
        while IFS="|" read -r -a q; do
            if [[ ${q[0]} == T ]]; then
                _snapset_takes_arg "${q[1]}" "${q[2]}" && r=arg || r=flag
                printf "T %s %s|%s\n" "${q[1]}" "${q[2]}" "$r"
                continue
            fi
            COMP_WORDS=(snapset "${q[@]:1}")
            [[ ${COMP_WORDS[-1]} == @ ]] && COMP_WORDS[-1]=""
            COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            COMPREPLY=()
            _snapset
            for w in "${COMPREPLY[@]}"; do printf "%s|%s\n" "${q[0]}" "$w"; done
        done <"$2"' _ "$comp" "$out/queries" >"$out/comp" 2>"$out/comp.err" ||
        echo "$comp: sourcing it or completing failed" >>"$out/comp.err"
    if [[ -s $out/comp.err ]]; then
        sed "s|^|$comp: while completing: |" "$out/comp.err" >"$out/missing"
    fi

    # Everything required against the man page's sections and what the
    # completion offered. A word in a section must stand alone (not be part
    # of a longer option or name).
    awk -v man="$man" -v comp="$comp" '
        function has(sec, word) {
            return (sec in text) &&
                match(text[sec], "(^|[^A-Za-z0-9_-])" word "([^A-Za-z0-9_-]|$)")
        }
        FILENAME == ARGV[1] {
            if ($0 ~ /^\.SH /) {
                sh = $0; sub(/^\.SH /, "", sh); sh = "SH." sh; ss = ""
                text[sh] = ""; next
            }
            if ($0 ~ /^\.SS /) {
                split($0, f, " "); ss = "SS." f[2]; text[ss] = ""; next
            }
            if (sh != "") text[sh] = text[sh] "\n" $0
            if (ss != "") text[ss] = text[ss] "\n" $0
            next
        }
        FILENAME == ARGV[2] {
            offer[$0] = 1
            q = $0; sub(/\|.*/, "", q); sub(/ .*/, "", q)
            w = $0; sub(/^[^|]*\|/, "", w)
            anyopt[q "|" w] = 1
            next
        }
        {
            split($0, r, "|"); kind = r[1]; cmd = r[2]; sub_ = r[3]; item = r[4]
            sec = "SS." cmd
            if (kind == "cmd") {
                cmds[cmd] = 1
                if (!(sec in text))
                    print man ": command \047" cmd "\047 has no section (.SS " cmd " under COMMANDS)"
                if (!(("top|" cmd) in offer))
                    print comp ": command \047" cmd "\047 is not completed (_snapset_commands)"
            } else if (kind == "sub") {
                if (!has(sec, cmd " " sub_))
                    print man ": \047" cmd " " sub_ "\047 is not named under .SS " cmd
                if (!((cmd " :|" sub_) in offer))
                    print comp ": \047" cmd " " sub_ "\047 is not completed after \047" cmd "\047"
            } else if (kind == "opt") {
                if (!has(sec, item))
                    print man ": option " item " of \047" cmd "\047 is not under .SS " cmd
                if (sub_ != "" && !((cmd " " sub_ "|" item) in offer))
                    print comp ": option " item " of \047" cmd " " sub_ "\047 is not completed (_snapset_cmd_opts)"
                if (sub_ == "" && !((cmd "|" item) in anyopt))
                    print comp ": option " item " of \047" cmd "\047 is not completed (_snapset_cmd_opts)"
            } else if (kind == "arg" || kind == "flag") {
                if (!(("T " cmd " " item "|" kind) in offer))
                    print comp ": option " item (cmd != "" ? " of \047" cmd "\047" : "") \
                        (kind == "arg" ? " takes a value, not in" : " is a flag, but in") \
                        " _snapset_argopts"
            } else if (kind == "gopt") {
                if (!has("SH.OPTIONS", item))
                    print man ": global option " item " is not under OPTIONS"
                if (!(("top|" item) in offer))
                    print comp ": global option " item " is not completed (_snapset_global_opts)"
            } else if (kind == "env") {
                if (!has("SH.ENVIRONMENT", item))
                    print man ": environment variable " item " is not under ENVIRONMENT"
            } else if (kind == "route") {
                if (!("SH.HTTP API" in text) ||
                    !match(text["SH.HTTP API"], "/" item "([^A-Za-z0-9_-]|$)"))
                    print man ": the API path segment /" item " is not under HTTP API"
            }
        }
        END {
            # Every .SS is a command that exists.
            for (sec in text)
                if (sec ~ /^SS\./ && !(substr(sec, 4) in cmds))
                    print man ": section .SS " substr(sec, 4) " names no command of snapset"
        }' "$out/man" "$out/comp" "$tmp/required" >>"$out/missing" ||
        echo "test_manpage: the check itself failed (awk)" >>"$out/missing"
    cat "$out/missing"
    [[ ! -s $out/missing ]]
}

# ---- the real files ---------------------------------------------------------

status=0
[[ -r $man ]] || fail "no man page $man"
[[ -r $completion ]] || fail "no completion script $completion"

command -v groff >/dev/null || fail "groff is not installed (groff-base: scripts/install-deps)"
warnings=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$man" 2>&1)
if [[ -n $warnings ]]; then
    echo "$man: groff -man -ww warns:" >&2
    echo "$warnings" >&2
    status=1
fi

if ! check "$man" "$completion" >"$tmp/real" 2>&1; then
    cat "$tmp/real" >&2
    echo "test_manpage: FAIL: the man page or the completion misses the above" >&2
    status=1
fi

# ---- negative controls ------------------------------------------------------

# The man page without one command's section must fail, naming it.
victim=$(awk -F'|' '$1 == "cmd" { print $2; exit }' "$tmp/required")
awk -v v="$victim" '
    /^\.S[SH] / { n = $2; gsub(/\\-/, "-", n); skip = ($1 == ".SS" && n == v) }
    !skip' "$man" >"$tmp/snapset.8"
if check "$tmp/snapset.8" "$completion" >"$tmp/neg1" 2>&1; then
    echo "test_manpage: FAIL: a man page without '.SS $victim' passed the check" >&2
    status=1
elif ! grep -q "command '$victim' has no section" "$tmp/neg1"; then
    echo "test_manpage: FAIL: a man page without '.SS $victim' failed, but not naming it:" >&2
    cat "$tmp/neg1" >&2
    status=1
fi

# The completion without one option must fail, naming it.
IFS='|' read -r _ vcmd _ vopt < <(grep -m1 '^opt|' "$tmp/required")
sed "s/$vopt\\([^a-z0-9-]\\|\$\\)/--gone-from-the-copy\\1/g" "$completion" >"$tmp/completion"
if check "$man" "$tmp/completion" >"$tmp/neg2" 2>&1; then
    echo "test_manpage: FAIL: a completion without $vopt passed the check" >&2
    status=1
elif ! grep -q "option $vopt of '$vcmd" "$tmp/neg2"; then
    echo "test_manpage: FAIL: a completion without $vopt failed, but not naming it:" >&2
    cat "$tmp/neg2" >&2
    status=1
fi

if ((status == 0)); then
    printf 'test_manpage: ok: %d commands, %d subcommands, %d command options, %d global options, %d variables, %d API segments; negative controls (no .SS %s; no %s) fail\n' \
        "$(grep -c '^cmd|' "$tmp/required")" "$(grep -c '^sub|' "$tmp/required")" \
        "$(grep -c '^opt|' "$tmp/required")" "$(grep -c '^gopt|' "$tmp/required")" \
        "$(grep -c '^env|' "$tmp/required")" "$(grep -c '^route|' "$tmp/required")" \
        "$victim" "$vopt"
fi
exit "$status"
