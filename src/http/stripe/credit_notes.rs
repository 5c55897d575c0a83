//! `/v1/credit_notes`: Stripe's credit notes over the same credit memos as `/credit-memos`.
//! A note is taken off what its invoice has left to pay while the invoice is open
//! (`pre_payment`); on a paid invoice, all of it is recorded as given back out of band
//! (`post_payment`): this server records credit and never moves money.

use axum::extract::State;
use axum::response::Response;
use rust_decimal::Decimal;

use super::auth::StripeCaller;
use super::contract::{CREDIT_NOTES_TAG, IdPath, PageQuery};
use super::credit_note_object::{
    CreditNoteLineList, CreditNoteLineObject, CreditNoteList, CreditNoteObject, document_path,
};
use super::credit_note_pages::line_page;
use super::credit_note_params::{
    CreditNoteCreateParams, CreditNoteListQuery, CreditNoteParams, CreditNotePreviewQuery,
    CreditNoteRequest,
};
use super::error::{Bad, StripeError, missing_as};
use super::pages::PageParams;
use super::params::{Reader, StripeBody, StripeQuery};
use super::wire::ok;
use super::words::minor_text;
use crate::domain::credit_memo::{CreditMemo, LineError};
use crate::domain::ids::{CreditMemoId, CreditMemoLineId, CustomerId, InvoiceId};
use crate::error::{ApiError, DomainField, Rule};
use crate::http::extract::Path;
use crate::http::idempotency::run_write;
use crate::http::state::AppState;
use crate::repository::CreditMemoFilter;
use crate::service::credit_memos as service;
use crate::service::invoices::get_invoice_with_newest_items;

fn credit_note_id(id: &str) -> Result<CreditMemoId, StripeError> {
    CreditMemoId::parse(id).map_err(|_| StripeError::no_such("credit_note", id, "id"))
}

/// The note as Stripe shows it, its document's URL made absolute.
fn object(state: &AppState, memo: &CreditMemo, livemode: bool) -> CreditNoteObject {
    CreditNoteObject::new(memo, livemode, state.url(&document_path(&memo.id)))
}

/// What a note's write is about, to name a refusal's parameter: the note, or the invoice it
/// credits and the parameter that says what it comes to.
#[derive(Clone, Copy)]
enum About<'a> {
    Note(&'a CreditMemoId),
    Invoice(&'a InvoiceId, &'static str),
}

/// A core error in this dialect's terms: a missing note or invoice as Stripe names it, a bad
/// line at its own parameter, and amounts in minor units.
fn note_error(about: About<'_>, error: ApiError) -> StripeError {
    match (error, about) {
        (ApiError::NotFound(_), About::Note(id)) => {
            StripeError::no_such("credit_note", id.as_str(), "id")
        }
        (ApiError::InvalidInput { field, rule }, about) => {
            match invalid_param(field, rule, about) {
                Ok(bad) => bad,
                Err((field, rule)) => ApiError::InvalidInput { field, rule }.into(),
            }
        }
        (other, _) => other.into(),
    }
}

