"""The static pass on its own: real ruff, bandit, the rules and the secrets check, with exact line numbers."""

from __future__ import annotations

import re
import time

import pytest
from coderevai_core import secret_scan

from shared.review.outcome import SourceFile
from shared.review.static import analyse

PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY-----"
SNIPPET = f'''import os
import json


def load(text):
    value = eval(text)  # noqa: S307  # nosec
    return json.loads(text), value


KEY = """{PRIVATE_KEY}"""
'''


def by_source(findings, source):
    return [f for f in findings if f.source == source]


def test_python_snippet_gets_ruff_bandit_and_secrets_findings_on_the_right_lines():
    findings = analyse([SourceFile(path="", content=SNIPPET)], "python")
    ruff = {f.detail.split(":")[0]: f for f in by_source(findings, "ruff")}
    assert ruff["ruff F401"].line == 1 and "`os` imported but unused" in ruff["ruff F401"].title
    assert ruff["ruff F401"].suggestion == "Remove unused import: `os`"
    bandit = by_source(findings, "bandit")
    # eval is medium to bandit; the author's `# noqa  # nosec` ranks it one step lower, never hides it
    [eval_call] = [f for f in bandit if "B307" in f.detail]
    assert (eval_call.line, eval_call.severity, eval_call.category) == (6, "low", "security")
    assert "suppression comment" in eval_call.detail
    secrets = by_source(findings, "secrets")
    assert [(f.line, f.severity, f.title) for f in secrets] == [(10, "critical", "Private key in source code")]
    assert all(f.file is None for f in findings)
    assert "MIIEow" not in secrets[0].detail  # the secret itself is never echoed


def test_batch_findings_carry_their_file_and_other_languages_get_rules_not_python_tools():
    token = "ghp_ErQHQwjyaxErPZDS3MoJaQNjCxkv5ndK0meG"
    files = [
        SourceFile(path="src/app.py", content="import sys\n"),
        SourceFile(path="web/config.js", content=f"// settings\nconst token = '{token}';\nconst x = eval(y);\n"),
        SourceFile(path="../../etc/evil.py", content="\n\nexec(data)\n"),
    ]
    findings = analyse(files, "python")
    assert {(f.file, f.line, f.source) for f in findings} >= {
        ("src/app.py", 1, "ruff"),
        ("web/config.js", 2, "secrets"),
        ("web/config.js", 3, "rules"),
        ("../../etc/evil.py", 3, "bandit"),
    }
    assert not [f for f in findings if f.file == "web/config.js" and f.source in ("ruff", "bandit")]


def bandit_alone(file):
    import tempfile
    from pathlib import Path

    from shared.review.static import python_tools

    with tempfile.TemporaryDirectory() as workdir:
        root = Path(workdir)
        return python_tools.bandit_findings(root, python_tools.write_copies([(0, file)], root))


def test_bandit_injection_tests_are_high_only_when_a_source_reaches_the_line():
    code = (
        "import os\nimport pickle\n\n\n"
        "@app.route('/users/<name>')\n"
        "def user(name):\n"
        "    return cursor.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)\n\n\n"
        "def compile_query(table, name):\n"
        "    return cursor.execute(\"SELECT * FROM %s WHERE name = '%s'\" % (table, name))\n\n\n"
        "def restore():\n"
        "    return pickle.loads(request.get_data())\n\n\n"
        "def load(blob):\n"
        "    data = blob\n"
        "    return pickle.loads(blob)\n"
    )
    bandit = bandit_alone(SourceFile(path="app/db.py", content=code))  # before merging with the rules' findings
    rated = {(f.rule, f.line): f for f in bandit if f.rule in ("B608", "B301")}
    assert {key: f.severity for key, f in rated.items()} == {
        ("B608", 7): "high",  # a Flask view's URL argument
        ("B608", 11): "low",  # a library function's parameter
        ("B301", 15): "high",  # the request body
        ("B301", 20): "low",
    }
    assert "check where this value comes from" in rated[("B608", 11)].detail
    weak = "import hashlib\ndef etag(body):\n    return hashlib.md5(body).hexdigest()\n"
    weak += "def store(password):\n    return hashlib.md5(password.encode()).hexdigest()\n"
    hashes = [f for f in bandit_alone(SourceFile(path="a.py", content=weak)) if f.rule == "B324"]
    assert [(f.line, f.severity) for f in hashes] == [(3, "low"), (5, "high")]  # as js/java-weak-hash
    assert "check where" not in rated[("B608", 7)].detail


