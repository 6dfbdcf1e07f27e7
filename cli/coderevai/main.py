"""`coderevai review`: files, folders or a branch's diff reviewed by a CodeRevAI server, for a
terminal or a CI job, by the repository's `.coderevai.yml` (rules.py) where its flags say nothing.
Exit codes: 0 done, 1 a finding at or above --fail-on remains, 2 usage, sign-in or server error."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NamedTuple, get_args

from coderevai_core import selection
from coderevai_core.changed_lines import CONTEXT_LINES
from coderevai_core.options import review_language_name
from coderevai_core.repo_config import FailOn
from rich.console import Console

from coderevai import __version__, local_secrets, pull_request, report, rules
from coderevai.client import Client, ServerError
from coderevai.files import Collected, LocalFile, Skipped, UsageError, Wants, collect, read_file
from coderevai.gitdiff import ChangedLines, changed_lines
from coderevai.review import send_all

FAIL_ON: tuple[str, ...] = get_args(FailOn)
EXIT_FINDINGS, EXIT_ERROR = 1, 2
CONFIG = ".coderevai.yml"  # in help texts


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="coderevai",
        description="CodeRevAI code reviews from a terminal or a CI job. Reads CODEREVAI_API_URL "
        "(https://<instance>/api) and CODEREVAI_API_KEY (an sk_live_ key).",
    )
    top.add_argument("--version", action="version", version=f"coderevai {__version__}")
    commands = top.add_subparsers(dest="command", required=True)
    review = commands.add_parser("review", help="review files, folders or a branch's diff")
    review.add_argument("paths", nargs="*", metavar="PATH", help="files and folders (default: the current folder)")
    review.add_argument(
        "--diff", metavar="REF", help="review only what changed since the branch left REF (e.g. origin/main)"
    )
    review.add_argument(
        "--context",
        type=_context,
        default=0,
        metavar="N",
        help=f"with --diff: also keep findings within N lines of an added line (0 to {CONTEXT_LINES}; default 0)",
    )
    review.add_argument(
        "--all-findings",
        action="store_true",
        help="with --diff: every finding in the changed files, not only on added lines",
    )
    review.add_argument(
        "--modes",
        type=_modes,
        help="comma-separated review modes, at most 5: comprehensive (the default), security, bug_fixes, performance, "
        f"best_practices, test_generation, production_ready (default: {CONFIG}'s modes)",
    )
    review.add_argument(
        "--custom-prompt",
        metavar="TEXT",
        help=f"what the review should pay attention to (sent with {CONFIG}'s instructions for the files)",
    )
    review.add_argument(
        "--review-language",
        type=_language,
        metavar="NAME",
        help=f"the language of the review's prose, e.g. German or pt-BR (default: {CONFIG}'s language, else the server's)",
    )
    review.add_argument(
        "--format",
        choices=("text", "json", "markdown", "sarif", "github"),
        default="text",
        help="github: workflow commands, annotations on the pull request's files (no token needed)",
    )
    review.add_argument("--output", metavar="FILE", help="write the review here instead of standard output")
    review.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help=f"exit 1 when a finding at or above this severity remains (default: {CONFIG}'s fail_on, else --fail-on-default)",
    )
    review.add_argument(
        "--fail-on-default",
        choices=FAIL_ON,
        default="never",
        help=f"--fail-on when neither it nor {CONFIG} sets one (default never)",
    )
    review.add_argument("--parallel", type=_positive, default=4, help="requests in flight at once (default 4)")
    review.add_argument(
        "--max-wait",
        type=float,
        default=120,
        metavar="SECONDS",
        help="longest total wait on rate limits per request (default 120)",
    )
    review.add_argument(
        "--github-review",
        action="store_true",
        help="with --diff, in a pull_request workflow: post the findings as one pull-request review "
        "(GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_API_URL)",
    )
    review.add_argument(
        "--max-comments",
        type=_positive,
        help=f"--github-review: inline comments at most (default: {CONFIG}'s max_comments, else {rules.DEFAULT_MAX_COMMENTS})",
    )
    review.add_argument("--max-files-per-request", type=_positive, default=selection.MAX_FILES, help=argparse.SUPPRESS)
    review.add_argument(
        "--max-bytes-per-request", type=_positive, default=selection.MAX_TOTAL_BYTES, help=argparse.SUPPRESS
    )
    return top


def _modes(text: str) -> list[str]:
    """The server checks the names (and answers 400 naming a wrong one), so its list is the only one."""
    return [mode.strip() for mode in text.split(",") if mode.strip()]


def _language(text: str) -> str:
    try:
        return review_language_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _context(text: str) -> int:
    value = int(text)
    if not 0 <= value <= CONTEXT_LINES:
        raise argparse.ArgumentTypeError(f"must be 0 to {CONTEXT_LINES} (the server keeps findings that close)")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    errors = Console(stderr=True)
    try:
        sys.exit(review(args, errors))
    except (UsageError, ServerError) as exc:
        print(f"coderevai: {exc}", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        sys.exit(130)


def review(args: argparse.Namespace, errors: Console) -> int:
    base_url, key = _server()
    if args.github_review and not args.diff:
        raise UsageError("--github-review needs --diff <base>: a pull request's review is of its change")
    cwd = Path.cwd()
    found = _rules(cwd, args)
    entries, skipped, changed, secret_paths = _entries(args, cwd, found.wants)
    sarif = args.format == "sarif"
    answers: list[dict] = []
    if entries:
        client = Client(base_url, key, sarif=sarif, max_wait=args.max_wait)
        options = {
            "reviewModes": args.modes,
            **({"reviewLanguage": args.review_language} if args.review_language else {}),
        }
        try:
            sent = send_all(
                entries,
                client,
                options=options,
                prompt_for=lambda paths: found.prompt_for(paths, args.custom_prompt),
                parallel=args.parallel,
                console=errors,
                max_files=args.max_files_per_request,
                max_bytes=args.max_bytes_per_request,
            )
        finally:
            client.close()
        answers, skipped = sent.answers, skipped + sent.skipped
    else:
        since = f" (no file changed since {args.diff})" if args.diff else ""
        print(f"coderevai: nothing to review{since}", file=sys.stderr)
    near_change = args.diff and not args.all_findings
    if near_change and not sarif:
        answers = [report.answer_near_changes(answer, changed, args.context) for answer in answers]
    merged = report.merge_sarif(answers, skipped) if sarif else report.merge_json(answers, skipped)
    local = local_secrets.scan(secret_paths, cwd)
    sources = {entry["path"]: entry["content"] for entry in entries}
    merged = report.with_local(merged, local, sarif, sources)
    if near_change:
        merged = report.near_changes(merged, sarif, changed, args.context)
    found = _write(merged, sarif, args)
    if args.github_review:
        pull_request.post(report.as_review(merged, sarif), sources, args=args, printed=args.format == "github")
    if report.fails(found, args.fail_on):
        print(f"coderevai: failing: a finding at or above {args.fail_on} remains", file=sys.stderr)
        return EXIT_FINDINGS
    return 0


def _server() -> tuple[str, str]:
    base_url = os.environ.get("CODEREVAI_API_URL", "").strip()
    key = os.environ.get("CODEREVAI_API_KEY", "").strip()
    if not key:
        raise UsageError("CODEREVAI_API_KEY is not set: create a key in the web app (API keys) and export it.")
    if not base_url:
        raise UsageError("CODEREVAI_API_URL is not set: export the server's API base, e.g. https://<instance>/api.")
    if not base_url.startswith(("http://", "https://")):
        raise UsageError(f"CODEREVAI_API_URL must start with http:// or https://, not {base_url!r}")
    return base_url, key


def _rules(cwd: Path, args: argparse.Namespace) -> rules.Rules:
    """The repository's `.coderevai.yml` (from the --diff ref), said on standard error, and the
    options the command line left unsaid taken from it."""
    found = rules.load(cwd, args.diff)
    if found.loaded.problem:
        print(
            f"coderevai: warning: {found.source} is not applied, the defaults are: {found.loaded.problem}",
            file=sys.stderr,
        )
    elif found.source:
        print(f"coderevai: reviewing by the rules of {found.source}", file=sys.stderr)
    rules.apply(found, args)
    return found


def _entries(
    args: argparse.Namespace, cwd: Path, wants: Wants
) -> tuple[list[dict], list[dict], ChangedLines, list[str]]:
    """The files to send (with their changed lines for a diff's review), those skipped with why, the
    diff's added lines, and the secret-bearing files (never sent: checked here)."""
    collected = _changed_files(args, cwd, wants) if args.diff else collect(args.paths or ["."], cwd, wants)
    changed = collected.changed if args.diff else {}
    entries = [{"path": f.path, "content": f.content} for f in collected.files]
    if args.diff and not args.all_findings:
        for entry in entries:
            entry["changedLines"] = [r.model_dump() for r in changed[entry["path"]]]
    secret_paths = [s.path for s in collected.skipped if local_secrets.is_secret_bearing(s.reason)]
    skipped = [
        {"path": s.path, "reason": s.reason + (local_secrets.SCANNED_HERE if s.path in secret_paths else "")}
        for s in collected.skipped
    ]
    return entries, skipped, changed, secret_paths


def _write(merged: dict, sarif: bool, args: argparse.Namespace) -> list[str]:
    """The review where it was asked for, skipped files on standard error; the findings' severities."""
    text = report.render(merged, args.format)
    review = report.as_review(merged, sarif)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        if args.format not in ("text", "github"):  # the file for tools, the job's log for people
            sys.stdout.write(report.render(review, "text"))
    else:
        sys.stdout.write(text)
    for item in review["skippedFiles"]:
        print(f"skipped {item['path']}: {item['reason']}", file=sys.stderr)
    return [finding["severity"] for finding in review["findings"]]


class DiffFiles(NamedTuple):
    files: list[LocalFile]
    skipped: list[Skipped]
    changed: ChangedLines


def _changed_files(args: argparse.Namespace, cwd: Path, wants: Wants) -> DiffFiles:
    """The files changed since the branch left REF, read from the working tree, with their line ranges."""
    changed = changed_lines(args.diff, args.paths, cwd)
    collected = Collected([], [])
    for name, ranges in sorted(changed.items()):
        if not (cwd / name).is_file():  # a submodule, or something else that is not a plain file
            collected.skipped.append(Skipped(name, "not a regular file"))
        elif not ranges and not args.all_findings:
            collected.skipped.append(Skipped(name, "no added or changed lines (only deletions, or binary)"))
        else:
            read_file(cwd / name, name, collected, wants)
    return DiffFiles(collected.files, collected.skipped, changed)
