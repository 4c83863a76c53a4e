"""A first, rule-based guess of a float's figure type (a class of `scitune.schemas.taxonomy.FIGURE_TYPES`).

A stop-gap until a trained classifier replaces it; the rules, in order (first that fires wins):

1. `kind == "table"` -> `table`.
2. Caption keywords. The caption names the kind of figure more often than not ("Histogram of ...",
   "A schematic of ...", "Photograph of ..."). Checked from the most specific class to the most generic
   (a "schematic diagram of the pipeline" is a diagram even if it mentions "distribution"); words of
   the shape "heatmap" are matched before "map". Panels of mixed figures are not split: the first
   keyword of the list wins.
3. Hints from the PDF (`hints`, all optional), given by the PDF side:
   - `text_only` (no graphics, only text in the region) with `monospace_share` >= 0.5 -> `code_listing`;
     plain text only -> `table_as_figure`;
   - `numeric_words` (numbers in the text layer of the region, i.e. tick labels) >= 4 -> a plot:
     `line_plot`, the most common chart in papers, unless rule 4 says photo-like;
   - `n_paths` >= 20 with few numbers -> `diagram` (boxes and arrows drawn as vectors).
4. Image statistics of the rendered PNG (on a 96 px thumbnail): a photo has many distinct colours
   (>= 2,000 of the 32,768 5-bit RGB bins), high grey-level entropy (>= 6 bits) and little white paper
   (< 25% near-white pixels); mostly-white images with few colours are drawings (`diagram` when the
   raster share is high and no tick numbers were seen).
5. Otherwise `other`.

Measured against the `figure_type` fields of the corpus gold files by benchmarks/extraction_pdf.py
(`--figure-types`); the README gives the accuracy.
"""

from __future__ import annotations

import io
import math
import re

# (class, pattern) in priority order; patterns match the lower-cased caption
CAPTION_RULES: list[tuple[str, str]] = [
    ("code_listing", r"\b(code (example|snippet|listing)s?|listing|source code|using \w+\.\w+ to)\b"),
    ("equation_or_algorithm", r"\b(algorithm|pseudo-?code|pseudocode)\b"),
    ("screenshot", r"\b(screenshots?|screen ?shot|user interface|screen capture|web page|interface of)\b"),
    ("pie_chart", r"\b(pie[- ]?charts?|donut)\b"),
    ("box_plot", r"\b(box[- ]?plots?|boxplots?|violin plots?|whiskers?)\b"),
    ("histogram", r"\b(histograms?|probability distributions?|distributions? of)\b"),
    ("heatmap", r"\b(heat ?maps?|confusion matri(x|ces)|correlation matri(x|ces)|covariance matri(x|ces)"
                r"|kernel density|colou?r[- ]?(coded|map|scale|bar)|pearson correlation)\b"),
    ("scatter_plot", r"\b(scatter|scatter ?plots?|each (point|dot|marker) (is|represents))\b"),
    ("bar_chart", r"\b(bar (charts?|plots?|graphs?)|bars (show|represent|indicate))\b"),
    ("map", r"\b(sky ?maps?|world ?maps?|maps? of (the )?(sky|world|region|earth|galactic)|geographic|"
            r"significance maps?|counts? maps?|excess maps?|galactic (plane|center|centre) (map|region))\b"),
    ("photo", r"\b(photo(graph)?s?|micrographs?|microscop(e|y)|camera images?|snapshots?)\b"),
    ("diagram", r"\b(schematic|diagram|architecture|flow ?chart|pipeline|workflow|block[- ]diagram|graphical model|"
                r"overview of|structure of|framework|sub-?package|computational graph|flow of)\b"),
    ("illustration", r"\b(illustrat(ion|es|ing)|sketch(es)?|cartoon|conceptual|drawing)\b"),
    ("line_plot", r"\b(as a function of|versus|vs\.?|over time|time series|curves?|evolution of|light ?curves?|"
                  r"spectr(um|a)|learning curves?|traces?|convergence|scaling of|throughput|response time)\b"),
]
_COMPILED = [(cls, re.compile(p)) for cls, p in CAPTION_RULES]


def _image_stats(image_png: bytes) -> dict | None:
    try:
        from PIL import Image

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


def guess_figure_type(kind: str, caption: str, image_png: bytes | None, hints: dict | None = None) -> str:
    """The rule-based figure type of one float (see the module docstring for the rules)."""
    if kind == "table":
        return "table"
    text = (caption or "").lower()
    for cls, pattern in _COMPILED:
        if pattern.search(text):
            return cls
    hints = hints or {}
    if hints.get("text_only"):
        return "code_listing" if hints.get("monospace_share", 0) >= 0.5 else "table_as_figure"
    stats = _image_stats(image_png) if image_png else None
    photo_like = bool(stats and stats["colours"] >= 2000 and stats["entropy"] >= 6.0 and stats["white"] < 0.25)
    if photo_like:
        return "photo"
    if hints.get("numeric_words", 0) >= 4:
        return "line_plot"
    if hints.get("n_paths", 0) >= 20:
        return "diagram"
    if stats and hints.get("raster_share", 0) > 0.8 and stats["white"] > 0.5 and stats["colours"] < 500:
        return "diagram"
    return "other"
