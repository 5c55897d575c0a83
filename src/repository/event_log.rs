//! The event log: an organization's events, newest first, each with what it was about as its
//! change left it. Events keep that as JSON of the rows they were taken from (see
//! `record_events`), and the log reads it back through the same row types as the tables, so
//! a kept invoice is read exactly as a live one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::credit_memos::{CreditAllocationRow, CreditMemoRow};
use super::invoice_items::ItemRow;
use super::invoices::{DiscountRow, InvoiceRow};
use super::parse_currency;
use super::pending_items::PendingRow;
use super::{Cursor, Tx, corrupt};
use crate::domain::credit_memo::{CreditAllocation, CreditMemo};
use crate::domain::event::{Cause, EventChanges, EventType, InvoiceEvent};
use crate::domain::ids::{CustomerId, EventId, InvoiceId, OrganizationId};
use crate::domain::invoice::Invoice;
use crate::domain::invoice_item::{InvoiceItem, PendingItem, PlacedItem};

/// Which events a page of the log holds; each filter left empty keeps them all.
#[derive(Debug, Clone, Default)]
pub struct EventLogListing {
    /// Only events of these types.
    pub types: Vec<EventType>,
    /// Only events at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub before: Option<DateTime<Utc>>,
}

/// An invoice as an event left it: the invoice and its newest items, newest first.
#[derive(Debug, Clone)]
pub struct InvoiceSnapshot {
    /// The invoice, with its discounts and credit allocations.
    pub invoice: Invoice,
    /// Its newest items, newest first.
    pub newest_items: Vec<InvoiceItem>,
}

/// What a logged event was about, as its change left it.
#[derive(Debug, Clone)]
pub enum EventSubject {
    /// An invoice's event: the invoice after the change, and after the event before it (none
    /// for its first).
    Invoice {
        /// After the change.
        after: Box<InvoiceSnapshot>,
        /// After the invoice's event before.
        before: Option<Box<InvoiceSnapshot>>,
        /// For an event of a credit memo, the memo as the change left it.
        credit_memo: Option<Box<CreditMemo>>,
    },
    /// An item's event: the event carries the item, on its invoice or pending, and for a
    /// change the item as it was before.
    Item,
}

/// One event of the log.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    /// The event; an item's event carries the item (and what it was before a change).
    pub event: InvoiceEvent,
    /// What it was about.
    pub subject: EventSubject,
}

/// Which part of the log a page reads.
#[derive(Debug, Clone, Copy)]
enum Window {
    /// The newest events.
    Newest,
    /// The events before this place (transaction, number).
    OlderThan((i64, i64)),
    /// The events after this place.
    NewerThan((i64, i64)),
    /// The event at this place.
    At((i64, i64)),
}

struct LogRow {
    id: EventId,
    invoice_id: Option<InvoiceId>,
    event_type: String,
    revision: i64,
    changes: Json<EventChanges>,
    occurred_time: DateTime<Utc>,
    item_customer: Option<CustomerId>,
    item_currency: Option<String>,
    before_id: Option<EventId>,
    request_id: Option<String>,
    idempotency_key: Option<String>,
}

/// A row an event keeps, with the event's id.
#[derive(sqlx::FromRow)]
struct KeptRow<T> {
    event_id: EventId,
    #[sqlx(flatten)]
    row: T,
}

#[derive(sqlx::FromRow)]
struct KeptItem {
    event_id: EventId,
    /// Which of the event's items: `items` (an invoice's newest), `item` or `item_before`.
    slot: String,
    #[sqlx(flatten)]
    row: ItemRow,
}

#[derive(sqlx::FromRow)]
struct KeptPendingItem {
    event_id: EventId,
    /// `pending_item` or `pending_item_before`.
    slot: String,
    #[sqlx(flatten)]
    row: PendingRow,
}

/// What events keep, read back for a set of them.
#[derive(Default)]
struct Kept {
    invoices: HashMap<EventId, Invoice>,
    /// An invoice's newest items.
    items: HashMap<EventId, Vec<InvoiceItem>>,
    /// An item's event's items on invoices, by event and slot (`item`, `item_before`).
    placed: HashMap<(EventId, String), InvoiceItem>,
    /// An item's event's pending items, by event and slot (`pending_item`, ...).
    pending: HashMap<(EventId, String), PendingItem>,
    credit_memos: HashMap<EventId, CreditMemo>,
}

