//! The writes of a batch of item changes, each one statement for the whole batch: the items, the
//! totals of their invoices, and their events with the webhook deliveries they make. The rows
//! go to PostgreSQL as one JSON array each, read with `jsonb_to_recordset`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;

use super::Tx;
use super::pending_items::PendingItemRow;
use super::tax_record::{ItemTaxRecord, LineVatRecord};
use super::times::timestamp;
use crate::domain::event::{EventChanges, EventType, InvoiceEvent};
use crate::domain::ids::{InvoiceId, OrganizationId};
use crate::domain::invoice::InvoiceTotals;
use crate::domain::invoice_item::{InvoiceItem, ItemPricing, PlacedItem};
use crate::domain::metadata::Metadata;

/// How many of an invoice's newest items its events keep: enough for a dialect that shows an
/// invoice with its first ten lines to tell whether it has more.
pub const ITEMS_KEPT_BY_EVENTS: i64 = 11;

/// The events no webhook of invoices' events is sent: comments, and those only the log's
/// webhooks are sent (which are sent every event but comments).
fn unsent_types() -> Vec<String> {
    EventType::LOGGED_ONLY
        .into_iter()
        .chain([EventType::TimelineCommentCreated])
        .map(|event_type| event_type.as_str().to_owned())
        .collect()
}

/// An invoice's totals and revision after a batch's items.
#[derive(Debug)]
pub struct BatchedTotals<'a> {
    /// The invoice's organization.
    pub organization_id: &'a OrganizationId,
    /// The invoice.
    pub invoice_id: &'a InvoiceId,
    /// Its totals with the batch's items.
    pub totals: InvoiceTotals,
    /// Its revision after them: one more for each.
    pub revision: i64,
    /// When they were made.
    pub updated_time: DateTime<Utc>,
}

#[derive(Serialize)]
struct ItemRow<'a> {
    organization_id: &'a str,
    id: &'a str,
    invoice_id: &'a str,
    r#type: &'a str,
    description: Option<&'a str>,
    unit_price: String,
    quantity: i64,
    price: String,
    discount_amount: String,
    product_id: Option<&'a str>,
    period_start_time: Option<String>,
    period_end_time: Option<String>,
    period_number: Option<i32>,
    tax: Option<ItemTaxRecord>,
    vat: Option<LineVatRecord>,
    created_time: String,
    updated_time: String,
    revision: i64,
    metadata: &'a Metadata,
    subscription_id: Option<&'a str>,
    item_date: Option<String>,
}

impl<'a> ItemRow<'a> {
    fn of(organization_id: &'a OrganizationId, item: &'a InvoiceItem) -> Self {
        Self {
            organization_id: organization_id.as_str(),
            id: item.id.as_str(),
            invoice_id: item.invoice_id.as_str(),
            r#type: item.item_type.as_str(),
            description: item.description.as_ref().map(|text| text.as_str()),
            unit_price: item.unit_price.amount().to_string(),
            quantity: item.quantity.get(),
            price: item.price.to_string(),
            discount_amount: item.discount_amount.to_string(),
            product_id: item.product_id.as_ref().map(|id| id.as_str()),
            period_start_time: item.period_start_time.map(timestamp),
            period_end_time: item.period_end_time.map(timestamp),
            period_number: item.period_number.map(|number| number.get()),
            tax: item.tax.as_ref().map(ItemTaxRecord::from),
            vat: item.vat.as_ref().map(LineVatRecord::from),
            created_time: timestamp(item.created_time),
            updated_time: timestamp(item.updated_time),
            revision: item.revision,
            metadata: &item.extras.metadata,
            subscription_id: item.extras.subscription_id.as_ref().map(|id| id.as_str()),
            item_date: item.extras.date.map(timestamp),
        }
    }
}

/// What pricing sets on an item that a set of writes moved without writing it.
#[derive(Serialize)]
struct FiguresRow<'a> {
    organization_id: &'a str,
    id: &'a str,
    price: String,
    discount_amount: String,
    tax: Option<ItemTaxRecord>,
    revision: i64,
    updated_time: String,
}

impl<'a> FiguresRow<'a> {
    fn of(organization_id: &'a OrganizationId, item: &'a ItemPricing) -> Self {
        Self {
            organization_id: organization_id.as_str(),
            id: item.id.as_str(),
            price: item.price.to_string(),
            discount_amount: item.discount_amount.to_string(),
            tax: item
                .tax
                .as_ref()
                .map(|tax| ItemTaxRecord::from(&tax.to_tax())),
            revision: item.revision,
            updated_time: timestamp(item.updated_time),
        }
    }
}

#[derive(Serialize)]
struct TotalsRow<'a> {
    organization_id: &'a str,
    id: &'a str,
    subtotal_amount: String,
    discount_amount: String,
    tax_amount: String,
    amount: String,
    amount_due: String,
    revision: i64,
    updated_time: String,
}

