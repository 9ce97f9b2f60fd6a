//! Diagnostics: alerts (STATUS1, FMEA1/2, cell OV/UV), clearing them, the
//! redundant-comparator cross-check.

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn read_alerts(
        &mut self,
        out: &mut [Reading<Alerts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        let regs = [
            Register::Status1,
            Register::Fmea1,
            Register::Fmea2,
            Register::AlrtOvCell,
            Register::AlrtUvCell,
        ];
        let mut vals: [Slots<N>; 5] = [[Ok(0); N]; 5];
        for (r, v) in regs.iter().zip(vals.iter_mut()) {
            self.read_reg(r.address(), v).await?;
        }
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let get = |i: usize| {
                vals.get(i)
                    .and_then(|s| s.get(d))
                    .copied()
                    .unwrap_or(Err(FaultReason::Framing))
            };
            *o = match (get(0), get(1), get(2), get(3), get(4)) {
                (Ok(status1), Ok(fmea1), Ok(fmea2), Ok(ov_cells), Ok(uv_cells)) => {
                    Reading::Valid(Alerts {
                        status1,
                        fmea1,
                        fmea2,
                        ov_cells,
                        uv_cells,
                    })
                }
                (Err(r), ..)
                | (_, Err(r), ..)
                | (_, _, Err(r), ..)
                | (.., Err(r), _)
                | (.., Err(r)) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason: r,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(super) async fn comparator_cross_check(
        &mut self,
        out: &mut [Reading<ComparatorCheck>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        let regs = [
            Register::AlrtOvCell,
            Register::AlrtUvCell,
            Register::AlrtCompOv,
            Register::AlrtCompUv,
        ];
        let mut vals: [Slots<N>; 4] = [[Ok(0); N]; 4];
        for (r, v) in regs.iter().zip(vals.iter_mut()) {
            self.read_reg(r.address(), v).await?;
        }
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let get = |i: usize| {
                vals.get(i)
                    .and_then(|s| s.get(d))
                    .copied()
                    .unwrap_or(Err(FaultReason::Framing))
            };
            *o = match (get(0), get(1), get(2), get(3)) {
                (Ok(adc_ov), Ok(adc_uv), Ok(comp_ov), Ok(comp_uv)) => {
                    Reading::Valid(ComparatorCheck {
                        adc_ov,
                        adc_uv,
                        comp_ov,
                        comp_uv,
                    })
                }
                (Err(r), ..) | (_, Err(r), ..) | (.., Err(r), _) | (.., Err(r)) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason: r,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(super) async fn clear_alerts(&mut self) -> Result<(), Error<IO::Error>> {
        for r in [Register::Status1, Register::Fmea1, Register::Fmea2] {
            self.write_all(r, 0x0000).await?;
        }
        Ok(())
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Max1785x<V, N> => core {
        /// Reads STATUS1, FMEA1, FMEA2, ALRTOVCELL and ALRTUVCELL of every device
        /// (`out.len() == N`).
        pub fn read_alerts(&mut self, out: &mut [Reading<Alerts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// The redundant-comparator cross-check of every device (`out.len() == N`): the ADC
        /// alerts (ALRTOVCELL/ALRTUVCELL) against the comparator's (ALRTCOMPOV/ALRTCOMPUV)
        /// after a scan; see [`ComparatorCheck`].
        pub fn comparator_cross_check(&mut self, out: &mut [Reading<ComparatorCheck>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// WRITEALL 0 to STATUS1, FMEA1 and FMEA2.
        pub fn clear_alerts(&mut self) -> Result<(), Error<SpiError<B>>>;
    }
}
