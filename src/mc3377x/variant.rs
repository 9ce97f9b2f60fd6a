//! The parts as types, and the sparse cell maps.
//!
//! A part with fewer cells than inputs leaves the inputs between the bottom and the top group
//! unconnected: MC33771x with `n` cells uses inputs CT1–CT4 and the top `n − 4` inputs,
//! MC33772x uses CT1–CT2 and the top `n − 2` (NXP BCC SW driver v2.2, `s_cellMap33771c` /
//! `s_cellMap33772c` in `src/BCC/Derivatives/mc3377xC/bcc.c`, github.com/NXPHoverGames/MR-BMS771).
//! [`CellMap`] hides this: device `k`'s cell `i` is always its `i`-th populated input, counted
//! from the bottom.

use crate::error::ConfigError;

/// The frame generation of a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Silicon {
    /// MC33771B / MC33772B: 40-bit frames, 4-bit CID, 2-bit rolling counter or 4-bit tag.
    B,
    /// MC33771C / MC33772C: 48-bit frames, 6-bit CID, 4-bit message counter.
    C,
}

impl Silicon {
    /// Frame length in bytes (CRC included): 5 on B, 6 on C.
    pub const fn frame_len(self) -> usize {
        match self {
            Self::B => 5,
            Self::C => 6,
        }
    }

    /// Largest TPL daisy chain: 15 devices (B), 63 (C) (`BCC_DEVICE_CNT_MAX_TPL` in the B and C
    /// drivers of github.com/NXPHoverGames/RDDRONE-BMS772 and MR-BMS771).
    pub const fn max_tpl_devices(self) -> usize {
        match self {
            Self::B => 15,
            Self::C => 63,
        }
    }
}

mod private {
    pub trait Sealed {}
}

/// A battery cell controller part.
pub trait Variant: private::Sealed + Copy + Default + 'static {
    /// Part name.
    const NAME: &'static str;
    /// Frame generation.
    const SILICON: Silicon;
    /// Cell inputs CT1..CTn on the package.
    const INPUTS: u8;
    /// Fewest cells the part may monitor.
    const MIN_CELLS: u8;
    /// Most cells.
    const MAX_CELLS: u8;
    /// Populated inputs at the bottom of a partly used part (4 on MC33771, 2 on MC33772).
    const BOTTOM_INPUTS: u8;
    /// `true` for the MC33772 (6-input) parts.
    const IS_MC33772: bool;
}

macro_rules! variant {
    ($(#[$m:meta])* $name:ident, $s:literal, $si:ident, $inputs:literal, $min:literal, $bottom:literal, $is772:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct $name;
        impl private::Sealed for $name {}
        impl Variant for $name {
            const NAME: &'static str = $s;
            const SILICON: Silicon = Silicon::$si;
            const INPUTS: u8 = $inputs;
            const MIN_CELLS: u8 = $min;
            const MAX_CELLS: u8 = $inputs;
            const BOTTOM_INPUTS: u8 = $bottom;
            const IS_MC33772: bool = $is772;
        }
    };
}

variant!(
    /// MC33771C: 7–14 cells, 48-bit frames, up to 63 devices on TPL.
    Mc33771c, "MC33771C", C, 14, 7, 4, false
);
variant!(
    /// MC33772C: 3–6 cells, 48-bit frames, up to 63 devices on TPL.
    Mc33772c, "MC33772C", C, 6, 3, 2, true
);
variant!(
    /// MC33771B: 7–14 cells, 40-bit frames, up to 15 devices on TPL (frame layer only).
    Mc33771b, "MC33771B", B, 14, 7, 4, false
);
variant!(
    /// MC33772B: 3–6 cells, 40-bit frames, up to 15 devices on TPL (frame layer only).
    Mc33772b, "MC33772B", B, 6, 3, 2, true
);

/// Which inputs of one device carry cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CellMap {
    mask: u16,
    cells: u8,
}

impl CellMap {
    /// The map for `cells` cells on part `V`; cell counts outside the part's range are refused.
    ///
    /// ```
    /// use bms_afe::mc3377x::{CellMap, Mc33771c, Mc33772c};
    /// // NXP BCC SW driver v2.2 s_cellMap33771c\[7\] = 0x380F, s_cellMap33772c\[3\] = 0x0023.
    /// assert_eq!(CellMap::new::<Mc33771c>(7).unwrap().mask(), 0x380F);
    /// assert_eq!(CellMap::new::<Mc33772c>(3).unwrap().mask(), 0x0023);
    /// assert!(CellMap::new::<Mc33771c>(6).is_err());
    /// ```
    pub const fn new<V: Variant>(cells: u8) -> Result<Self, ConfigError> {
        if cells < V::MIN_CELLS || cells > V::MAX_CELLS {
            return Err(ConfigError::OutOfRange {
                field: "cells per device",
                value: cells as i64,
                min: V::MIN_CELLS as i64,
                max: V::MAX_CELLS as i64,
            });
        }
        let bottom = (1u16 << V::BOTTOM_INPUTS) - 1;
        let top_n = cells - V::BOTTOM_INPUTS;
        let top = ((1u16 << top_n) - 1) << (V::INPUTS - top_n);
        Ok(Self {
            mask: bottom | top,
            cells,
        })
    }