#[derive(Serialize)]
struct EventRow<'a> {
    organization_id: &'a str,
    id: &'a str,
    invoice_id: Option<&'a str>,
    event_type: &'a str,
    revision: i64,
    changes: &'a EventChanges,
    message: Option<&'a str>,
    occurred_time: String,
    /// For an item's event, the item as the change left it, on its invoice or pending.
    item: Option<ItemRow<'a>>,
    pending_item: Option<PendingItemRow<'a>>,
    /// For an item's change, the item as it was before, on its invoice or pending.
    item_before: Option<ItemRow<'a>>,
    pending_item_before: Option<PendingItemRow<'a>>,
    /// Its place in the batch: events are inserted in this order, which their `sequence` keeps.
    position: usize,
    /// The id of the request that caused it.
    request_id: Option<&'a str>,
    /// The idempotency key that request named.
    idempotency_key: Option<&'a str>,
}

/// An item as an event's row keeps it: a row of `invoice_items`, or one of `pending_items`.
fn kept_item<'a>(
    organization_id: &'a OrganizationId,
    item: Option<&'a PlacedItem>,
) -> (Option<ItemRow<'a>>, Option<PendingItemRow<'a>>) {
    match item {
        Some(PlacedItem::OnInvoice { item, .. }) => {
            (Some(ItemRow::of(organization_id, item)), None)
        }
        Some(PlacedItem::Pending(item)) => (None, Some(PendingItemRow::of(organization_id, item))),
        None => (None, None),
    }
}

