//! The line codec: one JSON object per line.
//!
//! [`parse_line`] never panics: it returns the message, or a [`LineError`] saying what was
//! wrong and, when the line still had them, its `src` and `msg_id` so the receiver can answer
//! with error 12. [`parse_header`] reads only what a router needs (`src`, `dest`, the body's
//! `type`, `msg_id` and `in_reply_to`) and keeps the body as raw JSON to forward untouched.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use thiserror::Error;

use crate::envelope::Message;

/// Why a line is not a valid message.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{reason}")]
pub struct LineError {
    /// What was wrong, in words.
    pub reason: String,
    /// The line's `src`, if it had one that is a string.
    pub src: Option<String>,
    /// The line's `body.msg_id`, if it had one that is an integer.
    pub msg_id: Option<u64>,
}

/// Parse one line (without its newline) into a [`Message`].
pub fn parse_line(line: &str) -> Result<Message, LineError> {
    let line = line.trim_end_matches(['\n', '\r']);
    if line.trim().is_empty() {
        return Err(LineError {
            reason: "empty line".into(),
            src: None,
            msg_id: None,
        });
    }
    match serde_json::from_str::<Message>(line) {
        Ok(message) => Ok(message),
        Err(err) => Err(describe(line, err)),
    }
}

/// Work out what was wrong with a line that did not parse as a message, salvaging its `src`
/// and `msg_id` when it is at least a JSON object.
fn describe(line: &str, err: serde_json::Error) -> LineError {
    let value: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(_) => {
            return LineError {
                reason: format!("not JSON: {err}"),
                src: None,
                msg_id: None,
            };
        }
    };
    let Value::Object(object) = &value else {
        return LineError {
            reason: format!("not a JSON object but {}", kind_of(&value)),
            src: None,
            msg_id: None,
        };
    };
    let src = object.get("src").and_then(Value::as_str).map(str::to_owned);
    let body = object.get("body");
    let msg_id = body.and_then(|b| b.get("msg_id")).and_then(Value::as_u64);
    let reason = if src.is_none() {
        "missing or non-string \"src\"".to_owned()
    } else if object.get("dest").and_then(Value::as_str).is_none() {
        "missing or non-string \"dest\"".to_owned()
    } else if !matches!(body, Some(Value::Object(_))) {
        "missing \"body\" object".to_owned()
    } else if body
        .and_then(|b| b.get("type"))
        .and_then(Value::as_str)
        .is_none()
    {
        "body has no string \"type\"".to_owned()
    } else {
        format!("bad body: {err}")
    };
    LineError {
        reason,
        src,
        msg_id,
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One message as a line, without the trailing newline.
pub fn to_line(message: &Message) -> String {
    // A Message holds only strings, integers, maps and JSON values: serializing cannot fail.
    serde_json::to_string(message).unwrap_or_default()
}

/// What a router reads of a line: addresses, and the raw body to forward.
#[derive(Debug, Deserialize)]
pub struct RouteHeader<'a> {
    #[serde(borrow)]
    pub src: Cow<'a, str>,
    #[serde(borrow)]
    pub dest: Cow<'a, str>,
    #[serde(borrow)]
    pub body: &'a RawValue,
}

/// What a router reads of a body.
#[derive(Debug, Deserialize)]
pub struct BodyHeader<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default)]
    pub msg_id: Option<u64>,
    #[serde(default)]
    pub in_reply_to: Option<u64>,
}

/// Parse a line's addresses, keeping the body as raw JSON (checked to be an object): what a
/// router needs to forward a message, in one pass over the line.
pub fn parse_route(line: &str) -> Result<RouteHeader<'_>, LineError> {
    let header: RouteHeader<'_> = serde_json::from_str(line).map_err(|err| describe(line, err))?;
    if !header.body.get().starts_with('{') {
        return Err(LineError {
            reason: "missing \"body\" object".into(),
            src: Some(header.src.into_owned()),
            msg_id: None,
        });
    }
    Ok(header)
}

/// The deepest a line may nest and still be read by Maelstrom: its JSON parser (Jackson, under
/// cheshire) refuses a document nested deeper than 1000 arrays and objects (Jackson's default
/// `StreamReadConstraints` since 2.15), and Maelstrom then stops reading the node that wrote
/// it. The envelope is one level, so a body may nest 999 deep.
pub const MAELSTROM_MAX_DEPTH: usize = 1000;

