"""Graphics: resolve like graphicx, render PDF/EPS/PNG/JPG, compose panels, refuse bombs (graphics.py)."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from scitune.curate.latex import graphics
from scitune.curate.latex.extract import extract_latex
from scitune.curate.latex.floats import Graphic
from scitune.curate.latex.graphics import GraphicIndex, RenderError, compose, render_file, rows_of
from tests.curate.latex.texproj import doc, eps, pdf, png, write_tree


def index(files: list[str], main_dir: str = "", graphicspath: list[str] | None = None) -> GraphicIndex:
    return GraphicIndex(set(files), main_dir, graphicspath or [])


def test_resolution_follows_graphicx() -> None:
    files = [
        "ms.tex",
        "plot.png",
        "plot.pdf",
        "figs/a.pdf",
        "figs/b.eps",
        "Figs2/C.PNG",
        "old/x-eps-converted-to.pdf",
        "deep/unique_name.jpg",
        "imp/sub.png",
    ]
    idx = index(files, graphicspath=["figs/", "Figs2/"])
    assert idx.resolve("plot") == "plot.pdf"  # pdfLaTeX tries .pdf before .png
    assert idx.resolve("plot.png") == "plot.png"
    assert idx.resolve("a") == "figs/a.pdf"  # through \graphicspath
    assert idx.resolve("b") == "figs/b.eps"
    assert idx.resolve("./figs/a.pdf") == "figs/a.pdf"
    assert idx.resolve("c") == "Figs2/C.PNG"  # case-insensitive fallback
    assert idx.resolve("old/x.eps") == "old/x-eps-converted-to.pdf"
    assert idx.resolve("unique_name") == "deep/unique_name.jpg"  # unique basename anywhere
    assert idx.resolve("sub", base_dir="imp") == "imp/sub.png"  # \import folder first
    assert idx.resolve("nothing") is None


def test_main_file_in_a_subfolder() -> None:
    idx = index(["paper/ms.tex", "paper/fig/a.png", "other/fig/a.png"], main_dir="paper")
    assert idx.resolve("fig/a") == "paper/fig/a.png"


def test_render_pdf_png_jpg_and_cap(tmp_path: Path) -> None:
    write_tree(tmp_path, {"v.pdf": pdf(400, 200), "r.png": png((300, 100))})
    Image.new("RGB", (3000, 1000), "green").save(tmp_path / "big.jpg")
    img = render_file(tmp_path / "v.pdf", 72, tmp_path)
    assert img.size == (400, 200)
    assert render_file(tmp_path / "v.pdf", 144, tmp_path).size == (800, 400)
    assert render_file(tmp_path / "r.png", 150, tmp_path).size == (300, 100)
    big = render_file(tmp_path / "big.jpg", 150, tmp_path)
    assert max(big.size) <= graphics.MAX_SIDE and abs(big.width / big.height - 3) < 0.05


def test_transparent_png_is_put_on_white(tmp_path: Path) -> None:
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(tmp_path / "t.png")
    assert render_file(tmp_path / "t.png", 100, tmp_path).getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.skipif(shutil.which("gs") is None, reason="ghostscript (gs) is not installed")
def test_render_eps_with_ghostscript(tmp_path: Path) -> None:
    (tmp_path / "f.eps").write_bytes(eps(120, 80))
    img = render_file(tmp_path / "f.eps", 72, tmp_path)
    assert abs(img.width - 120) <= 2 and abs(img.height - 80) <= 2
    assert img.getpixel((50, img.height - 30)) != (255, 255, 255)  # the blue triangle is drawn
    assert list(tmp_path.glob("gs-*.png")) == []  # scratch output cleaned


@pytest.mark.skipif(shutil.which("gs") is None, reason="ghostscript (gs) is not installed")
def test_eps_renders_from_relative_paths_and_reads_no_other_file(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "work").mkdir()
    (tmp_path / "src" / "f.eps").write_bytes(eps(120, 80))
    monkeypatch.chdir(tmp_path)  # `extract src ...`: gs runs in work/, where src/f.eps is not
    assert render_file(Path("src/f.eps"), 72, Path("work")).width > 100
    # -dSAFER lets PostScript read gs's temp folder (/tmp by default): the EPS must not see other files
    secret = Path(tempfile.gettempdir()) / f"scitune-secret-{os.getpid()}.txt"
    secret.write_text("SECRET")
    try:
        evil = f"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 200 50\n({secret}) (r) file pop showpage\n"
        (tmp_path / "src" / "evil.eps").write_text(evil)
        with pytest.raises(RenderError, match="ghostscript could not render"):
            render_file(Path("src/evil.eps"), 72, Path("work"))
    finally:
        secret.unlink()


def test_missing_ghostscript_says_what_to_install(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "f.eps").write_bytes(eps())
    monkeypatch.setattr(graphics.shutil, "which", lambda name: None)
    with pytest.raises(RenderError, match="apt-get install ghostscript"):
        render_file(tmp_path / "f.eps", 72, tmp_path)


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path, monkeypatch) -> None:
    Image.new("1", (12000, 8000)).save(tmp_path / "bomb.png")  # tiny file, 96 Mpx
    with pytest.raises(RenderError, match="pixel limit"):
        render_file(tmp_path / "bomb.png", 150, tmp_path)


def test_broken_files_raise_render_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 garbage")
    for name in ("bad.png", "bad.pdf"):
        with pytest.raises(RenderError, match=name):
            render_file(tmp_path / name, 72, tmp_path)


def g(width=None, row_break=False) -> Graphic:
    return Graphic("x", "", width, row_break)


def test_rows_follow_breaks_and_widths() -> None:
    assert rows_of([g(0.45), g(0.45), g(0.45), g(0.45)]) == [[0, 1], [2, 3]]
    assert rows_of([g(), g(), g(row_break=True)]) == [[0, 1], [2]]
    assert rows_of([g(0.3), g(0.3), g(0.3)]) == [[0, 1, 2]]


def test_compose_side_by_side_and_stacked() -> None:
    a, b = Image.new("RGB", (100, 100), "red"), Image.new("RGB", (100, 100), "blue")
    wide = compose([a, b], [g(0.45), g(0.45)])
    tall = compose([a, b], [g(0.45), g(0.45, row_break=True)])
    assert wide.width > 1.8 * wide.height and tall.height > 1.8 * tall.width
    assert wide.getpixel((10, wide.height // 2)) == (255, 0, 0)
    assert wide.getpixel((wide.width - 10, wide.height // 2)) == (0, 0, 255)


def test_float_images_and_errors_end_to_end(tmp_path: Path) -> None:
    body = (
        "\\graphicspath{{figures/}}"
        "\\begin{figure}\\includegraphics[width=.45\\textwidth]{left}\\hfill"
        "\\includegraphics[width=.45\\textwidth]{right.png}\\caption{Two panels.}\\end{figure}"
        "\\begin{figure}\\includegraphics{gone}\\includegraphics{left}\\caption{One missing.}\\end{figure}"
        "\\begin{figure}\\includegraphics{broken}\\caption{Unreadable.}\\end{figure}"
    )
    src = write_tree(
        tmp_path / "src",
        {
            "ms.tex": doc(body),
            "figures/left.pdf": pdf(),
            "figures/right.png": png(),
            "figures/broken.png": b"\x89PNG\r\n\x1a\nbroken",
        },
    )
    r = extract_latex(src, tmp_path / "work", dpi=50)
    two, missing, broken = r.floats
    assert two.graphics == ["figures/left.pdf", "figures/right.png"]
    img = Image.open(io.BytesIO(two.image_png))
    assert img.width > img.height  # side by side
    assert missing.graphics == ["figures/left.pdf"] and missing.image_png is not None
    assert broken.image_png is None
    by_number = {(e.number, e.stage, e.error) for e in r.errors}
    assert ("2", "float", "missing_graphic") in by_number and ("3", "render", "RenderError") in by_number
    message = next(e.message for e in r.errors if e.error == "missing_graphic")
    assert "'gone'" in message and "kept without it" in message
    assert not (tmp_path / "src" / "gs").exists() and sorted(
        p.name for p in (tmp_path / "src").iterdir()
    ) == ["figures", "ms.tex"]  # nothing written into the source