impl Tx {
    /// Stores items, each of `organization_id`'s, new or replaced (keeping their
    /// `created_time`), in one statement; an item appears at most once. The caller holds their
    /// invoices' locks, and moves their revisions and update times in the same transaction:
    /// the item writes' lanes keep an invoice's items while its row is as they left it.
    pub async fn save_items(
        &mut self,
        items: &[(&OrganizationId, &InvoiceItem)],
    ) -> Result<(), sqlx::Error> {
        let rows: Vec<ItemRow<'_>> = items
            .iter()
            .map(|(organization_id, item)| ItemRow::of(organization_id, item))
            .collect();
        sqlx::query!(
            "insert into invoice_items (organization_id, id, invoice_id, type, description,
                 unit_price, quantity, price, discount_amount, product_id, period_start_time,
                 period_end_time, period_number, tax, vat, created_time, updated_time, revision,
                 metadata, subscription_id, item_date)
             select r.organization_id, r.id, r.invoice_id, r.type, r.description, r.unit_price,
                 r.quantity, r.price, r.discount_amount, r.product_id, r.period_start_time,
                 r.period_end_time, r.period_number, r.tax, r.vat, r.created_time, r.updated_time,
                 r.revision, r.metadata, r.subscription_id, r.item_date
             from jsonb_to_recordset($1::jsonb) as r(organization_id text, id text, invoice_id text, type text, description text, unit_price numeric,
                 quantity bigint, price numeric, discount_amount numeric, product_id text,
                 period_start_time timestamptz, period_end_time timestamptz,
                 period_number integer, tax jsonb, vat jsonb, created_time timestamptz,
                 updated_time timestamptz, revision bigint, metadata jsonb,
                 subscription_id text, item_date timestamptz)
             on conflict (organization_id, id) do update set type = excluded.type,
                 description = excluded.description, unit_price = excluded.unit_price,
                 quantity = excluded.quantity, price = excluded.price,
                 discount_amount = excluded.discount_amount, product_id = excluded.product_id,
                 period_start_time = excluded.period_start_time,
                 period_end_time = excluded.period_end_time,
                 period_number = excluded.period_number, tax = excluded.tax, vat = excluded.vat,
                 updated_time = excluded.updated_time, revision = excluded.revision,
                 metadata = excluded.metadata, subscription_id = excluded.subscription_id,
                 item_date = excluded.item_date",
            Json(&rows) as Json<&Vec<ItemRow<'_>>>,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// Sets the figures (price, discount share, tax), revisions and update times of stored
    /// items, in one statement: those a set of writes moved by repricing their invoices,
    /// without writing them. Their invoices must be locked by this transaction. How many items
    /// it found.
    pub async fn set_item_figures(
        &mut self,
        items: &[(&OrganizationId, &ItemPricing)],
    ) -> Result<u64, sqlx::Error> {
        let rows: Vec<FiguresRow<'_>> = items
            .iter()
            .map(|(organization_id, item)| FiguresRow::of(organization_id, item))
            .collect();
        // Each row found by its key, whatever the table's statistics (see the function's
        // migration).
        sqlx::query_scalar!(
            r#"select set_item_figures($1::jsonb) as "found!""#,
            Json(&rows) as Json<&Vec<FiguresRow<'_>>>,
        )
        .fetch_one(&mut *self.inner)
        .await
        .map(|found| u64::try_from(found).unwrap_or(0))
    }

    /// Sets invoices' totals, revisions and update times, in one statement. The invoices must
    /// be locked by this transaction.
    pub async fn set_totals(&mut self, invoices: &[BatchedTotals<'_>]) -> Result<(), sqlx::Error> {
        // The ids again as arrays, which let the invoices' key find the rows: PostgreSQL takes
        // the JSON rows for a hundred, and would rather read every invoice than look them up.
        let organization_ids: Vec<String> = invoices
            .iter()
            .map(|invoice| invoice.organization_id.as_str().to_owned())
            .collect();
        let invoice_ids: Vec<String> = invoices
            .iter()
            .map(|invoice| invoice.invoice_id.as_str().to_owned())
            .collect();
        let rows: Vec<TotalsRow<'_>> = invoices
            .iter()
            .map(|invoice| TotalsRow {
                organization_id: invoice.organization_id.as_str(),
                id: invoice.invoice_id.as_str(),
                subtotal_amount: invoice.totals.subtotal_amount.to_string(),
                discount_amount: invoice.totals.discount_amount.to_string(),
                tax_amount: invoice.totals.tax_amount.to_string(),
                amount: invoice.totals.amount.to_string(),
                amount_due: invoice.totals.amount_due.to_string(),
                revision: invoice.revision,
                updated_time: timestamp(invoice.updated_time),
            })
            .collect();
        sqlx::query!(
            "update invoices v set subtotal_amount = r.subtotal_amount,
                 discount_amount = r.discount_amount, tax_amount = r.tax_amount,
                 amount = r.amount, amount_due = r.amount_due, revision = r.revision,
                 updated_time = r.updated_time
             from jsonb_to_recordset($1::jsonb) as r(organization_id text, id text,
                 subtotal_amount numeric, discount_amount numeric, tax_amount numeric,
                 amount numeric, amount_due numeric, revision bigint, updated_time timestamptz)
             where v.organization_id = r.organization_id and v.id = r.id
               and v.organization_id = any($2) and v.id = any($3)",
            Json(&rows) as Json<&Vec<TotalsRow<'_>>>,
            &organization_ids,
            &invoice_ids,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// Writes events, each of `organization_id`'s, in the order given, and in the same
    /// statement each one's delivery to every active webhook of its organization whose filter
    /// takes its type (comments go to none). The caller holds the invoices' locks, so an
    /// invoice's events and deliveries are numbered in commit order.
    pub async fn record_events(
        &mut self,
        events: &[(&OrganizationId, &InvoiceEvent)],
    ) -> Result<(), sqlx::Error> {
        let rows: Vec<EventRow<'_>> = events
            .iter()
            .enumerate()
            .map(|(position, (organization_id, event))| {
                let cause = event.cause.as_ref().unwrap_or(&self.cause);
                let (item, pending_item) = kept_item(organization_id, event.item.as_deref());
                let (item_before, pending_item_before) =
                    kept_item(organization_id, event.item_before.as_deref());
                EventRow {
                    organization_id: organization_id.as_str(),
                    id: event.id.as_str(),
                    invoice_id: event.invoice_id.as_ref().map(InvoiceId::as_str),
                    event_type: event.event_type.as_str(),
                    revision: event.revision,
                    changes: &event.changes,
                    message: event.message.as_deref(),
                    occurred_time: timestamp(event.occurred_time),
                    item,
                    pending_item,
                    item_before,
                    pending_item_before,
                    position,
                    request_id: cause.request_id.as_deref(),
                    idempotency_key: cause.idempotency_key.as_deref(),
                }
            })
            .collect();
        let (organization_ids, invoice_ids): (Vec<&str>, Vec<&str>) = rows
            .iter()
            .filter_map(|row| Some((row.organization_id, row.invoice_id?)))
            .unzip();
        let written = sqlx::query!(
            r#"with event as materialized (
                   select * from jsonb_to_recordset($1::jsonb) as r(organization_id text,
                       id text, invoice_id text, event_type text, revision bigint,
                       changes jsonb, message text, occurred_time timestamptz, item jsonb,
                       item_before jsonb, pending_item jsonb, pending_item_before jsonb,
                       position bigint, request_id text, idempotency_key text)),
               -- One snapshot for each invoice (and credit memo) that events keep whole: the
               -- creates of a batch into one invoice each have such an event, and each keeps
               -- the invoice as the batch leaves it.
               snapshots as materialized (
                   select k.organization_id, k.invoice_id, k.credit_memo,
                       jsonb_build_object(
                            'invoice', to_jsonb(i),
                            'discounts', (select coalesce(jsonb_agg(
                                    to_jsonb(d) || jsonb_build_object('currency', i.currency)
                                    order by d.position), '[]')
                                from invoice_discounts d
                                where d.organization_id = i.organization_id
                                  and d.invoice_id = i.id),
                            'credit_allocations', (select coalesce(jsonb_agg(
                                    to_jsonb(a) || jsonb_build_object('currency', i.currency)
                                    order by a.created_time, a.credit_memo_id), '[]')
                                from credit_memo_allocations a
                                where a.organization_id = i.organization_id
                                  and a.invoice_id = i.id),
                            'items', (select coalesce(jsonb_agg(to_jsonb(newest)
                                    order by newest.created_time desc, newest.id desc), '[]')
                                from (select * from invoice_items t
                                      where t.organization_id = i.organization_id
                                        and t.invoice_id = i.id
                                      order by t.created_time desc, t.id desc
                                      limit $2) newest),
                            'credit_memo', (select to_jsonb(m) from credit_memos m
                                where m.organization_id = i.organization_id
                                  and m.id = k.credit_memo),
                            'credit_memo_allocations', (select coalesce(jsonb_agg(
                                    to_jsonb(a) || jsonb_build_object('currency', i.currency)
                                    order by a.created_time, a.invoice_id), '[]')
                                from credit_memo_allocations a
                                where a.organization_id = i.organization_id
                                  and a.credit_memo_id = k.credit_memo)) as kept
                   from (select distinct organization_id, invoice_id,
                             coalesce(changes->>'credit_memo', '') as credit_memo
                         from event
                         where coalesce(item, pending_item) is null and message is null
                           and invoice_id is not null) k
                   join invoices i
                       on i.organization_id = k.organization_id and i.id = k.invoice_id
                       and i.organization_id = any($4) and i.id = any($5)),
               recorded as (
                   insert into invoice_events (organization_id, id, invoice_id, event_type,
                       revision, changes, message, occurred_time, request_id, idempotency_key,
                       snapshot)
                   select r.organization_id, r.id, r.invoice_id, r.event_type, r.revision,
                       r.changes, r.message, r.occurred_time, r.request_id, r.idempotency_key,
                       case when coalesce(r.item, r.pending_item) is not null
                            then jsonb_strip_nulls(jsonb_build_object(
                                'item', r.item, 'item_before', r.item_before,
                                'pending_item', r.pending_item,
                                'pending_item_before', r.pending_item_before,
                                'customer_id', coalesce(i.customer_id,
                                    r.pending_item->>'customer_id'),
                                'currency', coalesce(i.currency, r.pending_item->>'currency')))
                            when r.message is null then s.kept
                       end
                   from event r
                   -- A pending item's event has no invoice. The ids again as arrays, as in
                   -- `set_totals`: PostgreSQL takes the JSON rows for a hundred and would rather
                   -- read every invoice (1 ms of a 3 ms create among 1,000 invoices).
                   left join invoices i
                       on i.organization_id = r.organization_id and i.id = r.invoice_id
                       and i.organization_id = any($4) and i.id = any($5)
                   left join snapshots s
                       on s.organization_id = r.organization_id and s.invoice_id = r.invoice_id
                       and s.credit_memo = coalesce(r.changes->>'credit_memo', '')
                   where i.id is not null or r.invoice_id is null
                   order by r.position
                   returning organization_id, id, invoice_id, event_type, occurred_time,
                       coalesce(snapshot->'item', snapshot->'pending_item')->>'id' as item_id)
               insert into webhook_deliveries (organization_id, webhook_id, event_id, invoice_id,
                   item_id, next_attempt_time, created_time)
               select w.organization_id, w.id, e.id, e.invoice_id, e.item_id,
                   greatest(e.occurred_time, (
                       select p.next_attempt_time from webhook_deliveries p
                       where p.organization_id = w.organization_id and p.webhook_id = w.id
                         and p.invoice_id = e.invoice_id and p.state = 'pending'
                       order by p.id desc limit 1), (
                       select p.next_attempt_time from webhook_deliveries p
                       where p.organization_id = w.organization_id and p.webhook_id = w.id
                         and p.item_id = e.item_id and p.state = 'pending'
                       order by p.id desc limit 1)),
                   e.occurred_time
               from recorded e
               join webhooks w on w.organization_id = e.organization_id
               where w.status = 'active'
                 and (e.event_type <> all($3) or w.format = 'object-events'
                      and e.event_type <> 'timeline-comment-created')
                 and (cardinality(w.events_filter) = 0 or e.event_type = any(w.events_filter))"#,
            Json(&rows) as Json<&Vec<EventRow<'_>>>,
            ITEMS_KEPT_BY_EVENTS,
            &unsent_types(),
            &organization_ids as &[&str],
            &invoice_ids as &[&str],
        )
        .execute(&mut *self.inner)
        .await?;
        self.wrote_deliveries |= written.rows_affected() > 0;
        Ok(())
    }
}
