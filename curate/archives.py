"""Safe unpacking of untrusted source bundles (arXiv `.tar.gz`, `.tgz`, `.tar`, `.zip`, gzipped `.tex`).

The format is read from the first bytes, never from the file name: arXiv serves a `.gz` that may be a
tar.gz or a single gzipped `.tex`. Every member is checked before a byte is written:

- no member lands outside `dest`: absolute names, drive letters and `..` components are refused;
- links are never created: a symlink or hard link whose target leaves the archive is refused, one that
  stays inside is skipped (and logged), since LaTeX sources do not need them;
- device files and fifos are skipped (and logged);
- the member count, the total number of bytes written and the expansion ratio are bounded while
  streaming in bounded chunks, so a bomb is stopped after at most `max_total_bytes`, never after
  filling the disk.

A refused or corrupt archive raises `UnsafeArchiveError` with the reason; the runner turns it into an
`errors` row with stage `unpack`. Files already written by a refused archive are removed again.
"""

from __future__ import annotations

import gzip
import logging
import re
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

log = logging.getLogger(__name__)

MiB = 1024 * 1024


class UnsafeArchiveError(Exception):
    """The archive was refused (unsafe member, limits exceeded) or could not be read (corrupt, truncated)."""


@dataclass(frozen=True)
class UnpackLimits:
    """Bounds for one archive. The defaults are far above any real arXiv bundle (arXiv caps uploads at
    50 MB compressed) and far below what would hurt a worker.

    max_total_bytes: bytes written for all members together (512 MiB).
    max_members: members of any kind, directories included (10,000).
    max_ratio: bytes written per byte of archive (200). Small archives are measured against at least
        `ratio_floor_bytes` (64 KiB), so a tiny but legitimately repetitive `.tex` is not refused.
    chunk_bytes: read size while streaming (1 MiB).
    """

    max_total_bytes: int = 512 * MiB
    max_members: int = 10_000
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 64 * 1024
    chunk_bytes: int = 1 * MiB


# Operating-system litter that archivers add; never part of a LaTeX source.
_JUNK_PARTS = {"__MACOSX", ".DS_Store", "Thumbs.db"}


def _is_junk(parts: tuple[str, ...]) -> bool:
    return any(p in _JUNK_PARTS for p in parts) or parts[-1].startswith("._")


def _safe_parts(name: str) -> tuple[str, ...]:
    """The path components of a member name, or raise when the name could escape `dest`."""
    if "\x00" in name:
        raise UnsafeArchiveError(f"member name {name!r} contains a NUL byte")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        raise UnsafeArchiveError(f"member {name!r} has an absolute path; refusing to unpack")
    parts = tuple(p for p in PurePosixPath(unified).parts if p not in ("", "."))
    if ".." in parts:
        raise UnsafeArchiveError(f"member {name!r} points outside the archive ('..'); refusing to unpack")
    return parts


def _link_stays_inside(member_parts: tuple[str, ...], target: str, relative_to_member: bool) -> bool:
    """Whether a link target, resolved the way the archive format means it, stays inside the archive."""
    unified = target.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        return False
    base = list(member_parts[:-1]) if relative_to_member else []
    for part in PurePosixPath(unified).parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not base:
                return False
            base.pop()
        else:
            base.append(part)
    return True


