//! The driver: [`Max1785x`] over a MAX17841B bridge, blocking and async.

use core::marker::PhantomData;

use embedded_hal::spi::Operation;

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

/// The wait before SCANDONE can be expected, per oversampling. Not from a data-sheet
/// table (none is in the public sources this crate cites): the 128× value is the reference
/// firmware's wait after its 128× scan (MAXREFDES1301 `V_measure.cpp`, 100 ms); the others
/// are conservative. The driver confirms completion with SCANDONE either way.
pub const fn scan_wait(os: Oversampling) -> Microseconds {
    match os {
        Oversampling::None => Microseconds(2_000),
        Oversampling::X4 => Microseconds(4_000),
        Oversampling::X128 => Microseconds(100_000),
    }
}

/// The oversampling each [`ConversionMode`] selects.
pub const fn oversampling_of(mode: ConversionMode) -> Oversampling {
    match mode {
        ConversionMode::Fast => Oversampling::None,
        ConversionMode::Normal => Oversampling::X4,
        ConversionMode::Filtered => Oversampling::X128,
    }
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

    /// Holds the cell overvoltage threshold (OVTHSET and OVTHCLR) written by
    /// [`write_thresholds`](Self::write_thresholds) and by the start-up; returns the
    /// threshold achieved (rounded down to a code, [`register::cell_threshold`]).
    pub fn set_overvoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = register::cell_threshold(v, false)?;
        self.core.th.cell_ov = Some(code);
        Ok(achieved)
    }

    /// Holds the cell undervoltage threshold (UVTHSET and UVTHCLR); returns the threshold
    /// achieved (rounded up to a code).
    pub fn set_undervoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = register::cell_threshold(v, true)?;
        self.core.th.cell_uv = Some(code);
        Ok(achieved)
    }

    /// Holds the cell mismatch threshold (MSMTCH: alert when the cells of a device differ by
    /// more); returns the value achieved (rounded down: the alert is never later). Encoded on
    /// the cell scale (not verified against the data sheet).
    pub fn set_mismatch(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = register::cell_threshold(v, false)?;
        self.core.th.mismatch = Some(code);
        Ok(achieved)
    }

    /// Holds the block (module) over- and undervoltage thresholds (BLKOVTHSET/CLR,
    /// BLKUVTHSET/CLR, 65 V scale); returns the values achieved (OV rounded down, UV up).
    pub fn set_block_limits(
        &mut self,
        under: MicroVolts,
        over: MicroVolts,
    ) -> Result<(MicroVolts, MicroVolts), ConfigError> {
        if under > over {
            return Err(ConfigError::Conflict(
                "block undervoltage above overvoltage",
            ));
        }
        let (u, ua) = register::block_threshold(under, true)?;
        let (o, oa) = register::block_threshold(over, false)?;
        self.core.th.block_uv = Some(u);
        self.core.th.block_ov = Some(o);
        Ok((ua, oa))
    }

    /// Holds the ratiometric AUX limits in ppm of the reference (AUXRUVTHSET/CLR below,
    /// AUXROVTHSET/CLR above). With NTC thermistors to ground a hot sensor reads a low ratio:
    /// `hot_below_ppm` is the over-temperature limit, `cold_above_ppm` the under-temperature
    /// one (they show in [`Faults`] as over/under-temperature). Returns the ratios achieved
    /// (hot rounded up, cold rounded down: never later than asked).
    pub fn set_temperature_limits(
        &mut self,
        hot_below_ppm: u32,
        cold_above_ppm: u32,
    ) -> Result<(u32, u32), ConfigError> {
        if hot_below_ppm > cold_above_ppm {
            return Err(ConfigError::Conflict(
                "over-temperature ratio above under-temperature ratio",
            ));
        }
        let (lo, la) = register::aux_ratio_threshold(hot_below_ppm, true)?;
        let (hi, ha) = register::aux_ratio_threshold(cold_above_ppm, false)?;
        self.core.th.aux_low = Some(lo);
        self.core.th.aux_high = Some(hi);
        Ok((la, ha))
    }

    /// Balancing expiration in minutes for every cell (BALEXP1..BALEXP14; default 1, as
    /// foxBMS sets it: "1 minute timeout in manual balancing"). This is the balancing
    /// watchdog: switches closed by [`set_balancing`](crate::CellMonitor::set_balancing)
    /// open by themselves after this time unless balancing is set again (each
    /// `set_balancing` restarts the timer). 1..=255; the field width is not in the cited
    /// sources, so the write is verified by read-back.
    pub fn set_balance_timeout(&mut self, minutes: u16) -> Result<(), ConfigError> {
        if !(1..=255).contains(&minutes) {
            return Err(ConfigError::OutOfRange {
                field: "balancing expiration (min)",
                value: i64::from(minutes),
                min: 1,
                max: 255,
            });
        }
        if minutes != self.core.balance_minutes {
            self.core.balance_minutes = minutes;
            self.core.balexp_written = false;
        }
        Ok(())
    }

    /// The thresholds held (what [`write_thresholds`](Self::write_thresholds) sends).
    pub fn thresholds(&self) -> &Thresholds {
        &self.core.th
    }

    /// AUX thermistors for [`CellMonitor::measure_temperatures`](crate::CellMonitor): the
    /// inputs (bits `0..V::AUX_INPUTS`) and the conversion. The AUX measurement must be
    /// enabled in MEASUREEN2 (its layout is not in the cited sources: write it with
    /// [`write_all_verified`](Self::write_all_verified)).
    pub fn set_thermistors(&mut self, t: Option<Thermistors>) -> Result<(), ConfigError> {
        if let Some(t) = t {
            if t.inputs == 0 || u32::from(t.inputs) >> V::AUX_INPUTS != 0 {
                return Err(ConfigError::OutOfRange {
                    field: "thermistor AUX mask",
                    value: i64::from(t.inputs),
                    min: 1,
                    max: (1i64 << V::AUX_INPUTS) - 1,
                });
            }
        }
        self.core.thermistors = t;
        Ok(())
    }

    /// The current-sense scaling for [`read_current`](crate::CellMonitor::read_current)
    /// (MAX17852 only; the CSA result format is the caller's, see [`CurrentSense`]).
    pub fn set_current_sense(&mut self, cs: Option<CurrentSense>) -> Result<(), ConfigError> {
        if let Some(c) = cs {
            if !V::HAS_CSA {
                return Err(ConfigError::Unsupported(
                    "current-sense amplifier (MAX17852 only)",
                ));
            }
            if usize::from(c.device) >= N || c.shunt_micro_ohm <= 0 {
                return Err(ConfigError::OutOfRange {
                    field: "current-sense device / shunt",
                    value: i64::from(c.device),
                    min: 0,
                    max: N as i64 - 1,
                });
            }
        }
        self.core.current = cs;
        Ok(())
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

    async fn frame(&mut self, bytes: &[u8]) -> Result<(), Error<IO::Error>> {
        self.io
            .transaction(&mut [Operation::Write(bytes)])
            .await
            .map_err(Error::Bus)
    }

    async fn bridge_write(&mut self, reg: BridgeRegister, v: u8) -> Result<(), Error<IO::Error>> {
        let w = reg
            .write()
            .ok_or(Error::InvalidArgument("read-only bridge register"))?;
        self.frame(&[w, v]).await
    }

    async fn bridge_read(&mut self, reg: BridgeRegister) -> Result<u8, Error<IO::Error>> {
        let mut buf = [reg.read(), 0x00];
        self.io
            .transaction(&mut [Operation::TransferInPlace(&mut buf)])
            .await
            .map_err(Error::Bus)?;
        Ok(buf[1])
    }

    async fn bridge_write_verified(
        &mut self,
        reg: BridgeRegister,
        v: u8,
    ) -> Result<(), Error<IO::Error>> {
        self.bridge_write(reg, v).await?;
        let r = self.bridge_read(reg).await?;
        if r == v {
            Ok(())
        } else {
            Err(Error::Verify(VerifyMismatch {
                device: 0,
                register: reg.name(),
                offset: 0,
                expected: v,
                actual: r,
            }))
        }
    }

    /// One bridge transaction: clear RX, load, transmit, poll RX_STATUS (bounded), read.
    /// `Ok(false)` if the message did not come back within the bound (or the receive buffer
    /// overflowed): nothing in `rx` is then meaningful.
    async fn transact(
        &mut self,
        req: &Request,
        rx: &mut [u8; MAX_MESSAGE],
    ) -> Result<bool, Error<IO::Error>> {
        let len = req.response_len();
        self.frame(&[bridge::CLR_RX_BUF]).await?;
        let mut load = [0u8; 8];
        let n = bridge::load_queue_frame(req.bytes(), len, &mut load)
            .ok_or(Error::InvalidArgument("message too long for the bridge"))?;
        self.frame(load.get(..n).unwrap_or(&[])).await?;
        self.frame(&[bridge::WR_NXT_LD_Q0]).await?;
        // The message needs about 12 µs per byte at 2 Mbit/s (two 12-bit characters per
        // byte) plus each device's latency before anything can be back.
        self.io.delay_us(12 * len as u32 + 4 * N as u32).await;
        let mut arrived = false;
        for _ in 0..self.max_polls {
            let s = RxStatus::from_bits_retain(self.bridge_read(BridgeRegister::RxStatus).await?);
            if s.contains(RxStatus::OVERFLOW) {
                return Ok(false);
            }
            if s.contains(RxStatus::STOP) {
                arrived = true;
                break;
            }
            self.io.delay_us(MESSAGE_POLL_US).await;
        }
        if !arrived {
            return Ok(false);
        }
        let mut buf = [0u8; MAX_MESSAGE + 1];
        let frame = buf
            .get_mut(..len + 1)
            .ok_or(Error::InvalidArgument("message too long for the bridge"))?;
        frame[0] = bridge::RD_NXT_MSG;
        self.io
            .transaction(&mut [Operation::TransferInPlace(frame)])
            .await
            .map_err(Error::Bus)?;
        rx.fill(0);
        if let (Some(dst), Some(src)) = (rx.get_mut(..len), buf.get(1..len + 1)) {
            dst.copy_from_slice(src);
        }
        Ok(true)
    }

    /// A write message (WRITEALL or WRITEDEVICE `device`) with its echo checked, re-issued
    /// on failure. The fault names `device` (device 0 for WRITEALL: the echo cannot say
    /// which device saw the message damaged).
    async fn write_msg(
        &mut self,
        device: Option<u8>,
        reg: u8,
        value: u16,
    ) -> Result<(), Error<IO::Error>> {
        let mut rx = [0u8; MAX_MESSAGE];
        let mut last = FaultReason::NoResponse;
        for _ in 0..=self.retries {
            let ac = self.next_alive();
            let req = match device {
                None => Request::write_all(reg, value, ac),
                Some(d) => Request::write_device(d, reg, value, ac).map_err(Error::Config)?,
            };
            if !self.transact(&req, &mut rx).await? {
                last = FaultReason::NoResponse;
                continue;
            }
            match message::check_write(&req, &rx, N) {
                Ok(()) => return Ok(()),
                Err(e) => last = self.note(e),
            }
        }
        Err(Error::Integrity(DeviceFault {
            device: device.unwrap_or(0),
            reason: last,
        }))
    }

    /// READDEVICE with retries; `came_back` is cleared if no attempt returned anything.
    async fn read_one(
        &mut self,
        d: u8,
        reg: u8,
        came_back: &mut bool,
    ) -> Result<Result<(u16, DataCheck), FaultReason>, Error<IO::Error>> {
        let mut rx = [0u8; MAX_MESSAGE];
        let mut last = FaultReason::NoResponse;
        *came_back = false;
        for _ in 0..=self.retries {
            let req = Request::read_device(d, reg, self.next_alive()).map_err(Error::Config)?;
            if !self.transact(&req, &mut rx).await? {
                last = FaultReason::NoResponse;
                continue;
            }
            *came_back = true;
            match message::check_read_device(&req, &rx, N) {
                Ok(v) => return Ok(Ok(v)),
                Err(e) => last = self.note(e),
            }
        }
        Ok(Err(last))
    }

    /// Reads register `reg` of every device into `out` (per device: the value or its
    /// fault) and returns the data-check bits seen.
    async fn read_reg(
        &mut self,
        reg: u8,
        out: &mut Slots<N>,
    ) -> Result<DataCheck, Error<IO::Error>> {
        let mut dc = DataCheck::empty();
        self.ring_open = false;
        if self.uses_read_all() {
            let mut rx = [0u8; MAX_MESSAGE];
            let mut came_back = false;
            let mut last = FaultReason::NoResponse;
            for _ in 0..=self.retries {
                let req = Request::read_all(reg, N, self.next_alive()).map_err(Error::Config)?;
                if !self.transact(&req, &mut rx).await? {
                    continue;
                }
                came_back = true;
                match message::check_read_all(&req, &rx) {
                    Ok(all) => {
                        for (d, o) in out.iter_mut().enumerate() {
                            *o = all.value(d).ok_or(FaultReason::Framing);
                        }
                        return Ok(all.dc);
                    }
                    Err(e) => last = self.note(e),
                }
            }
            if !came_back {
                // Nothing returned at all: a ring that loses one message loses the next
                // too; every device failed, without N more bounded waits.
                out.fill(Err(FaultReason::NoResponse));
                self.ring_open = true;
                return Ok(dc);
            }
            // A sequence failure cannot be attributed: every device failed it.
            if matches!(last, FaultReason::CommandCounter { .. }) {
                out.fill(Err(last));
                return Ok(dc);
            }
        }
        let mut came_back = true;
        for (d, o) in out.iter_mut().enumerate() {
            if !came_back {
                // Nothing came back for the previous device: the ring is open, so the
                // others are not asked (each would only wait out its bound).
                *o = Err(FaultReason::NoResponse);
                continue;
            }
            *o = match self.read_one(d as u8, reg, &mut came_back).await? {
                Ok((v, c)) => {
                    dc |= c;
                    Ok(v)
                }
                Err(e) => Err(e),
            };
        }
        self.ring_open = !came_back;
        Ok(dc)
    }

    async fn hello_all(&mut self) -> Result<u8, Error<IO::Error>> {
        let mut rx = [0u8; MAX_MESSAGE];
        let req = Request::hello_all();
        let mut last = FaultReason::NoResponse;
        for _ in 0..=self.retries {
            if !self.transact(&req, &mut rx).await? {
                continue;
            }
            match message::check_hello_all(&rx) {
                Ok(n) => return Ok(n),
                Err(e) => last = self.note(e),
            }
        }
        Err(Error::Integrity(DeviceFault {
            device: 0,
            reason: last,
        }))
    }

    async fn wake_chain(&mut self) -> Result<(), Error<IO::Error>> {
        self.frame(&[bridge::CLR_RX_BUF]).await?;
        self.bridge_write(BridgeRegister::Configuration2, bridge::CONFIG2_PREAMBLES_ON)
            .await?;
        let mut busy = false;
        for _ in 0..self.max_wake_polls {
            self.io.delay_us(WAKE_POLL_US).await;
            let s = RxStatus::from_bits_retain(self.bridge_read(BridgeRegister::RxStatus).await?);
            if s.contains(RxStatus::BUSY) {
                busy = true;
                break;
            }
        }
        self.bridge_write(
            BridgeRegister::Configuration2,
            bridge::CONFIG2_PREAMBLES_OFF,
        )
        .await?;
        if !busy {
            return Err(Error::Timeout("chain wake-up: preambles did not come back"));
        }
        let mut idle = false;
        for _ in 0..self.max_wake_polls {
            self.io.delay_us(WAKE_POLL_US).await;
            let s = RxStatus::from_bits_retain(self.bridge_read(BridgeRegister::RxStatus).await?);
            if !s.contains(RxStatus::BUSY) {
                idle = true;
                break;
            }
        }
        if !idle {
            return Err(Error::Timeout("chain wake-up: receiver stayed busy"));
        }
        self.frame(&[bridge::CLR_TX_BUF]).await?;
        self.frame(&[bridge::CLR_RX_BUF]).await
    }

    async fn start_up(&mut self) -> Result<(), Error<IO::Error>> {
        self.bridge_write_verified(
            BridgeRegister::Configuration3,
            bridge::CONFIG3_KEEP_ALIVE_160US,
        )
        .await?;
        // Receive error and overflow interrupts on the INT pin, as foxBMS enables them.
        self.bridge_write_verified(
            BridgeRegister::RxInterruptEnable,
            (RxInterrupt::ERROR | RxInterrupt::OVERFLOW).bits(),
        )
        .await?;
        self.bridge_write(BridgeRegister::RxInterruptFlags, 0x00)
            .await?;
        self.wake_chain().await?;
        let n = self.hello_all().await?;
        if usize::from(n) != N {
            return Err(Error::Device {
                device: n,
                what: "HELLOALL counted a different number of devices than the chain",
            });
        }
        // Clear the power-up alerts (MAXREFDES1301 `clear_status_fmea`).
        for r in [Register::Status1, Register::Fmea1, Register::Fmea2] {
            self.write_msg(None, r.address(), 0x0000).await?;
        }
        self.verify_slot_order().await?;
        let mut v: Slots<N> = [Ok(0); N];
        self.read_reg(Register::Version.address(), &mut v).await?;
        for (d, x) in v.iter().enumerate() {
            match x {
                Ok(raw) if raw >> 4 == V::MODEL => {}
                Ok(_) => {
                    return Err(Error::Device {
                        device: d as u8,
                        what: "VERSION model is not the configured part",
                    });
                }
                Err(reason) => {
                    return Err(Error::Integrity(DeviceFault {
                        device: d as u8,
                        reason: *reason,
                    }));
                }
            }
        }
        self.write_all_verified(
            Register::MeasureEn1,
            register::measure_enable1(V::CELLS, true),
        )
        .await?;
        if let Some(t) = self.thermistors {
            self.write_all_verified(Register::MeasureEn2, register::measure_enable2(t.inputs))
                .await?;
        }
        self.balexp_written = false;
        self.write_thresholds().await
    }

    /// READALL of ADDRESS against one READDEVICE of ADDRESS per device: each device's
    /// ADDRESS register holds its own address, so the slots of a READALL must match the
    /// device-by-device answers in order. This checks the slot order the driver assumes
    /// (device 0 first) on the hardware itself, without knowing the register's layout.
    async fn verify_slot_order(&mut self) -> Result<(), Error<IO::Error>> {
        if N < 2 {
            return Ok(());
        }
        let reg = Register::Address.address();
        let mut rx = [0u8; MAX_MESSAGE];
        let mut all: Option<[u16; N]> = None;
        let mut last = FaultReason::NoResponse;
        for _ in 0..=self.retries {
            let req = Request::read_all(reg, N, self.next_alive()).map_err(Error::Config)?;
            if !self.transact(&req, &mut rx).await? {
                continue;
            }
            match message::check_read_all(&req, &rx) {
                Ok(r) => {
                    let mut v = [0u16; N];
                    for (d, x) in v.iter_mut().enumerate() {
                        *x = r.value(d).unwrap_or(0);
                    }
                    all = Some(v);
                    break;
                }
                Err(e) => last = self.note(e),
            }
        }
        let Some(all) = all else {
            return Err(Error::Integrity(DeviceFault {
                device: 0,
                reason: last,
            }));
        };
        for (d, a) in all.iter().enumerate() {
            let mut came_back = true;
            match self.read_one(d as u8, reg, &mut came_back).await? {
                Ok((v, _)) if v == *a => {}
                Ok(_) => {
                    return Err(Error::Device {
                        device: d as u8,
                        what: "READALL slot order differs from the device addresses",
                    });
                }
                Err(reason) => {
                    return Err(Error::Integrity(DeviceFault {
                        device: d as u8,
                        reason,
                    }));
                }
            }
        }
        Ok(())
    }

    async fn read_bridge(&mut self, reg: BridgeRegister) -> Result<u8, Error<IO::Error>> {
        self.bridge_read(reg).await
    }

    async fn write_bridge(
        &mut self,
        reg: BridgeRegister,
        value: u8,
    ) -> Result<(), Error<IO::Error>> {
        self.bridge_write(reg, value).await
    }

    async fn write_all(&mut self, reg: Register, value: u16) -> Result<(), Error<IO::Error>> {
        if !V::accessible(reg.address()) {
            return Err(Error::Config(ConfigError::Unsupported(reg.name())));
        }
        self.write_msg(None, reg.address(), value).await
    }

    async fn write_device(
        &mut self,
        device: u8,
        reg: Register,
        value: u16,
    ) -> Result<(), Error<IO::Error>> {
        if usize::from(device) >= N {
            return Err(Error::InvalidArgument("device index beyond the chain"));
        }
        if !V::accessible(reg.address()) {
            return Err(Error::Config(ConfigError::Unsupported(reg.name())));
        }
        self.write_msg(Some(device), reg.address(), value).await
    }

    /// Reads `reg` of every device and compares with `want[d]`.
    async fn verify(&mut self, reg: Register, want: &[u16; N]) -> Result<(), Error<IO::Error>> {
        let mut v: Slots<N> = [Ok(0); N];
        self.read_reg(reg.address(), &mut v).await?;
        for (d, (x, w)) in v.iter().zip(want).enumerate() {
            match x {
                Ok(r) if r == w => {}
                Ok(r) => {
                    let (rb, wb) = (r.to_le_bytes(), w.to_le_bytes());
                    let offset = usize::from(rb[0] == wb[0]);
                    return Err(Error::Verify(VerifyMismatch {
                        device: d as u8,
                        register: reg.name(),
                        offset: offset as u8,
                        expected: wb[offset],
                        actual: rb[offset],
                    }));
                }
                Err(reason) => {
                    return Err(Error::Integrity(DeviceFault {
                        device: d as u8,
                        reason: *reason,
                    }));
                }
            }
        }
        Ok(())
    }

    async fn write_all_verified(
        &mut self,
        reg: Register,
        value: u16,
    ) -> Result<(), Error<IO::Error>> {
        self.write_all(reg, value).await?;
        self.verify(reg, &[value; N]).await
    }

    async fn write_thresholds(&mut self) -> Result<(), Error<IO::Error>> {
        let th = self.th;
        for (reg, v) in th.writes() {
            self.write_all_verified(reg, v).await?;
        }
        Ok(())
    }

    async fn read_all(
        &mut self,
        reg: Register,
        out: &mut [Reading<u16>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        if !V::accessible(reg.address()) {
            return Err(Error::Config(ConfigError::Unsupported(reg.name())));
        }
        let mut v: Slots<N> = [Ok(0); N];
        self.read_reg(reg.address(), &mut v).await?;
        let mut report = ChainReport::OK;
        for (d, (o, x)) in out.iter_mut().zip(&v).enumerate() {
            *o = slot_reading(d, *x, &mut report, |r| r);
        }
        Ok(report)
    }

    async fn start_scan(&mut self, os: Oversampling) -> Result<Microseconds, Error<IO::Error>> {
        self.write_all(Register::ScanCtrl, register::scan_request(os))
            .await?;
        // The request came back intact (and, with the alive counter, counted by every
        // device): results of this scan can be trusted again.
        self.suspect = None;
        Ok(scan_wait(os))
    }

    /// SCANCTRL of every device: `Ok(true)` = SCANDONE.
    async fn scan_state(
        &mut self,
        out: &mut [Result<bool, FaultReason>; N],
    ) -> Result<(), Error<IO::Error>> {
        let mut v: Slots<N> = [Ok(0); N];
        self.read_reg(Register::ScanCtrl.address(), &mut v).await?;
        for (o, x) in out.iter_mut().zip(&v) {
            *o = x.map(|s| ScanCtrl::from_bits_retain(s).contains(ScanCtrl::SCANDONE));
        }
        Ok(())
    }

    async fn poll_scan(&mut self) -> Result<(), Error<IO::Error>> {
        let mut st = [Ok(false); N];
        for _ in 0..self.max_scan_polls {
            self.scan_state(&mut st).await?;
            // Devices that failed are reported by the read that follows; the wait is over
            // when every answering device is done.
            if st.iter().all(|s| !matches!(s, Ok(false))) {
                return Ok(());
            }
            self.io.delay_us(SCAN_POLL_US).await;
        }
        Err(Error::Timeout("SCANDONE: scan still running"))
    }

    /// Reads `regs` into `out` (`N × regs.len()`, device-major) through `conv`; a device
    /// without SCANDONE reads `NotConverted`; a device failing any read fails all its
    /// slots.
    async fn read_results<T: Copy>(
        &mut self,
        regs: &[u8],
        out: &mut [Reading<T>],
        conv: fn(u16) -> T,
    ) -> Result<ChainReport, Error<IO::Error>> {
        let per = regs.len();
        check_len(out.len(), N * per)?;
        let mut done = [Ok(false); N];
        self.scan_state(&mut done).await?;
        if let Some(reason) = self.suspect {
            // A device may have missed the last scan request: its registers may hold an
            // older scan. Nothing is trusted until a confirmed scan start.
            let mut report = ChainReport::OK;
            for (d, chunk) in out.chunks_exact_mut(per.max(1)).enumerate() {
                let f = DeviceFault {
                    device: d as u8,
                    reason,
                };
                chunk.fill(Reading::Failed(f));
                report.record(f);
            }
            return Ok(report);
        }
        if self.ring_open {
            // Nothing came back: every device failed; the other reads would only time out.
            let mut report = ChainReport::OK;
            for (d, chunk) in out.chunks_exact_mut(per.max(1)).enumerate() {
                let f = DeviceFault {
                    device: d as u8,
                    reason: FaultReason::NoResponse,
                };
                chunk.fill(Reading::Failed(f));
                report.record(f);
            }
            return Ok(report);
        }
        let mut fault: [Option<DeviceFault>; N] = [None; N];
        for (d, s) in done.iter().enumerate() {
            if let Err(reason) = s {
                fault[d] = Some(DeviceFault {
                    device: d as u8,
                    reason: *reason,
                });
            }
        }
        let mut v: Slots<N> = [Ok(0); N];
        for (i, &reg) in regs.iter().enumerate() {
            self.read_reg(reg, &mut v).await?;
            for (d, x) in v.iter().enumerate() {
                let slot = out.get_mut(d * per + i);
                match (x, slot) {
                    (Ok(raw), Some(o)) => *o = Reading::Valid(conv(*raw)),
                    (Err(reason), Some(o)) => {
                        let f = DeviceFault {
                            device: d as u8,
                            reason: *reason,
                        };
                        if fault[d].is_none() {
                            fault[d] = Some(f);
                        }
                        *o = Reading::Failed(f);
                    }
                    _ => {}
                }
            }
        }
        let mut report = ChainReport::OK;
        for (d, chunk) in out.chunks_exact_mut(per).enumerate() {
            if let Some(f) = fault[d] {
                chunk.fill(Reading::Failed(f));
                report.record(f);
            } else if !matches!(done[d], Ok(true)) {
                chunk.fill(Reading::NotConverted);
            }
        }
        Ok(report)
    }

    async fn read_cells(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let mut regs = [0u8; 14];
        for (n, r) in regs.iter_mut().enumerate() {
            *r = Register::cell(n as u8 + 1).unwrap_or(0);
        }
        self.read_results(regs.get(..V::CELLS).unwrap_or(&[]), out, convert::cell_uv)
            .await
    }

    async fn read_block_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.read_results(&[Register::Block.address()], out, convert::block_uv)
            .await
    }

    async fn measure(&mut self, os: Oversampling) -> Result<(), Error<IO::Error>> {
        let t = self.start_scan(os).await?;
        self.io.delay_us(t.0).await;
        self.poll_scan().await
    }

    async fn read_aux_ratios(
        &mut self,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let mut regs = [0u8; 6];
        for (i, r) in regs.iter_mut().enumerate() {
            *r = Register::aux(i as u8).unwrap_or(0);
        }
        let regs = regs.get(..V::AUX_INPUTS).unwrap_or(&[]);
        self.read_results(regs, out, convert::aux_ratio_ppm).await
    }

    async fn read_alerts(
        &mut self,
        out: &mut [Reading<Alerts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        let regs = [
            Register::Status1,
            Register::Fmea1,
            Register::Fmea2,
            Register::AlrtOvCell,
            Register::AlrtUvCell,
        ];
        let mut vals: [Slots<N>; 5] = [[Ok(0); N]; 5];
        for (r, v) in regs.iter().zip(vals.iter_mut()) {
            self.read_reg(r.address(), v).await?;
        }
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let get = |i: usize| {
                vals.get(i)
                    .and_then(|s| s.get(d))
                    .copied()
                    .unwrap_or(Err(FaultReason::Framing))
            };
            *o = match (get(0), get(1), get(2), get(3), get(4)) {
                (Ok(status1), Ok(fmea1), Ok(fmea2), Ok(ov_cells), Ok(uv_cells)) => {
                    Reading::Valid(Alerts {
                        status1,
                        fmea1,
                        fmea2,
                        ov_cells,
                        uv_cells,
                    })
                }
                (Err(r), ..)
                | (_, Err(r), ..)
                | (_, _, Err(r), ..)
                | (.., Err(r), _)
                | (.., Err(r)) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason: r,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    async fn comparator_cross_check(
        &mut self,
        out: &mut [Reading<ComparatorCheck>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        let regs = [
            Register::AlrtOvCell,
            Register::AlrtUvCell,
            Register::AlrtCompOv,
            Register::AlrtCompUv,
        ];
        let mut vals: [Slots<N>; 4] = [[Ok(0); N]; 4];
        for (r, v) in regs.iter().zip(vals.iter_mut()) {
            self.read_reg(r.address(), v).await?;
        }
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let get = |i: usize| {
                vals.get(i)
                    .and_then(|s| s.get(d))
                    .copied()
                    .unwrap_or(Err(FaultReason::Framing))
            };
            *o = match (get(0), get(1), get(2), get(3)) {
                (Ok(adc_ov), Ok(adc_uv), Ok(comp_ov), Ok(comp_uv)) => {
                    Reading::Valid(ComparatorCheck {
                        adc_ov,
                        adc_uv,
                        comp_ov,
                        comp_uv,
                    })
                }
                (Err(r), ..) | (_, Err(r), ..) | (.., Err(r), _) | (.., Err(r)) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason: r,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    async fn clear_alerts(&mut self) -> Result<(), Error<IO::Error>> {
        for r in [Register::Status1, Register::Fmea1, Register::Fmea2] {
            self.write_all(r, 0x0000).await?;
        }
        Ok(())
    }

    async fn set_balancing_masks(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        check_len(masks.len(), N)?;
        let limit = 1u32 << V::CELLS;
        let mut want = [0u16; N];
        for (w, &m) in want.iter_mut().zip(masks) {
            if m >= limit {
                return Err(Error::Config(ConfigError::NoSuchCell {
                    cell: (32 - m.leading_zeros()) as u16,
                    available: V::CELLS as u16,
                }));
            }
            if m & (m >> 1) != 0 {
                return Err(Error::Config(ConfigError::Conflict(
                    "adjacent cells balancing at once",
                )));
            }
            *w = m as u16;
        }
        let any = want.iter().any(|&m| m != 0);
        if any && !self.balexp_written {
            for n in 1..=V::CELLS as u8 {
                let reg = Register::balexp(n).unwrap_or(0);
                self.write_msg(None, reg, self.balance_minutes).await?;
                let mut v: Slots<N> = [Ok(0); N];
                self.read_reg(reg, &mut v).await?;
                for (d, x) in v.iter().enumerate() {
                    match x {
                        Ok(r) if *r == self.balance_minutes => {}
                        Ok(r) => {
                            let (rb, wb) = (r.to_le_bytes(), self.balance_minutes.to_le_bytes());
                            let offset = usize::from(rb[0] == wb[0]);
                            return Err(Error::Verify(VerifyMismatch {
                                device: d as u8,
                                register: register::BALEXP_NAMES
                                    .get(usize::from(n - 1))
                                    .copied()
                                    .unwrap_or("BALEXP"),
                                offset: offset as u8,
                                expected: wb[offset],
                                actual: rb[offset],
                            }));
                        }
                        Err(reason) => {
                            return Err(Error::Integrity(DeviceFault {
                                device: d as u8,
                                reason: *reason,
                            }));
                        }
                    }
                }
            }
            self.balexp_written = true;
        }
        if want.iter().all(|&m| m == want[0]) {
            self.write_all(Register::BalSwCtrl, want[0]).await?;
        } else {
            for (d, &m) in want.iter().enumerate() {
                self.write_device(d as u8, Register::BalSwCtrl, m).await?;
            }
        }
        self.verify(Register::BalSwCtrl, &want).await?;
        // Start (and restart the timer of) manual balancing, or disable it.
        let ctrl = if any {
            register::BALCTRL_MANUAL
        } else {
            register::BALCTRL_DISABLE
        };
        self.write_all(Register::BalCtrl, ctrl).await
    }

    async fn read_csa(
        &mut self,
        out: &mut [Reading<u16>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if !V::HAS_CSA {
            return Err(Error::Config(ConfigError::Unsupported(
                "CSA (MAX17852 only)",
            )));
        }
        self.read_all(Register::Csa, out).await
    }

    async fn current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        if !V::HAS_CSA {
            return Ok(None);
        }
        let Some(cs) = self.current else {
            return Err(Error::Config(ConfigError::Conflict(
                "current sense not configured (set_current_sense)",
            )));
        };
        let fault = |reason| {
            Error::Integrity(DeviceFault {
                device: cs.device,
                reason,
            })
        };
        if let Some(reason) = self.suspect {
            return Err(fault(reason));
        }
        let mut came_back = true;
        // A CSA register that no scan has written is not a current.
        let (scan, _) = self
            .read_one(cs.device, Register::ScanCtrl.address(), &mut came_back)
            .await?
            .map_err(fault)?;
        if !ScanCtrl::from_bits_retain(scan).contains(ScanCtrl::SCANDONE) {
            return Err(Error::Device {
                device: cs.device,
                what: "CSA not converted: no scan completed",
            });
        }
        let (raw, _) = self
            .read_one(cs.device, Register::Csa.address(), &mut came_back)
            .await?
            .map_err(fault)?;
        Ok(Some(cs.current(raw)))
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

impl<V: Variant, const N: usize, IO: SpiIo> MonitorCore for Core<V, N, IO> {
    type BusError = IO::Error;

    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        V::CELLS
    }
    fn temperatures_per_device(&self) -> usize {
        self.thermistors
            .map_or(0, |t| t.inputs.count_ones() as usize)
    }
    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        self.start_up().await
    }
    async fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start_scan(oversampling_of(mode)).await
    }
    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N * V::CELLS)?;
        self.read_cells(out).await
    }
    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N * V::CELLS)?;
        self.measure(oversampling_of(mode)).await?;
        self.read_cells(out).await
    }
    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let per = MonitorCore::temperatures_per_device(self);
        check_len(out.len(), N * per)?;
        let Some(th) = self.thermistors else {
            return Ok(ChainReport::OK);
        };
        self.measure(Oversampling::X4).await?;
        let mut ratios = [[Reading::NotConverted; 6]; N];
        let mut flat = [Reading::NotConverted; 6 * message::MAX_CHAIN];
        let all = flat.get_mut(..N * V::AUX_INPUTS).unwrap_or(&mut []);
        let report = self.read_aux_ratios(all).await?;
        for (d, r) in ratios.iter_mut().enumerate() {
            for (i, x) in r.iter_mut().enumerate().take(V::AUX_INPUTS) {
                *x = flat
                    .get(d * V::AUX_INPUTS + i)
                    .copied()
                    .unwrap_or(Reading::NotConverted);
            }
        }
        for (dev_out, r) in out.chunks_exact_mut(per.max(1)).zip(&ratios) {
            let inputs = (0..V::AUX_INPUTS).filter(|i| th.inputs >> i & 1 != 0);
            for (o, i) in dev_out.iter_mut().zip(inputs) {
                *o = r
                    .get(i)
                    .copied()
                    .unwrap_or(Reading::NotConverted)
                    .map(th.convert);
            }
        }
        Ok(report)
    }
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        self.measure(Oversampling::X4).await?;
        self.read_block_voltages(out).await
    }
    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        self.current().await
    }
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        self.set_balancing_masks(masks).await
    }
    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        let mut a = [Reading::NotConverted; N];
        let r = self.read_alerts(&mut a).await?;
        for (o, x) in out.iter_mut().zip(a) {
            *o = x.map(|al| al.faults(V::CELLS));
        }
        Ok(r)
    }
}

