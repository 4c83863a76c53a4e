"""push-to-hub against a Hub look-alike on 127.0.0.1 (tests/curate/fakehub.py): one commit, no empty
commits, stale shards deleted, retries, dry run, token hygiene, and the round trip through `datasets`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from scitune.curate.card import write_card
from scitune.curate.filters import image_key, iter_rows
from scitune.curate.hub import LocalFile, compare, is_transient, local_files, push_to_hub, with_retries
from scitune.curate.instructions import build_instructions
from scitune.schemas import validate_folder
from tests.curate.fakehub import FakeHub, client_env
from tests.curate.sample_figures import figure_row, make_out, sample_rows

TOKEN = "hf_fake_write_token_0123456789"
REPO = "someone/sci-figures"


@pytest.fixture
def online(monkeypatch):
    """Let huggingface_hub talk to the loopback server: the suite runs offline and Xet needs a CAS server."""
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.fixture
def hub(online):
    with FakeHub() as hub:
        yield hub


def dataset(path: Path, seed: int = 0) -> Path:
    out = make_out(path)
    write_card(out, command="scitune-curate extract papers -o OUT")
    build_instructions(out, seed=seed)
    return out


def push(out, hub, lines=None, **kw):
    log = lines.append if lines is not None else (lambda line: None)
    return push_to_hub(out, REPO, token=TOKEN, endpoint=hub.url, retry_delay=0, log=log, **kw)


# --- pieces ------------------------------------------------------------------------------------


def test_local_files_publish_card_shards_and_charts_only(tmp_path):
    out = dataset(tmp_path / "OUT")
    (out / ".scitune").mkdir(exist_ok=True)
    (out / ".scitune" / "state.json").write_text("{}")
    (out / "figures" / ".part-x.parquet.tmp").write_bytes(b"partial")
    (out / "notes.txt").write_text("local only")
    files = {f.path_in_repo: f for f in local_files(out, REPO)}
    assert set(files) == {
        "README.md",
        "figures/part-00000.parquet",
        "figures/part-00001.parquet",
        "instructions/instructions-00000.parquet",
        "assets/figure_types.png",
        "assets/caption_lengths.png",
    }
    card = files["README.md"].source.decode()
    assert f'load_dataset("{REPO}", "figures", split="train")' in card
    assert files["figures/part-00000.parquet"].size == (out / "figures" / "part-00000.parquet").stat().st_size


def test_compare_uses_git_sha1_for_regular_and_sha256_for_lfs_files():
    card, shard = (
        LocalFile.from_bytes("README.md", b"card"),
        LocalFile.from_bytes("figures/a.parquet", b"rows"),
    )
    remote = {
        "README.md": SimpleNamespace(blob_id=card.git_sha1, lfs=None),
        "figures/a.parquet": SimpleNamespace(blob_id="pointer-sha", lfs=SimpleNamespace(sha256=shard.sha256)),
        "figures/old.parquet": SimpleNamespace(blob_id="x", lfs=None),
        ".gitattributes": SimpleNamespace(blob_id="y", lfs=None),
        "notes/keep.txt": SimpleNamespace(blob_id="z", lfs=None),
    }
    plan = compare([card, shard], remote, head="abc")
    assert plan.add == [] and plan.unchanged == ["README.md", "figures/a.parquet"]
    assert plan.delete == ["figures/old.parquet"]  # only inside the folders we publish
    changed = LocalFile.from_bytes("figures/a.parquet", b"other rows")
    assert [f.path_in_repo for f in compare([changed], remote, "abc").add] == ["figures/a.parquet"]


def test_retries_only_transient_errors():
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    def http_error(status):
        return HfHubHTTPError("boom", response=SimpleNamespace(status_code=status, headers={}, request=None))

    assert is_transient(http_error(503)) and is_transient(http_error(429))
    assert not is_transient(http_error(401)) and not is_transient(http_error(404))
    assert not is_transient(OfflineModeIsEnabled("offline")) and not is_transient(ValueError("x"))
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise http_error(502)
        return "done"

    lines = []
    assert with_retries("upload", flaky, delay=0, log=lines.append) == "done" and len(calls) == 3
    assert len(lines) == 2 and "attempt 1/5" in lines[0]
    with pytest.raises(HfHubHTTPError):
        with_retries("upload", lambda: (_ for _ in ()).throw(http_error(403)), delay=0)


# --- against the fake Hub ----------------------------------------------------------------------


def test_push_creates_repo_in_one_commit_and_repush_changes_nothing(tmp_path, hub, capsys):
    out = dataset(tmp_path / "OUT")
    lines = []
    result = push(out, hub, lines, private=True)
    assert result.commit and result.url == f"{hub.url}/datasets/{REPO}"
    commits = hub.commits(REPO)
    assert len(commits) == 2 and commits[0].message.startswith("Publish scitune dataset")  # + initial commit
    remote = hub.files(REPO)
    local = {f.path_in_repo: f for f in local_files(out, REPO)}
    assert set(remote) == set(local) | {".gitattributes"}
    assert remote["figures/part-00000.parquet"] == (out / "figures" / "part-00000.parquet").read_bytes()
    assert hub.repos[REPO].private
    api_auth = {auth for (_, path), auth in zip(hub.requests, hub.auth_headers) if path.startswith("/api/")}
    assert api_auth == {f"Bearer {TOKEN}"}  # (LFS uploads go to pre-signed URLs, without it)
    assert not any(TOKEN in line for line in lines + result.lines())
    assert TOKEN not in capsys.readouterr().out

    n_requests = len(hub.requests)
    again = push(out, hub)
    assert again.commit is None and again.plan.empty and len(again.plan.unchanged) == len(local)
    assert len(hub.commits(REPO)) == 2
    assert not any(method == "POST" and "/commit/" in path for method, path in hub.requests[n_requests:])
    assert "no commit made" in " ".join(again.lines())


def test_repush_sends_only_changes_and_deletes_stale_shards(tmp_path, hub):
    out = dataset(tmp_path / "OUT")
    push(out, hub)
    before = hub.files(REPO)
    # New extraction output with other shard names, and instructions rebuilt with another seed.
    for path in (out / "figures").glob("*.parquet"):
        path.unlink()
    make_out(out, sample_rows() + [figure_row("2002.00002v1", 1)], shard_rows=10)
    build_instructions(out, seed=1)
    result = push(out, hub)
    assert sorted(result.plan.delete) == ["figures/part-00001.parquet"]
    added = {f.path_in_repo for f in result.plan.add}
    assert {"figures/part-00000.parquet", "instructions/instructions-00000.parquet", "README.md"} <= added
    after = hub.files(REPO)
    assert "figures/part-00001.parquet" not in after
    assert after["figures/part-00000.parquet"] != before["figures/part-00000.parquet"]
    assert len(hub.commits(REPO)) == 3


def test_dry_run_lists_and_changes_nothing(tmp_path, hub):
    out = dataset(tmp_path / "OUT")
    result = push(out, hub, dry_run=True)
    assert result.dry_run and result.commit is None and REPO not in hub.repos
    listing = "\n".join(result.lines())
    assert "would send: 6 new or changed files" in listing and "add     figures/part-00000.parquet" in listing
    push(out, hub)
    (out / "assets" / "figure_types.png").unlink()
    listing = "\n".join(push(out, hub, dry_run=True).lines())
    assert "delete  assets/figure_types.png" in listing and "5 unchanged" in listing
    assert "assets/figure_types.png" in hub.files(REPO)


def test_transient_failures_are_retried(tmp_path, hub):
    out = dataset(tmp_path / "OUT")
    # (preupload, tree listing and LFS uploads are also retried inside huggingface_hub, with its own
    # 1 s+ backoff)
    hub.fail("create", 2)
    hub.fail("commit", 2)
    lines = []
    result = push(out, hub, lines)
    assert result.commit and len(hub.commits(REPO)) == 2
    assert sum("retrying" in line for line in lines) == 4
    hub.fail("commit", 5)
    (out / "assets" / "figure_types.png").unlink()
    with pytest.raises(Exception, match="503"):
        push(out, hub)


def test_push_to_a_branch(tmp_path, hub):
    out = dataset(tmp_path / "OUT")
    result = push(out, hub, revision="v1-draft")
    assert result.url.endswith("/tree/v1-draft")
    assert "figures/part-00000.parquet" in hub.files(REPO, "v1-draft")
    assert "figures/part-00000.parquet" not in hub.files(REPO, "main")


def test_dry_run_without_a_card_still_lists_the_shards(tmp_path, hub):
    out = make_out(tmp_path / "OUT")
    result = push(out, hub, dry_run=True)
    assert [f.path_in_repo for f in result.plan.add] == [
        "figures/part-00000.parquet",
        "figures/part-00001.parquet",
    ]
    assert not (out / "README.md").exists()  # a dry run writes nothing
    push(out, hub)
    assert (out / "README.md").exists() and "README.md" in hub.files(REPO)


def test_refuses_a_folder_without_figures(tmp_path, hub):
    with pytest.raises(ValueError, match="scitune-curate extract"):
        push(tmp_path, hub)


# --- the round trip, as a user runs it: CLI push, then datasets in a fresh process --------------

LOAD_AND_DOWNLOAD = textwrap.dedent("""
    import hashlib, json, sys
    from datasets import load_dataset
    from huggingface_hub import snapshot_download

    repo, dest, report = sys.argv[1:4]
    rows = {}
    for row in load_dataset(repo, "figures", split="train"):
        im = row["image"]
        rows[row["figure_id"]] = {"caption": row["caption"], "ocr": row["ocr"], "size": list(im.size),
                                  "pixels": hashlib.blake2b(f"{im.mode}{im.size}".encode() + im.tobytes(),
                                                            digest_size=16).hexdigest()}
    tasks = sorted(r["task"] for r in load_dataset(repo, "instructions", split="train"))
    snapshot_download(repo, repo_type="dataset", local_dir=dest)
    json.dump({"figures": rows, "tasks": tasks}, open(report, "w"))
