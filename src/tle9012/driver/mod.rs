//! The TLE9012 chain driver: the type, its constructors, the transport and the public method
//! list; the capabilities live in the sibling files.

mod chain;
mod config;
mod measure;
mod monitor;
mod registers;
mod watchdog;

pub use measure::{BLOCK_CONVERSION_US, CELL_CONVERSION_US, POLL_STEP_US, POLL_STEPS};

use crate::error::{ConfigError, DeviceFault, Error, FaultReason, VerifyMismatch};
use crate::io::{SerialError, SerialIo, twins};
use crate::monitor::{ChainReport, DeviceSet};
use crate::units::{MicroVolts, Microseconds};

use super::convert;
use super::frame::{
    self, BROADCAST_ID, MAX_NODES, READ_REPLY_LEN, UNASSIGNED_ID, WireOrder, parse_read_reply,
    parse_write_reply, read_request, write_request,
};
use super::register::{ALL_INPUTS, NodeConfig, Register, TempConf, Watchdog};
use crate::units::MilliCelsius;

/// Time the driver waits after the wake pattern before it talks to the chain (µs):
/// maekdev/pyTLE9012DQU `wake` waits 8 ms. The user manual's wake-up timing per node was not
/// verified from public sources.
pub const WAKE_US: u32 = 8_000;
/// The wake pattern: alternating bits (MaxMax-embedded/TLE9012_Arduino_Lib sends `AA AA`;
/// the bit reversal of 0xAA is 0x55, which maekdev/pyTLE9012DQU sends, so either UART bit
/// order sends the same waveform).
pub const WAKE_PATTERN: [u8; 2] = [0xAA, 0xAA];

/// Driver settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Bit order of the host UART ([`WireOrder::LsbFirstUart`] by default).
    pub wire_order: WireOrder,
    /// TX and RX are joined (the half-duplex wiring of the TLE9015 host side,
    /// MaxMax-embedded/TLE9012_Arduino_Lib README): the host first hears its own request, which
    /// the driver checks byte for byte before it reads the reply. Default `true`.
    pub echo: bool,
    /// How often a failed request is re-issued in full (default 2).
    pub retries: u8,
    /// UART baud rate, for the reply deadlines (default 1 Mbaud, the slowest rate the open
    /// implementations use; 2 Mbaud is the official rate).
    pub baud: u32,
    /// Time allowed for the first reply byte beyond the bytes' own wire time (µs, default
    /// 1000).
    pub reply_timeout_us: u32,
    /// Accept write replies whose status bits are not 0 (default `false`: such a write is
    /// reported failed, see [`Tle9012`]).
    pub accept_write_status: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            wire_order: WireOrder::LsbFirstUart,
            echo: true,
            retries: 2,
            baud: 1_000_000,
            reply_timeout_us: 1_000,
            accept_write_status: false,
        }
    }
}

/// Cell OV/UV thresholds and open-load limits as the chip stores them, built from the wanted
/// values: the fields hold what was achieved after quantisation.
///
/// ```
/// use bms_afe::tle9012::Thresholds;
/// use bms_afe::units::MicroVolts;
/// let t = Thresholds::new(MicroVolts(2_500_000), MicroVolts(4_200_000)).unwrap();
/// // 5 V / 1024 per step: 4.2 V is code 860 = 4.199 218 V.
/// assert_eq!(t.overvoltage, MicroVolts(4_199_218));
/// assert_eq!(t.undervoltage, MicroVolts(2_500_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Thresholds {
    /// Achieved undervoltage threshold.
    pub undervoltage: MicroVolts,
    /// Achieved overvoltage threshold.
    pub overvoltage: MicroVolts,
    /// Open-load maximum voltage-drop code (OL_OV_THR \[15:10\], 6 bit; "19.5 mV steps" per
    /// MaxMax-embedded/TLE9012_Arduino_Lib, not verified). 0 with `open_load_min` 0 disables
    /// open-load detection (guilettmann/bms_tle9012). Default 0.
    pub open_load_max: u8,
    /// Open-load minimum voltage-drop code (OL_UV_THR \[15:10\]). Default 0.
    pub open_load_min: u8,
}

