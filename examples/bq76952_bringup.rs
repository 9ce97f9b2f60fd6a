//! BQ76952 board bring-up, step by step: probe, unseal, configure, enable FETs, measure,
//! balance.
//!
//! ```text
//! cargo run --example bq76952_bringup --all-features            # virtual BQ76952
//! cargo run --example bq76952_bringup --all-features -- --i2c /dev/i2c-1 [--crc]
//!     [--cells N] [--unseal K1:K2] [--full K1:K2] [--write]
//! ```
//!
//! On hardware the example only reads unless `--write` is given: configuring data memory,
//! switching FETs and balancing change the pack's state. Keys are hex words (defaults
//! 0414:3672 and ffff:ffff, the TI defaults reported on E2E — check your OTP image).
//! Read-only, the cell map and units are the chip's own (DA Configuration and Vcell Mode,
//! read once unsealed); `--cells N` then overrides the cell map for the run.

use std::process::ExitCode;

use bms_afe::bq769x2::data_memory::{DaConfig, PinFunction, TempPin, UserAmps, UserVolts};
use bms_afe::bq769x2::{Bq769x2, Bq76952, Config, Fets, SafetyA, Security, SecurityKeys};
use bms_afe::io::Blocking;
use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
use bms_afe::units::MicroVolts;
use bms_afe::{Error, ErrorKind};
use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;

struct Options {
    cells: u8,
    cells_given: Option<u8>,
    unseal: SecurityKeys,
    full: SecurityKeys,
    write: bool,
    simulated: bool,
}

/// What to check on the board when a step fails.
fn hint<E: core::fmt::Debug>(step: &str, e: &Error<E>) -> &'static str {
    match (step, e.kind()) {
        (_, ErrorKind::Bus) => {
            "no ACK: check SDA/SCL wiring and pull-ups, the 7-bit address (0x08 by default), \
             that REG1 powers the I2C pull-ups, that the chip is not in SHUTDOWN (pull TS2 low \
             to wake it), and that --crc matches the chip's Comm Type"
        }
        (_, ErrorKind::Integrity) => {
            "CRC/checksum failures: check signal integrity (pull-up strength, bus length, \
             ground), bus speed (≤ 400 kHz), and that --crc matches the chip's Comm Type"
        }
        ("unseal", _) | ("full access", _) => {
            "keys not accepted: check Security:Keys in the OTP image (pass --unseal/--full)"
        }
        ("configure", ErrorKind::Verify) => {
            "a setting read back differently: the device may be sealed or OTP-locked"
        }
        (_, ErrorKind::Timeout) => {
            "the chip did not answer in time: check that it is awake and not held in reset"
        }
        ("FETs", _) => "FET_EN did not set: the device may be sealed or in permanent fail",
        _ => "see the error above",
    }
}

fn step<T, E: core::fmt::Debug>(name: &str, r: Result<T, Error<E>>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            println!("  FAILED {name}: {e}");
            println!("         check: {}", hint(name, &e));
            None
        }
    }
}

