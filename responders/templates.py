"""Templates: user-editable jinja2, rendered in a sandbox, text and HTML from one name.

A template NAME is two files, NAME.txt and NAME.html, looked up first in the user's
template folder (rules.yaml `templates:`), then in the shipped folder, in the wanted
language and then in English. Undefined variables are errors: a half-rendered reply
is never sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from foundation.errors import TemplateError

SHIPPED = Path(__file__).parent / "templates"
# A template is the admin's code run inside the daemon: its work is bounded so that a slip (or a nested loop
# over range(100000)) fails with a located error instead of hanging the daemon or a `rules check`.
MAX_OUTPUT = 1_000_000  # characters one template may render
MAX_RANGE_ITEMS = 100_000  # items all range() calls of one render may give together
_range_budget: ContextVar[list[int]] = ContextVar("range_budget")


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    budget = _range_budget.get([MAX_RANGE_ITEMS])
    if len(numbers) > budget[0]:
        raise SecurityError(f"range() calls in one template may give {MAX_RANGE_ITEMS:,} items in all")
    budget[0] -= len(numbers)
    return numbers
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
        self.env.globals["range"] = _bounded_range

    def names(self) -> set[str]:
        """Every template name available in any language."""
        found = set()
        for root in self.roots:
            for path in root.glob("*/*.txt"):
                if path.with_suffix(".html").exists():
                    found.add(path.stem)
        return found

    def render(self, name: str, language: str, context: Mapping[str, object]) -> tuple[str, str]:
        """(text, html) for a template, in `language` when it exists, else English."""
        for lang in dict.fromkeys((language, "en")):
            try:
                return self.render_file(f"{lang}/{name}.txt", context), self.render_file(f"{lang}/{name}.html", context)
            except jinja2.TemplateNotFound as exc:
                if exc.name not in (f"{lang}/{name}.txt", f"{lang}/{name}.html"):
                    raise TemplateError(f"template {lang}/{name}: {located(exc, self.roots)}") from None
                continue
            except Exception as exc:  # a user's template can fail in any way: never half-send
                raise TemplateError(f"template {lang}/{name}: {located(exc, self.roots)}") from None
        raise TemplateError(f"template {name!r} not found (looked in {', '.join(map(str, self.roots))})")

    def render_file(self, path: str, context: Mapping[str, object]) -> str:
        """Compile and render one file ("en/escalate.txt"), bounded (MAX_OUTPUT, MAX_RANGE_ITEMS); jinja's own
        exceptions go through."""
        template = self.env.get_template(path)
        budget = _range_budget.set([MAX_RANGE_ITEMS])
        try:
            parts, size = [], 0
            for part in template.generate(context):
                size += len(part)
                if size > MAX_OUTPUT:
                    raise SecurityError(f"renders more than {MAX_OUTPUT:,} characters")
                parts.append(part)
            return "".join(parts)
        finally:
            _range_budget.reset(budget)

    def filename(self, path: str) -> str:
        """The file that template path ("en/escalate.txt") is read from."""
        for root in self.roots:
            if (root / path).exists():
                return str(root / path)
        return path

    def languages(self, name: str) -> list[str]:
        """The languages that have template NAME (both files, in any root)."""
        return [lang for lang in LANGUAGES
                if any((root / lang / f"{name}.txt").exists() and (root / lang / f"{name}.html").exists()
                       for root in self.roots)]


def located(exc: BaseException, roots: list[Path], *, default_file: str | None = None) -> str:
    """FILE:LINE:COLUMN: message for an error raised while compiling or rendering a template."""
    message = str(exc) if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {exc}"
    filename, line = _where(exc, roots)
    filename = filename or default_file
    if filename is None:
        return message
    return f"{filename}:{line}:{_column(filename, line, message)}: {message}"


def _where(exc: BaseException, roots: list[Path]) -> tuple[str | None, int]:
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        return exc.filename, exc.lineno
    # jinja2 rewrites render tracebacks so that template frames carry the template's file and line.
    found: tuple[str | None, int] = (None, 1)
    # With the separator: the shipped folder responders/templates/ must not claim responders/templates.py.
    folders = {str(folder) + "/" for root in roots for folder in (root, root.resolve())}
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if any(filename.startswith(folder) for folder in folders):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _column(filename: str, line: int, message: str) -> int:
    """Where on the line the name the message quotes appears (1 when it cannot be told)."""
    quoted = re.findall(r"'([^']+)'", message)
    try:
        text = Path(filename).read_text(encoding="utf-8").splitlines()[line - 1]
    except (OSError, UnicodeDecodeError, IndexError):
        return 1
    for name in quoted:
        match = re.search(rf"\b{re.escape(name)}\b", text)
        if match:
            return match.start() + 1
    return len(text) - len(text.lstrip()) + 1
