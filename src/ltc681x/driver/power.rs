//! Wake-up from SLEEP and from isoSPI IDLE.

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        let n = self.n();
        isospi::wake_chain(&mut self.io, n, &command::RDCFGA, T_WAKE_US)
            .await
            .map_err(Error::Bus)
    }

    pub(super) async fn wake_idle(&mut self) -> Result<(), Error<IO::Error>> {
        let n = self.n();
        isospi::wake_idle(&mut self.io, n, &command::RDCFGA, T_READY_US)
            .await
            .map_err(Error::Bus)
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core {
        /// Wakes the chain from SLEEP: one dummy RDCFGA frame per device, each followed by
        /// tWAKE (400 µs max) so every device's core is up before the next pulse (LTC6812-DS
        /// "Waking a Daisy Chain", method 2). Works with any `SpiDevice`.
        pub fn wake(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Wakes the isoSPI ports from IDLE (after > tIDLE = 4.3 ms of silence, cores still
        /// up): one dummy frame per device with tREADY (10 µs) gaps.
        pub fn wake_idle(&mut self) -> Result<(), Error<SpiError<B>>>;
    }
}
