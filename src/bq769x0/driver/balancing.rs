//! Cell balancing through CELLBAL1..n.

use super::*;

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(crate) async fn set_balancing_cells(
        &mut self,
        cells: u32,
    ) -> Result<u16, Error<IO::Error>> {
        let inputs = balancing_inputs(&self.map, cells)?;
        let bytes = [
            (inputs & 0x1F) as u8,
            ((inputs >> 5) & 0x1F) as u8,
            ((inputs >> 10) & 0x1F) as u8,
        ];
        let n = usize::from(V::CELLBAL_REGISTERS);
        let data = bytes.get(..n).unwrap_or(&[]);
        self.write_verified(reg::CELLBAL1, data, &[0x1F; 3]).await?;
        Ok(inputs)
    }

    pub(crate) async fn balancing_cells(&mut self) -> Result<u32, Error<IO::Error>> {
        let n = usize::from(V::CELLBAL_REGISTERS);
        let mut b = [0u8; 3];
        self.read_regs(reg::CELLBAL1, b.get_mut(..n).unwrap_or(&mut []))
            .await?;
        let inputs =
            u16::from(b[0] & 0x1F) | (u16::from(b[1] & 0x1F) << 5) | (u16::from(b[2] & 0x1F) << 10);
        Ok(self.map.inputs_to_cells(inputs))
    }
}
