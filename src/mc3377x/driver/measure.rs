//! Measurements: conversion start and wait, cell, stack, temperature, AN, current and
//! coulomb-counter reads.

use super::*;

/// Conversion time, typical and timeout, each × 2^AVG (`BCC_T_EOC_TYP_US`,
/// `BCC_T_EOC_TIMEOUT_US`).
pub const T_EOC_TYP_US: u32 = 520;
/// See [`T_EOC_TYP_US`].
pub const T_EOC_TIMEOUT_US: u32 = 650;

/// Raw and converted results of one device's measurement block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CoulombCounter {
    /// Sum of ISENSE samples in V2RES units (0.6 µV).
    pub count: i32,
    /// Samples summed (CC_NB_SAMPLES).
    pub samples: u16,
    /// The average current over the window, if a shunt is configured.
    pub average: Option<MicroAmps>,
}

/// `CellMonitor` conversion modes to ADC_CFG AVG.
pub const fn averaging_for(mode: ConversionMode) -> Averaging {
    match mode {
        ConversionMode::Fast => Averaging::NONE,
        ConversionMode::Normal => match Averaging::new(2) {
            Ok(a) => a,
            Err(_) => Averaging::NONE,
        },
        ConversionMode::Filtered => match Averaging::new(5) {
            Ok(a) => a,
            Err(_) => Averaging::NONE,
        },
    }
}

/// The wait after a start with averaging `avg`: the timeout bound 650 µs × 2^AVG.
pub const fn conversion_time(avg: Averaging) -> Microseconds {
    Microseconds(T_EOC_TIMEOUT_US << avg.exp())
}

impl<V: Variant, T: Link<IO>, const N: usize, IO> Core<V, T, N, IO> {
    pub(super) async fn start_conversion(
        &mut self,
        avg: Averaging,
    ) -> Result<ChainReport, Error<T::Error>> {
        self.suspect = [None; N];
        let mut report = ChainReport::OK;
        if let Err(r) = self.write_global(reg::ADC_CFG, avg.start_value()).await? {
            // TPL: the echo did not come back, nobody can be trusted to have started. SPI: the
            // one device. Their results stay failed until the next start.
            let devices = if T::TPL { N } else { 1 };
            for d in 0..devices {
                report.record(fault(d, r));
                if let Some(s) = self.suspect.get_mut(d) {
                    *s = Some(r);
                }
            }
        }
        Ok(report)
    }

    /// Waits the typical conversion time, then polls ADC_CFG EOC_N of every device (every
    /// 50 µs) until all have finished or the 650 µs × 2^AVG bound has passed
    /// (`BCC_Meas_StartAndWait`).
    pub(super) async fn wait_conversion(&mut self, avg: Averaging) -> Result<(), Error<T::Error>> {
        const POLL_US: u32 = 50;
        let typ = T_EOC_TYP_US << avg.exp();
        let bound = T_EOC_TIMEOUT_US << avg.exp();
        T::delay_us(&mut self.io, typ).await;
        let mut waited = typ;
        for d in 0..N {
            loop {
                if !self.is_converting(d).await? {
                    break;
                }
                if waited >= bound {
                    return Err(Error::Timeout("end of conversion (ADC_CFG EOC_N)"));
                }
                T::delay_us(&mut self.io, POLL_US).await;
                waited += POLL_US;
            }
        }
        Ok(())
    }

    pub(super) async fn is_converting(&mut self, device: usize) -> Result<bool, Error<T::Error>> {
        if device >= N {
            return Err(Error::InvalidArgument("device index"));
        }
        Ok(self.read_one(device, reg::ADC_CFG).await? & reg::adc_cfg::SOC != 0)
    }

    /// Reads `count` registers from `first` of every device into `block`, applying `f` per
    /// device; failed devices' slots are `Failed`.
    pub(super) async fn for_each_device<R: Copy>(
        &mut self,
        first: u8,
        count: usize,
        out: &mut [Reading<R>],
        per_device: usize,
        f: impl Fn(&CellMap, &[u16], &mut [Reading<R>]),
    ) -> Result<ChainReport, Error<T::Error>> {
        check_len(out.len(), N * per_device)?;
        let mut report = ChainReport::OK;
        for (d, slots) in out.chunks_mut(per_device.max(1)).enumerate().take(N) {
            let mut block = [0u16; MAX_BLOCK];
            let block = match block.get_mut(..count) {
                Some(b) => b,
                None => return Err(Error::InvalidArgument("register block length")),
            };
            let verdict = if let Some(r) = self.suspect.get(d).copied().flatten() {
                Err(r)
            } else {
                self.read_regs(Some(d), first, block).await?
            };
            match verdict {
                Ok(()) => f(&self.map, block, slots),
                Err(r) => {
                    report.record(fault(d, r));
                    slots.fill(Reading::Failed(fault(d, r)));
                }
            }
        }
        Ok(report)
    }