""")


def test_round_trip_push_then_load_dataset_and_validate_the_published_copy(tmp_path):
    out = dataset(tmp_path / "OUT")
    with FakeHub() as hub:
        env = client_env(hub, tmp_path / "hf-home")
        cli = [sys.executable, "-m", "scitune.curate.cli", "push-to-hub", str(out), REPO, "--token", TOKEN]
        pushed = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120)
        assert pushed.returncode == 0, pushed.stderr
        assert pushed.stdout.strip().endswith(f"{hub.url}/datasets/{REPO}")
        assert TOKEN not in pushed.stdout + pushed.stderr

        report = tmp_path / "report.json"
        loaded = subprocess.run(
            [sys.executable, "-c", LOAD_AND_DOWNLOAD, REPO, str(tmp_path / "copy"), str(report)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert loaded.returncode == 0, loaded.stderr

    got = json.loads(report.read_text())
    local = {r["figure_id"]: r for r in iter_rows(out, "figures")}
    assert set(got["figures"]) == set(local)
    for figure_id, row in local.items():
        remote = got["figures"][figure_id]
        assert remote["caption"] == row["caption"] and remote["ocr"] == row["ocr"]
        assert remote["size"] == [320, 200]
        assert bytes.fromhex(remote["pixels"]) == image_key(row["image"])
    assert got["tasks"] == sorted(r["task"] for r in iter_rows(out, "instructions", columns=["task"]))

    copy = tmp_path / "copy"
    report = validate_folder(copy)
    assert report.ok, report.problems
    assert report.rows == {"figures": 6, "instructions": len(got["tasks"]), "errors": 0}
    assert f'load_dataset("{REPO}", "figures"' in (copy / "README.md").read_text()


def test_push_command_reports_failures_without_the_token(tmp_path):
    from typer.testing import CliRunner

    from scitune.curate.cli import app

    out = dataset(tmp_path / "OUT")
    # The suite runs with HF_HUB_OFFLINE=1, so the push fails: the user gets one clear line, no token.
    done = CliRunner().invoke(app, ["push-to-hub", str(out), REPO, "--token", TOKEN])
    assert done.exit_code == 1
    assert f"error: push to {REPO} failed" in done.output and TOKEN not in done.output
