//! The progress bar on stderr (only when stderr is a terminal): elapsed / limit, ops ok / fail
//! / info, messages sent, and the faults that are on.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::results::OpCounts;

/// A progress bar, or nothing when stderr is not a terminal or it was turned off.
pub struct Progress {
    bar: Option<ProgressBar>,
    started_at: Option<Duration>,
}

impl Progress {
    pub fn new(enabled: bool, limit: Duration) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(limit.as_millis() as u64),
                ProgressDrawTarget::stderr_with_hz(5),
            );
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_message("starting nodes");
            bar
        });
        Progress {
            bar,
            started_at: None,
        }
    }

    /// The workload starts now.
    pub fn begin(&mut self, _limit: Duration) {
        self.started_at = Some(Duration::ZERO);
    }

    /// Redraw with the figures as of `now` (time since the run started).
    pub fn update(&mut self, now: Duration, counts: &OpCounts, messages: u64, faults: &[String]) {
        let Some(bar) = &self.bar else { return };
        let limit = Duration::from_millis(bar.length().unwrap_or(0));
        let elapsed = match self.started_at {
            Some(start) if start.is_zero() => {
                self.started_at = Some(now);
                Duration::ZERO
            }
            Some(start) => now.saturating_sub(start),
            None => Duration::ZERO,
        };
        bar.set_position(elapsed.min(limit).as_millis() as u64);
        let faults = if faults.is_empty() {
            "none".to_owned()
        } else {
            faults.join("; ")
        };
        bar.set_message(format!(
            "{:.1}/{:.0} s  ops {} ok {} fail {} info  {} msgs  faults: {}",
            elapsed.as_secs_f64(),
            limit.as_secs_f64(),
            counts.ok,
            counts.fail,
            counts.info,
            messages,
            faults
        ));
    }

    /// Remove the bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
