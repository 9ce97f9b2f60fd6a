//! The watchdog: reload and read-back of WDOG_CNT on every device.

use super::*;

impl<const N: usize, IO: SerialIo> Core<N, IO> {
    pub(crate) async fn keep_alive(&mut self) -> Result<ChainReport, Error<IO::Error>> {
        let wrote = self.write_all(Register::WDOG_CNT, Watchdog::RELOAD).await?;
        let back = self.read_all(Register::WDOG_CNT).await?;
        let mut report = ChainReport::OK;
        for d in 0..N {
            let r = wrote[d].and(back[d]).and_then(|v| {
                // A reload that reached the device reads (nearly) 0x7F.
                if v & Watchdog::MASK >= Watchdog::RELOAD - 8 {
                    Ok(())
                } else {
                    Err(FaultReason::Framing)
                }
            });
            if let Err(reason) = r {
                report.record(DeviceFault {
                    device: d as u8,
                    reason,
                });
            }
        }
        Ok(report)
    }
}
