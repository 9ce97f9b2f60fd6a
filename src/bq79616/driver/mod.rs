//! The BQ79616 stack driver: [`Bq79616`] over a [`Serial`](crate::io::Serial) bus wrapped in
//! [`Blocking`](crate::io::Blocking) or [`Async`](crate::io::Async). All logic lives once in
//! the async core; the public methods are generated for both flavours.

use core::marker::PhantomData;

use crate::error::{ConfigError, DeviceFault, Error, FaultReason, VerifyMismatch};
use crate::io::{SerialError, SerialIo, twins};
use crate::monitor::{
    ChainReport, ConversionMode, DeviceSet, Faults, MonitorCore, Reading, impl_cell_monitor,
};
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};

use super::convert;
use super::frame::{self, MAX_RESPONSE, Request};
use super::register::{
    AdcCtrl1, BalCtrl2, BalStat, CommCtrl, Control1, FaultComm1, FaultComm2, FaultSummary,
    OvuvCtrl, bridge, reg,
};

mod balancing;
mod bringup;
mod config;
mod faults;
mod measure;
mod monitor;
mod registers;
mod ring;

pub use balancing::BalanceConfig;
pub use faults::FaultRegisters;
pub use ring::RingStatus;

mod private {
    pub trait Sealed {}
}

/// A BQ7961x family member (sealed).
pub trait Variant: private::Sealed {
    /// Part name.
    const NAME: &'static str;
    /// Cell inputs (the most cells ACTIVE_CELL can select).
    const MAX_CELLS: u8;
}

/// BQ79616-Q1 (16 cells; SLUSE81E).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq79616Q1;
/// BQ79614-Q1 (14 cells; SLUSE81E).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq79614Q1;
/// BQ79612-Q1 (12 cells; SLUSE81E).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq79612Q1;
/// BQ79656-Q1 (16 cells and a current-sense ADC, SLUSE48B; the same command protocol and cell
/// registers; its current channel is not implemented).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq79656Q1;

impl private::Sealed for Bq79616Q1 {}
impl private::Sealed for Bq79614Q1 {}
impl private::Sealed for Bq79612Q1 {}
impl private::Sealed for Bq79656Q1 {}
impl Variant for Bq79616Q1 {
    const NAME: &'static str = "BQ79616-Q1";
    const MAX_CELLS: u8 = 16;
}
impl Variant for Bq79614Q1 {
    const NAME: &'static str = "BQ79614-Q1";
    const MAX_CELLS: u8 = 14;
}
impl Variant for Bq79612Q1 {
    const NAME: &'static str = "BQ79612-Q1";
    const MAX_CELLS: u8 = 12;
}
impl Variant for Bq79656Q1 {
    const NAME: &'static str = "BQ79656-Q1";
    const MAX_CELLS: u8 = 16;
}

/// How the host reaches the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Topology {
    /// Host UART → BQ79600-Q1 bridge (address 0) → `N` BQ7961x at addresses 1…N. Stack reads
    /// and writes address the monitors; device index `d` is address `d + 1`.
    Bridge,
    /// Host UART → the base BQ7961x (address 0) → `N − 1` stack devices at 1…N−1, no bridge.
    /// Broadcast reads and writes address all of them; device index = address.
    Base,
}

