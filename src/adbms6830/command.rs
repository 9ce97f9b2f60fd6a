//! Command codes (ADBMS6830B-DS Table 50) as ready 4-byte frames with PEC15,
//! the ADC-start builders, and the command-counter increment table.
//!
//! ```
//! use bms_afe::adbms6830::command::{self, Adcv};
//! // RDCVA = 00 04 07 C2 (rt-LTC681X `src/commands.rs`; also in a real ADBMS6830 bus capture,
//! // atopile/adbms6830-saleae-analyzer `sample_voltage.png`).
//! assert_eq!(command::RDCVA, [0x00, 0x04, 0x07, 0xC2]);
//! // ADCV single shot, RD=0 = 0x260 → 02 60 7C 20.
//! assert_eq!(Adcv::SINGLE.frame(), Ok([0x02, 0x60, 0x7C, 0x20]));
//! ```

use crate::error::ConfigError;
use crate::isospi::command;

crate::isospi::commands! {
    /// Write configuration register group A.
    WRCFGA = 0x001;
    /// Read configuration register group A.
    RDCFGA = 0x002;
    /// Write configuration register group B.
    WRCFGB = 0x024;
    /// Read configuration register group B.
    RDCFGB = 0x026;
    /// Read C-ADC cell group A (C1–C3).
    RDCVA = 0x004;
    /// Read C-ADC cell group B (C4–C6).
    RDCVB = 0x006;
    /// Read C-ADC cell group C (C7–C9).
    RDCVC = 0x008;
    /// Read C-ADC cell group D (C10–C12).
    RDCVD = 0x00A;
    /// Read C-ADC cell group E (C13–C15).
    RDCVE = 0x009;
    /// Read C-ADC cell group F (C16).
    RDCVF = 0x00B;
    /// Read all C-ADC results (32 data bytes per device).
    RDCVALL = 0x00C;
    /// Read averaged cell group A.
    RDACA = 0x044;
    /// Read averaged cell group B.
    RDACB = 0x046;
    /// Read averaged cell group C.
    RDACC = 0x048;
    /// Read averaged cell group D.
    RDACD = 0x04A;
    /// Read averaged cell group E.
    RDACE = 0x049;
    /// Read averaged cell group F.
    RDACF = 0x04B;
    /// Read all averaged results.
    RDACALL = 0x04C;
    /// Read S-ADC cell group A.
    RDSVA = 0x003;
    /// Read S-ADC cell group B.
    RDSVB = 0x005;
    /// Read S-ADC cell group C.
    RDSVC = 0x007;
    /// Read S-ADC cell group D.
    RDSVD = 0x00D;
    /// Read S-ADC cell group E.
    RDSVE = 0x00E;
    /// Read S-ADC cell group F.
    RDSVF = 0x00F;
    /// Read all S-ADC results.
    RDSALL = 0x010;
    /// Read all C and S results (64 data bytes).
    RDCSALL = 0x011;
    /// Read all averaged C and S results (64 data bytes).
    RDACSALL = 0x051;
    /// Read filtered cell group A.
    RDFCA = 0x012;
    /// Read filtered cell group B.
    RDFCB = 0x013;
    /// Read filtered cell group C.
    RDFCC = 0x014;
    /// Read filtered cell group D.
    RDFCD = 0x015;
    /// Read filtered cell group E.
    RDFCE = 0x016;
    /// Read filtered cell group F.
    RDFCF = 0x017;
    /// Read all filtered results.
    RDFCALL = 0x018;
    /// Read auxiliary group A (G1–G3).
    RDAUXA = 0x019;
    /// Read auxiliary group B (G4–G6).
    RDAUXB = 0x01A;
    /// Read auxiliary group C (G7–G9).
    RDAUXC = 0x01B;
    /// Read auxiliary group D (G10, VMV, VPV).
    RDAUXD = 0x01F;
    /// Read redundant auxiliary group A.
    RDRAXA = 0x01C;
    /// Read redundant auxiliary group B.
    RDRAXB = 0x01D;
    /// Read redundant auxiliary group C.
    RDRAXC = 0x01E;
    /// Read redundant auxiliary group D.
    RDRAXD = 0x025;
    /// Read status group A (VREF2, ITMP).
    RDSTATA = 0x030;
    /// Read status group B (VD, VA, VRES).
    RDSTATB = 0x031;
    /// Read status group C (CS flags, CT/CTS, supply/oscillator/thermal flags).
    RDSTATC = 0x032;
    /// Read status group C with an injected error (ERR = 1, latent-fault test of SPIFLT).
    RDSTATC_ERR = 0x072;
    /// Read status group D (cell OV/UV flags, oscillator counter).
    RDSTATD = 0x033;
    /// Read status group E (GPI, revision).
    RDSTATE = 0x034;
    /// Read all auxiliary and status (68 data bytes).
    RDASALL = 0x035;
    /// Write PWM group A (cells 1–12).
    WRPWMA = 0x020;
    /// Read PWM group A.
    RDPWMA = 0x022;
    /// Write PWM group B (cells 13–16).
    WRPWMB = 0x021;
    /// Read PWM group B.
    RDPWMB = 0x023;
    /// Clear C-ADC results (to 0x8000).
    CLRCELL = 0x711;
    /// Clear filtered results.
    CLRFC = 0x714;
    /// Clear auxiliary results.
    CLRAUX = 0x712;
    /// Clear S-ADC results.
    CLRSPIN = 0x716;
    /// Clear status flags (6 data bytes: the flags to clear).
    CLRFLAG = 0x717;
    /// Clear cell OV/UV flags (6 data bytes).
    CLOVUV = 0x715;
    /// Poll any ADC.
    PLADC = 0x718;
    /// Poll the C-ADC.
    PLCADC = 0x71C;
    /// Poll the S-ADC.
    PLSADC = 0x71D;
    /// Poll the AUX ADC.
    PLAUX = 0x71E;
    /// Poll the AUX2 ADC.
    PLAUX2 = 0x71F;
    /// Write the COMM register group.
    WRCOMM = 0x721;
    /// Read the COMM register group.
    RDCOMM = 0x722;
    /// Start I2C/SPI communication (followed by 72 clocks).
    STCOMM = 0x723;
    /// Mute discharge.
    MUTE = 0x028;
    /// Unmute discharge.
    UNMUTE = 0x029;
    /// Read the serial ID.
    RDSID = 0x02C;
    /// Reset the command counter.
    RSTCC = 0x02E;
    /// Freeze the result registers.
    SNAP = 0x02D;
    /// Release the result registers.
    UNSNAP = 0x02F;
    /// Soft reset.
    SRST = 0x027;
}

