//! Stripe's invoice object over the core's invoice: amounts in minor units, its newest items as
//! its first `lines` (the rest are on the lines' URL, as on Stripe), statuses in Stripe's words.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::StripeCaller;
use super::contract::LineList;
use super::error::StripeError;
use super::invoice_parts::{
    Address, AutomaticTax, CustomerTaxId, DiscountAmount, Issuer, PaymentSettings, Shipping,
    TaxAmount, first_choice, name,
};
use super::wire::{ItemObject, LineObject, ListObject, unix};
use super::words::{status, whole_minor_units};
use crate::domain::ids::InvoiceId;
use crate::domain::ids::OrganizationId;
use crate::domain::invoice::{Invoice, InvoiceStatus};
use crate::domain::invoice_item::{InvoiceItem, PlacedItem};
use crate::domain::metadata::Metadata;
use crate::domain::organization::OrganizationDetails;
use crate::http::hosted::HOSTED_PATH;
use crate::http::state::AppState;
use crate::service::invoices::InvoiceWithItems;

/// How many lines an invoice object holds, as on Stripe: `has_more` and the lines' URL give the
/// rest, so an answer stays small however many items the invoice has.
pub const LINES_SHOWN: usize = 10;

/// How many of an invoice's newest items to read to show it: one past the lines it shows, to
/// tell whether it has more.
pub const ITEMS_TO_READ: i64 = LINES_SHOWN as i64 + 1;

/// An invoice (`object: "invoice"`), with its first lines: every field of Stripe's 2024-06-20
/// invoice, those with no meaning here null (or their empty value where Stripe never shows
/// null).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeInvoice)]
pub struct InvoiceObject {
    id: String,
    object: &'static str,
    /// The seller's country: the organization's.
    account_country: Option<String>,
    /// The seller's name: the organization's.
    account_name: Option<String>,
    /// Always null: the seller's tax number is on the invoice, not a tax id object.
    account_tax_ids: Option<Vec<String>>,
    amount_due: i64,
    /// What was paid beyond what the invoice asked for.
    amount_overpaid: i64,
    amount_paid: i64,
    amount_remaining: i64,
    /// Always 0: no shipping is charged here.
    amount_shipping: i64,
    application: Option<String>,
    application_fee_amount: Option<i64>,
    /// Always 0: this server never tries to collect a payment itself.
    attempt_count: u32,
    /// Whether a payment has been recorded, as Stripe shows for one paid out of band.
    attempted: bool,
    /// Always `false`: invoices here never advance by themselves.
    auto_advance: bool,
    automatic_tax: AutomaticTax,
    automatically_finalizes_at: Option<i64>,
    /// Always `manual`: invoices here are made one by one, not by subscriptions.
    billing_reason: &'static str,
    charge: Option<String>,
    /// `charge_automatically` (no due date unless one is given) or `send_invoice`.
    collection_method: &'static str,
    confirmation_secret: Option<String>,
    created: i64,
    currency: String,
    #[schema(value_type = Option<Vec<Object>>)]
    custom_fields: Option<Vec<()>>,
    customer: String,
    /// The billing address's postal address.
    customer_address: Option<Address>,
    /// The billing address's primary email, else its first.
    customer_email: Option<String>,
    /// The billing address's person, else its company.
    customer_name: Option<String>,
    /// The billing address's primary phone number, else its first.
    customer_phone: Option<String>,
    /// The delivery address.
    customer_shipping: Option<Shipping>,
    customer_tax_exempt: Option<String>,
    /// The customer's tax number, as the invoice shows it.
    customer_tax_ids: Vec<CustomerTaxId>,
    /// With `send_invoice`: due this many days after it is finalized.
    days_until_due: Option<u16>,
    default_payment_method: Option<String>,
    default_source: Option<String>,
    #[schema(value_type = Vec<String>)]
    default_tax_rates: [String; 0],
    description: Option<String>,
    #[schema(value_type = Option<Object>)]
    discount: Option<()>,
    /// Always empty: discounts here are set on the invoice, not made from coupons; what they
    /// take off is in `total_discount_amounts` and each line's `discount_amounts`.
    #[schema(value_type = Vec<String>)]
    discounts: [String; 0],
    due_date: Option<i64>,
    /// When it was finalized.
    effective_at: Option<i64>,
    /// 0 once finalized: customers here keep no balance.
    ending_balance: Option<i64>,
    footer: Option<String>,
    #[schema(value_type = Option<Object>)]
    from_invoice: Option<()>,
    hosted_invoice_url: Option<String>,
    /// Once finalized, where its PDF document is read, with the same key.
    invoice_pdf: Option<String>,
    /// Not Stripe's: once finalized, and when its taxes are VAT, where its UBL 2.1 e-invoice
    /// is read, with the same key.
    einvoice_url: Option<String>,
    issuer: Issuer,
    #[schema(value_type = Option<Object>)]
    last_finalization_error: Option<()>,
    latest_revision: Option<String>,
    #[schema(value_type = LineList)]
    lines: ListObject<LineObject>,
    livemode: bool,
    #[schema(value_type = HashMap<String, String>)]
    metadata: Metadata,
    next_payment_attempt: Option<i64>,
    number: Option<String>,
    on_behalf_of: Option<String>,
    paid: bool,
    paid_out_of_band: bool,
    #[schema(value_type = Option<Object>)]
    parent: Option<()>,
    payment_intent: Option<String>,
    payment_settings: PaymentSettings,
    /// When it was created: an invoice here bills no subscription period (its lines' own
    /// periods are on each line).
    period_end: i64,
    /// When it was created, as `period_end`.
    period_start: i64,
    /// What credit notes gave back of what the invoice was paid (out of band here).
    post_payment_credit_notes_amount: i64,
    /// What credit notes took off what the invoice had left to pay.
    pre_payment_credit_notes_amount: i64,
    quote: Option<String>,
    receipt_number: Option<String>,
    #[schema(value_type = Option<Object>)]
    rendering: Option<()>,
    #[schema(value_type = Option<Object>)]
    shipping_cost: Option<()>,
    /// The delivery address, as `customer_shipping`.
    shipping_details: Option<Shipping>,
    /// Always 0: customers here keep no balance.
    starting_balance: i64,
    statement_descriptor: Option<String>,
    status: &'static str,
    status_transitions: StatusTransitions,
    subscription: Option<String>,
    #[schema(value_type = Option<Object>)]
    subscription_details: Option<()>,
    /// The items' prices less the credits, before discounts and tax.
    subtotal: i64,
    /// The same as `subtotal`: taxes here are never part of a price.
    subtotal_excluding_tax: i64,
    tax: Option<i64>,
    test_clock: Option<String>,
    #[schema(value_type = Option<Object>)]
    threshold_reason: Option<()>,
    /// `total_excluding_tax` plus `total_tax_amounts`.
    total: i64,
    total_discount_amounts: Vec<DiscountAmount>,
    /// `subtotal` less `total_discount_amounts`.
    total_excluding_tax: i64,
    /// The invoice's tax, the sum of its items' taxes; empty when it has none.
    total_tax_amounts: Vec<TaxAmount>,
    #[schema(value_type = Option<Object>)]
    transfer_data: Option<()>,
    webhooks_delivered_at: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeStatusTransitions)]
