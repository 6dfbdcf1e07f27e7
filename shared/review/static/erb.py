"""An ERB template as the Ruby it runs, for the Ruby rules (ast-grep has no ERB grammar).

Why a rewrite and not the HTML grammar: tree-sitter-html reads `<%` in text as a broken tag, so
ERB tags there come out as ERROR fragments, and a regex over them would see neither the Ruby
expression nor `params[...]` in it. Rails itself compiles a template to Ruby; this does the same in
one pass that keeps every line and column: text outside the tags becomes blanks, `<% code %>` and
`<%= expr %>` their Ruby followed by `;`, and `<%== expr %>` (raw output) becomes `raw( expr );`,
so `raw`, `html_safe` and `<%==` meet one sink rule and findings point at the template's own lines."""

from __future__ import annotations

import re

_TAG = re.compile(r"<%(==|=|#|-)?(.*?)-?%>", re.DOTALL)


def as_ruby(template: str) -> str:
    out: list[str] = []
    position = 0
    for tag in _TAG.finditer(template):
        out.append(_blank(template[position : tag.start()]))
        opener, code = tag.group(1) or "", tag.group(2)
        closer_width = tag.end() - tag.start(2) - len(code)  # "%>" or "-%>"
        if opener == "#":  # a comment tag holds no Ruby
            out.append(_blank(tag.group(0)))
        elif opener == "==":
            out.append("raw(" + code + ")" + ";" + " " * (closer_width - 2))
        else:
            out.append(" " * (2 + len(opener)) + code + ";" + " " * (closer_width - 1))
        position = tag.end()
    out.append(_blank(template[position:]))
    return "".join(out)


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)
