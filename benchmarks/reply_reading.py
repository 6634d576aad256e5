"""What reading a reply costs: `Categorizer.analyse` on the same texts as new messages and as replies.

A reply read as a request is read a second time without the thread's subject (classifiers/categorize.py,
`_other_alone`); this measures the price as a ratio within one run, rounds interleaved (the machine is shared).

    python3 benchmarks/reply_reading.py [--texts 1500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import responders  # noqa: F401  (registers the routing components rules.yaml is checked against)
from classifiers.categorize import Categorizer
from classifiers.model import load_corpus
from foundation.rules import load_rules

ROOT = Path(__file__).parent.parent


def rate(categorizer: Categorizer, items: list[tuple[str, str]]) -> float:
    started = time.perf_counter()
    for subject, text in items:
        categorizer.analyse(subject, text)
    return len(items) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    categorizer = Categorizer(load_rules(ROOT / "rules.yaml"))
    new = [(subject.removeprefix("Re: ") or "Banner", text)
           for subject, text in (e.as_read() for e in load_corpus()[: args.texts])]
    replies = [("Re: " + subject, text) for subject, text in new]
    rate(categorizer, new[:300])  # warm
    rates: dict[str, list[float]] = {"new": [], "replies": []}
    for _ in range(args.rounds):
        rates["new"].append(rate(categorizer, new))
        rates["replies"].append(rate(categorizer, replies))
    fresh, reply = statistics.median(rates["new"]), statistics.median(rates["replies"])
    print(f"new messages {fresh:.0f}/s, replies {reply:.0f}/s, ratio {reply / fresh:.2f}")


if __name__ == "__main__":
    main()
