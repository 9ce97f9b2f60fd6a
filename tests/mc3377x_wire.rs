//! MC3377xC wire vectors, blocking and async from one list: direct SPI through
//! embedded-hal-mock (one-frame-late answers), TPL through a mock MC33664 link.
//!
//! Request frames are built by the test oracle `nxp_frame` (its CRC checked against the
//! published vectors in tests/oracles.rs) or written out from others.md §1.3 (frames laid out
//! as the NXP BCC SW driver v2.2 `BCC_PackFrame` does, MR-BMS771 `bcc_communication.c`).

mod common;
use common::{block_on, nxp_frame};

use std::collections::VecDeque;

use bms_afe::error::{DeviceFault, Error, FaultReason, VerifyMismatch};
use bms_afe::io::{Async, Blocking};
use bms_afe::mc3377x::{AsyncTplLink, Averaging, Mc3377x, Mc33771c, Mc33772c, Spi, Tpl, TplLink};
use bms_afe::monitor::Reading;
use bms_afe::units::MicroVolts;
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::spi::{Mock, Transaction as T};

// ---- direct SPI ------------------------------------------------------------------------------

fn xfer(tx: [u8; 6], rx: [u8; 6]) -> Vec<T<u8>> {
    vec![
        T::transaction_start(),
        T::transfer_in_place(tx.to_vec(), rx.to_vec()),
        T::transaction_end(),
    ]
}

fn read(reg: u8) -> [u8; 6] {
    nxp_frame(0x0001, reg, 1, 0x01)
}

macro_rules! spi_both {
    ($exp:expr, $v:ty, $cells:literal, |$d:ident| $call:expr) => {{
        let exp: Vec<T<u8>> = $exp;
        let mut $d = Mc3377x::<$v, Spi, 1, _>::new_spi(
            Blocking::new(Mock::new(&exp), NoopDelay::new()),
            $cells,
        )
        .unwrap();
        let rb = $call;
        $d.release().release().0.done();
        let mut $d = Mc3377x::<$v, Spi, 1, _>::new_spi(
            Async::new(Mock::new(&exp), NoopDelay::new()),
            $cells,
        )
        .unwrap();
        let ra = block_on(async { $call.await });
        $d.release().release().0.done();
        assert_eq!(rb, ra, "blocking and async disagree");
        rb
    }};
}

/// BCC_Reg_ReadSpi: n + 1 READ frames (data 0x0001, consecutive addresses); the first answer
/// is the previous command's, the second is INIT.
#[test]
fn spi_read_is_answered_one_frame_late() {
    let prev = nxp_frame(0x0080, 0x03, 1, 0x32); // a write's answer, counter 3
    let init = nxp_frame(0x0001, 0x01, 1, 0x41); // INIT = CID 1, counter 4
    let exp = [xfer(read(0x01), prev), xfer(read(0x02), init)].concat();
    let r = spi_both!(exp, Mc33771c, 14, |d| d.read_register(0, 0x01));
    assert_eq!(r, Ok(0x0001));
}

#[test]
fn spi_skipped_counter_fails_the_device_without_a_retry() {
    let prev = nxp_frame(0x0080, 0x03, 1, 0x32);
    let init = nxp_frame(0x0001, 0x01, 1, 0x51); // counter 5 where 4 is due
    let exp = [xfer(read(0x01), prev), xfer(read(0x02), init)].concat();
    let r = spi_both!(exp, Mc33771c, 14, |d| d.read_register(0, 0x01));
    assert_eq!(
        r,
        Err(Error::Integrity(DeviceFault {
            device: 0,
            reason: FaultReason::CommandCounter {
                expected: 4,
                received: 5
            }
        }))
    );
}

#[test]
fn spi_crc_failure_reissues_the_whole_command() {
    let prev = nxp_frame(0x0080, 0x03, 1, 0x32);
    let mut bad = nxp_frame(0x0001, 0x01, 1, 0x41);
    bad[1] ^= 0x04;
    // The retry's first answer is the device's answer to the last READ (counter 5).
    let again = nxp_frame(0x1234, 0x02, 1, 0x51);
    let good = nxp_frame(0x0001, 0x01, 1, 0x61);
    let exp = [
        xfer(read(0x01), prev),
        xfer(read(0x02), bad),
        xfer(read(0x01), again),
        xfer(read(0x02), good),
    ]
    .concat();
    let r = spi_both!(exp, Mc33771c, 14, |d| d.read_register(0, 0x01));
    assert_eq!(r, Ok(0x0001));
}

#[test]
fn spi_idle_bus_is_no_response_after_retries() {
    let mut exp = Vec::new();
    for _ in 0..3 {
        exp.extend(xfer(read(0x01), [0xFF; 6]));
        exp.extend(xfer(read(0x02), [0xFF; 6]));
    }
    let r = spi_both!(exp, Mc33771c, 14, |d| d.read_register(0, 0x01));
    assert_eq!(
        r,
        Err(Error::Integrity(DeviceFault {
            device: 0,
            reason: FaultReason::NoResponse
        }))
    );
}

