// Stripe's own Node library through Stripe's one-off invoice flow, with a webhook endpoint:
// `node deliveries.js BASE KEY`, run by scripts/check-stripe-client. It listens on
// 127.0.0.1, makes an endpoint for every event, runs the flow of Stripe's docs (an invoice
// sent for payment in 30 days, an item on it, finalize, send, pay), and checks each delivery
// with `stripe.webhooks.constructEvent`, in order; a forged body and a replay past the
// tolerance must throw its signature error. Every wait is bounded.
const http = require("http");
const crypto = require("crypto");
const Stripe = require("stripe");

const [base, key] = process.argv.slice(2);
const address = new URL(base);
const stripe = new Stripe(key, {
  host: address.hostname, port: address.port, protocol: "http", maxNetworkRetries: 0,
});
const received = [];
const expect = (actual, wanted, what) => {
  if (JSON.stringify(actual) !== JSON.stringify(wanted)) {
    throw new Error(`${what}: wanted ${JSON.stringify(wanted)}, got ${JSON.stringify(actual)}`);
  }
};
const refuses = (what, verify) => {
  try {
    verify();
  } catch (error) {
    if (error.type !== "StripeSignatureVerificationError") throw error;
    console.log(`ok  ${what}: refused`);
    return;
  }
  throw new Error(`${what} was verified`);
};

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    received.push({
      body: Buffer.concat(chunks).toString("utf8"),
      signature: request.headers["stripe-signature"],
    });
    response.writeHead(200);
    response.end();
  });
});

(async () => {
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/stripe`;
  const endpoint = await stripe.webhookEndpoints.create({ url, enabled_events: ["*"] });
  expect(endpoint.secret.startsWith("whsec_"), true, "the secret's prefix");
  console.log(`ok  endpoint: ${endpoint.id} ${endpoint.status}`);

  const customer = `cus_${crypto.randomBytes(6).toString("hex")}`;
  const invoice = await stripe.invoices.create({
    customer, currency: "usd", collection_method: "send_invoice", days_until_due: 30,
  });
  await stripe.invoiceItems.create({ customer, invoice: invoice.id, amount: 4500 });
  const finalized = await stripe.invoices.finalizeInvoice(invoice.id);
  expect(finalized.due_date - finalized.status_transitions.finalized_at, 30 * 86400, "net 30");
  const sent = await stripe.invoices.sendInvoice(invoice.id);
  expect(sent.status, "open", "the sent invoice's status");
  const paid = await stripe.invoices.pay(invoice.id, { paid_out_of_band: true });
  expect([paid.status, paid.amount_paid], ["paid", 4500], "the paid invoice");
  console.log(`ok  one-off flow: ${invoice.id} created, finalized, sent and paid`);

  const wanted = ["invoice.created", "invoiceitem.created", "invoice.updated",
    "invoice.finalized", "invoice.sent", "invoice.paid"];
  const deadline = Date.now() + 60_000;
  while (received.length < wanted.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const types = received.map(({ body, signature }) =>
    stripe.webhooks.constructEvent(body, signature, endpoint.secret).type);
  expect(types, wanted, "the events' types, in order");
  console.log(`ok  constructEvent: ${types.length} deliveries verified: ${types.join(", ")}`);

  const last = received[received.length - 1];
  refuses("forged", () => stripe.webhooks.constructEvent(
    last.body.replace("\"amount_paid\":4500", "\"amount_paid\":1"), last.signature, endpoint.secret));
  refuses("another secret", () =>
    stripe.webhooks.constructEvent(last.body, last.signature, "whsec_other"));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  refuses("stale", () => stripe.webhooks.constructEvent(last.body, last.signature, endpoint.secret, 1));

  await stripe.webhookEndpoints.del(endpoint.id);
  server.close();
  console.log("stripe-node", Stripe.PACKAGE_VERSION || "", "verified every delivery from", base);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
