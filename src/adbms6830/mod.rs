//! ADBMS6830 family: ADBMS6830B, ADBMS6832, ADBMS6833 (ADI's current-generation cell
//! monitors, isoSPI daisy chain, redundant C/S ADCs, 10-bit data PEC with command counter).
//!
//! # Sources
//!
//! Public documents, cited in this module by the short name on the left:
//!
//! | short name | document |
//! |---|---|
//! | ADBMS6830B-DS | ADBMS6830B data sheet, Rev. 0 (tables and sections as numbered there): <https://www.analog.com/en/products/adbms6830b.html> |
//! | ADBMS6830-SpA | ADBMS6830 pre-release data sheet, Rev. SpA (2021-12; not on analog.com), used only to corroborate ADBMS6830B-DS |
//! | ADI reference code | ADI's ADBMS6830 reference code (`adBms6830Data.h`, `adBms6830CmdList.h`, `adBms6830GenericType.c`, `adBms6830ParseCreate.c`) as vendored in public BMS repositories; facts only, no code taken |
//! | rt-LTC681X | the `ltc681x` crate 0.6.2 (PEC15 command vectors shared with the LTC681x): <https://github.com/atlas-aero/rt-LTC681X> |
//! | atopile analyzer | Saleae high-level analyzer for the ADBMS6830 with a real bus capture: <https://github.com/atopile/adbms6830-saleae-analyzer> |
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`variant`] | variant marker types ([`Adbms6830b`], [`Adbms6832`], [`Adbms6833`]) |
//! | [`command`] | command frames, ADC-start builders, the command-counter INC table |
//! | [`register`] | typed CFGA/CFGB, PWM, COMM, SID, status C/D/E |
//! | [`convert`] | result codes → µV / m°C, "not converted" codes |
//! | [`readall`] | RDCSALL/RDACSALL/RDASALL frame decoders (C + S cells; aux, redundant aux, status) |
//! | [`timing`] | data-sheet timings and wait hints |
//! | [`latent`] | FLAG_D latent-fault self-tests: patterns, expected flags, per-device results ([`Adbms6830::latent_fault_self_test`]) |
//! | [`Adbms6830`] | the driver (blocking and async), also a [`CellMonitor`](crate::CellMonitor) |
//!
//! Framing, chain ordering, PEC15 command frames and the per-device result types are the
//! crate's shared [`isospi`](crate::isospi) machinery (one implementation with LTC681x).
//!
//! # Integrity
//!
//! * Every response frame of every device is checked with PEC10 **including the 6-bit
//!   command counter** carried in its PEC bytes; writes carry PEC10 with zero counter bits.
//! * The driver tracks each device's expected counter: commands marked INC in ADBMS6830B-DS
//!   Table 50 ([`command::increments`]) advance it (63 wraps to 1), RSTCC/SRST reset it to 0.
//!   A device whose good-PEC frame carries another value fails with
//!   [`FaultReason::CommandCounter`](crate::error::FaultReason::CommandCounter). Two cases:
//!   * **Missed or repeated command** (the value is higher than the number of counted
//!     commands sent since that device's counter was last checked): the device may have
//!     missed a conversion start, so its result registers may hold an earlier conversion.
//!     Every value of that device in the operation where the mismatch shows fails with
//!     the counter fault — all groups of a cell or aux read, read-alls, status, the C/S
//!     redundancy check, the open-wire checks, the latent-fault self-test (every verdict
//!     of that device in the run) — not only the frame that carried it. The expectation
//!     then follows the device, but its **results stay failed** (same fault) until a
//!     conversion started afterwards is confirmed by its counter at a later read: ADCV
//!     confirms C results (and S with RD = 1), ADSV S results, ADAX of all channels the aux
//!     and status A/B groups, ADAX of ITMP or VPV that value alone, ADAX2 of all GPIOs the
//!     redundant aux groups. Configuration, serial-ID, COMM, PWM and status C/E reads carry
//!     no conversion result and are trusted again at the next good counter.
//!   * **Device reset** (power-up, sleep, brown-out: the counter restarted from 0, so it is
//!     at most the number of counted commands since the last check): the device lost its
//!     configuration, so the fault **stays** — every read of that device fails with the
//!     same `CommandCounter` fault — until the host sends RSTCC
//!     ([`Adbms6830::reset_command_counters`]) **and**, unless the held configuration is the
//!     power-up default, rewrites CFGA and CFGB successfully (verified by read-back:
//!     [`Adbms6830::configure`], [`Adbms6830::write_cfga`] + [`Adbms6830::write_cfgb`]).
//!     [`Adbms6830::wake`] does both. A device that missed the first commands after RSTCC
//!     looks exactly like one that reset, and is treated as reset (the safe side). PWM
//!     duties are not held by the driver: rewrite them ([`Adbms6830::write_pwm`]) after a
//!     reset.
//! * [`Adbms6830::wake`] ends with RSTCC, so a chain that slept does not show up as a fault;
//!   since RSTCC also hides *which* devices slept, `wake` then rewrites the held
//!   configuration (CFGA and CFGB, discharge bits included, verified) unless it is the
//!   power-up default.
//! * A counted command whose frame fails on the bus may or may not have reached the chain:
//!   the next read accepts either counter value (likewise for a poll sequence cut by a bus
//!   error: the polls that completed are counted, the failing one may or may not be).
//! * Cleared (0x8000) and reset (0x7FFF) codes with a good PEC are
//!   [`Reading::NotConverted`](crate::monitor::Reading::NotConverted), never voltages.
//! * Configuration writes are verified by read-back ([`Error::Verify`](crate::Error::Verify)
//!   names device, register and byte; read-only bits SNAP_ST/MUTE_ST are masked).
//!
//! # Error detection per frame length
//!
//! The data PEC10 (ADBMS6830B-DS "Data PEC": x^10 + x^7 + x^3 + x^2 + x + 1 over the data
//! bits and the 6 counter bits) is the generator (x + 1)·p(x) with p(x) of degree 9 and
//! order 511. So at **every** length it catches every odd number of flipped bits and every
//! burst of up to 10 bits; it catches **every double-bit error** only while the code word
//! (data + counter + 10 PEC bits) is at most 511 bits long — two flips 511 bits apart form a
//! valid code word:
//!
//! | frame | bits | guaranteed |
//! |---|---|---|
//! | 8-byte register group (RDCVx, RDAUXx, RDSTATx, …) | 64 | every 1-, 2- and 3-bit error |
//! | 34-byte read-all (RDCVALL, RDACALL, RDSALL, RDFCALL) | 272 | every 1-, 2- and 3-bit error |
//! | 66-byte RDCSALL / RDACSALL | 528 | odd-weight errors and ≤ 10-bit bursts only: 17 of 139 128 two-bit patterns pass |
//! | 70-byte RDASALL | 560 | odd-weight errors and ≤ 10-bit bursts only: 49 of 156 520 two-bit patterns pass |
//!
//! (Computed from the polynomial; `tests/adbms6830_detection.rs` checks each row through the
//! crate's frame check.) The driver therefore reads cell voltages with group frames by
//! default ([`Adbms6830::set_read_all`] opts in to the 34-byte read-alls), its redundancy
//! check never uses RDCSALL, and the wide read-alls are sent only when asked for
//! ([`Adbms6830::read_cells_cs`], [`Adbms6830::read_all_aux_status`]).
//!
//! # Power states and timing
//!
//! * After ~2 s without a valid command (tSLEEP) the cores sleep: counters go to 0 and the
//!   configuration to its defaults. [`Adbms6830::wake`] wakes the chain (one dummy frame per
//!   device, 500 µs apart).
//! * After more than tIDLE (4.3 ms minimum) without a frame the isoSPI ports go IDLE and the
//!   next frame is lost at the first idle port (ADBMS6830B-DS tIDLE/tREADY):
//!   [`Adbms6830::wake_idle`] wakes them (one RDCFGA frame per device, tREADY = 10 µs apart;
//!   RDCFGA moves no counter). The `CellMonitor` methods and the diagnostics
//!   ([`Adbms6830::redundancy_check`], [`Adbms6830::cell_open_wire`],
//!   [`Adbms6830::aux_open_wire`], [`Adbms6830::latent_fault_self_test`]) do this themselves, first and after every wait that can
//!   exceed tIDLE; the low-level `start_*`/`read_*`/`write_*` methods send exactly their
//!   frames, so call `wake_idle` after waiting yourself. A lost frame never yields wrong data
//!   (the device reports [`NoResponse`](crate::error::FaultReason::NoResponse)), but a lost
//!   conversion start leaves the previous results in place.
//!
//! # Chain length at run time
//!
//! `N` is the capacity; the devices on the chain are [`Adbms6830::device_count`] (`N` by
//! default), set with [`Adbms6830::set_device_count`] (`1..=N`, refused before anything is
//! sent) or found with [`Adbms6830::detect_device_count`] (RDSID read with `N + 1` frames).
//! Every command then wakes, writes, reads back and polls exactly that many devices; the
//! `CellMonitor` slices and `read_cells`/`read_cells_cs` hold exactly their values; in the
//! fixed `[_; N]` outputs of the inherent methods the slots past the count are
//! `NotConverted` (latent self-test: `NOT_RUN`) and never in a report; the `&[_; N]` inputs
//! (`write_cfga`, `write_pwm`, …) send only their first `device_count()` entries. Size
//! buffers with [`Adbms6830::MAX_CELLS`], [`Adbms6830::MAX_TEMPERATURES`] and
//! [`Adbms6830::MAX_DEVICES`]. The command-counter bookkeeping keeps all `N` slots (devices
//! past the count still hear every command on a longer physical chain).
//!
//! # Mapping to [`CellMonitor`](crate::CellMonitor)
//!
//! | trait | ADBMS6830 |
//! |---|---|
//! | `ConversionMode::Fast` | ADCV single shot (RD = 0); hint 1.2 ms (1 ms cadence + 20 %); reads C results |
//! | `ConversionMode::Normal` | ADCV single shot with RD = 1 (C and S both convert, CS flags updated); hint 9.6 ms (8 ms + 20 %); reads C results |
//! | `ConversionMode::Filtered` | ADCV continuous (CONT = 1), reads the IIR-filtered results (RDFCx); first start also resets the filter; hint 9.6 ms. The filter corner is CFGA FC (FC = 0 leaves the filter off: configure it). Settling to a step takes several filter time constants: the hint covers fresh samples, not settling |
//! | temperatures | 1 per device: the die temperature ITMP (ADAX CH = ITMP, status A) |
//! | stack voltage | VPV (V+ to V−, ADAX CH = VPV, ×25 — **scaling unverified**: ×25 vs ×20, see [`convert::VPV_GAIN`]) |
//! | current | `Ok(None)`: no current channel |
//! | balancing | DCC bits in CFGB (cells 1–16), written with the driver's thresholds and verified; use [`Adbms6830::write_pwm`] for PWM duty |
//! | faults | STATD per-cell OV/UV; STATC THSD → `thermal_shutdown`; CS flags, supply and oscillator/SPI flags → `internal`; `raw` = CSFLT \| STCR4 << 16 \| STCR5 << 24 |
//!
//! # Facts not verified (and what the driver does)
//!
//! * ADBMS6832/ADBMS6833: only a short-form data sheet is public. Treated as ADBMS6830B
//!   (ADBMS6832 with 18 cells in groups A–F); DCC17/18 are rejected (`Unsupported`), their
//!   OV/UV flags are not reported, read-all frames are not used for 18 cells.
//! * ADBMS6815/6817: not implemented (different command map, no register layouts in hand).
//! * CLOVUV (and WRCMCELLT) INC: Rev. SpA says increment, Rev. 0 says not. Default
//!   [`DisputedCounting::Either`] accepts both on the next read; configurable.
//! * Exact single-shot conversion times: hints use the cadence + 20 %; use
//!   [`Adbms6830::poll`] to confirm.
//! * STATC CT/CTS bit split: kept raw ([`register::StatusC::conversion_counter_raw`]).
//! * Open-wire decision threshold: the data sheet gives only the intact ratios (≈10/12 C
//!   path, ≈9/10 S path) and "fully discharged when open"; the default 500 ‰ is ours
//!   ([`OPEN_WIRE_DEFAULT_PERMILLE`] explains the margins) and settable
//!   ([`Adbms6830::set_open_wire_threshold`]).
//! * Write PEC10 with zero counter bits: vendor and community code agree; no hardware
//!   capture of a write was found.
//! * CLOVUV data bytes: the driver sends all 1s (clear every flag), assuming the STATD
//!   layout. PWMB bytes beyond the variant's cells are treated as reserved (written 0, not
//!   compared on read-back).
//! * Read-all frames: the driver itself uses the 34-byte cell read-alls (also in
//!   [`Adbms6830::redundancy_check`]) only when read-all is on (off by default;
//!   [`Adbms6830::set_read_all`]). RDCSALL/RDACSALL/RDASALL are decoded ([`readall`]) and
//!   exposed ([`Adbms6830::read_cells_cs`], [`Adbms6830::read_all_aux_status`]). The
//!   RDCSALL/RDACSALL layout (C then S) and the RDASALL size (68 data bytes) agree between
//!   ADI's reference code and the notes; the **order of the groups inside RDASALL** (aux,
//!   redundant aux, status A/B/C-without-STCR2/3/D/E-STER4/5-only) is from ADI's reference
//!   code alone (UNVERIFIED against the data-sheet table): the decoder follows it as is.
//! * Chain-length detection counts the devices, from device 0, that answer RDSID with a good
//!   PEC; it cannot see devices beyond `N`.
//! * The RDSTATC ERR latent-fault read ([`Adbms6830::read_status_c_injected`]) is sent and
//!   decoded, but what silicon returns is not in the notes (the virtual chain sets SPIFLT).
//! * FLAG_D latent-fault self-tests ([`Adbms6830::latent_fault_self_test`]): the FLAG_D
//!   bits and the patterns are sourced (ADBMS6830-SpA Table 104; foxBMS 2), but **which
//!   STATC flags each pattern sets is inferred** from the bit names
//!   ([`LatentTest::expected`]); a wrong entry shows as `FlagNotSet` on every device for
//!   that test — characterise on silicon. The 2 ms settle time
//!   ([`latent::LATENT_SETTLE_US`]) is crate-chosen. CLRFLAG data is assumed to mirror the
//!   STATC layout (1 = clear). OC_CNTR is reported raw, not judged (no limits in the
//!   notes). What forcing THSD does on silicon beyond setting THSD is unknown: the test
//!   runs last, the full configuration is rewritten after it, and a device whose counter
//!   restarted is caught as reset by the counter check.
//! * Redundant aux (RDRAXA..D): the redundant path converts GPIOs only (ADAX2), and ADI's
//!   reference code reads only R_GPIO10 from RAXD, so [`Adbms6830::read_aux`] with
//!   `redundant` reports the VMV/VPV slots as `NotConverted` whatever RAXD words 1 and 2 hold.
//! * Not implemented: the low-power cell-monitoring (LPCM) commands and ULRR/WRRR/RDRR. The
//!   command codes are known (ADBMS6830B-DS Table 50), but the register layouts appear only as field
//!   masks in vendor driver code, with no data-sheet table in hand to check them against;
//!   nothing here sends them.
//! * VPV scaling is **unverified**: the crate applies × 25 (V+ to V− = 25 × (VPV ×
//!   150 µV + 1.5 V)), as foxBMS 2 and a public third-party ADBMS6830B driver that quotes the
//!   ADBMS6830B data sheet (Rev. 0, Tables 104 and 107, result-register formulas) do; ADI's ADBMS6830
//!   reference application prints VPV **and VMV** as × 20 (`serialPrintResult.c`,
//!   `printVoltages`: `20 * voltage`). The data-sheet table itself was not available to check.
//!   A wrong factor scales the stack voltage by 25/20 = 1.25: cross-check it against the sum of
//!   the cell voltages before relying on it. VMV is reported unscaled (× 1), also unverified
//!   (ADI's reference application applies × 20). Evidence: [`convert::VPV_GAIN`]; affected:
//!   `CellMonitor::measure_stack_voltages`, [`Adbms6830::read_aux`] (slots 10 and 11),
//!   [`Adbms6830::read_all_aux_status`].
//! * Supply self-check ranges ([`Supplies::out_of_range`]) are the data sheet's normal
//!   ranges as given in the notes.
//!
//! # Walk-through: wake → configure → convert → read
//!
//! Against the virtual chain (feature `sim`); on hardware pass your `SpiDevice` and delay.
//!
//! ```
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! # #[cfg(feature = "sim")]
//! # fn main() -> Result<(), bms_afe::Error<bms_afe::sim::SimError>> {
//! use bms_afe::adbms6830::{Adbms6830, Adbms6830b, CellSource, command::Adcv,
//!     register::{CfgA, CfgB}};
//! use bms_afe::io::Blocking;
//! use bms_afe::monitor::Reading;
//! use bms_afe::sim::{Sim, adbms6830::Adbms6830Chain};
//! use bms_afe::units::{MicroVolts, Microseconds};
//! use bms_afe::sim::VirtualChip;
//!
//! let sim = Sim::new(Adbms6830Chain::<Adbms6830b, 2>::new());
//! sim.with(|m| m.set_cell_voltage(1, 4, 3_700_000));
//! let mut bms = Adbms6830::<Adbms6830b, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
//!
//! bms.wake()?;
//! let mut b = CfgB::default();
//! b.set_overvoltage(MicroVolts(4_200_000))?;
//! b.set_undervoltage(MicroVolts(2_800_000))?;
//! bms.configure(CfgA { refon: true, ..CfgA::default() }, b)?;
//!
//! bms.start_cell_adc(Adcv::SINGLE)?;
//! bms.poll(bms_afe::adbms6830::command::PollTarget::CAdc, Microseconds(5_000))?;
//! let mut cells = [Reading::NotConverted; 32];
//! let report = bms.read_cells(CellSource::C, &mut cells)?;
//! assert!(report.is_ok());
//! assert_eq!(cells[16 + 4], Reading::Valid(MicroVolts(3_700_050))); // nearest 150 µV step
//! # Ok(())
//! # }
//! ```

pub mod command;
pub mod convert;
mod driver;
pub mod latent;
pub mod readall;
pub mod register;
pub mod timing;
mod values;
pub mod variant;

pub use driver::{
    Adbms6830, AdcPath, CellSource, DisputedCounting, OPEN_WIRE_DEFAULT_PERMILLE,
    OPEN_WIRE_MAX_PERMILLE, compare_cs, open_wire_mask,
};
pub use latent::{LatentFlags, LatentOutcome, LatentReport, LatentSet, LatentTest};
pub use readall::AuxStatus;
pub use values::{AuxValues, Supplies};
pub use variant::{Adbms6830b, Adbms6832, Adbms6833, Variant};
