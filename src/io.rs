//! Blocking and async in one build.
//!
//! # How it works
//!
//! Every driver's logic is written **once**, as `async fn`s over two small crate-internal
//! transport traits ([`SpiIo`], [`I2cIo`]) that only move bytes and wait. The user picks the
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

mod private {
    pub trait Sealed {}
}
impl<B, D> private::Sealed for Blocking<B, D> {}
impl<B, D> private::Sealed for Async<B, D> {}

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
/// always named `B` and the delay `D`; use `SpiError<B>` / `I2cError<B>` in signatures.
/// `$kind` is `spi` or `i2c`.
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
