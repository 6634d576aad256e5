"""HTML to plain text: one converter for the parsed message and for newest-text extraction (quotes cut first)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: HTML is more verbose than text (styles, Outlook's conditional markup): the first 256 KB of it is read.
MAX_HTML = 256 * 1024
_BLANK_RUNS = re.compile(r"\n{3,}")

# What the parser may see: plain tags with a name and bounded attributes. Comments, declarations and processing
# instructions are dropped (an unclosed comment runs to the end, as in a browser); any other "<" is escaped.
_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)|</?[A-Za-z][A-Za-z0-9:-]{0,40}(?:[\s/][^<>]{0,10000})?>|<[!?][^<>]{0,10000}>|<",
    re.DOTALL,
)
_QUOTE_CHARS = re.compile(r"[\"']")
_WHITESPACE = re.compile(r"\s+")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                   "track", "wbr", "basefont", "frame", "keygen"})
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript", "xml", "object", "iframe"})
_LINE = frozenset({"div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "address", "nav",
                   "aside", "main", "form", "fieldset", "figure", "figcaption", "center", "hr", "caption",
                   "details", "summary", "tbody", "thead", "tfoot", "body", "html"})
_PARAGRAPH = frozenset({"p", "ul", "ol", "dl", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"})
_CELL = frozenset({"td", "th"})
_SELF_CLOSING = frozenset({"p", "li", "tr", "td", "th", "dt", "dd", "option"})
# Markers of quoted history in HTML mail, matched on class and id values.
_QUOTE_CLASS = re.compile(
    r"gmail_quote|gmail_extra|yahoo_quoted|protonmail_quote|zmail_extra|moz-cite-prefix|"
    r"outlookmessageheader|gmail_signature|moz-signature|x_gmail_quote",
    re.IGNORECASE,
)
_STOP_ID = re.compile(r"(?:x_)?(?:divrplyfwdmsg|appendonsend|stopspelling|mail-editor-reference-message-container)",
                      re.IGNORECASE)
_INDENT_STYLE = re.compile(r"border\s*:\s*none", re.IGNORECASE)
_MAX_STACK = 512
# Tags that cannot stand in <head>: when one comes in an unclosed head, the body has begun (as in a browser).
_BODY_TAGS = _LINE | _PARAGRAPH | _CELL | {"br", "span", "a", "b", "i", "u", "strong", "em", "font", "img"}


# Text a mail client does not show: what the reader sees is what the sender asked, so only that is read
# (a hidden paragraph must not steer the classifier, nor the acknowledgement it chooses). An element's
# declarations are its simple <style> rules (.x, #y, tag.x) and then its inline style, the later winning.
_ZERO = re.compile(r"[-+]?(?:0+(?:\.0*)?|\.0+)(?:[a-z]{1,4}|%)?")
_FAR_OFF = re.compile(r"-\s*\d{4,}")  # left:-9999px, text-indent:-9999px: moved out of the window
_OFFSETS = ("left", "top", "right", "text-indent", "margin-left", "margin-top")
_NAMED_COLOURS = {"white": "#ffffff", "black": "#000000", "transparent": "transparent"}
_HEX_COLOUR = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})(?![0-9a-f])")
_RGB_COLOUR = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*[\d.]+\s*)?\)")
_STYLE_BLOCK_CAP = 64 * 1024  # CSS read from <style> blocks, and at most this many selectors kept
_MAX_SELECTORS = 1000
_SIMPLE_SELECTOR = re.compile(r"([a-z][a-z0-9]{0,20})?([.#])(-?[_a-z][-_a-z0-9]{0,100})", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_BRACES = re.compile(r"[{}]")

Declarations = dict[str, str]
StyleSheet = dict[tuple[str, str, str], Declarations]  # (tag or "", "." or "#", name) -> its declarations


def _declarations(style: str, into: Declarations | None = None) -> Declarations:
    found = {} if into is None else into
    for item in style[:2000].split(";"):
        name, colon, value = item.partition(":")
        if colon:
            value = value.strip().lower()
            found[name.strip().lower()] = value.removesuffix("!important").strip()
    return found


def _colour(value: str) -> str:
    value = value.strip()
    if value in _NAMED_COLOURS:
        return _NAMED_COLOURS[value]
    if match := _HEX_COLOUR.search(value):
        digits = match.group(1)
        return "#" + (digits if len(digits) == 6 else "".join(c * 2 for c in digits))
    if match := _RGB_COLOUR.search(value):
        return "#" + "".join(f"{min(int(n), 255):02x}" for n in match.groups())
    return value.split()[0] if value.split() else ""


def _hides(found: Declarations) -> bool:
    def zero(name: str) -> bool:
        return bool(_ZERO.fullmatch(found.get(name, "x")))

    if found.get("display") == "none" or found.get("visibility") in ("hidden", "collapse"):
        return True
    if zero("font-size") or zero("opacity"):
        return True
    clipped = "hidden" in (found.get("overflow", ""), found.get("overflow-y", ""))
    if clipped and (zero("height") or zero("max-height")):
        return True
    if any(_FAR_OFF.match(found.get(name, "")) for name in _OFFSETS):
        return True
    text = _colour(found.get("color", ""))
    background = _colour(found.get("background-color", "") or found.get("background", ""))
    return bool(text) and text == background and text != "transparent"


def style_sheet(markup: str) -> StyleSheet:
    """The simple rules of the <style> blocks (.x, #y, tag.x, comma lists); @media blocks and complex
    selectors are left out. Bounded: a linear scan of at most 64 KB of CSS and 1,000 selectors."""
    sheet: StyleSheet = {}
    lower = markup.lower()
    css: list[str] = []
    size = 0
    start = lower.find("<style")
    while start >= 0 and size < _STYLE_BLOCK_CAP:
        opened = lower.find(">", start)
        if opened < 0:
            break
        end = lower.find("</style", opened)
        block = markup[opened + 1: end if end >= 0 else len(markup)][: _STYLE_BLOCK_CAP - size]
        css.append(block)
        size += len(block)
        if end < 0:
            break
        start = lower.find("<style", end)
    text = _CSS_COMMENT.sub(" ", "\n".join(css))
    depth, selectors, last = 0, "", 0
    for brace in _BRACES.finditer(text):
        chunk = text[last:brace.start()]
        last = brace.end()
        if brace.group() == "{":
            if depth == 0:
                selectors = chunk
            depth += 1
            continue
        if depth == 1 and len(sheet) < _MAX_SELECTORS:  # the end of a top-level rule: not inside @media
            _add_rule(sheet, selectors, chunk)
        depth = max(0, depth - 1)
    return sheet


def _add_rule(sheet: StyleSheet, selectors: str, body: str) -> None:
    if selectors.lstrip().startswith("@"):
        return
    found = _declarations(body)
    for selector in selectors.split(",")[:_MAX_SELECTORS]:
        match = _SIMPLE_SELECTOR.fullmatch(selector.strip())
        if match and len(sheet) < _MAX_SELECTORS:
            key = ((match.group(1) or "").lower(), match.group(2), match.group(3))
            sheet[key] = {**sheet.get(key, {}), **found}


def _invisible(tag: str, attrs: list[tuple[str, str | None]], sheet: StyleSheet) -> bool:
    found: Declarations = {}
    style = ""
    for name, value in attrs:
        if name == "hidden":
            return True
        if name == "style" and value:
            style = value
        elif sheet and value and name in ("class", "id"):
            kind = "." if name == "class" else "#"
            for word in value.split()[:20] if kind == "." else [value.strip()]:
                for rule in (sheet.get(("", kind, word)), sheet.get((tag, kind, word))):
                    if rule:
                        found.update(rule)
    return _hides(_declarations(style, found))


class _Stop(Exception):
    """Raised inside the parser at Outlook's reply marker: nothing after it is the sender's."""


class _TextParser(HTMLParser):
    def __init__(self, drop_quotes: bool, sheet: StyleSheet | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.drop_quotes = drop_quotes
        self.sheet: StyleSheet = sheet or {}
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.hidden_at: int | None = None  # stack depth of the element whose content is hidden
        self.hidden_tag = ""
        self.newlines = 2  # line breaks written since the last text (2: at the start, nothing to separate)
        self.pre = 0
        self.cite_prefix_seen = False

    # -- structure

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if self.hidden_tag == "head" and self.stack and self.stack[-1] == "head" and tag in _BODY_TAGS:
            self._pop_to("head")  # an unclosed <head>: the body starts here all the same
        if tag in _SELF_CLOSING and self.stack and self.stack[-1] == tag:
            self._pop_to(tag)
        hide = False
        if self.hidden_at is None:
            hide = (tag in _HIDDEN or _invisible(tag, attrs, self.sheet)
                    or (self.drop_quotes and self._is_quote(tag, attrs)))
        if tag in _VOID or closed:
            if self.hidden_at is None and not hide:
                self._structure(tag, start=True)
            return
        if len(self.stack) >= _MAX_STACK:
            return
        if hide:
            self.hidden_at = len(self.stack)
            self.hidden_tag = tag
        self.stack.append(tag)
        if self.hidden_at is None:
            self._structure(tag, start=True)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self._pop_to(tag) and self.hidden_at is None:
            self._structure(tag, start=False)

    def _pop_to(self, tag: str) -> bool:
        stack = self.stack
        for depth in range(len(stack) - 1, max(-1, len(stack) - 65), -1):
            if stack[depth] == tag:
                for closed in stack[depth:]:
                    if closed == "pre" and self.pre:
                        self.pre -= 1
                del stack[depth:]
                if self.hidden_at is not None and len(stack) <= self.hidden_at:
                    self.hidden_at = None
                    if self.hidden_tag in _LINE or self.hidden_tag in _PARAGRAPH:
                        self._breaks(1)  # a dropped quotation still separates what stood before and after it
                    return False  # the hidden element itself closed: nothing of it is written
                return True
        return False

    def _is_quote(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        values = {name: value or "" for name, value in attrs}
        if _STOP_ID.fullmatch(values.get("id", "").strip()):
            raise _Stop
        if tag == "hr" and values.get("id", "").lower() == "stopspelling":
            raise _Stop
        classes = values.get("class", "")
        if classes and _QUOTE_CLASS.search(classes):
            if "moz-cite-prefix" in classes.lower():
                self.cite_prefix_seen = True
            return True
        if values.get("name", "") == "messageReplySection":
            return True
        if tag == "blockquote":
            if self.cite_prefix_seen or values.get("type", "").lower() == "cite" or "cite" in values:
                self.cite_prefix_seen = False
                return True
            # Outlook and Gmail indent with <blockquote style="margin:0 0 0 40px; border:none">: not a quotation.
            return not _INDENT_STYLE.search(values.get("style", ""))
        return False

    def _structure(self, tag: str, start: bool) -> None:
        if tag == "br":
            self._write("\n")
            self.newlines += 1
        elif tag in _PARAGRAPH:
            self._breaks(2)
            if tag == "pre":
                self.pre += 1 if start else 0
        elif tag in _LINE:
            self._breaks(1)
            if tag == "li" and start:
                self.parts.append("- ")
                self.newlines = 0
        elif tag in _CELL and not start:
            self._write(" ")

    def _breaks(self, wanted: int) -> None:
        while self.newlines < wanted:
            self.parts.append("\n")
            self.newlines += 1

    def _write(self, text: str) -> None:
        self.parts.append(text)

    def handle_data(self, data: str) -> None:
        if self.hidden_tag == "head" and self.stack and self.stack[-1] == "head" and data.strip():
            self._pop_to("head")  # text in an unclosed <head> starts the body
        if self.hidden_at is not None or not data:
            return
        if self.pre:
            self.parts.append(data)
            self.newlines = 0 if data.strip() else self.newlines
            return
        collapsed = _WHITESPACE.sub(" ", data)
        if collapsed.strip():
            self.parts.append(collapsed)
            self.newlines = 0
        elif self.newlines == 0:
            self.parts.append(" ")


def _safe_markup(html: str) -> str:
    """The markup reduced to text and plain, bounded tags: linear, and what is left parses in linear time."""
    return _MARKUP.sub(_markup_token, html)


def _markup_token(match: re.Match[str]) -> str:
    token = match.group()
    if token == "<":
        return "&lt;"
    if token[1] in "!?":
        return ""
    if ("'" in token or '"' in token) and len(_QUOTE_CHARS.findall(token)) % 2:
        return _QUOTE_CHARS.sub("", token)  # an unbalanced quote would send the parser looking far ahead
    return token


def html_to_text(html: str | None, *, drop_quotes: bool = False) -> str:
    """Readable plain text from HTML: no script/style/head or hidden text, block elements and <br> become line
    breaks, list items get '- ', entities decoded, whitespace collapsed; with `drop_quotes`, quoted history
    (Gmail, Outlook, Yahoo... quote containers) is left out. Reads at most the first 256 KB; never raises."""
    if not isinstance(html, str) or not html:
        return ""
    markup = _safe_markup(html[:MAX_HTML].replace("\x00", ""))
    try:
        sheet = style_sheet(markup)
    except Exception:  # noqa: BLE001 - styles only hide text: without them, the text is read as before
        sheet = {}
    parser = _TextParser(drop_quotes, sheet)
    try:
        parser.feed(markup)
        parser.close()
    except _Stop:
        pass
    except Exception:  # noqa: BLE001 - whatever the parser chokes on, keep what it had read
        pass
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
