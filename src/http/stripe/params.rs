//! Stripe's parameters: a form body with bracket nesting (`metadata[order]=42`,
//! `period[start]=...`, `expand[0]=x` or `expand[]=x`), a JSON body, or a query string, read
//! into one tree of JSON values, so that every rule is checked once whatever the encoding; and
//! a reader that names each bad parameter in bracket notation.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use percent_encoding::percent_decode;
use serde_json::{Map, Value};

use super::error::{Bad, StripeError};
use crate::domain::idempotency::CanonicalBody;
use crate::http::extract::{JsonBody, MAX_BODY_BYTES};
use crate::http::failure::Rejection;
use crate::http::idempotency::{Idempotency, WriteRequest};

/// The most name-value pairs a form or query is read for.
pub const MAX_PAIRS: usize = 1000;
/// The most brackets one name nests (`a[b][c][d][e]`).
pub const MAX_NESTING: usize = 5;
/// The most elements of a list (`expand[]`).
pub const MAX_LIST: usize = 100;
/// The most bad parameters an answer names.
pub const MAX_REPORTED: usize = 50;

/// The parameters of a request, as a JSON object.
#[derive(Debug, Default)]
pub struct StripeParams {
    params: Map<String, Value>,
    /// Whether the values carry JSON's types (a JSON body), or are all texts (a form body or
    /// a query string), to be read as the parameter's type.
    typed: bool,
}

impl StripeParams {
    /// Parameters whose values are texts, read from a form or a query string.
    pub fn from_texts(params: Map<String, Value>) -> Self {
        Self {
            params,
            typed: false,
        }
    }

    /// Their canonical form, for the idempotency fingerprint: `None` when there are none.
    pub fn canonical(&self) -> Option<CanonicalBody> {
        if self.params.is_empty() {
            return None;
        }
        serde_json::to_string(&self.params)
            .ok()
            .map(|text| CanonicalBody::of_json(&text))
    }
}

impl<S: Send + Sync> FromRequest<S> for StripeParams {
    type Rejection = StripeError;

    async fn from_request(request: Request, state: &S) -> Result<Self, StripeError> {
        let essence = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|essence| essence.trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some("application/json") => {
                refuse_query(request.uri().query())?;
                let JsonBody(object) = JsonBody::from_request(request, state).await?;
                if object.len() > MAX_PAIRS {
                    return Err(Bad::request(format!(
                        "The request has more than {MAX_PAIRS} parameters."
                    ))
                    .into());
                }
                let mut params = Map::new();
                for (name, raw) in object {
                    let value = serde_json::from_str(raw.get()).map_err(|error| {
                        Rejection::BadRequest(format!("The body is not valid JSON: {error}."))
                    })?;
                    check_json(&name, &value)?;
                    params.insert(name, value);
                }
                Ok(Self {
                    params,
                    typed: true,
                })
            }
            Some("application/x-www-form-urlencoded") | None => {
                refuse_query(request.uri().query())?;
                let bytes = Bytes::from_request(request, state)
                    .await
                    .map_err(|rejection| {
                        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                            Rejection::PayloadTooLarge {
                                limit: MAX_BODY_BYTES,
                            }
                        } else {
                            Rejection::BadRequest("The request body could not be read.".to_owned())
                        }
                    })?;
                if essence.is_none() && !bytes.trim_ascii().is_empty() {
                    return Err(unsupported());
                }
                parse_pairs(&bytes)
                    .map(Self::from_texts)
                    .map_err(StripeError::from)
            }
            Some(_) => Err(unsupported()),
        }
    }
}

/// The query string's parameters, read as a form body is, in a reader of their own.
#[derive(Debug)]
pub struct StripeQuery(pub Reader);

impl<S: Send + Sync> FromRequestParts<S> for StripeQuery {
    type Rejection = StripeError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, StripeError> {
        let query = parts.uri.query().unwrap_or_default();
        let params = StripeParams::from_texts(parse_pairs(query.as_bytes())?);
        Ok(Self(Reader::new(params)))
    }
}

