"""Walk the parsed document once, in order: floats with their numbers, labels, paragraphs.

`walk_document(nodes, document_class)` returns a `Walk`: every figure and table float (`RawFloat`:
caption nodes, label, number as LaTeX assigns it, graphics with their layout, subfigure panels, table
cells), every label with what it points at (float, subfigure, section, equation) and its number, and
the body paragraphs as node lists. Text is rendered later (text.py), once every label is known.

Numbers follow LaTeX: a counter steps at each numbered `\\caption` of a float (so one float
environment with two captions is two floats and a float without a caption is none), `\\appendix`,
`\\setcounter`, `\\renewcommand{\\thefigure}` and friends apply where they stand (numbering.py), AASTeX
`\\tablenum`/`\\figurenum` override the number, and with `\\captionsetup{labelformat=empty}` the number
is the one typed at the start of the caption (`Figure S2.1: ...`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pylatexenc import latexwalker as lw

from .numbering import Counters
from .syntax import FIGURE_ENVS, SUB_ENVS, TABLE_ENVS, TABULAR_ENVS
from .text import Target, arg_nodes, arg_text, is_starred

DRAWING_ENVS = {"tikzpicture", "pgfpicture", "picture", "pspicture", "axis", "forest", "circuitikz", "tikzcd"}
# Environments whose body is never prose: no paragraphs are taken from them.
NON_PROSE_ENVS = {
    "thebibliography",
    "algorithm",
    "algorithm*",
    "algorithmic",
    "algorithm2e",
    "lstlisting",
    "minted",
    "verbatim",
    "Verbatim",
    "comment",
    "listing",
    "tikzpicture",
    "pgfpicture",
    "filecontents",
    "filecontents*",
    "titlepage",
    "frontmatter",
} | TABULAR_ENVS
LIST_ENVS = {"itemize", "enumerate", "description", "enumerate*", "itemize*", "compactitem", "compactenum"}
NUMBERED_MATH = {
    "equation",
    "align",
    "eqnarray",
    "gather",
    "multline",
    "flalign",
    "alignat",
    "IEEEeqnarray",
    "dmath",
    "xalignat",
}
MULTI_ROW_MATH = {"align", "eqnarray", "gather", "flalign", "alignat", "IEEEeqnarray", "xalignat"}
SECTIONS = {
    "part": None,
    "chapter": "chapter",
    "section": "section",
    "subsection": "subsection",
    "subsubsection": "subsubsection",
    "paragraph": None,
    "subparagraph": None,
}
NOT_PROSE_MACROS = {
    "title",
    "author",
    "date",
    "affiliation",
    "affil",
    "altaffiliation",
    "address",
    "email",
    "thanks",
    "keywords",
    "maketitle",
    "institute",
    "correspondingauthor",
    "shorttitle",
    "shortauthors",
    "received",
    "accepted",
    "journal",
    "submitjournal",
    "bibliography",
    "bibliographystyle",
    "printbibliography",
    "tableofcontents",
    "orcid",
    "abstract",
}
GRAPHIC_MACROS = {
    "includegraphics",
    "plotone",
    "plottwo",
    "epsfig",
    "psfig",
    "epsfbox",
    "includestandalone",
    "includesvg",
}
BREAK_MACROS = {"\\", "par", "newline", "vspace", "vskip", "bigskip", "medskip", "smallskip", "linebreak"}

TEXT_WIDTH_CM = 16.5  # for absolute widths (`width=8cm`): a typical one-column text width


@dataclass
class Graphic:
    name: str  # as written in the source
    base_dir: str  # the \import folder in effect, relative to the source root ('' when none)
    width: float | None  # fraction of the text width, when the source says
    row_break: bool  # starts a new row of the layout
    panel: int | None = None  # index into RawFloat.panels
    options: str = ""  # the \includegraphics options (page=, trim=, clip)


@dataclass
class Panel:
    label: str | None = None
    caption: list | None = None  # caption nodes
    letter: str | None = None


@dataclass
class RawFloat:
    kind: str  # figure | table
    env: str
    number: str
    caption: list  # caption nodes (the long caption)
    label: str | None = None
    typed_number: bool = False  # labelformat=empty: the printed number is typed in the caption
    graphics: list[Graphic] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    cells: list = field(default_factory=list)  # nodes of tabular bodies (tables' words)
    drawing: bool = False  # TikZ/pgfplots/picture: drawn by LaTeX, no file


@dataclass
class Paragraph:
    pieces: list  # pylatexenc nodes and plain strings
    section: str | None = None


@dataclass
class Walk:
    floats: list[RawFloat] = field(default_factory=list)
    labels: dict[str, Target] = field(default_factory=dict)
    paragraphs: list[Paragraph] = field(default_factory=list)
    titles: dict[str, list] = field(default_factory=dict)  # label -> title nodes (sections)
    graphicspath: list[str] = field(default_factory=list)


# --- small node helpers --------------------------------------------------------------------------


def iter_nodes(nodes):
    """Every node below `nodes`, depth first, arguments included."""
    stack = list(reversed(nodes or []))
    while stack:
        n = stack.pop()
        if n is None:
            continue
        yield n
        children = []
        if (
            n.isNodeType(lw.LatexGroupNode)
            or n.isNodeType(lw.LatexEnvironmentNode)
            or n.isNodeType(lw.LatexMathNode)
        ):
            children = list(n.nodelist or [])
        argd = getattr(n, "nodeargd", None)
        if argd is not None and argd.argnlist:
            children = [a for a in argd.argnlist if a is not None] + children
        stack.extend(reversed(children))


def contains_macro(nodes, names: set[str]) -> bool:
    return any(n.isNodeType(lw.LatexMacroNode) and n.macroname in names for n in iter_nodes(nodes))


_LEN = re.compile(r"([0-9]*\.?[0-9]+)?\s*\\(textwidth|linewidth|columnwidth|hsize|paperwidth|textheight)")
_ABS = re.compile(r"([0-9]*\.?[0-9]+)\s*(cm|mm|in|pt|bp)")
_UNIT_CM = {"cm": 1.0, "mm": 0.1, "in": 2.54, "pt": 2.54 / 72.27, "bp": 2.54 / 72}


def width_fraction(spec: str | None) -> float | None:
    """`0.45\\textwidth` -> 0.45, `8cm` -> ~0.48, None when not a width."""
    if not spec:
        return None
    m = _LEN.search(spec)
    if m:
        if m.group(2) == "textheight":
            return None
        return float(m.group(1)) if m.group(1) else 1.0
    m = _ABS.search(spec)
    if m:
        return min(1.0, float(m.group(1)) * _UNIT_CM[m.group(2)] / TEXT_WIDTH_CM)
    return None


def _option(options: str | None, key: str) -> str | None:
    if not options:
        return None
    m = re.search(r"(?:^|,)\s*" + key + r"\s*=\s*([^,]+)", options)
    return m.group(1).strip() if m else None


def _ints(text: str | None) -> int | None:
    m = re.fullmatch(r"\s*(-?\d+)\s*", text or "")
    return int(m.group(1)) if m else None


# --- the walk ------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    """Where the float collector is: inside which panel, minipage group, and at what width."""

    panel: int | None = None
    group: int | None = None
    scale: float = 1.0


@dataclass
class _Caption:
    nodes: list
    starred: bool
    group: int | None
    order: int
    kind: str | None = None  # \captionof{table} inside a figure environment names its own kind


@dataclass
class _Event:
    """One thing met inside a float environment, in source order; `_emit_floats` gives each to a float.

    kind -> value: graphic -> Graphic, caption -> _Caption, label -> label name, cells -> the tabular
    node, drawing -> None, number -> the AASTeX number, labelformat -> True when empty, continued -> None.
    """

    kind: str
    value: object = None
    group: int | None = None  # the captioned minipage it sits in (None: none, or a caption/number/format)


@dataclass
class _Parts:
    """What `_collect` gathers from one float environment."""

    events: list[_Event] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    groups: int = 0  # captioned minipages met so far: each is a group of its own


class DocumentWalker:
    def __init__(self, counters: Counters):
        self.c = counters
        self.out = Walk()
        self.par: list = []
        self.section: str | None = None
        self.target: Target | None = None  # what a \label names right now
        self.dirs: list[str] = [""]
        self.labelformat_empty = False
        self.loose_graphics: list[Graphic] = []  # graphics outside floats, for \captionof
        self._brk = False  # a row break seen since the last graphic of the float being collected

    # -- paragraphs --

    def end_paragraph(self) -> None:
        if any(isinstance(p, str) and p.strip() or not isinstance(p, str) for p in self.par):
            self.out.paragraphs.append(Paragraph(self.par, self.section))
        self.par = []
        self.loose_graphics = []

    def walk(self, nodes) -> None:
        for node in nodes or []:
            self.visit(node)

    def visit(self, node) -> None:
        if node is None or node.isNodeType(lw.LatexCommentNode):
            return
        if node.isNodeType(lw.LatexCharsNode):
            parts = re.split(r"\n[ \t]*\n\s*", node.chars)
            for k, part in enumerate(parts):
                if k:
                    self.end_paragraph()
                if part:
                    self.par.append(part)
        elif node.isNodeType(lw.LatexGroupNode):
            self.walk(node.nodelist)
        elif node.isNodeType(lw.LatexMacroNode):
            self.macro(node)
        elif node.isNodeType(lw.LatexEnvironmentNode):
            self.environment(node)
        else:  # math, specials
            if node.isNodeType(lw.LatexMathNode):
                self._math_labels(node, numbered=False)
            self.par.append(node)

    # -- macros --

    def _set_label(self, name: str | None) -> None:
        if not name:
            return
        name = name.strip()
        target = self.target or Target("other", "??")
        self.out.labels.setdefault(name, Target(target.kind, target.number, target.float_index, target.title))
        if target.kind in ("figure", "table") and target.float_index is not None:
            f = self.out.floats[target.float_index]  # \captionof{figure}{...}\label{x} outside a float
            f.label = f.label or name
        if target.kind in ("section", "appendix") and getattr(self, "_title_nodes", None) is not None:
            self.out.titles[name] = self._title_nodes

    def macro(self, node) -> None:
        name = node.macroname
        if name in SECTIONS:
            self.end_paragraph()
            counter = SECTIONS[name]
            title = arg_nodes(node, 2)
            self._title_nodes = title
            if name in ("section", "chapter"):
                self.section = re.sub(r"\s+", " ", arg_text(node, 2) or "").strip() or None
            if counter and not is_starred(node):
                self.c.step(counter)
                kind = "appendix" if self.c.in_appendix and counter in ("section", "chapter") else "section"
                self.target = Target(kind, self.c.format(counter))
            for inner in iter_nodes(title):  # \section{Results\label{sec:res}}
                if inner.isNodeType(lw.LatexMacroNode) and inner.macroname == "label":
                    self._set_label(arg_text(inner, 0))
            return
        if name == "label":
            self._set_label(arg_text(node, 0))
        elif name == "appendix":
            self.end_paragraph()
            self.c.appendix()
        elif name in ("renewcommand", "newcommand", "providecommand"):
            self._counter_format(node)
        elif name in ("setcounter", "addtocounter"):
            value = _ints(arg_text(node, 1))
            counter = (arg_text(node, 0) or "").strip()
            if value is not None and counter:
                (self.c.set if name == "setcounter" else self.c.add)(counter, value)
        elif name in ("stepcounter", "refstepcounter"):
            counter = (arg_text(node, 0) or "").strip()
            if counter:
                self.c.step(counter)
                if name == "refstepcounter":
                    self.target = Target("other", self.c.format(counter))
        elif name in ("counterwithin", "numberwithin"):
            # \counterwithin*{child}{parent} and \numberwithin[fmt]{child}{parent}: arguments 1 and 2.
            child, parent = (arg_text(node, 1) or "").strip(), (arg_text(node, 2) or "").strip()
            if child and parent:
                self.c.within(child, parent, change_format=not (name == "counterwithin" and is_starred(node)))
        elif name == "captionsetup":
            self._captionsetup(arg_text(node, 1) or "")
        elif name == "captionof":
            self._captionof(node)
        elif name == "SciTuneEnterDir":
            self.dirs.append((arg_text(node, 0) or "").strip())
        elif name == "SciTuneLeaveDir":
            if len(self.dirs) > 1:
                self.dirs.pop()
        elif name == "graphicspath":
            self.out.graphicspath += [d.strip() for d in re.findall(r"\{([^{}]*)\}", arg_text(node, 0) or "")]
        elif name in GRAPHIC_MACROS:
            self.loose_graphics += self._graphics(node, _Ctx(), False)
        elif name in ("par", "item", "bibitem"):
            self.end_paragraph()
        elif name in NOT_PROSE_MACROS:
            pass
        else:
            self.par.append(node)

    def _counter_format(self, node) -> None:
        m = re.fullmatch(r"\s*\\the([a-zA-Z]+)\s*", arg_text(node, 1) or "")
        if m:
            self.c.set_format(m.group(1), arg_text(node, 4) or "")

    def _captionsetup(self, options: str) -> None:
        fmt = _option(options, "labelformat")
        if fmt is not None:
            self.labelformat_empty = fmt.strip("{} ") == "empty"

    # -- environments --

    def environment(self, node) -> None:
        name = node.environmentname
        base = name.rstrip("*")
        # A counter stepped inside an environment names labels only inside it (LaTeX groups
        # \@currentlabel), so what a \label after the environment names is restored afterwards.
        if name in FIGURE_ENVS or name in TABLE_ENVS:
            self.end_paragraph()
            saved = self.target
            self.float_env(node, "figure" if name in FIGURE_ENVS else "table")
            self.target = saved
            self.end_paragraph()
        elif base in NUMBERED_MATH or name in (
            "equation*",
            "displaymath",
            "align*",
            "gather*",
            "multline*",
            "eqnarray*",
            "flalign*",
            "alignat*",
        ):
            saved = self.target
            self._math_labels(node, numbered=not name.endswith("*") and name != "displaymath")
            self.target = saved
            self.par.append(node)
        elif name in ("appendices", "appendix", "subappendices"):
            self.end_paragraph()
            self.c.appendix()
            self.walk(node.nodelist)
        elif name == "subequations":
            saved, fmt = self.target, self.c.formats.get("equation", "")
            self.c.step("equation")
            parent, value = self.c.format("equation"), self.c.values["equation"]
            self.target = Target("equation", parent)
            self.c.set_format("equation", parent + "\\alph{equation}")
            self.c.set("equation", 0)
            self.walk(node.nodelist)
            self.c.set_format("equation", fmt)
            self.c.set("equation", value)
            self.target = saved
        elif name in NON_PROSE_ENVS or name in DRAWING_ENVS:
            if name in ("thebibliography",):
                self.end_paragraph()
        elif name in LIST_ENVS or name in ("abstract", "quote", "quotation", "center"):
            self.end_paragraph()
            section, self.section = self.section, ("Abstract" if name == "abstract" else self.section)
            self.walk(node.nodelist)
            self.end_paragraph()
            self.section = section if name == "abstract" else self.section
        else:
            self.walk(node.nodelist)

    def _math_labels(self, node, numbered: bool) -> None:
        """Number a display-math environment and point its labels at the right row."""
        name = getattr(node, "environmentname", None) or ""
        rows: list[list] = [[]]
        if name.rstrip("*") in MULTI_ROW_MATH:
            for child in node.nodelist or []:
                if child.isNodeType(lw.LatexMacroNode) and child.macroname == "\\":
                    rows.append([])
                else:
                    rows[-1].append(child)
            if rows and not any(
                not (isinstance(x, lw.LatexCharsNode) and not x.chars.strip()) for x in rows[-1]
            ):
                rows.pop()  # a trailing \\ makes no row
        else:
            rows = [list(node.nodelist or [])]
        for row in rows:
            macros = [n for n in iter_nodes(row) if n.isNodeType(lw.LatexMacroNode)]
            tag = next((n for n in macros if n.macroname == "tag"), None)
            labels = [arg_text(n, 0) for n in macros if n.macroname == "label"]
            if tag is not None:
                self.target = Target("equation", (arg_text(tag, 1) or "").strip())
            elif numbered and not any(n.macroname in ("nonumber", "notag") for n in macros):
                self.c.step("equation")
                self.target = Target("equation", self.c.format("equation"))
            else:
                continue
            for label in labels:
                self._set_label(label)

    # -- graphics --

    def _graphics(self, node, ctx: _Ctx, row_break: bool) -> list[Graphic]:
        name = node.macroname
        base = self.dirs[-1]
        if name == "plottwo":
            return [
                Graphic((arg_text(node, 0) or "").strip(), base, 0.5 * ctx.scale, row_break, ctx.panel),
                Graphic((arg_text(node, 1) or "").strip(), base, 0.5 * ctx.scale, False, ctx.panel),
            ]
        if name == "plotone":
            return [Graphic((arg_text(node, 0) or "").strip(), base, ctx.scale, row_break, ctx.panel)]
        if name in ("epsfig", "psfig"):
            opts = arg_text(node, 0) or ""
            file = _option(opts, "file") or _option(opts, "figure")
            width = width_fraction(_option(opts, "width"))
            return (
                [Graphic(file.strip("{} "), base, width and width * ctx.scale, row_break, ctx.panel)]
                if file
                else []
            )
        if name == "includesvg":
            return []
        opts = arg_text(node, 1) if name == "includegraphics" else arg_text(node, 0)
        path = arg_text(node, 3) if name == "includegraphics" else arg_text(node, 1)
        if not path or not path.strip():
            return []
        width = width_fraction(_option(opts, "width"))
        scale = _option(opts, "scale")
        if width is None and scale and re.fullmatch(r"[0-9.]+", scale):
            width = None  # scale depends on the file's own size: leave the layout to the image
        return [
            Graphic(
                path.strip(), base, width * ctx.scale if width else None, row_break, ctx.panel, opts or ""
            )
        ]

    # -- floats --

    def float_env(self, node, kind: str) -> None:
        parts = _Parts()
        self._brk = False
        wrap = node.environmentname.startswith("wrap")
        scale = (width_fraction(arg_text(node, 3)) or 1.0) if wrap else 1.0
        if node.environmentname.rstrip("*") in ("deluxetable", "splitdeluxetable", "longtable"):
            parts.events.append(_Event("cells", node))  # the environment is the table itself
        self._collect(node.nodelist, _Ctx(scale=scale), parts)
        self._emit_floats(node.environmentname, kind, parts.events, parts.panels)

    def _captionof(self, node) -> None:
        kind = (arg_text(node, 1) or "").strip()
        if kind not in ("figure", "table"):
            return
        events = [_Event("graphic", g) for g in self.loose_graphics]
        events.append(_Event("caption", _Caption(arg_nodes(node, 3), is_starred(node), None, 0)))
        self.loose_graphics = []
        self._emit_floats("captionof", kind, events, [])

    def _collect(self, nodes, ctx: _Ctx, parts: _Parts) -> None:
        """Events and panels of a float's body, in order; macros go to their handler in `_MACRO_HANDLERS`."""
        for n in nodes or []:
            if n is None or n.isNodeType(lw.LatexCommentNode):
                continue
            if n.isNodeType(lw.LatexCharsNode):
                if re.search(r"\n[ \t]*\n", n.chars):
                    self._brk = True
            elif n.isNodeType(lw.LatexGroupNode):
                self._collect(n.nodelist, ctx, parts)
            elif n.isNodeType(lw.LatexMathNode) or n.isNodeType(lw.LatexSpecialsNode):
                continue
            elif n.isNodeType(lw.LatexEnvironmentNode):
                self._collect_environment(n, ctx, parts)
            else:
                _MACRO_HANDLERS.get(n.macroname, DocumentWalker._in_arguments)(self, n, ctx, parts)

    def _panel_ctx(self, ctx: _Ctx, parts: _Parts, width: float) -> _Ctx:
        """A new subfigure panel: what is collected in it belongs to it."""
        parts.panels.append(Panel())
        return _Ctx(len(parts.panels) - 1, ctx.group, ctx.scale * width)

    def _collect_environment(self, n, ctx: _Ctx, parts: _Parts) -> None:
        name = n.environmentname
        if name in SUB_ENVS:
            width = width_fraction(arg_text(n, 3)) or 1.0
            self._collect(n.nodelist, self._panel_ctx(ctx, parts, width), parts)
        elif name == "minipage":
            self._collect_minipage(n, ctx, parts)
        elif name in TABULAR_ENVS:
            parts.events.append(_Event("cells", n, ctx.group))
        elif name in DRAWING_ENVS:
            parts.events.append(_Event("drawing", None, ctx.group))
        elif name in ("deluxetable", "deluxetable*", "splitdeluxetable", "splitdeluxetable*"):
            parts.events.append(_Event("cells", n, ctx.group))
            self._collect(n.nodelist, ctx, parts)
        elif name.rstrip("*") not in NUMBERED_MATH:
            self._collect(n.nodelist, ctx, parts)

    def _collect_minipage(self, n, ctx: _Ctx, parts: _Parts) -> None:
        """A minipage is a panel (it holds a \\subcaption), a group of its own (it holds a \\caption),
        or just a narrower box."""
        width = width_fraction(arg_text(n, 3)) or 1.0
        if (
            ctx.panel is None
            and contains_macro(n.nodelist, {"subcaption"})
            and not contains_macro(n.nodelist, {"caption"})
        ):
            self._collect(n.nodelist, self._panel_ctx(ctx, parts, width), parts)
        elif ctx.panel is None and contains_macro(n.nodelist, {"caption", "captionof"}):
            parts.groups += 1
            self._collect(n.nodelist, _Ctx(None, parts.groups, ctx.scale * width), parts)
        else:
            self._collect(n.nodelist, _Ctx(ctx.panel, ctx.group, ctx.scale * width), parts)

    # -- the macros of a float's body (dispatched by _MACRO_HANDLERS, below the class) --

    def _on_break(self, n, ctx: _Ctx, parts: _Parts) -> None:
        self._brk = True

    def _on_graphic(self, n, ctx: _Ctx, parts: _Parts) -> None:
        for g in self._graphics(n, ctx, self._brk):
            parts.events.append(_Event("graphic", g, ctx.group))
        self._brk = False
        if n.macroname == "includestandalone":
            parts.events.append(_Event("drawing", None, ctx.group))

    def _on_caption(self, n, ctx: _Ctx, parts: _Parts) -> None:
        name = n.macroname
        caption = arg_nodes(n, 2) if name != "tablecaption" else arg_nodes(n, 0)
        if ctx.panel is not None or name == "subcaption":
            if ctx.panel is not None:
                parts.panels[ctx.panel].caption = caption
                self._panel_labels(caption, parts.panels[ctx.panel])
            return
        starred = is_starred(n) and name == "caption"
        parts.events.append(_Event("caption", _Caption(caption, starred, ctx.group, len(parts.events))))
        for inner in iter_nodes(caption):
            if inner.isNodeType(lw.LatexMacroNode) and inner.macroname == "label":
                parts.events.append(_Event("label", arg_text(inner, 0), ctx.group))

    def _on_captionof(self, n, ctx: _Ctx, parts: _Parts) -> None:
        if ctx.panel is not None:  # inside a panel it is just a box: look into its arguments
            self._in_arguments(n, ctx, parts)
            return
        kind = (arg_text(n, 1) or "").strip()
        if kind in ("figure", "table"):
            caption = _Caption(arg_nodes(n, 3), is_starred(n), ctx.group, len(parts.events), kind)
            parts.events.append(_Event("caption", caption))

    def _on_subfloat(self, n, ctx: _Ctx, parts: _Parts) -> None:
        if n.macroname == "subcaptionbox":
            caption = arg_nodes(n, 2)
            content, width = arg_nodes(n, 5), width_fraction(arg_text(n, 3)) or 1.0
        else:
            given = arg_text(n, 1) is not None
            caption = arg_nodes(n, 1) if given else (arg_nodes(n, 0) if arg_text(n, 0) is not None else None)
            content, width = arg_nodes(n, 2), 1.0
        inner = self._panel_ctx(ctx, parts, width)
        panel = parts.panels[inner.panel]
        panel.caption = caption
        self._panel_labels(caption or [], panel)
        self._collect(content, inner, parts)

    def _on_label(self, n, ctx: _Ctx, parts: _Parts) -> None:
        label = (arg_text(n, 0) or "").strip()
        if ctx.panel is None:
            parts.events.append(_Event("label", label, ctx.group))
        elif parts.panels[ctx.panel].label is None:
            parts.panels[ctx.panel].label = label

    def _on_number(self, n, ctx: _Ctx, parts: _Parts) -> None:
        parts.events.append(_Event("number", (arg_text(n, 0) or "").strip()))

    def _on_captionsetup(self, n, ctx: _Ctx, parts: _Parts) -> None:
        fmt = _option(arg_text(n, 1) or "", "labelformat")
        if fmt is not None:
            parts.events.append(_Event("labelformat", fmt.strip("{} ") == "empty"))

    def _on_drawing(self, n, ctx: _Ctx, parts: _Parts) -> None:
        parts.events.append(_Event("drawing", None, ctx.group))

    def _on_enter_dir(self, n, ctx: _Ctx, parts: _Parts) -> None:
        self.dirs.append((arg_text(n, 0) or "").strip())

    def _on_leave_dir(self, n, ctx: _Ctx, parts: _Parts) -> None:
        if len(self.dirs) > 1:
            self.dirs.pop()

    def _on_counter(self, n, ctx: _Ctx, parts: _Parts) -> None:
        self.macro(n)  # counter changes inside a float still count

    def _on_continued(self, n, ctx: _Ctx, parts: _Parts) -> None:
        parts.events.append(_Event("continued", None, ctx.group))

    def _in_arguments(self, n, ctx: _Ctx, parts: _Parts) -> None:
        # Graphics, labels and tables also hide in arguments: \resizebox{..}{!}{\includegraphics..},
        # \scalebox, \fbox, \parbox, \adjustbox, \centerline{...}.
        argd = getattr(n, "nodeargd", None)
        for arg in argd.argnlist if argd is not None and argd.argnlist else []:
            if arg is not None and not arg.isNodeType(lw.LatexCharsNode):
                self._collect([arg], ctx, parts)

    def _continue(self, kind: str, events: list[_Event], panels: list[Panel]) -> bool:
        """`\\ContinuedFloat`: the previous float of this kind's number; its graphics and panels join it."""
        previous = next((f for f in reversed(self.out.floats) if f.kind == kind), None)
        if previous is None:
            return False
        offset = len(previous.panels)
        letters = sum(1 for p in previous.panels if p.letter)
        index = self.out.floats.index(previous)
        for p in panels:
            if p.caption is not None:
                letters += 1
                p.letter = chr(96 + letters) if letters <= 26 else str(letters)
            if p.label:
                self.out.labels.setdefault(
                    p.label, Target("sub" + kind, previous.number + (p.letter or ""), index)
                )
        previous.panels.extend(panels)
        for e in events:
            if e.kind == "graphic":
                g = e.value
                g.panel = g.panel + offset if g.panel is not None else None
                previous.graphics.append(g)
            elif e.kind == "label":
                self.out.labels.setdefault(e.value, Target(kind, previous.number, index))
        return True

    @staticmethod
    def _panel_labels(caption_nodes, panel: Panel) -> None:
        for inner in iter_nodes(caption_nodes):
            if inner.isNodeType(lw.LatexMacroNode) and inner.macroname == "label" and panel.label is None:
                panel.label = (arg_text(inner, 0) or "").strip()

    def _emit_floats(self, env: str, kind: str, events: list[_Event], panels: list[Panel]) -> None:
        captions = [(i, e.value) for i, e in enumerate(events) if e.kind == "caption"]
        numbered = [(i, c) for i, c in captions if not c.starred]
        if env.startswith("longtable"):
            numbered = numbered[:1]  # one table; its caption repeats in the head of every page
        if not numbered:
            return
        if (
            any(e.kind == "continued" for e in events)
            and len(numbered) == 1
            and self._continue(kind, events, panels)
        ):
            return
        override = next((e.value for e in events if e.kind == "number" and e.value), None)
        empty = self.labelformat_empty
        for e in events:
            if e.kind == "labelformat":
                empty = e.value
        floats: list[RawFloat] = []
        for _, cap in numbered:
            own = cap.kind or kind
            if override and len(numbered) == 1:
                number = override
            else:
                self.c.step(own)
                number = self.c.format(own)
            floats.append(RawFloat(own, env, number, cap.nodes, typed_number=empty))
        owner = self._owners(events, numbered, kind)
        for i, e in enumerate(events):
            f = floats[owner[i]]
            if e.kind == "graphic":
                f.graphics.append(e.value)
            elif e.kind == "label" and f.label is None:
                f.label = e.value
            elif e.kind == "cells":
                f.cells.append(e.value)
            elif e.kind == "drawing":
                f.drawing = True
        first = len(self.out.floats)
        # Panels belong to the float that owns their first graphic (or the first float).
        panel_owner = {
            g.panel: owner[i]
            for i, e in reversed(list(enumerate(events)))
            if e.kind == "graphic" and (g := e.value).panel is not None
        }
        for k, f in enumerate(floats):
            index = first + k
            mine = [j for j in range(len(panels)) if panel_owner.get(j, 0) == k]
            remap = {}
            letters = 0
            for j in mine:
                p = panels[j]
                if p.caption is None and p.label is None and not any(g.panel == j for g in f.graphics):
                    continue  # an empty spacer panel
                if p.caption is not None:
                    letters += 1
                    p.letter = chr(96 + letters) if letters <= 26 else str(letters)
                remap[j] = len(f.panels)
                f.panels.append(p)
            for g in f.graphics:
                g.panel = remap.get(g.panel) if g.panel is not None else None
            target = Target(f.kind, f.number, index)
            if f.label:
                self.out.labels.setdefault(f.label, target)
            for p in f.panels:
                if p.label:
                    sub = "sub" + f.kind
                    self.out.labels.setdefault(p.label, Target(sub, f.number + (p.letter or ""), index))
            self.target = target
        self.out.floats.extend(floats)

    @staticmethod
    def _owners(events: list[_Event], numbered: list, kind: str) -> list[int]:
        """Which float (index into `numbered`) each event belongs to.

        One caption: all of them. Several: by minipage group when the captions sit in minipages; else
        a figure's graphics belong to the next caption (captions go below figures) and a table's
        content to the previous one (captions go above tables).
        """
        if len(numbered) == 1:
            return [0] * len(events)
        by_group = {c.group: k for k, (_, c) in enumerate(numbered) if c.group is not None}
        positions = [pos for pos, _ in numbered]
        owners = []
        for i, e in enumerate(events):
            group = e.group
            if e.kind == "caption":
                owners.append(positions.index(i) if i in positions else 0)
                continue
            if group in by_group:
                owners.append(by_group[group])
                continue
            before = [k for k, p in enumerate(positions) if p < i]
            after = [k for k, p in enumerate(positions) if p > i]
            if e.kind == "label" or kind == "table":
                owners.append(before[-1] if before else 0)
            else:
                owners.append(after[0] if after else len(positions) - 1)
        return owners


