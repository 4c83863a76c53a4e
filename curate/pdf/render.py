"""Render a float region to PNG, and read the words inside it (text layer, or OCR when asked)."""

from __future__ import annotations

import io
import time

import numpy as np
import pymupdf
from PIL import Image

from .layout import PageText

Rect = tuple[float, float, float, float]


def render_region(page: pymupdf.Page, rect: Rect, dpi: int = 150) -> bytes:
    """The region as PNG at `dpi`; only the clip is rasterised, never the whole page."""
    clip = pymupdf.Rect(rect) & page.rect
    pix = page.get_pixmap(dpi=dpi, clip=clip, alpha=False)
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
