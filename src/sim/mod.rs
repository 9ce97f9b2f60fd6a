//! Virtual chips: register-level models of each supported family behind the embedded-hal bus
//! traits (blocking **and** async), with fault injection. `no_std`, no heap.
//!
//! A model (e.g. an LTC681x chain) lives in a [`Sim`], which hands out a bus ([`SimSpi`],
//! [`SimI2c`] or [`SimUart`]) and a delay ([`SimDelay`]) to give to a driver — or, one level
//! down, the wires: an [`SpiBus`](embedded_hal::spi::SpiBus) shared by several chips, each
//! with its chip-select pin ([`SimSpiBus`], [`SpiTarget`]; see [`bus`]), for `embedded-hal-bus`
//! and other bus-sharing layers — while the test keeps the `Sim`
//! itself as the control handle: set cell voltages, inject faults, advance time, inspect
//! what the chip received. The model checks what the host sends as the silicon would (PEC,
//! CRC, command codes, write order …) and answers as the silicon does; the delay advances
//! the model's clock, so conversion times, watchdog sleep and wake-up are modelled too.
//!
//! ```
//! # #[cfg(feature = "sim")] {
//! use bms_afe::sim::{Sim, SpiModel, SimError, Clock};
//! use embedded_hal::spi::{Operation, SpiDevice};
//! // A trivial model that answers every byte with 0xA5.
//! struct Echo { now_ns: u64 }
//! impl Clock for Echo { fn advance_ns(&mut self, ns: u64) { self.now_ns += ns; } }
//! impl SpiModel for Echo {
//!     fn transaction(&mut self, ops: &mut [Operation<'_, u8>]) -> Result<(), SimError> {
//!         for op in ops {
//!             if let Operation::TransferInPlace(b) = op { b.fill(0xA5) }
//!         }
//!         Ok(())
//!     }
//! }
//! let sim = Sim::new(Echo { now_ns: 0 });
//! let mut spi = sim.spi();
//! let mut buf = [0u8; 2];
//! spi.transaction(&mut [Operation::TransferInPlace(&mut buf)]).unwrap();
//! assert_eq!(buf, [0xA5, 0xA5]);
//! # }
//! ```

pub mod adbms6830;
pub mod bq769x0;
pub mod bq769x2;
pub mod bq79616;
pub mod bus;
pub mod ltc681x;
pub mod max1785x;
pub mod mc3377x;
mod reference;
pub mod tle9012;

pub use bus::{BusTarget, SimCs, SimSpiBus, SpiTarget};

use core::cell::{RefCell, RefMut};

use embedded_hal::i2c::{Operation as I2cOperation, SevenBitAddress};
use embedded_hal::spi::Operation as SpiOperation;

/// The error a virtual bus reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SimError {
    /// The model was already borrowed (the control handle is held across a bus call).
    Busy,
    /// I2C: no device acknowledged the address, or a byte was not acknowledged (bad CRC).
    Nack,
    /// The bus itself failed (injected).
    Bus,
    /// Wire level ([`SimSpiBus`]): a chip-select frame longer than the target's buffer.
    FrameTooLong,
    /// A blocking UART read found nothing to receive: a real UART would wait here forever.
    /// Bounded readers poll `ReadReady` first and never see this.
    WouldBlock,
}

impl embedded_hal::digital::Error for SimError {
    fn kind(&self) -> embedded_hal::digital::ErrorKind {
        embedded_hal::digital::ErrorKind::Other
    }
}

impl embedded_io::Error for SimError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            Self::WouldBlock => embedded_io::ErrorKind::TimedOut,
            _ => embedded_io::ErrorKind::Other,
        }
    }
}

impl embedded_hal::spi::Error for SimError {
    fn kind(&self) -> embedded_hal::spi::ErrorKind {
        embedded_hal::spi::ErrorKind::Other
    }
}

impl embedded_hal::i2c::Error for SimError {
    fn kind(&self) -> embedded_hal::i2c::ErrorKind {
        match self {
            Self::Nack => embedded_hal::i2c::ErrorKind::NoAcknowledge(
                embedded_hal::i2c::NoAcknowledgeSource::Unknown,
            ),
            _ => embedded_hal::i2c::ErrorKind::Other,
        }
    }
}

/// Time in a model: [`SimDelay`] advances it.
pub trait Clock {
    /// Lets `ns` nanoseconds pass.
    fn advance_ns(&mut self, ns: u64);
}

