"""Journal and proceedings layouts, each drawn as a small PDF in the way that once made the PDF side
miss a float, crop it wrong or read its caption short (issue 10)."""

from __future__ import annotations

import pymupdf
from pdfdraw import FILLER, booktabs, line_plot, text_row

from scitune.curate.pdf.extract import extract_pdf

LEFT, RIGHT = (50.0, 295.0), (315.0, 560.0)


def _extract(tmp_path, doc: pymupdf.Document):
    path = tmp_path / "drawn.pdf"
    doc.save(path)
    doc.close()
    result = extract_pdf(path, ocr="off")
    return {(f.kind, f.number): f for f in result.floats}, result


def _column_text(page, col, y, n, size=9.5, step=11.5, text=FILLER * 6) -> float:
    """n justified-looking rows of prose in a column, each filling it; returns the y below them."""
    font = pymupdf.Font("tiro")
    words = text.split()
    for _ in range(n):
        row: list[str] = []
        while words and font.text_length(" ".join(row + [words[0]]), size) <= col[1] - col[0]:
            row.append(words.pop(0))
        if not words:
            words = text.split()
        page.insert_text((col[0], y + size), " ".join(row), fontsize=size, fontname="tiro")
        y += step
    return y


def _two_column_page(doc, body_from=90.0, rows=40):
    page = doc.new_page(width=612, height=792)
    text_row(page, 50, 30, "Journal of Layouts 7 (2020) 100-110", size=8)
    for col in (LEFT, RIGHT):
        _column_text(page, col, body_from, rows)
    return page


def test_caption_that_runs_on_into_the_next_column(tmp_path):
    # a full-width figure whose caption fills the left column under it and goes on at the top of the right
    doc = pymupdf.open()
    for _ in range(2):
        _two_column_page(doc, body_from=90)
    page = doc.new_page(width=612, height=792)
    line_plot(page, pymupdf.Rect(60, 60, 550, 300))
    words = (
        "Maximum likelihood inference of the two domains of life from a concatenated alignment " * 3
    ).split()
    font = pymupdf.Font("tiro")
    rows, row = [], ["Figure", "2", "|"]
    for w in words:
        if font.text_length(" ".join(row + [w]), 8) > LEFT[1] - LEFT[0]:
            rows.append(" ".join(row))
            row = []
        row.append(w)
    for i, r in enumerate(rows[:4]):  # four full rows, the last one breaks off mid-sentence
        text_row(page, LEFT[0], 312 + 10 * i, r, size=8)
    text_row(page, RIGHT[0], 312, "resolved in all of the calculations; support values are", size=8)
    text_row(page, RIGHT[0], 322, "given in the supplementary information.", size=8)
    for col in (LEFT, RIGHT):
        _column_text(page, col, 370, 30)
    floats, _ = _extract(tmp_path, doc)
    cap = floats[("figure", "2")].caption
    assert cap.startswith("Figure 2 | Maximum likelihood") and cap.endswith("supplementary information.")
    assert "resolved in all of the calculations" in cap


def test_a_caption_line_that_starts_with_a_label_is_no_caption(tmp_path):
    # "... are provided in / Supplementary Table 3. The trees ..." is the caption's text, not a caption
    doc = pymupdf.open()
    page = _two_column_page(doc, body_from=400, rows=30)
    line_plot(page, pymupdf.Rect(60, 60, 285, 300))
    lines = [
        "Figure 1 | Phylogenetic inference of the sampled lineages. Branch",
        "support values and monophyly scores of every candidate phylum are provided in",
        "Supplementary Table 3. The two domain trees were calculated apart and",
        "are unrooted.",
    ]
    for i, line in enumerate(lines):
        text_row(page, LEFT[0], 312 + 10 * i, line, size=7.5)
    floats, _ = _extract(tmp_path, doc)
    assert set(floats) == {("figure", "1")}
    assert floats[("figure", "1")].caption.endswith("are unrooted.")


def test_lower_case_word_after_the_label_separator(tmp_path):
    doc = pymupdf.open()
    _two_column_page(doc)
    page = _two_column_page(doc, body_from=400, rows=30)
    plot = line_plot(page, pymupdf.Rect(60, 60, 285, 300))
    text_row(page, LEFT[0], 312, "Figure 3. pH dependence of the fluorescence intensity.", size=8)
    floats, _ = _extract(tmp_path, doc)
    f = floats[("figure", "3")]
    assert f.caption_no_index == "pH dependence of the fluorescence intensity."
    assert abs(f.bbox[1] - plot.y0) < 3 and abs(f.bbox[3] - plot.y1) < 3


