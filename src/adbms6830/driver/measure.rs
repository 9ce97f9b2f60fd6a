//! Conversions and reads: ADC starts with their wait hints, polling, cell, aux, supply,
//! status and serial-ID reads.

use super::*;

/// Which result registers hold cell voltages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CellSource {
    /// C-ADC results (RDCVx / RDCVALL).
    C,
    /// Averaged C-ADC results (RDACx / RDACALL).
    Averaged,
    /// IIR-filtered C-ADC results (RDFCx / RDFCALL).
    Filtered,
    /// S-ADC (redundant) results (RDSVx / RDSALL).
    S,
}

impl CellSource {
    const fn groups(self) -> [[u8; 4]; 6] {
        match self {
            Self::C => [
                cmd::RDCVA,
                cmd::RDCVB,
                cmd::RDCVC,
                cmd::RDCVD,
                cmd::RDCVE,
                cmd::RDCVF,
            ],
            Self::Averaged => [
                cmd::RDACA,
                cmd::RDACB,
                cmd::RDACC,
                cmd::RDACD,
                cmd::RDACE,
                cmd::RDACF,
            ],
            Self::Filtered => [
                cmd::RDFCA,
                cmd::RDFCB,
                cmd::RDFCC,
                cmd::RDFCD,
                cmd::RDFCE,
                cmd::RDFCF,
            ],
            Self::S => [
                cmd::RDSVA,
                cmd::RDSVB,
                cmd::RDSVC,
                cmd::RDSVD,
                cmd::RDSVE,
                cmd::RDSVF,
            ],
        }
    }

    /// The result kind of these registers (what a stale device fails).
    const fn stale_kind(self) -> u8 {
        match self {
            Self::S => STALE_S,
            Self::C | Self::Averaged | Self::Filtered => STALE_C,
        }
    }

