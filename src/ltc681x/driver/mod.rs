//! The driver: [`Ltc681x`] over an isoSPI chain, blocking and async.
//!
//! One file per capability: [`power`] (wake), [`config`] (configuration and its verified
//! write), [`measure`] (conversions and reads), [`diagnostics`] (redundancy, open wire, self
//! tests), [`balancing`] (MUTE, S control, PWM), [`aux`] (COMM), [`monitor`] (the
//! `CellMonitor` implementation); this file holds the type, its constructor and the verified
//! bus primitives.

use core::marker::PhantomData;

use super::command::{
    self, AdcMode, CellSelect, Conversion, GpioSelect, Pull, SelfTest, StatusSelect,
};
use super::convert::{self, StatusA, StatusB};
use super::register::{self, Comm, DeviceConfig, DischargeTimeout, Nibbles, Psb};
use super::variant::{Variant, has_cfgb};
use crate::error::{ConfigError, DeviceFault, Error, FaultReason, VerifyMismatch};
use crate::io::{SpiError, SpiIo, twins};
use crate::isospi::{self, DataPec, Verdicts};
use crate::monitor::{
    ChainReport, ConversionMode, Faults, MAX_DEVICES, MonitorCore, Reading, impl_cell_monitor,
};
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};

mod balancing;
mod chain;
mod config;
mod diagnostics;
mod interfaces;
mod measure;
mod monitor;
mod power;

pub use monitor::Thermistors;

/// Core wake-up time tWAKE, maximum (LTC6812-DS electrical table: 400 µs): the gap after
/// each dummy frame when waking from SLEEP.
pub const T_WAKE_US: u32 = 400;
/// isoSPI port ready time tREADY, maximum (10 µs): the gap when waking from IDLE.
pub const T_READY_US: u32 = 10;
/// isoSPI idle timeout tIDLE, minimum (LTC6812-DS electrical table: 4.3/5.5/6.7 ms): after
/// a silence this long the ports must be woken again before a command.
pub const T_IDLE_MIN_US: u32 = 4300;
/// Interval between PLADC polls.
pub const POLL_INTERVAL_US: u32 = 100;

/// One device's status: both status groups (and, on parts with more than 12 cells, the
/// OV/UV flags of cells 13.. from AUXD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Status {
    /// STAR.
    pub a: StatusA,
    /// STBR, with `overvoltage`/`undervoltage` completed from AUXD for cells 13..
    pub b: StatusB,
}

/// An LTC681x daisy chain of `N` devices of part `V` behind one chip select.
///
/// Index 0 is the device nearest the host, for reads **and** writes (the wire order
/// reversal of writes happens inside, see [`isospi`]). Every response frame of every device is
/// PEC-checked; a failing device fails only its own slots, named in the returned
/// [`ChainReport`], and the whole command is re-issued up to [`Ltc681x::retries`] times.
///
/// Configuration lives in the driver ([`Ltc681x::config`]); setters validate in the pure
/// core and return the value achieved; `write_config` sends it.
#[derive(Debug)]
pub struct Ltc681x<V: Variant, const N: usize, IO> {
    pub(crate) core: Core<V, N, IO>,
}

#[derive(Debug)]
pub(crate) struct Core<V, const N: usize, IO> {
    io: IO,
    cfg: [DeviceConfig; N],
    retries: u8,
    max_polls: u32,
    thermistors: Option<Thermistors>,
    /// Devices actually on the chain, 1..=N (see `set_device_count`).
    active: usize,
    _v: PhantomData<V>,
}

impl<V: Variant, const N: usize, IO> Ltc681x<V, N, IO> {
    const CHAIN_OK: () = assert!(N >= 1 && N <= MAX_DEVICES, "chain of 1..=64 devices");

    /// A driver for a chain of `N` devices over `io` (`Blocking::new(spi, delay)` or
    /// `Async::new(spi, delay)`), with the default configuration for every device
    /// ([`DeviceConfig::for_part`]), 2 retries and at most 1000 PLADC polls.
    pub fn new(io: IO) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CHAIN_OK;
        Self {
            core: Core {
                io,
                cfg: [DeviceConfig::for_part::<V>(); N],
                retries: 2,
                max_polls: 1000,
                thermistors: None,
                active: N,
                _v: PhantomData,
            },
        }
    }

    /// Gives the transport back.
    pub fn release(self) -> IO {
        self.core.io
    }

    /// How many times a failed read is re-issued.
    pub fn retries(&self) -> u8 {
        self.core.retries
    }

    /// Sets how many times a read with a failed device is re-issued (0 = no retry).
    pub fn set_retries(&mut self, retries: u8) {
        self.core.retries = retries;
    }

    /// Sets the bound of [`Ltc681x::poll_adc`] (at least 1).
    pub fn set_max_polls(&mut self, polls: u32) {
        self.core.max_polls = polls.max(1);
    }
}

