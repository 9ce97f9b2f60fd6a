//! Configuration: PART_CONFIG, SCVM_CONFIG, thresholds, TEMP_CONF and the internal OT limit, each read back.

use super::*;

impl<const N: usize, IO: SerialIo> Core<N, IO> {
    /// Writes the driver's configuration to device `d`, verified.
    pub(crate) async fn configure_device(&mut self, d: usize) -> Result<(), Error<IO::Error>> {
        let inputs = self.inputs.get(d).copied().unwrap_or(ALL_INPUTS);
        self.write_verified(d, Register::PART_CONFIG, inputs, ALL_INPUTS)
            .await?;
        self.write_verified(d, Register::SCVM_CONFIG, inputs, ALL_INPUTS)
            .await?;
        if let Some(t) = self.thresholds {
            self.write_verified(d, Register::OL_OV_THR, t.ol_ov_thr(), 0xFFFF)
                .await?;
            self.write_verified(d, Register::OL_UV_THR, t.ol_uv_thr(), 0xFFFF)
                .await?;
        }
        if let Some(c) = self.temp_conf.and_then(TempConf::encode) {
            self.write_verified(d, Register::TEMP_CONF, c, 0x7FFF)
                .await?;
        }
        if let Some(code) = self.int_ot_code {
            self.write_verified(d, Register::INT_OT_WARN_CONF, code, 0x03FF)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn write_configuration(&mut self) -> Result<(), Error<IO::Error>> {
        for d in 0..N {
            self.configure_device(d).await?;
        }
        Ok(())
    }

    pub(crate) async fn write_thresholds(&mut self) -> Result<(), Error<IO::Error>> {
        let Some(t) = self.thresholds else {
            return Err(Error::InvalidArgument("no thresholds set"));
        };
        for d in 0..N {
            self.write_verified(d, Register::OL_OV_THR, t.ol_ov_thr(), 0xFFFF)
                .await?;
            self.write_verified(d, Register::OL_UV_THR, t.ol_uv_thr(), 0xFFFF)
                .await?;
        }
        Ok(())
    }
}
