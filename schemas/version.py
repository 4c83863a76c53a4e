"""Version constants written into every row's provenance."""

from importlib import metadata

# Bump when a column is renamed, dropped or changes meaning (see README "Schema changes").
SCHEMA_VERSION = 2


def extractor_version() -> str:
    """`scitune <package version>`, the `provenance.extractor` value."""
    try:
        return f"scitune {metadata.version('scitune')}"
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "scitune 0+unknown"