/// A write's body: the write request its `Idempotency-Key` makes of its parameters (the key
/// fingerprints them, whatever their encoding), and the parameters in a reader.
#[derive(Debug)]
pub struct StripeBody(pub WriteRequest, pub Reader);

impl<S: Send + Sync> FromRequest<S> for StripeBody {
    type Rejection = StripeError;

    async fn from_request(request: Request, state: &S) -> Result<Self, StripeError> {
        let (mut parts, body) = request.into_parts();
        let idempotency = Idempotency::from_request_parts(&mut parts, state).await?;
        let params = StripeParams::from_request(Request::from_parts(parts, body), state).await?;
        Ok(Self(
            idempotency.request(params.canonical()),
            Reader::new(params),
        ))
    }
}

/// A body's parameters are its own: one in the query string beside it would be neither read
/// nor refused by the body's rules, so it is refused here, naming it.
fn refuse_query(query: Option<&str>) -> Result<(), StripeError> {
    let Some(query) = query.filter(|query| !query.is_empty()) else {
        return Ok(());
    };
    let name = query.split(['=', '&']).next().unwrap_or_default();
    let name = decode(name.as_bytes()).unwrap_or_default();
    Err(Bad::invalid(&name, "must be sent in the body, not in the query string").into())
}

/// A JSON parameter within the limits a form's are held to, and without the NUL character,
/// which no text stored here may hold.
fn check_json(name: &str, value: &Value) -> Result<(), Bad> {
    match value {
        Value::String(text) if text.contains('\0') => {
            Err(Bad::invalid(name, "must not contain the NUL character"))
        }
        Value::Array(values) if values.len() > MAX_LIST => Err(Bad::invalid(
            name,
            format!("lists may have at most {MAX_LIST} elements"),
        )),
        Value::Array(values) => values
            .iter()
            .enumerate()
            .try_for_each(|(index, value)| check_json(&format!("{name}[{index}]"), value)),
        Value::Object(map) if map.len() > MAX_PAIRS => Err(Bad::invalid(
            name,
            format!("may have at most {MAX_PAIRS} keys"),
        )),
        Value::Object(map) => map.iter().try_for_each(|(key, value)| {
            let nested = format!("{name}[{key}]");
            if key.contains('\0') {
                return Err(Bad::invalid(&nested, "must not contain the NUL character"));
            }
            check_json(&nested, value)
        }),
        _ => Ok(()),
    }
}

fn unsupported() -> StripeError {
    StripeError::unsupported_media_type(
        "The request body must be sent as application/x-www-form-urlencoded or application/json.",
    )
}

/// Reads `name=value&...` pairs (a form body or a query string) into a tree.
pub fn parse_pairs(bytes: &[u8]) -> Result<Map<String, Value>, Bad> {
    let mut params = Map::new();
    let pairs = bytes
        .split(|byte| *byte == b'&')
        .filter(|pair| !pair.is_empty());
    for (index, pair) in pairs.enumerate() {
        if index == MAX_PAIRS {
            return Err(Bad::request(format!(
                "The request has more than {MAX_PAIRS} parameters."
            )));
        }
        let (name, value) = match pair.iter().position(|byte| *byte == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &b""[..]),
        };
        let name = decode(name)?;
        let value = decode(value).map_err(|_| Bad::invalid(&name, "is not UTF-8 text"))?;
        if name.contains('\0') || value.contains('\0') {
            return Err(Bad::invalid(&name, "must not contain the NUL character"));
        }
        let (head, path) = split_name(&name)?;
        insert(&mut params, &head, &path, value, &name)?;
    }
    Ok(params)
}

