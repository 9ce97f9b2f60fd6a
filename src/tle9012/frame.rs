//! isoUART frames, sans-IO: request builders, reply parsers, wire bit order.
//!
//! Layout (logical bit order, first byte first; TLE9012DQU/TLE9015DQU user manual
//! Z8F80064984 Rev 1.0, example tables 7–20, as implemented alike by the open drivers
//! MaxMax-embedded/TLE9012_Arduino_Lib `TLE9012.cpp`, maekdev/pyTLE9012DQU
//! `tle9012dqu/control.py` and guilettmann/bms_tle9012 `tle9012.c`):
//!
//! | frame | bytes |
//! |---|---|
//! | read request (4) | `1E`, node ID (bit 7 = 0), register, CRC-8 over the first 3 |
//! | write request (6) | `1E`, `0x80 \| node ID`, register, data high, data low, CRC-8 over the first 5 |
//! | read reply (5) | node ID, register, data high, data low, CRC-8 over the first 4 |
//! | write reply (1) | 5 status bits, CRC-3 ([`crate::crc::tle9012_crc3`]) |
//!
//! Node ID 0 is an unaddressed device (the first one in the chain answers it), 0x3F is
//! broadcast. The CRC-8 is [`crate::crc::crc8_sae_j1850`].
//!
//! **Bit order.** The isoUART sends every byte most significant bit first. A normal UART sends
//! LSB first, so with [`WireOrder::LsbFirstUart`] every byte is bit-reversed on the way out and
//! back; with a UART configured for MSB first ([`WireOrder::MsbFirstUart`]) nothing is reversed.
//!
//! ```
//! use bms_afe::tle9012::frame::{read_request, WireOrder};
//! // Read node 1, ICVID (0x39): logical 1E 01 39 13, on an LSB-first UART 78 80 9C C8.
//! let mut f = read_request(1, 0x39);
//! assert_eq!(f, [0x1E, 0x01, 0x39, 0x13]);
//! WireOrder::LsbFirstUart.apply(&mut f);
//! assert_eq!(f, [0x78, 0x80, 0x9C, 0xC8]);
//! ```

use crate::crc::{
    crc8_sae_j1850, crc8_sae_j1850_4, crc8_sae_j1850_lsb_first_4, tle9012_crc3,
    tle9012_write_reply_ok,
};
use crate::error::FaultReason;

/// The sync byte that opens every request.
pub const SYNC: u8 = 0x1E;
/// Bit 7 of the node-ID byte: a write request.
pub const WRITE_BIT: u8 = 0x80;
/// Node ID of a broadcast (every node).
pub const BROADCAST_ID: u8 = 0x3F;
/// Node ID of a device that has not been given an ID yet (after power-up or a watchdog
/// timeout).
pub const UNASSIGNED_ID: u8 = 0x00;
/// The most nodes a chain can address: IDs 1..=62 (6-bit ID without 0 and the broadcast
/// 0x3F). The user manual's own limit was not verified from public sources.
pub const MAX_NODES: usize = 62;
/// Length of a read request.
pub const READ_REQUEST_LEN: usize = 4;
/// Length of a write request.
pub const WRITE_REQUEST_LEN: usize = 6;
/// Length of one read reply.
pub const READ_REPLY_LEN: usize = 5;
/// Length of a write reply.
pub const WRITE_REPLY_LEN: usize = 1;

/// How the host UART orders bits on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WireOrder {
    /// An ordinary UART (LSB first): the driver bit-reverses every byte.
    #[default]
    LsbFirstUart,
    /// A UART set to send MSB first (many MCUs have the option): bytes go out unchanged.
    MsbFirstUart,
}

impl WireOrder {
    /// One byte between logical and wire order (the mapping is its own inverse).
    #[inline]
    pub const fn byte(self, b: u8) -> u8 {
        match self {
            Self::LsbFirstUart => b.reverse_bits(),
            Self::MsbFirstUart => b,
        }
    }

    /// Converts `bytes` in place between logical and wire order.
    #[inline]
    pub fn apply(self, bytes: &mut [u8]) {
        if self == Self::LsbFirstUart {
            for b in bytes {
                *b = b.reverse_bits();
            }
        }
    }
}

/// A read request to `node` (6 bits; [`BROADCAST_ID`] reads every node) for `register`.
pub fn read_request(node: u8, register: u8) -> [u8; READ_REQUEST_LEN] {
    let mut f = [SYNC, node & 0x3F, register, 0];
    f[3] = crc8_sae_j1850(&f[..3]);
    f
}

/// A write request of `value` to `register` of `node` (6 bits; [`BROADCAST_ID`] writes every
/// node).
pub fn write_request(node: u8, register: u8, value: u16) -> [u8; WRITE_REQUEST_LEN] {
    let [hi, lo] = value.to_be_bytes();
    let mut f = [SYNC, WRITE_BIT | (node & 0x3F), register, hi, lo, 0];
    f[5] = crc8_sae_j1850(&f[..5]);
    f
}

