"""Stripe's own Python library against a live server's `/v1` dialect.

Run by scripts/check-stripe-client, which starts the server and passes its address and a
secret key: `python flow.py http://127.0.0.1:PORT sk_...`. Every step checks what the library
returned and prints one line; any mismatch raises, so the process fails.
"""

import sys
import uuid

import stripe

base, key = sys.argv[1], sys.argv[2]
client = stripe.StripeClient(key, base_addresses={"api": base}, max_network_retries=0)
items = client.v1.invoice_items
invoices = client.v1.invoices
customer = f"cus_{uuid.uuid4().hex[:12]}"
other = f"cus_{uuid.uuid4().hex[:12]}"


def step(name, detail):
    print(f"ok  {name}: {detail}")


def expect(actual, wanted, what):
    if actual != wanted:
        raise AssertionError(f"{what}: wanted {wanted!r}, got {actual!r}")


# Create: unit_amount x quantity, metadata and period, in the library's form encoding.
created = items.create(
    params={
        "customer": customer,
        "currency": "usd",
        "unit_amount": 1250,
        "quantity": 2,
        "description": "Consulting",
        "metadata": {"order": "42", "team": "billing"},
        "period": {"start": 1767225600, "end": 1769904000},
    }
)
expect(type(created).__name__, "InvoiceItem", "the object's class")
expect(created.object, "invoiceitem", "object")
expect(created.amount, 2500, "amount")
expect(created.invoice, None, "a pending item's invoice")
expect(created.price.unit_amount, 1250, "price.unit_amount")
expect(created.metadata.to_dict(), {"order": "42", "team": "billing"}, "metadata")
expect(created.period.end, 1769904000, "period.end")
step("create", f"{created.id} amount={created.amount} {created.currency} pending")

# Retrieve.
fetched = items.retrieve(created.id)
expect(fetched.id, created.id, "retrieved id")
expect(fetched.amount, 2500, "retrieved amount")
step("retrieve", f"{fetched.id} quantity={fetched.quantity}")

# Update: an empty metadata value deletes that key; the amount follows the new quantity.
updated = items.update(created.id, params={"quantity": 3, "metadata": {"team": ""}})
expect(updated.amount, 3750, "updated amount")
expect(updated.metadata.to_dict(), {"order": "42"}, "metadata after deleting a key")
step("update", f"quantity=3 amount={updated.amount} metadata={updated.metadata.to_dict()}")

# Two more pending items, one in another currency and one of another customer, then list.
yen = items.create(params={"customer": customer, "currency": "jpy", "amount": 1000})
expect(yen.amount, 1000, "a JPY amount (no minor unit)")
items.create(params={"customer": other, "currency": "usd", "amount": 700})
extra = items.create(
    params={"customer": customer, "currency": "usd", "amount": -500, "description": "Credit"}
)
expect(extra.amount, -500, "a credit's amount")
page = items.list(params={"customer": customer, "limit": 2})
expect(page.object, "list", "the list's object")
expect(page.has_more, True, "has_more on the first page of three")
expect([item.id for item in page.data], [extra.id, yen.id], "the first page, newest first")
walked = [item.id for item in items.list(params={"customer": customer, "limit": 2}).auto_paging_iter()]
expect(walked, [extra.id, yen.id, created.id], "every page, walked by starting_after")
step("list", f"pages of 2 walked by the library: {len(walked)} items, newest first")

# Delete one (the credit), and see it gone.
deleted = items.delete(extra.id)
expect((deleted.id, deleted.deleted), (extra.id, True), "the deletion")
try:
    items.retrieve(extra.id)
    raise AssertionError("a deleted item was still found")
except stripe.InvalidRequestError as error:
    expect((error.http_status, error.code, error.param), (404, "resource_missing", "id"), "404")
step("delete", f"{deleted.id} deleted={deleted.deleted}; retrieving it raises resource_missing")

# An invoice that takes in the customer's pending USD items, with an idempotency key.
key_for_create = str(uuid.uuid4())
invoice = invoices.create(
    params={
        "customer": customer,
        "currency": "usd",
        "pending_invoice_items_behavior": "include",
        "metadata": {"source": "stripe-python"},
    },
    options={"idempotency_key": key_for_create},
)
again = invoices.create(
    params={
        "customer": customer,
        "currency": "usd",
        "pending_invoice_items_behavior": "include",
        "metadata": {"source": "stripe-python"},
    },
    options={"idempotency_key": key_for_create},
)
expect(again.id, invoice.id, "the retried create's invoice")
expect(invoice.status, "draft", "a new invoice's status")
expect([line.invoice_item for line in invoice.lines.data], [created.id], "the lines taken in")
expect((invoice.subtotal, invoice.total, invoice.amount_due), (3750, 3750, 3750), "the sums")
expect(invoice.metadata.to_dict(), {"source": "stripe-python"}, "the invoice's metadata")
expect(items.retrieve(created.id).invoice, invoice.id, "the item's invoice after the move")
expect(items.retrieve(yen.id).invoice, None, "the JPY item, left pending")
with_invoice = items.retrieve(created.id, params={"expand": ["invoice"]})
expect(type(with_invoice.invoice).__name__, "Invoice", "the expanded invoice's class")
expect(with_invoice.invoice.total, 3750, "the expanded invoice's total")
step("invoice", f"{invoice.id} took in {len(invoice.lines.data)} pending item, total={invoice.total}")
step("expand", f"the item's invoice expanded: {type(with_invoice.invoice).__name__} {with_invoice.invoice.id}")
with_items = invoices.retrieve(invoice.id, params={"expand": ["lines.data.invoice_item"]})
line_item = with_items.lines.data[0].invoice_item
expect(type(line_item).__name__, "InvoiceItem", "the expanded line item's class")
expect((line_item.id, line_item.amount), (created.id, 3750), "the expanded line item")
step("expand", f"the invoice's line item expanded: {type(line_item).__name__} {line_item.id}")

