"""Bad settings and bad paths give one clear line and the right exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inbox.cli import main

ROOT = Path(__file__).parent.parent
SERVERS = {"LIAISON_IMAP_HOST": "127.0.0.1", "LIAISON_IMAP_USER": "u", "LIAISON_IMAP_PASSWORD": "p",
           "LIAISON_SMTP_HOST": "127.0.0.1", "LIAISON_RULES": str(ROOT / "rules.yaml")}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("LIAISON_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".no-xdg"))
    monkeypatch.setenv("LIAISON_CONFIG", "")  # so that what `--config` sets is undone after the test
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("name,value", [
    ("LIAISON_SMTP_RETRY_SECONDS", "inf"), ("LIAISON_SMTP_RETRY_SECONDS", "nan"),
    ("LIAISON_SMTP_RETRY_SECONDS", "1e-300"), ("LIAISON_SMTP_RETRY_SECONDS", "-inf"),
    ("LIAISON_POLL_INTERVAL", "inf"), ("LIAISON_POLL_INTERVAL", "nan"), ("LIAISON_POLL_INTERVAL", "0"),
    ("LIAISON_POLL_INTERVAL", "1e9"), ("LIAISON_IMAP_PORT", "0"), ("LIAISON_IMAP_PORT", "65536"),
    ("LIAISON_IMAP_PORT", "²"), ("LIAISON_SMTP_PORT", "1e3"),
])
def test_impossible_numbers_stop_start_up_with_one_line_naming_them(clean_env, capsys, tmp_path, name, value):
    for key, setting in SERVERS.items():
        clean_env.setenv(key, setting)
    clean_env.setenv("LIAISON_DB", str(tmp_path / "liaison.db"))
    clean_env.setenv(name, value)
    assert main(["run", "--once"]) == 2
    assert one_line_error(capsys).startswith(f"liaison: configuration error: {name}: ")


def test_database_setting_naming_a_folder(clean_env, capsys, tmp_path):
    clean_env.setenv("LIAISON_DB", str(tmp_path))
    assert main(["accounts", "list"]) == 2
    assert one_line_error(capsys) == (f"liaison: configuration error: LIAISON_DB: {tmp_path} is a folder; "
                                      f"name the database file, e.g. {tmp_path / 'liaison.db'}")


def test_database_under_a_file_is_a_clear_error(clean_env, capsys, tmp_path):
    (tmp_path / "plain").write_text("not a folder")
    clean_env.setenv("LIAISON_DB", str(tmp_path / "plain" / "liaison.db"))
    assert main(["accounts", "list"]) == 2
    assert one_line_error(capsys) == (f"liaison: configuration error: LIAISON_DB: {tmp_path / 'plain'} is not a "
                                      "folder; correct the path")


def test_database_in_a_folder_that_does_not_exist_is_refused_not_created(clean_env, capsys, tmp_path):
    """Round 20: a typo in the database's folder started an empty database there, the real one's history and
    outbox left behind."""
    clean_env.setenv("LIAISON_DB", str(tmp_path / "var" / "lib" / "liason" / "liaison.db"))
    assert main(["accounts", "list"]) == 2
    assert one_line_error(capsys).endswith(f"the folder {tmp_path / 'var' / 'lib' / 'liason'} does not exist; "
                                           f"create it (mkdir -p {tmp_path / 'var' / 'lib' / 'liason'}) or correct "
                                           "the path")
    assert not (tmp_path / "var").exists()


def test_a_file_that_is_not_a_database(clean_env, capsys, tmp_path):
    (tmp_path / "liaison.db").write_text("hello, I am a text file " * 100)
    clean_env.setenv("LIAISON_DB", str(tmp_path / "liaison.db"))
    assert main(["accounts", "list"]) == 1
    error = one_line_error(capsys)
    assert error.startswith(f"liaison: cannot open the database {tmp_path / 'liaison.db'}: ")


def test_summary_preview_into_a_missing_folder(clean_env, capsys, tmp_path):
    clean_env.setenv("LIAISON_DB", str(tmp_path / "liaison.db"))
    clean_env.setenv("LIAISON_RULES", str(ROOT / "rules.yaml"))
    target = tmp_path / "missing" / "summary.html"
    assert main(["summary", "--preview", str(target)]) == 1
    assert one_line_error(capsys) == f"liaison: {target}: No such file or directory"


def test_config_file_named_but_missing(clean_env, capsys, tmp_path):
    assert main(["--config", str(tmp_path / "nope.toml"), "rules", "check"]) == 2
    assert one_line_error(capsys) == f"liaison: configuration error: {tmp_path / 'nope.toml'}: no such file"


@pytest.mark.parametrize("target", ["/dev/zero", "folder"])
def test_a_config_path_that_is_no_file_is_refused_unread(clean_env, capsys, tmp_path, target):
    """/dev/zero was read until the memory ran out; a folder or a pipe named as the config file is no file."""
    path = tmp_path / target if target == "folder" else Path(target)
    path.mkdir(exist_ok=True) if target == "folder" else None
    assert main(["--config", str(path), "rules", "check"]) == 2
    assert one_line_error(capsys) == f"liaison: configuration error: {path}: not a file"


def test_a_config_file_with_a_byte_order_mark_is_read(clean_env, capsys, tmp_path):
    (tmp_path / "liaison.toml").write_bytes(b"\xef\xbb\xbfpoll_interval = 30\n")
    assert main(["--config", str(tmp_path / "liaison.toml"), "rules", "check"]) == 0


def test_demo_and_init_into_a_file(clean_env, capsys, tmp_path):
    (tmp_path / "taken").write_text("x")
    assert main(["init", str(tmp_path / "taken")]) == 1
    assert str(tmp_path / "taken") in one_line_error(capsys)
    assert main(["demo", "--out", str(tmp_path / "taken" / "demo")]) == 1
    assert str(tmp_path / "taken") in one_line_error(capsys)


def test_accounts_import_of_a_folder_or_missing_file(clean_env, capsys, tmp_path):
    clean_env.setenv("LIAISON_DB", str(tmp_path / "liaison.db"))
    assert main(["accounts", "import", str(tmp_path / "none.csv")]) == 1
    assert str(tmp_path / "none.csv") in one_line_error(capsys)
    assert main(["accounts", "import", str(tmp_path)]) == 1
    assert str(tmp_path) in one_line_error(capsys)


@pytest.mark.parametrize("argv", [["rules", "replay", "x.yaml", "--days", "-1"],
                                  ["rules", "replay", "x.yaml", "--days", "99999999999"],
                                  ["doctor", "--wait", "nan"], ["train", "--epochs", "0"]])
def test_impossible_numbers_on_the_command_line(clean_env, capsys, argv):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "must be between" in capsys.readouterr().err


@pytest.mark.parametrize("content, setting, expected", [
    (b"\xff\xfe bad utf8\n", "liaison.toml: ", "not UTF-8 text"),
    (b'imap_folder = ["INBOX"]\n', "liaison.toml: imap_folder: ", 'must be text in quotes ("..."), not a list'),
    (b"agency_domains = [1, 2]\n", "liaison.toml: agency_domains: ", "must be text or a list of text in "
                                  'quotes (["agency.example"]), not a list holding a number (1)'),
    (b"agency_domains = true\n", "liaison.toml: agency_domains: ", "must be text or a list of text in "
                                'quotes (["agency.example"]), not true/false (true)'),
    (b"imap_host = { name = 'x' }\n", "liaison.toml: imap_host: ", 'must be text in quotes ("..."), not a table'),
    (b"imap_host = true\n", "liaison.toml: imap_host: ", 'must be text in quotes ("..."), not true/false (true)'),
    (b"poll_interval = [1]\n", "liaison.toml: poll_interval: ", "must be a number without quotes, not a list"),
    # A number or a flag in quotes is a slip, as a number where text belongs is (round 19: "993" was taken).
    (b'imap_port = "993"\n', "liaison.toml: imap_port: ", "must be a number without quotes, not text in "
                             "quotes ('993')"),
    (b"smtp_retry_seconds = true\n", "liaison.toml: smtp_retry_seconds: ", "must be a number without quotes"),
    (b'imap_tls_verify = "false"\n', "liaison.toml: imap_tls_verify: ", "must be true or false without quotes, "
                                     "not text in quotes ('false')"),
    (b"smtp_tls_verify = 0\n", "liaison.toml: smtp_tls_verify: ", "must be true or false without quotes, not a "
                               "number (0)"),
    (b'smtp_password = "x"\n', "liaison.toml: smtp_password: ", "secrets belong in the environment"),
    (b"imap_hots = 'x'\n", "liaison.toml: ", "unknown key 'imap_hots' (did you mean 'imap_host'?)"),
    # round 20: names people write, settings of rules.yaml, tables
    (b"smtp_server = 'x'\n", "liaison.toml: ", "unknown key 'smtp_server' (did you mean 'smtp_host'?)"),
    (b"timezone = 'Europe/Paris'\n", "liaison.toml: ", "(timezone is a rules.yaml setting, not a liaison.toml one)"),
    (b"[imap]\nhost = 'x'\n", "liaison.toml: ", "not an [imap] table"),
    (b"password = 'x'\n", "liaison.toml: ", "passwords belong in the environment"),
    # A value the file gave is named by the file's key, not by the environment variable nobody set.
    (b"imap_host = '127.0.0.1'\nimap_port = 99999\n", "liaison.toml: imap_port: ",
     "must be a port number, not '99999'"),
    (b'poll_interval = "fast"\n', "liaison.toml: poll_interval: ", "must be a number without quotes, not "
                                   "text in quotes ('fast')"),
    # round 20: a secret in any case, nesting deeper than the parser, a host with a port or scheme, an empty value
    (b'IMAP_PASSWORD = "x"\n', "liaison.toml: IMAP_PASSWORD: ", "secrets belong in the environment"),
    (b"x = " + b"[" * 3000 + b"\n", "liaison.toml: ", "nested too deeply"),
    (b'imap_host = "imap.example.com:993"\n', "liaison.toml: imap_host: ", "without a port, not "
                                              "'imap.example.com:993': put 993 in LIAISON_IMAP_PORT"),
    (b'imap_host = "imaps://imap.example.com"\n', "liaison.toml: imap_host: ", "without a scheme"),
    (b'imap_host = " 127.0.0.1"\n', "liaison.toml: imap_host: ", "without spaces"),
    (b'imap_folder = ""\n', "liaison.toml: imap_folder: ", "leave the key out for its default"),
    (b"poll_interval = nan\n", "liaison.toml: poll_interval: ", "must be between 1 and 3600 seconds, not 'nan'"),
    (b'agency_domains = ["com"]\n', "liaison.toml: agency_domains: ", "'com' is a public suffix"),
])
def test_a_config_file_of_the_wrong_shape_is_one_line_and_exit_2(tmp_path, content, setting, expected):
    """A setting of the wrong type names the setting and says what it is (agency_domains = [1, 2] said "not
    list" of a list; agency_domains = true was read as the domain "true")."""
    (tmp_path / "liaison.toml").write_bytes(content)
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "--config", str(tmp_path / "liaison.toml"),
                             "rules", "check"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and setting in result.stderr, result.stderr


def test_a_misspelt_liaison_variable_is_refused_with_the_setting_it_probably_meant(tmp_path):
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "rules", "check"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT),
                                 "LIAISON_IMAP_SENT_FOLDR": "Sent"})
    assert result.returncode == 2
    assert "LIAISON_IMAP_SENT_FOLDR" in result.stderr and "LIAISON_IMAP_SENT_FOLDER" in result.stderr


