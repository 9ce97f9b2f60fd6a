//! The wide read-all frames RDCSALL, RDACSALL and RDASALL (ADBMS6830B-DS Table 50
//! and its register tables): pure decoders, tested without a bus.
//!
//! Every device answers one frame of data plus a 2-byte PEC10 that covers the **whole** data
//! block and the device's 6-bit command counter (ADBMS6830B-DS "Data PEC"):
//!
//! | command | code | data bytes per device | frame (data + PEC) |
//! |---|---|---|---|
//! | RDCSALL | 0x011 | 64 | [`CS_FRAME_LEN`] = 66 |
//! | RDACSALL | 0x051 | 64 | 66 |
//! | RDASALL | 0x035 | 68 | [`AS_FRAME_LEN`] = 70 |
//!
//! (sizes: ADI reference code `adBms6830Data.h` `RDCSALL_SIZE`/`RDACSALL_SIZE` 66,
//! `RDASALL_SIZE` 70; the data sheet's RDASALL omits STCR2/STCR3, giving 68 data bytes.)
//!
//! # Layouts
//!
//! * **RDCSALL**: C-ADC cells 1–16 (bytes 0–31, the words of CVA..CVF in order, little-endian
//!   signed codes), then S-ADC cells 1–16 (bytes 32–63, SVA..SVF). **RDACSALL**: averaged
//!   cells 1–16 (ACA..ACF), then S-ADC cells 1–16. Source: ADI reference code
//!   (`adBms6830GenericType` read dispatch: C (or AC) parsed from offset 0, S from offset 32),
//!   which agrees with the command names ("read all C and S results") in ADBMS6830B-DS
//!   Table 50.
//! * **RDASALL** (68 data bytes; the data sheet says STCR2/STCR3 are omitted):
//!
//!   | bytes | content |
//!   |---|---|
//!   | 0–23 | AUXA..AUXD: G1V..G10V, VMV, VPV (12 words) |
//!   | 24–43 | RAXA..RAXD: R_G1V..R_G10V (10 words; RAXD carries R_G10V only) |
//!   | 44–49 | STATA: VREF2, ITMP, reserved |
//!   | 50–55 | STATB: VD, VA, VRES |
//!   | 56–59 | STATC without STCR2/STCR3: STCR0, STCR1 (CS flags), STCR4, STCR5 |
//!   | 60–65 | STATD: STDR0..STDR5 |
//!   | 66–67 | STATE without STER0..STER3: STER4, STER5 (GPI, revision) |
//!
//!   Source: ADI reference code only (`adBms6830GenericType` RDASALL case: 24 bytes of GPIO
//!   data, 20 bytes of redundant GPIO data, 24 bytes of status A (6), B (6), C (4), D (6),
//!   E (2); parsed by `adBms6830ParseCreate` at offsets 0, 24 and 44). The total (68) agrees
//!   with the data sheet; the order of the groups inside the frame is **UNVERIFIED** against
//!   the data-sheet table. What the decoder does: it follows that layout exactly; a wrong
//!   layout would show up as plausible but misplaced values, so compare [`decode_as_data`]
//!   with the group reads ([`Adbms6830::read_aux`](super::Adbms6830::read_aux) and kin) on
//!   your silicon before relying on it.
//!
//! Codes are converted by [`convert`]: 0x8000 (cleared) and 0x7FFF (reset)
//! are [`Reading::NotConverted`], never voltages.
//!
//! ```
//! use bms_afe::adbms6830::readall::{decode_cs_data, CS_DATA_LEN};
//! use bms_afe::monitor::Reading;
//! use bms_afe::units::MicroVolts;
//! let mut data = [0u8; CS_DATA_LEN];
//! data[0..2].copy_from_slice(&0x2710u16.to_le_bytes()); // C1: 10000 × 150 µV + 1.5 V
//! data[32..34].copy_from_slice(&0x8000u16.to_le_bytes()); // S1: cleared
//! let mut c = [Reading::NotConverted; 16];
//! let mut s = [Reading::NotConverted; 16];
//! decode_cs_data(&data, &mut c, &mut s);
//! assert_eq!(c[0], Reading::Valid(MicroVolts(3_000_000)));
//! assert_eq!(s[0], Reading::NotConverted);
//! ```

use super::convert;
use super::register::{StatusC, StatusD, StatusE};
use super::values::{AuxValues, Supplies};
use crate::error::DeviceFault;
use crate::isospi::{self, DataPec};
use crate::monitor::Reading;
use crate::units::MicroVolts;