impl Thresholds {
    /// The nearest codes to `undervoltage` and `overvoltage` (both 0..5 V, UV below OV).
    pub fn new(undervoltage: MicroVolts, overvoltage: MicroVolts) -> Result<Self, ConfigError> {
        let range = |field, v: MicroVolts| {
            convert::threshold_code(v).ok_or(ConfigError::OutOfRange {
                field,
                value: i64::from(v.0),
                min: 0,
                max: i64::from(convert::threshold_uv(convert::THRESHOLD_MAX_CODE).0),
            })
        };
        let uv = range("undervoltage", undervoltage)?;
        let ov = range("overvoltage", overvoltage)?;
        if uv >= ov {
            return Err(ConfigError::Conflict(
                "undervoltage threshold not below overvoltage",
            ));
        }
        Ok(Self {
            undervoltage: convert::threshold_uv(uv),
            overvoltage: convert::threshold_uv(ov),
            open_load_max: 0,
            open_load_min: 0,
        })
    }

    /// Sets the open-load limits (6-bit codes).
    pub fn with_open_load(mut self, min: u8, max: u8) -> Result<Self, ConfigError> {
        for (field, v) in [("open_load_min", min), ("open_load_max", max)] {
            if v > 0x3F {
                return Err(ConfigError::OutOfRange {
                    field,
                    value: i64::from(v),
                    min: 0,
                    max: 0x3F,
                });
            }
        }
        self.open_load_min = min;
        self.open_load_max = max;
        Ok(self)
    }

    /// The OL_OV_THR register value.
    pub fn ol_ov_thr(&self) -> u16 {
        (u16::from(self.open_load_max) << 10)
            | convert::threshold_code(self.overvoltage).unwrap_or(convert::THRESHOLD_MAX_CODE)
    }

    /// The OL_UV_THR register value.
    pub fn ol_uv_thr(&self) -> u16 {
        (u16::from(self.open_load_min) << 10)
            | convert::threshold_code(self.undervoltage).unwrap_or(0)
    }
}

/// What [`Tle9012::check_chain`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChainHealth {
    /// Devices that answered at their node ID with the expected CONFIG.
    pub answered: DeviceSet,
    /// A device answered at node ID 0: it lost its ID (watchdog timeout or reset) and blocks
    /// the devices above it until it is enumerated again.
    pub unaddressed: bool,
}

impl ChainHealth {
    /// `true` if every one of `devices` answered and none is unaddressed.
    pub fn is_complete(&self, devices: usize) -> bool {
        !self.unaddressed && self.answered.len() == devices
    }
}

