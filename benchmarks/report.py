#!/usr/bin/python3
"""Plot and tabulate a wgflow_bench JSON file (docs/benchmarks.md describes the columns).

    report.py RESULT.json [--baseline BASE.json] [--png docs/benchmarks.png] [--md docs/benchmarks.md]

The PNG shows effective GB/s versus threads (largest grid of each dimension) and versus grid size (most
threads), each with the STREAM triad the same run measured. The markdown tables replace the text
between the markers `<!-- bench:results:begin -->` and `<!-- bench:results:end -->` of the --md file
(the rest of the file is left alone; a missing file or missing markers get the tables appended).
Needs only the Python standard library and Debian's python3-matplotlib.
"""
import argparse
import json
import os
import sys

BEGIN = "<!-- bench:results:begin -->"
END = "<!-- bench:results:end -->"
# The targets, at 2 threads on the out-of-cache grids.
TARGET_PCT = {"sg-heat": 70.0, "sg-fp": 70.0, "porous": 50.0}
TARGET_SIZES = {2: 2048, 3: 256}


def load(path):
    with open(path) as f:
        return json.load(f)


def fmt(v, digits=3):
    if v is None:
        return "–"
    if abs(v) >= 1e4 or (abs(v) < 1e-2 and v != 0):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}"


def stream_by_threads(data):
    return {s["threads"]: s["gbs_best"] for s in data["stream_triad"]}


def key(r):
    return (r["kernel"], r["dim"], r["n"], r["threads"])