/// The log's events that a page's statement reads: those of the organization (`$1`) that
/// keep what they were about, of the types `$2` (all when empty), from `$3` and before `$4`;
/// `$tail` adds the window, the order and the limit.
macro_rules! log_rows {
    ($tail:literal, $($arguments:tt)*) => {
        sqlx::query_as!(
            LogRow,
            r#"select e.id as "id: EventId", e.invoice_id as "invoice_id: InvoiceId",
                   e.event_type, e.revision, e.changes as "changes: Json<EventChanges>",
                   e.occurred_time,
                   e.snapshot->>'customer_id' as "item_customer?: CustomerId",
                   e.snapshot->>'currency' as item_currency,
                   e.request_id, e.idempotency_key,
                   -- An item's event has the item before in its own snapshot.
                   (select p.id from invoice_events p
                    where e.event_type not like 'item-%'
                      and p.organization_id = e.organization_id
                      and p.invoice_id = e.invoice_id and p.sequence < e.sequence
                      and p.transaction_id <> e.transaction_id
                      and p.snapshot ? 'invoice'
                    order by p.sequence desc limit 1) as "before_id?: EventId"
               from invoice_events e
               where e.organization_id = $1 and e.snapshot is not null
                 and (cardinality($2::text[]) = 0 or e.event_type = any($2))
                 and e.occurred_time >= coalesce($3::timestamptz, '-infinity')
                 and e.occurred_time < coalesce($4::timestamptz, 'infinity')
                 "# + $tail,
            $($arguments)*
        )
    };
}

impl Tx {
    /// A page of the organization's events that `listing` keeps, newest first, from `cursor`,
    /// up to `limit`: the events that keep what they were about (those written before events
    /// did are not in the log), of transactions older than any still running, so that no
    /// later commit ever lands behind a page already read. `None` when the cursor names no
    /// event of the log.
    pub async fn event_log(
        &mut self,
        organization_id: &OrganizationId,
        listing: &EventLogListing,
        cursor: Cursor<'_, EventId>,
        limit: i64,
    ) -> Result<Option<Vec<LoggedEvent>>, sqlx::Error> {
        let (id, older) = match cursor {
            Cursor::Newest => {
                return self
                    .log_page(organization_id, listing, Window::Newest, limit)
                    .await
                    .map(Some);
            }
            Cursor::OlderThan(id) => (id, true),
            Cursor::NewerThan(id) => (id, false),
        };
        let Some(place) = self.logged_place(organization_id, id).await? else {
            return Ok(None);
        };
        let window = if older {
            Window::OlderThan(place)
        } else {
            Window::NewerThan(place)
        };
        self.log_page(organization_id, listing, window, limit)
            .await
            .map(Some)
    }

    /// One event of the organization's log, however recent.
    pub async fn logged_event(
        &mut self,
        organization_id: &OrganizationId,
        event_id: &EventId,
    ) -> Result<Option<LoggedEvent>, sqlx::Error> {
        let Some(place) = self.logged_place(organization_id, event_id).await? else {
            return Ok(None);
        };
        let listing = EventLogListing::default();
        let page = self
            .log_page(organization_id, &listing, Window::At(place), 1)
            .await?;
        Ok(page.into_iter().next())
    }

