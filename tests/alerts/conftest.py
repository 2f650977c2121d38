"""Alert fixtures: an incident service, a rule directory, receivers with known secrets."""
from __future__ import annotations

import pytest
from alert_kit import FLOW, SECRET, rules_text

from app.infra.uow import commit


@pytest.fixture
def alert_env(app, make_service, tmp_path, monkeypatch):
    """The incident service, users (alertbot, oncall, admin), rules in a tmp ALERTS_DIR, and three receivers."""
    from app.services.alerts import create_receiver
    from app.services.people.users import create_user, find_user

    rules_dir = tmp_path / "alerts_yaml"
    rules_dir.mkdir()
    (rules_dir / "rules.yaml").write_text(rules_text(), encoding="utf-8")
    monkeypatch.setitem(app.config, "ALERTS_DIR", str(rules_dir))
    make_service(FLOW, users=("alertbot", "oncall", "admin"))
    with app.app_context():
        admin = find_user("admin")
        admin.is_superuser = True
        create_receiver("alertmanager", "prod", secret=SECRET)
        create_receiver("grafana", "grafana", auth="basic", username="grafana", secret=SECRET)
        create_receiver("generic", "hooks", secret=SECRET)
        commit()
    env = type("AlertEnv", (), {})()
    env.app, env.rules_dir = app, rules_dir
    env.client = app.test_client()
    env.write_rules = lambda text: (rules_dir / "rules.yaml").write_text(text, encoding="utf-8")
    return env