def test_a_second_live_instance_on_one_database_is_refused(clean_env, capsys, tmp_path):
    """Two live processes on one database would flush the same outbox and send queued mail twice (found by
    the ops tester: `run --once` beside the running daemon re-sent 17 of 20 acknowledgements)."""
    from inbox.instance import hold_instance_lock

    for key, setting in SERVERS.items():
        clean_env.setenv(key, setting)
    clean_env.setenv("LIAISON_ADDRESS", "accounts@agency.example")
    clean_env.setenv("LIAISON_DB", str(tmp_path / "liaison.db"))
    held = hold_instance_lock(tmp_path / "liaison.db")  # what the running daemon holds
    try:
        assert main(["run", "--once"]) == 1
        err = one_line_error(capsys)
        assert "already running" in err and str(os.getpid()) in err
    finally:
        held.close()


def test_a_symlink_to_the_database_finds_the_same_instance_lock(clean_env, capsys, tmp_path):
    """A second config naming the database through a symlink took its own lock and sent the queued outbox
    again (found by the ops tester: 31 of 40 mails twice)."""
    from inbox.instance import hold_instance_lock

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "liaison.db").touch()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "alias.db").symlink_to(tmp_path / "site" / "liaison.db")
    for key, setting in SERVERS.items():
        clean_env.setenv(key, setting)
    clean_env.setenv("LIAISON_ADDRESS", "accounts@agency.example")
    clean_env.setenv("LIAISON_DB", str(tmp_path / "other" / "alias.db"))
    held = hold_instance_lock(tmp_path / "site" / "liaison.db")
    try:
        assert main(["run", "--once"]) == 1
        assert "already running" in one_line_error(capsys)
    finally:
        held.close()


