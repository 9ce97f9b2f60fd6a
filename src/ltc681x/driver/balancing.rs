//! Discharge control beyond the DCC bits: MUTE/UNMUTE, S-pin control, PWM duties.

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn mute(&mut self) -> Result<(), Error<IO::Error>> {
        if !V::HAS_MUTE {
            return Err(Error::Config(ConfigError::Unsupported("MUTE (LTC6811)")));
        }
        self.send(&command::MUTE).await
    }

    pub(super) async fn unmute(&mut self) -> Result<(), Error<IO::Error>> {
        if !V::HAS_MUTE {
            return Err(Error::Config(ConfigError::Unsupported("UNMUTE (LTC6811)")));
        }
        self.send(&command::UNMUTE).await
    }

    pub(super) async fn write_sctrl(&mut self, s: &[Nibbles; N]) -> Result<(), Error<IO::Error>> {
        // Reject values the register cannot hold before anything is sent.
        for c in s {
            c.check().map_err(Error::Config)?;
        }
        let mut data = [[0u8; 6]; N];
        for (d, c) in data.iter_mut().zip(s) {
            *d = c.encode();
        }
        self.write_raw(&command::WRSCTRL, &data).await
    }

    pub(super) async fn read_sctrl(
        &mut self,
        out: &mut [Reading<Nibbles>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.read_mapped(&command::RDSCTRL, out, |d, _| Nibbles::decode(d))
            .await
    }

    pub(super) async fn start_sctrl(&mut self) -> Result<(), Error<IO::Error>> {
        self.send(&command::STSCTRL).await
    }

    pub(super) async fn clear_sctrl(&mut self) -> Result<(), Error<IO::Error>> {
        self.send(&command::CLRSCTRL).await
    }

    pub(super) async fn write_pwm(&mut self, s: &[Nibbles; N]) -> Result<(), Error<IO::Error>> {
        // Reject values the register cannot hold before anything is sent.
        for c in s {
            c.check().map_err(Error::Config)?;
        }
        let mut data = [[0u8; 6]; N];
        for (d, c) in data.iter_mut().zip(s) {
            *d = c.encode();
        }
        self.write_raw(&command::WRPWM, &data).await
    }

    pub(super) async fn read_pwm(
        &mut self,
        out: &mut [Reading<Nibbles>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        self.read_mapped(&command::RDPWM, out, |d, _| Nibbles::decode(d))
            .await
    }

    pub(super) async fn write_psb(&mut self, s: &[Psb; N]) -> Result<(), Error<IO::Error>> {
        if !V::HAS_PSB {
            return Err(Error::Config(ConfigError::Unsupported(
                "PWM/S-control group B",
            )));
        }
        for c in s {
            c.check_part::<V>().map_err(Error::Config)?;
        }
        let mut data = [[0u8; 6]; N];
        for (d, c) in data.iter_mut().zip(s) {
            *d = c.encode();
        }
        self.write_raw(&command::WRPSB, &data).await
    }

    pub(super) async fn read_psb(
        &mut self,
        out: &mut [Reading<Psb>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if !V::HAS_PSB {
            return Err(Error::Config(ConfigError::Unsupported(
                "PWM/S-control group B",
            )));
        }
        self.read_mapped(&command::RDPSB, out, |d, _| Psb::decode(d))
            .await
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core {
        /// MUTE: opens every discharge switch without changing DCC (not LTC6811).
        pub fn mute(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// UNMUTE (not LTC6811).
        pub fn unmute(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// WRSCTRL. Codes above 15 are rejected ([`Nibbles::check`]) before anything is sent.
        pub fn write_sctrl(&mut self, s: &[Nibbles; N]) -> Result<(), Error<SpiError<B>>>;
        /// RDSCTRL.
        pub fn read_sctrl(&mut self, out: &mut [Reading<Nibbles>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// STSCTRL.
        pub fn start_sctrl(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// CLRSCTRL.
        pub fn clear_sctrl(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// WRPWM (duty = code / 15 per cell, applies while DCC is set and the watchdog has
        /// expired; set duties with [`Nibbles::set_pwm_duty`]). Codes above 15 are rejected
        /// ([`Nibbles::check`]) before anything is sent.
        pub fn write_pwm(&mut self, s: &[Nibbles; N]) -> Result<(), Error<SpiError<B>>>;
        /// RDPWM.
        pub fn read_pwm(&mut self, out: &mut [Reading<Nibbles>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// WRPSB (LTC6812/6813/ADBMS1818). Codes above 15 and values for cells the part
        /// lacks are rejected ([`Psb::check_part`]) before anything is sent.
        pub fn write_psb(&mut self, s: &[Psb; N]) -> Result<(), Error<SpiError<B>>>;
        /// RDPSB (LTC6812/6813/ADBMS1818).
        pub fn read_psb(&mut self, out: &mut [Reading<Psb>]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