impl_cell_monitor!(spi impl[V: Variant, const N: usize] Max1785x<V, N> => core);

twins! {
    spi impl[V: Variant, const N: usize] Max1785x<V, N> => core {
        /// The full start-up: bridge keep-alive (CONFIGURATION_3 = 0x05, 160 µs) and the
        /// receive error/overflow interrupt enables ([`RxInterrupt`]), both verified by
        /// read-back, interrupt flags cleared, chain wake-up (preambles on until RX_STATUS shows the receiver busy,
        /// bounded; preambles off; buffers cleared), HELLOALL with the device count checked
        /// against `N` ([`Error::Device`] naming the count otherwise: with fewer devices,
        /// the first that took no address), STATUS1/FMEA1/FMEA2 cleared, the READALL slot
        /// order checked on the chain itself (a READALL of ADDRESS against one READDEVICE
        /// of ADDRESS per device; [`Error::Device`] if they differ), every
        /// device's VERSION model checked against `V`, MEASUREEN1 (all cells + block) and the
        /// held thresholds written and verified (foxBMS `MXM_5XStateHandlerInit`;
        /// MAXREFDES1301 `Initialization.cpp`). [`CellMonitor::wake`](crate::CellMonitor::wake)
        /// runs this.
        pub fn start_up(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Reads a MAX17841B register (RX_STATUS, the interrupt flags, FMEA, MODEL, VERSION …).
        pub fn read_bridge(&mut self, reg: BridgeRegister) -> Result<u8, Error<SpiError<B>>>;
        /// Writes a MAX17841B register ([`Error::InvalidArgument`] for read-only ones).
        pub fn write_bridge(&mut self, reg: BridgeRegister, value: u8) -> Result<(), Error<SpiError<B>>>;
        /// Only the chain wake-up part of [`start_up`](Self::start_up).
        pub fn wake_chain(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// HELLOALL (seed 0): returns the number of devices that took an address.
        pub fn hello_all(&mut self) -> Result<u8, Error<SpiError<B>>>;
        /// WRITEALL `value` to `reg` of every device; the echo is checked (re-issued on
        /// failure). Registers the part lacks are [`ConfigError::Unsupported`].
        pub fn write_all(&mut self, reg: Register, value: u16) -> Result<(), Error<SpiError<B>>>;
        /// [`write_all`](Self::write_all), then every device's value read back and compared
        /// ([`Error::Verify`] names device, register and byte).
        pub fn write_all_verified(&mut self, reg: Register, value: u16) -> Result<(), Error<SpiError<B>>>;
        /// WRITEDEVICE `value` to `reg` of `device`.
        pub fn write_device(&mut self, device: u8, reg: Register, value: u16) -> Result<(), Error<SpiError<B>>>;
        /// Reads `reg` of every device (`out.len() == N`), per device checked.
        pub fn read_all(&mut self, reg: Register, out: &mut [Reading<u16>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Writes the held thresholds ([`Thresholds::writes`]: cell OV/UV, mismatch, block,
        /// ratiometric AUX; set and clear registers) to every device and verifies each by
        /// read-back.
        pub fn write_thresholds(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// WRITEALL SCANCTRL with SCAN, `os` and AUTOBALSWDIS; returns the wait hint.
        pub fn start_scan(&mut self, os: Oversampling) -> Result<Microseconds, Error<SpiError<B>>>;
        /// Polls SCANCTRL until every answering device shows SCANDONE, bounded
        /// ([`Error::Timeout`]).
        pub fn poll_scan(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Reads CELL1..CELLn of every device (`out.len() == N · V::CELLS`, device 0 first).
        /// A device whose SCANCTRL shows no SCANDONE reads `NotConverted`; a device failing
        /// any of the reads fails all its cells.
        pub fn read_cells(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads BLOCK of every device (`out.len() == N`).
        pub fn read_block_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads AUX0.. of every device as ratios of the reference in ppm
        /// (`out.len() == N · V::AUX_INPUTS`). Like the cells: a device without SCANDONE
        /// reads `NotConverted`, a device failing any read fails all its inputs.
        pub fn read_aux_ratios(&mut self, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads STATUS1, FMEA1, FMEA2, ALRTOVCELL and ALRTUVCELL of every device
        /// (`out.len() == N`).
        pub fn read_alerts(&mut self, out: &mut [Reading<Alerts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// The redundant-comparator cross-check of every device (`out.len() == N`): the ADC
        /// alerts (ALRTOVCELL/ALRTUVCELL) against the comparator's (ALRTCOMPOV/ALRTCOMPUV)
        /// after a scan; see [`ComparatorCheck`].
        pub fn comparator_cross_check(&mut self, out: &mut [Reading<ComparatorCheck>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// WRITEALL 0 to STATUS1, FMEA1 and FMEA2.
        pub fn clear_alerts(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Reads the CSA register of every device (MAX17852 only).
        pub fn read_csa(&mut self, out: &mut [Reading<u16>]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
