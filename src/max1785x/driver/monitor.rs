//! The [`CellMonitor`](crate::CellMonitor) implementation.

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> MonitorCore for Core<V, N, IO> {
    type BusError = IO::Error;

    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        V::CELLS
    }
    fn temperatures_per_device(&self) -> usize {
        self.thermistors
            .map_or(0, |t| t.inputs.count_ones() as usize)
    }
    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        self.start_up().await
    }
    async fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start_scan(oversampling_of(mode)).await
    }
    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N * V::CELLS)?;
        self.read_cells(out).await
    }
    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N * V::CELLS)?;
        self.measure(oversampling_of(mode)).await?;
        self.read_cells(out).await
    }
    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let per = MonitorCore::temperatures_per_device(self);
        check_len(out.len(), N * per)?;
        let Some(th) = self.thermistors else {
            return Ok(ChainReport::OK);
        };
        self.measure(Oversampling::X4).await?;
        let mut ratios = [[Reading::NotConverted; 6]; N];
        let mut flat = [Reading::NotConverted; 6 * message::MAX_CHAIN];
        let all = flat.get_mut(..N * V::AUX_INPUTS).unwrap_or(&mut []);
        let report = self.read_aux_ratios(all).await?;
        for (d, r) in ratios.iter_mut().enumerate() {
            for (i, x) in r.iter_mut().enumerate().take(V::AUX_INPUTS) {
                *x = flat
                    .get(d * V::AUX_INPUTS + i)
                    .copied()
                    .unwrap_or(Reading::NotConverted);
            }
        }
        for (dev_out, r) in out.chunks_exact_mut(per.max(1)).zip(&ratios) {
            let inputs = (0..V::AUX_INPUTS).filter(|i| th.inputs >> i & 1 != 0);
            for (o, i) in dev_out.iter_mut().zip(inputs) {
                *o = r
                    .get(i)
                    .copied()
                    .unwrap_or(Reading::NotConverted)
                    .map(th.convert);
            }
        }
        Ok(report)
    }
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        self.measure(Oversampling::X4).await?;
        self.read_block_voltages(out).await
    }
    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        self.current().await
    }
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        self.set_balancing_masks(masks).await
    }
    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        let mut a = [Reading::NotConverted; N];
        let r = self.read_alerts(&mut a).await?;
        for (o, x) in out.iter_mut().zip(a) {
            *o = x.map(|al| al.faults(V::CELLS));
        }
        Ok(r)
    }
}

impl_cell_monitor!(spi impl[V: Variant, const N: usize] Max1785x<V, N> => core);
