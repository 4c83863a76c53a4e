"""extract_pdf end to end on PDFs drawn at test time, on the bundled example papers, and on bad files."""

from __future__ import annotations

import io
from pathlib import Path

import pymupdf
import pytest
from pdfdraw import two_column_paper
from PIL import Image

from scitune.curate.pdf import extract as extract_module
from scitune.curate.pdf import render as render_module
from scitune.curate.pdf.extract import PdfOpenError, extract_pdf
from scitune.schemas.taxonomy import FIGURE_TYPES, coarse_type

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "papers"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    d = two_column_paper()
    path = tmp_path_factory.mktemp("pdf") / "drawn.pdf"
    path.write_bytes(d.pdf)
    return d, path, extract_pdf(path)


def _by_key(result):
    return {(f.kind, f.number): f for f in result.floats}


def _inside(inner, outer, tol=2.5) -> bool:
    return (
        inner[0] >= outer[0] - tol
        and inner[1] >= outer[1] - tol
        and inner[2] <= outer[2] + tol
        and inner[3] <= outer[3] + tol
    )


def test_finds_each_captioned_float_once(drawn):
    _, _, result = drawn
    assert sorted((f.kind, f.number, f.page) for f in result.floats) == [
        ("figure", "1", 1),
        ("figure", "2", 1),
        ("table", "1", 2),
    ]
    assert result.pages == 2 and result.errors == []


def test_body_sentence_starting_with_figure_is_not_a_caption(drawn):
    _, _, result = drawn
    fig1 = _by_key(result)[("figure", "1")]
    assert fig1.caption.startswith("Figure 1: Mean squared displacement")
    assert "shows the displacement" not in fig1.caption


def test_caption_text_whole_and_dehyphenated(drawn):
    _, _, result = drawn
    fig1 = _by_key(result)[("figure", "1")]
    assert fig1.caption_no_index == (
        "Mean squared displacement of a random walk as a function of time. The curve "
        "grows quadratically in this example because the walk is driven."
    )
    assert fig1.caption == "Figure 1: " + fig1.caption_no_index
    assert _by_key(result)[("figure", "2")].caption == (
        "Fig. 2. A photograph of the experimental cell used for the measurements."
    )
    assert _by_key(result)[("table", "1")].caption_no_index == "Error and run time of the three estimators."


def test_vector_plot_region_holds_plot_and_labels_not_caption_or_text(drawn):
    d, _, result = drawn
    fig1 = _by_key(result)[("figure", "1")]
    box = fig1.bbox
    assert _inside(d.plot_rect, box)  # the whole plot with its tick labels
    assert _inside(box, d.plot_rect, tol=3)  # and nothing more (no licence line, no text)
    assert box[3] < d.captions[("figure", "1")].y0


def test_raster_region_is_the_image(drawn):
    d, _, result = drawn
    box = _by_key(result)[("figure", "2")].bbox
    assert _inside(d.image_rect, box) and _inside(box, d.image_rect)


def test_table_region_below_caption_above_text(drawn):
    d, _, result = drawn
    box = _by_key(result)[("table", "1")].bbox
    assert _inside(d.table_rect, box) and _inside(box, d.table_rect)
    assert box[1] >= d.captions[("table", "1")].y0 + 10


def test_rendered_png_matches_bbox_and_dpi(drawn):
    _, path, result = drawn
    fig2 = _by_key(result)[("figure", "2")]
    img = Image.open(io.BytesIO(fig2.image_png))
    w_pt, h_pt = fig2.bbox[2] - fig2.bbox[0], fig2.bbox[3] - fig2.bbox[1]
    assert abs(img.width - w_pt * 150 / 72) <= 2 and abs(img.height - h_pt * 150 / 72) <= 2
    low = _by_key(extract_pdf(path, dpi=72))[("figure", "2")]
    assert abs(Image.open(io.BytesIO(low.image_png)).width - w_pt) <= 2


def test_ocr_words_from_text_layer(drawn):
    _, _, result = drawn
    fig1 = _by_key(result)[("figure", "1")]
    assert {"0", "25", "50", "75", "100", "time", "(s)", "2.0"} <= set(fig1.ocr)
    assert fig1.ocr_source == "text_layer"
    fig2 = _by_key(result)[("figure", "2")]
    assert fig2.ocr == [] and fig2.ocr_source is None


def test_paragraphs_and_mentions(drawn):
    _, _, result = drawn
    floats = _by_key(result)
    sentence = (
        "The results in Figs. 1 and 2 agree with the analytical model, and the numbers are listed in Table 1."
    )
    for key in [("figure", "1"), ("figure", "2"), ("table", "1")]:
        assert sentence in floats[key].mentions
        assert any(sentence in p for p in floats[key].paragraphs)
    assert any(p.startswith("Figure 1 shows the displacement") for p in floats[("figure", "1")].paragraphs)
    # the paragraph that runs from the left column into the right one is one paragraph
    carried = [p for p in floats[("table", "1")].paragraphs if p.startswith("A second look")]
    assert len(carried) == 1 and "Over all sizes the generalised estimator (Table 1) stays" in carried[0]
    # captions are not paragraphs
    assert not any(
        p.startswith(("Figure 1:", "Fig. 2.", "Table 1:")) for f in floats.values() for p in f.paragraphs
    )


