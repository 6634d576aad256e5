"""Route: run the ordered rules of rules.yaml over one message's facts.

Routing is data. This module is the one interpreter: each condition (responders/conditions)
and each action (responders/actions) is a small registered component, and each rule hit or
miss is recorded with the conditions that decided it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from foundation.rules import Rule, Rules
from responders.actions import PlannedAction, action
from responders.conditions import condition

__all__ = ["Facts", "PlannedAction", "Route", "route"]


@dataclass
class Facts:
    """What the conditions of rules.yaml can ask about a message."""

    category: str
    confidence: float
    needs_review: bool
    sender: str
    subject: str
    body: str
    received_at: datetime
    account_id: str | None = None
    suspicious: bool = False
    automatic: bool = False
    automatic_kind: str | None = None  # classifiers.automatic.KINDS: which machine wrote
    notice_about: str | None = None  # a notice whose words surely read as this kind of request (classifiers.categorize)
    staff: bool = False
    first_message: bool = True
    chaser: bool = False
    chases: str | None = None  # a follow-up that may ask after its thread's request: that request's category
    entities: dict[str, list[Any]] = field(default_factory=dict)
    has_attachment: bool = False
    ack_tier: str = "specific"  # specific, neutral or none: what an acknowledgement may say (classifiers/tiers)

    @property
    def linked(self) -> bool:
        return self.account_id is not None

    @property
    def sender_domain(self) -> str:
        return self.sender.rsplit("@", 1)[-1]


class RuleTrace(TypedDict):
    """One rule looked at: did it match, and which conditions failed if not."""

    rule: str
    hit: bool
    failed: list[str]


@dataclass
class Route:
    actions: list[PlannedAction]
    trace: list[RuleTrace]

    def of(self, verb: str) -> list[PlannedAction]:
        return [a for a in self.actions if a.verb == verb]

    def as_dict(self) -> dict[str, object]:
        return {
            "trace": self.trace,
            "actions": [{"verb": a.verb, "argument": a.argument, "rule": a.rule, "template": a.template}
                        for a in self.actions],
        }


def route(facts: Facts, rules: Rules) -> Route:
    """Evaluate rules top to bottom, collecting actions until a matching rule says stop."""
    actions: list[PlannedAction] = []
    trace: list[RuleTrace] = []
    for rule in rules.spec.rules:
        failed = _failed_conditions(rule, facts, rules)
        trace.append({"rule": rule.name, "hit": not failed, "failed": failed})
        if failed:
            continue
        stop = False
        for given in rule.then:
            doer = action(given.verb)
            actions = doer.plan(given, rule.name, actions)
            stop = stop or doer.stops
        if stop:
            break
    return Route(actions, trace)


def nothing_done_because(stored_route: dict[str, Any], rules: Rules | None = None) -> str:
    """Why a stored route planned nothing, in words: the rule that matched and stopped it, with its description
    ("rule staff-mail: Our own colleagues writing in a thread are not clients."), or that no rule matched."""
    matched = [step["rule"] for step in stored_route.get("trace", []) if step.get("hit")]
    if not matched:
        return "no rule matched"
    described = {rule.name: rule.description for rule in rules.spec.rules} if rules is not None else {}
    last = matched[-1]
    return f"rule {last}: {described[last].rstrip('.')}" if described.get(last) else f"rule {last}"


def _failed_conditions(rule: Rule, facts: Facts, rules: Rules) -> list[str]:
    failed = []
    for name in rule.when.model_fields_set:
        wanted = getattr(rule.when, name)
        if wanted is None:
            continue
        if not condition(name).holds(facts, wanted, rules):
            failed.append(name)
    return sorted(failed)
