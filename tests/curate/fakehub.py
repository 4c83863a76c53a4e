"""A small Hugging Face Hub look-alike on 127.0.0.1, for testing pushes and loads without a network.

It answers the requests huggingface_hub and datasets make (read from their sources) for dataset repos:
create (`/api/repos/create`), repo info (`/api/datasets/{id}[/revision/{rev}]`), README YAML validation,
`preupload`, the git-LFS batch API with basic uploads and verify, `commit` (ndjson), branches, the `tree`
and `paths-info` listings, and `resolve` downloads (HEAD and GET, with Range). Xet is not offered: clients
must run with HF_HUB_DISABLE_XET=1 so they use plain LFS. Files are kept in memory per commit.

`FakeHub.fail(route, times)` makes the next requests of a route answer 503 (for retry tests), and
`FakeHub.requests` logs (method, path) so tests can check, e.g., that no commit was made.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = (".parquet", ".png", ".jpg", ".jpeg", ".arrow", ".bin")
REPO = r"(?P<repo>[^/]+/[^/]+)"


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()


@dataclass
class Blob:
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def oid(self) -> str:  # what preupload reports as the remote oid (compared with the client's local oid)
        return self.sha256 if self.lfs else git_sha1(self.data)

    def entry(self, path: str) -> dict:
        entry = {"type": "file", "oid": git_sha1(self.data), "size": len(self.data), "path": path}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": len(self.data), "pointerSize": 130}
        return entry


@dataclass
class Commit:
    sha: str
    parent: str | None
    message: str
    files: dict[str, Blob]


@dataclass
class Repo:
    repo_id: str
    private: bool
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit sha
    commits: dict[str, Commit] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        revision = unquote(revision)
        sha = self.branches.get(revision, revision)
        return self.commits.get(sha)


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra or {}


class FakeHub:
    """The server state and its HTTP front; use as a context manager."""

    def __init__(self, token: str | None = None):
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []
        self.auth_headers: list[str | None] = []
        self.failures: dict[str, int] = {}
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- helpers for tests -----------------------------------------------------------------

    def fail(self, route: str, times: int = 1) -> None:
        """Answer the next `times` requests of `route` (e.g. "commit", "lfs-upload") with 503."""
        self.failures[route] = times

    def commits(self, repo_id: str, branch: str = "main") -> list[Commit]:
        repo = self.repos[repo_id]
        out, sha = [], repo.branches.get(branch)
        while sha:
            out.append(repo.commits[sha])
            sha = repo.commits[sha].parent
        return out

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        commit = self.repos[repo_id].resolve(revision)
        return {p: b.data for p, b in commit.files.items()}

    # --- operations ----------------------------------------------------------------------------

    def repo(self, repo_id: str) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None:
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        return repo

    def commit_of(self, repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    def create_repo(self, body: dict) -> dict:
        repo_id = f"{body.get('organization') or 'user'}/{body['name']}"
        if repo_id in self.repos:
            raise HubError(
                409, "You already created this dataset repo", extra={"url": f"{self.url}/datasets/{repo_id}"}
            )
        repo = Repo(repo_id, private=body.get("visibility") == "private" or bool(body.get("private")))
        attributes = b"".join(b"*%s filter=lfs diff=lfs merge=lfs -text\n" % s.encode() for s in LFS_SUFFIXES)
        first = Commit(_new_sha(), None, "initial commit", {".gitattributes": Blob(attributes, False)})
        repo.commits[first.sha] = first
        repo.branches["main"] = first.sha
        self.repos[repo_id] = repo
        return {"url": f"{self.url}/datasets/{repo_id}", "name": repo_id, "id": repo_id}

    def info(self, repo: Repo, revision: str) -> dict:
        commit = self.commit_of(repo, revision)
        return {
            "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": commit.sha,
            "private": repo.private,
            "disabled": False,
            "gated": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "lastModified": "2026-01-01T00:00:00.000Z",
            "createdAt": "2026-01-01T00:00:00.000Z",
            "siblings": [{"rfilename": p} for p in sorted(commit.files)],
        }

    def preupload(self, repo: Repo, revision: str, body: dict) -> dict:
        commit = repo.resolve(revision)
        files = []
        for f in body["files"]:
            remote = commit.files.get(f["path"]) if commit else None
            lfs = f["path"].endswith(LFS_SUFFIXES) or f["size"] > 10 * 2**20
            files.append(
                {
                    "path": f["path"],
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": remote.oid if remote else None,
                }
            )
        return {"files": files, "commitOid": commit.sha if commit else None}

    def lfs_batch(self, body: dict) -> dict:
        objects = []
        for obj in body["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in self.lfs:  # objects already stored need no upload (git-LFS convention)
                entry["actions"] = {
                    "upload": {"href": f"{self.url}/lfs-upload/{obj['oid']}", "header": {}},
                    "verify": {"href": f"{self.url}/lfs-verify", "header": {}},
                }
            objects.append(entry)
        return {"transfer": "basic", "objects": objects, "hash_algo": "sha256"}

    def lfs_put(self, oid: str, data: bytes) -> None:
        if hashlib.sha256(data).hexdigest() != oid:
            raise HubError(400, "sha256 mismatch")
        self.lfs[oid] = data

    def commit(self, repo: Repo, revision: str, lines: list[dict]) -> dict:
        branch = unquote(revision)
        if branch not in repo.branches:
            raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
        head = repo.commits[repo.branches[branch]]
        files = dict(head.files)
        header = {}
        for line in lines:
            key, value = line["key"], line["value"]
            if key == "header":
                header = value
            elif key == "file":
                files[value["path"]] = Blob(base64.b64decode(value["content"]), False)
            elif key == "lfsFile":
                if value["oid"] not in self.lfs:
                    raise HubError(422, f"LFS object {value['oid']} of {value['path']} was never uploaded")
                files[value["path"]] = Blob(self.lfs[value["oid"]], True)
            elif key == "deletedFile":
                if value["path"] not in files:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                del files[value["path"]]
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                files = {p: b for p, b in files.items() if not p.startswith(prefix)}
            else:
                raise HubError(400, f"unsupported commit operation {key!r}")
        parent = header.get("parentCommit")
        if parent and parent != head.sha:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        new = Commit(_new_sha(), head.sha, header.get("summary", ""), files)
        repo.commits[new.sha] = new
        repo.branches[branch] = new.sha
        return {
            "commitUrl": f"{self.url}/datasets/{repo.repo_id}/commit/{new.sha}",
            "commitOid": new.sha,
            "commitMessage": new.message,
            "pullRequestUrl": None,
            "success": True,
        }

    def tree(self, repo: Repo, revision: str, path: str, recursive: bool) -> list[dict]:
        commit = self.commit_of(repo, revision)
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        if prefix and not any(p.startswith(prefix) for p in commit.files):
            raise HubError(404, f"{path} does not exist", "EntryNotFound")
        entries, folders = [], set()
        for p, blob in sorted(commit.files.items()):
            if not p.startswith(prefix):
                continue
            rest = p[len(prefix) :]
            parts = rest.split("/")
            for i in range(1, len(parts)):
                folder = prefix + "/".join(parts[:i])
                if (recursive or i == 1) and folder not in folders:
                    folders.add(folder)
                    entries.append(
                        {"type": "directory", "oid": git_sha1(folder.encode()), "size": 0, "path": folder}
                    )
            if recursive or len(parts) == 1:
                entries.append(blob.entry(p))
        return entries

    def paths_info(self, repo: Repo, revision: str, paths: list[str]) -> list[dict]:
        commit = self.commit_of(repo, revision)
        out = []
        for path in paths:
            path = path.strip("/")
            if path in commit.files:
                out.append(commit.files[path].entry(path))
            elif any(p.startswith(path + "/") for p in commit.files):
                out.append({"type": "directory", "oid": git_sha1(path.encode()), "size": 0, "path": path})
        return out


def client_env(hub: FakeHub, hf_home) -> dict[str, str]:
    """The environment of a client process that talks to `hub`: online (the offline switches and any real
    token dropped), its own HF_HOME, no Xet, no progress bars."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_TOKEN")
    }
    env.update(
        HF_ENDPOINT=hub.url,
        HF_HUB_DISABLE_XET="1",
        HF_HOME=str(hf_home),
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_DATASETS_DISABLE_PROGRESS_BARS="1",
    )
    return env


