//! Behaviour of the bq769x2 driver against the virtual BQ76952, blocking and async: every
//! case is one macro body run twice, blocking (`$w` = `id`, `$t` = `CellMonitor`, `$io` =
//! `Blocking`) and async (`block_on`, `AsyncCellMonitor`, `Async`).
#![cfg(feature = "sim")]

use bms_afe::Error;
use bms_afe::bq769x2::data_memory::{DaConfig, PinFunction, TempPin, UserAmps, UserVolts};
use bms_afe::bq769x2::{
    Bq769x2, Bq76952, Config, FetStatus, Fets, SafetyA, Security, SecurityKeys, SettingsSource,
};
use bms_afe::error::{ErrorKind, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, ConversionMode, Faults, Reading};
use bms_afe::sim::bq769x2::Bq76952Sim;
use bms_afe::sim::{InjectedFault, Sim, VirtualChip};
use bms_afe::units::{MicroAmps, MicroVolts, MilliCelsius};

const UNSEAL: SecurityKeys = SecurityKeys::new(0x0414, 0x3672);
const FULL: SecurityKeys = SecurityKeys::new(0xFFFF, 0xFFFF);

mod common;
use common::{block_on, id, oracle_checksum};

fn four_s() -> Config {
    let mut cfg = Config::new();
    cfg.vcell_mode_reduced(4, 16).unwrap();
    cfg.cov_threshold_mv(4200).unwrap();
    cfg.cuv_threshold_mv(2800).unwrap();
    cfg.enabled_protections_a(SafetyA::SCD | SafetyA::COV | SafetyA::CUV)
        .unwrap();
    cfg.da_configuration(DaConfig::new(UserAmps::Milliamp, UserVolts::Millivolt))
        .unwrap();
    cfg.pin_function(TempPin::Ts1, PinFunction::CellThermistor)
        .unwrap();
    cfg.pin_function(TempPin::Ts3, PinFunction::FetThermistor)
        .unwrap();
    cfg
}

