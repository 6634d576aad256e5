"""Faults: kill -9, SMTP outages and refusals, UIDVALIDITY changes, concurrent access, TLS."""

from __future__ import annotations

import json
import logging
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from foundation.errors import LiaisonError, MailboxError, TemporarySendError
from foundation.settings import ServerSettings, Settings
from foundation.store import Store
from inbox.daemon import Daemon
from inbox.imap_source import ImapSource
from responders.smtp import SMTPTransport
from tests.servers import DovecotServer, quiet_rules
from tests.test_daemon import daemon_env, no_daemon_left_behind, start, stop  # noqa: F401 - fixture reuse

ROOT = Path(__file__).parent.parent


def settings_for(tmp_path: Path, dovecot, smtp_server, **overrides) -> Settings:
    values = dict(
        address="accounts@agency.example", agency_domains=("agency.example",), db_path=tmp_path / "liaison.db",
        rules_path=quiet_rules(tmp_path, ROOT / "rules.yaml"),
        imap=ServerSettings(dovecot.host, dovecot.port, dovecot.user, dovecot.password, security="none"),
        smtp=ServerSettings(smtp_server.host, smtp_server.port, security="none"), retry_after=0.2)
    values.update(overrides)
    return Settings(**values)


def import_brewco(path: Path) -> None:
    from foundation.accounts import import_accounts, read_accounts_csv

    csv_path = path.parent / "accounts.csv"
    csv_path.write_text("account_id,name,code,domains,contacts,account_manager\n"
                        "brewco,BrewCo,BREW,brewco.com,,anna@agency.example\n")
    store = Store(path)
    import_accounts(store, read_accounts_csv(csv_path))
    store.close()


def run_once(settings: Settings) -> None:
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    store.close()


def acks_by_original(smtp_server) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in smtp_server.parsed():
        if message["Auto-Submitted"] == "auto-replied":
            counts[message["In-Reply-To"]] = counts.get(message["In-Reply-To"], 0) + 1
    return counts


BACKLOG = 60  # and 12 kills: 120 and 20 before the corpus grew and CI's time limit came near


@pytest.mark.slow
def test_kill_9_at_random_moments_without_a_sent_folder_loses_nothing_and_repeats_only_interrupted_sends(
        daemon_env, tmp_path, dovecot, smtp_server, make_message):  # noqa: F811
    """Without a Sent folder the one window SMTP leaves open (the server accepted, we died before recording
    it) can repeat a message: only one whose send was recorded as started and never as finished, and with
    its first Message-ID, so the receiver can tell. Exactly once where the provider keeps a Sent copy is
    tests/test_sent_folder.py's kill campaign."""
    rng = random.Random(20261123)
    deserving = []
    batch = []
    for i in range(BACKLOG):
        if i % 4 == 3:
            batch.append(make_message(sender=f"news{i}@brewco.com", subject=f"Newsletter {i}", body="News.",
                                      headers={"Precedence": "bulk"}))
            continue
        message_id = f"<kill-{i}@brewco.com>"
        deserving.append(message_id)
        batch.append(make_message(sender=f"client{i}@brewco.com", subject=f"Banner {i}", message_id=message_id,
                                  body="Please change the headline on the banner to 'Fresh daily'."))
    dovecot.append_many(batch)
    for _ in range(12):
        log = open(tmp_path / "daemon.log", "w")  # noqa: SIM115
        process = subprocess.Popen([sys.executable, "-m", "inbox.cli", "run"], env=daemon_env, cwd=tmp_path,
                                   stdout=log, stderr=subprocess.STDOUT)
        time.sleep(rng.uniform(0.8, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    process = start(daemon_env, tmp_path)
    deadline = time.monotonic() + 120
    while len(acks_by_original(smtp_server)) < len(deserving) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    assert stop(process) == 0
    counts = acks_by_original(smtp_server)
    assert sorted(counts) == sorted(deserving), "no acknowledgement missing"
    store = Store(daemon_env["LIAISON_DB"])
    outbox = {r["message_id"]: r for r in store.all("SELECT message_id, kind, attempts, status FROM outbox")}
    assert all(r["status"] == "sent" for r in outbox.values())
    copies = Counter(m["Message-ID"] for m in smtp_server.parsed())
    for message_id, times in copies.items():
        assert message_id in outbox, f"{message_id} was sent but never planned"
        assert times <= outbox[message_id]["attempts"], f"{message_id} sent {times}x, started {outbox[message_id]}"
    ack_ids: dict[str, set[str]] = {}
    for m in smtp_server.parsed():
        if m["Auto-Submitted"] == "auto-replied":
            ack_ids.setdefault(m["In-Reply-To"], set()).add(m["Message-ID"])
    assert all(len(ids) == 1 for ids in ack_ids.values()), "a repeat is the same message, never a second one"
    assert sum(counts.values()) - len(counts) <= sum(1 for r in outbox.values() if r["attempts"] > 1)
    rows = store.all("SELECT message_id, status, category FROM messages")
    assert len(rows) == BACKLOG and len({r["message_id"] for r in rows}) == BACKLOG
    assert all(r["status"] == "processed" and r["category"] for r in rows)


def test_smtp_outage_then_recovery_delivers_everything_once_in_order(tmp_path, dovecot, smtp_server, make_message):
    settings = settings_for(tmp_path, dovecot, smtp_server)
    import_brewco(settings.db_path)
    first = "<t1@brewco.com>"
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Banner", message_id=first,
                                body="Please change the headline on the banner."))
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Re: Banner", in_reply_to=first,
                                body="Any news on the banner changes? We need them today."))
    smtp_server.stop()
    with pytest.raises(LiaisonError, match="cannot connect to SMTP"):  # an outage is not a success
        run_once(settings)
    assert smtp_server.messages == []
    store = Store(settings.db_path)
    assert {r["status"] for r in store.all("SELECT status FROM outbox")} <= {"retry", "pending"}
    smtp_server.start()
    time.sleep(0.5)
    for _ in range(10):
        run_once(settings)
        if len(smtp_server.messages) == 3:
            break
        time.sleep(0.5)
    subjects = [m["Subject"] for m in smtp_server.parsed()]
    assert len(subjects) == 3, subjects  # one acknowledgement, two escalations, each once
    escalations = [s for s in subjects if s.startswith("[Liaison]")]
    assert escalations[0].endswith("- Banner") and escalations[1].endswith("- Re: Banner")  # thread order kept


