"""The service catalog: what requesters may submit, and the back office's services and catalog tree.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "bk_services": ["BkService", "import_bk_service", "looks_like_bk_service"],
    "browse": ["DISPLAY_TYPES", "SERVICE_TYPE_NAMES", "builtin_approval_service", "display_roles", "catalog_tree", "create_catalog", "ensure_root_catalog", "get_service", "publish_service",
               "service_for_submit", "submittable_services"],
    "manage": ["add_services_to_catalog", "catalog_choices", "catalog_rows", "check_catalog_deletable",
               "check_catalog_parent", "check_service_deletable", "fix_catalog_levels", "move_catalog",
               "move_service_in_catalog", "remove_service_from_catalog", "services_not_in",
               "set_service_catalogs"],
})
