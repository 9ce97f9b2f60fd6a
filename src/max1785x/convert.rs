//! Register codes to values. Integer arithmetic only.
//!
//! # Cell voltages: /0x4000, not /0x3FFF
//!
//! A cell register holds a 14-bit unsigned code in bits 15:2 with a 5 V full scale. The two
//! public implementations disagree on the last step:
//!
//! * the ADI/Maxim reference firmware (analogdevicesinc/MAXREFDES1301 `V_measure.cpp`,
//!   `cell_V_cal`): `V = (raw >> 2) × 5.0 / 0x4000`, i.e. 5 V / 16384 = 305.17578125 µV per
//!   LSB, code 0 = 0 V;
//! * foxBMS (`mxm_1785x_tools.c`, `MXM_Convert`): `mV = ((raw >> 2) + 1) × 5000 / 0x3FFF`,
//!   integer-truncated (its self-test maps 0xFFFC to exactly 5000 mV and 0x8000 to 2500 mV).
//!
//! The two agree within one LSB everywhere. The data-sheet formula could not be checked from
//! a public source for this crate; the driver uses the vendor firmware's binary scaling
//! (code × 5 V / 2^14, rounded to the nearest µV), which is the conventional transfer
//! function of a 14-bit converter, and keeps the raw code reachable
//! ([`cell_code`]). The block voltage uses the same firmware's 65 V / 0x4000
//! (`block_V_cal`).
//!
//! ```
//! use bms_afe::max1785x::convert::{cell_uv, cell_code, block_uv};
//! use bms_afe::units::MicroVolts;
//! // 0x8000: code 0x2000 = half scale = 2.5 V exactly.
//! assert_eq!(cell_uv(0x8000), MicroVolts(2_500_000));
//! // foxBMS' full-scale test word 0xFFFC: code 0x3FFF = 4.999695 V.
//! assert_eq!(cell_code(0xFFFC), 0x3FFF);
//! assert_eq!(cell_uv(0xFFFC), MicroVolts(4_999_695));
//! assert_eq!(block_uv(0x8000), MicroVolts(32_500_000));
//! ```

use crate::units::{MicroAmps, MicroVolts};

/// Cell full scale: 5 V (MAXREFDES1301 `VOLTAGE_REF`; foxBMS `MXM_REF_UNIPOLAR_CELL_mV`).
pub const CELL_FULL_SCALE_UV: u32 = 5_000_000;
/// Block full scale: 65 V (MAXREFDES1301 `FULL_SCALE_DCIN`; foxBMS passes 65000 mV).
pub const BLOCK_FULL_SCALE_UV: u32 = 65_000_000;
/// One cell LSB rounded up to whole µV (305.18 µV).
pub const CELL_LSB_UV_CEIL: i32 = 306;
/// One block LSB rounded up to whole µV (3967.3 µV).
pub const BLOCK_LSB_UV_CEIL: i32 = 3_968;

/// The 14-bit code of a 16-bit result register (bits 15:2).
pub const fn cell_code(raw: u16) -> u16 {
    raw >> 2
}

/// Code × full scale / 2^14, rounded to the nearest µV.
const fn scaled(raw: u16, full_scale_uv: u32) -> MicroVolts {
    let code = (raw >> 2) as u64;
    MicroVolts(((code * full_scale_uv as u64 + 8_192) / 16_384) as i32)
}

/// A cell register (CELL1..CELL14) as a voltage.
pub const fn cell_uv(raw: u16) -> MicroVolts {
    scaled(raw, CELL_FULL_SCALE_UV)
}

/// The BLOCK register as a voltage.
pub const fn block_uv(raw: u16) -> MicroVolts {
    scaled(raw, BLOCK_FULL_SCALE_UV)
}

/// An AUX register as a fraction of its reference, in parts per million (the inputs are
/// ratiometric to the thermistor supply: foxBMS converts them against `MXM_REF_VAA_mV`).
/// `1_000_000` is full scale.
pub const fn aux_ratio_ppm(raw: u16) -> u32 {
    let code = (raw >> 2) as u64;
    ((code * 1_000_000 + 8_192) / 16_384) as u32
}

/// How to turn the MAX17852 CSA register into a current. The CSA result format (gain,
/// full scale, sign convention) is not in the public sources this crate cites, so the
/// caller supplies it from the data sheet and the board: the register is read as a signed
/// 14-bit code in bits 15:2 (two's complement, like the cell layout), multiplied by
/// `lsb_nv` (nanovolts across the shunt per code) and divided by the shunt resistance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CurrentSense {
    /// Device whose CSA input carries the shunt (0 = nearest the bridge).
    pub device: u8,
    /// Nanovolts across the shunt per CSA code.
    pub lsb_nv: i64,
    /// Shunt resistance in µΩ (non-zero).
    pub shunt_micro_ohm: i64,
}

impl CurrentSense {
    /// The signed 14-bit code of a CSA register value.
    pub const fn code(raw: u16) -> i16 {
        (raw as i16) >> 2
    }

    /// The current for a CSA register value: `code × lsb_nv × 1000 / shunt_µΩ` µA
    /// (saturating; a zero shunt gives 0).
    ///
    /// ```
    /// use bms_afe::max1785x::convert::CurrentSense;
    /// use bms_afe::units::MicroAmps;
    /// let cs = CurrentSense { device: 0, lsb_nv: 10_000, shunt_micro_ohm: 100 };
    /// // Code -4 (0xFFF0): -40 µV over 100 µΩ = -0.4 A.
    /// assert_eq!(cs.current(0xFFF0), MicroAmps(-400_000));
    /// ```
    pub const fn current(&self, raw: u16) -> MicroAmps {
        if self.shunt_micro_ohm == 0 {
            return MicroAmps(0);
        }
        let nv = (Self::code(raw) as i64).saturating_mul(self.lsb_nv);
        MicroAmps(nv.saturating_mul(1000) / self.shunt_micro_ohm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_scale_is_five_volts_over_2_pow_14() {
        assert_eq!(cell_uv(0), MicroVolts(0));
        // One code: 305.17578125 µV → 305.
        assert_eq!(cell_uv(1 << 2), MicroVolts(305));
        // 3.3 V ≈ code 10813.44: code 10813 → 3_299_865.7 → 3_299_866.
        assert_eq!(cell_uv(10_813 << 2), MicroVolts(3_299_866));
        // Low two bits do not matter.
        assert_eq!(cell_uv(0x8003), cell_uv(0x8000));
        // Against foxBMS' formula: within one LSB over the whole range.
        for code in (0u32..0x4000).step_by(7) {
            let ours = cell_uv((code << 2) as u16).0;
            let fox_mv = (code + 1) * 5000 / 0x3FFF;
            assert!((ours - fox_mv as i32 * 1000).abs() <= 1_306, "code {code}");
        }
        assert_eq!(block_uv(0xFFFC), MicroVolts(64_996_033));
        assert_eq!(aux_ratio_ppm(0x8000), 500_000);
    }

    #[test]
    fn current_sense_signs_and_saturates() {
        let cs = CurrentSense {
            device: 0,
            lsb_nv: 1_000,
            shunt_micro_ohm: 50,
        };
        assert_eq!(CurrentSense::code(0x7FFC), 0x1FFF);
        assert_eq!(CurrentSense::code(0x8000), -0x2000);
        assert_eq!(cs.current(0x0004), MicroAmps(20_000));
        let zero = CurrentSense {
            shunt_micro_ohm: 0,
            ..cs
        };
        assert_eq!(zero.current(0x7FFC), MicroAmps(0));
    }
}
