//! The bq769x2 driver: [`Bq769x2`] over [`Blocking`](crate::io::Blocking) or
//! [`Async`](crate::io::Async) I2C. All logic lives once in the async core; the public
//! methods are generated for both flavours.

use core::fmt;
use core::marker::PhantomData;

use bitflags::bitflags;

use crate::error::{ConfigError, DeviceFault, Error, FaultReason, VerifyMismatch};
use crate::io::{I2cError, I2cIo, twins};
use crate::monitor::{
    ChainReport, ConversionMode, Faults, MonitorCore, Reading, impl_cell_monitor,
};
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};

use super::command::{direct, sub};
use super::data_memory::{Config, DaConfig, TempInputs, TempPin};
use super::frame::{self, MAX_RAW_READ, MAX_READ, MAX_TRANSFER, MAX_WRITE};
use super::status::{
    Alarm, BatteryStatus, ControlStatus, FetStatus, ManufacturingStatus, PermanentFail, Safety,
    SafetyA, SafetyB, SafetyC, Security,
};

/// Default 7-bit I2C address (8-bit 0x10/0x11; SLUAA11B).
pub const DEFAULT_ADDRESS: u8 = 0x08;

/// First wait after writing a subcommand before its echo is polled (µs; LibreSolar: 50 µs).
pub const SUBCOMMAND_FIRST_WAIT_US: u32 = 50;
/// Interval between echo polls (µs).
pub const SUBCOMMAND_POLL_US: u32 = 100;
/// Echo polls before [`Error::Timeout`] (100 × 100 µs = 10 ms, as LibreSolar).
pub const SUBCOMMAND_POLLS: u32 = 100;
/// Wait after SET_CFGUPDATE before the first CFGUPDATE poll (SLUUBY2B: ≥ 2 ms).
pub const CFGUPDATE_ENTER_WAIT_US: u32 = 2_000;
/// Wait after EXIT_CFGUPDATE before the first poll (≥ 1 ms).
pub const CFGUPDATE_EXIT_WAIT_US: u32 = 1_000;
/// Interval between CFGUPDATE polls (µs).
pub const CFGUPDATE_POLL_US: u32 = 1_000;
/// CFGUPDATE polls before [`Error::Timeout`] (100 ms after the first wait).
pub const CFGUPDATE_POLLS: u32 = 100;
/// Wait after a data-memory write before it is read back (LibreSolar, empirical: 200 µs).
pub const DATA_MEMORY_WRITE_WAIT_US: u32 = 200;
/// Hint returned by `start_cell_conversion`: a conservative bound on one full measurement
/// loop at default settings. Not a datasheet figure; Alarm Status FULLSCAN marks exactly when
/// a scan completed.
pub const SCAN_TIME: Microseconds = Microseconds(64_000);

mod private {
    pub trait Sealed {}
}

/// A bq769x2 family member (sealed).
pub trait Variant: private::Sealed {
    /// Part name.
    const NAME: &'static str;
    /// Cell inputs (VC pins measured as cells).
    const CELL_INPUTS: u8;
    /// The DEVICE_NUMBER subcommand result, if known.
    const DEVICE_NUMBER: Option<u16>;
    /// `true` if [`Variant::DEVICE_NUMBER`] was read in a TI document; if `false`, a
    /// different number is reported in [`DeviceInfo`] but not treated as an error.
    const DEVICE_NUMBER_VERIFIED: bool;
}

/// BQ76952: 16 cell inputs. DEVICE_NUMBER 0x7695 is expected by TI's numbering scheme but
/// was not found in a TI document: a mismatch is reported, not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76952;
/// BQ76942: 10 cell inputs, DEVICE_NUMBER 0x7694 (SLUAA11B §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76942;
/// BQ769142: 14 cell inputs (same command set; DEVICE_NUMBER unknown to this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq769142;
/// BQ76922: 5 cell inputs (same command set; DEVICE_NUMBER unknown to this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76922;

impl private::Sealed for Bq76952 {}
impl private::Sealed for Bq76942 {}
impl private::Sealed for Bq769142 {}
impl private::Sealed for Bq76922 {}

impl Variant for Bq76952 {
    const NAME: &'static str = "BQ76952";
    const CELL_INPUTS: u8 = 16;
    const DEVICE_NUMBER: Option<u16> = Some(0x7695);
    const DEVICE_NUMBER_VERIFIED: bool = false;
}
impl Variant for Bq76942 {
    const NAME: &'static str = "BQ76942";
    const CELL_INPUTS: u8 = 10;
    const DEVICE_NUMBER: Option<u16> = Some(0x7694);
    const DEVICE_NUMBER_VERIFIED: bool = true;
}
impl Variant for Bq769142 {
    const NAME: &'static str = "BQ769142";
    const CELL_INPUTS: u8 = 14;
    const DEVICE_NUMBER: Option<u16> = None;
    const DEVICE_NUMBER_VERIFIED: bool = false;
}
impl Variant for Bq76922 {
    const NAME: &'static str = "BQ76922";
    const CELL_INPUTS: u8 = 5;
    const DEVICE_NUMBER: Option<u16> = None;
    const DEVICE_NUMBER_VERIFIED: bool = false;
}

/// A pair of 16-bit security keys (unseal or full-access). Never printed: `Debug` redacts
/// them and the driver neither logs nor stores them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecurityKeys {
    step1: u16,
    step2: u16,
}

impl SecurityKeys {
    /// Keys as configured in Security:Keys (each written little-endian to 0x3E/0x3F).
    pub const fn new(step1: u16, step2: u16) -> Self {
        Self { step1, step2 }
    }
}

impl fmt::Debug for SecurityKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecurityKeys(<redacted>)")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SecurityKeys {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "SecurityKeys(<redacted>)")
    }
}

bitflags! {
    /// The FETs the host allows on (the driver's intent). The chip still turns a FET off
    /// when a protection trips. Converted to the FET_CONTROL layout by
    /// [`Fets::to_fet_control`]; never derived from [`FetStatus`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Fets: u8 {
        /// Charge FET.
        const CHG = 1 << 0;
        /// Precharge FET.
        const PCHG = 1 << 1;
        /// Discharge FET.
        const DSG = 1 << 2;
        /// Predischarge FET.
        const PDSG = 1 << 3;
    }
}

bitflags! {
    /// FET_CONTROL subcommand data (0x0097): 1 = force that FET off. Layout b0 DSG_OFF,
    /// b1 PDSG_OFF, b2 CHG_OFF, b3 PCHG_OFF — **not** the FET Status layout (LibreSolar
    /// bms-firmware PR #95, TRM erratum confirmed by TI).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct FetControl: u8 {
        /// Force DSG off.
        const DSG_OFF = 1 << 0;
        /// Force PDSG off.
        const PDSG_OFF = 1 << 1;
        /// Force CHG off.
        const CHG_OFF = 1 << 2;
        /// Force PCHG off.
        const PCHG_OFF = 1 << 3;
    }
}

impl Fets {
    /// The FET_CONTROL byte that allows exactly these FETs.
    ///
    /// ```
    /// use bms_afe::bq769x2::{Fets, FetControl};
    /// assert_eq!(Fets::CHG.to_fet_control(), FetControl::DSG_OFF | FetControl::PDSG_OFF | FetControl::PCHG_OFF);
    /// ```
    pub const fn to_fet_control(self) -> FetControl {
        let mut off = 0u8;
        if !self.contains(Fets::DSG) {
            off |= FetControl::DSG_OFF.bits();
        }
        if !self.contains(Fets::PDSG) {
            off |= FetControl::PDSG_OFF.bits();
        }
        if !self.contains(Fets::CHG) {
            off |= FetControl::CHG_OFF.bits();
        }
        if !self.contains(Fets::PCHG) {
            off |= FetControl::PCHG_OFF.bits();
        }
        FetControl::from_bits_retain(off)
    }
}

