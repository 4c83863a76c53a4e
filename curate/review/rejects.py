"""The reject list: figure ids a reviewer marked on the review page, one per line.

The page downloads it as `rejected.txt`: comment lines start with `#` (they say which dataset and
when), every other non-blank line is one `figure_id`. `filter --exclude FILE` drops those rows.
"""

from __future__ import annotations

from pathlib import Path


def read_reject_list(path: Path) -> set[str]:
    """The figure ids in a reject list file (blank lines and `#` comments skipped)."""
    ids = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            ids.add(line)
    return ids
