//! The wire protocol per message: what a node's driver pays to read a line into a typed
//! [`Message`] (`parse_line`) and to write one (`to_line`), and what the router pays to read
//! only the addresses of a line it forwards (`parse_route`, and `parse_header`, which also reads
//! the body's `type` and ids).
//!
//! Four typical lines: a client request (`broadcast`), the reply to a broadcast `read` listing
//! 100 and 1000 messages, and a gossip node's own `push` (a body no one declared, kept raw).
//! Throughput is in bytes of the line.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use proto::{parse_header, parse_line, parse_route, to_line};

/// `{"src":"n0","dest":"c1","body":{"type":"read_ok","messages":[...]}}` listing `n`
/// messages, values as a broadcast workload draws them.
fn read_ok(n: usize) -> String {
    let mut messages = String::new();
    for i in 0..n {
        if i > 0 {
            messages.push(',');
        }
        let _ = write!(messages, "{}", (i * 7919) % 100_000);
    }
    format!(
        r#"{{"id":4213,"src":"n0","dest":"c1","body":{{"type":"read_ok","msg_id":512,"in_reply_to":37,"messages":[{messages}]}}}}"#
    )
}

/// A gossip node's `push` (see `nodes::broadcast::gossip`): ten items with their ids, two
/// acknowledgements.
fn gossip_push() -> String {
    let mut items = String::new();
    for i in 0..10u64 {
        if i > 0 {
            items.push(',');
        }
        let _ = write!(
            items,
            r#"{{"id":["n{}",{},{}],"value":{}}}"#,
            i % 5,
            i / 5 + 1,
            100 + i,
            4000 + i * 13
        );
    }
    format!(
        r#"{{"src":"n3","dest":"n17","body":{{"type":"push","msg_id":8812,"items":[{items}],"acks":[["n1",1,57],["n4",1,58]]}}}}"#
    )
}

fn lines() -> Vec<(&'static str, String)> {
    vec![
        (
            "client request",
            r#"{"id":12,"src":"c3","dest":"n1","body":{"type":"broadcast","msg_id":17,"message":1234}}"#
                .to_owned(),
        ),
        ("read_ok 100 messages", read_ok(100)),
        ("read_ok 1000 messages", read_ok(1000)),
        ("gossip push (raw body)", gossip_push()),
    ]
}

fn protocol(c: &mut Criterion) {
    let lines = lines();
    for (name, line) in &lines {
        let message = parse_line(line).expect("a valid line");
        assert_eq!(parse_line(&to_line(&message)).as_ref(), Ok(&message));
        assert!(parse_header(line).is_ok());

        let mut g = c.benchmark_group(format!("protocol/{name}"));
        g.warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .throughput(Throughput::Bytes(line.len() as u64));
        g.bench_function("parse_line", |b| {
            b.iter(|| parse_line(black_box(line.as_str())))
        });
        g.bench_function("parse_route", |b| {
            b.iter(|| black_box(parse_route(black_box(line.as_str())).is_ok()))
        });
        g.bench_function("parse_header", |b| {
            b.iter(|| black_box(parse_header(black_box(line.as_str())).is_ok()))
        });
        g.bench_function("to_line", |b| b.iter(|| to_line(black_box(&message))));
        g.finish();
    }
}

criterion_group!(benches, protocol);
criterion_main!(benches);
