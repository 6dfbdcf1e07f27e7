"""Our own structural rules for every common language, run by ast-grep (its Python bindings: a
Rust engine with tree-sitter grammars, loaded in-process). The rules are data: one YAML file per
language family in this package, each rule with a positive and a negative case in the tests.

Why ast-grep and not semgrep: semgrep's open-source engine is a separate OCaml binary driven by a
Python CLI (1.7-2.2 s per call here, 58 MB wheel, 330 MB installed, LGPL-2.1); ast-grep-py is one
MIT-licensed extension module (5.7 MB wheel) that parses and matches in milliseconds in-process.

Sources and sinks (what a rule file may declare besides `utils` and `rules`; spec.py validates it):
- `utils.request-data`: nodes that are outside data wherever they appear (`request.args`, `req.body`,
  `r.FormValue(...)`, `getParameter(...)`, `input()`, `sys.argv`, `os.Args`...); `utils.from-request`:
  request data or a node containing it.
- `functions: [kinds]`: the node kinds that open a function scope (functions, methods, lambdas);
  `identifiers: [kinds]` the kinds that name a variable (default `identifier`).
- `tainted_names: {rule, name}`: a binding from request data (the rule should use `matches:
  from-request`); `name` is the field holding the bound name(s) (left out: the binding holds them
  among its children). The name is a source in the
  function that binds it (and functions nested in it), never in another one. Bindings are collected
  once per file and keyed by their enclosing function's range (a per-use search of the enclosing
  function went quadratic); chains (`a = req.x; b = f(a)`) are followed in a few more passes, each
  widening `from-request` to the names known so far.
- `route_handlers: {rule, params, objects}`: `rule` matches a function node a framework routes to;
  `params` (a rule, run inside that function) selects parameter identifiers whose values are
  sources (Flask view arguments, Spring `@RequestParam`, `main`'s `args`); `objects` selects request
  objects (`r *http.Request`, `HttpServletRequest request`), a source only where a field or method
  of theirs is read (`r.Form`), not when passed whole (`http.Redirect(w, r, ...)`).
- `bound_names: {util: {rule, name}}`: names the file binds to some shape (an SQL string built with
  `+`), offered to the rules as util `util` (file-wide, a pattern's pre-condition).
  In `tainted_names` and `bound_names`, `name` may be left out: the binding itself is the name, or
  holds it among its children (a Kotlin `variable_declaration`, a Rust `let`'s pattern).
- `sources_require: [text]`: a file holding none of these texts has no request data, so the rules
  whose pattern asks for it (`tainted`) are not run on it.
- ERB templates have no grammar here: they are rewritten into the Ruby they run (`erb.py`,
  `PARSED_AS`) and checked by the Ruby rules; Razor views (`.cshtml`, `.razor`) likewise into the
  C# they run (`razor.py`), checked by the C# rules.
- Rule level: `severity` is for a sink that outside data reaches; `unsourced: low | info | none`
  makes the rule a sink: its pattern matches without a taint condition, and the engine checks that
  a source lies in the sink's arguments (the `arguments` field, else an assignment's `right`, else
  the whole match) within the enclosing function. Unreached, the finding is reported at the
  `unsourced` severity and says so (`none`: not reported). A rule without `unsourced` whose pattern
  uses the `tainted` util (request data, or a tainted name anywhere in the file) is checked the same
  way, with `none`. Other rules (configuration: debug on, TLS off) report what their pattern matches.
- `reach: function` (with `unsourced`): the match is a hazard whose data arrives later in the same
  function (a BinaryFormatter built here deserialises a stream two lines down; an XML factory made
  here parses a document later): it is reached when a source lies anywhere in its outermost
  enclosing function, not only in its own arguments."""

from __future__ import annotations

from pathlib import PurePosixPath

from shared import languages
from shared.languages import SUFFIX_GRAMMARS as GRAMMARS
from shared.languages import language_of
from shared.review.outcome import SourceFile
from shared.review.static.rules.driver import PARSED_AS, UNSOURCED_NOTE, reached_lines, scan
from shared.review.static.rules.family import RULE_FILES, RULES_DIR, Family, Rule, family_for, rules_for
from shared.review.static.rules.family import _family as _family

__all__ = ["GRAMMARS", "PARSED_AS", "RULES_DIR", "RULE_FILES", "UNSOURCED_NOTE", "Family", "Rule",
           "family_for", "grammar_of", "reached_lines", "rules_for", "scan", "unchecked_language"]  # fmt: skip


def unchecked_language(file: SourceFile, language: str) -> str | None:
    """The language of a source file no analyser here covers (Ruby, PHP, Rust, C#, ...), else None."""
    if PurePosixPath(file.path).suffix:
        return language_of(file.path)
    hint = language.strip().lower()
    return hint if hint and hint not in ("text", "plaintext", "plain", "other", "unknown") else None


def grammar_of(file: SourceFile, language: str) -> str | None:
    return languages.grammar_of(file.path, language)
