//! Helpers shared by the integration tests.
#![allow(dead_code)]

use embedded_hal_mock::eh1::spi::Transaction as SpiT;

/// Drives a future to completion. The mocks and virtual chips are always ready, so this
/// returns after the first poll; it is the async twin's harness in every test file.
pub fn block_on<F: core::future::Future>(f: F) -> F::Output {
    let mut f = core::pin::pin!(f);
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    loop {
        if let core::task::Poll::Ready(o) = f.as_mut().poll(&mut cx) {
            return o;
        }
    }
}

/// The identity: the blocking twin's "driver" in the blocking/async test macros.
pub fn id<X>(x: X) -> X {
    x
}

/// The voltage an ADBMS6830 reports for `uv`: nearest multiple of 150 µV above 1.5 V
/// (ADBMS6830B-DS "Result Registers": code × 150 µV + 1.5 V), written independently of the
/// crate's conversion.
pub fn quantised(uv: i32) -> i32 {
    let d = i64::from(uv) - 1_500_000;
    let q = if d >= 0 {
        (d + 75) / 150
    } else {
        (d - 75) / 150
    };
    (q * 150 + 1_500_000) as i32
}

// ---- integrity-code oracles -----------------------------------------------------------------
//
// Written bit by bit from the data-sheet text, never from `bms_afe::crc`, so a test that
// compares the crate's frames against them can fail. `tests/oracles.rs` checks each one
// against the published vectors before any other test relies on it.

/// ADI PEC15 (LTC6811/LTC6812/LTC6813 data sheets "PEC", ADBMS6830B-DS "Command PEC"; LTC6804-DS
/// p.44, LTC6812-DS "Packet Error Code"): CRC-15, polynomial 0x4599
/// (x^15 + x^14 + x^10 + x^8 + x^7 + x^4 + x^3 + 1), seed 0x0010, data bits MSB first, remainder
/// shifted left once (LSB 0), sent big-endian.
pub fn oracle_pec15(data: &[u8]) -> [u8; 2] {
    let mut rem: u16 = 0x0010;
    for &byte in data {
        for i in (0..8).rev() {
            let feedback = ((rem >> 14) & 1) ^ u16::from((byte >> i) & 1);
            rem = (rem << 1) & 0x7FFF;
            if feedback != 0 {
                rem ^= 0x4599;
            }
        }
    }
    (rem << 1).to_be_bytes()
}

/// A 4-byte ADI command frame: the 11-bit command code big-endian, then its PEC15
/// ([`oracle_pec15`]; LTC6804-DS Table 24 worked example 0x001 → `00 01 3D 6E`, also in
/// rt-LTC681X `src/commands.rs`).
pub fn oracle_cmd(code: u16) -> [u8; 4] {
    let cc = code.to_be_bytes();
    let p = oracle_pec15(&cc);
    [cc[0], cc[1], p[0], p[1]]
}

/// ADBMS6830 PEC10 (ADBMS6830B-DS "Data PEC", Tables 42/43): CRC-10,
/// polynomial 0x08F (x^10 + x^7 + x^3 + x^2 + x + 1), seed 0x010, the data bits MSB first,
/// then the 6 command-counter bits MSB first (0 for writes). Returned as the two wire bytes:
/// PEC0 = CC[5:0] << 2 | PEC[9:8], PEC1 = PEC[7:0].
pub fn oracle_pec10(data: &[u8], cc: u8) -> [u8; 2] {
    let mut rem: u16 = 0x010;
    let bits = data
        .iter()
        .flat_map(|&b| (0..8).rev().map(move |i| (b >> i) & 1))
        .chain((0..6).rev().map(|i| (cc >> i) & 1));
    for bit in bits {
        let fb = u16::from(bit) ^ ((rem >> 9) & 1);
        rem = (rem << 1) & 0x3FF;
        if fb == 1 {
            rem ^= 0x08F;
        }
    }
    [(cc << 2) | (rem >> 8) as u8, rem as u8]
}

