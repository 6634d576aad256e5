"""Templates: user-editable jinja2, rendered in a sandbox, text and HTML from one name.

A template NAME is two files, NAME.txt and NAME.html, looked up first in the user's
template folder (rules.yaml `templates:`), then in the shipped folder, in the wanted
language and then in English. Undefined variables are errors: a half-rendered reply
is never sent.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.lexer import Token, TokenStream
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum

from foundation.errors import TemplateError
from foundation.html import html_to_text

SHIPPED = Path(__file__).parent / "templates"
# A template is the admin's code run inside the daemon: its work is bounded so that a slip (or a nested loop
# over range(100000)) fails with a located error instead of hanging the daemon or a `rules check`.
MAX_OUTPUT = 1_000_000  # characters one template may render
# Size bounds do not bound time: loops nested over a long string make nothing big and never end. Ordinary
# templates render in milliseconds; this stops one at check, reload, start-up or send alike.
MAX_RENDER_SECONDS = 5.0


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise SecurityError in the block once it has run `seconds` (main thread only: signals go there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise SecurityError(f"takes more than {seconds:g} s to render")

    previous = signal.signal(signal.SIGALRM, expired)
    earlier = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if earlier[0]:
            signal.setitimer(signal.ITIMER_REAL, *earlier)
MAX_RANGE_ITEMS = 100_000  # items all range() calls of one render may give together
_range_budget: ContextVar[list[int]] = ContextVar("range_budget")


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    budget = _range_budget.get([MAX_RANGE_ITEMS])
    if len(numbers) > budget[0]:
        raise SecurityError(f"range() calls in one template may give {MAX_RANGE_ITEMS:,} items in all")
    budget[0] -= len(numbers)
    return numbers


# No value a template makes may be larger than it may render: the size of what an operator, a filter or a string
# method would make is worked out from its operands *before* it is made, so that `"x" * 10**9` is refused at once
# rather than after building a gigabyte. Integers are held to the digits Python will print of one.
MAX_VALUE = MAX_OUTPUT  # characters (or items) of any one value
MAX_INT_DIGITS = 4300  # Python's default limit for printing an integer


def _size(value: object, limit: int = MAX_VALUE) -> int:
    """About how many characters `value` takes when shown, counted only until it passes `limit` (a list of
    many references to one long string counts each of them: that is what printing or joining it makes)."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, bool) or not isinstance(value, int | Mapping | list | tuple | set | frozenset):
        return 1
    if isinstance(value, int):
        return _digits(value)
    total = 2
    for item in value.items() if isinstance(value, Mapping) else value:
        total += 2 + _size(item, limit - total)
        if total > limit:
            break
    return total


def _digits(number: int) -> int:
    return abs(number).bit_length() * 30103 // 100000 + 1


def _check(size: int, what: str, *, limit: int = MAX_VALUE) -> None:
    if size > limit:
        raise SecurityError(f"{what} would make a value of more than {limit:,} characters")


def _ints(values: Any) -> list[int]:
    items = values.values() if isinstance(values, Mapping) else values if isinstance(values, tuple | list) else [values]
    return [v for v in items if isinstance(v, int) and not isinstance(v, bool)]


def _percent_size(template: str | bytes, args: Any) -> int:
    """`template % args`: the text, the arguments and every width or precision the conversions ask for."""
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    specs = re.findall(r"%(?:\([^)]*\))?[^a-zA-Z%(]*", text)
    widths = sum(int(n) for spec in specs for n in re.findall(r"\d+", spec))
    if any("*" in spec for spec in specs):
        widths += sum(max(0, n) for n in _ints(args))
    return len(text) + _size(args) + widths


def _format_size(template: str, args: Any, kwargs: Any) -> int:
    """`template.format(...)`: the text, the arguments and every width in the fields (nested ones from the args)."""
    fields = re.findall(r"\{[^}]*\}", template)
    widths = sum(int(n) for field in fields for n in re.findall(r"\d+", field))
    if any(field.count("{") > 1 for field in fields):
        widths += sum(max(0, n) for n in [*_ints(args), *_ints(kwargs)])
    return len(template) + _size(args) + _size(kwargs) + widths


def _binop_size(operator: str, left: object, right: object) -> tuple[int, int]:
    """(size of what `left operator right` would make, the limit it is held to)."""
    sequences = str | bytes | list | tuple
    if isinstance(left, int) and isinstance(right, int):
        if operator == "**":
            return (_digits(left) * max(right, 0) if abs(left) > 1 else 1), MAX_INT_DIGITS
        if operator == "*":
            return _digits(left) + _digits(right), MAX_INT_DIGITS
        return max(_digits(left), _digits(right)), MAX_INT_DIGITS
    if operator == "*":
        sequence, times = (left, right) if isinstance(right, int) else (right, left)
        if isinstance(sequence, sequences) and isinstance(times, int):
            return _size(sequence) * max(times, 0), MAX_VALUE
    if operator == "+" and isinstance(left, sequences) and isinstance(right, sequences):
        return _size(left) + _size(right), MAX_VALUE
    if operator == "%" and isinstance(left, str | bytes):
        return _percent_size(left, right), MAX_VALUE
    return 0, MAX_VALUE


