//! The [`CellMonitor`](crate::CellMonitor) implementation and its optional GPIO thermistors.

use super::*;

/// Optional GPIO thermistors: which GPIOs carry a sensor and how to turn the GPIO voltage
/// (with the second reference, which usually biases the divider) into a temperature. With
/// them, [`CellMonitor::measure_temperatures`](crate::CellMonitor::measure_temperatures)
/// reports per device the die temperature first, then one value per selected GPIO in
/// ascending GPIO order.
///
/// ```
/// use bms_afe::ltc681x::Thermistors;
/// use bms_afe::units::{MicroVolts, MilliCelsius};
/// // A (made-up) linear sensor: 25 °C at half the reference, -10 mV/K.
/// fn linear(v: MicroVolts, vref: MicroVolts) -> MilliCelsius {
///     MilliCelsius(25_000 - (v.0 - vref.0 / 2) / 10)
/// }
/// let t = Thermistors { gpios: 0b11, convert: linear };
/// assert_eq!((t.convert)(MicroVolts(1_500_000), MicroVolts(3_000_000)), MilliCelsius(25_000));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Thermistors {
    /// Bit `k` = GPIO `k + 1` carries a thermistor.
    pub gpios: u16,
    /// GPIO voltage and second-reference voltage to temperature.
    pub convert: fn(MicroVolts, MicroVolts) -> MilliCelsius,
}

