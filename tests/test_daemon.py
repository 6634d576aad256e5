"""The daemon as users run it: a real process, real servers, signals, reloads and outages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from foundation.accounts import import_accounts, read_accounts_csv
from foundation.store import Store
from tests.servers import quiet_rules

ROOT = Path(__file__).parent.parent
ACCOUNTS = "account_id,name,code,domains,contacts,account_manager\nbrewco,BrewCo,BREW,brewco.com,,anna@agency.example\n"


@pytest.fixture
def daemon_env(tmp_path, dovecot, smtp_server):
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    store = Store(tmp_path / "liaison.db")
    import_accounts(store, read_accounts_csv(tmp_path / "accounts.csv"))
    store.close()
    rules = quiet_rules(tmp_path, ROOT / "rules.yaml")
    return {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
        "LIAISON_IMAP_HOST": dovecot.host, "LIAISON_IMAP_PORT": str(dovecot.port),
        "LIAISON_IMAP_USER": dovecot.user, "LIAISON_IMAP_PASSWORD": dovecot.password,
        "LIAISON_IMAP_SECURITY": "none", "LIAISON_SMTP_HOST": smtp_server.host,
        "LIAISON_SMTP_PORT": str(smtp_server.port), "LIAISON_SMTP_SECURITY": "none",
        "LIAISON_ADDRESS": "accounts@agency.example", "LIAISON_DB": str(tmp_path / "liaison.db"),
        "LIAISON_RULES": str(rules), "LIAISON_POLL_INTERVAL": "1",
    }


STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_daemon_left_behind():
    """A failed assertion must not leave a daemon running into the next test."""
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def start(env: dict, tmp_path: Path, *extra: str) -> subprocess.Popen:
    log = open(tmp_path / "daemon.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([sys.executable, "-m", "inbox.cli", *extra, "run"], env=env, cwd=tmp_path,
                               stdout=log, stderr=subprocess.STDOUT)
    STARTED.append(process)
    wait_for_log(tmp_path, "connected to", process)
    return process


def wait_for_log(tmp_path: Path, text: str, process: subprocess.Popen, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = (tmp_path / "daemon.log").read_text()
        if text in log:
            return log
        assert process.poll() is None, f"daemon died:\n{log}"
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged within {timeout}s:\n{(tmp_path / 'daemon.log').read_text()}")


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


def revision(make_message, n: int) -> bytes:
    return make_message(sender="Tom Hill <tom@brewco.com>", subject=f"Banner change {n}",
                        body="Please change the headline on the banner to 'Fresh daily'.")


def test_idle_wakes_within_a_second_and_sigterm_exits_cleanly(daemon_env, tmp_path, dovecot, smtp_server,
                                                               make_message):
    process = start(daemon_env, tmp_path)
    time.sleep(0.5)  # let it settle into IDLE
    sent = time.monotonic()
    dovecot.append(revision(make_message, 1))
    assert smtp_server.wait_for(2, timeout=10)  # acknowledgement and escalation
    assert time.monotonic() - sent < 2.0
    assert stop(process) == 0
    assert "liaison stopped" in (tmp_path / "daemon.log").read_text()
    # round 23: `status` said "not running (stale status...)" after a clean stop, as after a crash
    status = subprocess.run([sys.executable, "-m", "inbox.cli", "status"], cwd=tmp_path, env=daemon_env,
                            capture_output=True, text=True, timeout=60).stdout
    (line,) = [x for x in status.splitlines() if x.startswith("daemon:")]
    assert f"pid {process.pid} not running (stopped at " in line and "stale" not in line, line


def test_an_agency_domain_that_is_a_client_accounts_is_a_warning_at_start(daemon_env, tmp_path):
    """The daemon's start-up log says so too (doctor fails it): that client's mail would count as staff."""
    process = start({**daemon_env, "LIAISON_AGENCY_DOMAINS": "agency.example,brewco.com"}, tmp_path)
    log = wait_for_log(tmp_path, "agency domain brewco.com", process)
    assert "WARNING" in log and "account brewco" in log
    assert stop(process) == 0


@pytest.mark.parametrize("mode", [["run", "--once"], ["run", "--dry-run", "--once"]])
def test_an_agency_domain_that_is_a_client_accounts_is_a_warning_in_one_run_too(daemon_env, tmp_path, mode):
    env = {**daemon_env, "LIAISON_AGENCY_DOMAINS": "agency.example,brewco.com"}
    result = subprocess.run([sys.executable, "-m", "inbox.cli", *mode], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env=env)
    assert "WARNING" in result.stderr and "agency domain brewco.com" in result.stderr
    assert "account brewco" in result.stderr


def test_broken_rules_are_refused_and_last_good_rules_stay(daemon_env, tmp_path, dovecot, smtp_server,
                                                            make_message):
    process = start(daemon_env, tmp_path)
    rules = Path(daemon_env["LIAISON_RULES"])
    rules.write_text(rules.read_text().replace("  - name: billing\n", "  - nmae: billing\n"))
    process.send_signal(signal.SIGHUP)
    log = wait_for_log(tmp_path, "keeping the last good rules", process)
    assert f"{rules}:" in log and "rules" in log
    dovecot.append(revision(make_message, 2))
    assert smtp_server.wait_for(2, timeout=10), "the daemon goes on with its last good rules"
    assert stop(process) == 0


def test_rules_file_change_is_picked_up_without_a_signal(daemon_env, tmp_path, dovecot, smtp_server, make_message):
    process = start(daemon_env, tmp_path)
    rules = Path(daemon_env["LIAISON_RULES"])
    rules.write_text(rules.read_text().replace("mode: live", "mode: shadow"))
    wait_for_log(tmp_path, "rules reloaded", process)
    dovecot.append(revision(make_message, 3))
    wait_for_log(tmp_path, "Banner change 3", process)
    time.sleep(1)
    assert smtp_server.messages == [], "shadow mode sends nothing"
    assert stop(process) == 0
    assert list((tmp_path / "liaison-shadow" / "new").iterdir()), "would-be mail is kept for review"


def test_reconnects_after_imap_outage(daemon_env, tmp_path, dovecot, smtp_server, make_message):
    process = start(daemon_env, tmp_path)
    dovecot.stop()
    wait_for_log(tmp_path, "reconnecting in", process)
    time.sleep(1.5)
    dovecot.start()
    dovecot.append(revision(make_message, 4))
    assert smtp_server.wait_for(2, timeout=30)
    assert stop(process) == 0


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_passwords_never_reach_the_log(daemon_env, tmp_path, dovecot, smtp_server, make_message, log_format):
    # The IMAP password reaches the log the way any text can: in a subject, which the daemon logs
    # with its decision (in JSON twice: the message and the decision's fields).
    secret = daemon_env["LIAISON_IMAP_PASSWORD"]
    process = start(daemon_env, tmp_path, "--log-format", log_format)
    dovecot.append(make_message(sender="Tom Hill <tom@brewco.com>", subject=f"Is {secret} our password?",
                                body="Please change the headline on the banner."))
    wait_for_log(tmp_path, "Is *** our password?", process)
    assert stop(process) == 0
    text = (tmp_path / "daemon.log").read_text()
    assert secret not in text
    if log_format == "json":
        decision = next(json.loads(line)["decision"] for line in text.splitlines() if '"decision"' in line)
        assert decision["subject"] == "Is *** our password?"


def test_accounts_imported_while_running_link_the_next_message(daemon_env, tmp_path, dovecot, smtp_server,
                                                               make_message):
    """`accounts import` in another process while the daemon runs: the next message uses it, no restart."""
    process = start(daemon_env, tmp_path)
    (tmp_path / "accounts2.csv").write_text(
        "account_id,name,code,domains,contacts,account_manager\n"
        "nova,Nova Ltd,NOVA,nova.io,kim@nova.io,mark.lee@agency.example\n")
    subprocess.run([sys.executable, "-m", "inbox.cli", "accounts", "import", "accounts2.csv"], env=daemon_env,
                   cwd=tmp_path, check=True, capture_output=True)
    dovecot.append(make_message(sender="Kim Park <kim@nova.io>", subject="Poster sizes",
                                body="Please change the poster to A2."))
    log = wait_for_log(tmp_path, "Poster sizes", process)
    assert "account=nova by contact" in log
    assert stop(process) == 0


def test_display_name_learned_while_running_catches_the_next_impostor(daemon_env, tmp_path, dovecot, smtp_server,
                                                                      make_message):
    """A contact's display name first seen by the running daemon guards against an impostor at once, as
    a restart (and `liaison classify`) would."""
    (tmp_path / "vega.csv").write_text("account_id,name,code,domains,contacts,account_manager\n"
                                       "vega,Vega SpA,VEGA,vega.it,nina.roth@vega.it,anna@agency.example\n")
    store = Store(tmp_path / "liaison.db")
    import_accounts(store, read_accounts_csv(tmp_path / "vega.csv"))
    store.close()
    process = start(daemon_env, tmp_path)
    dovecot.append(make_message(sender="Nina Roth <nina.roth@vega.it>", subject="Catalogue proofs",
                                body="Please change the cover photo on the catalogue."))
    wait_for_log(tmp_path, "Catalogue proofs", process)
    dovecot.append(make_message(sender="Nina Roth <nina.roth@evil.example>", subject="New bank details",
                                body="Please pay the open invoice to our new account."))
    wait_for_log(tmp_path, "New bank details", process)
    assert stop(process) == 0
    store = Store(tmp_path / "liaison.db")
    row = store.one("SELECT suspicious FROM messages WHERE subject = 'New bank details'")
    store.close()
    assert row and "nina.roth@vega.it" in (row["suspicious"] or ""), row
