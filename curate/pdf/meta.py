"""Paper-level facts printed on page 1: the arXiv identifier and an explicit licence statement."""

from __future__ import annotations

import re

from ..arxiv.identifiers import arxiv_id_in_text
from .geometry import EDGE_ZONE
from .layout import PageText

_STAMP = re.compile(
    r"\[[a-z\-]+(?:\.[A-Za-z\-]+)?\]"
)  # the category in "arXiv:2307.01139v2 [cs.CL] 3 Jul 2023"


def arxiv_id(page: PageText | None) -> str | None:
    """The id of the arXiv stamp on page 1 (`2307.01139v2`, `hep-th/9901001v1`), else None.

    The stamp is the rotated line in the left margin; a horizontal line counts when it carries the
    stamp's category (`[cs.CL]`) or sits in the page's top or bottom band. Other arXiv ids on page 1
    (citations) are ignored.
    """
    if page is None:
        return None
    horizontal = None
    for r in page.rows:
        m = arxiv_id_in_text(r.text)
        if not m:
            continue
        if not r.horizontal or _STAMP.search(r.text[m.end() : m.end() + 20]):
            return m.group(1)
        if horizontal is None and (r.y1 < EDGE_ZONE * page.height or r.y0 > (1 - EDGE_ZONE) * page.height):
            horizontal = m.group(1)
    return horizontal


_CC = re.compile(r"creative\s*commons|\bCC[\s-]?(?:BY|0\b|ZERO)", re.IGNORECASE)
_VERSION = re.compile(r"\b([1-4]\.0)\b")


def license_of(page: PageText | None) -> str | None:
    """A licence stated on page 1, normalised (`CC-BY-4.0`, `CC-BY-NC-SA-4.0`, `CC0-1.0`, ...)."""
    if page is None:
        return None
    text = " ".join(r.text for r in page.rows)
    low = text.lower()
    if (
        "arxiv.org perpetual, non-exclusive license" in low
        or "arxiv.org perpetual non-exclusive license" in low
    ):
        return "arXiv-nonexclusive-1.0"
    m = _CC.search(text)
    if not m:
        return None
    window = text[m.start() : m.start() + 160]
    w = window.lower().replace("-", " ")
    if re.search(r"\bcc ?0\b|cc zero|public domain dedication", w):
        return "CC0-1.0"
    if "attribution" not in w and not re.search(r"\bcc ?by\b", w):
        return None
    parts = ["CC", "BY"]
    if re.search(r"non ?commercial|\bnc\b", w):
        parts.append("NC")
    if re.search(r"no ?deriv|\bnd\b", w):
        parts.append("ND")
    elif re.search(r"share ?alike|\bsa\b", w):
        parts.append("SA")
    v = _VERSION.search(window)
    if v:
        parts.append(v.group(1))
    return "-".join(parts)