/// Where the result units and the cell map in [`DeviceInfo`] come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SettingsSource {
    /// Read from the chip's data memory (DA Configuration 0x9303 and Vcell Mode 0x9304,
    /// checksum verified): the driver converts and maps with the chip's own settings.
    Device,
    /// Not readable (SEALED, or security not initialised): the driver keeps what it had —
    /// [`DaConfig::ASSUMED_DEFAULT`] and "every input is a cell" unless set with
    /// [`Bq769x2::set_da_config`] / [`Bq769x2::set_vcell_mode`] or a [`Config`]. On an
    /// OTP-programmed chip these may be wrong: unseal and call `read_units_and_cell_map`, or
    /// tell the driver your OTP values.
    Assumed,
}

/// What [`Bq769x2::probe`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeviceInfo {
    /// DEVICE_NUMBER as read (checksum verified).
    pub device_number: u16,
    /// `Some(true)` if it equals the variant's number, `Some(false)` if it differs from an
    /// unverified expectation (a verified mismatch is an error instead), `None` if the
    /// variant's number is unknown.
    pub matches_variant: Option<bool>,
    /// Security state from Battery Status.
    pub security: Security,
    /// The result units (userV, userA) the driver converts with from now on.
    pub da_config: DaConfig,
    /// The Vcell Mode the driver maps cells with from now on (0 = every input is a cell).
    pub vcell_mode: u16,
    /// Whether `da_config` and `vcell_mode` were read from the chip or are assumed.
    pub settings: SettingsSource,
}

/// Pure balancing rule check over *connected-cell* numbering (bit `k` = the `k+1`-th
/// connected cell from the bottom): cells exist, no two adjacent cells, at most `max_cells`.
///
/// Adjacent cells are refused as a conservative rule: neighbouring cells' internal balancing
/// FETs share a VC pin (the same reason the bq769x0 family forbids adjacent balancing). The
/// crate's notes do not quote a bq769x2 TRM sentence for it; it costs at most half the
/// balancing throughput per step (alternate odd and even cells).
pub fn check_balancing(mask: u32, cells: u8, max_cells: u8) -> Result<(), ConfigError> {
    let limit = if cells >= 32 {
        u32::MAX
    } else {
        (1u32 << cells) - 1
    };
    if mask & !limit != 0 {
        let cell = 32 - mask.leading_zeros();
        return Err(ConfigError::NoSuchCell {
            cell: cell as u16,
            available: u16::from(cells),
        });
    }
    if mask & (mask >> 1) != 0 {
        return Err(ConfigError::Conflict(
            "adjacent cells cannot be balanced at the same time",
        ));
    }
    if mask.count_ones() > u32::from(max_cells) {
        return Err(ConfigError::Conflict(
            "more cells than Cell Balance Max Cells allows",
        ));
    }
    Ok(())
}

/// Spreads a connected-cell mask onto the physical inputs of `vcell_mode`.
pub fn logical_to_inputs(mask: u32, vcell_mode: u16) -> u16 {
    let mut out = 0u16;
    let mut k = 0u32;
    for input in 0..16u16 {
        if vcell_mode & (1 << input) != 0 {
            if k < 32 && mask & (1 << k) != 0 {
                out |= 1 << input;
            }
            k += 1;
        }
    }
    out
}

/// The driver. `V` is the [`Variant`], `IO` is [`Blocking`](crate::io::Blocking) or
/// [`Async`](crate::io::Async) around an I2C bus and a delay.
#[derive(Debug)]
pub struct Bq769x2<V, IO> {
    pub(crate) core: Core<V, IO>,
}

#[derive(Debug)]
pub(crate) struct Core<V, IO> {
    io: IO,
    address: u8,
    crc: bool,
    retries: u8,
    da: DaConfig,
    vcell_mode: u16,
    temps: TempInputs,
    fet_intent: Option<Fets>,
    cov: Option<MicroVolts>,
    cuv: Option<MicroVolts>,
    cb_max_cells: u8,
    _v: PhantomData<V>,
}

impl<V: Variant, IO> Bq769x2<V, IO> {
    /// A driver at the default address 0x08 in plain (no CRC) mode, with 2 retries.
    pub fn new(io: IO) -> Self {
        Self {
            core: Core {
                io,
                address: DEFAULT_ADDRESS,
                crc: false,
                retries: 2,
                da: DaConfig::ASSUMED_DEFAULT,
                vcell_mode: 0,
                temps: TempInputs::empty(),
                fet_intent: None,
                cov: None,
                cuv: None,
                cb_max_cells: 16,
                _v: PhantomData,
            },
        }
    }

    /// A driver in I2C CRC mode (the chip's Comm Type must select it). Recommended: in plain
    /// mode direct-command reads (cell voltages!) carry no integrity code at all.
    pub fn new_crc(io: IO) -> Self {
        let mut d = Self::new(io);
        d.core.crc = true;
        d
    }

    /// Changes the 7-bit I2C address (Settings:Configuration:I2C Address).
    pub fn with_address(mut self, address: u8) -> Self {
        self.core.address = address & 0x7F;
        self
    }

    /// Switches CRC mode on or off (after the chip's Comm Type changed — Settings:Configuration:
    /// Comm Type 0x9239 takes effect on CONFIG_UPDATE exit or SWAP_COMM_MODE; it is not
    /// accepted in a [`Config`] batch because it cuts the session's own traffic off).
    pub fn set_crc_mode(&mut self, crc: bool) {
        self.core.crc = crc;
    }

    /// `true` in CRC mode.
    pub fn crc_mode(&self) -> bool {
        self.core.crc
    }

    /// Re-reads after a CRC/checksum failure (each re-sends the register address or the
    /// subcommand). Default 2.
    pub fn set_retries(&mut self, retries: u8) {
        self.core.retries = retries;
    }

    /// The result units in use (from the last applied [`Config`] or
    /// `read_da_configuration`; [`DaConfig::ASSUMED_DEFAULT`] before).
    pub fn da_config(&self) -> DaConfig {
        self.core.da
    }

    /// Tells the driver the units without a bus access (e.g. from your OTP image).
    pub fn set_da_config(&mut self, da: DaConfig) {
        self.core.da = da;
    }

    /// The Vcell Mode the driver maps cells with (0 = every input).
    pub fn vcell_mode(&self) -> u16 {
        self.core.vcell_mode
    }

    /// Tells the driver the Vcell Mode without a bus access. Bits above the variant's inputs
    /// are refused.
    pub fn set_vcell_mode(&mut self, mask: u16) -> Result<(), ConfigError> {
        self.core.check_vcell_mode(mask)?;
        self.core.vcell_mode = mask;
        Ok(())
    }

    /// Tells the driver which pins are thermistors (reported after the die temperature).
    pub fn set_temperature_inputs(&mut self, inputs: TempInputs) {
        self.core.temps = inputs;
    }

    /// The pins reported as temperatures.
    pub fn temperature_inputs(&self) -> TempInputs {
        self.core.temps
    }

    /// The FETs the host last allowed (`None` before any FET command).
    pub fn fet_intent(&self) -> Option<Fets> {
        self.core.fet_intent
    }

    /// The cells in use, as physical inputs (bit `n − 1` = input `n`).
    pub fn connected_inputs(&self) -> u16 {
        self.core.connected()
    }

