"""Templates: user-editable jinja2, rendered in a sandbox, text and HTML from one name.

A template NAME is two files, NAME.txt and NAME.html, looked up first in the user's
template folder (rules.yaml `templates:`), then in the shipped folder, in the wanted
language and then in English. Undefined variables are errors: a half-rendered reply
is never sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.lexer import Token, TokenStream
from jinja2.parser import Parser
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
    place = _syntax_place(exc) if isinstance(exc, jinja2.TemplateSyntaxError) else None
    if place is not None:
        line, column = place
    else:
        column = _column(filename, line, message)
    return f"{filename}:{line}:{column}: {message}"


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


class _PlacedParser(Parser):
    """jinja's parser on a token stream whose tokens' offsets are kept (jinja's errors carry only a line), noting
    the tags still open: at the end of the template the error is about the innermost one."""

    def __init__(self, env: jinja2.Environment, source: str, name: str | None, filename: str | None) -> None:
        super().__init__(env, source, name, filename)
        self.source = source
        self.offsets: dict[int, tuple[Token, int]] = {}  # id(token) -> (token, offset), tokens kept alive
        self.lexed_to = 0  # where lexing had got to (a lexer error is just after it)
        self.lexer_failed = False
        self.open_delimiter: int | None = None  # offset of a {{, {% or {# not closed yet
        self.open_tags: list[Token] = []
        self.stream = TokenStream(self._tokens(env, name, filename), name, filename)

    def _tokens(self, env: jinja2.Environment, name: str | None, filename: str | None) -> Iterator[Token]:
        raw = env.lexer.tokeniter(self.source, name, filename)
        while True:
            try:
                lineno, kind, value = next(raw)
            except StopIteration:
                return
            except jinja2.TemplateSyntaxError:
                self.lexer_failed = True
                raise
            at = self.source.find(value, self.lexed_to) if value else -1
            if at >= 0:
                self.lexed_to = at + len(value)
            if kind.endswith("_begin"):
                self.open_delimiter = at if at >= 0 else self.lexed_to
            elif kind.endswith("_end"):
                self.open_delimiter = None
            for token in env.lexer.wrap(iter([(lineno, kind, value)]), name, filename):
                self.offsets[id(token)] = (token, at if at >= 0 else self.lexed_to)
                yield token

    def parse_statement(self) -> Any:
        self.open_tags.append(self.stream.current)
        node = super().parse_statement()
        self.open_tags.pop()  # left on the stack when the statement fails
        return node

    def parser_failure_offset(self) -> int | None:
        """Where the parse failed: the token it stopped at or, at the end of the template, the {{ or {% left
        open, else the innermost block left open."""
        current = self.stream.current
        if current.type == "eof":
            if self.open_delimiter is not None:
                return self.open_delimiter
            current = self.open_tags[-1] if self.open_tags else current
        placed = self.offsets.get(id(current))
        return placed[1] if placed is not None and placed[0] is current else None

    def lexer_failure_offset(self, message: str) -> int:
        """Where a lexer error is: the offset it names, else the text it quotes, found after the last token."""
        named = re.search(r" at (\d+)$", message)
        if named:
            return int(named.group(1))
        for quoted in re.findall(r"'([^']+)'", message):
            at = self.source.find(quoted, self.lexed_to)
            if at >= 0:
                return at
        return self.lexed_to if self.open_delimiter is None else self.open_delimiter


def _syntax_place(exc: jinja2.TemplateSyntaxError) -> tuple[int, int] | None:
    """(line, column) of the token or tag a syntax error is about, found by parsing the source again; None when it
    cannot be told (then the message's quoted name places it)."""
    source = exc.source
    if source is None and exc.filename:
        try:
            source = Path(exc.filename).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    if source is None:
        return None
    try:
        parser = _PlacedParser(TemplateLibrary().env, source, exc.name, exc.filename)
        parser.parse()
    except jinja2.TemplateSyntaxError as again:
        if again.message != exc.message:  # not the same error (should not happen): do not guess
            return None
        at = parser.lexer_failure_offset(again.message or "") if parser.lexer_failed else parser.parser_failure_offset()
        if at is None:
            return None
    except Exception:  # noqa: BLE001 - locating is best effort; the error itself is reported anyway
        return None
    else:
        return None  # parses cleanly: the error came from compiling (an unknown filter), placed by its name
    line = source.count("\n", 0, at) + 1
    return line, at - (source.rfind("\n", 0, at) + 1) + 1


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
