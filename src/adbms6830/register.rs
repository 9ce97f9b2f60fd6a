//! Typed register groups (ADBMS6830B-DS Tables 55/56, 89–93): configuration A/B,
//! PWM, COMM, serial ID and the decoded status groups. Every type converts to and from its
//! 6 data bytes (`to_bytes` / `from_bytes`); builders validate and return what was achieved.
//!
//! ```
//! use bms_afe::adbms6830::register::{CfgA, CfgB};
//! use bms_afe::units::MicroVolts;
//! // Defaults as after power-up (ADBMS6830B-DS Tables 55/56).
//! assert_eq!(CfgA::default().to_bytes(), [0x01, 0x00, 0x00, 0xFF, 0x03, 0x00]);
//! let mut b = CfgB::default();
//! assert_eq!(b.to_bytes(), [0x00, 0xF8, 0x7F, 0x00, 0x00, 0x00]);
//! // Thresholds are quantised to 2.4 mV steps, never on the unsafe side of the request:
//! // UV rounds up (2.5 V → code 417 = 2.5008 V), OV rounds down. The achieved value is
//! // returned.
//! assert_eq!(b.set_undervoltage(MicroVolts(2_500_000)), Ok(MicroVolts(2_500_800)));
//! assert_eq!(b.set_overvoltage(MicroVolts(4_200_000)), Ok(MicroVolts(4_200_000)));
//! assert_eq!(b.to_bytes(), [0xA1, 0x51, 0x46, 0x00, 0x00, 0x00]);
//! // Fields set directly are range-checked before the driver sends them.
//! b.vov = 3000; // needs 13 bits: would wrap to a negative threshold
//! assert!(b.validate().is_err());
//! ```

use crate::error::ConfigError;
use crate::units::MicroVolts;

/// CTH: C-vs-S comparison threshold (CFGAR0\[2:0\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Cth {
    /// 000: 5.1 mV.
    Mv5_1 = 0,
    /// 001: 8.1 mV (default).
    #[default]
    Mv8_1 = 1,
    /// 010: 9 mV.
    Mv9 = 2,
    /// 011: 10.05 mV.
    Mv10_05 = 3,
    /// 100: 15 mV.
    Mv15 = 4,
    /// 101: 19.95 mV.
    Mv19_95 = 5,
    /// 110: 25.05 mV.
    Mv25_05 = 6,
    /// 111: 40.05 mV.
    Mv40_05 = 7,
}

impl Cth {
    /// The threshold in µV.
    pub const fn microvolts(self) -> i32 {
        match self {
            Self::Mv5_1 => 5_100,
            Self::Mv8_1 => 8_100,
            Self::Mv9 => 9_000,
            Self::Mv10_05 => 10_050,
            Self::Mv15 => 15_000,
            Self::Mv19_95 => 19_950,
            Self::Mv25_05 => 25_050,
            Self::Mv40_05 => 40_050,
        }
    }

    const fn from_bits(b: u8) -> Self {
        match b & 7 {
            0 => Self::Mv5_1,
            1 => Self::Mv8_1,
            2 => Self::Mv9,
            3 => Self::Mv10_05,
            4 => Self::Mv15,
            5 => Self::Mv19_95,
            6 => Self::Mv25_05,
            _ => Self::Mv40_05,
        }
    }
}

/// Configuration register group A.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CfgA {
    /// REFON: keep the reference powered between conversions (avoids tREFUP).
    pub refon: bool,
    /// CTH: C-vs-S comparison threshold.
    pub cth: Cth,
    /// FLAG_D: force latent-fault flags (bit 0 osc fast … bit 7 TMODCHK; ADBMS6830-SpA
    /// Table 104). 0 in normal operation.
    pub flag_d: u8,
    /// SOAKON: enable AUX open-wire soak time.
    pub soakon: bool,
    /// OWRNG: long soak range.
    pub owrng: bool,
    /// OWA\[2:0\]: soak time exponent.
    pub owa: u8,
    /// GPO1..10 (bit `k` = GPO`k+1`): 1 = pull-down off (default all 1).
    pub gpo: u16,
    /// COMM_BK: communication break (stop forwarding isoSPI traffic upward).
    pub comm_bk: bool,
    /// FC\[2:0\]: IIR filter corner (0 = filter off … 110 Hz … 0.625 Hz).
    pub fc: u8,
    /// SNAP_ST (read-only): snapshot active. Ignored on write.
    pub snap_st: bool,
    /// MUTE_ST (read-only): discharge muted. Ignored on write.
    pub mute_st: bool,
}

