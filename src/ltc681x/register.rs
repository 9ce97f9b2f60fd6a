//! Typed register field sets with `encode`/`decode` (6 data bytes each), the
//! variant-independent [`DeviceConfig`], and threshold quantisation.
//!
//! Layouts: LTC6812-DS Tables 38–55 (LTC6813 CFGRB from Linduino
//! `LTC6813.cpp`; LTC6810 CFGR from Linduino `LTC6810.cpp`, vendor-code derived).

use super::variant::{ConfigLayout, Variant};
use crate::error::ConfigError;
use crate::units::MicroVolts;

/// The discharge timeout DCTO (LTC6812-DS Table 55). Read back, the field
/// holds the time remaining, in the same buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DischargeTimeout {
    /// 0: timer disabled (discharge stops at watchdog timeout).
    #[default]
    Disabled = 0,
    /// 0.5 min.
    Min0_5 = 1,
    /// 1 min.
    Min1 = 2,
    /// 2 min.
    Min2 = 3,
    /// 3 min.
    Min3 = 4,
    /// 4 min.
    Min4 = 5,
    /// 5 min.
    Min5 = 6,
    /// 10 min.
    Min10 = 7,
    /// 15 min.
    Min15 = 8,
    /// 20 min.
    Min20 = 9,
    /// 30 min.
    Min30 = 10,
    /// 40 min.
    Min40 = 11,
    /// 60 min.
    Min60 = 12,
    /// 75 min.
    Min75 = 13,
    /// 90 min.
    Min90 = 14,
    /// 120 min.
    Min120 = 15,
}

impl DischargeTimeout {
    const ALL: [Self; 16] = [
        Self::Disabled,
        Self::Min0_5,
        Self::Min1,
        Self::Min2,
        Self::Min3,
        Self::Min4,
        Self::Min5,
        Self::Min10,
        Self::Min15,
        Self::Min20,
        Self::Min30,
        Self::Min40,
        Self::Min60,
        Self::Min75,
        Self::Min90,
        Self::Min120,
    ];
    /// From the 4-bit code read back (upper bits ignored: the register field has 4 bits).
    /// To build a configuration from a number, use [`DischargeTimeout::try_from_code`].
    pub const fn from_code(code: u8) -> Self {
        Self::ALL[(code & 0x0F) as usize]
    }
    /// From a 4-bit code, rejecting codes above 15 (LTC6812-DS Table 55: DCTO\[3:0\]).
    ///
    /// ```
    /// use bms_afe::ltc681x::register::DischargeTimeout;
    /// assert_eq!(DischargeTimeout::try_from_code(15), Ok(DischargeTimeout::Min120));
    /// assert!(DischargeTimeout::try_from_code(16).is_err());
    /// ```
    pub const fn try_from_code(code: u8) -> Result<Self, ConfigError> {
        if code > 15 {
            return Err(ConfigError::OutOfRange {
                field: "DCTO code",
                value: code as i64,
                min: 0,
                max: 15,
            });
        }
        Ok(Self::ALL[code as usize])
    }
    /// The 4-bit code.
    pub const fn code(self) -> u8 {
        self as u8
    }
    /// The timeout in seconds (0 = disabled).
    pub const fn seconds(self) -> u32 {
        const S: [u32; 16] = [
            0, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2400, 3600, 4500, 5400, 7200,
        ];
        S[self as usize]
    }
}

const fn bit(b: bool, n: u8) -> u8 {
    (b as u8) << n
}
const fn is(byte: u8, n: u8) -> bool {
    byte >> n & 1 != 0
}

/// CFGRA (LTC6811 CFGR, LTC6812/6813/ADBMS1818 CFGRA; LTC6812-DS Table 38).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CfgA {
    /// GPIO1..5 (bit 0 = GPIO1): write 1 = pull-down off; read = pin level.
    pub gpio: u8,
    /// REFON: references stay powered between conversions.
    pub refon: bool,
    /// DTEN (read only): discharge timer enabled by the DTEN pin.
    pub dten: bool,
    /// ADCOPT: alternate ADC modes.
    pub adcopt: bool,
    /// VUV\[11:0\].
    pub vuv: u16,
    /// VOV\[11:0\].
    pub vov: u16,
    /// DCC1..12 (bit 0 = cell 1).
    pub dcc: u16,
    /// DCTO\[3:0\].
    pub dcto: u8,
}

impl CfgA {
    /// Register bytes. Fields are masked to their widths here, unchecked: the driver only
    /// sends configurations built and validated by [`DeviceConfig::encode`].
    pub const fn encode(&self) -> [u8; 6] {
        [
            (self.gpio & 0x1F) << 3 | bit(self.refon, 2) | bit(self.dten, 1) | self.adcopt as u8,
            self.vuv as u8,
            (self.vov as u8 & 0x0F) << 4 | (self.vuv >> 8) as u8 & 0x0F,
            (self.vov >> 4) as u8,
            self.dcc as u8,
            (self.dcto & 0x0F) << 4 | (self.dcc >> 8) as u8 & 0x0F,
        ]
    }
    /// Fields of register bytes.
    pub const fn decode(b: &[u8; 6]) -> Self {
        Self {
            gpio: b[0] >> 3,
            refon: is(b[0], 2),
            dten: is(b[0], 1),
            adcopt: is(b[0], 0),
            vuv: (b[2] as u16 & 0x0F) << 8 | b[1] as u16,
            vov: (b[3] as u16) << 4 | (b[2] >> 4) as u16,
            dcc: (b[5] as u16 & 0x0F) << 8 | b[4] as u16,
            dcto: b[5] >> 4,
        }
    }
}

