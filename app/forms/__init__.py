"""Forms built at runtime from flow field definitions (HTML and JSON share them).

Importing the type modules fills `FIELD_TYPE_REGISTRY`.
"""
from . import types_basic, types_choice, types_composite  # noqa: F401  (registration)
from .builder import (
    RESERVED_FIELD_KEYS,
    build_form,
    display_value,
    form_initial,
    form_values,
    json_type_errors,
    payload_formdata,
    validate_values,
)
from .context import FieldContext
from .live import hide_rules, multi_valued, submitted_values
from .registry import FIELD_TYPE_REGISTRY, FieldType, field_type
from .sanitize import clean_html

__all__ = [
    "FIELD_TYPE_REGISTRY",
    "FieldContext",
    "FieldType",
    "RESERVED_FIELD_KEYS",
    "build_form",
    "clean_html",
    "display_value",
    "field_type",
    "form_initial",
    "form_values",
    "hide_rules",
    "json_type_errors",
    "multi_valued",
    "payload_formdata",
    "submitted_values",
    "validate_values",
]
