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
from .checks import check_region
from .geometry import Rect, union_all
from .layout import DocStats, PageText, analyse, read_page, turn_matrix
from .layout_model import LayoutModel, model_region
from .meta import arxiv_id, license_of
from .regions import Graphics, document_regions, float_page_region, read_graphics
from .render import OcrTimeout, add_ocr_layer, ink_box, region_words, render_region
from .text import Paragraph, build_paragraphs, link_mentions

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
    region_source: dict[int, str] = field(default_factory=dict)  # id(caption) -> "rules" | "layout_model"
    region_errors: dict[int, str] = field(default_factory=dict)  # id(caption) -> what looked wrong
    model_pages: int = 0  # pages the layout model ran on


def analyse_document(doc: pymupdf.Document, dpi: int = 150) -> Analysis:
    """Rows, roles, captions, regions (checked at the render `dpi`) and paragraphs of an open document."""
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
                a.graphics[p.number] = read_graphics(doc[p.number], p.turn)
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
    _check_regions(doc, a, dpi)
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
                    graphics = a.graphics[p.number] = read_graphics(doc[p.number], p.turn)
                except Exception:  # noqa: BLE001 - text and images are enough to try
                    graphics = Graphics()
            rect = float_page_region(p, graphics, c.kind, c.number)
            if rect is not None:
                a.regions[id(c)] = rect
                c.page = p.number
                taken.add(p.number)
                break


# A raster covering this share of the page makes it a scan (the float's graphics are pixels of it).
SCAN_SHARE = 0.85
SCAN_REASON = (
    "the page is a scan (one full-page image under an OCR text layer) and the layout model found no float "
    "next to the caption"
)


def _scanned(page: pymupdf.Page) -> bool:
    area = abs(page.rect)
    return any(abs(pymupdf.Rect(i["bbox"]) & page.rect) >= SCAN_SHARE * area for i in page.get_image_info())


def _prose_row(r) -> bool:
    return r.role == "other" and r.horizontal and len(re.findall(r"[A-Za-z]{2,}", r.text)) >= 6


def _inked(page: pymupdf.Page, rect: Rect | None, turn: int | None, graphics: Graphics) -> Rect | str | None:
    """The region trimmed to its ink (white margins of a raster or of the page are no part of the float),
    or the reason it fails when it holds no ink at all. Drawings inside the region count as ink whatever
    the scan makes of them (a hairline rule is too faint at the scan's resolution)."""
    if rect is None:
        return None
    rect = Rect.of(rect)
    try:
        ink = ink_box(page, rect, turn)
    except Exception:  # noqa: BLE001 - a page that cannot be rasterised keeps the region as found
        return rect
    drawn = [e.rect for e in graphics.elements if e.kind == "path" and rect.contains(e.rect)]
    if ink is None and not drawn:
        return "the region is blank (no ink in it)"
    box = union_all(([ink] if ink else []) + drawn)
    return rect.intersection(box) or rect


def _check_regions(doc: pymupdf.Document, a: Analysis, dpi: int) -> None:
    """Every region through `check_region`; where a caption has no region or its region fails, the
    layout model's box next to the caption is tried (and checked the same way). A region that still
    fails is dropped, with its reason kept for the float's error row."""
    model = LayoutModel()
    by_page: dict[int, list[Caption]] = {}
    for c in a.captions:
        by_page.setdefault(c.page, []).append(c)
    page_of = {p.number: p for p in a.pages}
    for number, caps in by_page.items():
        page = page_of[number]
        graphics = a.graphics.get(number, Graphics())
        regions = {id(c): _inked(doc[number], a.regions.get(id(c)), page.turn, graphics) for c in caps}

        def reason_of(c: Caption, rect: Rect, page=page, caps=caps, regions=regions, graphics=graphics):
            return check_region(rect, c, page, caps, regions, dpi, graphics, a.stats.line_height)

        failed = {id(c): regions[id(c)] for c in caps if isinstance(regions[id(c)], str)}
        if _scanned(doc[number]):
            # a scan: the page is one picture with an OCR text layer, so the rules see no graphics and
            # would frame the float from its words alone; only the layout model's reading is taken
            failed.update({id(c): SCAN_REASON for c in caps})
        for cid in failed:
            regions[cid] = None
        failed.update(
            {id(c): r for c in caps if regions[id(c)] is not None and (r := reason_of(c, regions[id(c)]))}
        )
        for c in caps:
            if regions[id(c)] is not None and id(c) not in failed:
                continue
            if not model.available:
                continue
            try:
                # (rows of prose in any style: an OCR layer's body text is not always in the body style)
                body = [r.rect for r in page.rows if r.role == "body" or _prose_row(r)]
                box = model_region(model, doc[number], c, caps, a.stats, body)
            except Exception:  # noqa: BLE001 - the second opinion is optional; the rules' verdict stands
                box = None
            if box is None:
                continue
            box = _inked(doc[number], box, page.turn, graphics)
            if box is None or isinstance(box, str):
                continue
            kept, regions[id(c)] = regions[id(c)], box
            if reason_of(c, box) is None:
                failed.pop(id(c), None)
                a.region_source[id(c)] = "layout_model"
            else:
                regions[id(c)] = kept
        # a region that failed only for overlapping a region replaced since is judged again
        for c in caps:
            if id(c) in failed and regions[id(c)] is not None:
                others = {k: v for k, v in regions.items() if k not in failed}
                if (
                    check_region(regions[id(c)], c, page, caps, others, dpi, graphics, a.stats.line_height)
                    is None
                ):
                    failed.pop(id(c))
        for c in caps:
            if id(c) in failed:
                a.region_errors[id(c)] = failed[id(c)]
                regions[id(c)] = None
            elif regions[id(c)] is not None:
                a.region_source.setdefault(id(c), "rules")
            a.regions[id(c)] = regions[id(c)]
    a.model_pages = model.pages


