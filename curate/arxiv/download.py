"""`scitune-curate download`: arXiv papers (PDF + source) and their metadata into a PAPERS folder.

Papers are chosen by id, by a search query (Atom API), by category and date range (OAI-PMH
`ListRecords`, what arXiv asks bulk users to do), or from the metadata snapshot (`--metadata`, no API
calls for metadata). The licence comes from OAI-PMH format `arXiv` (the Atom feed has none) or the
snapshot, and `--license` keeps only the papers the user may publish before any file is fetched.

PAPERS holds, per paper, `<stem>.pdf` and its e-print saved by what it is (magic bytes, not the
Content-Type): `<stem>.tar.gz` (a source bundle), `<stem>.tex.gz` (a single gzipped TeX file), or
nothing when the e-print is the PDF itself. `<stem>` is the versioned id in file-name form
(`2307.01139v2`, `hep-th9901001v1`), so `extract PAPERS` pairs PDF and source. `PAPERS/metadata.jsonl`
has one record per paper (records.py); a paper is written there only once its files are complete,
so a killed run resumes where it stopped: complete papers are skipped without a request.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm import tqdm

# archives.py's own sniffing, so that download and extract agree on what a bundle is
from ..archives import UnsafeArchiveError, _gzip_holds_tar, archive_format
from . import atom, oai
from .client import ARXIV_MIN_DELAY, ARXIV_URL, Client, DownloadError, NotFound
from .identifiers import ArxivId, parse_arxiv_id
from .licenses import allows
from .records import PaperRecord
from .snapshot import read_records, select

METADATA = "metadata.jsonl"
PDF_MAGIC = b"%PDF"
PS_MAGIC = b"%!PS"
ID_BATCH = 100  # ids per Atom id_list request (one page)


@dataclass
class Selection:
    """What to download: exactly one of ids, query or categories (+ dates), optionally from a snapshot."""

    ids: list[str] = field(default_factory=list)
    query: str | None = None
    categories: list[str] = field(default_factory=list)
    date_from: str | None = None  # ISO dates, first submission (v1), inclusive
    date_to: str | None = None
    snapshot: Path | None = None
    licenses: set[str] | None = None  # normalised ids (licenses.license_choices); None: all
    max_papers: int | None = None


@dataclass
class DownloadSummary:
    selected: int = 0
    downloaded: int = 0
    already: int = 0  # complete from an earlier run
    pdf_only: int = 0  # the e-print is the PDF: no LaTeX source exists
    withdrawn: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    license_skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"papers: {self.selected} selected, {self.downloaded} downloaded, "
            f"{self.already} already complete, "
            f"{self.pdf_only} without LaTeX source (PDF only), {self.license_skipped} left out by --license",
            f"requests: {self.requests} in {self.seconds:.1f} s",
        ]
        if self.invalid:
            out.append(f"not arXiv ids ({len(self.invalid)}): {', '.join(self.invalid)}")
        if self.not_found:
            out.append(f"no such paper on arXiv ({len(self.not_found)}): {', '.join(self.not_found)}")
        if self.withdrawn:
            out.append(
                f"withdrawn ({len(self.withdrawn)}, metadata kept, no files): {', '.join(self.withdrawn)}"
            )
        for pid, why in self.failed:
            out.append(f"failed: {pid}: {why}")
        return out


def load_done(papers: Path) -> dict[str, PaperRecord]:
    """Records already in PAPERS/metadata.jsonl whose files are all there, complete (by size)."""
    done: dict[str, PaperRecord] = {}
    path = papers / METADATA
    if not path.exists():
        return done
    for record in read_records(path):
        if _files_complete(papers, record):
            done[record.id] = record
        else:
            done.pop(record.id, None)
    return done


def _files_complete(papers: Path, record: PaperRecord) -> bool:
    for kind in ("pdf", "source"):
        name, size = record.files.get(kind), record.files.get(f"{kind}_size")
        if name and not ((papers / name).is_file() and (papers / name).stat().st_size == size):
            return False
    return True


# --- choosing papers -------------------------------------------------------------------------------


def _atom_pages(client: Client, params: dict, limit: int | None, on_total: Callable[[int], None]):
    start = 0
    while True:
        size = atom.PAGE_SIZE if limit is None else min(atom.PAGE_SIZE, limit - start)
        if size <= 0:
            return
        feed = atom.parse_feed(client.get_text("/api/query", {**params, "start": start, "max_results": size}))
        on_total(feed.total)
        yield feed
        start += len(feed.records)
        if not feed.records or start >= min(feed.total, atom.MAX_RESULTS):
            return


def _by_ids(client: Client, ids: list[ArxivId], summary: DownloadSummary) -> Iterator[PaperRecord]:
    for i in range(0, len(ids), ID_BATCH):
        batch = ids[i : i + ID_BATCH]
        feed = atom.parse_feed(
            client.get_text(
                "/api/query", {"id_list": ",".join(a.versioned for a in batch), "max_results": len(batch)}
            )
        )
        found = {r.id: r for r in feed.records}
        for aid in batch:
            if aid.base in found:
                record = found[aid.base]
                record.version = aid.version or record.version
                yield record
            else:
                summary.not_found.append(aid.versioned)


def _with_versions(client: Client, records: Iterable[PaperRecord]) -> Iterator[PaperRecord]:
    """OAI-PMH records lack the version: ask the Atom API for them, a page of ids at a time."""
    batch: list[PaperRecord] = []

    def flush():
        feed = atom.parse_feed(
            client.get_text(
                "/api/query", {"id_list": ",".join(r.id for r in batch), "max_results": len(batch)}
            )
        )
        latest = {r.id: r for r in feed.records}
        for r in batch:
            if r.id in latest:
                r.version = latest[r.id].version
                r.fill_from(latest[r.id])
            yield r

    for record in records:
        batch.append(record)
        if len(batch) == ID_BATCH:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def _harvest(client: Client, sel: Selection, on_total: Callable[[int], None]) -> Iterator[PaperRecord]:
    """ListRecords per OAI-PMH set of the categories, following resumption tokens; keeps the records
    in the categories whose first version falls in the date range (OAI `from` is a change date)."""
    wanted = set(sel.categories)
    for oai_set in sorted({oai.set_for(c) for c in wanted}):
        params = {"verb": "ListRecords", "metadataPrefix": oai.METADATA_PREFIX, "set": oai_set}
        if sel.date_from:
            params["from"] = sel.date_from
        while True:
            page = oai.parse_oai(client.get_text("/oai2", params))
            if page.total:
                on_total(page.total)
            yield from select(page.records, wanted, sel.date_from, sel.date_to)
            if not page.token:
                break
            params = {"verb": "ListRecords", "resumptionToken": page.token}


def _add_license(client: Client, record: PaperRecord) -> None:
    """The licence from OAI-PMH GetRecord (the Atom feed does not carry it)."""
    try:
        page = oai.parse_oai(
            client.get_text(
                "/oai2",
                {
                    "verb": "GetRecord",
                    "identifier": oai.OAI_PREFIX + record.id,
                    "metadataPrefix": oai.METADATA_PREFIX,
                },
            )
        )
    except oai.OaiError as e:
        raise DownloadError(f"no OAI-PMH record, so no licence: {e}") from e
    if not page.records:
        raise DownloadError("the OAI-PMH record is marked deleted, so no licence is known")
    licensed = page.records[0]
    record.license_url, record.license = licensed.license_url, licensed.license
    record.fill_from(licensed)


def choose(client: Client, sel: Selection, summary: DownloadSummary, on_total) -> Iterator[PaperRecord]:
    """The records to download, licence known (None only when OAI-PMH could not say)."""
    if sel.snapshot is not None:
        records = read_records(sel.snapshot)
        if sel.ids:
            wanted = {a.base: a for a in map(parse_arxiv_id, sel.ids) if a}
            records = (r for r in records if r.id in wanted)
        yield from select(records, set(sel.categories) or None, sel.date_from, sel.date_to)
        return
    if sel.ids:
        ids = []
        for text in sel.ids:
            aid = parse_arxiv_id(text)
            if aid is None:
                summary.invalid.append(text)
            else:
                ids.append(aid)
        on_total(len(ids))
        records = _by_ids(client, ids, summary)
    elif sel.query:
        records = (
            r
            for feed in _atom_pages(client, {"search_query": sel.query}, None, on_total)
            for r in feed.records
        )
    else:
        return (yield from _with_versions(client, _harvest(client, sel, on_total)))
    for record in records:
        if record.license is None:
            try:
                _add_license(client, record)
            except DownloadError as e:
                summary.failed.append((record.paper_id, str(e)))
                continue
        yield record


# --- fetching files --------------------------------------------------------------------------------


def _eprint_kind(path: Path) -> str:
    """What an e-print is: `tar.gz`, `tex.gz`, `ps.gz`, `tar`, `pdf` or `unknown` (by content)."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(PDF_MAGIC):
        return "pdf"
    fmt = archive_format(path)
    if fmt == "tar":
        return "tar"
    if fmt != "gzip":
        return "unknown"
    if _gzip_holds_tar(path):
        return "tar.gz"
    with gzip.open(path, "rb") as g:
        inner = g.read(8)
    return "ps.gz" if inner.startswith(PS_MAGIC) else "tex.gz"