/// CFGRB (LTC6813/ADBMS1818 layout; on LTC6812 DCC16..18 are reserved and must be 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CfgB {
    /// GPIO6..9 (bit 0 = GPIO6): write 1 = pull-down off.
    pub gpio: u8,
    /// DCC13..18 (bit 0 = cell 13).
    pub dcc: u8,
    /// DCC0: GPIO9 pull-down (not a cell).
    pub dcc0: bool,
    /// DTMEN: discharge timer monitor.
    pub dtmen: bool,
    /// PS\[1:0\]: digital-redundancy path.
    pub ps: u8,
    /// FDRF: force digital-redundancy failure.
    pub fdrf: bool,
    /// MUTE (read only): discharge muted.
    pub mute: bool,
}

impl CfgB {
    /// Register bytes. Fields are masked to their widths here, unchecked: the driver only
    /// sends configurations built and validated by [`DeviceConfig::encode`].
    pub const fn encode(&self) -> [u8; 6] {
        [
            (self.dcc & 0x0F) << 4 | self.gpio & 0x0F,
            bit(self.mute, 7)
                | bit(self.fdrf, 6)
                | (self.ps & 3) << 4
                | bit(self.dtmen, 3)
                | bit(self.dcc0, 2)
                | (self.dcc >> 4) & 3,
            0,
            0,
            0,
            0,
        ]
    }
    /// Fields of register bytes.
    pub const fn decode(b: &[u8; 6]) -> Self {
        Self {
            gpio: b[0] & 0x0F,
            dcc: b[0] >> 4 | (b[1] & 3) << 4,
            dcc0: is(b[1], 2),
            dtmen: is(b[1], 3),
            ps: b[1] >> 4 & 3,
            fdrf: is(b[1], 6),
            mute: is(b[1], 7),
        }
    }
}

/// LTC6810 CFGR (Linduino `LTC6810.cpp` — vendor-code derived, not checked
/// against the LTC6810 data sheet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Cfg6810 {
    /// GPIO1..4 (bit 0 = GPIO1): write 1 = pull-down off.
    pub gpio: u8,
    /// REFON.
    pub refon: bool,
    /// DTEN (read only).
    pub dten: bool,
    /// ADCOPT.
    pub adcopt: bool,
    /// VUV\[11:0\].
    pub vuv: u16,
    /// VOV\[11:0\].
    pub vov: u16,
    /// DCC1..6 (bit 0 = cell 1).
    pub dcc: u8,
    /// DCC0.
    pub dcc0: bool,
    /// MCAL: multi-calibration.
    pub mcal: bool,
    /// DCTO\[3:0\].
    pub dcto: u8,
    /// SCONV: S-pin redundant conversion.
    pub sconv: bool,
    /// FDRF.
    pub fdrf: bool,
    /// DIS_RED: disable digital redundancy.
    pub dis_red: bool,
    /// DTMEN.
    pub dtmen: bool,
}

impl Cfg6810 {
    /// Register bytes. Fields are masked to their widths here, unchecked: the driver only
    /// sends configurations built and validated by [`DeviceConfig::encode`].
    pub const fn encode(&self) -> [u8; 6] {
        [
            (self.gpio & 0x0F) << 3 | bit(self.refon, 2) | bit(self.dten, 1) | self.adcopt as u8,
            self.vuv as u8,
            (self.vov as u8 & 0x0F) << 4 | (self.vuv >> 8) as u8 & 0x0F,
            (self.vov >> 4) as u8,
            bit(self.dcc0, 7) | bit(self.mcal, 6) | self.dcc & 0x3F,
            (self.dcto & 0x0F) << 4
                | bit(self.sconv, 3)
                | bit(self.fdrf, 2)
                | bit(self.dis_red, 1)
                | self.dtmen as u8,
        ]
    }
    /// Fields of register bytes.
    pub const fn decode(b: &[u8; 6]) -> Self {
        Self {
            gpio: b[0] >> 3 & 0x0F,
            refon: is(b[0], 2),
            dten: is(b[0], 1),
            adcopt: is(b[0], 0),
            vuv: (b[2] as u16 & 0x0F) << 8 | b[1] as u16,
            vov: (b[3] as u16) << 4 | (b[2] >> 4) as u16,
            dcc: b[4] & 0x3F,
            dcc0: is(b[4], 7),
            mcal: is(b[4], 6),
            dcto: b[5] >> 4,
            sconv: is(b[5], 3),
            fdrf: is(b[5], 2),
            dis_red: is(b[5], 1),
            dtmen: is(b[5], 0),
        }
    }
}

