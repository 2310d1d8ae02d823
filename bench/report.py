#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn one benchmark run's raw data (bench/bench.sh's RAW directory) into the
markdown results file and the data of the overhead plot. Every figure is
computed here from the raw measurements of that run; nothing is cached.

usage: report.py --raw DIR --out RESULTS.md [--plot-data overhead.dat]
"""
import argparse
import csv
import glob
import math
import os
import random
import re
import statistics


def median(v):
    return statistics.median(v) if v else math.nan


def pct(v, p):
    """Nearest-rank percentile."""
    if not v:
        return math.nan
    s = sorted(v)
    k = max(1, min(len(s), math.ceil(p / 100.0 * len(s))))
    return s[k - 1]


def fnum(x, fmt="{:.1f}"):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def spread(v, fmt="{:.1f}"):
    """median [min – max]"""
    if not v:
        return "n/a"
    return f"{fnum(median(v), fmt)} [{fnum(min(v), fmt)} – {fnum(max(v), fmt)}]"


def boot(stat, samples, seed, level=0.95, resamples=2000):
    """Percentile-bootstrap interval of stat(*samples), each sample list
    resampled on its own (fixed seed: the same raw data always gives the same
    interval)."""
    if any(len(v) < 3 for v in samples):
        return (math.nan, math.nan)
    rng = random.Random(seed)
    d = sorted(stat(*[rng.choices(v, k=len(v)) for v in samples]) for _ in range(resamples))
    return (d[int((1 - level) / 2 * resamples)], d[min(resamples - 1, int((1 + level) / 2 * resamples))])


def median_ci(v):
    """95 % interval of the median."""
    return boot(statistics.median, [v], 12345)


def diff_ci(a, b):
    """95 % interval of median(a) - median(b)."""
    return boot(lambda x, y: statistics.median(x) - statistics.median(y), [a, b], 54321)


def ci_str(ci, fmt="{:+.1f}"):
    return "n/a" if any(math.isnan(x) for x in ci) else f"{fnum(ci[0], fmt)} – {fnum(ci[1], fmt)}"


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f)]


def read_kv(path):
    d = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    d[k] = v
    return d


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def to_float(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


KIND_NAME = {
    "base": "no program",
    "nc": "netchaos (eBPF, LPM trie)",
    "nctc": "netchaos, --attach tc (clsact + cls_bpf)",
    "nca": "netchaos, an address-only rule (the fast front off)",
    "null": "empty TC program (tcx, both directions): the hook's own cost",
    "tc": "tc: htb + u32 filters",
    "ipt": "iptables chain",
}


# ---- 1. datapath ----------------------------------------------------------
def datapath(raw, plot_path, attach=None):
    rows = read_csv(os.path.join(raw, "datapath.csv"))
    if not rows:
        return None
    kind_name = dict(KIND_NAME)
    if attach:
        kind_name["nc"] = f"netchaos (eBPF, LPM trie; {attach} attach)"
    for r in rows:
        r["seq"] = int(r["seq"])
        r["rules"] = int(r["rules"])
        for k in ("udp_base_pps", "udp_pps", "tcp_bps", "tcp_skb_per_s"):
            r[k] = to_float(r[k])
    rows.sort(key=lambda r: r["seq"])
    tcp_base = [r for r in rows if r["kind"] == "base" and r["tcp_bps"] is not None]

    def tcp_baseline(r):
        """Mean of the TCP baseline runs right before and after r."""
        before = [b for b in tcp_base if b["seq"] < r["seq"]]
        after = [b for b in tcp_base if b["seq"] > r["seq"]]
        near = ([before[-1]] if before else []) + ([after[0]] if after else [])
        return sum(b["tcp_bps"] for b in near) / len(near) if near else None

    def udp_over(sel):
        return [100.0 * (1.0 - r["udp_pps"] / r["udp_base_pps"]) for r in sel
                if r["udp_pps"] is not None and r["udp_base_pps"]]

    def tcp_over(sel):
        out = []
        for r in sel:
            b = tcp_baseline(r)
            if r["tcp_bps"] is not None and b:
                out.append(100.0 * (1.0 - r["tcp_bps"] / b))
        return out

    installed = {r["key"]: r for r in read_csv(os.path.join(raw, "installed.csv"))}
    configs = []
    for r in rows:
        if r["kind"] != "base" and r["config"] not in [c for c, _, _ in configs]:
            configs.append((r["config"], r["kind"], r["rules"]))
    order = {"ctl": 0, "null": 1, "nc": 2, "nca": 3, "nctc": 4, "tc": 5, "ipt": 6}
    configs.sort(key=lambda c: (order.get(c[1], 9), c[2]))

    cont = [r for r in rows if r["kind"] != "base"]
    ub = [r["udp_base_pps"] / 1e3 for r in cont if r["udp_base_pps"] is not None]
    tb = [r["tcp_bps"] / 1e9 for r in tcp_base]
    t = [["no program (the baseline pair)", 0, "—", "—", f"{len(ub)} / {len(tb)}", spread(ub),
          "(baseline)", "—", spread(tb, "{:.2f}"), "(baseline)", "—"]]
    plot = {}
    over = {}
    for key, kind, n in configs:
        sel = [r for r in rows if r["config"] == key]
        udp = [r["udp_pps"] / 1e3 for r in sel if r["udp_pps"] is not None]
        tcp = [r["tcp_bps"] / 1e9 for r in sel if r["tcp_bps"] is not None]
        skb = [r["tcp_skb_per_s"] / 1e3 for r in sel if r["tcp_skb_per_s"] is not None]
        o_udp, o_tcp = udp_over(sel), tcp_over(sel)
        inst = installed.get(key, {})
        over[(kind, n)] = o_udp
        if kind == "ctl":
            name, inst_s, matched = "no program (A/A control: noise floor)", "—", "—"
        elif kind == "null":
            name = kind_name[kind]
            inst_s, matched = f"{inst.get('installed', '?')} links", "—"
        else:
            name = kind_name.get(kind, kind)
            inst_s, matched = inst.get("installed", "?"), inst.get("matched_packets", "?")
            plot.setdefault(kind, {})[n] = (o_udp, o_tcp)
        t.append([name, n, inst_s, matched, f"{len(udp)} / {len(tcp)}", spread(udp),
                  spread(o_udp, "{:+.1f}"), ci_str(median_ci(o_udp)), spread(tcp, "{:.2f}"),
                  spread(o_tcp, "{:+.1f}"), fnum(median(skb))])
    lines = [table(["contender", "rules", "installed", "matched pkts", "runs UDP / TCP",
                    "UDP 64 B kpps", "UDP overhead % median [min – max]",
                    "95 % CI of the median", "TCP Gbit/s", "TCP overhead %", "TCP kskb/s"], t)]

    # a contender that lost rules during the runs measured something else
    short = [f"{key}: {installed.get(key, {}).get('installed', '?')} of {n}"
             for key, kind, n in configs if kind in ("nc", "nca", "nctc", "tc", "ipt")
             and str(installed.get(key, {}).get("installed")) != str(n)]
    if short:
        lines.append("")
        lines.append("**Not valid: after the runs these contenders held fewer rules than they "
                     "were given, so their figures are not theirs: " + "; ".join(short) + ".**")

    # what netchaos adds on top of the hook: netchaos minus the empty program
    null = next((v for (k, _), v in over.items() if k == "null"), None)
    if null:
        dt = []
        for key, kind, n in configs:
            if kind not in ("nc", "nca", "nctc"):
                continue
            o = over.get((kind, n), [])
            dt.append([kind_name[kind], n, fnum(median(o) - median(null), "{:+.1f}")
                       if o else "n/a", ci_str(diff_ci(o, null))])
        lines.append("")
        lines.append("netchaos above the empty TC program (its own classifier's cost, UDP packet "
                     "rate; median of netchaos minus median of the empty program, with a bootstrap "
                     "95 % interval):")
        lines.append("")
        lines.append(table(["contender", "rules", "UDP overhead above the empty program %",
                            "95 % interval"], dt))

    prec = precision(raw, kind_name)
    if prec:
        lines.append("")
        lines.append(prec)
    ins = insitu(raw, kind_name)
    if ins:
        lines.append("")
        lines.append(ins)

    # rule loading times
    lt = []
    for key, kind, n in configs:
        if kind not in ("nc", "nca", "nctc", "tc", "ipt"):
            continue
        info = installed.get(key, {}).get("load_info", "")
        if kind in ("nc", "nctc"):
            kv = dict(x.split("=", 1) for x in info.split(";") if "=" in x)
            secs = to_float(kv.get("seconds"))
            detail = (f"{n} add requests on one socket connection; per request p50 "
                      f"{kv.get('add_p50_us', '?')} µs, p99 {kv.get('add_p99_us', '?')} µs"
                      + (" (the first rule of a namespace loads the classifier)" if n == 1 else ""))
        elif kind == "nca":
            secs = to_float(info)
            detail = "one `chaosctl drop --ip` (the first rule of a namespace loads the classifier)"
        elif kind == "tc":
            secs = to_float(info)
            detail = "one `tc -batch` (qdisc, class, pfifo, N filters)"
        else:
            secs = to_float(info)
            detail = "one `iptables-restore` (chain, 2 jumps, N rules)"
        lt.append([kind_name[kind], n, fnum(secs * 1000 if secs is not None else None, "{:.0f}"), detail])
    lines.append("")
    lines.append("Time to install the rules (setup, not part of the figures above):")
    lines.append("")
    lines.append(table(["contender", "rules", "ms", "how"], lt))

    if plot_path:
        with open(plot_path, "w") as f:
            for idx, name in ((0, "udp"), (1, "tcp")):
                f.write(f"# {name}: rules nc_med nc_min nc_max tc_med tc_min tc_max ipt_med ipt_min ipt_max\n")
                ns = sorted({n for k in plot.values() for n in k})
                for n in ns:
                    cols = [str(n)]
                    for kind in ("nc", "tc", "ipt"):
                        v = plot.get(kind, {}).get(n, ([], []))[idx]
                        cols += ([f"{median(v):.3f}", f"{min(v):.3f}", f"{max(v):.3f}"]
                                 if v else ["NaN"] * 3)
                    f.write(" ".join(cols) + "\n")
                f.write("\n\n")
            # index 2: the empty program's median UDP overhead (the hook's floor)
            null = over.get(("null", 0), [])
            f.write("# empty TC program: rules udp_med\n")
            for x in (0.5, 20000):
                f.write(f"{x} {median(null):.3f}\n" if null else f"{x} NaN\n")
            f.write("\n\n")
    return "\n".join(lines)


def insitu(raw, kind_name):
    """The programs' own time per packet on real traffic (bpf_stats)."""
    rows = read_csv(os.path.join(raw, "datapath-insitu.csv"))
    if not rows:
        return None
    ns, pps = {}, {}
    for r in rows:
        ns.setdefault(r["config"], []).append(float(r["ns_per_run"]))
        if to_float(r["pps"]):
            pps.setdefault(r["config"], []).append(float(r["pps"]))
    t = []
    for key in ("null-0", "nc-1", "nc-10000", "nca-1"):
        v = ns.get(key)
        if not v:
            continue
        kind, n = key.split("-")[0], int(key.split("-")[1])
        above, share = "—", "—"
        if kind in ("nc", "nca") and ns.get("null-0"):
            d = median(v) - median(ns["null-0"])
            above = fnum(d, "{:+.1f}")
            if pps.get(key):
                share = fnum(100.0 * d * median(pps[key]) / 1e9, "{:.2f}")
        t.append([kind_name.get(kind, kind), n, len(v), spread(v), above,
                  fnum(1e9 / median(pps[key]), "{:.0f}") if pps.get(key) else "n/a", share])
    return "\n".join([
        "The programs' own time per packet on the same traffic (kernel.bpf_stats_enabled: the "
        "kernel's run time of each program over a flood of one pair (1 s; 0.5 s in the quick run); the statistics' own two "
        "clock reads are in every figure, so the empty program's row is that floor):", "",
        table(["contender", "rules", "runs", "ns per packet median [min – max]",
               "above the empty program ns", "ns per packet end to end", "above the empty program, % of a packet"], t)])