def test_a_hard_link_to_the_database_finds_the_running_instance(clean_env, capsys, tmp_path):
    """A second config naming the database through a hard link ran beside the daemon and sent every message
    twice (found by the final blind tester, after the symlink was closed)."""
    from inbox.instance import hold_instance_lock

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "liaison.db").touch()
    (tmp_path / "other").mkdir()
    os.link(tmp_path / "site" / "liaison.db", tmp_path / "other" / "hard.db")
    for key, setting in SERVERS.items():
        clean_env.setenv(key, setting)
    clean_env.setenv("LIAISON_ADDRESS", "accounts@agency.example")
    clean_env.setenv("LIAISON_DB", str(tmp_path / "other" / "hard.db"))
    held = hold_instance_lock(tmp_path / "site" / "liaison.db")
    try:
        assert main(["run", "--once"]) == 1
        assert "already running" in one_line_error(capsys)
    finally:
        held.close()


def test_broken_rules_at_start_exit_2_so_the_service_does_not_restart_in_a_loop(clean_env, capsys, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text().replace("review_below: 0.4", "review_below: [0.4", 1))
    for key, setting in SERVERS.items():
        clean_env.setenv(key, setting)
    clean_env.setenv("LIAISON_RULES", str(rules))
    clean_env.setenv("LIAISON_ADDRESS", "accounts@agency.example")
    clean_env.setenv("LIAISON_DB", str(tmp_path / "liaison.db"))
    assert main(["run", "--once"]) == 2
    err = capsys.readouterr().err
    assert f"{rules}:" in err and "not starting with broken rules" in err