    /// Gives the bus wrapper back.
    pub fn release(self) -> IO {
        self.core.io
    }
}

impl<V: Variant, IO> Core<V, IO> {
    fn all_inputs() -> u16 {
        if V::CELL_INPUTS >= 16 {
            u16::MAX
        } else {
            (1u16 << V::CELL_INPUTS) - 1
        }
    }

    fn connected(&self) -> u16 {
        if self.vcell_mode == 0 {
            Self::all_inputs()
        } else {
            self.vcell_mode & Self::all_inputs()
        }
    }

    fn cells(&self) -> u8 {
        self.connected().count_ones() as u8
    }

    fn check_vcell_mode(&self, mask: u16) -> Result<(), ConfigError> {
        if mask & !Self::all_inputs() != 0 {
            return Err(ConfigError::NoSuchCell {
                cell: (16 - mask.leading_zeros()) as u16,
                available: u16::from(V::CELL_INPUTS),
            });
        }
        Ok(())
    }
}

fn fault(reason: FaultReason) -> DeviceFault {
    DeviceFault { device: 0, reason }
}

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    // ---- raw register access -------------------------------------------------------------

    async fn write_reg(&mut self, reg: u8, data: &[u8]) -> Result<(), Error<IO::Error>> {
        let mut buf = [0u8; MAX_WRITE];
        let n = frame::encode_write(self.crc, self.address, reg, data, &mut buf)
            .map_err(|_| Error::InvalidArgument("register write longer than 34 bytes"))?;
        let bytes = buf.get(..n).unwrap_or(&[]);
        self.io.write(self.address, bytes).await.map_err(Error::Bus)
    }

    /// Reads `out.len()` (≤ 32) bytes from `reg` with CRC checks; a failed check is retried
    /// with a fresh write of the register address (repeated-start read).
    async fn read_reg(&mut self, reg: u8, out: &mut [u8]) -> Result<(), Error<IO::Error>> {
        if out.len() > MAX_READ {
            return Err(Error::InvalidArgument("register read longer than 32 bytes"));
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
            match frame::decode_read(self.crc, self.address, reg, raw, out) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
        Err(Error::Integrity(fault(last)))
    }

    async fn read_u16(&mut self, reg: u8) -> Result<u16, Error<IO::Error>> {
        let mut b = [0u8; 2];
        self.read_reg(reg, &mut b).await?;
        Ok(u16::from_le_bytes(b))
    }

    async fn read_u8(&mut self, reg: u8) -> Result<u8, Error<IO::Error>> {
        let mut b = [0u8; 1];
        self.read_reg(reg, &mut b).await?;
        Ok(b[0])
    }

    // ---- direct commands ---------------------------------------------------------------

    pub(crate) async fn read_battery_status(&mut self) -> Result<BatteryStatus, Error<IO::Error>> {
        Ok(BatteryStatus::from_bits_retain(
            self.read_u16(direct::BATTERY_STATUS).await?,
        ))
    }

    pub(crate) async fn read_control_status(&mut self) -> Result<ControlStatus, Error<IO::Error>> {
        Ok(ControlStatus::from_bits_retain(
            self.read_u16(direct::CONTROL_STATUS).await?,
        ))
    }

    /// Safety Alert A..C and Status A..C in one burst (0x02..=0x07): (alert, status).
    pub(crate) async fn read_safety(&mut self) -> Result<(Safety, Safety), Error<IO::Error>> {
        let mut b = [0u8; 6];
        self.read_reg(direct::SAFETY_ALERT_A, &mut b).await?;
        let [aa, sa, ab, sb, ac, sc] = b;
        Ok((
            Safety {
                a: SafetyA::from_bits_retain(aa),
                b: SafetyB::from_bits_retain(ab),
                c: SafetyC::from_bits_retain(ac),
            },
            Safety {
                a: SafetyA::from_bits_retain(sa),
                b: SafetyB::from_bits_retain(sb),
                c: SafetyC::from_bits_retain(sc),
            },
        ))
    }

    pub(crate) async fn read_safety_status(&mut self) -> Result<Safety, Error<IO::Error>> {
        Ok(self.read_safety().await?.1)
    }

    pub(crate) async fn read_safety_alert(&mut self) -> Result<Safety, Error<IO::Error>> {
        Ok(self.read_safety().await?.0)
    }

    /// PF Alert A..D and Status A..D in one burst (0x0A..=0x11): (alert, status).
    pub(crate) async fn read_permanent_fail(
        &mut self,
    ) -> Result<(PermanentFail, PermanentFail), Error<IO::Error>> {
        let mut b = [0u8; 8];
        self.read_reg(direct::PF_ALERT_A, &mut b).await?;
        let [aa, sa, ab, sb, ac, sc, ad, sd] = b;
        Ok((
            PermanentFail {
                a: aa,
                b: ab,
                c: ac,
                d: ad,
            },
            PermanentFail {
                a: sa,
                b: sb,
                c: sc,
                d: sd,
            },
        ))
    }

    pub(crate) async fn read_alarm_status(&mut self) -> Result<Alarm, Error<IO::Error>> {
        Ok(Alarm::from_bits_retain(
            self.read_u16(direct::ALARM_STATUS).await?,
        ))
    }

    pub(crate) async fn read_alarm_raw_status(&mut self) -> Result<Alarm, Error<IO::Error>> {
        Ok(Alarm::from_bits_retain(
            self.read_u16(direct::ALARM_RAW_STATUS).await?,
        ))
    }

    pub(crate) async fn read_alarm_enable(&mut self) -> Result<Alarm, Error<IO::Error>> {
        Ok(Alarm::from_bits_retain(
            self.read_u16(direct::ALARM_ENABLE).await?,
        ))
    }

    pub(crate) async fn write_alarm_enable(&mut self, mask: Alarm) -> Result<(), Error<IO::Error>> {
        self.write_reg(direct::ALARM_ENABLE, &mask.bits().to_le_bytes())
            .await
    }

    pub(crate) async fn clear_alarm_status(&mut self, bits: Alarm) -> Result<(), Error<IO::Error>> {
        self.write_reg(direct::ALARM_STATUS, &bits.bits().to_le_bytes())
            .await
    }

    pub(crate) async fn read_fet_status(&mut self) -> Result<FetStatus, Error<IO::Error>> {
        Ok(FetStatus::from_bits_retain(
            self.read_u8(direct::FET_STATUS).await?,
        ))
    }

    /// Cell `cell` (1-based physical input) in mV → µV.
    pub(crate) async fn read_cell_voltage(
        &mut self,
        cell: u8,
    ) -> Result<MicroVolts, Error<IO::Error>> {
        if cell == 0 || cell > V::CELL_INPUTS {
            return Err(Error::Config(ConfigError::NoSuchCell {
                cell: u16::from(cell),
                available: u16::from(V::CELL_INPUTS),
            }));
        }
        let reg = direct::CELL1_VOLTAGE + 2 * (cell - 1);
        let raw = self.read_u16(reg).await? as i16;
        Ok(MicroVolts::from_millivolts(i32::from(raw)))
    }

    /// Every cell input in one burst from 0x14, mV → µV, input 1 first.
    pub(crate) async fn read_all_inputs(
        &mut self,
        out: &mut [MicroVolts; 16],
    ) -> Result<(), Error<IO::Error>> {
        let mut raw = [0u8; 32];
        let n = 2 * usize::from(V::CELL_INPUTS.min(16));
        let buf = raw
            .get_mut(..n)
            .ok_or(Error::InvalidArgument("cell inputs"))?;
        self.read_reg(direct::CELL1_VOLTAGE, buf).await?;
        for (o, c) in out.iter_mut().zip(raw.chunks_exact(2)) {
            let mv = i16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ]);
            *o = MicroVolts::from_millivolts(i32::from(mv));
        }
        Ok(())
    }

    pub(crate) async fn read_stack_voltage(&mut self) -> Result<MicroVolts, Error<IO::Error>> {
        let raw = self.read_u16(direct::STACK_VOLTAGE).await? as i16;
        Ok(self.da.volts(raw))
    }

    pub(crate) async fn read_pack_voltage(&mut self) -> Result<MicroVolts, Error<IO::Error>> {
        let raw = self.read_u16(direct::PACK_VOLTAGE).await? as i16;
        Ok(self.da.volts(raw))
    }

    pub(crate) async fn read_ld_voltage(&mut self) -> Result<MicroVolts, Error<IO::Error>> {
        let raw = self.read_u16(direct::LD_VOLTAGE).await? as i16;
        Ok(self.da.volts(raw))
    }

    pub(crate) async fn read_cc2_current(&mut self) -> Result<MicroAmps, Error<IO::Error>> {
        let raw = self.read_u16(direct::CC2_CURRENT).await? as i16;
        Ok(self.da.amps(raw))
    }

    pub(crate) async fn read_internal_temperature(
        &mut self,
    ) -> Result<MilliCelsius, Error<IO::Error>> {
        let raw = self.read_u16(direct::INT_TEMPERATURE).await? as i16;
        Ok(MilliCelsius::from_decikelvin(i32::from(raw)))
    }

    pub(crate) async fn read_pin_temperature(
        &mut self,
        pin: TempPin,
    ) -> Result<MilliCelsius, Error<IO::Error>> {
        let raw = self.read_u16(pin.direct_command()).await? as i16;
        Ok(MilliCelsius::from_decikelvin(i32::from(raw)))
    }

    // ---- subcommands ---------------------------------------------------------------------

    pub(crate) async fn subcommand(&mut self, cmd: u16) -> Result<(), Error<IO::Error>> {
        self.write_reg(direct::SUBCOMMAND, &cmd.to_le_bytes()).await
    }

    async fn wait_echo(&mut self, cmd: u16) -> Result<(), Error<IO::Error>> {
        self.io.delay_us(SUBCOMMAND_FIRST_WAIT_US).await;
        for _ in 0..SUBCOMMAND_POLLS {
            if self.read_u16(direct::SUBCOMMAND).await? == cmd {
                return Ok(());
            }
            self.io.delay_us(SUBCOMMAND_POLL_US).await;
        }
        Err(Error::Timeout("subcommand response (0x3E/0x3F echo)"))
    }

    /// Sends `cmd`, waits for its echo, reads the data, then checksum and length, verifies
    /// them and copies up to `out.len()` bytes. Returns the data length the chip announced.
    /// A checksum/length failure re-sends the subcommand (up to the retry count).
    pub(crate) async fn subcommand_read(
        &mut self,
        cmd: u16,
        out: &mut [u8],
    ) -> Result<usize, Error<IO::Error>> {
        self.subcommand_read_burst(cmd, out, out.len()).await
    }

    /// [`Self::subcommand_read`] with a first data burst of `burst` bytes (≤ 32).
    ///
    /// Order: echo, **data (one burst from 0x40), then 0x60/0x61**. On the BQ7690x reading
    /// 0x61 advances 0x3E/0x3F by 0x20 and refills the buffer (TRM-76907 §3.1, `ti.md` §B.5);
    /// if the bq769x2 does the same, data read after 0x61 belongs to the next block. Reading
    /// the data first is right whichever behaviour the silicon has. If the chip announces
    /// more data than the burst held, the subcommand is sent again once with a burst of the
    /// announced length (the buffer cannot be re-read after 0x61).
    async fn subcommand_read_burst(
        &mut self,
        cmd: u16,
        out: &mut [u8],
        burst: usize,
    ) -> Result<usize, Error<IO::Error>> {
        let mut want = burst.min(MAX_TRANSFER);
        let mut grown = false;
        let mut left = u32::from(self.retries) + 1;
        let mut last = FaultReason::Framing;
        while left > 0 {
            left -= 1;
            self.subcommand(cmd).await?;
            self.wait_echo(cmd).await?;
            let mut buf = [0u8; MAX_TRANSFER];
            let data = buf.get_mut(..want).unwrap_or(&mut []);
            if !data.is_empty() {
                self.read_reg(direct::TRANSFER_BUFFER, data).await?;
            }
            let mut cl = [0u8; 2];
            self.read_reg(direct::TRANSFER_CHECKSUM, &mut cl).await?;
            let [ck, len_byte] = cl;
            let Some(len) = frame::data_len_from_length(len_byte) else {
                last = FaultReason::Framing;
                continue;
            };
            if len > want {
                // Longer than the burst: read it whole on a fresh send (once without using a
                // retry; a chip that keeps changing its length spends retries).
                want = len;
                last = FaultReason::Framing;
                if !grown {
                    grown = true;
                    left += 1;
                }
                continue;
            }
            let data = buf.get(..len).unwrap_or(&[]);
            match frame::verify_transfer(cmd, data, ck, len_byte) {
                Ok(()) => {
                    let n = out.len().min(len);
                    if let (Some(o), Some(d)) = (out.get_mut(..n), data.get(..n)) {
                        o.copy_from_slice(d);
                    }
                    return Ok(len);
                }
                Err(e) => last = e,
            }
        }
        Err(Error::Integrity(fault(last)))
    }

    /// Reads exactly `out.len()` bytes of a subcommand response (a shorter response is a
    /// framing fault).
    async fn subcommand_read_exact(
        &mut self,
        cmd: u16,
        out: &mut [u8],
    ) -> Result<(), Error<IO::Error>> {
        let len = self.subcommand_read(cmd, out).await?;
        if len < out.len() {
            // The response passed its checksum: the chip answered, with less than asked
            // (e.g. a command not available in the current security state).
            return Err(Error::Device {
                device: 0,
                what: "subcommand answered with fewer bytes than expected (sealed or unsupported?)",
            });
        }
        Ok(())
    }

    /// Subcommand (or data-memory address) with data: address to 0x3E/0x3F, data to 0x40…,
    /// then checksum and length **last** to 0x60/0x61.
    pub(crate) async fn subcommand_write(
        &mut self,
        cmd: u16,
        data: &[u8],
    ) -> Result<(), Error<IO::Error>> {
        if data.len() > MAX_TRANSFER {
            return Err(Error::InvalidArgument(
                "subcommand data longer than 32 bytes",
            ));
        }
        self.subcommand(cmd).await?;
        self.write_reg(direct::TRANSFER_BUFFER, data).await?;
        let tail = [
            frame::checksum(cmd, data),
            frame::transfer_length(data.len()),
        ];
        self.write_reg(direct::TRANSFER_CHECKSUM, &tail).await
    }

    pub(crate) async fn read_device_number(&mut self) -> Result<u16, Error<IO::Error>> {
        let mut b = [0u8; 2];
        self.subcommand_read_exact(sub::DEVICE_NUMBER, &mut b)
            .await?;
        Ok(u16::from_le_bytes(b))
    }

    pub(crate) async fn read_fw_version(&mut self) -> Result<[u8; 6], Error<IO::Error>> {
        let mut b = [0u8; 6];
        self.subcommand_read_exact(sub::FW_VERSION, &mut b).await?;
        Ok(b)
    }

    pub(crate) async fn read_manufacturing_status(
        &mut self,
    ) -> Result<ManufacturingStatus, Error<IO::Error>> {
        let mut b = [0u8; 2];
        self.subcommand_read_exact(sub::MANUFACTURING_STATUS, &mut b)
            .await?;
        Ok(ManufacturingStatus::from_bits_retain(u16::from_le_bytes(b)))
    }

    pub(crate) async fn read_cb_active_cells(&mut self) -> Result<u16, Error<IO::Error>> {
        let mut b = [0u8; 2];
        self.subcommand_read_exact(sub::CB_ACTIVE_CELLS, &mut b)
            .await?;
        Ok(u16::from_le_bytes(b))
    }

    pub(crate) async fn read_dastatus(&mut self, n: u8) -> Result<[u8; 32], Error<IO::Error>> {
        if !(1..=7).contains(&n) {
            return Err(Error::InvalidArgument("DASTATUS index is 1..=7"));
        }
        let mut b = [0u8; 32];
        self.subcommand_read_exact(sub::DASTATUS1 + u16::from(n - 1), &mut b)
            .await?;
        Ok(b)
    }

    pub(crate) async fn probe(&mut self) -> Result<DeviceInfo, Error<IO::Error>> {
        let n = self.read_device_number().await?;
        let matches_variant = V::DEVICE_NUMBER.map(|d| d == n);
        if V::DEVICE_NUMBER_VERIFIED && matches_variant == Some(false) {
            return Err(Error::Device {
                device: 0,
                what: "DEVICE_NUMBER does not match the selected variant",
            });
        }
        let security = self.read_battery_status().await?.security();
        // Data memory is readable when UNSEALED or FULLACCESS (a SEALED chip answers data-memory
        // reads with no data). Learn the units and the cell map there, so an OTP-programmed
        // chip is not converted or mapped with assumed defaults.
        let settings = match security {
            Security::Unsealed | Security::FullAccess => {
                self.read_units_and_cell_map().await?;
                SettingsSource::Device
            }
            Security::Sealed | Security::NotInitialized => SettingsSource::Assumed,
        };
        Ok(DeviceInfo {
            device_number: n,
            matches_variant,
            security,
            da_config: self.da,
            vcell_mode: self.vcell_mode,
            settings,
        })
    }

    /// DA Configuration (0x9303) and Vcell Mode (0x9304..=0x9305) from ONE data-memory read
    /// (the 32-byte block at 0x9303), adopted together only if both are usable.
    pub(crate) async fn read_units_and_cell_map(
        &mut self,
    ) -> Result<(DaConfig, u16), Error<IO::Error>> {
        let mut b = [0u8; 3];
        self.read_data_memory(super::data_memory::address::DA_CONFIGURATION, &mut b)
            .await?;
        let [da, lo, hi] = b;
        let mask = u16::from_le_bytes([lo, hi]);
        if self.check_vcell_mode(mask).is_err() {
            return Err(Error::Device {
                device: 0,
                what: "Vcell Mode selects cell inputs this variant does not have (wrong variant?)",
            });
        }
        self.da = DaConfig::from_byte(da);
        self.vcell_mode = mask;
        Ok((self.da, self.vcell_mode))
    }

    pub(crate) async fn reset(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::RESET).await?;
        // Data memory returns to OTP values: forget what the driver was told.
        self.da = DaConfig::ASSUMED_DEFAULT;
        self.vcell_mode = 0;
        self.fet_intent = None;
        self.cov = None;
        self.cuv = None;
        self.cb_max_cells = 16;
        Ok(())
    }

    pub(crate) async fn sleep_enable(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::SLEEP_ENABLE).await
    }

    pub(crate) async fn sleep_disable(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::SLEEP_DISABLE).await
    }

    /// DEEPSLEEP must be sent twice in a row (TI example code).
    pub(crate) async fn deep_sleep(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::DEEPSLEEP).await?;
        self.subcommand(sub::DEEPSLEEP).await
    }

    pub(crate) async fn exit_deep_sleep(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::EXIT_DEEPSLEEP).await
    }

    /// SHUTDOWN must be sent twice in a row (TI example code).
    pub(crate) async fn shutdown(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::SHUTDOWN).await?;
        self.subcommand(sub::SHUTDOWN).await
    }

    // ---- security ------------------------------------------------------------------------

    async fn send_keys(&mut self, keys: SecurityKeys) -> Result<(), Error<IO::Error>> {
        self.write_reg(direct::SUBCOMMAND, &keys.step1.to_le_bytes())
            .await?;
        self.write_reg(direct::SUBCOMMAND, &keys.step2.to_le_bytes())
            .await?;
        self.io.delay_us(SUBCOMMAND_POLL_US).await;
        Ok(())
    }

    pub(crate) async fn security(&mut self) -> Result<Security, Error<IO::Error>> {
        Ok(self.read_battery_status().await?.security())
    }

    pub(crate) async fn unseal(
        &mut self,
        keys: SecurityKeys,
    ) -> Result<Security, Error<IO::Error>> {
        if self.security().await? != Security::Sealed {
            return self.security().await;
        }
        self.send_keys(keys).await?;
        match self.security().await? {
            Security::Sealed | Security::NotInitialized => Err(Error::Device {
                device: 0,
                what: "unseal refused: the unseal keys were not accepted",
            }),
            s => Ok(s),
        }
    }

    pub(crate) async fn full_access(&mut self, keys: SecurityKeys) -> Result<(), Error<IO::Error>> {
        match self.security().await? {
            Security::FullAccess => return Ok(()),
            Security::Sealed => {
                return Err(Error::Device {
                    device: 0,
                    what: "full access needs UNSEALED first: call unseal",
                });
            }
            _ => {}
        }
        self.send_keys(keys).await?;
        if self.security().await? != Security::FullAccess {
            return Err(Error::Device {
                device: 0,
                what: "full access refused: the full-access keys were not accepted",
            });
        }
        Ok(())
    }

    pub(crate) async fn seal(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::SEAL).await?;
        self.io.delay_us(SUBCOMMAND_POLL_US).await;
        if self.security().await? != Security::Sealed {
            return Err(Error::Device {
                device: 0,
                what: "SEAL not taken",
            });
        }
        Ok(())
    }

    // ---- data memory / CONFIG_UPDATE ---------------------------------------------------

    pub(crate) async fn read_data_memory(
        &mut self,
        address: u16,
        out: &mut [u8],
    ) -> Result<(), Error<IO::Error>> {
        if !(0x9000..=0x9FFF).contains(&address) {
            return Err(Error::InvalidArgument(
                "data-memory address outside 0x9000..=0x9FFF",
            ));
        }
        // A data-memory read answers with a whole 32-byte block (length 0x24, SLUUBY2B
        // data-memory example): read it in one burst so the checksum can be verified.
        let len = self
            .subcommand_read_burst(address, out, MAX_TRANSFER)
            .await?;
        if len < out.len() {
            return Err(Error::Device {
                device: 0,
                what: "data-memory read answered with fewer bytes than expected (sealed?)",
            });
        }
        Ok(())
    }

    pub(crate) async fn read_da_configuration(&mut self) -> Result<DaConfig, Error<IO::Error>> {
        let mut b = [0u8; 1];
        self.read_data_memory(super::data_memory::address::DA_CONFIGURATION, &mut b)
            .await?;
        self.da = DaConfig::from_byte(b[0]);
        Ok(self.da)
    }

    async fn wait_cfgupdate(
        &mut self,
        on: bool,
        first_wait: u32,
        what: &'static str,
    ) -> Result<(), Error<IO::Error>> {
        self.io.delay_us(first_wait).await;
        for _ in 0..CFGUPDATE_POLLS {
            let st = self.read_battery_status().await?;
            if st.contains(BatteryStatus::CFGUPDATE) == on {
                return Ok(());
            }
            self.io.delay_us(CFGUPDATE_POLL_US).await;
        }
        Err(Error::Timeout(what))
    }

    pub(crate) async fn enter_config_update(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::SET_CFGUPDATE).await?;
        self.wait_cfgupdate(
            true,
            CFGUPDATE_ENTER_WAIT_US,
            "CONFIG_UPDATE entry (Battery Status CFGUPDATE = 1)",
        )
        .await
    }

    pub(crate) async fn exit_config_update(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::EXIT_CFGUPDATE).await?;
        self.wait_cfgupdate(
            false,
            CFGUPDATE_EXIT_WAIT_US,
            "CONFIG_UPDATE exit (Battery Status CFGUPDATE = 0)",
        )
        .await
    }

    async fn write_verified(
        &mut self,
        address: u16,
        data: &[u8],
        name: &'static str,
    ) -> Result<(), Error<IO::Error>> {
        self.subcommand_write(address, data).await?;
        self.io.delay_us(DATA_MEMORY_WRITE_WAIT_US).await;
        let mut back = [0u8; 2];
        let back = back.get_mut(..data.len()).unwrap_or(&mut []);
        self.read_data_memory(address, back).await?;
        for (i, (&e, &a)) in data.iter().zip(back.iter()).enumerate() {
            if e != a {
                return Err(Error::Verify(VerifyMismatch {
                    device: 0,
                    register: name,
                    offset: i as u8,
                    expected: e,
                    actual: a,
                }));
            }
        }
        Ok(())
    }

    pub(crate) async fn configure(&mut self, config: &Config) -> Result<(), Error<IO::Error>> {
        if config.overflowed {
            // A setting was refused when the batch was built: writing the rest would leave
            // the chip without it while reporting success.
            return Err(Error::Config(ConfigError::Conflict(
                super::data_memory::BATCH_FULL,
            )));
        }
        if let Some(m) = config.vcell_mode {
            self.check_vcell_mode(m)?;
        }
        // userV = 1 mV caps the 16-bit stack/PACK/LD results at 32.767 V: refuse it for
        // stacks that can exceed that (more than 7 cells at up to 4.5 V).
        let da = config.da.unwrap_or(self.da);
        let cells = config.vcell_mode.map_or(self.cells(), |m| {
            if m == 0 {
                V::CELL_INPUTS
            } else {
                m.count_ones() as u8
            }
        });
        if da.user_volts == super::data_memory::UserVolts::Millivolt && cells > 7 {
            return Err(Error::Config(ConfigError::Conflict(
                "userV = mV overflows the 16-bit stack voltage above 7 cells: use centivolts",
            )));
        }
        if config.is_empty() {
            return Ok(());
        }
        match self.security().await? {
            Security::FullAccess => {}
            _ => {
                return Err(Error::Device {
                    device: 0,
                    what: "CONFIG_UPDATE needs FULLACCESS: unseal and request full access first",
                });
            }
        }
        if let Err(e) = self.enter_config_update().await {
            // The chip may still enter late: ask it to leave so the protections resume.
            let _ = self.exit_config_update().await;
            return Err(e);
        }
        let mut result = Ok(());
        for e in config.entries() {
            result = self.write_verified(e.address, e.data(), e.name).await;
            if result.is_err() {
                break;
            }
        }
        // Always leave CONFIG_UPDATE so the protections come back, even after a failure.
        let exit = self.exit_config_update().await;
        result?;
        exit?;
        if let Some(m) = config.vcell_mode {
            self.vcell_mode = m;
        }
        if let Some(da) = config.da {
            self.da = da;
        }
        if config.cov.is_some() {
            self.cov = config.cov;
        }
        if config.cuv.is_some() {
            self.cuv = config.cuv;
        }
        if let Some(n) = config.cb_max_cells {
            self.cb_max_cells = n;
        }
        self.temps = (self.temps & !config.temp_set) | config.temp_on;
        Ok(())
    }

    // ---- FETs ----------------------------------------------------------------------------

    pub(crate) async fn enable_autonomous_fets(
        &mut self,
    ) -> Result<ManufacturingStatus, Error<IO::Error>> {
        let st = self.read_manufacturing_status().await?;
        if st.contains(ManufacturingStatus::FET_EN) {
            return Ok(st);
        }
        // FET_ENABLE toggles FET_EN: only send it when FET_EN is known to be 0.
        self.subcommand(sub::FET_ENABLE).await?;
        let st = self.read_manufacturing_status().await?;
        if !st.contains(ManufacturingStatus::FET_EN) {
            return Err(Error::Device {
                device: 0,
                what: "FET_EN did not set (device sealed or FET test mode locked)",
            });
        }
        Ok(st)
    }

    pub(crate) async fn set_fets(&mut self, allowed: Fets) -> Result<(), Error<IO::Error>> {
        let fc = allowed.to_fet_control();
        self.subcommand_write(sub::FET_CONTROL, &[fc.bits()])
            .await?;
        self.fet_intent = Some(allowed);
        Ok(())
    }

    pub(crate) async fn all_fets_off(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::ALL_FETS_OFF).await?;
        self.fet_intent = Some(Fets::empty());
        Ok(())
    }

    // ---- balancing -----------------------------------------------------------------------

    /// Balances the given connected cells (bit k = k+1-th connected cell).
    pub(crate) async fn set_balancing_cells(&mut self, mask: u32) -> Result<u16, Error<IO::Error>> {
        check_balancing(mask, self.cells(), self.cb_max_cells)?;
        let inputs = logical_to_inputs(mask, self.connected());
        self.subcommand_write(sub::CB_ACTIVE_CELLS, &inputs.to_le_bytes())
            .await?;
        let back = self.read_cb_active_cells().await?;
        let pairs = inputs.to_le_bytes().into_iter().zip(back.to_le_bytes());
        for (offset, (expected, actual)) in pairs.enumerate() {
            if expected != actual {
                return Err(Error::Verify(VerifyMismatch {
                    device: 0,
                    register: "CB_ACTIVE_CELLS",
                    offset: offset as u8,
                    expected,
                    actual,
                }));
            }
        }
        Ok(inputs)
    }
}

