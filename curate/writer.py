"""Streaming Parquet shards with atomic commits.

Two writers, both built on `encode_rows` (schemas/parquet.py, shared with train/):

- `RunWriter` serves `extract`: it buffers the rows of finished documents and commits them as a
  `figures` shard, an `errors` shard and a manifest naming the input keys they cover. Each file is
  written to a temporary name and renamed; the manifest is renamed last, so a shard without a
  manifest is the trace of an interrupted commit and `recover()` deletes it. A re-run therefore
  skips exactly the inputs whose rows are on disk, and never duplicates a row.
- `write_table` (schemas/parquet.py, re-exported here) serves derived tables (`instructions`): it
  streams rows into fresh shards in a temporary folder and swaps the folder in only when it is complete.

Every shard carries the `huggingface` schema metadata of its `Features`, so `datasets` decodes
images without further help.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

from ..schemas import ERROR_FEATURES, FIGURE_FEATURES
from ..schemas.parquet import SHARD_BYTES, SHARD_ROWS, encode_rows, row_bytes, write_parquet_atomically
from ..schemas.parquet import write_table as write_table  # re-exported: curate's derived tables use it

STATE_DIR = ".scitune"  # resume state inside OUT; not part of the published dataset


def shard_paths(out: Path, table: str) -> list[Path]:
    """The Parquet shards of one table of OUT (`figures`, `errors`, `instructions`), in order."""
    return sorted((Path(out) / table).glob("*.parquet"))


def write_json_atomically(data, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


class RunWriter:
    """Commits the rows of finished documents of an `extract` run, resumably."""

    def __init__(self, out: Path, shard_rows: int = SHARD_ROWS, shard_bytes: int = SHARD_BYTES):
        self.out = Path(out)
        self.shard_rows, self.shard_bytes = shard_rows, shard_bytes
        self.manifests = self.out / STATE_DIR / "manifests"
        for folder in (self.out / "figures", self.out / "errors", self.manifests):
            folder.mkdir(parents=True, exist_ok=True)
        self._keys: list[str] = []
        self._papers: dict[str, str] = {}
        self._figures: list[dict] = []
        self._errors: list[dict] = []
        self._bytes = 0

    # --- state on disk -------------------------------------------------------------------

    def _read_manifests(self) -> list[dict]:
        found = []
        for path in sorted(self.manifests.glob("*.json")):
            found.append(json.loads(path.read_text(encoding="utf-8")))
        return found

    def recover(self) -> int:
        """Delete shards and temp files left by an interrupted commit; returns how many."""
        committed = {name for m in self._read_manifests() for name in m["files"]}
        removed = 0
        for table in ("figures", "errors"):
            for path in (self.out / table).iterdir():
                rel = f"{table}/{path.name}"
                is_tmp = path.name.startswith(".") and path.name.endswith(".tmp")
                if is_tmp or (path.suffix == ".parquet" and rel not in committed):
                    path.unlink()
                    removed += 1
        for path in self.manifests.glob(".*.tmp"):
            path.unlink()
            removed += 1
        return removed

    def done(self) -> dict[str, str]:
        """Input keys already committed -> their paper_id."""
        done: dict[str, str] = {}
        for m in self._read_manifests():
            done.update(m["papers"])
        return done

    # --- buffering and commits -----------------------------------------------------------

    def add(self, key: str, paper_id: str, figures: list[dict], errors: list[dict]) -> None:
        """Buffer all rows of one finished input; commits when the buffer is full."""
        self._keys.append(key)
        self._papers[key] = paper_id
        self._figures += figures
        self._errors += errors
        self._bytes += sum(row_bytes(r) for r in figures)
        if len(self._figures) + len(self._errors) >= self.shard_rows or self._bytes >= self.shard_bytes:
            self.commit()

    def commit(self) -> None:
        if not self._keys:
            return
        name = hashlib.sha256("\n".join(sorted(self._keys)).encode()).hexdigest()[:16]
        files = []
        for table, rows, features in (
            ("figures", self._figures, FIGURE_FEATURES),
            ("errors", self._errors, ERROR_FEATURES),
        ):
            if rows:
                rel = f"{table}/part-{name}.parquet"
                write_parquet_atomically(encode_rows(rows, features), self.out / rel)
                files.append(rel)
        # The manifest is the commit point: written last, atomically.
        write_json_atomically({"papers": self._papers, "files": files}, self.manifests / f"{name}.json")
        self._keys, self._papers, self._figures, self._errors, self._bytes = [], {}, [], [], 0


def foreign_folder_problem(out: Path) -> str | None:
    """Why OUT must not be written into, when it is an existing folder of the user's (not empty, and no
    `.scitune/` marker of an earlier scitune run): writing would replace its README.md and more."""
    out = Path(out)
    if out.is_dir() and not (out / STATE_DIR).is_dir() and any(out.iterdir()):
        return (
            f"{out} exists, is not empty and is not a scitune output folder (it has no {STATE_DIR}/ inside): "
            "writing there would replace its README.md. Choose a new or empty folder for -o."
        )
    return None


def reset(out: Path) -> None:
    """Forget all previous work in OUT (`extract --force`)."""
    for name in ("figures", "errors", "instructions", STATE_DIR):
        shutil.rmtree(Path(out) / name, ignore_errors=True)
