//! The chain driver: [`Adbms6830`] over [`Blocking`](crate::io::Blocking) or
//! [`Async`](crate::io::Async) SPI, with the command-counter bookkeeping.

use core::marker::PhantomData;

use super::command::{self as cmd, Adax, Adcv, Adsv, AuxChannel, Clear, Inc, OpenWire};
use super::convert;
use super::register::{CfgA, CfgB, Comm, Pwm, SerialId, StatusC, StatusD, StatusE};
use super::timing;
use super::variant::Variant;
use crate::error::{ConfigError, DeviceFault, Error, FaultReason, VerifyMismatch};
use crate::io::{SpiError, SpiIo, twins};
use crate::isospi::{self, DataPec};
use crate::monitor::{
    ChainReport, ConversionMode, Faults, MonitorCore, Reading, impl_cell_monitor,
};
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};
use embedded_hal::spi::Operation;

/// The FLAG_D latent-fault self-test sequence.
mod latent;

/// How the driver counts CLOVUV, whose INC column differs between data-sheet revisions
/// (Rev. SpA: increments; Rev. 0: blank).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DisputedCounting {
    /// Accept either: after the command, the next read of each device accepts the old
    /// expectation or one more, and follows the device (default; tolerant until confirmed on
    /// silicon).
    #[default]
    Either,
    /// Rev. 0 behaviour: no increment.
    NoIncrement,
    /// Rev. SpA behaviour: increment.
    Increment,
}

/// Which result registers hold cell voltages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CellSource {
    /// C-ADC results (RDCVx / RDCVALL).
    C,
    /// Averaged C-ADC results (RDACx / RDACALL).
    Averaged,
    /// IIR-filtered C-ADC results (RDFCx / RDFCALL).
    Filtered,
    /// S-ADC (redundant) results (RDSVx / RDSALL).
    S,
}

impl CellSource {
    const fn groups(self) -> [[u8; 4]; 6] {
        match self {
            Self::C => [
                cmd::RDCVA,
                cmd::RDCVB,
                cmd::RDCVC,
                cmd::RDCVD,
                cmd::RDCVE,
                cmd::RDCVF,
            ],
            Self::Averaged => [
                cmd::RDACA,
                cmd::RDACB,
                cmd::RDACC,
                cmd::RDACD,
                cmd::RDACE,
                cmd::RDACF,
            ],
            Self::Filtered => [
                cmd::RDFCA,
                cmd::RDFCB,
                cmd::RDFCC,
                cmd::RDFCD,
                cmd::RDFCE,
                cmd::RDFCF,
            ],
            Self::S => [
                cmd::RDSVA,
                cmd::RDSVB,
                cmd::RDSVC,
                cmd::RDSVD,
                cmd::RDSVE,
                cmd::RDSVF,
            ],
        }
    }

    const fn read_all(self) -> [u8; 4] {
        match self {
            Self::C => cmd::RDCVALL,
            Self::Averaged => cmd::RDACALL,
            Self::Filtered => cmd::RDFCALL,
            Self::S => cmd::RDSALL,
        }
    }
}

/// The ADC path an open-wire check uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AdcPath {
    /// C-ADC (ADCV with OW bits).
    C,
    /// S-ADC (ADSV with OW bits) — the data sheet's recommended path.
    S,
}

/// Decoded status groups A and B of one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Supplies {
    /// VREF2 (normal 2.988–3.012 V).
    pub vref2: Reading<MicroVolts>,
    /// Die temperature.
    pub itmp: Reading<MilliCelsius>,
    /// VD (normal 2.7–3.6 V).
    pub vd: Reading<MicroVolts>,
    /// VA (normal 4.5–5.5 V).
    pub va: Reading<MicroVolts>,
    /// VRES.
    pub vres: Reading<MicroVolts>,
}

impl Supplies {
    /// Bit 0: VREF2 outside 2.988–3.012 V; bit 1: VA outside 4.5–5.5 V; bit 2: VD outside
    /// 2.7–3.6 V (ADBMS6830B-DS electrical characteristics; adi.md §6.5). A value that is
    /// not converted counts as out of range.
    pub fn out_of_range(&self) -> u8 {
        let bad = |r: Reading<MicroVolts>, lo: i32, hi: i32| match r {
            Reading::Valid(MicroVolts(v)) => !(lo..=hi).contains(&v),
            _ => true,
        };
        u8::from(bad(self.vref2, 2_988_000, 3_012_000))
            | u8::from(bad(self.va, 4_500_000, 5_500_000)) << 1
            | u8::from(bad(self.vd, 2_700_000, 3_600_000)) << 2
    }
}

/// Auxiliary results of one device: GPIO1..10, VMV, VPV (VPV already ×25).
pub type AuxValues = [Reading<MicroVolts>; 12];

/// Bus error of the transport.
type E<IO> = Error<<IO as SpiIo>::Error>;

/// The protocol core: all logic, written once over [`SpiIo`].
#[derive(Debug)]
pub(crate) struct Core<V, const N: usize, IO> {
    pub(crate) io: IO,
    expected: [u8; N],
    /// Extra increments each device may have seen beyond `expected` (a disputed command, or a
    /// counted command whose frame failed on the bus): the next read accepts any of them.
    slack: [u8; N],
    /// Per device, what must happen before its data is trusted again after it was seen to
    /// reset (counter back at 0): [`NEED_RSTCC`], [`NEED_CFGA`], [`NEED_CFGB`].
    lost: [u8; N],
    /// The counter mismatch (expected, received) that revealed the reset (reported again
    /// at every read until the device is recovered).
    lost_at: [(u8, u8); N],
    /// Increments (certain or possible) each device may have seen since its counter was last
    /// checked or reset by RSTCC: a reset in between leaves the counter at most this high.
    since: [u8; N],
    disputed: DisputedCounting,
    retries: u8,
    cfga: [CfgA; N],
    cfgb: [CfgB; N],
    continuous: bool,
    source: CellSource,
    read_all: bool,
    ow_permille: u16,
    _v: PhantomData<V>,
}

/// An ADBMS6830-family daisy chain of `N` devices (device 0 nearest the host) behind one
/// chip select. See the [module documentation](crate::adbms6830) for a walk-through.
#[derive(Debug)]
pub struct Adbms6830<V, const N: usize, IO> {
    pub(crate) core: Core<V, N, IO>,
}

impl<V: Variant, const N: usize, IO> Adbms6830<V, N, IO> {
    /// A driver for a chain of `N` devices over `io` ([`Blocking`](crate::io::Blocking) or
    /// [`Async`](crate::io::Async)). Sends nothing. Expects every command counter at 0 (as
    /// after power-up); [`wake`](Self::wake) resets them with RSTCC anyway.
    ///
    /// `N` must be 1..=64 (checked at compile time).
    pub fn new(io: IO) -> Self {
        const { assert!(N >= 1 && N <= crate::monitor::MAX_DEVICES) };
        Self {
            core: Core {
                io,
                expected: [0; N],
                slack: [0; N],
                lost: [0; N],
                lost_at: [(0, 0); N],
                since: [0; N],
                disputed: DisputedCounting::Either,
                retries: 2,
                cfga: [CfgA::default(); N],
                cfgb: [CfgB::default(); N],
                continuous: false,
                source: CellSource::C,
                read_all: N == 1,
                ow_permille: OPEN_WIRE_DEFAULT_PERMILLE,
                _v: PhantomData,
            },
        }
    }

    /// Retries: how many more times a read is re-issued while any device fails its PEC
    /// (default 2).
    pub fn set_retries(&mut self, retries: u8) {
        self.core.retries = retries;
    }

    /// How CLOVUV moves the counter (default [`DisputedCounting::Either`]).
    pub fn set_disputed_counting(&mut self, mode: DisputedCounting) {
        self.core.disputed = mode;
    }

    /// Use the read-all commands (RDCVALL and kin, one 34-byte frame per device) for cell
    /// reads. Default: on for a single device, off for chains — ADBMS6830B-DS says read-all
    /// commands are intended "for single IC applications". 16-cell variants only. Also
    /// makes [`Adbms6830::redundancy_check`] read C and S with one RDCSALL frame.
    pub fn set_read_all(&mut self, on: bool) {
        self.core.read_all = on && V::CELLS == 16;
    }

