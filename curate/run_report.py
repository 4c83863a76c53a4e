"""What the terminal says after `extract`: errors grouped by reason, and loud warnings for empty runs.

The error rows themselves are in OUT/errors; this module only tells the user, at the end of a run,
which reasons occurred, on which inputs first, and which command lists them all.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from .writer import shard_paths

FIRST_INPUTS = 3  # inputs named per reason in the summary; `scitune-curate errors OUT` lists all
MESSAGE_CHARS = 200  # the first message of each reason, cut to one readable line
REASONS_SHOWN = 10  # largest reasons in the summary; the rest are counted


def reason_of(row: dict) -> str:
    """What makes two error rows the same reason: stage, code and the message less the input's own names
    (an empty file and a file that is not a PDF share a code but not a reason)."""
    message = row.get("message") or ""
    for own in (row.get("figure_id"), row.get("input")):
        if own:
            message = message.replace(own, "…")
    return f"{row.get('stage') or 'unknown'}/{row.get('error') or 'unknown'}/{' '.join(message.split())}"


@dataclass
class ErrorGroups:
    """Error rows of one run by reason (`reason_of`): count, first message, first inputs."""

    groups: dict[str, dict] = field(default_factory=dict)

    def add(self, row: dict) -> None:
        stage, error = row.get("stage") or "unknown", row.get("error") or "unknown"
        g = self.groups.setdefault(
            reason_of(row),
            {"stage": stage, "error": error, "count": 0, "message": row.get("message") or "", "inputs": []},
        )
        g["count"] += 1
        where = row.get("figure_id") or row.get("input") or "?"
        if len(g["inputs"]) < FIRST_INPUTS and where not in g["inputs"]:
            g["inputs"].append(where)

    def lines(self, out: Path) -> list[str]:
        if not self.groups:
            return []
        total = sum(g["count"] for g in self.groups.values())
        lines = [f"{total} error {'row' if total == 1 else 'rows'}, by reason:"]
        ranked = sorted(
            self.groups.values(), key=lambda g: (-g["count"], g["stage"], g["error"], g["message"])
        )
        for g in ranked[:REASONS_SHOWN]:
            message = " ".join(g["message"].split())
            if len(message) > MESSAGE_CHARS:
                message = message[: MESSAGE_CHARS - 1] + "…"
            lines.append(f"  {g['stage']}/{g['error']} ({g['count']}): {message}")
            more = f" and {g['count'] - len(g['inputs'])} more" if g["count"] > len(g["inputs"]) else ""
            lines.append(f"      {', '.join(g['inputs'])}{more}")
        if len(ranked) > REASONS_SHOWN:
            rest = ranked[REASONS_SHOWN:]
            lines.append(f"  and {len(rest)} more reasons ({sum(g['count'] for g in rest)} rows)")
        lines.append(
            f"see them all: scitune-curate errors {shlex.quote(str(out))}   "
            f"(or the Errors tab of: scitune-curate review {shlex.quote(str(out))})"
        )
        return lines


def empty_run_problem(summary, inputs: list[Path]) -> str | None:
    """Why this run gave nothing, when it did (no input found, or every input failed); else None."""
    shown = ", ".join(str(p) for p in inputs[:3])
    if len(inputs) > 3:
        shown += f" and {len(inputs) - 3} more"
    floats = summary.figures + summary.tables
    left_out = getattr(summary, "license_skipped", 0)
    if summary.documents == 0 and summary.unusable == 0 and left_out:
        return f"no input kept: all {left_out} documents were left out by --license. Check the licences."
    if summary.documents == 0 and summary.unusable == 0:
        ignored = f" ({summary.ignored} other files were ignored)" if summary.ignored else ""
        return (
            f"no input found in {shown}: no PDF, arXiv source bundle (.tar.gz .tgz .tar .zip .gz) or LaTeX "
            f"source folder{ignored}. Check the paths."
        )
    attempted = summary.documents + summary.unusable - summary.skipped
    all_failed = summary.failed + summary.unusable == attempted
    if summary.skipped == 0 and attempted > 0 and floats == 0 and all_failed:
        return (
            f"every input failed ({attempted} of {attempted}): no figure or table was extracted. "
            "The reasons are listed above."
        )
    return None


def print_all_errors(out: Path, stages: set[str], reasons: set[str]) -> list[str]:
    """Every error row of OUT, grouped by stage and reason (for `scitune-curate errors`)."""

    groups: dict[tuple[str, str], list[dict]] = {}
    for path in shard_paths(out, "errors"):
        columns = ["input", "figure_id", "stage", "error", "message"]
        for row in pq.read_table(path, columns=columns).to_pylist():
            key = (row["stage"] or "unknown", row["error"] or "unknown")
            if (stages and key[0] not in stages) or (reasons and key[1] not in reasons):
                continue
            groups.setdefault(key, []).append(row)
    if not groups:
        return ["no error rows" + (" match" if stages or reasons else f" in {out}")]
    lines = []
    for (stage, error), rows in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"{stage}/{error}: {len(rows)} {'row' if len(rows) == 1 else 'rows'}")
        for row in rows:
            where = row["input"] + (f" [{row['figure_id']}]" if row["figure_id"] else "")
            lines.append(f"  {where}: {' '.join((row['message'] or '').split())}")
    return lines
