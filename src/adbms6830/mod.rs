//! Placeholder: the adbms6830 family driver lands here.