impl<V: Variant, const N: usize, IO> Ltc681x<V, N, IO> {
    /// Adds GPIO thermistors to [`CellMonitor::measure_temperatures`](crate::CellMonitor)
    /// (`None` = die temperature only). Rejects an empty set or GPIOs the part lacks.
    pub fn set_thermistors(&mut self, t: Option<Thermistors>) -> Result<(), ConfigError> {
        if let Some(t) = t {
            if t.gpios == 0 || u32::from(t.gpios) >> V::GPIOS != 0 {
                return Err(ConfigError::OutOfRange {
                    field: "thermistor GPIO mask",
                    value: i64::from(t.gpios),
                    min: 1,
                    max: (1i64 << V::GPIOS) - 1,
                });
            }
        }
        self.core.thermistors = t;
        Ok(())
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> MonitorCore for Core<V, N, IO> {
    type BusError = IO::Error;

    fn device_count(&self) -> usize {
        self.n()
    }
    fn cells_per_device(&self) -> usize {
        V::CELLS
    }
    fn temperatures_per_device(&self) -> usize {
        1 + self
            .thermistors
            .map_or(0, |t| t.gpios.count_ones() as usize)
    }
    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        // A sleeping core has lost CFGRA (thresholds, GPIO, REFON) and, without DTEN, its
        // discharge switches (LTC6812-DS: the watchdog resets the configuration): wake the
        // chain and restore the configuration this driver holds, so generic code that calls
        // `wake` gets a chain in the state it configured.
        Core::wake(self).await?;
        self.write_config().await
    }
    async fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.wake_idle().await?;
        // Clear first: if the start were lost on the bus, the read shows NotConverted
        // instead of the previous (stale, PEC-valid) voltages.
        self.clear_cells().await?;
        self.start_cells(mode_of(mode), false, CellSelect::ALL)
            .await
    }
    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n() * V::CELLS)?;
        self.wake_idle().await?;
        self.read_cells(out).await
    }
    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n() * V::CELLS)?;
        self.wake_idle().await?;
        self.clear_cells().await?;
        let t = self
            .start_cells(mode_of(mode), false, CellSelect::ALL)
            .await?;
        self.settle(t).await?;
        self.read_cells(out).await
    }
    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let per = MonitorCore::temperatures_per_device(self);
        check_len(out.len(), self.n() * per)?;
        self.wake_idle().await?;
        let t = self
            .start_status(AdcMode::Normal, StatusSelect::Itmp)
            .await?;
        self.settle(t).await?;
        let n = self.n();
        let mut tmp = [Reading::NotConverted; N];
        let tmp = tmp.get_mut(..n).unwrap_or(&mut []);
        let mut r = self
            .read_mapped(&command::RDSTATA, tmp, |d, dev| {
                convert::die_temperature::<V>(convert::word(d, 1), dev)
            })
            .await?;
        for (o, t) in out.iter_mut().step_by(per).zip(tmp.iter().copied()) {
            *o = noted(flatten(t), &mut r);
        }
        let Some(th) = self.thermistors else {
            return Ok(r);
        };
        let t = self.start_gpio(AdcMode::Normal, GpioSelect::ALL).await?;
        self.settle(t).await?;
        let mut aux = [[Reading::NotConverted; 10]; N];
        r.merge(self.read_aux_strided(aux.as_flattened_mut(), 10).await?);
        for (dev_out, a) in out.chunks_exact_mut(per).zip(&aux) {
            let vref = a.get(5).copied().unwrap_or(Reading::NotConverted);
            let gpios = (1..=V::GPIOS).filter(|g| th.gpios >> (g - 1) & 1 != 0);
            for (o, g) in dev_out.iter_mut().skip(1).zip(gpios) {
                let v = aux_slot::<V>(g)
                    .and_then(|i| a.get(i).copied())
                    .unwrap_or(Reading::NotConverted);
                *o = match (v, vref) {
                    (Reading::Valid(v), Reading::Valid(vr)) => Reading::Valid((th.convert)(v, vr)),
                    (Reading::Failed(f), _) | (_, Reading::Failed(f)) => Reading::Failed(f),
                    _ => Reading::NotConverted,
                };
            }
        }
        Ok(r)
    }
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        self.wake_idle().await?;
        let t = self.start_status(AdcMode::Normal, StatusSelect::Sc).await?;
        self.settle(t).await?;
        let n = self.n();
        let mut tmp = [Reading::NotConverted; N];
        let tmp = tmp.get_mut(..n).unwrap_or(&mut []);
        let mut r = self
            .read_mapped(&command::RDSTATA, tmp, |d, dev| {
                convert::sum_of_cells::<V>(convert::word(d, 0), dev)
            })
            .await?;
        for (o, t) in out.iter_mut().zip(tmp.iter().copied()) {
            *o = noted(flatten(t), &mut r);
        }
        Ok(r)
    }
    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        Ok(None)
    }
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        check_len(masks.len(), self.n())?;
        let limit = 1u32 << V::CELLS;
        for &m in masks {
            if m >= limit {
                return Err(Error::Config(ConfigError::NoSuchCell {
                    cell: (32 - m.leading_zeros()) as u16,
                    available: V::CELLS as u16,
                }));
            }
        }
        for (c, &m) in self.cfg.iter_mut().zip(masks) {
            c.dcc = m;
        }
        self.wake_idle().await?;
        self.write_config().await
    }
    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        self.wake_idle().await?;
        // MUXFAIL reads 1 after power-up and CLRSTAT until DIAGN runs (LTC6812-DS "MUX
        // Decoder Check"): a flag nobody tested says nothing. Run the test here, so that
        // `internal` is the verdict of a MUX decoder check made by this call — a healthy
        // chain reads healthy, a failing decoder is reported. A conversion still running
        // (e.g. after `start_cell_conversion`) is waited for first (bounded PLADC poll), so
        // DIAGN does not disturb it.
        self.poll_adc().await?;
        self.send(&command::DIAGN).await?;
        self.settle(Microseconds(command::T_DIAGN_US)).await?;
        let n = self.n();
        let mut st = [Reading::NotConverted; N];
        let st = st.get_mut(..n).unwrap_or(&mut []);
        let r = self.read_status(st).await?;
        for ((o, s), c) in out.iter_mut().zip(st.iter().copied()).zip(&self.cfg) {
            // VOV = 0 (the reset value, never configured) puts the OV threshold at 0 V: the
            // chip flags every cell, which says nothing about the cells. Such flags are not
            // reported as over-voltage; raw bit 2 says the comparison is off.
            let ov_off = c.vov == 0;
            *o = s.map(|s| Faults {
                overvoltage: if ov_off { 0 } else { s.b.overvoltage },
                undervoltage: s.b.undervoltage,
                thermal_shutdown: s.b.thermal_shutdown,
                internal: s.b.mux_fail,
                raw: u32::from(ov_off) << 2
                    | u32::from(s.b.mux_fail) << 1
                    | u32::from(s.b.thermal_shutdown),
                ..Faults::default()
            });
        }
        Ok(r)
    }
}

const fn mode_of(m: ConversionMode) -> AdcMode {
    match m {
        ConversionMode::Fast => AdcMode::Fast,
        ConversionMode::Normal => AdcMode::Normal,
        ConversionMode::Filtered => AdcMode::Filtered,
    }
}

/// Register-order index of GPIO `g` (1-based) among the auxiliary words (see `read_aux`).
pub(super) fn aux_slot<V: Variant>(g: usize) -> Option<usize> {
    match V::LAYOUT {
        crate::ltc681x::ConfigLayout::Ltc6810 if (1..=4).contains(&g) => Some(g),
        crate::ltc681x::ConfigLayout::Ltc6811 if (1..=5).contains(&g) => Some(g - 1),
        crate::ltc681x::ConfigLayout::Ltc6812 | crate::ltc681x::ConfigLayout::Ltc6813
            if (1..=5).contains(&g) =>
        {
            Some(g - 1)
        }
        crate::ltc681x::ConfigLayout::Ltc6812 | crate::ltc681x::ConfigLayout::Ltc6813
            if (6..=9).contains(&g) =>
        {
            Some(g)
        }
        _ => None,
    }
}

impl_cell_monitor!(spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core);