/// One device's configuration, independent of the part; [`DeviceConfig::encode`] maps it
/// onto the part's register layout and rejects what the part cannot do.
///
/// The default is the power-on state except that every GPIO pull-down is off (the usual
/// bring-up choice, rt `config.rs` default `0xF8`) — all nine GPIOs of the LTC6812/6813; for
/// a part with fewer GPIOs start from [`DeviceConfig::for_part`] (what the driver does), as
/// [`DeviceConfig::encode`] rejects pull-down bits of GPIOs the part lacks. In particular VUV = VOV = 0, the chip's
/// reset values: every cell is flagged over-voltage until thresholds are set — deliberately
/// loud rather than silently unprotected (the chip returns to these values after a watchdog
/// timeout too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeviceConfig {
    /// Bit `k` = GPIO `k + 1` pull-down **off** (1 = off).
    pub gpio_pulldown_off: u16,
    /// REFON.
    pub refon: bool,
    /// ADCOPT.
    pub adcopt: bool,
    /// VUV code (see [`uv_threshold`]).
    pub vuv: u16,
    /// VOV code (see [`ov_threshold`]).
    pub vov: u16,
    /// DTEN, **read only**: the DTEN pin enables the discharge timer. Set by
    /// [`DeviceConfig::decode`]; ignored when writing.
    pub dten: bool,
    /// Discharge switches, bit `k` = cell `k + 1`.
    pub dcc: u32,
    /// DCC0 (LTC6812/6813: GPIO9 pull-down; LTC6810: DCC0).
    pub dcc0: bool,
    /// Discharge timeout.
    pub dcto: DischargeTimeout,
    /// DTMEN (not LTC6811).
    pub dtmen: bool,
    /// FDRF (not LTC6811).
    pub fdrf: bool,
    /// PS\[1:0\] (LTC6812/6813 only).
    pub ps: u8,
    /// MCAL (LTC6810 only).
    pub mcal: bool,
    /// SCONV (LTC6810 only).
    pub sconv: bool,
    /// DIS_RED (LTC6810 only).
    pub dis_red: bool,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

const fn unsupported(cond: bool, what: &'static str) -> Result<(), ConfigError> {
    if cond {
        Err(ConfigError::Unsupported(what))
    } else {
        Ok(())
    }
}

impl DeviceConfig {
    /// The default configuration for part `V`: as [`DeviceConfig::default`] with the
    /// pull-downs of exactly the part's GPIOs off.
    ///
    /// ```
    /// use bms_afe::ltc681x::{DeviceConfig, Ltc6811};
    /// let c = DeviceConfig::for_part::<Ltc6811>();
    /// assert_eq!(c.gpio_pulldown_off, 0x1F);
    /// assert!(c.encode::<Ltc6811>().is_ok());
    /// assert!(DeviceConfig::default().encode::<Ltc6811>().is_err()); // GPIO6..9: no such pins
    /// ```
    pub const fn for_part<V: Variant>() -> Self {
        let mut c = Self::DEFAULT;
        c.gpio_pulldown_off = ((1u32 << V::GPIOS) - 1) as u16;
        c
    }

    const DEFAULT: Self = Self {
        gpio_pulldown_off: 0x01FF,
        refon: false,
        adcopt: false,
        vuv: 0,
        vov: 0,
        dten: false,
        dcc: 0,
        dcc0: false,
        dcto: DischargeTimeout::Disabled,
        dtmen: false,
        fdrf: false,
        ps: 0,
        mcal: false,
        sconv: false,
        dis_red: false,
    };

    /// Maps the configuration onto the register groups of `V`: `[CFGRA, CFGRB]` (CFGRB is
    /// all zero on parts without it). Rejects cells, GPIOs or fields the part lacks and
    /// codes wider than their fields: nothing is masked silently.
    pub const fn encode<V: Variant>(&self) -> Result<[[u8; 6]; 2], ConfigError> {
        let cell_mask = (1u32 << V::CELLS) - 1;
        if self.dcc & !cell_mask != 0 {
            return Err(ConfigError::NoSuchCell {
                cell: (32 - self.dcc.leading_zeros()) as u16,
                available: V::CELLS as u16,
            });
        }
        let gpio_mask = (1u16 << V::GPIOS) - 1;
        if self.gpio_pulldown_off & !gpio_mask != 0 {
            return Err(ConfigError::OutOfRange {
                field: "GPIO pull-down mask",
                value: self.gpio_pulldown_off as i64,
                min: 0,
                max: gpio_mask as i64,
            });
        }
        if self.vuv > 0x0FFF || self.vov > 0x0FFF {
            return Err(ConfigError::OutOfRange {
                field: "VUV/VOV code",
                value: if self.vuv > self.vov {
                    self.vuv
                } else {
                    self.vov
                } as i64,
                min: 0,
                max: 0x0FFF,
            });
        }
        if self.ps > 3 {
            return Err(ConfigError::OutOfRange {
                field: "PS",
                value: self.ps as i64,
                min: 0,
                max: 3,
            });
        }
        let gpio = (self.gpio_pulldown_off & gpio_mask) as u8;
        match V::LAYOUT {
            ConfigLayout::Ltc6810 => {
                if let Err(e) = unsupported(self.ps != 0, "PS (LTC6812/6813 only)") {
                    return Err(e);
                }
                let a = Cfg6810 {
                    gpio,
                    refon: self.refon,
                    dten: false,
                    adcopt: self.adcopt,
                    vuv: self.vuv,
                    vov: self.vov,
                    dcc: self.dcc as u8,
                    dcc0: self.dcc0,
                    mcal: self.mcal,
                    dcto: self.dcto.code(),
                    sconv: self.sconv,
                    fdrf: self.fdrf,
                    dis_red: self.dis_red,
                    dtmen: self.dtmen,
                };
                Ok([a.encode(), [0; 6]])
            }
            ConfigLayout::Ltc6811 => {
                if self.dtmen || self.fdrf || self.ps != 0 || self.dcc0 {
                    return Err(ConfigError::Unsupported(
                        "DTMEN/FDRF/PS/DCC0 (LTC6811 has no CFGRB)",
                    ));
                }
                if self.mcal || self.sconv || self.dis_red {
                    return Err(ConfigError::Unsupported(
                        "MCAL/SCONV/DIS_RED (LTC6810 only)",
                    ));
                }
                Ok([self.cfga().encode(), [0; 6]])
            }
            ConfigLayout::Ltc6812 | ConfigLayout::Ltc6813 => {
                if self.mcal || self.sconv || self.dis_red {
                    return Err(ConfigError::Unsupported(
                        "MCAL/SCONV/DIS_RED (LTC6810 only)",
                    ));
                }
                let b = CfgB {
                    gpio: (gpio_mask >> 5) as u8 & (self.gpio_pulldown_off >> 5) as u8,
                    dcc: (self.dcc >> 12) as u8,
                    dcc0: self.dcc0,
                    dtmen: self.dtmen,
                    ps: self.ps,
                    fdrf: self.fdrf,
                    mute: false,
                };
                Ok([self.cfga().encode(), b.encode()])
            }
        }
    }

