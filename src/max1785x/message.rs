//! Battery-management UART messages: build, and check what comes back.
//!
//! Layouts (foxBMS `mxm_battery_management.c`, `MXM_5XConstructCommandBuffer*`; ADI reference
//! firmware analogdevicesinc/MAXREFDES1301 `Max1785x.h`, `V_measure.cpp`; data bytes least
//! significant first):
//!
//! | message | sent | returned |
//! |---|---|---|
//! | HELLOALL | `57 00 seed` | `57 00 seed+N` (each device takes the next address) |
//! | WRITEALL | `02 reg lsb msb PEC [AC]` | the same (`AC + N`) |
//! | WRITEDEVICE | `8a+4 reg lsb msb PEC [AC]` | the same (`AC + N`) |
//! | READALL | `03 reg DC PEC [AC]` + 2·N fill | `03 reg (lsb msb)×N DC PEC [AC+N]`, device 0 first |
//! | READDEVICE | `8a+5 reg DC PEC [AC]` + 2 fill | `cmd reg lsb msb DC PEC [AC+N]` |
//!
//! The PEC ([`crate::crc::maxim_pec8`]) covers every byte before it; a returned message is
//! good when the CRC over it *including* the PEC is 0 (foxBMS `READALL_CHECK_CRC`). The
//! data-check byte (DC) is sent as 0 and every device ORs its status into it
//! ([`DataCheck`], foxBMS `MXM_DC_BYTE_e`): its PEC-error bit means a device received a
//! corrupted message, so the answer is not trusted even with a good PEC.
//!
//! Alive counter (AC): an optional byte after the PEC (MAXREFDES1301 sends `ALIVE_COUNTER`
//! there and counts it in the message length). This crate's model of it — not covered by the
//! PEC, incremented by one by every device the message passes — is not verified against the
//! data sheet, nor is the bit that enables it; see the module docs.
//!
//! A checked READALL is trusted for all devices or none: its single PEC cannot say which
//! device's slot is bad. The driver therefore re-reads a failing READALL device by device
//! ([`Request::read_device`]), each reply checked on its own.

use crate::crc::maxim_pec8;
use crate::error::{ConfigError, FaultReason};

/// HELLOALL command byte.
pub const HELLOALL: u8 = 0x57;
/// WRITEALL command byte.
pub const WRITEALL: u8 = 0x02;
/// READALL command byte.
pub const READALL: u8 = 0x03;
/// WRITEDEVICE command low bits (`address << 3 | 0x04`).
pub const WRITEDEVICE: u8 = 0x04;
/// READDEVICE command low bits (`address << 3 | 0x05`).
pub const READDEVICE: u8 = 0x05;
/// Devices addressable in one chain (5-bit address field, foxBMS `mxm_battery_management.c`).
pub const MAX_CHAIN: usize = 32;
/// The longest returned message: a READALL of 32 devices with the alive counter.
pub const MAX_MESSAGE: usize = 4 + 2 * MAX_CHAIN + 1;

bitflags::bitflags! {
    /// The data-check byte (foxBMS `mxm_basic_defines.h` `MXM_DC_BYTE_e`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct DataCheck: u8 {
        /// A device received a message with a bad PEC.
        const PEC_ERROR = 1 << 7;
        /// ALRTFMEA: an FMEA alert is set.
        const ALRTFMEA = 1 << 6;
        /// ALRTSTATUS: a STATUS alert is set.
        const ALRTSTATUS = 1 << 5;
        /// Auxiliary overvoltage / under-temperature.
        const AUX_OV_UT = 1 << 4;
        /// Auxiliary undervoltage / over-temperature.
        const AUX_UV_OT = 1 << 3;
        /// Cell overvoltage.
        const CELL_OV = 1 << 2;
        /// Cell undervoltage.
        const CELL_UV = 1 << 1;
        const _ = !0;
    }
}

/// What a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// HELLOALL.
    HelloAll,
    /// WRITEALL.
    WriteAll,
    /// WRITEDEVICE to an address.
    WriteDevice(u8),
    /// READALL over a chain of this many devices.
    ReadAll(u8),
    /// READDEVICE of an address.
    ReadDevice(u8),
}

