"""A Razor view (`.cshtml`, Blazor `.razor`) as the C# it runs, for the C# rules (ast-grep has no
Razor grammar), the way erb.py hands an ERB template to the Ruby rules.

ASP.NET compiles a view into a class whose render method writes the markup and the values of its
`@` expressions; this does the same, roughly, in one pass that keeps every line: markup becomes
blanks, `@expr`, `@(expr)` and `@await expr` become `Write(expr);` (what Razor compiles them to;
a member access alone is no C# statement), `@{ ... }`
blocks and `@if`/`@foreach`/`@using (...)`/`@switch`... keep their C# (with the markup inside them
blanked and its own `@` expressions kept), and `@code { }` / `@functions { }` become members of the
class. Directives (`@model`, `@inject`, `@page`, `@using Namespace`...) and `@* comments *@` are
blanked. The whole is wrapped in `class __RazorView { void __Render() { ... } }` on the first and
last lines, so `@Html.Raw(Request.Query["q"])` is a call the C# XSS rule sees, in the method where
`var q = Request.Query["q"];` of a code block binds its names, and findings point at the view's own
lines (the columns of the first line shift by the wrapper's width; elsewhere a piece keeps its
column unless the one before it grew by `Write(...);`)."""

from __future__ import annotations

import bisect
import contextlib
import re
from collections.abc import Iterator

MAX_NESTING = 32  # blocks within blocks: each level reads the rest of its block again, and costs stack frames
HEAD = "class __RazorView { void __Render() { "
TAIL = " } }"
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:._-]*)")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Control statements whose blocks hold C# (and markup in it): `@if (...) { ... } else { ... }`.
_CONTROL = {"if", "for", "foreach", "while", "switch", "lock", "try", "do", "using"}
_CONTINUE = ("else", "catch", "finally", "while")
# Line directives: nothing of them runs in the render method.
_DIRECTIVES = {"model", "inherits", "inject", "page", "layout", "implements", "namespace", "addTagHelper",
               "removeTagHelper", "tagHelperPrefix", "attribute", "typeparam", "preservewhitespace",
               "rendermode", "using"}  # fmt: skip


def as_csharp(template: str) -> str:
    view = _View(template)
    view.markup(0, len(template))
    return view.render()


