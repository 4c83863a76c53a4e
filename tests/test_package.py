"""Packaging promises: one `scitune` namespace, curation without torch, the schema documented in the
README."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scitune.schemas import ERROR_FEATURES, FIGURE_FEATURES

ROOT = Path(__file__).resolve().parents[1]


def test_curation_never_imports_torch():
    code = (
        "import sys, tempfile\n"
        "import scitune.curate.cli, scitune.curate.runner, scitune.curate.instructions, "
        "scitune.curate.exports\n"
        "import scitune.curate.hub, scitune.curate.card, scitune.curate.filters\n"
        "from scitune.curate.document import Options, process_document\n"
        "from scitune.curate.inputs import assign_paper_ids, plan_inputs\n"
        f"plan = plan_inputs([{str(ROOT / 'examples' / 'papers' / 'dynonet.pdf')!r}])\n"
        "assign_paper_ids(plan.documents, {})\n"
        "result = process_document(plan.documents[0], Options(workdir=tempfile.mkdtemp()))\n"
        "assert result.figures, result.errors\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_readme_documents_every_column():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for column in FIGURE_FEATURES:
        assert f"| `{column}` |" in readme, column
    for column in ERROR_FEATURES:
        assert f"`{column}`" in readme, column


def test_no_generic_top_level_modules_are_installed():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    packages = setuptools["packages"]
    assert packages and all(p.startswith("scitune.") for p in packages)
    assert set(setuptools["package-dir"]) == {"scitune.curate", "scitune.train", "scitune.schemas"}
    # every folder with an __init__.py under the mapped roots ships
    for root in ("curate", "train", "schemas"):
        for init in (ROOT / root).rglob("__init__.py"):
            dotted = "scitune." + ".".join(init.parent.relative_to(ROOT).parts)
            assert dotted in packages, f"{dotted} is missing from pyproject's packages"