/// Timings used by the driver, µs.
pub mod timing {
    /// BQ79600 WAKE ping: RX held low 2.75 ms (TI BQ79600-Q1 data sheet SLUSEA0 WAKE ping; NCKU
    /// Formula Racing BQ79600 driver `bq79600_bsp_wakeup`), sent twice 3.5 ms apart as TI's
    /// BQ79600 sample does.
    pub const BRIDGE_WAKE_PING_US: u32 = 2_750;
    /// Wait after a bridge WAKE ping (≥ 3.5 ms, SLUSEA0 tSU(WAKE_SHUT)).
    pub const BRIDGE_WAKE_WAIT_US: u32 = 3_500;
    /// BQ79616 WAKE ping low time: tHLD_WAKE = 2…2.5 ms (SLUSE81E §8.6 "Ping signal timing");
    /// the middle is used.
    pub const BASE_WAKE_PING_US: u32 = 2_250;
    /// Per stack device after a WAKE: tSU(WAKE_SHUT) ≤ 10 ms per device to forward the tone
    /// (SLUSE81E §8.6) plus the ~1.6 ms tone; TI's BQ79600 sample waits 11.6 ms per device.
    pub const WAKE_PER_DEVICE_US: u32 = 11_600;
    /// SHUTDOWN ping low time for a base BQ79616: TI sample revisions say 7–10 ms and 9–13 ms
    /// (not resolved from the data sheet here): 9.5 ms lies in both.
    pub const BASE_SHUTDOWN_PING_US: u32 = 9_500;
    /// COMM CLEAR: the line held low for 15–20 bit periods (TI BQ796xx sample code); 18 µs at
    /// 1 Mbaud.
    pub const COMM_CLEAR_US: u32 = 18;
    /// SLEEPtoACTIVE ping low time for a base device: 250–300 µs (TI BQ796xx sample code); the
    /// middle is used.
    pub const SLEEP_TO_ACTIVE_PING_US: u32 = 275;
    /// tSU(SLP2ACT) per device: 230 µs (SLUSE81E §8.6) — each device forwards the tone after it.
    pub const SLEEP_TO_ACTIVE_PER_DEVICE_US: u32 = 230;
    /// tSLP: ACTIVE → SLEEP (SLUSE81E §8.6, 100 µs).
    pub const SLEEP_ENTRY_US: u32 = 100;
    /// tSHTDN: ACTIVE → SHUTDOWN (SLUSE81E §8.6, 20 ms).
    pub const SHUTDOWN_ENTRY_US: u32 = 20_000;
    /// tRST after CONTROL1\[SOFT_RESET\] (SLUSE81E §8.6, 1 ms).
    pub const SOFT_RESET_US: u32 = 1_000;
    /// tWAIT_READ_MAX of the BQ79600-Q1 data sheet (SLUSEA0 §7.3.2.1.2.2, "Flow to Read/Write
    /// BQ79600-Q1"): a read answered by `devices` stack devices with `bytes` bytes in all
    /// (payload and overhead) takes at most `(devices − 1) × 3 µs × 2 + bytes × 10 µs + 100 µs`.
    /// The driver waits this plus [`RESPONSE_MARGIN_US`] for a response to be complete; a
    /// device whose frame has not come by then is
    /// [`FaultReason::NoResponse`](crate::error::FaultReason::NoResponse).
    pub const fn read_wait_us(devices: usize, bytes: usize) -> u32 {
        let d = if devices == 0 { 0 } else { devices - 1 };
        let us = d * 6 + bytes * 10 + 100;
        if us > u32::MAX as usize {
            u32::MAX
        } else {
            us as u32
        }
    }
    /// Margin on top of [`read_wait_us`] (host UART driver and interrupt latency; the crate's
    /// choice).
    pub const RESPONSE_MARGIN_US: u32 = 500;
    /// Time per byte allowed for each further frame once a response has started (2 × the
    /// 10 µs of a byte at 1 Mbaud).
    pub const RESPONSE_PER_BYTE_US: u32 = 20;
    /// Quiet time that ends a drain of stale input before a command.
    pub const DRAIN_QUIET_US: u32 = 20;
    /// Main ADC wait hint, unfiltered: a round robin of all channels takes 128 µs nominal
    /// (SLUSE81E §9.3.2.1.3); 1 ms leaves margin for the first round after MAIN_GO.
    pub const CONVERSION_US: u32 = 1_000;
    /// Main ADC wait hint with the post-ADC low-pass filter on (filter settling; not a
    /// data-sheet figure).
    pub const CONVERSION_FILTERED_US: u32 = 10_000;
}

