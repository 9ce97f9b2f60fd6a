//! Thresholds: the values held and their verified write.

use super::*;

impl<V: Variant, const N: usize, IO> Max1785x<V, N, IO> {
    /// Holds the cell overvoltage threshold (OVTHSET and OVTHCLR) written by
    /// [`write_thresholds`](Self::write_thresholds) and by the start-up; returns the
    /// threshold achieved (rounded down to a code, [`register::cell_threshold`]).
    pub fn set_overvoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = register::cell_threshold(v, false)?;
        self.core.th.cell_ov = Some(code);
        Ok(achieved)
    }

    /// Holds the cell undervoltage threshold (UVTHSET and UVTHCLR); returns the threshold
    /// achieved (rounded up to a code).
    pub fn set_undervoltage(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = register::cell_threshold(v, true)?;
        self.core.th.cell_uv = Some(code);
        Ok(achieved)
    }

    /// Holds the cell mismatch threshold (MSMTCH: alert when the cells of a device differ by
    /// more); returns the value achieved (rounded down: the alert is never later). Encoded on
    /// the cell scale (not verified against the data sheet).
    pub fn set_mismatch(&mut self, v: MicroVolts) -> Result<MicroVolts, ConfigError> {
        let (code, achieved) = register::cell_threshold(v, false)?;
        self.core.th.mismatch = Some(code);
        Ok(achieved)
    }

    /// Holds the block (module) over- and undervoltage thresholds (BLKOVTHSET/CLR,
    /// BLKUVTHSET/CLR, 65 V scale); returns the values achieved (OV rounded down, UV up).
    pub fn set_block_limits(
        &mut self,
        under: MicroVolts,
        over: MicroVolts,
    ) -> Result<(MicroVolts, MicroVolts), ConfigError> {
        if under > over {
            return Err(ConfigError::Conflict(
                "block undervoltage above overvoltage",
            ));
        }
        let (u, ua) = register::block_threshold(under, true)?;
        let (o, oa) = register::block_threshold(over, false)?;
        self.core.th.block_uv = Some(u);
        self.core.th.block_ov = Some(o);
        Ok((ua, oa))
    }

    /// Holds the ratiometric AUX limits in ppm of the reference (AUXRUVTHSET/CLR below,
    /// AUXROVTHSET/CLR above). With NTC thermistors to ground a hot sensor reads a low ratio:
    /// `hot_below_ppm` is the over-temperature limit, `cold_above_ppm` the under-temperature
    /// one (they show in [`Faults`] as over/under-temperature). Returns the ratios achieved
    /// (hot rounded up, cold rounded down: never later than asked).
    pub fn set_temperature_limits(
        &mut self,
        hot_below_ppm: u32,
        cold_above_ppm: u32,
    ) -> Result<(u32, u32), ConfigError> {
        if hot_below_ppm > cold_above_ppm {
            return Err(ConfigError::Conflict(
                "over-temperature ratio above under-temperature ratio",
            ));
        }
        let (lo, la) = register::aux_ratio_threshold(hot_below_ppm, true)?;
        let (hi, ha) = register::aux_ratio_threshold(cold_above_ppm, false)?;
        self.core.th.aux_low = Some(lo);
        self.core.th.aux_high = Some(hi);
        Ok((la, ha))
    }

    /// The thresholds held (what [`write_thresholds`](Self::write_thresholds) sends).
    pub fn thresholds(&self) -> &Thresholds {
        &self.core.th
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn write_thresholds(&mut self) -> Result<(), Error<IO::Error>> {
        let th = self.th;
        for (reg, v) in th.writes() {
            self.write_all_verified(reg, v).await?;
        }
        Ok(())
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Max1785x<V, N> => core {
        /// Writes the held thresholds ([`Thresholds::writes`]: cell OV/UV, mismatch, block,
        /// ratiometric AUX; set and clear registers) to every device and verifies each by
        /// read-back.
        pub fn write_thresholds(&mut self) -> Result<(), Error<SpiError<B>>>;
    }
}
