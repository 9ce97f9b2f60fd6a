//! [`CellMonitor`](crate::CellMonitor) / [`AsyncCellMonitor`](crate::AsyncCellMonitor) for the
//! TLE9012 chain.

use super::{Core, Tle9012};
use crate::error::Error;
use crate::io::SerialIo;
use crate::monitor::{ChainReport, ConversionMode, Faults, MonitorCore, Reading};
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};

impl<const N: usize, IO: SerialIo> MonitorCore for Core<N, IO> {
    type BusError = IO::Error;

    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        self.cells
    }
    /// One channel per device: the internal (die) temperature. The NTC inputs are read raw
    /// with `read_external_temperatures`.
    fn temperatures_per_device(&self) -> usize {
        1
    }

    /// Wake pattern, enumeration of every device that lost its ID (configuration re-applied),
    /// watchdog reload; an error names the first device that could not be brought up.
    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        self.wake_chain().await?;
        self.enumerate().await?;
        self.keep_alive().await?.into_result()
    }

    /// One 16-bit conversion mode: every [`ConversionMode`] starts the same conversion.
    async fn start_cell_conversion(
        &mut self,
        _mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start_cells().await
    }

    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.read_cells(out).await
    }

    async fn measure_cells(
        &mut self,
        _mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        Core::measure_cells(self, out).await
    }

    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.internal_temperatures(out).await
    }

    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.measure_block(out).await
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
        self.faults(out).await
    }
}

// The public trait impls (the crate's `impl_cell_monitor!` expansion, with the bus spelled out
// as `Serial<U, L>`, whose error is `U::Error`).
impl<const N: usize, U, L, D> crate::monitor::CellMonitor
    for Tle9012<N, crate::io::Blocking<crate::io::Serial<U, L>, D>>
where
    U: embedded_io::Read + embedded_io::Write + embedded_io::ReadReady,
    L: crate::io::SerialLine,
    D: embedded_hal::delay::DelayNs,
{
    type BusError = U::Error;
    fn device_count(&self) -> usize {
        crate::monitor::MonitorCore::device_count(&self.core)
    }
    fn cells_per_device(&self) -> usize {
        crate::monitor::MonitorCore::cells_per_device(&self.core)
    }
    fn temperatures_per_device(&self) -> usize {
        crate::monitor::MonitorCore::temperatures_per_device(&self.core)
    }
    fn wake(&mut self) -> Result<(), crate::Error<U::Error>> {
        crate::io::block_on(crate::monitor::MonitorCore::wake(&mut self.core))
    }
    fn start_cell_conversion(
        &mut self,
        mode: crate::monitor::ConversionMode,
    ) -> Result<crate::units::Microseconds, crate::Error<U::Error>> {
        crate::io::block_on(crate::monitor::MonitorCore::start_cell_conversion(
            &mut self.core,
            mode,
        ))
    }
    fn read_cell_voltages(
        &mut self,
        out: &mut [crate::monitor::Reading<crate::units::MicroVolts>],
    ) -> Result<crate::monitor::ChainReport, crate::Error<U::Error>> {
        crate::io::block_on(crate::monitor::MonitorCore::read_cell_voltages(
            &mut self.core,
            out,
        ))
    }
    fn measure_cells(
        &mut self,
        mode: crate::monitor::ConversionMode,
        out: &mut [crate::monitor::Reading<crate::units::MicroVolts>],
    ) -> Result<crate::monitor::ChainReport, crate::Error<U::Error>> {
        crate::io::block_on(crate::monitor::MonitorCore::measure_cells(
            &mut self.core,
            mode,
            out,
        ))
    }
    fn measure_temperatures(
        &mut self,
        out: &mut [crate::monitor::Reading<crate::units::MilliCelsius>],
    ) -> Result<crate::monitor::ChainReport, crate::Error<U::Error>> {
        crate::io::block_on(crate::monitor::MonitorCore::measure_temperatures(
            &mut self.core,
            out,
        ))
    }
    fn measure_stack_voltages(
        &mut self,
        out: &mut [crate::monitor::Reading<crate::units::MicroVolts>],
    ) -> Result<crate::monitor::ChainReport, crate::Error<U::Error>> {
        crate::io::block_on(crate::monitor::MonitorCore::measure_stack_voltages(
            &mut self.core,
            out,
        ))
    }
    fn read_current(&mut self) -> Result<Option<crate::units::MicroAmps>, crate::Error<U::Error>> {
        crate::io::block_on(crate::monitor::MonitorCore::read_current(&mut self.core))
    }
    fn set_balancing(&mut self, masks: &[u32]) -> Result<(), crate::Error<U::Error>> {
        crate::io::block_on(crate::monitor::MonitorCore::set_balancing(
            &mut self.core,
            masks,
        ))
    }
    fn read_faults(
        &mut self,
        out: &mut [crate::monitor::Reading<crate::monitor::Faults>],
    ) -> Result<crate::monitor::ChainReport, crate::Error<U::Error>> {
        crate::io::block_on(crate::monitor::MonitorCore::read_faults(
            &mut self.core,
            out,
        ))
    }
}

