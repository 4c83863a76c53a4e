"""Citations rendered the way the PDF prints them: `[3, 5–7]` or `Author et al. (2014)`.

Where the keys come from, best first: the `.bbl` of the main file (what BibTeX/biber wrote for this
very document), a `thebibliography` environment in the text, else the `.bib` files (numbers then
follow the order of first citation, as `unsrt` does: approximate for sorted styles). Without any of
them every citation prints as `[?]`, as a PDF built without its bibliography would.

Numeric or author-year: from natbib/biblatex options and the document class (AASTeX, A&A, MNRAS,
ICLR/NeurIPS styles are author-year; revtex, IEEEtran, Springer `sn-mathphys` numeric), else from
whether the text uses `\\citet`/`\\citep`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .project import decode_tex
from .syntax import read_group

AUTHORYEAR_CLASSES = re.compile(
    r"^(aastex\d*|aa|mnras|emulateapj|elsarticle-harv|apa\d*|copernicus|agujournal\w*|"
    r"iclr\w*|neurips\w*|nips\w*|icml\w*|pasj\d*|jfm|ametsoc)$",
    re.IGNORECASE,
)
NUMERIC_CLASSES = re.compile(
    r"^(revtex[\w-]*|IEEEtran[\w-]*|ieeeconf|llncs|svjour\d*|acmart|sigconf|wlscirep|"
    r"cvpr|iccv|eccv|achemso|rsc|nature|naturemag|pnas\w*)$",
    re.IGNORECASE,
)


@dataclass
class BibEntry:
    number: int
    authors: str | None = None  # short form as printed: "Smith et al.", "Smith & Jones"
    year: str | None = None


@dataclass
class Bibliography:
    entries: dict[str, BibEntry] = field(default_factory=dict)
    authoryear: bool = False
    source: str | None = None  # "bbl", "thebibliography", "bib" or None
    order: list[str] = field(default_factory=list)  # keys in order of first citation (bib fallback)
    refused: list[str] = field(default_factory=list)  # bibliography files naming a path outside the source

    def _number(self, key: str) -> str:
        e = self.entries.get(key)
        return str(e.number) if e else "?"

    def render(self, cmd: str, keys: list[str], pre: str | None = None, post: str | None = None) -> str:
        """The printed form of one citation command."""
        keys = [k.strip() for k in keys if k.strip()]
        if cmd in ("nocite",) or not keys:
            return ""
        if self.source is None:
            return "[?]"
        if not self.authoryear or cmd == "citenum":
            nums = _compress([self._number(k) for k in keys])
            inner = ", ".join(nums)
            if post:
                inner += ", " + post
            if cmd == "citenum":
                return inner
            return f"[{inner}]"
        return self._authoryear(cmd, keys, pre, post)

    def _authoryear(self, cmd: str, keys: list[str], pre: str | None, post: str | None) -> str:
        parts = []
        for k in keys:
            e = self.entries.get(k)
            author = e.authors if e and e.authors else "?"
            year = e.year if e and e.year else ""
            if e is None:
                parts.append(("?", ""))
            else:
                parts.append((author, year))
        if cmd in ("citeauthor", "Citeauthor"):
            return ", ".join(a for a, _ in parts)
        if cmd in ("citeyear",):
            return ", ".join(y for _, y in parts)
        if cmd in ("citeyearpar",):
            return "(" + ", ".join(y for _, y in parts) + ")"
        if cmd in ("citet", "Citet", "cite", "textcite", "Textcite", "citet*"):
            out = []
            for i, (a, y) in enumerate(parts):
                if a == "?" and not y:
                    out.append("?")
                    continue
                inner = y + (f", {post}" if post and i == len(parts) - 1 else "")
                out.append(f"{a} ({inner})" if inner else a)
            return ", ".join(out)
        body = "; ".join(f"{a} {y}".strip() if a != "?" else "?" for a, y in parts)
        if pre:
            body = f"{pre} {body}"
        if post:
            body = f"{body}, {post}"
        if cmd in ("citealt", "citealp", "Citealt", "Citealp"):
            return body
        return f"({body})"


def _compress(nums: list[str]) -> list[str]:
    """Sorted numbers with runs of three or more written as ranges: 1, 2, 4–6, ?."""
    known = sorted({int(n) for n in nums if n.isdigit()})
    unknown = [n for n in nums if not n.isdigit()]
    out: list[str] = []
    i = 0
    while i < len(known):
        j = i
        while j + 1 < len(known) and known[j + 1] == known[j] + 1:
            j += 1
        if j - i >= 2:
            out.append(f"{known[i]}–{known[j]}")
        else:
            out.extend(str(n) for n in known[i : j + 1])
        i = j + 1
    return out + unknown


# --- reading bibliographies ----------------------------------------------------------------------

_BIBITEM = re.compile(r"\\bibitem\s*")


def _latex_to_plain(s: str) -> str:
    """A label from a .bbl (`{Smith} {et~al.}`) as plain text, without a full parse."""
    s = re.sub(r"\\citename(font)?\s*", "", s)
    s = re.sub(r"\\(?:natexlab|bibinfo|bibnamefont|citenamefont)\s*\{([^{}]*)\}", r"\1", s)
    s = s.replace("~", " ").replace("\\&", "&").replace("\\ ", " ")
    s = re.sub(r"\\[a-zA-Z]+\s*", "", s)
    s = re.sub(r"\\.", "", s)
    s = s.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", s).strip()


def parse_bibitems(text: str) -> dict[str, BibEntry]:
    """`\\bibitem[label]{key}` entries of a .bbl or a thebibliography environment, in order.

    natbib labels look like `Smith et~al.(2014)Smith, Jones, and Lee`: the short author list before
    the parenthesis, the year inside it.
    """
    entries: dict[str, BibEntry] = {}
    for m in _BIBITEM.finditer(text):
        i = m.end()
        label = None
        if text.startswith("[", i):
            g = read_group(text, i, "[", "]")
            if g is None:
                continue
            label, i = g
            while i < len(text) and text[i] in " \t\n":
                i += 1
        g = read_group(text, i)
        if g is None:
            continue
        key = g[0].strip()
        authors = year = None
        if label:
            plain = _latex_to_plain(label)
            ay = re.match(r"(.*?)\s*\(([^()]*?\d{4}[a-z]?[^()]*?)\)", plain)
            if ay:
                authors, year = ay.group(1).strip() or None, ay.group(2).strip()
        if key not in entries:
            entries[key] = BibEntry(len(entries) + 1, authors, year)
    return entries


_BIB_ENTRY = re.compile(r"@\s*([a-zA-Z]+)\s*[{(]\s*([^,\s]+)\s*,")


def _bib_field(body: str, name: str) -> str | None:
    m = re.search(r"(?<![a-zA-Z])" + name + r"\s*=\s*", body, re.IGNORECASE)
    if not m:
        return None
    i = m.end()
    if body.startswith("{", i):
        g = read_group(body, i)
        return g[0] if g else None
    if body.startswith('"', i):
        j = body.find('"', i + 1)
        return body[i + 1 : j] if j > 0 else None
    v = re.match(r"[\w.-]+", body[i:])
    return v.group(0) if v else None


def _short_authors(field_value: str, amp: str) -> str | None:
    names = [n.strip() for n in re.split(r"\s+and\s+", re.sub(r"\s+", " ", field_value)) if n.strip()]
    lasts = []
    for n in names:
        n = _latex_to_plain(n)
        last = n.split(",")[0].strip() if "," in n else (n.split()[-1] if n.split() else n)
        lasts.append(last)
    if not lasts:
        return None
    if len(lasts) == 1 or lasts[1].lower() == "others":
        return lasts[0] + (" et al." if len(lasts) > 1 else "")
    if len(lasts) == 2:
        return f"{lasts[0]} {amp} {lasts[1]}"
    return f"{lasts[0]} et al."


def parse_bib(text: str, wanted: set[str], amp: str = "&") -> dict[str, dict]:
    """Author and year of the cited keys in a .bib file (the rest is skipped unread)."""
    out: dict[str, dict] = {}
    starts = list(_BIB_ENTRY.finditer(text))
    for n, m in enumerate(starts):
        key = m.group(2)
        if key not in wanted or key in out:
            continue
        body = text[m.end() : starts[n + 1].start() if n + 1 < len(starts) else len(text)]
        author = _bib_field(body, "author") or _bib_field(body, "editor")
        year = _bib_field(body, "year")
        if year is None:
            date = _bib_field(body, "date")
            year = date[:4] if date else None
        out[key] = {"authors": _short_authors(author, amp) if author else None, "year": year}
    return out


# --- choosing the style and the source --------------------------------------------------------


def is_authoryear(preamble: str, body: str) -> bool:
    natbib = re.search(r"\\usepackage\s*(\[[^\]]*\])?\s*\{[^}]*natbib[^}]*\}", preamble)
    if natbib and natbib.group(1):
        opts = natbib.group(1)
        if re.search(r"numbers|super", opts):
            return False
        if "authoryear" in opts:
            return True
    biblatex = re.search(r"\\usepackage\s*(\[[^\]]*\])?\s*\{biblatex\}", preamble)
    if biblatex:
        opts = biblatex.group(1) or ""
        return bool(re.search(r"style\s*=\s*(authoryear|apa|chicago|mla|authortitle)", opts))
    if re.search(r"\\citestyle\{(authoryear|aa|egu|plainnat)\}", preamble):
        return True
    dc = re.search(r"\\documentclass\s*(\[[^\]]*\])?\s*\{([^}]*)\}", preamble)
    cls = dc.group(2).strip() if dc else ""
    opts = dc.group(1) or "" if dc else ""
    if cls == "sn-jnl":
        return (
            bool(re.search(r"sn-(basic|apa|chicago|nature|standardnature)", opts))
            and "sn-mathphys" not in opts
        )
    if AUTHORYEAR_CLASSES.match(cls) or re.search(
        r"\\usepackage\{[^}]*(iclr|neurips|nips|icml)\w*\}", preamble
    ):
        return True
    if NUMERIC_CLASSES.match(cls):
        return False
    if natbib:
        return not re.search(r"\\setcitestyle\{[^}]*numbers", preamble)
    return bool(re.search(r"\\cite[tp]\*?\s*[\[{]", body))


def load_bibliography(
    root: Path, main: Path, files: list[str], preamble: str, body: str, cited_in_order: list[str]
) -> Bibliography:
    from .project import inside_source

    authoryear = is_authoryear(preamble, body)
    bib = Bibliography(authoryear=authoryear)
    # Every file read here goes through the source guard: `\bibliography{/abs/x}`, `{../../x}` and a
    # .bbl/.bib linked out of the tree are refused (and reported), never read into a row.
    bbl = inside_source(main.with_suffix(".bbl"), root)
    if bbl is None:
        others = [f for f in files if f.endswith(".bbl")]
        bbl = inside_source(root / others[0], root) if len(others) == 1 else None
    if bbl is None and main.with_suffix(".bbl").is_symlink():  # a link out of the tree
        bib.refused.append(main.with_suffix(".bbl").name)
    texts = []
    if "\\begin{thebibliography}" in body or "\\bibitem" in body:
        texts.append(("thebibliography", body[body.find("\\begin{thebibliography}") :]))
    if bbl is not None:
        texts.insert(0, ("bbl", decode_tex(bbl.read_bytes())))
    for source, text in texts:
        entries = parse_bibitems(text)
        if entries:
            bib.entries, bib.source = entries, source
            return bib
    bib_names = re.findall(
        r"\\(?:bibliography|addbibresource)\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}", preamble + body
    )
    bib_files = []
    for group in bib_names:
        for name in group.split(","):
            name = name.strip()
            if not name:
                continue
            named = main.parent / (name if name.endswith(".bib") else name + ".bib")
            cand = inside_source(named, root)
            if cand is not None:
                bib_files.append(cand)
            elif not named.resolve().is_relative_to(Path(root).resolve()):
                # (missing inside the tree is common, no .bib shipped: not worth a row; outside is refused)
                bib.refused.append(name)
    if not bib_files:
        bib_files = [p for p in (inside_source(root / f, root) for f in files if f.endswith(".bib")) if p][:3]
    if not bib_files:
        return bib
    wanted = set(cited_in_order)
    amp = "&" if authoryear else "and"
    found: dict[str, dict] = {}
    for f in bib_files:
        found.update(parse_bib(decode_tex(f.read_bytes()), wanted - set(found), amp))
    bib.source = "bib"
    for key in cited_in_order:
        if key in found and key not in bib.entries:
            info = found[key]
            bib.entries[key] = BibEntry(len(bib.entries) + 1, info["authors"], info["year"])
    return bib
