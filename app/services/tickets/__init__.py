"""Tickets: create and operate them (the only writer), read them, list them, their page, numbers, counters, comments.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "comments": ["comment_ticket"],
    "decisions": ["approve_node_result", "approve_step", "decision_value", "step_approvers"],
    "editing": ["edit_fields"],
    "followers": ["followers_of", "set_followers"],
    "lists": ["ListFilters", "TABS", "TicketSearch", "approval_results", "can_view", "default_tab", "human_duration",
              "list_tickets", "my_numbers", "recent_activity", "search_tickets", "services_for_filter",
              "service_names", "tickets_of_user", "UserTicketFilters", "VIEW_TYPES"],
    "operations": ["SOURCES", "create_ticket", "flow_of", "lock_ticket", "open_steps", "operate_step", "operate_ticket"],
    "page": ["allowed", "extra_fields", "logs_of", "ticket_page"],
    "queries": ["paginate"],
    "reading": ["attachment_for", "get_ticket", "ticket_number"],
    "results": ["ticket_url"],
})
