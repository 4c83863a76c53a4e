"""Caption benchmarks as one kind of item: SciCap, the SciCap Challenge, VisText and our own figure rows.

Each reader yields `CaptionItem`s (an image, reference captions per level, the gold figure type) and
`ReadError`s for inputs that cannot be evaluated (no image, no caption); `read_caption_data(task, path)`
picks the reader from what PATH holds. `parse_figure_type` reads a type back from generated text.

Formats (field names as upstream spells them):
- SciCap (Hsu et al., 2021): one JSON per figure: `paper-ID`, `figure-ID` (the image file name),
  `figure-type`, `0-originally-extracted`, `1-lowercase-and-token-and-remove-figure-index`,
  `2-normalized` / `2-1-basic-num` and `2-2-advanced-euqation-bracket` (sic), with `token` or `tokens`,
  and `Img-text`. Images live in `SciCap-No-Subfig-Img/{split}/` (or `-Yes-`) beside
  `SciCap-Caption-All/{split}/`.
- SciCap Challenge 2023: COCO-style `{"images": [{file_name, id, figure_type, ocr}], "annotations":
  [{image_id, id, caption, caption_no_index, paragraph, mention}]}`. Annotations are joined to images on
  `image_id` (SciTune paired the two lists by position, which breaks when they are not in step).
- VisText: `data_{split}.json` records `caption_id, img_id, split, scenegraph, datatable, caption_L1,
  caption_L2L3, L1_properties`; images `{img_id}.png`. One item per chart, with its L1 captions, its
  L2L3 captions and the full `L1 L2L3` captions as three reference sets.
- Our `figures` rows: Parquet under `OUT/figures/` (schema `scitune.schemas.FIGURE_FEATURES`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from ..schemas import FIGURE_TYPES, SCICAP_TYPE_MAP

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SCICAP_REFERENCES = ("caption_no_index", "original", "lowercase", "basic-num", "advanced")
# VisText's chart types (first entry of L1_properties) and the taxonomy classes that name them.
VISTEXT_TYPE_MAP = {"line_plot": "line", "bar_chart": "bar", "area_chart": "area"}
# "Figure 3:", "Fig. 2b.", "Table IV |": the label a caption starts with. References (strip_index) and
# predictions (metrics.clean_prediction) lose it before scoring.
FIGURE_LABEL = re.compile(r"^\s*(?:fig(?:ure)?|table)\.?\s*[A-Z]?[\dIVX]+[a-z]?\s*[:.|]\s*", re.I)


@dataclass
class CaptionItem:
    """One image to caption, with everything a score needs."""

    id: str
    image: str | bytes | None  # a file path or encoded image bytes
    references: dict[str, list[str]]  # reference level -> captions ("caption"; VisText: L1, L2L3, L1+L2L3)
    figure_type: str | None = None
    source: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class ReadError:
    """An input that could not become an item, and why."""

    input: str
    id: str | None
    error: str
    message: str


def strip_index(caption: str) -> str:
    """`Figure 3: text` -> `text` (SciCap's caption_no_index)."""
    return FIGURE_LABEL.sub("", caption, count=1).strip()


def _find_image(name: str, folders: list[Path]) -> Path | None:
    for folder in folders:
        for candidate in [folder / name] + [folder / (Path(name).stem + s) for s in IMAGE_SUFFIXES]:
            if candidate.is_file():
                return candidate
    return None


# ----------------------------------------------------------------------------- SciCap


def _scicap_caption(rec: dict, reference: str) -> str:
    def text(block: dict | None) -> str:
        if not block:
            return ""
        if block.get("caption"):
            return block["caption"]
        return " ".join(block.get("tokens") or block.get("token") or [])

    norm = rec.get("2-normalized") or {}
    if reference == "caption_no_index":
        return strip_index(rec.get("0-originally-extracted", ""))
    if reference == "original":
        return rec.get("0-originally-extracted", "")
    if reference == "lowercase":
        return text(rec.get("1-lowercase-and-token-and-remove-figure-index"))
    if reference == "basic-num":
        return text(norm.get("2-1-basic-num"))
    if reference == "advanced":
        return text(norm.get("2-2-advanced-euqation-bracket") or norm.get("2-2-advanced-equation-bracket"))
    raise ValueError(f"unknown SciCap reference {reference!r}; choose one of {SCICAP_REFERENCES}")


def _scicap_image_folders(json_path: Path, images: Path | None) -> list[Path]:
    folders = [images] if images else []
    folders.append(json_path.parent)
    # SciCap-Caption-All/{split}/x.json -> SciCap-{No,Yes}-Subfig-Img/{split}/
    split_dir, root = json_path.parent, json_path.parent.parent.parent
    for name in ("SciCap-No-Subfig-Img", "SciCap-Yes-Subfig-Img"):
        folders.append(root / name / split_dir.name)
    return folders


def read_scicap(
    path: str | Path, reference: str = "caption_no_index", images: str | Path | None = None
) -> Iterator[CaptionItem | ReadError]:
    """SciCap per-figure JSON files: one file, or a folder of them (searched recursively, sorted)."""
    path = Path(path)
    files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
    for file in files:
        try:
            rec = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            yield ReadError(str(file), None, "unreadable_json", f"{file}: {err}; is it a SciCap record?")
            continue
        if not isinstance(rec, dict) or "figure-ID" not in rec:
            yield ReadError(str(file), None, "not_scicap", f"{file} has no `figure-ID`: not a SciCap record")
            continue
        fid = rec["figure-ID"]
        caption = _scicap_caption(rec, reference)
        image = _find_image(fid, _scicap_image_folders(file, Path(images) if images else None))
        if not caption.strip():
            yield ReadError(str(file), fid, "no_caption", f"{fid}: the {reference!r} caption is empty")
        elif image is None:
            yield ReadError(
                str(file),
                fid,
                "image_missing",
                f"{fid}: image not found beside {file} or in SciCap-*-Subfig-Img/; pass --images DIR",
            )
        else:
            yield CaptionItem(
                id=Path(fid).stem,
                image=str(image),
                references={"caption": [caption]},
                figure_type=rec.get("figure-type"),
                source=str(file),
                extra={"paper_id": rec.get("paper-ID"), "ocr": rec.get("Img-text") or []},
            )


def read_scicap_challenge(
    path: str | Path, reference: str = "caption_no_index", images: str | Path | None = None
) -> Iterator[CaptionItem | ReadError]:
    """A SciCap Challenge COCO-style JSON; annotations joined to images on `image_id`."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    by_image: dict = {}
    known = {img["id"] for img in data["images"]}
    for ann in data["annotations"]:
        if ann.get("image_id") not in known:
            yield ReadError(
                str(path),
                str(ann.get("id")),
                "orphan_annotation",
                f"annotation {ann.get('id')} names image_id {ann.get('image_id')!r}, which is not in "
                "`images`",
            )
            continue
        by_image.setdefault(ann["image_id"], []).append(ann)
    folders = ([Path(images)] if images else []) + [
        path.parent,
        path.parent / path.stem,
        path.parent / "images",
    ]
    for img in data["images"]:
        anns = by_image.get(img["id"], [])
        key = "caption" if reference == "original" else "caption_no_index"
        refs = [a.get(key) or strip_index(a.get("caption", "")) for a in anns]
        refs = [r for r in refs if r and r.strip()]
        file = _find_image(img["file_name"], folders)
        if not refs:
            yield ReadError(
                str(path),
                str(img["id"]),
                "no_caption",
                f"image {img['file_name']} has no annotation with a caption",
            )
        elif file is None:
            yield ReadError(
                str(path),
                str(img["id"]),
                "image_missing",
                f"{img['file_name']} not found beside {path}, in {path.stem}/ or images/; pass --images DIR",
            )
        else:
            first = anns[0]
            yield CaptionItem(
                id=Path(img["file_name"]).stem,
                image=str(file),
                references={"caption": refs},
                figure_type=img.get("figure_type"),
                source=str(path),
                extra={
                    "ocr": img.get("ocr") or [],
                    "paragraph": first.get("paragraph"),
                    "mention": first.get("mention"),
                },
            )


# ----------------------------------------------------------------------------- VisText


def _chart_type(props) -> str | None:
    """First entry of VisText's L1_properties (a list, or pandas' rendering of one as a string)."""
    if isinstance(props, list):
        return str(props[0]).strip() if props else None
    if isinstance(props, str) and props.strip():
        return props.strip().lstrip("[").split(",")[0].strip().strip("'\"") or None
    return None


def _vistext_records(path: Path, split: str) -> tuple[Path, list[dict]]:
    file = path / f"data_{split}.json" if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(
            f"{file} not found: pass a VisText data_{{split}}.json or the folder holding it"
        )
    data = json.loads(file.read_text(encoding="utf-8"))
    if isinstance(data, dict):  # tolerate {"records": [...]} / {"data": [...]} wrappers
        data = data.get("records") or data.get("data") or []
    return file, data


def read_vistext(
    path: str | Path, split: str = "test", images: str | Path | None = None
) -> Iterator[CaptionItem | ReadError]:
    """One item per chart (img_id) of `split`; its caption records give the reference sets."""
    path = Path(path)
    file, records = _vistext_records(path, split)
    charts: dict[str, list[dict]] = {}
    for rec in records:
        if rec.get("split") not in (None, split):
            continue
        charts.setdefault(str(rec["img_id"]), []).append(rec)
    root = file.parent
    folders = ([Path(images)] if images else []) + [root / "images", root / "data" / "images", root]
    for img_id, recs in charts.items():
        l1 = list(dict.fromkeys(r["caption_L1"] for r in recs if r.get("caption_L1")))
        l2l3 = [r["caption_L2L3"] for r in recs if r.get("caption_L2L3")]
        full = [
            f"{r['caption_L1']} {r['caption_L2L3']}"
            for r in recs
            if r.get("caption_L1") and r.get("caption_L2L3")
        ]
        image = _find_image(f"{img_id}.png", folders)
        if image is None:
            yield ReadError(
                str(file),
                img_id,
                "image_missing",
                f"chart {img_id}: {img_id}.png not found in images/ beside {file.name}; pass --images DIR",
            )
            continue
        yield CaptionItem(
            id=img_id,
            image=str(image),
            references={"L1": l1, "L2L3": l2l3, "L1+L2L3": full},
            figure_type=_chart_type(recs[0].get("L1_properties")),
            source=str(file),
            extra={"caption_ids": [r.get("caption_id") for r in recs]},
        )


# ----------------------------------------------------------------------------- our figure rows


def read_figures(out: str | Path) -> Iterator[CaptionItem | ReadError]:
    """Our own `figures` rows (OUT/figures/*.parquet), streamed batch by batch."""
    out = Path(out)
    for shard in sorted((out / "figures").glob("*.parquet")):
        pf = pq.ParquetFile(shard)
        for batch in pf.iter_batches(
            batch_size=64,
            columns=["figure_id", "image", "caption_no_index", "caption", "figure_type", "ocr", "kind"],
        ):
            for row in batch.to_pylist():
                data = (row.get("image") or {}).get("bytes")
                caption = row.get("caption_no_index") or strip_index(row.get("caption") or "")
                if not data or not caption.strip():
                    what = "image" if not data else "caption"
                    yield ReadError(
                        str(shard), row["figure_id"], f"no_{what}", f"{row['figure_id']} has no {what}"
                    )
                    continue
                yield CaptionItem(
                    id=row["figure_id"],
                    image=data,
                    references={"caption": [caption]},
                    figure_type=row.get("figure_type"),
                    source=str(shard),
                    extra={"ocr": row.get("ocr") or []},
                )


# ----------------------------------------------------------------------------- dispatch


def _is_challenge(path: Path) -> bool:
    """A COCO-style challenge file (top-level `images` and `annotations`), not one SciCap record.

    One SciCap record is a few kB; a challenge split is large, so only small files are parsed to decide
    (an OCR word such as "images" inside a record must not fool a text search).
    """
    if path.stat().st_size > 5_000_000:
        return True
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False  # read_scicap reports it as unreadable
    return isinstance(data, dict) and "annotations" in data and "images" in data


def read_caption_data(
    task: str,
    path: str | Path,
    split: str = "test",
    reference: str = "caption_no_index",
    images: str | Path | None = None,
) -> tuple[str, Iterator[CaptionItem | ReadError]]:
    """(format name, items) for `--task scicap|vistext --data PATH`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if task == "vistext":
        return "vistext", read_vistext(path, split, images)
    if task != "scicap":
        raise ValueError(f"no caption reader for task {task!r}")
    if path.is_dir() and (path / "figures").is_dir():
        return "scitune-figures", read_figures(path)
    if path.is_file() and path.suffix == ".json":
        if _is_challenge(path):
            return "scicap-challenge", read_scicap_challenge(path, reference, images)
    return "scicap", read_scicap(path, reference, images)


# ----------------------------------------------------------------------------- figure types


def _words(label: str) -> str:
    return " ".join(label.replace("_", " ").replace("-", " ").lower().split())


def type_vocabulary(gold_labels: set[str]) -> dict[str, str]:
    """Phrase -> label, for reading a figure type out of generated text.

    The dataset's own labels, plus our taxonomy's classes mapped onto them: SciCap's coarse classes
    through `SCICAP_TYPE_MAP`, VisText's chart types through `VISTEXT_TYPE_MAP`; a taxonomy class with no
    counterpart keeps its own name (and so counts wrong).
    """
    vocab = {_words(g): g for g in gold_labels}
    scicap = set(SCICAP_TYPE_MAP.values())
    for cls in FIGURE_TYPES:
        if cls in gold_labels:
            target = cls
        elif gold_labels and gold_labels <= scicap | {"Other"}:
            target = SCICAP_TYPE_MAP[cls]
        elif cls in VISTEXT_TYPE_MAP and VISTEXT_TYPE_MAP[cls] in gold_labels:
            target = VISTEXT_TYPE_MAP[cls]
        else:
            target = cls
        vocab.setdefault(_words(cls), target)
    return vocab


def parse_figure_type(text: str, vocabulary: dict[str, str]) -> str | None:
    """The label whose phrase appears first in `text` (longest phrase on ties); None when none does."""
    low = " " + _words(re.sub(r"[^\w\s-]", " ", text)) + " "
    best: tuple[int, int, str] | None = None
    for phrase, label in vocabulary.items():
        for variant in (phrase, phrase + "s"):
            at = low.find(" " + variant + " ")
            if at >= 0 and (best is None or (at, -len(phrase)) < (best[0], best[1])):
                best = (at, -len(phrase), label)
    return best[2] if best else None
