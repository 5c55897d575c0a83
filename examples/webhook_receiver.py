#!/usr/bin/env python3
"""A webhook receiver that verifies each delivery's Standard Webhooks signature.

    pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... python3 examples/webhook_receiver.py [PORT]

It answers 204 to a delivery whose signature verifies (and prints its event as one JSON line:
webhook-id, eventType, invoiceId, revision), and 400 to any other, so the server retries.
A receiver keeps the highest `revision` it has applied per invoice: a delivery that arrives
again (at least once) or carries an older revision is acknowledged and ignored.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

webhook = Webhook(os.environ["WEBHOOK_SECRET"])
applied = {}


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            headers = {name.lower(): value for name, value in self.headers.items()}
            event = webhook.verify(body, headers)
        except WebhookVerificationError as error:
            print(json.dumps({"refused": str(error)}), flush=True)
            self.send_response(400)
            self.end_headers()
            return
        invoice, revision = event["invoiceId"], event["revision"]
        fresh = revision > applied.get(invoice, -1)
        if fresh:
            applied[invoice] = revision
        print(json.dumps({"webhook-id": self.headers["webhook-id"],
                          "eventType": event["eventType"], "invoiceId": invoice,
                          "revision": revision, "applied": fresh}), flush=True)
        self.send_response(204)
        self.end_headers()

    do_PUT = do_PATCH = do_DELETE = do_GET = do_POST

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