/// A TLE9012 chain of `N` devices (1..=62) on an isoUART link, device 0 nearest the host.
///
/// # Chain model
///
/// * **Node IDs.** After power-up or a watchdog timeout every device has node ID 0 and does
///   not forward frames; writing CONFIG through ID 0 gives the first such device its ID
///   (MaxMax-embedded/TLE9012_Arduino_Lib `setNodeID`). The driver gives device `d` the ID
///   `d + 1`, sets the final-node bit (FN) on device `N − 1` (the FN device closes broadcast
///   commands with the reply frame) and reads every CONFIG back. [`Tle9012::enumerate`] skips
///   devices that still answer at their ID, so a chain where some devices lost their ID is
///   repaired in place; [`Tle9012::detect_chain_length`] counts a fresh chain.
/// * **Replies.** A read reply names its node and register; both are checked with the CRC.
///   Broadcast reads return one reply per node, matched to devices by node ID (not by
///   position), so a missing or corrupted frame fails only its device. A frame that fails its
///   CRC cannot be attributed: every device without an intact frame gets that CRC fault.
/// * **Writes.** A write is confirmed by its one-byte reply (CRC-3). A broadcast write is
///   confirmed by the FN device's reply; when it does not come, the driver writes each device
///   on its own, so a bad device fails alone.
/// * **Watchdog.** Each device sleeps and forgets its ID when WDOG_CNT reaches 0 (nominally
///   ≈ 2 s after a reload). [`Tle9012::keep_alive`] reloads every device and reads the counters
///   back; call it from your scheduler at least every [`Tle9012::keep_alive_deadline`]. A
///   device that fell asleep shows as `NoResponse` there (and in every read);
///   [`Tle9012::check_chain`] tells a lost ID from a dead link, and
///   [`CellMonitor::wake`](crate::CellMonitor::wake) (or [`Tle9012::enumerate`] after a wake)
///   recovers and re-applies the configuration to the re-enumerated devices. Their results
///   read `NotConverted` until they convert again.
/// * **Echo.** With TX and RX joined the host hears its own request first; the driver
///   compares it byte for byte ([`Config::echo`]). A bad echo fails the request for every
///   device it addressed (with [`FaultReason::Framing`]) and is retried like any failure.
///
/// # Integrity
///
/// The read-reply CRC-8 detects every 1- and 2-bit error and every burst of up to 8 bits in the
/// 5-byte reply (Hamming distance 3; [`crate::crc::crc8_sae_j1850`]); the write-reply CRC-3
/// detects single-bit errors and bursts of up to 3 bits only, so configuration writes are read
/// back ([`Error::Verify`] names device, register and byte) and a conversion start that a
/// device did not confirm fails that device's cells until a confirmed conversion. "Not
/// converted" is tracked by the driver, not guessed from a register value: results read
/// [`Reading::NotConverted`](crate::monitor::Reading::NotConverted) until the driver has seen
/// a conversion it started complete (PCVM_START clear) since the device got its ID.
///
/// Wire cost of a full cell read: one broadcast read of MEAS_CTRL and one per PCVM register,
/// each `4 + 5·N` bytes (plus the 4-byte echo): 1092 bytes for 16 devices against 384 bytes of
/// cell data.
///
/// # Not verified from public sources, and what the driver does
///
/// * The meaning of the 5 write-reply status bits: 0 is taken as success, anything else
///   fails the write as `Framing` unless [`Config::accept_write_status`].
/// * The watchdog tick: the deadline is half the nominal 2 s.
/// * The conversion time: the hint is 5 ms (MaxMax-embedded/TLE9012_Arduino_Lib), then
///   PCVM_START is polled up to 15 ms more (pyTLE9012DQU waits 20 ms). A device still converting
///   then reads `NotConverted`.
/// * The maximum chain length: IDs allow 62.
/// * Which inputs a partial population uses: the open drivers disagree (top or bottom inputs),
///   so the populated inputs are the user's mask ([`Tle9012::with_inputs`]); cell `i` of a
///   device is always its `i`-th populated input counted from the bottom.
/// * The internal-temperature formula (single source); NTC inputs are given as raw
///   [`ExtTemp`](super::register::ExtTemp) codes only, and the internal OT limit is written
///   in INT_TEMP codes.
/// * That an unaddressed device does not forward frames and that only the FN device answers
///   a broadcast write (MaxMax-embedded/TLE9012_Arduino_Lib comments): enumeration relies on
///   the first, and a missing FN reply falls back to one write per device.
/// * The low byte of MEAS_CTRL (0x21, pyTLE9012DQU's default) and whether BVM_START clears
///   itself: the block voltage is read after a fixed 5 ms, not polled.
/// * Wake-up timing: one 8 ms wait for the whole chain.
/// * The order of broadcast replies: not relied on (matched by node ID). MULTI_READ is not
///   used, because the order and headers of its replies are not in the public sources.
///
/// ```
/// # #[cfg(feature = "sim")] {
/// use bms_afe::io::{Blocking, Serial};
/// use bms_afe::sim::{Sim, tle9012::Tle9012Chain};
/// use bms_afe::tle9012::Tle9012;
/// use bms_afe::CellMonitor;
/// use bms_afe::monitor::{ConversionMode, Reading};
///
/// let sim = Sim::new(Tle9012Chain::<2>::new());
/// let mut afe = Tle9012::<2, _>::new(Blocking::new(sim.serial(), sim.delay()));
/// afe.wake().unwrap(); // wake, enumerate, configure, reload the watchdogs
/// let mut cells = [Reading::NotConverted; 24];
/// let report = afe.measure_cells(ConversionMode::Normal, &mut cells).unwrap();
/// assert!(report.is_ok());
/// assert!(afe.keep_alive().unwrap().is_ok());
/// # }
/// ```
#[derive(Debug)]
pub struct Tle9012<const N: usize, IO> {
    pub(crate) core: Core<N, IO>,
}

/// Per-device outcome of one register read or write.
pub(crate) type PerDevice<const N: usize, T> = [Result<T, FaultReason>; N];

/// One broadcast read: every device's value, the devices without an intact reply, and why.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Replies<const N: usize> {
    pub(crate) values: [u16; N],
    /// Devices without exactly one intact reply.
    pub(crate) failed: u64,
    /// Failed devices that replied more than once (a forged or repeated ID).
    pub(crate) dup: u64,
    /// The reason of the other failed devices: the first bad frame's, else no response.
    pub(crate) reason: FaultReason,
}

