"""Render a float region to PNG, and read the words inside it (text layer, OCR, or both), with their boxes.

`region_words(page, text, rect, images, mode, engine_name)` implements `--ocr`:

- `auto`: the text layer's words; and OCR on the raster parts of the region (its embedded images, clipped
  to the region) that carry no text-layer words of their own (`RASTER_TEXT_MIN_WORDS`; panel labels such as
  "(a)" typeset over an image do not count). A region without any text-layer word is OCRed whole (scans,
  text drawn as outlines). OCR words that fall on a text-layer word are dropped (the label typeset over a
  raster plot is read once). `source` is `text_layer`, `ocr` or `mixed`.
- `always`: OCR of the whole rendered region; the text layer is not used.
- `off`: the text layer only.

Boxes are figure-relative (0-1 of the region), aligned with the words.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np
import pymupdf

from ..ocr import DEFAULT_ENGINE, MAX_OCR_PIXELS, Word, engine_problem, get_engine, sort_words
from .layout import PageText

Rect = tuple[float, float, float, float]

# Text-layer words (panel labels aside) a raster part must carry to count as read; fewer and it is OCRed.
RASTER_TEXT_MIN_WORDS = 2
# Raster parts smaller than this (PDF points, each side) hold no readable text: icons, logos, markers.
MIN_RASTER_SIDE = 24.0
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_PANEL_LABEL = re.compile(r"^\(?[a-zA-Z]\)?[.:]?$|^\(?[ivx]{1,4}\)$")


@dataclass
class RegionWords:
    words: list[str] = field(default_factory=list)
    boxes: list[list[float]] = field(default_factory=list)  # [x0, y0, x1, y1] in 0-1 of the region
    source: str | None = None  # "text_layer" | "ocr" | "mixed" | None (no words)
    ocr_failed: str | None = None  # why OCR could not run, when it was needed


def render_region(page: pymupdf.Page, rect: Rect, dpi: int = 150, turn: int | None = None) -> bytes:
    """The region as PNG at `dpi`; only the clip is rasterised, never the whole page. On a page set
    sideways, `rect` is in the page's upright frame (turned by `turn` degrees) and the crop is rendered
    upright: the page is shown turned (as a viewer does for `/Rotate`) just for this rendering."""
    before = page.rotation
    if turn is not None and turn != before:
        page.set_rotation(turn)
    try:
        clip = pymupdf.Rect(rect) & page.rect
        pix = page.get_pixmap(dpi=dpi, clip=clip, alpha=False)
    finally:
        if page.rotation != before:
            page.set_rotation(before)
    return pix.tobytes("png")


def _rows_in(page: PageText, rect: Rect):
    x0, y0, x1, y1 = rect
    rows = []
    for r in page.rows:
        if r.role in ("header", "linenumber", "caption") or not r.text.strip():
            continue
        ix = max(0.0, min(r.x1, x1) - max(r.x0, x0))
        iy = max(0.0, min(r.y1, y1) - max(r.y0, y0))
        if ix * iy >= 0.5 * max(r.width * r.height, 1e-6):
            rows.append(r)
    rows.sort(key=lambda r: (round(r.y0 / 3), r.x0))
    return rows


# Set by the worker (runner.py): past this time.monotonic(), OCR is skipped, so a document of many floats
# keeps the rows already made instead of losing them all to the document time limit.
OCR_DEADLINE: float | None = None


class OcrTimeout(Exception):
    """OCR skipped: the document's time budget for OCR is spent."""

    # add_ocr_layer: the pages that got their OCR layer before the budget ran out
    pages_done: frozenset[int] = frozenset()


def text_layer_words(page: PageText, rect: Rect) -> list[str]:
    """Words of the rows lying (mostly) inside the region, in reading order (top-down, left-right)."""
    return [w for r in _rows_in(page, rect) for w in r.text.split()]


