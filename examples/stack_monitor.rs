//! A virtual stack of 16 × LTC6813 (288 cells): wake, configure, measure, report, decide
//! balancing — then corrupt every frame of one device and show that it is caught and named
//! while the other 15 devices keep reporting.
//!
//! ```text
//! cargo run --example stack_monitor
//! ```
//!
//! Everything runs against the crate's virtual chips (`bms_afe::sim`), through the same
//! `CellMonitor` calls firmware would make on a real chain. The exit code is non-zero if an
//! integrity failure went undetected or any value handed out as valid differs from the
//! truth by more than one LSB.

use std::process::ExitCode;

use bms_afe::CellMonitor;
use bms_afe::io::Blocking;
use bms_afe::ltc681x::command::{AdcMode, CellSelect, Conversion};
use bms_afe::ltc681x::{Ltc681x, Ltc6813};
use bms_afe::monitor::{ConversionMode, Faults, Reading};
use bms_afe::sim::ltc681x::Ltc681xChain;
use bms_afe::sim::{InjectedFault, Sim, VirtualChip, XorShift};
use bms_afe::units::{MicroVolts, MilliCelsius};

const DEVICES: usize = 16;
const CELLS: usize = 18;
/// LTC6812-DS Table 4: one cell LSB is 100 µV.
const LSB_UV: i32 = 100;
/// Balance cells more than this above the lowest cell of the pack.
const BALANCE_WINDOW_UV: i32 = 20_000;
/// The device whose frames get corrupted in the integrity demonstration.
const VICTIM: usize = 9;

