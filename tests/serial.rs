//! The family-neutral serial transport (`io::Serial` over `embedded-io` 0.6) against a scripted
//! virtual UART, blocking and async from one body: full reads, silent and short answers bounded
//! by the deadline, stale bytes drained, TX-low pings timed by the delay.
#![cfg(feature = "sim")]

use bms_afe::error::{DeviceFault, FaultReason};
use bms_afe::io::{Async, Blocking, SerialIo, first_missing_frame, no_response};
use bms_afe::sim::{Clock, Sim, SimError, UART_BYTE_NS, UartModel};

mod common;
use common::block_on;

/// Answers every write with `answer[..answer_len]` (after `stale` junk bytes queued up front);
/// records the TX-low pulses it saw.
struct Script {
    now_ns: u64,
    answer: [u8; 8],
    answer_len: usize,
    out: [u8; 64],
    out_len: usize,
    out_pos: usize,
    received: usize,
    low_since: Option<u64>,
    pulses_ns: [u64; 4],
    pulses: usize,
}

impl Script {
    fn new(answer_len: usize, stale: usize) -> Self {
        let mut s = Self {
            now_ns: 0,
            // An arbitrary fixed answer, checked byte for byte below.
            answer: [0x07, 0x01, 0x05, 0x68, 0x44, 0x5D, 0x43, 0xFC],
            answer_len,
            out: [0; 64],
            out_len: 0,
            out_pos: 0,
            received: 0,
            low_since: None,
            pulses_ns: [0; 4],
            pulses: 0,
        };
        for i in 0..stale {
            s.out[i] = 0xEE;
        }
        s.out_len = stale;
        s
    }
}

impl Clock for Script {
    fn advance_ns(&mut self, ns: u64) {
        self.now_ns += ns;
    }
}

impl UartModel for Script {
    fn receive(&mut self, bytes: &[u8]) -> Result<(), SimError> {
        self.received += bytes.len();
        self.out_pos = 0;
        self.out_len = self.answer_len;
        self.out[..self.answer_len].copy_from_slice(&self.answer[..self.answer_len]);
        Ok(())
    }
    fn pending(&self) -> usize {
        self.out_len - self.out_pos
    }
    fn transmit(&mut self, buf: &mut [u8]) -> usize {
        // Hand out at most 3 bytes per call, as a UART driver with a small FIFO might.
        let n = buf.len().min(self.pending()).min(3);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        n
    }
    fn line_low(&mut self, low: bool) {
        match (low, self.low_since) {
            (true, None) => self.low_since = Some(self.now_ns),
            (false, Some(t)) => {
                self.pulses_ns[self.pulses] = self.now_ns - t;
                self.pulses += 1;
                self.low_since = None;
            }
            _ => {}
        }
    }
}

/// Runs `$body` with `$io` bound to a blocking and then to an async transport over a fresh
/// `Sim<Script>` (`$sim`). The transport methods are the shared async core of both flavours
/// (the blocking one completes on its first poll), so both are driven by `block_on`.
macro_rules! both {
    ($script:expr, |$sim:ident, $io:ident| $body:block) => {{
        {
            let $sim = Sim::new($script);
            let mut $io = Blocking::new($sim.serial(), $sim.delay());
            $body
        }
        {
            let $sim = Sim::new($script);
            let mut $io = Async::new($sim.serial(), $sim.delay());
            $body
        }
    }};
}

#[test]
fn full_answer_is_read_exactly() {
    both!(Script::new(8, 0), |sim, io| {
        block_on(io.write(&[0x80, 0x01, 0x05, 0x68, 0x03])).unwrap();
        let mut buf = [0xA5u8; 8];
        let n = block_on(io.read_within(&mut buf, 1_000)).unwrap();
        assert_eq!(n, 8);
        assert_eq!(buf, [0x07, 0x01, 0x05, 0x68, 0x44, 0x5D, 0x43, 0xFC]);
        assert_eq!(sim.with(|m| m.received), 5);
        // 5 bytes out + 8 bytes in at 10 µs each, no timeout spent.
        assert_eq!(sim.with(|m| m.now_ns), 13 * UART_BYTE_NS);
    });
}

#[test]
fn silent_answer_ends_at_the_deadline() {
    both!(Script::new(0, 0), |sim, io| {
        block_on(io.write(&[0x00])).unwrap();
        let mut buf = [0xA5u8; 8];
        let n = block_on(io.read_within(&mut buf, 500)).unwrap();
        assert_eq!(n, 0);
        assert_eq!(buf, [0xA5; 8], "nothing may be written into the buffer");
        let spent = sim.with(|m| m.now_ns) - UART_BYTE_NS;
        assert!(
            (500_000..=510_000).contains(&spent),
            "waited {spent} ns for a 500 µs deadline"
        );
    });
}

#[test]
fn short_answer_reports_how_far_it_got() {
    both!(Script::new(5, 0), |sim, io| {
        block_on(io.write(&[0x00])).unwrap();
        let mut buf = [0xA5u8; 8];
        let n = block_on(io.read_within(&mut buf, 300)).unwrap();
        assert_eq!(n, 5);
        assert_eq!(buf, [0x07, 0x01, 0x05, 0x68, 0x44, 0xA5, 0xA5, 0xA5]);
        // Two frames of four bytes: the second one is incomplete.
        assert_eq!(first_missing_frame(n, 8, 4), Some(1));
        // Frames arrive highest device first (as a BQ79616 stack read): frame 1 is device 2.
        assert_eq!(
            no_response(n, 8, 4, |frame| 3 - frame as u8),
            Some(DeviceFault {
                device: 2,
                reason: FaultReason::NoResponse
            })
        );
        assert_eq!(no_response(8, 8, 4, |frame| frame as u8), None);
        assert!(sim.with(|m| m.now_ns) >= 300_000);
    });
}

#[test]
fn stale_bytes_are_drained_before_a_command() {
    both!(Script::new(8, 20), |sim, io| {
        assert_eq!(block_on(io.drain(50)).unwrap(), 20);
        assert_eq!(sim.with(|m| m.pending()), 0);
        // Nothing left: a second drain returns at once with nothing.
        assert_eq!(block_on(io.drain(50)).unwrap(), 0);
    });
}

#[test]
fn tx_low_ping_lasts_the_requested_time() {
    both!(Script::new(0, 0), |sim, io| {
        assert!(io.can_hold_tx_low());
        block_on(io.hold_tx_low(2_750));
        block_on(io.delay_us(3_500));
        block_on(io.hold_tx_low(2_750));
        assert_eq!(sim.with(|m| m.pulses), 2);
        assert_eq!(sim.with(|m| m.pulses_ns[0]), 2_750_000);
        assert_eq!(sim.with(|m| m.pulses_ns[1]), 2_750_000);
    });
}

#[test]
fn a_blocking_read_with_nothing_there_is_an_error_not_a_hang() {
    use embedded_io::{Read, ReadReady};
    let sim = Sim::new(Script::new(0, 0));
    let mut uart = sim.uart();
    assert_eq!(uart.read_ready(), Ok(false));
    let mut b = [0u8; 1];
    assert_eq!(uart.read(&mut b), Err(SimError::WouldBlock));
}