/// A message to load into the bridge, with what the chain will add to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Request {
    bytes: [u8; 6],
    len: u8,
    extra: u8,
    kind: Kind,
    alive: Option<u8>,
}

fn address_ok(address: u8) -> Result<(), ConfigError> {
    if usize::from(address) < MAX_CHAIN {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field: "device address",
            value: i64::from(address),
            min: 0,
            max: MAX_CHAIN as i64 - 1,
        })
    }
}

impl Request {
    fn new(head: &[u8], kind: Kind, extra: u8, alive: Option<u8>) -> Self {
        let mut bytes = [0u8; 6];
        let n = head.len().min(4);
        bytes[..n].copy_from_slice(&head[..n]);
        bytes[n] = maxim_pec8(&bytes[..n]);
        let mut len = n + 1;
        if let Some(ac) = alive {
            bytes[len] = ac;
            len += 1;
        }
        Self {
            bytes,
            len: len as u8,
            extra,
            kind,
            alive,
        }
    }

    /// HELLOALL with seed 0 (no PEC; foxBMS `MXM_5XConstructCommandBufferHelloall`).
    pub const fn hello_all() -> Self {
        Self {
            bytes: [HELLOALL, 0x00, 0x00, 0, 0, 0],
            len: 3,
            extra: 0,
            kind: Kind::HelloAll,
            alive: None,
        }
    }

    /// WRITEALL `value` to register `reg` of every device.
    ///
    /// ```
    /// use bms_afe::max1785x::message::Request;
    /// // WRITEALL STATUS1 = 0x0000 → 02 02 00 00 92.
    /// assert_eq!(Request::write_all(0x02, 0x0000, None).bytes(), &[0x02, 0x02, 0x00, 0x00, 0x92]);
    /// ```
    pub fn write_all(reg: u8, value: u16, alive: Option<u8>) -> Self {
        let [lo, hi] = value.to_le_bytes();
        Self::new(&[WRITEALL, reg, lo, hi], Kind::WriteAll, 0, alive)
    }

    /// WRITEDEVICE `value` to register `reg` of the device at `address` (0..32).
    pub fn write_device(
        address: u8,
        reg: u8,
        value: u16,
        alive: Option<u8>,
    ) -> Result<Self, ConfigError> {
        address_ok(address)?;
        let [lo, hi] = value.to_le_bytes();
        Ok(Self::new(
            &[address << 3 | WRITEDEVICE, reg, lo, hi],
            Kind::WriteDevice(address),
            0,
            alive,
        ))
    }

    /// READALL of register `reg` over a chain of `devices` (1..=32) devices.
    pub fn read_all(reg: u8, devices: usize, alive: Option<u8>) -> Result<Self, ConfigError> {
        if devices == 0 || devices > MAX_CHAIN {
            return Err(ConfigError::OutOfRange {
                field: "devices in the chain",
                value: devices as i64,
                min: 1,
                max: MAX_CHAIN as i64,
            });
        }
        Ok(Self::new(
            &[READALL, reg, 0x00],
            Kind::ReadAll(devices as u8),
            2 * devices as u8,
            alive,
        ))
    }

    /// READDEVICE of register `reg` of the device at `address` (0..32).
    ///
    /// ```
    /// use bms_afe::max1785x::message::Request;
    /// // EngineerZone 583407: READDEVICE address 1, VERSION → 0D 00 00 EE.
    /// let r = Request::read_device(1, 0x00, None).unwrap();
    /// assert_eq!(r.bytes(), &[0x0D, 0x00, 0x00, 0xEE]);
    /// assert_eq!(r.response_len(), 6);
    /// ```
    pub fn read_device(address: u8, reg: u8, alive: Option<u8>) -> Result<Self, ConfigError> {
        address_ok(address)?;
        Ok(Self::new(
            &[address << 3 | READDEVICE, reg, 0x00],
            Kind::ReadDevice(address),
            2,
            alive,
        ))
    }

    /// The message bytes to load.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Bytes the bridge receives back (message plus the bytes the devices add): the length
    /// byte of the load-queue write.
    pub fn response_len(&self) -> usize {
        usize::from(self.len) + usize::from(self.extra)
    }

