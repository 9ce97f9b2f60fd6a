//! BQ7961x frames on the wire: TI's published frames, frames built by the crate compared with an
//! independent bit-serial CRC oracle, and the exact bytes the driver sends for bring-up, a cell
//! read, a ring recovery and a fault reset — blocking and async from one body.
//!
//! Published vectors (full frames, CRC in wire order, residue 0):
//! * SLVAE86B rev. B "BQ79616-Q1 Software Design Reference", Tables 1-2 … 1-5
//!   (<https://www.ti.com/lit/pdf/slvae86>): the tables print the CRC in wire order.
//! * SLUSDQ4 (BQ79606A-Q1 data sheet, same frame format), Table 18 (broadcast write; CRC printed
//!   as the value 0x336A, wire `6A 33`) and Table 20 (response frame, wire `AC 33`).
#![cfg(feature = "sim")]

use bms_afe::bq79616::frame::{self, Request};
use bms_afe::bq79616::{Bq79616, Bq79616Q1};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, ConversionMode, Reading};
use bms_afe::sim::bq79616::Bq79616Stack;
use bms_afe::sim::{Clock, InjectedFault, Sim, SimError, UartModel, VirtualChip};
use bms_afe::units::MicroVolts;

mod common;
use common::{block_on, oracle_crc16, ti_frame};

const PUBLISHED: [&[u8]; 7] = [
    // SLVAE86B Table 1-2 / SLUSDQ4 Table 13: single read, device 0, 0x0215, 12 bytes.
    &[0x80, 0x00, 0x02, 0x15, 0x0B, 0xCB, 0x49],
    // SLVAE86B Table 1-3: single write, device 0, 4 bytes at 0x0100.
    &[0x93, 0x00, 0x01, 0x00, 0x02, 0xB7, 0x78, 0xBC, 0x9A, 0x8C],
    // SLVAE86B Table 1-4: stack read 0x0215, 12 bytes.
    &[0xA0, 0x02, 0x15, 0x0B, 0xCC, 0xB3],
    // SLVAE86B Table 1-5: stack write 4 bytes at 0x0100.
    &[0xB3, 0x01, 0x00, 0x02, 0xB7, 0x78, 0xBC, 0x0A, 0x35],
    // SLUSDQ4 Table 18: broadcast write 4 bytes at 0x0100 (printed as the value 0x336A).
    &[0xD3, 0x01, 0x00, 0x02, 0xB7, 0x78, 0xBC, 0x6A, 0x33],
    // SLUSDQ4 Table 20: response from device 5, 12 bytes from 0x0215.
    &[
        0x0B, 0x05, 0x02, 0x15, 0xC1, 0x24, 0x45, 0x6F, 0xF4, 0x39, 0x71, 0x20, 0x28, 0x61, 0x68,
        0x1F, 0xAC, 0x33,
    ],
    // CRC-16/MODBUS catalogue check value 0x4B37 of "123456789", wire order.
    b"123456789\x37\x4B",
];

#[test]
fn oracle_and_crate_give_residue_zero_on_published_frames() {
    for f in PUBLISHED {
        assert_eq!(oracle_crc16(f), [0, 0], "oracle residue {f:02X?}");
        assert!(frame::crc_ok(f), "crate residue {f:02X?}");
        assert_eq!(&oracle_crc16(&f[..f.len() - 2])[..], &f[f.len() - 2..]);
    }
}

#[test]
fn crate_builds_the_published_command_frames() {
    let data = [0x02, 0xB7, 0x78, 0xBC];
    let cases: [(frame::Command, &[u8]); 5] = [
        (
            frame::read(Request::SingleRead, 0, 0x0215, 12).unwrap(),
            PUBLISHED[0],
        ),
        (
            frame::write(Request::SingleWrite, 0, 0x0100, &data).unwrap(),
            PUBLISHED[1],
        ),
        (
            frame::read(Request::StackRead, 0, 0x0215, 12).unwrap(),
            PUBLISHED[2],
        ),
        (
            frame::write(Request::StackWrite, 0, 0x0100, &data).unwrap(),
            PUBLISHED[3],
        ),
        (
            frame::write(Request::BroadcastWrite, 0, 0x0100, &data).unwrap(),
            PUBLISHED[4],
        ),
    ];
    for (built, want) in cases {
        assert_eq!(built.as_bytes(), want);
    }
}

