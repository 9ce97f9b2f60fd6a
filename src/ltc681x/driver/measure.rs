//! Conversions and reads: ADC starts with their data-sheet wait hints, polling, cell, S-pin,
//! auxiliary, status and serial-ID reads.

use super::*;

impl<V: Variant, const N: usize, IO> Ltc681x<V, N, IO> {
    /// The data-sheet wait for a conversion with the current configuration of device 0
    /// (ADCOPT, REFON).
    pub fn conversion_time(&self, what: Conversion, mode: AdcMode) -> Microseconds {
        self.core.conversion_time(what, mode)
    }
}

impl<V: Variant, const N: usize, IO> Core<V, N, IO> {
    pub(super) fn conversion_time(&self, what: Conversion, mode: AdcMode) -> Microseconds {
        let (adcopt, refon) = self
            .cfg
            .first()
            .map(|c| (c.adcopt, c.refon))
            .unwrap_or((false, false));
        command::conversion_time::<V>(what, mode, adcopt, refon)
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn start_cells(
        &mut self,
        mode: AdcMode,
        dcp: bool,
        sel: CellSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adcv(mode, dcp, sel), Conversion::Cells(sel), mode)
            .await
    }

    pub(super) async fn start_cells_and_sc(
        &mut self,
        mode: AdcMode,
        dcp: bool,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adcvsc(mode, dcp), Conversion::CellsAndSc, mode)
            .await
    }

    pub(super) async fn start_cells_and_gpio12(
        &mut self,
        mode: AdcMode,
        dcp: bool,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(
            &command::adcvax(mode, dcp),
            Conversion::CellsAndGpio12,
            mode,
        )
        .await
    }

    pub(super) async fn start_gpio(
        &mut self,
        mode: AdcMode,
        sel: GpioSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adax(mode, sel), Conversion::Gpio(sel), mode)
            .await
    }

    pub(super) async fn start_gpio_redundant(
        &mut self,
        mode: AdcMode,
        sel: GpioSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adaxd(mode, sel), Conversion::Gpio(sel), mode)
            .await
    }

    pub(super) async fn start_gpio_open_wire(
        &mut self,
        mode: AdcMode,
        pull: Pull,
        sel: GpioSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::axow(mode, pull, sel), Conversion::Gpio(sel), mode)
            .await
    }

    pub(super) async fn start_status(
        &mut self,
        mode: AdcMode,
        sel: StatusSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adstat(mode, sel), Conversion::Status(sel), mode)
            .await
    }

    pub(super) async fn start_status_redundant(
        &mut self,
        mode: AdcMode,
        sel: StatusSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(&command::adstatd(mode, sel), Conversion::Status(sel), mode)
            .await
    }

    pub(super) async fn start_open_wire(
        &mut self,
        mode: AdcMode,
        pull: Pull,
        dcp: bool,
        sel: CellSelect,
    ) -> Result<Microseconds, Error<IO::Error>> {
        self.start(
            &command::adow(mode, pull, dcp, sel),
            Conversion::Cells(sel),
            mode,
        )
        .await
    }

    pub(super) async fn start_overlap(
        &mut self,
        mode: AdcMode,
        dcp: bool,
    ) -> Result<Microseconds, Error<IO::Error>> {
        if !V::HAS_ADOL {
            return Err(Error::Config(ConfigError::Unsupported(
                "ADOL (single-ADC LTC6810)",
            )));
        }
        self.start(&command::adol(mode, dcp), Conversion::Overlap, mode)
            .await
    }

    pub(super) async fn clear_cells(&mut self) -> Result<(), Error<IO::Error>> {
        self.send(&command::CLRCELL).await
    }

    pub(super) async fn clear_aux(&mut self) -> Result<(), Error<IO::Error>> {
        self.send(&command::CLRAUX).await
    }

    pub(super) async fn clear_status(&mut self) -> Result<(), Error<IO::Error>> {
        self.send(&command::CLRSTAT).await
    }

    pub(super) async fn poll_adc(&mut self) -> Result<(), Error<IO::Error>> {
        let bytes = isospi::status_bytes(self.n());
        let polls = isospi::poll_done(
            &mut self.io,
            &command::PLADC,
            bytes,
            self.max_polls,
            POLL_INTERVAL_US,
        )
        .await
        .map_err(Error::Bus)?;
        match polls {
            Some(_) => Ok(()),
            None => Err(Error::Timeout("PLADC: conversion still running")),
        }
    }

    pub(super) async fn read_cell_frames(
        &mut self,
        groups: &mut [[[u8; 8]; N]; 6],
    ) -> Result<(), Error<IO::Error>> {
        for (g, cmd) in groups.iter_mut().zip(&command::RDCV).take(V::CELL_GROUPS) {
            self.read_raw(cmd, g).await?;
        }
        Ok(())
    }

    pub(super) async fn read_cells(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n() * V::CELLS)?;
        self.read_cell_format(&command::RDCV, out).await
    }

    /// Reads the groups `cmds` (at most `V::CELL_GROUPS` of them), each laid out like a cell
    /// group (three little-endian 100 µV codes + PEC15), and decodes them with
    /// [`convert::decode_cell_groups`] into `out` (`N · V::CELLS`, checked by the caller).
    /// Shared by the cell groups and the LTC6810 S-voltage groups.
    pub(super) async fn read_cell_format(
        &mut self,
        cmds: &[[u8; 4]],
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let used = cmds.len().min(V::CELL_GROUPS);
        let n = self.n();
        let mut groups = [[[0u8; 8]; N]; 6];
        // Read every group unverified and check each PEC once, in the decoder (the hot path:
        // verifying in `read_verified` too would check all of them twice). Only the `n`
        // devices on the chain are clocked; `out` holds exactly their cells.
        for (g, cmd) in groups.iter_mut().zip(cmds).take(used) {
            let g = g.get_mut(..n).unwrap_or(&mut []);
            isospi::read_chain_slice(&mut self.io, cmd, g)
                .await
                .map_err(Error::Bus)?;
        }
        // Groups not read (fewer commands than the part's groups) fail their cells there.
        let mut report =
            convert::decode_cell_groups::<V, N>(groups.get(..used).unwrap_or(&[]), out);
        // Rare path: re-issue the groups with a bad frame, up to `retries` times (the same
        // retries as `read_verified`, after the other groups instead of at once), then decode
        // again. A report that fails for other reasons (redundancy fault codes) is final.
        let mut attempt = 0;
        while !report.is_ok() && attempt < self.retries {
            attempt += 1;
            let mut reread = false;
            for (g, cmd) in groups.iter_mut().zip(cmds).take(used) {
                let g = g.get_mut(..n).unwrap_or(&mut []);
                if !g.iter().all(crate::crc::pec15_frame_ok) {
                    isospi::read_chain_slice(&mut self.io, cmd, g)
                        .await
                        .map_err(Error::Bus)?;
                    reread = true;
                }
            }
            if !reread {
                break;
            }
            report = convert::decode_cell_groups::<V, N>(groups.get(..used).unwrap_or(&[]), out);
        }
        Ok(report)
    }

    /// Refuses S-voltage commands on parts without S-voltage groups: there 0x008/0x00A are
    /// RDCVC/RDCVD and would return cell groups C/D.
    pub(super) fn require_s_groups() -> Result<(), Error<IO::Error>> {
        if matches!(V::LAYOUT, crate::ltc681x::ConfigLayout::Ltc6810) {
            Ok(())
        } else {
            Err(Error::Config(ConfigError::Unsupported(
                "S-voltage groups RDSA/RDSB (LTC6810 only)",
            )))
        }
    }

    pub(super) async fn read_s_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        Self::require_s_groups()?;
        check_len(out.len(), self.n() * V::CELLS)?;
        self.read_cell_format(&command::RDS, out).await
    }

    /// Raw cell codes of device `d` (all groups), or the fault.
    pub(super) fn cell_codes(
        groups: &[[[u8; 8]; N]; 6],
        d: usize,
        codes: &mut [u16; 18],
    ) -> Result<(), DeviceFault> {
        for (g, gr) in groups.iter().enumerate().take(V::CELL_GROUPS) {
            let fr = gr.get(d).ok_or(DeviceFault {
                device: d as u8,
                reason: FaultReason::Framing,
            })?;
            isospi::verify_frame(fr, DataPec::Pec15).map_err(|reason| DeviceFault {
                device: d as u8,
                reason,
            })?;
            let data = data6(fr);
            for i in 0..3 {
                if let Some(c) = codes.get_mut(3 * g + i) {
                    *c = convert::word(&data, i);
                }
            }
        }
        Ok(())
    }

    pub(super) async fn read_aux(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n() * V::AUX_CHANNELS)?;
        self.read_aux_strided(out, V::AUX_CHANNELS).await
    }

    /// Auxiliary voltages of device `d` go to `out[d * stride ..][..AUX_CHANNELS]`.
    pub(super) async fn read_aux_strided(
        &mut self,
        out: &mut [Reading<MicroVolts>],
        stride: usize,
    ) -> Result<ChainReport, Error<IO::Error>> {
        let mut report = ChainReport::OK;
        for (g, cmd) in command::RDAUX.iter().enumerate().take(V::AUX_GROUPS) {
            let mut frames = [[0u8; 8]; N];
            let v = self.read_raw(cmd, &mut frames).await?;
            report.merge(self.report(&v));
            for (d, (fr, verdict)) in frames.iter().zip(&v).enumerate() {
                let data = data6(fr);
                for i in 0..3 {
                    let ch = 3 * g + i;
                    if ch >= V::AUX_CHANNELS {
                        continue;
                    }
                    if let Some(o) = out.get_mut(d * stride + ch) {
                        *o = match verdict {
                            Ok(_) => noted(
                                convert::voltage(convert::word(&data, i), d as u8),
                                &mut report,
                            ),
                            Err(reason) => Reading::Failed(DeviceFault {
                                device: d as u8,
                                reason: *reason,
                            }),
                        };
                    }
                }
            }
        }
        Ok(report)
    }

    pub(super) async fn read_status(
        &mut self,
        out: &mut [Reading<Status>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        let mut a = [[0u8; 8]; N];
        let mut b = [[0u8; 8]; N];
        let mut x = [[0u8; 8]; N];
        let va = self.read_raw(&command::RDSTATA, &mut a).await?;
        let vb = self.read_raw(&command::RDSTATB, &mut b).await?;
        let vx = if V::CELLS > 12 {
            self.read_raw(&command::RDAUXD, &mut x).await?
        } else {
            [Ok(0); N]
        };
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let dev = d as u8;
            let (Some(fa), Some(fb), Some(fx)) = (a.get(d), b.get(d), x.get(d)) else {
                continue;
            };
            let verdict = [va.get(d), vb.get(d), vx.get(d)]
                .into_iter()
                .flatten()
                .find_map(|v| v.err());
            *o = match verdict {
                None => {
                    let mut sb = StatusB::decode::<V>(&data6(fb), dev);
                    let (ov, uv) = convert::aux_d_flags::<V>(&data6(fx));
                    sb.overvoltage |= ov;
                    sb.undervoltage |= uv;
                    let sa = StatusA::decode::<V>(&data6(fa), dev);
                    // Fault codes in the values fail the report (the flags stay usable).
                    noted(sa.sum_of_cells, &mut report);
                    noted(sa.die_temperature, &mut report);
                    noted(sa.va, &mut report);
                    noted(sb.vd, &mut report);
                    Reading::Valid(Status { a: sa, b: sb })
                }
                Some(reason) => {
                    let f = DeviceFault {
                        device: dev,
                        reason,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(super) async fn measure_status(
        &mut self,
        mode: AdcMode,
        out: &mut [Reading<Status>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        self.wake_idle().await?;
        let t = self.start_status(mode, StatusSelect::All).await?;
        self.settle(t).await?;
        self.read_status(out).await
    }

    pub(super) async fn measure_aux(
        &mut self,
        mode: AdcMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n() * V::AUX_CHANNELS)?;
        self.wake_idle().await?;
        let t = self.start_gpio(mode, GpioSelect::ALL).await?;
        self.settle(t).await?;
        self.read_aux(out).await
    }

    pub(super) async fn read_serial_id(
        &mut self,
        out: &mut [Reading<[u8; 6]>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if !matches!(V::LAYOUT, crate::ltc681x::ConfigLayout::Ltc6810) {
            return Err(Error::Config(ConfigError::Unsupported(
                "RDSID (LTC6810 only)",
            )));
        }
        self.read_mapped(&command::RDSID, out, |d, _| *d).await
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core {
        /// ADCV: starts a cell conversion; returns the data-sheet wait.
        pub fn start_cells(&mut self, mode: AdcMode, dcp: bool, sel: CellSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADCVSC: cells and sum of cells.
        pub fn start_cells_and_sc(&mut self, mode: AdcMode, dcp: bool) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADCVAX: cells and GPIO1, GPIO2.
        pub fn start_cells_and_gpio12(&mut self, mode: AdcMode, dcp: bool) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADAX: GPIO/auxiliary conversion.
        pub fn start_gpio(&mut self, mode: AdcMode, sel: GpioSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADAXD: GPIO conversion with digital redundancy (mismatch → fault code 0xFF0X, read
        /// as [`Reading::Failed`]).
        pub fn start_gpio_redundant(&mut self, mode: AdcMode, sel: GpioSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// AXOW: GPIO open-wire conversion.
        pub fn start_gpio_open_wire(&mut self, mode: AdcMode, pull: Pull, sel: GpioSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADSTAT: status conversion.
        pub fn start_status(&mut self, mode: AdcMode, sel: StatusSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADSTATD: status conversion with digital redundancy.
        pub fn start_status_redundant(&mut self, mode: AdcMode, sel: StatusSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADOW: one open-wire conversion (see [`open_wire`](Self::open_wire) for the
        /// complete check).
        pub fn start_open_wire(&mut self, mode: AdcMode, pull: Pull, dcp: bool, sel: CellSelect) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADOL: overlap conversion (not LTC6810: [`ConfigError::Unsupported`]).
        pub fn start_overlap(&mut self, mode: AdcMode, dcp: bool) -> Result<Microseconds, Error<SpiError<B>>>;
        /// CLRCELL: cell registers read 0xFF (not converted).
        pub fn clear_cells(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// CLRAUX.
        pub fn clear_aux(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// CLRSTAT (flags, MUXFAIL and THSD then read 1).
        pub fn clear_status(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// PLADC polling until every device finished converting: bounded by the
        /// `set_max_polls` count, [`Error::Timeout`] otherwise.
        pub fn poll_adc(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Reads every cell (`out.len() == N · V::CELLS`, device 0 first, cell 1 first).
        pub fn read_cells(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// LTC6810 only: reads the S-voltage groups RDSA (S1–S3) and RDSB (S4–S6) into `out`
        /// (`out.len() == N · 6`, device 0 first, S1 first). The groups are laid out like cell
        /// groups (Linduino `LTC6810.cpp` `LTC6810_rds` parses them with the cell parser;
        /// `DC2515.ino` prints them as code × 100 µV) and are decoded by the cell decoder
        /// [`convert::decode_cell_groups`]: every device's PEC is checked, a bad frame fails
        /// only that device's slots and the groups with a bad frame are re-issued up to
        /// [`retries`](Self::retries) times; 0xFFFF (cleared, or never converted because
        /// SCONV was 0) is [`Reading::NotConverted`]; codes above 0xDFFF are `Failed`.
        ///
        /// On other parts 0x008/0x00A are RDCVC/RDCVD (cell groups C/D): refused with
        /// [`ConfigError::Unsupported`] (as [`Error::Config`]) before anything is sent.
        pub fn read_s_voltages(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads the auxiliary voltages in register order (`out.len() == N · V::AUX_CHANNELS`):
        /// LTC6811 G1..G5, REF2; LTC6812/6813/ADBMS1818 G1..G5, REF2, G6..G9; LTC6810
        /// S0, G1..G4, REF2 (Linduino `DC2515.ino` `print_aux`).
        pub fn read_aux(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads STATA, STATB (and AUXD flags for cells 13..): `out.len() == N`. A value
        /// holding a fault code (above 0xDFFF) is `Failed` inside the status and fails the
        /// report too.
        pub fn read_status(&mut self, out: &mut [Reading<Status>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// ADSTAT (all), waits, reads the status.
        pub fn measure_status(&mut self, mode: AdcMode, out: &mut [Reading<Status>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// ADAX (all), waits, reads the auxiliary voltages.
        pub fn measure_aux(&mut self, mode: AdcMode, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// RDSID: the 48-bit serial ID of each LTC6810 (Linduino `LTC6810_rdsid`); other
        /// parts: [`ConfigError::Unsupported`].
        pub fn read_serial_id(&mut self, out: &mut [Reading<[u8; 6]>]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