/// How a command moves the command counter (ADBMS6830B-DS Table 50 "INC" column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Inc {
    /// Does not increment (reads, RDSID).
    No,
    /// Increments by one (ADC starts, clears, polls, MUTE/UNMUTE, SNAP/UNSNAP, STCOMM, and
    /// writes whose data PEC was valid at CSB rising).
    Yes,
    /// Resets the counter to 0 (RSTCC, SRST).
    Reset,
    /// The revisions disagree: Rev. SpA marks INC, Rev. 0 does not (CLOVUV, WRCMCELLT).
    Disputed,
}

/// The INC column of ADBMS6830B-DS Table 50 for an 11-bit command code.
///
/// Codes the table does not list (and reserved codes) return [`Inc::No`]: the driver sends
/// only listed commands.
pub const fn increments(cc: u16) -> Inc {
    match cc & 0x7FF {
        // RSTCC, SRST
        0x02E | 0x027 => Inc::Reset,
        // CLOVUV, WRCMCELLT
        0x715 | 0x05A => Inc::Disputed,
        // writes: WRCFGA/B, WRPWMA/B, WRCOMM, WRRR, WRCMCFG, WRCMGPIOT
        0x001 | 0x024 | 0x020 | 0x021 | 0x721 | 0x039 | 0x058 | 0x05C => Inc::Yes,
        // clears, CLRFLAG, polls, STCOMM
        0x711 | 0x712 | 0x714 | 0x716 | 0x717 | 0x718 | 0x71C..=0x71F | 0x723 => Inc::Yes,
        // MUTE, UNMUTE, SNAP, UNSNAP, ULRR, CLRCMFLAG
        0x028 | 0x029 | 0x02D | 0x02F | 0x038 | 0x05E => Inc::Yes,
        cc => {
            if is_adc_start(cc) {
                Inc::Yes
            } else {
                Inc::No
            }
        }
    }
}

