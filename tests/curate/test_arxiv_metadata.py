"""arXiv ids in every pasted form, licence normalisation, the metadata snapshot, and licence filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scitune.curate.arxiv.attach import attach_metadata
from scitune.curate.arxiv.identifiers import ArxivId, arxiv_id_from_name, parse_arxiv_id
from scitune.curate.arxiv.licenses import (
    PERMISSIVE,
    dataset_license_text,
    license_choices,
    normalize_license,
)
from scitune.curate.arxiv.snapshot import read_records, select
from scitune.curate.filters import Criteria
from scitune.curate.inputs import Document
from tests.curate.sample_figures import figure_row

# Twenty lines in the layout of arxiv-metadata-oai-snapshot.json (made-up papers; the licence URLs are
# the forms arXiv records, old http:// and version-3.0 ones included).
LICENSES = [
    ("http://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
    ("http://creativecommons.org/licenses/by-sa/4.0/", "CC-BY-SA-4.0"),
    ("http://creativecommons.org/licenses/by-nc-sa/4.0/", "CC-BY-NC-SA-4.0"),
    ("http://creativecommons.org/licenses/by-nc-nd/4.0/", "CC-BY-NC-ND-4.0"),
    ("http://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
    ("http://arxiv.org/licenses/nonexclusive-distrib/1.0/", "arXiv-nonexclusive-1.0"),
    ("http://creativecommons.org/licenses/by/3.0/", "CC-BY-3.0"),
    ("http://creativecommons.org/licenses/by-nc-sa/3.0/", "CC-BY-NC-SA-3.0"),
    ("http://creativecommons.org/licenses/publicdomain/", "CC-PDDC"),
    (None, "arXiv-assumed-1991-2003"),
    ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
    ("http://arxiv.org/licenses/assumed-1991-2003/", "arXiv-assumed-1991-2003"),
    ("http://creativecommons.org/licenses/by-sa/3.0/", "CC-BY-SA-3.0"),
    ("https://arxiv.org/licenses/nonexclusive-distrib/1.0/", "arXiv-nonexclusive-1.0"),
    ("http://creativecommons.org/licenses/by-nc/4.0/", "CC-BY-NC-4.0"),
    ("http://creativecommons.org/licenses/by-nd/4.0/", "CC-BY-ND-4.0"),
    ("http://www.creativecommons.org/licenses/by/4.0/legalcode", "CC-BY-4.0"),
    ("http://creativecommons.org/licenses/by-nc-sa/4.0/", "CC-BY-NC-SA-4.0"),
    ("http://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
    ("http://arxiv.org/licenses/nonexclusive-distrib/1.0/", "arXiv-nonexclusive-1.0"),
]
CATEGORIES = ["cs.CV cs.LG", "cs.CL", "hep-th", "math.AG math.GT", "cs.CV"]


def snapshot_line(n: int, url: str | None) -> dict:
    old = n in (9, 11)
    return {
        "id": f"hep-th/99{n:05d}" if old else f"23{n % 12 + 1:02d}.{n:05d}",
        "submitter": "Jane Doe",
        "authors": "Jane Doe, J. Q. Public and A. N. Other",
        "title": f"Paper {n} on\n  figures",
        "comments": "This paper has been withdrawn" if n == 4 else "12 pages, 4 figures",
        "journal-ref": None,
        "doi": f"10.1000/x{n}" if n % 3 == 0 else None,
        "report-no": None,
        "categories": "hep-th" if old else CATEGORIES[n % len(CATEGORIES)],
        "license": url,
        "abstract": f"  We present paper {n}.\n",
        "versions": [
            {
                "version": "v1",
                "created": f"Mon, {n + 1} Jan 2023 10:00:00 GMT"
                if not old
                else "Mon, 4 Jan 1999 1:00:00 GMT",
            },
            {"version": "v2", "created": "Tue, 7 Feb 2023 11:00:00 GMT"},
        ][: 1 + n % 2],
        "update_date": "2023-02-07",
        "authors_parsed": [["Doe", "Jane", ""], ["Public", "J. Q.", ""], ["Other", "A. N.", "Jr"]],
    }


@pytest.fixture
def snapshot(tmp_path) -> Path:
    path = tmp_path / "arxiv-metadata-oai-snapshot.json"
    path.write_text("".join(json.dumps(snapshot_line(n, url)) + "\n" for n, (url, _) in enumerate(LICENSES)))
    return path


def test_snapshot_lines_normalise_their_licences(snapshot):
    records = list(read_records(snapshot))
    assert len(records) == 20
    assert [r.license for r in records] == [lic for _, lic in LICENSES]
    r = records[1]
    assert (r.id, r.version, r.paper_id) == ("2302.00001", 2, "2302.00001v2")
    assert r.title == "Paper 1 on figures" and r.abstract == "We present paper 1."
    assert r.authors == ["Jane Doe", "J. Q. Public", "A. N. Other Jr"]
    assert r.published == "2023-01-02" and r.categories == ["cs.CL"]
    assert records[4].withdrawn and not records[5].withdrawn
    assert records[9].paper_id == "hep-th/9900009v2" and records[9].published == "1999-01-04"


def test_snapshot_selection_by_category_date_and_licence(snapshot):
    chosen = list(
        select(read_records(snapshot), {"cs.CV"}, "2023-01-01", "2023-01-15", license_choices(["permissive"]))
    )
    # cs.CV lines: n = 0, 4, 5, 10, 14, 15, 19 (n % 5 in {0, 4}), all first submitted in range; permissive
    # among them: 0 (CC-BY-4.0), 4 (CC0-1.0), 10 (CC-BY-4.0, https URL); 5 and 19 are arXiv's licence,
    # 14 NC, 15 ND
    assert [r.id for r in chosen] == ["2301.00000", "2305.00004", "2311.00010"]
    assert all(r.license in PERMISSIVE for r in chosen)
    whole_archive = list(select(read_records(snapshot), {"math"}))
    assert {r.categories[0] for r in whole_archive} == {"math.AG"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2307.01139", ArxivId("2307.01139")),
        ("2307.01139v2", ArxivId("2307.01139", 2)),
        ("arXiv:2307.01139", ArxivId("2307.01139")),
        ("arxiv: 2307.01139v12", ArxivId("2307.01139", 12)),
        ("hep-th/9901001", ArxivId("hep-th/9901001")),
        ("math.GT/0309136v1", ArxivId("math.GT/0309136", 1)),
        ("https://arxiv.org/abs/2307.01139v2", ArxivId("2307.01139", 2)),
        ("http://export.arxiv.org/abs/hep-th/9901001", ArxivId("hep-th/9901001")),
        ("https://arxiv.org/pdf/2307.01139v1.pdf", ArxivId("2307.01139", 1)),
        ("https://arxiv.org/pdf/2307.01139", ArxivId("2307.01139")),
        ("arxiv.org/abs/0704.0001", ArxivId("0704.0001")),
        ("10.48550/arXiv.2307.01139", ArxivId("2307.01139")),
        ("https://doi.org/10.48550/arXiv.2307.01139", ArxivId("2307.01139")),
        (" 2307.01139 ", ArxivId("2307.01139")),
        ("2307.0113", None),
        ("see 2307.01139", None),
        ("https://example.org/abs/2307.01139", None),
        ("not-an-id", None),
        ("", None),
    ],
)
def test_pasted_ids(text, expected):
    assert parse_arxiv_id(text) == expected


@given(
    st.from_regex(r"(0[7-9]|1[0-4])(0[1-9]|1[0-2])\.\d{4}", fullmatch=True)
    | st.from_regex(r"(1[5-9]|2\d)(0[1-9]|1[0-2])\.\d{5}", fullmatch=True)
    | st.from_regex(r"(hep-th|cond-mat|math\.AG)/\d{7}", fullmatch=True),
    st.one_of(st.none(), st.integers(1, 30)),
)
def test_file_name_form_maps_back(base, version):
    aid = ArxivId(base, version)
    for suffix in (".pdf", ".tar.gz", ".tex.gz"):
        assert "/" not in aid.stem
        assert arxiv_id_from_name(aid.stem + suffix) == aid.versioned
        assert parse_arxiv_id(f"https://arxiv.org/abs/{aid.versioned}") == aid


@pytest.mark.parametrize(
    "value, expected",
    [
        ("CC-BY-4.0", "CC-BY-4.0"),
        ("cc by 4.0", "CC-BY-4.0"),
        ("CC BY-NC-SA 4.0", "CC-BY-NC-SA-4.0"),
        ("cc0", "CC0-1.0"),
        ("creativecommons.org/licenses/by/3.0/us/", "CC-BY-3.0"),
        ("MIT", "MIT"),  # not recognised: kept as given, never guessed
        ("", None),
        (None, None),
    ],
)
def test_licence_spellings(value, expected):
    assert normalize_license(value) == expected


def test_license_choices_and_filters():
    assert license_choices(["permissive"]) == set(PERMISSIVE)
    assert license_choices(["http://creativecommons.org/licenses/by-sa/4.0/", "unknown"]) == {
        "CC-BY-SA-4.0",
        "unknown",
    }
    rows = [
        figure_row("2301.00001v1", 1, license="CC-BY-4.0"),
        figure_row("2301.00002v1", 1, license="CC-BY-NC-SA-4.0"),
        figure_row("2301.00003v1", 1, license="arXiv-nonexclusive-1.0"),
        figure_row("2301.00004v1", 1, license=None),
    ]
    keep = Criteria(licenses={"permissive"}).keep
    assert [r["paper_id"] for r in rows if keep(r)] == ["2301.00001v1"]
    keep = Criteria(licenses={"cc by-nc-sa 4.0", "unknown"}).keep
    assert [r["paper_id"] for r in rows if keep(r)] == ["2301.00002v1", "2301.00004v1"]


def test_card_licence_text():
    assert "the dataset is under `CC-BY-4.0`" in dataset_license_text({"CC-BY-4.0": 2}, {"CC-BY-4.0": 5})
    mixed = dataset_license_text({"CC-BY-4.0": 1, "CC-BY-SA-4.0": 1}, {"CC-BY-4.0": 3, "CC-BY-SA-4.0": 1})
    assert "permissive licence" in mixed and "must keep that licence" in mixed and "Warning" not in mixed
    bad = dataset_license_text({"CC-BY-4.0": 1, "unknown": 1}, {"CC-BY-4.0": 3, "unknown": 1})
    assert "Warning: 1 of 4 rows (25%)" in bad and "--license permissive" in bad
    assert "allows only what its most restrictive rows allow: no right to redistribute" in bad
    nc = dataset_license_text({"CC-BY-4.0": 1, "CC-BY-NC-ND-4.0": 1}, {"CC-BY-4.0": 1, "CC-BY-NC-ND-4.0": 1})
    assert "non-commercial use only; no adapted versions." in nc


def test_attach_joins_by_id_and_version(tmp_path, snapshot):
    def doc(name: str, stem: str) -> Document:
        return Document(pdf=tmp_path / name, key=name, stem_id=stem)

    docs = [
        doc("2302.00001v2.pdf", "2302.00001v2"),  # matches the record's version
        doc("2302.00001v1.pdf", "2302.00001v1"),  # another version: its licence may differ, no join
        doc("2301.00000.pdf", "2301.00000"),  # no version in the name: joined, version unknown
        doc("mine.pdf", "mine"),
    ]
    left_out = attach_metadata(docs, [snapshot], license_choices(["permissive"]), default_license="MIT")
    assert docs[0].metadata["license"] == "CC-BY-SA-4.0"
    assert docs[0].metadata["paper"]["title"] == "Paper 1 on figures"
    assert docs[1].metadata is None and docs[2].metadata["license"] == "CC-BY-4.0"
    assert docs[2].stem_id == "2301.00000"  # the record does not name this file: no version is invented
    assert [d.pdf.name for d in left_out] == [
        "2302.00001v1.pdf",
        "mine.pdf",
    ]  # unknown and MIT not permissive


def test_exports_keep_only_the_chosen_licences(tmp_path):
    from scitune.curate.exports import export
    from scitune.curate.instructions import build_instructions
    from tests.curate.sample_figures import make_out

    out = make_out(tmp_path / "OUT")  # papers under CC-BY-4.0 and MIT
    build_instructions(out, progress=False)
    llava = export("llava", out, tmp_path / "llava", licenses=license_choices(["permissive"]))
    ids = [r["id"] for r in json.loads((tmp_path / "llava" / "llava.json").read_text())]
    assert llava.rows == len(ids) > 0 and all(i.startswith("2001.00001v1/") for i in ids)
    scicap = export("scicap", out, tmp_path / "scicap", licenses={"MIT"})
    images = json.loads((tmp_path / "scicap" / "scicap.json").read_text())["images"]
    assert scicap.rows == 2 and {im["paper_id"] for im in images} == {"1905.12345v2"}


def test_validator_checks_the_paper_struct():
    from scitune.schemas import validate_row

    good = {
        "title": "T",
        "authors": ["A B"],
        "abstract": None,
        "categories": ["cs.CV"],
        "published": "2023-07-03",
        "doi": None,
    }
    assert validate_row(figure_row("2301.00001v1", 1, paper=good)) == []
    assert validate_row(figure_row("2301.00001v1", 1, paper=None)) == []
    bad = {**good, "title": " ", "published": "3 Jul 2023", "authors": [""]}
    assert validate_row(figure_row("2301.00001v1", 1, paper=bad)) == [
        "paper.title is empty",
        "paper.published '3 Jul 2023' is not a YYYY-MM-DD date",
        "paper.authors holds an empty name",
    ]