def precision(raw, kind_name):
    """The precision rounds: ctl, the empty program, netchaos at 1 and 10,000
    rules, UDP only, many rounds; each pair calibrated against the base pair
    before anything was installed."""
    rows = read_csv(os.path.join(raw, "datapath-precision.csv"))
    if not rows:
        return None
    ratio = {}
    for r in rows:
        b, c = to_float(r["udp_base_pps"]), to_float(r["udp_pps"])
        if b and c is not None:
            ratio.setdefault((r["phase"], r["config"]), []).append(c / b)

    def corrected(inst, cal):
        """overhead %, the pair's own difference to the base pair taken out"""
        return 100.0 * (1.0 - median(inst) / median(cal))

    def above(inst, cal, ninst, ncal):
        return corrected(inst, cal) - corrected(ninst, ncal)

    names = {"ctl": "no program (A/A control)"}
    t = []
    got = {}
    for key in ("ctl", "null-0", "nc-1", "nc-10000"):
        inst, cal = ratio.get(("installed", key)), ratio.get(("calibration", key))
        if not inst or not cal:
            continue
        got[key] = (inst, cal)
        kind, n = key.split("-")[0], (0 if key == "ctl" else int(key.split("-")[1]))
        raw_o = 100.0 * (1.0 - median(inst))
        cor = corrected(inst, cal)
        ab = "—"
        if kind == "nc" and "null-0" in got:
            ab = (f"{fnum(above(inst, cal, *got['null-0']), '{:+.1f}')} "
                  f"({ci_str(boot(above, [inst, cal, *got['null-0']], 7))})")
        t.append([names.get(key, kind_name.get(kind, kind)), n, f"{len(cal)} / {len(inst)}",
                  fnum(100.0 * (median(cal) - 1.0), "{:+.1f}"), fnum(raw_o, "{:+.1f}"),
                  fnum(cor, "{:+.1f}"), ci_str(boot(corrected, [inst, cal], 3)), ab])
    out = ["Precision rounds (UDP 64 B only, many more runs of the same A/B interleaving; each pair "
           "was also measured against the base pair before anything was installed, and that "
           "difference, the pair's own, is taken out of the overhead):", "",
           table(["contender", "rules", "runs before / installed",
                  "pair vs base before install %", "overhead % (raw median)",
                  "overhead % (pair taken out)", "95 % CI", "above the empty program % (95 % CI)"], t)]
    if "nc-1" in got and "nc-10000" in got:
        d = corrected(*got["nc-10000"]) - corrected(*got["nc-1"])
        ci = boot(lambda a, b, c, e: corrected(a, b) - corrected(c, e),
                  [*got["nc-10000"], *got["nc-1"]], 11)
        out += ["", f"Flat in N: netchaos at 10,000 rules minus at 1 rule: {fnum(d, '{:+.1f}')} % "
                f"(95 % CI {ci_str(ci)})."]
    out += ["", "Intervals: percentile bootstrap (2,000 resamples) of the medians. The A/A "
            "control's row is the same empty pair measured twice: its interval is what this "
            "machine can resolve."]
    return "\n".join(out)