/// `data` followed by its [`oracle_pec10`] bytes for counter `cc`: one ADBMS6830 frame as a
/// device sends it (read) or as the host sends it (write, `cc` = 0).
pub fn sealed(data: &[u8], cc: u8) -> Vec<u8> {
    let mut v = data.to_vec();
    v.extend_from_slice(&oracle_pec10(data, cc));
    v
}

// ---- embedded-hal-mock SPI expectations ------------------------------------------------------
//
// One SpiDevice transaction each, bracketed by transaction_start/transaction_end as
// embedded-hal-mock 0.11 requires.

/// A command alone (ADC start, clear, wake dummy frame): the 4-byte frame, nothing after.
pub fn cmd(c: [u8; 4]) -> Vec<SpiT<u8>> {
    vec![
        SpiT::transaction_start(),
        SpiT::write_vec(c.to_vec()),
        SpiT::transaction_end(),
    ]
}

/// A read: the command frame, then the host clocks out 0xFF while the chain answers `resp`.
pub fn read(c: [u8; 4], resp: impl AsRef<[u8]>) -> Vec<SpiT<u8>> {
    let resp = resp.as_ref();
    vec![
        SpiT::transaction_start(),
        SpiT::write_vec(c.to_vec()),
        SpiT::transfer_in_place(vec![0xFF; resp.len()], resp.to_vec()),
        SpiT::transaction_end(),
    ]
}

/// A write: the command frame, then `data` (every device's register image and PEC, farthest
/// device first) in a second write of the same transaction.
pub fn write(c: [u8; 4], data: impl AsRef<[u8]>) -> Vec<SpiT<u8>> {
    vec![
        SpiT::transaction_start(),
        SpiT::write_vec(c.to_vec()),
        SpiT::write_vec(data.as_ref().to_vec()),
        SpiT::transaction_end(),
    ]
}

/// TI I2C/SPI CRC-8 (bq769x0 DS §8.3.1.4 "x^8 + x^2 + x + 1", SLUAA11B §4 "I2C With CRC", SLUUBY2B
/// SPI section, SLUUCJ0 §9.1): polynomial 0x07, initial value 0, bits MSB first, no reflection, no
/// final XOR.
pub fn oracle_crc8(bytes: &[u8]) -> u8 {
    let mut c = 0u8;
    for &b in bytes {
        c ^= b;
        for _ in 0..8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            };
        }
    }
    c
}

/// bq769x2 / BQ7690x transfer-buffer checksum (0x60; SLUUBY2B data-memory access example, SLUUCJ0
/// §3.1): the bitwise inverse of the 8-bit sum of the subcommand address bytes (0x3E low, 0x3F
/// high) and data.
pub fn oracle_checksum(addr: u16, data: &[u8]) -> u8 {
    let mut s: u32 = (addr & 0xFF) as u32 + (addr >> 8) as u32;
    for &d in data {
        s += d as u32;
    }
    !(s as u8)
}

/// NXP MC3377x frame CRC-8 (MC33771B data sheet §10.3 as discussed in community.nxp.com thread
/// 1801911, "seed 0xFF and shift an additional 0x00"; NXP BCC SW driver v2.2, MR-BMS771
/// `src/BCC/Derivatives/mc3377xC/bcc_communication.c`): polynomial 0x2F, the register starting at
/// 0xFF, one zero byte clocked in first, then the frame bytes MSB first, no final XOR. Deliberately
/// the seed-0xFF form, not the 0x42 preset the crate uses.
pub fn oracle_nxp_crc8(bytes: &[u8]) -> u8 {
    let mut c = 0xFFu8;
    for &b in core::iter::once(&0u8).chain(bytes) {
        for i in (0..8).rev() {
            let fb = ((c >> 7) ^ (b >> i)) & 1;
            c <<= 1;
            if fb == 1 {
                c ^= 0x2F;
            }
        }
    }
    c
}

