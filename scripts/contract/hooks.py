"""Schemathesis hooks for scripts/contract-test.

A real client sends a fresh Idempotency-Key with every new request. Schemathesis draws keys from
the schema, so the same short key (say "0") comes back for unrelated requests, and the server
rightly answers 422 ("was already used for a request to ..."), which would hide the operation
behind it. A well-formed key is therefore replaced by a fresh one; a malformed key (the negative
cases) is sent as generated. Replays of one key are tested in tests/api/idempotency.rs.

`/organizations/{organizationId}` answers only for the caller's own organization (another is
403, tested in tests/api/organizations.rs), so a generated id there becomes the organization of
the key that scripts/contract-test starts the server with.

`Stripe-Account` on `/v1` must name the caller's own organization (another is 403, tested in
tests/api/stripe_items.rs), so a generated one becomes that organization too.

A webhook's `url` that could be an http(s) URL becomes one on loopback (port 9, where nothing
listens), so that the run resolves no generated host name and delivers nowhere but to this
machine; scripts/contract-test lets webhooks reach loopback. URLs that cannot be http(s) are sent
as generated (422). Which URLs are refused is tested in tests/api/webhooks.rs.
"""

import re
import uuid

import schemathesis

WELL_FORMED = re.compile(r"[ -~]{1,255}")
OWN_ORGANIZATION = "org_contract"
LOOPBACK_HOOK = "http://127.0.0.1:9/contract"
WEBHOOK_PATHS = {"/webhooks", "/webhooks/{id}"}


def keep_webhooks_on_loopback(case):
    body = case.body
    if case.operation.path not in WEBHOOK_PATHS or not isinstance(body, dict):
        return
    url = body.get("url")
    # A URL parser drops tabs and line breaks anywhere, and reads schemes in any case.
    if isinstance(url, str) and "http" in re.sub(r"[\t\n\r]", "", url).lower():
        body["url"] = LOOPBACK_HOOK


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path == "/organizations/{organizationId}" and case.path_parameters:
        case.path_parameters["organizationId"] = OWN_ORGANIZATION
    keep_webhooks_on_loopback(case)
    headers = case.headers
    if not headers:
        return
    for name in list(headers):
        if name.lower() == "stripe-account":
            headers[name] = OWN_ORGANIZATION
        if name.lower() != "idempotency-key":
            continue
        key = headers[name]
        if isinstance(key, str) and WELL_FORMED.fullmatch(key):
            headers[name] = f"contract-{uuid.uuid4()}"
