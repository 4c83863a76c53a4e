"""User macro expansion (macros.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scitune.curate.latex.macros import expand_macros


def expand(text: str) -> str:
    return expand_macros(text)[0]


def test_newcommand_with_arguments_and_default() -> None:
    out = expand(
        "\\newcommand{\\pair}[2]{(#1, #2)}\\newcommand\\greet[1][World]{Hello #1}"
        "\\pair{a}{b} \\greet \\greet[You]"
    )
    assert out == "(a, b) Hello World Hello You"


def test_def_let_and_xspace() -> None:
    out = expand("\\def\\lk{lightkurve\\xspace}\\let\\LK\\lk \\def\\sq#1{#1^2}\\lk is \\LK{} and \\sq{x}")
    assert out == " lightkurve is lightkurve and x^2"


def test_redefinition_applies_from_where_it_stands() -> None:
    out = expand("\\newcommand{\\v}{one}\\v, \\renewcommand{\\v}{two}\\v")
    assert out == "one, two"


def test_float_emitting_macro_is_expanded() -> None:
    # As in papers that emit every figure through one macro whose body holds \caption{#2}.
    out = expand(
        "\\newcommand{\\insertFig}[3]{\\begin{figure}\\includegraphics{#1.pdf}\\caption{#2}\\label{fig:#1}"
        "\\end{figure}}\n\\insertFig{growth}{Growth curves.}{}"
    )
    assert "\\includegraphics{growth.pdf}\\caption{Growth curves.}\\label{fig:growth}" in out


def test_counter_formats_stay_for_the_numbering() -> None:
    out = expand(
        "\\newcommand{\\beginsupp}{\\setcounter{figure}{0}\\renewcommand{\\thefigure}{S\\arabic{figure}}}"
        "\\beginsupp"
    )
    assert out == "\\setcounter{figure}{0}\\renewcommand{\\thefigure}{S\\arabic{figure}}"


def test_environment_definitions_expand() -> None:
    out = expand(
        "\\newenvironment{wide}[1]{\\begin{figure*}[#1]}{\\end{figure*}}\\begin{wide}{t}X\\end{wide}"
    )
    assert out == "\\begin{figure*}[t]X\\end{figure*}"


def test_internal_and_delimited_definitions_are_left_alone() -> None:
    text = "\\def\\PY@tok#1{x}\\def\\a#1.{y}\\a b."
    out = expand(text)
    assert "\\PY@tok" in out and "\\a b." in out


def test_recursive_definitions_stop_at_the_limit() -> None:
    out, ex = expand_macros("\\def\\again{a\\again}\\again end")
    assert ex.truncated
    assert out.startswith("aaaa") and len(out) < 2_000_000


def test_arguments_after_an_expansion_are_found() -> None:
    out = expand("\\newcommand{\\fig}{\\figref}\\newcommand{\\figref}[1]{Figure~\\ref{#1}}\\fig{a}")
    assert out == "Figure~\\ref{a}"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="\\{}[]#ab1 \n%", max_size=80))
def test_expansion_never_crashes_on_junk(junk: str) -> None:
    out, _ = expand_macros("\\newcommand{\\a}[1]{<#1>}\\def\\b{\\a}" + junk)
    assert isinstance(out, str)
