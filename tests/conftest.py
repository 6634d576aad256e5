"""Fixtures: a fresh real Dovecot and a real SMTP server per test, on loopback."""

from __future__ import annotations

import shutil

import pytest

from tests.servers import DovecotServer, SMTPServer
from tests.servers import make_message as _make_message


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long fault-injection tests (still run by .ci/run)")


@pytest.fixture
def dovecot():
    if shutil.which("dovecot") is None:
        pytest.fail("dovecot is not installed: run `bash .ci/run`, which installs dovecot-imapd")
    server = DovecotServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def make_message():
    return _make_message
