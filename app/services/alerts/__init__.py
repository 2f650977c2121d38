"""Alerts become incidents: rule files, receivers and intake, processing the queue, what pages read.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "rules": ["RuleError", "load_rules", "parse_rules_text", "rule_files", "read_rule_file", "save_rule_file"],
    "receivers": ["authenticate_receiver", "create_receiver",
                  "list_receivers", "payload_counts", "rotate_secret", "store_payload"],
    "processing": ["claim_due_payloads", "claim_payload", "process_payload", "record_payload_failure",
                   "retry_payloads"],
    "reading": ["recent_payloads", "ticket_alerts"],
})