def _new_sha() -> str:
    return hashlib.sha1(f"{time.time_ns()}-{threading.get_ident()}".encode()).hexdigest()


def _handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        # --- plumbing ---------------------------------------------------------------------

        def body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def send(self, status: int, payload=b"", headers: dict | None = None, head: bool = False) -> None:
            if not isinstance(payload, bytes):
                payload = json.dumps(payload).encode()
                headers = {"Content-Type": "application/json", **(headers or {})}
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if "Content-Length" not in (headers or {}):
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if not head:
                self.wfile.write(payload)

        def fail(self, error: HubError, head: bool = False) -> None:
            headers = {"X-Error-Message": error.message}
            if error.code:
                headers["X-Error-Code"] = error.code
            self.send(error.status, {"error": error.message, **error.extra}, headers, head=head)

        def route(self, method: str) -> None:
            url = urlsplit(self.path)
            with hub.lock:
                hub.requests.append((method, unquote(url.path)))
                hub.auth_headers.append(self.headers.get("Authorization"))
            data = self.body() if method in ("POST", "PUT") else b""
            for methods, pattern, name, handler in ROUTES:
                # Match the quoted path: a revision such as refs%2Fpr%2F1 is one segment.
                found = re.fullmatch(pattern, url.path)
                m = {k: unquote(v) if v else v for k, v in found.groupdict().items()} if found else None
                if found and method in ((methods,) if isinstance(methods, str) else methods):
                    with hub.lock:
                        if hub.failures.get(name):
                            hub.failures[name] -= 1
                            return self.send(503, {"error": "try again"}, head=method == "HEAD")
                    try:
                        with hub.lock:
                            return handler(self, m, data, parse_qs(url.query), method)
                    except HubError as e:
                        return self.fail(e, head=method == "HEAD")
            self.fail(HubError(404, f"fake hub: no route for {method} {url.path}"), head=method == "HEAD")

        def do_GET(self):  # noqa: N802
            self.route("GET")

        def do_HEAD(self):  # noqa: N802
            self.route("HEAD")

        def do_POST(self):  # noqa: N802
            self.route("POST")

        def do_PUT(self):  # noqa: N802
            self.route("PUT")

        # --- routes -----------------------------------------------------------------------------

        def create(self, m, data, query, method):
            self.send(200, hub.create_repo(json.loads(data)))

        def info(self, m, data, query, method):
            self.send(200, hub.info(hub.repo(m["repo"]), m["rev"] or "main"))

        def validate_yaml(self, m, data, query, method):
            self.send(200, {"errors": [], "warnings": []})

        def preupload(self, m, data, query, method):
            self.send(200, hub.preupload(hub.repo(m["repo"]), m["rev"], json.loads(data)))

        def lfs_batch(self, m, data, query, method):
            hub.repo(m["repo"])
            self.send(200, hub.lfs_batch(json.loads(data)), {"Content-Type": "application/vnd.git-lfs+json"})

        def lfs_upload(self, m, data, query, method):
            hub.lfs_put(m["oid"], data)
            self.send(200)

        def lfs_verify(self, m, data, query, method):
            self.send(200, {})

        def commit(self, m, data, query, method):
            lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
            self.send(200, hub.commit(hub.repo(m["repo"]), m["rev"], lines))

        def branch(self, m, data, query, method):
            repo = hub.repo(m["repo"])
            body = json.loads(data or b"{}")
            start = hub.commit_of(repo, body.get("startingPoint") or "main")
            if m["branch"] in repo.branches:
                raise HubError(409, f"Branch {m['branch']} already exists")
            repo.branches[m["branch"]] = start.sha
            self.send(200, {})

        def refs(self, m, data, query, method):
            repo = hub.repo(m["repo"])
            branches = [
                {"name": b, "ref": f"refs/heads/{b}", "targetCommit": s} for b, s in repo.branches.items()
            ]
            self.send(200, {"branches": branches, "tags": [], "converts": []})

        def tree(self, m, data, query, method):
            recursive = query.get("recursive", ["false"])[0].lower() == "true"
            self.send(200, hub.tree(hub.repo(m["repo"]), m["rev"], m["path"] or "", recursive))

        def paths_info(self, m, data, query, method):
            if self.headers.get("Content-Type", "").startswith("application/json"):
                paths = json.loads(data).get("paths", [])
            else:
                paths = parse_qs(data.decode()).get("paths", [])
            self.send(200, hub.paths_info(hub.repo(m["repo"]), m["rev"], paths))

        def resolve(self, m, data, query, method):
            repo = hub.repo(m["repo"])
            commit = hub.commit_of(repo, m["rev"])
            blob = commit.files.get(m["path"])
            if blob is None:
                raise HubError(404, f"Entry not found: {m['path']}", "EntryNotFound")
            etag = f'"{blob.sha256 if blob.lfs else git_sha1(blob.data)}"'
            headers = {
                "ETag": etag,
                "X-Repo-Commit": commit.sha,
                "Accept-Ranges": "bytes",
                "Content-Type": "application/octet-stream",
            }
            if blob.lfs:
                headers.update({"X-Linked-Etag": etag, "X-Linked-Size": str(len(blob.data))})
            payload, status = blob.data, 200
            rng = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "") or "")
            if rng and method == "GET":
                size = len(blob.data)
                if rng[1] == "":  # suffix range: the last N bytes
                    start, end = max(0, size - int(rng[2])), size - 1
                else:
                    start = int(rng[1])
                    end = min(int(rng[2]), size - 1) if rng[2] else size - 1
                payload, status = blob.data[start : end + 1], 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            headers["Content-Length"] = str(len(payload))
            self.send(status, payload, headers, head=method == "HEAD")

    ROUTES = [
        ("POST", r"/api/repos/create", "create", Handler.create),
        ("GET", rf"/api/datasets/{REPO}(?:/revision/(?P<rev>[^/]+))?", "info", Handler.info),
        ("POST", r"/api/validate-yaml", "validate-yaml", Handler.validate_yaml),
        ("POST", rf"/api/datasets/{REPO}/preupload/(?P<rev>[^/]+)", "preupload", Handler.preupload),
        ("POST", rf"/datasets/{REPO}\.git/info/lfs/objects/batch", "lfs-batch", Handler.lfs_batch),
        ("PUT", r"/lfs-upload/(?P<oid>[0-9a-f]{64})", "lfs-upload", Handler.lfs_upload),
        ("POST", r"/lfs-verify", "lfs-verify", Handler.lfs_verify),
        ("POST", rf"/api/datasets/{REPO}/commit/(?P<rev>[^/]+)", "commit", Handler.commit),
        ("POST", rf"/api/datasets/{REPO}/branch/(?P<branch>[^/]+)", "branch", Handler.branch),
        ("GET", rf"/api/datasets/{REPO}/refs", "refs", Handler.refs),
        ("GET", rf"/api/datasets/{REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?", "tree", Handler.tree),
        ("POST", rf"/api/datasets/{REPO}/paths-info/(?P<rev>[^/]+)", "paths-info", Handler.paths_info),
        (
            ("GET", "HEAD"),
            rf"/datasets/{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)",
            "resolve",
            Handler.resolve,
        ),
    ]
    return Handler


if __name__ == "__main__":  # a manual server for poking at with the real clients
    with FakeHub() as hub:
        print(f"fake hub at {hub.url} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
