"""Link: tie a message to a client account, in a fixed order, recording the reason.

Order: thread (a reply to a message we already linked) -> contact address -> sender
domain or subdomain (most specific wins; free-mail never) -> account code in the
subject -> unlinked. Lookalike domains and impostor display names are flagged.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from foundation.freemail import FREE_MAIL
from foundation.message import normal_address, shown_address

CODE_PATTERN = re.compile(r"\[?\b([A-Z][A-Z0-9]{1,11})-(\d{1,6})\b\]?")
# Digits and signs read as the letters they stand in for. A lowercase i and l are different letters (Nell is not
# Neil); a capital I is read both as the i it is and as the l it looks like (see name_keys).
_CONFUSABLE = str.maketrans({"0": "o", "1": "l", "3": "e", "5": "s", "7": "t", "4": "a", "|": "l"})
# Letters of other scripts that render like Latin ones (Cyrillic, Greek): a domain written with them reads as
# the real one. NFKC first folds full-width and other compatibility forms.
_HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k", "м": "m",
    "н": "h", "о": "o", "р": "p", "с": "c", "ѕ": "s", "т": "t", "у": "y", "х": "x", "ԁ": "d", "ӏ": "l",
    "ԛ": "q", "ԝ": "w", "ɡ": "g", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "γ": "y", "ı": "i", "ɩ": "i", "ɑ": "a",
    "օ": "o", "ս": "u", "ո": "n", "ց": "g", "ԍ": "g", "ɒ": "a",
})
# Capitals of other scripts that render like Latin capitals, read before case folding: folded first, Greek
# Eta (H) would become eta (which reads as n) and Mu (M) mu (which reads as nothing Latin).
_CAPITALS = str.maketrans({
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "А": "A", "В": "B", "Е": "E", "З": "3", "К": "K", "М": "M",
    "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J",
    "Ӏ": "I", "Ԛ": "Q", "Ԝ": "W", "Ꭺ": "A", "Ᏼ": "B", "Ꮯ": "C", "Ꭼ": "E", "Ꮋ": "H", "Ꮶ": "K", "Ꮇ": "M",
    "Ꭲ": "T",
})
# Characters that show as nothing but are letters or marks to Unicode (so neither "Cf" nor combining): the
# combining grapheme joiner, Hangul fillers, the Mongolian vowel separator.
_INVISIBLE = dict.fromkeys(map(ord, "\u034f\u115f\u1160\u3164\uffa0\u180e\u17b4\u17b5"))
# Full stops of other scripts, read as the dot they show (IDNA reads them so too): "brewco。com".
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_NAME_SPLIT = re.compile(r"[^a-z0-9]+")
_NAME_WORDS = re.compile(r"[^\W_]+")
# Something shaped like an address inside a display name (bounded, linear).
_ADDRESS_IN_NAME = re.compile(r"[^\s<>()\[\],;:\"'@]{1,64}@(?:[^\W_]|-){1,63}(?:\.(?:[^\W_]|-){1,63})+")


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    code: str
    domains: tuple[str, ...]
    contacts: tuple[str, ...]
    account_manager: str


@dataclass
class Link:
    account_id: str | None
    reason: str  # thread, contact, domain, code, staff, unlinked
    detail: str = ""
    suspicious: str | None = None
    thread_id: int | None = None
    job_ref: str | None = None
    claimed_account: str | None = None  # the client suspicious mail imitates, when it names or copies one


@dataclass
class AccountIndex:
    """Everything linking needs, built once per run from the accounts table."""

    accounts: dict[str, Account]
    contacts: dict[str, str] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    known_names: dict[str, str] = field(default_factory=dict)  # name_key(display name) -> contact or staff address
    agency_domains: tuple[str, ...] = ()  # our own: imitated as often as a client's

    @classmethod
    def build(cls, accounts: Iterable[Account], known_names: dict[str, str] | None = None, *,
              agency_domains: Iterable[str] = ()) -> AccountIndex:
        index = cls(accounts={a.account_id: a for a in accounts},
                    agency_domains=tuple(d.lower() for d in agency_domains if d))
        for name, address in (known_names or {}).items():
            index.learn_name(name, address)
        for account in index.accounts.values():
            # An account manager's name, as "anna.berg@" shows it, is claimed like a contact's.
            staff_name = " ".join(_NAME_SPLIT.split(account.account_manager.partition("@")[0].lower()))
            if account.account_manager and " " in staff_name.strip():
                index.learn_name(staff_name, account.account_manager.lower())
            for contact in account.contacts:
                index.contacts[contact.lower()] = account.account_id
            for contact in account.contacts:  # "jane.doe@" is Jane Doe's before she ever writes
                contact_name = " ".join(_NAME_SPLIT.split(contact.partition("@")[0].lower()))
                if " " in contact_name.strip():
                    index.learn_name(contact_name, contact.lower())
            for domain in account.domains:
                index.domains[domain.lower()] = account.account_id
            if account.code:
                index.codes[account.code.upper()] = account.account_id
        return index

    def learn_name(self, name: str, address: str) -> None:
        """Remember that `name` is the display name of `address` (the first address seen under it keeps it),
        when it names a person: a role ("Accounts Payable", "Info") is many senders' name, not one's."""
        if personal_name(name):
            for key in name_keys(name):
                self.known_names.setdefault(key, address)

    def owns_sender(self, account_id: str, sender: str) -> bool:
        """Whether the sender is this account's contact or on one of its domains."""
        return self.contacts.get(sender) == account_id or self.domain_owner(domain_of(sender)) == account_id

    def domain_owner(self, domain: str) -> str | None:
        """The account owning this domain or the closest parent of it; free-mail never links."""
        if domain in FREE_MAIL:
            return None
        labels = domain.split(".")
        for start in range(len(labels) - 1):
            owner = self.domains.get(".".join(labels[start:]))
            if owner:
                return owner
        return None


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower() if "@" in address else ""