struct StatusTransitions {
    finalized_at: Option<i64>,
    marked_uncollectible_at: Option<i64>,
    paid_at: Option<i64>,
    voided_at: Option<i64>,
}

/// What an invoice object shows beside the invoice: the key's mode, the seller, and where
/// this server answers.
#[derive(Debug, Clone)]
pub struct InvoiceContext {
    livemode: bool,
    account_name: Option<String>,
    account_country: Option<String>,
    invoices_url: String,
    hosted_url: String,
    documents_url: String,
}

impl InvoiceContext {
    /// The caller's context; the seller is read only when `with_seller`, as only an invoice
    /// object shows it.
    pub async fn load(
        state: &AppState,
        caller: &StripeCaller,
        with_seller: bool,
    ) -> Result<Self, StripeError> {
        let seller = if with_seller {
            let organization_id = &caller.principal.organization_id;
            Some(state.db.find_organization(organization_id).await?.details)
        } else {
            None
        };
        let organization_id = &caller.principal.organization_id;
        Ok(Self::new(
            state,
            organization_id,
            caller.livemode,
            seller.as_ref(),
        ))
    }

    /// The context of a caller in `livemode` of `organization_id`, whose details are `seller`.
    pub fn new(
        state: &AppState,
        organization_id: &OrganizationId,
        livemode: bool,
        seller: Option<&OrganizationDetails>,
    ) -> Self {
        Self {
            livemode,
            account_name: seller
                .and_then(|seller| seller.name.as_ref())
                .map(|name| name.as_str().to_owned()),
            account_country: seller
                .and_then(|seller| seller.country.as_ref())
                .map(|country| country.as_str().to_owned()),
            invoices_url: state.url("/v1/invoices"),
            hosted_url: state.url(&format!("{HOSTED_PATH}/{organization_id}")),
            documents_url: state.url(""),
        }
    }

