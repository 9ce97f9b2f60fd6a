//! The chain driver: [`Adbms6830`] over [`Blocking`](crate::io::Blocking) or
//! [`Async`](crate::io::Async) SPI, with the command-counter bookkeeping.
//!
//! One file per capability: [`counter`] (command-counter bookkeeping), [`power`] (wake,
//! idle, reset), [`config`] (CFGA/CFGB), [`measure`] (conversions and reads), [`balancing`]
//! (DCC rule, PWM, mute), [`aux`] (COMM/STCOMM), [`diagnostics`] (redundancy, open wire),
//! [`readall`] (RDCSALL/RDACSALL/RDASALL), [`latent`] (FLAG_D self-tests), [`monitor`] (the
//! `CellMonitor` implementation); this file holds the type, its constructor and settings,
//! and the verified bus primitives every capability uses.
//!
//! Sources cited as ADBMS6830B-DS: ADBMS6830B data sheet Rev. 0,
//! <https://www.analog.com/media/en/technical-documentation/data-sheets/adbms6830b.pdf>;
//! ADBMS6830-SpA: the ADBMS6830 data sheet Rev. SpA (pre-release, 2021), used only to
//! corroborate it.

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

mod balancing;
mod chain;
mod config;
mod counter;
mod diagnostics;
mod interfaces;
/// The FLAG_D latent-fault self-test sequence.
mod latent;
mod measure;
mod monitor;
mod power;
mod readall;

pub(crate) use super::values::{AuxValues, Supplies};
use balancing::check_dcc;
pub use diagnostics::{
    AdcPath, OPEN_WIRE_DEFAULT_PERMILLE, OPEN_WIRE_MAX_PERMILLE, compare_cs, open_wire_mask,
};
pub use measure::CellSource;

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
    /// Per device, the result kinds ([`STALE_C`], [`STALE_S`], [`STALE_AUX`],
    /// [`STALE_RAUX`]) not confirmed fresh since its counter last failed: a device that
    /// missed a command may have missed a conversion start, so results of a kind stay failed
    /// until a conversion of that kind, started afterwards, is confirmed by its counter.
    stale: [u8; N],
    /// The counter mismatch (expected, received) that made the device stale.
    stale_at: [(u8, u8); N],
    /// Conversion kinds started since the device became stale: the next read whose counter
    /// matches confirms them ([`Self::confirm`]).
    pending: [u8; N],
    /// `true` while some device has conversions in `pending` (skips [`Self::confirm`]).
    pending_any: bool,
    /// Command-counter faults seen so far (wrapping): an operation made of several reads
    /// compares it before and after ([`Self::taint_mark`]) and fails every value of a device
    /// that showed one anywhere in the operation.
    fault_seq: u32,
    /// Per device, `fault_seq` right after its last command-counter fault.
    fault_seq_at: [u32; N],
    /// The last command-counter fault of each device.
    last_counter_fault: [DeviceFault; N],
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
    /// Devices actually on the chain, 1..=N (see `set_device_count`).
    active: usize,
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
                stale: [0; N],
                stale_at: [(0, 0); N],
                pending: [0; N],
                pending_any: false,
                fault_seq: 0,
                fault_seq_at: [0; N],
                last_counter_fault: [DeviceFault {
                    device: 0,
                    reason: FaultReason::Framing,
                }; N],
                since: [0; N],
                disputed: DisputedCounting::Either,
                retries: 2,
                cfga: [CfgA::default(); N],
                cfgb: [CfgB::default(); N],
                continuous: false,
                source: CellSource::C,
                read_all: false,
                ow_permille: OPEN_WIRE_DEFAULT_PERMILLE,
                active: N,
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
    /// reads instead of six 8-byte group reads. Default: off (group reads) for every chain
    /// length. ADBMS6830B-DS says read-all commands are intended "for single IC
    /// applications". 16-cell variants only. Also makes [`Adbms6830::redundancy_check`] read
    /// C and S with RDCVALL and RDSALL.
    ///
    /// A 34-byte frame's PEC10 catches every error of up to three bits, as a group frame's
    /// does, but its 272 bits give a 4-bit error more places to land than the 64 bits of a
    /// group frame; the wide read-alls (66/70 bytes) are weaker still and never used here
    /// (module documentation, "Error detection per frame length").
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

/// Stale result kind: C-ADC results (cells, averaged, filtered; STATD OV/UV flags).
const STALE_C: u8 = 1;
/// Stale result kind: S-ADC results.
const STALE_S: u8 = 2;
/// Stale result kind: auxiliary results (GPIOs, VMV/VPV, status A/B).
const STALE_AUX: u8 = 4;
/// Stale result kind: redundant auxiliary results.
const STALE_RAUX: u8 = 8;
/// Stale result kind: the die temperature ITMP alone (ADAX CH = ITMP).
const STALE_ITMP: u8 = 16;
/// Stale result kind: VPV alone (ADAX CH = VPV).
const STALE_VPV: u8 = 32;
/// Every result kind.
const STALE_ALL: u8 = STALE_C | STALE_S | STALE_AUX | STALE_RAUX | STALE_ITMP | STALE_VPV;

