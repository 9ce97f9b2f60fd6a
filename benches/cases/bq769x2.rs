//! BQ76952 driver cases: the 16-cell read (`CellMonitor::read_cell_voltages`: ONE burst read
//! of the 16 cell-voltage registers from 0x14, checked, converted to `Reading<MicroVolts>`)
//! through the real driver over the replay I2C bus, in CRC mode (every data byte followed by
//! its CRC-8: 64 bytes read) and in plain mode (32 bytes, no integrity code on the silicon),
//! each with its `bus_only` twin (the same `write_read` on the replay bus alone).
//!
//! Bytes on the wire count the address byte of the start and of the repeated start:
//! `addr+W, 0x14, addr+R, data…` = 3 + 64 (CRC) or 3 + 32 (plain).

use core::cell::Cell;
use core::hint::black_box;

use bms_afe::CellMonitor;
use bms_afe::bq769x2::{Bq769x2, Bq76952};
use bms_afe::io::Blocking;
use bms_afe::monitor::Reading;
use bms_afe::units::MicroVolts;
use embedded_hal::i2c::I2c;

use crate::support::mock::{NoDelay, ReplayI2c};
use crate::support::{Per, Runner};

/// 7-bit address (DS-76952 default 0x08) and the Cell 1 Voltage direct command.
const ADDRESS: u8 = 0x08;
const CELL1: u8 = 0x14;
const CELLS: usize = 16;

/// Cell `c` (0-based) in mV: cell 1 is the SLUAA11B example's 2920 mV, the rest around 3.3 V.
fn millivolts(c: usize) -> i16 {
    if c == 0 { 2920 } else { 3300 + 7 * c as i16 }
}

pub fn register(r: &mut Runner) {
    // The burst as the chip sends it. CRC mode (SLUAA11B §4): the first CRC covers
    // addr+W, the register, addr+R and the first data byte; every later CRC its byte alone.
    let mut plain = Vec::new();
    for c in 0..CELLS {
        plain.extend_from_slice(&millivolts(c).to_le_bytes());
    }
    let mut crc = Vec::new();
    for (i, &b) in plain.iter().enumerate() {
        let c = if i == 0 {
            bms_afe::crc::crc8_smbus(&[ADDRESS << 1, CELL1, (ADDRESS << 1) | 1, b])
        } else {
            bms_afe::crc::crc8_smbus(&[b])
        };
        crc.extend_from_slice(&[b, c]);
    }
    // Oracle: SLUAA11B §4 reads cell 1 as `10 14 11 | 68 33 0B 31` (0x0B68 = 2920 mV).
    assert_eq!(crc[..4], [0x68, 0x33, 0x0B, 0x31]);

    // CRC mode (the recommended one) is `bq76952/read_cells`; plain mode has the suffix.
    for (mode, rx) in [("", &crc), ("_plain", &plain)] {
        let wire = Cell::new(0);
        let mut bus = ReplayI2c::new(rx, &wire);
        let mut raw = [0u8; 64];
        let n = rx.len();
        r.bus_case(
            &format!("bq76952/bus_only{mode}"),
            Per::cell(CELLS as u32),
            &wire,
            || {
                let Ok(()) = bus.write_read(ADDRESS, &[black_box(CELL1)], &mut raw[..n]);
                raw[0]
            },
        );

        let io = Blocking::new(ReplayI2c::new(rx, &wire), NoDelay);
        let mut afe = if mode.is_empty() {
            Bq769x2::<Bq76952, _>::new_crc(io)
        } else {
            Bq769x2::<Bq76952, _>::new(io)
        };
        let name = format!("bq76952/read_cells{mode}");
        let mut cells = [Reading::NotConverted; CELLS];
        let report = afe.read_cell_voltages(&mut cells).expect(&name);
        assert!(report.is_ok(), "{name}: canned burst rejected");
        for (c, got) in cells.iter().enumerate() {
            let want = Reading::Valid(MicroVolts(i32::from(millivolts(c)) * 1000));
            assert_eq!(*got, want, "{name}: cell {}", c + 1);
        }
        r.bus_case(&name, Per::cell(CELLS as u32), &wire, || {
            afe.read_cell_voltages(black_box(&mut cells))
        });
    }
}
