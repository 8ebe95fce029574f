//! set-full: did every broadcast reach the reads, and how long did it take? (Reliable
//! broadcast, the course's lecture on broadcast protocols: every message delivered by one
//! node is eventually delivered by every node. Likewise a grow-only set, the course's
//! state-based CRDT: every element added at one node is eventually in every node's set.)
//!
//! These are the definitions of Jepsen's `jepsen.checker/set-full`, which Maelstrom's g-set
//! workload uses as it is and its broadcast workload with `broadcast` in place of `add` (the
//! history's [`SetOps`](crate::broadcast::SetOps) names the op). For each element (broadcast
//! value), from its last broadcast invocation on:
//!
//! - Only ok reads count, and a read counts for an element only if it completed after the
//!   element's broadcast was invoked. A read is placed in time by its *invocation* (Jepsen
//!   compares the `index` of the read's invocation).
//! - *known*: the first of the broadcast's ok completion and the completion of the first read
//!   that contains the element.
//! - *last present* / *last absent*: the read with the latest invocation that contains / does
//!   not contain the element.
//! - *stable*: some read contains it, and the last read lacking it (if any) was invoked
//!   before the last read containing it: `last_absent.index < last_present.index`, a missing
//!   last absent counting as -1.
//! - *lost*: it is known, some read lacks it, `last_present.index < last_absent.index`, and
//!   `known.index < last_absent.index` (a read concurrent with the broadcast may miss it).
//! - *never read*: neither stable nor lost.
//! - *stable latency*: `max(0, stable_time - known.time)` in milliseconds (truncated), where
//!   `stable_time` is `last_absent.time + 1`, or 0 when no read lacked it; *lost latency*
//!   likewise from `last_present.time + 1`.
//! - *stale*: stable elements with a positive stable latency; *worst stale*: the 8 with the
//!   highest.
//!
//! Stable latency is not what a user waits: it starts when the element is *known*, so a node
//! that acknowledges a broadcast only once every node holds it shows 0 however long the
//! client waited. Two latencies measured from the invocation say what the user feels:
//!
//! - *broadcast latency*: from a broadcast's invocation to its `broadcast_ok`, in milliseconds
//!   (truncated), one per broadcast that ended ok (failed and indefinite ones have none). For
//!   g-set, the same from an `add` to its `add_ok`: *add latency*.
//! - *visibility latency*: from an element's (last) broadcast invocation to its stable time,
//!   in milliseconds (truncated): `max(0, stable_time - invoke.time)`, with `stable_time` as
//!   above. It is set-full's stable time measured from the invocation instead of from *known*:
//!   after that moment every read had the element, so it is the time until the value was
//!   visible in every read, as close as the reads can tell (a read that lacked it began just
//!   before; the next read at that node may have come much later). It is 0 when no read
//!   invoked after the broadcast lacked it. Only stable elements have one: a lost or never-read
//!   element never became visible everywhere, so it has none and is not in the quantiles
//!   (`lost_count` and `never_read_count` count those); there are `stable_count` of them.
//! - Quantiles of latencies at 0, 0.5, 0.95, 0.99, 1: the sorted value at index
//!   `min(n - 1, floor(n * q))`; omitted when there are none.
//! - *valid*: false if any element is lost; else unknown if none is stable; else (with
//!   `linearizable`) false if any is stale; else true.
//!
//! Beyond Jepsen: duplicates are really counted (Jepsen's scan for multiplicities below 1
//! never finds one): an element that a single read returns more than once is duplicated,
//! with its highest multiplicity, and makes the result invalid. A read that returns a value
//! no broadcast had been invoked with before the read completed is *unexpected*, also
//! invalid (Jepsen ignores such values).
//!
//! The computation is one pass over the reads, linear in their total length, keeping a few
//! numbers per element (its latest read, the latest gap among the reads invoked after its
//! broadcast), instead of Jepsen's update of every element at every read.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::broadcast::{BroadcastHistory, ReadRef, SetOps};
use crate::validity::Validity;

const WORST_STALE: usize = 8;
const MAX_WITNESSES: usize = 16;

/// Latency quantiles in milliseconds, keyed `"0"`, `"0.5"`, `"0.95"`, `"0.99"`, `"1"`.
pub type Quantiles = BTreeMap<&'static str, u64>;

