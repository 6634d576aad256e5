"""Check every template before it is used: compile it and render it with sample data.

`rules check`, start-up and every reload run this, so a Jinja syntax error or an undefined
variable in a user's template is refused with FILE:LINE:COLUMN (and a running daemon keeps
its last good rules) instead of surfacing on the next client message or the next summary.
"""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any

from foundation.errors import RulesError
from foundation.rules import Rules
from responders import summary
from responders.greeting import greeting
from responders.templates import LANGUAGES, TemplateLibrary, located


def message_contexts() -> list[dict[str, Any]]:
    """What acknowledgement and escalation templates are given (responders.respond builds the real
    one), filled in and left empty, in both tones, so each branch a template takes is rendered."""
    full: dict[str, Any] = {
        "client_first_name": "Tom", "client_name": "Tom Hill", "client_address": "tom@brewco.example",
        "client_sender": '"Tom Hill" <tom@brewco.example>',
        "account_id": "brewco", "account_name": "BrewCo", "account_manager_email": "anna@agency.example",
        "imitated_manager_email": "",
        "account_manager_name": "Anna", "job_ref": "BREW-042", "subject": "Invoice INV-1 is wrong",
        "title": "Invoice INV-1 is wrong", "category": "billing_issue", "category_label": "Billing issue",
        "confidence": 0.9, "source": "model", "chases_label": "revision request",
        "chase_note": " (after a revision request)", "urgent": "URGENT ", "link_reason": "contact",
        "warning": "lookalike domain",
        "received": "2026-01-05 09:12 UTC", "message_id": "<sample@brewco.example>",
        "newest_text": "Invoice INV-1 charges 1,200 EUR; the quote was 1,000 EUR.", "chasers": 2,
        "entity_lines": ["invoice INV-1", "amount 1,200 EUR"], "invoice_numbers": ["INV-1"],
        "promise": "within one business day", "signature": "The account team", "tone": "friendly",
        "language": "en", "agency_address": "accounts@agency.example", "acknowledged": True,
        "acknowledged_as": "revision request",
        "original_attached": True, "original_size": "0.1 MB", "notice": True,
    }
    empty = {**full, "client_first_name": "", "client_name": "", "account_id": None, "account_name": "",
             "account_manager_email": "", "job_ref": "", "link_reason": "", "warning": "", "chasers": 0,
             "chases_label": "", "chase_note": "", "urgent": "",
             "entity_lines": [], "invoice_numbers": [], "acknowledged": False,
             "acknowledged_as": "", "original_attached": False, "notice": False}
    return [{**context, "tone": tone,
             "greeting": greeting(language="en", tone=tone, display_name=context["client_name"],
                                  address=context["client_address"])}
            for context in (full, empty) for tone in ("friendly", "formal")]


def summary_contexts(day: date) -> list[dict[str, Any]]:
    full = summary.sample(day)
    empty = summary.Summary(full.recipient, day, False, full.since,
                            counts={c: 0 for c in summary.CATEGORY_ORDER},
                            trend=[{**t, "today": 0, "average": 0.0} for t in full.trend])
    return [full.context(), empty.context()]


def template_problems(templates: TemplateLibrary, *, day: date | None = None) -> list[str]:
    """One FILE:LINE:COLUMN: message per template file that fails to compile or render."""
    problems: list[str] = []
    for name in sorted(templates.names()):
        contexts = summary_contexts(day or date.today()) if name == summary.TEMPLATE else message_contexts()
        for language in templates.languages(name):
            for suffix in ("txt", "html"):
                problem = _first_failure(templates, f"{language}/{name}.{suffix}", contexts, language)
                if problem and problem not in problems:
                    problems.append(problem)
    return problems


def _first_failure(templates: TemplateLibrary, path: str, contexts: list[dict[str, Any]],
                   language: str) -> str | None:
    for context in contexts:
        try:
            templates.render_file(path, {**context, "language": language})
        except Exception as exc:  # any failure of a user's template is a problem to report
            return located(exc, templates.roots, default_file=templates.filename(path))
    return None


def check_templates(rules: Rules) -> None:
    """Raise RulesError when any template the rules can use fails to compile or render."""
    problems = template_problems(TemplateLibrary(rules.template_dir))
    if problems:
        raise RulesError(problems)


def template_cautions(rules: Rules) -> list[str]:
    """Files of the user's templates folder that nothing will read: a misspelt name ("ack_revison_request.txt" passed
    silently, blind round 24: the shipped wording went on being sent), a language folder that is none of the five,
    half of a pair that no shipped template completes. Allowed, but surely not meant: warned, not refused."""
    if rules.template_dir is None:
        return []
    shipped, used = TemplateLibrary().names(), _used_templates(rules)
    known = shipped | used
    cautions = []
    for path in sorted(rules.template_dir.glob("*/*")):
        if not path.is_file() or path.suffix not in (".txt", ".html") or path.stem.startswith("_"):
            continue
        language, name = path.parent.name, path.stem
        if language not in LANGUAGES:
            cautions.append(f"{path}: no language {language!r}: template folders are {', '.join(LANGUAGES)}")
        elif name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
            cautions.append(f"{path}: no rule and no shipped template uses {name!r}, so it is never sent"
                            + (f" (did you mean {close[0]!r}?)" if close else ""))
        else:
            other = path.with_suffix(".html" if path.suffix == ".txt" else ".txt")
            if name not in shipped and not other.is_file():
                cautions.append(f"{path}: half of a pair, never sent: add {other.name}")
    return cautions


def _used_templates(rules: Rules) -> set[str]:
    used = {rules.spec.classifier.acknowledge.neutral_template, summary.TEMPLATE}
    for rule in rules.spec.rules:
        for action in rule.then:
            name = action.given() if action.verb == "acknowledge" else action.template
            if isinstance(name, str):
                used.add(name)
    return used
