"""PDF side of `scitune-curate extract`: one PDF in, its captioned figures and tables out.

    extract_pdf(path, dpi=150, ocr="auto") -> SideResult

Flow (each step in its own file):
  layout.py    text rows per page; roles (body, running heads, line numbers) and document statistics
  captions.py  caption rows, labels and caption text
  regions.py   page graphics -> the float region next to each caption
  render.py    the region as PNG; the words inside it (text layer, or OCR)
  text.py      body paragraphs and the sentences that mention each float
  meta.py      arXiv id and licence from page 1
A page that makes pymupdf fail becomes a `FloatError(stage="page")`; the other pages go on. A file
that cannot be opened at all raises `PdfOpenError` with what to do about it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from ..figure_types import classify
from ..figure_types.signals import image_signals, pdf_signals
from ..ocr import DEFAULT_ENGINE
from ..records import Float, FloatError, SideResult
from .captions import LABEL, Caption, find_captions
from .layout import DocStats, PageText, analyse, read_page
from .meta import arxiv_id, license_of
from .regions import Graphics, document_regions, float_page_region, read_graphics
from .render import add_ocr_layer, region_words, render_region
from .text import Paragraph, build_paragraphs, link_mentions

Rect = tuple[float, float, float, float]

pymupdf.TOOLS.mupdf_display_errors(False)  # broken objects are reported per page, not on stderr


class PdfOpenError(Exception):
    """The file cannot be opened as a PDF; the message says why and what to do."""


def open_pdf(path: str | Path) -> pymupdf.Document:
    """Open a PDF or raise `PdfOpenError` (missing, empty, not a PDF, damaged, password-protected)."""
    path = Path(path)
    if not path.is_file():
        raise PdfOpenError(f"{path}: no such file. Check the path.")
    if path.stat().st_size == 0:
        raise PdfOpenError(f"{path}: the file is empty (0 bytes). Download the PDF again.")
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if b"%PDF" not in head:
        raise PdfOpenError(
            f"{path}: not a PDF (no %PDF header). Give a PDF file, or the LaTeX source as a "
            "folder or archive."
        )
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as e:
        raise PdfOpenError(
            f"{path}: the PDF cannot be read ({e}). The file is damaged or truncated: download it again."
        ) from e
    if doc.needs_pass and not doc.authenticate(""):
        doc.close()
        raise PdfOpenError(
            f"{path}: the PDF is encrypted with a password. Decrypt it first "
            "(e.g. `qpdf --decrypt --password=... in.pdf out.pdf`) and give the decrypted file."
        )
    if doc.page_count == 0:
        doc.close()
        raise PdfOpenError(
            f"{path}: the PDF has no readable pages (truncated or damaged beyond repair). Download it again."
        )
    return doc


def _vocabulary(pages: list[PageText]) -> Counter:
    words: Counter = Counter()
    for p in pages:
        for r in p.rows:
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", r.text))
    return words


@dataclass
class Analysis:
    """What the steps found in one document, before rendering (also used by debug.py)."""

    pages: list[PageText] = field(default_factory=list)
    stats: DocStats = field(default_factory=DocStats)
    graphics: dict[int, Graphics] = field(default_factory=dict)
    captions: list[Caption] = field(default_factory=list)
    regions: dict[int, Rect | None] = field(default_factory=dict)  # id(caption) -> region
    paragraphs: list[Paragraph] = field(default_factory=list)
    errors: list[FloatError] = field(default_factory=list)


def analyse_document(doc: pymupdf.Document) -> Analysis:
    """Rows, roles, captions, regions and paragraphs of an open document."""
    a = Analysis()
    for i in range(doc.page_count):
        try:
            a.pages.append(read_page(doc[i]))
        except Exception as e:  # noqa: BLE001 - a broken page must not end the document
            a.errors.append(
                FloatError(
                    "page",
                    type(e).__name__,
                    f"page {i + 1} could not be read by pymupdf ({e}); its floats are missing. "
                    "If many pages fail, repair the PDF (e.g. `qpdf in.pdf out.pdf`) and run again.",
                )
            )
    if not a.pages:
        return a
    a.stats = analyse(a.pages)
    vocabulary = _vocabulary(a.pages)

    # drawings are the costly part of a page: read them only where a caption may be
    for p in a.pages:
        if any(r.horizontal and LABEL.match(r.text) for r in p.rows):
            try:
                a.graphics[p.number] = read_graphics(doc[p.number])
            except Exception as e:  # noqa: BLE001
                a.graphics[p.number] = Graphics()
                a.errors.append(
                    FloatError(
                        "page",
                        type(e).__name__,
                        f"drawings of page {p.number + 1} could not be read ({e}); float regions on it "
                        "use text and images only.",
                    )
                )
    a.captions = find_captions(a.pages, a.stats, {n: g.rules for n, g in a.graphics.items()}, vocabulary)

    by_page: dict[int, list[Caption]] = {}
    for c in a.captions:
        by_page.setdefault(c.page, []).append(c)
    page_of = {p.number: p for p in a.pages}
    a.regions.update(
        document_regions(
            [(page_of[n], caps, a.graphics.get(n, Graphics())) for n, caps in by_page.items()], a.stats
        )
    )
    _floats_on_pages_of_their_own(doc, a, set(by_page))
    a.paragraphs = build_paragraphs(a.pages, a.stats, vocabulary)
    return a


def _floats_on_pages_of_their_own(doc: pymupdf.Document, a: Analysis, captioned: set[int]) -> None:
    """A caption without a region whose float sits on a page of its own, marked with its label (the
    legends-then-figures layout of manuscripts): the float is taken from that page, nearest pages first;
    the caption's page becomes that page."""
    missing = [c for c in a.captions if a.regions.get(id(c)) is None]
    free = [p for p in a.pages if p.number not in captioned]
    taken: set[int] = set()
    for c in missing:
        for p in sorted(free, key=lambda p: (abs(p.number - c.page), p.number < c.page)):
            if p.number in taken:
                continue
            graphics = a.graphics.get(p.number)
            if graphics is None:
                try:
                    graphics = a.graphics[p.number] = read_graphics(doc[p.number])
                except Exception:  # noqa: BLE001 - text and images are enough to try
                    graphics = Graphics()
            rect = float_page_region(p, graphics, c.kind, c.number)
            if rect is not None:
                a.regions[id(c)] = rect
                c.page = p.number
                taken.add(p.number)
                break


