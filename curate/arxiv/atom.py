"""arXiv's search API (`/api/query`): an Atom 1.0 feed with OpenSearch paging and `arxiv:` extensions.

Each `<entry>` is one paper at its latest version: `<id>http://arxiv.org/abs/2307.01139v2</id>`,
`<published>` (v1) and `<updated>` (this version), `<title>`, `<summary>`, `<author><name>`,
`<category term=...>`, `<arxiv:primary_category>`, `<arxiv:doi>`, `<arxiv:journal_ref>`,
`<arxiv:comment>`. The feed carries `<opensearch:totalResults>`, `startIndex`, `itemsPerPage`.
A malformed id comes back as an entry whose `<id>` is `http://arxiv.org/api/errors#...`; an id that
does not exist is simply absent. The feed carries no licence: OAI-PMH does (oai.py).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .identifiers import parse_arxiv_id
from .records import WITHDRAWN, PaperRecord, clean

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
    "arxiv": "http://arxiv.org/schemas/atom",
}
PAGE_SIZE = 100  # entries per request: arXiv's examples page by 100; larger pages time out more often
MAX_RESULTS = 30_000  # arXiv serves at most this many results of one query; use OAI-PMH for more


class FeedError(ValueError):
    pass


@dataclass
class Feed:
    total: int = 0
    start: int = 0
    per_page: int = 0
    records: list[PaperRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # arXiv's error entries (bad id format, bad query)


def _text(el: ET.Element, path: str) -> str | None:
    found = el.find(path, NS)
    return clean(found.text) if found is not None and found.text else None


def _int(el: ET.Element, path: str) -> int:
    value = _text(el, path)
    return int(value) if value and value.isdigit() else 0


def parse_feed(xml: str | bytes) -> Feed:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise FeedError(f"the search API answered something that is not an Atom feed ({e})") from e
    feed = Feed(
        total=_int(root, "opensearch:totalResults"),
        start=_int(root, "opensearch:startIndex"),
        per_page=_int(root, "opensearch:itemsPerPage"),
    )
    for entry in root.findall("atom:entry", NS):
        raw_id = _text(entry, "atom:id") or ""
        if "/api/errors" in raw_id:
            feed.errors.append(_text(entry, "atom:summary") or raw_id)
            continue
        aid = parse_arxiv_id(raw_id)
        if aid is None:
            feed.errors.append(f"entry with an id that is not an arXiv id: {raw_id!r}")
            continue
        categories = [c.get("term") for c in entry.findall("atom:category", NS) if c.get("term")]
        primary = entry.find("arxiv:primary_category", NS)
        if primary is not None and primary.get("term") in categories:
            categories.remove(primary.get("term"))
            categories.insert(0, primary.get("term"))
        comment = _text(entry, "arxiv:comment")
        feed.records.append(
            PaperRecord(
                id=aid.base,
                version=aid.version,
                title=_text(entry, "atom:title"),
                authors=[a for a in (_text(x, "atom:name") for x in entry.findall("atom:author", NS)) if a],
                abstract=_text(entry, "atom:summary"),
                categories=categories,
                published=(_text(entry, "atom:published") or "")[:10] or None,
                updated=(_text(entry, "atom:updated") or "")[:10] or None,
                doi=_text(entry, "arxiv:doi"),
                journal_ref=_text(entry, "arxiv:journal_ref"),
                comment=comment,
                withdrawn=bool(comment and WITHDRAWN.search(comment)),
            )
        )
    return feed
