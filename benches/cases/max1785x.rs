//! MAX1785x cases: the Maxim PEC at the message sizes the driver checks (3 B = a READALL /
//! READDEVICE request, 5 B = a READDEVICE reply, 35 B = a 16-device READALL answer), table and
//! no-table; and the 16-device MAX17853 cell read (`Max1785x::read_cells`: SCANCTRL for
//! SCANDONE, then CELL1..CELL14) through the real driver over the replay bus, in
//! `ReadMode::ReadAll` (15 READALL messages) and in the default `ReadMode::Auto`, which for
//! 16 devices reads device by device (15 × 16 READDEVICE messages) because a 16-device
//! READALL is past the PEC's Hamming-distance-3 length.
//!
//! Bytes on the wire per READALL message of 16 devices: CLR_RX_BUF 1, WR_LD_Q0 2 + 4,
//! WR_NXT_LD_Q0 1, one RX_STATUS poll 2, RD_NXT_MSG 1 + 36 = 47; the read moves 15 × 47 =
//! 705 bytes. The minimum for the 14 cell registers with this bridge (one READALL each, no
//! receive-buffer clear, one poll) is 14 × 46 = 644 bytes; the driver's extra 61 bytes are
//! the SCANDONE check (one message) and the 14 receive-buffer clears.

use core::cell::Cell;
use core::hint::black_box;

use bms_afe::crc::{self as afe, MAXIM_PEC8_ALGORITHM};
use bms_afe::io::Blocking;
use bms_afe::max1785x::{Max1785x, Max17853, ReadMode};
use bms_afe::monitor::Reading;
use bms_afe::units::MicroVolts;
use crc::{Crc, NoTable};
use embedded_hal::spi::{Operation, SpiDevice};

use crate::support::mock::{NoDelay, ReplaySpi};
use crate::support::{Per, Runner};

const DEVICES: usize = 16;
const CELLS: usize = 14;

/// The cell code of device `d`, cell `c`: around 3.3 V.
fn code(d: usize, c: usize) -> u16 {
    10_813 + 3 * d as u16 + c as u16
}

/// Bit-serial Maxim PEC (reflected 0xB2), written out again here for the canned answers.
fn pec(bytes: &[u8]) -> u8 {
    let mut c = 0u8;
    for &b in bytes {
        c ^= b;
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xB2 } else { c >> 1 };
        }
    }
    c
}

/// The bytes clocked in for one message: one RX_STATUS poll answering RX_STOP, then the
/// dummy byte of RD_NXT_MSG and the message.
fn message(rx: &mut Vec<u8>, body: &[u8]) {
    rx.extend_from_slice(&[0x00, 0x02, 0x00]);
    rx.extend_from_slice(body);
    rx.push(pec(body));
}

pub fn register(r: &mut Runner) {
    let data: [u8; 64] = super::bytes(0x1785_2B00);
    let nt = Crc::<u8, NoTable>::new(&MAXIM_PEC8_ALGORITHM);
    // FoxBMS self-test vector, then the sizes used.
    assert_eq!(afe::maxim_pec8(&[0x03, 0x66, 0x00]), 0x43);
    for n in [3usize, 5, 35] {
        let d = &data[..n];
        assert_eq!(afe::maxim_pec8(d), pec(d));
        let per = Per::byte(n as u32);
        r.case(&format!("maxim_pec8/{n}B"), per, || {
            afe::maxim_pec8(black_box(d))
        });
        r.case(&format!("maxim_pec8_notable/{n}B"), per, || {
            nt.checksum(black_box(d))
        });
    }

    // READALL answers: SCANCTRL with SCANDONE, then CELL1..CELL14.
    let mut all = Vec::new();
    let mut body = vec![0x03, 0x66];
    for _ in 0..DEVICES {
        body.extend_from_slice(&0xB009u16.to_le_bytes());
    }
    body.push(0x00);
    message(&mut all, &body);
    for c in 0..CELLS {
        let mut body = vec![0x03, 0x47 + c as u8];
        for d in 0..DEVICES {
            body.extend_from_slice(&(code(d, c) << 2).to_le_bytes());
        }
        body.push(0x00);
        message(&mut all, &body);
    }
    // READDEVICE answers, register by register, device by device.
    let mut per_dev = Vec::new();
    for reg in core::iter::once(0x66u8).chain((0..CELLS as u8).map(|c| 0x47 + c)) {
        for d in 0..DEVICES {
            let v = if reg == 0x66 {
                0xB009
            } else {
                code(d, usize::from(reg - 0x47)) << 2
            };
            let [lo, hi] = v.to_le_bytes();
            message(&mut per_dev, &[(d as u8) << 3 | 0x05, reg, lo, hi, 0x00]);
        }
    }

    // The same 15 message transactions on the replay bus alone (frames as the driver sends
    // them, no check, no conversion): the bus traffic to subtract from `read_cells_readall`.
    {
        let wire = Cell::new(0);
        let mut bus = ReplaySpi::new(&all, &wire);
        let mut status = [0x01u8, 0x00];
        let mut msg = [0u8; 1 + 4 + 2 * DEVICES];
        r.bus_case(
            "max17853x16/bus_only",
            Per::cell((DEVICES * CELLS) as u32),
            &wire,
            || {
                for reg in core::iter::once(0x66u8).chain(0x47..0x47 + CELLS as u8) {
                    let load = [0xC0, 36, 0x03, black_box(reg), 0x00, 0x00];
                    let Ok(()) = bus.transaction(&mut [Operation::Write(&[0xE0])]);
                    let Ok(()) = bus.transaction(&mut [Operation::Write(&load)]);
                    let Ok(()) = bus.transaction(&mut [Operation::Write(&[0xB0])]);
                    status[0] = 0x01;
                    let Ok(()) = bus.transaction(&mut [Operation::TransferInPlace(&mut status)]);
                    msg[0] = 0x93;
                    let Ok(()) = bus.transaction(&mut [Operation::TransferInPlace(&mut msg)]);
                }
                msg[1]
            },
        );
    }

    for (name, mode, rx) in [
        ("max17853x16/read_cells_readall", ReadMode::ReadAll, &all),
        ("max17853x16/read_cells_auto", ReadMode::Auto, &per_dev),
    ] {
        let wire = Cell::new(0);
        let mut afe = Max1785x::<Max17853, DEVICES, _>::new(Blocking::new(
            ReplaySpi::new(rx, &wire),
            NoDelay,
        ));
        afe.set_read_mode(mode);
        let mut cells = [Reading::NotConverted; DEVICES * CELLS];
        let report = afe.read_cells(&mut cells).expect(name);
        assert!(report.is_ok(), "{name}: canned answers rejected");
        for (i, got) in cells.iter().enumerate() {
            let (d, c) = (i / CELLS, i % CELLS);
            let uv = (i64::from(code(d, c)) * 5_000_000 + 8_192) / 16_384;
            assert_eq!(
                *got,
                Reading::Valid(MicroVolts(uv as i32)),
                "{name}: {d}/{c}"
            );
        }
        r.bus_case(name, Per::cell((DEVICES * CELLS) as u32), &wire, || {
            afe.read_cells(black_box(&mut cells))
        });
    }
}