def _method_size(method: Any, args: tuple, kwargs: dict[str, Any]) -> int:
    """What a string method that can make a longer string than it is given would make (0 for the others)."""
    text = getattr(method, "__self__", None)
    if not isinstance(text, str | bytes):
        return 0
    name = getattr(method, "__name__", "")
    given = [*args, *kwargs.values()]
    if name in ("ljust", "rjust", "center", "zfill") and given and isinstance(given[0], int):
        return max(len(text), given[0])
    if name == "expandtabs":
        tab = given[0] if given and isinstance(given[0], int) else 8
        return len(text) + text.count("\t" if isinstance(text, str) else b"\t") * max(tab, 0)  # type: ignore[arg-type]
    if name == "replace" and len(args) >= 2:
        return _replace_size(text, *args[:2])
    if name == "translate" and args and isinstance(args[0], Mapping):
        return len(text) * max([1, *(_size(v) for v in args[0].values())])
    return 0


def _replace_size(text: Any, old: Any, new: Any) -> int:
    if not isinstance(old, str | bytes) or not isinstance(new, str | bytes):
        return 0
    found = text.count(old) if old else len(text) + 1
    return len(text) + found * len(new)


def _joined(separator: str | bytes, items: Any) -> list[Any]:
    """The items a join would join, checked against what joining them would make."""
    items = list(items)
    _check(sum(_size(i) for i in items) + len(separator) * len(items), "join()")
    return items


def _bounded_output(value: Any) -> Any:
    """Every {{ value }} before it is turned into text (printing a list prints each of its items)."""
    _check(_size(value), "printing a value")
    return value


def _bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002 - jinja's names
    _check(n * max * 12, "lipsum()")
    return generate_lorem_ipsum(n=n, html=html, min=min, max=max)


