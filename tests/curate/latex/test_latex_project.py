"""Main file, input tree and what TeX never reads (project.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scitune.curate.latex.project import (
    LatexSourceError,
    clean_source,
    drop_iffalse,
    find_main,
    list_files,
    load_project,
)
from tests.curate.latex.texproj import doc, write_tree


def test_comments_iffalse_and_comment_environments_are_dropped() -> None:
    text = clean_source(
        "Keep 50\\% of this. % drop this\nnext line\n"
        "\\iffalse hidden \\ifx a b nested \\fi still hidden \\fi shown\n"
        "\\begin{comment}secret\\end{comment}after\n"
    )
    assert "50\\% of this." in text and "drop this" not in text
    assert "hidden" not in text and "nested" not in text and "shown" in text
    assert "secret" not in text and "after" in text


def test_iffalse_else_branch_is_kept() -> None:
    assert drop_iffalse("a \\iffalse b \\else c \\fi d").split() == ["a", "c", "d"]
    assert drop_iffalse("a \\iffalse never closed") == "a "


def test_comment_line_does_not_break_a_paragraph_but_blank_line_does() -> None:
    assert clean_source("one\n% note\ntwo\n\nthree") == "one\ntwo\n\nthree"


def test_main_file_prefers_bbl_and_inputs_over_supplement(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "supplement.tex": doc("Supplement."),
            "paper.tex": doc("\\input{sec/intro}"),
            "paper.bbl": "\\begin{thebibliography}{1}\\end{thebibliography}",
            "sec/intro.tex": "Intro.",
            ".hidden-ms.tex": doc("Hidden build copy \\input{sec/intro}\\input{sec/intro}"),
        },
    )
    assert find_main(tmp_path, list_files(tmp_path)).name == "paper.tex"


def test_main_file_that_others_input_is_not_the_main(tmp_path: Path) -> None:
    write_tree(tmp_path, {"main.tex": doc("\\input{inner}"), "inner.tex": doc("Nested document.")})
    assert find_main(tmp_path, list_files(tmp_path)).name == "main.tex"


def test_input_tree_all_forms(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "ms.tex": doc(
                "\\input{sections/a}\n\\input sections/b.tex\n\\include{c}\n\\subfile{d}\n"
                "\\import{parts/}{e}\n"
            ),
            "sections/a.tex": "Text A.",
            "sections/b.tex": "Text B.",
            "c.tex": "Text C.",
            "d.tex": "\\documentclass[ms]{subfiles}\n\\begin{document}\nText D.\n\\end{document}\n",
            "parts/e.tex": "Text E \\input{f}.",  # \import makes parts/ the folder for nested inputs
            "parts/f.tex": "F inside.",
        },
    )
    p = load_project(tmp_path)
    for piece in ("Text A.", "Text B.", "Text C.", "Text D.", "Text E", "F inside."):
        assert piece in p.text
    assert "documentclass[ms]{subfiles}" not in p.text
    assert "\\SciTuneEnterDir{parts}" in p.text
    assert p.missing_inputs == []


def test_missing_input_is_recorded_not_fatal(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ms.tex": doc("Before \\input{nowhere} after.")})
    p = load_project(tmp_path)
    assert "Before" in p.text and "after." in p.text
    assert p.missing_inputs == ["nowhere"]


def test_input_cycle_raises_with_the_chain(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ms.tex": doc("\\input{a}"), "a.tex": "\\input{b}", "b.tex": "\\input{a}"})
    with pytest.raises(LatexSourceError, match=r"cycle: ms.tex -> a.tex -> b.tex -> a.tex"):
        load_project(tmp_path)


def test_input_outside_the_source_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "secret.tex").write_text("SECRET")
    src = write_tree(tmp_path / "src", {"ms.tex": doc("\\input{../secret}\\input{/etc/hostname}")})
    p = load_project(src)
    assert "SECRET" not in p.text
    assert sorted(p.missing_inputs) == ["../secret", "/etc/hostname"]


def test_latin1_source_is_decoded(tmp_path: Path) -> None:
    (tmp_path / "ms.tex").write_bytes(doc("Caf\u00e9 na\u00efve.").encode("latin-1"))
    assert "Café naïve." in load_project(tmp_path).text


def test_no_main_and_binary_main_raise_clear_errors(tmp_path: Path) -> None:
    write_tree(tmp_path / "a", {"intro.tex": "\\section{Intro}"})
    with pytest.raises(LatexSourceError, match="no main file"):
        load_project(tmp_path / "a")
    write_tree(tmp_path / "b", {"ms.tex": b"\x00\x01binary\xff" * 50})
    with pytest.raises(LatexSourceError, match="binary"):
        load_project(tmp_path / "b")
    write_tree(tmp_path / "c", {"notes.txt": "no tex here"})
    with pytest.raises(LatexSourceError, match="no .tex file"):
        load_project(tmp_path / "c")