/// A chip (or chain) on an SPI bus: one call per chip-select frame.
pub trait SpiModel: Clock {
    /// Handles one CS-low frame; writes responses into read/transfer buffers.
    fn transaction(&mut self, ops: &mut [SpiOperation<'_, u8>]) -> Result<(), SimError>;
}

/// A chip on an I2C bus.
pub trait I2cModel: Clock {
    /// Handles one I2C transaction (START … STOP) addressed to `address`.
    fn transaction(
        &mut self,
        address: SevenBitAddress,
        ops: &mut [I2cOperation<'_>],
    ) -> Result<(), SimError>;
}

/// A chip (or chain, or bridge) on a UART: bytes in from the host, bytes out to it.
///
/// The handle ([`SimUart`]) models a 1 Mbaud 8N1 link: every byte the host sends or receives
/// advances the model's clock by [`UART_BYTE_NS`]. A model makes its answer available with
/// [`UartModel::pending`] as soon as it has decided it (the clock of the answer's own wire time
/// is advanced as the host reads it).
pub trait UartModel: Clock {
    /// The host sent `bytes` (one `write` call; a frame may arrive in several calls).
    fn receive(&mut self, bytes: &[u8]) -> Result<(), SimError>;
    /// Bytes ready for the host to read now.
    fn pending(&self) -> usize;
    /// Moves up to `buf.len()` ready bytes into `buf`; returns how many.
    fn transmit(&mut self, buf: &mut [u8]) -> usize;
    /// The host drives its TX line low (`true`) or releases it (`false`): wake/reset pings.
    /// The model measures the duration with its clock. Default: ignored.
    fn line_low(&mut self, low: bool) {
        let _ = low;
    }
}

/// A model with digital outputs the host reads (e.g. the BQ79600 SPI_RDY pin).
pub trait InputModel: Clock {
    /// The level of the model's output `pin` now (`true` = high).
    fn input_high(&mut self, pin: u8) -> bool;
}

/// Time of one UART byte at 1 Mbaud 8N1 (start + 8 data + stop bits), in ns.
pub const UART_BYTE_NS: u64 = 10_000;

/// A deterministic xorshift generator for seeded fault patterns (no `rand` dependency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XorShift(pub u32);

impl XorShift {
    /// Next pseudo-random word (never 0 for a non-zero seed).
    pub fn next_u32(&mut self) -> u32 {
        let mut x = if self.0 == 0 { 0x9E37_79B9 } else { self.0 };
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// A value in `0..n` (`n > 0`; returns 0 for `n == 0`).
    pub fn below(&mut self, n: u32) -> u32 {
        if n == 0 { 0 } else { self.next_u32() % n }
    }
}

/// Owner of a model: the control handle, and the source of its bus and delay handles.
#[derive(Debug)]
pub struct Sim<M> {
    model: RefCell<M>,
}

impl<M> Sim<M> {
    /// Wraps a model.
    pub const fn new(model: M) -> Self {
        Self {
            model: RefCell::new(model),
        }
    }

    /// Mutable access to the model (control handle). Do not hold it across a bus call: the
    /// bus then reports [`SimError::Busy`].
    pub fn model(&self) -> RefMut<'_, M> {
        self.model.borrow_mut()
    }

    /// Runs `f` on the model.
    pub fn with<R>(&self, f: impl FnOnce(&mut M) -> R) -> R {
        f(&mut self.model.borrow_mut())
    }

    /// An SPI device handle for a driver (blocking and async `SpiDevice`).
    pub fn spi(&self) -> SimSpi<'_, M> {
        SimSpi { sim: self }
    }

    /// An I2C handle for a driver (blocking and async `I2c`).
    pub fn i2c(&self) -> SimI2c<'_, M> {
        SimI2c { sim: self }
    }

    /// A UART handle for a driver (blocking `embedded_io` 0.6 `Read + Write + ReadReady` and
    /// async `embedded_io_async` 0.6 `Read + Write`).
    pub fn uart(&self) -> SimUart<'_, M> {
        SimUart { sim: self }
    }

    /// A digital input of the host wired to the model's output `pin` (blocking `InputPin`,
    /// async `Wait`).
    pub fn input(&self, pin: u8) -> SimInput<'_, M> {
        SimInput { sim: self, pin }
    }

    /// The TX-line control of the UART (a [`SerialLine`](crate::io::SerialLine) that tells the
    /// model when the host holds TX low).
    pub fn line(&self) -> SimLine<'_, M> {
        SimLine { sim: self }
    }

    /// A delay that advances the model's clock (blocking and async `DelayNs`).
    pub fn delay(&self) -> SimDelay<'_, M> {
        SimDelay { sim: self }
    }

    /// Unwraps the model.
    pub fn into_inner(self) -> M {
        self.model.into_inner()
    }
}

