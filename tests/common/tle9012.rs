//! Oracles for the Infineon TLE9012 isoUART frames, written bit by bit from the published
//! parameters (never from `bms_afe::crc`): CRC-8/SAE-J1850 (x^8+x^4+x^3+x^2+1 = 0x1D, init 0xFF,
//! no reflection, final XOR 0xFF) and the write-reply CRC-3 (x^3+x+1, init 0). Both are checked
//! against the published vectors in `tests/tle9012_wire.rs` before anything relies on them.
#![allow(dead_code)]

/// CRC-8/SAE-J1850 over logical (MSB-first) bytes, one bit at a time.
pub fn oracle_crc8_j1850(bytes: &[u8]) -> u8 {
    let mut reg: u16 = 0xFF;
    for &b in bytes {
        for i in (0..8).rev() {
            let top = (reg >> 7) & 1;
            let bit = u16::from((b >> i) & 1);
            reg = (reg << 1) & 0xFF;
            if top ^ bit == 1 {
                reg ^= 0x1D;
            }
        }
    }
    (reg as u8) ^ 0xFF
}

/// The CRC-3 of 5 status bits: the remainder of status(x)·x^3 mod x^3 + x + 1.
pub fn oracle_crc3(status: u8) -> u8 {
    let mut reg = 0u8;
    let bits = [
        (status >> 4) & 1,
        (status >> 3) & 1,
        (status >> 2) & 1,
        (status >> 1) & 1,
        status & 1,
    ];
    for b in bits {
        let top = (reg >> 2) & 1;
        reg = (reg << 1) & 0x7;
        if top ^ b == 1 {
            reg ^= 0b011;
        }
    }
    reg
}

/// A byte in wire order for an LSB-first UART: bit 7 becomes bit 0 and so on.
pub fn mirror(b: u8) -> u8 {
    let mut out = 0u8;
    for i in 0..8 {
        if b & (1 << i) != 0 {
            out |= 1 << (7 - i);
        }
    }
    out
}

/// A read reply (logical order) with its oracle CRC.
pub fn reply(node: u8, reg: u8, value: u16) -> [u8; 5] {
    let [h, l] = value.to_be_bytes();
    let mut f = [node, reg, h, l, 0];
    f[4] = oracle_crc8_j1850(&f[..4]);
    f
}
