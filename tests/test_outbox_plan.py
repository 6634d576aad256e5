"""The outbox records what to send in the decision's transaction and builds the MIME when it sends (issue 14)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

import pytest

from foundation.settings import ServerSettings
from foundation.store import MIGRATIONS, Store
from inbox.daemon import Daemon
from responders import outbox
from responders.compose import build_notice, new_message_id
from responders.smtp import SMTPTransport
from tests.servers import RecordingHandler, SMTPServer, liaison_settings

if TYPE_CHECKING:
    from responders.smtp import Sends

ACCOUNTS = "account_id,name,code,domains,contacts,account_manager\nbrewco,BrewCo,BREW,brewco.com,,anna@agency.example\n"
SENDER = "accounts@agency.example"


def test_an_escalation_refers_to_the_stored_original_and_is_built_at_send_time(tmp_path, dovecot, smtp_server,
                                                                               make_message):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    raw = make_message(sender="Tom Hill <tom.hill@brewco.com>", subject="Artwork files",
                       body="Please change the headline on the attached artwork to 'Fresh daily'.",
                       attachments=[("artwork.pdf", b"%PDF-1.4 " + bytes(range(256)) * 8_000)])
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # as IMAP hands it over
    dovecot.append(raw)
    store = Store(settings.db_path)
    daemon = Daemon(settings, store)
    daemon.run_once()
    rows = store.all("SELECT kind, message_id, raw, plan, length(plan) AS size, status FROM outbox ORDER BY id")
    assert {r["kind"] for r in rows} == {"acknowledge", "escalate"}
    assert all(r["raw"] is None and r["status"] == "sent" for r in rows), "planned as drafts, not as MIME"
    escalation_row = next(r for r in rows if r["kind"] == "escalate")
    assert escalation_row["size"] < 100_000, "the 2 MB original is not copied into the outbox"
    original_row = json.loads(escalation_row["plan"])["original_row"]
    assert store.one("SELECT raw FROM messages WHERE id = ?", [original_row])["raw"] == raw
    (escalation,) = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated"]
    assert escalation["Message-ID"] == escalation_row["message_id"], "the Message-ID is the one fixed at plan time"
    assert [p.get_content_type() for p in escalation.iter_attachments()] == ["message/rfc822"]
    wire = next(data for *_, data in smtp_server.messages if b"Auto-Submitted: auto-generated" in data)
    assert raw in wire, "staff get the client's message byte for byte"
    store.close()


def _database_before_0008(path) -> None:
    """A database as the previous release left it: migrations up to 0007, a rendered message waiting."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for name, statements in MIGRATIONS:
        if name.startswith("0008"):
            break
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO _migrations VALUES (?, '2026-12-01')", [name])
    raw = b"From: accounts@agency.example\r\nTo: anna@agency.example\r\nSubject: Waiting\r\n" \
          b"Message-ID: <waiting@agency.example>\r\n\r\nPlanned before the upgrade.\r\n"
    conn.execute("INSERT INTO outbox (dedupe_key, kind, mail_from, recipients, message_id, subject, raw, status, "
                 "created_at, next_attempt_at) VALUES ('old', 'summary', ?, ?, '<waiting@agency.example>', "
                 "'Waiting', ?, 'pending', '2026-12-06T00:00:00+00:00', '2026-12-06T00:00:00+00:00')",
                 [SENDER, json.dumps(["anna@agency.example"]), raw])
    conn.close()


def test_migration_0008_keeps_mail_planned_before_it_and_sends_it(tmp_path, smtp_server):
    _database_before_0008(tmp_path / "liaison.db")
    store = Store(tmp_path / "liaison.db")
    assert store.one("SELECT name FROM _migrations WHERE name = '0008_outbox_plan'")
    assert store.one("SELECT plan FROM outbox WHERE dedupe_key = 'old'")["plan"] is None
    transport = SMTPTransport(ServerSettings(smtp_server.host, smtp_server.port, security="none"))
    assert outbox.flush(store, transport).sent == 1
    transport.close()
    assert b"Planned before the upgrade." in smtp_server.messages[0][2]
    store.close()


class CountingTransport(SMTPTransport):
    """The real SMTP transport, counting how often the outbox drives it."""

    batches = 0
    single_sends = 0

    def send(self, mail_from: str, recipients: list[str], raw: bytes) -> str:
        self.single_sends += 1
        return super().send(mail_from, recipients, raw)

    def send_each(self, sends: Sends) -> None:
        self.batches += 1
        super().send_each(sends)


