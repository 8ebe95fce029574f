//! The workloads by name: the one table that lists them.
//!
//! Each line of [`workload_table!`] names a variant of [`WorkloadKind`] and the type, in the
//! workload's own module, that implements [`Spec`]: everything else (the name `-w` takes,
//! the help, the generator, the checks, how `harness check` recognises its histories) comes
//! from there. The command line's list of workloads, the store's folder names, the error for
//! an unknown name and [`WORKLOADS`] all come from this table.

use std::fmt;
use std::str::FromStr;

use checker::names::{self, Named};
use checker::{Check, Event, RunCheckOptions, RunResults};

use crate::{Spec, Workload, WorkloadOptions};

/// Declares [`WorkloadKind`] from `Variant => Type` lines, `Type` implementing [`Spec`].
macro_rules! workload_table {
    ($($variant:ident => $spec:ty),+ $(,)?) => {
        /// One of the workloads of DESIGN.md; see the module of each for what it does.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum WorkloadKind {
            $($variant),+
        }

        impl WorkloadKind {
            /// Every workload, in the table's order.
            pub const ALL: [WorkloadKind; [$(WorkloadKind::$variant),+].len()] =
                [$(WorkloadKind::$variant),+];

            /// The name on the command line and in the store (`"unique-ids"`, ...).
            pub fn name(self) -> &'static str {
                match self {
                    $(WorkloadKind::$variant => <$spec as Spec>::NAME),+
                }
            }

            /// One line saying what the workload is.
            pub fn about(self) -> &'static str {
                match self {
                    $(WorkloadKind::$variant => <$spec as Spec>::ABOUT),+
                }
            }

            /// What its checks decide, in words.
            pub fn semantics(self) -> &'static str {
                match self {
                    $(WorkloadKind::$variant => <$spec as Spec>::SEMANTICS),+
                }
            }

            /// How its histories are checked.
            pub fn check_plan(self) -> Check {
                match self {
                    $(WorkloadKind::$variant => <$spec as Spec>::CHECK),+
                }
            }

            /// A fresh generator of its ops.
            pub fn start(self, options: &WorkloadOptions) -> Box<dyn Workload> {
                match self {
                    $(WorkloadKind::$variant => Box::new(<$spec as Spec>::start(options))),+
                }
            }

            /// True when a history's client ops are this workload's.
            fn shows(self, events: &[Event]) -> bool {
                match self {
                    $(WorkloadKind::$variant => <$spec as Spec>::shows(events)),+
                }
            }
        }

        /// The name of every workload, in the table's order.
        pub const WORKLOADS: [&str; WorkloadKind::ALL.len()] = [$(<$spec as Spec>::NAME),+];
    };
}

workload_table! {
    Echo => crate::echo::Echo,
    UniqueIds => crate::unique_ids::UniqueIds,
    Broadcast => crate::broadcast::Broadcast,
    GSet => crate::g_set::GSet,
    GCounter => crate::g_counter::GCounter,
    PnCounter => crate::pn_counter::PnCounter,
    LinKv => crate::lin_kv::LinKv,
    LwwRegister => crate::lww_register::LwwRegister,
    Kafka => crate::kafka::Kafka,
    TxnListAppend => crate::txn::TxnListAppend,
    TxnRwRegister => crate::txn::TxnRwRegister,
    FailureDetector => crate::failure_detector::FailureDetector,
    TimeSync => crate::time_sync::TimeSync,
}

impl WorkloadKind {
    /// The workload whose ops a history shows (the first in the table's order), if any.
    pub fn detect(events: &[Event]) -> Option<WorkloadKind> {
        WorkloadKind::ALL.into_iter().find(|w| w.shows(events))
    }

    /// True when the harness bends the nodes' wall clocks as the workload starts
    /// ([`crate::Workload::initial_clock_offsets`]).
    pub fn bends_clocks(self) -> bool {
        matches!(self.check_plan(), Check::TimeSync)
    }

    /// True when `--ordering` applies: its reads list values in delivery order.
    pub fn orders(self) -> bool {
        matches!(self.check_plan(), Check::SetFull(ops) if ops.delivery_order)
    }

    /// Why `--ordering` is refused for the other workloads: `"--ordering applies to the
    /// broadcast workload only"`.
    pub fn ordering_applies() -> String {
        let names: Vec<&str> = WorkloadKind::ALL
            .into_iter()
            .filter(|w| w.orders())
            .map(WorkloadKind::name)
            .collect();
        format!(
            "--ordering applies to the {} workload{} only",
            names.join(", "),
            if names.len() == 1 { "" } else { "s" }
        )
    }

    /// Check a history of this workload: its checker, the op statistics and, when `opts` has
    /// them, the network statistics.
    pub fn check(self, history: &[Event], opts: &RunCheckOptions) -> RunResults {
        checker::run_checks(&self.check_plan(), history, opts)
    }
}

impl Named for WorkloadKind {
    const KIND: &'static str = "workload";
    const VALUES: &'static [WorkloadKind] = &WorkloadKind::ALL;

    fn name(self) -> &'static str {
        WorkloadKind::name(self)
    }

    fn help(self) -> &'static str {
        self.about()
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        names::display(*self, f)
    }
}

/// A workload name that is not one of [`WorkloadKind::ALL`]; its message lists the valid ones.
pub type UnknownWorkload = names::UnknownName;

impl FromStr for WorkloadKind {
    type Err = UnknownWorkload;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s)
    }
}

impl serde::Serialize for WorkloadKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        names::serialize(*self, s)
    }
}

impl<'de> serde::Deserialize<'de> for WorkloadKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        names::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_valid_ones() {
        for kind in WorkloadKind::ALL {
            assert_eq!(kind.to_string().parse::<WorkloadKind>(), Ok(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::Value::from(kind.name()));
        }
        let err = "gcounter".parse::<WorkloadKind>().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"gcounter\""), "{text}");
        for kind in WorkloadKind::ALL {
            assert!(text.contains(kind.name()), "{text}");
        }
    }
}
