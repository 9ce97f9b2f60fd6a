//! The driver: [`Ltc681x`] over an isoSPI chain, blocking and async.

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
    _v: PhantomData<V>,
}

/// Optional GPIO thermistors: which GPIOs carry a sensor and how to turn the GPIO voltage
/// (with the second reference, which usually biases the divider) into a temperature. With
/// them, [`CellMonitor::measure_temperatures`](crate::CellMonitor::measure_temperatures)
/// reports per device the die temperature first, then one value per selected GPIO in
/// ascending GPIO order.
///
/// ```
/// use bms_afe::ltc681x::Thermistors;
/// use bms_afe::units::{MicroVolts, MilliCelsius};
/// // A (made-up) linear sensor: 25 °C at half the reference, -10 mV/K.
/// fn linear(v: MicroVolts, vref: MicroVolts) -> MilliCelsius {
///     MilliCelsius(25_000 - (v.0 - vref.0 / 2) / 10)
/// }
/// let t = Thermistors { gpios: 0b11, convert: linear };
/// assert_eq!((t.convert)(MicroVolts(1_500_000), MicroVolts(3_000_000)), MilliCelsius(25_000));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Thermistors {
    /// Bit `k` = GPIO `k + 1` carries a thermistor.
    pub gpios: u16,
    /// GPIO voltage and second-reference voltage to temperature.
    pub convert: fn(MicroVolts, MicroVolts) -> MilliCelsius,
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

    /// The configuration held for `device` (what `write_config` sends).
    pub fn config(&self, device: usize) -> Option<&DeviceConfig> {
        self.core.cfg.get(device)
    }

    /// Replaces the configuration of `device` after checking it encodes for this part.
    pub fn set_config(&mut self, device: usize, cfg: DeviceConfig) -> Result<(), ConfigError> {
        cfg.encode::<V>()?;
        let slot = self
            .core
            .cfg
            .get_mut(device)
            .ok_or(ConfigError::OutOfRange {
                field: "device index",
                value: device as i64,
                min: 0,
                max: N as i64 - 1,
            })?;
        *slot = cfg;
        Ok(())
    }

    /// Sets the undervoltage threshold of every device; returns the threshold achieved
    /// (rounded up to a 1.6 mV step, see [`register::uv_threshold`]).
    pub fn set_undervoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = register::uv_threshold(v)?;
        self.core.cfg.iter_mut().for_each(|c| c.vuv = code);
        Ok(achieved)
    }

    /// Sets the overvoltage threshold of every device; returns the threshold achieved
    /// (rounded down, see [`register::ov_threshold`]).
    pub fn set_overvoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = register::ov_threshold(v)?;
        self.core.cfg.iter_mut().for_each(|c| c.vov = code);
        Ok(achieved)
    }

    /// REFON for every device: keep the references up between conversions (no tREFUP added
    /// to conversion waits).
    pub fn set_refon(&mut self, on: bool) {
        self.core.cfg.iter_mut().for_each(|c| c.refon = on);
    }

    /// ADCOPT for every device (alternate ADC rates, see [`AdcMode`]).
    pub fn set_adcopt(&mut self, on: bool) {
        self.core.cfg.iter_mut().for_each(|c| c.adcopt = on);
    }

    /// GPIO pull-downs of `device`: bit `k` set = GPIO `k + 1` pull-down **off**. Rejects
    /// bits for GPIOs the part lacks.
    pub fn set_gpio_pulldowns_off(&mut self, device: usize, mask: u16) -> Result<(), ConfigError> {
        if u32::from(mask) >> V::GPIOS != 0 {
            return Err(ConfigError::OutOfRange {
                field: "GPIO pull-down mask",
                value: i64::from(mask),
                min: 0,
                max: (1i64 << V::GPIOS) - 1,
            });
        }
        let mut c = *self.config(device).ok_or(ConfigError::OutOfRange {
            field: "device index",
            value: device as i64,
            min: 0,
            max: N as i64 - 1,
        })?;
        c.gpio_pulldown_off = mask;
        self.set_config(device, c)
    }

    /// Discharge switches of `device` (bit `k` = cell `k + 1`), without sending. Rejects
    /// cells the part lacks.
    pub fn set_discharge(&mut self, device: usize, mask: u32) -> Result<(), ConfigError> {
        let mut c = *self.config(device).ok_or(ConfigError::OutOfRange {
            field: "device index",
            value: device as i64,
            min: 0,
            max: N as i64 - 1,
        })?;
        c.dcc = mask;
        self.set_config(device, c)
    }

    /// Discharge timeout of every device (DCTO). With `Disabled` the switches open at the
    /// watchdog timeout (~2 s without a valid command); with a timeout (and the DTEN pin
    /// high) they stay on through the watchdog timeout until the timer expires.
    pub fn set_discharge_timeout(&mut self, t: DischargeTimeout) {
        self.core.cfg.iter_mut().for_each(|c| c.dcto = t);
    }

    /// DTMEN (discharge timer monitor) for every device; not on the LTC6811.
    pub fn set_dtmen(&mut self, on: bool) -> Result<(), ConfigError> {
        if matches!(V::LAYOUT, super::ConfigLayout::Ltc6811) && on {
            return Err(ConfigError::Unsupported("DTMEN (LTC6811)"));
        }
        self.core.cfg.iter_mut().for_each(|c| c.dtmen = on);
        Ok(())
    }

    /// SCONV for every device (LTC6810 only; LTC6810 CFGR5 bit 3, Linduino `LTC6810.cpp`
    /// `LTC6810_set_cfgr_sconv`; adi.md §3 "LTC6810 CFGR"): "Enable Cell Measurement
    /// Redundancy using S Pin" (Linduino `LTC6810.h`). With it written, the cell conversion
    /// (ADCV) also measures each cell through its S pin into the S-voltage groups (inferred
    /// from the vendor sketch `DC2515.ino`, not verified against the data sheet: see the
    /// [module docs](super)), read with [`read_s_voltages`](Self::read_s_voltages) and
    /// compared by [`s_pin_redundancy`](Self::s_pin_redundancy). Takes effect with the next
    /// [`write_config`](Self::write_config). Other parts: `true` is
    /// [`ConfigError::Unsupported`] (they have no such bit); `false` is accepted.
    ///
    /// ```
    /// use bms_afe::io::Blocking;
    /// use bms_afe::ltc681x::{Ltc681x, Ltc6810, Ltc6811};
    /// # use embedded_hal_mock::eh1::{delay::NoopDelay, spi::Mock};
    /// # let (spi, spi2) = (Mock::<u8>::new(&[]), Mock::<u8>::new(&[]));
    /// let mut a = Ltc681x::<Ltc6810, 2, _>::new(Blocking::new(spi, NoopDelay::new()));
    /// a.set_sconv(true).unwrap();
    /// // LTC6810 CFGR5 bit 3.
    /// assert_eq!(a.config(1).unwrap().encode::<Ltc6810>().unwrap()[0][5] & 0x08, 0x08);
    /// let mut b = Ltc681x::<Ltc6811, 1, _>::new(Blocking::new(spi2, NoopDelay::new()));
    /// assert!(b.set_sconv(true).is_err());
    /// # a.release().release().0.done();
    /// # b.release().release().0.done();
    /// ```
    pub fn set_sconv(&mut self, on: bool) -> Result<(), ConfigError> {
        if !matches!(V::LAYOUT, super::ConfigLayout::Ltc6810) && on {
            return Err(ConfigError::Unsupported("SCONV (LTC6810 only)"));
        }
        self.core.cfg.iter_mut().for_each(|c| c.sconv = on);
        Ok(())
    }

    /// Adds GPIO thermistors to [`CellMonitor::measure_temperatures`](crate::CellMonitor)
    /// (`None` = die temperature only). Rejects an empty set or GPIOs the part lacks.
    pub fn set_thermistors(&mut self, t: Option<Thermistors>) -> Result<(), ConfigError> {
        if let Some(t) = t {
            if t.gpios == 0 || u32::from(t.gpios) >> V::GPIOS != 0 {
                return Err(ConfigError::OutOfRange {
                    field: "thermistor GPIO mask",
                    value: i64::from(t.gpios),
                    min: 1,
                    max: (1i64 << V::GPIOS) - 1,
                });
            }
        }
        self.core.thermistors = t;
        Ok(())
    }

    /// The data-sheet wait for a conversion with the current configuration of device 0
    /// (ADCOPT, REFON).
    pub fn conversion_time(&self, what: Conversion, mode: AdcMode) -> Microseconds {
        self.core.conversion_time(what, mode)
    }
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

