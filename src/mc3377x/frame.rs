//! Frames: build requests, check and parse responses (sans-IO).
//!
//! **C silicon** (MC33771C/MC33772C), 48 bits, wire order (NXP BCC SW driver v2.2,
//! `inc/BCC/Derivatives/mc3377xC/bcc.h` and `src/BCC/Derivatives/mc3377xC/bcc_communication.c`,
//! github.com/NXPHoverGames/MR-BMS771):
//!
//! | byte | content |
//! |---|---|
//! | 0, 1 | register data, high byte first |
//! | 2 | bit 7 master/slave (0 from the host), bits 6..0 register address |
//! | 3 | bits 5..0 CID (0 = unassigned) |
//! | 4 | bits 7..4 message counter (0 in requests), bits 1..0 command |
//! | 5 | CRC-8 ([`crc8_nxp_bcc`]) over bytes 0..=4 |
//!
//! The device increments its 4-bit message counter with every response; the host requires
//! `received == previous + 1 (mod 16)` ([`next_counter`]).
//!
//! **B silicon** (MC33771B/MC33772B), 40 bits: data (2 bytes), M/S + address, then CID in
//! bits 7..4 and the command field in bits 3..0, then the CRC. The command field carries a
//! 2-bit Gray-coded rolling counter in bits 3..2 that the response echoes; responses from the
//! measurement and status registers ([`has_tag_id`]) carry instead the 4-bit tag the host set in
//! ADC_CFG\[15:12\] when starting the conversion (NXP BCC driver for MC3377xB,
//! `bcc_communication.[ch]`, `bcc_mc3377x.h`, github.com/NXPHoverGames/RDDRONE-BMS772).
//!
//! **Detection.** The CRC-8 (polynomial 0x2F) detects every error of up to 3 bits in a 48-bit
//! C frame (checked exhaustively by this module's tests, 18 472 patterns) and, like any degree-8
//! polynomial with a constant term, every burst of up to 8 bits; the property tests flip every
//! single bit of random frames. There is no longer frame to weaken it: a TPL read of `n`
//! registers is `n` independently checked frames, each with its own CRC and counter.

use crate::crc::{crc8_nxp_bcc, crc8_nxp_bcc_frame_ok};
use crate::error::FaultReason;

/// Frame length of the C silicon.
pub const FRAME_C: usize = 6;
/// Frame length of the B silicon.
pub const FRAME_B: usize = 5;

/// The command field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Command {
    /// No operation.
    Nop = 0,
    /// Register read (SPI: data field 0x0001; TPL: data field = number of registers).
    Read = 1,
    /// Register write to one CID.
    Write = 2,
    /// Write to every device (CID field 0).
    GlobalWrite = 3,
}

/// Largest number of registers one TPL read returns (`BCC_RX_LIMIT_TPL`).
pub const MAX_TPL_READ: u8 = 0x7F;
/// Highest register address.
pub const MAX_REGISTER: u8 = 0x7F;

/// A C-silicon request frame (message counter bits 0).
///
/// ```
/// use bms_afe::mc3377x::frame::{request_c, Command};
/// // Read INIT (0x01) from CID 0: 00 01 01 00 01, CRC 0xF4 (check value computed from the
/// // NXP CRC parameters, MR-BMS771 BCC_CalcCRC).
/// assert_eq!(request_c(0x0001, 0x01, 0, Command::Read), [0x00, 0x01, 0x01, 0x00, 0x01, 0xF4]);
/// ```
pub fn request_c(data: u16, register: u8, cid: u8, command: Command) -> [u8; FRAME_C] {
    let [h, l] = data.to_be_bytes();
    let mut f = [h, l, register & 0x7F, cid & 0x3F, command as u8, 0];
    f[5] = crc8_nxp_bcc(&f[..5]);
    f
}

/// A response as parsed from a frame whose CRC passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Response {
    /// Register data.
    pub data: u16,
    /// Register address field (bits 6..0).
    pub register: u8,
    /// Master/slave bit (bit 7 of byte 2).
    pub master_slave: bool,
    /// CID field.
    pub cid: u8,
    /// C: the 4-bit message counter. B: the 4-bit field of RC (bits 3..2) or tag ID.
    pub counter: u8,
    /// Command field (C: bits 1..0 of byte 4; B: bits 1..0 of byte 3).
    pub command: u8,
}

impl Response {
    /// The C-silicon "null response": every field zero except counter and CRC (the first
    /// response after reset in SPI mode, `BCC_IS_NULL_RESP`).
    pub const fn is_null(&self) -> bool {
        self.data == 0
            && self.register == 0
            && !self.master_slave
            && self.cid == 0
            && self.command == 0
    }
}

