//! Randomness for the simulations: tenace's seeded SplitMix64 and a
//! Box-Muller normal sampler on top of it, so a seed fixes every run.

use tenace::SeededRng;
use tenace::rand_core::Rng;

/// A seed for one run, derived from the user's seed and the run's
/// coordinates (SplitMix64's finaliser, so nearby inputs give unrelated
/// seeds).
pub(crate) fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut z = seed
        .wrapping_add(a.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(b.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform float in `[0, 1)` with 53 random bits.
pub(crate) fn unit(rng: &mut SeededRng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Normal(mean, sd) by Box-Muller, keeping the second value of each pair.
#[derive(Debug, Clone)]
pub(crate) struct Normal {
    mean: f64,
    sd: f64,
    spare: Option<f64>,
}

impl Normal {
    pub(crate) const fn new(mean: f64, sd: f64) -> Self {
        Self {
            mean,
            sd,
            spare: None,
        }
    }

    pub(crate) fn sample(&mut self, rng: &mut SeededRng) -> f64 {
        let z = match self.spare.take() {
            Some(z) => z,
            None => {
                // u1 in (0, 1] so ln(u1) is finite.
                let u1 = 1.0 - unit(rng);
                let u2 = unit(rng);
                let r = (-2.0 * u1.ln()).sqrt();
                let (s, c) = (core::f64::consts::TAU * u2).sin_cos();
                self.spare = Some(r * s);
                r * c
            }
        };
        self.mean + self.sd * z
    }

    /// |Normal(mean, sd)| in whole nanoseconds (the study's network delay).
    pub(crate) fn delay_ns(&mut self, rng: &mut SeededRng) -> u64 {
        self.sample(rng).abs().round() as u64
    }
}