def fetch_paper(client: Client, papers: Path, record: PaperRecord, pdf: bool, source: bool) -> None:
    """Fetch the PDF and the e-print of one paper into PAPERS; fills `record.files`."""
    files: dict = {}
    versioned = record.paper_id
    if pdf:
        dest = papers / f"{record.stem}.pdf"
        got = client.fetch_file(f"/pdf/{versioned}", dest)
        with open(dest, "rb") as f:
            if not f.read(5).startswith(PDF_MAGIC):
                dest.unlink()
                raise DownloadError(f"/pdf/{versioned} did not answer with a PDF ({got.content_type})")
        files.update(pdf=dest.name, pdf_size=got.size)
    if source:
        tmp = papers / f"{record.stem}.eprint"
        try:
            got = client.fetch_file(f"/e-print/{versioned}", tmp)
        except NotFound:
            files["source_format"] = "none"
        else:
            try:
                kind = _eprint_kind(tmp)
            except (UnsafeArchiveError, OSError, EOFError) as e:
                tmp.unlink(missing_ok=True)
                raise DownloadError(
                    f"the e-print of {versioned} is corrupt ({e}); run again to refetch"
                ) from e
            files["source_format"] = kind
            if kind == "pdf":
                if pdf:
                    tmp.unlink()
                else:  # the only file of a PDF-only submission is its PDF
                    dest = papers / f"{record.stem}.pdf"
                    os.replace(tmp, dest)
                    files.update(pdf=dest.name, pdf_size=got.size)
            elif kind in ("tar.gz", "tex.gz", "tar"):
                dest = papers / f"{record.stem}.{kind}"
                os.replace(tmp, dest)
                files.update(source=dest.name, source_size=got.size)
            else:  # PostScript-only (old papers) or unknown: nothing extract can read
                tmp.unlink()
    record.files = files


