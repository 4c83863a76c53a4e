"""ScienceQA: readers, LLaVA prompt formats, the answer parser and the category scores."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scitune.schemas import validate_row
from scitune.train import scienceqa as sqa
from tests.conftest import png_bytes


def record(
    question="Which is a mammal?",
    choices=("frog", "cat"),
    answer=1,
    hint="",
    image=None,
    split="test",
    subject="natural science",
    grade="grade3",
    lecture="Mammals have fur.",
    solution="A cat has fur.",
):
    return {
        "question": question,
        "choices": list(choices),
        "answer": answer,
        "hint": hint,
        "image": image,
        "task": "closed choice",
        "grade": grade,
        "subject": subject,
        "topic": "biology",
        "category": "Animals",
        "skill": "Identify mammals",
        "lecture": lecture,
        "solution": solution,
        "split": split,
    }


def official_folder(tmp_path, problems: dict[str, dict], images: set[str] = frozenset()):
    """An official-layout ScienceQA folder: problems.json, pid_splits.json, images/{split}/{pid}/image.png."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "problems.json").write_text(json.dumps(problems))
    splits: dict[str, list[str]] = {}
    for pid, rec in problems.items():
        splits.setdefault(rec["split"], []).append(pid)
        if pid in images:
            folder = tmp_path / "images" / rec["split"] / pid
            folder.mkdir(parents=True)
            (folder / "image.png").write_bytes(png_bytes())
    (tmp_path / "pid_splits.json").write_text(json.dumps(splits))
    return tmp_path


def test_official_layout_reads_split_in_pid_splits_order_and_finds_images(tmp_path):
    problems = {
        "7": record(image="image.png"),
        "3": record(question="Which is warmer?", hint="Two cups of tea.", grade="grade8"),
        "9": record(split="train"),
        "5": record(image="image.png"),  # image listed but file missing
    }
    folder = official_folder(tmp_path, problems, images={"7"})
    got = list(sqa.read_problems(folder, "test"))
    assert [p.pid for p in got] == ["7", "3", "5"]
    assert got[0].has_image and got[0].image == str(folder / "images" / "test" / "7" / "image.png")
    assert got[2].has_image and got[2].image is None  # missing file: flagged, not silently text-only
    assert got[1].hint == "Two cups of tea." and got[1].grade == "grade8" and not got[1].has_image
    assert [p.pid for p in sqa.read_problems(folder, "train")] == ["9"]
    with pytest.raises(ValueError, match="split 'minitest'"):
        list(sqa.read_problems(folder, "minitest"))


def test_hub_parquet_gets_stable_ids_and_image_bytes(tmp_path):
    rows = [
        dict(record(question=q), image={"bytes": png_bytes() if i == 0 else None, "path": None})
        for i, q in enumerate(["Which is a mammal?", "Which is a fish?"])
    ]
    for r in rows:
        del r["split"]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "test-00000-of-00001.parquet")
    pq.write_table(pa.Table.from_pylist(rows[:1]), tmp_path / "train-00000-of-00001.parquet")
    first = list(sqa.read_problems(tmp_path, "test"))
    again = list(sqa.read_problems(tmp_path / "test-00000-of-00001.parquet", "test"))
    assert [p.pid for p in first] == [p.pid for p in again]
    assert first[0].pid == sqa.hub_id("test", 0, "Which is a mammal?") and first[0].pid.startswith(
        "test-00000-"
    )
    assert first[1].pid.startswith("test-00001-") and first[0].pid != first[1].pid
    assert first[0].has_image and first[0].image.startswith(b"\x89PNG")
    assert not first[1].has_image and first[1].image is None
    assert len(list(sqa.read_problems(tmp_path, "train"))) == 1
    assert len(list(sqa.read_problems(tmp_path, None))) == 3


def test_cqm_a_prompt_is_llava_15_format():
    p = sqa.Problem("1", "Which is warmer?", ["cup A", "cup B"], 1, hint="Two  cups.", has_image=True)
    assert sqa.question_text(p, "CQM-A") == "Context: Two cups.\nWhich is warmer?\nA. cup A\nB. cup B"
    assert sqa.prompt(p, "CQM-A") == (
        "<image>\nContext: Two cups.\nWhich is warmer?\nA. cup A\nB. cup B\n"
        "Answer with the option's letter from the given choices directly."
    )
    assert sqa.prompt(p, "CQM-A", for_eval=False).endswith("B. cup B")
    no_hint = sqa.Problem("2", "Pick one.", ["x", "y", "z"], 2)
    assert sqa.question_text(no_hint, "CQM-A") == "Pick one.\nA. x\nB. y\nC. z"
    assert sqa.target(no_hint, "CQM-A") == "C"


