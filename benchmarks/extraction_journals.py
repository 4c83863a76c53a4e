"""Benchmark of the PDF side on journal and proceedings layouts, against hand-made gold.

    python benchmarks/extraction_journals.py [--corpus ../shared/corpus] [--out benchmarks/results]
    python benchmarks/extraction_journals.py --pdf svg2xml_nature2013_microbial_dark_matter  # one PDF
    python benchmarks/extraction_journals.py --extracted OUT            # score an existing OUT

The gold is `benchmarks/gold/journals/*.json` (one file per PDF of `corpus/journals/`; its README says
how it was made and its conventions). The PDFs are run through `scitune-curate extract` itself (one
call, `--workers 1`, `--ocr off` unless `--ocr` says otherwise), so that what is scored is what a user
gets: the written `figures` rows and the `errors` rows.

Rules (pdffigures2's criterion, Clark & Divvala 2016):

- A predicted row and a gold float are candidates when page, kind and number agree (numbers compared
  by `gold.normalize_number`; a gold float printed as `Listing 2` or `Algorithm 2` also accepts the
  number `Listing2` / `Algorithm 2`, so the extractor may give such floats a number of their own).
  Among candidates, pairs are made greedily by box IoU, best first; each side is used once.
- A gold float is *found* when its pair has box IoU >= MIN_IOU. Recall = found / gold floats.
- Precision = found / predicted rows. Every other predicted row is a false positive: no gold float
  with its page, kind and number (a caption read as the wrong float, a float on the wrong page, a
  duplicate), or a pair whose box has IoU < MIN_IOU (a wrong crop), or a row without a box.
- Caption token-F1 (`gold.token_f1`, `caption_no_index` against the gold caption without its label)
  is averaged over the found floats.
- Degenerate rows: a written image with a side under DEGENERATE_PX pixels (a strip, a lone rule).
- Error rows are counted by `stage/error`; a gold float that has a float-level error row is reported
  as missed with that reason.

Results: benchmarks/results/journals.{md,json} (git-ignored), with per-PDF lines and every miss and
false positive with its reason. Scores are given over all PDFs and over the born-digital ones (the
1978 scan has `scanned: true`: its text layer is OCR, some captions are not in it at all).
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # as in extraction_pdf.py: `python benchmarks/x.py` runs from the repo root

from benchmarks.gold import normalize_number, token_f1  # noqa: E402

GOLD_DIR = ROOT / "benchmarks" / "gold" / "journals"
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_OUT = ROOT / "benchmarks" / "results"

# pdffigures2's criterion: a box counts as right when it overlaps the gold box by IoU >= 0.8.
MIN_IOU = 0.8
# An image with a side below this is a strip or a lone rule, never a float (the "~20 px").
DEGENERATE_PX = 20

Box = tuple[float, float, float, float]


def iou(a: Box | None, b: Box | None) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes; 0 when either is missing or empty."""
    if a is None or b is None:
        return 0.0
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_iou(gold_float: dict, box: Box | None) -> float:
    """IoU of a predicted box with the gold float: with its `bbox`, or with `bbox_with_notes` where
    the gold has one (a table whose notes below the bottom rule may be taken as part of it or not)."""
    alternatives = [gold_float["bbox"]] + (
        [gold_float["bbox_with_notes"]] if gold_float.get("bbox_with_notes") else []
    )
    return max(iou(tuple(b), box) for b in alternatives)


def _number_forms(gold_float: dict) -> set[str]:
    """The predicted numbers that name this gold float: its number, and `Listing2` for a listing."""
    number = normalize_number(gold_float["number"])
    forms = {number}
    label = str(gold_float.get("label") or "").strip().rstrip(".")
    if label and label.lower() not in ("figure", "fig", "table", "tab"):
        forms.add(normalize_number(label + number))
    return forms


def key_of_row(row: dict) -> tuple[int | None, str, str]:
    return (row.get("page"), str(row.get("kind") or "").lower(), normalize_number(row.get("number")))


