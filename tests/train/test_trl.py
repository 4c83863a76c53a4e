"""Our data as it is, in TRL's SFTTrainer (the real client, pinned in the test extra): the stored
instructions, the `messages` and `prompt-completion` exports, and the instructions loaded from the
loopback Hub. Each trains a tiny vision-language model a few steps: the loss falls and TRL's collator
gives every row its own image (one image span per row, the row's own pixels)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from trl_tiny import falls, own_images, sft, texts_of, tiny_vlm

from scitune.curate.exports import export
from scitune.curate.hub import push_to_hub
from scitune.curate.instructions import build_instructions
from scitune.train.data import open_rows
from tests.curate.fakehub import FakeHub, client_env
from tests.curate.sample_figures import make_out

pytest.importorskip("trl")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """As train.threads in tiny-cpu: a model this small runs fastest on one thread (the CI has two cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = make_out(tmp_path_factory.mktemp("trl") / "OUT")
    build_instructions(out)
    return out


def train_on(dataset, tmp_path) -> list[float]:
    model, processor = tiny_vlm(texts_of(dataset))
    own_images(model, processor, dataset, str(tmp_path / "check"))
    losses = sft(model, processor, dataset, str(tmp_path / "run"))
    assert falls(losses), losses
    return losses


def test_sft_trainer_on_the_instructions_config(out, tmp_path):
    from datasets import load_dataset

    dataset = load_dataset(str(out), "instructions", split="train")
    assert isinstance(dataset[0]["messages"][0]["content"], list)
    train_on(dataset, tmp_path)


@pytest.mark.parametrize("fmt", ["messages", "prompt-completion"])
def test_sft_trainer_on_an_export_loaded_from_another_directory(out, tmp_path, monkeypatch, fmt):
    from datasets import Image, List, load_dataset

    export(fmt, out, tmp_path / fmt)
    monkeypatch.chdir(tmp_path.parent)
    dataset = load_dataset(str(tmp_path / fmt), split="train").cast_column("images", List(Image()))
    train_on(dataset, tmp_path)
    if fmt == "messages":  # scitune-train reads it too (`--data DEST`)
        assert len(open_rows(str(tmp_path / fmt))) == len(dataset)


def test_sft_trainer_on_the_instructions_loaded_from_the_loopback_hub(out, tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    repo = "someone/sci-figures"
    with FakeHub() as hub:
        push_to_hub(
            out,
            repo,
            token="hf_fake_write_token_0123456789",
            endpoint=hub.url,
            retry_delay=0,
            log=lambda _: None,
        )
        env = client_env(hub, tmp_path / "hf-home")
        script = Path(__file__).with_name("trl_tiny.py")
        done = subprocess.run(
            [sys.executable, str(script), repo, "instructions"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["rows"] > 0 and falls(report["losses"]), report