/// Cells carried by each half of RDCSALL/RDACSALL (cells 1–16).
pub const CS_CELLS: usize = 16;
/// Data bytes per device of RDCSALL/RDACSALL: 32 C (or averaged) + 32 S.
pub const CS_DATA_LEN: usize = 64;
/// Frame bytes per device of RDCSALL/RDACSALL: data + 2 PEC bytes.
pub const CS_FRAME_LEN: usize = CS_DATA_LEN + 2;
/// Data bytes per device of RDASALL.
pub const AS_DATA_LEN: usize = 68;
/// Frame bytes per device of RDASALL: data + 2 PEC bytes.
pub const AS_FRAME_LEN: usize = AS_DATA_LEN + 2;

/// Byte offsets inside the RDASALL data block (see the module table; UNVERIFIED order).
const AS_AUX: usize = 0;
const AS_RAUX: usize = 24;
const AS_STATA: usize = 44;
const AS_STATB: usize = 50;
const AS_STATC: usize = 56;
const AS_STATD: usize = 60;
const AS_STATE: usize = 66;

/// Redundant auxiliary results carried by RDASALL: R_G1V..R_G10V.
pub type RedundantGpios = [Reading<MicroVolts>; 10];

/// Everything one RDASALL frame carries for one device, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AuxStatus {
    /// GPIO1..10, VMV, VPV (VPV already ×25) — as [`Adbms6830::read_aux`](super::Adbms6830::read_aux)
    /// with `redundant = false`.
    pub aux: AuxValues,
    /// Redundant (AUX2) GPIO1..10 results.
    pub redundant: RedundantGpios,
    /// Status A and B: VREF2, ITMP, VD, VA, VRES.
    pub supplies: Supplies,
    /// Status C. RDASALL omits STCR2/STCR3, so
    /// [`conversion_counter_raw`](StatusC::conversion_counter_raw) is always 0 here: read
    /// status C by group ([`Adbms6830::read_status_c`](super::Adbms6830::read_status_c)) for
    /// the conversion counter.
    pub status_c: StatusC,
    /// Status D: per-cell OV/UV flags and the oscillator counter.
    pub status_d: StatusD,
    /// Status E: GPI levels and the revision (RDASALL carries STER4/STER5 only).
    pub status_e: StatusE,
}

/// The little-endian word at byte `byte` of `data` as a cell-type reading (0x8000/0x7FFF → not
/// converted).
#[inline]
fn cell_at(data: &[u8], byte: usize) -> Reading<MicroVolts> {
    match data.get(byte..byte + 2) {
        Some(&[lo, hi]) => convert::cell(u16::from_le_bytes([lo, hi])),
        _ => Reading::NotConverted,
    }
}

/// The 6 bytes of `data` from `at` (zeros where `data` is shorter: callers pass verified
/// fixed-size blocks).
fn group6(data: &[u8], at: usize) -> [u8; 6] {
    let mut g = [0u8; 6];
    if let Some(s) = data.get(at..at + 6) {
        g.copy_from_slice(s);
    }
    g
}

/// Decodes the 64 data bytes of a verified RDCSALL/RDACSALL frame: the first 32 bytes into
/// `c` (C or averaged cells 1–16), the next 32 into `s` (S-ADC cells 1–16). Writes
/// `min(len, 16)` slots of each; nothing else is touched.
#[inline]
pub fn decode_cs_data(
    data: &[u8; CS_DATA_LEN],
    c: &mut [Reading<MicroVolts>],
    s: &mut [Reading<MicroVolts>],
) {
    cs_from(data, c, s);
}

/// [`decode_cs_data`] over the first 64 bytes of `data` (a verified frame), without a copy.
#[inline]
pub(crate) fn cs_from(data: &[u8], c: &mut [Reading<MicroVolts>], s: &mut [Reading<MicroVolts>]) {
    let half = CS_DATA_LEN / 2;
    if let (Some(cd), Some(sd)) = (data.get(..half), data.get(half..CS_DATA_LEN)) {
        for (o, w) in c.iter_mut().zip(cd.chunks_exact(2)) {
            *o = convert::cell(u16::from_le_bytes([w[0], w[1]]));
        }
        for (o, w) in s.iter_mut().zip(sd.chunks_exact(2)) {
            *o = convert::cell(u16::from_le_bytes([w[0], w[1]]));
        }
    }
}

