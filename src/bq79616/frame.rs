//! Command and response frames (sans-IO).
//!
//! # Command frame (host → device)
//!
//! `INIT | [DEV_ADDR] | REG_HI | REG_LO | DATA… | CRC_LO | CRC_HI` (SLUSE81E §9.3.6.1.1.2.1
//! "Transaction Frame Structure"; SLVAE86B rev. B Tables 1-2 … 1-5):
//!
//! * INIT: bit 7 = 1 (command), bits 6:4 the [`Request`] type, bit 3 = 0, bits 2:0
//!   DATA_SIZE. Writes carry 1…8 data bytes, DATA_SIZE = bytes − 1. Reads carry DATA_SIZE = 0
//!   and exactly one data byte, the number of registers to return − 1 (0x00 = 1 … 0x7F = 128;
//!   the MSB is ignored: SLUSDQ4 BQ79606A-Q1 data sheet, "Data Bytes").
//! * DEV_ADDR (6 bits, 0…63) only in single-device frames.
//! * The register address is big-endian; multi-byte register data too.
//! * CRC-16/MODBUS ([`crate::crc::crc16_modbus`]: x¹⁶ + x¹⁵ + x² + 1, reflected, init 0xFFFF,
//!   SLUSE48B BQ79656-Q1 "CRC" paragraph) over every byte before it, sent **low byte first**.
//!
//! # Response frame (device → host)
//!
//! `LEN−1 | DEV_ADDR | REG_HI | REG_LO | DATA (LEN) | CRC_LO | CRC_HI`: one frame of
//! LEN + 6 bytes per responding device. It is checked by running the CRC over the whole frame,
//! CRC included: the residue is 0 (SLUSDQ4 "the result is 0000"). The header is then checked
//! against the request (length, register, a device the request addressed).
//!
//! # The notation trap
//!
//! TI documents print the CRC either in wire order (SLVAE86B, SLUSDQ4 single-read and
//! response examples: "0xCB49" is the bytes `CB 49`, the value 0x49CB) or as the value
//! (SLUSDQ4 broadcast-write example "0x336A" = bytes `6A 33`). This module and its tests work
//! on wire bytes and the residue only.
//!
//! # Detection strength
//!
//! CRC-16/MODBUS detects every error burst of up to 16 bits and every odd number of bit errors
//! (x + 1 divides the polynomial) in any frame length used here (at most 134 bytes), and every
//! 2-bit error up to its period of 32 767 bits, far beyond the longest frame: all single and
//! double bit flips in a response are detected. The 128-register read is not weaker than the
//! short ones for these classes.
//!
//! ```
//! use bms_afe::bq79616::frame::{Request, command};
//! // SLVAE86B rev. B Table 1-2: single read of 12 bytes at 0x0215 from device 0: CRC bytes CB 49.
//! let f = command(Request::SingleRead, 0, 0x0215, &[0x0B]).unwrap();
//! assert_eq!(f.as_bytes(), [0x80, 0x00, 0x02, 0x15, 0x0B, 0xCB, 0x49]);
//! ```

use crate::crc::crc16_modbus;
use crate::error::FaultReason;

/// Request types (INIT bits 6:4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Request {
    /// Single-device read (has DEV_ADDR).
    SingleRead,
    /// Single-device write (has DEV_ADDR).
    SingleWrite,
    /// Read from every stack device (COMM_CTRL\[STACK_DEV\] = 1; not the base or bridge).
    StackRead,
    /// Write to every stack device.
    StackWrite,
    /// Read from every device (the base too).
    BroadcastRead,
    /// Write to every device.
    BroadcastWrite,
    /// Broadcast write sent in the reverse direction of the daisy chain.
    BroadcastWriteReverse,
}

impl Request {
    /// Bits 6:4 of INIT.
    pub const fn code(self) -> u8 {
        match self {
            Self::SingleRead => 0,
            Self::SingleWrite => 1,
            Self::StackRead => 2,
            Self::StackWrite => 3,
            Self::BroadcastRead => 4,
            Self::BroadcastWrite => 5,
            Self::BroadcastWriteReverse => 6,
        }
    }

