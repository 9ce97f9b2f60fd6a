//! Configuration: the [`Settings`] (thresholds, balancing timer, shunt, communication
//! timeout), their verified write, GPIO modes and AN thresholds.

use super::*;

/// The configuration the driver writes at initialisation (and after every re-initialisation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Settings {
    /// Common cell overvoltage threshold (TH_ALL_CT\[15:8\]).
    pub overvoltage: Threshold,
    /// Common cell undervoltage threshold (TH_ALL_CT\[7:0\]).
    pub undervoltage: Threshold,
    /// CB_TIMER code written with every enabled balancing switch (0..=511; the unit is in the
    /// data sheet, see the module docs).
    pub cb_timer: u16,
    /// Shunt resistance in µΩ for the current channel; 0 = no shunt (current not enabled).
    pub shunt_micro_ohm: u32,
    /// SYS_CFG2 TIMEOUT_COMM code (0..=3), `None` = leave the reset value.
    pub comm_timeout: Option<u8>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            overvoltage: Threshold {
                code: 0xFF,
                achieved: MicroVolts(0xFF * reg::CELL_THRESHOLD_LSB_UV),
            },
            undervoltage: Threshold {
                code: 0,
                achieved: MicroVolts(0),
            },
            cb_timer: reg::cb_cfg_bits::CB_TIMER,
            shunt_micro_ohm: 0,
            comm_timeout: None,
        }
    }
}

impl<V: Variant, T: Transport, const N: usize, IO> Mc3377x<V, T, N, IO> {
    /// Sets the common cell OV/UV thresholds (written at the next [`init`](Self::init) /
    /// [`configure`](Self::configure)); returns the achieved (overvoltage, undervoltage).
    pub fn set_cell_thresholds(
        &mut self,
        overvoltage: MicroVolts,
        undervoltage: MicroVolts,
    ) -> Result<(MicroVolts, MicroVolts), ConfigError> {
        let ov = reg::cell_threshold(overvoltage)?;
        let uv = reg::cell_threshold(undervoltage)?;
        if uv.code >= ov.code {
            return Err(ConfigError::Conflict(
                "undervoltage threshold must be below overvoltage",
            ));
        }
        self.core.settings.overvoltage = ov;
        self.core.settings.undervoltage = uv;
        Ok((ov.achieved, uv.achieved))
    }

    /// Sets the balancing timer code (CB_TIMER, 0..=511).
    pub fn set_cb_timer(&mut self, code: u16) -> Result<u16, ConfigError> {
        if code > reg::cb_cfg_bits::CB_TIMER {
            return Err(ConfigError::OutOfRange {
                field: "CB_TIMER",
                value: i64::from(code),
                min: 0,
                max: i64::from(reg::cb_cfg_bits::CB_TIMER),
            });
        }
        self.core.settings.cb_timer = code;
        Ok(code)
    }

    /// Sets the shunt resistance (µΩ, > 0) of device 0's current channel; enables I_MEAS_EN
    /// at the next initialisation and makes [`read_current`](crate::CellMonitor::read_current)
    /// return a value.
    pub fn set_shunt(&mut self, micro_ohm: u32) -> Result<u32, ConfigError> {
        if micro_ohm == 0 {
            return Err(ConfigError::OutOfRange {
                field: "shunt resistance (µΩ)",
                value: 0,
                min: 1,
                max: i64::from(u32::MAX),
            });
        }
        self.core.settings.shunt_micro_ohm = micro_ohm;
        Ok(micro_ohm)
    }

    /// Sets the SYS_CFG2 TIMEOUT_COMM code (0..=3) written at initialisation.
    pub fn set_comm_timeout(&mut self, code: u8) -> Result<u8, ConfigError> {
        if code > 3 {
            return Err(ConfigError::OutOfRange {
                field: "SYS_CFG2 TIMEOUT_COMM",
                value: i64::from(code),
                min: 0,
                max: 3,
            });
        }
        self.core.settings.comm_timeout = Some(code);
        Ok(code)
    }

    /// Sets the averaging used by [`start_conversion`](Self::start_conversion) for the
    /// `CellMonitor` modes' `Normal`; see the module docs for the mode mapping.
    pub fn set_averaging(&mut self, avg: Averaging) {
        self.core.averaging = avg;
    }
}