def name_key(name: str) -> str:
    """A person's name in the form names are compared in, so that however an impostor writes a known name it
    reads as that name: compatibility forms folded (full-width letters), case folded, accents and invisible
    characters dropped, Cyrillic/Greek lookalike letters read as the Latin ones they imitate (and a capital I,
    1 and | as the l they look like: "HiIl" is Hill), and its words in sorted order (so "Hill, Tom", "HILL Tom"
    and "Tom  Hill" are all "hill tom")."""
    return _sorted_words(readable(name, capital_i="l"))


def name_keys(name: str) -> tuple[str, ...]:
    """Every form a name is compared in: as it looks (name_key, a capital I as l), as it is spelled (a capital I
    as i, so "IVAN" is Ivan), and with umlauts as an address spells them ("Müller" is mueller, as in
    rene.mueller@). One key could not hold them all without making i and l, or u and ue, one letter."""
    spelled = name.translate(_UMLAUTS)
    return tuple(dict.fromkeys((name_key(name), _sorted_words(readable(name)), _sorted_words(readable(spelled)))))


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


def _sorted_words(text: str) -> str:
    return " ".join(sorted(_NAME_WORDS.findall(text.translate(_CONFUSABLE))))


def _as_shown(text: str) -> str:
    """Text with what does not show dropped and compatibility forms folded, letters otherwise as written."""
    nfkc = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_DOTS)
    return "".join(c for c in nfkc if unicodedata.category(c) != "Cf")


def readable(text: str, *, capital_i: str = "I") -> str:
    """Text as it reads, the one fold names and addresses written in display names are compared in: NFKC
    (full-width ＠ is @), lower case, accents and invisible characters dropped, other scripts' lookalike
    letters and full stops read as the Latin ones they imitate. `capital_i` is what a capital I (or another
    script's I) reads as before case folding: "l" for a name as it looks."""
    nfkc = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_CAPITALS).replace("I", capital_i)
    folded = unicodedata.normalize("NFKD", nfkc.casefold())
    # Accents and invisible format characters (a zero-width space inside "Tom") go: neither shows.
    plain = "".join(c for c in folded if not unicodedata.combining(c) and unicodedata.category(c) != "Cf")
    return plain.translate(_INVISIBLE).translate(_HOMOGLYPHS).translate(_DOTS)