def image_size(image: Any) -> tuple[int, int] | None:
    """(width, height) of a row's image (a datasets Image struct, raw bytes or None)."""
    data = image.get("bytes") if isinstance(image, dict) else image
    if not data:
        return None
    with Image.open(io.BytesIO(data)) as img:
        return img.size


def _label(f: dict) -> str:
    return f"{f.get('label') or f['kind']} {f['number']} (p{f['page']})"


def _box(b: Any) -> list[float] | None:
    return None if b is None else [round(float(v), 1) for v in b]


def score_pdf(gold: dict, rows: list[dict], errors: list[dict] | None = None) -> dict:
    """Scores of one PDF: counts, the found pairs, every miss and every false positive with a reason.

    `rows` are `figures` rows (dicts with page, kind, number, bbox, caption_no_index and optionally
    image); `errors` are `errors` rows of the same PDF (figure_id, stage, error, message)."""
    errors = errors or []
    floats = list(gold["floats"])
    candidates = []  # (iou, gold index, row index)
    for gi, g in enumerate(floats):
        forms = _number_forms(g)
        for ri, r in enumerate(rows):
            page, kind, number = key_of_row(r)
            if page == g["page"] and kind == g["kind"] and number in forms:
                candidates.append((box_iou(g, r.get("bbox")), gi, ri))
    candidates.sort(key=lambda t: -t[0])
    pair_of_gold: dict[int, tuple[int, float]] = {}
    used_rows: set[int] = set()
    for value, gi, ri in candidates:
        if gi in pair_of_gold or ri in used_rows:
            continue
        pair_of_gold[gi] = (ri, value)
        used_rows.add(ri)

    error_by_float: dict[str, list[dict]] = {}
    for e in errors:
        fid = e.get("figure_id") or ""
        error_by_float.setdefault(fid.rsplit("/", 1)[-1].lower(), []).append(e)

    found, misses, false_positives, caption_f1s = [], [], [], []
    for gi, g in enumerate(floats):
        pair = pair_of_gold.get(gi)
        if pair is not None and pair[1] >= MIN_IOU:
            r = rows[pair[0]]
            f1 = token_f1(r.get("caption_no_index"), g["caption"])
            caption_f1s.append(f1)
            found.append({"float": _label(g), "iou": round(pair[1], 3), "caption_f1": round(f1, 3)})
            continue
        if pair is not None:
            r = rows[pair[0]]
            why = (
                "row without a box"
                if r.get("bbox") is None
                else f"box IoU {pair[1]:.2f} < {MIN_IOU} (row {_box(r.get('bbox'))}, gold {_box(g['bbox'])})"
            )
            misses.append({"float": _label(g), "reason": why, "notes": g.get("notes", [])})
            false_positives.append({"row": _label(r), "reason": why})
            continue
        same = [  # rows of this kind and number elsewhere that no other gold float took
            r
            for ri, r in enumerate(rows)
            if ri not in used_rows
            and str(r.get("kind") or "").lower() == g["kind"]
            and normalize_number(r.get("number")) in _number_forms(g)
        ]
        errs = [e for form in _number_forms(g) for e in error_by_float.get(f"{g['kind']}{form}".lower(), [])]
        if errs:
            why = "error row " + "; ".join(
                f"{e.get('stage')}/{e.get('error')}: {e.get('message')}" for e in errs
            )
        elif same:
            why = "row on another page: " + ", ".join(f"p{r.get('page')}" for r in same)
        else:
            why = "no row and no error row"
        misses.append({"float": _label(g), "reason": why, "notes": g.get("notes", [])})

    gold_keys = {(g["page"], g["kind"], form) for g in floats for form in _number_forms(g)}
    gold_elsewhere = {(g["kind"], form): g["page"] for g in floats for form in _number_forms(g)}
    for ri, r in enumerate(rows):
        if ri in used_rows:
            continue
        page, kind, number = key_of_row(r)
        if (page, kind, number) in gold_keys:
            why = "duplicate: another row of this float was paired"
        elif (kind, number) in gold_elsewhere:
            why = f"wrong page: gold has {kind} {number} on page {gold_elsewhere[(kind, number)]}"
        else:
            why = "no gold float with this kind and number (a caption misread, or not a float)"
        for nf in gold.get("not_floats", []):
            if nf["page"] == page and iou(tuple(nf["bbox"]), r.get("bbox")) > 0:
                why += f"; overlaps a non-float: {nf['what']}"
        false_positives.append({"row": _label(r), "reason": why, "bbox": _box(r.get("bbox"))})

    degenerate = []
    for r in rows:
        if "image" not in r:
            continue
        size = image_size(r.get("image"))
        if size is not None and min(size) < DEGENERATE_PX:
            degenerate.append({"row": _label(r), "image_px": list(size)})
    error_counts = Counter(f"{e.get('stage')}/{e.get('error')}" for e in errors)
    miss_classes = Counter(_reason_class(m["reason"]) for m in misses)
    fp_classes = Counter(_reason_class(f["reason"]) for f in false_positives)
    counts = {
        "gold": len(floats),
        "predicted": len(rows),
        "found": len(found),
        "caption_f1_sum": sum(caption_f1s),
        "degenerate": len(degenerate),
        "error_rows": len(errors),
    }
    return {
        **rates(counts),
        "counts": counts,
        "errors_by_reason": dict(error_counts),
        "miss_classes": dict(miss_classes),
        "false_positive_classes": dict(fp_classes),
        "found": found,
        "misses": misses,
        "false_positives": false_positives,
        "degenerate_rows": degenerate,
    }


