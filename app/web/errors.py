"""Error pages: 403/404/400 as pages with a way back, domain errors as flashes. Never a stack trace."""
from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from app.errors import ItsmError, NotFound, PermissionDenied
from app.i18n import gettext

TITLES = {400: "请求有误", 403: "没有权限", 404: "页面不存在", 405: "不支持的请求方式", 409: "操作冲突",
          413: "上传内容过大", 500: "服务器内部错误"}
# What to do next, in the user's words; Werkzeug's own English descriptions never reach the page
ADVICE = {400: "请求的内容不完整或有误，请返回上一页重试。", 403: "您没有权限查看这个页面。如需权限，请联系管理员。",
          404: "您要找的页面不存在，可能地址有误或内容已被删除。", 405: "这个地址不支持这种请求方式，请从页面上的按钮操作。",
          409: "操作与他人的修改冲突，请刷新页面后重试。", 413: "上传的内容超过了大小限制，请压缩或分批上传。",
          500: "服务器出错了，请稍后再试或联系管理员。"}
GENERIC_ADVICE = "请求没有完成，请返回上一页重试。"


def user_message(exc: HTTPException) -> str:
    """The sentence the page shows: our own description when a view gave one, else the advice for the code."""
    own = exc.description and exc.description != type(exc).description and not exc.description.isascii()
    return gettext(exc.description if own else ADVICE.get(exc.code, GENERIC_ADVICE))


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            return exc
        return render_template("error.html", code=exc.code, title=TITLES.get(exc.code, "出错了"),
                               message=user_message(exc)), exc.code

    @app.errorhandler(ItsmError)
    def _domain_error(exc: ItsmError):
        from app.extensions import db

        db.session.rollback()
        if isinstance(exc, (NotFound, PermissionDenied)) or request.method == "GET":
            status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionDenied) else exc.http_status
            return render_template("error.html", code=status, title=TITLES.get(status, "出错了"),
                                   message=gettext(exc.message)), status
        flash(gettext(exc.message), "danger")
        return redirect(request.referrer or "/")

    @app.errorhandler(500)
    def _server_error(exc):
        return render_template("error.html", code=500, title=TITLES[500],
                               message=gettext(ADVICE[500])), 500
