"""Instruction data built from an extract output: counts per task, checks, and build speed.

    python benchmarks/instructions_stats.py OUT            # an existing `scitune-curate extract` output
    python benchmarks/instructions_stats.py --corpus OUT   # extract ../shared/corpus into OUT (resumable)
    python benchmarks/instructions_stats.py --synthetic 5000 OUT   # N drawn figure rows, to check scaling

Prints a Markdown report (also written to benchmarks/results/instructions_stats*.{md,json}, git-ignored):
instruction rows per task and why tasks were skipped; figures per source / kind / type; and four checks
that exit non-zero when they fail: every `ctom` target contains its figure's caption; every row passes
`validate_row`; the LLaVA export reads back with a 10-line reader (each image opens); and every path
configured in the dataset card's YAML exists. Build and export times are wall clock on this machine
(median of --repeat runs of the instruction build); the peak resident memory of one build is measured in
a fresh process, so runs with different N show whether memory stays flat as the data grows.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
RESULTS = ROOT / "benchmarks" / "results"


def extract_corpus(out: Path) -> None:
    """Run the real CLI on the whole corpus (it resumes, so a second call only writes the card again)."""
    cmd = [
        "scitune-curate",
        "extract",
        str(CORPUS / "paired"),
        str(CORPUS / "latex"),
        str(CORPUS / "pdfs"),
        "-o",
        str(out),
        "--no-progress",
    ]
    print("$", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True)


def _test_module(relative: str):
    """A helper module of the test suite, loaded from its file: tests/ is not installed with scitune."""
    spec = importlib.util.spec_from_file_location(Path(relative).stem, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_synthetic(out: Path, n: int) -> None:
    """N realistic figure rows (drawn images, captions, OCR, mentions) over N/10 papers, streamed."""
    from scitune.curate.card import write_card
    from scitune.curate.writer import write_table
    from scitune.schemas import FIGURE_FEATURES

    figure_row = _test_module("tests/curate/sample_figures.py").figure_row

    types = ["line_plot", "bar_chart", "diagram", "scatter_plot", "other"]
    rows = (
        figure_row(f"2101.{i // 10:05d}v1", i % 10 + 1, types[i % 5], seed=i, ocr=[] if i % 7 == 0 else None)
        for i in range(n)
    )
    write_table(rows, out / "figures", FIGURE_FEATURES, prefix="figures")
    write_card(out, command=f"benchmarks/instructions_stats.py --synthetic {n}")


PEAK_RSS = """
import resource, sys
from scitune.curate.instructions import build_instructions
build_instructions(sys.argv[1], seed=int(sys.argv[2]))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mb(out: Path, seed: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(out), str(seed)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1]) / 1024


def read_llava(dest: Path) -> int:
    """The 10-line reader of the LLaVA export; returns how many records it read."""
    from PIL import Image

    records = json.loads((dest / "llava.json").read_text(encoding="utf-8"))
    for rec in records:
        with Image.open(dest / "images" / rec["image"]) as im:
            im.load()
        assert [t["from"] for t in rec["conversations"]] == ["human", "gpt"], rec["id"]
        assert "<image>" in rec["conversations"][0]["value"], rec["id"]
    return len(records)


