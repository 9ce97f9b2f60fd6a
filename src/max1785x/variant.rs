//! The parts as types.
//!
//! | part | cells | AUX inputs | current-sense amplifier | VERSION model (bits 15:4) |
//! |---|---|---|---|---|
//! | [`Max17852`] | 14 | AUX0..AUX3 (0x59–0x5C) | yes (CSA 0x46, thresholds 0x2C–0x2F) | 0x852 |
//! | [`Max17853`] | 14 | AUX0..AUX5 (0x59–0x5E) | no | 0x853 |
//!
//! Register availability follows foxBMS (foxBMS/foxbms-2 @308028fb,
//! `src/app/driver/afe/maxim/common/mxm_battery_management.c`, the user-accessible address
//! checks: MAX17852 reserves 0x5D/0x5E, MAX17853 reserves 0x2C–0x2F, 0x46 and 0x84–0x8B; both
//! end at 0x98) and the register list of the ADI reference firmware
//! (analogdevicesinc/MAXREFDES1301 `Firmware/MAXREFDES1301/Max1785x.h`). The model IDs are
//! foxBMS's `MXM_MODEL_ID_e` values; an EngineerZone capture of a MAX17854 VERSION read
//! (ez.analog.com thread 583407: 0x8544) decodes the same way (model 0x854, revision 4).
//!
//! The MAX17823 (12 cells) uses a different register map that is documented publicly only by
//! one hobby driver and has no public scan-control layout in the sources this crate cites, so
//! it is not offered as a driver variant (see the module docs).

mod sealed {
    pub trait Sealed {}
}

/// A MAX1785x part: constants the driver and the virtual chain need.
pub trait Variant: sealed::Sealed + Copy + core::fmt::Debug + 'static {
    /// Part name.
    const NAME: &'static str;
    /// VERSION register bits 15:4.
    const MODEL: u16;
    /// Cell inputs per device.
    const CELLS: usize;
    /// Auxiliary (thermistor) inputs per device.
    const AUX_INPUTS: usize;
    /// The current-sense amplifier (CSA register 0x46) exists.
    const HAS_CSA: bool;
    /// `true` if register `address` is user-accessible on this part.
    fn accessible(address: u8) -> bool;
}

/// MAX17852: 14 cells, 4 AUX inputs, current-sense amplifier, I2C controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Max17852;
/// MAX17853: 14 cells, 6 AUX inputs, no current-sense amplifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Max17853;

impl sealed::Sealed for Max17852 {}
impl sealed::Sealed for Max17853 {}

impl Variant for Max17852 {
    const NAME: &'static str = "MAX17852";
    const MODEL: u16 = 0x852;
    const CELLS: usize = 14;
    const AUX_INPUTS: usize = 4;
    const HAS_CSA: bool = true;
    fn accessible(address: u8) -> bool {
        !matches!(address, 0x5D | 0x5E) && address <= 0x98
    }
}

impl Variant for Max17853 {
    const NAME: &'static str = "MAX17853";
    const MODEL: u16 = 0x853;
    const CELLS: usize = 14;
    const AUX_INPUTS: usize = 6;
    const HAS_CSA: bool = false;
    fn accessible(address: u8) -> bool {
        !matches!(address, 0x2C..=0x2F | 0x46 | 0x84..=0x8B) && address <= 0x98
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_availability_differs_per_part() {
        // foxBMS self-check `MXM_5XUserAccessibleAddressSpaceCheckerSelfCheck`.
        for a in [0x00, 0x42, 0x98] {
            assert!(Max17852::accessible(a) && Max17853::accessible(a));
        }
        for a in [0x2C, 0x2E, 0x2F, 0x46, 0x84, 0x8B, 0x99] {
            assert!(!Max17853::accessible(a), "{a:#x}");
        }
        assert!(Max17852::accessible(0x46) && !Max17852::accessible(0x5D));
        assert!(!Max17852::accessible(0x99));
        assert!(Max17853::accessible(0x5D));
    }
}
