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

/// Result of [`Bq79616::recover_ring`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RingStatus {
    /// `true` if the forward path reaches every device (then nothing was changed).
    pub intact: bool,
    /// Device index after which the forward path is broken: the last device still answering
    /// forward (`None` if intact, or if not even device 0 answers forward).
    pub break_after: Option<u8>,
    /// Devices now read in the forward direction (index 0 up).
    pub forward: u8,
    /// Devices now read in the reverse direction (the top ones).
    pub reverse: u8,
    /// Devices reached from neither side.
    pub unreachable: DeviceSet,
}

/// Balancing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BalanceConfig {
    /// Timer code written to CB_CELLn_CTRL of every cell to balance (see
    /// [`balance_timer`](super::register::balance_timer)).
    pub timer_code: u8,
    /// BAL_CTRL2\[FLTSTOP_EN\]: stop on any unmasked fault.
    pub stop_on_fault: bool,
    /// BAL_CTRL2\[OTCB_EN\]: pause on thermistor overtemperature.
    pub thermal_pause: bool,
    /// BAL_CTRL2\[AUTO_BAL\]: the device alternates odd and even cells itself, switching every
    /// `duty_code` period; adjacent cells may then be selected together. Off: the driver
    /// refuses adjacent cells.
    pub odd_even: bool,
    /// BAL_CTRL1\[DUTY2:0\] (see [`DUTY_TIMES_S`](super::register::DUTY_TIMES_S)).
    pub duty_code: u8,
}

impl BalanceConfig {
    /// Balancing for at most `seconds` (rounded **down** to a timer step; at least 10 s),
    /// stopping on faults, with thermal pause. Returns the config and the achieved seconds.
    pub fn for_seconds(seconds: u32) -> Result<(Self, u32), ConfigError> {
        let (code, achieved) = super::register::balance_timer(seconds);
        if code == 0 {
            return Err(ConfigError::OutOfRange {
                field: "balancing time (s)",
                value: i64::from(seconds),
                min: 10,
                max: 36_000,
            });
        }
        Ok((
            Self {
                timer_code: code,
                ..Self::default()
            },
            achieved,
        ))
    }

    /// Automatic odd/even balancing switching every `duty_seconds` (rounded down to a DUTY
    /// step, at least 5 s). Returns the config and the achieved duty time.
    pub fn with_odd_even(mut self, duty_seconds: u32) -> Result<(Self, u32), ConfigError> {
        let (code, achieved) =
            super::register::duty(duty_seconds).ok_or(ConfigError::OutOfRange {
                field: "odd/even duty time (s)",
                value: i64::from(duty_seconds),
                min: 5,
                max: 1_800,
            })?;
        self.odd_even = true;
        self.duty_code = code;
        Ok((self, achieved))
    }
}

impl Default for BalanceConfig {
    /// 300 s, stop on fault, thermal pause.
    fn default() -> Self {
        Self {
            timer_code: 0x04,
            stop_on_fault: true,
            thermal_pause: true,
            odd_even: false,
            duty_code: 0,
        }
    }
}

/// Per-device fault registers as read by `read_fault_registers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FaultRegisters {
    /// FAULT_SUMMARY.
    pub summary: u8,
    /// FAULT_COMM1..3.
    pub comm: [u8; 3],
    /// FAULT_OTP.
    pub otp: u8,
    /// FAULT_SYS.
    pub sys: u8,
    /// FAULT_PROT1/2.
    pub prot: [u8; 2],
    /// Overvoltage flags, bit k = cell k + 1 (FAULT_OV1 cells 16…9, FAULT_OV2 cells 8…1).
    pub ov: u16,
    /// Undervoltage flags, bit k = cell k + 1.
    pub uv: u16,
    /// Overtemperature flags, bit k = GPIO k + 1.
    pub ot: u8,
    /// Undertemperature flags, bit k = GPIO k + 1.
    pub ut: u8,
}

/// The registers 0x052D (FAULT_SUMMARY) … 0x0541 (FAULT_UT) read in one frame.
const FAULT_BLOCK: usize = (reg::FAULT_UT - reg::FAULT_SUMMARY + 1) as usize;

impl FaultRegisters {
    /// Decodes the 21-byte block starting at FAULT_SUMMARY (0x052D).
    pub fn decode(block: &[u8]) -> Option<Self> {
        let at = |r: u16| block.get(usize::from(r - reg::FAULT_SUMMARY)).copied();
        Some(Self {
            summary: at(reg::FAULT_SUMMARY)?,
            comm: [
                at(reg::FAULT_COMM1)?,
                at(reg::FAULT_COMM1 + 1)?,
                at(reg::FAULT_COMM1 + 2)?,
            ],
            otp: at(reg::FAULT_OTP)?,
            sys: at(reg::FAULT_SYS)?,
            prot: [at(reg::FAULT_PROT1)?, at(reg::FAULT_PROT1 + 1)?],
            ov: u16::from_be_bytes([at(reg::FAULT_OV1)?, at(reg::FAULT_OV1 + 1)?]),
            uv: u16::from_be_bytes([at(reg::FAULT_UV1)?, at(reg::FAULT_UV1 + 1)?]),
            ot: at(reg::FAULT_OT)?,
            ut: at(reg::FAULT_UT)?,
        })
    }

    /// FAULT_SUMMARY as flags.
    pub fn summary_flags(&self) -> FaultSummary {
        FaultSummary::from_bits_retain(self.summary)
    }

    /// FAULT_COMM1 (UART) and FAULT_COMM2 (daisy chain COMH/COML) as flags: where on the
    /// path this device saw communication faults.
    pub fn comm_flags(&self) -> (FaultComm1, FaultComm2) {
        (
            FaultComm1::from_bits_retain(self.comm[0]),
            FaultComm2::from_bits_retain(self.comm[1]),
        )
    }

