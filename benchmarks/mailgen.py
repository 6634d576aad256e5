"""Realistic benchmark mail: varied clients, categories, replies, signatures and attachment sizes.

Deterministic for a seed, so every run measures the same messages.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

CLIENTS = [("brewco.com", "BrewCo"), ("northbank.co.uk", "North Bank"), ("lumen.com", "Lumen"),
           ("verde.fr", "Verde"), ("stadtmuseum.de", "Stadtmuseum"), ("kite-saas.io", "Kite")]
NAMES = ["Tom Hill", "Ana Ruiz", "Jan de Vries", "Claire Martin", "Priya Shah", "Lukas Weber", "Sam Okafor"]
OPENERS = ["Hi team,", "Hello,", "Hi Anna,", "Morning!", "Dear all,", ""]
REQUESTS = [
    "Could you change the headline on the summer banner to 'Fresh every day'? The current one feels flat.",
    "Please swap the hero image on the landing page for the blue version we sent on Monday.",
    "The logo on the brochure cover needs to be about 20% bigger, and move the tagline under it.",
    "Invoice {inv} shows {amt} but the agreed quote was lower. Can you send a corrected invoice?",
    "We were invoiced twice for the October retainer ({inv}). Please cancel one of them.",
    "Our PO number for the Q4 campaign is 4500{po}; it is missing from invoice {inv}.",
    "Any news on the explainer video? The board wants to see a first cut on Friday.",
    "Where are we with the social posts for the launch? We haven't seen drafts yet.",
    "Is the revised logo ready? We need it for the print deadline.",
    "Thanks for the great workshop yesterday, the team loved it.",
    "Can we move Thursday's call to 3pm? Something came up.",
    "Approved, please go ahead and print.",
]
SIGNATURE = "\n\nBest regards,\n{name}\nMarketing Manager | {company}\n+44 20 7946 0{tel}\n"
DISCLAIMER = ("\n\nThis email and any attachments are confidential and intended solely for the addressee. If you are "
              "not the intended recipient, please notify the sender and delete it.\n")
QUOTE = ("\n\nOn Mon, 16 Nov 2026 at 10:02, Anna Berg <anna.berg@agency.example> wrote:\n"
         "> Hi, please find the latest version attached.\n> Let us know what you think.\n> Best, Anna\n")


def messages(count: int, *, seed: int = 7, attachment_share: float = 0.1, big: int = 0) -> list[bytes]:
    """`count` messages; a share with attachments of 20-400 KB; `big` messages with a 30 MB attachment."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    out = []
    for i in range(count):
        domain, company = rng.choice(CLIENTS)
        name = rng.choice(NAMES)
        text = rng.choice(OPENERS) + "\n\n" + rng.choice(REQUESTS).format(
            inv=f"INV-{rng.randint(1000, 9999)}", amt=f"€{rng.randint(1, 30)},{rng.randint(100, 999)}.00",
            po=rng.randint(100000, 999999))
        text += SIGNATURE.format(name=name, company=company, tel=rng.randint(100, 999))
        if rng.random() < 0.4:
            text += DISCLAIMER
        if rng.random() < 0.5:
            text += QUOTE
        message = EmailMessage(policy=SMTP)
        message["From"] = f"{name} <{name.split()[0].lower()}{i}@{domain}>"
        message["To"] = "accounts@agency.example"
        message["Subject"] = rng.choice(["Banner", "Invoice", "Video", "Re: Launch", "Quick question", "Logo"])
        message["Date"] = format_datetime(start + timedelta(seconds=37 * i))
        message["Message-ID"] = make_msgid(idstring=f"bench{i}", domain=domain)
        message["Received"] = f"from mail.{domain} (mail.{domain} [192.0.2.{i % 250}]) by mx.agency.example"
        message.set_content(text)
        if rng.random() < 0.3:
            message.add_alternative(f"<html><body><p>{text.replace(chr(10), '<br>')}</p></body></html>",
                                    subtype="html")
        if rng.random() < attachment_share:
            size = rng.randint(20, 400) * 1024
            message.add_attachment(rng.randbytes(size), maintype="application", subtype="pdf",
                                   filename=f"proof-{i}.pdf")
        out.append(message.as_bytes())
    for j in range(big):
        out.insert(len(out) // 2, big_message(j))
    return out


def big_message(index: int = 0) -> bytes:
    """A client's short request with a 30 MB video attached (random bytes: they do not compress)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = "Tom Hill <tom@brewco.com>"
    message["To"] = "accounts@agency.example"
    message["Subject"] = "New hero video (30 MB)"
    message["Message-ID"] = make_msgid(idstring=f"big{index}", domain="brewco.com")
    message.set_content("Please swap the hero video on the landing page for the attached one.")
    message.add_attachment(random.Random(index).randbytes(30 * 1024 * 1024), maintype="video", subtype="mp4",
                           filename="hero.mp4")
    return message.as_bytes()
