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

import errno
import fcntl
import hashlib
import json
import os
import shutil
import socket
import sys
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..schemas import ERROR_FEATURES, FIGURE_FEATURES
from ..schemas.parquet import SHARD_BYTES, SHARD_ROWS, encode_rows, row_bytes, write_parquet_atomically
from ..schemas.parquet import write_table as write_table  # re-exported: curate's derived tables use it

STATE_DIR = ".scitune"  # resume state inside OUT; not part of the published dataset
LOCK_FILE = "lock"  # in STATE_DIR: held (flock) by the one run writing to OUT


def shard_paths(out: Path, table: str) -> list[Path]:
    """The Parquet shards of one table of OUT (`figures`, `errors`, `instructions`), in order."""
    return sorted((Path(out) / table).glob("*.parquet"))


def printable(value):
    """`value` with strings made valid UTF-8: a file name that is not (Linux allows any bytes) arrives as
    lone surrogates, which Arrow cannot write; it is kept readable with `\\xNN` escapes instead."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if isinstance(value, dict):
        return {k: printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [printable(v) for v in value]
    return value


class OutLocked(Exception):
    """Another run holds OUT."""


class OutLock:
    """One `extract` per OUT at a time: an exclusive `flock` on OUT/.scitune/lock.

    The kernel drops the lock when its holder exits in any way (kill -9 included), so a crashed run
    never leaves it stuck; the file only says who held it last.
    """

    def __init__(self, out: Path):
        path = Path(out) / STATE_DIR / LOCK_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                # A file system without locks (some NFS mounts): run, but say what is not guarded.
                print(f"warning: cannot lock {path} ({e}); start no second run on {out}", file=sys.stderr)
                return
            holder = os.pread(self.fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(self.fd)
            raise OutLocked(
                f"{out} is in use by another extract run ({holder}); two runs on one OUT would duplicate "
                "rows. Wait for it to finish, or give this run another --out."
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"pid {os.getpid()} on {socket.gethostname()}, since {time.ctime()}".encode(), 0)

    def __enter__(self) -> OutLock:
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)  # releases the flock


def write_json_atomically(data, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _shard_ok(path: Path, size: int | None) -> bool:
    """The shard is there, has the size it was committed with, and its Parquet footer reads."""
    try:
        if size is not None and path.stat().st_size != size:
            return False
        pq.ParquetFile(path).metadata  # noqa: B018 - reads and checks the footer
        return True
    except (OSError, pa.ArrowException):
        return False


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

    def drop_damaged(self) -> list[str]:
        """Forget each commit whose shards are missing, truncated or unreadable; returns their names.

        The commit's manifest goes first (its inputs are no longer done, so this run redoes them), then
        its shards: a damaged shard never stays in OUT beside the redone rows."""
        damaged = []
        for path in sorted(self.manifests.glob("*.json")):
            try:
                m = json.loads(path.read_text(encoding="utf-8"))
                bad = [f for f in m["files"] if not _shard_ok(self.out / f, m.get("sizes", {}).get(f))]
            except (OSError, ValueError, KeyError, TypeError):
                m, bad = {"files": []}, [path.name]
            if bad:
                path.unlink()
                for f in m.get("files", []):
                    (self.out / f).unlink(missing_ok=True)
                damaged += bad
        return damaged

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
        self._papers[printable(key)] = printable(paper_id)
        self._figures += [printable(r) for r in figures]
        self._errors += [printable(r) for r in errors]
        self._bytes += sum(row_bytes(r) for r in figures)
        if len(self._figures) + len(self._errors) >= self.shard_rows or self._bytes >= self.shard_bytes:
            self.commit()

    def commit(self) -> None:
        if not self._keys:
            return
        name = hashlib.sha256("\n".join(sorted(printable(self._keys))).encode()).hexdigest()[:16]
        files, sizes = [], {}
        try:
            for table, rows, features in (
                ("figures", self._figures, FIGURE_FEATURES),
                ("errors", self._errors, ERROR_FEATURES),
            ):
                if rows:
                    rel = f"{table}/part-{name}.parquet"
                    files.append(rel)
                    write_parquet_atomically(encode_rows(rows, features), self.out / rel)
                    sizes[rel] = (self.out / rel).stat().st_size
            # The manifest is the commit point: written last, atomically. Sizes let the next run notice a
            # shard truncated later (a copy cut short, a disk error).
            manifest = {"papers": self._papers, "files": files, "sizes": sizes}
            write_json_atomically(manifest, self.manifests / f"{name}.json")
        except BaseException:  # a full disk, Ctrl-C: nothing of this commit stays half-written
            for rel in files:
                (self.out / rel).unlink(missing_ok=True)
            for path in [*self.manifests.glob(".*.tmp"), *(self.out / "figures").glob(".*.tmp")]:
                path.unlink(missing_ok=True)
            for path in (self.out / "errors").glob(".*.tmp"):
                path.unlink(missing_ok=True)
            raise
        self.discard()

    def discard(self) -> None:
        """Drop the buffered rows (their inputs stay not done, so a re-run redoes them)."""
        self._keys, self._papers, self._figures, self._errors, self._bytes = [], {}, [], [], 0


def reset(out: Path) -> None:
    """Forget all previous work in OUT (`extract --force`)."""
    for name in ("figures", "errors", "instructions", STATE_DIR):
        shutil.rmtree(Path(out) / name, ignore_errors=True)
