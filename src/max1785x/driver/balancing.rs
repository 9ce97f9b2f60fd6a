//! Balancing: the switch masks and the balancing expiration (watchdog).

use super::*;

impl<V: Variant, const N: usize, IO> Max1785x<V, N, IO> {
    /// Balancing expiration in minutes for every cell (BALEXP1..BALEXP14; default 1, as
    /// foxBMS sets it: "1 minute timeout in manual balancing"). This is the balancing
    /// watchdog: switches closed by [`set_balancing`](crate::CellMonitor::set_balancing)
    /// open by themselves after this time unless balancing is set again (each
    /// `set_balancing` restarts the timer). 1..=255; the field width is not in the cited
    /// sources, so the write is verified by read-back.
    pub fn set_balance_timeout(&mut self, minutes: u16) -> Result<(), ConfigError> {
        if !(1..=255).contains(&minutes) {
            return Err(ConfigError::OutOfRange {
                field: "balancing expiration (min)",
                value: i64::from(minutes),
                min: 1,
                max: 255,
            });
        }
        if minutes != self.core.balance_minutes {
            self.core.balance_minutes = minutes;
            self.core.balexp_written = false;
        }
        Ok(())
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn set_balancing_masks(
        &mut self,
        masks: &[u32],
    ) -> Result<(), Error<IO::Error>> {
        check_len(masks.len(), N)?;
        let limit = 1u32 << V::CELLS;
        let mut want = [0u16; N];
        for (w, &m) in want.iter_mut().zip(masks) {
            if m >= limit {
                return Err(Error::Config(ConfigError::NoSuchCell {
                    cell: (32 - m.leading_zeros()) as u16,
                    available: V::CELLS as u16,
                }));
            }
            if m & (m >> 1) != 0 {
                return Err(Error::Config(ConfigError::Conflict(
                    "adjacent cells balancing at once",
                )));
            }
            *w = m as u16;
        }
        let any = want.iter().any(|&m| m != 0);
        if any && !self.balexp_written {
            for n in 1..=V::CELLS as u8 {
                let reg = Register::balexp(n).unwrap_or(0);
                self.write_msg(None, reg, self.balance_minutes).await?;
                let mut v: Slots<N> = [Ok(0); N];
                self.read_reg(reg, &mut v).await?;
                for (d, x) in v.iter().enumerate() {
                    match x {
                        Ok(r) if *r == self.balance_minutes => {}
                        Ok(r) => {
                            let (rb, wb) = (r.to_le_bytes(), self.balance_minutes.to_le_bytes());
                            let offset = usize::from(rb[0] == wb[0]);
                            return Err(Error::Verify(VerifyMismatch {
                                device: d as u8,
                                register: register::BALEXP_NAMES
                                    .get(usize::from(n - 1))
                                    .copied()
                                    .unwrap_or("BALEXP"),
                                offset: offset as u8,
                                expected: wb[offset],
                                actual: rb[offset],
                            }));
                        }
                        Err(reason) => {
                            return Err(Error::Integrity(DeviceFault {
                                device: d as u8,
                                reason: *reason,
                            }));
                        }
                    }
                }
            }
            self.balexp_written = true;
        }
        if want.iter().all(|&m| m == want[0]) {
            self.write_all(Register::BalSwCtrl, want[0]).await?;
        } else {
            for (d, &m) in want.iter().enumerate() {
                self.write_device(d as u8, Register::BalSwCtrl, m).await?;
            }
        }
        self.verify(Register::BalSwCtrl, &want).await?;
        // Start (and restart the timer of) manual balancing, or disable it.
        let ctrl = if any {
            register::BALCTRL_MANUAL
        } else {
            register::BALCTRL_DISABLE
        };
        self.write_all(Register::BalCtrl, ctrl).await
    }
}
