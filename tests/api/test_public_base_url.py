"""ticket_url starts with the configured public address (ITSM_BASE_URL), else the request's host (issue 17.2)."""
import logging

import pytest

from app import create_app
from app.infra.public_url import DEVELOPMENT_BASE_URL, public_base_url

FIELDS = [{"key": "title", "value": "CRM"}, {"key": "system", "value": "crm"},
          {"key": "account_type", "value": "permanent"}, {"key": "reason", "value": "需要"}]


def _create(api):
    sid = next(s["id"] for s in api("get_services", service_type="request")["data"] if s["name"] == "账号开通")
    created = api("create_ticket", service_id=sid, creator="alice", fields=FIELDS)
    assert created["result"], created
    return created["data"]


@pytest.fixture
def base_url(demo):
    """Set BASE_URL for one test, restoring it after."""
    before = demo.config.get("BASE_URL")

    def set_to(value):
        demo.config["BASE_URL"] = value

    yield set_to
    demo.config["BASE_URL"] = before


def test_ticket_url_in_api_answers_uses_the_configured_base_url(api, base_url):
    base_url("https://itsm.example.com/")
    created = _create(api)
    assert created["ticket_url"] == f"https://itsm.example.com/tickets/{created['id']}"
    status = api("get_ticket_status", sn=created["sn"])["data"]
    assert status["ticket_url"] == status["iframe_ticket_url"] == created["ticket_url"]


def test_without_a_base_url_ticket_url_uses_the_host_the_request_came_to(api, base_url):
    base_url(None)
    created = _create(api)
    assert created["ticket_url"] == f"http://itsm.test/tickets/{created['id']}"     # the test app's SERVER_NAME
    assert "127.0.0.1:5000" not in created["ticket_url"]


def test_outside_a_request_the_base_url_or_the_development_address_is_used(demo, base_url):
    with demo.app_context():
        base_url(None)
        assert public_base_url() == DEVELOPMENT_BASE_URL
        base_url("https://itsm.example.com")
        assert public_base_url() == "https://itsm.example.com"


def test_notice_links_use_the_configured_base_url(demo, base_url):
    from app.services.notify.render import sample_context

    base_url("https://itsm.example.com")
    with demo.app_context():
        assert sample_context()["url"] == "https://itsm.example.com/tickets/1"


def _start(tmp_path, caplog, **config):
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app({"ENV": "production", "SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite",
                    "UPLOAD_DIR": str(tmp_path), **config})
    return [r.getMessage() for r in caplog.records if "ITSM_BASE_URL" in r.getMessage()]


def test_production_start_up_warns_when_the_base_url_is_unset(tmp_path, caplog):
    assert _start(tmp_path, caplog)
    assert not _start(tmp_path, caplog, BASE_URL="https://itsm.example.com")
