//! A virtual chain of 8 × MAX17852 behind a MAX17841B bridge: start-up (wake-up, HELLOALL,
//! verification), thresholds, a scan and a cell read, the alerts per device, balancing, the
//! pack current — then a corrupted link at one device and a device that drops out, each
//! found and named while the other devices keep reading.
//!
//! ```text
//! cargo run --example max17852_chain
//! ```
//!
//! Everything runs against the crate's virtual chain (`bms_afe::sim::max1785x`). On a board,
//! pass the `SpiDevice` of the MAX17841B (mode 0) and a `DelayNs` to `Blocking::new`
//! instead. The exit code is non-zero if an injected fault is missed or a healthy device is
//! blamed.

use std::process::ExitCode;

use bms_afe::io::Blocking;
use bms_afe::max1785x::convert::CurrentSense;
use bms_afe::max1785x::{Max1785x, Max17852};
use bms_afe::monitor::{CellMonitor, ConversionMode, Faults, Reading};
use bms_afe::sim::max1785x::Max1785xChain;
use bms_afe::sim::{InjectedFault, Sim, VirtualChip};
use bms_afe::units::{MicroAmps, MicroVolts};

const DEVICES: usize = 8;
const CELLS: usize = 14;
/// The device whose link corrupts what it sends (a PEC failure only it should get).
const NOISY: usize = 5;
/// The device that stops answering (it still forwards the ring's traffic).
const DROPPED: usize = 2;

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

fn run() -> Result<bool, bms_afe::Error<bms_afe::sim::SimError>> {
    let sim = Sim::new(Max1785xChain::<Max17852, DEVICES>::new());
    sim.with(|c| {
        for d in 0..DEVICES {
            for k in 0..CELLS {
                c.set_cell_voltage(d, k, 3_600_000 + 1_000 * (d * CELLS + k) as i32);
            }
        }
        // One cell over 4.2 V on device 7.
        c.set_cell_voltage(7, 9, 4_250_000);
        // The CSA scaling of this board: 2 µV per code, 100 µΩ shunt; 25 A discharging.
        c.set_current_sense(2_000, 100);
        c.set_current(-25_000_000);
    });
    let mut bms = Max1785x::<Max17852, DEVICES, _>::new(Blocking::new(sim.spi(), sim.delay()));
    let ov = bms.set_overvoltage(MicroVolts(4_200_000))?;
    let uv = bms.set_undervoltage(MicroVolts(2_800_000))?;
    bms.set_current_sense(Some(CurrentSense {
        device: 0,
        lsb_nv: 2_000,
        shunt_micro_ohm: 100,
    }))?;
    println!("thresholds achieved: OV {ov}, UV {uv}");
    bms.start_up()?;
    println!("start-up: {DEVICES} devices answered HELLOALL, VERSION and MEASUREEN1 verified");

    let mut cells = [Reading::NotConverted; DEVICES * CELLS];
    let report = bms.measure_cells(ConversionMode::Normal, &mut cells)?;
    let mut ok = report.is_ok();
    print_min_max("healthy chain", &cells);

    let mut faults = [Reading::<Faults>::NotConverted; DEVICES];
    bms.read_faults(&mut faults)?;
    for (d, f) in faults.iter().enumerate() {
        if let Reading::Valid(f) = f {
            if f.any() {
                println!(
                    "device {d}: OV cells {:#06x}, UV cells {:#06x}",
                    f.overvoltage, f.undervoltage
                );
            }
        }
    }
    ok &= matches!(faults[7], Reading::Valid(f) if f.overvoltage == 1 << 9);

    bms.set_balancing(&[0b0101, 0, 0, 0, 0, 0, 0, 1 << 9])?;
    println!(
        "balancing: device 7 cell 10 switch {}",
        sim.with(|c| c.balancing(7)) >> 9 & 1
    );

    let current = bms.read_current()?;
    println!("pack current: {}", current.unwrap_or(MicroAmps(0)));
    ok &= current == Some(MicroAmps(-25_000_000));

    sim.with(|c| {
        c.inject(InjectedFault::CorruptResponses {
            device: NOISY as u8,
            seed: 0x5EED,
            frames: u32::MAX,
        })
    });
    let report = bms.measure_cells(ConversionMode::Normal, &mut cells)?;
    if let Some(f) = report.first_fault {
        println!("noisy link at device {NOISY}: {f}");
    }
    ok &= report.failed.len() == 1 && report.failed.contains(NOISY);
    print_min_max("the other devices", &cells);

    sim.with(|c| {
        c.clear_faults();
        c.inject(InjectedFault::Silent {
            device: DROPPED as u8,
        })
    });
    let report = bms.measure_cells(ConversionMode::Normal, &mut cells)?;
    if let Some(f) = report.first_fault {
        println!("device {DROPPED} dropped out: {f}");
    }
    ok &= report.failed.len() == 1 && report.failed.contains(DROPPED);
    ok &= cells
        .iter()
        .enumerate()
        .all(|(i, c)| (i / CELLS == DROPPED) != c.is_valid());
    println!(
        "{}",
        if ok {
            "all faults found at their devices"
        } else {
            "MISSED A FAULT"
        }
    );
    Ok(ok)
}

fn print_min_max(what: &str, cells: &[Reading<MicroVolts>]) {
    let valid = cells.iter().filter_map(|c| c.valid());
    let (min, max) = valid.fold((MicroVolts(i32::MAX), MicroVolts(0)), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let n = cells.iter().filter(|c| c.is_valid()).count();
    println!("{what}: {n} valid cells, min {min}, max {max}");
}
