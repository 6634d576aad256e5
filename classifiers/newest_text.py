"""Newest text: what the sender wrote now, without quoted replies, forwarded history, signatures or disclaimers.

The classifier must judge what the client wrote in this message, not the thread quoted below it, their
signature or their company's legal footer. ``newest_text`` is called for every message, so it is written
to be fast (about 10-30 µs for a typical 1-3 KB reply) and bounded: it reads at most the first 64 KB of
a text body and 256 KB of HTML, every regex is precompiled, anchored or bounded and linear, and no input
raises.

What is cut, in English, French, German, Spanish and Dutch and the mail clients' strings of about twenty more
languages (Portuguese, Italian, Polish, the Nordic ones, Czech, Russian, Ukrainian, Turkish, Romanian, Hungarian,
Greek, Lithuanian, Catalan, Japanese...):

* quoted lines (``>``, any depth) and the attribution above them ("On ... wrote:", "Le ... a écrit :",
  "Am ... schrieb ...:", "Il giorno ... ha scritto:", "W dniu ... napisał(a):", "Den ... skrev ...:", also split
  over two or three lines); above a quote, a colon-ended line with a time or an address in it is taken for an
  attribution in any language ("2026/02/03 10:15、山田 <t@x.jp>のメール:"); text written below or between quoted
  lines (bottom posting, inline answers) is kept;
* an attribution with unquoted history below it (Outlook for Mac, a pasted reply) and everything after it, only
  with the words of one and a date, plus an opening word, a time or an address;
* everything from an Outlook separator ("-----Original Message-----" and its translations, a line of
  underscores before a header block) or a header block ("From:/Sent:/To:/Subject:", "De :/Envoyé :/À :/Objet :",
  "Von:/Gesendet:/An:/Betreff:", "De:/Enviada:/Para:/Assunto:", "Od:/Wysłano:/Do:/Temat:", "Från:/Skickat:",
  "От:/Отправлено:/Кому:", ...) down;
* forwarded history ("---------- Forwarded message ---------", "Begin forwarded message:" and translations, any
  "----- words -----" line with a header line under it); a bare forward, with nothing written above it, yields
  the forwarded message's own newest text, and a forward under a mere pointer ("Please see below.", "FYI",
  "prośba poniżej") the pointer and that text;
* signatures: a "-- " line, mobile footers ("Sent from my iPhone", "Von meinem iPhone gesendet", ...), and a
  valediction ("Best regards,", "Mit freundlichen Grüßen", "Met vriendelijke groet", "Pozdrawiam", "Love,",
  "x", ...) followed only by a few short name/title/phone/address lines at the end (a P.S. right under the
  name stays); never a valediction that opens the mail or one followed by sentences;
* closings with no valediction: an initial or short name on the last line ("- J", "L x"), a bare name as the
  last paragraph, a name block with contact details or a motto as the last paragraph, and a sign-off with a
  name ending the last sentence's line ("... the blue ones. Cheers - Tom"); only after a line that ends a
  sentence and never when the body announces what follows ("the new contact is below", "send it to:");
* legal disclaimers at the end, by their opening phrases in the five languages (the weaker ones, such as
  "The information contained in this" or "Disclaimer", only together with a word of confidentiality,
  because an advertising client may well write about the disclaimer on a banner), anti-fraud notices about
  bank details, and a mail gateway's external-sender warning, at the end or as the first paragraph.

Measured on blind writers' labelled sets: signatures and disclaimers (tests/data/signatures,
``python3 benchmarks/signatures.py``; BENCHMARKS.md, "Signature and disclaimer removal (issue 11)"), quoted and
forwarded history in 22 languages (tests/data/quotes, ``python3 benchmarks/quotes.py``; BENCHMARKS.md,
"Quoted history in other languages").

It never returns an empty string for an input with text: when the cut leaves nothing, it falls back to the
quoted or forwarded message, then to the text with only quotes removed, then to the input itself.

HTML (used only when there is no text part) is first stripped of quoted blocks (``blockquote`` used as a
quotation, ``div.gmail_quote``, ``div.moz-cite-prefix`` and its blockquote, Yahoo/Proton/Zoho quote blocks,
and everything from Outlook's ``#divRplyFwdMsg`` or ``#appendonsend`` on) while it is converted to text with
the stdlib ``html.parser``. The markup is first made safe by a linear pass (stray ``<`` escaped, comments and
declarations dropped, tag length bounded): CPython 3.11's HTMLParser takes minutes on 256 KB of ``"<a "``
or seconds on ``"</"`` repeated, and it never sees such input here.

Why our own code and not a library (the project prefers a maintained library where one is good enough).
Measured 2026-11-23 on the 41 cutting cases of tests/test_newest_text.py (``REPLY_CASES``: attributions,
Outlook and forward headers, signatures, disclaimers in five languages), Python 3.11, one core;
``python3 benchmarks/reply_extraction.py`` gives the same comparison on the shared ``CUT`` cases:

    =================================  ============  ==============  ===================================
    extractor                          cases right   µs per message  100,000-character line "On a a a..."
    =================================  ============  ==============  ===================================
    liaison newest_text                41/41         ~9              ~1 ms
    mail-parser-reply 1.36, .body      16/41         ~110            > 20 s (catastrophic backtracking)
    mail-parser-reply 1.36, parse_reply 11/41        ~110            > 20 s
    email_reply_parser 0.5.12          12/41         ~12             ~7 ms
    =================================  ============  ==============  ===================================

mail-parser-reply is the only one with multilingual reply headers, but it finds none of the French, Spanish
or Dutch attributions above, misses Outlook blocks preceded by a line of underscores and the forward
headers, cuts no mobile footer but English and German, none of the disclaimers asked for, and one of its
header regexes backtracks catastrophically on a long line (a denial of service for a daemon that reads
every incoming mail). email_reply_parser is English-only. Neither handles HTML. So no part of the work is
delegated; the tests run both libraries on the same cases (skipped when they are not installed) so that
this table stays checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from foundation.html import html_to_text
from foundation.message import ParsedMessage
from foundation.subjects import SUBJECT_PREFIX, subject_kind

__all__ = ["MAX_TEXT", "newest_text", "only_points", "strip_disclaimer", "strip_quotes", "strip_signature"]

#: Only the start of a body is read: nobody writes a request longer than this by hand.
MAX_TEXT = 64 * 1024
#: Lines longer than this are never attributions, separators or headers: regexes see only this much of a line.
_HEAD = 400
#: How many quoted or forwarded messages deep the fallback looks for text.
_MAX_DEPTH = 4

# -- quoted history ------------------------------------------------------------------------------------------

# What ends an attribution line, in the languages clients write in and their mail clients are set to (the verb,
# with the name after it where a language puts it there: "schrieb Anna", "skrev Anna", "schreef Anna").
_WROTE = (
    r"wrote|writes|a\s[ée]crit|schrieb|escribi[óo]|schreef|het\svolgende\sgeschreven|geschreven"
    r"|escreveu|ha\sscritto|napisa[łl](?:\(a\)|a)?|napisana|pisze|skrev|kirjoitti|nap[íi]?sal(?:\(a\)|a)?"
    r"|(?:[şs]unu\s)?yazd[ıi]|пишет|написал(?:\(а\)|а)?|пише|написав(?:\(ла\)|ла)?|(?:ezt\s)?[íi]rta|a\sscris|ha\sescrit"
    r"|έγραψε|ra[šs][ėe]|va\sescriure|rakst[īi]ja|kirjutas|je\snapisa[lo](?:\(a\)|a)?|написа|đã\sviết|menulis"
)
# One attribution, matched on a stripped line (or lines a client wrapped, joined) of at most _HEAD characters:
# the verb, or a Gmail attribution with no verb (Russian, Japanese: "пн, 14 сент. 2026 г. в 11:00, Иван
# <ivan@x.ru>:") that ends in the quoted sender's address and has a year in it.
_ATTRIBUTION = re.compile(rf".{{0,300}}\s(?:{_WROTE})(?:\s.{{0,200}})?\s?[:：]", re.IGNORECASE)
_ATTRIBUTION_ADDRESS = re.compile(r".{0,300}\s<[^<>\s]{1,100}@[^<>\s]{1,200}>\s?[:：]")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# Lines that open an attribution ("On ...", "Le ...", "Il giorno ...", "W dniu ...", "Den ...", "Στις ...").
_ATTRIBUTION_OPENER = re.compile(
    r"(?:on|le|am|el|op|em|il|w\sdniu|den|dne|d\.|pe|στις|kun|dňa|dana)\s", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
# A time, a year or an address: what makes "On ... wrote:" an attribution even with no quote below it.
_DATEISH = re.compile(r"\d{1,2}[:.h]\d{2}|\b(?:19|20)\d{2}\b|@")
_TIME = re.compile(r"\d{1,2}[:.h]\d{2}")
# Separators after which everything is history, on a stripped line.
_SEPARATOR = re.compile(
    r"-{2,}\s*(?:original\smessage|urspr[üu]ngliche\snachricht|message\sd['’]origine|mensaje\soriginal"
    r"|oorspronkelijk\sbericht|forwarded\smessage|weitergeleitete\snachricht|message\stransf[ée]r[ée]"
    r"|mensaje\sreenviado|doorgestuurd\sbericht"
    r"|mensagem\soriginal|mensagem\s(?:re)?encaminhada|messaggio\soriginale|messaggio\sinoltrato"
    r"|wiadomo[śs][ćc]\soryginalna|oryginalna\swiadomo[śs][ćc]|przekazana\swiadomo[śs][ćc]"
    r"|ursprungligt\smeddelande|vidarebefordrat\smeddelande|oprindelig\smeddelelse|videresendt\smeddelelse"
    r"|opprinnelig\smelding|videresendt\smelding|alkuper[äa]inen\sviesti|v[äa]litetty\sviesti"
    r"|p[ůu]vodn[íi]\szpr[áa]va|p[řr]eposlan[áa]\szpr[áa]va|исходное\sсообщение|пересылаемое\sсообщение"
    r"|оригінальне\sповідомлення|початкове\sповідомлення|переслане\sповідомлення|[öo]zg[üu]n\sileti"
    r"|orijinal\smesaj|iletilen\sileti|y[öo]nlendirilen\smesaj|eredeti\s[üu]zenet|tov[áa]bb[íi]tott\s[üu]zenet"
    r"|mesaj(?:ul)?\soriginal|mesaj\sredirec[țt]ionat|αρχικό\sμήνυμα|προωθημένο\sμήνυμα|originalus\slai[šs]kas"
    r"|persi[ųu]stas\slai[šs]kas|missatge\soriginal|missatge\sreenviat|元のメッセージ|転送されたメッセージ)\s*-{2,}"
    r"|(?:begin\sforwarded\smessage|d[ée]but\sdu\smessage\sr[ée]exp[ée]di[ée]|anfang\sder\sweitergeleiteten"
    r"\snachricht|inicio\sdel\smensaje\sreenviado|begin\sdoorgestuurd\sbericht"
    r"|in[íi]cio\sda\smensagem\s(?:re)?encaminhada|inizio\smessaggio\sinoltrato)\s?:",
    re.IGNORECASE,
)
# "---------- <any words> ---------": a separator in a language not listed above when a header line follows.
_DASHED = re.compile(r"-{2,}\s*\S.{1,300}?\s*-{2,}")
# A line announcing a forward ("Vidarebefordrat mejl:", "Videresendt melding:"): dropped with the headers below.
_FORWARD_LINE = re.compile(
    r".{0,60}(?:forward|weitergeleit|reenviad|encaminhad|inoltrat|przekaz|vidarebefordr|videresend|v[äa]litet"
    r"|p[řr]eposl|переадрес|пересыл|переслан|ilet|tov[áa]bb[íi]t|redirec|προωθ|persi[ųu]st|reenviat|doorgestuurd"
    r"|transf[ée]r|r[ée]exp[ée]di|転送|转发).{0,40}[:：]",
    re.IGNORECASE,
)
# "Label: value", as a header line reads in any language ("Nosūtīts:", "De la:", "送信日時:"): up to four words.
_LABEL = re.compile(r"\*{0,2}[^\W\d_][^\W\d_'’-]*(?:[ '’-][^\W\d_]+){0,3}\.?\*{0,2}\s?[:：]\*{0,2}(?:\s|$)")
_ADDRESS = re.compile(r"[^\s<>@:]+@[^\s<>@]+\.[^\W\d_]{2,}")
# GroupWise's one-line header above an unquoted original: '>>> "Ana" <ana@x.rs> 5.3.2026 9:30 >>>'.
_GROUPWISE = re.compile(r">>>\s.{0,300}@.{0,300}\d\s*>>>")
# Words that point at a forwarded message ("see below", "FYI", "zur Info", "ci-dessous", "poniżej", "nedan"...).
_POINTER = re.compile(
    r"\b(?:below|fyi|fya|for\s+info|see\s+(?:attached|forwarded|thread|trail)|unten|zur\s+info|s\.\s*u\."
    r"|ci-dessous|pour\s+info|abajo|para\s+info|hieronder|ter\s+info|abaixo|sotto|qui\s+sotto|nedan|nedenfor"
    r"|neden|alla|alle|poniżej|níže|nižšie|ниже|нижче|aşağıda|mai\s+jos|alább|lent|παρακάτω|žemiau|zemāk|allpool"
    r"|a\s+continuació|dolje|spodaj"
    # "Please action - thanks!" over a forward: the forwarded request is what is asked (blind round 24)
    r"|(?:please|pls|plz|kindly)\s+(?:action|handle|actioned|deal\s+with\s+(?:this|it))"
    # "for your information" and its office phrasings: "Zur Kenntnisnahme", "Przesyłam do wiadomości", "för kännedom"
    r"|for\s+(?:your\s+)?(?:information|visibility|awareness)|forwarding|zur\s+kenntnis(?:nahme)?"
    r"|do\s+wiadomości|ter\s+kennisname|pour\s+information|para\s+(?:su\s+)?conocimiento|per\s+conoscenza"
    r"|para\s+conhecimento|för\s+kännedom|til\s+orientering|tiedoksi|na\s+vědomí|spre\s+informare|tájékoztatásul"
    r"|bilginize|к\s+сведению|для\s+информации|προς\s+ενημέρωση|til\s+info(?:rmasjon)?|pro\s+informaci"
    r"|para\s+(?:tu|su|vuestra|sua)\s+informa[cç][ãi][óo]?n?|(?:te|le|os|les)\s+lo\s+reenv[íi]o|reenv[íi]o|encaminho"
    r"|inoltro|je\s+te\s+transf[èe]re|przesyłam\s+dalej|přeposílám|videresender|vidarebefordrar)\b",
    re.IGNORECASE,
)
# A pointer at answers written between the lines of the mail replied to ("see my answers below in red", "answered
# inline", "meine Antworten unten"): in HTML or a plain-text part without ">" the answers are inside that mail.
_INLINE_ANSWERS = re.compile(
    r"\b(?:answer(?:s|ed)?|comment(?:s|ed)?|respon(?:ses?|ded)|repl(?:ies|ied)|notes|feedback|antworten|kommentare"
    r"|anmerkungen|réponses?|commentaires|respuestas|comentarios|antwoorden|opmerkingen|risposte|commenti|respostas"
    r"|coment[áa]rios|odpowiedzi|uwagi|răspunsuri(?:le)?"
    # "te contesto abajo en azul", "je réponds en rouge", "ich antworte unten"
    r"|contesto|respondo|r[ée]ponds|antworte|antwoord|rispondo)\b[^.!?\n]{0,40}?"
    r"(?:\b(?:below|inline|in-line|in\s+line|unten|ci-dessous|abajo|hieronder|sotto|abaixo|poniżej|mai\s+jos)\b"
    r"|\bin\s+(?:red|blue|green|bold|caps|colou?r)\b|\ben\s+(?:rouge|bleu|rojo|azul)\b|\bin\s+(?:rot|blau|rood)\b"
    r"|\bin\s+(?:rosso|blu)\b|\bem\s+vermelho\b)",
    re.IGNORECASE,
)
# ... unless it points away: "forwarded by mistake, ignore the thread below".
_AWAY = re.compile(r"\b(?:ignore|disregard|by\s+mistake|in\s+error|wrong\s+(?:thread|e-?mail|mail))\b", re.IGNORECASE)
_BARE_POINTER_WORDS = 5  # "See my comments below.": longer ("move the logo below the headline") may be a request
_POINTER_WORDS = 12  # "FYI, please see the email below from our brand team." and no more
# "VS:" replies in Finnish Outlook, whose header blocks read "Lähettäjä:/Lähetetty:/Vastaanottaja:/Aihe:" (and
# forwards in Norwegian and Danish: "Fra:/Sendt:/Til:/Emne:", or English labels in another client).
_FINNISH_BLOCK = re.compile(r"\*{0,2}(?:l[äa]hett[äa]j[äa]|l[äa]hetetty|vastaanottaja|aihe)\*{0,2}\s?:", re.IGNORECASE)
# Words of a forward marker, and a header line whose value is a forwarded subject.
_FORWARD_MARK = re.compile(
    r"forward|weitergeleit|transf[ée]r|r[ée]exp[ée]di|reenviad|doorgestuurd|encaminhad|reencaminhad|inoltrat"
    r"|przekaz|vidarebefordr|videresend|v[äa]litet|p[řr]eposl|пересыл|переслан|переадрес|ilet|y[öo]nlendir"
    r"|tov[áa]bb[íi]t|redirec|προωθ|persi[ųu]st|reenviat|転送|转发|proslijeđ|edasisaadet|áframsent|diteruskan",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(r"\*{0,2}[^:：]{1,30}[:：]\*{0,2}\s*(?:fwd?|wg|tr|rv|enc|pd|vb|vl|i|doorst)\s*[:：]",
                              re.IGNORECASE)
# A rule line (Outlook puts 32 underscores above its header block).
_RULE = re.compile(r"[_\-=*—–]{8,}")
# The sender line of a quoted or forwarded header block, in each language's Outlook and Gmail; "*From:*" as
# some HTML-to-text conversions render bold.
_FROM_WORDS = (
    r"from|von|de|van|da|od|fr[åa]n|fra|l[äa]hett[äa]j[äa]|kimden|от|від|felad[óo]|de\sla|από|nuo|差出人|送信者"
    r"|exp[ée]diteur|remitente|afzender|absender|mittente|remetente|nadawca|avs[äa]ndare|afsender|avsender"
)
_HEADER_FROM = re.compile(rf"\*{{0,2}}(?:{_FROM_WORDS})\*{{0,2}}\s?[:：]", re.IGNORECASE)
_HEADER_KEY = re.compile(
    rf"\*{{0,2}}(?:{_FROM_WORDS}|sent|date|to|subject|cc|bcc|reply-to|importance"
    r"|gesendet|datum|an|betreff|kopie|wichtigkeit"
    r"|envoy[ée]|[àa]|objet|sujet"
    r"|enviado(?:\sel)?|fecha|para|asunto|importancia"
    r"|verzonden|verstuurd|aan|onderwerp|urgentie|belang"
    r"|enviad[ao](?:\sem)?|data|assunto|cco"
    r"|inviato|oggetto|ccn"
    r"|wys[łl]ano|wys[łl]any|do|dw|udw|temat"
    r"|skickat|skickad|till|kopia|[äa]mne"
    r"|sendt|til|kopi|emne|dato"
    r"|l[äa]hetetty|vastaanottaja|kopio|aihe|p[äa]iv[äa]m[äa][äa]r[äa]"
    r"|odesl[áa]no|komu|p[řr]edm[ěe]t"
    r"|g[öo]nderildi|g[öo]nderilme\starihi|kime|bilgi|konu|tarih"
    r"|отправлено|дата|кому|копия|тема|надіслано|відправлено|копія"
    r"|elk[üu]ldve|k[üu]ldve|c[íi]mzett|m[áa]solat|t[áa]rgy|d[áa]tum"
    r"|trimis|c[ăa]tre|subiect"
    r"|στάλθηκε|ημερομηνία|προς|κοιν|θέμα"
    r"|i[šs]si[ųu]sta|kam|kopija"
    r"|enviat|per\sa|assumpte"
    r"|送信日時|宛先|件名|日付)\*{0,2}\s?[:：]",
    re.IGNORECASE,
)
# The line of a header block that dates it: a brief's "From: / To: / Subject:" has none.
_SENT_KEY = re.compile(
    r"\*{0,2}(?:sent|date|gesendet|datum|envoy[ée]|enviad[oa](?:\sel|\sem)?|fecha|verzonden|verstuurd|data|inviato"
    r"|wys[łl]ano|skickat|sendt|dato|l[äa]hetetty|odesl[áa]no|g[öo]nderildi|tarih|отправлено|дата|надіслано"
    r"|elk[üu]ldve|trimis|στάλθηκε|ημερομηνία|i[šs]si[ųu]sta|enviat|送信日時|日付)\*{0,2}\s?[:：]",
    re.IGNORECASE,
)
# A header line whose value is a replied or forwarded subject ("Subject: RE: Banner"): a quoted block, not a brief.
_REPLIED_SUBJECT = re.compile(
    r"\*{0,2}[^:：]{1,30}[:：]\*{0,2}\s*(?:re|aw|sv|vs|antw|rif|odp|ynt|fwd?|wg|tr|rv|enc)\s*[:：]", re.IGNORECASE)
# Which stripped lines are worth a closer look: a cheap filter before the exact patterns (an attribution is
# also looked for on any line with a digit).
_HINT = re.compile(
    rf"[-_=*—–]|begin\s|d[ée]but\s|anfang\s|inicio\s|in[íi]cio\s|inizio\s|\*{{0,2}}(?:{_FROM_WORDS})\W",
    re.IGNORECASE,
)
_SENTENCE_END = frozenset(".!?:;")
_UNQUOTE = re.compile(r"^[ \t]*> ?", re.MULTILINE)

# -- signatures ----------------------------------------------------------------------------------------------

_SIG_DELIMITERS = frozenset({"--", "—", "__", "-- --"})
_DEVICE = (r"(?:iphon|ipad|android|samsung|galaxy|huawei|xiaomi|pixel|outlook|gmail|yahoo|mobil|telefon"
           r"|смартфон|телефон|айфон)")
_MOBILE = re.compile(
    r"(?:sent\s(?:from|with|via|using)\s(?:my\s.{1,40}|(?:outlook|mail|yahoo|gmail|samsung|huawei|proton"
    r"|blackberry|aol|spark|edison|bluemail|airmail|superhuman).{0,50})"
    r"|get\soutlook\sfor\s.{1,50}"
    r"|envoy[ée]\s(?:de|depuis)\s(?:mon|ma|l['’]).{1,50}|obtenir\soutlook\spour\s.{1,50}"
    r"|t[ée]l[ée]charger\soutlook\spour\s.{1,50}"
    r"|von\smeinem\s.{1,50}\sgesendet\.?|gesendet\s(?:von|vom|mit)\s(?:meinem|meiner|outlook|mail|yahoo).{0,50}"
    r"|outlook\sf[üu]r\s(?:ios|android)\sbeziehen"
    r"|enviado\s(?:desde|con)\s(?:mi|outlook|yahoo|mail|gmail).{0,50}|obtener\soutlook\spara\s.{1,50}"
    r"|(?:verzonden|verstuurd)\s(?:vanaf|vanuit|met|via)\s(?:mijn|outlook|yahoo|mail|gmail).{0,50}"
    r"|outlook\svoor\s(?:ios|android)\s(?:downloaden|ophalen)"
    r"|enviado\sdo\smeu\s.{1,50}|inviato\sda(?:l\smio)?\s.{1,50}|wys[łl]ane\sz\s(?:mojego|mojej)\s.{1,50}"
    r"|skickat\sfr[åa]n\smin\s.{1,50}|sendt\sfra\smin\s.{1,50}|l[äa]hetetty\s(?:iphonesta|androidista|.{1,40}sta)"
    # elsewhere only with the device or app named, so that "Odesláno z Prahy." stays
    r"|(?:wys[łl]ane\sz|odesl[áa]no\sz|отправлено\sс|надіслано\sз|trimis\sde\spe|στάλθηκε\sαπό|i[šs]si[ųu]sta\si[šs]"
    rf"|enviat\sdes\sde(?:l)?|enviado\sde|inviato\sda|sendt\sfra|skickat\sfr[åa]n)\s.{{0,25}}?{_DEVICE}.{{0,25}}"
    rf"|.{{0,25}}?{_DEVICE}.{{0,25}}?(?:-r[óo]l\sk[üu]ldve|から送信|['’]?(?:[uü]m|)dan\sg[öo]nderildi)"
    r")",
    re.IGNORECASE,
)
# A whole line (stripped) that closes a mail, optionally followed by a capitalised name: "Thanks, Anna".
_VALEDICTION = re.compile(
    r"¡?(?i:(?:best|kind|warm|warmest|kindest|many|with|warm\sand\skind|best\sand\skind)\s(?:regards|wishes|thanks)"
    r"|(?:kind\s|best\s|warm\s)?regards|best|cheers|sincerely|yours(?:\s(?:sincerely|truly|faithfully))?"
    r"|all\sthe\sbest|talk\ssoon|speak\ssoon|take\scare|warmly|br|kr|rgds|brgds|thx|tia"
    r"|thanks(?:\s(?:again|so\smuch|a\slot|a\smillion|in\sadvance|and\sregards|and\sbest\sregards|&\sregards))?"
    r"|thank\syou(?:\s(?:very\smuch|so\smuch|again|in\sadvance))?|many\sthanks|with\sthanks"
    r"|(?:bien\s)?cordialement|bien\s[àa]\svous|salutations(?:\sdistingu[ée]es)?|sinc[èe]res\ssalutations"
    r"|merci(?:\sbeaucoup|\sd['’]avance|\set\sbonne\sjourn[ée]e)?|bonne\s(?:journ[ée]e|soir[ée]e)|belle\sjourn[ée]e"
    r"|[àa]\sbient[ôo]t|amicalement|bises"
    r"|mit\s(?:freundlichen|besten|herzlichen|sonnigen)\sgr(?:[üu]|ue)(?:ß|ss)en"
    r"|(?:viele|liebe|beste|herzliche|freundliche|sch[öo]ne)\sgr(?:[üu]|ue)(?:ß|ss)e"
    r"|gr(?:[üu]|ue)(?:ß|ss)e?|lg|vg|mfg|bg|danke(?:\ssch[öo]n)?|vielen\sdank|besten\sdank"
    r"|(?:un\s)?saludos?(?:\scordiales)?|atentamente|cordialmente|un\sabrazo|abrazos|(?:muchas|much[íi]simas|mil)\sgracias|gracias"
    r"|(?:met\s)?vriendelijke\sgroet(?:en)?|(?:met\s)?hartelijke\sgroet(?:en)?|groetjes|groeten|groet|mvg|gr"
    r"|alvast\sbedankt|bedankt|dank\sje(?:\swel)?|dank\su(?:\swel)?"
    # closings of casual mail, and of the other languages clients write in
    r"|(?:lots\sof\s|much\s|all\smy\s)?love|x{1,3}|ta|namaste|see\syou\s(?:soon|then)"
    r"|cordiali\ssaluti|distinti\ssaluti|un\s(?:caro\s)?saluto|saluti|a\spresto|grazie(?:\smille)?"
    r"|(?:gros\s)?bisous|atenciosamente|(?:com\s)?(?:os\s)?(?:melhores\s)?cumprimentos|beijos|abra[çc]os"
    r"|pozdrawiam(?:\sserdecznie)?|z\spowa[żz]aniem|s\spozdravem|mvh|med\svennlig\shilsen|cu\sstim[ăa]"
    r"|med\sv[äa]nliga\sh[äa]lsningar|med\svenlig\shilsen|terveisin|yst[äa]v[äa]llisin\sterveisin"
    r"|obrigad[oa]|muito\sobrigad[oa]|dzi[eę]ki|dzi[eę]kuj[eę](?:\sbardzo)?|pozdrowienia|kiitos|takk|tack|tak"
    r"|(?:vennlig|venlig)\shilsen|hilsen|(?:v[äa]nliga\s)?h[äa]lsningar"
    r"|[üu]dv[öo]zlettel|sayg[ıi]lar[ıi]mla)"
    # "Thanks for your help," "Obrigado pela ajuda," "Gracias por tu ayuda," "Danke für Ihre Hilfe,"
    r"(?i:[ \t]+(?:for\s(?:your|all\syour|the)\s(?:help|support)|pela\s(?:ajuda|aten[çc][ãa]o)|desde\sj[áa]"
    r"|por\s(?:tu|su|vuestra|la)\s(?:ayuda|atenci[óo]n)|por\stod[oa]|de\santemano|f[üu]r\s(?:ihre|deine|die)\s(?:hilfe|m[üu]he)"
    r"|pour\svotre\s(?:aide|retour)|voor\sde\shulp|per\sl['’]aiuto|za\spomoc|for\shj[æe]lpen|f[öo]r\shj[äa]lpen))?"
    r"[ \t]*[,.!;:]*"
    r"(?:[ \t]*[-–—,]?[ \t]*(?:[A-ZÀ-ÖØ-Þ][\w.'’-]{0,30}(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w.'’-]{0,30}){0,2})[ \t]*[.!]?)?"
)
_CONTACT = re.compile(
    r"@|https?://|www\.|\||\+?\d[\d ()./-]{5,20}\d|^(?:tel|phone|mobile|mob|cell|fax|t|m|e|p|w)\b\.?\s?:?\s?[+(\d]",
    re.IGNORECASE,
)
_POSTSCRIPT = re.compile(r"(?:p\.?\s?)+s\b|n\.?\s?b\b", re.IGNORECASE)
_COMPANY_END = re.compile(r"\b(?:ltd|inc|co|corp|llc|plc|gmbh|ag|bv|b\.v|s\.a|sa|s\.l|sl|sarl|e\.v|jr|sr|st)\.$",
                          re.IGNORECASE)
# First words of a sentence, not of a name or a job title.
_SENTENCE_START = frozenset({
    "please", "pls", "can", "could", "would", "will", "shall", "should", "let", "also", "and", "but", "so", "i",
    "i'm", "i've", "we", "we're", "you", "it", "this", "that", "if", "when", "is", "are", "do", "does", "did",
    "have", "has", "bitte", "können", "könnten", "kannst", "könntest", "wir", "ich", "es", "das", "ist", "sind",
    "pourriez", "pouvez", "pourrais", "peux", "merci", "je", "nous", "il", "est", "c'est", "por", "puedes",
    "pueden", "podrían", "podrías", "podéis", "necesitamos", "está", "graag", "kunnen", "kun", "kunt", "kan",
    "wil", "willen", "ik", "wij", "het", "dat", "zijn", "our", "my", "your", "there", "here",
})
# Small words that names, titles and companies leave in lower case ("Jan de Vries", "Head of Marketing").
_PARTICLES = frozenset({
    "a", "an", "the", "of", "and", "&", "at", "for", "to", "in", "on", "de", "du", "des", "d'", "la", "le", "les",
    "et", "van", "von", "der", "den", "het", "zu", "und", "für", "y", "e", "del", "da", "di", "dos", "das", "team",
})
_ON_BEHALF = re.compile(r"(?:i\.\s?a\.|i\.\s?v\.|p\.\s?p\.?|pp\.?)\s+", re.IGNORECASE)
_PAREN = re.compile(r"^\(.*|.*\)$")  # words in brackets ("Gwen (practice manager)") count as neither
_RULE_LINE = re.compile(r"[-_=*~—–]{2,}")
# A mail signed with an initial or a short name and no sign-off: "- J", "-M", "/Erik", "J.", "K", "L x", "Tom x".
_INITIAL = re.compile(
    r"(?:[-–—/~][ \t]?[A-ZÀ-ÖØ-Þ][\w'’-]{0,14}\.?|[A-ZÀ-ÖØ-Þ]\.?)(?:[ \t]+x{1,3})?"
    r"|[A-ZÀ-ÖØ-Þ][\w'’-]{1,14}[ \t]+x{1,3}"
)
# A motto under a name: a whole line in quotes or tildes.
_MOTTO = re.compile(r"[\"“„«~].{3,200}[\"”»~]")
# A sign-off and a name closing the last sentence's line: "Fine by me, go ahead. Cheers - Tom". Without a name
# the thanks belongs to the sentence ("Can you price these up separately? Thanks.") and stays.
_SIGNOFF_AFTER_SENTENCE = re.compile(
    r"(?<=[.!?])[ \t]+(?:(?i:thanks|thank\syou|many\sthanks|cheers|ta|thx)[ \t]*[,!.]?[ \t]*[-–—,]?"
    r"|(?i:best|regards|kind\sregards|best\sregards|love)[ \t]*[-–—,])"  # "Best Buy", "Love Island": no separator
    r"[ \t]*[A-ZÀ-ÖØ-Þ][\w'’-]{0,20}(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'’-]{0,20})?[ \t]*[.!]?[ \t]*$"
)
_NAME_WORD = re.compile(r"[A-ZÀ-ÖØ-Þ](?:[a-zß-öø-ÿ'’-]+|\.)")
# The body announces what follows it ("the new contact is below", "send it to:"): a name block after it is content.
_ANNOUNCES = re.compile(
    r":\s*$|\b(?:below|following|as\sfollows|here\s(?:is|are)|here's|contacts?\s(?:is|are|details)|details\s(?:is|are)"
    r"|new\s(?:\w+\s)?(?:contact|hire|starter|colleague|member|address|number|details|manager|director)"
    r"|ci-dessous|suivant|unten|folgende|abajo|siguientes?|hieronder|volgende)\b",
    re.IGNORECASE,
)
# Words that end a mail but are no one's name ("Approved", "Happy Christmas").
_NOT_NAMES = frozenset({
    "approved", "agreed", "done", "yes", "no", "ok", "okay", "sure", "fine", "great", "perfect", "noted", "confirmed",
    "urgent", "asap", "thanks", "thank", "happy", "merry", "christmas", "easter", "new", "year", "birthday", "good",
    "luck", "morning", "afternoon", "evening", "night", "weekend", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "today", "tomorrow", "invoice", "attached", "attachment", "see", "below",
    "above", "hello", "hi", "dear", "welcome", "congratulations", "congrats", "well", "nice", "lovely", "sorry",
    "bye", "cool", "excellent", "brilliant", "amazing", "wonderful", "enjoy", "best", "regards", "love", "lol",
    "haha", "wow", "ciao", "danke", "merci", "gracias", "grazie", "bedankt", "dank", "ja", "nein", "oui", "non",
    "si", "sí", "nee", "bitte", "page", "section", "option", "version", "draft", "final", "total", "price", "note",
    "ps", "p.s.", "nb", "update", "thoughts", "questions", "question", "help", "please", "pls", "call", "me",
    "go", "ahead", "sounds", "works", "agree", "all", "cheers", "team", "department", "a", "i", "o", "y", "e",
})
# A gateway's banner on mail from outside ("CAUTION: This email originated from outside the organisation").
_EXTERNAL_BANNER = re.compile(
    r"\W{0,3}(?:external|caution|warning|attention|notice|achtung|attenzione|atenci[óo]n|let\sop)\b",
    re.IGNORECASE,
)
_OUTSIDE = re.compile(
    r"(?:originated|originates|came|comes|was\ssent|is|arrived)\s(?:from\s)?outside"
    r"|external\s(?:sender|e-?mail|message)|von\sau(?:ß|ss)erhalb|de\sl['’]ext[ée]rieur|fuera\sde",
    re.IGNORECASE,
)

# -- disclaimers ---------------------------------------------------------------------------------------------

# Phrases that open (or sit in) a legal footer and nothing else.
_DISCLAIMER_STRONG = re.compile(
    r"confidentiality\snotice|this\se-?mail\s(?:message\s)?is\s(?:strictly\s)?confidential"
    r"|this\s(?:e-?mail|message)\s(?:and\sany\s(?:files|attachments)\s)?(?:is|are|may\sbe)\s(?:strictly\s)?"
    r"(?:confidential|privileged|intended\s(?:solely|only))"
    r"|this\s(?:e-?mail|message)\s(?:and\sany\s(?:files|attachments)\s)?may\scontain\s(?:\w+\s){0,2}"
    r"(?:confidential|privileged)"
    r"|if\syou\sare\snot\sthe\sintended\srecipient|ce\scourriel\sest\sconfidentiel"
    r"|diese\se-?mail\senth[äa]lt\svertrauliche|este\scorreo\selectr[óo]nico\ses\sconfidencial"
    r"|dit\se-?mail(?:bericht)?\sis\suitsluitend\sbestemd"
    r"|please\sconsider\sthe\senvironment\sbefore\sprinting|think\sbefore\syou\sprint"
    r"|pensez\s[àa]\sl['’]environnement|denken\ssie\san\sdie\sumwelt|bitte\sdenken\ssie\san\sdie\sumwelt"
    r"|antes\sde\simprimir|denk\saan\shet\smilieu"
    r"|beware\sof\s(?:cyber[\s-]?)?(?:crime|fraud)|if\syou\s(?:ever\s)?receive\san?\s(?:e-?mail|message|call)\s"
    r"(?:asking|requesting|telling|claiming|purporting)"
    r"|this\s(?:e-?mail|message)\s(?:originated|came|was\ssent)\sfrom\soutside",
    re.IGNORECASE,
)
# Phrases that are a disclaimer only next to a word of confidentiality (a client may write about a banner's
# disclaimer, or about "the information contained in this brief").
_DISCLAIMER_WEAK = re.compile(
    r"^\W{0,5}disclaimer|this\se-?mail\sand\sany\s(?:files|attachments)|the\sinformation\scontained\sin\sthis"
    r"|ce\smessage\set\stoutes\sles\spi[èe]ces\sjointes|este\smensaje\sy\ssus\sanexos"
    r"|(?:le\spr[ée]sent|ce)\smessage\s(?:est|peut)|diese\snachricht|dieses\se-?mail"
    r"|le\sinformazioni\scontenute",
    re.IGNORECASE | re.MULTILINE,
)
_CONFIDENTIAL = re.compile(
    r"confiden|vertraulich|vertrouwelijk|privileg|intended|addressee|destinatai|destinatari|empf[äa]nger"
    r"|geadresseerde|bestemd|prohibit|untersagt|interdit|prohib|verboden|unauthori|legally|notify\sthe\ssender"
    r"|riservat|sigil",
    re.IGNORECASE,
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_BLANK_RUNS = re.compile(r"\n{3,}")
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# -- the public API ------------------------------------------------------------------------------------------


def newest_of(parsed: ParsedMessage, *, ours: Callable[[str], bool] | None = None) -> str:
    """The newest text of a parsed message (the pipeline's and `liaison eval`'s one way to read it)."""
    return newest_text(parsed.text, html=parsed.html or None, subject=parsed.subject, ours=ours,
                       attached=parsed.attached_text)


def newest_text(text: str | None, *, html: str | None = None, subject: str = "",
                ours: Callable[[str], bool] | None = None, attached: str = "") -> str:
    """The newest text the sender wrote: quoted replies, forwarded history, signatures and disclaimers removed.

    When ``text`` is empty or None, ``html`` is converted to text first, its quoted blocks dropped before the
    conversion (and kept if nothing else is left). Reads at most the first 64 KB of text (256 KB of HTML).
    The ``subject`` says whether the message forwards or replies: Outlook forwards ("FW:") have a header block
    below the text and no forward marker, and a header block whose own Subject says "FW:" under an "RE:" is a
    reply to a forward. ``ours`` tells the agency's own addresses: its own mail forwarded back under a pointer
    is not read as the sender's words. ``attached``: the text of a message attached whole, read under a pointer
    that is all the sender wrote ("FYI" over a forward as attachment), as an inline forward is.
    Never raises on a str, and never returns "" for an input that has text: when everything looks like
    history or signature it falls back to the forwarded or quoted message, then to the input.
    """
    body = _normalise(text)
    kind = subject_kind(subject) if subject else ""
    if not body.strip() and html:
        body = _normalise(html_to_text(html, drop_quotes=True))
        if body.strip() and _pointer_above(_clean(strip_quotes(body))):
            # "See below" and nothing else once the quote containers are gone: what it points at may be a
            # forward, which the text of the whole message shows as the plain-text part would
            return _newest(_normalise(html_to_text(html)), 0, kind=kind, ours=ours)
        if not body.strip():
            body = _normalise(html_to_text(html))
    if not body.strip():
        return ""
    body = _newest_comment(body)
    found = _newest(body, 0, kind=kind, ours=ours)
    if attached.strip() and (pointer := _pointer_above(found)):
        # blind round 25: "FYI" over an invoice dispute attached as .eml was read alone, as other
        passed_on = newest_text(attached)
        if passed_on:
            return f"{pointer}\n\n{passed_on}"
    if subject and _points_at_subject(found):
        # "see subject - cheers" under "Invoice 3321 - wrong PO": the subject is what the sender wrote to say
        said = SUBJECT_PREFIX.sub("", subject).strip()
        return f"{said}\n\n{found}" if said else found
    return found


# Help desks (Zendesk, Freshdesk and their kind) send each update of a ticket as one mail: a "reply above this line"
# marker, a notice ("X added a comment to request #51907"), then every comment, newest first, each under its
# author's name and its date.
_REPLY_ABOVE = re.compile(r"^[#\- \t]*(?:(?:please[ \t]+)?(?:type|write)[ \t]+(?:your[ \t]+)?)?reply[ \t]+above[ \t]+"
                          r"this[ \t]+line\b[^\n]*", re.IGNORECASE | re.MULTILINE)
_TICKET_NOTICE = re.compile(r"(?:request|ticket|case)\s*\(?#?\s*\d+|reply\s+to\s+this\s+e-?mail", re.IGNORECASE)
_COMMENT_DATE = re.compile(
    r"^\W*(?:\d{1,2}\s+[^\W\d]{3,9}\.?\s+\d{4}|[^\W\d]{3,9}\.?\s+\d{1,2},?\s+\d{4}|\d{4}-\d{2}-\d{2})"
    r"(?:,?\s+(?:at\s+)?\d{1,2}[:.]\d{2}.*)?$", re.IGNORECASE)
_COMMENT_AUTHOR_WORDS = 8  # "Tom Ashworth (Kiln & Co)", "Veramed AP Helpdesk"


def _newest_comment(body: str) -> str:
    """A help desk's ticket update read as its newest comment alone: the marker, the notice and the older comments
    (the agency's own among them) are not what the sender says now. Any other body is returned as it is."""
    marker = _REPLY_ABOVE.search(body)
    if not marker or body[:marker.start()].strip():
        return body  # a reply typed above the line is an ordinary reply: its quote is cut as any other
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body[marker.end():]) if p.strip()]
    if paragraphs and _TICKET_NOTICE.search(paragraphs[0]) and len(paragraphs[0].split()) <= 30:
        paragraphs = paragraphs[1:]
    heads = [i for i in range(len(paragraphs) - 1) if _comment_head(paragraphs[i], paragraphs[i + 1])]
    if not heads:
        return "\n\n".join(paragraphs) or body
    end = heads[1] if len(heads) > 1 else len(paragraphs)
    return "\n\n".join(paragraphs[heads[0] + 2:end]) or body


