"""Benchmark of the PDF side (`scitune.curate.pdf.extract.extract_pdf`) on the shared corpus.

    python benchmarks/extraction_pdf.py                 # quality on corpus/paired against gold.json
    python benchmarks/extraction_pdf.py --crops DIR     # ... and write every crop (and failures) as PNG
    python benchmarks/extraction_pdf.py --speed         # pages/s and peak memory over all corpus PDFs
    python benchmarks/extraction_pdf.py --robustness    # every corpus PDF runs without an exception
    python benchmarks/extraction_pdf.py --calibrate-crops  # the crop rule on right and wrong crops

Quality: per paper recall, precision, page accuracy, mean caption token-F1, mention-paragraph recall
and precision (rules in benchmarks/gold.py), crops judged similar to the source graphic (over ALL
judgeable gold figures, found or not), and figure-type accuracy of curate/figure_types (its shipped
model has seen these figures: benchmarks/figure_types.py gives the leave-one-paper-out figure).
Results go to benchmarks/results/extraction_pdf.{json,md} (git-ignored).

Speed: each of the 3 runs is a fresh process that extracts every corpus PDF in turn (no OCR) and
reports pages/s and its peak resident memory; the median run is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

# sibling module: Python puts a script's own folder first on the import path
from gold import (
    compare_images,
    crop_similarity,
    judgeable_figures,
    load_gold,
    match_floats,
    pool,
    printed_floats,
    render_graphic,
    resolve_graphic,
    score_paper,
)

ROOT = Path(__file__).resolve().parents[1]


CORPUS = ROOT.parent / "shared" / "corpus"
RESULTS = ROOT / "benchmarks" / "results"


def corpus_pdfs() -> list[Path]:
    pdfs = sorted(CORPUS.glob("paired/*/*.pdf")) + sorted(CORPUS.glob("pdfs/*.pdf"))
    return pdfs + sorted(CORPUS.glob("latex/period_gap_kinematics/*.pdf"))


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def quality(crops_dir: Path | None, only: str | None) -> dict:
    from scitune.curate.pdf.extract import extract_pdf

    rows, per_paper = [], {}
    crop_total = crop_ok = 0
    type_total = type_ok = 0
    type_confusion: dict[str, dict[str, int]] = {}
    seconds = pages = 0.0
    cache = Path(tempfile.mkdtemp(prefix="scitune-bench-"))
    for gold_path in sorted(CORPUS.glob("paired/*/gold.json")):
        gold = load_gold(gold_path)
        name = gold["paper"]
        if only and only != name:
            continue
        pdf = gold_path.parent / gold["pdf"]
        t = time.perf_counter()
        result = extract_pdf(pdf)
        seconds += time.perf_counter() - t
        pages += result.pages
        score = score_paper(gold, result.floats)
        pairs = match_floats(printed_floats(gold), result.floats)
        by_gold = {id(g): p for g, p in pairs}
        judge = judgeable_figures(gold)
        ok = 0
        crop_details = {}
        for g in judge:
            pred = by_gold.get(id(g))
            verdict = "missed"
            if pred is not None and pred.image_png:
                graphic = resolve_graphic(gold, g["graphics"][0], cache)
                if graphic is None:
                    verdict = "graphic file not found"
                else:
                    cmp = crop_similarity(pred.image_png, graphic)
                    verdict = cmp.reason if not cmp.similar else "similar"
                    ok += cmp.similar
            elif pred is not None:
                verdict = "no crop"
            crop_details[f"figure {g['number']}"] = verdict
            if crops_dir is not None and pred is not None and pred.image_png:
                sub = crops_dir / name
                sub.mkdir(parents=True, exist_ok=True)
                tag = "ok" if verdict == "similar" else "BAD"
                (sub / f"{tag}_{g['kind']}{g['number']}.png").write_bytes(pred.image_png)
        if crops_dir is not None:
            sub = crops_dir / name
            sub.mkdir(parents=True, exist_ok=True)
            judged = {id(g) for g in judge}
            for g, p in pairs:
                if id(g) not in judged and p.image_png:
                    (sub / f"other_{g['kind']}{g['number']}.png").write_bytes(p.image_png)
        crop_total += len(judge)
        crop_ok += ok
        for g, p in pairs:
            if g["kind"] == "figure" and g.get("figure_type"):
                type_total += 1
                type_ok += p.figure_type == g["figure_type"]
                type_confusion.setdefault(g["figure_type"], {}).setdefault(p.figure_type, 0)
                type_confusion[g["figure_type"]][p.figure_type] += 1
        score["crops_similar"] = ok
        score["crops_judgeable"] = len(judge)
        score["crop_verdicts"] = crop_details
        score["pages"] = result.pages
        score["errors"] = [f"{e.stage}: {e.error}: {e.message}" for e in result.errors]
        per_paper[name] = score
        rows.append((name, score))
    overall = pool(per_paper.values())
    overall["crops_right"] = crop_ok / crop_total if crop_total else None
    overall["crops"] = f"{crop_ok}/{crop_total}"
    overall["figure_type_accuracy"] = type_ok / type_total if type_total else None
    overall["figure_type_confusion"] = type_confusion
    overall["pages_per_second_in_this_run"] = pages / seconds if seconds else None

    header = (
        "| paper | gold | pred | recall | precision | page | caption F1 | mention R | mention P | crops |"
    )
    lines = [header, "|" + "---|" * 10]
    for name, s in rows:
        lines.append(
            f"| {name} | {s['counts']['gold']} | {s['counts']['predicted']} | {_fmt(s['recall'])} | "
            f"{_fmt(s['precision'])} | {_fmt(s['page_accuracy'])} | {_fmt(s['mean_caption_f1'])} | "
            f"{_fmt(s['mention_recall'])} | {_fmt(s['mention_precision'])} | "
            f"{s['crops_similar']}/{s['crops_judgeable']} |"
        )
    o = overall
    lines.append(
        f"| **all** | {o['counts']['gold']} | {o['counts']['predicted']} | {_fmt(o['recall'])} | "
        f"{_fmt(o['precision'])} | {_fmt(o['page_accuracy'])} | {_fmt(o['mean_caption_f1'])} | "
        f"{_fmt(o['mention_recall'])} | {_fmt(o['mention_precision'])} | {o['crops']} "
        f"({_fmt(o['crops_right'])}) |"
    )
    table = "\n".join(lines)
    print(table)
    print(
        f"\nfigure-type accuracy (rule-based guess vs gold): {_fmt(o['figure_type_accuracy'])} over "
        f"{type_total} figures"
    )
    for name, s in rows:
        bad = {k: v for k, v in s["caption_f1"].items() if v < 0.9}
        crops_bad = {k: v for k, v in s["crop_verdicts"].items() if v != "similar"}
        if s["missed"] or s["extra"] or bad or crops_bad or s["errors"]:
            print(f"- {name}: missed {s['missed']} extra {s['extra']} low caption F1 {bad}")
            if crops_bad:
                print(f"    crops not similar: {crops_bad}")
            if s["errors"]:
                print(f"    errors: {s['errors'][:3]}")
    if not only:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "extraction_pdf.json").write_text(
            json.dumps({"overall": overall, "papers": per_paper}, indent=1)
        )
        (RESULTS / "extraction_pdf.md").write_text(table + "\n")
    return overall


_SPEED_CHILD = r"""
import json, resource, sys, time
from scitune.curate.pdf.extract import extract_pdf
pages = model_pages = 0
t = time.perf_counter()
for path in sys.argv[1:]:
    r = extract_pdf(path, ocr="off")
    pages += r.pages
    model_pages += r.layout_model_pages
