//! The bq769x0 driver: [`Bq769x0`] over [`Blocking`](crate::io::Blocking) or
//! [`Async`](crate::io::Async) I2C. All logic lives once in the async core; the public
//! methods are generated for both flavours.

use core::marker::PhantomData;

use crate::error::{DeviceFault, Error, FaultReason, VerifyMismatch};
use crate::io::{I2cError, I2cIo, twins};
use crate::monitor::{
    ChainReport, ConversionMode, Faults, MonitorCore, Reading, impl_cell_monitor,
};
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};

use super::convert::{self, AdcCalibration, Ntc};
use super::frame::{self, MAX_RAW_READ, MAX_READ, MAX_WRITE};
use super::protection::{Achieved, Protection, ProtectionRegisters};
use super::register::{self as reg, SysCtrl1, SysCtrl2, SysStat};
use super::variant::{CellMap, Variant, balancing_inputs};

mod alerts;
mod balancing;
mod config;
mod fets;
mod measure;
mod monitor;
mod probe;

/// The two factory I2C addresses (7-bit; DS SLUSBK2I §5: 0x08 for most orderables, 0x18 for
/// BQ769x006/07).
pub const ADDRESSES: [u8; 2] = [0x08, 0x18];

/// Wait hint of `start_cell_conversion`: two 250 ms measurement cycles (DS SLUSBK2I
/// §8.3.1.1.7: cells are measured every 250 ms), so that a complete cycle that **began after
/// the call** has been stored. Conservative; not a data-sheet figure.
pub const CELL_WAIT: Microseconds = Microseconds(500_000);
/// Wait of `measure_temperatures`: one 2 s temperature period plus one cell cycle (DS
/// §8.3.1.1.7: temperature every 2 s).
pub const TEMPERATURE_WAIT: Microseconds = Microseconds(2_250_000);
/// Coulomb-counter integration period (DS §8.3.1.1.3: 250 ms).
pub const CC_PERIOD: Microseconds = Microseconds(250_000);
/// CC_READY polls after a one-shot, every [`CC_POLL`], before [`Error::Timeout`].
pub const CC_POLLS: u32 = 10;
/// Interval between CC_READY polls.
pub const CC_POLL: Microseconds = Microseconds(25_000);

/// What the TS inputs measure (SYS_CTRL1 TEMP_SEL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TempSource {
    /// TEMP_SEL = 0: every TS result converted as die temperature (DS §8.3.1.1.5). Which die
    /// TS2/TS3 of a BQ76930/40 then report is not stated in the crate's sources; the driver
    /// converts each with the same formula.
    Die,
    /// TEMP_SEL = 1: an external NTC on every TS input, converted with this β model.
    Thermistor(Ntc),
}

/// Coulomb-counter mode (SYS_CTRL2 CC_EN / CC_ONESHOT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CcMode {
    /// CC_EN = 1: a reading every 250 ms, each setting CC_READY.
    Continuous,
    /// CC_EN = 0: readings only on request ([`Bq769x0::measure_current_once`]).
    OneShot,
}

/// What [`Bq769x0::probe`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ProbeInfo {
    /// The 7-bit address that answered.
    pub address: u8,
    /// `true` for a CRC orderable.
    pub crc: bool,
    /// The factory calibration now used for every conversion and threshold.
    pub calibration: AdcCalibration,
}

/// The outcome of [`Bq769x0::service_alerts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AlertReport {
    /// SYS_STAT as read.
    pub status: SysStat,
    /// Bits still set after writing ones to clear them (the condition persists, or a stuck
    /// DEVICE_XREADY).
    pub remaining: SysStat,
    /// `true` if the chip had lost its configuration (a NORMAL-mode entry or XREADY reset)
    /// and the driver wrote it again.
    pub reconfigured: bool,
}

