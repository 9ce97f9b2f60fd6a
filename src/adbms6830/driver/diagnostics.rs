//! Diagnostics: flag clearing, C/S redundancy, cell and aux open-wire checks.

use super::*;

/// The ADC path an open-wire check uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AdcPath {
    /// C-ADC (ADCV with OW bits).
    C,
    /// S-ADC (ADSV with OW bits) — the data sheet's recommended path.
    S,
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(crate) async fn clear_flags(&mut self, flags: [u8; 6]) -> Result<(), E<IO>> {
        self.write6(&cmd::CLRFLAG, &[flags; N]).await
    }

    pub(crate) async fn clear_ovuv(&mut self) -> Result<(), E<IO>> {
        self.write6(&cmd::CLOVUV, &[[0xFF; 6]; N]).await
    }

    pub(crate) async fn redundancy_check(
        &mut self,
        out: &mut [Reading<u32>; N],
    ) -> Result<ChainReport, E<IO>> {
        let mark = self.taint_mark();
        self.wake_idle().await?;
        let hint = self
            .start_cell_adc(Adcv {
                redundant: true,
                ..Adcv::SINGLE
            })
            .await?;
        self.settle(hint).await?;
        let mut c = [[Reading::NotConverted; crate::adbms6830::variant::MAX_CELLS]; N];
        let mut s = [[Reading::NotConverted; crate::adbms6830::variant::MAX_CELLS]; N];
        // Group reads, or with read-all on the two 34-byte read-alls RDCVALL and RDSALL —
        // never the 66-byte RDCSALL, whose PEC10 misses some double-bit errors (see the
        // module documentation, "Error detection per frame length").
        let mut report = self.read_cells_into(CellSource::C, &mut c).await?;
        report.merge(self.read_cells_into(CellSource::S, &mut s).await?);
        let mut st = [Reading::NotConverted; N];
        report.merge(self.read_status_c(&mut st).await?);
        for (d, o) in out.iter_mut().enumerate() {
            let th = self.cfga.get(d).map(|a| a.cth.microvolts()).unwrap_or(0);
            *o = match (c.get(d), s.get(d), st.get(d)) {
                (Some(cd), Some(sd), Some(Reading::Valid(stc))) => {
                    compare_cs(&cd[..V::CELLS], &sd[..V::CELLS], th)
                        .map(|m| m | u32::from(stc.cs_fault))
                }
                (_, _, Some(Reading::Failed(f))) => Reading::Failed(*f),
                _ => Reading::NotConverted,
            };
        }
        // Capacity slots past the chain: no device, no verdict.
        clear_past(out, self.n());
        let tainted = self.tainted(mark);
        taint(&tainted, out.chunks_mut(1), 1, &mut report);
        Ok(report)
    }

    pub(super) async fn read_cells_into(
        &mut self,
        source: CellSource,
        out: &mut [[Reading<MicroVolts>; crate::adbms6830::variant::MAX_CELLS]; N],
    ) -> Result<ChainReport, E<IO>> {
        self.read_cells_strided(
            source,
            out.as_flattened_mut(),
            crate::adbms6830::variant::MAX_CELLS,
        )
        .await
    }

    pub(crate) async fn cell_open_wire(
        &mut self,
        path: AdcPath,
        out: &mut [Reading<u32>; N],
    ) -> Result<ChainReport, E<IO>> {
        let mark = self.taint_mark();
        self.wake_idle().await?;
        let mut base = [[Reading::NotConverted; crate::adbms6830::variant::MAX_CELLS]; N];
        let mut odd = base;
        let mut even = base;
        let mut report = ChainReport::OK;
        for (ow, buf) in [
            (OpenWire::Off, &mut base),
            (OpenWire::Odd, &mut odd),
            (OpenWire::Even, &mut even),
        ] {
            let (hint, source) = match path {
                AdcPath::C => (
                    self.start_cell_adc(Adcv {
                        open_wire: ow,
                        ..Adcv::SINGLE
                    })
                    .await?,
                    CellSource::C,
                ),
                AdcPath::S => (
                    self.start_s_adc(Adsv {
                        open_wire: ow,
                        ..Adsv::default()
                    })
                    .await?,
                    CellSource::S,
                ),
            };
            self.settle(hint).await?;
            report.merge(self.read_cells_into(source, buf).await?);
        }
        for (d, o) in out.iter_mut().enumerate() {
            let (Some(b), Some(od), Some(ev)) = (base.get(d), odd.get(d), even.get(d)) else {
                continue;
            };
            *o = open_wire_mask(
                &b[..V::CELLS],
                &od[..V::CELLS],
                &ev[..V::CELLS],
                self.ow_permille,
            );
        }
        // Capacity slots past the chain: no device, no verdict.
        clear_past(out, self.n());
        let tainted = self.tainted(mark);
        taint(&tainted, out.chunks_mut(1), 1, &mut report);
        Ok(report)
    }

    pub(crate) async fn aux_open_wire(
        &mut self,
        threshold: MicroVolts,
        out: &mut [Reading<u16>; N],
    ) -> Result<ChainReport, E<IO>> {
        let mark = self.taint_mark();
        self.wake_idle().await?;
        let mut up = [[Reading::NotConverted; 12]; N];
        let mut down = up;
        let mut report = ChainReport::OK;
        for (pull, buf) in [(cmd::Pull::Up, &mut up), (cmd::Pull::Down, &mut down)] {
            let hint = self
                .start_aux(Adax {
                    channel: AuxChannel::All,
                    open_wire: Some(pull),
                })
                .await?;
            self.settle(hint).await?;
            report.merge(self.read_aux(false, buf).await?);
        }
        for ((o, u), dn) in out.iter_mut().zip(up.iter()).zip(down.iter()) {
            let mut mask = 0u16;
            let mut verdict = None;
            for (k, (a, b)) in u.iter().zip(dn.iter()).take(10).enumerate() {
                match (a, b) {
                    (Reading::Valid(x), Reading::Valid(y))
                        if x.0.saturating_sub(y.0) > threshold.0 =>
                    {
                        mask |= 1 << k;
                    }
                    (Reading::Failed(f), _) | (_, Reading::Failed(f)) => verdict = Some(*f),
                    _ => {}
                }
            }
            *o = match verdict {
                Some(f) => Reading::Failed(f),
                None => Reading::Valid(mask),
            };
        }
        // Capacity slots past the chain: no device, no verdict.
        clear_past(out, self.n());
        let tainted = self.tainted(mark);
        taint(&tainted, out.chunks_mut(1), 1, &mut report);
        Ok(report)
    }
}

