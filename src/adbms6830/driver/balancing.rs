//! Balancing: the DCC rule, PWM duties, discharge mute.

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(crate) async fn write_pwm(&mut self, pwm: &[Pwm; N]) -> Result<(), E<IO>> {
        for p in pwm.iter() {
            p.validate()?;
            if p.duty.iter().skip(V::CELLS).any(|&d| d != 0) {
                return Err(ConfigError::NoSuchCell {
                    cell: V::CELLS as u16 + 1,
                    available: V::CELLS as u16,
                }
                .into());
            }
        }
        let a = pwm.map(|p| p.to_bytes().0);
        let b = pwm.map(|p| p.to_bytes().1);
        self.write_verified(&cmd::WRPWMA, &cmd::RDPWMA, "PWMA", &a, &[0xFF; 6], 0)
            .await?;
        // PWMB holds cells 13–16 (two bytes) or 13–18 (three bytes, ADBMS6832, unverified);
        // the rest is reserved and not compared.
        let mut mask = [0u8; 6];
        for m in mask
            .iter_mut()
            .take((V::CELLS.saturating_sub(12)).div_ceil(2))
        {
            *m = 0xFF;
        }
        self.write_verified(&cmd::WRPWMB, &cmd::RDPWMB, "PWMB", &b, &mask, 0)
            .await
    }

    pub(crate) async fn mute(&mut self, on: bool) -> Result<(), E<IO>> {
        self.send(if on { &cmd::MUTE } else { &cmd::UNMUTE }).await
    }
}

/// Balancing rule: only existing cells, and (unverified for ADBMS6832) DCC exists for
/// cells 1–16 only.
pub(super) fn check_dcc<V: Variant>(mask: u32) -> Result<(), ConfigError> {
    let cells = V::CELLS.min(16) as u32;
    if mask >> cells != 0 {
        let bit = 32 - mask.leading_zeros();
        return Err(if (bit as usize) <= V::CELLS {
            ConfigError::Unsupported("DCC17/DCC18 (ADBMS6832 layout not verified)")
        } else {
            ConfigError::NoSuchCell {
                cell: bit as u16,
                available: V::CELLS as u16,
            }
        });
    }
    Ok(())
}

twins! {
    spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core {
        /// Writes PWMA and PWMB per device, verified. Duties above 15 are
        /// [`ConfigError::OutOfRange`] and nothing is sent.
        pub fn write_pwm(&mut self, pwm: &[Pwm; N]) -> Result<(), Error<SpiError<B>>>;
        /// MUTE (`true`) or UNMUTE (`false`) discharge.
        pub fn mute(&mut self, on: bool) -> Result<(), Error<SpiError<B>>>;
    }
}
