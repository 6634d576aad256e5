"""A new routing condition or action is one module: registered, it is checked in rules.yaml and routed by."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from foundation.errors import RulesError
from foundation.rules import Action as GivenAction
from foundation.rules import Rules, parse_rules
from responders.actions import Action, PlannedAction
from responders.actions import register as register_action
from responders.conditions import Condition
from responders.conditions import register as register_condition
from responders.routing import Facts, route


@register_condition
class SubjectStartsWith(Condition[str]):
    name = "subject_starts_with"
    description = "the subject starts with this text"
    value = str

    def holds(self, facts: Facts, wanted: str, rules: Rules) -> bool:
        return facts.subject.startswith(wanted)


@register_action
class Flag(Action):
    name = "flag"
    description = "flag the message in the mailbox"
    value = bool

    def plan(self, given: GivenAction, rule: str, planned: list[PlannedAction]) -> list[PlannedAction]:
        return [*planned, PlannedAction("keyword", "\\Flagged", rule)]


RULES = """\
rules:
  - name: tickets
    when: {subject_starts_with: "TICKET"}
    then: [flag, stop]
  - name: everything else
    then: [review]
"""


def facts(subject: str) -> Facts:
    return Facts(category="other", confidence=0.9, needs_review=False, sender="tom@brewco.com", subject=subject,
                 body="Hello", received_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


def test_a_condition_and_an_action_registered_from_here_are_checked_and_routed_by():
    rules = parse_rules(RULES, Path("rules.yaml"))
    hit = route(facts("TICKET 42: banner"), rules)
    assert [(a.verb, a.argument, a.rule) for a in hit.actions] == [("keyword", "\\Flagged", "tickets")]
    assert hit.trace == [{"rule": "tickets", "hit": True, "failed": []}]
    miss = route(facts("Banner"), rules)
    assert [a.verb for a in miss.actions] == ["review"]
    assert miss.trace[0] == {"rule": "tickets", "hit": False, "failed": ["subject_starts_with"]}


def test_a_registered_condition_value_is_checked_with_its_position():
    with pytest.raises(RulesError) as error:
        parse_rules(RULES.replace('"TICKET"', "[1, 2]"), Path("rules.yaml"))
    assert str(error.value) == "rules.yaml:3:33: rules.0.when.subject_starts_with: Input should be a valid string"


def test_an_unknown_condition_or_action_is_still_an_error_at_its_position():
    with pytest.raises(RulesError) as error:
        parse_rules(RULES.replace("subject_starts_with", "subject_begins"), Path("rules.yaml"))
    assert str(error.value) == "rules.yaml:3:12: rules.0.when.subject_begins: unknown key 'subject_begins'"
    with pytest.raises(RulesError) as error:
        parse_rules(RULES.replace("[flag, stop]", "[{flags: true}]"), Path("rules.yaml"))
    assert str(error.value) == "rules.yaml:4:13: rules.0.then.0.flags: unknown key 'flags' (did you mean 'flag'?)"
