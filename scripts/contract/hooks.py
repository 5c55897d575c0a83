"""Schemathesis hooks for scripts/contract-test.

A real client sends a fresh Idempotency-Key with every new request. Schemathesis draws keys from
the schema, so the same short key (say "0") comes back for unrelated requests, and the server
rightly answers 422 ("was already used for a request to ..."), which would hide the operation
behind it. A well-formed key is therefore replaced by a fresh one; a malformed key (the negative
cases) is sent as generated. Replays of one key are tested in tests/api/idempotency.rs.

`/organizations/{organizationId}` answers only for the caller's own organization (another is
403, tested in tests/api/organizations.rs), so a generated id there becomes the organization of
the key that scripts/contract-test starts the server with.
"""

import re
import uuid

import schemathesis

WELL_FORMED = re.compile(r"[ -~]{1,255}")
OWN_ORGANIZATION = "org_contract"


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path == "/organizations/{organizationId}" and case.path_parameters:
        case.path_parameters["organizationId"] = OWN_ORGANIZATION
    headers = case.headers
    if not headers:
        return
    for name in list(headers):
        if name.lower() != "idempotency-key":
            continue
        key = headers[name]
        if isinstance(key, str) and WELL_FORMED.fullmatch(key):
            headers[name] = f"contract-{uuid.uuid4()}"
