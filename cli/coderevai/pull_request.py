"""`--github-review`: the findings as ONE pull-request review, where the team reads it, composed by
coderevai_core.pull_request (inline comments, suggestions, hidden markers, the summary, no
duplicates) and posted with the workflow's token. Rate limits are waited out within --max-wait; a
token that cannot write (a pull request from a fork) or a GitHub failure falls back to
annotations, saying so."""

from __future__ import annotations

import argparse
import sys

from coderevai_core.pull_request import GitHubError, ReadOnly, publish

from coderevai import annotations
from coderevai.github import GitHub, context_from_environment


def post(review: dict, sources: dict[str, str], *, args: argparse.Namespace, printed: bool) -> None:
    """Publish the review; on a token that cannot write or a GitHub failure, annotations instead."""
    findings = review["findings"]
    github = GitHub(context_from_environment(), max_wait=args.max_wait)
    try:
        not_shown = review.get("findingsNotShown", 0)
        outcome = publish(github, findings, sources, max_comments=args.max_comments, not_shown=not_shown)
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
