"""`flask --app wsgi itsm ...`: init, flows, users, roles."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from app.infra.public_url import public_base_url
from app.errors import ItsmError
from app.infra.uow import unit_of_work

itsm_cli = AppGroup("itsm", help="ITSM administration commands.")


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@itsm_cli.command("init")
@click.option("--demo", is_flag=True, help="Also create demo users, roles, catalogs and services.")
def init_command(demo: bool) -> None:
    """Migrate the database to head, load dictionaries and flows, create the admin (safe to run twice)."""
    from app.services.system import init_system, migrate_to_head

    migrate_to_head()
    try:
        with unit_of_work():
            report = init_system(demo=demo, admin_password=current_app.config.get("ADMIN_PASSWORD"),
                                 demo_password=current_app.config.get("DEMO_PASSWORD"))
    except ItsmError as exc:
        _fail(exc.message)
    for key in report.flows:
        click.echo(f"flow loaded: {key}")
    for label in report.deployed:
        click.echo(f"flow deployed: {label}")
    for who, password in report.created_passwords.items():
        click.secho(f"password for {who} (shown once, keep it): {password}", fg="yellow")
    click.echo("ITSM is initialized.")


flows_cli = AppGroup("flows", help="Flow files: validate, load into the database, export, deploy.")
itsm_cli.add_command(flows_cli)


@flows_cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def flows_validate(paths: tuple[str, ...]) -> None:
    """Check flow files (default: the flows directory); exit 1 listing `file:line: path: message`."""
    from app.services.flows import validate_files

    flows, issues = validate_files(list(paths) or [current_app.config["FLOWS_DIR"]])
    for issue in issues:
        click.secho(str(issue), fg="red", err=True)
    if issues:
        sys.exit(1)
    for flow, path in flows:
        click.echo(f"ok  {path}  ({flow.key}: {len(flow.definition.nodes)} nodes)")


@flows_cli.command("load")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False))
def flows_load(directory: str | None) -> None:
    """Create or update flow templates from the YAML files (all or nothing)."""
    from app.services.flows import load_flow_files

    try:
        with unit_of_work():
            rows = load_flow_files(directory or current_app.config["FLOWS_DIR"])
            keys = [r.key for r in rows]
    except ItsmError as exc:
        _fail(exc.message)
    for key in keys:
        click.echo(f"loaded {key}")


@flows_cli.command("export")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def flows_export(directory: str | None) -> None:
    """Write every flow template back to its YAML file."""
    from app.services.flows import export_flow_files

    for path in export_flow_files(directory or current_app.config["FLOWS_DIR"]):
        click.echo(f"wrote {path}")


@flows_cli.command("import-bk")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Overwrite templates with the same key.")
@click.option("--deploy", "deploy_too", is_flag=True, help="Also deploy each imported flow.")
def flows_import_bk(file: str, replace: bool, deploy_too: bool) -> None:
    """Import a BlueKing ITSM workflow export (JSON) as flow templates; prints what was not carried over."""
    from pathlib import Path

    from app.services.flows import deploy_flow, import_bk_flows

    text = Path(file).read_text(encoding="utf-8", errors="replace")
    try:
        with unit_of_work():
            result = import_bk_flows(text, file, by="admin", replace=replace)
            lines = [f"imported {row.key} ({row.name})" for row in result.flows]
            if deploy_too:
                for row in result.flows:
                    version = deploy_flow(row.key, by="admin")
                    lines.append(f"deployed {version.flow_key} v{version.version_number} (id {version.id})")
            notes = result.notes
    except ItsmError as exc:
        _fail(exc.message)
    for line in lines:
        click.echo(line)
    for note in notes:
        click.secho(f"not carried over: {note}", fg="yellow")


@flows_cli.command("export-bk")
@click.argument("key")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (default: stdout).")
@click.option("--service", "service_name", default="", help="Write an import_service body with this service name.")
def flows_export_bk(key: str, output: str | None, service_name: str) -> None:
    """Export a flow template in BlueKing ITSM's workflow export format (JSON)."""
    import json
    from pathlib import Path

    from app.services.flows import export_bk_flow

    try:
        with unit_of_work():
            data, notes = export_bk_flow(key, service_name=service_name)
    except ItsmError as exc:
        _fail(exc.message)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)
    for note in notes:
        click.secho(f"not exported: {note}", fg="yellow", err=True)


