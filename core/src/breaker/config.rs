//! What a [`CircuitBreaker`](super::CircuitBreaker) is set up with, and
//! which settings it accepts.

use core::time::Duration;

use crate::error::{ConfigError, ConfigProblem};
use crate::strategy::check_duration;

/// The longest window a [`CircuitBreaker`](super::CircuitBreaker) keeps, in calls.
pub const MAX_WINDOW: u32 = 128;

/// Settings of a [`CircuitBreaker`](super::CircuitBreaker), built with `const fn` setters.
///
/// Defaults: a window of 20 calls, at least 10 of them recorded, 50 %
/// failures to open, a break of 5 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BreakerConfig {
    window: u32,
    min_calls: u32,
    failure_percent: u32,
    break_duration: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl BreakerConfig {
    /// The defaults (see the type's docs).
    pub const fn new() -> Self {
        Self {
            window: 20,
            min_calls: 10,
            failure_percent: 50,
            break_duration: Duration::from_secs(5),
        }
    }

    /// How many recent calls are judged, 1 to [`MAX_WINDOW`].
    #[must_use]
    pub const fn with_window(mut self, calls: u32) -> Self {
        self.window = calls;
        self
    }

    /// How many calls the window must hold before it can open the
    /// circuit, 1 to `window`.
    #[must_use]
    pub const fn with_min_calls(mut self, calls: u32) -> Self {
        self.min_calls = calls;
        self
    }

    /// The share of failures in the window, in percent (1 to 100), at or
    /// above which the circuit opens.
    #[must_use]
    pub const fn with_failure_percent(mut self, percent: u32) -> Self {
        self.failure_percent = percent;
        self
    }

    /// How long the circuit stays open before a probe is let through; also
    /// how long a probe may stay silent before another is let through.
    #[must_use]
    pub const fn with_break_duration(mut self, duration: Duration) -> Self {
        self.break_duration = duration;
        self
    }

    /// The window, in calls.
    pub const fn window(&self) -> u32 {
        self.window
    }

    /// The minimum number of calls in the window before it can open.
    pub const fn min_calls(&self) -> u32 {
        self.min_calls
    }

    /// The failure share that opens the circuit, in percent.
    pub const fn failure_percent(&self) -> u32 {
        self.failure_percent
    }

    /// The break: how long the circuit stays open.
    pub const fn break_duration(&self) -> Duration {
        self.break_duration
    }

    /// Checks every setting: the errors [`CircuitBreaker::new`](super::CircuitBreaker::new) returns.
    pub const fn validate(self) -> Result<Self, ConfigError> {
        if self.window == 0 {
            return Err(ConfigError::new("window", ConfigProblem::Zero));
        }
        if self.window > MAX_WINDOW {
            return Err(ConfigError::new("window", ConfigProblem::TooLarge));
        }
        if self.min_calls == 0 {
            return Err(ConfigError::new("min_calls", ConfigProblem::Zero));
        }
        if self.min_calls > self.window {
            return Err(ConfigError::new("min_calls", ConfigProblem::TooLarge));
        }
        if self.failure_percent == 0 {
            return Err(ConfigError::new("failure_percent", ConfigProblem::Zero));
        }
        if self.failure_percent > 100 {
            return Err(ConfigError::new("failure_percent", ConfigProblem::TooLarge));
        }
        if self.break_duration.is_zero() {
            return Err(ConfigError::new("break_duration", ConfigProblem::Zero));
        }
        if let Err(e) = check_duration("break_duration", self.break_duration) {
            return Err(e);
        }
        Ok(self)
    }
}
