"""The LaTeX side of `scitune-curate extract`: one source (folder or arXiv bundle) -> `SideResult`.

Flow: unpack (archives.py) -> main file and input tree (project.py) -> user macros expanded
(macros.py) -> one pylatexenc parse -> one walk for floats, numbers, labels and paragraphs (floats.py,
numbering.py) -> captions and paragraphs as plain text (text.py, cites.py) -> mentions (refs.py) ->
graphics resolved, rendered and composed (graphics.py).

A source that cannot be used at all raises `LatexSourceError` (the runner writes an `errors` row with
stage `parse`); an unsafe archive raises `UnsafeArchiveError` (stage `unpack`). Problems with one float
(a missing graphic, an unreadable EPS) become `FloatError`s and the other floats continue.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..archives import unpack
from ..figure_types.signals import latex_votes
from ..records import Float, FloatError, SideResult
from .cites import load_bibliography
from .floats import DocumentWalker, RawFloat, Walk
from .graphics import GraphicIndex, RenderError, compose, render_file, to_png
from .macros import expand_macros
from .numbering import Counters, rule_from_class_file
from .project import LatexSourceError, Project, load_project, looks_binary
from .refs import attach_mentions
from .text import Renderer, parse

__all__ = ["LatexSourceError", "analyse", "extract_latex"]

_CITE_KEYS = re.compile(r"\\[a-zA-Z]*cite[a-zA-Z]*\*?\s*(?:\[[^\]]*\]\s*){0,2}\{([^}]*)\}")
_DEF_THE = re.compile(r"\\[gx]?def\s*\\the([a-zA-Z]+)\s*\{")
_TYPED = re.compile(
    r"^\s*(?:Figure|Fig\.?|Table|Tab\.?|FIGURE|TABLE)\s*~?\s*([A-Z]{0,2}\.?\d+(?:\.\d+)*[a-z]?|[IVXL]+)"
    r"\s*[:.]?\s*"
)
_RELEVANT = re.compile(r"\\[a-zA-Z]*ref|fig|tab", re.IGNORECASE)


@dataclass
class Analysis:
    """Everything read from the source before images are rendered."""

    project: Project
    walk: Walk
    renderer: Renderer
    document_class: str
    preamble: str
    body: str
    macro_limit_hit: bool
    groups_flattened: bool = False


# Bodies no caption, label, graphic or sentence lives in: emptied before parsing (code listings and
# TikZ drawings are most of the parse time of the papers that have them). The environment stays, so a
# float still knows it holds a drawing or a listing.
_OPAQUE_ENVS = (
    "verbatim",
    "Verbatim",
    "BVerbatim",
    "LVerbatim",
    "lstlisting",
    "minted",
    "tikzpicture",
    "pgfpicture",
    "pspicture",
    "forest",
    "tikzcd",
    "circuitikz",
    "thebibliography",
    "filecontents",
    "filecontents*",
    "alltt",
    "pythoncode",
    "python",
)
_OPAQUE = re.compile(
    r"(\\begin\{(" + "|".join(re.escape(e) for e in _OPAQUE_ENVS) + r")\})(.*?)(\\end\{\2\})", re.DOTALL
)


def _empty_opaque(text: str) -> str:
    def keep_graphics(m: re.Match) -> str:
        if "\\includegraphics" in m.group(3) and "tikz" in m.group(2):  # an image under a TikZ overlay
            return m.group(0)
        return m.group(1) + " " + m.group(4)

    return _OPAQUE.sub(keep_graphics, text)


# Deeper groups than this are flattened before parsing: the parser recurses once per level and Python's
# stack ends near 400 (100,000 nested braces lost the whole paper); real papers nest under 30 deep.
MAX_GROUP_DEPTH = 200
_BRACE_TOKEN = re.compile(r"\\.|[{}]", re.DOTALL)


def cap_group_depth(text: str, limit: int = MAX_GROUP_DEPTH) -> tuple[str, bool]:
    """`text` with the braces nested deeper than `limit` removed (their content kept); whether any were."""
    out, pos, depth, cut = [], 0, 0, False
    for m in _BRACE_TOKEN.finditer(text):
        tok = m.group(0)
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        else:
            continue
        if depth > limit or (tok == "}" and depth >= limit):
            out.append(text[pos : m.start()])
            pos, cut = m.end(), True
    if not cut:
        return text, False
    out.append(text[pos:])
    return "".join(out), True


def _document_class(preamble: str) -> str:
    m = re.search(r"\\documentclass\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}", preamble)
    return m.group(1).strip() if m else "article"


def analyse(project: Project) -> Analysis:
    """Parse and walk the document; render nothing yet."""
    text = _DEF_THE.sub(r"\\renewcommand{\\the\1}{", project.text)
    text, expander = expand_macros(text)
    text, flattened = cap_group_depth(text)
    m = re.search(r"\\begin\s*\{document\}", text)
    preamble, body = (text[: m.start()], text[m.end() :]) if m else ("", text)
    end = body.find("\\end{document}")
    body = body[:end] if end >= 0 else body
    cls = _document_class(preamble)
    cls_file = next((f for f in project.files if posixpath.basename(f) == f"{cls}.cls"), None)
    cls_rule = None
    if cls_file:
        data = (project.root / cls_file).read_bytes()
        cls_rule = None if looks_binary(data) else rule_from_class_file(data.decode("utf-8", "replace"))
    counters = Counters(cls, cls_rule)
    # The preamble sets formats, graphicspath and caption options; its "paragraphs" are discarded.
    walker = DocumentWalker(counters)
    walker.walk(parse(_empty_opaque(preamble)))
    walker.out.paragraphs, walker.par = [], []
    walker.walk(parse(_empty_opaque(body)))
    walker.end_paragraph()
    walk = walker.out
    cited = list(
        dict.fromkeys(k.strip() for group in _CITE_KEYS.findall(body) for k in group.split(",") if k.strip())
    )
    bib = load_bibliography(project.root, project.main, project.files, preamble, body, cited)
    renderer = Renderer(walk.labels, bib)
    for label, nodes in walk.titles.items():
        walk.labels[label].title = renderer.text(nodes) or None
    return Analysis(project, walk, renderer, cls, preamble, body, expander.truncated, flattened)


def _caption_and_number(raw: RawFloat, renderer: Renderer) -> tuple[str, str]:
    caption = renderer.text(raw.caption)
    number = raw.number
    if raw.typed_number:
        m = _TYPED.match(caption)
        if m:
            number, caption = m.group(1), caption[m.end() :].strip()
    return caption, number


def _words(renderer: Renderer, cells: list) -> list[str]:
    words: list[str] = []
    for node in cells:
        # Child by child: AASTeX's \tablehead and \startdata leave no space between header and cells.
        text = " ".join(renderer.text([child]) for child in node.nodelist or [])
        words += [w for w in re.split(r"[\s&]+", text) if w and w not in ("\\\\",)]
    return words


def build_floats(a: Analysis) -> tuple[list[Float], list[tuple[RawFloat, Float]]]:
    floats, pairs = [], []
    for index, raw in enumerate(a.walk.floats):
        caption, number = _caption_and_number(raw, a.renderer)
        if number != raw.number:  # a typed number: labels of this float print it too
            for t in a.walk.labels.values():
                if t.float_index == index:
                    t.number = (
                        number + t.number[len(raw.number) :] if t.number.startswith(raw.number) else number
                    )
        name = "Figure" if raw.kind == "figure" else "Table"
        f = Float(
            kind=raw.kind,
            number=number,
            caption=f"{name} {number}: {caption}".rstrip(),
            caption_no_index=caption,
            label=raw.label,
            figure_type="other" if raw.kind == "figure" else "table",
        )
        if raw.kind == "table":
            f.ocr = _words(a.renderer, raw.cells)
            f.ocr_source = "latex" if f.ocr else None
        f.subfigures = [
            {
                "label": p.label,
                "caption": a.renderer.text(p.caption) if p.caption else "",
                "image_png": None,
                "graphics": [],
            }
            for p in raw.panels
        ]
        floats.append(f)
        pairs.append((raw, f))
    return floats, pairs


def build_mentions(a: Analysis, floats: list[Float]) -> None:
    texts, marked = [], []
    for p in a.walk.paragraphs:
        raw = "".join(x if isinstance(x, str) else x.latex_verbatim() for x in p.pieces)
        if not _RELEVANT.search(raw):
            continue
        text, labels = a.renderer.render(p.pieces, mark=True)
        if text:
            texts.append(text)
            marked.append(labels)
    attach_mentions(texts, a.walk.labels, floats, marked)


def _unique_numbers(floats: list[Float], errors: list[FloatError]) -> tuple[list[Float], list[FloatError]]:
    """One float per (kind, number): the figure_id must be unique. A repeated number (a hand-set
    \\tablenum, a typed label) keeps the first float and says so."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for f in floats:
        key = (f.kind, f.number)
        if key in seen:
            errors.append(
                _float_error(
                    f,
                    "float",
                    "duplicate_number",
                    f"a second {f.kind} numbered {f.number} ({f.caption_no_index[:60]!r}) was "
                    "dropped: the source prints that number twice",
                )
            )
            continue
        seen.add(key)
        kept.append(f)
    return kept, errors


