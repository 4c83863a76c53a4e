"""ScienceQA: read the data, build LLaVA's prompts, parse answers and score them the standard way.

Main flow: `read_problems(PATH, split)` yields `Problem`s from the official layout (`problems.json`,
`pid_splits.json`, `images/{split}/{pid}/image.png`), from a bare `problems.json`-like file, or from the
Hub Parquet copy; `prompt(problem, fmt)` and `target(problem, fmt)` give the human and assistant turns of
LLaVA's formats; `parse_answer(text, n)` reads the chosen letter back; `score(problems, predictions)`
gives the accuracy per category.

Facts taken from elsewhere (the code is written here):
- Prompt texts and whitespace follow LLaVA's `scripts/convert_sqa_to_llava_base_prompt.py` (QCM-LEA,
  QCM-LEPA) and LLaVA-1.5's `llava_test_CQM-A.json` plus `model_vqa_science.py --single-pred-prompt`
  (CQM-A). LLaVA's training code moves `<image>` to the start of the human turn; so do we, in every format.
- The answer parser follows LLaVA's `llava/eval/eval_science_qa.py`, except that an answer it cannot
  read is counted wrong and listed, never replaced by a random guess.
- Categories follow ScienceQA's `get_scores` (lupantech/ScienceQA): TXT = hint present, IMG = image
  present, NO = neither, G1-6 / G7-12 pooled over questions, accuracies printed with two decimals.
  `variant="scitune"` gives the SciTune paper's reading: TXT = no image, NO = no hint, grade groups as
  the unweighted mean of the per-grade accuracies.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from ..schemas import IMAGE_TOKEN, INSTRUCTION_FEATURES, content_parts
from ..schemas.parquet import write_table

OPTIONS = ("A", "B", "C", "D", "E")
FORMATS = ("CQM-A", "QCM-LEA", "QCM-LEPA")
# LLaVA-1.5 appends this to CQM-A questions at evaluation time (`--single-pred-prompt`).
SINGLE_PRED_PROMPT = "Answer with the option's letter from the given choices directly."
LICENSE = "CC-BY-NC-SA-4.0"  # ScienceQA data licence (lupantech/ScienceQA)
# The Hub copy names the validation split `validation`; pid_splits.json calls it `val`.
HUB_SPLIT = {"train": "train", "val": "validation", "validation": "validation", "test": "test"}


@dataclass
class Problem:
    """One ScienceQA question, whatever file it came from."""

    pid: str
    question: str
    choices: list[str]
    answer: int
    hint: str = ""
    has_image: bool = False
    # A path to the image file, or its encoded bytes (Hub copy); None when there is none or it is missing.
    image: str | bytes | None = None
    split: str = ""
    subject: str = ""
    grade: str = ""
    topic: str = ""
    category: str = ""
    skill: str = ""
    lecture: str = ""
    solution: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def has_hint(self) -> bool:
        return bool(self.hint)


# ----------------------------------------------------------------------------- reading


def _problem(pid: str, rec: dict, image: str | bytes | None, split: str) -> Problem:
    known = {
        "question",
        "choices",
        "answer",
        "hint",
        "image",
        "split",
        "subject",
        "grade",
        "topic",
        "category",
        "skill",
        "lecture",
        "solution",
        "has_image",
    }
    has_image = bool(rec.get("image")) if "has_image" not in rec else bool(rec["has_image"])
    return Problem(
        pid=str(pid),
        question=rec["question"],
        choices=list(rec["choices"]),
        answer=int(rec["answer"]),
        hint=rec.get("hint") or "",
        has_image=has_image,
        image=image,
        split=rec.get("split") or split,
        subject=rec.get("subject") or "",
        grade=rec.get("grade") or "",
        topic=rec.get("topic") or "",
        category=rec.get("category") or "",
        skill=rec.get("skill") or "",
        lecture=rec.get("lecture") or "",
        solution=rec.get("solution") or "",
        extra={k: v for k, v in rec.items() if k not in known},
    )


def _read_problems_json(path: Path, split: str | None) -> Iterator[Problem]:
    """`problems.json` (pid -> record) with `pid_splits.json` and `images/` beside it when present."""
    problems = json.loads(path.read_text(encoding="utf-8"))
    splits_file = path.parent / "pid_splits.json"
    if split and splits_file.is_file():
        splits = json.loads(splits_file.read_text(encoding="utf-8"))
        if split not in splits:
            raise ValueError(f"split {split!r} is not in {splits_file} (it has {sorted(splits)})")
        pids = [p for p in splits[split] if p in problems]
    else:
        pids = [p for p, r in problems.items() if not split or r.get("split") in (split, None)]
    for pid in pids:
        rec = problems[pid]
        rec_split = rec.get("split") or split or ""
        image = None
        if rec.get("image"):
            candidate = path.parent / "images" / rec_split / pid / rec["image"]
            image = str(candidate) if candidate.is_file() else None
        yield _problem(pid, rec, image, rec_split)


def hub_id(split: str, index: int, question: str) -> str:
    """Stable id for a row of the Hub copy, which has no pid: split, row index and a hash of the question."""
    digest = hashlib.sha1(question.encode("utf-8")).hexdigest()[:8]
    return f"{split}-{index:05d}-{digest}"


def _read_parquet(files: list[Path], split: str | None) -> Iterator[Problem]:
    for path in files:
        # Hub shards are named `{split}-00000-of-00001-....parquet`.
        file_split = path.name.split("-")[0]
        if split and file_split != HUB_SPLIT.get(split, split):
            continue
        index = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
            for rec in batch.to_pylist():
                img = rec.get("image")
                data = img.get("bytes") if isinstance(img, dict) else img
                rec = dict(rec, image="image.png" if data else None)
                yield _problem(hub_id(file_split, index, rec["question"]), rec, data or None, file_split)
                index += 1


def read_problems(path: str | Path, split: str | None = "test") -> Iterator[Problem]:
    """Problems of `split` (None: all) from an official folder, a problems JSON file or Hub Parquet."""
    path = Path(path)
    if path.is_dir():
        if (path / "problems.json").is_file():
            yield from _read_problems_json(path / "problems.json", split)
            return
        files = sorted(path.glob("*.parquet")) or sorted(path.glob("data/*.parquet"))
        if files:
            yield from _read_parquet(files, split)
            return
        raise FileNotFoundError(f"{path} holds neither problems.json nor Hub *.parquet files")
    if path.suffix == ".parquet":
        yield from _read_parquet([path], split)
    elif path.suffix == ".json":
        yield from _read_problems_json(path, split)
    else:
        raise FileNotFoundError(f"{path}: expected a ScienceQA folder, a problems .json or a .parquet file")


# ----------------------------------------------------------------------------- prompts


def _llava_ws(text: str) -> str:
    # LLaVA's converter replaces each pair of spaces by one (one pass) and strips; kept for identical prompts.
    return text.replace("  ", " ").strip()


def _context(p: Problem) -> str:
    return p.hint.strip() or "N/A"  # LLaVA: " ".join([hint, caption]).strip(), captions off, else "N/A"


def _lecture(p: Problem) -> str:
    # LLaVA escapes newlines for GPT-3 and unescapes them again for the chatbot prompts.
    return p.lecture.replace("\n", "\\n").replace("\\n", "\n")


def _solution(p: Problem) -> str:
    return p.solution.replace("\n", "\\n").replace("\\n", "\n")


def question_text(p: Problem, fmt: str) -> str:
    """The human turn as LLaVA's converters write it, without the image tag."""
    if fmt == "CQM-A":
        parts = [f"Context: {p.hint}"] if p.hint.strip() else []
        parts.append(p.question)
        parts.append("\n".join(f"{OPTIONS[i]}. {c}" for i, c in enumerate(p.choices)))
        return _llava_ws("\n".join(parts))
    if fmt in ("QCM-LEA", "QCM-LEPA"):
        options = " ".join(f"({OPTIONS[i]}) {c}" for i, c in enumerate(p.choices))
        return _llava_ws(f"{p.question}\nContext: {_context(p)}\nOptions: {options}\n")
    raise ValueError(f"unknown prompt format {fmt!r}; choose one of {FORMATS}")


