"""One message's journey through the pipeline: what each stage has found so far, typed.

A stage reads what earlier stages set and adds its own facts; reading a fact before the
stage that sets it has run is a bug in the declared order (StageOrderError), never a None
passed along.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from classifiers.categorize import Categorizer, Verdict
from classifiers.linking import AccountIndex, Link
from foundation.errors import StageOrderError
from foundation.message import ParsedMessage
from foundation.rules import Rules
from foundation.settings import Settings
from foundation.store import Store
from responders.respond import Responder
from responders.routing import Facts, Route

#: Entities by label (classifiers/entities.py): identifiers as text, amounts and deadlines as small dicts.
Entities = dict[str, list[object]]


@dataclass
class Position:
    """Where a message came from in the mailbox (None for files and the demo)."""

    folder: str = ""
    uidvalidity: int | None = None
    uid: int | None = None
    arrived: datetime | None = None  # the server's INTERNALDATE, when there is a server
    backlog: bool = False  # already in the folder when Liaison first saw it (see Pipeline.backlog_until)


@dataclass
class Outcome:
    """What happened to one message: what the log line and the demo table show."""

    row: int
    message_id: str
    status: str  # processed, quarantined, duplicate
    sender: str = ""
    subject: str = ""
    category: str = ""
    confidence: float = 0.0
    account_id: str | None = None
    link_reason: str = ""
    actions: list[str] = field(default_factory=list)
    reason: str = ""
    stages: list[str] = field(default_factory=list)  # the stages that ran for it, in order


@dataclass(frozen=True)
class Twin:
    """An earlier stored message under the same Message-ID."""

    id: int
    from_addr: str


class Services(Protocol):
    """What stages use of the pipeline that runs them (read at each message: rules and accounts reload)."""

    store: Store
    settings: Settings
    rules: Rules
    categorizer: Categorizer
    responder: Responder
    index: AccountIndex


class Stage(Protocol):
    """One step of the pipeline: a name (recorded per message) and one method over the message's context."""

    name: str

    def run(self, message: MessageContext) -> None: ...


@dataclass
class MessageContext:
    """Everything worked out about one message, stage by stage."""

    raw: bytes
    digest: str
    position: Position
    stages: list[str] = field(default_factory=list)
    outcome: Outcome | None = None  # set by the stage that ends the message's journey
    row: int = 0  # its row in `messages`, once stored
    twin: Twin | None = None
    staff: bool = False
    newest: str = ""
    automatic: str | None = None
    entities: Entities = field(default_factory=dict)
    display_category: str = ""
    thread_id: int | None = None
    chaser: bool = False
    chased: dict[str, Any] | None = None  # the request (its row) a follow-up only asks after: routed as it
    first_message: bool = False
    done: list[str] = field(default_factory=list)
    _parsed: ParsedMessage | None = None
    _arrived: datetime | None = None
    _verdict: Verdict | None = None
    _link: Link | None = None
    _facts: Facts | None = None
    _decision: Route | None = None

    def finish(self, outcome: Outcome) -> None:
        """End this message's journey here: the stages after this one do not run."""
        self.outcome = outcome

    @property
    def parsed(self) -> ParsedMessage:
        if self._parsed is None:
            raise StageOrderError("the parsed message", "parse")
        return self._parsed

    @parsed.setter
    def parsed(self, value: ParsedMessage) -> None:
        self._parsed = value

    @property
    def arrived(self) -> datetime:
        """When the message reached the mailbox (UTC)."""
        if self._arrived is None:
            raise StageOrderError("the arrival time", "parse")
        return self._arrived

    @arrived.setter
    def arrived(self, value: datetime) -> None:
        self._arrived = value

    @property
    def verdict(self) -> Verdict:
        if self._verdict is None:
            raise StageOrderError("the classification", "classify")
        return self._verdict

    @verdict.setter
    def verdict(self, value: Verdict) -> None:
        self._verdict = value

    @property
    def link(self) -> Link:
        if self._link is None:
            raise StageOrderError("the account link", "link")
        return self._link

    @link.setter
    def link(self, value: Link) -> None:
        self._link = value

    @property
    def facts(self) -> Facts:
        if self._facts is None:
            raise StageOrderError("the routing facts", "route")
        return self._facts

    @facts.setter
    def facts(self, value: Facts) -> None:
        self._facts = value

    @property
    def decision(self) -> Route:
        if self._decision is None:
            raise StageOrderError("the routing decision", "route")
        return self._decision

    @decision.setter
    def decision(self, value: Route) -> None:
        self._decision = value
