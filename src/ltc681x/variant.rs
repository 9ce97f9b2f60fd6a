//! The chips of the family as types: [`Ltc6810`], [`Ltc6811`], [`Ltc6812`], [`Ltc6813`] and
//! [`Adbms1818`], each implementing the sealed [`Variant`] trait with its constants.
//!
//! Sources (cells, GPIOs, groups, SC factor, ITMP formula per part): LTC6812-DS Table 55, LTC6804-DS p.27, Linduino `DC2350AB.ino`/`DC2259.ino`/`DC2515.ino`),
//! §3.6 (conversion times, LTC681x data sheets Table 5), §4 (ADBMS1818 = LTC6813 protocol).

use core::fmt::Debug;

mod sealed {
    pub trait Sealed {}
}

/// Which configuration-register layout a chip has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConfigLayout {
    /// LTC6810: one group with its own layout (GPIO1..4, DCC0..6, MCAL, SCONV, FDRF, DIS_RED,
    /// DTMEN; see [`Cfg6810`](super::register::Cfg6810)).
    Ltc6810,
    /// LTC6811: one group CFGR ([`CfgA`](super::register::CfgA)), no CFGRB.
    Ltc6811,
    /// LTC6812: CFGRA + CFGRB with DCC13..15 (LTC6812-DS Tables 38/39).
    Ltc6812,
    /// LTC6813 / ADBMS1818: CFGRA + CFGRB with DCC13..18.
    Ltc6813,
}

/// A chip of the LTC681x family. Sealed: implemented by the marker types of this module.
///
/// Time tables are indexed `[MD][ADCOPT]` with MD = 0b00..0b11 (see
/// [`AdcMode`](super::command::AdcMode)), in µs.
pub trait Variant: sealed::Sealed + Copy + Default + Debug + Send + Sync + 'static {
    /// Part name.
    const NAME: &'static str;
    /// Cell inputs per device.
    const CELLS: usize;
    /// GPIO pins per device (LTC6810: GPIO1..4; S0 is read as an auxiliary channel).
    const GPIOS: usize;
    /// Cell-voltage register groups (RDCVA.. ; 3 cells each).
    const CELL_GROUPS: usize;
    /// Auxiliary register groups (RDAUXA..).
    const AUX_GROUPS: usize;
    /// Voltages in the auxiliary groups, in register order (see
    /// [`Ltc681x::read_aux`](super::Ltc681x) docs for the order per part).
    const AUX_CHANNELS: usize;
    /// Configuration layout.
    const LAYOUT: ConfigLayout;
    /// Sum-of-cells factor: SC · 100 µV · factor (10 / 20 / 30).
    const SC_FACTOR: i32;
    /// Die-temperature slope in µV per kelvin (7500 or 7600).
    const ITMP_UV_PER_K: i32;
    /// Die-temperature offset in m°C (273 000 or 276 000).
    const ITMP_OFFSET_MC: i32;
    /// Highest valid cell-selection code CH (LTC6812: 5, others 6).
    const MAX_CELL_SELECT: u8;
    /// Has MUTE/UNMUTE (LTC6810/6812/6813, ADBMS1818; not LTC6811).
    const HAS_MUTE: bool;
    /// Has ADOL (not the single-ADC LTC6810).
    const HAS_ADOL: bool;
    /// Has the PWM/S-control group B (WRPSB/RDPSB).
    const HAS_PSB: bool;
    /// ADAX CHG 1..4 converts two GPIOs each (LTC6812/6813).
    const ADAX_PAIRS: bool;
    /// ADCV, all cells, µs.
    const ADCV_ALL_US: [[u32; 2]; 4];
    /// ADCV, one cell group (or one cell on LTC6810), µs.
    const ADCV_ONE_US: [[u32; 2]; 4];
    /// ADAX of one GPIO (or the second reference) and ADSTAT of one item, µs: the part's own
    /// table, never another part's shorter one.
    const ONE_CHANNEL_US: [[u32; 2]; 4];
}

