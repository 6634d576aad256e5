"""Why classifiers/newest_text.py is our own code: a side-by-side with the maintained libraries.

    python3 -m pip install mail-parser-reply email-reply-parser
    python3 benchmarks/reply_extraction.py

Runs each on the cases of tests/test_newest_text.py that must cut quotes, forwards,
signatures and disclaimers in five languages, and times them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from classifiers.newest_text import newest_text  # noqa: E402
from tests.test_newest_text import CUT, NEW  # noqa: E402


def candidates() -> dict[str, Callable[[str], str]]:
    found: dict[str, Callable[[str], str]] = {"liaison newest_text": newest_text}
    try:
        from mailparser_reply import EmailReplyParser

        parser = EmailReplyParser(languages=["en", "de", "fr", "es", "nl"])
        found["mail-parser-reply"] = lambda text: parser.parse_reply(text=text)
    except ImportError:
        print("mail-parser-reply not installed: skipped")
    try:
        from email_reply_parser import EmailReplyParser as Classic

        found["email_reply_parser"] = Classic.parse_reply
    except ImportError:
        print("email_reply_parser not installed: skipped")
    return found


def main() -> None:
    for name, extract in candidates().items():
        right = sum(1 for text in CUT.values() if extract(text).strip() == NEW)
        started = time.perf_counter()
        for _ in range(50):
            for text in CUT.values():
                extract(text)
        micros = (time.perf_counter() - started) / (50 * len(CUT)) * 1e6
        print(f"{name:22} {right:>2}/{len(CUT)} cases right   {micros:6.0f} µs per message")


if __name__ == "__main__":
    main()
