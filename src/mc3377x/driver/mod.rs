//! The driver: one async core, blocking and async public methods generated from one list.
//!
//! One file per capability: [`link`] (the SPI and TPL frame exchange), [`bringup`] (wake-up,
//! reset, CID assignment, chain length, sleep), [`config`] (settings and their verified
//! write), [`measure`] (conversions and reads), [`balancing`], [`diagnostics`] (status,
//! faults, ADC1 cross-check), [`monitor`] (the `CellMonitor` implementation); this file holds
//! the type, its constructors and the checked register primitives.

use core::marker::PhantomData;

use super::convert;
use super::frame::{self, Command, FRAME_C, Response};
use super::register::{self as reg, Averaging, Fault1, GpioMode, Init, Threshold};
use super::transport::{AsyncTplLink, TplIo, TplLink};
use super::variant::{CellMap, Variant};
use crate::error::{ConfigError, DeviceFault, Error, FaultReason, VerifyMismatch};
use crate::io::{Async, Blocking, SpiIo, block_on};
use crate::monitor::{ChainReport, ConversionMode, Faults, MonitorCore, Reading};
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};

/// Generates the blocking and async methods for both transports from one list.
macro_rules! bcc_twins {
    ($(
        $(#[$m:meta])*
        pub fn $name:ident(&mut self $(, $arg:ident : $argty:ty)* $(,)?) -> $ret:ty;
    )*) => {
        impl<V: Variant, const N: usize, B: embedded_hal::spi::SpiDevice, D: embedded_hal::delay::DelayNs>
            Mc3377x<V, Spi, N, Blocking<B, D>>
        {
            $( $(#[$m])* pub fn $name(&mut self $(, $arg: $argty)*) -> $ret {
                block_on(self.core.$name($($arg),*))
            } )*
        }
        impl<V: Variant, const N: usize, B: embedded_hal_async::spi::SpiDevice, D: embedded_hal_async::delay::DelayNs>
            Mc3377x<V, Spi, N, Async<B, D>>
        {
            $( $(#[$m])* pub async fn $name(&mut self $(, $arg: $argty)*) -> $ret {
                self.core.$name($($arg),*).await
            } )*
        }
        impl<V: Variant, const N: usize, B: TplLink, D: embedded_hal::delay::DelayNs>
            Mc3377x<V, Tpl, N, Blocking<B, D>>
        {
            $( $(#[$m])* pub fn $name(&mut self $(, $arg: $argty)*) -> $ret {
                block_on(self.core.$name($($arg),*))
            } )*
        }
        impl<V: Variant, const N: usize, B: AsyncTplLink, D: embedded_hal_async::delay::DelayNs>
            Mc3377x<V, Tpl, N, Async<B, D>>
        {
            $( $(#[$m])* pub async fn $name(&mut self $(, $arg: $argty)*) -> $ret {
                self.core.$name($($arg),*).await
            } )*
        }
    };
}

mod balancing;
mod bringup;
mod config;
mod diagnostics;
mod link;
mod measure;
mod monitor;

pub use bringup::T_RESET_READY_US;
pub use config::Settings;
pub use diagnostics::{Adc1Check, Status};
pub(crate) use link::Link;
pub use link::{
    Spi, T_SPI_WAKE_LOW_US, T_SPI_WAKE_UP_US, T_TPL_WAKE_DELAY_US, T_TPL_WAKE_PER_DEVICE_US,
    T_TPL_WAKE_PULSE_US, Tpl, Transport, tpl_timeout_us,
};
pub use measure::{CoulombCounter, T_EOC_TIMEOUT_US, T_EOC_TYP_US, averaging_for, conversion_time};

/// Longest register block one driver read asks for.
const MAX_BLOCK: usize = 32;

/// An NXP MC33771C/MC33772C chain of `N` devices over transport `T` ([`Spi`]: `N` = 1;
/// [`Tpl`]: 1..=63), on a [`Blocking`] or [`Async`] wrapped bus.
///
/// Device `k` (0-based, nearest the host first) has CID `k + 1`. Every response is checked
/// (CRC-8, message counter, echo on TPL); a bad device fails only its own values, after the
/// whole command was re-issued up to [`Mc3377x::retries`] times.
#[derive(Debug)]
pub struct Mc3377x<V: Variant, T: Transport, const N: usize, IO> {
    core: Core<V, T, N, IO>,
}

#[derive(Debug)]
pub(crate) struct Core<V, T, const N: usize, IO> {
    io: IO,
    map: CellMap,
    counters: [Option<u8>; N],
    cid0_counter: Option<u8>,
    null_ok: bool,
    suspect: [Option<FaultReason>; N],
    retries: u8,
    settings: Settings,
    averaging: Averaging,
    initialised: bool,
    _m: PhantomData<(V, T)>,
}

impl<V: Variant, const N: usize, IO> Mc3377x<V, Spi, N, IO> {
    /// A driver for one device on direct SPI with `cells` cells (MC33771C 7..=14, MC33772C
    /// 3..=6). `N` must be 1 (checked at compile time). Nothing is sent until
    /// [`init`](Self::init) or [`wake`](Self::wake).
    pub fn new_spi(io: IO, cells: u8) -> Result<Self, ConfigError> {
        const { assert!(N == 1, "direct SPI talks to exactly one device") };
        Self::build(io, cells)
    }
}

impl<V: Variant, const N: usize, IO> Mc3377x<V, Tpl, N, IO> {
    /// A driver for a TPL chain of `N` devices with `cells` cells each. `N` must be 1..=63
    /// (checked at compile time).
    pub fn new_tpl(io: IO, cells: u8) -> Result<Self, ConfigError> {
        const {
            assert!(
                N >= 1 && N <= 63,
                "a C-silicon TPL chain has 1..=63 devices"
            )
        };
        Self::build(io, cells)
    }
}

impl<V: Variant, T: Transport, const N: usize, IO> Mc3377x<V, T, N, IO> {
    fn build(io: IO, cells: u8) -> Result<Self, ConfigError> {
        if V::SILICON != super::variant::Silicon::C {
            return Err(ConfigError::Unsupported(
                "the driver speaks the C-silicon frames; B frames are in `frame` only",
            ));
        }
        Ok(Self {
            core: Core {
                io,
                map: CellMap::new::<V>(cells)?,
                counters: [None; N],
                cid0_counter: None,
                null_ok: true,
                suspect: [None; N],
                retries: 2,
                settings: Settings::default(),
                averaging: Averaging::NONE,
                initialised: false,
                _m: PhantomData,
            },
        })
    }

    /// Gives the wrapped bus back.
    pub fn release(self) -> IO {
        self.core.io
    }

    /// The cell map of every device.
    pub fn cell_map(&self) -> CellMap {
        self.core.map
    }

    /// Re-issues of a failed command (default 2).
    pub fn retries(&self) -> u8 {
        self.core.retries
    }

    /// Sets the number of re-issues.
    pub fn set_retries(&mut self, retries: u8) {
        self.core.retries = retries;
    }

    /// The settings written at initialisation.
    pub fn settings(&self) -> &Settings {
        &self.core.settings
    }
}

fn fault(device: usize, reason: FaultReason) -> DeviceFault {
    DeviceFault {
        device: device as u8,
        reason,
    }
}

fn check_len<E>(got: usize, want: usize) -> Result<(), Error<E>> {
    if got == want {
        Ok(())
    } else {
        Err(Error::InvalidArgument(
            "slice length does not match the chain",
        ))
    }
}

type Outcome = Result<(), FaultReason>;

impl<V: Variant, T: Link<IO>, const N: usize, IO> Core<V, T, N, IO> {
    fn counter_slot(&mut self, device: Option<usize>) -> &mut Option<u8> {
        if !T::TPL {
            // One device: one counter, whatever CID the frame carried.
            match self.counters.first_mut() {
                Some(c) => c,
                None => &mut self.cid0_counter,
            }
        } else {
            match device.and_then(|d| self.counters.get_mut(d)) {
                Some(c) => c,
                None => &mut self.cid0_counter,
            }
        }
    }

    /// Checks one response frame of `device` (`None` = CID 0): CRC, null, counter.
    fn check_response(
        &mut self,
        device: Option<usize>,
        f: &[u8; FRAME_C],
        allow_null: bool,
    ) -> Result<Response, FaultReason> {
        match frame::parse_c(f) {
            Ok(r) => {
                let null_ok = allow_null || self.null_ok;
                let slot = self.counter_slot(device);
                let seq = frame::check_counter(slot, r.counter);
                if r.is_null() {
                    if null_ok {
                        self.null_ok = false;
                        return Ok(r);
                    }
                    return Err(FaultReason::Framing);
                }
                self.null_ok = false;
                seq.map(|_| r)
            }
            Err(FaultReason::NoResponse) => Err(FaultReason::NoResponse),
            Err(e) => {
                // The device did send a frame (and counted it).
                let slot = self.counter_slot(device);
                *slot = slot.map(frame::next_counter);
                Err(e)
            }
        }
    }

    fn cid(device: Option<usize>) -> u8 {
        device.map_or(0, |d| d as u8 + 1)
    }

    /// One attempt to read `out.len()` registers.
    async fn read_once(
        &mut self,
        device: Option<usize>,
        register: u8,
        out: &mut [u16],
        allow_null: bool,
    ) -> Result<Outcome, Error<T::Error>> {
        let n = out.len();
        let mut frames = [[0u8; FRAME_C]; MAX_BLOCK + 1];
        let frames = match frames.get_mut(..n + 1) {
            Some(f) if n > 0 && n <= MAX_BLOCK => f,
            _ => return Err(Error::InvalidArgument("register block length")),
        };
        let cid = Self::cid(device);
        let got = T::read(&mut self.io, cid, register, frames)
            .await
            .map_err(Error::Bus)?;
        let mut verdict: Outcome = Ok(());
        let first = frames[0];
        if T::TPL {
            let tx = frame::request_c(n as u16, register, cid, Command::Read);
            if got == 0 {
                return Ok(Err(FaultReason::NoResponse));
            }
            if first != tx {
                return Ok(Err(FaultReason::Framing));
            }
        } else if let Err(e) = self.check_response(device, &first, allow_null) {
            verdict = Err(e);
        }
        // Fast path per frame: CRC good, not a null response, counter = previous + 1; anything
        // else goes through `check_response`, which classifies it.
        let mut last = *self.counter_slot(device);
        for (i, o) in out.iter_mut().enumerate() {
            let Some(f) = frames.get(i + 1) else {
                return Ok(Err(FaultReason::Framing));
            };
            if i + 1 >= got {
                // Frames that never arrived: the device did not send them.
                *self.counter_slot(device) = last;
                return Ok(verdict.and(Err(FaultReason::NoResponse)));
            }
            let cnt = f[4] >> 4;
            let null = (f[0] | f[1] | f[2] | f[3]) == 0 && f[4] & 0x03 == 0;
            if crate::crc::crc8_nxp_bcc_frame_ok(f)
                && !null
                && last.is_none_or(|p| frame::next_counter(p) == cnt)
            {
                *o = u16::from_be_bytes([f[0], f[1]]);
                last = Some(cnt);
                self.null_ok = false;
                continue;
            }
            *self.counter_slot(device) = last;
            let f = *f;
            match self.check_response(device, &f, allow_null) {
                Ok(r) => *o = r.data,
                Err(e) => {
                    if verdict.is_ok() {
                        verdict = Err(e);
                    }
                }
            }
            last = *self.counter_slot(device);
        }
        *self.counter_slot(device) = last;
        Ok(verdict)
    }

    /// Reads a register block of `device`, re-issuing the command on CRC/framing/no-response
    /// failures; a message-counter failure ends the operation for the device at once and
    /// marks it until the next conversion start.
    async fn read_regs(
        &mut self,
        device: Option<usize>,
        register: u8,
        out: &mut [u16],
    ) -> Result<Outcome, Error<T::Error>> {
        self.read_regs_with(device, register, out, false).await
    }

    async fn read_regs_with(
        &mut self,
        device: Option<usize>,
        register: u8,
        out: &mut [u16],
        allow_null: bool,
    ) -> Result<Outcome, Error<T::Error>> {
        let mut last = Ok(());
        for _ in 0..=self.retries {
            last = self.read_once(device, register, out, allow_null).await?;
            match last {
                Ok(()) => return Ok(Ok(())),
                Err(r @ FaultReason::CommandCounter { .. }) => {
                    if let Some(s) = device.and_then(|d| self.suspect.get_mut(d)) {
                        *s = Some(r);
                    }
                    return Ok(Err(r));
                }
                Err(_) => {}
            }
        }
        Ok(last)
    }

    /// Writes one register of `device` (`None` = CID 0).
    async fn write_reg(
        &mut self,
        device: Option<usize>,
        register: u8,
        value: u16,
    ) -> Result<Outcome, Error<T::Error>> {
        let tx = frame::request_c(value, register, Self::cid(device), Command::Write);
        self.send_checked(device, &tx).await
    }

    async fn send_checked(
        &mut self,
        device: Option<usize>,
        tx: &[u8; FRAME_C],
    ) -> Result<Outcome, Error<T::Error>> {
        let mut last = Ok(());
        for _ in 0..=self.retries {
            let mut rx = [0u8; FRAME_C];
            let got = T::send(&mut self.io, tx, &mut rx)
                .await
                .map_err(Error::Bus)?;
            last = if T::TPL {
                if !got {
                    Err(FaultReason::NoResponse)
                } else if rx != *tx {
                    Err(FaultReason::Framing)
                } else {
                    Ok(())
                }
            } else {
                self.check_response(device, &rx, false).map(|_| ())
            };
            match last {
                Ok(()) => return Ok(Ok(())),
                Err(r @ FaultReason::CommandCounter { .. }) => {
                    if let Some(s) = device.and_then(|d| self.suspect.get_mut(d)) {
                        *s = Some(r);
                    }
                    return Ok(Err(r));
                }
                Err(_) => {}
            }
        }
        Ok(last)
    }

    /// A global write on TPL (CID 0, command 3; only the echo comes back), a write to the
    /// one device on SPI.
    async fn write_global(&mut self, register: u8, value: u16) -> Result<Outcome, Error<T::Error>> {
        if T::TPL {
            let tx = frame::request_c(value, register, 0, Command::GlobalWrite);
            self.send_checked(None, &tx).await
        } else {
            self.write_reg(Some(0), register, value).await
        }
    }

    async fn write_verified(
        &mut self,
        device: usize,
        register: u8,
        name: &'static str,
        value: u16,
        mask: u16,
    ) -> Result<(), Error<T::Error>> {
        self.write_reg(Some(device), register, value)
            .await?
            .map_err(|r| Error::Integrity(fault(device, r)))?;
        let mut back = [0u16; 1];
        self.read_regs(Some(device), register, &mut back)
            .await?
            .map_err(|r| Error::Integrity(fault(device, r)))?;
        let (w, r) = (value & mask, back[0] & mask);
        if w != r {
            let hi = (w ^ r) & 0xFF00 != 0;
            let (offset, e, a) = if hi {
                (0, (w >> 8) as u8, (r >> 8) as u8)
            } else {
                (1, w as u8, r as u8)
            };
            return Err(Error::Verify(VerifyMismatch {
                device: device as u8,
                register: name,
                offset,
                expected: e,
                actual: a,
            }));
        }
        Ok(())
    }

    async fn read_one(&mut self, device: usize, register: u8) -> Result<u16, Error<T::Error>> {
        let mut v = [0u16; 1];
        self.read_regs(Some(device), register, &mut v)
            .await?
            .map_err(|r| Error::Integrity(fault(device, r)))?;
        Ok(v[0])
    }

    async fn read_register(&mut self, device: usize, register: u8) -> Result<u16, Error<T::Error>> {
        if device >= N || register > frame::MAX_REGISTER {
            return Err(Error::InvalidArgument("device index or register address"));
        }
        self.read_one(device, register).await
    }

    async fn write_register(
        &mut self,
        device: usize,
        register: u8,
        value: u16,
    ) -> Result<(), Error<T::Error>> {
        if device >= N || register > frame::MAX_REGISTER {
            return Err(Error::InvalidArgument("device index or register address"));
        }
        self.write_reg(Some(device), register, value)
            .await?
            .map_err(|r| Error::Integrity(fault(device, r)))
    }
}

bcc_twins! {
    /// Reads any register of `device`.
    pub fn read_register(&mut self, device: usize, register: u8) -> Result<u16, Error<B::Error>>;
    /// Writes any register of `device` (no read-back).
    pub fn write_register(&mut self, device: usize, register: u8, value: u16) -> Result<(), Error<B::Error>>;
}
