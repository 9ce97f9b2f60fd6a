//! Wire-level tests of the bq769x2 driver with embedded-hal-mock: every expectation list runs
//! through the blocking AND the async driver.
//!
//! Vectors: SLUAA11B §4 (I2C with CRC: FET_ENABLE write `10 3E 22 [63] 00 [00]`, Cell 1 read
//! `10 14 11 68 [33] 0B [31]`), SLUUBY2B data-memory example (0x9180 ← 0x307A, checksum 0x44,
//! length 0x06), SLUAA11B §3.3 (Enabled Protections A 0x9261 ← 0x8C, checksum 0x80, length
//! 5), SLUAA11B §2.1 (BQ76942 DEVICE_NUMBER 0x7694). Everything else is built with the
//! independent CRC-8 / checksum oracles of tests/common (not the crate's functions), checked
//! against TI's published vectors in tests/oracles.rs.

use bms_afe::Error;
use bms_afe::bq769x2::{Bq769x2, Bq76942, Bq76952, Config, Fets, SafetyA, Security, SecurityKeys};
use bms_afe::error::{DeviceFault, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, Reading};
use bms_afe::units::MicroVolts;
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::i2c::{Mock, Transaction as T};

const A: u8 = 0x08;

mod common;
use common::{TiWire as Wire, block_on, oracle_checksum};

/// Runs `$call` on a blocking and on an async driver built by `$ctor` over the same
/// expectations, checks both mocks are exhausted and both results agree; yields the result.
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

#[test]
fn fet_enable_write_crc_matches_sluaa11b() {
    // SLUAA11B §4: 10 3E 22 [63] 00 [00].
    let exp = vec![T::write(A, vec![0x3E, 0x22, 0x63, 0x00, 0x00])];
    let r = both!(exp, Bq76952, new_crc, |d| {} subcommand(0x0022));
    assert_eq!(r, Ok(()));
}

#[test]
fn cell1_read_crc_matches_sluaa11b() {
    // SLUAA11B §4: 10 14 11 68 [33] 0B [31] → 0x0B68 = 2920 mV.
    let exp = vec![T::write_read(A, vec![0x14], vec![0x68, 0x33, 0x0B, 0x31])];
    let r = both!(exp, Bq76952, new_crc, |d| {} read_cell_voltage(1));
    assert_eq!(r, Ok(MicroVolts(2_920_000)));
}

#[test]
fn cell1_read_plain() {
    let exp = vec![T::write_read(A, vec![0x14], vec![0x68, 0x0B])];
    let r = both!(exp, Bq76952, new, |d| {} read_cell_voltage(1));
    assert_eq!(r, Ok(MicroVolts(2_920_000)));
}

#[test]
fn crc_failure_then_retry_resends_the_register_address() {
    // First answer has a corrupted CRC byte; the retry is a fresh write_read of 0x14.
    let exp = vec![
        T::write_read(A, vec![0x14], vec![0x68, 0x34, 0x0B, 0x31]),
        T::write_read(A, vec![0x14], vec![0x68, 0x33, 0x0B, 0x31]),
    ];
    let r = both!(exp, Bq76952, new_crc, |d| {} read_cell_voltage(1));
    assert_eq!(r, Ok(MicroVolts(2_920_000)));
}

#[test]
fn crc_failure_exhausting_retries_is_an_integrity_error() {
    let bad = T::write_read(A, vec![0x14], vec![0x68, 0x33, 0x0B, 0x30]);
    let exp = vec![bad.clone(), bad.clone(), bad];
    let r = both!(exp, Bq76952, new_crc, |d| {} read_cell_voltage(1));
    assert_eq!(
        r,
        Err(Error::Integrity(DeviceFault {
            device: 0,
            reason: FaultReason::Crc {
                expected: 0x31,
                received: 0x30
            }
        }))
    );
}

#[test]
fn data_memory_write_matches_sluuby2b_example() {
    // SLUUBY2B: 0x3E←80, 0x3F←91, 0x40←7A, 0x41←30, 0x60←44, 0x61←06.
    let exp = vec![
        T::write(A, vec![0x3E, 0x80, 0x91]),
        T::write(A, vec![0x40, 0x7A, 0x30]),
        T::write(A, vec![0x60, 0x44, 0x06]),
    ];
    let r = both!(exp, Bq76952, new, |d| {} subcommand_write(0x9180, &[0x7A, 0x30]));
    assert_eq!(r, Ok(()));
}