    /// The absolute URL of a path of this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.documents_url)
    }

    /// Whether the caller's key is a live one.
    pub fn livemode(&self) -> bool {
        self.livemode
    }
}

/// The statuses Stripe names so: `open` is unpaid, partially paid and past due, and so on.
pub fn statuses_named(name: &str) -> Option<Vec<InvoiceStatus>> {
    let statuses: Vec<InvoiceStatus> = InvoiceStatus::ALL
        .into_iter()
        .filter(|kept| status(*kept) == name)
        .collect();
    (!statuses.is_empty()).then_some(statuses)
}

impl InvoiceObject {
    /// The invoice as Stripe shows it, with its items given `newest` first: the first
    /// [`LINES_SHOWN`] of them are its lines, and one more makes `has_more`. With
    /// `items_expanded`, each line shows its item in place of the item's id.
    pub fn new<'a>(
        invoice: &Invoice,
        newest: impl IntoIterator<Item = &'a InvoiceItem>,
        context: &InvoiceContext,
        items_expanded: bool,
    ) -> Self {
        let currency = invoice.currency;
        let minor = |amount| whole_minor_units(currency, amount);
        let totals = &invoice.totals;
        let livemode = context.livemode;
        let mut newest = newest.into_iter().take(LINES_SHOWN + 1).peekable();
        let lines: Vec<LineObject> = newest
            .by_ref()
            .take(LINES_SHOWN)
            .map(|item| {
                let placed = PlacedItem::OnInvoice {
                    item: Box::new(item.clone()),
                    customer_id: invoice.customer_id.clone(),
                    currency,
                };
                LineObject::new(&placed, livemode, items_expanded)
            })
            .collect();
        let has_more = newest.peek().is_some();
        let (pre_payment_credit, post_payment_credit) = credit_notes_amounts(invoice);
        // Stripe's `amount_due` is what the invoice asks for once credit notes took their part
        // off, and `amount_paid` plus `amount_remaining` make it up. Credit given back after
        // payment is recorded here as a refund beside the credit: Stripe counts that money as
        // still paid.
        let asked = totals.amount - pre_payment_credit;
        let paid = invoice.payments.net_paid() + post_payment_credit;
        let billing = invoice.parties.billing_address.as_ref();
        let delivery = invoice.parties.delivery_address.as_ref();
        let finalized = invoice.issued_time.is_some();
        Self {
            id: invoice.id.to_string(),
            object: "invoice",
            account_country: context.account_country.clone(),
            account_name: context.account_name.clone(),
            account_tax_ids: None,
            amount_due: minor(asked),
            amount_overpaid: minor((paid - asked).max(Decimal::ZERO)),
            amount_paid: minor(paid),
            amount_remaining: minor(totals.amount_due),
            amount_shipping: 0,
            application: None,
            application_fee_amount: None,
            attempt_count: 0,
            attempted: invoice.payments.paid_amount > Decimal::ZERO,
            auto_advance: false,
            automatic_tax: AutomaticTax::OFF,
            automatically_finalizes_at: None,
            billing_reason: "manual",
            charge: None,
            collection_method: invoice.collection.method.as_str(),
            confirmation_secret: None,
            created: unix(invoice.created_time),
            currency: currency.code().to_ascii_lowercase(),
            custom_fields: None,
            customer: invoice.customer_id.to_string(),
            customer_address: billing.map(Address::of),
            customer_email: billing.and_then(|contact| first_choice(&contact.emails)),
            customer_name: billing.and_then(name),
            customer_phone: billing.and_then(|contact| first_choice(&contact.phone_numbers)),
            customer_shipping: delivery.map(Shipping::of),
            customer_tax_exempt: None,
            customer_tax_ids: invoice
                .parties
                .customer_tax_id
                .iter()
                .map(CustomerTaxId::of)
                .collect(),
            days_until_due: invoice.collection.days_until_due,
            default_payment_method: None,
            default_source: None,
            default_tax_rates: [],
            description: invoice
                .notes
                .as_ref()
                .map(|notes| notes.as_str().to_owned()),
            discount: None,
            discounts: [],
            due_date: invoice.due_time.map(unix),
            effective_at: invoice.issued_time.map(unix),
            ending_balance: finalized.then_some(0),
            footer: None,
            from_invoice: None,
            hosted_invoice_url: invoice
                .hosted_token
                .as_ref()
                .map(|token| format!("{}/{}", context.hosted_url, token.as_str())),
            // As on Stripe, a draft has no document yet: it may still change.
            invoice_pdf: finalized.then(|| pdf_url(context, &invoice.id)),
            einvoice_url: (finalized && invoice.tax.is_vat())
                .then(|| format!("{}/{}/einvoice", context.invoices_url, invoice.id)),
            issuer: Issuer::SELF,
            last_finalization_error: None,
            latest_revision: None,
            lines: ListObject::new(lines, has_more, lines_url(&invoice.id)),
            livemode,
            metadata: invoice.metadata.clone(),
            next_payment_attempt: None,
            number: invoice.invoice_number.map(|number| number.to_string()),
            on_behalf_of: None,
            paid: matches!(
                invoice.status,
                InvoiceStatus::Paid | InvoiceStatus::PartiallyRefunded | InvoiceStatus::Refunded
            ),
            // Every payment here was made elsewhere: this server charges no card.
            paid_out_of_band: invoice.payments.paid_amount > Decimal::ZERO,
            parent: None,
            payment_intent: None,
            payment_settings: PaymentSettings::UNSET,
            period_end: unix(invoice.created_time),
            period_start: unix(invoice.created_time),
            post_payment_credit_notes_amount: minor(post_payment_credit),
            pre_payment_credit_notes_amount: minor(pre_payment_credit),
            quote: None,
            receipt_number: None,
            rendering: None,
            shipping_cost: None,
            shipping_details: delivery.map(Shipping::of),
            starting_balance: 0,
            statement_descriptor: None,
            status: status(invoice.status),
            status_transitions: StatusTransitions {
                finalized_at: invoice.issued_time.map(unix),
                marked_uncollectible_at: invoice.abandoned_time.map(unix),
                paid_at: invoice.payments.paid_time.map(unix),
                voided_at: invoice.voided_time.map(unix),
            },
            subscription: None,
            subscription_details: None,
            subtotal: minor(totals.subtotal_amount),
            subtotal_excluding_tax: minor(totals.subtotal_amount),
            tax: (invoice.tax != Default::default() || !totals.tax_amount.is_zero())
                .then(|| minor(totals.tax_amount)),
            test_clock: None,
            threshold_reason: None,
            total: minor(totals.amount),
            total_discount_amounts: invoice
                .discounts
                .iter()
                .map(|discount| DiscountAmount::new(currency, discount.amount))
                .collect(),
            total_excluding_tax: minor(totals.amount - totals.tax_amount),
            total_tax_amounts: TaxAmount::of_invoice(currency, totals.tax_amount),
            transfer_data: None,
            webhooks_delivered_at: None,
        }
    }
}