    /// Open-wire threshold of [`Adbms6830::cell_open_wire`] in ‰ of the normal reading
    /// (1..=[`OPEN_WIRE_MAX_PERMILLE`], default [`OPEN_WIRE_DEFAULT_PERMILLE`] — see there
    /// for why). Returns the value set.
    pub fn set_open_wire_threshold(&mut self, permille: u16) -> Result<u16, ConfigError> {
        if permille == 0 || permille > OPEN_WIRE_MAX_PERMILLE {
            return Err(ConfigError::OutOfRange {
                field: "open-wire threshold (‰)",
                value: i64::from(permille),
                min: 1,
                max: i64::from(OPEN_WIRE_MAX_PERMILLE),
            });
        }
        self.core.ow_permille = permille;
        Ok(permille)
    }

    /// The command counter the driver expects from each device next.
    pub fn expected_counters(&self) -> [u8; N] {
        self.core.expected
    }

    /// The configuration the driver last wrote (or read back) per device.
    pub fn config(&self) -> (&[CfgA; N], &[CfgB; N]) {
        (&self.core.cfga, &self.core.cfgb)
    }

    /// Gives the transport back.
    pub fn release(self) -> IO {
        self.core.io
    }
}

/// A reset device waits for RSTCC.
const NEED_RSTCC: u8 = 1;
/// A reset device waits for a verified CFGA write.
const NEED_CFGA: u8 = 2;
/// A reset device waits for a verified CFGB write.
const NEED_CFGB: u8 = 4;

fn fault(device: usize, reason: FaultReason) -> DeviceFault {
    DeviceFault {
        device: device as u8,
        reason,
    }
}

/// Compares a read-back frame with the written data under `mask`.
/// The first byte (under `mask`) where a read-back differs from the written data.
fn mismatch(
    device: usize,
    register: &'static str,
    got: &[u8],
    want: &[u8; 6],
    mask: &[u8; 6],
) -> Option<VerifyMismatch> {
    got.iter()
        .zip(want.iter())
        .zip(mask.iter())
        .enumerate()
        .find(|(_, ((g, w), m))| *g & *m != *w & *m)
        .map(|(i, ((g, w), m))| VerifyMismatch {
            device: device as u8,
            register,
            offset: i as u8,
            expected: w & m,
            actual: g & m,
        })
}

/// Why one device's configuration write is not confirmed by its read-back.
#[derive(Debug, Clone, Copy)]
enum Unconfirmed {
    /// The read-back frame failed (PEC, counter, silence).
    Frame(DeviceFault),
    /// A good frame showing other contents.
    Differs(VerifyMismatch),
}

impl<B> From<Unconfirmed> for Error<B> {
    fn from(u: Unconfirmed) -> Self {
        match u {
            Unconfirmed::Frame(f) => Error::Integrity(f),
            Unconfirmed::Differs(m) => Error::Verify(m),
        }
    }
}

