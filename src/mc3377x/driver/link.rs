//! The transports and their frame exchange: direct SPI (each transfer returns the response
//! to the frame before) and TPL through an MC33664 (echo, then the responses).

use embedded_hal::spi::Operation;

use super::*;

/// Direct SPI to one device (responses arrive one frame late; handled inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spi;
/// TPL daisy chain through an MC33664 ([`TplLink`] / [`AsyncTplLink`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tpl;

mod private {
    pub trait Sealed {}
}
impl private::Sealed for Spi {}
impl private::Sealed for Tpl {}

/// The two transports, [`Spi`] and [`Tpl`].
pub trait Transport: private::Sealed + Copy + Default + 'static {
    /// `true` for [`Tpl`].
    const TPL: bool;
}
impl Transport for Spi {
    const TPL: bool = false;
}
impl Transport for Tpl {
    const TPL: bool = true;
}

/// SPI wake-up: CSB low 80 µs, then 440 µs until the device is ready (`BCC_CSB_WU_FLT_US`,
/// `BCC_T_WAKE_UP_US`, NXP BCC SW driver v2.2 `bcc.c`).
pub const T_SPI_WAKE_LOW_US: u32 = 80;
/// See [`T_SPI_WAKE_LOW_US`].
pub const T_SPI_WAKE_UP_US: u32 = 440;
/// TPL wake-up pattern: CSB_TX low 25 µs, high 600 µs, low 25 µs, then 750 µs per device
/// (`BCC_WAKE_PULSE_US`, `BCC_T_WAKE_DELAY_US`, `BCC_T_WU_WAIT_US`).
pub const T_TPL_WAKE_PULSE_US: u32 = 25;
/// See [`T_TPL_WAKE_PULSE_US`].
pub const T_TPL_WAKE_DELAY_US: u32 = 600;
/// See [`T_TPL_WAKE_PULSE_US`].
pub const T_TPL_WAKE_PER_DEVICE_US: u32 = 750;

/// The bound given to [`TplLink::transfer`] for `frames` frames: 200 µs of latency plus
/// 50 µs per 48-bit frame (24 µs at the 2 Mbit/s TPL rate, doubled).
pub const fn tpl_timeout_us(frames: usize) -> u32 {
    200 + 50 * frames as u32
}

/// The transport-specific frame exchange.
#[allow(async_fn_in_trait)]
pub(crate) trait Link<IO>: Transport {
    type Error: core::fmt::Debug;
    /// Reads `out.len() − 1` registers from `register` of `cid`. `out\[0\]` receives the
    /// response to the previous frame (SPI) or the echo (TPL); returns the frames received.
    async fn read(
        io: &mut IO,
        cid: u8,
        register: u8,
        out: &mut [[u8; FRAME_C]],
    ) -> Result<usize, Self::Error>;
    /// Sends one frame; `rx` receives the previous response (SPI) or the echo (TPL).
    async fn send(
        io: &mut IO,
        tx: &[u8; FRAME_C],
        rx: &mut [u8; FRAME_C],
    ) -> Result<bool, Self::Error>;
    async fn wake(io: &mut IO, devices: usize) -> Result<(), Self::Error>;
    async fn delay_us(io: &mut IO, us: u32);
}

impl<IO: SpiIo> Link<IO> for Spi {
    type Error = IO::Error;
    async fn read(
        io: &mut IO,
        cid: u8,
        register: u8,
        out: &mut [[u8; FRAME_C]],
    ) -> Result<usize, IO::Error> {
        // BCC_Reg_ReadSpi: n + 1 frames, each a READ with data 0x0001 of the next address;
        // each transfer returns the response to the frame before.
        for (i, f) in out.iter_mut().enumerate() {
            let addr = register.wrapping_add(i as u8) & 0x7F;
            *f = frame::request_c(0x0001, addr, cid, Command::Read);
            io.transaction(&mut [Operation::TransferInPlace(f)]).await?;
        }
        Ok(out.len())
    }
    async fn send(
        io: &mut IO,
        tx: &[u8; FRAME_C],
        rx: &mut [u8; FRAME_C],
    ) -> Result<bool, IO::Error> {
        *rx = *tx;
        io.transaction(&mut [Operation::TransferInPlace(rx)])
            .await?;
        Ok(true)
    }
    async fn wake(io: &mut IO, _devices: usize) -> Result<(), IO::Error> {
        io.transaction(&mut [Operation::DelayNs(T_SPI_WAKE_LOW_US * 1_000)])
            .await?;
        io.delay_us(T_SPI_WAKE_UP_US).await;
        Ok(())
    }
    async fn delay_us(io: &mut IO, us: u32) {
        io.delay_us(us).await
    }
}

impl<IO: TplIo> Link<IO> for Tpl {
    type Error = IO::Error;
    async fn read(
        io: &mut IO,
        cid: u8,
        register: u8,
        out: &mut [[u8; FRAME_C]],
    ) -> Result<usize, IO::Error> {
        // BCC_Reg_ReadTpl: one READ whose data field is the register count; echo + n frames.
        let n = out.len().saturating_sub(1);
        let tx = frame::request_c(n as u16, register, cid, Command::Read);
        // Only the `got` bytes that arrived are ever parsed.
        let bytes = out.as_flattened_mut();
        let got = io
            .transfer(&tx, bytes, tpl_timeout_us(n + 1))
            .await?
            .min(bytes.len());
        Ok(got / FRAME_C)
    }
    async fn send(
        io: &mut IO,
        tx: &[u8; FRAME_C],
        rx: &mut [u8; FRAME_C],
    ) -> Result<bool, IO::Error> {
        rx.fill(0xFF);
        let got = io.transfer(tx, rx, tpl_timeout_us(1)).await?;
        Ok(got >= FRAME_C)
    }
    async fn wake(io: &mut IO, devices: usize) -> Result<(), IO::Error> {
        io.set_csb_tx(false).await?;
        io.delay_us(T_TPL_WAKE_PULSE_US).await;
        io.set_csb_tx(true).await?;
        io.delay_us(T_TPL_WAKE_DELAY_US).await;
        io.set_csb_tx(false).await?;
        io.delay_us(T_TPL_WAKE_PULSE_US).await;
        io.set_csb_tx(true).await?;
        io.delay_us(T_TPL_WAKE_PER_DEVICE_US * devices as u32).await;
        Ok(())
    }
    async fn delay_us(io: &mut IO, us: u32) {
        io.delay_us(us).await
    }
}
