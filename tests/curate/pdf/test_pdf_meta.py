"""arXiv id and licence read from page 1."""

from __future__ import annotations

import pytest

from scitune.curate.pdf.layout import PageText, Row
from scitune.curate.pdf.meta import arxiv_id, license_of


def _page(*rows: tuple[str, bool, float]) -> PageText:
    made = [
        Row(0, 50, y, 500, y + 10, spans=[], block=i, index_in_block=0, horizontal=h, text=t)
        for i, (t, h, y) in enumerate(rows)
    ]
    return PageText(0, 612, 792, made)


@pytest.mark.parametrize(
    "stamp, expected",
    [
        ("arXiv:2307.01139v2 [cs.CL] 3 Jul 2023", "2307.01139v2"),
        ("arXiv:1501.00001v1 [astro-ph.GA] 30 Dec 2014", "1501.00001v1"),
        ("arXiv:hep-th/9901001v1 4 Jan 1999", "hep-th/9901001v1"),
        (
            "arXiv:math.AG/0309136v2 [math.AG] 10 Sep 2003",
            "math.AG/0309136v2",
        ),  # old style with subject class
        ("arXiv:cond-mat/0102536v1 [cond-mat.stat-mech] 28 Feb 2001", "cond-mat/0102536v1"),
    ],
)
def test_arxiv_stamp_in_the_margin(stamp, expected):
    page = _page(("A title", True, 80), (stamp, False, 300))
    assert arxiv_id(page) == expected


def test_cited_arxiv_ids_are_ignored():
    body = "as shown by Smith (arXiv:2101.00001) and others"
    assert arxiv_id(_page(("A title", True, 80), (body, True, 400))) is None
    # a horizontal stamp with its category counts
    assert arxiv_id(_page(("arXiv:2101.00001v3 [stat.ML] 1 Feb 2021", True, 400))) == "2101.00001v3"
    assert arxiv_id(None) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "This article is licensed under a Creative Commons Attribution 4.0 International License.",
            "CC-BY-4.0",
        ),
        (
            "Published under the Creative Commons Attribution-NonCommercial-ShareAlike 4.0 licence",
            "CC-BY-NC-SA-4.0",
        ),
        ("licensed under CC BY-NC-ND 4.0", "CC-BY-NC-ND-4.0"),
        ("Distributed under a CC-BY 3.0 license", "CC-BY-3.0"),
        ("This work is dedicated to the public domain under CC0.", "CC0-1.0"),
        ("arXiv.org perpetual, non-exclusive license", "arXiv-nonexclusive-1.0"),
        ("Copyright 2020 the authors. All rights reserved.", None),
        ("We thank the Creative Commons community.", None),
    ],
)
def test_licence_statements(text, expected):
    assert license_of(_page(("Title", True, 80), (text, True, 700))) == expected
