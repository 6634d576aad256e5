"""Newest text: quotes, forwards, signatures and disclaimers cut in five languages; content kept."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.newest_text import html_to_text, newest_text

NEW = "Please change the headline on the banner."

CUT = {
    "gmail attribution": f"{NEW}\n\nOn Tue, 3 Mar 2026 at 10:02, Anna <a@x.com> wrote:\n> Old text\n> more",
    "attribution over two lines":
        f"{NEW}\n\nOn Tue, 3 Mar 2026 at 10:02, Anna Berg <\nanna@x.com> wrote:\n> Old",
    "quote without attribution": f"{NEW}\n\n> invoice is overdue\n> pay now",
    "french attribution": f"{NEW}\n\nLe lun. 3 mars 2026 à 10:02, Anna a écrit :\n> Ancien texte",
    "german attribution": f"{NEW}\n\nAm 03.03.2026 um 10:02 schrieb Anna <a@x.com>:\n> Alter Text",
    "spanish attribution": f"{NEW}\n\nEl lun, 3 mar 2026 a las 10:02, Anna escribió:\n> Texto antiguo",
    "dutch attribution": f"{NEW}\n\nOp ma 3 mrt. 2026 om 10:02 schreef Anna <a@x.com>:\n> Oude tekst",
    "outlook original message":
        f"{NEW}\n\n-----Original Message-----\nFrom: Anna\nSent: Monday\nTo: Tom\nSubject: x\n\nold",
    "outlook header block": f"{NEW}\n\nFrom: Anna Berg <a@x.com>\nSent: Monday, 3 March 2026 10:02\nTo: Tom\n"
                            "Subject: invoice\n\nPlease pay the invoice.",
    "outlook underscore line": f"{NEW}\n\n________________________________\nFrom: Anna\nSent: Monday\nTo: Tom\n\nold",
    "german outlook block": f"{NEW}\n\nVon: Anna\nGesendet: Montag, 3. März 2026\nAn: Tom\nBetreff: x\n\nalt",
    "french outlook block": f"{NEW}\n\nDe : Anna\nEnvoyé : lundi 3 mars 2026\nÀ : Tom\nObjet : x\n\nancien",
    "spanish outlook block": f"{NEW}\n\nDe: Anna\nEnviado el: lunes, 3 de marzo\nPara: Tom\nAsunto: x\n\nantiguo",
    "dutch outlook block": f"{NEW}\n\nVan: Anna\nVerzonden: maandag 3 maart\nAan: Tom\nOnderwerp: x\n\noud",
    "sig delimiter": f"{NEW}\n\n-- \nAnna Berg\nInvoices: ap@x.com",
    "iphone": f"{NEW}\n\nSent from my iPhone",
    "french iphone": f"{NEW}\n\nEnvoyé de mon iPhone",
    "german iphone": f"{NEW}\n\nVon meinem iPhone gesendet",
    "outlook mobile": f"{NEW}\n\nGet Outlook for iOS",
    "valediction block":
        f"{NEW}\n\nBest regards,\nJane Doe\nMarketing Director | Acme\n+44 20 7946 0000\nwww.acme.example",
    "german valediction": f"{NEW}\n\nMit freundlichen Grüßen\nLukas Bauer\nVerwaltung",
    "dutch valediction": f"{NEW}\n\nMet vriendelijke groet,\nJan de Vries",
    "english disclaimer": f"{NEW}\n\nThis email and any attachments are confidential and for the addressee only.",
    "confidentiality notice": f"{NEW}\n\nCONFIDENTIALITY NOTICE: this message may contain invoices.",
    "french disclaimer": f"{NEW}\n\nCe message et toutes les pièces jointes sont confidentiels.",
    "german disclaimer": f"{NEW}\n\nDiese E-Mail enthält vertrauliche Informationen.",
}


@pytest.mark.parametrize("name", list(CUT))
def test_history_signatures_and_disclaimers_are_cut(name):
    assert newest_text(CUT[name]) == NEW


@pytest.mark.parametrize("text", [
    "Thanks,\n\nplease change the banner headline and swap the hero image.",
    "Best regards to your team - and please change the banner headline to something shorter, our CEO asked.",
    "Please change:\n- the headline\n- the photo\n- the logo size",
    "Regards\n\nCould you please move the logo to the left? It clashes with the photo and the title, and the "
    "client will notice it straight away when they open the file.",
])
def test_content_is_not_cut(text):
    assert "change" in newest_text(text) or "move the logo" in newest_text(text)


def test_bare_forward_keeps_the_forwarded_request():
    text = ("---------- Forwarded message ---------\nFrom: CEO <ceo@x.com>\nDate: Mon\nSubject: web\nTo: Tom\n\n"
            "The homepage headline is too generic, please change it.")
    assert newest_text(text) == "The homepage headline is too generic, please change it."


def test_forward_with_a_line_on_top_keeps_the_line():
    text = "Please make these changes.\n\n---------- Forwarded message ---------\nFrom: CEO\n\nold"
    assert newest_text(text) == "Please make these changes."


def test_html_only_mail_drops_quoted_blocks_and_scripts():
    html = ('<html><head><style>p{}</style></head><body><p>Please <b>change</b> the CTA</p>'
            '<script>alert(1)</script><div class="gmail_quote">On Mon, X wrote:<blockquote>old invoice</blockquote>'
            '</div></body></html>')
    assert newest_text(None, html=html) == "Please change the CTA"


def test_outlook_html_reply_marker():
    html = '<div>Swap the photo</div><div id="divRplyFwdMsg"><b>From:</b> Anna<br>invoice</div>'
    assert newest_text("", html=html) == "Swap the photo"


def test_html_to_text_structure():
    assert html_to_text("<ul><li>one</li><li>two</li></ul><p>a&amp;b<br>c</p>") == "- one\n\n- two\n\na&b\nc"


def test_only_quotes_never_returns_empty():
    assert newest_text("> quoted only\n> still quoted") != ""


@pytest.mark.parametrize("text", ["", "\x00\x00", "a" * 100_000, "x\n" * 200_000, ">" * 5000, "\r\n\r\n"])
def test_pathological_inputs(text):
    assert isinstance(newest_text(text), str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_gives_text_from_the_input(text):
    result = newest_text(text)
    assert isinstance(result, str)
    for word in result.split():
        assert word in text.replace("\x00", "") or word.lstrip(">") in text