impl Default for CfgA {
    fn default() -> Self {
        Self::from_bytes(&[0x01, 0x00, 0x00, 0xFF, 0x03, 0x00])
    }
}

impl CfgA {
    /// Bits the host controls; read-only (SNAP_ST, MUTE_ST) and reserved bits are 0. Used to
    /// compare a read-back.
    pub const WRITABLE: [u8; 6] = [0x87, 0xFF, 0xF8, 0xFF, 0x03, 0x0F];

    /// The 6 data bytes.
    pub const fn to_bytes(&self) -> [u8; 6] {
        [
            (self.refon as u8) << 7 | self.cth as u8,
            self.flag_d,
            (self.soakon as u8) << 7 | (self.owrng as u8) << 6 | (self.owa & 7) << 3,
            self.gpo as u8,
            (self.gpo >> 8) as u8 & 0x03,
            (self.comm_bk as u8) << 3 | (self.fc & 7),
        ]
    }

    /// Decodes the 6 data bytes.
    pub const fn from_bytes(b: &[u8; 6]) -> Self {
        Self {
            refon: b[0] & 0x80 != 0,
            cth: Cth::from_bits(b[0]),
            flag_d: b[1],
            soakon: b[2] & 0x80 != 0,
            owrng: b[2] & 0x40 != 0,
            owa: (b[2] >> 3) & 7,
            gpo: b[3] as u16 | ((b[4] & 0x03) as u16) << 8,
            comm_bk: b[5] & 0x08 != 0,
            fc: b[5] & 7,
            snap_st: b[5] & 0x20 != 0,
            mute_st: b[5] & 0x10 != 0,
        }
    }

    /// Checks every field fits its register bits (OWA and FC 3 bits, GPO 10 bits), so nothing
    /// is masked silently on the way to the chip. The driver calls this before sending.
    pub const fn validate(&self) -> Result<(), ConfigError> {
        if self.owa > 7 {
            return Err(out_of_range("CFGA OWA", self.owa as i64, 0, 7));
        }
        if self.fc > 7 {
            return Err(out_of_range("CFGA FC", self.fc as i64, 0, 7));
        }
        if self.gpo > 0x3FF {
            return Err(out_of_range("CFGA GPO", self.gpo as i64, 0, 0x3FF));
        }
        Ok(())
    }

    /// Enables the AUX open-wire soak: the soak lasts `2^(6+OWA)` clocks (OWRNG = 0) or
    /// `2^(13+OWA)` clocks (OWRNG = 1), 32 µs … 524 ms. Picks the smallest setting whose
    /// exponent is ≥ `exponent` and returns the achieved exponent (6..=20).
    pub fn set_soak_exponent(&mut self, exponent: u8) -> Result<u8, ConfigError> {
        let (owrng, owa) = match exponent {
            0..=6 => (false, 0),
            7..=13 => (false, exponent - 6),
            14..=20 => (true, exponent - 13),
            _ => {
                return Err(ConfigError::OutOfRange {
                    field: "open-wire soak exponent",
                    value: exponent as i64,
                    min: 0,
                    max: 20,
                });
            }
        };
        self.soakon = true;
        self.owrng = owrng;
        self.owa = owa;
        Ok(if owrng { 13 + owa } else { 6 + owa })
    }
}

const fn out_of_range(field: &'static str, value: i64, min: i64, max: i64) -> ConfigError {
    ConfigError::OutOfRange {
        field,
        value,
        min,
        max,
    }
}

/// Discharge timer range (DTRNG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DischargeRange {
    /// DTRNG = 0: DCTO in 1-minute steps (0–63 min).
    #[default]
    Minutes,
    /// DTRNG = 1: DCTO in 16-minute steps (0–16.8 h).
    SixteenMinutes,
}

/// Configuration register group B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CfgB {
    /// VUV: signed 12-bit undervoltage code (threshold = code × 2.4 mV + 1.5 V).
    pub vuv: i16,
    /// VOV: signed 12-bit overvoltage code.
    pub vov: i16,
    /// DTMEN: discharge timer monitor enable.
    pub dtmen: bool,
    /// DTRNG: discharge timer range.
    pub dtrng: DischargeRange,
    /// DCTO\[5:0\]: discharge timeout (0 = timer off).
    pub dcto: u8,
    /// DCC1..16 (bit `k` = cell `k + 1`): discharge switch on.
    pub dcc: u16,
}

