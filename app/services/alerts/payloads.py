"""What a received body says, in one shape for every source: alert groups, each with its alerts.

Alertmanager's webhook (version 4) and Grafana alerting's webhook carry one group per POST
(`groupKey`, `alerts[]` with `fingerprint`, `status`, `labels`, `annotations`, `startsAt`,
`endsAt`, and a link back: `generatorURL`, Grafana's `panelURL`/`dashboardURL`). A generic body is read
through the rule's `generic` mapping and grouped by its `group_by` labels.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from app.integrations.templating import lookup

from .rules import GenericMapping

NO_TIME = "0001-01-01T00:00:00Z"       # Alertmanager's "not ended"


@dataclass(frozen=True)
class IncomingAlert:
    fingerprint: str
    status: str                        # firing | resolved
    labels: dict
    annotations: dict
    starts_at: datetime | None
    ends_at: datetime | None
    url: str


@dataclass(frozen=True)
class IncomingGroup:
    group_key: str
    labels: dict                       # the labels every alert of the group shares (the rule matches on them)
    annotations: dict
    alerts: tuple[IncomingAlert, ...]


def shape_problem(kind: str, body) -> str:
    """Why `body` is not a `kind` notification ("" when it is); the generic shape is checked per rule later."""
    if not isinstance(body, dict):
        return "请求体必须是 JSON 对象"
    if kind == "generic":
        return ""
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        return "缺少 alerts 列表（Alertmanager/Grafana webhook 格式）"
    for i, alert in enumerate(alerts):
        if not isinstance(alert, dict) or not isinstance(alert.get("labels", {}), dict):
            return f"alerts[{i}] 必须是带 labels 对象的 JSON 对象"
        if alert.get("status") not in ("firing", "resolved"):
            return f"alerts[{i}].status 必须是 firing 或 resolved"
    return ""


def parse_time(value) -> datetime | None:
    """RFC 3339 → naive UTC (as stored); Alertmanager's zero time and anything unreadable → None."""
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    text = value.strip().replace("Z", "+00:00")
    if "." in text:                    # Go writes nanoseconds; Python reads at most microseconds
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits):]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _strings(mapping) -> dict:
    return {str(k): str(v) for k, v in mapping.items()} if isinstance(mapping, dict) else {}


def _common(dicts: list[dict]) -> dict:
    if not dicts:
        return {}
    first = dicts[0]
    return {k: v for k, v in first.items() if all(d.get(k) == v for d in dicts[1:])}


def _fingerprint(labels: dict) -> str:
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]


def webhook_group(body: dict) -> IncomingGroup:
    """An Alertmanager or Grafana notification as one group."""
    alerts = []
    for raw in body.get("alerts", []):
        labels = _strings(raw.get("labels"))
        url = raw.get("generatorURL") or raw.get("panelURL") or raw.get("dashboardURL") or ""
        alerts.append(IncomingAlert(
            fingerprint=str(raw.get("fingerprint") or _fingerprint(labels))[:128],
            status="resolved" if raw.get("status") == "resolved" else "firing",
            labels=labels, annotations=_strings(raw.get("annotations")),
            starts_at=parse_time(raw.get("startsAt")), ends_at=parse_time(raw.get("endsAt")),
            url=str(url) if str(url).startswith(("http://", "https://")) else ""))
    labels = _strings(body.get("commonLabels")) or _common([a.labels for a in alerts])
    group_key = str(body.get("groupKey") or json.dumps(_strings(body.get("groupLabels")) or labels, sort_keys=True))
    return IncomingGroup(group_key=group_key[:255], labels=labels,
                         annotations=_strings(body.get("commonAnnotations")) or _common([a.annotations for a in alerts]),
                         alerts=tuple(alerts))


def generic_groups(body: dict, mapping: GenericMapping) -> list[IncomingGroup]:
    """A generic body read through a rule's mapping, grouped by `group_by` labels (else one group per alert)."""
    raws = lookup(body, mapping.alerts) if mapping.alerts else [body]
    if not isinstance(raws, list):
        raise ValueError(f"generic 映射的 alerts 路径 {mapping.alerts!r} 不是列表")
    groups: dict[str, list[IncomingAlert]] = {}
    for raw in raws:
        if not isinstance(raw, dict):
            raise ValueError("generic 告警必须是 JSON 对象")
        labels = _strings(lookup(raw, mapping.labels))
        status = str(lookup(raw, mapping.status) or "")
        fingerprint = lookup(raw, mapping.fingerprint)
        url = str(lookup(raw, mapping.url) or "")
        alert = IncomingAlert(
            fingerprint=str(fingerprint if fingerprint not in (None, "") else _fingerprint(labels))[:128],
            status="resolved" if status in mapping.resolved_values else "firing",
            labels=labels, annotations=_strings(lookup(raw, mapping.annotations)),
            starts_at=parse_time(lookup(raw, mapping.starts_at)), ends_at=parse_time(lookup(raw, mapping.ends_at)),
            url=url if url.startswith(("http://", "https://")) else "")
        key = (json.dumps({k: labels.get(k, "") for k in mapping.group_by}, sort_keys=True)
               if mapping.group_by else alert.fingerprint)
        groups.setdefault(key, []).append(alert)
    return [IncomingGroup(group_key=("generic:" + key)[:255], labels=_common([a.labels for a in alerts]),
                          annotations=_common([a.annotations for a in alerts]), alerts=tuple(alerts))
            for key, alerts in groups.items()]