macro_rules! bring_up_crc_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        let info = $w(d.probe()).unwrap();
        assert_eq!(info.device_number, 0x7695);
        assert_eq!(info.matches_variant, Some(true));
        assert_eq!(info.security, Security::Sealed);
        // CONFIG_UPDATE needs FULLACCESS: refused while sealed, nothing written.
        assert_eq!(
            $w(d.configure(&four_s())).unwrap_err().kind(),
            ErrorKind::NeedsAccess
        );
        assert_eq!(sim.with(|m| m.stats().config_sessions), 0);
        assert_eq!($w(d.unseal(UNSEAL)).unwrap(), Security::Unsealed);
        $w(d.full_access(FULL)).unwrap();
        $w(d.configure(&four_s())).unwrap();
        assert_eq!(sim.with(|m| m.stats().config_sessions), 1);
        assert!(!sim.with(|m| m.config_update()));
        assert_eq!(sim.with(|m| m.data_memory(0x9304)), 0x07);
        assert_eq!(sim.with(|m| m.data_memory(0x9305)), 0x80);
        assert_eq!($t::cell_count(&d), 4);
        assert_eq!($t::temperatures_per_device(&d), 3);

        // Cell voltages as set on the virtual chip, within one LSB (1 mV).
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
        let mut stack = [Reading::NotConverted; 1];
        $w(d.measure_stack_voltages(&mut stack)).unwrap();
        // Stack in mV (DA Configuration written above): 15 011.6 mV → 15 011 mV.
        assert_eq!(stack[0], Reading::Valid(MicroVolts(15_011_000)));

        sim.with(|m| m.set_temperature(0, 31_000));
        let mut t = [Reading::NotConverted; 3];
        assert!($w(d.measure_temperatures(&mut t)).unwrap().is_ok());
        for r in t {
            let v = r.valid().unwrap();
            assert!((v.0 - 31_000).abs() <= 100, "{v:?}");
        }
        sim.with(|m| m.set_current(-2_345_000));
        assert_eq!(
            $w($t::read_current(&mut d)).unwrap(),
            Some(MicroAmps(-2_345_000))
        );

        // FETs: factory FET test mode → enable, then allow only CHG.
        assert!(!sim.with(|m| m.fet_enabled()));
        $w(d.enable_autonomous_fets()).unwrap();
        assert!(sim.with(|m| m.fet_enabled()));
        $w(d.set_fets(Fets::CHG)).unwrap();
        assert_eq!(sim.with(|m| m.fet_control()), 0x0B);
        assert_eq!($w(d.read_fet_status()).unwrap(), FetStatus::CHG_FET);
        assert_eq!(d.fet_intent(), Some(Fets::CHG));
        $w(d.set_fets(Fets::CHG | Fets::DSG)).unwrap();
        assert_eq!(
            $w(d.read_fet_status()).unwrap(),
            FetStatus::CHG_FET | FetStatus::DSG_FET
        );

        // Balancing: connected cells 1 and 4 → inputs 1 and 16.
        $w($t::set_balancing(&mut d, &[0b1001])).unwrap();
        assert_eq!(sim.with(|m| m.cb_active_cells()), 0x8001);
        assert_eq!(sim.with(|m| m.balancing(0)), 0b1001);
        let e = $w($t::set_balancing(&mut d, &[0b0110])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!($w($t::set_balancing(&mut d, &[0b1_0000])).is_err());
        $w($t::set_balancing(&mut d, &[0])).unwrap();
        assert_eq!(sim.with(|m| m.balancing(0)), 0);

        // Overvoltage on cell 3: COV, CHG FET off, the fault names cell 3.
        sim.with(|m| m.set_cell_voltage(0, 2, 4_300_000));
        let mut f = [Reading::NotConverted; 1];
        $w(d.read_faults(&mut f)).unwrap();
        let faults: Faults = f[0].valid().unwrap();
        assert_eq!(faults.overvoltage, 0b0100);
        assert_eq!(faults.undervoltage, 0);
        assert!(faults.any());
        assert_eq!($w(d.read_fet_status()).unwrap(), FetStatus::DSG_FET);
        // Undervoltage on cell 1 (CUV enabled by the configuration).
        sim.with(|m| {
            m.set_cell_voltage(0, 2, 3_700_000);
            m.set_cell_voltage(0, 0, 2_500_000);
        });
        $w(d.read_faults(&mut f)).unwrap();
        let faults = f[0].valid().unwrap();
        assert_eq!((faults.overvoltage, faults.undervoltage), (0, 0b0001));

        $w(d.seal()).unwrap();
        assert_eq!($w(d.security()).unwrap(), Security::Sealed);
    }};
}

#[test]
fn bring_up_crc() {
    bring_up_crc_case!(id, CellMonitor, Blocking);
    bring_up_crc_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! bring_up_plain_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new());
        let mut d = Bq769x2::<Bq76952, _>::new($io::new(sim.i2c(), sim.delay()));
        $w(d.probe()).unwrap();
        $w(d.unseal(UNSEAL)).unwrap();
        $w(d.full_access(FULL)).unwrap();
        $w(d.configure(&four_s())).unwrap();
        $w(d.enable_autonomous_fets()).unwrap();
        $w(d.set_fets(Fets::all())).unwrap();
        let mut cells = [Reading::NotConverted; 4];
        assert!(
            $w(d.measure_cells(ConversionMode::Fast, &mut cells))
                .unwrap()
                .is_ok()
        );
        assert!(
            cells
                .iter()
                .all(|c| *c == Reading::Valid(MicroVolts(3_700_000)))
        );
        $w($t::set_balancing(&mut d, &[0b0101])).unwrap();
        assert_eq!(sim.with(|m| m.balancing(0)), 0b0101);
        let t = $w(d.read_internal_temperature()).unwrap();
        assert!((t.0 - 25_000).abs() <= 100);
    }};
}