/// `true` for ADCV, ADSV, ADAX and ADAX2 codes.
pub const fn is_adc_start(cc: u16) -> bool {
    // ADCV: 0b01x_x11x_0xxx pattern 0x260 | RD<<8 | CONT<<7 | DCP<<4 | RSTF<<2 | OW
    (cc & 0x668) == 0x260
        // ADSV: 0x168 | CONT<<7 | DCP<<4 | OW
        || (cc & 0x76C) == 0x168
        // ADAX: 0x410 | OW<<8 | PUP<<7 | CH4<<6 | CH[3:0]
        || (cc & 0x630) == 0x410
        // ADAX2: 0x400 | CH[3:0]
        || (cc & 0x7F0) == 0x400
}

/// The 11-bit code of a command frame.
pub const fn code_of(frame: &[u8; 4]) -> u16 {
    ((frame[0] as u16) << 8 | frame[1] as u16) & 0x7FF
}

/// Cell open-wire switches for ADCV/ADSV (`OW[1:0]`, ADBMS6830B-DS "Command Bit
/// Descriptions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OpenWire {
    /// 00: switches off (normal measurement).
    #[default]
    Off,
    /// 01: current sources on the even channels.
    Even,
    /// 10: current sources on the odd channels.
    Odd,
    /// 11: all channels (the data sheet advises against neighbouring channels at once).
    All,
}

impl OpenWire {
    const fn bits(self) -> u16 {
        match self {
            Self::Off => 0,
            Self::Even => 1,
            Self::Odd => 2,
            Self::All => 3,
        }
    }
}

/// ADCV: start the C-ADC (`0x260 | RD<<8 | CONT<<7 | DCP<<4 | RSTF<<2 | OW`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Adcv {
    /// RD: redundant measurement (S-ADC runs too; single shot takes 8 ms; resets OW switches).
    pub redundant: bool,
    /// CONT: continuous (a result every 1 ms) instead of one measurement.
    pub continuous: bool,
    /// DCP: keep PWM discharge running during the measurement (invalid with `continuous`).
    pub discharge_permitted: bool,
    /// RSTF: reset the IIR filter.
    pub reset_filter: bool,
    /// OW: open-wire current sources.
    pub open_wire: OpenWire,
}

impl Adcv {
    /// Single shot, no redundancy, discharge interrupted, switches off.
    pub const SINGLE: Self = Self {
        redundant: false,
        continuous: false,
        discharge_permitted: false,
        reset_filter: false,
        open_wire: OpenWire::Off,
    };

    /// The 11-bit code, or [`ConfigError::Conflict`] for DCP = 1 with CONT = 1 (the chip
    /// ignores that combination: ADBMS6830-SpA Table 20).
    pub const fn code(&self) -> Result<u16, ConfigError> {
        if self.discharge_permitted && self.continuous {
            return Err(ConfigError::Conflict(
                "ADCV: DCP=1 with CONT=1 is ignored by the chip",
            ));
        }
        Ok(0x260
            | (self.redundant as u16) << 8
            | (self.continuous as u16) << 7
            | (self.discharge_permitted as u16) << 4
            | (self.reset_filter as u16) << 2
            | self.open_wire.bits())
    }

    /// The 4-byte frame.
    pub const fn frame(&self) -> Result<[u8; 4], ConfigError> {
        match self.code() {
            Ok(c) => Ok(command(c)),
            Err(e) => Err(e),
        }
    }
}

/// ADSV: start the S-ADC (`0x168 | CONT<<7 | DCP<<4 | OW`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Adsv {
    /// CONT: continuous (a result every 8 ms).
    pub continuous: bool,
    /// DCP: keep PWM discharge running (invalid with `continuous`).
    pub discharge_permitted: bool,
    /// OW: open-wire current sources.
    pub open_wire: OpenWire,
}