#: Words of a role or a department, not of a person: a display name with one is shared by many senders.
_ROLE_TEXT = """
    accounts account payable receivable finance financial billing invoices invoice invoicing payments payment
    accounting bookkeeping team office info information admin administration marketing sales support service
    services customer customers client clients department dept helpdesk help desk hr it legal procurement
    purchasing orders order enquiries enquiry inquiries reception operations general contact noreply reply
    mail newsletter notifications notification studio agency group company hello hi the and of
"""
ROLE_WORDS = frozenset(_ROLE_TEXT.split())


def personal_name(name: str) -> bool:
    """Whether a display name names a person, so that it is worth protecting: at least two words that read
    as names, none of them a role word."""
    words = _NAME_WORDS.findall(readable(name))
    return sum(word.isalpha() and len(word) > 1 for word in words) >= 2 and not ROLE_WORDS.intersection(words)


def find_code(subject: str) -> tuple[str, str] | None:
    """The first CODE-123 reference in a subject: (code, full reference)."""
    match = CODE_PATTERN.search(subject)
    return (match.group(1), f"{match.group(1)}-{match.group(2)}") if match else None


def link_message(
    index: AccountIndex,
    *,
    sender: str,
    display_name: str,
    subject: str,
    thread_of: Callable[[], list[tuple[int, str | None]]],
    is_staff: bool,
    distrust: str = "",
    reply_to: Sequence[tuple[str, str]] = (),
) -> Link:
    """Decide the account; `thread_of` looks up the threads a reply's In-Reply-To and References lead to,
    nearest first (thread id, its account). `distrust` says why the
    sender's address itself cannot be trusted, as found outside linking (a From header naming no one sender
    plainly, a forgery our mail server found): such mail is suspicious, and is linked by no address."""
    code = find_code(subject)
    job_ref = code[1] if code else None
    # a thread of an account no longer there (`liaison accounts remove`) links no one: a former client's reply in
    # it was linked to the removed account and escalated as a suspicious stranger to it (round 23b)
    threads = [(thread_id, account if account in index.accounts else None) for thread_id, account in thread_of()]
    # A client's own address outweighs a Message-ID in its References (anyone can copy one, and mail clients
    # carry stray ones): a contact replies in its own account's thread when the References hold one, and
    # one whose References lead only to another account's thread opens a thread in its own account, as it
    # would with no References at all.
    own = None if is_staff else _link_by_sender(index, sender, None)
    thread = next((t for t in threads if own and t[1] == own.account_id), threads[0] if threads else None)
    if thread and thread[1] and not (own and own.account_id != thread[1]):
        link = Link(thread[1], "thread", f"reply in thread {thread[0]}", thread_id=thread[0], job_ref=job_ref)
    elif is_staff:
        link = Link(None, "staff", sender)
    else:
        # A thread found but not linked, or a code typed by an outsider, links the account at
        # most: the caller opens a new thread, so nobody writes into another client's conversation.
        link = _link_by_sender(index, sender, code) or Link(None, "unlinked", "no contact, domain or code")
        link.job_ref = job_ref
        if thread and thread[1]:
            link.detail += f" (a new thread: it replies under thread {thread[0]} of account {thread[1]})"
    if code and index.codes.get(code[0]) != link.account_id:
        link.job_ref = None  # not this client's job code (another's, a PO number): never confirmed to them
    if not is_staff:
        found = (link.suspicious or _impostor(index, sender, display_name) or _redirected(index, sender, reply_to)
                 or _unverified(index, sender, link))
        link.suspicious = "; ".join(filter(None, [found, distrust])) or None
        if link.suspicious:  # the client its sender or name imitates first: a job code anyone can copy (22c)
            link.claimed_account = _imitated_account(index, sender, display_name) or link.account_id
        if link.suspicious and link.reason not in ("thread", "code"):
            link.account_id, link.reason = None, "unlinked"
            link.detail = f"suspicious: {link.suspicious}"
    return link


