//! Virtual adbms6830 (placeholder until the family lands).
