"""`itsm sla validate | rebuild | reapply` and the scheduler's check_service_levels job."""


def test_validate_accepts_the_shipped_files_with_the_demo_data(demo, itsm_cli):
    result = itsm_cli("sla", "validate")
    assert result.exit_code == 0, result.output
    assert "ok  service level files" in result.output


def test_validate_names_file_and_line_of_a_broken_file(demo, itsm_cli, tmp_path):
    (tmp_path / "calendars.yaml").write_text("calendars:\n  - key: c\n    name: C\n    timezone: Mars/Base\n"
                                             "    always: true\n", encoding="utf-8")
    (tmp_path / "agreements.yaml").write_text("agreements: []\n", encoding="utf-8")
    old = demo.config["SLA_DIR"]
    demo.config["SLA_DIR"] = str(tmp_path)
    try:
        result = itsm_cli("sla", "validate")
    finally:
        demo.config["SLA_DIR"] = old
    assert result.exit_code == 1
    assert "calendars.yaml:4: calendars.0.timezone: unknown time zone 'Mars/Base'" in result.output


def test_rebuild_and_reapply_report_the_tickets_they_touched(demo, itsm_cli):
    result = itsm_cli("sla", "rebuild")
    assert result.exit_code == 0 and "rebuilt the service level clocks of 0 tickets" in result.output
    result = itsm_cli("sla", "reapply", "--service", "incident_handle")
    assert result.exit_code == 0 and "re-applied the agreements of 0 running tickets" in result.output


def test_the_job_is_declared_with_a_stable_id():
    from app.jobs import JOBS

    assert "check_service_levels" in [j.id for j in JOBS]
