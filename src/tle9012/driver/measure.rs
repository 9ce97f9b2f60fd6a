//! Measurement, faults, balancing and open-load diagnosis.

use super::{Core, PerDevice, Tle9012};
use crate::error::{ConfigError, DeviceFault, Error};
use crate::io::{SerialError, SerialIo, twins};
use crate::monitor::{ChainReport, Faults, Reading};
use crate::tle9012::convert;
use crate::tle9012::register::{
    Diagnostics, ExtTemp, GenDiag, INPUTS, MeasCtrl, Redundancy, Register,
};
use crate::units::{MicroVolts, Microseconds, MilliCelsius};

/// Wait hint of a 16-bit cell conversion (MaxMax-embedded/TLE9012_Arduino_Lib waits 5 ms after
/// starting PCVM, BVM and SCVM together).
pub const CELL_CONVERSION_US: u32 = 5_000;
/// Wait of a block-voltage conversion (the same 5 ms).
pub const BLOCK_CONVERSION_US: u32 = 5_000;
/// How long PCVM_START is polled beyond the hint, in steps of [`POLL_STEP_US`]
/// (pyTLE9012DQU waits 20 ms in all).
pub const POLL_STEPS: u32 = 15;
/// One poll step.
pub const POLL_STEP_US: u32 = 1_000;

/// Spreads the bits of `cells` (bit i = cell i) onto the populated inputs of `inputs`.
pub(crate) fn cells_to_inputs(inputs: u16, cells: u32) -> u16 {
    let mut out = 0u16;
    let mut i = 0;
    for k in 0..INPUTS {
        if inputs & (1 << k) != 0 {
            if cells & (1 << i) != 0 {
                out |= 1 << k;
            }
            i += 1;
        }
    }
    out
}

/// Gathers the bits of populated inputs (bit k = input k) into cell order.
pub(crate) fn inputs_to_cells(inputs: u16, bits: u16) -> u32 {
    let mut out = 0u32;
    let mut i = 0;
    for k in 0..INPUTS {
        if inputs & (1 << k) != 0 {
            if bits & (1 << k) != 0 {
                out |= 1 << i;
            }
            i += 1;
        }
    }
    out
}

impl<const N: usize, IO: SerialIo> Core<N, IO> {
    pub(crate) async fn start_cells(&mut self) -> Result<Microseconds, Error<IO::Error>> {
        self.start_cells_with(MeasCtrl::START_CELLS).await
    }

    async fn start_cells_with(&mut self, ctrl: u16) -> Result<Microseconds, Error<IO::Error>> {
        let r = self.write_all(Register::MEAS_CTRL, ctrl).await?;
        for (d, s) in r.iter().enumerate() {
            match s {
                Ok(()) => {
                    self.started.insert(d);
                    self.start_fault[d] = None;
                }
                Err(reason) => {
                    // The device may not have started: its registers hold an older
                    // conversion, which is not handed out until a start it confirms.
                    self.started.0 &= !(1 << d);
                    self.converted.0 &= !(1 << d);
                    self.start_fault[d] = Some(*reason);
                }
            }
        }
        Ok(Microseconds(CELL_CONVERSION_US))
    }

    /// Reads MEAS_CTRL and moves devices whose PCVM_START has cleared from `started` to
    /// `converted`.
    async fn conversion_state(&mut self) -> Result<PerDevice<N, bool>, Error<IO::Error>> {
        let ctrl = self.read_all(Register::MEAS_CTRL).await?;
        let mut busy: PerDevice<N, bool> = [Ok(false); N];
        for d in 0..N {
            busy[d] = ctrl[d].map(|v| v & MeasCtrl::PCVM_START != 0);
            if busy[d] == Ok(false) && self.started.contains(d) {
                self.started.0 &= !(1 << d);
                self.converted.insert(d);
            }
        }
        Ok(busy)
    }

