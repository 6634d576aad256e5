"""Route: run the ordered rules of rules.yaml over one message's facts.

Routing is data. This module is the one interpreter: each condition is a small named
function, each rule hit or miss is recorded with the conditions that decided it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from foundation.rules import WEEKDAYS, Rule, Rules


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
    staff: bool = False
    first_message: bool = True
    chaser: bool = False
    entities: dict[str, list[Any]] = field(default_factory=dict)
    has_attachment: bool = False
    ack_tier: str = "specific"  # specific, neutral or none: what an acknowledgement may say (classifiers/tiers)

    @property
    def linked(self) -> bool:
        return self.account_id is not None

    @property
    def sender_domain(self) -> str:
        return self.sender.rsplit("@", 1)[-1]


@dataclass(frozen=True)
class PlannedAction:
    verb: str  # acknowledge, escalate, keyword, move, review, suppress
    argument: Any
    rule: str
    template: str | None = None


@dataclass
class Route:
    actions: list[PlannedAction]
    trace: list[dict[str, Any]]

    def of(self, verb: str) -> list[PlannedAction]:
        return [a for a in self.actions if a.verb == verb]

    def as_dict(self) -> dict[str, Any]:
        return {
            "trace": self.trace,
            "actions": [{"verb": a.verb, "argument": a.argument, "rule": a.rule, "template": a.template}
                        for a in self.actions],
        }


def route(facts: Facts, rules: Rules) -> Route:
    """Evaluate rules top to bottom, collecting actions until a matching rule says stop."""
    actions: list[PlannedAction] = []
    trace: list[dict[str, Any]] = []
    for rule in rules.spec.rules:
        failed = _failed_conditions(rule, facts, rules)
        trace.append({"rule": rule.name, "hit": not failed, "failed": failed})
        if failed:
            continue
        stop = False
        for action in rule.then:
            if action.verb == "stop":
                stop = True
            elif action.verb == "suppress":
                actions = [a for a in actions if a.verb != "acknowledge"]
            else:
                actions.append(_planned(action, rule))
        if stop:
            break
    return Route(actions, trace)


def _planned(action: Any, rule: Rule) -> PlannedAction:
    verb = action.verb
    if verb == "escalate":
        return PlannedAction(verb, action.recipients(), rule.name, action.template or "escalate")
    if verb == "acknowledge":
        return PlannedAction(verb, None, rule.name, action.acknowledge)
    if verb == "review":
        reason = action.review if isinstance(action.review, str) else f"rule {rule.name}"
        return PlannedAction(verb, reason, rule.name)
    return PlannedAction(verb, getattr(action, verb), rule.name)


def _failed_conditions(rule: Rule, facts: Facts, rules: Rules) -> list[str]:
    failed = []
    for name in rule.when.model_fields_set:
        wanted = getattr(rule.when, name)
        if wanted is None:
            continue
        if not CONDITIONS[name](facts, wanted, rules):
            failed.append(name)
    return sorted(failed)


def _many(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


def _contains_any(text: str, phrases: Any) -> bool:
    lowered = text.lower()
    return any(re.search(r"(?<!\w)" + re.escape(p.lower()) + r"(?!\w)", lowered) for p in _many(phrases))


def _sender_matches(facts: Facts, wanted: Any, _: Rules) -> bool:
    for item in _many(wanted):
        item = item.lower().lstrip("@")
        if facts.sender == item or facts.sender_domain == item or facts.sender_domain.endswith("." + item):
            return True
    return False


def _category(facts: Facts, wanted: Any, _: Rules) -> bool:
    values = _many(wanted)
    return facts.category in values or ("needs_review" in values and facts.needs_review)


def _entity_matches(facts: Facts, wanted: dict[str, str], _: Rules) -> bool:
    return all(any(re.search(p, str(v)) for v in facts.entities.get(label, [])) for label, p in wanted.items())


def _amount_over(facts: Facts, wanted: float, _: Rules) -> bool:
    return any(float(a.get("value", 0)) > wanted for a in facts.entities.get("amount", []))


def _deadline_within(facts: Facts, wanted: int, rules: Rules) -> bool:
    today = facts.received_at.astimezone(rules.zone()).date()
    limit = today + timedelta(days=wanted)
    for item in facts.entities.get("deadline", []):
        due = item.get("date") if isinstance(item, dict) else None
        if due and date.fromisoformat(due) <= limit:
            return True
    return False


def _in_business_hours(facts: Facts, wanted: bool, rules: Rules) -> bool:
    hours = rules.spec.business_hours
    local = facts.received_at.astimezone(rules.zone())
    inside = WEEKDAYS[local.weekday()] in hours.days and hours.start <= local.time() < hours.end
    return inside == wanted


CONDITIONS: dict[str, Callable[[Facts, Any, Rules], bool]] = {
    "category": _category,
    "confidence_at_least": lambda f, v, _: f.confidence >= v,
    "confidence_below": lambda f, v, _: f.confidence < v,
    "needs_review": lambda f, v, _: f.needs_review == v,
    "account": lambda f, v, _: f.account_id in _many(v),
    "account_tag": lambda f, v, r: bool(set(r.override(f.account_id).tags) & set(_many(v))),
    "sender": _sender_matches,
    "linked": lambda f, v, _: f.linked == v,
    "suspicious": lambda f, v, _: f.suspicious == v,
    "automatic": lambda f, v, _: f.automatic == v,
    "staff": lambda f, v, _: f.staff == v,
    "first_message": lambda f, v, _: f.first_message == v,
    "chaser": lambda f, v, _: f.chaser == v,
    "entity": lambda f, v, _: any(f.entities.get(label) for label in _many(v)),
    "entity_matches": _entity_matches,
    "amount_over": _amount_over,
    "deadline_within_days": _deadline_within,
    "urgent": lambda f, v, _: bool(f.entities.get("urgency")) == v,
    "words": lambda f, v, _: _contains_any(f.subject + "\n" + f.body, v),
    "subject_words": lambda f, v, _: _contains_any(f.subject, v),
    "body_words": lambda f, v, _: _contains_any(f.body, v),
    "business_hours": _in_business_hours,
    "has_attachment": lambda f, v, _: f.has_attachment == v,
    "ack_tier": lambda f, v, _: f.ack_tier in _many(v),
}
