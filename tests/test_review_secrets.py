"""The secrets check on labelled cases of our own: real-looking secrets in each format it reads,
and the placeholders, references and names-about-secrets it must leave alone."""

from __future__ import annotations

import pytest

from shared.review import secret_scan

FOUND = [
    ("STRIPE_SECRET_KEY=sk_live_51HxQ2bK8sLmN3pQrS7tUvWx9yZ\n", ".env", "Stripe live key"),
    ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Hk3LmQ2\n", ".env", "AWS secret access key"),
    ("POSTGRES_PASSWORD=hunter2isnotsafe\n", ".env.production", "hard-coded credential"),
    ("SECRET_KEY = 'd8f7a6s5d4f3g2h1j0k9l8'\n", "settings.py", "hard-coded credential"),
    ("secret_key: q8Zr2Lm5Xv9Tn\n", "config/app.yml", "hard-coded credential"),
    ("  cookieSecret: 'a9Sd8f7G6h5J',\n", "server.js", "hard-coded credential"),
    ("    environment:\n      - POSTGRES_PASSWORD=Pg_s3cret_2024\n", "docker-compose.yml", "hard-coded credential"),
    ('[database]\npassword = "t0ml-Pa55-word"\n', "config.toml", "hard-coded credential"),
    ("spring.datasource.password=Spr1ngS3cr3t!\n", "application.properties", "hard-coded credential"),
    ('{"client_secret": "k8Jd7Hs6Gf5Ds4Aa"}\n', "settings.json", "hard-coded credential"),
    ('dbPassword := "g0-p4ss-w0rd"\n', "main.go", "hard-coded credential"),
    ("export API_TOKEN=tk_9f8e7d6c5b4a\n", "deploy.sh", "hard-coded credential"),
    (
        "hook = 'https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/aBcDeFgHiJkLmNoPqRsTuVwX'\n",
        "notify.py",
        "Slack webhook URL",
    ),
    ("SLACK_APP_TOKEN=xapp-1-A0B1C2D3E4F-1234567890123-a1b2c3d4e5f6a7b8c9d0\n", ".env", "Slack app token"),
    ("//registry.npmjs.org/:_authToken=npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8\n", ".npmrc", "npm token"),
    ("DATABASE_URL=postgres://app:Sup3rS3cretPw@db:5432/app\n", ".env", "password in a connection URL"),
]

LEFT_ALONE = [
    ("key = 'AKIAIOSFODNN7EXAMPLE'\n", "aws.py"),  # the documentation's example key id
    ("tok = 'xoxp-XXXXXXXXXX-XXXXXXXXXX'\n", "slack.py"),
    ("stripe = 'sk_live_" + "a1" * 12 + "'\n", "pay.py"),  # too regular for a real key
    ("password = get_password()\n", "db.py"),
    ("password = os.environ['DB_PASSWORD']\n", "db.py"),
    ("PASSWORD=${DB_PASSWORD}\n", ".env"),
    ("password: changeme\n", "config.yml"),
    ("API_KEY=your-api-key-here\n", ".env.example"),
    ("token_url = 'https://oauth2.example.test/token'\n", "oauth.py"),
    ("password_field = 'password'\n", "forms.py"),
    ("const token = req.headers.authorization;\n", "auth.js"),
    ("secret = settings.SECRET_KEY\n", "app.py"),
    ("PASSWORD_MIN_LENGTH = 12\n", "settings.py"),
    ("password: str = Field(min_length=8)\n", "schemas.py"),
    ("api_key = api_key_from_vault\n", "client.py"),  # a bare name in code is a variable, not a value
]


@pytest.mark.parametrize(("text", "path", "kind"), FOUND, ids=[case[2] + ":" + case[1] for case in FOUND])
def test_each_labelled_secret_is_found_and_masked(text, path, kind):
    leaks = secret_scan.scan(text, path)
    assert [leak.kind for leak in leaks] == [kind]
    [finding] = secret_scan.findings(text, path)
    value = text[leaks[0].start : leaks[0].end]
    assert value not in finding.model_dump_json()  # never echoed, not even a prefix of it
    assert value[:6] not in finding.detail
    assert value not in secret_scan.mask(text, leaks)


@pytest.mark.parametrize(("text", "path"), LEFT_ALONE, ids=[case[0][:30] for case in LEFT_ALONE])
def test_placeholders_references_and_names_about_secrets_are_left_alone(text, path):
    assert secret_scan.scan(text, path) == []


def test_secret_bearing_files_report_everything_they_hold_as_critical():
    env = "DEBUG=1\nSTRIPE_SECRET_KEY=sk_live_51HxQ2bK8sLmN3pQrS7tUvWx9yZ\nMAILER_PASSWORD=m4il-Pa55-2024\n"
    findings = secret_scan.secret_file_findings("deploy/.env", env)
    assert [(f.line, f.severity, f.rule) for f in findings] == [
        (2, "critical", "Stripe live key"),
        (3, "critical", "hard-coded credential"),
    ]
    [store] = secret_scan.secret_file_findings("signing/release.p12", None)
    assert (store.severity, store.file, store.rule) == ("critical", "signing/release.p12", "key store")
