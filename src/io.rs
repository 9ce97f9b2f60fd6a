//! Blocking and async in one build.
//!
//! # How it works
//!
//! Every driver's logic is written **once**, as `async fn`s over small crate-internal
//! transport traits ([`SpiIo`], [`I2cIo`], [`SerialIo`]) that only move bytes and wait. The user picks the
//! flavour by wrapping the bus and delay:
//!
//! * [`Blocking`] wraps an `embedded_hal` bus and `DelayNs`. Its transport futures complete on
//!   their first poll (they call the blocking HAL inside `poll`), so the driver's blocking
//!   methods drive the shared async code with a one-shot executor using
//!   `core::task::Waker::noop()` (Rust 1.85). No runtime, no heap, no threads.
//! * [`Async`] wraps an `embedded_hal_async` bus and `DelayNs`; the driver's async methods are
//!   the shared code itself.
//!
//! Each driver type is generic over this wrapper, and its public methods exist twice with
//! the same names: plain `fn` on `Driver<…, Blocking<B, D>>` and `async fn` on
//! `Driver<…, Async<B, D>>`. Both are generated from one list of signatures by a
//! crate-internal macro, so the protocol logic exists once and both paths are tested from the
//! same expectations. Nothing is feature-gated: a firmware (or a test) can use both at once.
//!
//! Why not `maybe-async-cfg` or a feature switch? A switch is not additive (one dependency
//! asking for async would change every other user's API), and a proc-macro rewrite makes the
//! shipped code differ from the code one reads. `bisync` is yanked.
//!
//! # Serial links (UART)
//!
//! Chips reached over a UART (the TI BQ79616 family directly or through the BQ79600 bridge;
//! later the Infineon TLE9012 through its isoUART transceiver) use [`Serial`] as the bus:
//! `Blocking<Serial<U, L>, D>` with an `embedded_io` 0.6 `Read + Write + ReadReady` UART, or
//! `Async<Serial<U, L>, D>` with an `embedded_io_async` 0.6 `Read + Write` UART. `L` is an
//! optional [`SerialLine`] that can hold the TX line low (wake and reset pings, which a UART
//! cannot send by itself); [`NoLine`] when the board has none.
//!
//! **Why `embedded-io` 0.6.** It is the release published together with embedded-hal 1.0
//! (January 2024) and the one the UART drivers of the common HALs (embassy-stm32/-nrf/-rp,
//! esp-hal, the stm32 and rp HALs) implement; the crate depends on it with
//! `default-features = false` (no `std`, no `alloc`). The traits are small, so a UART on
//! another release is wrapped in a few lines.
//!
//! **Every read is bounded.** A blocking `Read::read` waits forever for the first byte, so the
//! blocking transport only calls it after `ReadReady::read_ready` said a byte is there, and
//! otherwise waits [`SERIAL_POLL_US`] with the delay, counting the waits against the deadline.
//! The async transport races the read future against the delay future in a small hand-written
//! select (no runtime, no executor dependency): whichever is ready first wins, the read is
//! polled first so data that is already there is never lost to the timer. A deadline that runs
//! out returns the number of bytes received so far; the family maps that to a
//! [`FaultReason::NoResponse`](crate::error::FaultReason::NoResponse) naming the first device
//! whose frame did not arrive ([`first_missing_frame`]). The async UART's `read` must be
//! cancel-safe (the `embedded_io_async` docs encourage it; the buffered UARTs of embassy are):
//! a read that loses the race is dropped.
//!
//! ```
//! use bms_afe::io::{Async, Blocking};
//! # use embedded_hal_mock::eh1::{spi::{Mock as SpiMock, Transaction}, delay::NoopDelay};
//! let blocking = Blocking::new(SpiMock::<u8>::new(&[]), NoopDelay::new());
//! let (mut spi, _delay) = blocking.release();
//! spi.done();
//! ```

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use embedded_hal::i2c::Operation as I2cOperation;
use embedded_hal::spi::Operation as SpiOperation;

/// A blocking bus (`embedded_hal` 1.0 `SpiDevice` or `I2c`) and its `DelayNs`.
#[derive(Debug)]
pub struct Blocking<B, D> {
    pub(crate) bus: B,
    pub(crate) delay: D,
}

