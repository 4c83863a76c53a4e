"""Mentions: \\ref-grounded and plain-text references, paragraphs and sentences (refs.py, text.py)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from scitune.curate.latex.extract import extract_latex
from scitune.curate.latex.refs import sentences, text_mentions
from tests.curate.latex.texproj import doc, png, write_tree

FIGS = "".join(
    f"\\begin{{figure}}\\includegraphics{{a}}\\caption{{Figure {k} "
    f"caption.}}\\label{{fig:{k}}}\\end{{figure}}\n"
    for k in "abcd"
)


def run(tmp_path: Path, body: str, preamble: str = ""):
    src = write_tree(tmp_path / "src", {"ms.tex": doc(body + FIGS, preamble), "a.png": png()})
    floats = extract_latex(src, tmp_path / "work", render=False).floats
    return {f.label: f for f in floats}


def test_ref_family_lists_and_ranges(tmp_path: Path) -> None:
    body = (
        "\\newcommand{\\figref}[1]{Figure~\\ref{#1}}\n"
        "First we look at \\cref{fig:a,fig:b}. Nothing else here.\n\n"
        "A range \\crefrange{fig:b}{fig:d} follows. And \\Cref{fig:c} too.\n\n"
        "With a macro: \\figref{fig:d}. With \\autoref{fig:a} and \\hyperref[fig:b]{this one}.\n\n"
        "Equations like \\eqref{fig:c} are not mentions.\n\n"
    )
    f = run(tmp_path, body)
    assert f["fig:a"].mentions == ["First we look at Figs. 1 and 2.", "With Figure 1 and this one."]
    assert f["fig:d"].mentions == ["A range Figs. 2 to 4 follows.", "With a macro: Figure 4."]
    assert f["fig:b"].paragraphs == [
        "First we look at Figs. 1 and 2. Nothing else here.",
        "A range Figs. 2 to 4 follows. And Figure 3 too.",
        "With a macro: Figure 4. With Figure 1 and this one.",
    ]
    assert f["fig:c"].mentions == ["A range Figs. 2 to 4 follows.", "And Figure 3 too."]
    assert all("Equations" not in p for x in f.values() for p in x.paragraphs)


def test_plain_text_mentions_and_each_paragraph_once(tmp_path: Path) -> None:
    body = (
        "Figure 1 shows one thing. Fig.~1 shows it again, and Figs. 2 and 3 show more.\n\n"
        "See Figures 2--4 for the rest.\n\n"
        "As in Figure 2 of \\cite{other}, and Supplementary Figure 3, neither is ours.\n\n"
    )
    f = run(tmp_path, body)
    assert f["fig:a"].paragraphs == [
        "Figure 1 shows one thing. Fig. 1 shows it again, and Figs. 2 and 3 show more."
    ]
    assert f["fig:a"].mentions == [
        "Figure 1 shows one thing.",
        "Fig. 1 shows it again, and Figs. 2 and 3 show more.",
    ]
    assert f["fig:d"].paragraphs == ["See Figures 2–4 for the rest."]
    assert len(f["fig:b"].paragraphs) == 2 and len(f["fig:c"].paragraphs) == 2


def test_captions_and_floats_are_not_paragraphs(tmp_path: Path) -> None:
    body = "Text before the figures mentions nothing.\n\n"
    f = run(tmp_path, body)
    assert all(x.paragraphs == [] for x in f.values())  # captions mention "Figure k" but are not body text


def test_sentences_keep_abbreviations_and_citations_together() -> None:
    text = (
        "As shown in Fig. 2 by Smith et al. (2014), the rate is 3.5 per day. The next one (e.g. here) is new."
    )
    assert sentences(text) == [
        "As shown in Fig. 2 by Smith et al. (2014), the rate is 3.5 per day.",
        "The next one (e.g. here) is new.",
    ]


def test_text_mentions_forms() -> None:
    assert text_mentions("Figs. 2 and 3a, Table II and Figure S1") == [
        ("figure", "2"),
        ("figure", "3a"),
        ("table", "II"),
        ("figure", "S1"),
    ]
    assert text_mentions("Figures 3-5") == [("figure", "3"), ("figure", "4"), ("figure", "5")]
    assert text_mentions("the figure shows 3 tables") == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abc FigTable.,;()123 \n?!\ue000\ue001\ue002\ue003", max_size=120))
def test_sentences_never_lose_text(text: str) -> None:
    joined = "".join(sentences(text)).replace(" ", "").replace("\n", "")
    assert joined == text.replace(" ", "").replace("\n", "").replace("\t", "")
    text_mentions(text)
