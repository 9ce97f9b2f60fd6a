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

/// Converts a checked VC burst (`W` raw bytes per input, the LO byte at offset `LO`) into the
/// real cells' readings; a code of 0 is the reset value, [`Reading::NotConverted`].
#[inline(always)]
fn fill_cells<const W: usize, const LO: usize>(
    raw: &[u8],
    inputs: u16,
    cal: AdcCalibration,
    out: &mut [Reading<MicroVolts>],
) {
    let mut slots = out.iter_mut();
    let mut used = inputs;
    for chunk in raw.chunks_exact(W) {
        let take = used & 1 != 0;
        used >>= 1;
        if !take {
            continue;
        }
        let (Some(o), Some(&hi), Some(&lo)) = (slots.next(), chunk.first(), chunk.get(LO)) else {
            break;
        };
        let c = u16::from_be_bytes([hi, lo]) & 0x3FFF;
        *o = if c == 0 {
            Reading::NotConverted
        } else {
            Reading::Valid(cal.cell(c))
        };
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

    // ---- identification and calibration --------------------------------------------------

    pub(crate) async fn probe(&mut self) -> Result<ProbeInfo, Error<IO::Error>> {
        let mut found = None;
        'addresses: for address in ADDRESSES {
            // 1. CC_CFG ← 0x19 with a good CRC: any bq769x0 ACKs it (a non-CRC part writes the
            //    CRC byte into the read-only VC1_HI, which ignores it).
            let c0 = frame::write_crc0(address, reg::CC_CFG, reg::CC_CFG_VALUE);
            if self
                .io
                .write(address, &[reg::CC_CFG, reg::CC_CFG_VALUE, c0])
                .await
                .is_err()
            {
                continue;
            }
            let mut last = FaultReason::Framing;
            for _ in 0..=self.retries {
                // 2. Read CC_CFG and the byte after it: a CRC part sends the CRC of
                //    (addr|R, 0x19), a plain part VC1_HI.
                let mut b = [0u8; 2];
                self.io
                    .write_read(address, &[reg::CC_CFG], &mut b)
                    .await
                    .map_err(Error::Bus)?;
                let expected = frame::read_crc0(address, b[0]);
                let crc_by_read = b[1] == expected;
                // 3. A CRC part NACKs a write with a wrong CRC (TI E2E 929619); a plain part
                //    ACKs it (writing 0x19 again and a byte into read-only VC1_HI).
                let crc_by_nack = self
                    .io
                    .write(address, &[reg::CC_CFG, reg::CC_CFG_VALUE, c0 ^ 0xFF])
                    .await
                    .is_err();
                match (crc_by_nack, crc_by_read) {
                    // A plain part (its VC1_HI may equal the CRC by chance).
                    (false, _) => {
                        if b[0] & 0x3F != reg::CC_CFG_VALUE {
                            return Err(Error::Device {
                                device: 0,
                                what: "CC_CFG did not read back 0x19: not a bq769x0",
                            });
                        }
                        found = Some((address, false));
                        break 'addresses;
                    }
                    (true, true) => {
                        if b[0] & 0x3F != reg::CC_CFG_VALUE {
                            return Err(Error::Device {
                                device: 0,
                                what: "CC_CFG did not read back 0x19: not a bq769x0",
                            });
                        }
                        found = Some((address, true));
                        break 'addresses;
                    }
                    // NACKed like a CRC part but the read's CRC failed: a corrupted read or
                    // a transient NACK. Never guess: try again, then report.
                    (true, false) => {
                        last = FaultReason::Crc {
                            expected,
                            received: b[1],
                        }
                    }
                }
            }
            return Err(Error::Integrity(fault(last)));
        }
        let (address, crc) = found.ok_or(Error::Device {
            device: 0,
            what: "no bq769x0 answered at 0x08 or 0x18",
        })?;
        self.address = address;
        self.crc = crc;
        let calibration = self.read_calibration().await?;
        Ok(ProbeInfo {
            address,
            crc,
            calibration,
        })
    }

    pub(crate) async fn read_calibration(&mut self) -> Result<AdcCalibration, Error<IO::Error>> {
        let mut g1o = [0u8; 2];
        self.read_regs(reg::ADCGAIN1, &mut g1o).await?;
        let g2 = self.read_u8(reg::ADCGAIN2).await?;
        let cal = AdcCalibration::from_registers(g1o[0], g1o[1], g2);
        self.cal = Some(cal);
        Ok(cal)
    }

    async fn cal(&mut self) -> Result<AdcCalibration, Error<IO::Error>> {
        match self.cal {
            Some(c) => Ok(c),
            None => self.read_calibration().await,
        }
    }

    // ---- configuration --------------------------------------------------------------------

    pub(crate) async fn configure(
        &mut self,
        protection: &Protection,
    ) -> Result<Achieved, Error<IO::Error>> {
        let cal = self.cal().await?;
        let regs: ProtectionRegisters = protection.build(&cal)?;
        self.shunt_uohm = protection.shunt_uohm();
        self.image[2] = regs.protect1;
        self.image[3] = regs.protect2;
        self.image[4] = regs.protect3(0);
        self.image[5] = regs.ov_trip;
        self.image[6] = regs.uv_trip;
        self.apply_image().await?;
        self.achieved = Some(regs.achieved);
        Ok(regs.achieved)
    }

    /// Writes the configuration image (keeping the chip's FET bits and PROTECT3's reserved
    /// nibble) as one block and verifies it.
    async fn apply_image(&mut self) -> Result<(), Error<IO::Error>> {
        let mut now = [0u8; IMAGE_LEN];
        self.read_regs(reg::SYS_CTRL1, &mut now).await?;
        let mut img = self.image;
        img[1] = (img[1] & 0xC0) | (now[1] & (SysCtrl2::CHG_ON | SysCtrl2::DSG_ON).bits());
        img[4] = (img[4] & 0xF0) | (now[4] & 0x0F);
        self.write_verified(reg::SYS_CTRL1, &img, &IMAGE_MASK).await
    }

    /// Reads the configuration back and, if the chip lost it (every NORMAL-mode entry resets
    /// the registers, DS §8.3.1.2.1), writes it again. Returns `true` if it wrote. If the ADC
    /// had been off, waits the variant's first-data time (250/400/800 ms) before returning.
    pub(crate) async fn ensure_configured(&mut self) -> Result<bool, Error<IO::Error>> {
        let mut now = [0u8; IMAGE_LEN];
        self.read_regs(reg::SYS_CTRL1, &mut now).await?;
        let same = now
            .iter()
            .zip(self.image.iter())
            .zip(IMAGE_MASK.iter())
            .all(|((&a, &b), &m)| (a ^ b) & m == 0);
        if same {
            return Ok(false);
        }
        let adc_was_off = now[0] & SysCtrl1::ADC_EN.bits() == 0;
        self.apply_image().await?;
        if adc_was_off {
            self.io.delay_us(V::FIRST_DATA_MS * 1000).await;
        }
        Ok(true)
    }

    // ---- status ---------------------------------------------------------------------------

    pub(crate) async fn read_status(&mut self) -> Result<SysStat, Error<IO::Error>> {
        Ok(SysStat::from_bits_retain(
            self.read_u8(reg::SYS_STAT).await?,
        ))
    }

    /// Writes ones to `bits` of SYS_STAT (zeros leave the others alone, DS Table 8-3) and
    /// returns which of them are still set.
    pub(crate) async fn clear_status(
        &mut self,
        bits: SysStat,
    ) -> Result<SysStat, Error<IO::Error>> {
        self.write_regs(reg::SYS_STAT, &[bits.bits()]).await?;
        Ok(self.read_status().await? & bits)
    }

    pub(crate) async fn service_alerts(&mut self) -> Result<AlertReport, Error<IO::Error>> {
        let status = self.read_status().await?;
        let faults = status & SysStat::FAULTS;
        let remaining = if faults.is_empty() {
            SysStat::empty()
        } else {
            self.clear_status(faults).await?
        };
        // A NORMAL-mode entry (brown-out, boot) or XREADY restores the defaults: check the
        // configuration on every pass and put it back (one read, bounded).
        let reconfigured = self.ensure_configured().await?;
        Ok(AlertReport {
            status,
            remaining,
            reconfigured,
        })
    }

    // ---- measurements ---------------------------------------------------------------------

    pub(crate) async fn read_input_codes(
        &mut self,
        out: &mut [u16; 15],
    ) -> Result<(), Error<IO::Error>> {
        let n = usize::from(V::INPUTS);
        let mut raw = [0u8; 30];
        let raw = raw.get_mut(..2 * n).unwrap_or(&mut []);
        self.read_regs(reg::VC1_HI, raw).await?;
        out.fill(0);
        for (o, pair) in out.iter_mut().zip(raw.chunks_exact(2)) {
            *o = u16::from_be_bytes([pair[0], pair[1]]) & 0x3FFF;
        }
        Ok(())
    }

    pub(crate) async fn read_pack_voltage(&mut self) -> Result<MicroVolts, Error<IO::Error>> {
        let cal = self.cal().await?;
        let code = self.read_u16(reg::BAT_HI).await?;
        Ok(cal.pack(code, self.map.cells()))
    }

    pub(crate) async fn read_ts_codes(
        &mut self,
        out: &mut [u16; 3],
    ) -> Result<(), Error<IO::Error>> {
        let n = usize::from(V::TS_INPUTS);
        let mut raw = [0u8; 6];
        let raw = raw.get_mut(..2 * n).unwrap_or(&mut []);
        self.read_regs(reg::TS1_HI, raw).await?;
        out.fill(0);
        for (o, pair) in out.iter_mut().zip(raw.chunks_exact(2)) {
            *o = u16::from_be_bytes([pair[0], pair[1]]) & 0x3FFF;
        }
        Ok(())
    }

    pub(crate) async fn read_cc_code(&mut self) -> Result<u16, Error<IO::Error>> {
        self.read_u16(reg::CC_HI).await
    }

    fn current_of(&self, code: u16) -> MicroAmps {
        convert::cc_current(code, self.shunt_uohm).unwrap_or(MicroAmps(0))
    }

    /// The latest coulomb-counter sample if CC_READY is set (then CC_READY is cleared), else
    /// `None`: call every ≤ 250 ms in continuous mode to integrate charge.
    pub(crate) async fn take_current_sample(
        &mut self,
    ) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        let st = self.read_status().await?;
        if !st.contains(SysStat::CC_READY) {
            return Ok(None);
        }
        let code = self.read_cc_code().await?;
        self.write_regs(reg::SYS_STAT, &[SysStat::CC_READY.bits()])
            .await?;
        Ok(Some(self.current_of(code)))
    }

    /// Clears CC_READY, waits for the next one (bounded) and returns that sample.
    async fn await_cc_ready(&mut self) -> Result<MicroAmps, Error<IO::Error>> {
        self.io.delay_us(CC_PERIOD.0).await;
        for _ in 0..CC_POLLS {
            if self.read_status().await?.contains(SysStat::CC_READY) {
                let code = self.read_cc_code().await?;
                self.write_regs(reg::SYS_STAT, &[SysStat::CC_READY.bits()])
                    .await?;
                return Ok(self.current_of(code));
            }
            self.io.delay_us(CC_POLL.0).await;
        }
        Err(Error::Timeout("coulomb-counter reading (CC_READY)"))
    }

    pub(crate) async fn next_current_sample(&mut self) -> Result<MicroAmps, Error<IO::Error>> {
        self.write_regs(reg::SYS_STAT, &[SysStat::CC_READY.bits()])
            .await?;
        self.await_cc_ready().await
    }

    pub(crate) async fn measure_current_once(&mut self) -> Result<MicroAmps, Error<IO::Error>> {
        let c2 = SysCtrl2::from_bits_retain(self.read_u8(reg::SYS_CTRL2).await?);
        if c2.contains(SysCtrl2::CC_EN) {
            return Err(Error::Device {
                device: 0,
                what: "one-shot needs CC_EN = 0 (continuous mode is on)",
            });
        }
        self.write_regs(reg::SYS_STAT, &[SysStat::CC_READY.bits()])
            .await?;
        self.write_regs(reg::SYS_CTRL2, &[(c2 | SysCtrl2::CC_ONESHOT).bits()])
            .await?;
        self.await_cc_ready().await
    }

    // ---- control --------------------------------------------------------------------------

    pub(crate) async fn set_fets(&mut self, chg: bool, dsg: bool) -> Result<(), Error<IO::Error>> {
        let now = SysCtrl2::from_bits_retain(self.read_u8(reg::SYS_CTRL2).await?);
        let mut want = now - SysCtrl2::CC_ONESHOT - SysCtrl2::CHG_ON - SysCtrl2::DSG_ON;
        want.set(SysCtrl2::CHG_ON, chg);
        want.set(SysCtrl2::DSG_ON, dsg);
        // A latched fault keeps its FET off until SYS_STAT is cleared (DS §8.3.1.3.1): the
        // read-back then names SYS_CTRL2 and the refused bit.
        self.write_verified(reg::SYS_CTRL2, &[want.bits()], &[0x03])
            .await
    }

    pub(crate) async fn fets(&mut self) -> Result<(bool, bool), Error<IO::Error>> {
        let c = SysCtrl2::from_bits_retain(self.read_u8(reg::SYS_CTRL2).await?);
        Ok((c.contains(SysCtrl2::CHG_ON), c.contains(SysCtrl2::DSG_ON)))
    }

    pub(crate) async fn enter_ship_mode(&mut self) -> Result<(), Error<IO::Error>> {
        let c1 = self.read_u8(reg::SYS_CTRL1).await? & 0x18;
        // DS §8.4.2, Table 8-7: from SHUT_A = SHUT_B = 0, write (0, 1) then (1, 0).
        self.write_regs(reg::SYS_CTRL1, &[c1]).await?;
        self.write_regs(reg::SYS_CTRL1, &[c1 | SysCtrl1::SHUT_B.bits()])
            .await?;
        self.write_regs(reg::SYS_CTRL1, &[c1 | SysCtrl1::SHUT_A.bits()])
            .await
    }

    pub(crate) async fn set_balancing_cells(
        &mut self,
        cells: u32,
    ) -> Result<u16, Error<IO::Error>> {
        let inputs = balancing_inputs(&self.map, cells)?;
        let bytes = [
            (inputs & 0x1F) as u8,
            ((inputs >> 5) & 0x1F) as u8,
            ((inputs >> 10) & 0x1F) as u8,
        ];
        let n = usize::from(V::CELLBAL_REGISTERS);
        let data = bytes.get(..n).unwrap_or(&[]);
        self.write_verified(reg::CELLBAL1, data, &[0x1F; 3]).await?;
        Ok(inputs)
    }

    pub(crate) async fn balancing_cells(&mut self) -> Result<u32, Error<IO::Error>> {
        let n = usize::from(V::CELLBAL_REGISTERS);
        let mut b = [0u8; 3];
        self.read_regs(reg::CELLBAL1, b.get_mut(..n).unwrap_or(&mut []))
            .await?;
        let inputs =
            u16::from(b[0] & 0x1F) | (u16::from(b[1] & 0x1F) << 5) | (u16::from(b[2] & 0x1F) << 10);
        Ok(self.map.inputs_to_cells(inputs))
    }

    fn convert_temp(&self, code: u16) -> Reading<MilliCelsius> {
        if code == 0 {
            return Reading::NotConverted;
        }
        match self.temp {
            TempSource::Die => Reading::Valid(convert::die_temperature(code)),
            TempSource::Thermistor(ntc) => {
                match convert::thermistor_ohms(code).and_then(|r| ntc.temperature(r)) {
                    Some(t) => Reading::Valid(t),
                    None => Reading::NotConverted,
                }
            }
        }
    }
}

