//! Diagnostics: S-pin redundancy, open wire, self tests, ADC overlap and MUX tests.

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn s_pin_redundancy(
        &mut self,
        mode: AdcMode,
        max_diff: MicroVolts,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        Self::require_s_groups()?;
        check_len(out.len(), self.n())?;
        if max_diff.0 < 0 {
            return Err(Error::Config(ConfigError::OutOfRange {
                field: "S-pin tolerance (µV)",
                value: i64::from(max_diff.0),
                min: 0,
                max: i64::from(i32::MAX),
            }));
        }
        if !self.cfg.iter().all(|c| c.sconv) {
            return Err(Error::Config(ConfigError::Conflict(
                "S-pin redundancy needs SCONV = 1 (set_sconv, write_config)",
            )));
        }
        self.wake_idle().await?;
        // SCONV must be set on the chips, not only in the held copy (a chip that slept, or a
        // `set_sconv` not yet written, has SCONV = 0 and converts no S voltages): write the
        // held configuration and read it back per device.
        self.write_config().await?;
        let n = self.n();
        let mut chip = [Reading::NotConverted; N];
        let chip = chip.get_mut(..n).unwrap_or(&mut []);
        let mut report = self.read_config(chip).await?;
        for (d, c) in chip.iter().enumerate() {
            if let Reading::Valid(c) = c {
                if !c.sconv {
                    return Err(Error::Verify(VerifyMismatch {
                        device: d as u8,
                        register: "CFGR",
                        offset: 5,
                        expected: 0x08,
                        actual: 0x00,
                    }));
                }
            }
        }
        // Clear first: a lost start then reads NotConverted, not the previous voltages.
        self.clear_cells().await?;
        let t = self.start_cells(mode, false, CellSelect::ALL).await?;
        self.settle(t).await?;
        // The LTC6810 has 6 cells and 6 S voltages per device (checked above).
        let mut c = [[Reading::NotConverted; 6]; N];
        let mut s = [[Reading::NotConverted; 6]; N];
        let cells = c.get_mut(..n).unwrap_or(&mut []).as_flattened_mut();
        report.merge(self.read_cells(cells).await?);
        let svs = s.get_mut(..n).unwrap_or(&mut []).as_flattened_mut();
        report.merge(self.read_s_voltages(svs).await?);
        for ((o, (cd, sd)), k) in out.iter_mut().zip(c.iter().zip(&s)).zip(chip.iter()) {
            *o = match k {
                // SCONV not confirmed on this chip: its S voltages prove nothing.
                Reading::Failed(f) => Reading::Failed(*f),
                _ => convert::s_pin_mismatches(cd, sd, max_diff),
            };
        }
        Ok(report)
    }

    pub(super) async fn open_wire(
        &mut self,
        mode: AdcMode,
        repetitions: u8,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        self.wake_idle().await?;
        let reps = repetitions.max(2);
        let mut pu = [[[0u8; 8]; N]; 6];
        let mut pd = [[[0u8; 8]; N]; 6];
        for (pull, store) in [(Pull::Up, &mut pu), (Pull::Down, &mut pd)] {
            for _ in 0..reps {
                let t = self
                    .start_open_wire(mode, pull, false, CellSelect::ALL)
                    .await?;
                self.settle(t).await?;
            }
            self.read_cell_frames(store).await?;
        }
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let mut cu = [0u16; 18];
            let mut cd = [0u16; 18];
            let r =
                Self::cell_codes(&pu, d, &mut cu).and_then(|_| Self::cell_codes(&pd, d, &mut cd));
            *o = match r {
                Ok(()) => {
                    let n = V::CELLS.min(18);
                    let (u, dn) = (cu.get(..n).unwrap_or(&[]), cd.get(..n).unwrap_or(&[]));
                    // Fault codes fail the device instead of entering the evaluation.
                    let reading = convert::open_wire_reading(u, dn, d as u8);
                    if let Reading::Failed(f) = reading {
                        report.record(f);
                    }
                    reading
                }
                Err(f) => {
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(super) async fn self_test_cells(
        &mut self,
        mode: AdcMode,
        st: SelfTest,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        self.wake_idle().await?;
        self.send(&command::cvst(mode, st)).await?;
        let t = self.conversion_time(Conversion::Cells(CellSelect::ALL), mode);
        self.settle(t).await?;
        let expected = self.expected(st, mode);
        let mut groups = [[[0u8; 8]; N]; 6];
        self.read_cell_frames(&mut groups).await?;
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let mut codes = [0u16; 18];
            *o = match Self::cell_codes(&groups, d, &mut codes) {
                Ok(()) => Reading::Valid(mismatches(codes.iter().take(V::CELLS), expected)),
                Err(f) => {
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(super) fn expected(&self, st: SelfTest, mode: AdcMode) -> u16 {
        let adcopt = self.cfg.first().map(|c| c.adcopt).unwrap_or(false);
        command::self_test_expected(st, mode, adcopt)
    }

    pub(super) async fn self_test_aux(
        &mut self,
        mode: AdcMode,
        st: SelfTest,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        self.wake_idle().await?;
        self.send(&command::axst(mode, st)).await?;
        let t = self.conversion_time(Conversion::Gpio(GpioSelect::ALL), mode);
        self.settle(t).await?;
        let expected = self.expected(st, mode);
        out.iter_mut().for_each(|o| *o = Reading::Valid(0));
        let mut report = ChainReport::OK;
        for (g, cmd) in command::RDAUX.iter().enumerate().take(V::AUX_GROUPS) {
            let mut frames = [[0u8; 8]; N];
            let v = self.read_raw(cmd, &mut frames).await?;
            report.merge(self.report(&v));
            for (d, ((o, fr), verdict)) in out.iter_mut().zip(&frames).zip(&v).enumerate() {
                let data = data6(fr);
                match (verdict, &mut *o) {
                    (Err(reason), _) => {
                        *o = Reading::Failed(DeviceFault {
                            device: d as u8,
                            reason: *reason,
                        })
                    }
                    (Ok(_), Reading::Valid(m)) => {
                        for i in 0..3 {
                            let ch = 3 * g + i;
                            if ch < V::AUX_CHANNELS && convert::word(&data, i) != expected {
                                *m |= 1 << ch;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(report)
    }

    pub(super) async fn self_test_status(
        &mut self,
        mode: AdcMode,
        st: SelfTest,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        self.wake_idle().await?;
        self.send(&command::statst(mode, st)).await?;
        let t = self.conversion_time(Conversion::Status(StatusSelect::All), mode);
        self.settle(t).await?;
        let e = self.expected(st, mode);
        let mut a = [[0u8; 8]; N];
        let mut b = [[0u8; 8]; N];
        let va = self.read_raw(&command::RDSTATA, &mut a).await?;
        let vb = self.read_raw(&command::RDSTATB, &mut b).await?;
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let (Some(fa), Some(fb), Some(xa), Some(xb)) =
                (a.get(d), b.get(d), va.get(d), vb.get(d))
            else {
                continue;
            };
            *o = match (xa, xb) {
                (Ok(_), Ok(_)) => {
                    // Bits: 0 SC, 1 ITMP, 2 VA, 3 VD.
                    let (da, db) = (data6(fa), data6(fb));
                    let words = [
                        convert::word(&da, 0),
                        convert::word(&da, 1),
                        convert::word(&da, 2),
                        convert::word(&db, 0),
                    ];
                    Reading::Valid(mismatches(words.iter(), e))
                }
                (Err(r), _) | (_, Err(r)) => {
                    let f = DeviceFault {
                        device: d as u8,
                        reason: *r,
                    };
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(super) async fn overlap_test(
        &mut self,
        mode: AdcMode,
        out: &mut [Reading<bool>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        self.wake_idle().await?;
        let t = self.start_overlap(mode, false).await?;
        self.settle(t).await?;
        let mut groups = [[[0u8; 8]; N]; 6];
        self.read_cell_frames(&mut groups).await?;
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let mut codes = [0u16; 18];
            *o = match Self::cell_codes(&groups, d, &mut codes) {
                Ok(()) => Reading::Valid(convert::overlap_words::<V>().iter().all(|&(g, a, b)| {
                    let ca = codes
                        .get(3 * g + a)
                        .copied()
                        .unwrap_or(convert::NOT_CONVERTED);
                    let cb = codes
                        .get(3 * g + b)
                        .copied()
                        .unwrap_or(convert::NOT_CONVERTED);
                    convert::overlap_ok(ca, cb, convert::OVERLAP_MAX_DELTA_CODES)
                })),
                Err(f) => {
                    report.record(f);
                    Reading::Failed(f)
                }
            };
        }
        Ok(report)
    }

    pub(super) async fn mux_test(
        &mut self,
        out: &mut [Reading<bool>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        self.wake_idle().await?;
        self.send(&command::DIAGN).await?;
        self.settle(Microseconds(command::T_DIAGN_US)).await?;
        self.read_mapped(&command::RDSTATB, out, |d, _| d[5] & 0x02 == 0)
            .await
    }
}

pub(super) fn mismatches<'a>(codes: impl Iterator<Item = &'a u16>, expected: u16) -> u32 {
    codes.enumerate().fold(0, |m, (i, &c)| {
        if c != expected && i < 32 {
            m | 1 << i
        } else {
            m
        }
    })
}

twins! {
    spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core {
        /// LTC6810 only: the S-pin redundancy check. Writes the held configuration and reads
        /// it back per device (SCONV must be set on each chip, not only in the driver's copy:
        /// a chip that slept has lost it), clears the cell registers (CLRCELL), converts all
        /// cells with ADCV (`mode`, DCP = 0), waits, reads the cells and the S voltages and
        /// compares them per device with [`convert::s_pin_mismatches`]: `out[d]`
        /// (`out.len() == N`) is `Valid(mask)` with bit `k` set when |C(k+1) − S(k+1)| >
        /// `max_diff` (0 = both paths agree), `Failed` when a frame of that device failed
        /// (its configuration read-back included: SCONV unconfirmed), `NotConverted` when a
        /// result of that device was not converted. The report merges every read.
        ///
        /// Refused before anything is sent: other parts ([`ConfigError::Unsupported`]), a
        /// negative `max_diff` ([`ConfigError::OutOfRange`]), and a held configuration with
        /// SCONV = 0 on any device ([`ConfigError::Conflict`]; call
        /// [`set_sconv(true)`](Self::set_sconv) first). A chip whose good read-back shows
        /// SCONV = 0 after the write stops the check with [`Error::Verify`] naming it.
        ///
        /// Not verified against the data sheet (only vendor code is in the notes): that the
        /// ADCV conversion is what fills the S groups when SCONV = 1 (the vendor sketch
        /// `DC2515.ino` sets SCONV and only ever starts ADCV before reading them), whether
        /// CLRCELL also clears the S groups (if it does not, an S path that stopped
        /// converting shows its previous values, not `NotConverted`), and the expected
        /// C-to-S tolerance.
        pub fn s_pin_redundancy(&mut self, mode: AdcMode, max_diff: MicroVolts, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// The data-sheet open-wire check: ADOW pull-up `repetitions` times (at least 2; see
        /// LTC6812-DS Table 14 for C-pin capacitance), read; pull-down likewise; evaluate with
        /// [`convert::open_wires`]. `out[d]` = mask of open wires C(w) (bit w); a device
        /// answering any code above the full scale 0xDFFF (a chip fault code) is
        /// [`Reading::Failed`], one answering 0xFFFF `NotConverted` (see
        /// [`convert::open_wire_reading`]).
        pub fn open_wire(&mut self, mode: AdcMode, repetitions: u8, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// CVST: cell self test; `out[d]` = mask of cells not reading the expected pattern
        /// (0 = pass).
        pub fn self_test_cells(&mut self, mode: AdcMode, st: SelfTest, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// AXST: auxiliary self test; `out[d]` = mask of auxiliary channels failing.
        pub fn self_test_aux(&mut self, mode: AdcMode, st: SelfTest, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// STATST: status self test; `out[d]` bits 0 SC, 1 ITMP, 2 VA, 3 VD failing.
        pub fn self_test_status(&mut self, mode: AdcMode, st: SelfTest, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// ADOL overlap test; `out[d]` = `true` if both ADCs agree within
        /// [`convert::OVERLAP_MAX_DELTA_CODES`].
        pub fn overlap_test(&mut self, mode: AdcMode, out: &mut [Reading<bool>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// DIAGN then STATB: `out[d]` = `true` if MUXFAIL is clear.
        pub fn mux_test(&mut self, out: &mut [Reading<bool>]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
