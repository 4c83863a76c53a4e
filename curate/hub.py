"""`scitune-curate push-to-hub`: publish an OUT folder as a Hugging Face dataset repo in one commit.

Flow: list the local files to publish (card, shards, charts) -> create the repo if missing -> compare
with the remote files' hashes (git blob sha1 for regular files, sha256 for LFS files) -> pre-upload the
new or changed files in batches, with progress -> one commit that adds them and deletes remote files that
OUT no longer has (stale shards would otherwise be loaded too). An unchanged folder makes no commit.
Transient failures (connection errors, 408/429/5xx) are retried with backoff; the token is never printed.

Why not `HfApi.upload_folder` or `upload_large_folder`: the first also makes one commit, but gives no plan
to show for `--dry-run` and no parent-commit guard against a concurrent push; the second is resumable but
spreads a folder over many commits and never deletes stale files. `preupload_lfs_files` + `create_commit`
keep one atomic commit with uploads done (and retried) beforehand, batch by batch.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import (
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from .card import card_for_repo, write_card

PUBLISHED = ("figures", "instructions", "errors")  # tables: every *.parquet inside
ASSETS = "assets"  # charts referenced by the card
MANAGED = PUBLISHED + (ASSETS,)  # remote folders we own: files there that OUT lacks are deleted
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
BATCH_FILES = 64  # files per pre-upload batch
BATCH_BYTES = 2 * 2**30  # bytes per pre-upload batch
# Seconds a request may wait to connect or for the next bytes of an answer (not the whole transfer): a commit
# the server never answers fails, and is retried, instead of hanging for ever (huggingface_hub sets none).
REQUEST_TIMEOUT_S = 60.0
# Hub tokens and Authorization headers, wherever they came from, scrubbed from anything we print.
_HUB_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{20,}")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s'\",}]+")


@dataclass
class LocalFile:
    path_in_repo: str
    source: Path | bytes  # a file on disk, or the rendered card
    size: int
    sha256: str
    git_sha1: str

    @classmethod
    def from_bytes(cls, path_in_repo: str, data: bytes) -> LocalFile:
        sha1 = hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()
        return cls(path_in_repo, data, len(data), hashlib.sha256(data).hexdigest(), sha1)

    @classmethod
    def from_path(cls, path_in_repo: str, path: Path) -> LocalFile:
        size = path.stat().st_size
        sha256, sha1 = hashlib.sha256(), hashlib.sha1(b"blob %d\x00" % size)
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                sha256.update(chunk)
                sha1.update(chunk)
        return cls(path_in_repo, path, size, sha256.hexdigest(), sha1.hexdigest())


def local_files(out: Path, repo_id: str) -> list[LocalFile]:
    """What OUT publishes: README.md (naming the repo in its loading snippet), table shards, charts.

    (`create_commit` takes up to 25k LFS files per commit: 25M rows at the writer's 1,000 rows per shard.)

    Resume state (`.scitune/`), temp files and anything else in OUT stay local.
    """
    out = Path(out)
    files = []
    if (out / "README.md").is_file():
        card = card_for_repo((out / "README.md").read_text(encoding="utf-8"), repo_id)
        files.append(LocalFile.from_bytes("README.md", card.encode("utf-8")))
    for folder, pattern in [(t, "*.parquet") for t in PUBLISHED] + [(ASSETS, "*.png")]:
        for path in sorted((out / folder).glob(pattern)):
            if not path.name.startswith("."):
                files.append(LocalFile.from_path(f"{folder}/{path.name}", path))
    return files


@dataclass
class Plan:
    add: list[LocalFile] = field(default_factory=list)  # new or changed
    unchanged: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    head: str | None = None  # remote commit the comparison was made against
    remote_checked: bool = True

    @property
    def empty(self) -> bool:
        return not self.add and not self.delete


def compare(files: list[LocalFile], remote: dict[str, object], head: str | None) -> Plan:
    """Plan a push: `remote` maps path -> huggingface_hub RepoFile (with `blob_id` and optional `lfs`)."""
    plan = Plan(head=head)
    for f in files:
        entry = remote.get(f.path_in_repo)
        lfs = getattr(entry, "lfs", None)
        same = entry is not None and (lfs.sha256 == f.sha256 if lfs else entry.blob_id == f.git_sha1)
        (plan.unchanged.append(f.path_in_repo) if same else plan.add.append(f))
    local = {f.path_in_repo for f in files}
    plan.delete = sorted(p for p in remote if p.split("/")[0] in MANAGED and "/" in p and p not in local)
    return plan


def is_transient(error: BaseException) -> bool:
    """Worth retrying: network trouble or a 408/429/5xx answer (not auth, not-found, offline mode)."""
    if isinstance(error, OfflineModeIsEnabled):
        return False
    if isinstance(error, HfHubHTTPError):
        response = getattr(error, "response", None)
        return response is not None and response.status_code in TRANSIENT_STATUS
    # httpx (and its fork httpx2, which huggingface_hub uses) raise TransportError subclasses.
    return any(c.__name__ == "TransportError" for c in type(error).__mro__) or isinstance(error, TimeoutError)


def with_retries(what: str, fn: Callable, attempts: int = 5, delay: float = 2.0, log: Callable = print):
    """Call fn(), retrying transient failures with exponential backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - filtered by is_transient
            if attempt == attempts or not is_transient(e):
                raise
            wait = delay * 2 ** (attempt - 1)
            log(f"{what}: {type(e).__name__} (attempt {attempt}/{attempts}); retrying in {wait:.0f} s")
            time.sleep(wait)


def _known_tokens(token: str | None) -> list[str]:
    """Every token this process could send: --token, HF_TOKEN, the legacy variable, the saved login."""
    found = [token, os.environ.get("HF_TOKEN"), os.environ.get("HUGGING_FACE_HUB_TOKEN")]
    try:
        from huggingface_hub import get_token

        found.append(get_token())
    except Exception:  # noqa: BLE001 - no saved login is not an error here
        pass
    return sorted({t for t in found if t and len(t) >= 8}, key=len, reverse=True)


def _scrub(text: str, token: str | None) -> str:
    """`text` without any token (from any source) or Authorization header value: a server that echoes the
    request headers in an error must not put the token on the user's terminal or in CI logs."""
    for t in _known_tokens(token):
        text = text.replace(t, "***")
    return _BEARER.sub(r"\1***", _HUB_TOKEN.sub("hf_***", text))


def _use_request_timeout() -> None:
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils._http import default_client_factory

    def client():
        c = default_client_factory()
        c.timeout = REQUEST_TIMEOUT_S
        return c

    set_client_factory(client)


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


@dataclass
class PushResult:
    url: str
    plan: Plan
    commit: str | None = None  # None: dry run or nothing changed
    dry_run: bool = False

    def lines(self) -> list[str]:
        p = self.plan
        size = sum(f.size for f in p.add)
        head = "would send" if self.dry_run else ("sent" if self.commit else "nothing to send")
        out = [
            f"{head}: {len(p.add)} new or changed files ({_human(size)}), {len(p.delete)} to delete, "
            f"{len(p.unchanged)} unchanged" + ("" if p.remote_checked else " (remote not checked)")
        ]
        if self.dry_run:
            out += [f"  add     {f.path_in_repo}  {_human(f.size)}" for f in p.add]
            out += [f"  delete  {path}" for path in p.delete]
        if self.commit:
            out.append(f"commit {self.commit}")
        elif not self.dry_run:
            out.append("the Hub copy is already up to date: no commit made")
        out.append(self.url)
        return out


def push_to_hub(
    out: Path,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    token: str | None = None,
    dry_run: bool = False,
    endpoint: str | None = None,
    retry_delay: float = 2.0,
    log: Callable[[str], None] = print,
) -> PushResult:
    """Publish OUT to the dataset repo `repo_id` (created if missing) in one commit; see the module doc."""
    out = Path(out)
    if not any((out / "figures").glob("*.parquet")):
        raise ValueError(
            f"{out}/figures holds no Parquet shards: run `scitune-curate extract ... -o {out}` first"
        )
    if not (out / "README.md").is_file() and not dry_run:
        write_card(out)
    _use_request_timeout()
    api = HfApi(endpoint=endpoint, token=token)
    url = f"{api.endpoint}/datasets/{repo_id}" + (f"/tree/{revision}" if revision else "")

    def retry(what: str, fn: Callable):
        return with_retries(what, fn, delay=retry_delay, log=log)

    try:
        if not dry_run:
            retry(
                "create repo",
                lambda: api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True),
            )
            if revision:
                retry(
                    "create branch",
                    lambda: api.create_branch(repo_id, branch=revision, repo_type="dataset", exist_ok=True),
                )
        files = local_files(out, repo_id)
        try:
            info = retry("repo info", lambda: api.repo_info(repo_id, repo_type="dataset", revision=revision))
            if private and not info.private:
                log(
                    f"note: {repo_id} already exists and is public; --private only applies when creating a "
                    "repo"
                )
            tree = retry(
                "list remote files",
                lambda: list(
                    api.list_repo_tree(repo_id, repo_type="dataset", revision=info.sha, recursive=True)
                ),
            )
            plan = compare(files, {e.path: e for e in tree if hasattr(e, "blob_id")}, info.sha)
        except (RepositoryNotFoundError, RevisionNotFoundError):
            if not dry_run:
                raise
            plan = compare(files, {}, None)  # a new repo or branch: everything is sent
        if dry_run:
            if not (out / "README.md").is_file():
                log("README.md is missing: a real push writes the dataset card first")
            return PushResult(url, plan, dry_run=True)
        if plan.empty:
            return PushResult(url, plan)

        operations = [
            CommitOperationAdd(f.path_in_repo, f.source if isinstance(f.source, bytes) else str(f.source))
            for f in plan.add
        ]
        _preupload(api, repo_id, revision, operations, plan, retry, log)
        operations += [CommitOperationDelete(path) for path in plan.delete]
        tables = ", ".join(
            f"{len([f for f in files if f.path_in_repo.startswith(t + '/')])} {t} shards" for t in PUBLISHED
        )
        commit = retry(
            "commit",
            lambda: api.create_commit(
                repo_id,
                operations,
                repo_type="dataset",
                revision=revision,
                parent_commit=plan.head,
                commit_message=f"Publish scitune dataset ({tables})",
                commit_description=f"{len(plan.add)} files added or changed, {len(plan.delete)} deleted.",
            ),
        )
        return PushResult(url, plan, commit=commit.oid)
    except Exception as e:
        # A server may echo the request headers in its error: nothing we re-raise may show a token, whether
        # it came from --token, HF_TOKEN or the saved login.
        message = str(e)
        if _scrub(message, token) == message:
            raise
        e.args = (_scrub(message, token),)  # same exception (its status still gives the user a hint)
        if _scrub(str(e), token) != str(e):
            raise RuntimeError(f"{type(e).__name__}: {_scrub(message, token)}") from None
        raise e.with_traceback(None) from None


def _preupload(api, repo_id: str, revision: str | None, operations: list, plan: Plan, retry, log) -> None:
    """Upload the large files ahead of the commit in batches, reporting progress (files, bytes, rate, ETA)."""
    total = sum(f.size for f in plan.add)
    done_bytes, done_files, start = 0, 0, time.monotonic()
    batch: list = []

    def flush() -> None:
        nonlocal done_bytes, done_files, batch
        if not batch:
            return
        retry(
            "upload",
            lambda: api.preupload_lfs_files(repo_id, additions=batch, repo_type="dataset", revision=revision),
        )
        done_files += len(batch)
        done_bytes += sum(op.upload_info.size for op in batch)
        rate = done_bytes / max(time.monotonic() - start, 1e-6)
        eta = (total - done_bytes) / rate if rate else 0
        log(
            f"uploaded {done_files}/{len(operations)} files, {_human(done_bytes)}/{_human(total)} "
            f"({_human(rate)}/s, ETA {eta:.0f} s)"
        )
        batch = []

    batch_bytes = 0
    for op in operations:
        batch.append(op)
        batch_bytes += op.upload_info.size
        if len(batch) >= BATCH_FILES or batch_bytes >= BATCH_BYTES:
            flush()
            batch_bytes = 0
    flush()
