"""运营数据: ticket statistics aggregated in the database, one query per chart.

Every function returns a `Chart`: a table (columns + rows) that the page shows under the
chart, exports as CSV, and draws, so the three never disagree. Queries GROUP BY in SQL;
dates are bucketed per day/week/month in the configured time zone (PostgreSQL converts
with the zone's rules; SQLite shifts by the zone's current UTC offset). Percentiles are
nearest-rank: percentile_disc within GROUP BY on PostgreSQL, window functions
(row_number/count over a partition) on SQLite; both give rank ceil(n * p).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, DateTime, case, cast, func, or_, select, true
from sqlalchemy.orm import aliased

from app.engine.state import TICKET_STATUS_NAMES
from app.extensions import db
from app.infra.database import is_postgres
from app.models import Catalog, CatalogService, Service, StepProcessor, Ticket, TicketStep, User
from app.services.catalog.browse import SERVICE_TYPE_NAMES
from app.services.tickets import queries
from app.services.tickets.counters import handled_totals
from app.services.tickets.lists import capped_text
from app.timeutil import local, utcnow

OPEN_STATUSES = ("RUNNING", "SUSPENDED")
SLA_DAYS = (1, 3, 7, 30)
UNITS = {"day": "按天", "week": "按周", "month": "按月"}


@dataclass(frozen=True)
class StatsFilter:
    """Tickets created in [start, end) (naive UTC), optionally of one service type and catalog subtree."""

    start: datetime
    end: datetime
    service_type: str | None = None
    catalog_id: int | None = None
    unit: str = "day"


@dataclass
class Chart:
    key: str
    title: str
    kind: str                    # bar | stack | line | pie | hbar | group
    columns: list[str]
    rows: list[list]
    series: list[int] = field(default_factory=list)     # column indexes drawn as series; column 0 is the x axis
    note: str = ""
    unit: str = ""               # y-axis label
    title_format: str = ""       # the title with {placeholders}, for translating it (title_params fill them)
    title_params: dict = field(default_factory=dict)


def default_filter(today: date | None = None, days: int = 30) -> StatsFilter:
    """The last `days` local days, today included."""
    from app.timeutil import parse_local

    today = today or local(utcnow()).date()
    end = parse_local((today + timedelta(days=1)).isoformat())
    return StatsFilter(start=end - timedelta(days=days), end=end)


# --- SQL building blocks that work on SQLite and PostgreSQL ---------------------------------

def seconds_between(start, end) -> ColumnElement:
    if is_postgres():
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def bucket(column, unit: str) -> ColumnElement:
    """The local day (YYYY-MM-DD), the Monday of the local week, or the local month (YYYY-MM) of a UTC time."""
    if is_postgres():
        from flask import current_app

        zone = current_app.config["TIMEZONE"]
        local_time = func.timezone(zone, func.timezone("UTC", column))
        truncated = func.date_trunc(unit, local_time)
        return func.to_char(truncated, "YYYY-MM" if unit == "month" else "YYYY-MM-DD")
    now = utcnow()
    shift = f"{round((local(now) - now).total_seconds() / 60):+d} minutes"
    if unit == "month":
        return func.strftime("%Y-%m", column, shift)
    if unit == "week":
        return func.date(column, shift, "-6 days", "weekday 1")
    return func.strftime("%Y-%m-%d", column, shift)


def _catalog_ids(catalog_id: int):
    """The catalog and its descendants, as a recursive CTE."""
    tree = select(Catalog.id).where(Catalog.id == catalog_id).cte("catalog_tree", recursive=True)
    child = aliased(Catalog)
    tree = tree.union_all(select(child.id).where(child.parent_id == tree.c.id))
    return select(tree.c.id)


def _ticket_filters(f: StatsFilter, *, dates: bool = True) -> list[ColumnElement]:
    out = []
    if dates:
        out += [Ticket.created_at >= f.start, Ticket.created_at < f.end]
    if f.service_type:
        out.append(Ticket.service_type == f.service_type)
    if f.catalog_id:
        ids = _catalog_ids(f.catalog_id)
        out.append(or_(Ticket.catalog_id.in_(ids),
                       Ticket.service_id.in_(select(CatalogService.service_id).where(CatalogService.catalog_id.in_(ids)))))
    return out


def _percentile_rank(count, pct: int) -> ColumnElement:
    """Nearest rank: ceil(n * pct / 100) in integer arithmetic."""
    return (count * pct + 99) // 100


def _buckets(f: StatsFilter) -> list[str]:
    """Every bucket label in the range, so empty days show as zero."""
    first, last = local(f.start).date(), local(f.end - timedelta(seconds=1)).date()
    labels, day = [], first
    while day <= last:
        if f.unit == "month":
            label = day.strftime("%Y-%m")
        elif f.unit == "week":
            label = (day - timedelta(days=day.weekday())).isoformat()
        else:
            label = day.isoformat()
        if label not in labels:
            labels.append(label)
        day += timedelta(days=1)
    return labels


def _hours(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 2)


# --- charts ----------------------------------------------------------------------------------

def volume_by_type(f: StatsFilter) -> Chart:
    inner = select(bucket(Ticket.created_at, f.unit).label("b"), Ticket.service_type.label("t")) \
        .where(*_ticket_filters(f)).subquery()
    counts = {(b, t): n for b, t, n in db.session.execute(
        select(inner.c.b, inner.c.t, func.count()).group_by(inner.c.b, inner.c.t))}
    types = [t for t in SERVICE_TYPE_NAMES if not f.service_type or t == f.service_type]
    rows = [[b] + [counts.get((b, t), 0) for t in types] + [sum(counts.get((b, t), 0) for t in types)]
            for b in _buckets(f)]
    return Chart("volume_by_type", f"单据量趋势（按类型，{UNITS[f.unit]}）", "stack",
                 ["日期"] + [SERVICE_TYPE_NAMES[t] for t in types] + ["合计"], rows,
                 series=list(range(1, len(types) + 1)), note="按提单时间统计", unit="单据数",
                 title_format="单据量趋势（按类型，{unit}）", title_params={"unit": UNITS[f.unit]})


def volume_by_service(f: StatsFilter) -> Chart:
    inner = select(bucket(Ticket.created_at, f.unit).label("b"), Ticket.service_id.label("s")) \
        .where(*_ticket_filters(f)).subquery()
    result = db.session.execute(
        select(inner.c.b, Service.name, func.count()).join(Service, Service.id == inner.c.s)
        .group_by(inner.c.b, Service.id, Service.name).order_by(Service.name)).all()
    names = sorted({name for _, name, _ in result})
    counts = {(b, name): n for b, name, n in result}
    rows = [[b] + [counts.get((b, name), 0) for name in names] for b in _buckets(f)]
    return Chart("volume_by_service", f"单据量趋势（按服务，{UNITS[f.unit]}）", "line", ["日期"] + names, rows,
                 series=list(range(1, len(names) + 1)), note="按提单时间统计", unit="单据数",
                 title_format="单据量趋势（按服务，{unit}）", title_params={"unit": UNITS[f.unit]})


def status_distribution(f: StatsFilter) -> Chart:
    result = dict(db.session.execute(select(Ticket.status, func.count()).where(*_ticket_filters(f))
                                     .group_by(Ticket.status)).all())
    rows = [[TICKET_STATUS_NAMES.get(s, s), result[s]] for s in TICKET_STATUS_NAMES if result.get(s)]
    rows += [[s, n] for s, n in result.items() if s not in TICKET_STATUS_NAMES]
    return Chart("status", "状态分布", "pie", ["状态", "单据数"], rows, series=[1], note="按提单时间统计")


def top_services(f: StatsFilter, limit: int = 10) -> Chart:
    n = func.count(Ticket.id)
    result = db.session.execute(
        select(Service.name, Service.service_type, n).join(Service, Service.id == Ticket.service_id)
        .where(*_ticket_filters(f)).group_by(Service.id, Service.name, Service.service_type)
        .order_by(n.desc(), Service.name).limit(limit)).all()
    rows = [[name, SERVICE_TYPE_NAMES.get(t, t), count] for name, t, count in result]
    return Chart("top_services", f"服务单据量 Top {limit}", "hbar", ["服务", "类型", "单据数"], rows, series=[2],
                 title_format="服务单据量 Top {limit}", title_params={"limit": limit},
                 note="按提单时间统计", unit="单据数")


def _percentiles(duration, partition, where, *, join=None, extra=()):
    """(group key..., count, avg, P50, P90) per partition, nearest-rank percentiles of `duration`.

    PostgreSQL: percentile_disc within GROUP BY (the smallest value whose cumulative share reaches
    the fraction, i.e. rank ceil(n * p), nearest rank), one sort per group instead of two window
    passes over the whole range. SQLite: row_number/count windows, then the ranks picked out.
    Returns a subquery with columns g0.., n, a, p50, p90, and one per `extra` (label, value, aggregate).
    """
    keys = [c.label(f"g{i}") for i, c in enumerate(partition)]
    if is_postgres():
        carried = [aggregate(value).label(label) for label, value, aggregate in extra]
        query = select(*keys, *carried, func.count().label("n"), func.avg(duration).label("a"),
                       func.percentile_disc(0.5).within_group(duration).label("p50"),
                       func.percentile_disc(0.9).within_group(duration).label("p90"))
        query = (query.select_from(join) if join is not None else query).where(*where).group_by(*partition)
        return query.subquery()
    carried = [value.label(label) for label, value, _ in extra]
    inner = select(*keys, *carried, duration.label("d"),
                   func.row_number().over(partition_by=partition, order_by=duration).label("rn"),
                   func.count().over(partition_by=partition).label("n"))
    inner = (inner.select_from(join) if join is not None else inner).where(*where).subquery()
    groups = [inner.c[f"g{i}"] for i in range(len(partition))]
    carried = [aggregate(inner.c[label]).label(label) for label, _, aggregate in extra]
    return select(*groups, *carried, func.count().label("n"), func.avg(inner.c.d).label("a"),
                  func.max(case((inner.c.rn == _percentile_rank(inner.c.n, 50), inner.c.d))).label("p50"),
                  func.max(case((inner.c.rn == _percentile_rank(inner.c.n, 90), inner.c.d))).label("p90")) \
        .group_by(*groups).subquery()


def handling_time_by_service(f: StatsFilter) -> Chart:
    """Created → ended, for finished tickets: count, average, median (P50) and P90, in hours."""
    per = _percentiles(seconds_between(Ticket.created_at, Ticket.end_at), (Ticket.service_id,),
                       [Ticket.status == "FINISHED", Ticket.end_at.is_not(None), *_ticket_filters(f)])
    result = db.session.execute(
        select(Service.name, per.c.n, per.c.a, per.c.p50, per.c.p90).join(Service, Service.id == per.c.g0)
        .order_by(per.c.a.desc(), Service.name)).all()
    rows = [[name, n, _hours(avg), _hours(p50), _hours(p90)] for name, n, avg, p50, p90 in result]
    return Chart("handling_by_service", "服务处理耗时（小时）", "group",
                 ["服务", "已结束单据", "平均", "P50", "P90"], rows, series=[2, 3, 4],
                 note="已结束（完成）的单据，从提单到结束", unit="小时")


def handling_time_by_step(f: StatsFilter, limit: int = 20) -> Chart:
    """Opened → closed for every finished visit of a manual (or automatic) step, per service and node."""
    per = _percentiles(seconds_between(TicketStep.opened_at, TicketStep.closed_at),
                       (Ticket.service_id, TicketStep.node_key),
                       [TicketStep.closed_at.is_not(None), TicketStep.kind != "start", *_ticket_filters(f)],
                       join=TicketStep.__table__.join(Ticket.__table__, Ticket.id == TicketStep.ticket_id),
                       extra=[("c", TicketStep.name, func.max)])
    result = db.session.execute(
        select(Service.name, per.c.c, per.c.n, per.c.a, per.c.p50, per.c.p90)
        .join(Service, Service.id == per.c.g0)
        .order_by(per.c.a.desc(), Service.name, per.c.g1).limit(limit)).all()
    rows = [[f"{service} · {step}", n, _hours(a), _hours(p50), _hours(p90)]
            for service, step, n, a, p50, p90 in result]
    return Chart("handling_by_step", f"步骤处理耗时（小时，最慢 {limit} 个）", "group",
                 ["服务 · 步骤", "处理次数", "平均", "P50", "P90"], rows, series=[2, 3, 4],
                 note="已关闭的步骤，从步骤开始到处理完成；不含提单步骤", unit="小时",
                 title_format="步骤处理耗时（小时，最慢 {limit} 个）", title_params={"limit": limit})


def open_longer_than(f: StatsFilter, days: tuple[int, ...] = SLA_DAYS, now: datetime | None = None) -> Chart:
    """Tickets still open (running or suspended) for more than N days, per service type, as of now."""
    now = now or utcnow()
    columns = [func.sum(case((Ticket.created_at < now - timedelta(days=d), 1), else_=0)) for d in days]
    result = {t: list(counts) for t, *counts in db.session.execute(
        select(Ticket.service_type, *columns).where(Ticket.status.in_(OPEN_STATUSES), *_ticket_filters(f, dates=False))
        .group_by(Ticket.service_type)).all()}
    types = [t for t in SERVICE_TYPE_NAMES if not f.service_type or t == f.service_type]
    rows = [[SERVICE_TYPE_NAMES[t]] + [int(n or 0) for n in result.get(t, [0] * len(days))] for t in types]
    return Chart("open_longer", "超时未结单据（当前仍在处理或挂起）", "group",
                 ["类型"] + [f"超过 {d} 天" for d in days], rows, series=list(range(1, len(days) + 1)),
                 note="不受时间范围限制：统计此刻仍未结束的单据", unit="单据数")


def processor_workload(f: StatsFilter, limit: int = 20) -> Chart:
    """Per processor: steps handled in the range (and their average time), and steps waiting for them now."""
    handled = func.count(TicketStep.id)
    done = {u: (n, avg) for u, n, avg in db.session.execute(
        select(TicketStep.closed_by, handled, func.avg(seconds_between(TicketStep.opened_at, TicketStep.closed_at)))
        .join(Ticket, Ticket.id == TicketStep.ticket_id)
        .where(TicketStep.closed_at >= f.start, TicketStep.closed_at < f.end, TicketStep.kind != "start",
               TicketStep.closed_by.is_not(None), *_ticket_filters(f, dates=False))
        .group_by(TicketStep.closed_by).order_by(handled.desc()).limit(limit))}
    waiting = dict(db.session.execute(
        select(StepProcessor.username, func.count()).join(Ticket, Ticket.id == StepProcessor.ticket_id)
        .where(*_ticket_filters(f, dates=False)).group_by(StepProcessor.username)
        .order_by(func.count().desc()).limit(limit)).all())
    users = sorted(set(done) | set(waiting), key=lambda u: (-(done.get(u, (0,))[0]), -waiting.get(u, 0), u))
    rows = [[u, done.get(u, (0, None))[0], waiting.get(u, 0), _hours(done.get(u, (0, None))[1])]
            for u in users[:limit]]
    return Chart("workload", "处理人工作量", "group", ["处理人", "已处理步骤", "当前待处理", "平均处理耗时（小时）"],
                 rows, series=[1, 2], note="已处理：时间范围内完成的步骤；待处理：此刻等待其处理或认领的步骤",
                 unit="步骤数")


def sla_attainment(f: StatsFilter) -> Chart:
    """Service level attainment per service, priority and month: clocks met and breached (decided clocks only)."""
    from app.services.sla.tickets import attainment

    groups = attainment(f.start, f.end, f.service_type)
    names = {"service": "服务", "priority": "优先级", "month": "月份"}
    rows = [[f"{names[g]}：{r['key']}", r["met"], r["breached"], r["rate"]] for g in names for r in groups[g]]
    return Chart("sla_attainment", "服务级别达成率", "group", ["分组", "达成", "超时", "达成率（%）"], rows,
                 series=[1, 2], note="响应与解决时限分别计数；仍在计时的不计入", unit="时限数")


def _votes():
    """Every approval vote as a row (value = the vote object): PostgreSQL json_array_elements, SQLite json_each."""
    if is_postgres():
        votes = func.json_array_elements(TicketStep.approval["votes"]).table_valued("value").alias("vote")
        return votes, lambda key: votes.c.value.op("->>")(key)
    votes = func.json_each(TicketStep.approval, "$.votes").table_valued("value").alias("vote")
    return votes, lambda key: func.json_extract(votes.c.value, f"$.{key}")


def approval_time_by_approver(f: StatsFilter, limit: int = 20) -> Chart:
    """Per approver: decisions on approval nodes (通过/拒绝) and the time from the step opening to their vote."""
    votes, member = _votes()
    voted_at = cast(member("at"), DateTime) if is_postgres() else member("at")
    result_of = member("result")
    per = _percentiles(seconds_between(TicketStep.opened_at, voted_at), (member("username"),),
                       [TicketStep.kind == "approval", TicketStep.approval.is_not(None), *_ticket_filters(f)],
                       join=TicketStep.__table__.join(Ticket.__table__, Ticket.id == TicketStep.ticket_id)
                       .join(votes, true()),
                       extra=[("agreed", case((result_of == "true", 1), else_=0), func.sum),
                              ("rejected", case((result_of == "false", 1), else_=0), func.sum)])
    result = db.session.execute(
        select(per.c.g0, per.c.n, per.c.agreed, per.c.rejected, per.c.a, per.c.p50, per.c.p90)
        .order_by(per.c.n.desc(), per.c.g0).limit(limit)).all()
    rows = [[u, count, int(agreed or 0), int(rejected or 0), _hours(avg), _hours(p50), _hours(p90)]
            for u, count, agreed, rejected, avg, p50, p90 in result]
    return Chart("approval_by_approver", "审批人处理耗时（小时）", "group",
                 ["审批人", "审批次数", "通过", "拒绝", "平均", "P50", "P90"], rows, series=[4, 5, 6],
                 note="审批节点（或签、会签）上每位审批人的决定，从节点开始到其审批；按提单时间统计", unit="小时")


CHARTS = {      # in page order
    "volume_by_type": volume_by_type, "volume_by_service": volume_by_service, "status": status_distribution,
    "top_services": top_services, "handling_by_service": handling_time_by_service, "open_longer": open_longer_than,
    "handling_by_step": handling_time_by_step, "workload": processor_workload, "sla_attainment": sla_attainment,
    "approval_by_approver": approval_time_by_approver,
}


def all_charts(f: StatsFilter) -> list[Chart]:
    return [build(f) for build in CHARTS.values()]


def catalog_choices() -> list[tuple[int, str]]:
    """(id, indented name) of every catalog, for the filter."""
    rows = db.session.execute(select(Catalog.id, Catalog.name, Catalog.level).order_by(Catalog.level, Catalog.order,
                                                                                      Catalog.id)).all()
    return [(cid, "　" * (level or 0) + name) for cid, name, level in rows]


# --- the workbench's personal subset --------------------------------------------------------

@dataclass
class Personal:
    created: Chart
    handled: int
    waiting: int                 # capped: queries.COUNT_CAP + 1 means "more"
    avg_step_hours: float | None

    @property
    def waiting_text(self) -> str:

        return capped_text(self.waiting)


def personal(user: User, days: int = 30) -> Personal:
    """My tickets of the last `days` days by status, steps I handled and their average time, steps waiting for me."""
    f = default_filter(days=days)
    created = dict(db.session.execute(
        select(Ticket.status, func.count()).where(Ticket.creator == user.username, Ticket.created_at >= f.start)
        .group_by(Ticket.status)).all())
    rows = [[TICKET_STATUS_NAMES.get(s, s), created[s]] for s in TICKET_STATUS_NAMES if created.get(s)]

    n, seconds = handled_totals(user.username, since=f.start)        # running totals per local day
    waiting = db.session.execute(select(queries.capped_count(queries.waiting_for(queries.PENDING_STATUSES).bare)),
                                 queries.params(user.username)).scalar_one()
    chart = Chart("personal_created", f"我近 {days} 天提交的单据", "pie", ["状态", "单据数"], rows, series=[1])
    return Personal(chart, n, waiting, _hours(seconds / n if n else None))

