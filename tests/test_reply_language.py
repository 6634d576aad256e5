"""Acknowledgements in the language the client wrote in (blind round 22: every client got English)."""

from __future__ import annotations

import pytest

from classifiers.language import written_in


@pytest.mark.parametrize(("text", "language"), [
    ("Hallo Anna, könnt ihr bitte das Logo im Banner größer machen? Danke und viele Grüße", "de"),
    ("Bonjour, pouvez-vous corriger la facture F-2026-090 ? Merci d'avance", "fr"),
    ("Hola, ¿nos podéis enviar la factura corregida? Muchas gracias", "es"),
    ("Hoi, kunnen jullie het logo iets groter maken? Alvast bedankt", "nl"),
    ("Please change the headline on the banner and swap the hero image.", "en"),
    ("Danke!", None),  # too little to say
    ("Hi Anna, bitte see attached, thanks for the update on the banner", "en"),
    ("Hej, kan ni skicka fakturan igen?", None),  # Swedish: none of the five
    # blind round 24: short lines and formal letters in German and Spanish were answered in English
    ("Bitte Telefonnummer im Flyer korrigieren: 089 123456.", "de"),
    ("Sehr geehrter Herr Becker,\n\n- Logo größer\n- Farbe ändern\n\nMit freundlichen Grüßen", "de"),
    ("hay que cambiar el titular y quitar los precios", "es"),
    ("Please fix the typo im the banner", "en"),
    # blind round 24b: formal Dutch and Spanish letters
    ("Geachte heer Becker, Graag vernemen wij wanneer de nieuwe website live gaat. Hoogachtend, E. Bakker", "nl"),
    ("Estimada Priya: Le ruego nos envíe de nuevo la factura. Atentamente", "es"),
])
def test_the_language_a_client_wrote_in_is_one_of_the_five_or_none(text, language):
    assert written_in(text) == language


def test_a_german_client_is_answered_in_german_unless_the_account_says_otherwise(tmp_path, dovecot, smtp_server,
                                                                                make_message):
    from foundation.store import Store
    from inbox.daemon import Daemon
    from tests.servers import liaison_settings

    accounts = ("account_id,name,code,domains,contacts,account_manager\n"
                "brewco,BrewCo,BREW,brewco.com,,anna@agency.example\n")
    settings = liaison_settings(tmp_path, dovecot, smtp_server, accounts)
    dovecot.append(make_message(sender="Klaus Becker <klaus@brewco.com>", subject="Banner Winterbock",
                                body="Hallo Anna, könnt ihr bitte das Logo im Banner größer machen? Danke und viele "
                                     "Grüße, Klaus"))
    Daemon(settings, Store(settings.db_path)).run_once()
    (ack,) = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied"]
    text = ack.get_body(("plain",)).get_content()
    assert "Hallo Klaus" in text or "Guten Tag" in text, text

    rules = settings.rules_path.read_text().replace("accounts: {}", "accounts:\n  brewco:\n    language: en")
    settings.rules_path.write_text(rules)
    dovecot.append(make_message(sender="Klaus Becker <klaus@brewco.com>", subject="Plakat",
                                message_id="<p2@brewco.com>",
                                body="Hallo Anna, könnt ihr bitte die Farbe auf dem Plakat ändern? Danke, Klaus"))
    Daemon(settings, Store(settings.db_path)).run_once()
    english = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied"][-1]
    assert "Hi Klaus" in english.get_body(("plain",)).get_content()


def test_a_line_too_short_to_tell_is_answered_in_the_language_the_client_wrote_before(tmp_path, dovecot, smtp_server,
                                                                                       make_message):
    """Blind round 24b: "¿Me mandáis la factura otra vez?" and "Logo größer bitte" from clients who had written
    Spanish and German before were answered in English. Too few words to tell: the sender's earlier mail says, else
    what their account's mail is mostly in."""
    from foundation.store import Store
    from inbox.daemon import Daemon
    from tests.servers import liaison_settings

    accounts = ("account_id,name,code,domains,contacts,account_manager\n"
                "brewco,BrewCo,BREW,brewco.com,,anna@agency.example\n")
    settings = liaison_settings(tmp_path, dovecot, smtp_server, accounts)
    dovecot.append(make_message(sender="Klaus Becker <klaus@brewco.com>", subject="Banner Winterbock",
                                body="Hallo Anna, könnt ihr bitte das Logo im Banner größer machen? Danke, Klaus"))
    dovecot.append(make_message(sender="Jana Roth <jana@brewco.com>", subject="Flyer",
                                body="Hallo Anna, bitte auf dem Flyer die Telefonnummer ändern und das Datum "
                                     "korrigieren. Danke und viele Grüße, Jana"))
    Daemon(settings, Store(settings.db_path)).run_once()
    assert written_in("Plakat\nLogo größer, danke") is None, "too short to tell on its own"
    dovecot.append(make_message(sender="Klaus Becker <klaus@brewco.com>", subject="Plakat",
                                body="Logo größer, danke"))
    dovecot.append(make_message(sender="Uwe Lang <uwe@brewco.com>", subject="Aufkleber",  # new to us: the account's
                                body="Logo größer bitte"))
    Daemon(settings, Store(settings.db_path)).run_once()
    acks = {m["To"]: m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied"}
    for address in ("klaus@brewco.com", "uwe@brewco.com"):
        text = acks[address].get_body(("plain",)).get_content()
        assert text.startswith(("Hallo", "Guten Tag")), (address, text[:120])
