//! TI bq769x2 (BQ76952, BQ76942; BQ769142 and BQ76922 with the same command set) over I2C.
//!
//! One chip on I2C, 3–16 cells, with its own current measurement, protections and FET
//! drivers. The host talks to it with **direct commands** (7-bit registers: cell voltages,
//! status), **subcommands** (16-bit codes through 0x3E/0x3F and the 0x40 transfer buffer with
//! a checksum and length) and **data memory** (settings, written in CONFIG_UPDATE mode).
//!
//! | module | what |
//! |---|---|
//! | [`frame`] | pure I2C framing (plain / CRC mode) and the transfer-buffer checksum |
//! | [`command`] | direct-command addresses and subcommand codes |
//! | [`status`] | typed status registers (Battery, Control, Safety, PF, Alarm, FET, Manufacturing) |
//! | [`data_memory`] | the typed settings table ([`Config`]) with units and ranges |
//! | [`Bq769x2`] | the driver, blocking and async, implementing [`CellMonitor`](crate::CellMonitor) |
//!
//! # Sources
//!
//! Public documents, cited in this module by their TI literature numbers:
//!
//! | short name | document |
//! |---|---|
//! | SLUUBY2B | BQ76952 Technical Reference Manual, Rev. B: <https://www.ti.com/lit/pdf/sluuby2> |
//! | SLUUBY1B | BQ76942 Technical Reference Manual, Rev. B: <https://www.ti.com/lit/pdf/sluuby1> |
//! | SLUAA11B | BQ769x2 Software Development Guide, Rev. B: <https://www.ti.com/lit/pdf/sluaa11> |
//! | SLUSE13B | BQ76952 data sheet, Rev. B: <https://www.ti.com/lit/ds/symlink/bq76952.pdf> |
//! | SLUUCJ0 | BQ76907 Technical Reference Manual (the related BQ7690x; transfer-buffer behaviour): <https://www.ti.com/lit/pdf/sluucj0> |
//! | TI example code | TI's BQ769x2 example code (I2C with CRC-8, subcommand checksum) as ported in public repositories; LibreSolar bms-firmware `drivers/bms_ic/bq769x2`: <https://github.com/LibreSolar/bms-firmware> |
//!
//! # Integrity
//!
//! * **CRC mode** (recommended, [`Bq769x2::new_crc`]): every byte read is CRC-8 checked with
//!   the exact coverage of the data sheet (see [`frame`]); a failure is retried by re-sending
//!   the register address (a fresh repeated-start read), then reported as
//!   [`Error::Integrity`](crate::Error::Integrity) with [`FaultReason::Crc`](crate::error::FaultReason::Crc).
//!   In **plain mode** direct-command reads (cell voltages included) carry no integrity code
//!   on the silicon: the driver cannot detect a corrupted byte there.
//! * Every subcommand and data-memory response is checked against its checksum and length
//!   in both modes ([`FaultReason::Checksum`](crate::error::FaultReason::Checksum)), after a
//!   bounded poll of the 0x3E/0x3F echo. The data (one burst from 0x40) is read **before**
//!   checksum and length (0x60/0x61): on the BQ7690x a read of 0x61 advances 0x3E/0x3F by
//!   0x20 and refills the buffer (SLUUCJ0 §3.1), and the bq769x2 may do the same.
//! * Data-memory writes are batched inside **one** CONFIG_UPDATE session whose entry and exit
//!   are confirmed by polling Battery Status CFGUPDATE (bounded, [`Error::Timeout`](crate::Error::Timeout)),
//!   and every entry is read back ([`Error::Verify`](crate::Error::Verify) names the setting).
//!
//! # Bring-up sequence
//!
//! Probe, unseal, configure, enable FETs, measure, balance — here against the virtual BQ76952
//! (feature `sim`); on a board, pass your HAL's I2C and delay instead (see the
//! `bq76952_bringup` example for a Raspberry Pi).
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # fn main() -> Result<(), bms_afe::Error<bms_afe::sim::SimError>> {
//! use bms_afe::bq769x2::{
//!     Bq769x2, Bq76952, Config, Fets, SafetyA, SecurityKeys, Security, SettingsSource,
//! };
//! use bms_afe::bq769x2::data_memory::{DaConfig, PinFunction, TempPin, UserAmps, UserVolts};
//! use bms_afe::io::Blocking;
//! use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
//! use bms_afe::sim::{Sim, bq769x2::Bq76952Sim};
//! use bms_afe::units::MicroVolts;
//!
//! let sim = Sim::new(Bq76952Sim::new_crc());
//! let mut bms = Bq769x2::<Bq76952, _>::new_crc(Blocking::new(sim.i2c(), sim.delay()));
//!
//! // 1. Probe: DEVICE_NUMBER (checksum verified) and the security state. Sealed, the units
//! //    and cell map cannot be read from data memory: they are reported as assumed.
//! let info = bms.probe()?;
//! assert_eq!(info.device_number, 0x7695);
//! assert_eq!(info.settings, SettingsSource::Assumed);
//!
//! // 2. Unseal, then full access (needed for CONFIG_UPDATE). Keys never appear in logs.
//! bms.unseal(SecurityKeys::new(0x0414, 0x3672))?;
//! bms.full_access(SecurityKeys::new(0xFFFF, 0xFFFF))?;
//! assert_eq!(bms.security()?, Security::FullAccess);
//!
//! // 3. Configure: one batch, one CONFIG_UPDATE session, every entry read back.
//! let mut cfg = Config::new();
//! cfg.vcell_mode_reduced(4, 16)?; // a 4S pack: inputs 1, 2, 3 and 16
//! cfg.cov_threshold_mv(4200)?;
//! cfg.cuv_threshold_mv(2800)?;
//! cfg.enabled_protections_a(SafetyA::SCD | SafetyA::COV | SafetyA::CUV)?;
//! cfg.da_configuration(DaConfig::new(UserAmps::Milliamp, UserVolts::Millivolt))?;
//! cfg.pin_function(TempPin::Ts1, PinFunction::CellThermistor)?;
//! bms.configure(&cfg)?;
//!
//! // 4. FETs: autonomous control on, then allow charge and discharge.
//! bms.enable_autonomous_fets()?;
//! bms.set_fets(Fets::CHG | Fets::DSG)?;
//!
//! // 5. Measure (CellMonitor, a chain of one device).
//! let mut cells = [Reading::NotConverted; 4];
//! let report = bms.measure_cells(ConversionMode::Normal, &mut cells)?;
//! assert!(report.is_ok());
//! assert_eq!(cells[0], Reading::Valid(MicroVolts(3_700_000)));
//!
//! // 6. Balance cells 1 and 3 (adjacent cells are refused before anything is sent).
//! bms.set_balancing(&[0b0101])?;
//! assert!(bms.set_balancing(&[0b0011]).is_err());
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! # Mapping onto [`CellMonitor`](crate::CellMonitor)
//!
//! * A chain of one device; `cells_per_device` = the cells set in Vcell Mode (all inputs if
//!   0), reported bottom first, skipping unused inputs (reduced cell-count mapping). The
//!   driver learns Vcell Mode and the DA Configuration units from the chip in `probe` when
//!   it is unsealed (else it reports them as [`SettingsSource::Assumed`]), from a written
//!   [`Config`], or from `set_vcell_mode` / `set_da_config`.
//! * `start_cell_conversion` sends nothing: the chip converts on its own in a continuous
//!   measurement loop. It returns [`SCAN_TIME`], a conservative wait for a fresh scan.
//! * `read_cell_voltages`: ONE burst read of all cell registers from 0x14.
//! * Temperatures: the die temperature first, then every pin configured as a thermistor
//!   (via [`Config::pin_function`] or [`Bq769x2::set_temperature_inputs`]), 0.1 K → m°C.
//! * Stack voltage: Stack Voltage (0x34); current: CC2 (0x3A); both converted with the DA
//!   Configuration units.
//! * The bq769x2 has no documented "not converted" result code: after the integrity checks
//!   results are [`Reading::Valid`](crate::monitor::Reading::Valid) or `Failed`.
//! * Faults: Safety Status A/B/C. The chip flags COV/CUV for the pack, not per cell: the
//!   driver names the cells beyond the threshold it configured, else every cell.
//! * Balancing: the mask is over connected cells; adjacent cells and more cells than Cell
//!   Balance Max Cells (if configured) are refused; the mask is written to CB_ACTIVE_CELLS and
//!   read back. An all-zero mask first reads CB_ACTIVE_CELLS and writes nothing when no cell
//!   is balancing.
//!
//! ## What each trait method needs from the chip's security state
//!
//! | method | SEALED | needs |
//! |---|---|---|
//! | counts, `wake`, `start_cell_conversion` | works | nothing (no subcommand) |
//! | `read_cell_voltages`, `measure_cells`, `measure_temperatures`, `measure_stack_voltages`, `read_current`, `read_faults` | works | nothing: direct commands, readable in every state |
//! | `set_balancing` | works | nothing, unless Balancing Configuration CB_NO_CMD = 1 (the chip then ignores the write and the read-back fails with [`Error::Verify`](crate::Error::Verify) naming CB_ACTIVE_CELLS). TI: host-controlled balancing subcommands "are also accessible in SEALED mode, to avoid the need for the pack to be unsealed in operation" (SLUAA81A rev. A, "Host-Controlled Balancing", <https://ti.com/document-viewer/lit/html/SLUAA81A>) |
//!
//! Sealed, the driver uses the units and cell map it assumes or was told ([`SettingsSource`]):
//! `probe` cannot read them from data memory. Inherent methods that need more say so with
//! [`Error::NeedsAccess`](crate::Error::NeedsAccess) naming the operation, the state read from
//! Battery Status and the state needed, before anything is written: `enable_autonomous_fets`
//! (FET_ENABLE) and `reset` (RESET) need UNSEALED (SLUUBY2B rev. B, command-only subcommand
//! table, "Sealed: —"), `configure` (CONFIG_UPDATE) needs FULLACCESS, `full_access` needs
//! UNSEALED first (SEALED → UNSEALED → FULLACCESS); a data-memory or subcommand read that the
//! chip answers short while SEALED is reported the same way.
//!
//! # Pitfalls handled
//!
//! * CONFIG_UPDATE entry/exit is confirmed by polling CFGUPDATE (fixed waits were not enough
//!   for LibreSolar, PR #56), bounded, and always exited after an error.
//! * All settings go in one session (switching balancing mode or any setting drops the
//!   protections while in CONFIG_UPDATE; LibreSolar PR #57).
//! * FET_CONTROL and FET Status differ in layout (LibreSolar PR #95): the driver keeps the
//!   intended FET set ([`Fets`]) and builds FET_CONTROL from it, never from FET Status.
//! * A retry after a CRC failure re-sends the register address (LibreSolar #53).
//! * The checksum covers the two address bytes and the data and is computed in one pass
//!   (no early restart, unlike a published port), length = data + 4 written last
//!   (BQ76952Lib #1).
//! * Subcommand data is read before 0x60/0x61 (a 0x61 read may advance the buffer, as on the
//!   BQ7690x), in one burst of up to 32 bytes.
//! * Protection delays use the TRM encodings: COV/CUV/OCC/OCD `(code + 2) × 3.3 ms`, SCD
//!   `(code − 1) × 15 µs` (SLUUBY2B §5.2.4, §5.2.7; SLUUBY1B data memory); code 0, which
//!   disables a protection, is never written by a delay setter.
//! * A [`Config`] setter never drops a setting silently: a full batch is an error, and a
//!   batch that refused a setting is refused by `configure`.
//! * FET_ENABLE toggles: it is only sent after reading FET_EN = 0, and the result is confirmed.
//! * DEEPSLEEP and SHUTDOWN are sent twice, as TI's example code requires.
//! * `cell 0` and cells past the variant's inputs are refused ([`ConfigError::NoSuchCell`](crate::ConfigError)),
//!   never an index underflow; all 16 cells are read in one burst, not 16 transactions.
//! * userV = 1 mV is refused for stacks above 7 cells (the 16-bit result would overflow at
//!   32.767 V).
//!
//! # Variants
//!
//! [`Bq76952`] (16 inputs) and [`Bq76942`] (10 inputs, DEVICE_NUMBER 0x7694 per SLUAA11B)
//! are the parts the crate's notes cover. [`Bq769142`] (14) and [`Bq76922`] (5) share the
//! command set and data-memory map as far as the crate's authors know; their DEVICE_NUMBERs
//! are unknown, so `probe` reports whatever it reads. The BQ76952's 0x7695 follows TI's
//! numbering but was not found in a TI document: a different number is reported in
//! [`DeviceInfo::matches_variant`], not refused. BQ7690x (BQ76905/07) is a different map
//! and is not covered.

pub mod bq7690x;
pub mod command;
pub mod data_memory;
mod driver;
pub mod frame;
pub mod status;

pub use data_memory::{Config, DaConfig, TempInputs, TempPin};
pub use driver::{
    Bq769x2, Bq76922, Bq76942, Bq76952, Bq769142, DEFAULT_ADDRESS, DeviceInfo, FetControl, Fets,
    SCAN_TIME, SecurityKeys, SettingsSource, Variant, check_balancing, logical_to_inputs,
};
pub use status::{
    Alarm, BatteryStatus, ControlStatus, FetStatus, ManufacturingStatus, PermanentFail, Safety,
    SafetyA, SafetyB, SafetyC, Security,
};
