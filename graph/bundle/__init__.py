"""Bundles: the NDJSON format data goes in and out by (docs/bundle-format.md).

`validation` checks a bundle line by line and across lines; `records` describes every kind;
`index` is the on-disk index the cross-line checks use; `idnumber` checks resident ID numbers.
"""

from graph.bundle.validation import (
    Rejection,
    ValidationReport,
    ValidRecord,
    numbered,
    parse_line,
    records,
    validate_bundle,
)

__all__ = ["Rejection", "ValidRecord", "ValidationReport", "numbered", "parse_line", "records", "validate_bundle"]