def _comment_head(author: str, date: str) -> bool:
    return ("\n" not in author and len(author.split()) <= _COMMENT_AUTHOR_WORDS and not author.endswith((".", "?", "!"))
            and bool(_COMMENT_DATE.match(date)))


# A body that only points at the subject line ("as per subject", "see subj", "siehe Betreff", "voir objet", "^^"):
# procurement and mobile mail put the whole request there.
_SUBJECT_POINTER = re.compile(
    r"^\W*(?:\^\^|(?:(?:pls|please|kindly)\s+)?(?:see|as\s+per|per|as\s+in|as|refer\s+to|siehe|s\.|voir|ver|zie"
    r"|vedi|veja|se|patrz|viz|katso)\s+(?:the\s+)?(?:subject(?:\s+line)?|subj|betreff|objet|asunto|onderwerp|oggetto"
    r"|assunto|ämne|emne|temat|předmět|aihe)\b"
    # Vietnamese, Indonesian/Malay, Thai, Japanese, Chinese, Korean, Russian, Turkish: "as the subject (says)"
    r"|(?:như|xem)\s+tiêu\s+đề|(?:sesuai|lihat|seperti)\s+(?:subjek|judul|subject|perihal)|ตาม(?:หัวข้อ|ชื่อเรื่อง)"
    r"|件名(?:の)?(?:通り|とおり|参照)|如[题題]|见标题|見標題|제목(?:과\s*같이|대로|\s*참조)|(?:см\.?|смотрите)\s+тему"
    r"|как\s+в\s+теме|konu(?:ya\s+bakınız|daki\s+gibi))", re.IGNORECASE)
