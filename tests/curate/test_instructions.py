"""Instruction records: tasks, seeded template choice, skipping empty inputs, streaming over shards."""

from __future__ import annotations

from collections import Counter

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scitune.curate.filters import iter_rows
from scitune.curate.instructions import (
    TASKS,
    build_instructions,
    ctom_target,
    figure_instructions,
    load_templates,
    pick,
)
from scitune.schemas import content_text as as_text
from scitune.schemas import validate_folder, validate_row
from tests.curate.sample_figures import figure_row, make_out, sample_rows


def rows_by_id(out):
    return {r["id"]: r for r in iter_rows(out, "instructions")}


def test_shipped_template_pools_cover_every_task():
    templates = load_templates("1")
    assert templates.version == "1"
    assert set(TASKS) <= set(templates.tasks)
    for task, pool in templates.tasks.items():
        assert len(pool) >= 4, task
        assert all(t.count("<image>") == 1 for t in pool)
    assert len(templates.tasks["ctom"]) >= 10  # SciTune drew from LLaVA's "describe in detail" list
    with pytest.raises(ValueError, match="no template pool version"):
        load_templates("999")


def test_ctom_target_is_scitune_layout():
    fig = figure_row(
        "2001.00001v1",
        3,
        "line_plot",
        ocr=["a", "b"],
        paragraphs=["P1.", "P2."],
        mentions=["M1."],
        caption_no_index="Loss over epochs.",
    )
    assert ctom_target(fig) == "line plot Loss over epochs.\na\tb\nP1.\nP2.\nM1."
    unknown = figure_row("p", 1, "other", ocr=[], paragraphs=[], mentions=[], caption_no_index="A setup.")
    assert ctom_target(unknown) == "figure A setup.\n\n\n"


def test_every_task_for_a_complete_figure():
    fig = figure_row("2001.00001v1", 3, "line_plot")
    rows = list(figure_instructions(fig))
    assert [r["task"] for r in rows] == list(TASKS)
    by_task = {r["task"]: r for r in rows}
    bare = fig["caption_no_index"]
    assert as_text(by_task["caption"]["messages"][1]["content"]) == bare
    assert as_text(by_task["caption_with_context"]["messages"][1]["content"]) == bare
    assert fig["paragraphs"][0] in as_text(by_task["caption_with_context"]["messages"][0]["content"])
    ctom = by_task["ctom"]["messages"]
    assert as_text(ctom[1]["content"]).startswith("line plot " + bare)
    assert as_text(ctom[0]["content"]) in load_templates().tasks["ctom"]  # a "describe in detail" instruction
    assert as_text(by_task["figure_type"]["messages"][1]["content"]) == "A line plot."
    assert as_text(by_task["ocr"]["messages"][1]["content"]) == " ".join(fig["ocr"])
    mention = by_task["mention"]
    assert mention["id"] == "2001.00001v1/figure3/mention/0"
    assert fig["paragraphs"][0] in as_text(mention["messages"][0]["content"])
    assert as_text(mention["messages"][1]["content"]) == f"It refers to Figure 3. {bare}"
    for row in rows:
        assert validate_row(row, "instructions") == [], row["task"]
        assert row["images"][0]["bytes"] == fig["image"]["bytes"]
        assert row["license"] == "CC-BY-4.0" and row["template_version"] == "1"
        assert row["template_id"].startswith(row["task"] + "/")


def test_turns_are_content_parts_with_the_image_where_the_template_puts_it():
    """Schema version 2: TRL's vision form; no literal `<image>` left in any text part."""
    fig = figure_row("2001.00001v1", 3, "line_plot")
    templates = load_templates()
    for seed in range(12):  # several seeds reach templates with the image first, last and mid-prompt
        for row in figure_instructions(fig, seed=seed):
            user, assistant = row["messages"]
            template = templates.tasks[row["task"]][int(row["template_id"].split("/")[1])]
            kinds = [p["type"] for p in user["content"]]
            assert kinds.count("image") == len(row["images"]) == 1
            before = template.split("<image>")[0].strip("\n")
            assert kinds.index("image") == (1 if before else 0), (template, kinds)
            assert all(p["text"] is None for p in user["content"] if p["type"] == "image")
            assert all("<image>" not in p["text"] for p in user["content"] if p["type"] == "text")
            assert assistant["content"] == [{"type": "text", "text": assistant["content"][0]["text"]}]
    with_tag = figure_row("p", 1, "line_plot", paragraphs=["See <image> in Figure 1."])
    with_tag["caption_no_index"] = with_tag["caption_no_index"] + " <image>"
    for row in figure_instructions(with_tag):
        assert validate_row(row, "instructions") == [], row["task"]


