"""history: the caller's reviews. GET lists (newest first, cursor paging), POST adds one,
DELETE clears all or one by `id`; POST /feedback rates one of them."""

import functions_framework

from shared import db
from shared.config import get_settings
from shared.errors import ApiError
from shared.feedback import NewFeedback, rate_review
from shared.history import add_review, delete_reviews, list_reviews
from shared.history_schemas import DeleteQuery, HistoryItem, HistoryQuery, NewHistoryItem
from shared.http import Call, endpoint

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint("history", methods=("GET", "POST", "DELETE"), limit="history")
def history(call: Call):
    method = call.request.method
    if call.request.path.rstrip("/") == "/feedback":
        return feedback(call)
    if method == "GET":
        query = call.query(HistoryQuery)
        with db.statement() as session:  # one SELECT
            rows, next_cursor = list_reviews(session, call.user_id, query.limit, query.cursor)
            items = [HistoryItem.from_row(row).model_dump() for row in rows]
        return {"items": items, "nextCursor": next_cursor}
    if method == "POST":
        item = call.json(NewHistoryItem)
        with db.session() as session:
            review_id = add_review(session, call.user_id, **item.model_dump(exclude={"id"}))
        return {"id": review_id}, 201
    target = call.query(DeleteQuery)
    with db.session() as session:
        deleted = delete_reviews(session, call.user_id, target.id)
    return {"deleted": deleted}


def feedback(call: Call):
    if call.request.method != "POST":
        raise ApiError(405, "METHOD_NOT_ALLOWED", "Use POST to rate a review.", headers={"Allow": "POST, OPTIONS"})
    item = call.json(NewFeedback)
    with db.session() as session:
        feedback_id, created = rate_review(session, call.user_id, item)
    return {"id": feedback_id}, 201 if created else 200
