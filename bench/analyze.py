#!/usr/bin/env python3
"""bench/analyze.py -- tables, JSON and the plot from bench/run's records.

    python3 bench/analyze.py OUTDIR

Reads OUTDIR/runs.jsonl (one record per run, written by bench/run) and
OUTDIR/machine.json; writes OUTDIR/summary.json, OUTDIR/tables.md,
OUTDIR/window.png (gnuplot) and prints the tables.

Where Cinder's time comes from: the services' own logs, on the same host
clock. For every run bench/run remembers the byte range of cinder-api.log and
cinder-volume.log that the run wrote. A snapshot request is tied to its
volume by cinder-api's "Create snapshot from volume V" line and to its
completion by the request id that cinder-volume logs with "Create snapshot
completed successfully" (for a group snapshot: "group_snapshot G: created
successfully"). Cinder's time for a set is from cinder-api receiving the
first snapshot request ("POST .../snapshots") to the last snapshot's status
commit (the completion line is logged right after it).

    overhead = window - agent freeze - thaw call - Cinder's time

i.e. what the tool itself added between the freeze returning and the thaw
starting. snapset's recorded timings.thaw_ms also holds the
guest-fsfreeze-status confirmation, which comes after the window closed, so
the thaw call is taken as window - freeze - request - wait (exact up to ms
rounding when the guest is not paused).

Numbers are reported, never judged.
"""
import json
import math
import os
import re
import statistics
import subprocess
import sys
from datetime import datetime

LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \d+ (\w+) (\S+) \[([^\]]*)\] (.*)$")
REQ = re.compile(r"req-[0-9a-f-]{36}")

VARIANT_ORDER = ["nova", "snapset", "snapset-direct", "snapset-group", "snapset-poll50", "snapset-poll20",
                 "snapset-poll250", "snapset-pause"]
LABEL = {
    "nova": "Nova-style baseline",
    "snapset": "snapset",
    "snapset-group": "snapset, group snapshot",
    "snapset-direct": "snapset, direct RBD",
    "snapset-pause": "snapset --pause",
    "snapset-local": "snapset",
    "nova-local": "virDomainBackupBegin alone",
}


def ts_ms(s):
    return datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f").timestamp() * 1000.0


