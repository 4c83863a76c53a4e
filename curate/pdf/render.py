"""Render a float region to PNG, and read the words inside it (text layer, or OCR when asked)."""

from __future__ import annotations

import io
import time

import numpy as np
import pymupdf
from PIL import Image

from .layout import PageText

Rect = tuple[float, float, float, float]


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


def text_layer_words(page: PageText, rect: Rect) -> list[str]:
    """Words of the rows lying (mostly) inside the region, in reading order (top-down, left-right)."""
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
    return [w for r in rows for w in r.text.split()]


_OCR_ENGINE = None
# Set by the worker (runner.py): past this time.monotonic(), OCR is skipped, so a document of many floats
# keeps the rows already made instead of losing them all to the document time limit.
OCR_DEADLINE: float | None = None


class OcrTimeout(Exception):
    """OCR skipped: the document's time budget for OCR is spent."""


def ocr_available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401  - optional: the [ocr] extra
    except ImportError:
        return False
    return True


def ocr_words(png: bytes) -> list[str]:
    """Words found by rapidocr in a PNG (needs the optional `rapidocr_onnxruntime` package)."""
    global _OCR_ENGINE

    if OCR_DEADLINE is not None and time.monotonic() > OCR_DEADLINE:
        raise OcrTimeout("skipped near the document's --timeout so the rows already made are kept")
    if _OCR_ENGINE is None:
        from rapidocr_onnxruntime import RapidOCR  # optional: the [ocr] extra

        _OCR_ENGINE = RapidOCR()
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    result, _ = _OCR_ENGINE(image)
    if not result:
        return []
    # result: [box, text, score]; sort top-down then left-right
    result.sort(key=lambda t: (round(min(p[1] for p in t[0]) / 10), min(p[0] for p in t[0])))
    return [w for _, text, _ in result for w in str(text).split()]


# A pixel darker than this grey level (paper is 255) is ink: light-coloured marks and the anti-aliased
# edges of thin lines stay above 240, scanner noise and JPEG ringing on white paper stay above 250.
INK_LEVEL = 245
# Resolution of the ink scan: one pixel per point is finer than any crop needs.
INK_DPI = 72


def ink_box(page: pymupdf.Page, rect: Rect, turn: int | None = None) -> tuple[float, ...] | None:
    """The part of `rect` (in the page's upright frame, see `render_region`) that holds ink: white
    margins of a raster image or of the page around a float trimmed. None when the region is blank."""
    import numpy as np  # (numpy is a core dependency; imported here to keep start-up light)

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