/// A refused field of the core as this dialect names and words it, where it differs from the
/// shared wording; the field and rule back otherwise.
fn invalid_param(
    field: DomainField,
    rule: Rule,
    about: About<'_>,
) -> Result<StripeError, (DomainField, Rule)> {
    let total_param = match about {
        About::Note(_) => "lines",
        About::Invoice(_, total_param) => total_param,
    };
    let bad = match (field, rule) {
        (DomainField::CreditedInvoice, Rule::UnknownInvoice) => match about {
            About::Invoice(invoice, _) => {
                return Ok(StripeError::no_such_param(
                    "invoice",
                    invoice.as_str(),
                    "invoice",
                ));
            }
            About::Note(_) => return Err((field, Rule::UnknownInvoice)),
        },
        (DomainField::CreditLines, Rule::CreditLine { index, error }) => line_bad(index, error),
        (DomainField::CreditOutOfBand, Rule::OutOfBandNotTotal { total, currency }) => {
            Bad::invalid(
                "out_of_band_amount",
                format!(
                    "must be the note's total, {}: on a paid invoice all of it is given back out of band",
                    minor_text(currency, total)
                ),
            )
        }
        (DomainField::AllocatedAmount, Rule::MoreThanDue { due, currency }) => Bad::invalid(
            total_param,
            format!(
                "must not come to more than the invoice has left to pay, {}",
                minor_text(currency, due)
            ),
        ),
        (DomainField::CreditLines, Rule::MoreThanInvoiceLeft { left, currency }) => Bad::invalid(
            total_param,
            format!(
                "must not come to more than earlier credit notes left to credit of the invoice, {}",
                minor_text(currency, left)
            ),
        ),
        (DomainField::CreditLines, Rule::MoreThanPaid { held, currency }) => Bad::invalid(
            total_param,
            format!(
                "must not come to more than the invoice was paid, {}",
                minor_text(currency, held)
            ),
        ),
        (field, rule) => return Err((field, rule)),
    };
    Ok(bad.into())
}

/// A line the core refused, at the parameter that made it so.
fn line_bad(index: usize, error: LineError) -> Bad {
    let param = |key: &str| format!("lines[{index}][{key}]");
    match error {
        LineError::UnknownItem => Bad::invalid(
            &param("invoice_line_item"),
            "must be a line of the credited invoice",
        ),
        LineError::CreditItem => Bad::invalid(
            &param("invoice_line_item"),
            "must be a line with a positive amount: a credit is not credited again",
        ),
        LineError::MoreThanBilled { quantity } => Bad::invalid(
            &param("quantity"),
            format!("must be at most the {quantity} units the line bills"),
        ),
        // Minor units are what this dialect speaks; the core's message names major units.
        LineError::AboveItemPrice { .. } => Bad::invalid(
            &param("unit_amount"),
            "must be at most the line's own unit amount",
        ),
        LineError::Unpriced => Bad::invalid(
            &format!("lines[{index}]"),
            "must give unit_amount and description when it names no invoice line",
        ),
        LineError::NotPositive => Bad::invalid(
            &format!("lines[{index}]"),
            "must come to more than 0, and at most 1000000000000 in major units",
        ),
        LineError::MoreThanLeft { .. } => Bad::invalid(
            &param("quantity"),
            "must credit at most what earlier credit notes left of the line",
        ),
    }
}

/// Reads a create's or a preview's parameters, and makes them the core's input in the
/// credited invoice's currency.
async fn read_request(
    state: &AppState,
    caller: &StripeCaller,
    mut reader: Reader,
) -> Result<CreditNoteRequest, StripeError> {
    let note = CreditNoteParams::read(&mut reader);
    reader.finish()?;
    let invoice_id = note
        .invoice()
        .cloned()
        .ok_or(StripeError::Params(Vec::new()))?;
    // The amounts are in the invoice's minor units; the core checks again, in the write, that
    // the currency is still the one read here.
    let (invoice, _) =
        get_invoice_with_newest_items(&state.db, &caller.principal.organization_id, &invoice_id, 0)
            .await
            .map_err(missing_as(|| {
                StripeError::no_such_param("invoice", invoice_id.as_str(), "invoice")
            }))?;
    note.request(invoice.currency)
}

/// 400 on `amount` unless it is what the note's lines came to.
fn check_agreed(memo: &CreditMemo, agreed_total: Option<Decimal>) -> Result<(), StripeError> {
    match agreed_total {
        Some(amount) if amount != memo.totals.total_amount => Err(Bad::invalid(
            "amount",
            format!(
                "must equal what the lines come to, {}",
                minor_text(memo.currency, memo.totals.total_amount)
            ),
        )
        .into()),
        _ => Ok(()),
    }
}

