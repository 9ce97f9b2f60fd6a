//! TI bq769x0 (BQ76920, BQ76930, BQ76940): 3–15-cell monitors with protection, coulomb
//! counter and balancing, on I2C.
//!
//! Sources: data sheet SLUSBK2I (rev. I, March 2022,
//! <https://www.ti.com/lit/ds/symlink/bq76940.pdf>), cited as "DS §…"; TI E2E answers where
//! the data sheet is silent (thread numbers in the items).
//!
//! | module | what |
//! |---|---|
//! | [`variant`] | [`Bq76920`], [`Bq76930`], [`Bq76940`] and the reduced-cell-count [`CellMap`] |
//! | [`register`] | the register map as typed fields |
//! | [`frame`] | I2C framing with and without the factory CRC option |
//! | [`convert`] | ADC gain/offset, cells, pack, TS (NTC / die), coulomb counter, OV/UV encoding |
//! | [`protection`] | [`Protection`]: OV/UV/OCD/SCD with delays, achieved values |
//! | [`Bq769x0`] | the driver, blocking and async, implementing [`CellMonitor`](crate::CellMonitor) |
//!
//! # Integrity
//!
//! * On CRC orderables every byte read is CRC-checked with the data sheet's coverage
//!   ([`frame`]); a failure is retried by re-sending the register address, then reported as
//!   [`Error::Integrity`](crate::Error::Integrity) naming device 0. Writes carry CRCs the chip
//!   checks (it NACKs a bad one). Plain orderables have no integrity code on the silicon; the
//!   driver still refuses an all-0xFF burst (idle bus) as `NoResponse`.
//! * Configuration and balancing writes are read back; [`Error::Verify`](crate::Error::Verify)
//!   names the register and the masked bits.
//! * A cell or pack code of 0 (the reset value before the first conversion) is
//!   [`Reading::NotConverted`](crate::monitor::Reading::NotConverted), never a voltage.
//!
//! # Bring-up
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # fn main() -> Result<(), bms_afe::Error<bms_afe::sim::SimError>> {
//! use bms_afe::bq769x0::{Bq769x0, Bq76940, CellMap, Protection};
//! use bms_afe::bq769x0::register::{OcdDelay, OvDelay, ScdDelay, UvDelay};
//! use bms_afe::io::Blocking;
//! use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
//! use bms_afe::sim::{Sim, VirtualChip, bq769x0::Bq769x0Sim};
//! use bms_afe::units::{MicroAmps, MicroVolts};
//!
//! let map = CellMap::for_cells::<Bq76940>(13)?; // VC9 and VC14 shorted
//! let sim = Sim::new(Bq769x0Sim::new::<Bq76940>(map, true, 0x08));
//! let mut bms = Bq769x0::<Bq76940, _>::new(Blocking::new(sim.i2c(), sim.delay()), map, 1_000)?;
//!
//! let info = bms.probe()?; // address, CRC option, factory gain/offset
//! assert!(info.crc);
//! let mut p = Protection::new(1_000);
//! p.overvoltage(MicroVolts(4_250_000), OvDelay::S2)
//!     .undervoltage(MicroVolts(2_800_000), UvDelay::S4)
//!     .short_circuit(MicroAmps::from_milliamps(120_000), ScdDelay::Us200)
//!     .overcurrent(MicroAmps::from_milliamps(40_000), OcdDelay::Ms320);
//! let achieved = bms.configure(&p)?;
//! assert!((achieved.overvoltage.0 - 4_250_000).abs() < 4_000);
//! bms.wake()?;
//! bms.set_fets(true, true)?;
//!
//! sim.with(|m| m.set_cell_voltage(0, 12, 3_912_000)); // the 13th real cell (VC15)
//! let mut cells = [Reading::NotConverted; 13];
//! bms.measure_cells(ConversionMode::Normal, &mut cells)?;
//! let top = cells[12].valid().unwrap();
//! assert!((top.0 - 3_912_000).abs() <= 380);
//! bms.set_balancing(&[0b1_0000_0000_0101])?; // cells 1, 3 and 13
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! # Mapping onto [`CellMonitor`](crate::CellMonitor)
//!
//! * A chain of one device; `cells_per_device` = the real cells of the [`CellMap`]; cell `i`
//!   is the `i`-th real cell from the bottom (shorted inputs are skipped).
//! * `wake` loads the calibration (once) and re-applies the configuration if the chip lost
//!   it; SHIP→NORMAL itself is the board's TS1 boot pulse.
//! * `start_cell_conversion` sends nothing (the chip converts every 250 ms) and returns
//!   [`CELL_WAIT`]; `read_cell_voltages` is ONE checked burst of all VC registers.
//! * Temperatures: TS1..TSn per [`TempSource`] (NTC β model or die), after
//!   [`TEMPERATURE_WAIT`]. Stack: BAT. Current: the coulomb counter ([`CcMode`]).
//! * Faults: SYS_STAT. OV/UV are flagged for the pack: the driver names the cells past the
//!   thresholds it configured, else every cell. OCD → `overcurrent`, SCD → `short_circuit`,
//!   DEVICE_XREADY → `internal`; `raw` is the SYS_STAT byte (OVRD_ALERT, the ALERT pin forced
//!   high from outside, is bit 4 there).
//! * Balancing: mask over real cells, adjacent inputs of one group refused before anything
//!   is sent.

pub mod convert;
mod driver;
pub mod frame;
pub mod protection;
pub mod register;
pub mod variant;

pub use convert::{AdcCalibration, Ntc};
pub use driver::{
    ADDRESSES, AlertReport, Bq769x0, CC_PERIOD, CC_POLL, CC_POLLS, CELL_WAIT, CcMode, ProbeInfo,
    TEMPERATURE_WAIT, TempSource,
};
pub use protection::{Achieved, Protection, ProtectionRegisters};
pub use register::{SysCtrl1, SysCtrl2, SysStat};
pub use variant::{Bq76920, Bq76930, Bq76940, CellMap, Variant, balancing_inputs};