    /// The request of INIT bits 6:4 (`None` for the reserved code 7).
    pub const fn from_code(code: u8) -> Option<Self> {
        Some(match code & 7 {
            0 => Self::SingleRead,
            1 => Self::SingleWrite,
            2 => Self::StackRead,
            3 => Self::StackWrite,
            4 => Self::BroadcastRead,
            5 => Self::BroadcastWrite,
            6 => Self::BroadcastWriteReverse,
            _ => return None,
        })
    }

    /// `true` for the read requests.
    pub const fn is_read(self) -> bool {
        matches!(
            self,
            Self::SingleRead | Self::StackRead | Self::BroadcastRead
        )
    }

    /// `true` if the frame carries a DEV_ADDR byte.
    pub const fn has_address(self) -> bool {
        matches!(self, Self::SingleRead | Self::SingleWrite)
    }
}

/// Most data bytes in one write frame.
pub const MAX_WRITE: usize = 8;
/// Most registers one read returns (per device).
pub const MAX_READ: usize = 128;
/// Longest command frame: INIT, address, 2 register bytes, 8 data bytes, 2 CRC bytes.
pub const MAX_COMMAND: usize = 14;
/// Bytes a response frame adds to its data (header 4, CRC 2).
pub const RESPONSE_OVERHEAD: usize = 6;
/// Longest response frame (128 data bytes).
pub const MAX_RESPONSE: usize = MAX_READ + RESPONSE_OVERHEAD;
/// Highest device address (6 bits).
pub const MAX_ADDRESS: u8 = 63;

/// Why a command could not be built (nothing is sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FrameError {
    /// A write with 0 or more than [`MAX_WRITE`] bytes.
    WriteLength,
    /// A read of 0 or more than [`MAX_READ`] registers (or not exactly one data byte).
    ReadLength,
    /// A device address above [`MAX_ADDRESS`].
    Address,
}

/// A built command frame (at most [`MAX_COMMAND`] bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    bytes: [u8; MAX_COMMAND],
    len: u8,
}

impl Command {
    /// The bytes to send, CRC included.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// Builds a command frame. For reads, `data` is the one byte "registers − 1" (use
/// [`read`]); for writes, 1…8 data bytes.
///
/// ```
/// use bms_afe::bq79616::frame::{Request, command};
/// // SLUSDQ4 (BQ79606A-Q1) broadcast-write example: CRC printed as the value 0x336A.
/// let f = command(Request::BroadcastWrite, 0, 0x0100, &[0x02, 0xB7, 0x78, 0xBC]).unwrap();
/// assert_eq!(f.as_bytes(), [0xD3, 0x01, 0x00, 0x02, 0xB7, 0x78, 0xBC, 0x6A, 0x33]);
/// ```
pub fn command(
    req: Request,
    device: u8,
    register: u16,
    data: &[u8],
) -> Result<Command, FrameError> {
    let size = if req.is_read() {
        if data.len() != 1 || data[0] > 0x7F {
            return Err(FrameError::ReadLength);
        }
        0
    } else {
        if data.is_empty() || data.len() > MAX_WRITE {
            return Err(FrameError::WriteLength);
        }
        (data.len() - 1) as u8
    };
    if req.has_address() && device > MAX_ADDRESS {
        return Err(FrameError::Address);
    }
    let mut bytes = [0u8; MAX_COMMAND];
    let mut n = 0usize;
    fn push(bytes: &mut [u8; MAX_COMMAND], n: &mut usize, b: u8) {
        if let Some(slot) = bytes.get_mut(*n) {
            *slot = b;
        }
        *n += 1;
    }
    push(&mut bytes, &mut n, 0x80 | (req.code() << 4) | size);
    if req.has_address() {
        push(&mut bytes, &mut n, device);
    }
    let [hi, lo] = register.to_be_bytes();
    push(&mut bytes, &mut n, hi);
    push(&mut bytes, &mut n, lo);
    for &b in data {
        push(&mut bytes, &mut n, b);
    }
    let crc = crc16_modbus(bytes.get(..n).unwrap_or(&[]));
    let [c_lo, c_hi] = crc.to_le_bytes();
    push(&mut bytes, &mut n, c_lo);
    push(&mut bytes, &mut n, c_hi);
    Ok(Command {
        bytes,
        len: n as u8,
    })
}

/// A read command for `count` registers (1…128) from `register`.
///
/// ```
/// use bms_afe::bq79616::frame::{Request, read};
/// // SLVAE86B rev. B Table 1-4: stack read of 12 bytes at 0x0215: CRC bytes CC B3.
/// let f = read(Request::StackRead, 0, 0x0215, 12).unwrap();
/// assert_eq!(f.as_bytes(), [0xA0, 0x02, 0x15, 0x0B, 0xCC, 0xB3]);
/// ```
pub fn read(req: Request, device: u8, register: u16, count: usize) -> Result<Command, FrameError> {
    if !req.is_read() || count == 0 || count > MAX_READ {
        return Err(FrameError::ReadLength);
    }
    command(req, device, register, &[(count - 1) as u8])
}

/// A write command of `data` (1…8 bytes) to `register`.
pub fn write(req: Request, device: u8, register: u16, data: &[u8]) -> Result<Command, FrameError> {
    if req.is_read() {
        return Err(FrameError::WriteLength);
    }
    command(req, device, register, data)
}

/// `true` if the CRC-16 over `frame` (its two CRC bytes included) leaves residue 0.
pub fn crc_ok(frame: &[u8]) -> bool {
    frame.len() >= 2 && crc16_modbus(frame) == 0
}

/// The size of one device's response to a read of `count` registers.
pub const fn response_len(count: usize) -> usize {
    count + RESPONSE_OVERHEAD
}

/// A checked response frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    /// DEV_ADDR of the responding device.
    pub device: u8,
    /// Register the data starts at.
    pub register: u16,
    /// The register data.
    pub data: &'a [u8],
}