    /// The common [`Faults`] view (`raw` = FAULT_SUMMARY).
    pub fn to_faults(&self, cells: u8) -> Faults {
        let mask = if cells >= 16 {
            u32::from(u16::MAX)
        } else {
            (1u32 << cells) - 1
        };
        let s = self.summary_flags();
        Faults {
            overvoltage: u32::from(self.ov) & mask,
            undervoltage: u32::from(self.uv) & mask,
            over_temperature: self.ot != 0,
            under_temperature: self.ut != 0,
            thermal_shutdown: false,
            internal: s.intersects(
                FaultSummary::PWR
                    | FaultSummary::SYS
                    | FaultSummary::OTP
                    | FaultSummary::COMP_ADC
                    | FaultSummary::PROT,
            ),
            overcurrent: false,
            short_circuit: false,
            raw: u32::from(self.summary),
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

    /// Sets the active cells per device (6…the variant's inputs; ACTIVE_CELL, written at wake /
    /// `configure`). Returns the cells actually set.
    pub fn set_active_cells(&mut self, cells: u8) -> Result<u8, ConfigError> {
        if cells < 6 || cells > V::MAX_CELLS {
            return Err(ConfigError::OutOfRange {
                field: "active cells",
                value: i64::from(cells),
                min: 6,
                max: i64::from(V::MAX_CELLS),
            });
        }
        self.core.cells = cells;
        Ok(cells)
    }

    /// Active cells per device.
    pub fn active_cells(&self) -> u8 {
        self.core.cells
    }

    /// Sets the OV comparator threshold (written and started at wake / `configure`). Returns the
    /// threshold achieved (25 mV steps, rounded down, see
    /// [`ov_thresh`](super::register::ov_thresh)).
    pub fn set_overvoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = super::register::ov_thresh(v)?;
        self.core.ov = Some(code);
        Ok(achieved)
    }

    /// Sets the UV comparator threshold. Returns the threshold achieved (50 mV steps, rounded
    /// up, see [`uv_thresh`](super::register::uv_thresh)).
    pub fn set_undervoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = super::register::uv_thresh(v)?;
        self.core.uv = Some(code);
        Ok(achieved)
    }

    /// Sets the OT/UT comparator thresholds as % of TSREF (OT 10…39 %, UT 66…80 %; written,
    /// read back and started with OTUT_CTRL\[OTUT_GO\] round robin at wake / `configure`).
    /// Returns the achieved (OT %, UT %). The GPIOs must be configured as "ADC and OTUT" inputs
    /// (GPIO_CONF1…4, e.g. with `write_registers`) and TSREF enabled for the comparators to see
    /// them.
    pub fn set_temperature_thresholds(
        &mut self,
        ot_percent: u8,
        ut_percent: u8,
    ) -> Result<(u8, u8), ConfigError> {
        let (code, achieved) = super::register::otut_thresh(ot_percent, ut_percent)?;
        self.core.otut = Some(code);
        Ok(achieved)
    }