#[test]
fn enabled_protections_a_write_matches_sluaa11b() {
    // SLUAA11B §3.3: 0x9261 ← 0x8C, checksum 0x80, length 0x05; here in CRC mode.
    let w = Wire { crc: true };
    let exp = w.sub_write(0x9261, &[0x8C]);
    assert_eq!(oracle_checksum(0x9261, &[0x8C]), 0x80);
    let r = both!(exp, Bq76952, new_crc, |d| {} subcommand_write(0x9261, &[0x8C]));
    assert_eq!(r, Ok(()));
}

#[test]
fn probe_bq76942_device_number_plain_and_crc() {
    for crc in [false, true] {
        let w = Wire { crc };
        let mut exp = w.sub_read(0x0001, &[0x94, 0x76]); // SLUAA11B §2.1: 0x7694
        exp.push(w.r(0x12, &[0x00, 0x03])); // SEALED
        let r = if crc {
            both!(exp, Bq76942, new_crc, |d| {} probe())
        } else {
            both!(exp, Bq76942, new, |d| {} probe())
        };
        let info = r.unwrap();
        assert_eq!(info.device_number, 0x7694);
        assert_eq!(info.matches_variant, Some(true));
        assert_eq!(info.security, Security::Sealed);
    }
}

#[test]
fn probe_of_an_unsealed_chip_reads_da_configuration_and_vcell_mode() {
    // BQ76942 programmed for 9 cells: Vcell Mode 0x037F (SLUAA11B §3.4 "writes 0x037F to
    // 0x9304" for 9 cells on a BQ76942); DA Configuration 0x06 = 10 mA, cV (BQ76952 TRM SLUUBY2B, DA Configuration: bits
    // 1:0 USER_AMPS 2 = 10 mA, bit 2 USER_VOLTS_CV). One data-memory read of the 32-byte
    // block at 0x9303 carries both (0x9303, 0x9304, 0x9305).
    use bms_afe::bq769x2::SettingsSource;
    use bms_afe::bq769x2::data_memory::{UserAmps, UserVolts};
    for crc in [false, true] {
        let w = Wire { crc };
        let mut exp = w.sub_read(0x0001, &[0x94, 0x76]);
        exp.push(w.r(0x12, &[0x00, 0x02])); // SEC = 2: UNSEALED
        exp.extend(w.sub_read(0x9303, &block32(&[0x06, 0x7F, 0x03])));
        let info = if crc {
            both!(exp, Bq76942, new_crc, |d| {} probe())
        } else {
            both!(exp, Bq76942, new, |d| {} probe())
        }
        .unwrap();
        assert_eq!(info.security, Security::Unsealed);
        assert_eq!(info.settings, SettingsSource::Device);
        assert_eq!(info.vcell_mode, 0x037F);
        assert_eq!(info.da_config.user_amps, UserAmps::Centiamp);
        assert_eq!(info.da_config.user_volts, UserVolts::Centivolt);
    }
    // The driver keeps them: 9 cells.
    let w = Wire { crc: false };
    let mut exp = w.sub_read(0x0001, &[0x94, 0x76]);
    exp.push(w.r(0x12, &[0x00, 0x01])); // FULLACCESS
    exp.extend(w.sub_read(0x9303, &block32(&[0x06, 0x7F, 0x03])));
    let mut d = Bq769x2::<Bq76942, _>::new(Blocking::new(Mock::new(&exp), NoopDelay::new()));
    d.probe().unwrap();
    assert_eq!(CellMonitor::cell_count(&d), 9);
    d.release().release().0.done();
}

#[test]
fn probe_refuses_a_vcell_mode_beyond_the_variant_and_adopts_nothing() {
    // Input 16 (bit 15) on a 10-input BQ76942: wrong variant or corrupt settings.
    let w = Wire { crc: false };
    let mut exp = w.sub_read(0x0001, &[0x94, 0x76]);
    exp.push(w.r(0x12, &[0x00, 0x02]));
    exp.extend(w.sub_read(0x9303, &block32(&[0x06, 0x07, 0x80])));
    let mut d = Bq769x2::<Bq76942, _>::new(Blocking::new(Mock::new(&exp), NoopDelay::new()));
    assert!(matches!(d.probe(), Err(Error::Device { device: 0, .. })));
    assert_eq!(d.vcell_mode(), 0);
    assert_eq!(
        d.da_config(),
        bms_afe::bq769x2::DaConfig::ASSUMED_DEFAULT,
        "nothing adopted"
    );
    d.release().release().0.done();
}