def text_layer_boxes(page: PageText, rect: Rect) -> list[Word]:
    """The same words with boxes in PDF points: each span's box shared among its words by character
    position (spans are runs of one font, so characters are close to even in width)."""
    out: list[Word] = []
    for r in _rows_in(page, rect):
        prev = None
        for s in r.spans:
            text = s.text
            if not text.strip():
                prev = None
                continue
            step = (s.bbox[2] - s.bbox[0]) / len(text)
            # a word split over two spans (a font change inside it) is one word, as in the row's text
            glued = (
                prev is not None
                and out
                and not text[0].isspace()
                and not prev.text[-1].isspace()
                and s.bbox[0] - prev.bbox[2] <= 0.15 * max(s.size, 1)
                and abs(s.size - prev.size) < 0.15 * max(s.size, 1)
            )
            for i, m in enumerate(re.finditer(r"\S+", text)):
                if r.horizontal:
                    a = s.bbox[0] + m.start() * step
                    box = (a, s.bbox[1], a + (m.end() - m.start()) * step, s.bbox[3])
                else:  # text set at 90 degrees runs along y: character positions along x say nothing
                    box = tuple(s.bbox)
                if i == 0 and glued and m.start() == 0:
                    last = out[-1]
                    out[-1] = Word(
                        last.text + m.group(0),
                        (
                            min(last.box[0], box[0]),
                            min(last.box[1], box[1]),
                            max(last.box[2], box[2]),
                            max(last.box[3], box[3]),
                        ),
                    )
                else:
                    out.append(Word(m.group(0), box))
            prev = s
    return out


def ocr_clip(page: pymupdf.Page, clip: Rect, engine, turn: int | None = None) -> list[Word]:
    """OCR of one clip of the page, rendered at the engine's resolution (capped at MAX_OCR_PIXELS);
    boxes in PDF points. On a page set sideways, `clip` is in the upright frame (see `render_region`).
    Raises `OcrTimeout` past `OCR_DEADLINE`."""
    if OCR_DEADLINE is not None and time.monotonic() > OCR_DEADLINE:
        raise OcrTimeout("skipped near the document's --timeout so the rows already made are kept")
    w_pt, h_pt = clip[2] - clip[0], clip[3] - clip[1]
    zoom = engine.dpi / 72
    pixels = w_pt * zoom * h_pt * zoom
    if pixels > MAX_OCR_PIXELS:
        zoom *= (MAX_OCR_PIXELS / pixels) ** 0.5
    before = page.rotation
    if turn is not None and turn != before:
        page.set_rotation(turn)
    try:
        pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), clip=pymupdf.Rect(clip), alpha=False)
    finally:
        if page.rotation != before:
            page.set_rotation(before)
    rgb = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, pix.n)[:, :, :3]
    words = engine.read(np.ascontiguousarray(rgb))
    return [
        Word(
            w.text,
            (
                clip[0] + w.box[0] * w_pt,
                clip[1] + w.box[1] * h_pt,
                clip[0] + w.box[2] * w_pt,
                clip[1] + w.box[3] * h_pt,
            ),
        )
        for w in words
    ]


def _centre_in(box, rect, pad: float = 0.0) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return rect[0] - pad <= cx <= rect[2] + pad and rect[1] - pad <= cy <= rect[3] + pad


def _raster_parts(rect: Rect, images: list[Rect]) -> list[Rect]:
    parts = []
    for im in images:
        r = (max(im[0], rect[0]), max(im[1], rect[1]), min(im[2], rect[2]), min(im[3], rect[3]))
        if r[2] - r[0] >= MIN_RASTER_SIDE and r[3] - r[1] >= MIN_RASTER_SIDE:
            parts.append(r)
    return parts


def _relative(words: list[Word], rect: Rect) -> list[list[float]]:
    w, h = max(rect[2] - rect[0], 1e-6), max(rect[3] - rect[1], 1e-6)
    out = []
    for word in words:
        x0, y0, x1, y1 = word.box
        out.append(
            [
                round(min(1.0, max(0.0, (x0 - rect[0]) / w)), 4),
                round(min(1.0, max(0.0, (y0 - rect[1]) / h)), 4),
                round(min(1.0, max(0.0, (x1 - rect[0]) / w)), 4),
                round(min(1.0, max(0.0, (y1 - rect[1]) / h)), 4),
            ]
        )
    return out