impl<M: UartModel> Sim<M> {
    /// The UART and its line as one [`Serial`](crate::io::Serial) bus.
    pub fn serial(&self) -> crate::io::Serial<SimUart<'_, M>, SimLine<'_, M>> {
        crate::io::Serial::with_line(self.uart(), self.line())
    }
}

/// SPI handle of a [`Sim`].
#[derive(Debug)]
pub struct SimSpi<'a, M> {
    sim: &'a Sim<M>,
}

/// I2C handle of a [`Sim`].
#[derive(Debug)]
pub struct SimI2c<'a, M> {
    sim: &'a Sim<M>,
}

/// UART handle of a [`Sim`].
#[derive(Debug)]
pub struct SimUart<'a, M> {
    sim: &'a Sim<M>,
}

/// Input-pin handle of a [`Sim`] ([`Sim::input`]).
#[derive(Debug)]
pub struct SimInput<'a, M> {
    sim: &'a Sim<M>,
    pin: u8,
}

impl<M> embedded_hal::digital::ErrorType for SimInput<'_, M> {
    type Error = SimError;
}

impl<M: InputModel> SimInput<'_, M> {
    fn level(&mut self) -> Result<bool, SimError> {
        let mut m = self
            .sim
            .model
            .try_borrow_mut()
            .map_err(|_| SimError::Busy)?;
        Ok(m.input_high(self.pin))
    }

    async fn until(&mut self, high: bool) -> Result<(), SimError> {
        core::future::poll_fn(|cx| match self.level() {
            Ok(l) if l == high => core::task::Poll::Ready(Ok(())),
            Ok(_) => {
                cx.waker().wake_by_ref();
                core::task::Poll::Pending
            }
            Err(e) => core::task::Poll::Ready(Err(e)),
        })
        .await
    }
}

impl<M: InputModel> embedded_hal::digital::InputPin for SimInput<'_, M> {
    fn is_high(&mut self) -> Result<bool, SimError> {
        self.level()
    }
    fn is_low(&mut self) -> Result<bool, SimError> {
        self.level().map(|l| !l)
    }
}

impl<M: InputModel> embedded_hal_async::digital::Wait for SimInput<'_, M> {
    /// Pending (woken at once) until the level is high; only a racing timer ends a wait for
    /// a level that never comes.
    async fn wait_for_high(&mut self) -> Result<(), SimError> {
        self.until(true).await
    }
    async fn wait_for_low(&mut self) -> Result<(), SimError> {
        self.until(false).await
    }
    async fn wait_for_rising_edge(&mut self) -> Result<(), SimError> {
        self.until(false).await?;
        self.until(true).await
    }
    async fn wait_for_falling_edge(&mut self) -> Result<(), SimError> {
        self.until(true).await?;
        self.until(false).await
    }
    async fn wait_for_any_edge(&mut self) -> Result<(), SimError> {
        let start = self.level()?;
        self.until(!start).await
    }
}

/// TX-line handle of a [`Sim`] ([`Sim::line`]).
#[derive(Debug)]
pub struct SimLine<'a, M> {
    sim: &'a Sim<M>,
}

/// Delay handle of a [`Sim`]: waiting advances the model's clock instead of sleeping.
#[derive(Debug)]
pub struct SimDelay<'a, M> {
    sim: &'a Sim<M>,
}

impl<M> embedded_hal::spi::ErrorType for SimSpi<'_, M> {
    type Error = SimError;
}

impl<M: SpiModel> embedded_hal::spi::SpiDevice for SimSpi<'_, M> {
    fn transaction(&mut self, ops: &mut [SpiOperation<'_, u8>]) -> Result<(), SimError> {
        let mut m = self
            .sim
            .model
            .try_borrow_mut()
            .map_err(|_| SimError::Busy)?;
        // Model the time the frame takes on a 1 MHz isoSPI link (8 µs per byte).
        let bytes: usize = ops
            .iter()
            .map(|op| match op {
                SpiOperation::Read(b) => b.len(),
                SpiOperation::Write(b) => b.len(),
                SpiOperation::Transfer(r, w) => r.len().max(w.len()),
                SpiOperation::TransferInPlace(b) => b.len(),
                SpiOperation::DelayNs(_) => 0,
            })
            .sum();
        let r = m.transaction(ops);
        for op in ops.iter() {
            if let SpiOperation::DelayNs(ns) = op {
                m.advance_ns(u64::from(*ns));
            }
        }
        m.advance_ns(bytes as u64 * 8_000);
        r
    }
}

