//! The TPL link through an MC33664 transceiver, as a trait a HAL user implements.
//!
//! The MC33664 turns the host's SPI frames into TPL pulses and returns, on a second SPI
//! where the MCU is the **target** (slave), an echo of every frame it sent followed by the
//! responses of the addressed device (NXP BCC SW driver v2.2, `BCC_MCU_TransferTpl` and
//! `BCC_Reg_ReadTpl`, github.com/NXPHoverGames/MR-BMS771). embedded-hal has no SPI-target
//! trait, so the driver asks for the smallest thing it needs: **send one frame, receive `k`
//! frames within a bound**, plus the CSB_TX line for the wake-up pattern.
//!
//! Implement [`TplLink`] (blocking) or [`AsyncTplLink`] (async) for your two SPI peripherals
//! and wrap it like any bus: [`Blocking::new(link, delay)`](crate::io::Blocking::new) or
//! [`Async::new(link, delay)`](crate::io::Async::new). Enabling the MC33664 (EN high, wait
//! for the INTB pulse) is board bring-up and stays outside.
//!
//! ```
//! use bms_afe::mc3377x::TplLink;
//!
//! /// Sketch of a HAL implementation: TX is an SPI controller with a manual CSB_TX pin, RX
//! /// an SPI target with DMA (the names stand for your HAL's).
//! struct Mc33664 { tx_frames: u32 }
//!
//! impl TplLink for Mc33664 {
//!     type Error = core::convert::Infallible;
//!     fn transfer(&mut self, frame: &[u8], rx: &mut [u8], timeout_us: u32)
//!         -> Result<usize, Self::Error>
//!     {
//!         // 1. arm the RX target DMA for rx.len() bytes
//!         // 2. CSB_TX low, write `frame` on the TX SPI, CSB_TX high
//!         // 3. wait until the DMA has rx.len() bytes or timeout_us has passed
//!         // 4. return how many bytes arrived (fewer on timeout)
//!         self.tx_frames += 1;
//!         let echo = frame.len().min(rx.len());
//!         rx[..echo].copy_from_slice(&frame[..echo]);
//!         let _ = timeout_us;
//!         Ok(echo)
//!     }
//!     fn set_csb_tx(&mut self, _high: bool) -> Result<(), Self::Error> {
//!         Ok(()) // drive the CSB_TX GPIO
//!     }
//! }
//! let mut link = Mc33664 { tx_frames: 0 };
//! let mut rx = [0u8; 12];
//! assert_eq!(link.transfer(&[1, 2, 3, 4, 5, 6], &mut rx, 500), Ok(6));
//! assert_eq!(link.tx_frames, 1);
//! ```

use crate::io::{Async, Blocking};

/// Blocking TPL link to an MC33664.
pub trait TplLink {
    /// The link's error.
    type Error: core::fmt::Debug;

    /// Arms the receiver for `rx.len()` bytes, sends `frame` (one frame, CSB_TX framed), and
    /// waits until `rx` is full or `timeout_us` µs have passed since the frame went out.
    /// Returns the number of bytes received (fewer than `rx.len()` on timeout: a device that
    /// does not answer must never block).
    fn transfer(
        &mut self,
        frame: &[u8],
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, Self::Error>;

    /// Drives CSB_TX (`true` = high, idle) for the wake-up pattern.
    fn set_csb_tx(&mut self, high: bool) -> Result<(), Self::Error>;
}

/// Async TPL link to an MC33664: the same contract as [`TplLink`].
#[allow(async_fn_in_trait)]
pub trait AsyncTplLink {
    /// The link's error.
    type Error: core::fmt::Debug;

    /// See [`TplLink::transfer`].
    async fn transfer(
        &mut self,
        frame: &[u8],
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, Self::Error>;

    /// See [`TplLink::set_csb_tx`].
    async fn set_csb_tx(&mut self, high: bool) -> Result<(), Self::Error>;
}

/// Crate-internal transport over a wrapped [`TplLink`] / [`AsyncTplLink`].
#[allow(async_fn_in_trait)]
pub(crate) trait TplIo {
    type Error: core::fmt::Debug;
    async fn transfer(
        &mut self,
        frame: &[u8],
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, Self::Error>;
    async fn set_csb_tx(&mut self, high: bool) -> Result<(), Self::Error>;
    async fn delay_us(&mut self, us: u32);
}

impl<T: TplLink, D: embedded_hal::delay::DelayNs> TplIo for Blocking<T, D> {
    type Error = T::Error;
    async fn transfer(
        &mut self,
        frame: &[u8],
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, Self::Error> {
        self.bus.transfer(frame, rx, timeout_us)
    }
    async fn set_csb_tx(&mut self, high: bool) -> Result<(), Self::Error> {
        self.bus.set_csb_tx(high)
    }
    async fn delay_us(&mut self, us: u32) {
        self.delay.delay_us(us)
    }
}

impl<T: AsyncTplLink, D: embedded_hal_async::delay::DelayNs> TplIo for Async<T, D> {
    type Error = T::Error;
    async fn transfer(
        &mut self,
        frame: &[u8],
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, Self::Error> {
        self.bus.transfer(frame, rx, timeout_us).await
    }
    async fn set_csb_tx(&mut self, high: bool) -> Result<(), Self::Error> {
        self.bus.set_csb_tx(high).await
    }
    async fn delay_us(&mut self, us: u32) {
        self.delay.delay_us(us).await
    }
}