def test_temporary_refusals_then_delivery_exactly_once(tmp_path, dovecot, smtp_server, make_message):
    settings = settings_for(tmp_path, dovecot, smtp_server)
    import_brewco(settings.db_path)
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Banner", body="Please change the banner."))
    smtp_server.fail_next(3, 451, "4.3.0 Try again later")
    run_once(settings)
    from inbox.status import daemon_status

    (line,) = [x for x in daemon_status(settings, Store(settings.db_path)).splitlines() if x.startswith("outbox:")]
    assert "retry" in line and "last answer: 451 4.3.0 Try again later" in line, line  # round 23: it said no more
    for _ in range(12):
        run_once(settings)
        if len(smtp_server.messages) == 2:
            break
        time.sleep(0.4)
    assert len(smtp_server.messages) == 2
    run_once(settings)
    assert len(smtp_server.messages) == 2


def test_permanent_refusal_is_recorded_and_not_retried(tmp_path, dovecot, smtp_server, make_message):
    settings = settings_for(tmp_path, dovecot, smtp_server)
    import_brewco(settings.db_path)
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Banner", body="Please change the banner."))
    smtp_server.fail_next(1, 550, "5.1.1 Mailbox unavailable")
    run_once(settings)
    run_once(settings)
    store = Store(settings.db_path)
    failed = store.all("SELECT kind, last_error, attempts FROM outbox WHERE status = 'failed'")
    assert len(failed) == 1 and failed[0]["attempts"] == 1
    assert "550 5.1.1 Mailbox unavailable" in failed[0]["last_error"]
    assert len(smtp_server.messages) == 1  # the other message went through


