//! Wire-level tests of the BQ7690x variants (BQ76905, BQ76907) of the bq769x2 driver with
//! embedded-hal-mock: every expectation list runs through the blocking AND the async driver.
//!
//! Vectors (TI documents):
//! * SLUAAM4 (BQ7690x Software Development Guide, <https://ti.com/document-viewer/lit/html/SLUAAM4>)
//!   §4 "I2C with CRC": Cell 1 read `10 14 11 C5 [79] 0B [31]` = 0x0BC5 = 3013 mV;
//!   §3.3: Enabled Protections A (0x9024) ← 0xE1, checksum 0x6A, length 0x05;
//!   §2.1: BQ76905 DEVICE_NUMBER 0x7605.
//! * SLUUCJ0 (BQ76907 TRM, Nov. 2023, <https://www.ti.com/lit/pdf/sluucj0>): SECURITY_KEYS
//!   (0x0035) ← `34 12 78 56`, checksum 0xB6, length 0x08; Stack Voltage 0x26 in mV,
//!   Internal Temperature 0x28 in °C, Vcell Mode 0x901B a count code; default full-access
//!   keys 0x0414 then 0x3672 (§12.5.1.2–12.5.1.3).
//!
//! Everything else is built with the independent CRC-8 / checksum oracles of tests/common.