/// Checks a C-silicon frame: an idle bus (all 0x00 or all 0xFF) is
/// [`FaultReason::NoResponse`], a bad CRC [`FaultReason::Crc`]. Never panics.
pub fn parse_c(frame: &[u8; FRAME_C]) -> Result<Response, FaultReason> {
    // Neither idle pattern carries a valid CRC (all 0xFF would need 0xAC, all 0x00 0x60), so
    // the idle check is needed only on the failure path.
    if !crc8_nxp_bcc_frame_ok(frame) {
        if frame.iter().all(|&b| b == 0xFF) || frame.iter().all(|&b| b == 0) {
            return Err(FaultReason::NoResponse);
        }
        return Err(FaultReason::Crc {
            expected: crc8_nxp_bcc(&frame[..5]),
            received: frame[5],
        });
    }
    Ok(Response {
        data: u16::from_be_bytes([frame[0], frame[1]]),
        register: frame[2] & 0x7F,
        master_slave: frame[2] & 0x80 != 0,
        cid: frame[3] & 0x3F,
        counter: frame[4] >> 4,
        command: frame[4] & 0x03,
    })
}

/// The message counter the next response must carry.
pub const fn next_counter(previous: u8) -> u8 {
    (previous + 1) & 0x0F
}

/// Checks the message counter of a response against the last one seen from the device
/// (`None` = unknown, e.g. right after reset: any value is accepted and becomes the base).
/// Updates `last` to the received value either way, so one missed frame fails once.
pub fn check_counter(last: &mut Option<u8>, received: u8) -> Result<(), FaultReason> {
    let prev = last.replace(received & 0x0F);
    match prev {
        Some(p) if next_counter(p) != received & 0x0F => Err(FaultReason::CommandCounter {
            expected: next_counter(p),
            received: received & 0x0F,
        }),
        _ => Ok(()),
    }
}

/// The 2-bit Gray code of a rolling index, as the B silicon wants it in command bits 3..2
/// (`BCC_GET_RC`).
pub const fn rolling_counter(index: u8) -> u8 {
    ((index >> 1) ^ index) & 0x03
}

/// A B-silicon request frame with rolling counter `rc` (0..=3, already Gray-coded with
/// [`rolling_counter`]); `cid` is 4 bits.
///
/// ```
/// use bms_afe::mc3377x::frame::{request_b, Command};
/// // Read INIT from CID 0 with RC 0: 00 01 01 01, CRC 0x7A.
/// assert_eq!(request_b(0x0001, 0x01, 0, Command::Read, 0), [0x00, 0x01, 0x01, 0x01, 0x7A]);
/// ```
pub fn request_b(data: u16, register: u8, cid: u8, command: Command, rc: u8) -> [u8; FRAME_B] {
    let [h, l] = data.to_be_bytes();
    let mut f = [
        h,
        l,
        register & 0x7F,
        (cid & 0x0F) << 4 | (rc & 0x03) << 2 | command as u8,
        0,
    ];
    f[4] = crc8_nxp_bcc(&f[..4]);
    f
}

/// Checks a B-silicon frame (idle bus, CRC); the RC/tag check is [`check_sequence_b`].
pub fn parse_b(frame: &[u8; FRAME_B]) -> Result<Response, FaultReason> {
    if frame.iter().all(|&b| b == 0xFF) || frame.iter().all(|&b| b == 0) {
        return Err(FaultReason::NoResponse);
    }
    let expected = crc8_nxp_bcc(&frame[..4]);
    if expected != frame[4] {
        return Err(FaultReason::Crc {
            expected,
            received: frame[4],
        });
    }
    Ok(Response {
        data: u16::from_be_bytes([frame[0], frame[1]]),
        register: frame[2] & 0x7F,
        master_slave: frame[2] & 0x80 != 0,
        cid: frame[3] >> 4,
        counter: frame[3] & 0x0F,
        command: frame[3] & 0x03,
    })
}

/// `true` if a B-silicon response from `register` carries the tag ID instead of the rolling
/// counter: SYS_DIAG (0x05), FAULT1..3_STATUS (0x24–0x26) and CC_NB_SAMPLES..MEAS_VBG_DIAG_ADC1B
/// (0x2D–0x4A; on the MC33772B 0x2D–0x32 and 0x3B–0x4A) (`BCC_HAS_TAG_ID_MC33771/2`,
/// RDDRONE-BMS772 `bcc_mc3377x.h`).
pub const fn has_tag_id(register: u8, mc33772: bool) -> bool {
    match register {
        0x05 | 0x24..=0x26 => true,
        0x2D..=0x32 => true,
        0x33..=0x3A => !mc33772,
        0x3B..=0x4A => true,
        _ => false,
    }
}

