"""Newest text: quotes, forwards, signatures and disclaimers cut in five languages; content kept; any input safe.

``CUT`` (every case must give exactly ``NEW``) is also what benchmarks/reply_extraction.py and
``test_libraries_on_the_same_cases`` run the maintained libraries on.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.newest_text import (
    MAX_TEXT,
    newest_text,
    strip_disclaimer,
    strip_quotes,
    strip_signature,
)
from foundation.html import html_to_text

NEW = "Please change the headline on the banner."
ASKED = "The homepage headline is too generic, please change it."

CUT = {
    # -- quoted replies and their attribution
    "english attribution": f"{NEW}\n\nOn Tue, 3 Mar 2026 at 10:02, Anna <a@x.com> wrote:\n> Old text\n> more",
    "attribution over two lines (gmail)":
        f"{NEW}\n\nOn Tue, 3 Mar 2026 at 10:02, Anna Berg <\nanna@x.com> wrote:\n> Old",
    "apple mail attribution": f"{NEW}\n\nOn 3 Mar 2026, at 10:02, Anna Berg <anna@x.com> wrote:\n\n> Old\n> text",
    "nested quotes": f"{NEW}\n\nOn Tue, 3 Mar 2026 at 10:02, Anna wrote:\n> Old\n>> older\n> > oldest\n>>> first",
    "quote without attribution": f"{NEW}\n\n> invoice is overdue\n> pay now",
    "attribution with unquoted history":
        f"{NEW}\n\nOn Tue, 3 Mar 2026 at 10:02, Anna <a@x.com> wrote:\nThe invoice is attached, please pay it.",
    "french attribution": f"{NEW}\n\nLe lun. 3 mars 2026 à 10:02, Anna a écrit :\n> Ancien texte",
    "french attribution over two lines":
        f"{NEW}\n\nLe lun. 3 mars 2026 à 10:02, Anna Berg <\nanna@x.com> a écrit :\n> Ancien texte",
    "german attribution": f"{NEW}\n\nAm 03.03.2026 um 10:02 schrieb Anna <a@x.com>:\n> Alter Text",
    "german thunderbird attribution": f"{NEW}\n\nAnna Berg <a@x.com> schrieb am 03.03.2026 um 10:02:\n> Alter Text",
    "spanish attribution": f"{NEW}\n\nEl lun, 3 mar 2026 a las 10:02, Anna escribió:\n> Texto antiguo",
    "dutch attribution": f"{NEW}\n\nOp ma 3 mrt. 2026 om 10:02 schreef Anna <a@x.com>:\n> Oude tekst",
    "dutch apple attribution":
        f"{NEW}\n\nOp 3 mrt. 2026 om 10:02 heeft Anna <a@x.com> het volgende geschreven:\n\n> Oude tekst",
    # -- Outlook
    "outlook original message":
        f"{NEW}\n\n-----Original Message-----\nFrom: Anna\nSent: Monday\nTo: Tom\nSubject: x\n\nold",
    "german original message": f"{NEW}\n\n-----Ursprüngliche Nachricht-----\nVon: Anna\nGesendet: Montag\n\nalt",
    "french original message": f"{NEW}\n\n-----Message d'origine-----\nDe : Anna\nEnvoyé : lundi\n\nancien",
    "spanish original message": f"{NEW}\n\n-----Mensaje original-----\nDe: Anna\nEnviado: lunes\n\nantiguo",
    "dutch original message": f"{NEW}\n\n-----Oorspronkelijk bericht-----\nVan: Anna\nVerzonden: maandag\n\noud",
    "outlook header block": f"{NEW}\n\nFrom: Anna Berg <a@x.com>\nSent: Monday, 3 March 2026 10:02\nTo: Tom\n"
                            "Subject: invoice\n\nPlease pay the invoice.",
    "outlook underscore line": f"{NEW}\n\n________________________________\nFrom: Anna\nSent: Monday\nTo: Tom\n\nold",
    "outlook bold headers": f"{NEW}\n\n*From:* Anna <a@x.com>\n*Sent:* Monday\n*To:* Tom\n*Subject:* x\n\nold",
    "french outlook block": f"{NEW}\n\nDe : Anna\nEnvoyé : lundi 3 mars 2026\nÀ : Tom\nObjet : x\n\nancien",
    "german outlook block": f"{NEW}\n\nVon: Anna\nGesendet: Montag, 3. März 2026\nAn: Tom\nBetreff: x\n\nalt",
    "spanish outlook block": f"{NEW}\n\nDe: Anna\nEnviado el: lunes, 3 de marzo\nPara: Tom\nAsunto: x\n\nantiguo",
    "spanish outlook block, enviado": f"{NEW}\n\nDe: Anna\nEnviado: lunes\nPara: Tom\nAsunto: x\n\nantiguo",
    "dutch outlook block": f"{NEW}\n\nVan: Anna\nVerzonden: maandag 3 maart\nAan: Tom\nOnderwerp: x\n\noud",
    # -- forwards with a line on top
    "english forward": f"{NEW}\n\n---------- Forwarded message ---------\nFrom: CEO <c@x.com>\nDate: Mon\n\nold",
    "apple forward": f"{NEW}\n\nBegin forwarded message:\n\nFrom: CEO <c@x.com>\nSubject: web\n\nold",
    "french forward": f"{NEW}\n\n-------- Message transféré --------\nDe : CEO\nDate : lun.\n\nancien",
    "german forward": f"{NEW}\n\n---------- Weitergeleitete Nachricht ----------\nVon: CEO\nDatum: Mo.\n\nalt",
    "spanish forward": f"{NEW}\n\n---------- Mensaje reenviado ---------\nDe: CEO\nFecha: lun\n\nantiguo",
    "dutch forward": f"{NEW}\n\n---------- Doorgestuurd bericht ---------\nVan: CEO\nDatum: ma\n\noud",
    # -- signatures
    "sig delimiter": f"{NEW}\n\n-- \nAnna Berg\nInvoices: ap@x.com",
    "sig delimiter without space": f"{NEW}\n--\nAnna Berg, Acme",
    "iphone": f"{NEW}\n\nSent from my iPhone",
    "outlook android": f"{NEW}\n\nSent from Outlook for Android",
    "outlook ios": f"{NEW}\n\nGet Outlook for iOS<https://aka.ms/o0ukef>",
    "galaxy": f"{NEW}\n\nSent from my Galaxy",
    "french iphone": f"{NEW}\n\nEnvoyé de mon iPhone",
    "german iphone": f"{NEW}\n\nVon meinem iPhone gesendet",
    "spanish iphone": f"{NEW}\n\nEnviado desde mi iPhone",
    "dutch iphone": f"{NEW}\n\nVerzonden vanaf mijn iPhone",
    "valediction block":
        f"{NEW}\n\nBest regards,\nJane Doe\nMarketing Director | Acme\n+44 20 7946 0000\nwww.acme.example",
    "kind regards": f"{NEW}\n\nKind regards\n\nJane Doe\nAcme Ltd.",
    "thanks and name": f"{NEW}\n\nThanks,\nJane",
    "thanks and name on one line": f"{NEW}\n\nThanks, Jane",
    "cheers": f"{NEW}\n\nCheers\nJ.",
    "regards": f"{NEW}\n\nRegards\nTom Smith\nHead of Marketing\nT: +44 20 7946 0001",
    "best": f"{NEW}\n\nBest,\nTom",
    "french valediction": f"{NEW}\n\nCordialement,\nMarie Dupont\nDirectrice marketing\n01 23 45 67 89",
    "french bien a vous": f"{NEW}\n\nBien à vous\nMarie",
    "german valediction": f"{NEW}\n\nMit freundlichen Grüßen\nLukas Bauer\nVerwaltung",
    "german viele gruesse": f"{NEW}\n\nViele Grüße\nLukas",
    "german lg": f"{NEW}\n\nLG\nLukas",
    "spanish saludos": f"{NEW}\n\nSaludos,\nAna García",
    "spanish un saludo": f"{NEW}\n\nUn saludo\nAna",
    "spanish atentamente": f"{NEW}\n\nAtentamente,\nAna García López\nDirectora de Marketing\nwww.acme.es",
    "dutch valediction": f"{NEW}\n\nMet vriendelijke groet,\nJan de Vries",
    "dutch groetjes": f"{NEW}\n\nGroetjes,\nSanne",
    "dutch mvg": f"{NEW}\n\nMvg,\nJan",
    # -- disclaimers
    "english disclaimer": f"{NEW}\n\nThis email and any attachments are confidential and for the addressee only.",
    "e-mail is confidential": f"{NEW}\n\nThis e-mail is confidential. It may not be forwarded.",
    "confidentiality notice": f"{NEW}\n\nCONFIDENTIALITY NOTICE: this message may contain invoices.",
    "disclaimer heading": f"{NEW}\n\nDisclaimer\nThe content of this email is confidential and intended for the "
                          "recipient specified in message only.",
    "information contained": f"{NEW}\n\nThe information contained in this email is intended solely for the "
                             "addressee and may be legally privileged.",
    "not the intended recipient": f"{NEW}\n\nIf you are not the intended recipient, please delete this email.",
    "french disclaimer": f"{NEW}\n\nCe message et toutes les pièces jointes sont confidentiels.",
    "french courriel": f"{NEW}\n\nCe courriel est confidentiel et destiné uniquement à son destinataire.",
    "german disclaimer": f"{NEW}\n\nDiese E-Mail enthält vertrauliche Informationen.",
    "spanish disclaimer": f"{NEW}\n\nEste mensaje y sus anexos son confidenciales y para uso exclusivo "
                          "del destinatario.",
    "spanish correo": f"{NEW}\n\nEste correo electrónico es confidencial.",
    "dutch disclaimer": f"{NEW}\n\nDit e-mailbericht is uitsluitend bestemd voor de geadresseerde.",
    "environment": f"{NEW}\n\nPlease consider the environment before printing this email.",
    "disclaimer in the same paragraph": f"{NEW}\nThis email and any attachments are confidential.",
    # -- all of it at once
    "everything": f"{NEW}\n\nKind regards,\nJane Doe | Acme\n\nPlease consider the environment before printing.\n\n"
                  "CONFIDENTIALITY NOTICE: This email is confidential.\n\nSent from my iPhone\n\n"
                  "On Tue, 3 Mar 2026 at 10:02, Anna <a@x.com> wrote:\n> Old\n> -- \n> Anna",
}


@pytest.mark.parametrize("name", list(CUT))
def test_history_signatures_and_disclaimers_are_cut(name):
    assert newest_text(CUT[name]) == NEW


# -- history in the languages the five trained ones do not cover: clients in Portugal, Italy, Poland, the Nordics,
# Czechia, Turkey, Hungary, Russia and Ukraine, Japan read mail in clients set to their own language.
ELSEWHERE = {
    "portuguese outlook (enviada, assunto)": f"{NEW}\n\n________________________________\nDe: Marta Sousa\n"
        "Enviada: terça-feira, 13 de outubro de 2026 10:30\nPara: Inês Baptista\nAssunto: Faturas\n\nSeguem.",
    "portuguese gmail": f"{NEW}\n\nEm qua., 3 de jun. de 2026 às 09:30, Marta Sousa <m@x.pt> escreveu:\n\n> A fatura.",
    "italian gmail": f"{NEW}\n\nIl giorno lun 14 set 2026 alle ore 11:00 João <j@x.it> ha scritto:\n> La fattura.",
    "italian, history not quoted": f"{NEW}\n\nIl giorno lun 14 set 2026 alle 11:00 João Ferreira ha scritto:\n"
                                   "Ti rimando la fattura corretta.",
    "italian forward": f"{NEW}\n\n---------- Messaggio inoltrato ---------\nDa: CEO <c@x.it>\n"
                       "Date: lun 14 set 2026 alle ore 11:00\nSubject: fattura\n\nLa fattura è sbagliata.",
    "polish gmail over two lines": f"{NEW}\n\nW dniu pon., 14 wrz 2026 o 11:00 Jan Kowalski <jan@firma.pl>\n"
                                   "napisał(a):\n\n> Faktura w załączniku.",
    "polish thunderbird": f"{NEW}\n\nW dniu 15.09.2026 o 10:22, Joanna Wiśniewska pisze:\n> Faktura.",
    "polish outlook": f"{NEW}\n\n-----Wiadomość oryginalna-----\nOd: Jan <jan@x.pl>\nWysłano: 10 lutego 2026 09:15\n"
                      "Do: Anna\nTemat: Faktura\n\nFaktura w załączniku.",
    "swedish outlook": f"{NEW}\n\nFrån: Viktor <v@x.se>\nSkickat: den 2 februari 2026 07:44\nTill: Maria\n"
                       "Ämne: Faktura\n\nHär är fakturan.",
    "swedish gmail": f"{NEW}\n\nDen mån 14 sep. 2026 kl 11:00 skrev Anna Berg <anna@x.se>:\n\n> Här är fakturan.",
    "danish outlook": f"{NEW}\n\nFra: Lars <l@x.dk>\nSendt: 14. september 2026 11:00\nTil: Anna\nEmne: Faktura\n\n"
                      "Fakturaen er vedhæftet.",
    "finnish outlook": f"{NEW}\n\nLähettäjä: Matti <m@x.fi>\nLähetetty: maanantai 14. syyskuuta 2026 11.00\n"
                       "Vastaanottaja: Anna\nAihe: Lasku\n\nLasku liitteenä.",
    "czech gmail": f"{NEW}\n\nDne po 14. 9. 2026 11:00 uživatel Jan Novák <jan@firma.cz> napsal:\n\n> Faktura.",
    "turkish gmail": f"{NEW}\n\nAhmet <a@firma.com.tr>, 14 Eyl 2026 Pzt, 11:00 tarihinde şunu yazdı:\n\n> Fatura.",
    "hungarian gmail": f"{NEW}\n\nKovács Péter <p@x.hu> ezt írta (időpont: 2026. szept. 14., H, 11:00):\n\n> Számla.",
    "russian gmail, no verb": f"{NEW}\n\nпн, 14 сент. 2026 г. в 11:00, Иван Петров <ivan@firma.ru>:\n\n> Счёт.",
    "russian outlook": f"{NEW}\n\nОт: Иван <ivan@firma.ru>\nОтправлено: 14 сентября 2026 г. 11:00\nКому: Анна\n"
                       "Тема: Счёт\n\nСчёт во вложении.",
    "japanese gmail": f"{NEW}\n\n2026年9月14日(月) 11:00 Taro Yamada <taro@x.jp>:\n\n> 請求書を添付します。",
    # found by a blind writer's set (benchmarks/quotes.py): formats with words not listed, and wraps
    "polish apple mail": f"{NEW}\n\nWiadomość napisana przez Jan <jan@x.pl> w dniu 3.02.2026, o godz. 10:15:\n\n> F.",
    "hungarian thunderbird": f"{NEW}\n\n2026. 02. 03. 10:15 keltezéssel, Nagy Anna írta:\n> Számla.",
    "hungarian gmail wrapped after the year": f"{NEW}\n\nNagy Anna <anna@x.hu> ezt írta (időpont: 2026.\n"
                                              "febr. 3., K, 10:15):\n\n> Számla.",
    "catalan thunderbird": f"{NEW}\n\nEl 3/2/26 a les 10:15, Pere Puig ha escrit:\n> La factura.",
    "japanese iphone": f"{NEW}\n\n2026/02/03 10:15、山田 太郎 <taro@x.jp>のメール:\n\n> 請求書。",
    "turkish gmail mobile, wrapped before the address": f"{NEW}\n\nAyşe Kaya\n<ayse@x.com.tr>, 3 Şub 2026 Sal, "
                                                        "10:15 tarihinde şunu yazdı:\n\n> Fatura.",
    "norwegian gmail wrapped early": f"{NEW}\n\nman. 3. feb. 2026 kl. 10:15 skrev Ola\nNordmann <ola@x.no>:\n\n> F.",
    "polish iphone footer": f"{NEW}\n\nWysłane z iPhone'a\n\nW dniu 3.02.2026 o 10:15 Jan pisze:\n> Faktura.",
    "hungarian iphone footer": f"{NEW}\n\niPhone-ról küldve",
    "japanese iphone footer": f"{NEW}\n\niPhoneから送信",
    "czech footer": f"{NEW}\n\nOdesláno z mého iPhonu",
    # found by a second blind set: a header block in any language, by its shape
    "slovenian outlook": f"{NEW}\n\n________________________________\nOd: Maja <maja@x.si>\nPoslano: torek, 16. junij "
                         "2026 10:58\nZa: Gregor\nZadeva: RE: Oglas\n\nPozdravljeni,\nstaro besedilo.",
    "estonian outlook, no rule": f"{NEW}\n\nSaatja: Liis Kask <liis@x.ee>\nSaadetud: laupäev, 14. märts 2026 09:28\n"
                                 "Adressaat: Andres\nTeema: RE: Arve\n\nTere!\nVana tekst.",
    "latvian thunderbird forward": f"{NEW}\n\n-------- Sākotnējais ziņojums --------\nTēma: RE: Rēķins\n"
                                   "Datums: pirmdiena, 2026. gada 9. februāris 10:12\nNo: Līga <liga@x.lv>\n\n\nVecs.",
    "czech seznam forward": f"{NEW}\n\n---------- Původní e-mail ----------\nOd: Petr <petr@x.cz>\nKomu: Jana\n"
                            "Datum: 27. 5. 2026 12:21:30\nPředmět: Faktura\n> Dobrý den,\n> faktura.",
    "lotus notes": f'{NEW}\n\n-----"Nina Kranjc" <nina@x.si> wrote: -----\n\nTo: "Tina" <tina@y.si>\nFrom: Nina\n'
                   "Date: 02/19/2026 11:30AM\nSubject: Račun\n\nStaro.",
    "zoho": f"{NEW}\n\n---- On Sun, 07 Jun 2026 08:15:12 +0100 Nikola <nikola@x.rs> wrote ---\n\nStaro.",
    "groupwise": f'{NEW}\n\n>>> "Ana Ilić" <ana@x.rs> 5.3.2026 9:30 >>>\nPoštovani,\nstaro.',
    "chinese 163 mail, full-width colon": f'{NEW}\n\n在 2026-05-26 12:41:19，"陈静" <chen@x.com> 写道：\n> 您好',
    # found by a third blind set: HTML converted to text, GMX, direction marks
    "html-converted outlook, spaced bold labels": f"{NEW}\n\n_____________________________________________\n"
        "*Fra:* Mads <mads@x.dk>\n\n*Sendt:* 4. september 2026 13:32\n\n*Til:* Anders\n\n*Emne:* Faktura\n\nGammel.",
    "arabic outlook under dashes": f"{NEW}\n\n------------------------------\n*من:* سارة <sara@x.com>\n"
                                   "*تم الإرسال:* الاثنين، 12 أكتوبر 2026 8:24 ص\n*إلى:* يوسف\n*الموضوع:* RE\n\nقديم",
    "outlook block, names only, a replied subject": f"{NEW}\n\nFrom: Studio Team\nTo: Ana Silva\nSubject: RE: Banner"
                                                    "\n\nCould you please send the revised logo files?",
    "gmx, the date first": f'{NEW}\n\nGesendet: Donnerstag, 11. Juni 2026 um 18:30 Uhr\nVon: "Felix" <felix@x.de>\n'
                           "An: Jana\nBetreff: Fotoshooting\n\nHallo Jana, alt.",
    "hebrew gmail in direction marks": f"{NEW}\n\n\u202bבתאריך יום ב׳, 21 בספט׳ 2026 ב-16:32 מאת \u202aשירה"
                                       "\u202c\u200f <\u202ashira@x.co.il\u202c\u200f>:\u202c\n\n> היי מיכל",
}


@pytest.mark.parametrize("name", list(ELSEWHERE))
def test_history_is_cut_in_languages_beyond_the_five(name):
    assert newest_text(ELSEWHERE[name]) == NEW


def test_a_bare_forward_in_portuguese_gives_the_forwarded_request():
    text = ("Início da mensagem reencaminhada:\n\nDe: CEO <ceo@x.pt>\nAssunto: web\n"
            f"Data: 14 de setembro de 2026 11:00:00 WEST\nPara: Inês\n\n{ASKED}")
    assert newest_text(text) == ASKED


# -- forwards with nothing written above them: the forwarded message is the request ---------------------------

BARE_FORWARDS = {
    "english": "---------- Forwarded message ---------\nFrom: CEO <ceo@x.com>\nDate: Mon, 2 Mar 2026\n"
               f"Subject: web\nTo: Tom <t@x.com>\n\n{ASKED}",
    "apple": f"Begin forwarded message:\n\nFrom: CEO <ceo@x.com>\nSubject: web\nDate: 2 March 2026\nTo: Tom\n\n{ASKED}",
    "french": f"-------- Message transféré --------\nSujet : web\nDate : lun. 2 mars\nDe : CEO\nÀ : Tom\n\n{ASKED}",
    "german": f"---------- Weitergeleitete Nachricht ----------\nVon: CEO\nDatum: Mo., 2. März\nBetreff: web\n"
              f"An: Tom\n\n{ASKED}",
    "spanish": f"---------- Mensaje reenviado ---------\nDe: CEO\nFecha: lun, 2 mar\nAsunto: web\nPara: Tom\n\n{ASKED}",
    "dutch": f"---------- Doorgestuurd bericht ---------\nVan: CEO\nDatum: ma 2 mrt\nOnderwerp: web\n"
             f"Aan: Tom\n\n{ASKED}",
    "outlook fw": f"________________________________\nFrom: CEO\nSent: Monday\nTo: Tom\nSubject: FW: web\n\n{ASKED}",
    "folded header": f"Begin forwarded message:\nFrom: CEO\nTo: a@x.com,\n    b@x.com\nSubject: web\n\n{ASKED}",
    "only a mobile footer above": f"Sent from my iPhone\n\nBegin forwarded message:\n\nFrom: CEO\nDate: Mon\n\n{ASKED}",
    "forwarded reply with its own history": "---------- Forwarded message ---------\nFrom: CEO\nDate: Mon\n\n"
                                           f"{ASKED}\n\nBest,\nCEO\n\nOn Sun, 1 Mar 2026 at 09:00, Tom wrote:\n> v1",
}


@pytest.mark.parametrize("name", list(BARE_FORWARDS))
def test_bare_forward_gives_the_forwarded_request(name):
    assert newest_text(BARE_FORWARDS[name]) == ASKED


def test_a_pointer_above_a_forward_is_read_with_what_it_points_at():
    """ "Please see below." alone says nothing; the request is the forwarded one (a blind tester's billing
    issue went unescalated). A question or a request of its own on top stays alone, and so does a reply."""
    outlook = ("________________________________\nFrom: Finance <f@brewco.com>\nSent: Monday, 30 November 2026 10:00\n"
               f"To: Tom\nSubject: FW: Invoice INV-2291\n\n{ASKED}")
    assert newest_text(f"Please see below.\n\n{outlook}") == f"Please see below.\n\n{ASKED}"
    assert newest_text(f"Anna, prośba poniżej.\n\n{BARE_FORWARDS['english']}") == f"Anna, prośba poniżej.\n\n{ASKED}"
    assert newest_text(f"See below, can you help?\n\n{BARE_FORWARDS['english']}") == "See below, can you help?"
    reply = outlook.replace("FW: Invoice", "RE: Invoice")
    assert newest_text(f"See below.\n\n{reply}") == "See below."


def test_a_pointer_above_an_outlook_forward_is_read_with_it_when_the_subject_says_forward():
    """Outlook forwards without a marker: only the message's own subject says "FW:" (a blind tester's forwarded
    request in Portuguese got no action). Without that subject the block is a reply and the pointer stays alone."""
    block = ("From: Mark Lee <mark@brewco.com>\nSent: Saturday, December 5, 2026 9:00 AM\nTo: Ana Silva "
             f"<ana@brewco.com>\nSubject: Landing page\n\n{ASKED}\n\nMark")
    for separator in ("", "________________________________\n", "-----Original Message-----\n"):
        text = f"Please see below.\n\n{separator}{block}"
        for subject in ("FW: Landing page", "Fwd: Landing page", "ENC: Landing page", "[EXTERNAL] WG: Landing page"):
            assert newest_text(text, subject=subject) == f"Please see below.\n\n{ASKED}", (separator, subject)
        assert newest_text(text, subject="RE: Landing page") == "Please see below."
        assert newest_text(text) == "Please see below."
    assert newest_text(f"Please make these changes.\n\n{block}", subject="FW: x") == "Please make these changes."
    # a forward some clients write as a quote; under "Re:" the same layout is a reply, read alone
    quoted = f"FYI\n\nOn Sat, 5 Dec 2026 at 09:00, Mark <mark@brewco.com> wrote:\n> {ASKED}"
    assert newest_text(quoted, subject="FW: Landing page") == f"FYI\n\n{ASKED}"
    assert newest_text(quoted, subject="Re: Landing page") == "FYI"


OUTLOOK_BLOCK = ("From: Sarah Jones <sarah@brewco.com>\nSent: Friday, December 4, 2026 4:12 PM\nTo: Tom Hill "
                 f"<tom@brewco.com>\nSubject: Spring poster\n\n{ASKED}")


def test_what_the_subject_says_decides_over_the_quoted_blocks_own_subject():
    """An Outlook reply to a forwarded message ("RE: FW: Invoice", the block's Subject "FW: Invoice") quotes the
    agency's own mail: read alone. A forward of a forward in Outlook's layout goes down to the request."""
    agency = ("From: Anna Berg <anna@agency.example>\nSent: Friday, December 4, 2026 4:12 PM\nTo: Tom Hill\n"
              "Subject: FW: Invoice INV-2041\n\nInvoice INV-2041 is now 30 days overdue.")
    assert newest_text(f"Please see below.\n\n{agency}", subject="RE: FW: Invoice INV-2041") == "Please see below."
    assert newest_text(f"Please see below.\n\n{agency}", subject="[EXTERNAL] RE: FW: Invoice") == "Please see below."
    middle = ("From: Mike Long <mike@brewco.com>\nSent: Saturday, December 5, 2026 9:00 AM\nTo: Tom Hill\n"
              f"Subject: FW: Spring poster\n\nSee below.\n\n{OUTLOOK_BLOCK}")
    assert newest_text(f"FYI\n\n{middle}", subject="FW: FW: Spring poster") == f"FYI\n\nSee below.\n\n{ASKED}"


def test_vs_forwards_in_norwegian_and_danish_outlook_and_replies_in_finnish():
    norwegian = (f"Se nedenfor.\n\nFra: Sarah Jones <sarah@brewco.com>\nSendt: fredag 4. desember 2026 16:12\n"
                 f"Til: Tom Hill <tom@brewco.com>\nEmne: Vårplakat\n\n{ASKED}")
    assert newest_text(norwegian, subject="VS: Vårplakat") == f"Se nedenfor.\n\n{ASKED}"
    # a Nordic sender's client with English labels (a blind tester's 7 of 7 under "VS:")
    own = "Til info.\n\nKan dere også flytte datoen øverst?"
    assert newest_text(f"{own}\n\n{OUTLOOK_BLOCK}", subject="VS: Vårplakat") == f"{own}\n\n{ASKED}"
    finnish = (f"Katso alla.\n\nLähettäjä: Anna Berg <anna@agency.example>\nLähetetty: perjantai 4. joulukuuta "
               f"2026 16.12\nVastaanottaja: Tom Hill\nAihe: Kevätjuliste\n\n{ASKED}")
    assert newest_text(finnish, subject="Vs: Kevätjuliste") == "Katso alla."


@pytest.mark.parametrize("signature", ["Tom Hill | Marketing Manager | BrewCo Brewing",
                                       "Tom Hill | Marketing Manager | BrewCo\nT: +44 20 7946 0000 | www.brewco.com",
                                       "Tom Hill\nSenior Marketing Manager, BrewCo Brewing Ltd", "Tom"])
def test_the_senders_signature_between_a_pointer_and_the_forward_is_not_a_request_of_its_own(signature):
    """A blind tester's forwarded request was filed as "other": the signature made "FYI" look like a sentence."""
    assert newest_text(f"FYI\n\n{signature}\n\n{OUTLOOK_BLOCK}", subject="FW: Spring poster") == f"FYI\n\n{ASKED}"
    assert newest_text(f"FYI\n{signature}\n\n{OUTLOOK_BLOCK}", subject="FW: Spring poster") == f"FYI\n\n{ASKED}"


@pytest.mark.parametrize("pointer", ["Zur Kenntnisnahme.", "Przesyłam do wiadomości.", "Forwarding for visibility.",
                                     "FYI, please see the email below from our brand team.", "För kännedom.",
                                     "Per conoscenza.", "Para su conocimiento.", "Til info.", "Para tu información.",
                                     "Pro informaci.", "Te lo reenvío."])
def test_office_phrasings_of_for_your_information_point_at_the_forward(pointer):
    assert newest_text(f"{pointer}\n\n{OUTLOOK_BLOCK}", subject="FW: Spring poster") == f"{pointer}\n\n{ASKED}"


def test_html_only_forwards_under_a_pointer_are_read_with_the_forward():
    """The quote containers (Gmail's gmail_quote, Apple's blockquote type=cite, OWA's divRplyFwdMsg) hold the
    forwarded request in HTML-only mail; under a mere pointer it is read, as in the plain-text part."""
    request = "<p>Hi Tom,</p><p>" + ASKED + "</p>"
    gmail = ('<div dir="ltr">FYI</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- '
             'Forwarded message ---------<br>From: Sarah Jones &lt;sarah@brewco.com&gt;<br>Date: Fri, Dec 4, 2026 at '
             f'4:12 PM<br>Subject: Spring poster<br>To: Tom &lt;tom@brewco.com&gt;<br></div><br>{request}</div>')
    apple = ('<div>See below</div><div><br><blockquote type="cite"><div>Begin forwarded message:</div><div><b>From:'
             '</b> Sarah Jones &lt;sarah@brewco.com&gt;<br><b>Subject:</b> Spring poster<br><b>Date:</b> 4 December '
             f'2026 at 16:12:00 GMT<br><b>To:</b> Tom &lt;tom@brewco.com&gt;</div><br>{request}</blockquote></div>')
    owa = ('<div>Please see below.</div><hr><div id="divRplyFwdMsg"><b>From:</b> Sarah Jones &lt;sarah@brewco.com&gt;'
           '<br><b>Sent:</b> Friday, December 4, 2026 4:12 PM<br><b>To:</b> Tom Hill &lt;tom@brewco.com&gt;<br>'
           f'<b>Subject:</b> Spring poster</div><br>{request}')
    for html, pointer in ((gmail, "FYI"), (apple, "See below"), (owa, "Please see below.")):
        found = newest_text("", html=html, subject="Fwd: Spring poster")
        assert found.startswith(pointer) and found.endswith(ASKED), found
    reply = owa.replace("Subject:</b> Spring poster", "Subject:</b> Invoice")
    assert newest_text("", html=reply, subject="RE: Invoice") == "Please see below."


@pytest.mark.parametrize("closing", ["Obrigado,\nRui", "Obrigada,\nInês Carvalho", "Dziękuję,\nPaweł", "Dzięki,\nTomek",
                                     "Tack,\nElin", "Hälsningar,\nKarin", "Venlig hilsen\nMette", "Hilsen\nIngrid",
                                     "Kiitos,\nSara", "Tak,\nSara", "Obrigado pela ajuda,\nRui",
                                     "Thanks for your help,\nRui", "Gracias por tu ayuda,\nRui",
                                     "Danke für Ihre Hilfe\nRui", "Muito obrigada desde já!\nInês"])
def test_closings_of_portuguese_polish_and_nordic_mail_are_cut(closing):
    assert newest_text(f"Olá,\n\nPodem corrigir a fatura?\n\n{closing}") == "Olá,\n\nPodem corrigir a fatura?"


def test_a_pointer_above_a_passage_quoted_without_attribution_is_read_with_it():
    """ "see below" over "> Gerry, the direct debit went out twice": the client passes a colleague's words on
    by quoting them. Under an attribution the quote is a reply, and the pointer stays alone."""
    passed = "> Ann, the invoices have no VAT number on them.\n> Can you get them reissued?"
    assert newest_text(f"see below\n\n{passed}") == ("see below\n\nAnn, the invoices have no VAT number on them.\n"
                                                      "Can you get them reissued?")
    assert newest_text(f"See below.\n\nOn Sat, 5 Dec 2026 at 09:00, Studio <s@agency.test> wrote:\n{passed}") == \
        "See below."
    assert newest_text(f"Please fix this.\n\n{passed}") == "Please fix this."


def test_the_agencys_own_mail_forwarded_back_is_not_read_as_the_senders_words():
    """A client forwarding our overdue reminder with "FYI" (a blind tester: thanked for her billing question)."""
    ours = ("From: Anna Berg <anna@agency.example>\nSent: Friday, December 4, 2026 4:12 PM\nTo: Tom Hill "
            "<tom@brewco.com>\nSubject: Invoice INV-2041\n\nInvoice INV-2041 is now 30 days overdue.")
    quoted = "On Fri, Dec 4, 2026 at 3:12 PM Anna Berg <anna@agency.example> wrote:\n> Invoice INV-2041 is overdue."
    agency = lambda address: address.endswith("@agency.example")  # noqa: E731
    for body in (f"FYI\n\n{ours}", f"FYI\n\n{quoted}"):
        assert newest_text(body, subject="FW: Invoice INV-2041", ours=agency) == "FYI"
        assert newest_text(body, subject="FW: Invoice INV-2041") != "FYI"  # no addresses known: read as before
    assert newest_text(f"FYI\n\n{OUTLOOK_BLOCK}", subject="FW: Spring poster", ours=agency) == f"FYI\n\n{ASKED}"


def test_a_pointer_paragraph_reads_the_forward_with_what_follows_it_unless_it_points_away():
    text = f"FYI, see below.\n\nAlso, please send the invoice for round 2.\n\n{OUTLOOK_BLOCK}"
    assert newest_text(text, subject="FW: Spring poster") == (
        f"FYI, see below.\n\nAlso, please send the invoice for round 2.\n\n{ASKED}")
    away = f"Forwarded by mistake, ignore the thread below.\n\nPlease make the logo bigger.\n\n{OUTLOOK_BLOCK}"
    assert newest_text(away, subject="FW: Spring poster") == (
        "Forwarded by mistake, ignore the thread below.\n\nPlease make the logo bigger.")


def test_forward_with_a_line_on_top_keeps_only_the_line():
    text = f"Please make these changes.\n\n{BARE_FORWARDS['english']}"
    assert newest_text(text) == "Please make these changes."


# -- content that must stay ---------------------------------------------------------------------------------

KEPT = [
    "Thanks,\n\nplease change the banner headline and swap the hero image.",
    "Thanks for the quick turnaround! Please change the headline too.",
    "Best regards to your team - and please change the banner headline to something shorter, our CEO asked.",
    "Please change:\n- the headline\n- the photo\n- the logo size",
    "Regards\n\nCould you please move the logo to the left? It clashes with the photo and the title, and the "
    "client will notice it straight away when they open the file.",
    "Hi Tom,\n\nThanks!\nThe banner needs a new photo.\nAlso the logo is too big.",
    "Hi Tom,\nThanks,\nPlease fix it.",
    "The disclaimer on the banner is too small, please make it 8pt.",
    "Please update the small print.\n\nDisclaimer text for the ad:\nThe information contained in this brochure is "
    "indicative.",
    "From: our side everything is approved.\nSubject: the new banner\nPlease change the headline.",
    "On page 3, please change the headline as Anna wrote:\n- shorter\n- bolder",
    "On the banner, please change the headline:\n- shorter\n- bolder",
    "The photos were sent from my iPhone, sorry for the quality.\nPlease use the second one.",
    "Sent via the courier this morning, please confirm you have the proofs.",
    "Page 2: the price should be 19.99.\n\nPage 3: drop the footnote.\n\nPage 4: new photo.",
    # a colon-ended line with a date, an address or a time is not an attribution without the words of one
    "As I wrote in March 2025:\nthe logo must stay blue.",
    "We meet on 14 March at 10:00 at your office, with Anna <anna@x.com>:\nbring the proofs.",
    "Odesláno z Prahy včera večer.\nPlease change the headline on the banner.",
    "Para la circular:\n\nPara: todos los encargados\nAsunto: nuevo envase\nDe: 1 de abril de 2026 en todas.",
    "Please add to the banner:\nSaatja: Liis Kask <liis@x.ee>\nbelow the logo, in 8 pt.",
    "The brief, as agreed:\nDeadline: 2 March 2026\nBudget: 5,000 EUR\nContact: anna@x.com\n\nPlease confirm it.",
    # a brief laid out as header lines, with no date or address: a blind tester's requests were lost here
    "Here is the brief for the launch email:\n\nFrom: BrewCo Brewing\nTo: loyalty list\nSubject: Pale ale is here\n\n"
    "Please change the headline in the draft and send a new proof.",
    "Segue o briefing:\nDe: BrewCo Portugal\nPara: clientes fidelidade\nAssunto: Promoção\n\nPor favor, alterem-no.",
    "For the media plan:\nFrom: 1 March 2027\nTo: 31 March 2027\nSent: weekly, Mondays 10:00\nSubject: Spring range\n\n"
    "Please change the flight dates.",
    "host mx.example.it [185.22.10.4]\nSMTP error from remote mail server after RCPT TO:<m@example.it>:\n"
    "550 mailbox unavailable",
]


@pytest.mark.parametrize("text", KEPT)
def test_content_is_not_cut(text):
    assert newest_text(text) == text


def test_a_postscript_below_the_contact_lines_or_a_mobile_footer_stays():
    signed = ("Thanks for the draft, looks good.\n\nBest regards,\nTom Hill\nMarketing Manager | BrewCo\n"
              "+44 20 7946 0000\n\nP.S. Please change the headline on the poster and send a new proof.")
    assert newest_text(signed).endswith("P.S. Please change the headline on the poster and send a new proof.")
    mobile = "Thanks Anna\n\nSent from my iPhone\n\nPS could you also make the logo bigger on the poster?"
    assert newest_text(mobile) == "Thanks Anna\n\nPS could you also make the logo bigger on the poster?"


def test_postscript_after_the_signature_stays():
    text = f"{NEW}\n\nThanks,\nAnna\n\nP.S. Please also send the invoice for March."
    assert "P.S. Please also send the invoice for March." in newest_text(text)


def test_bottom_posted_reply_keeps_the_text_below_the_quote():
    text = f"On Tue, 3 Mar 2026 at 10:02, Anna <a@x.com> wrote:\n> Old text\n> more\n\n{NEW}\n\n-- \nTom"
    assert newest_text(text) == NEW


def test_inline_answers_are_kept_and_the_questions_dropped():
    text = "> Can you confirm the deadline?\nYes, Friday works.\n\n> And the budget?\nStill 5k.\n\nCheers\nTom"
    assert newest_text(text) == "Yes, Friday works.\n\nStill 5k."


def test_only_quotes_gives_the_quoted_message():
    assert newest_text("> quoted only\n> still quoted") == "quoted only\nstill quoted"


def test_only_a_signature_is_returned_rather_than_nothing():
    assert newest_text("Sent from my iPhone") == "Sent from my iPhone"
    assert newest_text("-- \nAnna Berg") == "--\nAnna Berg"


def test_the_parts_are_usable_alone():
    assert strip_quotes(CUT["english attribution"]) == NEW
    assert strip_signature(CUT["valediction block"]) == NEW
    assert strip_disclaimer(CUT["german disclaimer"]) == NEW
    assert strip_signature("Thanks,\nJane") == "Thanks,\nJane"


# -- HTML ---------------------------------------------------------------------------------------------------

GMAIL = (
    '<div dir="ltr"><div>Please change the headline on the banner.</div><br clear="all"><div><br></div>'
    '<span class="gmail_signature_prefix">-- </span><br>'
    '<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature">Jane Doe<br>Acme</div></div><br>'
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, 3 Mar 2026 at 10:02, Anna &lt;'
    '<a href="mailto:a@x.com">a@x.com</a>&gt; wrote:<br></div><blockquote class="gmail_quote" '
    'style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">'
    "<div>The invoice is overdue.</div></blockquote></div>"
)
OUTLOOK = (
    '<html><head><meta charset="utf-8"><style>p.MsoNormal{margin:0}</style></head><body>'
    '<div style="font-family:Calibri">Please change the headline on the banner.</div>'
    '<div id="appendonsend"></div><hr style="display:inline-block;width:98%">'
    '<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Anna<br><b>Sent:</b> Monday<br><b>Subject:</b> invoice</div>'
    "<div>The invoice is overdue.</div></body></html>"
)
OUTLOOK_DESKTOP = (
    '<div class="WordSection1"><p class="MsoNormal">Please change the headline on the banner.<o:p></o:p></p>'
    '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
    '<p class="MsoNormal"><b>From:</b> Anna Berg &lt;a@x.com&gt;<br><b>Sent:</b> Monday, March 2, 2026 10:02<br>'
    "<b>To:</b> Tom<br><b>Subject:</b> invoice</p></div><p class=MsoNormal>The invoice is overdue.</p></div>"
)
THUNDERBIRD = (
    '<p>Please change the headline on the banner.</p><div class="moz-cite-prefix">On 3/3/26 10:02, Anna wrote:<br>'
    '</div><blockquote type="cite" cite="mid:1@x.com">The invoice is overdue.</blockquote><p>And the logo.</p>'
)
APPLE = (
    "<html><body dir=\"auto\"><div>Please change the headline on the banner.</div><div><br>"
    '<blockquote type="cite"><div>On 3 Mar 2026, at 10:02, Anna &lt;a@x.com&gt; wrote:</div><br>'
    "<div>The invoice is overdue.</div></blockquote></div></body></html>"
)
PLAIN_BLOCKQUOTE = "<p>Please change the headline on the banner.</p><blockquote>The invoice is overdue.</blockquote>"


@pytest.mark.parametrize("html", [GMAIL, OUTLOOK, OUTLOOK_DESKTOP, APPLE, PLAIN_BLOCKQUOTE],
                         ids=["gmail", "outlook web", "outlook desktop", "apple mail", "plain blockquote"])
def test_html_only_mail_drops_quoted_blocks(html):
    assert newest_text(None, html=html) == NEW
    assert newest_text("", html=html) == NEW


def test_thunderbird_cite_prefix_and_its_blockquote_are_dropped_and_what_follows_kept():
    assert newest_text(None, html=THUNDERBIRD) == f"{NEW}\n\nAnd the logo."


@pytest.mark.parametrize("html", [GMAIL, OUTLOOK, OUTLOOK_DESKTOP, APPLE],
                         ids=["gmail", "outlook web", "outlook desktop", "apple mail"])
def test_html_converted_first_is_still_cut_by_the_text_rules(html):
    # foundation/message.py converts an HTML-only body to text before newest_text sees it.
    assert newest_text(html_to_text(html)) == NEW


def test_indentation_blockquote_is_content():
    html = ('<div>Please change:</div><blockquote style="margin:0 0 0 40px; border:none; padding:0px">'
            "<div>the headline</div></blockquote>")
    assert newest_text(None, html=html) == "Please change:\n\nthe headline"


def test_html_with_only_quoted_content_falls_back_to_it():
    html = '<div class="gmail_quote"><blockquote type="cite">Please pay the invoice.</blockquote></div>'
    assert newest_text(None, html=html) == "Please pay the invoice."


def test_text_part_wins_over_html():
    assert newest_text("From the text part.", html="<p>From the HTML part.</p>") == "From the text part."


def test_html_to_text_structure():
    html = ("<html><head><title>t</title><style>p{color:red}</style><script>var a = 1 < 2;</script></head>"
            "<body><h1>Title</h1><ul><li>one</li><li>two</li></ul><p>a&amp;b&nbsp;&eacute;<br>c</p>"
            "<div>  spread   over\n  lines </div><table><tr><td>x</td><td>y</td></tr></table></body></html>")
    assert html_to_text(html) == "Title\n\n- one\n- two\n\na&b é\nc\n\nspread over lines\n\nx y"


@pytest.mark.parametrize("html", [
    "<p>Please change <b>the headline<p>and the photo",
    "<div><span>Please change the headline</div></span></p></div>",
    "Please change the headline < now <3 <<< </ <! <? <a",
    "<p title='unbalanced>Please change the headline</p>",
    "<p>Please change the headline</p><!-- unclosed comment <p>hidden</p>",
    "<head><title>x</title>Please change the headline",
    "<body><p>Please change the headline</p><style>p {",
])
def test_broken_html_keeps_its_text(html):
    assert "Please change the headline" in html_to_text(html)
    assert "Please change the headline" in newest_text(None, html=html)


# -- pathological input -------------------------------------------------------------------------------------

@contextmanager
def finishes_at_all(seconds: int = 60):
    """Fail instead of hanging: catastrophic backtracking on these inputs takes hours, not a minute.

    Not a speed test (speed is measured by benchmarks/reply_extraction.py as rates in one run): only a
    guard that the linear code stays linear, with room for any loaded machine.
    """
    def hang(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: super-linear work on pathological input")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


PATHOLOGICAL_TEXT = {
    "empty": "",
    "nul bytes": "\x00\x00",
    "crlf only": "\r\n\r\n",
    "one 100k line": "a" * 100_000,
    "100k line that looks like an attribution": "On " + "a " * 50_000,
    "100k line of spaces": "x\n" + " " * 100_000 + "y",
    "400k lines": "x\n" * 200_000,
    "5 MB": ("Please change the headline. " * 40 + "\n") * 4_500,
    "deep quote": ">" * 5000,
    "quote lines and text alternating": "x\n>\n" * 20_000,
    "from lines": "From: a\n" * 20_000,
    "attribution lines": "On Tue, 3 Mar 2026 at 10:02, Anna wrote:\n" * 2_000,
    "valedictions": "Thanks,\n" * 20_000,
    "disclaimer paragraphs": "If you are not the intended recipient\n\n" * 2_000,
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL_TEXT))
def test_pathological_text_is_handled_quickly(name):
    text = PATHOLOGICAL_TEXT[name]
    with finishes_at_all():
        result = newest_text(text)
    assert isinstance(result, str)
    assert bool(result) == bool(text[:MAX_TEXT].replace("\x00", "").strip())


PATHOLOGICAL_HTML = {
    "open tags": "<a " * 85_000,
    "end tag openers": "</" * 128_000,
    "declarations": "<!" * 128_000,
    "bare brackets": "<" * 256_000,
    "deep nesting": "<div>" * 50_000 + "text",
    "unclosed attribute quote": "<a b='" + "x" * 250_000,
    "many comments": "<!--" * 64_000,
    "many quote blocks": "<blockquote>" * 20_000 + "x" + "</blockquote>" * 20_000,
    "long text": "<p>" + "word " * 200_000 + "</p>",
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL_HTML))
def test_pathological_html_is_handled_quickly(name):
    with finishes_at_all():
        assert isinstance(html_to_text(PATHOLOGICAL_HTML[name]), str)
        assert isinstance(newest_text(None, html=PATHOLOGICAL_HTML[name]), str)


