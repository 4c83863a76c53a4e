"""Expand simple user macros and environments, in document order.

Papers wrap figures, captions, labels and references in their own macros (a `\\insertPdfFig{name}{caption}`
whose body holds `\\begin{figure}...\\caption{#2}\\label{fig:#1}`, a `\\figref{x}` that means
`Figure~\\ref{x}`, `\\newcommand{\\gammapy}{Gammapy\\xspace}`). pylatexenc parses but does not expand, so
this pass substitutes the definitions the author made with `\\newcommand`, `\\renewcommand`,
`\\providecommand`, `\\DeclareRobustCommand`, `\\NewDocumentCommand` (m/o/O arguments), `\\def` with plain
`#1#2` parameters, `\\let`, `\\DeclareMathOperator` and `\\newenvironment`, reading the text left to right so
that a redefinition applies from where it stands. It is not a TeX engine: definitions with delimited
parameters, `@` internals or conditionals are left alone (their uses stay in the text and render as
nothing), and the number of expansions and the growth of the text are bounded.

Definitions of counter formats (`\\thefigure`, `\\thetable`, ...) are kept in the text: numbering.py applies
them where they stand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .syntax import KNOWN_ENVIRONMENTS, read_group

MAX_EXPANSIONS = 200_000
MAX_GROWTH = 8  # the expanded text may be at most this many times the input (plus 1 MB)

# Macros the later stages interpret themselves: a user redefinition of these is ignored.
PROTECTED = {
    "begin",
    "end",
    "caption",
    "captionof",
    "label",
    "ref",
    "autoref",
    "cref",
    "Cref",
    "eqref",
    "subref",
    "includegraphics",
    "input",
    "include",
    "section",
    "subsection",
    "subsubsection",
    "chapter",
    "paragraph",
    "appendix",
    "item",
    "par",
    "cite",
    "citep",
    "citet",
    "footnote",
    "documentclass",
    "usepackage",
    "newcommand",
    "renewcommand",
    "providecommand",
    "def",
    "let",
    "setcounter",
    "addtocounter",
    "stepcounter",
    "refstepcounter",
    "SciTuneEnterDir",
    "SciTuneLeaveDir",
    "hline",
    "relax",
}
_COUNTER_FORMAT = re.compile(r"^the[a-zA-Z]+$")
_UNSAFE_BODY = re.compile(
    r"\\(?:if[a-zA-Z]*|@ifnextchar|@ifstar|expandafter|csname|futurelet|afterassignment|"
    r"ifthenelse|IfValueTF|IfNoValueTF|IfBooleanTF|loop|repeat)(?![a-zA-Z])"
)

_CS = re.compile(r"\\([a-zA-Z@]+|.)", re.DOTALL)
_DEFINERS = {
    "newcommand",
    "renewcommand",
    "providecommand",
    "DeclareRobustCommand",
    "def",
    "gdef",
    "edef",
    "xdef",
    "let",
    "DeclareMathOperator",
    "newenvironment",
    "renewenvironment",
    "NewDocumentCommand",
    "RenewDocumentCommand",
    "ProvideDocumentCommand",
    "DeclareDocumentCommand",
}


@dataclass
class Macro:
    nargs: int
    default: str | None  # default of an optional first argument (None: no optional argument)
    body: str


@dataclass
class Env:
    nargs: int
    default: str | None
    begin: str
    end: str


def _skip_space(s: str, i: int, newlines: bool = True) -> int:
    n = len(s)
    while i < n and (s[i] in " \t" or (newlines and s[i] == "\n" and not s.startswith("\n\n", i))):
        i += 1
    return i


def read_arg(s: str, i: int) -> tuple[str, int] | None:
    """One undelimited TeX argument: a brace group, a control sequence or a single character."""
    i = _skip_space(s, i)
    if i >= len(s):
        return None
    if s[i] == "{":
        return read_group(s, i)
    if s[i] == "\\":
        m = _CS.match(s, i)
        return (m.group(0), m.end()) if m else None
    if s[i] in "}":
        return None
    return s[i], i + 1


def _read_arity(s: str, j: int) -> tuple[int, str | None, int] | None:
    """The optional `[nargs][default]` of `\\newcommand`/`\\newenvironment` at `j`: (nargs, default, end)."""
    nargs, default = 0, None
    k = _skip_space(s, j)
    if s.startswith("[", k):
        g = read_group(s, k, "[", "]")
        if g is None or not g[0].strip().isdigit():
            return None
        nargs, j = int(g[0].strip()), g[1]
        k = _skip_space(s, j)
        if s.startswith("[", k):
            g = read_group(s, k, "[", "]")
            if g is None:
                return None
            default, j = g[0], g[1]
    return nargs, default, j


def _read_name(s: str, i: int) -> tuple[str, int] | None:
    """`\\name` or `{\\name}` after a definer."""
    i = _skip_space(s, i)
    if s.startswith("{", i):
        g = read_group(s, i)
        if g is None:
            return None
        m = re.fullmatch(r"\s*\\([a-zA-Z@]+|.)\s*", g[0])
        return (m.group(1), g[1]) if m else None
    m = _CS.match(s, i)
    return (m.group(1), m.end()) if m else None


def _substitute(body: str, args: list[str]) -> str:
    def rep(m: re.Match) -> str:
        if m.group(0) == "##":
            return "#"
        k = int(m.group(1)) - 1
        return args[k] if 0 <= k < len(args) else ""

    return re.sub(r"(?<!\\)(?:##|#([1-9]))", rep, body)  # `\#` is a hash sign, not a parameter


class Expander:
    def __init__(self) -> None:
        self.macros: dict[str, Macro] = {}
        self.envs: dict[str, Env] = {}
        self.expansions = 0
        self.truncated = False

    # -- definitions ---------------------------------------------------------------------------

    def _definable(self, name: str, body: str) -> bool:
        return (
            name not in PROTECTED
            and not _COUNTER_FORMAT.match(name)
            and "@" not in name
            and not _UNSAFE_BODY.search(body)
        )

    def define(self, s: str, i: int, cmd: str) -> int | None:
        """Parse a definition at s[i:] (just after `\\cmd`); record it; return where it ends.

        None means "not a definition we take": the caller keeps the text as it is.
        """
        if cmd in ("newenvironment", "renewenvironment"):
            return self._define_env(s, i)
        if cmd == "let":
            m = re.compile(r"\s*\\([a-zA-Z@]+)\s*=?\s*\\([a-zA-Z@]+)").match(s, i)
            if not m:
                return None
            new, old = m.group(1), m.group(2)
            if self._definable(new, ""):
                self.macros[new] = self.macros.get(old, Macro(0, None, "\\" + old))
                return m.end()
            return None
        if cmd in ("def", "gdef", "edef", "xdef"):
            m = re.compile(r"\s*\\([a-zA-Z@]+)((?:#[1-9])*)\s*\{").match(s, i)
            if not m:
                return None  # delimited parameters: not ours to expand
            g = read_group(s, m.end() - 1)
            if g is None:
                return None
            if self._definable(m.group(1), g[0]):
                self.macros[m.group(1)] = Macro(len(m.group(2)) // 2, None, g[0])
                return g[1]
            return None
        star = s.startswith("*", i)
        j = i + 1 if star else i
        named = _read_name(s, j)
        if named is None:
            return None
        name, j = named
        if cmd == "DeclareMathOperator":
            g = read_arg(s, j)
            if g is None:
                return None
            if self._definable(name, g[0]):
                self.macros[name] = Macro(0, None, g[0])
                return g[1]
            return None
        nargs, default = 0, None
        if cmd.endswith("DocumentCommand"):
            spec = read_arg(s, j)
            if spec is None:
                return None
            kinds = re.findall(r"[mo]|O\{[^}]*\}", spec[0])
            if "".join(kinds).replace(" ", "") == "" and spec[0].strip():
                return None
            nargs = len(kinds)
            if kinds and kinds[0] != "m":
                default = kinds[0][2:-1] if kinds[0].startswith("O") else ""
            if any(k != "m" for k in kinds[1:]):
                return None
            j = spec[1]
        else:
            arity = _read_arity(s, j)
            if arity is None:
                return None
            nargs, default, j = arity
        body = read_arg(s, j)
        if body is None:
            return None
        if cmd == "providecommand" and name in self.macros:
            return body[1]
        if not self._definable(name, body[0]):
            return None
        self.macros[name] = Macro(nargs, default, body[0])
        return body[1]

    def _define_env(self, s: str, i: int) -> int | None:
        j = _skip_space(s, i + (1 if s.startswith("*", i) else 0))
        g = read_group(s, j)
        if g is None:
            return None
        name = g[0].strip()
        arity = _read_arity(s, g[1])
        if arity is None:
            return None
        nargs, default, j = arity
        begin = read_arg(s, j)
        if begin is None:
            return None
        end = read_arg(s, begin[1])
        if end is None:
            return None
        if name in KNOWN_ENVIRONMENTS or _UNSAFE_BODY.search(begin[0] + end[0]):
            return None
        self.envs[name] = Env(nargs, default, begin[0], end[0])
        return end[1]

    # -- uses ------------------------------------------------------------------------------------

    def _read_args(self, s: str, i: int, nargs: int, default: str | None) -> tuple[list[str], int] | None:
        args: list[str] = []
        if default is not None:
            k = _skip_space(s, i)
            if s.startswith("[", k):
                g = read_group(s, k, "[", "]")
                if g is None:
                    return None
                args.append(g[0])
                i = g[1]
            else:
                args.append(default)
            nargs -= 1
        for _ in range(nargs):
            g = read_arg(s, i)
            if g is None:
                return None
            args.append(g[0])
            i = g[1]
        return args, i

    def expand(self, text: str) -> str:
        """The text with user macros expanded; definitions removed (counter formats kept).

        Expansions are pushed as frames on a stack and read before the rest of the text, so the
        document is never re-copied per expansion; only an argument that starts after the end of an
        expansion makes the two frames merge.
        """
        limit = MAX_GROWTH * len(text) + 1_000_000
        out: list[str] = []
        out_len = 0
        frames: list[list] = [[text, 0]]  # [string, position]
        while frames:
            frame = frames[-1]
            s, i = frame
            m = _CS.search(s, i)
            if m is None:
                out.append(s[i:])
                out_len += len(s) - i
                frames.pop()
                continue
            name, start, end = m.group(1), m.start(), m.end()
            head = s[i:start]
            if name in _DEFINERS:
                stop = self.define(s, end, name)
                if stop is None:
                    head, stop = s[i:end], end
                out.append(head)
                out_len += len(head)
                frame[1] = stop
                continue
            if len(frames) > 1 and _skip_space(s, end) >= len(s) and self._wants_args(s, name, end):
                # The arguments come after this expansion ends: merge it with the frame below.
                frames.pop()
                below = frames[-1]
                below[0], below[1] = s[i:] + below[0][below[1] :], 0
                continue
            expansion = self._expansion(s, name, start, end, out_len, limit)
            if expansion is None:
                out.append(s[i:end])
                out_len += end - i
                frame[1] = end
                continue
            body, stop = expansion
            out.append(head)
            out_len += len(head)
            frame[1] = stop
            frames.append([body, 0])
        return "".join(out)

    def _wants_args(self, s: str, name: str, end: int) -> bool:
        macro = self.macros.get(name)
        return macro is not None and macro.nargs > 0

    def _expansion(self, s: str, name: str, start: int, end: int, out_len: int, limit: int):
        """(replacement text, index after the use) for a user macro or environment use, else None."""
        if name in ("begin", "end"):
            if not self.envs:
                return None
            g = read_group(s, _skip_space(s, end, newlines=False))
            env = self.envs.get(g[0].strip()) if g else None
            if env is None or not self._budget(out_len, len(s), limit):
                return None
            if name == "end":
                return env.end, g[1]
            parsed = self._read_args(s, g[1], env.nargs, env.default)
            if parsed is None:
                return None
            return _substitute(env.begin, parsed[0]), parsed[1]
        macro = self.macros.get(name)
        if macro is None or not self._budget(out_len, len(s), limit):
            return None
        parsed = self._read_args(s, end, macro.nargs, macro.default)
        if parsed is None:
            return None
        args, stop = parsed
        body = _substitute(macro.body, args).replace("\\xspace", "")
        if macro.nargs == 0 and s[stop : stop + 2] == "{}":
            stop += 2  # `\name{}`: the empty group only ended the control word
        return body, stop

    def _budget(self, out_len: int, rest: int, limit: int) -> bool:
        self.expansions += 1
        if self.expansions > MAX_EXPANSIONS or out_len + rest > limit:
            self.truncated = True
            return False
        return True


def expand_macros(text: str) -> tuple[str, Expander]:
    """Expand the user's macros in `text` (preamble and body together, in order)."""
    ex = Expander()
    return ex.expand(text), ex
