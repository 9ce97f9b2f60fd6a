//! Settings: active cells, OV/UV and temperature thresholds, and their write with read-back.

use super::*;

impl<V: Variant, const N: usize, IO> Bq79616<V, N, IO> {
    /// Sets the active cells per device (6…the variant's inputs; ACTIVE_CELL, written at wake /
    /// `configure`). Returns the cells actually set.
    pub fn set_active_cells(&mut self, cells: u8) -> Result<u8, ConfigError> {
        if cells < 6 || cells > V::MAX_CELLS {
            return Err(ConfigError::OutOfRange {
                field: "active cells",
                value: i64::from(cells),
                min: 6,
                max: i64::from(V::MAX_CELLS),
            });
        }
        self.core.cells = cells;
        Ok(cells)
    }

    /// Active cells per device.
    pub fn active_cells(&self) -> u8 {
        self.core.cells
    }

    /// Sets the OV comparator threshold (written and started at wake / `configure`). Returns the
    /// threshold achieved (25 mV steps, rounded down, see
    /// [`ov_thresh`](crate::bq79616::register::ov_thresh)).
    pub fn set_overvoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = crate::bq79616::register::ov_thresh(v)?;
        self.core.ov = Some(code);
        Ok(achieved)
    }

    /// Sets the UV comparator threshold. Returns the threshold achieved (50 mV steps, rounded
    /// up, see [`uv_thresh`](crate::bq79616::register::uv_thresh)).
    pub fn set_undervoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = crate::bq79616::register::uv_thresh(v)?;
        self.core.uv = Some(code);
        Ok(achieved)
    }

    /// Sets the OT/UT comparator thresholds as % of TSREF (OT 10…39 %, UT 66…80 %; written,
    /// read back and started with OTUT_CTRL\[OTUT_GO\] round robin at wake / `configure`).
    /// Returns the achieved (OT %, UT %). The GPIOs must be configured as "ADC and OTUT" inputs
    /// (GPIO_CONF1…4, e.g. with `write_registers`) and TSREF enabled for the comparators to see
    /// them.
    pub fn set_temperature_thresholds(
        &mut self,
        ot_percent: u8,
        ut_percent: u8,
    ) -> Result<(u8, u8), ConfigError> {
        let (code, achieved) = crate::bq79616::register::otut_thresh(ot_percent, ut_percent)?;
        self.core.otut = Some(code);
        Ok(achieved)
    }
}

impl<V: Variant, const N: usize, IO: SerialIo> Core<V, N, IO> {
    pub(super) async fn configure(&mut self) -> Result<(), Error<IO::Error>> {
        let code = crate::bq79616::register::active_cell_code(self.cells)
            .ok_or(Error::Config(ConfigError::Unsupported("active cells")))?;
        self.write_verified(reg::ACTIVE_CELL, "ACTIVE_CELL", &[code])
            .await?;
        if let (Some(ov), Some(uv)) = (self.ov, self.uv) {
            self.write_verified(reg::OV_THRESH, "OV_THRESH/UV_THRESH", &[ov, uv])
                .await?;
            self.write_all(
                reg::OVUV_CTRL,
                &[(OvuvCtrl::MODE_ROUND_ROBIN | OvuvCtrl::OVUV_GO).bits()],
            )
            .await?;
        } else if let Some(ov) = self.ov {
            self.write_verified(reg::OV_THRESH, "OV_THRESH", &[ov])
                .await?;
        } else if let Some(uv) = self.uv {
            self.write_verified(reg::UV_THRESH, "UV_THRESH", &[uv])
                .await?;
        }
        if let Some(t) = self.otut {
            self.write_verified(reg::OTUT_THRESH, "OTUT_THRESH", &[t])
                .await?;
            self.write_all(
                reg::OTUT_CTRL,
                &[(OvuvCtrl::MODE_ROUND_ROBIN | OvuvCtrl::OVUV_GO).bits()],
            )
            .await?;
        }
        self.clear_faults().await
    }
}

twins! {
    serial impl[V: Variant, const N: usize] Bq79616<V, N> => core {
        /// ACTIVE_CELL, OV/UV thresholds (read back, comparators started) and a fault clear.
        pub fn configure(&mut self) -> Result<(), Error<SerialError<B>>>;
    }
}
