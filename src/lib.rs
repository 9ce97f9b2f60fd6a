//! `no_std` drivers for battery cell-monitor (analog front-end) chips, blocking **and** async
//! in the same build, behind one [`CellMonitor`] trait — with virtual chips ([`sim`](sim/index.html), feature
//! `sim`), a conformance suite ([`conformance`](conformance/index.html), feature `conformance`) and measured hot paths.
//!
//! A wrong cell voltage that looks valid can burn a pack, so integrity comes first: every
//! response frame from every device is checked (PEC15, PEC10 with the command counter, TI
//! CRC-8 and subcommand checksums, NXP CRC-8 with the message counter, the Maxim PEC with
//! its data-check byte, Infineon CRC-8 and CRC-3), each value is a [`Reading`](monitor::Reading) — `Valid`,
//! `NotConverted` (the chip's cleared code with a good PEC) or `Failed` naming the device and
//! the reason — and one bad device in a chain fails only its own values. Retries re-issue the
//! whole command, configuration writes can be verified by read-back, every wait is bounded,
//! and nothing reachable from bus data or user input panics.
//!
//! # Blocking and async
//!
//! One driver type serves both: wrap the bus and delay in [`io::Blocking`] or [`io::Async`].
//! The protocol logic is written once (async, over a sans-IO core); the blocking methods drive
//! it with a one-poll executor. The [`io`] module says why this beats a feature switch.
//!
//! Blocking (bare-metal superloop, RTIC, Linux spidev), here against a virtual chain of four
//! LTC6813 — on a board, pass your `SpiDevice` and `DelayNs` instead:
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # fn main() -> Result<(), bms_afe::Error<bms_afe::sim::SimError>> {
//! use bms_afe::io::Blocking;
//! use bms_afe::ltc681x::{Ltc681x, Ltc6813};
//! use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
//! use bms_afe::sim::{Sim, ltc681x::Ltc681xChain};
//! use bms_afe::units::MicroVolts;
//!
//! let sim = Sim::new(Ltc681xChain::<Ltc6813, 4>::new());
//! sim.with(|chain| chain.set_all_cells(3_700_000));
//! let mut bms = Ltc681x::<Ltc6813, 4, _>::new(Blocking::new(sim.spi(), sim.delay()));
//!
//! bms.wake()?;
//! let achieved = bms.set_overvoltage(MicroVolts(4_200_000))?; // quantised by the chip
//! bms.write_config_verified()?;                               // read back, device by device
//! let mut cells = [Reading::NotConverted; Ltc681x::<Ltc6813, 4, ()>::MAX_CELLS];
//! let report = bms.measure_cells(ConversionMode::Normal, &mut cells)?;
//! assert!(report.is_ok());
//! assert_eq!(cells[0], Reading::Valid(MicroVolts(3_700_000)));
//! assert_eq!(achieved, MicroVolts(4_200_000));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! Async (Embassy or any executor): the same driver over `embedded-hal-async`, and generic
//! BMS code written once against [`AsyncCellMonitor`]:
//!
//! ```
//! use bms_afe::monitor::{AsyncCellMonitor, ConversionMode, Reading};
//! use bms_afe::units::MicroVolts;
//!
//! /// Lowest valid cell of any chain, any chip; failed devices are skipped, never guessed.
//! async fn lowest_cell<M: AsyncCellMonitor>(
//!     bms: &mut M,
//!     buf: &mut [Reading<MicroVolts>],
//! ) -> Result<Option<MicroVolts>, bms_afe::Error<M::BusError>> {
//!     bms.measure_cells(ConversionMode::Normal, buf).await?;
//!     Ok(buf.iter().filter_map(|r| r.valid()).min())
//! }
//! # #[cfg(feature = "sim")] {
//! # use bms_afe::io::Async;
//! # use bms_afe::adbms6830::{Adbms6830, Adbms6830b};
//! # use bms_afe::sim::{Sim, VirtualChip, adbms6830::Adbms6830Chain};
//! # let sim = Sim::new(Adbms6830Chain::<Adbms6830b, 2>::new());
//! # sim.with(|c| for d in 0..2 { for k in 0..16 { c.set_cell_voltage(d, k, 3_600_000 + 1_500 * k as i32) } });
//! let mut bms = Adbms6830::<Adbms6830b, 2, _>::new(Async::new(sim.spi(), sim.delay()));
//! # let mut buf = [Reading::NotConverted; 32];
//! # let fut = async { bms.wake().await.unwrap(); lowest_cell(&mut bms, &mut buf).await };
//! # let mut fut = core::pin::pin!(fut);
//! # // The virtual bus and delay are always ready: a no-op waker polls this to completion.
//! # let low = loop {
//! #     if let core::task::Poll::Ready(v) = fut.as_mut()
//! #         .poll(&mut core::task::Context::from_waker(core::task::Waker::noop())) { break v; }
//! # };
//! # assert_eq!(low.unwrap(), Some(MicroVolts(3_600_000)));
//! # }
//! ```
//!
//! # Sharing a bus; an Embassy task
//!
//! The drivers take any `SpiDevice`, so bus sharing is the HAL's or `embedded-hal-bus`'s
//! business: `ExclusiveDevice` for a bus of its own, `RefCellDevice` /
//! `CriticalSectionDevice` (blocking) or Embassy's shared-bus devices (async) when other
//! chips sit on the same SPI. [`sim::SimSpiBus`](sim/bus/struct.SimSpiBus.html) offers the virtual chips at that level (an
//! `SpiBus` plus one chip-select pin per chip), so the sharing layer is tested too; its module
//! docs show two chains sharing one bus through `RefCellDevice`.
//!
//! An Embassy task takes `'static`, non-generic arguments, so name the driver type once with
//! aliases. Below, the aliases name the virtual chain's wires; on a board they name the HAL's
//! types instead, e.g. with embassy-stm32:
//! `type Spi = ExclusiveDevice<embassy_stm32::spi::Spi<'static, embassy_stm32::mode::Async>,
//! Output<'static>, embassy_time::Delay>` and `type Bms = Adbms6830<Adbms6830b, 2, Async<Spi,
//! embassy_time::Delay>>`. The crate itself needs no runtime: the driver only awaits the bus
//! and the delay it was given.
//!
//! ```
//! # #[cfg(feature = "sim")] {
//! use bms_afe::adbms6830::{Adbms6830, Adbms6830b};
//! use bms_afe::io::{Async, SpiError};
//! use bms_afe::monitor::{AsyncCellMonitor, ConversionMode, Reading};
//! use bms_afe::sim::{Sim, SimCs, SimDelay, SimSpiBus, SpiTarget, adbms6830::Adbms6830Chain};
//! use embedded_hal_bus::spi::ExclusiveDevice;
//!
//! type Chain = Adbms6830Chain<Adbms6830b, 2>;
//! type Delay = SimDelay<'static, Chain>;
//! type Spi = ExclusiveDevice<SimSpiBus<'static, 1>, SimCs<'static, 'static, Chain>, Delay>;
//! type Bms = Adbms6830<Adbms6830b, 2, Async<Spi, Delay>>;
//!
//! // #[embassy_executor::task]
//! async fn monitor_task(mut bms: Bms, rounds: u32) -> Result<u32, bms_afe::Error<SpiError<Spi>>> {
//!     bms.wake().await?;
//!     let mut cells = [Reading::NotConverted; 2 * 16];
//!     let mut healthy = 0;
//!     for _ in 0..rounds {
//!         // On a board: `loop`, with `Timer::after_millis(100).await` between rounds.
//!         let report = bms.measure_cells(ConversionMode::Normal, &mut cells).await?;
//!         if report.is_ok() {
//!             healthy += 1;
//!         }
//!     }
//!     Ok(healthy)
//! }
//!
//! // `'static` wires: on a board, the HAL's peripherals (and a `StaticCell` for shared state).
//! let sim: &'static Sim<Chain> = Box::leak(Box::new(Sim::new(Chain::new())));
//! let chip: &'static SpiTarget<'static, Chain> = Box::leak(Box::new(SpiTarget::new(sim)));
//! let spi = ExclusiveDevice::new(SimSpiBus::new([chip]), chip.cs(), sim.delay()).unwrap();
//! let bms: Bms = Adbms6830::new(Async::new(spi, sim.delay()));
//! // On Embassy: `spawner.spawn(monitor_task(bms, u32::MAX)).unwrap();` Here, any executor:
//! let task = monitor_task(bms, 3);
//! # let mut task = core::pin::pin!(task);
//! # let healthy = loop {
//! #     if let core::task::Poll::Ready(v) = task.as_mut()
//! #         .poll(&mut core::task::Context::from_waker(core::task::Waker::noop())) { break v; }
//! # };
//! # assert_eq!(healthy.unwrap(), 3);
//! # }
//! ```
//!
//! # Testing your BMS code on the host
//!
//! With the `sim` feature (as a dev-dependency: `cargo add bms-afe --dev --features sim`),
//! [`sim`](sim/index.html) offers each family's chip modelled at register level behind the embedded-hal bus
//! traits, with fault injection (bit flips at device k, silent devices, a broken chain, open
//! sense wires) and modelled time; [`conformance`](conformance/index.html) checks any [`CellMonitor`] against it,
//! including third-party drivers with their own model.
//!
//! # Crate layout
//!
//! | module | what |
//! |---|---|
//! | [`units`] | integer newtypes (µV, µA, m°C, µs) |
//! | [`crc`] | every integrity code as a pure function |
//! | [`error`] | [`Error<E>`], [`ErrorKind`], [`ConfigError`] |
//! | [`monitor`] | the [`CellMonitor`] / [`AsyncCellMonitor`] traits and shared result types |
//! | [`io`] | [`Blocking`](io::Blocking) / [`Async`](io::Async) bus wrappers: how one driver serves both |
//! | [`isospi`] | ADI daisy-chain framing shared by the ADI families |
//! | [`ltc681x`] | LTC6810, LTC6811, LTC6812, LTC6813, ADBMS1818 |
//! | [`adbms6830`] | ADBMS6830B, ADBMS6832, ADBMS6833 |
//! | [`bq769x0`] | BQ76920, BQ76930, BQ76940 over I2C |
//! | [`bq769x2`] | BQ76952, BQ76942 (and relatives) over I2C |
//! | [`bq79616`] | BQ79616, BQ79614, BQ79612, BQ79656 stacks over UART (BQ79600 bridge or base device) |
//! | [`mc3377x`] | NXP MC33771C, MC33772C over SPI or TPL (MC33664); B-silicon frames |
//! | [`tle9012`] | Infineon TLE9012DQU chains over isoUART (TLE9015DQU) |
//! | [`max1785x`] | MAX17852, MAX17853 through the MAX17841B bridge |
//! | `sim` | virtual chips with fault injection (feature `sim`) |
//! | `conformance` | the `CellMonitor` conformance suite (feature `conformance`) |
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod crc;
mod display;
pub mod error;
pub mod io;
pub mod isospi;
pub mod monitor;
pub mod units;

pub mod adbms6830;
pub mod bq769x0;
pub mod bq769x2;
pub mod bq79616;
pub mod ltc681x;
pub mod max1785x;
pub mod mc3377x;
pub mod tle9012;

#[cfg(feature = "sim")]
#[cfg_attr(docsrs, doc(cfg(feature = "sim")))]
pub mod sim;

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;

pub use error::{ConfigError, Error, ErrorKind};
pub use monitor::{AsyncCellMonitor, CellMonitor};

/// The README's examples, compiled and run as doc tests exactly as written. They use the
/// virtual chips, so they run when `sim` is on (always in the repository, where the
/// dev-dependency turns it on; in the downloaded crate with `--features sim`).
#[cfg(all(doctest, feature = "sim"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