fn bring_up<B: I2c, D: DelayNs>(
    d: &mut Bq769x2<Bq76952, Blocking<B, D>>,
    o: &Options,
) -> Option<()> {
    println!("1. probe");
    let info = step("probe", d.probe())?;
    println!(
        "   DEVICE_NUMBER {:#06x} ({}), security {}",
        info.device_number,
        match info.matches_variant {
            Some(true) => "BQ76952 as expected (0x7695 is not confirmed by a TI document)",
            Some(false) => "NOT 0x7695: is this another bq769x2 variant?",
            None => "unknown variant",
        },
        info.security
    );
    println!(
        "   units: {}; Vcell Mode {:#06x} ({})",
        info.da_config, info.vcell_mode, info.settings
    );
    if let Some(fw) = step("FW_VERSION", d.read_fw_version()) {
        println!("   FW_VERSION bytes {fw:02x?}");
    }

    println!("2. unseal and full access");
    if info.security == Security::Sealed {
        step("unseal", d.unseal(o.unseal))?;
    }
    step("full access", d.full_access(o.full))?;
    match d.security() {
        Ok(s) => println!("   security {s}"),
        Err(e) => println!("   security unknown ({e})"),
    }

    if o.write {
        println!("3. configure (one CONFIG_UPDATE session, every setting read back)");
        let mut cfg = Config::new();
        let mut ok = true;
        let mut show = |what: &str, r: Result<String, bms_afe::ConfigError>| match r {
            Ok(v) => println!("   {what:<22} {v}"),
            Err(e) => {
                println!("   {what:<22} rejected: {e}");
                ok = false;
            }
        };
        show(
            "cells (Vcell Mode)",
            cfg.vcell_mode_reduced(o.cells, 16)
                .map(|m| format!("{m:#06x}")),
        );
        show(
            "COV threshold",
            cfg.cov_threshold_mv(4200).map(|v| v.to_string()),
        );
        show(
            "CUV threshold",
            cfg.cuv_threshold_mv(2800).map(|v| v.to_string()),
        );
        show(
            "OCD1 threshold",
            cfg.ocd1_threshold_mv(40).map(|v| format!("{v} mV")),
        );
        show(
            "SCD threshold",
            cfg.scd_threshold_mv(100).map(|v| format!("{v} mV")),
        );
        show(
            "Enabled Protections A",
            cfg.enabled_protections_a(SafetyA::SCD | SafetyA::OCD1 | SafetyA::COV | SafetyA::CUV)
                .map(|p| p.to_string()),
        );
        let volts = if o.cells > 7 {
            UserVolts::Centivolt
        } else {
            UserVolts::Millivolt
        };
        show(
            "DA Configuration",
            cfg.da_configuration(DaConfig::new(UserAmps::Milliamp, volts))
                .map(|da| da.to_string()),
        );
        show(
            "TS1",
            cfg.pin_function(TempPin::Ts1, PinFunction::CellThermistor)
                .map(|_| "cell thermistor".into()),
        );
        if !ok {
            return None;
        }
        step("configure", d.configure(&cfg))?;
        println!("   written and verified: {} settings", cfg.len());

        println!("4. FETs");
        let st = step("FETs", d.enable_autonomous_fets())?;
        println!("   Manufacturing Status {st}");
        step("FETs", d.set_fets(Fets::CHG | Fets::DSG))?;
        let allowed = d.fet_intent().map_or("none".to_string(), |f| f.to_string());
        match d.read_fet_status() {
            Ok(st) => println!("   allowed {allowed}, FET Status {st}"),
            Err(e) => println!("   allowed {allowed}, FET Status unreadable ({e})"),
        }
    } else {
        println!("3./4. configure and FETs skipped (read-only; pass --write to change the chip)");
        // Units and cell map as programmed in the chip (readable now that it is unsealed).
        let (da, vcell) = step("DA Configuration / Vcell Mode", d.read_units_and_cell_map())?;
        println!(
            "   units: {da}; Vcell Mode {vcell:#06x}: {} cells",
            d.cell_count()
        );
        if let Some(cells) = o.cells_given {
            // --cells overrides the chip's map for this run (inputs 1..N−1 and 16), without
            // writing the chip.
            let m = ((1u32 << (cells - 1)) - 1) | 1 << 15;
            step(
                "--cells",
                d.set_vcell_mode(m as u16).map_err(Error::<()>::Config),
            )?;
            if m as u16 != vcell {
                println!("   --cells {cells}: mapping as {m:#06x}, NOT as the chip's Vcell Mode");
            }
        }
    }

    println!("5. measure");
    let mut cells = vec![Reading::NotConverted; d.cell_count()];
    step("cells", d.measure_cells(ConversionMode::Normal, &mut cells))?;
    for (i, c) in cells.iter().enumerate() {
        match c {
            Reading::Valid(v) => println!("   cell {:>2}: {v}", i + 1),
            other => println!("   cell {:>2}: {other}", i + 1),
        }
    }
    let valid: Vec<MicroVolts> = cells.iter().filter_map(|c| c.valid()).collect();
    if let (Some(lo), Some(hi)) = (valid.iter().min(), valid.iter().max()) {
        println!("   spread {}", hi.saturating_sub(*lo));
    }
    let mut stack = [Reading::NotConverted];
    step("stack", d.measure_stack_voltages(&mut stack))?;
    match stack[0] {
        Reading::Valid(v) => println!("   stack {v}"),
        other => println!("   stack {other}"),
    }
    if let Some(i) = step("current", d.read_current())? {
        println!("   current {i}");
    }
    let mut temps = vec![Reading::NotConverted; d.temperatures_per_device()];
    step("temperatures", d.measure_temperatures(&mut temps))?;
    for (i, t) in temps.iter().enumerate() {
        let name = if i == 0 { "die" } else { "TS" };
        println!(
            "   {name:>3}: {}",
            t.valid().map_or("failed".into(), |v| v.to_string())
        );
    }
    let mut faults = [Reading::NotConverted];
    step("faults", d.read_faults(&mut faults))?;
    match faults[0] {
        Reading::Valid(f) if f.any() => println!("   faults: {f}"),
        Reading::Valid(_) => println!("   faults: none"),
        other => println!("   faults: {other}"),
    }

    if o.write {
        println!("6. balance the highest cell (adjacent cells are refused by the driver)");
        if let Some((k, _)) = valid.iter().enumerate().max_by_key(|(_, v)| **v) {
            let mask = 1u32 << k;
            step("balancing", d.set_balancing(&[mask]))?;
            println!(
                "   CB_ACTIVE_CELLS {:#06x}",
                d.read_cb_active_cells().unwrap_or(0)
            );
            if k + 1 < valid.len() {
                let adj = d.set_balancing(&[mask | mask << 1]);
                println!("   adjacent request refused: {}", adj.is_err());
            }
            step("balancing", d.set_balancing(&[0]))?;
        }
    }
    Some(())
}