/// Checks one device's response frame: length, CRC residue 0, and that it answers a read of
/// `count` registers at `register`. On a CRC failure the reason carries the CRC computed over
/// the body (`expected`) and the received CRC value (`received`).
pub fn parse_response(
    frame: &[u8],
    register: u16,
    count: usize,
) -> Result<Response<'_>, FaultReason> {
    if frame.len() != response_len(count) || count == 0 || count > MAX_READ {
        return Err(FaultReason::Framing);
    }
    if !crc_ok(frame) {
        // Classify the failure: a line that nobody drove reads as all 0xFF (or all 0).
        if frame.iter().all(|&b| b == 0) || frame.iter().all(|&b| b == 0xFF) {
            return Err(FaultReason::NoResponse);
        }
        let body = frame.get(..frame.len() - 2).unwrap_or(&[]);
        let tail = frame.get(frame.len() - 2..).unwrap_or(&[0, 0]);
        let received = u16::from_le_bytes([
            tail.first().copied().unwrap_or(0),
            tail.get(1).copied().unwrap_or(0),
        ]);
        return Err(FaultReason::Pec {
            expected: crc16_modbus(body),
            received,
        });
    }
    let (len, device, hi, lo) = match frame {
        [len, dev, hi, lo, ..] => (*len, *dev, *hi, *lo),
        _ => return Err(FaultReason::Framing),
    };
    if len & 0x80 != 0 || usize::from(len) + 1 != count || device > MAX_ADDRESS {
        return Err(FaultReason::Framing);
    }
    if u16::from_be_bytes([hi, lo]) != register {
        return Err(FaultReason::Framing);
    }
    let data = frame.get(4..4 + count).ok_or(FaultReason::Framing)?;
    Ok(Response {
        device,
        register,
        data,
    })
}

/// Finds the next well-formed response frame in a byte stream that may hold garbage before or
/// between frames: the first offset where a response header (bit 7 of the first byte clear)
/// starts a frame of that length whose CRC residue is 0. Returns the offset and the frame.
/// Never panics; `O(len × frame)` in the worst case.
pub fn scan(stream: &[u8]) -> Option<(usize, Response<'_>)> {
    let mut at = 0usize;
    while at < stream.len() {
        let rest = stream.get(at..).unwrap_or(&[]);
        if let [len, _, hi, lo, ..] = rest {
            if len & 0x80 == 0 {
                let count = usize::from(*len) + 1;
                if let Some(frame) = rest.get(..response_len(count)) {
                    let register = u16::from_be_bytes([*hi, *lo]);
                    if let Ok(r) = parse_response(frame, register, count) {
                        return Some((at, r));
                    }
                }
            }
        }
        at += 1;
    }
    None
}

