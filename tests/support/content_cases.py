"""Hostile file content for every language the static pass covers (docs/reviews.md's table): each
language's program with a 100 KB+ identifier, string, comment and line, nesting 5,000 deep, a
syntax error, empty and whitespace-only text, mixed line ends, a byte-order mark, control
characters. All of it generated here, from each language's own small templates, so nothing
third-party is committed. Used by tests/test_content_fuzz.py and benchmarks/content_fuzz.py."""

from __future__ import annotations

from typing import NamedTuple

LONG = 100 * 1024 + 17  # past 100 KB, and not a round number
DEEP = 5000


class Language(NamedTuple):
    name: str  # the web app's language value (review-code's `language`)
    path: str  # a file name the static pass reads as this language
    # Templates: {name} an identifier, {text} string content, {comment} a comment's text; `nest`
    # opens and closes one level; `broken` does not parse.
    program: str
    string: str
    comment: str
    nest: tuple[str, str, str]  # (prefix, open, close) + suffix: prefix + open*n + close*n + suffix
    suffix: str
    broken: str


# Each program names an undefined or unused identifier where the language's analyser quotes it
# back (ruff's F821, shellcheck's SC2154...): the way a user's text reaches a finding's fields.
LANGUAGES = (
    Language("python", "app.py", "import os\n\n\ndef run(request):\n    return {name}(request.args['q'])\n",
             's = "{text}"\n', "# {comment}\n", ("x = ", "(", ")"), "\n", "def run(:\n    return [\n"),
    Language("javascript", "app.js", "const express = require('express');\napp.get('/', (req, res) => {{ res.send({name}(req.query.q)); }});\n",
             'const s = "{text}";\n', "// {comment}\n", ("const x = ", "[", "]"), ";\n", "function (a, {{\n"),
    Language("typescript", "app.ts", "export function run(input: string): number {{\n  return {name}(input);\n}}\n",
             'const s: string = "{text}";\n', "/* {comment} */\n", ("const x = ", "(", ")"), ";\n", "let x: = ;\n"),
    Language("go", "main.go", "package main\n\nimport \"net/http\"\n\nfunc handler(w http.ResponseWriter, r *http.Request) {{\n\t{name}(r.FormValue(\"q\"))\n}}\n",
             'package main\n\nvar s = "{text}"\n', "package main\n\n// {comment}\n", ("package main\n\nvar x = ", "(", ")"), "\n", "package main\n\nfunc {{\n"),
    Language("java", "App.java", "class App {{\n  void run(javax.servlet.http.HttpServletRequest request) {{\n    {name}(request.getParameter(\"q\"));\n  }}\n}}\n",
             'class S {{ String s = "{text}"; }}\n', "// {comment}\nclass C {{}}\n", ("class N { int x = ", "(", ")"), "; }\n", "class {{ void ( }}\n"),
    Language("php", "index.php", "<?php\necho {name}($_GET['q']);\n",
             "<?php\n$s = \"{text}\";\n", "<?php\n// {comment}\n", ("<?php\n$x = ", "(", ")"), ";\n", "<?php\nfunction ( {{\n"),
    Language("ruby", "app.rb", "class AppController\n  def show\n    {name}(params[:q])\n  end\nend\n",
             's = "{text}"\n', "# {comment}\n", ("x = ", "[", "]"), "\n", "def (\n  end end\n"),
    Language("erb", "show.html.erb", "<p><%= raw {name}(params[:q]) %></p>\n",
             '<p title="{text}"><%= "{text}" %></p>\n', "<%# {comment} %>\n", ("<%= ", "[", "]"), " %>\n", "<% if ( %>\n<p>\n"),
    Language("csharp", "App.cs", "class App {{\n  void Run(string q) {{\n    {name}(Request.Query[\"q\"]);\n  }}\n}}\n",
             'class S {{ string s = "{text}"; }}\n', "// {comment}\nclass C {{}}\n", ("class N { int x = ", "(", ")"), "; }\n", "class {{ void ( }}\n"),
    Language("razor", "Index.cshtml", "<p>@Html.Raw({name}(Request.Query[\"q\"]))</p>\n",
             '<p title="{text}">@("{text}")</p>\n', "@* {comment} *@\n", ("<p>@(", "(", ")"), ")</p>\n", "@{{ var x = ( }}\n<p>\n"),
    Language("kotlin", "App.kt", "fun run(request: javax.servlet.http.HttpServletRequest) {{\n    {name}(request.getParameter(\"q\"))\n}}\n",
             'val s = "{text}"\n', "// {comment}\n", ("val x = ", "(", ")"), "\n", "fun (a: {{\n"),
    Language("rust", "main.rs", "fn main() {{\n    let q = std::env::args().nth(1).unwrap();\n    {name}(&q);\n}}\n",
             'const S: &str = "{text}";\n', "// {comment}\n", ("const X: i32 = ", "(", ")"), ";\n", "fn main( {{\n"),
    Language("shell", "run.sh", "#!/bin/bash\necho \"${name}\"\neval \"$1\"\n",
             '#!/bin/bash\ns="{text}"\necho "$s"\n', "#!/bin/bash\n# {comment}\n", ("#!/bin/bash\nx=", "$(", ")"), "\n", "#!/bin/bash\nif [ -z \"$1\" ; then\n"),
    Language("dockerfile", "Dockerfile", "FROM python\nENV {name}=1\nRUN echo ${name}\n",
             'FROM python:3.12\nRUN echo "{text}"\n', "FROM python:3.12\n# {comment}\n", ("FROM python:3.12\nRUN echo ", "$(", ")"), "\n", "FROM\nRUN [\"unclosed\n"),
    Language("github-actions", ".github/workflows/ci.yml",
             "on: pull_request_target\njobs:\n  {name}:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: echo \"${{{{ github.event.pull_request.title }}}}\"\n",
             'on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "{text}"\n',
             "# {comment}\non: push\njobs: {{}}\n", ("on: push\njobs: ", "[", "]"), "\n", "on: [push\njobs:\n  - : :\n"),
    Language("html", "index.html", '<form action="http://example.com/{name}"><a href="https://x.example" target="_blank">{name}</a></form>\n',
             '<div title="{text}">{text}</div>\n', "<!-- {comment} -->\n", ("", "<div>", "</div>"), "\n", "<div <p></a></div\n"),
)  # fmt: skip


