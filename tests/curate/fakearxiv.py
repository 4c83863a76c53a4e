"""A small arXiv look-alike on 127.0.0.1, answering in arXiv's documented formats, for `download` tests.

- `/api/query`: the Atom search API (`id_list` or `search_query` with `cat:`, `ti:` or `all:` terms,
  `start`, `max_results`), with `opensearch:totalResults` paging; a malformed id gives arXiv's error
  entry, an unknown one is simply absent.
- `/oai2`: OAI-PMH `GetRecord` and `ListRecords` (metadata format `arXiv`, `set`, `from`), pages of
  `page_size` records ending in a `resumptionToken`; `idDoesNotExist`, `noRecordsMatch`,
  `cannotDisseminateFormat` and `badResumptionToken` errors.
- `/pdf/{id}` (`application/pdf`; an id without version redirects to the latest version, as arXiv
  does) and `/e-print/{id}` (`application/x-eprint-tar` or `application/x-eprint` sent with
  `Content-Encoding: x-gzip`, or `application/pdf` for PDF-only submissions), with `Range` support.

Fault injection: `fail(path_prefix, times, retry_after)` answers 503 with `Retry-After`;
`drop(path)` sends half of a file and closes the connection once. `log` keeps (monotonic time, path,
query, User-Agent) of every request, for the spacing and etiquette tests.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

ATOM_NS = (
    'xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom"'
)


@dataclass
class FakePaper:
    id: str  # without version
    title: str
    versions: int = 1
    authors: list[tuple[str, str]] = field(default_factory=lambda: [("Doe", "Jane")])  # (keyname, forenames)
    abstract: str = "We study things."
    categories: list[str] = field(default_factory=lambda: ["cs.CV"])
    license_url: str | None = "http://creativecommons.org/licenses/by/4.0/"
    created: str = "2023-07-03"
    updated: str = "2023-07-20"
    datestamp: str = "2023-07-21"
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = "10 pages, 3 figures"
    pdf: bytes | None = None
    eprint: bytes | None = None
    eprint_type: str = "application/x-eprint-tar"  # or application/x-eprint, application/pdf

    @property
    def latest(self) -> str:
        return f"{self.id}v{self.versions}"


class FakeArxiv:
    def __init__(self, papers: list[FakePaper], page_size: int = 2):
        self.papers = {p.id: p for p in papers}
        self.page_size = page_size
        self.log: list[tuple[float, str, dict, str]] = []
        self.failures: dict[str, list] = {}  # path prefix -> [times left, retry_after]
        self.drops: set[str] = set()
        self.tokens: dict[str, tuple[list[str], int]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeArxiv:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, prefix: str, times: int = 1, retry_after: float | None = 1) -> None:
        self.failures[prefix] = [times, retry_after]

    def drop(self, path: str) -> None:
        self.drops.add(path)

    def paths(self) -> list[str]:
        return [p for _, p, _, _ in self.log]

    # --- answers ---------------------------------------------------------------------------------

    def atom_entry(self, p: FakePaper, version: int) -> str:
        cats = "".join(f'<category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in p.categories)
        authors = "".join(f"<author><name>{escape(f'{fn} {kn}')}</name></author>" for kn, fn in p.authors)
        extra = "".join(
            f"<arxiv:{tag}>{escape(v)}</arxiv:{tag}>"
            for tag, v in (("doi", p.doi), ("journal_ref", p.journal_ref), ("comment", p.comment))
            if v
        )
        return (
            f"<entry><id>http://arxiv.org/abs/{p.id}v{version}</id>"
            f"<updated>{p.updated}T10:00:00Z</updated><published>{p.created}T09:00:00Z</published>"
            f"<title>{escape(p.title)}\n  (wrapped)</title>"
            f"<summary>  {escape(p.abstract)}\n</summary>{authors}"
            f"{extra}"
            f'<link href="http://arxiv.org/abs/{p.id}v{version}" rel="alternate" type="text/html"/>'
            f'<link title="pdf" href="http://arxiv.org/pdf/{p.id}v{version}" rel="related" '
            'type="application/pdf"/>'
            f'<arxiv:primary_category term="{p.categories[0]}" scheme="http://arxiv.org/schemas/atom"/>'
            f"{cats}</entry>"
        )

    def atom(self, q: dict) -> str:
        start = int(q.get("start", ["0"])[0])
        size = int(q.get("max_results", ["10"])[0])
        entries: list[tuple[FakePaper, int]] = []
        errors = ""
        if q.get("id_list"):
            for raw in q["id_list"][0].split(","):
                base, _, v = raw.rpartition("v") if "v" in raw.split("/")[-1] else (raw, "", "")
                if not any(ch.isdigit() for ch in raw) or " " in raw:
                    errors += (
                        "<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_"
                        f"{escape(raw)}</id><title>Error</title><summary>incorrect id format for "
                        f"{escape(raw)}</summary></entry>"
                    )
                    continue
                p = self.papers.get(base or raw)
                if p is not None:
                    entries.append((p, int(v) if v.isdigit() else p.versions))
        else:
            field_, _, term = q.get("search_query", [""])[0].partition(":")
            for p in sorted(self.papers.values(), key=lambda p: p.id):
                if field_ == "cat" and term in p.categories:
                    entries.append((p, p.versions))
                elif field_ in ("ti", "all") and term.lower() in (p.title + " " + p.abstract).lower():
                    entries.append((p, p.versions))
        page = entries[start : start + size]
        return (
            f"<?xml version='1.0' encoding='UTF-8'?>\n<feed {ATOM_NS}><id>https://arxiv.org/api/x</id>"
            f"<title>arXiv Query</title><updated>2026-01-01T00:00:00Z</updated>"
            f"<opensearch:itemsPerPage>{size}</opensearch:itemsPerPage>"
            f"<opensearch:totalResults>{len(entries)}</opensearch:totalResults>"
            f"<opensearch:startIndex>{start}</opensearch:startIndex>"
            + errors
            + "".join(self.atom_entry(p, v) for p, v in page)
            + "</feed>"
        )

    def oai_record(self, p: FakePaper) -> str:
        authors = "".join(
            f"<author><keyname>{escape(kn)}</keyname><forenames>{escape(fn)}</forenames></author>"
            for kn, fn in p.authors
        )
        opt = "".join(
            f"<{tag}>{escape(v)}</{tag}>"
            for tag, v in (
                ("comments", p.comment),
                ("journal-ref", p.journal_ref),
                ("doi", p.doi),
                ("license", p.license_url),
            )
            if v
        )
        sets = "".join(f"<setSpec>{c.split('.')[0]}</setSpec>" for c in p.categories[:1])
        return (
            f"<record><header><identifier>oai:arXiv.org:{p.id}</identifier><datestamp>{p.datestamp}</datestamp>"
            f"{sets}</header><metadata>"
            '<arXiv xmlns="http://arxiv.org/OAI/arXiv/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<id>{p.id}</id><created>{p.created}</created><updated>{p.updated}</updated>"
            f"<authors>{authors}</authors><title>{escape(p.title)}</title>"
            f"<categories>{' '.join(p.categories)}</categories>{opt}<abstract>{escape(p.abstract)}</abstract>"
            "</arXiv></metadata></record>"
        )

    def oai(self, q: dict) -> str:
        verb = q.get("verb", [""])[0]
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            "<responseDate>2026-01-01T00:00:00Z</responseDate>"
            f'<request verb="{escape(verb)}">{self.url}/oai2</request>'
        )

        def error(code: str, text: str) -> str:
            return head + f'<error code="{code}">{escape(text)}</error></OAI-PMH>'

        if "resumptionToken" not in q and q.get("metadataPrefix", [""])[0] != "arXiv":
            return error("cannotDisseminateFormat", "unknown metadata format")
        if verb == "GetRecord":
            p = self.papers.get(q.get("identifier", [""])[0].removeprefix("oai:arXiv.org:"))
            if p is None:
                return error("idDoesNotExist", "no such identifier")
            return head + f"<GetRecord>{self.oai_record(p)}</GetRecord></OAI-PMH>"
        if verb != "ListRecords":
            return error("badVerb", "unsupported verb")
        if "resumptionToken" in q:
            token = q["resumptionToken"][0]
            if token not in self.tokens:
                return error("badResumptionToken", "expired")
            ids, start = self.tokens.pop(token)
        else:
            oai_set, since = q.get("set", [""])[0], q.get("from", [""])[0]
            ids = [
                p.id
                for p in sorted(self.papers.values(), key=lambda p: p.id)
                if (not oai_set or p.categories[0].split(".")[0] == oai_set) and p.datestamp >= since
            ]
            start = 0
            if not ids:
                return error("noRecordsMatch", "nothing in this range")
        page = ids[start : start + self.page_size]
        token = ""
        if start + self.page_size < len(ids):
            name = f"tok{len(self.tokens)}-{start}"
            self.tokens[name] = (ids, start + self.page_size)
            token = (
                f'<resumptionToken cursor="{start}" completeListSize="{len(ids)}">{name}</resumptionToken>'
            )
        else:
            token = f'<resumptionToken cursor="{start}" completeListSize="{len(ids)}"/>'
        records = "".join(self.oai_record(self.papers[i]) for i in page)
        return head + f"<ListRecords>{records}{token}</ListRecords></OAI-PMH>"


def _handler(fake: FakeArxiv):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            url = urlsplit(self.path)
            q = parse_qs(url.query)
            fake.log.append((time.monotonic(), url.path, q, self.headers.get("User-Agent", "")))
            for prefix, state in fake.failures.items():
                if url.path.startswith(prefix) and state[0] > 0:
                    state[0] -= 1
                    extra = {"Retry-After": str(state[1])} if state[1] is not None else {}
                    return self._send(503, b"busy", "text/plain", extra)
            if url.path == "/api/query":
                return self._send(200, fake.atom(q).encode(), "application/atom+xml; charset=utf-8")
            if url.path == "/oai2":
                return self._send(200, fake.oai(q).encode(), "text/xml; charset=utf-8")
            for kind in ("/pdf/", "/e-print/"):
                if url.path.startswith(kind):
                    return self._file(kind, url.path[len(kind) :])
            self._send(404, b"not found", "text/plain")

        def _file(self, kind: str, ident: str) -> None:
            base, _, v = ident.rpartition("v") if "v" in ident.split("/")[-1] else (ident, "", "")
            p = fake.papers.get(base or ident)
            if p is None:
                return self._send(404, b"<html>Article not found</html>", "text/html")
            if not v:  # like arXiv: an id without version is the latest version
                self.send_response(302)
                self.send_header("Location", f"{kind}{p.latest}")
                self.send_header("Content-Length", "0")
                return self.end_headers()
            body = p.pdf if kind == "/pdf/" else p.eprint
            if body is None:
                return self._send(404, b"<html>not available (withdrawn)</html>", "text/html")
            if kind == "/pdf/" or p.eprint_type == "application/pdf":
                ctype, extra = "application/pdf", {}
            else:
                ctype, extra = p.eprint_type, {"Content-Encoding": "x-gzip"}
            path = kind + ident
            rng = self.headers.get("Range", "")
            if rng.startswith("bytes=") and rng[6:-1].isdigit():
                offset = int(rng[6:-1])
                part = body[offset:]
                extra = {**extra, "Content-Range": f"bytes {offset}-{len(body) - 1}/{len(body)}"}
                return self._send(206, part, ctype, extra)
            if path in fake.drops:
                fake.drops.discard(path)
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self._send(200, body, ctype, extra)

    return Handler