@flows_cli.command("deploy")
@click.argument("key")
def flows_deploy(key: str) -> None:
    """Deploy a flow template as a new immutable version."""
    from app.services.flows import deploy_flow

    try:
        with unit_of_work():
            version = deploy_flow(key, by="admin")
            label = f"{version.flow_key} v{version.version_number} (id {version.id})"
    except ItsmError as exc:
        _fail(exc.message)
    click.echo(f"deployed {label}")


users_cli = AppGroup("users", help="User accounts.")
itsm_cli.add_command(users_cli)


@users_cli.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Make the user an ITSM super admin.")
@click.option("--password", default=None, help="Password (default: generated and printed once).")
@click.option("--display-name", default="", help="Display name, e.g. 张三.")
@click.option("--email", default="")
def users_create(name: str, admin: bool, password: str | None, display_name: str, email: str) -> None:
    """Create a user account."""
    from app.services.people import create_user

    try:
        with unit_of_work():
            _, pw = create_user(name, password=password, display_name=display_name, email=email, is_superuser=admin)
    except ItsmError as exc:
        _fail(exc.message)
    click.echo(f"created user {name}" + (" (super admin)" if admin else ""))
    if not password:
        click.secho(f"password (shown once): {pw}", fg="yellow")


@users_cli.command("set-password")
@click.argument("name")
@click.option("--password", default=None, help="New password (default: generated and printed once).")
def users_set_password(name: str, password: str | None) -> None:
    """Set a user's password (e.g. when the one printed by init was lost)."""
    from app.services.people import set_password

    try:
        with unit_of_work():
            pw = set_password(name, password)
    except ItsmError as exc:
        _fail(exc.message)
    click.echo(f"password of {name} changed")
    if not password:
        click.secho(f"new password (shown once): {pw}", fg="yellow")


@users_cli.command("import-directory")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def users_import_directory(path: str) -> None:
    """Set users' department and leader from a CSV file with the columns username,department,leader."""
    import csv

    from app.services.people import import_directory

    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"username", "department", "leader"} - set(reader.fieldnames or ())
        if missing:
            _fail(f"CSV 缺少列：{', '.join(sorted(missing))}（需要 username,department,leader）")
        rows = list(reader)
    try:
        with unit_of_work():
            count = import_directory(rows)
    except ItsmError as exc:
        _fail(exc.message)
    click.echo(f"updated {count} users")


roles_cli = AppGroup("roles", help="General roles.")
itsm_cli.add_command(roles_cli)


@roles_cli.command("add-member")
@click.argument("role")
@click.argument("user")
def roles_add_member(role: str, user: str) -> None:
    """Add USER to the general role ROLE."""
    from app.services.people import add_role_member

    try:
        with unit_of_work():
            add_role_member(role, user)
    except ItsmError as exc:
        _fail(exc.message)
    click.echo(f"{user} is now a member of {role}")


