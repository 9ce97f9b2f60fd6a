//! The [`MonitorCore`] implementation behind [`CellMonitor`](crate::CellMonitor).

use super::*;

/// Converts a checked VC burst (`W` raw bytes per input, the LO byte at offset `LO`) into the
/// real cells' readings; a code of 0 is the reset value, [`Reading::NotConverted`].
#[inline(always)]
fn fill_cells<const W: usize, const LO: usize>(
    raw: &[u8],
    inputs: u16,
    cal: AdcCalibration,
    out: &mut [Reading<MicroVolts>],
) {
    let mut slots = out.iter_mut();
    let mut used = inputs;
    for chunk in raw.chunks_exact(W) {
        let take = used & 1 != 0;
        used >>= 1;
        if !take {
            continue;
        }
        let (Some(o), Some(&hi), Some(&lo)) = (slots.next(), chunk.first(), chunk.get(LO)) else {
            break;
        };
        let c = u16::from_be_bytes([hi, lo]) & 0x3FFF;
        *o = if c == 0 {
            Reading::NotConverted
        } else {
            Reading::Valid(cal.cell(c))
        };
    }
}

fn fail_all<T>(out: &mut [Reading<T>], f: DeviceFault) -> ChainReport {
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
        usize::from(self.map.cells())
    }

    fn temperatures_per_device(&self) -> usize {
        usize::from(V::TS_INPUTS)
    }

    async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
        // SHIP→NORMAL is a TS1 boot pulse (board hardware). Here: load the calibration once,
        // then make sure the configuration survived the last NORMAL-mode entry.
        self.cal().await?;
        self.ensure_configured().await.map(|_| ())
    }

    async fn start_cell_conversion(
        &mut self,
        _mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        Ok(CELL_WAIT)
    }

    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != usize::from(self.map.cells()) {
            return Err(Error::InvalidArgument("out.len() must equal cell_count()"));
        }
        let cal = match self.cal().await {
            Ok(c) => c,
            Err(Error::Integrity(f)) => return Ok(fail_all(out, f)),
            Err(e) => return Err(e),
        };
        // One burst of every VC register, checked in place and converted straight from the
        // wire bytes (data byte k at k × stride).
        let n = frame::raw_read_len(self.crc, 2 * usize::from(V::INPUTS));
        let mut raw = [0u8; MAX_RAW_READ];
        match self.read_raw(reg::VC1_HI, &mut raw, n).await {
            Ok(()) => {}
            Err(Error::Integrity(f)) => return Ok(fail_all(out, f)),
            Err(e) => return Err(e),
        }
        let raw = raw.get(..n).unwrap_or(&[]);
        let inputs = self.map.inputs();
        if self.crc {
            // d_hi, crc, d_lo, crc per input.
            fill_cells::<4, 2>(raw, inputs, cal, out);
        } else {
            fill_cells::<2, 1>(raw, inputs, cal, out);
        }
        Ok(ChainReport::OK)
    }

    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != usize::from(self.map.cells()) {
            return Err(Error::InvalidArgument("out.len() must equal cell_count()"));
        }
        let wait = self.start_cell_conversion(mode).await?;
        self.io.delay_us(wait.as_micros()).await;
        self.read_cell_voltages(out).await
    }

    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != usize::from(V::TS_INPUTS) {
            return Err(Error::InvalidArgument(
                "out.len() must equal temperatures_per_device()",
            ));
        }
        self.io.delay_us(TEMPERATURE_WAIT.0).await;
        let mut codes = [0u16; 3];
        match self.read_ts_codes(&mut codes).await {
            Ok(()) => {}
            Err(Error::Integrity(f)) => return Ok(fail_all(out, f)),
            Err(e) => return Err(e),
        }
        for (o, &c) in out.iter_mut().zip(codes.iter()) {
            *o = self.convert_temp(c);
        }
        Ok(ChainReport::OK)
    }

    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let slot = match out {
            [s] => s,
            _ => return Err(Error::InvalidArgument("out.len() must be 1")),
        };
        self.io.delay_us(CELL_WAIT.0).await;
        let cal = match self.cal().await {
            Ok(c) => c,
            Err(Error::Integrity(f)) => return Ok(fail_all(core::slice::from_mut(slot), f)),
            Err(e) => return Err(e),
        };
        match self.read_u16(reg::BAT_HI).await {
            Ok(0) => {
                *slot = Reading::NotConverted;
                Ok(ChainReport::OK)
            }
            Ok(code) => {
                *slot = Reading::Valid(cal.pack(code, self.map.cells()));
                Ok(ChainReport::OK)
            }
            Err(Error::Integrity(f)) => Ok(fail_all(core::slice::from_mut(slot), f)),
            Err(e) => Err(e),
        }
    }

    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        match self.cc {
            CcMode::Continuous => Ok(Some(self.next_current_sample().await?)),
            CcMode::OneShot => Ok(Some(self.measure_current_once().await?)),
        }
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
        let st = match self.read_status().await {
            Ok(s) => s,
            Err(Error::Integrity(f)) => return Ok(fail_all(core::slice::from_mut(slot), f)),
            Err(e) => return Err(e),
        };
        let mut faults = Faults {
            internal: st.contains(SysStat::DEVICE_XREADY),
            overcurrent: st.contains(SysStat::OCD),
            short_circuit: st.contains(SysStat::SCD),
            raw: u32::from(st.bits()),
            ..Faults::default()
        };
        let ov = st.contains(SysStat::OV);
        let uv = st.contains(SysStat::UV);
        if ov || uv {
            // SYS_STAT flags the pack, not the cell: name the cells beyond the achieved
            // thresholds, else every cell.
            let cells = usize::from(self.map.cells());
            let all = (1u32 << cells) - 1;
            let mut v = [Reading::NotConverted; 15];
            let vs = v.get_mut(..cells).unwrap_or(&mut []);
            let ok = match self.read_cell_voltages(vs).await {
                Ok(r) => r.is_ok(),
                Err(Error::Integrity(_)) => false,
                Err(e) => return Err(e),
            };
            let achieved = self.achieved;
            let pick = |over: bool| -> u32 {
                let th = achieved.map(|a| if over { a.overvoltage } else { a.undervoltage });
                let mut m = 0u32;
                if let (Some(th), true) = (th, ok) {
                    for (k, r) in vs.iter().enumerate() {
                        if let Reading::Valid(x) = r {
                            if (over && *x >= th) || (!over && *x <= th) {
                                m |= 1 << k;
                            }
                        }
                    }
                }
                if m == 0 { all } else { m }
            };
            if ov {
                faults.overvoltage = pick(true);
            }
            if uv {
                faults.undervoltage = pick(false);
            }
        }
        *slot = Reading::Valid(faults);
        Ok(ChainReport::OK)
    }
}
