"""A first, rule-based guess of a float's figure type (a class of `scitune.schemas.taxonomy.FIGURE_TYPES`).

A stop-gap until a trained classifier replaces it; the rules, in order (the first that fires wins):

1. `kind == "table"` -> `table`.
2. A region with text only (`hints["text_only"]`: no image, hardly any drawing) -> `code_listing` when
   it is set in a monospace font (`monospace_share` >= 0.5) or the caption speaks of code, else
   `table_as_figure`.
3. Keywords in the caption's first sentence, which usually names what is shown ("Histogram of ...",
   "A schematic of ...", "Photograph of ..."), from the most specific class to the most generic
   (`CAPTION_RULES`). Code words do not count for a region with real graphics (an image, or more
   than 20 marks and strokes) unless it is set in monospace (a caption "Using X to plot Y" shows a
   plot); "heatmap" is matched before "map".
4. Evidence from the PDF (`hints`, all optional) and the rendered image:
   - no tick numbers (`numeric_words` < 4) and a photo-like image -> `photo`. Photo-like: many distinct
     colours (>= 2,000 of the 32,768 5-bit RGB bins), grey-level entropy >= 6 bits and < 25% near-white
     pixels, measured on a 96 px thumbnail;
   - tick numbers (`numeric_words` >= 4: numbers in text rows made only of numbers, i.e. tick labels
     of a chart with axes):
     raster share >= 0.3 -> `heatmap` (an image with axes: a map of a 2-D field);
     >= 70 filled rectangles outnumbering other strokes 3:1 -> `heatmap` (a grid of cells);
     >= 8 filled rectangles outnumbering strokes -> `bar_chart`;
     >= 1,000 small marks (<= 8 pt) and 50 times more marks than strokes -> `scatter_plot`;
     otherwise `line_plot`, the most common chart in papers;
   - no tick numbers but >= 20 drawing runs or strokes -> `diagram` (boxes and arrows);
   - a mostly white raster with few colours covering the region -> `diagram`.
5. Otherwise `other`.

The PDF side passes `hints` (extract.py `_hints`); callers without them get rules 1-3 and the image
statistics. Measured against the gold `figure_type` of the paired corpus by
`python benchmarks/extraction_pdf.py` (the README gives the accuracy).
"""

from __future__ import annotations

import io
import math
import re

from PIL import Image

# (class, pattern) in priority order; patterns match the lower-cased first sentence of the caption
CAPTION_RULES: list[tuple[str, str]] = [
    ("code_listing", r"\b(code (example|snippet|listing)s?|listings?|source code|using \w+\.\w+ to)\b"),
    ("equation_or_algorithm", r"^(algorithm|pseudo-?code)\b|\bpseudo-?code\b"),
    ("screenshot", r"\b(screenshots?|screen ?shot|user interface|screen capture|web page|interface of)\b"),
    ("pie_chart", r"\b(pie[- ]?charts?|donut)\b"),
    ("box_plot", r"\b(box[- ]?plots?|boxplots?|violin plots?|whiskers?)\b"),
    ("histogram", r"\b(histograms?|probability distributions?|distributions? of)\b"),
    (
        "heatmap",
        (
            r"\b(heat ?maps?|confusion matri(x|ces)|correlation matri(x|ces)|covariance matri(x|ces)"
            r"|kernel density|colou?r[- ]?(coded|map|scale|bar)|pearson correlation)\b"
        ),
    ),
    ("scatter_plot", r"\b(scatter|scatter ?plots?|each (point|dot|marker) (is|represents))\b"),
    ("bar_chart", r"\b(bar (charts?|plots?|graphs?)|bars (show|represent|indicate))\b"),
    (
        "map",
        (
            r"\b(sky ?maps?|world ?maps?|maps? of (the )?(sky|world|region|earth|galactic)|geographic|"
            r"significance maps?|counts? maps?|excess maps?|galactic (plane|center|centre) (map|region))\b"
        ),
    ),
    ("photo", r"\b(photo(graph)?s?|micrographs?|microscop(e|y)|camera images?|snapshots?)\b"),
    (
        "diagram",
        (
            r"\b(schematic|diagram|architecture|flow ?chart|pipeline|workflow|block[- ]diagram|graphical "
            r"model|"
            r"overview of|structure of|framework|sub-?package|computational graph|flow of)\b"
        ),
    ),
    ("illustration", r"\b(illustrat(ion|es|ing)|sketch(es)?|cartoon|conceptual|drawing)\b"),
    (
        "line_plot",
        (
            r"\b(as a function of|versus|vs\.?|over time|time series|curves?|evolution of|light ?curves?|"
            r"spectr(um|a)|learning curves?|traces?|convergence|scaling of|throughput|response time)\b"
        ),
    ),
]
_COMPILED = [(cls, re.compile(p)) for cls, p in CAPTION_RULES]


def _image_stats(image_png: bytes) -> dict | None:
    try:
        img = Image.open(io.BytesIO(image_png)).convert("RGB")
    except Exception:  # noqa: BLE001 - a broken image only means no image evidence
        return None
    img.thumbnail((96, 96))
    pixels = list(img.getdata())
    n = len(pixels) or 1
    colours = len({(r >> 3, g >> 3, b >> 3) for r, g, b in pixels})
    grey = [int(0.299 * r + 0.587 * g + 0.114 * b) for r, g, b in pixels]
    white = sum(1 for v in grey if v > 240) / n
    hist = [0] * 256
    for v in grey:
        hist[v] += 1
    entropy = -sum((c / n) * math.log2(c / n) for c in hist if c)
    return {"colours": colours, "entropy": entropy, "white": white}


def _first_sentence(caption: str) -> str:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", (caption or "").strip(), maxsplit=1)
    return parts[0].lower() if parts else ""


def guess_figure_type(kind: str, caption: str, image_png: bytes | None, hints: dict | None = None) -> str:
    """The rule-based figure type of one float (see the module docstring for the rules)."""
    if kind == "table":
        return "table"
    text = _first_sentence(caption)
    hints = hints or {}
    mono = hints.get("monospace_share", 0.0)
    code_words = bool(_COMPILED[0][1].search(text))
    if hints.get("text_only"):
        return "code_listing" if mono >= 0.5 or code_words else "table_as_figure"
    graphic = hints.get("raster_share", 0) >= 0.2 or hints.get("marks", 0) + hints.get("strokes", 0) > 20
    for cls, pattern in _COMPILED:
        if cls == "code_listing" and graphic and mono < 0.3:
            continue  # "Using X to plot Y" above a plot
        if pattern.search(text):
            return cls
    stats = _image_stats(image_png) if image_png else None
    axes = hints.get("numeric_words", 0) >= 4
    photo_like = bool(
        stats and stats["colours"] >= 2000 and stats["entropy"] >= 6.0 and stats["white"] < 0.25
    )
    if photo_like and not axes:
        return "photo"
    if axes:
        rects, strokes, marks = hints.get("filled_rects", 0), hints.get("strokes", 0), hints.get("marks", 0)
        if hints.get("raster_share", 0) >= 0.3:
            return "heatmap"
        if rects >= 70 and rects > 3 * strokes:
            return "heatmap"
        if rects >= 8 and rects > strokes:
            return "bar_chart"
        if marks >= 1000 and marks > 50 * max(strokes, 1):
            return "scatter_plot"
        return "line_plot"
    if hints.get("n_paths", 0) >= 20 or hints.get("strokes", 0) >= 20:
        return "diagram"
    if stats and hints.get("raster_share", 0) > 0.8 and stats["white"] > 0.5 and stats["colours"] < 500:
        return "diagram"
    return "other"
