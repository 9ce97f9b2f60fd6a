//! The wide ADBMS6830 read-alls RDCSALL (0x011), RDACSALL (0x051) and RDASALL (0x035):
//! byte-exact wire tests (blocking and async from one expectation list), the pure decoders,
//! the virtual chain against the group reads of the same registers (chains of 1, 2 and 16),
//! per-device fault isolation, and property tests.
//!
//! Provenance (protocols/adi.md): command codes §6.2 (ADBMS6830B-DS Table 50); frame sizes
//! §6.6 (66 and 70 bytes per device, ADI reference code `adBms6830Data.h`); PEC10 over the
//! whole data block and the 6 counter bits §6.1; codes × 150 µV + 1.5 V, 0x8000/0x7FFF "no
//! result" §6.5. Layouts: RDCSALL/RDACSALL = C (or averaged) cells 1–16 then S cells 1–16;
//! RDASALL = AUXA..D (24) ‖ RAXA..D (20) ‖ STATA (6) ‖ STATB (6) ‖ STATC without STCR2/3 (4)
//! ‖ STATD (6) ‖ STER4/STER5 (2), from ADI's reference code (`adBms6830GenericType`
//! RDCSALL/RDACSALL/RDASALL cases) — the RDASALL group order is unverified against the data
//! sheet, so these tests pin the reference-code layout, written here independently.
//!
//! Every command frame and every response PEC is computed by the shared oracles
//! (`common::oracle_cmd`, `common::oracle_pec10`: bit-serial, from the data-sheet text), never
//! by the crate; tests/oracles.rs checks them against the published vectors.