    async fn read_cells_with(
        &mut self,
        busy: &PerDevice<N, bool>,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let c = self.cells;
        // Failures per device across every frame of this operation.
        let mut failed: PerDevice<N, ()> = [Ok(()); N];
        for d in 0..N {
            if let Some(e) = self.start_fault[d] {
                failed[d] = Err(e);
            } else if let Err(e) = busy[d] {
                failed[d] = Err(e);
            }
        }
        let mut codes = [[0u16; INPUTS]; N];
        let union = self.inputs.iter().fold(0u16, |a, m| a | m);
        for k in 0..INPUTS as u8 {
            if union & (1 << k) == 0 {
                continue;
            }
            let Some(reg) = Register::pcvm(k) else {
                continue;
            };
            let r = self.read_all_raw(reg).await?;
            for (c, v) in codes.iter_mut().zip(r.values) {
                c[usize::from(k)] = v;
            }
            if r.failed != 0 {
                for (d, f) in failed.iter_mut().enumerate() {
                    if self.inputs[d] & (1 << k) != 0 && f.is_ok() {
                        if let Err(e) = r.get(d) {
                            *f = Err(e);
                        }
                    }
                }
            }
        }
        let mut report = ChainReport::OK;
        for d in 0..N {
            let slots = out.get_mut(d * c..d * c + c).unwrap_or(&mut []);
            if let Err(reason) = failed[d] {
                let f = DeviceFault {
                    device: d as u8,
                    reason,
                };
                report.record(f);
                slots.fill(Reading::Failed(f));
                continue;
            }
            if busy[d] != Ok(false) || !self.converted.contains(d) {
                slots.fill(Reading::NotConverted);
                continue;
            }
            let populated = codes[d]
                .iter()
                .enumerate()
                .filter(|(k, _)| self.inputs[d] & (1 << k) != 0);
            for (s, (_, code)) in slots.iter_mut().zip(populated) {
                *s = Reading::Valid(convert::cell_uv(*code));
            }
        }
        Ok(report)
    }

    pub(crate) async fn read_cells(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N * self.cells {
            return Err(Error::InvalidArgument("cell buffer length != cell_count()"));
        }
        let busy = self.conversion_state().await?;
        self.read_cells_with(&busy, out).await
    }

    pub(crate) async fn measure_cells(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.measure_cells_with(MeasCtrl::START_CELLS, out).await
    }

    async fn measure_cells_with(
        &mut self,
        ctrl: u16,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N * self.cells {
            return Err(Error::InvalidArgument("cell buffer length != cell_count()"));
        }
        let hint = self.start_cells_with(ctrl).await?;
        self.io.delay_us(hint.0).await;
        let mut busy = self.conversion_state().await?;
        let mut steps = 0;
        while steps < POLL_STEPS && busy.contains(&Ok(true)) {
            self.io.delay_us(POLL_STEP_US).await;
            busy = self.conversion_state().await?;
            steps += 1;
        }
        self.read_cells_with(&busy, out).await
    }

