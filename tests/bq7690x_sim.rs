//! Behaviour of the BQ7690x variants (BQ76905, BQ76907) of the bq769x2 driver against the
//! virtual BQ7690x, blocking and async: every case is one macro body run twice, blocking
//! (`$w` = `id`, `$t` = `CellMonitor`, `$io` = `Blocking`) and async (`block_on`,
//! `AsyncCellMonitor`, `Async`).
//!
//! Keys: SLUUCJ0 (BQ76907 TRM) §12.5.1.2–12.5.1.3, default Full Access Key Step 1 = 0x0414,
//! Step 2 = 0x3672; SEALED ↔ FULLACCESS only.
#![cfg(feature = "sim")]

use bms_afe::Error;
use bms_afe::bq769x2::{Bq769x2, Bq76905, Bq76907, Config, Security, SecurityKeys, SettingsSource};
use bms_afe::error::{ErrorKind, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, ConversionMode, Faults, Reading};
use bms_afe::sim::bq769x2::Bq76952Sim;
use bms_afe::sim::{InjectedFault, Sim, VirtualChip};
use bms_afe::units::{MicroAmps, MicroVolts, MilliCelsius};

const FULL: SecurityKeys = SecurityKeys::new(0x0414, 0x3672);

mod common;
use common::{block_on, id};

macro_rules! bq76907_bring_up_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_bq76907(true));
        let mut d = Bq769x2::<Bq76907, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        let info = $w(d.probe()).unwrap();
        assert_eq!(info.security, Security::Sealed);
        assert_eq!(info.settings, SettingsSource::Assumed);
        assert_eq!($t::cell_count(&d), 7);
        assert_eq!($t::temperatures_per_device(&d), 1);

        let mut cfg = Config::new_bq7690x();
        cfg.bq7690x_vcell_cells(4).unwrap();
        cfg.bq7690x_enabled_protections_a(0xE1).unwrap();
        // Sealed: CONFIG_UPDATE and data-memory reads need FULLACCESS (no UNSEALED level).
        let e = $w(d.configure(&cfg)).unwrap_err();
        assert!(
            matches!(
                e,
                Error::NeedsAccess {
                    needs: "FULLACCESS",
                    ..
                }
            ),
            "{e:?}"
        );
        let mut b = [0u8; 1];
        let e = $w(d.read_data_memory(0x9024, &mut b)).unwrap_err();
        assert!(
            matches!(
                e,
                Error::NeedsAccess {
                    needs: "FULLACCESS",
                    state: "SEALED",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(sim.with(|m| m.stats().config_sessions), 0);

        // One step from SEALED to FULLACCESS.
        $w(d.full_access(FULL)).unwrap();
        assert_eq!(sim.with(|m| m.security()), 1);
        $w(d.configure(&cfg)).unwrap();
        assert_eq!(sim.with(|m| m.stats().config_sessions), 1);
        assert!(!sim.with(|m| m.config_update()));
        assert_eq!(sim.with(|m| m.data_memory(0x901B)), 4);
        assert_eq!(sim.with(|m| m.data_memory(0x9024)), 0xE1);
        assert_eq!($t::cell_count(&d), 4);
        assert_eq!(d.connected_inputs(), 0b101_0101);

        for (k, mv) in [3_601, 3_702, 3_803, 3_904].iter().enumerate() {
            sim.with(|m| m.set_cell_voltage(0, k, mv * 1000 + 400));
        }
        let mut cells = [Reading::NotConverted; 4];
        assert!(
            $w(d.measure_cells(ConversionMode::Normal, &mut cells))
                .unwrap()
                .is_ok()
        );
        assert_eq!(
            cells,
            [3_601, 3_702, 3_803, 3_904].map(|mv| Reading::Valid(MicroVolts(mv * 1000)))
        );
        // The unused inputs 2, 4, 6 are not reported; the stack is the 4 cells in mV.
        let mut stack = [Reading::NotConverted; 1];
        assert!($w(d.measure_stack_voltages(&mut stack)).unwrap().is_ok());
        assert_eq!(stack, [Reading::Valid(MicroVolts(15_011_000))]);

        sim.with(|m| m.set_temperature(0, -5_400));
        let mut t = [Reading::NotConverted; 1];
        assert!($w(d.measure_temperatures(&mut t)).unwrap().is_ok());
        assert_eq!(t, [Reading::Valid(MilliCelsius(-6_000))]);

        sim.with(|m| m.set_current(-1_234_000));
        assert_eq!($w(d.read_current()).unwrap(), Some(MicroAmps(-1_234_000)));

        $w(d.set_balancing(&[0b0101])).unwrap();
        assert_eq!(sim.with(|m| m.balancing(0)), 0b0101);
        assert_eq!(sim.with(|m| m.cb_active_cells()), 0b001_0001);
        assert!($w(d.set_balancing(&[0b0011])).is_err());

        // The Safety Status bits are reported raw (layout not decoded on these parts).
        let mut f = [Reading::NotConverted; 1];
        assert!($w(d.read_faults(&mut f)).unwrap().is_ok());
        assert_eq!(f, [Reading::Valid(Faults::default())]);

        // A probe now (FULLACCESS) reads the Vcell Mode code back from data memory.
        d.set_vcell_mode(0).unwrap();
        let info = $w(d.probe()).unwrap();
        assert_eq!(info.settings, SettingsSource::Device);
        assert_eq!(info.vcell_mode, 0b101_0101);

        $w(d.seal()).unwrap();
        assert_eq!($w(d.security()).unwrap(), Security::Sealed);
    }};
}

