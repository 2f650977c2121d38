"""Other systems: configured APIs and their calls, API client apps and authentication, result callbacks.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "api_apps": ["authenticate", "clean_callback_hosts", "create_api_app", "issue_user_token", "reset_api_app_secret",
                 "verify_callback_token"],
    "apis": ["check_api", "check_system", "log_api_call", "masked_header_names", "masked_headers_text",
             "parse_headers", "send_api", "test_call_request"],
    "callbacks": ["check_callback_url", "claim_due_callbacks", "failed_callback_sns", "prepare_callback", "record_callback",
                  "send_callback"],
})
