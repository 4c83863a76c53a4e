"""Citations as the PDF prints them (cites.py)."""

from __future__ import annotations

from pathlib import Path

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