def test_notes_under_a_ruled_table_stay_out_of_its_box(tmp_path):
    doc = pymupdf.open()
    page = _two_column_page(doc, body_from=300, rows=36)
    text_row(page, RIGHT[0], 60, "Table 2", size=8, font="tibo")
    text_row(page, RIGHT[0], 70, "Neurochemistry of labelled boutons.", size=8)
    rows = [
        ("Marker", "Boutons", "Share"),
        ("CGRP", "120", "45%"),
        ("SP", "98", "37%"),
        ("VGLUT2", "40", "15%"),
    ]
    table = booktabs(page, RIGHT, 84, rows, size=8)
    text_row(page, RIGHT[0], table.y1 + 4, "a Values are means of three animals.", size=7)
    text_row(page, RIGHT[0], table.y1 + 13, "b Boutons counted in lamina I only.", size=7)
    floats, _ = _extract(tmp_path, doc)
    box = floats[("table", "2")].bbox
    assert abs(box[1] - table.y0) < 2 and abs(box[3] - table.y1) < 2


def test_a_publisher_logo_repeated_at_the_page_foot_is_no_part_of_a_table(tmp_path):
    doc = pymupdf.open()
    for number in range(3):
        page = _two_column_page(doc, body_from=90, rows=48 if number < 2 else 40)
        shape = page.new_shape()  # the logo: a filled badge beside the foot, on every page
        shape.draw_rect(pymupdf.Rect(50, 752, 80, 770))
        shape.finish(fill=(0.2, 0.3, 0.6), color=None)
        shape.commit()
        text_row(page, 84, 756, "Publisher", size=8, font="tibo")
    page = doc[2]
    text_row(page, LEFT[0], 575, "Table 1 Mean values for the two trial types", size=8)
    rows = [("Trial", "Approaches", "Checks"), ("Familiar", "6.3", "62.7"), ("Stranger", "8.0", "80.9")]
    table = booktabs(page, (50, 560), 590, rows, size=8)
    floats, _ = _extract(tmp_path, doc)
    box = floats[("table", "1")].bbox
    assert abs(box[3] - table.y1) < 2


def _table_rows(page, col, y, n=5, size=8.0):
    rows = [("Strain", "Host", "Year")] + [(f"A/{i}", "duck", str(2000 + i)) for i in range(n)]
    return booktabs(page, col, y, rows, size=size)


def test_rotated_page_table_box_in_page_coordinates_and_upright_crop(tmp_path):
    # a landscape table on a /Rotate 90 page: its text runs upwards in the page's own coordinates
    doc = pymupdf.open()
    _two_column_page(doc)
    page = doc.new_page(width=612, height=792)
    page.set_rotation(90)
    m = page.derotation_matrix  # from the shown (turned) frame to the page's own coordinates
    caption = "Table 1 Amino acid variations at critical sites of the proteins"
    page.insert_text(pymupdf.Point(60, 60) * m, caption, fontsize=9, fontname="tibo", rotate=90)
    rules = [80, 96, 200]
    for y in rules:
        page.draw_line(pymupdf.Point(60, y) * m, pymupdf.Point(700, y) * m, width=0.5)
    for i in range(7):
        y = 91 + 15 * i + (4 if i else 0)
        for j, cell in enumerate(
            ("Strain", "Host", "Year", "Site") if i == 0 else (f"A/{i}", "duck", "2007", "HA")
        ):
            page.insert_text(pymupdf.Point(66 + 150 * j, y) * m, cell, fontsize=8, fontname="tiro", rotate=90)
    floats, _ = _extract(tmp_path, doc)
    f = floats[("table", "1")]
    # the table (rules from y 80 to 200 of the shown page) in the page's own coordinates
    own = pymupdf.Rect(pymupdf.Point(60, 80) * m, pymupdf.Point(700, 200) * m).normalize()
    assert abs(f.bbox[0] - own.x0) < 3 and abs(f.bbox[2] - own.x1) < 3
    assert abs(f.bbox[1] - own.y0) < 3 and abs(f.bbox[3] - own.y1) < 3
    import io

    from PIL import Image

    w, h = Image.open(io.BytesIO(f.image_png)).size
    assert w > 3 * h  # rendered upright: as wide as the landscape table, not standing on its side