#[test]
fn published_response_parses_and_every_flip_fails() {
    let f = PUBLISHED[5];
    let r = frame::parse_response(f, 0x0215, 12).unwrap();
    assert_eq!(r.device, 5);
    assert_eq!(r.register, 0x0215);
    assert_eq!(r.data, &f[4..16]);
    // Wrong expectations are framing errors, not data.
    assert!(frame::parse_response(f, 0x0216, 12).is_err());
    assert!(frame::parse_response(&f[..17], 0x0215, 12).is_err());
    for bit in 0..f.len() * 8 {
        let mut g = f.to_vec();
        g[bit / 8] ^= 1 << (bit % 8);
        assert!(frame::parse_response(&g, 0x0215, 12).is_err(), "flip {bit}");
    }
}

#[test]
fn crate_frames_match_the_oracle() {
    // Bodies of the frames the driver sends (register addresses per SLUSE81E §9.5); the CRC is
    // the oracle's, not the crate's.
    let cases: [(frame::Command, &[u8]); 10] = [
        (
            frame::read(Request::SingleRead, 1, 0x0568, 32).unwrap(),
            &[0x80, 0x01, 0x05, 0x68, 0x1F],
        ),
        (
            frame::read(Request::StackRead, 0, 0x0568, 32).unwrap(),
            &[0xA0, 0x05, 0x68, 0x1F],
        ),
        (
            frame::read(Request::BroadcastRead, 0, 0x0568, 32).unwrap(),
            &[0xC0, 0x05, 0x68, 0x1F],
        ),
        (
            frame::write(Request::SingleWrite, 1, 0x0003, &[0x0A]).unwrap(),
            &[0x90, 0x01, 0x00, 0x03, 0x0A],
        ),
        (
            frame::write(Request::StackWrite, 0, 0x030D, &[0x06]).unwrap(),
            &[0xB0, 0x03, 0x0D, 0x06],
        ),
        (
            frame::write(Request::SingleWrite, 0, 0x0309, &[0x20]).unwrap(),
            &[0x90, 0x00, 0x03, 0x09, 0x20],
        ),
        (
            frame::write(Request::StackWrite, 0, 0x0343, &[0x00]).unwrap(),
            &[0xB0, 0x03, 0x43, 0x00],
        ),
        (
            frame::read(Request::SingleRead, 0, 0x2001, 1).unwrap(),
            &[0x80, 0x00, 0x20, 0x01, 0x00],
        ),
        (
            frame::write(Request::BroadcastWriteReverse, 0, 0x0309, &[0x80]).unwrap(),
            &[0xE0, 0x03, 0x09, 0x80],
        ),
        (
            frame::write(Request::BroadcastWrite, 0, 0x0331, &[0xFF, 0xFF]).unwrap(),
            &[0xD1, 0x03, 0x31, 0xFF, 0xFF],
        ),
    ];
    for (built, body) in cases {
        assert_eq!(built.as_bytes(), ti_frame(body), "{body:02X?}");
    }
    // Two of them written out: bridge CONTROL1 = SEND_WAKE → CRC bytes 13 95; the
    // broadcast-reverse DIR_SEL write → C0 14.
    assert_eq!(oracle_crc16(&[0x90, 0x00, 0x03, 0x09, 0x20]), [0x13, 0x95]);
    assert_eq!(oracle_crc16(&[0xE0, 0x03, 0x09, 0x80]), [0xC0, 0x14]);
}

/// Records every byte the host sends, then hands them to the virtual stack.
struct Recorder<const N: usize> {
    log: Vec<u8>,
    inner: Bq79616Stack<N>,
}

impl<const N: usize> Clock for Recorder<N> {
    fn advance_ns(&mut self, ns: u64) {
        self.inner.advance_ns(ns)
    }
}