#[test]
fn probe_refuses_a_verified_mismatch() {
    let w = Wire { crc: false };
    let exp = w.sub_read(0x0001, &[0x95, 0x76]);
    let r = both!(exp, Bq76942, new, |d| {} probe());
    assert!(matches!(r, Err(Error::Device { device: 0, .. })));
}

#[test]
fn echo_is_polled_until_it_matches() {
    let w = Wire { crc: true };
    let mut exp = vec![
        w.w(0x3E, &[0x01, 0x00]),
        w.r(0x3E, &[0xFF, 0xFF]),
        w.r(0x3E, &[0xFF, 0xFF]),
    ];
    exp.extend(w.sub_read(0x0001, &[0x95, 0x76]).into_iter().skip(1));
    let r = both!(exp, Bq76952, new_crc, |d| {} read_device_number());
    assert_eq!(r, Ok(0x7695));
}

#[test]
fn subcommand_checksum_failure_is_reported() {
    let w = Wire { crc: false };
    let exp = vec![
        w.w(0x3E, &[0x01, 0x00]),
        w.r(0x3E, &[0x01, 0x00]),
        w.r(0x40, &[0x95, 0x76]),
        w.r(0x60, &[0x12, 0x06]),
    ];
    let r = both!(exp, Bq76952, new, |d| { d.set_retries(0); } read_device_number());
    assert_eq!(
        r,
        Err(Error::Integrity(DeviceFault {
            device: 0,
            reason: FaultReason::Checksum {
                expected: oracle_checksum(0x0001, &[0x95, 0x76]),
                received: 0x12
            }
        }))
    );
}

#[test]
fn subcommand_checksum_failure_is_retried_by_resending_the_subcommand() {
    let w = Wire { crc: false };
    let mut exp = vec![
        w.w(0x3E, &[0x01, 0x00]),
        w.r(0x3E, &[0x01, 0x00]),
        w.r(0x40, &[0x95, 0x76]),
        w.r(0x60, &[0x12, 0x06]),
    ];
    exp.extend(w.sub_read(0x0001, &[0x95, 0x76]));
    let r = both!(exp, Bq76952, new, |d| { d.set_retries(1); } read_device_number());
    assert_eq!(r, Ok(0x7695));
}

#[test]
fn impossible_length_is_a_framing_fault() {
    let w = Wire { crc: false };
    let exp = vec![
        w.w(0x3E, &[0x01, 0x00]),
        w.r(0x3E, &[0x01, 0x00]),
        w.r(0x40, &[0x95, 0x76]),
        w.r(0x60, &[0x00, 0x02]),
    ];
    let r = both!(exp, Bq76952, new, |d| { d.set_retries(0); } read_device_number());
    assert_eq!(
        r,
        Err(Error::Integrity(DeviceFault {
            device: 0,
            reason: FaultReason::Framing
        }))
    );
}

#[test]
fn data_is_read_before_checksum_and_length() {
    // DEVICE_NUMBER 0x7694 (SLUAA11B §2.1) in CRC mode: echo, then 0x40 (2 bytes), then
    // 0x60/0x61 — the 0x61 read may advance the buffer (TRM-76907 §3.1), so it comes last.
    let w = Wire { crc: true };
    let exp = vec![
        w.w(0x3E, &[0x01, 0x00]),
        w.r(0x3E, &[0x01, 0x00]),
        w.r(0x40, &[0x94, 0x76]),
        w.r(0x60, &[oracle_checksum(0x0001, &[0x94, 0x76]), 0x06]),
    ];
    let r = both!(exp, Bq76942, new_crc, |d| {} read_device_number());
    assert_eq!(r, Ok(0x7694));
}

#[test]
fn a_response_longer_than_the_burst_is_sent_again_and_read_whole() {
    // Asked for 2 bytes of FW_VERSION (0x0002); the chip announces 6 (length 0x0A). The
    // checksum covers all 6, and the buffer cannot be re-read after 0x61: the subcommand is
    // sent again and 6 bytes are read, without spending a retry (retries = 0 here).
    let w = Wire { crc: false };
    let fw = [0x95, 0x76, 0x01, 0x00, 0x12, 0x00];
    let mut exp = vec![
        w.w(0x3E, &[0x02, 0x00]),
        w.r(0x3E, &[0x02, 0x00]),
        w.r(0x40, &fw[..2]),
        w.r(0x60, &[oracle_checksum(0x0002, &fw), 0x0A]),
    ];
    exp.extend(w.sub_read(0x0002, &fw));
    let mut out = [0u8; 2];
    let r = both!(exp, Bq76952, new, |d| { d.set_retries(0); } subcommand_read(0x0002, &mut out));
    assert_eq!(r, Ok(6));
}

