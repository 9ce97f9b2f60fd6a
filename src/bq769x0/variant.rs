//! The three family members as types, and the cell-input map for reduced cell counts.
//!
//! The bq769x0 measures every VC input (5 per "group": VC1–VC5, VC6–VC10, VC11–VC15). A
//! pack with fewer cells than inputs shorts some inputs (DS SLUSBK2I §9.1.8, Tables 9-2 to
//! 9-4): with 3 cells in a group the used inputs are VC1–VC0, VC2–VC1 and VC5–VC4, with 4 cells
//! VC1, VC2, VC3 and VC5, with 5 cells all of them; the top input of each group is always a
//! real cell. [`CellMap`] records which inputs carry real cells so that **cell `i` is always
//! the `i`-th real cell from the bottom**, for voltages, balancing and fault naming alike.
//!
//! How cells spread over the groups: [`CellMap::for_cells`] fills the groups as evenly as
//! possible and gives the extra cells to the lowest groups. This matches TI's answer for a
//! 13-cell BQ76940 (VC9–VC8 and VC14–VC13 shorted: 5 + 4 + 4; TI E2E thread 985977,
//! <https://e2e.ti.com/support/power-management-group/power-management/f/power-management-forum/985977>)
//! and the 3 + 3 split of a 6-cell BQ76930 (DS Table 9-3). Other wirings are allowed: build
//! the map from the real inputs with [`CellMap::from_inputs`].

use crate::error::ConfigError;

mod private {
    pub trait Sealed {}
}

/// A bq769x0 family member (sealed).
pub trait Variant: private::Sealed {
    /// Part name.
    const NAME: &'static str;
    /// Cell inputs (VC1–VC5 per group of five).
    const INPUTS: u8;
    /// Fewest cells the part supports (DS SLUSBK2I §5, Device Comparison Table).
    const MIN_CELLS: u8;
    /// Thermistor / die-temperature inputs TS1..TSn.
    const TS_INPUTS: u8;
    /// Time from SHIP→NORMAL (or ADC enable) to the first valid cell data, ms
    /// (DS SLUSBK2I §8.3.1.1.2 note: 250 / 400 / 800 ms).
    const FIRST_DATA_MS: u32;
    /// Cell-balancing registers CELLBAL1..n.
    const CELLBAL_REGISTERS: u8 = Self::INPUTS / 5;
}

/// BQ76920: 3–5 cells, one group, TS1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76920;
/// BQ76930: 6–10 cells, two groups, TS1–TS2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76930;
/// BQ76940: 9–15 cells, three groups, TS1–TS3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76940;

impl private::Sealed for Bq76920 {}
impl private::Sealed for Bq76930 {}
impl private::Sealed for Bq76940 {}

impl Variant for Bq76920 {
    const NAME: &'static str = "BQ76920";
    const INPUTS: u8 = 5;
    const MIN_CELLS: u8 = 3;
    const TS_INPUTS: u8 = 1;
    const FIRST_DATA_MS: u32 = 250;
}
impl Variant for Bq76930 {
    const NAME: &'static str = "BQ76930";
    const INPUTS: u8 = 10;
    const MIN_CELLS: u8 = 6;
    const TS_INPUTS: u8 = 2;
    const FIRST_DATA_MS: u32 = 400;
}
impl Variant for Bq76940 {
    const NAME: &'static str = "BQ76940";
    const INPUTS: u8 = 15;
    const MIN_CELLS: u8 = 9;
    const TS_INPUTS: u8 = 3;
    const FIRST_DATA_MS: u32 = 800;
}

/// Which VC inputs carry real cells: bit `n − 1` = input VCn (VCn − VCn−1) is a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CellMap {
    inputs: u16,
    total: u8,
}

/// Used inputs of one group of five for 3, 4 and 5 cells (DS SLUSBK2I Table 9-2).
const fn group_pattern(cells: u8) -> u16 {
    match cells {
        3 => 0b10011,
        4 => 0b10111,
        _ => 0b11111,
    }
}

