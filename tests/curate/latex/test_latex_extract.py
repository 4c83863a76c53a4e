"""`extract_latex` end to end: bundled example papers, hostile sources, single files, corpus papers."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from PIL import Image

from scitune.curate.archives import UnsafeArchiveError
from scitune.curate.latex.extract import LatexSourceError, extract_latex
from scitune.curate.records import SideResult
from tests.conftest import CORPUS, EXAMPLES
from tests.curate import hostile
from tests.curate.latex.texproj import doc


def _png_ok(data: bytes | None) -> bool:
    return bool(data) and Image.open(io.BytesIO(data)).size[0] > 10


def test_dynonet_example_folder(tmp_path: Path) -> None:
    r = extract_latex(EXAMPLES / "dynonet", tmp_path, dpi=40)
    assert isinstance(r, SideResult) and r.errors == []
    assert [(f.kind, f.number) for f in r.floats] == [("figure", str(k)) for k in range(1, 7)]
    f1 = r.floats[0]
    assert f1.caption == "Figure 1: Classic block-oriented architectures. All blocks are SISO."
    assert [s["caption"] for s in f1.subfigures] == [
        "Wiener",
        "Hammerstein",
        "Wiener-Hammerstein",
        "Hammerstein-Wiener",
    ]
    assert f1.graphics[0] == "fig/wiener.pdf" and all(_png_ok(s["image_png"]) for s in f1.subfigures)
    img = Image.open(io.BytesIO(f1.image_png))
    assert img.width > img.height  # two rows of two panels side by side, wider than tall
    assert any("See Figure 1 for a visual representation" in m for m in f1.mentions)
    assert all(_png_ok(f.image_png) for f in r.floats)


def test_legwork_bundle_is_unpacked_into_workdir(tmp_path: Path) -> None:
    work = tmp_path / "work"
    r = extract_latex(EXAMPLES / "legwork.tar.gz", work, render=False)
    assert len([f for f in r.floats if f.kind == "figure"]) == 8
    assert r.floats[0].graphics == ["figures/package_overview.png"]
    assert (work / "source").is_dir() and {p.name for p in tmp_path.iterdir()} == {"work"}


@pytest.mark.parametrize("case", sorted(hostile.SOURCE_CASES))
def test_unusable_sources_raise_latex_source_error(tmp_path: Path, case: str) -> None:
    writer, reason = hostile.SOURCE_CASES[case]
    src = writer(tmp_path)
    with pytest.raises(LatexSourceError, match=reason):
        extract_latex(src, tmp_path / "work")


@pytest.mark.parametrize("case", ["traversal_tar", "symlink_tar", "gzip_bomb"])
def test_hostile_archives_raise_unsafe_archive_error(tmp_path: Path, case: str) -> None:
    writer, reason = hostile.ARCHIVE_CASES[case]
    with pytest.raises(UnsafeArchiveError, match=reason):
        extract_latex(writer(tmp_path), tmp_path / "work")


def test_missing_files_become_errors_and_the_rest_continues(tmp_path: Path) -> None:
    r = extract_latex(hostile.write_missing_files_source(tmp_path), tmp_path / "work", dpi=40)
    gone, here = r.floats
    assert gone.image_png is None and _png_ok(here.image_png) and here.graphics == ["here.png"]
    assert {(e.stage, e.error, e.number) for e in r.errors} == {
        ("float", "missing_graphic", "1"),
        ("parse", "missing_input", None),
    }
    assert gone.mentions == here.mentions == ["See Figure 1 and Figure 2."]


def test_single_tex_file_and_gzipped_tex(tmp_path: Path) -> None:
    body = "\\begin{table}\\caption{Only a table.}\\begin{tabular}{c}a\\end{tabular}\\end{table}"
    (tmp_path / "paper.tex").write_text(doc(body))
    (tmp_path / "2301.00001v2").write_bytes(gzip.compress(doc(body).encode()))
    for source in (tmp_path / "paper.tex", tmp_path / "2301.00001v2"):
        r = extract_latex(source, tmp_path / f"work-{source.stem}")
        assert [(f.kind, f.number, f.caption) for f in r.floats] == [("table", "1", "Table 1: Only a table.")]


def test_licence_stated_by_the_source(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "ms.tex").write_text(
        doc("Text.", "\\usepackage[type={CC}, modifier={by-sa}, version={4.0}]{doclicense}")
    )
    assert extract_latex(tmp_path / "a", tmp_path / "w1").license == "CC-BY-SA-4.0"
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "ms.tex").write_text(
        doc("This work is licensed under a Creative Commons Attribution 4.0 International License.")
    )
    assert extract_latex(tmp_path / "b", tmp_path / "w2").license == "CC-BY-4.0"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "ms.tex").write_text(doc("We use images released under CC BY-SA 3.0 by their owners."))
    assert extract_latex(tmp_path / "c", tmp_path / "w3").license is None  # someone else's licence


def _corpus(rel: str) -> Path:
    path = CORPUS / rel
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


@pytest.mark.corpus
def test_corpus_macro_emitted_figures(tmp_path: Path) -> None:
    r = extract_latex(_corpus("paired/gompertz_sird/gompertz_sird"), tmp_path, render=False)
    assert [(f.number, f.label, f.graphics) for f in r.floats] == [
        ("1", "fig:Gompertz_vs_SIRD_lnln_infty", ["Gompertz_vs_SIRD_lnln_infty.pdf"]),
        ("2", "fig:hypergeometric", ["hypergeometric.pdf"]),
    ]


@pytest.mark.corpus
def test_corpus_aastex_plotone(tmp_path: Path) -> None:
    r = extract_latex(_corpus("latex/morphine_kernel_phase/morphine_kernel_phase"), tmp_path, render=False)
    assert len(r.floats) == 13 and r.floats[0].graphics == ["jacobian.pdf"]
    assert r.floats[0].caption_no_index.endswith("We see the same maps as in Figure 1 of [?].")


@pytest.mark.corpus
def test_corpus_bundle_numbering(tmp_path: Path) -> None:
    r = extract_latex(_corpus("paired/gammapy_v1/gammapy_v1.tar.gz"), tmp_path / "g", render=False)
    assert [f.number for f in r.floats if f.kind == "figure"][-8:] == [f"A.{k}" for k in range(1, 9)]
    r = extract_latex(_corpus("paired/msd_errors/msd_errors.tar.gz"), tmp_path / "m", render=False)
    assert [f.number for f in r.floats][-3:] == ["SI.1", "SI.2", "SI.3"]
    assert r.floats[0].graphics == ["schematic.pdf"]  # the copy beside ms.tex wins over \graphicspath


@pytest.mark.corpus
def test_corpus_pandoc_source_text_mentions(tmp_path: Path) -> None:
    r = extract_latex(_corpus("paired/nuptial_gifts/nuptial_gifts"), tmp_path, render=False)
    by_number = {f.number: f for f in r.floats}
    assert "S2.3" in by_number and by_number["S2.3"].caption_no_index.startswith(
        "(T_f = 10.0): The coevolution"
    )
    assert len(by_number["2"].paragraphs) >= 5  # "Figure 2" typed in the text, no \ref anywhere
