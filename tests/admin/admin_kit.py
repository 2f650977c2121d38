"""Helpers for the back-office tests."""
from __future__ import annotations

from html import unescape
import re


def text_of(response) -> str:
    """The page's text without tags and with whitespace collapsed, for message assertions."""
    page = response.get_data(as_text=True)
    page = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))