fn six(f: &[u8]) -> [u8; 6] {
    let mut o = [0u8; 6];
    if let Some(s) = f.get(..6) {
        o.copy_from_slice(s);
    }
    o
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    // ---- counter bookkeeping -------------------------------------------------------------

    /// Books a command the driver sent (`ok`) or tried to send (`!ok`: the frame failed on the
    /// bus, so whether the chain saw it is unknown).
    fn account(&mut self, frame: &[u8; 4], ok: bool) {
        match cmd::increments(cmd::code_of(frame)) {
            Inc::No => {}
            Inc::Yes if ok => self.bump(),
            Inc::Yes => self.widen(),
            Inc::Reset if ok => {
                self.expected = [0; N];
                self.slack = [0; N];
                self.since = [0; N];
                for l in self.lost.iter_mut() {
                    *l &= !NEED_RSTCC;
                }
            }
            // A reset that may not have arrived: keep the old expectation; a device that did
            // reset then reads 0 and is treated as reset (safe side).
            Inc::Reset => {}
            Inc::Disputed => match self.disputed {
                DisputedCounting::NoIncrement => {}
                DisputedCounting::Increment if ok => self.bump(),
                DisputedCounting::Increment | DisputedCounting::Either => self.widen(),
            },
        }
    }

    fn bump(&mut self) {
        for e in self.expected.iter_mut() {
            *e = cmd::next_counter(*e);
        }
        self.count_since();
    }

    /// One more increment may or may not have happened on every device.
    fn widen(&mut self) {
        for s in self.slack.iter_mut() {
            *s = s.saturating_add(1).min(63);
        }
        self.count_since();
    }

    fn count_since(&mut self) {
        for s in self.since.iter_mut() {
            *s = s.saturating_add(1).min(63);
        }
    }

    /// `true` if device `d`'s held configuration is the power-up default (what a device that
    /// slept or reset has anyway).
    fn config_is_default(&self, d: usize) -> bool {
        let da = CfgA::default().to_bytes();
        let db = CfgB::default().to_bytes();
        let a_ok = self.cfga.get(d).is_none_or(|a| {
            a.to_bytes()
                .iter()
                .zip(da.iter())
                .zip(CfgA::WRITABLE.iter())
                .all(|((x, y), m)| x & m == y & m)
        });
        let b_ok = self.cfgb.get(d).is_none_or(|b| b.to_bytes() == db);
        a_ok && b_ok
    }

    #[inline]
    fn check_counter(&mut self, device: usize, received: u8) -> Result<(), FaultReason> {
        let (Some(e), Some(s), Some(n)) = (
            self.expected.get_mut(device),
            self.slack.get_mut(device),
            self.since.get_mut(device),
        ) else {
            return Err(FaultReason::Framing);
        };
        let (expected, slack, since) = (*e, *s, *n);
        // Whatever the verdict, the expectation follows the device, so one missed command
        // is reported once (at the first read that sees it), not forever.
        *e = received;
        *s = 0;
        *n = 0;
        if received == expected {
            return Ok(());
        }
        self.counter_mismatch(device, expected, slack, since, received)
    }

    /// The rare path of [`Self::check_counter`].
    #[cold]
    #[inline(never)]
    fn counter_mismatch(
        &mut self,
        device: usize,
        expected: u8,
        slack: u8,
        since: u8,
        received: u8,
    ) -> Result<(), FaultReason> {
        if (1..=u32::from(slack)).any(|k| received == cmd::advance_counter(expected, k)) {
            return Ok(());
        }
        if received <= since {
            // The counter only returns to 0 on power-up, sleep, RSTCC or SRST (it wraps
            // 63 → 1); after a reset it counts the commands since. A mismatching value no
            // higher than the commands sent since the last check is therefore treated as a
            // reset (a device that missed commands right after RSTCC looks the same: the safe
            // reading). The device lost its configuration: its data stays failed until RSTCC
            // and, if the held configuration is not the default, a verified rewrite of CFGA
            // and CFGB.
            let need = NEED_RSTCC
                | if self.config_is_default(device) {
                    0
                } else {
                    NEED_CFGA | NEED_CFGB
                };
            if let (Some(l), Some(at)) = (self.lost.get_mut(device), self.lost_at.get_mut(device)) {
                *l = need;
                *at = (expected, received);
            }
        }
        Err(FaultReason::CommandCounter { expected, received })
    }

    // ---- bus primitives ------------------------------------------------------------------

    pub(crate) async fn send(&mut self, frame: &[u8; 4]) -> Result<(), E<IO>> {
        let r = isospi::send_command(&mut self.io, frame).await;
        // On a bus error the command may or may not have reached the chain: the next read
        // accepts either counter.
        self.account(frame, r.is_ok());
        r.map_err(Error::Bus)
    }

    /// One verified chain read: per device `Ok(frame data)` or the fault (PEC, counter, or a
    /// device seen to reset whose recovery is not complete).
    async fn read<const L: usize>(
        &mut self,
        frame: &[u8; 4],
        frames: &mut [[u8; L]; N],
    ) -> Result<[Result<(), DeviceFault>; N], E<IO>> {
        let mut out = self.read_checked(frame, frames).await?;
        if self.lost.iter().all(|&l| l == 0) {
            return Ok(out);
        }
        for (d, o) in out.iter_mut().enumerate() {
            if let (Ok(()), Some(&l), Some(&(expected, received))) =
                (&*o, self.lost.get(d), self.lost_at.get(d))
            {
                if l != 0 {
                    *o = Err(fault(d, FaultReason::CommandCounter { expected, received }));
                }
            }
        }
        Ok(out)
    }

    /// [`Self::read`] without the reset overlay: PEC and counter only (the configuration
    /// read-back that ends a recovery uses it).
    async fn read_checked<const L: usize>(
        &mut self,
        frame: &[u8; 4],
        frames: &mut [[u8; L]; N],
    ) -> Result<[Result<(), DeviceFault>; N], E<IO>> {
        let v = isospi::read_verified(&mut self.io, frame, frames, DataPec::Pec10, self.retries)
            .await
            .map_err(Error::Bus)?;
        self.account(frame, true);
        let mut out = [Ok(()); N];
        for (d, (o, r)) in out.iter_mut().zip(v.iter()).enumerate() {
            *o = match r {
                Ok(cc) => self.check_counter(d, *cc).map_err(|r| fault(d, r)),
                Err(reason) => Err(fault(d, *reason)),
            };
        }
        Ok(out)
    }

    async fn read6(
        &mut self,
        frame: &[u8; 4],
    ) -> Result<([[u8; 8]; N], [Result<(), DeviceFault>; N]), E<IO>> {
        let mut frames = [[0u8; 8]; N];
        let v = self.read(frame, &mut frames).await?;
        Ok((frames, v))
    }

    async fn write6(&mut self, frame: &[u8; 4], data: &[[u8; 6]; N]) -> Result<(), E<IO>> {
        let mut host = [[0u8; 8]; N];
        for (h, d) in host.iter_mut().zip(data.iter()) {
            h[..6].copy_from_slice(d);
        }
        let mut wire = [[0u8; 8]; N];
        isospi::build_write(&host, DataPec::Pec10, &mut wire);
        let r = isospi::write_chain(&mut self.io, frame, &wire).await;
        self.account(frame, r.is_ok());
        r.map_err(Error::Bus)
    }

    /// Writes a group and verifies it by read-back. Devices whose read-back matches have
    /// `clears` removed from their reset-recovery bits; the first failing device's error is
    /// returned after every device was checked.
    async fn write_verified(
        &mut self,
        wr: &[u8; 4],
        rd: &[u8; 4],
        name: &'static str,
        data: &[[u8; 6]; N],
        mask: &[u8; 6],
        clears: u8,
    ) -> Result<(), E<IO>> {
        let mut report = ChainReport::OK;
        let v = self
            .write_per_device(wr, rd, name, data, mask, clears, &mut report)
            .await?;
        match v.iter().find_map(|r| r.err()) {
            Some(u) => Err(u.into()),
            None => Ok(()),
        }
    }

    /// Writes a configuration group and reads it back, with a verdict per device (
    /// [`Self::write_verified`] returns the first failing device's). Devices whose read-back
    /// matches have `clears` removed from their reset-recovery bits; frames that fail are
    /// recorded in `report`.
    #[allow(clippy::too_many_arguments)]
    async fn write_per_device(
        &mut self,
        wr: &[u8; 4],
        rd: &[u8; 4],
        name: &'static str,
        data: &[[u8; 6]; N],
        mask: &[u8; 6],
        clears: u8,
        report: &mut ChainReport,
    ) -> Result<[Result<(), Unconfirmed>; N], E<IO>> {
        self.write6(wr, data).await?;
        let mut frames = [[0u8; 8]; N];
        let v = self.read_checked(rd, &mut frames).await?;
        let mut out = [Ok(()); N];
        for (d, (((o, f), r), want)) in out
            .iter_mut()
            .zip(frames.iter())
            .zip(v.iter())
            .zip(data.iter())
            .enumerate()
        {
            *o = match r {
                Err(fault) => {
                    report.record(*fault);
                    Err(Unconfirmed::Frame(*fault))
                }
                Ok(()) => match mismatch(d, name, f, want, mask) {
                    Some(m) => Err(Unconfirmed::Differs(m)),
                    None => {
                        if let Some(l) = self.lost.get_mut(d) {
                            *l &= !clears;
                        }
                        Ok(())
                    }
                },
            };
        }
        Ok(out)
    }

    // ---- public operations (wrapped by `twins!`) ----------------------------------------

    pub(crate) async fn wake(&mut self) -> Result<(), E<IO>> {
        isospi::wake_chain(&mut self.io, N, &cmd::RDCFGA, timing::WAKE_GAP_US)
            .await
            .map_err(Error::Bus)?;
        // A chain that slept lost its continuous conversion: restart it when asked.
        self.continuous = false;
        self.reset_command_counters().await?;
        // A device that slept lost its configuration, and after RSTCC nothing shows which
        // did: rewrite the held configuration unless it is the power-up default. Until the
        // verified rewrite succeeds on a device, its data stays failed.
        if (0..N).all(|d| self.config_is_default(d)) {
            return Ok(());
        }
        for l in self.lost.iter_mut() {
            *l |= NEED_CFGA | NEED_CFGB;
        }
        let (a, b) = (self.cfga, self.cfgb);
        self.write_cfga(&a).await?;
        self.write_cfgb(&b).await
    }

    pub(crate) async fn wake_idle(&mut self) -> Result<(), E<IO>> {
        isospi::wake_idle(&mut self.io, N, &cmd::RDCFGA, timing::T_READY_US)
            .await
            .map_err(Error::Bus)
    }

    /// Waits `t`; after a wait that can exceed tIDLE (4.3 ms minimum) the ports are woken
    /// again so the next command is not lost at an idle port.
    async fn settle(&mut self, t: Microseconds) -> Result<(), E<IO>> {
        isospi::settle(
            &mut self.io,
            t.0,
            timing::T_IDLE_MIN_US,
            N,
            &cmd::RDCFGA,
            timing::T_READY_US,
        )
        .await
        .map_err(Error::Bus)
    }

    pub(crate) async fn reset_command_counters(&mut self) -> Result<(), E<IO>> {
        self.send(&cmd::RSTCC).await
    }

    pub(crate) async fn soft_reset(&mut self) -> Result<(), E<IO>> {
        self.send(&cmd::SRST).await?;
        self.cfga = [CfgA::default(); N];
        self.cfgb = [CfgB::default(); N];
        // Chip and driver now agree on the default configuration and counter 0.
        self.lost = [0; N];
        self.continuous = false;
        // The chip restarts (as from sleep): wake it again.
        isospi::wake_chain(&mut self.io, N, &cmd::RDCFGA, timing::WAKE_GAP_US)
            .await
            .map_err(Error::Bus)
    }

    pub(crate) async fn start_cell_adc(&mut self, adcv: Adcv) -> Result<Microseconds, E<IO>> {
        let f = adcv.frame()?;
        self.send(&f).await?;
        self.continuous = adcv.continuous;
        let nominal = if adcv.redundant {
            timing::T_SADC_US
        } else {
            timing::T_CADC_US
        };
        Ok(Microseconds(timing::with_margin(nominal)))
    }

    pub(crate) async fn start_s_adc(&mut self, adsv: Adsv) -> Result<Microseconds, E<IO>> {
        let f = adsv.frame()?;
        self.send(&f).await?;
        Ok(Microseconds(timing::with_margin(timing::T_SADC_US)))
    }

    pub(crate) async fn start_aux(&mut self, adax: Adax) -> Result<Microseconds, E<IO>> {
        let f = adax.frame()?;
        self.send(&f).await?;
        let ch = match adax.channel {
            AuxChannel::All => timing::AUX_ALL_CHANNELS,
            _ => 1,
        };
        Ok(Microseconds(timing::with_margin(
            timing::T_AUX_PER_CHANNEL_US * ch,
        )))
    }

    pub(crate) async fn start_aux2(&mut self, gpio: Option<u8>) -> Result<Microseconds, E<IO>> {
        let f = cmd::adax2(gpio)?;
        self.send(&f).await?;
        let ch = if gpio.is_some() { 1 } else { 10 };
        Ok(Microseconds(timing::with_margin(
            timing::T_AUX2_PER_CHANNEL_US * ch,
        )))
    }

    pub(crate) async fn poll(
        &mut self,
        target: cmd::PollTarget,
        timeout: Microseconds,
    ) -> Result<(), E<IO>> {
        let f = target.frame();
        let max = timeout.0 / timing::POLL_INTERVAL_US + 1;
        let mut sent = 0;
        let r = isospi::poll_done_counted(
            &mut self.io,
            &f,
            isospi::status_bytes(2 * N),
            max,
            timing::POLL_INTERVAL_US,
            &mut sent,
        )
        .await;
        // Every poll command that went out increments the counters; one that failed on the
        // bus may or may not have.
        for e in self.expected.iter_mut() {
            *e = cmd::advance_counter(*e, sent);
        }
        if r.is_err() {
            self.widen();
        }
        match r.map_err(Error::Bus)? {
            Some(_) => Ok(()),
            None => Err(Error::Timeout("ADBMS6830 ADC poll")),
        }
    }

    pub(crate) async fn read_cells(
        &mut self,
        source: CellSource,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        if out.len() != N * V::CELLS {
            return Err(Error::InvalidArgument(
                "cell output length must be devices × cells per device",
            ));
        }
        self.read_cells_strided(source, out, V::CELLS).await
    }

    /// Reads cells into `out`, device `d`'s cells starting at `d × stride`.
    async fn read_cells_strided(
        &mut self,
        source: CellSource,
        out: &mut [Reading<MicroVolts>],
        stride: usize,
    ) -> Result<ChainReport, E<IO>> {
        let cells = V::CELLS;
        let mut report = ChainReport::OK;
        if self.read_all && cells == 16 {
            let mut frames = [[0u8; 34]; N];
            let v = self.read(&source.read_all(), &mut frames).await?;
            for ((f, r), o) in frames.iter().zip(v.iter()).zip(out.chunks_mut(stride)) {
                if let Some(slots) = o.get_mut(..cells) {
                    fill(slots, f, r, &mut report);
                }
            }
            return Ok(report);
        }
        for (g, c) in source.groups().iter().enumerate() {
            let first = 3 * g;
            if first >= cells {
                break;
            }
            let end = (first + 3).min(cells);
            let mut frames = [[0u8; 8]; N];
            let v = self.read(c, &mut frames).await?;
            for ((f, r), o) in frames.iter().zip(v.iter()).zip(out.chunks_mut(stride)) {
                if let Some(slots) = o.get_mut(first..end) {
                    fill(slots, f, r, &mut report);
                }
            }
        }
        Ok(report)
    }

    pub(crate) async fn read_cells_snapshot(
        &mut self,
        source: CellSource,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        if out.len() != N * V::CELLS {
            return Err(Error::InvalidArgument(
                "cell output length must be devices × cells per device",
            ));
        }
        self.send(&cmd::SNAP).await?;
        let r = self.read_cells(source, out).await;
        let u = self.send(&cmd::UNSNAP).await;
        let r = r?;
        u?;
        Ok(r)
    }

    pub(crate) async fn read_aux(
        &mut self,
        redundant: bool,
        out: &mut [AuxValues; N],
    ) -> Result<ChainReport, E<IO>> {
        let groups = if redundant {
            [cmd::RDRAXA, cmd::RDRAXB, cmd::RDRAXC, cmd::RDRAXD]
        } else {
            [cmd::RDAUXA, cmd::RDAUXB, cmd::RDAUXC, cmd::RDAUXD]
        };
        let mut report = ChainReport::OK;
        for (g, c) in groups.iter().enumerate() {
            let (frames, v) = self.read6(c).await?;
            for ((f, r), o) in frames.iter().zip(v.iter()).zip(out.iter_mut()) {
                if let Some(slots) = o.get_mut(3 * g..3 * g + 3) {
                    fill(slots, f, r, &mut report);
                }
                if g == 3 && r.is_ok() {
                    if redundant {
                        // The redundant path converts GPIOs only (ADAX2 CH[3:0], adi.md §6.3):
                        // RAXD carries R_GPIO10 alone, so its other words are no results.
                        if let Some(s) = o.get_mut(10..12) {
                            s.fill(Reading::NotConverted);
                        }
                    } else if let Some(s) = o.get_mut(11) {
                        // AUXD word 2 is VPV: ×25.
                        *s = convert::vpv(convert::word(f, 2));
                    }
                }
            }
        }
        Ok(report)
    }

    pub(crate) async fn read_supplies(
        &mut self,
        out: &mut [Reading<Supplies>; N],
    ) -> Result<ChainReport, E<IO>> {
        let (fa, va) = self.read6(&cmd::RDSTATA).await?;
        let (fb, vb) = self.read6(&cmd::RDSTATB).await?;
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let (Some(a), Some(b), Some(ra), Some(rb)) =
                (fa.get(d), fb.get(d), va.get(d), vb.get(d))
            else {
                continue;
            };
            *o = match (ra, rb) {
                (Err(f), _) | (Ok(()), Err(f)) => {
                    report.record(*f);
                    Reading::Failed(*f)
                }
                (Ok(()), Ok(())) => Reading::Valid(Supplies {
                    vref2: convert::cell(convert::word(a, 0)),
                    itmp: convert::itmp(convert::word(a, 1)),
                    vd: convert::cell(convert::word(b, 0)),
                    va: convert::cell(convert::word(b, 1)),
                    vres: convert::cell(convert::word(b, 2)),
                }),
            };
        }
        Ok(report)
    }

    async fn read_decoded<T: Copy>(
        &mut self,
        frame: &[u8; 4],
        decode: fn(&[u8; 6]) -> T,
        out: &mut [Reading<T>; N],
    ) -> Result<ChainReport, E<IO>> {
        let (frames, v) = self.read6(frame).await?;
        let mut report = ChainReport::OK;
        for ((f, r), o) in frames.iter().zip(v.iter()).zip(out.iter_mut()) {
            *o = match r {
                Ok(()) => Reading::Valid(decode(&six(f))),
                Err(e) => {
                    report.record(*e);
                    Reading::Failed(*e)
                }
            };
        }
        Ok(report)
    }

    pub(crate) async fn read_status_c(
        &mut self,
        out: &mut [Reading<StatusC>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDSTATC, StatusC::from_bytes, out)
            .await
    }

    pub(crate) async fn read_status_c_injected(
        &mut self,
        out: &mut [Reading<StatusC>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDSTATC_ERR, StatusC::from_bytes, out)
            .await
    }

    pub(crate) async fn read_status_d(
        &mut self,
        out: &mut [Reading<StatusD>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDSTATD, StatusD::from_bytes, out)
            .await
    }

    pub(crate) async fn read_status_e(
        &mut self,
        out: &mut [Reading<StatusE>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDSTATE, StatusE::from_bytes, out)
            .await
    }

    pub(crate) async fn read_serial_ids(
        &mut self,
        out: &mut [Reading<SerialId>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDSID, |b| SerialId(*b), out).await
    }

    pub(crate) async fn detect_chain_length(&mut self) -> Result<usize, E<IO>> {
        let (_, v) = self.read6(&cmd::RDSID).await?;
        // A device answers if its PEC is good; a counter mismatch still proves presence.
        Ok(v.iter()
            .take_while(|r| match r {
                Ok(()) => true,
                Err(f) => matches!(f.reason, FaultReason::CommandCounter { .. }),
            })
            .count())
    }

    pub(crate) async fn read_config(
        &mut self,
        a: &mut [Reading<CfgA>; N],
        b: &mut [Reading<CfgB>; N],
    ) -> Result<ChainReport, E<IO>> {
        let mut r = self.read_decoded(&cmd::RDCFGA, CfgA::from_bytes, a).await?;
        r.merge(self.read_decoded(&cmd::RDCFGB, CfgB::from_bytes, b).await?);
        for (d, x) in a.iter().enumerate() {
            if let (Reading::Valid(v), Some(c)) = (x, self.cfga.get_mut(d)) {
                *c = *v;
            }
        }
        for (d, x) in b.iter().enumerate() {
            if let (Reading::Valid(v), Some(c)) = (x, self.cfgb.get_mut(d)) {
                *c = *v;
            }
        }
        Ok(r)
    }

    pub(crate) async fn write_cfga(&mut self, cfg: &[CfgA; N]) -> Result<(), E<IO>> {
        for c in cfg.iter() {
            c.validate()?;
        }
        let data = cfg.map(|c| c.to_bytes());
        self.cfga = *cfg;
        self.write_verified(
            &cmd::WRCFGA,
            &cmd::RDCFGA,
            "CFGA",
            &data,
            &CfgA::WRITABLE,
            NEED_CFGA,
        )
        .await
    }

    pub(crate) async fn write_cfgb(&mut self, cfg: &[CfgB; N]) -> Result<(), E<IO>> {
        for c in cfg.iter() {
            c.validate()?;
            check_dcc::<V>(c.dcc as u32)?;
        }
        let data = cfg.map(|c| c.to_bytes());
        self.cfgb = *cfg;
        self.write_verified(
            &cmd::WRCFGB,
            &cmd::RDCFGB,
            "CFGB",
            &data,
            &[0xFF; 6],
            NEED_CFGB,
        )
        .await
    }

    pub(crate) async fn configure(&mut self, a: CfgA, b: CfgB) -> Result<(), E<IO>> {
        // Both groups are checked before either is sent.
        a.validate()?;
        b.validate()?;
        check_dcc::<V>(b.dcc as u32)?;
        self.write_cfga(&[a; N]).await?;
        self.write_cfgb(&[b; N]).await
    }

    pub(crate) async fn write_pwm(&mut self, pwm: &[Pwm; N]) -> Result<(), E<IO>> {
        for p in pwm.iter() {
            p.validate()?;
            if p.duty.iter().skip(V::CELLS).any(|&d| d != 0) {
                return Err(ConfigError::NoSuchCell {
                    cell: V::CELLS as u16 + 1,
                    available: V::CELLS as u16,
                }
                .into());
            }
        }
        let a = pwm.map(|p| p.to_bytes().0);
        let b = pwm.map(|p| p.to_bytes().1);
        self.write_verified(&cmd::WRPWMA, &cmd::RDPWMA, "PWMA", &a, &[0xFF; 6], 0)
            .await?;
        // PWMB holds cells 13–16 (two bytes) or 13–18 (three bytes, ADBMS6832, unverified);
        // the rest is reserved and not compared.
        let mut mask = [0u8; 6];
        for m in mask
            .iter_mut()
            .take((V::CELLS.saturating_sub(12)).div_ceil(2))
        {
            *m = 0xFF;
        }
        self.write_verified(&cmd::WRPWMB, &cmd::RDPWMB, "PWMB", &b, &mask, 0)
            .await
    }

    pub(crate) async fn mute(&mut self, on: bool) -> Result<(), E<IO>> {
        self.send(if on { &cmd::MUTE } else { &cmd::UNMUTE }).await
    }

    pub(crate) async fn snapshot(&mut self, on: bool) -> Result<(), E<IO>> {
        self.send(if on { &cmd::SNAP } else { &cmd::UNSNAP }).await
    }

    pub(crate) async fn clear(&mut self, what: Clear) -> Result<(), E<IO>> {
        self.send(&what.frame()).await
    }

    pub(crate) async fn clear_flags(&mut self, flags: [u8; 6]) -> Result<(), E<IO>> {
        self.write6(&cmd::CLRFLAG, &[flags; N]).await
    }

    pub(crate) async fn clear_ovuv(&mut self) -> Result<(), E<IO>> {
        self.write6(&cmd::CLOVUV, &[[0xFF; 6]; N]).await
    }

    /// Reads word `index` of a 6-byte group from every device into `out` (length `N`).
    async fn read_word<T>(
        &mut self,
        frame: &[u8; 4],
        index: usize,
        conv: fn(u16) -> Reading<T>,
        out: &mut [Reading<T>],
    ) -> Result<ChainReport, E<IO>> {
        let (frames, v) = self.read6(frame).await?;
        let mut report = ChainReport::OK;
        for ((f, r), o) in frames.iter().zip(v.iter()).zip(out.iter_mut()) {
            *o = match r {
                Ok(()) => conv(convert::word(f, index)),
                Err(e) => {
                    report.record(*e);
                    Reading::Failed(*e)
                }
            };
        }
        Ok(report)
    }

    pub(crate) async fn write_comm(&mut self, comm: &[Comm; N]) -> Result<(), E<IO>> {
        let data = comm.map(|c| c.to_bytes());
        self.write6(&cmd::WRCOMM, &data).await
    }

    pub(crate) async fn read_comm(
        &mut self,
        out: &mut [Reading<Comm>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDCOMM, Comm::from_bytes, out).await
    }

    pub(crate) async fn start_comm(&mut self) -> Result<(), E<IO>> {
        // STCOMM is followed by 72 clocks (24 per byte) in the same CS frame.
        let clocks = [0xFFu8; 9];
        let r = self
            .io
            .transaction(&mut [Operation::Write(&cmd::STCOMM), Operation::Write(&clocks)])
            .await;
        self.account(&cmd::STCOMM, r.is_ok());
        r.map_err(Error::Bus)
    }

    // ---- diagnostics ----------------------------------------------------------------------

    pub(crate) async fn redundancy_check(
        &mut self,
        out: &mut [Reading<u32>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.wake_idle().await?;
        let hint = self
            .start_cell_adc(Adcv {
                redundant: true,
                ..Adcv::SINGLE
            })
            .await?;
        self.settle(hint).await?;
        let mut c = [[Reading::NotConverted; super::variant::MAX_CELLS]; N];
        let mut s = [[Reading::NotConverted; super::variant::MAX_CELLS]; N];
        let mut report = if self.read_all && V::CELLS == super::readall::CS_CELLS {
            // RDCSALL: C and S in one frame per device (half the frames of RDCVALL + RDSALL).
            self.read_cs_strided(
                false,
                c.as_flattened_mut(),
                s.as_flattened_mut(),
                super::variant::MAX_CELLS,
            )
            .await?
        } else {
            let mut r = self.read_cells_into(CellSource::C, &mut c).await?;
            r.merge(self.read_cells_into(CellSource::S, &mut s).await?);
            r
        };
        let mut st = [Reading::NotConverted; N];
        report.merge(self.read_status_c(&mut st).await?);
        for (d, o) in out.iter_mut().enumerate() {
            let th = self.cfga.get(d).map(|a| a.cth.microvolts()).unwrap_or(0);
            *o = match (c.get(d), s.get(d), st.get(d)) {
                (Some(cd), Some(sd), Some(Reading::Valid(stc))) => {
                    compare_cs(&cd[..V::CELLS], &sd[..V::CELLS], th)
                        .map(|m| m | u32::from(stc.cs_fault))
                }
                (_, _, Some(Reading::Failed(f))) => Reading::Failed(*f),
                _ => Reading::NotConverted,
            };
        }
        Ok(report)
    }

    async fn read_cells_into(
        &mut self,
        source: CellSource,
        out: &mut [[Reading<MicroVolts>; super::variant::MAX_CELLS]; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_cells_strided(source, out.as_flattened_mut(), super::variant::MAX_CELLS)
            .await
    }

    pub(crate) async fn cell_open_wire(
        &mut self,
        path: AdcPath,
        out: &mut [Reading<u32>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.wake_idle().await?;
        let mut base = [[Reading::NotConverted; super::variant::MAX_CELLS]; N];
        let mut odd = base;
        let mut even = base;
        let mut report = ChainReport::OK;
        for (ow, buf) in [
            (OpenWire::Off, &mut base),
            (OpenWire::Odd, &mut odd),
            (OpenWire::Even, &mut even),
        ] {
            let (hint, source) = match path {
                AdcPath::C => (
                    self.start_cell_adc(Adcv {
                        open_wire: ow,
                        ..Adcv::SINGLE
                    })
                    .await?,
                    CellSource::C,
                ),
                AdcPath::S => (
                    self.start_s_adc(Adsv {
                        open_wire: ow,
                        ..Adsv::default()
                    })
                    .await?,
                    CellSource::S,
                ),
            };
            self.settle(hint).await?;
            report.merge(self.read_cells_into(source, buf).await?);
        }
        for (d, o) in out.iter_mut().enumerate() {
            let (Some(b), Some(od), Some(ev)) = (base.get(d), odd.get(d), even.get(d)) else {
                continue;
            };
            *o = open_wire_mask(
                &b[..V::CELLS],
                &od[..V::CELLS],
                &ev[..V::CELLS],
                self.ow_permille,
            );
        }
        Ok(report)
    }

    pub(crate) async fn aux_open_wire(
        &mut self,
        threshold: MicroVolts,
        out: &mut [Reading<u16>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.wake_idle().await?;
        let mut up = [[Reading::NotConverted; 12]; N];
        let mut down = up;
        let mut report = ChainReport::OK;
        for (pull, buf) in [(cmd::Pull::Up, &mut up), (cmd::Pull::Down, &mut down)] {
            let hint = self
                .start_aux(Adax {
                    channel: AuxChannel::All,
                    open_wire: Some(pull),
                })
                .await?;
            self.settle(hint).await?;
            report.merge(self.read_aux(false, buf).await?);
        }
        for ((o, u), dn) in out.iter_mut().zip(up.iter()).zip(down.iter()) {
            let mut mask = 0u16;
            let mut verdict = None;
            for (k, (a, b)) in u.iter().zip(dn.iter()).take(10).enumerate() {
                match (a, b) {
                    (Reading::Valid(x), Reading::Valid(y))
                        if x.0.saturating_sub(y.0) > threshold.0 =>
                    {
                        mask |= 1 << k;
                    }
                    (Reading::Failed(f), _) | (_, Reading::Failed(f)) => verdict = Some(*f),
                    _ => {}
                }
            }
            *o = match verdict {
                Some(f) => Reading::Failed(f),
                None => Reading::Valid(mask),
            };
        }
        Ok(report)
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
        1
    }

    async fn wake(&mut self) -> Result<(), E<IO>> {
        Core::wake(self).await
    }

    async fn start_cell_conversion(&mut self, mode: ConversionMode) -> Result<Microseconds, E<IO>> {
        self.wake_idle().await?;
        self.start_cells(mode).await
    }

    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        check_cells_len::<V, N, IO::Error>(out.len())?;
        self.wake_idle().await?;
        let source = self.source;
        self.read_cells(source, out).await
    }

    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        check_cells_len::<V, N, IO::Error>(out.len())?;
        self.wake_idle().await?;
        let hint = self.start_cells(mode).await?;
        self.settle(hint).await?;
        let source = self.source;
        self.read_cells(source, out).await
    }

    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, E<IO>> {
        if out.len() != N {
            return Err(Error::InvalidArgument(
                "temperature output length must be N",
            ));
        }
        self.wake_idle().await?;
        let hint = self
            .start_aux(Adax {
                channel: AuxChannel::Itmp,
                open_wire: None,
            })
            .await?;
        self.settle(hint).await?;
        self.read_word(&cmd::RDSTATA, 1, convert::itmp, out).await
    }

    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("stack output length must be N"));
        }
        self.wake_idle().await?;
        let hint = self
            .start_aux(Adax {
                channel: AuxChannel::Vpv,
                open_wire: None,
            })
            .await?;
        self.settle(hint).await?;
        self.read_word(&cmd::RDAUXD, 2, convert::vpv, out).await
    }

    async fn read_current(&mut self) -> Result<Option<MicroAmps>, E<IO>> {
        Ok(None)
    }

    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), E<IO>> {
        if masks.len() != N {
            return Err(Error::InvalidArgument("balancing masks length must be N"));
        }
        let mut cfg = self.cfgb;
        for (c, m) in cfg.iter_mut().zip(masks.iter()) {
            check_dcc::<V>(*m)?;
            c.dcc = *m as u16;
        }
        self.wake_idle().await?;
        self.write_cfgb(&cfg).await
    }

    async fn read_faults(&mut self, out: &mut [Reading<Faults>]) -> Result<ChainReport, E<IO>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("fault output length must be N"));
        }
        self.wake_idle().await?;
        self.read_faults_now(out).await
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    /// The conversion start of [`MonitorCore::start_cell_conversion`], without the wake.
    async fn start_cells(&mut self, mode: ConversionMode) -> Result<Microseconds, E<IO>> {
        match mode {
            ConversionMode::Fast => {
                self.source = CellSource::C;
                self.start_cell_adc(Adcv::SINGLE).await
            }
            ConversionMode::Normal => {
                self.source = CellSource::C;
                self.start_cell_adc(Adcv {
                    redundant: true,
                    ..Adcv::SINGLE
                })
                .await
            }
            ConversionMode::Filtered => {
                self.source = CellSource::Filtered;
                if self.continuous {
                    // Already converting: fresh filtered data every 1 ms.
                    return Ok(Microseconds(timing::with_margin(timing::T_CADC_US)));
                }
                self.start_cell_adc(Adcv {
                    continuous: true,
                    reset_filter: true,
                    ..Adcv::SINGLE
                })
                .await?;
                Ok(Microseconds(timing::with_margin(timing::T_SADC_US)))
            }
        }
    }

    async fn read_faults_now(&mut self, out: &mut [Reading<Faults>]) -> Result<ChainReport, E<IO>> {
        let mut c = [Reading::NotConverted; N];
        let mut d = [Reading::NotConverted; N];
        let mut report = self.read_status_c(&mut c).await?;
        report.merge(self.read_status_d(&mut d).await?);
        for ((o, c), d) in out.iter_mut().zip(c.iter()).zip(d.iter()) {
            *o = match (c, d) {
                (Reading::Valid(c), Reading::Valid(d)) => Reading::Valid(Faults {
                    overvoltage: u32::from(d.overvoltage),
                    undervoltage: u32::from(d.undervoltage),
                    thermal_shutdown: c.thermal_shutdown(),
                    internal: c.internal(),
                    raw: u32::from(c.cs_fault)
                        | u32::from(c.supply_flags) << 16
                        | u32::from(c.system_flags) << 24,
                    ..Faults::default()
                }),
                (Reading::Failed(f), _) | (_, Reading::Failed(f)) => Reading::Failed(*f),
                _ => Reading::NotConverted,
            };
        }
        Ok(report)
    }
}

