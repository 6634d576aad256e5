"""What parsing costs (issue 14): no copy of a big message, and the strict From check only where it can object."""

from __future__ import annotations

import tracemalloc
from email import errors
from email.message import EmailMessage
from email.policy import SMTP
from email.policy import default as default_policy

import pytest

from foundation.message import parse_message

MB = 2**20


def video_message() -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = "Tom Hill <tom@brewco.com>"
    message["To"] = "accounts@agency.example"
    message["Subject"] = "New hero video"
    message["Message-ID"] = "<video@brewco.com>"
    message.set_content("Hi, here is the new cut. Any changes by Friday?\n")
    message.add_attachment(bytes(range(256)) * (30 * MB // 256), maintype="video", subtype="mp4",
                           filename="hero.mp4")
    return message.as_bytes()


def test_parsing_a_30_mb_message_makes_no_copy_of_it():
    raw = video_message()
    assert len(raw) > 40 * MB  # base64
    tracemalloc.start()
    try:
        parsed = parse_message(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(a.name, round(a.size / MB)) for a in parsed.attachments] == [("hero.mp4", 30)]
    assert parsed.text.startswith("Hi, here is the new cut.")
    assert peak < 4 * MB, f"parsing allocated {peak / MB:.0f} MB at its peak for a {len(raw) / MB:.0f} MB message"


FROM_HEADERS = [
    "Tom Hill <tom@brewco.com>", "tom@brewco.com", '"Hill, Tom" <tom@brewco.com>', "O'Neil <o.neil@brewco.co.uk>",
    "Tom <tom@brewco.com", "Tom Hill <tom@@brewco.com>", "<tom@brewco.com>", '"Tom" <"tom hill"@brewco.com>',
    "Tom.Hill <tom@brewco.com>", "Tom (Brewco) <tom@brewco.com>", "=?utf-8?q?Tom_H=C3=BCll?= <tom@brewco.com>",
    "=?utf-8?q?tom=40brewco.com?= <x@evil.example>", "Tom <tom@brewco.com> x", "tom@brewco", "Tom <tom@[10.0.0.1]>",
    "Tom <tom..hill@brewco.com>", "Tom <.tom@brewco.com>", "Tom <tom@-brewco.com>", "Tom <tom@brewco.com.>",
    '"Tom \\"the boss\\"" <tom@brewco.com>', "Tom <tom@brewco.com>,", "Tom\t<tom@brewco.com>", "tom+jobs@brewco.com",
]


@pytest.mark.parametrize("header", FROM_HEADERS)
def test_a_from_header_is_judged_as_the_strict_parser_judges_it(header):
    """The strict parser's verdict is the reference for every one-mailbox From header, plain or not."""
    raw = (f"From: {header}\r\nTo: accounts@agency.example\r\nSubject: hello\r\nMessage-ID: <m@brewco.com>\r\n"
           f"\r\nPlease change the logo.\r\n").encode()
    problems = parse_message(raw).sender_problems
    if problems and "mailboxes" in problems[0]:
        return  # not one mailbox: decided before the strict parser is asked
    try:
        strict = default_policy.header_factory("from", " ".join(header.split()))
        malformed = any(isinstance(defect, errors.InvalidHeaderDefect) for defect in strict.defects)
    except Exception:
        malformed = True
    assert problems == (["malformed From header"] if malformed else []), header
