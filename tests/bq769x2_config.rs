//! Pure-core tests of the bq769x2 settings table, framing and checksum: every setter given
//! out-of-range input, achieved values after quantisation, and proptest round trips /
//! no-panic decoding. Constants are written from the TRM/app-note text, not the crate.

use bms_afe::bq769x2::check_balancing;
use bms_afe::bq769x2::data_memory::{
    BalancingConfig, Config, DaConfig, FetOptions, MAX_ENTRIES, PinFunction, TempPin,
    TempProtection, UserAmps, UserVolts,
};
use bms_afe::bq769x2::frame;
use bms_afe::bq769x2::{SafetyA, SafetyB, SafetyC};
use bms_afe::error::{ConfigError, FaultReason};
use bms_afe::units::{MicroVolts, Microseconds};
use proptest::prelude::*;

mod common;
use common::oracle_crc8;

fn oor(r: Result<impl core::fmt::Debug, ConfigError>) -> bool {
    matches!(r, Err(ConfigError::OutOfRange { .. }))
}

#[test]
fn every_setter_rejects_out_of_range_input() {
    let mut c = Config::new();
    // 50.6 mV thresholds: COV codes 20..=110, CUV codes 20..=90.
    assert!(oor(c.cov_threshold_mv(1000)));
    assert!(oor(c.cov_threshold_mv(5600)));
    assert!(oor(c.cuv_threshold_mv(1000)));
    assert!(oor(c.cuv_threshold_mv(4600)));
    assert!(oor(c.cov_recovery_hysteresis_mv(50)));
    assert!(oor(c.cov_recovery_hysteresis_mv(2000)));
    assert!(oor(c.cuv_recovery_hysteresis_mv(50)));
    assert!(oor(c.cuv_recovery_hysteresis_mv(2000)));
    // COV/CUV delays (code + 2) × 3.3 ms, codes 1..=2047: 9.9 ms ..= 6761.7 ms (SLUUBY2B
    // §5.2.4 "from 10 ms to 6762 ms"). 3.3 ms (code 1 in the old, wrong encoding) is refused.
    assert!(oor(c.cov_delay(Microseconds(1000))));
    assert!(oor(c.cov_delay(Microseconds(3300))));
    assert!(oor(c.cuv_delay(Microseconds(8_200))));
    assert!(oor(c.cov_delay(Microseconds(6_763_400))));
    assert!(oor(c.cov_delay(Microseconds(7_000_000))));
    assert!(oor(c.cuv_delay(Microseconds(0))));
    assert!(oor(c.cuv_delay(Microseconds(u32::MAX))));
    // Current thresholds (2 mV steps).
    assert!(oor(c.occ_threshold_mv(2)));
    assert!(oor(c.occ_threshold_mv(126)));
    assert!(oor(c.ocd1_threshold_mv(0)));
    assert!(oor(c.ocd1_threshold_mv(202)));
    assert!(oor(c.ocd2_threshold_mv(3)));
    assert!(oor(c.ocd2_threshold_mv(1000)));
    assert!(oor(c.occ_delay(Microseconds(0))));
    assert!(oor(c.ocd1_delay(Microseconds(500_000))));
    assert!(oor(c.ocd2_delay(Microseconds(1))));
    // SCD: 10..=500 mV, delay 0..=450 µs.
    assert!(oor(c.scd_threshold_mv(9)));
    assert!(oor(c.scd_threshold_mv(501)));
    assert!(oor(c.scd_delay(Microseconds(451))));
    // Temperatures.
    assert!(oor(c.temperature_protection(
        TempProtection::Otc,
        121,
        2,
        50
    )));
    assert!(oor(c.temperature_protection(
        TempProtection::Utd,
        -41,
        2,
        0
    )));
    assert!(oor(c.temperature_protection(
        TempProtection::Otint,
        85,
        256,
        80
    )));
    assert!(oor(c.temperature_protection(
        TempProtection::Otf,
        85,
        2,
        121
    )));
    // Balancing.
    assert!(oor(c.balancing_max_cells(0)));
    assert!(oor(c.balancing_max_cells(17)));
    assert!(oor(c.balancing_interval_s(0)));
    assert!(oor(c.balancing_interval_s(256)));
    // Vcell Mode: 3..=16 cells.
    assert!(oor(c.vcell_mode_mask(0b11)));
    assert!(oor(c.vcell_mode_reduced(2, 16)));
    assert!(oor(c.vcell_mode_reduced(17, 16)));
    assert!(oor(c.vcell_mode_reduced(5, 17)));
    // Raw entries: 1..=2 bytes inside data memory.
    assert!(oor(c.raw(0x9261, &[1, 2, 3], "x")));
    assert!(oor(c.raw(0x1000, &[1], "x")));
    // Bus-protocol settings are refused in a batch.
    assert!(matches!(
        c.raw(0x9239, &[0x08], "Comm Type"),
        Err(ConfigError::Unsupported(_))
    ));
    assert!(matches!(
        c.raw(0x923A, &[0x10], "I2C Address"),
        Err(ConfigError::Unsupported(_))
    ));
    assert!(matches!(
        c.raw(0x9238, &[0, 0], "x"),
        Err(ConfigError::Unsupported(_))
    ));
    // Nothing was added by any rejected call.
    assert!(c.is_empty());
}

