//! A 13S e-bike pack (48 V nominal) on a virtual BQ76940 with the CRC option: probe,
//! protect, measure, balance, count charge — then inject faults (a discharge short, a
//! corrupted bus, a stuck internal fault) and show that each is caught.
//!
//! ```text
//! cargo run --example e_bike_pack
//! ```
//!
//! Everything goes through the same calls firmware makes on a board; on hardware pass your
//! HAL's `I2c` and `DelayNs` to `Blocking::new` (or `Async::new`). The exit code is non-zero
//! if a fault went unnoticed or a value handed out as valid is wrong.

use std::process::ExitCode;

use bms_afe::bq769x0::register::{OcdDelay, OvDelay, ScdDelay, UvDelay};
use bms_afe::bq769x0::{Bq769x0, Bq76940, CellMap, Protection, SysStat};
use bms_afe::io::Blocking;
use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
use bms_afe::sim::bq769x0::Bq769x0Sim;
use bms_afe::sim::{Clock, InjectedFault, Sim, VirtualChip};
use bms_afe::units::{MicroAmps, MicroVolts};

const CELLS: usize = 13;
/// 1 mΩ shunt.
const SHUNT_UOHM: u32 = 1_000;

fn volts(uv: i32) -> String {
    format!("{}.{:03} V", uv / 1_000_000, (uv % 1_000_000).abs() / 1_000)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let map = CellMap::for_cells::<Bq76940>(CELLS as u8).map_err(|e| e.to_string())?;
    let sim = Sim::new(Bq769x0Sim::new::<Bq76940>(map, true, 0x08));
    let truth: Vec<i32> = (0..CELLS)
        .map(|k| 3_850_000 + 4_000 * (k as i32 % 5))
        .collect();
    for (k, v) in truth.iter().enumerate() {
        sim.with(|m| m.set_cell_voltage(0, k, *v));
    }
    let mut bms =
        Bq769x0::<Bq76940, _>::new(Blocking::new(sim.i2c(), sim.delay()), map, SHUNT_UOHM)
            .map_err(|e| e.to_string())?;
    let e = |e: bms_afe::Error<bms_afe::sim::SimError>| e.to_string();

    // 1. Probe: address, CRC option, factory gain/offset.
    let info = bms.probe().map_err(e)?;
    println!(
        "BQ76940 at {:#04x}, CRC {}, gain {} µV/LSB, offset {} mV; cells on inputs {:#017b}",
        info.address,
        info.crc,
        info.calibration.gain_uv_per_lsb(),
        info.calibration.offset_mv(),
        map.inputs()
    );

    // 2. Protect: 4.20 V / 2.80 V, 60 A short circuit, 30 A overcurrent.
    let mut p = Protection::new(SHUNT_UOHM);
    p.overvoltage(MicroVolts(4_200_000), OvDelay::S2)
        .undervoltage(MicroVolts(2_800_000), UvDelay::S4)
        .short_circuit(MicroAmps::from_milliamps(60_000), ScdDelay::Us200)
        .overcurrent(MicroAmps::from_milliamps(30_000), OcdDelay::Ms320);
    let a = bms.configure(&p).map_err(e)?;
    println!(
        "protection: OV {} UV {} SCD {} mA OCD {} mA ({:?})",
        volts(a.overvoltage.0),
        volts(a.undervoltage.0),
        a.short_circuit.as_milliamps(),
        a.overcurrent.as_milliamps(),
        a.rsns
    );
    bms.wake().map_err(e)?;
    bms.set_fets(true, true).map_err(e)?;

    // 3. Measure.
    let mut cells = [Reading::NotConverted; CELLS];
    bms.measure_cells(ConversionMode::Normal, &mut cells)
        .map_err(e)?;
    let lsb = info.calibration.gain_uv_per_lsb() as i32;
    for (k, (r, t)) in cells.iter().zip(&truth).enumerate() {
        let v = r.valid().ok_or(format!("cell {} not valid", k + 1))?.0;
        if (v - t).abs() > lsb {
            return Err(format!(
                "cell {} reads {} for {}",
                k + 1,
                volts(v),
                volts(*t)
            ));
        }
    }
    let mut stack = [Reading::NotConverted; 1];
    bms.measure_stack_voltages(&mut stack).map_err(e)?;
    println!(
        "cells {} … {}, pack {}",
        volts(cells[0].valid().unwrap_or_default().0),
        volts(cells[CELLS - 1].valid().unwrap_or_default().0),
        volts(stack[0].valid().unwrap_or_default().0)
    );

    // 4. Balance every cell more than 5 mV above the lowest, never two neighbours at once.
    let low = cells
        .iter()
        .filter_map(|c| c.valid())
        .map(|v| v.0)
        .min()
        .unwrap_or(0);
    let mut mask = 0u32;
    for (k, c) in cells.iter().enumerate() {
        let high = c.valid().is_some_and(|v| v.0 > low + 5_000);
        if high && bms.set_balancing_cells(mask | 1 << k).is_ok() {
            mask |= 1 << k;
        }
    }
    bms.set_balancing(&[mask]).map_err(e)?;
    if sim.with(|m| m.balancing(0)) != mask || mask == 0 {
        return Err(format!("balancing mask {mask:#b} did not reach the chip"));
    }
    println!("balancing cells {mask:#015b}");

    // 5. Count charge: 8 A charging for 10 s.
    sim.with(|m| m.set_current(8_000_000));
    let mut uas: i64 = 0;
    for _ in 0..40 {
        sim.with(|m| m.advance_ns(250_000_000));
        if let Some(i) = bms.take_current_sample().map_err(e)? {
            uas += i.0 / 4;
        }
    }
    let mah = uas / 3_600_000;
    println!("charge counted: {} mAs ≈ {mah} mAh", uas / 1_000);
    if (uas - 80_000_000).abs() > 1_000_000 {
        return Err(format!("counted {uas} µAs for 80 As"));
    }

    // 6. Fault: a discharge short of 100 A. The chip opens DSG; the driver must see SCD.
    sim.with(|m| m.set_current(-100_000_000));
    sim.with(|m| m.advance_ns(300_000_000));
    let r = bms.service_alerts().map_err(e)?;
    if !r.status.contains(SysStat::SCD) || bms.fets().map_err(e)?.1 {
        return Err("short circuit not caught".into());
    }
    println!("caught: {:?}, DSG off", r.status & SysStat::FAULTS);
    sim.with(|m| m.set_current(0));

    // 7. Fault: every read frame corrupted. Nothing may come out as a voltage.
    sim.with(|m| {
        m.inject(InjectedFault::CorruptResponses {
            device: 0,
            seed: 7,
            frames: u32::MAX,
        })
    });
    let rep = bms
        .measure_cells(ConversionMode::Normal, &mut cells)
        .map_err(e)?;
    if rep.is_ok() || cells.iter().any(Reading::is_valid) {
        return Err("a corrupted frame was handed out as valid".into());
    }
    println!(
        "caught: {}",
        rep.first_fault.map(|f| f.to_string()).unwrap_or_default()
    );
    sim.with(|m| m.clear_faults());

    // 8. Fault: a stuck DEVICE_XREADY (internal fault). Reported, bounded, not hidden.
    sim.with(|m| m.raise_xready(true));
    let r = bms.service_alerts().map_err(e)?;
    if !r.remaining.contains(SysStat::DEVICE_XREADY) {
        return Err("stuck XREADY not reported".into());
    }
    println!("caught: DEVICE_XREADY stays set after clearing — pack must be serviced");
    Ok(())
}
