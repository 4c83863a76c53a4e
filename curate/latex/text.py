"""LaTeX to plain text with pylatexenc: markup removed, references and citations as the PDF prints them.

`PARSE_CONTEXT` tells pylatexenc's parser the arguments of the commands this package interprets
(captions, labels, graphics, references, citations, AASTeX tables). `Renderer` turns parsed nodes into
plain text: `\\ref` becomes the number of its label, `\\cref` `Fig. 3`, `\\eqref` `(2)`, citations come
from cites.py, math stays as pylatexenc's Unicode rendering of its source (`σ^2[x_i]`), footnotes and
labels disappear. With `mark=True` every reference is preceded by a private-use marker naming its label,
so refs.py can find which sentence holds which reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pylatexenc import latexwalker as lw
from pylatexenc.latex2text import EnvironmentTextSpec, LatexNodes2Text, MacroTextSpec
from pylatexenc.latex2text import get_default_latex_context_db as text_context_db
from pylatexenc.macrospec import EnvironmentSpec, LatexContextDb, MacroSpec

from .cites import Bibliography

REF_MACROS = {
    "ref",
    "autoref",
    "Autoref",
    "cref",
    "Cref",
    "eqref",
    "subref",
    "pageref",
    "nameref",
    "vref",
    "Vref",
    "cpageref",
    "Cpageref",
    "labelcref",
    "namecref",
    "nameCref",
    "fref",
    "Fref",
    "ref*",
    "tabref",
    "figref",
}
RANGE_REF_MACROS = {"crefrange", "Crefrange", "cpagerefrange"}
CITE_MACROS = {
    "cite",
    "citep",
    "citet",
    "citealt",
    "citealp",
    "citeauthor",
    "Citeauthor",
    "citeyear",
    "citeyearpar",
    "Citep",
    "Citet",
    "Citealt",
    "Citealp",
    "parencite",
    "Parencite",
    "textcite",
    "Textcite",
    "autocite",
    "Autocite",
    "footcite",
    "citenum",
    "nocite",
    "smartcite",
    "supercite",
    "citep*",
    "citet*",
}
# Commands whose arguments are metadata, layout or notes: never part of a sentence.
DROPPED = {
    "label",
    "footnote",
    "footnotemark",
    "footnotetext",
    "thanks",
    "index",
    "glossary",
    "vspace",
    "hspace",
    "vskip",
    "hskip",
    "phantom",
    "hphantom",
    "vphantom",
    "includegraphics",
    "plotone",
    "plottwo",
    "epsscale",
    "epsfig",
    "psfig",
    "epsfbox",
    "SciTuneEnterDir",
    "SciTuneLeaveDir",
    "graphicspath",
    "setcounter",
    "addtocounter",
    "stepcounter",
    "refstepcounter",
    "captionsetup",
    "tablenotemark",
    "tablenum",
    "figurenum",
    "tabletypesize",
    "tablewidth",
    "tablecolumns",
    "setlength",
    "addtolength",
    "linenumbers",
    "nolinenumbers",
    "color",
    "definecolor",
    "newpage",
    "clearpage",
    "pagebreak",
    "linebreak",
    "noindent",
    "centering",
    "raggedright",
    "raggedleft",
    "protect",
    "xspace",
    "bibliographystyle",
    "bibliography",
    "addbibresource",
    "printbibliography",
    "maketitle",
    "tableofcontents",
    "faGithub",
    "orcidlink",
    "affiliation",
    "affil",
    "email",
    "address",
    "altaffiliation",
    "correspondingauthor",
    "ORCID",
    "keywords",
    "acknowledgments",
    "newline",
    "par",
    "resizebox",
    "scalebox",
    "rule",
    "numberwithin",
    "counterwithin",
    "counterwithout",
    "renewcommand",
    "newcommand",
    "providecommand",
    "def",
    "let",
    "appendix",
    "caption",
    "captionof",
    "subcaption",
    "tablecaption",
    "nonumber",
    "notag",
    "bibitem",
    "hypertarget",
    "pdfbookmark",
    "FloatBarrier",
    "restylefloat",
    "floatname",
    "subfloat",
    "subfigure",
    "subcaptionbox",
    "tablecomments",
    "tablenotetext",
    "startdata",
    "enddata",
    "hline",
    "toprule",
    "midrule",
    "bottomrule",
    "cline",
    "cmidrule",
    "tag",
}


def _m(name: str, args: str = "") -> MacroSpec:
    return MacroSpec(name, args)


# What the parser must know to attach arguments to these commands.
_PARSE_MACROS = (
    [_m(n, "*{") for n in REF_MACROS]
    + [_m(n, "*{{") for n in RANGE_REF_MACROS]
    + [_m(n, "*[[{") for n in CITE_MACROS]
    + [
        _m("caption", "*[{"),
        _m("captionof", "*{[{"),
        _m("subcaption", "*[{"),
        _m("subcaptionbox", "*[{[[{"),
        _m("subfloat", "[[{"),
        _m("subfigure", "[[{"),
        _m("subtable", "[[{"),
        _m("label", "{"),
        _m("hyperref", "[{"),
        _m("href", "{{"),
        _m("url", "{"),
        _m("includegraphics", "*[[{"),
        _m("plotone", "{"),
        _m("plottwo", "{{"),
        _m("epsscale", "{"),
        _m("epsfig", "{"),
        _m("psfig", "{"),
        _m("epsfbox", "[{"),
        _m("includestandalone", "[{"),
        _m("includesvg", "[{"),
        _m("setcounter", "{{"),
        _m("addtocounter", "{{"),
        _m("stepcounter", "{"),
        _m("refstepcounter", "{"),
        _m("counterwithin", "*{{"),
        _m("counterwithout", "*{{"),
        _m("numberwithin", "[{{"),
        _m("captionsetup", "[{"),
        _m("graphicspath", "{"),
        _m("SciTuneEnterDir", "{"),
        _m("SciTuneLeaveDir", "{"),
        _m("tablecaption", "{"),
        _m("tablenum", "{"),
        _m("figurenum", "{"),
        _m("tablehead", "{"),
        _m("colhead", "{"),
        _m("tablecomments", "{"),
        _m("tablenotetext", "{{"),
        _m("tablenotemark", "{"),
        _m("tabletypesize", "{"),
        _m("tablewidth", "{"),
        _m("tablecolumns", "{"),
        _m("footnote", "[{"),
        _m("footnotetext", "[{"),
        _m("thanks", "{"),
        _m("tag", "*{"),
        _m("multicolumn", "{{{"),
        _m("multirow", "[{[{"),
        _m("textcolor", "[{{"),
        _m("colorbox", "[{{"),
        _m("resizebox", "*{{{"),
        _m("scalebox", "{[{"),
        _m("rotatebox", "[{{"),
        _m("hypertarget", "{{"),
        _m("affiliation", "{"),
        _m("affil", "[{"),
        _m("altaffiliation", "{"),
        _m("email", "{"),
        _m("correspondingauthor", "{"),
        _m("keywords", "{"),
        _m("orcidlink", "{"),
        _m("vspace", "*{"),
        _m("hspace", "*{"),
        _m("newline", ""),
        _m("appendix", ""),
        _m("bibitem", "[{"),
        _m("section", "*[{"),
        _m("subsection", "*[{"),
        _m("subsubsection", "*[{"),
        _m("paragraph", "*[{"),
        _m("chapter", "*[{"),
        _m("part", "*[{"),
        _m("setlength", "{{"),
        _m("addtolength", "{{"),
    ]
)
_PARSE_ENVS = [
    EnvironmentSpec(name, args)
    for name, args in [
        ("figure", "["),
        ("figure*", "["),
        ("table", "["),
        ("table*", "["),
        ("wrapfigure", "[{[{"),
        ("wraptable", "[{[{"),
        ("wrapfig", "[{[{"),
        ("SCfigure", "[["),
        ("SCtable", "[["),
        ("sidewaysfigure", "["),
        ("sidewaysfigure*", "["),
        ("sidewaystable", "["),
        ("sidewaystable*", "["),
        ("subfigure", "[[[{"),
        ("subtable", "[[[{"),
        ("minipage", "[[[{"),
        ("deluxetable", "{"),
        ("deluxetable*", "{"),
        ("splitdeluxetable", "{"),
        ("splitdeluxetable*", "{"),
        ("longtable", "[{"),
        ("longtable*", "[{"),
        ("tabular", "[{"),
        ("tabular*", "{[{"),
        ("tabularx", "{[{"),
        ("tabulary", "{[{"),
        ("tblr", "[{"),
        ("threeparttable", "["),
        ("adjustbox", "{"),
        ("algorithm", "["),
        ("algorithm*", "["),
        ("thebibliography", "{"),
        ("floatrow", ""),
    ]
]


class _FastSpecialsDb(LatexContextDb):
    """pylatexenc's context with a faster `test_for_specials`, the hottest function of a parse.

    The stock method tries every specials string at every character; this one first looks at the
    character itself. Same answer: the longest match, the earliest category winning ties.
    """

    def freeze(self) -> None:
        by_first: dict[str, list] = {}
        for cat in self.category_list:
            for chars, spec in self.d[cat]["specials"].items():
                entries = by_first.setdefault(chars[0], [])
                if all(c != chars for c, _ in entries):
                    entries.append((chars, spec))
        self._by_first = {k: sorted(v, key=lambda e: -len(e[0])) for k, v in by_first.items()}

    def test_for_specials(self, s, pos, parsing_state=None):
        if pos >= len(s):
            return None
        for chars, spec in self._by_first.get(s[pos], ()):
            if s.startswith(chars, pos):
                return spec
        return None


PARSE_CONTEXT = _FastSpecialsDb()
_default = lw.get_default_latex_context_db()
for _cat in _default.category_list:
    PARSE_CONTEXT.add_context_category(
        _cat,
        macros=list(_default.iter_macro_specs([_cat])),
        environments=list(_default.iter_environment_specs([_cat])),
        specials=list(_default.iter_specials_specs([_cat])),
    )
PARSE_CONTEXT.add_context_category("scitune", macros=_PARSE_MACROS, environments=_PARSE_ENVS, prepend=True)
PARSE_CONTEXT.freeze()


def parse(text: str) -> list:
    """pylatexenc nodes of `text` (tolerant: broken LaTeX never raises)."""
    walker = lw.LatexWalker(text, latex_context=PARSE_CONTEXT, tolerant_parsing=True)
    nodes, _, _ = walker.get_latex_nodes()
    return nodes


def arg_nodes(node, index: int) -> list:
    """The nodes inside the `index`-th parsed argument of a macro or environment ([] when absent)."""
    argd = getattr(node, "nodeargd", None)
    if argd is None or not argd.argnlist or index >= len(argd.argnlist):
        return []
    arg = argd.argnlist[index]
    if arg is None:
        return []
    if arg.isNodeType(lw.LatexGroupNode):
        return list(arg.nodelist)
    return [arg]


def arg_text(node, index: int) -> str | None:
    """The raw LaTeX of an argument (braces or brackets removed), or None when it was not given."""
    argd = getattr(node, "nodeargd", None)
    if argd is None or not argd.argnlist or index >= len(argd.argnlist):
        return None
    arg = argd.argnlist[index]
    if arg is None:
        return None
    raw = arg.latex_verbatim()
    if arg.isNodeType(lw.LatexGroupNode) and len(raw) >= 2 and raw[0] in "{[" and raw[-1] in "}]":
        raw = raw[1:-1]
    return raw


def is_starred(node) -> bool:
    argd = getattr(node, "nodeargd", None)
    if argd is None or not argd.argnlist:
        return False
    first = argd.argnlist[0]
    return first is not None and first.isNodeType(lw.LatexCharsNode) and first.chars == "*"


# --- rendering -----------------------------------------------------------------------------------


@dataclass
class Target:
    """What a label points at, with the number LaTeX gives it."""

    kind: str  # figure, table, subfigure, subtable, section, appendix, equation, item, other
    number: str
    float_index: int | None = None  # floats: index into the document's floats (subfigures: the parent)
    title: str | None = None  # sections, for \nameref


CREF_NAMES = {  # kind -> (\cref singular, \cref plural, \Cref singular, \Cref plural)
    "figure": ("Fig.", "Figs.", "Figure", "Figures"),
    "subfigure": ("Fig.", "Figs.", "Figure", "Figures"),
    "table": ("Table", "Tables", "Table", "Tables"),
    "subtable": ("Table", "Tables", "Table", "Tables"),
    "section": ("Section", "Sections", "Section", "Sections"),
    "appendix": ("Appendix", "Appendices", "Appendix", "Appendices"),
    "equation": ("Eq.", "Eqs.", "Equation", "Equations"),
}
AUTOREF_NAMES = {
    "figure": "Figure",
    "subfigure": "Figure",
    "table": "Table",
    "subtable": "Table",
    "section": "Section",
    "appendix": "Appendix",
    "equation": "Equation",
}

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # private-use characters: never in real text
CITE_OPEN, CITE_CLOSE = (
    "\ue002",
    "\ue003",
)  # around a rendered citation (its notes name other papers' figures)
_WS = re.compile(r"[ \t\r\n\u00a0\u2009\u202f]+")


def clean_text(text: str) -> str:
    text = _WS.sub(" ", text).strip()
    text = re.sub(r" ([,.;:!?)])", r"\1", text)
    text = re.sub(r"\( ", "(", text)
    return text


class Renderer:
    """Plain text of parsed nodes for one document (its labels and bibliography)."""

    def __init__(self, labels: dict[str, Target], bibliography: Bibliography):
        self.labels = labels
        self.bib = bibliography
        self.mark = False
        self.marked: list[str] = []  # labels referenced while rendering with mark=True
        db = text_context_db()
        macros = [MacroTextSpec(n, simplify_repl=self._ref) for n in REF_MACROS]
        macros += [MacroTextSpec(n, simplify_repl=self._ref_range) for n in RANGE_REF_MACROS]
        macros += [MacroTextSpec(n, simplify_repl=self._cite) for n in CITE_MACROS]
        macros += [MacroTextSpec(n, discard=True) for n in DROPPED]
        macros += [
            MacroTextSpec("hyperref", simplify_repl=self._hyperref),
            MacroTextSpec("href", simplify_repl=lambda n, l2tobj: self._arg(l2tobj, n, 1)),
            MacroTextSpec("url", simplify_repl=lambda n, l2tobj: arg_text(n, 0) or ""),
            MacroTextSpec("textcolor", simplify_repl=lambda n, l2tobj: self._arg(l2tobj, n, 2)),
            MacroTextSpec("colorbox", simplify_repl=lambda n, l2tobj: self._arg(l2tobj, n, 2)),
            MacroTextSpec("colhead", simplify_repl=lambda n, l2tobj: self._arg(l2tobj, n, 0)),
            MacroTextSpec("multirow", simplify_repl=lambda n, l2tobj: self._arg(l2tobj, n, 3)),
            MacroTextSpec("multicolumn", simplify_repl=lambda n, l2tobj: self._arg(l2tobj, n, 2)),
            MacroTextSpec("tablehead", simplify_repl=lambda n, l2tobj: self._arg(l2tobj, n, 0)),
            MacroTextSpec("rotatebox", simplify_repl=lambda n, l2tobj: self._arg(l2tobj, n, 2)),
            MacroTextSpec("unit", simplify_repl=lambda n, l2tobj: ""),
            MacroTextSpec("input", discard=True),
            MacroTextSpec("include", discard=True),  # never read files here
            MacroTextSpec("figurename", "Figure"),
            MacroTextSpec("tablename", "Table"),
            MacroTextSpec("figureautorefname", "Figure"),
            MacroTextSpec("tableautorefname", "Table"),
            MacroTextSpec("ldots", "…"),
            MacroTextSpec("dots", "…"),
            MacroTextSpec("textasciitilde", "~"),
        ]
        envs = [
            EnvironmentTextSpec(n, discard=True)
            for n in (
                "figure",
                "figure*",
                "table",
                "table*",
                "wrapfigure",
                "wraptable",
                "SCfigure",
                "SCtable",
                "sidewaysfigure",
                "sidewaystable",
                "deluxetable",
                "deluxetable*",
                "tikzpicture",
                "thebibliography",
                "algorithm",
                "algorithm*",
                "lstlisting",
                "minted",
                "verbatim",
                "Verbatim",
                "comment",
            )
        ]
        # pylatexenc's parser gives these an argument but its text converter has no rule for them, so it
        # would drop the argument with the command: keep the text.
        macros += [
            MacroTextSpec(name, simplify_repl=lambda n, l2tobj: self._arg(l2tobj, n, 0))
            for name in ("mbox", "textmd", "textsf", "texttt", "textup", "textnormal", "verb", "citetext")
        ]
        # Bold and italic math letters as plain letters: the PDF's \mathbf{y} reads "y", not "𝐲".
        macros += [
            MacroTextSpec(name, simplify_repl=lambda n, l2tobj: self._arg(l2tobj, n, 0))
            for name in ("mathbf", "mathit", "mathsf", "mathtt", "boldsymbol", "bm", "pmb", "mathnormal")
        ]
        db.add_context_category("scitune", macros=macros, environments=envs, prepend=True)
        self.l2t = LatexNodes2Text(latex_context=db, math_mode="text", strict_latex_spaces=False)

    @staticmethod
    def _arg(l2tobj, node, index: int) -> str:
        return l2tobj.nodelist_to_text(arg_nodes(node, index))

    # -- references --

    def _emit(self, label: str, text: str) -> str:
        if self.mark and label in self.labels:
            self.marked.append(label)
            return f"{MARK_OPEN}{len(self.marked) - 1}{MARK_CLOSE}{text}"
        return text

    def _number(self, label: str) -> str:
        t = self.labels.get(label)
        return t.number if t else "??"

    def _ref(self, n, macroname: str) -> str:
        labels = [x.strip() for x in (arg_text(n, 1) or "").split(",") if x.strip()]
        if not labels:
            return ""
        if macroname == "eqref":  # equations only: never a mention of a float
            return " ".join(f"({self._number(x)})" for x in labels)
        if macroname == "subref":
            return " ".join(self._emit(x, f"({self._subletter(x)})") for x in labels)
        if macroname == "nameref":
            t = self.labels.get(labels[0])
            return self._emit(labels[0], (t.title if t and t.title else self._number(labels[0])))
        if macroname in ("pageref", "cpageref", "Cpageref"):
            return "?"
        if macroname in ("cref", "Cref", "vref", "Vref", "autoref", "Autoref", "fref", "Fref"):
            return self._named(
                labels,
                capital=macroname[0].isupper() or macroname == "autoref",
                autoref=macroname.lower() == "autoref",
            )
        return ", ".join(self._emit(x, self._number(x)) for x in labels)

    def _subletter(self, label: str) -> str:
        t = self.labels.get(label)
        if t is None:
            return "??"
        m = re.search(r"([a-z])$", t.number)
        return m.group(1) if m else t.number

    def _named(
        self, labels: list[str], capital: bool, autoref: bool = False, joiner: str | None = None
    ) -> str:
        kinds = [self.labels[x].kind if x in self.labels else "other" for x in labels]
        kind = kinds[0]
        names = CREF_NAMES.get(kind)
        plural = len(labels) > 1
        if autoref:
            name = AUTOREF_NAMES.get(kind, "")
        elif names:
            name = names[(2 if capital else 0) + (1 if plural else 0)]
        else:
            name = ""
        parts = [self._emit(x, self._number(x)) for x in labels]
        if kind == "equation" and not autoref:
            parts = [f"({p})" for p in parts]
        if joiner:
            body = f" {joiner} ".join(parts)
        elif len(parts) == 1:
            body = parts[0]
        elif len(parts) == 2:
            body = f"{parts[0]} and {parts[1]}"
        else:
            body = ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"{name} {body}".strip()

    def _ref_range(self, n, macroname: str) -> str:
        a, b = (arg_text(n, 1) or "").strip(), (arg_text(n, 2) or "").strip()
        return self._named([a, b], capital=macroname[0].isupper(), joiner="to")

    def _hyperref(self, n, l2tobj) -> str:
        label = (arg_text(n, 0) or "").strip()
        text = l2tobj.nodelist_to_text(arg_nodes(n, 1))
        return self._emit(label, text) if label else text

    # -- citations --

    def _cite(self, n, macroname: str) -> str:
        pre, post = arg_text(n, 1), arg_text(n, 2)
        if pre is not None and post is None:
            pre, post = None, pre  # one optional argument is the post-note
        keys = (arg_text(n, 3) or "").split(",")
        text = self.bib.render(macroname.rstrip("*"), keys, _plain(pre), _plain(post))
        return f"{CITE_OPEN}{text}{CITE_CLOSE}" if self.mark and text else text

    # -- entry points --

    def render(self, nodes: list, mark: bool = False) -> tuple[str, list[str]]:
        """(plain text, labels referenced in it) of a node list; markers kept when `mark`."""
        self.mark, self.marked = mark, []
        parts: list[str] = []
        run: list = []
        for piece in list(nodes) + [None]:
            if piece is not None and not isinstance(piece, str):
                run.append(piece)
                continue
            if run:
                parts.append(self._nodes_to_text(run))
                run = []
            if isinstance(piece, str):
                parts.append(piece)  # plain text cut from a chars node (paragraph pieces)
        text = "".join(parts)
        marked = self.marked
        self.mark, self.marked = False, []
        return clean_text(text), marked

    def _nodes_to_text(self, nodes: list) -> str:
        try:
            return self.l2t.nodelist_to_text(nodes)
        except Exception:  # noqa: BLE001 - pylatexenc bugs on odd input: fall back node by node
            parts = []
            for node in nodes:
                try:
                    parts.append(self.l2t.nodelist_to_text([node]))
                except Exception:  # noqa: BLE001
                    parts.append(" ")
            return "".join(parts)

    def text(self, nodes: list) -> str:
        return self.render(nodes)[0]


def _plain(s: str | None) -> str | None:
    if s is None or not s.strip():
        return None
    return clean_text(LatexNodes2Text().latex_to_text(s))


def strip_markers(text: str) -> str:
    return re.sub(f"{MARK_OPEN}\\d+{MARK_CLOSE}|[{CITE_OPEN}{CITE_CLOSE}]", "", text)


__all__: list[str] = [
    "PARSE_CONTEXT",
    "Renderer",
    "Target",
    "arg_nodes",
    "arg_text",
    "clean_text",
    "is_starred",
    "parse",
    "strip_markers",
]