/// The result kinds a read command returns (0: not a conversion result — configuration,
/// serial ID, COMM, PWM, status C/E).
const fn needs(frame: &[u8; 4]) -> u8 {
    match *frame {
        cmd::RDCVA
        | cmd::RDCVB
        | cmd::RDCVC
        | cmd::RDCVD
        | cmd::RDCVE
        | cmd::RDCVF
        | cmd::RDCVALL
        | cmd::RDACA
        | cmd::RDACB
        | cmd::RDACC
        | cmd::RDACD
        | cmd::RDACE
        | cmd::RDACF
        | cmd::RDACALL
        | cmd::RDFCA
        | cmd::RDFCB
        | cmd::RDFCC
        | cmd::RDFCD
        | cmd::RDFCE
        | cmd::RDFCF
        | cmd::RDFCALL
        | cmd::RDSTATD => STALE_C,
        cmd::RDSVA
        | cmd::RDSVB
        | cmd::RDSVC
        | cmd::RDSVD
        | cmd::RDSVE
        | cmd::RDSVF
        | cmd::RDSALL => STALE_S,
        cmd::RDCSALL | cmd::RDACSALL => STALE_C | STALE_S,
        cmd::RDAUXA | cmd::RDAUXB | cmd::RDAUXC | cmd::RDAUXD | cmd::RDSTATA | cmd::RDSTATB => {
            STALE_AUX | STALE_ITMP | STALE_VPV
        }
        cmd::RDRAXA | cmd::RDRAXB | cmd::RDRAXC | cmd::RDRAXD => STALE_RAUX,
        cmd::RDASALL => STALE_ALL,
        _ => 0,
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

/// Fails the first `slots` values of every device (one chunk per device) that `tainted`
/// names: it showed a command-counter fault in the operation.
fn taint<'a, T: 'a>(
    tainted: &[Option<DeviceFault>],
    chunks: impl Iterator<Item = &'a mut [Reading<T>]>,
    slots: usize,
    report: &mut ChainReport,
) {
    for (t, o) in tainted.iter().zip(chunks) {
        if let Some(f) = t {
            report.record(*f);
            for s in o.iter_mut().take(slots) {
                *s = Reading::Failed(*f);
            }
        }
    }
}

/// Sets the slots past the chain (index `from..`) to `NotConverted`: the capacity slots of
/// devices that are not on the chain carry no data.
pub(super) fn clear_past<T>(out: &mut [Reading<T>], from: usize) {
    for o in out.iter_mut().skip(from) {
        *o = Reading::NotConverted;
    }
}

impl<V, const N: usize, IO> Core<V, N, IO> {
    /// Devices on the chain (1..=N).
    pub(super) fn n(&self) -> usize {
        self.active.clamp(1, N)
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
    // ---- bus primitives ------------------------------------------------------------------

    pub(crate) async fn send(&mut self, frame: &[u8; 4]) -> Result<(), E<IO>> {
        let r = isospi::send_command(&mut self.io, frame).await;
        // On a bus error the command may or may not have reached the chain: the next read
        // accepts either counter.
        self.account(frame, r.is_ok());
        r.map_err(Error::Bus)
    }

    /// One verified chain read: per device `Ok(frame data)` or the fault (PEC, counter, a
    /// device seen to reset whose recovery is not complete, or a device whose results of
    /// this kind are stale since a counter mismatch).
    async fn read<const L: usize>(
        &mut self,
        frame: &[u8; 4],
        frames: &mut [[u8; L]; N],
    ) -> Result<[Result<(), DeviceFault>; N], E<IO>> {
        self.read_needing(frame, frames, needs(frame)).await
    }

    /// [`Self::read`] of a caller that uses only results of kinds `need` from the frame.
    async fn read_needing<const L: usize>(
        &mut self,
        frame: &[u8; 4],
        frames: &mut [[u8; L]; N],
        need: u8,
    ) -> Result<[Result<(), DeviceFault>; N], E<IO>> {
        let mut out = self.read_checked(frame, frames).await?;
        if self.lost.iter().all(|&l| l == 0) && self.stale.iter().all(|&s| s & need == 0) {
            return Ok(out);
        }
        self.overlay(need, &mut out);
        Ok(out)
    }

    /// [`Self::read_needing`] once the first attempt's frames are in `frames` (the general
    /// path behind a one-pass read whose first attempt did not pass).
    async fn read_needing_from<const L: usize>(
        &mut self,
        frame: &[u8; 4],
        frames: &mut [[u8; L]; N],
        need: u8,
    ) -> Result<[Result<(), DeviceFault>; N], E<IO>> {
        let mut out = self.checked_from(frame, frames).await?;
        if !self.clean(need) {
            self.overlay(need, &mut out);
        }
        Ok(out)
    }

    /// `true` if no device is recovering from a reset and none has results of kind `need`
    /// stale: [`Self::overlay`] would change nothing.
    #[inline]
    fn clean(&self, need: u8) -> bool {
        self.lost.iter().all(|&l| l == 0) && self.stale.iter().all(|&s| s & need == 0)
    }

    /// The rare path of [`Self::read`]: fails the devices that are recovering from a reset
    /// or whose results of kind `need` are stale.
    #[cold]
    #[inline(never)]
    fn overlay(&mut self, need: u8, out: &mut [Result<(), DeviceFault>; N]) {
        for (d, o) in out.iter_mut().enumerate() {
            if o.is_err() {
                continue;
            }
            let lost = self.lost.get(d).is_some_and(|&l| l != 0);
            let stale = self.stale.get(d).is_some_and(|&s| s & need != 0);
            let at = if lost {
                self.lost_at.get(d)
            } else if stale {
                self.stale_at.get(d)
            } else {
                None
            };
            if let Some(&(expected, received)) = at {
                let f = fault(d, FaultReason::CommandCounter { expected, received });
                self.note_counter_fault(f);
                *o = Err(f);
            }
        }
    }

    /// [`Self::read`] without the reset overlay: PEC and counter only (the configuration
    /// read-back that ends a recovery uses it).
    async fn read_checked<const L: usize>(
        &mut self,
        frame: &[u8; 4],
        frames: &mut [[u8; L]; N],
    ) -> Result<[Result<(), DeviceFault>; N], E<IO>> {
        // Only the `n` devices on the chain are clocked (`4 + L·n` bytes); the capacity slots
        // past them are `NoResponse` and every consumer skips them (never data, never in a
        // report).
        let n = self.n();
        let mut v = [Err(FaultReason::NoResponse); N];
        isospi::read_verified_slice(
            &mut self.io,
            frame,
            frames.get_mut(..n).unwrap_or(&mut []),
            v.get_mut(..n).unwrap_or(&mut []),
            DataPec::Pec10,
            self.retries,
        )
        .await
        .map_err(Error::Bus)?;
        self.account(frame, true);
        Ok(self.counter_verdicts(&v))
    }

    /// The rest of [`Self::read_checked`] once the first attempt's frames are in `frames`:
    /// PEC check (re-issuing the whole command up to `retries` more times while any device
    /// fails), command accounting and the counter verdict per device.
    async fn checked_from<const L: usize>(
        &mut self,
        frame: &[u8; 4],
        frames: &mut [[u8; L]; N],
    ) -> Result<[Result<(), DeviceFault>; N], E<IO>> {
        let n = self.n();
        let mut v = [Err(FaultReason::NoResponse); N];
        let fr = frames.get_mut(..n).unwrap_or(&mut []);
        let vs = v.get_mut(..n).unwrap_or(&mut []);
        isospi::verify_chain_into(fr, DataPec::Pec10, vs);
        let mut attempt = 0;
        while !vs.iter().all(Result::is_ok) && attempt < self.retries {
            attempt += 1;
            isospi::read_chain_slice(&mut self.io, frame, fr)
                .await
                .map_err(Error::Bus)?;
            isospi::verify_chain_into(fr, DataPec::Pec10, vs);
        }
        self.account(frame, true);
        Ok(self.counter_verdicts(&v))
    }

    /// The counter verdict per device from the PEC verdicts `v` of a read (the last step of
    /// [`Self::read_checked`]).
    #[inline]
    fn counter_verdicts(
        &mut self,
        v: &[Result<u8, FaultReason>; N],
    ) -> [Result<(), DeviceFault>; N] {
        let mut out = [Ok(()); N];
        for (d, (o, r)) in out.iter_mut().zip(v.iter()).enumerate() {
            *o = match r {
                Ok(cc) => match self.check_counter(d, *cc) {
                    Ok(()) => Ok(()),
                    Err(r) => {
                        let f = fault(d, r);
                        self.note_counter_fault(f);
                        Err(f)
                    }
                },
                Err(reason) => Err(fault(d, *reason)),
            };
        }
        out
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
        let n = self.n();
        let mut wire = [[0u8; 8]; N];
        let host = host.get(..n).unwrap_or(&[]);
        let wire = wire.get_mut(..n).unwrap_or(&mut []);
        isospi::build_write_slice(host, DataPec::Pec10, wire);
        let r = isospi::write_chain_slice(&mut self.io, frame, wire).await;
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
        // Devices past the chain are neither written nor read back: their verdict stays Ok.
        let n = self.n();
        for (d, (((o, f), r), want)) in out
            .iter_mut()
            .zip(frames.iter())
            .zip(v.iter())
            .zip(data.iter())
            .enumerate()
            .take(n)
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

    /// Reads word `index` of a 6-byte group from every device into `out` (length `N`);
    /// the word is a result of kind `need` (stale devices fail).
    async fn read_word<T>(
        &mut self,
        frame: &[u8; 4],
        index: usize,
        need: u8,
        conv: fn(u16) -> Reading<T>,
        out: &mut [Reading<T>],
    ) -> Result<ChainReport, E<IO>> {
        let mut frames = [[0u8; 8]; N];
        let v = self.read_needing(frame, &mut frames, need).await?;
        let mut report = ChainReport::OK;
        let n = self.n();
        for ((f, r), o) in frames.iter().zip(v.iter()).zip(out.iter_mut()).take(n) {
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
}
