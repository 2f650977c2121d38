"""Automatic steps (api and automation nodes) executed by the scheduler, with retries.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "runs": ["claim_due_runs", "execute_run", "prepare_run", "record_run"],
})
