//! A virtual chain of 4 × ADBMS6830B: read every cell on both ADCs, run the C/S redundancy
//! check, and run the FLAG_D latent-fault self-test — with a drifting S-ADC channel on one
//! device and a dead supply-undervoltage detector on another, both found and named.
//!
//! ```text
//! cargo run --example adbms6830_diagnostics
//! ```
//!
//! Everything runs against the crate's virtual chips (`bms_afe::sim`). On a board, pass your
//! `SpiDevice` and `DelayNs` to `Blocking::new` instead. The exit code is non-zero if an
//! injected fault is missed or a healthy device is blamed.

use std::process::ExitCode;

use bms_afe::adbms6830::{
    Adbms6830, Adbms6830b, LatentOutcome, LatentReport, LatentSet, LatentTest,
};
use bms_afe::io::Blocking;
use bms_afe::monitor::Reading;
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::sim::{Sim, VirtualChip};

const DEVICES: usize = 4;
const CELLS: usize = 16;
/// The device whose S-ADC channel for cell 7 reads 40 mV high (C/S redundancy finds it).
const DRIFT_DEVICE: usize = 1;
const DRIFT_CELL: usize = 6;
/// The device whose VA_UV detector never trips (the latent-fault self-test finds it).
const DEAD_DETECTOR_DEVICE: usize = 2;
/// STATC STCR4 bit 6: VA_UV (ADBMS6830B-DS status register C).
const VA_UV: u8 = 1 << 6;

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
    let sim = Sim::new(Adbms6830Chain::<Adbms6830b, DEVICES>::new());
    sim.with(|chain| {
        for d in 0..DEVICES {
            for c in 0..CELLS {
                chain.set_cell_voltage(d, c, 3_600_000 + 1_500 * c as i32 + 20_000 * d as i32);
            }
        }
        chain.set_s_offset(DRIFT_DEVICE, DRIFT_CELL, 40_000);
        chain.set_flags_never_set(DEAD_DETECTOR_DEVICE, VA_UV, 0);
    });
    let mut bms = Adbms6830::<Adbms6830b, DEVICES, _>::new(Blocking::new(sim.spi(), sim.delay()));
    println!("bms-afe ADBMS6830 diagnostics: virtual chain of {DEVICES} × ADBMS6830B");
    bms.wake().map_err(|e| format!("wake: {e}"))?;

    // C/S redundancy: a redundant conversion (C and S ADCs together), then both result sets
    // compared. With read-all on, C and S of a device come in one RDCSALL frame.
    bms.set_read_all(true);
    let mut mismatch = [Reading::NotConverted; DEVICES];
    let report = bms
        .redundancy_check(&mut mismatch)
        .map_err(|e| format!("redundancy check: {e}"))?;
    println!("\nC/S redundancy (cells whose C and S results disagree):");
    for (d, m) in mismatch.iter().enumerate() {
        let want = if d == DRIFT_DEVICE {
            1 << DRIFT_CELL
        } else {
            0
        };
        match m {
            Reading::Valid(mask) => {
                let cells: Vec<String> = (0..CELLS)
                    .filter(|c| mask & (1 << c) != 0)
                    .map(|c| format!("C{}", c + 1))
                    .collect();
                let verdict = if cells.is_empty() {
                    "agree".to_string()
                } else {
                    cells.join(", ")
                };
                println!("  device {d}: {verdict}");
                ok &= *mask == want;
            }
            other => {
                println!("  device {d}: {other}");
                ok = false;
            }
        }
    }
    ok &= report.is_ok();

    // Cell voltages from the same RDCSALL frames: C and S side by side for the drifting cell.
    let mut c = [Reading::NotConverted; DEVICES * CELLS];
    let mut s = c;
    bms.read_cells_cs(false, &mut c, &mut s)
        .map_err(|e| format!("read C and S: {e}"))?;
    let k = DRIFT_DEVICE * CELLS + DRIFT_CELL;
    println!(
        "  device {DRIFT_DEVICE} cell {}: C {}, S {}",
        DRIFT_CELL + 1,
        c[k],
        s[k]
    );

    // The latent-fault self-test: every detector FLAG_D can force, on every device.
    let mut latent = [LatentReport::NOT_RUN; DEVICES];
    let report = bms
        .latent_fault_self_test(LatentSet::ALL, &mut latent)
        .map_err(|e| format!("latent-fault self-test: {e}"))?;
    println!("\nFLAG_D latent-fault self-test:");
    for (d, r) in latent.iter().enumerate() {
        println!("  device {d}: {r}");
        let dead = matches!(
            r.outcome(LatentTest::SupplyUv),
            LatentOutcome::FlagNotSet { .. }
        );
        ok &= dead == (d == DEAD_DETECTOR_DEVICE);
        if d != DEAD_DETECTOR_DEVICE {
            ok &= r.passed(LatentSet::ALL);
        }
    }
    ok &= report.is_ok();

    println!(
        "\n{}",
        if ok {
            "both injected faults found at their device; no healthy device blamed"
        } else {
            "UNEXPECTED RESULT: see above"
        }
    );
    Ok(ok)
}
