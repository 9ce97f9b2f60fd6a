//! A virtual battery module: four MC33771C (14 cells each) on a TPL daisy chain behind an
//! MC33664, with a 100 µΩ shunt on the first device. Detect the chain, bring it up, measure
//! cells, stacks, temperatures and the pack current, decide balancing — then corrupt every
//! frame of one device and make another skip a message counter, and show that both are caught
//! and named while the other devices keep reporting.
//!
//! ```text
//! cargo run --example mc33771_module
//! ```
//!
//! Everything runs against the crate's virtual chips (`bms_afe::sim::mc3377x`) through the
//! same calls firmware makes on a real chain (`TplLink` would be your two SPI peripherals).
//! The exit code is non-zero if a fault went undetected or a value handed out as valid is
//! off by more than one LSB.

use std::process::ExitCode;

use bms_afe::CellMonitor;
use bms_afe::error::FaultReason;
use bms_afe::io::Blocking;
use bms_afe::mc3377x::{Mc3377x, Mc33771c, Tpl};
use bms_afe::monitor::{ConversionMode, Reading};
use bms_afe::sim::mc3377x::{Mc3377xChain, tpl_port};
use bms_afe::sim::{InjectedFault, Sim, VirtualChip, XorShift};
use bms_afe::units::{MicroVolts, MilliCelsius};

const DEVICES: usize = 4;
const CELLS: usize = 14;
/// One cell LSB: 5 V / 2^15 = 152.6 µV.
const LSB_UV: i32 = 153;
const BALANCE_WINDOW_UV: i32 = 15_000;

fn main() -> ExitCode {
    let sim = Sim::new(Mc3377xChain::<Mc33771c, DEVICES>::new(CELLS as u8));
    let mut rng = XorShift(0x0BCC_0771);
    let mut truth = [[0i32; CELLS]; DEVICES];
    sim.with(|c| {
        for (d, dev) in truth.iter_mut().enumerate() {
            for (k, t) in dev.iter_mut().enumerate() {
                *t = 3_550_000 + rng.below(120_000) as i32;
                c.set_cell_voltage(d, k, *t);
            }
            c.set_temperature(d, 24_000 + 900 * d as i32);
        }
        c.set_current(-42_000_000);
    });

    let mut bms = Mc3377x::<Mc33771c, Tpl, DEVICES, _>::new_tpl(
        Blocking::new(tpl_port(&sim), sim.delay()),
        CELLS as u8,
    )
    .expect("14 cells is a valid MC33771C configuration");
    let (ov, uv) = bms
        .set_cell_thresholds(MicroVolts(4_200_000), MicroVolts(2_800_000))
        .expect("thresholds");
    bms.set_shunt(100).expect("shunt");
    println!("thresholds achieved: OV {} µV, UV {} µV", ov.0, uv.0);

    let found = bms.detect_chain_length().expect("chain detection");
    println!("chain: {found} devices answer");
    bms.init().expect("bring-up");

    let mut ok = true;
    let mut cells = [Reading::NotConverted; DEVICES * CELLS];
    let report = bms
        .measure_cells(ConversionMode::Normal, &mut cells)
        .expect("measure");
    ok &= report.is_ok();
    for (i, c) in cells.iter().enumerate() {
        let t = truth[i / CELLS][i % CELLS];
        match c {
            Reading::Valid(v) if (v.0 - t).abs() <= LSB_UV => {}
            other => {
                println!(
                    "device {} cell {}: {other:?} (truth {t})",
                    i / CELLS,
                    i % CELLS + 1
                );
                ok = false;
            }
        }
    }
    let mut stacks = [Reading::NotConverted; DEVICES];
    bms.measure_stack_voltages(&mut stacks).expect("stacks");
    let mut temps = [Reading::<MilliCelsius>::NotConverted; DEVICES];
    bms.measure_temperatures(&mut temps).expect("temperatures");
    for d in 0..DEVICES {
        println!(
            "device {d}: stack {:?} µV, die {:?} m°C",
            stacks[d].valid().map(|v| v.0),
            temps[d].valid().map(|t| t.0)
        );
    }
    let current = bms.read_current().expect("current");
    println!("pack current: {:?} µA", current.map(|c| c.0));
    ok &= current.is_some_and(|c| (c.0 + 42_000_000).abs() < 10_000);

    // Balance every cell more than the window above the lowest.
    let lowest = cells
        .iter()
        .filter_map(|c| c.valid())
        .map(|v| v.0)
        .min()
        .unwrap_or(0);
    let mut masks = [0u32; DEVICES];
    for (i, c) in cells.iter().enumerate() {
        if c.valid().is_some_and(|v| v.0 > lowest + BALANCE_WINDOW_UV) {
            masks[i / CELLS] |= 1 << (i % CELLS);
        }
    }
    bms.set_balancing(&masks).expect("balancing");
    for (d, m) in masks.iter().enumerate() {
        let closed = sim.with(|c| c.balancing(d));
        println!("device {d}: balancing {m:#06x}, switches {closed:#06x}");
        ok &= closed == *m;
    }

    // Faults: device 2 corrupts every frame, device 1 skips a message counter.
    sim.with(|c| {
        c.inject(InjectedFault::CorruptResponses {
            device: 2,
            seed: 99,
            frames: u32::MAX,
        });
        c.skip_counter(1);
    });
    let report = bms
        .measure_cells(ConversionMode::Fast, &mut cells)
        .expect("measure under faults");
    println!(
        "under faults: failed devices {:?}",
        report.failed.iter().collect::<Vec<_>>()
    );
    ok &= report.failed.iter().collect::<Vec<_>>() == [1, 2];
    for (i, c) in cells.iter().enumerate() {
        let d = i / CELLS;
        let expect_failed = d == 1 || d == 2;
        match c {
            Reading::Failed(f) if expect_failed && usize::from(f.device) == d => {
                if i % CELLS == 0 {
                    let why = match f.reason {
                        FaultReason::Crc { .. } => "CRC",
                        FaultReason::CommandCounter { .. } => "message counter",
                        _ => "other",
                    };
                    println!("device {d}: caught ({why})");
                }
            }
            Reading::Valid(v) if !expect_failed && (v.0 - truth[d][i % CELLS]).abs() <= LSB_UV => {}
            other => {
                println!(
                    "device {d} cell {}: {other:?} not as expected",
                    i % CELLS + 1
                );
                ok = false;
            }
        }
    }
    sim.with(|c| c.clear_faults());
    let report = bms
        .measure_cells(ConversionMode::Fast, &mut cells)
        .expect("measure after faults");
    println!("after clearing: all devices valid = {}", report.is_ok());
    ok &= report.is_ok();

    if ok {
        println!("module OK");
        ExitCode::SUCCESS
    } else {
        println!("module check FAILED");
        ExitCode::FAILURE
    }
}