/// Host-side C-vs-S comparison: bit `k` set where both are valid and differ by more than
/// `threshold_uv`. A failed cell fails the device.
pub fn compare_cs(
    c: &[Reading<MicroVolts>],
    s: &[Reading<MicroVolts>],
    threshold_uv: i32,
) -> Reading<u32> {
    let mut mask = 0u32;
    for (k, (a, b)) in c.iter().zip(s.iter()).enumerate() {
        match (a, b) {
            (Reading::Valid(x), Reading::Valid(y)) => {
                if x.0.abs_diff(y.0) > threshold_uv.unsigned_abs() && k < 32 {
                    mask |= 1 << k;
                }
            }
            (Reading::Failed(f), _) | (_, Reading::Failed(f)) => return Reading::Failed(*f),
            _ => return Reading::NotConverted,
        }
    }
    Reading::Valid(mask)
}

/// Default open-wire threshold of [`open_wire_mask`]: 500 ‰ (a pulled reading below half of
/// the normal reading means an open wire).
///
/// Why 500 ‰: the data sheet gives no number. It says (ADBMS6830 data sheet Rev. SpA, "Cell
/// Open Wire Detection") that with the open-wire current on, an intact channel reads
/// ≈10/12 (833 ‰, C-ADC path) or ≈9/10 (900 ‰, S-ADC path) of the cell voltage, while a
/// broken wire lets the input capacitor discharge fully (towards 0 ‰). 500 ‰ lies between
/// the two outcomes with about 330 ‰ of margin on the intact side (cell voltage moving
/// between the base and the pulled conversions, ratio tolerance) and 500 ‰ on the open side
/// (a capacitor not fully discharged by the end of the conversion). Use
/// [`Adbms6830::set_open_wire_threshold`] to change it once characterised on your board.
pub const OPEN_WIRE_DEFAULT_PERMILLE: u16 = 500;
/// Largest accepted open-wire threshold: 750 ‰ keeps ≥ 80 ‰ below the intact C-path ratio
/// (≈833 ‰), so intact cells are not flagged.
pub const OPEN_WIRE_MAX_PERMILLE: u16 = 750;

