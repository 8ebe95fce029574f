//! What went wrong in a broadcast run (or a g-set run: the same story of values added and lost,
//! in the words of its [`SetOps`](crate::broadcast::SetOps)), told as a story from its history
//! and message journal:
//! for each lost value, when it was acknowledged, which nodes held it, which fault took them
//! and that no read after recovery had it; for each value that was late to appear everywhere,
//! which node lagged and behind which partition; the ordering and duplicate violations as
//! sentences. Reliable broadcast (the course's lecture on broadcast protocols) promises that a
//! value delivered by one node is delivered by all; the story says where that broke.
//!
//! The *holders* of a value are the node its client sent it to (its origin), the nodes to which
//! a delivered message carried it (see [`crate::carriers`] for how a value is told from the
//! counters in a message body), and the nodes whose reads returned it. A fault *took* a holder
//! when that node was killed or wiped after it last received the value (a node that keeps its
//! state only in memory loses it then; a durable one should not). A `pause` of a holder is
//! named only when no kill or wipe hit it.

use std::collections::BTreeMap;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::Value;

use crate::broadcast::{BroadcastHistory, ReadRef};
use crate::carriers::{Carried, CarrierScan, Carriers, scan_journal_file};
use crate::faults::{NemesisEvent, PartitionSpan, nemesis_events, node_order, partitions, seconds};
use crate::ordering::OrderingResult;
use crate::set_full::SetFullResult;
use crate::validity::Validity;

/// At most this many lost values, stale values and violations are told one by one.
pub const TOLD: usize = 5;

/// At most this many lost values are traced through the journal.
const TRACED: usize = 1000;

/// How far the message diagram's window reaches before the broadcast and after the fault,
/// as a share of the span between them, within [`MARGIN_MIN`, `MARGIN_MAX`].
const MARGIN_SHARE: f64 = 0.1;
const MARGIN_MIN: u64 = 20_000_000;
const MARGIN_MAX: u64 = 500_000_000;

/// The part of the run that shows the first failure, for the message diagram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    /// Nanoseconds since the start: from a little before the broadcast of the value to a
    /// little after the fault that took it (or the read that showed the failure).
    pub from_ns: u64,
    pub to_ns: u64,
    /// The values the window is about.
    pub values: Vec<Value>,
    /// The journal ids of the messages that carried them.
    pub message_ids: Vec<u64>,
    /// What the window shows, in words.
    pub caption: String,
}

/// A broadcast run's story.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Story {
    /// One line for a table row, when the run failed.
    pub headline: Option<String>,
    /// What went wrong, one sentence a line, a handful of each kind then "and N more".
    pub failures: Vec<String>,
    /// The values slowest to appear everywhere (stable, but late), one sentence each.
    pub slow: Vec<String>,
    pub window: Option<Window>,
    /// Where values travel in the message bodies (see [`crate::carriers`]), when the journal
    /// was read.
    pub value_slots: Vec<String>,
    /// Why the journal could not be read, if it could not (the holders then come from the
    /// history alone).
    pub journal_error: Option<String>,
}

/// What the history and journal say of one lost value.
#[derive(Debug, Clone)]
struct Lost {
    value: Value,
    invoked: u64,
    known: u64,
    acknowledged: bool,
    origin: Option<String>,
    /// Holders and when each last got the value.
    holders: Vec<(String, u64)>,
    /// The crash events that took holders (indexes into the nemesis events), with the
    /// holders each took.
    takers: Vec<(usize, Vec<String>)>,
    /// Holders no kill or wipe took after they got the value and whose final read lacks it
    /// anyway, with the pause that hit each, if one did.
    missing: Vec<(String, Option<usize>)>,
    /// The partitions in force between its acknowledgement and the last fault that took it.
    partitions: Vec<usize>,
    /// The nodes whose final reads lack it, and the number of final reads.
    finals: (Vec<String>, usize),
    /// The last read, when there are no final reads.
    last_read: Option<ReadRef>,
    /// Per reason, the nodes that never held it to which a message carrying it was dropped.
    dropped: BTreeMap<String, Vec<String>>,
    carried: Vec<Carried>,
}

