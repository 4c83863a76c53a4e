"""Figure/table references in body text, sentence splitting and linking paragraphs to floats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scitune.curate.pdf.text import Paragraph, link_mentions, references, split_sentences


def _refs(text: str) -> list[tuple[str, str]]:
    return [(k, n) for k, n, _, _ in references(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("as shown in Figure 3.", [("figure", "3")]),
        ("see Fig. 3b for the fit", [("figure", "3")]),
        ("in Figs. 2 and 3 we", [("figure", "2"), ("figure", "3")]),
        ("Figures 2-4 show", [("figure", "2"), ("figure", "3"), ("figure", "4")]),
        ("Figures 2–4 show", [("figure", "2"), ("figure", "3"), ("figure", "4")]),
        ("Figs. 1, 5, and 7", [("figure", "1"), ("figure", "5"), ("figure", "7")]),
        ("Figure 4(a, b, c) shows", [("figure", "4")]),
        ("listed in Table 1 and Tab. 2", [("table", "1"), ("table", "2")]),
        ("Table II gives", [("table", "II")]),
        ("see Supplementary Fig. S2", [("figure", "S2")]),
        ("see Supplementary Figure 2", [("figure", "S2")]),
        ("Figs. S1–S3", [("figure", "S1"), ("figure", "S2"), ("figure", "S3")]),
        ("in Fig. A.1 and Figure SI.2", [("figure", "A.1"), ("figure", "SI.2")]),
        ("the parameter space of figure 1a and fig. 2", [("figure", "1"), ("figure", "2")]),
        ("FIG. 5 and TABLE 3", [("figure", "5"), ("table", "3")]),
        ("a figure of merit and a table of results", []),
    ],
)
def test_references(text, expected):
    assert _refs(text) == expected


@given(st.integers(1, 40), st.integers(0, 10))
def test_ranges_expand_inclusively(start, length):
    got = _refs(f"Figures {start}-{start + length} show")
    assert got == [("figure", str(n)) for n in range(start, start + length + 1)]


def test_split_sentences_keeps_abbreviations():
    text = (
        "The fit in Fig. 3 is good, cf. Eq. 2. The residuals (Figs. 4 and 5) are small. "
        "Smith et al. agree. Next one!"
    )
    assert split_sentences(text) == [
        "The fit in Fig. 3 is good, cf. Eq. 2.",
        "The residuals (Figs. 4 and 5) are small.",
        "Smith et al. agree.",
        "Next one!",
    ]


def test_link_mentions_paragraphs_and_sentences():
    paragraphs = [
        Paragraph("We simulate walks. The results in Figs. 1 and 2 agree with theory. More text.", 0),
        Paragraph("Nothing here refers to a float.", 0),
        Paragraph("Table 1 lists timings. Figure 2 shows the cell.", 1),
    ]
    links = link_mentions(paragraphs, {("figure", "1"), ("figure", "2"), ("table", "1"), ("figure", "9")})
    pars, sents = links[("figure", "1")]
    assert pars == [paragraphs[0].text]
    assert sents == ["The results in Figs. 1 and 2 agree with theory."]
    pars, sents = links[("figure", "2")]
    assert pars == [paragraphs[0].text, paragraphs[2].text]
    assert sents == ["The results in Figs. 1 and 2 agree with theory.", "Figure 2 shows the cell."]
    assert links[("table", "1")][1] == ["Table 1 lists timings."]
    assert ("figure", "9") not in links  # a float nobody mentions