# An invoice shows its ten newest lines; the library pages through the rest at the lines' URL.
big = invoices.create(params={"customer": other, "currency": "eur"})
made = [
    items.create(params={"customer": other, "invoice": big.id, "amount": amount}).id
    for amount in range(1, 13)
]
shown = invoices.retrieve(big.id)
expect([line.invoice_item for line in shown.lines.data], made[::-1][:10], "the lines shown")
expect(shown.lines.has_more, True, "lines past the ten shown")
expect(shown.total, 78, "the total of every line")
paged = [line.id for line in invoices.line_items.list(big.id, params={"limit": 5}).auto_paging_iter()]
expect(paged, made[::-1], "every line, paged by the library")
step("lines", f"{big.id} shows {len(shown.lines.data)} of {len(paged)} lines; pages of 5 walked by the library")

finalized = invoices.finalize_invoice(invoice.id)
expect(finalized.status, "open", "a finalized invoice's status")
expect(finalized.amount_due, 3750, "amount_due after finalizing")
expect(invoices.retrieve(invoice.id).status, "open", "the status read back")
step("finalize", f"{finalized.id} status={finalized.status} number={finalized.number}")

# A credit note on the open invoice: it lowers what is left to pay; voided, it gives it back.
credit_notes = client.v1.credit_notes
preview = credit_notes.preview(params={"invoice": invoice.id, "amount": 750})
expect((type(preview).__name__, preview.total), ("CreditNote", 750), "the preview")
expect(credit_notes.list(params={"invoice": invoice.id}).data, [], "notes after a preview")
note = credit_notes.create(
    params={
        "invoice": invoice.id,
        "lines": [
            {"type": "invoice_line_item", "invoice_line_item": created.id, "quantity": 1},
            {"type": "custom_line_item", "unit_amount": 250, "description": "Goodwill"},
        ],
        "reason": "order_change",
        "metadata": {"ticket": "T-7"},
    }
)
expect(type(note).__name__, "CreditNote", "the note's class")
expect((note.status, note.type, note.total), ("issued", "pre_payment", 1500), "the note")
expect([line.type for line in note.lines.data], ["invoice_line_item", "custom_line_item"], "its lines")
expect(invoices.retrieve(invoice.id).amount_remaining, 2250, "amount_remaining after the note")
expect(credit_notes.retrieve(note.id).metadata.to_dict(), {"ticket": "T-7"}, "the note read back")
listed = [listed.id for listed in credit_notes.list(params={"invoice": invoice.id}).auto_paging_iter()]
expect(listed, [note.id], "the invoice's notes")
voided = credit_notes.void_credit_note(note.id)
expect((voided.status, voided.voided_at is not None), ("void", True), "the voided note")
expect(invoices.retrieve(invoice.id).amount_remaining, 3750, "amount_remaining after the void")
step("credit note", f"{note.id} total={note.total} lowered amount_remaining to 2250; voided, back to 3750")

# Paid out of band: the library's `pay`, and the fields it reads back.
paid = invoices.pay(invoice.id, params={"paid_out_of_band": True})
expect((paid.status, paid.paid, paid.paid_out_of_band), ("paid", True, True), "a paid invoice")
expect((paid.amount_paid, paid.amount_remaining), (3750, 0), "amount_paid and amount_remaining")
expect(paid.status_transitions.paid_at is not None, True, "status_transitions.paid_at")
try:
    invoices.pay(invoice.id, params={"paid_out_of_band": True})
    raise AssertionError("an invoice was paid twice")
except stripe.InvalidRequestError as error:
    expect(error.http_status, 400, "paying a paid invoice")
step("pay", f"{paid.id} status={paid.status} amount_paid={paid.amount_paid}; paying again is refused")

# A validation error reaches the caller as the library's exception, with its param.
try:
    items.create(
        params={"customer": customer, "currency": "usd", "amount": 5, "unit_amount": 2, "quantity": 2}
    )
    raise AssertionError("a create breaking the amount rule succeeded")
except stripe.InvalidRequestError as error:
    expect((error.http_status, error.param), (400, "amount"), "the error's status and param")
    step("error", f"InvalidRequestError status={error.http_status} param={error.param}: {error.user_message}")

try:
    items.create(params={"customer": customer, "currency": "usd", "amount": 100, "period": {"start": 20, "end": 10}})
    raise AssertionError("a period ending before it starts was taken")
except stripe.InvalidRequestError as error:
    expect(error.param, "period[end]", "a nested parameter's name")
    step("error", f"InvalidRequestError param={error.param}: {error.user_message}")

try:
    stripe.StripeClient("sk_sandbox_notakey", base_addresses={"api": base}).v1.invoice_items.list()
    raise AssertionError("an unknown key was let in")
except stripe.AuthenticationError as error:
    expect(error.http_status, 401, "an unknown key's status")
    step("error", f"AuthenticationError status={error.http_status}")

print("stripe-python", stripe.VERSION, "drove every step against", base)