    const fn cfga(&self) -> CfgA {
        CfgA {
            gpio: (self.gpio_pulldown_off & 0x1F) as u8,
            refon: self.refon,
            dten: false,
            adcopt: self.adcopt,
            vuv: self.vuv,
            vov: self.vov,
            dcc: (self.dcc & 0x0FFF) as u16,
            dcto: self.dcto.code(),
        }
    }

    /// The configuration read back from `V`'s groups (`[CFGRA, CFGRB]`; CFGRB ignored on
    /// parts without it). GPIO bits read back as pin levels and DCTO as time remaining.
    pub const fn decode<V: Variant>(groups: &[[u8; 6]; 2]) -> Self {
        let mut c = Self {
            gpio_pulldown_off: 0,
            ..Self::DEFAULT
        };
        match V::LAYOUT {
            ConfigLayout::Ltc6810 => {
                let a = Cfg6810::decode(&groups[0]);
                c.gpio_pulldown_off = a.gpio as u16;
                c.refon = a.refon;
                c.dten = a.dten;
                c.adcopt = a.adcopt;
                c.vuv = a.vuv;
                c.vov = a.vov;
                c.dcc = a.dcc as u32;
                c.dcc0 = a.dcc0;
                c.mcal = a.mcal;
                c.dcto = DischargeTimeout::from_code(a.dcto);
                c.sconv = a.sconv;
                c.fdrf = a.fdrf;
                c.dis_red = a.dis_red;
                c.dtmen = a.dtmen;
            }
            _ => {
                let a = CfgA::decode(&groups[0]);
                c.gpio_pulldown_off = a.gpio as u16;
                c.refon = a.refon;
                c.dten = a.dten;
                c.adcopt = a.adcopt;
                c.vuv = a.vuv;
                c.vov = a.vov;
                c.dcc = a.dcc as u32;
                c.dcto = DischargeTimeout::from_code(a.dcto);
                if !matches!(V::LAYOUT, ConfigLayout::Ltc6811) {
                    let b = CfgB::decode(&groups[1]);
                    c.gpio_pulldown_off |= (b.gpio as u16) << 5;
                    let dcc_b = if matches!(V::LAYOUT, ConfigLayout::Ltc6812) {
                        b.dcc & 0x07
                    } else {
                        b.dcc
                    };
                    c.dcc |= (dcc_b as u32) << 12;
                    c.dcc0 = b.dcc0;
                    c.dtmen = b.dtmen;
                    c.ps = b.ps;
                    c.fdrf = b.fdrf;
                }
            }
        }
        c
    }
}

