//! The shared test oracles of `tests/common` against every published vector the wire, latent,
//! read-all and S-voltage tests rely on. Every other test that builds an expected frame with
//! an oracle trusts it because of this file; the values here are written out by hand from the
//! protocol notes (protocols/adi.md, protocols/ti.md), never computed by the crate.
//!
//! Status marks as in the notes: [X] published by a third party (data sheet, vendor code, an
//! existing driver's tests), [R] a real capture, [D] derived by the notes' own script.

mod common;
use common::{
    oracle_checksum, oracle_cmd, oracle_crc8, oracle_nxp_crc8, oracle_pec10, oracle_pec15,
};

#[test]
fn pec15_and_command_oracles_match_published_vectors() {
    // adi.md §2.2 [X]: RDCVA 0x004 (rt-LTC681X; [R] a real ADBMS6830 capture), WRCFGA 0x001
    // (LTC6804-DS Table 24 worked example), RDAUXA 0x00C (rt; the ADBMS6830's RDCVALL code),
    // ADCV MD=10 all 0x360 (rt tests/monitor.rs).
    assert_eq!(oracle_cmd(0x004), [0x00, 0x04, 0x07, 0xC2]);
    assert_eq!(oracle_cmd(0x001), [0x00, 0x01, 0x3D, 0x6E]);
    assert_eq!(oracle_cmd(0x00C), [0x00, 0x0C, 0xEF, 0xCC]);
    assert_eq!(oracle_cmd(0x360), [0x03, 0x60, 0xF4, 0x6C]);
    // adi.md §2.2 [X] RDCVC / RDCVD (rt commands.rs) = the LTC6810's RDSA 0x008 / RDSB 0x00A
    // (Linduino LTC6810.cpp `LTC6810_rds_reg`).
    assert_eq!(oracle_cmd(0x008), [0x00, 0x08, 0x5E, 0x52]);
    assert_eq!(oracle_cmd(0x00A), [0x00, 0x0A, 0xC3, 0x04]);
    // adi.md §2.2 [D] table: WRPWM 0x020 has PEC 0 (a valid PEC, adi.md §8.1).
    assert_eq!(oracle_cmd(0x020), [0x00, 0x20, 0x00, 0x00]);
    // adi.md §2.3 [X] (ez-104495): the all-0xFF (cleared) data group has PEC 66 4C.
    assert_eq!(oracle_pec15(&[0xFF; 6]), [0x66, 0x4C]);
}

#[test]
fn pec10_oracle_matches_published_vectors() {
    // adi.md §6.1 PEC10 table (ADBMS6830B-DS Tables 42/43 layout; values [D], the script
    // itself checked against the [R] capture): zeros with CC 0/1/17/63.
    assert_eq!(oracle_pec10(&[0; 6], 0), [0x03, 0xE3]);
    assert_eq!(oracle_pec10(&[0; 6], 1), [0x07, 0x6C]);
    assert_eq!(oracle_pec10(&[0; 6], 17), [0x46, 0x82]);
    assert_eq!(oracle_pec10(&[0; 6], 63), [0xFE, 0x8B]);
    // adi.md §6.1: the capture data with CC 0/1/2/63 (counter sensitivity).
    let cap = [0x26, 0xF6, 0x4A, 0xF6, 0x4E, 0xF6];
    assert_eq!(oracle_pec10(&cap, 0), [0x00, 0x6B]);
    assert_eq!(oracle_pec10(&cap, 1), [0x04, 0xE4]);
    assert_eq!(oracle_pec10(&cap, 2), [0x09, 0x75]);
    assert_eq!(oracle_pec10(&cap, 63), [0xFD, 0x03]);
    // adi.md §6.1 and §7.3: the default CFGA and CFGB write images (counter bits 0).
    assert_eq!(oracle_pec10(&[0x01, 0, 0, 0xFF, 0x03, 0], 0), [0x00, 0x5A]);
    assert_eq!(
        oracle_pec10(&[0x00, 0xF8, 0x7F, 0x00, 0x00, 0x00], 0),
        [0x03, 0x3D]
    );
    // adi.md §6.1: all ones.
    assert_eq!(oracle_pec10(&[0xFF; 6], 0), [0x01, 0x96]);
}

#[test]
fn crc8_and_checksum_oracles_match_published_vectors() {
    // ti.md §B.8 CRC-8 table, the published rows: the CRC-8/SMBUS catalogue check value, and
    // the byte examples of SLUAA11B §4 (FET_ENABLE write 10 3E 22 [63] 00 [00]; Cell 1 read
    // 10 14 11 68 [33] 0B [31]) and SLUAAM4 §4 (BQ7690x Cell 1 read 10 14 11 C5 [79]).
    assert_eq!(oracle_crc8(b"123456789"), 0xF4);
    assert_eq!(oracle_crc8(&[0x10, 0x3E, 0x22]), 0x63);
    assert_eq!(oracle_crc8(&[0x00]), 0x00);
    assert_eq!(oracle_crc8(&[0x10, 0x14, 0x11, 0x68]), 0x33);
    assert_eq!(oracle_crc8(&[0x0B]), 0x31);
    assert_eq!(oracle_crc8(&[0x10, 0x14, 0x11, 0xC5]), 0x79);
    // ti.md §B.5/§B.8 transfer-buffer checksums: SLUUBY2B 0x9180 <- 7A 30 = 0x44; SLUAA11B
    // §3.3 0x9261 <- 8C = 0x80; SLUAAM4 §3.3 0x9024 <- E1 = 0x6A; TRM-76907 0x0035 <-
    // 34 12 78 56 = 0xB6.
    assert_eq!(oracle_checksum(0x9180, &[0x7A, 0x30]), 0x44);
    assert_eq!(oracle_checksum(0x9261, &[0x8C]), 0x80);
    assert_eq!(oracle_checksum(0x9024, &[0xE1]), 0x6A);
    assert_eq!(oracle_checksum(0x0035, &[0x34, 0x12, 0x78, 0x56]), 0xB6);
}

#[test]
fn nxp_crc8_oracle_matches_published_vectors() {
    // MC33771B data sheet §10.3 worked example (community.nxp.com thread 1801911): the 32-bit
    // frame 01 01 08 10 has CRC 0x22.
    assert_eq!(oracle_nxp_crc8(&[0x01, 0x01, 0x08, 0x10]), 0x22);
    // others.md §1.3 [C] vectors, cross-checked there against the NXP driver's table CRC
    // (RDDRONE-BMS772 / MR-BMS771 BCC_CalcCRC): "123456789" 0x25; B read INIT 0x7A; C read
    // INIT 0xF4, C write INIT 0x85, C TPL read of 30 registers 0x8D, C global ADC_CFG 0x15.
    assert_eq!(oracle_nxp_crc8(b"123456789"), 0x25);
    assert_eq!(oracle_nxp_crc8(&[0x00, 0x01, 0x01, 0x01]), 0x7A);
    assert_eq!(oracle_nxp_crc8(&[0x00, 0x01, 0x01, 0x00, 0x01]), 0xF4);
    assert_eq!(oracle_nxp_crc8(&[0x00, 0x01, 0x01, 0x00, 0x02]), 0x85);
    assert_eq!(oracle_nxp_crc8(&[0x00, 0x1E, 0x2D, 0x01, 0x01]), 0x8D);
    assert_eq!(oracle_nxp_crc8(&[0x08, 0x3F, 0x06, 0x00, 0x03]), 0x15);
}
