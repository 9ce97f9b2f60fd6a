//! A virtual isoUART chain of 8 × TLE9012 (96 cells) behind a TLE9015: count and enumerate the
//! chain, configure thresholds, measure, keep the watchdogs fed from a "scheduler" loop, then
//! let one device's watchdog run out and recover it, and corrupt one device's replies to show
//! it is caught and named while the others keep reporting.
//!
//! ```text
//! cargo run --example tle9012_chain
//! ```
//!
//! Everything runs against the crate's virtual chain (`bms_afe::sim::tle9012`), through the
//! calls firmware makes on a real one. The exit code is non-zero if an integrity failure went
//! undetected or a value handed out as valid differs from the truth by more than one LSB.

use std::process::ExitCode;

use bms_afe::CellMonitor;
use bms_afe::io::Blocking;
use bms_afe::monitor::{ConversionMode, Faults, Reading};
use bms_afe::sim::tle9012::Tle9012Chain;
use bms_afe::sim::{Clock, InjectedFault, Sim, VirtualChip, XorShift};
use bms_afe::tle9012::{Thresholds, Tle9012};
use bms_afe::units::MicroVolts;

const DEVICES: usize = 8;
const CELLS: usize = 12;
/// 5 V / 2^16 per LSB, rounded up.
const LSB_UV: i32 = 77;
const VICTIM: usize = 5;

type Afe<'a> = Tle9012<
    DEVICES,
    Blocking<
        bms_afe::io::Serial<
            bms_afe::sim::SimUart<'a, Tle9012Chain<DEVICES>>,
            bms_afe::sim::SimLine<'a, Tle9012Chain<DEVICES>>,
        >,
        bms_afe::sim::SimDelay<'a, Tle9012Chain<DEVICES>>,
    >,
>;

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

fn check(truth: &[i32], cells: &[Reading<MicroVolts>]) -> bool {
    cells.iter().zip(truth).all(|(c, t)| match c {
        Reading::Valid(v) => (v.0 - t).abs() <= LSB_UV,
        _ => true,
    })
}

fn measure(
    afe: &mut Afe<'_>,
    truth: &[i32],
) -> Result<bool, bms_afe::Error<bms_afe::sim::SimError>> {
    let mut cells = [Reading::NotConverted; DEVICES * CELLS];
    let report = afe.measure_cells(ConversionMode::Normal, &mut cells)?;
    let valid = cells.iter().filter(|c| c.is_valid()).count();
    println!(
        "  measured: {valid}/{} cells valid, failed devices {:?}",
        cells.len(),
        report.failed.iter().collect::<Vec<_>>()
    );
    if let Some(f) = report.first_fault {
        println!("  first fault: {f}");
    }
    Ok(check(truth, &cells))
}

fn run() -> Result<bool, bms_afe::Error<bms_afe::sim::SimError>> {
    let sim = Sim::new(Tle9012Chain::<DEVICES>::new());
    let mut rng = XorShift(0x7E9012);
    let mut truth = [0i32; DEVICES * CELLS];
    sim.with(|m| {
        for (i, t) in truth.iter_mut().enumerate() {
            *t = 3_550_000 + rng.below(250_000) as i32;
            m.set_cell_voltage(i / CELLS, i % CELLS, *t);
        }
    });
    let mut afe: Afe<'_> = Tle9012::new(Blocking::new(sim.serial(), sim.delay()));
    let t = Thresholds::new(MicroVolts(2_800_000), MicroVolts(4_200_000))?;
    println!(
        "thresholds achieved: UV {} V, OV {} V",
        volts(t.undervoltage.0),
        volts(t.overvoltage.0)
    );
    afe.set_thresholds(t);

    // Bring-up: reset, wake and count the chain; IDs 1..=N, FN on the last, read back.
    let n = afe.detect_chain_length()?;
    println!("chain length: {n} devices");
    if n != DEVICES {
        return Ok(false);
    }
    let mut ok = measure(&mut afe, &truth)?;

    let mut cells = [Reading::NotConverted; DEVICES * CELLS];
    afe.read_cell_voltages(&mut cells)?;
    let lowest = cells
        .iter()
        .filter_map(|c| c.valid())
        .min()
        .unwrap_or_default();
    let highest = cells
        .iter()
        .filter_map(|c| c.valid())
        .max()
        .unwrap_or_default();
    println!(
        "  lowest {} V, highest {} V",
        volts(lowest.0),
        volts(highest.0)
    );

    // Scheduler: a keep-alive within the deadline, three times.
    let deadline = Afe::keep_alive_deadline();
    for _ in 0..3 {
        sim.with(|m| m.advance_ns(u64::from(deadline.0) * 1_000));
        let r = afe.keep_alive()?;
        ok &= r.is_ok();
    }
    println!(
        "keep-alive every {} ms: chain awake = {}",
        deadline.0 / 1000,
        sim.with(|m| m.is_awake())
    );

    // A missed deadline on one device: it sleeps and loses its ID.
    println!("device {VICTIM}: watchdog expires");
    sim.with(|m| m.expire_watchdog(VICTIM));
    let r = afe.keep_alive()?;
    println!(
        "  keep-alive reports {:?}",
        r.failed.iter().collect::<Vec<_>>()
    );
    let h = afe.check_chain()?;
    println!(
        "  check_chain: {} answer, a device at ID 0: {}",
        h.answered.len(),
        h.unaddressed
    );
    ok &= h.unaddressed && !r.is_ok();
    afe.wake()?;
    println!(
        "  after wake(): complete = {}",
        afe.check_chain()?.is_complete(DEVICES)
    );
    ok &= measure(&mut afe, &truth)?;

    // Corrupt every reply of one device: caught, named, the others unaffected.
    println!("device {VICTIM}: every reply corrupted");
    sim.with(|m| {
        m.inject(InjectedFault::CorruptResponses {
            device: VICTIM as u8,
            seed: 9,
            frames: u32::MAX,
        })
    });
    let report = afe.measure_cells(ConversionMode::Normal, &mut cells)?;
    let caught = report.failed.iter().collect::<Vec<_>>() == [VICTIM]
        && cells[VICTIM * CELLS..][..CELLS]
            .iter()
            .all(|c| matches!(c, Reading::Failed(f) if usize::from(f.device) == VICTIM));
    println!(
        "  failed devices {:?}, first fault: {}",
        report.failed.iter().collect::<Vec<_>>(),
        report
            .first_fault
            .map(|f| f.to_string())
            .unwrap_or_default()
    );
    ok &= caught && check(&truth, &cells);
    let mut faults = [Reading::<Faults>::NotConverted; DEVICES];
    let r = afe.read_faults(&mut faults)?;
    ok &= r.failed.iter().collect::<Vec<_>>() == [VICTIM];
    sim.with(|m| m.clear_faults());
    println!(
        "{}",
        if ok {
            "all checks passed"
        } else {
            "CHECK FAILED"
        }
    );
    Ok(ok)
}
