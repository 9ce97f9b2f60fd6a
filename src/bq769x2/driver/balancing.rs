//! Cell balancing: the host-side rule check, the connected-cell to input mapping, and the
//! balancing subcommands.

use super::*;

/// Pure balancing rule check over *connected-cell* numbering (bit `k` = the `k+1`-th
/// connected cell from the bottom): cells exist, no two adjacent cells, at most `max_cells`.
///
/// Adjacent cells are refused as a conservative rule: neighbouring cells' internal balancing
/// FETs share a VC pin (the same reason the bq769x0 family forbids adjacent balancing). The
/// crate's notes do not quote a bq769x2 TRM sentence for it; it costs at most half the
/// balancing throughput per step (alternate odd and even cells).
pub fn check_balancing(mask: u32, cells: u8, max_cells: u8) -> Result<(), ConfigError> {
    let limit = if cells >= 32 {
        u32::MAX
    } else {
        (1u32 << cells) - 1
    };
    if mask & !limit != 0 {
        let cell = 32 - mask.leading_zeros();
        return Err(ConfigError::NoSuchCell {
            cell: cell as u16,
            available: u16::from(cells),
        });
    }
    if mask & (mask >> 1) != 0 {
        return Err(ConfigError::Conflict(
            "adjacent cells cannot be balanced at the same time",
        ));
    }
    if mask.count_ones() > u32::from(max_cells) {
        return Err(ConfigError::Conflict(
            "more cells than Cell Balance Max Cells allows",
        ));
    }
    Ok(())
}

/// Spreads a connected-cell mask onto the physical inputs of `vcell_mode`.
pub fn logical_to_inputs(mask: u32, vcell_mode: u16) -> u16 {
    let mut out = 0u16;
    let mut k = 0u32;
    for input in 0..16u16 {
        if vcell_mode & (1 << input) != 0 {
            if k < 32 && mask & (1 << k) != 0 {
                out |= 1 << input;
            }
            k += 1;
        }
    }
    out
}

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    /// Balances the given connected cells (bit k = k+1-th connected cell).
    pub(crate) async fn set_balancing_cells(&mut self, mask: u32) -> Result<u16, Error<IO::Error>> {
        check_balancing(mask, self.cells(), self.cb_max_cells)?;
        let inputs = logical_to_inputs(mask, self.connected());
        if inputs == 0 && self.read_cb_active_cells().await? == 0 {
            // Stop with nothing balancing: already the requested state, nothing to write.
            return Ok(0);
        }
        self.subcommand_write(sub::CB_ACTIVE_CELLS, &inputs.to_le_bytes())
            .await?;
        let back = self.read_cb_active_cells().await?;
        let pairs = inputs.to_le_bytes().into_iter().zip(back.to_le_bytes());
        for (offset, (expected, actual)) in pairs.enumerate() {
            if expected != actual {
                return Err(Error::Verify(VerifyMismatch {
                    device: 0,
                    register: "CB_ACTIVE_CELLS",
                    offset: offset as u8,
                    expected,
                    actual,
                }));
            }
        }
        Ok(inputs)
    }

    pub(crate) async fn read_cb_active_cells(&mut self) -> Result<u16, Error<IO::Error>> {
        let mut b = [0u8; 2];
        self.subcommand_read_exact(sub::CB_ACTIVE_CELLS, &mut b)
            .await?;
        Ok(u16::from_le_bytes(b))
    }
}

twins! {
    i2c impl[V: Variant] Bq769x2<V> => core {
        /// Host balancing of connected cells (bit k = k+1-th connected cell): rules checked
        /// by [`check_balancing`], written to CB_ACTIVE_CELLS and read back. Returns the
        /// physical input mask.
        pub fn set_balancing_cells(&mut self, mask: u32) -> Result<u16, Error<I2cError<B>>>;
        /// CB_ACTIVE_CELLS (physical inputs being balanced).
        pub fn read_cb_active_cells(&mut self) -> Result<u16, Error<I2cError<B>>>;
    }
}