seconds = time.perf_counter() - t
print(json.dumps({"pages": pages, "seconds": seconds, "layout_model_pages": model_pages,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def speed(runs: int = 3) -> dict:
    pdfs = [str(p) for p in corpus_pdfs()]
    results = []
    for i in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _SPEED_CHILD, *pdfs],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        r["pages_per_second"] = r["pages"] / r["seconds"]
        results.append(r)
        print(
            f"run {i + 1}: {r['pages']} pages in {r['seconds']:.1f} s = {r['pages_per_second']:.1f} pages/s, "
            f"peak RSS {r['peak_rss_mb']:.0f} MB, layout model on {r['layout_model_pages']} pages"
        )
    med = statistics.median(r["pages_per_second"] for r in results)
    peak = max(r["peak_rss_mb"] for r in results)
    print(f"median {med:.1f} pages/s per process over {len(pdfs)} PDFs; peak memory {peak:.0f} MB")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "extraction_pdf_speed.json").write_text(
        json.dumps({"runs": results, "median_pages_per_second": med, "peak_rss_mb": peak}, indent=1)
    )
    return {"median_pages_per_second": med, "peak_rss_mb": peak}


def robustness() -> int:
    from scitune.curate.pdf.extract import PdfOpenError, extract_pdf

    failures = 0
    for pdf in corpus_pdfs():
        t = time.perf_counter()
        try:
            r = extract_pdf(pdf)
            kinds = (
                sum(1 for f in r.floats if f.kind == "figure"),
                sum(1 for f in r.floats if f.kind == "table"),
            )
            print(
                f"ok   {pdf.name}: {r.pages} pages, {kinds[0]} figures, {kinds[1]} tables, "
                f"{len(r.errors)} errors, {time.perf_counter() - t:.2f} s"
            )
        except PdfOpenError as e:
            print(f"open {pdf.name}: {e}")
        except Exception:  # noqa: BLE001
            failures += 1
            print(f"FAIL {pdf.name}:\n{traceback.format_exc()}")
    print(f"{failures} crashes")
    return failures


def calibrate_crops() -> dict:
    """How the crop-similarity rule judges right crops and deliberately wrong ones (see gold.py)."""
    import io
    import random

    import pymupdf
    from PIL import Image

    from scitune.curate.pdf.extract import analyse_document, extract_pdf, open_pdf

    random.seed(0)
    kinds = [
        "right crop",
        "whole page",
        "column strip",
        "text block",
        "crop + caption row",
        "crop - 10%",
        "neighbour figure",
    ]
    verdicts: dict[str, list[bool]] = {k: [] for k in kinds}
    cache = Path(tempfile.mkdtemp(prefix="scitune-calib-"))
    for gold_path in sorted(CORPUS.glob("paired/*/gold.json")):
        gold = load_gold(gold_path)
        pdf = gold_path.parent / gold["pdf"]
        result = extract_pdf(pdf)
        with open_pdf(pdf) as doc:
            captions = {(c.kind, c.number): c for c in analyse_document(doc).captions}
            by_gold = {id(g): p for g, p in match_floats(printed_floats(gold), result.floats)}
            judge = [g for g in judgeable_figures(gold) if id(g) in by_gold and by_gold[id(g)].bbox]
            for g in judge:
                pred = by_gold[id(g)]
                graphic = render_graphic(resolve_graphic(gold, g["graphics"][0], cache))
                page = doc[g["page"] - 1]

                def rend(rect, page=page):
                    pix = page.get_pixmap(dpi=100, clip=pymupdf.Rect(rect) & page.rect)
                    return Image.open(io.BytesIO(pix.tobytes("png")))

                x0, y0, x1, y1 = pred.bbox
                h, height = y1 - y0, page.rect.height
                row = captions[("figure", g["number"])].rows[0]
                text_y = y1 + 60 if y1 + 60 + h < height else max(0.0, y0 - 60 - h)
                tests = {
                    "right crop": Image.open(io.BytesIO(pred.image_png)),
                    "whole page": rend(page.rect),
                    "column strip": rend((x0, 40, x1, height - 40)),
                    "text block": rend((x0, text_y, x1, text_y + h)),
                    "crop + caption row": rend(
                        (min(x0, row.x0), min(y0, row.y0), max(x1, row.x1), max(y1, row.y1))
                    ),
                    "crop - 10%": rend((x0, y0 + 0.1 * h, x1, y1)),
                }
                for kind, img in tests.items():
                    verdicts[kind].append(compare_images(img, graphic).similar)
                others = [by_gold[id(o)] for o in judge if o is not g]
                for other in random.sample(others, min(3, len(others))):
                    verdicts["neighbour figure"].append(
                        compare_images(Image.open(io.BytesIO(other.image_png)), graphic).similar
                    )
    print("| comparison | judged similar |\n|---|---|")
    for kind in kinds:
        v = verdicts[kind]
        print(f"| {kind} | {sum(v)}/{len(v)} |")
    return {k: (sum(v), len(v)) for k, v in verdicts.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--speed", action="store_true", help="measure pages/s and peak memory (3 fresh processes)"
    )
    ap.add_argument("--robustness", action="store_true", help="run every corpus PDF, report crashes")
    ap.add_argument(
        "--calibrate-crops",
        action="store_true",
        help="judge right and deliberately wrong crops with the crop-similarity rule",
    )
    ap.add_argument("--crops", type=Path, help="write crops as PNG into this folder")
    ap.add_argument("--paper", help="only this paired paper (no results files written)")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}: this benchmark needs ../shared/corpus beside the checkout")
    if args.speed:
        speed()
    elif args.calibrate_crops:
        calibrate_crops()
    elif args.robustness:
        sys.exit(1 if robustness() else 0)
    else:
        quality(args.crops, args.paper)


if __name__ == "__main__":
    main()