impl CellMap {
    /// The map for `cells` real cells on variant `V` (spread as in the module docs).
    ///
    /// ```
    /// use bms_afe::bq769x0::{Bq76920, Bq76930, Bq76940, CellMap};
    /// assert_eq!(CellMap::for_cells::<Bq76920>(3).unwrap().inputs(), 0b10011);
    /// // BQ76940 with 13 cells: VC9 and VC14 shorted (TI E2E 985977).
    /// assert_eq!(CellMap::for_cells::<Bq76940>(13).unwrap().inputs(), 0b101111011111111);
    /// assert!(CellMap::for_cells::<Bq76930>(5).is_err());
    /// ```
    pub const fn for_cells<V: Variant>(cells: u8) -> Result<Self, ConfigError> {
        if cells < V::MIN_CELLS || cells > V::INPUTS {
            return Err(ConfigError::OutOfRange {
                field: "cell count",
                value: cells as i64,
                min: V::MIN_CELLS as i64,
                max: V::INPUTS as i64,
            });
        }
        let groups = V::INPUTS / 5;
        let base = cells / groups;
        let extra = cells % groups;
        let mut inputs = 0u16;
        let mut g = 0;
        while g < groups {
            let n = base + if g < extra { 1 } else { 0 };
            inputs |= group_pattern(n) << (5 * g as u16);
            g += 1;
        }
        Ok(Self {
            inputs,
            total: V::INPUTS,
        })
    }

    /// Every input of `V` is a cell.
    pub const fn all<V: Variant>() -> Self {
        Self {
            inputs: (1u16 << V::INPUTS) - 1,
            total: V::INPUTS,
        }
    }

    /// A map from the inputs that carry real cells (bit `n − 1` = VCn), for wirings other
    /// than [`CellMap::for_cells`]. Refused: bits beyond the variant's inputs, fewer cells
    /// than the variant supports, a group whose top input (VC5, VC10, VC15) is not a cell
    /// (DS SLUSBK2I §9.1.8: it always is), or a group with fewer than 3 cells.
    pub const fn from_inputs<V: Variant>(inputs: u16) -> Result<Self, ConfigError> {
        let all = (1u16 << V::INPUTS) - 1;
        if inputs & !all != 0 {
            return Err(ConfigError::NoSuchCell {
                cell: 16 - inputs.leading_zeros() as u16,
                available: V::INPUTS as u16,
            });
        }
        let cells = inputs.count_ones() as u8;
        if cells < V::MIN_CELLS {
            return Err(ConfigError::OutOfRange {
                field: "cell count",
                value: cells as i64,
                min: V::MIN_CELLS as i64,
                max: V::INPUTS as i64,
            });
        }
        let mut g = 0;
        while g < V::INPUTS / 5 {
            let bits = (inputs >> (5 * g as u16)) & 0x1F;
            if bits & 0x10 == 0 {
                return Err(ConfigError::Conflict(
                    "the top input of every group of five must be a cell",
                ));
            }
            if bits.count_ones() < 3 {
                return Err(ConfigError::Conflict(
                    "every group of five needs at least 3 cells",
                ));
            }
            g += 1;
        }
        Ok(Self {
            inputs,
            total: V::INPUTS,
        })
    }

    /// The used inputs (bit `n − 1` = VCn).
    pub const fn inputs(&self) -> u16 {
        self.inputs
    }

    /// Real cells.
    pub const fn cells(&self) -> u8 {
        self.inputs.count_ones() as u8
    }

    /// Inputs of the variant (5, 10, 15).
    pub const fn total_inputs(&self) -> u8 {
        self.total
    }

    /// The input (1-based VCn) of real cell `cell` (1-based), if it exists.
    pub const fn input_of(&self, cell: u8) -> Option<u8> {
        if cell == 0 {
            return None;
        }
        let mut seen = 0u8;
        let mut i = 0u8;
        while i < 16 {
            if self.inputs & (1 << i) != 0 {
                seen += 1;
                if seen == cell {
                    return Some(i + 1);
                }
            }
            i += 1;
        }
        None
    }

