"""Acknowledgement tiers: how much an acknowledgement may say, from how sure the classifier is.

An acknowledgement tells a client "we understood you". Naming the wrong kind of request is worse
than naming none, and a reply to mail that asked for nothing is worse still. So every message gets
one of three tiers from the classifier's (calibrated) scores:

* ``specific``: the category's own acknowledgement; only when the category itself is sure;
* ``neutral``: sure it is a client request of some kind (revision, billing or progress: the summed
  probability of the three), not which: a receipt that names the subject and the account manager and
  claims nothing about what the request is;
* ``none``: no acknowledgement; the rules escalate or list it for review as they say.

The thresholds live in rules.yaml (``classifier.acknowledge``); `liaison eval` shows how right each
tier was and which thresholds would meet the targets on a labelled set.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from classifiers import Classification
from classifiers.newest_text import only_points

REQUESTS = ("revision_request", "billing_issue", "progress_query")
TIERS = ("specific", "neutral", "none")


@dataclass(frozen=True)
class Tier:
    """The acknowledgement tier of one message, and why, in words a person reads."""

    name: str  # specific, neutral, none
    reason: str


def choose_tier(classification: Classification, *, specific_at_least: float, neutral_at_least: float,
                automatic: bool = False, text: str = "") -> Tier:
    """The tier for one classification of the newest ``text`` under the thresholds of rules.yaml."""
    if automatic:
        return Tier("none", "automatic mail")
    category, confidence = classification.category, classification.confidence
    if classification.source.startswith("rule:") and category in REQUESTS and confidence >= 1.0:
        return Tier("specific", f"{category} forced by {classification.source}")
    if text and only_points(text):
        # "Please see below." over a reply: whatever it means is in the quoted mail, which the sender did not
        # write now (a forward under it would have been read with it: classifiers/newest_text.py)
        return Tier("none", "the newest text only points at the quoted mail below: nothing of its own")
    if category in REQUESTS and confidence >= specific_at_least:
        return Tier("specific", f"{category} {_shown(confidence)} >= {_shown(specific_at_least)}")
    request = classification.request_probability
    # More likely a request than not, whatever the threshold says: a receipt to mail that asked nothing is wrong.
    if request >= neutral_at_least and request > 0.5:
        return Tier("neutral", f"a request ({_shown(request)} >= {_shown(neutral_at_least)}) but "
                               f"{category} only {_shown(confidence)} < {_shown(specific_at_least)}")
    if category not in REQUESTS:
        return Tier("none", f"not a request: {category} {confidence:.2f}")
    return Tier("none", f"unsure it is a request: {_shown(request)} < {_shown(neutral_at_least)}")


def _shown(value: float) -> str:
    """Enough digits to tell a value from a threshold near 1 (0.9987 < 0.999 must not read "1.00 < 1.00")."""
    return f"{math.floor(value * 10000) / 10000:.4f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Scored:
    """One labelled message as the evaluation saw it."""

    truth: str
    classification: Classification
    text: str = ""  # the newest text it was read from


def tier_report(items: Iterable[Scored], *, specific_at_least: float, neutral_at_least: float) -> dict[str, object]:
    """tier_scores for classifications under these thresholds."""
    triples = [(item.truth, item.classification.category,
                choose_tier(item.classification, specific_at_least=specific_at_least,
                            neutral_at_least=neutral_at_least, text=item.text).name) for item in items]
    return {**tier_scores(triples),
            "thresholds": {"specific_at_least": specific_at_least, "neutral_at_least": neutral_at_least}}


def tier_scores(triples: Iterable[tuple[str, str, str]]) -> dict[str, object]:
    """Per tier, from (true category, predicted category, tier): how many messages got it and how many
    of those were right. specific is right when the category is; neutral when the message really is a
    request; none is never wrong, it only costs coverage: the share of real requests acknowledged at all."""
    counts = {tier: {"messages": 0, "right": 0} for tier in TIERS}
    requests = acknowledged = 0
    for truth, predicted, tier in triples:
        correct = {"specific": predicted == truth, "neutral": truth in REQUESTS, "none": True}[tier]
        counts[tier]["messages"] += 1
        counts[tier]["right"] += int(correct)
        if truth in REQUESTS:
            requests += 1
            acknowledged += int(tier != "none")
    report: dict[str, object] = {
        tier: {**c, "precision": round(c["right"] / c["messages"], 4) if c["messages"] else None}
        for tier, c in counts.items()}
    report["coverage"] = round(acknowledged / requests, 4) if requests else None
    report["requests_not_acknowledged"] = requests - acknowledged  # the cost of the none tier
    sent = counts["specific"]["messages"] + counts["neutral"]["messages"]
    right = counts["specific"]["right"] + counts["neutral"]["right"]
    report["acknowledged"] = sent  # specific and neutral together: every acknowledgement a client gets
    report["ack_precision"] = round(right / sent, 4) if sent else 1.0
    report["wrong_acknowledgements"] = sent - right
    return report


def fit_neutral(items: list[Scored], *, specific_at_least: float, target: float = 0.99) -> float:
    """The neutral threshold meeting `target` (the share of neutral receipts that go to real requests) on
    labelled, scored messages. The specific threshold is the calibration's (classifiers/calibration.py,
    fitted on held-out folds); the neutral one is fitted on what the specific tier leaves, all it decides."""
    rest = [s for s in items if not (s.classification.category in REQUESTS
                                     and s.classification.confidence >= specific_at_least)]
    return fit_threshold([(s.classification.request_probability, s.truth in REQUESTS) for s in rest],
                         target=target)


def fit_threshold(pairs: Iterable[tuple[float, bool]], *, target: float, floor: float = 0.5) -> float:
    """The lowest threshold whose acknowledgements above it are right at least `target` of the time.

    `pairs` are (score, right). Among thresholds at the scores seen, pick the lowest t such that the
    precision of every set {score >= t'} for t' >= t meets the target: a threshold that meets it only by
    luck at one point, with a worse stretch above, is not taken.
    """
    ranked = sorted(pairs, key=lambda p: -p[0])
    best = 1.0
    right = total = 0
    for i, (score, ok) in enumerate(ranked):
        right += int(ok)
        total += 1
        if i + 1 < len(ranked) and ranked[i + 1][0] == score:
            continue  # a threshold takes every message with the same score, right or wrong
        if right / total < target:
            break
        best = score
    return max(best, floor)
