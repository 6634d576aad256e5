"""The acknowledgement greets a person by name and a team neutrally, on a line of its own (issue 12)."""

from __future__ import annotations

import pytest

from foundation.store import Store
from inbox.daemon import Daemon
from responders.greeting import greeting, is_role_address
from tests.servers import liaison_settings

LANGUAGES = {"brewco": "en", "verde": "fr", "berlin": "de", "madrid": "es", "amstel": "nl"}
DOMAINS = {"brewco": "brewco.com", "verde": "verde.fr", "berlin": "berlin-bier.de", "madrid": "madrid.es",
           "amstel": "amstel.nl"}
EXPECTED = {  # language: (a person, a team)
    "en": ("Hi Tom,", "Hello,"), "fr": ("Bonjour Tom,", "Bonjour,"), "de": ("Hallo Tom,", "Guten Tag,"),
    "es": ("Hola Tom,", "Hola,"), "nl": ("Hallo Tom,", "Goedendag,"),
}


@pytest.mark.parametrize("address", ["ap@ledgerly.com", "accounts@brewco.com", "billing@brewco.com",
                                     "info@brewco.com", "accounts.payable@brewco.com", "payables@hopkins-rowe.co.uk",
                                     "finance-eu@brewco.com", "compta@verde.fr", "buchhaltung@berlin-bier.de"])
def test_role_addresses(address):
    assert is_role_address(address)


@pytest.mark.parametrize("address", ["tom.hill@brewco.com", "anna@agency.example", "j.park@kite-saas.io"])
def test_people_are_not_roles(address):
    assert not is_role_address(address)


@pytest.mark.parametrize("name,address,tone,expected", [
    ("Tom Hill", "tom.hill@brewco.com", "friendly", "Hi Tom,"),
    ("Berg, Anna", "anna.berg@brewco.com", "friendly", "Hi Anna,"),
    ("", "tom.hill@brewco.com", "friendly", "Hi Tom,"),
    ("Ledgerly AP", "ap@ledgerly.com", "friendly", "Hello,"),
    ("Ledgerly Accounts", "accounts@ledgerly.com", "formal", "Dear Sir or Madam,"),
    ("Tom Hill", "tom.hill@brewco.com", "formal", "Dear Tom Hill,"),
    ("", "tom.hill@brewco.com", "formal", "Dear Sir or Madam,"),
    ("tom@brewco.com", "tom@brewco.com", "formal", "Dear Sir or Madam,"),
    # titles, with or without their dot (blind round 21: "Hi Mrs,", "Bonjour Mme,")
    ("Mrs Sarah Hill", "s.hill@brewco.com", "friendly", "Hi Sarah,"),
    ("Dr. Tom Hill", "tom.hill@brewco.com", "friendly", "Hi Tom,"),
    ("Mr Hill", "t.hill@brewco.com", "friendly", "Hello,"),
    ("Ms Hill", "hill@brewco.com", "friendly", "Hello,"),
    ("Mme Dubois", "dubois@lumiere.fr", "friendly", "Hello,"),
    ("Hill, Mrs Sarah", "s.hill@brewco.com", "friendly", "Hi Sarah,"),
    ("Don Draper", "don@sterling.example", "friendly", "Hi Don,"),
])
def test_greeting_in_english(name, address, tone, expected):
    assert greeting(language="en", tone=tone, display_name=name, address=address) == expected


def test_each_language_greets_a_person_by_name_and_a_team_neutrally_on_its_own_line(
        tmp_path, dovecot, smtp_server, make_message):
    rows = "".join(f"{a},{a.title()},{a[:3].upper()},{d},,anna@agency.example\n" for a, d in DOMAINS.items())
    settings = liaison_settings(tmp_path, dovecot, smtp_server,
                                "account_id,name,code,domains,contacts,account_manager\n" + rows)
    rules = settings.rules_path.read_text()
    assert "accounts: {}" in rules
    settings.rules_path.write_text(rules.replace("accounts: {}", "accounts:\n" + "".join(
        f"  {a}:\n    language: {lang}\n" for a, lang in LANGUAGES.items() if lang != "en")))
    for account, domain in DOMAINS.items():
        for sender in (f"Tom Hill <tom.hill@{domain}>", f"Ledgerly AP <ap@{domain}>"):
            dovecot.append(make_message(sender=sender, subject=f"Banner {account} {sender[:3]}",
                                        body="Hi, please change the headline on the banner to 'Fresh daily'."))
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    store.close()
    acks = {m["To"]: m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied"}
    assert len(acks) == 10
    for account, domain in DOMAINS.items():
        person, team = EXPECTED[LANGUAGES[account]]
        for address, expected in ((f"tom.hill@{domain}", person), (f"ap@{domain}", team)):
            text = acks[address].get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
            first, blank, paragraph = text.split("\n", 3)[:3]
            assert (first, blank) == (expected, ""), (address, text[:80])
            assert paragraph.strip(), "the first paragraph follows one blank line"
            assert "Ledgerly" not in text
            html = acks[address].get_body(preferencelist=("html",)).get_content()
            assert f"<p>{expected}</p>" in html


@pytest.mark.parametrize("name", ["Accounts Payable", "Marketing Team BrewCo", "Finance Dept", "The Studio Team"])
def test_a_team_named_as_a_team_is_greeted_neutrally(name):
    assert greeting(language="en", tone="friendly", display_name=name, address="someone@brewco.com") == "Hello,"
    assert greeting(language="en", tone="formal", display_name=name, address="someone@brewco.com") == \
        "Dear Sir or Madam,"


def test_acknowledgements_are_signed_in_the_reply_language():
    from responders.respond import SIGNATURES, in_language

    assert in_language(None, "de", SIGNATURES) == "Ihr Kundenteam"
    assert in_language({"en": "Team BrewCo", "fr": "L'équipe BrewCo"}, "fr", SIGNATURES) == "L'équipe BrewCo"
    assert in_language({"en": "Team BrewCo"}, "nl", SIGNATURES) == "Team BrewCo"
    assert in_language("The Studio", "es", SIGNATURES) == "The Studio"
