"""Courtesy only: thanks, praise or approval with nothing asked is `other`, whatever the thread's subject says."""

from __future__ import annotations

import pytest

import responders  # noqa: F401  (registers the routing components rules.yaml is checked against)
from classifiers.categorize import Categorizer
from classifiers.courtesy import only_courtesy
from foundation.rules import load_rules
from tests.test_threads import ROOT, acks, run_once, settings, thread_of  # noqa: F401  (settings: a fixture)

THANKS = ["Thanks Tom, that's perfect!", "Thank you, looks great.", "Thanks, all sorted now.", "Great, thank you!",
          "Brilliant, thanks", "perfect thx", "Approved, go ahead. Thanks!", "Many thanks for sorting this so quickly.",
          "Merci beaucoup !", "Vielen Dank, passt so.", "Thanks for the update, much appreciated.",
          "Hi Tom,\n\nThanks!\n\nAnn", "Cheers 👍", "Thank you so much :)", "Ok thanks", "Thanks, Ann",
          "Great stuff, thanks guys!\n\nBest,\nSarah", "Muchas gracias", "Bedankt!", "yep that's the one, thanks",
          # blind round 26b
          "Thank you! Have a lovely weekend.", "ありがとうございます！", "谢谢！", "감사합니다.",
          "Danke, passt so. Freigegeben.",
          # blind round 26c
          "Danke schön, schönes Wochenende!", "Gracias, todo perfecto.", "Спасибо большое!",
          "Looks good to us — approved.", "Bon pour accord.", "Goedgekeurd, ga je gang.", "OK to print",
          "Signed off from our side.", "LGTM, ship it."]
ASKS = ["Thanks. The invoice is still wrong.", "Great, but can you make the logo bigger", "Perfect. Now the banner.",
        "Thanks, please send the invoice", "Thanks! Any news on the video?", "thanks - when will it be ready",
        "Great, can we also swap the hero image", "Thanks for the invoice, we'll pay it Friday",
        "Not great, the colours are off", "Thanks but the amount is wrong", "Ok but we need it by Friday",
        "Perfect except the logo", "Good morning, status please", "Thanks, still waiting on the credit note",
        "thanks please send it", "Hola Andrés,", "Thanks Tom, the PO is 4471 not 4417", "Merci, mais le logo est flou",
        "Danke, aber die Rechnung stimmt nicht", "Have a good weekend, can you send the file?",
        "ありがとうございます。修正をお願いします。", "これでお願いします？",
        "Not approved - the logo is still the old one.", "Is this approved by legal yet?",
        "We have not approved the copy yet.", "Approved, but please fix the typo"]


@pytest.mark.parametrize("text", THANKS)
def test_thanks_praise_and_approval_alone_are_courtesy(text):
    assert only_courtesy(text)


@pytest.mark.parametrize("text", ASKS)
def test_anything_asked_or_said_besides_is_not(text):
    assert not only_courtesy(text)


@pytest.fixture(scope="module")
def categorizer():
    return Categorizer(load_rules(ROOT / "rules.yaml"))


@pytest.mark.parametrize(("subject", "text"), [
    ("Re: Any news on the video?", "Brilliant, thanks"),  # read as progress 0.99 and acknowledged (specific)
    ("Re: Please swap the hero image", "perfect thx"),  # revision 0.93
    ("RE: Duplicate invoice", "Many thanks for sorting this so quickly."),  # a phrase rule on the subject: billing
    ("Re: Can you change the logo colour?", "Merci beaucoup !"),
])
def test_a_thanks_under_a_requests_subject_is_other_and_never_acknowledged(categorizer, subject, text):
    """Blind round 25: a client's thanks after the manager's reply was read by its subject's words as a request."""
    verdict = categorizer.analyse(subject, text).verdict
    assert (verdict.classification.category, verdict.tier.name, verdict.needs_review) == ("other", "none", False)
    assert verdict.classification.source == "courtesy"


