//! TI bq769x2 (BQ76952, BQ76942; BQ769142 and BQ76922 with the same command set) over I2C.
//!
//! TODO module docs.

pub mod command;
pub mod data_memory;
mod driver;
pub mod frame;
pub mod status;

pub use data_memory::{Config, DaConfig, TempInputs, TempPin};
pub use driver::{
    Bq769x2, Bq76922, Bq76942, Bq76952, Bq769142, DEFAULT_ADDRESS, DeviceInfo, FetControl, Fets,
    SCAN_TIME, SecurityKeys, Variant, check_balancing, logical_to_inputs,
};
pub use status::{
    Alarm, BatteryStatus, ControlStatus, FetStatus, ManufacturingStatus, PermanentFail, Safety,
    SafetyA, SafetyB, SafetyC, Security,
};
