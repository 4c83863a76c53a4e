"""Caption and mention words as votes for figure types.

The first sentence of a caption usually names what is shown ("Histogram of ...", "A schematic of ...",
"Photograph of ..."); `CAPTION_RULES` are keyword patterns from the most specific class to the most
generic, matched on the lower-cased first sentence (the first rule that matches votes; "heatmap" is
matched before "map"). Sentences of the body that mention the figure vote the same way, more weakly
(`MENTION_WEIGHT` in `__init__`), since they often speak of several figures at once.
"""

from __future__ import annotations

import re

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
            r"\b(schematic|diagram|architecture|flow ?chart|pipeline|workflow|block[- ]diagram|"
            r"graphical model|"
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


def first_sentence(caption: str) -> str:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", (caption or "").strip(), maxsplit=1)
    return parts[0].lower() if parts else ""


def keyword_class(text: str) -> str | None:
    """The class named by the first rule that matches `text` (lower-cased), or None."""
    for cls, pattern in _COMPILED:
        if pattern.search(text):
            return cls
    return None
