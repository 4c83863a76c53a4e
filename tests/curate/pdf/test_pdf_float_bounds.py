"""Where a float region stops: running heads, section headings, bullet lists, captions, body text.

Each test draws a small PDF with pymupdf in the layout that once made a region swallow text or miss
its float, and checks the region against the drawn boxes.
"""

from __future__ import annotations

import pymupdf
import pytest
from pdfdraw import ONE, body_text, booktabs, centred_row, line_plot, raster_png, text_row

from scitune.curate.pdf.extract import extract_pdf

HEAD = "Journal of Examples: Studies of Running Heads"
ROWS = [
    ("Method", "Short description", "Cost"),
    ("stitch", "appends light curves", "1.0"),
    ("flatten", "removes slow trends", "2.5"),
    ("fold", "folds at a period", "0.3"),
    ("bin", "bins in time", "0.1"),
]


def _extract(tmp_path, doc: pymupdf.Document) -> dict:
    path = tmp_path / "drawn.pdf"
    doc.save(path)
    doc.close()
    return {(f.kind, f.number): f for f in extract_pdf(path, ocr="off").floats}


def _page(doc: pymupdf.Document, number: int) -> pymupdf.Page:
    """A letter page whose running head and page number sit at y=86, beyond the classic top band."""
    page = doc.new_page(width=612, height=792)
    text_row(page, ONE[0], 86, str(number))
    text_row(page, 330, 86, HEAD, size=9, font="tiit")
    return page


def test_running_head_in_a_wide_top_margin_stays_out_of_a_figure(tmp_path):
    doc = pymupdf.open()
    for n in (1, 2, 3):
        page = _page(doc, n)
        y = 110
        if n == 2:
            plot = line_plot(page, pymupdf.Rect(150, 106, 460, 300))
            cap = text_row(
                page, ONE[0], 312, "Figure 1: A quadratic curve drawn right under the running head."
            )
            y = cap.y1 + 20
        body_text(page, y, 3)
    fig = _extract(tmp_path, doc)[("figure", "1")]
    assert fig.bbox[1] >= 100 and fig.bbox[3] <= cap.y0  # not the head, not the caption
    assert fig.bbox[1] <= plot.y0 + 2 and fig.bbox[3] >= plot.y1 - 2
    assert not {"Journal", "Running", "2"} & set(fig.ocr)


def test_tick_label_at_the_top_of_a_page_is_no_page_number(tmp_path):
    # the topmost row of page 2 is the bare number "20000" (a tick label) inside the band where page
    # numbers sit; the real page numbers are at the bottom and count with the pages
    doc = pymupdf.open()
    for n in (1, 2, 3):
        page = doc.new_page(width=612, height=792)
        text_row(page, 300, 740, str(n))
        y = 80
        if n == 2:
            tick = text_row(page, 130, 72, "20000", size=7, font="helv")
            plot = line_plot(page, pymupdf.Rect(140, 76, 460, 280))
            cap = text_row(page, ONE[0], 292, "Figure 1: Transfer rate over time for the sort program.")
            y = cap.y1 + 20
        body_text(page, y, 3)
    fig = _extract(tmp_path, doc)[("figure", "1")]
    assert fig.bbox[1] <= tick.y0 + 2.5 and fig.bbox[3] >= plot.y1 - 2  # (the box ends at the glyphs' ink)
    assert "20000" in fig.ocr


