//! The named parts of the contract that many operations share: the problem answers of the
//! layers and extractors, the response headers, the request header parameters, and the
//! credentials; kept once in `components`.

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Components, ContentBuilder, Ref, RefOr, Required, Response, ResponseBuilder,
};
use utoipa::{PartialSchema, ToSchema};

use crate::http::problem::{InvalidFieldSchema, Problem};

/// The API-key scheme (`REB-APIKEY`).
pub const API_KEY: &str = "ApiKey";
/// The bearer-token scheme.
pub const BEARER: &str = "BearerJwt";

/// A problem answer that the layers or extractors give.
pub struct ProblemAnswer {
    /// What the answer means.
    pub description: &'static str,
}

pub const MALFORMED: ProblemAnswer = ProblemAnswer {
    description: "The body is not JSON, or not a JSON object.",
};
pub const UNAUTHORIZED: ProblemAnswer = ProblemAnswer {
    description: "No credentials, or credentials that are not valid.",
};
pub const FORBIDDEN: ProblemAnswer = ProblemAnswer {
    description: "The credentials lack this operation's permission, or the \
        `/organizations/{organizationId}` prefix names another organization.",
};
pub const KEY_IN_USE: ProblemAnswer = ProblemAnswer {
    description: "A request with the same `Idempotency-Key` is still running.",
};
pub const PRECONDITION: ProblemAnswer = ProblemAnswer {
    description: "`If-Match` names another version than the current one, or the resource does \
        not exist.",
};
pub const TOO_LARGE: ProblemAnswer = ProblemAnswer {
    description: "The body is larger than 1 MiB.",
};
pub const MEDIA_TYPE: ProblemAnswer = ProblemAnswer {
    description: "A body whose `Content-Type` is not `application/json`.",
};
pub const INVALID: ProblemAnswer = ProblemAnswer {
    description: "Bad fields, each named in `invalidFields` (dot notation: `tax.amount`, \
        `discounts.1.value`); or an `Idempotency-Key` that is malformed, given twice, or \
        reused with another path or body.",
};
/// `Page` refusing its parameters; an operation that reads more documents its own 422.
pub const BAD_PAGE: ProblemAnswer = ProblemAnswer {
    description: "A bad `limit` or `offset`",
};
pub const RATE_LIMITED: ProblemAnswer = ProblemAnswer {
    description: "The organization's writes exceed `RATE_LIMIT_REQUESTS` per \
        `RATE_LIMIT_WINDOW_SECS`; retry after `Retry-After` seconds.",
};
pub const INTERNAL: ProblemAnswer = ProblemAnswer {
    description: "An unexpected failure; nothing was written.",
};
pub const UNAVAILABLE: ProblemAnswer = ProblemAnswer {
    description: "The database did not answer in time, or the request took longer than \
        `REQUEST_TIMEOUT_SECS`; nothing was written.",
};

pub fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(Problem::name())))
                .build(),
        )
        .build()
}

/// A header, kept in `components/headers`.
pub struct SharedHeader {
    name: &'static str,
    description: &'static str,
    integer: bool,
}

pub const REQUEST_ID: SharedHeader = SharedHeader {
    name: "X-Request-Id",
    description: "The request's id (a UUID, or the client's own `X-Request-Id`); problem JSON \
        repeats it as `requestId`, and the server's log lines for the request carry it.",
    integer: false,
};
pub const RATE_LIMIT: SharedHeader = SharedHeader {
    name: "X-RateLimit-Limit",
    description: "The organization's writes per window (absent when rate limits are off).",
    integer: true,
};
pub const RATE_LIMIT_REMAINING: SharedHeader = SharedHeader {
    name: "X-RateLimit-Remaining",
    description: "How many more writes the organization may make now.",
    integer: true,
};
pub const RETRY_AFTER: SharedHeader = SharedHeader {
    name: "Retry-After",
    description: "Seconds until a write will be admitted.",
    integer: true,
};
pub const RETRY_AT: SharedHeader = SharedHeader {
    name: "X-RateLimit-Retry-After",
    description: "The Unix time (seconds) when a write will be admitted.",
    integer: true,
};
pub const REPLAYED: SharedHeader = SharedHeader {
    name: "Idempotent-Replayed",
    description: "`true` when this is the answer kept for the request's `Idempotency-Key`, \
        replayed.",
    integer: false,
};

