//! Counting the database round trips decisions cost.

/// Gates decided so far and the statements their units had run when they decided.
#[derive(Debug, Default)]
pub struct GateStatements {
    gates: std::sync::atomic::AtomicU64,
    statements: std::sync::atomic::AtomicU64,
}

impl GateStatements {
    pub(crate) fn record(&self, statements: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.gates.fetch_add(1, Relaxed);
        self.statements.fetch_add(statements, Relaxed);
    }

    /// (gates decided, statements run before them) so far.
    pub fn totals(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.gates.load(Relaxed), self.statements.load(Relaxed))
    }
}
