"""Rendering request templates from ticket data in a sandbox: no code execution, no attribute tricks."""
from __future__ import annotations

from typing import Any, Mapping

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class TemplateProblem(ValueError):
    """A template that does not render: the message says which one and why."""


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string in `value` (dicts and lists walked); `"{{ expr }}"` alone keeps the value's type."""
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if not isinstance(value, str) or "{" not in value:
        return value
    text = value.strip()
    try:
        if text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1:
            return _env.compile_expression(text[2:-2].strip(), undefined_to_none=False)(**context)
        return _env.from_string(value).render(**context)
    except TemplateError as exc:
        raise TemplateProblem(f"模板 {value!r} 无法渲染：{exc}") from None


def lookup(data: Any, path: str) -> Any:
    """A dotted path into JSON (`data.items.0.id`); None when any part is missing."""
    cur = data
    for part in path.split(".") if path else []:
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return None
    return cur


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """JSON as {dotted path: value}, so structured conditions can read `code` or `data.status`."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            out[path] = v
            out.update(flatten(v, path))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            path = f"{prefix}.{i}" if prefix else str(i)
            out[path] = v
            out.update(flatten(v, path))
    return out
