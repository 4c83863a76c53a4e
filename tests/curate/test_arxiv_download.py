"""`download` against a loopback arXiv look-alike (tests/curate/fakearxiv.py): formats, etiquette, resume."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from scitune.curate.arxiv import atom
from scitune.curate.arxiv.client import Client
from scitune.curate.arxiv.download import Selection, download
from scitune.curate.inputs import plan_inputs
from tests.curate.fakearxiv import FakeArxiv, FakePaper
from tests.curate.hostile import write_tex_bundle
from tests.curate.papers import make_paper

DELAY = 0.25  # a loopback mirror may be asked faster than arXiv's 3 s (the client allows it off arXiv's host)
SINGLE_TEX = (
    b"\\documentclass{article}\n\\begin{document}\nOld physics. Table~\\ref{t} lists it.\n"
    b"\\begin{table}\\caption{Couplings.}\\label{t}\\begin{tabular}{cc}a&b\\end{tabular}\\end{table}\n"
    b"\\end{document}\n"
)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("fixtures")
    return {
        "a.pdf": make_paper(d / "a.pdf", seed=1).read_bytes(),
        "b.pdf": make_paper(d / "b.pdf", seed=2, figures=1).read_bytes(),
        "c.pdf": make_paper(d / "c.pdf", seed=3, figures=1).read_bytes(),
        "e.pdf": make_paper(d / "e.pdf", seed=4, figures=1).read_bytes(),
        "a.tar.gz": write_tex_bundle(d).read_bytes(),
    }


def papers(files) -> list[FakePaper]:
    return [
        FakePaper(
            "2307.01139",
            "Scientific figures, aligned",
            versions=2,
            authors=[("Horawalavithana", "Sameera"), ("Munikoti", "Sai")],
            doi="10.0000/example.1",
            pdf=files["a.pdf"],
            eprint=files["a.tar.gz"],
        ),
        FakePaper(
            "2401.00002",
            "A PDF-only submission",
            license_url="http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
            created="2024-01-02",
            datestamp="2024-01-03",
            pdf=files["b.pdf"],
            eprint=files["b.pdf"],
            eprint_type="application/pdf",
        ),
        FakePaper(
            "hep-th/9901001",
            "Strings, old style",
            categories=["hep-th"],
            license_url=None,  # no licence recorded: arXiv's assumed 1991-2003 licence
            created="1999-01-04",
            datestamp="2008-02-01",
            pdf=files["c.pdf"],
            eprint=gzip.compress(SINGLE_TEX),
            eprint_type="application/x-eprint",
        ),
        FakePaper(
            "2402.00003",
            "A withdrawn paper",
            versions=2,
            comment="This paper has been withdrawn by the author due to an error in Theorem 2",
            created="2024-02-01",
            datestamp="2024-02-05",
        ),
        FakePaper(
            "2403.00004",
            "Non-commercial figures",
            license_url="https://creativecommons.org/licenses/by-nc-sa/4.0/",
            created="2024-03-01",
            datestamp="2024-03-02",
            pdf=files["e.pdf"],
            eprint=None,
        ),
    ]


def records(folder: Path) -> dict[str, dict]:
    lines = (folder / "metadata.jsonl").read_text().splitlines()
    return {json.loads(line)["id"]: json.loads(line) for line in lines}


def gaps(fake: FakeArxiv) -> list[float]:
    times = [t for t, _, _, _ in fake.log]
    return [b - a for a, b in zip(times, times[1:])]


def test_ids_in_every_form_files_saved_for_pairing(tmp_path, files):
    with FakeArxiv(papers(files)) as fake:
        ids = [
            "https://arxiv.org/abs/2307.01139",
            "arXiv:2401.00002",
            "hep-th/9901001",
            "2402.00003",
            "2409.99999",  # well formed, but no such paper
            "not-an-id",
        ]
        summary = download(tmp_path, Selection(ids=ids), base_url=fake.url, delay=DELAY, progress=False)
        assert all(g >= DELAY - 0.01 for g in gaps(fake)), gaps(fake)  # the user's address depends on it
        assert all(ua.startswith("scitune/") and "download" in ua for _, _, _, ua in fake.log)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "2307.01139v2.pdf",
        "2307.01139v2.tar.gz",
        "2401.00002v1.pdf",
        "hep-th9901001v1.pdf",
        "hep-th9901001v1.tex.gz",
        "metadata.jsonl",
    ]
    assert (tmp_path / "2307.01139v2.tar.gz").read_bytes() == files["a.tar.gz"]  # not un-gzipped on the way
    assert gzip.decompress((tmp_path / "hep-th9901001v1.tex.gz").read_bytes()) == SINGLE_TEX
    assert summary.not_found == ["2409.99999"] and summary.invalid == ["not-an-id"]
    assert summary.withdrawn == ["2402.00003v2"] and summary.pdf_only == 1 and summary.downloaded == 3
    meta = records(tmp_path)
    a = meta["2307.01139"]
    assert (a["paper_id"], a["version"], a["license"]) == ("2307.01139v2", 2, "CC-BY-4.0")
    assert a["license_url"] == "http://creativecommons.org/licenses/by/4.0/"
    assert a["title"] == "Scientific figures, aligned (wrapped)" and a["abstract"] == "We study things."
    assert a["authors"] == ["Sameera Horawalavithana", "Sai Munikoti"] and a["doi"] == "10.0000/example.1"
    assert a["categories"] == ["cs.CV"] and a["published"] == "2023-07-03"
    assert a["files"]["source_format"] == "tar.gz"
    assert meta["2401.00002"]["license"] == "arXiv-nonexclusive-1.0"
    assert (
        meta["2401.00002"]["files"]["source_format"] == "pdf" and "source" not in meta["2401.00002"]["files"]
    )
    assert meta["hep-th/9901001"]["license"] == "arXiv-assumed-1991-2003"
    assert meta["hep-th/9901001"]["license_url"] is None
    assert meta["2402.00003"]["withdrawn"] and meta["2402.00003"]["files"] == {}
    # extract pairs what download saved, old-style ids included
    plan = plan_inputs([tmp_path])
    pairs = {
        d.stem_id: (d.pdf.name if d.pdf else None, d.source.name if d.source else None)
        for d in plan.documents
    }
    assert pairs == {
        "2307.01139v2": ("2307.01139v2.pdf", "2307.01139v2.tar.gz"),
        "2401.00002v1": ("2401.00002v1.pdf", None),
        "hep-th/9901001v1": ("hep-th9901001v1.pdf", "hep-th9901001v1.tex.gz"),
    }


def test_retry_after_dropped_connection_and_resume(tmp_path, files):
    with FakeArxiv(papers(files)) as fake:
        fake.fail("/api/query", times=1, retry_after=1)
        fake.drop("/pdf/2307.01139v2")
        summary = download(
            tmp_path, Selection(ids=["2307.01139"]), base_url=fake.url, delay=DELAY, progress=False
        )
        assert summary.downloaded == 1 and not summary.failed
        paths = fake.paths()
        assert paths[:2] == ["/api/query", "/api/query"]  # the 503, then the retry
        assert gaps(fake)[0] >= 1.0 - 0.01  # Retry-After honoured
        assert paths.count("/pdf/2307.01139v2") == 2  # the drop, then the rest with a Range request
        assert all(g >= DELAY - 0.01 for g in gaps(fake))
        assert (tmp_path / "2307.01139v2.pdf").read_bytes() == files["a.pdf"]
        assert not list(tmp_path.glob("*.part"))
        # a second run finds the paper complete: no request at all
        before = len(fake.log)
        again = download(
            tmp_path, Selection(ids=["2307.01139v2"]), base_url=fake.url, delay=DELAY, progress=False
        )
        assert again.already == 1 and len(fake.log) == before
        # a truncated file (size no longer the recorded one) is fetched again
        (tmp_path / "2307.01139v2.tar.gz").write_bytes(files["a.tar.gz"][:100])
        redo = download(
            tmp_path, Selection(ids=["2307.01139"]), base_url=fake.url, delay=DELAY, progress=False
        )
        assert redo.downloaded == 1
    assert (tmp_path / "2307.01139v2.tar.gz").read_bytes() == files["a.tar.gz"]
    assert len((tmp_path / "metadata.jsonl").read_text().splitlines()) == 1  # one record per paper


def test_category_harvest_follows_resumption_tokens(tmp_path, files):
    more = [
        FakePaper(f"2405.{n:05d}", f"Vision paper {n}", created="2024-05-02", datestamp="2024-05-03")
        for n in range(5)
    ]
    with FakeArxiv(papers(files) + more, page_size=2) as fake:
        sel = Selection(categories=["cs.CV"], date_from="2024-01-01", date_to="2024-12-31")
        summary = download(
            tmp_path, sel, base_url=fake.url, delay=0.05, pdf=False, source=False, progress=False
        )
        tokens = [q for _, p, q, _ in fake.log if p == "/oai2" and "resumptionToken" in q]
    assert len(tokens) >= 3  # 9 cs records in pages of 2
    got = set(records(tmp_path))
    # 2307.01139 was first submitted in 2023: outside the range although its record changed later
    assert got == {"2401.00002", "2402.00003", "2403.00004"} | {p.id for p in more}
    assert summary.withdrawn == ["2402.00003v2"]
    assert records(tmp_path)["2403.00004"]["license"] == "CC-BY-NC-SA-4.0"
    assert records(tmp_path)["2405.00001"]["version"] == 1  # versions come from the Atom API


def test_query_paging_and_license_filter(tmp_path, files, monkeypatch):
    monkeypatch.setattr(atom, "PAGE_SIZE", 2)
    with FakeArxiv(papers(files)) as fake:
        sel = Selection(query="cat:cs.CV", licenses={"CC-BY-4.0", "CC-BY-SA-4.0"})
        summary = download(tmp_path, sel, base_url=fake.url, delay=0.05, progress=False)
        starts = [q["start"][0] for _, p, q, _ in fake.log if p == "/api/query"]
    assert starts == ["0", "2"]  # 4 cs.CV papers, 2 per page
    assert set(records(tmp_path)) == {"2307.01139", "2402.00003"}  # the withdrawn one: CC-BY, metadata only
    assert summary.license_skipped == 2  # arXiv's non-exclusive licence and CC-BY-NC-SA
    assert not (tmp_path / "2403.00004v1.pdf").exists()


def test_arxiv_host_keeps_its_minimum_delay():
    with pytest.raises(ValueError, match="at least 3"):
        Client("https://export.arxiv.org", delay=1.0)
    assert Client("https://export.arxiv.org").delay == 3.0
    assert Client("http://127.0.0.1:9", delay=0.0).delay == 0.0  # a mirror may go faster


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scitune.curate.cli", *args], capture_output=True, text=True, timeout=600
    )


def test_download_extract_rows_carry_metadata(tmp_path, files):
    papers_dir, out = tmp_path / "papers", tmp_path / "out"
    with FakeArxiv(papers(files)) as fake:
        r = cli("download", "2307.01139", "2401.00002", "2403.00004", "-o", str(papers_dir),
                "--arxiv-url", fake.url, "--delay", "0.05", "--no-progress")  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert "3 downloaded" in r.stderr
        r = cli("extract", str(papers_dir), "-o", str(out), "--workers", "2", "--no-progress")
        assert r.returncode == 0, r.stderr
        rows = [x for f in sorted((out / "figures").glob("*.parquet")) for x in pq.read_table(f).to_pylist()]
        by_paper = {}
        for row in rows:
            by_paper.setdefault(row["paper_id"], row)
        assert set(by_paper) == {"2307.01139v2", "2401.00002v1", "2403.00004v1"}
        a = by_paper["2307.01139v2"]
        assert a["license"] == "CC-BY-4.0" and a["figure_id"].startswith("2307.01139v2/")
        assert a["paper"] == {
            "title": "Scientific figures, aligned (wrapped)",
            "authors": ["Sameera Horawalavithana", "Sai Munikoti"],
            "abstract": "We study things.",
            "categories": ["cs.CV"],
            "published": "2023-07-03",
            "doi": "10.0000/example.1",
        }
        assert by_paper["2403.00004v1"]["license"] == "CC-BY-NC-SA-4.0"
        card = (out / "README.md").read_text()
        assert "non-permissive" in card and "CC-BY-NC-SA-4.0" in card
        assert cli("validate", str(out)).returncode == 0
        # --license on extract: only the permissive paper; the others are left out, reported
        out2 = tmp_path / "out2"
        r = cli("extract", str(papers_dir), "-o", str(out2), "--license", "permissive", "--no-progress")
        assert r.returncode == 0, r.stderr
        kept = {
            x["paper_id"] for f in (out2 / "figures").glob("*.parquet") for x in pq.read_table(f).to_pylist()
        }
        assert kept == {"2307.01139v2"} and "2 documents left out by --license" in r.stderr
        # an arXiv id as INPUT: downloaded into the cache first, then extracted with its metadata
        out3 = tmp_path / "out3"
        r = cli("extract", "arxiv:2401.00002", "-o", str(out3), "--arxiv-url", fake.url,
                "--cache", str(tmp_path / "cache"), "--no-progress")  # fmt: skip
        assert r.returncode == 0, r.stderr
        got = [x for f in (out3 / "figures").glob("*.parquet") for x in pq.read_table(f).to_pylist()]
        assert got and {x["paper_id"] for x in got} == {"2401.00002v1"}
        assert {x["license"] for x in got} == {"arXiv-nonexclusive-1.0"}
        assert got[0]["paper"]["title"] == "A PDF-only submission (wrapped)"


def test_unversioned_pdf_redirects_to_the_latest_version(tmp_path, files):
    with FakeArxiv(papers(files)) as fake:
        got = Client(fake.url, delay=0).fetch_file("/pdf/2307.01139", tmp_path / "x.pdf")
    assert got.url.endswith("/pdf/2307.01139v2") and got.content_type == "application/pdf"
    assert (tmp_path / "x.pdf").read_bytes() == files["a.pdf"]


def test_snapshot_selection_needs_no_metadata_request(tmp_path, files):
    snapshot = tmp_path / "arxiv-metadata-oai-snapshot.json"
    lines = [
        {"id": "2307.01139", "title": "Scientific figures", "categories": "cs.CV cs.CL", "abstract": "x",
         "license": "http://creativecommons.org/licenses/by/4.0/", "authors": "S. H.",
         "versions": [{"version": "v1", "created": "Mon, 3 Jul 2023 17:00:00 GMT"},
                      {"version": "v2", "created": "Thu, 20 Jul 2023 17:00:00 GMT"}],
         "update_date": "2023-07-20", "authors_parsed": [["H.", "S.", ""]]},
        {"id": "2403.00004", "title": "NC", "categories": "cs.CV", "abstract": "y",
         "license": "http://creativecommons.org/licenses/by-nc-sa/4.0/", "authors": "A. B.",
         "versions": [{"version": "v1", "created": "Fri, 1 Mar 2024 10:00:00 GMT"}],
         "update_date": "2024-03-01", "authors_parsed": [["B.", "A.", ""]]},
    ]  # fmt: skip
    snapshot.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "papers"
    with FakeArxiv(papers(files)) as fake:
        sel = Selection(categories=["cs.CV"], snapshot=snapshot, licenses={"CC-BY-4.0"})
        summary = download(out, sel, base_url=fake.url, delay=0.05, progress=False)
        assert set(fake.paths()) == {"/pdf/2307.01139v2", "/e-print/2307.01139v2"}  # files only
    assert summary.downloaded == 1 and summary.license_skipped == 1
    assert records(out)["2307.01139"]["published"] == "2023-07-03"


def test_a_server_that_stays_busy_ends_the_run_cleanly(tmp_path, files):
    with FakeArxiv(papers(files)) as fake:
        fake.fail("/api/query", times=100, retry_after=None)
        summary = download(
            tmp_path, Selection(query="cat:cs.CV"), base_url=fake.url, delay=0.05, progress=False
        )
        assert len(fake.log) == 6  # the first try and five retries, then it stops asking
        assert all(g >= 0.05 - 0.01 for g in gaps(fake))
    assert summary.downloaded == 0 and "503" in summary.failed[0][1] and "run again" in summary.failed[0][1]


def test_download_refuses_unusable_arguments(tmp_path):
    r = cli("download", "-o", str(tmp_path / "p"))
    assert r.returncode == 2 and "one only" in r.stderr
    r = cli("download", "--category", "cs.CV", "--from", "01/02/2024", "-o", str(tmp_path / "p"))
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr
    # arXiv's own host: never faster than arXiv asks (refused before any request is sent)
    r = cli("download", "2307.01139", "--delay", "1", "-o", str(tmp_path / "p"), "--no-progress")
    assert r.returncode == 2 and "at least 3 s" in r.stderr