/// Cell open-wire decision: cell `k` (bit `k`) is open when its reading with its channel's
/// current source on (odd channels in `odd`, even in `even`; cell 1 is odd) falls below
/// `permille`/1000 of its reading with the sources off, or to 0 V or below (1.5 V − 10 000
/// LSB). See [`OPEN_WIRE_DEFAULT_PERMILLE`] for the data-sheet facts and the default.
pub fn open_wire_mask(
    base: &[Reading<MicroVolts>],
    odd: &[Reading<MicroVolts>],
    even: &[Reading<MicroVolts>],
    permille: u16,
) -> Reading<u32> {
    let mut mask = 0u32;
    for (k, b) in base.iter().enumerate() {
        let pulled = if k % 2 == 0 { odd.get(k) } else { even.get(k) };
        match (b, pulled) {
            (Reading::Valid(v), Some(Reading::Valid(p))) => {
                let low = i64::from(p.0) * 1000 < i64::from(v.0) * i64::from(permille);
                if (low || p.0 <= 0) && k < 32 {
                    mask |= 1 << k;
                }
            }
            (Reading::Failed(f), _) | (_, Some(Reading::Failed(f))) => return Reading::Failed(*f),
            _ => return Reading::NotConverted,
        }
    }
    Reading::Valid(mask)
}

twins! {
    spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core {
        /// CLRFLAG with the given flag bytes (same on every device).
        pub fn clear_flags(&mut self, flags: [u8; 6]) -> Result<(), Error<SpiError<B>>>;
        /// CLOVUV: clears every cell's OV/UV flags (data bytes all 1s; the data layout is
        /// assumed to mirror STATD — unverified).
        pub fn clear_ovuv(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Redundancy check: ADCV RD=1 single shot, wait, read C and S results and STATC;
        /// bit `k` set where |C − S| > CTH (host comparison) or CS`k+1`FLT is set. C and S
        /// come from the group reads (default), or with read-all on
        /// ([`Adbms6830::set_read_all`]) from RDCVALL and RDSALL, two 34-byte frames per
        /// device whose PEC10 is as strong as a group frame's. It never uses the single
        /// 66-byte RDCSALL frame ([`Adbms6830::read_cells_cs`]): PEC10 misses some double-bit
        /// errors at that length (module documentation, "Error detection per frame
        /// length").
        pub fn redundancy_check(&mut self, out: &mut [Reading<u32>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Cell open-wire check on one path: base conversion, then odd and even channels
        /// with the open-wire current on, decided by [`open_wire_mask`] with the threshold
        /// of [`Adbms6830::set_open_wire_threshold`]: bit `k` = cell `k + 1` has an open
        /// sense wire.
        pub fn cell_open_wire(&mut self, path: AdcPath, out: &mut [Reading<u32>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// AUX open-wire check: ADAX all with pull-up, then pull-down; bit `k` = GPIO`k+1`
        /// moved by more than `threshold` (floating input).
        pub fn aux_open_wire(&mut self, threshold: MicroVolts, out: &mut [Reading<u16>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