/// An async bus (`embedded_hal_async` 1.0 `SpiDevice` or `I2c`) and its async `DelayNs`.
#[derive(Debug)]
pub struct Async<B, D> {
    pub(crate) bus: B,
    pub(crate) delay: D,
}

impl<B, D> Blocking<B, D> {
    /// Wraps a blocking bus and delay.
    pub const fn new(bus: B, delay: D) -> Self {
        Self { bus, delay }
    }

    /// Gives the bus and delay back.
    pub fn release(self) -> (B, D) {
        (self.bus, self.delay)
    }

    /// The bus, for operations the driver does not cover.
    pub fn bus_mut(&mut self) -> &mut B {
        &mut self.bus
    }
}

impl<B, D> Async<B, D> {
    /// Wraps an async bus and delay.
    pub const fn new(bus: B, delay: D) -> Self {
        Self { bus, delay }
    }

    /// Gives the bus and delay back.
    pub fn release(self) -> (B, D) {
        (self.bus, self.delay)
    }

    /// The bus, for operations the driver does not cover.
    pub fn bus_mut(&mut self) -> &mut B {
        &mut self.bus
    }
}

/// The SPI bus error type of `B` (blocking or async: both share `embedded_hal::spi::ErrorType`).
pub type SpiError<B> = <B as embedded_hal::spi::ErrorType>::Error;
/// The I2C bus error type of `B` (blocking or async).
pub type I2cError<B> = <B as embedded_hal::i2c::ErrorType>::Error;
/// The UART error type of a [`Serial`] bus `B` (blocking or async: both share
/// `embedded_io::ErrorType`).
pub type SerialError<B> = <B as SerialPort>::Error;

pub(crate) mod private {
    pub trait Sealed {}
}
impl<B, D> private::Sealed for Blocking<B, D> {}
impl<B, D> private::Sealed for Async<B, D> {}
impl<U, L> private::Sealed for Serial<U, L> {}

