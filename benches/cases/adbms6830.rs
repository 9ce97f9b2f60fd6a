//! ADBMS6830B driver cases, 16-device chain (256 cells): the full cell read (read commands,
//! PEC10 with the command counter checked on every frame, convert every cell) through the real
//! driver over the replay bus, in both of the driver's modes:
//!
//! * `adbms6830x16/read_cells` — the default for chains: six group reads RDCVA..RDCVF,
//!   6 × (4 + 8 · 16) = 792 bytes (group F carries only cell 16).
//! * `adbms6830x16/read_cells_all` — opt-in read-all (`Adbms6830::set_read_all(true)`): one
//!   RDCVALL, 4 + 34 · 16 = 548 bytes. The driver uses it by default only for N = 1, because
//!   ADBMS6830B-DS says the read-all commands are intended for single-IC applications.
//!
//! Each has its `bus_only` twin (the same reads through `isospi::read_chain`, no verify, no
//! convert) to subtract.

use core::cell::Cell;
use core::hint::black_box;

use bms_afe::adbms6830::{Adbms6830, Adbms6830b, CellSource};
use bms_afe::io::Blocking;
use bms_afe::isospi;
use bms_afe::monitor::Reading;
use bms_afe::units::MicroVolts;

use crate::support::mock::{NoDelay, ReplaySpi, block_on};
use crate::support::{Per, Runner};

const N: usize = 16;
/// ADBMS6830B: 16 cells per device.
const CELLS: usize = 16;
/// RDCVA..RDCVF and RDCVALL command codes (ADBMS6830B data sheet Rev. 0, command table).
const RDCV: [u16; 6] = [0x004, 0x006, 0x008, 0x00A, 0x009, 0x00B];
const RDCVALL: u16 = 0x00C;

/// The result code the canned frames carry for cell `c` (0-based, 0..18) of device `d`:
/// around 3.3 V (code 12 000 = 1.5 V + 12 000 × 150 µV).
fn code(d: usize, c: usize) -> u16 {
    (12_000 + 7 * d + 3 * c) as u16
}

/// The voltage the driver must report for that code (`V = code × 150 µV + 1.5 V`,
/// ADBMS6830B-DS "Result Registers"), written out independently of the crate's converter.
fn expected(d: usize, c: usize) -> Reading<MicroVolts> {
    Reading::Valid(MicroVolts(i32::from(code(d, c)) * 150 + 1_500_000))
}

/// Appends the read PEC bytes: `PEC0 = CC[5:0] PEC[9:8]`, `PEC1 = PEC[7:0]` with command
/// counter 0 (a freshly constructed driver expects 0; reads do not increment it).
fn seal(data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(data);
    out.extend_from_slice(&bms_afe::crc::pec10(data, 0).to_be_bytes());
}

fn check(name: &str, cells: &[[Reading<MicroVolts>; CELLS]; N]) {
    for (d, dev) in cells.iter().enumerate() {
        for (c, got) in dev.iter().enumerate() {
            assert_eq!(*got, expected(d, c), "{name}: device {d} cell {}", c + 1);
        }
    }
}

pub fn register(r: &mut Runner) {
    // The canned frames are sealed with the crate's `pec10`: check it against published wire
    // bytes first (ADBMS6830B data sheet Rev. 0, "Data PEC" example: data `26 F6 4A F6 4E F6`
    // with counter 0 → `00 6B`, counter 63 → `FD 03`).
    let v = [0x26, 0xF6, 0x4A, 0xF6, 0x4E, 0xF6];
    assert_eq!(bms_afe::crc::pec10(&v, 0).to_be_bytes(), [0x00, 0x6B]);
    assert_eq!(
        ((63u16 << 10) | bms_afe::crc::pec10(&v, 63)).to_be_bytes(),
        [0xFD, 0x03]
    );
    // RDCVALL command frame (ADBMS6830B data sheet Rev. 0 command table: `00 0C EF CC`).
    assert_eq!(isospi::command(RDCVALL), [0x00, 0x0C, 0xEF, 0xCC]);

    // Group reads: per group, device 0's frame first, three words each.
    let mut rx_groups = Vec::new();
    for g in 0..6 {
        for d in 0..N {
            let mut data = [0u8; 6];
            for k in 0..3 {
                data[2 * k..2 * k + 2].copy_from_slice(&code(d, 3 * g + k).to_le_bytes());
            }
            seal(&data, &mut rx_groups);
        }
    }
    // Read-all: per device, cells 1..16 then PEC10 over the 32 data bytes.
    let mut rx_all = Vec::new();
    for d in 0..N {
        let mut data = [0u8; 32];
        for c in 0..CELLS {
            data[2 * c..2 * c + 2].copy_from_slice(&code(d, c).to_le_bytes());
        }
        seal(&data, &mut rx_all);
    }

    // Bus traffic alone.
    let wire = Cell::new(0);
    let mut io = Blocking::new(ReplaySpi::new(&rx_groups, &wire), NoDelay);
    let mut buf = [[0u8; 8]; N];
    let cmds = RDCV.map(isospi::command);
    r.bus_case(
        "adbms6830x16/bus_only",
        Per::cell((N * CELLS) as u32),
        &wire,
        || {
            for cmd in &cmds {
                let Ok(()) = block_on(isospi::read_chain(&mut io, black_box(cmd), &mut buf));
            }
            buf[N - 1][0]
        },
    );
    let mut io = Blocking::new(ReplaySpi::new(&rx_all, &wire), NoDelay);
    let mut buf = [[0u8; 34]; N];
    let cmd = isospi::command(RDCVALL);
    r.bus_case(
        "adbms6830x16/bus_only_all",
        Per::cell((N * CELLS) as u32),
        &wire,
        || {
            let Ok(()) = block_on(isospi::read_chain(&mut io, black_box(&cmd), &mut buf));
            buf[N - 1][0]
        },
    );

    // The driver, default mode (group reads) and read-all.
    for (name, rx, all) in [
        ("adbms6830x16/read_cells", &rx_groups, false),
        ("adbms6830x16/read_cells_all", &rx_all, true),
    ] {
        let mut afe =
            Adbms6830::<Adbms6830b, N, _>::new(Blocking::new(ReplaySpi::new(rx, &wire), NoDelay));
        afe.set_read_all(all);
        let mut cells = [[Reading::NotConverted; CELLS]; N];
        let report = afe
            .read_cells(CellSource::C, cells.as_flattened_mut())
            .expect(name);
        assert!(report.is_ok(), "{name}: canned frames rejected: {report:?}");
        check(name, &cells);
        r.bus_case(name, Per::cell((N * CELLS) as u32), &wire, || {
            afe.read_cells(
                black_box(CellSource::C),
                black_box(cells.as_flattened_mut()),
            )
        });
    }
}
