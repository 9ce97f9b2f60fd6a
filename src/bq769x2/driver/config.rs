//! Data memory and CONFIG_UPDATE: reads, verified writes, `configure`.

use super::*;

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(crate) async fn read_data_memory(
        &mut self,
        address: u16,
        out: &mut [u8],
    ) -> Result<(), Error<IO::Error>> {
        if !(0x9000..=0x9FFF).contains(&address) {
            return Err(Error::InvalidArgument(
                "data-memory address outside 0x9000..=0x9FFF",
            ));
        }
        // A data-memory read answers with a whole 32-byte block (length 0x24, SLUUBY2B
        // data-memory example): read it in one burst so the checksum can be verified.
        let len = self
            .subcommand_read_burst(address, out, MAX_TRANSFER)
            .await?;
        if len < out.len() {
            // An intact but short answer: data memory is not readable while SEALED.
            self.require_access("data-memory read", Security::Unsealed)
                .await?;
            return Err(Error::Device {
                device: 0,
                what: "data-memory read answered with fewer bytes than expected",
            });
        }
        Ok(())
    }

    pub(crate) async fn read_da_configuration(&mut self) -> Result<DaConfig, Error<IO::Error>> {
        let mut b = [0u8; 1];
        self.read_data_memory(
            crate::bq769x2::data_memory::address::DA_CONFIGURATION,
            &mut b,
        )
        .await?;
        self.da = DaConfig::from_byte(b[0]);
        Ok(self.da)
    }

    pub(super) async fn wait_cfgupdate(
        &mut self,
        on: bool,
        first_wait: u32,
        what: &'static str,
    ) -> Result<(), Error<IO::Error>> {
        self.io.delay_us(first_wait).await;
        for _ in 0..CFGUPDATE_POLLS {
            let st = self.read_battery_status().await?;
            if st.contains(BatteryStatus::CFGUPDATE) == on {
                return Ok(());
            }
            self.io.delay_us(CFGUPDATE_POLL_US).await;
        }
        Err(Error::Timeout(what))
    }

    pub(crate) async fn enter_config_update(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::SET_CFGUPDATE).await?;
        self.wait_cfgupdate(
            true,
            CFGUPDATE_ENTER_WAIT_US,
            "CONFIG_UPDATE entry (Battery Status CFGUPDATE = 1)",
        )
        .await
    }

    pub(crate) async fn exit_config_update(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::EXIT_CFGUPDATE).await?;
        self.wait_cfgupdate(
            false,
            CFGUPDATE_EXIT_WAIT_US,
            "CONFIG_UPDATE exit (Battery Status CFGUPDATE = 0)",
        )
        .await
    }

    pub(super) async fn write_verified(
        &mut self,
        address: u16,
        data: &[u8],
        name: &'static str,
    ) -> Result<(), Error<IO::Error>> {
        self.subcommand_write(address, data).await?;
        self.io.delay_us(DATA_MEMORY_WRITE_WAIT_US).await;
        let mut back = [0u8; 2];
        let back = back.get_mut(..data.len()).unwrap_or(&mut []);
        self.read_data_memory(address, back).await?;
        for (i, (&e, &a)) in data.iter().zip(back.iter()).enumerate() {
            if e != a {
                return Err(Error::Verify(VerifyMismatch {
                    device: 0,
                    register: name,
                    offset: i as u8,
                    expected: e,
                    actual: a,
                }));
            }
        }
        Ok(())
    }

    pub(crate) async fn configure(&mut self, config: &Config) -> Result<(), Error<IO::Error>> {
        if config.overflowed {
            // A setting was refused when the batch was built: writing the rest would leave
            // the chip without it while reporting success.
            return Err(Error::Config(ConfigError::Conflict(
                crate::bq769x2::data_memory::BATCH_FULL,
            )));
        }
        if let Some(m) = config.vcell_mode {
            self.check_vcell_mode(m)?;
        }
        // userV = 1 mV caps the 16-bit stack/PACK/LD results at 32.767 V: refuse it for
        // stacks that can exceed that (more than 7 cells at up to 4.5 V).
        let da = config.da.unwrap_or(self.da);
        let cells = config.vcell_mode.map_or(self.cells(), |m| {
            if m == 0 {
                V::CELL_INPUTS
            } else {
                m.count_ones() as u8
            }
        });
        if da.user_volts == crate::bq769x2::data_memory::UserVolts::Millivolt && cells > 7 {
            return Err(Error::Config(ConfigError::Conflict(
                "userV = mV overflows the 16-bit stack voltage above 7 cells: use centivolts",
            )));
        }
        if config.is_empty() {
            return Ok(());
        }
        self.require_access("CONFIG_UPDATE", Security::FullAccess)
            .await?;
        if let Err(e) = self.enter_config_update().await {
            // The chip may still enter late: ask it to leave so the protections resume.
            let _ = self.exit_config_update().await;
            return Err(e);
        }
        let mut result = Ok(());
        for e in config.entries() {
            result = self.write_verified(e.address, e.data(), e.name).await;
            if result.is_err() {
                break;
            }
        }
        // Always leave CONFIG_UPDATE so the protections come back, even after a failure.
        let exit = self.exit_config_update().await;
        result?;
        exit?;
        if let Some(m) = config.vcell_mode {
            self.vcell_mode = m;
        }
        if let Some(da) = config.da {
            self.da = da;
        }
        if config.cov.is_some() {
            self.cov = config.cov;
        }
        if config.cuv.is_some() {
            self.cuv = config.cuv;
        }
        if let Some(n) = config.cb_max_cells {
            self.cb_max_cells = n;
        }
        self.temps = (self.temps & !config.temp_set) | config.temp_on;
        Ok(())
    }
}

twins! {
    i2c impl[V: Variant] Bq769x2<V> => core {
        /// Reads `out.len()` bytes of data memory (checksum verified).
        pub fn read_data_memory(&mut self, address: u16, out: &mut [u8]) -> Result<(), Error<I2cError<B>>>;
        /// Reads DA Configuration and adopts its units.
        pub fn read_da_configuration(&mut self) -> Result<DaConfig, Error<I2cError<B>>>;
        /// SET_CFGUPDATE, then polls Battery Status until CFGUPDATE = 1 (bounded).
        pub fn enter_config_update(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// EXIT_CFGUPDATE, then polls until CFGUPDATE = 0 (bounded).
        pub fn exit_config_update(&mut self) -> Result<(), Error<I2cError<B>>>;
        /// Writes the whole batch inside ONE CONFIG_UPDATE session (needs FULLACCESS), reading
        /// every entry back ([`Error::Verify`] names the setting). A batch that refused a
        /// setting when it was built ([`Config::overflowed`]) is refused with
        /// [`ConfigError::Conflict`] before anything is sent. The session is exited even
        /// after a failure so the protections resume. Then adopts units, cell map,
        /// thresholds and temperature pins.
        pub fn configure(&mut self, config: &Config) -> Result<(), Error<I2cError<B>>>;
    }
}