def test_a_request_with_a_thanks_is_still_read_by_the_model(categorizer):
    verdict = categorizer.analyse("Banner", "Thanks! Could you make the logo on the banner bigger please?").verdict
    assert verdict.classification.category == "revision_request"


def test_a_thanks_after_the_managers_reply_neither_reopens_the_thread_nor_reaches_anyone(
        settings, dovecot, smtp_server, make_message):  # noqa: F811
    dovecot.append(make_message(sender="tom@brewco.com", subject="Any news on the video?",
                                message_id="<v1@brewco.com>", body="Hi, any news on the launch video? Tom"))
    run_once(settings)
    dovecot.append(make_message(sender="anna@agency.example", subject="Re: Any news on the video?",
                                in_reply_to="<v1@brewco.com>", message_id="<v2@agency.example>",
                                body="Hi Tom, the first cut goes out on Friday. Anna"))
    run_once(settings)
    sent = len(smtp_server.parsed())
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Any news on the video?",
                                in_reply_to="<v2@agency.example>", message_id="<v3@brewco.com>",
                                body="Brilliant, thanks Anna!"))
    store = run_once(settings)
    assert len(smtp_server.parsed()) == sent  # no receipt, no escalation
    assert thread_of(store, "<v3@brewco.com>")["status"] == "handled"
    assert store.one("SELECT category, is_chaser FROM messages WHERE message_id = '<v3@brewco.com>'") == {
        "category": "other", "is_chaser": 0}


def test_an_approval_alone_still_reaches_the_account_manager(settings, dovecot, smtp_server, make_message):  # noqa: F811
    """Blind round 26b: read as courtesy, "Approved, go ahead." lost its approval, and the sign-off rule (which tells
    the manager the work may go ahead) no longer heard of it."""
    dovecot.append(make_message(sender="tom@brewco.com", subject="Poster", message_id="<s1@brewco.com>",
                                body="Please change the poster headline to 'Brewed for May'."))
    run_once(settings)
    sent = len(smtp_server.parsed())
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Poster", in_reply_to="<s1@brewco.com>",
                                message_id="<s2@brewco.com>", body="Approved, go ahead."))
    store = run_once(settings)
    (told,) = smtp_server.parsed()[sent:]
    assert str(told["To"]) == "anna@agency.example" and told["Auto-Submitted"] == "auto-generated"
    assert str(told["Subject"]).startswith("[Liaison] Sign-off: BrewCo - "), told["Subject"]  # round 26c: "Other"
    assert "sign-off" in store.one("SELECT route FROM messages WHERE message_id = '<s2@brewco.com>'")["route"]


@pytest.mark.parametrize(("subject", "text"), [
    ("Re: Any news on the video?", "Legend, thanks heaps! Showing it to the board tonight."),
])
def test_a_reply_whose_words_alone_are_surely_other_is_not_read_by_its_subject(categorizer, subject, text):
    """Blind set M (first look): "Legend, thanks heaps! ..." under "Re: Any news on the video?" was a progress query
    0.97, the subject deciding for words the courtesy lexicon does not know. A reply surely other alone stays other."""
    assert not only_courtesy(text)
    verdict = categorizer.analyse(subject, text).verdict
    assert (verdict.classification.category, verdict.tier.name) == ("other", "none")
    assert "a reply read without the thread's subject" in verdict.classification.reasons


@pytest.mark.parametrize(("subject", "text", "category"), [
    ("Re: Banner copy", "one more thing - make the logo bigger", "revision_request"),  # a request alone: as before
    ("Re: Any news on the video?", "", "progress_query"),  # nothing of its own: the subject is what it says
    ("Any news on the video?", "Legend, thanks heaps! Showing it to the board tonight.", None),  # not a reply
])
def test_a_reply_that_asks_or_says_nothing_and_a_new_message_are_read_with_their_subject(categorizer, subject, text,
                                                                                        category):
    verdict = categorizer.analyse(subject, text).verdict
    assert category is None or verdict.classification.category == category
    assert "a reply read without the thread's subject" not in verdict.classification.reasons
