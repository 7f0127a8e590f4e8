//! A shared, adjustable clock so scenarios can expire tokens without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time plus an offset that a test can move forward.
///
/// Every mock of one world shares one `Clock`: advancing it makes tokens the SSO
/// issued earlier look expired to the registry, without waiting.
///
/// ```
/// use regharness_mocks::Clock;
/// let clock = Clock::new();
/// let before = clock.now_unix();
/// clock.advance(301);
/// assert!(clock.now_unix() >= before + 301);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    /// A clock that follows the system time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Seconds since the Unix epoch, including the offset.
    pub fn now_unix(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        wall + self.offset_secs.load(Ordering::SeqCst)
    }

    /// Moves the clock forward by `secs` seconds (negative moves it back).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::SeqCst);
    }

    /// The current offset from the system time, in seconds.
    pub fn offset(&self) -> i64 {
        self.offset_secs.load(Ordering::SeqCst)
    }
}
