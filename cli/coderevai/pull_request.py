"""`--github-review`: the findings as ONE pull-request review, where the team reads it.

- Inline comments on the lines the pull request shows (path, line, side RIGHT): severity, title,
  detail, rule, and a ```suggestion block when the finding carries a replacement for exactly those
  lines; at most --max-comments, the most severe first.
- A summary comment (an issue comment on the pull request) with the counts and every finding that
  could not be placed inline, edited in place on the next push.
- The next push: a comment made before for the same path, line and rule is not posted again (each
  comment carries a hidden marker); a comment whose finding is gone is edited to say it is resolved
  (REST only: GraphQL's resolveReviewThread would fold the thread, an edit keeps the history).
- GitHub's answers: a 422 (a line GitHub will not place) moves the comments to the summary; rate
  limits are waited out within --max-wait; a token that cannot write (a pull request from a fork)
  falls back to annotations, saying so."""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from typing import NamedTuple

from coderevai import annotations
from coderevai.github import GitHub, GitHubError, PullRequestDiff, context_from_environment

def post(review: dict, sources: dict[str, str], *, args: argparse.Namespace, printed: bool) -> None:
    """Publish the review; on a token that cannot write or a GitHub failure, annotations instead."""
    findings = review["findings"]
    github = GitHub(context_from_environment(), max_wait=args.max_wait)
    try:
        outcome = publish(github, findings, sources, max_comments=args.max_comments)
    except (GitHubError, ReadOnly) as exc:
        reason = (
            "the token cannot write to this pull request (a pull request from a fork gets a read-only "
            "GITHUB_TOKEN; or the workflow lacks `permissions: pull-requests: write`)"
            if isinstance(exc, ReadOnly)
            else f"the pull-request review could not be posted: {exc}"
        )
        print(f"coderevai: {reason}; the findings are shown as annotations instead", file=sys.stderr)
        if not printed:
            sys.stdout.write(annotations.render(findings))
        return
    finally:
        github.close()
    print(
        f"coderevai: pull-request review: {outcome.posted} new inline comments, {outcome.kept} already there, "
        f"{outcome.resolved} resolved, {outcome.in_summary} in the summary{outcome.note}",
        file=sys.stderr,
    )
