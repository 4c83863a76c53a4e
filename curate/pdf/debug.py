"""Draw what the PDF side saw on a page: row roles, captions and float regions (for diagnosis).

    python -m scitune.curate.pdf.debug PAPER.pdf OUT_DIR [PAGE ...]   # 1-based; default: pages with captions

Colours: body rows blue, other text grey, running heads/line numbers orange, captions green,
graphic elements light red, float regions thick red.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pymupdf

from .extract import analyse_document, open_pdf

_COLOURS = {
    "body": (0.2, 0.4, 1.0),
    "other": (0.6, 0.6, 0.6),
    "header": (1.0, 0.6, 0.0),
    "linenumber": (1.0, 0.6, 0.0),
    "caption": (0.0, 0.7, 0.2),
}


def draw_pages(
    pdf: str | Path, out_dir: str | Path, pages: list[int] | None = None, dpi: int = 80
) -> list[Path]:
    """Annotated PNGs of the given 1-based pages (default: every page with a caption)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = open_pdf(pdf)
    written = []
    try:
        a = analyse_document(doc)
        wanted = pages or sorted({c.page + 1 for c in a.captions})
        for number in wanted:
            page = doc[number - 1]
            shape = page.new_shape()
            text = next(p for p in a.pages if p.number == number - 1)
            for e in a.graphics.get(number - 1, None).elements if number - 1 in a.graphics else []:
                shape.draw_rect(pymupdf.Rect(e.rect))
            shape.finish(color=(1, 0.7, 0.7), width=0.3)
            for r in text.rows:
                shape.draw_rect(pymupdf.Rect(r.rect))
                shape.finish(color=_COLOURS.get(r.role, (0, 0, 0)), width=0.6)
            for c in a.captions:
                if c.page == number - 1 and a.regions.get(id(c)):
                    shape.draw_rect(pymupdf.Rect(a.regions[id(c)]))
                    shape.finish(color=(1, 0, 0), width=1.5)
                    shape.insert_text(
                        pymupdf.Point(a.regions[id(c)][0], a.regions[id(c)][1] + 8),
                        f"{c.kind} {c.number}",
                        color=(1, 0, 0),
                        fontsize=8,
                    )
            shape.commit()
            target = out_dir / f"{Path(pdf).stem}_p{number}.png"
            page.get_pixmap(dpi=dpi).save(target)
            written.append(target)
    finally:
        doc.close()
    return written


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    for path in draw_pages(sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]] or None):
        print(path)
