//! The operator's ceilings on what one step may use.
//!
//! Every user-controlled evaluation has a bound here. A step may ask for less (a shorter
//! `timeout_ms`, a smaller `memory_limit_mb`…) but never for more: saving a workflow that
//! asks for more is refused with a message naming the ceiling and its variable, and the
//! executors clamp again at run time, in case an operator lowered a ceiling after a
//! workflow was saved.

use std::time::Duration;

/// Ceilings for step execution, set by the operator (`AURA_*` variables).
#[derive(Debug, Clone, PartialEq)]
pub struct StepLimits {
    /// Longest a step may run (`AURA_MAX_STEP_TIMEOUT_SECS`); also the timeout of steps
    /// that set none, except scripts, which default to [`StepLimits::script_time`].
    pub max_timeout: Duration,
    /// Wall time of a script step that sets no timeout.
    pub script_time: Duration,
    /// Memory a script may use, and the default (`AURA_SCRIPT_MEMORY_MB`).
    pub script_memory_mb: u32,
    /// Largest `http` response body (`AURA_HTTP_MAX_RESPONSE_KB`).
    pub http_max_response_bytes: u64,
    /// Most items one `map` step may fan out over (`AURA_MAP_MAX_ITEMS`).
    pub map_max_items: usize,
    /// Instructions one template or expression may execute (`AURA_TEMPLATE_FUEL`).
    pub template_fuel: u64,
    /// Writable memory of each template evaluator process (`AURA_TEMPLATE_MEMORY_MB`).
    pub template_memory_mb: u32,
    /// Largest output of one step: rendered text, a script's result, the sum of a map's
    /// item outputs (`AURA_STEP_OUTPUT_MAX_KB`).
    pub max_output_bytes: usize,
}

impl Default for StepLimits {
    fn default() -> Self {
        Self {
            max_timeout: Duration::from_secs(300),
            script_time: Duration::from_secs(10),
            script_memory_mb: 64,
            http_max_response_bytes: 10 * 1024 * 1024,
            map_max_items: 10_000,
            template_fuel: 2_000_000,
            template_memory_mb: 256,
            max_output_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The variable that sets each ceiling, for messages.
pub mod vars {
    pub const TIMEOUT: &str = "AURA_MAX_STEP_TIMEOUT_SECS";
    pub const SCRIPT_MEMORY: &str = "AURA_SCRIPT_MEMORY_MB";
    pub const HTTP_RESPONSE: &str = "AURA_HTTP_MAX_RESPONSE_KB";
    pub const MAP_ITEMS: &str = "AURA_MAP_MAX_ITEMS";
    pub const TEMPLATE_FUEL: &str = "AURA_TEMPLATE_FUEL";
    pub const TEMPLATE_MEMORY: &str = "AURA_TEMPLATE_MEMORY_MB";
    pub const OUTPUT: &str = "AURA_STEP_OUTPUT_MAX_KB";
}

impl StepLimits {
    /// The timeout a step runs under: its own, clamped to the ceiling, or the default.
    pub fn timeout_for(&self, requested_ms: Option<u64>, script: bool) -> Duration {
        match requested_ms {
            Some(ms) => Duration::from_millis(ms).min(self.max_timeout),
            None if script => self.script_time.min(self.max_timeout),
            None => self.max_timeout,
        }
    }

    /// Template fuel for a step that may ask for less.
    pub fn fuel_for(&self, requested: Option<u64>) -> u64 {
        requested.map_or(self.template_fuel, |f| f.min(self.template_fuel))
    }
}