/// What a router needs to know of a body beyond its addresses, found by [`scan_body`] in one
/// pass without building it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyScan {
    /// How deeply it nests: 1 for `{"type":"x"}`, 2 with an array or object inside, ...
    pub depth: usize,
    /// Its `type` is a string.
    pub has_type: bool,
    /// Its `msg_id` is absent, `null`, or a non-negative integer.
    pub msg_id_ok: bool,
    /// Its `in_reply_to` is absent, `null`, or a non-negative integer.
    pub in_reply_to_ok: bool,
}

/// The top-level keys [`scan_body`] looks at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Type,
    MsgId,
    InReplyTo,
    Other,
}

impl Key {
    fn of(raw: &[u8]) -> Key {
        let unescaped;
        let name: &[u8] = if raw.contains(&b'\\') {
            // An escaped key (`"\u0074ype"`) names the same field once unescaped.
            let quoted = [&b"\""[..], raw, &b"\""[..]].concat();
            unescaped = serde_json::from_slice::<String>(&quoted).unwrap_or_default();
            unescaped.as_bytes()
        } else {
            raw
        };
        match name {
            b"type" => Key::Type,
            b"msg_id" => Key::MsgId,
            b"in_reply_to" => Key::InReplyTo,
            _ => Key::Other,
        }
    }
}

/// Scan a body that is already known to be a JSON object (a [`RouteHeader::body`]): its depth
/// and whether its `type`, `msg_id` and `in_reply_to` have the types the protocol gives them.
/// One pass over the bytes, no allocation (but for escaped keys), and no recursion, so a body
/// nested any depth is scanned in constant stack.
pub fn scan_body(raw: &str) -> BodyScan {
    let b = raw.as_bytes();
    let mut scan = BodyScan {
        depth: 0,
        has_type: false,
        msg_id_ok: true,
        in_reply_to_ok: true,
    };
    let mut depth = 0usize;
    // At depth 1: the next string is a key (after `{` or `,`), and the key just read.
    let mut expect_key = false;
    let mut key = Key::Other;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                i = start;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 && expect_key {
                    key = Key::of(&b[start..i.min(b.len())]);
                    expect_key = false;
                }
            }
            b'{' | b'[' => {
                depth += 1;
                scan.depth = scan.depth.max(depth);
                expect_key = depth == 1 && b[i] == b'{';
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_key = true,
            b':' if depth == 1 => {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                let value = &b[j..];
                match key {
                    Key::Type => scan.has_type = value.first() == Some(&b'"'),
                    Key::MsgId => scan.msg_id_ok = id_ok(value),
                    Key::InReplyTo => scan.in_reply_to_ok = id_ok(value),
                    Key::Other => {}
                }
                key = Key::Other;
            }
            _ => {}
        }
        i += 1;
    }
    scan
}

/// True if the JSON value at the start of `value` is `null` or a non-negative integer that
/// fits in 64 bits.
fn id_ok(value: &[u8]) -> bool {
    if value.starts_with(b"null") {
        return true;
    }
    let end = value
        .iter()
        .position(|c| !(c.is_ascii_digit() || b"+-.eE".contains(c)))
        .unwrap_or(value.len());
    let token = &value[..end];
    !token.is_empty()
        && token.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(token).is_ok_and(|t| t.parse::<u64>().is_ok())
}