impl Default for CfgB {
    fn default() -> Self {
        Self::from_bytes(&[0x00, 0xF8, 0x7F, 0x00, 0x00, 0x00])
    }
}

/// Threshold step: 16 × 150 µV.
pub const THRESHOLD_STEP_UV: i32 = 2_400;
/// Lowest threshold (code −2048): −3.4152 V.
pub const THRESHOLD_MIN_UV: i32 = -2048 * THRESHOLD_STEP_UV + 1_500_000;
/// Highest threshold (code 2047): 6.4128 V.
pub const THRESHOLD_MAX_UV: i32 = 2047 * THRESHOLD_STEP_UV + 1_500_000;

/// Which way a threshold is quantised to the 2.4 mV grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Rounding {
    /// To the next code at or below the request (overvoltage: the flag trips at or before
    /// the requested voltage).
    Down,
    /// To the next code at or above the request (undervoltage: the flag trips at or before
    /// the requested voltage).
    Up,
}

/// The 12-bit threshold code for `uv` and the achieved voltage, rounded as asked
/// (threshold = code × 16 × 150 µV + 1.5 V, ADBMS6830B-DS CFGB). ADI's
/// reference code truncates; the setters here round towards the safe side instead
/// ([`CfgB::set_undervoltage`] up, [`CfgB::set_overvoltage`] down).
pub const fn threshold_code(
    field: &'static str,
    uv: i32,
    rounding: Rounding,
) -> Result<(i16, MicroVolts), ConfigError> {
    if uv < THRESHOLD_MIN_UV || uv > THRESHOLD_MAX_UV {
        return Err(ConfigError::OutOfRange {
            field,
            value: uv as i64,
            min: THRESHOLD_MIN_UV as i64,
            max: THRESHOLD_MAX_UV as i64,
        });
    }
    let offset = uv - 1_500_000;
    let down = offset.div_euclid(THRESHOLD_STEP_UV);
    let code = match rounding {
        Rounding::Down => down,
        // In range: `uv` ≤ THRESHOLD_MAX_UV (code 2047) so the ceiling is ≤ 2047.
        Rounding::Up if offset.rem_euclid(THRESHOLD_STEP_UV) != 0 => down + 1,
        Rounding::Up => down,
    };
    Ok((
        code as i16,
        MicroVolts(code * THRESHOLD_STEP_UV + 1_500_000),
    ))
}

/// The voltage of a 12-bit threshold code.
pub const fn threshold_uv(code: i16) -> MicroVolts {
    MicroVolts(code as i32 * THRESHOLD_STEP_UV + 1_500_000)
}

const fn sign12(v: u16) -> i16 {
    ((v << 4) as i16) >> 4
}

impl CfgB {
    /// Sets the undervoltage threshold; returns the achieved value (2.4 mV steps, rounded
    /// **up**: the chip flags a cell below the achieved value, which is at or above the
    /// request, so the flag never trips later than asked).
    pub fn set_undervoltage(&mut self, uv: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (c, v) = threshold_code("undervoltage threshold (µV)", uv.0, Rounding::Up)?;
        self.vuv = c;
        Ok(v)
    }

    /// Sets the overvoltage threshold; returns the achieved value (2.4 mV steps, rounded
    /// **down**: the chip flags a cell above the achieved value, which is at or below the
    /// request).
    pub fn set_overvoltage(&mut self, uv: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (c, v) = threshold_code("overvoltage threshold (µV)", uv.0, Rounding::Down)?;
        self.vov = c;
        Ok(v)
    }

    /// Checks every field fits its register bits (VUV/VOV signed 12 bits, −2048..=2047; DCTO
    /// 6 bits), so nothing is masked silently on the way to the chip (a VOV of 3000 would
    /// otherwise be sent as −1096, a negative threshold). The driver calls this before
    /// sending; DCC bits beyond the variant's cells are checked by the driver.
    pub const fn validate(&self) -> Result<(), ConfigError> {
        if self.vuv < -2048 || self.vuv > 2047 {
            return Err(out_of_range("CFGB VUV code", self.vuv as i64, -2048, 2047));
        }
        if self.vov < -2048 || self.vov > 2047 {
            return Err(out_of_range("CFGB VOV code", self.vov as i64, -2048, 2047));
        }
        if self.dcto > 63 {
            return Err(out_of_range("CFGB DCTO", self.dcto as i64, 0, 63));
        }
        Ok(())
    }