/// An intact read reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReadReply {
    /// The node ID the reply carries (bits 5..0 of its first byte).
    pub node: u8,
    /// The register address it carries.
    pub register: u8,
    /// The register value.
    pub value: u16,
}

/// Checks one read reply (logical order) and decodes it. A CRC mismatch is
/// [`FaultReason::Crc`]; a first byte with bits 7..6 set (not a node ID) is
/// [`FaultReason::Framing`].
pub fn parse_read_reply(frame: &[u8; READ_REPLY_LEN]) -> Result<ReadReply, FaultReason> {
    let expected = crc8_sae_j1850_4(&[frame[0], frame[1], frame[2], frame[3]]);
    if expected != frame[4] {
        return Err(FaultReason::Crc {
            expected,
            received: frame[4],
        });
    }
    if frame[0] & 0xC0 != 0 {
        return Err(FaultReason::Framing);
    }
    Ok(ReadReply {
        node: frame[0],
        register: frame[1],
        value: u16::from_be_bytes([frame[2], frame[3]]),
    })
}

/// Each byte bit-reversed (256 bytes).
static REVERSED: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).reverse_bits();
        i += 1;
    }
    t
};

/// [`parse_read_reply`] of a frame still in wire order: the CRC is checked on the wire bytes
/// as received ([`crc8_sae_j1850_lsb_first_4`] for an LSB-first UART) and only an intact frame
/// is converted. Errors carry logical-order values, as from [`parse_read_reply`].
#[inline]
pub fn parse_read_reply_wire(
    frame: &[u8; READ_REPLY_LEN],
    order: WireOrder,
) -> Result<ReadReply, FaultReason> {
    let head = [frame[0], frame[1], frame[2], frame[3]];
    let (ok, logical) = match order {
        WireOrder::LsbFirstUart => {
            let ok = crc8_sae_j1850_lsb_first_4(&head) == frame[4];
            (ok, head.map(|b| REVERSED[usize::from(b)]))
        }
        WireOrder::MsbFirstUart => (crc8_sae_j1850_4(&head) == frame[4], head),
    };
    if !ok {
        let mut l = *frame;
        order.apply(&mut l);
        return parse_read_reply(&l);
    }
    if logical[0] & 0xC0 != 0 {
        return Err(FaultReason::Framing);
    }
    Ok(ReadReply {
        node: logical[0],
        register: logical[1],
        value: u16::from_be_bytes([logical[2], logical[3]]),
    })
}

/// The status bits of an intact write reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WriteReply {
    /// The 5 status bits. Their meaning is not in the public sources the crate was built from;
    /// 0 is the value every open implementation sees on success, and the driver treats any
    /// other value as a refused write (see the family docs).
    pub status: u8,
}

/// Checks a write-reply byte (logical order). A CRC-3 mismatch is [`FaultReason::Crc`]
/// (expected = the CRC-3 of the received status bits, received = the byte's low 3 bits).
pub fn parse_write_reply(byte: u8) -> Result<WriteReply, FaultReason> {
    if tle9012_write_reply_ok(byte) {
        Ok(WriteReply { status: byte >> 3 })
    } else {
        Err(FaultReason::Crc {
            expected: tle9012_crc3(byte >> 3),
            received: byte & 0x7,
        })
    }
}

/// The write-reply byte a node sends for `status` (for virtual chips and tests).
pub const fn write_reply(status: u8) -> u8 {
    (status & 0x1F) << 3 | tle9012_crc3(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_put_fields_in_place() {
        let w = write_request(0x3F, 0x14, 0xC404);
        assert_eq!(&w[..5], &[0x1E, 0xBF, 0x14, 0xC4, 0x04]);
        let r = read_request(0x41, 0x19);
        assert_eq!(r[1], 0x01, "ID masked to 6 bits");
    }

    #[test]
    fn wire_parse_matches_logical_parse() {
        let mut f = [0x07, 0x19, 0xA8, 0xF6, 0];
        f[4] = crc8_sae_j1850(&f[..4]);
        for flip in 0..41 {
            let mut g = f;
            if flip < 40 {
                g[flip / 8] ^= 1 << (flip % 8);
            }
            let want = parse_read_reply(&g);
            assert_eq!(parse_read_reply_wire(&g, WireOrder::MsbFirstUart), want);
            let mut w = g;
            WireOrder::LsbFirstUart.apply(&mut w);
            assert_eq!(parse_read_reply_wire(&w, WireOrder::LsbFirstUart), want);
        }
    }

    #[test]
    fn reply_rejects_non_id_first_byte() {
        let mut f = [0x41, 0x19, 0x12, 0x34, 0];
        f[4] = crc8_sae_j1850(&f[..4]);
        assert_eq!(parse_read_reply(&f), Err(FaultReason::Framing));
    }
}
