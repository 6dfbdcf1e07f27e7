"""PHP, Ruby/ERB, C#, Kotlin and Rust rules keep the source/sink discipline: a sink fed by request
data (a superglobal, params, a controller action's or handler's parameter) is reported at the rule's
severity; the same sink fed by a plain function's parameter is not reported as such."""

from __future__ import annotations

import pytest

from shared.review.outcome import SourceFile
from shared.review.static import rules
from shared.review.static.erb import as_ruby
from shared.review.static.razor import as_csharp

# (grammar, rule, request data reaching the sink, a library function's parameter reaching it)
SOURCE_SINK = [
    ("php", "php-sql-injection",
     "<?php\nfunction show() {\n    $id = $_GET['id'];\n    return mysqli_query($db, \"SELECT * FROM t WHERE id = $id\");\n}\n",
     "<?php\nfunction show($db, $id) {\n    return mysqli_query($db, \"SELECT * FROM t WHERE id = $id\");\n}\n"),
    ("php", "php-command-injection",
     "<?php\n$host = $_POST['host'];\nshell_exec(\"ping -c 1 $host\");\n",
     "<?php\nfunction ping($host) {\n    return shell_exec(\"ping -c 1 $host\");\n}\n"),
    ("php", "php-xss",
     "<?php\nprint('<b>' . $_REQUEST['q'] . '</b>');\n",
     "<?php\nfunction bold($text) {\n    print('<b>' . $text . '</b>');\n}\n"),
    ("ruby", "ruby-command-injection",
     "class BuildsController < ApplicationController\n  def create\n    branch = params[:branch]\n    `git checkout #{branch}`\n  end\nend\n",
     "class Repo\n  def checkout(branch)\n    `git checkout #{branch}`\n  end\nend\n"),
    ("ruby", "ruby-sql-injection",
     "get '/users' do\n  User.order(params[:sort])\nend\n",
     "def sorted(column)\n  User.order(column)\nend\n"),
    ("ruby", "ruby-unsafe-deserialization",
     "post '/import' do\n  YAML.load(request.body.read)\nend\n",
     "def load_fixture(path)\n  YAML.load(File.read(path))\nend\n"),
    ("csharp", "csharp-sql-injection",
     "public class OrdersController : Controller {\n  public IActionResult Find(string customer) {\n    return Ok(db.Orders.FromSqlRaw($\"SELECT * FROM Orders WHERE Customer = '{customer}'\"));\n  }\n}\n",
     "public class OrderRepository {\n  public IQueryable<Order> Find(string customer) {\n    return db.Orders.FromSqlRaw($\"SELECT * FROM Orders WHERE Customer = '{customer}'\");\n  }\n}\n"),
    ("csharp", "csharp-path-traversal",
     "public class FilesController : ControllerBase {\n  [HttpGet]\n  public string Read() {\n    return File.ReadAllText(Request.Query[\"name\"]);\n  }\n}\n",
     "public static class Files {\n  public static string Read(string name) {\n    return File.ReadAllText(name);\n  }\n}\n"),
    ("kotlin", "kotlin-sql-injection",
     "class Search(val db: SQLiteDatabase) {\n    fun onCreate() {\n        val term = intent.getStringExtra(\"q\")\n        db.rawQuery(\"SELECT * FROM notes WHERE body LIKE '%$term%'\", null)\n    }\n}\n",
     "class Notes(val db: SQLiteDatabase) {\n    fun search(term: String) = db.rawQuery(\"SELECT * FROM notes WHERE body LIKE '%$term%'\", null)\n}\n"),
    ("kotlin", "kotlin-path-traversal",
     "@RestController\nclass Files {\n    @GetMapping(\"/f\")\n    fun read(@RequestParam name: String) = Paths.get(\"/srv\", name)\n}\n",
     "class Files {\n    fun read(name: String) = Paths.get(\"/srv\", name)\n}\n"),
    ("rust", "rust-command-injection",
     "fn main() {\n    let args: Vec<String> = std::env::args().collect();\n    Command::new(&args[1]).status().unwrap();\n}\n",
     "fn run(program: &str) {\n    Command::new(program).status().unwrap();\n}\n"),
    ("rust", "rust-path-traversal",
     "#[get(\"/files/<name>\")]\nfn file(name: String) -> String {\n    fs::read_to_string(Path::new(\"/srv\").join(&name)).unwrap()\n}\n",
     "fn file(name: &str) -> String {\n    fs::read_to_string(Path::new(\"/srv\").join(name)).unwrap()\n}\n"),
]  # fmt: skip


def findings(code: str, grammar: str, path: str = ""):
    return rules.scan([(SourceFile(path=path, content=code), grammar)])


@pytest.mark.parametrize(
    ("grammar", "rule_id", "routed", "library"), SOURCE_SINK, ids=[case[1] for case in SOURCE_SINK]
)
def test_request_data_reaching_a_sink_is_reported_a_library_parameter_is_not(grammar, rule_id, routed, library):
    rule = next(rule for rule in rules.rules_for(grammar) if rule.id == rule_id)
    reported = [finding for finding in findings(routed, grammar) if finding.rule == rule_id]
    assert reported and all(finding.severity == rule.severity for finding in reported)
    assert rule.severity in ("high", "critical")
    assert [finding for finding in findings(library, grammar) if finding.rule == rule_id and finding.severity in ("high", "critical")] == []  # fmt: skip


