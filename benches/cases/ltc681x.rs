//! LTC681x driver cases: a full LTC6813 cell read (six RDCVx commands, verify all PECs,
//! convert every cell) for chains of 1, 4 and 16 devices through the real driver over the
//! replay bus, the pure chain decoder alone, the same read through the `CellMonitor` trait and
//! the async transport, and the 16-device configuration write.
//!
//! `read_cells` is the driver's inherent low-level read (`Ltc681x::read_cells`): it sends the
//! six read commands and nothing else. `CellMonitor::read_cell_voltages` first wakes the
//! isoSPI ports from IDLE (one 4-byte dummy frame per device, `wake_idle`), so it is measured
//! separately (`ltc6813x16/read_cell_voltages`): the read-path figure is the inherent one.

use core::cell::Cell;
use core::hint::black_box;

use bms_afe::CellMonitor;
use bms_afe::io::{Async, Blocking};
use bms_afe::isospi;
use bms_afe::ltc681x::{Ltc681x, Ltc6813, convert::decode_cell_groups};
use bms_afe::monitor::Reading;
use bms_afe::units::MicroVolts;

use super::isospi::{chain_frames, chain_rx};
use crate::support::mock::{NoDelay, ReplaySpi, block_on};
use crate::support::{Per, Runner};

/// LTC6813: 18 cells in six groups of three.
const CELLS: usize = 18;

/// RDCVA..RDCVF command codes (LTC6813-1 data sheet, Table 38), written out again here rather
/// than taken from the driver's command table.
const RDCV: [u16; 6] = [0x004, 0x006, 0x008, 0x00A, 0x009, 0x00B];

/// The voltage `chain_frames` encodes for cell `c` (0..18) of device `d`: the oracle the
/// setup check compares the driver's output with (code formula written out again here).
fn expected(d: usize, c: usize) -> Reading<MicroVolts> {
    let (g, k) = (c / 3, c % 3);
    let code = 33_000 + 37 * d as i32 + 11 * g as i32 + 5 * k as i32;
    Reading::Valid(MicroVolts(code * 100))
}

/// Fails the bench run (not a timing check) unless every cell decoded to its encoded voltage:
/// a broken canned frame must not produce a meaningless figure.
fn check<const D: usize>(name: &str, cells: &[[Reading<MicroVolts>; CELLS]; D]) {
    for (d, dev) in cells.iter().enumerate() {
        for (c, got) in dev.iter().enumerate() {
            assert_eq!(*got, expected(d, c), "{name}: device {d} cell {}", c + 1);
        }
    }
}

/// The six chain reads alone through the shared reader over the same replay bus: the bus
/// traffic to subtract from `ltc6813x<D>/read_cells`.
fn bus_only<const D: usize>(r: &mut Runner, name: &str, rx: &[u8]) {
    let wire = Cell::new(0);
    let mut io = Blocking::new(ReplaySpi::new(rx, &wire), NoDelay);
    let mut buf = [[0u8; 8]; D];
    let cmds = RDCV.map(isospi::command);
    r.bus_case(name, Per::cell((D * CELLS) as u32), &wire, || {
        for cmd in &cmds {
            let Ok(()) = block_on(isospi::read_chain(&mut io, black_box(cmd), &mut buf));
        }
        buf[D - 1][0]
    });
}

/// `ltc6813x<D>/read_cells`: the driver's full read of all six groups.
fn read_cells<const D: usize>(r: &mut Runner, name: &str, rx: &[u8]) {
    let wire = Cell::new(0);
    let mut afe = Ltc681x::<Ltc6813, D, _>::new(Blocking::new(ReplaySpi::new(rx, &wire), NoDelay));
    let mut cells = [[Reading::NotConverted; CELLS]; D];
    let report = afe.read_cells(cells.as_flattened_mut()).expect(name);
    assert!(report.is_ok(), "{name}: canned frames rejected");
    check(name, &cells);
    r.bus_case(name, Per::cell((D * CELLS) as u32), &wire, || {
        afe.read_cells(black_box(cells.as_flattened_mut()))
    });
}