// ---- TPL through a mock MC33664 ----------------------------------------------------------------

#[derive(Debug, Clone)]
enum Ev {
    /// The frame the host must send, the bytes the link returns, the rx length asked for.
    Frame([u8; 6], Vec<u8>, usize),
    Csb(bool),
}

struct TplMock {
    exp: VecDeque<Ev>,
}

impl TplMock {
    fn new(exp: &[Ev]) -> Self {
        Self {
            exp: exp.iter().cloned().collect(),
        }
    }
    fn done(&self) {
        assert!(self.exp.is_empty(), "expectations left: {:?}", self.exp);
    }
}

impl TplLink for TplMock {
    type Error = ();
    fn transfer(&mut self, frame: &[u8], rx: &mut [u8], timeout_us: u32) -> Result<usize, ()> {
        assert!(timeout_us > 0 && timeout_us < 100_000, "unbounded wait");
        match self.exp.pop_front() {
            Some(Ev::Frame(tx, resp, len)) => {
                assert_eq!(frame, tx, "frame sent");
                assert_eq!(rx.len(), len, "bytes asked for");
                let n = resp.len().min(rx.len());
                rx[..n].copy_from_slice(&resp[..n]);
                Ok(n)
            }
            other => panic!("unexpected frame {frame:02X?}, expected {other:?}"),
        }
    }
    fn set_csb_tx(&mut self, high: bool) -> Result<(), ()> {
        match self.exp.pop_front() {
            Some(Ev::Csb(h)) => {
                assert_eq!(h, high);
                Ok(())
            }
            other => panic!("unexpected CSB_TX {high}, expected {other:?}"),
        }
    }
}

