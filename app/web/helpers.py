"""Template filters and globals: status names, times, badges."""
from __future__ import annotations

import re

from flask import Flask
from markupsafe import Markup, escape

from app.engine.state import OPERATION_NAMES, STEP_STATUS_NAMES, TICKET_STATUS_NAMES
from app.forms import hide_rules
from app.services.catalog import SERVICE_TYPE_NAMES
from app.timeutil import fmt

_TAG = re.compile(r"<[A-Za-z!/]")

STATUS_BADGE = {
    "RUNNING": "primary", "SUSPENDED": "warning", "FINISHED": "success", "TERMINATED": "danger",
    "REVOKED": "secondary", "RECEIVING": "info", "DISTRIBUTING": "info", "WAIT": "light", "FAILED": "danger",
    "SUSPEND": "warning",
}

# where a log line came from (ticket_logs.source), as users read it
LOG_SOURCE_NAMES = {"WEB": "网页", "MOBILE": "移动端", "API": "API", "SYS": "系统"}


def register_template_helpers(app: Flask) -> None:
    from app.i18n import LANGUAGES, get_locale, gettext
    from app.services import sla
    from app.services.tickets import human_duration, ticket_number

    app.jinja_env.globals["_"] = gettext
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.filters["dt"] = lambda v: fmt(v) or ""
    app.jinja_env.filters["sla_left"] = lambda t: sla.time_to_breach(t)
    app.jinja_env.filters["duration"] = lambda s: gettext_duration(human_duration(s))
    app.jinja_env.filters["ticket_status"] = lambda s: gettext(TICKET_STATUS_NAMES.get(s, s))
    app.jinja_env.filters["step_status"] = lambda s: gettext(STEP_STATUS_NAMES.get(s, s))
    app.jinja_env.filters["service_type"] = lambda s: gettext(SERVICE_TYPE_NAMES.get(s, s))
    app.jinja_env.filters["op_name"] = lambda s: gettext(OPERATION_NAMES.get(s, s))
    app.jinja_env.filters["badge"] = lambda s: STATUS_BADGE.get(s, "secondary")
    app.jinja_env.filters["log_source"] = lambda s: gettext(LOG_SOURCE_NAMES.get(s, s))
    app.jinja_env.globals["SERVICE_TYPE_NAMES"] = SERVICE_TYPE_NAMES
    app.jinja_env.globals["table_rows"] = table_rows
    app.jinja_env.globals["ticket_number"] = ticket_number
    app.jinja_env.globals["hide_rules"] = hide_rules
    app.jinja_env.filters["richtext"] = richtext


def richtext(value) -> Markup:
    """A stored RICHTEXT value as HTML, sanitized again on the way out (rows written before sanitizing existed).

    Plain text (typed into a textarea without the editor, or sent by the API) keeps its line breaks."""
    from app.forms import clean_html

    text = "" if value is None else str(value)
    if not _TAG.search(text):
        return escape(text).replace("\n", Markup("<br>\n"))
    return Markup(clean_html(text))


def table_rows(flow, node_key: str, field_key: str, value) -> tuple[list[str], list[list[str]]]:
    """(column names, rows of cell texts) of a stored TABLE/CUSTOMTABLE value, for the ticket page."""
    from app.forms import field_type

    fdef = next(f for f in flow.node(node_key).fields if f.key == field_key)
    return [c.name for c in fdef.columns], field_type(fdef.type).display_rows(value, fdef)


def gettext_duration(text: str) -> str:
    """"3.5 小时" -> "3.5 hours" in English."""
    from app.i18n import get_locale

    if get_locale() != "en":
        return text
    return text.replace(" 分钟", " min").replace(" 小时", " h").replace(" 天", " days")