/// Byte transport to one SPI device (an isoSPI chain behind one chip select). Sealed:
/// implemented by [`Blocking`] and [`Async`].
#[allow(async_fn_in_trait)]
pub trait SpiIo: private::Sealed {
    /// The bus error.
    type Error: core::fmt::Debug;
    /// One chip-select frame containing all `ops`.
    async fn transaction(&mut self, ops: &mut [SpiOperation<'_, u8>]) -> Result<(), Self::Error>;
    /// Waits at least `us` microseconds.
    async fn delay_us(&mut self, us: u32);
}

/// Byte transport to one I2C target. Sealed: implemented by [`Blocking`] and [`Async`].
#[allow(async_fn_in_trait)]
pub trait I2cIo: private::Sealed {
    /// The bus error.
    type Error: core::fmt::Debug;
    /// Writes `bytes` to `address` (7-bit).
    async fn write(&mut self, address: u8, bytes: &[u8]) -> Result<(), Self::Error>;
    /// Writes `bytes`, then reads `buf` after a repeated start.
    async fn write_read(
        &mut self,
        address: u8,
        bytes: &[u8],
        buf: &mut [u8],
    ) -> Result<(), Self::Error>;
    /// Reads `buf`.
    async fn read(&mut self, address: u8, buf: &mut [u8]) -> Result<(), Self::Error>;
    /// Several operations in one bus transaction.
    async fn transaction(
        &mut self,
        address: u8,
        ops: &mut [I2cOperation<'_>],
    ) -> Result<(), Self::Error>;
    /// Waits at least `us` microseconds.
    async fn delay_us(&mut self, us: u32);
}

impl<B: embedded_hal::spi::SpiDevice, D: embedded_hal::delay::DelayNs> SpiIo for Blocking<B, D> {
    type Error = B::Error;
    async fn transaction(&mut self, ops: &mut [SpiOperation<'_, u8>]) -> Result<(), Self::Error> {
        self.bus.transaction(ops)
    }
    async fn delay_us(&mut self, us: u32) {
        self.delay.delay_us(us)
    }
}

impl<B: embedded_hal_async::spi::SpiDevice, D: embedded_hal_async::delay::DelayNs> SpiIo
    for Async<B, D>
{
    type Error = B::Error;
    async fn transaction(&mut self, ops: &mut [SpiOperation<'_, u8>]) -> Result<(), Self::Error> {
        self.bus.transaction(ops).await
    }
    async fn delay_us(&mut self, us: u32) {
        self.delay.delay_us(us).await
    }
}

impl<B: embedded_hal::i2c::I2c, D: embedded_hal::delay::DelayNs> I2cIo for Blocking<B, D> {
    type Error = B::Error;
    async fn write(&mut self, address: u8, bytes: &[u8]) -> Result<(), Self::Error> {
        self.bus.write(address, bytes)
    }
    async fn write_read(
        &mut self,
        address: u8,
        bytes: &[u8],
        buf: &mut [u8],
    ) -> Result<(), Self::Error> {
        self.bus.write_read(address, bytes, buf)
    }
    async fn read(&mut self, address: u8, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.bus.read(address, buf)
    }
    async fn transaction(
        &mut self,
        address: u8,
        ops: &mut [I2cOperation<'_>],
    ) -> Result<(), Self::Error> {
        self.bus.transaction(address, ops)
    }
    async fn delay_us(&mut self, us: u32) {
        self.delay.delay_us(us)
    }
}

impl<B: embedded_hal_async::i2c::I2c, D: embedded_hal_async::delay::DelayNs> I2cIo for Async<B, D> {
    type Error = B::Error;
    async fn write(&mut self, address: u8, bytes: &[u8]) -> Result<(), Self::Error> {
        self.bus.write(address, bytes).await
    }
    async fn write_read(
        &mut self,
        address: u8,
        bytes: &[u8],
        buf: &mut [u8],
    ) -> Result<(), Self::Error> {
        self.bus.write_read(address, bytes, buf).await
    }
    async fn read(&mut self, address: u8, buf: &mut [u8]) -> Result<(), Self::Error> {
        self.bus.read(address, buf).await
    }
    async fn transaction(
        &mut self,
        address: u8,
        ops: &mut [I2cOperation<'_>],
    ) -> Result<(), Self::Error> {
        self.bus.transaction(address, ops).await
    }
    async fn delay_us(&mut self, us: u32) {
        self.delay.delay_us(us).await
    }
}

// ---------------------------------------------------------------------------------------------
// Serial (UART) transport.
// ---------------------------------------------------------------------------------------------

/// Interval between `ReadReady` polls of the blocking serial transport (µs): 1 byte time at
/// 1 Mbaud 8N1 is 10 µs, so a poll every 10 µs never lets a 16-byte UART FIFO overflow at that
/// rate. Each wait counts against the read's deadline.
pub const SERIAL_POLL_US: u32 = 10;

/// The most bytes [`SerialIo::drain`] throws away before it gives up on a line that never goes
/// quiet.
pub const SERIAL_DRAIN_LIMIT: usize = 1024;

/// Holds the serial TX line low for wake/reset pings, which a UART cannot send (its idle level is
/// high and every byte ends with a high stop bit). Typically the TX pin is switched to a GPIO
/// driven low and back to the UART function. The driver does the timing with its delay.
pub trait SerialLine {
    /// `true`: drive TX low now; `false`: give the pin back to the UART (line idles high).
    fn set_tx_low(&mut self, low: bool);
}

/// The [`SerialLine`] of a board that cannot hold TX low: drivers that need a ping report
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) instead of sending one (see the
/// family docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoLine;

impl SerialLine for NoLine {
    fn set_tx_low(&mut self, _low: bool) {}
}

/// A UART and its optional TX line control, the bus of a [`Blocking`] or [`Async`] serial
/// transport.
///
/// ```
/// # #[cfg(feature = "sim")] {
/// use bms_afe::io::{Blocking, NoLine, Serial};
/// use bms_afe::sim::{Clock, Sim, SimError, UartModel};
/// // A model that answers every byte it receives with its complement.
/// #[derive(Default)]
/// struct Inverter { out: Option<u8> }
/// impl Clock for Inverter { fn advance_ns(&mut self, _ns: u64) {} }
/// impl UartModel for Inverter {
///     fn receive(&mut self, bytes: &[u8]) -> Result<(), SimError> {
///         self.out = bytes.last().map(|b| !b);
///         Ok(())
///     }
///     fn pending(&self) -> usize { usize::from(self.out.is_some()) }
///     fn transmit(&mut self, buf: &mut [u8]) -> usize {
///         match (self.out.take(), buf.first_mut()) {
///             (Some(b), Some(slot)) => { *slot = b; 1 }
///             _ => 0,
///         }
///     }
/// }
/// let sim = Sim::new(Inverter::default());
/// let io = Blocking::new(Serial::new(sim.uart()), sim.delay());
/// let (serial, _delay) = io.release();
/// let _uart = serial.release().0;
/// # }
/// ```
#[derive(Debug)]
pub struct Serial<U, L = NoLine> {
    pub(crate) uart: U,
    pub(crate) line: L,
    pub(crate) has_line: bool,
}

impl<U> Serial<U, NoLine> {
    /// A UART without TX line control.
    pub const fn new(uart: U) -> Self {
        Self {
            uart,
            line: NoLine,
            has_line: false,
        }
    }
}

impl<U, L: SerialLine> Serial<U, L> {
    /// A UART and the control of its TX line (for wake/reset pings).
    pub const fn with_line(uart: U, line: L) -> Self {
        Self {
            uart,
            line,
            has_line: true,
        }
    }

    /// Gives the UART and the line back.
    pub fn release(self) -> (U, L) {
        (self.uart, self.line)
    }

    /// The UART, for operations the driver does not cover.
    pub fn uart_mut(&mut self) -> &mut U {
        &mut self.uart
    }
}

/// A [`Serial`] bus: names its UART error. Sealed; implemented for every `Serial<U, L>` whose
/// `U` has an `embedded_io::ErrorType`.
pub trait SerialPort: private::Sealed {
    /// The UART error.
    type Error: core::fmt::Debug;
}

impl<U: embedded_io::ErrorType, L> SerialPort for Serial<U, L> {
    type Error = U::Error;
}

/// A [`Serial`] bus over a blocking `embedded_io` 0.6 UART (`Read + Write + ReadReady`) and a
/// [`SerialLine`]. Sealed; implemented by [`Serial`]. Its methods are the transport's
/// plumbing; drivers use [`SerialIo`].
pub trait BlockingSerial: SerialPort {
    /// `embedded_io::Write::write_all` then `flush`.
    fn send(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
    /// `embedded_io::ReadReady::read_ready`.
    fn ready(&mut self) -> Result<bool, Self::Error>;
    /// `embedded_io::Read::read` (called only after [`BlockingSerial::ready`]).
    fn receive(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error>;
    /// [`SerialLine::set_tx_low`].
    fn tx_low(&mut self, low: bool);
    /// `true` if built with a line ([`Serial::with_line`]).
    fn has_line(&self) -> bool;
    /// The next response will be `bytes` long (links that read in chunks, such as the
    /// BQ79600 SPI FIFO, size their reads with it). A UART ignores it.
    fn expect(&mut self, bytes: usize) {
        let _ = bytes;
    }
}

impl<U, L> BlockingSerial for Serial<U, L>
where
    U: embedded_io::Read + embedded_io::Write + embedded_io::ReadReady,
    L: SerialLine,
{
    fn send(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.uart.write_all(bytes)?;
        self.uart.flush()
    }
    fn ready(&mut self) -> Result<bool, Self::Error> {
        self.uart.read_ready()
    }
    fn receive(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.uart.read(buf)
    }
    fn tx_low(&mut self, low: bool) {
        self.line.set_tx_low(low)
    }
    fn has_line(&self) -> bool {
        self.has_line
    }
}

/// A [`Serial`] bus over an async `embedded_io_async` 0.6 UART (`Read + Write`) and a
/// [`SerialLine`]. Sealed; implemented by [`Serial`]. Its methods are the transport's
/// plumbing; drivers use [`SerialIo`].
#[allow(async_fn_in_trait)]
pub trait AsyncSerial: SerialPort {
    /// `embedded_io_async::Write::write_all` then `flush`.
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
    /// `embedded_io_async::Read::read` (must be cancel-safe: a losing read is dropped).
    async fn receive(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error>;
    /// [`SerialLine::set_tx_low`].
    fn tx_low(&mut self, low: bool);
    /// `true` if built with a line ([`Serial::with_line`]).
    fn has_line(&self) -> bool;
    /// See [`BlockingSerial::expect`].
    fn expect(&mut self, bytes: usize) {
        let _ = bytes;
    }
}

impl<U, L> AsyncSerial for Serial<U, L>
where
    U: embedded_io_async::Read + embedded_io_async::Write,
    L: SerialLine,
{
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.uart.write_all(bytes).await?;
        self.uart.flush().await
    }
    async fn receive(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.uart.read(buf).await
    }
    fn tx_low(&mut self, low: bool) {
        self.line.set_tx_low(low)
    }
    fn has_line(&self) -> bool {
        self.has_line
    }
}

/// Byte transport over a UART, every read bounded. Sealed: implemented by
/// `Blocking<Serial<U, L>, D>` and `Async<Serial<U, L>, D>`.
#[allow(async_fn_in_trait)]
pub trait SerialIo: private::Sealed {
    /// The UART error.
    type Error: core::fmt::Debug;
    /// Sends every byte of `bytes` and flushes.
    async fn write(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
    /// Receives into `buf` until it is full or `timeout_us` has passed; returns how many bytes
    /// arrived (`buf.len()` unless the deadline ran out). Never waits longer than the deadline
    /// plus one poll interval and one UART call.
    async fn read_within(&mut self, buf: &mut [u8], timeout_us: u32) -> Result<usize, Self::Error>;
    /// Throws away received bytes until the line has been quiet for `quiet_us` (or
    /// [`SERIAL_DRAIN_LIMIT`] bytes were discarded); returns how many were discarded. Used
    /// before a command so that stale bytes are never taken for its response.
    async fn drain(&mut self, quiet_us: u32) -> Result<usize, Self::Error>;
    /// `true` if the bus has a [`SerialLine`] that can hold TX low.
    fn can_hold_tx_low(&self) -> bool;
    /// Announces the length of the response about to be read (see
    /// [`BlockingSerial::expect`]).
    fn expect(&mut self, bytes: usize);
    /// Holds TX low for `us` microseconds, then releases it (no-op without a line).
    async fn hold_tx_low(&mut self, us: u32);
    /// Waits at least `us` microseconds.
    async fn delay_us(&mut self, us: u32);
}

impl<B: BlockingSerial, D: embedded_hal::delay::DelayNs> SerialIo for Blocking<B, D> {
    type Error = B::Error;

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.bus.send(bytes)
    }

    async fn read_within(&mut self, buf: &mut [u8], timeout_us: u32) -> Result<usize, Self::Error> {
        let mut got = 0usize;
        let mut waited = 0u32;
        while got < buf.len() {
            if self.bus.ready()? {
                let rest = buf.get_mut(got..).unwrap_or(&mut []);
                let n = self.bus.receive(rest)?;
                if n > 0 {
                    got = got.saturating_add(n).min(buf.len());
                    continue;
                }
            }
            // Nothing there (or a reader that reported EOF): wait one poll interval.
            if waited >= timeout_us {
                break;
            }
            self.delay.delay_us(SERIAL_POLL_US);
            waited = waited.saturating_add(SERIAL_POLL_US);
        }
        Ok(got)
    }

    async fn drain(&mut self, quiet_us: u32) -> Result<usize, Self::Error> {
        let mut scratch = [0u8; 16];
        let mut dropped = 0usize;
        let mut quiet = 0u32;
        while dropped < SERIAL_DRAIN_LIMIT {
            if self.bus.ready()? {
                let n = self.bus.receive(&mut scratch)?;
                if n > 0 {
                    dropped += n;
                    quiet = 0;
                    continue;
                }
            }
            if quiet >= quiet_us {
                break;
            }
            self.delay.delay_us(SERIAL_POLL_US);
            quiet = quiet.saturating_add(SERIAL_POLL_US);
        }
        Ok(dropped)
    }

    fn can_hold_tx_low(&self) -> bool {
        self.bus.has_line()
    }

    fn expect(&mut self, bytes: usize) {
        self.bus.expect(bytes)
    }

    async fn hold_tx_low(&mut self, us: u32) {
        self.bus.tx_low(true);
        self.delay.delay_us(us);
        self.bus.tx_low(false);
    }

    async fn delay_us(&mut self, us: u32) {
        self.delay.delay_us(us)
    }
}

/// Polls `a` then `b` until one is ready: a two-way select without a runtime. `a` wins a tie.
pub(crate) async fn select<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    core::future::poll_fn(move |cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        if let Poll::Ready(y) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(y));
        }
        Poll::Pending
    })
    .await
}

/// The winner of [`select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Either<A, B> {
    /// The first future finished first.
    Left(A),
    /// The second future finished first.
    Right(B),
}

impl<B: AsyncSerial, D: embedded_hal_async::delay::DelayNs> SerialIo for Async<B, D> {
    type Error = B::Error;

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.bus.send(bytes).await
    }

    async fn read_within(&mut self, buf: &mut [u8], timeout_us: u32) -> Result<usize, Self::Error> {
        let progress = core::cell::Cell::new(0usize);
        let len = buf.len();
        let bus = &mut self.bus;
        let reader = async {
            let mut got = 0usize;
            while got < len {
                let rest = buf.get_mut(got..).unwrap_or(&mut []);
                let n = bus.receive(rest).await?;
                if n == 0 {
                    // EOF: nothing more will come; let the timer end the read.
                    core::future::pending::<()>().await;
                }
                got = got.saturating_add(n).min(len);
                progress.set(got);
            }
            Ok(got)
        };
        match select(reader, self.delay.delay_us(timeout_us)).await {
            Either::Left(r) => r,
            Either::Right(()) => Ok(progress.get()),
        }
    }

    async fn drain(&mut self, quiet_us: u32) -> Result<usize, Self::Error> {
        let mut scratch = [0u8; 16];
        let mut dropped = 0usize;
        while dropped < SERIAL_DRAIN_LIMIT {
            let got = match select(
                self.bus.receive(&mut scratch),
                self.delay.delay_us(quiet_us),
            )
            .await
            {
                Either::Left(r) => r?,
                Either::Right(()) => 0,
            };
            if got == 0 {
                break;
            }
            dropped += got;
        }
        Ok(dropped)
    }

    fn can_hold_tx_low(&self) -> bool {
        self.bus.has_line()
    }

    fn expect(&mut self, bytes: usize) {
        self.bus.expect(bytes)
    }

    async fn hold_tx_low(&mut self, us: u32) {
        self.bus.tx_low(true);
        self.delay.delay_us(us).await;
        self.bus.tx_low(false);
    }

    async fn delay_us(&mut self, us: u32) {
        self.delay.delay_us(us).await
    }
}

/// Which frame of a response the first missing byte belongs to: a read of `expected` bytes made
/// of frames of `frame_len` bytes that stopped after `received` bytes. `None` if nothing is
/// missing (or `frame_len` is 0). The family maps the frame index to its device.
///
/// ```
/// // Three 8-byte frames; 19 bytes arrived: frame 2 (the third) is incomplete.
/// assert_eq!(bms_afe::io::first_missing_frame(19, 24, 8), Some(2));
/// assert_eq!(bms_afe::io::first_missing_frame(24, 24, 8), None);
/// ```
pub const fn first_missing_frame(
    received: usize,
    expected: usize,
    frame_len: usize,
) -> Option<usize> {
    if received >= expected || frame_len == 0 {
        None
    } else {
        Some(received / frame_len)
    }
}

/// The [`FaultReason::NoResponse`](crate::error::FaultReason::NoResponse) fault of a response
/// that stopped after `received` of `expected` bytes: it names the device of the first
/// incomplete frame (`device_of(frame index)`, so each family keeps its own frame order).
/// `None` if the response is complete.
///
/// ```
/// use bms_afe::error::{DeviceFault, FaultReason};
/// // Frames come highest device first from a chain of 3: the second frame is device 1.
/// let f = bms_afe::io::no_response(10, 24, 8, |frame| 2 - frame as u8);
/// assert_eq!(f, Some(DeviceFault { device: 1, reason: FaultReason::NoResponse }));
/// ```
pub fn no_response(
    received: usize,
    expected: usize,
    frame_len: usize,
    device_of: impl FnOnce(usize) -> u8,
) -> Option<crate::error::DeviceFault> {
    first_missing_frame(received, expected, frame_len).map(|frame| crate::error::DeviceFault {
        device: device_of(frame),
        reason: crate::error::FaultReason::NoResponse,
    })
}

/// Runs a future built on [`Blocking`] transports to completion.
///
/// Such futures never return `Pending` (every transport call finishes inside its first poll),
/// so this returns after one poll; the loop only makes the function total without a panic.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Generates the blocking and the async public methods of a driver from one list.
///
/// ```text
/// twins! {
///     spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core {
///         /// Docs shared by both flavours.
///         pub fn wake(&mut self) -> Result<(), Error<SpiError<B>>>;
///     }
/// }
/// ```
///
/// emits `impl<V: Variant, const N: usize, B: embedded_hal::spi::SpiDevice, D: DelayNs>
/// Ltc681x<V, N, Blocking<B, D>> { pub fn wake(&mut self) -> … { block_on(self.core.wake()) } }`
/// and the async twin forwarding to `self.core.wake().await`. The bus type parameter is
/// always named `B` and the delay `D`; use `SpiError<B>` / `I2cError<B>` / `SerialError<B>` in
/// signatures. `$kind` is `spi`, `i2c` or `serial` (a [`Serial`] bus).
macro_rules! twins {
    (
        $kind:ident impl[$($g:tt)*] $ty:ident<$($ga:tt),*> => $core:ident {
            $(
                $(#[$m:meta])*
                pub fn $name:ident(&mut self $(, $arg:ident : $argty:ty)* $(,)?) -> $ret:ty;
            )*
        }
    ) => {
        $crate::io::twins!(@emit $kind [$($g)*] $ty [$($ga),*] $core
            [$( [$(#[$m])*] $name [$($arg : $argty),*] $ret )*]);
    };
    (@emit spi [$($g:tt)*] $ty:ident [$($ga:tt),*] $core:ident [$($rest:tt)*]) => {
        $crate::io::twins!(@impl [$($g)*] $ty [$($ga),*] $core
            [embedded_hal::spi::SpiDevice] [embedded_hal_async::spi::SpiDevice] [$($rest)*]);
    };
    (@emit i2c [$($g:tt)*] $ty:ident [$($ga:tt),*] $core:ident [$($rest:tt)*]) => {
        $crate::io::twins!(@impl [$($g)*] $ty [$($ga),*] $core
            [embedded_hal::i2c::I2c] [embedded_hal_async::i2c::I2c] [$($rest)*]);
    };
    (@emit serial [$($g:tt)*] $ty:ident [$($ga:tt),*] $core:ident [$($rest:tt)*]) => {
        $crate::io::twins!(@impl [$($g)*] $ty [$($ga),*] $core
            [$crate::io::BlockingSerial] [$crate::io::AsyncSerial] [$($rest)*]);
    };
    (@impl [$($g:tt)*] $ty:ident [$($ga:tt),*] $core:ident [$($bb:tt)*] [$($ab:tt)*]
        [$( [$(#[$m:meta])*] $name:ident [$($arg:ident : $argty:ty),*] $ret:ty )*]) => {
        impl<$($g)*, B: $($bb)*, D: embedded_hal::delay::DelayNs>
            $ty<$($ga,)* $crate::io::Blocking<B, D>>
        {
            $(
                $(#[$m])*
                pub fn $name(&mut self $(, $arg: $argty)*) -> $ret {
                    $crate::io::block_on(self.$core.$name($($arg),*))
                }
            )*
        }
        impl<$($g)*, B: $($ab)*, D: embedded_hal_async::delay::DelayNs>
            $ty<$($ga,)* $crate::io::Async<B, D>>
        {
            $(
                $(#[$m])*
                pub async fn $name(&mut self $(, $arg: $argty)*) -> $ret {
                    self.$core.$name($($arg),*).await
                }
            )*
        }
    };
}
pub(crate) use twins;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_on_returns_ready_value() {
        assert_eq!(block_on(async { 41 + 1 }), 42);
    }
}
