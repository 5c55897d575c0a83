// Stripe's own Node library verifies the deliveries that deliveries.py received:
// `node verify.js DELIVERIES.json`, run by scripts/check-stripe-client. Every delivery must
// pass `stripe.webhooks.constructEvent`; a forged body and a replay past the tolerance must
// throw its signature error.
const fs = require("fs");
const Stripe = require("stripe");

const { secret, deliveries } = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const stripe = new Stripe("sk_sandbox_unused");
const types = deliveries.map(({ body, signature }) =>
  stripe.webhooks.constructEvent(body, signature, secret).type);
if (types.length === 0 || types[types.length - 1] !== "invoice.paid") {
  throw new Error(`unexpected events: ${types.join(", ")}`);
}
console.log(`ok  constructEvent: ${types.length} deliveries verified: ${types.join(", ")}`);

const refuses = (what, verify) => {
  try {
    verify();
  } catch (error) {
    if (error.type !== "StripeSignatureVerificationError") throw error;
    console.log(`ok  ${what}: refused (${error.message})`);
    return;
  }
  throw new Error(`${what} was verified`);
};
const last = deliveries[deliveries.length - 1];
refuses("forged", () =>
  stripe.webhooks.constructEvent(last.body.replace("\"paid\"", "\"open\""), last.signature, secret));
refuses("stale", () => stripe.webhooks.constructEvent(last.body, last.signature, secret, 1));
console.log("stripe-node", Stripe.PACKAGE_VERSION || "", "verified every delivery");
