"""People: accounts, roles (general, CMDB, admin), the directory the engine resolves processors with.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "logins": ["log_in"],
    "directory": ["general_role_keys", "general_roles", "search_users", "spec_usernames", "user_choices",
                  "user_labels"],
    "roles": ["check_admin_roles_change", "check_general_role_key", "cmdb_source", "cmdb_sync_due",
              "fetch_cmdb_roles", "record_scheduled_cmdb_sync", "set_role_members", "sync_cmdb_roles"],
    "users": ["add_role_member", "authenticate", "check_directory_entry", "create_user", "end_sessions",
              "find_user", "import_directory", "outside_user", "session_user", "set_password"],
})
