//! TLE9012 frames on the wire: the published request vectors, byte for byte as a normal
//! (LSB-first) UART sends them, from the public driver through a scripted UART, blocking and
//! async from one list; reply checking (CRC-8, CRC-3, node and register, echo).
//!
//! Vectors: the CRC values are those of the open implementations' CRC routines
//! (MaxMax-embedded/TLE9012_Arduino_Lib `TLE9012.cpp` `crc8`/`crc3`, maekdev/pyTLE9012DQU
//! `tle9012dqu/control.py` `CRC_calc`, guilettmann/bms_tle9012 `crc_j1850.c`, which states it
//! reproduces the user manual Z8F80064984 Rev 1.0 example tables 7–20), recomputed with the
//! independent oracle in `tests/common/tle9012.rs`; the CONFIG value 0x0801 is the ID-1 +
//! final-node write of pyTLE9012DQU `assignNodeID`, 0xC404 its `reset`, 0xE021 its cell
//! conversion start.
#![cfg(feature = "sim")]

use bms_afe::error::{ErrorKind, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::sim::{Clock, Sim, SimError, UartModel};
use bms_afe::tle9012::Tle9012;
use bms_afe::tle9012::frame::{
    WireOrder, parse_read_reply, parse_write_reply, read_request, write_reply, write_request,
};
use bms_afe::tle9012::register::Register;

mod common;
#[path = "common/tle9012.rs"]
mod tle;
use common::block_on;
use tle::{mirror, oracle_crc3, oracle_crc8_j1850, reply};

/// (logical request without CRC, CRC, bytes an LSB-first UART sends).
const VECTORS: [(&[u8], u8, &[u8]); 5] = [
    (&[0x1E, 0x01, 0x39], 0x13, &[0x78, 0x80, 0x9C, 0xC8]),
    (
        &[0x1E, 0x80, 0x36, 0x08, 0x01],
        0xB7,
        &[0x78, 0x01, 0x6C, 0x10, 0x80, 0xED],
    ),
    (
        &[0x1E, 0xBF, 0x14, 0xC4, 0x04],
        0xBE,
        &[0x78, 0xFD, 0x28, 0x23, 0x20, 0x7D],
    ),
    (
        &[0x1E, 0x81, 0x18, 0xE0, 0x21],
        0x98,
        &[0x78, 0x81, 0x18, 0x07, 0x84, 0x19],
    ),
    (&[0x1E, 0x01, 0x19], 0x94, &[0x78, 0x80, 0x98, 0x29]),
];

#[test]
fn oracles_reproduce_the_published_vectors() {
    assert_eq!(oracle_crc8_j1850(b"123456789"), 0x4B, "catalogue check");
    for (req, crc, wire) in VECTORS {
        assert_eq!(oracle_crc8_j1850(req), crc);
        let mut full = req.to_vec();
        full.push(crc);
        assert_eq!(full.iter().map(|&b| mirror(b)).collect::<Vec<_>>(), wire);
    }
    // Write-reply bytes: status 0x00/0x01/0x10/0x1F carry CRC-3 0/3/1/6 (TLE9012_Arduino_Lib
    // `crc3`).
    for (status, crc) in [(0x00, 0), (0x01, 3), (0x10, 1), (0x1F, 6)] {
        assert_eq!(oracle_crc3(status), crc);
    }
}

#[test]
fn crate_frames_match_the_vectors() {
    assert_eq!(bms_afe::crc::crc8_sae_j1850(b"123456789"), 0x4B);
    let frames: [Vec<u8>; 5] = [
        read_request(1, 0x39).to_vec(),
        write_request(0, 0x36, 0x0801).to_vec(),
        write_request(0x3F, 0x14, 0xC404).to_vec(),
        write_request(1, 0x18, 0xE021).to_vec(),
        read_request(1, 0x19).to_vec(),
    ];
    for ((req, crc, wire), f) in VECTORS.iter().zip(frames) {
        assert_eq!(&f[..f.len() - 1], *req);
        assert_eq!(f[f.len() - 1], *crc);
        let mut w = f.clone();
        WireOrder::LsbFirstUart.apply(&mut w);
        assert_eq!(&w, wire);
        let mut m = f.clone();
        WireOrder::MsbFirstUart.apply(&mut m);
        assert_eq!(m, f);
    }
    for status in 0..32u8 {
        let b = status << 3 | oracle_crc3(status);
        assert_eq!(write_reply(status), b);
        assert_eq!(parse_write_reply(b).map(|r| r.status), Ok(status));
    }
    // Invalid examples: 0x01, 0x08, 0x0A (TLE9012_Arduino_Lib `crc3` rejects them).
    for b in [0x01u8, 0x08, 0x0A] {
        assert!(matches!(parse_write_reply(b), Err(FaultReason::Crc { .. })));
    }
    let r = reply(1, 0x39, 0xC140);
    let ok = parse_read_reply(&r).unwrap();
    assert_eq!((ok.node, ok.register, ok.value), (1, 0x39, 0xC140));
    let mut bad = r;
    bad[4] ^= 0x01;
    assert_eq!(
        parse_read_reply(&bad),
        Err(FaultReason::Crc {
            expected: r[4],
            received: r[4] ^ 1
        })
    );
}

/// A UART that expects one request after another (wire bytes) and answers each with its echo
/// followed by the scripted reply (wire bytes).
struct Script {
    steps: Vec<(Vec<u8>, Vec<u8>)>,
    next: usize,
    got: Vec<u8>,
    out: Vec<u8>,
    mismatch: Option<String>,
    echo_flip: bool,
}

impl Script {
    fn new(steps: Vec<(Vec<u8>, Vec<u8>)>) -> Self {
        Self {
            steps,
            next: 0,
            got: Vec::new(),
            out: Vec::new(),
            mismatch: None,
            echo_flip: false,
        }
    }
}

impl Clock for Script {
    fn advance_ns(&mut self, _ns: u64) {}
}

impl UartModel for Script {
    fn receive(&mut self, bytes: &[u8]) -> Result<(), SimError> {
        self.got.extend_from_slice(bytes);
        let Some((req, resp)) = self.steps.get(self.next) else {
            self.mismatch = Some(format!("unexpected bytes {:02X?}", self.got));
            return Ok(());
        };
        if self.got.len() >= req.len() {
            if self.got[..req.len()] != req[..] {
                self.mismatch = Some(format!(
                    "step {}: sent {:02X?}, want {:02X?}",
                    self.next, self.got, req
                ));
            }
            let mut echo = req.clone();
            if self.echo_flip {
                echo[2] ^= 0x10;
            }
            self.out.extend_from_slice(&echo);
            self.out.extend_from_slice(resp);
            self.got.clear();
            self.next += 1;
        }
        Ok(())
    }
    fn pending(&self) -> usize {
        self.out.len()
    }
    fn transmit(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.out.len());
        buf[..n].copy_from_slice(&self.out[..n]);
        self.out.drain(..n);
        n
    }
}