def prompt(p: Problem, fmt: str, for_eval: bool = True) -> str:
    """The user turn: `<image>\\n` first when the question has an image, then the question text.

    At evaluation CQM-A gets LLaVA-1.5's single-prediction instruction appended.
    """
    text = question_text(p, fmt)
    if for_eval and fmt == "CQM-A":
        text = f"{text}\n{SINGLE_PRED_PROMPT}"
    return f"{IMAGE_TOKEN}\n{text}" if p.has_image else text


def target(p: Problem, fmt: str) -> str:
    """The assistant turn LLaVA trains on."""
    letter = OPTIONS[p.answer]
    if fmt == "CQM-A":
        return letter
    lecture, solution = _lecture(p), _solution(p)
    if fmt == "QCM-LEA":
        return _llava_ws(f"{lecture} {solution} The answer is {letter}.")
    if fmt == "QCM-LEPA":
        out = f"LECTURE: {lecture}\n" if lecture.strip() else ""
        out += f"SOLUTION: {solution}\n" if solution.strip() else ""
        return _llava_ws(out + f"###\nANSWER: {letter}.")
    raise ValueError(f"unknown prompt format {fmt!r}; choose one of {FORMATS}")


def to_llava(p: Problem, fmt: str) -> dict:
    """One record of LLaVA's conversation JSON (`image` relative to `images/{split}`)."""
    rec: dict = {"id": p.pid}
    if p.has_image:
        rec["image"] = f"{p.pid}/image.png"
    rec["conversations"] = [
        {"from": "human", "value": prompt(p, fmt, for_eval=False)},
        {"from": "gpt", "value": target(p, fmt)},
    ]
    return rec


