"""Templates: user-editable jinja2, rendered in a sandbox, text and HTML from one name.

A template NAME is two files, NAME.txt and NAME.html, looked up first in the user's
template folder (rules.yaml `templates:`), then in the shipped folder, in the wanted
language and then in English. Undefined variables are errors: a half-rendered reply
is never sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from inbox.errors import TemplateError

SHIPPED = Path(__file__).parent / "templates"
LANGUAGES = ("en", "fr", "de", "es", "nl")


class TemplateLibrary:
    def __init__(self, user_dir: Path | None = None) -> None:
        roots = [p for p in (user_dir, SHIPPED) if p is not None]
        self.roots = roots
        self.env = ImmutableSandboxedEnvironment(
            loader=jinja2.FileSystemLoader([str(p) for p in roots]),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def names(self) -> set[str]:
        """Every template name available in any language."""
        found = set()
        for root in self.roots:
            for path in root.glob("*/*.txt"):
                if path.with_suffix(".html").exists():
                    found.add(path.stem)
        return found

    def render(self, name: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
        """(text, html) for a template, in `language` when it exists, else English."""
        for lang in dict.fromkeys((language, "en")):
            try:
                text_template = self.env.get_template(f"{lang}/{name}.txt")
                html_template = self.env.get_template(f"{lang}/{name}.html")
            except jinja2.TemplateNotFound:
                continue
            try:
                return text_template.render(context), html_template.render(context)
            except jinja2.TemplateError as exc:
                raise TemplateError(f"template {lang}/{name}: {exc}") from None
            except Exception as exc:  # a user's template can fail in any way: never half-send
                raise TemplateError(f"template {lang}/{name}: {type(exc).__name__}: {exc}") from None
        raise TemplateError(f"template {name!r} not found (looked in {', '.join(map(str, self.roots))})")
