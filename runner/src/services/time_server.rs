//! `time-server`: a reference clock, NTP's server (the course's 3.2 "Clock synchronisation").
//! A `time {t1}` request gets `time_ok {t1, t2, t3}`: `t2` the true time of day when the request
//! arrived, `t3` when the reply left (the same instant: the server answers at once), `t1`
//! echoed. Every time is an integer of microseconds since the Unix epoch.
//!
//! *True* time is the time of day the nodes' clocks are bent away from: under the simulator
//! [`nodes::WALL_CLOCK_EPOCH`] plus the virtual time (what [`Ctx::wall_clock`] reads when no
//! clock is set); in a process run the harness's own system clock, which the router gives the
//! service before every event (a node process reads the same clock plus its offset, through
//! libfaketime). The network between a node and the service has the run's latency, so a node
//! that measures the round trip sees it, as NTP's client does.

use nodes::{Ctx, Node};
use proto::{Message, Payload};

use super::{answer, parse_request, time_request};

/// The time-server service; it keeps no state.
#[derive(Debug, Clone, Default)]
pub struct TimeServer;

/// `d`'s whole microseconds, as the time messages carry them.
pub fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Node for TimeServer {
    fn on_message(&mut self, ctx: &mut Ctx, msg: Message) {
        let Some(t1) = parse_request(ctx, &msg, time_request) else {
            return;
        };
        let now = micros(ctx.wall_clock());
        answer(
            ctx,
            &msg,
            &Payload::TimeOk {
                t1,
                t2: now,
                t3: now,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use nodes::Runtime;
    use proto::Body;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_time_request_is_answered_with_the_true_time_in_microseconds_and_t1_echoed() {
        let mut rt = Runtime::new(TimeServer, 0, 0);
        let init = json!({"type": "init", "msg_id": 0, "node_id": "time-server", "node_ids": ["time-server", "n0"]});
        rt.handle_message(
            Duration::ZERO,
            Message::new(
                "c0",
                "time-server",
                serde_json::from_value::<Body>(init).unwrap(),
            ),
        );
        let request = Body {
            msg_id: Some(3),
            in_reply_to: None,
            payload: Payload::Time { t1: Some(42) },
        };
        let effects = rt.handle_message(
            Duration::from_millis(1500),
            Message::new("n0", "time-server", request),
        );
        let sent = nodes::sends(&effects);
        let expected = micros(nodes::WALL_CLOCK_EPOCH + Duration::from_millis(1500));
        assert_eq!(
            sent[0].body.payload,
            Payload::TimeOk {
                t1: Some(42),
                t2: expected,
                t3: expected
            }
        );
        rt.set_wall_clock(Duration::from_secs(1_800_000_000));
        let effects = rt.handle_message(
            Duration::from_millis(1600),
            Message::new("n0", "time-server", Body::new(Payload::Time { t1: None })),
        );
        assert!(nodes::sends(&effects).is_empty(), "no msg_id, no answer");
    }
}
