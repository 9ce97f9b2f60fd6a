//! Conversions and result reads: cells, die temperatures, bus bar, GPIO ratios, thermistors.

use super::*;

impl<V: Variant, const N: usize, IO: SerialIo> Core<V, N, IO> {
    /// Starts the main ADC in continuous mode (ADC_CTRL1 = MAIN_MODE continuous | MAIN_GO, with
    /// the VCELL low-pass filter for [`ConversionMode::Filtered`]); returns the wait hint.
    pub(crate) async fn start_main_adc(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<IO::Error>> {
        let filtered = mode == ConversionMode::Filtered;
        let mut v = AdcCtrl1::MAIN_MODE_CONTINUOUS | AdcCtrl1::MAIN_GO;
        if filtered {
            v |= AdcCtrl1::LPF_VCELL_EN;
        }
        self.write_all(reg::ADC_CTRL1, &[v.bits()]).await?;
        self.filtered = filtered;
        Ok(Microseconds(if filtered {
            timing::CONVERSION_FILTERED_US
        } else {
            timing::CONVERSION_US
        }))
    }

    /// Reads the VCELL results of the active cells (one read per group, cell 1 first in
    /// `out` per device).
    pub(crate) async fn read_cells(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let c = usize::from(self.cells);
        if out.len() != N * c {
            return Err(Error::InvalidArgument("out.len() != device_count × cells"));
        }
        let mut frames = [[0u8; 32]; N];
        let (verdict, report) = self
            .read_chain(reg::vcell_hi(self.cells), 2 * c, &mut frames)
            .await?;
        for (d, chunk) in out.chunks_mut(c).enumerate() {
            match verdict.get(d).copied().flatten() {
                Some(reason) => fail_all(
                    chunk,
                    DeviceFault {
                        device: d as u8,
                        reason,
                    },
                ),
                None => {
                    let f = frames.get(d).map(|f| &f[..]).unwrap_or(&[]);
                    // The frame holds cell c first (highest address first … cell 1 last).
                    for (k, slot) in chunk.iter_mut().enumerate() {
                        let at = 2 * (c - 1 - k);
                        *slot = match f.get(at..at + 2).and_then(convert::word) {
                            Some(code) => convert::cell_reading(code),
                            None => Reading::Failed(DeviceFault {
                                device: d as u8,
                                reason: FaultReason::Framing,
                            }),
                        };
                    }
                }
            }
        }
        Ok(report)
    }

    /// Reads one 16-bit result register from every device.
    pub(super) async fn read_word_all(
        &mut self,
        register: u16,
        out: &mut [Option<u16>; N],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let mut frames = [[0u8; 2]; N];
        let (verdict, report) = self.read_chain(register, 2, &mut frames).await?;
        for (d, o) in out.iter_mut().enumerate() {
            *o = match verdict.get(d).copied().flatten() {
                Some(_) => None,
                None => frames.get(d).and_then(|f| convert::word(f)),
            };
        }
        Ok(report)
    }

    pub(super) fn fill_words<T: Copy>(
        report: &ChainReport,
        words: &[Option<u16>; N],
        out: &mut [Reading<T>],
        f: impl Fn(u16) -> Reading<T>,
    ) {
        for (d, o) in out.iter_mut().enumerate() {
            *o = match words.get(d).copied().flatten() {
                Some(code) => f(code),
                None => Reading::Failed(DeviceFault {
                    device: d as u8,
                    reason: if report.failed.contains(d) {
                        report
                            .first_fault
                            .filter(|x| x.device as usize == d)
                            .map(|x| x.reason)
                            .unwrap_or(FaultReason::NoResponse)
                    } else {
                        FaultReason::Framing
                    },
                }),
            };
        }
    }

    /// DIETEMP1 of every device.
    pub(crate) async fn read_die_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let mut words = [None; N];
        let report = self.read_word_all(reg::DIETEMP1_HI, &mut words).await?;
        Self::fill_words(&report, &words, out, convert::die_temp_reading);
        Ok(report)
    }

    /// The bus-bar result of every device (µV; 30.52 µV LSB unverified, see
    /// [`convert`](crate::bq79616::convert)).
    pub(crate) async fn read_busbar(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let mut words = [None; N];
        let report = self.read_word_all(reg::BUSBAR_HI, &mut words).await?;
        Self::fill_words(&report, &words, out, |c| {
            if c == convert::NOT_CONVERTED {
                Reading::NotConverted
            } else {
                Reading::Valid(convert::busbar_uv(c))
            }
        });
        Ok(report)
    }

