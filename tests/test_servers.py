"""The harness itself: real Dovecot and real aiosmtpd behave as the other tests assume."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from email.policy import default
from pathlib import Path

import aiosmtplib
import imapclient
import pytest

from tests.servers import (
    DovecotServer,
    DovecotStartError,
    SMTPServer,
    dovecot_binary,
    tls_client_context,
    wait_for_port,
)

ROOT = Path(__file__).parent.parent


def crlf(raw: bytes) -> bytes:
    # Maildir keeps the bytes as appended; IMAP hands them back with CRLF line ends.
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def port_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


# -- Dovecot ---------------------------------------------------------------------------------------


def test_append_then_peek_leaves_the_message_unseen(dovecot, make_message):
    raw = make_message(subject="Peek", attachments=[("brief.pdf", b"%PDF-1.4 tiny")])
    when = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)
    uid = dovecot.append(raw, flags=[imapclient.FLAGGED], msg_time=when)
    with dovecot.client() as client:
        client.select_folder("INBOX")  # read-write on purpose: a plain BODY[] here would set \Seen
        data = client.fetch([uid], ["BODY.PEEK[]", "INTERNALDATE"])[uid]
    assert data[b"BODY[]"] == crlf(raw)
    assert data[b"INTERNALDATE"].astimezone(dt.UTC) == when
    assert imapclient.SEEN not in dovecot.flags(uid)
    assert imapclient.FLAGGED in dovecot.flags(uid)
    assert dovecot.uids() == [uid]


def test_idle_wakes_when_another_client_appends(dovecot, make_message):
    dovecot.append(make_message(subject="first"))
    watcher, writer = dovecot.client(), dovecot.client()
    try:
        watcher.select_folder("INBOX")
        watcher.idle()
        writer.append("INBOX", make_message(subject="second"))
        # Woken by the server's EXISTS, not by the timeout (latency is measured by the benchmarks).
        responses = watcher.idle_check(timeout=30)
        watcher.idle_done()
    finally:
        watcher.logout()
        writer.logout()
    assert (2, b"EXISTS") in responses


def test_stop_and_start_on_the_same_port_keep_the_messages(dovecot, make_message):
    uid = dovecot.append(make_message(subject="survives"))
    port = dovecot.port
    dovecot.stop()
    assert port_closed(port)
    with pytest.raises(OSError):
        dovecot.client()
    dovecot.start()
    assert dovecot.port == port
    assert dovecot.uids() == [uid]
    dovecot.restart()
    assert dovecot.uids() == [uid]


def subjects(server: DovecotServer, folder: str) -> list[str]:
    with server.client() as client:
        client.select_folder(folder, readonly=True)
        fetched = client.fetch(client.search(["ALL"]), ["BODY.PEEK[]"])
    return sorted(email.message_from_bytes(d[b"BODY[]"], policy=default)["Subject"] for d in fetched.values())


@pytest.mark.parametrize("folder", ["INBOX", "Archive"])
def test_recreate_mailbox_changes_uidvalidity_and_keeps_messages_and_flags(dovecot, make_message, folder):
    if folder != "INBOX":
        dovecot.create_folder(folder)
    dovecot.append(make_message(subject="one"), folder=folder, flags=[imapclient.SEEN])
    dovecot.append(make_message(subject="two"), folder=folder)
    before = dovecot.uidvalidity(folder)
    dovecot.recreate_mailbox(folder)
    assert dovecot.running
    assert dovecot.uidvalidity(folder) != before
    assert subjects(dovecot, folder) == ["one", "two"]
    with dovecot.client() as client:
        client.select_folder(folder, readonly=True)
        seen = client.fetch(client.search(["SEEN"]), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    assert [d[b"BODY[HEADER.FIELDS (SUBJECT)]"].strip() for d in seen.values()] == [b"Subject: one"]


def test_a_bad_configuration_fails_fast_with_dovecots_own_words():
    server = DovecotServer(extra_config="no_such_setting_xyz = 1\n")
    try:
        started = time.monotonic()
        with pytest.raises(DovecotStartError, match="no_such_setting_xyz"):
            server.start()
        assert time.monotonic() - started < 5  # it noticed the exit, it did not wait for the timeout
    finally:
        server.cleanup()


def test_session_server_is_shared_and_usable(dovecot_session, make_message):
    folder = f"Shared{os.getpid()}"
    if folder not in [name for _, _, name in dovecot_session.client().list_folders()]:
        dovecot_session.create_folder(folder)
    uid = dovecot_session.append(make_message(subject="shared"), folder=folder)
    assert uid in dovecot_session.uids(folder)


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) ties Dovecot to the test process")
def test_dovecot_dies_with_a_test_process_killed_outright():
    script = ("import sys, time; sys.path.insert(0, sys.argv[1]);"
              "from tests.servers import DovecotServer; s = DovecotServer().start();"
              "print(s.port, s.root, flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", script, str(ROOT)], stdout=subprocess.PIPE, text=True)
    port, root = child.stdout.readline().split()
    try:
        assert not port_closed(int(port))
        child.send_signal(signal.SIGKILL)  # no atexit, no finalizer: only the kernel can clean up
        child.wait(timeout=10)
        deadline = time.monotonic() + 5
        while not port_closed(int(port)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert port_closed(int(port))
    finally:
        child.kill()
        shutil.rmtree(root, ignore_errors=True)


# -- Dovecot with TLS ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_dovecot():
    if dovecot_binary() is None:
        pytest.fail("dovecot is not installed: run `bash .ci/run`")
    with DovecotServer(tls=True) as server:
        yield server


def test_imaps_certificate_fails_verification_by_default(tls_dovecot):
    with pytest.raises(ssl.SSLCertVerificationError):
        imapclient.IMAPClient(tls_dovecot.host, port=tls_dovecot.ssl_port, ssl=True,
                              ssl_context=ssl.create_default_context(), timeout=10)


def test_imaps_connects_unverified_and_verifies_when_the_cert_is_trusted(tls_dovecot):
    for context in (tls_client_context(verify=False), tls_client_context(verify=True, cafile=tls_dovecot.cert_path)):
        with imapclient.IMAPClient(tls_dovecot.host, port=tls_dovecot.ssl_port, ssl=True, ssl_context=context,
                                   timeout=10) as client:
            client.login(tls_dovecot.user, tls_dovecot.password)
            assert client.select_folder("INBOX")[b"EXISTS"] == 0


def test_starttls_on_the_plain_port_only_when_tls_is_on(tls_dovecot, dovecot):
    with imapclient.IMAPClient(tls_dovecot.host, port=tls_dovecot.port, ssl=False, timeout=10) as client:
        assert b"STARTTLS" in client.capabilities()
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(ssl.create_default_context())
    with imapclient.IMAPClient(tls_dovecot.host, port=tls_dovecot.port, ssl=False, timeout=10) as client:
        client.starttls(tls_client_context(verify=False))
        client.login(tls_dovecot.user, tls_dovecot.password)
    with dovecot.client() as plain:
        assert b"STARTTLS" not in plain.capabilities()


# -- SMTP ------------------------------------------------------------------------------------------


def send(server: SMTPServer, raw: bytes, **kwargs) -> None:
    asyncio.run(aiosmtplib.send(raw, sender="accounts@agency.example", recipients=["tom@brewco.com"],
                                hostname=server.host, port=server.port, timeout=10, **kwargs))


def test_sent_mail_is_recorded_raw_and_parsed(smtp_server, make_message):
    raw = make_message(subject="Recorded", headers={"X-Liaison": "1"})
    send(smtp_server, raw)
    assert smtp_server.wait_for(1, timeout=5)
    mail_from, rcpt_tos, recorded = smtp_server.messages[0]
    assert (mail_from, rcpt_tos) == ("accounts@agency.example", ["tom@brewco.com"])
    assert recorded.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert smtp_server.parsed_message()["X-Liaison"] == "1"
    assert smtp_server.parsed()[0]["Subject"] == "Recorded"
    assert smtp_server.connections == 1  # aiosmtpd's own readiness probe is not counted


def test_one_connection_for_several_messages_is_counted_once(smtp_server, make_message):
    async def three() -> None:
        async with aiosmtplib.SMTP(hostname=smtp_server.host, port=smtp_server.port, timeout=10) as client:
            for i in range(3):
                await client.send_message(email.message_from_bytes(make_message(subject=f"m{i}"), policy=default))

    asyncio.run(three())
    assert smtp_server.wait_for(3, timeout=5)
    assert smtp_server.connections == 1


def test_fail_next_451_refuses_once_temporarily(smtp_server, make_message):
    smtp_server.fail_next(1, 451)
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        send(smtp_server, make_message())
    assert refused.value.code == 451 and "4.3.0" in refused.value.message
    send(smtp_server, make_message())
    assert smtp_server.wait_for(1, timeout=5) and len(smtp_server.messages) == 1
    assert [(r.stage, r.code, r.permanent) for r in smtp_server.refusals] == [("DATA", 451, False)]
    assert smtp_server.handler.permanent_refusals == []


def test_fail_next_550_is_permanent_and_says_so(smtp_server, make_message):
    smtp_server.fail_next(1, 550)
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        send(smtp_server, make_message())
    assert refused.value.code == 550 and refused.value.message.startswith("5.")
    assert smtp_server.handler.temporary_refusals == []
    assert [r.code for r in smtp_server.handler.permanent_refusals] == [550]
    assert smtp_server.messages == []


def test_fail_next_at_rcpt(smtp_server, make_message):
    smtp_server.fail_next(1, 550, "5.1.1 Mailbox unavailable", stage="RCPT")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        send(smtp_server, make_message())
    assert refused.value.recipients[0].code == 550
    send(smtp_server, make_message())
    assert smtp_server.wait_for(1, timeout=5)
    assert smtp_server.messages[0][1] == ["tom@brewco.com"]


def test_fail_next_rejects_codes_that_are_not_refusals(smtp_server):
    with pytest.raises(ValueError):
        smtp_server.fail_next(1, 250)


def test_smtp_stop_and_start_on_the_same_port(smtp_server, make_message):
    port = smtp_server.port
    smtp_server.stop()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        send(smtp_server, make_message())
    smtp_server.start()
    assert smtp_server.port == port
    send(smtp_server, make_message())
    assert smtp_server.wait_for(1, timeout=5)
    assert smtp_server.connections == 1  # the refused attempt never reached a server


def test_smtp_auth_plain_and_login():
    with SMTPServer(auth=("agent", "s3cret")) as server:
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            send(server, b"Subject: x\r\n\r\nx\r\n")
        assert refused.value.code == 530  # authentication required
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            send(server, b"Subject: x\r\n\r\nx\r\n", username="agent", password="wrong")
        send(server, b"Subject: x\r\n\r\nx\r\n", username="agent", password="s3cret")
        assert server.wait_for(1, timeout=5)
        assert [user for _, user in server.logins] == ["agent"]


def test_smtp_starttls_verifies_by_default_and_works_when_trusted():
    with SMTPServer(tls=True, require_starttls=True) as server:
        with pytest.raises(ssl.SSLCertVerificationError):
            send(server, b"Subject: x\r\n\r\nx\r\n")
        send(server, b"Subject: x\r\n\r\nx\r\n", tls_context=tls_client_context(True, cafile=server.cert_path))
        assert server.wait_for(1, timeout=5)
        assert server.connections == 2  # STARTTLS upgrades a connection, it does not add one


def test_a_port_left_open_answers_nothing_after_stop():
    server = SMTPServer().start()
    port = server.port
    server.cleanup()
    assert not wait_for_port(port, timeout=0.3)


def test_certificate_from_the_cryptography_package_when_openssl_is_absent(monkeypatch, tmp_path):
    pytest.importorskip("cryptography")
    monkeypatch.setenv("PATH", str(tmp_path))  # no openssl command on this PATH
    with SMTPServer(tls=True) as server:
        send(server, b"Subject: x\r\n\r\nx\r\n", tls_context=tls_client_context(True, cafile=server.cert_path))
        assert server.wait_for(1, timeout=5)
