"""The pipeline: the declared stages (inbox/stages/) run over each message, one message at a time.

ingest -> parse -> newest text -> automatic -> classify -> link -> thread -> route -> respond -> record

Each message is handled in ONE transaction: the raw bytes, every decision, the planned
outgoing mail and the mailbox position commit together or not at all. A message that
breaks a stage is rolled back and shunted aside (quarantined with the reason), and the
pipeline goes on with the next one.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Sequence

from classifiers import Classifier
from classifiers.categorize import Categorizer
from classifiers.linking import Account, AccountIndex, domain_of
from foundation.rules import Rules
from foundation.settings import Settings
from foundation.store import Store, learned_names, loads, unavailable
from inbox.models import load_active
from inbox.stages import STAGES, MessageContext, Outcome, Position, Stage, StageFactory, StageOrderError
from inbox.stages.record import store_quarantined
from responders.respond import Responder
from responders.templates import TemplateLibrary

log = logging.getLogger("liaison.pipeline")

__all__ = ["STAGES", "Outcome", "Pipeline", "Position", "learned_names"]


class Pipeline:
    def __init__(self, store: Store, settings: Settings, rules: Rules, *, model: Classifier | None = None,
                 known_names: dict[str, str] | None = None, stages: Sequence[StageFactory] = STAGES,
                 sent_elsewhere: sqlite3.Connection | None = None) -> None:
        """`model` and `known_names` (display name -> contact address, learned from earlier mail) let a
        scratch pipeline judge as the daemon would, from what the user's database holds. `stages` are
        the steps run over every message, in order (inbox/stages/STAGES). `sent_elsewhere`: the service's
        database, read-only, whose acknowledgements the caps count too (responders.respond.Responder)."""
        self.store = store
        self.sent_elsewhere = sent_elsewhere
        self.settings = settings
        self.model = model or load_active(store, settings.db_path)  # None: the shipped model
        self.known_names = known_names or {}
        self.seen_version = 0
        self.categorizer: Categorizer
        self.responder: Responder
        self.index: AccountIndex
        self.set_rules(rules)
        self.refresh_accounts()
        self.stages: list[Stage] = [make(self) for make in stages]

    def set_rules(self, rules: Rules) -> None:
        """Swap in new rules (already validated); the next message uses them."""
        self.rules = rules
        self.categorizer = Categorizer(rules, base=self.model)
        self.responder = Responder(self.store, self.settings, rules, TemplateLibrary(rules.template_dir),
                                   sent_elsewhere=self.sent_elsewhere)

    def use_model(self) -> None:
        """Load the active model version again (after `liaison model use` or a promoted retrain)."""
        self.model = load_active(self.store, self.settings.db_path)
        self.set_rules(self.rules)

    def refresh_accounts(self) -> None:
        """Read the accounts and the learned display names again (another process changed the database)."""
        self.seen_version = self.store.data_version()
        rows = self.store.all("SELECT * FROM accounts")
        accounts = [Account(r["account_id"], r["name"], r["code"] or "", tuple(loads(r["domains"], [])),
                            tuple(loads(r["contacts"], [])), r["account_manager"] or "") for r in rows]
        names = {**self.known_names, **self.store.learned_names()}
        ours = (*self.settings.agency_domains, domain_of(self.settings.address))
        self.index = AccountIndex.build(accounts, names, agency_domains=ours)

    def _refresh_if_changed(self) -> None:
        """Pick up what another process committed (`accounts import`, ...) before the next message.
        The pragma costs microseconds; the full re-read happens only when something did change."""
        if self.store.data_version() != self.seen_version:
            self.refresh_accounts()

    def _learn_name(self, message: MessageContext, outcome: Outcome) -> None:
        """A contact writing under a display name not yet known: learn it now, as a restart would
        (`learned_names`), so that the next message claiming that name from elsewhere is caught.
        In memory, not by reading the store again: a backlog from many new contacts stays linear."""
        parsed = message._parsed  # noqa: SLF001 - None when parsing never finished
        if parsed and outcome.status == "processed" and outcome.link_reason == "contact" and parsed.from_name:
            self.index.learn_name(parsed.from_name, parsed.from_addr)

    def backlog_until(self, folder: str, uidvalidity: int | None, uids: list[int], *, first_sight: bool) -> int:
        """The highest UID that was already in the folder when Liaison first saw it (0: none).

        Stored once, at first sight (an empty folder too, so that what arrives next is never taken
        for backlog), before any of that mail is processed, so that a restart in the middle of the
        backlog still knows where it ended."""
        found = self.store.one(
            "SELECT json_extract(detail, '$.until_uid') AS uid FROM events WHERE kind = 'first_sight' "
            "AND json_extract(detail, '$.folder') = ? AND json_extract(detail, '$.uidvalidity') = ?",
            [folder, uidvalidity])
        if found:
            return int(found["uid"])
        if not first_sight:
            return 0
        until = max(uids, default=0)
        self.store.event("first_sight", {"folder": folder, "uidvalidity": uidvalidity, "until_uid": until,
                                         "messages": len(uids), "backfill": self.rules.spec.backfill})
        return until

    # -- the one entry point ------------------------------------------------------------

    def ingest(self, raw: bytes, position: Position | None = None) -> Outcome:
        """Store and process one raw message exactly once; never raises for bad mail."""
        message = MessageContext(raw, hashlib.sha256(raw).hexdigest(), position or Position())
        stage = "ingest"
        try:
            with self.store.transaction():
                self._refresh_if_changed()  # under the write lock: no commit can slip in after the check
                for step in self.stages:
                    stage = step.name
                    message.stages.append(stage)
                    step.run(message)
                    if message.outcome:
                        break
                if message.outcome is None:  # a stage list without `record`: nothing said what became of it
                    raise StageOrderError("the outcome", "record")
                outcome = message.outcome
                self._advance(message.position)
        except Exception as exc:  # a bug or a hostile message: shunt it aside and go on
            if unavailable(exc):  # a full disk or a lock: nothing was recorded, the message is read again later
                raise
            log.exception("message quarantined after an internal error in the %s stage", stage)
            with self.store.transaction():
                outcome = store_quarantined(self.store, message,
                                            f"internal error in {stage}: {type(exc).__name__}: {exc}")
                self._advance(message.position)
        outcome.stages = message.stages
        self._learn_name(message, outcome)
        return outcome

    def _advance(self, position: Position) -> None:
        """Move the mailbox position past this message, in the same transaction as its facts."""
        if position.uid is None:
            return
        self.store.advance_position(position.folder, position.uidvalidity, position.uid)
