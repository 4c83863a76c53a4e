"""The rows `extract` writes: one `figures` row per float, one `errors` row per failure.

Their columns are defined once in schemas/ (figures.py, errors.py); writer.py commits them. The
worker (document.py) builds rows here and the runner builds the error rows of failed workers here.
"""

from __future__ import annotations

from ..schemas import SCHEMA_VERSION, extractor_version
from . import ids
from .figure_types import classify
from .figure_types.signals import image_signals
from .inputs import Document
from .join import Joined


def error_row(
    doc_input: str,
    sha: str | None,
    stage: str,
    error: str,
    message: str,
    paper_id: str | None = None,
    figure_id: str | None = None,
) -> dict:
    return {
        "input": doc_input,
        "sha256": sha,
        "paper_id": paper_id,
        "figure_id": figure_id,
        "stage": stage,
        "error": error,
        "message": message,
        "extractor": extractor_version(),
        "schema_version": SCHEMA_VERSION,
    }


def figure_row(doc: Document, j: Joined, license: str | None, dpi: int) -> dict:
    f = j.float
    # Classified once the sides are joined: the PDF's drawings and the source's hints (TikZ, file names)
    # together, with the joined caption and mentions; a LaTeX-only float is judged on its rendered pixels.
    signals = dict(f.type_signals)
    if "has_image" not in signals:
        signals.update(image_signals(f.image_png))
    figure_type, score = classify(f.kind, f.caption_no_index, signals, f.mentions)
    return {
        "figure_id": ids.figure_id(doc.paper_id, f.kind, f.number),
        "paper_id": doc.paper_id,
        "kind": f.kind,
        "number": f.number,
        "source": j.source,
        "page": f.page,
        "bbox": list(f.bbox) if f.bbox else None,
        "image": f.image_png,
        "caption": f.caption,
        "caption_no_index": f.caption_no_index,
        "label": f.label,
        "figure_type": figure_type,
        "ocr": f.ocr,
        "ocr_source": f.ocr_source if f.ocr else None,
        "paragraphs": f.paragraphs,
        "mentions": f.mentions,
        "subfigures": [{"label": s.get("label"), "caption": s.get("caption") or ""} for s in f.subfigures],
        "subfigure_images": [s["image_png"] for s in f.subfigures if s.get("image_png")]
        if all(s.get("image_png") for s in f.subfigures)
        else [],
        "provenance": {
            "input": str(doc.pdf or doc.source),
            "sha256": doc.pdf_sha256 or doc.source_sha256,
            "extractor": extractor_version(),
            "schema_version": SCHEMA_VERSION,
            "latex_input": str(doc.source) if doc.source and doc.pdf else None,
            "latex_sha256": doc.source_sha256 if doc.pdf else None,
            "dpi": dpi if "pdf" in j.source or f.image_png else None,
        },
        "license": license,
        "graphics": f.graphics,
        "pdf_caption": j.pdf_caption,
        "alignment_score": j.alignment_score,
        "paper": (doc.metadata or {}).get("paper"),
        "region_source": f.region_source if f.bbox is not None and "pdf" in j.source else None,
        "figure_type_score": score,
        "ocr_boxes": f.ocr_boxes if f.ocr else [],
    }
