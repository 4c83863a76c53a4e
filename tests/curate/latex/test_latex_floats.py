"""Floats, numbers, labels and subfigures as LaTeX assigns them (floats.py, numbering.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scitune.curate.latex.extract import extract_latex
from tests.curate.latex.texproj import doc, png, write_tree


def run(
    tmp_path: Path,
    body: str,
    preamble: str = "",
    cls: str = "article",
    files: dict | None = None,
    render: bool = False,
):
    src = write_tree(tmp_path / "src", {"ms.tex": doc(body, preamble, cls), **(files or {})})
    return extract_latex(src, tmp_path / "work", dpi=40, render=render)


def numbers(result) -> list[tuple[str, str]]:
    return [(f.kind, f.number) for f in result.floats]


FIG = "\\begin{figure}\\includegraphics{a}\\caption{%s}\\label{%s}\\end{figure}\n"
TAB = (
    "\\begin{table}\\caption{%s}\\label{%s}\\begin{tabular}{cc} x & y \\\\ 1 & 2\\end{tabular}\\end{table}\n"
)


def test_figures_and_tables_are_counted_apart_and_captions_are_plain(tmp_path: Path) -> None:
    body = (
        FIG % ("First \\textbf{bold} $\\alpha$ plot.", "f1")
        + TAB % ("A table.", "t1")
        + FIG % ("Second, see Fig.~\\ref{f1}.", "f2")
    )
    r = run(tmp_path, body, files={"a.png": png()})
    assert numbers(r) == [("figure", "1"), ("table", "1"), ("figure", "2")]
    f1, t1, f2 = r.floats
    assert f1.caption_no_index == "First bold α plot."
    assert f1.caption == "Figure 1: First bold α plot."
    assert f2.caption_no_index == "Second, see Fig. 1."
    assert (f1.label, t1.label) == ("f1", "t1")
    assert t1.figure_type == "table" and t1.ocr == ["x", "y", "1", "2"] and t1.ocr_source == "latex"
    assert f1.figure_type == "other" and f1.ocr == []


def test_uncaptioned_and_starred_captions_are_not_numbered(tmp_path: Path) -> None:
    body = (
        "\\begin{figure}\\includegraphics{a}\\end{figure}"
        "\\begin{figure}\\includegraphics{a}\\caption*{Unnumbered.}\\end{figure}" + FIG % ("Real.", "r")
    )
    assert numbers(run(tmp_path, body, files={"a.png": png()})) == [("figure", "1")]


def test_appendix_and_supplement_renumbering(tmp_path: Path) -> None:
    body = (
        FIG % ("Main.", "m")
        + "\\appendix\\section{Extra}"
        + FIG % ("In appendix.", "a1")
        + "\\clearpage\\setcounter{figure}{0}\\renewcommand{\\thefigure}{S\\arabic{figure}}"
        + FIG % ("Supplement one.", "s1")
        + FIG % ("Supplement two.", "s2")
        + "\\renewcommand\\thetable{SI.\\arabic{table}}"
        + TAB % ("Supp table.", "st")
    )
    r = run(tmp_path, body, files={"a.png": png()})
    assert numbers(r) == [
        ("figure", "1"),
        ("figure", "2"),
        ("figure", "S1"),
        ("figure", "S2"),
        ("table", "SI.1"),
    ]


def test_class_rules_aa_appendix_and_ieee_tables(tmp_path: Path) -> None:
    body = (
        FIG % ("Main.", "m")
        + "\\appendix\\section{Code}"
        + FIG % ("A one.", "a")
        + FIG % ("A two.", "b")
        + "\\section{More}"
        + FIG % ("B one.", "c")
    )
    r = run(tmp_path / "aa", body, cls="aa", files={"a.png": png()})
    assert [n for _, n in numbers(r)] == ["1", "A.1", "A.2", "B.1"]
    r = run(
        tmp_path / "ieee",
        TAB % ("One.", "t1") + TAB % ("Two.", "t2") + FIG % ("Fig.", "f"),
        cls="IEEEtran",
        files={"a.png": png()},
    )
    assert numbers(r) == [("table", "I"), ("table", "II"), ("figure", "1")]


def test_counterwithin_and_def_of_thefigure(tmp_path: Path) -> None:
    body = (
        "\\section{A}"
        + FIG % ("a.", "a")
        + "\\section{B}"
        + FIG % ("b.", "b")
        + FIG % ("c.", "c")
        + "\\def\\thefigure{X\\arabic{figure}}"
        + FIG % ("d.", "d")
    )
    r = run(tmp_path, body, preamble="\\counterwithin{figure}{section}", files={"a.png": png()})
    assert [n for _, n in numbers(r)] == ["1.1", "2.1", "2.2", "X3"]


def test_typed_numbers_with_labelformat_empty(tmp_path: Path) -> None:
    body = (
        FIG % ("Normal.", "n")
        + "\\captionsetup{labelformat=empty}"
        + "\\begin{figure}\\includegraphics{a}\\caption{Figure S2.3 ($T_f = 10$): Typed label.}\\end{figure}"
    )
    r = run(tmp_path, body, files={"a.png": png()})
    assert numbers(r) == [("figure", "1"), ("figure", "S2.3")]
    assert r.floats[1].caption_no_index == "(T_f = 10): Typed label."


def test_aastex_tables_plotone_and_tablenum(tmp_path: Path) -> None:
    body = (
        "\\begin{deluxetable}{cc}\\tablecaption{Sources.\\label{tab:src}}\\tablehead{\\colhead{Name} & "
        "\\colhead{Flux}}\\startdata A & 1.0 \\\\ B & 2.0 \\enddata\\end{deluxetable}"
        "\\begin{deluxetable}{c}\\tablenum{A7}\\tablecaption{Fixed.}\\startdata x\\enddata\\end{deluxetable}"
        "\\begin{figure}\\epsscale{0.8}\\plotone{a}\\caption{One.}\\end{figure}"
        "\\begin{figure}\\plottwo{a}{b}\\caption{Two.}\\end{figure}"
    )
    r = run(tmp_path, body, cls="aastex631", files={"a.png": png(), "b.png": png(color="blue")})
    assert numbers(r) == [("table", "1"), ("table", "A7"), ("figure", "1"), ("figure", "2")]
    assert r.floats[0].label == "tab:src"
    assert {"Name", "Flux", "A", "1.0", "B", "2.0"} <= set(r.floats[0].ocr)
    assert r.floats[2].graphics == ["a.png"] and r.floats[3].graphics == ["a.png", "b.png"]


def test_two_captions_in_one_figure_are_two_floats(tmp_path: Path) -> None:
    body = (
        "\\begin{figure*}\\begin{minipage}{.5\\textwidth}\\includegraphics{a}\\caption{Left.}\\label{l}"
        "\\end{minipage}\\begin{minipage}{.5\\textwidth}\\includegraphics{b}\\captionof{figure}{Right.}\\label{r}"
        "\\end{minipage}\\end{figure*}See \\ref{l} and \\ref{r}."
    )
    r = run(tmp_path, body, files={"a.png": png(), "b.png": png()})
    assert [(f.number, f.label, f.graphics) for f in r.floats] == [
        ("1", "l", ["a.png"]),
        ("2", "r", ["b.png"]),
    ]


def test_captionof_outside_floats(tmp_path: Path) -> None:
    body = (
        "\\begin{center}\\includegraphics{a}\\captionof{figure}{Inline figure.}\\label{c}\\end{center}"
        "\\begin{center}\\captionof{table}{Inline table.}\\begin{tabular}{c}v\\end{tabular}\\end{center}"
    )
    r = run(tmp_path, body, files={"a.png": png()})
    assert numbers(r) == [("figure", "1"), ("table", "1")]
    assert r.floats[0].graphics == ["a.png"] and r.floats[0].label == "c"


SUBFIGS = (
    "\\begin{figure}\\centering"
    "\\begin{subfigure}{.45\\textwidth}\\includegraphics[width=\\linewidth]{a}\\caption{Left "
    "panel}\\label{f:a}"
    "\\end{subfigure}\\hfill"
    "\\begin{subfigure}{.45\\textwidth}\\includegraphics[width=\\linewidth]{b}\\caption{Right "
    "panel}\\label{f:b}"
    "\\end{subfigure}\\begin{subfigure}{.1\\textwidth}\\end{subfigure}"
    "\\caption{Both panels.}\\label{f}\\end{figure}\n\n"
    "\\begin{figure}\\subfloat[First][Sub one\\label{g:1}]{\\includegraphics{a}}"
    "\\subfloat[Sub two]{\\includegraphics{b}}\\\\ \\subcaptionbox{Third\\label{g:3}}{\\includegraphics{c}}"
    "\\caption{Old style.}\\label{g}\\end{figure}\n\n"
    "Panels \\ref{f:b}, \\subref{f:a} and \\ref{g:3}.\n"
)


def test_subfigures_are_panels_of_their_parent(tmp_path: Path) -> None:
    r = run(tmp_path, SUBFIGS, files={"a.png": png(), "b.png": png(), "c.png": png()}, render=True)
    f, g = r.floats
    assert [(s["label"], s["caption"], s["graphics"]) for s in f.subfigures] == [
        ("f:a", "Left panel", ["a.png"]),
        ("f:b", "Right panel", ["b.png"]),
    ]
    assert [(s["label"], s["caption"]) for s in g.subfigures] == [
        ("g:1", "Sub one"),
        (None, "Sub two"),
        ("g:3", "Third"),
    ]
    assert all(s["image_png"].startswith(b"\x89PNG") for s in f.subfigures + g.subfigures)
    # A panel reference prints the parent number and the panel letter; it is a mention of the parent.
    assert f.mentions == ["Panels 1b, (a) and 2c."] and g.mentions == f.mentions


@pytest.mark.parametrize("env", ["wrapfigure", "SCfigure", "sidewaysfigure", "figure*"])
def test_figure_environment_variants(tmp_path: Path, env: str) -> None:
    args = "{r}{0.4\\textwidth}" if env == "wrapfigure" else ""
    body = f"\\begin{{{env}}}{args}\\includegraphics{{a}}\\caption{{In {env}.}}\\end{{{env}}}"
    r = run(tmp_path, body, files={"a.png": png()})
    assert [(f.kind, f.number, f.caption_no_index) for f in r.floats] == [("figure", "1", f"In {env}.")]


def test_floats_in_iffalse_or_comments_do_not_count(tmp_path: Path) -> None:
    body = "\\iffalse" + FIG % ("Old.", "o") + "\\fi\n%" + FIG % ("Commented.", "c") + FIG % ("Kept.", "k")
    r = run(tmp_path, body, files={"a.png": png()})
    assert [(f.number, f.caption_no_index) for f in r.floats] == [("1", "Kept.")]


def test_short_caption_and_label_inside_caption(tmp_path: Path) -> None:
    body = "\\begin{figure}\\includegraphics{a}\\caption[Short]{Long caption \\label{in}text.}\\end{figure}"
    r = run(tmp_path, body, files={"a.png": png()})
    assert r.floats[0].caption_no_index == "Long caption text." and r.floats[0].label == "in"


def test_drawn_figure_has_no_graphics_and_no_error(tmp_path: Path) -> None:
    body = (
        "\\begin{figure}\\begin{tikzpicture}\\draw (0,0) -- (1,1);\\end{tikzpicture}"
        "\\caption{Drawn.}\\end{figure}"
    )
    r = run(tmp_path, body, render=True)
    assert r.floats[0].graphics == [] and r.floats[0].image_png is None and r.errors == []


def test_graphics_inside_boxes_and_section_labels_in_titles(tmp_path: Path) -> None:
    body = (
        "\\section{Results\\label{sec:res}}"
        "\\begin{figure}\\resizebox{\\columnwidth}{!}{\\includegraphics{a}}\\fbox{\\includegraphics{b}}"
        "\\caption{Boxed, see Section~\\ref{sec:res}.}\\end{figure}"
        "\\begin{table}\\caption{Scaled.}\\resizebox{\\textwidth}{!}{\\begin{tabular}{c}cell\\end{tabular}}"
        "\\end{table}"
    )
    r = run(tmp_path, body, files={"a.png": png(), "b.png": png()})
    assert r.floats[0].graphics == ["a.png", "b.png"]
    assert r.floats[0].caption_no_index == "Boxed, see Section 1."
    assert r.floats[1].ocr == ["cell"]


def test_continued_float_longtable_and_appendices(tmp_path: Path) -> None:
    body = (
        "\\begin{figure}\\includegraphics{a}\\caption{Part one.}\\label{p1}\\end{figure}"
        "\\begin{figure}\\ContinuedFloat\\includegraphics{b}\\caption{Part two.}\\label{p2}\\end{figure}"
        "\\begin{longtable}{c}\\caption{Long.}\\label{lt}\\\\ \\endfirsthead \\caption[]{Long (cont.)}\\\\ "
        "\\endhead x \\\\ y \\end{longtable}"
        "\\begin{appendices}\\section{Extra}\\begin{table}\\caption{Late.}\\label{late}\\end{table}"
        "\\end{appendices} See \\ref{p2}, \\ref{lt} and Appendix~\\ref{late}."
    )
    r = run(tmp_path, body, cls="aa", files={"a.png": png(), "b.png": png()})
    assert [(f.kind, f.number) for f in r.floats] == [("figure", "1"), ("table", "1"), ("table", "A.1")]
    assert r.floats[0].graphics == ["a.png", "b.png"]
    assert r.floats[0].mentions == ["See 1, 1 and Appendix A.1."]


def test_repeated_numbers_keep_the_first(tmp_path: Path) -> None:
    body = (
        "\\begin{deluxetable}{c}\\tablenum{3}\\tablecaption{First.}\\startdata x\\enddata\\end{deluxetable}"
        "\\begin{deluxetable}{c}\\tablenum{3}\\tablecaption{Again.}\\startdata y\\enddata\\end{deluxetable}"
    )
    r = run(tmp_path, body, cls="aastex631")
    assert [(f.number, f.caption_no_index) for f in r.floats] == [("3", "First.")]
    assert [(e.error, e.number) for e in r.errors] == [("duplicate_number", "3")]


def test_trim_clip_and_page_of_a_pdf_graphic(tmp_path: Path) -> None:
    import pymupdf

    d = pymupdf.open()
    for w in (200, 300):
        d.new_page(width=w, height=100)
    two_pages = d.tobytes()
    body = (
        "\\begin{figure}\\includegraphics[page=2]{multi}\\caption{Second page.}\\end{figure}"
        "\\begin{figure}\\includegraphics[trim=50 0 50 0, clip]{multi}\\caption{Trimmed.}\\end{figure}"
    )
    r = run(tmp_path, body, files={"multi.pdf": two_pages}, render=True)
    import io

    from PIL import Image

    sizes = [Image.open(io.BytesIO(f.image_png)).size for f in r.floats]
    assert sizes[0][0] > sizes[0][1] * 2.5 and abs(sizes[1][0] / sizes[1][1] - 1.0) < 0.05


def test_main_file_with_begin_document_in_an_input(tmp_path: Path) -> None:
    files = {
        "ms.tex": "\\documentclass{article}\n\\input{body}\n",
        "body.tex": "\\begin{document}\n" + FIG % ("Inside.", "x") + "\\end{document}\n",
        "a.png": png(),
    }
    src = write_tree(tmp_path / "src", files)
    r = extract_latex(src, tmp_path / "work", render=False)
    assert [(f.number, f.caption_no_index) for f in r.floats] == [("1", "Inside.")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(
            [
                "\\begin{figure}",
                "\\end{figure}",
                "\\begin{table}",
                "\\end{table}",
                "\\caption{",
                "}",
                "{",
                "\\label{x}",
                "\\ref{x}",
                "\\includegraphics{a}",
                "\\begin{subfigure}{.5\\textwidth}",
                "\\end{subfigure}",
                "\\\\",
                "$x$",
                "\\appendix",
                "\\section{S}",
                "\\renewcommand{\\thefigure}{S\\arabic{figure}}",
                "\\newcommand{\\m}[1]{#1}",
                "\\m{y}",
                "Figure 1 ",
                "text. ",
                "\n\n",
                "&",
                "%",
                "\\cite{k}",
                "\\begin{tabular}{c}",
                "\\end{tabular}",
                "\\captionof{figure}{c}",
                "\\subfloat[s]{",
                "\\tablenum{2}",
                "\\ContinuedFloat",
            ]
        ),
        max_size=30,
    )
)
def test_any_mix_of_latex_never_crashes(tmp_path_factory, pieces: list[str]) -> None:
    base = tmp_path_factory.mktemp("mix")
    src = write_tree(base / "src", {"ms.tex": doc("".join(pieces)), "a.png": png()})
    r = extract_latex(src, base / "work", render=False)
    keys = [(f.kind, f.number) for f in r.floats]
    assert len(keys) == len(set(keys))
    for f in r.floats:
        assert f.caption.startswith(("Figure ", "Table ")) and f.caption_no_index in f.caption


def test_shipped_class_file_decides_appendix_numbers(tmp_path: Path) -> None:
    cls = (
        "\\LoadClass{article}\n\\renewenvironment{appendix}{\\par\\setcounter{figure}{0}%\n"
        "  \\renewcommand\\thesection{\\@Alph\\c@section}%\n"
        "  \\renewcommand\\thefigure{\\@Alph\\c@section-\\@arabic\\c@figure}%\n"
        "  \\@addtoreset{figure}{section}}{}\n"
    )
    body = (
        FIG % ("Main.", "m")
        + "\\appendix\\section{X}"
        + FIG % ("X one.", "x")
        + "\\section{Y}"
        + FIG % ("Y.", "y")
    )
    r = run(tmp_path, body, cls="journalx", files={"a.png": png(), "journalx.cls": cls})
    assert [f.number for f in r.floats] == ["1", "A-1", "B-1"]
