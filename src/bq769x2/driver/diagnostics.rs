//! Status, protection and alarm reads: battery and control status, safety alerts and
//! status, permanent fail, alarm status/enable, FET status.

use super::*;

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(crate) async fn read_battery_status(&mut self) -> Result<BatteryStatus, Error<IO::Error>> {
        Ok(BatteryStatus::from_bits_retain(
            self.read_u16(direct::BATTERY_STATUS).await?,
        ))
    }

    pub(crate) async fn read_control_status(&mut self) -> Result<ControlStatus, Error<IO::Error>> {
        Ok(ControlStatus::from_bits_retain(
            self.read_u16(direct::CONTROL_STATUS).await?,
        ))
    }

    /// Safety Alert A..C and Status A..C in one burst (0x02..=0x07): (alert, status).
    pub(crate) async fn read_safety(&mut self) -> Result<(Safety, Safety), Error<IO::Error>> {
        let mut b = [0u8; 6];
        self.read_reg(direct::SAFETY_ALERT_A, &mut b).await?;
        let [aa, sa, ab, sb, ac, sc] = b;
        Ok((
            Safety {
                a: SafetyA::from_bits_retain(aa),
                b: SafetyB::from_bits_retain(ab),
                c: SafetyC::from_bits_retain(ac),
            },
            Safety {
                a: SafetyA::from_bits_retain(sa),
                b: SafetyB::from_bits_retain(sb),
                c: SafetyC::from_bits_retain(sc),
            },
        ))
    }

    pub(crate) async fn read_safety_status(&mut self) -> Result<Safety, Error<IO::Error>> {
        Ok(self.read_safety().await?.1)
    }

    pub(crate) async fn read_safety_alert(&mut self) -> Result<Safety, Error<IO::Error>> {
        Ok(self.read_safety().await?.0)
    }

    /// PF Alert A..D and Status A..D in one burst (0x0A..=0x11): (alert, status).
    pub(crate) async fn read_permanent_fail(
        &mut self,
    ) -> Result<(PermanentFail, PermanentFail), Error<IO::Error>> {
        let mut b = [0u8; 8];
        self.read_reg(direct::PF_ALERT_A, &mut b).await?;
        let [aa, sa, ab, sb, ac, sc, ad, sd] = b;
        Ok((
            PermanentFail {
                a: aa,
                b: ab,
                c: ac,
                d: ad,
            },
            PermanentFail {
                a: sa,
                b: sb,
                c: sc,
                d: sd,
            },
        ))
    }

    pub(crate) async fn read_alarm_status(&mut self) -> Result<Alarm, Error<IO::Error>> {
        Ok(Alarm::from_bits_retain(
            self.read_u16(direct::ALARM_STATUS).await?,
        ))
    }

    pub(crate) async fn read_alarm_raw_status(&mut self) -> Result<Alarm, Error<IO::Error>> {
        Ok(Alarm::from_bits_retain(
            self.read_u16(direct::ALARM_RAW_STATUS).await?,
        ))
    }

    pub(crate) async fn read_alarm_enable(&mut self) -> Result<Alarm, Error<IO::Error>> {
        Ok(Alarm::from_bits_retain(
            self.read_u16(direct::ALARM_ENABLE).await?,
        ))
    }

    pub(crate) async fn write_alarm_enable(&mut self, mask: Alarm) -> Result<(), Error<IO::Error>> {
        self.write_reg(direct::ALARM_ENABLE, &mask.bits().to_le_bytes())
            .await
    }

    pub(crate) async fn clear_alarm_status(&mut self, bits: Alarm) -> Result<(), Error<IO::Error>> {
        self.write_reg(direct::ALARM_STATUS, &bits.bits().to_le_bytes())
            .await
    }

    pub(crate) async fn read_fet_status(&mut self) -> Result<FetStatus, Error<IO::Error>> {
        Ok(FetStatus::from_bits_retain(
            self.read_u8(direct::FET_STATUS).await?,
        ))
    }
}

twins! {
    i2c impl[V: Variant] Bq769x2<V> => core {
        /// Battery Status (0x12).
        pub fn read_battery_status(&mut self) -> Result<BatteryStatus, Error<I2cError<B>>>;
        /// Control Status (0x00).
        pub fn read_control_status(&mut self) -> Result<ControlStatus, Error<I2cError<B>>>;
        /// Safety Alert and Status A/B/C in one burst: `(alert, status)`.
        pub fn read_safety(&mut self) -> Result<(Safety, Safety), Error<I2cError<B>>>;
        /// Safety Status A/B/C.
        pub fn read_safety_status(&mut self) -> Result<Safety, Error<I2cError<B>>>;
        /// Safety Alert A/B/C.
        pub fn read_safety_alert(&mut self) -> Result<Safety, Error<I2cError<B>>>;
        /// Permanent-fail Alert and Status A–D in one burst: `(alert, status)`.
        pub fn read_permanent_fail(&mut self) -> Result<(PermanentFail, PermanentFail), Error<I2cError<B>>>;
        /// Alarm Status (0x62, latched).
        pub fn read_alarm_status(&mut self) -> Result<Alarm, Error<I2cError<B>>>;
        /// Alarm Raw Status (0x64).
        pub fn read_alarm_raw_status(&mut self) -> Result<Alarm, Error<I2cError<B>>>;
        /// Alarm Enable (0x66).
        pub fn read_alarm_enable(&mut self) -> Result<Alarm, Error<I2cError<B>>>;
        /// Writes Alarm Enable (0x66).
        pub fn write_alarm_enable(&mut self, mask: Alarm) -> Result<(), Error<I2cError<B>>>;
        /// Clears latched Alarm Status bits (write 1s to 0x62).
        pub fn clear_alarm_status(&mut self, bits: Alarm) -> Result<(), Error<I2cError<B>>>;
        /// FET Status (0x7F).
        pub fn read_fet_status(&mut self) -> Result<FetStatus, Error<I2cError<B>>>;
    }
}
