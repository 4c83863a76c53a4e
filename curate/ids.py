"""The two ids of every row, made here and nowhere else.

`paper_id` is the arXiv id with its version when one is known, else the input's file stem. It is
decided in three steps, all of them here: the planner takes it from the input's names
(`name_paper_id`), the worker lets an arXiv stamp printed in the PDF replace a plain file stem
(`with_pdf_stamp`), and both the planner and the runner keep it unique across inputs of different
content (`unique_paper_id`). `figure_id` is `{paper_id}/{kind}{number}` (`figure_id`), stable across
re-runs; schemas/figures.py documents it and the validator checks it.

The arXiv-id recognition itself (file names, PDF text) lives with the readers; this module composes
ids from what it is given.
"""

from __future__ import annotations

from collections.abc import Iterable

# Characters of the content key appended to a paper id another input already holds: 16^8 values,
# so two different inputs with one stem are told apart in practice, and the id stays short.
KEY_CHARS = 8


def name_paper_id(arxiv_ids: Iterable[str | None], stem: str) -> str:
    """The id from the input's names: the first arXiv id found in them, else the file stem."""
    return next((a for a in arxiv_ids if a), None) or stem


def with_pdf_stamp(paper_id: str, name_id: str, name_is_arxiv: bool, pdf_arxiv_id: str | None) -> str:
    """The arXiv id printed in the PDF replaces a plain file stem.

    Not an arXiv id taken from the name (the name is the more deliberate of the two) and not an id the
    planner already made unique (`paper_id != name_id`): that one is what another input was kept from.
    """
    if pdf_arxiv_id and paper_id == name_id and not name_is_arxiv:
        return pdf_arxiv_id
    return paper_id


def unique_paper_id(paper_id: str, key: str, owner: dict[str, str]) -> str:
    """`paper_id`, or `{paper_id}-{key[:8]}` when an input of other content (key) holds it already.

    `owner` maps paper ids to the content key holding them; the id returned is recorded in it.
    """
    if owner.get(paper_id, key) != key:
        paper_id = f"{paper_id}-{key[:KEY_CHARS]}"
    owner[paper_id] = key
    return paper_id


def figure_id(paper_id: str, kind: str, number: str) -> str:
    """`2307.01139v2/figure3`: unique within a dataset because (kind, number) is unique within a paper."""
    return f"{paper_id}/{kind}{number}"


def move_figure_id(fid: str, old_paper_id: str, new_paper_id: str) -> str:
    """The same float's id under the paper's new id (the runner renamed a colliding paper)."""
    if not fid.startswith(old_paper_id + "/"):
        raise ValueError(f"{fid!r} is not a figure id of paper {old_paper_id!r}")
    return new_paper_id + fid[len(old_paper_id) :]
