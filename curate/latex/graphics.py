"""Graphics of a float: find the files, render them, compose several into one image.

Resolution follows LaTeX and graphicx: the folder of the main file (or the `\\import` folder in
effect) first, then each `\\graphicspath` entry; a name without extension gets the extensions pdfLaTeX
tries (`.pdf`, `.png`, `.jpg`, ...) and then `.eps`; `x.eps` also finds the `x-eps-converted-to.pdf` that
epstopdf leaves. Then two forgiving fallbacks that arXiv sources need (as arxiv-latex-cleaner does):
a case-insensitive match, and a file with the same name anywhere in the source when there is only one.

Rendering: PDF with pymupdf, EPS/PS with ghostscript (`gs`), rasters with Pillow; vector graphics at
the requested dpi, every image capped at `MAX_SIDE` pixels on its longest side, and rasters above
`MAX_PIXELS` refused before they are decoded (decompression bombs).
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import pymupdf
from PIL import Image

from ..children import die_with_parent
from .floats import Graphic

MAX_SIDE = 2000
MAX_PIXELS = 80_000_000
GS_TIMEOUT_S = 60
PDFLATEX_EXTS = (
    ".pdf",
    ".png",
    ".jpg",
    ".jpeg",
    ".mps",
    ".PDF",
    ".PNG",
    ".JPG",
    ".JPEG",
    ".eps",
    ".ps",
    ".EPS",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
)
KNOWN_EXTS = {e.lower() for e in PDFLATEX_EXTS} | {".svg"}


class RenderError(Exception):
    """One graphic could not be rendered; the message says why and what to do."""


@dataclass
class GraphicIndex:
    """Every file of the source, for resolving graphic names quickly."""

    files: set[str]
    main_dir: str
    graphicspath: list[str]
    extensions: tuple[str, ...] = ()  # from \DeclareGraphicsExtensions, tried first

    def __post_init__(self) -> None:
        self.lower = {f.lower(): f for f in self.files}
        self.by_base: dict[str, list[str]] = {}
        for f in self.files:
            self.by_base.setdefault(posixpath.basename(f).lower(), []).append(f)

    def _folders(self, base_dir: str) -> list[str]:
        starts = [d for d in dict.fromkeys([base_dir, self.main_dir]) if d is not None]
        folders = list(starts)
        for gp in self.graphicspath:
            for start in starts:
                folders.append(posixpath.join(start, gp) if not gp.startswith("/") else gp.lstrip("/"))
        return list(dict.fromkeys(folders))

    def _candidates(self, name: str) -> list[str]:
        stem, ext = posixpath.splitext(name)
        out = []
        if ext.lower() in KNOWN_EXTS:
            out.append(name)
            if ext.lower() in (".eps", ".ps"):
                out.append(f"{stem}-{ext[1:].lower()}-converted-to.pdf")
        out += [name + e for e in dict.fromkeys(self.extensions + PDFLATEX_EXTS)]
        return out

    def resolve(self, name: str, base_dir: str = "") -> str | None:
        """The file (relative to the source root) that `\\includegraphics{name}` shows, or None."""
        name = name.strip().strip('"').replace("{", "").replace("}", "")
        if not name:
            return None
        while name.startswith("./"):
            name = name[2:]
        tries = []
        for folder in self._folders(base_dir):
            for cand in self._candidates(name):
                tries.append(
                    posixpath.normpath(posixpath.join(folder, cand)) if folder else posixpath.normpath(cand)
                )
        for t in tries:
            if t in self.files:
                return t
        for t in tries:
            if t.lower() in self.lower:
                return self.lower[t.lower()]
        # Last resort: the same file name anywhere in the source, when it is unambiguous.
        for cand in self._candidates(posixpath.basename(name)):
            hits = self.by_base.get(cand.lower(), [])
            if len(hits) == 1:
                return hits[0]
        return None


# --- rendering -----------------------------------------------------------------------------------


def _cap(img: Image.Image) -> Image.Image:
    if max(img.size) > MAX_SIDE:
        img = img.copy()
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return img


def _on_white(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "P", "PA"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img).convert("RGB")
    return img.convert("RGB")


_BP = {"bp": 1.0, "pt": 72 / 72.27, "in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4, "": 1.0}


def _trim(options: str) -> tuple[float, float, float, float] | None:
    """graphicx `trim=l b r t` with `clip`, in PDF points (bp), or None."""
    if not re.search(r"(?:^|,)\s*clip\s*(?:=\s*true\s*)?(?:,|$)", options):
        return None
    m = re.search(r"trim\s*=\s*\{?\s*([^,}]*?)\s*\}?\s*(?:,|$)", options)
    if not m:
        return None
    values = re.findall(r"(-?[\d.]+)\s*(bp|pt|in|cm|mm)?", m.group(1))
    if len(values) != 4:
        return None
    left, bottom, right, top = (float(v) * _BP[u] for v, u in values)
    return left, bottom, right, top


def _page(options: str) -> int:
    m = re.search(r"page\s*=\s*(\d+)", options)
    return max(1, int(m.group(1))) if m else 1


def _render_pdf(path: Path, dpi: int, options: str = "") -> Image.Image:
    try:
        with pymupdf.open(path) as doc:
            if doc.page_count < 1:
                raise RenderError(f"{path.name} has no pages")
            page = doc[min(_page(options), doc.page_count) - 1]
            clip = page.rect
            trim = _trim(options)
            if trim:
                left, bottom, right, top = trim
                cut = pymupdf.Rect(clip.x0 + left, clip.y0 + top, clip.x1 - right, clip.y1 - bottom)
                clip = cut if cut.width > 1 and cut.height > 1 else clip
            w, h = clip.width, clip.height
            zoom = dpi / 72
            if max(w, h) * zoom > MAX_SIDE:
                zoom = MAX_SIDE / max(w, h, 1)
            pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False, clip=clip)
            return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
    except RenderError:
        raise
    except Exception as e:
        raise RenderError(f"{path.name}: the PDF could not be rendered ({e})") from e


def _eps_size_pt(path: Path) -> tuple[float, float] | None:
    with open(path, "rb") as f:
        head = f.read(65536)
    m = re.search(rb"%%(?:HiRes)?BoundingBox:\s*(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)", head)
    if not m:
        return None
    x0, y0, x1, y1 = (float(v) for v in m.groups())
    return max(1.0, x1 - x0), max(1.0, y1 - y0)


def _render_eps(path: Path, dpi: int, workdir: Path) -> Image.Image:
    gs = shutil.which("gs")
    if gs is None:
        raise RenderError(
            f"{path.name} is EPS/PostScript and ghostscript is not installed: install it "
            "(`apt-get install ghostscript` or `brew install ghostscript`) to render EPS figures"
        )
    size = _eps_size_pt(path)
    if size and max(size) * dpi / 72 > MAX_SIDE:
        dpi = max(10, int(MAX_SIDE * 72 / max(size)))
    # Absolute paths: gs runs in the scratch folder, where paths relative to the user's folder (the
    # README's `extract examples/papers`) point at nothing.
    path, workdir = Path(path).resolve(), Path(workdir).resolve()
    out = workdir / f"gs-{abs(hash(str(path)))}.png"
    cmd = [
        gs,
        "-dSAFER",
        "-dBATCH",
        "-dNOPAUSE",
        "-dQUIET",
        "-dEPSCrop",
        "-dFirstPage=1",
        "-dLastPage=1",
        "-sDEVICE=png16m",
        f"-r{dpi}",
        "-dTextAlphaBits=4",
        "-dGraphicsAlphaBits=4",
        f"-sOutputFile={out}",
        str(path),
    ]
    try:
        # gs joins the worker's process group (killed with it on a document timeout) and dies with it.
        # -dSAFER still lets PostScript read files in gs's temp folder (/tmp by default: an EPS drew the
        # text of another user file there into its image), so its temp folder is this document's scratch.
        private = {"TMPDIR": str(workdir), "TEMP": str(workdir), "TMP": str(workdir)}
        proc = subprocess.run(
            cmd,
            capture_output=True,
            timeout=GS_TIMEOUT_S,
            cwd=workdir,
            check=False,
            env={**os.environ, **private},
            preexec_fn=die_with_parent,
        )
    except subprocess.TimeoutExpired as e:
        raise RenderError(f"{path.name}: ghostscript took more than {GS_TIMEOUT_S} s") from e
    if proc.returncode != 0 or not out.is_file():
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise RenderError(f"{path.name}: ghostscript could not render it ({reason[0][:200]})")
    try:
        with Image.open(out) as img:
            return _cap(img.convert("RGB"))
    finally:
        out.unlink(missing_ok=True)


def _render_raster(path: Path) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns above ~89 Mpx; the size is checked here instead, before any pixel is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
        with img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise RenderError(
                    f"{path.name} is {w}x{h} pixels, over the {MAX_PIXELS:,}-pixel limit (a decompression "
                    "bomb "
                    "or an oversized scan); not decoded"
                )
            if img.format == "JPEG":
                img.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode JPEGs at reduced size directly
            img.load()
            return _cap(_on_white(img))
    except RenderError:
        raise
    except Image.DecompressionBombError as e:
        raise RenderError(
            f"{path.name} is over the pixel limit of a decompression bomb; not decoded ({e})"
        ) from e
    except (OSError, ValueError, SyntaxError) as e:
        raise RenderError(f"{path.name}: not a readable image ({e})") from e


def render_file(path: Path, dpi: int, workdir: Path, options: str = "") -> Image.Image:
    """One graphic file as an RGB image on white, longest side at most MAX_SIDE.

    `options` are the \\includegraphics options: `page=` and `trim=... ,clip` apply to PDFs."""
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise RenderError(f"{path.name} is an empty file (0 bytes); the source ships no image for it")
    if suffix == ".pdf":
        return _cap(_render_pdf(path, dpi, options))
    if suffix in (".eps", ".ps"):
        return _render_eps(path, dpi, workdir)
    if suffix == ".svg":
        raise RenderError(f"{path.name} is SVG, which scitune does not render; the PDF side has the figure")
    if suffix == ".mps":
        return _render_eps(path, dpi, workdir)
    return _render_raster(path)


# --- layout --------------------------------------------------------------------------------------

GAP = 12
LAYOUT_WIDTH = 1600  # width of a full-text-width row before the final cap


def rows_of(graphics: list[Graphic]) -> list[list[int]]:
    """Indices of `graphics` grouped into rows as LaTeX would set them: a break starts a row, and so
    does a graphic that no longer fits beside the previous ones."""
    rows: list[list[int]] = []
    used = 0.0
    for i, g in enumerate(graphics):
        width = g.width if g.width else None
        if not rows or g.row_break or (width is not None and used + width > 1.02 and rows[-1]):
            rows.append([])
            used = 0.0
        rows[-1].append(i)
        used += width if width is not None else 0.0
    return rows


def compose(images: list[Image.Image], graphics: list[Graphic]) -> Image.Image:
    """Several rendered graphics laid out in rows, roughly as the float places them."""
    if len(images) == 1:
        return images[0]
    rows = rows_of(graphics)
    rendered_rows = []
    for row in rows:
        parts = []
        known = [graphics[i].width for i in row if graphics[i].width]
        default = (sum(known) / len(known)) if known else 1.0 / len(row)
        for i in row:
            img = images[i]
            target_w = max(16, int((graphics[i].width or default) * LAYOUT_WIDTH))
            scale = target_w / max(1, img.width)
            parts.append(img.resize((target_w, max(1, int(img.height * scale))), Image.Resampling.LANCZOS))
        height = max(p.height for p in parts)
        width = sum(p.width for p in parts) + GAP * (len(parts) - 1)
        canvas = Image.new("RGB", (width, height), "white")
        x = 0
        for p in parts:
            canvas.paste(p, (x, (height - p.height) // 2))
            x += p.width + GAP
        rendered_rows.append(canvas)
    width = max(r.width for r in rendered_rows)
    height = sum(r.height for r in rendered_rows) + GAP * (len(rendered_rows) - 1)
    canvas = Image.new("RGB", (width, height), "white")
    y = 0
    for r in rendered_rows:
        canvas.paste(r, ((width - r.width) // 2, y))
        y += r.height + GAP
    return _cap(canvas)


def to_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()