impl Adsv {
    /// The 11-bit code; DCP = 1 with CONT = 1 is rejected as for [`Adcv::code`].
    pub const fn code(&self) -> Result<u16, ConfigError> {
        if self.discharge_permitted && self.continuous {
            return Err(ConfigError::Conflict(
                "ADSV: DCP=1 with CONT=1 is ignored by the chip",
            ));
        }
        Ok(0x168
            | (self.continuous as u16) << 7
            | (self.discharge_permitted as u16) << 4
            | self.open_wire.bits())
    }

    /// The 4-byte frame.
    pub const fn frame(&self) -> Result<[u8; 4], ConfigError> {
        match self.code() {
            Ok(c) => Ok(command(c)),
            Err(e) => Err(e),
        }
    }
}

/// Auxiliary channel selection `CH[4:0]` of ADAX (ADBMS6830B-DS "Command Bit Descriptions").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AuxChannel {
    /// 00000: all channels (GPIO1–10, VREF2, VD, VA, ITMP, VPV, VMV, VRES …).
    All,
    /// 00001..01010: GPIO `n` (1..=10).
    Gpio(u8),
    /// 10000: second reference.
    Vref2,
    /// 10001: digital supply.
    Vd,
    /// 10010: analog supply.
    Va,
    /// 10011: die temperature.
    Itmp,
    /// 10100: V+ to V− (module voltage).
    Vpv,
    /// 10101: V− to ground.
    Vmv,
    /// 10110: reference resistor.
    Vres,
}

impl AuxChannel {
    /// `CH[4:0]`, or [`ConfigError::OutOfRange`] for a GPIO outside 1..=10.
    pub const fn bits(self) -> Result<u16, ConfigError> {
        Ok(match self {
            Self::All => 0,
            Self::Gpio(n) => {
                if n < 1 || n > 10 {
                    return Err(ConfigError::OutOfRange {
                        field: "GPIO number",
                        value: n as i64,
                        min: 1,
                        max: 10,
                    });
                }
                n as u16
            }
            Self::Vref2 => 0x10,
            Self::Vd => 0x11,
            Self::Va => 0x12,
            Self::Itmp => 0x13,
            Self::Vpv => 0x14,
            Self::Vmv => 0x15,
            Self::Vres => 0x16,
        })
    }
}

/// Pull direction of the ADAX open-wire current source (`PUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Pull {
    /// PUP = 0.
    #[default]
    Down,
    /// PUP = 1.
    Up,
}

/// ADAX: start the AUX ADC (`0x410 | OW<<8 | PUP<<7 | CH[4]<<6 | CH[3:0]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Adax {
    /// Channels to convert.
    pub channel: AuxChannel,
    /// OW: open-wire current source on, pulling `pull`.
    pub open_wire: Option<Pull>,
}

impl Adax {
    /// The 11-bit code.
    pub const fn code(&self) -> Result<u16, ConfigError> {
        let ch = match self.channel.bits() {
            Ok(c) => c,
            Err(e) => return Err(e),
        };
        let (ow, pup) = match self.open_wire {
            None => (0, 0),
            Some(Pull::Down) => (1, 0),
            Some(Pull::Up) => (1, 1),
        };
        Ok(0x410 | ow << 8 | pup << 7 | (ch & 0x10) << 2 | (ch & 0x0F))
    }

    /// The 4-byte frame.
    pub const fn frame(&self) -> Result<[u8; 4], ConfigError> {
        match self.code() {
            Ok(c) => Ok(command(c)),
            Err(e) => Err(e),
        }
    }
}

/// ADAX2: start the redundant AUX2 ADC on GPIOs (`0x400 | CH[3:0]`); `None` = all GPIOs.
pub const fn adax2(gpio: Option<u8>) -> Result<[u8; 4], ConfigError> {
    match gpio {
        None => Ok(command(0x400)),
        Some(n) if n >= 1 && n <= 10 => Ok(command(0x400 | n as u16)),
        Some(n) => Err(ConfigError::OutOfRange {
            field: "GPIO number",
            value: n as i64,
            min: 1,
            max: 10,
        }),
    }
}

/// Which ADC to poll (PLADC, PLCADC, PLSADC, PLAUX, PLAUX2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PollTarget {
    /// PLADC: any ADC (meaningless while an ADC runs continuously).
    Any,
    /// PLCADC.
    CAdc,
    /// PLSADC.
    SAdc,
    /// PLAUX.
    Aux,
    /// PLAUX2.
    Aux2,
}