fn fail_all<T>(out: &mut [Reading<T>], f: DeviceFault) -> ChainReport {
    for o in out.iter_mut() {
        *o = Reading::Failed(f);
    }
    let mut r = ChainReport::OK;
    r.record(f);
    r
}

impl<V: Variant, IO: I2cIo> MonitorCore for Core<V, IO> {
    type BusError = IO::Error;

    fn device_count(&self) -> usize {
        1
    }

    fn cells_per_device(&self) -> usize {
        usize::from(self.cells())
    }

    fn temperatures_per_device(&self) -> usize {
        1 + self.temps.bits().count_ones() as usize
    }

    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        let cs = self.read_control_status().await?;
        if cs.contains(ControlStatus::DEEPSLEEP) {
            self.exit_deep_sleep().await?;
        }
        Ok(())
    }

    async fn start_cell_conversion(
        &mut self,
        _mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        // The bq769x2 converts on its own in a continuous measurement loop; there is nothing
        // to start. The hint is the time until a full fresh scan.
        Ok(SCAN_TIME)
    }

    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != usize::from(self.cells()) {
            return Err(Error::InvalidArgument("out.len() must equal cell_count()"));
        }
        let mut all = [MicroVolts::ZERO; 16];
        match self.read_all_inputs(&mut all).await {
            Ok(()) => {}
            Err(Error::Integrity(f)) => return Ok(fail_all(out, f)),
            Err(e) => return Err(e),
        }
        let connected = self.connected();
        let mut slots = out.iter_mut();
        for (i, v) in all.iter().enumerate() {
            if connected & (1 << i) != 0 {
                if let Some(o) = slots.next() {
                    *o = Reading::Valid(*v);
                }
            }
        }
        Ok(ChainReport::OK)
    }

    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let wait = self.start_cell_conversion(mode).await?;
        self.io.delay_us(wait.as_micros()).await;
        self.read_cell_voltages(out).await
    }

    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != self.temperatures_per_device() {
            return Err(Error::InvalidArgument(
                "out.len() must equal temperatures_per_device()",
            ));
        }
        let mut report = ChainReport::OK;
        let temps = self.temps;
        let mut slots = out.iter_mut();
        let first = self.read_internal_temperature().await;
        let put = |slot: Option<&mut Reading<MilliCelsius>>,
                   r: Result<MilliCelsius, Error<IO::Error>>,
                   report: &mut ChainReport|
         -> Result<(), Error<IO::Error>> {
            let v = match r {
                Ok(t) => Reading::Valid(t),
                Err(Error::Integrity(f)) => {
                    report.record(f);
                    Reading::Failed(f)
                }
                Err(e) => return Err(e),
            };
            if let Some(s) = slot {
                *s = v;
            }
            Ok(())
        };
        put(slots.next(), first, &mut report)?;
        for pin in TempPin::ALL {
            if temps.contains(pin.input()) {
                let r = self.read_pin_temperature(pin).await;
                put(slots.next(), r, &mut report)?;
            }
        }
        Ok(report)
    }

    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let slot = match out {
            [s] => s,
            _ => return Err(Error::InvalidArgument("out.len() must be 1")),
        };
        match self.read_stack_voltage().await {
            Ok(v) => {
                *slot = Reading::Valid(v);
                Ok(ChainReport::OK)
            }
            Err(Error::Integrity(f)) => Ok(fail_all(core::slice::from_mut(slot), f)),
            Err(e) => Err(e),
        }
    }

    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        Ok(Some(self.read_cc2_current().await?))
    }

    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        let mask = match masks {
            [m] => *m,
            _ => return Err(Error::InvalidArgument("masks.len() must be 1")),
        };
        self.set_balancing_cells(mask).await.map(|_| ())
    }

    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let slot = match out {
            [s] => s,
            _ => return Err(Error::InvalidArgument("out.len() must be 1")),
        };
        let st = match self.read_safety_status().await {
            Ok(s) => s,
            Err(Error::Integrity(f)) => return Ok(fail_all(core::slice::from_mut(slot), f)),
            Err(e) => return Err(e),
        };
        let mut faults = Faults {
            over_temperature: st
                .b
                .intersects(SafetyB::OTC | SafetyB::OTD | SafetyB::OTF | SafetyB::OTINT),
            under_temperature: st
                .b
                .intersects(SafetyB::UTC | SafetyB::UTD | SafetyB::UTINT),
            thermal_shutdown: false,
            internal: st.c.contains(SafetyC::HWDF),
            overcurrent: st
                .a
                .intersects(SafetyA::OCC | SafetyA::OCD1 | SafetyA::OCD2)
                || st.c.intersects(SafetyC::OCD3 | SafetyC::OCDL),
            short_circuit: st.a.contains(SafetyA::SCD) || st.c.contains(SafetyC::SCDL),
            raw: st.raw(),
            ..Faults::default()
        };
        let cov = st.a.contains(SafetyA::COV) || st.c.contains(SafetyC::COVL);
        let cuv = st.a.contains(SafetyA::CUV);
        if cov || cuv {
            let cells = usize::from(self.cells());
            let all_cells = if cells >= 32 {
                u32::MAX
            } else {
                (1u32 << cells) - 1
            };
            // The chip flags the pack, not the cell: name the cells past the known threshold,
            // else every cell.
            let mut v = [Reading::NotConverted; 16];
            let vs = v.get_mut(..cells).unwrap_or(&mut []);
            let read_ok = match self.read_cell_voltages(vs).await {
                Ok(r) => r.is_ok(),
                Err(Error::Integrity(_)) => false,
                Err(e) => return Err(e),
            };
            let pick = |th: Option<MicroVolts>, over: bool| -> u32 {
                let mut m = 0u32;
                if let (Some(th), true) = (th, read_ok) {
                    for (k, r) in vs.iter().enumerate() {
                        if let Reading::Valid(x) = r {
                            if (over && *x >= th) || (!over && *x <= th) {
                                m |= 1 << k;
                            }
                        }
                    }
                }
                if m == 0 { all_cells } else { m }
            };
            if cov {
                faults.overvoltage = pick(self.cov, true);
            }
            if cuv {
                faults.undervoltage = pick(self.cuv, false);
            }
        }
        *slot = Reading::Valid(faults);
        Ok(ChainReport::OK)
    }
}

