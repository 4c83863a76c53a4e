"""The public arXiv metadata snapshot (`arxiv-metadata-oai-snapshot.json`), and `metadata.jsonl` files.

The snapshot is JSON lines, one paper a line, several GB: `id`, `submitter`, `authors` (one string),
`authors_parsed` ([keyname, forenames, suffix] lists), `title`, `comments`, `journal-ref`, `doi`,
`report-no`, `categories` (space-separated), `license` (a URL or null), `abstract`, `versions`
([{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}, ...]) and `update_date`. It is read
line by line, never whole, so memory stays flat. `read_records` also reads `download`'s own
`metadata.jsonl`, so `--metadata` takes either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

from .identifiers import parse_arxiv_id
from .licenses import allows
from .records import WITHDRAWN, PaperRecord, clean


class SnapshotError(ValueError):
    pass


def _date(rfc822: str | None) -> str | None:
    try:
        return parsedate_to_datetime(rfc822).date().isoformat() if rfc822 else None
    except (TypeError, ValueError):
        return None


def snapshot_record(data: dict) -> PaperRecord:
    """A snapshot line as a record (latest version, its dates, authors from `authors_parsed`)."""
    versions = data.get("versions") or []
    numbers = [int(v["version"][1:]) for v in versions if str(v.get("version", "")).startswith("v")]
    parsed = data.get("authors_parsed") or []
    authors = [
        " ".join(p for p in (a[1] if len(a) > 1 else "", a[0], a[2] if len(a) > 2 else "") if p)
        for a in parsed
    ]
    comment = clean(data.get("comments"))
    record = PaperRecord(
        id=str(data["id"]).strip(),
        version=max(numbers) if numbers else None,
        title=clean(data.get("title")),
        authors=[clean(a) for a in authors if clean(a)] or [a for a in [clean(data.get("authors"))] if a],
        abstract=clean(data.get("abstract")),
        categories=(data.get("categories") or "").split(),
        published=_date(versions[0].get("created")) if versions else None,
        updated=clean(data.get("update_date")),
        doi=clean(data.get("doi")),
        journal_ref=clean(data.get("journal-ref")),
        comment=comment,
        withdrawn=bool(comment and WITHDRAWN.search(comment)),
    )
    record.set_license_url(data.get("license"))
    return record


def read_records(path: Path) -> Iterator[PaperRecord]:
    """Records of a snapshot or a `metadata.jsonl`, line by line; SnapshotError on a broken line."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if "versions" in data or "authors_parsed" in data:
                    yield snapshot_record(data)
                else:
                    yield PaperRecord.from_dict(data)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
                raise SnapshotError(
                    f"{path}:{n}: not a metadata record ({e}); is this the arXiv snapshot?"
                ) from e


def select(
    records: Iterable[PaperRecord],
    categories: set[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    licenses: set[str] | None = None,
) -> Iterator[PaperRecord]:
    """Records in any of the categories (`cs.CV`, or a whole archive `cs`), first submitted within
    [date_from, date_to] (ISO dates, inclusive), under one of the licences."""
    for r in records:
        if categories and not any(c in categories or c.split(".")[0] in categories for c in r.categories):
            continue
        if date_from and (r.published or "") < date_from:
            continue
        if date_to and (r.published or "9999") > date_to:
            continue
        if not allows(licenses, r.license):
            continue
        yield r


def index_for(paths: Iterable[Path], wanted: set[str]) -> dict[str, PaperRecord]:
    """Records of the papers in `wanted` (ids without version), from metadata files; later files and
    later lines win. Only wanted records are kept, so a multi-GB snapshot costs no memory."""
    found: dict[str, PaperRecord] = {}
    for path in paths:
        for record in read_records(path):
            aid = parse_arxiv_id(record.id)
            if aid is not None and aid.base in wanted:
                found[aid.base] = record
    return found