/// Checks one device's RDCSALL/RDACSALL frame (PEC10 over the 64 data bytes and the command
/// counter) and decodes it into `c` and `s` ([`decode_cs_data`]). Returns the command counter
/// carried in the PEC bytes; on a bad PEC every slot of `c` and `s` (up to 16 each) becomes
/// [`Reading::Failed`] naming `device`. The counter is not compared with anything here: the
/// driver does that ([`Adbms6830::read_cells_cs`](super::Adbms6830::read_cells_cs)).
pub fn decode_cs(
    device: u8,
    frame: &[u8; CS_FRAME_LEN],
    c: &mut [Reading<MicroVolts>],
    s: &mut [Reading<MicroVolts>],
) -> Result<u8, DeviceFault> {
    match isospi::verify_frame(frame, DataPec::Pec10) {
        Ok(cc) => {
            cs_from(frame, c, s);
            Ok(cc)
        }
        Err(reason) => {
            let f = DeviceFault { device, reason };
            fail_cs(f, c, s);
            Err(f)
        }
    }
}

/// Marks up to 16 slots of `c` and `s` failed with `f`.
pub(crate) fn fail_cs(
    f: DeviceFault,
    c: &mut [Reading<MicroVolts>],
    s: &mut [Reading<MicroVolts>],
) {
    for o in c
        .iter_mut()
        .take(CS_CELLS)
        .chain(s.iter_mut().take(CS_CELLS))
    {
        *o = Reading::Failed(f);
    }
}

/// Decodes the 68 data bytes of a verified RDASALL frame (layout in the module docs;
/// group order UNVERIFIED against the data sheet).
pub fn decode_as_data(data: &[u8; AS_DATA_LEN]) -> AuxStatus {
    as_from(data)
}

/// [`decode_as_data`] over the first 68 bytes of `d` (a verified frame), without a copy.
pub(crate) fn as_from(d: &[u8]) -> AuxStatus {
    let mut aux = [Reading::NotConverted; 12];
    for (k, o) in aux.iter_mut().enumerate() {
        *o = cell_at(d, AS_AUX + 2 * k);
    }
    // AUXD word 2 is VPV: ×25 (as `read_aux`).
    if let (Some(o), Some(&[lo, hi])) = (aux.get_mut(11), d.get(AS_AUX + 22..AS_AUX + 24)) {
        *o = convert::vpv(u16::from_le_bytes([lo, hi]));
    }
    let mut redundant = [Reading::NotConverted; 10];
    for (k, o) in redundant.iter_mut().enumerate() {
        *o = cell_at(d, AS_RAUX + 2 * k);
    }
    let word = |at: usize| match d.get(at..at + 2) {
        Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
        _ => convert::CLEARED,
    };
    let supplies = Supplies {
        vref2: convert::cell(word(AS_STATA)),
        itmp: convert::itmp(word(AS_STATA + 2)),
        vd: convert::cell(word(AS_STATB)),
        va: convert::cell(word(AS_STATB + 2)),
        vres: convert::cell(word(AS_STATB + 4)),
    };
    // STATC arrives without STCR2/STCR3: rebuild the 6-byte group with a zero counter word.
    let c4 = group6(d, AS_STATC);
    let status_c = StatusC::from_bytes(&[c4[0], c4[1], 0, 0, c4[2], c4[3]]);
    let status_d = StatusD::from_bytes(&group6(d, AS_STATD));
    // STATE arrives as STER4, STER5 only (STER0..3 read 0xFF on the group read).
    let e = match d.get(AS_STATE..AS_STATE + 2) {
        Some(&[a, b]) => [0xFF, 0xFF, 0xFF, 0xFF, a, b],
        _ => [0xFF; 6],
    };
    let status_e = StatusE::from_bytes(&e);
    AuxStatus {
        aux,
        redundant,
        supplies,
        status_c,
        status_d,
        status_e,
    }
}

/// Checks one device's RDASALL frame (PEC10 over the 68 data bytes and the command counter)
/// and decodes it ([`decode_as_data`]). Returns the command counter and the values, or the
/// fault naming `device` — a frame with a bad PEC yields nothing.
pub fn decode_as(device: u8, frame: &[u8; AS_FRAME_LEN]) -> Result<(u8, AuxStatus), DeviceFault> {
    match isospi::verify_frame(frame, DataPec::Pec10) {
        Ok(cc) => Ok((cc, as_from(frame))),
        Err(reason) => Err(DeviceFault { device, reason }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_fit_the_frames() {
        assert_eq!(AS_STATE + 2, AS_DATA_LEN);
        assert_eq!(AS_RAUX - AS_AUX, 24);
        assert_eq!(AS_STATA - AS_RAUX, 20);
        assert_eq!(AS_DATA_LEN - AS_STATA, 24);
    }
}