/// The quantiles of `values` (milliseconds), or `None` when empty.
pub fn quantiles(values: &mut [u64]) -> Option<Quantiles> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let at = |q: f64| values[((n as f64 * q).floor() as usize).min(n - 1)];
    Some(
        [
            ("0", 0.0),
            ("0.5", 0.5),
            ("0.95", 0.95),
            ("0.99", 0.99),
            ("1", 1.0),
        ]
        .into_iter()
        .map(|(k, q)| (k, at(q)))
        .collect(),
    )
}

/// A stale element: it took a while to appear in every read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleElement {
    pub element: Value,
    pub stable_latency: u64,
    /// When it was known to exist: `index` of the event.
    pub known_index: u64,
    /// The last read invoked after that which still lacked it.
    pub last_absent: Option<ReadRef>,
}

/// Why an element is lost: a read invoked after the last read that had it lacks it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostElement {
    pub element: Value,
    pub known_index: u64,
    pub last_present: Option<ReadRef>,
    pub last_absent: ReadRef,
}

/// An element a single read returned more than once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Duplicated {
    pub element: Value,
    pub count: usize,
    pub read: ReadRef,
}

/// A value a read returned that no broadcast had been invoked with before it completed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unexpected {
    pub element: Value,
    pub read: ReadRef,
}

/// The result of set-full, with Maelstrom's keys in snake_case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetFullResult {
    pub valid: Validity,
    pub attempt_count: usize,
    pub stable_count: usize,
    pub lost_count: usize,
    pub lost: Vec<Value>,
    pub never_read_count: usize,
    pub never_read: Vec<Value>,
    pub stale_count: usize,
    pub stale: Vec<Value>,
    pub worst_stale: Vec<StaleElement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stable_latencies: Option<Quantiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_latencies: Option<Quantiles>,
    /// Invocation to `broadcast_ok`, over the broadcasts that ended ok (broadcast runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast_latencies: Option<Quantiles>,
    /// Invocation to `add_ok`, over the adds that ended ok (runs whose op is `add`: g-set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_latencies: Option<Quantiles>,
    /// Invocation to visible in every read, over the stable elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility_latencies: Option<Quantiles>,
    pub duplicated_count: usize,
    pub duplicated: Vec<Duplicated>,
    pub unexpected_count: usize,
    pub unexpected: Vec<Unexpected>,
    /// Witnesses for the first lost elements.
    pub lost_witnesses: Vec<LostElement>,
    /// What the workload calls its ops (for the text).
    #[serde(skip)]
    pub ops: SetOps,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Stable,
    Lost,
    NeverRead,
}

/// Order of elements as Jepsen sorts them: numbers by value, then other values by text.
fn element_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.to_string().cmp(&b.to_string()),
    }
}

fn ms(ns: u64) -> u64 {
    ns / 1_000_000
}

