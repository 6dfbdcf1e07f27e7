"""review_repo: review many files at once, sent as `files: [{path, content}]` or fetched from a public
GitHub `repoUrl`; token-budgeted batches in parallel, merged into one review with its history row."""

import functions_framework
from coderevai_core.selection import MAX_REQUEST_BYTES

from shared import db
from shared.config import get_settings
from shared.history.service import SNIPPET_CHARS, add_review
from shared.http import Call, endpoint
from shared.repo.review import review_request
from shared.repo.schemas import ReviewRepoRequest

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint(
    "review_repo",
    methods=("POST",),
    max_body=MAX_REQUEST_BYTES,
    limit="review_repo",
    too_large="REPO_TOO_LARGE",
    api_keys=True,
    idempotent=True,
)
def review_repo(call: Call):
    request = call.json(ReviewRepoRequest)
    review = review_request(request)
    call.tokens_used = review.usage.totalTokens
    with db.session() as session:
        review_id = add_review(
            session,
            call.user_id,
            type="repository",
            language=review.language,
            reviewModes=review.modes,
            codeSnippet="\n".join(review.reviewed_files)[:SNIPPET_CHARS],
            feedback=review.feedback,
            repoUrl=review.repo_url,
        )
    if (
        call.request.accept_mimetypes.best_match(["application/json", "application/sarif+json"])
        == "application/sarif+json"
    ):
        return _sarif(review, review_id, {file.path: file.content for file in request.files})
    return {
        "reviewId": review_id,
        "feedback": review.feedback,
        "findings": [finding.model_dump() for finding in review.findings],
        "dismissed": [finding.model_dump() for finding in review.dismissed],
        "reviewedFiles": review.reviewed_files,
        "skippedFiles": [{"path": s.path, "reason": s.reason} for s in review.skipped],
        "model": review.model,
        "usage": review.usage.model_dump(),
        "cached": review.cached,
    }


def _sarif(review, review_id: str, sources: dict[str, str]):
    """The findings as a SARIF 2.1.0 log, for code scanning (loaded only when a caller asks for it);
    the files sent give each result's fingerprint its line's text."""
    from coderevai_core.sarif import MEDIA_TYPE, to_sarif

    from shared.http import json_response

    properties = {
        "reviewId": review_id,
        "model": review.model,
        "cached": review.cached,
        "reviewedFiles": review.reviewed_files,
        "skippedFiles": [{"path": s.path, "reason": s.reason} for s in review.skipped],
    }
    log = to_sarif(review.findings, properties=properties, sources=sources, dismissed=review.dismissed)
    response = json_response(log)
    response.mimetype = MEDIA_TYPE
    return response
