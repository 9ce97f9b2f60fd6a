//! Pure I2C framing for the bq769x2 (plain and CRC mode) and the subcommand transfer-buffer
//! checksum. No bus here: these functions build the exact bytes the host writes and check the
//! bytes it reads.
//!
//! # CRC mode (SLUAA11B §4, DS-76952 "I2C with CRC", SLUUBY2B)
//!
//! The CRC is CRC-8 with polynomial x⁸ + x² + x + 1, initial value 0, no reflection
//! ([`crc8_smbus`]).
//!
//! * **Write** `reg, d0, crc0, d1, crc1, …`: `crc0` covers the 8-bit write address
//!   (`addr << 1`), the register and `d0`; every later CRC covers its data byte alone.
//! * **Read with repeated start** `d0, crc0, d1, crc1, …`: `crc0` covers `addr << 1`, the
//!   register, `addr << 1 | 1` and `d0`; every later CRC covers its data byte alone.
//!
//! Published example (SLUAA11B §4): FET_ENABLE is written as `10 3E 22 [63] 00 [00]` and
//! cell 1 is read as `10 14 11 68 [33] 0B [31]` (0x0B68 = 2920 mV).
//!
//! ```
//! use bms_afe::bq769x2::frame;
//! let mut out = [0u8; frame::MAX_WRITE];
//! let n = frame::encode_write(true, 0x08, 0x3E, &[0x22, 0x00], &mut out).unwrap();
//! assert_eq!(&out[..n], &[0x3E, 0x22, 0x63, 0x00, 0x00]);
//!
//! let mut cell = [0u8; 2];
//! frame::decode_read(true, 0x08, 0x14, &[0x68, 0x33, 0x0B, 0x31], &mut cell).unwrap();
//! assert_eq!(u16::from_le_bytes(cell), 2920);
//! ```
//!
//! # Transfer-buffer checksum (SLUUBY2B data-memory access; E2E-1495056)
//!
//! Subcommand and data-memory transfers carry `checksum = !(sum of the two address bytes and
//! the data bytes) mod 256` at 0x60 and `length = data bytes + 4` at 0x61 (written last: the
//! write of 0x61 commits the transfer). See [`checksum`] and [`transfer_length`].

use crate::crc::{crc8_smbus, crc8_smbus_byte};
use crate::error::FaultReason;

/// Largest data payload of one transfer-buffer access (0x40..=0x5F).
pub const MAX_TRANSFER: usize = 32;
/// Largest register burst this crate reads in one I2C transaction (16 cells × 2 bytes).
pub const MAX_READ: usize = 32;
/// Size of a buffer that holds any encoded write: register + 34 data bytes, each with a CRC.
pub const MAX_WRITE: usize = 1 + 2 * (MAX_TRANSFER + 2);
/// Size of a buffer that holds any raw read of [`MAX_READ`] bytes in CRC mode.
pub const MAX_RAW_READ: usize = 2 * MAX_READ;

/// The framing could not be built (caller error, never bus data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameTooLong;

/// Transfer-buffer checksum: bitwise NOT of the modulo-256 sum of the subcommand/data-memory
/// address bytes (low, high) and the data bytes (SLUUBY2B; not a CRC).
///
/// ```
/// // SLUUBY2B data-memory example: Cell 1 Gain (0x9180) = 0x307A → checksum 0x44.
/// assert_eq!(bms_afe::bq769x2::frame::checksum(0x9180, &[0x7A, 0x30]), 0x44);
/// ```
pub const fn checksum(address: u16, data: &[u8]) -> u8 {
    let [lo, hi] = address.to_le_bytes();
    let mut sum = lo.wrapping_add(hi);
    let mut i = 0;
    while i < data.len() {
        sum = sum.wrapping_add(data[i]);
        i += 1;
    }
    !sum
}

/// The value written to 0x61 for `data_len` data bytes: `data_len + 4` (the two address
/// bytes, the checksum and the length byte are counted). Saturates for absurd lengths.
pub const fn transfer_length(data_len: usize) -> u8 {
    if data_len > 251 {
        255
    } else {
        data_len as u8 + 4
    }
}

/// Number of raw bytes a read of `n` data bytes takes on the wire.
pub const fn raw_read_len(crc: bool, n: usize) -> usize {
    if crc { 2 * n } else { n }
}

