"""Who calls the API: registered apps (code + secret) and the user they act for.

An app proves itself with bk_app_code/bk_app_secret. The user is either named by
bk_username (trusted only for apps an admin allowed to act for users) or proven by
a bk_token that our own login issued (the `bk_token` cookie).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, select

from app.errors import AuthenticationFailed, ValidationFailed
from app.extensions import db
from app.integrations.destinations import DestinationRefused, parse_allow_list
from app.models import ApiApp, User


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_app(app_code: str, *, name: str = "", act_for_users: bool = False, secret: str | None = None,
                   by: str = "system", callback_hosts: str = "", callback_private: bool = False) -> tuple[ApiApp, str]:
    """Register a client app; returns it with its secret (generated unless given; only its digest is kept).

    `callback_hosts`: where its tickets' result callbacks may go (see `set_callback_hosts`).
    """
    app_code = (app_code or "").strip()
    if not app_code or len(app_code) > 64:
        raise ValidationFailed("应用 ID 不能为空，且不超过 64 个字符")
    if db.session.execute(select(ApiApp.id).where(ApiApp.app_code == app_code)).first():
        raise ValidationFailed(f"应用 {app_code} 已存在")
    secret = secret or secrets.token_urlsafe(32)
    row = ApiApp(app_code=app_code, name=name or app_code, secret_digest=_digest(secret),
                 act_for_users=act_for_users, created_by=by,
                 callback_hosts=clean_callback_hosts(callback_hosts), callback_private=callback_private)
    db.session.add(row)
    db.session.flush()
    return row, secret


def clean_callback_hosts(text: str | None) -> str:
    """The allow-list as stored: one host a line; ValidationFailed naming an entry that is not a host."""
    try:
        return "\n".join(parse_allow_list(text))
    except DestinationRefused as exc:
        raise ValidationFailed(str(exc)) from None


def reset_api_app_secret(app_code: str, secret: str | None = None) -> str:
    row = db.session.execute(select(ApiApp).where(ApiApp.app_code == app_code)).scalar_one_or_none()
    if row is None:
        raise ValidationFailed(f"应用 {app_code} 不存在")
    secret = secret or secrets.token_urlsafe(32)
    row.secret_digest = _digest(secret)
    db.session.flush()
    return secret


# built once: every API call runs one of these, and building a statement costs more than running it
_APP = select(ApiApp).where(ApiApp.app_code == bindparam("app_code"))
_APP_AND_USER = (select(ApiApp, User).outerjoin(User, User.username == bindparam("username"))
                 .where(ApiApp.app_code == bindparam("app_code")))


APP_ONLY_NONE, APP_ONLY_PUBLIC, APP_ONLY_ACTING = "", "public", "acting"


def authenticate(app_code: str | None, app_secret: str | None, username: str | None,
                 bk_token: str | None, *, app_only: str = APP_ONLY_NONE) -> tuple[ApiApp, User | None]:
    """The calling app and user, or AuthenticationFailed saying what is missing or wrong.

    One query reads the app and the user together (an outer join on the username), since
    every API call pays for it. With neither bk_token nor bk_username the call is the app's
    alone (user None), accepted only where the endpoint allows it (`app_only`): `public`
    for any app (catalog and service reads), `acting` for apps allowed to act for users
    (they then name the user in the request body, as upstream's no-user endpoints do).
    """
    if not app_code or not app_secret:
        raise AuthenticationFailed("应用认证失败：缺少 bk_app_code 或 bk_app_secret")
    wanted, version = _token_user(bk_token) if bk_token else (username, None)
    if wanted:
        app, user = db.session.execute(_APP_AND_USER, {"app_code": app_code, "username": wanted}).first() \
            or (None, None)
    else:
        app, user = db.session.execute(_APP, {"app_code": app_code}).scalar_one_or_none(), None
    if app is None or not app.is_enabled or not hmac.compare_digest(app.secret_digest, _digest(app_secret)):
        raise AuthenticationFailed("应用认证失败：bk_app_code 或 bk_app_secret 不正确")
    if bk_token:
        if user is None or not user.is_enabled or user.session_version != version:
            raise AuthenticationFailed("用户认证失败：bk_token 无效或已过期，请重新登录")
    elif username:
        if not app.act_for_users:
            raise AuthenticationFailed(f"用户认证失败：应用 {app_code} 未被允许以 bk_username 指定用户，请使用 bk_token")
        if user is None or not user.is_enabled:
            raise AuthenticationFailed(f"用户认证失败：用户 {username} 不存在或已停用")
    elif app_only == APP_ONLY_PUBLIC or (app_only == APP_ONLY_ACTING and app.act_for_users):
        return app, None
    elif app_only == APP_ONLY_ACTING:
        raise AuthenticationFailed(f"用户认证失败：应用 {app_code} 未被允许代替用户操作，仅凭应用身份不能调用此接口，"
                                   "请提供 bk_token 或 bk_username")
    else:
        raise AuthenticationFailed("用户认证失败：bk_token 与 bk_username 必须提供一个")
    return app, user


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def issue_user_token(user: User) -> str:
    """A bk_token for this user (signed; valid for BK_TOKEN_MAX_AGE seconds, and until the user's
    session version moves: logout or a password change)."""
    return _serializer("bk_token").dumps({"u": user.username, "v": user.session_version})


def _token_user(token: str) -> tuple[str | None, int | None]:
    """The username and session version a valid, unexpired bk_token carries (no query)."""
    try:
        data = _serializer("bk_token").loads(token, max_age=current_app.config["BK_TOKEN_MAX_AGE"])
    except BadSignature:
        return None, None
    if not isinstance(data, dict):
        return None, None
    name, version = data.get("u"), data.get("v")
    if not isinstance(name, str) or not name or not isinstance(version, int) or isinstance(version, bool):
        return None, None           # a token from before session versions: log in again
    return name, version


def callback_token(sn: str) -> str:
    """The token a result callback carries, so the receiver can check it with token/verify."""
    return _serializer("callback").dumps(sn)


def verify_callback_token(token: str) -> bool:
    try:
        _serializer("callback").loads(token)
    except BadSignature:
        return False
    return True