impl_cell_monitor!(spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core);

fn check_cells_len<V: Variant, const N: usize, B>(len: usize) -> Result<(), Error<B>> {
    if len != N * V::CELLS {
        return Err(Error::InvalidArgument(
            "cell output length must be devices × cells per device",
        ));
    }
    Ok(())
}

/// Fills cell slots from a verified frame (or marks them failed).
#[inline]
fn fill<const L: usize>(
    slots: &mut [Reading<MicroVolts>],
    frame: &[u8; L],
    verdict: &Result<(), DeviceFault>,
    report: &mut ChainReport,
) {
    match verdict {
        // Hot path: three cells from a fixed 8-byte group frame (the match on the frame
        // length is decided at compile time).
        Ok(()) => match (slots, <&[u8; 8]>::try_from(frame.as_slice())) {
            ([a, b, c], Ok(&[b0, b1, b2, b3, b4, b5, _, _])) => {
                *a = convert::cell(u16::from_le_bytes([b0, b1]));
                *b = convert::cell(u16::from_le_bytes([b2, b3]));
                *c = convert::cell(u16::from_le_bytes([b4, b5]));
            }
            (slots, _) => {
                for (s, w) in slots.iter_mut().zip(frame.chunks_exact(2)) {
                    *s = convert::cell(u16::from_le_bytes([w[0], w[1]]));
                }
            }
        },
        Err(f) => {
            report.record(*f);
            for s in slots.iter_mut() {
                *s = Reading::Failed(*f);
            }
        }
    }
}

