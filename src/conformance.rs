//! The `CellMonitor` conformance suite.