    /// Sets the discharge timeout to at least `minutes` (0 = off); returns the achieved
    /// minutes, choosing DTRNG automatically (1-min steps up to 63 min, else 16-min steps up to
    /// 1008 min).
    pub fn set_discharge_timeout(&mut self, minutes: u32) -> Result<u32, ConfigError> {
        if minutes <= 63 {
            self.dtrng = DischargeRange::Minutes;
            self.dcto = minutes as u8;
            Ok(minutes)
        } else if minutes <= 63 * 16 {
            self.dtrng = DischargeRange::SixteenMinutes;
            let steps = minutes.div_ceil(16);
            self.dcto = steps as u8;
            Ok(steps * 16)
        } else {
            Err(ConfigError::OutOfRange {
                field: "discharge timeout (min)",
                value: minutes as i64,
                min: 0,
                max: 63 * 16,
            })
        }
    }

    /// The 6 data bytes.
    pub const fn to_bytes(&self) -> [u8; 6] {
        let vuv = self.vuv as u16 & 0xFFF;
        let vov = self.vov as u16 & 0xFFF;
        [
            vuv as u8,
            ((vov & 0x0F) << 4) as u8 | (vuv >> 8) as u8,
            (vov >> 4) as u8,
            (self.dtmen as u8) << 7
                | (matches!(self.dtrng, DischargeRange::SixteenMinutes) as u8) << 6
                | (self.dcto & 0x3F),
            self.dcc as u8,
            (self.dcc >> 8) as u8,
        ]
    }

    /// Decodes the 6 data bytes.
    pub const fn from_bytes(b: &[u8; 6]) -> Self {
        Self {
            vuv: sign12(b[0] as u16 | ((b[1] & 0x0F) as u16) << 8),
            vov: sign12((b[1] >> 4) as u16 | (b[2] as u16) << 4),
            dtmen: b[3] & 0x80 != 0,
            dtrng: if b[3] & 0x40 != 0 {
                DischargeRange::SixteenMinutes
            } else {
                DischargeRange::Minutes
            },
            dcto: b[3] & 0x3F,
            dcc: b[4] as u16 | (b[5] as u16) << 8,
        }
    }
}

/// PWM duty of up to 18 cells (4 bits each, 0 = off … 15 = 15/16 of the 937 ms period).
/// PWMA holds cells 1–12, PWMB cells 13–16 (13–18 on ADBMS6832: unverified).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pwm {
    /// Duty of cell `k + 1` in `duty[k]` (0..=15).
    pub duty: [u8; 18],
}

impl Pwm {
    /// Sets cell `cell` (1-based) to `duty` (0..=15).
    pub fn set(&mut self, cell: usize, duty: u8) -> Result<(), ConfigError> {
        if duty > 15 {
            return Err(ConfigError::OutOfRange {
                field: "PWM duty",
                value: duty as i64,
                min: 0,
                max: 15,
            });
        }
        match cell.checked_sub(1).and_then(|i| self.duty.get_mut(i)) {
            Some(d) => {
                *d = duty;
                Ok(())
            }
            None => Err(ConfigError::NoSuchCell {
                cell: cell as u16,
                available: 18,
            }),
        }
    }

    /// Checks every duty fits its 4 bits (0..=15); the driver calls this before sending.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.duty.iter().find(|&&d| d > 15) {
            Some(&d) => Err(out_of_range("PWM duty", d as i64, 0, 15)),
            None => Ok(()),
        }
    }

    /// PWMA (cells 1–12) and PWMB (cells 13–18) data bytes.
    pub fn to_bytes(&self) -> ([u8; 6], [u8; 6]) {
        let mut a = [0u8; 6];
        let mut b = [0u8; 6];
        for (i, pair) in self.duty.chunks_exact(2).enumerate() {
            let byte = (pair[0] & 0x0F) | (pair[1] & 0x0F) << 4;
            if let Some(x) = a.get_mut(i) {
                *x = byte;
            } else if let Some(x) = b.get_mut(i - 6) {
                *x = byte;
            }
        }
        (a, b)
    }

    /// Decodes PWMA and PWMB data bytes.
    pub fn from_bytes(a: &[u8; 6], b: &[u8; 6]) -> Self {
        let mut p = Self::default();
        for (i, byte) in a.iter().chain(b.iter().take(3)).enumerate() {
            if let Some(pair) = p.duty.get_mut(2 * i..2 * i + 2) {
                pair[0] = byte & 0x0F;
                pair[1] = byte >> 4;
            }
        }
        p
    }
}