def test_table_set_sideways_on_an_upright_page(tmp_path):
    # no /Rotate: the table and its caption are set at 90 degrees on a portrait page
    doc = pymupdf.open()
    _two_column_page(doc)
    page = doc.new_page(width=612, height=792)
    page.insert_text(
        (100, 720), "Table 2 Sites of the isolates in four districts", fontsize=9, fontname="tibo", rotate=90
    )
    for x in (120, 136, 260):
        page.draw_line((x, 60), (x, 720), width=0.5)
    for i in range(7):
        x = 131 + 15 * i + (4 if i else 0)
        for j, cell in enumerate(("District", "Farms", "Isolates") if i == 0 else (f"D{i}", "12", "40")):
            page.insert_text((x, 714 - 200 * j), cell, fontsize=8, fontname="tiro", rotate=90)
    floats, _ = _extract(tmp_path, doc)
    f = floats[("table", "2")]
    assert abs(f.bbox[0] - 120) < 3 and abs(f.bbox[2] - 260) < 3 and f.bbox[3] <= 722 and f.bbox[1] >= 55


def test_code_listing_captioned_below(tmp_path):
    doc = pymupdf.open()
    _two_column_page(doc)
    page = _two_column_page(doc, body_from=300, rows=36)
    page.draw_line((LEFT[0], 60), (LEFT[1], 60), width=0.4)
    code = [
        "enqueue(x: var) {",
        "  do t := FAA(&T, 1);",
        "  while (!CAS(&Q[t], x));",
        "}",
        "dequeue(): var {",
    ]
    for i, line in enumerate(code):
        text_row(page, LEFT[0], 64 + 10 * i, f"{i + 1}  {line}", size=7, font="cour")
    page.draw_line((LEFT[0], 116), (LEFT[1], 116), width=0.4)
    text_row(
        page, 80, 124, "Listing 1. An obstruction-free queue using an infinite array.", size=8, font="tibo"
    )
    floats, _ = _extract(tmp_path, doc)
    f = floats[("figure", "Listing1")]
    assert f.caption.startswith("Listing 1.") and abs(f.bbox[1] - 60) < 2 and abs(f.bbox[3] - 116) < 2


def test_algorithm_box_captioned_above_between_rules(tmp_path):
    doc = pymupdf.open()
    _two_column_page(doc)
    page = _two_column_page(doc, body_from=300, rows=36)
    page.draw_line((RIGHT[0], 60), (RIGHT[1], 60), width=0.8)
    text_row(
        page, RIGHT[0], 62, "Algorithm 2 Map function for the Department dataset.", size=8.5, font="tibo"
    )
    page.draw_line((RIGHT[0], 76), (RIGHT[1], 76), width=0.4)
    for i, line in enumerate(
        ["map(const Key& key, /* dept_id */", "  const Value& value)", "  Emit(key, value);"]
    ):
        text_row(page, RIGHT[0], 78 + 10 * i, f"{i + 1}: {line}", size=8)
    page.draw_line((RIGHT[0], 110), (RIGHT[1], 110), width=0.4)
    floats, _ = _extract(tmp_path, doc)
    f = floats[("figure", "Algorithm2")]
    assert abs(f.bbox[1] - 76) < 2 and abs(f.bbox[3] - 110) < 2 and f.bbox[0] >= RIGHT[0] - 2


def test_continued_table_makes_one_row_and_says_where_it_goes_on(tmp_path):
    doc = pymupdf.open()
    _two_column_page(doc)
    for caption in ("Table 1 Details of the isolates", "Table 1 Details of the isolates (Continued)"):
        page = _two_column_page(doc, body_from=300, rows=36)
        text_row(page, 50, 60, caption, size=8, font="tibo")
        _table_rows(page, (50, 560), 74, n=8)
    floats, result = _extract(tmp_path, doc)
    assert [k for k in floats if k[0] == "table"] == [("table", "1")] and floats[("table", "1")].page == 2
    (e,) = [e for e in result.errors if e.error == "continued_part"]
    assert "page 3" in e.message and (e.kind, e.number) == ("table", "1")