/// Run set-full on a prepared broadcast history. With `linearizable`, stale elements make
/// the result invalid.
pub fn set_full(h: &BroadcastHistory<'_>, linearizable: bool) -> SetFullResult {
    let reads = &h.reads;
    let r_count = reads.len();
    let m_count = h.messages.len();
    let invoke_pos: Vec<usize> = reads.iter().map(|r| r.invoke_pos).collect();
    const NONE: u32 = u32::MAX;
    // Per element: where it was created (its last broadcast invocation), and the first read
    // (by invocation order, which is the order of `h.reads`) invoked after that.
    let created: Vec<usize> = h
        .messages
        .iter()
        .map(|m| m.last_invoke.unwrap_or(usize::MAX))
        .collect();
    let boundary: Vec<u32> = created
        .iter()
        .map(|&c| {
            if c == usize::MAX {
                NONE
            } else {
                invoke_pos.partition_point(|&p| p < c) as u32
            }
        })
        .collect();

    // Reads in flight when each element was created (invoked before, completed after): at
    // most one per client process. Flat lists, by a sweep in history order.
    let mut order: Vec<(usize, u32)> = (0..m_count as u32)
        .filter(|&m| created[m as usize] != usize::MAX)
        .map(|m| (created[m as usize], m))
        .collect();
    order.sort_unstable();
    let mut by_completion: Vec<u32> = (0..r_count as u32).collect();
    by_completion.sort_unstable_by_key(|&r| reads[r as usize].complete_pos);
    let mut inflight_flat: Vec<u32> = Vec::new();
    let mut inflight_span = vec![(0u32, 0u32); m_count];
    {
        let (mut next_invoke, mut next_complete) = (0usize, 0usize);
        let mut inflight: Vec<u32> = Vec::new();
        for &(pos, m) in &order {
            while next_invoke < r_count && invoke_pos[next_invoke] < pos {
                inflight.push(next_invoke as u32);
                next_invoke += 1;
            }
            while next_complete < r_count
                && reads[by_completion[next_complete] as usize].complete_pos < pos
            {
                let done = by_completion[next_complete];
                inflight.retain(|&r| r != done);
                next_complete += 1;
            }
            let start = inflight_flat.len() as u32;
            inflight_flat.extend_from_slice(&inflight);
            inflight_span[m as usize] = (start, inflight_flat.len() as u32);
        }
    }

    // One pass over the reads, in invocation order, keeping per element: the first
    // completion of an eligible read containing it, the latest such read, the latest gap in
    // the reads invoked after its creation, which in-flight reads contained it, and
    // multiplicities within one read.
    let mut stamp = vec![NONE; m_count];
    let mut count = vec![0u32; m_count];
    let mut first_seen = vec![usize::MAX; m_count];
    let mut last_present = vec![NONE; m_count];
    let mut prev_after = vec![NONE; m_count];
    let mut gap = vec![NONE; m_count];
    let mut inflight_seen: rustc_hash::FxHashSet<(u32, u32)> = rustc_hash::FxHashSet::default();
    let mut dup_max: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    let mut unexpected_first: BTreeMap<u32, usize> = BTreeMap::new();
    for (rank, read) in reads.iter().enumerate() {
        let r = rank as u32;
        for &m in &read.messages {
            let mu = m as usize;
            if stamp[mu] == r {
                count[mu] += 1;
                let c = count[mu] as usize;
                let e = dup_max.entry(m).or_insert((c, rank));
                if c > e.0 {
                    *e = (c, rank);
                }
                continue;
            }
            stamp[mu] = r;
            count[mu] = 1;
            if h.messages[mu]
                .first_invoke
                .is_none_or(|p| p > read.complete_pos)
            {
                unexpected_first.entry(m).or_insert(rank);
            }
            if created[mu] == usize::MAX || read.complete_pos < created[mu] {
                continue; // not an element, or not one yet when this read completed
            }
            first_seen[mu] = first_seen[mu].min(read.complete_pos);
            last_present[mu] = r;
            if r >= boundary[mu] {
                if r > boundary[mu] && prev_after[mu] != r - 1 {
                    gap[mu] = r - 1;
                }
                prev_after[mu] = r;
            } else {
                inflight_seen.insert((m, r));
            }
        }
    }

    struct Outcome {
        fate: Fate,
        element: u32,
        stable_latency: Option<u64>,
        lost_latency: Option<u64>,
        visibility_latency: Option<u64>,
        known: Option<usize>,
        last_present: Option<u32>,
        last_absent: Option<u32>,
    }
    let mut outcomes: Vec<Outcome> = Vec::new();
    for (m, msg) in h.messages.iter().enumerate() {
        if created[m] == usize::MAX {
            continue;
        }
        let some = |x: u32| (x != NONE).then_some(x);
        let known = match (msg.ok_after_last_invoke, first_seen[m]) {
            (Some(ok), seen) => Some(ok.min(seen)),
            (None, usize::MAX) => None,
            (None, seen) => Some(seen),
        };
        let last_present = some(last_present[m]);
        // The latest eligible read lacking it: the last read if it was invoked after the
        // creation and lacks it, else the last gap among those; else an in-flight one.
        let b = boundary[m];
        let mut last_absent = if (b as usize) < r_count {
            let last = r_count as u32 - 1;
            if prev_after[m] != last {
                Some(last)
            } else {
                some(gap[m])
            }
        } else {
            None
        };
        if last_absent.is_none() {
            let (start, end) = inflight_span[m];
            last_absent = inflight_flat[start as usize..end as usize]
                .iter()
                .copied()
                .filter(|&r| !inflight_seen.contains(&(m as u32, r)))
                .max();
        }
        let rank = |r: Option<u32>| r.map_or(-1, |r| r as i64);
        let stable = last_present.is_some() && rank(last_absent) < rank(last_present);
        let lost = match (known, last_absent) {
            (Some(k), Some(a)) => rank(last_present) < a as i64 && k < invoke_pos[a as usize],
            _ => false,
        };
        let known_time = known.map_or(0, |k| h.time_at(k));
        let stable_time = last_absent.map_or(0, |a| h.time_at(invoke_pos[a as usize]) + 1);
        let stable_latency = stable.then(|| ms(stable_time.saturating_sub(known_time)));
        let visibility_latency =
            stable.then(|| ms(stable_time.saturating_sub(h.time_at(created[m]))));
        let lost_latency = lost.then(|| {
            let t = last_present.map_or(0, |p| h.time_at(invoke_pos[p as usize]) + 1);
            ms(t.saturating_sub(known_time))
        });
        outcomes.push(Outcome {
            fate: if stable {
                Fate::Stable
            } else if lost {
                Fate::Lost
            } else {
                Fate::NeverRead
            },
            element: m as u32,
            stable_latency,
            lost_latency,
            visibility_latency,
            known,
            last_present,
            last_absent,
        });
    }
    outcomes.sort_by(|a, b| {
        element_order(&h.values[a.element as usize], &h.values[b.element as usize])
    });

    let value = |m: u32| h.values[m as usize].clone();
    let read_ref = |r: u32| h.read_ref(&reads[r as usize]);
    let of = |fate: Fate| -> Vec<Value> {
        outcomes
            .iter()
            .filter(|o| o.fate == fate)
            .map(|o| value(o.element))
            .collect()
    };
    let lost = of(Fate::Lost);
    let never_read = of(Fate::NeverRead);
    let stable_count = outcomes.iter().filter(|o| o.fate == Fate::Stable).count();
    let mut stale: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.stable_latency.is_some_and(|l| l > 0))
        .collect();
    let stale_values: Vec<Value> = stale.iter().map(|o| value(o.element)).collect();
    stale.sort_by_key(|o| o.stable_latency);
    let worst_stale = stale
        .iter()
        .rev()
        .take(WORST_STALE)
        .map(|o| StaleElement {
            element: value(o.element),
            stable_latency: o.stable_latency.unwrap_or(0),
            known_index: o.known.map_or(0, |k| h.index_at(k)),
            last_absent: o.last_absent.map(read_ref),
        })
        .collect();
    let lost_witnesses = outcomes
        .iter()
        .filter(|o| o.fate == Fate::Lost)
        .take(MAX_WITNESSES)
        .filter_map(|o| {
            Some(LostElement {
                element: value(o.element),
                known_index: h.index_at(o.known?),
                last_present: o.last_present.map(read_ref),
                last_absent: read_ref(o.last_absent?),
            })
        })
        .collect();
    let mut stable_latencies: Vec<u64> = outcomes.iter().filter_map(|o| o.stable_latency).collect();
    let mut lost_latencies: Vec<u64> = outcomes.iter().filter_map(|o| o.lost_latency).collect();
    let mut visibility_latencies: Vec<u64> = outcomes
        .iter()
        .filter_map(|o| o.visibility_latency)
        .collect();
    let mut acknowledge_latencies: Vec<u64> = h
        .acknowledged
        .iter()
        .map(|&(invoke, ok)| ms(h.time_at(ok).saturating_sub(h.time_at(invoke))))
        .collect();
    let mut duplicated: Vec<Duplicated> = dup_max
        .iter()
        .map(|(&m, &(count, rank))| Duplicated {
            element: value(m),
            count,
            read: read_ref(rank as u32),
        })
        .collect();
    duplicated.sort_by(|a, b| element_order(&a.element, &b.element));
    let mut unexpected: Vec<Unexpected> = unexpected_first
        .iter()
        .map(|(&m, &rank)| Unexpected {
            element: value(m),
            read: read_ref(rank as u32),
        })
        .collect();
    unexpected.sort_by(|a, b| element_order(&a.element, &b.element));

    let mut valid = if !lost.is_empty() {
        Validity::Invalid
    } else if stable_count == 0 {
        Validity::Unknown
    } else if linearizable && !stale_values.is_empty() {
        Validity::Invalid
    } else {
        Validity::Valid
    };
    if !duplicated.is_empty() || !unexpected.is_empty() {
        valid = Validity::Invalid;
    }
    let acknowledge_latencies = quantiles(&mut acknowledge_latencies);
    let (broadcast_latencies, add_latencies) = if h.ops.add == "broadcast" {
        (acknowledge_latencies, None)
    } else {
        (None, acknowledge_latencies)
    };
    SetFullResult {
        valid,
        attempt_count: outcomes.len(),
        stable_count,
        lost_count: lost.len(),
        lost,
        never_read_count: never_read.len(),
        never_read,
        stale_count: stale_values.len(),
        stale: stale_values,
        worst_stale,
        stable_latencies: quantiles(&mut stable_latencies),
        lost_latencies: quantiles(&mut lost_latencies),
        broadcast_latencies,
        add_latencies,
        visibility_latencies: quantiles(&mut visibility_latencies),
        duplicated_count: duplicated.len(),
        duplicated,
        unexpected_count: unexpected.len(),
        unexpected,
        lost_witnesses,
        ops: h.ops,
    }
}

