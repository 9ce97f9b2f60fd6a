//! BQ79616 cases: the 16-device full cell read (`CellMonitor::read_cell_voltages` on a stack of
//! 16 × 16 cells behind a BQ79600: ONE stack read of 32 bytes from VCELL16_HI, 16 response
//! frames of 38 bytes each CRC-checked, placed by header address, converted) through the real
//! driver over a replay UART, with its `bus_only` twin; the CRC-16 at 6, 8 and 128 bytes and the
//! response check of one 38-byte frame.
//!
//! Bytes on the wire: the 6-byte stack-read command plus 16 × (32 + 6) response bytes = 614,
//! which is the protocol's minimum for one read of every cell (SLUSE81E command/response
//! frame format: one command, one frame per device).

use core::cell::Cell;
use core::convert::Infallible;
use core::hint::black_box;

use bms_afe::CellMonitor;
use bms_afe::bq79616::frame;
use bms_afe::bq79616::{Bq79616, Bq79616Q1};
use bms_afe::io::{Blocking, Serial};
use bms_afe::monitor::Reading;
use bms_afe::units::MicroVolts;

use crate::support::mock::{NoDelay, WireCount};
use crate::support::{Per, Runner};

const DEVICES: usize = 16;
const CELLS: usize = 16;

/// A replaying `embedded_io` UART: after each write it offers the canned response once.
struct ReplayUart<'a> {
    rx: &'a [u8],
    pos: usize,
    armed: bool,
    wire: &'a WireCount,
}

impl embedded_io::ErrorType for ReplayUart<'_> {
    type Error = Infallible;
}

impl embedded_io::Write for ReplayUart<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.wire.set(self.wire.get() + buf.len());
        self.armed = true;
        self.pos = 0;
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl embedded_io::ReadReady for ReplayUart<'_> {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(self.armed && self.pos < self.rx.len())
    }
}

impl embedded_io::Read for ReplayUart<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let rest = &self.rx[self.pos..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        self.wire.set(self.wire.get() + n);
        Ok(n)
    }
}

fn code(d: usize, c: usize) -> u16 {
    17_000 + (d * CELLS + c) as u16
}

pub fn register(r: &mut Runner) {
    // The stack's answer: frames highest device first, each `LEN-1 ADDR 05 68 data CRC`.
    let mut rx = Vec::new();
    for addr in (1..=DEVICES as u8).rev() {
        let d = usize::from(addr) - 1;
        let mut f = vec![0x1F, addr, 0x05, 0x68];
        for cell in (1..=CELLS).rev() {
            f.extend_from_slice(&code(d, cell - 1).to_be_bytes());
        }
        let crc = bms_afe::crc::crc16_modbus(&f);
        f.extend_from_slice(&crc.to_le_bytes());
        rx.extend(f);
    }
    // The crate's CRC against a published frame first (SLVAE86B Table 1-4: A0 02 15 0B CC B3).
    assert!(frame::crc_ok(&[0xA0, 0x02, 0x15, 0x0B, 0xCC, 0xB3]));

    let wire = Cell::new(0);
    let mut bus = ReplayUart {
        rx: &rx,
        pos: 0,
        armed: false,
        wire: &wire,
    };
    let cmd = frame::read(frame::Request::StackRead, 0, 0x0568, 32).unwrap();
    let mut raw = vec![0u8; rx.len()];
    r.bus_case(
        "bq79616x16/bus_only",
        Per::cell((DEVICES * CELLS) as u32),
        &wire,
        || {
            use embedded_io::{Read, Write};
            let Ok(_) = bus.write(black_box(cmd.as_bytes()));
            let Ok(n) = bus.read(&mut raw);
            n
        },
    );

    let uart = ReplayUart {
        rx: &rx,
        pos: 0,
        armed: false,
        wire: &wire,
    };
    let mut afe =
        Bq79616::<Bq79616Q1, DEVICES, _>::new_bridge(Blocking::new(Serial::new(uart), NoDelay));
    let mut cells = [Reading::NotConverted; DEVICES * CELLS];
    let report = afe.read_cell_voltages(&mut cells).expect("read");
    assert!(report.is_ok(), "canned stack read rejected: {report:?}");
    for d in 0..DEVICES {
        for c in 0..CELLS {
            let want = (i64::from(code(d, c)) * 19_073 + 50) / 100;
            assert_eq!(
                cells[d * CELLS + c],
                Reading::Valid(MicroVolts(want as i32)),
                "device {d} cell {}",
                c + 1
            );
        }
    }
    r.bus_case(
        "bq79616x16/read_cells",
        Per::cell((DEVICES * CELLS) as u32),
        &wire,
        || afe.read_cell_voltages(black_box(&mut cells)),
    );

    let data: [u8; 128] = super::bytes(0x7961_6000);
    for n in [6usize, 8, 128] {
        let d = &data[..n];
        r.case(&format!("bq79616/crc16/{n}B"), Per::byte(n as u32), || {
            bms_afe::crc::crc16_modbus(black_box(d))
        });
    }
    let one = &rx[..38];
    assert!(frame::parse_response(one, 0x0568, 32).is_ok());
    r.case("bq79616/parse_response/38B", Per::byte(38), || {
        frame::parse_response(black_box(one), 0x0568, 32).is_ok()
    });
}