fn block32(first: &[u8]) -> Vec<u8> {
    let mut b = first.to_vec();
    b.resize(32, 0);
    b
}

/// One CONFIG_UPDATE session: security check, SET_CFGUPDATE, CFGUPDATE polled (0 then 1),
/// each entry written and read back (32-byte block), EXIT_CFGUPDATE, CFGUPDATE polled to 0.
fn session(w: Wire, entries: &[(u16, &[u8])], readback: &[&[u8]]) -> Vec<T> {
    let mut e = vec![
        w.r(0x12, &[0x00, 0x01]), // FULLACCESS
        w.w(0x3E, &[0x90, 0x00]), // SET_CFGUPDATE
        w.r(0x12, &[0x00, 0x01]), // not yet
        w.r(0x12, &[0x01, 0x01]), // CFGUPDATE = 1
    ];
    for ((addr, data), back) in entries.iter().zip(readback) {
        e.extend(w.sub_write(*addr, data));
        e.extend(w.sub_read(*addr, &block32(back)));
    }
    e.push(w.w(0x3E, &[0x92, 0x00])); // EXIT_CFGUPDATE
    e.push(w.r(0x12, &[0x01, 0x01]));
    e.push(w.r(0x12, &[0x00, 0x01]));
    e
}

fn config() -> Config {
    let mut c = Config::new();
    c.enabled_protections_a(SafetyA::from_bits_retain(0x8C))
        .unwrap();
    c.cov_threshold_mv(4200).unwrap(); // code 83
    // SLUUBY2B §5.2.4: delay = 3.3 ms × (2 + setting): 99 ms → code 28.
    c.cov_delay(bms_afe::units::Microseconds(99_000)).unwrap();
    c
}

#[test]
fn full_configuration_session_plain_and_crc() {
    let entries: [(u16, &[u8]); 3] = [(0x9261, &[0x8C]), (0x9278, &[83]), (0x9279, &[28, 0])];
    for crc in [false, true] {
        let w = Wire { crc };
        let exp = session(w, &entries, &[&[0x8C], &[83], &[28, 0]]);
        let cfg = config();
        let r = if crc {
            both!(exp, Bq76952, new_crc, |d| {} configure(&cfg))
        } else {
            both!(exp, Bq76952, new, |d| {} configure(&cfg))
        };
        assert_eq!(r, Ok(()));
    }
}

