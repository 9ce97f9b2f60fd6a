//! MAX1785x through the MAX17841B on the wire (embedded-hal-mock), blocking and async from one
//! expectation list. Every expected byte is built here: bridge commands from the MAX17841B
//! register map (foxBMS `mxm_41b_register_map.h`, MAXREFDES1301 `Max17841.h`), message layouts
//! from foxBMS `mxm_battery_management.c`, PECs from the test oracle `oracle_maxim_pec`
//! (checked in `tests/oracles.rs` against foxBMS's self-test vectors and the EngineerZone
//! 583407 capture).

use bms_afe::error::{DeviceFault, ErrorKind, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::max1785x::register::Register;
use bms_afe::max1785x::{Max1785x, Max17853, ReadMode};
use bms_afe::monitor::Reading;
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::spi::{Mock, Transaction as SpiT};

mod common;
use common::{maxim_message, maxim_sealed, oracle_maxim_pec};

/// RX_STATUS values: receive buffer empty (bit 0), a message complete (RX_STOP, bit 1).
const EMPTY: u8 = 0x01;
const STOP: u8 = 0x02;

macro_rules! wire {
    ($n:literal, $exp:expr, |$d:ident, $w:ident| $body:block) => {{
        let exp: Vec<SpiT<u8>> = $exp;
        {
            let mut $d = Max1785x::<Max17853, $n, _>::new(Blocking::new(Mock::new(&exp), NoopDelay::new()));
            use crate::common::id as $w;
            $body
            $d.release().release().0.done();
        }
        {
            let mut $d = Max1785x::<Max17853, $n, _>::new(Async::new(Mock::new(&exp), NoopDelay::new()));
            #[allow(unused_imports)]
            use crate::common::block_on as $w;
            $body
            $d.release().release().0.done();
        }
    }};
}

/// READALL CELL1 request: 03 47 00 + PEC (0x6F).
fn readall_cell1() -> Vec<u8> {
    maxim_sealed(&[0x03, 0x47, 0x00])
}

#[test]
fn readall_one_message_for_the_whole_chain() {
    // Two devices: 3.3 V (code 10813 << 2 = 0xA8F4) and 4.1 V (code 13435 << 2 = 0xD1EC),
    // least significant byte first, device 0 first; DC 0.
    let rx = maxim_sealed(&[0x03, 0x47, 0xF4, 0xA8, 0xEC, 0xD1, 0x00]);
    assert_eq!(readall_cell1(), [0x03, 0x47, 0x00, 0x6F]);
    let exp = maxim_message(&readall_cell1(), 8, &[EMPTY, STOP], &rx);
    wire!(2, exp, |d, w| {
        d.set_read_mode(ReadMode::ReadAll);
        let mut out = [Reading::NotConverted; 2];
        let r = w(d.read_all(Register::Cell1, &mut out)).unwrap();
        assert!(r.is_ok());
        assert_eq!(out, [Reading::Valid(0xA8F4), Reading::Valid(0xD1EC)]);
    });
}

#[test]
fn a_bad_readall_is_reissued_whole_then_read_device_by_device() {
    // Bit 0 of device 1's LSB flipped after the PEC was computed: the whole-message PEC
    // fails. One retry re-sends the identical READALL, then each device is read on its own.
    let mut bad = maxim_sealed(&[0x03, 0x47, 0xF4, 0xA8, 0xEC, 0xD1, 0x00]);
    bad[4] ^= 0x01;
    let dev0_req = maxim_sealed(&[0x05, 0x47, 0x00]);
    let dev0_rx = maxim_sealed(&[0x05, 0x47, 0xF4, 0xA8, 0x00]);
    // Device 1 answers like the MAX17854 of EngineerZone 583407: its PEC where the DC byte
    // belongs, a fill byte after it.
    let dev1_req = maxim_sealed(&[0x0D, 0x47, 0x00]);
    let pec = oracle_maxim_pec(&[0x0D, 0x47, 0xEC, 0xD1]);
    let dev1_rx = vec![0x0D, 0x47, 0xEC, 0xD1, pec, 0xC2];
    let mut exp = Vec::new();
    exp.extend(maxim_message(&readall_cell1(), 8, &[STOP], &bad));
    exp.extend(maxim_message(&readall_cell1(), 8, &[STOP], &bad));
    exp.extend(maxim_message(&dev0_req, 6, &[STOP], &dev0_rx));
    exp.extend(maxim_message(&dev1_req, 6, &[STOP], &dev1_rx));
    exp.extend(maxim_message(&dev1_req, 6, &[STOP], &dev1_rx));
    wire!(2, exp, |d, w| {
        d.set_read_mode(ReadMode::ReadAll);
        d.set_retries(1);
        let mut out = [Reading::NotConverted; 2];
        let r = w(d.read_all(Register::Cell1, &mut out)).unwrap();
        assert_eq!(out[0], Reading::Valid(0xA8F4));
        assert!(matches!(
            out[1],
            Reading::Failed(DeviceFault {
                device: 1,
                reason: FaultReason::Pec { .. }
            })
        ));
        assert_eq!(r.failed.len(), 1);
        assert!(r.failed.contains(1));
    });
}

#[test]
fn a_message_that_never_returns_is_no_response_within_the_poll_bound() {
    let exp = maxim_message(&readall_cell1(), 8, &[EMPTY, EMPTY, EMPTY], &[]);
    wire!(2, exp, |d, w| {
        d.set_read_mode(ReadMode::ReadAll);
        d.set_retries(0);
        d.set_max_polls(3);
        let mut out = [Reading::Valid(0xFFFF); 2];
        let r = w(d.read_all(Register::Cell1, &mut out)).unwrap();
        assert_eq!(r.failed.len(), 2);
        assert!(
            out.iter()
                .all(|o| matches!(o, Reading::Failed(f) if f.reason == FaultReason::NoResponse))
        );
    });
}

#[test]
fn writeall_echo_is_checked() {
    // WRITEALL STATUS1 = 0x0000: 02 02 00 00 + PEC 0x92; the chain returns it unchanged.
    let msg = maxim_sealed(&[0x02, 0x02, 0x00, 0x00]);
    assert_eq!(msg[4], 0x92);
    let mut altered = msg.clone();
    altered[3] = 0x01;
    let mut exp = maxim_message(&msg, 5, &[STOP], &msg);
    exp.extend(maxim_message(&msg, 5, &[STOP], &altered));
    wire!(3, exp, |d, w| {
        d.set_retries(0);
        w(d.write_all(Register::Status1, 0x0000)).unwrap();
        let e = w(d.write_all(Register::Status1, 0x0000)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Integrity);
    });
}

#[test]
fn read_device_mode_sends_one_message_per_device() {
    // SCANCTRL (0x66) of device 0 and 1: READDEVICE (a << 3 | 5).
    let mut exp = Vec::new();
    for (a, v) in [(0u8, [0x09, 0xB0]), (1, [0x09, 0xB0])] {
        let cmd = a << 3 | 0x05;
        exp.extend(maxim_message(
            &maxim_sealed(&[cmd, 0x66, 0x00]),
            6,
            &[STOP],
            &maxim_sealed(&[cmd, 0x66, v[0], v[1], 0x00]),
        ));
    }
    wire!(2, exp, |d, w| {
        d.set_read_mode(ReadMode::PerDevice);
        let mut out = [Reading::NotConverted; 2];
        assert!(w(d.read_all(Register::ScanCtrl, &mut out)).unwrap().is_ok());
        // SCANDONE (bit 15), DATARDY (bit 13), AUTOBALSWDIS (bit 12), OVSAMPL 4x, SCAN.
        assert_eq!(out, [Reading::Valid(0xB009); 2]);
    });
}

#[test]
fn hello_all_and_chain_wake_up() {
    // Wake-up (MAXREFDES1301 `Initialization.cpp`, foxBMS `MXM_5XStateHandlerInit`):
    // clear RX, preambles on (CONFIGURATION_2 = 0x30), RX_STATUS until RX_BUSY (0x21 seen
    // by the reference firmware), preambles off (0x10), RX_STATUS until not busy, clear TX
    // and RX. Then HELLOALL 57 00 00 → 57 00 02.
    let mut exp = vec![
        SpiT::transaction_start(),
        SpiT::write_vec(vec![0xE0]),
        SpiT::transaction_end(),
        SpiT::transaction_start(),
        SpiT::write_vec(vec![0x0E, 0x30]),
        SpiT::transaction_end(),
    ];
    for s in [0x01, 0x21] {
        exp.extend([
            SpiT::transaction_start(),
            SpiT::transfer_in_place(vec![0x01, 0x00], vec![0x00, s]),
            SpiT::transaction_end(),
        ]);
    }
    exp.extend([
        SpiT::transaction_start(),
        SpiT::write_vec(vec![0x0E, 0x10]),
        SpiT::transaction_end(),
        SpiT::transaction_start(),
        SpiT::transfer_in_place(vec![0x01, 0x00], vec![0x00, 0x01]),
        SpiT::transaction_end(),
        SpiT::transaction_start(),
        SpiT::write_vec(vec![0x20]),
        SpiT::transaction_end(),
        SpiT::transaction_start(),
        SpiT::write_vec(vec![0xE0]),
        SpiT::transaction_end(),
    ]);
    exp.extend(maxim_message(
        &[0x57, 0x00, 0x00],
        3,
        &[STOP],
        &[0x57, 0x00, 0x02],
    ));
    wire!(2, exp, |d, w| {
        w(d.wake_chain()).unwrap();
        assert_eq!(w(d.hello_all()).unwrap(), 2);
    });
}

#[test]
fn wake_up_is_bounded_when_preambles_never_return() {
    let mut exp = vec![
        SpiT::transaction_start(),
        SpiT::write_vec(vec![0xE0]),
        SpiT::transaction_end(),
        SpiT::transaction_start(),
        SpiT::write_vec(vec![0x0E, 0x30]),
        SpiT::transaction_end(),
    ];
    // 100 polls (the default bound), never busy; then preambles off.
    for _ in 0..100 {
        exp.extend([
            SpiT::transaction_start(),
            SpiT::transfer_in_place(vec![0x01, 0x00], vec![0x00, 0x01]),
            SpiT::transaction_end(),
        ]);
    }
    exp.extend([
        SpiT::transaction_start(),
        SpiT::write_vec(vec![0x0E, 0x10]),
        SpiT::transaction_end(),
    ]);
    wire!(1, exp, |d, w| {
        assert_eq!(w(d.wake_chain()).unwrap_err().kind(), ErrorKind::Timeout);
    });
}

/// One bridge register write (`[address, value]`).
fn bridge_write(reg: u8, v: u8) -> Vec<SpiT<u8>> {
    vec![
        SpiT::transaction_start(),
        SpiT::write_vec(vec![reg, v]),
        SpiT::transaction_end(),
    ]
}

/// One bridge register read answering `v`.
fn bridge_read(reg: u8, v: u8) -> Vec<SpiT<u8>> {
    vec![
        SpiT::transaction_start(),
        SpiT::transfer_in_place(vec![reg, 0x00], vec![0x00, v]),
        SpiT::transaction_end(),
    ]
}

fn command(c: u8) -> Vec<SpiT<u8>> {
    vec![
        SpiT::transaction_start(),
        SpiT::write_vec(vec![c]),
        SpiT::transaction_end(),
    ]
}

/// The start-up of a chain of one up to the VERSION read, which answers `version`.
fn start_up_until_version(version: u16) -> Vec<SpiT<u8>> {
    let mut e = Vec::new();
    // CONFIGURATION_3 = 0x05 (keep-alive 160 µs) and read back; RX_INTERRUPT_ENABLE = 0x88
    // (RX error bit 7, overflow bit 3) and read back; RX_INTERRUPT_FLAGS cleared.
    e.extend(bridge_write(0x10, 0x05));
    e.extend(bridge_read(0x11, 0x05));
    e.extend(bridge_write(0x04, 0x88));
    e.extend(bridge_read(0x05, 0x88));
    e.extend(bridge_write(0x08, 0x00));
    // Wake-up with preambles.
    e.extend(command(0xE0));
    e.extend(bridge_write(0x0E, 0x30));
    e.extend(bridge_read(0x01, 0x21));
    e.extend(bridge_write(0x0E, 0x10));
    e.extend(bridge_read(0x01, 0x01));
    e.extend(command(0x20));
    e.extend(command(0xE0));
    // HELLOALL: one device took address 0.
    e.extend(maxim_message(
        &[0x57, 0x00, 0x00],
        3,
        &[STOP],
        &[0x57, 0x00, 0x01],
    ));
    // STATUS1, FMEA1, FMEA2 = 0 (WRITEALL, echoed).
    for reg in [0x02, 0x05, 0x06] {
        let m = maxim_sealed(&[0x02, reg, 0x00, 0x00]);
        e.extend(maxim_message(&m, 5, &[STOP], &m));
    }
    // READALL VERSION.
    let [lo, hi] = version.to_le_bytes();
    e.extend(maxim_message(
        &maxim_sealed(&[0x03, 0x00, 0x00]),
        6,
        &[STOP],
        &maxim_sealed(&[0x03, 0x00, lo, hi, 0x00]),
    ));
    e
}

#[test]
fn start_up_on_the_wire() {
    let mut exp = start_up_until_version(0x8531);
    // MEASUREEN1 = 0x7FFF (14 cells + block), read back.
    let m = maxim_sealed(&[0x02, 0x64, 0xFF, 0x7F]);
    exp.extend(maxim_message(&m, 5, &[STOP], &m));
    exp.extend(maxim_message(
        &maxim_sealed(&[0x03, 0x64, 0x00]),
        6,
        &[STOP],
        &maxim_sealed(&[0x03, 0x64, 0xFF, 0x7F, 0x00]),
    ));
    wire!(1, exp, |d, w| {
        w(d.start_up()).unwrap();
    });
}

#[test]
fn start_up_refuses_another_model() {
    // EngineerZone 583407: a MAX17854 answers VERSION 0x8544 (model 0x854, revision 4); a
    // driver for the MAX17853 stops there.
    wire!(1, start_up_until_version(0x8544), |d, w| {
        let e = w(d.start_up()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Device);
        assert_eq!(e.device(), Some(0));
    });
}