/// A 48-bit MC3377xC frame with its oracle CRC: data, register (bit 7 = master/slave), CID,
/// counter/command byte.
pub fn nxp_frame(data: u16, reg: u8, cid: u8, cnt_cmd: u8) -> [u8; 6] {
    let [h, l] = data.to_be_bytes();
    let mut f = [h, l, reg, cid, cnt_cmd, 0];
    f[5] = oracle_nxp_crc8(&f[..5]);
    f
}

// ---- Maxim battery-management UART (MAX1785x through the MAX17841B) -------------------------

/// Maxim PEC: CRC-8, polynomial x^8+x^6+x^3+x^2+1 processed LSB first (reflected 0xB2),
/// initial value 0, no final XOR, bit by bit (foxBMS `mxm_crc8.c` documents it as 0xA6 /
/// 0x14D; MAXREFDES1301 `PEC.cpp` implements it bitwise). `tests/oracles.rs` checks it
/// against foxBMS's self-test vectors.
pub fn oracle_maxim_pec(bytes: &[u8]) -> u8 {
    let mut crc = 0u8;
    for &b in bytes {
        for i in 0..8 {
            let bit = (b >> i) & 1;
            let fb = (crc & 1) ^ bit;
            crc >>= 1;
            if fb != 0 {
                crc ^= 0xB2;
            }
        }
    }
    crc
}

/// `body` followed by its [`oracle_maxim_pec`].
pub fn maxim_sealed(body: &[u8]) -> Vec<u8> {
    let mut v = body.to_vec();
    v.push(oracle_maxim_pec(body));
    v
}

/// One MAX17841B message transaction as the driver performs it (MAXREFDES1301
/// `V_measure.cpp`, foxBMS `mxm_17841b.c`): CLR_RX_BUF (0xE0); WR_LD_Q0 (0xC0) with the length
/// byte and the message; WR_NXT_LD_Q0 (0xB0); one RX_STATUS read (0x01) per entry of
/// `statuses`; then, if the last status has RX_STOP (bit 1), RD_NXT_MSG (0x93) returning
/// `rx` after the byte clocked during the command.
pub fn maxim_message(
    message: &[u8],
    response_len: u8,
    statuses: &[u8],
    rx: &[u8],
) -> Vec<SpiT<u8>> {
    let mut t = vec![
        SpiT::transaction_start(),
        SpiT::write_vec(vec![0xE0]),
        SpiT::transaction_end(),
        SpiT::transaction_start(),
    ];
    let mut load = vec![0xC0, response_len];
    load.extend_from_slice(message);
    t.push(SpiT::write_vec(load));
    t.push(SpiT::transaction_end());
    t.extend([
        SpiT::transaction_start(),
        SpiT::write_vec(vec![0xB0]),
        SpiT::transaction_end(),
    ]);
    for &s in statuses {
        t.extend([
            SpiT::transaction_start(),
            SpiT::transfer_in_place(vec![0x01, 0x00], vec![0x00, s]),
            SpiT::transaction_end(),
        ]);
    }
    if statuses.last().is_some_and(|s| s & 0x02 != 0) {
        let mut tx = vec![0x93];
        tx.extend(std::iter::repeat_n(0x00, rx.len()));
        let mut resp = vec![0x00];
        resp.extend_from_slice(rx);
        t.extend([
            SpiT::transaction_start(),
            SpiT::transfer_in_place(tx, resp),
            SpiT::transaction_end(),
        ]);
    }
    t
}

