//! Status and alerts: SYS_STAT read, clear and the bounded alert service pass.

use super::*;

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(crate) async fn read_status(&mut self) -> Result<SysStat, Error<IO::Error>> {
        Ok(SysStat::from_bits_retain(
            self.read_u8(reg::SYS_STAT).await?,
        ))
    }

    /// Writes ones to `bits` of SYS_STAT (zeros leave the others alone, DS Table 8-3) and
    /// returns which of them are still set.
    pub(crate) async fn clear_status(
        &mut self,
        bits: SysStat,
    ) -> Result<SysStat, Error<IO::Error>> {
        self.write_regs(reg::SYS_STAT, &[bits.bits()]).await?;
        Ok(self.read_status().await? & bits)
    }

    pub(crate) async fn service_alerts(&mut self) -> Result<AlertReport, Error<IO::Error>> {
        let status = self.read_status().await?;
        let faults = status & SysStat::FAULTS;
        let remaining = if faults.is_empty() {
            SysStat::empty()
        } else {
            self.clear_status(faults).await?
        };
        // A NORMAL-mode entry (brown-out, boot) or XREADY restores the defaults: check the
        // configuration on every pass and put it back (one read, bounded).
        let reconfigured = self.ensure_configured().await?;
        Ok(AlertReport {
            status,
            remaining,
            reconfigured,
        })
    }
}
