"""newest text: what this message itself says, without quoted replies, signatures and disclaimers."""

from __future__ import annotations

from classifiers.newest_text import newest_of
from inbox.stages.context import MessageContext, Services


class NewestText:
    name = "newest text"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        parsed = message.parsed
        message.newest = newest_of(parsed, ours=self.services.settings.owns)
