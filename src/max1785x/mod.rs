//! ADI/Maxim MAX17852 and MAX17853 battery monitors on a battery-management UART daisy chain
//! behind the MAX17841B SPI bridge.
//!
//! TODO docs
pub mod bridge;
pub mod convert;
mod driver;
pub mod message;
pub mod register;
pub mod variant;

pub use driver::{
    MESSAGE_POLL_US, Max1785x, READALL_HD3_MAX_DEVICES, ReadMode, SCAN_POLL_US, Thermistors,
    WAKE_POLL_US, oversampling_of, scan_wait,
};
pub use variant::{Max17852, Max17853, Variant};
