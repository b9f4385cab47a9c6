"""`citebot settings`: every CITEBOT_* setting, its value and what it means."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    pass

from citebot.common import load_settings


def show_settings() -> None:
    """List every CITEBOT_* setting with its current value and meaning."""
    settings = load_settings()
    for name, field in type(settings).model_fields.items():
        env = field.validation_alias if isinstance(field.validation_alias, str) else f"CITEBOT_{name.upper()}"
        value = getattr(settings, name)
        if name.endswith(("_key", "_token")):  # secrets; not llm_max_tokens
            value = "***" if value else None
        elif name == "database_url" and value:
            value = re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", str(value))
        typer.echo(f"{env}={value if value is not None else ''}\n    {field.description}")


