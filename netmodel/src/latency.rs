//! Message delay: the *timing* part of the course's system models (2.3): in a partially
//! synchronous network a message takes a variable, usually short, time to arrive. Variable
//! delay is also what reorders messages between two nodes, so a FIFO or causal broadcast
//! algorithm has something to do.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// How a link's delay is drawn, given the mean `m` from `--latency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LatencyDist {
    /// Always `m`: messages on one link arrive in the order sent.
    #[default]
    Constant,
    /// Uniform in `[0, 2m]`: mean `m`.
    Uniform,
    /// Exponential with mean `m`: mostly short, with a long tail.
    Exponential,
}

impl LatencyDist {
    /// Every distribution.
    pub const ALL: [LatencyDist; 3] = [
        LatencyDist::Constant,
        LatencyDist::Uniform,
        LatencyDist::Exponential,
    ];

    /// The name `--latency-dist` takes.
    pub fn name(self) -> &'static str {
        match self {
            LatencyDist::Constant => "constant",
            LatencyDist::Uniform => "uniform",
            LatencyDist::Exponential => "exponential",
        }
    }
}

impl fmt::Display for LatencyDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--latency-dist` that is not one of [`LatencyDist::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown latency distribution {given:?}; valid: constant, uniform, exponential")]
pub struct UnknownLatencyDist {
    pub given: String,
}

impl FromStr for LatencyDist {
    type Err = UnknownLatencyDist;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LatencyDist::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| UnknownLatencyDist {
                given: s.to_owned(),
            })
    }
}

/// A distribution with its mean, ready to draw delays in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    dist: LatencyDist,
    mean_ns: f64,
}

impl Latency {
    /// `dist` with mean `mean`.
    pub fn new(dist: LatencyDist, mean: Duration) -> Self {
        Latency {
            dist,
            mean_ns: mean.as_nanos() as f64,
        }
    }

    /// The distribution.
    pub fn dist(&self) -> LatencyDist {
        self.dist
    }

    /// The mean, in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        self.mean_ns
    }

    /// One delay in nanoseconds. Draws nothing from `rng` when the delay is fixed (constant, or
    /// a mean of zero).
    pub fn draw(&self, rng: &mut ChaCha8Rng) -> u64 {
        if self.mean_ns <= 0.0 {
            return 0;
        }
        let ns = match self.dist {
            LatencyDist::Constant => self.mean_ns,
            LatencyDist::Uniform => rng.random::<f64>() * 2.0 * self.mean_ns,
            // Inverse transform: 1 - u is in (0, 1], so the logarithm is finite.
            LatencyDist::Exponential => -self.mean_ns * (1.0 - rng.random::<f64>()).ln(),
        };
        // Saturating: an absurd tail draw becomes u64::MAX ns rather than wrapping.
        ns.round() as u64
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn stats(dist: LatencyDist, mean_ms: u64, n: usize) -> (f64, u64, u64, f64) {
        let latency = Latency::new(dist, Duration::from_millis(mean_ms));
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let draws: Vec<u64> = (0..n).map(|_| latency.draw(&mut rng)).collect();
        let mean = draws.iter().map(|&d| d as f64).sum::<f64>() / n as f64;
        let var = draws
            .iter()
            .map(|&d| (d as f64 - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        let min = *draws.iter().min().unwrap();
        let max = *draws.iter().max().unwrap();
        (mean, min, max, var.sqrt())
    }

    #[test]
    fn constant_is_exactly_the_mean() {
        let (mean, min, max, _) = stats(LatencyDist::Constant, 100, 1000);
        assert_eq!((min, max), (100_000_000, 100_000_000));
        assert_eq!(mean, 1e8);
    }

    #[test]
    fn uniform_spans_zero_to_twice_the_mean() {
        let (mean, min, max, sd) = stats(LatencyDist::Uniform, 100, 200_000);
        assert!((mean / 1e8 - 1.0).abs() < 0.01, "mean {mean}");
        assert!(max <= 200_000_000 && max > 199_000_000, "max {max}");
        assert!(min < 1_000_000, "min {min}");
        // The standard deviation of U[0, 2m] is 2m / sqrt(12).
        assert!((sd / (2e8 / 12f64.sqrt()) - 1.0).abs() < 0.01, "sd {sd}");
    }

    #[test]
    fn exponential_has_the_mean_as_its_standard_deviation() {
        let (mean, min, max, sd) = stats(LatencyDist::Exponential, 100, 200_000);
        assert!((mean / 1e8 - 1.0).abs() < 0.01, "mean {mean}");
        assert!((sd / 1e8 - 1.0).abs() < 0.02, "sd {sd}");
        assert!(min < 100_000, "min {min}");
        // P(X > 8m) = e^-8: about 67 of 200 000 draws.
        assert!(max > 800_000_000, "max {max}");
    }

    #[test]
    fn zero_mean_is_zero_and_draws_nothing() {
        for dist in LatencyDist::ALL {
            let latency = Latency::new(dist, Duration::ZERO);
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            assert_eq!(latency.draw(&mut rng), 0);
            assert_eq!(
                rng.random::<u64>(),
                ChaCha8Rng::seed_from_u64(1).random::<u64>()
            );
        }
    }

    #[test]
    fn names_parse_and_unknown_names_list_the_valid_ones() {
        for dist in LatencyDist::ALL {
            assert_eq!(dist.to_string().parse::<LatencyDist>(), Ok(dist));
        }
        let err = "normal".parse::<LatencyDist>().unwrap_err().to_string();
        assert!(
            err.contains("\"normal\"") && err.contains("exponential"),
            "{err}"
        );
    }
}
