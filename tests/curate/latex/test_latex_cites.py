"""Citations as the PDF prints them (cites.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scitune.curate.latex.cites import BibEntry, Bibliography, is_authoryear, parse_bib, parse_bibitems
from scitune.curate.latex.extract import extract_latex
from tests.curate.latex.texproj import doc, write_tree

BBL = r"""\begin{thebibliography}{3}
\bibitem[{{Smith} {et~al.}(2014){Smith}, {Jones}, \& {Lee}}]{smith14} Smith, J. 2014, ApJ
\bibitem[{{Brown} \& {Green}(2019{\natexlab{a}})}]{brown19} Brown, A. 2019
\bibitem{plain} A numeric-only item.
\end{thebibliography}"""


def test_bibitems_from_a_natbib_bbl() -> None:
    entries = parse_bibitems(BBL)
    assert list(entries) == ["smith14", "brown19", "plain"]
    assert (entries["smith14"].number, entries["smith14"].authors, entries["smith14"].year) == (
        1,
        "Smith et al.",
        "2014",
    )
    assert (entries["brown19"].authors, entries["brown19"].year) == ("Brown & Green", "2019a")


def test_numeric_and_authoryear_rendering() -> None:
    numeric = Bibliography(entries={k: BibEntry(i) for i, k in enumerate("abcde", 1)}, source="bbl")
    assert numeric.render("cite", ["a", "c", "b", "d", "x"]) == "[1–4, ?]"
    assert numeric.render("citep", ["e"], post="Ch. 2") == "[5, Ch. 2]"
    ay = Bibliography(
        entries={"s": BibEntry(1, "Smith et al.", "2014"), "b": BibEntry(2, "Brown", "2019")},
        source="bbl",
        authoryear=True,
    )
    assert ay.render("citet", ["s"]) == "Smith et al. (2014)"
    assert (
        ay.render("citep", ["s", "b"], pre="see", post="p. 3") == "(see Smith et al. 2014; Brown 2019, p. 3)"
    )
    assert ay.render("citealt", ["b"]) == "Brown 2019"
    assert ay.render("citep", ["missing"]) == "(?)"
    assert Bibliography().render("citep", ["s"]) == "[?]"  # no bibliography at all


def test_bib_file_fallback_reads_only_cited_keys() -> None:
    bib = """@article{one, author = {Curie, Marie and Curie, Pierre}, year = 1903, title={Radioactivity}}
    @book{two, author = "Darwin, Charles and Wallace, Alfred and Others, A.", year = {1858}}
    @misc{unused, author = {Nobody}, year = {2000}}"""
    found = parse_bib(bib, {"one", "two"})
    assert found == {
        "one": {"authors": "Curie & Curie", "year": "1903"},
        "two": {"authors": "Darwin et al.", "year": "1858"},
    }


def test_style_from_class_and_packages() -> None:
    assert is_authoryear("\\documentclass{aastex631}", "")
    assert not is_authoryear("\\documentclass{revtex4-2}", "\\citet{x}")
    assert not is_authoryear("\\documentclass{article}\\usepackage[numbers]{natbib}", "\\citet{x}")
    assert is_authoryear("\\documentclass{article}\\usepackage{natbib}", "")
    assert is_authoryear("\\documentclass{article}", "as \\citet{x} said")
    assert not is_authoryear("\\documentclass{article}", "as \\cite{x} said")


def test_citations_in_captions_end_to_end(tmp_path: Path) -> None:
    body = (
        "Intro \\cite{b}.\n\n\\begin{figure}\\caption{After \\cite{a,b} and \\cite{z}.}\\end{figure}"
        "\\bibliographystyle{unsrt}\\bibliography{refs}"
    )
    src = write_tree(
        tmp_path / "src",
        {
            "ms.tex": doc(body),
            "refs.bib": "@article{a, author={A, B}, year=2001}\n@article{b, author={C, D}, year=2002}\n",
        },
    )
    r = extract_latex(src, tmp_path / "w", render=False)
    # No .bbl: numbers follow the order of first citation (unsrt); an unknown key prints "?".
    assert r.floats[0].caption_no_index == "After [1, 2] and [?]."


SECRET_BIB = "@article{a, author={Secretname, Q}, year=1999}\n"
SECRET_BBL = (
    "\\begin{thebibliography}{1}\n\\bibitem[{Secretname(1999)}]{a} Q. Secretname\n\\end{thebibliography}\n"
)


def _leak_case(tmp_path: Path, how: str) -> Path:
    """A source whose bibliography points at a file outside its tree, by absolute path, ../ or a link."""
    outside = write_tree(tmp_path / "outside", {"secret.bib": SECRET_BIB, "secret.bbl": SECRET_BBL})
    name = {
        "absolute": str(outside / "secret"),
        "dotdot": "../outside/secret",
        "bib_link": "refs",
        "bbl_link": "refs",
    }[how]
    body = (
        "As \\citet{a} said.\n\n\\begin{figure}\\caption{See \\citet{a}.}\\end{figure}"
        f"\\bibliography{{{name}}}"
    )
    src = write_tree(tmp_path / "src", {"ms.tex": doc(body, "\\usepackage{natbib}")})
    if how == "bib_link":
        (src / "refs.bib").symlink_to(outside / "secret.bib")
    if how == "bbl_link":
        (src / "ms.bbl").symlink_to(outside / "secret.bbl")
    return src


@pytest.mark.parametrize("how", ["absolute", "dotdot", "bib_link", "bbl_link"])
def test_bibliography_outside_the_source_is_never_read(tmp_path: Path, how: str) -> None:
    # Security: \bibliography{/abs}, {../..} and a .bib/.bbl linked out of the tree went through no guard,
    # so any .bib on the machine could reach captions, paragraphs and the Hub.
    r = extract_latex(_leak_case(tmp_path, how), tmp_path / "w", render=False)
    texts = [r.floats[0].caption_no_index] + [p for f in r.floats for p in f.paragraphs]
    assert not any("Secretname" in t for t in texts), texts
    assert r.floats[0].caption_no_index == "See [?]."  # as a PDF built without it prints
    refused = [e for e in r.errors if e.error == "outside_source"]
    assert len(refused) == 1 and "outside the source tree" in refused[0].message


def test_bibliography_inside_the_source_is_still_read(tmp_path: Path) -> None:
    body = "\\begin{figure}\\caption{See \\citet{a}.}\\end{figure}\\bibliography{bib/refs}"
    src = write_tree(
        tmp_path / "src", {"ms.tex": doc(body, "\\usepackage{natbib}"), "bib/refs.bib": SECRET_BIB}
    )
    (src / "linked.bib").symlink_to(src / "bib" / "refs.bib")  # a link that stays inside is fine
    r = extract_latex(src, tmp_path / "w", render=False)
    assert r.floats[0].caption_no_index == "See Secretname (1999)."
    assert not [e for e in r.errors if e.error == "outside_source"]