    /// Balancing settings used by `set_balancing`.
    pub fn set_balance_config(&mut self, cfg: BalanceConfig) -> Result<(), ConfigError> {
        if cfg.duty_code > 7 {
            return Err(ConfigError::OutOfRange {
                field: "balancing duty code",
                value: i64::from(cfg.duty_code),
                min: 0,
                max: 7,
            });
        }
        if cfg.timer_code == 0 || cfg.timer_code > 0x1F {
            return Err(ConfigError::OutOfRange {
                field: "balancing timer code",
                value: i64::from(cfg.timer_code),
                min: 1,
                max: 0x1F,
            });
        }
        self.core.balance = cfg;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_block_decodes_at_the_data_sheet_offsets() {
        let mut b = [0u8; FAULT_BLOCK];
        b[0] = 0b0001_0100; // FAULT_SUMMARY: COMM and OVUV
        b[3] = 0b0000_0110; // FAULT_COMM1 (0x0530): COMMCLR_DET | UART_RC
        b[4] = 0b1000_0001; // FAULT_COMM2: COML_TR | COMH_BIT
        b[0x0F] = 0x80; // FAULT_OV1 (0x053C): cell 16
        b[0x10] = 0x01; // FAULT_OV2: cell 1
        b[0x12] = 0x02; // FAULT_UV2 (0x053F): cell 2
        b[0x13] = 0x04; // FAULT_OT (0x0540): GPIO3
        let r = FaultRegisters::decode(&b).unwrap();
        assert_eq!(r.ov, 0x8001);
        assert_eq!(r.uv, 0x0002);
        assert_eq!(r.ot, 0x04);
        let (c1, c2) = r.comm_flags();
        assert_eq!(c1, FaultComm1::COMMCLR_DET | FaultComm1::UART_RC);
        assert_eq!(c2, FaultComm2::COML_TR | FaultComm2::COMH_BIT);
        assert_eq!(r.summary_flags(), FaultSummary::COMM | FaultSummary::OVUV);
        let f = r.to_faults(14);
        assert_eq!(f.overvoltage, 0x0001, "cell 16 is not active on 14 cells");
        assert_eq!(f.undervoltage, 0x0002);
        assert!(f.over_temperature && !f.internal);
        assert!(FaultRegisters::decode(&b[..20]).is_none());
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

    // ---- bring-up ---------------------------------------------------------------------------

    async fn wake_pings(&mut self) -> Result<(), Error<IO::Error>> {
        if !self.io.can_hold_tx_low() {
            return Err(Error::InvalidArgument(
                "the wake ping needs a SerialLine that can hold TX low",
            ));
        }
        let n = N.clamp(1, 63) as u32;
        match self.topology {
            Topology::Bridge => {
                for _ in 0..2 {
                    self.io.hold_tx_low(timing::BRIDGE_WAKE_PING_US).await;
                    self.io.delay_us(timing::BRIDGE_WAKE_WAIT_US).await;
                }
                self.bridge_reverse = false;
                self.write_raw(
                    Request::SingleWrite,
                    0,
                    reg::CONTROL1,
                    &[Control1::SEND_WAKE.bits()],
                )
                .await?;
                self.io
                    .delay_us(timing::WAKE_PER_DEVICE_US.saturating_mul(n))
                    .await;
            }
            Topology::Base => {
                self.io.hold_tx_low(timing::BASE_WAKE_PING_US).await;
                self.io
                    .delay_us(timing::WAKE_PER_DEVICE_US.saturating_mul(n))
                    .await;
            }
        }
        Ok(())
    }

    /// Auto-addressing (SLUAA17A / TI BQ796xx sample `AutoAddress`): DLL-sync dummy writes,
    /// ADDR_WR, sequential DIR0_ADDR, stack and top-of-stack marking, DLL-sync dummy reads,
    /// then every address read back. Returns how many devices answered in a row from the host.
    async fn auto_address(&mut self) -> Result<u8, Error<IO::Error>> {
        self.reset_groups();
        self.bridge_reverse = false;
        let n = N.clamp(1, 63) as u8;
        // 1. Dummy writes of OTP_ECC_DATAIN1..8 synchronise the daisy-chain DLLs.
        let sync_req = match self.topology {
            Topology::Bridge => Request::StackWrite,
            Topology::Base => Request::BroadcastWrite,
        };
        for r in 0..8u16 {
            self.write_raw(sync_req, 0, reg::OTP_ECC_DATAIN1 + r, &[0])
                .await?;
        }
        // 2. Auto-address mode, then 3. addresses in chain order (the bridge takes 0).
        self.write_raw(
            Request::BroadcastWrite,
            0,
            reg::CONTROL1,
            &[Control1::ADDR_WR.bits()],
        )
        .await?;
        let total = match self.topology {
            Topology::Bridge => n + 1,
            Topology::Base => n,
        };
        for a in 0..total {
            self.write_raw(Request::BroadcastWrite, 0, reg::DIR0_ADDR, &[a])
                .await?;
        }
        // 4. Everybody a stack device, 5. the top device marked; the base is not a stack
        //    device.
        let top = total - 1;
        self.write_raw(
            Request::BroadcastWrite,
            0,
            reg::COMM_CTRL,
            &[CommCtrl::STACK_DEV.bits()],
        )
        .await?;
        if self.topology == Topology::Base {
            let base = if n == 1 {
                CommCtrl::TOP_STACK.bits()
            } else {
                0
            };
            self.write_raw(Request::SingleWrite, 0, reg::COMM_CTRL, &[base])
                .await?;
        }
        if !(self.topology == Topology::Base && n == 1) {
            self.write_raw(
                Request::SingleWrite,
                top,
                reg::COMM_CTRL,
                &[(CommCtrl::STACK_DEV | CommCtrl::TOP_STACK).bits()],
            )
            .await?;
        }
        // 6. Dummy reads of OTP_ECC_DATAIN1..8 synchronise the read direction; their answers
        //    are thrown away.
        let read_req = self.read_req();
        for r in 0..8u16 {
            let cmd = frame::read(read_req, 0, reg::OTP_ECC_DATAIN1 + r, 1).map_err(frame_err)?;
            self.io.expect(7 * usize::from(n));
            self.send(&cmd).await?;
            let mut sink = [0u8; 7];
            for _ in 0..n {
                let got = self
                    .io
                    .read_within(&mut sink, self.deadline(usize::from(n), 7 * usize::from(n)))
                    .await
                    .map_err(Error::Bus)?;
                if got < sink.len() {
                    break;
                }
            }
        }
        // 7. Read back every address: the chain length is the run of devices that answer.
        let mut reachable = 0u8;
        let mut buf = [0u8; MAX_RESPONSE];
        for i in 0..usize::from(n) {
            let addr = self.addr_of(i);
            match self.read_single(addr, reg::DIR0_ADDR, &mut buf, 1).await? {
                Ok(()) if buf.get(4) == Some(&addr) => reachable += 1,
                Ok(()) => {
                    return Err(Error::Verify(VerifyMismatch {
                        device: i as u8,
                        register: "DIR0_ADDR",
                        offset: 0,
                        expected: addr,
                        actual: buf.get(4).copied().unwrap_or(0),
                    }));
                }
                Err(_) => break,
            }
        }
        self.reachable = reachable;
        Ok(reachable)
    }

    async fn configure(&mut self) -> Result<(), Error<IO::Error>> {
        let code = super::register::active_cell_code(self.cells)
            .ok_or(Error::Config(ConfigError::Unsupported("active cells")))?;
        self.write_verified(reg::ACTIVE_CELL, "ACTIVE_CELL", &[code])
            .await?;
        if let (Some(ov), Some(uv)) = (self.ov, self.uv) {
            self.write_verified(reg::OV_THRESH, "OV_THRESH/UV_THRESH", &[ov, uv])
                .await?;
            self.write_all(
                reg::OVUV_CTRL,
                &[(OvuvCtrl::MODE_ROUND_ROBIN | OvuvCtrl::OVUV_GO).bits()],
            )
            .await?;
        } else if let Some(ov) = self.ov {
            self.write_verified(reg::OV_THRESH, "OV_THRESH", &[ov])
                .await?;
        } else if let Some(uv) = self.uv {
            self.write_verified(reg::UV_THRESH, "UV_THRESH", &[uv])
                .await?;
        }
        if let Some(t) = self.otut {
            self.write_verified(reg::OTUT_THRESH, "OTUT_THRESH", &[t])
                .await?;
            self.write_all(
                reg::OTUT_CTRL,
                &[(OvuvCtrl::MODE_ROUND_ROBIN | OvuvCtrl::OVUV_GO).bits()],
            )
            .await?;
        }
        self.clear_faults().await
    }

    /// Writes `data` (1…8 bytes) to `register` of every device and reads it back
    /// ([`Error::Verify`] names device and byte), for settings the driver does not cover.
    pub(crate) async fn write_registers(
        &mut self,
        register: u16,
        data: &[u8],
    ) -> Result<(), Error<IO::Error>> {
        if data.is_empty() || data.len() > frame::MAX_WRITE {
            return Err(Error::InvalidArgument("1…8 data bytes"));
        }
        self.write_verified(register, "register (raw write)", data)
            .await
    }

    /// Reads `count` (1…128) registers from every device: `out[d][..count]` is device `d`'s
    /// data where its verdict in the report is good.
    pub(crate) async fn read_registers(
        &mut self,
        register: u16,
        count: usize,
        out: &mut [[u8; MAX_RESPONSE]; N],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let (_, report) = self.read_chain(register, count, out).await?;
        Ok(report)
    }

    /// Writes `value` to bridge register `register` (single write to device 0) and reads it
    /// back ([`Error::Verify`] with device 0 and the register named "BQ79600 register"), e.g.
    /// COMM_TIMEOUT (0x2005) or DEV_CONF1 (0x2001), whose fields the driver does not type.
    pub(crate) async fn write_bridge(
        &mut self,
        register: u16,
        value: u8,
    ) -> Result<(), Error<IO::Error>> {
        if self.topology != Topology::Bridge {
            return Err(Error::InvalidArgument("no BQ79600 bridge in this topology"));
        }
        self.write_raw(Request::SingleWrite, 0, register, &[value])
            .await?;
        let got = self.read_bridge(register).await?;
        if got != value {
            return Err(Error::Verify(VerifyMismatch {
                device: 0,
                register: "BQ79600 register",
                offset: 0,
                expected: value,
                actual: got,
            }));
        }
        Ok(())
    }

    /// Reads one bridge register (single read of device 0, CRC checked). A failed frame is
    /// [`Error::Integrity`] with device 0 (the bridge has no index among the monitors; the
    /// error names device 0).
    pub(crate) async fn read_bridge(&mut self, register: u16) -> Result<u8, Error<IO::Error>> {
        if self.topology != Topology::Bridge {
            return Err(Error::InvalidArgument("no BQ79600 bridge in this topology"));
        }
        let mut buf = [0u8; MAX_RESPONSE];
        match self.read_single(0, register, &mut buf, 1).await? {
            Ok(()) => Ok(buf.get(4).copied().unwrap_or(0)),
            Err(reason) => Err(Error::Integrity(DeviceFault { device: 0, reason })),
        }
    }

    /// Pauses (`true`) or resumes balancing on every device (BAL_CTRL2\[CB_PAUSE\]), e.g. around
    /// a cell measurement.
    pub(crate) async fn pause_balancing(&mut self, pause: bool) -> Result<(), Error<IO::Error>> {
        let mut v = BalCtrl2::empty();
        if pause {
            v |= BalCtrl2::CB_PAUSE;
        }
        if self.balance.stop_on_fault {
            v |= BalCtrl2::FLTSTOP_EN;
        }
        if self.balance.thermal_pause {
            v |= BalCtrl2::OTCB_EN;
        }
        self.write_all(reg::BAL_CTRL2, &[v.bits()]).await
    }

    /// Wake pings with the data-sheet timing for `N` devices, auto-addressing with read-back
    /// of every address, then ACTIVE_CELL and the OV/UV comparators configured (read back) and
    /// the faults cleared. A device that does not read back its address is
    /// [`Error::Integrity`] with [`FaultReason::NoResponse`] naming the first missing device;
    /// the devices before it are addressed and usable.
    pub(crate) async fn bring_up(&mut self) -> Result<(), Error<IO::Error>> {
        if self.ngroups > 1 {
            self.unsplit().await?;
        }
        self.wake_pings().await?;
        let n = N.clamp(1, 63) as u8;
        let reachable = self.auto_address().await?;
        if reachable < n {
            return Err(Error::Integrity(DeviceFault {
                device: reachable,
                reason: FaultReason::NoResponse,
            }));
        }
        self.configure().await
    }

    /// Clears every latched fault (FAULT_RST1/2 ← 0xFF 0xFF on the monitors; the bridge's
    /// FAULT_RST ← 0x22, FAULT_COMM and FAULT_SYS, as TI's sample does).
    pub(crate) async fn clear_faults(&mut self) -> Result<(), Error<IO::Error>> {
        self.write_all(reg::FAULT_RST1, &[0xFF, 0xFF]).await?;
        if self.topology == Topology::Bridge {
            self.write_raw(Request::SingleWrite, 0, bridge::FAULT_RST, &[0x22])
                .await?;
        }
        Ok(())
    }

    /// Finds how many devices answer in a row from the host (single reads of DIR0_ADDR, no
    /// writes).
    pub(crate) async fn detect_chain_length(&mut self) -> Result<u8, Error<IO::Error>> {
        self.bridge_direction(false).await?;
        let mut buf = [0u8; MAX_RESPONSE];
        let mut n = 0u8;
        for i in 0..N {
            let addr = self.addr_of(i);
            match self.read_single(addr, reg::DIR0_ADDR, &mut buf, 1).await? {
                Ok(()) if buf.get(4) == Some(&addr) => n += 1,
                _ => break,
            }
        }
        Ok(n)
    }

    /// Ring recovery (bridge topology): finds the break in the forward path, switches the
    /// bridge to the reverse direction (CONTROL1\[DIR_SEL\]), turns the devices reachable from
    /// the top around with a broadcast-reverse CONTROL1 = DIR_SEL, re-addresses them with
    /// DIR1_ADDR keeping their forward addresses, marks the new top, and reads every address
    /// back. From then on every operation is sent to both groups (the bridge direction toggled
    /// between them) until the next `wake`.
    pub(crate) async fn recover_ring(&mut self) -> Result<RingStatus, Error<IO::Error>> {
        if self.topology != Topology::Bridge {
            return Err(Error::InvalidArgument(
                "ring recovery needs the BQ79600 bridge",
            ));
        }
        self.reset_groups();
        let n = N.clamp(1, 63) as u8;
        let k = self.detect_chain_length().await?;
        if k >= n {
            return Ok(RingStatus {
                intact: true,
                break_after: None,
                forward: n,
                reverse: 0,
                unreachable: DeviceSet::EMPTY,
            });
        }
        // Forward group 1..=k: mark its new top.
        if k > 0 {
            self.write_raw(
                Request::SingleWrite,
                k,
                reg::COMM_CTRL,
                &[(CommCtrl::STACK_DEV | CommCtrl::TOP_STACK).bits()],
            )
            .await?;
        }
        // Reverse: bridge first, then every device reachable from the top end.
        self.bridge_direction(true).await?;
        self.write_raw(
            Request::BroadcastWriteReverse,
            0,
            reg::CONTROL1,
            &[Control1::DIR_SEL.bits()],
        )
        .await?;
        for r in 0..8u16 {
            self.write_raw(Request::BroadcastWrite, 0, reg::OTP_ECC_DATAIN1 + r, &[0])
                .await?;
        }
        self.write_raw(
            Request::BroadcastWrite,
            0,
            reg::CONTROL1,
            &[(Control1::DIR_SEL | Control1::ADDR_WR).bits()],
        )
        .await?;
        // The bridge takes 0, then the devices from the top down keep their numbers.
        self.write_raw(Request::BroadcastWrite, 0, reg::DIR1_ADDR, &[0])
            .await?;
        for a in (k + 1..=n).rev() {
            self.write_raw(Request::BroadcastWrite, 0, reg::DIR1_ADDR, &[a])
                .await?;
        }
        self.write_raw(
            Request::BroadcastWrite,
            0,
            reg::COMM_CTRL,
            &[CommCtrl::STACK_DEV.bits()],
        )
        .await?;
        // Read back from the top down: the reverse group is the run that answers.
        let mut buf = [0u8; MAX_RESPONSE];
        let mut lowest = n + 1;
        for a in (k + 1..=n).rev() {
            match self.read_single(a, reg::DIR1_ADDR, &mut buf, 1).await? {
                Ok(()) if buf.get(4) == Some(&a) => lowest = a,
                _ => break,
            }
        }
        if lowest <= n {
            self.write_raw(
                Request::SingleWrite,
                lowest,
                reg::COMM_CTRL,
                &[(CommCtrl::STACK_DEV | CommCtrl::TOP_STACK).bits()],
            )
            .await?;
        }
        let mut unreachable = DeviceSet::EMPTY;
        for a in k + 1..lowest.min(n + 1) {
            if let Some(i) = self.index_of(a) {
                unreachable.insert(i);
            }
        }
        self.groups = [
            Group {
                reverse: false,
                lo: 1,
                hi: k.max(1),
            },
            Group {
                reverse: true,
                lo: lowest.min(n),
                hi: n,
            },
        ];
        self.ngroups = 2;
        if k == 0 {
            // Nothing forward: the reverse group is the only one.
            self.groups[0] = self.groups[1];
            self.ngroups = 1;
        }
        if lowest > n {
            // Nothing reachable in reverse either.
            self.ngroups = 1;
            self.groups[0] = Group {
                reverse: false,
                lo: 1,
                hi: k.max(1),
            };
        }
        self.bridge_direction(self.groups[0].reverse).await?;
        Ok(RingStatus {
            intact: false,
            break_after: k.checked_sub(1),
            forward: k,
            reverse: if lowest <= n { n + 1 - lowest } else { 0 },
            unreachable,
        })
    }

    /// Turns the devices of a reverse group back to the forward direction: the bridge in
    /// reverse, then a broadcast-reverse CONTROL1 = 0 (DIR_SEL cleared) that every device
    /// reached from the top end takes — the bridge too, which leaves it forward.
    async fn unsplit(&mut self) -> Result<(), Error<IO::Error>> {
        self.bridge_direction(true).await?;
        self.write_raw(Request::BroadcastWriteReverse, 0, reg::CONTROL1, &[0])
            .await?;
        self.bridge_reverse = false;
        self.reset_groups();
        Ok(())
    }

    /// Sends the stack and the bridge to SHUTDOWN (CONTROL1\[GOTO_SHUTDOWN\] to the monitors,
    /// then the bridge) and waits tSHTDN.
    pub(crate) async fn shutdown(&mut self) -> Result<(), Error<IO::Error>> {
        self.write_all(reg::CONTROL1, &[Control1::GOTO_SHUTDOWN.bits()])
            .await?;
        if self.topology == Topology::Bridge {
            self.write_raw(
                Request::SingleWrite,
                0,
                reg::CONTROL1,
                &[Control1::GOTO_SHUTDOWN.bits()],
            )
            .await?;
        }
        self.reset_groups();
        self.io.delay_us(timing::SHUTDOWN_ENTRY_US).await;
        Ok(())
    }

    /// Sends the monitors to SLEEP (CONTROL1\[GOTO_SLEEP\]) and waits tSLP; the bridge stays
    /// awake. `wake` brings them back.
    pub(crate) async fn sleep(&mut self) -> Result<(), Error<IO::Error>> {
        self.write_all(reg::CONTROL1, &[Control1::GOTO_SLEEP.bits()])
            .await?;
        self.io.delay_us(timing::SLEEP_ENTRY_US).await;
        Ok(())
    }

    /// Wakes the monitors from SLEEP with their settings kept: the bridge's
    /// CONTROL1\[SEND_SLPTOACT\] (or, on a base device, a 275 µs SLEEPtoACTIVE ping), a wait of
    /// tSU(SLP2ACT) = 230 µs per device (SLUSE81E §8.6), then every address read back. A device
    /// that does not answer is [`Error::Integrity`] naming it (a WAKE and bring-up is then
    /// needed).
    pub(crate) async fn wake_from_sleep(&mut self) -> Result<(), Error<IO::Error>> {
        let n = N.clamp(1, 63) as u32;
        match self.topology {
            Topology::Bridge => {
                self.bridge_reverse = false;
                self.write_raw(
                    Request::SingleWrite,
                    0,
                    reg::CONTROL1,
                    &[Control1::SEND_SLPTOACT.bits()],
                )
                .await?;
            }
            Topology::Base => {
                if !self.io.can_hold_tx_low() {
                    return Err(Error::InvalidArgument(
                        "the SLEEPtoACTIVE ping needs a SerialLine that can hold TX low",
                    ));
                }
                self.io.hold_tx_low(timing::SLEEP_TO_ACTIVE_PING_US).await;
            }
        }
        self.io
            .delay_us(timing::SLEEP_TO_ACTIVE_PER_DEVICE_US.saturating_mul(n))
            .await;
        let k = self.detect_chain_length().await?;
        if usize::from(k) < N {
            return Err(Error::Integrity(DeviceFault {
                device: k,
                reason: FaultReason::NoResponse,
            }));
        }
        Ok(())
    }

    /// COMM CLEAR: holds TX low for 15–20 bit periods so every receiver drops a torn frame,
    /// then throws away whatever input is pending.
    pub(crate) async fn comm_clear(&mut self) -> Result<(), Error<IO::Error>> {
        self.io.hold_tx_low(timing::COMM_CLEAR_US).await;
        self.io
            .drain(timing::DRAIN_QUIET_US)
            .await
            .map(|_| ())
            .map_err(Error::Bus)
    }

    // ---- measurement ------------------------------------------------------------------------

    /// Starts the main ADC in continuous mode (ADC_CTRL1 = MAIN_MODE continuous | MAIN_GO, with
    /// the VCELL low-pass filter for [`ConversionMode::Filtered`]); returns the wait hint.
    pub(crate) async fn start_main_adc(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        let filtered = mode == ConversionMode::Filtered;
        let mut v = AdcCtrl1::MAIN_MODE_CONTINUOUS | AdcCtrl1::MAIN_GO;
        if filtered {
            v |= AdcCtrl1::LPF_VCELL_EN;
        }
        self.write_all(reg::ADC_CTRL1, &[v.bits()]).await?;
        self.filtered = filtered;
        Ok(Microseconds(if filtered {
            timing::CONVERSION_FILTERED_US
        } else {
            timing::CONVERSION_US
        }))
    }

    /// Reads the VCELL results of the active cells (one read per group, cell 1 first in
    /// `out` per device).
    pub(crate) async fn read_cells(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let c = usize::from(self.cells);
        if out.len() != N * c {
            return Err(Error::InvalidArgument("out.len() != device_count × cells"));
        }
        let mut frames = [[0u8; 32]; N];
        let (verdict, report) = self
            .read_chain(reg::vcell_hi(self.cells), 2 * c, &mut frames)
            .await?;
        for (d, chunk) in out.chunks_mut(c).enumerate() {
            match verdict.get(d).copied().flatten() {
                Some(reason) => fail_all(
                    chunk,
                    DeviceFault {
                        device: d as u8,
                        reason,
                    },
                ),
                None => {
                    let f = frames.get(d).map(|f| &f[..]).unwrap_or(&[]);
                    // The frame holds cell c first (highest address first … cell 1 last).
                    for (k, slot) in chunk.iter_mut().enumerate() {
                        let at = 2 * (c - 1 - k);
                        *slot = match f.get(at..at + 2).and_then(convert::word) {
                            Some(code) => convert::cell_reading(code),
                            None => Reading::Failed(DeviceFault {
                                device: d as u8,
                                reason: FaultReason::Framing,
                            }),
                        };
                    }
                }
            }
        }
        Ok(report)
    }

    /// Reads one 16-bit result register from every device.
    async fn read_word_all(
        &mut self,
        register: u16,
        out: &mut [Option<u16>; N],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let mut frames = [[0u8; 2]; N];
        let (verdict, report) = self.read_chain(register, 2, &mut frames).await?;
        for (d, o) in out.iter_mut().enumerate() {
            *o = match verdict.get(d).copied().flatten() {
                Some(_) => None,
                None => frames.get(d).and_then(|f| convert::word(f)),
            };
        }
        Ok(report)
    }

    fn fill_words<T: Copy>(
        report: &ChainReport,
        words: &[Option<u16>; N],
        out: &mut [Reading<T>],
        f: impl Fn(u16) -> Reading<T>,
    ) {
        for (d, o) in out.iter_mut().enumerate() {
            *o = match words.get(d).copied().flatten() {
                Some(code) => f(code),
                None => Reading::Failed(DeviceFault {
                    device: d as u8,
                    reason: if report.failed.contains(d) {
                        report
                            .first_fault
                            .filter(|x| x.device as usize == d)
                            .map(|x| x.reason)
                            .unwrap_or(FaultReason::NoResponse)
                    } else {
                        FaultReason::Framing
                    },
                }),
            };
        }
    }

    /// DIETEMP1 of every device.
    pub(crate) async fn read_die_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let mut words = [None; N];
        let report = self.read_word_all(reg::DIETEMP1_HI, &mut words).await?;
        Self::fill_words(&report, &words, out, convert::die_temp_reading);
        Ok(report)
    }

    /// The bus-bar result of every device (µV; 30.52 µV LSB unverified, see
    /// [`convert`](super::convert)).
    pub(crate) async fn read_busbar(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let mut words = [None; N];
        let report = self.read_word_all(reg::BUSBAR_HI, &mut words).await?;
        Self::fill_words(&report, &words, out, |c| {
            if c == convert::NOT_CONVERTED {
                Reading::NotConverted
            } else {
                Reading::Valid(convert::busbar_uv(c))
            }
        });
        Ok(report)
    }

    /// GPIO `gpio` (1…8) as a ratio of TSREF in ppm, per device: the ratiometric thermistor
    /// reading (TSREF must be enabled, CONTROL2\[TSREF_EN\], and the GPIO configured as ADC input).
    /// TSREF and the GPIO come from one frame (TSREF_HI … GPIOn_LO).
    pub(crate) async fn read_gpio_ratio(
        &mut self,
        gpio: u8,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if !(1..=8).contains(&gpio) {
            return Err(Error::InvalidArgument("GPIO 1…8"));
        }
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let count = usize::from(reg::GPIO1_HI - reg::TSREF_HI) + 2 * usize::from(gpio);
        let mut frames = [[0u8; 18]; N];
        let (verdict, report) = self.read_chain(reg::TSREF_HI, count, &mut frames).await?;
        for (d, o) in out.iter_mut().enumerate() {
            *o = match verdict.get(d).copied().flatten() {
                Some(reason) => Reading::Failed(DeviceFault {
                    device: d as u8,
                    reason,
                }),
                None => {
                    let f = frames.get(d).map(|f| &f[..]).unwrap_or(&[]);
                    let t = convert::word(f);
                    let g = f.get(count - 2..).and_then(convert::word);
                    match (t, g) {
                        (Some(t), Some(g)) => match convert::ratio_ppm(g, t) {
                            Some(r) => Reading::Valid(r),
                            None => Reading::NotConverted,
                        },
                        _ => Reading::Failed(DeviceFault {
                            device: d as u8,
                            reason: FaultReason::Framing,
                        }),
                    }
                }
            };
        }
        Ok(report)
    }

    /// GPIO `gpio` of every device as a temperature through the thermistor curve `table`
    /// ([`convert::ntc_temperature`]); a ratio outside the table is [`Reading::NotConverted`].
    pub(crate) async fn read_thermistors(
        &mut self,
        gpio: u8,
        table: &[(u32, MilliCelsius)],
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let mut ratios = [Reading::NotConverted; N];
        let report = self.read_gpio_ratio(gpio, &mut ratios).await?;
        for (o, r) in out.iter_mut().zip(ratios.iter()) {
            *o = match *r {
                Reading::Valid(ppm) => match convert::ntc_temperature(ppm, table) {
                    Some(t) => Reading::Valid(t),
                    None => Reading::NotConverted,
                },
                Reading::NotConverted => Reading::NotConverted,
                Reading::Failed(f) => Reading::Failed(f),
            };
        }
        Ok(report)
    }

    /// The fault registers of every device (one 21-byte read from FAULT_SUMMARY).
    pub(crate) async fn read_fault_registers(
        &mut self,
        out: &mut [Reading<FaultRegisters>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let mut frames = [[0u8; FAULT_BLOCK]; N];
        let (verdict, report) = self
            .read_chain(reg::FAULT_SUMMARY, FAULT_BLOCK, &mut frames)
            .await?;
        for (d, o) in out.iter_mut().enumerate() {
            *o = match verdict.get(d).copied().flatten() {
                Some(reason) => Reading::Failed(DeviceFault {
                    device: d as u8,
                    reason,
                }),
                None => match frames.get(d).and_then(|f| FaultRegisters::decode(f)) {
                    Some(r) => Reading::Valid(r),
                    None => Reading::Failed(DeviceFault {
                        device: d as u8,
                        reason: FaultReason::Framing,
                    }),
                },
            };
        }
        Ok(report)
    }

    fn check_balance_masks(&self, masks: &[u32]) -> Result<(), ConfigError> {
        for &m in masks {
            if m & !self.cell_mask() != 0 {
                return Err(ConfigError::NoSuchCell {
                    cell: (32 - m.leading_zeros()) as u16,
                    available: u16::from(self.cells),
                });
            }
            if m & (m >> 1) != 0 && !self.balance.odd_even {
                return Err(ConfigError::Conflict(
                    "adjacent cells cannot balance at the same time (use odd/even balancing)",
                ));
            }
        }
        Ok(())
    }

    /// Per-cell balancing: CB_CELLn_CTRL timers per device (two 8-byte single writes), read
    /// back, then BAL_CTRL2 = BAL_GO (with FLTSTOP_EN / OTCB_EN as configured) and BAL_STAT
    /// checked for INVALID_CBCONF.
    pub(crate) async fn balance(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        if masks.len() != N {
            return Err(Error::InvalidArgument("masks.len() != device_count"));
        }
        self.check_balance_masks(masks)?;
        let code = self.balance.timer_code;
        for (d, &m) in masks.iter().enumerate() {
            // CB_CELL16_CTRL (0x0318) … CB_CELL1_CTRL (0x0327): cell 16 first.
            let mut timers = [0u8; 16];
            for (i, t) in timers.iter_mut().enumerate() {
                let cell = 16 - i;
                if m & (1 << (cell - 1)) != 0 {
                    *t = code;
                }
            }
            self.write_one(d, reg::CB_CELL16_CTRL, &timers[..8]).await?;
            self.write_one(d, reg::CB_CELL16_CTRL + 8, &timers[8..])
                .await?;
        }
        // Read every timer back.
        let mut frames = [[0u8; 16]; N];
        let (verdict, report) = self
            .read_chain(reg::CB_CELL16_CTRL, 16, &mut frames)
            .await?;
        report.into_result()?;
        for (d, &m) in masks.iter().enumerate() {
            if verdict.get(d).copied().flatten().is_some() {
                continue;
            }
            for i in 0..16 {
                let cell = 16 - i;
                let want = if m & (1 << (cell - 1)) != 0 { code } else { 0 };
                let got = frames.get(d).and_then(|f| f.get(i)).copied().unwrap_or(0);
                if (got & 0x1F) != want {
                    return Err(Error::Verify(VerifyMismatch {
                        device: d as u8,
                        register: "CB_CELLn_CTRL",
                        offset: i as u8,
                        expected: want,
                        actual: got,
                    }));
                }
            }
        }
        if self.balance.odd_even {
            self.write_all(reg::BAL_CTRL1, &[self.balance.duty_code & 7])
                .await?;
        }
        let mut go = BalCtrl2::BAL_GO;
        if self.balance.odd_even {
            go |= BalCtrl2::AUTO_BAL;
        }
        if self.balance.stop_on_fault {
            go |= BalCtrl2::FLTSTOP_EN;
        }
        if self.balance.thermal_pause {
            go |= BalCtrl2::OTCB_EN;
        }
        self.write_all(reg::BAL_CTRL2, &[go.bits()]).await?;
        let (verdict, report) = self.read_chain(reg::BAL_STAT, 1, &mut frames).await?;
        report.into_result()?;
        for d in 0..N {
            if verdict.get(d).copied().flatten().is_some() {
                continue;
            }
            let s = BalStat::from_bits_retain(frames.get(d).map(|f| f[0]).unwrap_or(0));
            if s.contains(BalStat::INVALID_CBCONF) {
                return Err(Error::Device {
                    device: d as u8,
                    what: "BAL_STAT[INVALID_CBCONF]: balancing configuration refused",
                });
            }
        }
        Ok(())
    }

    async fn measure(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N * usize::from(self.cells) {
            return Err(Error::InvalidArgument("out.len() != device_count × cells"));
        }
        let hint = self.start_main_adc(mode).await?;
        self.io.delay_us(hint.0).await;
        self.read_cells(out).await
    }
}

impl<V: Variant, const N: usize, IO: SerialIo> MonitorCore for Core<V, N, IO> {
    type BusError = IO::Error;

    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        usize::from(self.cells)
    }
    fn temperatures_per_device(&self) -> usize {
        1
    }
    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        self.bring_up().await
    }
    async fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start_main_adc(mode).await
    }
    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.read_cells(out).await
    }
    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.measure(mode, out).await
    }
    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let hint = self.start_main_adc(ConversionMode::Normal).await?;
        self.io.delay_us(hint.0).await;
        self.read_die_temperatures(out).await
    }
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let hint = self.start_main_adc(ConversionMode::Normal).await?;
        self.io.delay_us(hint.0).await;
        let c = usize::from(self.cells);
        let mut frames = [[0u8; 32]; N];
        let (verdict, report) = self
            .read_chain(reg::vcell_hi(self.cells), 2 * c, &mut frames)
            .await?;
        for (d, o) in out.iter_mut().enumerate() {
            *o = match verdict.get(d).copied().flatten() {
                Some(reason) => Reading::Failed(DeviceFault {
                    device: d as u8,
                    reason,
                }),
                None => {
                    let f = frames.get(d).map(|f| &f[..]).unwrap_or(&[]);
                    let mut sum = MicroVolts(0);
                    let mut all = true;
                    for k in 0..c {
                        match f.get(2 * k..2 * k + 2).and_then(convert::word) {
                            Some(code) if code != convert::NOT_CONVERTED => {
                                sum = sum.saturating_add(convert::cell_uv(code));
                            }
                            _ => all = false,
                        }
                    }
                    if all {
                        Reading::Valid(sum)
                    } else {
                        Reading::NotConverted
                    }
                }
            };
        }
        Ok(report)
    }
    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        Ok(None)
    }
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        self.balance(masks).await
    }
    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let mut regs = [Reading::NotConverted; N];
        let report = self.read_fault_registers(&mut regs).await?;
        let cells = self.cells;
        for (o, r) in out.iter_mut().zip(regs.iter()) {
            *o = r.map(|r| r.to_faults(cells));
        }
        Ok(report)
    }
}

