//! Configuration: the held per-device configuration, its setters (validated, returning the
//! achieved value), and the verified write / read-back of CFGR(A/B).

use super::*;

impl<V: Variant, const N: usize, IO> Ltc681x<V, N, IO> {
    /// The configuration held for `device` (what `write_config` sends).
    pub fn config(&self, device: usize) -> Option<&DeviceConfig> {
        self.core.cfg.get(device)
    }

    /// Replaces the configuration of `device` after checking it encodes for this part.
    pub fn set_config(&mut self, device: usize, cfg: DeviceConfig) -> Result<(), ConfigError> {
        cfg.encode::<V>()?;
        let slot = self
            .core
            .cfg
            .get_mut(device)
            .ok_or(ConfigError::OutOfRange {
                field: "device index",
                value: device as i64,
                min: 0,
                max: N as i64 - 1,
            })?;
        *slot = cfg;
        Ok(())
    }

    /// Sets the undervoltage threshold of every device; returns the threshold achieved
    /// (rounded up to a 1.6 mV step, see [`register::uv_threshold`]).
    pub fn set_undervoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = register::uv_threshold(v)?;
        self.core.cfg.iter_mut().for_each(|c| c.vuv = code);
        Ok(achieved)
    }

    /// Sets the overvoltage threshold of every device; returns the threshold achieved
    /// (rounded down, see [`register::ov_threshold`]).
    pub fn set_overvoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = register::ov_threshold(v)?;
        self.core.cfg.iter_mut().for_each(|c| c.vov = code);
        Ok(achieved)
    }

    /// REFON for every device: keep the references up between conversions (no tREFUP added
    /// to conversion waits).
    pub fn set_refon(&mut self, on: bool) {
        self.core.cfg.iter_mut().for_each(|c| c.refon = on);
    }

    /// ADCOPT for every device (alternate ADC rates, see [`AdcMode`]).
    pub fn set_adcopt(&mut self, on: bool) {
        self.core.cfg.iter_mut().for_each(|c| c.adcopt = on);
    }

    /// GPIO pull-downs of `device`: bit `k` set = GPIO `k + 1` pull-down **off**. Rejects
    /// bits for GPIOs the part lacks.
    pub fn set_gpio_pulldowns_off(&mut self, device: usize, mask: u16) -> Result<(), ConfigError> {
        if u32::from(mask) >> V::GPIOS != 0 {
            return Err(ConfigError::OutOfRange {
                field: "GPIO pull-down mask",
                value: i64::from(mask),
                min: 0,
                max: (1i64 << V::GPIOS) - 1,
            });
        }
        let mut c = *self.config(device).ok_or(ConfigError::OutOfRange {
            field: "device index",
            value: device as i64,
            min: 0,
            max: N as i64 - 1,
        })?;
        c.gpio_pulldown_off = mask;
        self.set_config(device, c)
    }

    /// Discharge switches of `device` (bit `k` = cell `k + 1`), without sending. Rejects
    /// cells the part lacks.
    pub fn set_discharge(&mut self, device: usize, mask: u32) -> Result<(), ConfigError> {
        let mut c = *self.config(device).ok_or(ConfigError::OutOfRange {
            field: "device index",
            value: device as i64,
            min: 0,
            max: N as i64 - 1,
        })?;
        c.dcc = mask;
        self.set_config(device, c)
    }

    /// Discharge timeout of every device (DCTO). With `Disabled` the switches open at the
    /// watchdog timeout (~2 s without a valid command); with a timeout (and the DTEN pin
    /// high) they stay on through the watchdog timeout until the timer expires.
    pub fn set_discharge_timeout(&mut self, t: DischargeTimeout) {
        self.core.cfg.iter_mut().for_each(|c| c.dcto = t);
    }

    /// DTMEN (discharge timer monitor) for every device; not on the LTC6811.
    pub fn set_dtmen(&mut self, on: bool) -> Result<(), ConfigError> {
        if matches!(V::LAYOUT, crate::ltc681x::ConfigLayout::Ltc6811) && on {
            return Err(ConfigError::Unsupported("DTMEN (LTC6811)"));
        }
        self.core.cfg.iter_mut().for_each(|c| c.dtmen = on);
        Ok(())
    }

    /// SCONV for every device (LTC6810 only; LTC6810 CFGR5 bit 3, Linduino `LTC6810.cpp`
    /// `LTC6810_set_cfgr_sconv`): "Enable Cell Measurement
    /// Redundancy using S Pin" (Linduino `LTC6810.h`). With it written, the cell conversion
    /// (ADCV) also measures each cell through its S pin into the S-voltage groups (inferred
    /// from the vendor sketch `DC2515.ino`, not verified against the data sheet: see the
    /// [module docs](crate::ltc681x)), read with [`read_s_voltages`](Self::read_s_voltages) and
    /// compared by [`s_pin_redundancy`](Self::s_pin_redundancy). Takes effect with the next
    /// [`write_config`](Self::write_config). Other parts: `true` is
    /// [`ConfigError::Unsupported`] (they have no such bit); `false` is accepted.
    ///
    /// ```
    /// use bms_afe::io::Blocking;
    /// use bms_afe::ltc681x::{Ltc681x, Ltc6810, Ltc6811};
    /// # use embedded_hal_mock::eh1::{delay::NoopDelay, spi::Mock};
    /// # let (spi, spi2) = (Mock::<u8>::new(&[]), Mock::<u8>::new(&[]));
    /// let mut a = Ltc681x::<Ltc6810, 2, _>::new(Blocking::new(spi, NoopDelay::new()));
    /// a.set_sconv(true).unwrap();
    /// // LTC6810 CFGR5 bit 3.
    /// assert_eq!(a.config(1).unwrap().encode::<Ltc6810>().unwrap()[0][5] & 0x08, 0x08);
    /// let mut b = Ltc681x::<Ltc6811, 1, _>::new(Blocking::new(spi2, NoopDelay::new()));
    /// assert!(b.set_sconv(true).is_err());
    /// # a.release().release().0.done();
    /// # b.release().release().0.done();
    /// ```
    pub fn set_sconv(&mut self, on: bool) -> Result<(), ConfigError> {
        if !matches!(V::LAYOUT, crate::ltc681x::ConfigLayout::Ltc6810) && on {
            return Err(ConfigError::Unsupported("SCONV (LTC6810 only)"));
        }
        self.core.cfg.iter_mut().for_each(|c| c.sconv = on);
        Ok(())
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) fn encoded(&self) -> Result<[[[u8; 6]; N]; 2], Error<IO::Error>> {
        let mut out = [[[0u8; 6]; N]; 2];
        for (d, c) in self.cfg.iter().enumerate() {
            let [a, b] = c.encode::<V>().map_err(Error::Config)?;
            if let Some(x) = out[0].get_mut(d) {
                *x = a;
            }
            if let Some(x) = out[1].get_mut(d) {
                *x = b;
            }
        }
        Ok(out)
    }

    pub(super) async fn write_config(&mut self) -> Result<(), Error<IO::Error>> {
        let [a, b] = self.encoded()?;
        self.write_raw(&command::WRCFGA, &a).await?;
        if has_cfgb::<V>() {
            self.write_raw(&command::WRCFGB, &b).await?;
        }
        Ok(())
    }

    pub(super) async fn verify_config(&mut self) -> Result<(), Error<IO::Error>> {
        let written = self.encoded()?;
        let masks = register::verify_mask::<V>();
        let groups: &[([u8; 4], &'static str)] = if has_cfgb::<V>() {
            &[(command::RDCFGA, "CFGRA"), (command::RDCFGB, "CFGRB")]
        } else {
            &[(command::RDCFGA, "CFGR")]
        };
        for (gi, (cmd, name)) in groups.iter().enumerate() {
            let mut frames = [[0u8; 8]; N];
            let v = self.read_raw(cmd, &mut frames).await?;
            self.report(&v).into_result::<IO::Error>()?;
            let (Some(w), Some(mask)) = (written.get(gi), masks.get(gi)) else {
                continue;
            };
            for (d, (fr, wd)) in frames.iter().zip(w).take(self.n()).enumerate() {
                for (i, ((r, x), m)) in fr.iter().zip(wd).zip(mask).enumerate() {
                    if r & m != x & m {
                        return Err(Error::Verify(VerifyMismatch {
                            device: d as u8,
                            register: name,
                            offset: i as u8,
                            expected: x & m,
                            actual: r & m,
                        }));
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) async fn write_config_verified(&mut self) -> Result<(), Error<IO::Error>> {
        self.write_config().await?;
        self.verify_config().await
    }

    pub(super) async fn read_config(
        &mut self,
        out: &mut [Reading<DeviceConfig>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), self.n())?;
        let mut a = [[0u8; 8]; N];
        let mut b = [[0u8; 8]; N];
        let va = self.read_raw(&command::RDCFGA, &mut a).await?;
        let vb = if has_cfgb::<V>() {
            self.read_raw(&command::RDCFGB, &mut b).await?
        } else {
            [Ok(0); N]
        };
        let mut report = ChainReport::OK;
        for (d, o) in out.iter_mut().enumerate() {
            let (Some(fa), Some(fb), Some(xa), Some(xb)) =
                (a.get(d), b.get(d), va.get(d), vb.get(d))
            else {
                continue;
            };
            *o = match (xa, xb) {
                (Ok(_), Ok(_)) => {
                    Reading::Valid(DeviceConfig::decode::<V>(&[data6(fa), data6(fb)]))
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
}

twins! {
    spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core {
        /// Writes the held configuration: WRCFGA (and WRCFGB on LTC6812/6813/ADBMS1818), one
        /// CS frame each, device 0 = nearest the host. Invalid configuration is rejected with
        /// [`Error::Config`] before anything is sent.
        pub fn write_config(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Reads the configuration groups back and compares them with the held configuration,
        /// masking bits that do not read back (DTEN, MUTE, GPIO pin levels, DCTO remaining,
        /// see [`register::verify_mask`]). A difference is [`Error::Verify`] naming device,
        /// register and byte; a bad PEC is [`Error::Integrity`].
        pub fn verify_config(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// [`write_config`](Self::write_config) then [`verify_config`](Self::verify_config).
        pub fn write_config_verified(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Reads and decodes every device's configuration (`out.len() == N`).
        pub fn read_config(&mut self, out: &mut [Reading<DeviceConfig>]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
