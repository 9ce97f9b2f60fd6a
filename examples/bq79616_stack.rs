//! A virtual ring of a BQ79600 bridge and 8 × BQ79616-Q1 (16 cells each): bring-up with
//! auto-addressing, a full cell read, a corrupted device found and named, then a cut cable
//! between devices 4 and 5 — the devices beyond it fail, ring recovery re-addresses them from
//! the other end, and every cell is read again.
//!
//! ```text
//! cargo run --example bq79616_stack
//! ```
//!
//! Everything runs against the crate's virtual stack (`bms_afe::sim`). On a board, pass your
//! HAL's UART (`embedded_io` 0.6 `Read + Write + ReadReady`) and a `SerialLine` that can hold
//! its TX pin low (for the wake ping) in `Serial::with_line`, and your `DelayNs`. The exit code
//! is non-zero if a fault is missed or a healthy device is blamed.

use std::process::ExitCode;

use bms_afe::bq79616::{Bq79616, Bq79616Q1};
use bms_afe::io::Blocking;
use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
use bms_afe::sim::bq79616::Bq79616Stack;
use bms_afe::sim::{InjectedFault, Sim, VirtualChip};
use bms_afe::units::MicroVolts;

const DEVICES: usize = 8;
const CELLS: usize = 16;

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

fn lowest_highest(cells: &[Reading<MicroVolts>]) -> Option<(MicroVolts, MicroVolts)> {
    let valid = cells.iter().filter_map(|c| c.valid());
    let lo = valid.clone().min()?;
    let hi = valid.max()?;
    Some((lo, hi))
}

fn run() -> Result<bool, String> {
    let mut ok = true;
    let sim = Sim::new(Bq79616Stack::<DEVICES>::bridge(CELLS as u8).with_ring());
    sim.with(|s| {
        for d in 0..DEVICES {
            for c in 0..CELLS {
                s.set_cell_voltage(d, c, 3_550_000 + 2_000 * c as i32 + 7_000 * d as i32);
            }
        }
    });
    let mut stack =
        Bq79616::<Bq79616Q1, DEVICES, _>::new_bridge(Blocking::new(sim.serial(), sim.delay()));
    let ov = stack
        .set_overvoltage(MicroVolts(4_200_000))
        .map_err(|e| e.to_string())?;
    let uv = stack
        .set_undervoltage(MicroVolts(2_800_000))
        .map_err(|e| e.to_string())?;
    println!("OV threshold {ov}, UV threshold {uv} (as the comparators quantise them)");

    stack.bring_up().map_err(|e| e.to_string())?;
    println!(
        "bring-up: {} devices answered their address",
        stack.reachable_devices()
    );

    let mut cells = [Reading::NotConverted; DEVICES * CELLS];
    let report = stack
        .measure_cells(ConversionMode::Normal, &mut cells)
        .map_err(|e| e.to_string())?;
    if let Some((lo, hi)) = lowest_highest(&cells) {
        println!(
            "all {} cells: lowest {lo}, highest {hi}; report ok = {}",
            cells.len(),
            report.is_ok()
        );
    }
    ok &= report.is_ok();

    // Device 2's frames get a bit flipped on the way: only device 2 fails, and it is named.
    sim.with(|s| {
        s.inject(InjectedFault::CorruptResponses {
            device: 2,
            seed: 42,
            frames: u32::MAX,
        })
    });
    let report = stack
        .read_cell_voltages(&mut cells)
        .map_err(|e| e.to_string())?;
    println!(
        "corrupted device: failed {:?}, first fault {:?}",
        report.failed.iter().collect::<Vec<_>>(),
        report.first_fault
    );
    ok &= report.failed.iter().eq([2]);
    sim.with(|s| s.clear_faults());

    // Cut the cable between devices 4 and 5.
    sim.with(|s| s.inject(InjectedFault::BreakAfter { after: 4 }));
    let report = stack
        .read_cell_voltages(&mut cells)
        .map_err(|e| e.to_string())?;
    println!(
        "cable cut: devices without an answer {:?}",
        report.failed.iter().collect::<Vec<_>>()
    );
    ok &= report.failed.iter().eq(5..DEVICES);

    let ring = stack.recover_ring().map_err(|e| e.to_string())?;
    println!(
        "ring recovery: break after device {:?}, {} read forward, {} read in reverse, unreachable {:?}",
        ring.break_after,
        ring.forward,
        ring.reverse,
        ring.unreachable.iter().collect::<Vec<_>>()
    );
    ok &= ring.break_after == Some(4) && ring.unreachable.is_empty();

    let report = stack
        .measure_cells(ConversionMode::Normal, &mut cells)
        .map_err(|e| e.to_string())?;
    println!(
        "after recovery: report ok = {}, {} valid cells",
        report.is_ok(),
        cells.iter().filter(|c| c.is_valid()).count()
    );
    ok &= report.is_ok() && cells.iter().all(Reading::is_valid);

    println!("{}", if ok { "OK" } else { "FAILED" });
    Ok(ok)
}