impl<V: Variant, T: Link<IO>, const N: usize, IO> Core<V, T, N, IO> {
    pub(super) async fn configure(&mut self) -> Result<(), Error<T::Error>> {
        let s = self.settings;
        let inputs = self.map.mask();
        for d in 0..N {
            let cfg1 = self.read_one(d, reg::SYS_CFG1).await?;
            let mut want = cfg1 | reg::sys_cfg1::CB_DRVEN;
            if s.shunt_micro_ohm != 0 {
                want |= reg::sys_cfg1::I_MEAS_EN;
            }
            want &= !(reg::sys_cfg1::SOFT_RST | reg::sys_cfg1::GO2DIAG);
            self.write_verified(
                d,
                reg::SYS_CFG1,
                "SYS_CFG1",
                want,
                // Only the bits the driver sets are compared (the others are the chip's).
                reg::sys_cfg1::CB_DRVEN | reg::sys_cfg1::I_MEAS_EN,
            )
            .await?;
            if let Some(code) = s.comm_timeout {
                let cfg2 = self.read_one(d, reg::SYS_CFG2).await?;
                let want = (cfg2 & !0x0030) | u16::from(code) << reg::SYS_CFG2_TIMEOUT_COMM_SHIFT;
                self.write_verified(d, reg::SYS_CFG2, "SYS_CFG2", want, 0x0030)
                    .await?;
            }
            self.write_verified(
                d,
                reg::TH_ALL_CT,
                "TH_ALL_CT",
                reg::th_all_ct(s.overvoltage, s.undervoltage),
                0xFFFF,
            )
            .await?;
            self.write_verified(
                d,
                reg::OV_UV_EN,
                "OV_UV_EN",
                reg::OV_UV_EN_COMMON | inputs,
                0xFFFF,
            )
            .await?;
        }
        Ok(())
    }

    pub(super) async fn set_gpio_mode(
        &mut self,
        device: usize,
        gpio: u8,
        mode: GpioMode,
    ) -> Result<(), Error<T::Error>> {
        if device >= N {
            return Err(Error::InvalidArgument("device index"));
        }
        let cfg = self.read_one(device, reg::GPIO_CFG1).await?;
        let want = mode.apply(cfg, gpio)?;
        self.write_verified(
            device,
            reg::GPIO_CFG1,
            "GPIO_CFG1",
            want,
            0b11 << (2 * u16::from(gpio)),
        )
        .await
    }

    pub(super) async fn set_an_thresholds(
        &mut self,
        an: u8,
        over_temperature: MicroVolts,
        under_temperature: MicroVolts,
    ) -> Result<(MicroVolts, MicroVolts), Error<T::Error>> {
        if an > 6 {
            return Err(Error::Config(ConfigError::OutOfRange {
                field: "AN input",
                value: i64::from(an),
                min: 0,
                max: 6,
            }));
        }
        let ot = reg::an_threshold(over_temperature)?;
        let ut = reg::an_threshold(under_temperature)?;
        for d in 0..N {
            self.write_verified(d, reg::th_an_ot(an), "TH_ANx_OT", ot.code, 0x03FF)
                .await?;
            self.write_verified(d, reg::th_an_ut(an), "TH_ANx_UT", ut.code, 0x03FF)
                .await?;
        }
        Ok((ot.achieved, ut.achieved))
    }
}

bcc_twins! {
    /// Writes the [`Settings`] to every device and verifies them by read-back.
    pub fn configure(&mut self) -> Result<(), Error<B::Error>>;
    /// Sets the mode of pin GPIOx/ANx (`gpio` 0..=6) of `device` (GPIO_CFG1, read-modify-write,
    /// verified): analog ratiometric / absolute for [`read_an`](Self::read_an), or digital.
    pub fn set_gpio_mode(&mut self, device: usize, gpio: u8, mode: GpioMode) -> Result<(), Error<B::Error>>;
    /// Sets OT/UT thresholds of input ANx on every device, verified by read-back; returns the
    /// achieved (OT, UT) voltages. The chip flags OT when the voltage falls *below* OT (NTC).
    pub fn set_an_thresholds(&mut self, an: u8, over_temperature: MicroVolts, under_temperature: MicroVolts) -> Result<(MicroVolts, MicroVolts), Error<B::Error>>;
}