#[test]
fn readback_mismatch_names_the_setting_and_still_exits_config_update() {
    let w = Wire { crc: false };
    let mut exp = vec![
        w.r(0x12, &[0x00, 0x01]),
        w.w(0x3E, &[0x90, 0x00]),
        w.r(0x12, &[0x01, 0x01]),
    ];
    exp.extend(w.sub_write(0x9261, &[0x8C]));
    exp.extend(w.sub_read(0x9261, &block32(&[0x88])));
    exp.push(w.w(0x3E, &[0x92, 0x00]));
    exp.push(w.r(0x12, &[0x00, 0x01]));
    let mut cfg = Config::new();
    cfg.enabled_protections_a(SafetyA::from_bits_retain(0x8C))
        .unwrap();
    let r = both!(exp, Bq76952, new, |d| {} configure(&cfg));
    match r {
        Err(Error::Verify(v)) => {
            assert_eq!(v.register, "Enabled Protections A");
            assert_eq!((v.expected, v.actual, v.offset), (0x8C, 0x88, 0));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn config_update_entry_timeout_is_bounded() {
    let w = Wire { crc: false };
    let mut exp = vec![w.r(0x12, &[0x00, 0x01]), w.w(0x3E, &[0x90, 0x00])];
    for _ in 0..100 {
        exp.push(w.r(0x12, &[0x00, 0x01]));
    }
    // The driver still tries to leave CONFIG_UPDATE.
    exp.push(w.w(0x3E, &[0x92, 0x00]));
    exp.push(w.r(0x12, &[0x00, 0x01]));
    let cfg = config();
    let r = both!(exp, Bq76952, new, |d| {} configure(&cfg));
    assert!(matches!(r, Err(Error::Timeout(_))), "{r:?}");
}

#[test]
fn configure_refuses_a_batch_that_lost_a_setting_before_any_bus_traffic() {
    // 64 filler entries fill the batch; Enabled Protections A (SLUAA11B §3.3: 0x8C enables
    // CUV) is refused. Ignoring that error must not lead to a "successful" session without
    // it: configure fails before the first transaction (empty expectation list).
    let mut cfg = Config::new();
    for i in 0..64u16 {
        cfg.raw(0x9180 + i, &[0], "filler").unwrap();
    }
    let lost = cfg.enabled_protections_a(SafetyA::from_bits_retain(0x8C));
    assert!(matches!(lost, Err(bms_afe::ConfigError::Conflict(_))));
    let r = both!(vec![], Bq76952, new, |d| {} configure(&cfg));
    assert!(
        matches!(r, Err(Error::Config(bms_afe::ConfigError::Conflict(_)))),
        "{r:?}"
    );
}

#[test]
fn configure_refuses_without_full_access_before_writing() {
    let w = Wire { crc: false };
    let exp = vec![w.r(0x12, &[0x00, 0x03])];
    let cfg = config();
    let r = both!(exp, Bq76952, new, |d| {} configure(&cfg));
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
fn unseal_writes_both_keys_little_endian() {
    // E2E-1053149: keys 0x0414, 0x3672 written as 14 04 then 72 36 to 0x3E.
    let w = Wire { crc: false };
    let exp = vec![
        w.r(0x12, &[0x00, 0x03]),
        T::write(A, vec![0x3E, 0x14, 0x04]),
        T::write(A, vec![0x3E, 0x72, 0x36]),
        w.r(0x12, &[0x00, 0x02]),
    ];
    let r = both!(exp, Bq76952, new, |d| {} unseal(SecurityKeys::new(0x0414, 0x3672)));
    assert_eq!(r, Ok(Security::Unsealed));
}

#[test]
fn fets_by_intent_use_the_fet_control_layout() {
    // Allow CHG and DSG: FET_CONTROL = PCHG_OFF | PDSG_OFF = 0x0A (b0 DSG_OFF, b1 PDSG_OFF,
    // b2 CHG_OFF, b3 PCHG_OFF), not the FET Status layout.
    let w = Wire { crc: true };
    let exp = w.sub_write(0x0097, &[0x0A]);
    let r = both!(exp, Bq76952, new_crc, |d| {} set_fets(Fets::CHG | Fets::DSG));
    assert_eq!(r, Ok(()));
}

#[test]
fn fet_enable_is_sent_only_when_fet_en_is_clear() {
    let w = Wire { crc: false };
    // Already enabled: the security state (Battery Status SEC = 2, UNSEALED), then only the
    // status read.
    let mut exp = vec![w.r(0x12, &[0x00, 0x02])];
    exp.extend(w.sub_read(0x0057, &[0x10, 0x00]));
    assert!(both!(exp, Bq76952, new, |d| {} enable_autonomous_fets()).is_ok());
    let mut exp = vec![w.r(0x12, &[0x00, 0x02])];
    exp.extend(w.sub_read(0x0057, &[0x00, 0x00]));
    exp.push(w.w(0x3E, &[0x22, 0x00]));
    exp.extend(w.sub_read(0x0057, &[0x10, 0x00]));
    assert!(both!(exp, Bq76952, new, |d| {} enable_autonomous_fets()).is_ok());
    // SEALED (Battery Status SEC = 3): refused, naming the state, before anything is sent.
    let exp = vec![w.r(0x12, &[0x00, 0x03])];
    let r = both!(exp, Bq76952, new, |d| {} enable_autonomous_fets());
    assert!(
        matches!(
            r,
            Err(Error::NeedsAccess {
                device: 0,
                operation: "FET_ENABLE",
                state: "SEALED",
                needs: "UNSEALED"
            })
        ),
        "{r:?}"
    );
}

#[test]
fn cells_are_one_burst_and_mapped_for_reduced_counts() {
    let w = Wire { crc: true };
    let mut raw = vec![];
    for n in 1..=16u16 {
        raw.extend_from_slice(&(3000 + n).to_le_bytes());
    }
    let exp = vec![w.r(0x14, &raw)];
    let mut out = [Reading::NotConverted; 4];
    let exp2 = exp.clone();
    let mut d = Bq769x2::<Bq76952, _>::new_crc(Blocking::new(Mock::new(&exp), NoopDelay::new()));
    d.set_vcell_mode(0x8007).unwrap();
    let r = CellMonitor::read_cell_voltages(&mut d, &mut out);
    d.release().release().0.done();
    assert!(r.unwrap().is_ok());
    let want = [3001, 3002, 3003, 3016].map(|mv| Reading::Valid(MicroVolts(mv * 1000)));
    assert_eq!(out, want);

    let mut d = Bq769x2::<Bq76952, _>::new_crc(Async::new(Mock::new(&exp2), NoopDelay::new()));
    d.set_vcell_mode(0x8007).unwrap();
    let mut out = [Reading::NotConverted; 4];
    let r = block_on(AsyncCellMonitor::read_cell_voltages(&mut d, &mut out));
    d.release().release().0.done();
    assert!(r.unwrap().is_ok());
    assert_eq!(out, want);
}

#[test]
fn a_failed_cell_burst_yields_failed_readings_naming_device_0() {
    let w = Wire { crc: true };
    let _ = w;
    // Every CRC wrong (0x55 is not the CRC of 0x55 in any position).
    let bad = T::write_read(A, vec![0x14], vec![0x55; 64]);
    let exp = vec![bad.clone(), bad.clone(), bad];
    let mut d = Bq769x2::<Bq76952, _>::new_crc(Blocking::new(Mock::new(&exp), NoopDelay::new()));
    let mut out = [Reading::NotConverted; 16];
    let r = CellMonitor::read_cell_voltages(&mut d, &mut out).unwrap();
    d.release().release().0.done();
    assert!(!r.is_ok());
    assert_eq!(r.first_fault.map(|f| f.device), Some(0));
    assert!(out.iter().all(|c| matches!(c, Reading::Failed(_))));
}

#[test]
fn balancing_writes_cb_active_cells_and_reads_back() {
    let w = Wire { crc: false };
    let mut exp = w.sub_write(0x0083, &[0x05, 0x00]);
    exp.extend(w.sub_read(0x0083, &[0x05, 0x00]));
    let r = both!(exp, Bq76952, new, |d| {} set_balancing_cells(0b101));
    assert_eq!(r, Ok(0x0005));
    // Adjacent cells: refused before anything is sent (empty expectation list).
    let r = both!(vec![], Bq76952, new, |d| {} set_balancing_cells(0b110));
    assert!(matches!(r, Err(Error::Config(_))));
}

#[test]
fn stack_and_current_use_da_configuration_units() {
    let w = Wire { crc: false };
    // Default assumption: centivolts and mA. 0x0F3C = 3900 cV = 39.00 V.
    let exp = vec![w.r(0x34, &[0x3C, 0x0F])];
    let r = both!(exp, Bq76952, new, |d| {} read_stack_voltage());
    assert_eq!(r, Ok(MicroVolts(39_000_000)));
    // CC2 −1500 mA.
    let exp = vec![w.r(0x3A, &(-1500i16).to_le_bytes())];
    let r = both!(exp, Bq76952, new, |d| {} read_cc2_current());
    assert_eq!(r, Ok(bms_afe::units::MicroAmps(-1_500_000)));
}

#[test]
fn temperature_from_decikelvin() {
    // 2981 × 0.1 K = 298.1 K = 24.95 °C.
    let w = Wire { crc: true };
    let exp = vec![w.r(0x68, &2981u16.to_le_bytes())];
    let r = both!(exp, Bq76952, new_crc, |d| {} read_internal_temperature());
    assert_eq!(r, Ok(bms_afe::units::MilliCelsius(24_950)));
}

#[test]
fn safety_burst_decodes_alert_and_status() {
    let w = Wire { crc: true };
    let exp = vec![w.r(0x02, &[0x08, 0x08, 0x00, 0x10, 0x00, 0x02])];
    let (alert, status) = both!(exp, Bq76952, new_crc, |d| {} read_safety()).unwrap();
    assert_eq!(alert.a, SafetyA::COV);
    assert_eq!(status.a, SafetyA::COV);
    assert_eq!(status.b, bms_afe::bq769x2::SafetyB::OTC);
    assert_eq!(status.c, bms_afe::bq769x2::SafetyC::HWDF);
}