def _bounded_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters that can make more than they are given, each checked first."""
    original = dict(filters)

    def center(value: Any, width: int = 80) -> Any:
        _check(max(_size(value), width if isinstance(width, int) else 0), "center")
        return original["center"](value, width)

    def indent(value: Any, width: Any = 4, first: bool = False, blank: bool = False) -> Any:
        lines = str(value).count("\n") + 1
        pad = width if isinstance(width, int) else len(str(width))
        _check(_size(value) + lines * max(pad, 0), "indent")
        return original["indent"](value, width, first, blank)

    def format_(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check(_percent_size(str(value), kwargs or args), "format")
        return original["format"](value, *args, **kwargs)

    def join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        items = list(value)
        _check(sum(_size(i) for i in items) + len(d) * len(items), "join")
        return original["join"](eval_ctx, items, d, attribute)

    def replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: int | None = None) -> Any:
        _check(_replace_size(str(s), str(old), str(new)), "replace")
        return original["replace"](eval_ctx, s, old, new, count)

    def batch(value: Any, linecount: int, fill_with: Any = None) -> Any:
        _check(linecount if fill_with is not None else 0, "batch")
        return original["batch"](value, linecount, fill_with)

    def slice_(value: Any, slices: int, fill_with: Any = None) -> Any:
        _check(slices, "slice")
        return original["slice"](value, slices, fill_with)

    def tojson(eval_ctx: Any, value: Any, indent: int | None = None) -> Any:
        _check(_size(value) * (indent + 1 if isinstance(indent, int) else 1), "tojson")
        return original["tojson"](eval_ctx, value, indent)

    join = jinja2.pass_eval_context(join)
    replace = jinja2.pass_eval_context(replace)
    tojson = jinja2.pass_eval_context(tojson)
    return {**filters, "center": center, "indent": indent, "format": format_, "join": join, "replace": replace,
            "batch": batch, "slice": slice_, "tojson": tojson}


class _BoundedCodeGenerator(CodeGenerator):
    """jinja's compiler with `a ~ b` checked before the text is joined."""

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.concat_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with every value a template makes bounded (MAX_VALUE) before it is made."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_bounded_output, **options)
        self.globals["range"] = _bounded_range
        self.globals["lipsum"] = _bounded_lipsum
        self.filters = _bounded_filters(self.filters)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        size, limit = _binop_size(operator, left, right)
        _check(size, f"'{operator}'", limit=limit)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - as jinja's
        _check(_method_size(__obj, args, kwargs), f"{getattr(__obj, '__name__', 'a call')}()")
        if getattr(__obj, "__name__", "") == "join" and isinstance(getattr(__obj, "__self__", None), str | bytes):
            args = (_joined(__obj.__self__, args[0]), *args[1:]) if args else args
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        """str.format and str.format_map, sandboxed by jinja and checked first."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None

        def bounded(*args: Any, **kwargs: Any) -> str:
            named = args[0] if value.__name__ == "format_map" and args else kwargs
            _check(_format_size(value.__self__, args, named), f"{value.__name__}()")
            return wrapped(*args, **kwargs)  # type: ignore[no-any-return]
        return bounded

    @staticmethod
    def concat_parts(parts: tuple) -> tuple:
        _check(sum(_size(p) for p in parts), "'~'")
        return parts


LANGUAGES = ("en", "fr", "de", "es", "nl")


class _Snapshot(jinja2.BaseLoader):
    """Every template file of the roots, read once: what was checked is what is rendered. A file edited after the
    rules were loaded is the next reload's to check (blind round 24: a template refused at reload was still read
    from disk at send time, and the acknowledgement failed)."""

    def __init__(self, roots: list[Path]) -> None:
        self.files: dict[str, tuple[str, str]] = {}  # "en/escalate.txt" -> (source, the file it was read from)
        for root in roots:
            for path in sorted(root.glob("*/*")):
                name = path.relative_to(root).as_posix()
                if path.is_file() and path.suffix in (".txt", ".html") and name not in self.files:
                    self.files[name] = (path.read_text(encoding="utf-8", errors="replace"), str(path))

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        if template not in self.files:
            raise jinja2.TemplateNotFound(template)
        source, filename = self.files[template]
        return source, filename, lambda: True


class TemplateLibrary:
    def __init__(self, user_dir: Path | None = None) -> None:
        roots = [p for p in (user_dir, SHIPPED) if p is not None]
        self.roots = roots
        self.snapshot = _Snapshot(roots)
        self.env = BoundedEnvironment(
            loader=self.snapshot,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def names(self) -> set[str]:
        """Every template name available in any language."""
        return {name.split("/")[1][:-4] for name in self.snapshot.files
                if name.endswith(".txt") and name[:-4] + ".html" in self.snapshot.files}

    def render(self, name: str, language: str, context: Mapping[str, object]) -> tuple[str, str]:
        """(text, html) for a template, in `language` when it exists, else English."""
        for lang in dict.fromkeys((language, "en")):
            try:
                return self._parts(f"{lang}/{name}", context)
            except jinja2.TemplateNotFound as exc:
                if exc.name not in (f"{lang}/{name}.txt", f"{lang}/{name}.html"):
                    raise TemplateError(f"template {lang}/{name}: {located(exc, self.roots)}") from None
                continue
            except Exception as exc:  # a user's template can fail in any way: never half-send
                raise TemplateError(f"template {lang}/{name}: {located(exc, self.roots)}") from None
        raise TemplateError(f"template {name!r} not found (looked in {', '.join(map(str, self.roots))})")

    def _parts(self, stem: str, context: Mapping[str, object]) -> tuple[str, str]:
        """(text, html) of "en/ack_neutral". A user's file overriding one part only makes the other from it: mail
        clients show the HTML part, so a wording edited in the .txt alone was never seen (blind round 24)."""
        text_own, html_own = (self._overridden(f"{stem}.{kind}") for kind in ("txt", "html"))
        if text_own and not html_own:
            text = self.render_file(f"{stem}.txt", context)
            return text, text_as_html(text)
        if html_own and not text_own:
            html = self.render_file(f"{stem}.html", context)
            return html_to_text(html), html
        return self.render_file(f"{stem}.txt", context), self.render_file(f"{stem}.html", context)

    def _overridden(self, path: str) -> bool:
        """Whether `path` comes from the user's folder while the shipped folder has it too."""
        return (len(self.roots) > 1 and path in self.snapshot.files and (SHIPPED / path).is_file()
                and not self.snapshot.files[path][1].startswith(str(SHIPPED) + "/"))

    def render_file(self, path: str, context: Mapping[str, object]) -> str:
        """Compile and render one file ("en/escalate.txt"), bounded (MAX_OUTPUT, MAX_RANGE_ITEMS); jinja's own
        exceptions go through."""
        template = self.env.get_template(path)
        budget = _range_budget.set([MAX_RANGE_ITEMS])
        try:
            with _time_limit(MAX_RENDER_SECONDS):
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
        return self.snapshot.files[path][1] if path in self.snapshot.files else path

    def languages(self, name: str) -> list[str]:
        """The languages that have template NAME (both files, in any root)."""
        return [lang for lang in LANGUAGES
                if f"{lang}/{name}.txt" in self.snapshot.files and f"{lang}/{name}.html" in self.snapshot.files]


def text_as_html(text: str) -> str:
    """A plain-text part as the HTML alternative beside it: escaped, a paragraph per blank-line block."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = "".join("<p>" + str(markupsafe.escape(p)).replace("\n", "<br>\n") + "</p>\n" for p in paragraphs)
    return f'<!DOCTYPE html>\n<html><body style="font-family:sans-serif">\n{body}</body></html>\n'


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
