"""Small scientific-looking PDFs drawn with pymupdf at test time (no files from outside the repo).

`two_column_paper()` draws a two-page, two-column article with: a vector plot with tick labels and a
caption below it (left column), a raster image with a caption below it (right column), a table with
its caption above it and horizontal rules, body paragraphs that mention the floats ("Figs. 1 and 2",
"Table 1"), a paragraph that starts with "Figure 1 shows" (not a caption), running heads and page
numbers, an arXiv stamp in the left margin and a licence line on page 1.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pymupdf
from PIL import Image, ImageDraw

BODY = 10.0
CAPTION = 9.0
LEFT = (54.0, 300.0)
RIGHT = (312.0, 558.0)

FILLER = (
    "Diffusion coefficients are estimated from the mean squared displacement of particles in a "
    "simulation, and their uncertainty depends on the correlation between successive observations. "
    "We study how the estimate behaves as the number of particles grows and how ordinary least squares "
    "compares with generalised least squares when the covariance is known. "
)


@dataclass
class Drawn:
    pdf: bytes
    plot_rect: pymupdf.Rect = field(default_factory=pymupdf.Rect)  # the vector plot with its tick labels
    image_rect: pymupdf.Rect = field(default_factory=pymupdf.Rect)
    table_rect: pymupdf.Rect = field(default_factory=pymupdf.Rect)
    captions: dict = field(default_factory=dict)  # (kind, number) -> Rect of the caption


def raster_png(size=(240, 160)) -> bytes:
    """A photo-like raster: a smooth colour gradient with noise and a disc."""
    import numpy as np

    rng = np.random.default_rng(0)
    w, h = size
    x = np.broadcast_to(np.linspace(0, 1, w)[None, :, None], (h, w, 1))
    y = np.broadcast_to(np.linspace(0, 1, h)[:, None, None], (h, w, 1))
    base = np.concatenate([x * 200 + 30, y * 180 + 40, (1 - x) * 160 + 50], axis=2)
    arr = np.clip(base + rng.normal(0, 25, (h, w, 3)), 0, 255).astype("uint8")
    img = Image.fromarray(arr)
    ImageDraw.Draw(img).ellipse([w * 0.3, h * 0.3, w * 0.6, h * 0.75], fill=(240, 220, 30))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _paragraph(
    page: pymupdf.Page, col: tuple[float, float], y: float, text: str, indent: bool = True
) -> float:
    """Justified-looking body text from y down; returns the y below it. The first row is indented."""
    font = pymupdf.Font("tiro")
    words = text.split()
    x0, x1 = col
    line_h = 12.0
    first = True
    while words:
        start = x0 + (12 if first and indent else 0)
        row: list[str] = []
        while words and font.text_length(" ".join(row + [words[0]]), BODY) <= x1 - start:
            row.append(words.pop(0))
        if not row:
            row.append(words.pop(0))
        page.insert_text((start, y + BODY), " ".join(row), fontsize=BODY, fontname="tiro")
        y += line_h
        first = False
    return y


def _caption(
    page: pymupdf.Page, col: tuple[float, float], y: float, label: str, rows: list[str]
) -> pymupdf.Rect:
    """A caption with a bold label on its first row; rows are given as printed (hyphens included)."""
    bold = pymupdf.Font("tibo")
    x = col[0]
    page.insert_text((x, y + CAPTION), label, fontsize=CAPTION, fontname="tibo")
    page.insert_text(
        (x + bold.text_length(label + " ", CAPTION), y + CAPTION), rows[0], fontsize=CAPTION, fontname="tiro"
    )
    for i, row in enumerate(rows[1:], start=1):
        page.insert_text((x, y + CAPTION + 10.5 * i), row, fontsize=CAPTION, fontname="tiro")
    return pymupdf.Rect(x, y, col[1], y + 10.5 * len(rows) + 2)


def _plot(page: pymupdf.Page, rect: pymupdf.Rect) -> pymupdf.Rect:
    """A line plot: axes, a curve, tick marks and tick labels (Helvetica, 7 pt); returns its extent."""
    helv = pymupdf.Font("helv")
    extent = pymupdf.Rect(rect.x0 + 19, rect.y0 + 4, rect.x1 - 4, rect.y1 - 15)

    def label(x: float, y: float, text: str) -> None:
        nonlocal extent
        page.insert_text((x, y), text, fontsize=7, fontname="helv")
        extent |= pymupdf.Rect(x, y - 7, x + helv.text_length(text, 7), y + 2)

    ax = pymupdf.Rect(rect.x0 + 22, rect.y0 + 4, rect.x1 - 4, rect.y1 - 18)
    shape = page.new_shape()
    shape.draw_rect(ax)
    shape.finish(color=(0, 0, 0), width=0.8)
    points = [
        pymupdf.Point(ax.x0 + i * ax.width / 20, ax.y1 - (i / 20) ** 2 * ax.height * 0.9) for i in range(21)
    ]
    shape.draw_polyline(points)
    shape.finish(color=(0.1, 0.3, 0.8), width=1.2)
    for i in range(5):
        x = ax.x0 + i * ax.width / 4
        shape.draw_line((x, ax.y1), (x, ax.y1 + 3))
        y = ax.y1 - i * ax.height / 4
        shape.draw_line((ax.x0 - 3, y), (ax.x0, y))
    shape.finish(color=(0, 0, 0), width=0.6)
    shape.commit()
    for i in range(5):
        x = ax.x0 + i * ax.width / 4
        label(x - 4, ax.y1 + 11, f"{i * 25}")
        y = ax.y1 - i * ax.height / 4
        label(rect.x0 + 2, y + 2.5, f"{i * 0.5:.1f}")
    label(ax.x0 + ax.width / 2 - 15, rect.y1 - 1, "time (s)")
    return extent


def _table(page: pymupdf.Page, col: tuple[float, float], y: float) -> pymupdf.Rect:
    rows = [
        ("Method", "Error", "Time"),
        ("OLS", "0.42", "1.0 s"),
        ("WLS", "0.31", "1.4 s"),
        ("GLS", "0.12", "3.2 s"),
    ]
    x0, x1 = col
    shape = page.new_shape()
    shape.draw_line((x0, y), (x1, y))
    shape.draw_line((x0, y + 15), (x1, y + 15))
    shape.draw_line((x0, y + 15 * len(rows) + 2), (x1, y + 15 * len(rows) + 2))
    shape.finish(color=(0, 0, 0), width=0.6)
    shape.commit()
    for i, cells in enumerate(rows):
        for j, cell in enumerate(cells):
            page.insert_text(
                (x0 + 6 + j * (x1 - x0) / 3, y + 11 + 15 * i), cell, fontsize=BODY, fontname="tiro"
            )
    return pymupdf.Rect(x0, y, x1, y + 15 * len(rows) + 2)


def two_column_paper() -> Drawn:
    doc = pymupdf.open()
    out = Drawn(b"")
    # ---- page 1 -------------------------------------------------------------------------------
    p = doc.new_page(width=612, height=792)
    p.insert_text((200, 40), "Journal of Tests 12 (2024) 1-2", fontsize=8, fontname="tiro")
    p.insert_text((300, 770), "1", fontsize=9, fontname="tiro")
    p.insert_text(
        (25, 600), "arXiv:2401.01234v2 [physics.comp-ph] 3 Jan 2024", fontsize=9, fontname="tiro", rotate=90
    )
    p.insert_text((150, 70), "Estimating diffusion coefficients", fontsize=16, fontname="tibo")
    p.insert_text(
        (130, 90),
        "This article is licensed under a Creative Commons Attribution 4.0 International License.",
        fontsize=7,
        fontname="tiro",
    )
    # left column: plot at the top, caption below, then body text
    out.plot_rect = _plot(p, pymupdf.Rect(LEFT[0] + 10, 110, LEFT[1] - 10, 250))
    out.captions[("figure", "1")] = _caption(
        p,
        LEFT,
        262,
        "Figure 1:",
        [
            "Mean squared displacement of a random walk as a",
            "function of time. The curve grows quadratically in this exam-",
            "ple because the walk is driven.",
        ],
    )
    y = 310
    y = _paragraph(p, LEFT, y, "Figure 1 shows the displacement of a driven walk. " + FILLER) + 4
    y = (
        _paragraph(
            p,
            LEFT,
            y,
            FILLER + "The results in Figs. 1 and 2 agree with the analytical model, "
            "and the numbers are listed in Table 1. " + FILLER,
        )
        + 4
    )
    _paragraph(p, LEFT, y, FILLER * 2)
    # right column: raster image, caption below, body text
    out.image_rect = pymupdf.Rect(RIGHT[0] + 20, 110, RIGHT[1] - 20, 250)
    p.insert_image(out.image_rect, stream=raster_png())
    out.captions[("figure", "2")] = _caption(
        p,
        RIGHT,
        262,
        "Fig. 2.",
        [
            "A photograph of the experimental cell used for the",
            "measurements.",
        ],
    )
    y = _paragraph(p, RIGHT, 296, FILLER * 2) + 4
    _paragraph(p, RIGHT, y, FILLER * 3)
    # ---- page 2 -------------------------------------------------------------------------------
    p = doc.new_page(width=612, height=792)
    p.insert_text((200, 40), "Journal of Tests 12 (2024) 1-2", fontsize=8, fontname="tiro")
    p.insert_text((300, 770), "2", fontsize=9, fontname="tiro")
    out.captions[("table", "1")] = _caption(
        p, LEFT, 60, "Table 1:", ["Error and run time of the three estimators."]
    )
    out.table_rect = _table(p, LEFT, 80)
    y = _paragraph(p, LEFT, out.table_rect.y1 + 20, FILLER * 4) + 4
    # a paragraph that runs from the bottom of the left column into the right column
    y = _paragraph(
        p, LEFT, y, "A second look at the run times " + FILLER * 2 + "Over all sizes the generalised"
    )
    y = (
        _paragraph(
            p,
            RIGHT,
            60,
            "estimator (Table 1) stays the most accurate one, at a modest extra cost. " + FILLER,
            indent=False,
        )
        + 4
    )
    _paragraph(p, RIGHT, y, FILLER * 2)
    out.pdf = doc.tobytes()
    doc.close()
    return out


# -- one-column pages for the float-boundary tests ------------------------------------------------

ONE = (72.0, 540.0)  # the text column of a one-column letter page


def text_row(
    page: pymupdf.Page, x: float, y: float, text: str, size: float = BODY, font: str = "tiro"
) -> pymupdf.Rect:
    """One row of text with its top at y; returns its box."""
    page.insert_text((x, y + size), text, fontsize=size, fontname=font)
    width = pymupdf.Font(font).text_length(text, size)
    return pymupdf.Rect(x, y, x + width, y + size * 1.2)


def centred_row(
    page: pymupdf.Page, col: tuple[float, float], y: float, text: str, size: float = BODY, font: str = "tiro"
) -> pymupdf.Rect:
    width = pymupdf.Font(font).text_length(text, size)
    return text_row(page, (col[0] + col[1] - width) / 2, y, text, size, font)


def body_text(page: pymupdf.Page, y: float, n_paragraphs: int = 1, col: tuple[float, float] = ONE) -> float:
    """Paragraphs of filler body text from y down; returns the y below them."""
    for _ in range(n_paragraphs):
        y = _paragraph(page, col, y, FILLER * 2) + 4
    return y


def booktabs(
    page: pymupdf.Page,
    col: tuple[float, float],
    y: float,
    rows: list[tuple[str, ...]],
    bottom_rule: bool = True,
    size: float = 9.0,
) -> pymupdf.Rect:
    """A table in the booktabs style: top rule, header row, mid rule, body rows, bottom rule (optional);
    cells of each row spread over the column. Returns the table's extent."""
    x0, x1 = col
    step = size * 1.4
    bottom = y + 3 + step * len(rows) + 3
    shape = page.new_shape()
    for rule in (y, y + step + 3, bottom) if bottom_rule else (y, y + step + 3):
        shape.draw_line((x0, rule), (x1, rule))
        shape.finish(color=(0, 0, 0), width=0.5)  # each rule its own path, as TeX writes them
    shape.commit()
    for i, cells in enumerate(rows):
        top = y + 2 + step * i + (3 if i else 0)
        for j, cell in enumerate(cells):
            text_row(page, x0 + 4 + j * (x1 - x0) / len(cells), top, cell, size, "tibo" if i == 0 else "tiro")
    return pymupdf.Rect(x0, y, x1, bottom)


def line_plot(page: pymupdf.Page, rect: pymupdf.Rect) -> pymupdf.Rect:
    """A vector line plot with tick labels (see `_plot`); returns its extent."""
    return _plot(page, rect)