/// Parse a line's addresses and body header without building the body.
pub fn parse_header(line: &str) -> Result<(RouteHeader<'_>, BodyHeader<'_>), LineError> {
    let header: RouteHeader<'_> = serde_json::from_str(line).map_err(|err| describe(line, err))?;
    let body: BodyHeader<'_> =
        serde_json::from_str(header.body.get()).map_err(|err| describe(line, err))?;
    Ok((header, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Payload;

    #[test]
    fn parses_a_message_and_ignores_unknown_envelope_keys() {
        let line =
            r#"{"id":4,"src":"c1","dest":"n0","body":{"type":"echo","msg_id":0,"echo":"hi"}}"#;
        let message = parse_line(line).unwrap();
        assert_eq!(message.src, "c1");
        assert_eq!(message.body.msg_id, Some(0));
        assert_eq!(
            message.body.payload,
            Payload::Echo {
                echo: Value::from("hi")
            }
        );
        assert_eq!(
            to_line(&message),
            r#"{"src":"c1","dest":"n0","body":{"msg_id":0,"type":"echo","echo":"hi"}}"#
        );
    }

    #[test]
    fn says_what_was_wrong() {
        let cases = [
            ("", "empty line"),
            ("{not json", "not JSON"),
            ("[1,2]", "not a JSON object but an array"),
            (
                r#"{"dest":"n0","body":{"type":"x"}}"#,
                "missing or non-string \"src\"",
            ),
            (
                r#"{"src":"c0","body":{"type":"x"}}"#,
                "missing or non-string \"dest\"",
            ),
            (r#"{"src":"c0","dest":"n0"}"#, "missing \"body\" object"),
            (
                r#"{"src":"c0","dest":"n0","body":{"msg_id":1}}"#,
                "body has no string \"type\"",
            ),
            (
                r#"{"src":"c0","dest":"n0","body":{"type":"read","msg_id":-1}}"#,
                "bad body",
            ),
        ];
        for (line, reason) in cases {
            let err = parse_line(line).unwrap_err();
            assert!(err.reason.starts_with(reason), "{line}: {}", err.reason);
        }
    }

    #[test]
    fn salvages_src_and_msg_id_for_an_error_reply() {
        let err = parse_line(r#"{"src":"c3","dest":"n0","body":{"msg_id":0}}"#).unwrap_err();
        assert_eq!(err.src.as_deref(), Some("c3"));
        assert_eq!(err.msg_id, Some(0));
    }

    #[test]
    fn a_body_scan_finds_its_depth_and_the_types_of_type_and_ids() {
        let scan = |body: &str| {
            let s = scan_body(body);
            (s.depth, s.has_type, s.msg_id_ok, s.in_reply_to_ok)
        };
        assert_eq!(scan(r#"{"type":"echo","msg_id":0}"#), (1, true, true, true));
        assert_eq!(
            scan(r#"{"msg_id":1,"x":{"type":"inner"}}"#),
            (2, false, true, true)
        );
        assert_eq!(
            scan(r#"{ "type" : 7 , "msg_id" : "one" }"#),
            (1, false, false, true)
        );
        assert_eq!(
            scan(r#"{"type":"a","in_reply_to":-1,"v":[[1],{"msg_id":"x"}]}"#),
            (3, true, true, false)
        );
        assert_eq!(scan(r#"{"type":"a","msg_id":1.5}"#), (1, true, false, true));
        assert_eq!(scan(r#"{"type":"a","msg_id":null}"#), (1, true, true, true));
        assert_eq!(
            scan(r#"{"type":"a","msg_id":18446744073709551616}"#),
            (1, true, false, true)
        );
        // Strings may hold brackets, quotes and the key names; escaped keys are the same keys.
        assert_eq!(
            scan(r#"{"s":"{[\"type\":1,","\u0074ype":"x","in_reply_to":"2"}"#),
            (1, true, true, false)
        );
        let deep = format!(
            "{{\"type\":\"x\",\"v\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(scan_body(&deep).depth, 100_001);
        // Agrees with serde_json on what it can parse.
        for body in [
            r#"{"a":[{"b":[[]]}],"type":"t"}"#,
            r#"{"type":"t","msg_id":3,"body":{"msg_id":"x"}}"#,
        ] {
            fn depth(v: &Value) -> usize {
                match v {
                    Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
                    Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
                    _ => 0,
                }
            }
            let value: Value = serde_json::from_str(body).unwrap();
            assert_eq!(scan_body(body).depth, depth(&value), "{body}");
            assert!(serde_json::from_str::<BodyHeader<'_>>(body).is_ok() == scan(body).2);
        }
    }

    #[test]
    fn header_parse_keeps_the_raw_body() {
        let line = r#"{"src":"n1","dest":"n2","body":{"type":"gossip","msg_id":7,"v":[1]}}"#;
        let (route, body) = parse_header(line).unwrap();
        assert_eq!(route.src, "n1");
        assert_eq!(route.dest, "n2");
        assert_eq!(route.body.get(), r#"{"type":"gossip","msg_id":7,"v":[1]}"#);
        assert_eq!(body.kind, "gossip");
        assert_eq!(body.msg_id, Some(7));
        assert_eq!(body.in_reply_to, None);
        assert!(parse_header(r#"{"src":"n1","dest":"n2","body":{}}"#).is_err());
    }
}
