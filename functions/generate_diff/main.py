"""generate_diff: apply review feedback to code. `{originalCode, language, feedback}` ->
`{modifiedCode, diff, model}` with `diff` a unified diff of the original against the modified code."""

import functions_framework

from shared.config import get_settings
from shared.http import PLATFORM_MAX_BODY_BYTES, Call, endpoint
from shared.review.fix import fix_code
from shared.review.schemas import GenerateDiffRequest

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint(
    "generate_diff",
    methods=("POST",),
    # Its fields hold the caps (413 naming each); the body, JSON escapes and all, is what the platform takes.
    max_body=PLATFORM_MAX_BODY_BYTES,
    limit="generate_diff",
    api_keys=True,
    idempotent=True,
)
def generate_diff(call: Call):
    body = call.json(GenerateDiffRequest).check_sizes()
    outcome = fix_code(body.originalCode, body.language, body.feedback)
    call.tokens_used = outcome.usage.totalTokens
    return {"modifiedCode": outcome.modified_code, "diff": outcome.diff, "model": outcome.model}
