"""Stripe's own Python library through Stripe's one-off invoice flow, with a webhook endpoint.

Run by scripts/check-stripe-client after flow.py: `python deliveries.py BASE KEY`. It listens
on 127.0.0.1, makes an endpoint for every event, runs the flow of Stripe's docs (an invoice
sent for payment in 30 days, an item on it, finalize, send, pay), and checks each delivery
with `stripe.Webhook.construct_event`, in order; a forged body, another secret and a replay
past the tolerance must be refused. Every wait is bounded.
"""

import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import stripe

base, key = sys.argv[1], sys.argv[2]
client = stripe.StripeClient(key, base_addresses={"api": base}, max_network_retries=0)
received = []
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with lock:
            received.append({"body": body.decode(), "signature": self.headers["Stripe-Signature"]})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def expect(actual, wanted, what):
    if actual != wanted:
        raise AssertionError(f"{what}: wanted {wanted!r}, got {actual!r}")


server = HTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/stripe"

endpoint = client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": ["*"]})
expect(endpoint.object, "webhook_endpoint", "the endpoint's object")
secret = endpoint.secret
expect(secret.startswith("whsec_"), True, "the secret's prefix")
print(f"ok  endpoint: {endpoint.id} {endpoint.status} {endpoint.enabled_events}")

customer = f"cus_{uuid.uuid4().hex[:12]}"
invoice = client.v1.invoices.create(
    params={"customer": customer, "currency": "usd", "collection_method": "send_invoice",
            "days_until_due": 30}
)
client.v1.invoice_items.create(
    params={"customer": customer, "invoice": invoice.id, "unit_amount": 1500, "quantity": 2}
)
finalized = client.v1.invoices.finalize_invoice(invoice.id)
expect(finalized.due_date - finalized.status_transitions.finalized_at, 30 * 86400, "net 30")
sent = client.v1.invoices.send_invoice(invoice.id)
expect(sent.status, "open", "the sent invoice's status")
client.v1.invoices.pay(invoice.id, params={"paid_out_of_band": True})
print(f"ok  one-off flow: {invoice.id} created, finalized, sent and paid")
wanted = ["invoice.created", "invoiceitem.created", "invoice.updated", "invoice.finalized",
          "invoice.sent", "invoice.paid"]

deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    with lock:
        if len(received) >= len(wanted):
            break
    time.sleep(0.1)
with lock:
    deliveries = list(received)
expect(len(deliveries), len(wanted), "deliveries within a minute")

types = []
for delivery in deliveries:
    event = stripe.Webhook.construct_event(delivery["body"], delivery["signature"], secret)
    expect(event.data.object.id in (invoice.id,) or event.type.startswith("invoiceitem."), True,
           "the event's object")
    types.append(event.type)
expect(types, wanted, "the events' types, in order")
paid = stripe.Webhook.construct_event(deliveries[-1]["body"], deliveries[-1]["signature"], secret)
expect((paid.data.object.status, paid.data.object.amount_paid), ("paid", 3000), "the paid invoice")
print(f"ok  construct_event: {len(deliveries)} deliveries verified: {', '.join(types)}")

forged = deliveries[-1]["body"].replace('"amount_paid":3000', '"amount_paid":1')
try:
    stripe.Webhook.construct_event(forged, deliveries[-1]["signature"], secret)
    raise AssertionError("a forged body was verified")
except stripe.SignatureVerificationError as error:
    print(f"ok  forged: refused ({error.user_message})")
try:
    stripe.Webhook.construct_event(deliveries[0]["body"], deliveries[0]["signature"], "whsec_other")
    raise AssertionError("another secret verified a delivery")
except stripe.SignatureVerificationError:
    print("ok  another secret: refused")
time.sleep(2)
try:
    stripe.Webhook.construct_event(deliveries[0]["body"], deliveries[0]["signature"], secret,
                                   tolerance=1)
    raise AssertionError("a stale delivery was verified")
except stripe.SignatureVerificationError as error:
    print(f"ok  stale: refused ({error.user_message})")

client.v1.webhook_endpoints.delete(endpoint.id)
server.shutdown()
print("stripe-python", stripe.VERSION, "verified every delivery from", base)