/// Balancing rule: only existing cells, and (unverified for ADBMS6832) DCC exists for
/// cells 1–16 only.
fn check_dcc<V: Variant>(mask: u32) -> Result<(), ConfigError> {
    let cells = V::CELLS.min(16) as u32;
    if mask >> cells != 0 {
        let bit = 32 - mask.leading_zeros();
        return Err(if (bit as usize) <= V::CELLS {
            ConfigError::Unsupported("DCC17/DCC18 (ADBMS6832 layout not verified)")
        } else {
            ConfigError::NoSuchCell {
                cell: bit as u16,
                available: V::CELLS as u16,
            }
        });
    }
    Ok(())
}

/// Host-side C-vs-S comparison: bit `k` set where both are valid and differ by more than
/// `threshold_uv`. A failed cell fails the device.
pub fn compare_cs(
    c: &[Reading<MicroVolts>],
    s: &[Reading<MicroVolts>],
    threshold_uv: i32,
) -> Reading<u32> {
    let mut mask = 0u32;
    for (k, (a, b)) in c.iter().zip(s.iter()).enumerate() {
        match (a, b) {
            (Reading::Valid(x), Reading::Valid(y)) => {
                if x.0.abs_diff(y.0) > threshold_uv.unsigned_abs() && k < 32 {
                    mask |= 1 << k;
                }
            }
            (Reading::Failed(f), _) | (_, Reading::Failed(f)) => return Reading::Failed(*f),
            _ => return Reading::NotConverted,
        }
    }
    Reading::Valid(mask)
}

