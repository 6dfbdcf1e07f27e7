"""review_code: review one snippet. `{code, language, reviewModes[], customPrompt?, fileName?}` ->
`{reviewId, feedback, findings, model, usage, cached}`; the review is kept in the caller's history."""

import functions_framework

from shared import db
from shared.config import get_settings
from shared.history.service import add_review
from shared.http import Call, endpoint
from shared.review.engine import review_snippet
from shared.review.modes import normalise_modes
from shared.review.schemas import ReviewCodeRequest

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint("review_code", methods=("POST",), limit="review_code", api_keys=True, idempotent=True)
def review_code(call: Call):
    body = call.json(ReviewCodeRequest).check_sizes()
    modes = normalise_modes(body.reviewModes)
    outcome = review_snippet(
        body.code, language=body.language, modes=modes, custom_prompt=body.customPrompt, file_name=body.fileName
    )
    call.tokens_used = outcome.usage.totalTokens
    with db.statement() as session:  # one INSERT
        review_id = add_review(
            session,
            call.user_id,
            type="code",
            language=body.language,
            reviewModes=modes,
            codeSnippet=body.code,
            feedback=outcome.feedback,
            fileName=body.fileName,
        )
    return {"reviewId": review_id, **outcome.model_dump()}
