"""review_code: review one snippet. `{code, language, reviewModes[], customPrompt?, fileName?}` ->
`{reviewId, feedback, findings, model, usage, cached}`; the review is kept in the caller's history.
Code up to the platform's 32 MiB request; past one model call it is reviewed in parts (shared/review/parts.py)."""

import functions_framework

from shared import db
from shared.config import get_settings
from shared.history.service import add_review
from shared.http import PLATFORM_MAX_BODY_BYTES, Call, endpoint
from shared.review.modes import normalise_modes
from shared.review.parts import review_code as review_in_parts
from shared.review.schemas import ReviewCodeRequest

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint(
    "review_code",
    methods=("POST",),
    max_body=PLATFORM_MAX_BODY_BYTES,
    limit="review_code",
    api_keys=True,
    idempotent=True,
)
def review_code(call: Call):
    body = call.json(ReviewCodeRequest).check_sizes()
    modes = normalise_modes(body.reviewModes)
    outcome = review_in_parts(
        body.code,
        language=body.language,
        modes=modes,
        custom_prompt=body.customPrompt,
        file_name=body.fileName,
        review_language=body.reviewLanguage,
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