#[test]
fn achieved_values_follow_the_chip_units() {
    let mut c = Config::new();
    // E2E-1004250: CUV threshold code 50 = 2530 mV.
    assert_eq!(c.cuv_threshold_mv(2530), Ok(MicroVolts(2_530_000)));
    // 4200 mV → code 83 → 4199.8 mV.
    assert_eq!(c.cov_threshold_mv(4200), Ok(MicroVolts(4_199_800)));
    // SLUUBY2B §5.2.4: delay = 3.3 ms × (2 + setting). 100 ms → 30 steps → code 28 → 99 ms.
    assert_eq!(c.cov_delay(Microseconds(100_000)), Ok(Microseconds(99_000)));
    // SCD table (SLUUBY2B): 130 mV → 125 mV (never above the request).
    assert_eq!(c.scd_threshold_mv(130), Ok(125));
    assert_eq!(Config::new().scd_threshold_mv(500), Ok(500));
    assert_eq!(Config::new().scd_threshold_mv(10), Ok(10));
    assert_eq!(c.occ_threshold_mv(21), Ok(20));
    let e = c.entries();
    assert_eq!((e[0].address, e[0].bytes[0]), (0x9275, 50));
    assert_eq!((e[1].address, e[1].bytes[0]), (0x9278, 83));
    assert_eq!((e[2].address, e[2].data()), (0x9279, &[28u8, 0][..]));
    assert_eq!((e[3].address, e[3].bytes[0]), (0x9286, 6));
}

/// Fills a batch with `MAX_ENTRIES` distinct raw entries (Calibration block 0x9180.., far
/// from every typed setting used below).
fn full_batch() -> Config {
    let mut c = Config::new();
    for i in 0..MAX_ENTRIES as u16 {
        c.raw(0x9180 + i, &[0], "filler").unwrap();
    }
    assert_eq!(c.len(), MAX_ENTRIES);
    assert!(!c.overflowed());
    c
}

fn full(r: Result<impl core::fmt::Debug, ConfigError>) -> bool {
    matches!(r, Err(ConfigError::Conflict(_)))
}