_SUBJECT_POINTER_WORDS = 8  # "see subject - cheers" / "Morag", and no request of its own


def _points_at_subject(text: str) -> bool:
    """The text opens with a paragraph that only points at the subject: alone, or above what the sender's mail
    system adds (a legal disclaimer the signature cut did not know: "As per subject." / "C" / "Banksia Super Pty
    Ltd ABN ...", eval-independent-12 after its first look)."""
    first = text.strip().split("\n\n", 1)[0]
    return len(first.split()) <= _SUBJECT_POINTER_WORDS and bool(_SUBJECT_POINTER.match(first.strip()))


def only_points(text: str) -> bool:
    """``text`` (a newest text) only points at mail below it, with nothing of its own to acknowledge: each
    paragraph a pointer of a few words ("Please see below.", "FYI", "FYI" / "See below."), a signature under it
    aside. A forward below would have been read with it; what is left points at the quoted reply."""
    head = _pointer_above(text)
    paragraphs = [p.strip() for p in head.split("\n\n") if p.strip()] if head else []
    return bool(paragraphs) and all(_pointer(p) and len(p.split()) <= _BARE_POINTER_WORDS for p in paragraphs)


def strip_quotes(text: str) -> str:
    """The text above and between quoted history: ``>`` lines and their attribution, and everything from an
    Outlook separator, header block or forwarded-message marker down, removed. May be empty."""
    return _tidy("\n".join(_split(_normalise(text).split("\n")).kept))