/// Where the stack is reached from, per direction group (ring recovery splits the stack).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Group {
    /// Reverse direction (bridge CONTROL1\[DIR_SEL\] = 1).
    reverse: bool,
    /// Lowest and highest device address in the group.
    lo: u8,
    hi: u8,
}

impl Group {
    fn len(&self) -> usize {
        usize::from(self.hi.saturating_sub(self.lo)) + 1
    }
    fn contains(&self, addr: u8) -> bool {
        (self.lo..=self.hi).contains(&addr)
    }
    /// The address `i` steps from the host along this group's direction.
    fn nearest(&self, i: usize) -> u8 {
        let i = i.min(255) as u8;
        if self.reverse {
            self.hi.saturating_sub(i)
        } else {
            self.lo.saturating_add(i)
        }
    }
}

/// The driver for a stack of `N` BQ7961x devices. `V` is the [`Variant`], `IO` is
/// [`Blocking`](crate::io::Blocking) or [`Async`](crate::io::Async) around a
/// [`Serial`](crate::io::Serial) bus and a delay.
#[derive(Debug)]
pub struct Bq79616<V, const N: usize, IO> {
    pub(crate) core: Core<V, N, IO>,
}

#[derive(Debug)]
pub(crate) struct Core<V, const N: usize, IO> {
    io: IO,
    topology: Topology,
    cells: u8,
    retries: u8,
    groups: [Group; 2],
    ngroups: u8,
    bridge_reverse: bool,
    reachable: u8,
    ov: Option<u8>,
    uv: Option<u8>,
    otut: Option<u8>,
    balance: BalanceConfig,
    filtered: bool,
    _v: PhantomData<V>,
}

impl<V: Variant, const N: usize, IO> Bq79616<V, N, IO> {
    /// A driver for `N` devices (1…63) behind a BQ79600 bridge, every device with all of the
    /// variant's cells active, 2 retries.
    pub fn new_bridge(io: IO) -> Self {
        Self::with_topology(io, Topology::Bridge)
    }

    /// A driver for a base BQ7961x on the host UART and `N − 1` stack devices above it.
    pub fn new_base(io: IO) -> Self {
        Self::with_topology(io, Topology::Base)
    }

    fn with_topology(io: IO, topology: Topology) -> Self {
        let n = N.clamp(1, 63) as u8;
        let (lo, hi) = match topology {
            Topology::Bridge => (1, n),
            Topology::Base => (0, n - 1),
        };
        Self {
            core: Core {
                io,
                topology,
                cells: V::MAX_CELLS,
                retries: 2,
                groups: [Group {
                    reverse: false,
                    lo,
                    hi,
                }; 2],
                ngroups: 1,
                bridge_reverse: false,
                reachable: 0,
                ov: None,
                uv: None,
                otut: None,
                balance: BalanceConfig::default(),
                filtered: false,
                _v: PhantomData,
            },
        }
    }

    /// How the stack is reached.
    pub fn topology(&self) -> Topology {
        self.core.topology
    }

    /// How often a read with a failed device is re-issued (whole command). Default 2.
    pub fn set_retries(&mut self, retries: u8) {
        self.core.retries = retries;
    }

    /// Devices that read back their address at the last bring-up (chain-length detection).
    pub fn reachable_devices(&self) -> u8 {
        self.core.reachable
    }

    /// `true` while the stack is split into a forward and a reverse group after
    /// [`recover_ring`](Bq79616::recover_ring).
    pub fn is_split(&self) -> bool {
        self.core.ngroups > 1
    }

    /// Gives the bus wrapper back.
    pub fn release(self) -> IO {
        self.core.io
    }
}

/// Fills `out` with `Failed(fault)`.
fn fail_all<T: Copy>(out: &mut [Reading<T>], fault: DeviceFault) {
    for o in out {
        *o = Reading::Failed(fault);
    }
}

