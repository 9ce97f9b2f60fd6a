//! Diagnostics: status and fault registers, fault clearing, the ADC1-A/B cross-check.

use super::*;

/// ADC1-A / ADC1-B cross-check of one device: both ADCs convert the band gap
/// (MEAS_VBG_DIAG_ADC1A/B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Adc1Check {
    /// ADC1-A's reading.
    pub adc1_a: MicroVolts,
    /// ADC1-B's reading.
    pub adc1_b: MicroVolts,
    /// `|a − b| ≤ tolerance`.
    pub agree: bool,
}

/// Decoded fault and diagnostic registers of one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Status {
    /// CELL_OV_FLT mapped to cells (bit `i` = cell `i + 1`).
    pub cell_ov: u32,
    /// CELL_UV_FLT mapped to cells.
    pub cell_uv: u32,
    /// FAULT1_STATUS.
    pub fault1: Fault1,
    /// FAULT2_STATUS (raw).
    pub fault2: u16,
    /// FAULT3_STATUS (raw).
    pub fault3: u16,
    /// COM_STATUS (raw: communication error counters).
    pub com_status: u16,
    /// CB_OPEN_FLT mapped to cells: balancing switch open load.
    pub cb_open: u32,
    /// CB_SHORT_FLT mapped to cells: balancing switch short.
    pub cb_short: u32,
    /// GPIO_STS (raw).
    pub gpio_sts: u16,
    /// AN_OT_UT_FLT (raw: the AN OT and UT flags).
    pub an_ot_ut: u16,
    /// GPIO_SHORT_ANX_OPEN_STS (raw: GPIO short and AN open-input flags).
    pub gpio_short_an_open: u16,
    /// I_STATUS (raw).
    pub i_status: u16,
}

impl Status {
    /// The common fault view.
    pub fn faults(&self) -> Faults {
        let f = self.fault1;
        Faults {
            overvoltage: self.cell_ov,
            undervoltage: self.cell_uv,
            over_temperature: f.contains(Fault1::AN_OT),
            under_temperature: f.contains(Fault1::AN_UT),
            thermal_shutdown: false,
            internal: f.intersects(
                Fault1::VPWR_LV | Fault1::VPWR_OV | Fault1::COM_ERR_OVR | Fault1::I2C_ERR,
            ),
            overcurrent: f.contains(Fault1::IS_OC),
            short_circuit: false,
            raw: u32::from(f.bits()) | u32::from(self.fault2) << 16,
        }
    }
}

impl<V: Variant, T: Link<IO>, const N: usize, IO> Core<V, T, N, IO> {
    pub(super) async fn read_status(
        &mut self,
        out: &mut [Reading<Status>],
    ) -> Result<ChainReport, Error<T::Error>> {
        check_len(out.len(), N)?;
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            // BCC_Fault_GetStatus: CELL_OV/UV_FLT, then CB_OPEN_FLT ..= FAULT3_STATUS.
            let mut a = [0u16; 2];
            let mut b = [0u16; 13];
            let mut verdict = self.read_regs(Some(d), reg::CELL_OV_FLT, &mut a).await?;
            if verdict.is_ok() {
                verdict = self.read_regs(Some(d), reg::CB_OPEN_FLT, &mut b).await?;
            }
            let at = |r: u8| b[usize::from(r - reg::CB_OPEN_FLT)];
            *o = match verdict {
                Ok(()) => Reading::Valid(Status {
                    cell_ov: self.map.inputs_to_cells(a[0]),
                    cell_uv: self.map.inputs_to_cells(a[1]),
                    cb_open: self.map.inputs_to_cells(at(reg::CB_OPEN_FLT)),
                    cb_short: self.map.inputs_to_cells(at(reg::CB_SHORT_FLT)),
                    gpio_sts: at(reg::GPIO_STS),
                    an_ot_ut: at(reg::AN_OT_UT_FLT),
                    gpio_short_an_open: at(reg::GPIO_SHORT_ANX_OPEN_STS),
                    i_status: at(reg::I_STATUS),
                    com_status: at(reg::COM_STATUS),
                    fault1: Fault1::from_bits_retain(at(reg::FAULT1_STATUS)),
                    fault2: at(reg::FAULT2_STATUS),
                    fault3: at(reg::FAULT3_STATUS),
                }),
                Err(r) => {
                    report.record(fault(d, r));
                    Reading::Failed(fault(d, r))
                }
            };
        }
        Ok(report)
    }

    /// The two band-gap readings of ADC1-A and ADC1-B (MEAS_VBG_DIAG_ADC1A/B) of every
    /// device after the last conversion, and whether they agree within `tolerance`.
    pub(super) async fn adc1_cross_check(
        &mut self,
        out: &mut [Reading<Adc1Check>],
        tolerance: MicroVolts,
    ) -> Result<ChainReport, Error<T::Error>> {
        self.for_each_device(reg::MEAS_VBG_DIAG_ADC1A, 2, out, 1, |_, block, slots| {
            let a = block.first().copied().and_then(convert::measured);
            let b = block.get(1).copied().and_then(convert::measured);
            for s in slots.iter_mut() {
                *s = match (a, b) {
                    (Some(a), Some(b)) => {
                        let (a, b) = (convert::cell_voltage(a), convert::cell_voltage(b));
                        Reading::Valid(Adc1Check {
                            adc1_a: a,
                            adc1_b: b,
                            agree: (a.0 - b.0).abs() <= tolerance.0,
                        })
                    }
                    _ => Reading::NotConverted,
                };
            }
        })
        .await
    }

    pub(super) async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<T::Error>> {
        check_len(out.len(), N)?;
        let mut st = [Reading::NotConverted; N];
        let report = self.read_status(&mut st).await?;
        for (o, s) in out.iter_mut().zip(st) {
            *o = s.map(|s| s.faults());
        }
        Ok(report)
    }

    pub(super) async fn clear_faults(&mut self) -> Result<ChainReport, Error<T::Error>> {
        let mut report = ChainReport::OK;
        for d in 0..N {
            for r in [
                reg::CELL_OV_FLT,
                reg::CELL_UV_FLT,
                reg::FAULT1_STATUS,
                reg::FAULT2_STATUS,
                reg::FAULT3_STATUS,
            ] {
                if let Err(e) = self.write_reg(Some(d), r, 0).await? {
                    report.record(fault(d, e));
                    break;
                }
            }
        }
        Ok(report)
    }
}

bcc_twins! {
    /// Reads CELL_OV/UV_FLT, COM_STATUS and FAULT1..3_STATUS of every device.
    pub fn read_status(&mut self, out: &mut [Reading<Status>]) -> Result<ChainReport, Error<B::Error>>;
    /// ADC1-A/B cross-check: both band-gap readings of every device after the last conversion
    /// (`N` slots) and whether they differ by at most `tolerance` (the data-sheet limit is not
    /// in the public sources: choose it).
    pub fn adc1_cross_check(&mut self, out: &mut [Reading<Adc1Check>], tolerance: MicroVolts) -> Result<ChainReport, Error<B::Error>>;
    /// Clears CELL_OV/UV_FLT and FAULT1..3_STATUS (writes 0) on every device.
    pub fn clear_faults(&mut self) -> Result<ChainReport, Error<B::Error>>;
}