    /// GPIO `gpio` (1…8) as a ratio of TSREF in ppm, per device: the ratiometric thermistor
    /// reading (TSREF must be enabled, CONTROL2\[TSREF_EN\], and the GPIO configured as ADC input).
    /// TSREF and the GPIO come from one frame (TSREF_HI … GPIOn_LO).
    pub(crate) async fn read_gpio_ratio(
        &mut self,
        gpio: u8,
        out: &mut [Reading<u32>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if !(1..=8).contains(&gpio) {
            return Err(Error::InvalidArgument("GPIO 1…8"));
        }
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let count = usize::from(reg::GPIO1_HI - reg::TSREF_HI) + 2 * usize::from(gpio);
        let mut frames = [[0u8; 18]; N];
        let (verdict, report) = self.read_chain(reg::TSREF_HI, count, &mut frames).await?;
        for (d, o) in out.iter_mut().enumerate() {
            *o = match verdict.get(d).copied().flatten() {
                Some(reason) => Reading::Failed(DeviceFault {
                    device: d as u8,
                    reason,
                }),
                None => {
                    let f = frames.get(d).map(|f| &f[..]).unwrap_or(&[]);
                    let t = convert::word(f);
                    let g = f.get(count - 2..).and_then(convert::word);
                    match (t, g) {
                        (Some(t), Some(g)) => match convert::ratio_ppm(g, t) {
                            Some(r) => Reading::Valid(r),
                            None => Reading::NotConverted,
                        },
                        _ => Reading::Failed(DeviceFault {
                            device: d as u8,
                            reason: FaultReason::Framing,
                        }),
                    }
                }
            };
        }
        Ok(report)
    }

    /// GPIO `gpio` of every device as a temperature through the thermistor curve `table`
    /// ([`convert::ntc_temperature`]); a ratio outside the table is [`Reading::NotConverted`].
    pub(crate) async fn read_thermistors(
        &mut self,
        gpio: u8,
        table: &[(u32, MilliCelsius)],
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let mut ratios = [Reading::NotConverted; N];
        let report = self.read_gpio_ratio(gpio, &mut ratios).await?;
        for (o, r) in out.iter_mut().zip(ratios.iter()) {
            *o = match *r {
                Reading::Valid(ppm) => match convert::ntc_temperature(ppm, table) {
                    Some(t) => Reading::Valid(t),
                    None => Reading::NotConverted,
                },
                Reading::NotConverted => Reading::NotConverted,
                Reading::Failed(f) => Reading::Failed(f),
            };
        }
        Ok(report)
    }

    pub(super) async fn measure(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N * usize::from(self.cells) {
            return Err(Error::InvalidArgument("out.len() != device_count × cells"));
        }
        let hint = self.start_main_adc(mode).await?;
        self.io.delay_us(hint.0).await;
        self.read_cells(out).await
    }
}

twins! {
    serial impl[V: Variant, const N: usize] Bq79616<V, N> => core {
        /// Starts the main ADC in continuous mode; returns the wait hint.
        pub fn start_main_adc(&mut self, mode: ConversionMode) -> Result<Microseconds, Error<SerialError<B>>>;
        /// Reads the active cells of every device: `out.len() == N × cells`, device 0 first,
        /// cell 1 first. 0x8000 (never converted, inactive) is [`Reading::NotConverted`].
        pub fn read_cells(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SerialError<B>>>;
        /// DIETEMP1 of every device (`out.len() == N`).
        pub fn read_die_temperatures(&mut self, out: &mut [Reading<MilliCelsius>]) -> Result<ChainReport, Error<SerialError<B>>>;
        /// Bus-bar result of every device (`out.len() == N`; LSB unverified).
        pub fn read_busbar(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SerialError<B>>>;
        /// GPIO `gpio` (1…8) / TSREF in ppm per device (ratiometric thermistor reading).
        pub fn read_gpio_ratio(&mut self, gpio: u8, out: &mut [Reading<u32>]) -> Result<ChainReport, Error<SerialError<B>>>;
        /// GPIO `gpio` of every device as a temperature through the thermistor curve `table`
        /// ((ratio ppm, temperature) points, see [`convert::ntc_temperature`]).
        pub fn read_thermistors(&mut self, gpio: u8, table: &[(u32, MilliCelsius)], out: &mut [Reading<MilliCelsius>]) -> Result<ChainReport, Error<SerialError<B>>>;
    }
}