def _reason_class(reason: str) -> str:
    """The reason without its details, for counting: `box IoU < 0.8`, `error row float/no_region`, ..."""
    if reason.startswith("box IoU"):
        return f"box IoU < {MIN_IOU}"
    if reason.startswith("error row"):
        return reason.split(":", 1)[0]
    return reason.split(":", 1)[0].split(";", 1)[0]


def rates(counts: dict) -> dict:
    def ratio(a: float, b: float) -> float | None:
        return a / b if b else None

    return {
        "recall": ratio(counts["found"], counts["gold"]),
        "precision": ratio(counts["found"], counts["predicted"]),
        "caption_f1": ratio(counts["caption_f1_sum"], counts["found"]),
    }


def pool(results: list[dict]) -> dict:
    total: Counter = Counter()
    errors: Counter = Counter()
    misses: Counter = Counter()
    fps: Counter = Counter()
    for r in results:
        total.update(r["counts"])
        errors.update(r["errors_by_reason"])
        misses.update(r["miss_classes"])
        fps.update(r["false_positive_classes"])
    return {
        **rates(total),
        "counts": dict(total),
        "errors_by_reason": dict(errors),
        "miss_classes": dict(misses),
        "false_positive_classes": dict(fps),
    }


def load_gold_files(gold_dir: Path = GOLD_DIR, only: str | None = None) -> list[dict]:
    golds = []
    for path in sorted(gold_dir.glob("*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        if only and only not in (path.stem, gold["pdf"]):
            continue
        golds.append(gold)
    return golds


def run_extract(pdfs: list[Path], out: Path, ocr: str) -> float:
    """`scitune-curate extract` over the PDFs into OUT (the command a user runs); seconds taken."""
    cli = Path(sys.executable).with_name("scitune-curate")  # the one installed beside this Python
    if not cli.is_file():
        found = shutil.which("scitune-curate")
        if found is None:
            sys.exit("scitune-curate not found: install the project (pip install -e .) in this environment")
        cli = Path(found)
    command = [
        str(cli),
        "extract",
        *map(str, pdfs),
        "-o",
        str(out),
        "--workers",
        "1",
        "--ocr",
        ocr,
        "--force",
    ]
    t = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"scitune-curate extract failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - t


def read_rows(folder: Path) -> list[dict]:
    import pyarrow.parquet as pq  # the datasets dependency; only needed to read an OUT

    rows: list[dict] = []
    for part in sorted(folder.glob("*.parquet")):
        rows.extend(pq.read_table(part).to_pylist())
    return rows


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def report(per_pdf: dict[str, dict], golds: list[dict], seconds: float | None) -> tuple[dict, str]:
    scanned = {g["pdf"].removesuffix(".pdf") for g in golds if g.get("scanned")}
    overall = pool(list(per_pdf.values()))
    digital = pool([s for name, s in per_pdf.items() if name not in scanned])
    lines = [
        f"# Journals set: PDF extraction against hand-made gold (IoU >= {MIN_IOU})",
        "",
        "| pdf | gold | rows | found | recall | precision | caption F1 | degenerate | error rows |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def line(name: str, s: dict) -> str:
        c = s["counts"]
        return (
            f"| {name} | {c['gold']} | {c['predicted']} | {c['found']} | {_fmt(s['recall'])} | "
            f"{_fmt(s['precision'])} | {_fmt(s['caption_f1'])} | {c['degenerate']} | {c['error_rows']} |"
        )

    for name, s in per_pdf.items():
        lines.append(line(name + (" (scanned)" if name in scanned else ""), s))
    lines.append(line("**all**", overall))
    lines.append(line("**born-digital**", digital))
    lines += [
        "",
        "Error rows by reason: " + json.dumps(overall["errors_by_reason"]),
        "Misses by reason: " + json.dumps(overall["miss_classes"]),
        "False positives by reason: " + json.dumps(overall["false_positive_classes"]),
    ]
    if seconds is not None:
        lines.append(f"`scitune-curate extract` over the set: {seconds:.1f} s")
    lines += ["", "## Misses", ""]
    for name, s in per_pdf.items():
        for m in s["misses"]:
            lines.append(
                f"- {name}: {m['float']}: {m['reason']}"
                + (f" [{'; '.join(m['notes'])}]" if m["notes"] else "")
            )
    lines += ["", "## False positives", ""]
    for name, s in per_pdf.items():
        for fp in s["false_positives"]:
            lines.append(f"- {name}: {fp['row']}: {fp['reason']}")
    lines += ["", "## Degenerate images", ""]
    for name, s in per_pdf.items():
        for d in s["degenerate_rows"]:
            lines.append(f"- {name}: {d['row']}: {d['image_px'][0]} x {d['image_px'][1]} px")
    result = {
        "min_iou": MIN_IOU,
        "overall": overall,
        "born_digital": digital,
        "seconds": seconds,
        "pdfs": per_pdf,
    }
    return result, "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the corpus folder (holds journals/)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where journals.{md,json} are written")
    ap.add_argument("--pdf", help="score only this PDF (file name or gold stem)")
    ap.add_argument("--ocr", default="off", choices=["auto", "always", "off"], help="passed to extract")
    ap.add_argument("--extracted", type=Path, help="score this existing OUT instead of running extract")
    args = ap.parse_args()
    journals = args.corpus / "journals"
    if not journals.is_dir():
        sys.exit(f"corpus not found at {journals}: give --corpus (the folder holding journals/)")
    golds = load_gold_files(only=args.pdf)
    if not golds:
        sys.exit(f"no gold files in {GOLD_DIR}" + (f" for {args.pdf}" if args.pdf else ""))
    pdfs = [journals / g["pdf"] for g in golds]
    seconds = None
    if args.extracted:
        out = args.extracted
    else:
        out = Path(tempfile.mkdtemp(prefix="scitune-journals-"))
        print(f"extracting {len(pdfs)} PDFs into {out} ...", flush=True)
        seconds = run_extract(pdfs, out, args.ocr)
    rows, errors = read_rows(out / "figures"), read_rows(out / "errors")
    per_pdf = {}
    for g in golds:
        mine = [r for r in rows if Path((r.get("provenance") or {}).get("input") or "").name == g["pdf"]]
        errs = [e for e in errors if Path(e.get("input") or "").name == g["pdf"]]
        per_pdf[g["pdf"].removesuffix(".pdf")] = score_pdf(g, mine, errs)
    result, markdown = report(per_pdf, golds, seconds)
    print(markdown)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "journals.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    (args.out / "journals.md").write_text(markdown, encoding="utf-8")
    print(f"wrote {args.out / 'journals.md'} and journals.json")


if __name__ == "__main__":
    main()
