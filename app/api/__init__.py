"""The BlueKing-compatible HTTP API: `/api/c/compapi[/v2]/itsm/<name>/`.

HTTP 200 with the envelope `{"result", "code", "message", "data"}` for every handled
outcome, as BlueKing does. Credentials come from the `X-Bkapi-Authorization`
header (bkapi-component-open) or from bk_* query/body parameters (bk-itsm-sdk), never from a
cookie: a browser attaches cookies to requests other sites make it send. Endpoints that write
accept only a POST with a JSON body, which another site cannot make a browser send.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, jsonify, request

from app.errors import AuthenticationFailed, ItsmError
from app.extensions import csrf, db
from app.infra.uow import OutboundFirst, commit
from app.limits import text_problem
from app.models import ApiRequestLog

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__)

# BlueKing's message prefixes per code ("<MESSAGE>: <detail>")
PREFIX = {3900003: "提单失败", 3900004: "单据操作失败", 3900005: "参数验证失败"}
# what an unexpected error (a bug) answers: upstream's wording; the traceback goes to the log
UNEXPECTED = "接口异常，请检查请求参数"


@dataclass
class Caller:
    app: object
    user: object            # None: the app alone (app-only authentication, see endpoints.APP_ONLY)


class ApiParamError(ItsmError):
    code = 3900005


def envelope(data=None, *, code: int = 0, message: str = "success", result: bool = True):
    return jsonify({"result": result, "code": code, "message": message,
                    "data": ([] if data is None else data) if result else None})


def _params() -> dict:
    """Query string and body parameters; an oversize body or unusable text is refused before any work."""
    limit = current_app.config["API_MAX_BODY_BYTES"]
    if (request.content_length or 0) > limit:
        raise ApiParamError(f"请求体过大：{request.content_length} 字节，最多 {limit} 字节")
    params = request.args.to_dict()
    body = request.get_json(silent=True) if request.data else None
    if isinstance(body, dict):
        params.update(body)
    elif request.form:
        params.update(request.form.to_dict())
    problem = unusable_text(params)
    if problem:
        raise ApiParamError(problem)
    return params


def unusable_text(value, where: str = "") -> str | None:
    """Why some text in `value` (walked through lists and objects) cannot be stored or shown, or None.

    A NUL byte is refused by PostgreSQL; a lone surrogate ("\\ud800", valid in JSON) cannot be encoded as UTF-8.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}" if where else str(key)
            problem = unusable_text(str(key), here) or unusable_text(item, here)
            if problem:
                return problem
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            problem = unusable_text(item, f"{where}[{i}]")
            if problem:
                return problem
    elif isinstance(value, str):
        problem = text_problem(value)
        if problem:
            return f"参数 {where!r} {problem}"[:300]
    return None


def _credentials(params: dict) -> dict:
    header = request.headers.get("X-Bkapi-Authorization")
    creds: dict = {}
    if header:
        try:
            creds = json.loads(header)
        except ValueError:
            raise AuthenticationFailed("应用认证失败：X-Bkapi-Authorization 不是合法的 JSON") from None
        if not isinstance(creds, dict):
            raise AuthenticationFailed("应用认证失败：X-Bkapi-Authorization 不是合法的 JSON") from None
    for key in ("bk_app_code", "bk_app_secret", "bk_username", "bk_token"):
        creds.setdefault(key, params.get(key))
        if creds[key] is not None and not isinstance(creds[key], str):
            creds[key] = json.dumps(creds[key]) if isinstance(creds[key], (dict, list)) else str(creds[key])
    return creds        # never the `bk_token` login cookie: a browser sends it with any cross-site request


def _json_post_only(name: str) -> None:
    """A writing endpoint takes a POST with a JSON object body (what BlueKing's clients send), nothing else:
    an <img>, a link or a cross-site form can make a browser send a GET or a form post, not this."""
    body = request.get_json(silent=True) if request.method == "POST" and request.is_json else None
    if not isinstance(body, dict):
        raise ApiParamError(f"接口 {name} 只接受 POST 请求，请求体为 JSON（Content-Type: application/json）")


def dispatch(name: str):
    from app.services.integration import authenticate

    from .endpoints import APP_ONLY, APP_ONLY_PUBLIC, ENDPOINTS, WRITES

    started = time.monotonic()
    name = name.strip("/")
    endpoint = ENDPOINTS.get(name)
    app_code = username = ""
    if endpoint is None:
        response, code = envelope(code=3900404, message=f"接口 {name} 不存在", result=False), 3900404
    else:
        try:
            params = _params()              # (refuses an oversize body before reading it)
            if name in WRITES:
                _json_post_only(name)
            creds = _credentials(params)
            problem = unusable_text(creds)   # the X-Bkapi-Authorization header's values too
            if problem:
                raise ApiParamError(problem)
            app_code = creds.get("bk_app_code") or ""
            app_only = "public" if name in APP_ONLY_PUBLIC else "acting" if name in APP_ONLY else ""
            api_app, user = authenticate(creds.get("bk_app_code"), creds.get("bk_app_secret"),
                                         creds.get("bk_username"), creds.get("bk_token"), app_only=app_only)
            username = user.username if user is not None else ""
            response = envelope(endpoint(params, Caller(api_app, user)))
            # a served call: its log row joins the work's transaction, so one commit covers both
            _log_call(app_code, username, name, 0, (time.monotonic() - started) * 1000)
            commit()
            return response
        except OutboundFirst:
            raise                       # the app runs the call with no transaction open, then this request again
        except ItsmError as exc:
            db.session.rollback()
            prefix = PREFIX.get(exc.code)
            message = f"{prefix}: {exc.message}" if prefix else exc.message
            response, code = envelope(code=exc.code, message=message, result=False), exc.code
        except Exception as exc:  # noqa: BLE001 - upstream answers any other error with 3900004, HTTP 200
            db.session.rollback()
            log.exception("api %s failed unexpectedly", name)
            message = f"{UNEXPECTED}: {type(exc).__name__}"
            response, code = envelope(code=3900004, message=message, result=False), 3900004
    # a refused or failed call: its work was rolled back; the call log gets a transaction of its own
    try:
        _log_call(app_code, username, name, code, (time.monotonic() - started) * 1000)
        commit()
    except Exception:  # noqa: BLE001 - the call log never turns an answer into another error
        db.session.rollback()
        log.exception("could not write the API call log")
    return response


def _log_call(app_code: str, username: str, endpoint: str, code: int, ms: float) -> None:
    """Add the call-log row to the current transaction (one Core INSERT; the caller commits)."""
    log.info("api %s app=%s user=%s code=%s %.1fms", endpoint, app_code, username, code, ms)
    db.session.execute(_LOG_INSERT, {"app_code": app_code[:64], "username": username[:64], "endpoint": endpoint[:64],
                                     "code": code, "duration_ms": round(ms, 2)})


_LOG_INSERT = ApiRequestLog.__table__.insert()     # Core, built once: no ORM bulk-insert machinery per call


@bp.route("/api/c/compapi/v2/itsm/<path:name>", methods=["GET", "POST"])
@bp.route("/api/c/compapi/itsm/<path:name>", methods=["GET", "POST"])
def call(name: str):
    return dispatch(name)


@bp.route("/api/openapi.json")
def openapi():
    from .openapi import openapi_document

    return jsonify(openapi_document())


def register_api(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