impl<const N: usize> Replies<N> {
    /// Device `d`'s outcome.
    #[inline]
    pub(crate) fn get(&self, d: usize) -> Result<u16, FaultReason> {
        let bit = 1u64 << (d & 63);
        if self.failed & bit == 0 {
            Ok(self.values.get(d).copied().unwrap_or(0))
        } else if self.dup & bit != 0 {
            Err(FaultReason::Framing)
        } else {
            Err(self.reason)
        }
    }
}

#[derive(Debug)]
pub(crate) struct Core<const N: usize, IO> {
    pub(crate) io: IO,
    pub(crate) cfg: Config,
    pub(crate) inputs: [u16; N],
    pub(crate) cells: usize,
    pub(crate) thresholds: Option<Thresholds>,
    /// Devices with a conversion started and not yet seen complete.
    pub(crate) started: DeviceSet,
    /// Devices whose result registers hold a conversion the driver saw complete since they got
    /// their ID.
    pub(crate) converted: DeviceSet,
    /// Why the last conversion start failed on a device (its results are stale until a start
    /// it confirms).
    pub(crate) start_fault: [Option<FaultReason>; N],
    pub(crate) temp_conf: Option<TempConf>,
    pub(crate) int_ot_code: Option<u16>,
}

enum Exchange {
    /// The echo was missing or differed from the request.
    EchoBad,
    /// This many reply bytes arrived (converted to logical order).
    Reply(usize),
}

impl<const N: usize, IO> Tle9012<N, IO> {
    const VALID_N: () = assert!(
        N >= 1 && N <= MAX_NODES,
        "a TLE9012 chain has 1..=62 devices"
    );

    /// A driver with the default [`Config`] and all 12 inputs populated on every device.
    pub fn new(io: IO) -> Self {
        Self::with_config(io, Config::default())
    }

    /// A driver with `config`.
    pub fn with_config(io: IO, config: Config) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::VALID_N;
        Self {
            core: Core {
                io,
                cfg: config,
                inputs: [ALL_INPUTS; N],
                cells: 12,
                thresholds: None,
                started: DeviceSet::EMPTY,
                converted: DeviceSet::EMPTY,
                start_fault: [None; N],
                temp_conf: None,
                int_ot_code: None,
            },
        }
    }

    /// Partial populations: `inputs[d]` bit `k` set = input `k` (PCVM_k, k = 0 at the bottom)
    /// of device `d` carries a cell. Every device needs the same number of cells (the chain's
    /// `cells_per_device`), at least one. Takes effect at the next enumeration (PART_CONFIG is
    /// written there).
    pub fn with_inputs(mut self, inputs: [u16; N]) -> Result<Self, ConfigError> {
        let cells = inputs[0].count_ones() as usize;
        for m in inputs {
            if m & !ALL_INPUTS != 0 || m == 0 {
                return Err(ConfigError::OutOfRange {
                    field: "inputs",
                    value: i64::from(m),
                    min: 1,
                    max: i64::from(ALL_INPUTS),
                });
            }
            if m.count_ones() as usize != cells {
                return Err(ConfigError::Conflict(
                    "every device needs the same number of cells",
                ));
            }
        }
        self.core.inputs = inputs;
        self.core.cells = cells;
        Ok(self)
    }

    /// Thresholds written to every device at enumeration (and by
    /// [`Tle9012::write_thresholds`]).
    pub fn set_thresholds(&mut self, thresholds: Thresholds) {
        self.core.thresholds = Some(thresholds);
    }

    /// The external-temperature configuration (TEMP_CONF) written to every device at
    /// enumeration and by [`Tle9012::write_configuration`].
    pub fn set_ntc_config(&mut self, conf: TempConf) -> Result<(), ConfigError> {
        if conf.encode().is_none() {
            return Err(ConfigError::OutOfRange {
                field: "TEMP_CONF",
                value: i64::from(conf.sensors),
                min: 0,
                max: 5,
            });
        }
        self.core.temp_conf = Some(conf);
        Ok(())
    }

    /// The internal overtemperature limit (INT_OT_WARN_CONF, in INT_TEMP codes), written to
    /// every device at enumeration and by [`Tle9012::write_configuration`]. Returns the limit
    /// achieved after quantisation (0.6624 °C steps; the formula is single-source, see the
    /// type docs).
    pub fn set_internal_ot_limit(
        &mut self,
        limit: MilliCelsius,
    ) -> Result<MilliCelsius, ConfigError> {
        let code = convert::internal_temperature_code(limit).ok_or(ConfigError::OutOfRange {
            field: "internal overtemperature",
            value: i64::from(limit.0),
            min: i64::from(convert::internal_temperature(0x3FF).0),
            max: i64::from(convert::internal_temperature(0).0),
        })?;
        self.core.int_ot_code = Some(code);
        Ok(convert::internal_temperature(code))
    }

    /// The configured thresholds.
    pub fn thresholds(&self) -> Option<Thresholds> {
        self.core.thresholds
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.core.cfg
    }

    /// The populated inputs of every device.
    pub fn inputs(&self) -> &[u16; N] {
        &self.core.inputs
    }

    /// The longest interval allowed between two [`Tle9012::keep_alive`] calls: half the
    /// nominal watchdog timeout ([`Watchdog::NOMINAL_TIMEOUT_US`]), as margin for the
    /// oscillator tolerance the public sources do not give.
    pub const fn keep_alive_deadline() -> Microseconds {
        Microseconds(Watchdog::NOMINAL_TIMEOUT_US / 2)
    }

    /// Gives the transport back.
    pub fn release(self) -> IO {
        self.core.io
    }
}