impl<V: Variant, IO: I2cIo> MonitorCore for Core<V, IO> {
    type BusError = IO::Error;

    fn device_count(&self) -> usize {
        1
    }

    fn cells_per_device(&self) -> usize {
        usize::from(self.map.cells())
    }

    fn temperatures_per_device(&self) -> usize {
        usize::from(V::TS_INPUTS)
    }

    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        // SHIP→NORMAL is a TS1 boot pulse (board hardware). Here: load the calibration once,
        // then make sure the configuration survived the last NORMAL-mode entry.
        self.cal().await?;
        self.ensure_configured().await.map(|_| ())
    }

    async fn start_cell_conversion(
        &mut self,
        _mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        Ok(CELL_WAIT)
    }

    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != usize::from(self.map.cells()) {
            return Err(Error::InvalidArgument("out.len() must equal cell_count()"));
        }
        let cal = match self.cal().await {
            Ok(c) => c,
            Err(Error::Integrity(f)) => return Ok(fail_all(out, f)),
            Err(e) => return Err(e),
        };
        // One burst of every VC register, checked in place and converted straight from the
        // wire bytes (data byte k at k × stride).
        let n = frame::raw_read_len(self.crc, 2 * usize::from(V::INPUTS));
        let mut raw = [0u8; MAX_RAW_READ];
        match self.read_raw(reg::VC1_HI, &mut raw, n).await {
            Ok(()) => {}
            Err(Error::Integrity(f)) => return Ok(fail_all(out, f)),
            Err(e) => return Err(e),
        }
        let raw = raw.get(..n).unwrap_or(&[]);
        let inputs = self.map.inputs();
        if self.crc {
            // d_hi, crc, d_lo, crc per input.
            fill_cells::<4, 2>(raw, inputs, cal, out);
        } else {
            fill_cells::<2, 1>(raw, inputs, cal, out);
        }
        Ok(ChainReport::OK)
    }

    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != usize::from(self.map.cells()) {
            return Err(Error::InvalidArgument("out.len() must equal cell_count()"));
        }
        let wait = self.start_cell_conversion(mode).await?;
        self.io.delay_us(wait.as_micros()).await;
        self.read_cell_voltages(out).await
    }

    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != usize::from(V::TS_INPUTS) {
            return Err(Error::InvalidArgument(
                "out.len() must equal temperatures_per_device()",
            ));
        }
        self.io.delay_us(TEMPERATURE_WAIT.0).await;
        let mut codes = [0u16; 3];
        match self.read_ts_codes(&mut codes).await {
            Ok(()) => {}
            Err(Error::Integrity(f)) => return Ok(fail_all(out, f)),
            Err(e) => return Err(e),
        }
        for (o, &c) in out.iter_mut().zip(codes.iter()) {
            *o = self.convert_temp(c);
        }
        Ok(ChainReport::OK)
    }

    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let slot = match out {
            [s] => s,
            _ => return Err(Error::InvalidArgument("out.len() must be 1")),
        };
        self.io.delay_us(CELL_WAIT.0).await;
        let cal = match self.cal().await {
            Ok(c) => c,
            Err(Error::Integrity(f)) => return Ok(fail_all(core::slice::from_mut(slot), f)),
            Err(e) => return Err(e),
        };
        match self.read_u16(reg::BAT_HI).await {
            Ok(0) => {
                *slot = Reading::NotConverted;
                Ok(ChainReport::OK)
            }
            Ok(code) => {
                *slot = Reading::Valid(cal.pack(code, self.map.cells()));
                Ok(ChainReport::OK)
            }
            Err(Error::Integrity(f)) => Ok(fail_all(core::slice::from_mut(slot), f)),
            Err(e) => Err(e),
        }
    }

    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        match self.cc {
            CcMode::Continuous => Ok(Some(self.next_current_sample().await?)),
            CcMode::OneShot => Ok(Some(self.measure_current_once().await?)),
        }
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
        let st = match self.read_status().await {
            Ok(s) => s,
            Err(Error::Integrity(f)) => return Ok(fail_all(core::slice::from_mut(slot), f)),
            Err(e) => return Err(e),
        };
        let mut faults = Faults {
            internal: st.contains(SysStat::DEVICE_XREADY),
            overcurrent: st.contains(SysStat::OCD),
            short_circuit: st.contains(SysStat::SCD),
            raw: u32::from(st.bits()),
            ..Faults::default()
        };
        let ov = st.contains(SysStat::OV);
        let uv = st.contains(SysStat::UV);
        if ov || uv {
            // SYS_STAT flags the pack, not the cell: name the cells beyond the achieved
            // thresholds, else every cell.
            let cells = usize::from(self.map.cells());
            let all = (1u32 << cells) - 1;
            let mut v = [Reading::NotConverted; 15];
            let vs = v.get_mut(..cells).unwrap_or(&mut []);
            let ok = match self.read_cell_voltages(vs).await {
                Ok(r) => r.is_ok(),
                Err(Error::Integrity(_)) => false,
                Err(e) => return Err(e),
            };
            let achieved = self.achieved;
            let pick = |over: bool| -> u32 {
                let th = achieved.map(|a| if over { a.overvoltage } else { a.undervoltage });
                let mut m = 0u32;
                if let (Some(th), true) = (th, ok) {
                    for (k, r) in vs.iter().enumerate() {
                        if let Reading::Valid(x) = r {
                            if (over && *x >= th) || (!over && *x <= th) {
                                m |= 1 << k;
                            }
                        }
                    }
                }
                if m == 0 { all } else { m }
            };
            if ov {
                faults.overvoltage = pick(true);
            }
            if uv {
                faults.undervoltage = pick(false);
            }
        }
        *slot = Reading::Valid(faults);
        Ok(ChainReport::OK)
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
