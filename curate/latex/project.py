"""A LaTeX source as one text: find the main file, inline its input tree, drop what TeX never reads.

`load_project(root)` picks the main file (the one with `\\documentclass` and `\\begin{document}`,
preferring the one that has a `.bbl` beside it and that the other files are `\\input` into), reads it
with comments, `\\iffalse ... \\fi` and `comment` environments removed, and inlines `\\input`,
`\\include`, `\\subfile`, `\\import` and `\\subimport` with a cycle and depth guard. Files reached through
`\\import{dir}` are wrapped in `\\SciTuneEnterDir{dir}` ... `\\SciTuneLeaveDir` so graphics inside them
resolve relative to `dir`, as the `import` package does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_INPUT_DEPTH = 24
MAX_TEXT_CHARS = 40_000_000  # the inlined document; real papers are well under 2 MB
MAX_FILES = 20_000

TEX_SUFFIXES = (".tex", ".ltx", ".latex")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class LatexSourceError(Exception):
    """The source cannot be used as a whole (no main file, binary or undecodable main file, input cycle)."""


@dataclass
class Project:
    root: Path  # the source root (what `unpack` returned, or the folder given)
    main: Path  # the main .tex file
    text: str  # the whole document, inputs inlined, comments removed
    files: list[str]  # every file under root, POSIX paths relative to root
    missing_inputs: list[str] = field(default_factory=list)
    skipped_inputs: list[str] = field(default_factory=list)  # found but unreadable (binary, bad encoding)

    @property
    def main_dir(self) -> str:
        """Folder of the main file relative to root ('' at the root): LaTeX resolves paths from here."""
        rel = self.main.parent.relative_to(self.root).as_posix()
        return "" if rel == "." else rel


# --- reading files -------------------------------------------------------------------------------


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KiB: not a TeX file."""
    head = data[:8192]
    if head.startswith(UTF16_BOMS):  # text saved as UTF-16 (Windows editors): NULs are half its bytes
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) * 0.05


