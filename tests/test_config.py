"""Settings: defaults, validation naming the setting, secrets only from the environment."""

from __future__ import annotations

import os
import stat

import pytest

from foundation.errors import ConfigError
from foundation.settings import load_settings
from foundation.store import Store

BASE = {"LIAISON_IMAP_HOST": "imap.example.com", "LIAISON_IMAP_USER": "u", "LIAISON_IMAP_PASSWORD": "s3cret-pw",
        "LIAISON_SMTP_HOST": "smtp.example.com", "LIAISON_ADDRESS": "accounts@agency.example"}


def test_defaults():
    s = load_settings(BASE, need_imap=True, need_smtp=True)
    assert (s.imap.port, s.imap.security, s.imap.verify_tls) == (993, "ssl", True)
    assert (s.smtp.port, s.smtp.security) == (465, "ssl")
    assert s.folder == "INBOX" and s.agency_domains == ("agency.example",)
    assert "s3cret-pw" not in repr(s.imap) + repr(s)


@pytest.mark.parametrize("name,value", [
    ("LIAISON_IMAP_PORT", "abc"), ("LIAISON_IMAP_PORT", "70000"), ("LIAISON_IMAP_SECURITY", "tls"),
    ("LIAISON_ADDRESS", "not-an-address"), ("LIAISON_SMTP_TLS_VERIFY", "maybe"), ("LIAISON_IMAP_HOST", ""),
    ("LIAISON_IMAP_PASSWORD", ""),
])
def test_invalid_setting_is_named(name, value):
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, name: value}, need_imap=True, need_smtp=True)
    assert caught.value.setting == name


def test_config_file_is_overridden_by_environment_and_refuses_passwords(tmp_path):
    path = tmp_path / "liaison.toml"
    path.write_text('imap_folder = "Clients"\nimap_port = 1993\n')
    s = load_settings({**BASE, "LIAISON_CONFIG": str(path), "LIAISON_IMAP_PORT": "2993"}, need_imap=True)
    assert (s.folder, s.imap.port) == ("Clients", 2993)
    path.write_text('imap_password = "oops"\n')
    with pytest.raises(ConfigError, match="secrets belong in the environment"):
        load_settings({**BASE, "LIAISON_CONFIG": str(path)})


def test_database_is_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        store = Store(tmp_path / "liaison.db")
        store.close()
    finally:
        os.umask(old)
    for name in ("liaison.db", "liaison.db-wal"):
        path = tmp_path / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


@pytest.mark.parametrize("value", ['"com"', '"co.uk"', '"@agency2.example"', '"*.agency2.example"', '""',
                                   '"agency example"', '"agency.example", ""'])
def test_an_agency_domain_that_is_no_domain_of_the_agency_is_refused_naming_the_setting(tmp_path, value):
    """From the blind tester: each was accepted and made every client (every .com one, or all) staff, whose
    mail is never answered. Mail from an agency domain or below it counts as staff."""
    path = tmp_path / "liaison.toml"
    path.write_text(f"agency_domains = [{value}]\n")
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, "LIAISON_CONFIG": str(path)})
    assert caught.value.setting == "LIAISON_AGENCY_DOMAINS", caught.value
    if value != '""':  # the same in the environment (where an empty value is no value)
        with pytest.raises(ConfigError) as caught:
            load_settings({**BASE, "LIAISON_AGENCY_DOMAINS": value.replace('"', "")})
        assert caught.value.setting == "LIAISON_AGENCY_DOMAINS", caught.value


@pytest.mark.parametrize("value", ["gmail.com", "outlook.com", "agency.example, hotmail.com", "GMX.de",
                                   "yahoo.co.uk", "proton.me", "mail.gmail.com"])
def test_a_free_mail_provider_as_an_agency_domain_is_refused_naming_the_setting(value):
    """From the blind tester: agency_domains = gmail.com was accepted, and every gmail sender (an impostor
    writing as staff too) counted as staff, never answered, escalated or flagged."""
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, "LIAISON_AGENCY_DOMAINS": value})
    assert caught.value.setting == "LIAISON_AGENCY_DOMAINS" and "free-mail" in str(caught.value), caught.value


def test_agency_domains_of_real_domains_are_kept():
    settings = load_settings({**BASE, "LIAISON_AGENCY_DOMAINS": "agency.example, Agency2.example.,studio.co.uk"})
    assert settings.agency_domains == ("agency.example", "agency2.example", "studio.co.uk")


@pytest.mark.parametrize(("written", "expected"), [
    ('imap_host = imap.example.com\n', ':2:13: imap_host: invalid value; a text needs quotes: '
                                       'imap_host = "imap.example.com"'),
    ('imap_port = 99x3\n', ":2:15: imap_port: expected newline or end of document after a statement"),
    ('imap_folder = "Clients\n', ":2:23: imap_folder: illegal character '\\n'; is a quote left open?"),
    ('[imap\n', ":2:6: expected ']' at the end of a table declaration"),
])
def test_a_syntax_error_names_file_line_column_and_key(tmp_path, written, expected):
    """Blind round 20: tomllib's "(at line 2, column 13)" named neither the key nor what to write instead."""
    path = tmp_path / "liaison.toml"
    path.write_text('address = "inbox@agency.example"\n' + written)
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, "LIAISON_CONFIG": str(path)})
    assert str(caught.value) == f"{path}{expected}"
