//! The [`CellMonitor`](crate::CellMonitor) implementation.

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> MonitorCore for Core<V, N, IO> {
    type BusError = IO::Error;

    fn device_count(&self) -> usize {
        self.n()
    }

    fn cells_per_device(&self) -> usize {
        V::CELLS
    }

    fn temperatures_per_device(&self) -> usize {
        1
    }

    async fn wake(&mut self) -> Result<(), E<IO>> {
        Core::wake(self).await
    }

    async fn start_cell_conversion(&mut self, mode: ConversionMode) -> Result<Microseconds, E<IO>> {
        self.wake_idle().await?;
        self.start_cells(mode).await
    }

    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        check_cells_len::<V, IO::Error>(out.len(), self.n())?;
        self.wake_idle().await?;
        let source = self.source;
        self.read_cells(source, out).await
    }

    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        check_cells_len::<V, IO::Error>(out.len(), self.n())?;
        self.wake_idle().await?;
        let hint = self.start_cells(mode).await?;
        self.settle(hint).await?;
        let source = self.source;
        self.read_cells(source, out).await
    }

    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, E<IO>> {
        if out.len() != self.n() {
            return Err(Error::InvalidArgument(
                "temperature output length must be device_count()",
            ));
        }
        self.wake_idle().await?;
        let hint = self
            .start_aux(Adax {
                channel: AuxChannel::Itmp,
                open_wire: None,
            })
            .await?;
        self.settle(hint).await?;
        self.read_word(&cmd::RDSTATA, 1, STALE_ITMP, convert::itmp, out)
            .await
    }

    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        if out.len() != self.n() {
            return Err(Error::InvalidArgument(
                "stack output length must be device_count()",
            ));
        }
        self.wake_idle().await?;
        let hint = self
            .start_aux(Adax {
                channel: AuxChannel::Vpv,
                open_wire: None,
            })
            .await?;
        self.settle(hint).await?;
        self.read_word(&cmd::RDAUXD, 2, STALE_VPV, convert::vpv, out)
            .await
    }

    async fn read_current(&mut self) -> Result<Option<MicroAmps>, E<IO>> {
        Ok(None)
    }

    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), E<IO>> {
        if masks.len() != self.n() {
            return Err(Error::InvalidArgument(
                "balancing masks length must be device_count()",
            ));
        }
        let mut cfg = self.cfgb;
        for (c, m) in cfg.iter_mut().zip(masks.iter()) {
            check_dcc::<V>(*m)?;
            c.dcc = *m as u16;
        }
        self.wake_idle().await?;
        self.write_cfgb(&cfg).await
    }

    async fn read_faults(&mut self, out: &mut [Reading<Faults>]) -> Result<ChainReport, E<IO>> {
        if out.len() != self.n() {
            return Err(Error::InvalidArgument(
                "fault output length must be device_count()",
            ));
        }
        self.wake_idle().await?;
        self.read_faults_now(out).await
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    /// The conversion start of [`MonitorCore::start_cell_conversion`], without the wake.
    async fn start_cells(&mut self, mode: ConversionMode) -> Result<Microseconds, E<IO>> {
        match mode {
            ConversionMode::Fast => {
                self.source = CellSource::C;
                self.start_cell_adc(Adcv::SINGLE).await
            }
            ConversionMode::Normal => {
                self.source = CellSource::C;
                self.start_cell_adc(Adcv {
                    redundant: true,
                    ..Adcv::SINGLE
                })
                .await
            }
            ConversionMode::Filtered => {
                self.source = CellSource::Filtered;
                // A device whose filtered results are stale may have missed the continuous
                // start: start again so its counter can confirm a conversion.
                if self.continuous && self.stale.iter().all(|&s| s & STALE_C == 0) {
                    // Already converting: fresh filtered data every 1 ms.
                    return Ok(Microseconds(timing::with_margin(timing::T_CADC_US)));
                }
                self.start_cell_adc(Adcv {
                    continuous: true,
                    reset_filter: true,
                    ..Adcv::SINGLE
                })
                .await?;
                Ok(Microseconds(timing::with_margin(timing::T_SADC_US)))
            }
        }
    }

    async fn read_faults_now(&mut self, out: &mut [Reading<Faults>]) -> Result<ChainReport, E<IO>> {
        let mark = self.taint_mark();
        let mut c = [Reading::NotConverted; N];
        let mut d = [Reading::NotConverted; N];
        let mut report = self.read_status_c(&mut c).await?;
        report.merge(self.read_status_d(&mut d).await?);
        for ((o, c), d) in out.iter_mut().zip(c.iter()).zip(d.iter()) {
            *o = match (c, d) {
                (Reading::Valid(c), Reading::Valid(d)) => Reading::Valid(Faults {
                    overvoltage: u32::from(d.overvoltage),
                    undervoltage: u32::from(d.undervoltage),
                    thermal_shutdown: c.thermal_shutdown(),
                    internal: c.internal(),
                    raw: u32::from(c.cs_fault)
                        | u32::from(c.supply_flags) << 16
                        | u32::from(c.system_flags) << 24,
                    ..Faults::default()
                }),
                (Reading::Failed(f), _) | (_, Reading::Failed(f)) => Reading::Failed(*f),
                _ => Reading::NotConverted,
            };
        }
        let tainted = self.tainted(mark);
        taint(&tainted, out.chunks_mut(1), 1, &mut report);
        Ok(report)
    }
}

impl_cell_monitor!(spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core);

pub(super) fn check_cells_len<V: Variant, B>(len: usize, devices: usize) -> Result<(), Error<B>> {
    if len != devices * V::CELLS {
        return Err(Error::InvalidArgument(
            "cell output length must be devices × cells per device",
        ));
    }
    Ok(())
}
