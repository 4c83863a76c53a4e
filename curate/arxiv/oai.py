"""arXiv's OAI-PMH interface (`/oai2`), metadata format `arXiv`: the licence, and bulk harvesting.

`GetRecord` (identifier `oai:arXiv.org:ID`) gives one paper; `ListRecords` with `set`, `from` and
`until` pages through a subject and date range, each page ending in a `<resumptionToken>` (empty on
the last page) that the next request sends alone. A record's `<metadata><arXiv>` holds `id`,
`created` (v1), `updated`, `authors/author/{keyname, forenames, suffix}`, `title`, `categories`
(space-separated, primary first), `comments`, `journal-ref`, `doi`, `license` (a URL; absent for
papers without one) and `abstract`. Errors are `<error code="idDoesNotExist|noRecordsMatch|...">`.
OAI-PMH dates are datestamps of the record (the last change), not submission dates.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .records import WITHDRAWN, PaperRecord, clean

NS = {"oai": "http://www.openarchives.org/OAI/2.0/", "arXiv": "http://arxiv.org/OAI/arXiv/"}
METADATA_PREFIX = "arXiv"
OAI_PREFIX = "oai:arXiv.org:"
# OAI-PMH sets are archives: `cs`, `math`, `stat`, ...; the physics archives sit under `physics:`.
PHYSICS_ARCHIVES = {
    "astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nlin",
    "nucl-ex", "nucl-th", "physics", "quant-ph",
}  # fmt: skip


class OaiError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class OaiPage:
    records: list[PaperRecord] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # ids whose record is marked deleted
    token: str | None = None  # resumption token; None on the last page
    total: int | None = None  # completeListSize when the server says


def set_for(category: str) -> str:
    """The OAI-PMH set that holds a category: `cs.CV` -> `cs`, `hep-th` -> `physics:hep-th`."""
    archive = category.split(".")[0]
    return f"physics:{archive}" if archive in PHYSICS_ARCHIVES else archive


def _author(el: ET.Element) -> str | None:
    parts = [clean(el.findtext(f"arXiv:{p}", None, NS)) for p in ("forenames", "keyname", "suffix")]
    return " ".join(p for p in parts if p) or None


def _record(meta: ET.Element) -> PaperRecord:
    comment = clean(meta.findtext("arXiv:comments", None, NS))
    record = PaperRecord(
        id=clean(meta.findtext("arXiv:id", "", NS)) or "",
        title=clean(meta.findtext("arXiv:title", None, NS)),
        authors=[a for a in map(_author, meta.findall("arXiv:authors/arXiv:author", NS)) if a],
        abstract=clean(meta.findtext("arXiv:abstract", None, NS)),
        categories=(clean(meta.findtext("arXiv:categories", None, NS)) or "").split(),
        published=clean(meta.findtext("arXiv:created", None, NS)),
        updated=clean(meta.findtext("arXiv:updated", None, NS)),
        doi=clean(meta.findtext("arXiv:doi", None, NS)),
        journal_ref=clean(meta.findtext("arXiv:journal-ref", None, NS)),
        comment=comment,
        withdrawn=bool(comment and WITHDRAWN.search(comment)),
    )
    record.set_license_url(meta.findtext("arXiv:license", None, NS))
    return record


def parse_oai(xml: str | bytes) -> OaiPage:
    """One GetRecord or ListRecords answer; OaiError for an OAI-PMH error other than noRecordsMatch."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise OaiError("badResponse", f"the OAI-PMH answer is not XML ({e})") from e
    page = OaiPage()
    error = root.find("oai:error", NS)
    if error is not None:
        code = error.get("code", "error")
        if code == "noRecordsMatch":
            return page
        raise OaiError(code, clean(error.text) or code)
    for rec in root.iter(f"{{{NS['oai']}}}record"):
        header = rec.find("oai:header", NS)
        if header is not None and header.get("status") == "deleted":
            page.deleted.append((header.findtext("oai:identifier", "", NS)).removeprefix(OAI_PREFIX))
            continue
        meta = rec.find("oai:metadata/arXiv:arXiv", NS)
        if meta is not None:
            page.records.append(_record(meta))
    token = root.find(".//oai:resumptionToken", NS)
    if token is not None:
        page.token = clean(token.text)
        size = token.get("completeListSize")
        page.total = int(size) if size and size.isdigit() else None
    return page