fn data6(frame: &[u8; 8]) -> [u8; 6] {
    [frame[0], frame[1], frame[2], frame[3], frame[4], frame[5]]
}

const fn mode_of(m: ConversionMode) -> AdcMode {
    match m {
        ConversionMode::Fast => AdcMode::Fast,
        ConversionMode::Normal => AdcMode::Normal,
        ConversionMode::Filtered => AdcMode::Filtered,
    }
}

impl<V: Variant, const N: usize, IO> Core<V, N, IO> {
    fn conversion_time(&self, what: Conversion, mode: AdcMode) -> Microseconds {
        let (adcopt, refon) = self
            .cfg
            .first()
            .map(|c| (c.adcopt, c.refon))
            .unwrap_or((false, false));
        command::conversion_time::<V>(what, mode, adcopt, refon)
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

    async fn read_raw(
        &mut self,
        cmd: &[u8; 4],
        frames: &mut [[u8; 8]; N],
    ) -> Result<Verdicts<N>, Error<IO::Error>> {
        isospi::read_verified(&mut self.io, cmd, frames, DataPec::Pec15, self.retries)
            .await
            .map_err(Error::Bus)
    }

    async fn write_raw(
        &mut self,
        cmd: &[u8; 4],
        data: &[[u8; 6]; N],
    ) -> Result<(), Error<IO::Error>> {
        let mut host = [[0u8; 8]; N];
        for (h, d) in host.iter_mut().zip(data) {
            h[..6].copy_from_slice(d);
        }
        let mut wire = [[0u8; 8]; N];
        isospi::build_write(&host, DataPec::Pec15, &mut wire);
        isospi::write_chain(&mut self.io, cmd, &wire)
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
        check_len(out.len(), N)?;
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
        Ok(isospi::report(&v))
    }

    /// Waits `t`; if that exceeds the minimum isoSPI idle timeout (tIDLE 4.3 ms) the ports
    /// have gone IDLE and are woken again (one dummy frame per device, tREADY apart), so the
    /// next command is not lost.
    async fn settle(&mut self, t: Microseconds) -> Result<(), Error<IO::Error>> {
        let dummy = &command::RDCFGA;
        isospi::settle(&mut self.io, t.0, T_IDLE_MIN_US, N, dummy, T_READY_US)
            .await
            .map_err(Error::Bus)
    }

    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        isospi::wake_chain(&mut self.io, N, &command::RDCFGA, T_WAKE_US)
            .await
            .map_err(Error::Bus)
    }

    async fn wake_idle(&mut self) -> Result<(), Error<IO::Error>> {
        isospi::wake_idle(&mut self.io, N, &command::RDCFGA, T_READY_US)
            .await
            .map_err(Error::Bus)
    }

    fn encoded(&self) -> Result<[[[u8; 6]; N]; 2], Error<IO::Error>> {
        let mut out = [[[0u8; 6]; N]; 2];
        for (d, c) in self.cfg.iter().enumerate() {
            let [a, b] = c.encode::<V>().map_err(Error::Config)?;
            if let Some(x) = out[0].get_mut(d) {
                *x = a;
            }
            if let Some(x) = out[1].get_mut(d) {
                *x = b;
            }
        }
        Ok(out)
    }

    async fn write_config(&mut self) -> Result<(), Error<IO::Error>> {
        let [a, b] = self.encoded()?;
        self.write_raw(&command::WRCFGA, &a).await?;
        if has_cfgb::<V>() {
            self.write_raw(&command::WRCFGB, &b).await?;
        }
        Ok(())
    }

    async fn verify_config(&mut self) -> Result<(), Error<IO::Error>> {
        let written = self.encoded()?;
        let masks = register::verify_mask::<V>();
        let groups: &[([u8; 4], &'static str)] = if has_cfgb::<V>() {
            &[(command::RDCFGA, "CFGRA"), (command::RDCFGB, "CFGRB")]
        } else {
            &[(command::RDCFGA, "CFGR")]
        };
        for (gi, (cmd, name)) in groups.iter().enumerate() {
            let mut frames = [[0u8; 8]; N];
            let v = self.read_raw(cmd, &mut frames).await?;
            isospi::report(&v).into_result::<IO::Error>()?;
            let (Some(w), Some(mask)) = (written.get(gi), masks.get(gi)) else {
                continue;
            };
            for (d, (fr, wd)) in frames.iter().zip(w).enumerate() {
                for (i, ((r, x), m)) in fr.iter().zip(wd).zip(mask).enumerate() {
                    if r & m != x & m {
                        return Err(Error::Verify(VerifyMismatch {
                            device: d as u8,
                            register: name,
                            offset: i as u8,
                            expected: x & m,
                            actual: r & m,
                        }));
                    }
                }
            }
        }
        Ok(())
    }

    async fn write_config_verified(&mut self) -> Result<(), Error<IO::Error>> {
        self.write_config().await?;
        self.verify_config().await
    }

    async fn read_config(
        &mut self,
        out: &mut [Reading<DeviceConfig>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        let mut a = [[0u8; 8]; N];
        let mut b = [[0u8; 8]; N];
        let va = self.read_raw(&command::RDCFGA, &mut a).await?;
        let vb = if has_cfgb::<V>() {
            self.read_raw(&command::RDCFGB, &mut b).await?
        } else {
            [Ok(0); N]
        };
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let (Some(fa), Some(fb), Some(xa), Some(xb)) =
                (a.get(d), b.get(d), va.get(d), vb.get(d))
            else {
                continue;
            };
            *o = match (xa, xb) {
                (Ok(_), Ok(_)) => {
                    Reading::Valid(DeviceConfig::decode::<V>(&[data6(fa), data6(fb)]))
                }
                (Err(r), _) | (_, Err(r)) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason: *r,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    async fn start_cells(
        &mut self,
        mode: AdcMode,
        dcp: bool,
        sel: CellSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adcv(mode, dcp, sel), Conversion::Cells(sel), mode)
            .await
    }

    async fn start_cells_and_sc(
        &mut self,
        mode: AdcMode,
        dcp: bool,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adcvsc(mode, dcp), Conversion::CellsAndSc, mode)
            .await
    }

    async fn start_cells_and_gpio12(
        &mut self,
        mode: AdcMode,
        dcp: bool,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(
            &command::adcvax(mode, dcp),
            Conversion::CellsAndGpio12,
            mode,
        )
        .await
    }

    async fn start_gpio(
        &mut self,
        mode: AdcMode,
        sel: GpioSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adax(mode, sel), Conversion::Gpio(sel), mode)
            .await
    }

    async fn start_gpio_redundant(
        &mut self,
        mode: AdcMode,
        sel: GpioSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adaxd(mode, sel), Conversion::Gpio(sel), mode)
            .await
    }