/// Bits of each configuration group that do not read back what was written, per layout:
/// DTEN and MUTE (read only), GPIO bits (read the pin level) and DCTO (reads the time
/// remaining). Read-back verification compares `written & mask` with `read & mask`.
pub const fn verify_mask<V: Variant>() -> [[u8; 6]; 2] {
    match V::LAYOUT {
        ConfigLayout::Ltc6810 => [[0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0; 6]],
        ConfigLayout::Ltc6811 => [[0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0; 6]],
        ConfigLayout::Ltc6812 => [
            [0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
            [0x70, 0x7C, 0x00, 0x00, 0x00, 0x00],
        ],
        ConfigLayout::Ltc6813 => [
            [0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
            [0xF0, 0x7F, 0x00, 0x00, 0x00, 0x00],
        ],
    }
}

/// Largest undervoltage threshold: (0xFFF + 1) · 1.6 mV.
pub const UV_MAX_UV: i32 = 4096 * 1600;
/// Largest overvoltage threshold: 0xFFF · 1.6 mV.
pub const OV_MAX_UV: i32 = 4095 * 1600;

/// VUV code for an undervoltage threshold: comparison = (VUV + 1) · 16 · 100 µV (LTC6812-DS
/// Table 55). Rounds **up** to the next 1.6 mV step (the achieved threshold is never below
/// the request, so the flag trips no later than asked) and returns the code with the
/// threshold actually achieved; rejects values outside 1.6 mV ..= 6.5536 V.
///
/// ```
/// use bms_afe::ltc681x::register::uv_threshold;
/// use bms_afe::units::MicroVolts;
/// // LTC6812-DS Table 55 (VUV × 16 × 100 µV): UV 3.0 V -> VUV = 1874 (0x752), exactly 1875 · 1.6 mV.
/// assert_eq!(uv_threshold(MicroVolts(3_000_000)), Ok((0x752, MicroVolts(3_000_000))));
/// ```
pub const fn uv_threshold(v: MicroVolts) -> Result<(u16, MicroVolts), ConfigError> {
    if v.0 < 1600 || v.0 > UV_MAX_UV {
        return Err(ConfigError::OutOfRange {
            field: "undervoltage threshold (µV)",
            value: v.0 as i64,
            min: 1600,
            max: UV_MAX_UV as i64,
        });
    }
    let steps = (v.0 + 1599) / 1600; // 1..=4096
    Ok(((steps - 1) as u16, MicroVolts(steps * 1600)))
}

/// VOV code for an overvoltage threshold: comparison = VOV · 16 · 100 µV. Rounds **down**
/// (the achieved threshold is never above the request); rejects values outside
/// 0 ..= 6.552 V.
///
/// ```
/// use bms_afe::ltc681x::register::ov_threshold;
/// use bms_afe::units::MicroVolts;
/// // LTC6812-DS Table 55 (VOV × 16 × 100 µV): OV 4.3 V -> VOV = 2687 (0xA7F), achieved 4.2992 V.
/// assert_eq!(ov_threshold(MicroVolts(4_300_000)), Ok((0xA7F, MicroVolts(4_299_200))));
/// ```
pub const fn ov_threshold(v: MicroVolts) -> Result<(u16, MicroVolts), ConfigError> {
    if v.0 < 0 || v.0 > OV_MAX_UV {
        return Err(ConfigError::OutOfRange {
            field: "overvoltage threshold (µV)",
            value: v.0 as i64,
            min: 0,
            max: OV_MAX_UV as i64,
        });
    }
    let steps = v.0 / 1600;
    Ok((steps as u16, MicroVolts(steps * 1600)))
}

/// A cell-voltage or auxiliary register group (CVxR / AVxR, LTC6812-DS Tables 40–45): three
/// little-endian 16-bit codes. Decode the codes with
/// [`convert::voltage`](super::convert::voltage); 0xFFFF is "not converted".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CodeGroup(pub [u16; 3]);

impl CodeGroup {
    /// Register bytes.
    pub const fn encode(&self) -> [u8; 6] {
        let [a, b, c] = self.0;
        let (a, b, c) = (a.to_le_bytes(), b.to_le_bytes(), c.to_le_bytes());
        [a[0], a[1], b[0], b[1], c[0], c[1]]
    }
    /// Codes of register bytes.
    pub const fn decode(b: &[u8; 6]) -> Self {
        Self([
            u16::from_le_bytes([b[0], b[1]]),
            u16::from_le_bytes([b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
        ])
    }
}

/// One byte of the COMM group (LTC6812-DS Table 51): initial code, data, final code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CommByte {
    /// ICOM\[3:0\] (I2C: 0110 START, 0001 STOP, 0000 BLANK, 0111 NO TRANSMIT; SPI: 1000 CSB
    /// low, 1010 CSB falling, 1001 CSB high, 1111 NO TRANSMIT).
    pub icom: u8,
    /// The data byte.
    pub data: u8,
    /// FCOM\[3:0\] (I2C: 0000 master ACK, 1000 NACK, 1001 NACK+STOP; SPI: 0000 CSB low,
    /// 1001 CSB high).
    pub fcom: u8,
}

/// ICOM write codes of LTC6812-DS Table 55: I2C 0110 START, 0001 STOP,
/// 0000 BLANK, 0111 NO TRANSMIT; SPI 1000 CSB low, 1010 CSB falling edge, 1001 CSB high,
/// 1111 NO TRANSMIT. Bit `k` set = code `k` is defined.
pub const ICOM_WRITE_CODES: u16 =
    1 << 0x0 | 1 << 0x1 | 1 << 0x6 | 1 << 0x7 | 1 << 0x8 | 1 << 0x9 | 1 << 0xA | 1 << 0xF;
/// FCOM write codes of LTC6812-DS Table 55: I2C 0000 master ACK, 1000 master
/// NACK, 1001 master NACK + STOP; SPI X000 CSB low (0000 or 1000), 1001 CSB high. Bit `k`
/// set = code `k` is defined.
pub const FCOM_WRITE_CODES: u16 = 1 << 0x0 | 1 << 0x8 | 1 << 0x9;

/// `Ok` if `code` is a 4-bit value whose bit is set in `defined`, else
/// [`ConfigError::OutOfRange`] naming `field`.
const fn check_code(field: &'static str, code: u8, defined: u16) -> Result<(), ConfigError> {
    if code <= 15 && defined >> code & 1 != 0 {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field,
            value: code as i64,
            min: 0,
            max: 15,
        })
    }
}

/// `Ok` if every value of `values` fits in 4 bits, else [`ConfigError::OutOfRange`].
const fn check_nibbles(field: &'static str, values: &[u8]) -> Result<(), ConfigError> {
    let mut i = 0;
    while i < values.len() {
        if let Err(e) = check_code(field, values[i], 0xFFFF) {
            return Err(e);
        }
        i += 1;
    }
    Ok(())
}

/// The COMM group: three bytes with their control codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Comm(pub [CommByte; 3]);

impl Comm {
    /// Checks that every ICOM and FCOM is one of the data sheet's write codes
    /// ([`ICOM_WRITE_CODES`], [`FCOM_WRITE_CODES`]); `write_comm` sends nothing otherwise.
    ///
    /// ```
    /// use bms_afe::ltc681x::register::{Comm, CommByte};
    /// // I2C START + 0xA0 + master ACK; BLANK + 0x01 + NACK+STOP; NO TRANSMIT.
    /// let ok = Comm([
    ///     CommByte { icom: 0b0110, data: 0xA0, fcom: 0b0000 },
    ///     CommByte { icom: 0b0000, data: 0x01, fcom: 0b1001 },
    ///     CommByte { icom: 0b0111, data: 0xFF, fcom: 0b1001 },
    /// ]);
    /// assert!(ok.check().is_ok());
    /// let mut bad = ok;
    /// bad.0[1].icom = 0x16; // would be sent as 0110 (START) if masked
    /// assert!(bad.check().is_err());
    /// bad.0[1].icom = 0b0010; // not a defined ICOM code
    /// assert!(bad.check().is_err());
    /// ```
    pub const fn check(&self) -> Result<(), ConfigError> {
        let mut i = 0;
        while i < 3 {
            let c = self.0[i];
            if let Err(e) = check_code("ICOM code", c.icom, ICOM_WRITE_CODES) {
                return Err(e);
            }
            if let Err(e) = check_code("FCOM code", c.fcom, FCOM_WRITE_CODES) {
                return Err(e);
            }
            i += 1;
        }
        Ok(())
    }

    /// Register bytes: COMMn = ICOMn | Dn\[7:4\], COMMn+1 = Dn\[3:0\] | FCOMn. Codes are
    /// masked to 4 bits here: [`Comm::check`] them first (the driver does).
    pub const fn encode(&self) -> [u8; 6] {
        let mut out = [0u8; 6];
        let mut i = 0;
        while i < 3 {
            let c = self.0[i];
            out[2 * i] = (c.icom & 0x0F) << 4 | c.data >> 4;
            out[2 * i + 1] = (c.data & 0x0F) << 4 | c.fcom & 0x0F;
            i += 1;
        }
        out
    }
    /// Fields of register bytes.
    pub const fn decode(b: &[u8; 6]) -> Self {
        let mut out = [CommByte {
            icom: 0,
            data: 0,
            fcom: 0,
        }; 3];
        let mut i = 0;
        while i < 3 {
            out[i] = CommByte {
                icom: b[2 * i] >> 4,
                data: b[2 * i] << 4 | b[2 * i + 1] >> 4,
                fcom: b[2 * i + 1] & 0x0F,
            };
            i += 1;
        }
        Self(out)
    }
}

/// The PWM code for a discharge duty of at most `permille` (‰, 0..=1000): duty = code / 15
/// (LTC6812-DS Table 53: "0000 = 0 %, 0001 = 6.7 %, …, 1111 = 100 %"). Rounds
/// the code **down** (never more discharge than asked) and returns it with the duty achieved,
/// code · 1000 / 15 rounded up to a whole ‰ — still not above the request, and asking for
/// the achieved value again gives the same code. Rejects values above 1000.
///
/// ```
/// use bms_afe::ltc681x::register::pwm_duty;
/// assert_eq!(pwm_duty(0), Ok((0, 0)));
/// assert_eq!(pwm_duty(66), Ok((0, 0)));     // below 1/15
/// assert_eq!(pwm_duty(67), Ok((1, 67)));    // 1/15 = 66.7 ‰
/// assert_eq!(pwm_duty(1000), Ok((15, 1000)));
/// assert!(pwm_duty(1001).is_err());
/// ```
pub const fn pwm_duty(permille: u16) -> Result<(u8, u16), ConfigError> {
    if permille > 1000 {
        return Err(ConfigError::OutOfRange {
            field: "PWM duty (‰)",
            value: permille as i64,
            min: 0,
            max: 1000,
        });
    }
    let code = (permille as u32 * 15 / 1000) as u8;
    Ok((code, (code as u32 * 1000).div_ceil(15) as u16))
}

/// Twelve 4-bit fields, low nibble first (SCTRL: SCTL1..12, LTC6812-DS Table 52; PWM:
/// PWM1..12, Table 53). PWM duty = code / 15; SCTL 0000 = drive high, 0001..0111 = n pulses,
/// 1xxx = drive low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Nibbles(pub [u8; 12]);

impl Nibbles {
    /// Checks that every value fits in 4 bits (0..=15); `write_pwm`/`write_sctrl` send
    /// nothing otherwise.
    ///
    /// ```
    /// use bms_afe::ltc681x::register::Nibbles;
    /// assert!(Nibbles([15; 12]).check().is_ok());
    /// let mut n = Nibbles::default();
    /// n.0[3] = 16; // would be sent as 0 (0 % duty) if masked
    /// assert!(n.check().is_err());
    /// ```
    pub const fn check(&self) -> Result<(), ConfigError> {
        check_nibbles("PWM/SCTRL code", &self.0)
    }

    /// Sets field `index` (0 = PWM1/SCTL1 … 11 = PWM12/SCTL12) to `code`, rejecting an index
    /// beyond 11 or a code above 15.
    pub fn set(&mut self, index: usize, code: u8) -> Result<(), ConfigError> {
        check_code("PWM/SCTRL code", code, 0xFFFF)?;
        let slot = self.0.get_mut(index).ok_or(ConfigError::OutOfRange {
            field: "PWM/SCTRL index",
            value: index as i64,
            min: 0,
            max: 11,
        })?;
        *slot = code;
        Ok(())
    }

    /// Sets the PWM duty of `cell` (1..=12) to at most `permille` (‰, 0..=1000), see
    /// [`pwm_duty`]; returns the duty achieved in ‰.
    ///
    /// ```
    /// use bms_afe::ltc681x::register::Nibbles;
    /// let mut pwm = Nibbles::default();
    /// // 50 % is between 7/15 and 8/15: 7/15 = 466.7 ‰ is achieved (reported 467).
    /// assert_eq!(pwm.set_pwm_duty(2, 500), Ok(467));
    /// assert_eq!(pwm.0[1], 7);
    /// assert!(pwm.set_pwm_duty(13, 500).is_err());
    /// ```
    pub fn set_pwm_duty(&mut self, cell: usize, permille: u16) -> Result<u16, ConfigError> {
        let (code, achieved) = pwm_duty(permille)?;
        let index = cell.checked_sub(1).filter(|&i| i < 12);
        let Some(i) = index else {
            return Err(ConfigError::NoSuchCell {
                cell: cell.min(u16::MAX as usize) as u16,
                available: 12,
            });
        };
        self.set(i, code)?;
        Ok(achieved)
    }

    /// Register bytes. Values are masked to 4 bits here: [`Nibbles::check`] them first (the
    /// driver does).
    pub const fn encode(&self) -> [u8; 6] {
        let mut out = [0u8; 6];
        let mut i = 0;
        while i < 6 {
            out[i] = (self.0[2 * i] & 0x0F) | (self.0[2 * i + 1] & 0x0F) << 4;
            i += 1;
        }
        out
    }
    /// Fields of register bytes.
    pub const fn decode(b: &[u8; 6]) -> Self {
        let mut out = [0u8; 12];
        let mut i = 0;
        while i < 6 {
            out[2 * i] = b[i] & 0x0F;
            out[2 * i + 1] = b[i] >> 4;
            i += 1;
        }
        Self(out)
    }
}

/// The PWM/S-control group B (LTC6812-DS Table 54 for 13..15; LTC6813/ADBMS1818: PSR0..2
/// hold PWM13..18 and PSR3..5 SCTL13..18, as the ADBMS1818 demo sketch fills them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Psb {
    /// PWM13..18 duty codes.
    pub pwm: [u8; 6],
    /// SCTL13..18 codes.
    pub sctl: [u8; 6],
}

