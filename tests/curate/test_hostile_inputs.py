"""Hostile and broken sources through the whole `extract` run: error rows, nothing outside OUT, exit 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


# --- issue 13: one run over every hostile case at once, given as RELATIVE paths (the README's style) -------

# writer -> (stage, error) of the error row it must give
RUN_CASES = {
    hostile.write_bib_absolute: ("parse", "outside_source"),
    hostile.write_bib_dotdot: ("parse", "outside_source"),
    hostile.write_bib_symlink: ("parse", "outside_source"),
    hostile.write_bbl_symlink: ("parse", "outside_source"),
    hostile.write_input_absolute: ("parse", "missing_input"),
    hostile.write_graphic_absolute: ("float", "missing_graphic"),
    hostile.write_graphicspath_dotdot: ("float", "missing_graphic"),
    hostile.write_eps_reading_files: ("render", "RenderError"),  # -dSAFER let gs read /tmp: no longer
    hostile.write_macro_bomb: ("parse", "macro_limit"),
    hostile.write_nested_braces: ("parse", "nesting_too_deep"),
    hostile.write_deep_inputs: ("parse", "LatexSourceError"),
    hostile.write_fifo_pdf: ("input", "not_regular_file"),
    hostile.write_fifo_bundle: ("input", "not_regular_file"),
    hostile.write_fifo_main_tex: ("input", "not_regular_file"),
    hostile.write_socket_pdf: ("input", "not_regular_file"),
    hostile.write_non_utf8_pdf_name: ("input", "bad_file_name"),
    hostile.write_non_utf8_folder: ("input", "bad_file_name"),
    hostile.write_empty_pdf: ("open", "PdfOpenError"),
    hostile.write_tex_named_pdf: ("open", "PdfOpenError"),
    hostile.write_pdf_named_bundle: ("unpack", "UnsafeArchiveError"),
    hostile.write_link_to_system_file: ("open", "PdfOpenError"),
    hostile.write_broken_link: ("input", "broken_link"),
    hostile.write_linked_folder: ("input", "linked_folder"),
    hostile.write_duplicate_pdf: ("input", "duplicate"),
}
# writer -> the captions (without index) its rows must have, all of them, in the same run
GOOD = {
    hostile.write_bib_absolute: ["A good figure, see [?]."],
    hostile.write_bib_dotdot: ["A good figure, see [?]."],
    hostile.write_bib_symlink: ["A good figure, see [?]."],
    hostile.write_bbl_symlink: ["A good figure, see [?]."],
    hostile.write_input_absolute: ["A good figure, see [?]."],
    hostile.write_macro_bomb: ["A good figure, see [?]."],
    hostile.write_nested_braces: ["A good figure, see [?]."],
    hostile.write_good_utf16: ["Saved as UTF-16."],
    hostile.write_good_eps: ["An EPS plot."],  # ghostscript must find it with relative input paths
    hostile.write_good_pdf_with_actions: [
        "Response of sample 5 measured at frequency setting 1, averaged over five runs.",
        "Parameters of sample 5.",
    ],
}


def _all_text(row) -> str:
    if isinstance(row, dict):
        return " ".join(_all_text(v) for v in row.values())
    if isinstance(row, list):
        return " ".join(_all_text(v) for v in row)
    return row if isinstance(row, str) else ""


def test_hostile_run_cases_are_error_rows_good_inputs_keep_all_rows(tmp_path):
    import pyarrow.parquet as pq

    from scitune.curate.writer import printable

    if not shutil.which("gs"):
        pytest.skip("ghostscript is not installed")
    secrets = hostile.write_secrets(tmp_path / "outside")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    made = {}
    for i, write in enumerate(dict.fromkeys([*RUN_CASES, *GOOD])):
        folder = inputs / f"case{i:02d}"
        folder.mkdir()
        made[write] = Path(os.path.relpath(write(folder, secrets), tmp_path))
    out = tmp_path / "out"
    before = _listing(tmp_path, out)
    result = subprocess.run(
        [sys.executable, "-m", "scitune.curate.cli", "extract", "inputs", "-o", "out", "--workers", "2"]
        + ["--no-progress"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert _listing(tmp_path, out) == before, "something was written outside OUT"
    errors = rows(out, "errors")
    figures = rows(out)
    for write, (stage, error) in RUN_CASES.items():
        path = printable(str(made[write]))
        mine = [e for e in errors if e["input"] == path or e["input"].startswith(path + os.sep)]
        assert any(e["stage"] == stage and error in (None, e["error"]) for e in mine), (write.__name__, mine)
        assert all(len(e["message"]) > 25 for e in mine)
    assert all(e["stage"] != "internal" for e in errors), [e for e in errors if e["stage"] == "internal"]
    for write, captions in GOOD.items():
        path = str(made[write])
        got = sorted(r["caption_no_index"] for r in figures if r["provenance"]["input"] == path)
        assert got == sorted(captions), (write.__name__, got)
    # nothing of the files outside any source tree reached a row: text, or an image drawn from one
    assert not [r for r in figures + errors if hostile.SECRET in _all_text(r)]
    assert not [r for r in figures if "eps_file_op" in r["provenance"]["input"]]
    # the duplicate was processed once, under its first name
    dup = [r for r in figures if r["provenance"]["sha256"] == figures[0]["provenance"]["sha256"]]
    assert len({r["figure_id"] for r in dup}) == len(dup)
    assert cli("validate", str(out)).returncode == 0
    assert pq.read_table(sorted((out / "errors").glob("*.parquet"))[0]).num_rows > 0