/// Tell the story of a broadcast run from its prepared history, its set-full result, its
/// ordering result (if the order was checked) and its `messages.jsonl` (if there is one).
/// Never fails: a journal that cannot be read leaves the holders to the history's reads and
/// origins, and says so.
pub fn broadcast_story(
    h: &BroadcastHistory<'_>,
    set_full: &SetFullResult,
    ordering: Option<&OrderingResult>,
    journal: Option<&Path>,
) -> Story {
    let index_of: FxHashMap<String, u32> = h
        .values
        .iter()
        .enumerate()
        .map(|(m, v)| (v.to_string(), m as u32))
        .collect();
    let lost_ids: Vec<u32> = set_full
        .lost
        .iter()
        .filter_map(|v| index_of.get(&v.to_string()).copied())
        .collect();
    let violation = ordering.and_then(|o| o.violations.first());
    let mut watch: Vec<u64> = lost_ids
        .iter()
        .take(TRACED)
        .filter_map(|&m| h.values[m as usize].as_u64())
        .collect();
    if let Some(v) = violation {
        watch.extend([v.earlier.as_u64(), v.later.as_u64()].into_iter().flatten());
    }
    let mut story = Story::default();
    let carriers = match journal {
        Some(path) if !watch.is_empty() => {
            let mut scan = CarrierScan::new(h, watch);
            match scan_journal_file(path, &mut scan) {
                Ok(()) => Some(scan.finish()),
                Err(e) => {
                    story.journal_error = Some(e.to_string());
                    None
                }
            }
        }
        _ => None,
    };
    let empty = Carriers::default();
    let carriers_ref = carriers.as_ref().unwrap_or(&empty);
    story.value_slots = carriers_ref.value_slots.clone();
    let faults = nemesis_events(h.events);
    let mut node_ids = h.nodes.clone();
    for e in &faults {
        node_ids.extend(e.nodes.iter().map(|n| (*n).to_owned()));
    }
    node_ids.sort_by(|a, b| node_order(a).cmp(&node_order(b)));
    node_ids.dedup();
    let spans = partitions(h.events, &node_ids);

    let traced: Vec<u32> = lost_ids.iter().take(TRACED).copied().collect();
    let reads = read_facts(h, &traced);
    let lost: Vec<Lost> = traced
        .iter()
        .zip(&reads)
        .map(|(&m, facts)| trace_lost(h, m, facts, carriers_ref, &faults, &spans))
        .collect();
    for l in lost.iter().take(TOLD) {
        story.failures.push(lost_sentence(l, &faults, &spans));
    }
    if set_full.lost.len() > TOLD {
        story.failures.push(format!(
            "and {} more lost values",
            set_full.lost.len() - TOLD
        ));
    }
    if let Some(o) = ordering {
        for v in o.violations.iter().take(TOLD) {
            story.failures.push(v.sentence());
        }
        if o.violation_count > TOLD.min(o.violations.len()) {
            story.failures.push(format!(
                "and {} more ordering violations",
                o.violation_count - TOLD.min(o.violations.len())
            ));
        }
    }
    for d in set_full.duplicated.iter().take(TOLD) {
        story.failures.push(format!(
            "the {} returned {} {} times.",
            d.read, d.element, d.count
        ));
    }
    for u in set_full.unexpected.iter().take(TOLD) {
        story.failures.push(format!(
            "the {} returned {}, which no client had {} before it completed.",
            u.read, u.element, h.ops.past
        ));
    }
    for s in set_full.worst_stale.iter().take(TOLD) {
        story.slow.push(stale_sentence(h, s, &faults, &spans));
    }
    story.headline = headline(h, set_full, ordering, &lost, &faults, &spans);
    story.window = if let Some(first) = lost.iter().min_by_key(|l| l.invoked) {
        Some(lost_window(first, &faults, h.ops.add))
    } else {
        violation.map(|v| ordering_window(h, &index_of, v, carriers_ref))
    };
    if let Some(e) = &story.journal_error {
        story.failures.push(format!(
            "(messages.jsonl could not be read, so the holders come from the history alone: {e})"
        ));
    }
    story
}

/// What the reads say of one value.
#[derive(Debug, Clone, Default)]
struct ReadFacts {
    /// The first completion of a read that had it, after its (last) invocation.
    first_seen: Option<usize>,
    /// Per node: the completion time of its last read that had it.
    read_by: BTreeMap<u32, u64>,
    /// The nodes whose final reads had it.
    final_by: Vec<u32>,
}

/// The reads' facts of each of `values`, in one pass over the reads.
fn read_facts(h: &BroadcastHistory<'_>, values: &[u32]) -> Vec<ReadFacts> {
    let slot: FxHashMap<u32, usize> = values.iter().enumerate().map(|(i, &m)| (m, i)).collect();
    let mut facts = vec![ReadFacts::default(); values.len()];
    for r in &h.reads {
        for m in &r.messages {
            let Some(&i) = slot.get(m) else {
                continue;
            };
            let f = &mut facts[i];
            let created = h.messages[*m as usize].last_invoke.unwrap_or(0);
            if r.complete_pos >= created {
                f.first_seen = Some(
                    f.first_seen
                        .map_or(r.complete_pos, |s| s.min(r.complete_pos)),
                );
            }
            if let Some(n) = r.node {
                let t = f.read_by.entry(n).or_insert(0);
                *t = (*t).max(h.time_at(r.complete_pos));
                if r.is_final {
                    f.final_by.push(n);
                }
            }
        }
    }
    facts
}

