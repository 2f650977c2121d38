"""The system: init and demo data, settings, the audit log, data dictionaries.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "audit": ["action_name", "object_name", "record", "snapshot"],
    "dictionaries": ["load_dictionary_files"],
    "dictionary_items": ["ItemRow", "depth_of", "rows_from_form", "rows_of", "save_items"],
    "dictionary_admin": ["check_dictionary_change", "check_key_unique", "check_service", "items_tree",
                         "service_type_choices"],
    "settings": ["CACHE_CLEARED_AT", "attachment_settings", "clear_cache", "get_setting",
                 "save_attachment_settings"],
    "setup": ["init_system", "migrate_to_head"],
})
