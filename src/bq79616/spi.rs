//! The BQ79600 bridge's SPI host link, as a byte pipe for the same driver.
//!
//! In SPI mode (TI BQ79600-Q1 data sheet SLUSEA0 §7.3.2.1.2.2 "SPI", "SPI_RDY and SPI FIFO",
//! "Flow to Read/Write BQ79600-Q1") the host sends command frames as SPI writes (MISO is
//! discarded) and reads the response from a TX FIFO of two 128-byte ping-pong buffers. The
//! bridge raises **SPI_RDY** when a buffer is full, or when the response is complete and the FIFO
//! timeout elapsed; it drops it within 5 µs of receiving the first byte of a read command and
//! when the buffer being read is empty. The host reads one buffer per chip-select frame and
//! raises nCS after its last byte.
//!
//! [`BridgeSpi`] wraps an `embedded_hal` `SpiDevice` and the SPI_RDY input (`InputPin`
//! blocking, `embedded_hal_async::digital::Wait` async) and an optional
//! [`SerialLine`] for the wake ping. It is a bus for
//! [`Blocking`](crate::io::Blocking) / [`Async`](crate::io::Async) like
//! [`Serial`](crate::io::Serial), so [`Bq79616`](super::Bq79616) runs over it unchanged: every
//! read is bounded the same way (blocking: SPI_RDY polled with the delay; async: waiting for
//! SPI_RDY raced against the delay).
//!
//! The driver announces each response's length ([`SerialIo::expect`](crate::io::SerialIo)), so
//! the link reads exactly `min(remaining, 128)` bytes per buffer. Bytes the bridge offers with
//! no response expected are read one per frame (a drain). Writes do not wait for SPI_RDY: a
//! command frame is at most 14 bytes, below the 16 bytes of RX FIFO at which the bridge drops
//! SPI_RDY for writes.
//!
//! Not verified: the MOSI level during reads (the `SpiDevice` `Read` operation sends the
//! HAL's fill word); the wake ping over SPI (here the [`SerialLine`]
//! holds the line low, as on UART).

use core::fmt;

use crate::io::{AsyncSerial, BlockingSerial, NoLine, SerialLine, SerialPort, private};

/// One TX FIFO buffer of the bridge.
pub const FIFO_BUFFER: usize = 128;

/// An SPI or SPI_RDY pin error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LinkError<S, P> {
    /// The SPI bus failed.
    Spi(S),
    /// Reading SPI_RDY failed.
    Ready(P),
}

impl<S: fmt::Debug, P: fmt::Debug> fmt::Display for LinkError<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spi(e) => write!(f, "SPI: {e:?}"),
            Self::Ready(e) => write!(f, "SPI_RDY: {e:?}"),
        }
    }
}

/// The BQ79600 SPI host link: an SPI device, its SPI_RDY input, and a wake line.
#[derive(Debug)]
pub struct BridgeSpi<S, P, L = NoLine> {
    spi: S,
    ready: P,
    line: L,
    has_line: bool,
    remaining: usize,
    stage: [u8; FIFO_BUFFER],
    stage_len: usize,
    stage_pos: usize,
}

impl<S, P> BridgeSpi<S, P, NoLine> {
    /// An SPI device and its SPI_RDY pin, without a wake line.
    pub const fn new(spi: S, ready: P) -> Self {
        Self::build(spi, ready, NoLine, false)
    }
}

impl<S, P, L> BridgeSpi<S, P, L> {
    const fn build(spi: S, ready: P, line: L, has_line: bool) -> Self {
        Self {
            spi,
            ready,
            line,
            has_line,
            remaining: 0,
            stage: [0; FIFO_BUFFER],
            stage_len: 0,
            stage_pos: 0,
        }
    }

    /// An SPI device, its SPI_RDY pin and a line that holds the bridge's input low for the
    /// wake ping.
    pub const fn with_line(spi: S, ready: P, line: L) -> Self {
        Self::build(spi, ready, line, true)
    }

    /// Gives the parts back.
    pub fn release(self) -> (S, P, L) {
        (self.spi, self.ready, self.line)
    }

    fn chunk(&self) -> usize {
        if self.remaining == 0 {
            1
        } else {
            self.remaining.min(FIFO_BUFFER)
        }
    }

    fn take_staged(&mut self, buf: &mut [u8]) -> usize {
        let avail = self
            .stage
            .get(self.stage_pos..self.stage_len)
            .unwrap_or(&[]);
        let n = avail.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.stage_pos += n;
        n
    }

    fn staged(&self) -> bool {
        self.stage_pos < self.stage_len
    }

    fn begin_chunk(&mut self) -> usize {
        let n = self.chunk();
        self.remaining = self.remaining.saturating_sub(n);
        self.stage_len = n;
        self.stage_pos = 0;
        n
    }
}

impl<S, P, L> private::Sealed for BridgeSpi<S, P, L> {}

impl<S: embedded_hal::spi::ErrorType, P: embedded_hal::digital::ErrorType, L> SerialPort
    for BridgeSpi<S, P, L>
{
    type Error = LinkError<S::Error, P::Error>;
}

impl<S, P, L> BlockingSerial for BridgeSpi<S, P, L>
where
    S: embedded_hal::spi::SpiDevice,
    P: embedded_hal::digital::InputPin,
    L: SerialLine,
{
    fn send(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.spi.write(bytes).map_err(LinkError::Spi)
    }
    fn ready(&mut self) -> Result<bool, Self::Error> {
        if self.staged() {
            return Ok(true);
        }
        self.ready.is_high().map_err(LinkError::Ready)
    }
    fn receive(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if !self.staged() {
            let n = self.begin_chunk();
            let stage = self.stage.get_mut(..n).unwrap_or(&mut []);
            self.spi.read(stage).map_err(LinkError::Spi)?;
        }
        Ok(self.take_staged(buf))
    }
    fn tx_low(&mut self, low: bool) {
        self.line.set_tx_low(low)
    }
    fn has_line(&self) -> bool {
        self.has_line
    }
    fn expect(&mut self, bytes: usize) {
        self.remaining = bytes;
        self.stage_len = 0;
        self.stage_pos = 0;
    }
}

impl<S, P, L> AsyncSerial for BridgeSpi<S, P, L>
where
    S: embedded_hal_async::spi::SpiDevice,
    P: embedded_hal_async::digital::Wait,
    L: SerialLine,
{
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.spi.write(bytes).await.map_err(LinkError::Spi)
    }
    async fn receive(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if !self.staged() {
            // Cancel-safe: nothing is taken before SPI_RDY is high.
            self.ready.wait_for_high().await.map_err(LinkError::Ready)?;
            let n = self.begin_chunk();
            let stage = self.stage.get_mut(..n).unwrap_or(&mut []);
            self.spi.read(stage).await.map_err(LinkError::Spi)?;
        }
        Ok(self.take_staged(buf))
    }
    fn tx_low(&mut self, low: bool) {
        self.line.set_tx_low(low)
    }
    fn has_line(&self) -> bool {
        self.has_line
    }
    fn expect(&mut self, bytes: usize) {
        self.remaining = bytes;
        self.stage_len = 0;
        self.stage_pos = 0;
    }
}