def strip_signature(text: str) -> str:
    """``text`` without its signature: from a "-- " line or a mobile footer to the end, and a closing
    valediction with the short name/title/contact lines after it. A valediction on the first line, or one
    followed by sentences, is kept."""
    text = text or ""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped in _SIG_DELIMITERS or (0 < len(stripped) <= 100 and _MOBILE.fullmatch(stripped)):
            # "Sent from my iPhone\n\nPS: please also...": a P.S. below the footer was written now
            later = next((i for i in range(index + 1, len(lines)) if _POSTSCRIPT.match(lines[i].strip())), None)
            lines = lines[:index] + (lines[later:] if later is not None else [])
            break
    filled = [index for index, line in enumerate(lines) if line.strip()]
    if len(filled) < 2:
        return "\n".join(_strip_unsigned_tail(lines)).rstrip()
    for index in filled[-14:]:
        if index == filled[0]:
            continue
        stripped = lines[index].strip()
        if len(stripped) > 80:
            continue
        if _VALEDICTION.fullmatch(stripped):
            postscript = _postscript_after_name(lines, index + 1)
            if postscript is not None and _signature_tail(lines[index + 1 : postscript]):
                lines = lines[:index] + lines[postscript:]  # "Thanks,\nLeo\nP.S. ...": the P.S. was written now
                break
            if _signature_tail(lines[index + 1 :]):
                lines = lines[:index]
                break
    return _trim_rules("\n".join(_strip_unsigned_tail(lines)))


