//! The router: the one module above the dialects. It merges each dialect's routes with the
//! service's own (`/health`, `/metrics`, the contract and its docs), and names the dialect
//! that answers each request's errors. A third dialect is a sibling folder of `rebilly/` and
//! `stripe/`, one merge and one line in [`dialect_of`].

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::failure::{Dialect, Rejection};
use super::rebilly::error_response::REBILLY;
use super::rebilly::openapi;
use super::state::AppState;
use super::stripe::error::STRIPE;
use super::{auth, health, hosted, metrics, problem, rebilly, stripe};

/// The API's routes, answered both at the root and under `/organizations/{organizationId}`,
/// with `/health`, `/metrics`, the contract at `/openapi.json` and Swagger UI at `/docs` (where
/// `/` leads). The
/// contract is built from the handlers' annotations the routes are registered from, so that
/// neither can name an operation the other lacks.
pub fn routes() -> Router<AppState> {
    let (resources, resources_spec) = rebilly::resources().split_for_parts();
    let (organization, mut organization_spec) = rebilly::organization_resources().split_for_parts();
    // Served at the root only, not under the prefix the other server entry names.
    for item in organization_spec.paths.paths.values_mut() {
        item.servers = Some(vec![utoipa::openapi::server::Server::new("/")]);
    }
    let (service, mut spec) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(metrics::render))
        .routes(routes!(openapi::contract))
        .merge(hosted::routes())
        .split_for_parts();
    spec.merge(resources_spec);
    spec.merge(organization_spec);
    openapi::finish(&mut spec);
    let (stripe_routes, stripe_spec) = stripe::routes().split_for_parts();
    spec.merge(stripe_spec);
    stripe::contract::finish(&mut spec);
    // On the service's own routes alone: a layer over every route would box each route again,
    // a box copied on every request.
    service
        .layer(Extension(openapi::Contract::new(&spec)))
        .merge(resources.clone())
        .merge(organization)
        .nest(auth::ORGANIZATION_PREFIX, resources)
        .merge(stripe_routes)
        .merge(openapi::docs())
        .route("/", get(home))
        .fallback(not_found)
}

/// `/`: whoever opens the server's address in a browser is shown its API.
async fn home() -> Redirect {
    Redirect::temporary("/docs/")
}

async fn not_found() -> Rejection {
    Rejection::NoRoute("No such route.")
}

/// The dialect that answers a request's errors: the Stripe-style one under its prefix,
/// Rebilly's everywhere else.
fn dialect_of(path: &str) -> Dialect {
    if stripe::owns(path) {
        Dialect(&STRIPE)
    } else {
        Dialect(&REBILLY)
    }
}

/// Completes every error answer in the dialect of its request (see [`problem::complete`]).
pub async fn complete_errors(request: Request, next: Next) -> Response {
    let dialect = dialect_of(request.uri().path());
    problem::complete(dialect, request, next).await
}
