//! LTC6810 S-voltage groups (RDSA/RDSB) and the S-pin redundancy check: wire tests against
//! embedded-hal-mock (blocking and async from one expectation list) and, with the `sim`
//! feature, behaviour against the virtual chain.
//!
//! Sources: Linduino `LTSketchbook/libraries/LTC6810/LTC6810.cpp` (`LTC6810_rds_reg`: reg 1
//! → command 0x008 = RDSA, reg 2 → 0x00A = RDSB; `LTC6810_rds` parses them with the cell
//! parser: three little-endian 16-bit codes + PEC15 per device) and `DC2515.ino`
//! (`print_Svolt`: code × 0.0001 V; `SCONV = true; // Enable Cell Measurement Redundancy
//! using S Pin`); rt-LTC681X `src/commands.rs` (the published RDCVC/RDCVD frames, the same
//! codes); EngineerZone 104495 (cleared group PEC); Linduino `LTC6810.cpp` `set_cfgr_*`
//! (SCONV = CFGR5 bit 3). Document short names are those of src/ltc681x/mod.rs. Response PECs come
//! from the bit-serial `common::oracle_pec15` (checked in tests/oracles.rs), never from the crate.

use bms_afe::error::{ConfigError, Error, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::ltc681x::command::{self, AdcMode};
use bms_afe::ltc681x::convert::s_pin_mismatches;
use bms_afe::ltc681x::{Ltc681x, Ltc6810, Ltc6811, Ltc6812, Ltc6813};
use bms_afe::monitor::Reading;
use bms_afe::units::MicroVolts;
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::spi::{Mock, Transaction as T};

mod common;
use common::{block_on, cmd, oracle_cmd, oracle_pec15, read, write};

/// Runs `$body` with a blocking driver, then with an async driver, on the same expectations.
/// Inside the body, wrap every driver call in `go!(…)`.
macro_rules! both {
    ($v:ty, $n:literal, $tx:expr, |$d:ident| $body:block) => {{
        let tx: Vec<T<u8>> = $tx;
        {
            let mut $d = Ltc681x::<$v, $n, _>::new(Blocking::new(Mock::new(&tx), NoopDelay::new()));
            #[allow(unused_macros)]
            macro_rules! go {
                ($e:expr) => {
                    $e
                };
            }
            $body
            $d.release().release().0.done();
        }
        {
            let mut $d = Ltc681x::<$v, $n, _>::new(Async::new(Mock::new(&tx), NoopDelay::new()));
            #[allow(unused_macros)]
            macro_rules! go {
                ($e:expr) => {
                    block_on($e)
                };
            }
            $body
            $d.release().release().0.done();
        }
    }};
}

/// One device's 8-byte response: three codes little-endian, then the oracle PEC.
fn group(codes: [u16; 3]) -> [u8; 8] {
    let mut f = [0u8; 8];
    for (i, c) in codes.iter().enumerate() {
        f[2 * i..2 * i + 2].copy_from_slice(&c.to_le_bytes());
    }
    let p = oracle_pec15(&f[..6]);
    f[6] = p[0];
    f[7] = p[1];
    f
}

// Written out by hand: the published rows RDCVC 00 08 5E 52 and RDCVD 00 0A C3 04 (rt-LTC681X
// `src/commands.rs`), which are the LTC6810's RDSA/RDSB codes (Linduino `LTC6810_rds_reg`).
const RDSA: [u8; 4] = [0x00, 0x08, 0x5E, 0x52];
const RDSB: [u8; 4] = [0x00, 0x0A, 0xC3, 0x04];
const RDCVA: [u8; 4] = [0x00, 0x04, 0x07, 0xC2];
const RDCVB: [u8; 4] = [0x00, 0x06, 0x9A, 0x94];
const RDCFGA: [u8; 4] = [0x00, 0x02, 0x2B, 0x0A];
const WRCFGA: [u8; 4] = [0x00, 0x01, 0x3D, 0x6E]; // LTC6804-DS Table 24
const CLRCELL: [u8; 4] = [0x07, 0x11, 0xC9, 0xC0];
const ADCV_NORMAL_ALL: [u8; 4] = [0x03, 0x60, 0xF4, 0x6C];
// EngineerZone 104495: all-0xFF group with its valid PEC 66 4C (a cleared register).
const CLEARED: [u8; 8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x66, 0x4C];

fn uv(x: i32) -> Reading<MicroVolts> {
    Reading::Valid(MicroVolts(x))
}

#[test]
fn rdsa_rdsb_frames_match_the_oracle_and_the_published_codes() {
    // The oracle reproduces the published frames …
    assert_eq!(oracle_cmd(0x008), RDSA);
    assert_eq!(oracle_cmd(0x00A), RDSB);
    assert_eq!(oracle_pec15(&[0xFF; 6]), [0x66, 0x4C]);
    // … and the crate's constants match both.
    assert_eq!(command::RDSA, RDSA);
    assert_eq!(command::RDSB, RDSB);
    assert_eq!(command::RDS, [RDSA, RDSB]);
}

#[test]
fn read_s_voltages_one_device_decodes_like_cells() {
    // S1..S3 = 3.7000, 3.7011, 3.6990 V; S4 = 4.1000 V, S5 = 0 V, S6 = 0xDFFF (full scale).
    let a = group([37_000, 37_011, 36_990]);
    let b = group([41_000, 0, 0xDFFF]);
    let mut tx = read(RDSA, a);
    tx.extend(read(RDSB, b));
    both!(Ltc6810, 1, tx, |d| {
        let mut out = [Reading::NotConverted; 6];
        let report = go!(d.read_s_voltages(&mut out)).unwrap();
        assert!(report.is_ok());
        assert_eq!(
            out,
            [
                uv(3_700_000),
                uv(3_701_100),
                uv(3_699_000),
                uv(4_100_000),
                uv(0),
                uv(5_734_300)
            ]
        );
    });
}

fn two_devices(dev1_b: [u8; 8]) -> Vec<T<u8>> {
    let a0 = group([33_000, 33_001, 33_002]);
    let a1 = group([34_000, 34_001, 34_002]);
    let b0 = group([35_000, 35_001, 35_002]);
    let mut tx = read(RDSA, [a0, a1].concat());
    tx.extend(read(RDSB, [b0, dev1_b].concat()));
    tx
}

#[test]
fn read_s_voltages_two_devices_device0_first_and_cleared_is_not_converted() {
    both!(Ltc6810, 2, two_devices(CLEARED), |d| {
        let mut out = [Reading::NotConverted; 12];
        let report = go!(d.read_s_voltages(&mut out)).unwrap();
        assert!(report.is_ok());
        assert_eq!(out[0], uv(3_300_000));
        assert_eq!(out[2], uv(3_300_200));
        assert_eq!(out[3], uv(3_500_000));
        assert_eq!(out[5], uv(3_500_200));
        assert_eq!(out[6], uv(3_400_000));
        assert_eq!(out[8], uv(3_400_200));
        // SCONV = 0 or cleared: 0xFFFF with a good PEC is no voltage.
        assert!(out[9..].iter().all(|r| *r == Reading::NotConverted));
    });
}

#[test]
fn pec_error_at_one_device_fails_only_that_device() {
    let mut bad = group([36_000, 36_001, 36_002]);
    bad[7] ^= 0x01; // last PEC bit flipped
    let good_pec = u16::from_be_bytes(oracle_pec15(&bad[..6]));
    both!(Ltc6810, 2, two_devices(bad), |d| {
        d.set_retries(0);
        let mut out = [Reading::NotConverted; 12];
        let report = go!(d.read_s_voltages(&mut out)).unwrap();
        assert_eq!(report.failed.iter().collect::<Vec<_>>(), vec![1]);
        let f = report.first_fault.unwrap();
        assert_eq!(f.device, 1);
        assert_eq!(
            f.reason,
            FaultReason::Pec {
                expected: good_pec,
                received: good_pec ^ 1
            }
        );
        // Device 0 untouched, device 1's group A intact, its group B failed.
        assert!(out[..6].iter().all(Reading::is_valid));
        assert_eq!(out[6], uv(3_400_000));
        assert!(
            out[9..]
                .iter()
                .all(|r| matches!(r, Reading::Failed(f) if f.device == 1))
        );
    });
}

#[test]
fn retry_reissues_only_the_failed_s_group() {
    let mut bad = group([36_000, 36_001, 36_002]);
    bad[0] ^= 0x80;
    let mut tx = two_devices(bad);
    let b0 = group([35_000, 35_001, 35_002]);
    tx.extend(read(RDSB, [b0, group([36_000, 36_001, 36_002])].concat()));
    both!(Ltc6810, 2, tx, |d| {
        d.set_retries(1);
        let mut out = [Reading::NotConverted; 12];
        let report = go!(d.read_s_voltages(&mut out)).unwrap();
        assert!(report.is_ok());
        assert_eq!(out[9], uv(3_600_000));
        assert_eq!(out[11], uv(3_600_200));
    });
}

#[test]
fn fault_code_in_an_s_group_is_failed() {
    // 0xFF02: a digital-redundancy fault code (above the 0xDFFF full scale) with a good PEC.
    let tx = [
        read(RDSA, group([37_000, 0xFF02, 37_000])),
        read(RDSB, CLEARED),
    ]
    .concat();
    both!(Ltc6810, 1, tx, |d| {
        let mut out = [Reading::NotConverted; 6];
        let report = go!(d.read_s_voltages(&mut out)).unwrap();
        assert!(!report.is_ok());
        assert_eq!(out[0], uv(3_700_000));
        assert!(matches!(out[1], Reading::Failed(f) if f.device == 0));
    });
}

#[test]
fn other_parts_refuse_before_sending_anything() {
    fn unsupported<T: core::fmt::Debug>(r: Result<T, Error<impl core::fmt::Debug>>) {
        assert!(
            matches!(r, Err(Error::Config(ConfigError::Unsupported(_)))),
            "{r:?}"
        );
    }
    // No expectations: any frame would fail the mock.
    both!(Ltc6811, 2, vec![], |d| {
        let mut out = [Reading::NotConverted; 24];
        unsupported(go!(d.read_s_voltages(&mut out)));
        let mut m = [Reading::NotConverted; 2];
        unsupported(go!(d.s_pin_redundancy(
            AdcMode::Normal,
            MicroVolts(1_000),
            &mut m
        )));
        assert_eq!(
            d.set_sconv(true),
            Err(ConfigError::Unsupported("SCONV (LTC6810 only)"))
        );
    });
    both!(Ltc6812, 1, vec![], |d| {
        let mut out = [Reading::NotConverted; 15];
        unsupported(go!(d.read_s_voltages(&mut out)));
    });
    both!(Ltc6813, 1, vec![], |d| {
        let mut out = [Reading::NotConverted; 18];
        unsupported(go!(d.read_s_voltages(&mut out)));
        let mut m = [Reading::NotConverted; 1];
        unsupported(go!(d.s_pin_redundancy(
            AdcMode::Normal,
            MicroVolts(1_000),
            &mut m
        )));
        assert!(d.set_sconv(false).is_ok());
    });
}

#[test]
fn s_pin_redundancy_rejects_bad_input_before_sending() {
    both!(Ltc6810, 2, vec![], |d| {
        let mut m = [Reading::NotConverted; 2];
        // SCONV not set in the held configuration.
        assert!(matches!(
            go!(d.s_pin_redundancy(AdcMode::Normal, MicroVolts(1_000), &mut m)),
            Err(Error::Config(ConfigError::Conflict(_)))
        ));
        d.set_sconv(true).unwrap();
        assert!(matches!(
            go!(d.s_pin_redundancy(AdcMode::Normal, MicroVolts(-1), &mut m)),
            Err(Error::Config(ConfigError::OutOfRange { .. }))
        ));
        let mut short = [Reading::NotConverted; 1];
        assert!(matches!(
            go!(d.s_pin_redundancy(AdcMode::Normal, MicroVolts(1_000), &mut short)),
            Err(Error::InvalidArgument(_))
        ));
        let mut s = [Reading::NotConverted; 11];
        assert!(matches!(
            go!(d.read_s_voltages(&mut s)),
            Err(Error::InvalidArgument(_))
        ));
    });
}

#[test]
fn s_pin_redundancy_sequence_and_verdicts_two_devices() {
    let n = 2;
    let mut tx = Vec::new();
    // Wake idle ports: one RDCFGA dummy per device.
    for _ in 0..n {
        tx.extend(cmd(RDCFGA));
    }
    // The held configuration is written and read back (SCONV confirmed on each chip). LTC6810 CFGR
    // (Linduino `LTC6810.cpp` `set_cfgr_*`): GPIO1..4 pull-downs off = CFGR0 b6..b3 (0x78), UV/OV
    // 0, no discharge, SCONV = CFGR5 b3 (0x08).
    let cfg = [0x78, 0x00, 0x00, 0x00, 0x00, 0x08];
    let sealed_cfg = [cfg.as_slice(), &oracle_pec15(&cfg)].concat();
    tx.extend(write(
        WRCFGA,
        [sealed_cfg.clone(), sealed_cfg.clone()].concat(),
    ));
    tx.extend(read(RDCFGA, [sealed_cfg.clone(), sealed_cfg].concat()));
    // Clear; convert (ADCV 7 kHz, DCP = 0).
    tx.extend(cmd(CLRCELL));
    tx.extend(cmd(ADCV_NORMAL_ALL));
    // REFON = 0: the wait includes tREFUP and exceeds tIDLE, so the ports are woken again.
    for _ in 0..n {
        tx.extend(cmd(RDCFGA));
    }
    // Cells: device 0 all 3.7 V; device 1 3.6 V.
    let c0 = group([37_000, 37_000, 37_000]);
    let c1 = group([36_000, 36_000, 36_000]);
    tx.extend(read(RDCVA, [c0, c1].concat()));
    tx.extend(read(RDCVB, [c0, c1].concat()));
    // S: device 0 agrees within 0.5 mV except S5 (+3 mV); device 1 group B has a bad PEC.
    let mut bad = group([36_000, 36_000, 36_000]);
    bad[2] ^= 0x10;
    tx.extend(read(
        RDSA,
        [
            group([37_005, 36_995, 37_000]),
            group([36_000, 36_000, 36_000]),
        ]
        .concat(),
    ));
    tx.extend(read(RDSB, [group([37_000, 37_030, 37_000]), bad].concat()));
    both!(Ltc6810, 2, tx, |d| {
        d.set_retries(0);
        d.set_sconv(true).unwrap();
        assert!(d.config(1).unwrap().sconv);
        let mut m = [Reading::NotConverted; 2];
        let report = go!(d.s_pin_redundancy(AdcMode::Normal, MicroVolts(1_000), &mut m)).unwrap();
        assert_eq!(report.failed.iter().collect::<Vec<_>>(), vec![1]);
        assert_eq!(m[0], Reading::Valid(1 << 4));
        assert!(matches!(m[1], Reading::Failed(f) if f.device == 1));
    });
}

#[test]
fn s_pin_redundancy_stops_when_a_chip_does_not_take_sconv() {
    // One device; its CFGR read-back (good PEC) shows SCONV = 0 after the write: the check
    // stops with a read-back error naming the device and byte, before converting anything.
    let cfg = [0x78, 0x00, 0x00, 0x00, 0x00, 0x08];
    let back = [0x78, 0x00, 0x00, 0x00, 0x00, 0x00];
    let mut tx = cmd(RDCFGA);
    tx.extend(write(
        WRCFGA,
        [cfg.as_slice(), &oracle_pec15(&cfg)].concat(),
    ));
    tx.extend(read(
        RDCFGA,
        [back.as_slice(), &oracle_pec15(&back)].concat(),
    ));
    both!(Ltc6810, 1, tx, |d| {
        d.set_sconv(true).unwrap();
        let mut m = [Reading::NotConverted; 1];
        match go!(d.s_pin_redundancy(AdcMode::Normal, MicroVolts(1_000), &mut m)) {
            Err(Error::Verify(v)) => {
                assert_eq!((v.device, v.register, v.offset), (0, "CFGR", 5));
                assert_eq!((v.expected, v.actual), (0x08, 0x00));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(m, [Reading::NotConverted]);
    });
}

#[test]
fn pure_comparison_without_a_bus() {
    let c = [uv(3_700_000); 6];
    let mut s = c;
    assert_eq!(s_pin_mismatches(&c, &s, MicroVolts(0)), Reading::Valid(0));
    s[5] = uv(3_700_101);
    assert_eq!(
        s_pin_mismatches(&c, &s, MicroVolts(100)),
        Reading::Valid(1 << 5)
    );
    assert_eq!(s_pin_mismatches(&c, &s, MicroVolts(101)), Reading::Valid(0));
    s[0] = Reading::NotConverted;
    assert_eq!(
        s_pin_mismatches(&c, &s, MicroVolts(100)),
        Reading::NotConverted
    );
    assert_eq!(
        s_pin_mismatches(&c, &c[..5], MicroVolts(100)),
        Reading::NotConverted
    );
}

proptest::proptest! {
    /// Bit k of the verdict is set exactly when |C − S| of pair k exceeds the tolerance
    /// (checked against a plain loop over the raw 100 µV codes).
    #[test]
    fn comparison_mask_matches_a_plain_loop(
        c in proptest::array::uniform6(0u16..=0xDFFF),
        s in proptest::array::uniform6(0u16..=0xDFFF),
        tol in 0i32..100_000,
    ) {
        let cr = c.map(|x| uv(i32::from(x) * 100));
        let sr = s.map(|x| uv(i32::from(x) * 100));
        let mut want = 0u32;
        for k in 0..6 {
            if (i32::from(c[k]) - i32::from(s[k])).abs() * 100 > tol {
                want |= 1 << k;
            }
        }
        proptest::prop_assert_eq!(s_pin_mismatches(&cr, &sr, MicroVolts(tol)), Reading::Valid(want));
    }
}

#[cfg(feature = "sim")]
mod sim {
    use super::*;
    use bms_afe::ltc681x::Variant;
    use bms_afe::sim::ltc681x::Ltc681xChain;
    use bms_afe::sim::{InjectedFault, Sim, VirtualChip};
    use common::id;

    /// A distinct cell voltage per device and cell, in µV (not on the 100 µV grid).
    fn truth(device: usize, cell: usize) -> i32 {
        3_200_000 + device as i32 * 41_300 + cell as i32 * 12_700 + 37
    }

    /// The nearest multiple of 100 µV (the LTC681x cell LSB, LTC6812-DS Table 4), written
    /// independently of the crate's conversion.
    fn lsb100(uv: i32) -> i32 {
        (uv + 50) / 100 * 100
    }

    fn seeded<V: Variant, const N: usize>() -> Sim<Ltc681xChain<V, N>> {
        let sim = Sim::new(Ltc681xChain::<V, N>::new());
        sim.with(|c| {
            for d in 0..N {
                for k in 0..V::CELLS {
                    c.set_cell_voltage(d, k, truth(d, k));
                }
            }
        });
        sim
    }

    /// A scenario on an LTC6810 chain of `$n`, blocking (`id`) and async (`block_on`).
    macro_rules! both_sim {
        ($n:literal, $scenario:ident) => {{
            {
                let sim = seeded::<Ltc6810, $n>();
                let mut d = Ltc681x::<Ltc6810, $n, _>::new(Blocking::new(sim.spi(), sim.delay()));
                $scenario!(sim, d, id, $n);
            }
            {
                let sim = seeded::<Ltc6810, $n>();
                let mut d = Ltc681x::<Ltc6810, $n, _>::new(Async::new(sim.spi(), sim.delay()));
                $scenario!(sim, d, block_on, $n);
            }
        }};
    }

    macro_rules! healthy {
        ($sim:ident, $d:ident, $go:ident, $n:literal) => {{
            $go($d.wake()).unwrap();
            $d.set_sconv(true).unwrap();
            $go($d.write_config_verified()).unwrap();
            assert!($sim.with(|c| c.config_bytes(0).unwrap()[0][5] & 0x08 != 0));
            let mut m = [Reading::NotConverted; $n];
            let r = $go($d.s_pin_redundancy(AdcMode::Normal, MicroVolts(0), &mut m)).unwrap();
            assert!(r.is_ok());
            assert!(m.iter().all(|x| *x == Reading::Valid(0)), "{m:?}");
            // The S groups hold the same cells, quantised like them.
            let mut s = [Reading::NotConverted; $n * 6];
            let mut c = [Reading::NotConverted; $n * 6];
            assert!($go($d.read_s_voltages(&mut s)).unwrap().is_ok());
            assert!($go($d.read_cells(&mut c)).unwrap().is_ok());
            for (i, (sv, cv)) in s.iter().zip(&c).enumerate() {
                let want = uv(lsb100(truth(i / 6, i % 6)));
                assert_eq!(*sv, want, "S{} of device {}", i % 6 + 1, i / 6);
                assert_eq!(*cv, want);
            }
        }};
    }

    #[test]
    fn healthy_chain_s_equals_c_within_quantisation() {
        both_sim!(1, healthy);
        both_sim!(3, healthy);
        both_sim!(16, healthy);
    }

    macro_rules! sconv_off {
        ($sim:ident, $d:ident, $go:ident, $n:literal) => {{
            $go($d.wake()).unwrap();
            $go($d.write_config_verified()).unwrap();
            let mut c = [Reading::NotConverted; $n * 6];
            $go($d.start_cells(
                AdcMode::Fast,
                false,
                bms_afe::ltc681x::command::CellSelect::ALL,
            ))
            .unwrap();
            $go($d.poll_adc()).unwrap();
            assert!($go($d.read_cells(&mut c)).unwrap().is_ok());
            assert!(c.iter().all(Reading::is_valid));
            // SCONV = 0: the S groups keep their cleared value.
            let mut s = [uv(1); $n * 6];
            assert!($go($d.read_s_voltages(&mut s)).unwrap().is_ok());
            assert!(s.iter().all(|r| *r == Reading::NotConverted), "{s:?}");
            // And the check refuses to run on a configuration without SCONV.
            let mut m = [Reading::NotConverted; $n];
            assert!(matches!(
                $go($d.s_pin_redundancy(AdcMode::Normal, MicroVolts(500), &mut m)),
                Err(Error::Config(ConfigError::Conflict(_)))
            ));
        }};
    }

    macro_rules! sconv_held_only {
        ($sim:ident, $d:ident, $go:ident, $n:literal) => {{
            // The chips run with SCONV = 0; SCONV is then set in the driver's copy only (no
            // write). The check must not compare against S groups that were never converted:
            // it writes the held configuration itself and confirms SCONV per chip.
            $go($d.wake()).unwrap();
            $go($d.write_config_verified()).unwrap();
            $d.set_sconv(true).unwrap();
            for dev in 0..$n {
                assert_eq!($sim.with(|c| c.config_bytes(dev).unwrap()[0][5] & 0x08), 0);
            }
            let mut m = [Reading::NotConverted; $n];
            let r = $go($d.s_pin_redundancy(AdcMode::Normal, MicroVolts(0), &mut m)).unwrap();
            assert!(r.is_ok());
            for dev in 0..$n {
                assert_ne!($sim.with(|c| c.config_bytes(dev).unwrap()[0][5] & 0x08), 0);
            }
            // Real S conversions happened: both paths agree on every device.
            assert!(m.iter().all(|x| *x == Reading::Valid(0)), "{m:?}");
        }};
    }

    #[test]
    fn sconv_set_only_in_the_driver_is_written_before_the_check() {
        both_sim!(2, sconv_held_only);
    }

    #[test]
    fn sconv_off_leaves_s_groups_not_converted() {
        both_sim!(2, sconv_off);
    }

    macro_rules! degraded {
        ($sim:ident, $d:ident, $go:ident, $n:literal) => {{
            const K: usize = 2;
            const J: usize = 4;
            $go($d.wake()).unwrap();
            $d.set_sconv(true).unwrap();
            $go($d.write_config_verified()).unwrap();
            // Device K's S path reads cell J+1 3 mV high.
            $sim.with(|c| c.set_s_pin_offset(K, J, 3_000));
            let mut m = [Reading::NotConverted; $n];
            let r = $go($d.s_pin_redundancy(AdcMode::Filtered, MicroVolts(1_000), &mut m)).unwrap();
            assert!(r.is_ok());
            for (dev, x) in m.iter().enumerate() {
                let want = if dev == K { 1 << J } else { 0 };
                assert_eq!(*x, Reading::Valid(want), "device {dev}");
            }
            let mut s = [Reading::NotConverted; $n * 6];
            $go($d.read_s_voltages(&mut s)).unwrap();
            assert_eq!(s[K * 6 + J], uv(lsb100(truth(K, J) + 3_000)));
            // Within a wider tolerance the same chain agrees.
            let r = $go($d.s_pin_redundancy(AdcMode::Fast, MicroVolts(3_100), &mut m)).unwrap();
            assert!(r.is_ok());
            assert!(m.iter().all(|x| *x == Reading::Valid(0)), "{m:?}");
            // A negative offset on another device is found too.
            $sim.with(|c| c.set_s_pin_offset(0, 0, -2_000));
            $go($d.s_pin_redundancy(AdcMode::Normal, MicroVolts(1_000), &mut m)).unwrap();
            assert_eq!(m[0], Reading::Valid(1));
            assert_eq!(m[K], Reading::Valid(1 << J));
            assert_eq!(m[1], Reading::Valid(0));
        }};
    }

    #[test]
    fn injected_s_offset_is_found_only_at_its_device_and_cell() {
        both_sim!(4, degraded);
    }

    macro_rules! corrupt {
        ($sim:ident, $d:ident, $go:ident, $n:literal) => {{
            $go($d.wake()).unwrap();
            $d.set_sconv(true).unwrap();
            $go($d.write_config_verified()).unwrap();
            $sim.with(|c| {
                c.inject(InjectedFault::CorruptResponses {
                    device: 1,
                    seed: 7,
                    frames: u32::MAX,
                })
            });
            let mut m = [Reading::NotConverted; $n];
            let r = $go($d.s_pin_redundancy(AdcMode::Normal, MicroVolts(500), &mut m)).unwrap();
            assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![1]);
            assert!(matches!(m[1], Reading::Failed(f) if f.device == 1));
            assert_eq!(m[0], Reading::Valid(0));
            assert_eq!(m[2], Reading::Valid(0));
            // A silent device fails alone as well.
            $sim.with(|c| {
                c.clear_faults();
                c.inject(InjectedFault::Silent { device: 2 });
            });
            let r = $go($d.s_pin_redundancy(AdcMode::Normal, MicroVolts(500), &mut m)).unwrap();
            assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![2]);
            assert!(
                matches!(m[2], Reading::Failed(f) if f.device == 2 && f.reason == FaultReason::NoResponse)
            );
            assert_eq!(m[1], Reading::Valid(0));
        }};
    }

    #[test]
    fn failed_frames_fail_only_their_device() {
        both_sim!(3, corrupt);
    }

    #[test]
    fn other_parts_still_answer_cell_groups_c_and_d() {
        // An LTC6811 chain: 0x008/0x00A read cell groups C/D (cells 7..12), and the driver
        // refuses the S commands without touching the bus.
        let sim = seeded::<Ltc6811, 2>();
        let mut d = Ltc681x::<Ltc6811, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
        d.wake().unwrap();
        d.set_refon(true);
        d.write_config().unwrap();
        let mut c = [Reading::NotConverted; 24];
        d.start_cells(
            AdcMode::Normal,
            false,
            bms_afe::ltc681x::command::CellSelect::ALL,
        )
        .unwrap();
        d.poll_adc().unwrap();
        assert!(d.read_cells(&mut c).unwrap().is_ok());
        for (i, r) in c.iter().enumerate() {
            assert_eq!(*r, uv(lsb100(truth(i / 12, i % 12))));
        }
        let before = sim.with(|c| c.valid_commands());
        let mut s = [Reading::NotConverted; 24];
        assert!(matches!(
            d.read_s_voltages(&mut s),
            Err(Error::Config(ConfigError::Unsupported(_)))
        ));
        assert_eq!(sim.with(|c| c.valid_commands()), before);
    }
}