def identifier(size: int = LONG) -> str:
    return "x" * size


def program(language: Language, name: str = "run_query") -> str:
    return language.program.format(name=name)


def cases(language: Language) -> dict[str, str]:
    """Name -> content: the hostile shapes of one language's file."""
    prefix, opening, closing = language.nest
    base = program(language)
    return {
        "long identifier": program(language, identifier()),
        "long string": language.string.format(text="é" * (LONG // 2) + "a" * (LONG // 2)),
        "long comment": language.comment.format(comment="comment " * (LONG // 8)),
        "one long line": base.replace("\n", " ") + " " + "y" * LONG,
        "deep nesting": prefix + opening * DEEP + "1" + closing * DEEP + language.suffix,
        "syntax error": language.broken,
        "empty": "",
        "whitespace only": " \t\n\n   \r\n\t",
        "mixed line ends": base.replace("\n", "\r\n", 2).replace("\n", "\r", 1) + language.string.format(text="z"),
        "byte-order mark": "\ufeff" + base,
        "control characters": base + language.comment.format(comment="\x01\x07\x1b[31m\x7f\u2028\u202e\u2066"),
    }


SHAPES = tuple(cases(LANGUAGES[0]))

# Each language's own punctuation and keywords' letters, for random text that its parsers (ours for
# Razor and ERB views, tree-sitter's, the external analysers') meet at every turn.
ALPHABETS = {
    "app.py": "()[]{}:'\"\\\n\r\t #fdrbu=.,;@*",
    "app.js": "()[]{}`'\"\\/\n*=>;$ req.bodyeval",
    "app.ts": "<>()[]{}:`'\"\\/\n*=;as any",
    "main.go": "func(){}[]`'\"\\/\n:=;*&<-",
    "App.java": "class(){}[]<>@'\"\\/\n;*+",
    "index.php": "<?php $abc()'\"{}[];\n\\`#/*?>",
    "app.rb": "def end()[]{}|#'\"`\\%\n:@=",
    "show.html.erb": "<%=-#%>\n\r\"'{}()[] abcraw.params:\\@",
    "App.cs": "class(){}[]<>@$'\"\\/\n;#",
    "Index.cshtml": "@{}()<>\"'*:;=\n\r\t #abcHtml.Raw.Request[]@@/\\!-",
    "App.kt": "fun(){}\"'$`;:\n ",
    "main.rs": "fn(){}[]<>'\"\\!#r;:&*\n",
    "run.sh": "$(){}[]\"'`\\ \n;&|<>eval1@*#!/bin",
    "Dockerfile": "FROM RUN \\\n$()\"'[]{}#=",
    ".github/workflows/ci.yml": "on: jobs:\n -{}[]$\"'&*!|> \t",
    "index.html": "<>{}%!-/\"'= \nabc|safe{{}}",
}
