//! The `CellMonitor` implementation.

use super::*;

impl<V: Variant, T: Link<IO>, const N: usize, IO> MonitorCore for Core<V, T, N, IO> {
    type BusError = T::Error;
    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        usize::from(self.map.cells())
    }
    fn temperatures_per_device(&self) -> usize {
        1
    }
    async fn wake(&mut self) -> Result<(), Error<T::Error>> {
        Core::wake(self).await
    }
    async fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<T::Error>> {
        let avg = averaging_for(mode);
        self.start_conversion(avg).await?.into_result()?;
        Ok(conversion_time(avg))
    }
    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        Core::read_cell_voltages(self, out).await
    }
    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        Core::measure_cells(self, mode, out).await
    }
    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<T::Error>> {
        Core::measure_temperatures(self, out).await
    }
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        Core::measure_stack_voltages(self, out).await
    }
    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<T::Error>> {
        Core::read_current(self).await
    }
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<T::Error>> {
        Core::set_balancing(self, masks).await
    }
    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<T::Error>> {
        Core::read_faults(self, out).await
    }
}

crate::monitor::impl_cell_monitor!(@impl [V: Variant, const N: usize] Mc3377x [V, Spi, N] core
    [embedded_hal::spi::SpiDevice] [embedded_hal_async::spi::SpiDevice]);
crate::monitor::impl_cell_monitor!(@impl [V: Variant, const N: usize] Mc3377x [V, Tpl, N] core
    [TplLink] [AsyncTplLink]);