def test_an_acknowledgement_refused_for_good_counts_for_neither_the_thread_nor_the_rate_limit(
        tmp_path, dovecot, smtp_server, make_message):
    """Round 23: an acknowledgement given up with 550 still used up its sender's rate limit (the next mail was held
    back as "rate limit: 3 acknowledgements in 10 minutes", one of the three never delivered), and its thread kept
    it, so a chaser in it was "already acknowledged": that client heard nothing, ever."""
    (tmp_path / "limited").mkdir()
    rules = quiet_rules(tmp_path / "limited", ROOT / "rules.yaml",
                        **{"    - {count: 3, minutes: 10}\n": "    - {count: 1, minutes: 10}\n"})
    settings = settings_for(tmp_path, dovecot, smtp_server, rules_path=rules)
    import_brewco(settings.db_path)
    for sender in ("tom", "ann"):  # each one's acknowledgement is refused (acknowledgements are sent first)
        dovecot.append(make_message(sender=f"{sender}@brewco.com", subject=f"Banner {sender}",
                                    message_id=f"<{sender}-1@brewco.com>", body="Please change the banner headline."))
    smtp_server.fail_next(2, 550, "5.2.2 Mailbox full")
    run_once(settings)
    store = Store(settings.db_path)
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'acknowledge' AND status = 'failed'") == 2
    dovecot.append(make_message(sender="tom@brewco.com", subject="Flyer", message_id="<tom-2@brewco.com>",
                                body="Please swap the photo on the flyer."))  # a new thread: under the limit of 1
    dovecot.append(make_message(sender="ann@brewco.com", subject="Re: Banner ann", message_id="<ann-2@brewco.com>",
                                in_reply_to="<ann-1@brewco.com>", body="Any news on the banner headline?"))
    run_once(settings)
    acknowledged = {m["In-Reply-To"] for m in smtp_server.parsed() if m["From"] and "accounts@" in m["From"]
                    and m["In-Reply-To"]}
    assert {"<tom-2@brewco.com>", "<ann-2@brewco.com>"} <= acknowledged, acknowledged


def test_uidvalidity_change_processes_and_answers_nothing_twice(tmp_path, dovecot, smtp_server, make_message):
    settings = settings_for(tmp_path, dovecot, smtp_server)
    import_brewco(settings.db_path)
    for i in range(3):
        dovecot.append(make_message(sender=f"c{i}@brewco.com", subject=f"Invoice {i}",
                                    body=f"Invoice INV-{i}00 has the wrong amount, please correct it."))
    run_once(settings)
    sent = len(smtp_server.messages)
    before = dovecot.uidvalidity()
    dovecot.recreate_mailbox()
    assert dovecot.uidvalidity() != before
    run_once(settings)
    store = Store(settings.db_path)
    assert len(smtp_server.messages) == sent
    assert store.one("SELECT COUNT(*) AS n FROM messages")["n"] == 3
    assert store.one("SELECT uidvalidity FROM mailbox_state")["uidvalidity"] == dovecot.uidvalidity()


def test_mail_numbered_below_the_old_mailboxs_highest_uid_is_read_after_a_uidvalidity_change(
        tmp_path, dovecot, smtp_server, make_message):
    settings = settings_for(tmp_path, dovecot, smtp_server)
    import_brewco(settings.db_path)
    for i in range(5):
        dovecot.append(make_message(sender=f"c{i}@brewco.com", subject=f"Invoice {i}",
                                    body=f"Invoice INV-{i}00 has the wrong amount, please correct it."))
    run_once(settings)
    with dovecot.client() as client:  # three are archived elsewhere: the mailbox keeps UIDs 1 and 2
        client.select_folder("INBOX")
        client.delete_messages(client.search(["ALL"])[2:])
        client.expunge()
    dovecot.recreate_mailbox()  # a restore: the two left are numbered afresh, 1 and 2
    run_once(settings)
    sent = len(smtp_server.messages)
    dovecot.append(make_message(sender="c9@brewco.com", subject="Invoice 9", message_id="<after-restore@brewco.com>",
                                body="Invoice INV-900 has the wrong amount, please correct it."))  # UID 3, below 5
    run_once(settings)
    store = Store(settings.db_path)
    assert store.one("SELECT status FROM messages WHERE message_id = '<after-restore@brewco.com>'") is not None
    assert len(smtp_server.messages) > sent, "answered, not ignored below the old mailbox's highest UID"