/// The driver. `V` is the [`Variant`], `IO` is [`Blocking`](crate::io::Blocking) or
/// [`Async`](crate::io::Async) around an I2C bus and a delay.
#[derive(Debug)]
pub struct Bq769x0<V, IO> {
    pub(crate) core: Core<V, IO>,
}

/// The configuration image SYS_CTRL1..CC_CFG (0x04..=0x0B).
const IMAGE_LEN: usize = 8;
/// Bits of the image compared on read-back: SYS_CTRL1 ADC_EN|TEMP_SEL; SYS_CTRL2
/// DELAY_DIS|CC_EN (the FET bits are the chip's to clear, CC_ONESHOT self-clears); the
/// protection fields; PROTECT3 high nibble; the trips; CC_CFG bits 5:0.
const IMAGE_MASK: [u8; IMAGE_LEN] = [0x18, 0xC0, 0x9F, 0x7F, 0xF0, 0xFF, 0xFF, 0x3F];

#[derive(Debug)]
pub(crate) struct Core<V, IO> {
    io: IO,
    address: u8,
    crc: bool,
    retries: u8,
    map: CellMap,
    shunt_uohm: u32,
    cal: Option<AdcCalibration>,
    image: [u8; IMAGE_LEN],
    achieved: Option<Achieved>,
    temp: TempSource,
    cc: CcMode,
    _v: PhantomData<V>,
}

fn fault(reason: FaultReason) -> DeviceFault {
    DeviceFault { device: 0, reason }
}

impl<V: Variant, IO> Bq769x0<V, IO> {
    /// A driver for a pack wired as `map`, with a `shunt_uohm` µΩ sense resistor (refused if
    /// 0), at address 0x08 without CRC until [`Bq769x0::probe`] finds the real ones.
    /// Defaults: thermistors (103AT), continuous coulomb counter, 2 retries.
    pub fn new(io: IO, map: CellMap, shunt_uohm: u32) -> Result<Self, crate::ConfigError> {
        if map.total_inputs() != V::INPUTS {
            return Err(crate::ConfigError::Conflict(
                "cell map built for another variant",
            ));
        }
        if shunt_uohm == 0 {
            return Err(crate::ConfigError::OutOfRange {
                field: "shunt (µΩ)",
                value: 0,
                min: 1,
                max: u32::MAX as i64,
            });
        }
        let p3 = 0;
        Ok(Self {
            core: Core {
                io,
                address: ADDRESSES[0],
                crc: false,
                retries: 2,
                map,
                shunt_uohm,
                cal: None,
                image: [
                    (SysCtrl1::ADC_EN | SysCtrl1::TEMP_SEL).bits(),
                    SysCtrl2::CC_EN.bits(),
                    0,
                    0,
                    p3,
                    reg::OV_TRIP_RESET,
                    reg::UV_TRIP_RESET,
                    reg::CC_CFG_VALUE,
                ],
                achieved: None,
                temp: TempSource::Thermistor(Ntc::SEMITEC_103AT),
                cc: CcMode::Continuous,
                _v: PhantomData,
            },
        })
    }

    /// Uses a known address and CRC option instead of [`Bq769x0::probe`].
    pub fn with_bus_options(mut self, address: u8, crc: bool) -> Self {
        self.core.address = address & 0x7F;
        self.core.crc = crc;
        self
    }

    /// Uses a known calibration (e.g. for tests) instead of reading it from the chip.
    pub fn with_calibration(mut self, cal: AdcCalibration) -> Self {
        self.core.cal = Some(cal);
        self
    }

    /// Re-reads after an integrity failure (each re-sends the register address). Default 2.
    pub fn set_retries(&mut self, retries: u8) {
        self.core.retries = retries;
    }

    /// The address in use.
    pub fn address(&self) -> u8 {
        self.core.address
    }

    /// `true` when talking to a CRC orderable.
    pub fn crc_mode(&self) -> bool {
        self.core.crc
    }

    /// The calibration in use (`None` before it was read).
    pub fn calibration(&self) -> Option<AdcCalibration> {
        self.core.cal
    }

