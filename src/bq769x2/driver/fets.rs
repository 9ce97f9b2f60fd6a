//! FET control: the host's FET intent, FET_CONTROL, autonomous FETs.

use super::*;

bitflags! {
    /// The FETs the host allows on (the driver's intent). The chip still turns a FET off
    /// when a protection trips. Converted to the FET_CONTROL layout by
    /// [`Fets::to_fet_control`]; never derived from [`FetStatus`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Fets: u8 {
        /// Charge FET.
        const CHG = 1 << 0;
        /// Precharge FET.
        const PCHG = 1 << 1;
        /// Discharge FET.
        const DSG = 1 << 2;
        /// Predischarge FET.
        const PDSG = 1 << 3;
    }
}

bitflags! {
    /// FET_CONTROL subcommand data (0x0097): 1 = force that FET off. Layout b0 DSG_OFF,
    /// b1 PDSG_OFF, b2 CHG_OFF, b3 PCHG_OFF — **not** the FET Status layout (LibreSolar
    /// bms-firmware PR #95, TRM erratum confirmed by TI).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct FetControl: u8 {
        /// Force DSG off.
        const DSG_OFF = 1 << 0;
        /// Force PDSG off.
        const PDSG_OFF = 1 << 1;
        /// Force CHG off.
        const CHG_OFF = 1 << 2;
        /// Force PCHG off.
        const PCHG_OFF = 1 << 3;
    }
}

impl Fets {
    /// The FET_CONTROL byte that allows exactly these FETs.
    ///
    /// ```
    /// use bms_afe::bq769x2::{Fets, FetControl};
    /// assert_eq!(Fets::CHG.to_fet_control(), FetControl::DSG_OFF | FetControl::PDSG_OFF | FetControl::PCHG_OFF);
    /// ```
    pub const fn to_fet_control(self) -> FetControl {
        let mut off = 0u8;
        if !self.contains(Fets::DSG) {
            off |= FetControl::DSG_OFF.bits();
        }
        if !self.contains(Fets::PDSG) {
            off |= FetControl::PDSG_OFF.bits();
        }
        if !self.contains(Fets::CHG) {
            off |= FetControl::CHG_OFF.bits();
        }
        if !self.contains(Fets::PCHG) {
            off |= FetControl::PCHG_OFF.bits();
        }
        FetControl::from_bits_retain(off)
    }
}

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(crate) async fn enable_autonomous_fets(
        &mut self,
    ) -> Result<ManufacturingStatus, Error<IO::Error>> {
        // FET_ENABLE is refused while SEALED (SLUUBY2B command-only subcommand table:
        // "Sealed: —"): say so before anything else.
        self.require_access("FET_ENABLE", Security::Unsealed)
            .await?;
        let st = self.read_manufacturing_status().await?;
        if st.contains(ManufacturingStatus::FET_EN) {
            return Ok(st);
        }
        // FET_ENABLE toggles FET_EN: only send it when FET_EN is known to be 0.
        self.subcommand(sub::FET_ENABLE).await?;
        let st = self.read_manufacturing_status().await?;
        if !st.contains(ManufacturingStatus::FET_EN) {
            return Err(Error::Device {
                device: 0,
                what: "FET_EN did not set (device sealed or FET test mode locked)",
            });
        }
        Ok(st)
    }

    pub(crate) async fn set_fets(&mut self, allowed: Fets) -> Result<(), Error<IO::Error>> {
        let fc = allowed.to_fet_control();
        self.subcommand_write(sub::FET_CONTROL, &[fc.bits()])
            .await?;
        self.fet_intent = Some(allowed);
        Ok(())
    }

    pub(crate) async fn all_fets_off(&mut self) -> Result<(), Error<IO::Error>> {
        self.subcommand(sub::ALL_FETS_OFF).await?;
        self.fet_intent = Some(Fets::empty());
        Ok(())
    }
}

twins! {
    i2c impl[V: Variant] Bq769x2<V> => core {
        /// Sets Manufacturing Status FET_EN (autonomous FET control) if it is not set. FET_ENABLE
        /// toggles, so it is only sent after reading FET_EN = 0, and the result is confirmed.
        pub fn enable_autonomous_fets(&mut self) -> Result<ManufacturingStatus, Error<I2cError<B>>>;
        /// Allows exactly these FETs (FET_CONTROL with the OFF bits of the others) and records
        /// the intent. Protections still turn FETs off.
        pub fn set_fets(&mut self, allowed: Fets) -> Result<(), Error<I2cError<B>>>;
        /// ALL_FETS_OFF; the intent becomes "none".
        pub fn all_fets_off(&mut self) -> Result<(), Error<I2cError<B>>>;
    }
}
