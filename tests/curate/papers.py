"""Small but realistic scientific PDFs drawn with pymupdf at test time.

Each page has a title or body text in paragraphs, a vector plot (axes, ticks, tick labels, a
curve) or a raster image, and a caption below it; the body mentions the figures. Used by the
end-to-end tests so that they run without ../shared.
"""

from __future__ import annotations

import io
from pathlib import Path

import pymupdf

BODY = (
    "We study the response of the system under a range of driving frequencies. The measurements were "
    "repeated five times and averaged; the spread between repetitions stays below two percent. "
)


def _plot(page: pymupdf.Page, rect: pymupdf.Rect, seed: int) -> None:
    shape = page.new_shape()
    x0, y0, x1, y1 = rect.x0 + 30, rect.y0 + 10, rect.x1 - 10, rect.y1 - 25
    shape.draw_line((x0, y1), (x1, y1))
    shape.draw_line((x0, y1), (x0, y0))
    points = [(x0 + i * (x1 - x0) / 20, y1 - (y1 - y0) * ((i * (seed + 3)) % 17) / 17) for i in range(21)]
    shape.draw_polyline(points)
    shape.finish(color=(0, 0, 0.8), width=1, closePath=False)
    shape.commit()
    for i in range(5):
        x = x0 + i * (x1 - x0) / 4
        page.insert_text((x - 3, y1 + 12), str(i * 5), fontsize=7)
        page.insert_text((x0 - 22, y1 - i * (y1 - y0) / 4 + 3), f"{i * 0.25:.2f}", fontsize=7)
    page.insert_text(((x0 + x1) / 2 - 20, y1 + 22), "Time (s)", fontsize=7)


def _raster(page: pymupdf.Page, rect: pymupdf.Rect, seed: int) -> None:
    from PIL import Image

    img = Image.new("RGB", (120, 80))
    img.putdata(
        [
            ((x * 7 + seed * 40) % 256, (y * 5) % 256, (x * y + seed) % 256)
            for y in range(80)
            for x in range(120)
        ]
    )
    buf = io.BytesIO()
    img.save(buf, "PNG")
    page.insert_image(rect, stream=buf.getvalue())


def make_paper(path: Path, title: str = "A Study of Responses", figures: int = 2, seed: int = 0) -> Path:
    """A PDF with `figures` captioned figures (one per page) and a table on the last page."""
    doc = pymupdf.open()
    for n in range(1, figures + 1):
        page = doc.new_page(width=612, height=792)
        y = 72
        if n == 1:
            page.insert_text((72, y), f"{title} {seed}", fontsize=16)
            y += 30
        mention = f"Figure {n} shows the response of sample {seed} at frequency {n}. " + BODY
        y += page.insert_textbox(pymupdf.Rect(72, y, 540, y + 80), mention, fontsize=10) * 0 + 80
        graphic = pymupdf.Rect(150, y, 460, y + 200)
        (_plot if n % 2 else _raster)(page, graphic, seed + n)
        cap = (
            f"Figure {n}: Response of sample {seed} measured at frequency setting {n}, "
            "averaged over five runs."
        )
        page.insert_textbox(pymupdf.Rect(72, graphic.y1 + 8, 540, graphic.y1 + 40), cap, fontsize=9)
        page.insert_textbox(pymupdf.Rect(72, graphic.y1 + 50, 540, graphic.y1 + 200), BODY * 2, fontsize=10)
    page = doc.new_page(width=612, height=792)
    page.insert_textbox(pymupdf.Rect(72, 72, 540, 100), f"Table 1: Parameters of sample {seed}.", fontsize=9)
    for r, row in enumerate([("name", "value", "unit"), ("alpha", f"{seed}.5", "s"), ("beta", "2.0", "Hz")]):
        for c, cell in enumerate(row):
            page.insert_text((150 + c * 100, 125 + r * 16), cell, fontsize=9)
    page.draw_line((140, 110), (460, 110))
    page.draw_line((140, 178), (460, 178))
    page.insert_textbox(pymupdf.Rect(72, 200, 540, 300), "Table 1 lists the parameters. " + BODY, fontsize=10)
    doc.save(path)
    return path