def test_empty_inputs_skip_the_task_not_emit_empty_targets():
    fig = figure_row("p", 1, "other", ocr=[], paragraphs=[], mentions=[])
    skipped = Counter()
    rows = list(figure_instructions(fig, skipped=skipped))
    assert [r["task"] for r in rows] == ["caption", "ctom"]
    assert skipped == {
        ("figure_type", "figure type unknown"): 1,
        ("ocr", "no OCR words"): 1,
        ("mention", "no mention paragraph"): 1,
        ("caption_with_context", "no mention paragraph"): 1,
    }
    no_caption = figure_row("p", 2, caption_no_index="")
    no_caption["caption"] = "Figure 2"
    assert {r["task"] for r in figure_instructions(no_caption)} == {"figure_type", "ocr"}


def test_tables_are_worded_as_tables_and_mentions_capped():
    fig = figure_row("p", 2, kind="table", paragraphs=[f"Table 2 lists run {i}." for i in range(6)])
    assert not list(figure_instructions(fig, tasks=["figure_type"]))
    rows = list(figure_instructions(fig, tasks=["caption", "mention"]))
    user = as_text(rows[0]["messages"][0]["content"])
    assert "table" in user and "figure" not in user
    mentions = [r for r in rows if r["task"] == "mention"]
    assert [r["id"] for r in mentions] == [f"p/table2/mention/{i}" for i in range(3)]
    assert as_text(mentions[0]["messages"][1]["content"]).startswith("It refers to Table 2.")


@settings(max_examples=50, deadline=None)
@given(figure_id=st.text(min_size=1, max_size=40), task=st.sampled_from(TASKS), seed=st.integers(0, 2**31))
def test_pick_is_deterministic_and_in_range(figure_id, task, seed):
    pool = load_templates().tasks[task]
    choice = pick(pool, figure_id, task, seed)
    assert 0 <= choice < len(pool)
    assert pick(pool, figure_id, task, seed) == choice


text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
words = st.lists(text, max_size=4)


@settings(max_examples=60, deadline=None)
@given(
    caption=text,
    ocr=words,
    paragraphs=words,
    figure_type=st.sampled_from(["line_plot", "other", "table", ""]),
    kind=st.sampled_from(["figure", "table"]),
    extra=st.sampled_from(["", "<image>", "{kind}", "{0}", "}{"]),
)
def test_any_figure_gives_valid_rows_without_empty_targets(
    caption, ocr, paragraphs, figure_type, kind, extra
):
    fig = figure_row(
        "p",
        1,
        figure_type or "other",
        kind=kind,
        caption_no_index=caption + extra,
        ocr=[w + extra for w in ocr],
        paragraphs=[p + extra for p in paragraphs],
        mentions=[],
    )
    fig["figure_type"] = figure_type
    for row in figure_instructions(fig):
        assert validate_row(row, "instructions") == [], row
        assert as_text(row["messages"][1]["content"]).strip()
        if row["task"] in ("caption", "ctom", "caption_with_context"):
            # a literal <image> in paper text would be an image slot to LLaVA's and TRL's processors
            expected = (caption + extra).replace("<image>", "image").strip()
            assert expected in as_text(row["messages"][1]["content"])


def test_seeded_choice_spreads_over_the_pool():
    pool = load_templates().tasks["ctom"]
    used = {pick(pool, f"paper/figure{i}", "ctom", 0) for i in range(200)}
    assert len(used) == len(pool)


