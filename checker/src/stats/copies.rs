//! Copies per broadcast: how many times each broadcast value crossed a link between servers,
//! whatever batching packed into one message (the course's cost of eager reliable broadcast is
//! n(n-1) copies of each value, of gossip about n times the fanout).
//!
//! Counted from the bodies of server-to-server sends, for any node program in any language:
//! each integer of a body (outside strings, and not the `msg_id` or `in_reply_to` of the
//! envelope) that is one of the run's broadcast values is one copy of that value; a value
//! twice in one message is one copy. The harness's broadcast values start at
//! [`FIRST_BROADCAST_VALUE`], well above the sequence numbers, counters and message ids a
//! node's own messages carry, so they are not mistaken for one another. A history whose values
//! start lower (Maelstrom counts from 0) gets no copy count: its values cannot be told apart
//! from those numbers.
//!
//! A value sent again (a retry, a duplicate push) is counted again: it crossed the link again.
//! Sends are counted, whether or not the network then delivered them.

use std::collections::BTreeMap;

/// The first value of the broadcast workload.
pub const FIRST_BROADCAST_VALUE: u64 = 1_000_000;

/// Integers in `[FIRST_BROADCAST_VALUE, FIRST_BROADCAST_VALUE + WINDOW)` are tallied: room for
/// a hundred million broadcasts, while timestamps in milliseconds since 1970 (and larger) stay
/// out of the tally.
const WINDOW: u64 = 100_000_000;

/// Copies of each candidate value in server-to-server bodies, tallied as the messages go;
/// which candidates were broadcast values is known from the history at the end
/// ([`Copies::of`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copies {
    tally: BTreeMap<u64, u64>,
    /// Scratch: the candidates of the message being tallied.
    seen: Vec<u64>,
}

impl Copies {
    /// Tally the candidate values in one message's body text.
    pub fn record(&mut self, body: &str) {
        let mut seen = std::mem::take(&mut self.seen);
        seen.clear();
        integers(body, |n| {
            if (FIRST_BROADCAST_VALUE..FIRST_BROADCAST_VALUE + WINDOW).contains(&n) {
                seen.push(n);
            }
        });
        seen.sort_unstable();
        seen.dedup();
        for &n in &seen {
            *self.tally.entry(n).or_default() += 1;
        }
        self.seen = seen;
    }

    /// The copies of `values` (the run's broadcast values): `None` when some value is outside
    /// the counted range (see the module documentation).
    pub fn of(&self, values: &[i64]) -> Option<u64> {
        let mut total = 0;
        for &v in values {
            let v = u64::try_from(v).ok()?;
            if !(FIRST_BROADCAST_VALUE..FIRST_BROADCAST_VALUE + WINDOW).contains(&v) {
                return None;
            }
            total += self.tally.get(&v).copied().unwrap_or(0);
        }
        Some(total)
    }
}

/// The broadcast values of a body (integers in the counted range, see the module
/// documentation), each with the byte range of its digits in `body`, in order: what the
/// Byzantine nemesis replaces when it alters a message.
pub fn broadcast_values(body: &str) -> Vec<(std::ops::Range<usize>, u64)> {
    let mut out = Vec::new();
    integer_spans(body, |n, span| {
        if (FIRST_BROADCAST_VALUE..FIRST_BROADCAST_VALUE + WINDOW).contains(&n) {
            out.push((span, n));
        }
    });
    out
}

/// Call `f` with every non-negative integer of the JSON text `body` that is neither inside a
/// string nor the value of a `msg_id` or `in_reply_to` key. Text that is not JSON is scanned
/// the same way (it is a node's line; nothing here fails).
fn integers(body: &str, mut f: impl FnMut(u64)) {
    integer_spans(body, |n, _| f(n));
}

/// [`integers`], with the byte range of each integer's digits.
fn integer_spans(body: &str, mut f: impl FnMut(u64, std::ops::Range<usize>)) {
    let bytes = body.as_bytes();
    let mut i = 0;
    // The last string seen and whether a ':' followed it: the key of the value that comes.
    let mut last_string: (usize, usize) = (0, 0);
    let mut key: Option<(usize, usize)> = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                last_string = (start, i.min(bytes.len()));
                key = None;
                i += 1;
            }
            b':' => {
                key = Some(last_string);
                i += 1;
            }
            b'0'..=b'9' => {
                let start = i;
                let mut n: u64 = 0;
                let mut overflow = false;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    match n
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(bytes[i] - b'0')))
                    {
                        Some(next) => n = next,
                        None => overflow = true,
                    }
                    i += 1;
                }
                // A fraction or exponent makes it no integer; a sign before it, a negative one.
                let fraction = i < bytes.len() && matches!(bytes[i], b'.' | b'e' | b'E');
                let negative = start > 0 && bytes[start - 1] == b'-';
                let envelope =
                    key.is_some_and(|(s, e)| matches!(&bytes[s..e], b"msg_id" | b"in_reply_to"));
                if !overflow && !fraction && !negative && !envelope {
                    f(n, start..i);
                }
                key = None;
                while i < bytes.len() && matches!(bytes[i], b'.' | b'e' | b'E' | b'+' | b'-') {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            b',' | b'[' | b'{' | b'}' | b']' => {
                key = None;
                i += 1;
            }
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(body: &str) -> Vec<u64> {
        let mut out = Vec::new();
        integers(body, |n| out.push(n));
        out
    }

    #[test]
    fn integers_outside_strings_and_the_envelope_ids() {
        assert_eq!(
            all(
                r#"{"type":"batch","msg_id":1000001,"items":[[3,{"value":1000002}]],"x":-1000003}"#
            ),
            vec![3, 1000002]
        );
        assert_eq!(
            all(r#"{"s":"1000001 \" 1000002","in_reply_to":1000004,"f":1000005.5,"e":1e6}"#),
            Vec::<u64>::new()
        );
        assert_eq!(all(r#"{"messages":[1000001, 1000002 ,1000003]}"#).len(), 3);
        assert_eq!(all("not json 1000007"), vec![1000007]);
        assert_eq!(all(r#"{"big":99999999999999999999999,"ok":7}"#), vec![7]);
        assert_eq!(all(r#"{"cut":"unterminated 1000001"#), Vec::<u64>::new());
    }

    #[test]
    fn broadcast_values_come_with_the_span_of_their_digits() {
        let body = r#"{"type":"echo","msg_id":1000001,"value":1000002,"seq":3}"#;
        let found = broadcast_values(body);
        assert_eq!(found.len(), 1);
        let (span, n) = found[0].clone();
        assert_eq!((&body[span], n), ("1000002", 1_000_002));
    }

    #[test]
    fn each_value_counts_once_per_message_and_only_broadcast_values_count() {
        let mut copies = Copies::default();
        copies.record(r#"{"type":"push","items":[{"value":1000000},{"value":1000000}]}"#);
        copies.record(r#"{"type":"push","items":[1000000,1000001],"session":4}"#);
        copies.record(r#"{"type":"gossip","message":1000001,"at":1767225600000}"#);
        assert_eq!(copies.of(&[1_000_000]), Some(2));
        assert_eq!(copies.of(&[1_000_000, 1_000_001]), Some(4));
        assert_eq!(copies.of(&[1_000_002]), Some(0), "never sent");
        assert_eq!(copies.of(&[0, 1_000_000]), None, "0 is not told apart");
        assert_eq!(copies.of(&[]), Some(0));
    }
}
