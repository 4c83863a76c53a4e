"""Filters: figure type, kind, licence, caption length, duplicate images across papers and versions."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from scitune.curate.filters import Criteria, filter_folder, image_key, iter_rows, paper_version
from scitune.schemas import validate_folder
from tests.curate.sample_figures import draw_plot, figure_row, make_out


def ids(folder):
    return [r["figure_id"] for r in iter_rows(folder, "figures", columns=["figure_id"])]


def reencoded(png: bytes) -> bytes:
    """Same pixels, different file bytes (as another PDF renderer or compressor would give)."""
    buf = io.BytesIO()
    Image.open(io.BytesIO(png)).save(buf, format="PNG", compress_level=1)
    assert buf.getvalue() != png
    return buf.getvalue()


def test_row_criteria():
    row = figure_row("p", 1, "bar_chart", caption_no_index="Five words in this caption.", license="CC-BY-4.0")
    assert Criteria(figure_types={"bar_chart", "line_plot"}).keep(row)
    assert not Criteria(figure_types={"line_plot"}).keep(row)
    assert Criteria(kinds={"figure"}).keep(row) and not Criteria(kinds={"table"}).keep(row)
    assert Criteria(licenses={"cc-by-4.0"}).keep(row)  # case-insensitive
    assert not Criteria(licenses={"MIT"}).keep(row)
    assert Criteria(licenses={"unknown"}).keep({**row, "license": None})
    assert Criteria(min_words=5, max_words=5).keep(row)
    assert not Criteria(min_words=6).keep(row) and not Criteria(max_words=4).keep(row)
    with pytest.raises(ValueError, match="unknown figure type"):
        Criteria(figure_types={"pie"})


def test_filter_folder_writes_a_new_valid_dataset(tmp_path):
    from scitune.curate.card import write_card

    out = make_out(tmp_path / "OUT")
    stats = filter_folder(out, tmp_path / "DEST", Criteria(licenses={"MIT"}))
    assert (stats.read, stats.kept) == (6, 2)
    assert ids(tmp_path / "DEST") == ["1905.12345v2/figure1", "1905.12345v2/figure2"]
    assert len(ids(out)) == 6  # the source is untouched
    write_card(tmp_path / "DEST")
    assert validate_folder(tmp_path / "DEST").ok
    with pytest.raises(ValueError, match="DEST must differ"):
        filter_folder(out, out, Criteria())


def test_dedupe_keeps_the_latest_version_and_catches_reencoded_copies(tmp_path):
    shared = draw_plot("line_plot", 1)
    other = draw_plot("bar_chart", 2)
    rows = [
        figure_row("2001.00001v1", 1, image=shared),
        figure_row("2001.00001v1", 2, "bar_chart", image=other),
        figure_row("2001.00001v2", 1, image=reencoded(shared)),  # carried over to v2, re-rendered
        figure_row("2001.00001v2", 2, "bar_chart", image=draw_plot("bar_chart", 3)),  # redrawn in v2
        figure_row("1999.99999", 4, image=other),  # the same plot reused in another paper
    ]
    out = make_out(tmp_path / "OUT", rows, shard_rows=2)
    stats = filter_folder(out, tmp_path / "DEST", Criteria(dedupe=True))
    assert stats.duplicates == 2
    assert sorted(ids(tmp_path / "DEST")) == [
        "2001.00001v1/figure2",
        "2001.00001v2/figure1",
        "2001.00001v2/figure2",
    ]


def test_image_key_ignores_file_encoding_but_not_pixels():
    png = draw_plot("line_plot", 1)
    assert image_key({"bytes": png}) == image_key({"bytes": reencoded(png)})
    assert image_key({"bytes": png}) != image_key({"bytes": draw_plot("line_plot", 2)})
    assert image_key(None) is None and image_key({"bytes": b""}) is None
    assert image_key({"bytes": b"not an image"}) is not None


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="0123456789.", max_size=12), st.integers(0, 999))
def test_paper_version(stem, version):
    assert paper_version(f"{stem}v{version}") == version
    assert paper_version(stem) == 0


def test_filter_and_instructions_commands(tmp_path):
    from typer.testing import CliRunner

    from scitune.curate.cli import app

    out = make_out(tmp_path / "OUT")
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "filter",
            str(out),
            "-o",
            str(tmp_path / "DEST"),
            "--type",
            "line_plot",
            "--min-words",
            "3",
            "--instructions",
            "--no-progress",
        ],
    )
    assert done.exit_code == 0, done.output
    assert ids(tmp_path / "DEST") == ["2001.00001v1/figure1", "1905.12345v2/figure1"]
    card = (tmp_path / "DEST" / "README.md").read_text()
    # under CliRunner the recorded command is pytest's argv, possibly empty: check the prefix only
    assert "config_name: instructions" in card and "- Command: `scitune-curate" in card
    assert {r["figure_id"] for r in iter_rows(tmp_path / "DEST", "instructions")} == set(
        ids(tmp_path / "DEST")
    )

    done = runner.invoke(
        app, ["instructions", str(out), "--task", "caption", "--license", "MIT", "--no-progress"]
    )
    assert done.exit_code == 0, done.output
    assert [r["id"] for r in iter_rows(out, "instructions")] == [
        "1905.12345v2/figure1/caption",
        "1905.12345v2/figure2/caption",
    ]
    bad = runner.invoke(app, ["filter", str(out), "-o", str(tmp_path / "X"), "--type", "pie"])
    assert bad.exit_code != 0 and "unknown figure type" in bad.output
    empty = runner.invoke(app, ["instructions", str(tmp_path / "nothing")])
    assert empty.exit_code == 2 and "scitune-curate extract" in empty.output