    /// The events of a window of the log, newest first: the newest `limit` of them, or past a
    /// `NewerThan` place the oldest.
    async fn log_page(
        &mut self,
        organization_id: &OrganizationId,
        listing: &EventLogListing,
        window: Window,
        limit: i64,
    ) -> Result<Vec<LoggedEvent>, sqlx::Error> {
        let types: Vec<String> = listing
            .types
            .iter()
            .map(|event_type| event_type.as_str().to_owned())
            .collect();
        // The newest place a page may show: just past `At`'s event, or any place of a
        // transaction older than every one still running.
        let (below, settled) = match window {
            Window::At((transaction, sequence)) => (Some((transaction, sequence + 1)), false),
            Window::OlderThan(place) => (Some(place), true),
            Window::Newest | Window::NewerThan(_) => (None, true),
        };
        // Two statements, each in the order of the log's index, so that a page reads only
        // its own rows however long the organization's log is.
        let mut rows = match window {
            Window::NewerThan((transaction, sequence)) => {
                log_rows!(
                    "and (e.transaction_id, e.sequence) > ($5, $6)
                       and e.transaction_id
                           < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
                     order by e.transaction_id, e.sequence
                     limit $7",
                    organization_id as &OrganizationId,
                    &types,
                    listing.from,
                    listing.before,
                    transaction,
                    sequence,
                    limit,
                )
                .fetch_all(&mut *self.inner)
                .await?
            }
            _ => {
                let (transaction, sequence) = below.unzip();
                log_rows!(
                    "and (e.transaction_id, e.sequence) < (
                           coalesce($5::bigint, 9223372036854775807),
                           coalesce($6::bigint, 9223372036854775807))
                       and (not $7 or e.transaction_id
                           < pg_snapshot_xmin(pg_current_snapshot())::text::bigint)
                     order by e.transaction_id desc, e.sequence desc
                     limit $8",
                    organization_id as &OrganizationId,
                    &types,
                    listing.from,
                    listing.before,
                    transaction,
                    sequence,
                    settled,
                    limit,
                )
                .fetch_all(&mut *self.inner)
                .await?
            }
        };
        if matches!(window, Window::NewerThan(_)) {
            rows.reverse();
        }
        let mut wanted: Vec<EventId> = rows.iter().map(|row| row.id.clone()).collect();
        wanted.extend(rows.iter().filter_map(|row| row.before_id.clone()));
        let kept = self.kept(organization_id, &wanted).await?;
        rows.into_iter().map(|row| logged(row, &kept)).collect()
    }

    /// An event's place in the log: its transaction, then its number.
    async fn logged_place(
        &mut self,
        organization_id: &OrganizationId,
        event_id: &EventId,
    ) -> Result<Option<(i64, i64)>, sqlx::Error> {
        let found = sqlx::query!(
            "select transaction_id, sequence from invoice_events
             where organization_id = $1 and id = $2 and snapshot is not null",
            organization_id as &OrganizationId,
            event_id as &EventId,
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(found.map(|row| (row.transaction_id, row.sequence)))
    }

    /// Rows that `sql` reads out of what the organization's events `event_ids` keep (`$1` is
    /// the organization, `$2` the events).
    async fn kept_rows<T>(
        &mut self,
        sql: &'static str,
        organization_id: &OrganizationId,
        event_ids: &[EventId],
    ) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        sqlx::query_as(sql)
            .bind(organization_id)
            .bind(event_ids)
            .fetch_all(&mut *self.inner)
            .await
    }

    /// What the events `event_ids` keep, read back as rows.
    async fn kept(
        &mut self,
        organization_id: &OrganizationId,
        event_ids: &[EventId],
    ) -> Result<Kept, sqlx::Error> {
        let discount_rows: Vec<KeptRow<DiscountRow>> = self
            .kept_rows(
                "select e.id as event_id, d.invoice_id, d.currency, d.description, d.type, d.value,
                 d.amount
             from invoice_events e
             cross join lateral jsonb_to_recordset(e.snapshot->'discounts') as d(
                 invoice_id text, currency text, description text, type text, value numeric,
                 amount numeric, position integer)
             where e.organization_id = $1 and e.id = any($2)
             order by e.id, d.position",
                organization_id,
                event_ids,
            )
            .await?;
        let mut discounts = by_event(discount_rows);
        let allocation_rows: Vec<KeptRow<CreditAllocationRow>> = self
            .kept_rows(
                "select e.id as event_id, a.credit_memo_id, a.invoice_id, a.amount,
                 a.out_of_band_amount, a.currency, a.created_time, a.updated_time
             from invoice_events e
             cross join lateral jsonb_array_elements(e.snapshot->'credit_allocations')
                 with ordinality as kept(value, place)
             cross join lateral jsonb_to_record(kept.value) as a(credit_memo_id text,
                 invoice_id text, amount numeric, out_of_band_amount numeric, currency text,
                 created_time timestamptz, updated_time timestamptz)
             where e.organization_id = $1 and e.id = any($2)
             order by e.id, kept.place",
                organization_id,
                event_ids,
            )
            .await?;
        let mut allocations = by_event(allocation_rows);
        let invoice_rows: Vec<KeptRow<InvoiceRow>> = self
            .kept_rows(
                "select e.id as event_id, i.*
             from invoice_events e
             cross join lateral jsonb_populate_record(null::invoices, e.snapshot->'invoice') i
             where e.organization_id = $1 and e.id = any($2) and e.snapshot ? 'invoice'",
                organization_id,
                event_ids,
            )
            .await?;
        let mut kept = Kept::default();
        for KeptRow { event_id, row } in invoice_rows {
            let mut invoice = row.into_invoice()?;
            invoice.discounts = discounts
                .remove(&event_id)
                .unwrap_or_default()
                .into_iter()
                .map(DiscountRow::into_applied)
                .collect::<Result<_, _>>()?;
            invoice.payments.credit_allocations = take_allocations(&mut allocations, &event_id)?;
            kept.invoices.insert(event_id, invoice);
        }
        let item_rows: Vec<KeptItem> = self
            .kept_rows(
                "select e.id as event_id, kept.slot, t.*
             from invoice_events e
             cross join lateral (
                 select 'items' as slot, value, place
                 from jsonb_array_elements(e.snapshot->'items') with ordinality as a(value, place)
                 union all
                 select key, value, 0 from jsonb_each(e.snapshot)
                 where key in ('item', 'item_before')) kept
             cross join lateral jsonb_populate_record(null::invoice_items, kept.value) t
             where e.organization_id = $1 and e.id = any($2)
             order by e.id, kept.place",
                organization_id,
                event_ids,
            )
            .await?;
        for KeptItem {
            event_id,
            slot,
            row,
        } in item_rows
        {
            let item = row.into_item()?;
            if slot == "items" {
                kept.items.entry(event_id).or_default().push(item);
            } else {
                kept.placed.insert((event_id, slot), item);
            }
        }
        let pending_rows: Vec<KeptPendingItem> = self
            .kept_rows(
                "select e.id as event_id, kept.key as slot, p.*
             from invoice_events e
             cross join lateral jsonb_each(e.snapshot) as kept(key, value)
             cross join lateral jsonb_populate_record(null::pending_items, kept.value) p
             where e.organization_id = $1 and e.id = any($2)
               and kept.key in ('pending_item', 'pending_item_before')",
                organization_id,
                event_ids,
            )
            .await?;
        for KeptPendingItem {
            event_id,
            slot,
            row,
        } in pending_rows
        {
            kept.pending.insert((event_id, slot), row.into_item()?);
        }
        self.keep_credit_memos(organization_id, event_ids, &mut kept)
            .await?;
        Ok(kept)
    }

    /// The credit memos, with their allocations, that the events of credit memos keep.
    async fn keep_credit_memos(
        &mut self,
        organization_id: &OrganizationId,
        event_ids: &[EventId],
        kept: &mut Kept,
    ) -> Result<(), sqlx::Error> {
        let memo_rows: Vec<KeptRow<CreditMemoRow>> = self
            .kept_rows(
                "select e.id as event_id, m.*
                 from invoice_events e
                 cross join lateral jsonb_populate_record(null::credit_memos,
                     e.snapshot->'credit_memo') m
                 where e.organization_id = $1 and e.id = any($2)
                   and jsonb_typeof(e.snapshot->'credit_memo') = 'object'",
                organization_id,
                event_ids,
            )
            .await?;
        if memo_rows.is_empty() {
            return Ok(());
        }
        let allocation_rows: Vec<KeptRow<CreditAllocationRow>> = self
            .kept_rows(
                "select e.id as event_id, a.credit_memo_id, a.invoice_id, a.amount,
                     a.out_of_band_amount, a.currency, a.created_time, a.updated_time
                 from invoice_events e
                 cross join lateral jsonb_array_elements(e.snapshot->'credit_memo_allocations')
                     with ordinality as kept(value, place)
                 cross join lateral jsonb_to_record(kept.value) as a(credit_memo_id text,
                     invoice_id text, amount numeric, out_of_band_amount numeric, currency text,
                     created_time timestamptz, updated_time timestamptz)
                 where e.organization_id = $1 and e.id = any($2)
                   and jsonb_typeof(e.snapshot->'credit_memo') = 'object'
                 order by e.id, kept.place",
                organization_id,
                event_ids,
            )
            .await?;
        let mut allocations = by_event(allocation_rows);
        for KeptRow { event_id, row } in memo_rows {
            let mut memo = row.into_credit_memo()?;
            memo.allocations = take_allocations(&mut allocations, &event_id)?;
            kept.credit_memos.insert(event_id, memo);
        }
        Ok(())
    }
}

