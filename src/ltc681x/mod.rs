//! Placeholder: the ltc681x family driver lands here.
