"""Schemathesis hooks for scripts/contract-test.

A real client sends a fresh Idempotency-Key with every new request. Schemathesis draws keys from
the schema, so the same short key (say "0") comes back for unrelated requests, and the server
rightly answers 422 ("was already used for a request to ..."), which would hide the operation
behind it. A well-formed key is therefore replaced by a fresh one; a malformed key (the negative
cases) is sent as generated. Replays of one key are tested in tests/api/idempotency.rs.
"""

import re
import uuid

import schemathesis

WELL_FORMED = re.compile(r"[ -~]{1,255}")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers
    if not headers:
        return
    for name in list(headers):
        if name.lower() != "idempotency-key":
            continue
        key = headers[name]
        if isinstance(key, str) and WELL_FORMED.fullmatch(key):
            headers[name] = f"contract-{uuid.uuid4()}"
