#!/usr/bin/env python3
"""Prints the markdown tables of a bench/run.sh results directory.

    python3 bench/summarize.py bench/results/<run>

Reads <id>.case.json (written by run.sh), <id>.compile.json, <id>.cp.json and <id>.kfp.json
(hyperfine --export-json; the kfp one holds `python -c "import kfp.compiler"` first, then kfp's
compile) and <id>.kfp-rss.txt. Times are medians of the
runs; ratios are ratios of medians. Only the standard library is used.
"""

import glob
import json
import os
import statistics
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def hyperfine(path, index=-1):
    """Median, stddev, min, max, runs and exit codes of a command of a hyperfine export
    (the last one by default), or None."""
    data = load(path)
    if not data:
        return None
    r = data["results"][index]
    times = r["times"]
    return {
        "median": statistics.median(times),
        "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
        "min": min(times),
        "max": max(times),
        "runs": len(times),
        "exit_codes": r.get("exit_codes") or [0] * len(times),
        "user": r.get("user"),
        "system": r.get("system"),
        "command": r["command"],
    }


def fmt_time(s):
    if s is None:
        return "–"
    if s < 0.001:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms" if s < 0.1 else f"{s * 1e3:.0f} ms"
    return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"


def fmt_bytes(b):
    if b is None:
        return "–"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= size:
            return f"{b / size:.1f} {unit}"
    return f"{b} B"


