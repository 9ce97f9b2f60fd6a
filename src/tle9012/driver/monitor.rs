//! [`CellMonitor`](crate::CellMonitor) / [`AsyncCellMonitor`](crate::AsyncCellMonitor) for the
//! TLE9012 chain.

use super::{Core, Tle9012};
use crate::error::Error;
use crate::io::SerialIo;
use crate::monitor::{
    ChainReport, ConversionMode, Faults, MonitorCore, Reading, impl_cell_monitor,
};
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

impl_cell_monitor!(serial impl[const N: usize] Tle9012<N> => core);
