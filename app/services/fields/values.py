"""The bridge between flow field definitions and the field registry (app.forms)."""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any, Mapping

from flask import current_app, g, has_app_context
from werkzeug.datastructures import FileStorage

from app.errors import ValidationFailed
from app.extensions import db
from app.flowdef import CompiledFlow, FieldDef
from app.forms import FieldContext, clean_html, display_value, json_type_errors, validate_values
from app.forms.builder import payload_formdata
from app.models import Attachment, Ticket, User
from app.services.fields.api_choices import api_choices
from app.services.fields.attachments import store_upload
from app.services.people.directory import enabled_users
from app.services.system.dictionaries import choices_for_dictionary
from app.services.tickets.reading import can_view

MEMBER_TYPES = frozenset({"MEMBER", "MEMBERS"})


def _choices(fdef: FieldDef):
    if fdef.source and fdef.source.dictionary:
        return choices_for_dictionary(fdef.source.dictionary)
    if fdef.source and fdef.source.api:
        return api_choices(fdef)
    return ()


def field_context(viewer: User | None = None) -> FieldContext:
    """Choices, users and limits for building and validating forms (one per request and viewer).

    `viewer`: who fills the form in; FILE fields accept only attachment ids that user may use.
    """
    key = f"itsm_field_ctx:{viewer.username if viewer is not None else ''}"
    if has_app_context() and key in g:
        return g.get(key)
    ctx = _context((), viewer, users_named=enabled_users)    # member fields look up only the users they hold
    if has_app_context():
        setattr(g, key, ctx)
    return ctx


def usable_attachment(viewer: User | None, ident: str | int) -> dict | None:
    """`{id, name}` of an attachment `viewer` may put in a FILE field: one they uploaded, or one already on a
    ticket they may view (super admins: any). None otherwise, exactly as for a missing id, so a guessed id
    never reveals a file's name."""
    if viewer is None:
        return None
    try:
        number = int(str(ident).strip())
    except (TypeError, ValueError):
        return None
    row = db.session.get(Attachment, number) if 0 < number < 2 ** 31 else None
    if row is None:
        return None
    if row.uploaded_by != viewer.username and not viewer.is_superuser:
        ticket = db.session.get(Ticket, row.ticket_id) if row.ticket_id else None
        if ticket is None or not can_view(ticket, viewer):
            return None
    return {"id": row.id, "name": row.original_name}


def _context(users, viewer: User | None = None, users_named=None) -> FieldContext:
    cfg = current_app.config
    # the per-file size limit of 基础配置 is enforced when a file is stored (attachments.store_upload),
    # so building a form costs no settings query; here only the request's own ceiling applies
    return FieldContext(choices_for=_choices, users=users, users_named=users_named, attachment_lookup=partial(usable_attachment, viewer),
                        max_upload_bytes=cfg["MAX_CONTENT_LENGTH"], max_field_bytes=cfg["FIELD_MAX_BYTES"],
                        allowed_extensions=frozenset(e.lower() for e in cfg["UPLOAD_EXTENSIONS"]))


def hidden_checker(flow: CompiledFlow, ticket_values: Mapping[str, Any]):
    def is_hidden(key: str, values: Mapping[str, Any]) -> bool:
        return flow.is_hidden(key, {**ticket_values, **values})

    return is_hidden


def hidden_keys(flow: CompiledFlow, field_defs, raw: Mapping[str, Any], ticket_values: Mapping[str, Any]) -> frozenset[str]:
    merged = {**ticket_values, **raw}
    return frozenset(f.key for f in field_defs if flow.is_hidden(f.key, merged))


def validate_field_values(flow: CompiledFlow, field_defs, raw: Mapping[str, Any],
                          ticket_values: Mapping[str, Any], viewer: User | None = None) -> tuple[dict, dict, list[str]]:
    """(clean values, errors by key, required keys missing from `raw`), as `viewer` fills them in.

    A value of the wrong JSON type is refused outright (ValidationFailed, 3900005 in the API), naming the field.
    """
    type_errors = json_type_errors(field_defs, raw, FieldContext(max_field_bytes=current_app.config["FIELD_MAX_BYTES"]))
    if type_errors:
        raise ValidationFailed(next(iter(type_errors.values()))[0], errors=type_errors)
    hidden = hidden_keys(flow, field_defs, raw, ticket_values)
    missing = [f.key for f in field_defs if f.required and f.key not in hidden and f.key not in raw]
    clean, errors = validate_values(field_defs, raw, _validation_context(field_defs, raw, viewer),
                                    is_hidden=hidden_checker(flow, ticket_values), condition_values=ticket_values)
    return clean, errors, missing