def read_slice(path, a, b):
    """Log lines a run wrote: bytes [a, b) of path (a bit more at the end,
    in case a line was being written when the size was taken)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < a:
                return []  # the log was replaced: no data for this run
            f.seek(a)
            data = f.read(max(0, b - a) + 65536)
    except OSError:
        return []
    out = []
    for raw in data.decode("utf-8", "replace").splitlines():
        m = LINE.match(raw)
        if not m:
            continue
        r = REQ.search(m.group(4))
        out.append((ts_ms(m.group(1)), r.group(0) if r else None, m.group(3), m.group(5)))
    return out


def by_req(lines, pred):
    d = {}
    for t, req, logger, msg in lines:
        if req and pred(logger, msg) and req not in d:
            d[req] = t
    return d


def cinder_times(rec):
    """Cinder's side of one run, from the logs; None when not found."""
    res = rec.get("result") or {}
    # Lines of this run only: its byte range, then its time range (a line
    # can reach the file a little after its timestamp).
    t0, t1 = rec["wall_t0_ms"] - 50, rec["wall_t1_ms"] + 50
    api = [x for x in read_slice(*rec["logs"]["api"]) if t0 <= x[0] <= t1]
    vol = [x for x in read_slice(*rec["logs"]["vol"]) if t0 <= x[0] <= t1]
    if not api or not vol:
        return None
    posts = by_req(api, lambda lg, m: m.startswith("POST ") and
                   (m.endswith("/snapshots") or m.endswith("/group_snapshots")))
    acc = by_req(api, lambda lg, m: lg == "eventlet.wsgi.server" and '"POST ' in m and "status: 202" in m)
    resp = by_req(api, lambda lg, m: lg == "eventlet.wsgi.server")
    reqs, done = [], {}
    if rec["variant"] == "snapset-group":
        gs = res.get("group_snapshot_id")
        if not gs:
            return None
        for t, req, lg, m in vol:
            if m.startswith("group_snapshot %s: created successfully" % gs) and req:
                reqs, done = [req], {req: t}
                break
        polls_pat = "/group_snapshots/%s" % gs
    else:
        if rec["variant"] == "nova":
            volumes = [s["volume_id"] for s in res.get("snapshots", [])]
            sids = [s["id"] for s in res.get("snapshots", []) if s.get("id")]
            polls_pat = None
        else:
            volumes = [m["volume_id"] for m in res.get("members", []) if m.get("kind") == "cinder"]
            sids = []
            polls_pat = "/snapshots/detail?metadata="
        want = set(volumes)
        for t, req, lg, m in api:
            if m.startswith("Create snapshot from volume ") and m.split()[-1] in want and req:
                if req not in reqs:
                    reqs.append(req)
        completed = by_req(vol, lambda lg, m: m.startswith("Create snapshot completed successfully"))
        done = {r: completed[r] for r in reqs if r in completed}
        if len(reqs) != len(want):
            return None
    if not reqs or any(r not in posts or r not in acc or r not in done for r in reqs):
        return None
    recv_first = min(posts[r] for r in reqs)
    acc_first = min(acc[r] for r in reqs)
    acc_last = max(acc[r] for r in reqs)
    done_last = max(done[r] for r in reqs)
    out = {
        "recv_first": recv_first,
        "cinder_ms": done_last - recv_first,
        "api_first_ms": acc_first - recv_first,
        "api_all_ms": acc_last - recv_first,
        "backend_after_accept_ms": done_last - acc_last,
        "done_last": done_last,
    }
    # The poll that saw the last snapshot done: the last status request of
    # this set in the run (the poller stops there; what follows in the run,
    # metadata updates and the member listing, are other requests).
    if polls_pat:
        uuid = res.get("uuid", "")
        polls = [(t, resp[req]) for t, req, lg, m in api
                 if lg == "cinder.api.openstack.wsgi" and m.startswith("GET ") and polls_pat in m and
                 (rec["variant"] == "snapset-group" or uuid in m) and req in resp]
        if polls:
            out["reaction_ms"] = max(polls)[1] - done_last
            out["polls"] = len(polls)
    return out


def snapset_parts(res):
    tm = res.get("timings") or {}
    w = res.get("freeze_window_ms")
    f, rq, wt = tm.get("freeze_ms"), tm.get("request_ms"), tm.get("wait_ms")
    if w is None or f is None or rq is None:
        return None
    wt = wt or 0
    return {
        "window": w,
        "pause": res.get("pause_window_ms"),
        "freeze": f,
        "request": rq,
        "wait": wt,
        # the thaw call (see the module comment); with --pause it also holds
        # the journal write before the pause, the pause and the resume
        "thaw": w - f - rq - wt,
        "thaw_recorded": tm.get("thaw_ms"),
        "frozen_fs": res.get("frozen_filesystems"),
        # the set's own record: created (journal) -> finished (available)
        "set_ms": span_ms(res.get("created"), res.get("finished")),
    }


def span_ms(a, b):
    if not a or not b:
        return None
    f = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (datetime.strptime(b, f) - datetime.strptime(a, f)).total_seconds() * 1000.0


def nova_parts(res):
    if res.get("window_ms") is None:
        return None
    return {
        "window": res["window_ms"],
        "pause": None,
        "freeze": res["freeze_ms"],
        "request": res["request_ms"],
        "post": res["post_ms"],
        "backup_begin": res["backup_begin_ms"],
        "wait": res["wait_ms"],
        "thaw": res["thaw_ms"],
        "frozen_fs": res.get("frozen_filesystems"),
        "polls": res.get("polls"),
    }