pub fn register(r: &mut Runner) {
    // The canned frames are sealed with the crate's `pec15`; check it (and the command PEC)
    // against published wire bytes first (LTC6812-1 data sheet Rev. B command table and the rt-LTC681X crate's tests: the RDCVA frame
    // `00 04 07 C2`, rt crate tests and an ADBMS6830 bus capture; a single-device CVA
    // response `93 61 BB 1E AE 22 | 9A 1C`).
    assert_eq!(isospi::command(RDCV[0]), [0x00, 0x04, 0x07, 0xC2]);
    assert_eq!(
        bms_afe::crc::pec15(&[0x93, 0x61, 0xBB, 0x1E, 0xAE, 0x22]),
        0x9A1C
    );

    let f1 = chain_frames::<1>();
    let rx1 = chain_rx(&f1);
    bus_only::<1>(r, "ltc6813x1/bus_only", &rx1);
    read_cells::<1>(r, "ltc6813x1/read_cells", &rx1);

    let f4 = chain_frames::<4>();
    let rx4 = chain_rx(&f4);
    bus_only::<4>(r, "ltc6813x4/bus_only", &rx4);
    read_cells::<4>(r, "ltc6813x4/read_cells", &rx4);

    // 16 devices: the bus-only figure is `isospi16/bus_only` (the same 792 bytes replayed).
    let f16 = chain_frames::<16>();
    let rx16 = chain_rx(&f16);
    read_cells::<16>(r, "ltc6813x16/read_cells", &rx16);

    // The pure decoder on the pre-read frames: parse, verify 96 PECs, convert 288 cells.
    let mut cells = [[Reading::NotConverted; CELLS]; 16];
    let report = decode_cell_groups::<Ltc6813, 16>(&f16, cells.as_flattened_mut());
    assert!(
        report.is_ok(),
        "ltc6813x16/decode_only: canned frames rejected"
    );
    check("ltc6813x16/decode_only", &cells);
    r.case(
        "ltc6813x16/decode_only",
        Per::cell(16 * CELLS as u32),
        || decode_cell_groups::<Ltc6813, 16>(black_box(&f16), black_box(cells.as_flattened_mut())),
    );

    // Through the CellMonitor trait: wake_idle (16 dummy frames) + the same read.
    let wire = Cell::new(0);
    let mut afe =
        Ltc681x::<Ltc6813, 16, _>::new(Blocking::new(ReplaySpi::new(&rx16, &wire), NoDelay));
    let mut cells = [[Reading::NotConverted; CELLS]; 16];
    let report = afe
        .read_cell_voltages(cells.as_flattened_mut())
        .expect("read_cell_voltages");
    assert!(report.is_ok());
    check("ltc6813x16/read_cell_voltages", &cells);
    r.bus_case(
        "ltc6813x16/read_cell_voltages",
        Per::cell(16 * CELLS as u32),
        &wire,
        || afe.read_cell_voltages(black_box(cells.as_flattened_mut())),
    );

    // The same read through the async transport (one future, polled once).
    let mut afe = Ltc681x::<Ltc6813, 16, _>::new(Async::new(ReplaySpi::new(&rx16, &wire), NoDelay));
    let mut cells = [[Reading::NotConverted; CELLS]; 16];
    let report = block_on(afe.read_cells(cells.as_flattened_mut())).expect("async read_cells");
    assert!(report.is_ok());
    check("ltc6813x16/read_cells_async", &cells);
    r.bus_case(
        "ltc6813x16/read_cells_async",
        Per::cell(16 * CELLS as u32),
        &wire,
        || block_on(afe.read_cells(black_box(cells.as_flattened_mut()))),
    );

    // Configuration build for 16 devices: there is no public pure function that builds the
    // chain's write frames, so this is the driver's `write_config` (encode and validate every
    // device's CFGA/CFGB, seal 2 × 16 PECs, wire order) over the replay bus, which only counts
    // the written bytes (WRCFGA + WRCFGB: 2 × (4 + 8 · 16) = 264).
    let wire = Cell::new(0);
    let mut afe =
        Ltc681x::<Ltc6813, 16, _>::new(Blocking::new(ReplaySpi::new(&[], &wire), NoDelay));
    for d in 0..16 {
        afe.set_discharge(d, 1 << (d % 18))
            .expect("valid discharge mask");
    }
    afe.set_undervoltage(MicroVolts(2_800_000))
        .expect("valid UV");
    afe.set_overvoltage(MicroVolts(4_200_000))
        .expect("valid OV");
    afe.set_refon(true);
    afe.write_config()
        .expect("ltc6813x16/config_build: configuration rejected");
    r.bus_case("ltc6813x16/config_build", Per::device(16), &wire, || {
        black_box(&mut afe).write_config()
    });
}
