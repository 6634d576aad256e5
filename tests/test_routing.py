"""Routing: every condition and action of rules.yaml, each with a case that fails without it."""

from __future__ import annotations

import pkgutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

import responders.conditions
from foundation.rules import CONDITIONS, parse_rules
from responders.routing import Facts, route

MONDAY_10_UTC = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def facts(**overrides) -> Facts:
    values = dict(category="billing_issue", confidence=0.9, needs_review=False, sender="tom@brewco.com",
                  subject="Invoice 4471", body="The invoice total is wrong.", received_at=MONDAY_10_UTC,
                  account_id="brewco")
    values.update(overrides)
    return Facts(**values)


def rules_with(when: str, extra: str = ""):
    text = (f"timezone: Europe/London\n{extra}addresses:\n  finance: finance@agency.example\n"
            f"accounts:\n  brewco:\n    tags: [key]\n"
            f"rules:\n  - name: r\n    when: {when}\n    then:\n      - review: hit\n")
    return parse_rules(text, Path("rules.yaml"))


def hits(when: str, f: Facts, extra: str = "") -> bool:
    return bool(route(f, rules_with(when, extra)).of("review"))


CASES = [
    ("category", "{category: billing_issue}", {}, {"category": "other"}),
    ("category", "{category: [revision_request, billing_issue]}", {}, {"category": "other"}),
    ("category", "{category: needs_review}", {"needs_review": True}, {}),
    ("confidence_at_least", "{confidence_at_least: 0.8}", {}, {"confidence": 0.5}),
    ("confidence_below", "{confidence_below: 0.6}", {"confidence": 0.5}, {}),
    ("needs_review", "{needs_review: true}", {"needs_review": True}, {}),
    ("account", "{account: brewco}", {}, {"account_id": "other"}),
    ("account_tag", "{account_tag: key}", {}, {"account_id": "other"}),
    ("sender", "{sender: tom@brewco.com}", {}, {"sender": "amy@brewco.com"}),
    ("sender", "{sender: brewco.com}", {"sender": "x@mail.brewco.com"}, {"sender": "x@brewco.net"}),
    ("linked", "{linked: false}", {"account_id": None}, {}),
    ("suspicious", "{suspicious: true}", {"suspicious": True}, {}),
    ("automatic", "{automatic: true}", {"automatic": True}, {}),
    ("automatic", "{automatic: notice}", {"automatic": True, "automatic_kind": "notice"},
     {"automatic": True, "automatic_kind": "reply"}),
    ("notice_about", "{notice_about: [billing_issue]}", {"automatic": True, "notice_about": "billing_issue"},
     {"automatic": True, "notice_about": "progress_query"}),
    ("staff", "{staff: true}", {"staff": True}, {}),
    ("first_message", "{first_message: false}", {"first_message": False}, {}),
    ("chaser", "{chaser: true}", {"chaser": True}, {}),
    ("entity", "{entity: invoice_number}", {"entities": {"invoice_number": ["4471"]}}, {}),
    ("entity_matches", "{entity_matches: {invoice_number: '^INV-'}}", {"entities": {"invoice_number": ["INV-1"]}},
     {"entities": {"invoice_number": ["4471"]}}),
    ("amount_over", "{amount_over: 10000}", {"entities": {"amount": [{"value": 12000.0}]}},
     {"entities": {"amount": [{"value": 900.0}]}}),
    ("deadline_within_days", "{deadline_within_days: 3}", {"entities": {"deadline": [{"date": "2026-11-25"}]}},
     {"entities": {"deadline": [{"date": "2026-12-25"}]}}),
    ("urgent", "{urgent: true}", {"entities": {"urgency": ["asap"]}}, {}),
    ("words", "{words: [PO number]}", {"body": "Our PO number is 45001"}, {}),
    ("subject_words", "{subject_words: invoice}", {}, {"subject": "Banner"}),
    ("body_words", "{body_words: 'purchase order'}", {"body": "see purchase order"}, {}),
    ("business_hours", "{business_hours: true}", {}, {"received_at": datetime(2026, 11, 22, 10, tzinfo=UTC)}),
    ("business_hours", "{business_hours: false}", {"received_at": datetime(2026, 11, 23, 20, tzinfo=UTC)}, {}),
    ("has_attachment", "{has_attachment: true}", {"has_attachment": True}, {}),
    ("ack_tier", "{ack_tier: [neutral, none]}", {"ack_tier": "neutral"}, {"ack_tier": "specific"}),
]


@pytest.mark.parametrize("name,when,match,miss", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_condition_hits_and_misses(name, when, match, miss):
    assert hits(when, facts(**match))
    assert not hits(when, facts(**miss))


def test_every_condition_is_tested():
    shipped = {m.name for m in pkgutil.iter_modules(responders.conditions.__path__)}
    assert {c[0] for c in CASES} == shipped, "one module per condition, each with its cases"
    assert shipped <= set(CONDITIONS.names())


def test_collect_all_until_stop():
    text = ("addresses:\n  finance: finance@agency.example\nrules:\n"
            "  - name: first\n    when: {category: billing_issue}\n    then:\n      - acknowledge: ack_billing_issue\n"
            "  - name: second\n    when: {linked: true}\n    then:\n      - escalate: finance\n      - stop\n"
            "  - name: third\n    then:\n      - keyword: Never\n")
    result = route(facts(), parse_rules(text, Path("rules.yaml")))
    assert [a.verb for a in result.actions] == ["acknowledge", "escalate"]
    assert [(t["rule"], t["hit"]) for t in result.trace] == [("first", True), ("second", True)]


def test_suppress_cancels_earlier_acknowledgements_and_misses_are_recorded():
    text = ("rules:\n  - name: ack\n    then:\n      - acknowledge: ack_billing_issue\n"
            "  - name: quiet\n    when: {account: brewco}\n    then: [suppress]\n"
            "  - name: vip\n    when: {account: vip}\n    then:\n      - move: VIP\n")
    result = route(facts(), parse_rules(text, Path("rules.yaml")))
    assert result.actions == []
    assert result.trace[-1] == {"rule": "vip", "hit": False, "failed": ["account"]}


def test_keyword_move_and_escalate_template_are_planned():
    text = ("rules:\n  - name: r\n    then:\n      - keyword: Billing\n      - move: Clients/Billing\n"
            "      - escalate: [account_manager, someone@agency.example]\n        template: escalate\n")
    result = route(facts(), parse_rules(text, Path("rules.yaml")))
    assert [(a.verb, a.argument) for a in result.actions] == [
        ("keyword", "Billing"), ("move", "Clients/Billing"),
        ("escalate", ["account_manager", "someone@agency.example"])]
    assert result.actions[-1].template == "escalate"
