"""The runner: ingest new mail, process it, send what is due, then wait (IDLE or poll).

SIGTERM and SIGINT finish the current message and exit; SIGHUP reloads rules.yaml, which
is also reloaded when the file changes. A broken new rules file is refused and logged,
and the last good rules stay in force. Connection problems are retried with a capped
exponential backoff; nothing that goes wrong with one message stops the others, and each
periodic task runs isolated (inbox/periodic.py): one that fails is retried later while the
others go on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from foundation.accounts import staff_clashes
from foundation.errors import (
    AuthRevoked,
    DatabaseGone,
    MailboxCommandError,
    MailboxError,
    MailboxLoginRefused,
    PeriodicTaskError,
    RulesError,
    SMTPConnectError,
)
from foundation.message import shown_address
from foundation.oauth import TokenManager, provider_for
from foundation.rules import Rules, load_rules
from foundation.settings import Settings
from foundation.store import Store, unavailable, utcnow
from inbox import corrections, models
from inbox.imap_source import ImapSource
from inbox.notify import Notifier, StatusFile, rules_version
from inbox.periodic import PeriodicTask
from inbox.pipeline import Outcome, Pipeline, Position
from inbox.progress import Progress
from responders import outbox, summary
from responders.smtp import MaildirTransport, SMTPTransport, Transport
from responders.template_check import check_templates
from responders.templates import TemplateLibrary

log = logging.getLogger("liaison.daemon")
BACKOFF_START = 1.0
# A slow sending server (seconds a message) must not hold back reading the mailbox: after this long a flush
# stops between two messages, the loop comes round (new mail is read and planned), and sending goes on.
SEND_TURN = 5.0
BACKOFF_CAP = 60.0
CORRECTIONS_LOOK = 60.0  # seconds between looks at the correction folders while the mailbox is quiet


@dataclass
class RunStats:
    processed: int = 0
    quarantined: int = 0
    duplicates: int = 0
    sent: int = 0
    failed: int = 0


def load_checked_rules(path: Path, *, render_templates: bool = True, account_ids: set[str] | None = None) -> Rules:
    """Rules checked against the templates that exist, each template compiled and rendered with
    sample data, as every command and every reload loads them (`doctor` renders them as its own step);
    with `account_ids`, their accounts too, as `rules check` checks them."""
    first = load_rules(path)
    rules = load_rules(path, template_names=TemplateLibrary(first.template_dir).names(), account_ids=account_ids)
    if render_templates:
        check_templates(rules)
    return rules


class Daemon:
    def __init__(self, settings: Settings, store: Store, *, dry_run: bool = False,
                 shadow_dir: Path | None = None, source: ImapSource | None = None) -> None:
        self.settings = settings
        self.store = store
        self.rules = load_checked_rules(settings.rules_path, account_ids=self._account_ids())
        self._rules_mtime = _mtime(settings.rules_path)
        self._refused_problems: list[str] | None = None  # of the last rules refused, until good ones load
        self.pipeline = Pipeline(store, settings, self.rules)
        self.tokens = token_manager(store, settings)
        self.source = source or ImapSource(settings.imap, settings.folder, tokens=self.tokens,  # type: ignore[arg-type]
                                           stop=lambda: self.stopping)
        self.mailbox_stopped = False
        self.imap_outage_since: datetime | None = None  # when the mailbox became unreadable (not revoked)
        self.imap_outage_alerted = False
        self._outage_reason = ""  # the latest cause recorded for it
        self.imap_alert_after = outbox.OUTAGE_ALERT_AFTER
        self.dry_run = dry_run
        self.shadow_dir = shadow_dir or Path("liaison-shadow")
        self.transport = self._transport()
        self._release_shadow()
        self.stopping = False
        self.reload_requested = False
        self.stats = RunStats()
        self._show_progress = False
        self._searched_to: tuple[int | None, int] = (None, 0)
        self._backlog_noted: tuple[str, int | None] | None = None  # the folder whose backlog was reported
        self._summary_checked = 0.0
        self._corrections_looked = 0.0  # monotonic time of the last look at the correction folders
        self._retraining: threading.Thread | None = None  # the nightly retrain, while it runs
        self._database_down_since: float | None = None  # monotonic time the database first could not be written
        self._retrained = False  # it ended with a promoted model, not yet taken into use
        self._retrain_tried_on: date | None = None  # the night of the last retrain started by this process
        self.retrain_epochs: int | None = None  # the recipe's; fewer for a quicker, rougher candidate
        self._send_turn: float | None = None  # seconds of sending per turn of the loop; None: all that is due
        self._send_turn_ends = 0.0
        self._sending_cut = False  # the last flush stopped at the end of its turn, with more to send
        self.notifier = Notifier()
        # Beside the database this daemon runs on: a dry run's is a throw-away copy, so it never overwrites the
        # record of the live daemon that `liaison status` describes.
        self.status = StatusFile(store.path)
        self.outage = outbox.Outage()
        self.tasks = {name: PeriodicTask(name, run, store, passthrough=(MailboxError, AuthRevoked)) for name, run in (
            ("ingest", self._ingest), ("imap actions", self._apply_imap_actions),
            ("corrections", self._scan_corrections), ("retrain", self._maybe_retrain),
            ("thread refresh", self._refresh_threads), ("summaries", self._plan_summaries),
            ("outbox flush", self._flush))}

    # -- modes ----------------------------------------------------------------------------

    def run_once(self, *, show_progress: bool = False) -> RunStats:
        """Process everything new, send what is due, and return."""
        outbox.recover(self.store)
        self._warn_about_settings()
        self._connect_with_backoff(attempts=3)
        self._show_progress = show_progress
        # `liaison status` after a run from cron tells what it did, as after a service (round 20: "never")
        self.status.record(mode=f"{self._mode()}, one run", rules=rules_version(self.rules))
        self._run_tasks()
        if self.source.client is not None:
            self.status.record(last_fetch=utcnow(), imap_error=None)
            self._outage_over()
        failed = [f"{t.name} failed: {t.last_error}" for t in self.tasks.values() if t.failures]
        if self.outage.since is not None:  # the sending server could not be used: not a success
            failed.append(self.outage.error)
        else:
            try:  # also when nothing was due: wrong sending settings are an error, not "sent 0"
                self.transport.check()
            except SMTPConnectError as exc:
                failed.append(str(exc))
        self.close()
        if failed:
            raise PeriodicTaskError("; ".join(failed) + f" (processed {self.stats.processed}, sent {self.stats.sent}; "
                                    "what could not be done waits for the next run)")
        return self.stats

    def _warn_about_settings(self) -> None:
        """What doctor fails, said at every start, one run or a service, live or dry: an agency domain that is
        a client account's would make that client's mail staff mail, never acknowledged."""
        for clash in staff_clashes(self.store, self.settings.agency_domains):
            log.warning("SETTINGS: %s; remove it from agency_domains if it is the client's, or from the accounts "
                        "file if it is the agency's own", clash)
        self._warn_about_rules()

    def _warn_about_rules(self) -> None:
        """Rules that load but surely do what was not meant (`Rules.cautions`), at start and at every reload."""
        for caution in self.rules.cautions:
            log.warning("RULES: %s", caution)

    def run_forever(self) -> RunStats:
        self._install_signals()
        self._send_turn = SEND_TURN
        outbox.recover(self.store)
        log.info("liaison running (rules %s, mode %s)", self.settings.rules_path, self._mode())
        self._warn_about_settings()
        self.status.record(mode=self._mode(), rules=rules_version(self.rules), stopped_at=None, database_error=None)
        self.notifier.ready(f"watching {self.settings.folder}")  # configured; the watchdog judges the connection
        backoff = BACKOFF_START
        while not self.stopping:
            try:
                if self.source.client is None:
                    self.source.connect()
                    backoff = BACKOFF_START
                    self._mailbox_resumed()
                self._cycle()
            except AuthRevoked as exc:
                self._mailbox_stopped(exc)
            except MailboxError as exc:
                if self.stopping:  # a command cut short by the stop (abort()), not an outage
                    break
                self.source.close()
                self._mailbox_unreadable(exc, retry_in=backoff)
                self._sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_CAP)
            except sqlite3.OperationalError as exc:
                if not unavailable(exc):
                    raise
                self._database_unavailable(exc, retry_in=backoff)
                self._sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_CAP)
            else:
                backoff = BACKOFF_START  # a whole turn went well: the mailbox and the database are both back
        self.notifier.stopping()
        self._record_sends_before_stopping()
        self.close()
        self.status.record(stopped_at=utcnow())  # `status` tells a clean stop from a crash (round 23)
        log.info("liaison stopped")
        return self.stats

    def close(self) -> None:
        self.source.close()
        self.transport.close()

    def _record_sends_before_stopping(self, *, tries: int = 10, pause: float = 3.0) -> None:
        """Sends the server accepted while the database could not be written are recorded before the stop, waiting
        a little for room (blind round 27b: a stop during a full disk, and the next start sent them again); what
        still cannot be written is named in an ERROR, for the next start sends it again."""
        for attempt in range(tries):
            try:
                outbox.record_accepted(self.store, self.outage)
                return
            except sqlite3.OperationalError as exc:
                if not unavailable(exc) or attempt == tries - 1:
                    ids = [row["message_id"] for row in self.store.all(
                        f"SELECT message_id FROM outbox WHERE id IN ({', '.join('?' for _ in self.outage.accepted)})",
                        list(self.outage.accepted))]
                    log.error("stopping with %d mail(s) delivered but not recorded (the database cannot be written: "
                              "%s): %s; the next start sends them again%s", len(ids), exc, ", ".join(ids),
                              "" if self.settings.sent_folder else " (with LIAISON_IMAP_SENT_FOLDER set, it looks "
                              "for them in the Sent folder first)")
                    return
                time.sleep(pause)

    def _database_unavailable(self, exc: sqlite3.OperationalError, *, retry_in: float) -> None:
        """A full disk, a lock held by another process, a read-only file: nothing could be recorded, so nothing
        was done (round 23: it ended the daemon, and each message in the way was logged as quarantined)."""
        if self._database_down_since is None:
            gone = isinstance(exc, DatabaseGone)
            self.status.record(database_error=str(exc), database_error_at=utcnow(), database_gone=gone)
            self._database_down_since = time.monotonic()
            if gone:  # blind round 26b: it said "nothing is lost" of a deleted file
                log.error("the database %s: nothing more is read or sent. What the file held (the outbox not yet "
                          "sent, the accounts, every thread) is lost unless it is restored. While Liaison still "
                          "runs, the deleted file can be copied back: %s; then restart Liaison (a new, empty "
                          "database answers none of the mail already in the mailbox, and needs `liaison accounts "
                          "import` again)", exc, self._rescue_hint())
                return
            log.error("the database %s cannot be written (%s): nothing is lost (unread mail stays in the mailbox, the "
                      "outbox waits); trying again in %ds", self.settings.db_path, exc, retry_in)
        else:
            log.warning("the database %s still cannot be written (%s); trying again in %ds", self.settings.db_path,
                        exc, retry_in)

    def _rescue_hint(self) -> str:
        """How to copy a deleted database back from this process's open file (blind round 26c: the advice to stop
        first destroyed the only copy)."""
        path = self.settings.db_path.absolute()
        for fd in Path("/proc/self/fd").iterdir() if Path("/proc/self/fd").is_dir() else []:
            with contextlib.suppress(OSError):
                if os.readlink(fd) == f"{path} (deleted)":
                    return f"`cp /proc/{os.getpid()}/fd/{fd.name} {path}` (and its -wal file, if it is still there)"
        return f"copy it from /proc/{os.getpid()}/fd/ (the entry that reads '{path} (deleted)')"

    def _database_back(self) -> bool:
        """After a turn that wrote: True when the database had been unavailable until now."""
        if self._database_down_since is None:
            return False
        log.info("the database can be written again after %s",
                 outbox.duration(timedelta(seconds=time.monotonic() - self._database_down_since)))
        self._database_down_since = None
        self.status.record(database_error=None, database_error_at=None, database_gone=False)
        return True

    def _mailbox_stopped(self, exc: AuthRevoked) -> None:
        """Sign-in revoked: stop reading this mailbox, keep everything else running, and look
        again once a minute in case someone ran `liaison auth login`."""
        if not self.mailbox_stopped:
            log.error("mailbox %s stopped: %s", self.settings.imap.user if self.settings.imap else "?", exc)
            self.mailbox_stopped = True
        self.source.close()
        self.notifier.ping()  # stopped on purpose and alerted: a restart would not sign it in again
        self._maybe_reload()
        self._run_tasks("summaries", "outbox flush")
        self._sleep(60)

    def _mailbox_resumed(self) -> None:
        if self.mailbox_stopped:
            log.info("mailbox signed in again; resuming")
            self.mailbox_stopped = False
        if self.imap_outage_since is not None:
            log.info("reading the mailbox again after %s", outbox.duration(datetime.now(UTC) - self.imap_outage_since))
            self.imap_outage_since, self.imap_outage_alerted = None, False
        self._outage_over()

    def _outage_over(self) -> None:
        """The mailbox was read: an outage recorded as begun (by this process or one stopped during it) is over,
        so that a summary no longer says the inbox cannot be read."""
        if self.store.one("SELECT 1 FROM events WHERE kind = 'imap_unreadable' AND id > COALESCE((SELECT MAX(id) "
                          "FROM events WHERE kind = 'imap_readable'), 0)"):
            self.store.event("imap_readable", {})

    def _mailbox_unreadable(self, exc: MailboxError, *, retry_in: float) -> None:
        """The mailbox cannot be read (a refused login, a server down): said in the status from when it began,
        an ERROR and a summary alert once it has lasted as long as an SMTP outage that gets one; meanwhile
        rules reload, summaries are planned and the outbox is sent, as when a sign-in is revoked."""
        now = datetime.now(UTC)
        if self.imap_outage_since is None:
            self.imap_outage_since = now
            self.status.record(imap_error=str(exc), imap_error_at=utcnow())
            # recorded at once, not only at the alert: a summary sent meanwhile must not say "Nothing is waiting"
            self.store.event("imap_unreadable", {"reason": str(exc)})
        else:
            self.status.record(imap_error=str(exc))
            if str(exc) != self._outage_reason:  # the summary says the latest cause (round 22b: "connection lost
                self.store.event("imap_unreadable", {"reason": str(exc)})  # while idling", then a login refused)
        self._outage_reason = str(exc)
        lasted = now - self.imap_outage_since
        # a refused login is a setting to correct, not an outage to wait out: said at once (blind round 26)
        if not self.imap_outage_alerted and (lasted >= self.imap_alert_after or isinstance(exc, MailboxLoginRefused)):
            self.imap_outage_alerted = True
            lasting = "" if isinstance(exc, MailboxLoginRefused) else f" for {outbox.duration(lasted)}"  # not "0m 0s"
            log.error("cannot read the mailbox%s: %s; summaries and sending go on", lasting, exc)
            self.store.event("imap_unavailable", {"reason": f"cannot read the mailbox since "
                                                            f"{self.imap_outage_since:%Y-%m-%d %H:%M} UTC: {exc}"})
        else:
            log.warning("%s; reconnecting in %.0fs", exc, retry_in)
        self._maybe_reload()
        self._run_tasks("summaries", "outbox flush")

    # -- one turn of the loop -------------------------------------------------------------

    def _cycle(self) -> None:
        self.store.ensure_present()
        self._maybe_reload()
        self._run_tasks()
        self._database_back()  # written: `status` says so now, not after the next mail (blind round 26)
        self._turn_done()
        if self.stopping:
            return
        # Never trust a notice over the mailbox: mail that arrived while we were busy may have had
        # its EXISTS swallowed, so UIDNEXT is compared with our position before every wait.
        if self._sending_cut or (self.tasks["ingest"].due and self.source.has_news(self._waiting_above())):
            return
        self.source.wait(self._wait_seconds(), self._should_wake)

    def _turn_done(self) -> None:
        """A turn that talked to the IMAP server without error: the loop is alive; tell systemd's watchdog."""
        if self.source.client is not None:
            self.notifier.ping()
            self.status.record(last_fetch=utcnow(), imap_error=None)

    def _run_tasks(self, *names: str) -> None:
        """Each task isolated (a failure is recorded, alerted and retried later); all of them by default."""
        for name, task in self.tasks.items():
            if not names or name in names:
                task()

    def _last_uid(self, *, quiet: bool = False) -> int:
        """Our position in the folder: 0 when the folder's UIDVALIDITY is not the one we stored."""
        folder = self.settings.folder
        state = self.store.one("SELECT uidvalidity, last_uid FROM mailbox_state WHERE folder = ?", [folder])
        if state and state["uidvalidity"] != self.source.uidvalidity:
            if not quiet:
                log.warning("UIDVALIDITY of %s changed (%s -> %s): resyncing; duplicates are recognised",
                            folder, state["uidvalidity"], self.source.uidvalidity)
            return 0
        return state["last_uid"] if state else 0

    def _waiting_above(self) -> int:
        """The UID above which mail would be new: our stored position, or what this process last
        searched, should a message there have been skipped (fetched without a body, say)."""
        uidvalidity, searched = self._searched_to
        return max(self._last_uid(quiet=True), searched if uidvalidity == self.source.uidvalidity else 0)

    def _ingest(self) -> None:
        folder = self.settings.folder
        first_sight = self.store.one("SELECT 1 FROM mailbox_state WHERE folder = ?", [folder]) is None
        uids = self.source.new_uids(self._last_uid())
        backlog_until = self.pipeline.backlog_until(folder, self.source.uidvalidity, uids, first_sight=first_sight)
        if not uids:
            self._note_backlog(backlog_until)
            return
        progress = Progress(len(uids), "messages", enabled=self._show_progress)
        for uid, raw, arrived in self.source.fetch(uids):
            position = Position(folder, self.source.uidvalidity, uid, arrived, backlog=uid <= backlog_until)
            outcome = self.pipeline.ingest(raw, position)
            self._count(outcome)
            self.notifier.ping()  # a long backlog is progress, not a stall
            progress.advance()
            if self.stopping:
                break
        else:
            self._searched_to = (self.source.uidvalidity, uids[-1])
            self._note_backlog(backlog_until)
        progress.finish()

    def _note_backlog(self, until: int) -> None:
        """Say once how much mail found at first start was recorded without answering (log and summary):
        when the whole backlog is through, counted in the store, so that a restart in the middle of it
        (a stop, a kill -9) neither splits the figure nor loses the part recorded before it."""
        folder, uidvalidity = self.settings.folder, self.source.uidvalidity
        if not until or self._backlog_noted == (folder, uidvalidity):
            return
        self._backlog_noted = (folder, uidvalidity)
        if self.store.one("SELECT 1 FROM events WHERE kind = 'backlog_recorded' AND (json_extract(detail, "
                          "'$.folder') IS NULL OR (json_extract(detail, '$.folder') = ? AND "
                          "json_extract(detail, '$.uidvalidity') = ?))", [folder, uidvalidity]):
            return  # said already (a report without a folder is from before reports named it)
        count = self.store.scalar(  # the respond stage's words for it, as the summary lists them
            "SELECT COUNT(*) FROM messages WHERE folder = ? AND uidvalidity = ? AND uid <= ? "
            "AND route LIKE '%not answered: already in%'", [folder, uidvalidity, until])
        if count:
            reason = (f"{count} message(s) already in {folder} when Liaison first saw it were "
                      f"recorded without answering (backfill: {self.rules.spec.backfill})")
            log.info("%s", reason)
            self.store.event("backlog_recorded", {"reason": reason, "count": count, "folder": folder,
                                                  "uidvalidity": uidvalidity})

    def _scan_corrections(self) -> None:
        """Messages account managers moved or copied into the correction folders since the last look, and the
        escalations every new correction calls for."""
        self._corrections_looked = time.monotonic()
        if self.dry_run:
            return  # a shadow run changes nothing a live run will read
        if self.source.client is not None:
            found = self.source.session(lambda client: corrections.scan_folders(
                client, self.store, self.rules.spec.learning, watched=self.settings.folder,
                delimiter=self.source.delimiter))
            if found:
                log.info("%d correction(s) recorded from the correction folders", len(found))
        # every correction, by whatever route it came (folders, a summary reply, `liaison correct`)
        corrections.follow_up(self.store, self.pipeline.responder, self.rules, self.pipeline.index)

    def _maybe_retrain(self) -> None:
        """Once a night, when enabled and enough corrections exist: retrain, promoted only if no worse."""
        learning = self.rules.spec.learning
        if self._retrain_done() or not learning.nightly_retrain or self.dry_run:
            return
        zone = self.rules.zone()
        now = datetime.now(UTC).astimezone(zone)
        if now.time() < learning.retrain_time:
            return
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC).isoformat()
        if self._retrain_tried_on == now.date() or self.store.one("SELECT 1 FROM models WHERE created_at >= ?",
                                                                  [midnight]):
            return  # tonight's retrain has run (promoted or not), or failed: once a night
        if self.store.scalar("SELECT COUNT(*) FROM corrections") < learning.retrain_after:
            return
        self._retrain_tried_on = now.date()
        self._retraining = threading.Thread(target=self._retrain_apart, name="nightly retrain", daemon=True)
        self._retraining.start()
        log.info("nightly retrain started; mail is handled with the running model meanwhile")

    def _retrain_done(self) -> bool:
        """Whether a retrain is under way (False once it has ended: a promoted model is taken into use here, in
        the loop's own thread)."""
        if self._retraining is None:
            return False
        if self._retraining.is_alive():
            return True
        self._retraining = None
        if self._retrained:
            self.pipeline.use_model()
            self._retrained = False
        return False

    def _retrain_apart(self) -> None:
        """The nightly retrain in its own thread with its own connection: it takes as long as `liaison train`
        (1-2 hours), during which the loop goes on answering mail and pinging the watchdog (it ran in the loop,
        so a service with a watchdog was killed in it every night)."""
        store = Store(self.settings.db_path)
        try:
            version, verdict = models.retrain(store, self.settings.db_path, epochs=self.retrain_epochs)
            self._retrained = verdict.promote
            log.info("nightly retrain: model %s %s: %s", version,
                     "promoted" if verdict.promote else "kept as candidate", "; ".join(verdict.reasons))
        except Exception:
            log.exception("nightly retrain failed; the running model stays")
        finally:
            store.close()

    def _refresh_threads(self) -> None:
        """A person answering from their mail client (\\Answered) or moving the client's message to
        the Done folder marks its thread handled, as an agency reply in the thread does."""
        rows = self.store.all(
            "SELECT m.uid, m.message_id, m.thread_id FROM messages m JOIN threads t ON t.id = m.thread_id "
            "WHERE t.status = 'open' AND m.uid IS NOT NULL AND m.uidvalidity = ? AND m.folder = ? "
            "AND m.staff = 0 ORDER BY m.id DESC LIMIT 500",
            [self.source.uidvalidity, self.settings.folder])
        if not rows:
            return
        answered, gone = self.source.answered_or_gone([r["uid"] for r in rows])
        done_ids: set[str] = set()
        if gone and self.settings.done_folder:
            done_ids = self.source.in_folder(self.settings.done_folder,
                                             [r["message_id"] for r in rows if r["uid"] in gone])
        with self.store.transaction():
            for r in rows:
                reason = ("answered from a mail client (\\Answered)" if r["uid"] in answered else
                          f"moved to {self.settings.done_folder}" if r["message_id"] in done_ids else None)
                if reason:
                    self.store.close_thread(r["thread_id"], reason)

    def _count(self, outcome: Outcome) -> None:
        if outcome.status == "duplicate":
            self.stats.duplicates += 1
            return
        if outcome.status == "quarantined":
            self.stats.quarantined += 1
            log.warning("quarantined message %s: %s", outcome.row, outcome.reason,
                        extra={"decision": {"row": outcome.row, "status": "quarantined", "reason": outcome.reason}})
            return
        self.stats.processed += 1
        # round 22c: a shadow daemon's log read as a live one's ("acknowledge ..." with no word that nothing went)
        unsent = (f" ({self._mode()}: nothing sent, mail written to {self.shadow_dir})"
                  if self._shadow() and outcome.actions else "")
        log.info("message %s %r from %s: %s (%.2f) account=%s by %s; %s%s", outcome.message_id,
                 outcome.subject[:80], shown_address(outcome.sender),
                 outcome.category, outcome.confidence, outcome.account_id or "-", outcome.link_reason,
                 "; ".join(outcome.actions) or "no action", unsent,
                 extra={"decision": {"message_id": outcome.message_id, "subject": outcome.subject[:200],
                                     "sender": outcome.sender,
                                     "category": outcome.category, "confidence": round(outcome.confidence, 3),
                                     "account": outcome.account_id, "link": outcome.link_reason,
                                     "actions": outcome.actions}})

    def _plan_summaries(self) -> None:
        # the templates read with the last good rules, as acknowledgements are: a summary template broken since is
        # the next reload's to refuse
        templates = self.pipeline.responder.templates
        planned = summary.plan_due(self.store, self.rules, templates, self.settings.address, datetime.now(UTC))
        if planned:
            log.info("planned %d daily summary(ies)", planned)

    def _flush(self) -> None:
        self._sending_cut = False
        self._send_turn_ends = time.monotonic() + (self._send_turn or 0.0)
        result = outbox.flush(self.store, self.transport, stop=self._flush_should_stop,
                              retry_after=self.settings.retry_after, outage=self.outage,
                              already_sent=self._in_sent_folder if self.settings.sent_folder else None)
        self.stats.sent += result.sent
        self.stats.failed += result.failed
        if not self.outage.recorded_up and self.outage.since is None and not self.stopping:
            # Nothing was due: still find out now, not at the first reply, whether mail can leave. After the
            # first intake, so that a sick sending server never holds back reading the mailbox.
            outbox.check_server(self.store, self.transport, outage=self.outage, retry_after=self.settings.retry_after)

    def _in_sent_folder(self, message_id: str) -> bool:
        return message_id in self.source.in_folder(self.settings.sent_folder, [message_id], must_exist=True)

    def _flush_should_stop(self) -> bool:
        self.notifier.ping()  # a slow SMTP server sending one by one is progress, not a stall
        if self.stopping:
            return True
        self._sending_cut = self._send_turn is not None and time.monotonic() > self._send_turn_ends
        return self._sending_cut

    def _apply_imap_actions(self) -> None:
        """Keywords and moves the rules asked for, each recorded when done."""
        pending = self.store.all(
            "SELECT a.id, a.verb, a.argument, m.uid, m.uidvalidity FROM imap_actions a "
            "JOIN messages m ON m.id = a.message_row WHERE a.status = 'pending' ORDER BY a.id")
        for action in pending:
            if self._shadow():
                status, error = "shadow", None
            elif action["uid"] is None or action["uidvalidity"] != self.source.uidvalidity:
                status, error = "skipped", "message no longer addressable by UID"
            else:
                status, error = self._imap_action(action)
            with self.store.transaction():
                self.store.update("imap_actions", "id", action["id"],
                                  {"status": status, "error": error, "done_at": utcnow()})
                if error:
                    self.store.insert("events", {"at": utcnow(), "kind": "action_failed", "detail": {
                        "action": action["verb"], "reason": f"{action['argument']}: {error}"}})

    def _imap_action(self, action: dict[str, Any]) -> tuple[str, str | None]:
        try:
            if action["verb"] == "keyword":
                self.source.add_keyword(action["uid"], action["argument"])
            else:
                self.source.move(action["uid"], action["argument"])
        except MailboxCommandError as exc:
            log.error("%s %s failed: %s", action["verb"], action["argument"], exc)
            return "failed", str(exc)
        return "done", None

    # -- rules, signals, timing --------------------------------------------------------------

    def request_reload(self) -> None:
        self.reload_requested = True

    def _maybe_reload(self) -> None:
        mtime = _mtime(self.settings.rules_path)
        if not self.reload_requested and mtime == self._rules_mtime:
            return
        self.reload_requested = False
        self._rules_mtime = mtime
        try:
            rules = load_checked_rules(self.settings.rules_path, account_ids=self._account_ids())
        except RulesError as exc:
            log.error("rules not reloaded, keeping the last good rules:\n%s", exc)
            if exc.problems != self._refused_problems:  # a SIGHUP after the edit it noticed: one refusal, not two
                self.store.event("rules_refused", {"problems": exc.problems})
            self._refused_problems = exc.problems
            return
        if self._refused_problems is not None:  # the summary says the refusal it lists was put right
            self.store.event("rules_fixed", {"reason": f"good rules loaded from {self.settings.rules_path}"})
        self._refused_problems = None
        self.rules = rules
        self.pipeline.set_rules(rules)
        self.pipeline.use_model()  # `liaison model use` or a promoted retrain take effect on reload
        self.transport.close()
        self.transport = self._transport()
        self._release_shadow()
        self.status.record(rules=rules_version(rules))
        log.info("rules reloaded from %s (%d rules, mode %s)", self.settings.rules_path,
                 len(rules.spec.rules), self._mode())
        self._warn_about_rules()

    def _should_wake(self) -> bool:
        if self.stopping or self.reload_requested:
            return True
        if _mtime(self.settings.rules_path) != self._rules_mtime:
            return True
        due = outbox.next_due_at(self.store)
        if due is not None and due.timestamp() <= time.time():
            return True
        # a copy into a correction folder wakes no IDLE on the watched folder (round 22: noticed after minutes)
        if time.monotonic() - self._corrections_looked >= CORRECTIONS_LOOK:
            return True
        return self._summary_due()

    def _summary_due(self) -> bool:
        """Checked once a minute while idle: is a daily summary now due that was not planned?"""
        now = time.monotonic()
        if now - self._summary_checked < 60:
            return False
        self._summary_checked = now
        try:
            day = summary.due_day(self.rules, datetime.now(UTC))
            return day is not None and any(
                not self.store.one("SELECT 1 FROM outbox WHERE dedupe_key = ?", [f"summary:{r}:{day.isoformat()}"])
                for r, _ in summary.recipients(self.store, self.rules))
        except Exception:  # noqa: BLE001 - woken, the summaries task fails in its own turn, says why and retries
            return True  # (round 23: this check's TypeError ended the daemon, in a restart loop)

    def _wait_seconds(self) -> float:
        wait = self.settings.poll_interval if not self.source.has_idle else 25 * 60
        retries = [s for s in (t.seconds_to_retry() for t in self.tasks.values()) if s is not None]
        return self.notifier.longest_wait(min([wait, *retries]))

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s: finishing the current message", signal.Signals(signum).name)
            self.stopping = True
            self.source.abort()  # a hung IMAP server must not hold the stop for its read timeout

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, lambda *_: self.request_reload())

    def _connect_with_backoff(self, *, attempts: int) -> None:
        delay = BACKOFF_START
        for attempt in range(attempts):
            try:
                self.source.connect()
                return
            except MailboxError as exc:
                if attempt == attempts - 1:
                    raise
                log.warning("%s; retrying in %.0fs", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, BACKOFF_CAP)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(0.2)

    def _mode(self) -> str:
        return "dry-run" if self.dry_run else self.rules.spec.mode

    def _account_ids(self) -> set[str] | None:
        """The accounts rules.yaml may name, as `rules check` checks them (round 22b: an override keyed by the
        account's code was refused by `rules check` and silently ignored by the daemon). None before any import."""
        return {r["account_id"] for r in self.store.all("SELECT account_id FROM accounts")} or None

    def _release_shadow(self) -> None:
        """Sending for real (not a dry run, `mode: live`): a shadow period's mail, never sent, holds nothing back."""
        if not self._shadow():
            outbox.release_shadow(self.store)

    def _shadow(self) -> bool:
        """Deciding without sending: a dry run, or rules.yaml's `mode: shadow`."""
        return self.dry_run or self.rules.spec.mode == "shadow"

    def _transport(self) -> Transport:
        if self._shadow():
            return MaildirTransport(self.shadow_dir)
        if self.settings.smtp is None:
            raise MailboxError("LIAISON_SMTP_HOST is required to send (or use --dry-run)")
        return SMTPTransport(self.settings.smtp, tokens=self.tokens, stop=lambda: self.stopping)


def token_manager(store: Store, settings: Settings) -> TokenManager | None:
    """The token manager for the shared mailbox, when either server uses OAuth2."""
    if settings.oauth is None:
        return None
    mailbox = settings.imap.user if settings.imap else settings.address
    return TokenManager(store, mailbox, provider_for(settings.oauth), settings.oauth)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