def _validation_context(field_defs, raw: Mapping[str, Any], viewer: User | None = None) -> FieldContext:
    """The field context for validating `raw`: member fields know only the users `raw` names.

    Validation only checks that the named users exist and are enabled, so this reads those
    few rows (or none) instead of every user; a form that is rendered uses field_context().
    """
    member_defs = [f for f in field_defs if f.type in MEMBER_TYPES]
    formdata = payload_formdata(member_defs, raw) if member_defs else None
    texts = [str(v) for f in member_defs for v in formdata.getlist(f.key)] if formdata else []
    names = set(texts) | {t.strip() for t in texts}
    return _context(enabled_users(names), viewer)


def store_file_values(field_defs, values: dict, username: str) -> dict:
    """Replace uploaded FileStorage objects by stored attachments `{id, name}`."""
    for f in field_defs:
        if f.type != "FILE" or not values.get(f.key):
            continue
        stored = []
        for item in values[f.key]:
            if isinstance(item, FileStorage):
                if not item.filename:
                    continue
                row = store_upload(item, username, f.key)
                stored.append({"id": row.id, "name": row.original_name})
            else:
                stored.append(item)
        values[f.key] = stored
    return values


def keep_uploads(form, field_defs, username: str) -> None:
    """After a form failed validation, store the files it carried so the re-rendered form lists them as kept
    attachments (posted back by id) and the user need not choose them again. A FILE field that itself refused
    its upload (type, size) keeps nothing; a file the storage refuses becomes that field's error. A post whose
    CSRF token failed keeps nothing: it may not come from the user."""
    token = form._fields.get("csrf_token")
    if token is not None and token.errors:
        return
    for f in field_defs:
        if f.type != "FILE" or f.key not in form._fields:
            continue
        field = form[f.key]
        if field.errors:
            continue
        kept = []
        for item in field.data or ():
            if not isinstance(item, FileStorage):
                kept.append(item)
            elif item.filename:
                try:
                    row = store_upload(item, username, f.key)
                except ValidationFailed as exc:
                    field.errors = [*field.errors, exc.message]
                    continue
                kept.append({"id": row.id, "name": row.original_name})
        field.data = kept


def _named_choices(fdef: FieldDef):
    """Choices for naming a stored value: a dictionary's disabled items too (offered no more, still named)."""
    if fdef.source and fdef.source.dictionary:
        return choices_for_dictionary(fdef.source.dictionary, include_disabled=True)
    return _choices(fdef)


def display(fdef: FieldDef, value: Any) -> str:
    return display_value(fdef, value, replace(field_context(), choices_for=_named_choices))


def sanitize_written_values(flow: CompiledFlow, values: Mapping[str, Any]) -> dict[str, Any]:
    """Values written without a form (api and automation nodes): RICHTEXT fields sanitized like form input."""
    out = dict(values)
    for key, value in values.items():
        if value is not None and flow.has_field(key) and flow.field(key).type == "RICHTEXT":
            out[key] = clean_html(value if isinstance(value, str) else str(value)).strip() or None
    return out


def suggested_values(field_defs, creator: str) -> dict[str, Any]:
    """Values suggested for fields with `default_from` (STARTER_LEADER: the creator's leader in the directory)."""
    wanted = [f for f in field_defs if f.default_from == "STARTER_LEADER"]
    if not wanted:
        return {}
    from app.services.people.directory import DbDirectory

    leaders = sorted(DbDirectory().leaders_of(frozenset({creator})))
    if not leaders:
        return {}
    return {f.key: (leaders if f.type == "MEMBERS" else leaders[0]) for f in wanted}