def _imitated_account(index: AccountIndex, sender: str, display_name: str) -> str | None:
    """The account whose contact or domain suspicious mail shows or copies: its name's address, a contact its
    name claims, the domain its own imitates."""
    shown = _address_in_name(index, display_name, sender) or _address_in_name(index, sender.rpartition("@")[0],
                                                                               sender)
    claimed = shown or _claimed_contact(index, display_name)
    if claimed:
        return index.contacts.get(claimed) or index.domain_owner(domain_of(claimed))
    imitated = lookalike_of(domain_of(sender), list(index.domains))
    return index.domain_owner(imitated) if imitated else None


def _redirected(index: AccountIndex, sender: str, reply_to: Sequence[tuple[str, str]]) -> str | None:
    """A Reply-To at a domain imitating a client's or ours, or one whose name shows a client's or our address over
    another: whoever answers writes to an impostor (business email compromise: the client's own From, "our bank has
    changed", replies to bluefin-sai1ing.co.uk, or to "tom@brewco.com" <tom.brewco@gmail.com>; blind round 26)."""
    for name, address in reply_to:
        shown = _address_in_name(index, name, address)
        if shown and _known_party(index, normal_address(shown)):
            return f"Reply-To {shown_address(address)} is named {shown}"
        domain = domain_of(address)
        if domain == domain_of(sender) or index.domain_owner(domain) or domain in FREE_MAIL:
            continue
        imitated = lookalike_of(domain, [*index.domains, *index.agency_domains])
        if imitated:
            return f"Reply-To {shown_address(address)}: domain {domain} imitates {imitated}"
    return None


def _known_party(index: AccountIndex, address: str) -> bool:
    """A client's contact, an address at a client's domain, or ours."""
    domain = domain_of(address)
    return bool(index.contacts.get(address) or index.domain_owner(domain)
                or registrable_domain(domain) in {registrable_domain(d) for d in index.agency_domains})


def _unverified(index: AccountIndex, sender: str, link: Link) -> str | None:
    """A stranger linked only by what anyone can copy (a job code, a Message-ID to reply to) is kept with the
    account, for its account manager to judge, but never answered on the account's behalf: a 'new bank
    details' request must not get the client's acknowledgement, nor close or join its thread unnoticed."""
    if link.reason not in ("thread", "code") or link.account_id is None:
        return None
    if index.contacts.get(sender) == link.account_id or index.domain_owner(domain_of(sender)) == link.account_id:
        return None
    how = "a reply to one of its threads" if link.reason == "thread" else "a job code in the subject"
    return f"{sender} is not a known contact of this account, linked only by {how}"


def _link_by_sender(index: AccountIndex, sender: str, code: tuple[str, str] | None) -> Link | None:
    if sender in index.contacts:
        return Link(index.contacts[sender], "contact", sender)
    domain = domain_of(sender)
    owner = index.domain_owner(domain)
    if owner:
        return Link(owner, "domain", domain)
    if code and code[0] in index.codes:
        return Link(index.codes[code[0]], "code", f"{code[1]} from a sender outside the account")
    return None


def _impostor(index: AccountIndex, sender: str, display_name: str) -> str | None:
    """A display name showing another address, a lookalike domain, or a name claiming a known contact."""
    shown = _address_in_name(index, display_name, sender)
    if shown:
        # Mail clients show the name, not the address: "tom@brewco.com <x@evil.example>" reads as Tom.
        return f"display name {display_name!r} shows {shown}, but the mail is from {shown_address(sender)}"
    # A quoted local part is read too: "tom.hill@brewco.com"@evil.example shows the client's address first.
    hidden = _address_in_name(index, sender.rpartition("@")[0], sender)
    if hidden:
        return f"the address {shown_address(sender)} shows {hidden} before its real domain"
    domain = domain_of(sender)
    if sender in index.contacts:
        return None
    owned = index.domain_owner(domain) is not None
    imitated = None if owned or domain in FREE_MAIL else lookalike_of(domain, [*index.domains,
                                                                           *index.agency_domains])
    if imitated:
        return f"domain {domain} imitates {imitated}"
    ours = registrable_domain(domain) in {registrable_domain(d) for d in index.agency_domains}
    brand = None if owned or ours else _claimed_service(display_name, domain)
    if brand:
        return f"display name {display_name!r} claims {brand}, but the mail is from {domain}"
    # At a client's own domain a colleague may share a name with a listed contact there; a name of another
    # client's contact, or of our staff, is a claim all the same.
    claimed = None if _relayed_by_a_service(domain) else _claimed_contact(index, display_name)
    if claimed and claimed != sender and not (owned and _same_party(index, claimed, sender)):
        return f"display name {display_name!r} claims {claimed}"
    return None