# ---- 2. latency --------------------------------------------------------------
LAT_VARIANTS = [
    ("nc-cli-cold", "netchaos: `chaosctl drop` / `chaosctl clear ID`, first rule of the namespace",
     "1 exec each; the agent loads and attaches the classifier for the namespace, and takes it away with the last rule"),
    ("nc-cli-warm", "netchaos: `chaosctl drop` / `chaosctl clear ID`",
     "1 exec each; the namespace already has another rule"),
    ("nc-socket-warm", "netchaos agent: add / clear on a persistent socket connection",
     "no process start: request → reply is the agent's own work (+ a Unix socket round trip)"),
    ("nc-socket-cold", "netchaos agent: add / clear on the socket, first rule of the namespace",
     "as above, including program load and attach"),
    ("tc-filter", "forked `tc filter add` / `tc filter del` (htb tree already built)",
     "1 exec each (`tc -n NS`); u32 filter to an htb class whose pfifo has limit 0 (drops)"),
    ("tc-tree", "forked `tc` building the tree per fault, `tc qdisc del root` to remove",
     "4 execs to apply (qdisc, class, pfifo, filter), 1 to remove — the Pumba / ChaosBlade sequence"),
    ("iptables", "forked `nsenter iptables -I OUTPUT … -j DROP` / `-D`",
     "1 exec each (nsenter then iptables, nf_tables backend)"),
]


