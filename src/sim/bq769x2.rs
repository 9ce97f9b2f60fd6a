//! Virtual bq769x2 (placeholder until the family lands).