#[test]
fn a_full_batch_refuses_every_setter_instead_of_dropping_the_setting() {
    // Each of these setters used to discard the push result: with a full batch the setting
    // vanished and the chip kept e.g. Enabled Protections A = 0x88 (no CUV) while the batch
    // was reported written.
    let da = DaConfig::new(UserAmps::Milliamp, UserVolts::Centivolt);
    type Check = (&'static str, fn(&mut Config, DaConfig) -> bool);
    let checks: [Check; 10] = [
        ("Enabled Protections A", |c, _| {
            full(c.enabled_protections_a(SafetyA::CUV))
        }),
        ("Enabled Protections B", |c, _| {
            full(c.enabled_protections_b(SafetyB::OTC))
        }),
        ("Enabled Protections C", |c, _| {
            full(c.enabled_protections_c(SafetyC::OCD3))
        }),
        ("CHG FET Protections A", |c, _| {
            full(c.chg_fet_protections_a(SafetyA::COV))
        }),
        ("DSG FET Protections A", |c, _| {
            full(c.dsg_fet_protections_a(SafetyA::CUV))
        }),
        ("FET Options", |c, _| {
            full(c.fet_options(FetOptions::empty()))
        }),
        ("Balancing Configuration", |c, _| {
            full(c.balancing_configuration(BalancingConfig::empty()))
        }),
        ("Power Config", |c, _| full(c.power_config(0x2882))),
        ("DA Configuration", |c, da| full(c.da_configuration(da))),
        ("COV threshold", |c, _| full(c.cov_threshold_mv(4200))),
    ];
    for (name, refused) in checks {
        let mut c = full_batch();
        assert!(
            refused(&mut c, da),
            "{name}: a full batch must refuse the setting"
        );
        assert_eq!(c.len(), MAX_ENTRIES, "{name}");
        assert!(
            c.overflowed(),
            "{name}: the batch must remember the lost setting"
        );
        // The lost setting is not in the batch.
        assert!(c.entries().iter().all(|e| e.name == "filler"), "{name}");
    }
    // Replacing an entry already in a full batch still works (no new slot needed) and does
    // not mark the batch.
    let mut c = full_batch();
    c.raw(0x9180, &[1], "filler").unwrap();
    assert!(!c.overflowed());
    // The DA Configuration of a refused batch is not adopted by the batch either.
    let mut c = full_batch();
    assert!(c.da_configuration(da).is_err());
    assert!(c.entries().iter().all(|e| e.address != 0x9303));
}

#[test]
fn protection_delays_follow_the_trm_encodings() {
    // Oracle: the TRM formulas, written here independently of the crate.
    // SLUUBY2B §5.2.4 (COV) and SLUUBY1B/SLUUCG7 (CUV): delay = 3.3 ms × (2 + setting),
    // "from 10 ms to 6762 ms"; setting 0 disables (never written by the driver).
    let cases: [(u32, u16, u32); 4] = [
        // (asked µs, expected code, achieved µs = (code + 2) × 3300)
        (9_900, 1, 9_900),
        (10_000, 1, 9_900),     // the TRM's "10 ms" for setting 1
        (250_000, 74, 250_800), // code 74: the default quoted in E2E-1004250
        (6_761_700, 2047, 6_761_700),
    ];
    for (asked, code, achieved) in cases {
        let mut c = Config::new();
        assert_eq!(c.cov_delay(Microseconds(asked)), Ok(Microseconds(achieved)));
        assert_eq!(c.cuv_delay(Microseconds(asked)), Ok(Microseconds(achieved)));
        let e = c.entries();
        assert_eq!(
            (e[0].address, e[0].data()),
            (0x9279, &code.to_le_bytes()[..])
        );
        assert_eq!(
            (e[1].address, e[1].data()),
            (0x9276, &code.to_le_bytes()[..])
        );
    }
    // SLUUBY2B Protections:OCC:Delay: "a setting of 1 gives 10 ms, 2 gives 13.3 ms"
    // (3.3 ms units with a 6.6 ms offset); SLUUBY1B OCD2 Delay: the same text.
    let mut c = Config::new();
    assert_eq!(c.occ_delay(Microseconds(10_000)), Ok(Microseconds(9_900)));
    assert_eq!(c.ocd1_delay(Microseconds(13_300)), Ok(Microseconds(13_200)));
    assert_eq!(
        c.ocd2_delay(Microseconds(425_700)),
        Ok(Microseconds(425_700))
    );
    let e = c.entries();
    assert_eq!((e[0].address, e[0].data()), (0x9281, &[1u8][..]));
    assert_eq!((e[1].address, e[1].data()), (0x9283, &[2u8][..]));
    assert_eq!((e[2].address, e[2].data()), (0x9285, &[127u8][..]));
    // SLUUBY1B Protections:SCD:Delay: "1 = no delay … (value - 1) * 15 µs", 1..=31.
    let mut c = Config::new();
    assert_eq!(c.scd_delay(Microseconds(0)), Ok(Microseconds(0)));
    assert_eq!(c.entries()[0].data(), &[1u8]);
    assert_eq!(c.scd_delay(Microseconds(450)), Ok(Microseconds(450)));
    assert_eq!(c.entries()[0].data(), &[31u8]);
}

#[test]
fn temperature_and_pin_addresses() {
    let mut c = Config::new();
    c.temperature_protection(TempProtection::Utint, -20, 2, -15)
        .unwrap();
    c.pin_function(TempPin::Ts3, PinFunction::FetThermistor)
        .unwrap();
    let e = c.entries();
    // UTINT threshold/delay/recovery at 0x92AC..=0x92AE (end of the 0x929A–0x92AE block).
    assert_eq!(e[0].address, 0x92AC);
    assert_eq!(e[0].bytes[0], (-20i8) as u8);
    assert_eq!(e[2].address, 0x92AE);
    assert_eq!((e[3].address, e[3].bytes[0]), (0x92FF, 0x0F));
    assert_eq!(TempPin::Ts1.direct_command(), 0x70);
    assert_eq!(TempPin::Ddsg.direct_command(), 0x7A);
}

#[test]
fn checksum_vectors_from_ti_documents() {
    // Checksum examples published in TI SLUUBY2B, SLUAA11B §3.3, SLUAAM4 §3.3 and SLUUCJ0.
    assert_eq!(frame::checksum(0x9180, &[0x7A, 0x30]), 0x44); // SLUUBY2B
    assert_eq!(frame::checksum(0x9261, &[0x8C]), 0x80); // SLUAA11B §3.3
    assert_eq!(frame::checksum(0x9024, &[0xE1]), 0x6A); // SLUAAM4 §3.3
    assert_eq!(frame::checksum(0x0035, &[0x34, 0x12, 0x78, 0x56]), 0xB6); // TRM-76907
    assert_eq!(frame::transfer_length(2), 0x06);
    assert_eq!(frame::transfer_length(1), 0x05);
    assert_eq!(frame::transfer_length(4), 0x08);
}

#[test]
fn bq7690x_read_vector_documents_the_coverage() {
    // SLUAAM4 §4: first CRC over 10 14 11 C5 = 0x79, second over 0B = 0x31 (same rule).
    let mut out = [0u8; 2];
    frame::decode_read(true, 0x08, 0x14, &[0xC5, 0x79, 0x0B, 0x31], &mut out).unwrap();
    assert_eq!(u16::from_le_bytes(out), 3013);
}

proptest! {
    #[test]
    fn decode_never_panics(crc: bool, reg: u8, raw in proptest::collection::vec(any::<u8>(), 0..80), n in 0usize..40) {
        let mut out = vec![0u8; n];
        let _ = frame::decode_read(crc, 0x08, reg, &raw, &mut out);
        let _ = frame::data_len_from_length(raw.first().copied().unwrap_or(0));
        let _ = frame::verify_transfer(0x1234, &raw, 0, n as u8);
    }

    #[test]
    fn encoded_write_matches_the_oracle(reg: u8, data in proptest::collection::vec(any::<u8>(), 0..34)) {
        let mut out = [0u8; frame::MAX_WRITE];
        let n = frame::encode_write(true, 0x08, reg, &data, &mut out).unwrap();
        prop_assert_eq!(n, 1 + 2 * data.len());
        prop_assert_eq!(out[0], reg);
        for (i, d) in data.iter().enumerate() {
            prop_assert_eq!(out[1 + 2 * i], *d);
            let want = if i == 0 { oracle_crc8(&[0x10, reg, *d]) } else { oracle_crc8(&[*d]) };
            prop_assert_eq!(out[2 + 2 * i], want);
        }
    }

    #[test]
    fn any_single_bit_flip_in_a_crc_read_is_detected(reg: u8, data in proptest::collection::vec(any::<u8>(), 1..32), bit in 0usize..512) {
        let mut raw = vec![];
        for (i, d) in data.iter().enumerate() {
            raw.push(*d);
            raw.push(if i == 0 { oracle_crc8(&[0x10, reg, 0x11, *d]) } else { oracle_crc8(&[*d]) });
        }
        let mut out = vec![0u8; data.len()];
        prop_assert!(frame::decode_read(true, 0x08, reg, &raw, &mut out).is_ok());
        prop_assert_eq!(&out, &data);
        let bit = bit % (raw.len() * 8);
        raw[bit / 8] ^= 1 << (bit % 8);
        let r = frame::decode_read(true, 0x08, reg, &raw, &mut out);
        prop_assert!(matches!(r, Err(FaultReason::Crc { .. })), "{:?}", r);
    }

    #[test]
    fn checksum_round_trip_and_single_bit_detection(addr: u16, data in proptest::collection::vec(any::<u8>(), 0..32), bit in 0usize..256) {
        let ck = frame::checksum(addr, &data);
        let len = frame::transfer_length(data.len());
        prop_assert!(frame::verify_transfer(addr, &data, ck, len).is_ok());
        if !data.is_empty() {
            let mut d = data.clone();
            let bit = bit % (d.len() * 8);
            d[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(frame::verify_transfer(addr, &d, ck, len).is_err());
        }
    }

    #[test]
    fn cov_quantisation_is_within_half_a_step(mv in 0u32..8000) {
        let mut c = Config::new();
        match c.cov_threshold_mv(mv) {
            Ok(v) => {
                prop_assert!((1012..=5566).contains(&mv));
                prop_assert!((v.0 as i64 - mv as i64 * 1000).abs() <= 25_300);
                prop_assert_eq!(v.0 % 50_600, 0);
            }
            Err(e) => {
                prop_assert!(!(1012..=5566).contains(&mv), "{:?}", e);
            }
        }
    }

    #[test]
    fn delays_quantise_within_half_a_step(us in 0u32..8_000_000) {
        let mut c = Config::new();
        // (code + 2) × 3.3 ms, codes 1..=2047 (SLUUBY2B §5.2.4).
        if let Ok(v) = c.cuv_delay(Microseconds(us)) {
            prop_assert!((v.0 as i64 - us as i64).abs() <= 1650);
            prop_assert_eq!(v.0 % 3300, 0);
            let code = u16::from_le_bytes([c.entries()[0].bytes[0], c.entries()[0].bytes[1]]);
            prop_assert!((1..=2047).contains(&code));
            prop_assert_eq!((u32::from(code) + 2) * 3300, v.0);
        } else {
            prop_assert!(!(9900..=2049 * 3300).contains(&us));
        }
    }

    #[test]
    fn balancing_rule_never_accepts_adjacent(mask: u32, cells in 3u8..=16, max in 1u8..=16) {
        if check_balancing(mask, cells, max).is_ok() {
            prop_assert_eq!(mask & (mask >> 1), 0);
            prop_assert!(mask.count_ones() <= max as u32);
            prop_assert_eq!(mask >> cells, 0);
        }
    }
}