def latency(raw):
    t = []
    res = None
    notes = []
    for name, what, how in LAT_VARIANTS:
        path = os.path.join(raw, f"latency-{name}.csv")
        if not os.path.exists(path):
            continue
        rows, interval = [], ""
        with open(path) as f:
            for line in f:
                if line.startswith("#"):
                    m = re.search(r"p50=([\d.]+) p99=([\d.]+)", line)
                    if m:
                        interval = f"{float(m.group(1)):.0f} µs (p99 {float(m.group(2)):.0f})"
                elif not line.startswith("run,"):
                    rows.append(line.strip().split(","))
        ok = [r for r in rows if len(r) >= 6 and r[1] == "1"]

        def col(i):
            return [float(r[i]) / 1000.0 for r in ok if r[i]]

        def pp(v):
            return f"{fnum(pct(v, 50), '{:.2f}')} / {fnum(pct(v, 99), '{:.2f}')}"

        pre = sum(int(r[6]) for r in ok if len(r) > 7 and r[6])
        post = sum(int(r[7]) for r in ok if len(r) > 7 and r[7])
        t.append([what, f"{len(ok)}/{len(rows)}", pp(col(2)), pp(col(3)), pp(col(4)), pp(col(5)),
                  f"{pre} / {post}"])
        notes.append(f"- {what}: {how}.")
        res = res or interval
    if not t:
        return None
    out = [table(["method", "ok runs", "apply: command ms p50 / p99", "apply: acts on traffic ms p50 / p99",
                  "remove: command ms p50 / p99", "remove: traffic back ms p50 / p99",
                  "collateral lost: before / after"], t)]
    out.append("")
    out.append(f"Stream: one UDP datagram every 100 µs (measured send interval {res}); "
               "the resolution of the traffic columns is one interval. \"command\" is the "
               "exec'd command(s) from spawn to exit, or the request → reply time on the socket; "
               "\"acts on traffic\" is the send time of the first datagram that is lost minus "
               "the moment the command was started; \"traffic back\" is the send time of the first "
               "datagram that arrives again minus the moment the removal was started. "
               "p99 is nearest-rank over the ok runs. The fault \"acts\" at the first of 100 "
               "datagrams lost in a row (10 ms; a fault is held at least 23 ms); \"collateral lost\" sums, over the ok runs, datagrams "
               "lost in shorter gaps between the start of the command and that point, and within "
               "30 ms after the traffic is back: packets the change itself destroyed (e.g. a qdisc "
               "graft deactivating the device), which would hit any traffic on the interface.")
    out.append("")
    out += notes
    return "\n".join(out)


