"""OCR accuracy and speed on the shared corpus, without hand labels.

    python benchmarks/ocr_accuracy.py                    # word recall / precision of OCR vs the text layer
    python benchmarks/ocr_accuracy.py --engine tesseract # ... with the other engine
    python benchmarks/ocr_accuracy.py --speed            # pages/s over all corpus PDFs, --ocr auto vs off
    python benchmarks/ocr_accuracy.py --scanned          # words read from the scanned corpus PDFs

Accuracy: on vector figures (no embedded image in the region) whose text layer holds >= MIN_WORDS words,
the rendered region is OCRed whole (as `--ocr always` does, at the engine's resolution) and its words
are compared with the text layer's words as multisets, after normalising case and punctuation (NFKC,
lower case, characters other than letters and digits removed; words left empty dropped). Recall =
matched / text-layer words, precision = matched / OCR words, both pooled over all figures (micro) and
also given as the median per figure. A second figure also accepts a word that one side splits into two
or three neighbouring words and the other does not: the text layer sets 10^1 as "10" "1" (base and
superscript are separate words there), OCR reads "101"; glued labels count the other way.
Results go to benchmarks/results/ocr_accuracy_ENGINE.json (git-ignored).

Speed: each run is a fresh process extracting every corpus PDF in turn (one worker), once with
`ocr="auto"` and once with `ocr="off"`; the median of --runs runs is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
RESULTS = ROOT / "benchmarks" / "results"
MIN_WORDS = 5  # figures with fewer text-layer words say little about recall
SCANNED = ("pdfs/mineru_small_ocr_scanned.pdf", "pdfs/docling_ocr_test_scanned.pdf")


def corpus_pdfs() -> list[Path]:
    pdfs = sorted(CORPUS.glob("paired/*/*.pdf")) + sorted(CORPUS.glob("pdfs/*.pdf"))
    return pdfs + sorted(CORPUS.glob("latex/period_gap_kinematics/*.pdf"))


def normalise_list(words: list[str]) -> list[str]:
    out = []
    for w in words:
        w = re.sub(r"[^\w]|_", "", unicodedata.normalize("NFKC", w).lower())
        if w:
            out.append(w)
    return out


def normalise(words: list[str]) -> Counter:
    return Counter(normalise_list(words))


def _joined_matches(a: list[str], b_left: Counter) -> tuple[int, int]:
    """Runs of 2-3 neighbouring words of `a` whose concatenation is a word left over in `b_left`: one word
    split in two on one side ("10", "1" in a text layer that sets 10^1 as a base and a superscript, "101"
    read by OCR). Returns (words of a matched, words of b matched); consumes b_left."""
    used_a = used_b = 0
    i = 0
    while i < len(a):
        for n in (3, 2):
            joined = "".join(a[i : i + n])
            if i + n <= len(a) and b_left[joined] > 0:
                b_left[joined] -= 1
                used_a, used_b = used_a + n, used_b + 1
                i += n - 1
                break
        i += 1
    return used_a, used_b


def match_counts(ref_words: list[str], ocr_words: list[str]) -> tuple[int, int, int]:
    """(strictly matched words, reference words matched allowing split words, OCR words matched allowing
    split words): strict is a multiset match of normalised words; the tolerant count also accepts a
    word that one side splits in two or three where the other does not (scripts, glued labels)."""
    ref, got = normalise_list(ref_words), normalise_list(ocr_words)
    common = Counter(ref) & Counter(got)
    strict = sum(common.values())
    ref_left = [w for w in ref if not _take(common, w)]
    common = Counter(ref) & Counter(got)
    got_left = [w for w in got if not _take(common, w)]
    r_a, o_b = _joined_matches(ref_left, Counter(got_left))
    o_a, r_b = _joined_matches(got_left, Counter(ref_left))
    return strict, strict + r_a + r_b, strict + o_b + o_a


def _take(counter: Counter, w: str) -> bool:
    if counter[w] > 0:
        counter[w] -= 1
        return True
    return False


def accuracy(engine_name: str, limit: int | None) -> dict:
    import pymupdf

    from scitune.curate.ocr import get_engine
    from scitune.curate.pdf.extract import extract_pdf
    from scitune.curate.pdf.render import ocr_clip

    engine = get_engine(engine_name)
    if engine is None:
        from scitune.curate.ocr import engine_problem

        sys.exit(f"error: {engine_problem(engine_name)}")
    per_figure, matched, n_ref, n_ocr, seconds = [], 0, 0, 0, 0.0
    tol_ref = tol_ocr = 0
    for pdf in corpus_pdfs():
        if str(pdf.relative_to(CORPUS)) in SCANNED:
            continue
        result = extract_pdf(pdf, ocr="off")
        doc = pymupdf.open(pdf)
        for f in result.floats:
            if f.kind != "figure" or f.bbox is None or f.ocr_source != "text_layer" or len(f.ocr) < MIN_WORDS:
                continue
            page = doc[f.page - 1]
            rect = pymupdf.Rect(f.bbox)
            if any(pymupdf.Rect(i["bbox"]).intersects(rect) for i in page.get_image_info()):
                continue  # raster content: its text is not in the text layer, so not a fair reference
            ref = normalise(f.ocr)
            t = time.perf_counter()
            read = [w.text for w in ocr_clip(page, tuple(f.bbox), engine)]
            got = normalise(read)
            seconds += time.perf_counter() - t
            m = sum((ref & got).values())
            _, tr, to = match_counts(f.ocr, read)
            tol_ref, tol_ocr = tol_ref + tr, tol_ocr + to
            matched, n_ref, n_ocr = matched + m, n_ref + sum(ref.values()), n_ocr + sum(got.values())
            per_figure.append(
                {
                    "pdf": pdf.name,
                    "figure": f.number,
                    "words": sum(ref.values()),
                    "recall": m / max(sum(ref.values()), 1),
                    "precision": m / max(sum(got.values()), 1),
                    "missed": sorted((ref - got).elements())[:30],
                    "extra": sorted((got - ref).elements())[:30],
                }
            )
            if limit and len(per_figure) >= limit:
                break
        doc.close()
        if limit and len(per_figure) >= limit:
            break
    out = {
        "engine": engine_name,
        "figures": len(per_figure),
        "reference_words": n_ref,
        "recall": matched / max(n_ref, 1),
        "precision": matched / max(n_ocr, 1),
        "recall_split_tolerant": tol_ref / max(n_ref, 1),
        "precision_split_tolerant": tol_ocr / max(n_ocr, 1),
        "median_figure_recall": statistics.median(p["recall"] for p in per_figure) if per_figure else None,
        "median_figure_precision": statistics.median(p["precision"] for p in per_figure)
        if per_figure
        else None,
        "seconds_per_figure": seconds / max(len(per_figure), 1),
        "per_figure": per_figure,
    }
    print(
        f"{engine_name}: {out['figures']} vector figures, {n_ref} text-layer words: "
        f"recall {out['recall']:.3f}, "
        f"precision {out['precision']:.3f} (median per figure {out['median_figure_recall']:.3f} / "
        f"{out['median_figure_precision']:.3f}); {out['seconds_per_figure']:.2f} s of OCR per figure\n"
        f"  allowing a word split in two or three on one side: recall {out['recall_split_tolerant']:.3f}, "
        f"precision {out['precision_split_tolerant']:.3f}"
    )
    worst = sorted(per_figure, key=lambda p: p["recall"] + p["precision"])[:5]
    for p in worst:
        print(
            f"  {p['pdf']} fig {p['figure']}: R {p['recall']:.2f} P {p['precision']:.2f} "
            f"missed {p['missed'][:8]} extra {p['extra'][:8]}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"ocr_accuracy_{engine_name}.json").write_text(json.dumps(out, indent=1))
    return out


_SPEED_CHILD = r"""
import json, sys, time
from scitune.curate.pdf.extract import extract_pdf
mode, engine = sys.argv[1], sys.argv[2]
pages, sources = 0, {}
t = time.perf_counter()
for path in sys.argv[3:]:
    r = extract_pdf(path, ocr=mode, ocr_engine=engine)
    pages += r.pages
    for f in r.floats:
        sources[str(f.ocr_source)] = sources.get(str(f.ocr_source), 0) + 1