/// Where an invoice's PDF document is read: absolute, from the server's public URL, as
/// Stripe's clients download it as it is.
fn pdf_url(context: &InvoiceContext, invoice_id: &InvoiceId) -> String {
    format!("{}/{invoice_id}/pdf", context.invoices_url)
}

/// What credit memos took off what an invoice had due, and what they gave back out of band
/// after it was paid: each allocation keeps its part given back. The allocations an invoice is
/// read with are its oldest 100: past those, later credit counts as pre-payment.
fn credit_notes_amounts(invoice: &Invoice) -> (Decimal, Decimal) {
    let payments = &invoice.payments;
    let post_payment: Decimal = payments
        .credit_allocations
        .iter()
        .map(|allocation| allocation.given_back)
        .sum();
    (payments.credited_amount - post_payment, post_payment)
}

/// Where an invoice's lines are listed, page by page.
pub fn lines_url(invoice_id: &InvoiceId) -> String {
    format!("/v1/invoices/{invoice_id}/lines")
}

/// An item with its invoice, found among `invoices`, in place of the invoice's id (`expand`);
/// a pending item, or one whose invoice is not among them, as it is.
pub fn expanded_item(
    placed: &PlacedItem,
    context: &InvoiceContext,
    invoices: &[InvoiceWithItems],
) -> ItemObject {
    let object = ItemObject::new(placed, context.livemode);
    let PlacedItem::OnInvoice { item, .. } = placed else {
        return object;
    };
    let Some((invoice, items)) = invoices
        .iter()
        .find(|(invoice, _)| invoice.id == item.invoice_id)
    else {
        return object;
    };
    match serde_json::to_value(InvoiceObject::new(invoice, items, context, false)) {
        Ok(rendered) => object.with_invoice(rendered),
        Err(_) => object,
    }
}
