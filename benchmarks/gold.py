"""Scoring helpers for extraction benchmarks against the corpus `gold.json` files.

Shared by the PDF-side and LaTeX-side benchmarks, so the same rules score every extractor:

- `load_gold(path)`: a gold file as a dict (plus `_dir`, the folder it lives in).
- `token_f1(a, b)`: SQuAD-style token F1 over lower-cased alphanumeric tokens.
- `match_floats(gold_floats, predicted)`: pairs by (kind, number); numbers compared after
  `normalize_number` (spaces and a trailing dot removed, case folded; `II` stays `II`, `A.1` stays
  `A.1`: numbers are kept as printed, never converted between roman and arabic).
- `score_paper(gold, predicted)`: recall, precision, page accuracy, mean caption F1 and
  mention-paragraph recall/precision for one paper, with the raw counts so callers can pool them.
- `crop_similarity(crop_png, graphic_path)`: is a rendered float region the source graphic file?

Predicted floats may be `scitune.curate.records.Float` objects or dicts with the same field names.

Which gold floats count: only those printed in the PDF (`page` not null); gold notes say why a
float is missing from a PDF (an older build of the paper, for example).

Mention paragraphs. A gold float lists the body paragraphs that refer to it (from the LaTeX source).
A gold paragraph counts as *found* when one predicted paragraph of the same float
  (a) has token-F1 >= 0.5 with it (the same paragraph, allowing for math and citations that the PDF
      renders differently from the LaTeX source), or
  (b) is long (>= 20 tokens) and >= 90% of its tokens lie inside the gold paragraph (a piece of it:
      a paragraph cut by a column or page break, or by a display equation, is still the right text).
Mention recall = found gold paragraphs / all gold paragraphs of the floats that have any (floats
that were not found at all count with all their paragraphs missed). Mention precision = predicted
paragraphs that match some gold paragraph of their float by the same rule / all predicted paragraphs
of matched floats whose gold lists mentions (for floats without gold mentions nothing can be checked).

Crop similarity (see `crop_similarity`): both images are turned grayscale, their white margins
trimmed, and compared by aspect ratio and by the normalised correlation of small thumbnails.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

_TOKEN = re.compile(r"[a-z0-9]+")


def load_gold(path: str | Path) -> dict:
    """Read a gold.json; `_dir` is added so graphics paths can be resolved later."""
    path = Path(path)
    gold = json.loads(path.read_text(encoding="utf-8"))
    gold["_dir"] = str(path.parent)
    return gold


def tokens(text: str | None) -> list[str]:
    """Lower-cased alphanumeric tokens (the unit of every text score here)."""
    return _TOKEN.findall((text or "").lower())


def token_f1(a: str | None, b: str | None) -> float:
    """SQuAD-style token F1 between two texts; two empty texts agree (1.0)."""
    ta, tb = tokens(a), tokens(b)
    if not ta and not tb:
        return 1.0
    if not ta or not tb:
        return 0.0
    common = sum((Counter(ta) & Counter(tb)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(ta), common / len(tb)
    return 2 * precision * recall / (precision + recall)


def containment(part: str | None, whole: str | None) -> float:
    """Share of `part`'s tokens (as a multiset) that also occur in `whole`."""
    tp = tokens(part)
    if not tp:
        return 0.0
    return sum((Counter(tp) & Counter(tokens(whole))).values()) / len(tp)


def normalize_number(number: Any) -> str:
    """`" A.1 "` -> `A.1`, `ii` -> `II`, `3.` -> `3`: compare numbers as printed, ignoring case/spaces."""
    text = re.sub(r"\s+", "", str(number or ""))
    return text.rstrip(".").upper()


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def float_key(obj: Any) -> tuple[str, str]:
    return (str(_get(obj, "kind", "")).lower(), normalize_number(_get(obj, "number")))


def printed_floats(gold: dict) -> list[dict]:
    """The gold floats that the PDF prints (a float absent from an older PDF build has page null)."""
    return [f for f in gold["floats"] if f.get("page") is not None]


def match_floats(gold_floats: Iterable[Any], predicted: Iterable[Any]) -> list[tuple[Any, Any]]:
    """Pairs (gold, predicted) with the same kind and normalised number; each side used at most once."""
    by_key: dict[tuple[str, str], list[Any]] = {}
    for pred in predicted:
        by_key.setdefault(float_key(pred), []).append(pred)
    pairs = []
    for g in gold_floats:
        candidates = by_key.get(float_key(g))
        if candidates:
            pairs.append((g, candidates.pop(0)))
    return pairs


def paragraph_matches(predicted: str, gold_paragraph: str) -> bool:
    """The paragraph rule of the module docstring: token-F1 >= 0.5, or a long piece >= 90% inside."""
    if token_f1(predicted, gold_paragraph) >= 0.5:
        return True
    return len(tokens(predicted)) >= 20 and containment(predicted, gold_paragraph) >= 0.9