#[test]
fn bq76907_bring_up() {
    bq76907_bring_up_case!(id, CellMonitor, Blocking);
    bq76907_bring_up_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! bq76905_probe_and_measure_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_bq76905(false));
        let mut d = Bq769x2::<Bq76905, _>::new($io::new(sim.i2c(), sim.delay()));
        let info = $w(d.probe()).unwrap();
        assert_eq!(info.device_number, 0x7605);
        assert_eq!(info.matches_variant, Some(true));
        assert_eq!($t::cell_count(&d), 5);
        for k in 0..5 {
            sim.with(|m| m.set_cell_voltage(0, k, 3_000_000 + 100_000 * k as i32));
        }
        let mut cells = [Reading::NotConverted; 5];
        assert!(
            $w(d.measure_cells(ConversionMode::Normal, &mut cells))
                .unwrap()
                .is_ok()
        );
        for (k, c) in cells.iter().enumerate() {
            assert_eq!(
                *c,
                Reading::Valid(MicroVolts(3_000_000 + 100_000 * k as i32))
            );
        }
        // The unseal keys of a bq769x2 are not the BQ7690x keys: refused, still sealed.
        let e = $w(d.unseal(SecurityKeys::new(0xFFFF, 0xFFFF))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Device);
        assert_eq!($w(d.unseal(FULL)).unwrap(), Security::FullAccess);
        // A BQ76905 Vcell Mode code other than 0 is not guessed.
        let mut cfg = Config::new_bq7690x();
        cfg.bq7690x_vcell_cells(3).unwrap();
        assert!($w(d.configure(&cfg)).is_err());
        assert_eq!(sim.with(|m| m.stats().config_sessions), 0);
    }};
}

#[test]
fn bq76905_probe_and_measure() {
    bq76905_probe_and_measure_case!(id, CellMonitor, Blocking);
    bq76905_probe_and_measure_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! corruption_and_silence_are_detected_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_bq76907(true));
        let mut d = Bq769x2::<Bq76907, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        sim.with(|m| {
            m.inject(InjectedFault::CorruptResponses {
                device: 0,
                seed: 7,
                frames: u32::MAX,
            })
        });
        let mut cells = [Reading::Valid(MicroVolts(1)); 7];
        let r = $w(d.read_cell_voltages(&mut cells)).unwrap();
        assert!(!r.is_ok());
        for c in cells {
            assert!(
                matches!(c, Reading::Failed(f) if f.device == 0
                    && matches!(f.reason, FaultReason::Crc { .. })),
                "{c:?}"
            );
        }
        let mut t = [Reading::Valid(MilliCelsius(1)); 1];
        assert!(!$w(d.measure_temperatures(&mut t)).unwrap().is_ok());
        assert!(matches!(t[0], Reading::Failed(_)));
        assert_eq!($w(d.read_current()).unwrap_err().kind(), ErrorKind::Integrity);
        assert_eq!($w(d.read_stack_voltage()).unwrap_err().kind(), ErrorKind::Integrity);
        // Subcommand data: the checksum catches what the CRC lets through, or the CRC does.
        assert_eq!($w(d.read_device_number()).unwrap_err().kind(), ErrorKind::Integrity);

        sim.with(|m| m.clear_faults());
        assert!($w(d.read_cell_voltages(&mut cells)).unwrap().is_ok());
        assert_eq!(cells[0], Reading::Valid(MicroVolts(3_700_000)));

        sim.with(|m| m.inject(InjectedFault::Silent { device: 0 }));
        assert_eq!($w(d.read_cell_voltages(&mut cells)).unwrap_err().kind(), ErrorKind::Bus);
    }};
}

#[test]
fn corruption_and_silence_are_detected() {
    corruption_and_silence_are_detected_case!(id, CellMonitor, Blocking);
    corruption_and_silence_are_detected_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! open_wire_shows_in_the_readings_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_bq76907(true));
        let mut d = Bq769x2::<Bq76907, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        sim.with(|m| m.inject(InjectedFault::OpenWire { device: 0, wire: 3 }));
        let mut cells = [Reading::NotConverted; 7];
        assert!(
            $w(d.measure_cells(ConversionMode::Normal, &mut cells))
                .unwrap()
                .is_ok()
        );
        assert_eq!(cells[2], Reading::Valid(MicroVolts(0)));
        assert_eq!(cells[3], Reading::Valid(MicroVolts(7_400_000)));
        assert_eq!(cells[4], Reading::Valid(MicroVolts(3_700_000)));
    }};
}

#[test]
fn open_wire_shows_in_the_readings() {
    open_wire_shows_in_the_readings_case!(id, CellMonitor, Blocking);
    open_wire_shows_in_the_readings_case!(block_on, AsyncCellMonitor, Async);
}