def _plan_notices(store: Store, count: int) -> list[str]:
    ids = []
    with store.transaction():
        for n in range(count):
            message_id = new_message_id(SENDER)
            ids.append(message_id)
            outbox.plan(store, dedupe_key=f"n{n}", kind="summary", mail_from=SENDER, recipients=["anna@agency.example"],
                        message=build_notice(sender=SENDER, to=["anna@agency.example"], subject=f"Notice {n}",
                                             message_id=message_id, text="t", html="<p>t</p>"))
    return ids


def test_a_batch_leaves_over_one_connection_in_one_run_each_recorded(tmp_path, smtp_server):
    store = Store(tmp_path / "liaison.db")
    ids = _plan_notices(store, 25)
    transport = CountingTransport(ServerSettings(smtp_server.host, smtp_server.port, security="none"))
    result = outbox.flush(store, transport)
    transport.close()
    assert result.sent == 25
    assert (transport.batches, transport.single_sends) == (1, 0), "one batch, not one loop run per message"
    assert smtp_server.connections == 1
    sent = store.all("SELECT message_id FROM outbox WHERE status = 'sent' ORDER BY id")
    assert [r["message_id"] for r in sent] == ids
    assert [m["Message-ID"] for m in smtp_server.parsed()] == ids, "in order"
    store.close()


def test_in_a_batch_a_permanent_failure_is_given_up_and_a_temporary_one_ends_the_batch(tmp_path, smtp_server):
    store = Store(tmp_path / "liaison.db")
    _plan_notices(store, 5)
    smtp_server.fail_next(1, 554, "5.6.0 Message refused", stage="RCPT")
    transport = SMTPTransport(ServerSettings(smtp_server.host, smtp_server.port, security="none"))
    first = outbox.flush(store, transport)
    assert (first.sent, first.failed, first.retried) == (4, 1, 0)
    statuses = store.all("SELECT status FROM outbox ORDER BY id")
    assert [r["status"] for r in statuses] == ["failed", "sent", "sent", "sent", "sent"]
    with store.transaction():
        for n in range(5, 8):
            outbox.plan(store, dedupe_key=f"n{n}", kind="summary", mail_from=SENDER, recipients=["anna@agency.example"],
                        message=build_notice(sender=SENDER, to=["anna@agency.example"], subject=f"Notice {n}",
                                             message_id=new_message_id(SENDER), text="t", html="<p>t</p>"))
    smtp_server.fail_next(1, 451, "4.3.0 Try again later", stage="RCPT")
    second = outbox.flush(store, transport, retry_after=3600)
    transport.close()
    assert (second.sent, second.retried, second.failed) == (0, 1, 0), "a temporary failure ends the batch"
    assert [r["status"] for r in store.all("SELECT status FROM outbox WHERE id > 5 ORDER BY id")] == [
        "retry", "pending", "pending"]
    store.close()


def test_a_row_another_process_claimed_is_not_claimed_again(tmp_path):
    """Two processes sending from one database (`liaison summary --send` beside the daemon) each read a row as
    due; only the first to mark it `sending` may send it (blind round 25i: a summary arrived twice)."""
    first, second = Store(tmp_path / "liaison.db"), Store(tmp_path / "liaison.db")
    _plan_notices(first, 1)
    (row,) = outbox.due(second)  # read by both before either sends
    with first.transaction():
        assert first.claim_outbox(row["id"], status=row["status"], attempts=row["attempts"])
    with second.transaction():
        assert not second.claim_outbox(row["id"], status=row["status"], attempts=row["attempts"])
    first.close()
    second.close()


def test_two_processes_flushing_one_outbox_send_each_message_once(tmp_path, smtp_server):
    import threading

    ids = _plan_notices(Store(tmp_path / "liaison.db"), 40)
    stores = [Store(tmp_path / "liaison.db") for _ in range(2)]

    def flush(store: Store) -> None:
        transport = SMTPTransport(ServerSettings(smtp_server.host, smtp_server.port, security="none"))
        outbox.flush(store, transport)
        transport.close()

    workers = [threading.Thread(target=flush, args=(store,)) for store in stores]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert sorted(m["Message-ID"] for m in smtp_server.parsed()) == sorted(ids)
    assert stores[0].scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent'") == 40


def _claimed_by(store: Store, row_id: int, claim: str) -> None:
    with store.transaction():
        store.conn.execute("UPDATE outbox SET status = 'sending', attempts = 1, claimed_by = ? WHERE id = ?",
                           [claim, row_id])