def test_concurrent_summary_and_import_while_the_daemon_writes(daemon_env, tmp_path, dovecot, smtp_server,  # noqa: F811
                                                                make_message):
    process = start(daemon_env, tmp_path)
    dovecot.append_many([make_message(sender=f"c{i}@brewco.com", subject=f"Banner {i}",
                                      body="Please change the headline.") for i in range(40)])
    errors: list[str] = []

    def hammer(args: list[str]) -> None:
        for _ in range(4):
            result = subprocess.run([sys.executable, "-m", "inbox.cli", *args], env=daemon_env, cwd=tmp_path,
                                    capture_output=True, text=True, timeout=120)
            if result.returncode != 0 or "locked" in result.stderr:
                errors.append(result.stderr)

    (tmp_path / "more.csv").write_text("account_id,name,code,domains,contacts,account_manager\n"
                                       "bank,Bank,BNK,bank.example,,omar@agency.example\n")
    threads = [threading.Thread(target=hammer, args=(a,)) for a in (
        ["summary", "--preview", str(tmp_path / "s.html")], ["accounts", "import", str(tmp_path / "more.csv")])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert smtp_server.wait_for(80, timeout=60)
    assert stop(process) == 0
    assert errors == []


def test_tls_certificate_is_verified_by_default():
    with DovecotServer(tls=True) as server:
        strict = ImapSource(ServerSettings(server.host, server.ssl_port, server.user, server.password, "ssl"))
        with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED|certificate"):
            strict.connect()
        relaxed = ImapSource(ServerSettings(server.host, server.ssl_port, server.user, server.password, "ssl",
                                            verify_tls=False))
        relaxed.connect()
        relaxed.close()


def test_starttls_never_falls_back_to_clear_text(dovecot, smtp_server):
    imap = ImapSource(ServerSettings(dovecot.host, dovecot.port, dovecot.user, dovecot.password, "starttls"))
    with pytest.raises(MailboxError):
        imap.connect()
    assert imap.client is None
    smtp = SMTPTransport(ServerSettings(smtp_server.host, smtp_server.port, security="starttls"))
    with pytest.raises(TemporarySendError, match="STARTTLS|TLS"):
        smtp.send("accounts@agency.example", ["x@brewco.com"], b"Subject: x\r\n\r\nx\r\n")
    smtp.close()
    assert smtp_server.messages == []


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_logs_never_contain_secrets(monkeypatch, capsys, fmt):
    from inbox.cli import environment_secrets
    from inbox.logs import setup_logging

    secret = 'pw-"in\\env-123'  # a quote and a backslash: JSON escapes them, the scrubbing must too
    monkeypatch.setenv("LIAISON_IMAP_PASSWORD", secret)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging(fmt=fmt, secrets=environment_secrets())
        log = logging.getLogger("liaison.test")
        log.warning("login with %s refused", secret)
        log.info("decided", extra={"decision": {"subject": f"about {secret}"}})
        try:
            raise ValueError(f"bad value {secret}")
        except ValueError:
            log.exception("it failed")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    written = capsys.readouterr().err
    assert "login with *** refused" in written and "bad value ***" in written
    assert secret not in written and json.dumps(secret)[1:-1] not in written
    if fmt == "json":
        assert '"subject": "about ***"' in written


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_short_secret_inside_an_ordinary_word_is_not_scrubbed_out_of_it(monkeypatch, capsys, fmt):
    """With the password "pass", "Aanpassingen" written "Aan***ingen" tells every reader of the log the
    password: a secret is scrubbed where it stands on its own (also right after a JSON escape), not inside words."""
    from inbox.cli import environment_secrets
    from inbox.logs import setup_logging

    monkeypatch.setenv("LIAISON_IMAP_PASSWORD", "pass")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging(fmt=fmt, secrets=environment_secrets())
        log = logging.getLogger("liaison.test")
        log.warning("subject Aanpassingen, ultrapassado; login user:pass@host refused")
        log.warning("text\npass")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    written = capsys.readouterr().err
    assert "Aanpassingen" in written and "ultrapassado" in written and "user:***@host" in written
    assert "Aan***" not in written and "\npass" not in written and "\\npass" not in written


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("secret", ['Zq"7\\ word\'x', 'say "hi" it\'s', 'é\'"x', "it's\\fine", 'tab\there'])
def test_a_secret_inside_a_logged_repr_is_scrubbed_too(monkeypatch, capsys, fmt, secret):
    """A subject is logged with %r: Python escapes quotes and backslashes there (and JSON escapes them again),
    so the secret as typed is not in the line, but anyone can undo the escaping."""
    from inbox.cli import environment_secrets
    from inbox.logs import setup_logging

    monkeypatch.setenv("LIAISON_SMTP_PASSWORD", secret)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging(fmt=fmt, secrets=environment_secrets())
        logging.getLogger("liaison.test").warning("message %r from %s", f"the login is {secret} ok", "x")
        logging.getLogger("liaison.test").warning("message %r", f'"{secret}"')
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    written = capsys.readouterr().err
    assert written.count("***") == 2, written
    for form in (secret, repr(secret)[1:-1], secret.replace("\\", "\\\\")):
        assert form not in written, written


def test_a_password_beyond_ascii_logs_in_with_authenticate_plain():
    """imaplib's LOGIN raised UnicodeEncodeError (a traceback from doctor and the daemon); PLAIN carries UTF-8."""
    with DovecotServer(password="wörd-Zq\"7'x") as server:
        imap = ImapSource(ServerSettings(server.host, server.port, server.user, server.password, "none"))
        imap.connect()
        assert imap.uidvalidity
        imap.close()
        wrong = ImapSource(ServerSettings(server.host, server.port, server.user, "wörd-wrong", "none"))
        with pytest.raises(MailboxError, match="login refused"):
            wrong.connect()


def test_what_a_command_prints_never_carries_a_secret(monkeypatch, capsys, tmp_path, make_message):
    """Not only log lines: an error echoed by a server, doctor's lines, a previewed subject. Everything a
    command writes to stdout or stderr is scrubbed."""
    from inbox.cli import main

    secret = 'Zq"7\\ word\'x'
    monkeypatch.setenv("LIAISON_SMTP_PASSWORD", secret)
    monkeypatch.setenv("LIAISON_DB", str(tmp_path / "none.db"))
    mail = tmp_path / "m.eml"
    mail.write_bytes(make_message(sender="tom@brewco.com", subject=f"the login is {secret} ok", body="Hello."))
    assert main(["classify", str(mail)]) == 0
    assert main(["classify", "--json", str(mail)]) == 0
    out, err = capsys.readouterr()
    assert "the login is *** ok" in out and secret not in out + err and "word" not in out + err


def test_encoded_forms_of_a_secret_are_scrubbed_too(monkeypatch):
    """A server echoing what it was sent: base64 (an AUTH PLAIN blob with the user), base64url, twice
    URL-encoded, JSON \\u escapes."""
    import base64
    from urllib.parse import quote, quote_plus

    from foundation.secrets import all_forms, scrub
    from inbox.cli import environment_secrets

    password = "Sëcret-Pw_42"
    monkeypatch.setenv("LIAISON_SMTP_USER", "acct@agency.example")
    monkeypatch.setenv("LIAISON_SMTP_PASSWORD", password)
    forms = all_forms(environment_secrets())
    echoed = [base64.b64encode(password.encode()).decode(),
              base64.b64encode(b"\0acct@agency.example\0" + password.encode()).decode(),
              base64.urlsafe_b64encode(password.encode()).decode().rstrip("="),
              quote(quote_plus(password), safe=""), json.dumps(password)[1:-1]]
    for form in echoed:
        assert scrub(f"refused ({form}) for acct", forms) == "refused (***) for acct", form


@pytest.mark.parametrize("security", ["none", "ssl"])
def test_mail_that_arrives_just_before_idle_wakes_it(security, make_message):
    """A message appended between our search and IDLE is announced with IDLE's "+ idling", in the same
    packet: imaplib buffers it, idle_check()'s socket poll never sees it, and the daemon slept until the
    next recheck (the CI failure of stop 23). It wakes the wait at once, over TLS too, and is read only once."""
    with DovecotServer(tls=security == "ssl") as server:
        port = server.ssl_port if security == "ssl" else server.port
        source = ImapSource(ServerSettings(server.host, port, server.user, server.password, security,
                                           verify_tls=False))
        source.connect()
        never = lambda: False  # noqa: E731
        last = 0
        for n in range(3):
            assert source.new_uids(last) == []
            server.append(make_message(subject=f"just before IDLE {n}"))
            time.sleep(0.3)  # the server has it before IDLE starts
            assert source.wait(60, never) is True
            last = max(source.new_uids(last))
        assert source.wait(1, never) is False  # the notice was taken: no second wake for it
        source.close()


def test_an_imap_connection_failure_names_the_setting_to_correct(smtp_server):
    """Blind round 26: the daemon's warnings ("SSLError: WRONG_VERSION_NUMBER", "unexpected response: 220 ...
    SMTP") never named the setting, as doctor's do."""
    from tests.servers import free_port

    closed = ImapSource(ServerSettings("127.0.0.1", free_port(), "u", "p", "none"))
    with pytest.raises(MailboxError, match="nothing listens on 127.0.0.1:.*check LIAISON_IMAP_HOST and LIAISON_IMAP_"
                                           "PORT"):
        closed.connect()
    smtp = ImapSource(ServerSettings(smtp_server.host, smtp_server.port, "u", "p", "none"))
    with pytest.raises(MailboxError, match="not as an IMAP server: check LIAISON_IMAP_PORT"):
        smtp.connect()
    tls = ImapSource(ServerSettings(smtp_server.host, smtp_server.port, "u", "p", "ssl"))
    with pytest.raises(MailboxError, match="LIAISON_IMAP_SECURITY"):
        tls.connect()
