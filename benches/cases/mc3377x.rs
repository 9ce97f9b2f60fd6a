//! MC3377xC cases: the full 15-device × 14-cell TPL read (one READ of MEAS_CELL14..MEAS_CELL1
//! per device: echo + 14 responses, every CRC and message counter checked, every cell
//! converted) through the real driver over a replay MC33664 link, the one-device SPI read
//! (15 one-frame-late transfers), and the CRC-8 at the frame sizes used (4 bytes on the B
//! silicon, 5 on the C silicon).
//!
//! Bytes on the wire for the TPL read: 6 request + 6 echo + 14 × 6 response bytes per device,
//! 1440 for 15 devices; that is the protocol's minimum for 210 registers (one 48-bit frame per
//! register plus one request and its echo per device), against 420 bytes of cell codes.

use core::cell::Cell;
use core::convert::Infallible;
use core::hint::black_box;

use bms_afe::crc::crc8_nxp_bcc;
use bms_afe::io::Blocking;
use bms_afe::mc3377x::{Mc3377x, Mc33771c, Spi, Tpl, TplLink};
use bms_afe::monitor::Reading;
use bms_afe::units::MicroVolts;

use crate::support::mock::{NoDelay, ReplaySpi, WireCount};
use crate::support::{Per, Runner};

/// A replaying MC33664 link: every transfer takes the next `rx.len()` canned bytes.
struct ReplayTpl<'a> {
    rx: &'a [u8],
    pos: usize,
    wire: &'a WireCount,
}

impl TplLink for ReplayTpl<'_> {
    type Error = Infallible;
    #[inline]
    fn transfer(&mut self, frame: &[u8], rx: &mut [u8], _t: u32) -> Result<usize, Infallible> {
        let n = rx.len();
        if self.pos + n > self.rx.len() {
            self.pos = 0;
        }
        rx.copy_from_slice(&self.rx[self.pos..self.pos + n]);
        self.pos += n;
        self.wire.set(self.wire.get() + frame.len() + n);
        Ok(n)
    }
    fn set_csb_tx(&mut self, _high: bool) -> Result<(), Infallible> {
        Ok(())
    }
}

fn frame(data: u16, reg: u8, cid: u8, cnt_cmd: u8) -> [u8; 6] {
    let [h, l] = data.to_be_bytes();
    let mut f = [h, l, reg, cid, cnt_cmd, 0];
    f[5] = crc8_nxp_bcc(&f[..5]);
    f
}

/// Cell code of device `d`, input `n` (MEAS_CELLn).
fn code(d: usize, n: usize) -> u16 {
    0x5000 + (d as u16) * 17 + (n as u16) * 3
}

/// Eight iterations of canned answers (8 × 14 frames = 7 full turns of the 4-bit counter,
/// so the replay wraps onto a consistent counter).
fn tpl_rx(devices: usize) -> Vec<u8> {
    let mut rx = Vec::new();
    for it in 0..8usize {
        for d in 0..devices {
            let cid = d as u8 + 1;
            rx.extend(frame(14, 0x33, cid, 0x01));
            for j in 0..14usize {
                let reg = 0x33 + j as u8;
                let n = 0x41 - usize::from(reg);
                let cnt = ((it * 14 + j) & 0xF) as u8;
                rx.extend(frame(0x8000 | code(d, n), reg, cid, cnt << 4 | 1));
            }
        }
    }
    rx
}

fn spi_rx() -> Vec<u8> {
    let mut rx = Vec::new();
    for it in 0..16usize {
        for j in 0..15usize {
            // Transfer j answers the frame before: j = 0 is the last READ of the previous
            // iteration (0x41), j ≥ 1 is MEAS_CELL(15 − j).
            let reg = if j == 0 { 0x41 } else { 0x33 + j as u8 - 1 };
            let n = 0x41usize.saturating_sub(usize::from(reg));
            let cnt = ((it * 15 + j) & 0xF) as u8;
            let v = if j == 0 { 0 } else { 0x8000 | code(0, n) };
            rx.extend(frame(v, reg, 1, cnt << 4 | 1));
        }
    }
    rx
}

fn expected(d: usize, cell: usize) -> Reading<MicroVolts> {
    // 14 cells: cell i on input i + 1.
    let c = u32::from(code(d, cell + 1));
    Reading::Valid(MicroVolts(((c * 78_125) >> 9) as i32))
}

pub fn register(r: &mut Runner) {
    // The canned frames use the crate's CRC: check it against the MC33771B data-sheet example
    // first (frame 01 01 08 10 → 0x22, community.nxp.com thread 1801911).
    assert_eq!(crc8_nxp_bcc(&[0x01, 0x01, 0x08, 0x10]), 0x22);

    let data: [u8; 5] = super::bytes(0x0BCC_0042);
    r.case("crc8_nxp_bcc/4", Per::byte(4), || {
        crc8_nxp_bcc(black_box(&data[..4]))
    });
    r.case("crc8_nxp_bcc/5", Per::byte(5), || {
        crc8_nxp_bcc(black_box(&data[..5]))
    });
    let f = frame(0x1234, 0x40, 1, 0x31);
    r.case("crc8_nxp_bcc_frame_ok/6", Per::frame(1), || {
        bms_afe::crc::crc8_nxp_bcc_frame_ok(black_box(&f))
    });
    r.case("mc3377x/parse_frame", Per::frame(1), || {
        bms_afe::mc3377x::frame::parse_c(black_box(&f))
    });

    let rx = tpl_rx(15);
    let wire = Cell::new(0);
    let link = ReplayTpl {
        rx: &rx,
        pos: 0,
        wire: &wire,
    };
    let mut afe =
        Mc3377x::<Mc33771c, Tpl, 15, _>::new_tpl(Blocking::new(link, NoDelay), 14).expect("driver");
    let mut cells = [[Reading::NotConverted; 14]; 15];
    let rep = afe
        .read_cell_voltages(cells.as_flattened_mut())
        .expect("read");
    assert!(rep.is_ok(), "canned frames rejected: {rep:?}");
    for (d, dev) in cells.iter().enumerate() {
        for (c, v) in dev.iter().enumerate() {
            assert_eq!(*v, expected(d, c), "device {d} cell {}", c + 1);
        }
    }
    r.bus_case("mc33771cx15/read_cells_tpl", Per::cell(210), &wire, || {
        afe.read_cell_voltages(black_box(cells.as_flattened_mut()))
    });

    let rx = spi_rx();
    let wire = Cell::new(0);
    let mut afe = Mc3377x::<Mc33771c, Spi, 1, _>::new_spi(
        Blocking::new(ReplaySpi::new(&rx, &wire), NoDelay),
        14,
    )
    .expect("driver");
    let mut cells = [Reading::NotConverted; 14];
    let rep = afe.read_cell_voltages(&mut cells).expect("read");
    assert!(rep.is_ok(), "canned SPI frames rejected: {rep:?}");
    for (c, v) in cells.iter().enumerate() {
        assert_eq!(*v, expected(0, c), "SPI cell {}", c + 1);
    }
    r.bus_case("mc33771cx1/read_cells_spi", Per::cell(14), &wire, || {
        afe.read_cell_voltages(black_box(&mut cells))
    });
}
