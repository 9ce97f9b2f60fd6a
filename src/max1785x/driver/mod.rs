//! The driver: [`Max1785x`] over a MAX17841B bridge, blocking and async.
//!
//! One file per capability: [`exchange`] (MAX17841B transactions, message exchange, register
//! reads and verified writes), [`startup`] (wake-up, HELLOALL, start-up checks), [`measure`]
//! (scans, cell/block/AUX/CSA reads), [`config`] (thresholds), [`balancing`] (balancing
//! switches and their expiration), [`diagnostics`] (alerts, comparator cross-check),
//! [`monitor`] (the `CellMonitor` implementation); this file holds the type, its
//! constructor and the shared internals.

use core::marker::PhantomData;

use super::bridge::{self, BridgeRegister, RxInterrupt, RxStatus};
use super::convert::{self, CurrentSense};
use super::message::{self, DataCheck, MAX_MESSAGE, Request};
use super::register::{
    self, Alerts, ComparatorCheck, Oversampling, Register, ScanCtrl, Thresholds,
};
use super::variant::Variant;
use crate::error::{ConfigError, DeviceFault, Error, FaultReason, VerifyMismatch};
use crate::io::{SpiError, SpiIo, twins};
use crate::monitor::{
    ChainReport, ConversionMode, Faults, MonitorCore, Reading, impl_cell_monitor,
};
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};

mod balancing;
mod config;
mod diagnostics;
mod exchange;
mod measure;
mod monitor;
mod startup;

pub use measure::{oversampling_of, scan_wait};

/// Interval between RX_STATUS polls while waiting for a message to come back (µs).
pub const MESSAGE_POLL_US: u32 = 50;
/// Interval between RX_STATUS polls while waking the chain with preambles (µs).
pub const WAKE_POLL_US: u32 = 100;
/// Interval between SCANCTRL polls while a scan runs (µs).
pub const SCAN_POLL_US: u32 = 1_000;
/// Largest READALL (covered bytes `3 + 2·N`) with Hamming distance 3 under the PEC: chains
/// of up to 13 devices (see [`crate::crc::maxim_pec8`]).
pub const READALL_HD3_MAX_DEVICES: usize = 13;

/// How registers of the whole chain are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReadMode {
    /// READALL while its PEC still detects every 1- and 2-bit error (chains of up to
    /// [`READALL_HD3_MAX_DEVICES`] devices), one READDEVICE per device above. The default.
    Auto,
    /// Always READALL (fewest bytes; for chains above 13 devices some 2-bit errors are not
    /// detected).
    ReadAll,
    /// Always one READDEVICE per device (each reply checked on its own).
    PerDevice,
}

/// Thermistors on the AUX inputs: which inputs carry one and how to turn the input's
/// ratio to its reference (ppm, [`convert::aux_ratio_ppm`]) into a temperature.
#[derive(Debug, Clone, Copy)]
pub struct Thermistors {
    /// Bit `k` = AUX`k` carries a thermistor.
    pub inputs: u8,
    /// Ratio (ppm of the reference) to temperature.
    pub convert: fn(u32) -> MilliCelsius,
}

/// A chain of `N` MAX1785x devices of part `V` behind one MAX17841B bridge.
///
/// Device `d` is the device at address `d` (HELLOALL with seed 0: device 0 is the first the
/// bridge's messages reach). Every returned message is checked (PEC, command and register
/// echo, data-check byte, alive counter when enabled); a failing READALL is re-issued whole
/// up to [`Max1785x::retries`] times and then re-read device by device, so one bad device
/// fails alone, named, in the returned [`ChainReport`].
#[derive(Debug)]
pub struct Max1785x<V: Variant, const N: usize, IO> {
    pub(crate) core: Core<V, N, IO>,
}

#[derive(Debug)]
pub(crate) struct Core<V, const N: usize, IO> {
    io: IO,
    retries: u8,
    max_polls: u32,
    max_wake_polls: u32,
    max_scan_polls: u32,
    mode: ReadMode,
    alive: Option<u8>,
    th: Thresholds,
    thermistors: Option<Thermistors>,
    current: Option<CurrentSense>,
    /// The last register read got nothing back at all (the ring is open).
    ring_open: bool,
    /// An alive-counter mismatch seen since the last confirmed scan start: some device may
    /// have missed a command (the scan request among them), so no result is trusted until
    /// a scan request is confirmed.
    suspect: Option<FaultReason>,
    /// Balancing expiration (BALEXPn) in minutes, and whether it was written since start-up.
    balance_minutes: u16,
    balexp_written: bool,
    _v: PhantomData<V>,
}

