"""The front office: blueprints, login, template helpers."""
from __future__ import annotations

from pathlib import Path

import flask_admin
from flask import Blueprint, Flask

from app.extensions import login_manager


def register_web(app: Flask) -> None:
    from . import auth, knowledge, statistics, tickets, workbench

    vendor = Blueprint("vendor", __name__, static_folder=str(Path(flask_admin.__file__).parent / "static"),
                       static_url_path="/vendor")
    app.register_blueprint(vendor)
    app.register_blueprint(auth.bp)
    app.register_blueprint(workbench.bp)
    app.register_blueprint(tickets.bp)
    app.register_blueprint(knowledge.bp), app.register_blueprint(statistics.bp)
    from . import people, profile

    app.register_blueprint(profile.bp)
    app.register_blueprint(people.bp)
    from .helpers import register_template_helpers

    register_template_helpers(app)


@login_manager.user_loader
def _load_user(session_id: str):
    from app.services.people import session_user

    return session_user(session_id)
