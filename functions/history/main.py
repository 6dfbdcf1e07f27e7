"""history: the caller's reviews. GET lists (newest first, cursor paging) as `{history, nextCursor}`,
POST adds one (the web app's POST of a review our review function already saved finds that row
instead of adding a second), DELETE clears all or one by `id`; POST /feedback rates one of them."""

import flask
import functions_framework

from shared import db
from shared.config import get_settings
from shared.errors import ApiError
from shared.history.feedback import NewFeedback, rate_review
from shared.history.schemas import DeleteQuery, HistoryQuery, NewHistoryItem, history_page_json
from shared.history.service import add_review, delete_reviews, find_saved_review, list_reviews
from shared.http import PLATFORM_MAX_BODY_BYTES, Call, endpoint

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint(
    "history",
    methods=("GET", "POST", "DELETE"),
    # The web app's save carries the whole reviewed code, which review-code took up to this size.
    max_body=PLATFORM_MAX_BODY_BYTES,
    limit="history",
    api_keys=True,
    idempotent=True,
)
def history(call: Call):
    method = call.request.method
    if call.request.path.rstrip("/") == "/feedback":
        return feedback(call)
    if method == "GET":
        query = call.query(HistoryQuery)
        with db.statement() as session:  # one SELECT
            rows, next_cursor = list_reviews(session, call.user_id, query.limit, query.cursor)
        return flask.Response(history_page_json(rows, next_cursor), mimetype="application/json")
    if method == "POST":
        item = call.json(NewHistoryItem)
        columns = item.columns()
        with db.session() as session:
            if item.from_web_app:
                saved = find_saved_review(
                    session,
                    call.user_id,
                    **{name: columns[name] for name in ("feedback", "language", "fileName", "repoUrl")},
                )
                if saved is not None:
                    return {"id": saved, "success": True}, 200
            review_id = add_review(session, call.user_id, **columns)
        return {"id": review_id, "success": True}, 201
    target = call.query(DeleteQuery)
    with db.session() as session:
        deleted = delete_reviews(session, call.user_id, target.id)
    return {"deleted": deleted, "success": True}


def feedback(call: Call):
    if call.request.method != "POST":
        raise ApiError(405, "METHOD_NOT_ALLOWED", "Use POST to rate a review.", headers={"Allow": "POST, OPTIONS"})
    item = call.json(NewFeedback)
    with db.session() as session:
        feedback_id, created = rate_review(session, call.user_id, item)
    return {"id": feedback_id}, 201 if created else 200
