"""github_app: the signed-in side of the GitHub App. GET /install sends the browser to the app's
install page with a state bound to the user; GET /setup is where GitHub sends it back (the
installation, the user's OAuth code, the state): the installation is linked to the user and the
browser returns to the web app; GET / lists the user's linked installations."""

from urllib.parse import urlencode

import flask
import functions_framework

from shared.config import get_settings
from shared.errors import invalid_input, not_found
from shared.github_app.linking import install_url, link, linked
from shared.github_app.schemas import SetupQuery, installation_body
from shared.http import Call, endpoint

get_settings()  # a missing required variable stops the instance at start, naming it


@functions_framework.http
@endpoint("github_app", methods=("GET",))
def github_app(call: Call):
    path = call.request.path.rstrip("/") or "/"
    if path == "/install":
        return flask.redirect(install_url(call.user_id), code=302)
    if path == "/setup":
        query = call.query(SetupQuery)
        if not query.code:
            raise invalid_input(
                "GitHub sent no OAuth code: enable 'Request user authorization (OAuth) during installation'."
            )
        row = link(call.user_id, query.installation_id, query.code, query.state)
        back = get_settings().github_app_setup_return_url
        return flask.redirect(
            f"{back}{'&' if '?' in back else '?'}{urlencode({'github': 'linked', 'installation': row.id})}", code=302
        )
    if path == "/":
        return {"installations": [installation_body(row) for row in linked(call.user_id)]}
    raise not_found(f"No such path here: {path}")
