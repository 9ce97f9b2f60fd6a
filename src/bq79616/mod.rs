//! TI BQ7961x-Q1 stack monitors (BQ79616-Q1, BQ79614-Q1, BQ79612-Q1; BQ79656-Q1 with the same
//! protocol) over UART, through the BQ79600-Q1 bridge or to a base device directly.
//!
//! A stack of `N` daisy-chained monitors, 6…16 active cells each, reached over a 1 Mbaud UART
//! ([`Serial`](crate::io::Serial)). Every frame in both directions carries a CRC-16/MODBUS
//! (see [`frame`]); every response frame of every device is checked, placed by the address in
//! its header, and a device whose frame fails or does not come fails alone (per-device
//! [`Reading`](crate::monitor::Reading)s and a [`ChainReport`](crate::monitor::ChainReport));
//! a read with a failed device is re-issued as a whole ([`Bq79616::set_retries`]). Every read is
//! bounded by a deadline: a silent device is a
//! [`FaultReason::NoResponse`](crate::error::FaultReason::NoResponse) naming it.
//!
//! | module | what |
//! |---|---|
//! | [`frame`] | command/response frames, CRC, DATA_SIZE rules, a resynchronising scanner |
//! | [`register`] | register addresses, typed fields, threshold and timer encoders |
//! | [`convert`] | result codes → µV / m°C / ratios |
//! | [`spi`] | the BQ79600 SPI host link with its SPI_RDY handshake ([`BridgeSpi`]) |
//! | [`Bq79616`] | the driver, blocking and async, implementing [`CellMonitor`](crate::CellMonitor) |
//!
//! # Host links
//!
//! | topology | bus | constructor |
//! |---|---|---|
//! | MCU UART → BQ79600 → N × BQ7961x | [`Serial`](crate::io::Serial) (`embedded_io` 0.6 UART + [`SerialLine`](crate::io::SerialLine) for the wake ping) | [`Bq79616::new_bridge`] |
//! | MCU SPI → BQ79600 → N × BQ7961x | [`BridgeSpi`] (`SpiDevice` + SPI_RDY `InputPin` / `Wait`) | [`Bq79616::new_bridge`] |
//! | MCU UART → base BQ7961x → N − 1 stack devices | [`Serial`](crate::io::Serial) | [`Bq79616::new_base`] |
//!
//! The bus goes into [`Blocking`](crate::io::Blocking) or [`Async`](crate::io::Async) with a
//! delay; every public method exists on both with the same name (blocking `fn`, async
//! `async fn`), generated from one async core as for the other families, and both implement
//! [`CellMonitor`](crate::CellMonitor) / [`AsyncCellMonitor`](crate::AsyncCellMonitor).
//!
//! # Bring-up
//!
//! [`Bq79616::bring_up`] (also `CellMonitor::wake`): wake pings, auto-addressing (DLL-sync
//! dummy writes of OTP_ECC_DATAIN1…8, CONTROL1\[ADDR_WR\], DIR0_ADDR 0…N, COMM_CTRL stack and
//! top-of-stack marking, dummy reads), read-back of every address (chain-length detection),
//! ACTIVE_CELL and the OV/UV comparators written and read back, faults cleared.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # fn main() -> Result<(), bms_afe::Error<bms_afe::sim::SimError>> {
//! use bms_afe::bq79616::{Bq79616, Bq79616Q1};
//! use bms_afe::io::Blocking;
//! use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
//! use bms_afe::sim::{Sim, VirtualChip, bq79616::Bq79616Stack};
//! use bms_afe::units::MicroVolts;
//!
//! let sim = Sim::new(Bq79616Stack::<2>::bridge(16));
//! sim.with(|s| s.set_cell_voltage(1, 3, 3_650_000));
//! let mut stack = Bq79616::<Bq79616Q1, 2, _>::new_bridge(Blocking::new(sim.serial(), sim.delay()));
//! stack.set_overvoltage(MicroVolts(4_200_000))?;
//! stack.set_undervoltage(MicroVolts(2_800_000))?;
//! stack.bring_up()?;
//! let mut cells = [Reading::NotConverted; 32];
//! let report = stack.measure_cells(ConversionMode::Normal, &mut cells)?;
//! assert!(report.is_ok());
//! let v = cells[16 + 3].valid().unwrap();
//! assert!((v.0 - 3_650_000).abs() <= 96);
//! # Ok(()) }
//! # #[cfg(not(feature = "sim"))] fn main() {}
//! ```
//!
//! # Ring recovery
//!
//! With the top device's COMH wired back to the bridge (ring), a broken cable between devices
//! k and k+1 leaves k+1…N reachable from the other end. [`Bq79616::recover_ring`] finds the
//! break, turns the far devices around (bridge CONTROL1\[DIR_SEL\], broadcast-reverse
//! CONTROL1 = DIR_SEL, DIR1_ADDR keeping their numbers) and from then on sends every command
//! to both groups, toggling the bridge's direction between them (two extra single writes per
//! operation).
//!
//! # What is not verified
//!
//! See [`convert`] (VCELL LSB 190.73 µV from TI sample code; die-temperature and bus-bar LSBs)
//! and [`driver::timing`] (response deadlines and conversion hints are the crate's, not data-
//! sheet figures). The daisy-chain behaviour of a silent or cut device (do the devices below
//! still answer a stack read?) is modelled by the virtual stack as "yes"; the driver places good
//! frames by their header address either way.

pub mod convert;
pub mod driver;
pub mod frame;
pub mod register;
pub mod spi;

pub use spi::BridgeSpi;

pub use driver::{
    BalanceConfig, Bq79612Q1, Bq79614Q1, Bq79616, Bq79616Q1, Bq79656Q1, FaultRegisters, RingStatus,
    Topology, Variant,
};