def _float_error(f: Float, stage: str, error: str, message: str) -> FloatError:
    return FloatError(stage=stage, error=error, message=message, kind=f.kind, number=f.number)


def attach_graphics(
    a: Analysis, pairs: list[tuple[RawFloat, Float]], workdir: Path, dpi: int, render: bool
) -> list[FloatError]:
    """Resolve every graphic; with `render`, draw each float (and each panel) as a PNG."""
    project = a.project
    declared = re.search(r"\\DeclareGraphicsExtensions\s*\{([^}]*)\}", a.preamble)
    extensions = tuple(e.strip() for e in declared.group(1).split(",") if e.strip()) if declared else ()
    index = GraphicIndex(set(project.files), project.main_dir, a.walk.graphicspath, extensions)
    errors: list[FloatError] = []
    cache: dict[tuple[str, str], object] = {}
    for raw, f in pairs:
        resolved: list[tuple[int, str]] = []
        for k, g in enumerate(raw.graphics):
            path = index.resolve(g.name, g.base_dir)
            if path is None:
                errors.append(
                    _float_error(
                        f,
                        "float",
                        "missing_graphic",
                        f"{f.kind} {f.number}: graphic '{g.name}' is not in the source (looked in "
                        f"{', '.join(repr(d or '.') for d in index._folders(g.base_dir))} with the usual "
                        "extensions); "
                        "the float is kept without it",
                    )
                )
                continue
            resolved.append((k, path))
        rel = {k: posixpath.relpath(p, project.main_dir or ".") for k, p in resolved}
        f.graphics = list(dict.fromkeys(rel[k] for k, _ in resolved))
        if f.kind == "figure":
            names = [g.name for g in raw.graphics]
            f.type_signals = {"votes": latex_votes(names, raw.drawing, "pgfplots" in a.preamble)}
        for j, sub in enumerate(f.subfigures):
            sub["graphics"] = list(dict.fromkeys(rel[k] for k, _ in resolved if raw.graphics[k].panel == j))
        if not render or not resolved:
            continue
        images = {}
        for k, path in resolved:
            key = (path, raw.graphics[k].options)
            if key not in cache:
                try:
                    cache[key] = render_file(project.root / path, dpi, workdir, raw.graphics[k].options)
                except RenderError as e:
                    cache[key] = e
            if isinstance(cache[key], RenderError):
                errors.append(_float_error(f, "render", "RenderError", f"{f.kind} {f.number}: {cache[key]}"))
                continue
            images[k] = cache[key]
        if not images:
            continue
        ks = sorted(images)
        f.image_png = to_png(compose([images[k] for k in ks], [raw.graphics[k] for k in ks]))
        for j, sub in enumerate(f.subfigures):
            mine = [k for k in ks if raw.graphics[k].panel == j]
            if mine:
                sub["image_png"] = to_png(compose([images[k] for k in mine], [raw.graphics[k] for k in mine]))
    return errors