#[test]
fn bring_up_plain() {
    bring_up_plain_case!(id, CellMonitor, Blocking);
    bring_up_plain_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! wrong_keys_are_refused_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        let e = $w(d.unseal(SecurityKeys::new(0x1111, 0x2222))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Device);
        $w(d.unseal(UNSEAL)).unwrap();
        assert!($w(d.full_access(SecurityKeys::new(1, 2))).is_err());
        sim.with(|m| m.set_keys((1, 2), (3, 4)));
        $w(d.full_access(SecurityKeys::new(3, 4))).unwrap();
    }};
}

#[test]
fn wrong_keys_are_refused() {
    wrong_keys_are_refused_case!(id, CellMonitor, Blocking);
    wrong_keys_are_refused_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! corrupted_frames_are_detected_and_named_in_crc_mode_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        let mut cells = [Reading::NotConverted; 16];
        // Persistent corruption: every retry fails too → Failed readings, device 0, CRC.
        sim.with(|m| {
            m.inject(InjectedFault::CorruptResponses {
                device: 0,
                seed: 7,
                frames: u32::MAX,
            })
        });
        let r = $w(d.read_cell_voltages(&mut cells)).unwrap();
        assert!(!r.is_ok());
        let f = r.first_fault.unwrap();
        assert_eq!(f.device, 0);
        assert!(matches!(f.reason, FaultReason::Crc { .. }));
        assert!(cells.iter().all(|c| matches!(c, Reading::Failed(_))));
        for seed in 1..50 {
            sim.with(|m| {
                m.inject(InjectedFault::CorruptResponses {
                    device: 0,
                    seed,
                    frames: u32::MAX,
                })
            });
            let e = $w(d.read_stack_voltage()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Integrity);
            assert_eq!(e.device(), Some(0));
        }
        // One corrupted frame: the retry recovers.
        sim.with(|m| {
            m.clear_faults();
            m.inject(InjectedFault::CorruptResponses {
                device: 0,
                seed: 3,
                frames: 1,
            })
        });
        assert!($w(d.read_cell_voltages(&mut cells)).unwrap().is_ok());
        assert!(cells.iter().all(|c| c.is_valid()));
    }};
}

#[test]
fn corrupted_frames_are_detected_and_named_in_crc_mode() {
    corrupted_frames_are_detected_and_named_in_crc_mode_case!(id, CellMonitor, Blocking);
    corrupted_frames_are_detected_and_named_in_crc_mode_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! corrupted_subcommand_data_fails_the_checksum_in_plain_mode_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new());
        let mut d = Bq769x2::<Bq76952, _>::new($io::new(sim.i2c(), sim.delay()));
        d.set_retries(0);
        // Corrupt the data read only: let echo and checksum/length reads through by corrupting
        // every frame and checking that the result is never a wrong device number.
        for seed in 1..40 {
            sim.with(|m| {
                m.inject(InjectedFault::CorruptResponses {
                    device: 0,
                    seed,
                    frames: u32::MAX,
                })
            });
            match $w(d.read_device_number()) {
                Ok(n) => panic!("corrupted response accepted: {n:#06x}"),
                Err(e) => assert!(matches!(
                    e.kind(),
                    ErrorKind::Integrity | ErrorKind::Timeout
                )),
            }
        }
        sim.with(|m| m.clear_faults());
        assert_eq!($w(d.read_device_number()).unwrap(), 0x7695);
    }};
}

#[test]
fn corrupted_subcommand_data_fails_the_checksum_in_plain_mode() {
    corrupted_subcommand_data_fails_the_checksum_in_plain_mode_case!(id, CellMonitor, Blocking);
    corrupted_subcommand_data_fails_the_checksum_in_plain_mode_case!(
        block_on,
        AsyncCellMonitor,
        Async
    );
}