def _handlers(*pairs) -> dict:
    """{macro name: handler} from (names, handler) pairs; a name may have one handler only."""
    table: dict = {}
    for names, handler in pairs:
        for name in names:
            assert name not in table, f"two handlers for \\{name}"
            table[name] = handler
    return table


# What `_collect` does with each macro in a float's body; any other macro is looked into for graphics,
# labels and tables in its arguments (`_in_arguments`).
_MACRO_HANDLERS = _handlers(
    (BREAK_MACROS, DocumentWalker._on_break),
    (GRAPHIC_MACROS, DocumentWalker._on_graphic),
    (("caption", "tablecaption", "subcaption"), DocumentWalker._on_caption),
    (("captionof",), DocumentWalker._on_captionof),
    (("subfloat", "subfigure", "subtable", "subcaptionbox"), DocumentWalker._on_subfloat),
    (("label",), DocumentWalker._on_label),
    (("tablenum", "figurenum"), DocumentWalker._on_number),
    (("captionsetup",), DocumentWalker._on_captionsetup),
    (("tikz", "pgfimage"), DocumentWalker._on_drawing),
    (("SciTuneEnterDir",), DocumentWalker._on_enter_dir),
    (("SciTuneLeaveDir",), DocumentWalker._on_leave_dir),
    (("renewcommand", "setcounter", "addtocounter", "stepcounter"), DocumentWalker._on_counter),
    (("ContinuedFloat",), DocumentWalker._on_continued),
)


def walk_document(nodes: list, counters: Counters) -> Walk:
    w = DocumentWalker(counters)
    w.walk(nodes)
    w.end_paragraph()
    return w.out
