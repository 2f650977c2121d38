"""Files kept across a failed submit that never become part of a ticket are removed by the scheduler after
ABANDONED_UPLOAD_HOURS; files a ticket took stay."""
import io
from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.jobs import JOBS, run_job
from app.models import Attachment
from app.services.fields.attachments import stored_path
from app.timeutil import utcnow

FLOW = """
key: uploads
name: 上传
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: files, name: 附件, type: FILE}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: end}
"""


def upload(name):
    return (io.BytesIO(b"log line\n"), name)


def attachments(app):
    """{original name: (ticket id, file exists)}"""
    with app.app_context():
        rows = db.session.execute(select(Attachment)).scalars().all()
        return {r.original_name: (r.ticket_id, stored_path(r).exists()) for r in rows}


def test_uploads_no_ticket_took_are_removed_after_the_configured_age(demo, browser, make_service):
    service = make_service(FLOW, users=("alice",))
    alice = browser("alice")
    # a failed submit keeps its file; the user gives up
    response = alice.post(f"/submit/{service}", data={"title": "", "files": upload("abandoned.log")},
                          content_type="multipart/form-data")
    assert response.status_code == 400 and "abandoned.log" in response.get_data(as_text=True)
    # another one is submitted: its file belongs to the ticket
    response = alice.post(f"/submit/{service}", data={"title": "有附件", "files": upload("kept.log")},
                          content_type="multipart/form-data")
    assert response.status_code == 302
    before = attachments(demo)
    assert before["abandoned.log"] == (None, True) and before["kept.log"][0] is not None
    with demo.app_context():
        abandoned_file = stored_path(db.session.execute(
            select(Attachment).where(Attachment.original_name == "abandoned.log")).scalar_one())

    job = next(j for j in JOBS if j.id == "clean_abandoned_uploads")
    hours = demo.config["ABANDONED_UPLOAD_HOURS"]
    with time_machine.travel(utcnow() + timedelta(hours=hours - 1), tick=False):
        assert run_job(demo, job) == 0                  # not old enough yet
    assert attachments(demo) == before
    with time_machine.travel(utcnow() + timedelta(hours=hours + 1), tick=False):
        assert run_job(demo, job) == 1
    after = attachments(demo)
    assert "abandoned.log" not in after and after["kept.log"] == before["kept.log"]
    assert not abandoned_file.exists()                  # its file is gone from the storage too


def test_the_age_is_configurable(demo, browser, make_service, monkeypatch):
    service = make_service(FLOW, users=("alice",))
    alice = browser("alice")
    alice.post(f"/submit/{service}", data={"title": "", "files": upload("soon.log")},
               content_type="multipart/form-data")
    monkeypatch.setitem(demo.config, "ABANDONED_UPLOAD_HOURS", 1)
    job = next(j for j in JOBS if j.id == "clean_abandoned_uploads")
    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        assert run_job(demo, job) == 1
    assert attachments(demo) == {}