/// Follow lost value `m` through the history and its carriers.
fn trace_lost(
    h: &BroadcastHistory<'_>,
    m: u32,
    reads: &ReadFacts,
    carriers: &Carriers,
    faults: &[NemesisEvent<'_>],
    spans: &[PartitionSpan],
) -> Lost {
    let msg = &h.messages[m as usize];
    let invoke_pos = msg.last_invoke.or(msg.first_invoke).unwrap_or(0);
    let invoked = h.time_at(invoke_pos);
    let (known_pos, acknowledged) = match (msg.ok_after_last_invoke, reads.first_seen) {
        (Some(ok), Some(seen)) if seen < ok => (seen, false),
        (Some(ok), _) => (ok, true),
        (None, Some(seen)) => (seen, false),
        (None, None) => (invoke_pos, false),
    };
    let known = h.time_at(known_pos);
    let origin = msg.origin.map(|o| h.nodes[o as usize].clone());
    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    let mut note = |node: &str, t: u64| {
        let at = got.entry(node.to_owned()).or_insert(t);
        *at = (*at).max(t);
    };
    if let Some(o) = &origin {
        note(o, invoked);
    }
    let carried = h.values[m as usize]
        .as_u64()
        .and_then(|n| carriers.by_value.get(&n))
        .cloned()
        .unwrap_or_default();
    for c in carried.iter().filter(|c| !c.client) {
        for fate in &c.fates {
            if let crate::carriers::Fate::Delivered { time } = fate {
                note(&c.dest, *time);
            }
        }
    }
    for (&n, &t) in &reads.read_by {
        note(&h.nodes[n as usize], t);
    }
    let mut dropped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in carried
        .iter()
        .filter(|c| !c.client && !got.contains_key(&c.dest))
    {
        for fate in &c.fates {
            if let crate::carriers::Fate::Dropped { reason, .. } = fate {
                let list = dropped.entry(reason.clone()).or_default();
                if !list.contains(&c.dest) {
                    list.push(c.dest.clone());
                }
            }
        }
    }
    for list in dropped.values_mut() {
        list.sort_by(|a, b| node_order(a).cmp(&node_order(b)));
    }
    let mut holders: Vec<(String, u64)> = got.into_iter().collect();
    holders.sort_by(|a, b| node_order(&a.0).cmp(&node_order(&b.0)));
    let finals: Vec<_> = h.reads.iter().filter(|r| r.is_final).collect();
    let mut final_nodes: Vec<Option<u32>> = finals.iter().map(|r| r.node).collect();
    final_nodes.sort_unstable();
    final_nodes.dedup();
    let mut lacking: Vec<String> = finals
        .iter()
        .filter_map(|r| r.node)
        .filter(|n| !reads.final_by.contains(n))
        .map(|n| h.nodes[n as usize].clone())
        .collect();
    lacking.sort_by(|a, b| node_order(a).cmp(&node_order(b)));
    lacking.dedup();
    // The first crash of each holder after it last got the value.
    let mut took: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut missing = Vec::new();
    for (node, since) in &holders {
        let hits = |e: &&NemesisEvent<'_>| e.time >= *since && e.nodes.contains(&node.as_str());
        match faults
            .iter()
            .enumerate()
            .find(|(_, e)| e.crashes() && hits(e))
        {
            Some((i, _)) => took.entry(i).or_default().push(node.clone()),
            None if lacking.contains(node) || finals.is_empty() => {
                let pause = faults.iter().position(|e| e.f == "pause" && hits(&e));
                missing.push((node.clone(), pause));
            }
            None => {}
        }
    }
    let last_taken = took.keys().map(|&i| faults[i].time).max().unwrap_or(known);
    let partitions = spans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.during(known, last_taken.max(known)))
        .map(|(i, _)| i)
        .collect();
    let last_read = if finals.is_empty() {
        h.reads
            .iter()
            .max_by_key(|r| r.invoke_pos)
            .map(|r| h.read_ref(r))
    } else {
        None
    };
    Lost {
        value: h.values[m as usize].clone(),
        invoked,
        known,
        acknowledged,
        origin,
        holders,
        takers: took.into_iter().collect(),
        missing,
        partitions,
        finals: (lacking, final_nodes.len()),
        last_read,
        dropped,
        carried,
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `value 17 (acknowledged at 3.21 s by n3) was held by n0, n3, n4; the kill of n0, n3, n4
/// at 4.10 s took every holder; no final read has it`.
fn lost_sentence(l: &Lost, faults: &[NemesisEvent<'_>], spans: &[PartitionSpan]) -> String {
    let how = if l.acknowledged {
        format!(
            "acknowledged at {}{}",
            seconds(l.known),
            l.origin
                .as_deref()
                .map_or_else(String::new, |o| format!(" by {o}"))
        )
    } else {
        format!("first read at {}", seconds(l.known))
    };
    let holders: Vec<&str> = l.holders.iter().map(|(n, _)| n.as_str()).collect();
    let mut text = format!(
        "value {} ({how}) was held by {}",
        l.value,
        if holders.is_empty() {
            "no node the journal shows".to_owned()
        } else {
            holders.join(", ")
        }
    );
    if !l.partitions.is_empty() {
        let list: Vec<String> = l.partitions.iter().map(|&i| spans[i].describe()).collect();
        text.push_str(&format!(", while {} was in force", and_list(&list)));
    }
    for (reason, nodes) in &l.dropped {
        text.push_str(&format!(
            "; the network dropped its messages to {} ({reason})",
            nodes.join(", ")
        ));
    }
    let events: Vec<String> = l
        .takers
        .iter()
        .map(|(i, _)| faults[*i].describe())
        .collect();
    let taken: usize = l.takers.iter().map(|(_, nodes)| nodes.len()).sum();
    if taken == l.holders.len() && !events.is_empty() {
        text.push_str(&format!("; {} took every holder", and_list(&events)));
    } else {
        for (i, nodes) in &l.takers {
            text.push_str(&format!(
                "; {} took {}",
                faults[*i].describe(),
                nodes.join(", ")
            ));
        }
        for (node, pause) in &l.missing {
            let what = if l.finals.1 > 0 {
                "its final read lacks it"
            } else {
                "it lost it"
            };
            match pause {
                Some(p) => text.push_str(&format!(
                    "; {node} got it and was not killed, only paused ({}), yet {what}",
                    faults[*p].describe()
                )),
                None => text.push_str(&format!(
                    "; {node} got it and was neither killed nor wiped, yet {what}"
                )),
            }
        }
    }
    match (&l.finals, &l.last_read) {
        ((lacking, all), _) if *all > 0 && lacking.len() == *all => {
            text.push_str("; no final read has it");
        }
        ((lacking, all), _) if *all > 0 => {
            let others: Vec<&str> = lacking
                .iter()
                .filter(|n| !l.missing.iter().any(|(m, _)| m == *n))
                .map(String::as_str)
                .collect();
            if !others.is_empty() {
                text.push_str(&format!(
                    "; the final read{} at {} lack{} it",
                    if others.len() == 1 { "" } else { "s" },
                    others.join(", "),
                    if others.len() == 1 { "s" } else { "" }
                ));
            }
        }
        (_, Some(read)) => text.push_str(&format!("; the last {read} lacks it")),
        _ => {}
    }
    text
}

/// The run's headline, when it failed: lost values first, then the ordering, then duplicated
/// and unexpected values, then a set-full check that could not decide.
fn headline(
    h: &BroadcastHistory<'_>,
    set_full: &SetFullResult,
    ordering: Option<&OrderingResult>,
    lost: &[Lost],
    faults: &[NemesisEvent<'_>],
    spans: &[PartitionSpan],
) -> Option<String> {
    if set_full.lost_count > 0 {
        let n = set_full.lost_count;
        let acknowledged = lost.iter().all(|l| l.acknowledged);
        let what = match (n, acknowledged) {
            (1, true) => "1 acknowledged value lost".to_owned(),
            (1, false) => "1 value lost (known from a read)".to_owned(),
            (n, true) => format!("{n} acknowledged values lost"),
            (n, false) => format!("{n} values lost (acknowledged or read)"),
        };
        // The fault that took holders of the most lost values.
        let mut by_event: BTreeMap<usize, usize> = BTreeMap::new();
        for l in lost {
            for (i, _) in &l.takers {
                *by_event.entry(*i).or_default() += 1;
            }
        }
        let top = by_event
            .iter()
            .max_by_key(|&(i, count)| (*count, std::cmp::Reverse(*i)))
            .map(|(&i, &count)| (i, count));
        return Some(match top {
            Some((i, count)) if count == lost.len() && lost.len() == n => {
                format!("{what} after {}", faults[i].describe())
            }
            Some((i, count)) => format!(
                "{what}; {} took holders of {count} of them",
                faults[i].describe()
            ),
            None => {
                // No crash: the partition in force for the most of them, if it was for all.
                let mut by_span: BTreeMap<usize, usize> = BTreeMap::new();
                for l in lost {
                    for &i in &l.partitions {
                        *by_span.entry(i).or_default() += 1;
                    }
                }
                match by_span
                    .iter()
                    .max_by_key(|&(i, count)| (*count, std::cmp::Reverse(*i)))
                {
                    Some((&i, &count)) if count == lost.len() && lost.len() == n => format!(
                        "{what} while {} was in force (no kill or wipe hit their holders)",
                        spans[i].describe()
                    ),
                    _ => format!("{what}, though no kill or wipe hit the nodes that held them"),
                }
            }
        });
    }
    if let Some(o) = ordering
        && o.valid == Validity::Invalid
        && let Some(v) = o.violations.first()
    {
        return Some(v.sentence());
    }
    if let Some(d) = set_full.duplicated.first() {
        return Some(format!(
            "value {} {} {} times in one read at {}",
            d.element,
            if h.ops.delivery_order {
                "delivered"
            } else {
                "returned"
            },
            d.count,
            d.read.node.as_deref().unwrap_or("?")
        ));
    }
    if let Some(u) = set_full.unexpected.first() {
        return Some(format!(
            "{} returned {}, which no client had {}",
            u.read.node.as_deref().unwrap_or("?"),
            u.element,
            h.ops.past
        ));
    }
    if set_full.valid == Validity::Unknown {
        return Some(format!(
            "none of the {} {} values was ever in every later read, so set-full cannot decide",
            set_full.attempt_count, h.ops.past
        ));
    }
    None
}

/// The time of the event with `index`, if the history has it.
fn time_of_index(h: &BroadcastHistory<'_>, index: u64) -> Option<u64> {
    let pos = usize::try_from(index).ok()?;
    match h.events.get(pos) {
        Some(e) if e.index == index => Some(e.time),
        _ => h.events.iter().find(|e| e.index == index).map(|e| e.time),
    }
}

/// `value 42 (acknowledged at 3.10 s) was in every read only 3.41 s later: n2 still lacked it
/// in its read at 6.51 s, behind the partition n0 n1 | n2 n3 n4 (5.00 s to 7.00 s)`.
fn stale_sentence(
    h: &BroadcastHistory<'_>,
    s: &crate::set_full::StaleElement,
    faults: &[NemesisEvent<'_>],
    spans: &[PartitionSpan],
) -> String {
    let known = time_of_index(h, s.known_index);
    let when = known.map_or_else(String::new, |t| format!(" (known at {})", seconds(t)));
    let mut text = format!(
        "value {}{when} reached every read only {} ms later",
        s.element, s.stable_latency
    );
    let Some(read) = &s.last_absent else {
        return text;
    };
    let node = read.node.as_deref().unwrap_or("?");
    let invoked = time_of_index(h, read.invoke_index).unwrap_or(read.time);
    text.push_str(&format!(
        ": {node} still lacked it in its read at {}",
        seconds(invoked)
    ));
    let restarted = faults.iter().rfind(|e| {
        e.f == "restart"
            && e.nodes.contains(&node)
            && e.time <= invoked
            && known.is_none_or(|k| e.time >= k)
    });
    if let Some(r) = restarted {
        text.push_str(&format!(", after its restart at {}", seconds(r.time)));
    }
    if let Some(p) = spans.iter().find(|p| p.at(invoked)) {
        text.push_str(&format!(", behind {}", p.describe_for(node)));
    }
    text
}

/// Margin of a window around `[from, to]`.
fn margin(from: u64, to: u64) -> u64 {
    let span = to.saturating_sub(from) as f64 * MARGIN_SHARE;
    (span as u64).clamp(MARGIN_MIN, MARGIN_MAX)
}

fn lost_window(l: &Lost, faults: &[NemesisEvent<'_>], add: &str) -> Window {
    let taken = l
        .takers
        .iter()
        .map(|(i, _)| &faults[*i])
        .max_by_key(|e| e.time);
    let last_carrier = l
        .carried
        .iter()
        .flat_map(|c| c.fates.iter())
        .map(|f| match f {
            crate::carriers::Fate::Delivered { time } => *time,
            crate::carriers::Fate::Dropped { time, .. } => *time,
        })
        .max();
    let end = taken
        .map(|e| e.time)
        .or(last_carrier)
        .unwrap_or(l.known)
        .max(l.invoked);
    let pad = margin(l.invoked, end);
    let caption = match taken {
        Some(e) => format!(
            "from just before the {add} of {} at {} to just after {}",
            l.value,
            seconds(l.invoked),
            e.describe()
        ),
        None => format!(
            "from just before the {add} of {} at {} to just after its last message",
            l.value,
            seconds(l.invoked)
        ),
    };
    Window {
        from_ns: l.invoked.saturating_sub(pad),
        to_ns: end + pad,
        values: vec![l.value.clone()],
        message_ids: l.carried.iter().map(|c| c.id).collect(),
        caption,
    }
}

fn ordering_window(
    h: &BroadcastHistory<'_>,
    index_of: &FxHashMap<String, u32>,
    v: &crate::ordering::Violation,
    carriers: &Carriers,
) -> Window {
    let invoked = |value: &Value| {
        index_of
            .get(&value.to_string())
            .and_then(|&m| h.messages[m as usize].first_invoke)
            .map(|p| h.time_at(p))
    };
    let read_end = v.read.time;
    let start = [invoked(&v.earlier), invoked(&v.later)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(read_end)
        .min(read_end);
    let pad = margin(start, read_end);
    let values: Vec<Value> = [&v.earlier, &v.later]
        .into_iter()
        .filter(|x| !x.is_null())
        .cloned()
        .collect();
    let mut message_ids: Vec<u64> = values
        .iter()
        .filter_map(Value::as_u64)
        .filter_map(|n| carriers.by_value.get(&n))
        .flatten()
        .map(|c| c.id)
        .collect();
    message_ids.sort_unstable();
    message_ids.dedup();
    let names: Vec<String> = values.iter().map(Value::to_string).collect();
    Window {
        from_ns: start.saturating_sub(pad),
        to_ns: read_end + pad,
        values,
        message_ids,
        caption: format!(
            "from just before the {} of {} to just after the {}",
            h.ops.add,
            and_list(&names),
            v.read
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;
    use crate::history::parse_history;
    use crate::ordering::{OrderingMode, check_ordering};
    use crate::set_full::set_full;

    /// Five nodes. Value 17 is broadcast at n3 at 3.0 s and acknowledged at 3.2 s; the journal
    /// shows n3 sending it to n0 and n4 (and a message to n1 whose `seq` is 17 but that carries
    /// value 5); the nemesis kills n0, n3, n4 at 4.1 s and restarts them at 5 s; no final read
    /// has 17. Value 5 is broadcast at n1 and reaches everyone.
    fn run() -> (String, String) {
        let mut h = String::new();
        let mut index = 0;
        let mut line = |h: &mut String, text: String| {
            let _ = writeln!(h, r#"{{"index":{index},{text}}}"#);
            index += 1;
        };
        let op = |t: u64, p: u64, node: &str, kind: &str, f: &str, value: &str, fin: bool| {
            format!(
                r#""time":{t},"process":{p},"node":"{node}","type":"{kind}","f":"{f}","value":{value}{}"#,
                if fin { r#","final":true"# } else { "" }
            )
        };
        let nemesis = |t: u64, f: &str, value: &str| {
            format!(r#""time":{t},"process":"nemesis","type":"info","f":"{f}","value":{value}"#)
        };
        let s = 1_000_000_000u64;
        line(&mut h, op(s, 1, "n1", "invoke", "broadcast", "5", false));
        line(
            &mut h,
            op(s + 1_000_000, 1, "n1", "ok", "broadcast", "5", false),
        );
        line(
            &mut h,
            op(3 * s, 3, "n3", "invoke", "broadcast", "17", false),
        );
        line(
            &mut h,
            op(3 * s + 200_000_000, 3, "n3", "ok", "broadcast", "17", false),
        );
        line(
            &mut h,
            op(
                3 * s + 500_000_000,
                2,
                "n2",
                "invoke",
                "read",
                "null",
                false,
            ),
        );
        line(
            &mut h,
            op(3 * s + 501_000_000, 2, "n2", "ok", "read", "[5]", false),
        );
        line(
            &mut h,
            nemesis(4 * s + 100_000_000, "kill", r#"["n0","n3","n4"]"#),
        );
        line(&mut h, nemesis(5 * s, "restart", r#"["n0","n3","n4"]"#));
        for (i, node) in ["n0", "n1", "n2", "n3", "n4"].iter().enumerate() {
            let p = 10 + i as u64;
            line(&mut h, op(9 * s, p, node, "invoke", "read", "null", true));
            line(&mut h, op(9 * s + 1, p, node, "ok", "read", "[5]", true));
        }
        let mut j = String::new();
        let mut id = 0;
        let mut send = |j: &mut String,
                        t: u64,
                        src: &str,
                        dest: &str,
                        body: &str,
                        fate: Option<u64>| {
            id += 1;
            let _ = writeln!(
                j,
                r#"{{"time":{t},"event":"send","id":{id},"src":"{src}","dest":"{dest}","body":{body}}}"#
            );
            if let Some(d) = fate {
                let _ = writeln!(
                    j,
                    r#"{{"time":{d},"event":"deliver","id":{id},"src":"{src}","dest":"{dest}"}}"#
                );
            }
        };
        send(
            &mut j,
            s,
            "c1",
            "n1",
            r#"{"type":"broadcast","message":5,"msg_id":1}"#,
            Some(s),
        );
        for dest in ["n0", "n2", "n3", "n4"] {
            send(
                &mut j,
                s + 500_000,
                "n1",
                dest,
                r#"{"type":"gossip","seq":17,"messages":[5]}"#,
                Some(s + 20_000_000),
            );
        }
        send(
            &mut j,
            3 * s,
            "c3",
            "n3",
            r#"{"type":"broadcast","message":17,"msg_id":1}"#,
            Some(3 * s),
        );
        for dest in ["n0", "n4"] {
            send(
                &mut j,
                3 * s + 500_000,
                "n3",
                dest,
                r#"{"type":"gossip","seq":1,"messages":[17]}"#,
                Some(3 * s + 20_000_000),
            );
        }
        send(
            &mut j,
            3 * s + 500_000,
            "n3",
            "n1",
            r#"{"type":"gossip","seq":2,"messages":[17]}"#,
            None,
        );
        let _ = writeln!(
            j,
            r#"{{"time":{},"event":"drop","id":9,"src":"n3","dest":"n1","reason":"partition"}}"#,
            3 * s + 20_000_000
        );
        send(
            &mut j,
            3 * s + 200_000_000,
            "n3",
            "c3",
            r#"{"type":"broadcast_ok","in_reply_to":1}"#,
            Some(3 * s + 200_000_000),
        );
        (h, j)
    }

    fn scratch(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("story-{name}-{}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_value_held_by_three_nodes_that_are_then_killed_is_told_as_lost_to_that_kill() {
        let (history, journal) = run();
        let events = parse_history("h", history.as_bytes()).unwrap();
        let h = BroadcastHistory::new(&events).unwrap();
        let sf = set_full(&h, false);
        assert_eq!(sf.lost, vec![serde_json::json!(17)]);
        let path = scratch("journal", &journal);
        let story = broadcast_story(&h, &sf, None, Some(&path));
        let _ = std::fs::remove_file(&path);
        assert_eq!(story.value_slots, vec!["gossip.messages[]"]);
        assert_eq!(
            story.headline.as_deref(),
            Some("1 acknowledged value lost after the kill of n0, n3, n4 at 4.10 s")
        );
        assert_eq!(
            story.failures,
            vec![
                "value 17 (acknowledged at 3.20 s by n3) was held by n0, n3, n4; the network \
                 dropped its messages to n1 (partition); the kill of n0, n3, n4 at 4.10 s took \
                 every holder; no final read has it"
            ]
        );
        let window = story.window.unwrap();
        // From a little before the broadcast at 3 s to a little after the kill at 4.1 s,
        // with the client's request and reply and the three gossip messages of 17 (the one
        // to n1 was dropped), not the gossip of 5 whose seq is 17.
        assert!(window.from_ns < 3_000_000_000 && window.from_ns > 2_800_000_000);
        assert!(window.to_ns > 4_100_000_000 && window.to_ns < 4_400_000_000);
        assert_eq!(window.message_ids, vec![6, 7, 8, 9, 10]);
        assert_eq!(window.values, vec![serde_json::json!(17)]);
        assert!(window.caption.contains("the kill of n0, n3, n4 at 4.10 s"));
    }

    #[test]
    fn without_a_journal_the_holders_come_from_the_history() {
        let (history, _) = run();
        let events = parse_history("h", history.as_bytes()).unwrap();
        let h = BroadcastHistory::new(&events).unwrap();
        let sf = set_full(&h, false);
        let story = broadcast_story(
            &h,
            &sf,
            None,
            Some(Path::new("/nonexistent/messages.jsonl")),
        );
        assert!(story.journal_error.is_some());
        assert!(
            story.failures[0]
                .starts_with("value 17 (acknowledged at 3.20 s by n3) was held by n3; the kill")
        );
        assert!(story.failures[1].contains("messages.jsonl could not be read"));
    }

    #[test]
    fn an_ordering_violation_reads_as_a_sentence_and_heads_the_run() {
        let text = r#"{"index":0,"time":0,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1}
{"index":1,"time":1000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":1}
{"index":2,"time":2000000,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":2}
{"index":3,"time":3000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":2}
{"index":4,"time":5000000,"process":1,"node":"n1","type":"invoke","f":"read","value":null}
{"index":5,"time":6000000,"process":1,"node":"n1","type":"ok","f":"read","value":[2,1]}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let h = BroadcastHistory::new(&events).unwrap();
        let sf = set_full(&h, false);
        let o = check_ordering(&h, OrderingMode::Fifo);
        let story = broadcast_story(&h, &sf, Some(&o), None);
        let headline = story.headline.unwrap();
        assert_eq!(
            headline,
            "FIFO order broken in the read at n1 (events 4..5, process 1, 2 messages): 1 happens \
             before 2, but that read delivers 2 at position 0 and 1 only later, at position 1 \
             (1 before 2: both broadcast at n0; the broadcast of 1 was acknowledged at event 1 \
             before the broadcast of 2 was invoked at event 2)."
        );
        assert_eq!(story.failures, vec![headline]);
        let window = story.window.unwrap();
        assert_eq!((window.from_ns, window.to_ns), (0, 26_000_000));
    }

    #[test]
    fn a_stale_value_names_the_node_that_lagged_and_the_partition_it_was_behind() {
        let text = r#"{"index":0,"time":0,"process":0,"node":"n0","type":"invoke","f":"broadcast","value":1}
{"index":1,"time":1000000,"process":0,"node":"n0","type":"ok","f":"broadcast","value":1}
{"index":2,"time":2000000,"process":"nemesis","type":"info","f":"start-partition","value":{"n0":["n1","n2"],"n1":["n0"],"n2":["n0"]}}
{"index":3,"time":500000000,"process":2,"node":"n2","type":"invoke","f":"read","value":null}
{"index":4,"time":501000000,"process":2,"node":"n2","type":"ok","f":"read","value":[]}
{"index":5,"time":900000000,"process":"nemesis","type":"info","f":"stop-partition","value":null}
{"index":6,"time":1000000000,"process":2,"node":"n2","type":"invoke","f":"read","value":null}
{"index":7,"time":1001000000,"process":2,"node":"n2","type":"ok","f":"read","value":[1]}
"#;
        let events = parse_history("h", text.as_bytes()).unwrap();
        let h = BroadcastHistory::new(&events).unwrap();
        let sf = set_full(&h, false);
        let story = broadcast_story(&h, &sf, None, None);
        assert_eq!(story.headline, None);
        assert!(story.failures.is_empty());
        assert_eq!(
            story.slow,
            vec![
                "value 1 (known at 0.00 s) reached every read only 499 ms later: n2 still lacked \
                 it in its read at 0.50 s, behind the partition n0 | n1 n2 (0.00 s to 0.90 s)"
            ]
        );
    }

    /// A g-set's `add {element}` and `add_ok`, as the g-set workload names them.
    const G_SET: crate::broadcast::SetOps = crate::broadcast::SetOps {
        add: "add",
        field: "element",
        add_ok: "add_ok",
        past: "added",
        item: "element",
        delivery_order: false,
    };

    #[test]
    fn a_g_set_run_is_told_in_its_own_words_and_its_client_messages_carry_the_element() {
        let history = r#"{"index":0,"time":1000000000,"process":0,"node":"n1","type":"invoke","f":"add","value":3}
{"index":1,"time":1001000000,"process":0,"node":"n1","type":"ok","f":"add","value":3}
{"index":2,"time":1500000000,"process":"nemesis","type":"info","f":"kill","value":["n1"]}
{"index":3,"time":2000000000,"process":"nemesis","type":"info","f":"restart","value":["n1"]}
{"index":4,"time":3000000000,"process":1,"node":"n0","type":"invoke","f":"read","value":null,"final":true}
{"index":5,"time":3001000000,"process":1,"node":"n0","type":"ok","f":"read","value":[9],"final":true}
{"index":6,"time":3002000000,"process":0,"node":"n1","type":"invoke","f":"read","value":null,"final":true}
{"index":7,"time":3003000000,"process":0,"node":"n1","type":"ok","f":"read","value":[],"final":true}
"#;
        let journal = r#"{"time":1000000000,"event":"send","id":1,"src":"c1","dest":"n1","body":{"type":"add","element":3,"msg_id":1}}
{"time":1000000000,"event":"deliver","id":1,"src":"c1","dest":"n1"}
{"time":1001000000,"event":"send","id":2,"src":"n1","dest":"c1","body":{"type":"add_ok","in_reply_to":1}}
{"time":1001000000,"event":"deliver","id":2,"src":"n1","dest":"c1"}
"#;
        let events = parse_history("h", history.as_bytes()).unwrap();
        let h = BroadcastHistory::of(&events, G_SET).unwrap();
        let sf = set_full(&h, false);
        assert_eq!(sf.lost, vec![serde_json::json!(3)]);
        assert!(
            sf.to_string().starts_with("set-full: invalid: 1 adds,"),
            "{sf}"
        );
        let path = scratch("g-set-journal", journal);
        let story = broadcast_story(&h, &sf, None, Some(&path));
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            story.headline.as_deref(),
            Some("1 acknowledged value lost after the kill of n1 at 1.50 s")
        );
        assert_eq!(
            story.failures,
            vec![
                "value 3 (acknowledged at 1.00 s by n1) was held by n1; the kill of n1 at 1.50 s \
                 took every holder; no final read has it",
                "the read at n0 (events 4..5, process 1, 1 element) returned 9, which no client \
                 had added before it completed.",
            ]
        );
        let window = story.window.unwrap();
        assert_eq!(
            window.message_ids,
            vec![1, 2],
            "the client's add and add_ok"
        );
        assert!(window.caption.starts_with("from just before the add of 3"));
    }
}
