"""Fields of a flow's forms: values validated through the field registry, API-sourced options, uploaded files.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "api_choices": ["choice_errors"],
    "attachments": ["purge_abandoned_uploads", "remove_files", "safe_content_type"],
    "values": ["display", "field_context", "hidden_keys", "keep_uploads", "suggested_values"],
})