def test_a_send_whose_process_was_killed_is_due_again_at_the_next_flush_and_a_live_ones_is_left(tmp_path,
                                                                                                smtp_server):
    """Round 25 leftover: a `summary --send` killed mid-send left its row "sending" until the daemon's next start;
    and a start took back rows a live process was sending (sent twice)."""
    import signal
    import subprocess
    import sys

    from foundation.process import _claim

    store = Store(tmp_path / "liaison.db")
    dead_id, live_id = _plan_notices(store, 2)
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    living = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        rows = {r["message_id"]: r["id"] for r in store.all("SELECT id, message_id FROM outbox")}
        _claimed_by(store, rows[dead_id], _claim(killed.pid))
        _claimed_by(store, rows[live_id], _claim(living.pid))
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        transport = SMTPTransport(ServerSettings(smtp_server.host, smtp_server.port, security="none"))
        outbox.flush(store, transport)
        transport.close()
        assert [m["Message-ID"] for m in smtp_server.parsed()] == [dead_id]
        assert store.one("SELECT status FROM outbox WHERE id = ?", [rows[live_id]])["status"] == "sending"
        assert outbox.recover(store) == 0  # a start beside the living sender takes nothing from it
    finally:
        living.kill()
        living.wait()
    assert outbox.recover(store) == 1  # once it is gone, its send is due again
    store.close()


def test_a_claim_from_another_host_or_none_is_taken_back():
    """The database is a local file: another host's claim is this machine's under an old name (a container made
    again), and a row from before claims were kept has none."""
    from foundation.process import process_gone, this_process

    assert process_gone(None) and process_gone("") and process_gone("an-old-container:1:123")
    assert not process_gone(this_process())


class LockingHandler(RecordingHandler):
    """Accepts the message, then holds the database locked for a second from another connection: the sender's
    record of the send cannot be written (as with a full disk), after the server has the message."""

    def __init__(self, db_path) -> None:
        super().__init__()
        self.db_path = db_path

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's naming
        answer = await super().handle_DATA(server, session, envelope)
        lock = sqlite3.connect(self.db_path, isolation_level=None, check_same_thread=False)
        lock.execute("BEGIN EXCLUSIVE")
        threading.Timer(1.0, lambda: (lock.execute("ROLLBACK"), lock.close())).start()
        return answer


def test_a_send_the_server_accepted_while_the_database_could_not_be_written_is_recorded_and_never_repeated(tmp_path):
    """Blind round 27: the disk filled while an acknowledgement was on the wire; the running daemon left it
    "sending" for ever (claimed by itself, alive), and a clean restart sent the client the same mail again."""
    store = Store(tmp_path / "liaison.db")
    (message_id,) = _plan_notices(store, 1)
    store.conn.execute("PRAGMA busy_timeout = 100")  # fail at once rather than wait for the lock
    server = SMTPServer(handler=LockingHandler(tmp_path / "liaison.db")).start()
    try:
        transport = SMTPTransport(ServerSettings(server.host, server.port, security="none"))
        outage = outbox.Outage()
        with pytest.raises(sqlite3.OperationalError):
            outbox.flush(store, transport, outage=outage)
        time.sleep(1.5)  # the disk has room again
        outbox.flush(store, transport, outage=outage)
        transport.close()
        assert store.one("SELECT status FROM outbox")["status"] == "sent"
        assert outbox.recover(store) == 0  # a restart has nothing to send again
        assert [m["Message-ID"] for m in server.parsed()] == [message_id]
    finally:
        server.cleanup()
    store.close()


def test_a_stop_while_the_database_cannot_be_written_waits_to_record_what_the_server_accepted(tmp_path, dovecot,
                                                                                               smtp_server):
    """Blind round 27b: stopped cleanly while the disk was still full, the daemon left a delivered send unrecorded,
    and the next start sent it again. The stop now waits a little for room to write it down."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    store = Store(settings.db_path)
    (message_id,) = _plan_notices(store, 1)
    row = store.one("SELECT id FROM outbox")["id"]
    _claimed_by(store, row, outbox.this_process())
    daemon = Daemon(settings, store)
    daemon.outage.accepted[row] = ("sent", "250 OK")
    store.conn.execute("PRAGMA busy_timeout = 100")
    lock = sqlite3.connect(settings.db_path, isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN EXCLUSIVE")
    threading.Timer(1.0, lambda: (lock.execute("ROLLBACK"), lock.close())).start()
    daemon._record_sends_before_stopping(pause=0.3)
    assert store.one("SELECT status FROM outbox")["status"] == "sent" and not daemon.outage.accepted
    assert outbox.recover(store) == 0 and message_id
    store.close()
