"""Caption labels: parsing of the printed forms, and hyphenation repair when rows are joined."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scitune.curate.pdf.captions import join_rows, parse_label


@pytest.mark.parametrize(
    "text, kind, number, separator, rest",
    [
        ("Figure 3: Results of the fit.", "figure", "3", "strong", "Results of the fit."),
        ("Fig. 3. Results of the fit.", "figure", "3", "strong", "Results of the fit."),
        ("FIG. 12. Results.", "figure", "12", "strong", "Results."),
        ("FIGURE 3 Results of the fit", "figure", "3", "space", "Results of the fit"),
        ("Table II: Parameters of the model.", "table", "II", "strong", "Parameters of the model."),
        ("TABLE I", "table", "I", "end", ""),
        ("Supplementary Figure S2: Extra runs.", "figure", "S2", "strong", "Extra runs."),
        ("Supplementary Figure 2. Extra runs.", "figure", "S2", "strong", "Extra runs."),
        ("Fig. A.1. Output of the example.", "figure", "A.1", "strong", "Output of the example."),
        ("FIG. SI.3. More panels.", "figure", "SI.3", "strong", "More panels."),
        (
            "Figure S2.3 (T = 10): The same at T = 10.",
            "figure",
            "S2.3",
            "paren",
            "(T = 10): The same at T = 10.",
        ),
        ("Table 4 | Summary statistics", "table", "4", "strong", "Summary statistics"),
        ("Figure 7 — Throughput over time", "figure", "7", "strong", "Throughput over time"),
        ("Tab. 2: Timings.", "table", "2", "strong", "Timings."),
    ],
)
def test_parse_label_forms(text, kind, number, separator, rest):
    label = parse_label(text)
    assert label is not None
    assert (label.kind, label.number, label.separator) == (kind, number, separator)
    assert text[label.prefix_end :].strip() == rest


@pytest.mark.parametrize(
    "text",
    [
        "Fig. 3b shows the same for the second run.",  # a panel reference
        "Figures 2 and 3 show the fits.",  # plural: never a caption
        "Figure shows nothing.",
        "Table of contents",
        "The Figure 3 caption is below.",
        "Figure 10000: too many digits",
    ],
)
def test_parse_label_rejects_non_labels(text):
    assert parse_label(text) is None


def test_body_sentence_has_weak_label():
    # "Figure 3 shows ..." parses, but only as a space-separated label; find_captions then needs a
    # distinct label font to accept it (tested end to end in test_pdf_extract.py)
    label = parse_label("Figure 3 shows the distribution of errors.")
    assert label is not None and label.separator == "space"


_numbers = st.one_of(
    st.integers(1, 199).map(str),
    st.integers(1, 30).map(lambda n: f"S{n}"),
    st.tuples(st.sampled_from("ABCDE"), st.integers(1, 20)).map(lambda t: f"{t[0]}.{t[1]}"),
    st.tuples(st.sampled_from(["S", "SI.", "A"]), st.integers(1, 9), st.integers(1, 9)).map(
        lambda t: f"{t[0]}{t[1]}.{t[2]}"
    ),
    st.sampled_from(["I", "II", "III", "IV", "V", "VI", "IX", "XII"]),
)
_words = st.sampled_from(["Figure", "Fig.", "FIG.", "FIGURE", "Table", "TABLE", "Tab."])
_separators = st.sampled_from([":", ".", " |", " —", ":"])
_rest = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Zs")), max_size=40)


@given(_words, _numbers, _separators, _rest)
def test_parse_label_property(word, number, separator, rest):
    text = f"{word} {number}{separator} {rest}"
    label = parse_label(text)
    assert label is not None
    assert label.kind == ("table" if word.lower().startswith("tab") else "figure")
    assert label.number == number
    assert label.separator == "strong"
    assert text[label.prefix_end :].strip() == rest.strip()


@given(st.text(alphabet=st.characters(whitelist_categories=("Ll", "Zs")), max_size=60))
def test_lowercase_prose_is_never_a_label(text):
    assert parse_label(text) is None


def test_join_rows_repairs_hyphenation():
    assert join_rows(["The curve grows in this exam-", "ple because it is driven."]) == (
        "The curve grows in this example because it is driven."
    )
    # a hyphen before an upper-case word or a number is kept
    assert join_rows(["the Navier-", "Stokes equations"]) == "the Navier-Stokes equations"
    # compound words the document spells with a hyphen keep it
    vocab = Counter({"two-dimensional": 4, "twodimensional": 0})
    assert join_rows(["a two-", "dimensional grid"], vocab) == "a two-dimensional grid"
    assert join_rows(["  spaced  ", "", "rows "]) == "spaced rows"
