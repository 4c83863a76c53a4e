"""The figure-type classifier (scitune.curate.figure_types) and the taxonomy it writes into."""

from __future__ import annotations

import io
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pymupdf  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from scitune.curate.figure_types import MIN_SCORE, MODEL_PATH, classify, load_model  # noqa: E402
from scitune.curate.figure_types.signals import FEATURES, image_signals, latex_votes, pdf_signals  # noqa: E402
from scitune.curate.pdf.layout import read_page  # noqa: E402
from scitune.schemas import taxonomy  # noqa: E402
from scitune.schemas.taxonomy import FIGURE_TYPES, coarse_type, from_scheme, to_scheme  # noqa: E402

NEUTRAL = "Results of the second experiment."


@pytest.mark.parametrize(
    "caption, expected",
    [
        ("Histogram of the estimated coefficients.", "histogram"),
        ("Scatter plot of predicted against observed values.", "scatter_plot"),
        ("A photograph of the experimental set-up.", "photo"),
        ("Schematic of the apparatus and its architecture.", "diagram"),
        ("Box plots of the error per method.", "box_plot"),
        ("Confusion matrix of the classifier.", "heatmap"),
        ("Pie chart of the code base by language.", "pie_chart"),
        ("Pseudocode of the training algorithm.", "equation_or_algorithm"),
        ("Screenshot of the user interface.", "screenshot"),
        ("Using gammapy.data to read event lists.", "code_listing"),
        ("Significance map of the Galactic Center region.", "map"),
        ("Loss as a function of training steps.", "line_plot"),
    ],
)
def test_caption_words_decide_when_nothing_else_is_known(caption, expected):
    assert classify("figure", caption, None)[0] == expected


def test_tables_are_tables_whatever_the_caption():
    assert classify("table", "Histogram of values", None) == ("table", None)


def _signals(fig) -> dict:
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", bbox_inches="tight")
    plt.close(fig)
    doc = pymupdf.open(stream=buf.getvalue(), filetype="pdf")
    page = doc[0]
    images = [tuple(i["bbox"]) for i in page.get_image_info()]
    s = pdf_signals(page.get_cdrawings(), read_page(page).rows, images, tuple(page.rect))
    s.update(image_signals(page.get_pixmap(dpi=150).tobytes("png")))
    return s


def _bars():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar(np.arange(6), [3, 5, 2, 6, 4, 1], tick_label=["a", "b", "c", "d", "e", "f"])
    ax.set_ylabel("count")
    return fig


def _scatter():
    rng = np.random.default_rng(3)
    fig, ax = plt.subplots(figsize=(4, 3))
    x = rng.normal(size=600)
    ax.scatter(x, 2 * x + rng.normal(size=600), s=6)
    ax.set_xlabel("x")
    return fig


def _lines():
    fig, ax = plt.subplots(figsize=(5, 3))
    t = np.linspace(0, 10, 300)
    for k in range(3):
        ax.plot(t, np.sin(t + k), label=f"run {k}")
    ax.legend()
    ax.set_xlabel("time (s)")
    return fig


def _pie():
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.pie([3, 2, 5, 1], labels=["a", "b", "c", "d"])
    return fig


def _code():
    fig = plt.figure(figsize=(5, 2.5))
    for i, line in enumerate(
        ["import numpy as np", "def fit(x, y):", "    return np.polyfit(x, y, 1)", "print(fit(a, b))"]
    ):
        fig.text(0.05, 0.85 - 0.2 * i, line, family="monospace")
    return fig


@pytest.mark.parametrize(
    "draw, expected",
    [
        (_bars, "bar_chart"),
        (_scatter, "scatter_plot"),
        (_lines, "line_plot"),
        (_pie, "pie_chart"),
        (_code, "code_listing"),
    ],
)
def test_the_model_reads_what_the_pdf_draws(draw, expected):
    figure_type, score = classify("figure", NEUTRAL, _signals(draw()))
    assert figure_type == expected and MIN_SCORE <= score <= 1


def test_a_caption_that_names_its_type_overrules_an_unsure_model():
    signals = _signals(_bars())
    assert classify("figure", "Histogram of the waiting times.", signals)[0] in ("histogram", "bar_chart")
    assert classify("figure", "Histogram of the waiting times.", None)[0] == "histogram"


def test_below_the_threshold_the_type_is_other():
    m = dict(load_model())
    m["w2"] = np.zeros_like(m["w2"])
    m["b2"] = np.zeros_like(m["b2"])  # a model that cannot tell: every class equally likely
    m["prior"] = np.full(len(m["classes"]), 1 / len(m["classes"]))
    figure_type, score = classify("figure", NEUTRAL, _signals(_bars()), model=m)
    assert figure_type == "other" and score == pytest.approx(1 / len(m["classes"]), abs=1e-3)


def test_latex_votes_from_file_names_and_tikz():
    assert latex_votes(["figs/error_histogram.pdf"], False, False) == {"histogram": 3.0}
    assert latex_votes(["img/modelArchitecture.png"], False, False) == {"diagram": 3.0}
    assert latex_votes([], True, False) == {"diagram": 2.0}
    assert latex_votes([], True, True) == {}  # pgfplots draws charts in TikZ
    assert classify("figure", NEUTRAL, {"votes": {"histogram": 3.0}})[0] == "histogram"


def test_the_shipped_model_is_small_and_matches_the_features():
    assert MODEL_PATH.exists() and MODEL_PATH.stat().st_size < 3 * 2**20
    m = load_model()
    assert [str(f) for f in m["features"]] == FEATURES
    assert set(str(c) for c in m["classes"]) <= set(FIGURE_TYPES) - {"table", "other"}


def test_curation_never_imports_torch():
    code = (
        "import sys; import scitune.curate.document, scitune.curate.runner, scitune.curate.cli; "
        "from scitune.curate.figure_types import classify; classify('figure', 'x', {'has_image': 1.0}); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["figure", "table"]),
    st.text(max_size=200),
    st.dictionaries(st.sampled_from(FEATURES), st.floats(0, 50)),
)
def test_any_input_gives_a_class_of_the_taxonomy(kind, caption, signals):
    figure_type, score = classify(kind, caption, signals)
    assert figure_type in FIGURE_TYPES
    assert score is None or 0 <= score <= 1


def test_taxonomy_has_two_levels_and_the_documented_mappings():
    assert set(taxonomy.COARSE_TYPES) == {"plot", "diagram", "image", "table", "text"}
    assert coarse_type("bar_chart") == "plot" and coarse_type("code_listing") == "text"
    assert len(taxonomy.DOCFIGURE_TYPES) == 28 and len(taxonomy.ACLFIG_TYPES) == 19
    assert len(taxonomy.DOCLING_TYPES) == 26
    assert from_scheme("Confusion matrix", "docfigure") == "heatmap"
    assert from_scheme("Graph", "aclfig") == "diagram"
    assert from_scheme("logo", "docling") == "other"
    assert to_scheme("histogram", "aclfig") == "Bar charts"
    assert to_scheme("line_plot", "scicap") == "Graph Plot"
    for scheme in taxonomy.SCHEMES:
        for fine in FIGURE_TYPES:
            assert to_scheme(fine, scheme) in taxonomy.SCHEMES[scheme][1]
        # a class of ours that the other scheme has by name comes back as itself
        for fine in ("line_plot", "scatter_plot", "bar_chart", "pie_chart"):
            assert from_scheme(to_scheme(fine, scheme), scheme) == fine
