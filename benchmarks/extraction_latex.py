"""LaTeX-side extraction benchmark: `extract_latex` on every corpus source against its gold.json.

    python benchmarks/extraction_latex.py [--corpus ../shared/corpus] [--render] [--repeat 3]

Results go to benchmarks/results/extraction_latex.{json,md} (git-ignored) and to the terminal.

Each source is given as it is in the corpus (a folder, or the original arXiv `.tar.gz`/`.zip`, unpacked
by scitune's own `unpack`). Scores (benchmarks/gold.py, every gold float counted, also those a PDF does
not print): float recall and precision by (kind, number), mean caption token-F1, mention-paragraph
recall and precision, and graphics: the share of gold floats with files whose resolved `graphics`
equal the gold list (as sets, relative to the main file's folder). Time: the median over `--repeat`
runs of reading one paper without rendering (unpack, parse, captions, mentions, graphics resolved: the
number that matters for thousands of papers), wall clock and CPU (CPU is steadier on a shared machine),
and, with `--render`, one run with every graphic rendered at 150 dpi.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

# sibling module: Python puts a script's own folder first on the import path
from gold import load_gold, pool, score_paper

from scitune.curate.latex.extract import extract_latex

ROOT = Path(__file__).resolve().parents[1]

BAR = {
    "recall": 0.97,
    "precision": 0.97,
    "mean_caption_f1": 0.97,
    "graphics": 0.97,
    "mention_recall": 0.90,
    "mention_precision": 0.90,
}


def graphics_score(gold: dict, floats) -> tuple[int, int, list[str]]:
    """(right, total, wrong) over gold floats that have graphic files."""
    by_key = {(f.kind, f.number.upper()): f for f in floats}
    right, total, wrong = 0, 0, []
    for g in gold["floats"]:
        if not g.get("graphics"):
            continue
        total += 1
        f = by_key.get((g["kind"], str(g["number"]).upper()))
        if f is not None and set(f.graphics) == set(g["graphics"]):
            right += 1
        else:
            wrong.append(f"{g['kind']} {g['number']}: {f.graphics if f else 'missing'} vs {g['graphics']}")
    return right, total, wrong


def run(corpus: Path, render: bool, repeat: int) -> dict:
    papers = sorted(corpus.glob("paired/*/gold.json")) + sorted(corpus.glob("latex/*/gold.json"))
    rows, results, g_right, g_total = [], [], 0, 0
    for path in papers:
        gold = load_gold(path)
        source = Path(gold["_dir"]) / gold["source"]
        times, cpu = [], []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory(prefix="bench-latex-") as work:
                t0, c0 = time.perf_counter(), time.process_time()
                side = extract_latex(source, Path(work), render=False)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        render_s = None
        if render:
            with tempfile.TemporaryDirectory(prefix="bench-latex-") as work:
                t0 = time.perf_counter()
                side = extract_latex(source, Path(work), dpi=150, render=True)
                render_s = time.perf_counter() - t0
        score = score_paper(gold, side.floats, all_floats=True)
        right, total, wrong = graphics_score(gold, side.floats)
        g_right, g_total = g_right + right, g_total + total
        results.append(score)
        rows.append(
            {
                "paper": gold["paper"],
                "source": gold["source"],
                "floats": score["counts"]["gold"],
                "recall": score["recall"],
                "precision": score["precision"],
                "caption_f1": score["mean_caption_f1"],
                "graphics": right / total if total else None,
                "mention_recall": score["mention_recall"],
                "mention_precision": score["mention_precision"],
                "parse_s": statistics.median(times),
                "parse_cpu_s": statistics.median(cpu),
                "render_s": render_s,
                "missed": score["missed"],
                "extra": score["extra"],
                "graphics_wrong": wrong,
                "low_captions": {k: v for k, v in score["caption_f1"].items() if v < 0.9},
                "errors": [f"{e.stage}/{e.error}: {e.message}" for e in side.errors],
            }
        )
    total = pool(results)
    total["graphics"] = g_right / g_total if g_total else None
    total["median_parse_s"] = statistics.median(r["parse_s"] for r in rows)
    total["max_parse_s"] = max(r["parse_s"] for r in rows)
    total["median_parse_cpu_s"] = statistics.median(r["parse_cpu_s"] for r in rows)
    total["max_parse_cpu_s"] = max(r["parse_cpu_s"] for r in rows)
    return {
        "papers": rows,
        "pooled": {k: v for k, v in total.items() if k != "counts"},
        "counts": total["counts"],
    }


def _fmt(v) -> str:
    return "  –  " if v is None else f"{v:.3f}"


def print_table(report: dict) -> None:
    cols = ["recall", "precision", "caption_f1", "graphics", "mention_recall", "mention_precision"]
    print(f"{'paper':28s} {'n':>3s} " + " ".join(f"{c[:9]:>9s}" for c in cols) + "   parse_s  render_s")
    for r in report["papers"]:
        print(
            f"{r['paper']:28s} {r['floats']:3d} "
            + " ".join(f"{_fmt(r[c]):>9s}" for c in cols)
            + f"   {r['parse_s']:7.3f}  "
            + ("" if r["render_s"] is None else f"{r['render_s']:8.2f}")
        )
    p = report["pooled"]
    print(
        f"{'POOLED':28s} {report['counts']['gold']:3d} "
        + " ".join(f"{_fmt(p[{'caption_f1': 'mean_caption_f1'}.get(c, c)]):>9s}" for c in cols)
        + f"   median {p['median_parse_s']:.3f} s, max {p['max_parse_s']:.3f} s"
    )
    fails = [k for k, bar in BAR.items() if (p.get(k) or 0) < bar]
    print("bar met" if not fails else f"below the bar: {', '.join(fails)}")
    for r in report["papers"]:
        notes = [
            f"missed {r['missed']}" if r["missed"] else "",
            f"extra {r['extra']}" if r["extra"] else "",
            f"low captions {r['low_captions']}" if r["low_captions"] else "",
            f"graphics {r['graphics_wrong']}" if r["graphics_wrong"] else "",
        ]
        notes = [n for n in notes if n]
        if notes:
            print(f"- {r['paper']}: " + "; ".join(notes))


def markdown(report: dict) -> str:
    cols = ["recall", "precision", "caption_f1", "graphics", "mention_recall", "mention_precision"]
    head = (
        "| paper | floats | recall | precision | caption F1 | graphics | mention R | mention P "
        "| parse s (CPU s) |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in report["papers"]:
        lines.append(
            f"| {r['paper']} | {r['floats']} | "
            + " | ".join(_fmt(r[c]) for c in cols)
            + f" | {r['parse_s']:.3f} ({r['parse_cpu_s']:.3f}) |"
        )
    p = report["pooled"]
    lines.append(
        f"| **all** | {report['counts']['gold']} | "
        + " | ".join(_fmt(p[{"caption_f1": "mean_caption_f1"}.get(c, c)]) for c in cols)
        + f" | median {p['median_parse_s']:.3f} ({p['median_parse_cpu_s']:.3f}), max {p['max_parse_s']:.3f} |"
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--render", action="store_true", help="also time a run that renders every graphic")
    ap.add_argument("--repeat", type=int, default=3, help="parse runs per paper (the median is reported)")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results", help="folder for the results"
    )
    args = ap.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"corpus not found at {args.corpus}; pass --corpus")
    report = run(args.corpus, args.render, args.repeat)
    print_table(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "extraction_latex.json").write_text(json.dumps(report, indent=1, default=str))
    (args.out / "extraction_latex.md").write_text(markdown(report))


if __name__ == "__main__":
    main()
