//! Pure I2C framing for the bq769x0, with and without the factory CRC option.
//!
//! CRC-8: polynomial x⁸ + x² + x + 1, initial value 0 (DS SLUSBK2I §8.3.1.4), i.e.
//! [`crc8_smbus`]. Coverage (DS SLUSBK2I §8.3.1.4, TI E2E 937558 for the 8-bit address form):
//!
//! * **Write** `reg, d0, crc0, d1, crc1, …`: `crc0` covers the 8-bit write address
//!   (`addr << 1`), the register and `d0`; every later CRC covers its data byte alone.
//! * **Read** `d0, crc0, d1, crc1, …`: `crc0` covers the 8-bit **read** address
//!   (`addr << 1 | 1`) and `d0` only — the register-address write phase is not included
//!   (unlike the bq769x2); every later CRC covers its data byte alone.
//!
//! A CRC part NACKs a write whose CRC is wrong (TI E2E 929619), so writes are checked by the
//! chip; reads are checked here, every byte.
//!
//! ```
//! use bms_afe::bq769x0::frame;
//! let mut out = [0u8; frame::MAX_WRITE];
//! // CC_CFG (0x0B) ← 0x19 at address 0x08: CRC over 10 0B 19 = 0x7A.
//! let n = frame::encode_write(true, 0x08, 0x0B, &[0x19], &mut out).unwrap();
//! assert_eq!(&out[..n], &[0x0B, 0x19, 0x7A]);
//! // Reading it back: CRC over 11 19 = 0x0D.
//! let mut v = [0u8; 1];
//! frame::decode_read(true, 0x08, &[0x19, 0x0D], &mut v).unwrap();
//! assert_eq!(v, [0x19]);
//! ```

use crate::crc::{crc8_smbus, crc8_smbus_byte};
use crate::error::FaultReason;

/// Longest register burst the driver reads (VC1..VC15: 30 bytes; also BAT..CC: 10).
pub const MAX_READ: usize = 30;
/// Raw bytes of the longest read in CRC mode.
pub const MAX_RAW_READ: usize = 2 * MAX_READ;
/// Longest data block the driver writes (SYS_CTRL1..CC_CFG: 8 bytes).
pub const MAX_WRITE_DATA: usize = 8;
/// A buffer that holds any encoded write.
pub const MAX_WRITE: usize = 1 + 2 * MAX_WRITE_DATA;

/// A write longer than [`MAX_WRITE_DATA`] (a caller error, never bus data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameTooLong;

/// Raw bytes on the wire for a read of `n` data bytes.
pub const fn raw_read_len(crc: bool, n: usize) -> usize {
    if crc { 2 * n } else { n }
}

/// The CRC of the first data byte of a read from 7-bit `address`.
pub fn read_crc0(address: u8, d0: u8) -> u8 {
    crc8_smbus(&[(address << 1) | 1, d0])
}

/// The CRC of the first data byte of a write to 7-bit `address` at `reg`.
pub fn write_crc0(address: u8, reg: u8, d0: u8) -> u8 {
    crc8_smbus(&[address << 1, reg, d0])
}

/// Encodes `reg, data…` (with CRCs in CRC mode) into `out`; returns the byte count.
pub fn encode_write(
    crc: bool,
    address: u8,
    reg: u8,
    data: &[u8],
    out: &mut [u8],
) -> Result<usize, FrameTooLong> {
    if data.len() > MAX_WRITE_DATA {
        return Err(FrameTooLong);
    }
    let need = 1 + raw_read_len(crc, data.len());
    let out = out.get_mut(..need).ok_or(FrameTooLong)?;
    let (first, rest) = out.split_first_mut().ok_or(FrameTooLong)?;
    *first = reg;
    if !crc {
        rest.copy_from_slice(data);
        return Ok(need);
    }
    for (i, (pair, &d)) in rest.chunks_exact_mut(2).zip(data).enumerate() {
        let c = if i == 0 {
            write_crc0(address, reg, d)
        } else {
            crc8_smbus_byte(d)
        };
        pair.copy_from_slice(&[d, c]);
    }
    Ok(need)
}