impl<const N: usize, U, L, D> crate::monitor::AsyncCellMonitor
    for Tle9012<N, crate::io::Async<crate::io::Serial<U, L>, D>>
where
    U: embedded_io_async::Read + embedded_io_async::Write,
    L: crate::io::SerialLine,
    D: embedded_hal_async::delay::DelayNs,
{
    type BusError = U::Error;
    fn device_count(&self) -> usize {
        crate::monitor::MonitorCore::device_count(&self.core)
    }
    fn cells_per_device(&self) -> usize {
        crate::monitor::MonitorCore::cells_per_device(&self.core)
    }
    fn temperatures_per_device(&self) -> usize {
        crate::monitor::MonitorCore::temperatures_per_device(&self.core)
    }
    async fn wake(&mut self) -> Result<(), crate::Error<U::Error>> {
        crate::monitor::MonitorCore::wake(&mut self.core).await
    }
    async fn start_cell_conversion(
        &mut self,
        mode: crate::monitor::ConversionMode,
    ) -> Result<crate::units::Microseconds, crate::Error<U::Error>> {
        crate::monitor::MonitorCore::start_cell_conversion(&mut self.core, mode).await
    }
    async fn read_cell_voltages(
        &mut self,
        out: &mut [crate::monitor::Reading<crate::units::MicroVolts>],
    ) -> Result<crate::monitor::ChainReport, crate::Error<U::Error>> {
        crate::monitor::MonitorCore::read_cell_voltages(&mut self.core, out).await
    }
    async fn measure_cells(
        &mut self,
        mode: crate::monitor::ConversionMode,
        out: &mut [crate::monitor::Reading<crate::units::MicroVolts>],
    ) -> Result<crate::monitor::ChainReport, crate::Error<U::Error>> {
        crate::monitor::MonitorCore::measure_cells(&mut self.core, mode, out).await
    }
    async fn measure_temperatures(
        &mut self,
        out: &mut [crate::monitor::Reading<crate::units::MilliCelsius>],
    ) -> Result<crate::monitor::ChainReport, crate::Error<U::Error>> {
        crate::monitor::MonitorCore::measure_temperatures(&mut self.core, out).await
    }
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [crate::monitor::Reading<crate::units::MicroVolts>],
    ) -> Result<crate::monitor::ChainReport, crate::Error<U::Error>> {
        crate::monitor::MonitorCore::measure_stack_voltages(&mut self.core, out).await
    }
    async fn read_current(
        &mut self,
    ) -> Result<Option<crate::units::MicroAmps>, crate::Error<U::Error>> {
        crate::monitor::MonitorCore::read_current(&mut self.core).await
    }
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), crate::Error<U::Error>> {
        crate::monitor::MonitorCore::set_balancing(&mut self.core, masks).await
    }
    async fn read_faults(
        &mut self,
        out: &mut [crate::monitor::Reading<crate::monitor::Faults>],
    ) -> Result<crate::monitor::ChainReport, crate::Error<U::Error>> {
        crate::monitor::MonitorCore::read_faults(&mut self.core, out).await
    }
}
