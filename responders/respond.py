"""Respond: turn the route's actions into stored outgoing mail and mailbox actions.

Nothing is sent here. Acknowledgements and escalations are rendered and planned in the
outbox inside the message's transaction; the loop guards (RFC 3834, one acknowledgement
per thread, per-sender caps, bounce quiet period) are enforced here whatever the rules say.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sqlite3
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from classifiers import Classification
from classifiers.entities import pressing
from classifiers.language import written_in
from classifiers.linking import Account, AccountIndex, Link, domain_of, registrable_domain
from foundation.errors import TemplateError
from foundation.message import BINARY_TEXT, ParsedMessage, shown_address, shown_sender
from foundation.rules import Language, Rules, Window
from foundation.settings import Settings
from foundation.store import Store, utcnow
from responders import outbox
from responders.compose import MAX_ATTACHED_ORIGINAL, acknowledgement, escalation, new_message_id, valid_address
from responders.greeting import first_name, greeting
from responders.routing import Facts, PlannedAction, Route
from responders.templates import TemplateLibrary

log = logging.getLogger("liaison.respond")
#: An impostor's mail from one address escalated at most this often in this many minutes; the rest is under Review.
SUSPICIOUS_ESCALATIONS = (3, 60)
CATEGORY_LABELS = {
    "revision_request": "Revision request", "billing_issue": "Billing issue",
    "progress_query": "Progress query", "other": "Other", "needs_review": "Needs review",
}


@dataclass(frozen=True)
class Incoming:
    """One stored message as respond() needs it: what it says, where it is stored, what was found out."""

    row: int  # its row in `messages`, which holds the raw bytes an escalation attaches
    parsed: ParsedMessage
    raw_size: int
    facts: Facts
    link: Link
    thread_id: int | None
    classification: Classification
    chased_row: int | None = None  # the thread's request this follow-up may ask after (its row in `messages`)


class Responder:
    def __init__(self, store: Store, settings: Settings, rules: Rules, templates: TemplateLibrary, *,
                 sent_elsewhere: sqlite3.Connection | None = None) -> None:
        """`sent_elsewhere`: the service's database, read-only, whose acknowledgements and bounces the caps
        count too: a scratch pipeline (`classify`, `rules test`) then withholds what the daemon would."""
        self.store = store
        self.settings = settings
        self.rules = rules
        self.templates = templates
        self.sent_elsewhere = sent_elsewhere

    def respond(self, message: Incoming, *, decision: Route, index: AccountIndex) -> list[str]:
        """Plan every action; return one line per action saying what was done or why not."""
        row, parsed, facts, thread_id = message.row, message.parsed, message.facts, message.thread_id
        context = self._context(parsed, facts, message.link, thread_id, message.classification, index,
                                raw_size=message.raw_size)
        done: list[str] = []
        acknowledged = False
        for action in decision.of("acknowledge")[:1]:
            result = self._acknowledge(row, parsed, facts, thread_id, action, context, index)
            acknowledged = result.startswith("acknowledge:")
            done.append(result)
        context["acknowledged"] = acknowledged
        # two rules escalating to one person send one mail (blind round 22: two, the same); a colleague the client
        # wrote to has the mail (round 25: their manager got it twice, once as an escalation)
        told: set[str] = set(self._written_to(parsed))
        for i, action in enumerate(decision.of("escalate")):
            done.append(self._escalate(row, parsed, thread_id, action, context, i, told=told))
        if message.chased_row and decision.of("escalate"):
            done += self._tell_who_knew(message, context, told=told)
        for action in decision.actions:
            if action.verb in ("keyword", "move"):
                self.store.insert("imap_actions", {
                    "message_row": row, "verb": action.verb, "argument": action.argument, "status": "pending",
                    "created_at": utcnow()})
                done.append(f"{action.verb}: {action.argument}")
            elif action.verb not in ("acknowledge", "escalate"):  # review, and actions respond() needs no part in
                done.append(f"{action.verb}: {action.argument}")
        return done

    # -- acknowledgements -----------------------------------------------------------------

    def _acknowledge(self, row: int, parsed: ParsedMessage, facts: Facts, thread_id: int | None,
                     action: PlannedAction, context: dict[str, Any], index: AccountIndex) -> str:
        refusal = self._refusal(parsed, facts, thread_id, index)
        if refusal:
            return f"no acknowledgement: {refusal}"
        template = self._template_for_tier(action, facts)
        if template is None:
            return "no acknowledgement: tier none, not sure enough it is a request"
        language = context["language"]
        # What the client reads is never a guess at a charset (ParsedMessage.unguessed); staff read the rest.
        context = {**context, **self._client(parsed, facts.account_id, for_client=True, language=language)}
        try:
            text, html = self.templates.render(template, language, context)
            draft = acknowledgement(parsed, sender=self.settings.address,
                                    message_id=new_message_id(self.settings.address), text=text, html=html)
        except (TemplateError, ValueError) as exc:
            self._failure(row, "acknowledge", str(exc))
            return f"acknowledgement failed: {exc}"
        key = f"ack:thread:{thread_id}" if thread_id else f"ack:message:{row}"
        planned = outbox.plan(self.store, dedupe_key=key, kind="acknowledge", draft=draft,
                              mail_from=self.settings.address, recipients=[parsed.from_addr], rule=action.rule,
                              message_row=row, thread_id=thread_id)
        if planned is None:
            return "no acknowledgement: already acknowledged"
        if thread_id:
            self.store.update("threads", "id", thread_id, {"acknowledged": 1})
            self.store.remember_thread_ref(draft.message_id, thread_id)
        return f"acknowledge: {parsed.from_addr} ({template}, {facts.ack_tier} tier)"

    def _reply_language(self, facts: Facts) -> Language:
        """The account's language when it has one; else the client's own, when clear from their words and
        `replies.match_client` is on; else `replies.language`."""
        replies = self.rules.spec.replies
        written = written_in(f"{facts.subject}\n{facts.body}") if replies.match_client else None
        if replies.match_client and written is None:
            written = self._language_before(facts)
        return self.rules.override(facts.account_id).language or written or replies.language

    def _language_before(self, facts: Facts) -> Language | None:
        """The language this sender wrote in before, else the one their account's mail is mostly in: a line too
        short to tell ("Logo größer bitte", "¿Me mandáis la factura otra vez?") is in it (blind round 24b: 10 of 36
        such mails from German, French, Spanish and Dutch clients were answered in English)."""
        rows = self.store.all("SELECT from_addr, subject, newest_text FROM messages WHERE staff = 0 AND "
                              "automatic IS NULL AND (from_addr = ? OR (? IS NOT NULL AND account_id = ?)) "
                              "ORDER BY id DESC LIMIT 30", [facts.sender, facts.account_id, facts.account_id])
        said = [(row["from_addr"] == facts.sender, written_in(f"{row['subject'] or ''}\n{row['newest_text'] or ''}"))
                for row in rows]
        own = next((language for mine, language in said if mine and language), None)
        if own:
            return own
        counted = Counter(language for _, language in said if language).most_common(2)
        if counted and counted[0][1] >= 2 and (len(counted) == 1 or counted[0][1] >= 2 * counted[1][1]):
            return counted[0][0]
        return None

    def _manager_name(self, manager: str) -> str:
        """How the account manager's name is written: as they sign their own mail to this inbox when that is
        their address's name ("Sanne de Vries", the latest such signature among their recent mail, here or in
        the service's database beside a scratch run), else read from the address ("Sanne Devries")."""
        sql = ("SELECT from_name FROM messages WHERE from_addr = ? AND staff = 1 AND from_name != '' "
               "ORDER BY id DESC LIMIT 20")
        names = [row["from_name"] for row in self.store.all(sql, [manager])] if manager else []
        if manager and not names and self.sent_elsewhere is not None:
            with contextlib.suppress(sqlite3.DatabaseError):  # an older or unreadable database: from the address
                names = [row[0] for row in self.sent_elsewhere.execute(sql, [manager]).fetchall()]
        signed = (name_as_written(name, manager) for name in names)
        return next((name for name in signed if name and name != name.lower()), "") or name_from_address(manager)

    def _template_for_tier(self, action: PlannedAction, facts: Facts) -> str | None:
        """The template an acknowledgement may use: the rule's own only when the category is sure.

        Whatever template a rule names, a fairly sure message gets the neutral receipt and an unsure
        one gets none: the rules choose what to say, the tier bounds how much may be claimed.
        """
        if facts.ack_tier == "specific":
            return action.template or ""
        if facts.ack_tier == "neutral":
            return self.rules.spec.classifier.acknowledge.neutral_template
        return None

    def _refusal(self, parsed: ParsedMessage, facts: Facts, thread_id: int | None,
                 index: AccountIndex) -> str | None:
        """Why this sender must not get an automatic reply now, or None."""
        if facts.automatic:
            return "automatic mail"
        if facts.staff:
            return "sender is agency staff"
        if facts.suspicious:
            return "suspicious sender"
        try:
            valid_address(parsed.from_addr)
        except ValueError:
            return "no usable sender address"
        if thread_id and self.store.one("SELECT 1 FROM threads WHERE id = ? AND acknowledged = 1", [thread_id]):
            return "thread already acknowledged"
        if colleagues := self._written_to(parsed):
            # blind round 25: a client writing to their manager, the shared inbox in Cc, was thanked by a robot
            return f"written to {colleagues[0]}, the shared inbox only copied"
        account = index.accounts.get(facts.account_id or "")
        return self._bounced(parsed.from_addr) or self._over_limit(parsed.from_addr, facts.received_at,
                                                                   account=account)

    def _written_to(self, parsed: ParsedMessage) -> list[str]:
        """The colleagues a client wrote to (To), when the shared inbox is only copied (Cc): they have the mail."""
        ours = self.settings.address.lower()
        if any(a.lower() == ours for a in parsed.to):
            return []
        return [a.lower() for a in parsed.to if self.settings.owns(a) and a.lower() != ours]

    def _bounced(self, address: str) -> str | None:
        days = self.rules.spec.limits.bounce_quiet_days
        since = (datetime.now(UTC) - timedelta(days=days)).isoformat()
        found = self._count("SELECT COUNT(*) FROM events WHERE kind = 'bounce' AND at >= ? AND "
                            "json_extract(detail, '$.address') = ?", [since, address])
        return f"{address} bounced our mail within {days} days" if found else None

    def _count(self, sql: str, params: list[object]) -> int:
        """A COUNT over our own store, plus over the service's database when we are a scratch run beside it."""
        count = int(self.store.scalar(sql, params) or 0)
        if self.sent_elsewhere is not None:
            try:
                count += int(self.sent_elsewhere.execute(sql, params).fetchone()[0] or 0)
            except sqlite3.DatabaseError as exc:  # unreadable or older: the caps are then only our own
                log.warning("rate limits not counted from the service's database: %s", exc)
        return count

    def _over_limit(self, address: str, arrived: datetime, *, account: Account | None) -> str | None:
        """Caps per sender, then per sender domain, counted by when the client's messages arrived: a backlog
        processed at once after downtime is not a burst, but a loop answering itself within seconds is."""
        limits = self.rules.spec.limits
        caps: list[tuple[Window, str, list[object], str]] = [
            (window, "o.recipients = ?", [json.dumps([address])], "") for window in limits.per_sender]
        domain_cap = self._domain_cap(address, account)
        if domain_cap:
            caps += [(window, *domain_cap) for window in limits.per_domain]
        for window, matches, value, scope in caps:
            since = (arrived - timedelta(minutes=window.minutes)).astimezone(UTC).isoformat()
            count = self._count(
                "SELECT COUNT(*) FROM outbox o JOIN messages m ON m.id = o.message_row "
                f"WHERE o.kind = 'acknowledge' AND {matches} AND {outbox.counted('o')} AND m.arrived_at > ? "
                "AND m.arrived_at <= ?",
                [*value, since, arrived.astimezone(UTC).isoformat(timespec="microseconds")])
            if count >= window.count:
                kind = "domain rate limit" if scope else "rate limit"
                return f"{kind}: {window.count} acknowledgements{scope} in {window.minutes} minutes"
        return None

    @staticmethod
    def _domain_cap(address: str, account: Account | None) -> tuple[str, list[object], str] | None:
        """Which earlier acknowledgements the domain cap counts this one with (SQL condition, values, how
        the reason names them), or None when it does not apply.

        The cap is against forged addresses in a client's domain. A listed contact of the linked account is
        never held back by it and does not use it up. A linked sender shares the cap with everyone linked to
        that account (all its domains and their subdomains together); an unlinked one with its registrable
        domain (linking.registrable_domain), so that subdomains do not each get a cap of their own."""
        recipient = "lower(json_extract(o.recipients, '$[0]'))"
        if account is not None:
            contacts = sorted({c.lower() for c in account.contacts})
            if address.lower() in contacts:
                return None
            shown = ", ".join(account.domains) or account.account_id
            return (f"m.account_id = ? AND {recipient} NOT IN (SELECT value FROM json_each(?))",
                    [account.account_id, json.dumps(contacts)], f" to {account.name or account.account_id} "
                                                                f"({shown})")
        domain = registrable_domain(domain_of(address)) if domain_of(address) else ""
        if not domain:
            return None
        return (f"m.account_id IS NULL AND substr({recipient}, -?) IN (?, ?)",
                [len(domain) + 1, f"@{domain}", f".{domain}"], f" to {domain}")

    # -- escalations --------------------------------------------------------------------

    def escalate_corrected(self, message: Incoming, *, decision: Route, index: AccountIndex, told: set[str],
                           key: str, acknowledged_as: str | None = None) -> list[str]:
        """After a correction: the escalations the corrected category's rules plan, to those not yet told (never
        an acknowledgement: the client was told what they were told). One line per escalation, as `respond`."""
        context = self._context(message.parsed, message.facts, message.link, message.thread_id,
                                message.classification, index, raw_size=message.raw_size)
        context["acknowledged"] = bool(self.store.one(
            f"SELECT 1 FROM outbox WHERE message_row = ? AND kind = 'acknowledge' AND {outbox.COUNTED}",
            [message.row]))
        if context["acknowledged"] and acknowledged_as and acknowledged_as != message.facts.category:
            # round 22b: finance was not told the client had been thanked for another kind of request
            context["acknowledged_as"] = CATEGORY_LABELS.get(acknowledged_as, acknowledged_as).lower()
        return [self._escalate(message.row, message.parsed, message.thread_id, action, context, f"{key}:{i}",
                               told=told) for i, action in enumerate(decision.of("escalate"))]

    def _tell_who_knew(self, message: Incoming, context: dict[str, Any], *, told: set[str]) -> list[str]:
        """Those told of the request a follow-up asks after hear of the follow-up too, when the rules escalate it:
        finance of a chased credit note read as a progress query (blind rounds 24b and 25)."""
        knew = [address for row in self.store.all(
            "SELECT recipients FROM outbox WHERE kind = 'escalate' AND message_row = ?", [message.chased_row])
            for address in json.loads(row["recipients"]) if address.lower() not in told]
        if not knew:
            return []
        action = PlannedAction("escalate", list(dict.fromkeys(knew)), "told of the request it chases")
        return [self._escalate(message.row, message.parsed, message.thread_id, action, context, "chased", told=told)]

    def _impostor_flood(self, sender: str) -> bool:
        """Whether an impostor's mail from this address has been escalated often enough lately: a spoofed flood
        (blind round 26: 40 forged mails, 40 escalations to one manager in a minute) is no news after the first."""
        count, minutes = SUSPICIOUS_ESCALATIONS
        since = (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()
        told = self.store.scalar(
            "SELECT COUNT(DISTINCT o.message_row) FROM outbox o JOIN messages m ON m.id = o.message_row WHERE "
            "o.kind = 'escalate' AND o.created_at >= ? AND m.suspicious IS NOT NULL AND m.from_addr = ?",
            [since, sender])
        return int(told or 0) >= count

    def _escalate(self, row: int, parsed: ParsedMessage, thread_id: int | None, action: PlannedAction,
                  context: dict[str, Any], number: int | str, told: set[str]) -> str:
        names = action.argument if isinstance(action.argument, list) else [action.argument or ""]
        found = self._recipients(names, context)
        if not found:
            self._failure(row, "escalate", f"no address for {', '.join(names)}")
            return f"escalation failed: no address for {', '.join(names)}"
        recipients = [r for r in found if r.lower() not in told]
        skipped = [r for r in found if r.lower() in told]
        why = "the client wrote to them" if set(map(str.lower, skipped)) <= set(self._written_to(parsed)) else (
            "already told by an earlier rule")
        if not recipients:
            return f"escalate: {', '.join(found)} {why}"
        if context.get("warning") and self._impostor_flood(parsed.from_addr):
            count, minutes = SUSPICIOUS_ESCALATIONS
            return (f"escalate: held ({count} suspicious mails from {parsed.from_addr or 'this sender'} escalated "
                    f"within {minutes} minutes already; listed under Review)")
        told.update(r.lower() for r in recipients)
        who = context["account_name"] or shown_address(parsed.from_addr)
        what = f"{context['urgent']}{context['category_label']}{context['chase_note']}"  # "Billing issue notice"
        subject = f"[Liaison] {what}: {who} - {parsed.subject or '(no subject)'}"
        if context.get("warning"):
            subject = f"[Liaison] SUSPICIOUS: {who} - {parsed.subject or '(no subject)'}"
        try:
            text, html = self._escalation_text(row, action, context)
            draft = escalation(parsed, original_row=row, sender=self.settings.address, to=recipients,
                               subject=subject, message_id=new_message_id(self.settings.address), text=text, html=html,
                               suspicious=bool(context.get("warning")))
        except (TemplateError, ValueError) as exc:
            self._failure(row, "escalate", str(exc))
            return f"escalation failed: {exc}"
        outbox.plan(self.store, dedupe_key=f"escalate:{row}:{number}", kind="escalate", draft=draft,
                    mail_from=self.settings.address, recipients=recipients, rule=action.rule, message_row=row,
                    thread_id=thread_id)
        also = f" ({', '.join(skipped)} {why})" if skipped else ""
        return f"escalate: {', '.join(recipients)}{also}"

    def _escalation_text(self, row: int, action: PlannedAction, context: dict[str, Any]) -> tuple[str, str]:
        """The rules' escalation template; if it fails, the shipped one: staff always hear of the
        client's message, and the broken template is recorded for the summary."""
        try:
            return self.templates.render(action.template or "escalate", "en", context)
        except TemplateError as exc:
            self._failure(row, "escalate", f"{exc}; sent with the shipped template instead")
            return TemplateLibrary().render("escalate", "en", context)

    def _recipients(self, names: list[str], context: dict[str, Any]) -> list[str]:
        addresses = self.rules.spec.addresses
        found = []
        for name in names:
            if name == "account_manager":
                # an impostor's also to the manager of the client it imitates: the one who can tell (22b, 22c)
                found.append(context["account_manager_email"] or context["imitated_manager_email"]
                             or addresses.get("team_lead", ""))
                found.append(context["imitated_manager_email"])
            elif name == "sender":
                found.append(context["client_address"])
            else:
                found.append(addresses.get(name, name if "@" in name else ""))
        found += self.rules.override(context["account_id"]).extra_recipients
        return list(dict.fromkeys(a for a in found if a))

    def _failure(self, row: int, action: str, reason: str) -> None:
        log.error("%s failed for message %s: %s", action, row, reason)
        self.store.insert("events", {"at": utcnow(), "kind": "action_failed", "message_row": row,
                                     "detail": {"action": action, "reason": reason}})

    # -- what templates can use ------------------------------------------------------------

    def _client(self, parsed: ParsedMessage, account_id: str | None, *, for_client: bool,
                language: Language) -> dict[str, Any]:
        """The client's name and subject for a template: for mail to the client, without a guessed charset."""
        name, subject = (parsed.name_for_client, parsed.subject_for_client) if for_client else (parsed.from_name,
                                                                                               parsed.subject)
        override, replies = self.rules.override(account_id), self.rules.spec.replies
        return {
            "greeting": greeting(language=language, tone=override.tone or replies.tone,
                                 display_name=name, address=parsed.from_addr),
            "client_first_name": first_name(name, parsed.from_addr),
            "client_name": name or parsed.from_addr,
            "subject": subject,
            "title": subject,
        }

    def _context(self, parsed: ParsedMessage, facts: Facts, link: Link, thread_id: int | None,
                 classification: Classification, index: AccountIndex, *, raw_size: int = 0) -> dict[str, Any]:
        account = index.accounts.get(link.account_id or "")
        # an impostor's mail goes to the manager of the client it imitates: the one who can tell (round 22b)
        imitated = index.accounts.get(link.claimed_account or "") if link.suspicious else None
        manager = account.account_manager if account else ""
        override = self.rules.override(link.account_id)
        replies = self.rules.spec.replies
        thread = self.store.one("SELECT chasers FROM threads WHERE id = ?", [thread_id]) if thread_id else None
        # a client's system's notice is escalated as what its words read as (round 25's "invoice REJECTED")
        category = "needs_review" if facts.needs_review else facts.notice_about or facts.category
        language = self._reply_language(facts)
        return {
            **self._client(parsed, link.account_id, for_client=False, language=language),
            "client_address": parsed.from_addr,
            "client_sender": shown_sender(parsed.from_name, parsed.from_addr),
            "account_id": link.account_id,
            "account_name": account.name if account else "",
            "account_manager_email": manager,
            "imitated_manager_email": imitated.account_manager if imitated else "",
            "account_manager_name": self._manager_name(manager) or "your account manager",
            "job_ref": link.job_ref or "",
            "category": category,
            "category_label": _label(category, facts),
            "notice": facts.notice_about is not None,
            # a follow-up: the kind of request it may ask after, when another (round 25: subjects marked a chase
            # only sometimes, urgency never)
            "chases_label": CATEGORY_LABELS.get(facts.chases, "").lower() if facts.chases not in (None, category)
            else "",
            "chase_note": _chase_note(facts, category),
            "urgent": "URGENT " if pressing(facts.entities) else "",
            "confidence": classification.confidence,
            "source": classification.source,
            "link_reason": link.reason if link.account_id else "",
            "warning": link.suspicious or "",
            "received": facts.received_at.strftime("%Y-%m-%d %H:%M UTC"),
            "message_id": parsed.message_id,
            "newest_text": facts.body[:4000] or _no_text(parsed),
            "chasers": thread["chasers"] if thread else 0,
            "entity_lines": entity_lines(facts.entities),
            # The acknowledgement names the invoice only when the mail names one: of two ("INV-1001 is fine, but
            # INV-1002 charges us twice") it cannot tell which is disputed (blind round 21). Escalations list all.
            "invoice_numbers": invoices if len(invoices := facts.entities.get("invoice_number", [])) == 1 else [],
            "promise": promise_in(replies.promise, language),
            "signature": in_language(replies.signature, language, SIGNATURES),
            "tone": override.tone or replies.tone,
            "language": language,
            "agency_address": self.settings.address,
            "acknowledged": False,
            "acknowledged_as": "",  # after a correction: what the client was thanked for, when it was something else
            # Escalations attach the original, or only its headers when it is too large to mail on.
            "original_attached": raw_size <= MAX_ATTACHED_ORIGINAL,
            "original_size": f"{raw_size / 1_000_000:.1f} MB",
        }


PROMISES: dict[Language, str] = {
    "en": "within one business day", "fr": "sous un jour ouvré", "de": "innerhalb eines Werktages",
    "es": "en un día laborable", "nl": "binnen één werkdag"}


SIGNATURES: dict[Language, str] = {
    "en": "The account team", "fr": "L'équipe clients", "de": "Ihr Kundenteam", "es": "El equipo de cuentas",
    "nl": "Het accountteam"}


def in_language(value: str | Mapping[Language, str] | None, language: Language,
                defaults: Mapping[Language, str]) -> str:
    """A reply text set in rules.yaml (one string, or one per language) in the reply's language."""
    if isinstance(value, Mapping):
        return value.get(language) or value.get("en") or defaults.get(language, defaults["en"])
    return value or defaults.get(language, defaults["en"])


def promise_in(promise: str | Mapping[Language, str] | None, language: Language) -> str:
    """What the acknowledgement promises, in the reply's language."""
    return in_language(promise, language, PROMISES)


def name_as_written(display_name: str, address: str) -> str:
    """The display name when it is the address's own name written as a person writes it ("Sanne de Vries" for
    sanne.devries@...; the same letters, other spaces and capitals), else ''. Nothing else a sender typed as
    a name is ever put in a client's acknowledgement."""
    name = " ".join(display_name.split())
    shaped = all(c.isalpha() or c in " -'." for c in name) and len(name) <= 60
    parts = [p for p in re.split(r"[^a-z]+", address.split("@")[0].lower()) if p]
    words = [w for w in re.split(r"[^a-z]+", name.lower()) if w]
    return name if shaped and parts and _words_make_parts(words, parts) else ""


def _words_make_parts(words: list[str], parts: list[str]) -> bool:
    """Whether the name's words, in order, spell the address's parts, each part one or more whole words:
    "Sanne de Vries" spells sanne.devries; "Sann Edevries" has the same letters and does not."""
    for part in parts:
        spelled = ""
        while words and len(spelled) < len(part):
            spelled += words.pop(0)
        if spelled != part:
            return False
    return not words


def name_from_address(address: str) -> str:
    """'Anna Berg' from anna.berg@agency.example."""
    local = address.split("@")[0]
    parts = [p for p in local.replace("_", ".").replace("-", ".").split(".") if p.isalpha()]
    return " ".join(p.capitalize() for p in parts)


def _deadline_shown(deadline: dict[str, Any]) -> str:
    check = f"; check: {deadline['check']}" if deadline.get("check") else ""  # the weekday and the date disagree
    return f"{deadline['text']} ({deadline['date']}{check})"


def entity_lines(entities: dict[str, list[Any]]) -> list[str]:
    lines = []
    labels = {"invoice_number": "invoice", "po_number": "PO", "job_ref": "job", "urgency": "urgency"}
    for label, values in entities.items():
        if label == "approval":  # the first says it; the others are the same sign-off told again
            lines.append(f'sign-off "{values[0]}"')
        elif label == "amount":
            lines.append("amount " + ", ".join(v["text"] for v in values))
        elif label == "deadline":
            lines.append("deadline " + ", ".join(_deadline_shown(v) for v in values))
        else:
            lines.append(f"{labels.get(label, label)} " + ", ".join(map(str, values)))
    return lines


def _chase_note(facts: Facts, category: str) -> str:
    """What an escalation's subject adds for a follow-up: "(chased)", "(asked again)" after the agency's reply, or the
    other kind of request it may ask after."""
    if facts.chases and facts.chases != category:
        return f" (after a {CATEGORY_LABELS.get(facts.chases, facts.chases).lower()})"
    if facts.chaser:
        return " (chased)"
    return " (asked again)" if facts.chases else ""  # after a reply from the agency (blind round 25b: no mark)


def _no_text(parsed: ParsedMessage) -> str:
    """What an escalation says under "What they wrote:" of a message with no text of its own (blind round 26: a
    TNEF-only mail was escalated with nothing there, and no hint where its words were)."""
    if any(a.content_type.lower() == "application/ms-tnef" or a.name.lower() == "winmail.dat"
           for a in parsed.attachments):
        return ("(no text: the message is in winmail.dat, Outlook's own format, in the attached original: open it "
                "in Outlook or a TNEF viewer)")
    if BINARY_TEXT in parsed.defects:
        return "(no text: its text part is binary data, a file sent as the body: see the attached original)"
    if parsed.attachments:
        names = ", ".join(a.name or a.content_type for a in parsed.attachments[:5])
        return f"(no text: only attachments, in the attached original: {names})"
    return "(no text)"


def _label(category: str, facts: Facts) -> str:
    """The escalation's name for what it is about: "Billing issue notice" for a client's system's, "Sign-off" for an
    approval that asks nothing else (blind round 26c: "[Liaison] Other: ..." hid the go-ahead from a manager)."""
    if facts.notice_about:
        return f"{CATEGORY_LABELS.get(category, category)} notice"
    if category == "other" and facts.entities.get("approval"):
        return "Sign-off"
    return CATEGORY_LABELS.get(category, category)