    pub(crate) async fn measure_block(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument(
                "stack buffer length != device_count()",
            ));
        }
        let started = self
            .write_all(Register::MEAS_CTRL, MeasCtrl::START_BLOCK)
            .await?;
        self.io.delay_us(BLOCK_CONVERSION_US).await;
        let r = self.read_all(Register::BVM).await?;
        let mut report = ChainReport::OK;
        for d in 0..N {
            out[d] = match started[d].and(r[d]) {
                Ok(v) => Reading::Valid(convert::block_uv(v)),
                Err(reason) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(crate) async fn internal_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument(
                "temperature buffer length != device_count()",
            ));
        }
        let r = self.read_all(Register::INT_TEMP).await?;
        let mut report = ChainReport::OK;
        for d in 0..N {
            out[d] = match r[d] {
                Ok(v) => Reading::Valid(convert::internal_temperature(v)),
                Err(reason) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(crate) async fn read_external_temperatures(
        &mut self,
        sensor: u8,
        out: &mut [Reading<ExtTemp>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("buffer length != device_count()"));
        }
        let Some(reg) = Register::ext_temp(sensor) else {
            return Err(Error::InvalidArgument(
                "external temperature sensor beyond 4",
            ));
        };
        let r = self.read_all(reg).await?;
        let mut report = ChainReport::OK;
        for d in 0..N {
            out[d] = match r[d] {
                Ok(v) => Reading::Valid(ExtTemp::decode(v)),
                Err(reason) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(crate) async fn faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument(
                "fault buffer length != device_count()",
            ));
        }
        let diag = self.read_all(Register::GEN_DIAG).await?;
        let ov = self.read_all(Register::CELL_OV).await?;
        let uv = self.read_all(Register::CELL_UV).await?;
        let mut report = ChainReport::OK;
        for d in 0..N {
            let all = diag[d].and_then(|g| ov[d].and_then(|o| uv[d].map(|u| (g, o, u))));
            out[d] = match all {
                Ok((g, o, u)) => {
                    let flags = GenDiag::from_bits_retain(g);
                    Reading::Valid(Faults {
                        overvoltage: inputs_to_cells(self.inputs[d], o),
                        undervoltage: inputs_to_cells(self.inputs[d], u),
                        over_temperature: flags.intersects(GenDiag::INT_OT | GenDiag::EXT_OT),
                        under_temperature: false,
                        thermal_shutdown: false,
                        internal: flags
                            .intersects(GenDiag::INT_IC | GenDiag::ADC | GenDiag::REG_CRC),
                        overcurrent: false,
                        short_circuit: false,
                        raw: u32::from(g),
                    })
                }
                Err(reason) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(crate) async fn clear_faults(&mut self) -> Result<ChainReport, Error<IO::Error>> {
        let mut report = ChainReport::OK;
        for reg in [Register::CELL_OV, Register::CELL_UV, Register::GEN_DIAG] {
            let r = self.write_all(reg, 0).await?;
            for (d, x) in r.iter().enumerate() {
                if let Err(reason) = x {
                    report.record(DeviceFault {
                        device: d as u8,
                        reason: *reason,
                    });
                }
            }
        }
        Ok(report)
    }

    pub(crate) async fn read_open_load(
        &mut self,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("buffer length != device_count()"));
        }
        let r = self.read_all(Register::DIAG_OL).await?;
        let mut report = ChainReport::OK;
        for d in 0..N {
            out[d] = match r[d] {
                Ok(v) => Reading::Valid(inputs_to_cells(self.inputs[d], v)),
                Err(reason) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(crate) async fn balance(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        if masks.len() != N {
            return Err(Error::InvalidArgument(
                "mask slice length != device_count()",
            ));
        }
        let c = self.cells;
        let all = if c >= 32 { u32::MAX } else { (1u32 << c) - 1 };
        for m in masks {
            if m & !all != 0 {
                let top = 31 - (m & !all).leading_zeros();
                return Err(Error::Config(ConfigError::NoSuchCell {
                    cell: top as u16 + 1,
                    available: c as u16,
                }));
            }
        }
        for (d, m) in masks.iter().enumerate() {
            let bits = cells_to_inputs(self.inputs[d], *m);
            self.write_verified(d, Register::BAL_SETTINGS, bits, 0x0FFF)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn read_diagnostics(
        &mut self,
        out: &mut [Reading<Diagnostics>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("buffer length != device_count()"));
        }
        const REGS: [Register; 8] = [
            Register::GEN_DIAG,
            Register::CELL_OV,
            Register::CELL_UV,
            Register::DIAG_OL,
            Register::BAL_DIAG_OC,
            Register::BAL_DIAG_UC,
            Register::EXT_TEMP_DIAG,
            Register::REG_CRC_ERR,
        ];
        let mut vals = [[0u16; 8]; N];
        let mut failed: PerDevice<N, ()> = [Ok(()); N];
        for (i, reg) in REGS.iter().enumerate() {
            let r = self.read_all(*reg).await?;
            for d in 0..N {
                match r[d] {
                    Ok(v) => vals[d][i] = v,
                    Err(e) => {
                        if failed[d].is_ok() {
                            failed[d] = Err(e);
                        }
                    }
                }
            }
        }
        let mut report = ChainReport::OK;
        for d in 0..N {
            let m = self.inputs[d];
            let v = vals[d];
            out[d] = match failed[d] {
                Ok(()) => Reading::Valid(Diagnostics {
                    general: GenDiag::from_bits_retain(v[0]),
                    overvoltage: inputs_to_cells(m, v[1]),
                    undervoltage: inputs_to_cells(m, v[2]),
                    open_load: inputs_to_cells(m, v[3]),
                    balancing_overcurrent: inputs_to_cells(m, v[4]),
                    balancing_undercurrent: inputs_to_cells(m, v[5]),
                    external_temperature: v[6],
                    register_crc: v[7],
                }),
                Err(reason) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(crate) async fn set_balancing_counters(
        &mut self,
        device: usize,
        counters: &[u8],
    ) -> Result<(), Error<IO::Error>> {
        if device >= N {
            return Err(Error::InvalidArgument("device index beyond the chain"));
        }
        if counters.len() != self.cells {
            return Err(Error::InvalidArgument(
                "counter slice length != cells_per_device()",
            ));
        }
        if let Some(&c) = counters.iter().find(|&&c| c > 0x1F) {
            return Err(Error::Config(ConfigError::OutOfRange {
                field: "balancing counter",
                value: i64::from(c),
                min: 0,
                max: 0x1F,
            }));
        }
        let mut regs = [0u16; 4];
        let mut i = 0;
        for k in 0..INPUTS {
            if self.inputs[device] & (1 << k) != 0 {
                let c = counters.get(i).copied().unwrap_or(0);
                regs[k / 3] |= u16::from(c) << ((k % 3) * 5);
                i += 1;
            }
        }
        let names = [
            Register::BAL_CNT_0,
            Register::BAL_CNT_1,
            Register::BAL_CNT_2,
            Register::BAL_CNT_3,
        ];
        for (reg, v) in names.iter().zip(regs) {
            self.write_verified(device, *reg, v, 0x7FFF).await?;
        }
        Ok(())
    }

    pub(crate) async fn measure_redundant(
        &mut self,
        tolerance: MicroVolts,
        cells: &mut [Reading<MicroVolts>],
        out: &mut [Reading<Redundancy>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("buffer length != device_count()"));
        }
        let mut report = self
            .measure_cells_with(MeasCtrl::START_CELLS_REDUNDANT, cells)
            .await?;
        let high = self.read_all_raw(Register::SCVM_HIGH).await?;
        let low = self.read_all_raw(Register::SCVM_LOW).await?;
        let c = self.cells;
        for (d, o) in out.iter_mut().enumerate() {
            let slots = cells.get(d * c..d * c + c).unwrap_or(&[]);
            if let Some(Reading::Failed(f)) = slots.iter().find(|x| matches!(x, Reading::Failed(_)))
            {
                *o = Reading::Failed(*f);
                continue;
            }
            let both = high.get(d).and_then(|h| low.get(d).map(|l| (h, l)));
            let (h, l) = match both {
                Ok(x) => x,
                Err(reason) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason,
                    };
                    report.record(f);
                    *o = Reading::Failed(f);
                    for s in cells.get_mut(d * c..d * c + c).unwrap_or(&mut []) {
                        *s = Reading::Failed(f);
                    }
                    continue;
                }
            };
            let vals = slots.iter().filter_map(|x| x.valid());
            let (Some(max), Some(min)) = (vals.clone().max(), vals.min()) else {
                *o = Reading::NotConverted;
                continue;
            };
            let sh = convert::cell_uv(h & 0xFFE0);
            let sl = convert::cell_uv(l & 0xFFE0);
            // The counter bits cost the secondary values up to 31 LSBs (2.4 mV).
            let tol = tolerance.0.saturating_add(convert::cell_uv(0x1F).0);
            let agrees = (max.0 - sh.0).abs() <= tol && (min.0 - sl.0).abs() <= tol;
            *o = Reading::Valid(Redundancy {
                primary_max: max,
                primary_min: min,
                secondary_high: sh,
                secondary_low: sl,
                counter: (l & 0x1F) as u8,
                agrees,
            });
        }
        Ok(report)
    }

    /// Reads one register of every device (broadcast).
    pub(crate) async fn read_register_all(
        &mut self,
        reg: Register,
        out: &mut [Reading<u16>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("buffer length != device_count()"));
        }
        let r = self.read_all(reg).await?;
        let mut report = ChainReport::OK;
        for d in 0..N {
            out[d] = match r[d] {
                Ok(v) => Reading::Valid(v),
                Err(reason) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }
}

twins! {
    serial impl[const N: usize] Tle9012<N> => core {
    /// Reads external sensor `sensor` (0..=4, EXT_TEMP_z) of every device as raw
    /// [`ExtTemp`] codes (the resistance formula is not verified; see the family docs).
    pub fn read_external_temperatures(&mut self, sensor: u8, out: &mut [Reading<ExtTemp>]) -> Result<ChainReport, Error<SerialError<B>>>;
    /// Open-load flags (DIAG_OL) of every device, bit `i` = cell `i + 1` (as populated).
    /// The detection limits are [`Thresholds::with_open_load`](super::Thresholds::with_open_load).
    pub fn read_open_load(&mut self, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SerialError<B>>>;
    /// Cell conversion with the secondary measurement (SCVM) started alongside, then the
    /// primary extremes compared with SCVM_HIGH/SCVM_LOW per device within `tolerance` (plus
    /// the 31 LSBs the counter bits take). `cells` as for `measure_cells`; `out.len() ==
    /// device_count()`. A device whose frames fail fails both. The SCVM start bit and the
    /// SCVM resolution are not verified from public sources (see [`Redundancy`]).
    pub fn measure_redundant(&mut self, tolerance: MicroVolts, cells: &mut [Reading<MicroVolts>], out: &mut [Reading<Redundancy>]) -> Result<ChainReport, Error<SerialError<B>>>;
    /// Every diagnosis register of every device, decoded ([`Diagnostics`]).
    pub fn read_diagnostics(&mut self, out: &mut [Reading<Diagnostics>]) -> Result<ChainReport, Error<SerialError<B>>>;
    /// Per-cell balancing counters of device `device` (BAL_CNT_0..3; 5 bits per cell,
    /// "7.5 min steps" per MaxMax-embedded/TLE9012_Arduino_Lib, not verified), one per
    /// populated cell, each register read back.
    pub fn set_balancing_counters(&mut self, device: usize, counters: &[u8]) -> Result<(), Error<SerialError<B>>>;
    /// Clears CELL_OV, CELL_UV and GEN_DIAG on every device (write 0).
    pub fn clear_faults(&mut self) -> Result<ChainReport, Error<SerialError<B>>>;
    /// Reads one register of every device with one broadcast read.
    pub fn read_register_all(&mut self, reg: Register, out: &mut [Reading<u16>]) -> Result<ChainReport, Error<SerialError<B>>>;
    }
}