# -- properties ---------------------------------------------------------------------------------------------


def _normalised(text: str) -> str:
    return text[:MAX_TEXT].replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_gives_text_taken_from_the_input(text):
    result = newest_text(text)
    assert isinstance(result, str)
    source = _normalised(text)
    assert bool(result) == bool(source.strip())  # never empty when there was text
    for line in result.split("\n"):
        assert line in source  # every line is (part of) an input line: nothing is invented


MAIL_ALPHABET = st.sampled_from(["\n", "\n\n", "> ", ">", "-- ", "--", "On ", "wrote:", "From: ", "Sent: ",
                                 "To: ", "Subject: ", "Thanks,", "Best regards", "Sent from my iPhone", "2026 ",
                                 "10:02 ", "-----Original Message-----", "Begin forwarded message:", "Anna",
                                 "confidential", "If you are not the intended recipient", "x", " ", "\r\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(MAIL_ALPHABET, max_size=60).map("".join))
def test_mail_like_text_gives_text_taken_from_the_input(text):
    result = newest_text(text)
    source = _normalised(text)
    assert bool(result) == bool(source.strip())
    for line in result.split("\n"):
        assert line in source


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\r\x00", blacklist_categories=("Cs",)), max_size=500))
def test_whatever_is_quoted_below_the_new_text_is_cut(quoted):
    text = f"{NEW}\n\n" + "\n".join(f"> {line}" for line in quoted.split("\n"))
    assert newest_text(text) == NEW


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/!?-='\" abcpdiv&;#x\n")), max_size=500))
def test_any_markup_gives_text(html):
    assert isinstance(html_to_text(html), str)
    assert isinstance(newest_text(None, html=html), str)


# -- the libraries we measured against ----------------------------------------------------------------------


def _library_extractors():
    found = {}
    try:
        from mailparser_reply import EmailReplyParser
    except ImportError:
        pass
    else:
        parser = EmailReplyParser(languages=["en", "de", "fr", "es", "nl"])
        found["mail-parser-reply, parse_reply"] = lambda text: parser.parse_reply(text=text) or ""
        found["mail-parser-reply, body"] = lambda text: parser.read(text).replies[0].body
    try:
        from email_reply_parser import EmailReplyParser as Classic
    except ImportError:
        pass
    else:
        found["email_reply_parser"] = Classic.parse_reply
    return found


def test_libraries_on_the_same_cases():
    """The maintained libraries, run on the cases above: they miss many (the measurement in the module's
    docstring). If one of them ever gets all of them right, the choice of our own code should be revisited."""
    extractors = _library_extractors()
    if not extractors:
        pytest.skip("neither mail-parser-reply nor email_reply_parser is installed")
    ours = sum(newest_text(text) == NEW for text in CUT.values())
    assert ours == len(CUT)
    for name, extract in extractors.items():
        right = sum((extract(text) or "").strip() == NEW for text in CUT.values())
        assert 0 < right < ours, f"{name}: {right}/{len(CUT)}"
        # Where a library does get a case right, it agrees with ours.
        for text in CUT.values():
            if (extract(text) or "").strip() == NEW:
                assert newest_text(text) == NEW


@pytest.mark.parametrize("hidden", ['<p style="display:none">', '<p style="DISPLAY: none;">', '<span hidden>',
                                    '<div style="visibility:hidden">', '<div style="font-size:0px">'])
def test_text_a_mail_client_does_not_show_is_not_read(hidden):
    tag = hidden[1:].split()[0].rstrip(">")
    html = f"<p>Please change the banner headline.</p>{hidden}invoice charged twice, refund now</{tag}>"
    assert newest_text(None, html=html) == "Please change the banner headline."


# -- signatures and disclaimers the labelled set (tests/data/signatures) found left in (issue 11) ----------------

BODY = "Hallo Herr Schmitt,\n\ndie Heizung in Wohnung 4 ist wieder defekt. Können Sie jemanden vorbeischicken?"
SIGNATURE_CUTS = {
    # a signature with no sign-off line above it (sig-0199, sig-0019)
    "name block without sign-off": f"{BODY}\n\nAndrea Zimmermann\nHausverwaltung Zimmermann\n"
                                   "Goethestraße 9 · 60313 Frankfurt am Main\nTel. 069 987 6543",
    "name and motto": f"{BODY}\n\nGreg Fenwick\n\"The best time to plant a tree was 20 years ago.\"",
    # a bare name, an initial, a short name with a kiss (sig-0286, sig-0008, sig-0249, sig-0192, sig-0082)
    "bare name": f"{BODY}\n\nOllie",
    "full bare name": f"{BODY}\n\nHarold Greene",
    "dash initial": f"{BODY}\n\n- J",
    "dash initial, no space": f"{BODY}\n\n-M",
    "initial and a kiss": f"{BODY}\n\nL x\n\nSent from my iPhone",
    "slash name": f"{BODY}\n\n/Erik\n\nSkickat från min iPhone",
    "initial under the last line": f"{BODY}\nK\n\nSent from my Galaxy",
    # the name after a sign-off on the last sentence's line (sig-0298)
    "cheers and name on the sentence's line": f"{BODY} Cheers - Tom",
    "thanks and name on the sentence's line": f"{BODY} Thanks, Anna",
    # sign-offs of casual mail and of more languages (sig-0072, sig-0075, sig-0174, sig-0190, sig-0144, sig-0024)
    "polish": f"{BODY}\n\nPozdrawiam\nKatarzyna Nowak\nKsięgowość",
    "italian": f"{BODY}\n\nCordiali saluti,\nGiulia Bianchi\nUfficio Commerciale",
    "portuguese": f"{BODY}\n\nCom os melhores cumprimentos,\nNuno Ferreira",
    "czech": f"{BODY}\n\nS pozdravem\nJana Novotná",
    "norwegian": f"{BODY}\n\nMvh\nIngrid Solberg",
    "lots of love": f"{BODY}\n\nLots of love\nAuntie Pat xx",
    "love, alone": f"{BODY}\n\nLove,",
    "ta": f"{BODY}\n\nta\nDean",
    "a kiss above the delimiter": f"{BODY}\n\nx\n\n-- \nFran",
    "portuguese iphone": f"{BODY}\n\nEnviado do meu iPhone",
    # disclaimers with no trigger word at their start (sig-0023, sig-0102, sig-0077)
    "anti-fraud notice above the sign-off": f"{BODY}\n\nIMPORTANT: Beware of cyber fraud. We will never change our "
                                            "bank details by email.\n\nYours sincerely,\n\nOliver Tasker\nPartner",
    "bank details notice above a name block": f"{BODY}\n\nPlease note our bank details have not changed. If you "
                                              "receive an email asking you to pay to a different account, call us "
                                              "first.\n\nRebecca Yates\nCredit Control",
    "italian disclaimer": f"{BODY}\n\nUn saluto,\nLuca\n\nLe informazioni contenute in questa comunicazione sono "
                          "riservate e destinate esclusivamente alla persona indicata.",
    # a gateway's external-sender warning, above or below (sig-0047, sig-0126)
    "external warning on top": "CAUTION: This email originated from outside of the organisation. Do not click "
                               f"links or open attachments unless you recognise the sender.\n\n{BODY}",
    "external tag on top": "[EXTERNAL] This email came from outside the organisation. Be careful with links.\n\n"
                           f"{BODY}\n\nThanks,\nCallum",
    "external warning below": f"{BODY}\n\nCAUTION: This email originated from outside of the organisation.",
}


@pytest.mark.parametrize("name", list(SIGNATURE_CUTS))
def test_signatures_and_disclaimers_found_by_the_labelled_set_are_cut(name):
    assert newest_text(SIGNATURE_CUTS[name]) == BODY


def test_a_postscript_under_the_name_stays_and_the_signature_above_it_goes():
    text = f"{BODY}\n\nThanks,\nLeo\nP.S. The coffee machine on floor 2 is broken."
    assert newest_text(text) == f"{BODY}\n\nP.S. The coffee machine on floor 2 is broken."


# What looks like a closing but is what the client wrote: announced by the body, not a name, or a thanks that
# belongs to its sentence.
LOOKS_LIKE_A_SIGNATURE = [
    "Can you price these up separately? Thanks.",
    "Where is the brochure? Best regards to Anna.",
    "Please change the tagline. Love it otherwise.",
    "Hi Tom,\n\nHappy Birthday",
    "Thanks for this.\n\nApproved",
    "Looks good to me.\n\nGo Ahead",
    "The banner is fine.\n\nNew Logo",
    "Please call me back.\n\nI",
    "Please confirm the deadline.\n\nMonday",
    "The choices are:\n\nA",
    "Please send it to:\n\nAnna Berg\n12 High Street",
    "The new credit line should read:\n\nJane Smith\nCreative Director",
    "Please send the proofs to the new contact below.\n\nJane Smith\nHead of Finance\njane@acme.example",
    "We have a new finance contact.\n\nJane Smith\nHead of Finance\njane@acme.example",
    "Please update the team page.\n\nAnna Berg\nSenior Designer",
    "Please update the credits.\n\nPhotography\nJane Smith",
    "Can you add the sponsors?\n\nNike\nAdidas\nPuma",
    "Which fonts did you use?\n\nHelvetica\nArial",
    "Here are the names for the badges.\n\nAnna Berg\nTom Smith",
    "Which option do you prefer?\n\nOption A\nOption B",
    "CAUTION: the invoice you sent is wrong.\n\nPlease resend it.",
    "Hi,\n\nThe invoice is wrong.\n\nCAUTION: please check the figures. It came from outside our budget.",
    "Please note our bank details have changed: the new sort code is on the attached letter.",
]


@pytest.mark.parametrize("text", LOOKS_LIKE_A_SIGNATURE)
def test_what_only_looks_like_a_signature_is_kept(text):
    assert newest_text(text) == text


def test_removal_on_the_whole_labelled_set_stays_precise_and_finds_most():
    """Floors at the figures of 2026-12-06 on dev+test (line precision 1.000, line recall 0.906, exact 0.913),
    recall and exact minus a margin; precision first, since a line cut from a request is a lost request."""
    from benchmarks.signatures import load, measure

    figures = measure(load("all"))["overall"]
    assert figures["items"] == 300
    assert figures["line_precision"] >= 0.99
    assert figures["char_precision"] >= 0.99
    assert figures["over_removal"] == 0
    assert figures["line_recall"] >= 0.88
    assert figures["exact"] >= 0.89


def test_history_removal_on_the_blind_writers_sets_stays_exact_and_never_loses_newest_text():
    """Floors under the figures of 2026-12-06 (benchmarks/quotes.py; three blind writers, 920 items: 826 of 826
    with history exact, 0 leaked, 0 lost, 94 controls untouched; before the multilingual change 0.27, 0.38 and
    0.70 exact; each set's first look at the code of its day: 0.97 (first version), 0.65, 0.96)."""
    from benchmarks.quotes import load, measure

    figures = measure(load())["all"]
    assert figures["lost"] == 0, "newest text cut: a request lost"
    assert figures["over_removal"] == 0
    assert figures["exact"] >= 0.97
    assert figures["leaked"] <= 0.02


@pytest.mark.parametrize("closing, asked", [
    ("Thanks for your help,\nTom\n\n", "Please also resend invoice 4471 with PO-8812."),
    ("Best regards,\nTom\n", "Please also resend invoice 4471 with PO-8812."),
    ("Thanks for your help,\nTom\n", "One more thing: please send the invoice for the banners by Friday."),
    ("Takk for hjelpen,\nOla\n", "Send gjerne faktura 3310 på nytt med riktig organisasjonsnummer."),
    ("Bedankt voor de hulp,\nPieter\n\n", "Graag ook factuur 5521 opnieuw sturen met het juiste btw-nummer."),
    ("Danke für Ihre Hilfe\nHans\n\n", "Bitte schicken Sie uns noch die Druckdaten bis Freitag."),
    # round 14: a reference or a date in the request made it look like a contact line
    ("Thanks,\nTom\n", "Please also resend invoice FV/2026/118 with PO-8812."),
    ("Merci pour votre aide,\nClaire\n", "Merci de me renvoyer la facture VRD-2026-118 avec notre numéro de commande."),
    ("Thanks,\nTom\n\n", "Please send the final PDF by 12/12/2026."),
])
def test_a_request_right_under_the_name_was_written_now_and_is_kept(closing, asked):
    """Blind tester round 13: a client signs, then remembers one more thing. Like a P.S. right under the name,
    a sentence that asks for something there is the client's, not the signature template's."""
    assert newest_text(f"Hi Anna,\n\nThe banners look great.\n\n{closing}{asked}\n") == (
        f"Hi Anna,\n\nThe banners look great.\n\n{asked}")


def test_notices_and_titles_under_the_name_stay_in_the_signature():
    for tail in ("Tom\nPlease consider the environment before printing this email.",
                 "Tom Hill\nHead of Marketing\nPlease quote our PO number on every invoice."):
        assert newest_text(f"Hi,\n\nCan you fix it?\n\nThanks,\n{tail}") == "Hi,\n\nCan you fix it?"


@pytest.mark.parametrize("closing", ["¡Mil gracias por todo!", "Muchísimas gracias,", "Mil gracias,"])
def test_spanish_closings_of_many_thanks_are_cut(closing):
    body = f"Hola Anna,\n\n¿Podrías cambiar la foto?\n\n{closing}\nCarlos Pérez\nJefe de Marketing | Verde S.L."
    assert newest_text(body) == "Hola Anna,\n\n¿Podrías cambiar la foto?"


def test_spanish_closings_with_an_opening_exclamation_mark_are_cut():
    body = ("Hola Anna,\n\n¿Podrías cambiar la foto?\n\n¡Gracias por tu ayuda!\nCarlos Pérez\n"
            "Jefe de Marketing | Verde S.L.")
    assert newest_text(body) == "Hola Anna,\n\n¿Podrías cambiar la foto?"


OUTLOOK_RED_ANSWERS = (
    '<html><body><div>Please see my answers below.</div><div><br></div><div>Lorraine</div>'
    '<div id="appendonsend"></div><hr style="display:inline-block;width:98%">'
    '<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Dana &lt;accounts@agency.example&gt;<br><b>Sent:</b> Tuesday'
    "<br><b>Subject:</b> RE: A few billing questions</div><div>1. Is a PO required for the January retainer?</div>"
    '<div style="color:#C00000"><b>Yes - PO 4500-2290. It must be on the invoice.</b></div>'
    "<div>Thanks,<br>Dana</div></body></html>"
)


@pytest.mark.parametrize("text, html, kept", [
    (None, OUTLOOK_RED_ANSWERS, "Yes - PO 4500-2290. It must be on the invoice."),
    ("Answers inline.\n\n-----Original Message-----\nFrom: Anna <a@agency.example>\nSent: Monday\nTo: Tom\n"
     "Subject: RE: banner\n\nCan you confirm the size?\nYES 300x250\n", None, "YES 300x250"),
    ("Meine Antworten unten in Rot.\n\nVon: Anna <a@agency.example>\nGesendet: Montag\nAn: Tom\n"
     "Betreff: AW: Banner\n\nWelche Größe?\n300x250 bitte\n", None, "300x250 bitte"),
])
def test_answers_written_into_the_mail_replied_to_are_read_with_it(text, html, kept):
    """Eval set K: "Please see my answers below." over Outlook's answers in red between the agency's questions was
    read as a pointer and nothing else (billing read as other). Without ">" the answers sit inside the mail replied
    to, so a pointer at them reads that mail, ours included, as the sender's."""
    newest = newest_text(text, html=html)
    assert kept in newest and newest.split("\n")[0].startswith(("Please see", "Answers", "Meine")), newest


def test_a_request_that_says_below_is_not_a_pointer_at_answers():
    text = ("Please move the logo below the headline.\n\n-----Original Message-----\nFrom: Anna <a@x.com>\n"
            "Sent: Monday\nTo: Tom\nSubject: RE: banner\n\nThe invoice is attached.\n")
    assert newest_text(text) == "Please move the logo below the headline."


def test_please_action_over_a_forward_reads_the_forwarded_request():
    """Blind round 24: "Please action - thanks!" above a forwarded retailer's artwork changes was read alone, as
    other at 0.76, and the request vanished."""
    text = ("Please action - thanks!\n\n-----Original Message-----\nFrom: Kate <kate@retailer.example>\nSent: Monday\n"
            "To: Tom\nSubject: Artwork\n\nPlease change the price on the shelf wobbler to 4.99.\n")
    assert newest_text(text, subject="FW: Artwork") == ("Please action - thanks!\n\nPlease change the price on the "
                                                       "shelf wobbler to 4.99.")
    assert newest_text("Please action the changes to the banner.\n\nOn Mon, Anna <a@x.com> wrote:\n> old",
                       subject="Re: Banner") == "Please action the changes to the banner."


def test_answers_marked_between_the_questions_of_an_unquoted_earlier_message_are_the_newest_text():
    """Blind round 24: "siehe meine Antworten unten." over an Outlook block whose questions are plain and whose
    answers the client marked ">>" was read as the agency's questions (a progress query, acknowledged so)."""
    text = ("Jonas,\n\nsiehe meine Antworten unten.\n\nK. Schulz\n\n-----Ursprüngliche Nachricht-----\n"
            "Von: Jonas Becker <jonas@agency.example>\nGesendet: Freitag, 4. Dezember 2026 11:20\nAn: Katrin Schulz\n"
            "Betreff: Katalog 2027 - Fragen\n\nHallo Frau Schulz,\n\n1) Sollen die Preise im Katalog stehen?\n"
            ">> Nein, bitte alle Preise entfernen.\n2) Bleibt das Format A4?\n>> Ja.\n\nBeste Grüße\nJonas Becker\n")
    newest = newest_text(text, subject="AW: Katalog 2027 - Fragen")
    assert newest.endswith("siehe meine Antworten unten.\n\nNein, bitte alle Preise entfernen.\nJa."), newest


def test_a_pointer_at_answers_over_questions_left_unanswered_is_the_pointer_alone():
    """Blind round 24b: "Please see my answers below." over the agency's two questions and no answer read "Shall we
    reissue the November invoice with your PO number?" as the client's: a billing receipt went out, finance was told."""
    text = ("Please see my answers below.\n\n-----Original Message-----\nFrom: Priya <priya@agency.example>\n"
            "Sent: Monday\nTo: Amara\nSubject: Questions\n\nHi Amara,\n\n"
            "1. Shall we reissue the November invoice with your PO number?\n2. Shall we change the logo on the "
            "leaflet?\n\nThanks,\nPriya\n")
    assert newest_text(text, subject="RE: Questions") == "Please see my answers below."
    answered = text.replace("PO number?\n", "PO number?\nYes please, PO 4471.\n")
    assert "Yes please, PO 4471." in newest_text(answered, subject="RE: Questions")


TRUSTEE = ("Harbour Mutual Pty Ltd ABN 12 345 678 901, AFSL 234567, RSE L0001234, trustee of the Harbour Mutual Fund. "
           "Consider the product disclosure statement before making a decision about the product.")


@pytest.mark.parametrize("body, subject, expected", [
    ("see subject – cheers\n\nMorag", "RE: PO 7712 needs adding to inv 1175", "PO 7712 needs adding to inv 1175\n\n"
     "see subject – cheers\n\nMorag"),
    ("As per subject.\n\nThanks,\nRohit", "Pls send proforma invoice", "Pls send proforma invoice\n\nAs per subject."),
    ("siehe Betreff", "AW: Rechnung 44 falsch", "Rechnung 44 falsch\n\nsiehe Betreff"),
    ("^^ pls revert asap", "When will we get the mock-ups??", "When will we get the mock-ups??\n\n^^ pls revert asap"),
    # eval-independent-12, after its first look: in Vietnamese, and above a mail system's disclaimer
    ("Như tiêu đề. Cảm ơn!", "Khi nào có bản dựng đầu tiên?", "Khi nào có bản dựng đầu tiên?\n\nNhư tiêu đề. Cảm ơn!"),
    ("件名の通りです。よろしくお願いします。", "Re: 請求書の金額が違います",
     "請求書の金額が違います\n\n件名の通りです。よろしくお願いします。"),
    ("As per subject.\n\nC\n\n" + TRUSTEE, "Website go-live date confirmed?",
     "Website go-live date confirmed?\n\nAs per subject.\n\nC\n\n" + TRUSTEE),
])
def test_a_body_that_only_points_at_the_subject_reads_the_subject_with_it(body, subject, expected):
    """Procurement and mobile mail put the whole request in the subject ("Invoice 2026-1191 - wrong PO" / "see
    subject, thx"): read as the body alone it is a courtesy, other (eval-independent-11, after its first look)."""
    assert newest_text(body, subject=subject) == expected


def test_a_request_that_mentions_the_subject_line_is_read_as_written():
    text = "See subject line and please move the logo left and make the headline bigger and bolder"
    assert newest_text(text, subject="Banner") == text


ZENDESK_UPDATE = ("##- Please type your reply above this line -##\n\n"
                  "Dave Hindley added a comment to request #51907. Reply to this email to add a comment.\n\n"
                  "Dave Hindley\n\n1 Dec 2026, 08:14\n\n"
                  "Any update on the replacement signs for Ward 14? Estates need a date by Thursday.\n\n"
                  "Tom Ashworth (Agency)\n\n17 Nov 2026, 14:30\n\n"
                  "Thanks Dave - noted both changes. We'll send revised proofs.\n\n"
                  "Dave Hindley\n\nNov 16, 2026, 09:55\n\nward 14 sign wording wrong, please fix\n")


def test_a_help_desk_update_is_read_as_its_newest_comment():
    """A client's help desk sends each ticket update as one mail, every comment in it newest first: read whole, the
    notice and the older comments (the agency's "we'll send revised proofs" among them) made a progress query other
    (eval-independent-11, after its first look)."""
    assert newest_text(ZENDESK_UPDATE) == ("Any update on the replacement signs for Ward 14? Estates need a date by "
                                           "Thursday.")


def test_a_reply_typed_above_a_help_desks_line_is_an_ordinary_reply():
    text = "Please change the arrow to point left.\n\n" + ZENDESK_UPDATE
    assert newest_text(text).startswith("Please change the arrow to point left.")


def _forwarded_as_attachment(top: str) -> bytes:
    from email.message import EmailMessage

    inner = EmailMessage()
    inner["From"], inner["To"], inner["Subject"] = "mark@client.example", "dana@client.example", "Invoice INV-3392"
    inner.set_content("Dana,\n\nInvoice INV-3392 charges us EUR 2,900 for a third revision round, but our contract "
                      "includes three rounds. Can you get them to correct it and reissue?\n\nMark\n")
    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "dana@client.example", "accounts@agency.example", "FW: Invoice"
    outer.set_content(top)
    outer.add_attachment(inner)
    return bytes(outer)


def test_a_pointer_over_a_message_attached_whole_reads_what_it_passes_on():
    """Blind round 25: "FYI" over an invoice dispute forwarded as an attachment (message/rfc822) was read alone, as
    other; the same forwarded inline was a billing issue."""
    from classifiers.newest_text import newest_of
    from foundation.message import parse_message

    newest = newest_of(parse_message(_forwarded_as_attachment("FYI\n\nDana\n")))
    assert newest.startswith("FYI\n\n") and "charges us EUR 2,900" in newest, newest
    own = newest_of(parse_message(_forwarded_as_attachment("Please move the logo left on the banner.\n")))
    assert own == "Please move the logo left on the banner.", "words of its own: the attachment is not the sender's"


def test_a_jira_update_is_read_as_its_newest_comment_too():
    """Blind round 25b: Jira's "Reply above this line." (no "type your") was not taken for a help desk's marker."""
    jira = ZENDESK_UPDATE.replace("##- Please type your reply above this line -##", "Reply above this line.")
    assert newest_text(jira) == "Any update on the replacement signs for Ward 14? Estates need a date by Thursday."
