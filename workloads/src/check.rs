//! The checks of a run by the workload's name, as `harness test` and `harness check` call them
//! (see [`WorkloadKind::check`] for a workload already known).

use checker::{Event, RunCheckOptions, RunResults};

use crate::kind::{WORKLOADS, WorkloadKind};

/// Check a run of the workload named `workload`. Never fails: a name that is no workload's,
/// like a history that cannot be checked, gives an unknown verdict with the reason.
pub fn check_run(workload: &str, history: &[Event], opts: &RunCheckOptions) -> RunResults {
    match workload.parse::<WorkloadKind>() {
        Ok(kind) => kind.check(history, opts),
        Err(_) => checker::run_unchecked(
            format!(
                "no checker for workload {workload:?} (known: {})",
                WORKLOADS.join(", ")
            ),
            history,
            opts,
        ),
    }
}

#[cfg(test)]
mod tests {
    use checker::{Event, Validity, WorkloadResult, parse_history};

    use super::*;

    fn events(text: &str) -> Vec<Event> {
        parse_history("h", text.as_bytes()).unwrap()
    }

    #[test]
    fn lin_kv_runs_use_absent_keys_and_merge_verdicts() {
        let h = events(
            r#"{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"read","value":["k",null]}
{"index":1,"time":2,"process":0,"node":"n0","type":"ok","f":"read","value":["k",null]}
{"index":2,"time":3,"process":0,"node":"n0","type":"invoke","f":"cas","value":["k",[1,2]]}
{"index":3,"time":4,"process":0,"node":"n0","type":"fail","f":"cas","value":["k",[1,2]],"error":{"code":20,"name":"key-does-not-exist","text":""}}
{"index":4,"time":5,"process":0,"node":"n0","type":"invoke","f":"write","value":["k",3]}
{"index":5,"time":6,"process":0,"node":"n0","type":"ok","f":"write","value":["k",3]}
{"index":6,"time":7,"process":0,"node":"n0","type":"invoke","f":"read","value":["k",null]}
{"index":7,"time":8,"process":0,"node":"n0","type":"ok","f":"read","value":["k",3]}"#,
        );
        let r = check_run("lin-kv", &h, &RunCheckOptions::default());
        assert_eq!(r.workload.valid(), Validity::Valid);
        // Every cas failed, so the stats say invalid, and so does the run (as Jepsen's stats
        // checker, which Maelstrom composes, judges it).
        assert_eq!(
            r.stats.as_ref().unwrap().by_f["cas"].valid,
            Validity::Invalid
        );
        assert_eq!(r.stats.as_ref().unwrap().never_succeeded, ["cas"]);
        assert_eq!(r.valid, Validity::Invalid);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["workload"]["semantics"]["nil_read"], "absent");
        assert!(json.get("ordering").is_none() && json.get("net").is_none());
    }

    #[test]
    fn a_read_answered_key_does_not_exist_is_checked_as_a_read_of_the_absent_key() {
        let write_then = |second_read_error: &str| {
            events(&format!(
                r#"{{"index":0,"time":1,"process":0,"node":"n0","type":"invoke","f":"read","value":[1,null]}}
{{"index":1,"time":2,"process":0,"node":"n0","type":"fail","f":"read","value":[1,null],"error":{{"code":20,"name":"key-does-not-exist","text":""}}}}
{{"index":2,"time":3,"process":0,"node":"n0","type":"invoke","f":"write","value":[1,3]}}
{{"index":3,"time":4,"process":0,"node":"n0","type":"ok","f":"write","value":[1,3]}}
{{"index":4,"time":5,"process":1,"node":"n1","type":"invoke","f":"read","value":[1,null]}}
{{"index":5,"time":6,"process":1,"node":"n1","type":"fail","f":"read","value":[1,null],"error":{second_read_error}}}
{{"index":6,"time":7,"process":1,"node":"n1","type":"invoke","f":"read","value":[1,null]}}
{{"index":7,"time":8,"process":1,"node":"n1","type":"ok","f":"read","value":[1,3]}}"#
            ))
        };
        // Absent before the write: linearizable; the first read is checked, not dropped.
        let h = write_then(r#"{"code":11,"name":"temporarily-unavailable","text":""}"#);
        let r = check_run("lin-kv", &h, &RunCheckOptions::default());
        assert_eq!(r.workload.valid(), Validity::Valid, "{r}");
        let WorkloadResult::Linearizable(lin) = &r.workload else {
            panic!("{r}")
        };
        assert_eq!((lin.op_count, lin.failed_dropped), (3, 1));
        // Absent after an acknowledged write: the store forgot it.
        let h = write_then(r#"{"code":20,"name":"key-does-not-exist","text":""}"#);
        let r = check_run("lin-kv", &h, &RunCheckOptions::default());
        assert_eq!(r.workload.valid(), Validity::Invalid, "{r}");
        let WorkloadResult::Linearizable(lin) = &r.workload else {
            panic!("{r}")
        };
        let failure = lin.failure.as_ref().expect("a failure");
        assert_eq!(failure.op.index, 4, "{r}");
        assert!(
            failure.explanation.contains(
                "the read by process 1 at n1 during events 4..5 found the key absent \
                 (error 20, key-does-not-exist)"
            ),
            "{}",
            failure.explanation
        );
        assert!(
            r.to_string()
                .contains("-> fail (error 20 key-does-not-exist)"),
            "{r}"
        );
    }

    #[test]
    fn unknown_workloads_and_malformed_histories_are_unchecked() {
        let r = check_run("queue", &[], &RunCheckOptions::default());
        assert_eq!(r.valid, Validity::Unknown);
        assert!(
            r.to_string().contains("no checker for workload \"queue\""),
            "{r}"
        );
        let h = events(r#"{"index":0,"time":1,"process":0,"type":"ok","f":"echo","value":"x"}"#);
        let r = check_run("echo", &h, &RunCheckOptions::default());
        assert_eq!(r.valid, Validity::Unknown);
        assert!(r.stats.is_none());
        assert!(r.to_string().contains("event 0: "), "{r}");
    }
}
