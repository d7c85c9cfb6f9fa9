//! Calibrated noise for published figures: the two-sided geometric mechanism (the discrete
//! Laplace distribution), drawn from a cryptographic RNG.
//!
//! Each figure of a day gets `X = G₁ − G₂`, `Gᵢ` geometric with `P(G = g) = (1 − α)·αᵍ`,
//! `α = e^(−1/b)`. For a count whose sensitivity is 1 (a resident adds at most 1 to it), scale
//! `b = 1/ε'` makes the figure `ε'`-differentially private. Integers in, integers out: no
//! floating-point figure whose low bits could betray the true count (Mironov 2012).

use rand_core::RngCore;
use serde::Serialize;

/// What a report says about its noise.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct NoiseSpec {
    /// The mechanism: `two-sided geometric (discrete Laplace)`.
    pub mechanism: String,
    /// The privacy budget of one resident-day: all the figures of one day together.
    pub epsilon: f64,
    /// How many figures of a day count one resident (the views: outcome, district, age band).
    pub views: u32,
    /// The most one resident changes one figure by (1: counted once per day).
    pub sensitivity: u32,
    /// The budget of each view: `epsilon / views`.
    pub epsilon_per_view: f64,
    /// The scale `b = sensitivity / epsilon_per_view` of each figure's noise.
    pub scale: f64,
    /// The standard deviation of each figure's noise: `√(2α)/(1 − α)`.
    pub std_dev: f64,
    /// The δ of thresholded release at k: the chance that a category of one resident clears k
    /// on its noise alone, `P(noise ≥ k − 1)` ([`NoiseSpec::with_threshold`]; 0 until set).
    #[serde(default)]
    pub delta: f64,
}

impl NoiseSpec {
    /// The noise of a release of `views` views, each of sensitivity 1, under budget `epsilon`.
    pub fn new(epsilon: f64, views: u32) -> NoiseSpec {
        let per_view = epsilon / f64::from(views.max(1));
        let scale = 1.0 / per_view;
        NoiseSpec {
            mechanism: "two-sided geometric (discrete Laplace)".into(),
            epsilon,
            views,
            sensitivity: 1,
            epsilon_per_view: per_view,
            scale,
            std_dev: variance(scale).sqrt(),
            delta: 0.0,
        }
    }

    /// The same, with the `delta` of publishing only figures of `k` or more.
    pub fn with_threshold(mut self, k: u64) -> NoiseSpec {
        self.delta = self.tail(k.saturating_sub(1));
        self
    }

    /// The probability that a figure's noise is at least `n` (how likely a cell of a single
    /// resident clears a threshold `n + 1` on its own: the `δ` of thresholded release).
    pub fn tail(&self, n: u64) -> f64 {
        let a = alpha(self.scale);
        let n = i32::try_from(n).unwrap_or(i32::MAX);
        a.powi(n) / (1.0 + a)
    }
}

/// `α = e^(−1/b)`.
pub fn alpha(scale: f64) -> f64 {
    (-1.0 / scale).exp()
}

/// The variance of the two-sided geometric noise of scale `b`: `2α/(1 − α)²`.
pub fn variance(scale: f64) -> f64 {
    let a = alpha(scale);
    2.0 * a / ((1.0 - a) * (1.0 - a))
}

/// The mean absolute value of that noise: `2α/(1 − α²)`.
pub fn mean_absolute(scale: f64) -> f64 {
    let a = alpha(scale);
    2.0 * a / (1.0 - a * a)
}

/// A uniform number in (0, 1], from 53 random bits.
fn unit(rng: &mut dyn RngCore) -> f64 {
    let bits = rng.next_u64() >> 11;
    (bits as f64 + 1.0) / (1u64 << 53) as f64
}

/// A geometric number of failures before a success of probability `1 − α`.
fn geometric(rng: &mut dyn RngCore, ln_alpha: f64) -> i64 {
    let g = (unit(rng).ln() / ln_alpha).floor();
    // ln(u) ≤ 0 and ln α < 0, so g ≥ 0; 2⁵³ draws could not reach the cap.
    if g.is_finite() {
        g.min(1e15) as i64
    } else {
        0
    }
}

/// One draw of two-sided geometric noise of scale `b` (`b ≤ 0` draws 0: no noise).
pub fn draw(rng: &mut dyn RngCore, scale: f64) -> i64 {
    if !(scale > 0.0 && scale.is_finite()) {
        return 0;
    }
    let ln_alpha = -1.0 / scale;
    geometric(rng, ln_alpha) - geometric(rng, ln_alpha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_states_the_budget_split_and_the_tail() {
        let spec = NoiseSpec::new(1.5, 3);
        assert!((spec.epsilon_per_view - 0.5).abs() < 1e-12);
        assert!((spec.scale - 2.0).abs() < 1e-12);
        assert!((spec.std_dev - variance(2.0).sqrt()).abs() < 1e-12);
        // P(X ≥ 0) = 1/(1 + α) ≥ ½, and the tail falls by α per step.
        assert!(spec.tail(0) > 0.5 && spec.tail(9) < spec.tail(8));
        let mut zero = rand_core::OsRng;
        assert_eq!(draw(&mut zero, 0.0), 0);
    }
}
