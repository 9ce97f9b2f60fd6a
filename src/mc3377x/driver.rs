//! The driver: one async core, blocking and async public methods generated from one list.

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

use embedded_hal::spi::Operation;

/// Direct SPI to one device (responses arrive one frame late; handled inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spi;
/// TPL daisy chain through an MC33664 ([`TplLink`] / [`AsyncTplLink`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tpl;

mod private {
    pub trait Sealed {}
}
impl private::Sealed for Spi {}
impl private::Sealed for Tpl {}

/// The two transports, [`Spi`] and [`Tpl`].
pub trait Transport: private::Sealed + Copy + Default + 'static {
    /// `true` for [`Tpl`].
    const TPL: bool;
}
impl Transport for Spi {
    const TPL: bool = false;
}
impl Transport for Tpl {
    const TPL: bool = true;
}

/// SPI wake-up: CSB low 80 µs, then 440 µs until the device is ready (`BCC_CSB_WU_FLT_US`,
/// `BCC_T_WAKE_UP_US`, NXP BCC SW driver v2.2 `bcc.c`).
pub const T_SPI_WAKE_LOW_US: u32 = 80;
/// See [`T_SPI_WAKE_LOW_US`].
pub const T_SPI_WAKE_UP_US: u32 = 440;
/// TPL wake-up pattern: CSB_TX low 25 µs, high 600 µs, low 25 µs, then 750 µs per device
/// (`BCC_WAKE_PULSE_US`, `BCC_T_WAKE_DELAY_US`, `BCC_T_WU_WAIT_US`).
pub const T_TPL_WAKE_PULSE_US: u32 = 25;
/// See [`T_TPL_WAKE_PULSE_US`].
pub const T_TPL_WAKE_DELAY_US: u32 = 600;
/// See [`T_TPL_WAKE_PULSE_US`].
pub const T_TPL_WAKE_PER_DEVICE_US: u32 = 750;
/// After a software reset, before initialisation (`BCC_T_VPWR_READY_MS`).
pub const T_RESET_READY_US: u32 = 5_000;
/// Conversion time, typical and timeout, each × 2^AVG (`BCC_T_EOC_TYP_US`,
/// `BCC_T_EOC_TIMEOUT_US`).
pub const T_EOC_TYP_US: u32 = 520;
/// See [`T_EOC_TYP_US`].
pub const T_EOC_TIMEOUT_US: u32 = 650;

/// The bound given to [`TplLink::transfer`] for `frames` frames: 200 µs of latency plus
/// 50 µs per 48-bit frame (24 µs at the 2 Mbit/s TPL rate, doubled).
pub const fn tpl_timeout_us(frames: usize) -> u32 {
    200 + 50 * frames as u32
}

/// Longest register block one driver read asks for.
const MAX_BLOCK: usize = 32;

/// The transport-specific frame exchange.
#[allow(async_fn_in_trait)]
pub(crate) trait Link<IO>: Transport {
    type Error: core::fmt::Debug;
    /// Reads `out.len() − 1` registers from `register` of `cid`. `out\[0\]` receives the
    /// response to the previous frame (SPI) or the echo (TPL); returns the frames received.
    async fn read(
        io: &mut IO,
        cid: u8,
        register: u8,
        out: &mut [[u8; FRAME_C]],
    ) -> Result<usize, Self::Error>;
    /// Sends one frame; `rx` receives the previous response (SPI) or the echo (TPL).
    async fn send(
        io: &mut IO,
        tx: &[u8; FRAME_C],
        rx: &mut [u8; FRAME_C],
    ) -> Result<bool, Self::Error>;
    async fn wake(io: &mut IO, devices: usize) -> Result<(), Self::Error>;
    async fn delay_us(io: &mut IO, us: u32);
}

impl<IO: SpiIo> Link<IO> for Spi {
    type Error = IO::Error;
    async fn read(
        io: &mut IO,
        cid: u8,
        register: u8,
        out: &mut [[u8; FRAME_C]],
    ) -> Result<usize, IO::Error> {
        // BCC_Reg_ReadSpi: n + 1 frames, each a READ with data 0x0001 of the next address;
        // each transfer returns the response to the frame before.
        for (i, f) in out.iter_mut().enumerate() {
            let addr = register.wrapping_add(i as u8) & 0x7F;
            *f = frame::request_c(0x0001, addr, cid, Command::Read);
            io.transaction(&mut [Operation::TransferInPlace(f)]).await?;
        }
        Ok(out.len())
    }
    async fn send(
        io: &mut IO,
        tx: &[u8; FRAME_C],
        rx: &mut [u8; FRAME_C],
    ) -> Result<bool, IO::Error> {
        *rx = *tx;
        io.transaction(&mut [Operation::TransferInPlace(rx)])
            .await?;
        Ok(true)
    }
    async fn wake(io: &mut IO, _devices: usize) -> Result<(), IO::Error> {
        io.transaction(&mut [Operation::DelayNs(T_SPI_WAKE_LOW_US * 1_000)])
            .await?;
        io.delay_us(T_SPI_WAKE_UP_US).await;
        Ok(())
    }
    async fn delay_us(io: &mut IO, us: u32) {
        io.delay_us(us).await
    }
}

