//! The [`CellMonitor`](crate::CellMonitor) / [`AsyncCellMonitor`](crate::AsyncCellMonitor) implementation.

use super::*;

impl<V: Variant, const N: usize, IO: SerialIo> MonitorCore for Core<V, N, IO> {
    type BusError = IO::Error;

    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        usize::from(self.cells)
    }
    fn temperatures_per_device(&self) -> usize {
        1
    }
    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        self.bring_up().await
    }
    async fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start_main_adc(mode).await
    }
    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.read_cells(out).await
    }
    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.measure(mode, out).await
    }
    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let hint = self.start_main_adc(ConversionMode::Normal).await?;
        self.io.delay_us(hint.0).await;
        self.read_die_temperatures(out).await
    }
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let hint = self.start_main_adc(ConversionMode::Normal).await?;
        self.io.delay_us(hint.0).await;
        let c = usize::from(self.cells);
        let mut frames = [[0u8; 32]; N];
        let (verdict, report) = self
            .read_chain(reg::vcell_hi(self.cells), 2 * c, &mut frames)
            .await?;
        for (d, o) in out.iter_mut().enumerate() {
            *o = match verdict.get(d).copied().flatten() {
                Some(reason) => Reading::Failed(DeviceFault {
                    device: d as u8,
                    reason,
                }),
                None => {
                    let f = frames.get(d).map(|f| &f[..]).unwrap_or(&[]);
                    let mut sum = MicroVolts(0);
                    let mut all = true;
                    for k in 0..c {
                        match f.get(2 * k..2 * k + 2).and_then(convert::word) {
                            Some(code) if code != convert::NOT_CONVERTED => {
                                sum = sum.saturating_add(convert::cell_uv(code));
                            }
                            _ => all = false,
                        }
                    }
                    if all {
                        Reading::Valid(sum)
                    } else {
                        Reading::NotConverted
                    }
                }
            };
        }
        Ok(report)
    }
    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        Ok(None)
    }
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        self.balance(masks).await
    }
    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let mut regs = [Reading::NotConverted; N];
        let report = self.read_fault_registers(&mut regs).await?;
        let cells = self.cells;
        for (o, r) in out.iter_mut().zip(regs.iter()) {
            *o = r.map(|r| r.to_faults(cells));
        }
        Ok(report)
    }
}

impl_cell_monitor!(serial impl[V: Variant, const N: usize] Bq79616<V, N> => core);