twins! {
    serial impl[V: Variant, const N: usize] Bq79616<V, N> => core {
        /// Wake pings (bridge: two 2.75 ms pings 3.5 ms apart, then CONTROL1\[SEND_WAKE\] and
        /// 11.6 ms per device; base: one 2.25 ms ping and 11.6 ms per device), auto-addressing
        /// with every address read back, ACTIVE_CELL and the OV/UV comparators configured and
        /// read back, faults cleared. A device that does not read back its address is
        /// [`Error::Integrity`] ([`FaultReason::NoResponse`]) naming it; the devices before it
        /// are addressed. Also [`CellMonitor::wake`](crate::CellMonitor::wake).
        pub fn bring_up(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// Auto-addressing alone (no wake ping): returns how many devices read back their
        /// address in a row from the host (the chain length).
        pub fn auto_address(&mut self) -> Result<u8, Error<SerialError<B>>>;
        /// ACTIVE_CELL, OV/UV thresholds (read back, comparators started) and a fault clear.
        pub fn configure(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// How many devices answer in a row from the host (reads only).
        pub fn detect_chain_length(&mut self) -> Result<u8, Error<SerialError<B>>>;
        /// Ring recovery after a broken cable (bridge with the top device wired back to it):
        /// re-addresses the devices beyond the break from the other end (reverse direction)
        /// and splits the stack into two groups so every reachable device is read again.
        /// Reports the break position. `Ok` with `break_after: None` if nothing is broken.
        pub fn recover_ring(&mut self) -> Result<RingStatus, Error<SerialError<B>>>;
        /// Clears every latched fault (FAULT_RST1/2, and the bridge's FAULT_RST).
        pub fn clear_faults(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// Puts the monitors to SLEEP (bridge stays awake).
        pub fn sleep(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// Wakes the monitors from SLEEP keeping their settings (SLEEPtoACTIVE), then reads every
        /// address back.
        pub fn wake_from_sleep(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// Puts the stack and the bridge into SHUTDOWN.
        pub fn shutdown(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// COMM CLEAR (TX low for 18 bit periods) and a drain of pending input.
        pub fn comm_clear(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// Starts the main ADC in continuous mode; returns the wait hint.
        pub fn start_main_adc(&mut self, mode: ConversionMode) -> Result<Microseconds, Error<SerialError<B>>>;
        /// Reads the active cells of every device: `out.len() == N × cells`, device 0 first,
        /// cell 1 first. 0x8000 (never converted, inactive) is [`Reading::NotConverted`].
        pub fn read_cells(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SerialError<B>>>;
        /// DIETEMP1 of every device (`out.len() == N`).
        pub fn read_die_temperatures(&mut self, out: &mut [Reading<MilliCelsius>]) -> Result<ChainReport, Error<SerialError<B>>>;
        /// Bus-bar result of every device (`out.len() == N`; LSB unverified).
        pub fn read_busbar(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SerialError<B>>>;
        /// GPIO `gpio` (1…8) / TSREF in ppm per device (ratiometric thermistor reading).
        pub fn read_gpio_ratio(&mut self, gpio: u8, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SerialError<B>>>;
        /// Writes 1…8 bytes to `register` of every device and reads them back.
        pub fn write_registers(&mut self, register: u16, data: &[u8]) -> Result<(), Error<SerialError<B>>>;
        /// Reads `count` registers of every device into `out[d][..count]` (valid where the
        /// report does not name `d`).
        pub fn read_registers(&mut self, register: u16, count: usize, out: &mut [[u8; MAX_RESPONSE]; N]) -> Result<ChainReport, Error<SerialError<B>>>;
        /// Writes one BQ79600 register and reads it back (e.g. COMM_TIMEOUT 0x2005).
        pub fn write_bridge(&mut self, register: u16, value: u8) -> Result<(), Error<SerialError<B>>>;
        /// Reads one BQ79600 register (e.g. DEV_CONF1 0x2001, FAULT_SUMMARY 0x2100).
        pub fn read_bridge(&mut self, register: u16) -> Result<u8, Error<SerialError<B>>>;
        /// Pauses or resumes balancing (BAL_CTRL2\[CB_PAUSE\]).
        pub fn pause_balancing(&mut self, pause: bool) -> Result<(), Error<SerialError<B>>>;
        /// GPIO `gpio` of every device as a temperature through the thermistor curve `table`
        /// ((ratio ppm, temperature) points, see [`convert::ntc_temperature`]).
        pub fn read_thermistors(&mut self, gpio: u8, table: &[(u32, MilliCelsius)], out: &mut [Reading<MilliCelsius>]) -> Result<ChainReport, Error<SerialError<B>>>;
        /// FAULT_SUMMARY … FAULT_UT of every device, decoded.
        pub fn read_fault_registers(&mut self, out: &mut [Reading<FaultRegisters>]) -> Result<ChainReport, Error<SerialError<B>>>;
    }
}

impl_cell_monitor!(serial impl[V: Variant, const N: usize] Bq79616<V, N> => core);