use bms_afe::Error;
use bms_afe::bq769x2::{
    Bq769x2, Bq76905, Bq76907, Config, Security, SecurityKeys, SettingsSource, TempPin,
};
use bms_afe::error::{ConfigError, DeviceFault, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::units::{MicroVolts, MilliCelsius};
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::i2c::{Mock, Transaction as T};

const A: u8 = 0x08;

mod common;
use common::{TiWire as Wire, block_on, oracle_checksum};

/// Runs `$call` on a blocking and on an async driver over the same expectations, checks both
/// mocks are exhausted and both results agree; yields the result.
macro_rules! both {
    ($exp:expr, $v:ty, $ctor:ident, |$d:ident| { $($setup:tt)* } $call:ident ( $($arg:expr),* )) => {{
        let exp: Vec<T> = $exp;
        let mut $d = Bq769x2::<$v, _>::$ctor(Blocking::new(Mock::new(&exp), NoopDelay::new()));
        $($setup)*
        let rb = $d.$call($($arg),*);
        $d.release().release().0.done();
        let mut $d = Bq769x2::<$v, _>::$ctor(Async::new(Mock::new(&exp), NoopDelay::new()));
        $($setup)*
        let ra = block_on($d.$call($($arg),*));
        $d.release().release().0.done();
        assert_eq!(rb, ra, "blocking and async disagree");
        rb
    }};
}

/// SLUAAM4 §4: `10 14 11 C5 [79] 0B [31]`, the literal bytes.
const SLUAAM4_CELL1: [u8; 4] = [0xC5, 0x79, 0x0B, 0x31];

#[test]
fn cell1_read_crc_matches_sluaam4_on_both_parts() {
    let exp = vec![T::write_read(A, vec![0x14], SLUAAM4_CELL1.to_vec())];
    let r = both!(exp.clone(), Bq76905, new_crc, |d| {} read_cell_voltage(1));
    assert_eq!(r, Ok(MicroVolts(3_013_000)));
    let r = both!(exp, Bq76907, new_crc, |d| {} read_cell_voltage(1));
    assert_eq!(r, Ok(MicroVolts(3_013_000)));
}

#[test]
fn every_flipped_bit_of_the_sluaam4_cell_read_is_an_error() {
    for bit in 0..32 {
        let mut b = SLUAAM4_CELL1;
        b[bit / 8] ^= 1 << (bit % 8);
        let exp = vec![T::write_read(A, vec![0x14], b.to_vec())];
        let r = both!(exp, Bq76907, new_crc, |d| { d.set_retries(0); } read_cell_voltage(1));
        assert!(
            matches!(
                r,
                Err(Error::Integrity(DeviceFault {
                    device: 0,
                    reason: FaultReason::Crc { .. }
                }))
            ),
            "bit {bit}: {r:?}"
        );
    }
}

#[test]
fn cells_past_the_inputs_are_refused_before_the_bus() {
    let r = both!(vec![], Bq76905, new_crc, |d| {} read_cell_voltage(6));
    assert_eq!(
        r,
        Err(Error::Config(ConfigError::NoSuchCell {
            cell: 6,
            available: 5
        }))
    );
    let r = both!(vec![], Bq76907, new_crc, |d| {} read_cell_voltage(8));
    assert_eq!(
        r,
        Err(Error::Config(ConfigError::NoSuchCell {
            cell: 8,
            available: 7
        }))
    );
}

#[test]
fn probe_bq76905_sealed_matches_sluaam4_device_number() {
    let w = Wire { crc: true };
    let mut exp = w.sub_read(0x0001, &[0x05, 0x76]);
    exp.push(w.r(0x12, &[0x00, 0x03]));
    let r = both!(exp, Bq76905, new_crc, |d| {} probe()).unwrap();
    assert_eq!(r.device_number, 0x7605);
    assert_eq!(r.matches_variant, Some(true));
    assert_eq!(r.security, Security::Sealed);
    assert_eq!(r.settings, SettingsSource::Assumed);
    assert_eq!(r.vcell_mode, 0);
}

#[test]
fn probe_bq76905_refuses_another_number() {
    let w = Wire { crc: false };
    let exp = w.sub_read(0x0001, &[0x07, 0x76]);
    let r = both!(exp, Bq76905, new, |d| {} probe());
    assert!(matches!(r, Err(Error::Device { device: 0, .. })), "{r:?}");
}

#[test]
fn probe_bq76907_reports_an_unverified_number_and_reads_the_vcell_code() {
    // Full access: DA Config (0x9019, 2 bytes) and Vcell Mode (0x901B) from one block read.
    // Code 3 selects VC1–VC0, VC5–VC4 and VC7–VC6 (SLUUCJ0 Vcell Mode): inputs 1, 5 and 7.
    let w = Wire { crc: true };
    let mut exp = w.sub_read(0x0001, &[0x99, 0x76]);
    exp.push(w.r(0x12, &[0x00, 0x01]));
    exp.extend(w.dm_read(0x9019, &[0x00, 0x00, 0x03]));
    let r = both!(exp, Bq76907, new_crc, |d| {} probe()).unwrap();
    assert_eq!(r.device_number, 0x7699);
    assert_eq!(r.matches_variant, Some(false));
    assert_eq!(r.security, Security::FullAccess);
    assert_eq!(r.settings, SettingsSource::Device);
    assert_eq!(r.vcell_mode, 0b101_0001);
}

#[test]
fn an_undefined_vcell_code_is_a_device_error() {
    let w = Wire { crc: false };
    let exp = w.dm_read(0x9019, &[0x00, 0x00, 0x08]);
    let r = both!(exp, Bq76907, new, |d| {} read_units_and_cell_map());
    assert!(matches!(r, Err(Error::Device { device: 0, .. })), "{r:?}");
    // BQ76905: only code 0 is decoded.
    let exp = w.dm_read(0x9019, &[0x00, 0x00, 0x03]);
    let r = both!(exp, Bq76905, new, |d| {} read_units_and_cell_map());
    assert!(matches!(r, Err(Error::Device { device: 0, .. })), "{r:?}");
}

#[test]
fn stack_voltage_is_unsigned_millivolts_at_0x26() {
    // 0xC350 = 50 000 mV: negative if it were read as the bq769x2's signed userV.
    let w = Wire { crc: true };
    let r = both!(vec![w.r(0x26, &[0x50, 0xC3])], Bq76907, new_crc, |d| {} read_stack_voltage());
    assert_eq!(r, Ok(MicroVolts(50_000_000)));
}

#[test]
fn internal_temperature_is_celsius_at_0x28() {
    let w = Wire { crc: true };
    let r =
        both!(vec![w.r(0x28, &[0xF6, 0xFF])], Bq76905, new_crc, |d| {} read_internal_temperature());
    assert_eq!(r, Ok(MilliCelsius(-10_000)));
    let r = both!(vec![w.r(0x28, &[25, 0])], Bq76907, new_crc, |d| {} read_internal_temperature());
    assert_eq!(r, Ok(MilliCelsius(25_000)));
}

#[test]
fn raw_ts_measurement_and_refused_bq769x2_commands() {
    let w = Wire { crc: false };
    let r = both!(vec![w.r(0x2A, &[0x34, 0x12])], Bq76907, new, |d| {} read_ts_measurement());
    assert_eq!(r, Ok(0x1234));
    let r = both!(vec![], Bq76907, new, |d| {} read_pin_temperature(TempPin::Ts1));
    assert!(
        matches!(r, Err(Error::Config(ConfigError::Unsupported(_)))),
        "{r:?}"
    );
    let r = both!(vec![], Bq76907, new, |d| {} read_pack_voltage());
    assert!(
        matches!(r, Err(Error::Config(ConfigError::Unsupported(_)))),
        "{r:?}"
    );
    let r = both!(vec![], Bq76905, new, |d| {} read_da_configuration());
    assert!(
        matches!(r, Err(Error::Config(ConfigError::Unsupported(_)))),
        "{r:?}"
    );
}

#[test]
fn fet_commands_are_refused_before_the_bus() {
    use bms_afe::bq769x2::Fets;
    let r = both!(vec![], Bq76907, new, |d| {} set_fets(Fets::CHG | Fets::DSG));
    assert!(
        matches!(r, Err(Error::Config(ConfigError::Unsupported(_)))),
        "{r:?}"
    );
    let r = both!(vec![], Bq76905, new, |d| {} all_fets_off());
    assert!(
        matches!(r, Err(Error::Config(ConfigError::Unsupported(_)))),
        "{r:?}"
    );
    let r = both!(vec![], Bq76907, new_crc, |d| {} enable_autonomous_fets());
    assert!(
        matches!(r, Err(Error::Config(ConfigError::Unsupported(_)))),
        "{r:?}"
    );
}

#[test]
fn full_access_from_sealed_in_one_step() {
    // SLUUCJ0: SEALED ↔ FULLACCESS, keys 0x0414 then 0x3672, each little-endian to 0x3E.
    let w = Wire { crc: true };
    let exp = vec![
        w.r(0x12, &[0x00, 0x03]),
        w.w(0x3E, &[0x14, 0x04]),
        w.w(0x3E, &[0x72, 0x36]),
        w.r(0x12, &[0x00, 0x01]),
    ];
    let keys = SecurityKeys::new(0x0414, 0x3672);
    let r = both!(exp.clone(), Bq76907, new_crc, |d| {} full_access(keys));
    assert_eq!(r, Ok(()));
    // `unseal` takes the same single step and reports FULLACCESS.
    let r = both!(exp, Bq76905, new_crc, |d| {} unseal(keys));
    assert_eq!(r, Ok(Security::FullAccess));
}

#[test]
fn refused_keys_are_an_error() {
    let w = Wire { crc: false };
    let exp = vec![
        w.r(0x12, &[0x00, 0x03]),
        w.w(0x3E, &[0x01, 0x00]),
        w.w(0x3E, &[0x02, 0x00]),
        w.r(0x12, &[0x00, 0x03]),
    ];
    let r = both!(exp, Bq76907, new, |d| {} full_access(SecurityKeys::new(1, 2)));
    assert!(matches!(r, Err(Error::Device { device: 0, .. })), "{r:?}");
}

#[test]
fn security_keys_write_matches_sluucj0_checksum() {
    // SLUUCJ0: SECURITY_KEYS (0x0035) ← 34 12 78 56: checksum 0xB6, length 0x08 (literal).
    let exp = vec![
        T::write(A, vec![0x3E, 0x35, 0x00]),
        T::write(A, vec![0x40, 0x34, 0x12, 0x78, 0x56]),
        T::write(A, vec![0x60, 0xB6, 0x08]),
    ];
    let r = both!(exp, Bq76907, new, |d| {} subcommand_write(0x0035, &[0x34, 0x12, 0x78, 0x56]));
    assert_eq!(r, Ok(()));
}

#[test]
fn configure_enabled_protections_a_matches_sluaam4() {
    // SLUAAM4 §3.3: 0x9024 ← 0xE1 with checksum 0x6A and length 0x05 (literal), inside one
    // CONFIG_UPDATE session (SET_CFGUPDATE 0x0090 / EXIT_CFGUPDATE 0x0092), read back.
    let w = Wire { crc: false };
    let mut exp = vec![
        w.r(0x12, &[0x00, 0x01]),
        w.w(0x3E, &[0x90, 0x00]),
        w.r(0x12, &[0x01, 0x01]),
        T::write(A, vec![0x3E, 0x24, 0x90]),
        T::write(A, vec![0x40, 0xE1]),
        T::write(A, vec![0x60, 0x6A, 0x05]),
    ];
    exp.extend(w.dm_read(0x9024, &[0xE1]));
    exp.push(w.w(0x3E, &[0x92, 0x00]));
    exp.push(w.r(0x12, &[0x00, 0x01]));
    let mut cfg = Config::new_bq7690x();
    assert_eq!(cfg.bq7690x_enabled_protections_a(0xE1), Ok(0xE1));
    let r = both!(exp, Bq76907, new, |d| {} configure(&cfg));
    assert_eq!(r, Ok(()));
}

#[test]
fn configure_vcell_code_adopts_the_inputs() {
    // BQ76907 Vcell Mode (0x901B) ← code 4 (4 cells: inputs 1, 3, 5, 7; SLUUCJ0).
    let w = Wire { crc: true };
    let mut exp = vec![
        w.r(0x12, &[0x00, 0x01]),
        w.w(0x3E, &[0x90, 0x00]),
        w.r(0x12, &[0x01, 0x01]),
        w.w(0x3E, &[0x1B, 0x90]),
        w.w(0x40, &[0x04]),
        w.w(0x60, &[oracle_checksum(0x901B, &[0x04]), 0x05]),
    ];
    exp.extend(w.dm_read(0x901B, &[0x04]));
    exp.push(w.w(0x3E, &[0x92, 0x00]));
    exp.push(w.r(0x12, &[0x00, 0x01]));
    let mut cfg = Config::new_bq7690x();
    assert_eq!(cfg.bq7690x_vcell_cells(4), Ok(0b101_0101));
    let exp2 = exp.clone();
    let mut d = Bq769x2::<Bq76907, _>::new_crc(Blocking::new(Mock::new(&exp2), NoopDelay::new()));
    assert_eq!(d.configure(&cfg), Ok(()));
    assert_eq!(d.connected_inputs(), 0b101_0101);
    d.release().release().0.done();
    let mut d = Bq769x2::<Bq76907, _>::new_crc(Async::new(Mock::new(&exp), NoopDelay::new()));
    assert_eq!(block_on(d.configure(&cfg)), Ok(()));
    assert_eq!(d.connected_inputs(), 0b101_0101);
    d.release().release().0.done();
}

#[test]
fn read_back_mismatch_names_the_setting() {
    let w = Wire { crc: false };
    let mut exp = vec![
        w.r(0x12, &[0x00, 0x01]),
        w.w(0x3E, &[0x90, 0x00]),
        w.r(0x12, &[0x01, 0x01]),
        T::write(A, vec![0x3E, 0x24, 0x90]),
        T::write(A, vec![0x40, 0xE1]),
        T::write(A, vec![0x60, 0x6A, 0x05]),
    ];
    exp.extend(w.dm_read(0x9024, &[0xA1]));
    exp.push(w.w(0x3E, &[0x92, 0x00]));
    exp.push(w.r(0x12, &[0x00, 0x01]));
    let mut cfg = Config::new_bq7690x();
    cfg.bq7690x_enabled_protections_a(0xE1).unwrap();
    let r = both!(exp, Bq76905, new, |d| {} configure(&cfg));
    match r {
        Err(Error::Verify(m)) => {
            assert_eq!(m.register, "Enabled Protections A");
            assert_eq!((m.expected, m.actual), (0xE1, 0xA1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn configure_from_sealed_needs_full_access_before_writing() {
    let w = Wire { crc: false };
    let mut cfg = Config::new_bq7690x();
    cfg.bq7690x_enabled_protections_a(0xE1).unwrap();
    let r = both!(vec![w.r(0x12, &[0x00, 0x03])], Bq76907, new, |d| {} configure(&cfg));
    assert!(
        matches!(
            r,
            Err(Error::NeedsAccess {
                operation: "CONFIG_UPDATE",
                state: "SEALED",
                needs: "FULLACCESS",
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn batches_of_the_other_family_are_refused_before_the_bus() {
    let mut bq769x2 = Config::new();
    bq769x2.cov_threshold_mv(4200).unwrap();
    let r = both!(vec![], Bq76907, new, |d| {} configure(&bq769x2));
    assert!(
        matches!(r, Err(Error::Config(ConfigError::Conflict(_)))),
        "{r:?}"
    );
    let mut bq7690x = Config::new_bq7690x();
    bq7690x.bq7690x_enabled_protections_a(0xE1).unwrap();
    let r = both!(vec![], bms_afe::bq769x2::Bq76952, new, |d| {} configure(&bq7690x));
    assert!(
        matches!(r, Err(Error::Config(ConfigError::Conflict(_)))),
        "{r:?}"
    );
    // The BQ76905 Vcell Mode table is not decoded: a code entry is refused there.
    let mut vc = Config::new_bq7690x();
    vc.bq7690x_vcell_cells(3).unwrap();
    let r = both!(vec![], Bq76905, new, |d| {} configure(&vc));
    assert!(
        matches!(r, Err(Error::Config(ConfigError::Unsupported(_)))),
        "{r:?}"
    );
}

#[test]
fn config_setters_stay_in_their_family() {
    let mut c = Config::new_bq7690x();
    assert!(matches!(
        c.cov_threshold_mv(4200),
        Err(ConfigError::Unsupported(_))
    ));
    assert!(matches!(
        c.raw(0x9261, &[0x88], "x"),
        Err(ConfigError::OutOfRange { .. })
    ));
    assert!(matches!(
        c.raw(0x9017, &[0x00], "I2C Config"),
        Err(ConfigError::Unsupported(_))
    ));
    assert_eq!(c.raw(0x9032, &[0x68, 0x10], "COV Threshold"), Ok(()));
    assert!(c.bq7690x_vcell_cells(1).is_err());
    assert!(c.bq7690x_vcell_cells(8).is_err());
    assert_eq!(c.len(), 1);
    let mut b = Config::new();
    assert!(matches!(
        b.bq7690x_vcell_cells(4),
        Err(ConfigError::Unsupported(_))
    ));
    assert!(matches!(
        b.bq7690x_enabled_protections_a(0xE1),
        Err(ConfigError::Unsupported(_))
    ));
    assert!(b.is_empty());
}

#[test]
fn every_vcell_code_decodes_to_inputs_of_the_part_or_an_error() {
    // Exhaustive over the byte: never a panic, never an input the part lacks. BQ76907 codes
    // per the SLUUCJ0 Vcell Mode description (written out here, not taken from the crate).
    let bq76907 = |code: u8| -> Option<u16> {
        match code {
            0 | 1 | 7 => Some(0),
            2 => Some(0b100_0001),
            3 => Some(0b101_0001),
            4 => Some(0b101_0101),
            5 => Some(0b101_0111),
            6 => Some(0b111_0111),
            _ => None,
        }
    };
    let w = Wire { crc: false };
    for code in 0..=255u8 {
        let exp = w.dm_read(0x9019, &[0x00, 0x00, code]);
        let r = both!(exp, Bq76907, new, |d| {} read_units_and_cell_map());
        match bq76907(code) {
            Some(mask) => assert_eq!(r.map(|(_, m)| m), Ok(mask), "code {code}"),
            None => assert!(matches!(r, Err(Error::Device { .. })), "code {code}: {r:?}"),
        }
        let exp = w.dm_read(0x9019, &[0x00, 0x00, code]);
        let r = both!(exp, Bq76905, new, |d| {} read_units_and_cell_map());
        if code == 0 {
            assert_eq!(r.map(|(_, m)| m), Ok(0));
        } else {
            assert!(matches!(r, Err(Error::Device { .. })), "code {code}: {r:?}");
        }
    }
}
