"""LaTeX syntax every reader of a source shares: balanced groups and the environments scitune interprets.

macros.py (expansion), cites.py (bibliographies), numbering.py (class files) and floats.py (the walker)
all read brace groups and need the same environment names; they import them from here, so none of
them imports another for it.
"""

from __future__ import annotations

FIGURE_ENVS = {
    "figure",
    "figure*",
    "wrapfigure",
    "wrapfig",
    "SCfigure",
    "sidewaysfigure",
    "sidewaysfigure*",
    "floatingfigure",
    "widefigure",
    "fullwidthfigure",
}
TABLE_ENVS = {
    "table",
    "table*",
    "wraptable",
    "SCtable",
    "sidewaystable",
    "sidewaystable*",
    "deluxetable",
    "deluxetable*",
    "splitdeluxetable",
    "splitdeluxetable*",
    "longtable",
    "longtable*",
    "floatingtable",
    "widetable",
}
SUB_ENVS = {"subfigure": "figure", "subtable": "table"}
TABULAR_ENVS = {
    "tabular",
    "tabular*",
    "tabularx",
    "tabulary",
    "tblr",
    "longtabu",
    "tabu",
    "array",
    "supertabular",
    "xtabular",
    "NiceTabular",
}
# Environments the later stages interpret themselves: a user `\newenvironment` of one is ignored.
KNOWN_ENVIRONMENTS = FIGURE_ENVS | TABLE_ENVS | set(SUB_ENVS) | TABULAR_ENVS | {"document", "minipage"}


def read_group(s: str, i: int, open_: str = "{", close: str = "}") -> tuple[str, int] | None:
    """The balanced group starting at s[i] (which must be `open_`): (inside, index after it)."""
    if i >= len(s) or s[i] != open_:
        return None
    depth, j, n = 0, i, len(s)
    while j < n:
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return s[i + 1 : j], j + 1
        elif c == "{" and open_ == "[":
            g = read_group(s, j)
            if g is None:
                return None
            j = g[1]
            continue
        j += 1
    return None
