"""The check on every region before its row is written (curate/pdf/checks.py), and what extract does with
a region that fails it: an `errors` row with the reason, no image; or the layout model's second opinion."""

from __future__ import annotations

import pymupdf
from pdfdraw import ONE, body_text, line_plot, text_row
from test_pdf_regions import body, caption, row

from scitune.curate.pdf import extract as extract_module
from scitune.curate.pdf.checks import check_region
from scitune.curate.pdf.layout import PageText
from scitune.curate.pdf.layout_model import LayoutModel
from scitune.curate.pdf.regions import Element, Graphics


def _page(rows) -> PageText:
    return PageText(0, 612, 792, rows)


def test_a_clean_region_passes():
    cap = caption("figure", "1", [row(70, 300, 540, 310, text="Figure 1: A plot.")])
    page = _page(body(70, 540, 60, 5) + cap.rows)
    assert check_region((100, 130, 500, 295), cap, page, [cap], {}, 150) is None


def test_a_strip_is_degenerate():
    cap = caption("figure", "1", [row(70, 300, 540, 310, text="Figure 1: A plot.")])
    reason = check_region((70, 294, 540, 297), cap, _page(cap.rows), [cap], {}, 150)
    assert reason and "strip" in reason and "6 px" in reason


def test_a_region_of_body_text_fails():
    cap = caption("figure", "1", [row(70, 300, 540, 310, text="Figure 1: A plot.")])
    page = _page(body(70, 540, 200, 8) + cap.rows)
    reason = check_region((70, 200, 540, 296), cap, page, [cap], {}, 150)
    assert reason and "mostly body text" in reason and "8 rows" in reason


def test_body_text_in_a_framed_box_is_its_content():
    cap = caption("figure", "1", [row(70, 300, 540, 310, text="Figure 1: An example.")])
    page = _page(body(80, 530, 200, 8) + cap.rows)
    frame = Graphics(elements=[Element((72, 195, 538, 296), "path")])
    assert check_region((72, 195, 538, 296), cap, page, [cap], {}, 150, frame) is None


def test_body_style_rows_between_table_rules_are_table_rows():
    cap = caption("table", "1", [row(70, 100, 540, 110, text="Table 1: Results.")])
    page = _page(cap.rows + body(70, 540, 122, 6))
    rules = Graphics(rules=[(70, 118, 540, 118.5), (70, 196, 540, 196.5)])
    assert check_region((70, 117, 540, 197), cap, page, [cap], {}, 150, rules) is None


def test_a_region_holding_its_own_caption_fails():
    cap = caption("figure", "1", [row(70, 300, 540, 310, text="Figure 1: A plot.")])
    reason = check_region((70, 100, 540, 312), cap, _page(cap.rows), [cap], {}, 150)
    assert reason == "the region takes in its own caption"


def test_a_region_holding_another_caption_fails():
    one = caption("figure", "1", [row(70, 300, 540, 310, text="Figure 1: A plot.")])
    two = caption("table", "2", [row(70, 150, 540, 160, text="Table 2: Numbers.")])
    reason = check_region((70, 100, 540, 296), one, _page(one.rows + two.rows), [one, two], {}, 150)
    assert reason == "the region holds the caption of table 2"


def test_overlapping_regions_fail():
    one = caption("figure", "1", [row(70, 300, 300, 310, text="Figure 1: A plot.")])
    two = caption("figure", "2", [row(310, 300, 540, 310, text="Figure 2: Another.")])
    others = {id(one): (70, 100, 400, 296), id(two): (250, 100, 540, 296)}
    reason = check_region(others[id(one)], one, _page(one.rows + two.rows), [one, two], others, 150)
    assert reason and "overlaps the region of figure 2" in reason


def _plot_page(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    y = body_text(page, 72, 2)
    plot = line_plot(page, pymupdf.Rect(150, y + 10, 460, y + 200))
    text_row(page, ONE[0], y + 215, "Figure 1: The measured curve.", size=9)
    body_text(page, y + 240, 2)
    path = tmp_path / "drawn.pdf"
    doc.save(path)
    return path, plot


def test_a_failing_region_becomes_an_error_row_without_image(tmp_path, monkeypatch):
    path, plot = _plot_page(tmp_path)

    def strip(pages, stats):  # the rules gone wrong: only the rule above the caption
        return {id(c): (plot.x0, plot.y1 - 2, plot.x1, plot.y1) for _, caps, _ in pages for c in caps}

    monkeypatch.setattr(extract_module, "document_regions", strip)
    monkeypatch.setattr(LayoutModel, "boxes", lambda self, page: [])
    result = extract_module.extract_pdf(path, ocr="off")
    (f,) = result.floats
    assert f.image_png is None and f.bbox is None and f.region_source is None
    (e,) = [e for e in result.errors if e.error == "bad_region"]
    assert (e.stage, e.kind, e.number) == ("float", "figure", "1")
    assert "strip" in e.message and "left out" in e.message


def test_the_layout_model_fixes_a_failing_region(tmp_path, monkeypatch):
    path, plot = _plot_page(tmp_path)
    monkeypatch.setattr(
        extract_module,
        "document_regions",
        lambda pages, stats: {
            id(c): (plot.x0, plot.y1 - 2, plot.x1, plot.y1) for _, caps, _ in pages for c in caps
        },
    )
    asked = []

    def boxes(self, page):
        asked.append(page.number)
        return [((plot.x0, plot.y0, plot.x1, plot.y1), "picture"), ((72, 72, 540, 90), "text")]

    monkeypatch.setattr(LayoutModel, "boxes", boxes)
    result = extract_module.extract_pdf(path, ocr="off")
    (f,) = result.floats
    assert f.region_source == "layout_model" and f.image_png
    assert abs(f.bbox[1] - plot.y0) < 2 and abs(f.bbox[3] - plot.y1) < 2
    assert not result.errors and asked == [0]


def test_the_layout_model_is_not_asked_where_the_rules_pass(tmp_path, monkeypatch):
    path, plot = _plot_page(tmp_path)
    monkeypatch.setattr(LayoutModel, "boxes", lambda self, page: (_ for _ in ()).throw(AssertionError))
    result = extract_module.extract_pdf(path, ocr="off")
    (f,) = result.floats
    assert f.region_source == "rules" and result.layout_model_pages == 0