def extract_pdf(
    path: str | Path, dpi: int = 150, ocr: str = "auto", ocr_engine: str = DEFAULT_ENGINE
) -> SideResult:
    """Every captioned figure and table of one PDF (see the module docstring)."""
    doc = open_pdf(path)
    result = SideResult(pages=doc.page_count)
    try:
        # scanned pages get an OCR text layer first, so their captions and mentions are found too
        try:
            scanned = add_ocr_layer(doc, ocr_engine) if ocr != "off" else set()
        except OcrTimeout as e:  # the document's OCR budget is spent: the pages left are read as they are
            scanned = set(e.pages_done)
            result.errors.append(
                FloatError("page", "OcrError", f"OCR of the scanned pages after {len(scanned)} was {e}.")
            )
        a = analyse_document(doc, dpi)
        result.layout_model_pages = a.model_pages
        result.errors.extend(a.errors)
        if not a.pages:
            return result
        page_of = {p.number: p for p in a.pages}
        links = link_mentions(a.paragraphs, {(c.kind, c.number) for c in a.captions})
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
            for later in c.extra.get("continued_on", []):
                result.errors.append(
                    FloatError(
                        "float",
                        "continued_part",
                        f"{c.kind} {c.number} goes on to page {later + 1} ('continued'); the row holds its "
                        f"part on page {c.page + 1} only (one row per float).",
                        c.kind,
                        c.number,
                    )
                )
            if id(c) in a.region_errors:
                result.errors.append(
                    FloatError(
                        "float",
                        "bad_region",
                        f"{c.kind} {c.number} on page {c.page + 1}: {a.region_errors[id(c)]}; the row was "
                        "left out rather than given a wrong image.",
                        c.kind,
                        c.number,
                    )
                )
            if rect is not None:
                f.region_source = a.region_source.get(id(c), "rules")
                rect = (
                    max(0.0, rect[0] - 1),
                    max(0.0, rect[1] - 1),
                    min(page.width, rect[2] + 1),
                    min(page.height, rect[3] + 1),
                )
                own = rect  # the page's own coordinates (a page set sideways is read turned upright)
                if page.turn is not None:
                    own = tuple(pymupdf.Rect(rect) * ~turn_matrix(doc[c.page], page.turn))
                f.bbox = tuple(round(v, 2) for v in own)  # type: ignore[assignment]
                try:
                    f.image_png = render_region(doc[c.page], rect, dpi, page.turn)
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
                    found = region_words(doc[c.page], page, rect, images, ocr, ocr_engine, page.turn)
                except OcrTimeout as e:  # the document's OCR budget is spent: text-layer words only
                    found = region_words(doc[c.page], page, rect, [], "off")
                    result.errors.append(
                        FloatError(
                            "float",
                            "OcrError",
                            f"OCR of {c.kind} {c.number} on page {c.page + 1} was {e}; ocr holds the text "
                            "layer's words only.",
                            c.kind,
                            c.number,
                        )
                    )
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
                    graphics = a.graphics.get(c.page)
                    if graphics is None:  # (every caption page has its graphics read; kept for safety)
                        graphics = a.graphics[c.page] = read_graphics(doc[c.page], page.turn)
                    f.type_signals = pdf_signals(graphics.drawings, page.rows, graphics.images, rect)
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