/// Quantiles as `p50 12, p95 40, max 85` (with `min` and `p99`).
fn quantiles_text(q: &Quantiles) -> String {
    let name = |k: &str| match k {
        "0" => "min".to_owned(),
        "0.5" => "p50".to_owned(),
        "1" => "max".to_owned(),
        other => format!("p{}", other.trim_start_matches("0.")),
    };
    let mut items: Vec<(&&str, &u64)> = q.iter().collect();
    items.sort_by(|a, b| {
        let key = |k: &str| k.parse::<f64>().unwrap_or(f64::MAX);
        key(a.0).total_cmp(&key(b.0))
    });
    items
        .into_iter()
        .map(|(k, v)| format!("{} {v}", name(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(values: &[Value], limit: usize) -> String {
    let shown: Vec<String> = values.iter().take(limit).map(Value::to_string).collect();
    let more = if values.len() > limit {
        format!(", ... ({} in all)", values.len())
    } else {
        String::new()
    };
    format!("[{}{more}]", shown.join(", "))
}

/// The counts, the latencies and the values lost, never read, duplicated or unexpected. The
/// witnesses are in the result's fields, and [`crate::story`] tells them as sentences.
impl fmt::Display for SetFullResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "set-full: {}: {} {}s, {} stable, {} lost, {} never read, {} stale, {} duplicated, {} unexpected",
            self.valid,
            self.attempt_count,
            self.ops.add,
            self.stable_count,
            self.lost_count,
            self.never_read_count,
            self.stale_count,
            self.duplicated_count,
            self.unexpected_count
        )?;
        let acknowledged = format!("{} latency (invoke to {})", self.ops.add, self.ops.add_ok);
        for (q, name) in [
            (
                self.broadcast_latencies
                    .as_ref()
                    .or(self.add_latencies.as_ref()),
                acknowledged.as_str(),
            ),
            (
                self.visibility_latencies.as_ref(),
                "visibility latency (invoke to visible in every read)",
            ),
            (
                self.stable_latencies.as_ref(),
                "stable latency (known to visible in every read)",
            ),
        ] {
            if let Some(q) = q {
                writeln!(f, "  {name}, ms: {}", quantiles_text(q))?;
            }
        }
        if !self.lost.is_empty() {
            writeln!(f, "  lost: {}", list(&self.lost, 20))?;
        }
        if !self.never_read.is_empty() {
            writeln!(f, "  never read: {}", list(&self.never_read, 20))?;
        }
        for (name, values) in [
            (
                "duplicated",
                self.duplicated
                    .iter()
                    .map(|d| d.element.clone())
                    .collect::<Vec<_>>(),
            ),
            (
                "unexpected",
                self.unexpected.iter().map(|u| u.element.clone()).collect(),
            ),
        ] {
            if !values.is_empty() {
                writeln!(f, "  {name}: {}", list(&values, 20))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::history::parse_history;

    fn check(text: &str) -> SetFullResult {
        let events = parse_history("h", text.as_bytes()).unwrap();
        set_full(&BroadcastHistory::new(&events).unwrap(), false)
    }

    fn q(pairs: [u64; 5]) -> Option<Quantiles> {
        Some(
            ["0", "0.5", "0.95", "0.99", "1"]
                .into_iter()
                .zip(pairs)
                .collect(),
        )
    }

    /// A node that acknowledges 1 only after 50 ms, once the read at n1 has it; a node that
    /// acknowledges 2 at once but lets n1 miss it for 10 ms; and 3, never acknowledged nor read.
    const LATE_AND_EARLY: &str = r#"{"index":0,"time":0,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1}
{"index":1,"time":40000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":2,"time":42000000,"process":1,"node":"n1","type":"ok","f":"read","value":[]}
{"index":3,"time":50000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":1}
{"index":4,"time":60000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":5,"time":62000000,"process":1,"node":"n1","type":"ok","f":"read","value":[1]}
{"index":6,"time":100000000,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":2}
{"index":7,"time":101000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":2}
{"index":8,"time":110000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":9,"time":111000000,"process":1,"node":"n1","type":"ok","f":"read","value":[1]}
{"index":10,"time":300000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":11,"time":301000000,"process":1,"node":"n1","type":"ok","f":"read","value":[1,2]}
{"index":12,"time":400000000,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":3}
{"index":13,"time":405000000,"process":0,"node":"n0","type":"info","f":"broadcast","value":3}
"#;

    #[test]
    fn broadcast_latency_runs_from_invoke_to_broadcast_ok_over_ok_broadcasts_only() {
        let r = check(LATE_AND_EARLY);
        // 1 waited 50 ms for its broadcast_ok, 2 waited 1 ms; 3 ended info: no latency.
        assert_eq!(r.broadcast_latencies, q([1, 50, 50, 50, 50]));
    }

    #[test]
    fn visibility_latency_runs_from_invoke_to_the_last_read_that_missed_the_value() {
        let r = check(LATE_AND_EARLY);
        // 1: the read at n1 invoked at 40 ms lacked it: visible everywhere 40 ms after its
        // invocation, yet its stable latency is 0, for it was acknowledged after that read.
        // 2: acknowledged at 101 ms, missed by the read invoked at 110 ms: stable latency
        // 9 ms, visibility latency 10 ms. 3 was never read: it has neither.
        assert_eq!(r.visibility_latencies, q([10, 40, 40, 40, 40]));
        assert_eq!(r.stable_latencies, q([0, 9, 9, 9, 9]));
        assert_eq!((r.stable_count, &r.never_read), (2, &vec![json!(3)]));
        let text = r.to_string();
        assert!(
            text.contains("broadcast latency (invoke to broadcast_ok), ms: min 1, p50 50, p95 50, p99 50, max 50"),
            "{text}"
        );
        assert!(text.contains("visibility latency (invoke to visible in every read), ms: min 10"));
        assert!(text.contains("stable latency (known to visible in every read), ms: min 0, p50 9"));
    }

    #[test]
    fn a_value_no_read_ever_missed_is_visible_at_once_and_a_lost_one_has_no_visibility() {
        let r = check(
            r#"{"index":0,"time":0,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1}
{"index":1,"time":5000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":1}
{"index":2,"time":6000000,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":2}
{"index":3,"time":7000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":2}
{"index":4,"time":20000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":5,"time":21000000,"process":1,"node":"n1","type":"ok","f":"read","value":[1,2]}
{"index":6,"time":30000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":7,"time":31000000,"process":1,"node":"n1","type":"ok","f":"read","value":[1]}
"#,
        );
        // 1: every read after its invocation had it. 2: lost (the last read lacks it).
        assert_eq!(r.visibility_latencies, q([0, 0, 0, 0, 0]));
        assert_eq!(r.lost, vec![json!(2)]);
        assert_eq!(r.broadcast_latencies, q([1, 5, 5, 5, 5]));
    }
}
