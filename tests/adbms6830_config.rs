//! Configuration range checks and threshold rounding of the ADBMS6830 driver: out-of-range
//! fields are rejected with `ConfigError::OutOfRange` before anything is sent (the mock has
//! no expectations, so any bus traffic fails the test), blocking and async.
//!
//! Field widths from ADBMS6830B-DS Tables 55/56: VUV/VOV signed 12 bits, DCTO 6 bits,
//! OWA/FC/CTH 3 bits, GPO 10 bits; PWM duty 4 bits (ADBMS6830B-DS "PWMA/PWMB" register
//! groups).

use bms_afe::Error;
use bms_afe::adbms6830::register::{CfgA, CfgB, Pwm};
use bms_afe::adbms6830::{Adbms6830, Adbms6830b};
use bms_afe::error::ConfigError;
use bms_afe::io::{Async, Blocking};
use bms_afe::units::MicroVolts;
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::spi::{Mock, Transaction as T};

mod common;
use common::{block_on, id};

fn out_of_range<E: core::fmt::Debug>(r: Result<(), Error<E>>, field: &str, value: i64) {
    match r {
        Err(Error::Config(ConfigError::OutOfRange {
            field: f, value: v, ..
        })) => {
            assert!(f.contains(field), "{f} vs {field}");
            assert_eq!(v, value);
        }
        other => panic!("expected OutOfRange for {field}, got {other:?}"),
    }
}

macro_rules! rejects {
    ($d:ident, $w:ident) => {{
        // VOV 3000 needs 13 bits: masked to 12 it would be sent as 3000 − 4096 = −1096
        // (a threshold of −1.13 V that flags every cell). Rejected, nothing sent.
        let b = CfgB {
            vov: 3000,
            ..CfgB::default()
        };
        out_of_range($w($d.write_cfgb(&[b, b])), "VOV", 3000);
        out_of_range($w($d.configure(CfgA::default(), b)), "VOV", 3000);
        let b = CfgB {
            vuv: -2049,
            ..CfgB::default()
        };
        out_of_range($w($d.write_cfgb(&[CfgB::default(), b])), "VUV", -2049);
        let b = CfgB {
            dcto: 64,
            ..CfgB::default()
        };
        out_of_range($w($d.write_cfgb(&[b, b])), "DCTO", 64);
        let a = CfgA {
            owa: 8,
            ..CfgA::default()
        };
        out_of_range($w($d.write_cfga(&[a, a])), "OWA", 8);
        let a = CfgA {
            fc: 9,
            ..CfgA::default()
        };
        out_of_range($w($d.write_cfga(&[CfgA::default(), a])), "FC", 9);
        // configure checks CFGB before sending CFGA.
        out_of_range(
            $w($d.configure(
                CfgA::default(),
                CfgB {
                    dcto: 200,
                    ..CfgB::default()
                },
            )),
            "DCTO",
            200,
        );
        let a = CfgA {
            gpo: 0x400,
            ..CfgA::default()
        };
        out_of_range($w($d.configure(a, CfgB::default())), "GPO", 0x400);
        let mut p = Pwm::default();
        p.duty[3] = 16;
        out_of_range($w($d.write_pwm(&[Pwm::default(), p])), "PWM", 16);
        // Nothing counted either.
        assert_eq!($d.expected_counters(), [0, 0]);
    }};
}

#[test]
fn out_of_range_configuration_is_rejected_before_sending() {
    let exp: Vec<T<u8>> = Vec::new();
    let mut d =
        Adbms6830::<Adbms6830b, 2, _>::new(Blocking::new(Mock::new(&exp), NoopDelay::new()));
    rejects!(d, id);
    let (mut m, _) = d.release().release();
    m.done();
    let mut d = Adbms6830::<Adbms6830b, 2, _>::new(Async::new(Mock::new(&exp), NoopDelay::new()));
    rejects!(d, block_on);
    let (mut m, _) = d.release().release();
    m.done();
}

#[test]
fn thresholds_round_to_the_safe_side() {
    // Oracle: threshold = code × 16 × 150 µV + 1.5 V (ADBMS6830B-DS CFGB, Table 56).
    // UV 2.5 V: (2.5 − 1.5) / 0.0024 = 416.67 → ceil 417 → 2.5008 V (the vendor's truncation
    // to 416 = 2.4984 V would let a 2.499 V cell pass unflagged).
    let mut b = CfgB::default();
    assert_eq!(
        b.set_undervoltage(MicroVolts(2_500_000)),
        Ok(MicroVolts(2_500_800))
    );
    assert_eq!(b.vuv, 417);
    // OV 4.1 V: 2.6 / 0.0024 = 1083.33 → floor 1083 → 4.0992 V.
    assert_eq!(
        b.set_overvoltage(MicroVolts(4_100_000)),
        Ok(MicroVolts(4_099_200))
    );
    assert_eq!(b.vov, 1083);
    // Exact grid points are kept: 4.2 V = code 1125 ((4.2 − 1.5) V / 2.4 mV, ADBMS6830B-DS
    // Table 56).
    assert_eq!(
        b.set_undervoltage(MicroVolts(4_200_000)),
        Ok(MicroVolts(4_200_000))
    );
    assert_eq!(b.vuv, 1125);
    // Image of UV 417 / OV 1083: VUV[7:0] = 0xA1, VOV[3:0]|VUV[11:8] = 0xB1, VOV[11:4] = 0x43.
    b.set_undervoltage(MicroVolts(2_500_000)).unwrap();
    assert_eq!(&b.to_bytes()[..3], &[0xA1, 0xB1, 0x43]);
}