def _postscript_after_name(lines: list[str], start: int) -> int | None:
    """Index of a P.S. on one of the two filled lines after ``start`` (right under the name or its title), or of
    a request right under the name ("Thanks,\nTom\n\nPlease also resend invoice 4471."): both written now."""
    seen = 0
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if not stripped:
            continue
        if _POSTSCRIPT.match(stripped) or (seen == 1 and _opens_a_request(stripped)):
            return index if seen else None
        seen += 1
        if seen > 2:
            return None
    return None


# First words of a request, in the languages clients write in ("Please also...", "Send venligst...", "Graag ook...").
_REQUEST_OPENERS = frozenset({
    "please", "pls", "plz", "also", "could", "can", "would", "will", "one", "oh", "btw", "send", "resend", "and",
    "bitte", "könnten", "können", "kannst", "schicken", "senden", "merci", "pouvez", "pourriez", "pouvez-vous",
    "pourriez-vous", "envoyez", "renvoyez", "por", "podrías", "podéis", "podrían", "enviad", "reenviad", "graag",
    "kunnen", "kunt", "kun", "stuur", "per", "potreste", "potete", "mandate", "rimandate", "proszę", "prosimy",
    "czy", "kan", "kunne", "kunde", "skicka", "voisitteko", "voisitko", "lähettäkää", "podem", "poderiam",
    "reenviem", "enviem", "mande", "manda",
})


