"""Hostile and broken source bundles, written at test time into a given folder.

Each `write_*` function writes one bad input into `folder` and returns its path. The archive tests
(test_archives.py), the LaTeX tests and the runner tests reuse them (`from tests.curate import hostile`):
every case must end as `UnsafeArchiveError` (stage `unpack`), `LatexSourceError` (stage `parse`) or a
float error, and nothing may be written outside the destination.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
import zlib
from pathlib import Path

MINIMAL_TEX = b"\\documentclass{article}\n\\begin{document}\nHello.\n\\end{document}\n"


def _tar_add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def _tar_add(tf: tarfile.TarFile, name: str, type_: bytes, linkname: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type = type_
    info.linkname = linkname
    tf.addfile(info)


def write_traversal_tar(folder: Path) -> Path:
    """A tar.gz whose second member is `../escaped.tex` (path traversal)."""
    path = folder / "traversal.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        _tar_add_bytes(tf, "ms.tex", MINIMAL_TEX)
        _tar_add_bytes(tf, "../escaped.tex", b"pwned")
    return path


def write_nested_traversal_zip(folder: Path) -> Path:
    """A zip with `figs/../../escaped.txt`, a traversal hidden inside a folder name."""
    path = folder / "traversal.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ms.tex", MINIMAL_TEX)
        zf.writestr("figs/../../escaped.txt", b"pwned")
    return path


def write_absolute_tar(folder: Path) -> Path:
    """A tar whose member has an absolute path, aimed at a file beside the archive."""
    path = folder / "absolute.tar"
    target = (folder / "absolute_escaped.txt").resolve()
    with tarfile.open(path, "w") as tf:
        _tar_add_bytes(tf, "ms.tex", MINIMAL_TEX)
        _tar_add_bytes(tf, str(target), b"pwned")
    return path


def write_absolute_zip(folder: Path) -> Path:
    path = folder / "absolute.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ms.tex", MINIMAL_TEX)
        info = zipfile.ZipInfo("/tmp/absolute_escaped.txt")
        zf.writestr(info, b"pwned")
    return path


def write_symlink_tar(folder: Path) -> Path:
    """A tar.gz with a symlink to `/etc` followed by a file written through it."""
    path = folder / "symlink.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        _tar_add_bytes(tf, "ms.tex", MINIMAL_TEX)
        _tar_add(tf, "link", tarfile.SYMTYPE, linkname="/etc")
        _tar_add_bytes(tf, "link/escaped.txt", b"pwned")
    return path


def write_relative_symlink_tar(folder: Path) -> Path:
    """A tar with `figs/up -> ../../outside`: relative, but leaving the archive."""
    path = folder / "relsymlink.tar"
    with tarfile.open(path, "w") as tf:
        _tar_add_bytes(tf, "ms.tex", MINIMAL_TEX)
        _tar_add(tf, "figs/up", tarfile.SYMTYPE, linkname="../../outside")
    return path


def write_inner_symlink_tar(folder: Path) -> Path:
    """A harmless symlink inside the archive (`fig.pdf -> figs/a.pdf`): skipped, never created."""
    path = folder / "innersymlink.tar"
    with tarfile.open(path, "w") as tf:
        _tar_add_bytes(tf, "ms.tex", MINIMAL_TEX)
        _tar_add_bytes(tf, "figs/a.txt", b"data")
        _tar_add(tf, "fig.txt", tarfile.SYMTYPE, linkname="figs/a.txt")
    return path


def write_symlink_zip(folder: Path) -> Path:
    """A zip member flagged as a Unix symlink to /etc/passwd."""
    path = folder / "symlink.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ms.tex", MINIMAL_TEX)
        info = zipfile.ZipInfo("passwd.tex")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, b"/etc/passwd")
    return path


def write_hardlink_tar(folder: Path) -> Path:
    """A tar with a hard link to `/etc/passwd`."""
    path = folder / "hardlink.tar"
    with tarfile.open(path, "w") as tf:
        _tar_add_bytes(tf, "ms.tex", MINIMAL_TEX)
        _tar_add(tf, "passwd.tex", tarfile.LNKTYPE, linkname="/etc/passwd")
    return path


def write_device_tar(folder: Path) -> Path:
    """A tar with a character device and a fifo beside a normal file: both skipped."""
    path = folder / "devices.tar"
    with tarfile.open(path, "w") as tf:
        _tar_add_bytes(tf, "ms.tex", MINIMAL_TEX)
        info = tarfile.TarInfo("null")
        info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
        tf.addfile(info)
        _tar_add(tf, "pipe", tarfile.FIFOTYPE)
    return path


def write_gzip_bomb_tar(folder: Path, gib: int = 1) -> Path:
    """A ~1 MB tar.gz holding one `gib` GiB file of zeros (ratio ~1000).

    Built from one compressed MiB of zeros repeated as gzip members (RFC 1952 allows several members
    in one file), so making it takes milliseconds.
    """
    path = folder / "bomb.tar.gz"
    size = gib * 1024**3
    header = tarfile.TarInfo("ms.tex")
    header.size = size
    zeros = gzip.compress(b"\0" * 1024 * 1024, compresslevel=9)
    with open(path, "wb") as out:
        out.write(gzip.compress(header.tobuf(format=tarfile.USTAR_FORMAT)))
        out.writelines(zeros for _ in range(size // (1024 * 1024)))
        out.write(gzip.compress(b"\0" * 1024))  # end-of-archive blocks
    return path


def write_single_gzip_bomb(folder: Path, mib: int = 64) -> Path:
    """A gzipped "paper.tex" (arXiv's single-file form) inflating to `mib` MiB: no size in any header,
    so only the count while streaming can stop it."""
    path = folder / "paper.gz"
    zeros = gzip.compress(b"%" * 1024 * 1024, compresslevel=9)
    path.write_bytes(zeros * mib)
    return path


def write_zip_bomb(folder: Path, mib: int = 64) -> Path:
    """A small zip whose one member inflates to `mib` MiB of zeros (ratio ~1000)."""
    path = folder / "bomb.zip"
    block = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("ms.tex", "w", force_zip64=True) as member,
    ):
        for _ in range(mib):
            member.write(block)
    return path


def write_many_members_tar(folder: Path, n: int = 10_050) -> Path:
    """A tar with more members than the default limit (10,000)."""
    path = folder / "many.tar"
    with tarfile.open(path, "w") as tf:
        for i in range(n):
            _tar_add_bytes(tf, f"f{i}.txt", b"")
    return path


def write_many_members_zip(folder: Path, n: int = 10_050) -> Path:
    """A zip with more members than the default limit: refused from its directory, before any write."""
    path = folder / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(n):
            zf.writestr(f"f{i}.txt", b"")
    return path


def write_truncated_tar_gz(folder: Path) -> Path:
    """A valid tar.gz cut in half."""
    full = io.BytesIO()
    with tarfile.open(fileobj=full, mode="w:gz") as tf:
        _tar_add_bytes(tf, "ms.tex", MINIMAL_TEX * 200)
        _tar_add_bytes(tf, "b.tex", bytes(range(256)) * 400)
    path = folder / "truncated.tar.gz"
    path.write_bytes(full.getvalue()[: len(full.getvalue()) // 2])
    return path


def write_not_an_archive(folder: Path) -> Path:
    """Random bytes named like a bundle."""
    path = folder / "junk.tar.gz"
    path.write_bytes(zlib.crc32(b"x").to_bytes(4, "little") * 64)
    return path


def write_binary_tex_source(folder: Path) -> Path:
    """A source folder whose only `.tex` is binary junk (a PDF renamed, NUL bytes)."""
    src = folder / "binary_src"
    src.mkdir()
    (src / "ms.tex").write_bytes(b"%PDF-1.5\n\x00\x01\x02\xff\xfe" + bytes(range(256)) * 20)
    return src


def write_binary_tex_bundle(folder: Path) -> Path:
    """An arXiv-style tar.gz whose only `.tex` is binary junk."""
    path = folder / "binary_tex.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        _tar_add_bytes(tf, "ms.tex", b"\x00\x01\x02PK\x03\x04" + bytes(range(256)) * 8)
    return path


def write_no_main_source(folder: Path) -> Path:
    """A source folder with `.tex` files but no `\\documentclass` + `\\begin{document}`."""
    src = folder / "nomain_src"
    src.mkdir()
    (src / "intro.tex").write_text("\\section{Intro}\nSome text.\n")
    (src / "results.tex").write_text("\\begin{figure}\\caption{Orphan.}\\end{figure}\n")
    return src


def write_recursive_input_source(folder: Path) -> Path:
    """`ms.tex` inputs `a.tex`, which inputs `b.tex`, which inputs `a.tex` again (a cycle)."""
    src = folder / "recursive_src"
    src.mkdir()
    (src / "ms.tex").write_text("\\documentclass{article}\n\\begin{document}\n\\input{a}\n\\end{document}\n")
    (src / "a.tex").write_text("A text.\n\\input{b}\n")
    (src / "b.tex").write_text("B text.\n\\input{a.tex}\n")
    return src


def write_self_input_source(folder: Path) -> Path:
    """`ms.tex` inputs itself."""
    src = folder / "selfinput_src"
    src.mkdir()
    (src / "ms.tex").write_text("\\documentclass{article}\n\\begin{document}\n\\input{ms}\n\\end{document}\n")
    return src


def write_missing_files_source(folder: Path) -> Path:
    """A paper whose `\\input` file and one of two graphics are missing; the other graphic exists."""
    src = folder / "missing_src"
    src.mkdir()
    (src / "ms.tex").write_text(
        "\\documentclass{article}\n\\usepackage{graphicx}\n\\begin{document}\n"
        "\\input{does_not_exist}\n"
        "See Figure~\\ref{fig:gone} and Figure~\\ref{fig:here}.\n\n"
        "\\begin{figure}\\includegraphics{gone}\\caption{A missing plot.}\\label{fig:gone}\\end{figure}\n"
        "\\begin{figure}\\includegraphics{here}\\caption{A present plot.}\\label{fig:here}\\end{figure}\n"
        "\\end{document}\n"
    )
    from PIL import Image

    Image.new("RGB", (40, 30), "red").save(src / "here.png")
    return src


def write_tex_bundle(folder: Path, name: str = "bundle.tar.gz") -> Path:
    """A normal, small arXiv-style bundle (control case): one figure with a PNG."""
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (60, 40), "blue").save(png, format="PNG")
    tex = (
        b"\\documentclass{article}\n\\usepackage{graphicx}\n\\begin{document}\n"
        b"Figure~\\ref{fig:a} shows it.\n\n"
        b"\\begin{figure}\\includegraphics{figs/a}\\caption{A blue box.}\\label{fig:a}\\end{figure}\n"
        b"\\end{document}\n"
    )
    path = folder / name
    with tarfile.open(path, "w:gz") as tf:
        _tar_add_bytes(tf, "ms.tex", tex)
        _tar_add_bytes(tf, "figs/a.png", png.getvalue())
    return path


ARCHIVE_CASES = {
    # name: (writer, words the error message must contain)
    "traversal_tar": (write_traversal_tar, "outside"),
    "traversal_zip": (write_nested_traversal_zip, "outside"),
    "absolute_tar": (write_absolute_tar, "absolute"),
    "absolute_zip": (write_absolute_zip, "absolute"),
    "symlink_tar": (write_symlink_tar, "link"),
    "relative_symlink_tar": (write_relative_symlink_tar, "link"),
    "symlink_zip": (write_symlink_zip, "link"),
    "hardlink_tar": (write_hardlink_tar, "link"),
    "gzip_bomb": (write_gzip_bomb_tar, "bomb"),
    "zip_bomb": (write_zip_bomb, "bomb"),
    "single_gzip_bomb": (write_single_gzip_bomb, "bomb"),
    "too_many_members": (write_many_members_zip, "members"),
    "truncated": (write_truncated_tar_gz, "corrupt"),
    "not_an_archive": (write_not_an_archive, "not a tar"),
}

SOURCE_CASES = {
    # name: (writer, words the LatexSourceError message must contain)
    "binary_tex": (write_binary_tex_source, "binary"),
    "binary_tex_bundle": (write_binary_tex_bundle, "binary"),
    "no_main": (write_no_main_source, "documentclass"),
    "recursive_input": (write_recursive_input_source, "cycle"),
    "self_input": (write_self_input_source, "cycle"),
}
