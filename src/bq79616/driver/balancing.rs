//! Cell balancing: settings, per-cell timers, pause and resume.

use super::*;

/// Balancing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BalanceConfig {
    /// Timer code written to CB_CELLn_CTRL of every cell to balance (see
    /// [`balance_timer`](crate::bq79616::register::balance_timer)).
    pub timer_code: u8,
    /// BAL_CTRL2\[FLTSTOP_EN\]: stop on any unmasked fault.
    pub stop_on_fault: bool,
    /// BAL_CTRL2\[OTCB_EN\]: pause on thermistor overtemperature.
    pub thermal_pause: bool,
    /// BAL_CTRL2\[AUTO_BAL\]: the device alternates odd and even cells itself, switching every
    /// `duty_code` period; adjacent cells may then be selected together. Off: the driver
    /// refuses adjacent cells.
    pub odd_even: bool,
    /// BAL_CTRL1\[DUTY2:0\] (see [`DUTY_TIMES_S`](crate::bq79616::register::DUTY_TIMES_S)).
    pub duty_code: u8,
}

impl BalanceConfig {
    /// Balancing for at most `seconds` (rounded **down** to a timer step; at least 10 s),
    /// stopping on faults, with thermal pause. Returns the config and the achieved seconds.
    pub fn for_seconds(seconds: u32) -> Result<(Self, u32), ConfigError> {
        let (code, achieved) = crate::bq79616::register::balance_timer(seconds);
        if code == 0 {
            return Err(ConfigError::OutOfRange {
                field: "balancing time (s)",
                value: i64::from(seconds),
                min: 10,
                max: 36_000,
            });
        }
        Ok((
            Self {
                timer_code: code,
                ..Self::default()
            },
            achieved,
        ))
    }

    /// Automatic odd/even balancing switching every `duty_seconds` (rounded down to a DUTY
    /// step, at least 5 s). Returns the config and the achieved duty time.
    pub fn with_odd_even(mut self, duty_seconds: u32) -> Result<(Self, u32), ConfigError> {
        let (code, achieved) =
            crate::bq79616::register::duty(duty_seconds).ok_or(ConfigError::OutOfRange {
                field: "odd/even duty time (s)",
                value: i64::from(duty_seconds),
                min: 5,
                max: 1_800,
            })?;
        self.odd_even = true;
        self.duty_code = code;
        Ok((self, achieved))
    }
}

impl Default for BalanceConfig {
    /// 300 s, stop on fault, thermal pause.
    fn default() -> Self {
        Self {
            timer_code: 0x04,
            stop_on_fault: true,
            thermal_pause: true,
            odd_even: false,
            duty_code: 0,
        }
    }
}

impl<V: Variant, const N: usize, IO> Bq79616<V, N, IO> {
    /// Balancing settings used by `set_balancing`.
    pub fn set_balance_config(&mut self, cfg: BalanceConfig) -> Result<(), ConfigError> {
        if cfg.duty_code > 7 {
            return Err(ConfigError::OutOfRange {
                field: "balancing duty code",
                value: i64::from(cfg.duty_code),
                min: 0,
                max: 7,
            });
        }
        if cfg.timer_code == 0 || cfg.timer_code > 0x1F {
            return Err(ConfigError::OutOfRange {
                field: "balancing timer code",
                value: i64::from(cfg.timer_code),
                min: 1,
                max: 0x1F,
            });
        }
        self.core.balance = cfg;
        Ok(())
    }
}

impl<V: Variant, const N: usize, IO: SerialIo> Core<V, N, IO> {
    /// Pauses (`true`) or resumes balancing on every device (BAL_CTRL2\[CB_PAUSE\]), e.g. around
    /// a cell measurement.
    pub(crate) async fn pause_balancing(&mut self, pause: bool) -> Result<(), Error<IO::Error>> {
        let mut v = BalCtrl2::empty();
        if pause {
            v |= BalCtrl2::CB_PAUSE;
        }
        if self.balance.stop_on_fault {
            v |= BalCtrl2::FLTSTOP_EN;
        }
        if self.balance.thermal_pause {
            v |= BalCtrl2::OTCB_EN;
        }
        self.write_all(reg::BAL_CTRL2, &[v.bits()]).await
    }

