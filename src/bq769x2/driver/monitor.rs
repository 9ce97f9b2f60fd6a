//! The [`CellMonitor`](crate::CellMonitor) implementation.

use super::*;

pub(super) fn fail_all<T>(out: &mut [Reading<T>], f: DeviceFault) -> ChainReport {
    for o in out.iter_mut() {
        *o = Reading::Failed(f);
    }
    let mut r = ChainReport::OK;
    r.record(f);
    r
}

impl<V: Variant, IO: I2cIo> MonitorCore for Core<V, IO> {
    type BusError = IO::Error;

    fn device_count(&self) -> usize {
        1
    }

    fn cells_per_device(&self) -> usize {
        usize::from(self.cells())
    }

    fn temperatures_per_device(&self) -> usize {
        1 + self.temps.bits().count_ones() as usize
    }

    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        let cs = self.read_control_status().await?;
        if cs.contains(ControlStatus::DEEPSLEEP) {
            self.exit_deep_sleep().await?;
        }
        Ok(())
    }

    async fn start_cell_conversion(
        &mut self,
        _mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        // The bq769x2 converts on its own in a continuous measurement loop; there is nothing
        // to start. The hint is the time until a full fresh scan.
        Ok(SCAN_TIME)
    }

    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != usize::from(self.cells()) {
            return Err(Error::InvalidArgument("out.len() must equal cell_count()"));
        }
        let mut all = [MicroVolts::ZERO; 16];
        match self.read_all_inputs(&mut all).await {
            Ok(()) => {}
            Err(Error::Integrity(f)) => return Ok(fail_all(out, f)),
            Err(e) => return Err(e),
        }
        let connected = self.connected();
        let mut slots = out.iter_mut();
        for (i, v) in all.iter().enumerate() {
            if connected & (1 << i) != 0 {
                if let Some(o) = slots.next() {
                    *o = Reading::Valid(*v);
                }
            }
        }
        Ok(ChainReport::OK)
    }

    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let wait = self.start_cell_conversion(mode).await?;
        self.io.delay_us(wait.as_micros()).await;
        self.read_cell_voltages(out).await
    }

    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != self.temperatures_per_device() {
            return Err(Error::InvalidArgument(
                "out.len() must equal temperatures_per_device()",
            ));
        }
        let mut report = ChainReport::OK;
        let temps = self.temps;
        let mut slots = out.iter_mut();
        let first = self.read_internal_temperature().await;
        let put = |slot: Option<&mut Reading<MilliCelsius>>,
                   r: Result<MilliCelsius, Error<IO::Error>>,
                   report: &mut ChainReport|
         -> Result<(), Error<IO::Error>> {
            let v = match r {
                Ok(t) => Reading::Valid(t),
                Err(Error::Integrity(f)) => {
                    report.record(f);
                    Reading::Failed(f)
                }
                Err(e) => return Err(e),
            };
            if let Some(s) = slot {
                *s = v;
            }
            Ok(())
        };
        put(slots.next(), first, &mut report)?;
        for pin in TempPin::ALL {
            if temps.contains(pin.input()) {
                let r = self.read_pin_temperature(pin).await;
                put(slots.next(), r, &mut report)?;
            }
        }
        Ok(report)
    }

    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let slot = match out {
            [s] => s,
            _ => return Err(Error::InvalidArgument("out.len() must be 1")),
        };
        match self.read_stack_voltage().await {
            Ok(v) => {
                *slot = Reading::Valid(v);
                Ok(ChainReport::OK)
            }
            Err(Error::Integrity(f)) => Ok(fail_all(core::slice::from_mut(slot), f)),
            Err(e) => Err(e),
        }
    }

    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        Ok(Some(self.read_cc2_current().await?))
    }

    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        let mask = match masks {
            [m] => *m,
            _ => return Err(Error::InvalidArgument("masks.len() must be 1")),
        };
        self.set_balancing_cells(mask).await.map(|_| ())
    }

    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let slot = match out {
            [s] => s,
            _ => return Err(Error::InvalidArgument("out.len() must be 1")),
        };
        let st = match self.read_safety_status().await {
            Ok(s) => s,
            Err(Error::Integrity(f)) => return Ok(fail_all(core::slice::from_mut(slot), f)),
            Err(e) => return Err(e),
        };
        let mut faults = Faults {
            over_temperature: st
                .b
                .intersects(SafetyB::OTC | SafetyB::OTD | SafetyB::OTF | SafetyB::OTINT),
            under_temperature: st
                .b
                .intersects(SafetyB::UTC | SafetyB::UTD | SafetyB::UTINT),
            thermal_shutdown: false,
            internal: st.c.contains(SafetyC::HWDF),
            overcurrent: st
                .a
                .intersects(SafetyA::OCC | SafetyA::OCD1 | SafetyA::OCD2)
                || st.c.intersects(SafetyC::OCD3 | SafetyC::OCDL),
            short_circuit: st.a.contains(SafetyA::SCD) || st.c.contains(SafetyC::SCDL),
            raw: st.raw(),
            ..Faults::default()
        };
        let cov = st.a.contains(SafetyA::COV) || st.c.contains(SafetyC::COVL);
        let cuv = st.a.contains(SafetyA::CUV);
        if cov || cuv {
            let cells = usize::from(self.cells());
            let all_cells = if cells >= 32 {
                u32::MAX
            } else {
                (1u32 << cells) - 1
            };
            // The chip flags the pack, not the cell: name the cells past the known threshold,
            // else every cell.
            let mut v = [Reading::NotConverted; 16];
            let vs = v.get_mut(..cells).unwrap_or(&mut []);
            let read_ok = match self.read_cell_voltages(vs).await {
                Ok(r) => r.is_ok(),
                Err(Error::Integrity(_)) => false,
                Err(e) => return Err(e),
            };
            let pick = |th: Option<MicroVolts>, over: bool| -> u32 {
                let mut m = 0u32;
                if let (Some(th), true) = (th, read_ok) {
                    for (k, r) in vs.iter().enumerate() {
                        if let Reading::Valid(x) = r {
                            if (over && *x >= th) || (!over && *x <= th) {
                                m |= 1 << k;
                            }
                        }
                    }
                }
                if m == 0 { all_cells } else { m }
            };
            if cov {
                faults.overvoltage = pick(self.cov, true);
            }
            if cuv {
                faults.undervoltage = pick(self.cuv, false);
            }
        }
        *slot = Reading::Valid(faults);
        Ok(ChainReport::OK)
    }
}

impl_cell_monitor!(i2c impl[V: Variant] Bq769x2<V> => core);