fn parse_keys(s: &str) -> Option<SecurityKeys> {
    let (a, b) = s.split_once(':')?;
    Some(SecurityKeys::new(
        u16::from_str_radix(a, 16).ok()?,
        u16::from_str_radix(b, 16).ok()?,
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let mut o = Options {
        cells: value("--cells").and_then(|c| c.parse().ok()).unwrap_or(16),
        cells_given: value("--cells").and_then(|c| c.parse().ok()),
        unseal: SecurityKeys::new(0x0414, 0x3672),
        full: SecurityKeys::new(0xFFFF, 0xFFFF),
        write: args.iter().any(|a| a == "--write"),
        simulated: true,
    };
    if !(3..=16).contains(&o.cells) {
        eprintln!("--cells must be 3..=16");
        return ExitCode::FAILURE;
    }
    for (flag, slot) in [("--unseal", &mut o.unseal), ("--full", &mut o.full)] {
        if let Some(v) = value(flag) {
            match parse_keys(&v) {
                Some(k) => *slot = k,
                None => {
                    eprintln!("{flag} expects two hex words, e.g. 0414:3672");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let crc = args.iter().any(|a| a == "--crc");

    let ok = match value("--i2c") {
        Some(path) => hardware(&path, crc, &mut o),
        None => simulated(&mut o),
    };
    if ok {
        println!("bring-up OK");
        ExitCode::SUCCESS
    } else {
        println!("bring-up FAILED");
        ExitCode::FAILURE
    }
}

#[cfg(not(feature = "sim"))]
fn simulated(_o: &mut Options) -> bool {
    println!(
        "the virtual BQ76952 needs the `sim` feature: cargo run --example bq76952_bringup --all-features"
    );
    false
}

#[cfg(feature = "sim")]
fn simulated(o: &mut Options) -> bool {
    use bms_afe::sim::bq769x2::Bq76952Sim;
    use bms_afe::sim::{InjectedFault, Sim, VirtualChip};

    println!(
        "virtual BQ76952 (I2C CRC mode), {} cells; use --i2c /dev/i2c-1 for a board\n",
        o.cells
    );
    o.write = true;
    o.simulated = true;
    let sim = Sim::new(Bq76952Sim::new_crc());
    let mut d = Bq769x2::<Bq76952, _>::new_crc(Blocking::new(sim.i2c(), sim.delay()));
    // The cells sit on inputs 1..N−1 and 16 once Vcell Mode is written; set their voltages.
    sim.with(|m| {
        for i in 0..16 {
            m.set_cell_voltage(0, i, 3_650_000 + (i as i32 * 7_919) % 60_000);
        }
        m.set_temperature(0, 27_300);
        m.set_current(-1_250_000);
    });
    if bring_up(&mut d, o).is_none() {
        return false;
    }
    println!("7. integrity: corrupt every response frame from now on");
    sim.with(|m| {
        m.inject(InjectedFault::CorruptResponses {
            device: 0,
            seed: 42,
            frames: u32::MAX,
        })
    });
    let mut cells = vec![Reading::NotConverted; d.cell_count()];
    let detected = match d.read_cell_voltages(&mut cells) {
        Ok(r) => !r.is_ok() && cells.iter().all(|c| !c.is_valid()),
        Err(_) => true,
    };
    println!(
        "   corrupted frame {} (cell 1: {})",
        if detected {
            "detected, no value handed out"
        } else {
            "NOT DETECTED"
        },
        cells[0]
    );
    detected
}

#[cfg(target_os = "linux")]
fn hardware(path: &str, crc: bool, o: &mut Options) -> bool {
    o.simulated = false;
    println!(
        "BQ76952 on {path} ({} mode, {} cells, {})\n",
        if crc { "CRC" } else { "plain" },
        o.cells,
        if o.write {
            "WRITE enabled"
        } else {
            "read-only"
        }
    );
    let bus = match linux_embedded_hal::I2cdev::new(path) {
        Ok(b) => b,
        Err(e) => {
            println!("cannot open {path}: {e}");
            println!(
                "check: i2c enabled (raspi-config), the device node exists, permissions (group i2c)"
            );
            return false;
        }
    };
    let io = Blocking::new(bus, linux_embedded_hal::Delay);
    let mut d = if crc {
        Bq769x2::<Bq76952, _>::new_crc(io)
    } else {
        Bq769x2::<Bq76952, _>::new(io)
    };
    bring_up(&mut d, o).is_some()
}

#[cfg(not(target_os = "linux"))]
fn hardware(_path: &str, _crc: bool, _o: &mut Options) -> bool {
    println!("--i2c needs Linux (linux-embedded-hal)");
    false
}