    pub(super) async fn read_cells(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        let top = V::INPUTS;
        let first = reg::meas_cell(top);
        let count = usize::from(top);
        let cells = usize::from(self.map.cells());
        self.for_each_device(first, count, out, cells, |map, block, slots| {
            // Walk the populated inputs bottom-up: cell i is the i-th set bit of the map.
            let mut slot = slots.iter_mut();
            let mask = map.mask();
            for input in 1..=top {
                if mask & (1 << (input - 1)) == 0 {
                    continue;
                }
                let Some(s) = slot.next() else { break };
                let raw = block
                    .get(usize::from(reg::meas_cell(input) - first))
                    .copied();
                *s = match raw.and_then(convert::measured) {
                    Some(code) => Reading::Valid(convert::cell_voltage(code)),
                    None => Reading::NotConverted,
                };
            }
            // (A map always has exactly `cells` inputs; anything left is not a cell.)
            for s in slot {
                *s = Reading::NotConverted;
            }
        })
        .await
    }

    pub(super) async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        self.read_cells(out).await
    }

    pub(super) async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        check_len(out.len(), N * usize::from(self.map.cells()))?;
        let avg = averaging_for(mode);
        self.start_conversion(avg).await?;
        T::delay_us(&mut self.io, conversion_time(avg).0).await;
        self.read_cells(out).await
    }

    pub(super) async fn read_single<R: Copy>(
        &mut self,
        register: u8,
        out: &mut [Reading<R>],
        conv: impl Fn(u16) -> R,
    ) -> Result<ChainReport, Error<T::Error>> {
        self.for_each_device(register, 1, out, 1, |_, block, slots| {
            for s in slots.iter_mut() {
                *s = match block.first().copied().map(convert::measured) {
                    Some(Some(code)) => Reading::Valid(conv(code)),
                    _ => Reading::NotConverted,
                };
            }
        })
        .await
    }

    pub(super) async fn measure_and_read<R: Copy>(
        &mut self,
        register: u8,
        out: &mut [Reading<R>],
        conv: impl Fn(u16) -> R,
    ) -> Result<ChainReport, Error<T::Error>> {
        check_len(out.len(), N)?;
        self.start_conversion(self.averaging).await?;
        T::delay_us(&mut self.io, conversion_time(self.averaging).0).await;
        self.read_single(register, out, conv).await
    }

    pub(super) async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<T::Error>> {
        self.measure_and_read(reg::MEAS_IC_TEMP, out, convert::ic_temperature)
            .await
    }

    pub(super) async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        self.measure_and_read(reg::MEAS_STACK, out, convert::stack_voltage)
            .await
    }

    pub(super) async fn read_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<T::Error>> {
        self.read_single(reg::MEAS_STACK, out, convert::stack_voltage)
            .await
    }

    pub(super) async fn read_ic_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<T::Error>> {
        self.read_single(reg::MEAS_IC_TEMP, out, convert::ic_temperature)
            .await
    }

    /// AN0..AN6 of every device (absolute: 152.59 µV per LSB; `vcom_mv` = Some for ratiometric).
    pub(super) async fn read_an(
        &mut self,
        out: &mut [Reading<MicroVolts>],
        vcom_mv: Option<u16>,
    ) -> Result<ChainReport, Error<T::Error>> {
        self.for_each_device(reg::MEAS_AN6, 7, out, 7, |_, block, slots| {
            for (k, s) in slots.iter_mut().enumerate() {
                let raw = block.get(usize::from(reg::meas_an(k as u8) - reg::MEAS_AN6));
                *s = match raw.copied().map(convert::measured) {
                    Some(Some(code)) => Reading::Valid(match vcom_mv {
                        Some(v) => convert::an_ratiometric(code, v, V::IS_MC33772),
                        None => convert::cell_voltage(code),
                    }),
                    _ => Reading::NotConverted,
                };
            }
        })
        .await
    }

    pub(super) async fn read_isense(&mut self) -> Result<Reading<i32>, Error<T::Error>> {
        if let Some(r) = self.suspect.first().copied().flatten() {
            return Ok(Reading::Failed(fault(0, r)));
        }
        let mut v = [0u16; 2];
        match self.read_regs(Some(0), reg::MEAS_ISENSE1, &mut v).await? {
            Err(r) => Ok(Reading::Failed(fault(0, r))),
            Ok(()) if v[0] & reg::DATA_RDY == 0 => Ok(Reading::NotConverted),
            Ok(()) => Ok(Reading::Valid(convert::isense_raw(v[0], v[1]))),
        }
    }

    pub(super) async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<T::Error>> {
        let shunt = self.settings.shunt_micro_ohm;
        if shunt == 0 {
            return Ok(None);
        }
        let started = self.start_conversion(self.averaging).await?;
        if let Some(f) = started.first_fault {
            return Err(Error::Integrity(f));
        }
        T::delay_us(&mut self.io, conversion_time(self.averaging).0).await;
        let raw = self.read_isense().await?.into_result(0)?;
        Ok(convert::current(raw, shunt))
    }

    pub(super) async fn read_coulomb_counter(
        &mut self,
        device: usize,
    ) -> Result<CoulombCounter, Error<T::Error>> {
        if device >= N {
            return Err(Error::InvalidArgument("device index"));
        }
        let mut v = [0u16; 3];
        self.read_regs(Some(device), reg::CC_NB_SAMPLES, &mut v)
            .await?
            .map_err(|r| Error::Integrity(fault(device, r)))?;
        let count = convert::coulomb_count(v[1], v[2]);
        let shunt = self.settings.shunt_micro_ohm;
        Ok(CoulombCounter {
            count,
            samples: v[0],
            average: convert::average_current(count, v[0], shunt),
        })
    }

    pub(super) async fn read_raw_measurements(
        &mut self,
        device: usize,
    ) -> Result<[u16; 30], Error<T::Error>> {
        if device >= N {
            return Err(Error::InvalidArgument("device index"));
        }
        let mut v = [0u16; 30];
        let (a, b) = v.split_at_mut(6);
        let verdict = if V::IS_MC33772 {
            // BCC_Meas_GetRawValues on MC33772C: the reserved 0x33..=0x3A are skipped.
            match self.read_regs(Some(device), reg::CC_NB_SAMPLES, a).await? {
                Ok(()) => {
                    let tail = b.get_mut(8..).ok_or(Error::InvalidArgument("block"))?;
                    self.read_regs(Some(device), reg::meas_cell(6), tail)
                        .await?
                }
                e => e,
            }
        } else {
            self.read_regs(Some(device), reg::CC_NB_SAMPLES, &mut v)
                .await?
        };
        verdict.map_err(|r| Error::Integrity(fault(device, r)))?;
        Ok(v)
    }
}

