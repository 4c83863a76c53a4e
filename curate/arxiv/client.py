"""A polite HTTP client for arXiv's public interfaces (and mirrors that stand in for them).

arXiv's terms for API users: one connection at a time, no more than one request every three seconds,
a User-Agent that says who is asking, and backing off when told to (429/503 with `Retry-After`).
`Client` does all of that for every request it sends, retries included:

- requests + urllib3's `Retry` (well kept, used by pip itself) give retries with backoff on 429 and
  5xx, honouring `Retry-After`; `PoliteRetry` never waits less than the delay between two attempts.
- `Client.wait` starts a request no sooner than `delay` seconds after the previous one was answered,
  so the server sees them at least `delay` apart whatever the network latency.
- `delay` may not be set below `ARXIV_MIN_DELAY` for arXiv's own hosts; a mirror (any other host,
  e.g. a loopback test server) may be given a shorter delay, since it is not arXiv's budget.
- `fetch_file` is resumable: bytes go to `NAME.part` and are renamed only when the size matches what
  the server announced; a `.part` left by a dropped connection is continued with a `Range` request
  (or redone when the server ignores ranges).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util.retry import Retry

from ...schemas import extractor_version

ARXIV_URL = "https://export.arxiv.org"  # the host arXiv asks programmatic users to use
ARXIV_MIN_DELAY = 3.0  # seconds between requests: arXiv's published limit for its API and OAI-PMH
ARXIV_HOSTS = ("arxiv.org",)  # the host and its subdomains (export., www.)
RETRIES = 5  # attempts after the first on 429/5xx and failed connections: enough to ride out a blip
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRY_AFTER = 600.0  # a longer Retry-After is not waited out: the run reports it and goes on
DROPPED_RETRIES = 3  # new attempts at a file whose transfer broke off mid-way
CHUNK = 2**16
TIMEOUT = (30, 120)  # connect, read (seconds): a stalled transfer fails instead of hanging the run


class DownloadError(Exception):
    """A file or a page could not be fetched; the message says why and what to do."""


class NotFound(DownloadError):
    pass


def is_arxiv_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in ARXIV_HOSTS)


def user_agent(contact: str | None = None) -> str:
    version = extractor_version().split()[-1]
    agent = f"scitune/{version} (scitune-curate download; figure datasets from arXiv papers"
    return agent + (f"; mailto:{contact})" if contact else ")")


class PoliteRetry(Retry):
    """urllib3's Retry, but never sooner than `delay` after the failed attempt (urllib3 retries the
    first failure at once), and a `Retry-After` above `MAX_RETRY_AFTER` ends the retries."""

    delay: float = ARXIV_MIN_DELAY

    def new(self, **kw) -> PoliteRetry:
        retry = super().new(**kw)
        retry.delay = self.delay
        return retry

    def get_retry_after(self, response) -> float | None:
        after = super().get_retry_after(response)
        if after is not None and after > MAX_RETRY_AFTER:
            raise DownloadError(
                f"the server asks to wait {after:.0f} s (Retry-After) before the next request; "
                "run the command again later (finished papers are kept)."
            )
        return after

    def sleep(self, response=None) -> None:
        after = self.get_retry_after(response) if response is not None else None
        time.sleep(max(self.delay, after or 0.0, self.get_backoff_time()))


@dataclass
class Fetched:
    path: Path
    size: int
    content_type: str
    url: str  # after redirects


class Client:
    """One session to one base URL; all requests in sequence, spaced by `delay` seconds."""

    def __init__(self, base_url: str = ARXIV_URL, delay: float = ARXIV_MIN_DELAY, contact: str | None = None):
        self.base_url = base_url.rstrip("/")
        if delay < ARXIV_MIN_DELAY and is_arxiv_host(self.base_url):
            raise ValueError(
                f"arXiv asks for at least {ARXIV_MIN_DELAY:g} s between requests; --delay {delay:g} is only "
                "allowed for a mirror (--arxiv-url pointing elsewhere)."
            )
        self.delay = max(0.0, delay)
        self.requests = 0
        self._last_answer: float | None = None  # when the previous request's answer (headers) came
        retry = PoliteRetry(
            total=RETRIES,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=max(self.delay, 0.1),  # doubling per failure from the delay on
            respect_retry_after_header=True,
            raise_on_status=False,
            allowed_methods=frozenset({"GET", "HEAD"}),
        )
        retry.delay = self.delay
        self.session = requests.Session()
        # One connection per host, reused: arXiv asks for a single connection at a time.
        self.session.mount("http://", HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=1))
        self.session.mount("https://", HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=1))
        self.session.headers["User-Agent"] = user_agent(contact)

    def url(self, path: str) -> str:
        return self.base_url + path

    def wait(self) -> None:
        """Sleep until `delay` seconds have passed since the previous request was answered."""
        if self._last_answer is not None:
            remaining = self._last_answer + self.delay - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
        self.requests += 1

    def _get(self, path: str, params: dict | None = None, headers: dict | None = None, stream=False):
        self.wait()
        try:
            response = self.session.get(
                self.url(path), params=params, headers=headers, stream=stream, timeout=TIMEOUT
            )
        except requests.RequestException as e:
            raise DownloadError(
                f"GET {self.url(path)} failed: {e}. Check --arxiv-url and the network."
            ) from e
        finally:
            self._last_answer = time.monotonic()  # urllib3's own retries (if any) ended here too
        retries = getattr(response.raw, "retries", None)
        if retries is not None and retries.history:
            self.requests += len(retries.history)
        return response

    def get_text(self, path: str, params: dict | None = None) -> str:
        """The body of a page (an Atom feed, an OAI-PMH answer) as text; DownloadError unless 200."""
        response = self._get(path, params)
        if response.status_code == 404:
            raise NotFound(f"{response.url}: 404 not found")
        if response.status_code != 200:
            raise DownloadError(
                f"{response.url} answered {response.status_code} {response.reason} after {RETRIES} retries; "
                "try again later."
            )
        response.encoding = response.encoding or "utf-8"
        return response.text

    def fetch_file(self, path: str, dest: Path) -> Fetched:
        """Download to `dest` (via `dest.part`), resuming a partial file; NotFound on 404."""
        part = dest.with_name(dest.name + ".part")
        last_error: Exception | None = None
        for _ in range(1 + DROPPED_RETRIES):
            have = part.stat().st_size if part.exists() else 0
            headers = {"Range": f"bytes={have}-"} if have else None
            response = self._get(path, headers=headers, stream=True)
            try:
                return self._receive(response, part, dest, have)
            except NotFound:
                part.unlink(missing_ok=True)
                raise
            except (Urllib3Error, requests.RequestException, OSError, _ShortFile) as e:
                last_error = e  # the connection broke off: go again from what arrived
            finally:
                response.close()
        raise DownloadError(
            f"{self.url(path)}: the transfer broke off {1 + DROPPED_RETRIES} times ({last_error}); "
            "run the command again to resume."
        )

    def _receive(self, response, part: Path, dest: Path, have: int) -> Fetched:
        status = response.status_code
        if status == 404:
            raise NotFound(f"{response.url}: 404 not found")
        if status == 416:  # the range starts at the end: the part file already holds everything
            part.unlink(missing_ok=True)
            raise _ShortFile("the partial file did not match the server's; starting again")
        if status not in (200, 206):
            raise DownloadError(f"{response.url} answered {status} {response.reason}; try again later.")
        if status == 200:
            have = 0  # the server ignored the range: start again
        expected = _expected_size(response, have)
        mode = "ab" if status == 206 else "wb"
        with open(part, mode) as f:
            # decode_content=False: arXiv serves gzipped e-prints with Content-Encoding gzip, and the
            # file must stay the gzip that it is (magic bytes tell what the e-print holds).
            for chunk in response.raw.stream(CHUNK, decode_content=False):
                f.write(chunk)
        size = part.stat().st_size
        if expected is not None and size != expected:
            raise _ShortFile(f"received {size} of {expected} bytes")
        os.replace(part, dest)
        return Fetched(dest, size, response.headers.get("Content-Type", ""), response.url)


class _ShortFile(Exception):
    pass


def _expected_size(response, offset: int) -> int | None:
    """The full size of the file: from Content-Range on 206, else from Content-Length."""
    if response.status_code == 206:
        total = response.headers.get("Content-Range", "").rpartition("/")[2]
        if total.isdigit():
            return int(total)
    # Content-Length counts the bytes as sent, which are the bytes saved (bodies are never decoded).
    length = response.headers.get("Content-Length", "")
    return offset + int(length) if length.isdigit() else None
