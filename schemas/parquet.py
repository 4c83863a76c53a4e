"""Parquet shards of the tables in this package: rows encoded by their `Features`, written atomically.

Shared by curate/ (writer.py: `extract`'s commits, instructions, filters, exports) and train/
(scienceqa.export). Every shard carries the `huggingface` schema metadata of its `Features`, so
`datasets` decodes images without further help.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features

SHARD_ROWS = 1000
SHARD_BYTES = 128 * 2**20  # keeps the parent's buffer (images included) bounded; well under the Hub's 500 MB
ROW_GROUP_ROWS = 100  # small row groups keep readers' memory low when rows hold images


def encode_rows(rows: list[dict], features: Features) -> pa.Table:
    """Rows as plain Python values (images as PNG bytes or {"bytes", "path"}) -> Arrow table."""
    encoded = [features.encode_example(row) for row in rows]
    return pa.Table.from_pylist(encoded, schema=features.arrow_schema)


def write_parquet_atomically(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    pq.write_table(table, tmp, row_group_size=ROW_GROUP_ROWS, compression="zstd")
    os.replace(tmp, path)


def row_bytes(row: dict) -> int:
    size = 0
    for value in row.values():
        if isinstance(value, (bytes, str)):
            size += len(value)
        elif isinstance(value, dict) and isinstance(value.get("bytes"), bytes):
            size += len(value["bytes"])
        elif isinstance(value, list):
            size += sum(
                len(v["bytes"]) for v in value if isinstance(v, dict) and isinstance(v.get("bytes"), bytes)
            )
    return size + 256


def write_table(
    rows: Iterable[dict],
    folder: Path,
    features: Features,
    shard_rows: int = SHARD_ROWS,
    shard_bytes: int = SHARD_BYTES,
    prefix: str = "part",
) -> list[Path]:
    """Stream rows into Parquet shards replacing `folder` as a whole, once all are written.

    Shard names are `{prefix}-00000.parquet`, ...; the old folder survives until the new one is
    complete, so a crash leaves either the old or the new table, never a mix.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir()
    written: list[str] = []
    group: list[dict] = []
    shard: pq.ParquetWriter | None = None
    shard_count = shard_size = 0

    # Rows are written a row group at a time, so memory holds one group, not one shard.
    def write_group() -> None:
        nonlocal group, shard, shard_count, shard_size
        if shard is None:
            written.append(f"{prefix}-{len(written):05d}.parquet")
            shard = pq.ParquetWriter(tmp / written[-1], features.arrow_schema, compression="zstd")
        shard.write_table(encode_rows(group, features))
        shard_count += len(group)
        shard_size += sum(row_bytes(r) for r in group)
        group = []
        if shard_count >= shard_rows or shard_size >= shard_bytes:
            shard.close()
            shard, shard_count, shard_size = None, 0, 0

    try:
        for row in rows:
            group.append(row)
            if len(group) >= min(ROW_GROUP_ROWS, shard_rows - shard_count):
                write_group()
        if group:
            write_group()
        if shard is not None:
            shard.close()
        old = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.old")
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [folder / name for name in written]