def _opens_a_request(line: str) -> bool:
    """A sentence that asks for something, not a footer's notice ("Please consider the environment...")."""
    words = line.split()
    return (len(words) >= 4 and words[0].lower().strip(",.:;!") in _REQUEST_OPENERS
            and not _DISCLAIMER_STRONG.search(line))


def _strip_unsigned_tail(lines: list[str]) -> list[str]:
    """``lines`` without a closing that has no sign-off line above it: an initial or short name ("- J", "L x"),
    a bare name as the last paragraph, a name block (name, title, company, contacts, motto) as the last paragraph,
    or a sign-off and name closing the last sentence's line ("... the blue ones. Cheers - Tom").
    Nothing is cut when the body announces what follows ("the contact is below", "send it to:")."""
    filled = [index for index, line in enumerate(lines) if line.strip()]
    if not filled:
        return lines
    last = lines[filled[-1]].strip()
    if len(last) <= 400:
        match = _SIGNOFF_AFTER_SENTENCE.search(last)
        if match and match.start() > 0:
            return [*lines[: filled[-1]], lines[filled[-1]][: lines[filled[-1]].index(last) + match.start()]]
    if len(filled) < 2:
        return lines
    if (len(last) <= 20 and _INITIAL.fullmatch(last) and last.lower().strip("-–—/~. ") not in _NOT_NAMES
            and not _ANNOUNCES.search(lines[filled[-2]])):
        return lines[: filled[-1]]
    block_start = filled[-1]
    while block_start > 0 and lines[block_start - 1].strip():
        block_start -= 1
    body = [index for index in filled if index < block_start]
    if body and block_start > body[-1] + 1 and lines[body[-1]].rstrip()[-1:] in ".!?)":
        above = lines[body[-1]]
        block = [line.strip() for line in lines[block_start:]]
        if not _ANNOUNCES.search(above) and (_bare_name(block) or _unsigned_block(block)):
            return lines[:block_start]
    return lines


def _bare_name(block: list[str]) -> bool:
    """One line that is a person's name: one to three capitalised words or initials, none of them a common word."""
    filled = [line for line in block if line]
    if len(filled) != 1 or len(filled[0]) > 40:
        return False
    words = filled[0].split()
    if not 1 <= len(words) <= 3:
        return False
    return all(_NAME_WORD.fullmatch(word) and word.lower() not in _NOT_NAMES
               and word.lower() not in _SENTENCE_START for word in words)


def _unsigned_block(block: list[str]) -> bool:
    """A person's full name, then one to five lines of title, company, contact details or a motto, at least one of
    them contact details or a motto (a name and a title alone may be what the client is telling us about)."""
    filled = [line for line in block if line]
    if not 2 <= len(filled) <= 6:
        return False
    name = filled[0].split("|")[0].strip()
    if not _person(name) or len(name.split()) < 2:
        return False
    if any(word.lower().strip(",.") in _NOT_NAMES or word.lower() in _SENTENCE_START for word in name.split()):
        return False
    details = [bool(len(line) <= 120 and _CONTACT.search(line)) or bool(_MOTTO.fullmatch(line)) for line in filled]
    return any(details) and all(found or _name_like(line) for found, line in zip(details[1:], filled[1:], strict=True))


def strip_disclaimer(text: str) -> str:
    """``text`` without a legal disclaimer: from the first paragraph that is one (or from the line inside it where
    the disclaimer starts) to the end, with the name block standing right above it when there is content above."""
    text = text or ""
    if not (_DISCLAIMER_STRONG.search(text) or _DISCLAIMER_WEAK.search(text)):
        return text
    starts = [0] + [match.end() for match in _PARAGRAPH_BREAK.finditer(text)]
    ends = [match.start() for match in _PARAGRAPH_BREAK.finditer(text)] + [len(text)]
    for number, (start, end) in enumerate(zip(starts, ends, strict=True)):
        trigger = _disclaimer_at(text[start:end])
        if trigger is None:
            continue
        cut = text.rfind("\n", start, start + trigger) + 1 if trigger else start
        cut = max(cut, start)
        if cut > start and number > 0 and _signature_block(text[start:cut].split("\n")):
            cut = start  # "Jane Doe | Acme\nThis email is confidential...": the name block goes too
        if cut == start and number > 1 and _signature_block(text[starts[number - 1] : ends[number - 1]].split("\n")):
            cut = starts[number - 1]
        return _trim_rules(text[:cut])
    return text


def _strip_banner(text: str) -> str:
    """``text`` without the external-sender warning a mail gateway puts above it: not what the client wrote, and
    its words (links, attachments, sender) would count towards the category."""
    stripped = text.lstrip()
    if not _EXTERNAL_BANNER.match(stripped):
        return text
    match = _PARAGRAPH_BREAK.search(stripped)
    if match is None or match.start() > 400 or not _OUTSIDE.search(stripped[: match.start()]):
        return text
    return stripped[match.end() :]


def _trim_rules(text: str) -> str:
    """``text`` without the blank and rule lines ("---", "____") it ends with."""
    lines = text.rstrip().split("\n")
    while lines and (not lines[-1].strip() or _RULE_LINE.fullmatch(lines[-1].strip())):
        lines.pop()
    return "\n".join(lines).rstrip()


# -- text ----------------------------------------------------------------------------------------------------


def _normalise(text: str | None) -> str:
    if not isinstance(text, str) or not text:
        return ""
    text = text[:MAX_TEXT]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "")
    if _BIDI.search(text):  # Gmail wraps a Hebrew or Arabic attribution in direction marks: "\u202b... <a@x>:\u202c"
        text = _BIDI.sub("", text)
    return text


def _newest(body: str, depth: int, *, kind: str = "", ours: Callable[[str], bool] | None = None) -> str:
    """``kind``: what the message's subject says it is (foundation.subjects.subject_kind; "" unknown)."""
    cut = _split(body.split("\n"))
    top_text = "\n".join(cut.kept)
    cleaned = _clean(top_text)
    history = cut.history
    deeper = _block_kind(cut.block)  # what the earlier message's own Subject line says it is
    if (cleaned and history and history.strip() and depth < _MAX_DEPTH and _forwarded(cut, kind, deeper)
            and not _written_by(cut.block, ours)):
        pointer = _pointer_above(cleaned)
        if pointer:
            # "Please see below." above a forwarded request: the request is what the client passes on
            found = _newest(history, depth + 1, kind=deeper, ours=ours)
            if found:
                return f"{pointer}\n\n{found}"
    if (cleaned and history and history.strip() and depth < _MAX_DEPTH and cut.how in (_HEADED, _FORWARDED)
            and _answers_inline(cleaned)):
        # the answers stand between the lines of the mail replied to, whoever wrote it (our questions, most often);
        # answers between ">" lines are kept by _split already. Questions with nothing under them are not the
        # sender's: the pointer alone is (blind round 24b: "Please see my answers below." over our two questions
        # and no answer read our "Shall we reissue the invoice?" as the client's billing issue).
        found = "" if _unanswered(history) else _marked_answers(history) or _newest(history, depth + 1, kind=deeper,
                                                                                  ours=ours)
        if found:
            return f"{_pointer_above(cleaned) or cleaned}\n\n{found}"
    if cleaned:
        return cleaned
    if history is not None and history.strip() and depth < _MAX_DEPTH:
        found = _newest(history, depth + 1, kind=deeper, ours=ours)
        if found:
            return found
    return _tidy(top_text) or _tidy(body)