# ---- 3. classifier -----------------------------------------------------------
def classifier(raw):
    rows = read_csv(os.path.join(raw, "classifier.csv"))
    if not rows:
        return None
    cells = {}
    for r in rows:
        cells[(int(r["rules"]), r["family"], r["dir"], r["case"])] = r
    t = []
    bad = []
    for n in sorted({k[0] for k in cells}):
        for fam in ("IPv4", "IPv6"):
            row = [n, fam]
            for d in ("egress", "ingress"):
                for case in ("match", "no-match", "named-port"):
                    r = cells.get((n, fam, d, case))
                    if not r:
                        row.append("—")
                        continue
                    want = "drop" if case == "match" else "pass"
                    if r["verdict"] != want:
                        bad.append(f"{n} {fam} {d} {case}: verdict {r['verdict']}")
                    row.append(f"{r['ns_median']} [{r['ns_min']} – {r['ns_max']}]")
            t.append(row)
    out = [table(["rules", "family", "egress match (drop)", "egress no-match", "egress named port",
                  "ingress match (drop)", "ingress no-match", "ingress named port"], t)]
    out.append("")
    out.append("ns per packet, median [min – max] over the rounds; each round is one "
               "BPF_PROG_TEST_RUN call in repeat mode, timed by the kernel. 64-byte UDP frames; "
               "\"match\" hits the last UDP rule of the set (the program drops it), \"no-match\" "
               "(dport 9000) hits none and no rule names its port, so the fast front ends it (two "
               "ports at fixed offsets, one bitmap word, no parse); \"named port\" is UDP to the port of a TCP rule: the LPM lookup runs "
               "and finds no rule for it. The 0-rules row is the program with empty maps.")
    if bad:
        out.append("")
        out.append("**Unexpected verdicts** (these figures do not measure what they say): " + "; ".join(bad))
    return "\n".join(out)