def score_paper(gold: dict, predicted: Iterable[Any], all_floats: bool = False) -> dict:
    """Scores of one paper; `counts` holds the raw numbers for pooling over papers (see `pool`).

    `all_floats`: score against every gold float, also those the PDF does not print (the LaTeX side
    reads the source, and LaTeX-only papers have no pages at all)."""
    predicted = list(predicted)
    gold_floats = list(gold["floats"]) if all_floats else printed_floats(gold)
    pairs = match_floats(gold_floats, predicted)
    matched_ids = {id(p) for _, p in pairs}

    page_right = sum(1 for g, p in pairs if _get(p, "page") == g.get("page"))
    caption_f1s = [token_f1(_get(p, "caption_no_index"), g.get("caption")) for g, p in pairs]

    pred_for_gold = {id(g): p for g, p in pairs}
    gold_paragraphs = found_paragraphs = 0
    pred_paragraphs = right_paragraphs = 0
    for g in gold_floats:
        paragraphs = [m["paragraph"] for m in g.get("mentions") or [] if m.get("paragraph")]
        if not paragraphs:
            continue
        gold_paragraphs += len(paragraphs)
        pred = pred_for_gold.get(id(g))
        if pred is None:
            continue
        mine = list(_get(pred, "paragraphs") or [])
        found_paragraphs += sum(1 for gp in paragraphs if any(paragraph_matches(pp, gp) for pp in mine))
        pred_paragraphs += len(mine)
        right_paragraphs += sum(1 for pp in mine if any(paragraph_matches(pp, gp) for gp in paragraphs))

    counts = {
        "gold": len(gold_floats),
        "predicted": len(predicted),
        "matched": len(pairs),
        "page_right": page_right,
        "caption_f1_sum": sum(caption_f1s),
        "gold_paragraphs": gold_paragraphs,
        "found_paragraphs": found_paragraphs,
        "pred_paragraphs": pred_paragraphs,
        "right_paragraphs": right_paragraphs,
    }
    result = rates(counts)
    result["counts"] = counts
    result["missed"] = [f"{g['kind']} {g['number']}" for g in gold_floats if id(g) not in pred_for_gold]
    result["extra"] = [
        f"{_get(p, 'kind')} {_get(p, 'number')}" for p in predicted if id(p) not in matched_ids
    ]
    result["caption_f1"] = {
        f"{g['kind']} {g['number']}": round(f1, 3) for (g, _), f1 in zip(pairs, caption_f1s)
    }
    return result


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def rates(counts: dict) -> dict:
    """Recall, precision, page accuracy, mean caption F1 and mention scores from raw counts."""
    return {
        "recall": _ratio(counts["matched"], counts["gold"]),
        "precision": _ratio(counts["matched"], counts["predicted"]),
        "page_accuracy": _ratio(counts["page_right"], counts["matched"]),
        "mean_caption_f1": _ratio(counts["caption_f1_sum"], counts["matched"]),
        "mention_recall": _ratio(counts["found_paragraphs"], counts["gold_paragraphs"]),
        "mention_precision": _ratio(counts["right_paragraphs"], counts["pred_paragraphs"]),
    }


def pool(results: Iterable[dict]) -> dict:
    """Pooled (micro-averaged) scores over papers scored by `score_paper`."""
    total: Counter = Counter()
    for r in results:
        total.update(r["counts"])
    out = rates(total)
    out["counts"] = dict(total)
    return out


# ----------------------------------------------------------------------------------------------
# Crop similarity
#
# Rule:
#   1. Render the source graphic (PDF page 1 with pymupdf, PNG/JPG with Pillow, EPS with Pillow's
#      ghostscript plugin) and take the crop as rendered by the extractor; both to grayscale.
#   2. Trim white margins on both (pixels lighter than 235 of 255 count as paper).
#   3. Aspect ratios (w/h) must agree within ASPECT_TOLERANCE (ratio of the larger to the smaller).
#      A crop that also holds a caption row, a line of body text, a neighbouring panel or a whole
#      column changes its shape and fails here.
#   4. Both are resized to THUMB x THUMB, lightly blurred (so 1-pixel line shifts between renderers do
#      not matter) and compared by Pearson correlation; similar when >= MIN_CORRELATION.
#
# Calibration (`python benchmarks/extraction_pdf.py --calibrate-crops`, 63 judgeable figures of the
# paired corpus): right crops agree within aspect 1.022 and correlation >= 0.86; none of the whole
# pages, full-height column strips or same-sized body-text blocks counts as similar; a crop cut short
# by 10% never does; a crop grown by the first caption row is accepted for at most 2 of 63 figures
# (the row adds < 3.5% to a tall figure); a neighbouring figure of the same paper is accepted for 2 of
# 168 pairs, both near-duplicates by design (a supplement figure repeating a main-text figure).
# ----------------------------------------------------------------------------------------------

ASPECT_TOLERANCE = 1.035
MIN_CORRELATION = 0.85
THUMB = 64
_WHITE = 235


@dataclass
class CropComparison:
    similar: bool
    correlation: float
    aspect_crop: float
    aspect_graphic: float
    reason: str