def fmt_ratio(x):
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:,.0f}×"
    return f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def kfp_result(results, case_id):
    path = os.path.join(results, f"{case_id}.kfp.json")
    hf = hyperfine(path)
    if not hf:
        return None
    baseline = hyperfine(path, 0)
    timed_out = any(code == 124 for code in hf["exit_codes"])
    failed = any(code not in (0, 124) for code in hf["exit_codes"])
    rss = None
    try:
        with open(os.path.join(results, f"{case_id}.kfp-rss.txt")) as f:
            numbers = [line.strip() for line in f if line.strip().isdigit()]
            rss = int(numbers[-1]) if numbers else None
    except OSError:
        pass
    return {
        **hf,
        "timed_out": timed_out,
        "failed": failed,
        # A run stopped by `timeout` lasted the timeout: a lower bound of kfp's time.
        "timeout": round(max(hf["max"], 0.0)),
        "rss_kb": rss,
        "import": baseline["median"] if baseline else None,
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    results = sys.argv[1]
    cases = [load(p) for p in glob.glob(os.path.join(results, "*.case.json"))]
    cases = [c for c in cases if c]
    order = {"example": 0, "chain": 1, "fanout": 2, "layered": 3}
    cases.sort(key=lambda c: (c["shape"] != "example", c["n"], c["syntax"], order.get(c["shape"], 9)))

    rows = {}
    for c in cases:
        cid = c["id"]
        rows[cid] = {
            "case": c,
            "compile": hyperfine(os.path.join(results, f"{cid}.compile.json")),
            "cp": hyperfine(os.path.join(results, f"{cid}.cp.json")),
            "kfp": kfp_result(results, cid),
        }

    out = []
    p = out.append
    p("### Whole process, per notebook\n")
    p("Times are medians of the hyperfine runs (± standard deviation). `kfp − import` subtracts "
      "the median of `python -c \"import kfp.compiler\"`, measured in the same hyperfine call, "
      "from kfp's (Python's start-up and kfp's import: the fixed cost of any kfp compile). "
      "Peak RSS is from `/usr/bin/time -v` (automlops) and `/usr/bin/time -f %M` (kfp).\n")
    p("| notebook | syntax | N | notebook size | output files | output bytes: files (du -sb) | automlops compile | peak RSS | `cp -r` of the output | compile / cp | kfp compile | kfp − import | kfp / automlops | (kfp − import) / automlops | kfp peak RSS |")
    p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for cid, r in rows.items():
        c, comp, cp, kfp = r["case"], r["compile"], r["cp"], r["kfp"]
        name = cid.replace("example-", "examples/") if c["shape"] == "example" else c["shape"]
        if c["exit"] != 0:
            p(f"| {name} | {c['syntax']} | {c['n']:,} | {fmt_bytes(c['notebook_bytes'])} | | | **exit {c['exit']}** | {c['rss_kb'] / 1024:.0f} MB | | | | | | | |")
            continue
        comp_s = f"{fmt_time(comp['median'])} ± {fmt_time(comp['stddev'])} (min {fmt_time(comp['min'])})" if comp else "–"
        cp_s = f"{fmt_time(cp['median'])} ± {fmt_time(cp['stddev'])} (min {fmt_time(cp['min'])})" if cp else "–"
        ratio_cp = comp["median"] / cp["median"] if comp and cp else None
        if kfp is None:
            kfp_s = kfp_net_s = kfp_ratio = kfp_net_ratio = kfp_rss = "not run"
        elif kfp["timed_out"]:
            kfp_s = f"> {kfp['timeout']} s (timeout)"
            kfp_net_s = f"> {fmt_time(kfp['timeout'] - (kfp['import'] or 0))}"
            kfp_ratio = f"> {fmt_ratio(kfp['timeout'] / comp['median'])}"
            kfp_net_ratio = f"> {fmt_ratio((kfp['timeout'] - (kfp['import'] or 0)) / comp['median'])}"
            kfp_rss = "–"
        elif kfp["failed"]:
            kfp_s = kfp_net_s = kfp_ratio = kfp_net_ratio = kfp_rss = f"failed (exit {kfp['exit_codes']})"
        else:
            net = kfp["median"] - kfp["import"] if kfp["import"] is not None else None
            kfp_s = f"{fmt_time(kfp['median'])} ± {fmt_time(kfp['stddev'])} (min {fmt_time(kfp['min'])})"
            kfp_ratio = fmt_ratio(kfp["median"] / comp["median"])
            if net is None:
                kfp_net_s = kfp_net_ratio = "–"
            elif net <= 0:
                kfp_net_s, kfp_net_ratio = "≈ 0 (below the noise)", "–"
            else:
                kfp_net_s, kfp_net_ratio = fmt_time(net), fmt_ratio(net / comp["median"])
            kfp_rss = f"{kfp['rss_kb'] / 1024:.0f} MB" if kfp["rss_kb"] else "–"
        warn = (f" ({c['warnings']} warning{'s' if c['warnings'] != 1 else ''})"
                if c.get("warnings") else "")
        p(f"| {name}{warn} | {c['syntax']} | {c['n']:,} | {fmt_bytes(c['notebook_bytes'])} | {c['files']:,} | "
          f"{fmt_bytes(c['file_bytes'])} ({fmt_bytes(c['du_bytes'])}) | {comp_s} | {c['rss_kb'] / 1024:.1f} MB | {cp_s} | {fmt_ratio(ratio_cp)} | "
          f"{kfp_s} | {kfp_net_s} | {kfp_ratio} | {kfp_net_ratio} | {kfp_rss} |")

    # Scaling: ours(10N) / ours(N) per syntax and shape.
    series = {}
    for cid, r in rows.items():
        c = r["case"]
        if c["shape"] == "example" or c["exit"] != 0 or not r["compile"]:
            continue
        series.setdefault((c["syntax"], c["shape"]), {})[c["n"]] = r
    p("\n### Growth: time at 10×N over time at N\n")
    p("Ratios of medians. Target: at most 12× for automlops. `cp -r` is the same ratio for copying "
      "the output trees, `output bytes` the ratio of their sizes.\n")
    p("| syntax | shape | N → 10N | automlops | `cp -r` | output bytes | kfp |")
    p("|---|---|---|--:|--:|--:|--:|")
    growth = []
    for (syntax, shape), by_n in sorted(series.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9))):
        for n in sorted(by_n):
            if n * 10 not in by_n:
                continue
            a, b = by_n[n], by_n[n * 10]
            g = b["compile"]["median"] / a["compile"]["median"]
            growth.append((syntax, shape, n, g))
            gcp = b["cp"]["median"] / a["cp"]["median"] if a["cp"] and b["cp"] else None
            gbytes = b["case"]["file_bytes"] / a["case"]["file_bytes"]
            ka, kb = a["kfp"], b["kfp"]
            if ka and kb and not ka["timed_out"] and not ka["failed"] and not kb["failed"]:
                gk = (f"> {fmt_ratio(kb['timeout'] / ka['median'])}" if kb["timed_out"]
                      else fmt_ratio(kb["median"] / ka["median"]))
            else:
                gk = "–"
            p(f"| {syntax} | {shape} | {n:,} → {n * 10:,} | {fmt_ratio(g)} | {fmt_ratio(gcp)} | {fmt_ratio(gbytes)} | {gk} |")

    # CPU time: what the compiler itself spends, whatever the file system does.
    p("\n### CPU time of automlops (means of the hyperfine runs)\n")
    p("User time is the compiler's own work; system time is mostly the file system "
      "(creating, writing and renaming the output files). `cp -r` shows the system time of "
      "writing the same tree.\n")
    p("| syntax | shape | N | user | system | `cp -r` system | user at 10×N / user at N |")
    p("|---|---|--:|--:|--:|--:|--:|")
    for (syntax, shape), by_n in sorted(series.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9))):
        for n in sorted(by_n):
            comp, cp = by_n[n]["compile"], by_n[n]["cp"]
            nxt = by_n.get(n * 10)
            g = (fmt_ratio(nxt["compile"]["user"] / comp["user"])
                 if nxt and comp["user"] and nxt["compile"]["user"] else "")
            p(f"| {syntax} | {shape} | {n:,} | {fmt_time(comp['user'])} | {fmt_time(comp['system'])} | "
              f"{fmt_time(cp['system']) if cp else '–'} | {g} |")

    # Targets.
    p("\n### Targets\n")
    p("| target | measured | met |")
    p("|---|---|---|")

    def verdict(ok):
        return "yes" if ok else "**no**"

    for cid, r in rows.items():
        c, comp, kfp = r["case"], r["compile"], r["kfp"]
        if c["shape"] != "example" or not comp or not kfp or kfp["failed"] or kfp["timed_out"]:
            continue
        ratio = kfp["median"] / comp["median"]
        net = ((kfp["median"] - kfp["import"]) / comp["median"]
               if kfp["import"] is not None else None)
        note = ""
        if net is not None and (net >= 100) != (ratio >= 100):
            note = " with Python's start-up and kfp's import counted; " + (
                "no" if ratio >= 100 else "yes") + " without them"
        p(f"| {cid.replace('example-', 'examples/')}: ≥ 100× faster than kfp | {fmt_ratio(ratio)} "
          f"(minimums: {fmt_ratio(kfp['min'] / comp['min'])}; "
          f"{fmt_ratio(net) if net is None or net > 0 else '≈ 0'} without kfp's import) | "
          f"{verdict(ratio >= 100)}{note} |")
    for cid, r in rows.items():
        c, comp = r["case"], r["compile"]
        if c["n"] == 1000:
            if c["exit"] != 0:
                p(f"| {cid}: 1,000 components in < 1 s and < 200 MB | exit {c['exit']} | **no** |")
                continue
            ok = comp["median"] < 1 and c["rss_kb"] / 1024 < 200
            p(f"| {cid}: 1,000 components in < 1 s and < 200 MB | {fmt_time(comp['median'])}, "
              f"{c['rss_kb'] / 1024:.0f} MB | {verdict(ok)} |")
    for cid, r in rows.items():
        c, comp = r["case"], r["compile"]
        if c["n"] == 10000:
            p(f"| {cid}: 10,000 components finish | exit {c['exit']}"
              f"{', ' + fmt_time(comp['median']) + ', ' + format(c['rss_kb'] / 1024, '.0f') + ' MB' if comp else ''} | {verdict(c['exit'] == 0)} |")
    for syntax, shape, n, g in growth:
        p(f"| {syntax}-{shape}: 10× components ({n:,} → {n * 10:,}) at most 12× time | {fmt_ratio(g)} | {verdict(g <= 12)} |")
    for cid, r in rows.items():
        comp, cp = r["compile"], r["cp"]
        if comp and cp:
            ratio = comp["median"] / cp["median"]
            p(f"| {cid}: compile ≤ 3× `cp -r` of its output | {fmt_ratio(ratio)} ({fmt_time(comp['median'])} vs {fmt_time(cp['median'])}) | {verdict(ratio <= 3)} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