def test_build_instructions_is_stable_across_sharding_and_reruns(tmp_path):
    a = make_out(tmp_path / "a", shard_rows=1)
    b = make_out(tmp_path / "b", list(reversed(sample_rows())), shard_rows=5)
    stats_a = build_instructions(a, seed=3)
    build_instructions(b, seed=3)
    rows_a, rows_b = rows_by_id(a), rows_by_id(b)
    assert rows_a.keys() == rows_b.keys()
    for key in rows_a:
        assert rows_a[key]["messages"] == rows_b[key]["messages"]
        assert rows_a[key]["template_id"] == rows_b[key]["template_id"]
    # A rerun replaces the table: same rows, no duplicates.
    build_instructions(a, seed=3)
    assert rows_by_id(a) == rows_a
    assert sum(pq.ParquetFile(p).metadata.num_rows for p in (a / "instructions").glob("*.parquet")) == len(
        rows_a
    )
    # Another seed changes some wording but not the targets.
    build_instructions(b, seed=4)
    rows_c = rows_by_id(b)
    assert any(rows_c[k]["template_id"] != rows_a[k]["template_id"] for k in rows_a)
    assert all(rows_c[k]["messages"][1] == rows_a[k]["messages"][1] for k in rows_a)

    assert stats_a.figures == 6
    assert stats_a.rows["caption"] == 6 and stats_a.rows["ctom"] == 6
    assert stats_a.rows["ocr"] == 5  # figure 2 of the first paper has no OCR
    assert stats_a.rows["mention"] == 5 and stats_a.skipped[("mention", "no mention paragraph")] == 1
    assert validate_folder(a).ok, validate_folder(a).problems


def test_every_ctom_target_contains_its_caption(tmp_path):
    out = make_out(tmp_path / "OUT")
    build_instructions(out, tasks=["ctom"])
    captions = {
        f["figure_id"]: f["caption_no_index"]
        for f in iter_rows(out, "figures", columns=["figure_id", "caption_no_index"])
    }
    rows = list(iter_rows(out, "instructions"))
    assert len(rows) == len(captions)
    for row in rows:
        assert captions[row["figure_id"]] in as_text(row["messages"][1]["content"])


def test_build_with_filter_and_unknown_task(tmp_path):
    out = make_out(tmp_path / "OUT")
    stats = build_instructions(out, tasks=["caption"], where=lambda f: f["license"] == "MIT")
    assert stats.figures == 2 and sum(stats.rows.values()) == 2
    assert {r["paper_id"] for r in iter_rows(out, "instructions")} == {"1905.12345v2"}
    with pytest.raises(ValueError, match="unknown task"):
        build_instructions(out, tasks=["summarise"])
    assert any("caption: 2" in line for line in stats.lines())


def test_extract_with_instructions_end_to_end_through_the_cli(tmp_path):
    """A drawn paper through `extract --instructions`, then `export llava`: what a user runs."""
    import json
    import subprocess
    import sys

    import yaml
    from PIL import Image

    from tests.curate.papers import make_paper

    papers, out = tmp_path / "papers", tmp_path / "OUT"
    papers.mkdir()
    make_paper(papers / "response-study.pdf", figures=3, seed=4)

    def cli(*args):
        done = subprocess.run(
            [sys.executable, "-m", "scitune.curate.cli", *args], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done

    cli("extract", str(papers), "-o", str(out), "--workers", "1", "--no-progress", "--instructions")
    figures = {r["figure_id"]: r for r in iter_rows(out, "figures")}
    assert len(figures) >= 3
    rows = list(iter_rows(out, "instructions"))
    assert {r["task"] for r in rows} >= {"caption", "ctom", "mention", "caption_with_context"}
    for row in rows:
        caption = figures[row["figure_id"]]["caption_no_index"]
        if row["task"] == "ctom":
            assert caption and caption in as_text(row["messages"][1]["content"])

    card = (out / "README.md").read_text()
    header = yaml.safe_load(card.split("---\n")[1])
    assert [c["config_name"] for c in header["configs"]][:2] == ["figures", "instructions"]
    for config in header["configs"]:
        assert all(list(out.glob(d["path"])) for d in config["data_files"]), config
    assert "- Command: `scitune-curate extract" in card  # kept when the instructions rewrote the card

    from scitune.curate.exports import export

    export("llava", out, tmp_path / "llava")
    records = json.loads((tmp_path / "llava" / "llava.json").read_text())  # the 10-line reader
    for rec in records:
        assert Image.open(tmp_path / "llava" / "images" / rec["image"]).size[0] > 10
        assert rec["conversations"][0]["from"] == "human" and "<image>" in rec["conversations"][0]["value"]
        assert rec["conversations"][1]["from"] == "gpt" and rec["conversations"][1]["value"].strip()
    assert len(records) == len(rows)
    assert validate_folder(out).ok, validate_folder(out).problems
