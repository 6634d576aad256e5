"""`notice_about: CATEGORY`: a program's notice (automatic: notice) whose words surely read as this kind of request"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from responders.conditions import Condition, many, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts

Request = Literal["revision_request", "billing_issue", "progress_query"]


@register
class NoticeAbout(Condition[str | list[str]]):
    name = "notice_about"
    description = ("a program's notice (a client's purchasing portal: 'invoice INV-88 REJECTED') whose words surely "
                   "read as this kind of request; the message itself is `other`, never acknowledged")
    value = Request | list[Request]

    def holds(self, facts: Facts, wanted: str | list[str], rules: Rules) -> bool:
        return facts.notice_about is not None and facts.notice_about in many(wanted)
