"""Running as a service: the systemd notify protocol and its watchdog, `liaison status`, the unit file."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def daemon_env(dovecot, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
    env.update({"PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path / ".no-xdg"),
                "LIAISON_IMAP_HOST": dovecot.host, "LIAISON_IMAP_PORT": str(dovecot.port),
                "LIAISON_IMAP_SECURITY": "none", "LIAISON_IMAP_USER": dovecot.user,
                "LIAISON_IMAP_PASSWORD": dovecot.password, "LIAISON_ADDRESS": "accounts@agency.example",
                "LIAISON_RULES": str(ROOT / "rules.yaml"), "LIAISON_DB": str(tmp_path / "liaison.db")})
    env.update(extra)
    return env


def start_daemon(env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "inbox.cli", "run", "--dry-run"], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop_daemon(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.stderr.read() if process.stderr else ""


def datagrams(sock: socket.socket, seconds: float) -> list[str]:
    """Everything received on the notify socket during `seconds`."""
    found = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            found.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return found


def wait_for(sock: socket.socket, wanted: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if wanted in sock.recv(4096).decode():
                return True
        except TimeoutError:
            return False
    return False


@pytest.fixture
def notify_socket(tmp_path):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    yield path, sock
    sock.close()


def dovecot_signal(dovecot, signum: int) -> None:
    """To the whole Dovecot (master and its imap processes): it has its own session and process group."""
    os.killpg(os.getpgid(dovecot.process.pid), signum)


@pytest.mark.slow
def test_watchdog_pings_stop_while_the_imap_connection_hangs_and_resume_after(dovecot, tmp_path, notify_socket):
    path, sock = notify_socket
    watchdog = 3.0  # seconds: the daemon comes round at least every watchdog/3
    env = daemon_env(dovecot, tmp_path, NOTIFY_SOCKET=str(path), WATCHDOG_USEC=str(int(watchdog * 1e6)))
    process = start_daemon(env, tmp_path)
    stopped = False
    try:
        assert wait_for(sock, "READY=1", 60), "no READY=1 from the daemon"
        alive = datagrams(sock, 3 * watchdog)
        assert alive.count("WATCHDOG=1") >= 3, alive  # a healthy loop keeps systemd happy
        dovecot_signal(dovecot, signal.SIGSTOP)  # the server stops answering: no error, no data, no EOF
        stopped = True
        datagrams(sock, watchdog)  # a turn already past its round trips may still finish
        hung = datagrams(sock, 2 * watchdog)
        assert "WATCHDOG=1" not in hung, f"pinged while IMAP hung: {hung}"  # systemd would restart it now
        assert process.poll() is None  # the daemon itself neither crashed nor gave up
        dovecot_signal(dovecot, signal.SIGCONT)
        stopped = False
        assert wait_for(sock, "WATCHDOG=1", 120), "pings did not resume once the server answered again"
    finally:
        if stopped:
            dovecot_signal(dovecot, signal.SIGCONT)
        log = stop_daemon(process)
    assert "Traceback" not in log


def test_without_notify_socket_the_daemon_runs_as_before(dovecot, smtp_server, tmp_path, make_message):
    """No $NOTIFY_SOCKET (a terminal, a container): nothing is sent anywhere, and status still records."""
    env = daemon_env(dovecot, tmp_path, LIAISON_SMTP_HOST=smtp_server.host, LIAISON_SMTP_PORT=str(smtp_server.port),
                     LIAISON_SMTP_SECURITY="none")
    dovecot.append(make_message(subject="Where are we with the banners?", body="Any news on the banners?"))
    process = subprocess.Popen([sys.executable, "-m", "inbox.cli", "run"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        status_file = tmp_path / "liaison.db.status.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "last_fetch" not in (
                status_file.read_text() if status_file.exists() else ""):
            time.sleep(0.2)
        result = subprocess.run([sys.executable, "-m", "inbox.cli", "status"], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=60)
    finally:
        log = stop_daemon(process)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"pid {process.pid} running" in out
    assert "last fetch: never" not in out and "last fetch: 20" in out
    assert "outbox:" in out and "failures:   0 message(s) given up" in out
    assert f"rules:      {ROOT / 'rules.yaml'} sha256 " in out and "mode live" in out
    assert "Traceback" not in log


def test_status_without_a_database_is_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
    env.update(PYTHONPATH=str(ROOT), LIAISON_DB=str(tmp_path / "none.db"), XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "status"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == f"liaison: no database at {tmp_path / 'none.db'}: the daemon has not run " \
                                    "with this configuration"


def test_notify_socket_abstract_and_path_forms(tmp_path, notify_socket):
    from inbox.notify import Notifier

    path, sock = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000"})
    notifier.ready("watching INBOX")
    notifier.ping()
    notifier.ping()  # within a tenth of the interval: not sent twice
    assert datagrams(sock, 0.5) == ["READY=1\nSTATUS=watching INBOX", "WATCHDOG=1"]
    assert notifier.longest_wait(1500) == pytest.approx(2 / 3)
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"liaison-test-{os.getpid()}"
    abstract.bind("\0" + name)
    try:
        Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert datagrams(abstract, 0.5) == ["READY=1"]
    finally:
        abstract.close()
    assert Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1", "WATCHDOG_PID": "1"}).watchdog_seconds is None


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not on this machine")
def test_the_unit_file_verifies(tmp_path):
    unit = (ROOT / "contrib" / "liaison.service").read_text()
    assert "Type=notify" in unit and "WatchdogSec=" in unit and "/opt/liaison/bin/liaison" in unit
    # verify also checks that ExecStart exists: point it at a real executable, the rest as shipped.
    local = tmp_path / "liaison.service"
    local.write_text(unit.replace("/opt/liaison/bin/liaison", sys.executable))
    result = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "liaison.service" not in result.stderr, result.stderr  # no warnings about our unit either


def test_status_says_not_running_when_the_recorded_pid_is_now_another_process(dovecot, smtp_server, tmp_path):
    """After a crash the daemon's pid may be given to an unrelated process: that is not the daemon running."""
    env = daemon_env(dovecot, tmp_path, LIAISON_SMTP_HOST=smtp_server.host, LIAISON_SMTP_PORT=str(smtp_server.port),
                     LIAISON_SMTP_SECURITY="none")
    process = subprocess.Popen([sys.executable, "-m", "inbox.cli", "run"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    other = subprocess.Popen(["sleep", "60"])
    try:
        status_file = tmp_path / "liaison.db.status.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "last_fetch" not in (
                status_file.read_text() if status_file.exists() else ""):
            time.sleep(0.2)

        def status() -> str:
            result = subprocess.run([sys.executable, "-m", "inbox.cli", "status"], cwd=tmp_path, env=env,
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            return result.stdout

        assert f"pid {process.pid} running" in status()
        process.kill()  # a crash: the status file still names its pid
        process.wait(timeout=30)
        # ...which the system then gives to another process (here: the status names one that is alive)
        status_file.write_text(status_file.read_text().replace(f'"pid": {process.pid}', f'"pid": {other.pid}'))
        out = status()
        assert f"pid {other.pid} not running" in out and f"pid {other.pid} running" not in out, out
    finally:
        other.kill()
        other.wait(timeout=10)
        stop_daemon(process)


def test_the_unit_does_not_restart_on_exit_2():
    """Exit 2 is a bad setting, rules file or template at start: a restart cannot mend it, so no crash loop."""
    unit = (ROOT / "contrib" / "liaison.service").read_text()
    service = unit.split("[Service]", 1)[1].split("\n[", 1)[0]
    lines = [line.strip() for line in service.splitlines() if not line.strip().startswith("#")]
    prevent = [line.split("=", 1)[1].split() for line in lines if line.startswith("RestartPreventExitStatus=")]
    assert prevent and "2" in prevent[-1], service


@pytest.mark.parametrize("pid", ["99999999999999999999", "-1", "0", '"abc"', "true"])
def test_status_with_a_damaged_pid_says_not_running(tmp_path, pid):
    """A pid too big for the system gave a traceback (found by the ops tester); 0 and -1 name process groups."""
    from foundation.store import Store

    Store(tmp_path / "liaison.db").close()
    (tmp_path / "liaison.db.status.json").write_text(f'{{"pid": {pid}, "mode": "live"}}')
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
    env.update(PYTHONPATH=str(ROOT), LIAISON_DB=str(tmp_path / "liaison.db"), XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "status"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0 and "not running" in result.stdout, result.stdout + result.stderr


def _status_of(tmp_path: Path, record: str) -> str:
    from foundation.store import Store

    Store(tmp_path / "liaison.db").close()
    (tmp_path / "liaison.db.status.json").write_text(record)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
    env.update(PYTHONPATH=str(ROOT), LIAISON_DB=str(tmp_path / "liaison.db"), XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "status"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result.stdout


@pytest.mark.parametrize("whose", ["init", "a live process that is not Liaison's daemon"])
def test_status_naming_a_live_pid_that_holds_no_lock_is_a_stale_record(tmp_path, whose):
    """From the blind tester: a status record naming pid 1 (or any live process that does not hold the
    database) was reported as "another process" holding things; it is a record left by a daemon that ended."""
    pid = 1 if whose == "init" else os.getpid()
    out = _status_of(tmp_path, f'{{"pid": {pid}, "mode": "live", "started_at": "2026-12-01T08:00:00"}}')
    (line,) = [line for line in out.splitlines() if line.startswith("daemon:")]
    assert f"pid {pid} not running" in line and "stale status" in line, line
    assert "another process" not in out, out


def test_a_dry_run_beside_the_live_daemon_leaves_its_status_alone(dovecot, smtp_server, tmp_path, notify_socket):
    """From the blind tester: `run --dry-run` beside the live daemon overwrote its status record (pid, mode)
    until the live daemon's next fetch; `status` then described the dry run. A dry run writes its status
    beside its own copy of the database."""
    import json

    env = daemon_env(dovecot, tmp_path, LIAISON_SMTP_HOST=smtp_server.host, LIAISON_SMTP_PORT=str(smtp_server.port),
                     LIAISON_SMTP_SECURITY="none")
    live = subprocess.Popen([sys.executable, "-m", "inbox.cli", "run"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dry = None
    try:
        status_file = tmp_path / "liaison.db.status.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "last_fetch" not in (
                status_file.read_text() if status_file.exists() else ""):
            time.sleep(0.2)
        before = json.loads(status_file.read_text())
        path, sock = notify_socket
        dry = start_daemon({**env, "NOTIFY_SOCKET": str(path)}, tmp_path)
        assert wait_for(sock, "READY=1", 60), "no READY=1 from the dry run"  # sent once its status is recorded
        record = json.loads(status_file.read_text())
        assert (record["pid"], record["mode"], record["started_at"]) == (live.pid, "live", before["started_at"])
        out = subprocess.run([sys.executable, "-m", "inbox.cli", "status"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60).stdout
        assert f"pid {live.pid} running" in out and "dry-run" not in out, out
    finally:
        dry_log = stop_daemon(dry) if dry else ""
        log = stop_daemon(live)
    assert "Traceback" not in log + dry_log


def test_status_after_one_run_says_what_it_did(dovecot, smtp_server, tmp_path, make_message):
    """Blind round 20: after `run --once` (from cron) status said "no status recorded yet" and "last fetch: never"."""
    env = daemon_env(dovecot, tmp_path, LIAISON_SMTP_HOST=smtp_server.host, LIAISON_SMTP_PORT=str(smtp_server.port),
                     LIAISON_SMTP_SECURITY="none")
    dovecot.append(make_message(subject="Where are we with the banners?", body="Any news on the banners?"))
    once = subprocess.run([sys.executable, "-m", "inbox.cli", "run", "--once"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert once.returncode == 0, once.stderr
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "status"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    out = result.stdout
    assert "no status recorded yet" not in out and "last fetch: never" not in out, out
    assert "last fetch: 20" in out and "one run" in out and "not running" in out, out


def test_status_says_the_databases_disk_is_full_when_the_daemons_status_file_cannot(tmp_path, monkeypatch):
    """Blind round 26: with the disk full, the daemon's status file (on that disk) could not record the problem, and
    `status` said nothing was wrong. The room left is looked at by `status` itself (here: more than any disk has)."""
    from foundation.settings import Settings
    from foundation.store import Store
    from inbox import status

    settings = Settings(address="accounts@agency.example", agency_domains=("agency.example",),
                        db_path=tmp_path / "liaison.db", rules_path=ROOT / "rules.yaml", imap=None, smtp=None)
    store = Store(settings.db_path)
    assert "DATABASE problem" not in status.daemon_status(settings, store)
    monkeypatch.setattr(status, "FULL_BELOW", 2**62)
    assert f"DATABASE problem: the disk of {settings.db_path} is full" in status.daemon_status(settings, store)
