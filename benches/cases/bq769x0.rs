//! bq769x0 driver cases: the full-pack cell read (`CellMonitor::read_cell_voltages`: ONE
//! burst of every VC register from VC1_HI, every byte CRC-checked, mapped onto the real cells,
//! converted with the factory gain/offset read once) through the real driver over the replay
//! I2C bus, with its `bus_only` twin (the same `write_read` on the replay bus alone).
//!
//! Bytes on the wire count the address byte of the start and of the repeated start:
//! `addr+W, 0x0C, addr+R, data…` = 3 + 2 × 2 × inputs with CRC (BQ76940: 63), 3 + 2 ×
//! inputs plain. That is also the minimum for an atomic read of the pack (DS SLUSBK2I
//! §8.3.1.1.1: HI and LO are consistent only when read in one transaction; a 13-cell pack
//! still reads 15 inputs, since skipping the two shorted ones costs two more transactions,
//! each with 3 bytes of overhead).

use core::cell::Cell;
use core::hint::black_box;

use bms_afe::CellMonitor;
use bms_afe::bq769x0::{AdcCalibration, Bq769x0, Bq76940, CellMap};
use bms_afe::io::Blocking;
use bms_afe::monitor::Reading;
use bms_afe::units::MicroVolts;
use embedded_hal::i2c::I2c;

use crate::support::mock::{NoDelay, ReplayI2c};
use crate::support::{Per, Runner};

const ADDRESS: u8 = 0x08;
const VC1_HI: u8 = 0x0C;
const INPUTS: usize = 15;

/// The code of input `i` (0-based).
fn code(i: usize) -> u16 {
    0x2000 + 37 * i as u16
}

pub fn register(r: &mut Runner) {
    let mut plain = Vec::new();
    for i in 0..INPUTS {
        plain.extend_from_slice(&code(i).to_be_bytes());
    }
    let mut crc = Vec::new();
    for (i, &b) in plain.iter().enumerate() {
        let c = if i == 0 {
            bms_afe::crc::crc8_smbus(&[(ADDRESS << 1) | 1, b])
        } else {
            bms_afe::crc::crc8_smbus(&[b])
        };
        crc.extend_from_slice(&[b, c]);
    }
    // Oracle: TI E2E 752518 reads SYS_CTRL2 = 0x40 at 0x08 as `40 85`.
    assert_eq!(bms_afe::crc::crc8_smbus(&[0x11, 0x40]), 0x85);

    let cal = AdcCalibration::new(380, 30).expect("calibration");
    for (cells, mode, rx) in [(15u8, "", &crc), (13, "", &crc), (15, "_plain", &plain)] {
        let wire = Cell::new(0);
        let n = rx.len();
        if cells == 15 {
            let mut bus = ReplayI2c::new(rx, &wire);
            let mut raw = [0u8; 60];
            r.bus_case(
                &format!("bq76940/bus_only{mode}"),
                Per::cell(u32::from(cells)),
                &wire,
                || {
                    let Ok(()) = bus.write_read(ADDRESS, &[black_box(VC1_HI)], &mut raw[..n]);
                    raw[0]
                },
            );
        }
        let map = CellMap::for_cells::<Bq76940>(cells).expect("map");
        let io = Blocking::new(ReplayI2c::new(rx, &wire), NoDelay);
        let mut afe = Bq769x0::<Bq76940, _>::new(io, map, 1_000)
            .expect("driver")
            .with_bus_options(ADDRESS, mode.is_empty())
            .with_calibration(cal);
        let name = format!("bq76940x{cells}/read_cells{mode}");
        let mut out = vec![Reading::NotConverted; usize::from(cells)];
        let report = afe.read_cell_voltages(&mut out).expect(&name);
        assert!(report.is_ok(), "{name}: canned burst rejected");
        let mut k = 0;
        for i in 0..INPUTS {
            if map.inputs() & (1 << i) != 0 {
                let want = Reading::Valid(MicroVolts(380 * i32::from(code(i)) + 30_000));
                assert_eq!(out[k], want, "{name}: cell {}", k + 1);
                k += 1;
            }
        }
        r.bus_case(&name, Per::cell(u32::from(cells)), &wire, || {
            afe.read_cell_voltages(black_box(&mut out))
        });
    }
}