@itsm_cli.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler process (callbacks, automatic steps, notifications); one or more per deployment."""
    from app.jobs import run_scheduler

    run_scheduler(current_app._get_current_object())


jobs_cli = AppGroup("jobs", help="Scheduled jobs.")
itsm_cli.add_command(jobs_cli)


@jobs_cli.command("list")
def jobs_list() -> None:
    """Show the declared jobs."""
    from app.jobs import JOBS

    for job in JOBS:
        click.echo(f"{job.id:24} every {job.seconds:>5}s  {job.doc}")


@jobs_cli.command("run")
@click.argument("job_id")
def jobs_run(job_id: str) -> None:
    """Run one job once, now (for operators and tests)."""
    from app.jobs import JOBS, run_job

    job = next((j for j in JOBS if j.id == job_id), None)
    if job is None:
        _fail(f"unknown job {job_id}; known: {', '.join(j.id for j in JOBS)}")
    click.echo(f"{job_id}: {run_job(current_app._get_current_object(), job)}")


api_cli = AppGroup("api-app", help="Client apps of the BlueKing-compatible API.")
itsm_cli.add_command(api_cli)


@api_cli.command("create")
@click.argument("code")
@click.option("--act-for-users", is_flag=True, help="Allow this app to name any user with bk_username.")
@click.option("--name", default="", help="A readable name.")
def api_app_create(code: str, act_for_users: bool, name: str) -> None:
    """Register an API app; prints its secret once (or takes ITSM_API_APP_SECRET)."""
    from app.services.integration import create_api_app

    given = current_app.config.get("API_APP_SECRET")
    try:
        with unit_of_work():
            _, secret = create_api_app(code, name=name, act_for_users=act_for_users, secret=given, by="admin")
    except ItsmError as exc:
        _fail(exc.message)
    click.echo(f"created API app {code}" + (" (may act for users)" if act_for_users else ""))
    if not given:
        click.secho(f"bk_app_secret (shown once): {secret}", fg="yellow")


alerts_cli = AppGroup("alerts", help="Alert receivers and rule files (alerts become incidents).")
itsm_cli.add_command(alerts_cli)


@alerts_cli.command("receiver-add")
@click.argument("kind", type=click.Choice(["alertmanager", "grafana", "generic"]))
@click.argument("name")
@click.option("--basic-user", default="", help="Use basic auth with this username (default: bearer token).")
def alerts_receiver_add(kind: str, name: str, basic_user: str) -> None:
    """Create the receiver /alerts/KIND/NAME; prints its secret once (only a hash is kept)."""
    from app.services.alerts import create_receiver

    try:
        with unit_of_work():
            _, secret = create_receiver(kind, name, auth="basic" if basic_user else "bearer", username=basic_user)
    except ItsmError as exc:
        _fail(exc.message)
    click.echo(f"created receiver {public_base_url()}/alerts/{kind}/{name}")
    click.secho(f"secret (shown once): {secret}", fg="yellow")


@alerts_cli.command("validate")
def alerts_validate() -> None:
    """Check every rule file of ALERTS_DIR; prints `file:line: path: message` for each problem."""
    from app.services.alerts import RuleError, load_rules

    try:
        rules = load_rules()
    except RuleError as exc:
        _fail(exc.message)
    click.echo(f"{len(rules.rules)} alert rules OK")
sla_cli = AppGroup("sla", help="Service levels: check the files, rebuild the derived clock data, re-apply agreements.")
itsm_cli.add_command(sla_cli)


@sla_cli.command("validate")
def sla_validate() -> None:
    """Check sla_yaml/ against dictionaries, roles, services and their flows; exit 1 listing `file:line: path: message`."""
    from app.services.sla import validate_sla_files

    with unit_of_work():
        issues = validate_sla_files()
    for issue in issues:
        click.secho(str(issue), fg="red", err=True)
    if issues:
        sys.exit(1)
    click.echo("ok  service level files")


@sla_cli.command("rebuild")
def sla_rebuild() -> None:
    """Recompute every ticket's clocks, due and check times from its own logs and steps."""
    from app.services.sla import rebuild

    with unit_of_work():
        count = rebuild()
    click.echo(f"rebuilt the service level clocks of {count} tickets")


@sla_cli.command("rebuild-outcomes")
def sla_rebuild_outcomes() -> None:
    """Recompute the decided clocks the attainment statistics read (sla_outcomes) from every ticket."""
    from app.services.sla import rebuild_outcomes

    with unit_of_work():
        count = rebuild_outcomes()
    click.echo(f"recorded {count} decided service level clocks")


@sla_cli.command("reapply")
@click.option("--service", "service_key", default=None, help="Only this service's running tickets.")
def sla_reapply(service_key: str | None) -> None:
    """Running tickets take the agreement now in the files (new targets, calendar); recorded notices stay."""
    from app.services.sla import reapply

    with unit_of_work():
        count = reapply(service_key)
    click.echo(f"re-applied the agreements of {count} running tickets")