impl<IO: TplIo> Link<IO> for Tpl {
    type Error = IO::Error;
    async fn read(
        io: &mut IO,
        cid: u8,
        register: u8,
        out: &mut [[u8; FRAME_C]],
    ) -> Result<usize, IO::Error> {
        // BCC_Reg_ReadTpl: one READ whose data field is the register count; echo + n frames.
        let n = out.len().saturating_sub(1);
        let tx = frame::request_c(n as u16, register, cid, Command::Read);
        // Only the `got` bytes that arrived are ever parsed.
        let bytes = out.as_flattened_mut();
        let got = io
            .transfer(&tx, bytes, tpl_timeout_us(n + 1))
            .await?
            .min(bytes.len());
        Ok(got / FRAME_C)
    }
    async fn send(
        io: &mut IO,
        tx: &[u8; FRAME_C],
        rx: &mut [u8; FRAME_C],
    ) -> Result<bool, IO::Error> {
        rx.fill(0xFF);
        let got = io.transfer(tx, rx, tpl_timeout_us(1)).await?;
        Ok(got >= FRAME_C)
    }
    async fn wake(io: &mut IO, devices: usize) -> Result<(), IO::Error> {
        io.set_csb_tx(false).await?;
        io.delay_us(T_TPL_WAKE_PULSE_US).await;
        io.set_csb_tx(true).await?;
        io.delay_us(T_TPL_WAKE_DELAY_US).await;
        io.set_csb_tx(false).await?;
        io.delay_us(T_TPL_WAKE_PULSE_US).await;
        io.set_csb_tx(true).await?;
        io.delay_us(T_TPL_WAKE_PER_DEVICE_US * devices as u32).await;
        Ok(())
    }
    async fn delay_us(io: &mut IO, us: u32) {
        io.delay_us(us).await
    }
}

/// The configuration the driver writes at initialisation (and after every re-initialisation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Settings {
    /// Common cell overvoltage threshold (TH_ALL_CT\[15:8\]).
    pub overvoltage: Threshold,
    /// Common cell undervoltage threshold (TH_ALL_CT\[7:0\]).
    pub undervoltage: Threshold,
    /// CB_TIMER code written with every enabled balancing switch (0..=511; the unit is in the
    /// data sheet, see the module docs).
    pub cb_timer: u16,
    /// Shunt resistance in µΩ for the current channel; 0 = no shunt (current not enabled).
    pub shunt_micro_ohm: u32,
    /// SYS_CFG2 TIMEOUT_COMM code (0..=3), `None` = leave the reset value.
    pub comm_timeout: Option<u8>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            overvoltage: Threshold {
                code: 0xFF,
                achieved: MicroVolts(0xFF * reg::CELL_THRESHOLD_LSB_UV),
            },
            undervoltage: Threshold {
                code: 0,
                achieved: MicroVolts(0),
            },
            cb_timer: reg::cb_cfg_bits::CB_TIMER,
            shunt_micro_ohm: 0,
            comm_timeout: None,
        }
    }
}

/// Raw and converted results of one device's measurement block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CoulombCounter {
    /// Sum of ISENSE samples in V2RES units (0.6 µV).
    pub count: i32,
    /// Samples summed (CC_NB_SAMPLES).
    pub samples: u16,
    /// The average current over the window, if a shunt is configured.
    pub average: Option<MicroAmps>,
}

/// ADC1-A / ADC1-B cross-check of one device: both ADCs convert the band gap
/// (MEAS_VBG_DIAG_ADC1A/B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Adc1Check {
    /// ADC1-A's reading.
    pub adc1_a: MicroVolts,
    /// ADC1-B's reading.
    pub adc1_b: MicroVolts,
    /// `|a − b| ≤ tolerance`.
    pub agree: bool,
}

/// Decoded fault and diagnostic registers of one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Status {
    /// CELL_OV_FLT mapped to cells (bit `i` = cell `i + 1`).
    pub cell_ov: u32,
    /// CELL_UV_FLT mapped to cells.
    pub cell_uv: u32,
    /// FAULT1_STATUS.
    pub fault1: Fault1,
    /// FAULT2_STATUS (raw).
    pub fault2: u16,
    /// FAULT3_STATUS (raw).
    pub fault3: u16,
    /// COM_STATUS (raw: communication error counters).
    pub com_status: u16,
    /// CB_OPEN_FLT mapped to cells: balancing switch open load.
    pub cb_open: u32,
    /// CB_SHORT_FLT mapped to cells: balancing switch short.
    pub cb_short: u32,
    /// GPIO_STS (raw).
    pub gpio_sts: u16,
    /// AN_OT_UT_FLT (raw: the AN OT and UT flags).
    pub an_ot_ut: u16,
    /// GPIO_SHORT_ANX_OPEN_STS (raw: GPIO short and AN open-input flags).
    pub gpio_short_an_open: u16,
    /// I_STATUS (raw).
    pub i_status: u16,
}