def _append(path: Path, record: PaperRecord) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(record.to_json() + "\n")
        f.flush()
        os.fsync(f.fileno())


def _compact(path: Path) -> None:
    """Keep the last record per paper in metadata.jsonl (a paper redone is appended again)."""
    last: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            if line.strip():
                last[json.loads(line)["id"]] = n
    if len(last) == sum(1 for _ in open(path, encoding="utf-8") if _.strip()):
        return
    keep = set(last.values())
    tmp = path.with_name(path.name + ".tmp")
    with open(path, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8") as dst:
        for n, line in enumerate(src):
            if n in keep:
                dst.write(line)
    os.replace(tmp, path)


def download(
    papers: Path,
    sel: Selection,
    base_url: str = ARXIV_URL,
    delay: float = ARXIV_MIN_DELAY,
    pdf: bool = True,
    source: bool = True,
    contact: str | None = None,
    progress: bool = True,
) -> DownloadSummary:
    """Download the selected papers into PAPERS; resumable, one request at a time."""
    start = time.monotonic()
    papers = Path(papers)
    papers.mkdir(parents=True, exist_ok=True)
    client = Client(base_url, delay=delay, contact=contact)
    summary = DownloadSummary()
    done = load_done(papers)
    requests_per_paper = int(pdf) + int(source) + 1  # files plus the metadata share, for the ETA
    bar = tqdm(unit="paper", disable=not progress, file=sys.stderr, dynamic_ncols=True, desc="download")

    def on_total(total: int) -> None:
        if bar.total is None or total > bar.total:
            bar.total = min(total, sel.max_papers or total)
            bar.refresh()

    # Explicit ids already complete need no request at all.
    if sel.ids and sel.snapshot is None:
        todo = []
        for text in sel.ids:
            aid = parse_arxiv_id(text)
            prior = done.get(aid.base) if aid else None
            if (
                prior is not None
                and aid.version in (None, prior.version)
                and allows(sel.licenses, prior.license)
            ):
                summary.selected += 1
                summary.already += 1
            else:
                todo.append(text)
        sel = replace(sel, ids=todo)
    try:
        if sel.ids or sel.query or sel.categories or sel.snapshot:
            for record in choose(client, sel, summary, on_total):
                if sel.max_papers and summary.selected >= sel.max_papers:
                    break
                if not allows(sel.licenses, record.license):
                    summary.license_skipped += 1
                    continue
                summary.selected += 1
                prior = done.get(record.id)
                if prior is not None and prior.version == record.version:
                    summary.already += 1
                    bar.update()
                    continue
                if record.withdrawn:
                    summary.withdrawn.append(record.paper_id)
                    _append(papers / METADATA, record)
                    bar.update()
                    continue
                try:
                    fetch_paper(client, papers, record, pdf, source)
                except NotFound as e:
                    summary.failed.append((record.paper_id, f"{e}: the file is not on the server"))
                except DownloadError as e:
                    summary.failed.append((record.paper_id, str(e)))
                else:
                    summary.downloaded += 1
                    summary.pdf_only += record.files.get("source_format") == "pdf"
                    _append(papers / METADATA, record)
                    done[record.id] = record
                bar.update()
                left = (bar.total or bar.n) - bar.n
                bar.set_postfix(at_least=f"{left * requests_per_paper * client.delay / 60:.0f} min left")
    except (DownloadError, atom.FeedError, oai.OaiError) as e:
        # A metadata request failed for good (after the retries): stop, keeping what is complete.
        summary.failed.append(("(listing)", f"{e}; the papers done so far are kept: run again to resume"))
    finally:
        bar.close()
        if (papers / METADATA).exists():
            _compact(papers / METADATA)
    summary.requests = client.requests
    summary.seconds = time.monotonic() - start
    return summary


ARXIV_INPUT = "arxiv:"  # `extract arxiv:2307.01139`: an id to download first


def split_arxiv_inputs(inputs: Iterable[Path | str]) -> tuple[list[Path], list[str]]:
    """(paths, arXiv ids) of extract's INPUTs: `arxiv:ID` names an id, anything else a path."""
    paths, ids = [], []
    for given in inputs:
        text = str(given)
        if text.lower().startswith(ARXIV_INPUT):
            ids.append(text)
        else:
            paths.append(Path(given))
    return paths, ids


def fetch_inputs(
    ids: list[str], cache: Path, base_url: str = ARXIV_URL, delay: float = ARXIV_MIN_DELAY, progress=True
) -> tuple[list[Path], DownloadSummary]:
    """Download `arxiv:ID` inputs into the cache folder (skipping complete ones) and return their files,
    with the cache's metadata.jsonl, which `extract` then joins."""
    summary = download(cache, Selection(ids=ids), base_url=base_url, delay=delay, progress=progress)
    done = load_done(cache)
    files: list[Path] = []
    for text in ids:
        aid = parse_arxiv_id(text)
        record = done.get(aid.base) if aid else None
        if record is None or (aid.version and record.version != aid.version):
            continue
        files += [cache / record.files[k] for k in ("pdf", "source") if record.files.get(k)]
    return files, summary


def default_cache() -> Path:
    """Where `extract arxiv:ID` keeps downloads: $XDG_CACHE_HOME/scitune/arxiv (~/.cache/...)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "scitune" / "arxiv"