/// B silicon: the response to a request sent with rolling counter `rc` must echo it in bits
/// 3..2, or carry `tag` in bits 3..0 for the registers of [`has_tag_id`].
pub fn check_sequence_b(
    response: &Response,
    rc: u8,
    tag: u8,
    mc33772: bool,
) -> Result<(), FaultReason> {
    let (expected, received) = if has_tag_id(response.register, mc33772) {
        (tag & 0x0F, response.counter & 0x0F)
    } else {
        ((rc & 0x03) << 2, response.counter & 0x0C)
    };
    if expected == received {
        Ok(())
    } else {
        Err(FaultReason::CommandCounter { expected, received })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_frames() {
        // Frames built from the NXP driver's frame layout and CRC (MR-BMS771 / RDDRONE-BMS772
        // bcc_communication.c); CRC bytes cross-checked with an independent bitwise CRC.
        assert_eq!(
            request_c(0x0001, 0x01, 0, Command::Write),
            [0, 1, 1, 0, 2, 0x85]
        );
        assert_eq!(
            request_c(0x001E, 0x2D, 1, Command::Read),
            [0, 0x1E, 0x2D, 1, 1, 0x8D]
        );
        assert_eq!(
            request_c(0x083F, 0x06, 0, Command::GlobalWrite),
            [0x08, 0x3F, 0x06, 0, 3, 0x15]
        );
        assert_eq!(
            request_b(0x0001, 0x01, 0, Command::Write, 0),
            [0, 1, 1, 2, 0x0B]
        );
    }

    #[test]
    fn parse_and_counter() {
        let mut f = [0x12, 0x34, 0x40, 0x01, 0x51, 0];
        f[5] = crc8_nxp_bcc(&f[..5]);
        let r = parse_c(&f).unwrap();
        assert_eq!(
            (r.data, r.register, r.cid, r.counter, r.command),
            (0x1234, 0x40, 1, 5, 1)
        );
        let mut last = Some(4);
        assert_eq!(check_counter(&mut last, 5), Ok(()));
        assert_eq!(
            check_counter(&mut last, 7),
            Err(FaultReason::CommandCounter {
                expected: 6,
                received: 7
            })
        );
        assert_eq!(last, Some(7));
        let mut wrap = Some(15);
        assert_eq!(check_counter(&mut wrap, 0), Ok(()));
        assert_eq!(parse_c(&[0xFF; 6]), Err(FaultReason::NoResponse));
        assert_eq!(parse_c(&[0x00; 6]), Err(FaultReason::NoResponse));
        f[0] ^= 1;
        assert!(matches!(parse_c(&f), Err(FaultReason::Crc { .. })));
    }

    #[test]
    fn b_sequence() {
        assert_eq!([0, 1, 2, 3].map(rolling_counter), [0, 1, 3, 2]);
        let r = Response {
            data: 0,
            register: 0x01,
            master_slave: false,
            cid: 1,
            counter: 0b1101,
            command: 1,
        };
        assert_eq!(check_sequence_b(&r, 3, 0, false), Ok(()));
        assert!(check_sequence_b(&r, 1, 0, false).is_err());
        let t = Response {
            register: 0x40,
            counter: 0x9,
            ..r
        };
        assert_eq!(check_sequence_b(&t, 0, 9, false), Ok(()));
        assert!(check_sequence_b(&t, 0, 8, false).is_err());
        assert!(has_tag_id(0x35, false) && !has_tag_id(0x35, true));
    }
}

#[cfg(test)]
mod detection {
    use crate::crc::crc8_nxp_bcc;

    /// Every error pattern of 1, 2 or 3 bits in a 48-bit C frame changes the CRC check
    /// (verifies the Hamming distance 4 claimed in the module docs at this frame length).
    #[test]
    fn all_errors_up_to_three_bits_detected_in_48_bit_frames() {
        let base = [0x12u8, 0x34, 0x33, 0x01, 0x51];
        let mut f = [0u8; 6];
        f[..5].copy_from_slice(&base);
        f[5] = crc8_nxp_bcc(&base);
        let ok = |g: &[u8; 6]| crc8_nxp_bcc(&g[..5]) == g[5];
        let flip = |g: &mut [u8; 6], bit: usize| g[bit / 8] ^= 0x80 >> (bit % 8);
        for a in 0..48 {
            for b in a..48 {
                for c in b..48 {
                    let mut g = f;
                    flip(&mut g, a);
                    if b != a {
                        flip(&mut g, b);
                    }
                    if c != b {
                        flip(&mut g, c);
                    }
                    assert!(!ok(&g), "undetected error {a} {b} {c}");
                }
            }
        }
    }
}