def image_bytes(p: Problem) -> bytes | None:
    if isinstance(p.image, bytes):
        return p.image
    if isinstance(p.image, str):
        return Path(p.image).read_bytes()
    return None


def to_instruction(p: Problem, fmt: str) -> dict:
    """One `instructions` row (schema in scitune.schemas.instructions); images as PNG/JPEG bytes."""
    data = image_bytes(p)
    if p.has_image and data is None:
        raise FileNotFoundError(
            f"ScienceQA {p.pid}: its image is missing (expected images/{p.split}/{p.pid}/)"
        )
    return {
        "id": f"scienceqa/{p.pid}/{fmt}",
        "figure_id": f"scienceqa/{p.pid}",
        "paper_id": "scienceqa",
        "task": "scienceqa",
        "images": [{"bytes": data, "path": None}] if p.has_image else [],
        "messages": [
            # schema version 2: content parts, the image part where `<image>` stands in the prompt
            {"role": "user", "content": content_parts(prompt(p, fmt, for_eval=False))},
            {"role": "assistant", "content": [{"type": "text", "text": target(p, fmt)}]},
        ],
        "template_id": f"llava-sqa-{fmt}",
        "template_version": "1",
        "license": LICENSE,
    }


def export(
    data: str | Path, out: str | Path, split: str = "train", fmt: str = "QCM-LEPA", kind: str = "instructions"
) -> dict:
    """Write `split` as training data for `scitune-train finetune --data OUT`.

    kind `instructions`: OUT/instructions/*.parquet (the `instructions` schema) plus a dataset card;
    kind `llava`: OUT/llava_{split}_{fmt}.json with the images under OUT/images/{pid}/.
    Questions whose image is missing are skipped and listed in the returned `errors`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown prompt format {fmt!r}; choose one of {FORMATS}")
    if kind not in ("instructions", "llava"):
        raise ValueError(f"kind must be instructions or llava, not {kind!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    errors: list[dict] = []
    counts = {"written": 0}

    def usable() -> Iterator[Problem]:
        for p in read_problems(data, split):
            if p.has_image and p.image is None:
                errors.append(
                    {
                        "id": p.pid,
                        "error": "image_missing",
                        "message": f"{p.pid}: image not found under images/{p.split}/{p.pid}/; skipped",
                    }
                )
                continue
            counts["written"] += 1
            yield p

    if kind == "instructions":
        shards = write_table(
            (to_instruction(p, fmt) for p in usable()), out / "instructions", INSTRUCTION_FEATURES
        )
        # download_size keys datasets' cache of a local folder (see curate/card.py): a re-export must not
        # load the rows cached from an earlier one (or from an older schema)
        size = sum(p.stat().st_size for p in shards)
        (out / "README.md").write_text(
            "---\nconfigs:\n- config_name: instructions\n  data_files: instructions/*.parquet\n"
            "license: cc-by-nc-sa-4.0\n"
            f"dataset_info:\n  config_name: instructions\n  download_size: {size}\n---\n\n"
            f"ScienceQA {split} split in LLaVA's {fmt} format, written by "
            "`scitune.train.scienceqa.export`.\n",
            encoding="utf-8",
        )
        return {"path": str(out / "instructions"), **counts, "errors": errors}
    records = []
    for p in usable():
        records.append(to_llava(p, fmt))
        if p.has_image:
            folder = out / "images" / p.pid
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "image.png").write_bytes(image_bytes(p))
    path = out / f"llava_{split}_{fmt}.json"
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    return {"path": str(path), **counts, "errors": errors}


# ----------------------------------------------------------------------------- parsing answers

_ANSWER_IS = re.compile(r"The answer is ([A-Z])(?:.|$)", re.S)
_ANSWER_TAG = re.compile(r"ANSWER: ([A-Z])(?:.|$)", re.S)


def parse_answer(text: str, n_choices: int) -> tuple[int | None, str]:
    """The chosen index and the letter read, or (None, reason) when the text names no valid option.

    Tried in LLaVA's order: a bare letter (`B`), a letter then a full stop (`B.` or `B. text`), exactly one
    `The answer is B.`; then QCM-LEPA's `ANSWER: B.`. LLaVA's regex ends in an unescaped `.` (any
    character); we also accept the letter at the very end of the text.
    """
    valid = OPTIONS[:n_choices]
    s = text.strip()
    letter = None
    if s in OPTIONS:
        letter = s
    elif len(s) >= 2 and s[0] in OPTIONS and s[1] == "." and (len(s) == 2 or s[2] == " "):
        letter = s[0]
    else:
        for pattern in (_ANSWER_IS, _ANSWER_TAG):
            found = pattern.findall(s)
            if len(found) == 1:
                letter = found[0]
                break
            if len(found) > 1:
                return None, f"{len(found)} different answers stated" if len(
                    set(found)
                ) > 1 else "answer repeated"
    if letter is None:
        return None, "no answer letter found"
    if letter not in valid:
        return None, f"letter {letter} is not one of the {n_choices} options"
    return OPTIONS.index(letter), letter


# ----------------------------------------------------------------------------- prediction files


def read_predictions(path: str | Path) -> dict[str, str | int]:
    """pid -> answer text or chosen index, from LLaVA JSONL answers (`{"question_id", "text", ...}` per
    line), a `{pid: index}` JSON (ScienceQA's own results files, possibly under `results`), or a
    `{pid: text}` JSON."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    stripped = raw.lstrip()
    if stripped.startswith("{") and path.suffix != ".jsonl":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            if isinstance(data.get("results"), dict):
                data = data["results"]
            out: dict[str, str | int] = {}
            for pid, value in data.items():
                if isinstance(value, bool) or not isinstance(value, (int, str)):
                    raise ValueError(
                        f"{path}: value for {pid!r} is {value!r}; expected an option index or text"
                    )
                out[str(pid)] = value
            return out
    out = {}
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            out[str(rec["question_id"])] = rec["text"]
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise ValueError(
                f"{path} line {n}: not a LLaVA answer record with question_id and text ({err}); expected "
                "JSONL answers, or a JSON object pid -> option index"
            ) from None
    return out


# ----------------------------------------------------------------------------- scoring

CATEGORIES = ("NAT", "SOC", "LAN", "TXT", "IMG", "NO", "G1-6", "G7-12", "Avg")
SUBJECTS = {"NAT": "natural science", "SOC": "social science", "LAN": "language science"}
LOW_GRADES = tuple(f"grade{i}" for i in range(1, 7))
HIGH_GRADES = tuple(f"grade{i}" for i in range(7, 13))


@dataclass
class Judged:
    """One question's outcome."""

    pid: str
    answer: int
    pred: int | None
    correct: bool
    parsed: str  # the letter read, or why nothing could be read
    text: str | None = None  # the raw prediction text, when there was one


def judge(problems: Iterable[Problem], predictions: dict[str, str | int]) -> list[Judged]:
    """Compare each problem with its prediction; a missing or unreadable prediction is wrong."""
    out = []
    for p in problems:
        value = predictions.get(p.pid)
        text = None
        if value is None:
            pred, parsed = None, "no prediction"
        elif isinstance(value, int):
            pred, parsed = (
                (value, OPTIONS[value]) if 0 <= value < len(p.choices) else (None, f"index {value}")
            )
        else:
            text = value
            pred, parsed = parse_answer(value, len(p.choices))
        out.append(Judged(p.pid, p.answer, pred, pred == p.answer, parsed, text))
    return out


def _acc(rows: list[Judged]) -> dict:
    correct = sum(r.correct for r in rows)
    return {"accuracy": 100.0 * correct / len(rows) if rows else None, "correct": correct, "total": len(rows)}


def _mean_of_grades(by_pid: dict[str, Problem], rows: list[Judged], grades: tuple[str, ...]) -> dict:
    per_grade = {g: _acc([r for r in rows if by_pid[r.pid].grade == g]) for g in grades}
    present = [v["accuracy"] for v in per_grade.values() if v["total"]]
    return {
        "accuracy": sum(present) / len(present) if present else None,
        "correct": sum(v["correct"] for v in per_grade.values()),
        "total": sum(v["total"] for v in per_grade.values()),
        "per_grade": per_grade,
    }


def score(problems: Iterable[Problem], judged: list[Judged], variant: str = "standard") -> dict[str, dict]:
    """Accuracy (percent) per category: NAT, SOC, LAN, TXT, IMG, NO, G1-6, G7-12, Avg."""
    if variant not in ("standard", "scitune"):
        raise ValueError(f"variant must be 'standard' or 'scitune', not {variant!r}")
    by_pid = {p.pid: p for p in problems}

    def where(test) -> list[Judged]:
        return [r for r in judged if test(by_pid[r.pid])]

    scores = {name: _acc(where(lambda p, s=subject: p.subject == s)) for name, subject in SUBJECTS.items()}
    if variant == "standard":
        scores["TXT"] = _acc(where(lambda p: p.has_hint))
        scores["IMG"] = _acc(where(lambda p: p.has_image))
        scores["NO"] = _acc(where(lambda p: not p.has_hint and not p.has_image))
        scores["G1-6"] = _acc(where(lambda p: p.grade in LOW_GRADES))
        scores["G7-12"] = _acc(where(lambda p: p.grade in HIGH_GRADES))
    else:
        scores["TXT"] = _acc(where(lambda p: not p.has_image))
        scores["IMG"] = _acc(where(lambda p: p.has_image))
        scores["NO"] = _acc(where(lambda p: not p.has_hint))
        scores["G1-6"] = _mean_of_grades(by_pid, judged, LOW_GRADES)
        scores["G7-12"] = _mean_of_grades(by_pid, judged, HIGH_GRADES)
    scores["Avg"] = _acc(judged)
    return {name: scores[name] for name in CATEGORIES}


PARSER_RULES = (
    "LLaVA eval_science_qa.py order: a bare letter; a letter and a full stop ('B.' or 'B. text'); exactly "
    "one "
    "'The answer is B' (the letter followed by any character or the end); then QCM-LEPA's 'ANSWER: B'. The "
    "letter "
    "must name one of the question's options. Anything else is unreadable and counted wrong (no random "
    "guess)."
)


def per_grade(problems: Iterable[Problem], judged: list[Judged]) -> dict[str, dict]:
    """Accuracy of each grade present, grade1 ... grade12."""
    by_pid = {p.pid: p for p in problems}
    grades = sorted(
        {by_pid[j.pid].grade for j in judged if by_pid[j.pid].grade},
        key=lambda g: int(g[5:]) if g[5:].isdigit() else 99,
    )
    return {g: _acc([j for j in judged if by_pid[j.pid].grade == g]) for g in grades}


CATEGORY_DEFINITIONS = {
    "standard": {
        "NAT": "subject == natural science",
        "SOC": "subject == social science",
        "LAN": "subject == language science",
        "TXT": "hint (context text) present",
        "IMG": "image present",
        "NO": "neither hint nor image",
        "G1-6": "grades 1-6, pooled over questions",
        "G7-12": "grades 7-12, pooled over questions",
        "Avg": "all questions",
    },
    "scitune": {
        "NAT": "subject == natural science",
        "SOC": "subject == social science",
        "LAN": "subject == language science",
        "TXT": "no image (SciTune's reading)",
        "IMG": "image present",
        "NO": "no hint (SciTune's reading)",
        "G1-6": "unweighted mean of the accuracies of grades 1..6 (SciTune's reading)",
        "G7-12": "unweighted mean of the accuracies of grades 7..12 (SciTune's reading)",
        "Avg": "all questions",
    },
}
