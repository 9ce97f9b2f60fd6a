//! LTC681x family: LTC6810, LTC6811-1, LTC6812-1, LTC6813-1 and ADBMS1818 on isoSPI daisy
//! chains.
//!
//! * [`variant`] — the parts as types ([`Ltc6810`] … [`Adbms1818`]) with their constants.
//! * [`command`] — every command as a `const` frame, the ADC command builders, conversion
//!   times and self-test patterns.
//! * [`register`] — typed register field sets (CFGRA, CFGRB, LTC6810 CFGR, COMM, SCTRL/PWM,
//!   PSB), [`DeviceConfig`], UV/OV threshold quantisation.
//! * [`convert`] — codes to values, the chain cell decoder of the read path, status decoding,
//!   the open-wire algorithm, the overlap comparison, the LTC6810 S-pin comparison.
//! * [`Ltc681x`] — the driver, blocking and async, implementing
//!   [`CellMonitor`](crate::CellMonitor) / [`AsyncCellMonitor`](crate::AsyncCellMonitor).
//!
//! # Sources
//!
//! Public documents, cited in this module by the short name on the left:
//!
//! | short name | document |
//! |---|---|
//! | LTC6812-DS | LTC6812-1 data sheet, Rev. B (tables and sections as numbered there): <https://www.analog.com/media/en/technical-documentation/data-sheets/ltc6812-1.pdf> |
//! | LTC6813-1 data sheet | <https://www.analog.com/en/products/ltc6813-1.html> (same architecture and command set as the LTC6812-1) |
//! | LTC6804-DS | LTC6804-1/-2 data sheet, document 680412fc (Rev. C): <https://www.analog.com/en/products/ltc6804-1.html> |
//! | LTC6810-DS | LTC6810-1/-2 data sheet, Rev. A: <https://www.analog.com/en/products/ltc6810-1.html> |
//! | ADBMS1818 data sheet | <https://www.analog.com/en/products/adbms1818.html> |
//! | Linduino | ADI's Linduino sketchbook, `LTSketchbook/libraries/LTC681x`, `LTC6810`, `LTC6811`, `LTC6813` and the DC2259/DC2350/DC2515 demo sketches: <https://github.com/analogdevicesinc/Linduino> |
//! | rt-LTC681X | the `ltc681x` crate 0.6.2 and its tests (`src/commands.rs`, `src/tests/pec15.rs`, `src/tests/monitor.rs`): <https://github.com/atlas-aero/rt-LTC681X> |
//! | EngineerZone 104495 | LTC6813 bytes and PECs on a real bus: <https://ez.analog.com/power/f/q-a/104495/ltc6813-responding-with-0xff-for-everything/311707> |
//!
//! # Conventions
//!
//! * **Device 0 is the device nearest the host**, for reads and for writes. On the wire a
//!   write carries the farthest device's data first (the chain is a shift register); the
//!   driver reverses it for you (LTC6812-DS "Network Layer"; LTC6810-DS p.57).
//! * One chip-select frame per command for the whole chain: `4 + 8·N` bytes for reads and
//!   writes, 4 for commands.
//! * Every device's PEC on every read is checked. A bad device fails only its own slots
//!   ([`Reading::Failed`](crate::monitor::Reading) naming it); the command is re-issued up to
//!   [`Ltc681x::retries`] times first. Registers reading 0xFFFF with a good PEC (cleared,
//!   never converted) are [`Reading::NotConverted`](crate::monitor::Reading), never 6.5535 V.
//!   Codes above the ADC full scale (0xE000..=0xFFFE; valid results are 0x0000..=0xDFFF,
//!   e.g. the redundancy fault codes 0xFF0X) are `Reading::Failed` naming the device and
//!   fail the report, on every path (cells, auxiliary, status, open wire).
//! * Values written to the chips (configuration, PWM, S-control, COMM) are checked first:
//!   a value wider than its field, an undefined ICOM/FCOM code, or a GPIO or cell the part
//!   lacks is a [`ConfigError`](crate::error::ConfigError) and nothing is sent — never
//!   masked.
//!
//! # Chain length at run time
//!
//! `N` is the capacity; the devices actually on the chain are
//! [`Ltc681x::device_count`] (`N` by default), set with [`Ltc681x::set_device_count`]
//! (`1..=N`, refused before anything is sent) or found with
//! [`Ltc681x::detect_device_count`] (reads RDCFGA with `N + 1` frames and counts the devices
//! that answer before silence). Every command then wakes, writes and reads exactly that many
//! devices (`4 + 8·n` bytes), and every per-device slice (`out`, `masks`) and
//! `CellMonitor::device_count`/`cell_count` follow it. Size buffers once with the exported
//! constants ([`Ltc681x::MAX_CELLS`], [`Ltc681x::MAX_TEMPERATURES`], [`Ltc681x::MAX_DEVICES`],
//! [`Ltc681x::MAX_AUX`]) and pass `&mut buf[..bms.cell_count()]`. The `&[_; N]` inputs of
//! `write_comm`, `write_sctrl`, `write_pwm` and `write_psb` keep their type; only their first
//! `device_count()` entries are sent.
//!
//! # Power states and timing
//!
//! * After ~2 s without a valid command (tSLEEP) the cores sleep and the configuration is
//!   reset: call [`Ltc681x::wake`] (one dummy frame per device, tWAKE apart) and write the
//!   configuration again.
//! * After more than 4.3 ms of silence (tIDLE) the isoSPI ports go idle and the next frame is
//!   lost at the first idle port: [`Ltc681x::wake_idle`] wakes them. The `CellMonitor` methods
//!   and every `measure_*`/diagnostic method do this themselves (before starting and after
//!   each long wait); the low-level `start_*`/`read_*` methods do not (they send exactly the
//!   frames named), so call `wake_idle` first when you have waited yourself. A lost frame never yields wrong data —
//!   the device answers nothing and is reported `NoResponse` — but a lost *conversion start*
//!   leaves the previous results in place: clear the registers (`clear_cells`) before
//!   converting if stale data would matter.
//!
//! # `CellMonitor` mapping
//!
//! | trait | LTC681x |
//! |---|---|
//! | `wake` | the inherent wake (one dummy frame per device, tWAKE apart), then the configuration held by the driver is written again (a sleeping core has lost it) |
//! | `ConversionMode::{Fast, Normal, Filtered}` | ADCV MD = 01 / 10 / 11 (27 kHz / 7 kHz / 26 Hz with ADCOPT = 0), preceded by CLRCELL so a start lost on the bus reads as `NotConverted`, never as the previous voltages |
//! | temperatures | per device: die temperature (ADSTAT CHST = ITMP), then — if set with [`Ltc681x::set_thermistors`] — one value per thermistor GPIO (ADAX, converted by your function) |
//! | stack voltage | sum of cells SC (ADSTAT CHST = SC) × 10/20/30 |
//! | current | `Ok(None)`: no current channel |
//! | balancing | DCC bits (any combination of the part's cells; the chip has no adjacency rule — thermal limits are the board's). Without a discharge timeout (DCTO) the switches open at the watchdog timeout (~2 s without a valid command): keep talking to the chain or set [`Ltc681x::set_discharge_timeout`]. |
//! | faults | STATB OV/UV flags (+ AUXD flags of cells 13..18), THSD, MUXFAIL (`internal`); `raw` bit 2 = OV comparison off, bit 1 = MUXFAIL, bit 0 = THSD. MUXFAIL reads 1 after power-up and CLRSTAT until DIAGN runs, so `read_faults` runs the MUX decoder check itself each call (waits for a running conversion with a bounded PLADC poll, sends DIAGN, waits tDIAGN = 4.5 ms, then reads STATA/STATB/AUXD): `internal` is the verdict of that check, never the untested power-up value, and a failing decoder is reported. The flags OV/UV come from the last cell conversion. With the reset threshold VOV = 0 (held configuration never given an OV threshold, [`Ltc681x::set_overvoltage`]) the chip flags every cell over 0 V: those flags carry no information and `overvoltage` reads 0 with `raw` bit 2 set, so a fresh chain reads healthy; set thresholds to get OV flags. |
//!
//! # LTC6810 S-voltage groups and S-pin redundancy
//!
//! The LTC6810 "performs redundant cell measurements" (LTC6810-DS p.1, features): with
//! SCONV = 1 (CFGR5 bit 3, [`Ltc681x::set_sconv`]; Linduino `LTC6810.h`: "Enable Cell
//! Measurement Redundancy using S Pin") each cell is also measured through its S pin into
//! the S-voltage groups.
//!
//! | command | code | driver |
//! |---|---|---|
//! | RDSA (S1–S3) | 0x008 | [`Ltc681x::read_s_voltages`] ([`command::RDSA`]) |
//! | RDSB (S4–S6) | 0x00A | [`Ltc681x::read_s_voltages`] ([`command::RDSB`]) |
//! | CLRCELL, ADCV, RDCVA/B, RDSA/B | | [`Ltc681x::s_pin_redundancy`]: per-device mask of cells whose C and S results differ by more than a tolerance ([`convert::s_pin_mismatches`]) |
//!
//! The codes are those of RDCVC/RDCVD on the larger parts (Linduino `LTC6810.cpp`
//! `LTC6810_rds_reg`), so both methods refuse other parts with
//! [`ConfigError::Unsupported`](crate::error::ConfigError) before anything is sent. The
//! groups have the cell-group layout (Linduino `LTC6810_rds` parses them with the cell
//! parser; `DC2515.ino` prints code × 100 µV) and go through the cell decoder
//! ([`convert::decode_cell_groups`]) with its PEC check, retries, `NotConverted` for 0xFFFF
//! and `Failed` for codes above 0xDFFF.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # fn main() -> Result<(), bms_afe::Error<bms_afe::sim::SimError>> {
//! use bms_afe::io::Blocking;
//! use bms_afe::ltc681x::{Ltc681x, Ltc6810, command::AdcMode};
//! use bms_afe::monitor::Reading;
//! use bms_afe::sim::{Sim, ltc681x::Ltc681xChain};
//! use bms_afe::units::MicroVolts;
//!
//! let sim = Sim::new(Ltc681xChain::<Ltc6810, 2>::new());
//! sim.with(|c| c.set_all_cells(3_650_000));
//! sim.with(|c| c.set_s_pin_offset(1, 2, 4_000)); // device 1, cell 3: S path reads +4 mV
//! let mut bms = Ltc681x::<Ltc6810, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
//! bms.wake()?;
//! bms.set_sconv(true)?;
//! bms.write_config_verified()?;
//! let mut verdict = [Reading::NotConverted; 2];
//! let report = bms.s_pin_redundancy(AdcMode::Normal, MicroVolts(1_000), &mut verdict)?;
//! assert!(report.is_ok());
//! assert_eq!(verdict, [Reading::Valid(0), Reading::Valid(1 << 2)]);
//! let mut s = [Reading::NotConverted; 12];
//! bms.read_s_voltages(&mut s)?;
//! assert_eq!(s[0], Reading::Valid(MicroVolts(3_650_000)));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! # Facts not verified against a data sheet
//!
//! * LTC6810 S-voltage groups: that ADCV is the conversion that fills them when SCONV = 1
//!   (the vendor sketch `DC2515.ino` sets SCONV and starts only ADCV before reading them; no
//!   separate S command exists in `LTC6810.cpp`), whether ADCVAX/ADCVSC/ADOW fill them too,
//!   whether CLRCELL clears them, that 0xFFFF means "not converted" there as for cells (the
//!   driver treats it so: never a voltage either way), and the expected C-to-S tolerance
//!   (the caller chooses it).
//!
//! * LTC6813/ADBMS1818 OV/UV flags of cells 16..18 in AUXD bytes 4..5 (by analogy with the
//!   LTC6812's C13..C15 layout).
//! * The LTC6810 configuration layout (vendor code, Linduino `LTC6810.cpp`).
//! * Conversion times of ADOL, ADCVAX and ADCVSC (no table in the notes: the sum of the
//!   parts is used, an upper bound), and ADAX/ADSTAT on the LTC6810/6811 (the LTC6812/6813
//!   tables are used; ADSTAT takes the larger of the LTC6812 and LTC6804 values).
//! * The overlap tolerance ([`convert::OVERLAP_MAX_DELTA_CODES`], the vendor's 2 mV).
//!
//! # Walk-through: wake → configure → convert → read → balance
//!
//! Against the virtual chain (feature `sim`); on hardware, pass your `SpiDevice` and
//! `DelayNs` instead.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # fn main() -> Result<(), bms_afe::Error<bms_afe::sim::SimError>> {
//! use bms_afe::io::Blocking;
//! use bms_afe::ltc681x::{Ltc681x, Ltc6813, command::{AdcMode, CellSelect}};
//! use bms_afe::monitor::{CellMonitor, Reading};
//! use bms_afe::sim::{Sim, ltc681x::Ltc681xChain};
//! use bms_afe::units::MicroVolts;
//!
//! let sim = Sim::new(Ltc681xChain::<Ltc6813, 2>::new());
//! sim.with(|c| c.set_all_cells(3_700_000));
//! let mut bms = Ltc681x::<Ltc6813, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
//!
//! bms.wake()?;                                                    // wake
//! let uv = bms.set_undervoltage(MicroVolts(3_000_000))?;           // configure
//! let ov = bms.set_overvoltage(MicroVolts(4_200_000))?;
//! assert_eq!((uv, ov), (MicroVolts(3_000_000), MicroVolts(4_200_000)));
//! bms.write_config_verified()?;
//! let wait = bms.start_cells(AdcMode::Normal, false, CellSelect::ALL)?; // convert
//! bms.poll_adc()?;                                                 // (or wait `wait`)
//! // Buffers sized by the driver's constants (2 × 18 cells), not by hand.
//! let mut cells = [Reading::NotConverted; Ltc681x::<Ltc6813, 2, ()>::MAX_CELLS];
//! let report = bms.read_cells(&mut cells)?;                        // read
//! assert!(report.is_ok());
//! assert_eq!(cells[0], Reading::Valid(MicroVolts(3_700_000)));
//! bms.set_balancing(&[1 << 4, 0])?;                                // balance cell 5 of device 0
//! assert_eq!(sim.with(|c| bms_afe::sim::VirtualChip::balancing(c, 0)), 1 << 4);
//! # let _ = wait;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```

pub mod command;
pub mod convert;
mod driver;
pub mod register;
pub mod variant;

pub use driver::{
    Ltc681x, POLL_INTERVAL_US, Status, T_IDLE_MIN_US, T_READY_US, T_WAKE_US, Thermistors,
};
pub use register::DeviceConfig;
pub use variant::{Adbms1818, ConfigLayout, Ltc6810, Ltc6811, Ltc6812, Ltc6813, Variant};