/// One byte slot of the COMM group: `ICOM[3:0] | FCOM[3:0]` then the data byte
/// (ADBMS6830B-DS "COMM Register Group" — differs from LTC681x).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CommSlot {
    /// ICOM\[3:0\]: initial action (START, STOP, CSB low, no transmit …).
    pub icom: u8,
    /// The data byte.
    pub data: u8,
    /// FCOM\[3:0\]: final action (ACK, NACK, NACK+STOP, CSB high …).
    pub fcom: u8,
}

/// The COMM register group: three byte slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Comm(pub [CommSlot; 3]);

impl Comm {
    /// The 6 data bytes.
    pub fn to_bytes(&self) -> [u8; 6] {
        let mut out = [0u8; 6];
        for (o, s) in out.chunks_exact_mut(2).zip(self.0.iter()) {
            o[0] = (s.icom & 0x0F) << 4 | (s.fcom & 0x0F);
            o[1] = s.data;
        }
        out
    }

    /// Decodes the 6 data bytes.
    pub fn from_bytes(b: &[u8; 6]) -> Self {
        let mut c = Self::default();
        for (s, o) in c.0.iter_mut().zip(b.chunks_exact(2)) {
            s.icom = o[0] >> 4;
            s.fcom = o[0] & 0x0F;
            s.data = o[1];
        }
        c
    }
}

/// Serial ID (RDSID): 6 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SerialId(pub [u8; 6]);

impl SerialId {
    /// The 48-bit ID, SIDR0 least significant.
    pub fn as_u64(&self) -> u64 {
        let mut w = [0u8; 8];
        w[..6].copy_from_slice(&self.0);
        u64::from_le_bytes(w)
    }

    /// Device-ID field SIDR5\[6:1\] (0b000011 for ADBMS6830 per ADBMS6830-SpA Table 56;
    /// unverified for Rev. 0 and the other variants).
    pub fn device_id(&self) -> u8 {
        (self.0[5] >> 1) & 0x3F
    }
}

/// Status group C flags (STCR4/STCR5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StatusC {
    /// CS1FLT..CS16FLT: C-vs-S mismatch beyond CTH, bit `k` = cell `k + 1`.
    pub cs_fault: u16,
    /// STCR2/STCR3 as a little-endian word: CT\[10:0\] and CTS\[1:0\] (conversion counter). The
    /// split of this word is not in the notes (unverified): kept raw.
    pub conversion_counter_raw: u16,
    /// STCR4: VA_OV VA_UV VD_OV VD_UV CED CMED SED SMED (b7..b0).
    pub supply_flags: u8,
    /// STCR5: VDEL VDE COMP SPIFLT SLEEP THSD TMODCHK OSCCHK (b7..b0).
    pub system_flags: u8,
}

impl StatusC {
    /// VA overvoltage.
    pub const VA_OV: u8 = 0x80;
    /// VA undervoltage.
    pub const VA_UV: u8 = 0x40;
    /// VD overvoltage.
    pub const VD_OV: u8 = 0x20;
    /// VD undervoltage.
    pub const VD_UV: u8 = 0x10;
    /// C-ADC conversion error.
    pub const CED: u8 = 0x08;
    /// C-ADC multiple error.
    pub const CMED: u8 = 0x04;
    /// S-ADC conversion error.
    pub const SED: u8 = 0x02;
    /// S-ADC multiple error.
    pub const SMED: u8 = 0x01;
    /// SPIFLT (STCR5 b4): SPI fault (set by the RDSTATC ERR latent-fault read).
    pub const SPIFLT: u8 = 0x10;
    /// SLEEP (STCR5 b3): the device slept since the flag was cleared.
    pub const SLEEP: u8 = 0x08;
    /// THSD (STCR5 b2): thermal shutdown occurred.
    pub const THSD: u8 = 0x04;

    /// Decodes the 6 data bytes.
    pub fn from_bytes(b: &[u8; 6]) -> Self {
        Self {
            cs_fault: u16::from_le_bytes([b[0], b[1]]),
            conversion_counter_raw: u16::from_le_bytes([b[2], b[3]]),
            supply_flags: b[4],
            system_flags: b[5],
        }
    }

    /// `true` if thermal shutdown occurred.
    pub fn thermal_shutdown(&self) -> bool {
        self.system_flags & Self::THSD != 0
    }

    /// `true` for any internal integrity flag: a CS mismatch, a supply/ADC flag, or a
    /// system flag other than SLEEP and THSD (VDEL, VDE, COMP, SPIFLT, TMODCHK, OSCCHK).
    pub fn internal(&self) -> bool {
        self.cs_fault != 0
            || self.supply_flags != 0
            || self.system_flags & !(Self::SLEEP | Self::THSD) != 0
    }
}

