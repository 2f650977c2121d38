"""服务级别: the calendars and agreements files (sla_yaml/), edited here and versioned with the flows."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose

from app.admin.base import SecureView
from app.i18n import gettext, lazy_gettext as _l
from app.services import sla

FILES = ("calendars.yaml", "agreements.yaml")


class SlaFilesView(SecureView):
    """Both files as text; saving checks them (dictionaries, roles, services, nodes) and writes the same file."""

    @expose("/", methods=["GET", "POST"])
    def index(self):
        calendars, agreements = sla.read_texts()
        texts = {"calendars.yaml": calendars, "agreements.yaml": agreements}
        if request.method == "POST":
            name, text = request.form.get("file", ""), request.form.get("text", "").replace("\r\n", "\n")
            if self.run(lambda: sla.save_sla_file(name, text, by=self.actor)):
                flash(gettext("{name} 已保存，新单据按新的协议计时；进行中的单据可在单据页重新套用", name=name), "success")
                return redirect(url_for(".index"))
            texts[name] = text
        return self.render("admin/sla/files.html", texts=texts, files=FILES, issues=sla.validate_sla_files())
