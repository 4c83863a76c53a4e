"""The one definition of every row scitune writes: figures, errors and instructions.

Each table is declared once as Hugging Face `Features`; the pyarrow schema, the Parquet
metadata that makes `datasets.load_dataset` decode images, the validator and the dataset
card are all derived from these declarations.
"""

from .errors import ERROR_COLUMNS, ERROR_FEATURES, ERROR_STAGES
from .figures import FIGURE_COLUMNS, FIGURE_FEATURES, KINDS, OCR_SOURCES, SOURCES
from .instructions import (
    CONTENT_PART,
    IMAGE_TOKEN,
    INSTRUCTION_COLUMNS,
    INSTRUCTION_FEATURES,
    content_parts,
    content_text,
    count_images,
)
from .taxonomy import FIGURE_TYPES, SCICAP_TYPE_MAP
from .validate import validate_folder, validate_row
from .version import SCHEMA_VERSION, extractor_version

TABLES = {
    "figures": FIGURE_FEATURES,
    "instructions": INSTRUCTION_FEATURES,
    "errors": ERROR_FEATURES,
}

__all__ = [
    "CONTENT_PART",
    "ERROR_COLUMNS",
    "ERROR_FEATURES",
    "ERROR_STAGES",
    "FIGURE_COLUMNS",
    "FIGURE_FEATURES",
    "FIGURE_TYPES",
    "IMAGE_TOKEN",
    "INSTRUCTION_COLUMNS",
    "INSTRUCTION_FEATURES",
    "KINDS",
    "OCR_SOURCES",
    "SCHEMA_VERSION",
    "SCICAP_TYPE_MAP",
    "SOURCES",
    "TABLES",
    "content_parts",
    "content_text",
    "count_images",
    "extractor_version",
    "validate_folder",
    "validate_row",
]
