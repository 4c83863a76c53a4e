"""Our ScienceQA scorer on the official GPT-3 (CoT, QCM-ALE) test predictions, against the published row.

    python benchmarks/scienceqa_gpt3.py                       # ../shared/corpus/scienceqa
    python benchmarks/scienceqa_gpt3.py --problems problems.json   # the official file: every column checks

The corpus holds answer, choices, hint and image flags exactly for all 4,241 test questions, but subject
and grade exactly for only 456 of them (problems_test_meta.SOURCE.md), so only Avg, TXT, IMG and NO (and
their sizes) must match there; NAT, SOC, LAN and the grade columns match with the official problems.json.
Prints a Markdown report (also benchmarks/results/scienceqa_gpt3.{md,json}) and exits non-zero when a
column that must match does not. Scoring time is the median of --repeat runs (wall clock, this machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from scitune.train import scienceqa as sqa
from scitune.train.report import PUBLISHED, scienceqa_table

ROOT = Path(__file__).resolve().parents[1]
SQA = ROOT.parent / "shared" / "corpus" / "scienceqa"
RESULTS = ROOT / "benchmarks" / "results"
PUBLISHED_ROW = dict(zip(sqa.CATEGORIES, PUBLISHED["GPT-3 CoT (ALE, 2-shot)"]["scores"]))
SIZES = {"TXT": 2046, "IMG": 2017, "NO": 1435, "Avg": 4241}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--problems",
        type=Path,
        default=SQA / "problems_test_meta.json",
        help="problems.json (official) or the corpus problems_test_meta.json",
    )
    ap.add_argument("--predictions", type=Path, default=SQA / "gpt3_final_test_QCM-ALE_2_seed_3.json")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    official = args.problems.name == "problems.json"

    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        problems = list(sqa.read_problems(args.problems, "test"))
        judged = sqa.judge(problems, sqa.read_predictions(args.predictions))
        scores = sqa.score(problems, judged)
        times.append(time.perf_counter() - start)
    ours = {c: scores[c]["accuracy"] for c in sqa.CATEGORIES}
    must = list(sqa.CATEGORIES) if official else ["Avg", "TXT", "IMG", "NO"]
    mismatches = [c for c in must if f"{ours[c]:.2f}" != f"{PUBLISHED_ROW[c]:.2f}"]
    mismatches += [f"{c} size" for c, n in SIZES.items() if scores[c]["total"] != n]

    table = scienceqa_table(
        [
            ("GPT-3 CoT (ALE), published", "standard", PUBLISHED_ROW),
            ("GPT-3 CoT (ALE), scitune scorer", "standard", ours),
        ]
    )
    sizes = ", ".join(f"{c} {scores[c]['total']}" for c in sqa.CATEGORIES)
    report = (
        "# ScienceQA scorer check: official GPT-3 CoT (QCM-ALE) test predictions\n\n"
        f"Problems: `{args.problems.name}` "
        f"({'official' if official else 'corpus meta: subject/grade estimated for most'}); "
        f"predictions: `{args.predictions.name}`.\n\n{table}\nCategory sizes: {sizes}.\n\n"
        f"Columns that must match: {', '.join(must)} -> "
        f"{'all match' if not mismatches else 'MISMATCH: ' + ', '.join(mismatches)}.\n"
        f"Unreadable predictions: {sum(j.pred is None for j in judged)}.\n"
        f"Read + score time: median {statistics.median(times) * 1000:.0f} ms over {args.repeat} runs "
        "(wall clock, shared machine).\n"
    )
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scienceqa_gpt3.md").write_text(report, encoding="utf-8")
    (RESULTS / "scienceqa_gpt3.json").write_text(
        json.dumps(
            {
                "problems": str(args.problems),
                "official": official,
                "ours": ours,
                "published": PUBLISHED_ROW,
                "sizes": {c: scores[c]["total"] for c in sqa.CATEGORIES},
                "must_match": must,
                "mismatches": mismatches,
                "seconds_median": statistics.median(times),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