def results_table(data):
    rows = [
        "| kernel | dim | n | cells | threads | cells/s per step (best / median) | cells/s per stage | B/cell/step "
        "| GB/s (best) | STREAM GB/s | % of STREAM | speedup | efficiency | allocs/step | peak arrays | cpu util |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["results"]:
        rows.append(
            f"| {r['kernel']} | {r['dim']}D | {r['n']} | {fmt(r['cells'])} | {r['threads']} "
            f"| {fmt(r['cells_per_s_step_best'])} / {fmt(r['cells_per_s_step_median'])} "
            f"| {fmt(r['cells_per_s_stage_best'])} | {r['bytes_per_cell_step']:.0f} | {fmt(r['gbs_best'])} "
            f"| {fmt(r['stream_triad_gbs'])} | {r['pct_of_stream']:.1f} | {fmt(r['speedup'])} "
            f"| {fmt(r['efficiency'])} | {r['allocs_per_step']:.0f} | {r['peak_arrays']:.2f} | {fmt(r.get('cpu_util'))} |"
        )
    return "\n".join(rows)


def target_rows(data):
    """Rows at the target sizes with the most threads <= 2."""
    out = []
    for r in data["results"]:
        if TARGET_SIZES.get(r["dim"]) == r["n"] and r["threads"] == 2:
            out.append(r)
    return out


def targets_table(data, baseline=None):
    base = {key(r): r for r in baseline["results"]} if baseline else {}
    head = "| kernel | grid | "
    if base:
        head += "before: cells/s per step | before: % of STREAM | "
    head += ("cells/s per step | GB/s | % of STREAM (target) | efficiency 1→2 (≥ 0.85) | peak arrays (≤ stages + 3 = 6) "
             "| allocs/step |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in target_rows(data):
        grid = f"{r['dim']}D {r['n']}^{r['dim']}"
        ok_pct = "✓" if r["pct_of_stream"] >= TARGET_PCT[r["kernel"]] else "✗"
        ok_eff = "✓" if r["efficiency"] >= 0.85 else "✗"
        ok_mem = "✓" if r["peak_arrays"] <= r["stages"] + 3 + 0.05 else "✗"  # + small per-thread buffers
        line = f"| {r['kernel']} | {grid} | "
        if base:
            b = base.get(key(r))
            line += (f"{fmt(b['cells_per_s_step_best'])} | {b['pct_of_stream']:.1f} | " if b else "– | – | ")
        line += (f"{fmt(r['cells_per_s_step_best'])} | {fmt(r['gbs_best'])} | {r['pct_of_stream']:.1f} "
                 f"({TARGET_PCT[r['kernel']]:.0f}) {ok_pct} | {r['efficiency']:.2f} {ok_eff} | {r['peak_arrays']:.2f} "
                 f"{ok_mem} | {r['allocs_per_step']:.0f} |")
        rows.append(line)
    return "\n".join(rows)


def meta_lines(data):
    m = data["meta"]
    streams = ", ".join(f"{s['threads']} thread{'s' if s['threads'] > 1 else ''}: {s['gbs_best']:.1f} GB/s"
                        for s in data["stream_triad"])
    return "\n".join([
        f"- git `{m['git']}`, {m['compiler']}, flags `{m['flags']}` ({m['build_type']}), CPU {m['cpu']} "
        f"({m['logical_cpus']} logical CPUs), OMP_PROC_BIND={m['omp_proc_bind']}, OMP_PLACES={m['omp_places']}",
        f"- {m['stepper']} at cfl {m['cfl']}; min and median of {m['repeats']} repeats of ≥ {m['min_time_s']} s each; "
        f"load average {m['load_avg_start']} at the start and {m['load_avg_end']} at the end",
        f"- STREAM triad (same program, same threads, best of ≥ 10): {streams}",
    ])


def write_markdown(path, data, baseline):
    block = [BEGIN, "", "### Run", "", meta_lines(data), "", "### Targets (2 threads, out-of-cache grids)", "",
             targets_table(data, baseline), "", "### All results", "", results_table(data), "", END]
    text = "\n".join(block)
    old = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if BEGIN in old and END in old:
        new = old[: old.index(BEGIN)] + text + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    with open(path, "w") as f:
        f.write(new)


def plot(path, data):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stream = stream_by_threads(data)
    kernels = sorted({r["kernel"] for r in data["results"]}, key=["sg-heat", "sg-fp", "porous"].index)
    dims = sorted({r["dim"] for r in data["results"]})
    colors = {"sg-heat": "tab:blue", "sg-fp": "tab:green", "porous": "tab:red"}
    styles = {1: ":", 2: "-", 3: "--"}
    markers = {1: "^", 2: "o", 3: "s"}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.2))

    threads = sorted(stream)
    ax1.plot(threads, [stream[t] for t in threads], "k-", lw=3, alpha=0.35, label="STREAM triad (ceiling)")
    for k in kernels:
        for d in dims:
            rs = [r for r in data["results"] if r["kernel"] == k and r["dim"] == d]
            if not rs:
                continue
            n = max(r["n"] for r in rs)
            pts = sorted((r["threads"], r["gbs_best"]) for r in rs if r["n"] == n)
            ax1.plot([p[0] for p in pts], [p[1] for p in pts], styles[d], marker=markers[d], color=colors[k],
                     label=f"{k} {d}D n={n}")
    ax1.set_xlabel("threads (OMP_PROC_BIND=close, OMP_PLACES=cores)")
    ax1.set_ylabel("effective GB/s (bytes-per-update model)")
    ax1.set_xticks(threads)
    ax1.set_ylim(bottom=0)
    ax1.set_title("Throughput versus threads (largest grid per dimension)")
    ax1.legend(fontsize=7, ncol=2)
    ax1.grid(alpha=0.3)

    tmax = max(threads)
    ax2.axhline(stream[tmax], color="k", lw=3, alpha=0.35, label=f"STREAM triad, {tmax} threads")
    for k in kernels:
        for d in dims:
            pts = sorted((r["cells"], r["gbs_best"]) for r in data["results"]
                         if r["kernel"] == k and r["dim"] == d and r["threads"] == tmax)
            if pts:
                ax2.plot([p[0] for p in pts], [p[1] for p in pts], styles[d], marker=markers[d], color=colors[k],
                         label=f"{k} {d}D")
    ax2.set_xscale("log")
    ax2.set_xlabel("cells (in-cache → out-of-cache)")
    ax2.set_ylabel("effective GB/s")
    ax2.set_ylim(bottom=0)
    ax2.set_title(f"Throughput versus grid size ({tmax} threads)")
    ax2.legend(fontsize=7, ncol=2)
    ax2.grid(alpha=0.3, which="both")
    m = data["meta"]
    fig.suptitle(f"wgflow explicit SSP-RK3 step kernels — {m['cpu']}, {m['compiler']}, git {m['git']}, "
                 f"load {m['load_avg_start']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("json")
    p.add_argument("--baseline", help="an earlier run to compare the target rows with")
    p.add_argument("--png")
    p.add_argument("--md")
    a = p.parse_args()
    data = load(a.json)
    baseline = load(a.baseline) if a.baseline and os.path.exists(a.baseline) else None
    if a.png:
        plot(a.png, data)
        print(f"report: wrote {a.png}")
    if a.md:
        write_markdown(a.md, data, baseline)
        print(f"report: wrote the tables into {a.md}")
    if not a.png and not a.md:
        print(targets_table(data, baseline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