impl Status {
    /// The common fault view.
    pub fn faults(&self) -> Faults {
        let f = self.fault1;
        Faults {
            overvoltage: self.cell_ov,
            undervoltage: self.cell_uv,
            over_temperature: f.contains(Fault1::AN_OT),
            under_temperature: f.contains(Fault1::AN_UT),
            thermal_shutdown: false,
            internal: f.intersects(
                Fault1::VPWR_LV | Fault1::VPWR_OV | Fault1::COM_ERR_OVR | Fault1::I2C_ERR,
            ),
            overcurrent: f.contains(Fault1::IS_OC),
            short_circuit: false,
            raw: u32::from(f.bits()) | u32::from(self.fault2) << 16,
        }
    }
}

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

    /// Sets the common cell OV/UV thresholds (written at the next [`init`](Self::init) /
    /// [`configure`](Self::configure)); returns the achieved (overvoltage, undervoltage).
    pub fn set_cell_thresholds(
        &mut self,
        overvoltage: MicroVolts,
        undervoltage: MicroVolts,
    ) -> Result<(MicroVolts, MicroVolts), ConfigError> {
        let ov = reg::cell_threshold(overvoltage)?;
        let uv = reg::cell_threshold(undervoltage)?;
        if uv.code >= ov.code {
            return Err(ConfigError::Conflict(
                "undervoltage threshold must be below overvoltage",
            ));
        }
        self.core.settings.overvoltage = ov;
        self.core.settings.undervoltage = uv;
        Ok((ov.achieved, uv.achieved))
    }

    /// Sets the balancing timer code (CB_TIMER, 0..=511).
    pub fn set_cb_timer(&mut self, code: u16) -> Result<u16, ConfigError> {
        if code > reg::cb_cfg_bits::CB_TIMER {
            return Err(ConfigError::OutOfRange {
                field: "CB_TIMER",
                value: i64::from(code),
                min: 0,
                max: i64::from(reg::cb_cfg_bits::CB_TIMER),
            });
        }
        self.core.settings.cb_timer = code;
        Ok(code)
    }

    /// Sets the shunt resistance (µΩ, > 0) of device 0's current channel; enables I_MEAS_EN
    /// at the next initialisation and makes [`read_current`](crate::CellMonitor::read_current)
    /// return a value.
    pub fn set_shunt(&mut self, micro_ohm: u32) -> Result<u32, ConfigError> {
        if micro_ohm == 0 {
            return Err(ConfigError::OutOfRange {
                field: "shunt resistance (µΩ)",
                value: 0,
                min: 1,
                max: i64::from(u32::MAX),
            });
        }
        self.core.settings.shunt_micro_ohm = micro_ohm;
        Ok(micro_ohm)
    }

    /// Sets the SYS_CFG2 TIMEOUT_COMM code (0..=3) written at initialisation.
    pub fn set_comm_timeout(&mut self, code: u8) -> Result<u8, ConfigError> {
        if code > 3 {
            return Err(ConfigError::OutOfRange {
                field: "SYS_CFG2 TIMEOUT_COMM",
                value: i64::from(code),
                min: 0,
                max: 3,
            });
        }
        self.core.settings.comm_timeout = Some(code);
        Ok(code)
    }

    /// Sets the averaging used by [`start_conversion`](Self::start_conversion) for the
    /// `CellMonitor` modes' `Normal`; see the module docs for the mode mapping.
    pub fn set_averaging(&mut self, avg: Averaging) {
        self.core.averaging = avg;
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

/// `CellMonitor` conversion modes to ADC_CFG AVG.
pub const fn averaging_for(mode: ConversionMode) -> Averaging {
    match mode {
        ConversionMode::Fast => Averaging::NONE,
        ConversionMode::Normal => match Averaging::new(2) {
            Ok(a) => a,
            Err(_) => Averaging::NONE,
        },
        ConversionMode::Filtered => match Averaging::new(5) {
            Ok(a) => a,
            Err(_) => Averaging::NONE,
        },
    }
}

/// The wait after a start with averaging `avg`: the timeout bound 650 µs × 2^AVG.
pub const fn conversion_time(avg: Averaging) -> Microseconds {
    Microseconds(T_EOC_TIMEOUT_US << avg.exp())
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

    // ---- bring-up ----------------------------------------------------------------------

    async fn wake_pattern(&mut self) -> Result<(), Error<T::Error>> {
        T::wake(&mut self.io, N).await.map_err(Error::Bus)
    }

    /// Assigns CID `k + 1` to the first unassigned device (`BCC_AssignCid`).
    async fn assign(&mut self, k: usize) -> Result<(), Error<T::Error>> {
        let init = Init::assign(k as u8 + 1, N, T::TPL, V::IS_MC33772).to_bits();
        let mut last = Err(Error::Integrity(fault(k, FaultReason::NoResponse)));
        for attempt in 0..2 {
            if attempt > 0 {
                T::delay_us(&mut self.io, 750).await;
            }
            let mut v = [0u16; 1];
            // Read INIT from CID 0 (the very first response may be the null response).
            if let Err(r) = self.read_regs_with(None, reg::INIT, &mut v, true).await? {
                last = Err(Error::Integrity(fault(k, r)));
                continue;
            }
            if let Err(r) = self.write_reg(None, reg::INIT, init).await? {
                last = Err(Error::Integrity(fault(k, r)));
                continue;
            }
            if T::TPL {
                let c = self.cid0_counter.take();
                if let Some(slot) = self.counters.get_mut(k) {
                    *slot = c;
                }
            }
            match self.read_regs(Some(k), reg::INIT, &mut v).await? {
                Err(r) => last = Err(Error::Integrity(fault(k, r))),
                Ok(()) if v[0] & 0x01FF != init => {
                    last = Err(Error::Verify(VerifyMismatch {
                        device: k as u8,
                        register: "INIT",
                        offset: 1,
                        expected: init as u8,
                        actual: v[0] as u8,
                    }))
                }
                Ok(()) => return Ok(()),
            }
        }
        last
    }

    async fn reset_and_assign(&mut self, count: usize) -> Result<usize, Error<T::Error>> {
        self.wake_pattern().await?;
        // BCC_SoftwareReset: global on TPL, CID 1 on SPI; its answer is not checked (devices
        // without a CID ignore it).
        let tx = if T::TPL {
            frame::request_c(
                reg::sys_cfg1::SOFT_RST,
                reg::SYS_CFG1,
                0,
                Command::GlobalWrite,
            )
        } else {
            frame::request_c(reg::sys_cfg1::SOFT_RST, reg::SYS_CFG1, 1, Command::Write)
        };
        let mut rx = [0u8; FRAME_C];
        T::send(&mut self.io, &tx, &mut rx)
            .await
            .map_err(Error::Bus)?;
        T::delay_us(&mut self.io, T_RESET_READY_US).await;
        self.counters = [None; N];
        self.cid0_counter = None;
        self.null_ok = true;
        self.suspect = [None; N];
        self.initialised = false;
        for k in 0..count {
            if k > 0 {
                T::delay_us(&mut self.io, 2_000).await;
                if T::TPL {
                    self.wake_pattern().await?;
                }
            }
            self.assign(k).await?;
        }
        Ok(count)
    }

    async fn configure(&mut self) -> Result<(), Error<T::Error>> {
        let s = self.settings;
        let inputs = self.map.mask();
        for d in 0..N {
            let cfg1 = self.read_one(d, reg::SYS_CFG1).await?;
            let mut want = cfg1 | reg::sys_cfg1::CB_DRVEN;
            if s.shunt_micro_ohm != 0 {
                want |= reg::sys_cfg1::I_MEAS_EN;
            }
            want &= !(reg::sys_cfg1::SOFT_RST | reg::sys_cfg1::GO2DIAG);
            self.write_verified(
                d,
                reg::SYS_CFG1,
                "SYS_CFG1",
                want,
                // Only the bits the driver sets are compared (the others are the chip's).
                reg::sys_cfg1::CB_DRVEN | reg::sys_cfg1::I_MEAS_EN,
            )
            .await?;
            if let Some(code) = s.comm_timeout {
                let cfg2 = self.read_one(d, reg::SYS_CFG2).await?;
                let want = (cfg2 & !0x0030) | u16::from(code) << reg::SYS_CFG2_TIMEOUT_COMM_SHIFT;
                self.write_verified(d, reg::SYS_CFG2, "SYS_CFG2", want, 0x0030)
                    .await?;
            }
            self.write_verified(
                d,
                reg::TH_ALL_CT,
                "TH_ALL_CT",
                reg::th_all_ct(s.overvoltage, s.undervoltage),
                0xFFFF,
            )
            .await?;
            self.write_verified(
                d,
                reg::OV_UV_EN,
                "OV_UV_EN",
                reg::OV_UV_EN_COMMON | inputs,
                0xFFFF,
            )
            .await?;
        }
        Ok(())
    }

    async fn init(&mut self) -> Result<(), Error<T::Error>> {
        let n = self.reset_and_assign(N).await?;
        if n != N {
            return Err(Error::Device {
                device: n as u8,
                what: "chain shorter than configured",
            });
        }
        self.configure().await?;
        self.initialised = true;
        Ok(())
    }

    async fn detect_chain_length(&mut self) -> Result<usize, Error<T::Error>> {
        if !T::TPL {
            return Ok(1);
        }
        // Assign CIDs until no unassigned device answers on CID 0 (up to N).
        self.wake_pattern().await?;
        let tx = frame::request_c(
            reg::sys_cfg1::SOFT_RST,
            reg::SYS_CFG1,
            0,
            Command::GlobalWrite,
        );
        let mut rx = [0u8; FRAME_C];
        T::send(&mut self.io, &tx, &mut rx)
            .await
            .map_err(Error::Bus)?;
        T::delay_us(&mut self.io, T_RESET_READY_US).await;
        self.counters = [None; N];
        self.cid0_counter = None;
        self.initialised = false;
        let mut found = 0;
        for k in 0..N {
            if k > 0 {
                T::delay_us(&mut self.io, 2_000).await;
                self.wake_pattern().await?;
            }
            let mut v = [0u16; 1];
            let saved = self.retries;
            self.retries = 0;
            let probe = self.read_regs_with(None, reg::INIT, &mut v, true).await;
            self.retries = saved;
            match probe? {
                Ok(()) => {}
                Err(_) => break,
            }
            self.assign(k).await?;
            found = k + 1;
        }
        Ok(found)
    }

    async fn wake(&mut self) -> Result<(), Error<T::Error>> {
        self.wake_pattern().await?;
        if self.initialised {
            let mut all = true;
            for d in 0..N {
                let mut v = [0u16; 1];
                match self.read_regs(Some(d), reg::INIT, &mut v).await? {
                    Ok(()) if v[0] & 0x3F == d as u16 + 1 => {}
                    _ => {
                        all = false;
                        break;
                    }
                }
            }
            if all {
                return Ok(());
            }
        }
        self.init().await
    }

    async fn sleep(&mut self) -> Result<(), Error<T::Error>> {
        // BCC_Sleep: GO2SLEEP globally (TPL) or to CID 1 (SPI).
        self.write_global(reg::SYS_CFG_GLOBAL, 0x0001)
            .await?
            .map_err(|r| Error::Integrity(fault(0, r)))
    }

    // ---- measurement -------------------------------------------------------------------

    async fn start_conversion(&mut self, avg: Averaging) -> Result<ChainReport, Error<T::Error>> {
        self.suspect = [None; N];
        let mut report = ChainReport::OK;
        if let Err(r) = self.write_global(reg::ADC_CFG, avg.start_value()).await? {
            // TPL: the echo did not come back, nobody can be trusted to have started. SPI: the
            // one device. Their results stay failed until the next start.
            let devices = if T::TPL { N } else { 1 };
            for d in 0..devices {
                report.record(fault(d, r));
                if let Some(s) = self.suspect.get_mut(d) {
                    *s = Some(r);
                }
            }
        }
        Ok(report)
    }

    /// Waits the typical conversion time, then polls ADC_CFG EOC_N of every device (every
    /// 50 µs) until all have finished or the 650 µs × 2^AVG bound has passed
    /// (`BCC_Meas_StartAndWait`).
    async fn wait_conversion(&mut self, avg: Averaging) -> Result<(), Error<T::Error>> {
        const POLL_US: u32 = 50;
        let typ = T_EOC_TYP_US << avg.exp();
        let bound = T_EOC_TIMEOUT_US << avg.exp();
        T::delay_us(&mut self.io, typ).await;
        let mut waited = typ;
        for d in 0..N {
            loop {
                if !self.is_converting(d).await? {
                    break;
                }
                if waited >= bound {
                    return Err(Error::Timeout("end of conversion (ADC_CFG EOC_N)"));
                }
                T::delay_us(&mut self.io, POLL_US).await;
                waited += POLL_US;
            }
        }
        Ok(())
    }

    async fn is_converting(&mut self, device: usize) -> Result<bool, Error<T::Error>> {
        if device >= N {
            return Err(Error::InvalidArgument("device index"));
        }
        Ok(self.read_one(device, reg::ADC_CFG).await? & reg::adc_cfg::SOC != 0)
    }

    /// Reads `count` registers from `first` of every device into `block`, applying `f` per
    /// device; failed devices' slots are `Failed`.
    async fn for_each_device<R: Copy>(
        &mut self,
        first: u8,
        count: usize,
        out: &mut [Reading<R>],
        per_device: usize,
        f: impl Fn(&CellMap, &[u16], &mut [Reading<R>]),
    ) -> Result<ChainReport, Error<T::Error>> {
        check_len(out.len(), N * per_device)?;
        let mut report = ChainReport::OK;
        for (d, slots) in out.chunks_mut(per_device.max(1)).enumerate().take(N) {
            let mut block = [0u16; MAX_BLOCK];
            let block = match block.get_mut(..count) {
                Some(b) => b,
                None => return Err(Error::InvalidArgument("register block length")),
            };
            let verdict = if let Some(r) = self.suspect.get(d).copied().flatten() {
                Err(r)
            } else {
                self.read_regs(Some(d), first, block).await?
            };
            match verdict {
                Ok(()) => f(&self.map, block, slots),
                Err(r) => {
                    report.record(fault(d, r));
                    slots.fill(Reading::Failed(fault(d, r)));
                }
            }
        }
        Ok(report)
    }

    async fn read_cells(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        let top = V::INPUTS;
        let first = reg::meas_cell(top);
        let count = usize::from(top);
        let cells = usize::from(self.map.cells());
        self.for_each_device(first, count, out, cells, |map, block, slots| {
            // Walk the populated inputs bottom-up: cell i is the i-th set bit of the map.
            let mut slot = slots.iter_mut();
            let mask = map.mask();
            for input in 1..=top {
                if mask & (1 << (input - 1)) == 0 {
                    continue;
                }
                let Some(s) = slot.next() else { break };
                let raw = block
                    .get(usize::from(reg::meas_cell(input) - first))
                    .copied();
                *s = match raw.and_then(convert::measured) {
                    Some(code) => Reading::Valid(convert::cell_voltage(code)),
                    None => Reading::NotConverted,
                };
            }
            // (A map always has exactly `cells` inputs; anything left is not a cell.)
            for s in slot {
                *s = Reading::NotConverted;
            }
        })
        .await
    }

    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        self.read_cells(out).await
    }

    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        check_len(out.len(), N * usize::from(self.map.cells()))?;
        let avg = averaging_for(mode);
        self.start_conversion(avg).await?;
        T::delay_us(&mut self.io, conversion_time(avg).0).await;
        self.read_cells(out).await
    }

    async fn read_single<R: Copy>(
        &mut self,
        register: u8,
        out: &mut [Reading<R>],
        conv: impl Fn(u16) -> R,
    ) -> Result<ChainReport, Error<T::Error>> {
        self.for_each_device(register, 1, out, 1, |_, block, slots| {
            for s in slots.iter_mut() {
                *s = match block.first().copied().map(convert::measured) {
                    Some(Some(code)) => Reading::Valid(conv(code)),
                    _ => Reading::NotConverted,
                };
            }
        })
        .await
    }

    async fn measure_and_read<R: Copy>(
        &mut self,
        register: u8,
        out: &mut [Reading<R>],
        conv: impl Fn(u16) -> R,
    ) -> Result<ChainReport, Error<T::Error>> {
        check_len(out.len(), N)?;
        self.start_conversion(self.averaging).await?;
        T::delay_us(&mut self.io, conversion_time(self.averaging).0).await;
        self.read_single(register, out, conv).await
    }

    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<T::Error>> {
        self.measure_and_read(reg::MEAS_IC_TEMP, out, convert::ic_temperature)
            .await
    }

    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        self.measure_and_read(reg::MEAS_STACK, out, convert::stack_voltage)
            .await
    }

    async fn read_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        self.read_single(reg::MEAS_STACK, out, convert::stack_voltage)
            .await
    }

    async fn read_ic_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<T::Error>> {
        self.read_single(reg::MEAS_IC_TEMP, out, convert::ic_temperature)
            .await
    }

    /// AN0..AN6 of every device (absolute: 152.59 µV per LSB; `vcom_mv` = Some for ratiometric).
    async fn read_an(
        &mut self,
        out: &mut [Reading<MicroVolts>],
        vcom_mv: Option<u16>,
    ) -> Result<ChainReport, Error<T::Error>> {
        self.for_each_device(reg::MEAS_AN6, 7, out, 7, |_, block, slots| {
            for (k, s) in slots.iter_mut().enumerate() {
                let raw = block.get(usize::from(reg::meas_an(k as u8) - reg::MEAS_AN6));
                *s = match raw.copied().map(convert::measured) {
                    Some(Some(code)) => Reading::Valid(match vcom_mv {
                        Some(v) => convert::an_ratiometric(code, v, V::IS_MC33772),
                        None => convert::cell_voltage(code),
                    }),
                    _ => Reading::NotConverted,
                };
            }
        })
        .await
    }

    async fn read_isense(&mut self) -> Result<Reading<i32>, Error<T::Error>> {
        if let Some(r) = self.suspect.first().copied().flatten() {
            return Ok(Reading::Failed(fault(0, r)));
        }
        let mut v = [0u16; 2];
        match self.read_regs(Some(0), reg::MEAS_ISENSE1, &mut v).await? {
            Err(r) => Ok(Reading::Failed(fault(0, r))),
            Ok(()) if v[0] & reg::DATA_RDY == 0 => Ok(Reading::NotConverted),
            Ok(()) => Ok(Reading::Valid(convert::isense_raw(v[0], v[1]))),
        }
    }

    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<T::Error>> {
        let shunt = self.settings.shunt_micro_ohm;
        if shunt == 0 {
            return Ok(None);
        }
        let started = self.start_conversion(self.averaging).await?;
        if let Some(f) = started.first_fault {
            return Err(Error::Integrity(f));
        }
        T::delay_us(&mut self.io, conversion_time(self.averaging).0).await;
        let raw = self.read_isense().await?.into_result(0)?;
        Ok(convert::current(raw, shunt))
    }

    async fn read_coulomb_counter(
        &mut self,
        device: usize,
    ) -> Result<CoulombCounter, Error<T::Error>> {
        if device >= N {
            return Err(Error::InvalidArgument("device index"));
        }
        let mut v = [0u16; 3];
        self.read_regs(Some(device), reg::CC_NB_SAMPLES, &mut v)
            .await?
            .map_err(|r| Error::Integrity(fault(device, r)))?;
        let count = convert::coulomb_count(v[1], v[2]);
        let shunt = self.settings.shunt_micro_ohm;
        Ok(CoulombCounter {
            count,
            samples: v[0],
            average: convert::average_current(count, v[0], shunt),
        })
    }

    async fn read_raw_measurements(&mut self, device: usize) -> Result<[u16; 30], Error<T::Error>> {
        if device >= N {
            return Err(Error::InvalidArgument("device index"));
        }
        let mut v = [0u16; 30];
        let (a, b) = v.split_at_mut(6);
        let verdict = if V::IS_MC33772 {
            // BCC_Meas_GetRawValues on MC33772C: the reserved 0x33..=0x3A are skipped.
            match self.read_regs(Some(device), reg::CC_NB_SAMPLES, a).await? {
                Ok(()) => {
                    let tail = b.get_mut(8..).ok_or(Error::InvalidArgument("block"))?;
                    self.read_regs(Some(device), reg::meas_cell(6), tail)
                        .await?
                }
                e => e,
            }
        } else {
            self.read_regs(Some(device), reg::CC_NB_SAMPLES, &mut v)
                .await?
        };
        verdict.map_err(|r| Error::Integrity(fault(device, r)))?;
        Ok(v)
    }

    // ---- faults, balancing -------------------------------------------------------------

    async fn read_status(
        &mut self,
        out: &mut [Reading<Status>],
    ) -> Result<ChainReport, Error<T::Error>> {
        check_len(out.len(), N)?;
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            // BCC_Fault_GetStatus: CELL_OV/UV_FLT, then CB_OPEN_FLT ..= FAULT3_STATUS.
            let mut a = [0u16; 2];
            let mut b = [0u16; 13];
            let mut verdict = self.read_regs(Some(d), reg::CELL_OV_FLT, &mut a).await?;
            if verdict.is_ok() {
                verdict = self.read_regs(Some(d), reg::CB_OPEN_FLT, &mut b).await?;
            }
            let at = |r: u8| b[usize::from(r - reg::CB_OPEN_FLT)];
            *o = match verdict {
                Ok(()) => Reading::Valid(Status {
                    cell_ov: self.map.inputs_to_cells(a[0]),
                    cell_uv: self.map.inputs_to_cells(a[1]),
                    cb_open: self.map.inputs_to_cells(at(reg::CB_OPEN_FLT)),
                    cb_short: self.map.inputs_to_cells(at(reg::CB_SHORT_FLT)),
                    gpio_sts: at(reg::GPIO_STS),
                    an_ot_ut: at(reg::AN_OT_UT_FLT),
                    gpio_short_an_open: at(reg::GPIO_SHORT_ANX_OPEN_STS),
                    i_status: at(reg::I_STATUS),
                    com_status: at(reg::COM_STATUS),
                    fault1: Fault1::from_bits_retain(at(reg::FAULT1_STATUS)),
                    fault2: at(reg::FAULT2_STATUS),
                    fault3: at(reg::FAULT3_STATUS),
                }),
                Err(r) => {
                    report.record(fault(d, r));
                    Reading::Failed(fault(d, r))
                }
            };
        }
        Ok(report)
    }

    /// The two band-gap readings of ADC1-A and ADC1-B (MEAS_VBG_DIAG_ADC1A/B) of every
    /// device after the last conversion, and whether they agree within `tolerance`.
    async fn adc1_cross_check(
        &mut self,
        out: &mut [Reading<Adc1Check>],
        tolerance: MicroVolts,
    ) -> Result<ChainReport, Error<T::Error>> {
        self.for_each_device(reg::MEAS_VBG_DIAG_ADC1A, 2, out, 1, |_, block, slots| {
            let a = block.first().copied().and_then(convert::measured);
            let b = block.get(1).copied().and_then(convert::measured);
            for s in slots.iter_mut() {
                *s = match (a, b) {
                    (Some(a), Some(b)) => {
                        let (a, b) = (convert::cell_voltage(a), convert::cell_voltage(b));
                        Reading::Valid(Adc1Check {
                            adc1_a: a,
                            adc1_b: b,
                            agree: (a.0 - b.0).abs() <= tolerance.0,
                        })
                    }
                    _ => Reading::NotConverted,
                };
            }
        })
        .await
    }

    async fn set_gpio_mode(
        &mut self,
        device: usize,
        gpio: u8,
        mode: GpioMode,
    ) -> Result<(), Error<T::Error>> {
        if device >= N {
            return Err(Error::InvalidArgument("device index"));
        }
        let cfg = self.read_one(device, reg::GPIO_CFG1).await?;
        let want = mode.apply(cfg, gpio)?;
        self.write_verified(
            device,
            reg::GPIO_CFG1,
            "GPIO_CFG1",
            want,
            0b11 << (2 * u16::from(gpio)),
        )
        .await
    }

    async fn pause_balancing(&mut self, pause: bool) -> Result<(), Error<T::Error>> {
        for d in 0..N {
            let v = self.read_one(d, reg::SYS_CFG1).await?;
            let want = if pause {
                v | reg::sys_cfg1::CB_MANUAL_PAUSE
            } else {
                v & !reg::sys_cfg1::CB_MANUAL_PAUSE
            } & !(reg::sys_cfg1::SOFT_RST | reg::sys_cfg1::GO2DIAG);
            self.write_verified(
                d,
                reg::SYS_CFG1,
                "SYS_CFG1",
                want,
                reg::sys_cfg1::CB_MANUAL_PAUSE,
            )
            .await?;
        }
        Ok(())
    }

    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<T::Error>> {
        check_len(out.len(), N)?;
        let mut st = [Reading::NotConverted; N];
        let report = self.read_status(&mut st).await?;
        for (o, s) in out.iter_mut().zip(st) {
            *o = s.map(|s| s.faults());
        }
        Ok(report)
    }

    async fn clear_faults(&mut self) -> Result<ChainReport, Error<T::Error>> {
        let mut report = ChainReport::OK;
        for d in 0..N {
            for r in [
                reg::CELL_OV_FLT,
                reg::CELL_UV_FLT,
                reg::FAULT1_STATUS,
                reg::FAULT2_STATUS,
                reg::FAULT3_STATUS,
            ] {
                if let Err(e) = self.write_reg(Some(d), r, 0).await? {
                    report.record(fault(d, e));
                    break;
                }
            }
        }
        Ok(report)
    }

    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<T::Error>> {
        check_len(masks.len(), N)?;
        let mut inputs = [0u16; N];
        for (i, m) in inputs.iter_mut().zip(masks) {
            *i = self.map.cells_to_inputs(*m).map_err(Error::Config)?;
        }
        let timer = self.settings.cb_timer & reg::cb_cfg_bits::CB_TIMER;
        let populated = self.map.mask();
        for (d, want) in inputs.iter().enumerate() {
            for input in 1..=V::INPUTS {
                if populated & (1 << (input - 1)) == 0 {
                    continue;
                }
                let on = want & (1 << (input - 1)) != 0;
                let v = if on {
                    reg::cb_cfg_bits::CB_EN | timer
                } else {
                    0
                };
                self.write_reg(Some(d), reg::cb_cfg(input), v)
                    .await?
                    .map_err(|r| Error::Integrity(fault(d, r)))?;
            }
        }
        Ok(())
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

    async fn set_an_thresholds(
        &mut self,
        an: u8,
        over_temperature: MicroVolts,
        under_temperature: MicroVolts,
    ) -> Result<(MicroVolts, MicroVolts), Error<T::Error>> {
        if an > 6 {
            return Err(Error::Config(ConfigError::OutOfRange {
                field: "AN input",
                value: i64::from(an),
                min: 0,
                max: 6,
            }));
        }
        let ot = reg::an_threshold(over_temperature)?;
        let ut = reg::an_threshold(under_temperature)?;
        for d in 0..N {
            self.write_verified(d, reg::th_an_ot(an), "TH_ANx_OT", ot.code, 0x03FF)
                .await?;
            self.write_verified(d, reg::th_an_ut(an), "TH_ANx_UT", ut.code, 0x03FF)
                .await?;
        }
        Ok((ot.achieved, ut.achieved))
    }
}

