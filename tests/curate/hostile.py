"""Hostile and broken source bundles, written at test time into a given folder.

Each `write_*` function writes one bad input into `folder` and returns its path. The archive tests
(test_archives.py), the LaTeX tests and the runner tests reuse them (`from tests.curate import hostile`):
every case must end as `UnsafeArchiveError` (stage `unpack`), `LatexSourceError` (stage `parse`) or a
float error, and nothing may be written outside the destination.
"""

from __future__ import annotations

import gzip
import io
import os
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


# --- whole-run cases (test_hostile_inputs.py): each writer takes the input folder and a folder OUTSIDE
# the inputs holding secrets (files whose content contains SECRET); none may ever reach a row. ---------

SECRET = "SECRETMARK7431"  # content of files outside the source trees; searched for in every row


def write_secrets(folder: Path) -> Path:
    """Files outside every source tree: a .bib, a .bbl, a .tex and a PNG whose text is SECRET."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "secret.bib").write_text(f"@article{{a, author={{{SECRET}, Q}}, year=1999}}\n")
    (folder / "secret.bbl").write_text(
        f"\\begin{{thebibliography}}{{1}}\n\\bibitem[{{{SECRET}(1999)}}]{{a}} {SECRET}\n"
        "\\end{thebibliography}\n"
    )
    (folder / "secret.tex").write_text(f"{SECRET} text from outside.\n")
    img = Image.new("RGB", (200, 60), "white")
    ImageDraw.Draw(img).text((5, 20), SECRET, fill="black")
    img.save(folder / "secret.png")
    return folder


def _png_bytes(color: str = "green", size=(90, 60)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def _paper_tex(body: str, preamble: str = "") -> str:
    return (
        f"\\documentclass{{article}}\n\\usepackage{{graphicx}}\\usepackage{{natbib}}\n{preamble}\n"
        f"\\begin{{document}}\n{body}\n\\end{{document}}\n"
    )


def _source(folder: Path, name: str, files: dict[str, str | bytes]) -> Path:
    src = folder / name
    for rel, content in files.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return src


GOOD_FLOAT = "\\begin{figure}\\includegraphics{fig}\\caption{A good figure, see \\citet{a}.}\\end{figure}\n"


def write_bib_absolute(folder: Path, secrets: Path) -> Path:
    body = f"As \\citet{{a}} said.\n\n{GOOD_FLOAT}\\bibliography{{{secrets / 'secret'}}}"
    return _source(folder, "bib_absolute", {"ms.tex": _paper_tex(body), "fig.png": _png_bytes()})


def write_bib_dotdot(folder: Path, secrets: Path) -> Path:
    rel = os.path.relpath(secrets / "secret", folder / "bib_dotdot")  # ../../outside/secret
    body = f"As \\citet{{a}} said.\n\n{GOOD_FLOAT}\\bibliography{{{rel}}}"
    return _source(folder, "bib_dotdot", {"ms.tex": _paper_tex(body), "fig.png": _png_bytes()})


def write_bib_symlink(folder: Path, secrets: Path) -> Path:
    src = _source(
        folder,
        "bib_link",
        {"ms.tex": _paper_tex(f"{GOOD_FLOAT}\\bibliography{{refs}}"), "fig.png": _png_bytes("olive")},
    )
    (src / "refs.bib").symlink_to(secrets / "secret.bib")
    return src


def write_bbl_symlink(folder: Path, secrets: Path) -> Path:
    src = _source(
        folder,
        "bbl_link",
        {"ms.tex": _paper_tex(f"{GOOD_FLOAT}\\bibliography{{refs}}"), "fig.png": _png_bytes()},
    )
    (src / "ms.bbl").symlink_to(secrets / "secret.bbl")
    return src


def write_input_absolute(folder: Path, secrets: Path) -> Path:
    body = f"\\input{{{secrets / 'secret'}}}\n{GOOD_FLOAT}"
    return _source(folder, "input_absolute", {"ms.tex": _paper_tex(body), "fig.png": _png_bytes()})


def write_graphic_absolute(folder: Path, secrets: Path) -> Path:
    graphic = secrets / "secret.png"
    body = f"\\begin{{figure}}\\includegraphics{{{graphic}}}\\caption{{Outside image.}}\\end{{figure}}"
    return _source(folder, "graphic_absolute", {"ms.tex": _paper_tex(body)})


def write_graphicspath_dotdot(folder: Path, secrets: Path) -> Path:
    rel = os.path.relpath(secrets, folder / "graphicspath")
    body = "\\begin{figure}\\includegraphics{secret}\\caption{Outside image.}\\end{figure}"
    return _source(folder, "graphicspath", {"ms.tex": _paper_tex(body, f"\\graphicspath{{{{{rel}/}}}}")})


def write_eps_reading_files(folder: Path, secrets: Path) -> Path:
    """An EPS that tries to read a file of the machine and draw its text (-dSAFER must refuse)."""
    eps = (
        "%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 200 50\n"
        f"/Helvetica findfont 10 scalefont setfont 5 20 moveto ({secrets / 'secret.tex'}) (r) file "
        "100 string readstring pop show showpage\n"
    )
    body = "\\begin{figure}\\includegraphics{evil.eps}\\caption{Evil EPS.}\\end{figure}"
    return _source(folder, "eps_file_op", {"ms.tex": _paper_tex(body), "evil.eps": eps})


def write_macro_bomb(folder: Path, secrets: Path) -> Path:
    body = "\\def\\a{\\a\\a}\\a\n" + GOOD_FLOAT
    return _source(folder, "macro_bomb", {"ms.tex": _paper_tex(body), "fig.png": _png_bytes()})


def write_nested_braces(folder: Path, secrets: Path, depth: int = 100_000) -> Path:
    body = "Deep " + "{" * depth + "x" + "}" * depth + "\n\n" + GOOD_FLOAT
    return _source(folder, "nested_braces", {"ms.tex": _paper_tex(body), "fig.png": _png_bytes()})


def write_deep_inputs(folder: Path, secrets: Path, depth: int = 40) -> Path:
    files: dict[str, str | bytes] = {
        "ms.tex": _paper_tex("\\input{i0}\n" + GOOD_FLOAT),
        "fig.png": _png_bytes(),
    }
    for i in range(depth):
        files[f"i{i}.tex"] = f"Level {i}.\\input{{i{i + 1}}}\n"
    return _source(folder, "deep_inputs", files)


def write_fifo_pdf(folder: Path, secrets: Path) -> Path:
    path = folder / "pipe.pdf"
    os.mkfifo(path)
    return path


def write_fifo_bundle(folder: Path, secrets: Path) -> Path:
    path = folder / "pipe.tar.gz"
    os.mkfifo(path)
    return path


def write_fifo_main_tex(folder: Path, secrets: Path) -> Path:
    src = folder / "fifo_src"
    src.mkdir()
    os.mkfifo(src / "main.tex")
    return src / "main.tex"


def write_socket_pdf(folder: Path, secrets: Path) -> Path:
    import socket

    path = folder / "sock.pdf"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    return path


def write_non_utf8_pdf_name(folder: Path, secrets: Path) -> Path:
    from tests.curate.papers import make_paper

    path = Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9.pdf"))  # Latin-1 bytes of "café"
    make_paper(folder / "tmp.pdf", figures=1).rename(path)
    return path


def write_non_utf8_folder(folder: Path, secrets: Path) -> Path:
    src = Path(os.fsdecode(os.fsencode(folder) + b"/src\xff"))
    _source(src.parent, src.name, {"ms.tex": _paper_tex(GOOD_FLOAT), "fig.png": _png_bytes()})
    return src


def write_empty_pdf(folder: Path, secrets: Path) -> Path:
    path = folder / "empty.pdf"
    path.write_bytes(b"")
    return path


def write_truncated_pdf(folder: Path, secrets: Path) -> Path:
    from tests.curate.papers import make_paper

    path = make_paper(folder / "cut.pdf", figures=2)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def write_tex_named_pdf(folder: Path, secrets: Path) -> Path:
    path = folder / "really_tex.pdf"
    path.write_bytes(MINIMAL_TEX)
    return path


def write_pdf_named_bundle(folder: Path, secrets: Path) -> Path:
    from tests.curate.papers import make_paper

    path = make_paper(folder / "x.pdf", figures=1)
    return path.rename(folder / "really_pdf.tar.gz")


def write_link_to_system_file(folder: Path, secrets: Path) -> Path:
    path = folder / "passwd.pdf"
    path.symlink_to(secrets / "secret.tex")
    return path


def write_broken_link(folder: Path, secrets: Path) -> Path:
    path = folder / "gone.pdf"
    path.symlink_to(folder / "does-not-exist.pdf")
    return path


def write_linked_folder(folder: Path, secrets: Path) -> Path:
    path = folder / "linked"
    path.symlink_to(secrets, target_is_directory=True)
    return path


def write_duplicate_pdf(folder: Path, secrets: Path) -> Path:
    """Two byte-identical PDFs under different names in one fresh OUT: one is processed, one reported."""
    from tests.curate.papers import make_paper

    first = make_paper(folder / "a_original.pdf", figures=1, seed=77)
    copy = folder / "b_copy.pdf"
    copy.write_bytes(first.read_bytes())
    return copy


def write_endless_eps(folder: Path, secrets: Path | None = None) -> Path:
    """An EPS whose PostScript loops for ever: ghostscript never ends on its own."""
    eps = "%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n{ 1 pop } loop\nshowpage\n"
    body = "\\begin{figure}\\includegraphics{loop.eps}\\caption{Never ends.}\\end{figure}"
    return _source(folder, "endless_eps", {"ms.tex": _paper_tex(body), "loop.eps": eps})


# Good inputs of the same run: each must still give all its rows (captions listed).


def write_good_utf16(folder: Path, secrets: Path) -> Path:
    tex = _paper_tex("\\begin{figure}\\includegraphics{fig}\\caption{Saved as UTF-16.}\\end{figure}")
    return _source(
        folder, "utf16", {"ms.tex": b"\xff\xfe" + tex.encode("utf-16-le"), "fig.png": _png_bytes()}
    )


def write_good_eps(folder: Path, secrets: Path) -> Path:
    eps = (
        "%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 120 80\n"
        "newpath 10 10 moveto 100 10 lineto 100 60 lineto closepath 0 0 1 setrgbcolor fill\nshowpage\n"
    )
    body = "\\begin{figure}\\includegraphics{figs/plot}\\caption{An EPS plot.}\\end{figure}"
    return _source(folder, "eps_ok", {"ms.tex": _paper_tex(body), "figs/plot.eps": eps})


def write_good_pdf_with_actions(folder: Path, secrets: Path) -> Path:
    """A normal paper whose PDF carries JavaScript and a launch action: never run, rows as usual."""
    import pymupdf

    from tests.curate.papers import make_paper

    path = make_paper(folder / "actions.pdf", figures=1, seed=5)
    doc = pymupdf.open(path)
    doc.xref_set_key(doc.pdf_catalog(), "OpenAction", "<</S/JavaScript/JS(app.alert\\('x'\\))>>")
    page = doc[0]
    page.insert_link({"kind": pymupdf.LINK_LAUNCH, "from": pymupdf.Rect(0, 0, 50, 50), "file": "/bin/sh"})
    data = doc.tobytes()
    doc.close()
    path.write_bytes(data)
    return path
