"""A secret never reaches what people read: a password written into rules.yaml is neither quoted back nor mailed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import responders  # noqa: F401  (registers the routing components rules.yaml is checked against)
from foundation.errors import RulesError
from foundation.rules import parse_rules
from foundation.secrets import keep_out
from foundation.store import Store
from responders import summary
from responders.templates import TemplateLibrary

ROOT = Path(__file__).parent.parent
SECRET = "Imap-S3cret-r26!"


@pytest.fixture
def kept_out():
    keep_out([SECRET])
    yield
    keep_out([])


@pytest.mark.parametrize(("edit", "where"), [
    (lambda text: text.replace("  finance: finance@agency.example",
                               f"  finance: finance@agency.example\n  imap_password: {SECRET}", 1), "addresses"),
    (lambda text: text.replace("mode: live ", f"smtp_password: {SECRET}\nmode: live ", 1), "smtp_password"),
    (lambda text: text.replace("mode: live ", f"imap:\n  password: {SECRET}\nmode: live ", 1), "imap"),
    *[(lambda text, key=key: text.replace("  finance: finance@agency.example",
                                          f"  finance: finance@agency.example\n  {key}: {SECRET}", 1), key)
      for key in ("smtp_pwd", "passwort", "passphrase", "imap_pw")],  # blind round 26b
])
def test_a_password_written_into_rules_yaml_is_never_quoted_and_its_place_is_said(edit, where):
    """Blind round 26: `addresses: imap_password: not an email address: 'Imap-S3cret-r26!'` went out in the team
    lead's summary; a top-level smtp_password was only an "unknown key"."""
    path = ROOT / "rules.yaml"
    with pytest.raises(RulesError) as refused:
        parse_rules(edit(path.read_text()), path)
    shown = "\n".join(refused.value.problems)
    assert SECRET not in shown
    assert f"{where}" in shown and "secrets never go in rules.yaml" in shown and "LIAISON_IMAP_PASSWORD" in shown


def test_a_secret_in_a_stored_event_or_a_summary_is_scrubbed(tmp_path, kept_out):
    """Whatever carried it there (a server echoing a password in its refusal, a refused edit): the store's events
    and the mailed summary, which the log's scrubber never sees."""
    from inbox.daemon import load_checked_rules

    store = Store(tmp_path / "liaison.db")
    store.event("rules_refused", {"problems": [f"rules.yaml:3:1: sender: {SECRET!r} is not an address"]})
    store.event("imap_unreadable", {"reason": f"LOGIN {SECRET} refused"})
    assert SECRET not in str(store.all("SELECT detail FROM events"))
    rules = load_checked_rules(ROOT / "rules.yaml")
    built = summary.build(store, rules, "lead@agency.example", datetime.now(UTC).date(), team=True,
                          until=datetime.now(UTC) + timedelta(minutes=1))
    built.mailbox_unreadable = f"since 08:00 UTC: the server said {SECRET}"
    message = summary.build_message(built, TemplateLibrary(rules.template_dir), "accounts@agency.example")
    text = message.get_payload(0).get_payload(decode=True).decode()
    assert SECRET not in message.as_string() and "the server said ***" in text
