//! The services answer scripted requests exactly as specified, through `nodes::Runtime`:
//! lin-kv and lin-tso request by request, seq-kv's per-client monotonic and bounded-stale
//! reads, and lww-kv's convergence and lost concurrent writes.

use std::collections::BTreeMap;
use std::time::Duration;

use nodes::{Runtime, sends};
use proptest::prelude::*;
use proto::{Body, Message};
use runner::services::{Service, ServiceKind, service};
use serde_json::{Value, json};

/// A service of `kind`, initialised.
fn start(kind: ServiceKind, seed: u64) -> Runtime<Service> {
    let mut rt = Runtime::new(Service::new(kind), seed, 1);
    let init = json!({"type": "init", "msg_id": 0, "node_id": kind.id(), "node_ids": [kind.id(), "n0", "n1"]});
    let effects = rt.handle_message(Duration::ZERO, msg("c0", kind.id(), init));
    let replies = sends(&effects);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].body.kind(), "init_ok");
    rt
}

fn msg(src: &str, dest: &str, body: Value) -> Message {
    let body: Body = serde_json::from_value(body).expect("a body");
    Message::new(src, dest, body)
}

/// Send `body` from `src` at `now`; return the bodies sent back, as JSON, without `msg_id`.
fn call(rt: &mut Runtime<Service>, now: Duration, src: &str, body: Value) -> Vec<Value> {
    let dest = rt.ctx().id().to_owned();
    let effects = rt.handle_message(now, msg(src, &dest, body));
    sends(&effects)
        .into_iter()
        .map(|m| {
            assert_eq!((m.src.as_str(), m.dest.as_str()), (dest.as_str(), src));
            let mut value = m.body.to_value();
            value.as_object_mut().unwrap().remove("msg_id");
            value
        })
        .collect()
}

/// Send `body` with `msg_id` 1 and expect exactly one reply.
fn ask(rt: &mut Runtime<Service>, now: Duration, src: &str, mut body: Value) -> Value {
    body["msg_id"] = json!(1);
    let mut replies = call(rt, now, src, body);
    assert_eq!(replies.len(), 1, "{replies:?}");
    let mut reply = replies.remove(0);
    assert_eq!(reply["in_reply_to"], json!(1));
    reply.as_object_mut().unwrap().remove("in_reply_to");
    reply
}

fn error(code: u32, text: &str) -> Value {
    json!({"type": "error", "code": code, "text": text})
}

