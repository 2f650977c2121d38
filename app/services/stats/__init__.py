"""Operational statistics (运营数据) and the back office's overview numbers.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "admin_home": ["overview"],
    "charts": ["CHARTS", "Chart", "StatsFilter", "UNITS", "all_charts", "catalog_choices", "default_filter",
               "personal"],
})