class _View:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pieces: list[tuple[int, str]] = []  # (offset in the view, C# text placed there)
        self.members = 0  # @code / @functions blocks seen (each reopens a render method after it)
        self.depth = 0  # blocks and markup nested around the one being read

    def render(self) -> str:
        out: list[str] = [HEAD]
        line, column = 0, 0
        line_starts = [0] + [match.end() for match in re.finditer("\n", self.text)]
        for offset, piece in sorted(self.pieces, key=lambda item: item[0]):
            target = bisect.bisect_right(line_starts, offset) - 1
            want = offset - line_starts[target]
            if target > line:
                out.append("\n" * (target - line))
                line, column = target, 0
            if column < want:
                out.append(" " * (want - column))
                column = want
            elif column:
                out.append(" ")
                column += 1
            out.append(piece)
            newlines = piece.count("\n")
            if newlines:
                line += newlines
                column = len(piece) - piece.rindex("\n") - 1
            else:
                column += len(piece)
        out.append("\n" * (len(line_starts) - 1 - line))
        out.append(TAIL)
        return "".join(out)

    def emit(self, offset: int, piece: str) -> None:
        if piece:
            self.pieces.append((offset, piece))

    # Markup: text and tags are blanks; each `@` transition is C#.
    def markup(self, start: int, end: int) -> None:
        with self.nested() as deeper:
            if deeper:
                self._markup(start, end)

    def code(self, start: int, end: int) -> None:
        with self.nested() as deeper:
            if deeper:
                self._code(start, end)

    @contextlib.contextmanager
    def nested(self) -> Iterator[bool]:
        """One level deeper, if the view is not nested past MAX_NESTING already: deeper than any
        real view, where the rest is left blank (unchecked) rather than exhaust the stack."""
        if self.depth >= MAX_NESTING:
            yield False
            return
        self.depth += 1
        try:
            yield True
        finally:
            self.depth -= 1

    def _markup(self, start: int, end: int) -> None:
        text, at = self.text, start
        while True:
            at = text.find("@", at, end)
            if at < 0 or at + 1 >= end:
                return
            at = self.transition(at, end)

    def transition(self, at: int, end: int) -> int:
        """The C# of the `@` transition at `at`; where the markup goes on after it."""
        text = self.text
        following = text[at + 1]
        if at > 0 and (text[at - 1].isalnum() or text[at - 1] in "._-"):  # an e-mail address
            return at + 1
        if following == "@":  # @@ is a literal @
            return at + 2
        if following == "*":  # @* comment *@
            close = text.find("*@", at + 2, end)
            return end if close < 0 else close + 2
        if following == "(":
            close = _matching(text, at + 1, end)
            self.emit(at + 1, "Write(" + text[at + 1 : close] + ");")
            return close
        if following == "{":
            close = _matching(text, at + 1, end)
            self.emit(at + 1, "{")
            self.code(at + 2, close - 1)
            self.emit(close - 1, "}")
            return close
        word = _WORD.match(text, at + 1)
        if not word:
            return at + 1
        name, after = word.group(), word.end()
        rest = _skip_space(text, after, end)
        if name in ("code", "functions") and rest < end and text[rest] == "{":
            close = _matching(text, rest, end)
            self.members += 1
            self.emit(at, "}")  # the render method ends; the block's members belong to the class
            self.emit(rest + 1, text[rest + 1 : close - 1])
            self.emit(close - 1, f"void __Render{self.members}() {{")
            return close
        if name in _CONTROL and not (name == "using" and (rest >= end or text[rest] != "(")):
            return self.control(at + 1, end)
        if name in _DIRECTIVES:
            newline = text.find("\n", at, end)
            return end if newline < 0 else newline
        if name == "section" and (brace := text.find("{", after, end)) >= 0:
            close = _matching(text, brace, end)
            self.markup(brace + 1, close - 1)
            return close
        if name == "await":
            word = _WORD.match(text, rest)
            if not word:
                return after
            close = _chain(text, word.end(), end)
            self.emit(at + 1, "Write(" + text[at + 1 : close] + ");")
            return close
        close = _chain(text, after, end)
        self.emit(at + 1, "Write(" + text[at + 1 : close] + ");")
        return close

    def control(self, start: int, end: int) -> int:
        """`if (...) { ... } else ...` from its keyword: headers as they are, blocks as C#."""
        text, at = self.text, start
        while True:
            brace = at
            while brace < end and text[brace] != "{":
                if text[brace] == "(":
                    brace = _matching(text, brace, end)
                else:
                    brace += 1
            if brace >= end:
                return end
            self.emit(at, text[at : brace + 1])
            close = _matching(text, brace, end)
            self.code(brace + 1, close - 1)
            self.emit(close - 1, "}")
            at = _skip_space(text, close, end)
            word = _WORD.match(text, at)
            if not word or word.group() not in _CONTINUE:
                return close
            if word.group() == "while":  # do { } while (...);
                semicolon = text.find(";", at, end)
                stop = end if semicolon < 0 else semicolon + 1
                self.emit(at, text[at:stop])
                return stop

    # C# in a code block: as it is, except markup where a statement would begin (`<p>...</p>`,
    # `<text>...</text>`, `@:` to the end of the line), which is markup with its own transitions.
    def _code(self, start: int, end: int) -> None:
        text, at, piece, statement_start = self.text, start, start, True
        while at < end:
            char = text[at]
            if char in "\"'" or (char in "@$" and at + 1 < end and text[at + 1] == '"'):
                at, statement_start = _string_end(text, at, end), False
                continue
            if text.startswith("//", at):
                newline = text.find("\n", at, end)
                at = end if newline < 0 else newline
                continue
            if text.startswith("/*", at):
                close = text.find("*/", at + 2, end)
                at = end if close < 0 else close + 2
                continue
            if text.startswith("@*", at):  # a Razor comment in code
                self.emit(piece, text[piece:at])
                close = text.find("*@", at + 2, end)
                at = piece = end if close < 0 else close + 2
                continue
            if text.startswith("@<", at) and _TAG.match(text, at + 1):  # a template: markup as a value
                self.emit(piece, text[piece:at])
                self.emit(at, "null")  # its @ expressions run later, in another method: not followed
                at = piece = _element_end(text, at + 1, end)
                statement_start = False
                continue
            if statement_start and char == "@" and at + 1 < end and (text[at + 1] in "(@" or _WORD.match(text, at + 1)):
                self.emit(piece, text[piece:at])  # `{ @value }`: output from inside a block
                at = piece = self.transition(at, end)
                continue
            markup_end = None
            if statement_start and char == "<" and _TAG.match(text, at):
                markup_end = _element_end(text, at, end)
            elif statement_start and text.startswith("@:", at):
                newline = text.find("\n", at, end)
                markup_end = end if newline < 0 else newline
            if markup_end is not None:
                self.emit(piece, text[piece:at])
                first = at + 2 if text.startswith("@:", at) else at
                self.markup(first, markup_end)
                at = piece = markup_end
                continue
            if not char.isspace():
                statement_start = char in "{};:"  # `case 1:` too
            at += 1
        self.emit(piece, text[piece:end])