@pytest.mark.parametrize("command", [["run", "--once"], ["run", "--dry-run", "--once"]])
def test_a_broken_template_at_start_is_exit_2_with_its_position(clean_env, capsys, tmp_path, command):
    """Live or dry run: a restart cannot mend a broken file, so the service must not restart in a loop."""
    import shutil

    shutil.copytree(ROOT / "responders" / "templates" / "en", tmp_path / "mine" / "en")
    layout = tmp_path / "mine" / "en" / "_layout.html"
    layout.write_text(layout.read_text() + "{% if %}\n")
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text().replace("# templates: my-templates", "templates: mine", 1))
    for key, setting in SERVERS.items():
        clean_env.setenv(key, setting)
    clean_env.setenv("LIAISON_RULES", str(rules))
    clean_env.setenv("LIAISON_ADDRESS", "accounts@agency.example")
    clean_env.setenv("LIAISON_DB", str(tmp_path / "liaison.db"))
    assert main(command) == 2
    err = capsys.readouterr().err
    assert f"{layout}:" in err and "not starting with broken rules" in err and "Traceback" not in err
    line = next(x for x in err.splitlines() if x.startswith(f"{layout}:"))
    assert line.split(":")[1].isdigit() and line.split(":")[2].isdigit(), line  # FILE:LINE:COL


