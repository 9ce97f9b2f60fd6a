//! Raw access to one register of one device.

use super::*;

impl<const N: usize, IO: SerialIo> Core<N, IO> {
    pub(crate) async fn read_register(
        &mut self,
        device: usize,
        reg: Register,
    ) -> Result<u16, Error<IO::Error>> {
        if device >= N {
            return Err(Error::InvalidArgument("device index beyond the chain"));
        }
        self.read_node(node_id(device), reg)
            .await?
            .map_err(|reason| fault(device, reason))
    }

    pub(crate) async fn write_register(
        &mut self,
        device: usize,
        reg: Register,
        value: u16,
    ) -> Result<(), Error<IO::Error>> {
        if device >= N {
            return Err(Error::InvalidArgument("device index beyond the chain"));
        }
        self.write_node(node_id(device), reg, value)
            .await?
            .map_err(|reason| fault(device, reason))
    }
}