macro_rules! silent_chip_is_a_bus_error_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        sim.with(|m| m.inject(InjectedFault::Silent { device: 0 }));
        assert_eq!($w(d.probe()).unwrap_err().kind(), ErrorKind::Bus);
    }};
}

#[test]
fn silent_chip_is_a_bus_error() {
    silent_chip_is_a_bus_error_case!(id, CellMonitor, Blocking);
    silent_chip_is_a_bus_error_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! crc_mismatch_between_host_and_chip_is_nacked_case {
    ($w:ident, $t:ident, $io:ident) => {{
        // Host in CRC mode, chip in plain mode and vice versa: never silently accepted data.
        let sim = Sim::new(Bq76952Sim::new());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        assert!($w(d.read_battery_status()).is_err());
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new($io::new(sim.i2c(), sim.delay()));
        assert_eq!($w(d.subcommand(0x0022)).unwrap_err().kind(), ErrorKind::Bus);
        assert_eq!(sim.with(|m| m.stats().crc_nacks), 1);
    }};
}

#[test]
fn crc_mismatch_between_host_and_chip_is_nacked() {
    crc_mismatch_between_host_and_chip_is_nacked_case!(id, CellMonitor, Blocking);
    crc_mismatch_between_host_and_chip_is_nacked_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! data_memory_is_not_written_outside_config_update_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        $w(d.unseal(UNSEAL)).unwrap();
        $w(d.full_access(FULL)).unwrap();
        $w(d.subcommand_write(0x9261, &[0x8C])).unwrap();
        assert_eq!(sim.with(|m| m.stats().refused_dm_writes), 1);
        let mut b = [0u8; 1];
        $w(d.read_data_memory(0x9261, &mut b)).unwrap();
        assert_eq!(b[0], 0x88);
        // Through configure it lands and is verified.
        let mut cfg = Config::new();
        cfg.enabled_protections_a(SafetyA::from_bits_retain(0x8C))
            .unwrap();
        $w(d.configure(&cfg)).unwrap();
        $w(d.read_data_memory(0x9261, &mut b)).unwrap();
        assert_eq!(b[0], 0x8C);
        // RESET restores the default (E2E-1004250: 0x88) and the driver forgets its units.
        $w(d.reset()).unwrap();
        $w(d.read_data_memory(0x9261, &mut b)).unwrap();
        assert_eq!(b[0], 0x88);
        assert_eq!(
            $w(d.read_da_configuration()).unwrap().user_volts,
            UserVolts::Centivolt
        );
    }};
}

#[test]
fn data_memory_is_not_written_outside_config_update() {
    data_memory_is_not_written_outside_config_update_case!(id, CellMonitor, Blocking);
    data_memory_is_not_written_outside_config_update_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! units_follow_da_configuration_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        $w(d.unseal(UNSEAL)).unwrap();
        $w(d.full_access(FULL)).unwrap();
        sim.with(|m| m.set_current(1_234_500));
        // Default: mA, cV.
        assert_eq!($w(d.read_cc2_current()).unwrap(), MicroAmps(1_234_000));
        assert_eq!($w(d.read_stack_voltage()).unwrap(), MicroVolts(59_200_000));
        let mut cfg = Config::new();
        cfg.da_configuration(DaConfig::new(UserAmps::DeciMilliamp, UserVolts::Millivolt))
            .unwrap();
        // 16 cells in mV would overflow the 16-bit result: refused before anything is sent.
        assert_eq!($w(d.configure(&cfg)).unwrap_err().kind(), ErrorKind::Config);
        assert_eq!(sim.with(|m| m.stats().config_sessions), 0);
        cfg.vcell_mode_reduced(4, 16).unwrap();
        $w(d.configure(&cfg)).unwrap();
        assert_eq!($w(d.read_cc2_current()).unwrap(), MicroAmps(1_234_500));
        assert_eq!($w(d.read_stack_voltage()).unwrap(), MicroVolts(14_800_000));
        assert_eq!($w(d.read_da_configuration()).unwrap(), cfg_da());
    }};
}