impl<M: SpiModel> embedded_hal_async::spi::SpiDevice for SimSpi<'_, M> {
    async fn transaction(&mut self, ops: &mut [SpiOperation<'_, u8>]) -> Result<(), SimError> {
        embedded_hal::spi::SpiDevice::transaction(self, ops)
    }
}

impl<M> embedded_hal::i2c::ErrorType for SimI2c<'_, M> {
    type Error = SimError;
}

impl<M: I2cModel> embedded_hal::i2c::I2c for SimI2c<'_, M> {
    fn transaction(
        &mut self,
        address: SevenBitAddress,
        ops: &mut [I2cOperation<'_>],
    ) -> Result<(), SimError> {
        let mut m = self
            .sim
            .model
            .try_borrow_mut()
            .map_err(|_| SimError::Busy)?;
        let bytes: usize = ops
            .iter()
            .map(|op| match op {
                I2cOperation::Read(b) => b.len(),
                I2cOperation::Write(b) => b.len(),
            })
            .sum();
        let r = m.transaction(address, ops);
        // 400 kHz: ~22.5 µs per byte with ACK.
        m.advance_ns((bytes as u64 + 1) * 22_500);
        r
    }
}

impl<M: I2cModel> embedded_hal_async::i2c::I2c for SimI2c<'_, M> {
    async fn transaction(
        &mut self,
        address: SevenBitAddress,
        ops: &mut [I2cOperation<'_>],
    ) -> Result<(), SimError> {
        embedded_hal::i2c::I2c::transaction(self, address, ops)
    }
}

impl<M> embedded_io::ErrorType for SimUart<'_, M> {
    type Error = SimError;
}

impl<M: UartModel> SimUart<'_, M> {
    fn take(&mut self, buf: &mut [u8]) -> Result<Option<usize>, SimError> {
        let mut m = self
            .sim
            .model
            .try_borrow_mut()
            .map_err(|_| SimError::Busy)?;
        if buf.is_empty() {
            return Ok(Some(0));
        }
        if m.pending() == 0 {
            return Ok(None);
        }
        let n = m.transmit(buf).min(buf.len());
        m.advance_ns(n as u64 * UART_BYTE_NS);
        Ok(Some(n))
    }

    fn send(&mut self, bytes: &[u8]) -> Result<usize, SimError> {
        let mut m = self
            .sim
            .model
            .try_borrow_mut()
            .map_err(|_| SimError::Busy)?;
        m.advance_ns(bytes.len() as u64 * UART_BYTE_NS);
        m.receive(bytes)?;
        Ok(bytes.len())
    }
}

impl<M: UartModel> embedded_io::Read for SimUart<'_, M> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, SimError> {
        self.take(buf)?.ok_or(SimError::WouldBlock)
    }
}

impl<M: UartModel> embedded_io::ReadReady for SimUart<'_, M> {
    fn read_ready(&mut self) -> Result<bool, SimError> {
        let m = self.sim.model.try_borrow().map_err(|_| SimError::Busy)?;
        Ok(m.pending() > 0)
    }
}

impl<M: UartModel> embedded_io::Write for SimUart<'_, M> {
    fn write(&mut self, bytes: &[u8]) -> Result<usize, SimError> {
        self.send(bytes)
    }
    fn flush(&mut self) -> Result<(), SimError> {
        Ok(())
    }
}

impl<M: UartModel> embedded_io_async::Read for SimUart<'_, M> {
    /// Pending (woken at once) while the model has nothing to send: a silent chip never
    /// completes the read, so only a timer racing it ends the wait. Cancel-safe: a read that
    /// never completed took no byte.
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, SimError> {
        core::future::poll_fn(|cx| match self.take(buf) {
            Ok(Some(n)) => core::task::Poll::Ready(Ok(n)),
            Ok(None) => {
                cx.waker().wake_by_ref();
                core::task::Poll::Pending
            }
            Err(e) => core::task::Poll::Ready(Err(e)),
        })
        .await
    }
}

impl<M: UartModel> embedded_io_async::Write for SimUart<'_, M> {
    async fn write(&mut self, bytes: &[u8]) -> Result<usize, SimError> {
        self.send(bytes)
    }
}

impl<M: UartModel> crate::io::SerialLine for SimLine<'_, M> {
    fn set_tx_low(&mut self, low: bool) {
        // A pin change cannot fail; if the model is borrowed the edge is not modelled.
        if let Ok(mut m) = self.sim.model.try_borrow_mut() {
            m.line_low(low);
        }
    }
}

