//! Measurements: cell, stack, pack, LD voltages, CC2 current, temperatures, DASTATUS.

use super::*;

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    /// Cell `cell` (1-based physical input) in mV → µV.
    pub(crate) async fn read_cell_voltage(
        &mut self,
        cell: u8,
    ) -> Result<MicroVolts, Error<IO::Error>> {
        if cell == 0 || cell > V::CELL_INPUTS {
            return Err(Error::Config(ConfigError::NoSuchCell {
                cell: u16::from(cell),
                available: u16::from(V::CELL_INPUTS),
            }));
        }
        let reg = direct::CELL1_VOLTAGE + 2 * (cell - 1);
        let raw = self.read_u16(reg).await? as i16;
        Ok(MicroVolts::from_millivolts(i32::from(raw)))
    }

    /// Every cell input in one burst from 0x14, mV → µV, input 1 first.
    pub(crate) async fn read_all_inputs(
        &mut self,
        out: &mut [MicroVolts; 16],
    ) -> Result<(), Error<IO::Error>> {
        let mut raw = [0u8; 32];
        let n = 2 * usize::from(V::CELL_INPUTS.min(16));
        let buf = raw
            .get_mut(..n)
            .ok_or(Error::InvalidArgument("cell inputs"))?;
        self.read_reg(direct::CELL1_VOLTAGE, buf).await?;
        for (o, c) in out.iter_mut().zip(raw.chunks_exact(2)) {
            let mv = i16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ]);
            *o = MicroVolts::from_millivolts(i32::from(mv));
        }
        Ok(())
    }

    pub(crate) async fn read_stack_voltage(&mut self) -> Result<MicroVolts, Error<IO::Error>> {
        let raw = self.read_u16(V::MAP.stack_voltage).await?;
        Ok(match V::MAP.stack_unit {
            StackVoltageUnit::UserVolts => self.da.volts(raw as i16),
            StackVoltageUnit::Millivolts => MicroVolts::from_millivolts(i32::from(raw)),
        })
    }

    fn require_bq769x2(what: &'static str) -> Result<(), Error<IO::Error>> {
        if V::MAP.bq7690x {
            Err(Error::Config(ConfigError::Unsupported(what)))
        } else {
            Ok(())
        }
    }

    /// TS Measurement (0x2A, raw ADC codes; BQ7690x only).
    pub(crate) async fn read_ts_measurement(&mut self) -> Result<u16, Error<IO::Error>> {
        if !V::MAP.bq7690x {
            return Err(Error::Config(ConfigError::Unsupported(
                "raw TS measurement (0x2A) is a BQ7690x command",
            )));
        }
        self.read_u16(super::super::bq7690x::direct::TS_MEASUREMENT)
            .await
    }

    pub(crate) async fn read_pack_voltage(&mut self) -> Result<MicroVolts, Error<IO::Error>> {
        Self::require_bq769x2("PACK pin voltage on the BQ7690x")?;
        let raw = self.read_u16(direct::PACK_VOLTAGE).await? as i16;
        Ok(self.da.volts(raw))
    }

    pub(crate) async fn read_ld_voltage(&mut self) -> Result<MicroVolts, Error<IO::Error>> {
        Self::require_bq769x2("LD pin voltage on the BQ7690x")?;
        let raw = self.read_u16(direct::LD_VOLTAGE).await? as i16;
        Ok(self.da.volts(raw))
    }

    pub(crate) async fn read_cc2_current(&mut self) -> Result<MicroAmps, Error<IO::Error>> {
        let raw = self.read_u16(direct::CC2_CURRENT).await? as i16;
        Ok(self.da.amps(raw))
    }

    pub(crate) async fn read_internal_temperature(
        &mut self,
    ) -> Result<MilliCelsius, Error<IO::Error>> {
        let raw = self.read_u16(V::MAP.int_temperature).await?;
        Ok(match V::MAP.int_temperature_unit {
            DieTemperatureUnit::DeciKelvin => MilliCelsius::from_decikelvin(i32::from(raw as i16)),
            DieTemperatureUnit::Celsius => super::super::bq7690x::int_temperature(raw),
        })
    }

    pub(crate) async fn read_pin_temperature(
        &mut self,
        pin: TempPin,
    ) -> Result<MilliCelsius, Error<IO::Error>> {
        Self::require_bq769x2("pin temperatures on the BQ7690x (raw TS: read_ts_measurement)")?;
        let raw = self.read_u16(pin.direct_command()).await? as i16;
        Ok(MilliCelsius::from_decikelvin(i32::from(raw)))
    }

    pub(crate) async fn read_dastatus(&mut self, n: u8) -> Result<[u8; 32], Error<IO::Error>> {
        if !(1..=7).contains(&n) {
            return Err(Error::InvalidArgument("DASTATUS index is 1..=7"));
        }
        let mut b = [0u8; 32];
        self.subcommand_read_exact(sub::DASTATUS1 + u16::from(n - 1), &mut b)
            .await?;
        Ok(b)
    }
}

twins! {
    i2c impl[V: Variant] Bq769x2<V> => core {
        /// One cell input (1-based physical input number), in µV.
        pub fn read_cell_voltage(&mut self, cell: u8) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// Every cell input in one burst read from 0x14 (input 1 first; entries past the
        /// variant's inputs stay zero).
        pub fn read_all_inputs(&mut self, out: &mut [MicroVolts; 16]) -> Result<(), Error<I2cError<B>>>;
        /// Stack voltage: bq769x2 0x34 in userV, converted with the DA Configuration;
        /// BQ7690x 0x26 in mV (unsigned).
        pub fn read_stack_voltage(&mut self) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// PACK pin voltage (0x36; not on the BQ7690x).
        pub fn read_pack_voltage(&mut self) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// LD pin voltage (0x38; not on the BQ7690x).
        pub fn read_ld_voltage(&mut self) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// CC2 current (0x3A) in userA, converted with the DA Configuration.
        pub fn read_cc2_current(&mut self) -> Result<MicroAmps, Error<I2cError<B>>>;
        /// Die temperature: bq769x2 0x68 (0.1 K), BQ7690x 0x28 (°C).
        pub fn read_internal_temperature(&mut self) -> Result<MilliCelsius, Error<I2cError<B>>>;
        /// A pin temperature (0.1 K). Not on the BQ7690x ([`ConfigError::Unsupported`]).
        pub fn read_pin_temperature(&mut self, pin: TempPin) -> Result<MilliCelsius, Error<I2cError<B>>>;
        /// BQ7690x TS Measurement (0x2A), raw ADC codes (a thermistor conversion depends on
        /// the board; [`ConfigError::Unsupported`] on the bq769x2).
        pub fn read_ts_measurement(&mut self) -> Result<u16, Error<I2cError<B>>>;
        /// DASTATUS1..=7 (raw 32-byte block).
        pub fn read_dastatus(&mut self, n: u8) -> Result<[u8; 32], Error<I2cError<B>>>;
    }
}