#[test]
fn lin_kv_answers_exactly_as_specified() {
    let mut kv = start(ServiceKind::LinKv, 1);
    let t = Duration::from_millis(5);
    let key = json!({"k": [1, 2]});
    let missing = error(20, r#"key {"k":[1,2]} does not exist"#);
    assert_eq!(
        ask(&mut kv, t, "n0", json!({"type": "read", "key": key})),
        missing
    );
    let cas = json!({"type": "cas", "key": key, "from": 1, "to": 2});
    assert_eq!(ask(&mut kv, t, "n0", cas.clone()), missing);
    let write = json!({"type": "write", "key": key, "value": 1});
    assert_eq!(ask(&mut kv, t, "n0", write), json!({"type": "write_ok"}));
    assert_eq!(
        ask(&mut kv, t, "n1", json!({"type": "read", "key": key})),
        json!({"type": "read_ok", "value": 1})
    );
    assert_eq!(
        ask(&mut kv, t, "n1", cas.clone()),
        json!({"type": "cas_ok"})
    );
    assert_eq!(
        ask(&mut kv, t, "n0", cas),
        error(22, r#"expected 1, but key {"k":[1,2]} holds 2"#)
    );
    // A key is its JSON text: "1" is not 1.
    let create =
        json!({"type": "cas", "key": "1", "from": null, "to": [3], "create_if_not_exists": true});
    assert_eq!(ask(&mut kv, t, "n0", create), json!({"type": "cas_ok"}));
    assert_eq!(
        ask(&mut kv, t, "n0", json!({"type": "read", "key": "1"})),
        json!({"type": "read_ok", "value": [3]})
    );
    assert_eq!(
        ask(&mut kv, t, "n0", json!({"type": "read", "key": 1})),
        error(20, "key 1 does not exist")
    );
    // A value may be null, and reads say so.
    assert_eq!(
        ask(
            &mut kv,
            t,
            "n0",
            json!({"type": "write", "key": 9, "value": null})
        ),
        json!({"type": "write_ok"})
    );
    assert_eq!(
        ask(&mut kv, t, "n0", json!({"type": "read", "key": 9})),
        json!({"type": "read_ok", "value": null})
    );
}

#[test]
fn requests_without_msg_id_are_applied_silently_and_replies_ignored() {
    let mut kv = start(ServiceKind::LinKv, 1);
    let t = Duration::from_millis(1);
    assert!(
        call(
            &mut kv,
            t,
            "n0",
            json!({"type": "write", "key": "a", "value": 5})
        )
        .is_empty()
    );
    assert_eq!(
        ask(&mut kv, t, "n0", json!({"type": "read", "key": "a"})),
        json!({"type": "read_ok", "value": 5})
    );
    let reply = json!({"type": "read_ok", "in_reply_to": 3, "value": 1});
    assert!(call(&mut kv, t, "n0", reply).is_empty());
}

#[test]
fn every_service_refuses_what_it_does_not_serve() {
    for kind in ServiceKind::ALL {
        let mut s = start(kind, 1);
        let t = Duration::from_millis(1);
        let reply = ask(&mut s, t, "n0", json!({"type": "gossip", "x": 1}));
        assert_eq!(reply["code"], json!(10), "{kind:?}: {reply}");
        let reply = ask(&mut s, t, "n0", json!({"type": "echo", "echo": 1}));
        assert_eq!(reply["code"], json!(10), "{kind:?}: {reply}");
        // A declared type whose fields do not fit: the runtime answers 12.
        let reply = ask(&mut s, t, "n0", json!({"type": "cas", "key": 1, "from": 1}));
        assert_eq!(reply["code"], json!(12), "{kind:?}: {reply}");
        let reply = ask(&mut s, t, "n0", json!({"type": "read"}));
        // The services that serve no read refuse it; the key-value ones find it malformed.
        let expected = if matches!(kind, ServiceKind::LinTso | ServiceKind::TimeServer) {
            10
        } else {
            12
        };
        assert_eq!(reply["code"], json!(expected), "{kind:?}: {reply}");
        if kind != ServiceKind::LinTso {
            let reply = ask(&mut s, t, "n0", json!({"type": "ts"}));
            assert_eq!(reply["code"], json!(10), "{kind:?}: {reply}");
        }
    }
}

#[test]
fn lin_tso_counts_from_zero() {
    let mut tso = start(ServiceKind::LinTso, 1);
    for (i, src) in ["n0", "n1", "n0", "n2"].into_iter().enumerate() {
        let reply = ask(
            &mut tso,
            Duration::from_millis(i as u64),
            src,
            json!({"type": "ts"}),
        );
        assert_eq!(reply, json!({"type": "ts_ok", "ts": i}));
    }
    assert!(service("lin-tso").is_some() && service("lin-kv2").is_none());
}

/// A scripted workload against seq-kv: each step is (client, key, write?) at 20 ms steps;
/// writes write a global counter, so a larger value is a later write.
#[derive(Debug, Clone)]
struct Step {
    client: usize,
    key: u8,
    write: bool,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (0usize..3, 0u8..2, prop::bool::weighted(0.3)).prop_map(|(client, key, write)| Step {
            client,
            key,
            write,
        }),
        1..300,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn seq_kv_reads_never_go_back_for_a_client_and_lag_at_most_a_second(
        script in steps(), seed in any::<u64>()
    ) {
        let mut kv = start(ServiceKind::SeqKv, seed);
        let step_ms = 20u64;
        let mut counter = 0i64;
        // Per key: every write as (time, value).
        let mut writes: BTreeMap<u8, Vec<(Duration, i64)>> = BTreeMap::new();
        // Per (client, key): the newest value the client saw or wrote.
        let mut seen: BTreeMap<(usize, u8), i64> = BTreeMap::new();
        for (i, step) in script.iter().enumerate() {
            let now = Duration::from_millis(step_ms * (i as u64 + 1));
            let client = format!("n{}", step.client);
            if step.write {
                counter += 1;
                let reply = ask(&mut kv, now, &client, json!({"type": "write", "key": step.key, "value": counter}));
                prop_assert_eq!(reply, json!({"type": "write_ok"}));
                writes.entry(step.key).or_default().push((now, counter));
                seen.insert((step.client, step.key), counter);
                continue;
            }
            let reply = ask(&mut kv, now, &client, json!({"type": "read", "key": step.key}));
            let value = reply["value"].as_i64();
            // Never older than what this client saw or wrote.
            let floor = seen.get(&(step.client, step.key)).copied();
            prop_assert!(value >= floor, "{} read {:?} after seeing {:?}", client, value, floor);
            // Never staler than 1 s: at least the last write made more than 1 s ago.
            let old = writes.get(&step.key).and_then(|w| {
                w.iter().rev().find(|(t, _)| *t + Duration::from_secs(1) < now).map(|(_, v)| *v)
            });
            prop_assert!(value >= old, "read {:?} at {:?}, but {:?} was written over 1 s before", value, now, old);
            if let Some(v) = value {
                prop_assert!(writes[&step.key].iter().any(|(_, w)| *w == v), "only written values");
                seen.insert((step.client, step.key), v);
            } else {
                prop_assert_eq!(reply, error(20, &format!("key {} does not exist", step.key)));
            }
        }
    }
}

#[test]
fn seq_kv_reads_are_sometimes_stale() {
    // One writer, another reader: the reader often lags behind the latest write.
    let mut kv = start(ServiceKind::SeqKv, 3);
    let (mut stale, mut reads) = (0, 0);
    for i in 1..=500i64 {
        let now = Duration::from_millis(10 * i as u64);
        ask(
            &mut kv,
            now,
            "n0",
            json!({"type": "write", "key": "k", "value": i}),
        );
        let reply = ask(&mut kv, now, "n1", json!({"type": "read", "key": "k"}));
        reads += 1;
        stale += usize::from(reply["value"] != json!(i));
    }
    assert!(stale > reads / 10, "{stale} of {reads} reads stale");
    // The writer itself always reads its own write.
    let reply = ask(
        &mut kv,
        Duration::from_secs(6),
        "n0",
        json!({"type": "read", "key": "k"}),
    );
    assert_eq!(reply["value"], json!(500));
}

#[test]
fn seq_kv_cas_applies_to_the_latest_state() {
    let mut kv = start(ServiceKind::SeqKv, 5);
    let t = |ms| Duration::from_millis(ms);
    for i in 0..50 {
        let reply = ask(
            &mut kv,
            t(i),
            "n0",
            json!({"type": "write", "key": "k", "value": i}),
        );
        assert_eq!(reply["type"], json!("write_ok"));
    }
    // Whatever a stale read says, a cas from the latest value succeeds, from any client.
    let reply = ask(
        &mut kv,
        t(60),
        "n1",
        json!({"type": "cas", "key": "k", "from": 49, "to": 50}),
    );
    assert_eq!(reply, json!({"type": "cas_ok"}));
    let reply = ask(&mut kv, t(61), "n1", json!({"type": "read", "key": "k"}));
    assert_eq!(reply["value"], json!(50));
}

/// Fire the service's timers up to `until`.
fn run_until(rt: &mut Runtime<Service>, until: Duration) {
    while let Some(at) = rt.next_deadline().filter(|at| *at <= until) {
        rt.advance(at);
    }
}

fn lww_replicas(rt: &Runtime<Service>) -> Vec<runner::services::lww_kv::Replica> {
    match rt.node() {
        Service::LwwKv(kv) => kv.replicas().to_vec(),
        other => panic!("not lww-kv: {other:?}"),
    }
}

#[test]
fn lww_kv_replicas_converge_after_anti_entropy() {
    let mut kv = start(ServiceKind::LwwKv, 11);
    for i in 0..60i64 {
        let now = Duration::from_millis(i as u64);
        let key = i % 4;
        ask(
            &mut kv,
            now,
            &format!("n{}", i % 3),
            json!({"type": "write", "key": key, "value": i}),
        );
    }
    let replicas = lww_replicas(&kv);
    assert!(
        replicas.windows(2).any(|w| w[0] != w[1]),
        "writes spread over the replicas"
    );
    run_until(&mut kv, Duration::from_secs(5));
    let replicas = lww_replicas(&kv);
    assert!(replicas.windows(2).all(|w| w[0] == w[1]), "{replicas:#?}");
    // Every client now reads the same value for each key.
    for key in 0..4 {
        let values: Vec<Value> = (0..20)
            .map(|i| {
                ask(
                    &mut kv,
                    Duration::from_secs(5),
                    &format!("n{}", i % 3),
                    json!({"type": "read", "key": key}),
                )["value"]
                    .clone()
            })
            .collect();
        assert!(
            values.windows(2).all(|w| w[0] == w[1]),
            "key {key}: {values:?}"
        );
    }
}

#[test]
fn lww_kv_loses_a_concurrent_write_as_last_writer_wins_says() {
    // Two clients write the same key, one after the other, before any merge. When the writes
    // land on different replicas, the higher Lamport stamp wins after the merge, even if it
    // was the earlier write: the later write was acknowledged and is lost.
    let mut lost_later_write = 0;
    for seed in 0..60 {
        let mut kv = start(ServiceKind::LwwKv, seed);
        let t = Duration::from_millis(1);
        // Warm one replica's clock with writes to another key.
        for i in 0..3 {
            ask(
                &mut kv,
                t,
                "n2",
                json!({"type": "write", "key": "other", "value": i}),
            );
        }
        let first = ask(
            &mut kv,
            t,
            "n0",
            json!({"type": "write", "key": "x", "value": "first"}),
        );
        let second = ask(
            &mut kv,
            t,
            "n1",
            json!({"type": "write", "key": "x", "value": "second"}),
        );
        assert_eq!(
            (first["type"].as_str(), second["type"].as_str()),
            (Some("write_ok"), Some("write_ok"))
        );
        run_until(&mut kv, Duration::from_secs(5));
        let replicas = lww_replicas(&kv);
        assert!(replicas.windows(2).all(|w| w[0] == w[1]));
        let id = json!("x").to_string();
        let (stamp, value) = replicas[0].entries[&id].clone();
        // The survivor has the highest stamp any replica gave "x".
        assert!(stamp.0 >= 1);
        if value == json!("first") {
            lost_later_write += 1;
        }
    }
    assert!(
        lost_later_write > 5,
        "the later write lost in {lost_later_write} of 60 runs"
    );
}