impl<const N: usize> UartModel for Recorder<N> {
    fn receive(&mut self, bytes: &[u8]) -> Result<(), SimError> {
        self.log.extend_from_slice(bytes);
        self.inner.receive(bytes)
    }
    fn pending(&self) -> usize {
        self.inner.pending()
    }
    fn transmit(&mut self, buf: &mut [u8]) -> usize {
        self.inner.transmit(buf)
    }
    fn line_low(&mut self, low: bool) {
        self.inner.line_low(low)
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The bring-up sequence as bytes (SLUAA17A / TI BQ79600 sample order), for a bridge + 2.
fn bring_up_bytes() -> Vec<u8> {
    let mut v = ti_frame(&[0x90, 0x00, 0x03, 0x09, 0x20]);
    for r in 0x43..=0x4A {
        v.extend(ti_frame(&[0xB0, 0x03, r, 0x00]));
    }
    v.extend(ti_frame(&[0xD0, 0x03, 0x09, 0x01]));
    for a in 0..=2 {
        v.extend(ti_frame(&[0xD0, 0x03, 0x06, a]));
    }
    v.extend(ti_frame(&[0xD0, 0x03, 0x08, 0x02]));
    v.extend(ti_frame(&[0x90, 0x02, 0x03, 0x08, 0x03]));
    for r in 0x43..=0x4A {
        v.extend(ti_frame(&[0xA0, 0x03, r, 0x00]));
    }
    for a in 1..=2 {
        v.extend(ti_frame(&[0x80, a, 0x03, 0x06, 0x00]));
    }
    v
}

macro_rules! both {
    (|$sim:ident, $d:ident, $run:ident| $body:block) => {{
        {
            let $sim = Sim::new(Recorder {
                log: Vec::new(),
                inner: Bq79616Stack::<2>::bridge(16).with_ring(),
            });
            let mut $d =
                Bq79616::<Bq79616Q1, 2, _>::new_bridge(Blocking::new($sim.serial(), $sim.delay()));
            macro_rules! $run {
                (mon $m:ident($e:expr)) => {
                    CellMonitor::$m(&mut $d, $e)
                };
                (mon $m:ident($a:expr, $e:expr)) => {
                    CellMonitor::$m(&mut $d, $a, $e)
                };
                ($m:ident()) => {
                    $d.$m()
                };
            }
            $body
        }
        {
            let $sim = Sim::new(Recorder {
                log: Vec::new(),
                inner: Bq79616Stack::<2>::bridge(16).with_ring(),
            });
            let mut $d =
                Bq79616::<Bq79616Q1, 2, _>::new_bridge(Async::new($sim.serial(), $sim.delay()));
            macro_rules! $run {
                (mon $m:ident($e:expr)) => {
                    block_on(AsyncCellMonitor::$m(&mut $d, $e))
                };
                (mon $m:ident($a:expr, $e:expr)) => {
                    block_on(AsyncCellMonitor::$m(&mut $d, $a, $e))
                };
                ($m:ident()) => {
                    block_on($d.$m())
                };
            }
            $body
        }
    }};
}

#[test]
fn driver_sends_the_documented_sequences() {
    both!(|sim, d, run| {
        run!(bring_up()).unwrap();
        let log = sim.with(|m| core::mem::take(&mut m.log));
        let want = bring_up_bytes();
        assert_eq!(&log[..want.len()], &want[..], "bring-up");
        // Then ACTIVE_CELL = 16S to the stack, read back, and the fault resets.
        assert!(contains(&log, &ti_frame(&[0xB0, 0x00, 0x03, 0x0A])));
        assert!(contains(&log, &ti_frame(&[0xA0, 0x00, 0x03, 0x00])));
        assert!(contains(&log, &ti_frame(&[0xB1, 0x03, 0x31, 0xFF, 0xFF])));
        assert!(contains(&log, &ti_frame(&[0x90, 0x00, 0x20, 0x30, 0x22])));

        // A conversion and a 16-cell read: ADC_CTRL1 = 0x06 (continuous + MAIN_GO), then one
        // stack read of 32 bytes from VCELL16_HI.
        let mut cells = [Reading::NotConverted; 32];
        assert!(
            run!(mon measure_cells(ConversionMode::Normal, &mut cells))
                .unwrap()
                .is_ok()
        );
        let log = sim.with(|m| core::mem::take(&mut m.log));
        let mut want = ti_frame(&[0xB0, 0x03, 0x0D, 0x06]);
        want.extend(ti_frame(&[0xA0, 0x05, 0x68, 0x1F]));
        assert_eq!(log, want, "one conversion and one read, nothing else");

        // Ring recovery after a cut between devices 0 and 1: the broadcast-reverse DIR_SEL.
        sim.with(|m| m.inner.inject(InjectedFault::BreakAfter { after: 0 }));
        let ring = run!(recover_ring()).unwrap();
        assert_eq!(ring.break_after, Some(0));
        let log = sim.with(|m| core::mem::take(&mut m.log));
        assert!(contains(&log, &ti_frame(&[0x90, 0x00, 0x03, 0x09, 0x80])));
        assert!(contains(&log, &ti_frame(&[0xE0, 0x03, 0x09, 0x80])));
        assert!(contains(&log, &ti_frame(&[0xD0, 0x03, 0x09, 0x81])));
        assert!(contains(&log, &ti_frame(&[0xD0, 0x03, 0x07, 0x02])));
        let mut cells = [Reading::NotConverted; 32];
        let r = run!(mon measure_cells(ConversionMode::Normal, &mut cells)).unwrap();
        assert!(r.is_ok());
        assert!(matches!(cells[16], Reading::Valid(MicroVolts(v)) if (v - 3_600_000).abs() <= 96));
        let _ = sim.with(|m| m.inner.device_count());
    });
}

/// Puts junk on the line: `stale` bytes before each command is answered (left over from an
/// earlier exchange) or `inline` bytes in front of the response itself.
struct Noisy<const N: usize> {
    inner: Bq79616Stack<N>,
    stale: usize,
    inline: usize,
    junk_left: usize,
}

impl<const N: usize> Clock for Noisy<N> {
    fn advance_ns(&mut self, ns: u64) {
        self.inner.advance_ns(ns)
    }
}

impl<const N: usize> UartModel for Noisy<N> {
    fn receive(&mut self, bytes: &[u8]) -> Result<(), SimError> {
        self.junk_left = self.inline;
        self.inner.receive(bytes)
    }
    fn pending(&self) -> usize {
        self.inner.pending() + self.junk_left + self.stale
    }
    fn transmit(&mut self, buf: &mut [u8]) -> usize {
        if self.stale > 0 || (self.junk_left > 0 && self.inner.pending() > 0) {
            if let Some(b) = buf.first_mut() {
                *b = 0x5A;
                if self.stale > 0 {
                    self.stale -= 1;
                } else {
                    self.junk_left -= 1;
                }
                return 1;
            }
        }
        if self.inner.pending() == 0 {
            self.junk_left = 0;
        }
        self.inner.transmit(buf)
    }
    fn line_low(&mut self, low: bool) {
        self.inner.line_low(low)
    }
}

#[test]
fn stale_bytes_are_drained_and_inline_junk_never_becomes_data() {
    for flavour in 0..2 {
        let sim = Sim::new(Noisy {
            inner: Bq79616Stack::<4>::bridge(16),
            stale: 0,
            inline: 0,
            junk_left: 0,
        });
        let mut cells = [Reading::NotConverted; 64];
        if flavour == 0 {
            let mut d =
                Bq79616::<Bq79616Q1, 4, _>::new_bridge(Blocking::new(sim.serial(), sim.delay()));
            d.bring_up().unwrap();
            CellMonitor::measure_cells(&mut d, ConversionMode::Normal, &mut cells).unwrap();
            // Stale bytes waiting before the command: drained, the read is clean.
            sim.with(|m| m.stale = 13);
            assert!(
                CellMonitor::read_cell_voltages(&mut d, &mut cells)
                    .unwrap()
                    .is_ok()
            );
            assert!(cells.iter().all(Reading::is_valid));
            // Junk in front of every response: every frame is misaligned, every device fails,
            // nothing is handed out.
            sim.with(|m| m.inline = 3);
            let r = CellMonitor::read_cell_voltages(&mut d, &mut cells).unwrap();
            assert_eq!(r.failed.len(), 4);
            assert!(!cells.iter().any(Reading::is_valid));
            sim.with(|m| m.inline = 0);
            assert!(
                CellMonitor::read_cell_voltages(&mut d, &mut cells)
                    .unwrap()
                    .is_ok()
            );
        } else {
            let mut d =
                Bq79616::<Bq79616Q1, 4, _>::new_bridge(Async::new(sim.serial(), sim.delay()));
            block_on(d.bring_up()).unwrap();
            block_on(AsyncCellMonitor::measure_cells(
                &mut d,
                ConversionMode::Normal,
                &mut cells,
            ))
            .unwrap();
            sim.with(|m| m.stale = 13);
            assert!(
                block_on(AsyncCellMonitor::read_cell_voltages(&mut d, &mut cells))
                    .unwrap()
                    .is_ok()
            );
            assert!(cells.iter().all(Reading::is_valid));
            sim.with(|m| m.inline = 3);
            let r = block_on(AsyncCellMonitor::read_cell_voltages(&mut d, &mut cells)).unwrap();
            assert_eq!(r.failed.len(), 4);
            assert!(!cells.iter().any(Reading::is_valid));
            sim.with(|m| m.inline = 0);
            assert!(
                block_on(AsyncCellMonitor::read_cell_voltages(&mut d, &mut cells))
                    .unwrap()
                    .is_ok()
            );
        }
    }
}