    const fn read_all(self) -> [u8; 4] {
        match self {
            Self::C => cmd::RDCVALL,
            Self::Averaged => cmd::RDACALL,
            Self::Filtered => cmd::RDFCALL,
            Self::S => cmd::RDSALL,
        }
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(crate) async fn start_cell_adc(&mut self, adcv: Adcv) -> Result<Microseconds, E<IO>> {
        let f = adcv.frame()?;
        self.send(&f).await?;
        self.started(if adcv.redundant {
            STALE_C | STALE_S
        } else {
            STALE_C
        });
        self.continuous = adcv.continuous;
        let nominal = if adcv.redundant {
            timing::T_SADC_US
        } else {
            timing::T_CADC_US
        };
        Ok(Microseconds(timing::with_margin(nominal)))
    }

    pub(crate) async fn start_s_adc(&mut self, adsv: Adsv) -> Result<Microseconds, E<IO>> {
        let f = adsv.frame()?;
        self.send(&f).await?;
        self.started(STALE_S);
        Ok(Microseconds(timing::with_margin(timing::T_SADC_US)))
    }

    pub(crate) async fn start_aux(&mut self, adax: Adax) -> Result<Microseconds, E<IO>> {
        let f = adax.frame()?;
        self.send(&f).await?;
        // Only a conversion of every channel refreshes the aux and status A/B groups; a
        // single ITMP or VPV conversion refreshes that value alone.
        self.started(match adax.channel {
            AuxChannel::All => STALE_AUX | STALE_ITMP | STALE_VPV,
            AuxChannel::Itmp => STALE_ITMP,
            AuxChannel::Vpv => STALE_VPV,
            _ => 0,
        });
        let ch = match adax.channel {
            AuxChannel::All => timing::AUX_ALL_CHANNELS,
            _ => 1,
        };
        Ok(Microseconds(timing::with_margin(
            timing::T_AUX_PER_CHANNEL_US * ch,
        )))
    }

    pub(crate) async fn start_aux2(&mut self, gpio: Option<u8>) -> Result<Microseconds, E<IO>> {
        let f = cmd::adax2(gpio)?;
        self.send(&f).await?;
        if gpio.is_none() {
            self.started(STALE_RAUX);
        }
        let ch = if gpio.is_some() { 1 } else { 10 };
        Ok(Microseconds(timing::with_margin(
            timing::T_AUX2_PER_CHANNEL_US * ch,
        )))
    }

    pub(crate) async fn poll(
        &mut self,
        target: cmd::PollTarget,
        timeout: Microseconds,
    ) -> Result<(), E<IO>> {
        let f = target.frame();
        let max = timeout.0 / timing::POLL_INTERVAL_US + 1;
        let mut sent = 0;
        let bytes = isospi::status_bytes(2 * self.n());
        let r = isospi::poll_done_counted(
            &mut self.io,
            &f,
            bytes,
            max,
            timing::POLL_INTERVAL_US,
            &mut sent,
        )
        .await;
        // Every poll command that went out increments the counters; one that failed on the
        // bus may or may not have.
        for e in self.expected.iter_mut() {
            *e = cmd::advance_counter(*e, sent);
        }
        if r.is_err() {
            self.widen();
        }
        match r.map_err(Error::Bus)? {
            Some(_) => Ok(()),
            None => Err(Error::Timeout("ADBMS6830 ADC poll")),
        }
    }

    pub(crate) async fn read_cells(
        &mut self,
        source: CellSource,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        if out.len() != self.n() * V::CELLS {
            return Err(Error::InvalidArgument(
                "cell output length must be devices × cells per device",
            ));
        }
        self.read_cells_strided(source, out, V::CELLS).await
    }

    /// Reads cells into `out`, device `d`'s cells starting at `d × stride`. A device that
    /// shows a command-counter fault in any of the frames fails every one of its cells.
    pub(super) async fn read_cells_strided(
        &mut self,
        source: CellSource,
        out: &mut [Reading<MicroVolts>],
        stride: usize,
    ) -> Result<ChainReport, E<IO>> {
        let mark = self.taint_mark();
        let mut report = self.read_cell_frames(source, out, stride).await?;
        if self.tainted_since(mark) {
            let tainted = self.tainted(mark);
            taint(&tainted, out.chunks_mut(stride), V::CELLS, &mut report);
        }
        Ok(report)
    }

    /// The frames of [`Self::read_cells_strided`], each filling its own slots.
    async fn read_cell_frames(
        &mut self,
        source: CellSource,
        out: &mut [Reading<MicroVolts>],
        stride: usize,
    ) -> Result<ChainReport, E<IO>> {
        let cells = V::CELLS;
        let n = self.n();
        let mut report = ChainReport::OK;
        // Capacity slots past the chain carry no data.
        clear_past(out, n * stride);
        if self.read_all && cells == 16 {
            let mut frames = [[0u8; 34]; N];
            let v = self
                .read_needing(&source.read_all(), &mut frames, source.stale_kind())
                .await?;
            let devices = frames.iter().zip(v.iter()).zip(out.chunks_mut(stride));
            for ((f, r), o) in devices.take(n) {
                if let Some(slots) = o.get_mut(..cells) {
                    fill(slots, f, r, &mut report);
                }
            }
            return Ok(report);
        }
        for (g, c) in source.groups().iter().enumerate() {
            let first = 3 * g;
            if first >= cells {
                break;
            }
            let end = (first + 3).min(cells);
            let mut frames = [[0u8; 8]; N];
            let v = self
                .read_needing(c, &mut frames, source.stale_kind())
                .await?;
            let devices = frames.iter().zip(v.iter()).zip(out.chunks_mut(stride));
            for ((f, r), o) in devices.take(n) {
                if let Some(slots) = o.get_mut(first..end) {
                    fill(slots, f, r, &mut report);
                }
            }
        }
        Ok(report)
    }

    pub(crate) async fn read_cells_snapshot(
        &mut self,
        source: CellSource,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        if out.len() != self.n() * V::CELLS {
            return Err(Error::InvalidArgument(
                "cell output length must be devices × cells per device",
            ));
        }
        self.send(&cmd::SNAP).await?;
        let r = self.read_cells(source, out).await;
        let u = self.send(&cmd::UNSNAP).await;
        let r = r?;
        u?;
        Ok(r)
    }

    pub(crate) async fn read_aux(
        &mut self,
        redundant: bool,
        out: &mut [AuxValues; N],
    ) -> Result<ChainReport, E<IO>> {
        let groups = if redundant {
            [cmd::RDRAXA, cmd::RDRAXB, cmd::RDRAXC, cmd::RDRAXD]
        } else {
            [cmd::RDAUXA, cmd::RDAUXB, cmd::RDAUXC, cmd::RDAUXD]
        };
        let mut report = ChainReport::OK;
        let mark = self.taint_mark();
        let n = self.n();
        for o in out.iter_mut().skip(n) {
            clear_past(o, 0);
        }
        for (g, c) in groups.iter().enumerate() {
            let (frames, v) = self.read6(c).await?;
            for ((f, r), o) in frames.iter().zip(v.iter()).zip(out.iter_mut()).take(n) {
                if let Some(slots) = o.get_mut(3 * g..3 * g + 3) {
                    fill(slots, f, r, &mut report);
                }
                if g == 3 && r.is_ok() {
                    if redundant {
                        // The redundant path converts GPIOs only (ADAX2 CH[3:0], ADBMS6830B-DS "Command Bit Descriptions"):
                        // RAXD carries R_GPIO10 alone, so its other words are no results.
                        if let Some(s) = o.get_mut(10..12) {
                            s.fill(Reading::NotConverted);
                        }
                    } else if let Some(s) = o.get_mut(11) {
                        // AUXD word 2 is VPV: ×25.
                        *s = convert::vpv(convert::word(f, 2));
                    }
                }
            }
        }
        if self.tainted_since(mark) {
            let tainted = self.tainted(mark);
            taint(
                &tainted,
                out.iter_mut().map(|o| o.as_mut_slice()),
                12,
                &mut report,
            );
        }
        Ok(report)
    }

    pub(crate) async fn read_supplies(
        &mut self,
        out: &mut [Reading<Supplies>; N],
    ) -> Result<ChainReport, E<IO>> {
        let (fa, va) = self.read6(&cmd::RDSTATA).await?;
        let (fb, vb) = self.read6(&cmd::RDSTATB).await?;
        let mut report = ChainReport::OK;
        let n = self.n();
        clear_past(out, n);
        for (d, o) in out.iter_mut().enumerate().take(n) {
            let (Some(a), Some(b), Some(ra), Some(rb)) =
                (fa.get(d), fb.get(d), va.get(d), vb.get(d))
            else {
                continue;
            };
            *o = match (ra, rb) {
                (Err(f), _) | (Ok(()), Err(f)) => {
                    report.record(*f);
                    Reading::Failed(*f)
                }
                (Ok(()), Ok(())) => Reading::Valid(Supplies {
                    vref2: convert::cell(convert::word(a, 0)),
                    itmp: convert::itmp(convert::word(a, 1)),
                    vd: convert::cell(convert::word(b, 0)),
                    va: convert::cell(convert::word(b, 1)),
                    vres: convert::cell(convert::word(b, 2)),
                }),
            };
        }
        Ok(report)
    }

    pub(super) async fn read_decoded<T: Copy>(
        &mut self,
        frame: &[u8; 4],
        decode: fn(&[u8; 6]) -> T,
        out: &mut [Reading<T>; N],
    ) -> Result<ChainReport, E<IO>> {
        let (frames, v) = self.read6(frame).await?;
        let mut report = ChainReport::OK;
        let n = self.n();
        clear_past(out, n);
        for ((f, r), o) in frames.iter().zip(v.iter()).zip(out.iter_mut()).take(n) {
            *o = match r {
                Ok(()) => Reading::Valid(decode(&six(f))),
                Err(e) => {
                    report.record(*e);
                    Reading::Failed(*e)
                }
            };
        }
        Ok(report)
    }

    pub(crate) async fn read_status_c(
        &mut self,
        out: &mut [Reading<StatusC>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDSTATC, StatusC::from_bytes, out)
            .await
    }

    pub(crate) async fn read_status_c_injected(
        &mut self,
        out: &mut [Reading<StatusC>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDSTATC_ERR, StatusC::from_bytes, out)
            .await
    }

    pub(crate) async fn read_status_d(
        &mut self,
        out: &mut [Reading<StatusD>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDSTATD, StatusD::from_bytes, out)
            .await
    }

    pub(crate) async fn read_status_e(
        &mut self,
        out: &mut [Reading<StatusE>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDSTATE, StatusE::from_bytes, out)
            .await
    }

    pub(crate) async fn read_serial_ids(
        &mut self,
        out: &mut [Reading<SerialId>; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_decoded(&cmd::RDSID, |b| SerialId(*b), out).await
    }

    pub(crate) async fn detect_chain_length(&mut self) -> Result<usize, E<IO>> {
        let (_, v) = self.read6(&cmd::RDSID).await?;
        // A device answers if its PEC is good; a counter mismatch still proves presence.
        Ok(v.iter()
            .take_while(|r| match r {
                Ok(()) => true,
                Err(f) => matches!(f.reason, FaultReason::CommandCounter { .. }),
            })
            .count())
    }

    pub(crate) async fn snapshot(&mut self, on: bool) -> Result<(), E<IO>> {
        self.send(if on { &cmd::SNAP } else { &cmd::UNSNAP }).await
    }

    pub(crate) async fn clear(&mut self, what: Clear) -> Result<(), E<IO>> {
        self.send(&what.frame()).await
    }
}

/// Fills cell slots from a verified frame (or marks them failed).
#[inline]
pub(super) fn fill<const L: usize>(
    slots: &mut [Reading<MicroVolts>],
    frame: &[u8; L],
    verdict: &Result<(), DeviceFault>,
    report: &mut ChainReport,
) {
    match verdict {
        // Hot path: three cells from a fixed 8-byte group frame (the match on the frame
        // length is decided at compile time).
        Ok(()) => match (slots, <&[u8; 8]>::try_from(frame.as_slice())) {
            ([a, b, c], Ok(&[b0, b1, b2, b3, b4, b5, _, _])) => {
                *a = convert::cell(u16::from_le_bytes([b0, b1]));
                *b = convert::cell(u16::from_le_bytes([b2, b3]));
                *c = convert::cell(u16::from_le_bytes([b4, b5]));
            }
            (slots, _) => {
                for (s, w) in slots.iter_mut().zip(frame.chunks_exact(2)) {
                    *s = convert::cell(u16::from_le_bytes([w[0], w[1]]));
                }
            }
        },
        Err(f) => {
            report.record(*f);
            for s in slots.iter_mut() {
                *s = Reading::Failed(*f);
            }
        }
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core {
        /// ADCV with every bit; returns the wait hint (1 ms cadence, 8 ms with RD, +20 %).
        /// DCP with CONT is rejected ([`ConfigError::Conflict`]) before sending.
        pub fn start_cell_adc(&mut self, adcv: Adcv) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADSV; returns the wait hint (8 ms + 20 %).
        pub fn start_s_adc(&mut self, adsv: Adsv) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADAX; returns the wait hint (≈1 ms per channel + 20 %).
        pub fn start_aux(&mut self, adax: Adax) -> Result<Microseconds, Error<SpiError<B>>>;
        /// ADAX2 on one GPIO (or all with `None`); wait hint ≈8 ms per channel + 20 %.
        pub fn start_aux2(&mut self, gpio: Option<u8>) -> Result<Microseconds, Error<SpiError<B>>>;
        /// Polls an ADC until done or `timeout` (bounded: one poll per 200 µs). Each poll
        /// clocks 2·N status bits plus one byte, and increments every command counter.
        pub fn poll(&mut self, target: cmd::PollTarget, timeout: Microseconds) -> Result<(), Error<SpiError<B>>>;
        /// Reads cell voltages from `source` into `out` (`N × V::CELLS`, device 0 first).
        /// Uses read-all frames when enabled ([`Adbms6830::set_read_all`]), else group reads.
        pub fn read_cells(&mut self, source: CellSource, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// SNAP, read cells, UNSNAP: all groups of all devices from the same instant.
        pub fn read_cells_snapshot(&mut self, source: CellSource, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads aux (or, with `redundant`, RAX) groups: GPIO1..10, VMV, VPV (×25; the VPV
        /// and VMV scalings are **unverified**, see
        /// [`convert::VPV_GAIN`](crate::adbms6830::convert::VPV_GAIN)). The
        /// redundant path measures GPIOs only (ADAX2), so with `redundant` the VMV and VPV
        /// slots are always `NotConverted`.
        pub fn read_aux(&mut self, redundant: bool, out: &mut [AuxValues; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads status A and B: VREF2, ITMP, VD, VA, VRES.
        pub fn read_supplies(&mut self, out: &mut [Reading<Supplies>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads status C (CS flags, conversion counter, supply/system flags).
        pub fn read_status_c(&mut self, out: &mut [Reading<StatusC>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// RDSTATC with ERR = 1: reads status C "with injected error", the latent-fault test
        /// of SPIFLT (ADBMS6830B-DS "Command Bit Descriptions"). The data sheet
        /// text in the notes does not say exactly what the injected read returns; the
        /// virtual chain answers a normal frame with SPIFLT (STCR5 bit 4) set, and a
        /// healthy device is expected to report SPIFLT here — **unverified on silicon**:
        /// characterise it before relying on it. The frame is checked (PEC10, counter) like
        /// every read.
        pub fn read_status_c_injected(&mut self, out: &mut [Reading<StatusC>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads status D (per-cell OV/UV flags).
        pub fn read_status_d(&mut self, out: &mut [Reading<StatusD>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Reads status E (GPI, revision).
        pub fn read_status_e(&mut self, out: &mut [Reading<StatusE>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// RDSID: each device's serial ID.
        pub fn read_serial_ids(&mut self, out: &mut [Reading<SerialId>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// How many devices, counted from device 0, answer RDSID with a good PEC
        /// (≤ [`device_count`](Self::device_count); nothing is set — see
        /// [`detect_device_count`](Self::detect_device_count) to find and set the count).
        pub fn detect_chain_length(&mut self) -> Result<usize, Error<SpiError<B>>>;
        /// SNAP (`true`) or UNSNAP (`false`).
        pub fn snapshot(&mut self, on: bool) -> Result<(), Error<SpiError<B>>>;
        /// CLRCELL / CLRFC / CLRAUX / CLRSPIN.
        pub fn clear(&mut self, what: Clear) -> Result<(), Error<SpiError<B>>>;
    }
}
