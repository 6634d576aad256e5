"""accounts import never hands one client's domain, contact or code to another silently (issue 12, item 7)."""

from __future__ import annotations

import pytest

from foundation.accounts import import_accounts, list_accounts, read_accounts_csv
from foundation.errors import AccountsImportError
from foundation.store import Store
from inbox.cli import main

HEADER = "account_id,name,code,domains,contacts,account_manager\n"
EXISTING = HEADER + ("brewco,BrewCo,BREW,brewco.com,tom.hill@gmail.com,anna@agency.example\n"
                     "bank,North Bank,NBK,northbank.co.uk,,omar@agency.example\n")


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("LIAISON_DB", str(tmp_path / "liaison.db"))
    (tmp_path / "old.csv").write_text(EXISTING)
    assert main(["accounts", "import", str(tmp_path / "old.csv")]) == 0
    return tmp_path


def accounts(folder) -> dict:
    store = Store(folder / "liaison.db")
    try:
        return {a["account_id"]: a for a in list_accounts(store)}
    finally:
        store.close()


@pytest.mark.parametrize("row,claim", [
    ("newco,NewCo,NEW,brewco.com,,ines@agency.example", "domain 'brewco.com'"),
    ("newco,NewCo,NEW,newco.io,tom.hill@gmail.com,ines@agency.example", "contact 'tom.hill@gmail.com'"),
    ("newco,NewCo,brew,newco.io,,ines@agency.example", "code 'BREW'"),
])
def test_a_row_taking_another_accounts_claim_is_refused_with_its_line_and_owner(db, capsys, row, claim):
    (db / "new.csv").write_text(HEADER + "other,Other,OTH,other.example,,ines@agency.example\n" + row + "\n")
    before = accounts(db)
    assert main(["accounts", "import", str(db / "new.csv")]) == 1
    err = capsys.readouterr().err
    assert f"new.csv:3: {claim} belongs to account 'brewco' (BrewCo)" in err
    assert "--move" in err
    assert accounts(db) == before, "nothing is imported, not even the harmless row"


def test_move_gives_the_claim_to_the_new_account_and_says_so(db, capsys):
    (db / "new.csv").write_text(HEADER + "newco,NewCo,BREW,brewco.com;newco.io,tom.hill@gmail.com,"
                                         "ines@agency.example\n")
    assert main(["accounts", "import", "--move", str(db / "new.csv")]) == 0
    out = capsys.readouterr().out
    assert "domain 'brewco.com' moved from 'brewco' to 'newco'" in out
    assert "contact 'tom.hill@gmail.com' moved from 'brewco' to 'newco'" in out
    assert "code 'BREW' moved from 'brewco' to 'newco'" in out
    after = accounts(db)
    assert (after["brewco"]["domains"], after["brewco"]["contacts"], after["brewco"]["code"]) == ([], [], "")
    assert after["newco"]["domains"] == ["brewco.com", "newco.io"] and after["newco"]["code"] == "BREW"
    assert after["bank"]["domains"] == ["northbank.co.uk"]


def test_the_same_file_may_move_a_claim_by_relisting_its_owner(db, capsys):
    (db / "new.csv").write_text(HEADER + "brewco,BrewCo,BREW,brewco.co.uk,,anna@agency.example\n"
                                         "newco,NewCo,NEW,brewco.com,tom.hill@gmail.com,ines@agency.example\n")
    assert main(["accounts", "import", str(db / "new.csv")]) == 0
    after = accounts(db)
    assert after["newco"]["domains"] == ["brewco.com"] and after["brewco"]["domains"] == ["brewco.co.uk"]


def test_the_same_account_id_updates_its_own_claims(db):
    (db / "new.csv").write_text(HEADER + "brewco,BrewCo Brewing,BREW,brewco.com,tom.hill@gmail.com,"
                                         "anna@agency.example\n")
    assert main(["accounts", "import", str(db / "new.csv")]) == 0
    assert accounts(db)["brewco"]["name"] == "BrewCo Brewing"