    /// Bit `n − 1` set: input CTn carries a cell.
    pub const fn mask(&self) -> u16 {
        self.mask
    }

    /// Cells on this device.
    pub const fn cells(&self) -> u8 {
        self.cells
    }

    /// The input (1-based CTn) of cell `cell` (0-based), or `None` past the last cell.
    pub const fn input_of(&self, cell: u8) -> Option<u8> {
        let mut seen = 0;
        let mut bit = 0;
        while bit < 16 {
            if self.mask & (1 << bit) != 0 {
                if seen == cell {
                    return Some(bit + 1);
                }
                seen += 1;
            }
            bit += 1;
        }
        None
    }

    /// Per-input flags (bit `n − 1` = CTn) to per-cell flags (bit `i` = cell `i + 1`);
    /// flags of unpopulated inputs are dropped.
    pub const fn inputs_to_cells(&self, inputs: u16) -> u32 {
        let mut out = 0u32;
        let mut cell = 0;
        let mut bit = 0;
        while bit < 16 {
            if self.mask & (1 << bit) != 0 {
                if inputs & (1 << bit) != 0 {
                    out |= 1 << cell;
                }
                cell += 1;
            }
            bit += 1;
        }
        out
    }

    /// Per-cell mask to per-input mask; a bit past the last cell is refused.
    pub const fn cells_to_inputs(&self, cells: u32) -> Result<u16, ConfigError> {
        if self.cells < 32 && cells >> self.cells != 0 {
            let top = 31 - cells.leading_zeros();
            return Err(ConfigError::NoSuchCell {
                cell: top as u16 + 1,
                available: self.cells as u16,
            });
        }
        let mut out = 0u16;
        let mut cell = 0;
        let mut bit = 0;
        while bit < 16 {
            if self.mask & (1 << bit) != 0 {
                if cells & (1 << cell) != 0 {
                    out |= 1 << bit;
                }
                cell += 1;
            }
            bit += 1;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_match_the_vendor_tables() {
        // NXP BCC SW driver v2.2 (MR-BMS771 bcc.c) s_cellMap33771c[7..=14] and
        // s_cellMap33772c[3..=6], written out here independently of the formula.
        let c771 = [
            0x380F, 0x3C0F, 0x3E0F, 0x3F0F, 0x3F8F, 0x3FCF, 0x3FEF, 0x3FFF,
        ];
        for (i, m) in c771.iter().enumerate() {
            assert_eq!(CellMap::new::<Mc33771c>(7 + i as u8).unwrap().mask(), *m);
        }
        let c772 = [0x0023, 0x0033, 0x003B, 0x003F];
        for (i, m) in c772.iter().enumerate() {
            assert_eq!(CellMap::new::<Mc33772c>(3 + i as u8).unwrap().mask(), *m);
        }
        assert!(CellMap::new::<Mc33772c>(7).is_err());
        assert!(CellMap::new::<Mc33771b>(15).is_err());
    }

    #[test]
    fn cell_i_is_the_ith_populated_input() {
        let m = CellMap::new::<Mc33771c>(7).unwrap();
        let inputs: [u8; 7] = [1, 2, 3, 4, 12, 13, 14];
        for (i, n) in inputs.iter().enumerate() {
            assert_eq!(m.input_of(i as u8), Some(*n));
        }
        assert_eq!(m.input_of(7), None);
        assert_eq!(m.inputs_to_cells(0x3FFF), 0x7F);
        assert_eq!(m.inputs_to_cells(1 << 11), 1 << 4);
        assert_eq!(m.cells_to_inputs(1 << 4), Ok(1 << 11));
        assert_eq!(
            m.cells_to_inputs(1 << 7),
            Err(ConfigError::NoSuchCell {
                cell: 8,
                available: 7
            })
        );
        assert_eq!(Silicon::B.frame_len(), 5);
        assert_eq!(Silicon::C.frame_len(), 6);
    }
}
