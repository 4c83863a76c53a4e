"""Licences of arXiv papers, normalised to SPDX-like ids, and which of them let a dataset be published.

arXiv records a licence URL per paper (OAI-PMH format `arXiv`, the metadata snapshot's `license`):
Creative Commons URLs (`http://creativecommons.org/licenses/by/4.0/`, older `.../by/3.0/`, `by-sa`,
`by-nc-sa`, `by-nc-nd`, `publicdomain/zero/1.0/`, and the early `licenses/publicdomain/`) and its own
`http://arxiv.org/licenses/nonexclusive-distrib/1.0/`. A paper with no recorded licence carries, by
arXiv's rule, the assumed licence of 1991-2003 (`http://arxiv.org/licenses/assumed-1991-2003/`).
URLs come with `http://` or `https://`, with or without `www.` and the trailing `/` or `legalcode`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

NONEXCLUSIVE = "arXiv-nonexclusive-1.0"
ASSUMED = "arXiv-assumed-1991-2003"
# SPDX has no id for arXiv's two licences; these are the names the contract fixes (LicenseRef style).
ARXIV_URLS = {
    "arxiv.org/licenses/nonexclusive-distrib/1.0": NONEXCLUSIVE,
    "arxiv.org/licenses/assumed-1991-2003": ASSUMED,
}
_CC_URL = re.compile(
    r"^creativecommons\.org/licenses/(?P<terms>by(?:-nc)?(?:-sa|-nd)?)/(?P<version>\d\.\d)(?:/[a-z]{2})?"
    r"(?:/(?:legalcode|deed\.[a-z]+))?$"
)
_CC0_URL = re.compile(r"^creativecommons\.org/publicdomain/zero/1\.0(?:/legalcode)?$")
_PDDC_URL = "creativecommons.org/licenses/publicdomain"  # CC's 2004-era public domain dedication
# Ids as users type them: `CC-BY-4.0`, `cc by 4.0`, `CC BY-NC-SA 4.0`, `CC0`, `cc0-1.0`.
_CC_ID = re.compile(r"^cc[\s_-]*(?P<terms>by(?:[\s_-]*nc)?(?:[\s_-]*(?:sa|nd))?)[\s_-]*(?P<version>\d\.\d)?$")
_CC0_ID = re.compile(r"^cc[\s_-]*(?:0|zero)(?:[\s_-]*1\.0)?$")

# Licences under which anyone may redistribute and adapt the figures, also commercially: a dataset of
# such rows can be published as a whole (share-alike rows ask the same licence of derived work).
# NC and ND licences, arXiv's own licences (they grant rights to arXiv only) and unknown ones are not.
PERMISSIVE = frozenset(
    {"CC0-1.0", "CC-PDDC"}
    | {f"CC-BY-{v}" for v in ("1.0", "2.0", "2.5", "3.0", "4.0")}
    | {f"CC-BY-SA-{v}" for v in ("1.0", "2.0", "2.5", "3.0", "4.0")}
)
UNKNOWN = "unknown"  # what filters call a row without licence
GROUPS = {"permissive": PERMISSIVE}  # `--license permissive` keeps every licence in the set


def _strip_url(value: str) -> str:
    v = re.sub(r"^https?://", "", value.strip(), flags=re.IGNORECASE)
    v = re.sub(r"^www\.", "", v, flags=re.IGNORECASE)
    return v.rstrip("/").lower()


def normalize_license(value: str | None) -> str | None:
    """`http://creativecommons.org/licenses/by/4.0/` -> `CC-BY-4.0`; arXiv's URLs -> `arXiv-...`;
    ids in any spelling -> the canonical id; None or empty -> None. A value not recognised is returned
    stripped, as given: never guessed into a licence it may not be."""
    if value is None or not value.strip():
        return None
    url = _strip_url(value)
    if url in ARXIV_URLS:
        return ARXIV_URLS[url]
    if url == _PDDC_URL:
        return "CC-PDDC"
    if _CC0_URL.match(url):
        return "CC0-1.0"
    m = _CC_URL.match(url)
    if m:
        return f"CC-{m.group('terms').upper()}-{m.group('version')}"
    word = value.strip().lower()
    canonical = {lic.lower(): lic for lic in (*PERMISSIVE, NONEXCLUSIVE, ASSUMED)}
    if word in canonical:
        return canonical[word]
    if _CC0_ID.match(word):
        return "CC0-1.0"
    m = _CC_ID.match(word)
    if m and m.group("version"):
        terms = "-".join(re.findall(r"by|nc|sa|nd", m.group("terms"))).upper()
        return f"CC-{terms}-{m.group('version')}"
    return value.strip()


def arxiv_license(url: str | None) -> str:
    """The licence of an arXiv record: its URL normalised, or arXiv's assumed licence when none is
    recorded (arXiv's rule for submissions without a licence field)."""
    return normalize_license(url) or ASSUMED


def is_permissive(license: str | None) -> bool:
    return license in PERMISSIVE


def license_choices(values: Iterable[str]) -> set[str]:
    """What `--license` arguments mean: each normalised (URLs and loose spellings accepted), the group
    `permissive` expanded, `unknown` kept for rows without licence."""
    chosen: set[str] = set()
    for value in values:
        key = value.strip().lower()
        if key in GROUPS:
            chosen |= GROUPS[key]
        elif key == UNKNOWN:
            chosen.add(UNKNOWN)
        else:
            chosen.add(normalize_license(value))
    return chosen


def allows(choices: set[str] | None, license: str | None) -> bool:
    """Whether a paper or row with `license` passes `--license` choices (None: no filter)."""
    if not choices:
        return True
    return (license or UNKNOWN).lower() in {c.lower() for c in choices}


def combined_terms(licenses: Iterable[str]) -> str:
    """What a collection of rows under these licences allows, in words (the strictest terms win)."""
    terms = []
    if any(not (lic.startswith("CC") or lic in PERMISSIVE) for lic in licenses):
        terms.append(
            "no right to redistribute (arXiv's licences grant rights to arXiv only; unknown grants none)"
        )
    if any("-NC" in lic for lic in licenses):
        terms.append("non-commercial use only")
    if any("-ND" in lic for lic in licenses):
        terms.append("no adapted versions")
    if any("-SA" in lic for lic in licenses):
        terms.append("derived work under the same licence")
    return "; ".join(terms) or "reuse with attribution"


def dataset_license_text(papers: dict[str, int], rows: dict[str, int]) -> str:
    """The card's licence section: what the rows allow for the dataset as a whole, and a warning when
    rows under non-permissive (or unknown) licences are present. `papers`/`rows` count per licence."""
    if not rows:
        return "No rows yet, so no licence to state."
    names = sorted(rows, key=lambda lic: (-rows[lic], lic))
    restricted = [lic for lic in names if lic not in PERMISSIVE]
    n_rows = sum(rows.values())
    lines = []
    if len(names) == 1 and not restricted:
        lines.append(f"Every row comes from a paper under `{names[0]}`: the dataset is under `{names[0]}`.")
    elif not restricted:
        sa = [lic for lic in names if "-SA-" in lic]
        lines.append(
            "Every row comes from a paper under a permissive licence ("
            + ", ".join(f"`{lic}`" for lic in names)
            + "): the dataset may be published, each row under its own paper's licence, with attribution"
            + (
                f"; derived work from the {', '.join(f'`{s}`' for s in sa)} rows must keep that licence."
                if sa
                else "."
            )
        )
    else:
        n_bad = sum(rows[lic] for lic in restricted)
        lines.append(
            "The rows do not share one licence that allows publishing them all: each row may be used only "
            "under its own paper's licence (`license` column). Taken as a whole, the dataset allows only "
            f"what its most restrictive rows allow: {combined_terms(names)}."
        )
        lines.append(
            f"\n> **Warning: {n_bad:,} of {n_rows:,} rows ({n_bad / n_rows:.0%}) are under non-permissive or "
            f"unknown licences** ({', '.join(f'`{lic}`' for lic in restricted)}): non-commercial (NC) and "
            "no-derivatives (ND) licences forbid uses that training sets and their models often make, "
            "arXiv's own licences grant rights to arXiv only, and `unknown` means nobody checked. Before "
            "publishing, keep only what you may share: `scitune-curate filter OUT -o DEST --license "
            "permissive`."
        )
    lines.append("\n| license | papers | rows | permissive |\n|---|---:|---:|---|")
    for lic in names:
        lines.append(
            f"| `{lic}` | {papers.get(lic, 0):,} | {rows[lic]:,} | {'yes' if lic in PERMISSIVE else 'no'} |"
        )
    return "\n".join(lines)