def _forwarded(cut: _Cut, kind: str, deeper: str) -> bool:
    """The earlier message is passed on rather than replied to: a forward marker above it, a passage quoted
    without an attribution, or this message's subject saying so ("FW:"; "VS:" unless over a Finnish header
    block). Without a subject that says, a header block whose own Subject is "FW:" is taken for one."""
    if cut.how in (_FORWARDED, _PASSED):
        return True
    if kind == "forward":
        return True
    if kind == "either":  # a forward unless the block is a Finnish client's (its reply is "VS:" too)
        return not any(_FINNISH_BLOCK.match(line.strip()) for line in cut.block)
    return not kind and cut.how == _HEADED and deeper == "forward"


def _written_by(block: list[str], ours: Callable[[str], bool] | None) -> bool:
    """The header block or attribution names one of our addresses first (its sender: "From:" comes before
    "To:" in every client's layout)."""
    if ours is None:
        return False
    for line in block:
        found = _ADDRESS.search(line[:_HEAD])
        if found:
            return ours(found.group(0).strip(".,;:()<>[]\"'"))
    return False


def _block_kind(block: list[str]) -> str:
    """What a quoted header block's Subject line says the earlier message was: "forward", "reply" or ""."""
    for line in block:
        stripped = line.strip()[:_HEAD]
        if _FORWARD_SUBJECT.match(stripped):
            return "forward"
        if _REPLIED_SUBJECT.match(stripped):
            return "reply"
    return ""


def _clean(text: str) -> str:
    text = strip_signature(strip_disclaimer(_strip_banner(text)))
    return _tidy(strip_signature(strip_disclaimer(text)))


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _pointer(text: str) -> bool:
    """A few words that only point at what is forwarded below ("Please see below.", "FYI", "Anna, prośba
    poniżej."): no question or request of their own ("Please make these changes." is one)."""
    return (len(text.split()) <= _POINTER_WORDS and "?" not in text and "？" not in text
            and bool(_POINTER.search(text)) and not _AWAY.search(text))


def _marked_answers(history: str) -> str:
    """The lines marked with ">" inside an unquoted earlier message, when some of its lines are and some are not:
    the sender's answers put between its questions (blind round 24: "1) Sollen die Preise im Katalog stehen?" /
    ">> Nein, bitte alle Preise entfernen." read as the questions alone, a progress query)."""
    lines = [line for line in history.split("\n") if line.strip()]
    marked = [line.lstrip("> ").strip() for line in lines if line.lstrip().startswith(">")]
    return "\n".join(marked) if marked and len(marked) < len(lines) else ""


def _unanswered(history: str) -> bool:
    """The mail replied to asks questions and nothing stands under them: from its first question on, every line
    (its closing and signature aside) is a question."""
    lines = [line.strip() for line in _clean(history).split("\n") if line.strip()]
    first = next((i for i, line in enumerate(lines) if line.endswith(("?", "？"))), None)
    return first is not None and all(line.endswith(("?", "？")) for line in lines[first:])


def _answers_inline(text: str) -> bool:
    """A few words that say the answers are written into the mail below ("Please see my answers below." over
    Outlook's red answers), nothing of their own asked."""
    head = _pointer_above(text) or text
    return len(head.split()) <= _POINTER_WORDS and "?" not in head and bool(_INLINE_ANSWERS.search(head))


def _pointer_above(text: str) -> str:
    """What of ``text`` to keep above the forward it points at, or "" when it does not point at one: the text
    when it only points ("Please see below."), or opens with a paragraph that does ("FYI, see below." / "Also,
    please send the invoice."); the pointer alone when the sender's name, title and contact lines follow it
    ("FYI" / "Tom Hill | Marketing Manager | BrewCo")."""
    lines = text.split("\n")
    for cut in range(1, min(len(lines), 4)):  # the pointer's own lines, then the signature (with or without a gap)
        head, tail = "\n".join(lines[:cut]).strip(), [line.strip() for line in lines[cut:] if line.strip()]
        if tail and _pointer(head) and (_signature_block(tail) or _unsigned_block(tail) or _bare_name(tail)):
            return head
    return text if _pointer(text) or _pointer(text.partition("\n\n")[0]) else ""


class _Cut(NamedTuple):
    kept: list[str]  # the lines the sender wrote, outside quotes and above history
    history: str | None  # the first quoted or forwarded message
    how: str  # how it sits below: _QUOTED, _PASSED, _HEADED, _FORWARDED or "" (no history)
    block: list[str]  # the header block or attribution above it, when it has one


# How the first earlier message sits under the new text (_split's third answer): quoted under an attribution,
# quoted without one (a passage passed on: "see below" over "> Gerry, the invoice is wrong"), under a header.
_QUOTED, _PASSED, _HEADED, _FORWARDED = "quoted", "passed", "headed", "forwarded"


def _split(lines: list[str]) -> _Cut:
    """Where the sender's new text ends and the first earlier message starts, and how it sits below: "" when
    there is none, _QUOTED in ">" lines under an attribution, _PASSED without one, _FORWARDED under a forward
    marker, else _HEADED under an attribution, separator or header block."""
    kept: list[str] = []
    history: str | None = None
    how = ""
    block: list[str] = []
    count = len(lines)
    index = 0
    while index < count:
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            kept.append(line)
            index += 1
            continue
        if stripped[0] == ">" and _GROUPWISE.fullmatch(stripped[:_HEAD]):
            if history is None:
                history, how = "\n".join(lines[index + 1 :]), _HEADED
            while kept and not kept[-1].strip():
                kept.pop()
            return _Cut(kept, history, how, block)
        if stripped[0] == ">":
            block_end = _quote_block_end(lines, index)
            attribution = _drop_attribution(kept)
            if history is None:
                history = _UNQUOTE.sub("", "\n".join(lines[index:block_end]))
                how, block = (_QUOTED if attribution else _PASSED), attribution
            index = block_end
            continue
        if _HINT.match(stripped) or _DIGIT.search(stripped[:_HEAD]) or "@" in stripped[:_HEAD]:
            cut = _boundary(lines, index, stripped[:_HEAD])
            if cut is not None:
                history_start, unquote = cut
                forwarded = not unquote and _forward_marked(lines[index:history_start])
                while kept and (not kept[-1].strip() or _RULE.fullmatch(kept[-1].strip())
                                or (not unquote and _FORWARD_LINE.fullmatch(kept[-1].strip()))):
                    forwarded = forwarded or (not unquote and bool(_FORWARD_LINE.fullmatch(kept[-1].strip())))
                    kept.pop()
                if history is None:
                    rest = "\n".join(lines[history_start:])
                    history = _UNQUOTE.sub("", rest) if unquote else rest
                    how = _QUOTED if unquote else _FORWARDED if forwarded else _HEADED
                    block = lines[index:history_start]
                return _Cut(kept, history, how, block)
        kept.append(line)
        index += 1
    return _Cut(kept, history, how, block)


def _forward_marked(head: list[str]) -> bool:
    """The separator or header block above a message has a forward marker ("---------- Forwarded message
    ---------", "Messaggio inoltrato"). (A Subject line with "FW:" in it only says what the earlier message was.)"""
    return any(_FORWARD_MARK.search(line[:_HEAD]) for line in head)


def _quote_block_end(lines: list[str], start: int) -> int:
    """Index after a run of quoted lines (blank lines inside the run included)."""
    index = start
    end = start
    while index < len(lines):
        stripped = lines[index].lstrip()
        if stripped.startswith(">"):
            end = index + 1
        elif stripped:
            break
        index += 1
    return end


def _drop_attribution(kept: list[str]) -> list[str]:
    """Remove the attribution (one to three lines) that introduces the quote about to be dropped, and return it
    (empty when there was none)."""
    filled = len(kept)
    while filled and not kept[filled - 1].strip():
        filled -= 1
    if not filled or not kept[filled - 1].rstrip().endswith((":", "：")):
        return []
    for size in (3, 2, 1):  # the longest first: Gmail wraps "On ..., Anna <\nanna@x.com> wrote:"
        if filled - size < 0:
            continue
        joined = _wrapped(kept[filled - size : filled])
        if joined is not None and _DIGIT.search(joined) and _is_attribution(joined):
            dropped = kept[filled - size :]
            del kept[filled - size :]
            return dropped
    last = kept[filled - 1].strip()
    if len(last) <= _HEAD and _ATTRIBUTION.fullmatch(last):  # "Anna wrote:": no date needed above a quote
        dropped = kept[filled - 1 :]
        del kept[filled - 1 :]
        return dropped
    for size in (3, 2, 1):  # a language without its words here: above a quote, a time or an address will do
        joined = _wrapped(kept[filled - size : filled]) if filled - size >= 0 else None
        if joined is not None and (_TIME.search(joined) or "@" in joined):
            dropped = kept[filled - size :]
            del kept[filled - size :]
            return dropped
    return []


