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
        let raw = self.read_u16(direct::STACK_VOLTAGE).await? as i16;
        Ok(self.da.volts(raw))
    }

    pub(crate) async fn read_pack_voltage(&mut self) -> Result<MicroVolts, Error<IO::Error>> {
        let raw = self.read_u16(direct::PACK_VOLTAGE).await? as i16;
        Ok(self.da.volts(raw))
    }

    pub(crate) async fn read_ld_voltage(&mut self) -> Result<MicroVolts, Error<IO::Error>> {
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
        let raw = self.read_u16(direct::INT_TEMPERATURE).await? as i16;
        Ok(MilliCelsius::from_decikelvin(i32::from(raw)))
    }

    pub(crate) async fn read_pin_temperature(
        &mut self,
        pin: TempPin,
    ) -> Result<MilliCelsius, Error<IO::Error>> {
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
        /// Stack voltage (0x34) in userV, converted with the DA Configuration.
        pub fn read_stack_voltage(&mut self) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// PACK pin voltage (0x36).
        pub fn read_pack_voltage(&mut self) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// LD pin voltage (0x38).
        pub fn read_ld_voltage(&mut self) -> Result<MicroVolts, Error<I2cError<B>>>;
        /// CC2 current (0x3A) in userA, converted with the DA Configuration.
        pub fn read_cc2_current(&mut self) -> Result<MicroAmps, Error<I2cError<B>>>;
        /// Die temperature (0x68, 0.1 K).
        pub fn read_internal_temperature(&mut self) -> Result<MilliCelsius, Error<I2cError<B>>>;
        /// A pin temperature (0.1 K).
        pub fn read_pin_temperature(&mut self, pin: TempPin) -> Result<MilliCelsius, Error<I2cError<B>>>;
        /// DASTATUS1..=7 (raw 32-byte block).
        pub fn read_dastatus(&mut self, n: u8) -> Result<[u8; 32], Error<I2cError<B>>>;
    }
}
