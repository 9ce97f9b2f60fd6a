//! Infineon TLE9012DQU (12-cell monitor) on an isoUART chain through the TLE9015DQU
//! transceiver.
//!
//! Public documents: TLE9012DQU data sheet, TLE9015DQU data sheet and the TLE9012DQU/TLE9015DQU
//! user manual (Z8F80064984 Rev 1.0) on infineon.com; three independent open implementations
//! agree on the protocol facts used here: MaxMax-embedded/TLE9012_Arduino_Lib (MIT),
//! maekdev/pyTLE9012DQU (MIT) and guilettmann/bms_tle9012 (which states its frames and CRCs
//! were checked against the user manual's example tables 7–20). Each item cites its source.
//!
//! * [`frame`]: sans-IO requests and replies, CRC-8 (SAE-J1850) on requests and read
//!   replies, CRC-3 on write replies, wire bit order.
//! * [`register`]: the register map and field sets.
//! * [`convert`]: codes to µV / m°C and back.
//! * [`Tle9012`]: the driver, blocking and async over [`crate::io::Serial`].
//!
//! See [`Tle9012`] for the chain model (enumeration, watchdog, echo) and for what could not
//! be verified from public sources and how the driver behaves there.

pub mod convert;
mod driver;
pub mod frame;
pub mod register;

pub use driver::{
    BLOCK_CONVERSION_US, CELL_CONVERSION_US, ChainHealth, Config, POLL_STEP_US, POLL_STEPS,
    Thresholds, Tle9012, WAKE_PATTERN, WAKE_US,
};
pub use frame::WireOrder;