/// Per-device verdicts of one chain read.
type Verdicts<const N: usize> = [Option<FaultReason>; N];

impl<V: Variant, const N: usize, IO> Core<V, N, IO> {
    fn monitor_base(&self) -> u8 {
        match self.topology {
            Topology::Bridge => 1,
            Topology::Base => 0,
        }
    }
    fn index_of(&self, addr: u8) -> Option<usize> {
        let i = usize::from(addr.checked_sub(self.monitor_base())?);
        (i < N).then_some(i)
    }
    fn addr_of(&self, index: usize) -> u8 {
        (index as u8).saturating_add(self.monitor_base())
    }
    fn read_req(&self) -> Request {
        match self.topology {
            Topology::Bridge => Request::StackRead,
            Topology::Base => Request::BroadcastRead,
        }
    }
    fn write_req(&self) -> Request {
        match self.topology {
            Topology::Bridge => Request::StackWrite,
            Topology::Base => Request::BroadcastWrite,
        }
    }
    fn groups(&self) -> [Option<Group>; 2] {
        [
            Some(self.groups[0]),
            (self.ngroups > 1).then_some(self.groups[1]),
        ]
    }
    fn reset_groups(&mut self) {
        let n = N.clamp(1, 63) as u8;
        let base = self.monitor_base();
        self.groups = [Group {
            reverse: false,
            lo: base,
            hi: base + n - 1,
        }; 2];
        self.ngroups = 1;
    }
    fn cell_mask(&self) -> u32 {
        (1u32 << self.cells) - 1
    }
}

fn frame_err<E>(_: frame::FrameError) -> Error<E> {
    Error::InvalidArgument("frame cannot be built (length or address)")
}

impl<V: Variant, const N: usize, IO: SerialIo> Core<V, N, IO> {
    // ---- byte moving -----------------------------------------------------------------------

    async fn send(&mut self, cmd: &frame::Command) -> Result<(), Error<IO::Error>> {
        self.io.write(cmd.as_bytes()).await.map_err(Error::Bus)
    }

    async fn write_raw(
        &mut self,
        req: Request,
        dev: u8,
        register: u16,
        data: &[u8],
    ) -> Result<(), Error<IO::Error>> {
        let cmd = frame::write(req, dev, register, data).map_err(frame_err)?;
        self.send(&cmd).await
    }

    /// Bridge CONTROL1 with only DIR_SEL as wanted (single write to device 0).
    async fn bridge_direction(&mut self, reverse: bool) -> Result<(), Error<IO::Error>> {
        if self.topology == Topology::Bridge && self.bridge_reverse != reverse {
            let c = if reverse { Control1::DIR_SEL.bits() } else { 0 };
            self.write_raw(Request::SingleWrite, 0, reg::CONTROL1, &[c])
                .await?;
            self.bridge_reverse = reverse;
        }
        Ok(())
    }

    /// Writes `data` to `register` of every monitor (stack/broadcast write per group).
    async fn write_all(&mut self, register: u16, data: &[u8]) -> Result<(), Error<IO::Error>> {
        for g in self.groups().into_iter().flatten() {
            self.bridge_direction(g.reverse).await?;
            self.write_raw(self.write_req(), 0, register, data).await?;
        }
        Ok(())
    }

    /// Writes `data` to one monitor (device index).
    async fn write_one(
        &mut self,
        index: usize,
        register: u16,
        data: &[u8],
    ) -> Result<(), Error<IO::Error>> {
        let addr = self.addr_of(index);
        let reverse = self
            .groups()
            .into_iter()
            .flatten()
            .find(|g| g.contains(addr))
            .map(|g| g.reverse)
            .unwrap_or(false);
        self.bridge_direction(reverse).await?;
        self.write_raw(Request::SingleWrite, addr, register, data)
            .await
    }