pub const LOCATION: SharedHeader = SharedHeader {
    name: "Location",
    description: "The URL of the resource.",
    integer: false,
};
pub const ETAG: SharedHeader = SharedHeader {
    name: "ETag",
    description: "The resource's revision (`\"r7\"`), for `If-Match`.",
    integer: false,
};
pub const WWW_AUTHENTICATE: SharedHeader = SharedHeader {
    name: "WWW-Authenticate",
    description: "`Bearer realm=\"invoice-api\"`.",
    integer: false,
};

const ALL_HEADERS: [SharedHeader; 9] = [
    REQUEST_ID,
    RATE_LIMIT,
    RATE_LIMIT_REMAINING,
    RETRY_AFTER,
    RETRY_AT,
    REPLAYED,
    LOCATION,
    ETAG,
    WWW_AUTHENTICATE,
];

fn header(shared: &SharedHeader) -> Header {
    let schema_type = if shared.integer {
        Type::Integer
    } else {
        Type::String
    };
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(schema_type)))
        .description(Some(shared.description))
        .build()
}

/// A request header parameter, kept in `components/parameters`.
pub struct SharedParameter {
    name: &'static str,
    build: fn() -> Parameter,
}

pub const IDEMPOTENCY_KEY: SharedParameter = SharedParameter {
    name: "Idempotency-Key",
    build: || {
        ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes a retry safe: the first answer to a key is kept for 24 hours and \
                 replayed (with `Idempotent-Replayed: true`) for the same path and body. \
                 1 to 255 printable ASCII characters.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[ -~]+$")),
            ))
            .build()
    },
};
pub const IF_MATCH: SharedParameter = SharedParameter {
    name: "If-Match",
    build: || {
        ParameterBuilder::new()
            .name("If-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Changes only the version this `ETag` names (412 otherwise); `*` matches any.",
            ))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build()
    },
};

impl SharedHeader {
    /// A reference to this header in `components/headers`.
    pub fn reference(&self) -> (String, RefOr<Header>) {
        let reference = Ref::new(format!("#/components/headers/{}", self.name));
        (self.name.to_owned(), RefOr::Ref(reference))
    }
}

impl SharedParameter {
    /// A reference to this parameter in `components/parameters`.
    pub fn reference(&self) -> RefOr<Parameter> {
        RefOr::Ref(Ref::new(format!("#/components/parameters/{}", self.name)))
    }
}

/// Puts the shared parts in `components`.
pub fn add_components(components: &mut Components) {
    components.security_schemes.insert(
        API_KEY.to_owned(),
        RefOr::T(SecurityScheme::ApiKey(ApiKey::Header(
            ApiKeyValue::with_description(
                "REB-APIKEY",
                "A secret API key (`sk_sandbox_...` or `sk_live_...`), as Rebilly names it.",
            ),
        ))),
    );
    components.security_schemes.insert(
        BEARER.to_owned(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An HS256 JWT signed with `JWT_SECRET`, naming its organization in \
                     `organizationId`. When a key and a token both come, either valid one \
                     admits (both valid for different organizations is 401).",
                ))
                .build(),
        )),
    );
    for shared in ALL_HEADERS {
        components
            .headers
            .insert(shared.name.to_owned(), RefOr::T(header(&shared)));
    }
    for shared in [IDEMPOTENCY_KEY, IF_MATCH] {
        components
            .parameters
            .insert(shared.name.to_owned(), RefOr::T((shared.build)()));
    }
    for (name, schema) in [
        (Problem::name(), Problem::schema()),
        (InvalidFieldSchema::name(), InvalidFieldSchema::schema()),
    ] {
        components.schemas.insert(name.into_owned(), schema);
    }
}
