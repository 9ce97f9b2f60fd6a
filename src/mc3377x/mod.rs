//! NXP battery cell controllers MC33771C (7–14 cells) and MC33772C (3–6 cells), over direct
//! SPI to one device or over the TPL daisy chain through an MC33664 transceiver; the B silicon
//! (MC33771B/MC33772B) at the frame level.
//!
//! Sources: the NXP BCC SW driver v2.2 for MC33771C/MC33772C (BSD-3-Clause, in
//! github.com/NXPHoverGames/MR-BMS771 at `src/BCC/Derivatives/mc3377xC/` and
//! `inc/BCC/Derivatives/mc3377xC/`), the NXP BCC driver for MC3377xB (github.com/NXPHoverGames/
//! RDDRONE-BMS772, `src/BCC/`), NXP's description of the driver
//! (nxp.com/assets/block-diagram/en/EMBEDDED-SW-MC33771C.pdf), and the MC33771B data sheet's CRC
//! example as discussed in community.nxp.com thread 1801911. No vendor code is used.
//!
//! * [`variant`] — the parts as types and the sparse [`CellMap`].
//! * [`frame`] — C (48-bit) and B (40-bit) frames: build, CRC, parse, message counter, rolling
//!   counter and tag.
//! * [`register`] — addresses and typed field sets, threshold quantisation.
//! * [`convert`] — codes to µV, µA, m°C.
//! * [`transport`] — the [`TplLink`] / [`AsyncTplLink`] traits for the MC33664.
//! * [`Mc3377x`] — the driver, blocking and async, implementing
//!   [`CellMonitor`](crate::CellMonitor) / [`AsyncCellMonitor`](crate::AsyncCellMonitor).
//!
//! # Integrity
//!
//! * Every response frame is CRC-checked ([`crc8_nxp_bcc`](crate::crc::crc8_nxp_bcc); all
//!   errors of up to 3 bits in a 48-bit frame are detected, tested exhaustively) and its 4-bit
//!   message counter must be the previous one + 1. On TPL the MC33664's echo of each request
//!   must equal the request. A CRC, echo or missing-frame failure re-issues the whole command
//!   (register read or write) up to [`Mc3377x::retries`] times; a **counter** failure (a frame
//!   lost or repeated) fails every value of that device in that operation, and its later reads
//!   stay failed until the next conversion start.
//! * Results are per device ([`Reading`](crate::monitor::Reading) /
//!   [`ChainReport`](crate::monitor::ChainReport)); a bad device never hides the others.
//! * A MEAS_* register with DATA_RDY (bit 15) clear is
//!   [`Reading::NotConverted`](crate::monitor::Reading), never a voltage.
//! * A frame of all 0x00 or all 0xFF is `NoResponse`; on TPL a device that sends fewer frames
//!   than asked is `NoResponse` after the bound of [`tpl_timeout_us`] — never a hang.
//!
//! # Transports
//!
//! * **SPI** ([`Spi`], `N = 1`): each frame is one chip-select transfer, and the device answers
//!   a frame during the *next* transfer. A read of `n` registers sends `n + 1` READ frames of
//!   consecutive addresses; the first answer is the previous operation's last response (checked
//!   and dropped). A write's own answer is checked by the next operation.
//! * **TPL** ([`Tpl`], `N` = 1..=63): one READ with the register count in its data field brings
//!   the echo plus `n` responses; writes return only the echo. Conversions start with one
//!   global write.
//!
//! # `CellMonitor` mapping
//!
//! | trait | MC3377x |
//! |---|---|
//! | `wake` | wake-up pattern; if every device still answers on its CID nothing else, otherwise full [`init`](Mc3377x::init) (reset, CID assignment, settings written and verified) |
//! | `ConversionMode::{Fast, Normal, Filtered}` | ADC_CFG AVG = 0 / 2 / 5 (1 / 4 / 32 samples); the hint is the 650 µs × 2^AVG timeout (`measure_*` wait it; [`wait_conversion`](Mc3377x::wait_conversion) polls EOC_N instead) |
//! | temperatures | one per device: MEAS_IC_TEMP (AN0–AN6 through [`read_an`](Mc3377x::read_an)) |
//! | stack voltage | MEAS_STACK |
//! | current | device 0's ISENSE after [`set_shunt`](Mc3377x::set_shunt); `Ok(None)` without a shunt |
//! | balancing | CBn_CFG = CB_EN \| CB_TIMER per populated input (CB_DRVEN set at init); any combination of cells |
//! | faults | CELL_OV/UV_FLT per cell, FAULT1 AN_OT/AN_UT/IS_OC, `internal` = VPWR_LV/OV, COM_ERR_OVR, I2C_ERR; `raw` = FAULT1 \| FAULT2 << 16 |
//!
//! # Not verified from public sources (and what the driver does)
//!
//! * The CB_TIMER unit (minutes or 0.5 min): the code is written as given ([`Mc3377x::set_cb_timer`]).
//! * TIMEOUT_COMM durations: the code is written as given ([`Mc3377x::set_comm_timeout`]).
//! * The master/slave bit and the address/CID fields of responses: not checked (the NXP driver
//!   does not check them either); the CRC, the counter and (TPL) the echo are.
//! * The cell-threshold LSB is taken as 19.5 mV as the NXP driver computes it (5 V / 256 would be
//!   19.53 mV); [`register::cell_threshold`] returns the value of the code on that grid.
//! * Whether sleep keeps the CIDs: [`Mc3377x::wake`] probes and re-initialises if not.
//! * The DATA_RDY bit of MEAS_ISENSE1 (bit 15, as on the other MEAS_* registers) and the
//!   ISENSE code layout (MEAS_ISENSE1\[14:0\] = code bits 18..4, MEAS_ISENSE2\[3:0\] = bits 3..0,
//!   from the NXP driver's `BCC_GET_ISENSE_RAW` and its masks as the notes read them): a clear
//!   bit 15 is `NotConverted`, never a current.
//! * The band-gap limits of the ADC1-A/B cross-check: the caller passes the tolerance.
//! * The PGA/ADC2 settings of the current channel: ADC_CFG PGA_GAIN is left at 0 (the value in
//!   NXP's start-of-conversion frame 0x083F).
//! * Balancing adjacency limits: none found in the sources; the driver enforces only the
//!   populated cells.
//! * The B silicon driver path (rolling counter / tag sequencing) is not implemented: the
//!   driver refuses B variants ([`ConfigError::Unsupported`](crate::error::ConfigError)); the
//!   frames are in [`frame`].
//!
//! # Example (virtual TPL chain of two MC33771C)
//!
//! ```
//! # #[cfg(feature = "sim")] {
//! use bms_afe::io::Blocking;
//! use bms_afe::mc3377x::{Mc3377x, Mc33771c, Tpl};
//! use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
//! use bms_afe::sim::Sim;
//! use bms_afe::sim::mc3377x::{Mc3377xChain, tpl_port};
//! use bms_afe::units::MicroVolts;
//!
//! let sim = Sim::new(Mc3377xChain::<Mc33771c, 2>::new(14));
//! let mut bms = Mc3377x::<Mc33771c, Tpl, 2, _>::new_tpl(
//!     Blocking::new(tpl_port(&sim), sim.delay()), 14).unwrap();
//! bms.init().unwrap();
//! let mut cells = [Reading::NotConverted; 28];
//! let report = bms.measure_cells(ConversionMode::Normal, &mut cells).unwrap();
//! assert!(report.is_ok());
//! assert!(cells.iter().all(|c| matches!(c, Reading::Valid(v) if v.0 > 3_000_000)));
//! # }
//! ```

pub mod convert;
mod driver;
pub mod frame;
pub mod register;
pub mod transport;
pub mod variant;

pub use driver::{
    Adc1Check, CoulombCounter, Mc3377x, Settings, Spi, Status, T_EOC_TIMEOUT_US, T_EOC_TYP_US,
    T_RESET_READY_US, T_SPI_WAKE_LOW_US, T_SPI_WAKE_UP_US, T_TPL_WAKE_DELAY_US,
    T_TPL_WAKE_PER_DEVICE_US, T_TPL_WAKE_PULSE_US, Tpl, Transport, averaging_for, conversion_time,
    tpl_timeout_us,
};
pub use register::{Averaging, GpioMode};
pub use transport::{AsyncTplLink, TplLink};
pub use variant::{CellMap, Mc33771b, Mc33771c, Mc33772b, Mc33772c, Silicon, Variant};