def card_paths_missing(out: Path) -> list[str]:
    text = (out / "README.md").read_text(encoding="utf-8")
    header = yaml.safe_load(text.split("---\n")[1])
    return [
        f"{c['config_name']}: {d['path']}"
        for c in header["configs"]
        for d in c["data_files"]
        if not list(out.glob(d["path"]))
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="extract output folder")
    parser.add_argument("--corpus", action="store_true", help="extract ../shared/corpus into OUT first")
    parser.add_argument("--synthetic", type=int, metavar="N", help="write N drawn figure rows into OUT first")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="instruction builds to time (median reported)")
    args = parser.parse_args()

    from scitune.curate.card import collect_stats
    from scitune.curate.exports import export
    from scitune.curate.filters import count_rows, iter_rows
    from scitune.curate.instructions import LATEST_TEMPLATE_VERSION, build_instructions
    from scitune.schemas import content_text, validate_row

    out = args.out
    if args.corpus:
        extract_corpus(out)
    if args.synthetic:
        write_synthetic(out, args.synthetic)
    n_figures = count_rows(out, "figures")
    if not n_figures:
        print(f"{out}/figures has no rows: run `scitune-curate extract ... -o {out}` (or pass --corpus)")
        return 2

    times = []
    for _ in range(max(1, args.repeat)):
        start = time.perf_counter()
        stats = build_instructions(out, seed=args.seed)
        times.append(time.perf_counter() - start)
    build_s = statistics.median(times)
    rss_mb = peak_rss_mb(out, args.seed)

    captions = {
        r["figure_id"]: (r["caption_no_index"] or "").strip()
        for r in iter_rows(out, "figures", columns=["figure_id", "caption_no_index"])
    }
    ctom_missing, invalid, rows = [], [], 0
    for row in iter_rows(out, "instructions"):
        rows += 1
        if row["task"] == "ctom" and captions[row["figure_id"]] not in content_text(
            row["messages"][1]["content"]
        ):
            ctom_missing.append(row["id"])
        if problems := validate_row(row, "instructions"):
            invalid.append(f"{row['id']}: {problems}")

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        exported = export("llava", out, Path(tmp) / "llava")
        export_s = time.perf_counter() - start
        read_back = read_llava(Path(tmp) / "llava")
    missing_paths = card_paths_missing(out)
    card = collect_stats(out)

    lines = [
        f"# Instruction data of `{out}`",
        "",
        f"{n_figures:,} figure/table rows from {len(card.paper_license):,} papers -> {rows:,} instruction "
        "rows "
        f"(template pool v{LATEST_TEMPLATE_VERSION}, seed {args.seed}).",
        "",
        "| task | rows | share of figures |",
        "|---|---:|---:|",
    ]
    for task, n in sorted(stats.rows.items(), key=lambda kv: -kv[1]):
        lines.append(f"| `{task}` | {n:,} | {n / n_figures:.0%} |")
    lines += ["", "| skipped task | figures | reason |", "|---|---:|---|"]
    for (task, reason), n in sorted(stats.skipped.items(), key=lambda kv: -kv[1]):
        lines.append(f"| `{task}` | {n:,} | {reason} |")
    lines += [
        "",
        "Figures by kind: " + ", ".join(f"{k} {n}" for k, n in card.by_kind.most_common()),
        "Figures by source: " + ", ".join(f"{k} {n}" for k, n in card.by_source.most_common()),
        "Figures by type: " + ", ".join(f"{k} {n}" for k, n in card.by_type.most_common()),
        "",
        f"Build: {build_s:.2f} s median of {len(times)} ({n_figures / build_s:.0f} figures/s, "
        f"{rows / build_s:.0f} rows/s); LLaVA export {export_s:.2f} s "
        f"({exported.rows:,} records, {exported.images:,} images). Peak memory of one build: {rss_mb:.0f} "
        "MB. "
        "Wall clock, this machine.",
        "",
        "| check | result |",
        "|---|---|",
        f"| every `ctom` target contains its caption | {'ok' if not ctom_missing else ctom_missing[:5]} |",
        f"| every instruction row valid | {'ok' if not invalid else invalid[:5]} |",
        f"| LLaVA export read back by a 10-line reader | {read_back:,} of {exported.rows:,} |",
        f"| every path in the card's `configs` exists | {'ok' if not missing_paths else missing_paths} |",
    ]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "instructions_stats" + (f"_synthetic{args.synthetic}" if args.synthetic else "")
    (RESULTS / f"{stem}.md").write_text(report + "\n", encoding="utf-8")
    (RESULTS / f"{stem}.json").write_text(
        json.dumps(
            {
                "out": str(out),
                "figures": n_figures,
                "rows": rows,
                "by_task": dict(stats.rows),
                "skipped": {f"{t}: {r}": n for (t, r), n in stats.skipped.items()},
                "build_s": times,
                "export_s": export_s,
                "peak_rss_mb": rss_mb,
                "ctom_missing": ctom_missing,
                "invalid": invalid[:50],
                "llava_read_back": read_back,
                "card_paths_missing": missing_paths,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    ok = not ctom_missing and not invalid and read_back == exported.rows and not missing_paths
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