/// Default open-wire threshold of [`open_wire_mask`]: 500 ‰ (a pulled reading below half of
/// the normal reading means an open wire).
///
/// Why 500 ‰: the data sheet gives no number. It says (adi.md §6.6, ADBMS6830-SpA "Cell
/// Open Wire Detection") that with the open-wire current on, an intact channel reads
/// ≈10/12 (833 ‰, C-ADC path) or ≈9/10 (900 ‰, S-ADC path) of the cell voltage, while a
/// broken wire lets the input capacitor discharge fully (towards 0 ‰). 500 ‰ lies between
/// the two outcomes with about 330 ‰ of margin on the intact side (cell voltage moving
/// between the base and the pulled conversions, ratio tolerance) and 500 ‰ on the open side
/// (a capacitor not fully discharged by the end of the conversion). Use
/// [`Adbms6830::set_open_wire_threshold`] to change it once characterised on your board.
pub const OPEN_WIRE_DEFAULT_PERMILLE: u16 = 500;
/// Largest accepted open-wire threshold: 750 ‰ keeps ≥ 80 ‰ below the intact C-path ratio
/// (≈833 ‰), so intact cells are not flagged.
pub const OPEN_WIRE_MAX_PERMILLE: u16 = 750;

/// Cell open-wire decision: cell `k` (bit `k`) is open when its reading with its channel's
/// current source on (odd channels in `odd`, even in `even`; cell 1 is odd) falls below
/// `permille`/1000 of its reading with the sources off, or to 0 V or below (1.5 V − 10 000
/// LSB). See [`OPEN_WIRE_DEFAULT_PERMILLE`] for the data-sheet facts and the default.
pub fn open_wire_mask(
    base: &[Reading<MicroVolts>],
    odd: &[Reading<MicroVolts>],
    even: &[Reading<MicroVolts>],
    permille: u16,
) -> Reading<u32> {
    let mut mask = 0u32;
    for (k, b) in base.iter().enumerate() {
        let pulled = if k % 2 == 0 { odd.get(k) } else { even.get(k) };
        match (b, pulled) {
            (Reading::Valid(v), Some(Reading::Valid(p))) => {
                let low = i64::from(p.0) * 1000 < i64::from(v.0) * i64::from(permille);
                if (low || p.0 <= 0) && k < 32 {
                    mask |= 1 << k;
                }
            }
            (Reading::Failed(f), _) | (_, Some(Reading::Failed(f))) => return Reading::Failed(*f),
            _ => return Reading::NotConverted,
        }
    }
    Reading::Valid(mask)
}