/// A decoded command frame (what a device sees), for the virtual stack and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// Request type.
    pub request: Request,
    /// DEV_ADDR (0 when the frame has none).
    pub device: u8,
    /// Register address.
    pub register: u16,
    /// Data bytes (one for a read).
    pub data: &'a [u8],
    /// Bytes the frame occupied.
    pub len: usize,
}

/// Decodes a command frame at the start of `bytes`: `Ok(None)` if more bytes are needed,
/// `Err` if the first byte is not a command INIT, the request code is reserved, or the CRC
/// fails (then the caller drops one byte and resynchronises).
pub fn decode_command(bytes: &[u8]) -> Result<Option<Decoded<'_>>, FaultReason> {
    let Some(&init) = bytes.first() else {
        return Ok(None);
    };
    if init & 0x80 == 0 || init & 0x08 != 0 {
        return Err(FaultReason::Framing);
    }
    let request = Request::from_code(init >> 4).ok_or(FaultReason::Framing)?;
    let size = usize::from(init & 7);
    let data_len = if request.is_read() {
        if size != 0 {
            return Err(FaultReason::Framing);
        }
        1
    } else {
        size + 1
    };
    let head = if request.has_address() { 4 } else { 3 };
    let len = head + data_len + 2;
    let Some(frame) = bytes.get(..len) else {
        return Ok(None);
    };
    if !crc_ok(frame) {
        return Err(FaultReason::Pec {
            expected: crc16_modbus(frame.get(..len - 2).unwrap_or(&[])),
            received: u16::from_le_bytes([
                frame.get(len - 2).copied().unwrap_or(0),
                frame.get(len - 1).copied().unwrap_or(0),
            ]),
        });
    }
    let device = if request.has_address() {
        frame.get(1).copied().unwrap_or(0)
    } else {
        0
    };
    let r = head - 2;
    let register = u16::from_be_bytes([
        frame.get(r).copied().unwrap_or(0),
        frame.get(r + 1).copied().unwrap_or(0),
    ]);
    Ok(Some(Decoded {
        request,
        device,
        register,
        data: frame.get(head..head + data_len).unwrap_or(&[]),
        len,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_sizes_and_addresses_are_checked() {
        assert_eq!(
            read(Request::StackRead, 0, 0, 0),
            Err(FrameError::ReadLength)
        );
        assert_eq!(
            read(Request::StackRead, 0, 0, 129),
            Err(FrameError::ReadLength)
        );
        assert_eq!(
            read(Request::StackWrite, 0, 0, 1),
            Err(FrameError::ReadLength)
        );
        assert_eq!(
            read(Request::SingleRead, 64, 0, 1),
            Err(FrameError::Address)
        );
        assert_eq!(
            write(Request::StackWrite, 0, 0, &[]),
            Err(FrameError::WriteLength)
        );
        assert_eq!(
            write(Request::StackWrite, 0, 0, &[0; 9]),
            Err(FrameError::WriteLength)
        );
        assert_eq!(
            write(Request::StackRead, 0, 0, &[0]),
            Err(FrameError::WriteLength)
        );
        assert!(read(Request::BroadcastRead, 0, 0x0568, 128).is_ok());
    }

    #[test]
    fn decode_round_trip() {
        let f = write(Request::SingleWrite, 5, 0x0331, &[0xFF, 0x7F]).unwrap();
        let d = decode_command(f.as_bytes()).unwrap().unwrap();
        assert_eq!(d.request, Request::SingleWrite);
        assert_eq!(d.device, 5);
        assert_eq!(d.register, 0x0331);
        assert_eq!(d.data, [0xFF, 0x7F]);
        assert_eq!(d.len, f.as_bytes().len());
        assert_eq!(decode_command(&f.as_bytes()[..4]), Ok(None));
    }
}