impl PollTarget {
    /// The poll command frame.
    pub const fn frame(self) -> [u8; 4] {
        match self {
            Self::Any => PLADC,
            Self::CAdc => PLCADC,
            Self::SAdc => PLSADC,
            Self::Aux => PLAUX,
            Self::Aux2 => PLAUX2,
        }
    }
}

/// Result clears (all reset the registers to 0x8000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Clear {
    /// CLRCELL: C-ADC (and averaged) results.
    Cells,
    /// CLRFC: filtered results.
    Filtered,
    /// CLRAUX: auxiliary results.
    Aux,
    /// CLRSPIN: S-ADC results.
    SPin,
}

impl Clear {
    /// The clear command frame.
    pub const fn frame(self) -> [u8; 4] {
        match self {
            Self::Cells => CLRCELL,
            Self::Filtered => CLRFC,
            Self::Aux => CLRAUX,
            Self::SPin => CLRSPIN,
        }
    }
}

/// The next command-counter value: wraps 63 → 1 (0 only after reset; ADBMS6830B-DS
/// "Command Counter").
pub const fn next_counter(cc: u8) -> u8 {
    if cc >= 63 { 1 } else { cc + 1 }
}

/// The counter after `k` incrementing commands (wrap 63 → 1), in O(1).
pub const fn advance_counter(cc: u8, k: u32) -> u8 {
    if k == 0 {
        return cc;
    }
    // The first increment from 0 lands on 1; from there the counter cycles through 1..=63.
    let (start, rest) = if cc == 0 || cc > 63 {
        (1u32, k - 1)
    } else {
        (cc as u32, k)
    };
    ((start - 1 + rest % 63) % 63 + 1) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_match_the_notes() {
        // rt-LTC681X `src/commands.rs` (RDCVA also in a real ADBMS6830 capture) and codes of
        // ADBMS6830B-DS Table 50 with PECs from an independent bit-serial PEC15.
        assert_eq!(RDCVA, [0x00, 0x04, 0x07, 0xC2]);
        assert_eq!(WRCFGA, [0x00, 0x01, 0x3D, 0x6E]);
        assert_eq!(WRPWMA, [0x00, 0x20, 0x00, 0x00]); // PEC 0 is valid
        assert_eq!(RDCVALL, [0x00, 0x0C, 0xEF, 0xCC]);
        assert_eq!(RDACALL, [0x00, 0x4C, 0x08, 0x46]);
        assert_eq!(RDSALL, [0x00, 0x10, 0xED, 0x72]);
        assert_eq!(RDFCALL, [0x00, 0x18, 0x05, 0x7C]);
        assert_eq!(RDSID, [0x00, 0x2C, 0x59, 0x90]);
        assert_eq!(SRST, [0x00, 0x27, 0xA7, 0xFA]);
        assert_eq!(RSTCC, [0x00, 0x2E, 0xC4, 0xC6]);
        assert_eq!(SNAP, [0x00, 0x2D, 0xD2, 0xA2]);
        assert_eq!(UNSNAP, [0x00, 0x2F, 0x4F, 0xF4]);
        assert_eq!(CLRFLAG, [0x07, 0x17, 0xE5, 0x08]);
        assert_eq!(PLCADC, [0x07, 0x1C, 0x1B, 0x62]);
        assert_eq!(RDSTATA, [0x00, 0x30, 0x5B, 0x2E]);
        assert_eq!(RDSTATB, [0x00, 0x31, 0xD0, 0x1C]);
        assert_eq!(RDSTATC, [0x00, 0x32, 0xC6, 0x78]);
        assert_eq!(RDSTATD, [0x00, 0x33, 0x4D, 0x4A]);
        assert_eq!(RDSTATE, [0x00, 0x34, 0xEA, 0xB0]);
        assert_eq!(RDAUXA, [0x00, 0x19, 0x8E, 0x4E]);
        assert_eq!(STCOMM, [0x07, 0x23, 0xB9, 0xE4]); // [X] ADI-6830-ref
        assert_eq!(MUTE, [0x00, 0x28, 0xE8, 0x0E]);
        assert_eq!(UNMUTE, [0x00, 0x29, 0x63, 0x3C]);
    }

    #[test]
    fn builders_set_every_bit() {
        // ADBMS6830B-DS Table 50; the codes equal LTC ADCV MD=01/11/00, whose PECs rt-LTC681X
        // `src/commands.rs` publishes.
        let cont = Adcv {
            continuous: true,
            ..Adcv::SINGLE
        };
        assert_eq!(cont.frame(), Ok([0x02, 0xE0, 0x38, 0x06]));
        let rd_cont = Adcv {
            redundant: true,
            ..cont
        };
        assert_eq!(rd_cont.frame(), Ok([0x03, 0xE0, 0xB0, 0x4A]));
        let all = Adcv {
            redundant: true,
            continuous: false,
            discharge_permitted: true,
            reset_filter: true,
            open_wire: OpenWire::All,
        };
        assert_eq!(all.code(), Ok(0x260 | 0x100 | 0x010 | 0x004 | 0x003));
        let adsv = Adsv {
            continuous: true,
            ..Adsv::default()
        };
        assert_eq!(adsv.frame(), Ok([0x01, 0xE8, 0xC3, 0xEE]));
        assert_eq!(
            Adsv {
                open_wire: OpenWire::Odd,
                discharge_permitted: true,
                continuous: false
            }
            .code(),
            Ok(0x168 | 0x010 | 0x002)
        );
        let ax = Adax {
            channel: AuxChannel::All,
            open_wire: None,
        };
        assert_eq!(ax.frame(), Ok([0x04, 0x10, 0x51, 0x14]));
        let itmp = Adax {
            channel: AuxChannel::Itmp,
            open_wire: Some(Pull::Up),
        };
        assert_eq!(itmp.code(), Ok(0x410 | 0x100 | 0x080 | 0x040 | 0x003));
        assert!(
            Adax {
                channel: AuxChannel::Gpio(11),
                open_wire: None
            }
            .code()
            .is_err()
        );
        assert_eq!(adax2(Some(10)).map(|f| code_of(&f)), Ok(0x40A));
        assert!(adax2(Some(0)).is_err());
    }

    #[test]
    fn inc_table() {
        for c in [
            WRCFGA, WRCFGB, WRPWMA, WRPWMB, WRCOMM, CLRCELL, CLRFC, CLRAUX, CLRSPIN, CLRFLAG,
            PLADC, PLCADC, PLSADC, PLAUX, PLAUX2, MUTE, UNMUTE, SNAP, UNSNAP, STCOMM,
        ] {
            assert_eq!(increments(code_of(&c)), Inc::Yes, "{c:02X?}");
        }
        for c in [
            RDCFGA,
            RDCFGB,
            RDCVA,
            RDCVF,
            RDCVALL,
            RDSALL,
            RDACALL,
            RDFCALL,
            RDAUXD,
            RDRAXD,
            RDSTATA,
            RDSTATC_ERR,
            RDSTATE,
            RDASALL,
            RDPWMB,
            RDCOMM,
            RDSID,
            RDCSALL,
        ] {
            assert_eq!(increments(code_of(&c)), Inc::No, "{c:02X?}");
        }
        assert_eq!(increments(code_of(&RSTCC)), Inc::Reset);
        assert_eq!(increments(code_of(&SRST)), Inc::Reset);
        assert_eq!(increments(code_of(&CLOVUV)), Inc::Disputed);
        for code in [0x260u16, 0x3F7, 0x168, 0x1FB, 0x410, 0x5DF, 0x400, 0x40A] {
            assert_eq!(increments(code), Inc::Yes, "{code:#x}");
        }
        assert_eq!(next_counter(0), 1);
        assert_eq!(next_counter(62), 63);
        assert_eq!(next_counter(63), 1);
        for start in 0..=63u8 {
            let mut c = start;
            for k in 0..200u32 {
                assert_eq!(advance_counter(start, k), c, "start {start} k {k}");
                c = next_counter(c);
            }
        }
        assert_eq!(
            advance_counter(5, u32::MAX),
            advance_counter(5, u32::MAX % 63)
        );
    }
}