macro_rules! variant {
    ($(#[$m:meta])* $ty:ident, $name:expr, cells $cells:expr, gpios $gpios:expr,
     aux $aux:expr, auxch $auxch:expr, layout $layout:ident, sc $sc:expr, itmp $uv:expr, $off:expr,
     maxch $maxch:expr, mute $mute:expr, adol $adol:expr, psb $psb:expr, pairs $pairs:expr,
     all $all:expr, one $one:expr, single $single:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct $ty;
        impl sealed::Sealed for $ty {}
        impl Variant for $ty {
            const NAME: &'static str = $name;
            const CELLS: usize = $cells;
            const GPIOS: usize = $gpios;
            const CELL_GROUPS: usize = $cells / 3;
            const AUX_GROUPS: usize = $aux;
            const AUX_CHANNELS: usize = $auxch;
            const LAYOUT: ConfigLayout = ConfigLayout::$layout;
            const SC_FACTOR: i32 = $sc;
            const ITMP_UV_PER_K: i32 = $uv;
            const ITMP_OFFSET_MC: i32 = $off;
            const MAX_CELL_SELECT: u8 = $maxch;
            const HAS_MUTE: bool = $mute;
            const HAS_ADOL: bool = $adol;
            const HAS_PSB: bool = $psb;
            const ADAX_PAIRS: bool = $pairs;
            const ADCV_ALL_US: [[u32; 2]; 4] = $all;
            const ADCV_ONE_US: [[u32; 2]; 4] = $one;
            const ONE_CHANNEL_US: [[u32; 2]; 4] = $single;
        }
    };
}

// ADCV all-cell times per part (each data sheet's Table 5), one-group times (LTC6812/6813
// data sheets; LTC6811 values for LTC6811 and LTC6810). Single-channel ADAX/ADSTAT times:
// LTC6812/LTC6813 from LTC6812-1 data sheet Rev. B Table 37 (200/229, 403/520, 34000/753,
// 2100/1200 µs); LTC6811/LTC6810 from their own ADC, which converts one channel in the
// one-group time (LTC6804-1/-2 data sheet 680412fc Table 35 "GPIO 1" and "SOC": 201/230,
// 405/501, 34 ms/754 µs; the 422 Hz / 1 kHz entries 2150/1219 µs as the LTC6811 one-group
// conversion), https://www.analog.com/media/en/technical-documentation/data-sheets/680412fc.pdf.
variant!(
    /// LTC6810-1: 6 cells, GPIO1..4 + S0, one configuration group of its own layout,
    /// SC × 10, die temperature 7.5 mV/K − 273 °C (Linduino `DC2515.ino`; the rt crate's
    /// 7.6 mV is treated as a bug).
    Ltc6810, "LTC6810", cells 6, gpios 4, aux 2, auxch 6, layout Ltc6810, sc 10,
    itmp 7500, 273_000, maxch 6, mute true, adol false, psb false, pairs false,
    all [[12801, 7215], [1106, 1281], [2328, 3026], [201310, 4423]],
    one [[2150, 1219], [201, 230], [405, 501], [33568, 754]],
    single [[2150, 1219], [201, 230], [405, 501], [34000, 754]]
);
variant!(
    /// LTC6811-1: 12 cells, GPIO1..5, one configuration group CFGR, SC × 20, die
    /// temperature 7.5 mV/K − 273 °C (Linduino `DC2259.ino`). No MUTE, no CFGRB.
    Ltc6811, "LTC6811", cells 12, gpios 5, aux 2, auxch 6, layout Ltc6811, sc 20,
    itmp 7500, 273_000, maxch 6, mute false, adol true, psb false, pairs false,
    all [[12807, 7222], [1113, 1288], [2335, 3033], [201317, 4430]],
    one [[2150, 1219], [201, 230], [405, 501], [33568, 754]],
    single [[2150, 1219], [201, 230], [405, 501], [34000, 754]]
);
variant!(
    /// LTC6812-1: 15 cells, GPIO1..9, CFGRA + CFGRB, SC × 30, die temperature
    /// 7.6 mV/K − 276 °C (LTC6812-DS Table 55).
    Ltc6812, "LTC6812", cells 15, gpios 9, aux 4, auxch 10, layout Ltc6812, sc 30,
    itmp 7600, 276_000, maxch 5, mute true, adol true, psb true, pairs true,
    all [[10683, 6028], [937, 1083], [1956, 2537], [167774, 3701]],
    one [[2152, 1221], [203, 232], [407, 523], [33570, 756]],
    single [[2100, 1200], [200, 229], [403, 520], [34000, 753]]
);
variant!(
    /// LTC6813-1: 18 cells, GPIO1..9, CFGRA + CFGRB, SC × 30, die temperature
    /// 7.6 mV/K − 276 °C (Linduino `DC2350AB.ino`).
    Ltc6813, "LTC6813", cells 18, gpios 9, aux 4, auxch 10, layout Ltc6813, sc 30,
    itmp 7600, 276_000, maxch 6, mute true, adol true, psb true, pairs true,
    all [[12816, 7230], [1121, 1296], [2343, 3041], [201325, 4437]],
    one [[2152, 1221], [203, 232], [407, 523], [33570, 756]],
    single [[2100, 1200], [200, 229], [403, 520], [34000, 753]]
);
variant!(
    /// ADBMS1818: protocol and registers of the LTC6813-1 (the ADBMS1818 data sheet
    /// describes the LTC6813-1 command set and register map). SC × 30 and
    /// 7.6 mV/K − 276 °C as in a Linduino-derived ADBMS1818 demo sketch (`print_stat`); not
    /// checked against the ADBMS1818 data sheet itself.
    Adbms1818, "ADBMS1818", cells 18, gpios 9, aux 4, auxch 10, layout Ltc6813, sc 30,
    itmp 7600, 276_000, maxch 6, mute true, adol true, psb true, pairs true,
    all [[12816, 7230], [1121, 1296], [2343, 3041], [201325, 4437]],
    one [[2152, 1221], [203, 232], [407, 523], [33570, 756]],
    single [[2100, 1200], [200, 229], [403, 520], [34000, 753]]
);

/// `true` if the part has a second configuration group (CFGRB).
pub const fn has_cfgb<V: Variant>() -> bool {
    matches!(V::LAYOUT, ConfigLayout::Ltc6812 | ConfigLayout::Ltc6813)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_follow_the_notes() {
        // The data sheets' (and Linduino sketches') per-part figures, written out independently.
        assert_eq!(
            (Ltc6810::CELLS, Ltc6810::CELL_GROUPS, Ltc6810::AUX_GROUPS),
            (6, 2, 2)
        );
        assert_eq!(
            (Ltc6811::CELLS, Ltc6811::CELL_GROUPS, Ltc6811::AUX_GROUPS),
            (12, 4, 2)
        );
        assert_eq!(
            (Ltc6812::CELLS, Ltc6812::CELL_GROUPS, Ltc6812::AUX_GROUPS),
            (15, 5, 4)
        );
        assert_eq!(
            (Ltc6813::CELLS, Ltc6813::CELL_GROUPS, Ltc6813::AUX_GROUPS),
            (18, 6, 4)
        );
        assert_eq!(
            (
                Ltc6810::SC_FACTOR,
                Ltc6811::SC_FACTOR,
                Ltc6812::SC_FACTOR,
                Ltc6813::SC_FACTOR
            ),
            (10, 20, 30, 30)
        );
        assert!(!has_cfgb::<Ltc6811>() && !has_cfgb::<Ltc6810>());
        assert!(has_cfgb::<Ltc6812>() && has_cfgb::<Adbms1818>());
    }
}
