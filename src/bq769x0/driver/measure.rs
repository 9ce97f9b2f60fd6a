//! Measurements: raw VC, BAT and TS codes, pack voltage, coulomb-counter current, temperature conversion.

use super::*;

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(crate) async fn read_input_codes(
        &mut self,
        out: &mut [u16; 15],
    ) -> Result<(), Error<IO::Error>> {
        let n = usize::from(V::INPUTS);
        let mut raw = [0u8; 30];
        let raw = raw.get_mut(..2 * n).unwrap_or(&mut []);
        self.read_regs(reg::VC1_HI, raw).await?;
        out.fill(0);
        for (o, pair) in out.iter_mut().zip(raw.chunks_exact(2)) {
            *o = u16::from_be_bytes([pair[0], pair[1]]) & 0x3FFF;
        }
        Ok(())
    }

    pub(crate) async fn read_pack_voltage(&mut self) -> Result<MicroVolts, Error<IO::Error>> {
        let cal = self.cal().await?;
        let code = self.read_u16(reg::BAT_HI).await?;
        Ok(cal.pack(code, self.map.cells()))
    }

    pub(crate) async fn read_ts_codes(
        &mut self,
        out: &mut [u16; 3],
    ) -> Result<(), Error<IO::Error>> {
        let n = usize::from(V::TS_INPUTS);
        let mut raw = [0u8; 6];
        let raw = raw.get_mut(..2 * n).unwrap_or(&mut []);
        self.read_regs(reg::TS1_HI, raw).await?;
        out.fill(0);
        for (o, pair) in out.iter_mut().zip(raw.chunks_exact(2)) {
            *o = u16::from_be_bytes([pair[0], pair[1]]) & 0x3FFF;
        }
        Ok(())
    }

    pub(crate) async fn read_cc_code(&mut self) -> Result<u16, Error<IO::Error>> {
        self.read_u16(reg::CC_HI).await
    }

    fn current_of(&self, code: u16) -> MicroAmps {
        convert::cc_current(code, self.shunt_uohm).unwrap_or(MicroAmps(0))
    }

    /// The latest coulomb-counter sample if CC_READY is set (then CC_READY is cleared), else
    /// `None`: call every ≤ 250 ms in continuous mode to integrate charge.
    pub(crate) async fn take_current_sample(
        &mut self,
    ) -> Result<Option<MicroAmps>, Error<IO::Error>> {
        let st = self.read_status().await?;
        if !st.contains(SysStat::CC_READY) {
            return Ok(None);
        }
        let code = self.read_cc_code().await?;
        self.write_regs(reg::SYS_STAT, &[SysStat::CC_READY.bits()])
            .await?;
        Ok(Some(self.current_of(code)))
    }

    /// Clears CC_READY, waits for the next one (bounded) and returns that sample.
    async fn await_cc_ready(&mut self) -> Result<MicroAmps, Error<IO::Error>> {
        self.io.delay_us(CC_PERIOD.0).await;
        for _ in 0..CC_POLLS {
            if self.read_status().await?.contains(SysStat::CC_READY) {
                let code = self.read_cc_code().await?;
                self.write_regs(reg::SYS_STAT, &[SysStat::CC_READY.bits()])
                    .await?;
                return Ok(self.current_of(code));
            }
            self.io.delay_us(CC_POLL.0).await;
        }
        Err(Error::Timeout("coulomb-counter reading (CC_READY)"))
    }

    pub(crate) async fn next_current_sample(&mut self) -> Result<MicroAmps, Error<IO::Error>> {
        self.write_regs(reg::SYS_STAT, &[SysStat::CC_READY.bits()])
            .await?;
        self.await_cc_ready().await
    }

    pub(crate) async fn measure_current_once(&mut self) -> Result<MicroAmps, Error<IO::Error>> {
        let c2 = SysCtrl2::from_bits_retain(self.read_u8(reg::SYS_CTRL2).await?);
        if c2.contains(SysCtrl2::CC_EN) {
            return Err(Error::Device {
                device: 0,
                what: "one-shot needs CC_EN = 0 (continuous mode is on)",
            });
        }
        self.write_regs(reg::SYS_STAT, &[SysStat::CC_READY.bits()])
            .await?;
        self.write_regs(reg::SYS_CTRL2, &[(c2 | SysCtrl2::CC_ONESHOT).bits()])
            .await?;
        self.await_cc_ready().await
    }

    pub(super) fn convert_temp(&self, code: u16) -> Reading<MilliCelsius> {
        if code == 0 {
            return Reading::NotConverted;
        }
        match self.temp {
            TempSource::Die => Reading::Valid(convert::die_temperature(code)),
            TempSource::Thermistor(ntc) => {
                match convert::thermistor_ohms(code).and_then(|r| ntc.temperature(r)) {
                    Some(t) => Reading::Valid(t),
                    None => Reading::NotConverted,
                }
            }
        }
    }
}