def decode_tex(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with its BOM, else Latin-1 (older arXiv sources); never fails."""
    if data.startswith(UTF16_BOMS):
        return data.decode("utf-16", "replace")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_tex(path: Path) -> str:
    data = path.read_bytes()
    if looks_binary(data):
        raise LatexSourceError(f"{path.name} is binary data, not LaTeX (NUL or control bytes)")
    return decode_tex(data)


# --- what TeX never reads ------------------------------------------------------------------------

# A % that is not escaped: preceded by an even number of backslashes. TeX also drops the end of line
# and the leading blanks of the next line.
_COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%[^\n]*(?:\n[ \t]*)?")
_VERB_ENVS = ("verbatim", "Verbatim", "lstlisting", "minted", "comment")
_IF_TOKEN = re.compile(
    r"\\(?:iffalse|if0\b|iftrue|if[a-zA-Z@]*|fi(?![a-zA-Z@])|else(?![a-zA-Z@])|newif\\if[a-zA-Z@]*)"
)


def strip_comments(text: str) -> str:
    return _COMMENT.sub(lambda m: m.group(1), text)


def drop_iffalse(text: str) -> str:
    """Remove `\\iffalse ... \\fi` blocks (keeping an `\\else` branch), nesting-aware."""
    if "\\iffalse" not in text and "\\if0" not in text:
        return text
    out: list[str] = []
    pos = 0
    tokens = list(_IF_TOKEN.finditer(text))
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.group(0) not in ("\\iffalse", "\\if0"):
            i += 1
            continue
        out.append(text[pos : t.start()])
        depth, j, resume = 1, i + 1, None
        while j < len(tokens):
            g = tokens[j].group(0)
            if g.startswith("\\newif"):
                pass
            elif g == "\\fi":
                depth -= 1
                if depth == 0:
                    resume = tokens[j].end()
                    break
            elif g == "\\else" and depth == 1:
                # Keep the \else branch up to the matching \fi: drop only that \fi later.
                else_start = tokens[j].end()
                depth2, k = 1, j + 1
                while k < len(tokens):
                    g2 = tokens[k].group(0)
                    if g2 == "\\fi":
                        depth2 -= 1
                        if depth2 == 0:
                            break
                    elif g2.startswith("\\if") and not g2.startswith("\\newif"):
                        depth2 += 1
                    k += 1
                end = tokens[k].start() if k < len(tokens) else len(text)
                out.append(text[else_start:end])
                resume = tokens[k].end() if k < len(tokens) else len(text)
                j = k
                break
            elif g.startswith("\\if"):
                depth += 1
            j += 1
        if resume is None:  # unterminated: TeX would read nothing more of this file
            return "".join(out)
        pos, i = resume, j + 1
        while i < len(tokens) and tokens[i].start() < pos:
            i += 1
    out.append(text[pos:])
    return "".join(out)


def drop_environments(text: str, names: set[str]) -> str:
    for name in names:
        text = re.sub(
            r"\\begin\{" + re.escape(name) + r"\}.*?(\\end\{" + re.escape(name) + r"\}|\Z)",
            " ",
            text,
            flags=re.DOTALL,
        )
    return text


def clean_source(text: str) -> str:
    """Comments, `\\iffalse` blocks and comment environments removed; `\\endinput` honoured."""
    text = strip_comments(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = drop_iffalse(text)
    comment_envs = {"comment"} | set(re.findall(r"\\excludecomment\{([^}]+)\}", text))
    text = drop_environments(text, comment_envs)
    m = re.search(r"\\endinput(?![a-zA-Z@])", text)
    return text[: m.start()] if m else text


# --- main file -----------------------------------------------------------------------------------

_DOCCLASS = re.compile(r"\\documentclass\s*(\[[^\]]*\])?\s*\{([^}]*)\}")
_BEGIN_DOC = re.compile(r"\\begin\s*\{document\}")
_INPUT_CMD = re.compile(
    r"\\(input|include|subfile|import|subimport|inputfrom|subinputfrom|includefrom|subincludefrom)\*?"
    r"(?![a-zA-Z@])\s*(?:\{([^{}]*)\}\s*(?:\{([^{}]*)\})?|([^\s{}\\%]+))"
)
_AVOID = re.compile(
    r"(supp|suppl|supplement\w*|si|appendix|response|reply|rebuttal|cover|review|diff|"
    r"changes|equations|old|backup|draft|template|sample)$",
    re.IGNORECASE,
)
_PREFER = re.compile(r"^(ms|main|paper|manuscript|article|arxiv)$", re.IGNORECASE)


def list_files(root: Path) -> list[str]:
    files = []
    for p in sorted(root.rglob("*")):
        if len(files) >= MAX_FILES:
            break
        rel = p.relative_to(root)
        if any(part == "__MACOSX" or part.startswith("._") for part in rel.parts):
            continue
        if p.is_file() and not p.is_symlink():
            files.append(rel.as_posix())
    return files


def _stem_words(name: str) -> list[str]:
    return [w for w in re.split(r"[-_. ]+", PurePosixPath(name).stem) if w]


def find_main(root: Path, files: list[str]) -> Path:
    """The main file, or LatexSourceError saying why there is none."""
    tex = [f for f in files if f.lower().endswith(TEX_SUFFIXES)]
    if not tex:
        raise LatexSourceError(f"no .tex file in {root.name}: not a LaTeX source")
    candidates, binary = [], []
    texts: dict[str, str] = {}
    for f in tex:
        data = (root / f).read_bytes()
        if looks_binary(data):
            binary.append(f)
            continue
        text = strip_comments(decode_tex(data))
        texts[f] = text
        if _DOCCLASS.search(text) and _BEGIN_DOC.search(text):
            candidates.append(f)
    if not candidates:
        # Some sources keep \begin{document} in an \input file: a file with \documentclass will do.
        candidates = [f for f in texts if _DOCCLASS.search(texts[f])]
    if not candidates:
        if binary and len(binary) == len(tex):
            raise LatexSourceError(
                f"every .tex file is binary data ({', '.join(binary[:3])}): not a LaTeX source"
            )
        raise LatexSourceError(
            f"no main file: none of the {len(tex)} .tex files has both \\documentclass and "
            "\\begin{document}"
        )
    if len(candidates) == 1:
        return root / candidates[0]
    stems = {f.rsplit(".", 1)[0] for f in files if f.endswith(".bbl")}
    included = set()
    for f in candidates:
        for m in _INPUT_CMD.finditer(texts[f]):
            name = (m.group(3) or m.group(2) or m.group(4) or "").strip()
            included.add(PurePosixPath(name).stem)

    def score(f: str):
        path = PurePosixPath(f)
        words = _stem_words(f)
        hidden = any(part.startswith(".") for part in path.parts)
        n_inputs = sum(1 for m in _INPUT_CMD.finditer(texts[f]))
        return (
            not hidden,
            path.stem not in included,  # a candidate that another one inputs is not the main file
            f.rsplit(".", 1)[0] in stems,  # arXiv bundles carry the .bbl of the main file
            not any(_AVOID.match(w) for w in words),
            min(n_inputs, 3),
            bool(_PREFER.match(path.stem)),
            -len(path.parts),
            len(texts[f]),
        )

    return root / max(candidates, key=score)


# --- input tree ----------------------------------------------------------------------------------


def inside_source(path: Path, root: Path) -> Path | None:
    """`path` with links resolved, if it is a regular file inside `root`; else None.

    The one guard for every file a source names (`\\input`, `\\bibliography`, the `.bbl`): an absolute
    name, `../` or a link pointing out of the tree must never bring another file of the machine into
    a row.
    """
    p = Path(path).resolve()
    return p if p.is_file() and p.is_relative_to(Path(root).resolve()) else None


@dataclass
class _Loader:
    root: Path
    main_dir: Path
    missing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    total: int = 0

    def resolve(self, name: str, base: Path) -> Path | None:
        name = name.strip().strip('"')
        if not name:
            return None
        for folder in (base, self.main_dir):
            for cand in (name + ".tex", name) if not name.endswith(TEX_SUFFIXES) else (name,):
                p = inside_source(folder / cand, self.root)
                if p is not None:
                    return p
        return None

    def load(self, path: Path, base: Path, stack: list[Path]) -> str:
        if len(stack) > MAX_INPUT_DEPTH:
            chain = " -> ".join(p.name for p in stack)
            raise LatexSourceError(f"\\input nesting deeper than {MAX_INPUT_DEPTH} levels: {chain}")
        data = path.read_bytes()
        if looks_binary(data):
            if not stack:
                raise LatexSourceError(f"main file {path.name} is binary data, not LaTeX")
            self.skipped.append(f"{path.relative_to(self.root.resolve()).as_posix()} (binary)")
            return ""
        text = clean_source(decode_tex(data))
        if stack:
            # A subfile with its own preamble contributes only its body.
            m = _BEGIN_DOC.search(text)
            if m and _DOCCLASS.search(text[: m.start()]):
                end = text.find("\\end{document}", m.end())
                text = text[m.end() : end if end >= 0 else len(text)]
        stack = stack + [path]
        self.total += len(text)
        if self.total > MAX_TEXT_CHARS:
            raise LatexSourceError(f"the inlined document exceeds {MAX_TEXT_CHARS:,} characters")
        return _INPUT_CMD.sub(lambda m: self._inline(m, base, stack), text)

    def _inline(self, m: re.Match, base: Path, stack: list[Path]) -> str:
        cmd = m.group(1)
        if m.group(4) is not None:  # \input file  (TeX primitive syntax, no braces)
            if cmd != "input":
                return m.group(0)
            name, folder = m.group(4), None
        elif cmd in ("import", "subimport", "inputfrom", "subinputfrom", "includefrom", "subincludefrom"):
            if m.group(3) is None:
                return m.group(0)
            folder, name = m.group(2).strip(), m.group(3)
        else:
            name, folder = m.group(2), None
            if m.group(3) is not None:  # `\input{a}{b}`: only the first group belongs to \input
                return self._inline_one(cmd, name, None, base, stack) + "{" + m.group(3) + "}"
        return self._inline_one(cmd, name, folder, base, stack)

    def _inline_one(self, cmd: str, name: str, folder: str | None, base: Path, stack: list[Path]) -> str:
        if folder is not None:
            # \import paths are absolute-from-main; \subimport ones are relative to the current file.
            start = base if cmd.startswith("sub") else self.main_dir
            new_base = (start / folder).resolve()
        else:
            new_base = base
        target = self.resolve(name, new_base)
        if target is None:
            if not name.strip().endswith((".bbl", ".sty", ".cls", ".aux")):
                self.missing.append(name.strip())
            return " "
        if target in stack:
            chain = " -> ".join(p.name for p in stack + [target])
            raise LatexSourceError(f"\\input cycle: {chain}; LaTeX would never finish this document")
        body = self.load(target, new_base, stack)
        sep = "\n\n" if cmd in ("include", "includefrom", "subincludefrom") else ""
        if folder is not None:
            rel = new_base.relative_to(self.root.resolve()).as_posix()
            return f"{sep}\\SciTuneEnterDir{{{rel}}}{body}\\SciTuneLeaveDir{{}}{sep}"
        return f"{sep}{body}{sep}"


def load_project(root: Path) -> Project:
    """Find the main file under `root` and return the whole document as one cleaned text."""
    root = Path(root)
    if root.is_file():
        raise LatexSourceError(f"{root} is a file; expected a source folder or archive")
    files = list_files(root)
    main = find_main(root, files)
    loader = _Loader(root=root, main_dir=main.parent.resolve())
    text = loader.load(main.resolve(), main.parent.resolve(), [])
    return Project(
        root=root,
        main=main,
        text=text,
        files=files,
        missing_inputs=loader.missing,
        skipped_inputs=loader.skipped,
    )
