//! Virtual ltc681x (placeholder until the family lands).