def _address_in_name(index: AccountIndex, display_name: str, sender: str) -> str | None:
    """An address written in the display name that claims someone else: one at another party than the sender's
    own (its domain, its account's domains and listed contacts: "Ali Khan (sales@khantex.com)" from
    ali.khan@khantex.com is the client's). Read as it shows (a full-width ＠, a zero-width space,
    "brewco。com") and compared in the one form accounts and senders are (IDNA), so that hans@müller-bau.de is
    the sender hans@xn--mller-bau-q9a.de's own, and one with a lookalike letter (a Cyrillic е) is not."""
    for found in _ADDRESS_IN_NAME.findall(_as_shown(display_name[:2000])):
        if not _same_party(index, normal_address(found), normal_address(sender)):
            return found
    return None


def _same_party(index: AccountIndex, shown: str, sender: str) -> bool:
    """Whether an address shown in a display name is the sender's own side: the sender itself, another address
    at the sender's (not free-mail) domain, or an address of the account the sender belongs to."""
    domain = domain_of(sender)
    if shown == sender or (domain_of(shown) == domain and domain not in FREE_MAIL):
        return True
    owner = index.contacts.get(sender) or index.domain_owner(domain)
    return owner is not None and (index.contacts.get(shown) or index.domain_owner(domain_of(shown))) == owner


# Services whose name phishing puts in the display name ("Microsoft 365 Security" <it@m365-mailbox-verify.com>),
# with the registered domains their own mail comes from. Only names that are the service, never a plain word
# (Apple, Amazon, Zoom name bakeries and agencies too).
_SERVICES: dict[str, tuple[str, ...]] = {
    "Microsoft": ("microsoft.com", "microsoftonline.com", "office.com", "office365.com", "outlook.com",
                  "sharepointonline.com", "onmicrosoft.com", "live.com", "microsoft365.com", "azure.com"),
    "Google": ("google.com", "gmail.com", "googlemail.com", "youtube.com"),
    "Apple": ("apple.com", "icloud.com", "me.com"),
    "DocuSign": ("docusign.com", "docusign.net"),
    "PayPal": ("paypal.com", "paypal.co.uk", "paypal.de", "paypal.fr", "paypal.nl", "paypal.es", "paypal.it"),
    "Dropbox": ("dropbox.com", "dropboxmail.com", "hellosign.com"),
    "WeTransfer": ("wetransfer.com",),
    "Adobe": ("adobe.com", "adobesign.com", "echosign.com"),
}
# "Outlook" alone is a plain word ("Outlook Travel", "Outlook Media Group"); with a word of account mail after it
# ("Outlook Team", "Outlook Security") it is Microsoft's.
_SERVICE_NAMES = re.compile(r"\b(?:(microsoft|office\s?365|m365|o365|outlook(?=[\s-]+(?:team|support|security|account|"
                            r"web\s?app|mail|365|admin|services?|verification|alerts?|notifications?|help\s?desk)\b)|"
                            r"onedrive|sharepoint|exchange online)|"
                            r"(google workspace|gmail|google drive|google docs)|(icloud|apple id|apple support)|"
                            r"(docusign)|(paypal)|(dropbox)|(wetransfer)|(adobe sign|adobe acrobat|adobe document))\b")


