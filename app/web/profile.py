"""个人设置: the user's email address, notification channels and language."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.errors import ItsmError
from app.i18n import LANGUAGES, gettext
from app.infra.uow import unit_of_work
from app.integrations.notify import CHANNELS, USER_CHANNELS
from app.services.notify import preferences, save_preferences

bp = Blueprint("profile", __name__)


class ProfileForm(FlaskForm):
    email = StringField("邮箱", validators=[Length(max=255)])
    channels = SelectMultipleField("通知方式", choices=[SelectChoice(c, CHANNELS[c].label) for c in USER_CHANNELS],
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    language = RadioField("语言", choices=[SelectChoice(k, v) for k, v in LANGUAGES.items()])


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(data=preferences(current_user))
    if form.validate_on_submit():
        try:
            with unit_of_work():
                save_preferences(current_user, email=form.email.data, channels=form.channels.data or [],
                                 language=form.language.data)
        except ItsmError as exc:
            flash(gettext(exc.message), "danger")
        else:
            flash(gettext("个人设置已保存"), "success")
            return redirect(url_for("profile.profile"))
    return render_template("profile.html", form=form), 400 if form.errors else 200