def test_erb_template_is_checked_as_the_ruby_it_runs_on_its_own_lines():
    template = (
        "<h1><%= @title %></h1>\n"
        "<%# a comment: raw(params[:x]) %>\n"
        "<p><%== params[:bio] %></p>\n"
        "<% @posts.each do |post| -%>\n"
        "  <div><%= raw post.body %></div>\n"
        "<% end %>\n"
    )
    found = sorted(
        (finding.line, finding.rule, finding.severity) for finding in findings(template, "erb", "v.html.erb")
    )
    assert found == [(3, "ruby-xss", "high"), (5, "ruby-unescaped-output", "medium")]


def test_erb_rewrite_keeps_every_line_and_column():
    template = "<ul>\n<% items.each do |i| -%>\n  <li><%= i %></li>\n<% end %>\n</ul><%== x %>"
    ruby = as_ruby(template)
    assert len(ruby) == len(template) and ruby.count("\n") == template.count("\n")
    assert ruby.index("items.each") == template.index("items.each") and ruby.index("x") == template.index("x ")
    assert "raw( x )" in ruby and "<" not in ruby


RAZOR_VIEW = """@model ProfileModel
@using System.Text
@{
    ViewData["Title"] = "Profile";
    var term = Request.Query["q"];
}
<h1>@Model.Name, mail info@example.com or @@support</h1>
@* <p>@Html.Raw(Request.Query["x"])</p> *@
<div class="@(Model.Css)">@Html.Raw(Model.Bio)</div>
@if (Model.Items.Any()) {
    <ul>
    @foreach (var item in Model.Items) {
        <li>@item.Title @Html.Raw(term)</li>
    }
    </ul>
} else {
    <text>none</text>
    @:plain @Html.Raw("<b>fixed</b>")
}
<script>var cb = "@Html.Raw(Context.Request.Query["cb"])";</script>
@functions {
    public string Shout(string s) => s.ToUpper();
}
<p>@Html.Raw(Shout(Model.Name))</p>
"""


def test_razor_view_is_checked_as_the_csharp_it_runs_on_its_own_lines():
    """Request data reaching Html.Raw is high on the view's own line (through a name bound in a code
    block, inside markup inside @foreach, in a <script>); Html.Raw of the Model, of a constant, or in
    a comment is not reported."""
    found = sorted(
        (finding.line, finding.rule, finding.severity)
        for finding in findings(RAZOR_VIEW, "razor", "Views/Profile/Index.cshtml")
    )
    assert found == [(13, "csharp-xss", "high"), (20, "csharp-xss", "high")]


def test_razor_rewrite_keeps_every_line_and_parses():
    from ast_grep_py import SgRoot

    csharp = as_csharp(RAZOR_VIEW)
    assert csharp.count("\n") == RAZOR_VIEW.count("\n")
    assert list(SgRoot(csharp, "csharp").root().find_all(kind="ERROR")) == []
    lines = csharp.splitlines()
    assert "Write(Html.Raw(term));" in lines[12] and "Write(item.Title);" in lines[12]
    assert lines[12].index("Write(item.Title)") == RAZOR_VIEW.splitlines()[12].index("@item.Title") + 1
    assert "var term = Request.Query" in lines[4] and "<" not in csharp.replace('"<b>fixed</b>"', "")
    assert lines[21].strip() == "public string Shout(string s) => s.ToUpper();"  # a member of the class


def test_blazor_component_code_block_is_class_members():
    component = (
        '@page "/echo"\n'
        "<p>@((MarkupString)Message)</p>\n"
        "@code {\n"
        "    [Parameter] public string Message { get; set; }\n"
        '    void Show() { var q = Request.Query["m"]; Response.WriteAsync(q); }\n'
        "}\n"
    )
    found = [(f.line, f.rule, f.severity) for f in findings(component, "razor", "Pages/Echo.razor")]
    assert found == [(5, "csharp-xss", "high")]


def test_razor_views_count_as_analysed_csharp_views():
    from shared.languages import language_of
    from shared.review.static import coverage

    views = [SourceFile(path="Views/Home/Index.cshtml", content="<p>@Model.Title</p>\n"),
             SourceFile(path="Pages/Counter.razor", content="<p>@count</p>\n")]  # fmt: skip
    assert [language_of(view.path) for view in views] == ["razor", "razor"]
    assert coverage(views, "") == coverage(views, "")._replace(analysed={"razor": 2}, unchecked={})


def test_razor_output_and_comments_inside_a_code_block():
    view = '@{\n    var q = Request.Query["q"];\n    @Html.Raw(q)\n    @* @Html.Raw(q) *@\n    switch (q) {\n        case "a":\n            <p>@Html.Raw(q)</p>\n            break;\n    }\n}\n'
    assert [(f.line, f.severity) for f in findings(view, "razor", "v.cshtml")] == [(3, "high"), (7, "high")]


def test_razor_blocks_nested_past_any_real_view_are_left_blank_not_a_crash():
    from shared.review.static.razor import MAX_NESTING

    depth = 5000  # Python's stack holds ~1,000 frames: following every level would raise RecursionError
    view = "@if (a) {\n" * depth + '@Html.Raw(Request.Query["q"])\n' + "}\n" * depth
    csharp = as_csharp(view)
    assert csharp.count("\n") == view.count("\n")
    assert csharp.count("if (a) {") == MAX_NESTING and "Request.Query" not in csharp  # the rest is blank
    shallow = "@if (a) {\n" * 3 + '@Html.Raw(Request.Query["q"])\n' + "}\n" * 3
    assert [(f.line, f.severity) for f in findings(shallow, "razor", "v.cshtml")] == [(4, "high")]
