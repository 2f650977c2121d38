"""The BlueKing-compatible HTTP API: `/api/c/compapi[/v2]/itsm/<name>/`.

HTTP 200 with the envelope `{"result", "code", "message", "data"}` for every handled
outcome, as BlueKing does. Credentials come from the `X-Bkapi-Authorization`
header (bkapi-component-open) or from bk_* query/body parameters (bk-itsm-sdk).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from flask import Blueprint, Flask, jsonify, request

from app.errors import AuthenticationFailed, ItsmError
from app.extensions import csrf, db
from app.infra.uow import OutboundFirst, commit
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
    user: object


class ApiParamError(ItsmError):
    code = 3900005


def envelope(data=None, *, code: int = 0, message: str = "success", result: bool = True):
    return jsonify({"result": result, "code": code, "message": message,
                    "data": ([] if data is None else data) if result else None})


def _params() -> dict:
    params = request.args.to_dict()
    body = request.get_json(silent=True) if request.data else None
    if isinstance(body, dict):
        params.update(body)
    elif request.form:
        params.update(request.form.to_dict())
    return params


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
    creds["bk_token"] = creds.get("bk_token") or request.cookies.get("bk_token")
    return creds


def _refuse_nul(value) -> None:
    """Refuse a NUL character anywhere in the parameters (PostgreSQL cannot store one in text)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ApiParamError("参数中不能包含 NUL 字符 (\\u0000)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key)
            _refuse_nul(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item)


def dispatch(name: str):
    from app.services.integration import authenticate

    from .endpoints import ENDPOINTS

    started = time.monotonic()
    name = name.strip("/")
    endpoint = ENDPOINTS.get(name)
    app_code = username = ""
    if endpoint is None:
        response, code = envelope(code=3900404, message=f"接口 {name} 不存在", result=False), 3900404
    else:
        params = _params()
        try:
            _refuse_nul(params)
            creds = _credentials(params)
            _refuse_nul(creds)
            app_code = creds.get("bk_app_code") or ""
            api_app, user = authenticate(creds.get("bk_app_code"), creds.get("bk_app_secret"),
                                         creds.get("bk_username"), creds.get("bk_token"))
            username = user.username
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