def test_eval_and_exec_are_critical_when_input_or_request_data_reaches_them():
    code = (
        "import sys\n\n\n"
        "def calc():\n"
        "    return eval(input('expression: '))\n\n\n"  # 5: input() is a source
        "def repl():\n"
        "    line = input('> ')\n"
        "    exec(line)\n\n\n"  # 10: through a name
        "@app.route('/calc')\n"
        "def web():\n"
        "    return str(eval(request.args['x']))\n\n\n"  # 15: a request
        "def evaluate(expression, names):\n"
        "    return eval(expression, names)\n\n\n"  # 19: a library function's parameter
        "print(eval(sys.argv[1]))\n"  # 22: the command line
    )
    rated = {f.line: f for f in bandit_alone(SourceFile(path="calc.py", content=code)) if f.rule in ("B307", "B102")}
    assert {line: f.severity for line, f in rated.items()} == {
        5: "critical",
        10: "critical",
        15: "critical",
        19: "medium",  # bandit's own rating: eval is a hazard wherever its argument comes from
        22: "critical",
    }
    assert "the sender's code runs here" in rated[5].detail
    assert "the sender's code runs here" not in rated[19].detail


def test_a_mutable_default_is_high_and_a_call_in_a_default_medium():
    code = "import time\n\n\ndef add(item, into=[]):\n    return into\n\n\ndef stamp(at=time.time()):\n    return at\n"
    found = {f.rule: f.severity for f in analyse([SourceFile(path="", content=code)], "python") if f.source == "ruff"}
    assert found["B006"] == "high"
    assert found["B008"] == "medium"


def test_bidi_overrides_stay_high_and_right_to_left_marks_are_low():
    locale = 'DATE_FORMAT = "j F\u200f Y"\n'
    trojan = 'access = "user\u202e \u2066# admin\u2069 \u2066"\n'
    files = [SourceFile(path="formats.py", content=locale), SourceFile(path="auth.py", content=locale + trojan)]
    found = {f.file: f.severity for f in analyse(files, "python") if f.rule == "B613"}
    assert found == {"formats.py": "low", "auth.py": "high"}  # bandit reports a file once, at its first mark


def test_syntax_errors_are_reported_not_fatal():
    findings = analyse([SourceFile(path="broken.py", content="def f(:\n    pass\n")], "python")
    assert any(f.source == "ruff" and f.category == "syntax" and f.line == 1 for f in findings)


def test_secret_shapes_and_placeholders():
    text = (
        "aws = 'AKIAIOSFODNN7EXAMPLQ'\n"
        "stripe = 'sk_live_R0vRzZ1fb6d06QGofB8ChQBi'\n"
        'password = "hunter2hunter2"\n'
        'api_key = "your-api-key-here"\n'
        "google = 'AIzaIu4NJkS4dJkG0fzMAQMEEMyIbPUf9mYQqw8'\n"
    )
    kinds = [(leak.line, leak.kind) for leak in secret_scan.scan(text)]
    assert kinds == [
        (1, "AWS access key id"),
        (2, "Stripe live key"),
        (3, "hard-coded credential"),
        (5, "Google API key"),
    ]


def test_masking_hides_secrets_and_keeps_line_numbers():
    masked = secret_scan.mask(SNIPPET, secret_scan.scan(SNIPPET))
    assert "MIIEow" not in masked and "BEGIN RSA" not in masked
    assert masked.count("\n") == SNIPPET.count("\n")
    assert masked.splitlines()[9] == 'KEY = """[REDACTED]'


