"""paper_id and figure_id: the rules of curate/ids.py on hand-made cases."""

from __future__ import annotations

import pytest

from scitune.curate import ids
from scitune.curate.document import Result
from scitune.curate.runner import _claim_paper_id


def test_name_id_prefers_an_arxiv_id_over_the_stem():
    assert ids.name_paper_id([None, "2307.01139v2"], "scitune") == "2307.01139v2"
    assert ids.name_paper_id([None, None], "scitune") == "scitune"


def test_pdf_stamp_replaces_only_a_plain_stem():
    assert ids.with_pdf_stamp("scitune", "scitune", False, "2307.01139v2") == "2307.01139v2"
    assert ids.with_pdf_stamp("2307.01139v1", "2307.01139v1", True, "2307.01139v2") == "2307.01139v1"
    # made unique by the planner: kept, since another input holds the plain stem
    assert ids.with_pdf_stamp("scitune-abcdef01", "scitune", False, "2307.01139v2") == "scitune-abcdef01"
    assert ids.with_pdf_stamp("scitune", "scitune", False, None) == "scitune"


def test_unique_paper_id_suffixes_the_key_for_other_content_only():
    owner: dict[str, str] = {}
    assert ids.unique_paper_id("p", "a" * 64, owner) == "p"
    assert ids.unique_paper_id("p", "a" * 64, owner) == "p"  # the same input again
    assert ids.unique_paper_id("p", "b" * 64, owner) == "p-bbbbbbbb"
    assert owner == {"p": "a" * 64, "p-bbbbbbbb": "b" * 64}


def test_figure_id_and_its_move_to_a_new_paper_id():
    fid = ids.figure_id("hep-th/9901001v1", "figure", "S2.1")
    assert fid == "hep-th/9901001v1/figureS2.1"
    assert ids.move_figure_id(fid, "hep-th/9901001v1", "hep-th/9901001v1-0123abcd") == (
        "hep-th/9901001v1-0123abcd/figureS2.1"
    )
    with pytest.raises(ValueError):
        ids.move_figure_id(fid, "other", "new")


def test_runner_renames_every_row_of_a_paper_whose_stamp_collides():
    owner = {"2307.01139v2": "k" * 64}
    result = Result(
        "c" * 64,
        "2307.01139v2",
        figures=[{"paper_id": "2307.01139v2", "figure_id": "2307.01139v2/figure1"}],
        errors=[
            {"paper_id": "2307.01139v2", "figure_id": "2307.01139v2/table2"},
            {"paper_id": "2307.01139v2", "figure_id": None},
        ],
    )
    _claim_paper_id(result, owner)
    assert result.paper_id == "2307.01139v2-cccccccc"
    assert [r["figure_id"] for r in result.figures + result.errors] == [
        "2307.01139v2-cccccccc/figure1",
        "2307.01139v2-cccccccc/table2",
        None,
    ]
    assert {r["paper_id"] for r in result.figures + result.errors} == {"2307.01139v2-cccccccc"}