def test_qcm_formats_follow_llava_base_prompt():
    p = sqa.Problem(
        "1",
        "Which is warmer?",
        ["cup A", "cup B"],
        0,
        lecture="Heat flows.\nFrom hot to cold.",
        solution="Cup A is hotter.",
    )
    assert sqa.question_text(p, "QCM-LEPA") == "Which is warmer?\nContext: N/A\nOptions: (A) cup A (B) cup B"
    assert sqa.target(p, "QCM-LEA") == "Heat flows.\nFrom hot to cold. Cup A is hotter. The answer is A."
    assert sqa.target(p, "QCM-LEPA") == (
        "LECTURE: Heat flows.\nFrom hot to cold.\nSOLUTION: Cup A is hotter.\n###\nANSWER: A."
    )
    bare = sqa.Problem("2", "Q?", ["a", "b"], 1)
    assert sqa.target(bare, "QCM-LEPA") == "###\nANSWER: B."
    assert sqa.target(bare, "QCM-LEA") == "The answer is B."  # LLaVA's "  " -> " " and strip
    with pytest.raises(ValueError, match="unknown prompt format"):
        sqa.prompt(bare, "QCM-A")


def test_llava_json_and_instruction_rows(tmp_path):
    folder = official_folder(tmp_path, {"7": record(image="image.png"), "8": record()}, images={"7"})
    with_image, text_only = sqa.read_problems(folder, "test")
    rec = sqa.to_llava(with_image, "QCM-LEPA")
    assert rec["id"] == "7" and rec["image"] == "7/image.png"
    assert rec["conversations"][0]["value"].startswith("<image>\nWhich is a mammal?\nContext: N/A")
    assert rec["conversations"][1]["value"].endswith("###\nANSWER: B.")
    assert "image" not in sqa.to_llava(text_only, "CQM-A")
    for p in (with_image, text_only):
        row = sqa.to_instruction(p, "CQM-A")
        assert validate_row(row, "instructions") == []
    assert sqa.to_instruction(with_image, "CQM-A")["messages"][1]["content"] == [
        {"type": "text", "text": "B"}
    ]
    user = sqa.to_instruction(with_image, "CQM-A")["messages"][0]["content"]
    assert user[0] == {"type": "image", "text": None} and "<image>" not in user[1]["text"]
    assert [p["type"] for p in sqa.to_instruction(text_only, "CQM-A")["messages"][0]["content"]] == ["text"]
    missing = sqa.Problem("9", "Q?", ["a", "b"], 0, has_image=True, image=None, split="test")
    with pytest.raises(FileNotFoundError, match="image is missing"):
        sqa.to_instruction(missing, "CQM-A")


@pytest.mark.parametrize(
    "text, n, expected",
    [
        ("B", 3, 1),
        (" C \n", 3, 2),
        ("B.", 2, 1),
        ("A. The cat is a mammal.", 2, 0),
        ("Because cats have fur. The answer is B.", 2, 1),
        ("The answer is A", 2, 0),
        ("LECTURE: fur.\n###\nANSWER: B.", 2, 1),
        ("The answer is C.", 2, None),  # only two options
        (
            "The answer is A. No wait, the answer is B. The answer is B.",
            2,
            None,
        ),  # two statements: LLaVA fails it
        ("I think it is the cat.", 2, None),
        ("", 2, None),
        ("Bats are mammals.", 2, None),  # "B" followed by a letter is not an answer
    ],
)
def test_parse_answer_follows_llava(text, n, expected):
    index, why = sqa.parse_answer(text, n)
    assert index == expected
    if expected is None:
        assert why and len(why) > 2  # a reason, not a letter


@given(
    st.text(alphabet=st.characters(blacklist_characters="T"), max_size=40),
    st.integers(min_value=0, max_value=4),
    st.text(alphabet=" .\n", max_size=3),
)
def test_answer_sentence_is_read_whatever_surrounds_it(prefix, index, suffix):
    letter = sqa.OPTIONS[index]
    text = f"{prefix} The answer is {letter}.{suffix}"
    assert sqa.parse_answer(text, 5)[0] == index


def test_read_predictions_formats(tmp_path):
    jsonl = tmp_path / "answers.jsonl"
    jsonl.write_text(
        '{"question_id": "4", "prompt": "x", "text": "B"}\n\n{"question_id": 5, "text": "The answer is A."}\n'
    )
    assert sqa.read_predictions(jsonl) == {"4": "B", "5": "The answer is A."}
    nested = tmp_path / "results.json"
    nested.write_text(json.dumps({"acc": 50.0, "results": {"4": 1, "5": 0}, "outputs": {"4": "B"}}))
    assert sqa.read_predictions(nested) == {"4": 1, "5": 0}
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"4": 1, "5": "The answer is A."}))
    assert sqa.read_predictions(flat) == {"4": 1, "5": "The answer is A."}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 3}\n')
    with pytest.raises(ValueError, match="line 1"):
        sqa.read_predictions(bad)


