//! Scans and reads: scan start and completion, cell, block, AUX and CSA results, the
//! current.

use super::*;

/// The wait before SCANDONE can be expected, per oversampling. Not from a data-sheet
/// table (none is in the public sources this crate cites): the 128× value is the reference
/// firmware's wait after its 128× scan (MAXREFDES1301 `V_measure.cpp`, 100 ms); the others
/// are conservative. The driver confirms completion with SCANDONE either way.
pub const fn scan_wait(os: Oversampling) -> Microseconds {
    match os {
        Oversampling::None => Microseconds(2_000),
        Oversampling::X4 => Microseconds(4_000),
        Oversampling::X128 => Microseconds(100_000),
    }
}

/// The oversampling each [`ConversionMode`] selects.
pub const fn oversampling_of(mode: ConversionMode) -> Oversampling {
    match mode {
        ConversionMode::Fast => Oversampling::None,
        ConversionMode::Normal => Oversampling::X4,
        ConversionMode::Filtered => Oversampling::X128,
    }
}

impl<V: Variant, const N: usize, IO> Max1785x<V, N, IO> {
    /// AUX thermistors for [`CellMonitor::measure_temperatures`](crate::CellMonitor): the
    /// inputs (bits `0..V::AUX_INPUTS`) and the conversion. The AUX measurement must be
    /// enabled in MEASUREEN2 (its layout is not in the cited sources: write it with
    /// [`write_all_verified`](Self::write_all_verified)).
    pub fn set_thermistors(&mut self, t: Option<Thermistors>) -> Result<(), ConfigError> {
        if let Some(t) = t {
            if t.inputs == 0 || u32::from(t.inputs) >> V::AUX_INPUTS != 0 {
                return Err(ConfigError::OutOfRange {
                    field: "thermistor AUX mask",
                    value: i64::from(t.inputs),
                    min: 1,
                    max: (1i64 << V::AUX_INPUTS) - 1,
                });
            }
        }
        self.core.thermistors = t;
        Ok(())
    }

    /// The current-sense scaling for [`read_current`](crate::CellMonitor::read_current)
    /// (MAX17852 only; the CSA result format is the caller's, see [`CurrentSense`]).
    pub fn set_current_sense(&mut self, cs: Option<CurrentSense>) -> Result<(), ConfigError> {
        if let Some(c) = cs {
            if !V::HAS_CSA {
                return Err(ConfigError::Unsupported(
                    "current-sense amplifier (MAX17852 only)",
                ));
            }
            if usize::from(c.device) >= N || c.shunt_micro_ohm <= 0 {
                return Err(ConfigError::OutOfRange {
                    field: "current-sense device / shunt",
                    value: i64::from(c.device),
                    min: 0,
                    max: N as i64 - 1,
                });
            }
        }
        self.core.current = cs;
        Ok(())
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn start_scan(
        &mut self,
        os: Oversampling,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.write_all(Register::ScanCtrl, register::scan_request(os))
            .await?;
        // The request came back intact (and, with the alive counter, counted by every
        // device): results of this scan can be trusted again.
        self.suspect = None;
        Ok(scan_wait(os))
    }

    /// SCANCTRL of every device: `Ok(true)` = SCANDONE.
    pub(super) async fn scan_state(
        &mut self,
        out: &mut [Result<bool, FaultReason>; N],
    ) -> Result<(), Error<IO::Error>> {
        let mut v: Slots<N> = [Ok(0); N];
        self.read_reg(Register::ScanCtrl.address(), &mut v).await?;
        for (o, x) in out.iter_mut().zip(&v) {
            *o = x.map(|s| ScanCtrl::from_bits_retain(s).contains(ScanCtrl::SCANDONE));
        }
        Ok(())
    }

    pub(super) async fn poll_scan(&mut self) -> Result<(), Error<IO::Error>> {
        let mut st = [Ok(false); N];
        for _ in 0..self.max_scan_polls {
            self.scan_state(&mut st).await?;
            // Devices that failed are reported by the read that follows; the wait is over
            // when every answering device is done.
            if st.iter().all(|s| !matches!(s, Ok(false))) {
                return Ok(());
            }
            self.io.delay_us(SCAN_POLL_US).await;
        }
        Err(Error::Timeout("SCANDONE: scan still running"))
    }

    /// Reads `regs` into `out` (`N × regs.len()`, device-major) through `conv`; a device
    /// without SCANDONE reads `NotConverted`; a device failing any read fails all its
    /// slots.
    pub(super) async fn read_results<T: Copy>(
        &mut self,
        regs: &[u8],
        out: &mut [Reading<T>],
        conv: fn(u16) -> T,
    ) -> Result<ChainReport, Error<IO::Error>> {
        let per = regs.len();
        check_len(out.len(), N * per)?;
        let mut done = [Ok(false); N];
        self.scan_state(&mut done).await?;
        if let Some(reason) = self.suspect {
            // A device may have missed the last scan request: its registers may hold an
            // older scan. Nothing is trusted until a confirmed scan start.
            let mut report = ChainReport::OK;
            for (d, chunk) in out.chunks_exact_mut(per.max(1)).enumerate() {
                let f = DeviceFault {
                    device: d as u8,
                    reason,
                };
                chunk.fill(Reading::Failed(f));
                report.record(f);
            }
            return Ok(report);
        }
        if self.ring_open {
            // Nothing came back: every device failed; the other reads would only time out.
            let mut report = ChainReport::OK;
            for (d, chunk) in out.chunks_exact_mut(per.max(1)).enumerate() {
                let f = DeviceFault {
                    device: d as u8,
                    reason: FaultReason::NoResponse,
                };
                chunk.fill(Reading::Failed(f));
                report.record(f);
            }
            return Ok(report);
        }
        let mut fault: [Option<DeviceFault>; N] = [None; N];
        for (d, s) in done.iter().enumerate() {
            if let Err(reason) = s {
                fault[d] = Some(DeviceFault {
                    device: d as u8,
                    reason: *reason,
                });
            }
        }
        let mut v: Slots<N> = [Ok(0); N];
        for (i, &reg) in regs.iter().enumerate() {
            self.read_reg(reg, &mut v).await?;
            for (d, x) in v.iter().enumerate() {
                let slot = out.get_mut(d * per + i);
                match (x, slot) {
                    (Ok(raw), Some(o)) => *o = Reading::Valid(conv(*raw)),
                    (Err(reason), Some(o)) => {
                        let f = DeviceFault {
                            device: d as u8,
                            reason: *reason,
                        };
                        if fault[d].is_none() {
                            fault[d] = Some(f);
                        }
                        *o = Reading::Failed(f);
                    }
                    _ => {}
                }
            }
        }
        let mut report = ChainReport::OK;
        for (d, chunk) in out.chunks_exact_mut(per).enumerate() {
            if let Some(f) = fault[d] {
                chunk.fill(Reading::Failed(f));
                report.record(f);
            } else if !matches!(done[d], Ok(true)) {
                chunk.fill(Reading::NotConverted);
            }
        }
        Ok(report)
    }

    pub(super) async fn read_cells(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let mut regs = [0u8; 14];
        for (n, r) in regs.iter_mut().enumerate() {
            *r = Register::cell(n as u8 + 1).unwrap_or(0);
        }
        self.read_results(regs.get(..V::CELLS).unwrap_or(&[]), out, convert::cell_uv)
            .await
    }

    pub(super) async fn read_block_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.read_results(&[Register::Block.address()], out, convert::block_uv)
            .await
    }

