"""Benchmark of the whole `extract` pipeline on PDF + LaTeX pairs (the joined path).

    python benchmarks/extraction_joined.py [--workers N] [--keep OUT]

Runs `scitune-curate extract` (the same `run_extract` the command line calls) on
`../shared/corpus/paired/`, where every paper comes as `NAME.pdf` beside its source (`NAME/` or the
arXiv bundle `NAME.tar.gz`), so walking, pairing, unpacking and joining are all exercised as a user
would run them. Scores the written `figures` rows against each `gold.json`:

- joined: gold floats (printed in the PDF) that come out as one `pdf+latex` row with the right page;
- recall / precision / caption token-F1 / mention-paragraph recall and precision of the rows
  (rules in benchmarks/gold.py; captions here are the LaTeX words joined to the PDF rendering);
- crops right: judgeable gold figures (one graphic file) whose row image matches that file;
- time and pages/s for the whole run.

Results go to benchmarks/results/extraction_joined.{json,md} (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

# sibling module: Python puts a script's own folder first on the import path
from gold import (
    crop_similarity,
    judgeable_figures,
    load_gold,
    match_floats,
    pool,
    printed_floats,
    resolve_graphic,
    score_paper,
)

ROOT = Path(__file__).resolve().parents[1]


CORPUS = ROOT.parent / "shared" / "corpus"
RESULTS = ROOT / "benchmarks" / "results"


def read_rows(out: Path) -> list[dict]:
    return [r for f in sorted((out / "figures").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def paper_of(row: dict) -> str:
    """The corpus folder a row came from (its PDF's stem); paper ids may be arXiv ids instead."""
    return Path(row["provenance"]["input"]).stem


def score(out: Path, papers: list[Path]) -> dict:
    rows_by_paper: dict[str, list[dict]] = defaultdict(list)
    for row in read_rows(out):
        rows_by_paper[paper_of(row)].append(row)
    per_paper, joined_right, gold_total, crops_right, crops_total = {}, 0, 0, 0, 0
    for folder in papers:
        gold = load_gold(folder / "gold.json")
        rows = rows_by_paper.get(folder.name, [])
        result = score_paper(gold, rows)
        printed = printed_floats(gold)
        pairs = match_floats(printed, rows)
        joined = sum(1 for g, r in pairs if r["source"] == "pdf+latex" and r["page"] == g["page"])
        by_key = {(g["kind"], g["number"]): r for g, r in pairs}
        judged = similar = 0
        with tempfile.TemporaryDirectory() as cache:
            for g in judgeable_figures(gold):
                judged += 1
                row = by_key.get((g["kind"], g["number"]))
                graphic = resolve_graphic(gold, g["graphics"][0], cache)
                if row is not None and graphic is not None:
                    similar += crop_similarity(row["image"]["bytes"], graphic).similar
        result.update(
            joined=joined / len(printed) if printed else None,
            crops_right=similar,
            crops_judged=judged,
            sources=dict(_count(r["source"] for r in rows)),
        )
        per_paper[folder.name] = result
        joined_right += joined
        gold_total += len(printed)
        crops_right += similar
        crops_total += judged
    pooled = pool(per_paper.values())
    pooled.update(
        joined=joined_right / gold_total,
        crops_right=crops_right / crops_total,
        crops_judged=crops_total,
        gold_floats=gold_total,
    )
    return {"papers": per_paper, "pooled": pooled}


def _count(items) -> dict:
    counts: dict = defaultdict(int)
    for item in items:
        counts[item] += 1
    return counts


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def markdown(result: dict, seconds: float, pages: int, workers: int) -> str:
    cols = [
        "joined",
        "recall",
        "precision",
        "page_accuracy",
        "mean_caption_f1",
        "mention_recall",
        "mention_precision",
    ]
    lines = ["| paper | " + " | ".join(cols) + " | crops right |", "|---" * (len(cols) + 2) + "|"]
    for name, r in result["papers"].items():
        lines.append(
            f"| {name} | "
            + " | ".join(_fmt(r[c]) for c in cols)
            + f" | {r['crops_right']}/{r['crops_judged']} |"
        )
    p = result["pooled"]
    lines.append(
        "| **all** | " + " | ".join(f"**{_fmt(p[c])}**" for c in cols) + f" | **{_fmt(p['crops_right'])}** |"
    )
    lines.append(
        f"\n{p['gold_floats']} gold floats; {pages} pages in {seconds:.1f} s with {workers} workers "
        f"({pages / seconds:.1f} pages/s, LaTeX rendering included)."
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="write the extract output here instead of a temp folder")
    args = ap.parse_args()
    from scitune.curate.runner import run_extract

    papers = sorted(p.parent for p in (CORPUS / "paired").glob("*/gold.json"))
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "out"
        start = time.perf_counter()
        summary = run_extract(
            [CORPUS / "paired"],
            out,
            workers=args.workers,
            force=True,
            progress=True,
            command="benchmarks/extraction_joined.py",
        )
        seconds = time.perf_counter() - start
        result = score(out, papers)
    result["run"] = {
        "seconds": seconds,
        "pages": summary.pages,
        "workers": args.workers,
        "errors": summary.errors,
        "documents": summary.documents,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "extraction_joined.json").write_text(json.dumps(result, indent=1, default=str))
    md = markdown(result, seconds, summary.pages, args.workers)
    (RESULTS / "extraction_joined.md").write_text(md + "\n")
    print(md)
    for name, r in result["papers"].items():
        if r["missed"] or r["extra"]:
            print(f"{name}: missed {r['missed']} extra {r['extra']}")


if __name__ == "__main__":
    main()