    /// What this request is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The register addressed (0 for HELLOALL).
    pub fn register(&self) -> u8 {
        match self.kind {
            Kind::HelloAll => 0,
            _ => self.bytes[1],
        }
    }

    /// The alive-counter byte sent, if any.
    pub fn alive(&self) -> Option<u8> {
        self.alive
    }
}

/// Checks the PEC of `body ‖ pec` (the CRC over both is 0) and reports the mismatch.
fn pec_ok(covered: &[u8], received: u8) -> Result<(), FaultReason> {
    let expected = maxim_pec8(covered);
    if expected == received {
        Ok(())
    } else {
        Err(FaultReason::Pec {
            expected: u16::from(expected),
            received: u16::from(received),
        })
    }
}

fn alive_ok(sent: Option<u8>, received: Option<&u8>, chain: usize) -> Result<(), FaultReason> {
    match (sent, received) {
        (None, _) => Ok(()),
        (Some(s), Some(&r)) => {
            let expected = s.wrapping_add(chain as u8);
            if r == expected {
                Ok(())
            } else {
                Err(FaultReason::CommandCounter {
                    expected,
                    received: r,
                })
            }
        }
        (Some(_), None) => Err(FaultReason::Framing),
    }
}

/// Checks the answer to HELLOALL: the command echoed and the seed advanced; returns the
/// number of devices that took an address.
pub fn check_hello_all(rx: &[u8]) -> Result<u8, FaultReason> {
    match rx {
        [HELLOALL, 0x00, n, ..] => Ok(*n),
        _ if rx.iter().all(|&b| b == rx.first().copied().unwrap_or(0)) => {
            Err(FaultReason::NoResponse)
        }
        _ => Err(FaultReason::Framing),
    }
}

/// Checks the echo of a WRITEALL / WRITEDEVICE through a chain of `chain` devices: the same
/// bytes with a good PEC (and the alive counter advanced by `chain`).
pub fn check_write(req: &Request, rx: &[u8], chain: usize) -> Result<(), FaultReason> {
    let Some(rx) = rx.get(..req.response_len()) else {
        return Err(FaultReason::Framing);
    };
    let (Some(covered), Some(&pec)) = (rx.get(..4), rx.get(4)) else {
        return Err(FaultReason::Framing);
    };
    pec_ok(covered, pec)?;
    if covered != req.bytes.get(..4).unwrap_or(&[]) {
        return Err(FaultReason::Framing);
    }
    alive_ok(req.alive, rx.get(5), chain)
}

/// A checked READALL answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadAll<'a> {
    slots: &'a [u8],
    /// The data-check byte (every device's status ORed in).
    pub dc: DataCheck,
}

impl ReadAll<'_> {
    /// Device `d`'s register value (device 0 = first slot = nearest the bridge).
    pub fn value(&self, d: usize) -> Option<u16> {
        let s = self.slots.get(2 * d..2 * d + 2)?;
        Some(u16::from_le_bytes([s[0], s[1]]))
    }

    /// Number of device slots.
    pub fn devices(&self) -> usize {
        self.slots.len() / 2
    }
}

/// The bytes of a request echoed back untouched (the addressed devices inserted nothing):
/// no device answered.
fn is_echo(req: &Request, rx: &[u8]) -> bool {
    let n = usize::from(req.len) - usize::from(req.alive.is_some());
    rx.get(..n) == req.bytes.get(..n)
}

/// Checks a READALL answer: length, command and register echoed, PEC, the data-check
/// byte's PEC-error bit, the alive counter. On success every slot is trusted.
pub fn check_read_all<'a>(req: &Request, rx: &'a [u8]) -> Result<ReadAll<'a>, FaultReason> {
    let Kind::ReadAll(n) = req.kind else {
        return Err(FaultReason::Framing);
    };
    let n = usize::from(n);
    let Some(rx) = rx.get(..req.response_len()) else {
        return Err(FaultReason::Framing);
    };
    let dc_at = 2 + 2 * n;
    let (Some(covered), Some(&pec)) = (rx.get(..dc_at + 1), rx.get(dc_at + 1)) else {
        return Err(FaultReason::Framing);
    };
    if let Err(e) = pec_ok(covered, pec) {
        return Err(if is_echo(req, rx) {
            FaultReason::NoResponse
        } else {
            e
        });
    }
    if covered.first() != Some(&READALL) || covered.get(1) != Some(&req.bytes[1]) {
        return Err(FaultReason::Framing);
    }
    let dc = DataCheck::from_bits_retain(covered.get(dc_at).copied().unwrap_or(0xFF));
    if dc.contains(DataCheck::PEC_ERROR) {
        return Err(FaultReason::Framing);
    }
    alive_ok(req.alive, rx.get(dc_at + 2), n)?;
    Ok(ReadAll {
        slots: covered.get(2..dc_at).unwrap_or(&[]),
        dc,
    })
}