/// Checks a raw read and copies the data into `out` (`raw.len()` must be
/// [`raw_read_len`]`(crc, out.len())`, else [`FaultReason::Framing`]).
///
/// CRC mode: every byte's CRC is checked; the first mismatch is [`FaultReason::Crc`] and
/// `out` must not be used. Plain mode has no integrity code on the silicon; a read whose
/// bytes are **all** 0xFF over two or more bytes (the I2C idle level: a target that stopped
/// driving SDA) is reported as [`FaultReason::NoResponse`] — no multi-byte bq769x0 burst the
/// driver reads can legitimately be all 0xFF (each contains a register with reserved bits,
/// DS §8.5). A single byte read in plain mode is not checked at all.
pub fn decode_read(crc: bool, address: u8, raw: &[u8], out: &mut [u8]) -> Result<(), FaultReason> {
    if raw.len() != raw_read_len(crc, out.len()) {
        return Err(FaultReason::Framing);
    }
    check_read(crc, address, raw)?;
    if crc {
        for (o, pair) in out.iter_mut().zip(raw.chunks_exact(2)) {
            *o = pair[0];
        }
    } else {
        out.copy_from_slice(raw);
    }
    Ok(())
}

/// Checks a raw read in place (the checks of [`decode_read`], without copying): in CRC mode
/// `raw` is `d0, crc0, d1, crc1, …` (an odd length is [`FaultReason::Framing`]); the data byte
/// `k` is then `raw[2 k]`.
pub fn check_read(crc: bool, address: u8, raw: &[u8]) -> Result<(), FaultReason> {
    if !crc {
        if raw.len() >= 2 && raw.iter().all(|&b| b == 0xFF) {
            return Err(FaultReason::NoResponse);
        }
        return Ok(());
    }
    if raw.len() % 2 != 0 {
        return Err(FaultReason::Framing);
    }
    // CRC-8 with initial value 0 and no final XOR over (a, d) is T[T[a] ^ d].
    let mut seed = crc8_smbus_byte((address << 1) | 1);
    for pair in raw.chunks_exact(2) {
        let (d, received) = (pair[0], pair[1]);
        let expected = crc8_smbus_byte(seed ^ d);
        if expected != received {
            return Err(FaultReason::Crc { expected, received });
        }
        seed = 0;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors() {
        // TI E2E 937558: the address byte in the CRC is the 8-bit on-wire form.
        assert_eq!(write_crc0(0x18, 0x0B, 0x19), 0x39);
        assert_eq!(read_crc0(0x18, 0x19), 0xA3);
        assert_eq!(read_crc0(0x08, 0x00), 0x42);
        assert_eq!(crc8_smbus_byte(0x19), 0x4F);
    }

    #[test]
    fn every_flip_is_caught() {
        let mut out = [0u8; 4];
        let n = encode_write(true, 0x08, 0x01, &[1, 2, 3], &mut out[..0]).unwrap_err();
        assert_eq!(n, FrameTooLong);
        let data = [0x12u8, 0x34, 0x56];
        let mut raw = [0u8; 6];
        for (i, &d) in data.iter().enumerate() {
            raw[2 * i] = d;
            raw[2 * i + 1] = if i == 0 {
                read_crc0(0x08, d)
            } else {
                crc8_smbus_byte(d)
            };
        }
        let mut got = [0u8; 3];
        assert_eq!(decode_read(true, 0x08, &raw, &mut got), Ok(()));
        assert_eq!(got, data);
        for bit in 0..48 {
            let mut bad = raw;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                decode_read(true, 0x08, &bad, &mut got).is_err(),
                "bit {bit}"
            );
        }
        assert_eq!(
            decode_read(false, 0x08, &[0xFF, 0xFF], &mut got[..2]),
            Err(FaultReason::NoResponse)
        );
        assert_eq!(
            decode_read(true, 0x08, &raw[..5], &mut got),
            Err(FaultReason::Framing)
        );
    }
}