impl AsyncTplLink for TplMock {
    type Error = ();
    async fn transfer(
        &mut self,
        frame: &[u8],
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, ()> {
        TplLink::transfer(self, frame, rx, timeout_us)
    }
    async fn set_csb_tx(&mut self, high: bool) -> Result<(), ()> {
        TplLink::set_csb_tx(self, high)
    }
}

macro_rules! tpl_both {
    ($exp:expr, $v:ty, $n:literal, $cells:literal, |$d:ident| $call:expr) => {{
        let exp: Vec<Ev> = $exp;
        let mut $d = Mc3377x::<$v, Tpl, $n, _>::new_tpl(
            Blocking::new(TplMock::new(&exp), NoopDelay::new()),
            $cells,
        )
        .unwrap();
        let rb = $call;
        $d.release().release().0.done();
        let mut $d = Mc3377x::<$v, Tpl, $n, _>::new_tpl(
            Async::new(TplMock::new(&exp), NoopDelay::new()),
            $cells,
        )
        .unwrap();
        let ra = block_on(async { $call.await });
        $d.release().release().0.done();
        assert_eq!(rb, ra, "blocking and async disagree");
        rb
    }};
}

/// A TPL write or global write: only the MC33664's echo comes back.
fn echo(tx: [u8; 6]) -> Ev {
    Ev::Frame(tx, tx.to_vec(), 6)
}

/// A TPL read of `values.len()` registers from `reg` of `cid`, answered with counters from
/// `first_counter`.
fn tpl_read(cid: u8, reg: u8, values: &[u16], first_counter: u8) -> Ev {
    let tx = nxp_frame(values.len() as u16, reg, cid, 0x01);
    let mut rx = tx.to_vec();
    for (i, v) in values.iter().enumerate() {
        let c = (first_counter + i as u8) & 0xF;
        rx.extend(nxp_frame(*v, reg + i as u8, cid, c << 4 | 1));
    }
    Ev::Frame(tx, rx, 6 * (values.len() + 1))
}

#[test]
fn tpl_conversion_start_is_one_global_write() {
    // others.md §1.3: global write ADC_CFG = 0x083F (SOC, 16-bit ADCs): 08 3F 06 00 03 15.
    let exp = vec![echo([0x08, 0x3F, 0x06, 0x00, 0x03, 0x15])];
    let r = tpl_both!(exp, Mc33771c, 2, 14, |d| d
        .start_conversion(Averaging::NONE));
    assert!(r.unwrap().is_ok());
}

#[test]
fn tpl_raw_block_is_one_read_of_thirty_registers() {
    // others.md §1.3: read 30 registers from CC_NB_SAMPLES (0x2D), CID 1: 00 1E 2D 01 01 8D.
    let values: Vec<u16> = (0..30).map(|i| 0x8000 | (i * 0x111)).collect();
    let Ev::Frame(tx, rx, len) = tpl_read(1, 0x2D, &values, 7) else {
        unreachable!()
    };
    assert_eq!(tx, [0x00, 0x1E, 0x2D, 0x01, 0x01, 0x8D]);
    let exp = vec![Ev::Frame(tx, rx, len)];
    let r = tpl_both!(exp, Mc33771c, 1, 14, |d| d.read_raw_measurements(0));
    assert_eq!(r.unwrap().to_vec(), values);
}

#[test]
fn tpl_bad_echo_is_a_framing_fault_and_reissued() {
    let tx = nxp_frame(1, 0x03, 1, 0x01);
    let mut wrong = tx.to_vec();
    wrong[0] ^= 0x80;
    wrong.extend(nxp_frame(0x0080, 0x03, 1, 0x01));
    let exp = vec![Ev::Frame(tx, wrong, 12), tpl_read(1, 0x03, &[0x0080], 0)];
    let r = tpl_both!(exp, Mc33771c, 1, 14, |d| d.read_register(0, 0x03));
    assert_eq!(r, Ok(0x0080));
}

#[test]
fn tpl_corrupted_device_fails_alone_after_retries() {
    // Two devices, 14 cells: one read of MEAS_CELL14..MEAS_CELL1 (0x33, 14 registers) each.
    let cells: Vec<u16> = (0..14).map(|i| 0x8000 | (0x5000 + i)).collect();
    let mut exp = vec![tpl_read(1, 0x33, &cells, 0)];
    for attempt in 0..3u8 {
        let Ev::Frame(tx, mut rx, len) = tpl_read(2, 0x33, &cells, attempt * 14) else {
            unreachable!()
        };
        rx[6 * 3 + 2] ^= 0x01; // the third response's data, every attempt
        exp.push(Ev::Frame(tx, rx, len));
    }
    let mut out = [Reading::NotConverted; 28];
    let r = tpl_both!(exp, Mc33771c, 2, 14, |d| d.read_cell_voltages(&mut out));
    let rep = r.unwrap();
    assert_eq!(rep.failed.0, 0b10);
    assert!(matches!(
        rep.first_fault,
        Some(DeviceFault {
            device: 1,
            reason: FaultReason::Crc { .. }
        })
    ));
    // Device 0 cell 1 is MEAS_CELL1 (0x40), the last register of the block: 0x500D.
    let lsb = |code: u32| MicroVolts(((code * 78_125) >> 9) as i32);
    assert_eq!(out[0], Reading::Valid(lsb(0x500D)));
    assert_eq!(out[13], Reading::Valid(lsb(0x5000)));
    assert!(
        out[14..]
            .iter()
            .all(|r| matches!(r, Reading::Failed(f) if f.device == 1))
    );
}

#[test]
fn tpl_silent_device_is_no_response_within_the_bound() {
    let tx = nxp_frame(1, 0x48, 1, 0x01);
    let exp = vec![
        Ev::Frame(tx, tx.to_vec(), 12),
        Ev::Frame(tx, tx.to_vec(), 12),
        Ev::Frame(tx, tx.to_vec(), 12),
    ];
    let r = tpl_both!(exp, Mc33771c, 1, 14, |d| d.read_register(0, 0x48));
    assert_eq!(
        r,
        Err(Error::Integrity(DeviceFault {
            device: 0,
            reason: FaultReason::NoResponse
        }))
    );
}

/// Full TPL bring-up of one MC33772C: wake-up pattern, global soft reset, INIT read and
/// written through CID 0 (others.md §1.3 frames 00 01 01 00 01 F4 and 00 01 01 00 02 85),
/// read back from CID 1, then the settings written and verified.
fn init_772(ov_uv_back: u16) -> Vec<Ev> {
    let null = nxp_frame(0, 0, 0, 0x00);
    let read_init_cid0 = [0x00, 0x01, 0x01, 0x00, 0x01, 0xF4];
    let mut rx = read_init_cid0.to_vec();
    rx.extend(null);
    vec![
        Ev::Csb(false),
        Ev::Csb(true),
        Ev::Csb(false),
        Ev::Csb(true),
        echo(nxp_frame(0x0010, 0x03, 0, 0x03)),
        Ev::Frame(read_init_cid0, rx, 12),
        echo([0x00, 0x01, 0x01, 0x00, 0x02, 0x85]),
        tpl_read(1, 0x01, &[0x0001], 1),
        tpl_read(1, 0x03, &[0x0000], 2),
        echo(nxp_frame(0x0080, 0x03, 1, 0x02)),
        tpl_read(1, 0x03, &[0x0080], 3),
        echo(nxp_frame(0xFF00, 0x4B, 1, 0x02)),
        tpl_read(1, 0x4B, &[0xFF00], 4),
        echo(nxp_frame(0xC03F, 0x08, 1, 0x02)),
        tpl_read(1, 0x08, &[ov_uv_back], 5),
    ]
}

#[test]
fn tpl_init_assigns_cid_through_cid0_and_verifies() {
    let r = tpl_both!(init_772(0xC03F), Mc33772c, 1, 6, |d| d.init());
    assert_eq!(r, Ok(()));
}

#[test]
fn tpl_init_names_register_and_bits_that_differ() {
    let r = tpl_both!(init_772(0xC03E), Mc33772c, 1, 6, |d| d.init());
    assert_eq!(
        r,
        Err(Error::Verify(VerifyMismatch {
            device: 0,
            register: "OV_UV_EN",
            offset: 1,
            expected: 0x3F,
            actual: 0x3E
        }))
    );
}