print(json.dumps({"pages": pages, "seconds": time.perf_counter() - t, "sources": sources}))
"""


def speed(runs: int, engine: str) -> dict:
    pdfs = [str(p) for p in corpus_pdfs()]
    out = {}
    for mode in ("off", "auto"):
        rates = []
        for i in range(runs):
            proc = subprocess.run(
                [sys.executable, "-c", _SPEED_CHILD, mode, engine, *pdfs],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "HF_HUB_OFFLINE": "1"},
            )
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            rates.append(r["pages"] / r["seconds"])
            print(
                f"--ocr {mode} run {i + 1}: {r['pages']} pages in {r['seconds']:.1f} s = "
                f"{rates[-1]:.1f} pages/s; "
                f"ocr_source {r['sources']}"
            )
        out[mode] = statistics.median(rates)
        print(f"--ocr {mode}: median {out[mode]:.1f} pages/s over {len(pdfs)} PDFs, one process")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ocr_speed.json").write_text(json.dumps(out, indent=1))
    return out


def scanned(engine: str) -> None:
    from scitune.curate.pdf.extract import extract_pdf

    for rel in SCANNED:
        r = extract_pdf(CORPUS / rel, ocr="auto", ocr_engine=engine)
        print(f"{rel}: {r.pages} pages, {len(r.floats)} floats")
        for f in r.floats:
            print(f"  {f.kind} {f.number} ({f.ocr_source}): {' '.join(f.ocr[:25])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", default="rapidocr")
    ap.add_argument("--limit", type=int, default=None, help="stop after this many figures")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--scanned", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if args.speed:
        speed(args.runs, args.engine)
    elif args.scanned:
        scanned(args.engine)
    else:
        accuracy(args.engine, args.limit)


if __name__ == "__main__":
    main()