pub(super) fn check_len<E>(len: usize, want: usize) -> Result<(), Error<E>> {
    if len == want {
        Ok(())
    } else {
        Err(Error::InvalidArgument(
            "slice length does not match the chain",
        ))
    }
}

pub(super) fn data6(frame: &[u8; 8]) -> [u8; 6] {
    [frame[0], frame[1], frame[2], frame[3], frame[4], frame[5]]
}

/// Records a `Failed` reading (a fault code decoded from a frame with a good PEC) in
/// `report`, so that fault codes show in the report as they do on the cell read path.
pub(super) fn noted<T>(r: Reading<T>, report: &mut ChainReport) -> Reading<T> {
    if let Reading::Failed(f) = r {
        report.record(f);
    }
    r
}

pub(super) fn flatten<T>(r: Reading<Reading<T>>) -> Reading<T> {
    match r {
        Reading::Valid(inner) => inner,
        Reading::NotConverted => Reading::NotConverted,
        Reading::Failed(f) => Reading::Failed(f),
    }
}

impl<V, const N: usize, IO> Core<V, N, IO> {
    /// Devices on the chain (1..=N).
    pub(super) fn n(&self) -> usize {
        self.active.clamp(1, N)
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    async fn send(&mut self, cmd: &[u8; 4]) -> Result<(), Error<IO::Error>> {
        isospi::send_command(&mut self.io, cmd)
            .await
            .map_err(Error::Bus)
    }

    async fn start(
        &mut self,
        cmd: &[u8; 4],
        what: Conversion,
        mode: AdcMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.send(cmd).await?;
        Ok(self.conversion_time(what, mode))
    }

    /// Reads one group from the `n()` devices on the chain (`4 + 8·n` bytes). Verdicts of the
    /// capacity slots beyond the chain are `NoResponse` (never `Ok`): nothing from them is
    /// data; reports are taken over `..n()` only.
    async fn read_raw(
        &mut self,
        cmd: &[u8; 4],
        frames: &mut [[u8; 8]; N],
    ) -> Result<Verdicts<N>, Error<IO::Error>> {
        let n = self.n();
        let mut v: Verdicts<N> = [Err(FaultReason::NoResponse); N];
        let (f, vv) = (
            frames.get_mut(..n).unwrap_or(&mut []),
            v.get_mut(..n).unwrap_or(&mut []),
        );
        isospi::read_verified_slice(&mut self.io, cmd, f, vv, DataPec::Pec15, self.retries)
            .await
            .map_err(Error::Bus)?;
        Ok(v)
    }

    /// The report of the devices on the chain.
    pub(super) fn report(&self, v: &Verdicts<N>) -> ChainReport {
        isospi::report_slice(v.get(..self.n()).unwrap_or(&[]))
    }

    async fn write_raw(
        &mut self,
        cmd: &[u8; 4],
        data: &[[u8; 6]; N],
    ) -> Result<(), Error<IO::Error>> {
        let n = self.n();
        let mut host = [[0u8; 8]; N];
        for (h, d) in host.iter_mut().zip(data) {
            h[..6].copy_from_slice(d);
        }
        let mut wire = [[0u8; 8]; N];
        let host = host.get(..n).unwrap_or(&[]);
        let wire = wire.get_mut(..n).unwrap_or(&mut []);
        isospi::build_write_slice(host, DataPec::Pec15, wire);
        isospi::write_chain_slice(&mut self.io, cmd, wire)
            .await
            .map_err(Error::Bus)
    }

    /// Reads one group and maps each device's data through `f` into `out`.
    async fn read_mapped<T>(
        &mut self,
        cmd: &[u8; 4],
        out: &mut [Reading<T>],
        f: impl Fn(&[u8; 6], u8) -> T,
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        let mut frames = [[0u8; 8]; N];
        let v = self.read_raw(cmd, &mut frames).await?;
        for (d, ((o, fr), verdict)) in out.iter_mut().zip(&frames).zip(&v).enumerate() {
            *o = match verdict {
                Ok(_) => Reading::Valid(f(&data6(fr), d as u8)),
                Err(reason) => Reading::Failed(DeviceFault {
                    device: d as u8,
                    reason: *reason,
                }),
            };
        }
        Ok(self.report(&v))
    }

    /// Waits `t`; if that exceeds the minimum isoSPI idle timeout (tIDLE 4.3 ms) the ports
    /// have gone IDLE and are woken again (one dummy frame per device, tREADY apart), so the
    /// next command is not lost.
    async fn settle(&mut self, t: Microseconds) -> Result<(), Error<IO::Error>> {
        let dummy = &command::RDCFGA;
        let n = self.n();
        isospi::settle(&mut self.io, t.0, T_IDLE_MIN_US, n, dummy, T_READY_US)
            .await
            .map_err(Error::Bus)
    }
}