# Service names written in two words, as phishing spells them to slip past a match on the one word.
_SPLIT_SERVICES = re.compile(r"\b(pay|drop|we|docu|one|share|micro|out|i) (pal|box|transfer|sign|drive|point|soft|look|"
                             r"cloud)\b")


def _joined(text: str) -> str:
    return _SPLIT_SERVICES.sub(lambda m: m.group(1) + m.group(2), text)


def _as_it_looks(name: str) -> str:
    """A name as it looks: a capital I read as l, and digits inside words as the letters they stand in for
    ("Micr0soft"); figures on their own stay figures ("Office 365")."""
    return re.sub(r"\w+", lambda m: m.group(0).translate(_CONFUSABLE) if any(c.isalpha() for c in m.group(0))
                  else m.group(0), readable(name, capital_i="l"))


def _relayed_by_a_service(domain: str) -> bool:
    """Mail a service sends in a person's name from its own domain ("Tom Hill via DocuSign"
    <dse@docusign.net>, "Tom Hill (Google Docs)" <comments-noreply@docs.google.com>): the name is whose
    account it is, not a claim to be their address. Not free mail: anyone's Gmail can be called Tom Hill."""
    registered = registrable_domain(domain)
    return domain not in FREE_MAIL and registered not in FREE_MAIL and any(
        registered in domains for domains in _SERVICES.values())


def _claimed_service(display_name: str, domain: str) -> str | None:
    """The service a display name claims to be, when the mail does not come from its domains."""
    name = display_name[:500]
    # As it reads, and as it looks: "PayPaI" (a capital I), "Micr0soft", "0ffice 365" (a zero), "Pay Pal"
    found = _SERVICE_NAMES.search(_joined(readable(name))) or _SERVICE_NAMES.search(_joined(_as_it_looks(name)))
    # the group that matched names the service
    service = list(_SERVICES)[(found.lastindex or 1) - 1] if found else _near_a_service(_as_it_looks(name), domain)
    # A service's free-mail domain is anyone's: "Google" <kate.harris@gmail.com> is no mail from Google.
    own = registrable_domain(domain) in _SERVICES.get(service or "", ()) and registrable_domain(domain) not in FREE_MAIL
    return None if service is None or own else service


# Service names of six letters or more and a word one edit from them (a letter changed, added, dropped or two
# swapped: "DocuSiqn", "Mircosoft", "PayPall", "Gogle"), also when split ("Micro-soft", "Docu.Sign", "G o o g l e")
# or with "vv" for "w". Not shorter names (Apple, Adobe name bakeries and print shops), not "Outlook" (a word),
# and not a business's own name at its own domain ("Paypalm Juices" <hello@paypalm.com>, "Goggle Optics" <info@
# goggleoptics.com>).
_LONG_SERVICE_WORDS = {"microsoft": "Microsoft", "onedrive": "Microsoft", "sharepoint": "Microsoft",
                       "docusign": "DocuSign", "dropbox": "Dropbox", "wetransfer": "WeTransfer", "paypal": "PayPal",
                       "google": "Google"}


def _near_a_service(name: str, domain: str) -> str | None:
    words = re.findall(r"[a-z0-9]+", name.lower().replace("vv", "w").replace("rn", "m"))  # "rnicrosoft"
    own = registrable_domain(domain).split(".")[0]
    if "".join(words) == own:  # "Goggle Optics" <info@goggleoptics.com>: the business's own name
        return None
    for candidate in _name_candidates(words):
        if candidate == own:
            continue
        for service_word, service in _LONG_SERVICE_WORDS.items():
            if _within_one_edit(candidate, service_word):
                return service
    return None


def _name_candidates(words: list[str]) -> list[str]:
    """Each word, each two neighbours joined, and each run of single letters joined ("g o o g l e")."""
    joined = [first + second for first, second in itertools.pairwise(words)]
    letters = [" ".join(run) for run in re.findall(r"(?:\b[a-z]\b ?){4,}", " ".join(words))]
    return words + joined + [run.replace(" ", "") for run in letters]