_CC = re.compile(
    r"\b(?:CC[ -]?(BY(?:[ -](?:NC|SA|ND))*)|Creative Commons Attribution((?:[- ](?:NonCommercial|"
    r"ShareAlike|NoDerivatives|NoDerivs))*))[ -]?(\d\.\d)?(?: International)?",
    re.IGNORECASE,
)


def find_license(preamble: str, body: str) -> str | None:
    """A licence the source itself states (doclicense, or a Creative Commons sentence), normalised."""
    m = re.search(r"\\usepackage\s*\[([^\]]*)\]\s*\{doclicense\}", preamble)
    if m:
        opts = dict(re.findall(r"(\w+)\s*=\s*\{?([^,}]*)\}?", m.group(1)))
        if opts.get("type", "").upper() == "CC":
            mods = opts.get("modifier", "by").upper()
            return f"CC-{mods}-{opts.get('version', '4.0')}"
        if opts.get("type", "").upper() == "CC0" or "zero" in opts.get("modifier", ""):
            return "CC0-1.0"
    # Only a statement about this work counts, not a dataset or figure licensed under CC elsewhere.
    about = re.search(
        r"\b(?:this|the)\s+(?:work|article|paper|manuscript|preprint|document)\b[^.]{0,80}?"
        r"\b(?:licen[cs]ed|distributed|released|published|available)\s+under\b[^.]{0,40}",
        preamble + body[:20000],
        re.IGNORECASE,
    )
    m = _CC.search(about.group(0)) if about else None
    if m:
        if m.group(1):
            parts = m.group(1).upper().replace(" ", "-")
        else:
            names = {"NONCOMMERCIAL": "NC", "SHAREALIKE": "SA", "NODERIVATIVES": "ND", "NODERIVS": "ND"}
            parts = "BY" + "".join("-" + names[w.upper()] for w in re.findall(r"[A-Za-z]+", m.group(2) or ""))
        return f"CC-{parts}-{m.group(3) or '4.0'}"
    return None


