"""accounts import: idempotent, all or nothing, errors by line."""

from __future__ import annotations

import pytest

from foundation.accounts import export_accounts, import_accounts, list_accounts, read_accounts_csv, show_account
from foundation.errors import AccountsImportError
from foundation.store import Store

GOOD = """account_id,name,code,domains,contacts,account_manager
brewco,BrewCo,BREW,brewco.com;brewco.co.uk,jo@gmail.com;ap@ledgerly.com,anna@agency.example
bank,North Bank,nbk,northbank.co.uk,,omar@agency.example
"""


def write(tmp_path, text):
    path = tmp_path / "accounts.csv"
    path.write_text(text)
    return path


def test_import_is_idempotent_and_updates(tmp_path):
    store = Store(tmp_path / "db")
    assert import_accounts(store, read_accounts_csv(write(tmp_path, GOOD)))[:2] == (2, 0)
    again = import_accounts(store, read_accounts_csv(write(tmp_path, GOOD)))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)  # round 23b: it said "2 updated"
    renamed = import_accounts(store, read_accounts_csv(write(tmp_path, GOOD.replace("North Bank", "NB Plc"))))
    assert (renamed.added, renamed.updated, renamed.unchanged) == (0, 1, 1)
    accounts = {a["account_id"]: a for a in list_accounts(store)}
    assert len(accounts) == 2
    assert accounts["bank"]["name"] == "NB Plc" and accounts["bank"]["code"] == "NBK"
    assert accounts["brewco"]["domains"] == ["brewco.com", "brewco.co.uk"]


def test_errors_are_reported_by_line_and_nothing_is_imported(tmp_path):
    store = Store(tmp_path / "db")
    bad = GOOD + "x y,Bad,,not a domain,nobody,boss\nbrewco,Again,,brewco.com,,\n"
    with pytest.raises(AccountsImportError) as caught:
        import_accounts(store, read_accounts_csv(write(tmp_path, bad)))
    text = "\n".join(caught.value.problems)
    assert "accounts.csv:4: account_id must be" in text
    assert "accounts.csv:4: invalid domain 'not a domain'" in text
    assert "accounts.csv:4: invalid contact address 'nobody'" in text
    assert "accounts.csv:5: duplicate account_id 'brewco' (first on line 2)" in text
    assert list_accounts(store) == []


def test_missing_column(tmp_path):
    with pytest.raises(AccountsImportError, match="missing column"):
        read_accounts_csv(write(tmp_path, "account_id,name\nx,y\n"))


def test_export_round_trips(tmp_path):
    store = Store(tmp_path / "db")
    import_accounts(store, read_accounts_csv(write(tmp_path, GOOD)))
    again = read_accounts_csv(write(tmp_path, export_accounts(store)))
    assert {r["account_id"] for r in again} == {"brewco", "bank"}
    assert show_account(store, "brewco")["contacts"] == ["jo@gmail.com", "ap@ledgerly.com"]


def test_a_spreadsheets_semicolon_csv_is_read_and_a_free_mail_domain_refused(tmp_path):
    """Blind round 24: a CSV saved with ";" (a spreadsheet where the decimal mark is a comma) was "missing column(s)";
    gmail.com as a client's domain was taken silently and links nobody."""
    semicolons = ("\ufeffaccount_id;name;code;domains;contacts;account_manager\r\n"
                  'brewco;BrewCo;BREW;"BrewCo.com;brewco.de";jo@gmail.com;anna@agency.example\r\n')
    (row,) = read_accounts_csv(write(tmp_path, semicolons))
    assert row["domains"] == ["brewco.com", "brewco.de"] and row["contacts"] == ["jo@gmail.com"]
    with pytest.raises(AccountsImportError) as refused:
        read_accounts_csv(write(tmp_path, GOOD.replace("brewco.com;brewco.co.uk", "brewco.com;gmail.com")))
    assert "domain 'gmail.com' is a free-mail provider's" in refused.value.problems[0]


def test_a_managers_address_one_slip_from_anothers_or_outside_the_agency_is_doubted(tmp_path):
    """Blind round 24b: "priya.ramen@" for the "priya.raman@" of her other accounts was taken unsaid; her client's
    escalations and summary went to no one. Said, not refused: a new colleague's address may be near an old one's."""
    store = Store(tmp_path / "db")
    text = GOOD + ("kiln,Kiln,KILN,kiln.com,,priya.raman@agency.example\n"
                   "loom,Loom,LOOM,loom.com,,priya.raman@agency.example\n"
                   "quill,Quill Press,QP,quill.com,,priya.ramen@agency.example\n"
                   "oak,Oak,OAK,oak.com,,omar@agency-mail.example\n")
    result = import_accounts(store, read_accounts_csv(write(tmp_path, text)), agency_domains=["agency.example"])
    assert result.doubts == (
        "account manager priya.ramen@agency.example is one slip from priya.raman@agency.example: did you mean it?",
        "account manager omar@agency-mail.example is not at an agency domain (agency.example): their escalations "
        "and summaries leave the agency")
    assert import_accounts(store, read_accounts_csv(write(tmp_path, GOOD)),
                           agency_domains=["agency.example"]).doubts == ()  # anna and omar: far apart, no doubt


def test_a_managers_address_changed_on_one_account_says_so_and_doubts_a_slip(tmp_path):
    """Blind round 25: jonas.berg@ -> jonas.brg@ on one of his two accounts: "0 added, 1 updated" and nothing else;
    that day's summary went to the mistyped address."""
    store = Store(tmp_path / "db")
    text = GOOD + ("kiln,Kiln,KILN,kiln.com,,jonas.berg@agency.example\n"
                   "loom,Loom,LOOM,loom.com,,jonas.berg@agency.example\n")
    import_accounts(store, read_accounts_csv(write(tmp_path, text)), agency_domains=["agency.example"])
    typo = text.replace("loom.com,,jonas.berg@", "loom.com,,jonas.brg@")
    result = import_accounts(store, read_accounts_csv(write(tmp_path, typo)), agency_domains=["agency.example"])
    assert result.handovers == ("loom: jonas.berg@agency.example -> jonas.brg@agency.example",)
    assert result.doubts == ("account manager jonas.brg@agency.example is one slip from jonas.berg@agency.example: "
                             "did you mean it?",)


def test_an_account_without_a_manager_is_said(tmp_path):
    """Blind round 25b: an empty account_manager was accepted silently; that client's mail went to the team lead."""
    store = Store(tmp_path / "db")
    result = import_accounts(store, read_accounts_csv(write(tmp_path, GOOD + "kiln,Kiln,KILN,kiln.com,,\n")),
                             agency_domains=["agency.example"])
    assert result.doubts == ("account kiln has no account manager: its escalations and summary go to the team lead",)
