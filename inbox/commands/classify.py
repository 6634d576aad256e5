"""`liaison classify FILE.eml...`: how each message would be handled, decided as the daemon decides."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inbox.commands import common

if TYPE_CHECKING:  # spaCy loads with the pipeline: `liaison --help` and a settings error need neither
    from inbox.pipeline import Pipeline


def register(commands: common.Subcommands) -> None:
    classify = common.command(commands, "classify", "show how messages would be handled", cmd_classify)
    classify.add_argument("files", nargs="+", type=Path, metavar="FILE.eml",
                          help="judged in this order, as if they arrived one after another after what the service "
                               "has seen: a later file may be a reply in an earlier one's thread (run one at a "
                               "time, or give --alone, to judge each on its own)")
    classify.add_argument("--alone", action="store_true",
                          help="judge each message on its own: earlier files count neither against the rate limits "
                               "nor as its thread")
    classify.add_argument("--json", action="store_true", help="one JSON object per message")


def cmd_classify(args: argparse.Namespace) -> int:
    from foundation.settings import load_settings
    from inbox.scratch import ingest_now, scratch_pipeline, seen_by_service

    settings = load_settings()
    rules = common.checked_rules(settings)

    def fresh() -> Pipeline:
        return scratch_pipeline(settings, rules, accounts_db=settings.db_path, as_now=True)

    pipeline = fresh()
    acknowledged_before = 0  # acknowledgements planned for earlier messages of this run
    if not settings.db_path.exists():
        print(f"liaison: no database at {settings.db_path}: no accounts are known here, so every sender is "
              "unlinked, and rate limits and threads were not checked; run from the configured folder or give --config",
              file=sys.stderr)
    status = 0
    for path in args.files:
        try:
            messages = list(_messages_in(path))
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        for name, raw in messages:
            if args.alone:
                pipeline = fresh()
            report = explain(pipeline, ingest_now(pipeline, raw).row)
            report["file"] = name
            report["earlier_acknowledgements_counted"] = 0 if args.alone else acknowledged_before
            acknowledged_before += report.get("acknowledged", False)
            report["seen_by_service"] = seen_by_service(settings.db_path, raw)
            if report["seen_by_service"] and not args.json:
                print(f"note: {report['seen_by_service']}")
            if args.json:
                print(json.dumps(report, ensure_ascii=False, default=str))
            else:
                print(explain_text(report))
    return status


def _messages_in(path: Path) -> Any:
    """(name, raw bytes) for a message file, or for each message of an mbox file."""
    raw = path.read_bytes()
    if not raw.startswith(b"From "):
        yield str(path), raw
        return
    import mailbox

    box = mailbox.mbox(str(path), create=False)
    try:
        for number, key in enumerate(box.keys(), 1):
            yield f"{path}#{number}", box.get_bytes(key)
    finally:
        box.close()


def explain(pipeline: Pipeline, row: int) -> dict[str, Any]:
    """Everything decided about one stored message, as plain data."""
    from foundation.store import loads
    from responders.routing import nothing_done_because

    m = pipeline.store.message(row)
    if m["status"] == "quarantined":
        return {"status": "quarantined", "reason": m["error"]}
    route = loads(m["route"], {})
    fired = [t["rule"] for t in route.get("trace", []) if t["hit"]]
    return {
        "status": m["status"], "message_id": m["message_id"], "from": m["from_addr"], "subject": m["subject"],
        "category": m["category"], "needs_review": bool(m["needs_review"]),
        "confidence": round(m["confidence"] or 0, 3), "decided_by": m["class_source"],
        "reasons": loads(m["class_reasons"], []), "automatic": m["automatic"], "account": m["account_id"],
        "link": m["link_reason"], "link_detail": m["link_detail"], "suspicious": m["suspicious"],
        "entities": loads(m["entities"], {}), "rules_fired": fired, "actions": route.get("done", []),
        "chases": m["chases"], "newest_text": m["newest_text"], "ack_tier": m["ack_tier"],
        "ack_tier_reason": m["ack_tier_reason"],
        "acknowledged": any(a.startswith("acknowledge:") for a in route.get("done", [])),
        "nothing_done_because": None if route.get("actions") else nothing_done_because(route, pipeline.rules),
        "rate_limits": rate_limits_checked(pipeline),
    }


def rate_limits_checked(pipeline: Pipeline) -> str:
    """Whether the caps (limits in rules.yaml) counted what the service has already sent."""
    if pipeline.sent_elsewhere is not None:
        return "checked against the service's database"
    return "NOT checked (no database: acknowledgements the service already sent are unknown here)"


#: Refusals that an earlier message of the same run can cause.
EARLIER_FILES_COUNT = ("rate limit", "thread already acknowledged")


def explain_text(r: dict[str, Any]) -> str:
    if r["status"] == "quarantined":
        return f"{r['file']}: QUARANTINED: {r['reason']}"
    lines = [
        f"{r['file']}: {r['category']} ({r['confidence']:.2f}, decided by {r['decided_by']})"
        + (" - NEEDS REVIEW" if r["needs_review"] else ""),
        f"  from:     {r['from']}   subject: {r['subject']}",
        f"  account:  {r['account'] or 'unlinked'} (by {r['link']}: {r['link_detail']})",
        f"  why:      {'; '.join(r['reasons'])}",
        f"  ack tier: {r['ack_tier']} ({r['ack_tier_reason']})" + ("" if r["acknowledged"] else ": none sent"),
        f"  rules:    {', '.join(r['rules_fired']) or 'none'}",
        f"  actions:  {'; '.join(r['actions']) or 'none: ' + str(r['nothing_done_because'])}",
        f"  limits:   rate limits {r['rate_limits']}",
    ]
    if r.get("chases"):
        lines.insert(2, f"  chases:   its thread's {r['chases']} (a follow-up that only asks after it: routed as that)")
    if r["automatic"]:
        lines.insert(2, f"  automatic: {r['automatic']}")
    if r["suspicious"]:
        lines.insert(2, f"  SUSPICIOUS: {r['suspicious']}")
    if r.get("earlier_acknowledgements_counted") and any(
            refusal in action for action in r["actions"] for refusal in EARLIER_FILES_COUNT):
        lines.append("  note:     earlier messages of this run count against the limits and threads as if their "
                     f"acknowledgements ({r['earlier_acknowledgements_counted']} in all) had been sent; --alone "
                     "judges each on its own")
    if r["entities"]:
        lines.append(f"  entities: {json.dumps(r['entities'], ensure_ascii=False)}")
    return "\n".join(lines)