    /// Deadline for the first byte … last byte of a response of `bytes` bytes from `devices`
    /// devices: [`timing::read_wait_us`] plus [`timing::RESPONSE_MARGIN_US`].
    fn deadline(&self, devices: usize, bytes: usize) -> u32 {
        timing::read_wait_us(devices, bytes).saturating_add(timing::RESPONSE_MARGIN_US)
    }

    /// One read of `count` registers from every monitor, `frames[d][..count]` = device `d`'s
    /// data where `verdict[d]` is `None`. Devices already good in `done` are not changed.
    async fn read_once<const L: usize>(
        &mut self,
        register: u16,
        count: usize,
        frames: &mut [[u8; L]; N],
        verdict: &mut Verdicts<N>,
        done: &mut DeviceSet,
    ) -> Result<(), Error<IO::Error>> {
        let flen = frame::response_len(count);
        for g in self.groups().into_iter().flatten() {
            let pending = (g.lo..=g.hi)
                .filter_map(|a| self.index_of(a))
                .any(|i| !done.contains(i));
            if !pending {
                continue;
            }
            self.bridge_direction(g.reverse).await?;
            self.io
                .drain(timing::DRAIN_QUIET_US)
                .await
                .map_err(Error::Bus)?;
            let cmd = frame::read(self.read_req(), 0, register, count).map_err(frame_err)?;
            self.io.expect(flen.saturating_mul(g.len()));
            self.send(&cmd).await?;
            // Frames arrive farthest device first. Good frames are placed by the address in
            // their header; bad ones by position, counting from the nearest device.
            let mut bad: [Option<FaultReason>; N] = [None; N];
            let mut received = 0usize;
            let mut seen = DeviceSet::EMPTY;
            let mut scratch = [0u8; MAX_RESPONSE];
            for pos in 0..g.len().min(N) {
                let buf = scratch.get_mut(..flen).unwrap_or(&mut []);
                buf.fill(0xFF);
                let wait = if pos == 0 {
                    self.deadline(g.len(), flen.saturating_mul(g.len()))
                } else {
                    timing::RESPONSE_PER_BYTE_US.saturating_mul(flen as u32)
                };
                let n = self.io.read_within(buf, wait).await.map_err(Error::Bus)?;
                if n < flen {
                    if n > 0 {
                        // A torn frame: its device is the next one by position.
                        if let Some(b) = bad.get_mut(pos) {
                            *b = Some(FaultReason::Framing);
                        }
                        received = pos + 1;
                    }
                    break;
                }
                received = pos + 1;
                match frame::parse_response(buf, register, count) {
                    Ok(r) => match self.index_of(r.device) {
                        Some(i) if g.contains(r.device) && !seen.contains(i) => {
                            seen.insert(i);
                            if !done.contains(i) {
                                if let (Some(dst), Some(src)) =
                                    (frames.get_mut(i), buf.get(4..4 + count))
                                {
                                    if let Some(d) = dst.get_mut(..count) {
                                        d.copy_from_slice(src);
                                    }
                                }
                                done.insert(i);
                                if let Some(v) = verdict.get_mut(i) {
                                    *v = None;
                                }
                            }
                        }
                        _ => {
                            if let Some(b) = bad.get_mut(pos) {
                                *b = Some(FaultReason::Framing);
                            }
                        }
                    },
                    Err(reason) => {
                        if let Some(b) = bad.get_mut(pos) {
                            *b = Some(reason);
                        }
                    }
                }
            }
            // Attribute bad frames by position among the frames that arrived.
            let mut this: Verdicts<N> = [None; N];
            for (pos, b) in bad.iter().enumerate().take(received) {
                if let Some(reason) = b {
                    let addr = g.nearest(received - 1 - pos);
                    if let Some(slot) = self.index_of(addr).and_then(|i| this.get_mut(i)) {
                        *slot = Some(*reason);
                    }
                }
            }
            for a in g.lo..=g.hi {
                if let Some(i) = self.index_of(a) {
                    if !done.contains(i) {
                        if let Some(v) = verdict.get_mut(i) {
                            *v = Some(
                                this.get(i)
                                    .copied()
                                    .flatten()
                                    .unwrap_or(FaultReason::NoResponse),
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads `count` registers from every monitor with retries (the whole command is
    /// re-issued while a device failed). Returns the per-device verdicts.
    async fn read_chain<const L: usize>(
        &mut self,
        register: u16,
        count: usize,
        frames: &mut [[u8; L]; N],
    ) -> Result<(Verdicts<N>, ChainReport), Error<IO::Error>> {
        if count == 0 || count > frame::MAX_READ || count > L {
            return Err(Error::InvalidArgument("read length"));
        }
        let mut verdict: Verdicts<N> = [Some(FaultReason::NoResponse); N];
        let mut done = DeviceSet::EMPTY;
        let all = if N >= 64 { u64::MAX } else { (1u64 << N) - 1 };
        let mut attempt = 0u8;
        loop {
            self.read_once(register, count, frames, &mut verdict, &mut done)
                .await?;
            if done.0 & all == all || attempt >= self.retries {
                break;
            }
            attempt += 1;
        }
        let mut report = ChainReport::OK;
        for (i, v) in verdict.iter().enumerate() {
            if let Some(reason) = v {
                report.record(DeviceFault {
                    device: i as u8,
                    reason: *reason,
                });
            }
        }
        Ok((verdict, report))
    }

    /// Single-device read of `count` registers from address `addr`; `Ok(Err(reason))` when the
    /// device's frame failed or did not come.
    async fn read_single(
        &mut self,
        addr: u8,
        register: u16,
        buf: &mut [u8; MAX_RESPONSE],
        count: usize,
    ) -> Result<Result<(), FaultReason>, Error<IO::Error>> {
        let flen = frame::response_len(count);
        let mut last = FaultReason::NoResponse;
        for _ in 0..=self.retries {
            self.io
                .drain(timing::DRAIN_QUIET_US)
                .await
                .map_err(Error::Bus)?;
            let cmd = frame::read(Request::SingleRead, addr, register, count).map_err(frame_err)?;
            self.io.expect(flen);
            self.send(&cmd).await?;
            let rx = buf.get_mut(..flen).unwrap_or(&mut []);
            rx.fill(0xFF);
            let n = self
                .io
                .read_within(rx, self.deadline(usize::from(addr).max(1), flen))
                .await
                .map_err(Error::Bus)?;
            if n == 0 {
                last = FaultReason::NoResponse;
                continue;
            }
            if n < flen {
                last = FaultReason::Framing;
                continue;
            }
            match frame::parse_response(rx, register, count) {
                Ok(r) if r.device == addr => return Ok(Ok(())),
                Ok(_) => last = FaultReason::Framing,
                Err(e) => last = e,
            }
        }
        Ok(Err(last))
    }

    /// Writes `data` to every monitor and reads it back; a difference is [`Error::Verify`]
    /// naming device, register and byte; a device that fails the read-back is
    /// [`Error::Integrity`].
    async fn write_verified(
        &mut self,
        register: u16,
        name: &'static str,
        data: &[u8],
    ) -> Result<(), Error<IO::Error>> {
        self.write_all(register, data).await?;
        let mut frames = [[0u8; frame::MAX_WRITE]; N];
        let (verdict, report) = self.read_chain(register, data.len(), &mut frames).await?;
        report.into_result()?;
        for (i, f) in frames.iter().enumerate() {
            if verdict.get(i).copied().flatten().is_some() {
                continue;
            }
            for (off, (&want, &got)) in data.iter().zip(f.iter()).enumerate() {
                if want != got {
                    return Err(Error::Verify(VerifyMismatch {
                        device: i as u8,
                        register: name,
                        offset: off as u8,
                        expected: want,
                        actual: got,
                    }));
                }
            }
        }
        Ok(())
    }
}
