//! Auxiliary interfaces: the COMM group (I2C/SPI master on the GPIOs) and STCOMM.

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(crate) async fn write_comm(&mut self, comm: &[Comm; N]) -> Result<(), E<IO>> {
        let data = comm.map(|c| c.to_bytes());
        self.write6(&cmd::WRCOMM, &data).await
    }

    pub(crate) async fn read_comm(
        &mut self,
        out: &mut [Reading<Comm>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDCOMM, Comm::from_bytes, out).await
    }

    pub(crate) async fn start_comm(&mut self) -> Result<(), E<IO>> {
        // STCOMM is followed by 72 clocks (24 per byte) in the same CS frame.
        let clocks = [0xFFu8; 9];
        let r = self
            .io
            .transaction(&mut [Operation::Write(&cmd::STCOMM), Operation::Write(&clocks)])
            .await;
        self.account(&cmd::STCOMM, r.is_ok());
        r.map_err(Error::Bus)
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core {
        /// Writes the COMM group per device (I2C/SPI master on the GPIOs; not verified by
        /// read-back because STCOMM changes it).
        pub fn write_comm(&mut self, comm: &[Comm; N]) -> Result<(), Error<SpiError<B>>>;
        /// Reads the COMM group.
        pub fn read_comm(&mut self, out: &mut [Reading<Comm>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// STCOMM followed by the 72 clocks that shift the three COMM bytes out.
        pub fn start_comm(&mut self) -> Result<(), Error<SpiError<B>>>;
    }
}