def test_caption_below_a_table(tmp_path):
    doc = pymupdf.open()
    _two_column_page(doc)
    page = _two_column_page(doc, body_from=300, rows=36)
    table = _table_rows(page, LEFT, 60)
    text_row(page, LEFT[0], table.y1 + 8, "Table 4. Isolates by host and year.", size=8)
    floats, _ = _extract(tmp_path, doc)
    box = floats[("table", "4")].bbox
    assert abs(box[1] - table.y0) < 2 and abs(box[3] - table.y1) < 2


def test_label_set_apart_by_a_wide_gap(tmp_path):
    # "Table 3" in bold, a wide gap, the title in roman without any separator (Springer)
    doc = pymupdf.open()
    _two_column_page(doc)
    page = _two_column_page(doc, body_from=300, rows=36)
    text_row(page, LEFT[0], 60, "Table 3", size=8, font="tibo")
    text_row(page, LEFT[0] + 40, 60, "Model output from all trials", size=8)
    table = _table_rows(page, LEFT, 74)
    floats, _ = _extract(tmp_path, doc)
    f = floats[("table", "3")]
    assert f.caption_no_index == "Model output from all trials" and abs(f.bbox[3] - table.y1) < 2


def test_label_on_a_line_of_its_own(tmp_path):
    doc = pymupdf.open()
    _two_column_page(doc)
    page = _two_column_page(doc, body_from=320, rows=34)
    text_row(page, LEFT[0], 60, "Table 1", size=8, font="tibo")
    text_row(page, LEFT[0], 70, "Primary antibodies used in this study.", size=8)
    table = _table_rows(page, LEFT, 84)
    floats, _ = _extract(tmp_path, doc)
    f = floats[("table", "1")]
    assert f.caption_no_index == "Primary antibodies used in this study." and abs(f.bbox[1] - table.y0) < 2


def test_side_caption_in_a_narrow_column_beside_its_table(tmp_path):
    doc = pymupdf.open()
    _two_column_page(doc)
    page = _two_column_page(doc, body_from=330, rows=34)
    for i, line in enumerate(["Table 3 Model output", "from all trials with", "standard errors"]):
        text_row(page, 50, 60 + 10 * i, line, size=8, font="tibo" if i == 0 else "tiro")
    table = booktabs(
        page, (180, 560), 60, [("Variable", "Estimate", "SE")] + [("Sex", "0.2", "0.03")] * 8, size=8
    )
    floats, _ = _extract(tmp_path, doc)
    f = floats[("table", "3")]
    assert f.caption_no_index.endswith("standard errors") and abs(f.bbox[0] - table.x0) < 2


def test_frame_around_figure_and_caption_and_rules_around_a_figure(tmp_path):
    from pdfdraw import raster_png

    doc = pymupdf.open()
    _two_column_page(doc)
    page = _two_column_page(doc, body_from=330, rows=34)
    page.draw_rect(pymupdf.Rect(44, 56, 566, 300), width=0.6)  # the frame round picture and caption
    photo = pymupdf.Rect(150, 64, 460, 270)
    page.insert_image(photo, stream=raster_png())
    text_row(page, 60, 280, "FIGURE 1 | Life at the centre. Pictures show the animals.", size=8, font="tibo")
    floats, _ = _extract(tmp_path, doc)
    box = floats[("figure", "1")].bbox
    assert abs(box[0] - photo.x0) < 2 and abs(box[2] - photo.x1) < 2 and abs(box[1] - photo.y0) < 2


def test_scanned_page_writes_no_region_from_its_words(tmp_path, monkeypatch):
    # one full-page raster with an invisible OCR text layer: without a layout-model box, an error row
    from pdfdraw import raster_png

    from scitune.curate.pdf.layout_model import LayoutModel

    monkeypatch.setattr(LayoutModel, "boxes", lambda self, page: [])
    doc = pymupdf.open()
    for n in (1, 2):
        page = doc.new_page(width=612, height=792)
        page.insert_image(page.rect, stream=raster_png((300, 400)))
        _column_text(page, LEFT, 300, 30)
        text_row(page, LEFT[0], 280 - 20 * n, f"Fig. {n}. A typical schedule.", size=8)
    floats, result = _extract(tmp_path, doc)
    assert floats[("figure", "2")].image_png is None
    assert any(e.error == "bad_region" and "scan" in e.message for e in result.errors)
