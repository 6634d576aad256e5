"""Fixtures: real Dovecot and real SMTP servers on loopback. Everything reusable lives in tests/servers.py."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

import responders  # noqa: F401  (registers the routing conditions and actions that rules.yaml is validated against)
from tests.servers import DovecotServer, SMTPServer, dovecot_binary
from tests.servers import make_message as _make_message


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long tests, run first (still run by .ci/run)")
    # aiosmtpd logs each connection at INFO from its own thread; a test worker's stderr would carry them all
    # between pytest's progress dots. Its warnings and errors still show.
    logging.getLogger("mail.log").setLevel(logging.WARNING)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The long tests first: with one worker per core, a two-minute test collected late runs alone at the end while
    # the other core waits (CI has 15 minutes for everything).
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _require_dovecot() -> None:
    # A failure, not a skip: the project's tests run against a real server or not at all.
    if dovecot_binary() is None:
        pytest.fail("dovecot is not installed: run `bash .ci/run`, which installs dovecot-imapd")


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A fresh Dovecot, empty mailbox, for this test alone."""
    _require_dovecot()
    server = DovecotServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def dovecot_session() -> Iterator[DovecotServer]:
    """One Dovecot for the whole run, for tests that only read or that use their own folders.
    Never stop it or recreate its mailboxes: other tests share it."""
    _require_dovecot()
    server = DovecotServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def make_message() -> Callable[..., bytes]:
    """make_message(sender=, to=, subject=, body=, headers=, attachments=, ...) -> RFC 5322 bytes."""
    return _make_message
