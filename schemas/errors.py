"""Schema version 1 of the `errors` rows: one row per input (or float) that failed."""

from datasets import Features, Value

# Where in the pipeline a failure happened.
ERROR_STAGES = {
    "input": "The input could not be read or identified (missing, empty, unknown type).",
    "unpack": "A source archive was refused or could not be unpacked safely.",
    "open": "The PDF could not be opened (not a PDF, truncated, encrypted).",
    "page": "One page made the PDF engine fail; the other pages were kept.",
    "parse": "The LaTeX source could not be parsed (no main file, input cycle, bad encoding).",
    "float": "One float could not be completed (no graphic, render failed); other floats kept.",
    "render": "Rendering an image failed.",
    "join": "PDF and LaTeX sides could not be aligned.",
    "timeout": "The document exceeded the per-document time limit and was stopped.",
    "crash": "The worker process died (out of memory, segfault in a native library).",
    "internal": "A bug in scitune: please report it with the input.",
}

ERROR_FEATURES = Features(
    {
        "input": Value("string"),
        "sha256": Value("string"),
        "paper_id": Value("string"),
        "figure_id": Value("string"),
        "stage": Value("string"),
        "error": Value("string"),
        "message": Value("string"),
        "extractor": Value("string"),
        "schema_version": Value("int32"),
    }
)

ERROR_COLUMNS: dict[str, str] = {
    "input": "The input path as given.",
    "sha256": "sha256 of the input (null when it could not be read).",
    "paper_id": "Paper id when known.",
    "figure_id": "The float concerned, for float-level errors; null for whole-input errors.",
    "stage": "Pipeline stage: " + ", ".join(f"`{s}`" for s in ERROR_STAGES) + ".",
    "error": "Short machine-readable error code or exception class.",
    "message": "What went wrong and what to do about it.",
    "extractor": "scitune version that produced the row.",
    "schema_version": "Schema version of the row.",
}

assert set(ERROR_COLUMNS) == set(ERROR_FEATURES)