    pub(super) fn check_balance_masks(&self, masks: &[u32]) -> Result<(), ConfigError> {
        for &m in masks {
            if m & !self.cell_mask() != 0 {
                return Err(ConfigError::NoSuchCell {
                    cell: (32 - m.leading_zeros()) as u16,
                    available: u16::from(self.cells),
                });
            }
            if m & (m >> 1) != 0 && !self.balance.odd_even {
                return Err(ConfigError::Conflict(
                    "adjacent cells cannot balance at the same time (use odd/even balancing)",
                ));
            }
        }
        Ok(())
    }

    /// Per-cell balancing: CB_CELLn_CTRL timers per device (two 8-byte single writes), read
    /// back, then BAL_CTRL2 = BAL_GO (with FLTSTOP_EN / OTCB_EN as configured) and BAL_STAT
    /// checked for INVALID_CBCONF.
    pub(crate) async fn balance(&mut self, masks: &[u32]) -> Result<(), Error<IO::Error>> {
        if masks.len() != N {
            return Err(Error::InvalidArgument("masks.len() != device_count"));
        }
        self.check_balance_masks(masks)?;
        let code = self.balance.timer_code;
        for (d, &m) in masks.iter().enumerate() {
            // CB_CELL16_CTRL (0x0318) … CB_CELL1_CTRL (0x0327): cell 16 first.
            let mut timers = [0u8; 16];
            for (i, t) in timers.iter_mut().enumerate() {
                let cell = 16 - i;
                if m & (1 << (cell - 1)) != 0 {
                    *t = code;
                }
            }
            self.write_one(d, reg::CB_CELL16_CTRL, &timers[..8]).await?;
            self.write_one(d, reg::CB_CELL16_CTRL + 8, &timers[8..])
                .await?;
        }
        // Read every timer back.
        let mut frames = [[0u8; 16]; N];
        let (verdict, report) = self
            .read_chain(reg::CB_CELL16_CTRL, 16, &mut frames)
            .await?;
        report.into_result()?;
        for (d, &m) in masks.iter().enumerate() {
            if verdict.get(d).copied().flatten().is_some() {
                continue;
            }
            for i in 0..16 {
                let cell = 16 - i;
                let want = if m & (1 << (cell - 1)) != 0 { code } else { 0 };
                let got = frames.get(d).and_then(|f| f.get(i)).copied().unwrap_or(0);
                if (got & 0x1F) != want {
                    return Err(Error::Verify(VerifyMismatch {
                        device: d as u8,
                        register: "CB_CELLn_CTRL",
                        offset: i as u8,
                        expected: want,
                        actual: got,
                    }));
                }
            }
        }
        if self.balance.odd_even {
            self.write_all(reg::BAL_CTRL1, &[self.balance.duty_code & 7])
                .await?;
        }
        let mut go = BalCtrl2::BAL_GO;
        if self.balance.odd_even {
            go |= BalCtrl2::AUTO_BAL;
        }
        if self.balance.stop_on_fault {
            go |= BalCtrl2::FLTSTOP_EN;
        }
        if self.balance.thermal_pause {
            go |= BalCtrl2::OTCB_EN;
        }
        self.write_all(reg::BAL_CTRL2, &[go.bits()]).await?;
        let (verdict, report) = self.read_chain(reg::BAL_STAT, 1, &mut frames).await?;
        report.into_result()?;
        for d in 0..N {
            if verdict.get(d).copied().flatten().is_some() {
                continue;
            }
            let s = BalStat::from_bits_retain(frames.get(d).map(|f| f[0]).unwrap_or(0));
            if s.contains(BalStat::INVALID_CBCONF) {
                return Err(Error::Device {
                    device: d as u8,
                    what: "BAL_STAT[INVALID_CBCONF]: balancing configuration refused",
                });
            }
        }
        Ok(())
    }
}

twins! {
    serial impl[V: Variant, const N: usize] Bq79616<V, N> => core {
        /// Pauses or resumes balancing (BAL_CTRL2\[CB_PAUSE\]).
        pub fn pause_balancing(&mut self, pause: bool) -> Result<(), Error<SerialError<B>>>;
    }
}
