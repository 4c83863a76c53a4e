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