def test_numbered_heading_and_bullets_end_a_table_without_bottom_rule(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    y = body_text(page, 72)
    cap = text_row(page, ONE[0], y, "Table 1. A subset of the methods of the light curve class.", size=9)
    table = booktabs(page, ONE, cap.y1 + 4, ROWS, bottom_rule=False)
    heading = centred_row(page, ONE, table.y1 + 14, "3.1.1. Simple Aperture Photometry (SAP)", font="tiit")
    y = heading.y1 + 6
    for item in ("What is SAP?", "Why do SAP?", "How do you do SAP?"):
        y = text_row(page, ONE[0] + 16, y, "\u2022 " + item).y1 + 8
    nxt = centred_row(page, ONE, y + 4, "3.1.2. Point Spread Function Photometry", font="tiit")
    body_text(page, nxt.y1 + 6, 2)
    box = _extract(tmp_path, doc)[("table", "1")].bbox
    assert box[1] <= table.y0 + 2 and box[3] >= table.y1 - 6
    assert box[3] < heading.y0


def _small_caps(page: pymupdf.Page, col: tuple[float, float], y: float, text: str, font: str) -> pymupdf.Rect:
    """'V. CONCLUSION' set in small capitals: 'V. C' at 10 pt, 'ONCLUSION' at 8 pt, centred."""
    head, tail = text[:4], text[4:]
    width = pymupdf.Font(font).text_length(head, 10) + pymupdf.Font(font).text_length(tail, 8)
    x = (col[0] + col[1] - width) / 2
    first = text_row(page, x, y, head, 10, font)
    page.insert_text((first.x1, y + 10), tail, fontsize=8, fontname=font)
    return pymupdf.Rect(x, y, x + width, first.y1)


@pytest.mark.parametrize(
    "heading, font, style",
    [
        ("E Training corpus sizes for other models", "tibo", "left"),  # appendix letter, no dot
        ("V. CONCLUSION", "tiro", "centred"),  # roman numeral, plain capitals
        ("V. CONCLUSION", "tiro", "small caps"),
    ],
)
def test_section_heading_next_to_a_table_captioned_below(tmp_path, heading, font, style):
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    y = body_text(page, 72)
    draw = {
        "centred": centred_row,
        "small caps": _small_caps,
        "left": lambda p, col, y, t, font: text_row(p, col[0], y, t, font=font),
    }[style]
    head = draw(page, ONE, y + 6, heading, font=font)
    table = booktabs(page, ONE, head.y1 + 10, ROWS)
    cap = text_row(
        page, ONE[0], table.y1 + 8, "Table 9: Sizes of the training corpora of other models.", size=9
    )
    body_text(page, cap.y1 + 14, 2)
    box = _extract(tmp_path, doc)[("table", "9")].bbox
    assert box[1] > head.y1 and box[1] <= table.y0 + 2 and box[3] >= table.y1 - 2


def test_region_stops_short_of_a_caption_that_its_image_overlaps(tmp_path):
    from pdfdraw import raster_png

    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    y = body_text(page, 72)
    image = pymupdf.Rect(150, y + 10, 460, y + 200)
    page.insert_image(image, stream=raster_png(), keep_proportion=False)
    cap = text_row(
        page, ONE[0], image.y1 - 3, "Figure 1: The image box reaches over the top of this caption."
    )
    body_text(page, cap.y1 + 14, 2)
    box = _extract(tmp_path, doc)[("figure", "1")].bbox
    assert box[1] <= image.y0 + 1 and box[3] <= cap.y0 + 2  # (the caption's glyphs start ~1 pt below cap.y0)
    assert box[3] < image.y1


def test_one_line_of_text_below_a_caption_is_no_table(tmp_path):
    # two ruled tables stacked in one column, each captioned below; under the second caption only a
    # single line of text: Table 2 is the table above its caption, and Table 1 keeps its own table
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    y = body_text(page, 72)
    t1 = booktabs(page, ONE, y + 10, ROWS)
    c1 = text_row(page, ONE[0], t1.y1 + 8, "Table 1: Methods and their costs in the first setting.", size=9)
    t2 = booktabs(page, ONE, c1.y1 + 16, ROWS)
    c2 = text_row(page, ONE[0], t2.y1 + 8, "Table 2: Methods and their costs in the second setting.", size=9)
    text_row(
        page, ONE[0], c2.y1 + 24, "time-consuming, challenging, and expensive, prior", size=9, font="tiit"
    )
    got = _extract(tmp_path, doc)
    b1, b2 = got[("table", "1")].bbox, got[("table", "2")].bbox
    assert b1[1] <= t1.y0 + 1 and t1.y1 - 1 <= b1[3] < c1.y0
    assert b2[1] <= t2.y0 + 1 and t2.y1 - 1 <= b2[3] < c2.y0


def test_document_side_of_table_captions_decides_between_table_and_notes(tmp_path):
    # four pages, a ruled table captioned below on each; on the last page two rows of notes follow the
    # caption: both sides hold text there, and the document's habit (tables above captions) decides
    doc = pymupdf.open()
    for n in (1, 2, 3, 4):
        page = doc.new_page(width=612, height=792)
        y = body_text(page, 72)
        table = booktabs(page, ONE, y + 10, ROWS)
        cap = text_row(
            page, ONE[0], table.y1 + 8, f"Table {n}: Methods and their costs in setting {n}.", size=9
        )
        y = cap.y1 + 16
        if n == 4:
            notes = text_row(page, ONE[0], cap.y1 + 10, "* measured on one core of the test machine", size=7)
            text_row(page, ONE[0], notes.y1 + 1, "\u2020 estimated from the published figures", size=7)
            y = notes.y1 + 30
        body_text(page, y, 2)
    box = _extract(tmp_path, doc)[("table", "4")].bbox
    assert box[1] <= table.y0 + 1 and table.y1 - 1 <= box[3] < cap.y0


def test_full_width_table_under_a_one_column_caption(tmp_path):
    # two columns of body text; a short caption in the left column above a table across both columns
    cols = ((54.0, 300.0), (312.0, 558.0))
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    y = max(body_text(page, 72, 2, col) for col in cols)
    cap = text_row(page, cols[0][0], y + 12, "Table 1 Summary of the studies", size=9)
    # each row one run of text across the gutter (as some typesetters write them)
    rows = [
        ("Reference      Year of publication      Age group      Country      Participants      Therapy",)
    ] + [
        (
            f"Study {i}         {1998 + i}         1{i}-{20 + i}         China         {10 * i + 3}         "
            "B+A+M Histology Marked anaemia Sequential",
        )
        for i in range(1, 8)
    ]
    table = booktabs(page, (54.0, 558.0), cap.y1 + 4, rows, size=7.5)
    box = _extract(tmp_path, doc)[("table", "1")].bbox
    assert box[0] <= 56 and box[2] >= 556 and box[3] >= table.y1 - 1


def test_table_rows_set_like_body_text_between_its_rules(tmp_path):
    # a manuscript table whose rows are plain sentences in the body font; the caption is below it
    doc = pymupdf.open()
    body_text(doc.new_page(width=612, height=792), 72, 4)
    page = doc.new_page(width=612, height=792)
    x0, x1 = 80.0, 500.0
    shape = page.new_shape()
    for yy in (120, 136, 400):
        shape.draw_line((x0, yy), (x1, yy))
    shape.finish(color=(0, 0, 0), width=0.5)
    shape.commit()
    text_row(page, x0 + 4, 122, "Concept           Definition")
    row = "Connectivity: a measure of robustness, the least number of elements to remove to isolate the nodes"
    y = 140
    while y < 385:  # rows as wide as body lines (so taken for body text), but short of the column's edge
        text_row(page, x0 + 4, y, row)
        y += 14.5
    cap = text_row(page, 130, 410, "Table 1: Main descriptors of the spatial networks used in this study.")
    text_row(page, 300, 740, "34")
    box = _extract(tmp_path, doc)[("table", "1")].bbox
    assert box[1] <= 121 and box[3] >= 399 and box[3] < cap.y0


def test_span_box_cut_short_above_is_rebuilt_from_the_ascender():
    # pymupdf reports the box of text under a clip path cut at the clip: 3.7 pt high for 7.9 pt type
    from scitune.curate.pdf.layout import _span

    raw = {
        "bbox": (73.4, 392.0, 92.3, 395.7),
        "origin": (73.4, 395.66),
        "size": 7.89,
        "ascender": 0.8,
        "descender": -0.2,
        "font": "LinLibertineT",
        "flags": 0,
        "text": "Fig. 7.",
    }
    span = _span(raw)
    assert abs(span.bbox[1] - (395.66 - 0.8 * 7.89)) < 0.01 and span.bbox[3] == 395.7
    whole = dict(raw, bbox=(73.4, 389.3, 92.3, 397.2))
    assert _span(whole).bbox == (73.4, 389.3, 92.3, 397.2)  # an ordinary box is kept as it is


def test_ruled_table_does_not_run_on_to_a_rule_of_the_page_footer(tmp_path):
    # a full-width table captioned above, its DOI line below, and a page footer with a rule of the same
    # width: the table ends at its own bottom rule and the DOI line
    doc = pymupdf.open()
    for n in (1, 2, 3):
        page = doc.new_page(width=612, height=792)
        shape = page.new_shape()
        shape.draw_line((ONE[0], 742), (ONE[1], 742))
        shape.finish(color=(0, 0, 0), width=0.5)
        shape.commit()
        text_row(
            page,
            ONE[0],
            748,
            f"PLOS ONE | https://doi.org/10.1371/journal.pone.0197919 June 13, 2018 {n}/3",
            size=7,
        )
        if n != 2:
            body_text(page, 72, 4)
            continue
        y = body_text(page, 72, 3)
        cap = text_row(
            page, ONE[0], y + 10, "Table 1. Fixed effects ANOVA results for relative damage.", size=9
        )
        table = booktabs(page, ONE, cap.y1 + 4, ROWS)
        doi = text_row(
            page, ONE[0], table.y1 + 4, "https://doi.org/10.1371/journal.pone.0197919.t001", size=7
        )
    box = _extract(tmp_path, doc)[("table", "1")].bbox
    assert box[1] <= table.y0 + 1 and box[3] >= table.y1 - 1 and box[3] <= doi.y1 + 4


def test_table_rows_spanning_the_column_with_wide_gaps_between_its_rules(tmp_path):
    # rows as wide as the column ("N  Local population size  X  X"): their wide gaps say table, not prose
    doc = pymupdf.open()
    body_text(doc.new_page(width=612, height=792), 72, 4)
    page = doc.new_page(width=612, height=792)
    shape = page.new_shape()
    for yy in (100, 116, 420):
        shape.draw_line((ONE[0] - 4, yy), (ONE[1] + 4, yy))
        shape.finish(color=(0, 0, 0), width=0.5)
    shape.commit()
    text_row(page, 150, 102, "Definition                Patch dynamics       Neutral       Species-sorting")
    y = 120
    while y < 405:
        text_row(page, ONE[0], y, "N")
        text_row(page, 90, y, "Local population size")
        for x in (350, 440, 525):
            text_row(page, x, y, "X")
        y += 14.5
    cap = text_row(page, 130, 430, "Table 2: List of variables, indices and parameters of the three models.")
    box = _extract(tmp_path, doc)[("table", "2")].bbox
    assert box[1] <= 101 and box[3] >= 419 and box[3] < cap.y0


def test_manuscript_figures_on_pages_of_their_own_after_the_legends(tmp_path):
    # page 1 body text, page 2 the figure legends, pages 3 and 4 one figure each marked only "Figure N"
    from pdfdraw import raster_png

    doc = pymupdf.open()
    body_text(doc.new_page(width=612, height=792), 72, 5)
    legends = doc.new_page(width=612, height=792)
    text_row(legends, ONE[0], 72, "Figure legends", size=14, font="tibo")
    y = 110
    for n, title in ((1, "Illustration of the four simulated landscapes."), (2, "A photograph of the cell.")):
        text_row(legends, ONE[0], y, f"Figure {n}", size=12, font="tibo")  # a lone label above its legend
        text_row(
            legends, ONE[0], y + 17, title + " The colour code represents the diversity simulated with a"
        )
        text_row(legends, ONE[0], y + 29, "neutral model. Simulations run 1000 time steps.")
        y += 80
    plot_page = doc.new_page(width=612, height=792)
    text_row(plot_page, ONE[0], 72, "Figure 1", size=12)
    plot = line_plot(plot_page, pymupdf.Rect(120, 120, 480, 420))
    image_page = doc.new_page(width=612, height=792)
    text_row(image_page, ONE[0], 72, "Figure 2", size=12)
    image = pymupdf.Rect(120, 120, 480, 360)
    image_page.insert_image(image, stream=raster_png(), keep_proportion=False)
    got = _extract(tmp_path, doc)
    f1, f2 = got[("figure", "1")], got[("figure", "2")]
    assert f1.caption_no_index.startswith("Illustration of the four") and f1.page == 3
    assert f1.caption_no_index.endswith("with a neutral model. Simulations run 1000 time steps.")
    assert f1.bbox[1] >= 85 and abs(f1.bbox[1] - plot.y0) < 3 and abs(f1.bbox[3] - plot.y1) < 3
    assert f2.page == 4 and abs(f2.bbox[0] - image.x0) < 2 and abs(f2.bbox[3] - image.y1) < 2


def test_prose_under_a_figure_caption_is_not_the_figure(tmp_path):
    # nothing above the caption but body text; below it, the caption's description in smaller type
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    y = body_text(page, 72, 2)
    cap = text_row(
        page, ONE[0], y + 6, "Figure 4. A high-recall version of the extractor.", size=9, font="tiit"
    )
    y = cap.y1 + 4
    for line in (
        "An earlier version of the extractor found two tuples with high confidence in the sentence",
        "of Figure 1; a high-recall extension was needed to find the tuples that included the team.",
    ):
        y = text_row(page, ONE[0], y, line, size=7.5).y1 + 1
    body_text(page, y + 16, 2)
    assert _extract(tmp_path, doc)[("figure", "4")].bbox is None


def test_shaded_box_of_body_text_right_above_its_caption(tmp_path):
    # a grey box holding text set in the body font (a boxed example): the box is the figure
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    y = body_text(page, 72, 2)
    box = pymupdf.Rect(ONE[0], y + 10, ONE[1], y + 170)
    shape = page.new_shape()
    shape.draw_rect(box + (3, 3, 3, 3))
    shape.finish(fill=(0.55, 0.55, 0.55), color=None)  # the shadow
    shape.draw_rect(box)
    shape.finish(fill=(0.9, 0.9, 0.92), color=(0.5, 0.5, 0.5), width=0.5)
    shape.commit()
    body_text(page, box.y0 + 20, 1, (box.x0 + 20, box.x1 - 20))
    cap = text_row(
        page, 200, box.y1 + 10, "Figure 6: Example rules for the scoring domain.", size=9, font="tiit"
    )
    body_text(page, cap.y1 + 16, 2)
    got = _extract(tmp_path, doc)[("figure", "6")].bbox
    assert got is not None and abs(got[1] - box.y0) < 2 and got[3] <= cap.y0 + 1 and got[3] >= box.y1 - 1


def test_caption_printed_inside_a_screenshot_is_not_a_caption(tmp_path):
    # page 2 shows a screenshot of another paper whose own "Figure 1." caption (4.5 pt, bold) is part of
    # the picture: the document's Figure 1 is the one on page 1, and Figure 3 is the whole screenshot
    from pdfdraw import raster_png

    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    plot = line_plot(page, pymupdf.Rect(150, 72, 460, 260))
    text_row(page, ONE[0], 272, "Figure 1: The document creation and representation of the toolkit.", size=9)
    body_text(page, 300, 3)
    page = doc.new_page(width=612, height=792)
    shot = pymupdf.Rect(120, 72, 500, 330)
    page.insert_image(shot, stream=raster_png())
    text_row(
        page,
        330,
        180,
        "Figure 1. Revolt creates labels for unanimously labeled items.",
        size=4.5,
        font="tibo",
    )
    cap = text_row(
        page, ONE[0], 342, "Figure 3: Illustrates how entities can be accessed in different ways.", size=9
    )
    body_text(page, cap.y1 + 14, 3)
    got = _extract(tmp_path, doc)
    assert got[("figure", "1")].page == 1 and got[("figure", "1")].bbox[1] <= plot.y0 + 2
    box = got[("figure", "3")].bbox
    assert abs(box[1] - shot.y0) < 2 and abs(box[3] - shot.y1) < 2


def test_ruled_table_stops_at_an_empty_stretch_below_a_page_head_rule(tmp_path):
    # a rule under the (empty) page head, as wide as the table: nothing but white space lies between it
    # and the table's top rule, so it is no rule of the table
    doc = pymupdf.open()
    for n in (1, 2):
        page = doc.new_page(width=612, height=792)
        shape = page.new_shape()
        shape.draw_line((ONE[0], 40), (ONE[1], 40))
        shape.finish(color=(0, 0, 0), width=0.5)
        shape.commit()
        if n == 1:
            body_text(page, 72, 4)
            continue
        table = booktabs(page, ONE, 80, ROWS)
        cap = text_row(
            page, ONE[0], table.y1 + 8, "Table 2: Experiment settings of all environments.", size=9
        )
        body_text(page, cap.y1 + 14, 3)
    box = _extract(tmp_path, doc)[("table", "2")].bbox
    assert abs(box[1] - table.y0) < 2 and table.y1 - 1 <= box[3] < cap.y0


def test_rule_under_the_running_head_is_not_part_of_a_figure_at_the_page_top(tmp_path):
    # journal style (PLOS and others): a running head with a page-wide rule right under it, and a
    # raster figure set at the top of the text column; the rule must not pull the figure up and left
    doc = pymupdf.open()
    for n in (1, 2, 3):
        page = doc.new_page(width=612, height=792)
        text_row(page, 330, 40, HEAD, size=9, font="helv")
        shape = page.new_shape()
        shape.draw_line((36, 60), (576, 60))
        shape.finish(color=(0, 0, 0), width=0.5)
        shape.commit()
        text_row(page, 300, 750, str(n))
        y = 80
        if n == 2:
            image = pymupdf.Rect(150, 78, 460, 280)
            page.insert_image(image, stream=raster_png(), keep_proportion=False)
            cap = text_row(
                page, ONE[0], 290, "Figure 1. A raster figure set right under the running head rule."
            )
            y = cap.y1 + 20
        body_text(page, y, 3)
    box = _extract(tmp_path, doc)[("figure", "1")].bbox
    assert abs(box[0] - image.x0) < 2 and abs(box[1] - image.y0) < 2 and abs(box[2] - image.x1) < 2
    assert image.y1 - 2 <= box[3] < cap.y0


def test_table_top_rule_just_under_a_page_number_stays_with_its_table(tmp_path):
    # the page number sits in the margin left of the table: a rule that does not span the running
    # head is the table's own top rule, however close it is to the head
    doc = pymupdf.open()
    for n in (1, 2, 3):
        page = doc.new_page(width=612, height=792)
        text_row(page, 60, 72, str(n), size=9)
        y = 100
        if n == 2:
            table = booktabs(page, (110, 500), 94, ROWS)
            cap = text_row(
                page, ONE[0], table.y1 + 8, "Table 2. Post-hoc tests between the interfaces.", size=9
            )
            y = cap.y1 + 14
        body_text(page, y, 3)
    box = _extract(tmp_path, doc)[("table", "2")].bbox
    assert table.y0 - 2 < box[1] <= table.y0 and table.y1 - 1 <= box[3] < cap.y0  # the top rule is in
