//! Scales for the charts: a data interval mapped onto pixels, linearly or logarithmically,
//! with round tick values and their labels.

/// A linear map of `[d0, d1]` onto `[r0, r1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Linear {
    /// An empty or reversed domain is widened to `[d0, d0 + 1]`.
    pub fn new((d0, d1): (f64, f64), (r0, r1): (f64, f64)) -> Linear {
        let d1 = if d1 > d0 { d1 } else { d0 + 1.0 };
        Linear { d0, d1, r0, r1 }
    }

    pub fn map(&self, v: f64) -> f64 {
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }

    /// Round values inside the domain, about `n` of them.
    pub fn ticks(&self, n: usize) -> Vec<f64> {
        let step = nice_step(self.d1 - self.d0, n);
        let first = (self.d0 / step).ceil() as i64;
        let last = (self.d1 / step + 1e-9).floor() as i64;
        (first..=last).map(|i| i as f64 * step).collect()
    }
}

/// A logarithmic map of `[d0, d1]` (both positive) onto `[r0, r1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Log {
    l0: f64,
    l1: f64,
    r0: f64,
    r1: f64,
}

impl Log {
    /// Non-positive bounds are raised to a small positive value; an empty domain is widened
    /// to one decade.
    pub fn new((d0, d1): (f64, f64), (r0, r1): (f64, f64)) -> Log {
        let l0 = d0.max(1e-9).log10();
        let l1 = d1.max(1e-9).log10();
        let l1 = if l1 > l0 { l1 } else { l0 + 1.0 };
        Log { l0, l1, r0, r1 }
    }

    /// Values at or below zero map to the bottom of the domain.
    pub fn map(&self, v: f64) -> f64 {
        let l = if v > 0.0 { v.log10() } else { self.l0 };
        self.r0 + (l - self.l0) / (self.l1 - self.l0) * (self.r1 - self.r0)
    }

    /// The powers of ten inside the domain, and their doubles and fives when the domain spans
    /// fewer than three decades.
    pub fn ticks(&self) -> Vec<f64> {
        let mults: &[f64] = if self.l1 - self.l0 < 3.0 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        let mut ticks = Vec::new();
        for e in (self.l0.floor() as i32)..=(self.l1.ceil() as i32) {
            for m in mults {
                let v = m * 10f64.powi(e);
                let l = v.log10();
                if l >= self.l0 - 1e-9 && l <= self.l1 + 1e-9 {
                    ticks.push(v);
                }
            }
        }
        ticks
    }
}

/// A y scale of either kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum YScale {
    Linear(Linear),
    Log(Log),
}

impl YScale {
    pub fn map(&self, v: f64) -> f64 {
        match self {
            YScale::Linear(s) => s.map(v),
            YScale::Log(s) => s.map(v),
        }
    }

    pub fn ticks(&self) -> Vec<f64> {
        match self {
            YScale::Linear(s) => s.ticks(5),
            YScale::Log(s) => s.ticks(),
        }
    }

    pub fn is_log(&self) -> bool {
        matches!(self, YScale::Log(_))
    }
}

/// A round step (1, 2 or 5 times a power of ten) that cuts `range` into about `n` parts.
pub fn nice_step(range: f64, n: usize) -> f64 {
    let range = if range > 0.0 && range.is_finite() {
        range
    } else {
        1.0
    };
    let raw = range / n.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let ratio = raw / power;
    let mult = if ratio <= 1.0 {
        1.0
    } else if ratio <= 2.0 {
        2.0
    } else if ratio <= 5.0 {
        5.0
    } else {
        10.0
    };
    mult * power
}

/// The smallest of 1, 2, 5 times a power of ten that is at least `v` (1 for `v <= 0`).
pub fn nice_ceil(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    for mult in [1.0, 2.0, 5.0, 10.0] {
        if mult * power >= v * (1.0 - 1e-12) {
            return mult * power;
        }
    }
    10.0 * power
}

/// A number with at most three decimals and no trailing zeros.
pub fn fmt_num(v: f64) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// Milliseconds for people: `0.05 ms`, `12 ms`, `1.5 s`.
pub fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{} s", fmt_num(ms / 1000.0))
    } else if ms >= 10.0 {
        format!("{} ms", fmt_num(ms.round()))
    } else {
        format!("{} ms", fmt_num(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_maps_ends_and_ticks_round_values() {
        let s = Linear::new((0.0, 10.0), (100.0, 200.0));
        assert_eq!(s.map(0.0), 100.0);
        assert_eq!(s.map(10.0), 200.0);
        assert_eq!(s.map(2.5), 125.0);
        assert_eq!(s.ticks(5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let y = Linear::new((0.0, 1.0), (300.0, 0.0));
        assert_eq!(
            y.map(1.0),
            0.0,
            "a range may run backwards (SVG y grows down)"
        );
        let ticks = Linear::new((0.3, 7.2), (0.0, 1.0)).ticks(4);
        assert_eq!(ticks, vec![2.0, 4.0, 6.0]);
        let empty = Linear::new((5.0, 5.0), (0.0, 10.0));
        assert_eq!(empty.map(5.0), 0.0);
        assert!(empty.map(6.0).is_finite());
    }

    #[test]
    fn log_maps_decades_evenly() {
        let s = Log::new((0.1, 1000.0), (0.0, 400.0));
        assert!((s.map(0.1) - 0.0).abs() < 1e-9);
        assert!((s.map(1.0) - 100.0).abs() < 1e-9);
        assert!((s.map(1000.0) - 400.0).abs() < 1e-9);
        assert_eq!(s.map(0.0), 0.0, "zero sits at the bottom");
        assert_eq!(s.ticks(), vec![0.1, 1.0, 10.0, 100.0, 1000.0]);
        let narrow = Log::new((1.0, 50.0), (0.0, 1.0));
        assert_eq!(narrow.ticks(), vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0]);
    }

    #[test]
    fn nice_numbers() {
        assert_eq!(nice_step(10.0, 5), 2.0);
        assert_eq!(nice_step(7.0, 5), 2.0);
        assert_eq!(nice_step(0.9, 4), 0.5);
        assert_eq!(nice_step(0.0, 5), 0.2);
        assert_eq!(nice_ceil(37.0), 50.0);
        assert_eq!(nice_ceil(100.0), 100.0);
        assert_eq!(nice_ceil(0.0), 1.0);
        assert_eq!(fmt_num(2.50), "2.5");
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(-0.0001), "0");
        assert_eq!(fmt_ms(0.05), "0.05 ms");
        assert_eq!(fmt_ms(12.4), "12 ms");
        assert_eq!(fmt_ms(1500.0), "1.5 s");
    }
}