#[test]
fn units_follow_da_configuration() {
    units_follow_da_configuration_case!(id, CellMonitor, Blocking);
    units_follow_da_configuration_case!(block_on, AsyncCellMonitor, Async);
}

fn cfg_da() -> DaConfig {
    DaConfig::new(UserAmps::DeciMilliamp, UserVolts::Millivolt)
}

macro_rules! deep_sleep_and_wake_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        $w(d.unseal(UNSEAL)).unwrap();
        $w(d.deep_sleep()).unwrap();
        assert!(!sim.with(|m| m.is_awake()));
        $w(d.wake()).unwrap();
        assert!(sim.with(|m| m.is_awake()));
        sim.with(|m| m.sleep());
        let mut cells = [Reading::NotConverted; 16];
        $w(d.wake()).unwrap();
        assert!($w(d.read_cell_voltages(&mut cells)).unwrap().is_ok());
    }};
}

#[test]
fn deep_sleep_and_wake() {
    deep_sleep_and_wake_case!(id, CellMonitor, Blocking);
    deep_sleep_and_wake_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! open_wire_shows_in_the_readings_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        sim.with(|m| m.inject(InjectedFault::OpenWire { device: 0, wire: 5 }));
        let mut cells = [Reading::NotConverted; 16];
        $w(d.read_cell_voltages(&mut cells)).unwrap();
        assert_eq!(cells[4], Reading::Valid(MicroVolts(0)));
        assert_eq!(cells[5], Reading::Valid(MicroVolts(7_400_000)));
    }};
}

#[test]
fn open_wire_shows_in_the_readings() {
    open_wire_shows_in_the_readings_case!(id, CellMonitor, Blocking);
    open_wire_shows_in_the_readings_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! slice_lengths_are_checked_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        let mut cells = [Reading::NotConverted; 3];
        assert_eq!(
            $w(d.read_cell_voltages(&mut cells)).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        let mut t: [Reading<MilliCelsius>; 0] = [];
        assert!($w(d.measure_temperatures(&mut t)).is_err());
        assert!($w($t::set_balancing(&mut d, &[0, 0])).is_err());
        assert!(matches!($w(d.read_cell_voltage(17)), Err(Error::Config(_))));
    }};
}

