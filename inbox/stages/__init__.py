"""The pipeline's stages, declared in the order they run for every message.

Each stage is a small component: a `name` (recorded per message) and one method, `run`, over
the message's typed context (inbox/stages/context.py). A new stage is one module plus its place
in STAGES.
"""

from __future__ import annotations

from collections.abc import Callable

from inbox.stages.automatic import Automatic
from inbox.stages.classify import Classify
from inbox.stages.context import MessageContext, Outcome, Position, Services, Stage, StageOrderError
from inbox.stages.ingest import Ingest
from inbox.stages.link import Link
from inbox.stages.newest import NewestText
from inbox.stages.parse import Parse
from inbox.stages.record import Record
from inbox.stages.respond import Respond
from inbox.stages.route import Route
from inbox.stages.thread import Thread

StageFactory = Callable[[Services], Stage]

#: ingest -> parse -> newest text -> automatic -> classify -> link -> thread -> route -> respond -> record
STAGES: tuple[StageFactory, ...] = (Ingest, Parse, NewestText, Automatic, Classify, Link, Thread, Route, Respond,
                                    Record)

__all__ = ["STAGES", "MessageContext", "Outcome", "Position", "Services", "Stage", "StageFactory",
           "StageOrderError"]