    /// Spreads a mask over real cells (bit `k` = cell `k + 1`) onto the inputs.
    /// Cells beyond [`CellMap::cells`] are refused.
    pub const fn cells_to_inputs(&self, mask: u32) -> Result<u16, ConfigError> {
        let cells = self.cells();
        if cells < 32 && mask >> cells != 0 {
            return Err(ConfigError::NoSuchCell {
                cell: 32 - mask.leading_zeros() as u16,
                available: cells as u16,
            });
        }
        let mut out = 0u16;
        let mut k = 0u32;
        let mut i = 0u16;
        while i < 16 {
            if self.inputs & (1 << i) != 0 {
                if mask & (1 << k) != 0 {
                    out |= 1 << i;
                }
                k += 1;
            }
            i += 1;
        }
        Ok(out)
    }

    /// The inverse of [`CellMap::cells_to_inputs`]: inputs that are not cells are dropped.
    pub const fn inputs_to_cells(&self, inputs: u16) -> u32 {
        let mut out = 0u32;
        let mut k = 0u32;
        let mut i = 0u16;
        while i < 16 {
            if self.inputs & (1 << i) != 0 {
                if inputs & (1 << i) != 0 {
                    out |= 1 << k;
                }
                k += 1;
            }
            i += 1;
        }
        out
    }
}

/// Checks a balancing request over real cells and returns the CELLBALx bits (bit `n − 1` =
/// CBn, the switch across input VCn).
///
/// Rule (DS SLUSBK2I §8.3.1.3.3): two **physically** adjacent inputs of the same group must
/// not balance at the same time; inputs of different groups (VC5 and VC6, VC10 and VC11) may.
/// With shorted inputs, real cells 2 and 3 of a 3-cell group sit on VC2 and VC5 and are not
/// adjacent.
///
/// ```
/// use bms_afe::bq769x0::{Bq76930, CellMap, balancing_inputs};
/// let map = CellMap::for_cells::<Bq76930>(6).unwrap(); // inputs 1, 2, 5, 6, 7, 10
/// assert_eq!(balancing_inputs(&map, 0b000110).unwrap(), 0b0000010010); // cells 2, 3
/// assert!(balancing_inputs(&map, 0b000011).is_err()); // VC1 and VC2 are adjacent
/// assert_eq!(balancing_inputs(&map, 0b001100).unwrap(), 0b0000110000); // VC5 + VC6: two groups
/// ```
pub const fn balancing_inputs(map: &CellMap, cells: u32) -> Result<u16, ConfigError> {
    let inputs = match map.cells_to_inputs(cells) {
        Ok(i) => i,
        Err(e) => return Err(e),
    };
    let mut g = 0;
    while g < 3 {
        let bits = (inputs >> (5 * g)) & 0x1F;
        if bits & (bits >> 1) != 0 {
            return Err(ConfigError::Conflict(
                "adjacent cells of one group cannot be balanced at the same time",
            ));
        }
        g += 1;
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads() {
        // DS Table 9-3: BQ76930 with 6 cells uses 1, 2, 5 and 6, 7, 10.
        assert_eq!(
            CellMap::for_cells::<Bq76930>(6).unwrap().inputs(),
            0b10011_10011
        );
        // TI E2E 985977: 13 cells on a BQ76940 short VC9–VC8 and VC14–VC13.
        let m = CellMap::for_cells::<Bq76940>(13).unwrap();
        assert_eq!(m.inputs() & (1 << 8), 0);
        assert_eq!(m.inputs() & (1 << 13), 0);
        assert_eq!(m.cells(), 13);
        assert_eq!(m.input_of(9), Some(10));
        assert_eq!(m.input_of(13), Some(15));
        assert_eq!(m.input_of(14), None);
        assert_eq!(m.input_of(0), None);
        for n in 9..=15 {
            let m = CellMap::for_cells::<Bq76940>(n).unwrap();
            assert_eq!(m.cells(), n);
            assert_eq!(CellMap::from_inputs::<Bq76940>(m.inputs()), Ok(m));
        }
    }

    #[test]
    fn from_inputs_rules() {
        assert!(CellMap::from_inputs::<Bq76920>(0b01111).is_err());
        assert!(CellMap::from_inputs::<Bq76920>(0b100011).is_err());
        assert!(CellMap::from_inputs::<Bq76930>(0b10011_10001).is_err());
        assert!(CellMap::from_inputs::<Bq76920>(0b11001).is_ok());
    }
}