#[test]
fn slice_lengths_are_checked() {
    slice_lengths_are_checked_case!(id, CellMonitor, Blocking);
    slice_lengths_are_checked_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! a_transfer_with_a_bad_checksum_or_length_is_not_committed_case {
    ($w:ident, $t:ident, $io:ident) => {{
        use bms_afe::bq769x2::frame;
        use embedded_hal::i2c::I2c;
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        $w(d.unseal(UNSEAL)).unwrap();
        let mut bus = sim.i2c();
        let mut send = |reg: u8, data: &[u8]| {
            let mut buf = [0u8; frame::MAX_WRITE];
            let n = frame::encode_write(true, 0x08, reg, data, &mut buf).unwrap();
            bus.write(0x08, &buf[..n]).unwrap();
        };
        // FET_CONTROL ← 0x0F: the right checksum is !(0x97 + 0x00 + 0x0F) = 0x59.
        send(0x3E, &[0x97, 0x00]);
        send(0x40, &[0x0F]);
        send(0x60, &[0x58, 0x05]);
        assert_eq!(
            sim.with(|m| (m.fet_control(), m.stats().bad_transfers)),
            (0, 1)
        );
        send(0x3E, &[0x97, 0x00]);
        send(0x40, &[0x0F]);
        send(0x60, &[0x59, 0x04]); // length says no data: checksum no longer matches
        assert_eq!(
            sim.with(|m| (m.fet_control(), m.stats().bad_transfers)),
            (0, 2)
        );
        send(0x3E, &[0x97, 0x00]);
        send(0x40, &[0x0F]);
        send(0x60, &[0x59, 0x30]); // impossible length
        assert_eq!(
            sim.with(|m| (m.fet_control(), m.stats().bad_transfers)),
            (0, 3)
        );
        send(0x3E, &[0x97, 0x00]);
        send(0x40, &[0x0F]);
        send(0x60, &[0x59, 0x05]);
        assert_eq!(sim.with(|m| m.fet_control()), 0x0F);
    }};
}

#[test]
fn a_transfer_with_a_bad_checksum_or_length_is_not_committed() {
    a_transfer_with_a_bad_checksum_or_length_is_not_committed_case!(id, CellMonitor, Blocking);
    a_transfer_with_a_bad_checksum_or_length_is_not_committed_case!(
        block_on,
        AsyncCellMonitor,
        Async
    );
}

macro_rules! a_balancing_request_the_chip_refuses_is_a_verify_error_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        $w(d.unseal(UNSEAL)).unwrap();
        $w(d.full_access(FULL)).unwrap();
        // The chip is told Max Cells = 1 behind the driver's back (raw entry).
        let mut cfg = Config::new();
        cfg.raw(0x933A, &[1], "Cell Balance Max Cells").unwrap();
        $w(d.configure(&cfg)).unwrap();
        let e = $w(d.set_balancing_cells(0b101)).unwrap_err();
        match e {
            Error::Verify(v) => {
                assert_eq!(v.register, "CB_ACTIVE_CELLS");
                assert_eq!((v.expected, v.actual), (0x05, 0x00));
            }
            other => panic!("{other:?}"),
        }
        // Told through the typed setter, the driver refuses before sending.
        let mut cfg = Config::new();
        cfg.balancing_max_cells(1).unwrap();
        $w(d.configure(&cfg)).unwrap();
        assert_eq!(
            $w(d.set_balancing_cells(0b101)).unwrap_err().kind(),
            ErrorKind::Config
        );
        $w(d.set_balancing_cells(0b100)).unwrap();
        assert_eq!(sim.with(|m| m.balancing(0)), 0b100);
    }};
}

#[test]
fn a_balancing_request_the_chip_refuses_is_a_verify_error() {
    a_balancing_request_the_chip_refuses_is_a_verify_error_case!(id, CellMonitor, Blocking);
    a_balancing_request_the_chip_refuses_is_a_verify_error_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! corruption_is_detected_and_sealed_reads_are_device_errors_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new_crc());
        let mut d = Bq769x2::<Bq76952, _>::new_crc($io::new(sim.i2c(), sim.delay()));
        // Data memory is not readable while SEALED: an intact but short answer.
        let mut b = [0u8; 1];
        let e = $w(d.read_data_memory(0x9261, &mut b)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NeedsAccess);
        sim.with(|m| {
            m.inject(InjectedFault::CorruptResponses {
                device: 0,
                seed: 11,
                frames: u32::MAX,
            })
        });
        let mut cells = [Reading::NotConverted; 16];
        let r = $w($t::read_cell_voltages(&mut d, &mut cells)).unwrap();
        assert_eq!(r.first_fault.map(|f| f.device), Some(0));
        assert!(cells.iter().all(|c| matches!(c, Reading::Failed(_))));
        let mut f = [Reading::NotConverted; 1];
        let r = $w($t::read_faults(&mut d, &mut f)).unwrap();
        assert!(!r.is_ok());
        assert!(matches!(f[0], Reading::Failed(_)));
        sim.with(|m| m.clear_faults());
        assert!(
            $w($t::read_cell_voltages(&mut d, &mut cells))
                .unwrap()
                .is_ok()
        );
    }};
}

#[test]
fn corruption_is_detected_and_sealed_reads_are_device_errors() {
    corruption_is_detected_and_sealed_reads_are_device_errors_case!(id, CellMonitor, Blocking);
    corruption_is_detected_and_sealed_reads_are_device_errors_case!(
        block_on,
        AsyncCellMonitor,
        Async
    );
}