# ---- 4. footprint --------------------------------------------------------------
def footprint(raw):
    rows = read_csv(os.path.join(raw, "footprint.csv"))
    if not rows:
        return None
    t = []
    for r in rows:
        extra = r.get("extra", "") or ""
        note = ""
        if extra.startswith("clients="):
            kv = dict(x.split("=", 1) for x in extra.split() if "=" in x)
            note = (f"{kv.get('rps', '?')} requests/s (add + clear), reply p50 "
                    f"{kv.get('req_p50_us', '?')} µs, p99 {kv.get('req_p99_us', '?')} µs, "
                    f"{kv.get('failures', '?')} failures")
        elif extra.startswith("list:"):
            kv = dict(x.split("=", 1) for x in extra[5:].split() if "=" in x)
            note = (f"one `list` reply of {int(kv.get('bytes', 0)) / 1e6:.1f} MB took "
                    f"{kv.get('ms', '?')} ms ({kv.get('agent_cpu_ms', '?')} ms of agent CPU); "
                    "the peak RSS column shows what building it cost")
        elif extra.startswith("load:"):
            kv = dict(x.split("=", 1) for x in extra[5:].split() if "=" in x)
            note = f"10,000 adds took {kv.get('seconds', '?')} s on one connection"
        rss = to_float(r["rss_kb"])
        hwm = to_float(r["hwm_kb"])
        bpf = to_float(r["bpf_maps_kb"])
        t.append([r["state"], fnum(rss / 1024 if rss else None), fnum(hwm / 1024 if hwm else None),
                  r["cpu_percent"] or "—", fnum(bpf / 1024 if bpf else None), note])
    out = [table(["agent state", "RSS MiB", "peak RSS MiB", "CPU % of one core", "BPF maps MiB (kernel)",
                  "notes"], t)]
    lst = read_kv(os.path.join(raw, "footprint-list.txt"))
    if lst:
        first = open(os.path.join(raw, "footprint-list.txt")).readline().split()
        kv = dict(x.split("=", 1) for x in first if "=" in x)
        out.append("")
        out.append(f"`chaosctl list` with 10,000 rules: {lst.get('chaosctl_list', '?')}.")
    out.append("")
    out.append("RSS from /proc/PID/status (VmRSS, VmHWM); CPU: on-CPU time of the agent's "
               "threads (/proc/PID/task/*/schedstat, ns resolution) over the window; BPF maps: "
               "memlock of the BPF maps the agent holds (/proc/PID/fdinfo, each map once). The clients run on the same "
               "2 cores as the agent.")
    return "\n".join(out)


