//! Power modes: reset, sleep, deep sleep, shutdown.

use super::*;

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(crate) async fn reset(&mut self) -> Result<(), Error<IO::Error>> {
        // RESET is refused while SEALED (SLUUBY2B command-only subcommand table).
        self.require_access("RESET", Security::Unsealed).await?;
        self.subcommand(sub::RESET).await?;
        // Data memory returns to OTP values: forget what the driver was told.
        self.da = DaConfig::ASSUMED_DEFAULT;
        self.vcell_mode = 0;
        self.fet_intent = None;
        self.cov = None;
        self.cuv = None;
        self.cb_max_cells = 16;
        Ok(())
    }

    pub(crate) async fn sleep_enable(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::SLEEP_ENABLE).await
    }

    pub(crate) async fn sleep_disable(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::SLEEP_DISABLE).await
    }

    /// DEEPSLEEP must be sent twice in a row (TI example code).
    pub(crate) async fn deep_sleep(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::DEEPSLEEP).await?;
        self.subcommand(sub::DEEPSLEEP).await
    }

    pub(crate) async fn exit_deep_sleep(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::EXIT_DEEPSLEEP).await
    }

    /// SHUTDOWN must be sent twice in a row (TI example code).
    pub(crate) async fn shutdown(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::SHUTDOWN).await?;
        self.subcommand(sub::SHUTDOWN).await
    }
}

twins! {
    i2c impl[V: Variant] Bq769x2<V> => core {
        /// RESET: data memory returns to OTP values; the driver forgets what it was told and
        /// assumes the defaults again (call `probe` or `read_units_and_cell_map` to re-learn
        /// the OTP units and cell map).
        pub fn reset(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// SLEEP_ENABLE.
        pub fn sleep_enable(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// SLEEP_DISABLE.
        pub fn sleep_disable(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// DEEPSLEEP (sent twice, as required).
        pub fn deep_sleep(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// EXIT_DEEPSLEEP.
        pub fn exit_deep_sleep(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// SHUTDOWN (sent twice, as required).
        pub fn shutdown(&mut self) -> Result<(), Error<I2cError<B>>>;
    }
}