fn wire(logical: &[u8]) -> Vec<u8> {
    logical.iter().map(|&b| mirror(b)).collect()
}

fn with_crc(req: &[u8]) -> Vec<u8> {
    let mut v = req.to_vec();
    v.push(oracle_crc8_j1850(req));
    v
}

/// The steps of: read ICVID of device 0, write MEAS_CTRL 0xE021 to device 0, read PCVM_0.
fn script() -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![
        (VECTORS[0].2.to_vec(), wire(&reply(1, 0x39, 0xC140))),
        (VECTORS[3].2.to_vec(), wire(&[oracle_crc3(0)])),
        (VECTORS[4].2.to_vec(), wire(&reply(1, 0x19, 0x8000))),
    ]
}

macro_rules! register_access {
    ($d:ident, $w:ident) => {{
        assert_eq!($w($d.read_register(0, Register::ICVID)), Ok(0xC140));
        assert_eq!(
            $w($d.write_register(0, Register::MEAS_CTRL, 0xE021)),
            Ok(())
        );
        assert_eq!($w($d.read_register(0, Register::PCVM_0)), Ok(0x8000));
    }};
}

#[test]
fn published_requests_on_the_wire() {
    let sim = Sim::new(Script::new(script()));
    let mut d = Tle9012::<1, _>::new(Blocking::new(sim.serial(), sim.delay()));
    register_access!(d, id);
    sim.with(|m| {
        assert_eq!(m.mismatch, None);
        assert_eq!(m.next, 3);
    });
    let sim = Sim::new(Script::new(script()));
    let mut d = Tle9012::<1, _>::new(Async::new(sim.serial(), sim.delay()));
    register_access!(d, block_on);
    sim.with(|m| {
        assert_eq!(m.mismatch, None);
        assert_eq!(m.next, 3);
    });
}

fn id<X>(x: X) -> X {
    x
}

/// One device answers every try of a request with `resp`: the error names device 0 and the
/// reason; the request was re-issued in full (1 + 2 retries).
fn fails_with(resp: Vec<u8>, reason: FaultReason) {
    let steps = vec![(VECTORS[0].2.to_vec(), resp); 3];
    let sim = Sim::new(Script::new(steps));
    let mut d = Tle9012::<1, _>::new(Blocking::new(sim.serial(), sim.delay()));
    let e = d.read_register(0, Register::ICVID).unwrap_err();
    assert_eq!(e.device(), Some(0));
    assert_eq!(
        e,
        bms_afe::Error::Integrity(bms_afe::error::DeviceFault { device: 0, reason })
    );
    sim.with(|m| {
        assert_eq!(m.next, 3, "three full attempts");
        assert_eq!(m.mismatch, None);
    });
}

