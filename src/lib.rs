#![doc = include_str!("../README.md")]
//!
//! # Crate layout
//!
//! | module | what |
//! |---|---|
//! | [`units`] | integer newtypes (µV, µA, m°C, µs) |
//! | [`crc`] | every integrity code as a pure function |
//! | [`error`] | [`Error<E>`], [`ErrorKind`], [`ConfigError`] |
//! | [`monitor`] | the [`CellMonitor`] / [`AsyncCellMonitor`] traits and shared result types |
//! | [`io`] | [`Blocking`](io::Blocking) / [`Async`](io::Async) bus wrappers: how one driver serves both |
//! | [`isospi`] | ADI daisy-chain framing shared by the ADI families |
//! | [`ltc681x`] | LTC6810, LTC6811, LTC6812, LTC6813, ADBMS1818 |
//! | [`adbms6830`] | ADBMS6830B, ADBMS6832, ADBMS6833 |
//! | [`bq769x2`] | BQ76952, BQ76942 (and relatives) over I2C |
//! | [`bq79616`] | BQ79616, BQ79614, BQ79612, BQ79656 stacks over UART (BQ79600 bridge or base device) |
//! | `sim` | virtual chips with fault injection (feature `sim`) |
//! | `conformance` | the `CellMonitor` conformance suite (feature `conformance`) |
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod crc;
pub mod error;
pub mod io;
pub mod isospi;
pub mod monitor;
pub mod units;

pub mod adbms6830;
pub mod bq769x2;
pub mod bq79616;
pub mod ltc681x;

#[cfg(feature = "sim")]
#[cfg_attr(docsrs, doc(cfg(feature = "sim")))]
pub mod sim;

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;

pub use error::{ConfigError, Error, ErrorKind};
pub use monitor::{AsyncCellMonitor, CellMonitor};
