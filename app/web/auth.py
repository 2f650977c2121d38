"""Login and logout."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from app.i18n import gettext
from app.errors import LoginThrottled
from app.infra.uow import unit_of_work
from app.services.integration import issue_user_token
from app.services.people import end_sessions, log_in

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[InputRequired("请输入用户名")])
    password = PasswordField("密码", validators=[InputRequired("请输入密码")])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("workbench.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("workbench.index"))
    form = LoginForm()
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                user = log_in(form.username.data, form.password.data, request.remote_addr or "")
        except LoginThrottled as exc:
            flash(gettext(exc.message), "danger")
            return render_template("auth/login.html", form=form), exc.http_status
        if user is not None:
            login_user(user)
            response = redirect(_safe_next(request.args.get("next")))
            # the BlueKing login state: API clients may pass it as bk_token
            response.set_cookie("bk_token", issue_user_token(user), httponly=True, samesite="Lax",
                                secure=current_app.config["COOKIE_SECURE"],
                                max_age=current_app.config["BK_TOKEN_MAX_AGE"])
            return response
        flash(gettext("用户名或密码错误"), "danger")
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    with unit_of_work():
        end_sessions(current_user._get_current_object())   # a copied session cookie or bk_token dies here too
    logout_user()
    flash(gettext("已退出登录"), "info")
    response = redirect(url_for("auth.login"))
    response.delete_cookie("bk_token", httponly=True, samesite="Lax", secure=current_app.config["COOKIE_SECURE"])
    return response


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the UI language (kept on the user, or in the session before login)."""
    from flask import session

    from app.i18n import LANGUAGES

    lang = request.form.get("lang", "zh")
    if lang not in LANGUAGES:
        lang = "zh"
    session["lang"] = lang
    if current_user.is_authenticated:
        with unit_of_work():
            current_user.language = lang
    return redirect(_safe_next(request.form.get("next") or request.referrer and urlsplit(request.referrer).path))