def extract_latex(source: Path, workdir: Path, dpi: int = 150, render: bool = True) -> SideResult:
    """Every figure and table of one LaTeX source (a folder, an archive or a single .tex file).

    `workdir` is scratch space owned by the caller (bundles are unpacked there); nothing is written
    anywhere else. With `render=False` graphics are resolved but not drawn (`image_png` stays None).
    """
    source, workdir = Path(source), Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        root = source
    elif source.is_file():
        if source.suffix.lower() in (".tex", ".ltx") and not looks_binary(source.read_bytes()[:8192]):
            root = workdir / "source"
            root.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, root / source.name)
        else:
            root = unpack(source, workdir / "source")
    else:
        raise LatexSourceError(f"{source} does not exist")
    project = load_project(root)
    a = analyse(project)
    floats, pairs = build_floats(a)
    build_mentions(a, floats)
    errors = attach_graphics(a, pairs, workdir, dpi, render)
    floats, errors = _unique_numbers(floats, errors)
    for name in project.missing_inputs:
        errors.append(
            FloatError(
                "parse",
                "missing_input",
                f"\\input{{{name}}} names a file that is not in the source; its text is missing",
            )
        )
    if a.groups_flattened:
        errors.append(
            FloatError(
                "parse",
                "nesting_too_deep",
                f"braces nested deeper than {MAX_GROUP_DEPTH} levels were flattened to parse the document; "
                "text inside them is kept but its grouping is lost",
            )
        )
    for name in a.renderer.bib.refused:
        errors.append(
            FloatError(
                "parse",
                "outside_source",
                f"the bibliography {name} names a file outside the source tree (absolute path, ../ or a "
                "link); it was not read, so citations it would number print as [?]",
            )
        )
    for name in project.skipped_inputs:
        errors.append(FloatError("parse", "unreadable_input", f"input file {name} was skipped"))
    if a.macro_limit_hit:
        errors.append(
            FloatError(
                "parse",
                "macro_limit",
                "user macros expand without end (recursive definition?); "
                "expansion stopped at the limit and some text may be missing",
            )
        )
    return SideResult(
        floats=floats, errors=errors, pages=0, arxiv_id=None, license=find_license(a.preamble, a.body)
    )
