"""Flows: YAML templates, deployed immutable versions, the back office's flow editor, the graph layout.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "bk_exchange": ["BkImport", "export_bk_flow", "import_bk_flows", "looks_like_bk_export"],
    "designer": ["designer_state", "preview_designer_edit", "revision", "save_designer_edit", "vocabulary"],
    "editor": ["check_flow_text", "delete_flow", "delete_version", "deploy", "deploy_flow", "deploy_form_answers",
               "export_flow", "import_flow", "import_flow_file", "notify_policy", "restore_version",
               "save_flow_from_editor", "services_using", "set_flow_status", "version_definition"],
    "graph": ["layout_definition"],
    "usage": ["check_api_removable", "check_dictionary_items_removable", "check_role_removable",
              "steps_without_processors"],
    "library": ["compiled_version", "export_flow_files", "get_version", "load_flow_files",
                "node_by_state_id", "state_id", "validate_files"],
})