fn volts(uv: i32) -> String {
    format!("{}.{:04}", uv / 1_000_000, (uv % 1_000_000).abs() / 100)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, String> {
    let mut ok = true;
    // --- The virtual pack: a realistic spread of cell voltages and module temperatures.
    let sim = Sim::new(Ltc681xChain::<Ltc6813, DEVICES>::new());
    let mut truth = [[0i32; CELLS]; DEVICES];
    let mut rng = XorShift(0x00C0_FFEE);
    sim.with(|chain| {
        for (d, module) in truth.iter_mut().enumerate() {
            // Each module sits at its own state of charge; cells scatter ±15 mV around it.
            let module_mean = 3_640_000 + (d as i32 % 5) * 9_000;
            for (c, cell) in module.iter_mut().enumerate() {
                *cell = module_mean - 15_000 + rng.below(30_001) as i32;
                chain.set_cell_voltage(d, c, *cell);
            }
            chain.set_temperature(d, 24_000 + (d as i32 * 1_700) % 9_000);
        }
        // One overcharged cell, to show an overvoltage flag.
        truth[6][11] = 4_231_000;
        chain.set_cell_voltage(6, 11, truth[6][11]);
    });

    let mut bms = Ltc681x::<Ltc6813, DEVICES, _>::new(Blocking::new(sim.spi(), sim.delay()));
    println!(
        "bms-afe stack monitor: virtual chain of {DEVICES} × LTC6813 ({} cells)",
        DEVICES * CELLS
    );

    // --- Wake and configure (thresholds quantised by the chip; the achieved values are shown).
    bms.wake().map_err(|e| format!("wake: {e}"))?;
    let uv = bms
        .set_undervoltage(MicroVolts(3_000_000))
        .map_err(|e| e.to_string())?;
    let ov = bms
        .set_overvoltage(MicroVolts(4_200_000))
        .map_err(|e| e.to_string())?;
    bms.write_config_verified()
        .map_err(|e| format!("configure: {e}"))?;
    println!(
        "configured     UV {} V, OV {} V (achieved), read back and verified on all {DEVICES} devices",
        volts(uv.0),
        volts(ov.0)
    );
    let mut mux = [Reading::NotConverted; DEVICES];
    bms.mux_test(&mut mux)
        .map_err(|e| format!("mux test: {e}"))?;
    let mux_ok = mux
        .iter()
        .filter(|r| matches!(r, Reading::Valid(true)))
        .count();
    println!("self test      MUX decoder check passed on {mux_ok}/{DEVICES} devices");

    // --- Measure everything.
    let mut cells = [Reading::NotConverted; DEVICES * CELLS];
    let wait = bms.conversion_time(Conversion::Cells(CellSelect::ALL), AdcMode::Normal);
    let report = bms
        .measure_cells(ConversionMode::Normal, &mut cells)
        .map_err(|e| format!("measure cells: {e}"))?;
    let valid = cells.iter().filter(|c| c.is_valid()).count();
    println!(
        "measured       {valid}/{} cells valid (7 kHz mode, {} µs incl. reference start-up), {} device(s) failed",
        cells.len(),
        wait.0,
        report.failed.len()
    );
    let mut temps = [Reading::<MilliCelsius>::NotConverted; DEVICES];
    bms.measure_temperatures(&mut temps)
        .map_err(|e| format!("temperatures: {e}"))?;
    let mut stacks = [Reading::<MicroVolts>::NotConverted; DEVICES];
    bms.measure_stack_voltages(&mut stacks)
        .map_err(|e| format!("stack voltages: {e}"))?;
    let mut faults = [Reading::<Faults>::NotConverted; DEVICES];
    bms.read_faults(&mut faults)
        .map_err(|e| format!("faults: {e}"))?;

    // Every valid cell must equal the truth within one LSB.
    for (i, c) in cells.iter().enumerate() {
        if let Reading::Valid(v) = c {
            if (v.0 - truth[i / CELLS][i % CELLS]).abs() > LSB_UV {
                println!(
                    "MISMATCH at device {} cell {}: {v} handed out as valid",
                    i / CELLS,
                    i % CELLS + 1
                );
                ok = false;
            }
        }
    }

    println!();
    println!(" dev   min V    max V   mean V   Δ mV   module V   die °C   faults");
    for d in 0..DEVICES {
        let vals: Vec<i32> = cells[d * CELLS..(d + 1) * CELLS]
            .iter()
            .filter_map(|c| c.valid().map(|v| v.0))
            .collect();
        let (min, max) = (vals.iter().min().copied(), vals.iter().max().copied());
        let mean = (!vals.is_empty())
            .then(|| vals.iter().map(|&v| i64::from(v)).sum::<i64>() / vals.len() as i64);
        let stack = stacks[d].valid().map_or("    --  ".into(), |v| {
            format!("{:>8}", format!("{:.3}", f64::from(v.0) / 1e6))
        });
        let temp = temps[d].valid().map_or("  --".into(), |t| {
            format!("{:>5}", t.to_string().replace(" °C", ""))
        });
        let flags = match faults[d] {
            Reading::Valid(f) => describe(&f),
            Reading::NotConverted => "not converted".into(),
            Reading::Failed(f) => format!("integrity: {}", f.reason),
        };
        match (min, max, mean) {
            (Some(lo), Some(hi), Some(m)) => println!(
                " {d:>3}  {}  {}  {}  {:>5.1}   {stack}   {temp}    {flags}",
                volts(lo),
                volts(hi),
                volts(m as i32),
                f64::from(hi - lo) / 1000.0
            ),
            _ => println!(" {d:>3}  (no valid cells)"),
        }
    }

    // The overcharged cell must show as an overvoltage flag on its device, and only there.
    let ov_ok = faults.iter().enumerate().all(|(d, f)| match f {
        Reading::Valid(f) => {
            (f.overvoltage != 0) == (d == 6) && (d != 6 || f.overvoltage == 1 << 11)
        }
        _ => false,
    });
    if !ov_ok {
        println!("MISMATCH: the overvoltage flag of device 6 cell 12 was not reported as set");
        ok = false;
    }

    // --- Decide balancing: every cell more than 20 mV above the pack's lowest cell.
    let pack_min = cells
        .iter()
        .filter_map(|c| c.valid().map(|v| v.0))
        .min()
        .unwrap_or(0);
    let mut masks = [0u32; DEVICES];
    for (i, c) in cells.iter().enumerate() {
        if let Reading::Valid(v) = c {
            if v.0 > pack_min + BALANCE_WINDOW_UV {
                masks[i / CELLS] |= 1 << (i % CELLS);
            }
        }
    }
    bms.set_balancing(&masks)
        .map_err(|e| format!("balancing: {e}"))?;
    let on: u32 = masks.iter().map(|m| m.count_ones()).sum();
    let confirmed = (0..DEVICES).all(|d| sim.with(|c| c.balancing(d)) == masks[d]);
    println!();
    println!(
        "balancing      {on} cells above {} V (pack min + {} mV); discharge switches {}",
        volts(pack_min + BALANCE_WINDOW_UV),
        BALANCE_WINDOW_UV / 1000,
        if confirmed {
            "confirmed on the chip"
        } else {
            "NOT as requested"
        }
    );
    ok &= confirmed;
    bms.set_balancing(&[0; DEVICES])
        .map_err(|e| format!("stop balancing: {e}"))?;

    // --- Integrity: corrupt every response frame of one device.
    println!();
    println!("integrity      flipping one bit in every frame device {VICTIM} sends ...");
    sim.with(|c| {
        c.inject(InjectedFault::CorruptResponses {
            device: VICTIM as u8,
            seed: 0x0BAD_5EED,
            frames: u32::MAX,
        })
    });
    let report = bms
        .measure_cells(ConversionMode::Normal, &mut cells)
        .map_err(|e| format!("measure cells: {e}"))?;
    sim.with(|c| c.clear_faults());
    let victim = &cells[VICTIM * CELLS..(VICTIM + 1) * CELLS];
    let named = report.failed.contains(VICTIM)
        && victim
            .iter()
            .all(|c| matches!(c, Reading::Failed(f) if f.device as usize == VICTIM));
    let others_valid = cells
        .iter()
        .enumerate()
        .filter(|(i, _)| i / CELLS != VICTIM)
        .all(|(i, c)| matches!(c, Reading::Valid(v) if (v.0 - truth[i / CELLS][i % CELLS]).abs() <= LSB_UV));
    if let Some(f) = report.first_fault {
        println!(
            "               detected: {f} (after {} retries of the whole command)",
            bms.retries()
        );
    }
    println!(
        "               device {VICTIM}: {} of {CELLS} cells marked failed, none handed out as a voltage",
        victim
            .iter()
            .filter(|c| matches!(c, Reading::Failed(_)))
            .count()
    );
    println!(
        "               other {} devices: {} cells valid and equal to the truth within one LSB",
        DEVICES - 1,
        cells
            .iter()
            .enumerate()
            .filter(|(i, c)| i / CELLS != VICTIM && c.is_valid())
            .count()
    );
    ok &= named && others_valid && report.failed.len() == 1;

    println!();
    if ok {
        println!(
            "result         PASS: the corrupted frames were detected and named; nothing invalid was used"
        );
    } else {
        println!(
            "result         FAIL: an integrity failure went undetected or a wrong value was handed out"
        );
    }
    Ok(ok)
}

fn describe(f: &Faults) -> String {
    let mut s = Vec::new();
    if f.overvoltage != 0 {
        s.push(format!("OV cell {}", cells_of(f.overvoltage)));
    }
    if f.undervoltage != 0 {
        s.push(format!("UV cell {}", cells_of(f.undervoltage)));
    }
    if f.thermal_shutdown {
        s.push("thermal shutdown".into());
    }
    if f.internal {
        s.push("internal (MUX)".into());
    }
    if s.is_empty() {
        "-".into()
    } else {
        s.join(", ")
    }
}

fn cells_of(mask: u32) -> String {
    (0..32)
        .filter(|b| mask & (1 << b) != 0)
        .map(|b| (b + 1).to_string())
        .collect::<Vec<_>>()
        .join(",")
}
