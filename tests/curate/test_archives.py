"""Safe unpacking: hostile archives are refused with a clear reason and nothing lands outside `dest`."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scitune.curate.archives import UnpackLimits, UnsafeArchiveError, unpack
from tests.curate import hostile

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("case", sorted(hostile.ARCHIVE_CASES))
def test_hostile_archive_is_refused_and_nothing_escapes(tmp_path: Path, case: str) -> None:
    writer, reason = hostile.ARCHIVE_CASES[case]
    inputs = tmp_path / "in"
    inputs.mkdir()
    archive = writer(inputs)
    before = _tree(tmp_path)
    dest = tmp_path / "out" / "dest"
    with pytest.raises(UnsafeArchiveError) as err:
        unpack(archive, dest)
    assert reason in str(err.value)
    assert archive.name in str(err.value) or "member" in str(err.value)
    # Nothing new outside dest, and a refused archive leaves dest empty again.
    after = {p for p in _tree(tmp_path) if not p.startswith("out")}
    assert after == before
    assert not dest.exists() or _tree(dest) == set()
    assert not Path("/tmp/absolute_escaped.txt").exists()


def test_bomb_is_stopped_while_streaming_not_after(tmp_path: Path) -> None:
    # A single gzip states no size anywhere: the writer must stop at the budget, not at 64 MiB.
    bomb = hostile.write_single_gzip_bomb(tmp_path, mib=64)
    limits = UnpackLimits(max_ratio=10, chunk_bytes=64 * 1024)
    with pytest.raises(UnsafeArchiveError, match="bomb"):
        unpack(bomb, tmp_path / "dest", limits)
    assert not (tmp_path / "dest" / "paper.tex").exists()


def test_total_size_limit(tmp_path: Path) -> None:
    archive = tmp_path / "big.tar"
    with tarfile.open(archive, "w") as tf:
        data = bytes(range(256)) * 8192  # 2 MiB, incompressible enough and no ratio problem (plain tar)
        info = tarfile.TarInfo("big.bin")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    with pytest.raises(UnsafeArchiveError, match="max_total_bytes"):
        unpack(archive, tmp_path / "dest", UnpackLimits(max_total_bytes=1024 * 1024))
    assert unpack(archive, tmp_path / "dest2").joinpath("big.bin").stat().st_size == 2 * 1024 * 1024


def test_member_count_is_bounded_while_streaming_a_tar(tmp_path: Path) -> None:
    archive = hostile.write_many_members_tar(tmp_path, n=150)
    with pytest.raises(UnsafeArchiveError, match="more than 100 members"):
        unpack(archive, tmp_path / "dest", UnpackLimits(max_members=100))
    assert _tree(tmp_path / "dest") == set()  # what was written before the refusal is removed


def test_links_inside_are_skipped_devices_skipped(tmp_path: Path, caplog) -> None:
    root = unpack(hostile.write_inner_symlink_tar(tmp_path), tmp_path / "a")
    assert (root / "figs" / "a.txt").read_bytes() == b"data"
    assert not (root / "fig.txt").exists() and not (root / "fig.txt").is_symlink()
    assert "skipped link" in caplog.text
    root = unpack(hostile.write_device_tar(tmp_path), tmp_path / "b")
    assert _tree(root) == {"ms.tex"}
    assert "skipped special member" in caplog.text


def test_control_bundle_unpacks(tmp_path: Path) -> None:
    root = unpack(hostile.write_tex_bundle(tmp_path), tmp_path / "dest")
    assert root == tmp_path / "dest"
    assert _tree(root) == {"ms.tex", "figs", "figs/a.png"}
    assert (root / "ms.tex").read_bytes().startswith(b"\\documentclass")


def test_format_comes_from_magic_bytes_not_the_name(tmp_path: Path) -> None:
    # A tar.gz named .gz, a zip named .tar.gz, a single gzipped tex named .tgz.
    bundle = hostile.write_tex_bundle(tmp_path, "2301.00001v1.gz")
    assert "ms.tex" in _tree(unpack(bundle, tmp_path / "a"))
    z = tmp_path / "looks_like.tar.gz"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("paper/ms.tex", hostile.MINIMAL_TEX)
        zf.writestr("__MACOSX/paper/._ms.tex", b"\x00\x05\x16\x07junk")
    root = unpack(z, tmp_path / "b")
    assert root == tmp_path / "b" / "paper"  # single top folder becomes the root; __MACOSX dropped
    assert _tree(tmp_path / "b") == {"paper", "paper/ms.tex"}
    single = tmp_path / "2301.00002v3.tgz"
    single.write_bytes(gzip.compress(hostile.MINIMAL_TEX))
    root = unpack(single, tmp_path / "c")
    assert (root / "2301.00002v3.tex").read_bytes() == hostile.MINIMAL_TEX
    named = tmp_path / "x.gz"
    with gzip.GzipFile(filename="main.tex", mode="wb", fileobj=open(named, "wb")) as g:
        g.write(hostile.MINIMAL_TEX)
    assert (unpack(named, tmp_path / "d") / "main.tex").exists()


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(alphabet="ab./\\:~-_ ", min_size=1, max_size=12), min_size=1, max_size=5))
def test_any_member_names_stay_inside(tmp_path_factory, names: list[str]) -> None:
    base = tmp_path_factory.mktemp("prop")
    archive = base / "names.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, name in enumerate(names):
            zf.writestr(zipfile.ZipInfo(name), f"{i}".encode())
    dest = base / "box" / "dest"
    try:
        unpack(archive, dest)
    except UnsafeArchiveError as e:
        assert str(e)
    inside = (base / "box").resolve()
    for p in base.rglob("*"):
        assert p == archive or p.resolve().is_relative_to(inside), p


@pytest.mark.corpus
@pytest.mark.parametrize(
    "bundle",
    [
        "paired/gammapy_v1/gammapy_v1.tar.gz",
        "paired/legwork/legwork.tar.gz",
        "paired/msd_errors/msd_errors.tar.gz",
        "latex/effect_sizes_compositional/effect_sizes_compositional.zip",
    ],
)
def test_corpus_bundles_unpack(tmp_path: Path, bundle: str) -> None:
    path = CORPUS / bundle
    if not path.exists():
        pytest.skip("../shared/corpus is not available")
    root = unpack(path, tmp_path / "dest")
    assert any(p.suffix == ".tex" for p in root.rglob("*"))
    assert not any("__MACOSX" in str(p) for p in (tmp_path / "dest").rglob("*"))