#[test]
fn the_model_advances_the_buffer_on_a_0x61_read_so_only_data_first_verifies() {
    // The virtual chip applies the BQ7690x rule "reading 0x61 advances 0x3E/0x3F by 0x20 and
    // refills the buffer" (BQ76907 TRM SLUUCJ0 §3.1). Raw plain-mode I2C, no driver.
    use embedded_hal::delay::DelayNs;
    use embedded_hal::i2c::I2c;
    let sim = Sim::new(Bq76952Sim::new());
    let mut bus = sim.i2c();
    let mut delay = sim.delay();

    // Old order (checksum and length first, then data): the data is the next block's.
    bus.write(0x08, &[0x3E, 0x01, 0x00]).unwrap(); // DEVICE_NUMBER
    delay.delay_ms(1);
    let mut cl = [0u8; 2];
    bus.write_read(0x08, &[0x60], &mut cl).unwrap();
    let mut data = [0u8; 2];
    bus.write_read(0x08, &[0x40], &mut data).unwrap();
    assert_eq!(cl[1], 6);
    assert_ne!(
        oracle_checksum(0x0001, &data),
        cl[0],
        "old order must not verify"
    );
    let mut echo = [0u8; 2];
    bus.write_read(0x08, &[0x3E], &mut echo).unwrap();
    assert_eq!(
        u16::from_le_bytes(echo),
        0x0021,
        "0x3E/0x3F advanced by 0x20"
    );

    // Data first, then checksum and length: verifies.
    bus.write(0x08, &[0x3E, 0x01, 0x00]).unwrap();
    delay.delay_ms(1);
    bus.write_read(0x08, &[0x40], &mut data).unwrap();
    bus.write_read(0x08, &[0x60], &mut cl).unwrap();
    assert_eq!((oracle_checksum(0x0001, &data), 6), (cl[0], cl[1]));

    // Data memory: after 0x61 the buffer holds the block at address + 0x20.
    let sim = Sim::new(Bq76952Sim::new());
    sim.with(|m| m.set_security(2));
    let mut bus = sim.i2c();
    let mut delay = sim.delay();
    bus.write(0x08, &[0x3E, 0x61, 0x92]).unwrap(); // Enabled Protections A block
    delay.delay_ms(1);
    let mut block = [0u8; 32];
    bus.write_read(0x08, &[0x40], &mut block).unwrap();
    bus.write_read(0x08, &[0x60], &mut cl).unwrap();
    assert_eq!(block[0], 0x88); // factory default SCD | COV (E2E-1004250)
    assert_eq!((oracle_checksum(0x9261, &block), 0x24), (cl[0], cl[1]));
    let mut next = [0u8; 32];
    bus.write_read(0x08, &[0x40], &mut next).unwrap();
    bus.write_read(0x08, &[0x60], &mut cl).unwrap();
    assert_eq!((oracle_checksum(0x9281, &next), 0x24), (cl[0], cl[1]));
    assert_eq!(
        sim.with(|m| m.data_memory(0x9281)),
        next[0],
        "next block starts at 0x9281"
    );
}

/// A chip whose data memory was programmed earlier (as OTP would be): 4 cells on inputs
/// 1, 2, 3, 16 (Vcell Mode 0x8007) and DA Configuration 0.1 mA / mV (0x00).
fn programmed_chip(sim: &Sim<Bq76952Sim>) {
    let mut d = Bq769x2::<Bq76952, _>::new(Blocking::new(sim.i2c(), sim.delay()));
    d.unseal(UNSEAL).unwrap();
    d.full_access(FULL).unwrap();
    let mut cfg = Config::new();
    cfg.vcell_mode_mask(0x8007).unwrap();
    cfg.da_configuration(DaConfig::new(UserAmps::DeciMilliamp, UserVolts::Millivolt))
        .unwrap();
    d.configure(&cfg).unwrap();
    assert_eq!(sim.with(|m| m.data_memory(0x9303)), 0x00);
    assert_eq!(sim.with(|m| m.data_memory(0x9304)), 0x07);
    assert_eq!(sim.with(|m| m.data_memory(0x9305)), 0x80);
}

