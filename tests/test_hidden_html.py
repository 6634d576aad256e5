"""Text a mail client does not show is not read (D4), and Latin-1 bodies declared UTF-8 are read as Latin-1 (D11).

Hidden text steered the classifier: an HTML-only progress question with a hidden "charged twice, duplicate
invoice" paragraph got the billing acknowledgement. A body in Windows-1252 declared utf-8 reached the account
manager as replacement characters.
"""

from __future__ import annotations

import json
import quopri
from pathlib import Path

import pytest

from foundation.html import MAX_HTML, html_to_text
from foundation.message import parse_message
from inbox.cli import main
from tests.test_newest_text import finishes_at_all

ROOT = Path(__file__).parent.parent
VISIBLE = "Hi, when will the banners be ready? Just checking on progress and the timeline."
HIDDEN = "we were charged twice, duplicate invoice INV-9999, please refund"
HIDING = {
    "class rule in a style block": ('<style>.x{display:none}</style><div class="x">', "div"),
    "tag.class rule in a comma list": ('<style>td.a, p.x {display: none !important}</style><p class="c x">', "p"),
    "id rule": ('<style type="text/css">#y { visibility: hidden; }</style><div id="y">', "div"),
    "opacity 0": ('<div style="opacity:0">', "div"),
    "white on white": ('<div style="color:#fff;background:#fff">', "div"),
    "same colour written two ways": ('<span style="color: rgb(255, 255, 255); background-color: WHITE">', "span"),
    "height 0 clipped": ('<div style="height:0;overflow:hidden">', "div"),
    "max-height 0 clipped": ('<div style="max-height:0px; overflow:hidden">', "div"),
    "moved off to the left": ('<div style="position:absolute;left:-9999px">', "div"),
    "indented off": ('<p style="text-indent:-9999px">', "p"),
    "moved off the top": ('<div style="position:absolute; top: -9999px">', "div"),
    "class rule and an inline style": ('<style>.x{opacity:0}</style><div class="x" style="color:red">', "div"),
}
SHOWN = {
    "rule inside a media query": ('<style>@media (max-width:480px){.x{display:none}}</style><div class="x">', "div"),
    "complex selector": ('<style>table .x{display:none}</style><div class="x">', "div"),
    "inline style overrides the class": ('<style>.x{display:none}</style><div class="x" style="display:block">',
                                         "div"),
    "line-height 0": ('<div style="line-height:0">', "div"),
    "height 0 not clipped": ('<div style="height:0">', "div"),
    "dark on white": ('<div style="color:#333;background:#fff">', "div"),
    "half opacity": ('<div style="opacity:0.5">', "div"),
    "a small nudge": ('<div style="position:relative;left:-10px">', "div"),
}


def _html(opening: str, tag: str) -> str:
    return f"<p>{VISIBLE}</p>{opening}{HIDDEN}</{tag}><p>Thanks, Tom</p>"


@pytest.mark.parametrize("name", list(HIDING))
def test_hidden_text_is_not_read(name):
    text = html_to_text(_html(*HIDING[name]))
    assert VISIBLE in text and "Thanks, Tom" in text
    assert "charged" not in text and "INV-9999" not in text


@pytest.mark.parametrize("name", list(SHOWN))
def test_text_that_is_shown_is_read(name):
    assert HIDDEN in html_to_text(_html(*SHOWN[name]))


PATHOLOGICAL_STYLES = {
    "open braces": "<style>" + "{" * 250_000,
    "selector list": "<style>" + ".a," * 80_000 + "{display:none}</style><p class=a>x",
    "many rules": "<style>" + ".a{color:red}" * 20_000 + "</style><p class=a>x",
    "style openers": "<style>" * 36_000,
    "css comment openers": "<style>" + "/*" * 125_000,
    "long class attribute": "<style>.a{display:none}</style><p class='" + "b " * 120_000 + "'>x",
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL_STYLES))
def test_pathological_style_blocks_are_handled_quickly(name):
    html = PATHOLOGICAL_STYLES[name]
    assert len(html) <= MAX_HTML + 100
    with finishes_at_all():
        assert isinstance(html_to_text(html), str)


def _html_only(html: str) -> bytes:
    return ("From: Tom <tom@brewco.com>\r\nTo: studio@agency.example\r\nSubject: Banners\r\n"
            "Message-ID: <hidden@brewco.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"\r\n<html><head><style>.x{{display:none}}</style></head><body>{html}</body></html>\r\n").encode()


def _classify(tmp_path: Path, monkeypatch, capsys, raw: bytes) -> dict:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LIAISON_DB", str(tmp_path / "none.db"))
    mail = tmp_path / "m.eml"
    mail.write_bytes(raw)
    assert main(["classify", "--json", str(mail)]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_hidden_billing_paragraph_does_not_choose_the_category(tmp_path, monkeypatch, capsys):
    raw = _html_only(f'<p>{VISIBLE}</p><div class="x">{HIDDEN}</div>')
    assert "charged" not in parse_message(raw).body_text
    report = _classify(tmp_path, monkeypatch, capsys, raw)
    assert report["category"] == "progress_query", report


# -- charsets ---------------------------------------------------------------------------------------------------

GERMAN = "Hallo, könnten Sie bitte die Überschrift auf dem Banner ändern? Grüße, Jörg"


def _latin1(charset: str | None, encoding: str) -> bytes:
    body = GERMAN.encode("cp1252")
    if encoding == "quoted-printable":
        body = quopri.encodestring(body)
    content_type = f"text/plain; charset={charset}" if charset else "text/plain"
    return ("From: Jörg <joerg@brewco.com>\r\nTo: studio@agency.example\r\nSubject: Banner\r\n"
            f"Message-ID: <latin@brewco.com>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n").encode() + body + b"\r\n"


@pytest.mark.parametrize("charset", ["utf-8", "unknown-8bit", "x-no-such-charset", None])
@pytest.mark.parametrize("encoding", ["8bit", "quoted-printable"])
def test_latin1_declared_utf8_is_read_as_latin1(charset, encoding):
    parsed = parse_message(_latin1(charset, encoding))
    assert parsed.text.strip() == GERMAN
    assert "\ufffd" not in parsed.body_text


def test_real_utf8_and_declared_latin1_are_read_as_declared():
    assert parse_message(_latin1("iso-8859-1", "8bit")).text.strip() == GERMAN
    utf8 = _latin1("utf-8", "8bit").replace(GERMAN.encode("cp1252"), (GERMAN + " €").encode())
    assert parse_message(utf8).text.strip() == GERMAN + " €"


def test_a_latin1_revision_request_is_classified_from_its_words(tmp_path, monkeypatch, capsys):
    report = _classify(tmp_path, monkeypatch, capsys, _latin1("utf-8", "8bit"))
    assert "\ufffd" not in json.dumps(report, ensure_ascii=False)
    assert report["category"] == "revision_request", report