    async fn start_gpio_open_wire(
        &mut self,
        mode: AdcMode,
        pull: Pull,
        sel: GpioSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::axow(mode, pull, sel), Conversion::Gpio(sel), mode)
            .await
    }

    async fn start_status(
        &mut self,
        mode: AdcMode,
        sel: StatusSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adstat(mode, sel), Conversion::Status(sel), mode)
            .await
    }

    async fn start_status_redundant(
        &mut self,
        mode: AdcMode,
        sel: StatusSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adstatd(mode, sel), Conversion::Status(sel), mode)
            .await
    }

    async fn start_open_wire(
        &mut self,
        mode: AdcMode,
        pull: Pull,
        dcp: bool,
        sel: CellSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(
            &command::adow(mode, pull, dcp, sel),
            Conversion::Cells(sel),
            mode,
        )
        .await
    }

    async fn start_overlap(
        &mut self,
        mode: AdcMode,
        dcp: bool,
    ) -> Result<Microseconds, Error<IO::Error>> {
        if !V::HAS_ADOL {
            return Err(Error::Config(ConfigError::Unsupported(
                "ADOL (single-ADC LTC6810)",
            )));
        }
        self.start(&command::adol(mode, dcp), Conversion::Overlap, mode)
            .await
    }

    async fn clear_cells(&mut self) -> Result<(), Error<IO::Error>> {
        self.send(&command::CLRCELL).await
    }

    async fn clear_aux(&mut self) -> Result<(), Error<IO::Error>> {
        self.send(&command::CLRAUX).await
    }

    async fn clear_status(&mut self) -> Result<(), Error<IO::Error>> {
        self.send(&command::CLRSTAT).await
    }

    async fn mute(&mut self) -> Result<(), Error<IO::Error>> {
        if !V::HAS_MUTE {
            return Err(Error::Config(ConfigError::Unsupported("MUTE (LTC6811)")));
        }
        self.send(&command::MUTE).await
    }

    async fn unmute(&mut self) -> Result<(), Error<IO::Error>> {
        if !V::HAS_MUTE {
            return Err(Error::Config(ConfigError::Unsupported("UNMUTE (LTC6811)")));
        }
        self.send(&command::UNMUTE).await
    }

    async fn poll_adc(&mut self) -> Result<(), Error<IO::Error>> {
        let polls = isospi::poll_done(
            &mut self.io,
            &command::PLADC,
            isospi::status_bytes(N),
            self.max_polls,
            POLL_INTERVAL_US,
        )
        .await
        .map_err(Error::Bus)?;
        match polls {
            Some(_) => Ok(()),
            None => Err(Error::Timeout("PLADC: conversion still running")),
        }
    }

    async fn read_cell_frames(
        &mut self,
        groups: &mut [[[u8; 8]; N]; 6],
    ) -> Result<(), Error<IO::Error>> {
        for (g, cmd) in groups.iter_mut().zip(&command::RDCV).take(V::CELL_GROUPS) {
            self.read_raw(cmd, g).await?;
        }
        Ok(())
    }

    async fn read_cells(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N * V::CELLS)?;
        self.read_cell_format(&command::RDCV, out).await
    }

    /// Reads the groups `cmds` (at most `V::CELL_GROUPS` of them), each laid out like a cell
    /// group (three little-endian 100 µV codes + PEC15), and decodes them with
    /// [`convert::decode_cell_groups`] into `out` (`N · V::CELLS`, checked by the caller).
    /// Shared by the cell groups and the LTC6810 S-voltage groups.
    async fn read_cell_format(
        &mut self,
        cmds: &[[u8; 4]],
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let used = cmds.len().min(V::CELL_GROUPS);
        let mut groups = [[[0u8; 8]; N]; 6];
        // Read every group unverified and check each PEC once, in the decoder (the hot path:
        // verifying in `read_verified` too would check all of them twice).
        for (g, cmd) in groups.iter_mut().zip(cmds).take(used) {
            isospi::read_chain(&mut self.io, cmd, g)
                .await
                .map_err(Error::Bus)?;
        }
        // Groups not read (fewer commands than the part's groups) fail their cells there.
        let mut report =
            convert::decode_cell_groups::<V, N>(groups.get(..used).unwrap_or(&[]), out);
        // Rare path: re-issue the groups with a bad frame, up to `retries` times (the same
        // retries as `read_verified`, after the other groups instead of at once), then decode
        // again. A report that fails for other reasons (redundancy fault codes) is final.
        let mut attempt = 0;
        while !report.is_ok() && attempt < self.retries {
            attempt += 1;
            let mut reread = false;
            for (g, cmd) in groups.iter_mut().zip(cmds).take(used) {
                if !g.iter().all(crate::crc::pec15_frame_ok) {
                    isospi::read_chain(&mut self.io, cmd, g)
                        .await
                        .map_err(Error::Bus)?;
                    reread = true;
                }
            }
            if !reread {
                break;
            }
            report = convert::decode_cell_groups::<V, N>(groups.get(..used).unwrap_or(&[]), out);
        }
        Ok(report)
    }

    /// Refuses S-voltage commands on parts without S-voltage groups: there 0x008/0x00A are
    /// RDCVC/RDCVD and would return cell groups C/D.
    fn require_s_groups() -> Result<(), Error<IO::Error>> {
        if matches!(V::LAYOUT, super::ConfigLayout::Ltc6810) {
            Ok(())
        } else {
            Err(Error::Config(ConfigError::Unsupported(
                "S-voltage groups RDSA/RDSB (LTC6810 only)",
            )))
        }
    }

    async fn read_s_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        Self::require_s_groups()?;
        check_len(out.len(), N * V::CELLS)?;
        self.read_cell_format(&command::RDS, out).await
    }

    async fn s_pin_redundancy(
        &mut self,
        mode: AdcMode,
        max_diff: MicroVolts,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        Self::require_s_groups()?;
        check_len(out.len(), N)?;
        if max_diff.0 < 0 {
            return Err(Error::Config(ConfigError::OutOfRange {
                field: "S-pin tolerance (µV)",
                value: i64::from(max_diff.0),
                min: 0,
                max: i64::from(i32::MAX),
            }));
        }
        if !self.cfg.iter().all(|c| c.sconv) {
            return Err(Error::Config(ConfigError::Conflict(
                "S-pin redundancy needs SCONV = 1 (set_sconv, write_config)",
            )));
        }
        self.wake_idle().await?;
        // SCONV must be set on the chips, not only in the held copy (a chip that slept, or a
        // `set_sconv` not yet written, has SCONV = 0 and converts no S voltages): write the
        // held configuration and read it back per device.
        self.write_config().await?;
        let mut chip = [Reading::NotConverted; N];
        let mut report = self.read_config(&mut chip).await?;
        for (d, c) in chip.iter().enumerate() {
            if let Reading::Valid(c) = c {
                if !c.sconv {
                    return Err(Error::Verify(VerifyMismatch {
                        device: d as u8,
                        register: "CFGR",
                        offset: 5,
                        expected: 0x08,
                        actual: 0x00,
                    }));
                }
            }
        }
        // Clear first: a lost start then reads NotConverted, not the previous voltages.
        self.clear_cells().await?;
        let t = self.start_cells(mode, false, CellSelect::ALL).await?;
        self.settle(t).await?;
        // The LTC6810 has 6 cells and 6 S voltages per device (checked above).
        let mut c = [[Reading::NotConverted; 6]; N];
        let mut s = [[Reading::NotConverted; 6]; N];
        report.merge(self.read_cells(c.as_flattened_mut()).await?);
        report.merge(self.read_s_voltages(s.as_flattened_mut()).await?);
        for ((o, (cd, sd)), k) in out.iter_mut().zip(c.iter().zip(&s)).zip(&chip) {
            *o = match k {
                // SCONV not confirmed on this chip: its S voltages prove nothing.
                Reading::Failed(f) => Reading::Failed(*f),
                _ => convert::s_pin_mismatches(cd, sd, max_diff),
            };
        }
        Ok(report)
    }

    /// Raw cell codes of device `d` (all groups), or the fault.
    fn cell_codes(
        groups: &[[[u8; 8]; N]; 6],
        d: usize,
        codes: &mut [u16; 18],
    ) -> Result<(), DeviceFault> {
        for (g, gr) in groups.iter().enumerate().take(V::CELL_GROUPS) {
            let fr = gr.get(d).ok_or(DeviceFault {
                device: d as u8,
                reason: FaultReason::Framing,
            })?;
            isospi::verify_frame(fr, DataPec::Pec15).map_err(|reason| DeviceFault {
                device: d as u8,
                reason,
            })?;
            let data = data6(fr);
            for i in 0..3 {
                if let Some(c) = codes.get_mut(3 * g + i) {
                    *c = convert::word(&data, i);
                }
            }
        }
        Ok(())
    }

    async fn read_aux(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N * V::AUX_CHANNELS)?;
        self.read_aux_strided(out, V::AUX_CHANNELS).await
    }

    /// Auxiliary voltages of device `d` go to `out[d * stride ..][..AUX_CHANNELS]`.
    async fn read_aux_strided(
        &mut self,
        out: &mut [Reading<MicroVolts>],
        stride: usize,
    ) -> Result<ChainReport, Error<IO::Error>> {
        let mut report = ChainReport::OK;
        for (g, cmd) in command::RDAUX.iter().enumerate().take(V::AUX_GROUPS) {
            let mut frames = [[0u8; 8]; N];
            let v = self.read_raw(cmd, &mut frames).await?;
            report.merge(isospi::report(&v));
            for (d, (fr, verdict)) in frames.iter().zip(&v).enumerate() {
                let data = data6(fr);
                for i in 0..3 {
                    let ch = 3 * g + i;
                    if ch >= V::AUX_CHANNELS {
                        continue;
                    }
                    if let Some(o) = out.get_mut(d * stride + ch) {
                        *o = match verdict {
                            Ok(_) => noted(
                                convert::voltage(convert::word(&data, i), d as u8),
                                &mut report,
                            ),
                            Err(reason) => Reading::Failed(DeviceFault {
                                device: d as u8,
                                reason: *reason,
                            }),
                        };
                    }
                }
            }
        }
        Ok(report)
    }

    async fn read_status(
        &mut self,
        out: &mut [Reading<Status>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        let mut a = [[0u8; 8]; N];
        let mut b = [[0u8; 8]; N];
        let mut x = [[0u8; 8]; N];
        let va = self.read_raw(&command::RDSTATA, &mut a).await?;
        let vb = self.read_raw(&command::RDSTATB, &mut b).await?;
        let vx = if V::CELLS > 12 {
            self.read_raw(&command::RDAUXD, &mut x).await?
        } else {
            [Ok(0); N]
        };
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let dev = d as u8;
            let (Some(fa), Some(fb), Some(fx)) = (a.get(d), b.get(d), x.get(d)) else {
                continue;
            };
            let verdict = [va.get(d), vb.get(d), vx.get(d)]
                .into_iter()
                .flatten()
                .find_map(|v| v.err());
            *o = match verdict {
                None => {
                    let mut sb = StatusB::decode::<V>(&data6(fb), dev);
                    let (ov, uv) = convert::aux_d_flags::<V>(&data6(fx));
                    sb.overvoltage |= ov;
                    sb.undervoltage |= uv;
                    let sa = StatusA::decode::<V>(&data6(fa), dev);
                    // Fault codes in the values fail the report (the flags stay usable).
                    noted(sa.sum_of_cells, &mut report);
                    noted(sa.die_temperature, &mut report);
                    noted(sa.va, &mut report);
                    noted(sb.vd, &mut report);
                    Reading::Valid(Status { a: sa, b: sb })
                }
                Some(reason) => {
                    let f = DeviceFault {
                        device: dev,
                        reason,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    async fn measure_status(
        &mut self,
        mode: AdcMode,
        out: &mut [Reading<Status>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        self.wake_idle().await?;
        let t = self.start_status(mode, StatusSelect::All).await?;
        self.settle(t).await?;
        self.read_status(out).await
    }

    async fn measure_aux(
        &mut self,
        mode: AdcMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N * V::AUX_CHANNELS)?;
        self.wake_idle().await?;
        let t = self.start_gpio(mode, GpioSelect::ALL).await?;
        self.settle(t).await?;
        self.read_aux(out).await
    }

    async fn open_wire(
        &mut self,
        mode: AdcMode,
        repetitions: u8,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        self.wake_idle().await?;
        let reps = repetitions.max(2);
        let mut pu = [[[0u8; 8]; N]; 6];
        let mut pd = [[[0u8; 8]; N]; 6];
        for (pull, store) in [(Pull::Up, &mut pu), (Pull::Down, &mut pd)] {
            for _ in 0..reps {
                let t = self
                    .start_open_wire(mode, pull, false, CellSelect::ALL)
                    .await?;
                self.settle(t).await?;
            }
            self.read_cell_frames(store).await?;
        }
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let mut cu = [0u16; 18];
            let mut cd = [0u16; 18];
            let r =
                Self::cell_codes(&pu, d, &mut cu).and_then(|_| Self::cell_codes(&pd, d, &mut cd));
            *o = match r {
                Ok(()) => {
                    let n = V::CELLS.min(18);
                    let (u, dn) = (cu.get(..n).unwrap_or(&[]), cd.get(..n).unwrap_or(&[]));
                    // Fault codes fail the device instead of entering the evaluation.
                    let reading = convert::open_wire_reading(u, dn, d as u8);
                    if let Reading::Failed(f) = reading {
                        report.record(f);
                    }
                    reading
                }
                Err(f) => {
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    async fn self_test_cells(
        &mut self,
        mode: AdcMode,
        st: SelfTest,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        self.wake_idle().await?;
        self.send(&command::cvst(mode, st)).await?;
        let t = self.conversion_time(Conversion::Cells(CellSelect::ALL), mode);
        self.settle(t).await?;
        let expected = self.expected(st, mode);
        let mut groups = [[[0u8; 8]; N]; 6];
        self.read_cell_frames(&mut groups).await?;
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let mut codes = [0u16; 18];
            *o = match Self::cell_codes(&groups, d, &mut codes) {
                Ok(()) => Reading::Valid(mismatches(codes.iter().take(V::CELLS), expected)),
                Err(f) => {
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    fn expected(&self, st: SelfTest, mode: AdcMode) -> u16 {
        let adcopt = self.cfg.first().map(|c| c.adcopt).unwrap_or(false);
        command::self_test_expected(st, mode, adcopt)
    }

    async fn self_test_aux(
        &mut self,
        mode: AdcMode,
        st: SelfTest,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        self.wake_idle().await?;
        self.send(&command::axst(mode, st)).await?;
        let t = self.conversion_time(Conversion::Gpio(GpioSelect::ALL), mode);
        self.settle(t).await?;
        let expected = self.expected(st, mode);
        out.iter_mut().for_each(|o| *o = Reading::Valid(0));
        let mut report = ChainReport::OK;
        for (g, cmd) in command::RDAUX.iter().enumerate().take(V::AUX_GROUPS) {
            let mut frames = [[0u8; 8]; N];
            let v = self.read_raw(cmd, &mut frames).await?;
            report.merge(isospi::report(&v));
            for (d, ((o, fr), verdict)) in out.iter_mut().zip(&frames).zip(&v).enumerate() {
                let data = data6(fr);
                match (verdict, &mut *o) {
                    (Err(reason), _) => {
                        *o = Reading::Failed(DeviceFault {
                            device: d as u8,
                            reason: *reason,
                        })
                    }
                    (Ok(_), Reading::Valid(m)) => {
                        for i in 0..3 {
                            let ch = 3 * g + i;
                            if ch < V::AUX_CHANNELS && convert::word(&data, i) != expected {
                                *m |= 1 << ch;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(report)
    }

    async fn self_test_status(
        &mut self,
        mode: AdcMode,
        st: SelfTest,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        self.wake_idle().await?;
        self.send(&command::statst(mode, st)).await?;
        let t = self.conversion_time(Conversion::Status(StatusSelect::All), mode);
        self.settle(t).await?;
        let e = self.expected(st, mode);
        let mut a = [[0u8; 8]; N];
        let mut b = [[0u8; 8]; N];
        let va = self.read_raw(&command::RDSTATA, &mut a).await?;
        let vb = self.read_raw(&command::RDSTATB, &mut b).await?;
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let (Some(fa), Some(fb), Some(xa), Some(xb)) =
                (a.get(d), b.get(d), va.get(d), vb.get(d))
            else {
                continue;
            };
            *o = match (xa, xb) {
                (Ok(_), Ok(_)) => {
                    // Bits: 0 SC, 1 ITMP, 2 VA, 3 VD.
                    let (da, db) = (data6(fa), data6(fb));
                    let words = [
                        convert::word(&da, 0),
                        convert::word(&da, 1),
                        convert::word(&da, 2),
                        convert::word(&db, 0),
                    ];
                    Reading::Valid(mismatches(words.iter(), e))
                }
                (Err(r), _) | (_, Err(r)) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason: *r,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    async fn overlap_test(
        &mut self,
        mode: AdcMode,
        out: &mut [Reading<bool>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        self.wake_idle().await?;
        let t = self.start_overlap(mode, false).await?;
        self.settle(t).await?;
        let mut groups = [[[0u8; 8]; N]; 6];
        self.read_cell_frames(&mut groups).await?;
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let mut codes = [0u16; 18];
            *o = match Self::cell_codes(&groups, d, &mut codes) {
                Ok(()) => Reading::Valid(convert::overlap_words::<V>().iter().all(|&(g, a, b)| {
                    let ca = codes
                        .get(3 * g + a)
                        .copied()
                        .unwrap_or(convert::NOT_CONVERTED);
                    let cb = codes
                        .get(3 * g + b)
                        .copied()
                        .unwrap_or(convert::NOT_CONVERTED);
                    convert::overlap_ok(ca, cb, convert::OVERLAP_MAX_DELTA_CODES)
                })),
                Err(f) => {
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    async fn mux_test(
        &mut self,
        out: &mut [Reading<bool>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        self.wake_idle().await?;
        self.send(&command::DIAGN).await?;
        self.settle(Microseconds(command::T_DIAGN_US)).await?;
        self.read_mapped(&command::RDSTATB, out, |d, _| d[5] & 0x02 == 0)
            .await
    }

    async fn read_serial_id(
        &mut self,
        out: &mut [Reading<[u8; 6]>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if !matches!(V::LAYOUT, super::ConfigLayout::Ltc6810) {
            return Err(Error::Config(ConfigError::Unsupported(
                "RDSID (LTC6810 only)",
            )));
        }
        self.read_mapped(&command::RDSID, out, |d, _| *d).await
    }

    async fn write_comm(&mut self, comm: &[Comm; N]) -> Result<(), Error<IO::Error>> {
        // Reject values the register cannot hold before anything is sent.
        for c in comm {
            c.check().map_err(Error::Config)?;
        }
        let mut data = [[0u8; 6]; N];
        for (d, c) in data.iter_mut().zip(comm) {
            *d = c.encode();
        }
        self.write_raw(&command::WRCOMM, &data).await
    }

    async fn read_comm(
        &mut self,
        out: &mut [Reading<Comm>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.read_mapped(&command::RDCOMM, out, |d, _| Comm::decode(d))
            .await
    }

    async fn start_comm(&mut self) -> Result<(), Error<IO::Error>> {
        // STCOMM then 72 clocks (24 per COMM byte) in the same CS frame (LTC6812-DS "COMM").
        let mut clocks = [0xFFu8; 9];
        self.io
            .transaction(&mut [
                embedded_hal::spi::Operation::Write(&command::STCOMM),
                embedded_hal::spi::Operation::TransferInPlace(&mut clocks),
            ])
            .await
            .map_err(Error::Bus)
    }

    async fn write_sctrl(&mut self, s: &[Nibbles; N]) -> Result<(), Error<IO::Error>> {
        // Reject values the register cannot hold before anything is sent.
        for c in s {
            c.check().map_err(Error::Config)?;
        }
        let mut data = [[0u8; 6]; N];
        for (d, c) in data.iter_mut().zip(s) {
            *d = c.encode();
        }
        self.write_raw(&command::WRSCTRL, &data).await
    }

    async fn read_sctrl(
        &mut self,
        out: &mut [Reading<Nibbles>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.read_mapped(&command::RDSCTRL, out, |d, _| Nibbles::decode(d))
            .await
    }

    async fn start_sctrl(&mut self) -> Result<(), Error<IO::Error>> {
        self.send(&command::STSCTRL).await
    }

    async fn clear_sctrl(&mut self) -> Result<(), Error<IO::Error>> {
        self.send(&command::CLRSCTRL).await
    }

    async fn write_pwm(&mut self, s: &[Nibbles; N]) -> Result<(), Error<IO::Error>> {
        // Reject values the register cannot hold before anything is sent.
        for c in s {
            c.check().map_err(Error::Config)?;
        }
        let mut data = [[0u8; 6]; N];
        for (d, c) in data.iter_mut().zip(s) {
            *d = c.encode();
        }
        self.write_raw(&command::WRPWM, &data).await
    }

    async fn read_pwm(
        &mut self,
        out: &mut [Reading<Nibbles>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.read_mapped(&command::RDPWM, out, |d, _| Nibbles::decode(d))
            .await
    }

    async fn write_psb(&mut self, s: &[Psb; N]) -> Result<(), Error<IO::Error>> {
        if !V::HAS_PSB {
            return Err(Error::Config(ConfigError::Unsupported(
                "PWM/S-control group B",
            )));
        }
        for c in s {
            c.check_part::<V>().map_err(Error::Config)?;
        }
        let mut data = [[0u8; 6]; N];
        for (d, c) in data.iter_mut().zip(s) {
            *d = c.encode();
        }
        self.write_raw(&command::WRPSB, &data).await
    }

    async fn read_psb(
        &mut self,
        out: &mut [Reading<Psb>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if !V::HAS_PSB {
            return Err(Error::Config(ConfigError::Unsupported(
                "PWM/S-control group B",
            )));
        }
        self.read_mapped(&command::RDPSB, out, |d, _| Psb::decode(d))
            .await
    }
}

fn mismatches<'a>(codes: impl Iterator<Item = &'a u16>, expected: u16) -> u32 {
    codes.enumerate().fold(0, |m, (i, &c)| {
        if c != expected && i < 32 {
            m | 1 << i
        } else {
            m
        }
    })
}

impl<V: Variant, const N: usize, IO: SpiIo> MonitorCore for Core<V, N, IO> {
    type BusError = IO::Error;

    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        V::CELLS
    }
    fn temperatures_per_device(&self) -> usize {
        1 + self
            .thermistors
            .map_or(0, |t| t.gpios.count_ones() as usize)
    }
    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        // A sleeping core has lost CFGRA (thresholds, GPIO, REFON) and, without DTEN, its
        // discharge switches (LTC6812-DS: the watchdog resets the configuration): wake the
        // chain and restore the configuration this driver holds, so generic code that calls
        // `wake` gets a chain in the state it configured.
        Core::wake(self).await?;
        self.write_config().await
    }
    async fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.wake_idle().await?;
        // Clear first: if the start were lost on the bus, the read shows NotConverted
        // instead of the previous (stale, PEC-valid) voltages.
        self.clear_cells().await?;
        self.start_cells(mode_of(mode), false, CellSelect::ALL)
            .await
    }
    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N * V::CELLS)?;
        self.wake_idle().await?;
        self.read_cells(out).await
    }
    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N * V::CELLS)?;
        self.wake_idle().await?;
        self.clear_cells().await?;
        let t = self
            .start_cells(mode_of(mode), false, CellSelect::ALL)
            .await?;
        self.settle(t).await?;
        self.read_cells(out).await
    }
    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let per = MonitorCore::temperatures_per_device(self);
        check_len(out.len(), N * per)?;
        self.wake_idle().await?;
        let t = self
            .start_status(AdcMode::Normal, StatusSelect::Itmp)
            .await?;
        self.settle(t).await?;
        let mut tmp = [Reading::NotConverted; N];
        let mut r = self
            .read_mapped(&command::RDSTATA, &mut tmp, |d, dev| {
                convert::die_temperature::<V>(convert::word(d, 1), dev)
            })
            .await?;
        for (o, t) in out.iter_mut().step_by(per).zip(tmp) {
            *o = noted(flatten(t), &mut r);
        }
        let Some(th) = self.thermistors else {
            return Ok(r);
        };
        let t = self.start_gpio(AdcMode::Normal, GpioSelect::ALL).await?;
        self.settle(t).await?;
        let mut aux = [[Reading::NotConverted; 10]; N];
        r.merge(self.read_aux_strided(aux.as_flattened_mut(), 10).await?);
        for (dev_out, a) in out.chunks_exact_mut(per).zip(&aux) {
            let vref = a.get(5).copied().unwrap_or(Reading::NotConverted);
            let gpios = (1..=V::GPIOS).filter(|g| th.gpios >> (g - 1) & 1 != 0);
            for (o, g) in dev_out.iter_mut().skip(1).zip(gpios) {
                let v = aux_slot::<V>(g)
                    .and_then(|i| a.get(i).copied())
                    .unwrap_or(Reading::NotConverted);
                *o = match (v, vref) {
                    (Reading::Valid(v), Reading::Valid(vr)) => Reading::Valid((th.convert)(v, vr)),
                    (Reading::Failed(f), _) | (_, Reading::Failed(f)) => Reading::Failed(f),
                    _ => Reading::NotConverted,
                };
            }
        }
        Ok(r)
    }
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        self.wake_idle().await?;
        let t = self.start_status(AdcMode::Normal, StatusSelect::Sc).await?;
        self.settle(t).await?;
        let mut tmp = [Reading::NotConverted; N];
        let mut r = self
            .read_mapped(&command::RDSTATA, &mut tmp, |d, dev| {
                convert::sum_of_cells::<V>(convert::word(d, 0), dev)
            })
            .await?;
        for (o, t) in out.iter_mut().zip(tmp) {
            *o = noted(flatten(t), &mut r);
        }
        Ok(r)
    }
    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        Ok(None)
    }
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        check_len(masks.len(), N)?;
        let limit = 1u32 << V::CELLS;
        for &m in masks {
            if m >= limit {
                return Err(Error::Config(ConfigError::NoSuchCell {
                    cell: (32 - m.leading_zeros()) as u16,
                    available: V::CELLS as u16,
                }));
            }
        }
        for (c, &m) in self.cfg.iter_mut().zip(masks) {
            c.dcc = m;
        }
        self.wake_idle().await?;
        self.write_config().await
    }
    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        self.wake_idle().await?;
        let mut st = [Reading::NotConverted; N];
        let r = self.read_status(&mut st).await?;
        for (o, s) in out.iter_mut().zip(st) {
            *o = s.map(|s| Faults {
                overvoltage: s.b.overvoltage,
                undervoltage: s.b.undervoltage,
                thermal_shutdown: s.b.thermal_shutdown,
                internal: s.b.mux_fail,
                raw: u32::from(s.b.mux_fail) << 1 | u32::from(s.b.thermal_shutdown),
                ..Faults::default()
            });
        }
        Ok(r)
    }
}

/// Register-order index of GPIO `g` (1-based) among the auxiliary words (see `read_aux`).
fn aux_slot<V: Variant>(g: usize) -> Option<usize> {
    match V::LAYOUT {
        super::ConfigLayout::Ltc6810 if (1..=4).contains(&g) => Some(g),
        super::ConfigLayout::Ltc6811 if (1..=5).contains(&g) => Some(g - 1),
        super::ConfigLayout::Ltc6812 | super::ConfigLayout::Ltc6813 if (1..=5).contains(&g) => {
            Some(g - 1)
        }
        super::ConfigLayout::Ltc6812 | super::ConfigLayout::Ltc6813 if (6..=9).contains(&g) => {
            Some(g)
        }
        _ => None,
    }
}

/// Records a `Failed` reading (a fault code decoded from a frame with a good PEC) in
/// `report`, so that fault codes show in the report as they do on the cell read path.
fn noted<T>(r: Reading<T>, report: &mut ChainReport) -> Reading<T> {
    if let Reading::Failed(f) = r {
        report.record(f);
    }
    r
}

fn flatten<T>(r: Reading<Reading<T>>) -> Reading<T> {
    match r {
        Reading::Valid(inner) => inner,
        Reading::NotConverted => Reading::NotConverted,
        Reading::Failed(f) => Reading::Failed(f),
    }
}

impl_cell_monitor!(spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core);

twins! {
    spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core {
        /// Wakes the chain from SLEEP: one dummy RDCFGA frame per device, each followed by
        /// tWAKE (400 µs max) so every device's core is up before the next pulse (LTC6812-DS
        /// "Waking a Daisy Chain", method 2). Works with any `SpiDevice`.
        pub fn wake(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Wakes the isoSPI ports from IDLE (after > tIDLE = 4.3 ms of silence, cores still
        /// up): one dummy frame per device with tREADY (10 µs) gaps.
        pub fn wake_idle(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Writes the held configuration: WRCFGA (and WRCFGB on LTC6812/6813/ADBMS1818), one
        /// CS frame each, device 0 = nearest the host. Invalid configuration is rejected with
        /// [`Error::Config`] before anything is sent.
        pub fn write_config(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Reads the configuration groups back and compares them with the held configuration,
        /// masking bits that do not read back (DTEN, MUTE, GPIO pin levels, DCTO remaining,
        /// see [`register::verify_mask`]). A difference is [`Error::Verify`] naming device,
        /// register and byte; a bad PEC is [`Error::Integrity`].
        pub fn verify_config(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// [`write_config`](Self::write_config) then [`verify_config`](Self::verify_config).
        pub fn write_config_verified(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Reads and decodes every device's configuration (`out.len() == N`).
        pub fn read_config(&mut self, out: &mut [Reading<DeviceConfig>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// ADCV: starts a cell conversion; returns the data-sheet wait.
        pub fn start_cells(&mut self, mode: AdcMode, dcp: bool, sel: CellSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADCVSC: cells and sum of cells.
        pub fn start_cells_and_sc(&mut self, mode: AdcMode, dcp: bool) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADCVAX: cells and GPIO1, GPIO2.
        pub fn start_cells_and_gpio12(&mut self, mode: AdcMode, dcp: bool) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADAX: GPIO/auxiliary conversion.
        pub fn start_gpio(&mut self, mode: AdcMode, sel: GpioSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADAXD: GPIO conversion with digital redundancy (mismatch → fault code 0xFF0X, read
        /// as [`Reading::Failed`]).
        pub fn start_gpio_redundant(&mut self, mode: AdcMode, sel: GpioSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// AXOW: GPIO open-wire conversion.
        pub fn start_gpio_open_wire(&mut self, mode: AdcMode, pull: Pull, sel: GpioSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADSTAT: status conversion.
        pub fn start_status(&mut self, mode: AdcMode, sel: StatusSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADSTATD: status conversion with digital redundancy.
        pub fn start_status_redundant(&mut self, mode: AdcMode, sel: StatusSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADOW: one open-wire conversion (see [`open_wire`](Self::open_wire) for the
        /// complete check).
        pub fn start_open_wire(&mut self, mode: AdcMode, pull: Pull, dcp: bool, sel: CellSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADOL: overlap conversion (not LTC6810: [`ConfigError::Unsupported`]).
        pub fn start_overlap(&mut self, mode: AdcMode, dcp: bool) -> Result<Microseconds, Error<SpiError<B>>>;
        /// CLRCELL: cell registers read 0xFF (not converted).
        pub fn clear_cells(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// CLRAUX.
        pub fn clear_aux(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// CLRSTAT (flags, MUXFAIL and THSD then read 1).
        pub fn clear_status(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// MUTE: opens every discharge switch without changing DCC (not LTC6811).
        pub fn mute(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// UNMUTE (not LTC6811).
        pub fn unmute(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// PLADC polling until every device finished converting: bounded by the
        /// `set_max_polls` count, [`Error::Timeout`] otherwise.
        pub fn poll_adc(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Reads every cell (`out.len() == N · V::CELLS`, device 0 first, cell 1 first).
        pub fn read_cells(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// LTC6810 only: reads the S-voltage groups RDSA (S1–S3) and RDSB (S4–S6) into `out`
        /// (`out.len() == N · 6`, device 0 first, S1 first). The groups are laid out like cell
        /// groups (Linduino `LTC6810.cpp` `LTC6810_rds` parses them with the cell parser;
        /// `DC2515.ino` prints them as code × 100 µV) and are decoded by the cell decoder
        /// [`convert::decode_cell_groups`]: every device's PEC is checked, a bad frame fails
        /// only that device's slots and the groups with a bad frame are re-issued up to
        /// [`retries`](Self::retries) times; 0xFFFF (cleared, or never converted because
        /// SCONV was 0) is [`Reading::NotConverted`]; codes above 0xDFFF are `Failed`.
        ///
        /// On other parts 0x008/0x00A are RDCVC/RDCVD (cell groups C/D): refused with
        /// [`ConfigError::Unsupported`] (as [`Error::Config`]) before anything is sent.
        pub fn read_s_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// LTC6810 only: the S-pin redundancy check. Writes the held configuration and reads
        /// it back per device (SCONV must be set on each chip, not only in the driver's copy:
        /// a chip that slept has lost it), clears the cell registers (CLRCELL), converts all
        /// cells with ADCV (`mode`, DCP = 0), waits, reads the cells and the S voltages and
        /// compares them per device with [`convert::s_pin_mismatches`]: `out[d]`
        /// (`out.len() == N`) is `Valid(mask)` with bit `k` set when |C(k+1) − S(k+1)| >
        /// `max_diff` (0 = both paths agree), `Failed` when a frame of that device failed
        /// (its configuration read-back included: SCONV unconfirmed), `NotConverted` when a
        /// result of that device was not converted. The report merges every read.
        ///
        /// Refused before anything is sent: other parts ([`ConfigError::Unsupported`]), a
        /// negative `max_diff` ([`ConfigError::OutOfRange`]), and a held configuration with
        /// SCONV = 0 on any device ([`ConfigError::Conflict`]; call
        /// [`set_sconv(true)`](Self::set_sconv) first). A chip whose good read-back shows
        /// SCONV = 0 after the write stops the check with [`Error::Verify`] naming it.
        ///
        /// Not verified against the data sheet (only vendor code is in the notes): that the
        /// ADCV conversion is what fills the S groups when SCONV = 1 (the vendor sketch
        /// `DC2515.ino` sets SCONV and only ever starts ADCV before reading them), whether
        /// CLRCELL also clears the S groups (if it does not, an S path that stopped
        /// converting shows its previous values, not `NotConverted`), and the expected
        /// C-to-S tolerance.
        pub fn s_pin_redundancy(&mut self, mode: AdcMode, max_diff: MicroVolts, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads the auxiliary voltages in register order (`out.len() == N · V::AUX_CHANNELS`):
        /// LTC6811 G1..G5, REF2; LTC6812/6813/ADBMS1818 G1..G5, REF2, G6..G9; LTC6810
        /// S0, G1..G4, REF2 (Linduino `DC2515.ino` `print_aux`).
        pub fn read_aux(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads STATA, STATB (and AUXD flags for cells 13..): `out.len() == N`. A value
        /// holding a fault code (above 0xDFFF) is `Failed` inside the status and fails the
        /// report too.
        pub fn read_status(&mut self, out: &mut [Reading<Status>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// ADSTAT (all), waits, reads the status.
        pub fn measure_status(&mut self, mode: AdcMode, out: &mut [Reading<Status>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// ADAX (all), waits, reads the auxiliary voltages.
        pub fn measure_aux(&mut self, mode: AdcMode, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// The data-sheet open-wire check: ADOW pull-up `repetitions` times (at least 2; see
        /// LTC6812-DS Table 14 for C-pin capacitance), read; pull-down likewise; evaluate with
        /// [`convert::open_wires`]. `out[d]` = mask of open wires C(w) (bit w); a device
        /// answering any code above the full scale 0xDFFF (a chip fault code) is
        /// [`Reading::Failed`], one answering 0xFFFF `NotConverted` (see
        /// [`convert::open_wire_reading`]).
        pub fn open_wire(&mut self, mode: AdcMode, repetitions: u8, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// CVST: cell self test; `out[d]` = mask of cells not reading the expected pattern
        /// (0 = pass).
        pub fn self_test_cells(&mut self, mode: AdcMode, st: SelfTest, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// AXST: auxiliary self test; `out[d]` = mask of auxiliary channels failing.
        pub fn self_test_aux(&mut self, mode: AdcMode, st: SelfTest, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// STATST: status self test; `out[d]` bits 0 SC, 1 ITMP, 2 VA, 3 VD failing.
        pub fn self_test_status(&mut self, mode: AdcMode, st: SelfTest, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// ADOL overlap test; `out[d]` = `true` if both ADCs agree within
        /// [`convert::OVERLAP_MAX_DELTA_CODES`].
        pub fn overlap_test(&mut self, mode: AdcMode, out: &mut [Reading<bool>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// DIAGN then STATB: `out[d]` = `true` if MUXFAIL is clear.
        pub fn mux_test(&mut self, out: &mut [Reading<bool>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// RDSID: the 48-bit serial ID of each LTC6810 (Linduino `LTC6810_rdsid`); other
        /// parts: [`ConfigError::Unsupported`].
        pub fn read_serial_id(&mut self, out: &mut [Reading<[u8; 6]>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// WRCOMM (device 0 = nearest the host). Every ICOM/FCOM must be a write code of the
        /// data sheet ([`Comm::check`]), else [`Error::Config`] and nothing is sent.
        pub fn write_comm(&mut self, comm: &[Comm; N]) -> Result<(), Error<SpiError<B>>>;
        /// RDCOMM.
        pub fn read_comm(&mut self, out: &mut [Reading<Comm>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// STCOMM followed by the 72 clocks that shift the three COMM bytes out.
        pub fn start_comm(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// WRSCTRL. Codes above 15 are rejected ([`Nibbles::check`]) before anything is sent.
        pub fn write_sctrl(&mut self, s: &[Nibbles; N]) -> Result<(), Error<SpiError<B>>>;
        /// RDSCTRL.
        pub fn read_sctrl(&mut self, out: &mut [Reading<Nibbles>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// STSCTRL.
        pub fn start_sctrl(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// CLRSCTRL.
        pub fn clear_sctrl(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// WRPWM (duty = code / 15 per cell, applies while DCC is set and the watchdog has
        /// expired; set duties with [`Nibbles::set_pwm_duty`]). Codes above 15 are rejected
        /// ([`Nibbles::check`]) before anything is sent.
        pub fn write_pwm(&mut self, s: &[Nibbles; N]) -> Result<(), Error<SpiError<B>>>;
        /// RDPWM.
        pub fn read_pwm(&mut self, out: &mut [Reading<Nibbles>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// WRPSB (LTC6812/6813/ADBMS1818). Codes above 15 and values for cells the part
        /// lacks are rejected ([`Psb::check_part`]) before anything is sent.
        pub fn write_psb(&mut self, s: &[Psb; N]) -> Result<(), Error<SpiError<B>>>;
        /// RDPSB (LTC6812/6813/ADBMS1818).
        pub fn read_psb(&mut self, out: &mut [Reading<Psb>]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