impl<const N: usize, IO: SerialIo> Core<N, IO> {
    fn timeout_us(&self, bytes: usize) -> u32 {
        let baud = self.cfg.baud.max(1);
        let wire = (bytes as u64 * 10 * 1_000_000).div_ceil(u64::from(baud));
        self.cfg
            .reply_timeout_us
            .saturating_add(u32::try_from(wire).unwrap_or(u32::MAX))
    }

    /// Sends `request` (logical order) and reads the echo and `reply.len()` reply bytes,
    /// bounded.
    async fn exchange(
        &mut self,
        request: &[u8],
        reply: &mut [u8],
    ) -> Result<Exchange, Error<IO::Error>> {
        let r = self.exchange_wire(request, reply).await?;
        if let Exchange::Reply(n) = r {
            self.cfg.wire_order.apply(&mut reply[..n]);
        }
        Ok(r)
    }

    /// [`Core::exchange`] leaving the reply in wire order.
    async fn exchange_wire(
        &mut self,
        request: &[u8],
        reply: &mut [u8],
    ) -> Result<Exchange, Error<IO::Error>> {
        let order = self.cfg.wire_order;
        let mut wire = [0u8; frame::WRITE_REQUEST_LEN];
        let len = request.len().min(wire.len());
        wire[..len].copy_from_slice(&request[..len]);
        order.apply(&mut wire[..len]);
        self.io.drain(0).await.map_err(Error::Bus)?;
        self.io.write(&wire[..len]).await.map_err(Error::Bus)?;
        if self.cfg.echo {
            let mut echo = [0u8; frame::WRITE_REQUEST_LEN];
            let t = self.timeout_us(len);
            let got = self
                .io
                .read_within(&mut echo[..len], t)
                .await
                .map_err(Error::Bus)?;
            if got != len || echo[..len] != wire[..len] {
                return Ok(Exchange::EchoBad);
            }
        }
        if reply.is_empty() {
            return Ok(Exchange::Reply(0));
        }
        let t = self.timeout_us(reply.len());
        let n = self
            .io
            .read_within(reply, t)
            .await
            .map_err(Error::Bus)?
            .min(reply.len());
        Ok(Exchange::Reply(n))
    }

    /// Reads `reg` of node `node` (tries `attempts` times).
    async fn read_node_tries(
        &mut self,
        node: u8,
        reg: Register,
        attempts: u8,
    ) -> Result<Result<u16, FaultReason>, Error<IO::Error>> {
        let mut last = FaultReason::NoResponse;
        for _ in 0..attempts.max(1) {
            let mut buf = [0u8; READ_REPLY_LEN];
            match self
                .exchange(&read_request(node, reg.address), &mut buf)
                .await?
            {
                Exchange::EchoBad => last = FaultReason::Framing,
                Exchange::Reply(n) if n < READ_REPLY_LEN => last = FaultReason::NoResponse,
                Exchange::Reply(_) => match parse_read_reply(&buf) {
                    Ok(r) if r.node == node && r.register == reg.address => return Ok(Ok(r.value)),
                    Ok(_) => last = FaultReason::Framing,
                    Err(e) => last = e,
                },
            }
        }
        Ok(Err(last))
    }