bcc_twins! {
    /// Starts an on-demand conversion on every device (global write of ADC_CFG on TPL) with
    /// averaging `avg`; wait [`conversion_time`] before reading.
    pub fn start_conversion(&mut self, avg: Averaging) -> Result<ChainReport, Error<B::Error>>;
    /// Waits for the end of a conversion started with `avg`: the typical 520 µs × 2^AVG, then
    /// EOC_N polled on every device until the 650 µs × 2^AVG bound ([`Error::Timeout`] after).
    pub fn wait_conversion(&mut self, avg: Averaging) -> Result<(), Error<B::Error>>;
    /// `true` while ADC_CFG EOC_N says device `device` is converting.
    pub fn is_converting(&mut self, device: usize) -> Result<bool, Error<B::Error>>;
    /// Reads the last converted cell voltages (`N × cells` slots, device 0 first).
    pub fn read_cell_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<B::Error>>;
    /// Reads MEAS_STACK of every device (`N` slots).
    pub fn read_stack_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<B::Error>>;
    /// Reads MEAS_IC_TEMP of every device (`N` slots).
    pub fn read_ic_temperatures(&mut self, out: &mut [Reading<MilliCelsius>]) -> Result<ChainReport, Error<B::Error>>;
    /// Reads AN0..AN6 of every device (`7 × N` slots, AN0 first): absolute when `vcom_mv` is
    /// `None`, ratiometric to VCOM (mV) otherwise.
    pub fn read_an(&mut self, out: &mut [Reading<MicroVolts>], vcom_mv: Option<u16>) -> Result<ChainReport, Error<B::Error>>;
    /// Reads the signed 19-bit ISENSE code of device 0 (0.6 µV per LSB).
    pub fn read_isense(&mut self) -> Result<Reading<i32>, Error<B::Error>>;
    /// Reads the coulomb counter of `device`.
    pub fn read_coulomb_counter(&mut self, device: usize) -> Result<CoulombCounter, Error<B::Error>>;
    /// Reads the 30 registers CC_NB_SAMPLES (0x2D) ..= MEAS_VBG_DIAG_ADC1B (0x4A) of `device`
    /// raw, in one TPL read (`BCC_Meas_GetRawValues`; on MC33772C the reserved 0x33..=0x3A
    /// are skipped and read as 0).
    pub fn read_raw_measurements(&mut self, device: usize) -> Result<[u16; 30], Error<B::Error>>;
}
