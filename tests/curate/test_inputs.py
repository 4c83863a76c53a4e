"""Input walking, classification and PDF <-> source pairing."""

from __future__ import annotations

import tarfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from scitune.curate.inputs import arxiv_id_from_name, assign_paper_ids, plan_inputs, strip_suffix


def _source(folder: Path, tex="\\documentclass{article}\n\\begin{document}x\\end{document}\n") -> Path:
    folder.mkdir(parents=True)
    (folder / "ms.tex").write_text(tex)
    (folder / "fig").mkdir()
    (folder / "fig" / "plot.pdf").write_bytes(b"%PDF-1.4 not a paper, a graphic")
    return folder


def _bundle(path: Path, src: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src, arcname=".")
    return path


def test_walk_pairs_same_stem_and_never_treats_graphics_as_papers(tmp_path):
    root = tmp_path / "papers"
    _source(root / "a" / "paperA")
    (root / "a" / "paperA.pdf").write_bytes(b"%PDF-1.5\n...")
    (root / "b").mkdir(parents=True)
    (root / "b" / "paperB.pdf").write_bytes(b"%PDF-1.5\nB")
    _bundle(root / "b" / "paperC.tar.gz", _source(tmp_path / "srcC"))
    (root / "b" / "notes.txt").write_text("ignored")
    plan = plan_inputs([root])
    docs = {(d.pdf.name if d.pdf else None, d.source.name if d.source else None) for d in plan.documents}
    assert docs == {("paperA.pdf", "paperA"), ("paperB.pdf", None), (None, "paperC.tar.gz")}
    assert plan.ignored == 1 and not plan.problems
    # the figure PDF inside the source folder is a graphic, not a paper
    assert all(d.pdf is None or d.pdf.parent.name != "fig" for d in plan.documents)


def test_pairs_by_arxiv_id_and_explicit_pair(tmp_path):
    _source(tmp_path / "arXiv-2307.01139v2")
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "pdfs" / "2307.01139v2.pdf").write_bytes(b"%PDF-1.5")
    (tmp_path / "pdfs" / "paper.pdf").write_bytes(b"%PDF-1.5 other")
    _source(tmp_path / "elsewhere" / "src")
    plan = plan_inputs(
        [tmp_path / "pdfs", tmp_path / "arXiv-2307.01139v2", tmp_path / "elsewhere" / "src"],
        pairs={tmp_path / "pdfs" / "paper.pdf": tmp_path / "elsewhere" / "src"},
    )
    by_pdf = {d.pdf.name: d for d in plan.documents if d.pdf}
    assert by_pdf["2307.01139v2.pdf"].source.name == "arXiv-2307.01139v2"
    assert by_pdf["2307.01139v2.pdf"].stem_id == "2307.01139v2"
    assert by_pdf["paper.pdf"].source.name == "src"
    assert len(plan.documents) == 2


def test_missing_and_unknown_inputs_become_problems(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not a paper")
    plan = plan_inputs([tmp_path / "nope.pdf", junk])
    assert [(p.error, p.stage) for p in plan.problems] == [("not_found", "input"), ("unknown_type", "input")]
    assert "does not exist" in plan.problems[0].message
    assert not plan.documents


def test_pdf_without_extension_is_recognised_by_magic(tmp_path):
    f = tmp_path / "download"
    f.write_bytes(b"%PDF-1.7\n%...")
    plan = plan_inputs([f])
    assert plan.documents[0].pdf == f and not plan.problems


def test_keys_are_content_hashes_and_paper_ids_unique(tmp_path):
    for sub, body in (("x", b"%PDF-1 one"), ("y", b"%PDF-1 two"), ("z", b"%PDF-1 one")):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "paper.pdf").write_bytes(body)
    plan = plan_inputs([tmp_path])
    assert len({d.key for d in plan.documents}) == 2  # x and z hold the same bytes
    docs = [d for d in plan.documents]
    unique = {d.key: d for d in docs}.values()
    assign_paper_ids(list(unique), taken={})
    ids = sorted(d.paper_id for d in unique)
    assert ids[0] == "paper" and ids[1].startswith("paper-") and len(ids[1]) == len("paper-") + 8
    # an id committed by an earlier run keeps its owner
    other = next(d for d in unique if d.paper_id != "paper")
    assign_paper_ids([other], taken={"someotherkey": "paper"})
    assert other.paper_id.startswith("paper-")


def test_source_folder_hash_changes_with_content(tmp_path):
    src = _source(tmp_path / "s")
    k1 = plan_inputs([src]).documents[0].key
    (src / "ms.tex").write_text("\\documentclass{article}\n\\begin{document}y\\end{document}\n")
    assert plan_inputs([src]).documents[0].key != k1


def test_output_folder_inside_inputs_is_skipped(tmp_path):
    (tmp_path / "p.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "out" / "figures").mkdir(parents=True)
    (tmp_path / "out" / "x.pdf").write_bytes(b"%PDF-1.4 y")
    plan = plan_inputs([tmp_path], skip=[tmp_path / "out"])
    assert [d.pdf.name for d in plan.documents] == ["p.pdf"]


def test_links_to_files_are_followed_links_to_folders_and_broken_links_are_reported(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "real.pdf").write_bytes(b"%PDF-1.4 real")
    (elsewhere / "deeper.pdf").write_bytes(b"%PDF-1.4 deeper")
    picked = tmp_path / "picked"
    picked.mkdir()
    (picked / "real.pdf").symlink_to(elsewhere / "real.pdf")  # a curated folder of links
    (picked / "loop").symlink_to(picked)  # would walk forever if followed
    (picked / "gone.pdf").symlink_to(tmp_path / "missing.pdf")
    (picked / "notes.txt").write_text("not a paper")
    plan = plan_inputs([picked])
    assert [d.pdf.name for d in plan.documents] == ["real.pdf"]
    assert plan.documents[0].pdf_sha256 == plan_inputs([elsewhere / "real.pdf"]).documents[0].pdf_sha256
    assert sorted((Path(p.input).name, p.error) for p in plan.problems) == [
        ("gone.pdf", "broken_link"),
        ("loop", "linked_folder"),
    ]
    assert "give its target" in next(p.message for p in plan.problems if p.error == "linked_folder")
    assert plan.ignored == 1


@given(
    st.from_regex(r"\d{4}\.\d{5}", fullmatch=True),
    st.sampled_from(["", "v1", "v12"]),
    st.sampled_from(["", "arXiv-", "arxiv_"]),
    st.sampled_from([".pdf", ".tar.gz", ".zip", ""]),
)
def test_arxiv_ids_from_names(number, version, prefix, suffix):
    assert arxiv_id_from_name(f"{prefix}{number}{version}{suffix}") == number + version


def test_old_style_arxiv_ids_and_plain_names():
    assert arxiv_id_from_name("hep-th9901001v2.pdf") == "hep-th/9901001v2"
    assert arxiv_id_from_name("math.GT_0309136.tar.gz") == "math.GT/0309136"
    assert arxiv_id_from_name("dynonet.pdf") is None
    assert arxiv_id_from_name("report-2021.pdf") is None
    assert strip_suffix("paper.tar.gz") == "paper" and strip_suffix("x.pdf") == "x"