@pytest.mark.parametrize(
    "unit",
    [
        "-eyJ",  # a JWT start after every hyphen: each one used to rescan the rest of the run
        "-----BEGIN RSA PRIVATE KEY-----",  # each header used to search 20,000 characters for its END
        "eyJ" + "a" * 12 + ".",
        "xoxb-",
        "sk-",
        "password=",
        "a_b.c-d",  # name characters with no keyword: a name pattern scanning both ways went quadratic
        "secret_token",  # keywords inside one endless name
        "x: 'y' ",
    ],
    ids=[
        "jwt-after-hyphens",
        "pem-headers",
        "jwt-dotted",
        "slack",
        "openai",
        "credential",
        "name-chars",
        "keywords",
        "yaml-pairs",
    ],
)
def test_a_megabyte_of_adversarial_text_scans_in_linear_time(unit):
    text = unit * (1024 * 1024 // len(unit))
    started = time.perf_counter()
    secret_scan.scan(text)
    # Linear takes well under a second here; the quadratic shapes took minutes.
    assert time.perf_counter() - started < 2


def test_credentials_are_found_with_the_keyword_anywhere_in_the_name():
    text = 'DB_PASSWORD = "kV9-db-pass-7Qz"\nOPENAI_API_KEY="k3y-v4lue-0123"\nAWS_SECRET: "s3cr3t-v4lue-xyz"\nmypassword = "n0t-a-cred-name"\n'
    assert [(leak.line, leak.kind) for leak in secret_scan.scan(text)] == [
        (line, "hard-coded credential") for line in (1, 2, 3, 4)
    ]


def test_bandit_password_findings_do_not_quote_the_password():
    code = 'token = "q7-short"\n\n\ndef connect(password="Tr0ub4dor-and-3"):\n    return password\n'
    found = analyse([SourceFile(path="db.py", content=code)], "python")
    bandit = [f for f in found if "bandit" in f.analysers]  # the secrets check may have seen them too (merged)
    assert set(re.findall(r"\bbandit (B10[57])\b", " ".join(f.detail for f in bandit))) == {"B105", "B107"}
    assert all("q7-short" not in f.title + f.detail and "Tr0ub4dor" not in f.title + f.detail for f in found)


def test_numbered_masking_puts_each_secret_back_where_the_rewrite_keeps_it():
    text = 'a = "sk_live_R0vRzZ1fb6d06QGofB8ChQBi"\nb = "AKIAIOSFODNN7EXAMPLQ"\n'
    masked, values = secret_scan.mask_numbered(text, secret_scan.scan(text))
    assert masked == 'a = "[REDACTED-1]"\nb = "[REDACTED-2]"\n'
    rewrite = 'b = "[REDACTED-2]"\n'  # the first secret dropped, the second moved up
    assert secret_scan.unmask(rewrite, values) == 'b = "AKIAIOSFODNN7EXAMPLQ"\n'


def test_bandit_runs_in_its_worker_process_on_large_files_with_the_same_findings():
    import os
    import tempfile
    from pathlib import Path

    from shared.review.static import python_tools

    code = "import subprocess\n\n" + "".join(
        f"\ndef run_{n}(command):\n    return subprocess.call(command, shell=True)\n" for n in range(1500)
    )
    assert len(code) > python_tools.BANDIT_WORKER_MIN_CHARS
    big = SourceFile(path="big.py", content=code)
    with tempfile.TemporaryDirectory() as workdir:
        root = Path(workdir)
        names = python_tools.write_copies([(0, big)], root)
        started = python_tools.start_bandit(root, names)
        assert started is not None
        in_worker = python_tools.bandit_findings(root, names, started)
        here = python_tools.bandit_findings(root, names)
        (root / "s").mkdir()
        small = python_tools.write_copies([(0, SourceFile(path="small.py", content="import os\n"))], root / "s")
        assert python_tools.start_bandit(root / "s", small) is None  # a snippet stays in-process
        assert in_worker == here
        assert sum(finding.rule == "B602" for finding in here) == 1500
        worker = python_tools._worker
        assert worker is not None and worker.process.poll() is None and worker.process.pid != os.getpid()
        worker.process.kill()  # out of memory, say: the next large scan starts another
        worker.process.wait()
        assert python_tools.bandit_findings(root, names, python_tools.start_bandit(root, names)) == here
        assert python_tools._worker is not worker and python_tools._worker.process.poll() is None
