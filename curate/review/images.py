"""The review site's pictures: crop thumbnails from the rows, page thumbnails from the input PDFs.

Both are content-addressed (named by a hash of what they show), so re-running `review` on a grown or
re-extracted OUT writes only what is new, and a stale picture can never stand for a changed row.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

CROP_SIZE = 560  # px, longest side of a crop thumbnail: enough to judge a cut-off edge or a missing panel
PAGE_WIDTH = 240  # px, width of a page thumbnail: the box and the page layout read, the text need not
JPEG_QUALITY = 82  # small files (a few tens of kB) with no visible artefacts on line art at this size
HASH_CHUNK = 1 << 20


def _save_jpeg(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if image.mode != "RGB":
        # Transparent crops are composited on white, as they appear in the paper.
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    tmp = path.with_name(f".{path.name}.tmp")
    image.save(tmp, "JPEG", quality=JPEG_QUALITY, optimize=True)
    tmp.replace(path)


@dataclass
class Crop:
    path: str  # relative to the site root
    width: int  # of the original image, px
    height: int


def crop_thumbnail(image_bytes: bytes | None, site: Path) -> Crop | None:
    """Write (once) a thumbnail of a row's image under site/img/c/; None without a decodable image."""
    if not image_bytes:
        return None
    digest = hashlib.blake2b(image_bytes, digest_size=12).hexdigest()
    rel = f"img/c/{digest[:2]}/{digest}.jpg"
    try:
        with Image.open(io.BytesIO(image_bytes)) as im:
            size = im.size
            if not (site / rel).exists():
                im.load()
                thumb = im.copy()
                thumb.thumbnail((CROP_SIZE, CROP_SIZE), Image.Resampling.LANCZOS)
                _save_jpeg(thumb, site / rel)
    except Exception:  # noqa: BLE001 - a broken image is shown as such on its card, not a crash
        return None
    return Crop(rel, *size)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class PageThumb:
    path: str  # relative to the site root
    width: float  # page size in PDF points, to place the box
    height: float


class PdfPages:
    """Finds each row's input PDF (by `provenance.input`, checked against `provenance.sha256`) and
    renders page thumbnails. Rows of one paper come together, so one open document is kept."""

    def __init__(self, site: Path, roots: list[Path]):
        self.site = site
        self.roots = roots
        self._located: dict[tuple[str, str], Path | None] = {}
        self._why: dict[tuple[str, str], str] = {}
        self._open_key: tuple[str, str] | None = None
        self._doc = None

    def locate(self, given: str | None, sha256: str | None) -> Path | None:
        """The PDF a row came from, when it is still on disk unchanged; else None (see `why_missing`)."""
        key = (given or "", sha256 or "")
        if key in self._located:
            return self._located[key]
        found, why = None, "the row names no input PDF"
        if given and given.lower().endswith(".pdf"):
            why = f"{given} is not reachable from here (run review where extract ran, or give --inputs-root)"
            path = Path(given)
            for candidate in [path] if path.is_absolute() else [root / path for root in self.roots]:
                if candidate.is_file():
                    if sha256 and sha256_file(candidate) != sha256:
                        why = f"{candidate} changed since it was extracted (its sha256 differs)"
                        continue
                    found = candidate
                    break
        self._located[key], self._why[key] = found, "" if found else why
        return found

    def why_missing(self, given: str | None, sha256: str | None) -> str:
        return self._why.get((given or "", sha256 or ""), "")

    def thumbnail(self, pdf: Path, sha256: str, page: int) -> PageThumb | None:
        """Write (once) a thumbnail of 1-based `page` of `pdf`; None when the page cannot be rendered."""
        import pymupdf  # only when a PDF is reachable; the site itself needs no PDF engine

        rel = f"img/p/{sha256[:16]}-{page}.jpg"
        key = (str(pdf), sha256)
        try:
            if self._open_key != key:
                self.close()
                self._doc, self._open_key = pymupdf.open(pdf), key
            if not 1 <= page <= self._doc.page_count:
                return None
            p = self._doc[page - 1]
            if not (self.site / rel).exists():
                zoom = PAGE_WIDTH / p.rect.width
                pix = p.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
                image = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
                _save_jpeg(image, self.site / rel)
            return PageThumb(rel, p.rect.width, p.rect.height)
        except Exception:  # noqa: BLE001 - a page the engine rejects shows the crop alone
            return None

    def page_count(self, pdf: Path, sha256: str) -> int | None:
        import pymupdf

        key = (str(pdf), sha256)
        try:
            if self._open_key != key:
                self.close()
                self._doc, self._open_key = pymupdf.open(pdf), key
            return self._doc.page_count
        except Exception:  # noqa: BLE001
            return None

    def close(self) -> None:
        if self._doc is not None:
            self._doc.close()
        self._doc, self._open_key = None, None
