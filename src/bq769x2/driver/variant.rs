//! The bq769x2 family members (sealed [`Variant`] trait and its marker types).

mod private {
    pub trait Sealed {}
}

/// A bq769x2 family member (sealed).
pub trait Variant: private::Sealed {
    /// Part name.
    const NAME: &'static str;
    /// Cell inputs (VC pins measured as cells).
    const CELL_INPUTS: u8;
    /// The DEVICE_NUMBER subcommand result, if known.
    const DEVICE_NUMBER: Option<u16>;
    /// `true` if [`Variant::DEVICE_NUMBER`] was read in a TI document; if `false`, a
    /// different number is reported in [`DeviceInfo`](super::DeviceInfo) but not treated as an error.
    const DEVICE_NUMBER_VERIFIED: bool;
}

/// BQ76952: 16 cell inputs. DEVICE_NUMBER 0x7695 is expected by TI's numbering scheme but
/// was not found in a TI document: a mismatch is reported, not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76952;
/// BQ76942: 10 cell inputs, DEVICE_NUMBER 0x7694 (SLUAA11B §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76942;
/// BQ769142: 14 cell inputs (same command set; DEVICE_NUMBER unknown to this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq769142;
/// BQ76922: 5 cell inputs (same command set; DEVICE_NUMBER unknown to this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76922;

impl private::Sealed for Bq76952 {}
impl private::Sealed for Bq76942 {}
impl private::Sealed for Bq769142 {}
impl private::Sealed for Bq76922 {}

impl Variant for Bq76952 {
    const NAME: &'static str = "BQ76952";
    const CELL_INPUTS: u8 = 16;
    const DEVICE_NUMBER: Option<u16> = Some(0x7695);
    const DEVICE_NUMBER_VERIFIED: bool = false;
}
impl Variant for Bq76942 {
    const NAME: &'static str = "BQ76942";
    const CELL_INPUTS: u8 = 10;
    const DEVICE_NUMBER: Option<u16> = Some(0x7694);
    const DEVICE_NUMBER_VERIFIED: bool = true;
}
impl Variant for Bq769142 {
    const NAME: &'static str = "BQ769142";
    const CELL_INPUTS: u8 = 14;
    const DEVICE_NUMBER: Option<u16> = None;
    const DEVICE_NUMBER_VERIFIED: bool = false;
}
impl Variant for Bq76922 {
    const NAME: &'static str = "BQ76922";
    const CELL_INPUTS: u8 = 5;
    const DEVICE_NUMBER: Option<u16> = None;
    const DEVICE_NUMBER_VERIFIED: bool = false;
}