def small_benchmark():
    """Eight questions with known categories; predictions chosen so every column differs."""
    P = sqa.Problem
    problems = [
        P("1", "q", ["a", "b"], 0, hint="h", has_image=True, subject="natural science", grade="grade1"),
        P("2", "q", ["a", "b"], 0, hint="h", has_image=False, subject="natural science", grade="grade2"),
        P("3", "q", ["a", "b"], 1, hint="", has_image=True, subject="social science", grade="grade2"),
        P("4", "q", ["a", "b"], 1, hint="", has_image=False, subject="social science", grade="grade7"),
        P("5", "q", ["a", "b"], 0, hint="", has_image=False, subject="language science", grade="grade7"),
        P("6", "q", ["a", "b"], 0, hint="h", has_image=False, subject="language science", grade="grade7"),
        P("7", "q", ["a", "b", "c"], 2, hint="", has_image=False, subject="natural science", grade="grade9"),
        P("8", "q", ["a", "b"], 1, hint="", has_image=True, subject="natural science", grade="grade2"),
    ]
    predictions = {
        "1": "A",
        "2": "The answer is B.",
        "3": 1,
        "4": "B.",
        "5": "no idea",
        "6": "A",
        "7": "The answer is D.",
    }  # 8 missing
    return problems, predictions


def test_standard_scores_hand_computed():
    problems, predictions = small_benchmark()
    judged = sqa.judge(problems, predictions)
    assert [j.correct for j in judged] == [True, False, True, True, False, True, False, False]
    assert [j.parsed for j in judged][4:] == [
        "no answer letter found",
        "A",
        "letter D is not one of the 3 options",
        "no prediction",
    ]
    s = sqa.score(problems, judged)
    acc = {k: (v["correct"], v["total"]) for k, v in s.items()}
    assert acc == {
        "NAT": (1, 4),
        "SOC": (2, 2),
        "LAN": (1, 2),
        "TXT": (2, 3),
        "IMG": (2, 3),
        "NO": (1, 3),
        "G1-6": (2, 4),
        "G7-12": (2, 4),
        "Avg": (4, 8),
    }
    assert s["TXT"]["accuracy"] == pytest.approx(200 / 3)


def test_scitune_variant_hand_computed():
    problems, predictions = small_benchmark()
    judged = sqa.judge(problems, predictions)
    s = sqa.score(problems, judged, "scitune")
    # TXT = no image: 2, 4, 5, 6, 7 -> 2 right; NO = no hint: 3, 4, 5, 7, 8 -> 2 right
    assert (s["TXT"]["correct"], s["TXT"]["total"]) == (2, 5)
    assert (s["NO"]["correct"], s["NO"]["total"]) == (2, 5)
    # grade1: 1/1, grade2: 1/3 (2 wrong, 3 right, 8 wrong) -> mean (100 + 33.33) / 2
    assert s["G1-6"]["accuracy"] == pytest.approx((100 + 100 / 3) / 2)
    # grade7: 2/3, grade9: 0/1 -> mean (66.67 + 0) / 2, where pooled would be 2/4 = 50
    assert s["G7-12"]["accuracy"] == pytest.approx((200 / 3) / 2)
    assert s["Avg"] == sqa.score(problems, judged)["Avg"]
    with pytest.raises(ValueError):
        sqa.score(problems, judged, "lenient")


def test_export_instructions_and_llava_json(tmp_path):
    from datasets import load_dataset

    folder = official_folder(
        tmp_path / "sqa",
        {
            "7": record(image="image.png", split="train"),
            "8": record(split="train"),
            "9": record(image="image.png", split="train"),
        },
        images={"7"},
    )
    report = sqa.export(folder, tmp_path / "out", split="train", fmt="QCM-LEPA")
    assert report["written"] == 2 and [e["id"] for e in report["errors"]] == ["9"]
    rows = load_dataset(str(tmp_path / "out"), "instructions", split="train")
    assert [r["id"] for r in rows] == ["scienceqa/7/QCM-LEPA", "scienceqa/8/QCM-LEPA"]
    assert rows[0]["images"][0].size == (32, 24) and rows[1]["images"] == []
    assert rows[0]["messages"][1]["content"][0]["text"].endswith("###\nANSWER: B.")

    llava = sqa.export(folder, tmp_path / "llava", split="train", fmt="CQM-A", kind="llava")
    records = json.loads(open(llava["path"]).read())
    assert [r["id"] for r in records] == ["7", "8"] and records[0]["image"] == "7/image.png"
    assert (tmp_path / "llava" / "images" / "7" / "image.png").read_bytes() == png_bytes()
    assert records[1]["conversations"] == [
        {"from": "human", "value": "Which is a mammal?\nA. frog\nB. cat"},
        {"from": "gpt", "value": "B"},
    ]
