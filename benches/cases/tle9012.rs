//! TLE9012 cases: the full-chain cell read of 16 devices (`CellMonitor::read_cell_voltages`:
//! one broadcast read of MEAS_CTRL for the completion flags, then one broadcast read per PCVM
//! register, every reply CRC-checked and matched to its device by node ID) through the real
//! driver over a replay UART, with its `bus_only` twin (the same 13 exchanges through the
//! replay alone), and the two TLE9012 integrity codes.
//!
//! Bytes on the wire count what the host sends and what the chain sends back (not the echo,
//! which is the host's own bytes on the joined line): 13 × (4 + 5 × 16) = 1092 for 16 devices
//! against a minimum of 192 cells × 2 bytes = 384 (the reply header — node ID, register — and
//! the CRC take 3 of every 5 bytes).

use core::cell::Cell;
use core::convert::Infallible;
use core::hint::black_box;

use bms_afe::CellMonitor;
use bms_afe::io::{Blocking, Serial};
use bms_afe::monitor::{ConversionMode, Reading};
use bms_afe::tle9012::Tle9012;
use bms_afe::tle9012::frame::{WireOrder, read_request, write_reply};
use bms_afe::units::MicroVolts;

use crate::support::mock::{NoDelay, WireCount};
use crate::support::{Per, Runner};

const DEVICES: usize = 16;
const FRAME: usize = 5;

/// A replay UART: every request is echoed, then answered from a table by register address
/// (reads) or with the write-reply byte 0x00 (writes).
struct ReplayUart<'a> {
    table: &'a [Vec<u8>; 0x40],
    echo: [u8; 6],
    echo_len: usize,
    echo_pos: usize,
    reply: &'a [u8],
    reply_pos: usize,
    wire: &'a WireCount,
}

static WRITE_OK: [u8; 1] = [write_reply(0).reverse_bits()];

impl embedded_io::ErrorType for ReplayUart<'_> {
    type Error = Infallible;
}

impl embedded_io::Write for ReplayUart<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(6);
        self.echo[..n].copy_from_slice(&buf[..n]);
        self.echo_len = n;
        self.echo_pos = 0;
        self.reply_pos = 0;
        self.reply = if n == 4 {
            let reg = usize::from(buf[2].reverse_bits() & 0x3F);
            &self.table[reg]
        } else {
            &WRITE_OK
        };
        self.wire.set(self.wire.get() + n + self.reply.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl embedded_io::ReadReady for ReplayUart<'_> {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(self.echo_pos < self.echo_len || self.reply_pos < self.reply.len())
    }
}

impl embedded_io::Read for ReplayUart<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if self.echo_pos < self.echo_len {
            let n = buf.len().min(self.echo_len - self.echo_pos);
            buf[..n].copy_from_slice(&self.echo[self.echo_pos..self.echo_pos + n]);
            self.echo_pos += n;
            return Ok(n);
        }
        let n = buf.len().min(self.reply.len() - self.reply_pos);
        buf[..n].copy_from_slice(&self.reply[self.reply_pos..self.reply_pos + n]);
        self.reply_pos += n;
        Ok(n)
    }
}

fn code(dev: usize, k: usize) -> u16 {
    // 3.3 V and up: 3.3 V × 65536 / 5 V = 43254.
    43_254 + (dev * 12 + k) as u16
}

pub fn register(r: &mut Runner) {
    // Oracle: the published read request of node 1, ICVID, as an LSB-first UART sends it.
    let mut probe = read_request(1, 0x39);
    WireOrder::LsbFirstUart.apply(&mut probe);
    assert_eq!(probe, [0x78, 0x80, 0x9C, 0xC8]);

    // Broadcast replies, device 0 first, in wire order.
    let table: [Vec<u8>; 0x40] = core::array::from_fn(|reg| {
        let mut v = Vec::new();
        for dev in 0..DEVICES {
            let value = match reg {
                0x18 => 0x6021, // MEAS_CTRL, PCVM_START clear
                0x19..=0x24 => code(dev, reg - 0x19),
                _ => 0,
            };
            let [h, l] = value.to_be_bytes();
            let mut f = [dev as u8 + 1, reg as u8, h, l, 0];
            f[4] = bms_afe::crc::crc8_sae_j1850(&f[..4]);
            WireOrder::LsbFirstUart.apply(&mut f);
            v.extend_from_slice(&f);
        }
        v
    });

    let wire = Cell::new(0);
    let uart = |wire| ReplayUart {
        table: &table,
        echo: [0; 6],
        echo_len: 0,
        echo_pos: 0,
        reply: &[],
        reply_pos: 0,
        wire,
    };

    // The same 13 exchanges through the replay alone.
    {
        use embedded_io::{Read, Write};
        let mut u = uart(&wire);
        let mut rx = [0u8; 4 + FRAME * DEVICES];
        let requests: Vec<[u8; 4]> = core::iter::once(0x18)
            .chain(0x19..=0x24)
            .map(|reg| {
                let mut f = read_request(0x3F, reg);
                WireOrder::LsbFirstUart.apply(&mut f);
                f
            })
            .collect();
        r.bus_case(
            "tle9012x16/bus_only",
            Per::cell(12 * DEVICES as u32),
            &wire,
            || {
                for q in &requests {
                    let Ok(_) = u.write(black_box(q));
                    let mut got = 0;
                    while got < rx.len() {
                        let Ok(n) = u.read(&mut rx[got..]);
                        got += n;
                    }
                }
                rx[0]
            },
        );
    }

    let mut afe = Tle9012::<DEVICES, _>::new(Blocking::new(Serial::new(uart(&wire)), NoDelay));
    afe.start_cell_conversion(ConversionMode::Normal)
        .expect("start");
    let mut cells = [Reading::NotConverted; 12 * DEVICES];
    let report = afe.read_cell_voltages(&mut cells).expect("read");
    assert!(report.is_ok(), "canned replies rejected: {report:?}");
    for (i, got) in cells.iter().enumerate() {
        let uv = ((u64::from(code(i / 12, i % 12)) * 5_000_000) >> 16) as i32;
        assert_eq!(*got, Reading::Valid(MicroVolts(uv)), "cell {i}");
    }
    r.bus_case(
        "tle9012x16/read_cells",
        Per::cell(12 * DEVICES as u32),
        &wire,
        || afe.read_cell_voltages(black_box(&mut cells)),
    );

    let reply = [0x01u8, 0x19, 0xA8, 0xF6, 0x00];
    r.case("tle9012/crc8_sae_j1850_reply", Per::byte(4), || {
        bms_afe::crc::crc8_sae_j1850(black_box(&reply[..4]))
    });
    let header = [0x80u8, 0x98, 0x15, 0x6F];
    r.case("tle9012/crc8_reply_check_wire", Per::byte(4), || {
        bms_afe::crc::crc8_sae_j1850_lsb_first_4(black_box(&header))
    });
    r.case("tle9012/crc3_write_reply", Per::byte(1), || {
        bms_afe::crc::tle9012_write_reply_ok(black_box(0x0B))
    });
}
