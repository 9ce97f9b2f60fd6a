//! Placeholder: the bq769x2 family driver lands here.
