"""Realistic `figures` rows built at test time (images drawn with Pillow), for the instruction,
export, filter, card and hub tests: they need an OUT folder before any extraction has run."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image, ImageDraw

from scitune.curate.writer import write_table
from scitune.schemas import FIGURE_FEATURES, SCHEMA_VERSION, extractor_version


def draw_plot(kind: str, seed: int, size=(320, 200)) -> bytes:
    """A small chart as PNG: a line plot, bars or a block diagram; `seed` varies the content."""
    im = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(im)
    w, h = size
    d.line([(30, 10), (30, h - 25), (w - 10, h - 25)], fill="black", width=2)
    if kind == "line_plot":
        pts = [(30 + i * (w - 45) // 9, h - 30 - ((i * 37 + seed * 11) % (h - 60))) for i in range(10)]
        d.line(pts, fill=(31, 119, 180), width=2)
    elif kind == "bar_chart":
        for i in range(5):
            top = h - 30 - ((i * 53 + seed * 17) % (h - 60))
            d.rectangle([40 + i * 55, top, 80 + i * 55, h - 26], fill=(255, 127, 14))
    else:
        for i in range(3):
            d.rectangle([20 + i * 100, 70, 90 + i * 100, 120], outline="black", width=2)
            d.text((30 + i * 100, 88), f"L{i + seed}", fill="black")
            if i:
                d.line([(i * 100 - 10, 95), (20 + i * 100, 95)], fill="black", width=2)
    d.text((w // 2 - 20, h - 18), "time [s]", fill="black")
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def figure_row(
    paper_id: str,
    number: int,
    figure_type: str = "line_plot",
    *,
    kind: str = "figure",
    caption_no_index: str | None = None,
    ocr: list[str] | None = None,
    paragraphs: list[str] | None = None,
    mentions: list[str] | None = None,
    license: str | None = "CC-BY-4.0",
    image: bytes | None = None,
    seed: int | None = None,
    paper: dict | None = None,
) -> dict:
    """One valid `figures` row with a drawn image and realistic text; pass [] to leave a field empty."""
    prefix = "Figure" if kind == "figure" else "Table"
    bare = (
        caption_no_index
        if caption_no_index is not None
        else (
            "Step response of the identified model (blue) against the measured output for experiment "
            f"{number}. "
            f"The error stays below 2% after t = 0.5 s."
        )
    )
    if ocr is None:
        ocr = ["time", "[s]", "output", "y(t)", f"exp{number}", "0.5", "1.0"]
    if paragraphs is None:
        paragraphs = [
            f"We fitted the dynoNet model on the training data. As shown in Fig. {number}, the simulated "
            f"output follows the measurement closely. The remaining error is due to sensor noise."
        ]
    if mentions is None:
        mentions = (
            [f"As shown in Fig. {number}, the simulated output follows the measurement closely."]
            if paragraphs
            else []
        )
    png = (
        image
        if image is not None
        else draw_plot(figure_type if kind == "figure" else "diagram", seed if seed is not None else number)
    )
    return {
        "figure_id": f"{paper_id}/{kind}{number}",
        "paper_id": paper_id,
        "kind": kind,
        "number": str(number),
        "source": "pdf+latex",
        "page": number,
        "bbox": [72.0, 90.0, 300.0, 260.0],
        "image": {"bytes": png, "path": None},
        "caption": f"{prefix} {number}: {bare}",
        "caption_no_index": bare,
        "label": f"fig:exp{number}",
        "figure_type": figure_type if kind == "figure" else "table",
        "ocr": ocr,
        "ocr_source": "text_layer" if ocr else None,
        "paragraphs": paragraphs,
        "mentions": mentions,
        "subfigures": [],
        "provenance": {
            "input": f"papers/{paper_id}.pdf",
            "sha256": hashlib.sha256(paper_id.encode()).hexdigest(),
            "extractor": extractor_version(),
            "schema_version": SCHEMA_VERSION,
            "latex_input": f"papers/{paper_id}.tar.gz",
            "latex_sha256": hashlib.sha256(paper_id.encode() + b"tex").hexdigest(),
            "dpi": 150,
        },
        "license": license,
        "graphics": [f"fig/exp{number}.pdf"],
        "subfigure_images": [],
        "pdf_caption": f"{prefix} {number}: {bare}",
        "alignment_score": 0.97,
        "paper": paper,
        "region_source": "rules",
        "figure_type_score": 0.9 if kind == "figure" else None,
        # one box per word, left to right along the bottom of the figure
        "ocr_boxes": [[i / len(ocr), 0.9, (i + 0.8) / len(ocr), 0.97] for i in range(len(ocr))],
    }


def sample_rows() -> list[dict]:
    """Two papers, mixed types, one table, empty OCR / mentions on some rows, two licences."""
    rows = [
        figure_row("2001.00001v1", 1, "line_plot"),
        figure_row("2001.00001v1", 2, "bar_chart", ocr=[]),
        figure_row(
            "2001.00001v1",
            3,
            "diagram",
            paragraphs=[],
            mentions=[],
            caption_no_index=(
                "Block diagram of the dynoNet architecture: G-blocks feed static nonlinearities."
            ),
        ),
        figure_row(
            "2001.00001v1", 1, kind="table", caption_no_index="Identification results on three benchmarks."
        ),
        figure_row("1905.12345v2", 1, "line_plot", license="MIT", seed=7),
        figure_row("1905.12345v2", 2, "scatter_plot", license="MIT", ocr=["SNR", "(dB)"], seed=8),
    ]
    return rows


def make_out(out: Path, rows: list[dict] | None = None, shard_rows: int = 4) -> Path:
    """An OUT folder holding `figures` shards (several, to exercise streaming across shards)."""
    write_table(
        rows if rows is not None else sample_rows(),
        Path(out) / "figures",
        FIGURE_FEATURES,
        shard_rows=shard_rows,
    )
    return Path(out)
