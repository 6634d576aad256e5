"""Bad rules, templates and config files are located errors, never a traceback, a crash or a lost message.

Issue 12, items 8 and 9: `rules check` and a reload of the running daemon refuse YAML tags, duplicate
keys, Jinja syntax errors and undefined variables with FILE:LINE:COLUMN; the daemon keeps answering
with its last good rules; a template that breaks at send time never quarantines the client's message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from foundation.errors import ConfigError, RulesError
from foundation.settings import load_settings
from foundation.store import Store, loads
from inbox.daemon import Daemon, load_checked_rules
from responders import summary
from responders.templates import TemplateLibrary
from tests.servers import liaison_settings
from tests.test_daemon import daemon_env, no_daemon_left_behind, revision, start, stop, wait_for_log  # noqa: F401

ROOT = Path(__file__).parent.parent
ACCOUNTS = "account_id,name,code,domains,contacts,account_manager\nbrewco,BrewCo,BREW,brewco.com,,anna@agency.example\n"
SHIPPED = ROOT / "responders" / "templates" / "en"

# (what is wrong, the rules file, where it is reported, what is said)
BAD_RULES = [
    ("include tag", "version: 1\nrules: !include more-rules.yaml\n", "2:8", "YAML tags are not allowed: !include"),
    ("python object tag", "version: 1\nrules:\n  - name: a\n    then:\n"
     "      - escalate: !!python/object/apply:os.system ['touch /tmp/liaison-owned']\n",
     "5:19", "YAML tags are not allowed: !!python/object/apply:os.system"),
    ("int tag on a word", "mode: !!int live\nrules:\n  - name: a\n    then: [stop]\n", "1:7",
     "YAML tags are not allowed: !!int"),
    ("duplicate key", "mode: live\nrules:\n  - name: a\n    then: [stop]\nmode: shadow\n", "5:1",
     "duplicate key 'mode'"),
    ("duplicate key in a rule", "rules:\n  - name: a\n    when: {category: billing_issue, category: other}\n"
     "    then: [stop]\n", "3:37", "duplicate key 'category'"),
    ("impossible date", "timezone: 2026-13-45\nrules:\n  - name: a\n    then: [stop]\n", "1:11",
     "invalid value: month must be in 1..12"),
]


def cli(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
                   "LIAISON_DB": str(tmp_path / "none.db"), **env}
    return subprocess.run([sys.executable, "-m", "inbox.cli", *args], env=environment, capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)


@pytest.mark.parametrize("limits", [
    "limits:\n  per_domain:\n    - {count: 5, minutes: 99999999999999}\n",
    "limits:\n  per_sender:\n    - {count: 3, minutes: 1100000000}\n",
    "limits:\n  bounce_quiet_days: 1000000\n"])
def test_a_rate_window_too_long_to_date_is_refused_at_check(tmp_path, limits):
    """Accepted before, such a window made every client message fail in the respond stage (OverflowError:
    date value out of range), quarantined, no acknowledgement and no escalation (found by the ops tester)."""
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - name: a\n    then: [stop]\n" + limits)
    result = cli(["rules", "check", str(path)], tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "less than or equal" in result.stderr
    assert result.stderr.splitlines()[0].startswith(f"{path}:")


@pytest.mark.parametrize("what,text,where,message", BAD_RULES, ids=[b[0] for b in BAD_RULES])
def test_rules_check_locates_tags_and_duplicate_keys(tmp_path, what, text, where, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    result = cli(["rules", "check", str(path)], tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == f"{path}:{where}: {message}"
    assert not Path("/tmp/liaison-owned").exists()


def test_every_problem_of_the_file_is_reported_at_once(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("mode: !!str live\nmode: live\nrules: !include x.yaml\n")
    result = cli(["rules", "check", str(path)], tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{path}:1:7: YAML tags are not allowed: !!str",
                                          f"{path}:2:1: duplicate key 'mode'",
                                          f"{path}:3:8: YAML tags are not allowed: !include"]


def test_a_yaml_merge_key_is_not_a_duplicate(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - name: a\n    when: &billing {category: billing_issue, linked: true}\n"
                    "    then: [stop]\n  - name: b\n    when: {<<: *billing, linked: false}\n    then: [stop]\n")
    result = cli(["rules", "check", str(path)], tmp_path)
    assert result.returncode == 0, result.stderr


def user_templates(tmp_path: Path, rules: Path, **files: str) -> Path:
    """A user template folder (rules.yaml `templates:`) holding copies of the shipped files given by
    name (ack_billing_issue.txt=...), their text replaced."""
    folder = tmp_path / "my-templates" / "en"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        filename = name.replace("_txt", ".txt").replace("_html", ".html")
        (folder / filename).write_text(text)
        other = filename.replace(".txt", ".html") if filename.endswith(".txt") else filename.replace(".html", ".txt")
        if not (folder / other).exists():
            (folder / other).write_text((SHIPPED / other).read_text())
    text = rules.read_text()
    if "\ntemplates: my-templates" not in text:
        rules.write_text(text.replace("# templates: my-templates", "templates: my-templates"))
    return folder


@pytest.mark.parametrize("files,where,message", [
    ({"ack_revision_request_txt": "Hi {{ client_first_name }},\n\n{% if chasers %}again{% endfi %}\n"},
     "ack_revision_request.txt:3:25",
     "Encountered unknown tag 'endfi'. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. "
     "The innermost block that needs to be closed is 'if'."),
    ({"escalate_html": "<p>{{ client_name }}</p>\n<p>{{ client_phone }}</p>\n"},
     "escalate.html:2:7", "'client_phone' is undefined"),
    ({"summary_txt": "Summary {{ day }}\n{% for t in needs_you %}{{ t.subject }} {{ t.owner }}{% endfor %}\n"},
     "summary.txt:2:46", "'dict object' has no attribute 'owner'"),
    ({"summary_html": "<p>{{ total }} messages, {{ waiting_total }} waiting</p>\n"},
     "summary.html:1:29", "'waiting_total' is undefined"),
], ids=["jinja syntax error", "undefined variable", "summary item field", "summary undefined variable"])
def test_rules_check_compiles_and_renders_every_template(tmp_path, files, where, message):
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text())
    folder = user_templates(tmp_path, rules, **files)
    result = cli(["rules", "check", str(rules)], tmp_path)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == f"{folder}/{where}: {message}"


# (what is wrong, the template's text, where the error is reported, what is said): jinja's errors carry only
# the line; the column is the token the parser stopped at, or the {{ / {% block left open.
SYNTAX_ERRORS = [
    ("unclosed block", "Hi {{ client_first_name }},\n\n  {% if chasers %}again\n\nThanks, {{ signature }}\n", "3:6",
     "Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. "
     "The innermost block that needs to be closed is 'if'."),
    ("unknown tag", "Hi,\n   {% frobnicate %}\n", "2:7", "Encountered unknown tag 'frobnicate'."),
    ("bad expression", "Hi,\nDear {{ client_name + }} ok\n", "2:23", "unexpected 'end of print statement'"),
    ("stray bracket", "Hi,\n  Dear {{ client_name ) }}\n", "2:23", "unexpected ')'"),
    ("unexpected character", "Hi {{ client_name $ }}\n", "1:19", "unexpected char '$' at 18"),
    ("unclosed print", "Hi,\nDear {{ client_name\n", "2:6",
     "unexpected end of template, expected 'end of print statement'."),
]


@pytest.mark.parametrize("what,text,where,message", SYNTAX_ERRORS, ids=[s[0] for s in SYNTAX_ERRORS])
def test_a_template_syntax_error_is_reported_at_its_column(tmp_path, what, text, where, message):
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text())
    folder = user_templates(tmp_path, rules, ack_revision_request_txt=text)
    result = cli(["rules", "check", str(rules)], tmp_path)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == f"{folder}/ack_revision_request.txt:{where}: {message}"


def test_a_missing_template_folder_is_an_error_not_a_silent_fallback(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text().replace("# templates: my-templates", "templates: my-templtes"))
    result = cli(["rules", "check", str(rules)], tmp_path)
    assert result.returncode == 1
    line = next(n for n, text in enumerate(rules.read_text().splitlines(), 1) if text.startswith("templates:"))
    assert result.stderr.splitlines() == [f"{rules}:{line}:12: templates: no folder 'my-templtes' next to this file"]


def test_shipped_templates_pass_the_check(tmp_path):
    result = cli(["rules", "check", str(ROOT / "rules.yaml")], tmp_path)
    assert result.returncode == 0, result.stderr


def replace(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".new")
    temporary.write_text(text)
    os.replace(temporary, path)


@pytest.mark.parametrize("breakage", ["tag", "duplicate key", "template syntax", "summary template variable"])
def test_a_reload_with_a_bad_file_keeps_the_last_good_rules(daemon_env, tmp_path, dovecot, smtp_server,  # noqa: F811
                                                            make_message, breakage):
    rules = Path(daemon_env["LIAISON_RULES"])
    folder = user_templates(tmp_path, rules, ack_revision_request_txt=(SHIPPED / "ack_revision_request.txt")
                            .read_text())
    process = start(daemon_env, tmp_path)
    good = rules.read_text()
    mode_line = good[:good.index("\nmode: live")].count("\n") + 2
    # Each file is replaced whole, as an editor saves it: the daemon watches the rules file and must
    # never read half of it.
    if breakage == "tag":
        replace(rules, good.replace("mode: live", "mode: !!python/object/apply:os.system ['true']"))
        expected = f"{rules}:{mode_line}:7: YAML tags are not allowed: !!python/object/apply:os.system"
    elif breakage == "duplicate key":
        replace(rules, good.replace("mode: live", "mode: live\nmode: shadow"))
        expected = f"{rules}:{mode_line + 1}:1: duplicate key 'mode'"
    elif breakage == "template syntax":
        replace(folder / "ack_revision_request.txt", "Hi {{ client_first_name }\n")
        expected = f"{folder}/ack_revision_request.txt:1:25: unexpected '}}'"
    else:
        replace(folder / "summary.html", (SHIPPED / "summary.html").read_text())
        replace(folder / "summary.txt", "{{ total }} {{ no_such_total }}\n")
        expected = f"{folder}/summary.txt:1:16: 'no_such_total' is undefined"
    process.send_signal(signal.SIGHUP)
    log = wait_for_log(tmp_path, expected, process)
    assert "keeping the last good rules" in log and "Traceback" not in log
    # the broken file is still on disk: the last good rules answer with the templates read with them (blind round
    # 24: a refused template was read from disk at send time, and the acknowledgement failed)
    dovecot.append(revision(make_message, 8))
    assert smtp_server.wait_for(2, timeout=20), "the daemon goes on answering with its last good rules"
    if breakage == "duplicate key":  # put right: the summary's Review says so beside the refusal (blind round 21)
        shown = cli(["status"], tmp_path, **daemon_env).stdout
        assert "rules_refused: " in shown and "duplicate key 'mode'" in shown and '{"' not in shown, shown
        replace(rules, good)
        process.send_signal(signal.SIGHUP)
        wait_for_log(tmp_path, "rules reloaded from", process)
        # round 23b: `status` showed the refused edit on after good rules were loaded, as if still broken
        assert "rules_refused" not in cli(["status"], tmp_path, **daemon_env).stdout
    assert stop(process) == 0
    assert sorted(m["Auto-Submitted"] for m in smtp_server.parsed()) == ["auto-generated", "auto-replied"]
    store = Store(tmp_path / "liaison.db")
    refusals = store.all("SELECT detail FROM events WHERE kind = 'rules_refused'")
    assert len(refusals) == 1, "noticed on disk and told by SIGHUP: one refusal (blind round 21 saw each twice)"
    if breakage == "duplicate key":
        review = summary.build(store, load_checked_rules(rules), "lead@agency.example", datetime.now(UTC).date(),
                               team=True, until=datetime.now(UTC) + timedelta(minutes=1)).review
        (refused,) = [r for r in review if r["kind"] == "rules refused"]
        assert "(put right: good rules loaded" in refused["reason"] and refused["sender"] == ""
        # the team lead's to mend, not in every account manager's summary as well
        managers = summary.build(store, load_checked_rules(rules), "anna@agency.example", datetime.now(UTC).date(),
                                 team=False, until=datetime.now(UTC) + timedelta(minutes=1)).review
        assert not [r for r in managers if r["kind"] == "rules refused"], managers
    assert [r["status"] for r in store.all("SELECT status FROM messages")] == ["processed"]


@pytest.fixture
def settings(tmp_path, dovecot, smtp_server):
    return liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)


@pytest.mark.parametrize("template", ["ack_revision_request", "escalate"])
def test_a_template_broken_at_send_time_never_quarantines(settings, tmp_path, dovecot, smtp_server, make_message,
                                                          template):
    """A user's template that passes the check (it renders the sample message) and fails on a real one: the message
    is handled, the failure recorded where it is. (A template edited on disk after loading is not read at send
    time: the last good rules render with the templates checked with them.)"""
    rules = Path(settings.rules_path)
    fails_on_real_mail = '{% if subject.startswith("Banner") %}{{ 1 // (subject | length * 0) }}{% endif %}\n'
    folder = user_templates(tmp_path, rules, **{
        f"{template}_txt": fails_on_real_mail + (SHIPPED / f"{template}.txt").read_text()})
    store = Store(settings.db_path)
    daemon = Daemon(settings, store)  # rules and templates checked and loaded
    dovecot.append(revision(make_message, 9))
    daemon.run_once()
    (message,) = store.all("SELECT status, route FROM messages")
    assert message["status"] == "processed", "the client's message is handled, not quarantined"
    escalations = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated"]
    assert len(escalations) == 1 and escalations[0]["To"] == "anna@agency.example", "the escalation still goes"
    failure = store.one("SELECT detail FROM events WHERE kind = 'action_failed'")
    assert f"{folder}/{template}.txt:" in loads(failure["detail"])["reason"], "the failure is recorded, located"
    acks = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied"]
    assert len(acks) == (0 if template.startswith("ack") else 1)


def test_a_template_edited_after_loading_is_not_read_until_a_reload_checks_it(settings, tmp_path, dovecot,
                                                                               smtp_server, make_message):
    """Blind round 24: a template refused at reload (or edited and not yet reloaded) was read from disk at send time,
    so the last good rules failed to acknowledge. The templates are read with the rules that were checked."""
    rules = Path(settings.rules_path)
    folder = user_templates(tmp_path, rules, ack_revision_request_txt="Checked wording {{ subject }}\n")
    store = Store(settings.db_path)
    daemon = Daemon(settings, store)
    (folder / "ack_revision_request.txt").write_text("{{ acount_manager_name }}\n")  # a typo, not yet reloaded
    dovecot.append(revision(make_message, 10))
    daemon.run_once()
    (ack,) = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied"]
    assert ack.get_body(("plain",)).get_content().startswith("Checked wording Banner change 10")
    assert store.one("SELECT 1 FROM events WHERE kind = 'action_failed'") is None


def test_unknown_key_in_the_config_file_is_named(tmp_path):
    path = tmp_path / "liaison.toml"
    path.write_text('imap_host = "imap.example.com"\nimap_hots = "imap.example.com"\n')
    with pytest.raises(ConfigError, match="unknown key 'imap_hots' \\(did you mean 'imap_host'\\?\\)"):
        load_settings({"LIAISON_CONFIG": str(path)})
    result = cli(["rules", "check", str(ROOT / "rules.yaml")], tmp_path, LIAISON_CONFIG=str(path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"liaison: configuration error: {path}: unknown key 'imap_hots' (did you mean 'imap_host'?)"]
    path.write_text('[imap]\nhost = "imap.example.com"\n')
    with pytest.raises(ConfigError, match="unknown key 'imap'"):
        load_settings({"LIAISON_CONFIG": str(path)})
    path.write_text('imap_folder = "Clients"\npoll_interval = 30\n')
    assert load_settings({"LIAISON_CONFIG": str(path)}).poll_interval == 30


def test_the_sample_context_has_every_field_a_real_acknowledgement_context_has(tmp_path):
    # The check renders templates with a hand-kept sample: a field the responder adds and the sample lacks
    # would refuse every shipped template (or let a broken user template through). Keep them in step.
    from datetime import UTC, datetime

    from classifiers import Classification
    from classifiers.linking import Link
    from foundation.message import parse_message
    from foundation.settings import Settings
    from inbox.daemon import load_checked_rules
    from inbox.scratch import scratch_pipeline
    from responders.routing import Facts
    from responders.template_check import message_contexts
    from tests.servers import make_message

    settings = Settings(address="accounts@agency.example", agency_domains=("agency.example",),
                        db_path=tmp_path / "x.db", rules_path=ROOT / "rules.yaml", imap=None, smtp=None)
    pipeline = scratch_pipeline(settings, load_checked_rules(ROOT / "rules.yaml"))
    parsed = parse_message(make_message(sender="Tom Hill <tom@brewco.com>", subject="Banner", body="Change it."))
    facts = Facts(category="revision_request", confidence=0.9, needs_review=False, sender=parsed.from_addr,
                  subject=parsed.subject, body="Change it.", received_at=datetime.now(UTC))
    real = pipeline.responder._context(parsed, facts, Link("brewco", "contact"), None,
                                       Classification("revision_request", 0.9), pipeline.index)
    for sample in message_contexts():
        assert set(sample) == set(real), set(sample) ^ set(real)


@pytest.mark.parametrize("text,message", [
    ("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\n", "range() calls"),
    ("{% for i in range(100000) %}{{ client_name * 1000 }}{% endfor %}\n", "renders more than"),
], ids=["nested loops", "enormous output"])
def test_a_template_that_would_run_away_is_refused_with_its_place(tmp_path, text, message):
    """Found by the ops tester: a nested loop over range(100000) hung `rules check` (3 GB) and a running
    daemon's reload. A template's work is bounded, and the check names the file."""
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text())
    user_templates(tmp_path, rules, ack_revision_request_txt=text)
    result = cli(["rules", "check", str(rules)], tmp_path)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert "ack_revision_request.txt" in result.stderr and message in result.stderr, result.stderr


# Values a template would make too large to hold, refused before they are made (not after building gigabytes).
HUGE_VALUES = [
    ('Hi {{ "x" * 10**9 }}\n', "'*'"),
    ("Hi {{ client_name * 1000000000 }}\n", "'*'"),
    ("Hi {{ [1] * 10**9 }}\n", "'*'"),
    ("Hi {{ 10 ** 1000000000 }}\n", "'**'"),
    ('Hi {{ "%1000000000s" % client_name }}\n', "'%'"),
    ('Hi {{ "%*s" % (1000000000, client_name) }}\n', "'%'"),
    ('Hi {{ "{:>1000000000}".format(client_name) }}\n', "format()"),
    ("Hi {{ client_name|center(1000000000) }}\n", "center"),
    ("Hi {{ client_name.ljust(1000000000) }}\n", "ljust()"),
    ('Hi {{ client_name|replace("", "x" * 999999) }}\n', "replace"),
    ("{% set ns = namespace(s=client_name) %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}\n",
     "'~'"),
    ("{% set ns = namespace(s=client_name) %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}\n",
     "'+'"),
]


@pytest.mark.parametrize("text,operation", HUGE_VALUES, ids=[h[0].strip() for h in HUGE_VALUES])
def test_a_template_making_a_huge_value_is_refused_before_making_it(tmp_path, text, operation):
    """Found by a blind admin: `{{ "x" * 1000000000 }}` got past the output bound, so a rules check (and a
    reload, and a start) built a gigabyte string (18-24 s, 4 GB) before refusing it. Whatever would make a value
    over a million characters is refused before it is made, at the template's place, by the check that rules
    check, reload and start-up share."""
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text())
    user_templates(tmp_path, rules, ack_revision_request_txt=text)
    with pytest.raises(RulesError) as refused:
        load_checked_rules(rules)
    problems = str(refused.value)
    assert "ack_revision_request.txt:1:" in problems, problems
    assert f"{operation} would make a value of more than" in problems, problems


def test_rules_check_refuses_a_string_repeated_a_billion_times(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text())
    user_templates(tmp_path, rules, ack_revision_request_txt='Hello\n{{ "x" * 1000000000 }}\n')
    result = cli(["rules", "check", str(rules)], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "ack_revision_request.txt:2:" in result.stderr and "would make a value of more than" in result.stderr


@pytest.mark.parametrize("loops", [
    '{% set s = "x" * 999999 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}',
    '{% for i in range(99999) %}{% for j in "x" * 999999 %}{% endfor %}{% endfor %}'])
def test_rules_check_refuses_a_template_that_never_finishes(tmp_path, loops):
    """Nested loops over long strings make nothing big and never end: rules check, a reload and start-up hung
    and SIGTERM waited (found by the final blind tester). Rendering has a time limit as well as a size one."""
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text())
    user_templates(tmp_path, rules, ack_revision_request_txt=f"Hello\n{loops}\n")
    result = cli(["rules", "check", str(rules)], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "ack_revision_request.txt" in result.stderr and "to render" in result.stderr, result.stderr


def test_templates_within_the_bounds_still_render(tmp_path):
    """Repetition, powers, formatting and joining of ordinary sizes work as in jinja."""
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text())
    user_templates(tmp_path, rules, ack_revision_request_txt=(
        '{{ "=" * 20 }} {{ 2 ** 10 }} {{ "%s (%05d)" % (client_name, 42) }} {{ "{:>8}|".format("ok") }} '
        '{{ [1, 2] + [3] }} {{ ["a", "b"]|join(", ") }} {{ "ab"|center(6) }}|{{ client_name ~ "!" }}\n'))
    library = TemplateLibrary(tmp_path / "my-templates")
    text = library.render_file("en/ack_revision_request.txt", {"client_name": "BrewCo"})
    assert text == '==================== 1024 BrewCo (00042)       ok| [1, 2, 3] a, b   ab  |BrewCo!\n'


def test_a_template_file_nothing_reads_is_warned_of_by_rules_check(tmp_path):
    """Blind round 24: `ack_revison_request.txt` (a typo) passed `rules check` silently, and the shipped wording went
    on being sent. Allowed (a template may wait for its rule), so a warning with the name meant, exit 0."""
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text().replace("# templates: my-templates", "templates: my-templates"))
    (tmp_path / "my-templates" / "en").mkdir(parents=True)
    (tmp_path / "my-templates" / "en" / "ack_revison_request.txt").write_text("Hi\n")
    (tmp_path / "my-templates" / "english").mkdir()
    (tmp_path / "my-templates" / "english" / "ack_neutral.txt").write_text("Hi\n")
    result = cli(["rules", "check", str(rules)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("ack_revison_request.txt: no rule and no shipped template uses 'ack_revison_request', so it is never "
            "sent (did you mean 'ack_revision_request'?)") in result.stderr
    assert "english/ack_neutral.txt: no language 'english': template folders are en, fr, de, es, nl" in result.stderr