/// Creates a credit note.
///
/// On a finalized invoice that is not void, of its `lines` (invoice lines credited at their
/// price with their share of discount and tax, or custom lines) or of `amount` alone. While
/// the invoice is open it lowers `amount_remaining` (and can pay the invoice); on a paid
/// invoice all of it is recorded as given back out of band.
#[utoipa::path(
    post,
    path = "/v1/credit_notes",
    operation_id = "PostCreditNotes",
    tag = CREDIT_NOTES_TAG,
    request_body(content(
        (CreditNoteCreateParams = "application/x-www-form-urlencoded"),
        (CreditNoteCreateParams = "application/json"),
    )),
    responses((status = 200, description = "The note, issued", body = CreditNoteObject)),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: StripeCaller,
    StripeBody(request, reader): StripeBody,
) -> Result<Response, StripeError> {
    let CreditNoteRequest {
        input,
        agreed_total,
        total_param,
    } = read_request(&state, &caller, reader).await?;
    let organization_id = &caller.principal.organization_id;
    let livemode = caller.livemode;
    let invoice_id = input.invoice_id.clone();
    run_write(&state, &caller.principal, request, async |tx| {
        let memo = service::issue_credit_memo(tx, organization_id, input)
            .await
            .map_err(|error| note_error(About::Invoice(&invoice_id, total_param), error))?;
        // An error here rolls the memo back with the rest of the write.
        check_agreed(&memo, agreed_total)?;
        ok(&object(&state, &memo, livemode))
    })
    .await
}

/// Previews a credit note.
///
/// The note a create with these parameters (in the query string) would make, by the same
/// rules; stored nowhere, so its id and number name nothing.
#[utoipa::path(
    get,
    path = "/v1/credit_notes/preview",
    operation_id = "GetCreditNotesPreview",
    tag = CREDIT_NOTES_TAG,
    params(CreditNotePreviewQuery),
    responses((status = 200, description = "The note it would make", body = CreditNoteObject)),
)]
pub async fn preview(
    State(state): State<AppState>,
    caller: StripeCaller,
    StripeQuery(reader): StripeQuery,
) -> Result<Response, StripeError> {
    let CreditNoteRequest {
        input,
        agreed_total,
        total_param,
    } = read_request(&state, &caller, reader).await?;
    let invoice_id = input.invoice_id.clone();
    let memo = service::preview_credit_memo(&state.db, &caller.principal.organization_id, input)
        .await
        .map_err(|error| note_error(About::Invoice(&invoice_id, total_param), error))?;
    check_agreed(&memo, agreed_total)?;
    ok(&object(&state, &memo, caller.livemode))
}

/// Retrieves a credit note.
#[utoipa::path(
    get,
    path = "/v1/credit_notes/{id}",
    operation_id = "GetCreditNotesId",
    tag = CREDIT_NOTES_TAG,
    params(IdPath),
    responses((status = 200, description = "The note, with all its lines", body = CreditNoteObject)),
)]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(mut reader): StripeQuery,
) -> Result<Response, StripeError> {
    super::expand::refuse_all(&mut reader);
    reader.finish()?;
    let id = credit_note_id(&id)?;
    let memo = service::get_credit_memo(&state.db, &caller.principal.organization_id, &id)
        .await
        .map_err(|error| note_error(About::Note(&id), error))?;
    ok(&object(&state, &memo, caller.livemode))
}

