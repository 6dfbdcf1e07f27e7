"""shared/review/parts.py's cutting and choosing: parts end at line ends, never exceed their size in
UTF-8 bytes, cover the code exactly once, and the parts holding leaked secrets are read first."""

from __future__ import annotations

from coderevai_core.findings import Finding

from shared.review.parts import MAX_PARTS, Part, choose, split, static_pass, unread_note


def test_parts_end_at_line_ends_fit_their_size_and_cover_everything():
    code = "".join(f"line {n} é\n" for n in range(1, 2001))
    parts = split(code, part_bytes=1000)
    assert "".join(p.text for p in parts) == code
    assert all(len(p.text.encode()) <= 1000 and p.text.endswith("\n") for p in parts)
    assert parts[0].first_line == 1 and parts[-1].last_line == 2000
    assert all(b.first_line == a.last_line + 1 for a, b in zip(parts, parts[1:], strict=False))
    assert parts[1].text.startswith(f"line {parts[1].first_line} ")


def test_a_line_longer_than_a_part_is_cut_and_the_rest_carries_on():
    code = "short\n" + "é" * 1500 + "\nend\n"
    parts = split(code, part_bytes=1000)
    assert "".join(p.text for p in parts) == code
    assert all(len(p.text.encode()) <= 1000 for p in parts)
    assert [p.first_line for p in parts][:2] == [1, 2]


def leak_at(line: int) -> Finding:
    return Finding(severity="critical", category="secrets", title="token", detail="d", line=line, source="secrets")


def test_parts_with_leaks_are_read_first_then_the_earliest_in_code_order():
    parts = [Part(1 + 10 * n, "x\n" * 10) for n in range(MAX_PARTS + 3)]
    last = parts[-1]
    chosen = choose(parts, [leak_at(last.first_line + 2)])
    assert len(chosen) == MAX_PARTS and chosen[-1] == last and chosen[: MAX_PARTS - 1] == parts[: MAX_PARTS - 1]
    note = unread_note(parts, chosen)
    assert (
        f"lines {parts[MAX_PARTS - 1].first_line}-{parts[MAX_PARTS - 1].last_line}" in note and "were not read" in note
    )


def test_the_note_names_what_read_each_span():
    parts = [Part(1 + 10 * n, "x\n" * 10) for n in range(MAX_PARTS + 2)]
    chosen, checked = parts[:MAX_PARTS], parts[MAX_PARTS : MAX_PARTS + 1]
    note = unread_note(parts, chosen, checked)
    spare, last = parts[MAX_PARTS], parts[-1]
    assert f"lines {spare.first_line}-{spare.last_line} were read by the analysers but not by bandit" in note
    assert f"lines {last.first_line}-{last.last_line} were not read" in note


def test_the_static_pass_of_the_other_parts_stops_at_its_deadline_and_skips_unanalysed_languages():
    parts = split("import os\nos.system(input())\n" * 200, part_bytes=1000)
    assert len(static_pass(parts, "big.py", "python", ["security"], seconds=0.0)) == 1  # the first, then stop
    done = static_pass(parts, "big.py", "python", ["security"])
    assert [part for part, _ in done] == parts
    assert all(any(f.rule == "python-command-injection" for f in found) for _, found in done)
    assert all(f.source != "bandit" for _, found in done for f in found)
    assert static_pass(parts, "notes.txt", "text", ["security"]) == []
