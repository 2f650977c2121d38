"""The people pickers' search: enabled users by username or display name, as JSON."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import login_required

from app.services.people import search_users

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.route("/search")
@login_required
def search():
    """`?q=张` → `{"results": [{"value": "alice", "text": "alice(张三)"}]}` (at most 20, for a logged-in user)."""
    found = search_users(request.args.get("q", ""))
    return jsonify(results=[{"value": username, "text": label} for username, label in found])
