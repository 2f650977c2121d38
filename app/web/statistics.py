"""运营数据: charts drawn in the browser by plotly.js, which the app serves from the installed plotly package.

Each chart is one `Chart` table from `app.services.stats.charts`; the page draws it, shows it as a
table, and `/statistics/<key>.csv` exports the same rows. No request leaves the server.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from functools import lru_cache
from datetime import timedelta
from pathlib import Path

import plotly
from flask import Blueprint, Response, abort, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from app.i18n import gettext
from app.services import stats
from app.services.catalog import SERVICE_TYPE_NAMES
from app.timeutil import local, parse_local

bp = Blueprint("statistics", __name__, url_prefix="/statistics")

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
MAX_RANGE_DAYS = 3 * 366
COLORS = ["#2fa4e7", "#73a839", "#dd5600", "#c71c22", "#6f42c1", "#20c997", "#fd7e14", "#6c757d", "#e83e8c",
          "#17a2b8"]


@bp.before_request
@login_required
def _require_stats_admin():
    """Super admins and statistics admins only; plotly.js itself is open to any logged-in user."""
    if request.endpoint != "statistics.plotly_js" and not (current_user.is_superuser or current_user.is_stats_admin):
        abort(403, "只有超级管理员和统计管理员可以查看运营数据")


@bp.app_template_global()
def personal_statistics():
    """The workbench's personal subset (see statistics/_personal.html)."""
    return stats.personal(current_user)


def _filter() -> tuple[stats.StatsFilter, list[str]]:
    """The filter from the query string (local dates, inclusive), with messages for what was ignored."""
    problems: list[str] = []
    f = stats.default_filter()
    start, end = f.start, f.end
    try:
        if request.args.get("from"):
            start = parse_local(request.args["from"])
        if request.args.get("to"):
            end = parse_local(request.args["to"]) + timedelta(days=1)
    except ValueError:
        problems.append("日期格式应为 YYYY-MM-DD，已使用最近 30 天")
        start, end = f.start, f.end
    if end <= start or (end - start).days > MAX_RANGE_DAYS:
        problems.append("时间范围无效（结束早于开始或超过 3 年），已使用最近 30 天")
        start, end = f.start, f.end
    service_type = request.args.get("type") or None
    if service_type and service_type not in SERVICE_TYPE_NAMES:
        service_type = None
    unit = request.args.get("unit")
    if unit not in stats.UNITS:
        days = (end - start).days
        unit = "day" if days <= 62 else "week" if days <= 366 else "month"
    return stats.StatsFilter(start, end, service_type, request.args.get("catalog", type=int) or None, unit), problems


def figure(chart: stats.Chart) -> dict:
    """The plotly.js figure of a chart: traces read straight from the chart's table."""
    x = [row[0] for row in chart.rows]
    # the legend sits above the plot, left-aligned, so it never meets the axis labels below (issue 17.15);
    # both axes make room for their tick labels and titles (automargin)
    layout = {"margin": {"l": 50, "r": 20, "t": 36, "b": 40}, "height": 340, "colorway": COLORS,
              "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
              "font": {"size": 12},
              "yaxis": {"title": {"text": chart.unit}, "rangemode": "tozero", "automargin": True}}
    if chart.kind == "pie":
        col = chart.series[0]
        # values inside the slices, names in the legend at the side: outside labels of thin slices collide
        data = [{"type": "pie", "labels": x, "values": [row[col] for row in chart.rows], "hole": 0.45,
                 "sort": False, "textinfo": "value", "textposition": "inside"}]
        layout.pop("yaxis")
        layout["legend"] = {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 0.5, "yanchor": "middle"}
        layout["margin"]["t"] = 10
    elif chart.kind == "hbar":
        col = chart.series[0]
        data = [{"type": "bar", "orientation": "h", "name": chart.columns[col], "y": x,
                 "x": [row[col] for row in chart.rows]}]
        layout.update(yaxis={"autorange": "reversed", "automargin": True},
                      xaxis={"title": {"text": chart.unit}, "automargin": True}, showlegend=False)
    else:
        trace = {"line": {"type": "scatter", "mode": "lines+markers"}}.get(chart.kind, {"type": "bar"})
        data = [{**trace, "name": chart.columns[col], "x": x, "y": [row[col] for row in chart.rows]}
                for col in chart.series]
        layout["barmode"] = "stack" if chart.kind == "stack" else "group"
        layout["xaxis"] = {"type": "category", "automargin": True, "nticks": 16}   # a month of days: every other
    return {"data": data, "layout": layout,
            "config": {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}}


def localized(chart: stats.Chart) -> stats.Chart:
    """The chart in the user's language: title, columns, note, unit and fixed labels in cells (status and type
    names); names users gave (services, steps, people) have no translation and stay as they are."""
    params = {k: gettext(v) if isinstance(v, str) else v for k, v in chart.title_params.items()}
    title = gettext(chart.title_format, **params) if chart.title_format else gettext(chart.title)
    rows = [[gettext(v) if isinstance(v, str) else v for v in row] for row in chart.rows]
    return replace(chart, title=title, columns=[gettext(c) for c in chart.columns], rows=rows,
                   note=gettext(chart.note) if chart.note else "", unit=gettext(chart.unit) if chart.unit else "")


@lru_cache(maxsize=1)
def plotly_style_ids() -> tuple[str, ...]:
    """Ids of the <style> blocks plotly.js would inject for its map libraries unless an element with that id is
    already on the page: the page carries such empty elements, so plotly injects no inline style (the CSP allows
    none) for maps this page never draws."""
    text = PLOTLY_JS.read_text(encoding="utf-8", errors="replace") if PLOTLY_JS.exists() else ""
    return tuple(dict.fromkeys(re.findall(r'getElementById\("([0-9a-f]{32,64})"\)\)\{var \w+=document\.createElement'
                                          r'\("style"\)', text)))


@bp.route("/")
def index():
    f, problems = _filter()
    charts = [localized(c) for c in stats.all_charts(f)]
    args = {k: v for k, v in request.args.items() if k in ("from", "to", "type", "catalog", "unit") and v}
    return render_template("statistics/index.html", charts=charts, figures={c.key: figure(c) for c in charts},
                           f=f, problems=problems, args=args, catalogs=stats.catalog_choices(),
                           start=local(f.start).date(), end=(local(f.end) - timedelta(days=1)).date(),
                           plotly_version=plotly.__version__, plotly_style_ids=plotly_style_ids())


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A cell as spreadsheets will not run it: text starting like a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@bp.route("/<key>.csv")
def export(key: str):
    build = stats.CHARTS.get(key)
    if build is None:
        abort(404)
    chart = build(_filter()[0])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(c) for c in chart.columns])
    writer.writerows([[csv_cell(v) for v in row] for row in chart.rows])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8",  # BOM: Excel reads UTF-8
                    headers={"Content-Disposition": f"attachment; filename={key}.csv"})


@bp.route("/plotly.min.js")
def plotly_js():
    """plotly.js from the installed wheel; the URL carries the version, so it may be cached for a year."""
    if not PLOTLY_JS.exists():      # a plotly without package_data: build the text once
        from plotly.offline import get_plotlyjs

        return Response(get_plotlyjs(), mimetype="application/javascript",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})
    response = send_file(PLOTLY_JS, mimetype="application/javascript", conditional=True, max_age=31536000)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def plotly_url() -> str:
    return url_for("statistics.plotly_js", v=plotly.__version__)


bp.add_app_template_global(plotly_url, "plotly_url")