def test_page_one_facts_and_types(drawn):
    _, _, result = drawn
    assert result.arxiv_id == "2401.01234v2"
    assert result.license == "CC-BY-4.0"
    floats = _by_key(result)
    assert floats[("table", "1")].figure_type == "table"
    assert floats[("figure", "2")].figure_type == "photo"
    # a one-curve plot: the model hesitates between line_plot and other_plot, both charts
    assert coarse_type(floats[("figure", "1")].figure_type) == "plot"
    assert 0 < floats[("figure", "2")].figure_type_score <= 1
    assert all(f.figure_type in FIGURE_TYPES for f in result.floats)
    assert all(not f.label and not f.graphics and not f.subfigures for f in result.floats)


def test_bundled_example_paper():
    pdf = EXAMPLES / "dynonet.pdf"
    if not pdf.is_file():
        pytest.skip("examples/papers/dynonet.pdf is not bundled")
    result = extract_pdf(pdf, ocr="off")
    got = {(f.kind, f.number): f for f in result.floats}
    assert set(got) == {("figure", str(n)) for n in range(1, 7)}
    assert [got[("figure", str(n))].page for n in range(1, 7)] == [3, 4, 7, 12, 13, 17]
    assert (
        got[("figure", "1")].caption_no_index == "Classic block-oriented architectures. All blocks are SISO."
    )
    assert all(f.image_png and f.bbox for f in result.floats)
    assert any("Figure 1 for a visual representation" in p for p in got[("figure", "1")].paragraphs)


# -- files that cannot be opened ----------------------------------------------------------------


def test_missing_empty_and_not_pdf(tmp_path):
    with pytest.raises(PdfOpenError, match="no such file"):
        extract_pdf(tmp_path / "absent.pdf")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(PdfOpenError, match="empty"):
        extract_pdf(empty)
    text = tmp_path / "notes.pdf"
    text.write_text("just some notes, not a PDF\n" * 20)
    with pytest.raises(PdfOpenError, match="not a PDF"):
        extract_pdf(text)


def test_truncated(tmp_path):
    pdf = two_column_paper().pdf
    beyond = tmp_path / "beyond.pdf"
    beyond.write_bytes(pdf[:300])  # the header and a few objects: nothing to repair
    with pytest.raises(PdfOpenError, match="damaged or truncated"):
        extract_pdf(beyond)
    repairable = tmp_path / "cut.pdf"
    repairable.write_bytes(pdf[: int(len(pdf) * 0.9)])  # mupdf rebuilds the cross-reference table
    result = extract_pdf(repairable)
    assert result.pages == 2


def test_password_protected(tmp_path):
    doc = pymupdf.open(stream=two_column_paper().pdf, filetype="pdf")
    locked = tmp_path / "locked.pdf"
    doc.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    owner_only = tmp_path / "owner_only.pdf"
    doc.save(owner_only, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner")
    doc.close()
    with pytest.raises(PdfOpenError, match="encrypted with a password"):
        extract_pdf(locked)
    assert len(extract_pdf(owner_only).floats) == 3  # no user password: readable


def test_broken_page_becomes_an_error_and_others_go_on(tmp_path, monkeypatch):
    path = tmp_path / "drawn.pdf"
    path.write_bytes(two_column_paper().pdf)
    real = extract_module.read_page

    def flaky(page):
        if page.number == 0:
            raise RuntimeError("syntax error in content stream")
        return real(page)

    monkeypatch.setattr(extract_module, "read_page", flaky)
    result = extract_pdf(path)
    assert [(e.stage, e.error) for e in result.errors] == [("page", "RuntimeError")]
    assert "page 1" in result.errors[0].message
    assert [(f.kind, f.number) for f in result.floats] == [("table", "1")]


class _FakeEngine:
    """Stands in for an OCR engine: says which images it was given, answers two words."""

    name, dpi = "fake", 200

    def __init__(self):
        self.seen = []

    def read(self, rgb):
        from scitune.curate.ocr import Word

        self.seen.append(rgb.shape[:2])
        return [Word("CELL", (0.1, 0.1, 0.3, 0.2)), Word("42", (0.5, 0.1, 0.6, 0.2))]


def test_ocr_only_where_the_text_layer_is_empty(drawn, monkeypatch):
    _, path, _ = drawn
    engine = _FakeEngine()
    monkeypatch.setattr(render_module, "get_engine", lambda name: engine)
    floats = _by_key(extract_pdf(path))
    fig2 = floats[("figure", "2")]
    assert fig2.ocr == ["CELL", "42"] and fig2.ocr_source == "ocr"
    # boxes are figure-relative, aligned with the words
    assert len(fig2.ocr_boxes) == 2 and all(0 <= v <= 1 for b in fig2.ocr_boxes for v in b)
    assert fig2.ocr_boxes[0][0] < fig2.ocr_boxes[1][0]
    assert floats[("figure", "1")].ocr_source == "text_layer"  # text layer present: no OCR
    assert len(engine.seen) == 1
    # rendered at the engine's resolution, not the crop's 150 dpi
    w_pt = fig2.bbox[2] - fig2.bbox[0]
    assert abs(engine.seen[0][1] - w_pt * 200 / 72) <= 2
    off = _by_key(extract_pdf(path, ocr="off"))
    assert off[("figure", "2")].ocr == [] and off[("figure", "2")].ocr_source is None
    assert len(engine.seen) == 1
    always = _by_key(extract_pdf(path, ocr="always"))
    assert always[("figure", "1")].ocr == ["CELL", "42"] and always[("figure", "1")].ocr_source == "ocr"
