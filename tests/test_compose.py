"""Outgoing mail: threaded, marked automatic, immune to header injection, templates sandboxed."""

from __future__ import annotations

import email
from email.policy import default

import pytest

from foundation.errors import TemplateError
from foundation.message import parse_message
from responders.compose import as_bytes, build_acknowledgement, build_escalation, reply_subject, valid_address
from responders.templates import TemplateLibrary

ORIGINAL = (b"From: Tom Hill <tom@brewco.com>\r\nTo: accounts@agency.example\r\n"
            b"Subject: =?utf-8?q?Banner=0D=0ABcc=3A_victim=40evil=2Eexample?=\r\n"
            b"Message-ID: <m1@brewco.com>\r\nReferences: <a@x> <b@y>\r\nThread-Topic: Banner\r\n"
            b"Thread-Index: AdkAbCdEfG==\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nPlease change it.\r\n")


def wire(message):
    """The message as the receiver parses it."""
    return email.message_from_bytes(as_bytes(message), policy=default)


def test_subject_with_crlf_cannot_inject_a_header():
    parsed = parse_message(ORIGINAL)
    reply = build_acknowledgement(parsed, sender="accounts@agency.example", message_id="<o@agency.example>",
                                  text="t", html="<p>t</p>")
    again = email.message_from_bytes(as_bytes(reply), policy=default)
    assert again["Bcc"] is None
    assert "\n" not in again["Subject"] and again["Subject"].startswith("Re: Banner")


def test_acknowledgement_threads_and_is_marked_automatic():
    parsed = parse_message(ORIGINAL)
    reply = wire(build_acknowledgement(parsed, sender="accounts@agency.example", message_id="<o@agency.example>",
                                       text="t", html="<p>t</p>"))
    assert reply["In-Reply-To"] == "<m1@brewco.com>"
    assert reply["References"] == "<a@x> <b@y> <m1@brewco.com>"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["X-Auto-Response-Suppress"] == "All"
    assert reply["X-Liaison-Loop"] == "accounts@agency.example"
    assert reply["Thread-Topic"] == "Banner" and reply["Thread-Index"] == "AdkAbCdEfG=="
    assert [p.get_content_type() for p in reply.iter_parts()] == ["text/plain", "text/html"]


def test_escalation_attaches_original_and_replies_to_client():
    parsed = parse_message(ORIGINAL)
    note = wire(build_escalation(parsed, ORIGINAL, sender="accounts@agency.example", to=["anna@agency.example"],
                                 subject="[Liaison] x", message_id="<e@agency.example>", text="t", html="<p>t</p>"))
    assert note["Reply-To"] == "tom@brewco.com"
    (attached,) = list(note.iter_attachments())
    assert attached.get_content_type() == "message/rfc822"
    assert as_bytes(note).count(ORIGINAL) == 1, "the original travels byte for byte"


@pytest.mark.parametrize("subject,expected", [
    ("Banner", "Re: Banner"), ("Re: Banner", "Re: Banner"), ("RE: AW: Fwd: Banner", "Re: Banner"),
    ("", "Re: your message"), ("[EXTERNAL] ΑΠ: Banner", "Re: Banner"), ("回复：Banner", "Re: Banner"),
    ("Odp: [BREW-077] Banner", "Re: [BREW-077] Banner"), ("Re[2]: SV: Banner", "Re: Banner"),
])
def test_reply_subject(subject, expected):
    assert reply_subject(subject) == expected


@pytest.mark.parametrize("address", ["a@b.com\r\nBcc: x@y.com", "a@b.com, c@d.com", "<a@b.com>", "nobody", ""])
def test_invalid_addresses_are_refused(address):
    with pytest.raises(ValueError):
        valid_address(address)


def test_templates_are_sandboxed_and_strict(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "evil.txt").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    (tmp_path / "en" / "evil.html").write_text("x")
    (tmp_path / "en" / "missing.txt").write_text("Hi {{ nobody }}")
    (tmp_path / "en" / "missing.html").write_text("x")
    library = TemplateLibrary(tmp_path)
    with pytest.raises(TemplateError):
        library.render("evil", "en", {})
    with pytest.raises(TemplateError, match="nobody"):
        library.render("missing", "en", {})


def test_html_is_autoescaped(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "t.txt").write_text("{{ name }}")
    (tmp_path / "en" / "t.html").write_text("<p>{{ name }}</p>")
    text, html = TemplateLibrary(tmp_path).render("t", "fr", {"name": "<script>x</script>"})
    assert text == "<script>x</script>"
    assert html == "<p>&lt;script&gt;x&lt;/script&gt;</p>"


@pytest.mark.parametrize("own", ["txt", "html"])
def test_a_user_template_overriding_one_part_makes_the_other_from_it(tmp_path, own):
    """Blind round 24: an override of ack_revision_request.txt alone left the HTML part, which mail clients show,
    in the shipped wording: the customisation was invisible and the two parts said different things."""
    from responders.template_check import message_contexts

    (tmp_path / "en").mkdir()
    written = {"txt": "Custom wording for {{ client_first_name }} & co.\n\nSecond paragraph.\n",
               "html": "<p>Custom wording for {{ client_first_name }} &amp; co.</p><p>Second paragraph.</p>"}[own]
    (tmp_path / "en" / f"ack_revision_request.{own}").write_text(written)
    text, html = TemplateLibrary(tmp_path).render("ack_revision_request", "en", message_contexts()[0])
    assert "Custom wording for Tom & co." in text and "Second paragraph." in text
    assert "Custom wording for Tom &amp; co." in html and "Second paragraph." in html
    shipped_text, shipped_html = TemplateLibrary().render("ack_revision_request", "en", message_contexts()[0])
    assert "Custom wording" not in shipped_html and shipped_html != html
