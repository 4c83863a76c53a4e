"""Float regions from captions, graphics and text rows, on synthetic pages (no PDF needed)."""

from __future__ import annotations

from scitune.curate.pdf.captions import Caption
from scitune.curate.pdf.layout import DocStats, PageText, Row, Span
from scitune.curate.pdf.regions import Element, Graphics, page_regions

TWO_COLUMNS = DocStats(
    body_size=10,
    body_fonts={"Times"},
    text_x0=50,
    text_x1=560,
    columns=[(50, 295), (315, 560)],
    line_height=12,
)
ONE_COLUMN = DocStats(
    body_size=10, body_fonts={"Times"}, text_x0=70, text_x1=540, columns=[(70, 540)], line_height=12
)


def row(x0, y0, x1, y1, role="other", text="text") -> Row:
    r = Row(
        0,
        x0,
        y0,
        x1,
        y1,
        spans=[Span(text, "Times", 10, False, (x0, y0, x1, y1))],
        block=0,
        index_in_block=0,
        role=role,
        text=text,
        size=10,
        font="Times",
    )
    r.baseline = y1 - 2
    return r


def body(x0, x1, y0, n) -> list[Row]:
    return [
        row(x0, y0 + 12 * i, x1, y0 + 12 * i + 10, "body", "body text of the paper goes on") for i in range(n)
    ]


def caption(kind, number, rows) -> Caption:
    for r in rows:
        r.role = "caption"
    return Caption(kind, number, 0, rows, f"{kind} {number}", "", 5.0)


def regions(stats, rows, graphics, captions):
    page = PageText(0, 612, 792, rows)
    got = page_regions(page, captions, stats, Graphics(elements=graphics))
    return {(c.kind, c.number): got[id(c)] for c in captions}


def test_figure_above_caption_stops_at_body_text():
    above = body(70, 540, 60, 5)  # body text above the figure: a blocker
    plot = Element((120, 140, 480, 330), "path")
    ticks = row(100, 332, 490, 340, text="0 10 20 30")  # tick labels below the axes
    cap = caption("figure", "1", [row(70, 352, 540, 362, text="Figure 1: ...")])
    below = body(70, 540, 380, 5)
    got = regions(ONE_COLUMN, above + [ticks] + cap.rows + below, [plot], [cap])
    assert got[("figure", "1")] == (100, 140, 490, 340)


def test_table_caption_above_and_figure_caption_below_share_the_space():
    # Table 1: caption, then its rows; then Figure 2's plot, then its caption (stacked in one column)
    t_cap = caption("table", "1", [row(70, 60, 540, 70, text="Table 1: ...")])
    cells = [row(100, 80 + 14 * i, 500, 90 + 14 * i, text="a  1.0  2.0") for i in range(4)]
    plot = Element((120, 160, 480, 300), "path")
    f_cap = caption("figure", "2", [row(70, 312, 540, 322, text="Figure 2: ...")])
    got = regions(ONE_COLUMN, t_cap.rows + cells + f_cap.rows + body(70, 540, 340, 4), [plot], [t_cap, f_cap])
    assert got[("table", "1")] == (100, 80, 500, 132)
    assert got[("figure", "2")] == (120, 160, 480, 300)


def test_table_captioned_below_over_a_figure_captioned_below():
    # the table's own rows sit above its caption, so it must not take the figure below it
    cells = [row(100, 60 + 14 * i, 500, 70 + 14 * i, text="a  1.0  2.0") for i in range(3)]
    t_cap = caption("table", "1", [row(70, 110, 540, 120, text="Table 1: ...")])
    plot = Element((120, 150, 480, 290), "path")
    f_cap = caption("figure", "2", [row(70, 305, 540, 315, text="Figure 2: ...")])
    got = regions(ONE_COLUMN, cells + t_cap.rows + f_cap.rows + body(70, 540, 340, 4), [plot], [t_cap, f_cap])
    assert got[("table", "1")] == (100, 60, 500, 98)
    assert got[("figure", "2")] == (120, 150, 480, 290)


def test_side_by_side_figures_in_two_columns():
    left_img = Element((60, 80, 285, 220), "image")
    right_img = Element((325, 80, 550, 220), "image")
    left_cap = caption("figure", "1", [row(50, 230, 295, 240, text="Figure 1: ...")])
    right_cap = caption("figure", "2", [row(315, 230, 560, 240, text="Figure 2: ...")])
    rows = left_cap.rows + right_cap.rows + body(50, 295, 260, 5) + body(315, 560, 260, 5)
    got = regions(TWO_COLUMNS, rows, [left_img, right_img], [left_cap, right_cap])
    assert got[("figure", "1")] == left_img.rect
    assert got[("figure", "2")] == right_img.rect


def test_short_caption_under_a_full_width_figure():
    wide = Element((60, 80, 550, 260), "image")
    cap = caption("figure", "3", [row(50, 270, 200, 280, text="Fig. 3. Short.")])
    rows = cap.rows + body(50, 295, 300, 5) + body(315, 560, 300, 5)
    assert regions(TWO_COLUMNS, rows, [wide], [cap])[("figure", "3")] == wide.rect


def test_side_caption_beside_its_figure():
    plot = Element((60, 80, 380, 260), "path")
    cap_rows = [
        row(395, 90 + 11 * i, 560, 99 + 11 * i, text="Fig. 4. Caption set beside the figure")
        for i in range(6)
    ]
    cap = caption("figure", "4", cap_rows)
    rows = cap.rows + body(50, 295, 300, 5) + body(315, 560, 300, 5)
    assert regions(TWO_COLUMNS, rows, [plot], [cap])[("figure", "4")] == plot.rect


def test_caption_without_any_graphic_gets_no_region():
    cap = caption("figure", "5", [row(70, 300, 540, 310, text="Figure 5: ...")])
    rows = body(70, 540, 60, 19) + cap.rows + body(70, 540, 330, 10)
    assert regions(ONE_COLUMN, rows, [], [cap])[("figure", "5")] is None