impl<M: Clock> embedded_hal::delay::DelayNs for SimDelay<'_, M> {
    fn delay_ns(&mut self, ns: u32) {
        // A delay cannot fail; if the model is borrowed the time is simply not modelled.
        if let Ok(mut m) = self.sim.model.try_borrow_mut() {
            m.advance_ns(u64::from(ns));
        }
    }
    fn delay_us(&mut self, us: u32) {
        if let Ok(mut m) = self.sim.model.try_borrow_mut() {
            m.advance_ns(u64::from(us) * 1_000);
        }
    }
    fn delay_ms(&mut self, ms: u32) {
        if let Ok(mut m) = self.sim.model.try_borrow_mut() {
            m.advance_ns(u64::from(ms) * 1_000_000);
        }
    }
}

impl<M: Clock> embedded_hal_async::delay::DelayNs for SimDelay<'_, M> {
    async fn delay_ns(&mut self, ns: u32) {
        embedded_hal::delay::DelayNs::delay_ns(self, ns)
    }
    async fn delay_us(&mut self, us: u32) {
        embedded_hal::delay::DelayNs::delay_us(self, us)
    }
    async fn delay_ms(&mut self, ms: u32) {
        embedded_hal::delay::DelayNs::delay_ms(self, ms)
    }
}

/// A fault to inject into a virtual chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum InjectedFault {
    /// Flip bits of device `device`'s response frames: each frame has one bit flipped at a
    /// position drawn from a xorshift generator seeded with `seed`, for the next `frames`
    /// frames (`u32::MAX` = until cleared).
    CorruptResponses {
        /// Device index (0 = nearest the host).
        device: u8,
        /// Seed of the bit-position generator.
        seed: u32,
        /// How many frames to corrupt.
        frames: u32,
    },
    /// Device `device` stops answering (its frame reads as idle bus, all 0xFF).
    Silent {
        /// Device index.
        device: u8,
    },
    /// The isoSPI chain is broken between device `after` and `after + 1`: devices above it
    /// neither hear commands nor answer.
    BreakAfter {
        /// Last device still reachable.
        after: u8,
    },
    /// The sense wire `wire` of device `device` is open (wire `k` connects the junction below
    /// cell `k + 1`; wire 0 is C0/V−, wire `n` is the top of cell `n`).
    OpenWire {
        /// Device index.
        device: u8,
        /// Wire number (0..=cells).
        wire: u8,
    },
}

/// The control surface the conformance suite needs from any virtual chip, so a third-party
/// driver author can plug in their own model.
pub trait VirtualChip {
    /// Devices in the virtual chain.
    fn device_count(&self) -> usize;
    /// Cells per device as modelled.
    fn cells_per_device(&self) -> usize;
    /// Sets the true voltage of cell `cell` (0-based) of device `device`.
    fn set_cell_voltage(&mut self, device: usize, cell: usize, microvolts: i32);
    /// Sets every temperature the device can measure (die and sensors) to `millicelsius`.
    fn set_temperature(&mut self, device: usize, millicelsius: i32);
    /// Sets the pack current (chips with a current channel).
    fn set_current(&mut self, microamps: i64);
    /// Injects a fault.
    fn inject(&mut self, fault: InjectedFault);
    /// Removes every injected fault.
    fn clear_faults(&mut self);
    /// The discharge (balancing) switches currently closed on `device`, bit `k` = cell `k+1`.
    fn balancing(&self, device: usize) -> u32;
    /// Puts every device to sleep (as after the watchdog timeout), losing volatile state the
    /// silicon loses.
    fn sleep(&mut self);
    /// `true` if every device is awake.
    fn is_awake(&self) -> bool;
    /// Smallest change of a cell voltage the chip resolves, in µV (one LSB).
    fn cell_lsb_uv(&self) -> i32;
    /// Resolution of the stack (sum-of-cells) measurement in µV. Default: 30 cell LSBs.
    fn stack_lsb_uv(&self) -> i32 {
        self.cell_lsb_uv().saturating_mul(30)
    }
    /// Virtual time since the model was created, in ns, if the model keeps a clock.
    fn elapsed_ns(&self) -> Option<u64> {
        None
    }
    /// The cell undervoltage and overvoltage thresholds (µV) the chip is currently configured
    /// with on `device`, if it compares cells itself; the conformance suite uses them to
    /// check that the driver decodes the chip's OV/UV flags.
    fn cell_thresholds_uv(&self, device: usize) -> Option<(i32, i32)> {
        let _ = device;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorshift_is_deterministic_and_bounded() {
        let mut a = XorShift(1);
        let mut b = XorShift(1);
        for _ in 0..100 {
            let x = a.below(48);
            assert_eq!(x, b.below(48));
            assert!(x < 48);
        }
        assert_ne!(XorShift(0).next_u32(), 0);
    }
}