macro_rules! probe_learns_units_and_cell_map_from_an_unsealed_chip_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new());
        programmed_chip(&sim);
        sim.with(|m| m.set_security(2)); // UNSEALED
        for (k, mv) in [3_601, 3_702, 3_803, 3_904].iter().enumerate() {
            sim.with(|m| m.set_cell_voltage(0, k, mv * 1000));
        }
        sim.with(|m| m.set_current(-1_234_500));

        // A fresh driver (e.g. after a host reboot) that was told nothing.
        let mut d = Bq769x2::<Bq76952, _>::new($io::new(sim.i2c(), sim.delay()));
        let info = $w(d.probe()).unwrap();
        assert_eq!(info.settings, SettingsSource::Device);
        assert_eq!(info.vcell_mode, 0x8007);
        assert_eq!(info.da_config, cfg_da());
        // Mapped with the chip's Vcell Mode: 4 cells, the 4th on input 16.
        assert_eq!($t::cell_count(&d), 4);
        let mut cells = [Reading::NotConverted; 4];
        assert!(
            $w($t::read_cell_voltages(&mut d, &mut cells))
                .unwrap()
                .is_ok()
        );
        assert_eq!(
            cells,
            [3_601, 3_702, 3_803, 3_904].map(|mv| Reading::Valid(MicroVolts(mv * 1000)))
        );
        // Scaled with the chip's units: 0.1 mA and mV (assumed defaults would say mA and cV,
        // i.e. a current 10 × too large and a stack 10 × too large).
        assert_eq!($w(d.read_cc2_current()).unwrap(), MicroAmps(-1_234_500));
        assert_eq!($w(d.read_stack_voltage()).unwrap(), MicroVolts(15_010_000));
    }};
}

#[test]
fn probe_learns_units_and_cell_map_from_an_unsealed_chip() {
    probe_learns_units_and_cell_map_from_an_unsealed_chip_case!(id, CellMonitor, Blocking);
    probe_learns_units_and_cell_map_from_an_unsealed_chip_case!(block_on, AsyncCellMonitor, Async);
}

macro_rules! probe_of_a_sealed_chip_reports_assumed_settings_case {
    ($w:ident, $t:ident, $io:ident) => {{
        let sim = Sim::new(Bq76952Sim::new());
        programmed_chip(&sim);
        sim.with(|m| m.set_security(3)); // SEALED: data memory not readable
        let mut d = Bq769x2::<Bq76952, _>::new($io::new(sim.i2c(), sim.delay()));
        let info = $w(d.probe()).unwrap();
        assert_eq!(info.settings, SettingsSource::Assumed);
        assert_eq!(info.da_config, DaConfig::ASSUMED_DEFAULT);
        assert_eq!(info.vcell_mode, 0);
        assert_eq!($t::cell_count(&d), 16);
        // After unsealing, the settings can be read and adopted.
        $w(d.unseal(UNSEAL)).unwrap();
        assert_eq!($w(d.read_units_and_cell_map()).unwrap(), (cfg_da(), 0x8007));
        assert_eq!($t::cell_count(&d), 4);
        // A sealed read is refused by the chip, not guessed: nothing adopted.
        $w(d.seal()).unwrap();
        d.set_vcell_mode(0).unwrap();
        assert!($w(d.read_units_and_cell_map()).is_err());
        assert_eq!(d.vcell_mode(), 0);
    }};
}

#[test]
fn probe_of_a_sealed_chip_reports_assumed_settings() {
    probe_of_a_sealed_chip_reports_assumed_settings_case!(id, CellMonitor, Blocking);
    probe_of_a_sealed_chip_reports_assumed_settings_case!(block_on, AsyncCellMonitor, Async);
}
