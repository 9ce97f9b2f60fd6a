//! Variants of the family as marker types.
//!
//! | type | cells | source | status |
//! |---|---|---|---|
//! | [`Adbms6830b`] | 16 | ADBMS6830B-DS Rev. 0 | verified against the notes |
//! | [`Adbms6833`] | 16 | short-form `adbms6832-6833.pdf` | **unverified**: treated as ADBMS6830B |
//! | [`Adbms6832`] | 18 | short-form `adbms6832-6833.pdf` | **unverified**: 18 cells, otherwise ADBMS6830B |
//!
//! The full ADBMS6832/6833 data sheets are available only on request; the driver assumes
//! they share the ADBMS6830B command set, register layouts, conversions and timings. For the
//! ADBMS6832 the cells 17/18 are assumed to follow the ADBMS6830B pattern (C17/C18 in result
//! group F bytes 2–5, DCC17/18 and the OV/UV flags of cells 17/18 unavailable: see
//! [`Variant::CELLS`]). Check against the full data sheet before relying on cells 17/18.
//!
//! ADBMS6815/ADBMS6817 are **not** offered: ADI's ADBMS6815 reference code
//! (`adBms6815CmdList.h`) shows a different command
//! map (RDCVALL 0x038, SRST 0x01F, LTC-style ADC modes) and no register layouts, so a driver
//! would be guesswork.

mod sealed {
    pub trait Sealed {}
}

/// A member of the ADBMS6830 family. Sealed.
pub trait Variant: sealed::Sealed {
    /// Cell inputs per device.
    const CELLS: usize;
    /// Part name.
    const NAME: &'static str;
    /// `true` where the facts used come from the part's own full data sheet.
    const VERIFIED: bool;
}

/// ADBMS6830B: 16 cells (ADBMS6830B-DS Rev. 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Adbms6830b;

/// ADBMS6832: 18 cells. Unverified: everything but the cell count is taken from the
/// ADBMS6830B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Adbms6832;

/// ADBMS6833: 16 cells. Unverified: taken to be identical to the ADBMS6830B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Adbms6833;

impl sealed::Sealed for Adbms6830b {}
impl sealed::Sealed for Adbms6832 {}
impl sealed::Sealed for Adbms6833 {}

impl Variant for Adbms6830b {
    const CELLS: usize = 16;
    const NAME: &'static str = "ADBMS6830B";
    const VERIFIED: bool = true;
}

impl Variant for Adbms6832 {
    const CELLS: usize = 18;
    const NAME: &'static str = "ADBMS6832";
    const VERIFIED: bool = false;
}

impl Variant for Adbms6833 {
    const CELLS: usize = 16;
    const NAME: &'static str = "ADBMS6833";
    const VERIFIED: bool = false;
}

/// The largest cell count of any variant (sizes internal buffers).
pub const MAX_CELLS: usize = 18;