/// Voids a credit note.
///
/// Its credit is withdrawn from the invoice, whose `amount_remaining` grows back; the invoice
/// must still be open. A note given back out of band cannot be voided.
#[utoipa::path(
    post,
    path = "/v1/credit_notes/{id}/void",
    operation_id = "PostCreditNotesIdVoid",
    tag = CREDIT_NOTES_TAG,
    params(IdPath),
    request_body(content(
        (Option<CreditNoteVoidParams> = "application/x-www-form-urlencoded"),
        (Option<CreditNoteVoidParams> = "application/json"),
    )),
    responses((status = 200, description = "The note, void", body = CreditNoteObject)),
)]
pub async fn void(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeBody(request, mut reader): StripeBody,
) -> Result<Response, StripeError> {
    super::expand::refuse_all(&mut reader);
    reader.finish()?;
    let id = credit_note_id(&id)?;
    let organization_id = &caller.principal.organization_id;
    let livemode = caller.livemode;
    run_write(&state, &caller.principal, request, async |tx| {
        let memo = service::void_credit_memo(tx, organization_id, &id)
            .await
            .map_err(|error| note_error(About::Note(&id), error))?;
        ok(&object(&state, &memo, livemode))
    })
    .await
}

/// Lists credit notes.
///
/// Newest first, by cursor, of one `invoice` or one `customer` when given.
#[utoipa::path(
    get,
    path = "/v1/credit_notes",
    operation_id = "GetCreditNotes",
    tag = CREDIT_NOTES_TAG,
    params(PageQuery, CreditNoteListQuery),
    responses((status = 200, description = "A page of notes, newest first", body = CreditNoteList)),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: StripeCaller,
    StripeQuery(mut reader): StripeQuery,
) -> Result<Response, StripeError> {
    let page = PageParams::read(&mut reader);
    let filter = CreditMemoFilter {
        invoice_id: reader.parsed("invoice", InvoiceId::parse),
        customer_id: reader.parsed("customer", CustomerId::parse),
    };
    reader.finish()?;
    let cursor_id = page.cursor_id("credit_note", |id| CreditMemoId::parse(id).ok())?;
    let cursor = page.from(cursor_id.as_ref());
    let organization_id = &caller.principal.organization_id;
    let memos = service::credit_memos_by_cursor(
        &state.db,
        organization_id,
        &filter,
        cursor,
        page.to_read(),
    )
    .await?
    .ok_or_else(|| page.no_such("credit_note"))?;
    page.answer(
        memos,
        |memo| object(&state, memo, caller.livemode),
        "/v1/credit_notes",
    )
}

/// Lists a credit note's lines.
///
/// In the note's order, by cursor (a note shows them all in its `lines` too).
#[utoipa::path(
    get,
    path = "/v1/credit_notes/{id}/lines",
    operation_id = "GetCreditNotesCreditNoteLines",
    tag = CREDIT_NOTES_TAG,
    params(IdPath, PageQuery),
    responses((status = 200, description = "A page of the note's lines", body = CreditNoteLineList)),
)]
pub async fn lines(
    State(state): State<AppState>,
    caller: StripeCaller,
    Path(IdPath { id }): Path<IdPath>,
    StripeQuery(mut reader): StripeQuery,
) -> Result<Response, StripeError> {
    let page = PageParams::read(&mut reader);
    reader.finish()?;
    let id = credit_note_id(&id)?;
    let cursor_id = page.cursor_id("credit_note_line_item", |id| {
        CreditMemoLineId::parse(id).ok()
    })?;
    let memo = service::get_credit_memo(&state.db, &caller.principal.organization_id, &id)
        .await
        .map_err(|error| note_error(About::Note(&id), error))?;
    let all = CreditNoteLineObject::all(&memo, caller.livemode);
    let lines = line_page(all, page.from(cursor_id.as_ref()), page.to_read())
        .ok_or_else(|| page.no_such("credit_note_line_item"))?;
    page.answer(
        lines,
        |line| line.clone(),
        format!("/v1/credit_notes/{id}/lines"),
    )
}

/// `POST /v1/credit_notes/{id}/void`'s body: nothing (`expand` is refused).
#[derive(utoipa::ToSchema)]
#[schema(as = StripeCreditNoteVoid)]
#[expect(dead_code, reason = "its fields are read by the schema derive alone")]
pub struct CreditNoteVoidParams {
    /// Nothing expands here: any path is refused.
    #[schema(required = false, max_items = 0)]
    expand: Vec<String>,
}
