"""Choosing figure rows: by figure type, kind, licence, caption length, and dropping duplicate images.

`iter_rows` streams the rows of one table of an OUT folder (batch by batch, so memory stays flat);
`Criteria` says which rows to keep; `filter_folder` writes the kept figure rows to a new OUT folder,
leaving the original untouched. Exact duplicate images (same pixels, e.g. a figure carried over from
arXiv v1 to v2, or reused across papers) keep one row: the one from the latest paper version.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
from PIL import Image
from tqdm import tqdm

from ..schemas import FIGURE_FEATURES, FIGURE_TYPES, KINDS
from .arxiv.licenses import license_choices
from .writer import shard_paths, write_table

VERSION = re.compile(r"v(\d+)$")


def count_rows(out: Path, table: str) -> int:
    """Rows of a table from the Parquet footers (no data read)."""
    return sum(pq.ParquetFile(p).metadata.num_rows for p in shard_paths(out, table))


def iter_rows(
    out: Path,
    table: str,
    columns: list[str] | None = None,
    batch_size: int = 64,
    progress: bool = False,
    desc: str | None = None,
) -> Iterator[dict]:
    """Every row of OUT/{table}/*.parquet as a dict (images as {"bytes", "path"}), in shard order."""
    bar = None
    if progress:
        bar = tqdm(total=count_rows(out, table), unit=" rows", desc=desc or table, dynamic_ncols=True)
    try:
        for path in shard_paths(out, table):
            pf = pq.ParquetFile(path)
            for batch in pf.iter_batches(batch_size=batch_size, columns=columns):
                for row in batch.to_pylist():
                    yield row
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()


def caption_words(row: dict) -> int:
    return len((row.get("caption_no_index") or "").split())


def image_key(image: dict | None) -> bytes | None:
    """Content hash of an image's pixels (not its file bytes, so re-encoding does not hide a duplicate)."""
    if not image or not image.get("bytes"):
        return None
    try:
        with Image.open(io.BytesIO(image["bytes"])) as im:
            digest = hashlib.blake2b(f"{im.mode}{im.size}".encode(), digest_size=16)
            digest.update(im.tobytes())
            return digest.digest()
    except Exception:  # undecodable: fall back to the raw bytes
        return hashlib.blake2b(image["bytes"], digest_size=16).digest()


def paper_version(paper_id: str | None) -> int:
    """The arXiv version number of a paper id (`2307.01139v2` -> 2); 0 when there is none."""
    m = VERSION.search(paper_id or "")
    return int(m.group(1)) if m else 0


@dataclass
class Criteria:
    """Which figure rows to keep; None (or empty) means no condition."""

    figure_types: set[str] | None = None
    kinds: set[str] | None = None
    licenses: set[str] | None = None  # compared case-insensitively; "unknown" matches rows without one
    min_words: int | None = None  # caption_no_index length in words, inclusive
    max_words: int | None = None
    dedupe: bool = False

    def __post_init__(self) -> None:
        bad = sorted(set(self.figure_types or ()) - set(FIGURE_TYPES))
        if bad:
            raise ValueError(f"unknown figure type(s) {bad}; choose from: {', '.join(FIGURE_TYPES)}")
        bad = sorted(set(self.kinds or ()) - set(KINDS))
        if bad:
            raise ValueError(f"unknown kind(s) {bad}; choose from: {', '.join(KINDS)}")
        if self.licenses:  # URLs and loose spellings normalised, `permissive` expanded
            self.licenses = {lic.lower() for lic in license_choices(self.licenses)}

    def predicate(self, out: Path) -> Callable[[dict], bool]:
        """A row test for OUT's figures, duplicates included (computes the preferred copies once)."""
        if not self.dedupe:
            return self.keep
        preferred = preferred_copies(out, self.keep)
        return lambda row: self.keep(row) and row["figure_id"] in preferred

    @property
    def active(self) -> bool:
        return bool(
            self.figure_types
            or self.kinds
            or self.licenses
            or self.dedupe
            or self.min_words is not None
            or self.max_words is not None
        )

    def keep(self, row: dict) -> bool:
        """Row-level conditions (everything but `dedupe`, which needs the whole table)."""
        if self.figure_types and row.get("figure_type") not in self.figure_types:
            return False
        if self.kinds and row.get("kind") not in self.kinds:
            return False
        if self.licenses and (row.get("license") or "unknown").lower() not in self.licenses:
            return False
        words = caption_words(row)
        if self.min_words is not None and words < self.min_words:
            return False
        if self.max_words is not None and words > self.max_words:
            return False
        return True


def preferred_copies(out: Path, keep: Callable[[dict], bool] = lambda row: True) -> set[str]:
    """figure_ids to keep when dropping duplicate images: per pixel hash, the latest paper version wins
    (then the first seen). One pass over the images; holds one small entry per distinct image."""
    best: dict[bytes, tuple[int, str]] = {}
    unhashable: set[str] = set()
    for row in iter_rows(
        out,
        "figures",
        columns=["figure_id", "paper_id", "kind", "figure_type", "license", "caption_no_index", "image"],
    ):
        if not keep(row):
            continue
        key = image_key(row.get("image"))
        if key is None:
            unhashable.add(row["figure_id"])
            continue
        rank = paper_version(row.get("paper_id"))
        if key not in best or rank > best[key][0]:
            best[key] = (rank, row["figure_id"])
    return {fid for _, fid in best.values()} | unhashable


@dataclass
class FilterStats:
    read: int = 0
    kept: int = 0
    duplicates: int = 0
    shards: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"filter: kept {self.kept:,} of {self.read:,} figure rows"
            + (f" ({self.duplicates:,} duplicate images dropped)" if self.duplicates else "")
        ]


def filtered_rows(
    out: Path, criteria: Criteria, stats: FilterStats | None = None, progress: bool = False
) -> Iterator[dict]:
    """The figure rows of OUT that `criteria` keeps, streamed."""
    stats = stats if stats is not None else FilterStats()
    wanted = criteria.predicate(out)
    for row in iter_rows(out, "figures", progress=progress, desc="filter"):
        stats.read += 1
        if not criteria.keep(row):
            continue
        if not wanted(row):
            stats.duplicates += 1
            continue
        stats.kept += 1
        yield row


def filter_folder(out: Path, dest: Path, criteria: Criteria, progress: bool = False) -> FilterStats:
    """Write the kept figure rows of OUT into DEST/figures (a new dataset folder; OUT is not changed)."""
    out, dest = Path(out), Path(dest)
    if out.resolve() == dest.resolve():
        raise ValueError("DEST must differ from OUT: filtering never edits a dataset in place")
    stats = FilterStats()
    stats.shards = write_table(
        filtered_rows(out, criteria, stats, progress), dest / "figures", FIGURE_FEATURES, prefix="figures"
    )
    return stats
