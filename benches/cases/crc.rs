//! Integrity codes at 6, 8, 34 and 256 bytes (6 = an ADI register group's data, 8 = a group
//! with its PEC / a BQ769x2 block, 34 = a BQ769x2 32-byte subcommand block with address and
//! length, 256 = bulk), table and no-table, against the classic 256-entry-table PEC15.

use core::hint::black_box;

use bms_afe::crc::{self as afe, PEC10_ALGORITHM, PEC15_ALGORITHM};
use crc::{Crc, NoTable};

use crate::support::{Per, Runner};

const SIZES: [usize; 4] = [6, 8, 34, 256];

/// The classic byte-wise PEC15 with one 256-entry table, as in the LTC681x/LTC6804 data
/// sheets' reference code (`init_PEC15_Table` + `pec15`; `pec15_calc` in the Linduino
/// library): the baseline to beat.
static CLASSIC: [u16; 256] = classic_table();

const fn classic_table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut rem = (i as u16) << 7;
        let mut bit = 0;
        while bit < 8 {
            rem = if rem & 0x4000 != 0 {
                (rem << 1) ^ 0x4599
            } else {
                rem << 1
            };
            bit += 1;
        }
        t[i] = rem;
        i += 1;
    }
    t
}

fn pec15_classic(data: &[u8]) -> u16 {
    let mut rem: u16 = 16;
    for &b in data {
        let addr = ((rem >> 7) ^ u16::from(b)) & 0xFF;
        rem = (rem << 8) ^ CLASSIC[usize::from(addr)];
    }
    rem.wrapping_mul(2)
}

pub fn register(r: &mut Runner) {
    let data: [u8; 256] = super::bytes(0x2545_F491);
    let pec15_nt = Crc::<u16, NoTable>::new(&PEC15_ALGORITHM);
    let pec10_nt = Crc::<u16, NoTable>::new(&PEC10_ALGORITHM);
    let crc8_nt = Crc::<u8, NoTable>::new(&crc::CRC_8_SMBUS);
    let crc16_nt = Crc::<u16, NoTable>::new(&crc::CRC_16_MODBUS);

    // Sanity (not timing): every PEC15 form agrees with the bit-serial `crc` crate.
    for n in SIZES {
        let d = &data[..n];
        let want = pec15_nt.checksum(d) << 1;
        assert_eq!(pec15_classic(d), want);
        assert_eq!(afe::pec15(d), want);
        assert_eq!(afe::pec15_group(d), want);
        assert_eq!(afe::pec10_group(d, 17), afe::pec10(d, 17));
    }

    // The harness alone: black-boxing a slice in and a value out, no call. Subtract it from
    // the small cases to see the cost of the function itself.
    r.case("baseline/empty", Per::iter(), || {
        black_box(&data[..6]).len()
    });

    for n in SIZES {
        let d = &data[..n];
        let per = Per::byte(n as u32);
        r.case(&format!("pec15/{n}B"), per, || afe::pec15(black_box(d)));
        r.case(&format!("pec15_group/{n}B"), per, || {
            afe::pec15_group(black_box(d))
        });
        r.case(&format!("pec15_classic/{n}B"), per, || {
            pec15_classic(black_box(d))
        });
        r.case(&format!("pec15_notable/{n}B"), per, || {
            pec15_nt.checksum(black_box(d)) << 1
        });
        if n == 6 {
            let a: &[u8; 6] = d.try_into().unwrap();
            assert_eq!(afe::pec15_6(a), afe::pec15(d));
            r.case("pec15_6/6B", per, || afe::pec15_6(black_box(a)));
        }
        if n == 8 {
            let a: &[u8; 8] = d.try_into().unwrap();
            assert_eq!(afe::pec15_8(a), afe::pec15(d));
            r.case("pec15_8/8B", per, || afe::pec15_8(black_box(a)));
            // The read-path frame checks: 6 data bytes and their PEC, as a device sends them.
            let mut f15 = *a;
            f15[6..].copy_from_slice(&afe::pec15(&a[..6]).to_be_bytes());
            assert!(afe::pec15_frame_ok(&f15));
            r.case("pec15_frame_ok/8B", per, || {
                afe::pec15_frame_ok(black_box(&f15))
            });
            let mut f10 = *a;
            let p10 = afe::pec10(&a[..6], 17);
            f10[6] = 17 << 2 | (p10 >> 8) as u8;
            f10[7] = p10 as u8;
            assert_eq!(afe::pec10_frame_ok(&f10), Some(17));
            r.case("pec10_frame_ok/8B", per, || {
                afe::pec10_frame_ok(black_box(&f10))
            });
        }
        r.case(&format!("pec10/{n}B"), per, || {
            afe::pec10(black_box(d), black_box(17))
        });
        r.case(&format!("pec10_group/{n}B"), per, || {
            afe::pec10_group(black_box(d), black_box(17))
        });
        // The `crc` crate's bit-serial CRC-10 (without the 6 command-counter bits that
        // `pec10` appends: 6 more bit steps).
        r.case(&format!("pec10_notable/{n}B"), per, || {
            pec10_nt.checksum(black_box(d))
        });
        r.case(&format!("crc8_smbus/{n}B"), per, || {
            afe::crc8_smbus(black_box(d))
        });
        r.case(&format!("crc8_smbus_notable/{n}B"), per, || {
            crc8_nt.checksum(black_box(d))
        });
        r.case(&format!("crc16_modbus/{n}B"), per, || {
            afe::crc16_modbus(black_box(d))
        });
        r.case(&format!("crc16_modbus_notable/{n}B"), per, || {
            crc16_nt.checksum(black_box(d))
        });
    }
}