/// `+` is a space, then percent-decoding, then UTF-8.
fn decode(bytes: &[u8]) -> Result<String, Bad> {
    let spaced: Vec<u8> = bytes
        .iter()
        .map(|byte| if *byte == b'+' { b' ' } else { *byte })
        .collect();
    percent_decode(&spaced)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| Bad::request("A parameter name is not UTF-8 text."))
}

/// `a[b][]` into `a` and `["b", ""]`.
fn split_name(name: &str) -> Result<(String, Vec<String>), Bad> {
    let malformed = || Bad::invalid(name, "is not a parameter name (name[key][...])");
    let (head, mut rest) = match name.find('[') {
        Some(at) => (&name[..at], &name[at..]),
        None => (name, ""),
    };
    if head.is_empty() || head.contains(']') {
        return Err(malformed());
    }
    let mut path = Vec::new();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[').ok_or_else(malformed)?;
        let close = inner.find(']').ok_or_else(malformed)?;
        let segment = &inner[..close];
        if segment.contains('[') {
            return Err(malformed());
        }
        path.push(segment.to_owned());
        if path.len() > MAX_NESTING {
            return Err(Bad::invalid(
                name,
                format!("nests more than {MAX_NESTING} levels"),
            ));
        }
        rest = &inner[close + 1..];
    }
    Ok((head.to_owned(), path))
}

fn insert(
    params: &mut Map<String, Value>,
    head: &str,
    path: &[String],
    value: String,
    name: &str,
) -> Result<(), Bad> {
    let given_twice = || Bad::invalid(name, "is given more than once");
    let Some((next, rest)) = path.split_first() else {
        if params.contains_key(head) {
            return Err(given_twice());
        }
        params.insert(head.to_owned(), Value::String(value));
        return Ok(());
    };
    let container = params
        .entry(head.to_owned())
        .or_insert_with(|| empty_container(next));
    insert_into(container, next, rest, value, name)
}

/// `name[]` appends to a list; any other segment, digits too (`metadata[2024]`,
/// `expand[0]`), names a key: a list given by index is read as one by [`Reader::texts`].
fn empty_container(segment: &str) -> Value {
    if segment.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(Map::new())
    }
}

fn insert_into(
    container: &mut Value,
    segment: &str,
    rest: &[String],
    value: String,
    name: &str,
) -> Result<(), Bad> {
    let mixed = || Bad::invalid(name, "mixes a value, a list and nested parameters");
    match container {
        Value::Object(map) => {
            if segment.is_empty() {
                return Err(mixed());
            }
            insert(map, segment, rest, value, name)
        }
        Value::Array(list) => {
            if !segment.is_empty() {
                return Err(mixed());
            }
            if list.len() >= MAX_LIST {
                return Err(Bad::invalid(
                    name,
                    format!("lists may have at most {MAX_LIST} elements"),
                ));
            }
            match rest.split_first() {
                None => list.push(Value::String(value)),
                Some((next, rest)) => {
                    let mut element = empty_container(next);
                    insert_into(&mut element, next, rest, value, name)?;
                    list.push(element);
                }
            }
            Ok(())
        }
        _ => Err(mixed()),
    }
}

/// Reads parameters one by one, collecting every bad one; what is left unread at the end is
/// unknown to the operation.
#[derive(Debug)]
pub struct Reader {
    params: Map<String, Value>,
    typed: bool,
    prefix: Option<String>,
    bad: Vec<Bad>,
}

impl Reader {
    /// A reader over a request's parameters.
    pub fn new(StripeParams { params, typed }: StripeParams) -> Self {
        Self {
            params,
            typed,
            prefix: None,
            bad: Vec::new(),
        }
    }