    /// The cell map.
    pub fn cell_map(&self) -> CellMap {
        self.core.map
    }

    /// What the last [`Bq769x0::configure`] achieved.
    pub fn achieved(&self) -> Option<Achieved> {
        self.core.achieved
    }

    /// The TS input mode the driver configures and converts with.
    pub fn temperature_source(&self) -> TempSource {
        self.core.temp
    }

    /// Changes the TS mode the driver writes at the next configuration write (in
    /// [`Bq769x0::configure`], [`Bq769x0::ensure_configured`] and `wake`). The chip needs up
    /// to 2 s before TS results follow a TEMP_SEL change (DS §8.3.1.1.5).
    pub fn set_temperature_source(&mut self, t: TempSource) {
        self.core.temp = t;
        self.core.image[0] = self.core.sys_ctrl1_image().bits();
    }

    /// Changes the coulomb-counter mode written at the next configuration write.
    pub fn set_cc_mode(&mut self, mode: CcMode) {
        self.core.cc = mode;
        self.core.image[1] = match mode {
            CcMode::Continuous => SysCtrl2::CC_EN.bits(),
            CcMode::OneShot => 0,
        };
    }

    /// Gives the bus wrapper back.
    pub fn release(self) -> IO {
        self.core.io
    }
}

impl<V: Variant, IO> Core<V, IO> {
    fn sys_ctrl1_image(&self) -> SysCtrl1 {
        match self.temp {
            TempSource::Die => SysCtrl1::ADC_EN,
            TempSource::Thermistor(_) => SysCtrl1::ADC_EN | SysCtrl1::TEMP_SEL,
        }
    }
}

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    // ---- raw access ----------------------------------------------------------------------

    async fn write_regs(&mut self, reg: u8, data: &[u8]) -> Result<(), Error<IO::Error>> {
        let mut buf = [0u8; MAX_WRITE];
        let n = frame::encode_write(self.crc, self.address, reg, data, &mut buf)
            .map_err(|_| Error::InvalidArgument("register write longer than 8 bytes"))?;
        let bytes = buf.get(..n).unwrap_or(&[]);
        self.io.write(self.address, bytes).await.map_err(Error::Bus)
    }

    /// Reads `out.len()` (≤ 30) bytes from `reg`, every byte checked; a failed check is
    /// retried with a fresh register-address write.
    async fn read_regs(&mut self, reg: u8, out: &mut [u8]) -> Result<(), Error<IO::Error>> {
        if out.len() > MAX_READ {
            return Err(Error::InvalidArgument("register read longer than 30 bytes"));
        }
        let n = frame::raw_read_len(self.crc, out.len());
        let mut raw = [0u8; MAX_RAW_READ];
        let raw = raw
            .get_mut(..n)
            .ok_or(Error::InvalidArgument("register read too long"))?;
        let mut last = FaultReason::Framing;
        for _ in 0..=self.retries {
            self.io
                .write_read(self.address, &[reg], raw)
                .await
                .map_err(Error::Bus)?;
            match frame::decode_read(self.crc, self.address, raw, out) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
        Err(Error::Integrity(fault(last)))
    }

    /// Reads `n` raw bytes from `reg` into `raw` and checks them in place (retried as
    /// [`Core::read_regs`]).
    async fn read_raw(
        &mut self,
        reg: u8,
        raw: &mut [u8; MAX_RAW_READ],
        n: usize,
    ) -> Result<(), Error<IO::Error>> {
        let raw = raw
            .get_mut(..n)
            .ok_or(Error::InvalidArgument("register read too long"))?;
        let mut last = FaultReason::Framing;
        for _ in 0..=self.retries {
            self.io
                .write_read(self.address, &[reg], raw)
                .await
                .map_err(Error::Bus)?;
            match frame::check_read(self.crc, self.address, raw) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
        Err(Error::Integrity(fault(last)))
    }

    async fn read_u8(&mut self, reg: u8) -> Result<u8, Error<IO::Error>> {
        let mut b = [0u8; 1];
        self.read_regs(reg, &mut b).await?;
        Ok(b[0])
    }

    async fn read_u16(&mut self, reg: u8) -> Result<u16, Error<IO::Error>> {
        let mut b = [0u8; 2];
        self.read_regs(reg, &mut b).await?;
        Ok(u16::from_be_bytes(b))
    }

    /// Writes `data` at `reg` and reads it back; the first masked difference names the
    /// register.
    async fn write_verified(
        &mut self,
        reg: u8,
        data: &[u8],
        mask: &[u8],
    ) -> Result<(), Error<IO::Error>> {
        self.write_regs(reg, data).await?;
        let mut back = [0u8; MAX_READ];
        let back = back
            .get_mut(..data.len())
            .ok_or(Error::InvalidArgument("verified write too long"))?;
        self.read_regs(reg, back).await?;
        for (i, ((&w, &r), &m)) in data.iter().zip(back.iter()).zip(mask).enumerate() {
            if (w ^ r) & m != 0 {
                return Err(Error::Verify(VerifyMismatch {
                    device: 0,
                    register: reg::name(reg.wrapping_add(i as u8)),
                    offset: 0,
                    expected: w & m,
                    actual: r & m,
                }));
            }
        }
        Ok(())
    }

    async fn cal(&mut self) -> Result<AdcCalibration, Error<IO::Error>> {
        match self.cal {
            Some(c) => Ok(c),
            None => self.read_calibration().await,
        }
    }
}

twins! {
    i2c impl[V: Variant] Bq769x0<V> => core {
        /// Finds the chip: tries 0x08 then 0x18, writes CC_CFG = 0x19 (the value the data
        /// sheet requires at start-up) and tells a CRC orderable from a plain one by two
        /// independent signs that must agree — a CRC part appends a valid CRC to its read
        /// AND NACKs a write with a wrong CRC (TI E2E 929619); a contradiction (a corrupted
        /// read) is retried, then an [`Error::Integrity`], never a guess. Then reads the
        /// factory gain and offset once; every later conversion and threshold uses them.
        pub fn probe(&mut self) -> Result<ProbeInfo, Error<I2cError<B>>>;
        /// Reads ADCGAIN1, ADCOFFSET and ADCGAIN2 again (checked) and uses the result.
        pub fn read_calibration(&mut self) -> Result<AdcCalibration, Error<I2cError<B>>>;
        /// Encodes `protection` with the chip's calibration, writes SYS_CTRL1..CC_CFG as one
        /// block, reads it back ([`Error::Verify`] names the first register that differs and
        /// its masked bits) and returns the achieved thresholds. The settings are kept and
        /// written again whenever the chip is found to have lost them (see
        /// [`Bq769x0::ensure_configured`]).
        pub fn configure(&mut self, protection: &Protection) -> Result<Achieved, Error<I2cError<B>>>;
        /// Reads SYS_CTRL1..CC_CFG and re-writes the driver's configuration if the chip lost
        /// it (every NORMAL-mode entry and an XREADY reset restore the defaults, DS
        /// §8.3.1.2.1). `true` if it wrote. `CellMonitor::wake` calls it.
        pub fn ensure_configured(&mut self) -> Result<bool, Error<I2cError<B>>>;
        /// Reads SYS_STAT.
        pub fn read_status(&mut self) -> Result<SysStat, Error<I2cError<B>>>;
        /// Clears `bits` of SYS_STAT by writing ones (DS Table 8-3) and returns those still
        /// set.
        pub fn clear_status(&mut self, bits: SysStat) -> Result<SysStat, Error<I2cError<B>>>;
        /// One bounded pass over the alerts: read SYS_STAT, clear every fault bit by writing
        /// ones, report what stayed set, and check the configuration (put back if the chip
        /// lost it: NORMAL-mode entry, XREADY). Call it on every ALERT edge and periodically.
        /// The FETs stay as the chip left them (off after OV/UV/OCD/SCD/XREADY/OVRD_ALERT):
        /// re-enable them with [`Bq769x0::set_fets`] once the cause is gone.
        pub fn service_alerts(&mut self) -> Result<AlertReport, Error<I2cError<B>>>;
        /// The raw 14-bit codes of every VC input (unused entries 0), one checked burst.
        pub fn read_input_codes(&mut self, out: &mut [u16; 15]) -> Result<(), Error<I2cError<B>>>;
        /// BAT_HI:BAT_LO as a voltage (`4 × GAIN × ADC + #cells × OFFSET`).
        pub fn read_pack_voltage(&mut self) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// The raw 14-bit TS codes (entries past the variant's TS inputs 0).
        pub fn read_ts_codes(&mut self, out: &mut [u16; 3]) -> Result<(), Error<I2cError<B>>>;
        /// The raw coulomb-counter register.
        pub fn read_cc_code(&mut self) -> Result<u16, Error<I2cError<B>>>;
        /// In continuous mode: the new sample if CC_READY is set (clears it), else `None`.
        /// Call it at least every 250 ms to integrate charge; a sample completing in the
        /// fraction of a millisecond between the CC read and the CC_READY clear is missed
        /// (never counted twice).
        pub fn take_current_sample(&mut self) -> Result<Option<MicroAmps>, Error<I2cError<B>>>;
        /// Continuous mode: clears CC_READY and returns the next sample (an integration
        /// period that ends after the call), polling CC_READY bounded ([`Error::Timeout`]).
        /// `CellMonitor::read_current` uses this in continuous mode.
        pub fn next_current_sample(&mut self) -> Result<MicroAmps, Error<I2cError<B>>>;
        /// One-shot current: clears CC_READY, sets CC_ONESHOT, waits 250 ms, polls CC_READY
        /// (bounded, [`Error::Timeout`]), reads and clears. Needs [`CcMode::OneShot`].
        pub fn measure_current_once(&mut self) -> Result<MicroAmps, Error<I2cError<B>>>;
        /// Sets CHG_ON / DSG_ON and reads them back. A FET the chip refuses (a latched
        /// protection fault) is an [`Error::Verify`] naming SYS_CTRL2.
        pub fn set_fets(&mut self, chg: bool, dsg: bool) -> Result<(), Error<I2cError<B>>>;
        /// (CHG_ON, DSG_ON) as the chip has them.
        pub fn fets(&mut self) -> Result<(bool, bool), Error<I2cError<B>>>;
        /// Enters SHIP mode (DS §8.4.2: SHUT_A/SHUT_B sequence 00 → 01 → 10). The chip then
        /// stops answering until the board boots it again.
        pub fn enter_ship_mode(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// Balances the real cells in `cells` (bit `k` = cell `k + 1`) through CELLBAL1..n,
        /// after the adjacency rule ([`balancing_inputs`]); verified by read-back. Returns
        /// the CBn bits written. Measurement window: the chip balances for about 70 % of each
        /// 250 ms cycle and pauses while it measures the cells, so readings are not depressed
        /// by the balance current (DS §8.3.1.3.3; "a 70% duty cycle", TI E2E 985977). There is
        /// no timer: a switch stays on until the host clears it, or until XREADY or
        /// SHIP→NORMAL clears CELLBALx — so a BMS re-evaluates the mask every cycle.
        pub fn set_balancing_cells(&mut self, cells: u32) -> Result<u16, Error<I2cError<B>>>;
        /// The cells being balanced, read back from CELLBAL1..n.
        pub fn balancing_cells(&mut self) -> Result<u32, Error<I2cError<B>>>;
    }
}

impl_cell_monitor!(i2c impl[V: Variant] Bq769x0<V> => core);
