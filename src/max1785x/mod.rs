//! ADI/Maxim MAX17852 and MAX17853 battery monitors on a battery-management UART daisy chain
//! behind the MAX17841B SPI bridge.
//!
//! The host talks SPI to the MAX17841B; the bridge sends each message around a differential
//! UART ring through every device and back. One READALL returns every device's value of one
//! register in one message. Nothing here shares code with the ADI isoSPI families.
//!
//! * [`bridge`] — the MAX17841B SPI commands, registers, RX_STATUS flags and the five-frame
//!   message transaction.
//! * [`message`] — HELLOALL / WRITEALL / WRITEDEVICE / READALL / READDEVICE built and checked
//!   (PEC, command and register echo, data-check byte, alive counter).
//! * [`register`] — the register map ([`Register`](register::Register)) and typed field sets
//!   (SCANCTRL, STATUS1, FMEA1, FMEA2, MEASUREEN1), thresholds.
//! * [`convert`] — codes to µV (cells, block), AUX ratios, the MAX17852 current sense.
//! * [`variant`] — [`Max17852`] and [`Max17853`] as types.
//! * [`Max1785x`] — the driver, blocking and async, implementing
//!   [`CellMonitor`](crate::CellMonitor) / [`AsyncCellMonitor`](crate::AsyncCellMonitor).
//!
//! # Sources
//!
//! The data sheets are public on analog.com; the facts used here were taken from public code
//! that implements them, cited per item: foxBMS (Fraunhofer IISB, foxBMS/foxbms-2 @308028fb,
//! BSD-3-Clause, `src/app/driver/afe/maxim/`), the ADI/Maxim reference firmware
//! (analogdevicesinc/MAXREFDES1301 @4751c026), the ADI no-OS MAX17851 documentation
//! (analogdevicesinc.github.io/no-OS/drivers/max17851.html) and a real bus capture on
//! EngineerZone (ez.analog.com/power/battery-management-system/f/qa/583407). No code was
//! copied.
//!
//! # Integrity
//!
//! * Every returned message is checked: its PEC ([`crate::crc::maxim_pec8`]: the CRC over
//!   the message including its PEC is 0), its length, the echoed command and register, the
//!   data-check byte's PEC-error bit (a device received a corrupted message: not trusted even
//!   with a good PEC; reported as [`FaultReason::Framing`](crate::error::FaultReason::Framing),
//!   like a wrong length or echo) and, when enabled, the alive counter. A message that comes
//!   back exactly as sent (no device inserted anything) is
//!   [`FaultReason::NoResponse`](crate::error::FaultReason::NoResponse). The receive buffer is cleared
//!   before every message, so an old message can never be read as the answer.
//! * **Per device.** A READALL carries one PEC for all devices, so it is trusted for all or
//!   none. A failing READALL is re-issued whole up to [`Max1785x::retries`] times; if it
//!   still fails, every device is read with its own READDEVICE (each reply with its own PEC,
//!   data-check byte and alive counter). A corrupt or silent device then fails alone, named,
//!   in [`Reading::Failed`](crate::monitor::Reading) and the [`ChainReport`](crate::monitor::ChainReport);
//!   a device that failed any read of an operation fails all its values of that operation.
//! * **Detection strength.** The PEC detects every 1- and 2-bit error up to 30 covered bytes
//!   (Hamming distance 3, computed for this polynomial) and only 1-bit errors beyond (two
//!   flips 255 bits apart pass). A READALL covers `3 + 2·N` bytes: distance 3 up to 13
//!   devices, 2 above. [`ReadMode::Auto`] (the default) therefore uses READALL up to 13
//!   devices and one READDEVICE per device above (5 covered bytes each);
//!   [`ReadMode::ReadAll`] trades that margin for fewer bytes on the wire.
//! * **Alive counter** ([`Max1785x::set_alive_counter`]): a sequence check, so a mismatch
//!   fails every device of that message — the counter cannot say which device missed it —
//!   and a write whose counter is short is an error (reported as
//!   [`FaultReason::CommandCounter`](crate::error::FaultReason::CommandCounter) with the
//!   counter expected and received). After a mismatch no result is trusted
//!   (every device reads `Failed`) until a scan request comes back counted by every device:
//!   a device may have missed the last scan and still hold an older one. Without the alive
//!   counter, a write that a device ignored (it forwards everything untouched) cannot be
//!   detected from the echo.
//! * **Not converted.** A device whose SCANCTRL does not show SCANDONE reads
//!   [`Reading::NotConverted`](crate::monitor::Reading) for its results, never 0 V.
//! * **Bounded.** Every wait polls a bounded number of times: RX_STATUS per message
//!   ([`Max1785x::set_max_polls`], [`MESSAGE_POLL_US`] apart), the wake-up preambles
//!   ([`WAKE_POLL_US`]), SCANDONE ([`SCAN_POLL_US`]). A message that never comes back fails
//!   its devices as `NoResponse`; once nothing comes back at all (an open ring) the other
//!   devices and registers of that operation are not asked again.
//! * **A ring.** The message returns through every device, so a broken link anywhere (or a
//!   device that is shut down) silences the whole chain: every device reads `NoResponse`.
//!   The devices before the break cannot be read on their own (the conformance case
//!   `broken_chain` fails by design for this family). A device that stops answering but
//!   still forwards fails alone.
//!
//! # Start-up
//!
//! [`Max1785x::start_up`] (also [`CellMonitor::wake`](crate::CellMonitor::wake)): keep-alive
//! 160 µs (CONFIGURATION_3 = 0x05, verified), preambles on until RX_STATUS shows the
//! receiver busy (the preambles came back around the ring), preambles off, buffers cleared
//! (MAXREFDES1301 `Initialization.cpp`; foxBMS `MXM_5XStateHandlerInit`), HELLOALL with the
//! device count checked against `N`, STATUS1/FMEA1/FMEA2 cleared, the READALL slot order
//! checked against READDEVICE, each device's VERSION model checked against the part,
//! MEASUREEN1 (and MEASUREEN2 for the thermistor inputs) and the held thresholds written and
//! verified.
//!
//! # `CellMonitor` mapping
//!
//! | trait | MAX1785x |
//! |---|---|
//! | `wake` | the start-up above |
//! | `ConversionMode::{Fast, Normal, Filtered}` | SCANCTRL OVSAMPL none / 4× (foxBMS) / 128× (MAXREFDES1301), with AUTOBALSWDIS; wait hints 2 / 4 / 100 ms ([`scan_wait`]), completion confirmed by SCANDONE |
//! | cells | CELL1..CELL14, 5 V / 2^14 ([`convert`]) |
//! | stack voltage | BLOCK, 65 V / 2^14 |
//! | temperatures | AUX inputs through [`Thermistors`] (none by default); the start-up enables them in MEASUREEN2 (bit `k` = AUX`k`, foxBMS) |
//! | current | MAX17852: CSA of the device named in the caller's [`CurrentSense`](convert::CurrentSense) (a configuration error until set; [`Error::Device`](crate::Error::Device) while that device shows no SCANDONE: an unconverted CSA is not a current), READDEVICE only; MAX17853: `Ok(None)` |
//! | balancing | manual mode as foxBMS runs it: BALEXP1..14 (the expiration timer, [`Max1785x::set_balance_timeout`], default 1 min), BALSWCTRL (bit `k` = cell `k + 1`) per device, both verified by read-back, then BALCTRL = 0x180E ([`register::BALCTRL_MANUAL`]), which (re)starts the timer; all-zero masks write BALCTRL = 0 (disabled). Two adjacent cells at once are refused (foxBMS balances even and odd cells alternately). The timer is the balancing watchdog: switches open by themselves after the expiration unless `set_balancing` is called again |
//! | faults | ALRTOVCELL / ALRTUVCELL per cell, FMEA2 ALRTTEMP (die) and STATUS1 ALRTAUXUVST / ALRTAUXOVST (NTC hot / cold) as over/under-temperature, FMEA1/FMEA2 self-test bits as `internal`, `raw` = STATUS1 ([`register::Alerts`]) |
//!
//! # Thresholds and diagnostics
//!
//! The driver holds [`register::Thresholds`] and writes them at start-up and with
//! [`Max1785x::write_thresholds`], each register verified by read-back
//! ([`Error::Verify`](crate::Error::Verify) names device, register and byte). Every setter
//! validates in the pure core and returns the value achieved, rounded to the safe side:
//!
//! | setter | registers | scale |
//! |---|---|---|
//! | [`Max1785x::set_overvoltage`] / [`Max1785x::set_undervoltage`] | OVTHSET/CLR, UVTHSET/CLR | cell, 5 V / 2^14 |
//! | [`Max1785x::set_mismatch`] | MSMTCH | cell scale (not verified) |
//! | [`Max1785x::set_block_limits`] | BLKOV/UVTHSET/CLR | block, 65 V / 2^14 (not verified) |
//! | [`Max1785x::set_temperature_limits`] | AUXRUV/OVTHSET/CLR | AUX ratio (not verified) |
//!
//! Diagnostics: [`Max1785x::read_alerts`] (STATUS1, FMEA1, FMEA2, per-cell OV/UV, per
//! device, decoded by [`register::Status1`], [`register::Fmea1`], [`register::Fmea2`]);
//! [`Max1785x::comparator_cross_check`] (the ADC's cell alerts against the redundant
//! comparator's, per device and cell, [`register::ComparatorCheck`]); the data-check byte
//! of every read ([`message::DataCheck`]) is the chain's alert summary.
//!
//! # Walk-through
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # fn main() -> Result<(), bms_afe::Error<bms_afe::sim::SimError>> {
//! use bms_afe::io::Blocking;
//! use bms_afe::max1785x::{Max1785x, Max17853};
//! use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
//! use bms_afe::sim::{Sim, max1785x::Max1785xChain};
//! use bms_afe::units::MicroVolts;
//!
//! let sim = Sim::new(Max1785xChain::<Max17853, 3>::new());
//! sim.with(|c| c.set_all_cells(3_700_000));
//! let mut bms = Max1785x::<Max17853, 3, _>::new(Blocking::new(sim.spi(), sim.delay()));
//! let ov = bms.set_overvoltage(MicroVolts(4_200_000))?;      // held, written at start-up
//! assert!(ov <= MicroVolts(4_200_000));
//! bms.start_up()?;                                            // wake, HELLOALL, verify
//! let mut cells = [Reading::NotConverted; 3 * 14];
//! let report = bms.measure_cells(ConversionMode::Normal, &mut cells)?;
//! assert!(report.is_ok());
//! // 3.7 V is code 12124 of 2^14 × 5 V: 3.699951 V.
//! assert_eq!(cells[0], Reading::Valid(MicroVolts(3_699_951)));
//! bms.set_balancing(&[1 << 4, 0, 0b101])?;                   // never two adjacent cells
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! # Facts not verified against a data sheet, and what the driver does there
//!
//! * **Cell scale** /0x4000 (reference firmware) vs /0x3FFF + 1 (foxBMS): the driver uses
//!   code × 5 V / 16384; the two differ by less than one LSB (see [`convert`]).
//! * **READALL slot order**: the driver takes the first slot after the register byte as
//!   device 0 (the first device the message reaches, address 0). The cited code does not
//!   settle it (foxBMS's self-test data is symmetric), so the start-up checks it on the
//!   chain: a READALL of the ADDRESS register (each device holds its own address there)
//!   must equal the READDEVICE answers in order, else the start-up fails with
//!   [`Error::Device`](crate::Error::Device) and nothing is measured. In
//!   [`ReadMode::PerDevice`] the order question does not arise.
//! * **Alive counter**: its enable bit, whether the PEC covers it, and that each device adds
//!   one. The driver never enables it; with [`Max1785x::set_alive_counter`] it sends the
//!   byte after the PEC and expects `seed + N` back.
//! * **MAX17841B**: RX_STATUS bits other than EMPTY/STOP/OVERFLOW/BUSY, the receive buffer
//!   size (the driver needs at most `5 + 2·N` bytes, 69 for 32 devices), the UART baud rate
//!   (the first RX_STATUS poll waits 12 µs per byte plus 4 µs per device).
//! * **Thresholds** are encoded like cell results (as foxBMS encodes them); set and clear
//!   thresholds are written equal (no hysteresis).
//! * **ALRTOVCELL / ALRTUVCELL / BALSWCTRL** bit `k` = cell `k + 1`.
//! * **STATUS1/FMEA1/FMEA2** bit layouts are single-source (MAXREFDES1301); clearing writes 0.
//! * **SCANDONE semantics**: a device that misses a scan request keeps SCANDONE from its
//!   previous scan, so its old results read as valid; enable the alive counter to detect
//!   a missed message.
//! * **Scan times**: no table in the cited sources; the hints are conservative and SCANDONE
//!   is polled.
//! * **CSA format** (sign, scale): the caller's ([`convert::CurrentSense`]).
//! * **MAX17823**: its register map is single-source (a hobby driver) and its scan control
//!   is not in the cited sources, so it is not offered.
//!
//! * **Balancing**: BALCTRL = 0x180E and its meaning, BALEXPn in minutes, and that
//!   CBMODE = 000 (BALCTRL = 0) disables, are foxBMS's (single source); the BALCTRL fields
//!   are not decoded and BALCTRL is not read back; the BALEXPn field width is not known
//!   (the write is verified by read-back).
//!
//! Not implemented: the automatic balancing modes, open-wire and the DIAGCFG/CTSTCFG
//! diagnostics, die temperature, dual-UART (up/down host) set-ups, MAX17851 and MAX17854.

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
