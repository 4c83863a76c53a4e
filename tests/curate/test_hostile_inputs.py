"""Hostile and broken sources through the whole `extract` run: error rows, nothing outside OUT, exit 0."""

from __future__ import annotations

import os
from pathlib import Path

from tests.curate import hostile
from tests.curate.test_extract_cli import cli, rows

CASES = {  # writer -> the stage its error row must have
    hostile.write_traversal_tar: "unpack",
    hostile.write_nested_traversal_zip: "unpack",
    hostile.write_absolute_tar: "unpack",
    hostile.write_absolute_zip: "unpack",
    hostile.write_symlink_tar: "unpack",
    hostile.write_relative_symlink_tar: "unpack",
    hostile.write_symlink_zip: "unpack",
    hostile.write_hardlink_tar: "unpack",
    hostile.write_single_gzip_bomb: "unpack",
    hostile.write_zip_bomb: "unpack",
    hostile.write_truncated_tar_gz: "unpack",
    hostile.write_not_an_archive: "unpack",
    hostile.write_binary_tex_source: "parse",
    hostile.write_no_main_source: "parse",
    hostile.write_recursive_input_source: "parse",
    hostile.write_self_input_source: "parse",
    hostile.write_missing_files_source: "float",
}


def _listing(root: Path, skip: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if skip not in p.parents and p != skip}


def test_every_hostile_input_is_an_error_row_and_nothing_escapes(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    made = {}
    for i, write in enumerate(CASES):
        folder = inputs / f"case{i:02d}"
        folder.mkdir()
        made[write] = write(folder)
    out = tmp_path / "out"
    before = _listing(tmp_path, out)
    result = cli("extract", str(inputs), "-o", str(out), "--workers", "2", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert _listing(tmp_path, out) == before, "something was written outside OUT"
    assert not any(Path(p).name.startswith(("escaped", "absolute_escaped")) for p in before)
    assert not Path("/tmp/absolute_escaped.txt").exists()
    errors = rows(out, "errors")
    for write, stage in CASES.items():
        path = str(made[write])
        mine = [e for e in errors if e["input"] == path or e["input"].startswith(path + os.sep)]
        assert mine, f"{write.__name__}: no error row"
        assert any(e["stage"] == stage for e in mine), (write.__name__, mine)
        assert all(len(e["message"]) > 25 for e in mine)
    # the missing-files paper keeps the float whose graphic exists
    kept = [r for r in rows(out) if r["provenance"]["input"] == str(made[hostile.write_missing_files_source])]
    assert [r["caption_no_index"] for r in kept] == ["A present plot."]
    assert not (out / ".scitune" / "tmp").exists()  # scratch space for unpacking is gone
    assert cli("validate", str(out)).returncode == 0