def _boundary(lines: list[str], index: int, stripped: str) -> tuple[int, bool] | None:
    """Where the history starts when line ``index`` opens it: (first line of history, whether it is quoted)."""
    if _SEPARATOR.fullmatch(stripped):
        return _skip_headers(lines, index + 1), False
    if _DASHED.fullmatch(stripped):
        if "@" in stripped:  # "-----"Nina" <n@x.si> wrote: -----" (Notes), "---- On ... <n@x.rs> wrote ---" (Zoho)
            return _skip_headers(lines, index + 1), False
        following = _next_filled(lines, index + 1)
        if following is not None and (_HEADER_KEY.match(lines[following].strip()[:_HEAD])
                                      or _labelled_block(lines, following, ruled=True)):
            return _skip_headers(lines, following), False
    if _RULE.fullmatch(stripped):
        following = _next_filled(lines, index + 1)
        if following is not None and (_HEADER_FROM.match(lines[following].strip())
                                      and _headers_follow(lines, following, ruled=True)
                                      or _labelled_block(lines, following, ruled=True)):
            return _skip_headers(lines, following), False
        return None
    if _HEADER_FROM.match(stripped) and _headers_follow(lines, index) or _labelled_block(lines, index):
        return _skip_headers(lines, index), False
    if _DIGIT.search(stripped):
        for size in (1, 2, 3):
            joined = _wrapped(lines[index : index + size]) if index + size <= len(lines) else None
            if joined is not None and _opens_history(joined):
                following = _next_filled(lines, index + size)
                if following is not None and lines[following].lstrip().startswith(">"):
                    return None  # a quote follows: the quote's own handling drops it and keeps what comes after
                return index + size, True
    return None


def _labelled_block(lines: list[str], start: int, *, ruled: bool = False) -> bool:
    """A header block in a language whose words are not listed here ("Saatja: Liis <l@x.ee>" / "Saadetud: ..."):
    at least three "Label: value" lines in a row, a date or a time among them, and the sender's address in the
    first one, or a rule line or dashed separator above it."""
    first = lines[start].strip()[:_HEAD]
    if not _LABEL.match(first):
        return False
    count, dated = 1, bool(_TIME.search(first) or _YEAR.search(first))
    addressed = ruled or bool(_ADDRESS.search(first))
    for line in lines[start + 1 : start + 12]:
        stripped = line.strip()[:_HEAD]
        if not stripped:
            continue  # an HTML mail's converter puts blank lines between its header lines
        if not _LABEL.match(stripped):
            break
        count += 1
        dated = dated or bool(_TIME.search(stripped) or _YEAR.search(stripped))
        # a block that opens with a known header ("Gesendet: ..." in GMX's) may name the sender further down
        addressed = addressed or bool(_HEADER_KEY.match(first) and _ADDRESS.search(stripped))
    return count >= 3 and dated and addressed


def _is_attribution(text: str) -> bool:
    return bool(_ATTRIBUTION.fullmatch(text) or (_YEAR.search(text) and _ATTRIBUTION_ADDRESS.fullmatch(text)))


def _opens_history(attribution: str) -> bool:
    """An attribution with no quote below it (Outlook for Mac, Apple Mail, a forward pasted as text) cuts
    everything after it: only with a date in it and an opening word ("On", "Il giorno"), a time or an address,
    so that "As I wrote in 2025:" in the newest text is not taken for one."""
    return bool(_DATEISH.search(attribution) and _is_attribution(attribution)
                and (_ATTRIBUTION_OPENER.match(attribution) or _TIME.search(attribution) or "@" in attribution))


def _wrapped(lines: list[str]) -> str | None:
    """One attribution written over these lines (a mail client wrapped it), joined; None if it cannot be one:
    it ends in a colon, its first line opens with On/Le/Il giorno/... or a date when wrapped, and no line in it
    is blank or ends a sentence."""
    stripped = [line.strip() for line in lines]
    joined = " ".join(stripped)
    if len(joined) > _HEAD or not joined.endswith((":", "：")):
        return None
    if len(stripped) > 1:
        # a client wraps a long line that opens like one ("On ...", a date, "Name <addr>"), or before the address
        first = stripped[0]
        opens = _ATTRIBUTION_OPENER.match(first) or _DIGIT.search(first[:15]) or "<" in first
        if not (stripped[1].startswith("<") or (len(first) >= 30 and opens)):
            return None
        if any(not line or _ends_sentence(line) for line in stripped[:-1]):
            return None
    return joined


def _ends_sentence(line: str) -> bool:
    """Ends with a full stop, a question mark...; not the dot of a date ("2026.", "14.")."""
    return line[-1] in _SENTENCE_END and not (line[-1] == "." and len(line) > 1 and line[-2].isdigit())


def _next_filled(lines: list[str], start: int) -> int | None:
    for index in range(start, min(len(lines), start + 4)):
        if lines[index].strip():
            return index
    return None


def _headers_follow(lines: list[str], start: int, *, ruled: bool = False) -> bool:
    """At least two more header lines right after a From: line (a line folded from the one above aside), and,
    unless a rule line stands above, a date, a time, an address or a Sent:/Date: line among them: a header
    block, not a brief's "From: BrewCo / To: loyalty list / Subject: Spring" nor "From: 1 March / To: 31 March"
    (a sender is never a date)."""
    if _DIGIT.match(_HEADER_FROM.sub("", lines[start].strip(), count=1).strip(" *")):
        return False
    found = 0
    evidence = ruled or bool(_DATEISH.search(lines[start][:_HEAD]))
    for line in lines[start + 1 : start + 7]:
        stripped = line.strip()[:_HEAD]
        if _HEADER_KEY.match(stripped):
            found += 1
            evidence = evidence or bool(_DATEISH.search(stripped) or _SENT_KEY.match(stripped)
                                        or _REPLIED_SUBJECT.match(stripped))
            if found >= 2 and evidence:
                return True
        elif not (line[:1] in (" ", "\t") and line.strip()):
            return False
    return False


def _skip_headers(lines: list[str], start: int) -> int:
    """Index of the first body line after a block of header lines (and blank lines) starting at ``start``."""
    index = start
    previous_header = False
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            following = _next_filled(lines, index + 1)  # an HTML mail's converter spaces its header lines
            if previous_header and (following is None or not _HEADER_KEY.match(lines[following].strip()[:_HEAD])):
                return index + 1
        elif _HEADER_KEY.match(stripped[:_HEAD]) or (previous_header or index == start) and _LABEL.match(stripped):
            previous_header = True
        elif previous_header and line[:1] in (" ", "\t"):
            pass  # a folded header line: "To: a@x.com,\n    b@x.com"
        else:
            return index
        index += 1
    return index


def _signature_tail(lines: list[str]) -> bool:
    """The lines after a valediction are a signature: a name first, then at most a dozen lines of title, company,
    contact details and the footer notices companies append; no question and no P.S. right under the name."""
    filled = [line.strip() for line in lines if line.strip()]
    if not filled:
        return True
    if len(filled) > 12 or sum(len(line) for line in filled) > 1500 or _written_after(lines):
        return False
    if not (_name_like(filled[0]) or _nickname(filled[0]) or _CONTACT.search(filled[0])):
        return False
    for number, line in enumerate(filled):
        if len(line) > 400 or line[-1] == "?":
            return False
        if number <= 1 and _POSTSCRIPT.match(line):
            return False  # a P.S. right under the name was written now; one under the title is the template's
    return True


def _written_after(lines: list[str]) -> bool:
    """A P.S. under the name and contact lines, after a blank line: written now ("P.S. Please change the headline
    on the poster"). A sentence there without one may as well be the footer's ("Please quote our PO number on
    every invoice"), which must not reach the classifier."""
    seen_text = blank = False
    for line in lines:
        stripped = line.strip()
        if not stripped:
            blank = blank or seen_text
            continue
        if blank and _POSTSCRIPT.match(stripped):
            return True
        seen_text = True
    return False


def _nickname(line: str) -> bool:
    """"kev", "J", "Tx": one short word, as casual mail is signed."""
    return len(line) <= 12 and line.isalpha() and line.lower() not in _SENTENCE_START


def _name_like(line: str) -> bool:
    """A name, a team, a job title or a company: short, mostly capitalised, not a sentence."""
    line = _ON_BEHALF.sub("", line, count=1) if line[:1] in "iIpP" else line
    words = [word for word in line.split() if any(char.isalnum() for char in word)]
    if not words or len(line) > 60 or len(words) > 8 or not line[0].isupper() or line[-1] in "?!:;,":
        return False
    if line[-1] == "." and len(words) > 2 and not _COMPANY_END.search(line):
        return False
    capitalised = [_PAREN.sub("", word)[:1].isupper() for word in words
                   if word.lower() not in _PARTICLES and _PAREN.sub("", word)]
    if len(words) <= 2 and all(capitalised):
        return True  # "Will Carter", "Jane D."
    if not words[0].isupper() and words[0].lower().strip(",.") in _SENTENCE_START:
        return False
    return not capitalised or sum(capitalised) * 2 >= len(capitalised)


def _person(line: str) -> bool:
    """A person's name on its own line: one to four capitalised words, no digits."""
    line = _ON_BEHALF.sub("", line, count=1) if line[:1] in "iIpP" else line
    words = line.split()
    if not 1 <= len(words) <= 4 or len(line) > 40 or any(char.isdigit() for char in line) or line[-1] in "?!:;,":
        return False
    return all(word[0].isupper() for word in words if word.lower() not in _PARTICLES)


def _signature_block(lines: list[str]) -> bool:
    """A name, then at most four lines of title, company or contact details."""
    filled = [line.strip() for line in lines if line.strip()]
    if not filled or len(filled) > 5 or not _person(filled[0].split("|")[0].strip()):
        return False
    return all(_name_like(line) or (len(line) <= 100 and _CONTACT.search(line)) for line in filled[1:])


def _disclaimer_at(paragraph: str) -> int | None:
    """Where, in a paragraph that is a legal disclaimer, its first trigger phrase starts; None if it is not one."""
    strong = _DISCLAIMER_STRONG.search(paragraph)
    weak = _DISCLAIMER_WEAK.search(paragraph)
    if weak and not _CONFIDENTIAL.search(paragraph):
        weak = None
    found = [match.start() for match in (strong, weak) if match]
    return min(found) if found else None
