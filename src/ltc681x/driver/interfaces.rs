//! Auxiliary interfaces: the COMM group (I2C/SPI master on the GPIOs) and STCOMM.

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn write_comm(&mut self, comm: &[Comm; N]) -> Result<(), Error<IO::Error>> {
        // Reject values the register cannot hold before anything is sent.
        for c in comm {
            c.check().map_err(Error::Config)?;
        }
        let mut data = [[0u8; 6]; N];
        for (d, c) in data.iter_mut().zip(comm) {
            *d = c.encode();
        }
        self.write_raw(&command::WRCOMM, &data).await
    }

    pub(super) async fn read_comm(
        &mut self,
        out: &mut [Reading<Comm>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.read_mapped(&command::RDCOMM, out, |d, _| Comm::decode(d))
            .await
    }

    pub(super) async fn start_comm(&mut self) -> Result<(), Error<IO::Error>> {
        // STCOMM then 72 clocks (24 per COMM byte) in the same CS frame (LTC6812-DS "COMM").
        let mut clocks = [0xFFu8; 9];
        self.io
            .transaction(&mut [
                embedded_hal::spi::Operation::Write(&command::STCOMM),
                embedded_hal::spi::Operation::TransferInPlace(&mut clocks),
            ])
            .await
            .map_err(Error::Bus)
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core {
        /// WRCOMM (device 0 = nearest the host). Every ICOM/FCOM must be a write code of the
        /// data sheet ([`Comm::check`]), else [`Error::Config`] and nothing is sent.
        pub fn write_comm(&mut self, comm: &[Comm; N]) -> Result<(), Error<SpiError<B>>>;
        /// RDCOMM.
        pub fn read_comm(&mut self, out: &mut [Reading<Comm>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// STCOMM followed by the 72 clocks that shift the three COMM bytes out.
        pub fn start_comm(&mut self) -> Result<(), Error<SpiError<B>>>;
    }
}