# ---- 5. VM ----------------------------------------------------------------------
def vm(raw):
    rows = read_csv(os.path.join(raw, "vm-rtt.csv"))
    info = read_kv(os.path.join(raw, "vm-info.txt"))
    if not rows:
        return None
    labels = []
    for r in rows:
        if r["label"] not in labels:
            labels.append(r["label"])
    by = {lab: [float(r["rtt_us"]) / 1000.0 for r in rows if r["label"] == lab] for lab in labels}
    meta = {r["label"]: r for r in rows}
    base = median(by.get("none", []))
    t = []
    for lab in labels:
        v, m = by[lab], meta[lab]
        conf = float(m["configured_ms"])
        jit = float(m["jitter_ms"])
        added = median(v) - base if not math.isnan(base) else math.nan
        sd = statistics.pstdev(v) if len(v) > 1 else math.nan
        if jit and m["distribution"] == "uniform":
            want_sd = jit / math.sqrt(3)
        elif jit:
            want_sd = jit
        else:
            want_sd = 0.0
        t.append([lab, m["source"], len(v), fnum(conf, "{:.0f}"), fnum(median(v), "{:.2f}"),
                  fnum(pct(v, 5), "{:.2f}"), fnum(pct(v, 95), "{:.2f}"),
                  fnum(added, "{:+.2f}") if lab != "none" else "—",
                  fnum(added - conf, "{:+.2f}") if lab != "none" else "—",
                  f"{fnum(sd, '{:.2f}')}" + (f" (expected {want_sd:.2f})" if jit else "")])
    out = [f"Guest: {info.get('vm_kernel', '?')}, {info.get('vm_cpus', '?')} vCPU under qemu TCG "
           "(software emulation: timers and throughput are far from bare metal).", ""]
    out.append(table(["config", "applied by", "probes", "configured ms", "RTT p50 ms", "p5 ms", "p95 ms",
                      "added (p50 − baseline)", "error vs configured", "stdev ms"], t))
    out.append("")
    out.append("RTT of UDP echo probes (bench/ncb_rtt) between two namespaces over a veth; "
               "the delay is configured on the prober's egress only, so it adds once to the RTT.")
    if info.get("agent_delay_via") == "socket":
        out.append("`chaosctl` has no `delay` command in this build: the agent's netem faults are "
                   "applied with the same add request sent on its socket (bench/ncb_client req).")
    if any("pending" in meta[lab]["source"] for lab in labels):
        out.append("Rows marked \"kernel netem\" were set with `tc` because the agent could not apply "
                   "the delay: " + info.get("agent_delay_failed", "no agent") + ".")
    tp = read_csv(os.path.join(raw, "vm-tput.csv"))
    if tp:
        cfgs = []
        for r in tp:
            if r["config"] not in cfgs:
                cfgs.append(r["config"])
        vals = {c: [float(r["bits_per_second"]) / 1e9 for r in tp
                    if r["config"] == c and r["bits_per_second"]] for c in cfgs}
        bmed = median(vals.get("none", []))
        names = {"none": "no qdisc, no program",
                 "classic": "prio root + netem (100 ms) on band 4 + u32 filter for port 9999 (peers' layout)",
                 "netchaos": "netchaos delay 100 ms on port 9999 (the agent's netem, classifier steering)"}
        tt = []
        for c in cfgs:
            v = vals[c]
            rel = "(baseline)" if c == "none" else fnum(100 * (1 - median(v) / bmed), "{:+.1f}") if v and bmed else "n/a"
            tt.append([names.get(c, c), len(v), spread(v, "{:.3f}"), rel])
        out.append("")
        out.append("Throughput of TCP traffic (iperf3, port 5201) that no rule targets, on an interface "
                   "that carries a netem rule for port 9999; configs interleaved per round:")
        out.append("")
        out.append(table(["config", "runs", "Gbit/s median [min – max]", "overhead % (median)"], tt))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot-data")
    a = ap.parse_args()
    env = read_kv(os.path.join(a.raw, "env.txt"))

    doc = ["# netchaos benchmark results", ""]
    doc.append(table(["", ""], [
        ["date", env.get("date_utc", "?")],
        ["machine", f"{env.get('cpu', '?')}, {env.get('memory', '?')}"],
        ["kernel", env.get("kernel", "?")],
        ["OS", env.get("os", "?")],
        ["commit", env.get("commit", "?")],
        ["mode", f"{env.get('mode', '?')} ({env.get('params', '')})"],
        ["tools", env.get("tools", "?")],
        ["run time", f"{env.get('total_seconds', '?')} s"],
    ]))
    doc.append("")
    doc.append("Figures only: benchmarks assert nothing about speed. Raw data: `" +
               os.path.basename(os.path.normpath(a.raw)) + "/`.")
    sections = [
        ("1. Datapath overhead: rules present, traffic not matched", datapath(a.raw, a.plot_data, env.get("nc_attach")),
         "Each contender has its own identical veth pair between two namespaces (198.18.k.1 → .2); "
         "the rules are installed in the sending namespace, on ports 20000.. (TCP and UDP "
         "alternately), and the measured traffic (UDP to port 9000, TCP to 5201) matches none of "
         "them: \"matched pkts\" is read back from the agent / tc class / iptables counters after the "
         "runs. Each round takes the contenders in a new random order. UDP: bench/ncb_flood, "
         "18-byte payloads (64-byte frames), sendmmsg on CPU 0, receivers on CPU 1, packets "
         "received per second; one process alternates between the baseline pair and the "
         "contender's pair in short slices (A B A B …), so each contender figure is paired with a "
         "baseline measured within milliseconds; overhead = 1 − contender / baseline of that run. "
         "TCP: iperf3 -A 0,1 with a fixed byte count, the baseline pair right before each "
         "contender; overhead = 1 − contender / mean of the baseline runs right before and after. "
         "Figures are median [min – max] over the rounds; negative overhead means faster than the "
         "baseline, i.e. noise. The A/A control is a second pair without any program measured as "
         "a contender: its spread is the noise floor of this machine at this moment. \"kskb/s\": "
         "packets (GSO super-packets) per second the hook saw for TCP. "
         "Target for netchaos: ≤ 1 % at 10,000 rules, flat in N."),
        ("2. Apply and removal latency", latency(a.raw),
         "A UDP stream from the sending namespace; a fault drops it (`drop --dport`), then is "
         "removed. Targets: p99 ≤ 2 ms inside the agent; the CLI round trip far below the peers'."),
        ("3. Per-packet cost of the classifier (BPF_PROG_TEST_RUN)", classifier(a.raw), ""),
        ("4. Agent footprint", footprint(a.raw), ""),
        ("5. netem in the VM: delay accuracy and unmatched throughput", vm(a.raw), ""),
    ]
    for title, body, intro in sections:
        if body is None:
            continue
        doc.append("")
        doc.append(f"## {title}")
        doc.append("")
        if intro:
            doc.append(intro)
            doc.append("")
        doc.append(body)
    text = "\n".join(doc) + "\n"
    with open(a.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
