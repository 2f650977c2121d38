"""Rule files: validated with file:line; the back office writes the same files (nothing written on error);
receivers are created with a secret shown once; the CLI checks the rules."""
from __future__ import annotations

import pytest
from alert_kit import logged_in

from app.services.alerts.rules import parse_rules_text
from app.flowdef.loader import FlowLoadError

BROKEN = """\
rules:
  - key: ok_rule
    name: fine
    source: alertmanager
    service: s
    creator: u
  - key: Bad Key
    name: x
    source: nagios
    service: s
    creator: u
    match: {severity: "~(unclosed"}
"""


def test_rule_errors_name_the_file_line_and_path():
    with pytest.raises(FlowLoadError) as caught:
        parse_rules_text(BROKEN, "prod.yaml")
    text = str(caught.value)
    assert "prod.yaml:7: rules.1.key: String should match pattern" in text
    assert "prod.yaml:9: rules.1.source: Input should be 'alertmanager', 'grafana' or 'generic'" in text
    assert "prod.yaml:12: rules.1.match: label 'severity': bad regular expression '(unclosed'" in text


def test_a_generic_rule_needs_its_mapping():
    with pytest.raises(FlowLoadError) as caught:
        parse_rules_text("rules:\n  - {key: g, name: g, source: generic, service: s, creator: u}\n", "g.yaml")
    assert str(caught.value) == "g.yaml:2: rules.0.generic: a generic rule needs a 'generic' mapping"


def test_the_shipped_example_rule_file_is_valid():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "alerts_yaml"
    files = sorted(folder.glob("*.yaml"))
    assert files
    for f in files:
        assert parse_rules_text(f.read_text(encoding="utf-8"), f.name)


def test_the_back_office_writes_valid_rule_files_and_refuses_broken_ones(alert_env):
    admin = logged_in(alert_env.app, "admin")
    token = _csrf(admin, "/admin/alerts/file/")
    bad = admin.post("/admin/alerts/file/", data={"csrf_token": token, "name": "new.yaml", "text": BROKEN})
    assert "new.yaml:9: rules.1.source" in bad.get_data(as_text=True)
    assert not (alert_env.rules_dir / "new.yaml").exists()
    good = BROKEN.split("  - key: Bad Key")[0]
    response = admin.post("/admin/alerts/file/", data={"csrf_token": token, "name": "new.yaml", "text": good})
    assert response.status_code == 302
    assert (alert_env.rules_dir / "new.yaml").read_text() == good
    clash = admin.post("/admin/alerts/file/", data={"csrf_token": token, "name": "other.yaml", "text": good},
                       follow_redirects=True)
    assert "规则 key 重复：ok_rule（已在 new.yaml 中）" in clash.get_data(as_text=True)
    page = admin.get("/admin/alerts/").get_data(as_text=True)
    assert "new.yaml" in page and "/alerts/alertmanager/prod" in page


def test_the_back_office_creates_a_receiver_and_shows_its_secret_once(alert_env):
    import re

    from alert_kit import am_alert, am_payload, post_json

    admin = logged_in(alert_env.app, "admin")
    token = _csrf(admin, "/admin/alerts/")
    page = admin.post("/admin/alerts/receiver/", data={"csrf_token": token, "kind": "alertmanager", "name": "staging"},
                      follow_redirects=True).get_data(as_text=True)
    secret = re.search(r"密钥（只显示这一次）：([A-Za-z0-9_-]+)", page).group(1)
    assert secret not in admin.get("/admin/alerts/").get_data(as_text=True)
    ok = post_json(alert_env.client, "/alerts/alertmanager/staging", am_payload("g", [am_alert("A", "f")]),
                   {"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200


def test_receivers_and_rules_are_for_super_admins_only(alert_env):
    assert logged_in(alert_env.app, "oncall").get("/admin/alerts/").status_code == 403


def test_cli_adds_a_receiver_and_validates_the_rules(alert_env):
    runner = alert_env.app.test_cli_runner()
    result = runner.invoke(args=["itsm", "alerts", "receiver-add", "alertmanager", "ops"])
    assert result.exit_code == 0 and "/alerts/alertmanager/ops" in result.output and "secret (shown once): " in result.output
    assert runner.invoke(args=["itsm", "alerts", "validate"]).output == "3 alert rules OK\n"
    (alert_env.rules_dir / "zz.yaml").write_text(BROKEN)
    result = runner.invoke(args=["itsm", "alerts", "validate"])
    assert result.exit_code != 0 and "zz.yaml:7: rules.1.key" in result.output


def _csrf(client, url: str) -> str:
    import re

    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_example_rule_opens_an_incident_on_the_demo_incident_service(demo):
    from pathlib import Path

    from alert_kit import am_alert, am_payload, post_json, rows

    from app.infra.uow import commit
    from app.models import Ticket
    from app.services.alerts import create_receiver

    demo.config["ALERTS_DIR"] = str(Path(__file__).resolve().parents[2] / "alerts_yaml")
    with demo.app_context():
        create_receiver("alertmanager", "prod", secret="example-secret-123456")
        commit()
    body = am_payload("g", [am_alert("NodeDown", "f1", severity="warning")])
    response = post_json(demo.test_client(), "/alerts/alertmanager/prod", body,
                         {"Authorization": "Bearer example-secret-123456"})
    assert response.status_code == 200
    (ticket,) = [t for t in rows(demo, Ticket) if t.source == "ALERT"]
    assert ticket.title == "NodeDown host1"
    assert ticket.values["urgency"] == "medium" and ticket.values["event_source"] == "monitor"