    pub(crate) async fn read_node(
        &mut self,
        node: u8,
        reg: Register,
    ) -> Result<Result<u16, FaultReason>, Error<IO::Error>> {
        let attempts = self.cfg.retries.saturating_add(1);
        self.read_node_tries(node, reg, attempts).await
    }

    /// Writes `value` to `reg` of node `node` (or broadcast), confirmed by the write reply.
    async fn write_node_tries(
        &mut self,
        node: u8,
        reg: Register,
        value: u16,
        attempts: u8,
    ) -> Result<Result<(), FaultReason>, Error<IO::Error>> {
        let mut last = FaultReason::NoResponse;
        for _ in 0..attempts.max(1) {
            let mut buf = [0u8; 1];
            match self
                .exchange(&write_request(node, reg.address, value), &mut buf)
                .await?
            {
                Exchange::EchoBad => last = FaultReason::Framing,
                Exchange::Reply(0) => last = FaultReason::NoResponse,
                Exchange::Reply(_) => match parse_write_reply(buf[0]) {
                    Ok(r) if r.status == 0 || self.cfg.accept_write_status => return Ok(Ok(())),
                    Ok(_) => last = FaultReason::Framing,
                    Err(e) => last = e,
                },
            }
        }
        Ok(Err(last))
    }

    pub(crate) async fn write_node(
        &mut self,
        node: u8,
        reg: Register,
        value: u16,
    ) -> Result<Result<(), FaultReason>, Error<IO::Error>> {
        let attempts = self.cfg.retries.saturating_add(1);
        self.write_node_tries(node, reg, value, attempts).await
    }

    /// Broadcast read of `reg`: one intact reply per device, matched by node ID; retried in
    /// full while any device is missing.
    pub(crate) async fn read_all(
        &mut self,
        reg: Register,
    ) -> Result<PerDevice<N, u16>, Error<IO::Error>> {
        let r = self.read_all_raw(reg).await?;
        Ok(core::array::from_fn(|d| r.get(d)))
    }

    /// [`Core::read_all`] as values and a failure mask (the cell-read hot path).
    pub(crate) async fn read_all_raw(
        &mut self,
        reg: Register,
    ) -> Result<Replies<N>, Error<IO::Error>> {
        let mut out = Replies {
            values: [0; N],
            failed: if N >= 64 { u64::MAX } else { (1u64 << N) - 1 },
            dup: 0,
            reason: FaultReason::NoResponse,
        };
        let order = self.cfg.wire_order;
        let request = read_request(BROADCAST_ID, reg.address);
        for _ in 0..=self.cfg.retries {
            if out.failed == 0 {
                break;
            }
            let mut frames = [[0u8; READ_REPLY_LEN]; N];
            let n = match self
                .exchange_wire(&request, frames.as_flattened_mut())
                .await?
            {
                Exchange::EchoBad => {
                    out.reason = FaultReason::Framing;
                    out.dup = 0;
                    continue;
                }
                Exchange::Reply(n) => n / READ_REPLY_LEN,
            };
            let mut bad: Option<FaultReason> = None;
            let mut seen: u64 = 0;
            let mut dup: u64 = 0;
            for f in frames.iter().take(n) {
                match frame::parse_read_reply_wire(f, order) {
                    Ok(r) if r.register == reg.address => {
                        let d = usize::from(r.node).wrapping_sub(1);
                        let bit = 1u64 << (d & 63);
                        match out.values.get_mut(d) {
                            Some(v) => {
                                dup |= seen & bit;
                                seen |= bit;
                                // Keep a value an earlier attempt already accepted.
                                if out.failed & bit != 0 {
                                    *v = r.value;
                                }
                            }
                            None => {
                                bad.get_or_insert(FaultReason::Framing);
                            }
                        }
                    }
                    Ok(_) => {
                        bad.get_or_insert(FaultReason::Framing);
                    }
                    Err(e) => {
                        bad.get_or_insert(e);
                    }
                }
            }
            // Devices still pending that came exactly once are accepted.
            let accepted = out.failed & seen & !dup;
            out.failed &= !accepted;
            out.dup = dup & out.failed;
            out.reason = bad.unwrap_or(FaultReason::NoResponse);
        }
        Ok(out)
    }