impl Psb {
    /// Checks that every PWM and SCTL value fits in 4 bits (0..=15); `write_psb` sends
    /// nothing otherwise.
    ///
    /// ```
    /// use bms_afe::ltc681x::register::Psb;
    /// let mut p = Psb::default();
    /// assert!(p.check().is_ok());
    /// p.sctl[5] = 0x10;
    /// assert!(p.check().is_err());
    /// ```
    pub const fn check(&self) -> Result<(), ConfigError> {
        if let Err(e) = check_nibbles("PWM code", &self.pwm) {
            return Err(e);
        }
        check_nibbles("SCTRL code", &self.sctl)
    }

    /// Sets the PWM duty of `cell` (13..=18; the LTC6812 has 13..=15) to at most `permille`
    /// (‰, 0..=1000), see [`pwm_duty`]; returns the duty achieved in ‰.
    ///
    /// ```
    /// use bms_afe::ltc681x::register::Psb;
    /// let mut p = Psb::default();
    /// assert_eq!(p.set_pwm_duty(13, 1000), Ok(1000));
    /// assert_eq!(p.pwm[0], 15);
    /// assert!(p.set_pwm_duty(12, 1000).is_err());
    /// ```
    pub fn set_pwm_duty(&mut self, cell: usize, permille: u16) -> Result<u16, ConfigError> {
        let (code, achieved) = pwm_duty(permille)?;
        let slot = cell
            .checked_sub(13)
            .and_then(|i| self.pwm.get_mut(i))
            .ok_or(ConfigError::NoSuchCell {
                cell: cell.min(u16::MAX as usize) as u16,
                available: 18,
            })?;
        *slot = code;
        Ok(achieved)
    }

