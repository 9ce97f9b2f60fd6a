//! Identification: DEVICE_NUMBER, firmware version, manufacturing status, and `probe`
//! (which also adopts the chip's units and cell map when readable).

use super::*;

/// Where the result units and the cell map in [`DeviceInfo`] come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SettingsSource {
    /// Read from the chip's data memory (DA Configuration 0x9303 and Vcell Mode 0x9304,
    /// checksum verified): the driver converts and maps with the chip's own settings.
    Device,
    /// Not readable (SEALED, or security not initialised): the driver keeps what it had —
    /// [`DaConfig::ASSUMED_DEFAULT`] and "every input is a cell" unless set with
    /// [`Bq769x2::set_da_config`] / [`Bq769x2::set_vcell_mode`] or a [`Config`]. On an
    /// OTP-programmed chip these may be wrong: unseal and call `read_units_and_cell_map`, or
    /// tell the driver your OTP values.
    Assumed,
}

/// What [`Bq769x2::probe`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeviceInfo {
    /// DEVICE_NUMBER as read (checksum verified).
    pub device_number: u16,
    /// `Some(true)` if it equals the variant's number, `Some(false)` if it differs from an
    /// unverified expectation (a verified mismatch is an error instead), `None` if the
    /// variant's number is unknown.
    pub matches_variant: Option<bool>,
    /// Security state from Battery Status.
    pub security: Security,
    /// The result units (userV, userA) the driver converts with from now on.
    pub da_config: DaConfig,
    /// The Vcell Mode the driver maps cells with from now on (0 = every input is a cell).
    pub vcell_mode: u16,
    /// Whether `da_config` and `vcell_mode` were read from the chip or are assumed.
    pub settings: SettingsSource,
}

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(crate) async fn read_device_number(&mut self) -> Result<u16, Error<IO::Error>> {
        let mut b = [0u8; 2];
        self.subcommand_read_exact(sub::DEVICE_NUMBER, &mut b)
            .await?;
        Ok(u16::from_le_bytes(b))
    }

    pub(crate) async fn read_fw_version(&mut self) -> Result<[u8; 6], Error<IO::Error>> {
        let mut b = [0u8; 6];
        self.subcommand_read_exact(sub::FW_VERSION, &mut b).await?;
        Ok(b)
    }

    pub(crate) async fn read_manufacturing_status(
        &mut self,
    ) -> Result<ManufacturingStatus, Error<IO::Error>> {
        let mut b = [0u8; 2];
        self.subcommand_read_exact(sub::MANUFACTURING_STATUS, &mut b)
            .await?;
        Ok(ManufacturingStatus::from_bits_retain(u16::from_le_bytes(b)))
    }

    pub(crate) async fn probe(&mut self) -> Result<DeviceInfo, Error<IO::Error>> {
        let n = self.read_device_number().await?;
        let matches_variant = V::DEVICE_NUMBER.map(|d| d == n);
        if V::DEVICE_NUMBER_VERIFIED && matches_variant == Some(false) {
            return Err(Error::Device {
                device: 0,
                what: "DEVICE_NUMBER does not match the selected variant",
            });
        }
        let security = self.read_battery_status().await?.security();
        // Data memory is readable when UNSEALED or FULLACCESS (a SEALED chip answers data-memory
        // reads with no data). Learn the units and the cell map there, so an OTP-programmed
        // chip is not converted or mapped with assumed defaults.
        let settings = match security {
            Security::Unsealed | Security::FullAccess => {
                self.read_units_and_cell_map().await?;
                SettingsSource::Device
            }
            Security::Sealed | Security::NotInitialized => SettingsSource::Assumed,
        };
        Ok(DeviceInfo {
            device_number: n,
            matches_variant,
            security,
            da_config: self.da,
            vcell_mode: self.vcell_mode,
            settings,
        })
    }

    /// DA Configuration (0x9303) and Vcell Mode (0x9304..=0x9305) from ONE data-memory read
    /// (the 32-byte block at 0x9303), adopted together only if both are usable.
    pub(crate) async fn read_units_and_cell_map(
        &mut self,
    ) -> Result<(DaConfig, u16), Error<IO::Error>> {
        let mut b = [0u8; 3];
        self.read_data_memory(
            crate::bq769x2::data_memory::address::DA_CONFIGURATION,
            &mut b,
        )
        .await?;
        let [da, lo, hi] = b;
        let mask = u16::from_le_bytes([lo, hi]);
        if self.check_vcell_mode(mask).is_err() {
            return Err(Error::Device {
                device: 0,
                what: "Vcell Mode selects cell inputs this variant does not have (wrong variant?)",
            });
        }
        self.da = DaConfig::from_byte(da);
        self.vcell_mode = mask;
        Ok((self.da, self.vcell_mode))
    }
}

twins! {
    i2c impl[V: Variant] Bq769x2<V> => core {
        /// Reads DEVICE_NUMBER (checksum verified) and the security state. A mismatch with a
        /// verified variant number is [`Error::Device`]; with an unverified one it is reported
        /// in [`DeviceInfo::matches_variant`].
        ///
        /// When the chip is UNSEALED or in FULLACCESS, probe also reads DA Configuration and
        /// Vcell Mode (one checksum-verified data-memory read) and adopts them, so results of
        /// an OTP-programmed chip are scaled and mapped with its own settings
        /// ([`SettingsSource::Device`]). When SEALED, data memory is not readable: the driver
        /// keeps the units and cell map it had and says so ([`SettingsSource::Assumed`]);
        /// call `read_units_and_cell_map` after unsealing, or tell the driver your OTP values.
        /// A Vcell Mode with inputs the variant lacks is [`Error::Device`] (wrong variant).
        pub fn probe(&mut self) -> Result<DeviceInfo, Error<I2cError<B>>>;
        /// Reads DA Configuration and Vcell Mode (one data-memory read; needs UNSEALED or
        /// FULLACCESS) and adopts both: `(units, vcell_mode)`. A Vcell Mode with inputs the
        /// variant lacks is [`Error::Device`] and nothing is adopted.
        pub fn read_units_and_cell_map(&mut self) -> Result<(DaConfig, u16), Error<I2cError<B>>>;
        /// DEVICE_NUMBER.
        pub fn read_device_number(&mut self) -> Result<u16, Error<I2cError<B>>>;
        /// FW_VERSION (6 bytes as sent by the device).
        pub fn read_fw_version(&mut self) -> Result<[u8; 6], Error<I2cError<B>>>;
        /// Manufacturing Status.
        pub fn read_manufacturing_status(&mut self) -> Result<ManufacturingStatus, Error<I2cError<B>>>;
    }
}