def stat(vals):
    vals = [v for v in vals if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def fmt(s, ratio=False):
    if not s:
        return "–"
    if ratio:
        return "%.2f (%.2f–%.2f)" % (s["median"], s["min"], s["max"])
    return "%d (%d–%d)" % (round(s["median"]), round(s["min"]), round(s["max"]))


def table(head, rows):
    w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda r: "| " + " | ".join(str(x).ljust(w[i]) for i, x in enumerate(r)) + " |"
    return "\n".join([line(head), "|" + "|".join("-" * (x + 2) for x in w) + "|"] + [line(r) for r in rows])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results")
    recs = [json.loads(l) for l in open(os.path.join(out, "runs.jsonl")) if l.strip()]
    try:
        machine = json.load(open(os.path.join(out, "machine.json")))
    except OSError:
        machine = {}

    runs = []  # flattened
    failed = []
    for rec in recs:
        res = rec.get("result")
        if rec["rc"] != 0 or not res:
            failed.append({k: rec.get(k) for k in ("phase", "variant", "n", "rep", "rc", "stderr")})
            continue
        p = nova_parts(res) if rec["variant"].startswith("nova") else snapset_parts(res)
        if not p:
            failed.append({k: rec.get(k) for k in ("phase", "variant", "n", "rep", "rc", "stderr")})
            continue
        p.update(phase=rec["phase"], variant=rec["variant"], n=rec["n"], rep=rec["rep"],
                 disk=rec.get("disk_size"), total=rec["wall_t1_ms"] - rec["wall_t0_ms"],
                 loadavg=rec.get("loadavg"))
        if rec["phase"] == "cinder" and rec["variant"].startswith("snapset-direct"):
            # Cinder only sees the set after the thaw: inside the window
            # the backend is librbd, and its time is the wait.
            p["backend"] = p["wait"]
            p["overhead"] = p["window"] - p["freeze"] - p["thaw"] - p["wait"]
        elif rec["phase"] == "cinder":
            c = cinder_times(rec)
            if c:
                p.update(c)
                p["overhead"] = p["window"] - p["freeze"] - p["thaw"] - c["cinder_ms"]
                p["overhead_from_first_202"] = p["overhead"] + c["api_first_ms"]
                if "reaction_ms" in c:
                    p["pre_ms"] = p["overhead"] - c["reaction_ms"]
        runs.append(p)

    def sel(phase, variant, n=None, disk=None):
        return [r for r in runs if r["phase"] == phase and r["variant"] == variant and
                (n is None or r["n"] == n) and (disk is None or r["disk"] == disk)]

    summary = {"machine": machine, "failed_runs": failed, "cinder": {}, "local": {}, "ratios": {}}
    md = []

    # ---- Cinder phase
    ns = sorted({r["n"] for r in runs if r["phase"] == "cinder"})
    seen = []
    for r in runs:
        if r["phase"] == "cinder" and r["variant"] not in seen:
            seen.append(r["variant"])
    variants = [v for v in VARIANT_ORDER if v in seen] + sorted(
        (v for v in seen if v not in VARIANT_ORDER), key=lambda v: (len(v), v))
    for v in variants:
        if v not in LABEL and v.startswith("snapset-poll"):
            LABEL[v] = "snapset, frozen_poll_max_ms=%s" % v[len("snapset-poll"):]
        LABEL.setdefault(v, v)
    keys = ["window", "pause", "freeze", "request", "wait", "thaw", "cinder_ms", "api_first_ms",
            "api_all_ms", "backend_after_accept_ms", "overhead", "overhead_from_first_202",
            "reaction_ms", "pre_ms", "frozen_fs", "post", "backup_begin", "polls", "total", "backend", "set_ms"]
    for v in variants:
        summary["cinder"][v] = {}
        for n in ns:
            rs = sel("cinder", v, n)
            summary["cinder"][v][str(n)] = {k: stat([r.get(k) for r in rs]) for k in keys}
    med = lambda v, n, k: ((summary["cinder"].get(v, {}).get(str(n)) or {}).get(k) or {}).get("median")

    if ns:
        # paired ratios: the same round (rep) at the same N
        def paired(a, b, n):
            ra = {r["rep"]: r["window"] for r in sel("cinder", a, n)}
            rb = {r["rep"]: r["window"] for r in sel("cinder", b, n)}
            return stat([ra[k] / rb[k] for k in ra if k in rb and rb[k]])

        rows = []
        for n in ns:
            s1 = med("snapset", ns[0], "window")
            ratio = {}
            for v in variants:
                if v != "nova" and med(v, n, "window") and med("nova", n, "window"):
                    ratio[v] = {"of_medians": med(v, n, "window") / med("nova", n, "window"),
                                "paired": paired(v, "nova", n)}
            if med("snapset", n, "window") and s1:
                ratio["snapset_n_over_1"] = med("snapset", n, "window") / s1
            summary["ratios"][str(n)] = ratio
            rs = summary["cinder"]
            row = [n, fmt(rs.get("snapset", {}).get(str(n), {}).get("frozen_fs"))]
            for v in variants:
                row.append(fmt(rs[v][str(n)]["window"]))
            row.append("%.2f" % ratio["snapset"]["of_medians"] if "snapset" in ratio else "–")
            row.append(fmt(ratio["snapset"]["paired"], True) if "snapset" in ratio else "–")
            row.append("%.2f" % ratio["snapset_n_over_1"] if "snapset_n_over_1" in ratio else "–")
            rows.append(row)
        head = ["N", "fs frozen"] + ["%s window" % LABEL[v] for v in variants] + [
            "snapset/baseline (of medians)", "snapset/baseline (per round)", "snapset(N)/snapset(%d)" % ns[0]]
        md.append("### Frozen window, ms: median (min–max)\n\n" + table(head, rows))

        for v in variants:
            rows = []
            for n in ns:
                s = summary["cinder"][v][str(n)]
                row = [n, fmt(s["window"]), fmt(s["freeze"]), fmt(s["request"]), fmt(s["wait"]), fmt(s["thaw"]),
                       fmt(s["cinder_ms"]), fmt(s["api_all_ms"]), fmt(s["overhead"])]
                if v == "nova":
                    row += [fmt(s["post"]), fmt(s["backup_begin"]), fmt(s["polls"])]
                else:
                    row += [fmt(s["pre_ms"]), fmt(s["reaction_ms"])]
                if v == "snapset-pause":
                    row += [fmt(s["pause"])]
                rows.append(row)
            head = ["N", "window", "agent freeze", "requests", "wait", "thaw", "Cinder: 1st request in → last done",
                    "Cinder API: 1st in → last 202", "own overhead"]
            if v == "nova":
                head += ["of requests: POSTs", "of requests: backup job", "GETs"]
            else:
                head += ["of overhead: freeze end → 1st request in", "of overhead: last done → poll answered"]
            if v == "snapset-pause":
                head[5] = "pause+resume+thaw"
                head += ["pause window"]
            md.append("### %s: parts, ms: median (min–max)\n\n%s" % (LABEL[v], table(head, rows)))

    # ---- the direct RBD path against the baseline and the REST path
    if ns and "snapset-direct" in variants and "nova" in variants:
        rows = []
        d1 = med("snapset-direct", ns[0], "window")
        own1 = None
        if d1 is not None:
            own1 = d1 - med("snapset-direct", ns[0], "freeze") - med("snapset-direct", ns[0], "thaw")
        for n in ns:
            dw, bw, rw = med("snapset-direct", n, "window"), med("nova", n, "window"), med("snapset", n, "window")
            if dw is None or bw is None:
                continue
            own = dw - med("snapset-direct", n, "freeze") - med("snapset-direct", n, "thaw")
            dt, rt = med("snapset-direct", n, "total"), med("snapset", n, "total")
            r = {"direct_over_baseline": dw / bw, "direct_less_freeze_thaw": own,
                 "direct_less_freeze_thaw_over_n1": own / own1 if own1 else None,
                 "direct_total_over_rest_total": dt / rt if dt and rt else None,
                 "direct_over_baseline_paired": paired("snapset-direct", "nova", n)}
            summary["ratios"].setdefault(str(n), {})["direct"] = r
            num = lambda x: "%.0f" % x if x is not None else "–"
            rows.append([n, num(bw), num(rw), num(dw), "%.2f" % r["direct_over_baseline"],
                         fmt(r["direct_over_baseline_paired"], True), "%.0f" % own,
                         "%.2f" % r["direct_less_freeze_thaw_over_n1"] if own1 else "–",
                         num(med("snapset-direct", n, "backend")), num(dt), num(rt),
                         "%.2f" % r["direct_total_over_rest_total"] if r["direct_total_over_rest_total"] else "–"])
        head = ["N", "baseline window", "REST window", "direct window", "direct/baseline (of medians)",
                "direct/baseline (per round)", "direct window − freeze − thaw",
                "that / same at N=%d" % ns[0], "RBD creates (first start → last done)",
                "direct: create until every member available", "REST: same", "direct/REST (time to available)"]
        md.append("### Direct RBD, ms (medians)\n\n" + table(head, rows))

    # ---- the direct path's variants (snapset-direct-pollMS): time to available
    dvs = [v for v in variants if v.startswith("snapset-direct-")]
    if ns and dvs and "snapset" in variants:
        rows = []
        for n in ns:
            rt = med("snapset", n, "total")
            row = [n, "%.0f" % rt if rt else "–"]
            for v in ["snapset-direct"] + dvs:
                dt = med(v, n, "total")
                row += ["%.0f" % dt if dt else "–", "%.2f" % (dt / rt) if dt and rt else "–"]
            rows.append(row)
        head = ["N", "REST: create until every member available"]
        for v in ["snapset-direct"] + dvs:
            head += [v, "%s/REST" % v]
        md.append("### Direct RBD variants: create until every member available, ms (medians)\n\n" +
                  table(head, rows))

    # ---- the set's own record: created (journal written) -> finished
    if ns and "snapset-direct" in variants and "snapset" in variants and med("snapset", ns[0], "set_ms"):
        rows = []
        for n in ns:
            d, r = med("snapset-direct", n, "set_ms"), med("snapset", n, "set_ms")
            if d and r:
                summary["ratios"].setdefault(str(n), {}).setdefault("direct", {})["set_direct_over_rest"] = d / r
                rows.append([n, "%.0f" % d, "%.0f" % r, "%.2f" % (d / r)])
        md.append("### The set's record, created → finished (available), ms (medians)\n\n" + table(
            ["N", "direct", "REST", "direct/REST"], rows))

    # ---- local disks
    sizes = []
    for r in runs:
        if r["phase"] == "local" and r["disk"] not in sizes:
            sizes.append(r["disk"])
    if sizes:
        rows = []
        for d in sizes:
            s = {k: stat([r.get(k) for r in sel("local", "snapset-local", disk=d)])
                 for k in ("window", "freeze", "request", "thaw", "total", "frozen_fs")}
            b = {k: stat([r.get(k) for r in sel("local", "nova-local", disk=d)])
                 for k in ("window", "backup_begin", "total")}
            summary["local"][d] = {"snapset": s, "backup_begin_alone": b}
            rows.append([d, fmt(s["frozen_fs"]), fmt(s["request"]), fmt(b["backup_begin"]), fmt(s["window"]),
                         fmt(s["total"]), fmt(b["total"])])
        head = ["extra local disk (sparse qcow2)", "fs frozen",
                "snapset request_ms (journal + backup job start)", "virDomainBackupBegin alone",
                "snapset window", "snapset create, total", "baseline run, total"]
        md.append("### Fixing local disks (root + one extra disk), ms: median (min–max)\n\n" + table(head, rows))

    if failed:
        md.append("Failed runs (left out above): %d\n\n" % len(failed) + "\n".join(
            "- %s N=%s rep %s: %s" % (f["variant"], f["n"], f["rep"], (f.get("stderr") or "").splitlines()[:1])
            for f in failed))
    m = machine
    hdr = ("Machine: %s, %s CPUs (%s), %s MiB; guest %s (virt type %s); %s other domains running; "
           "Ceph %s, mon paxos_propose_interval %s s; cinder-api workers %s; %s repetitions per cell, "
           "started %s, finished %s." % (
               m.get("host"), m.get("cpus"), m.get("cpu_model"), m.get("mem_mib"), "snapbench", m.get("virt_type"),
               m.get("other_domains"), m.get("ceph_version"), m.get("paxos_propose_interval"),
               m.get("osapi_volume_workers"), m.get("reps"), m.get("started"), m.get("finished")))
    loads = [r["loadavg"].split()[0] for r in runs if r.get("loadavg")]
    if loads:
        lf = [float(x) for x in loads]
        hdr += " Load average (1 min) during the runs: median %.1f, %.1f–%.1f." % (
            statistics.median(lf), min(lf), max(lf))
        summary["loadavg_1min"] = stat(lf)
    text = hdr + "\n\n" + "\n\n".join(md) + "\n"
    open(os.path.join(out, "tables.md"), "w").write(text)
    summary["runs"] = runs
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    print(text)
    if ns:
        plot(out, summary, ns, variants)


def plot(out, summary, ns, variants):
    c = summary["cinder"]
    with open(os.path.join(out, "window.dat"), "w") as f:
        for i, v in enumerate(variants):
            f.write("# %s\n" % v)
            for n in ns:
                s = c[v][str(n)]["window"]
                if s:  # a small x offset per variant keeps the bars apart
                    x = n * 2 ** ((i - (len(variants) - 1) / 2.0) * 0.035)
                    f.write("%.4f %.1f %.1f %.1f\n" % (x, s["median"], s["min"], s["max"]))
            f.write("\n\n")
    with open(os.path.join(out, "parts.dat"), "w") as f:
        f.write("# x N variant freeze request wait thaw overhead window\n")
        for i, n in enumerate(ns):
            for j, v in enumerate(["nova", "snapset"]):
                if v not in c:
                    continue
                s = c[v][str(n)]
                g = lambda k: (s.get(k) or {}).get("median") or 0
                f.write("%.2f %d %s %.1f %.1f %.1f %.1f %.1f %.1f\n" % (
                    i + (j - 0.5) * 0.36, n, v, g("freeze"), g("request"), g("wait"), g("thaw"),
                    g("overhead"), g("window")))
    names = " ".join('"%s"' % LABEL[v] for v in variants)
    xt = ", ".join('"%d" %d' % (n, i) for i, n in enumerate(ns))
    gp = """set terminal pngcairo size 1400,560 font "DejaVu Sans,10"
set output "%(out)s/window.png"
set termoption noenhanced
colors = "#7b3294 #1a9641 #2b83ba #fdae61 #d7191c #636363 #a6611a"
set multiplot layout 1,2 title "snapset vs a Nova-style baseline: frozen window (TCG guest, 1 ext4 per volume + root; Ceph RBD)"
set title "Frozen window vs N (median, min-max bars)"
set xlabel "Cinder volumes N (+ local root disk)"
set ylabel "ms"
set logscale x 2
set xrange [0.8:%(xmax)s]
set yrange [0:*]
set key top left
set grid ytics
names = '%(names)s'
plot for [i=0:%(last)d] "%(out)s/window.dat" index i using 1:2:3:4 with yerrorlines lw 1.5 pt 7 ps 0.8 lc rgb word(colors, i+1) title word(names, i+1)
unset logscale x
set title "Where the window goes (medians of the parts): B = Nova-style baseline, S = snapset"
set xrange [-0.6:%(xr)s]
set xtics (%(xt)s)
set style fill solid 0.85 border -1
set boxwidth 0.34
set key top left
plot "%(out)s/parts.dat" using 1:($4+$5+$6+$7) with boxes lc rgb "#7f7f7f" title "thaw", \\
     "" using 1:($4+$5+$6) with boxes lc rgb "#ff7f0e" title "wait for Cinder", \\
     "" using 1:($4+$5) with boxes lc rgb "#2ca02c" title "requests (+ backup job)", \\
     "" using 1:4 with boxes lc rgb "#1f77b4" title "agent freeze", \\
     "" using 1:9 with points pt 5 ps 0.8 lc rgb "black" title "median window", \\
     "" using 1:($4+$5+$6+$7):(stringcolumn(3) eq "nova" ? "B" : "S") with labels offset 0,1.3 notitle
unset multiplot
""" % {"out": out, "names": names, "last": len(variants) - 1, "xt": xt, "xr": len(ns) - 0.4,
       "xmax": ns[-1] * 1.25}
    # word() splits on blanks: use labels without blanks inside the quotes
    gp = gp.replace("names = '%s'" % names, "names = '%s'" % " ".join(
        '"%s"' % LABEL[v] for v in variants))
    path = os.path.join(out, "window.gp")
    open(path, "w").write(gp)
    try:
        subprocess.run(["gnuplot", path], check=True)
        print("plot: %s/window.png" % out)
    except (OSError, subprocess.CalledProcessError) as e:
        print("plot: gnuplot failed (%s); data in %s" % (e, out), file=sys.stderr)


if __name__ == "__main__":
    main()
