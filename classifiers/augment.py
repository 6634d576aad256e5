"""Training-time augmentation: the ways real mail differs from the corpus, applied reproducibly.

Each kind makes one variant of a corpus body; the model is trained on what newest_text leaves
of the variant (as in production), so a signature newest_text cuts teaches nothing, and one it
leaves in teaches the model to look past it. `kept_share` measures which is which.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable

# Signatures and disclaimers full of billing and progress vocabulary: the words they carry must
# not decide the category of the request above them.
SIGNATURES = (
    "Best regards,\nSam Lee\nFinance & Billing Manager | Invoices: ap@client.example | Payment queries: 0800 123 456",
    "Thanks\nPriya\n--\nAccounts Payable | Purchase orders & remittance advice: finance@client.example",
    "Cheers,\nTom\nTom Hill | Head of Marketing\nStatus updates: status.client.example | VAT no. GB123456789",
    "Kind regards\nMarta Nowak\nProject Manager - Delivery & Timelines\nT: +44 20 7946 0000",
    "Sent from my iPhone",
    "Regards,\nDev\nCredit Control | Overdue accounts | Refunds & credit notes",
    "Mit freundlichen Grüßen\nJonas Weber\nBuchhaltung / Rechnungswesen | rechnung@client.example",
    "Cordialement,\nClaire Martin\nService comptabilité - factures et paiements",
    # no valediction: styles newest_text leaves in today
    "Sam Lee | Finance & Billing Manager | Invoices: ap@client.example | Payment queries: 0800 123 456",
    "Sam\nFinance & Billing Manager\nInvoices and payment queries: ap@client.example",
    "Thanks - Sam (Accounts Payable: purchase orders & remittance advice to finance@client.example)",
    "Registered in England No. 01234567. VAT GB123456789. Payment terms 30 days from invoice.",
    "Jo Park - Delivery Lead - project status and timelines: pm@client.example",
)
DISCLAIMERS = (
    "This email and any attachments are confidential and intended solely for the addressee. Invoices and "
    "payment instructions received by email must be verified by phone before any payment is made.",
    "Client Car Sales Ltd is authorised and regulated by the Financial Conduct Authority. We are a credit broker, "
    "not a lender; finance is subject to status and affordability. Any refund or charge is subject to terms.",
    "CONFIDENTIALITY NOTICE: the information in this message may be privileged. If you have received it in error, "
    "please notify the sender. We will never change our bank details by email; check any invoice status by phone.",
    "Disclaimer: any quote, estimate, timeline or delivery date mentioned is indicative and subject to contract.",
    # without the words newest_text looks for
    "Client Car Sales Ltd is authorised and regulated by the Financial Conduct Authority. We are a credit broker, "
    "not a lender; finance is subject to status and affordability.",
    "Please note: we will never change our bank details by email. Check any invoice or payment status with our "
    "accounts team by phone.",
    "Any quote, estimate, timeline or delivery date mentioned is indicative and subject to contract.",
)
ATTRIBUTIONS = (
    "On Mon, 9 Nov 2026 at 10:02, Anna Berg <anna.berg@agency.example> wrote:",
    "Le mar. 10 nov. 2026 à 14:30, Omar Haddad <omar@agency.example> a écrit :",
    "Am 11.11.2026 um 09:15 schrieb Ines Duarte <ines@agency.example>:",
)
# A thank-you or a pleasantry about something else, written before the request: alone they are `other`, and a
# bag of words read them as the message's kind ("Thanks for your help! Can you resend invoice 4471?" was
# `other` 0.77). Some name another kind's topic, so the topic must not decide either.
COURTESIES = (
    "Thanks for your help!", "Thank you so much!", "Great, thanks!", "Thanks, the invoice is right now.",
    "Love the new banners, thank you!", "Thanks for the quick turnaround last week.", "Perfect, thanks a lot.",
    "Thanks again for yesterday.", "Hope you had a good weekend!", "The video looks great, well done!",
    "Merci pour votre aide !", "Danke für die schnelle Antwort!", "¡Gracias por todo!",
    "Bedankt voor de snelle reactie!", "Grazie mille per l'aiuto!", "Obrigado pela ajuda!", "Tack för hjälpen!",
    "Takk for sist!",
)
_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}¿¡«»“”‘’…–—]")


def typos(body: str, rng: random.Random) -> str:
    """Swap, drop or double a letter in about one word of eight."""
    words = body.split(" ")
    for index, word in enumerate(words):
        if len(word) > 3 and word.isalpha() and rng.random() < 0.12:
            at = rng.randrange(1, len(word) - 1)
            kind = rng.randrange(3)
            if kind == 0:
                word = word[:at] + word[at + 1] + word[at] + word[at + 2:]
            elif kind == 1:
                word = word[:at] + word[at + 1:]
            else:
                word = word[:at] + word[at] + word[at:]
            words[index] = word
    return " ".join(words)


def terse(body: str, rng: random.Random) -> str:
    """A lower-case mobile reply with no punctuation."""
    return re.sub(r"[ \t]+", " ", _PUNCTUATION.sub(" ", body.lower())).strip()


def signature(body: str, rng: random.Random) -> str:
    return f"{body}\n\n{rng.choice(SIGNATURES)}"


def disclaimer(body: str, rng: random.Random) -> str:
    return f"{body}\n\n{rng.choice(SIGNATURES)}\n\n{rng.choice(DISCLAIMERS)}"


def courtesy(body: str, rng: random.Random) -> str:
    """A courtesy sentence first (after the greeting, when there is one), the request after it: the request
    still decides."""
    lines = body.split("\n")
    opening = rng.choice(COURTESIES)
    first = lines[0].strip()
    if len(first) <= 40 and first.endswith(","):  # "Hi Anna,"
        return "\n".join([lines[0], "", opening, *lines[1:]])
    return f"{opening} {body}" if rng.random() < 0.5 else f"{opening}\n\n{body}"


KINDS: dict[str, Callable[[str, random.Random], str]] = {
    "typos": typos, "terse": terse, "signature": signature, "disclaimer": disclaimer, "courtesy": courtesy,
}


def quoted(body: str, other_body: str, rng: random.Random) -> str:
    """The body as a reply above quoted history of another class, in one of the styles clients send."""
    style = rng.randrange(3)
    if style == 0:
        history = "\n".join("> " + line for line in other_body.split("\n"))
        return f"{body}\n\n{rng.choice(ATTRIBUTIONS)}\n{history}"
    if style == 1:  # an attribution without a date: newest_text keeps what follows today
        return f"{body}\n\nAnna Berg wrote:\n{other_body}"
    return f"{body}\n\n________________________________\nFrom: Anna Berg\n{other_body}"


def variants(items: list[tuple[str, str, str]], *, seed: int, per_item: int = 1) -> list[tuple[str, str, str]]:
    """`per_item` augmented copies of each (subject, body, label), the kind drawn per copy; reproducible by seed."""
    rng = random.Random(seed)
    by_label: dict[str, list[str]] = {}
    for _, body, label in items:
        by_label.setdefault(label, []).append(body)
    kinds = [*KINDS, "quoted"]
    out = []
    for subject, body, label in items:
        for _ in range(per_item):
            kind = rng.choice(kinds)
            if kind == "quoted":
                other = rng.choice([lb for lb in sorted(by_label) if lb != label])
                out.append((subject, quoted(body, rng.choice(by_label[other]), rng), label))
            else:
                out.append((subject, KINDS[kind](body, rng), label))
    return out


def kept_share(bodies: list[str], *, seed: int) -> dict[str, float]:
    """Per kind, the share of the added text (signature, disclaimer, quote) that newest_text leaves in."""
    from classifiers.newest_text import newest_text

    rng = random.Random(seed)
    result = {}
    for kind in ("signature", "disclaimer"):
        added = kept = 0
        for body in bodies:
            base = newest_text(body)
            made = newest_text(KINDS[kind](body, rng))
            added += 1
            kept += len(made) > len(base) + 5
        result[kind] = round(kept / max(added, 1), 3)
    added = kept = 0
    for number, body in enumerate(bodies):
        other = bodies[(number * 7 + 3) % len(bodies)]
        made = newest_text(quoted(body, other, rng))
        added += 1
        kept += len(made) > len(newest_text(body)) + 5
    result["quoted"] = round(kept / max(added, 1), 3)
    return result
