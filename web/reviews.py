"""The reviewer queue and review decisions, shared by the API (/api/v1) and the dashboard (/ui).

Both front doors validate the same way and return the same JSON; only who the reviewer is
differs (the API key's name, or the dashboard's signed-in key / "local" on loopback).
"""

from __future__ import annotations

from typing import Any

from worker.service import ServiceError, scan_view
from worker.store import FLAGGED_LABELS, QUEUE_SORTS, REVIEW_DECISIONS, REVIEW_STATES, Review, Scan, Store

MAX_NOTE = 2000
MAX_REVIEWER = 200
MAX_QUEUE_PAGE = 200
REVIEW_FIELDS = {"decision", "note", "reviewer"}


def _iso(dt: Any) -> str:
    return dt.isoformat(timespec="seconds") + "+00:00"


def review_view(r: Review | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"id": r.id, "scan_id": r.scan_id, "decision": r.decision, "note": r.note, "reviewer": r.reviewer,
            "created_at": _iso(r.created_at)}


def parse_review(body: Any, default_reviewer: str) -> tuple[str, str | None, str]:
    """Validate a review request body; returns (decision, note, reviewer) or raises a 400."""
    if not isinstance(body, dict):
        raise ServiceError("bad_request", 'send a JSON object {"decision": ..., "note": ...}', 400)
    unknown = sorted(set(body) - REVIEW_FIELDS)
    if unknown:
        # A misspelt "decison" must not silently become a default.
        raise ServiceError("bad_request", f"unknown field(s): {', '.join(unknown)}", 400)
    decision = body.get("decision")
    if decision not in REVIEW_DECISIONS:
        raise ServiceError("invalid_decision", f"decision must be one of: {', '.join(REVIEW_DECISIONS)}", 400)
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise ServiceError("invalid_note", "note must be a string", 400)
    if note is not None and len(note) > MAX_NOTE:
        raise ServiceError("invalid_note", f"note is longer than {MAX_NOTE} characters", 400)
    note = (note or "").strip() or None
    reviewer = body.get("reviewer")
    if reviewer is None:
        reviewer = default_reviewer
    if not isinstance(reviewer, str) or not reviewer.strip() or len(reviewer.strip()) > MAX_REVIEWER:
        raise ServiceError("invalid_reviewer", f"reviewer must be a non-empty string of at most {MAX_REVIEWER} "
                           "characters", 400)
    return decision, note, reviewer.strip()


def save_review(store: Store, scan_id: str, body: Any, default_reviewer: str) -> dict[str, Any]:
    scan = store.get_scan(scan_id)
    if scan is None:
        raise ServiceError("not_found", f"no scan with id {scan_id}", 404)
    decision, note, reviewer = parse_review(body, default_reviewer)
    if scan.status != "done":
        raise ServiceError("scan_not_done", f"scan is {scan.status}; only finished scans can be reviewed", 409)
    return review_view(store.add_review(scan_id, decision=decision, note=note, reviewer=reviewer)) or {}


def parse_queue_args(args: Any) -> dict[str, Any]:
    """Query args (state, label, sort, limit, offset) → keyword arguments for ``Store.review_queue``."""
    state = args.get("state") or "pending"
    if state not in REVIEW_STATES:
        raise ServiceError("bad_request", f"state must be one of: {', '.join(REVIEW_STATES)}", 400)
    sort = args.get("sort") or "score"
    if sort not in QUEUE_SORTS:
        raise ServiceError("bad_request", f"sort must be one of: {', '.join(QUEUE_SORTS)}", 400)
    label = args.get("label")
    if label and label not in FLAGGED_LABELS:
        raise ServiceError("bad_request", f"label must be one of the flagged labels: {', '.join(FLAGGED_LABELS)}", 400)
    try:
        limit = int(args.get("limit", 50))
        offset = int(args.get("offset", 0))
    except ValueError:
        raise ServiceError("bad_request", "limit and offset must be integers", 400) from None
    if not 1 <= limit <= MAX_QUEUE_PAGE or offset < 0:
        raise ServiceError("bad_request", f"limit must be 1..{MAX_QUEUE_PAGE} and offset >= 0", 400)
    return {"state": state, "labels": (label,) if label else FLAGGED_LABELS, "limit": limit, "offset": offset,
            "sort": sort}


def queue_context(args: Any) -> dict[str, str]:
    """The queue a reviewer is working (``sort``, ``label`` query args), as link parameters.

    Carried from /review to a scan page and its review post, so "next pending item" follows the
    same queue. A stale or hand-edited link must not break the review form: an invalid value is
    dropped (the default queue), not refused as ``parse_queue_args`` does for the queue itself.
    """
    out = {}
    for key in ("sort", "label"):
        try:
            parse_queue_args({key: args.get(key)})
        except ServiceError:
            continue
        if args.get(key):
            out[key] = str(args[key])
    return out


def next_pending(store: Store, after: str, context: dict[str, str]) -> str | None:
    """Id of the first pending item of the queue ``context`` describes, other than ``after``."""
    opts = parse_queue_args(context)
    rows, _total = store.review_queue(state="pending", labels=opts["labels"], sort=opts["sort"], limit=1,
                                      exclude=after)
    return rows[0][0].id if rows else None


def queue_item(scan: Scan, review: Review | None) -> dict[str, Any]:
    verdict = (scan.report or {}).get("verdict") or {}
    reasons = verdict.get("reasons") or []
    return {
        "id": scan.id, "filename": scan.filename, "media_type": scan.media_type, "label": scan.verdict_label,
        "score": scan.verdict_score, "top_reason": reasons[0] if reasons else None,
        "created_at": _iso(scan.created_at), "review_state": "reviewed" if review else "pending",
        "review": review_view(review),
    }


def queue_view(store: Store, opts: dict[str, Any]) -> dict[str, Any]:
    rows, total = store.review_queue(**opts)
    return {"items": [queue_item(s, r) for s, r in rows], "total": total, "state": opts["state"],
            "sort": opts["sort"], "limit": opts["limit"], "offset": opts["offset"]}


MAX_HISTORY = 100


def scan_with_review(store: Store, scan: Scan) -> dict[str, Any]:
    """The scan's JSON view plus its latest review and the review history, newest first (the API
    and the dashboard show the same)."""
    view = scan_view(scan)
    history = [review_view(r) for r in store.reviews(scan.id, limit=MAX_HISTORY)]
    view["review"] = history[0] if history else None
    view["review_history"] = history
    return view
