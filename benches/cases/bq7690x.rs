//! BQ76907 driver case: the 7-cell read (`CellMonitor::read_cell_voltages`: ONE burst read of
//! the 7 cell-voltage registers from 0x14, checked, converted to `Reading<MicroVolts>`)
//! through the real driver (the bq769x2 machinery, BQ7690x variant) over the replay I2C bus
//! in CRC mode (every data byte followed by its CRC-8: 28 bytes read), with its `bus_only`
//! twin (the same `write_read` on the replay bus alone).
//!
//! Bytes on the wire count the address byte of the start and of the repeated start:
//! `addr+W, 0x14, addr+R, data…` = 3 + 28, the minimum for 7 CRC-checked cells.

use core::cell::Cell;
use core::hint::black_box;

use bms_afe::CellMonitor;
use bms_afe::bq769x2::{Bq769x2, Bq76907};
use bms_afe::io::Blocking;
use bms_afe::monitor::Reading;
use bms_afe::units::MicroVolts;
use embedded_hal::i2c::I2c;

use crate::support::mock::{NoDelay, ReplayI2c};
use crate::support::{Per, Runner};

const ADDRESS: u8 = 0x08;
const CELL1: u8 = 0x14;
const CELLS: usize = 7;

/// Cell `c` (0-based) in mV: cell 1 is the SLUAAM4 §4 example's 3013 mV.
fn millivolts(c: usize) -> i16 {
    if c == 0 { 3013 } else { 3300 + 7 * c as i16 }
}

pub fn register(r: &mut Runner) {
    let mut crc = Vec::new();
    for c in 0..CELLS {
        for (i, b) in millivolts(c).to_le_bytes().into_iter().enumerate() {
            let k = if c == 0 && i == 0 {
                bms_afe::crc::crc8_smbus(&[ADDRESS << 1, CELL1, (ADDRESS << 1) | 1, b])
            } else {
                bms_afe::crc::crc8_smbus(&[b])
            };
            crc.extend_from_slice(&[b, k]);
        }
    }
    // Oracle: SLUAAM4 §4 reads cell 1 of a BQ7690x as `10 14 11 | C5 79 0B 31`.
    assert_eq!(crc[..4], [0xC5, 0x79, 0x0B, 0x31]);

    let wire = Cell::new(0);
    let mut bus = ReplayI2c::new(&crc, &wire);
    let mut raw = [0u8; 28];
    r.bus_case("bq76907/bus_only", Per::cell(CELLS as u32), &wire, || {
        let Ok(()) = bus.write_read(ADDRESS, &[black_box(CELL1)], &mut raw);
        raw[0]
    });

    let mut afe =
        Bq769x2::<Bq76907, _>::new_crc(Blocking::new(ReplayI2c::new(&crc, &wire), NoDelay));
    let name = "bq76907/read_cells";
    let mut cells = [Reading::NotConverted; CELLS];
    let report = afe.read_cell_voltages(&mut cells).expect(name);
    assert!(report.is_ok(), "{name}: canned burst rejected");
    for (c, got) in cells.iter().enumerate() {
        let want = Reading::Valid(MicroVolts(i32::from(millivolts(c)) * 1000));
        assert_eq!(*got, want, "{name}: cell {}", c + 1);
    }
    r.bus_case(name, Per::cell(CELLS as u32), &wire, || {
        afe.read_cell_voltages(black_box(&mut cells))
    });
}