/// Encodes a register write (`reg` followed by `data`, auto-incrementing) into `out` and
/// returns the number of bytes to send after the address byte. In CRC mode each data byte
/// is followed by its CRC as described in the [module docs](self).
pub fn encode_write(
    crc: bool,
    address: u8,
    reg: u8,
    data: &[u8],
    out: &mut [u8],
) -> Result<usize, FrameTooLong> {
    let need = 1 + if crc { 2 * data.len() } else { data.len() };
    let out = out.get_mut(..need).ok_or(FrameTooLong)?;
    let (first, rest) = out.split_first_mut().ok_or(FrameTooLong)?;
    *first = reg;
    if !crc {
        rest.copy_from_slice(data);
        return Ok(need);
    }
    for (i, (pair, &d)) in rest.chunks_exact_mut(2).zip(data).enumerate() {
        let c = if i == 0 {
            crc8_smbus(&[address << 1, reg, d])
        } else {
            crc8_smbus_byte(d)
        };
        pair.copy_from_slice(&[d, c]);
    }
    Ok(need)
}

/// Checks a raw register read (`raw` as received after a repeated start) and copies the data
/// bytes into `out`. `raw.len()` must be [`raw_read_len`]`(crc, out.len())`, else
/// [`FaultReason::Framing`]. In CRC mode the first bad CRC is reported as
/// [`FaultReason::Crc`]; `out` is then left partially written and must not be used.
pub fn decode_read(
    crc: bool,
    address: u8,
    reg: u8,
    raw: &[u8],
    out: &mut [u8],
) -> Result<(), FaultReason> {
    if raw.len() != raw_read_len(crc, out.len()) {
        return Err(FaultReason::Framing);
    }
    if !crc {
        out.copy_from_slice(raw);
        return Ok(());
    }
    let (Some(([d0, c0], rest)), Some((o0, out_rest))) =
        (raw.split_first_chunk::<2>(), out.split_first_mut())
    else {
        return Ok(()); // nothing to read (lengths already checked)
    };
    // The first byte's CRC covers the repeated-start header (B.2).
    let expected = crc8_smbus(&[address << 1, reg, (address << 1) | 1, *d0]);
    if expected != *c0 {
        return Err(FaultReason::Crc {
            expected,
            received: *c0,
        });
    }
    *o0 = *d0;
    // Later bytes carry the CRC of the byte alone: one table look-up each; mismatches are
    // collected branch-free and located only on failure.
    let mut bad = 0u8;
    for (pair, o) in rest.chunks_exact(2).zip(out_rest.iter_mut()) {
        if let [d, c] = *pair {
            bad |= crc8_smbus_byte(d) ^ c;
            *o = d;
        }
    }
    if bad != 0 {
        for pair in rest.chunks_exact(2) {
            if let [d, received] = *pair {
                let expected = crc8_smbus_byte(d);
                if expected != received {
                    return Err(FaultReason::Crc { expected, received });
                }
            }
        }
    }
    Ok(())
}

/// Verifies a transfer-buffer response: `len_byte` (read from 0x61) must be `data.len() + 4`
/// within 4..=36 and `checksum_byte` (0x60) must match [`checksum`] over `address` and the data.
pub fn verify_transfer(
    address: u16,
    data: &[u8],
    checksum_byte: u8,
    len_byte: u8,
) -> Result<(), FaultReason> {
    if usize::from(len_byte) != data.len() + 4 {
        return Err(FaultReason::Framing);
    }
    let expected = checksum(address, data);
    if expected != checksum_byte {
        return Err(FaultReason::Checksum {
            expected,
            received: checksum_byte,
        });
    }
    Ok(())
}

/// The data length announced by a transfer-length byte, if plausible (4..=36 → 0..=32).
pub const fn data_len_from_length(len_byte: u8) -> Option<usize> {
    if len_byte >= 4 && (len_byte as usize) <= MAX_TRANSFER + 4 {
        Some(len_byte as usize - 4)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_write_is_verbatim() {
        let mut out = [0u8; MAX_WRITE];
        let n = encode_write(false, 0x08, 0x3E, &[0x90, 0x00], &mut out).unwrap();
        assert_eq!(&out[..n], &[0x3E, 0x90, 0x00]);
    }

    #[test]
    fn too_long_is_an_error_not_a_panic() {
        let mut out = [0u8; 4];
        assert_eq!(
            encode_write(true, 0x08, 0x40, &[0; 8], &mut out),
            Err(FrameTooLong)
        );
    }

    #[test]
    fn length_bounds() {
        assert_eq!(data_len_from_length(3), None);
        assert_eq!(data_len_from_length(4), Some(0));
        assert_eq!(data_len_from_length(36), Some(32));
        assert_eq!(data_len_from_length(37), None);
        assert_eq!(transfer_length(2), 6);
    }
}
