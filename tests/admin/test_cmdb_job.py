"""The scheduler refreshes CMDB business roles from the configured source, at most once per interval."""
from app.jobs import JOBS, run_job
from app.models import Role

SOURCE = """
roles:
  - {key: biz_ops, name: 业务运维, bk_biz_id: 2, members: [ops1, ops2]}
  - {key: biz_dev, name: 业务开发, bk_biz_id: 2, members: [eng1]}
"""


def _job():
    return next(j for j in JOBS if j.id == "sync_cmdb_roles")


def test_scheduled_sync_loads_cmdb_roles_once_per_interval(app, demo, rows, tmp_path):
    source = tmp_path / "cmdb.yaml"
    source.write_text(SOURCE, encoding="utf-8")
    app.config["CMDB_SOURCE"] = str(source)
    try:
        assert run_job(app, _job()).startswith("synced")
        roles = {r.key: r for r in rows.all(Role, Role.type == "CMDB")}
        assert set(roles) == {"biz_ops", "biz_dev"}
        assert run_job(app, _job()) == "synced recently"
    finally:
        app.config["CMDB_SOURCE"] = "cmdb_roles.yaml"


def test_no_cmdb_source_means_no_sync(app, demo):
    app.config["CMDB_SOURCE"] = "missing-cmdb.yaml"
    try:
        assert run_job(app, _job()) == "no source"
    finally:
        app.config["CMDB_SOURCE"] = "cmdb_roles.yaml"