twins! {
    i2c impl[V: Variant] Bq769x2<V> => core {
        /// Reads DEVICE_NUMBER (checksum verified) and the security state. A mismatch with a
        /// verified variant number is [`Error::Device`]; with an unverified one it is reported
        /// in [`DeviceInfo::matches_variant`].
        ///
        /// When the chip is UNSEALED or in FULLACCESS, probe also reads DA Configuration and
        /// Vcell Mode (one checksum-verified data-memory read) and adopts them, so results of
        /// an OTP-programmed chip are scaled and mapped with its own settings
        /// ([`SettingsSource::Device`]). When SEALED, data memory is not readable: the driver
        /// keeps the units and cell map it had and says so ([`SettingsSource::Assumed`]);
        /// call `read_units_and_cell_map` after unsealing, or tell the driver your OTP values.
        /// A Vcell Mode with inputs the variant lacks is [`Error::Device`] (wrong variant).
        pub fn probe(&mut self) -> Result<DeviceInfo, Error<I2cError<B>>>;
        /// Reads DA Configuration and Vcell Mode (one data-memory read; needs UNSEALED or
        /// FULLACCESS) and adopts both: `(units, vcell_mode)`. A Vcell Mode with inputs the
        /// variant lacks is [`Error::Device`] and nothing is adopted.
        pub fn read_units_and_cell_map(&mut self) -> Result<(DaConfig, u16), Error<I2cError<B>>>;
        /// Battery Status (0x12).
        pub fn read_battery_status(&mut self) -> Result<BatteryStatus, Error<I2cError<B>>>;
        /// Control Status (0x00).
        pub fn read_control_status(&mut self) -> Result<ControlStatus, Error<I2cError<B>>>;
        /// Safety Alert and Status A/B/C in one burst: `(alert, status)`.
        pub fn read_safety(&mut self) -> Result<(Safety, Safety), Error<I2cError<B>>>;
        /// Safety Status A/B/C.
        pub fn read_safety_status(&mut self) -> Result<Safety, Error<I2cError<B>>>;
        /// Safety Alert A/B/C.
        pub fn read_safety_alert(&mut self) -> Result<Safety, Error<I2cError<B>>>;
        /// Permanent-fail Alert and Status A–D in one burst: `(alert, status)`.
        pub fn read_permanent_fail(&mut self) -> Result<(PermanentFail, PermanentFail), Error<I2cError<B>>>;
        /// Alarm Status (0x62, latched).
        pub fn read_alarm_status(&mut self) -> Result<Alarm, Error<I2cError<B>>>;
        /// Alarm Raw Status (0x64).
        pub fn read_alarm_raw_status(&mut self) -> Result<Alarm, Error<I2cError<B>>>;
        /// Alarm Enable (0x66).
        pub fn read_alarm_enable(&mut self) -> Result<Alarm, Error<I2cError<B>>>;
        /// Writes Alarm Enable (0x66).
        pub fn write_alarm_enable(&mut self, mask: Alarm) -> Result<(), Error<I2cError<B>>>;
        /// Clears latched Alarm Status bits (write 1s to 0x62).
        pub fn clear_alarm_status(&mut self, bits: Alarm) -> Result<(), Error<I2cError<B>>>;
        /// FET Status (0x7F).
        pub fn read_fet_status(&mut self) -> Result<FetStatus, Error<I2cError<B>>>;
        /// One cell input (1-based physical input number), in µV.
        pub fn read_cell_voltage(&mut self, cell: u8) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// Every cell input in one burst read from 0x14 (input 1 first; entries past the
        /// variant's inputs stay zero).
        pub fn read_all_inputs(&mut self, out: &mut [MicroVolts; 16]) -> Result<(), Error<I2cError<B>>>;
        /// Stack voltage (0x34) in userV, converted with the DA Configuration.
        pub fn read_stack_voltage(&mut self) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// PACK pin voltage (0x36).
        pub fn read_pack_voltage(&mut self) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// LD pin voltage (0x38).
        pub fn read_ld_voltage(&mut self) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// CC2 current (0x3A) in userA, converted with the DA Configuration.
        pub fn read_cc2_current(&mut self) -> Result<MicroAmps, Error<I2cError<B>>>;
        /// Die temperature (0x68, 0.1 K).
        pub fn read_internal_temperature(&mut self) -> Result<MilliCelsius, Error<I2cError<B>>>;
        /// A pin temperature (0.1 K).
        pub fn read_pin_temperature(&mut self, pin: TempPin) -> Result<MilliCelsius, Error<I2cError<B>>>;
        /// A command-only subcommand.
        pub fn subcommand(&mut self, cmd: u16) -> Result<(), Error<I2cError<B>>>;
        /// A subcommand with a response: polls the echo (bounded), verifies checksum and
        /// length ([`FaultReason::Checksum`]), copies up to `out.len()` bytes and returns the
        /// announced data length.
        pub fn subcommand_read(&mut self, cmd: u16, out: &mut [u8]) -> Result<usize, Error<I2cError<B>>>;
        /// A subcommand with data (≤ 32 bytes), checksum and length written last.
        pub fn subcommand_write(&mut self, cmd: u16, data: &[u8]) -> Result<(), Error<I2cError<B>>>;
        /// DEVICE_NUMBER.
        pub fn read_device_number(&mut self) -> Result<u16, Error<I2cError<B>>>;
        /// FW_VERSION (6 bytes as sent by the device).
        pub fn read_fw_version(&mut self) -> Result<[u8; 6], Error<I2cError<B>>>;
        /// Manufacturing Status.
        pub fn read_manufacturing_status(&mut self) -> Result<ManufacturingStatus, Error<I2cError<B>>>;
        /// CB_ACTIVE_CELLS (physical inputs being balanced).
        pub fn read_cb_active_cells(&mut self) -> Result<u16, Error<I2cError<B>>>;
        /// DASTATUS1..=7 (raw 32-byte block).
        pub fn read_dastatus(&mut self, n: u8) -> Result<[u8; 32], Error<I2cError<B>>>;
        /// RESET: data memory returns to OTP values; the driver forgets what it was told and
        /// assumes the defaults again (call `probe` or `read_units_and_cell_map` to re-learn
        /// the OTP units and cell map).
        pub fn reset(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// SLEEP_ENABLE.
        pub fn sleep_enable(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// SLEEP_DISABLE.
        pub fn sleep_disable(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// DEEPSLEEP (sent twice, as required).
        pub fn deep_sleep(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// EXIT_DEEPSLEEP.
        pub fn exit_deep_sleep(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// SHUTDOWN (sent twice, as required).
        pub fn shutdown(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// The security state.
        pub fn security(&mut self) -> Result<Security, Error<I2cError<B>>>;
        /// Writes the unseal keys (if SEALED) and confirms the new state.
        pub fn unseal(&mut self, keys: SecurityKeys) -> Result<Security, Error<I2cError<B>>>;
        /// Writes the full-access keys (from UNSEALED) and confirms FULLACCESS.
        pub fn full_access(&mut self, keys: SecurityKeys) -> Result<(), Error<I2cError<B>>>;
        /// SEAL, confirmed.
        pub fn seal(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// Reads `out.len()` bytes of data memory (checksum verified).
        pub fn read_data_memory(&mut self, address: u16, out: &mut [u8]) -> Result<(), Error<I2cError<B>>>;
        /// Reads DA Configuration and adopts its units.
        pub fn read_da_configuration(&mut self) -> Result<DaConfig, Error<I2cError<B>>>;
        /// SET_CFGUPDATE, then polls Battery Status until CFGUPDATE = 1 (bounded).
        pub fn enter_config_update(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// EXIT_CFGUPDATE, then polls until CFGUPDATE = 0 (bounded).
        pub fn exit_config_update(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// Writes the whole batch inside ONE CONFIG_UPDATE session (needs FULLACCESS), reading
        /// every entry back ([`Error::Verify`] names the setting). A batch that refused a
        /// setting when it was built ([`Config::overflowed`]) is refused with
        /// [`ConfigError::Conflict`] before anything is sent. The session is exited even
        /// after a failure so the protections resume. Then adopts units, cell map,
        /// thresholds and temperature pins.
        pub fn configure(&mut self, config: &Config) -> Result<(), Error<I2cError<B>>>;
        /// Sets Manufacturing Status FET_EN (autonomous FET control) if it is not set. FET_ENABLE
        /// toggles, so it is only sent after reading FET_EN = 0, and the result is confirmed.
        pub fn enable_autonomous_fets(&mut self) -> Result<ManufacturingStatus, Error<I2cError<B>>>;
        /// Allows exactly these FETs (FET_CONTROL with the OFF bits of the others) and records
        /// the intent. Protections still turn FETs off.
        pub fn set_fets(&mut self, allowed: Fets) -> Result<(), Error<I2cError<B>>>;
        /// ALL_FETS_OFF; the intent becomes "none".
        pub fn all_fets_off(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// Host balancing of connected cells (bit k = k+1-th connected cell): rules checked
        /// by [`check_balancing`], written to CB_ACTIVE_CELLS and read back. Returns the
        /// physical input mask.
        pub fn set_balancing_cells(&mut self, mask: u32) -> Result<u16, Error<I2cError<B>>>;
    }
}

impl_cell_monitor!(i2c impl[V: Variant] Bq769x2<V> => core);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balancing_rules() {
        assert_eq!(check_balancing(0b101, 16, 16), Ok(()));
        assert!(matches!(
            check_balancing(0b11, 16, 16),
            Err(ConfigError::Conflict(_))
        ));
        assert!(matches!(
            check_balancing(1 << 16, 16, 16),
            Err(ConfigError::NoSuchCell {
                cell: 17,
                available: 16
            })
        ));
        assert!(matches!(
            check_balancing(0b10101, 16, 2),
            Err(ConfigError::Conflict(_))
        ));
    }

    #[test]
    fn logical_mapping_skips_unused_inputs() {
        // Inputs 1, 2, 3 and 16 used: connected cell 4 is input 16.
        assert_eq!(logical_to_inputs(0b1001, 0x8007), 0x8001);
    }

    #[test]
    fn keys_never_print() {
        extern crate std;
        let s = std::format!("{:?}", SecurityKeys::new(0x0414, 0x3672));
        assert!(!s.contains("414") && !s.contains("3672") && !s.contains("1044"));
    }
}