    /// [`Psb::check`], and no PWM or SCTL value for a cell the part `V` lacks (the LTC6812
    /// has cells 13..=15 only): [`ConfigError::NoSuchCell`]. `write_psb` sends nothing
    /// otherwise.
    ///
    /// ```
    /// use bms_afe::ltc681x::{Ltc6812, Ltc6813, register::Psb};
    /// let mut p = Psb::default();
    /// p.pwm[3] = 15; // PWM16
    /// assert!(p.check_part::<Ltc6813>().is_ok());
    /// assert!(p.check_part::<Ltc6812>().is_err());
    /// ```
    pub const fn check_part<V: Variant>(&self) -> Result<(), ConfigError> {
        if let Err(e) = self.check() {
            return Err(e);
        }
        let mut i = 0;
        while i < 6 {
            let cell = 13 + i;
            if cell > V::CELLS && (self.pwm[i] != 0 || self.sctl[i] != 0) {
                return Err(ConfigError::NoSuchCell {
                    cell: cell as u16,
                    available: V::CELLS as u16,
                });
            }
            i += 1;
        }
        Ok(())
    }

    /// Register bytes. Values are masked to 4 bits here: [`Psb::check`] them first (the
    /// driver does).
    pub const fn encode(&self) -> [u8; 6] {
        let mut out = [0u8; 6];
        let mut i = 0;
        while i < 3 {
            out[i] = (self.pwm[2 * i] & 0x0F) | (self.pwm[2 * i + 1] & 0x0F) << 4;
            out[3 + i] = (self.sctl[2 * i] & 0x0F) | (self.sctl[2 * i + 1] & 0x0F) << 4;
            i += 1;
        }
        out
    }
    /// Fields of register bytes.
    pub const fn decode(b: &[u8; 6]) -> Self {
        let mut s = Self {
            pwm: [0; 6],
            sctl: [0; 6],
        };
        let mut i = 0;
        while i < 3 {
            s.pwm[2 * i] = b[i] & 0x0F;
            s.pwm[2 * i + 1] = b[i] >> 4;
            s.sctl[2 * i] = b[3 + i] & 0x0F;
            s.sctl[2 * i + 1] = b[3 + i] >> 4;
            i += 1;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltc681x::{Ltc6811, Ltc6813};

    #[test]
    fn cfga_decodes_the_linduino_capture() {
        // EngineerZone thread 104495: real Linduino CFGA E4 0D 28 A0 01 00 = GPIO5..3 pull-downs
        // off, REFON, VUV 0x80D (3.2992 V), VOV 0xA02 (4.0992 V), DCC1.
        let a = CfgA::decode(&[0xE4, 0x0D, 0x28, 0xA0, 0x01, 0x00]);
        assert_eq!(a.gpio, 0b11100);
        assert!(a.refon && !a.dten && !a.adcopt);
        assert_eq!((a.vuv, a.vov, a.dcc, a.dcto), (0x80D, 0xA02, 1, 0));
        let c = DeviceConfig::decode::<Ltc6811>(&[[0xE4, 0x0D, 0x28, 0xA0, 0x01, 0x00], [0; 6]]);
        assert_eq!(c.gpio_pulldown_off, 0b11100);
        assert_eq!(c.dcc, 1);
    }

    #[test]
    fn cfgb_ltc6813_vector() {
        // rt-LTC681X `src/tests/monitor.rs`: CFGB 1F 01 = GPIO6..9 off, DCC13, DCC17.
        let b = CfgB::decode(&[0x1F, 0x01, 0, 0, 0, 0]);
        assert_eq!((b.gpio, b.dcc), (0x0F, 0b01_0001));
        let c = DeviceConfig::decode::<Ltc6813>(&[[0xF8, 0, 0, 0, 0, 0], [0x1F, 0x01, 0, 0, 0, 0]]);
        assert_eq!(c.dcc, 1 << 12 | 1 << 16);
        assert_eq!(c.gpio_pulldown_off, 0x1FF);
    }

    #[test]
    fn code_group_vector() {
        // rt-LTC681X `src/tests/monitor.rs`: CVA 93 61 BB 1E AE 22 -> 24979, 7867, 8878.
        let g = CodeGroup::decode(&[0x93, 0x61, 0xBB, 0x1E, 0xAE, 0x22]);
        assert_eq!(g.0, [24979, 7867, 8878]);
        assert_eq!(g.encode(), [0x93, 0x61, 0xBB, 0x1E, 0xAE, 0x22]);
    }

    #[test]
    fn dten_is_read_only() {
        let c = DeviceConfig {
            dten: true,
            ..DeviceConfig::for_part::<Ltc6811>()
        };
        assert_eq!(c.encode::<Ltc6811>().unwrap()[0][0] & 0x02, 0);
        let back = DeviceConfig::decode::<Ltc6811>(&[[0x02, 0, 0, 0, 0, 0], [0; 6]]);
        assert!(back.dten);
    }

    #[test]
    fn dcto_codes_and_seconds() {
        // LTC6812-DS Table 55: 0.5, 1, 2 … 120 min.
        assert_eq!(DischargeTimeout::from_code(1).seconds(), 30);
        assert_eq!(DischargeTimeout::from_code(0x1F), DischargeTimeout::Min120);
        assert_eq!(DischargeTimeout::Min75.seconds(), 75 * 60);
    }
}
