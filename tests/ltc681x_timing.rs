//! LTC681x wait hints come per part from that part's data-sheet table and are never shorter
//! than it. The tables below are written out here from the data sheets (an oracle, not a
//! copy of the crate's constants), indexed `[MD][ADCOPT]` with MD = 00, 01, 10, 11.

use bms_afe::ltc681x::command::{AdcMode, Conversion, GpioSelect, StatusSelect, conversion_time};
use bms_afe::ltc681x::{Adbms1818, Ltc6810, Ltc6811, Ltc6812, Ltc6813, Variant};

const MODES: [AdcMode; 4] = [
    AdcMode::Slow,
    AdcMode::Fast,
    AdcMode::Normal,
    AdcMode::Filtered,
];

/// One GPIO (ADAX CHG = 1..6 on parts without GPIO pairs) or one status item (ADSTAT
/// CHST = 1..4).
///
/// LTC6811/LTC6810: LTC6804-1/-2 data sheet (680412fc) Table 35, rows "GPIO 1" and "SOC":
/// 27 kHz 201 µs, 14 kHz 230 µs, 7 kHz 405 µs, 3 kHz 501 µs, 2 kHz 754 µs, 26 Hz 34 ms; the
/// LTC6811's extra MD = 00 mode (422 Hz / 1 kHz) converts one channel in 2150 / 1219 µs.
/// LTC6812/LTC6813/ADBMS1818: LTC6812-1 data sheet Rev. B Table 37: 200/229, 403/520,
/// 34 ms/753 µs, 2100/1200 µs.
const LTC6811_ONE: [[u32; 2]; 4] = [[2150, 1219], [201, 230], [405, 501], [34_000, 754]];
const LTC6812_ONE: [[u32; 2]; 4] = [[2100, 1200], [200, 229], [403, 520], [34_000, 753]];

fn check<V: Variant>(table: &[[u32; 2]; 4]) {
    for (m, mode) in MODES.iter().enumerate() {
        for adcopt in [false, true] {
            let want = table[m][usize::from(adcopt)];
            let single_gpio = if V::ADAX_PAIRS {
                // CHG 5 is a single GPIO on the pair parts (GPIO5 alone, LTC6812-DS Table 37).
                GpioSelect::new(5).unwrap()
            } else {
                GpioSelect::new(1).unwrap()
            };
            for what in [
                Conversion::Gpio(single_gpio),
                Conversion::Gpio(GpioSelect::REF2),
                Conversion::Status(StatusSelect::Sc),
                Conversion::Status(StatusSelect::Itmp),
                Conversion::Status(StatusSelect::Va),
                Conversion::Status(StatusSelect::Vd),
            ] {
                let got = conversion_time::<V>(what, *mode, adcopt, true).as_micros();
                assert!(
                    got >= want,
                    "{} {what:?} {mode:?} ADCOPT={adcopt}: hint {got} µs < data sheet {want} µs",
                    V::NAME
                );
                // And from the part's own table, not a much longer other one.
                assert!(
                    got <= want + want / 10,
                    "{} {what:?} {mode:?}: {got} µs",
                    V::NAME
                );
            }
        }
    }
}

#[test]
fn single_channel_aux_and_status_hints_follow_each_parts_table() {
    check::<Ltc6810>(&LTC6811_ONE);
    check::<Ltc6811>(&LTC6811_ONE);
    check::<Ltc6812>(&LTC6812_ONE);
    check::<Ltc6813>(&LTC6812_ONE);
    check::<Adbms1818>(&LTC6812_ONE);
}