def _within_one_edit(word: str, target: str) -> bool:
    """Damerau-Levenshtein distance at most 1."""
    if abs(len(word) - len(target)) > 1:
        return False
    if len(word) == len(target):
        differing = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        return len(differing) <= 1 or (len(differing) == 2 and differing[1] == differing[0] + 1
                                       and word[differing[0]] == target[differing[1]]
                                       and word[differing[1]] == target[differing[0]])
    shorter, longer = sorted((word, target), key=len)
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


#: Most words of a display name looked at for a known name inside it ("Mr Tom Hill (BrewCo)").
_MAX_NAME_WORDS = 12
_MAX_KNOWN_WORDS = 4


def _claimed_contact(index: AccountIndex, display_name: str) -> str | None:
    name = display_name.strip().strip("'\"").lower()
    if not name:
        return None
    for contact in index.contacts:
        if contact in name:
            return contact
    # A known full name among more words claims it too: "Mr Tom Hill", "Tom J. Hill", "Mark Lee (Agency)".
    for key in name_keys(display_name):  # its capitals as written (Greek Eta is H)
        words = key.split()[:_MAX_NAME_WORDS]
        for size in range(len(words), 1, -1):
            if size > _MAX_KNOWN_WORDS and size != len(words):
                continue
            for part in itertools.combinations(words, size):  # the words are sorted, and so is each part
                claimed = index.known_names.get(" ".join(part))
                if claimed:
                    return claimed
    return None


def lookalike_of(domain: str, known: Iterable[str]) -> str | None:
    """The known domain this one imitates (typo, swapped letters, digits for letters, extra words)."""
    if not domain:
        return None
    written, domain = domain.lower(), _unicode_skeleton(domain)
    name = _registrable_name(domain)
    skeleton = name.translate(_CONFUSABLE).replace("rn", "m").replace("vv", "w")
    for real in known:
        if written == real or written.endswith("." + real):
            continue  # the domain itself or its own subdomain (mail.brewco.com)
        if f".{_unicode_skeleton(real)}." in f".{domain}.":
            return real  # the real domain as leading labels of another: brewco.com.evil.example
        real_name = _registrable_name(_unicode_skeleton(real))
        if len(real_name) < 4:
            continue
        real_skeleton = real_name.translate(_CONFUSABLE).replace("rn", "m").replace("vv", "w")
        if name == real_name or skeleton == real_skeleton:
            return real  # same name under another TLD, or digits/letters swapped
        if _edit_distance(name, real_name, limit=2) <= (1 if len(real_name) < 6 else 2):
            return real
        if real_name in _NAME_SPLIT.split(name) or (len(real_name) >= 5 and real_name in name):
            return real  # extra words around the real name: brewco-invoices.net
    return None


def _unicode_skeleton(domain: str) -> str:
    """The domain as it reads: punycode labels decoded, compatibility forms folded, Cyrillic and Greek
    lookalike letters mapped to the Latin ones they imitate (xn--brewc-3ve.com and brewcо.com -> brewco.com)."""
    labels = []
    for label in domain.lower().split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):  # not valid punycode: compared as written
                label = label[4:].encode("ascii").decode("punycode")
        labels.append(unicodedata.normalize("NFKC", label).lower().translate(_HOMOGLYPHS))
    return ".".join(labels)


def registrable_domain(domain: str) -> str:
    """The domain one owner registered: 'brewco.co.uk' for mail.brewco.co.uk, 'brewco.com' for eu.brewco.com.

    An approximation without the public-suffix list (nothing is downloaded): the last two labels, or three
    when the second-level label is co/com/org/net/ac/gov under a two-letter country code."""
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) >= 3 and labels[-2] in ("co", "com", "org", "net", "ac", "gov") and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _registrable_name(domain: str) -> str:
    """The label that carries the brand: 'brewco' for mail.brewco.co.uk."""
    return registrable_domain(domain).split(".")[0]


def _edit_distance(a: str, b: str, *, limit: int) -> int:
    """Damerau-Levenshtein (adjacent swaps count once), stopping early past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current.append(value)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
