//! Cycle-count benchmarks (placeholder until the bench suite lands).
fn main() {}