class _Writer:
    """Writes members under `dest`, enforcing the limits and remembering what it created."""

    def __init__(self, dest: Path, limits: UnpackLimits, archive_bytes: int, archive: Path):
        self.dest = dest.resolve()
        self.limits = limits
        self.archive = archive
        self.budget = min(
            limits.max_total_bytes, int(limits.max_ratio * max(archive_bytes, limits.ratio_floor_bytes))
        )
        self.written = 0
        self.members = 0
        self.created: list[Path] = []

    def count_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise UnsafeArchiveError(
                f"{self.archive.name}: more than {self.limits.max_members} members; refusing to unpack "
                "(raise UnpackLimits.max_members if this archive is trusted)"
            )

    def _target(self, parts: tuple[str, ...]) -> Path:
        target = self.dest.joinpath(*parts)
        # Belt and braces: _safe_parts already refused '..' and absolute names.
        if not target.resolve().is_relative_to(self.dest):
            raise UnsafeArchiveError(f"member {'/'.join(parts)!r} would land outside the destination")
        return target

    def _mkdirs(self, path: Path) -> None:
        missing = []
        p = path
        while not p.exists():
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            d.mkdir()
            self.created.append(d)

    def directory(self, parts: tuple[str, ...]) -> None:
        self._mkdirs(self._target(parts))

    def file(self, parts: tuple[str, ...], stream: BinaryIO, declared: int | None = None) -> None:
        # A size stated in the header is checked first, so a bomb that admits its size writes nothing;
        # the count while streaming catches those that lie or state no size (single gzip).
        if declared is not None and self.written + declared > self.budget:
            self.written += declared
            raise UnsafeArchiveError(self._bomb_message())
        target = self._target(parts)
        self._mkdirs(target.parent)
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise UnsafeArchiveError(f"member {'/'.join(parts)!r} would replace a non-file")
        with open(target, "wb") as out:
            self.created.append(target)
            while True:
                chunk = stream.read(self.limits.chunk_bytes)
                if not chunk:
                    break
                self.written += len(chunk)
                if self.written > self.budget:
                    raise UnsafeArchiveError(self._bomb_message())
                out.write(chunk)

    def _bomb_message(self) -> str:
        if self.budget < self.limits.max_total_bytes:
            return (
                f"{self.archive.name}: expands to more than {self.limits.max_ratio:g} times its size "
                f"({self.written:,} bytes); looks like a compression bomb, refusing to unpack"
            )
        return (
            f"{self.archive.name}: more than {self.limits.max_total_bytes:,} bytes uncompressed; refusing to "
            "unpack (raise UnpackLimits.max_total_bytes if this archive is trusted)"
        )

    def undo(self) -> None:
        for path in reversed(self.created):
            try:
                path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
            except OSError:
                pass


def archive_format(archive: Path) -> str:
    """`gzip`, `zip`, `tar` or `unknown`, from the first bytes (file names of bundles are not trusted)."""
    with open(archive, "rb") as f:
        head = f.read(512)
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith((b"BZh", b"\xfd7zXZ\x00")):
        return "tar"  # tarfile reads bzip2 and xz compressed tars itself
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return "unknown"


def _gzip_holds_tar(archive: Path) -> bool:
    try:
        with gzip.open(archive, "rb") as g:
            block = g.read(512)
    except (OSError, EOFError, zlib.error) as e:
        raise UnsafeArchiveError(f"{archive.name}: corrupt gzip data ({e})") from e
    if len(block) >= 262 and block[257:262] == b"ustar":
        return True
    # Old (v7) tars have no magic: trust the header checksum that tarfile computes.
    try:
        tarfile.TarInfo.frombuf(block.ljust(512, b"\0"), "utf-8", "surrogateescape")
        return True
    except tarfile.HeaderError:
        return False


def _unpack_tar(archive: Path, w: _Writer) -> None:
    # Stream mode ('r|*'): members are read in order, once, and never all held in memory.
    with tarfile.open(archive, mode="r|*") as tf:
        member: tarfile.TarInfo
        for member in tf:
            w.count_member()
            parts = _safe_parts(member.name)
            if not parts or _is_junk(parts):
                continue
            if member.issym() or member.islnk():
                # Hard link targets are archive paths; symlink targets are relative to the link.
                if not _link_stays_inside(parts, member.linkname, relative_to_member=member.issym()):
                    raise UnsafeArchiveError(
                        f"member {member.name!r} is a link to {member.linkname!r} outside the archive; "
                        "refusing to unpack"
                    )
                log.warning(
                    "%s: skipped link %s -> %s (links are never created)",
                    archive.name,
                    member.name,
                    member.linkname,
                )
                continue
            if member.isdir():
                w.directory(parts)
            elif member.isfile():
                stream = tf.extractfile(member)
                if stream is not None:
                    w.file(parts, stream, declared=member.size)
            else:
                log.warning(
                    "%s: skipped special member %s (device, fifo or unknown type)", archive.name, member.name
                )