def region_words(
    page: pymupdf.Page,
    text: PageText,
    rect: Rect,
    images: list[Rect],
    mode: str = "auto",
    engine_name: str = DEFAULT_ENGINE,
    turn: int | None = None,
) -> RegionWords:
    """The words inside a float region by `mode` (see the module docstring), OCR by the engine named
    (built on first need, once per process). Where OCR was needed but the engine cannot run, the text
    layer alone is kept and `ocr_failed` says why. `rect` and `images` are in the page's upright frame
    (turned by `turn`, see `render_region`). Raises `OcrTimeout` past `OCR_DEADLINE`."""
    out = RegionWords()
    if mode == "always":
        engine = get_engine(engine_name)
        if engine is None:
            out.ocr_failed = engine_problem(engine_name) or f"{engine_name} could not start"
            return out
        found = ocr_clip(page, rect, engine, turn)
        out.words, out.boxes = [w.text for w in found], _relative(found, rect)
        out.source = "ocr" if found else None
        return out

    layer = text_layer_boxes(text, rect)
    ocr_found: list[Word] = []
    if mode == "auto":
        if not layer:
            todo = [rect]
        else:
            todo = []
            for part in _raster_parts(rect, images):
                inside = [w for w in layer if _centre_in(w.box, part) and not _PANEL_LABEL.match(w.text)]
                if len(inside) < RASTER_TEXT_MIN_WORDS:
                    todo.append(part)
        engine = get_engine(engine_name) if todo else None
        if todo and engine is None:
            out.ocr_failed = engine_problem(engine_name) or f"{engine_name} could not start"
        elif todo:
            for part in todo:
                for w in ocr_clip(page, part, engine, turn):
                    # a word typeset over the raster is read from the text layer, not twice
                    if not any(_centre_in(w.box, t.box, pad=1.0) for t in layer):
                        ocr_found.append(w)
    words = sort_words(layer + ocr_found) if ocr_found else layer
    out.words, out.boxes = [w.text for w in words], _relative(words, rect)
    out.source = (
        None if not words else "mixed" if layer and ocr_found else "ocr" if ocr_found else "text_layer"
    )
    return out


# A page with no text layer whose images cover at least this share of it is a scan: it gets an OCR layer.
SCAN_IMAGE_SHARE = 0.5


def add_ocr_layer(doc: pymupdf.Document, engine_name: str = DEFAULT_ENGINE) -> set[int]:
    """OCR every scanned page (no text layer, mostly image) and write its words into the open document
    as invisible text, so captions, regions and mentions are found on it as on any page. The file on disk
    is not touched. Returns the 0-based numbers of the pages given an OCR layer."""
    done: set[int] = set()
    for page in doc:
        if page.get_text("text").strip():
            continue
        area = max(page.rect.width * page.rect.height, 1.0)
        covered = sum(
            (pymupdf.Rect(i["bbox"]) & page.rect).width * (pymupdf.Rect(i["bbox"]) & page.rect).height
            for i in page.get_image_info()
        )
        if covered < SCAN_IMAGE_SHARE * area:
            continue
        engine = get_engine(engine_name)
        if engine is None:
            return done
        try:
            found = ocr_clip(page, tuple(page.rect), engine)
        except OcrTimeout as e:
            e.pages_done = frozenset(done)  # the pages given a layer so far keep it
            raise
        for w in found:
            x0, y0, x1, y1 = w.box
            height = y1 - y0
            font = "china-s" if _CJK.search(w.text) else "helv"  # built-in fonts; helv has no CJK glyphs
            width_at_1 = pymupdf.get_text_length(w.text, fontname=font, fontsize=1) or 1.0
            size = max(2.0, min(0.75 * height, (x1 - x0) / width_at_1))
            page.insert_text((x0, y1 - 0.22 * height), w.text, fontsize=size, fontname=font, render_mode=3)
        done.add(page.number)
    return done


# A pixel darker than this grey level (paper is 255) is ink: light-coloured marks and the anti-aliased
# edges of thin lines stay above 240, scanner noise and JPEG ringing on white paper stay above 250.
INK_LEVEL = 245
# Resolution of the ink scan: one pixel per point is finer than any crop needs.
INK_DPI = 72


def ink_box(page: pymupdf.Page, rect: Rect, turn: int | None = None) -> tuple[float, ...] | None:
    """The part of `rect` (in the page's upright frame, see `render_region`) that holds ink: white
    margins of a raster image or of the page around a float trimmed. None when the region is blank."""
    before = page.rotation
    if turn is not None and turn != before:
        page.set_rotation(turn)
    try:
        clip = pymupdf.Rect(rect) & page.rect
        pix = page.get_pixmap(dpi=INK_DPI, clip=clip, colorspace=pymupdf.csGRAY, alpha=False)
    finally:
        if page.rotation != before:
            page.set_rotation(before)
    if pix.width == 0 or pix.height == 0:
        return None
    grey = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width]
    ink = grey < INK_LEVEL
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return None
    sx, sy = clip.width / pix.width, clip.height / pix.height
    return (
        float(clip.x0 + cols[0] * sx),
        float(clip.y0 + rows[0] * sy),
        float(min(clip.x1, clip.x0 + (cols[-1] + 1) * sx)),
        float(min(clip.y1, clip.y0 + (rows[-1] + 1) * sy)),
    )
