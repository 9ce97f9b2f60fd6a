//! Near-zero-cost replay buses for full-stack cases.
//!
//! Unlike `embedded-hal-mock` (which checks every transaction against an expectation list and
//! allocates), these only copy canned response bytes into the driver's buffers and count the
//! bytes on the wire, so what a full-stack case measures is the driver: framing, PEC checks
//! and conversion, plus one `memcpy` per read (the "bus traffic", measured on its own by the
//! `*/bus_only` cases).
//!
//! `rx` is the concatenation of every byte the devices send during **one iteration** of a
//! case (only the bytes clocked *in* by `Read`, `Transfer` and `TransferInPlace`, in order);
//! the replay wraps to the start when the next read would run past the end, so a case replays
//! the same responses forever. Writes are not checked, only counted.

use core::cell::Cell;
use core::convert::Infallible;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use embedded_hal::i2c::{self, Operation as I2cOp};
use embedded_hal::spi::{self, Operation as SpiOp};

/// Bytes moved on the bus (both directions; for I2C including the address byte of every
/// start and repeated start).
pub type WireCount = Cell<usize>;

/// Copies the next `buf.len()` canned bytes into `buf`.
#[inline(always)]
fn replay(rx: &[u8], pos: &mut usize, buf: &mut [u8]) {
    let n = buf.len();
    let src = match rx.get(*pos..*pos + n) {
        Some(s) => s,
        None => {
            *pos = 0;
            rx.get(..n)
                .expect("canned response shorter than one read: fix the case's rx")
        }
    };
    buf.copy_from_slice(src);
    *pos += n;
}

/// A replaying [`embedded_hal::spi::SpiDevice`] (and its async twin).
pub struct ReplaySpi<'a> {
    rx: &'a [u8],
    pos: usize,
    wire: &'a WireCount,
}

impl<'a> ReplaySpi<'a> {
    /// A bus that answers every read with the next bytes of `rx`, counting into `wire`.
    pub fn new(rx: &'a [u8], wire: &'a WireCount) -> Self {
        Self { rx, pos: 0, wire }
    }

    #[inline(always)]
    fn run(&mut self, ops: &mut [SpiOp<'_, u8>]) {
        let mut moved = 0;
        for op in ops {
            match op {
                SpiOp::Read(buf) | SpiOp::TransferInPlace(buf) => {
                    replay(self.rx, &mut self.pos, buf);
                    moved += buf.len();
                }
                SpiOp::Transfer(read, write) => {
                    replay(self.rx, &mut self.pos, read);
                    moved += read.len().max(write.len());
                }
                SpiOp::Write(w) => moved += w.len(),
                SpiOp::DelayNs(_) => {}
            }
        }
        self.wire.set(self.wire.get() + moved);
    }
}

impl spi::ErrorType for ReplaySpi<'_> {
    type Error = Infallible;
}

impl spi::SpiDevice for ReplaySpi<'_> {
    #[inline]
    fn transaction(&mut self, ops: &mut [SpiOp<'_, u8>]) -> Result<(), Infallible> {
        self.run(ops);
        Ok(())
    }
}

impl embedded_hal_async::spi::SpiDevice for ReplaySpi<'_> {
    #[inline]
    async fn transaction(&mut self, ops: &mut [SpiOp<'_, u8>]) -> Result<(), Infallible> {
        self.run(ops);
        Ok(())
    }
}

/// A replaying [`embedded_hal::i2c::I2c`] (and its async twin), for the bq769x2 cases.
pub struct ReplayI2c<'a> {
    rx: &'a [u8],
    pos: usize,
    wire: &'a WireCount,
}

impl<'a> ReplayI2c<'a> {
    /// A bus that answers every read with the next bytes of `rx`, counting into `wire`.
    pub fn new(rx: &'a [u8], wire: &'a WireCount) -> Self {
        Self { rx, pos: 0, wire }
    }

    #[inline(always)]
    fn run(&mut self, ops: &mut [I2cOp<'_>]) {
        let mut moved = 0;
        // An address byte at the start and at every change of direction (repeated start):
        // the I2C transaction contract of embedded-hal 1.0.
        let mut last_read: Option<bool> = None;
        for op in ops {
            let is_read = matches!(op, I2cOp::Read(_));
            if last_read != Some(is_read) {
                moved += 1;
                last_read = Some(is_read);
            }
            match op {
                I2cOp::Read(buf) => {
                    replay(self.rx, &mut self.pos, buf);
                    moved += buf.len();
                }
                I2cOp::Write(w) => moved += w.len(),
            }
        }
        self.wire.set(self.wire.get() + moved);
    }
}

impl i2c::ErrorType for ReplayI2c<'_> {
    type Error = Infallible;
}

impl i2c::I2c for ReplayI2c<'_> {
    #[inline]
    fn transaction(&mut self, _address: u8, ops: &mut [I2cOp<'_>]) -> Result<(), Infallible> {
        self.run(ops);
        Ok(())
    }
}

impl embedded_hal_async::i2c::I2c for ReplayI2c<'_> {
    #[inline]
    async fn transaction(&mut self, _address: u8, ops: &mut [I2cOp<'_>]) -> Result<(), Infallible> {
        self.run(ops);
        Ok(())
    }
}

/// A delay that returns at once (blocking and async).
#[derive(Clone, Copy, Default)]
pub struct NoDelay;

impl embedded_hal::delay::DelayNs for NoDelay {
    #[inline]
    fn delay_ns(&mut self, _ns: u32) {}
}

impl embedded_hal_async::delay::DelayNs for NoDelay {
    #[inline]
    async fn delay_ns(&mut self, _ns: u32) {}
}

/// Polls a future that is always ready (every replay-bus call completes at once).
#[inline(always)]
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
