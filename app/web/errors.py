"""Error pages: 403/404/400 as pages with a way back, domain errors as flashes. Never a stack trace."""
from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from app.errors import ItsmError, NotFound, PermissionDenied

TITLES = {400: "请求有误", 403: "没有权限", 404: "页面不存在", 405: "不支持的请求方式", 409: "操作冲突",
          413: "上传内容过大", 500: "服务器内部错误"}


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            return exc
        return render_template("error.html", code=exc.code, title=TITLES.get(exc.code, exc.name),
                               message=exc.description), exc.code

    @app.errorhandler(ItsmError)
    def _domain_error(exc: ItsmError):
        from app.extensions import db

        db.session.rollback()
        if isinstance(exc, (NotFound, PermissionDenied)) or request.method == "GET":
            status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionDenied) else exc.http_status
            return render_template("error.html", code=status, title=TITLES.get(status, "出错了"),
                                   message=exc.message), status
        flash(exc.message, "danger")
        return redirect(request.referrer or "/")

    @app.errorhandler(500)
    def _server_error(exc):
        return render_template("error.html", code=500, title=TITLES[500],
                               message="服务器出错了，请稍后再试或联系管理员。"), 500