def _unpack_zip(archive: Path, w: _Writer) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > w.limits.max_members:
            w.members = len(infos) - 1
            w.count_member()
        for info in infos:
            w.count_member()
            parts = _safe_parts(info.filename)
            if not parts or _is_junk(parts):
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                target = zf.read(info)[:4096].decode("utf-8", "replace")
                if not _link_stays_inside(parts, target, relative_to_member=True):
                    raise UnsafeArchiveError(
                        f"member {info.filename!r} is a link to {target!r} outside the archive; refusing to "
                        "unpack"
                    )
                log.warning(
                    "%s: skipped link %s -> %s (links are never created)", archive.name, info.filename, target
                )
                continue
            if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                log.warning("%s: skipped special member %s", archive.name, info.filename)
                continue
            if info.flag_bits & 0x1:
                raise UnsafeArchiveError(
                    f"{archive.name}: member {info.filename!r} is encrypted; cannot unpack"
                )
            if info.is_dir():
                w.directory(parts)
                continue
            with zf.open(info) as stream:
                w.file(parts, stream, declared=info.file_size)


def _single_name(archive: Path, g_header_name: str | None) -> str:
    if g_header_name:
        name = PurePosixPath(g_header_name.replace("\\", "/")).name
        if name and name not in (".", ".."):
            return name if "." in name else name + ".tex"
    stem = archive.name
    for suffix in (".gz", ".tgz"):
        stem = stem.removesuffix(suffix)
    return stem if stem.endswith(".tex") else stem + ".tex"


def _gzip_original_name(archive: Path) -> str | None:
    """The FNAME field of the gzip header (RFC 1952), when the compressor recorded one."""
    with open(archive, "rb") as f:
        head = f.read(10)
        if len(head) < 10 or not head[3] & 0x08:
            return None
        if head[3] & 0x04:  # FEXTRA comes first
            xlen = int.from_bytes(f.read(2), "little")
            f.read(xlen)
        name = bytearray()
        while len(name) < 255:
            b = f.read(1)
            if not b or b == b"\0":
                break
            name += b
    return name.decode("latin-1") or None


def _unpack_single_gzip(archive: Path, w: _Writer) -> None:
    w.count_member()
    parts = _safe_parts(_single_name(archive, _gzip_original_name(archive)))
    with gzip.open(archive, "rb") as g:
        w.file(parts, g)


def _source_root(dest: Path) -> Path:
    """`dest`, or the one folder inside it when the bundle wraps everything in a single top folder."""
    entries = [p for p in dest.iterdir() if not _is_junk((p.name,))]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return dest


def unpack(archive: Path, dest: Path, limits: UnpackLimits = UnpackLimits()) -> Path:
    """Unpack an untrusted source bundle into `dest` and return the source root.

    The format comes from the magic bytes (tar, tar.gz/bz2/xz, zip, or a single gzipped file, which is
    written as `dest/<name from the gzip header or the archive stem>.tex`). Raises `UnsafeArchiveError`
    with the reason when a member is unsafe, a limit is exceeded, or the data is corrupt; whatever was
    written before is removed again.
    """
    archive, dest = Path(archive), Path(dest)
    try:
        size = archive.stat().st_size
    except OSError as e:
        raise UnsafeArchiveError(f"cannot read {archive}: {e.strerror or e}") from e
    kind = archive_format(archive)
    if kind == "unknown":
        raise UnsafeArchiveError(
            f"{archive.name}: not a tar, zip or gzip archive (unknown magic bytes); expected an arXiv source "
            "bundle"
        )
    dest.mkdir(parents=True, exist_ok=True)
    w = _Writer(dest, limits, size, archive)
    try:
        if kind == "zip":
            _unpack_zip(archive, w)
        elif kind == "tar" or _gzip_holds_tar(archive):
            _unpack_tar(archive, w)
        else:
            _unpack_single_gzip(archive, w)
    except UnsafeArchiveError:
        w.undo()
        raise
    except (
        tarfile.TarError,
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        zlib.error,
        gzip.BadGzipFile,
        NotImplementedError,
        ValueError,
    ) as e:
        w.undo()
        raise UnsafeArchiveError(
            f"{archive.name}: corrupt or truncated archive ({type(e).__name__}: {e})"
        ) from e
    except OSError as e:
        w.undo()
        raise UnsafeArchiveError(f"{archive.name}: could not unpack ({type(e).__name__}: {e})") from e
    return _source_root(dest)


__all__ = ["UnpackLimits", "UnsafeArchiveError", "unpack"]
