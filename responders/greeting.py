"""Greeting: the first line of an acknowledgement, in the reply's language and tone.

A person is greeted by name ("Hi Tom,", "Dear Tom Hill,"); a team writing from a role address
(ap@, accounts@, billing@, info@ ...) or a sender without a usable name is greeted neutrally
("Hello,", "Bonjour,"), never by a word of their company's name ("Hi Ledgerly,").
"""

from __future__ import annotations

import re

#: (informal with a name, informal without one, formal with a full name, formal without one)
GREETINGS = {
    "en": ("Hi {first},", "Hello,", "Dear {full},", "Dear Sir or Madam,"),
    # formal with a name: by name, as English's "Dear Tom Hill," (blind round 24: a named German contact was greeted
    # "Sehr geehrte Damen und Herren"); gender-neutral, since the name does not say Herr or Frau
    "fr": ("Bonjour {first},", "Bonjour,", "Bonjour {full},", "Madame, Monsieur,"),
    "de": ("Hallo {first},", "Guten Tag,", "Guten Tag {full},", "Sehr geehrte Damen und Herren,"),
    "es": ("Hola {first},", "Hola,", "Estimado/a {full}:", "Estimado/a cliente:"),
    "nl": ("Hallo {first},", "Goedendag,", "Beste {full},", "Geachte heer/mevrouw,"),
}
#: Local parts (or their first word) that name a function, not a person, in the five languages.
_ROLES = """
    ap ar accounts account accounting accountspayable payable payables receivable receivables billing bills
    invoice invoices invoicing finance financial treasury payments payment pay purchasing procurement orders
    order info information contact contacts hello hi team office admin administration sales support service
    services help helpdesk marketing media press pr studio design creative hr jobs careers recruiting legal
    reception enquiries enquiry inquiries inquiry general mail post webmaster operations ops projects
    compta comptabilite facturation factures achats commandes accueil secretariat direction
    buchhaltung rechnung rechnungen rechnungswesen einkauf verwaltung zentrale empfang kontakt
    facturas factura contabilidad compras administracion pedidos
    administratie facturen factuur boekhouding inkoop crediteuren debiteuren receptie
"""
ROLE_WORDS = frozenset(_ROLES.split())
#: Titles before a name, with or without their dot ("Mrs Sarah Hill", "Dr. Tom Hill", "Mme Dubois", "Dhr. Jansen").
_TITLES = """
    mr mrs ms miss mx dr prof sir dame mme mlle m monsieur madame herr frau hr fr sr sra srta señor señora
    doña dhr mevr mw ir drs ing
"""
TITLES = frozenset(_TITLES.split())
_WORD = re.compile(r"[^a-z]+")


def is_role_address(address: str) -> bool:
    """Whether the address belongs to a function (ap@, accounts.payable@, billing-eu@) rather than a person."""
    local = address.split("@", 1)[0].lower()
    words = [w for w in _WORD.split(local) if w]
    return not words or "".join(words) in ROLE_WORDS or words[0] in ROLE_WORDS


def is_role_name(display_name: str) -> bool:
    """Whether the display name is a function's ("Accounts Payable", "Marketing Team BrewCo") not a person's."""
    words = [w for w in _WORD.split(display_name.lower()) if w]
    return bool(words) and (words[0] in ROLE_WORDS or "team" in words or "dept" in words or "department" in words)


def first_name(display_name: str, address: str) -> str:
    """'Anna' from 'Anna Berg', 'Berg, Anna' or anna.berg@...; '' for a role address or name, or nothing usable."""
    if is_role_address(address) or is_role_name(display_name):
        return ""
    name = display_name.strip().strip("'\"")
    surname_first = "," in name
    if surname_first:
        name = name.split(",", 1)[1].strip()
    words = name.split()
    titled = False
    while words and words[0].rstrip(".").lower() in TITLES:
        words, titled = words[1:], True
    if titled and len(words) < 2 and not surname_first:  # "Mr Hill": a surname is no first name
        return ""
    candidate = words[0] if words else address.split("@")[0].split(".")[0]
    candidate = candidate.strip("'\"()")
    return candidate.capitalize() if candidate.isalpha() and len(candidate) > 1 else ""


def greeting(*, language: str, tone: str, display_name: str, address: str) -> str:
    """The salutation line: by name for a person, neutral for a team or a sender with no usable name."""
    informal, neutral, formal, formal_neutral = GREETINGS.get(language, GREETINGS["en"])
    if "\ufffd" in display_name:  # a name with bytes we could not read: greet no one rather than "Dear J\ufffdrg"
        display_name = ""
    full = " ".join(display_name.strip().strip("'\"").split())
    if tone == "formal":
        person = full and "@" not in full and not is_role_address(address) and not is_role_name(full)
        return formal.format(full=full) if person else formal_neutral
    first = first_name(display_name, address)
    return informal.format(first=first) if first else neutral
