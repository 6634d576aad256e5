"""A shadow run never changes what a live run will do: the README's set-up order, run as written."""

from __future__ import annotations

import email
import mailbox
import subprocess
import sys
from email.policy import default
from pathlib import Path

from foundation.store import Store
from tests.test_daemon import daemon_env, no_daemon_left_behind  # noqa: F401 - fixture reuse

CLIENT_MAIL = [
    ("<dry-1@brewco.com>", "Banner headline", "Please change the headline on the banner to 'Fresh daily'."),
    ("<dry-2@brewco.com>", "Invoice 4471 amount wrong",
     "Invoice 4471 charges 12,000 EUR but the quote was 10,000 EUR. Please send a corrected invoice."),
    ("<dry-3@brewco.com>", "Any news on the video?", "Hi, any news on the video? We need it for Friday."),
]


def liaison(env: dict, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "inbox.cli", *args], env=env, cwd=cwd, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return result


def acknowledged(raws: list[bytes]) -> list[str]:
    """The In-Reply-To of every acknowledgement among these messages."""
    parsed = [email.message_from_bytes(raw, policy=default) for raw in raws]
    return sorted(m["In-Reply-To"] for m in parsed if m["Auto-Submitted"] == "auto-replied")


def test_dry_run_then_live_run_answers_everything_once(daemon_env, tmp_path, dovecot, smtp_server,  # noqa: F811
                                                        make_message):
    for message_id, subject, body in CLIENT_MAIL:
        dovecot.append(make_message(sender=f"Tom Hill <tom{message_id[5]}@brewco.com>", subject=subject, body=body,
                                    message_id=message_id))
    expected = sorted(m for m, _, _ in CLIENT_MAIL)
    db = Path(daemon_env["LIAISON_DB"])
    before = Store(db).all("SELECT * FROM mailbox_state")

    liaison(daemon_env, tmp_path, "run", "--dry-run", "--once")  # README: "look in ./liaison-shadow"
    shadow = mailbox.Maildir(str(tmp_path / "liaison-shadow"), create=False)
    would_send = [shadow.get_bytes(key) for key in shadow.iterkeys()]
    assert acknowledged(would_send) == expected, "the dry run shows every acknowledgement it would send"
    assert len(would_send) == 6, "and every escalation"
    assert smtp_server.messages == []
    store = Store(db)
    assert store.all("SELECT * FROM mailbox_state") == before, "the mailbox position did not move"
    assert store.one("SELECT COUNT(*) AS n FROM messages")["n"] == 0
    assert store.one("SELECT COUNT(*) AS n FROM outbox")["n"] == 0
    store.close()

    liaison(daemon_env, tmp_path, "run", "--once")
    assert acknowledged([raw for _, _, raw in smtp_server.messages]) == expected
    assert len(smtp_server.messages) == 6
    liaison(daemon_env, tmp_path, "run", "--once")
    assert len(smtp_server.messages) == 6, "nothing twice"
