"""What submitted input may hold, for every entry point (web forms and query strings, API parameters)."""
from __future__ import annotations

INT_MAX = 2 ** 31 - 1      # ids and page numbers fit a 32-bit integer; larger ones are refused, never sent to SQL


def text_problem(text: str) -> str | None:
    """Why a piece of submitted text cannot be stored or shown ("含有 …"), or None.

    PostgreSQL refuses a NUL byte in text; a lone surrogate ("\\ud800", valid in JSON) cannot be encoded as UTF-8.
    """
    if "\x00" in text:
        return "含有 NUL 字符（\\u0000），请去掉后重试"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "含有无效的 Unicode 字符（不成对的代理项），请检查编码后重试"
    return None