use bms_afe::Error;
use bms_afe::adbms6830::command::{self, Inc};
use bms_afe::adbms6830::readall::{
    AS_DATA_LEN, AS_FRAME_LEN, AuxStatus, CS_DATA_LEN, CS_FRAME_LEN, decode_as, decode_as_data,
    decode_cs, decode_cs_data,
};
use bms_afe::adbms6830::{Adbms6830, Adbms6830b, Adbms6832};
use bms_afe::error::{ConfigError, DeviceFault, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::Reading;
use bms_afe::units::{MicroVolts, MilliCelsius};
use embedded_hal_mock::eh1::delay::NoopDelay;
use embedded_hal_mock::eh1::spi::{Mock, Transaction as T};
use proptest::prelude::*;

mod common;
use common::{block_on, cmd, id, oracle_cmd, oracle_pec10, read, sealed};

/// µV of a code per adi.md §6.5 (signed 16 bit × 150 µV + 1.5 V), no "not converted" check.
fn uv(code: u16) -> i32 {
    i32::from(code as i16) * 150 + 1_500_000
}

/// The reading the chip's code means: 0x8000 (cleared) and 0x7FFF (reset) are not voltages.
fn reading(code: u16) -> Reading<MicroVolts> {
    if code == 0x8000 || code == 0x7FFF {
        Reading::NotConverted
    } else {
        Reading::Valid(MicroVolts(uv(code)))
    }
}

fn le(words: &[u16]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn command_frames_and_counting() {
    // The crate's frames against the oracle, and their INC column: reads do not count
    // (ADBMS6830B-DS Table 50; adi.md §6.1).
    for (frame, code) in [
        (command::RDCSALL, 0x011),
        (command::RDACSALL, 0x051),
        (command::RDASALL, 0x035),
    ] {
        assert_eq!(frame, oracle_cmd(code));
        assert_eq!(command::increments(code), Inc::No);
    }
}

// ---- test data --------------------------------------------------------------------------------

/// C codes: the capture codes (adi.md §6.1: 1.1217/1.1271/1.1277 V), a spread, a reset and a
/// cleared code at the end.
const C_CODES: [u16; 16] = [
    0xF626, 0xF64A, 0xF64E, 0x2710, 0x2711, 0x4E20, 0x0000, 0xFFFF, 0x1388, 0x3A98, 0x2EE0, 0x2AF8,
    0x30D4, 0x1F40, 0x7FFF, 0x8000,
];
/// Averaged codes: C + 3.
fn ac_codes() -> [u16; 16] {
    C_CODES.map(|c| if c >= 0x7FFF { c } else { c.wrapping_add(3) })
}
/// S codes: distinct from C (cell 3 differs by 100 codes), cell 16 reset.
const S_CODES: [u16; 16] = [
    0xF627, 0xF64B, 0x2774, 0x2710, 0x2712, 0x4E21, 0x0001, 0xFFFE, 0x1389, 0x3A97, 0x2EE1, 0x2AF7,
    0x30D5, 0x1F41, 0x1234, 0x7FFF,
];

fn cs_data(c: &[u16; 16], s: &[u16; 16]) -> Vec<u8> {
    let mut v = le(c);
    v.extend(le(s));
    assert_eq!(v.len(), 64);
    v
}

/// One RDASALL data block in the reference-code layout, and the values it must decode to.
struct AsVector {
    data: Vec<u8>,
    aux: [u16; 12],
    raux: [u16; 10],
}

fn as_vector() -> AsVector {
    // AUX: G1..G10, VMV, VPV.
    let aux: [u16; 12] = [
        0x0D05, 0x0D06, 0x0D07, 0x8000, 0x0D09, 0x0D0A, 0x0D0B, 0x0D0C, 0x7FFF, 0x0D0E, 0xF63C,
        0x2000,
    ];
    let raux: [u16; 10] = [
        0x0E01, 0x0E02, 0x0E03, 0x0E04, 0x0E05, 0x0E06, 0x0E07, 0x0E08, 0x0E09, 0x8000,
    ];
    // STATA: VREF2 = 3.0 V (code 10000), ITMP 0x1324 = 25.0 °C (adi.md §6.5), reserved.
    let stata: [u16; 3] = [0x2710, 0x1324, 0xFFFF];
    // STATB: VD 3.3 V (12000), VA 5.0 V (23333 → 4.99995 V), VRES 0x7FFF (reset).
    let statb: [u16; 3] = [0x2EE0, 0x5B25, 0x7FFF];
    let mut data = le(&aux);
    data.extend(le(&raux));
    data.extend(le(&stata));
    data.extend(le(&statb));
    // STATC: CS flags 0x8201 (cells 1, 10, 16), STCR4 = CED|SMED, STCR5 = THSD|SLEEP.
    data.extend([0x01, 0x82, 0x09, 0x0C]);
    // STATD: C1 UV (bit 0), C2 OV (bit 3), C16 OV (STDR3 bit 7); STDR4 0xFF; OC_CNTR 0x5A.
    data.extend([0x09, 0x00, 0x00, 0x80, 0xFF, 0x5A]);
    // STATE: STER4 GPI1..8 = 0xA5, STER5 = REV 3 | GPI10..9 = 0b10.
    data.extend([0xA5, 0x32]);
    assert_eq!(data.len(), 68);
    AsVector { data, aux, raux }
}

fn check_as(v: &AsVector, a: &AuxStatus) {
    for k in 0..11 {
        assert_eq!(a.aux[k], reading(v.aux[k]), "aux {k}");
    }
    // VPV = 25 × (code × 150 µV + 1.5 V) (adi.md §6.5).
    assert_eq!(a.aux[11], Reading::Valid(MicroVolts(25 * uv(v.aux[11]))));
    for k in 0..10 {
        assert_eq!(a.redundant[k], reading(v.raux[k]), "raux {k}");
    }
    assert_eq!(a.supplies.vref2, Reading::Valid(MicroVolts(3_000_000)));
    assert_eq!(a.supplies.itmp, Reading::Valid(MilliCelsius(25_000)));
    assert_eq!(a.supplies.vd, Reading::Valid(MicroVolts(3_300_000)));
    assert_eq!(a.supplies.va, Reading::Valid(MicroVolts(4_999_950)));
    assert_eq!(a.supplies.vres, Reading::NotConverted);
    assert_eq!(a.status_c.cs_fault, 0x8201);
    assert_eq!(a.status_c.conversion_counter_raw, 0);
    assert_eq!(a.status_c.supply_flags, 0x09);
    assert_eq!(a.status_c.system_flags, 0x0C);
    assert!(a.status_c.thermal_shutdown());
    assert_eq!(a.status_d.undervoltage, 0x0001);
    assert_eq!(a.status_d.overvoltage, 0x8002);
    assert_eq!(a.status_d.oscillator_counter, 0x5A);
    assert_eq!(a.status_e.gpi, 0x2A5);
    assert_eq!(a.status_e.revision, 3);
}

// ---- pure decoders ----------------------------------------------------------------------------

#[test]
fn pure_decoders_follow_the_layouts() {
    let data: [u8; CS_DATA_LEN] = cs_data(&C_CODES, &S_CODES).try_into().unwrap();
    let mut c = [Reading::Failed(DeviceFault {
        device: 9,
        reason: FaultReason::NoResponse,
    }); 16];
    let mut s = c;
    decode_cs_data(&data, &mut c, &mut s);
    for k in 0..16 {
        assert_eq!(c[k], reading(C_CODES[k]), "C{k}");
        assert_eq!(s[k], reading(S_CODES[k]), "S{k}");
    }
    assert_eq!(c[0], Reading::Valid(MicroVolts(1_121_700)));
    assert_eq!(c[14], Reading::NotConverted);
    assert_eq!(c[15], Reading::NotConverted);

    // Whole frame with counter 42.
    let frame: [u8; CS_FRAME_LEN] = sealed(&data, 42).try_into().unwrap();
    let mut c2 = [Reading::NotConverted; 16];
    let mut s2 = [Reading::NotConverted; 16];
    assert_eq!(decode_cs(3, &frame, &mut c2, &mut s2), Ok(42));
    assert_eq!((c2, s2), (c, s));
    // Shorter outputs are filled as far as they go.
    let mut c3 = [Reading::NotConverted; 4];
    let mut s3: [Reading<MicroVolts>; 0] = [];
    assert_eq!(decode_cs(3, &frame, &mut c3, &mut s3), Ok(42));
    assert_eq!(c3[..], c[..4]);

    let v = as_vector();
    let d: [u8; AS_DATA_LEN] = v.data.clone().try_into().unwrap();
    check_as(&v, &decode_as_data(&d));
    let f: [u8; AS_FRAME_LEN] = sealed(&v.data, 7).try_into().unwrap();
    let (cc, a) = decode_as(0, &f).unwrap();
    assert_eq!(cc, 7);
    check_as(&v, &a);
}

#[test]
fn pure_decoders_reject_bad_frames() {
    let data = cs_data(&C_CODES, &S_CODES);
    let mut frame: [u8; CS_FRAME_LEN] = sealed(&data, 1).try_into().unwrap();
    frame[40] ^= 0x10;
    let mut c = [Reading::NotConverted; 16];
    let mut s = [Reading::NotConverted; 16];
    let e = decode_cs(5, &frame, &mut c, &mut s).unwrap_err();
    assert_eq!(e.device, 5);
    assert!(matches!(e.reason, FaultReason::Pec { .. }));
    assert!(c.iter().chain(s.iter()).all(|r| *r == Reading::Failed(e)));
    // Silence: all-0xFF frames are NoResponse.
    let e = decode_as(2, &[0xFF; AS_FRAME_LEN]).unwrap_err();
    assert_eq!(
        e,
        DeviceFault {
            device: 2,
            reason: FaultReason::NoResponse
        }
    );
}

// ---- wire: one device, blocking and async -----------------------------------------------------

macro_rules! both {
    ($v:ty, $n:literal, $exp:expr, $scenario:ident) => {{
        let exp: Vec<T<u8>> = $exp;
        let mut d = Adbms6830::<$v, $n, _>::new(Blocking::new(Mock::new(&exp), NoopDelay::new()));
        $scenario!(d, id);
        let (mut m, _) = d.release().release();
        m.done();
        let mut d = Adbms6830::<$v, $n, _>::new(Async::new(Mock::new(&exp), NoopDelay::new()));
        $scenario!(d, block_on);
        let (mut m, _) = d.release().release();
        m.done();
    }};
}

#[test]
fn wire_rdcsall_rdacsall_rdasall_single_device() {
    let ac = ac_codes();
    let v = as_vector();
    let mut e = read(oracle_cmd(0x011), sealed(&cs_data(&C_CODES, &S_CODES), 0));
    e.extend(read(oracle_cmd(0x051), sealed(&cs_data(&ac, &S_CODES), 0)));
    e.extend(read(oracle_cmd(0x035), sealed(&v.data, 0)));
    // Reads moved no counter: the next RDCSALL still carries 0 ...
    e.extend(read(
        oracle_cmd(0x011),
        sealed(&cs_data(&S_CODES, &C_CODES), 0),
    ));
    macro_rules! s {
        ($d:ident, $w:ident) => {
            let mut c = [Reading::NotConverted; 16];
            let mut s = [Reading::NotConverted; 16];
            let r = $w($d.read_cells_cs(false, &mut c, &mut s)).unwrap();
            assert!(r.is_ok(), "{r:?}");
            for k in 0..16 {
                assert_eq!(c[k], reading(C_CODES[k]), "C{k}");
                assert_eq!(s[k], reading(S_CODES[k]), "S{k}");
            }
            let r = $w($d.read_cells_cs(true, &mut c, &mut s)).unwrap();
            assert!(r.is_ok());
            for k in 0..16 {
                assert_eq!(c[k], reading(ac[k]), "AC{k}");
                assert_eq!(s[k], reading(S_CODES[k]), "S{k}");
            }
            let mut a = [Reading::NotConverted; 1];
            let r = $w($d.read_all_aux_status(&mut a)).unwrap();
            assert!(r.is_ok());
            check_as(&v, &a[0].valid().unwrap());
            let r = $w($d.read_cells_cs(false, &mut c, &mut s)).unwrap();
            assert!(r.is_ok());
            assert_eq!(c[3], reading(S_CODES[3]));
            assert_eq!($d.expected_counters(), [0]);
        };
    }
    both!(Adbms6830b, 1, e, s);
}

#[test]
fn wire_redundant_aux_has_no_vmv_or_vpv() {
    // RDRAXA..D = 0x01C, 0x01D, 0x01E, 0x025 (adi.md §6.2). The redundant path converts GPIOs
    // only (ADAX2 CH[3:0], adi.md §6.3), so RAXD carries R_GPIO10 alone: whatever its other
    // two words hold (here plausible codes 1.65 V and 3.0 V), they are not VMV/VPV results.
    let groups: [[u16; 3]; 4] = [
        [0x1388, 0x1389, 0x138A],
        [0x138B, 0x138C, 0x138D],
        [0x138E, 0x138F, 0x1390],
        [0x1391, 0x03E8, 0x2710],
    ];
    let mut e = Vec::new();
    for (code, g) in [0x01C, 0x01D, 0x01E, 0x025].into_iter().zip(groups) {
        e.extend(read(oracle_cmd(code), sealed(&le(&g), 0)));
    }
    macro_rules! s {
        ($d:ident, $w:ident) => {
            let mut out = [[Reading::NotConverted; 12]];
            let r = $w($d.read_aux(true, &mut out)).unwrap();
            assert!(r.is_ok(), "{r:?}");
            for k in 0..10 {
                assert_eq!(out[0][k], reading(groups[k / 3][k % 3]), "R_GPIO{}", k + 1);
            }
            assert_eq!(out[0][10..], [Reading::NotConverted; 2]);
        };
    }
    both!(Adbms6830b, 1, e, s);
}

#[test]
fn wire_bad_pec_and_counter_fail_the_device() {
    let v = as_vector();
    let mut bad = sealed(&cs_data(&C_CODES, &S_CODES), 0);
    bad[10] ^= 0x01;
    // Retries re-issue the whole command; both attempts are bad.
    let mut e = read(oracle_cmd(0x011), bad.clone());
    e.extend(read(oracle_cmd(0x011), bad));
    // RDASALL with counter 5 where 0 is expected: a good PEC but a missed-command fault.
    e.extend(read(oracle_cmd(0x035), sealed(&v.data, 5)));
    macro_rules! s {
        ($d:ident, $w:ident) => {
            $d.set_retries(1);
            let mut c = [Reading::NotConverted; 16];
            let mut s = [Reading::NotConverted; 16];
            let r = $w($d.read_cells_cs(false, &mut c, &mut s)).unwrap();
            let f = r.first_fault.unwrap();
            assert_eq!(f.device, 0);
            assert!(matches!(f.reason, FaultReason::Pec { .. }));
            assert!(c.iter().chain(s.iter()).all(|x| *x == Reading::Failed(f)));
            let mut a = [Reading::NotConverted; 1];
            let r = $w($d.read_all_aux_status(&mut a)).unwrap();
            let f = DeviceFault {
                device: 0,
                reason: FaultReason::CommandCounter {
                    expected: 0,
                    received: 5,
                },
            };
            assert_eq!(r.first_fault, Some(f));
            assert_eq!(a[0], Reading::Failed(f));
        };
    }
    both!(Adbms6830b, 1, e, s);
}

#[test]
fn wire_redundancy_check_with_read_all_uses_the_34_byte_read_alls() {
    // Read-all on: wake_idle (RDCFGA), ADCV RD=1 single shot (0x360, counted: CC 0 → 1), the
    // 9.6 ms wait exceeds tIDLE so wake_idle again, then RDCVALL (0x00C) and RDSALL (0x010),
    // two 34-byte frames whose PEC10 catches every double-bit error — never the 66-byte
    // RDCSALL, whose PEC10 does not — and RDSTATC.
    let rdcfga = oracle_cmd(0x002);
    let mut c = [0x2710u16; 16];
    c[15] = 0x2800;
    let mut s = c;
    s[2] = 0x2710 + 100; // 15 mV apart: beyond the default CTH (8.1 mV)
    let mut e = cmd(rdcfga);
    e.extend(cmd(oracle_cmd(0x360)));
    e.extend(cmd(rdcfga));
    e.extend(read(oracle_cmd(0x00C), sealed(&le(&c), 1)));
    e.extend(read(oracle_cmd(0x010), sealed(&le(&s), 1)));
    // STATC: CS10FLT set by the chip.
    e.extend(read(
        oracle_cmd(0x032),
        sealed(&[0x00, 0x02, 0, 0, 0, 0], 1),
    ));
    macro_rules! s {
        ($d:ident, $w:ident) => {
            $d.set_read_all(true);
            let mut out = [Reading::NotConverted; 1];
            let r = $w($d.redundancy_check(&mut out)).unwrap();
            assert!(r.is_ok(), "{r:?}");
            assert_eq!(out, [Reading::Valid((1 << 2) | (1 << 9))]);
            assert_eq!($d.expected_counters(), [1]);
        };
    }
    both!(Adbms6830b, 1, e, s);

    // The same check with RDCVALL failing: the device's verdict is Failed, not a mask.
    let mut bad = sealed(&le(&c), 1);
    bad[0] ^= 0x80;
    let mut e = cmd(rdcfga);
    e.extend(cmd(oracle_cmd(0x360)));
    e.extend(cmd(rdcfga));
    e.extend(read(oracle_cmd(0x00C), bad));
    e.extend(read(oracle_cmd(0x010), sealed(&le(&s), 1)));
    e.extend(read(oracle_cmd(0x032), sealed(&[0; 6], 1)));
    macro_rules! s {
        ($d:ident, $w:ident) => {
            $d.set_read_all(true);
            $d.set_retries(0);
            let mut out = [Reading::NotConverted; 1];
            let r = $w($d.redundancy_check(&mut out)).unwrap();
            assert_eq!(r.failed.len(), 1);
            assert!(matches!(
                out[0],
                Reading::Failed(DeviceFault { device: 0, .. })
            ));
        };
    }
    both!(Adbms6830b, 1, e, s);
}

#[test]
fn eighteen_cell_variant_is_refused_before_sending() {
    macro_rules! s {
        ($d:ident, $w:ident) => {
            let mut c = [Reading::NotConverted; 18];
            let mut s = [Reading::NotConverted; 18];
            assert!(matches!(
                $w($d.read_cells_cs(false, &mut c, &mut s)),
                Err(Error::Config(ConfigError::Unsupported(_)))
            ));
        };
    }
    both!(Adbms6832, 1, Vec::new(), s);
    macro_rules! l {
        ($d:ident, $w:ident) => {
            let mut c = [Reading::NotConverted; 16];
            let mut s = [Reading::NotConverted; 15];
            assert!(matches!(
                $w($d.read_cells_cs(false, &mut c, &mut s)),
                Err(Error::InvalidArgument(_))
            ));
        };
    }
    both!(Adbms6830b, 1, Vec::new(), l);
}

// ---- properties ---------------------------------------------------------------------------------

proptest! {
    #[test]
    fn arbitrary_cs_frames_never_panic_nor_pass_a_bad_pec(
        bytes in proptest::collection::vec(any::<u8>(), CS_FRAME_LEN),
        device in any::<u8>(),
    ) {
        let frame: [u8; CS_FRAME_LEN] = bytes.clone().try_into().unwrap();
        let mut c = [Reading::NotConverted; 16];
        let mut s = [Reading::NotConverted; 16];
        let r = decode_cs(device, &frame, &mut c, &mut s);
        // The oracle's PEC bytes carry the frame's own counter bits, so equality of both
        // bytes is exactly "the PEC10 over data and counter is right".
        if oracle_pec10(&bytes[..64], bytes[64] >> 2)[..] == bytes[64..] {
            prop_assert_eq!(r, Ok(bytes[64] >> 2));
        } else {
            let f = r.unwrap_err();
            prop_assert_eq!(f.device, device);
            prop_assert!(c.iter().chain(s.iter()).all(|x| *x == Reading::Failed(f)));
        }
    }

    #[test]
    fn arbitrary_as_frames_never_panic_nor_pass_a_bad_pec(
        bytes in proptest::collection::vec(any::<u8>(), AS_FRAME_LEN),
    ) {
        let frame: [u8; AS_FRAME_LEN] = bytes.clone().try_into().unwrap();
        let r = decode_as(1, &frame);
        let want = oracle_pec10(&bytes[..68], bytes[68] >> 2);
        if want[..] == bytes[68..] {
            prop_assert_eq!(r.map(|x| x.0), Ok(bytes[68] >> 2));
        } else {
            prop_assert!(r.is_err());
        }
    }

    #[test]
    fn every_single_bit_flip_is_detected(
        data in proptest::collection::vec(any::<u8>(), AS_DATA_LEN),
        cc in 0u8..64,
        bit in 0usize..(AS_FRAME_LEN * 8),
        cs in any::<bool>(),
    ) {
        if cs {
            let mut f: [u8; CS_FRAME_LEN] = sealed(&data[..64], cc).try_into().unwrap();
            let mut c = [Reading::NotConverted; 16];
            let mut s = [Reading::NotConverted; 16];
            prop_assert_eq!(decode_cs(0, &f, &mut c, &mut s), Ok(cc));
            f[(bit / 8) % CS_FRAME_LEN] ^= 0x80 >> (bit % 8);
            prop_assert!(decode_cs(0, &f, &mut c, &mut s).is_err());
            prop_assert!(c.iter().all(|x| !x.is_valid()));
        } else {
            let mut f: [u8; AS_FRAME_LEN] = sealed(&data, cc).try_into().unwrap();
            prop_assert_eq!(decode_as(0, &f).map(|x| x.0), Ok(cc));
            f[bit / 8] ^= 0x80 >> (bit % 8);
            prop_assert!(decode_as(0, &f).is_err());
        }
    }
}

// ---- virtual chain ------------------------------------------------------------------------------

#[cfg(feature = "sim")]
mod sim {
    use super::*;
    use crate::common::quantised;
    use bms_afe::adbms6830::command::{Adax, Adcv, AuxChannel, PollTarget};
    use bms_afe::adbms6830::{AuxValues, CellSource};
    use bms_afe::sim::adbms6830::Adbms6830Chain;
    use bms_afe::sim::{InjectedFault, Sim, VirtualChip};
    use bms_afe::units::Microseconds;

    fn pattern(d: usize, c: usize) -> i32 {
        3_100_000 + (d as i32) * 29_017 + (c as i32) * 33_331
    }

    macro_rules! both {
        ($n:literal, $scenario:ident) => {{
            {
                let sim = Sim::new(Adbms6830Chain::<Adbms6830b, $n>::new());
                let mut d =
                    Adbms6830::<Adbms6830b, $n, _>::new(Blocking::new(sim.spi(), sim.delay()));
                $scenario!(sim, d, id, $n);
            }
            {
                let sim = Sim::new(Adbms6830Chain::<Adbms6830b, $n>::new());
                let mut d = Adbms6830::<Adbms6830b, $n, _>::new(Async::new(sim.spi(), sim.delay()));
                $scenario!(sim, d, block_on, $n);
            }
        }};
    }

    /// Sets cells, S offsets, GPIOs and the die temperature; wakes; converts C+S (RD=1),
    /// all aux and all AUX2 channels, polling each.
    macro_rules! setup {
        ($sim:ident, $d:ident, $w:ident, $n:expr) => {{
            $sim.with(|m| {
                for dev in 0..$n {
                    for cell in 0..16 {
                        m.set_cell_voltage(dev, cell, pattern(dev, cell));
                    }
                    m.set_s_offset(dev, (dev + 3) % 16, 40_000);
                    for g in 1..=10 {
                        m.set_gpio(dev, g, 1_000_000 + 100_000 * g as i32 + 7_000 * dev as i32);
                    }
                    m.set_temperature(dev, 30_000 + 500 * dev as i32);
                }
            });
            $w($d.wake()).unwrap();
            $w($d.start_cell_adc(Adcv {
                redundant: true,
                ..Adcv::SINGLE
            }))
            .unwrap();
            $w($d.poll(PollTarget::CAdc, Microseconds(20_000))).unwrap();
            $w($d.start_aux(Adax {
                channel: AuxChannel::All,
                open_wire: None,
            }))
            .unwrap();
            $w($d.poll(PollTarget::Aux, Microseconds(40_000))).unwrap();
            $w($d.start_aux2(None)).unwrap();
            $w($d.poll(PollTarget::Aux2, Microseconds(120_000))).unwrap();
        }};
    }

    macro_rules! matches_group_reads {
        ($sim:ident, $d:ident, $w:ident, $n:expr) => {{
            setup!($sim, $d, $w, $n);
            $d.set_read_all(false);
            // Group reads of the same registers.
            let mut gc = vec![Reading::NotConverted; $n * 16];
            let mut gs = gc.clone();
            let mut ga = gc.clone();
            let r = $w($d.read_cells(CellSource::C, &mut gc)).unwrap();
            assert!(r.is_ok(), "group C {r:?}");
            let rr = $w($d.read_cells(CellSource::S, &mut gs)).unwrap();
            assert!(rr.is_ok(), "{rr:?}");
            let rr = $w($d.read_cells(CellSource::Averaged, &mut ga)).unwrap();
            assert!(rr.is_ok(), "{rr:?}");
            let mut c = gc.clone();
            let mut s = gc.clone();
            let r = $w($d.read_cells_cs(false, &mut c, &mut s)).unwrap();
            assert!(r.is_ok(), "{r:?}");
            assert_eq!(c, gc);
            assert_eq!(s, gs);
            // ... and both against the oracle.
            for dev in 0..$n {
                for cell in 0..16 {
                    let off = if cell == (dev + 3) % 16 { 40_000 } else { 0 };
                    let k = dev * 16 + cell;
                    assert_eq!(
                        c[k],
                        Reading::Valid(MicroVolts(quantised(pattern(dev, cell))))
                    );
                    assert_eq!(
                        s[k],
                        Reading::Valid(MicroVolts(quantised(pattern(dev, cell) + off)))
                    );
                }
            }
            let r = $w($d.read_cells_cs(true, &mut c, &mut s)).unwrap();
            assert!(r.is_ok());
            assert_eq!(c, ga);
            assert_eq!(s, gs);

            let mut aux: [AuxValues; $n] = [[Reading::NotConverted; 12]; $n];
            let mut raux = aux;
            let mut sup = [Reading::NotConverted; $n];
            let mut stc = [Reading::NotConverted; $n];
            let mut std = [Reading::NotConverted; $n];
            let mut ste = [Reading::NotConverted; $n];
            let rr = $w($d.read_aux(false, &mut aux)).unwrap();
            assert!(rr.is_ok(), "{rr:?}");
            let rr = $w($d.read_aux(true, &mut raux)).unwrap();
            assert!(rr.is_ok(), "{rr:?}");
            let rr = $w($d.read_supplies(&mut sup)).unwrap();
            assert!(rr.is_ok(), "{rr:?}");
            let rr = $w($d.read_status_c(&mut stc)).unwrap();
            assert!(rr.is_ok(), "{rr:?}");
            let rr = $w($d.read_status_d(&mut std)).unwrap();
            assert!(rr.is_ok(), "{rr:?}");
            let rr = $w($d.read_status_e(&mut ste)).unwrap();
            assert!(rr.is_ok(), "{rr:?}");
            let mut all = [Reading::NotConverted; $n];
            let r = $w($d.read_all_aux_status(&mut all)).unwrap();
            assert!(r.is_ok(), "{r:?}");
            for dev in 0..$n {
                let a = all[dev].valid().unwrap();
                assert_eq!(a.aux, aux[dev], "aux {dev}");
                assert_eq!(a.redundant[..], raux[dev][..10], "raux {dev}");
                // adi.md §6.3: ADAX2 converts GPIOs only, so the redundant path has no VMV/VPV.
                assert_eq!(
                    raux[dev][10..],
                    [Reading::NotConverted; 2],
                    "raux VMV/VPV {dev}"
                );
                for g in 0..10 {
                    let want = quantised(1_000_000 + 100_000 * (g as i32 + 1) + 7_000 * dev as i32);
                    assert_eq!(a.aux[g], Reading::Valid(MicroVolts(want)));
                    assert_eq!(a.redundant[g], Reading::Valid(MicroVolts(want)));
                }
                assert_eq!(Reading::Valid(a.supplies), sup[dev]);
                let MilliCelsius(t) = a.supplies.itmp.valid().unwrap();
                assert!(
                    (t - (30_000 + 500 * dev as i32)).abs() <= 20,
                    "die {dev}: {t}"
                );
                let c = stc[dev].valid().unwrap();
                assert_eq!(a.status_c.cs_fault, c.cs_fault);
                assert_eq!(a.status_c.cs_fault, 1 << ((dev + 3) % 16));
                assert_eq!(a.status_c.supply_flags, c.supply_flags);
                assert_eq!(a.status_c.system_flags, c.system_flags);
                assert_eq!(Reading::Valid(a.status_d), std[dev]);
                assert_eq!(Reading::Valid(a.status_e), ste[dev]);
            }
            // Reads move no counter: the driver and every device still agree.
            for dev in 0..$n {
                assert_eq!(
                    Some($d.expected_counters()[dev]),
                    $sim.with(|m| m.counter(dev))
                );
            }
        }};
    }

    #[test]
    fn read_alls_match_group_reads_chain_of_1() {
        both!(1, matches_group_reads);
    }

    #[test]
    fn read_alls_match_group_reads_chain_of_2() {
        both!(2, matches_group_reads);
    }

    #[test]
    fn read_alls_match_group_reads_chain_of_16() {
        both!(16, matches_group_reads);
    }

    macro_rules! redundancy_both_paths {
        ($sim:ident, $d:ident, $w:ident, $n:expr) => {{
            setup!($sim, $d, $w, $n);
            let want: Vec<_> = (0..$n)
                .map(|dev| Reading::Valid(1u32 << ((dev + 3) % 16)))
                .collect();
            for read_all in [true, false] {
                $d.set_read_all(read_all);
                let mut out = [Reading::NotConverted; $n];
                let r = $w($d.redundancy_check(&mut out)).unwrap();
                assert!(r.is_ok(), "read_all {read_all}: {r:?}");
                assert_eq!(out[..], want[..], "read_all {read_all}");
            }
        }};
    }

    #[test]
    fn redundancy_check_same_on_both_paths_chain_of_1() {
        both!(1, redundancy_both_paths);
    }

    #[test]
    fn redundancy_check_same_on_both_paths_chain_of_16() {
        both!(16, redundancy_both_paths);
    }

    macro_rules! faults_stay_on_their_device {
        ($sim:ident, $d:ident, $w:ident, $n:expr) => {{
            setup!($sim, $d, $w, $n);
            let k = $n - 1;
            $d.set_retries(1);
            $sim.with(|m| {
                m.inject(InjectedFault::CorruptResponses {
                    device: k as u8,
                    seed: 0xBEEF,
                    frames: u32::MAX,
                })
            });
            let mut c = vec![Reading::NotConverted; $n * 16];
            let mut s = c.clone();
            let r = $w($d.read_cells_cs(false, &mut c, &mut s)).unwrap();
            assert_eq!(r.failed.len(), 1);
            assert!(r.failed.contains(k));
            for (i, (x, y)) in c.iter().zip(s.iter()).enumerate() {
                if i / 16 == k {
                    assert!(matches!(x, Reading::Failed(DeviceFault { device, .. }) if *device as usize == k));
                    assert!(matches!(y, Reading::Failed(DeviceFault { device, .. }) if *device as usize == k));
                } else {
                    assert!(x.is_valid() && y.is_valid(), "slot {i}");
                }
            }
            let mut all = [Reading::NotConverted; $n];
            let r = $w($d.read_all_aux_status(&mut all)).unwrap();
            assert_eq!(r.failed.len(), 1);
            for (dev, a) in all.iter().enumerate() {
                if dev == k {
                    assert!(matches!(a, Reading::Failed(DeviceFault { device, reason: FaultReason::Pec { .. } }) if *device as usize == k));
                } else {
                    assert!(a.is_valid(), "device {dev}");
                }
            }
            $d.set_read_all(true);
            let mut out = [Reading::NotConverted; $n];
            $w($d.redundancy_check(&mut out)).unwrap();
            for (dev, o) in out.iter().enumerate() {
                assert_eq!(matches!(o, Reading::Failed(_)), dev == k, "device {dev}");
            }
            // A silent device: NoResponse for it alone.
            $sim.with(|m| {
                m.clear_faults();
                m.inject(InjectedFault::Silent { device: 0 })
            });
            let r = $w($d.read_all_aux_status(&mut all)).unwrap();
            assert_eq!(
                r.first_fault,
                Some(DeviceFault {
                    device: 0,
                    reason: FaultReason::NoResponse
                })
            );
            assert_eq!(r.failed.len(), 1);
            let r = $w($d.read_cells_cs(true, &mut c, &mut s)).unwrap();
            assert_eq!(r.failed.len(), 1);
            assert!(r.failed.contains(0));
            // Healthy again: everything valid, counters in step.
            $sim.with(|m| m.clear_faults());
            let rr = $w($d.read_cells_cs(false, &mut c, &mut s)).unwrap();
            assert!(rr.is_ok(), "{rr:?}");
            let rr = $w($d.read_all_aux_status(&mut all)).unwrap();
            assert!(rr.is_ok(), "{rr:?}");
        }};
    }

    #[test]
    fn faults_stay_on_their_device_chain_of_2() {
        both!(2, faults_stay_on_their_device);
    }

    #[test]
    fn faults_stay_on_their_device_chain_of_16() {
        both!(16, faults_stay_on_their_device);
    }
}