def test_a_folder_named_liaison_toml_is_reported_not_passed_over(tmp_path):
    """Blind round 20: ./liaison.toml as a folder was skipped silently ("config file: none found")."""
    (tmp_path / "liaison.toml").mkdir()
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "rules", "check"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)})
    assert result.returncode == 2 and "liaison.toml" in result.stderr and "not a file" in result.stderr, result.stderr


def test_output_piped_into_a_reader_that_stops_early_is_no_error(tmp_path, make_message):
    """Blind round 21: `liaison classify f.eml | head -1` printed "liaison: Broken pipe"."""
    for n in range(200):  # more output (~100 kB) than a pipe holds, so that the write after `head` exits fails
        (tmp_path / f"m{n}.eml").write_bytes(make_message(subject=f"Banner {n}", message_id=f"<pipe-{n}@x>",
                                                          body="Please make the logo bigger."))
    script = f"{sys.executable} -m inbox.cli classify --alone m*.eml | head -1; echo rc=${{PIPESTATUS[0]}} >&2"
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parent.parent),
                               "LIAISON_ADDRESS": "accounts@agency.example"})
    assert done.stdout.startswith("m0.eml: ") and "rc=141" in done.stderr, done.stderr
    assert "Broken pipe" not in done.stderr and "Traceback" not in done.stderr


def test_a_preview_for_someone_who_gets_no_summary_says_so(clean_env, capsys, tmp_path):
    """Blind round 25i: `--for` a mistyped address wrote an empty summary, which reads as "nothing to do"."""
    clean_env.setenv("LIAISON_DB", str(tmp_path / "liaison.db"))
    clean_env.setenv("LIAISON_RULES", str(ROOT / "rules.yaml"))
    assert main(["summary", "--preview", str(tmp_path / "s.html"), "--for", "ana@agency.example"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("note: ana@agency.example gets no summary (not an account manager of any account, nor the "
                          "team lead)") and "lead@agency.example" in err
    assert (tmp_path / "s.html").exists()


@pytest.mark.parametrize("setting, fix", [
    ("LIAISON_IMAP_HOST", "set LIAISON_IMAP_HOST in the environment, or in a config file (none found at --config, "),
    ("LIAISON_IMAP_PASSWORD", "put LIAISON_IMAP_PASSWORD=... in the env file"),
])
def test_a_missing_setting_says_where_to_put_it(clean_env, capsys, tmp_path, monkeypatch, setting, fix):
    """Blind round 25i: `liaison run` in a folder without liaison.toml, or without the env file sourced, said only
    "LIAISON_IMAP_HOST: is required"; `doctor` named the files looked at and the env file, `run` neither."""
    monkeypatch.chdir(tmp_path)
    clean_env.setenv("LIAISON_DB", str(tmp_path / "liaison.db"))
    if setting == "LIAISON_IMAP_PASSWORD":
        for name, value in (("LIAISON_IMAP_HOST", "127.0.0.1"), ("LIAISON_IMAP_USER", "u"),
                            ("LIAISON_ADDRESS", "accounts@agency.example")):
            clean_env.setenv(name, value)
    assert main(["run", "--once"]) == 2
    first, second = capsys.readouterr().err.strip().splitlines()
    assert first.startswith(f"liaison: configuration error: {setting}: is required")
    assert second.startswith(f"  fix: {fix}"), second