fn check_len<E>(len: usize, want: usize) -> Result<(), Error<E>> {
    if len == want {
        Ok(())
    } else {
        Err(Error::InvalidArgument(
            "slice length does not match the chain",
        ))
    }
}

/// One register of every device: the value or why that device failed.
type Slots<const N: usize> = [Result<u16, FaultReason>; N];

impl<V: Variant, const N: usize, IO> Max1785x<V, N, IO> {
    const CHAIN_OK: () = assert!(N >= 1 && N <= message::MAX_CHAIN, "chain of 1..=32 devices");

    /// A driver for a chain of `N` devices over `io` (`Blocking::new(spi, delay)` or
    /// `Async::new(spi, delay)`): 2 retries, [`ReadMode::Auto`], alive counter off, no
    /// thresholds held, at most 200 RX_STATUS polls per message (10 ms), 100 wake polls
    /// (10 ms) and 200 SCANDONE polls (200 ms).
    pub fn new(io: IO) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CHAIN_OK;
        Self {
            core: Core {
                io,
                retries: 2,
                max_polls: 200,
                max_wake_polls: 100,
                max_scan_polls: 200,
                mode: ReadMode::Auto,
                alive: None,
                th: Thresholds {
                    cell_ov: None,
                    cell_uv: None,
                    mismatch: None,
                    block_ov: None,
                    block_uv: None,
                    aux_high: None,
                    aux_low: None,
                },
                thermistors: None,
                current: None,
                ring_open: false,
                suspect: None,
                balance_minutes: 1,
                balexp_written: false,
                _v: PhantomData,
            },
        }
    }

    /// Gives the transport back.
    pub fn release(self) -> IO {
        self.core.io
    }

    /// How many times a failed message is re-issued.
    pub fn retries(&self) -> u8 {
        self.core.retries
    }

    /// Sets how many times a failed message is re-issued whole (0 = none).
    pub fn set_retries(&mut self, retries: u8) {
        self.core.retries = retries;
    }

    /// Sets the RX_STATUS poll bound per message (at least 1; [`MESSAGE_POLL_US`] apart).
    pub fn set_max_polls(&mut self, polls: u32) {
        self.core.max_polls = polls.max(1);
    }

    /// The read mode.
    pub fn read_mode(&self) -> ReadMode {
        self.core.mode
    }

    /// Sets the read mode.
    pub fn set_read_mode(&mut self, mode: ReadMode) {
        self.core.mode = mode;
    }

    /// Appends and checks the alive-counter byte on every message (`Some(seed)`), or not
    /// (`None`, the default). The devices must have their alive counter enabled for this to
    /// work; the enable bit is not in the public sources this crate cites, so the driver
    /// does not set it (write it with [`write_all_verified`](Self::write_all_verified)). A
    /// counter that did not advance by `N` fails every device of that message (it cannot
    /// say which device missed it).
    pub fn set_alive_counter(&mut self, seed: Option<u8>) {
        self.core.alive = seed;
    }

    /// The number of covered bytes of a READALL over this chain (`3 + 2·N`) and whether
    /// [`ReadMode::Auto`] uses READALL for it.
    pub const fn read_all_coverage() -> (usize, bool) {
        (3 + 2 * N, N <= READALL_HD3_MAX_DEVICES)
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    fn next_alive(&mut self) -> Option<u8> {
        let a = self.alive;
        if let Some(v) = self.alive.as_mut() {
            *v = v.wrapping_add(1);
        }
        a
    }

    /// Remembers a sequence failure (see `suspect`).
    fn note(&mut self, e: FaultReason) -> FaultReason {
        if matches!(e, FaultReason::CommandCounter { .. }) {
            self.suspect = Some(e);
        }
        e
    }

    fn uses_read_all(&self) -> bool {
        match self.mode {
            ReadMode::ReadAll => true,
            ReadMode::PerDevice => false,
            ReadMode::Auto => N <= READALL_HD3_MAX_DEVICES,
        }
    }
}

fn slot_reading<T>(
    d: usize,
    x: Result<u16, FaultReason>,
    report: &mut ChainReport,
    f: impl Fn(u16) -> T,
) -> Reading<T> {
    match x {
        Ok(v) => Reading::Valid(f(v)),
        Err(reason) => {
            let fault = DeviceFault {
                device: d as u8,
                reason,
            };
            report.record(fault);
            Reading::Failed(fault)
        }
    }
}
