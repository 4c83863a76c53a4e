"""The one definition of every row scitune writes: figures, errors and instructions.

Each table is declared once as Hugging Face `Features`; the pyarrow schema, the Parquet
metadata that makes `datasets.load_dataset` decode images, the validator and the dataset
card are all derived from these declarations.
"""

from scitune.schemas.errors import ERROR_COLUMNS, ERROR_FEATURES, ERROR_STAGES
from scitune.schemas.figures import FIGURE_COLUMNS, FIGURE_FEATURES, KINDS, SOURCES, OCR_SOURCES
from scitune.schemas.instructions import INSTRUCTION_COLUMNS, INSTRUCTION_FEATURES
from scitune.schemas.taxonomy import FIGURE_TYPES, SCICAP_TYPE_MAP
from scitune.schemas.version import SCHEMA_VERSION, extractor_version
from scitune.schemas.validate import validate_folder, validate_row

TABLES = {
    "figures": FIGURE_FEATURES,
    "instructions": INSTRUCTION_FEATURES,
    "errors": ERROR_FEATURES,
}

__all__ = [
    "ERROR_COLUMNS", "ERROR_FEATURES", "ERROR_STAGES", "FIGURE_COLUMNS", "FIGURE_FEATURES",
    "FIGURE_TYPES", "INSTRUCTION_COLUMNS", "INSTRUCTION_FEATURES", "KINDS", "OCR_SOURCES",
    "SCHEMA_VERSION", "SCICAP_TYPE_MAP", "SOURCES", "TABLES", "extractor_version",
    "validate_folder", "validate_row",
]
