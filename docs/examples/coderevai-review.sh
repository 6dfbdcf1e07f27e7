#!/bin/sh
# CodeRevAI in any CI (GitLab, Jenkins, Buildkite, a plain runner): review what the branch changed
# against its target, keep the SARIF for a dashboard, fail the job on a finding at or above
# CODEREVAI_FAIL_ON. Needs the client (`pip install ./cli` from the CodeRevAI Functions repository),
# CODEREVAI_API_URL and CODEREVAI_API_KEY, and the target branch fetched (no shallow clone).
set -u

: "${CODEREVAI_API_URL:?set CODEREVAI_API_URL to https://<instance>/api}"
: "${CODEREVAI_API_KEY:?set CODEREVAI_API_KEY from the CI secret store}"
base="${CODEREVAI_BASE:-origin/main}"
fail_on="${CODEREVAI_FAIL_ON:-high}"
report="${CODEREVAI_SARIF:-coderevai.sarif}"

coderevai review --diff "$base" --format sarif --output "$report" --fail-on "$fail_on"
status=$?
case "$status" in
  0) echo "CodeRevAI: no finding at or above $fail_on in the change ($report)" ;;
  1) echo "CodeRevAI: findings at or above $fail_on in the change (listed above, and in $report)" ;;
  *) echo "CodeRevAI: the review could not run (the reason is above)" ;;
esac
exit "$status"