impl<V: Variant, T: Link<IO>, const N: usize, IO> MonitorCore for Core<V, T, N, IO> {
    type BusError = T::Error;
    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        usize::from(self.map.cells())
    }
    fn temperatures_per_device(&self) -> usize {
        1
    }
    async fn wake(&mut self) -> Result<(), Error<T::Error>> {
        Core::wake(self).await
    }
    async fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<T::Error>> {
        let avg = averaging_for(mode);
        self.start_conversion(avg).await?.into_result()?;
        Ok(conversion_time(avg))
    }
    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        Core::read_cell_voltages(self, out).await
    }
    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        Core::measure_cells(self, mode, out).await
    }
    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<T::Error>> {
        Core::measure_temperatures(self, out).await
    }
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        Core::measure_stack_voltages(self, out).await
    }
    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<T::Error>> {
        Core::read_current(self).await
    }
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<T::Error>> {
        Core::set_balancing(self, masks).await
    }
    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<T::Error>> {
        Core::read_faults(self, out).await
    }
}

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

bcc_twins! {
    /// Full bring-up: wake-up pattern, software reset, CID assignment device by device
    /// (INIT written through CID 0, read back from the new CID, one retry after 750 µs), then
    /// the [`Settings`] written and read back (SYS_CFG1 CB_DRVEN and I_MEAS_EN, SYS_CFG2
    /// TIMEOUT_COMM, TH_ALL_CT, OV_UV_EN). A chain shorter than `N` is an
    /// [`Error::Device`] naming the first missing device.
    pub fn init(&mut self) -> Result<(), Error<B::Error>>;
    /// Wakes the chain (wake-up pattern); if every device still answers on its CID the
    /// configuration is kept, otherwise the chain is initialised again ([`init`](Self::init)).
    pub fn wake(&mut self) -> Result<(), Error<B::Error>>;
    /// Puts every device to sleep (SYS_CFG_GLOBAL GO2SLEEP, globally on TPL).
    pub fn sleep(&mut self) -> Result<(), Error<B::Error>>;
    /// Resets the chain and assigns CIDs until no unassigned device answers (at most `N`);
    /// returns the number found (1 on SPI). Call [`init`](Self::init) afterwards.
    pub fn detect_chain_length(&mut self) -> Result<usize, Error<B::Error>>;
    /// Writes the [`Settings`] to every device and verifies them by read-back.
    pub fn configure(&mut self) -> Result<(), Error<B::Error>>;
    /// Starts an on-demand conversion on every device (global write of ADC_CFG on TPL) with
    /// averaging `avg`; wait [`conversion_time`] before reading.
    pub fn start_conversion(&mut self, avg: Averaging) -> Result<ChainReport, Error<B::Error>>;
    /// Waits for the end of a conversion started with `avg`: the typical 520 µs × 2^AVG, then
    /// EOC_N polled on every device until the 650 µs × 2^AVG bound ([`Error::Timeout`] after).
    pub fn wait_conversion(&mut self, avg: Averaging) -> Result<(), Error<B::Error>>;
    /// `true` while ADC_CFG EOC_N says device `device` is converting.
    pub fn is_converting(&mut self, device: usize) -> Result<bool, Error<B::Error>>;
    /// Reads the last converted cell voltages (`N × cells` slots, device 0 first).
    pub fn read_cell_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<B::Error>>;
    /// Reads MEAS_STACK of every device (`N` slots).
    pub fn read_stack_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<B::Error>>;
    /// Reads MEAS_IC_TEMP of every device (`N` slots).
    pub fn read_ic_temperatures(&mut self, out: &mut [Reading<MilliCelsius>]) -> Result<ChainReport, Error<B::Error>>;
    /// Reads AN0..AN6 of every device (`7 × N` slots, AN0 first): absolute when `vcom_mv` is
    /// `None`, ratiometric to VCOM (mV) otherwise.
    pub fn read_an(&mut self, out: &mut [Reading<MicroVolts>], vcom_mv: Option<u16>) -> Result<ChainReport, Error<B::Error>>;
    /// Reads the signed 19-bit ISENSE code of device 0 (0.6 µV per LSB).
    pub fn read_isense(&mut self) -> Result<Reading<i32>, Error<B::Error>>;
    /// Reads the coulomb counter of `device`.
    pub fn read_coulomb_counter(&mut self, device: usize) -> Result<CoulombCounter, Error<B::Error>>;
    /// Reads the 30 registers CC_NB_SAMPLES (0x2D) ..= MEAS_VBG_DIAG_ADC1B (0x4A) of `device`
    /// raw, in one TPL read (`BCC_Meas_GetRawValues`; on MC33772C the reserved 0x33..=0x3A
    /// are skipped and read as 0).
    pub fn read_raw_measurements(&mut self, device: usize) -> Result<[u16; 30], Error<B::Error>>;
    /// Reads CELL_OV/UV_FLT, COM_STATUS and FAULT1..3_STATUS of every device.
    pub fn read_status(&mut self, out: &mut [Reading<Status>]) -> Result<ChainReport, Error<B::Error>>;
    /// ADC1-A/B cross-check: both band-gap readings of every device after the last conversion
    /// (`N` slots) and whether they differ by at most `tolerance` (the data-sheet limit is not
    /// in the public sources: choose it).
    pub fn adc1_cross_check(&mut self, out: &mut [Reading<Adc1Check>], tolerance: MicroVolts) -> Result<ChainReport, Error<B::Error>>;
    /// Sets the mode of pin GPIOx/ANx (`gpio` 0..=6) of `device` (GPIO_CFG1, read-modify-write,
    /// verified): analog ratiometric / absolute for [`read_an`](Self::read_an), or digital.
    pub fn set_gpio_mode(&mut self, device: usize, gpio: u8, mode: GpioMode) -> Result<(), Error<B::Error>>;
    /// Pauses (or resumes) balancing on every device (SYS_CFG1 CB_MANUAL_PAUSE, verified), e.g.
    /// around a cell measurement.
    pub fn pause_balancing(&mut self, pause: bool) -> Result<(), Error<B::Error>>;
    /// Clears CELL_OV/UV_FLT and FAULT1..3_STATUS (writes 0) on every device.
    pub fn clear_faults(&mut self) -> Result<ChainReport, Error<B::Error>>;
    /// Sets OT/UT thresholds of input ANx on every device, verified by read-back; returns the
    /// achieved (OT, UT) voltages. The chip flags OT when the voltage falls *below* OT (NTC).
    pub fn set_an_thresholds(&mut self, an: u8, over_temperature: MicroVolts, under_temperature: MicroVolts) -> Result<(MicroVolts, MicroVolts), Error<B::Error>>;
    /// Reads any register of `device`.
    pub fn read_register(&mut self, device: usize, register: u8) -> Result<u16, Error<B::Error>>;
    /// Writes any register of `device` (no read-back).
    pub fn write_register(&mut self, device: usize, register: u8, value: u16) -> Result<(), Error<B::Error>>;
}

crate::monitor::impl_cell_monitor!(@impl [V: Variant, const N: usize] Mc3377x [V, Spi, N] core
    [embedded_hal::spi::SpiDevice] [embedded_hal_async::spi::SpiDevice]);
crate::monitor::impl_cell_monitor!(@impl [V: Variant, const N: usize] Mc3377x [V, Tpl, N] core
    [TplLink] [AsyncTplLink]);
