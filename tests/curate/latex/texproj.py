"""Small LaTeX projects written by the tests: files from a dict, graphics drawn at test time."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image


def png(size=(80, 60), color="red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def pdf(width_pt=200, height_pt=100) -> bytes:
    """A one-page PDF with a filled rectangle (a vector graphic, as matplotlib would write)."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=width_pt, height=height_pt)
    page.draw_rect(pymupdf.Rect(10, 10, width_pt - 10, height_pt - 10), color=(0, 0, 1), fill=(0.2, 0.4, 0.9))
    data = doc.tobytes()
    doc.close()
    return data


def eps(width_pt=120, height_pt=80) -> bytes:
    return (
        "%!PS-Adobe-3.0 EPSF-3.0\n"
        f"%%BoundingBox: 0 0 {width_pt} {height_pt}\n"
        "newpath 10 10 moveto 100 10 lineto 100 60 lineto closepath 0 0 1 setrgbcolor fill\n"
        "showpage\n%%EOF\n"
    ).encode()


def doc(body: str, preamble: str = "", cls: str = "article") -> str:
    return (
        f"\\documentclass{{{cls}}}\n\\usepackage{{graphicx}}\n{preamble}\n"
        f"\\begin{{document}}\n{body}\n\\end{{document}}\n"
    )


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write `files` (relative path -> text or bytes) under `root` and return `root`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root