    /// A parameter's full name: `key`, or `prefix[key]` inside a nested one.
    pub fn name(&self, key: &str) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}[{key}]"),
            None => key.to_owned(),
        }
    }

    /// Records a bad parameter.
    pub fn reject(&mut self, bad: Bad) {
        self.bad.push(bad);
    }

    /// Records that `key` is bad, by its full name.
    pub fn reject_key(&mut self, key: &str, message: impl Into<String>) {
        let name = self.name(key);
        self.bad.push(Bad::invalid(&name, message));
    }

    /// Whether `key` was given (and not yet read).
    pub fn has(&self, key: &str) -> bool {
        self.params.contains_key(key)
    }

    /// Whether `key` was given as the empty value (`key=`, or JSON `null` or `""`).
    pub fn peek_is_empty(&self, key: &str) -> bool {
        match self.params.get(key) {
            Some(Value::Null) => true,
            Some(Value::String(text)) => text.is_empty(),
            _ => false,
        }
    }

    /// Whether `key` was given as nested parameters (`key[sub]=...`).
    pub fn is_object(&self, key: &str) -> bool {
        self.params.get(key).is_some_and(Value::is_object)
    }

    /// A text parameter; a JSON `null` is the empty text (which, as in Stripe's forms, unsets
    /// a field on an update).
    pub fn text(&mut self, key: &str) -> Option<String> {
        match self.params.remove(key)? {
            Value::String(text) => Some(text),
            Value::Null => Some(String::new()),
            _ => {
                self.reject_key(key, "must be a string");
                None
            }
        }
    }

    /// A text parameter read by `parse`; what `parse` refuses is rejected with its message.
    pub fn parsed<T, E: ToString>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = self.text(key)?;
        parse(&text)
            .map_err(|error| self.reject_key(key, error.to_string()))
            .ok()
    }

    /// A text parameter that must be given, read by `parse` as [`Reader::parsed`] reads one;
    /// one missing (or not a text) is rejected as missing.
    pub fn required<T, E: ToString>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let Some(text) = self.text(key) else {
            self.reject(Bad::missing(key));
            return None;
        };
        parse(&text)
            .map_err(|error| self.reject_key(key, error.to_string()))
            .ok()
    }

    /// An integer parameter (digits, with an optional `-`).
    pub fn integer(&mut self, key: &str) -> Option<i64> {
        let name = self.name(key);
        let value = self.params.remove(key)?;
        let parsed = match &value {
            Value::Number(number) => number.as_i64(),
            Value::String(text) if !self.typed => {
                text.parse::<i64>().ok().filter(|_| !text.starts_with('+'))
            }
            _ => None,
        };
        if parsed.is_none() {
            let shown = match &value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let shown: String = shown.chars().take(40).collect();
            self.bad.push(Bad::coded(
                &name,
                "parameter_invalid_integer",
                format!("must be an integer (got {shown:?})"),
            ));
        }
        parsed
    }

    /// A boolean parameter: `true` or `false`.
    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        let value = self.params.remove(key)?;
        match (&value, self.typed) {
            (Value::Bool(flag), true) => Some(*flag),
            (Value::String(text), false) if text == "true" => Some(true),
            (Value::String(text), false) if text == "false" => Some(false),
            _ => {
                self.reject_key(key, "must be true or false");
                None
            }
        }
    }

    /// A nested parameter (`period[start]`), read by its own reader; `Some(None)` clears it:
    /// an empty value in a form (Stripe's way), `null` in JSON. Hand the reader back with
    /// [`Reader::adopt`].
    pub fn object(&mut self, key: &str) -> Option<Option<Reader>> {
        let name = self.name(key);
        match self.params.remove(key)? {
            Value::Object(params) => Some(Some(Self {
                params,
                typed: self.typed,
                prefix: Some(name),
                bad: Vec::new(),
            })),
            Value::Null => Some(None),
            Value::String(text) if text.is_empty() && !self.typed => Some(None),
            _ => {
                self.bad
                    .push(Bad::invalid(&name, "must be an object (name[key]=value)"));
                None
            }
        }
    }

    /// A list of texts (`expand[]=a&expand[]=b`, or `expand[0]=a&expand[1]=b`); in a form or
    /// a query, one bare value (`expand=a`) is a list of one.
    pub fn texts(&mut self, key: &str) -> Vec<String> {
        let name = self.name(key);
        match self.params.remove(key) {
            None => Vec::new(),
            Some(Value::String(text)) if !self.typed => vec![text],
            Some(Value::Array(values)) => {
                self.list_texts(&name, values.into_iter().enumerate().collect())
            }
            // In a form or a query only: a JSON list is an array.
            Some(Value::Object(indexed)) if !self.typed => {
                // `name[0]=a&name[1]=b`: a list by index, in the indexes' order.
                let mut elements = Vec::new();
                for (key, value) in indexed {
                    match key.parse::<usize>() {
                        Ok(index)
                            if key.bytes().all(|byte| byte.is_ascii_digit())
                                && index < MAX_LIST =>
                        {
                            elements.push((index, value));
                        }
                        _ => self.bad.push(Bad::invalid(
                            &format!("{name}[{key}]"),
                            format!("must be a list index below {MAX_LIST}"),
                        )),
                    }
                }
                elements.sort_by_key(|(index, _)| *index);
                self.list_texts(&name, elements)
            }
            Some(_) => {
                self.bad
                    .push(Bad::invalid(&name, "must be a list (name[]=value)"));
                Vec::new()
            }
        }
    }

    fn list_texts(&mut self, name: &str, elements: Vec<(usize, Value)>) -> Vec<String> {
        let mut texts = Vec::new();
        for (index, value) in elements {
            match value {
                Value::String(text) => texts.push(text),
                _ => self.bad.push(Bad::invalid(
                    &format!("{name}[{index}]"),
                    "must be a string",
                )),
            }
        }
        texts
    }

    /// The keys and values left, for a map the caller reads itself (`metadata`).
    pub fn drain(&mut self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.params).into_iter().collect()
    }

    /// Takes back a nested reader: its bad parameters, and what it left unread, which is
    /// unknown.
    pub fn adopt(&mut self, mut nested: Reader) {
        nested.refuse_unread();
        self.bad.append(&mut nested.bad);
    }

    /// Refuses each of `keys` that was given, naming it: fields this server does not
    /// implement, which are never silently dropped.
    pub fn refuse_unsupported(&mut self, keys: &[&str]) {
        for key in keys {
            if self.params.remove(*key).is_some() {
                let name = self.name(key);
                self.bad.push(Bad::coded(
                    &name,
                    "parameter_unknown",
                    "is not supported by this server",
                ));
            }
        }
    }

    fn refuse_unread(&mut self) {
        for (key, _) in std::mem::take(&mut self.params) {
            let name = self.name(&key);
            self.bad.push(Bad::unknown(&name));
        }
    }

    /// Whether any parameter so far is bad.
    pub fn has_bad(&self) -> bool {
        !self.bad.is_empty()
    }

    /// Ends the reading: 400 naming every bad parameter and every unknown one (the first
    /// [`MAX_REPORTED`] of them, so that an answer stays small whatever was sent).
    pub fn finish(mut self) -> Result<(), StripeError> {
        self.refuse_unread();
        self.bad.truncate(MAX_REPORTED);
        StripeError::unless_bad(self.bad)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(body: &str) -> Value {
        Value::Object(parse_pairs(body.as_bytes()).unwrap())
    }

    fn refused(body: &str) -> (String, String) {
        let bad = parse_pairs(body.as_bytes()).unwrap_err();
        (bad.param.unwrap_or_default(), bad.message)
    }

    #[test]
    fn brackets_nest_objects_and_lists() {
        assert_eq!(
            parsed(
                "customer=cus_1&metadata[order]=42&metadata[note]=a+b%26c&period[start]=1&\
                 expand[]=invoice&expand[]=customer&lines[0][amount]=5&lines[0][quantity]=2&\
                 lines[1][amount]=7&empty="
            ),
            json!({
                "customer": "cus_1",
                "metadata": {"order": "42", "note": "a b&c"},
                "period": {"start": "1"},
                "expand": ["invoice", "customer"],
                "lines": {"0": {"amount": "5", "quantity": "2"}, "1": {"amount": "7"}},
                "empty": "",
            })
        );
        assert_eq!(
            parsed("expand[1]=b&expand[0]=a&metadata[2024]=x"),
            json!({"expand": {"1": "b", "0": "a"}, "metadata": {"2024": "x"}}),
            "digits name keys: a reader that wants a list takes them in the indexes' order"
        );
        assert_eq!(
            parsed("metadata%5Border%5D=1"),
            json!({"metadata": {"order": "1"}}),
            "brackets may be percent-encoded, as clients send them"
        );
        assert_eq!(parsed(""), json!({}));
    }

    #[test]
    fn a_name_given_twice_or_in_two_shapes_is_refused_naming_it() {
        assert_eq!(refused("amount=1&amount=2").0, "amount");
        assert_eq!(refused("metadata=x&metadata[a]=1").0, "metadata[a]");
        assert_eq!(refused("metadata[a]=1&metadata=x").0, "metadata");
        assert_eq!(refused("metadata[a]=1&metadata[a]=2").0, "metadata[a]");
        assert_eq!(refused("expand[0]=a&expand[0]=b").0, "expand[0]");
        assert_eq!(refused("expand[]=a&expand[x]=b").0, "expand[x]");
        assert_eq!(refused("metadata[0]=1&metadata[]=2").0, "metadata[]");
        assert_eq!(refused("note=a%00b").0, "note");
        assert_eq!(refused("metadata[a%00]=1").0, "metadata[a\0]");
    }

    #[test]
    fn a_list_reads_from_brackets_or_indexes_in_order_and_within_bounds() {
        let reader = |body: &str| {
            Reader::new(StripeParams::from_texts(
                parse_pairs(body.as_bytes()).unwrap(),
            ))
        };
        let mut by_index = reader("expand[1]=b&expand[0]=a");
        assert_eq!(by_index.texts("expand"), ["a", "b"]);
        assert!(by_index.finish().is_ok());
        let mut appended = reader("expand[]=a&expand[]=b");
        assert_eq!(appended.texts("expand"), ["a", "b"]);
        let mut bare = reader("expand=a");
        assert_eq!(
            bare.texts("expand"),
            ["a"],
            "one bare value is a list of one"
        );
        let mut too_far = reader("expand[100]=a&expand[%2B1]=b");
        assert!(too_far.texts("expand").is_empty());
        let Err(StripeError::Params(bad)) = too_far.finish() else {
            panic!("refused")
        };
        let params: Vec<_> = bad.iter().filter_map(|bad| bad.param.clone()).collect();
        assert_eq!(params, ["expand[+1]", "expand[100]"]);
    }

    #[test]
    fn hostile_names_are_bounded() {
        assert_eq!(refused("a[b]c=1").0, "a[b]c");
        assert_eq!(refused("[a]=1").0, "[a]");
        assert_eq!(refused("a[b=1").0, "a[b");
        assert_eq!(refused("a[[b]]=1").0, "a[[b]]");
        assert_eq!(refused("a[1][2][3][4][5][6]=1").0, "a[1][2][3][4][5][6]");
        assert!(parse_pairs(b"a[b][c][d][e][f]=1").is_ok());
        let full: Vec<&str> = (0..=MAX_LIST).map(|_| "expand[]=a").collect();
        assert_eq!(refused(&full.join("&")).0, "expand[]");
        let many: Vec<String> = (0..=MAX_PAIRS).map(|n| format!("k{n}=v")).collect();
        assert!(
            parse_pairs(many.join("&").as_bytes())
                .unwrap_err()
                .param
                .is_none()
        );
        assert_eq!(refused("note=%FF").0, "note");
        assert!(parse_pairs(b"%FF=1").unwrap_err().param.is_none());
    }
}