/// TI BQ7961x / BQ79600 / BQ79606A UART frame CRC (SLUSE48B BQ79656-Q1 "CRC-16-IBM polynomial
/// (x16 + x15 + x2 + 1) with 0xFFFF initialization"; residue 0 over a whole frame, SLUSDQ4):
/// processed bit by bit LSB first with the reflected polynomial 0xA001, no final XOR. Returned
/// as the two wire bytes, low byte first.
pub fn oracle_crc16(bytes: &[u8]) -> [u8; 2] {
    let mut c: u16 = 0xFFFF;
    for &b in bytes {
        for i in 0..8 {
            let bit = u16::from((b >> i) & 1);
            let fb = (c & 1) ^ bit;
            c >>= 1;
            if fb != 0 {
                c ^= 0xA001;
            }
        }
    }
    c.to_le_bytes()
}

/// `body` followed by its [`oracle_crc16`] bytes: one BQ7961x frame as it goes on the wire.
pub fn ti_frame(body: &[u8]) -> Vec<u8> {
    let mut v = body.to_vec();
    v.extend_from_slice(&oracle_crc16(body));
    v
}

// ---- TI I2C (bq769x2 / BQ7690x) mock transactions -----------------------------------------

/// Address of the TI monitors in these tests (7-bit).
const TI_ADDR: u8 = 0x08;

/// Builds embedded-hal-mock I2C transactions for a TI monitor at 0x08, in plain or CRC mode,
/// with the CRC bytes from [`oracle_crc8`] (BQ769x2 SLUAA11B "I2C With CRC": the first data
/// byte's CRC covers address, register (and read address), later bytes their own byte).
#[derive(Clone, Copy)]
pub struct TiWire {
    /// CRC mode.
    pub crc: bool,
}

type I2cT = embedded_hal_mock::eh1::i2c::Transaction;

impl TiWire {
    /// A register write of `data`.
    pub fn w(self, reg: u8, data: &[u8]) -> I2cT {
        let a = TI_ADDR;
        let mut v = vec![reg];
        for (i, &d) in data.iter().enumerate() {
            v.push(d);
            if self.crc {
                v.push(if i == 0 {
                    oracle_crc8(&[a << 1, reg, d])
                } else {
                    oracle_crc8(&[d])
                });
            }
        }
        I2cT::write(a, v)
    }
    /// A register read answering `data`.
    pub fn r(self, reg: u8, data: &[u8]) -> I2cT {
        let a = TI_ADDR;
        let mut v = vec![];
        for (i, &d) in data.iter().enumerate() {
            v.push(d);
            if self.crc {
                v.push(if i == 0 {
                    oracle_crc8(&[a << 1, reg, (a << 1) | 1, d])
                } else {
                    oracle_crc8(&[d])
                });
            }
        }
        I2cT::write_read(a, vec![reg], v)
    }
    /// A subcommand read with response `data` (echo on the first poll). The data is read
    /// (one burst from 0x40) BEFORE checksum and length (0x60/0x61): on the BQ7690x reading
    /// 0x61 advances 0x3E/0x3F by 0x20 and refills the buffer (BQ76907 TRM SLUUCJ0 §3.1),
    /// so data read after 0x61 could be the next block.
    pub fn sub_read(self, cmd: u16, data: &[u8]) -> Vec<I2cT> {
        let c = cmd.to_le_bytes();
        vec![
            self.w(0x3E, &c),
            self.r(0x3E, &c),
            self.r(0x40, data),
            self.r(0x60, &[oracle_checksum(cmd, data), data.len() as u8 + 4]),
        ]
    }
    /// A subcommand write of `data` with its checksum and length.
    pub fn sub_write(self, cmd: u16, data: &[u8]) -> Vec<I2cT> {
        vec![
            self.w(0x3E, &cmd.to_le_bytes()),
            self.w(0x40, data),
            self.w(0x60, &[oracle_checksum(cmd, data), data.len() as u8 + 4]),
        ]
    }
    /// A data-memory read: the whole 32-byte block from `addr`, `head` first.
    pub fn dm_read(self, addr: u16, head: &[u8]) -> Vec<I2cT> {
        let mut block = [0u8; 32];
        block[..head.len()].copy_from_slice(head);
        self.sub_read(addr, &block)
    }
}
