"""Service levels: agreements and calendars (sla_yaml/), ticket clocks, warnings, breaches, escalation.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "files": ["read_texts", "save_sla_file", "sla_config", "validate_sla_files"],
    "clocks": ["CLOCK_NAMES", "STATE_NAMES"],
    "alerts": ["check_ticket", "due_tickets"],
    "outcomes": ["rebuild_outcomes"],
    "tickets": ["about_to_breach", "attainment", "change_priority", "priorities", "reapply", "rebuild",
                "sla_summary", "ticket_clocks", "time_to_breach"],
})