/// Checks a READDEVICE answer through a chain of `chain` devices and returns the value and
/// the data-check byte. A message that came back exactly as sent (the device inserted
/// nothing) is [`FaultReason::NoResponse`].
pub fn check_read_device(
    req: &Request,
    rx: &[u8],
    chain: usize,
) -> Result<(u16, DataCheck), FaultReason> {
    let Kind::ReadDevice(_) = req.kind else {
        return Err(FaultReason::Framing);
    };
    let Some(rx) = rx.get(..req.response_len()) else {
        return Err(FaultReason::Framing);
    };
    let (Some(covered), Some(&pec)) = (rx.get(..5), rx.get(5)) else {
        return Err(FaultReason::Framing);
    };
    if let Err(e) = pec_ok(covered, pec) {
        return Err(if is_echo(req, rx) {
            FaultReason::NoResponse
        } else {
            e
        });
    }
    if covered[0] != req.bytes[0] || covered[1] != req.bytes[1] {
        return Err(FaultReason::Framing);
    }
    let dc = DataCheck::from_bits_retain(covered[4]);
    if dc.contains(DataCheck::PEC_ERROR) {
        return Err(FaultReason::Framing);
    }
    alive_ok(req.alive, rx.get(6), chain)?;
    Ok((u16::from_le_bytes([covered[2], covered[3]]), dc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(body: &[u8]) -> std::vec::Vec<u8> {
        // Bit-serial reflected 0xB2, independent of `crc`.
        let mut c = 0u8;
        for &b in body {
            c ^= b;
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ 0xB2 } else { c >> 1 };
            }
        }
        let mut v = body.to_vec();
        v.push(c);
        v
    }
    extern crate std;

    #[test]
    fn requests_match_published_bytes() {
        // PECs computed independently, bit by bit (reflected 0xB2): WRITEDEVICE dev 0
        // SCANCTRL = 0x0009 → 0x21; READALL CELL1 → 0x6F.
        assert_eq!(
            Request::write_device(0, 0x66, 0x0009, None)
                .unwrap()
                .bytes(),
            &[0x04, 0x66, 0x09, 0x00, 0x21]
        );
        let r = Request::read_all(0x47, 3, None).unwrap();
        assert_eq!(r.bytes(), &[0x03, 0x47, 0x00, 0x6F]);
        assert_eq!(r.response_len(), 10);
        // foxBMS self-test: 03 66 00 → 0x43 (READALL SCANCTRL).
        assert_eq!(Request::read_all(0x66, 1, None).unwrap().bytes()[3], 0x43);
        let a = Request::read_all(0x47, 2, Some(7)).unwrap();
        assert_eq!(a.bytes(), &[0x03, 0x47, 0x00, 0x6F, 7]);
        assert_eq!(a.response_len(), 9);
        assert!(Request::read_all(0x47, 0, None).is_err());
        assert!(Request::read_all(0x47, 33, None).is_err());
        assert!(Request::write_device(32, 0, 0, None).is_err());
        assert_eq!(Request::hello_all().bytes(), &[0x57, 0x00, 0x00]);
    }

    #[test]
    fn read_all_checks_every_part() {
        let req = Request::read_all(0x47, 2, None).unwrap();
        let rx = sealed(&[0x03, 0x47, 0x34, 0x12, 0x78, 0x56, 0x00]);
        let ok = check_read_all(&req, &rx).unwrap();
        assert_eq!(
            (ok.value(0), ok.value(1), ok.value(2)),
            (Some(0x1234), Some(0x5678), None)
        );
        assert_eq!(ok.devices(), 2);
        // Any single bit flip fails.
        for i in 0..rx.len() * 8 {
            let mut bad = rx.clone();
            bad[i / 8] ^= 1 << (i % 8);
            assert!(check_read_all(&req, &bad).is_err(), "bit {i}");
        }
        // Wrong register with a valid PEC.
        let other = sealed(&[0x03, 0x48, 0x34, 0x12, 0x78, 0x56, 0x00]);
        assert_eq!(check_read_all(&req, &other), Err(FaultReason::Framing));
        // DC PEC-error bit with a valid PEC.
        let flagged = sealed(&[0x03, 0x47, 0x34, 0x12, 0x78, 0x56, 0x80]);
        assert_eq!(check_read_all(&req, &flagged), Err(FaultReason::Framing));
        // Short.
        assert_eq!(check_read_all(&req, &rx[..7]), Err(FaultReason::Framing));
        // Echo with fill bytes: nobody answered.
        let echo = [0x03, 0x47, 0x00, 0x6F, 0xD3, 0xC2, 0xD3, 0xC2];
        assert_eq!(check_read_all(&req, &echo), Err(FaultReason::NoResponse));
    }

    #[test]
    fn alive_counter_must_advance_by_the_chain() {
        let req = Request::read_all(0x47, 2, Some(0x10)).unwrap();
        let mut rx = sealed(&[0x03, 0x47, 0x34, 0x12, 0x78, 0x56, 0x00]);
        rx.push(0x12);
        assert!(check_read_all(&req, &rx).is_ok());
        *rx.last_mut().unwrap() = 0x11;
        assert_eq!(
            check_read_all(&req, &rx),
            Err(FaultReason::CommandCounter {
                expected: 0x12,
                received: 0x11
            })
        );
    }

    #[test]
    fn engineerzone_583407_reply_without_dc_byte_is_rejected() {
        // EngineerZone 583407: a MAX17854 answered READDEVICE VERSION with
        // 0D 00 44 85 02 C2 — its PEC (0x02 = PEC of 0D 00 44 85) sits where the DC byte
        // belongs. With the data-check layout this is a PEC failure, never data.
        let req = Request::read_device(1, 0x00, None).unwrap();
        let rx = [0x0D, 0x00, 0x44, 0x85, 0x02, 0xC2];
        assert!(matches!(
            check_read_device(&req, &rx, 4),
            Err(FaultReason::Pec { .. })
        ));
        // The same reply with the DC byte in place: VERSION 0x8544, DC 0x02 (cell UV).
        let good = sealed(&[0x0D, 0x00, 0x44, 0x85, 0x02]);
        assert_eq!(
            check_read_device(&req, &good, 4),
            Ok((0x8544, DataCheck::CELL_UV))
        );
        // The request came back untouched: no response.
        let echo = [0x0D, 0x00, 0x00, 0xEE, 0xD3, 0xC2];
        assert_eq!(
            check_read_device(&req, &echo, 4),
            Err(FaultReason::NoResponse)
        );
    }

    #[test]
    fn write_echo_and_hello() {
        let req = Request::write_all(0x02, 0x0000, None);
        assert_eq!(
            check_write(&req, &[0x02, 0x02, 0x00, 0x00, 0x92], 3),
            Ok(())
        );
        assert!(check_write(&req, &[0x02, 0x02, 0x00, 0x01, 0x92], 3).is_err());
        let a = Request::write_all(0x02, 0x0000, Some(0xFF));
        assert_eq!(
            check_write(&a, &[0x02, 0x02, 0x00, 0x00, 0x92, 0x02], 3),
            Ok(())
        );
        assert!(check_write(&a, &[0x02, 0x02, 0x00, 0x00, 0x92, 0x01], 3).is_err());
        assert_eq!(check_hello_all(&[0x57, 0x00, 0x03]), Ok(3));
        assert_eq!(
            check_hello_all(&[0x00, 0x00, 0x00]),
            Err(FaultReason::NoResponse)
        );
        assert_eq!(
            check_hello_all(&[0x57, 0x01, 0x03]),
            Err(FaultReason::Framing)
        );
    }
}