#[test]
fn bad_replies_fail_named() {
    let good = reply(1, 0x39, 0xC140);
    let mut crc = good;
    crc[3] ^= 0x04;
    fails_with(
        wire(&crc),
        FaultReason::Crc {
            expected: oracle_crc8_j1850(&crc[..4]),
            received: good[4],
        },
    );
    // Intact frame from the wrong node or for the wrong register.
    fails_with(wire(&reply(2, 0x39, 0xC140)), FaultReason::Framing);
    fails_with(wire(&reply(1, 0x3A, 0xC140)), FaultReason::Framing);
    // Nothing, or a cut frame.
    fails_with(Vec::new(), FaultReason::NoResponse);
    fails_with(wire(&good[..3]), FaultReason::NoResponse);
}

#[test]
fn bad_echo_and_write_reply_fail() {
    let mut s = Script::new(vec![
        (VECTORS[0].2.to_vec(), wire(&reply(1, 0x39, 0xC140)));
        3
    ]);
    s.echo_flip = true;
    let sim = Sim::new(s);
    let mut d = Tle9012::<1, _>::new(Blocking::new(sim.serial(), sim.delay()));
    let e = d.read_register(0, Register::ICVID).unwrap_err();
    assert_eq!(
        e,
        bms_afe::Error::Integrity(bms_afe::error::DeviceFault {
            device: 0,
            reason: FaultReason::Framing
        })
    );
    // A write reply with a bad CRC-3, then one with a non-zero status: both refused.
    for b in [0x01u8, 0x01 << 3 | oracle_crc3(0x01)] {
        let s = Script::new(vec![(VECTORS[3].2.to_vec(), wire(&[b])); 3]);
        let sim = Sim::new(s);
        let mut d = Tle9012::<1, _>::new(Blocking::new(sim.serial(), sim.delay()));
        let e = d
            .write_register(0, Register::MEAS_CTRL, 0xE021)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Integrity);
        assert_eq!(e.device(), Some(0));
    }
}

#[test]
fn requests_use_the_whole_frame_for_the_crc() {
    // The CRC covers the sync byte: a frame built without it would differ.
    let f = read_request(1, 0x39);
    assert_ne!(oracle_crc8_j1850(&f[1..3]), f[3]);
    assert_eq!(with_crc(&f[..3]), f.to_vec());
}

fn broadcast_read(reg: u8) -> Vec<u8> {
    wire(&with_crc(&[0x1E, 0x3F, reg]))
}

#[test]
fn broadcast_replies_are_matched_by_node_id() {
    use bms_afe::monitor::Reading;
    let dev = |device| bms_afe::error::DeviceFault {
        device,
        reason: FaultReason::Framing,
    };
    // Replies out of order are fine: matched by ID.
    let mut resp = wire(&reply(2, 0x0B, 0x2000));
    resp.extend(wire(&reply(1, 0x0B, 0x1000)));
    let sim = Sim::new(Script::new(vec![(broadcast_read(0x0B), resp)]));
    let mut d = Tle9012::<2, _>::new(Blocking::new(sim.serial(), sim.delay()));
    let mut out = [Reading::NotConverted; 2];
    assert!(
        d.read_register_all(Register::GEN_DIAG, &mut out)
            .unwrap()
            .is_ok()
    );
    assert_eq!(out, [Reading::Valid(0x1000), Reading::Valid(0x2000)]);

    // Node 1 twice (an ID assigned twice): node 1 fails as Framing, node 2 as missing; every
    // attempt is re-issued in full.
    let mut resp = wire(&reply(1, 0x0B, 0x1000));
    resp.extend(wire(&reply(1, 0x0B, 0x1001)));
    let sim = Sim::new(Script::new(vec![(broadcast_read(0x0B), resp); 3]));
    let mut d = Tle9012::<2, _>::new(Blocking::new(sim.serial(), sim.delay()));
    let r = d.read_register_all(Register::GEN_DIAG, &mut out).unwrap();
    assert_eq!(r.failed.iter().collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!(out[0], Reading::Failed(dev(0)));
    assert_eq!(
        out[1],
        Reading::Failed(bms_afe::error::DeviceFault {
            device: 1,
            reason: FaultReason::NoResponse
        })
    );
    sim.with(|m| assert_eq!(m.next, 3));

    // A bad echo fails every device it addressed.
    let mut s = Script::new(vec![(broadcast_read(0x0B), Vec::new()); 3]);
    s.echo_flip = true;
    let sim = Sim::new(s);
    let mut d = Tle9012::<2, _>::new(Blocking::new(sim.serial(), sim.delay()));
    let r = d.read_register_all(Register::GEN_DIAG, &mut out).unwrap();
    assert_eq!(r.failed.len(), 2);
    assert_eq!(out, [Reading::Failed(dev(0)), Reading::Failed(dev(1))]);
}