/// Status group D: per-cell OV/UV flags and the oscillator counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StatusD {
    /// Undervoltage flags, bit `k` = cell `k + 1`.
    pub undervoltage: u16,
    /// Overvoltage flags, bit `k` = cell `k + 1`.
    pub overvoltage: u16,
    /// OC_CNTR\[7:0\].
    pub oscillator_counter: u8,
}

impl StatusD {
    /// Decodes the 6 data bytes (STDR0..3: pairs `CnUV` (even bit), `CnOV` (odd bit)).
    pub fn from_bytes(b: &[u8; 6]) -> Self {
        let w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let mut uv = 0u16;
        let mut ov = 0u16;
        for k in 0..16 {
            uv |= (((w >> (2 * k)) & 1) as u16) << k;
            ov |= (((w >> (2 * k + 1)) & 1) as u16) << k;
        }
        Self {
            undervoltage: uv,
            overvoltage: ov,
            oscillator_counter: b[5],
        }
    }

    /// Encodes (STDR4 = 0xFF as the chip reports it).
    pub fn to_bytes(&self) -> [u8; 6] {
        let mut w = 0u32;
        for k in 0..16 {
            w |= (((self.undervoltage >> k) & 1) as u32) << (2 * k);
            w |= (((self.overvoltage >> k) & 1) as u32) << (2 * k + 1);
        }
        let x = w.to_le_bytes();
        [x[0], x[1], x[2], x[3], 0xFF, self.oscillator_counter]
    }
}

/// Status group E: GPI inputs and the silicon revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StatusE {
    /// GPI1..10, bit `k` = GPIO`k+1` logic level.
    pub gpi: u16,
    /// REV\[3:0\].
    pub revision: u8,
}

impl StatusE {
    /// Decodes the 6 data bytes.
    pub fn from_bytes(b: &[u8; 6]) -> Self {
        Self {
            gpi: b[4] as u16 | ((b[5] & 0x03) as u16) << 8,
            revision: b[5] >> 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_limits() {
        assert_eq!(threshold_uv(-2048), MicroVolts(-3_415_200));
        assert_eq!(threshold_uv(2047), MicroVolts(6_412_800));
        for r in [Rounding::Down, Rounding::Up] {
            assert!(threshold_code("x", THRESHOLD_MAX_UV + 1, r).is_err());
            assert!(threshold_code("x", THRESHOLD_MIN_UV - 1, r).is_err());
            assert_eq!(
                threshold_code("x", THRESHOLD_MAX_UV, r),
                Ok((2047, MicroVolts(6_412_800)))
            );
            assert_eq!(
                threshold_code("x", THRESHOLD_MIN_UV, r),
                Ok((-2048, MicroVolts(-3_415_200)))
            );
        }
        // Negative offsets: down is towards −∞, up towards +∞.
        assert_eq!(
            threshold_code("x", 1_499_999, Rounding::Down),
            Ok((-1, MicroVolts(1_497_600)))
        );
        assert_eq!(
            threshold_code("x", 1_499_999, Rounding::Up),
            Ok((0, MicroVolts(1_500_000)))
        );
        assert_eq!(
            threshold_code("x", 1_497_601, Rounding::Up),
            Ok((0, MicroVolts(1_500_000)))
        );
    }

    #[test]
    fn discharge_timer() {
        let mut b = CfgB::default();
        assert_eq!(b.set_discharge_timeout(30), Ok(30));
        assert_eq!(b.set_discharge_timeout(100), Ok(112));
        assert_eq!(b.to_bytes()[3], 0x40 | 7);
        assert!(b.set_discharge_timeout(2000).is_err());
    }

    #[test]
    fn pwm_layout() {
        let mut p = Pwm::default();
        p.set(1, 0xA).unwrap();
        p.set(2, 0x5).unwrap();
        p.set(13, 0x3).unwrap();
        p.set(16, 0xF).unwrap();
        let (a, b) = p.to_bytes();
        assert_eq!(a, [0x5A, 0, 0, 0, 0, 0]);
        assert_eq!(b, [0x03, 0xF0, 0, 0, 0, 0]);
        assert_eq!(Pwm::from_bytes(&a, &b), p);
        assert!(p.set(19, 1).is_err());
        assert!(p.set(0, 1).is_err());
        assert!(p.set(1, 16).is_err());
    }
}
