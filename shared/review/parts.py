"""review-code on code larger than one model call: the code is cut at line ends into parts of
PART_BYTES, or less when the model's budget holds less code (shared/review/budget.py); the model and every analyser read up to MAX_PARTS of them, the most relevant first
(those holding what the secrets check found, then the earliest); the other analysers (ruff, our
rules, the external ones) read the remaining parts one at a time, within STATIC_SECONDS; the secrets
check reads all of it. The feedback names what read which lines. Code that fits in one part is
reviewed exactly as before (engine.review_snippet).

Why bandit only on the parts the model reads: with it the analysers take ~22 s and ~200 MiB per MiB
of Python on this machine (benchmarks/limits.py, bandit most of it), so 32 MiB would outlast
review-code's 300 s and 512 MiB; one part at a time keeps the others' memory to one part's."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

from coderevai_core import markdown, secret_scan
from coderevai_core.findings import Finding, by_severity

from shared.review import budget, engine, static
from shared.review.outcome import ReviewOutcome, SourceFile, Usage

PART_BYTES = 256 * 1024  # ~64k tokens: one model call with room for the prompt and the answer
MAX_PARTS = 4  # model calls per request: within review-code's 300 s at Gemini's usual latency
STATIC_SECONDS = 120.0  # the other parts' static pass stops starting parts after this (of the 300 s)


class Part(NamedTuple):
    first_line: int  # 1-based, in the whole code
    text: str

    @property
    def last_line(self) -> int:
        return self.first_line + self.text.count("\n") - (1 if self.text.endswith("\n") else 0)


def split(code: str, part_bytes: int = PART_BYTES) -> list[Part]:
    """Line-aligned parts of at most `part_bytes` UTF-8 bytes (a longer line is cut where it must)."""
    parts: list[Part] = []
    lines = code.splitlines(keepends=True)
    current: list[str] = []
    size, first = 0, 1
    for number, line in enumerate(lines, start=1):
        length = len(line.encode("utf-8", errors="surrogatepass"))
        if current and size + length > part_bytes:
            parts.append(Part(first, "".join(current)))
            current, size, first = [], 0, number
        while length > part_bytes:  # one huge line (minified code): cut it, the rest starts a part
            cut = _prefix_within(line, part_bytes)
            parts.append(Part(number, line[:cut]))
            line = line[cut:]
            length = len(line.encode("utf-8", errors="surrogatepass"))
        current.append(line)
        size += length
    if current:
        parts.append(Part(first, "".join(current)))
    return parts


def _prefix_within(text: str, limit: int) -> int:
    low, high = 1, len(text)
    while low < high:  # the longest prefix whose encoding fits
        middle = (low + high + 1) // 2
        if len(text[:middle].encode("utf-8", errors="surrogatepass")) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def part_bytes() -> int:
    """One part: what one model call reads, within PART_BYTES (code is ~1 byte a character)."""
    return min(PART_BYTES, budget.current().code_chars)


def review_code(
    code: str,
    *,
    language: str,
    modes: Sequence[str],
    custom_prompt: str | None,
    file_name: str | None,
    review_language: str | None = None,
) -> ReviewOutcome:
    parts = split(code, part_bytes())
    if len(parts) == 1:
        return engine.review_snippet(
            code,
            language=language,
            modes=modes,
            custom_prompt=custom_prompt,
            file_name=file_name,
            review_language=review_language,
        )
    path = file_name or ""
    leaks = secret_scan.findings(code, path)
    chosen = choose(parts, leaks)
    findings: list[Finding] = []
    sections: list[str] = []
    model, usage = engine.STATIC_MODEL, Usage()
    for part in chosen:
        outcome = engine.review_snippet(
            part.text,
            language=language,
            modes=modes,
            custom_prompt=custom_prompt,
            file_name=file_name,
            review_language=review_language,
        )
        # The part's own findings list goes: the whole code's list, with its lines, closes the feedback.
        prose = outcome.feedback.rpartition(markdown.FINDINGS_HEADING)[0].strip() or outcome.feedback
        sections.append(f"### Lines {part.first_line}-{part.last_line}\n\n{prose}")
        findings += [_shifted(f, part.first_line - 1) for f in outcome.findings]
        model = outcome.model
        usage = Usage(
            promptTokens=usage.promptTokens + outcome.usage.promptTokens,
            outputTokens=usage.outputTokens + outcome.usage.outputTokens,
            totalTokens=usage.totalTokens + outcome.usage.totalTokens,
        )
    unread = [part for part in parts if part not in chosen]
    checked = static_pass(unread, path, language, modes)
    for part, found in checked:
        findings += [_shifted(f, part.first_line - 1) for f in found if f.source != "secrets"]
    findings += [leak for leak in leaks if _inside(leak, unread)]  # the whole code's, across part ends
    findings = by_severity(findings)
    note = unread_note(parts, chosen, [part for part, _ in checked])
    feedback = "\n\n".join([note, *sections, markdown.findings_section(findings, all_checked=not unread)])
    return ReviewOutcome(feedback=feedback, findings=findings, model=model, usage=usage)


def static_pass(
    parts: list[Part], path: str, language: str, modes: Sequence[str], seconds: float = STATIC_SECONDS
) -> list[tuple[Part, list[Finding]]]:
    """The parts the model does not read, through every analyser but bandit, one part at a time,
    starting no part after `seconds` have passed; none when no analyser reads this language (the secrets check aside)."""
    if not parts or not static.coverage([SourceFile(path=path, content=parts[0].text)], language).analysed:
        return []
    done, deadline = [], time.monotonic() + seconds
    for part in parts:
        file = SourceFile(path=path, content=part.text)
        done.append((part, static.analyse([file], language, modes, bandit=False)))
        if time.monotonic() > deadline:
            break
    return done


def choose(parts: list[Part], leaks: list[Finding]) -> list[Part]:
    """Up to MAX_PARTS, those holding leaked secrets first, then in order; returned in code order."""

    def hits(part: Part) -> int:
        return sum(1 for leak in leaks if _inside(leak, [part]))

    ranked = sorted(range(len(parts)), key=lambda index: (-hits(parts[index]), index))
    return [parts[index] for index in sorted(ranked[:MAX_PARTS])]


def unread_note(parts: list[Part], chosen: list[Part], checked: Sequence[Part] = ()) -> str:
    total = parts[-1].last_line
    read = _spans(chosen)
    unread = [p for p in parts if p not in chosen and p not in checked]
    if not unread and not checked:
        return f"_This code ({total} lines) was reviewed in {len(chosen)} parts: lines {read}._"
    note = f"_This code ({total} lines) is larger than one review covers: the model and the analysers read lines {read}"
    if checked:
        note += f"; lines {_spans(checked)} were read by the analysers but not by bandit or the model"
    if unread:
        note += f"; lines {_spans(unread)} were not read (only the secrets check covered them)"
    return note + ". Send those lines on their own to have them reviewed._"


def _spans(parts: Sequence[Part]) -> str:
    return ", ".join(f"{p.first_line}-{p.last_line}" for p in parts)


def _inside(finding: Finding, parts: list[Part]) -> bool:
    return finding.line is not None and any(p.first_line <= finding.line <= p.last_line for p in parts)


def _shifted(finding: Finding, by: int) -> Finding:
    return finding if finding.line is None or not by else finding.model_copy(update={"line": finding.line + by})