    /// Writes `value` to `reg` on every device: one broadcast confirmed by the FN device, or,
    /// if that reply does not come, one write per device.
    pub(crate) async fn write_all(
        &mut self,
        reg: Register,
        value: u16,
    ) -> Result<PerDevice<N, ()>, Error<IO::Error>> {
        let attempts = self.cfg.retries.saturating_add(1);
        if self
            .write_node_tries(BROADCAST_ID, reg, value, attempts)
            .await?
            .is_ok()
        {
            return Ok([Ok(()); N]);
        }
        let mut out: PerDevice<N, ()> = [Ok(()); N];
        for (d, o) in out.iter_mut().enumerate() {
            *o = self.write_node(node_id(d), reg, value).await?;
        }
        Ok(out)
    }

    /// Writes `value` to `reg` of device `d` and reads it back (bits in `mask`).
    pub(crate) async fn write_verified(
        &mut self,
        d: usize,
        reg: Register,
        value: u16,
        mask: u16,
    ) -> Result<(), Error<IO::Error>> {
        let node = node_id(d);
        self.write_node(node, reg, value)
            .await?
            .map_err(|reason| fault(d, reason))?;
        let back = self
            .read_node(node, reg)
            .await?
            .map_err(|reason| fault(d, reason))?;
        check_back(d, reg, value & mask, back & mask)
    }
}

/// The node ID of device `d`.
pub(crate) const fn node_id(d: usize) -> u8 {
    (d as u8).wrapping_add(1) & 0x3F
}

pub(crate) fn fault<E>(d: usize, reason: FaultReason) -> Error<E> {
    Error::Integrity(DeviceFault {
        device: d as u8,
        reason,
    })
}

fn check_back<E>(d: usize, reg: Register, want: u16, got: u16) -> Result<(), Error<E>> {
    if want == got {
        return Ok(());
    }
    let [wh, wl] = want.to_be_bytes();
    let [gh, gl] = got.to_be_bytes();
    let (offset, expected, actual) = if wh != gh { (0, wh, gh) } else { (1, wl, gl) };
    Err(Error::Verify(VerifyMismatch {
        device: d as u8,
        register: reg.name,
        offset,
        expected,
        actual,
    }))
}

twins! {
    serial impl[const N: usize] Tle9012<N> => core {
        /// Gives every device that does not answer at its ID (device `d` → ID `d + 1`) its ID,
        /// FN on the last, reads each CONFIG back and configures the devices it enumerated
        /// (PART_CONFIG, thresholds; verified). Returns those devices. The chain must be awake
        /// ([`Tle9012::wake_chain`]).
        pub fn enumerate(&mut self) -> Result<DeviceSet, Error<SerialError<B>>>;
        /// Sends the wake pattern and waits [`WAKE_US`].
        pub fn wake_chain(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// Reloads every device's watchdog (broadcast) and reads the counters back: a device
        /// that does not answer, or whose counter was not reloaded, is in the report. Call at
        /// least every [`Tle9012::keep_alive_deadline`].
        pub fn keep_alive(&mut self) -> Result<ChainReport, Error<SerialError<B>>>;
        /// Which devices answer at their ID, and whether one answers at ID 0 (lost its ID).
        pub fn check_chain(&mut self) -> Result<ChainHealth, Error<SerialError<B>>>;
        /// Resets and wakes the whole chain, then counts it by handing out IDs until no
        /// unaddressed device answers; the last one gets FN. Returns the count; if it equals
        /// `N` the chain is also configured and ready.
        pub fn detect_chain_length(&mut self) -> Result<usize, Error<SerialError<B>>>;
        /// Reads one register of device `device`.
        pub fn read_register(&mut self, device: usize, reg: Register) -> Result<u16, Error<SerialError<B>>>;
        /// Writes one register of device `device` (confirmed by its write reply, not read back).
        pub fn write_register(&mut self, device: usize, reg: Register, value: u16) -> Result<(), Error<SerialError<B>>>;
        /// Writes the configured [`Thresholds`] to every device, read back.
        pub fn write_thresholds(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// Writes the whole held configuration (PART_CONFIG, [`Thresholds`], TEMP_CONF,
        /// internal OT limit) to every device, each register read back.
        pub fn write_configuration(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// Puts the chain to sleep (broadcast OP_MODE sleep). The devices lose their IDs.
        pub fn sleep(&mut self) -> Result<(), Error<SerialError<B>>>;
    }
}