def render_graphic(path: str | Path, dpi: int = 100) -> Image.Image:
    """A source graphic file as a grayscale image (PDF/EPS/PS rendered, rasters decoded)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        import pymupdf

        with pymupdf.open(path) as doc:
            pix = doc[0].get_pixmap(dpi=dpi, alpha=False, colorspace=pymupdf.csGRAY)
            return Image.open(io.BytesIO(pix.tobytes("png"))).convert("L")
    img = Image.open(path)
    if suffix in (".eps", ".ps"):
        img.load(scale=max(1, round(dpi / 72)))  # Pillow runs ghostscript (`gs`) for EPS
    return _flatten(img)


def _flatten(img: Image.Image) -> Image.Image:
    """Grayscale on white: transparent pixels of PNGs become paper, not black."""
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    return img.convert("L")


def trim_margins(img: Image.Image, white: int = _WHITE) -> Image.Image:
    """Cut away the white border around the ink."""
    arr = np.asarray(img.convert("L"))
    ink = arr < white
    if not ink.any():
        return img
    rows, cols = np.where(ink.any(axis=1))[0], np.where(ink.any(axis=0))[0]
    return img.crop((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1))


def _thumb(img: Image.Image) -> np.ndarray:
    small = img.resize((THUMB, THUMB), Image.Resampling.BOX).filter(ImageFilter.GaussianBlur(0.8))
    return np.asarray(small, dtype=np.float64).ravel()


def compare_images(crop: Image.Image, graphic: Image.Image) -> CropComparison:
    """Apply the crop-similarity rule to two images (grayscale or not)."""
    a, b = trim_margins(_flatten(crop)), trim_margins(_flatten(graphic))
    ar_a, ar_b = a.width / max(1, a.height), b.width / max(1, b.height)
    ratio = max(ar_a, ar_b) / max(1e-9, min(ar_a, ar_b))
    ta, tb = _thumb(a), _thumb(b)
    if ta.std() < 1e-6 or tb.std() < 1e-6:
        corr = 1.0 if abs(ta.mean() - tb.mean()) < 8 else 0.0
    else:
        corr = float(np.corrcoef(ta, tb)[0, 1])
    if ratio > ASPECT_TOLERANCE:
        return CropComparison(False, corr, ar_a, ar_b, f"aspect ratio {ar_a:.2f} vs {ar_b:.2f}")
    if corr < MIN_CORRELATION:
        return CropComparison(False, corr, ar_a, ar_b, f"correlation {corr:.2f} < {MIN_CORRELATION}")
    return CropComparison(True, corr, ar_a, ar_b, "similar")


def crop_similarity(crop_png: bytes | Image.Image, graphic_path: str | Path) -> CropComparison:
    """Does the rendered crop show the source graphic file, not more and not less?"""
    crop = crop_png if isinstance(crop_png, Image.Image) else Image.open(io.BytesIO(crop_png))
    return compare_images(crop, render_graphic(graphic_path))


_GRAPHIC_EXTENSIONS = ("", ".pdf", ".png", ".jpg", ".jpeg", ".eps", ".ps")


def resolve_graphic(gold: dict, relpath: str, cache_dir: str | Path | None = None) -> Path | None:
    """The file behind a gold `graphics` entry (relative to the folder of `main_tex`).

    Sources are either a folder beside gold.json or an arXiv bundle (.tar.gz/.tgz/.tar/.zip); from a
    bundle the one member is extracted into `cache_dir` (a temporary folder by default).
    """
    import tarfile
    import tempfile
    import zipfile

    root = Path(gold["_dir"]) / gold["source"]
    tex_dir = Path(gold.get("main_tex") or "").parent
    if root.is_dir():
        for ext in _GRAPHIC_EXTENSIONS:
            candidate = root / tex_dir / (relpath + ext)
            if candidate.is_file():
                return candidate
        return None
    cache = Path(cache_dir or tempfile.mkdtemp(prefix="scitune-gold-"))
    wanted = [(tex_dir / (relpath + ext)).as_posix().lstrip("./") for ext in _GRAPHIC_EXTENSIONS]
    if zipfile.is_zipfile(root):
        with zipfile.ZipFile(root) as zf:
            names = {n.lstrip("./"): n for n in zf.namelist()}
            for w in wanted:
                if w in names:
                    target = cache / w
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(names[w]))
                    return target
        return None
    with tarfile.open(root) as tf:
        members = {m.name.lstrip("./"): m for m in tf.getmembers() if m.isfile()}
        for w in wanted:
            if w in members:
                target = cache / w
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tf.extractfile(members[w])
                assert source is not None
                target.write_bytes(source.read())
                return target
    return None


def judgeable_figures(gold: dict) -> list[dict]:
    """Gold figures made of exactly one graphic file that matches the PDF (the crop test set)."""
    return [
        f
        for f in printed_floats(gold)
        if f["kind"] == "figure" and len(f.get("graphics") or []) == 1 and not f.get("stale_graphic")
    ]