def test_two_rows_of_one_file_cannot_claim_the_same_thing(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(HEADER + "a,A,AAA,shared.example,x@gmail.com,m@agency.example\n"
                             "b,B,AAA,shared.example,x@gmail.com,m@agency.example\n")
    with pytest.raises(AccountsImportError) as caught:
        read_accounts_csv(path)
    text = "\n".join(caught.value.problems)
    assert "accounts.csv:3: domain 'shared.example' is already given to account 'a' on line 2" in text
    assert "accounts.csv:3: contact 'x@gmail.com' is already given to account 'a' on line 2" in text
    assert "accounts.csv:3: code 'AAA' is already given to account 'a' on line 2" in text


def test_the_library_refuses_too(tmp_path):
    store = Store(tmp_path / "db")
    import_accounts(store, read_accounts_csv(_write(tmp_path / "a.csv", EXISTING)))
    with pytest.raises(AccountsImportError, match="b.csv:2: domain 'northbank.co.uk' belongs to account 'bank'"):
        import_accounts(store, read_accounts_csv(_write(tmp_path / "b.csv", HEADER + "x,X,,northbank.co.uk,,\n")))
    assert {a["account_id"] for a in list_accounts(store)} == {"brewco", "bank"}


def _write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("row", [
    "ours,Our Agency,OUR,agency.example,,ines@agency.example",
    "studio,Studio,STU,studio.agency.example,,ines@agency.example",
    "newco,NewCo,NEW,newco.io,ines@agency.example,ines@agency.example",
])
def test_an_account_on_an_agency_domain_is_refused_at_import_with_its_line(db, capsys, monkeypatch, row):
    """From the blind tester: an account whose domain was the agency's own was imported silently; all its
    mail then counts as staff (never answered or escalated), which only doctor said later."""
    monkeypatch.setenv("LIAISON_AGENCY_DOMAINS", "agency.example")
    (db / "new.csv").write_text(HEADER + "other,Other,OTH,other.example,,ines@agency.example\n" + row + "\n")
    before = accounts(db)
    assert main(["accounts", "import", str(db / "new.csv")]) == 1
    err = capsys.readouterr().err
    assert "new.csv:3: account " in err and "agency domain agency.example" in err and "accounts file" in err, err
    assert accounts(db) == before, "nothing is imported, not even the harmless row"


@pytest.mark.parametrize("agency, clash", [("brewco.com", True), ("mail.brewco.com", True),
                                           ("eu.mail.brewco.com", True), ("agency.example", False),
                                           ("brewco.com.example", False)])
def test_an_agency_domain_at_or_below_a_clients_domain_is_a_clash(agency, clash):
    """mail.brewco.com as an agency domain made BrewCo's mail from there staff mail, and doctor said ✓."""
    from foundation.accounts import import_accounts, staff_clashes
    from foundation.store import Store

    store = Store(":memory:")
    import_accounts(store, [{"account_id": "brewco", "name": "BrewCo", "code": "BREW", "domains": ["brewco.com"],
                             "contacts": [], "account_manager": "anna@agency.example"}])
    found = staff_clashes(store, ["agency.example", agency] if agency != "agency.example" else [agency])
    assert bool(found) == clash and all("brewco" in line for line in found)


def test_one_import_lists_every_problem_of_the_file_in_line_order(db, capsys, monkeypatch):
    """Blind round 25i: a file with three bad rows took three runs, one kind of problem at a time (the rows' own
    errors, then an agency domain, then a claim another account holds)."""
    monkeypatch.setenv("LIAISON_AGENCY_DOMAINS", "agency.example")
    (db / "new.csv").write_text(HEADER + "newco,NewCo,NEW,brewco.com,,ines@agency.example\n"
                                "free,Free,FRE,gmail.com,,ines@agency.example\n"
                                "ours,Our Agency,OUR,agency.example,,ines@agency.example\n")
    assert main(["accounts", "import", str(db / "new.csv")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in lines] == ["2", "3", "4"], lines
    assert "belongs to account 'brewco'" in lines[0] and "free-mail" in lines[1] and "agency domain" in lines[2]
