"""Counters and their printed forms, as LaTeX keeps them: `3`, `S2`, `A.1`, `II`, `2.4`.

`Counters` holds the values and the `\\the<counter>` templates. The walker in floats.py applies, where
they stand in the text, `\\setcounter`, `\\addtocounter`, `\\stepcounter`, `\\renewcommand{\\thefigure}{...}`,
`\\counterwithin`/`\\numberwithin` and `\\appendix`. Document classes that number differently from
`article` are described in `CLASS_RULES` (checked against their .cls files); a class file shipped in the
source bundle is also read for what its `\\appendix` does to figures and tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .syntax import read_group

DEFAULT_FORMATS = {
    "chapter": r"\arabic{chapter}",
    "section": r"\arabic{section}",
    "subsection": r"\thesection.\arabic{subsection}",
    "subsubsection": r"\thesubsection.\arabic{subsubsection}",
    "figure": r"\arabic{figure}",
    "table": r"\arabic{table}",
    "equation": r"\arabic{equation}",
    "subfigure": r"\alph{subfigure}",
    "subtable": r"\alph{subtable}",
}
DEFAULT_RESETS = {
    "chapter": {"section"},
    "section": {"subsection"},
    "subsection": {"subsubsection"},
    "figure": {"subfigure"},
    "table": {"subtable"},
}


@dataclass
class ClassRule:
    formats: dict[str, str] = field(default_factory=dict)  # from \begin{document}
    appendix_formats: dict[str, str] = field(default_factory=dict)  # after \appendix
    appendix_resets: dict[str, set[str]] = field(default_factory=dict)  # counter -> counters it resets


_CHAPTERED = {
    "formats": {
        "figure": r"\thechapter.\arabic{figure}",
        "table": r"\thechapter.\arabic{table}",
        "equation": r"\thechapter.\arabic{equation}",
        "section": r"\thechapter.\arabic{section}",
    },
}
CLASS_RULES: dict[str, ClassRule] = {
    # IEEEtran prints TABLE I, sections I, II (and subsections A, B).
    "IEEEtran": ClassRule(
        formats={
            "table": r"\Roman{table}",
            "section": r"\Roman{section}",
            "subsection": r"\thesection-\Alph{subsection}",
        }
    ),
    # revtex: TABLE I, sections I, II.
    "revtex": ClassRule(
        formats={
            "table": r"\Roman{table}",
            "section": r"\Roman{section}",
            "subsection": r"\thesection.\Alph{subsection}",
        }
    ),
    # A&A (aa.cls \appendix): Fig. A.1, Table B.2, counted per appendix section.
    "aa": ClassRule(
        appendix_formats={"figure": r"\thesection.\arabic{figure}", "table": r"\thesection.\arabic{table}"},
        appendix_resets={"section": {"figure", "table"}},
    ),
    # MNRAS (mnras.cls \appendix): Figure A1, Table B2.
    "mnras": ClassRule(
        appendix_formats={"figure": r"\thesection\arabic{figure}", "table": r"\thesection\arabic{table}"},
        appendix_resets={"section": {"figure", "table"}},
    ),
    # elsarticle (\appendix): Fig. A.1, Table B.1.
    "elsarticle": ClassRule(
        appendix_formats={"figure": r"\thesection.\arabic{figure}", "table": r"\thesection.\arabic{table}"},
        appendix_resets={"section": {"figure", "table"}},
    ),
    # Copernicus (EGU journals): Figure A1, Table B1.
    "copernicus": ClassRule(
        appendix_formats={"figure": r"\thesection\arabic{figure}", "table": r"\thesection\arabic{table}"},
        appendix_resets={"section": {"figure", "table"}},
    ),
    "book": ClassRule(**_CHAPTERED),
    "report": ClassRule(**_CHAPTERED),
    "memoir": ClassRule(**_CHAPTERED),
    "scrbook": ClassRule(**_CHAPTERED),
    "scrreprt": ClassRule(**_CHAPTERED),
}


def class_rule(name: str) -> ClassRule:
    if name.startswith("revtex"):
        return CLASS_RULES["revtex"]
    if name.lower().startswith("ieeetran"):
        return CLASS_RULES["IEEEtran"]
    return CLASS_RULES.get(name, ClassRule())


_CLS_FIG = re.compile(r"\\(?:renewcommand|g?def|xdef)\s*\{?\\the(figure|table)\}?\s*\{(.*?)\}\s*%?\s*\n")


def rule_from_class_file(text: str) -> ClassRule | None:
    """What a shipped .cls does to figure and table numbers in `\\appendix` (None: nothing found).

    The body is the one of `\\def\\appendix`, `\\renewcommand\\appendix` or the begin code of an
    `appendix` environment (which is what `\\appendix` runs)."""
    m = re.search(
        r"\\(?:g?def\s*\\appendix|(?:re)?newcommand\*?\s*\{?\\appendix\}?|"
        r"(?:re)?newenvironment\s*\{appendix\})\s*(?:\[[^\]]*\])?\s*",
        text,
    )
    if not m:
        return None
    group = read_group(text, m.end())
    if group is None:
        return None
    body = group[0]
    rule = ClassRule()
    for kind, template in _CLS_FIG.findall(body):
        template = re.sub(r"\\@(arabic|Alph|alph|Roman|roman)\s*\\c@([a-z]+)", r"\\\1{\2}", template)
        rule.appendix_formats[kind] = template.strip()
    for kind, parent in re.findall(r"\\@addtoreset\s*\{(figure|table)\}\s*\{([a-z]+)\}", body):
        rule.appendix_resets.setdefault(parent, set()).add(kind)
    return rule if rule.appendix_formats or rule.appendix_resets else None


def _alph(n: int, upper: bool) -> str:
    if n <= 0:
        return "0" if n == 0 else str(n)
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr((65 if upper else 97) + r) + s
    return s


def _roman(n: int) -> str:
    if n <= 0:
        return str(n)
    vals = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ]
    out = ""
    for v, s in vals:
        while n >= v:
            out += s
            n -= v
    return out


_FMT = re.compile(r"\\(arabic|Alph|alph|Roman|roman|fnsymbol|the([a-zA-Z]+))\s*(?:\{\s*([a-zA-Z*]+)\s*\})?")


class Counters:
    def __init__(self, document_class: str = "article", class_file_rule: ClassRule | None = None):
        self.values: dict[str, int] = {k: 0 for k in DEFAULT_FORMATS}
        self.formats = dict(DEFAULT_FORMATS)
        self.resets = {k: set(v) for k, v in DEFAULT_RESETS.items()}
        self.rule = class_rule(document_class)
        if class_file_rule is not None:
            self.rule = ClassRule(
                self.rule.formats,
                class_file_rule.appendix_formats or self.rule.appendix_formats,
                class_file_rule.appendix_resets or self.rule.appendix_resets,
            )
        self.formats.update(self.rule.formats)
        if "chapter" in self.rule.formats.get("figure", ""):
            self.resets["chapter"] |= {"figure", "table", "equation"}
        self.in_appendix = False

    def step(self, name: str) -> None:
        self.values[name] = self.values.get(name, 0) + 1
        self._reset_below(name, depth=0)

    def _reset_below(self, name: str, depth: int) -> None:
        if depth > 8:
            return
        for child in self.resets.get(name, ()):
            self.values[child] = 0
            self._reset_below(child, depth + 1)

    def set(self, name: str, value: int) -> None:
        self.values[name] = value

    def add(self, name: str, value: int) -> None:
        self.values[name] = self.values.get(name, 0) + value

    def set_format(self, name: str, template: str) -> None:
        self.formats[name] = template

    def within(self, name: str, parent: str, change_format: bool = True) -> None:
        """`\\counterwithin{figure}{section}`: reset with the parent and print `parent.n`."""
        self.resets.setdefault(parent, set()).add(name)
        if change_format:
            self.formats[name] = "\\the" + parent + ".\\arabic{" + name + "}"

    def appendix(self) -> None:
        self.in_appendix = True
        top = "chapter" if "chapter" in self.formats.get("section", "") else "section"
        self.values[top] = 0
        self.formats[top] = "\\Alph{" + top + "}"
        for name, template in self.rule.appendix_formats.items():
            self.formats[name] = template
            self.values[name] = 0
        for parent, children in self.rule.appendix_resets.items():
            self.resets.setdefault(parent, set()).update(children)

    def format(self, name: str, depth: int = 0) -> str:
        template = self.formats.get(name, "\\arabic{" + name + "}")
        if depth > 6:
            return str(self.values.get(name, 0))

        def rep(m: re.Match) -> str:
            if m.group(2):
                return self.format(m.group(2), depth + 1)
            counter = (m.group(3) or name).rstrip("*")
            n = self.values.get(counter, 0)
            kind = m.group(1)
            if kind == "arabic":
                return str(n)
            if kind in ("Alph", "alph"):
                return _alph(n, kind == "Alph")
            if kind == "Roman":
                return _roman(n)
            if kind == "roman":
                return _roman(n).lower()
            return "*" * max(n, 0)

        out = _FMT.sub(rep, template)
        # What is left is literal text in the template (`S`, `SI.`, `-`), minus any other markup.
        out = re.sub(r"\\[a-zA-Z@]+\s*", "", out)
        return re.sub(r"[{}\s]", "", out)
