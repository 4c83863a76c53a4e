"""What a figure is made of, as numbers the figure-type classifier reads (`FEATURES`, in this order).

Three sources, each optional (a LaTeX-only float has no PDF drawings; a raster figure has no paths):

- `pdf_signals(page, text, rect)`: the PDF's own drawing operations inside the region (pymupdf's
  `get_cdrawings`): axis-aligned strokes and short ticks (axes), long polylines (data lines), small repeated
  marks (scatter markers), filled rectangles standing on a shared baseline (bars) or tiling a grid
  (heatmap cells), filled paths with curves (pie wedges), boxes and small filled triangles (arrows between
  boxes), fill colours; the raster share; and the text layer (words, tick numbers, monospace share).
- `image_signals(png)`: colour statistics of the rendered figure (distinct colours, grey entropy, white
  share, saturation, edge density) on a small thumbnail.
- LaTeX source: TikZ / pgfplots bodies and graphic file names (`latex_signals`), as votes for classes.

`vector(signals)` turns a signals dict into the model's input (missing signals are 0, with an indicator
saying which sources were present, so a model trained on PDF figures still reads a LaTeX-only one).
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter

import numpy as np
from PIL import Image

Rect = tuple[float, float, float, float]

_NUMBER = re.compile(r"^[−\-+]?\(?\d+([.,]\d+)?\)?%?$|^10[−\-]?\d+$|^\d+(\.\d+)?[eE][−\-+]?\d+$")
_MONO = re.compile(r"mono|courier|typewriter|consol|menlo|inconsolata|cmtt|sfmono|\btt|code", re.IGNORECASE)
# what source code looks like in any font (listings are often set in roman): assignments, calls,
# dotted names, brackets, quotes and comment marks; and the words of pseudocode
_CODE_CHARS = set("=()[]{}_.:'\"#<>;")
_CODE_TOKEN = re.compile(
    r"^(import|from|def|class|return|print|self|lambda|elif|none|true|false|const|void|int|var|let)$"
    r"|^\w+\.\w+|^\w+\(|=|^>>>|^#|^//"
)
_ALGO_TOKEN = re.compile(
    r"^(do|end|then|while|until|repeat|procedure|function|input:?|output:?|algorithm|require:?|ensure:?|"
    r"for|to|each|if|else|return|foreach|endfor|endif|endwhile|begin)$"
)
MARK_SIZE = 8.0  # points: a path no larger than this on both sides is a marker (scatter dot, legend mark)
TICK_LENGTH = 6.0  # points: an axis-aligned stroke shorter than this is a tick
POLYLINE_ITEMS = 8  # a path of at least this many segments is a drawn data line (or a contour)

FEATURES = [
    # sources present
    "has_pdf",
    "has_image",
    # PDF drawings (counts as log1p)
    "log_paths",
    "log_items",
    "axis_aligned_share",
    "log_ticks",
    "log_long_axis_lines",
    "log_polylines",
    "polyline_item_share",
    "log_marks",
    "mark_share",
    "repeated_mark_share",
    "log_filled_rects",
    "baseline_bar_share",
    "grid_cell_share",
    "log_curve_fills",
    "log_boxes",
    "log_arrowheads",
    "log_fill_colours",
    "curve_item_share",
    # raster and text layer
    "raster_share",
    "log_images",
    "log_words",
    "number_share",
    "log_tick_numbers",
    "monospace_share",
    "text_share",
    "code_punct_share",
    "code_token_share",
    "algo_token_share",
    # pixels
    "log_colours",
    "grey_entropy",
    "white_share",
    "saturation",
    "edge_density",
    "dark_share",
]


def _log(n: float) -> float:
    return math.log1p(max(0.0, n))


def _inside(r, rect: Rect, pad: float = 1.0) -> bool:
    return r[0] >= rect[0] - pad and r[1] >= rect[1] - pad and r[2] <= rect[2] + pad and r[3] <= rect[3] + pad


def _colour_key(c) -> tuple | None:
    if not c:
        return None
    return tuple(round(v * 8) for v in c[:3])


def drawing_signals(drawings: list[dict], rect: Rect) -> dict:
    """Statistics of the vector drawings lying inside `rect` (PDF points)."""
    w, h = max(rect[2] - rect[0], 1.0), max(rect[3] - rect[1], 1.0)
    paths = items = axis_items = ticks = long_lines = polylines = poly_items = 0
    marks: Counter = Counter()
    filled_rects: list[Rect] = []
    curve_fills = boxes = arrowheads = curve_items = 0
    fills: Counter = Counter()
    for d in drawings:
        r = d.get("rect")
        if r is None or not _inside(r, rect):
            continue
        its = d.get("items") or ()
        kind = d.get("type") or ""
        paths += 1
        items += len(its)
        rw, rh = r[2] - r[0], r[3] - r[1]
        n_curves = sum(1 for it in its if it[0] == "c")
        curve_items += n_curves
        for it in its:
            if it[0] == "l":
                (x0, y0), (x1, y1) = it[1], it[2]
                if abs(x0 - x1) < 0.1 or abs(y0 - y1) < 0.1:
                    axis_items += 1
                    length = abs(x0 - x1) + abs(y0 - y1)
                    if length < TICK_LENGTH:
                        ticks += 1
                    elif length > 0.3 * min(w, h):
                        long_lines += 1
            elif it[0] == "re":
                axis_items += 1
        if "f" in kind:
            fills[_colour_key(d.get("fill"))] += 1
        if rw <= MARK_SIZE and rh <= MARK_SIZE:
            marks[(round(rw, 1), round(rh, 1))] += 1
            if "f" in kind and sum(1 for it in its if it[0] == "l") in (2, 3) and n_curves == 0:
                arrowheads += 1
            continue
        if len(its) >= POLYLINE_ITEMS and "s" in kind and "f" not in kind:
            polylines += 1
            poly_items += len(its)
        if "f" in kind and its and all(it[0] == "re" for it in its):
            for it in its:
                q = it[1]
                filled_rects.append((q[0], q[1], q[2], q[3]))
        elif "f" in kind and len(its) == 4 and all(it[0] == "l" for it in its):
            filled_rects.append(tuple(r))  # a rectangle drawn as four lines
        if "f" in kind and n_curves >= 1 and len(its) > n_curves and min(rw, rh) > 2 * MARK_SIZE:
            curve_fills += 1  # a filled shape of arcs and straight edges, larger than a marker: a wedge
        if (
            "s" in kind
            and rw > 15
            and rh > 8
            and rw < 0.8 * w
            and rh < 0.8 * h
            and ((its and all(it[0] == "re" for it in its)) or (n_curves >= 4 and len(its) <= 12))
        ):
            boxes += 1  # a stroked box (or rounded box) smaller than the figure: a node of a diagram
    # bars: filled rectangles whose bottoms (or lefts) line up with at least two others
    bottoms = Counter(round(q[3]) for q in filled_rects if q[2] - q[0] < 0.5 * w)
    lefts = Counter(round(q[0]) for q in filled_rects if q[3] - q[1] < 0.5 * h)
    on_base = sum(n for n in bottoms.values() if n >= 3) + sum(n for n in lefts.values() if n >= 3)
    # grid cells: filled rectangles of one size tiling rows and columns
    sizes = Counter((round(q[2] - q[0], 1), round(q[3] - q[1], 1)) for q in filled_rects)
    cells = 0
    if sizes:
        size, n = sizes.most_common(1)[0]
        if n >= 9:
            same = [q for q in filled_rects if (round(q[2] - q[0], 1), round(q[3] - q[1], 1)) == size]
            xs, ys = {round(q[0]) for q in same}, {round(q[1]) for q in same}
            if len(xs) >= 3 and len(ys) >= 3:
                cells = n
    n_marks = sum(marks.values())
    n_rects = len(filled_rects)
    return {
        "log_paths": _log(paths),
        "log_items": _log(items),
        "axis_aligned_share": axis_items / items if items else 0.0,
        "log_ticks": _log(ticks),
        "log_long_axis_lines": _log(long_lines),
        "log_polylines": _log(polylines),
        "polyline_item_share": poly_items / items if items else 0.0,
        "log_marks": _log(n_marks),
        "mark_share": n_marks / paths if paths else 0.0,
        "repeated_mark_share": (marks.most_common(1)[0][1] / n_marks) if n_marks >= 5 else 0.0,
        "log_filled_rects": _log(n_rects),
        "baseline_bar_share": min(1.0, on_base / n_rects) if n_rects else 0.0,
        "grid_cell_share": cells / n_rects if n_rects else 0.0,
        "log_curve_fills": _log(curve_fills),
        "log_boxes": _log(boxes),
        "log_arrowheads": _log(arrowheads),
        "log_fill_colours": _log(len(fills)),
        "curve_item_share": curve_items / items if items else 0.0,
    }


def text_signals(rows, rect: Rect) -> dict:
    """The text layer inside `rect`: words, numbers, tick rows, monospace share (`rows`: layout rows)."""
    area = max((rect[2] - rect[0]) * (rect[3] - rect[1]), 1e-6)
    words = numbers = ticks = mono = chars = code_chars = code_tokens = algo_tokens = 0
    text_area = 0.0
    for r in rows:
        if r.role in ("header", "linenumber", "caption") or not _inside(r.rect, rect):
            continue
        tokens = r.text.split()
        words += len(tokens)
        code_tokens += sum(1 for t in tokens if _CODE_TOKEN.search(t.lower()))
        algo_tokens += sum(1 for t in tokens if _ALGO_TOKEN.match(t.lower()))
        code_chars += sum(1 for ch in r.text if ch in _CODE_CHARS)
        nums = sum(1 for t in tokens if _NUMBER.match(t))
        numbers += nums
        if tokens and nums == len(tokens):
            ticks += nums  # rows of bare numbers: tick labels
        text_area += r.width * r.height
        for s in r.spans:
            n = len(s.text.strip())
            chars += n
            mono += n if _MONO.search(s.font) else 0
    return {
        "log_words": _log(words),
        "number_share": numbers / words if words else 0.0,
        "log_tick_numbers": _log(ticks),
        "monospace_share": mono / chars if chars else 0.0,
        "text_share": min(1.0, text_area / area),
        "code_punct_share": code_chars / chars if chars else 0.0,
        "code_token_share": code_tokens / words if words else 0.0,
        "algo_token_share": algo_tokens / words if words else 0.0,
    }


def raster_signals(image_rects: list[Rect], rect: Rect) -> dict:
    area = max((rect[2] - rect[0]) * (rect[3] - rect[1]), 1e-6)
    covered, n = 0.0, 0
    for im in image_rects:
        ix = max(0.0, min(im[2], rect[2]) - max(im[0], rect[0]))
        iy = max(0.0, min(im[3], rect[3]) - max(im[1], rect[1]))
        if ix * iy > 4:
            covered += ix * iy
            n += 1
    return {"raster_share": min(1.0, covered / area), "log_images": _log(n)}


def pdf_signals(drawings: list[dict], rows, image_rects: list[Rect], rect: Rect) -> dict:
    """All PDF-side signals of one region: drawings (`page.get_cdrawings()`), text rows, image boxes."""
    return {
        "has_pdf": 1.0,
        **drawing_signals(drawings, rect),
        **text_signals(rows, rect),
        **raster_signals(image_rects, rect),
    }


def image_signals(png: bytes | None) -> dict:
    """Colour statistics of the rendered figure on a 128 px thumbnail; {} when there is no image."""
    if not png:
        return {}
    try:
        img = Image.open(io.BytesIO(png)).convert("RGB")
        img.thumbnail((128, 128))
        a = np.asarray(img, dtype=np.float32) / 255.0
    except Exception:  # noqa: BLE001 - a broken image only means no pixel evidence
        return {}
    grey = a @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    q = (a * 31).astype(np.int32)
    colours = len(np.unique(q[..., 0] * 1024 + q[..., 1] * 32 + q[..., 2]))
    hist = np.bincount((grey * 255).astype(np.int32).ravel(), minlength=256).astype(np.float64)
    p = hist[hist > 0] / hist.sum()
    mx, mn = a.max(axis=2), a.min(axis=2)
    sat = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-6), 0.0)
    gx = np.abs(np.diff(grey, axis=1)) > 0.25
    gy = np.abs(np.diff(grey, axis=0)) > 0.25
    return {
        "has_image": 1.0,
        "log_colours": _log(colours),
        "grey_entropy": float(-(p * np.log2(p)).sum()),
        "white_share": float((grey > 0.94).mean()),
        "saturation": float(sat.mean()),
        "edge_density": float((gx.mean() + gy.mean()) / 2),
        "dark_share": float((grey < 0.3).mean()),
    }


def vector(signals: dict) -> np.ndarray:
    """The model input: `FEATURES` in order, 0 where a signal is missing."""
    return np.array([float(signals.get(name, 0.0)) for name in FEATURES], dtype=np.float32)


# Words in graphic file names that name a type (split at `_ - . /` and case changes), as LaTeX-side votes.
FILE_NAME_RULES: list[tuple[str, str]] = [
    ("histogram", r"hist|histogram|histograms|distribution|distributions|pdf|kde"),
    ("scatter_plot", r"scatter|corner"),
    ("heatmap", r"heatmap|heat|confusion|corr|correlation|matrix"),
    ("pie_chart", r"pie|donut"),
    ("box_plot", r"box|boxplot|violin"),
    ("bar_chart", r"bar|bars|barplot|barchart"),
    (
        "diagram",
        r"arch|architecture|pipeline|overview|flow|flowchart|diagram|schema|schematic|framework|graph",
    ),
    ("photo", r"photo|photos|snapshot|micrograph|camera"),
    ("map", r"map|skymap|sky|world"),
    ("screenshot", r"screenshot|screen|gui|ui"),
    ("code_listing", r"code|listing|snippet"),
    ("line_plot", r"curve|curves|lightcurve|timeseries|loss|convergence|spectrum|spectra"),
]
_FILE_RULES = [(cls, re.compile(rf"^({p})$")) for cls, p in FILE_NAME_RULES]
FILE_NAME_WEIGHT = 3.0  # a file named "histogram.pdf" is a strong hint, but files get renamed and reused
TIKZ_WEIGHT = 2.0  # a TikZ drawing without pgfplots in the preamble is most often boxes and arrows


def latex_votes(graphics: list[str], drawing: bool, pgfplots: bool) -> dict:
    """Class votes from the LaTeX source: graphic file names, and a TikZ drawing (diagram unless the
    document loads pgfplots, which draws charts in TikZ)."""
    votes: dict[str, float] = {}
    for path in graphics:
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        parts = re.split(r"[_\-.\s]+|(?<=[a-z])(?=[A-Z])", stem)
        for part in (p.lower() for p in parts if p):
            for cls, pattern in _FILE_RULES:
                if pattern.match(part):
                    votes[cls] = FILE_NAME_WEIGHT
                    break
    if drawing and not graphics and not pgfplots:
        votes.setdefault("diagram", TIKZ_WEIGHT)
    return votes