def _matching(text: str, opener: int, end: int) -> int:
    """The offset after the bracket that closes the one at `opener`, skipping strings and comments."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack, at = [pairs[text[opener]]], opener + 1
    while at < end and stack:
        char = text[at]
        if char in "\"'" or (char in "@$" and at + 1 < end and text[at + 1] == '"'):
            at = _string_end(text, at, end)
            continue
        if text.startswith("//", at) and stack[-1] != ")":
            newline = text.find("\n", at, end)
            at = end if newline < 0 else newline
            continue
        if text.startswith("/*", at):
            close = text.find("*/", at + 2, end)
            at = end if close < 0 else close + 2
            continue
        if char in pairs:
            stack.append(pairs[char])
        elif char == stack[-1]:
            stack.pop()
        at += 1
    return at


def _string_end(text: str, at: int, end: int) -> int:
    """The offset after a C# string or character literal (`"..."`, `'c'`, `@"..."`, `$"..."`)."""
    verbatim = False
    while text[at] in "@$":
        verbatim |= text[at] == "@"
        at += 1
    quote, at = text[at], at + 1
    while at < end:
        char = text[at]
        if char == "\\" and not verbatim:
            at += 2
            continue
        if char == quote:
            if verbatim and text.startswith(quote * 2, at):
                at += 2
                continue
            return at + 1
        if char == "\n" and not verbatim:
            return at
        at += 1
    return end


def _chain(text: str, at: int, end: int) -> int:
    """The end of an implicit expression: `Model.Items[0].Name`, `Html.Raw(x)`, `item?.Title`."""
    while at < end:
        char = text[at]
        if char in "([":
            at = _matching(text, at, end)
        elif char == "." or (char == "?" and text.startswith("?.", at)):
            dot = at + (2 if char == "?" else 1)
            word = _WORD.match(text, dot)
            if not word:
                return at
            at = word.end()
        else:
            return at
    return at


def _element_end(text: str, at: int, end: int) -> int:
    """The offset after the element whose start tag is at `at` (its end tag, or the tag itself)."""
    name = _TAG.match(text, at).group(2).lower()
    close = _tag_end(text, at, end)
    if name in _VOID or text[close - 2 : close] == "/>":
        return close
    depth = 1
    for tag in _TAG.finditer(text, close, end):
        if tag.group(2).lower() != name:
            continue
        tag_end = _tag_end(text, tag.start(), end)
        if tag.group(1):
            depth -= 1
            if depth == 0:
                return tag_end
        elif text[tag_end - 2 : tag_end] != "/>":
            depth += 1
    return end


def _tag_end(text: str, at: int, end: int) -> int:
    """The offset after a tag's `>`, skipping quoted attribute values."""
    while at < end:
        char = text[at]
        if char in "\"'":
            close = text.find(char, at + 1, end)
            at = end if close < 0 else close + 1
            continue
        if char == ">":
            return at + 1
        at += 1
    return end


def _skip_space(text: str, at: int, end: int) -> int:
    while at < end and text[at].isspace():
        at += 1
    return at
