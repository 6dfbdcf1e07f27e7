"""The review of many files: requests within the server's caps, sent with bounded parallelism and a
progress bar (on a terminal only), a 413 split to fit the cap the server states, and the answers kept for merging."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import NamedTuple

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from coderevai.batches import pack, split
from coderevai.client import Client, NothingToReview, TooLarge


class Answers(NamedTuple):
    answers: list[dict]  # one per request: the JSON review, or a SARIF log
    skipped: list[dict]  # files the server would not take: {path, reason}


def send_all(
    entries: list[dict],
    client: Client,
    *,
    options: dict,
    prompt_for: Callable[[list[str]], str | None],
    parallel: int,
    console: Console,
    max_files: int,
    max_bytes: int,
) -> Answers:
    """`options`: reviewModes and reviewLanguage, the same in every request; `prompt_for`: a request's
    customPrompt from its files' paths (the repository's instructions differ by path)."""
    batches = pack(entries, max_files=max_files, max_bytes=max_bytes)
    position = {entry["path"]: index for index, entry in enumerate(entries)}
    answers: list[tuple[int, dict]] = []  # by the position of the request's first file: the same order every run
    skipped: list[dict] = []
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    task = progress.add_task(_description(len(batches)), total=len(entries))

    def waiting(seconds: float) -> None:
        progress.update(task, description=f"Rate limited: waiting {seconds:g}s")

    def send(batch: list[dict]) -> dict:
        prompt = prompt_for([entry["path"] for entry in batch])
        body = {"files": batch, **options, **({"customPrompt": prompt} if prompt else {})}
        answer = client.review(body, on_wait=waiting)
        progress.update(task, description=_description(len(batches)))
        return answer

    with progress, ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="review") as pool:
        pending: dict[Future, list[dict]] = {pool.submit(send, batch): batch for batch in batches}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    batch = pending.pop(future)
                    try:
                        answers.append((position[batch[0]["path"]], future.result()))
                    except TooLarge as exc:
                        if len(batch) == 1:  # one file the server will not take, whatever we do
                            skipped.append({"path": batch[0]["path"], "reason": f"refused by the server: {exc}"})
                        else:
                            for part in split(batch, exc.max_bytes):
                                pending[pool.submit(send, part)] = part
                            continue
                    except NothingToReview as exc:
                        skipped += exc.skipped or [{"path": e["path"], "reason": str(exc)} for e in batch]
                    progress.advance(task, len(batch))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return Answers([answer for _, answer in sorted(answers, key=lambda pair: pair[0])], skipped)


def _description(requests: int) -> str:
    return f"Reviewing ({requests} request{'s' if requests != 1 else ''})"