    pub(super) async fn measure(&mut self, os: Oversampling) -> Result<(), Error<IO::Error>> {
        let t = self.start_scan(os).await?;
        self.io.delay_us(t.0).await;
        self.poll_scan().await
    }

    pub(super) async fn read_aux_ratios(
        &mut self,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let mut regs = [0u8; 6];
        for (i, r) in regs.iter_mut().enumerate() {
            *r = Register::aux(i as u8).unwrap_or(0);
        }
        let regs = regs.get(..V::AUX_INPUTS).unwrap_or(&[]);
        self.read_results(regs, out, convert::aux_ratio_ppm).await
    }

    pub(super) async fn read_csa(
        &mut self,
        out: &mut [Reading<u16>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if !V::HAS_CSA {
            return Err(Error::Config(ConfigError::Unsupported(
                "CSA (MAX17852 only)",
            )));
        }
        self.read_all(Register::Csa, out).await
    }

    pub(super) async fn current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        if !V::HAS_CSA {
            return Ok(None);
        }
        let Some(cs) = self.current else {
            return Err(Error::Config(ConfigError::Conflict(
                "current sense not configured (set_current_sense)",
            )));
        };
        let fault = |reason| {
            Error::Integrity(DeviceFault {
                device: cs.device,
                reason,
            })
        };
        if let Some(reason) = self.suspect {
            return Err(fault(reason));
        }
        let mut came_back = true;
        // A CSA register that no scan has written is not a current.
        let (scan, _) = self
            .read_one(cs.device, Register::ScanCtrl.address(), &mut came_back)
            .await?
            .map_err(fault)?;
        if !ScanCtrl::from_bits_retain(scan).contains(ScanCtrl::SCANDONE) {
            return Err(Error::Device {
                device: cs.device,
                what: "CSA not converted: no scan completed",
            });
        }
        let (raw, _) = self
            .read_one(cs.device, Register::Csa.address(), &mut came_back)
            .await?
            .map_err(fault)?;
        Ok(Some(cs.current(raw)))
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Max1785x<V, N> => core {
        /// WRITEALL SCANCTRL with SCAN, `os` and AUTOBALSWDIS; returns the wait hint.
        pub fn start_scan(&mut self, os: Oversampling) -> Result<Microseconds, Error<SpiError<B>>>;
        /// Polls SCANCTRL until every answering device shows SCANDONE, bounded
        /// ([`Error::Timeout`]).
        pub fn poll_scan(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Reads CELL1..CELLn of every device (`out.len() == N · V::CELLS`, device 0 first).
        /// A device whose SCANCTRL shows no SCANDONE reads `NotConverted`; a device failing
        /// any of the reads fails all its cells.
        pub fn read_cells(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads BLOCK of every device (`out.len() == N`).
        pub fn read_block_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads AUX0.. of every device as ratios of the reference in ppm
        /// (`out.len() == N · V::AUX_INPUTS`). Like the cells: a device without SCANDONE
        /// reads `NotConverted`, a device failing any read fails all its inputs.
        pub fn read_aux_ratios(&mut self, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads the CSA register of every device (MAX17852 only).
        pub fn read_csa(&mut self, out: &mut [Reading<u16>]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