/// The rows the events keep, by event, each event's in the order read.
fn by_event<T>(rows: Vec<KeptRow<T>>) -> HashMap<EventId, Vec<T>> {
    let mut grouped: HashMap<EventId, Vec<T>> = HashMap::new();
    for KeptRow { event_id, row } in rows {
        grouped.entry(event_id).or_default().push(row);
    }
    grouped
}

/// The credit allocations the event keeps, taken out of those read.
fn take_allocations(
    allocations: &mut HashMap<EventId, Vec<CreditAllocationRow>>,
    event_id: &EventId,
) -> Result<Vec<CreditAllocation>, sqlx::Error> {
    allocations
        .remove(event_id)
        .unwrap_or_default()
        .into_iter()
        .map(CreditAllocationRow::into_allocation)
        .collect()
}

fn logged(row: LogRow, kept: &Kept) -> Result<LoggedEvent, sqlx::Error> {
    let event_type =
        EventType::parse(&row.event_type).ok_or_else(|| corrupt("event type", &row.event_type))?;
    let snapshot = |event_id: &EventId| {
        let invoice = kept.invoices.get(event_id)?.clone();
        let newest_items = kept.items.get(event_id).cloned().unwrap_or_default();
        Some(Box::new(InvoiceSnapshot {
            invoice,
            newest_items,
        }))
    };
    let (subject, item, item_before) = if EventType::OF_ITEMS.contains(&event_type) {
        let (Some(customer_id), Some(currency)) = (row.item_customer, row.item_currency) else {
            return Err(corrupt("item event", row.id.as_str()));
        };
        let currency = parse_currency(&currency)?;
        // The item in a slot of the event: on its invoice (`item`) or pending.
        let placed = |slot: &str| {
            let key = (row.id.clone(), slot.to_owned());
            if let Some(item) = kept.placed.get(&key) {
                return Some(Box::new(PlacedItem::OnInvoice {
                    item: Box::new(item.clone()),
                    customer_id: customer_id.clone(),
                    currency,
                }));
            }
            let key = (row.id.clone(), format!("pending_{slot}"));
            let pending = kept.pending.get(&key)?;
            Some(Box::new(PlacedItem::Pending(Box::new(pending.clone()))))
        };
        let item = placed("item").ok_or_else(|| corrupt("item event", row.id.as_str()))?;
        (EventSubject::Item, Some(item), placed("item_before"))
    } else {
        let after = snapshot(&row.id).ok_or_else(|| corrupt("invoice event", row.id.as_str()))?;
        let before = row.before_id.as_ref().and_then(snapshot);
        let credit_memo = kept.credit_memos.get(&row.id).cloned().map(Box::new);
        let subject = EventSubject::Invoice {
            after,
            before,
            credit_memo,
        };
        (subject, None, None)
    };
    Ok(LoggedEvent {
        event: InvoiceEvent {
            id: row.id,
            invoice_id: row.invoice_id,
            event_type,
            revision: row.revision,
            changes: row.changes.0,
            message: None,
            occurred_time: row.occurred_time,
            item,
            item_before,
            cause: Some(Cause {
                request_id: row.request_id,
                idempotency_key: row.idempotency_key,
            }),
        },
        subject,
    })
}
