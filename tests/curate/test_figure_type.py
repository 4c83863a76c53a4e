"""The rule-based figure-type guess (scitune.curate.figure_type)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from scitune.curate.figure_type import guess_figure_type
from scitune.schemas.taxonomy import FIGURE_TYPES
from tests.curate.pdf.pdfdraw import raster_png


def _line_art_png() -> bytes:
    img = Image.new("RGB", (200, 120), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([10, 10, 80, 50], outline="black")
    d.rectangle([120, 60, 190, 110], outline="black")
    d.line([80, 30, 120, 85], fill="black", width=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    "caption, expected",
    [
        ("Histogram of the estimated coefficients.", "histogram"),
        ("Scatter plot of predicted against observed values.", "scatter_plot"),
        ("A photograph of the experimental set-up.", "photo"),
        ("Schematic of the apparatus and its architecture.", "diagram"),
        ("The architecture of the encoder.", "diagram"),
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
def test_caption_keywords(caption, expected):
    assert guess_figure_type("figure", caption, None) == expected


def test_tables_are_tables_whatever_the_caption():
    assert guess_figure_type("table", "Histogram of values", None) == "table"


def test_image_and_hints_when_the_caption_says_nothing():
    plain = "Results for the second experiment."
    assert guess_figure_type("figure", plain, raster_png()) == "photo"
    assert guess_figure_type("figure", plain, _line_art_png(), {"numeric_words": 12}) == "line_plot"
    assert guess_figure_type("figure", plain, _line_art_png(), {"n_paths": 40}) == "diagram"
    assert (
        guess_figure_type("figure", plain, None, {"text_only": True, "monospace_share": 0.9})
        == "code_listing"
    )
    assert (
        guess_figure_type("figure", plain, None, {"text_only": True, "monospace_share": 0.0})
        == "table_as_figure"
    )
    assert guess_figure_type("figure", plain, b"not an image") == "other"
    assert guess_figure_type("figure", plain, None) == "other"


@given(
    st.sampled_from(["figure", "table"]),
    st.text(max_size=200),
    st.dictionaries(
        st.sampled_from(["numeric_words", "n_paths", "raster_share", "monospace_share"]), st.floats(0, 100)
    ),
)
def test_always_a_taxonomy_class(kind, caption, hints):
    assert guess_figure_type(kind, caption, None, hints) in FIGURE_TYPES
