//! Security: keys, UNSEAL, FULLACCESS, SEAL.

use super::*;

/// A pair of 16-bit security keys (unseal or full-access). Never printed: `Debug` redacts
/// them and the driver neither logs nor stores them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecurityKeys {
    step1: u16,
    step2: u16,
}

impl SecurityKeys {
    /// Keys as configured in Security:Keys (each written little-endian to 0x3E/0x3F).
    pub const fn new(step1: u16, step2: u16) -> Self {
        Self { step1, step2 }
    }
}

impl fmt::Debug for SecurityKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecurityKeys(<redacted>)")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SecurityKeys {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "SecurityKeys(<redacted>)")
    }
}

/// The [`Error::NeedsAccess`] of `operation` in `state`.
pub(crate) fn needs_access<E>(
    operation: &'static str,
    state: Security,
    needs: Security,
) -> Error<E> {
    Error::NeedsAccess {
        device: 0,
        operation,
        state: state.name(),
        needs: needs.name(),
    }
}

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(super) async fn send_keys(&mut self, keys: SecurityKeys) -> Result<(), Error<IO::Error>> {
        self.write_reg(direct::SUBCOMMAND, &keys.step1.to_le_bytes())
            .await?;
        self.write_reg(direct::SUBCOMMAND, &keys.step2.to_le_bytes())
            .await?;
        self.io.delay_us(SUBCOMMAND_POLL_US).await;
        Ok(())
    }

    pub(crate) async fn security(&mut self) -> Result<Security, Error<IO::Error>> {
        Ok(self.read_battery_status().await?.security())
    }

    /// Reads the security state and refuses `operation` with [`Error::NeedsAccess`] unless
    /// the chip is at least in `needs`. One direct read (Battery Status), nothing written.
    pub(crate) async fn require_access(
        &mut self,
        operation: &'static str,
        needs: Security,
    ) -> Result<(), Error<IO::Error>> {
        let state = self.security().await?;
        if state.allows(needs) {
            Ok(())
        } else {
            Err(needs_access(operation, state, needs))
        }
    }

    pub(crate) async fn unseal(
        &mut self,
        keys: SecurityKeys,
    ) -> Result<Security, Error<IO::Error>> {
        if self.security().await? != Security::Sealed {
            return self.security().await;
        }
        self.send_keys(keys).await?;
        match self.security().await? {
            Security::Sealed | Security::NotInitialized => Err(Error::Device {
                device: 0,
                what: "unseal refused: the unseal keys were not accepted",
            }),
            s => Ok(s),
        }
    }

    pub(crate) async fn full_access(&mut self, keys: SecurityKeys) -> Result<(), Error<IO::Error>> {
        match self.security().await? {
            Security::FullAccess => return Ok(()),
            Security::Sealed => {
                // SEALED → UNSEALED → FULLACCESS: the full-access keys are only taken from
                // UNSEALED (E2E-1053149, TI's answer).
                return Err(needs_access(
                    "full-access keys",
                    Security::Sealed,
                    Security::Unsealed,
                ));
            }
            _ => {}
        }
        self.send_keys(keys).await?;
        if self.security().await? != Security::FullAccess {
            return Err(Error::Device {
                device: 0,
                what: "full access refused: the full-access keys were not accepted",
            });
        }
        Ok(())
    }

    pub(crate) async fn seal(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::SEAL).await?;
        self.io.delay_us(SUBCOMMAND_POLL_US).await;
        if self.security().await? != Security::Sealed {
            return Err(Error::Device {
                device: 0,
                what: "SEAL not taken",
            });
        }
        Ok(())
    }
}

twins! {
    i2c impl[V: Variant] Bq769x2<V> => core {
        /// The security state.
        pub fn security(&mut self) -> Result<Security, Error<I2cError<B>>>;
        /// Writes the unseal keys (if SEALED) and confirms the new state.
        pub fn unseal(&mut self, keys: SecurityKeys) -> Result<Security, Error<I2cError<B>>>;
        /// Writes the full-access keys (from UNSEALED) and confirms FULLACCESS.
        pub fn full_access(&mut self, keys: SecurityKeys) -> Result<(), Error<I2cError<B>>>;
        /// SEAL, confirmed.
        pub fn seal(&mut self) -> Result<(), Error<I2cError<B>>>;
    }
}