def extract_pdf(
    path: str | Path, dpi: int = 150, ocr: str = "auto", ocr_engine: str = DEFAULT_ENGINE
) -> SideResult:
    """Every captioned figure and table of one PDF (see the module docstring)."""
    doc = open_pdf(path)
    result = SideResult(pages=doc.page_count)
    try:
        # scanned pages get an OCR text layer first, so their captions and mentions are found too
        scanned = add_ocr_layer(doc, ocr_engine) if ocr != "off" else set()
        a = analyse_document(doc)
        result.errors.extend(a.errors)
        if not a.pages:
            return result
        page_of = {p.number: p for p in a.pages}
        links = link_mentions(a.paragraphs, {(c.kind, c.number) for c in a.captions})
        drawings: dict[int, list] = {}
        for c in a.captions:
            page = page_of[c.page]
            rect = a.regions.get(id(c))
            f = Float(
                kind=c.kind,
                number=c.number,
                caption=c.text,
                caption_no_index=c.text_no_index,
                page=c.page + 1,
            )
            pars, sents = links.get((c.kind, c.number), ([], []))
            f.paragraphs, f.mentions = list(pars), list(sents)
            if rect is not None:
                rect = (
                    max(0.0, rect[0] - 1),
                    max(0.0, rect[1] - 1),
                    min(page.width, rect[2] + 1),
                    min(page.height, rect[3] + 1),
                )
                f.bbox = tuple(round(v, 2) for v in rect)  # type: ignore[assignment]
                try:
                    f.image_png = render_region(doc[c.page], rect, dpi)
                except Exception as e:  # noqa: BLE001
                    result.errors.append(
                        FloatError(
                            "render",
                            type(e).__name__,
                            f"{c.kind} {c.number} on page {c.page + 1} could not be rendered ({e}).",
                            c.kind,
                            c.number,
                        )
                    )
                try:
                    images = a.graphics.get(c.page, Graphics()).images
                    found = region_words(doc[c.page], page, rect, images, ocr, ocr_engine)
                except Exception as e:  # noqa: BLE001 - a failing OCR engine costs the OCR words only
                    found = region_words(doc[c.page], page, rect, [], "off")
                    result.errors.append(
                        FloatError(
                            "float",
                            "OcrError",
                            f"OCR of {c.kind} {c.number} failed ({e}); ocr left empty.",
                            c.kind,
                            c.number,
                        )
                    )
                f.ocr, f.ocr_boxes, f.ocr_source = found.words, found.boxes, found.source
                if c.page in scanned and f.ocr:
                    f.ocr_source = "ocr"  # the page's text layer is our own OCR
                try:
                    if c.page not in drawings:  # one read per page, shared by its floats
                        drawings[c.page] = doc[c.page].get_cdrawings()
                    images = a.graphics.get(c.page, Graphics()).images
                    f.type_signals = pdf_signals(drawings[c.page], page.rows, images, rect)
                except Exception:  # noqa: BLE001 - without drawings the type rests on pixels and words
                    f.type_signals = {}
                f.type_signals.update(image_signals(f.image_png))
            f.figure_type, f.figure_type_score = classify(c.kind, c.text_no_index, f.type_signals, f.mentions)
            result.floats.append(f)

        first = page_of.get(0)
        result.arxiv_id = arxiv_id(first)
        result.license = license_of(first)
    finally:
        doc.close()
    return result