twins! {
    spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core {
        /// Wakes the chain: one dummy frame (RDCFGA, no data) per device, 500 µs apart
        /// (ADBMS6830B-DS "Waking a daisy chain", method 2; ≥ tWAKE max), then RSTCC so the
        /// counters are 0 on every device whether it slept or not. A device that slept lost
        /// its configuration and RSTCC hides which did, so unless the held configuration
        /// ([`Adbms6830::config`]) is the power-up default, `wake` then rewrites CFGA and CFGB
        /// (discharge bits included) and verifies them; a device whose rewrite fails keeps
        /// failing its reads until a later configuration write succeeds.
        pub fn wake(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Wakes the isoSPI ports from IDLE (after more than tIDLE = 4.3 ms minimum without
        /// activity, cores still up; ADBMS6830B-DS tIDLE/tREADY, adi.md §6.6): one dummy RDCFGA
        /// frame per device, tREADY (10 µs) apart. RDCFGA moves no counter. The `CellMonitor`
        /// methods and the diagnostics do this themselves (first, and after every wait that
        /// can exceed tIDLE); the low-level `start_*`/`read_*`/`write_*` methods send exactly
        /// their frames, so call this after waiting yourself.
        pub fn wake_idle(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// RSTCC: resets every device's command counter to 0 (and the driver's expectation).
        /// Part of the recovery of a device seen to reset (see the module docs).
        pub fn reset_command_counters(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// SRST: soft reset (configuration to defaults, counters to 0), then wakes the chain.
        pub fn soft_reset(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// ADCV with every bit; returns the wait hint (1 ms cadence, 8 ms with RD, +20 %).
        /// DCP with CONT is rejected ([`ConfigError::Conflict`]) before sending.
        pub fn start_cell_adc(&mut self, adcv: Adcv) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADSV; returns the wait hint (8 ms + 20 %).
        pub fn start_s_adc(&mut self, adsv: Adsv) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADAX; returns the wait hint (≈1 ms per channel + 20 %).
        pub fn start_aux(&mut self, adax: Adax) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADAX2 on one GPIO (or all with `None`); wait hint ≈8 ms per channel + 20 %.
        pub fn start_aux2(&mut self, gpio: Option<u8>) -> Result<Microseconds, Error<SpiError<B>>>;
        /// Polls an ADC until done or `timeout` (bounded: one poll per 200 µs). Each poll
        /// clocks 2·N status bits plus one byte, and increments every command counter.
        pub fn poll(&mut self, target: cmd::PollTarget, timeout: Microseconds) -> Result<(), Error<SpiError<B>>>;
        /// Reads cell voltages from `source` into `out` (`N × V::CELLS`, device 0 first).
        /// Uses read-all frames when enabled ([`Adbms6830::set_read_all`]), else group reads.
        pub fn read_cells(&mut self, source: CellSource, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// SNAP, read cells, UNSNAP: all groups of all devices from the same instant.
        pub fn read_cells_snapshot(&mut self, source: CellSource, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads aux (or, with `redundant`, RAX) groups: GPIO1..10, VMV, VPV (×25). The
        /// redundant path measures GPIOs only (ADAX2), so with `redundant` the VMV and VPV
        /// slots are always `NotConverted`.
        pub fn read_aux(&mut self, redundant: bool, out: &mut [AuxValues; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads status A and B: VREF2, ITMP, VD, VA, VRES.
        pub fn read_supplies(&mut self, out: &mut [Reading<Supplies>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads status C (CS flags, conversion counter, supply/system flags).
        pub fn read_status_c(&mut self, out: &mut [Reading<StatusC>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// RDSTATC with ERR = 1: reads status C "with injected error", the latent-fault test
        /// of SPIFLT (ADBMS6830B-DS command bit descriptions; adi.md §6.3). The data sheet
        /// text in the notes does not say exactly what the injected read returns; the
        /// virtual chain answers a normal frame with SPIFLT (STCR5 bit 4) set, and a
        /// healthy device is expected to report SPIFLT here — **unverified on silicon**:
        /// characterise it before relying on it. The frame is checked (PEC10, counter) like
        /// every read.
        pub fn read_status_c_injected(&mut self, out: &mut [Reading<StatusC>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads status D (per-cell OV/UV flags).
        pub fn read_status_d(&mut self, out: &mut [Reading<StatusD>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads status E (GPI, revision).
        pub fn read_status_e(&mut self, out: &mut [Reading<StatusE>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// RDSID: each device's serial ID.
        pub fn read_serial_ids(&mut self, out: &mut [Reading<SerialId>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// How many devices, counted from device 0, answer RDSID with a good PEC (≤ N).
        pub fn detect_chain_length(&mut self) -> Result<usize, Error<SpiError<B>>>;
        /// Reads CFGA and CFGB of every device (and updates the driver's copy where valid).
        pub fn read_config(&mut self, a: &mut [Reading<CfgA>; N], b: &mut [Reading<CfgB>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Writes CFGA per device and verifies it by read-back (read-only bits masked). Every
        /// field is range-checked first ([`CfgA::validate`]): an out-of-range value is
        /// [`ConfigError::OutOfRange`] and nothing is sent.
        pub fn write_cfga(&mut self, cfg: &[CfgA; N]) -> Result<(), Error<SpiError<B>>>;
        /// Writes CFGB per device and verifies it by read-back. Every field is range-checked
        /// first ([`CfgB::validate`], DCC against the variant's cells): an out-of-range value
        /// is [`ConfigError::OutOfRange`] and nothing is sent.
        pub fn write_cfgb(&mut self, cfg: &[CfgB; N]) -> Result<(), Error<SpiError<B>>>;
        /// Writes the same CFGA and CFGB to every device, verified. Both are range-checked
        /// before either is sent.
        pub fn configure(&mut self, a: CfgA, b: CfgB) -> Result<(), Error<SpiError<B>>>;
        /// Writes PWMA and PWMB per device, verified. Duties above 15 are
        /// [`ConfigError::OutOfRange`] and nothing is sent.
        pub fn write_pwm(&mut self, pwm: &[Pwm; N]) -> Result<(), Error<SpiError<B>>>;
        /// MUTE (`true`) or UNMUTE (`false`) discharge.
        pub fn mute(&mut self, on: bool) -> Result<(), Error<SpiError<B>>>;
        /// SNAP (`true`) or UNSNAP (`false`).
        pub fn snapshot(&mut self, on: bool) -> Result<(), Error<SpiError<B>>>;
        /// CLRCELL / CLRFC / CLRAUX / CLRSPIN.
        pub fn clear(&mut self, what: Clear) -> Result<(), Error<SpiError<B>>>;
        /// CLRFLAG with the given flag bytes (same on every device).
        pub fn clear_flags(&mut self, flags: [u8; 6]) -> Result<(), Error<SpiError<B>>>;
        /// Writes the COMM group per device (I2C/SPI master on the GPIOs; not verified by
        /// read-back because STCOMM changes it).
        pub fn write_comm(&mut self, comm: &[Comm; N]) -> Result<(), Error<SpiError<B>>>;
        /// Reads the COMM group.
        pub fn read_comm(&mut self, out: &mut [Reading<Comm>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// STCOMM followed by the 72 clocks that shift the three COMM bytes out.
        pub fn start_comm(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// CLOVUV: clears every cell's OV/UV flags (data bytes all 1s; the data layout is
        /// assumed to mirror STATD — unverified).
        pub fn clear_ovuv(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Redundancy check: ADCV RD=1 single shot, wait, read C and S results and STATC;
        /// bit `k` set where |C − S| > CTH (host comparison) or CS`k+1`FLT is set. With
        /// read-all on ([`Adbms6830::set_read_all`]) C and S come from one RDCSALL frame per
        /// device ([`Adbms6830::read_cells_cs`]), else from the group reads.
        pub fn redundancy_check(&mut self, out: &mut [Reading<u32>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Cell open-wire check on one path: base conversion, then odd and even channels
        /// with the open-wire current on, decided by [`open_wire_mask`] with the threshold
        /// of [`Adbms6830::set_open_wire_threshold`]: bit `k` = cell `k + 1` has an open
        /// sense wire.
        pub fn cell_open_wire(&mut self, path: AdcPath, out: &mut [Reading<u32>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// AUX open-wire check: ADAX all with pull-up, then pull-down; bit `k` = GPIO`k+1`
        /// moved by more than `threshold` (floating input).
        pub fn aux_open_wire(&mut self, threshold: MicroVolts, out: &mut [Reading<u16>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}

// ---- wide read-alls: RDCSALL / RDACSALL / RDASALL -------------------------------------------

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    /// RDCSALL (or RDACSALL with `averaged`): C (or averaged) and S cells 1–16 of every
    /// device from one 66-byte frame per device, verified (PEC10, counter, reset overlay);
    /// device `d`'s cells go to `c[d × stride ..]` and `s[d × stride ..]`. A failed device
    /// fails its 16 C and 16 S slots only.
    async fn read_cs_strided(
        &mut self,
        averaged: bool,
        c: &mut [Reading<MicroVolts>],
        s: &mut [Reading<MicroVolts>],
        stride: usize,
    ) -> Result<ChainReport, E<IO>> {
        use super::readall::{CS_CELLS, CS_FRAME_LEN, cs_from, fail_cs};
        let frame = if averaged {
            cmd::RDACSALL
        } else {
            cmd::RDCSALL
        };
        let mut frames = [[0u8; CS_FRAME_LEN]; N];
        let v = self.read(&frame, &mut frames).await?;
        let mut report = ChainReport::OK;
        let devices = c.chunks_mut(stride).zip(s.chunks_mut(stride));
        for ((f, r), (co, so)) in frames.iter().zip(v.iter()).zip(devices) {
            let (Some(co), Some(so)) = (co.get_mut(..CS_CELLS), so.get_mut(..CS_CELLS)) else {
                continue;
            };
            match r {
                Ok(()) => cs_from(f, co, so),
                Err(e) => {
                    report.record(*e);
                    fail_cs(*e, co, so);
                }
            }
        }
        Ok(report)
    }

    pub(crate) async fn read_cells_cs(
        &mut self,
        averaged: bool,
        c_out: &mut [Reading<MicroVolts>],
        s_out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        if V::CELLS != super::readall::CS_CELLS {
            return Err(ConfigError::Unsupported(
                "RDCSALL/RDACSALL carry cells 1-16 only (18-cell variant)",
            )
            .into());
        }
        if c_out.len() != N * V::CELLS || s_out.len() != N * V::CELLS {
            return Err(Error::InvalidArgument(
                "C and S output lengths must be devices × cells per device",
            ));
        }
        self.read_cs_strided(averaged, c_out, s_out, V::CELLS).await
    }

    pub(crate) async fn read_all_aux_status(
        &mut self,
        out: &mut [Reading<super::readall::AuxStatus>; N],
    ) -> Result<ChainReport, E<IO>> {
        use super::readall::{AS_FRAME_LEN, as_from};
        let mut frames = [[0u8; AS_FRAME_LEN]; N];
        let v = self.read(&cmd::RDASALL, &mut frames).await?;
        let mut report = ChainReport::OK;
        for ((f, r), o) in frames.iter().zip(v.iter()).zip(out.iter_mut()) {
            *o = match r {
                Ok(()) => Reading::Valid(as_from(f)),
                Err(e) => {
                    report.record(*e);
                    Reading::Failed(*e)
                }
            };
        }
        Ok(report)
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core {
        /// RDCSALL (`averaged = false`) or RDACSALL (`averaged = true`): C-ADC (or averaged)
        /// **and** S-ADC results of cells 1–16 in one 66-byte frame per device (64 data
        /// bytes + PEC10 over all of them and the command counter; ADBMS6830B-DS Table 50,
        /// adi.md §6.2/§6.6; layout in [`readall`](super::readall)). `c_out` and `s_out` are
        /// `N × 16`, device 0 first. One frame instead of the twelve 8-byte group reads (or
        /// two 34-byte read-alls) of the same registers.
        ///
        /// Every device's frame is checked (PEC10 and command counter, as every read; the
        /// read moves no counter); a failed device fails its 32 slots only and is named in
        /// the report. Cleared/reset codes are [`Reading::NotConverted`].
        ///
        /// ADBMS6830B-DS says the read-all commands are intended "for single IC
        /// applications"; this method sends RDCSALL whatever `N` is (the caller asked for
        /// it): see [`Adbms6830::set_read_all`] for the driver's own use. 16-cell variants
        /// only: on ADBMS6832 it returns [`ConfigError::Unsupported`] and sends nothing.
        pub fn read_cells_cs(&mut self, averaged: bool, c_out: &mut [Reading<MicroVolts>], s_out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// RDASALL: auxiliary (GPIO1..10, VMV, VPV), redundant auxiliary (GPIO1..10) and
        /// status A–E of every device in one 70-byte frame per device (68 data bytes +
        /// PEC10 with the command counter; ADBMS6830B-DS Table 50, adi.md §6.2/§6.6). The
        /// group order inside the frame comes from ADI's reference code only and is
        /// **UNVERIFIED** against the data sheet ([`readall`](super::readall) explains);
        /// status C arrives without its conversion counter (STCR2/STCR3 omitted).
        ///
        /// Every frame is checked (PEC10, command counter); a failed device is
        /// [`Reading::Failed`] and named in the report, the others are decoded.
        pub fn read_all_aux_status(&mut self, out: &mut [Reading<super::readall::AuxStatus>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
