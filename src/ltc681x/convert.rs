//! Pure decoding: register codes to physical values (LTC6812-DS Table 4 and Table 55),
//! the chain cell-frame decoder of the read path, status groups, open-wire evaluation
//! (LTC6812-DS "Open Wire Check") and the
//! overlap comparison. No bus, no heap.

use super::variant::Variant;
use crate::crc;
use crate::error::{DeviceFault, FaultReason};
use crate::isospi::{self, DataPec};
use crate::monitor::{ChainReport, Reading};
use crate::units::{MicroVolts, MilliCelsius};

/// The code of a cleared or never-converted register (LTC6812-DS "ADC Clear Commands").
pub const NOT_CONVERTED: u16 = 0xFFFF;
/// Codes from here to 0xFFFE are digital-redundancy fault codes 0xFF0X (LTC6812-DS
/// "Indication of Digital Redundancy Fault Codes"), outside the valid 0x0000..=0xDFFF.
pub const REDUNDANCY_FAULT: u16 = 0xFF00;
/// The largest code a conversion can produce: the ADC's full range ends at 5.7344 V =
/// 0xE000 · 100 µV, and the data sheet gives the valid results as 0x0000..=0xDFFF
/// (LTC6812-DS Table 4 and "Indication of Digital Redundancy Fault Codes"). Every code above it except [`NOT_CONVERTED`] is a chip fault, never a voltage.
pub const MAX_MEASUREMENT: u16 = 0xDFFF;

/// `true` if `code` is a conversion result (0x0000..=[`MAX_MEASUREMENT`]), `false` for
/// [`NOT_CONVERTED`] and for every fault code above the full scale.
///
/// ```
/// use bms_afe::ltc681x::convert::is_measurement;
/// assert!(is_measurement(0xDFFF));
/// assert!(!is_measurement(0xE000));
/// assert!(!is_measurement(0xFFFF));
/// ```
#[inline(always)]
pub const fn is_measurement(code: u16) -> bool {
    code <= MAX_MEASUREMENT
}

/// A cell, GPIO, reference, VA or VD code (unsigned, 100 µV per LSB) as a [`Reading`]:
/// 0x0000..=0xDFFF is a voltage; 0xFFFF is [`Reading::NotConverted`]; every other code
/// (0xE000..=0xFFFE: above the ADC full scale of 5.7344 V, e.g. the digital-redundancy fault
/// codes 0xFF0X) is [`Reading::Failed`] with [`FaultReason::Framing`] naming `device` — no
/// conversion produces it, so the chip's result is corrupt (LTC6812-DS "Indication of Digital Redundancy Fault Codes").
///
/// ```
/// use bms_afe::ltc681x::convert::voltage;
/// use bms_afe::monitor::Reading;
/// use bms_afe::units::MicroVolts;
/// // rt-LTC681X `src/tests/monitor.rs`: RDCVA 93 61 ... -> cell 1 = 0x6193 = 24979 -> 2.4979 V.
/// assert_eq!(voltage(0x6193, 0), Reading::Valid(MicroVolts(2_497_900)));
/// assert_eq!(voltage(0xFFFF, 0), Reading::NotConverted);
/// assert!(matches!(voltage(0xE000, 0), Reading::Failed(_)));
/// ```
#[inline(always)]
pub const fn voltage(code: u16, device: u8) -> Reading<MicroVolts> {
    if is_measurement(code) {
        Reading::Valid(MicroVolts(code as i32 * 100))
    } else if code == NOT_CONVERTED {
        Reading::NotConverted
    } else {
        Reading::Failed(DeviceFault {
            device,
            reason: FaultReason::Framing,
        })
    }
}

/// Sum of cells: SC · 100 µV · factor (10/20/30 per part).
pub const fn sum_of_cells<V: Variant>(code: u16, device: u8) -> Reading<MicroVolts> {
    match voltage(code, device) {
        Reading::Valid(v) => Reading::Valid(MicroVolts(v.0 * V::SC_FACTOR)),
        other => other,
    }
}

/// Die temperature: ITMP · 100 µV / (7.5 or 7.6 mV/K) − (273 or 276) °C, rounded to the
/// nearest m°C.
///
/// ```
/// use bms_afe::ltc681x::{convert::die_temperature, Ltc6813};
/// use bms_afe::monitor::Reading;
/// use bms_afe::units::MilliCelsius;
/// // rt-LTC681X `src/tests/monitor.rs`: ITMP 0x5074 on LTC6813 -> -5.0 °C.
/// assert_eq!(die_temperature::<Ltc6813>(0x5074, 0), Reading::Valid(MilliCelsius(-5_000)));
/// ```
pub const fn die_temperature<V: Variant>(code: u16, device: u8) -> Reading<MilliCelsius> {
    match voltage(code, device) {
        Reading::Valid(_) => {
            let num = code as i64 * 100_000; // µV · 1000 (m°C per K)
            let k = V::ITMP_UV_PER_K as i64;
            let mc = (num + k / 2) / k - V::ITMP_OFFSET_MC as i64;
            Reading::Valid(MilliCelsius(mc as i32))
        }
        Reading::NotConverted => Reading::NotConverted,
        Reading::Failed(f) => Reading::Failed(f),
    }
}

/// The `i`-th little-endian 16-bit word of a group (0..=2).
#[inline(always)]
pub const fn word(group: &[u8; 6], i: usize) -> u16 {
    let i = if i > 2 { 2 } else { i };
    u16::from_le_bytes([group[2 * i], group[2 * i + 1]])
}

/// Decodes a chain's cell-voltage frames (the read path): `groups[g][d]` is the 8-byte frame
/// (`data ‖ PEC`) of group `g` (A, B, …) from device `d` (0 = nearest the host). Every
/// frame's PEC is checked; `out[d · CELLS + c]` receives cell `c + 1` of device `d` as
/// `Valid`, `NotConverted` (0xFFFF) or `Failed` (bad PEC, silent device, or a code above the
/// full scale 0xDFFF such as a redundancy fault code, which also fails the report). Only as many devices as `out` holds are decoded; missing groups fail their cells.
///
/// This is the read path's hot loop: one [`crc::pec15_frame_ok`] per frame, one 64-bit load
/// for the three codes, a branch-free "all three are measurements" test, no copies, no heap.
/// Measured with callgrind (x86-64, release): about 18 instructions per cell for a
/// 16 × LTC6813 chain (288 cells, 96 PECs), PEC included.
///
/// ```
/// use bms_afe::ltc681x::{convert::decode_cell_groups, Ltc6811};
/// use bms_afe::monitor::Reading;
/// use bms_afe::units::MicroVolts;
/// // CVA..CVD of one device (rt-LTC681X `src/tests/monitor.rs`).
/// let g = [
///     [[0x93, 0x61, 0xBB, 0x1E, 0xAE, 0x22, 0x9A, 0x1C]],
///     [[0xDD, 0x66, 0x72, 0x1D, 0xA2, 0x1C, 0x11, 0x94]],
///     [[0x61, 0x63, 0xBD, 0x1E, 0xE4, 0x22, 0x3F, 0x42]],
///     [[0x8A, 0x61, 0x61, 0x1F, 0xCF, 0x21, 0x01, 0xEE]],
/// ];
/// let mut out = [Reading::NotConverted; 12];
/// let report = decode_cell_groups::<Ltc6811, 1>(&g, &mut out);
/// assert!(report.is_ok());
/// assert_eq!(out[9], Reading::Valid(MicroVolts(2_497_000)));
/// ```
pub fn decode_cell_groups<V: Variant, const N: usize>(
    groups: &[[[u8; 8]; N]],
    out: &mut [Reading<MicroVolts>],
) -> ChainReport {
    let mut report = ChainReport::OK;
    let supplied = groups.len().min(V::CELL_GROUPS);
    for (d, dev) in out.chunks_exact_mut(V::CELLS).take(N).enumerate() {
        let device = d as u8;
        let Some((have, missing)) = dev.split_at_mut_checked(3 * supplied) else {
            continue;
        };
        // Groups the caller did not supply: those cells cannot be trusted.
        if !missing.is_empty() {
            fail(missing, &mut report, device, FaultReason::Framing);
        }
        for (gr, cells) in groups.iter().zip(have.chunks_exact_mut(3)) {
            let Some(frame) = gr.get(d) else {
                continue;
            };
            // Hot path: the PEC of the fixed 8-byte frame, then three codes from one load;
            // the generic verifier only runs to classify a failure.
            if crc::pec15_frame_ok(frame) {
                let le = u64::from_le_bytes(*frame);
                let codes = [le as u16, (le >> 16) as u16, (le >> 32) as u16];
                match cells {
                    // Common case: three measurements.
                    [a, b, c] if all_measurements(le) => {
                        *a = Reading::Valid(MicroVolts(i32::from(codes[0]) * 100));
                        *b = Reading::Valid(MicroVolts(i32::from(codes[1]) * 100));
                        *c = Reading::Valid(MicroVolts(i32::from(codes[2]) * 100));
                    }
                    _ => decode_rare(cells, codes, device, &mut report),
                }
            } else {
                let reason = match isospi::verify_frame(frame, DataPec::Pec15) {
                    Err(r) => r,
                    Ok(_) => FaultReason::Framing,
                };
                fail(cells, &mut report, device, reason);
            }
        }
    }
    report
}

/// The rare path of [`decode_cell_groups`]: "not converted" codes, or fault codes above the
/// full scale (0xE000..=0xFFFE) that must also show in the report. Kept out of line so the hot loop stays small.
#[cold]
#[inline(never)]
fn decode_rare(
    cells: &mut [Reading<MicroVolts>],
    codes: [u16; 3],
    device: u8,
    report: &mut ChainReport,
) {
    for (c, code) in cells.iter_mut().zip(codes) {
        *c = voltage(code, device);
        if let Reading::Failed(f) = *c {
            report.record(f);
        }
    }
}

/// `true` if each of the three little-endian codes in the low 48 bits of `le` has a high
/// byte below 0xE0, i.e. every code is at most [`MAX_MEASUREMENT`] (so none is "not
/// converted" or a fault code). Branch-free: each 16-bit lane holds one high byte, and adding
/// 0x20 carries into the lane's bit 8 exactly when that byte is 0xE0 or more.
#[inline(always)]
const fn all_measurements(le: u64) -> bool {
    let high = (le >> 8) & 0x00FF_00FF_00FF;
    (high + 0x0020_0020_0020) & 0x0100_0100_0100 == 0
}

fn fail<T>(slots: &mut [Reading<T>], report: &mut ChainReport, device: u8, reason: FaultReason) {
    let f = DeviceFault { device, reason };
    for s in slots.iter_mut() {
        *s = Reading::Failed(f);
    }
    report.record(f);
}

/// Status group A (STAR): sum of cells, die temperature, analog supply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StatusA {
    /// Sum of cells (SC × factor).
    pub sum_of_cells: Reading<MicroVolts>,
    /// Die temperature.
    pub die_temperature: Reading<MilliCelsius>,
    /// VA (analog supply, normal 4.5–5.5 V).
    pub va: Reading<MicroVolts>,
}

impl StatusA {
    /// Decodes STAR data bytes.
    ///
    /// ```
    /// use bms_afe::ltc681x::{convert::StatusA, Ltc6813};
    /// use bms_afe::monitor::Reading;
    /// use bms_afe::units::{MicroVolts, MilliCelsius};
    /// // rt-LTC681X `src/tests/monitor.rs`: STAR 12 62 A8 62 00 7D on LTC6813 -> 75.318 V, 56.316 °C, 3.2 V.
    /// let s = StatusA::decode::<Ltc6813>(&[0x12, 0x62, 0xA8, 0x62, 0x00, 0x7D], 0);
    /// assert_eq!(s.sum_of_cells, Reading::Valid(MicroVolts(75_318_000)));
    /// assert_eq!(s.die_temperature, Reading::Valid(MilliCelsius(56_316)));
    /// assert_eq!(s.va, Reading::Valid(MicroVolts(3_200_000)));
    /// ```
    pub const fn decode<V: Variant>(data: &[u8; 6], device: u8) -> Self {
        Self {
            sum_of_cells: sum_of_cells::<V>(word(data, 0), device),
            die_temperature: die_temperature::<V>(word(data, 1), device),
            va: voltage(word(data, 2), device),
        }
    }
}

/// Status group B (STBR): VD, OV/UV flags of cells 1..12, revision, MUXFAIL, THSD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StatusB {
    /// VD (digital supply, normal 2.7–3.6 V).
    pub vd: Reading<MicroVolts>,
    /// Bit `k`: cell `k + 1` over VOV (cells 1..12 here; 13..18 come from AUXD).
    pub overvoltage: u32,
    /// Bit `k`: cell `k + 1` under VUV.
    pub undervoltage: u32,
    /// Silicon revision REV\[3:0\].
    pub revision: u8,
    /// MUXFAIL: the multiplexer self check (DIAGN) failed (also 1 after POR/CLRSTAT).
    pub mux_fail: bool,
    /// THSD: thermal shutdown occurred (cleared by reading STATB).
    pub thermal_shutdown: bool,
}

/// Splits interleaved UV/OV flag bytes (b0 = cell UV, b1 = cell OV, …, 4 cells per byte)
/// into `(ov, uv)` masks, cell 1 at bit 0.
pub const fn split_flags(bytes: u32, cells: u32) -> (u32, u32) {
    let mut ov = 0;
    let mut uv = 0;
    let mut k = 0;
    while k < cells && k < 16 {
        uv |= (bytes >> (2 * k) & 1) << k;
        ov |= (bytes >> (2 * k + 1) & 1) << k;
        k += 1;
    }
    (ov, uv)
}

impl StatusB {
    /// Decodes STBR data bytes (flags of cells the part does not have are dropped).
    ///
    /// ```
    /// use bms_afe::ltc681x::{convert::StatusB, Ltc6813};
    /// use bms_afe::monitor::Reading;
    /// use bms_afe::units::MicroVolts;
    /// // rt-LTC681X `src/tests/monitor.rs`: STBR 00 C8 00 66 00 1B -> VD 5.12 V; flags byte3 = C8..C5.
    /// let s = StatusB::decode::<Ltc6813>(&[0x00, 0xC8, 0x00, 0x66, 0x00, 0x1B], 0);
    /// assert_eq!(s.vd, Reading::Valid(MicroVolts(5_120_000)));
    /// assert_eq!(s.revision, 1);
    /// assert!(s.mux_fail && s.thermal_shutdown);
    /// ```
    pub const fn decode<V: Variant>(data: &[u8; 6], device: u8) -> Self {
        let bytes = data[2] as u32 | (data[3] as u32) << 8 | (data[4] as u32) << 16;
        let cells = if V::CELLS < 12 { V::CELLS } else { 12 } as u32;
        let (ov, uv) = split_flags(bytes, cells);
        Self {
            vd: voltage(word(data, 0), device),
            overvoltage: ov,
            undervoltage: uv,
            revision: data[5] >> 4,
            mux_fail: data[5] & 0x02 != 0,
            thermal_shutdown: data[5] & 0x01 != 0,
        }
    }
}

/// OV/UV flags of cells 13.. from AUXD bytes 4..5 (LTC6812-DS: AVDR4 = C13..C15 UV/OV;
/// LTC6813 C16 in AVDR4 b7..6 and C17, C18 in AVDR5 by analogy, not verified). Returns
/// `(ov, uv)` with cell 13 at bit 12.
pub const fn aux_d_flags<V: Variant>(data: &[u8; 6]) -> (u32, u32) {
    if V::CELLS <= 12 {
        return (0, 0);
    }
    let (ov, uv) = split_flags(data[4] as u32 | (data[5] as u32) << 8, V::CELLS as u32 - 12);
    (ov << 12, uv << 12)
}

/// Open-wire threshold of the data-sheet algorithm: CELLΔ < −400 mV, in 100 µV codes.
pub const OPEN_WIRE_DELTA_CODES: i32 = -4000;

/// The data-sheet open-wire evaluation (LTC6812-DS "Open Wire Check"; LTC6804-DS p.29) over the cell codes of one device read after ADOW with pull-up (`pu`) and
/// pull-down (`pd`) current. Returns a mask with bit `w` set when wire C(w) is open:
///
/// * C(0) is open if CELLPU(1) = 0;
/// * C(n), 1 ≤ n < cells, is open if CELLΔ(n+1) = CELLPU(n+1) − CELLPD(n+1) < −400 mV;
/// * C(cells) is open if CELLPD(cells) = 0.
///
/// Unlike the Linduino code (Linduino#59) the sign, the −400 mV threshold and the last-cell
/// rule follow the data sheet. Cells beyond `min(pu.len(), pd.len())` are not evaluated.
///
/// ```
/// use bms_afe::ltc681x::convert::open_wires;
/// // Wire C3 open on a 6-cell device of 3 V cells: cell 4 reads 0 with pull-up and two
/// // cells' worth with pull-down.
/// let pu = [30000, 30000, 60000, 0, 30000, 30000];
/// let pd = [30000, 30000, 0, 60000, 30000, 30000];
/// assert_eq!(open_wires(&pu, &pd), 1 << 3);
/// ```
pub fn open_wires(pu: &[u16], pd: &[u16]) -> u32 {
    let cells = pu.len().min(pd.len()).min(31);
    if cells == 0 {
        return 0;
    }
    let mut open = 0u32;
    if pu.first() == Some(&0) {
        open |= 1;
    }
    for n in 1..cells {
        let (Some(&u), Some(&d)) = (pu.get(n), pd.get(n)) else {
            continue;
        };
        if (u as i32) - (d as i32) < OPEN_WIRE_DELTA_CODES {
            open |= 1 << n;
        }
    }
    if pd.get(cells - 1) == Some(&0) {
        open |= 1 << cells;
    }
    open
}

/// The open-wire result of one device from its raw pull-up and pull-down cell codes: a code
/// that is no measurement and not "not converted" (0xE000..=0xFFFE, e.g. a redundancy fault
/// code; LTC6812-DS: valid results are 0x0000–0xDFFF) makes the result [`Reading::Failed`] with
/// [`FaultReason::Framing`] naming `device` — the evaluation would otherwise treat the fault
/// code as a voltage and give a verdict either way; else any 0xFFFF makes it
/// [`Reading::NotConverted`]; else the mask of [`open_wires`].
///
/// ```
/// use bms_afe::ltc681x::convert::open_wire_reading;
/// use bms_afe::monitor::Reading;
/// let pd = [30000, 30000, 30000];
/// assert_eq!(open_wire_reading(&[30000, 30000, 30000], &pd, 0), Reading::Valid(0));
/// assert!(matches!(open_wire_reading(&[30000, 0xFF02, 30000], &pd, 0), Reading::Failed(_)));
/// assert_eq!(open_wire_reading(&[30000, 0xFFFF, 30000], &pd, 0), Reading::NotConverted);
/// ```
pub fn open_wire_reading(pu: &[u16], pd: &[u16], device: u8) -> Reading<u32> {
    let codes = || pu.iter().chain(pd);
    if codes().any(|&c| !is_measurement(c) && c != NOT_CONVERTED) {
        Reading::Failed(DeviceFault {
            device,
            reason: FaultReason::Framing,
        })
    } else if codes().any(|&c| c == NOT_CONVERTED) {
        Reading::NotConverted
    } else {
        Reading::Valid(open_wires(pu, pd))
    }
}

/// Largest ADOL difference accepted, in 100 µV codes (Linduino criterion 2 mV; the data
/// sheets leave the limit to the application).
pub const OVERLAP_MAX_DELTA_CODES: u16 = 20;

/// `true` if two ADOL results of the same cell agree within `max_delta` codes and both are
/// measurements ([`is_measurement`]: not "not converted", not a fault code above 0xDFFF).
pub const fn overlap_ok(a: u16, b: u16, max_delta: u16) -> bool {
    is_measurement(a) && is_measurement(b) && a.abs_diff(b) <= max_delta
}

/// Where ADOL writes its two results, as `(group index, word a, word b)` per checked cell
/// (LTC6811: cell 7 in CVC; LTC6812: cell 6 in CVC and cell 11 in CVE; LTC6813/ADBMS1818:
/// cells 7 and 13 in CVC and CVE; LTC6812-DS Tables 42/44 notes, LTC6813 as
/// rt-LTC681X `src/ltc6813.rs`). Empty for the LTC6810.
pub const fn overlap_words<V: Variant>() -> &'static [(usize, usize, usize)] {
    match V::LAYOUT {
        super::variant::ConfigLayout::Ltc6810 => &[],
        super::variant::ConfigLayout::Ltc6811 => &[(2, 0, 1)],
        _ => &[(2, 0, 1), (4, 0, 1)],
    }
}

/// The first [`Reading::Failed`] fault in `r`, if any.
const fn first_failure<T: Copy>(r: &[Reading<T>]) -> Option<DeviceFault> {
    let mut rest = r;
    while let Some((x, tail)) = rest.split_first() {
        if let Reading::Failed(f) = *x {
            return Some(f);
        }
        rest = tail;
    }
    None
}

/// LTC6810 S-pin redundancy of one device: compares its cell readings `cells` (the C-pin
/// measurement, RDCVA/RDCVB) with its S-pin readings `s` (RDSA/RDSB, taken by the same
/// ADCV with SCONV = 1) pair by pair, cell 1 first. Returns:
///
/// * [`Reading::Failed`] if any slot of either slice failed (the first fault: C before S,
///   cell 1 first) — a failed frame's data never enters a verdict;
/// * else [`Reading::NotConverted`] if any slot is not converted, if the slices differ in
///   length, are empty or hold more than 32 pairs — a cell that was not compared must
///   never read as "agrees";
/// * else `Valid(mask)` with bit `k` set when `|C(k+1) − S(k+1)| > max_diff` (0 = every
///   cell agrees). A negative `max_diff` flags every cell.
///
/// The S-voltage registers hold the redundant cell measurement through the S (discharge)
/// pins: Linduino `LTC6810.h` describes SCONV as "Enable Cell Measurement Redundancy using
/// S Pin", `LTC6810_rds` parses them as cell codes (100 µV/LSB) and the LTC6810 data sheet
/// lists "Performs Redundant Cell Measurements" among its features. The data sheet's
/// tolerance between the two paths is not in the notes: choose `max_diff` from your own
/// characterisation (it also includes the difference of two conversions taken at
/// slightly different times).
///
/// ```
/// use bms_afe::ltc681x::convert::s_pin_mismatches;
/// use bms_afe::monitor::Reading;
/// use bms_afe::units::MicroVolts;
/// let v = |uv| Reading::Valid(MicroVolts(uv));
/// let c = [v(3_700_000), v(3_700_000), v(3_650_000)];
/// let s = [v(3_700_300), v(3_690_000), v(3_650_000)];
/// // Cell 2 differs by 10 mV, more than the 5 mV allowed.
/// assert_eq!(s_pin_mismatches(&c, &s, MicroVolts(5_000)), Reading::Valid(0b010));
/// assert_eq!(s_pin_mismatches(&c, &[v(3_700_000)], MicroVolts(5_000)), Reading::NotConverted);
/// ```
pub const fn s_pin_mismatches(
    cells: &[Reading<MicroVolts>],
    s: &[Reading<MicroVolts>],
    max_diff: MicroVolts,
) -> Reading<u32> {
    if let Some(f) = first_failure(cells) {
        return Reading::Failed(f);
    }
    if let Some(f) = first_failure(s) {
        return Reading::Failed(f);
    }
    if cells.len() != s.len() || cells.is_empty() || cells.len() > 32 {
        return Reading::NotConverted;
    }
    let limit = max_diff.0 as i64;
    let mut mask = 0u32;
    let mut bit = 0u32;
    let (mut c, mut sv) = (cells, s);
    while let (Some((a, c_rest)), Some((b, s_rest))) = (c.split_first(), sv.split_first()) {
        match (*a, *b) {
            (Reading::Valid(x), Reading::Valid(y)) => {
                if (x.0 as i64 - y.0 as i64).abs() > limit && bit < 32 {
                    mask |= 1 << bit;
                }
            }
            _ => return Reading::NotConverted,
        }
        bit += 1;
        c = c_rest;
        sv = s_rest;
    }
    Reading::Valid(mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltc681x::Ltc6811;

    #[test]
    fn redundancy_fault_code_with_good_pec_fails_the_cell_and_the_report() {
        // LTC6812-DS "Indication of Digital Redundancy Fault Codes": 0xFF0X replaces a result
        // on an ADC mismatch. Cell 1 = 0xFF05, cells 2/3 = 0x1000; PEC 45 D4 computed with an
        // independent bit-serial PEC15 (LTC6804-DS p.44).
        let frame = [0x05, 0xFF, 0x00, 0x10, 0x00, 0x10, 0x45, 0xD4];
        let cleared = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x66, 0x4C];
        let groups = [[frame], [cleared], [cleared], [cleared]];
        let mut out = [Reading::Valid(MicroVolts(0)); 12];
        let report = decode_cell_groups::<Ltc6811, 1>(&groups, &mut out);
        assert!(matches!(
            out[0],
            Reading::Failed(DeviceFault { device: 0, .. })
        ));
        assert_eq!(out[1], Reading::Valid(MicroVolts(409_600)));
        assert_eq!(out[3], Reading::NotConverted);
        assert!(report.failed.contains(0));
        assert!(!report.is_ok());
    }

    #[test]
    fn s_pin_comparison_failed_beats_not_converted_and_threshold_is_exclusive() {
        let v = |uv| Reading::Valid(MicroVolts(uv));
        let f = DeviceFault {
            device: 3,
            reason: FaultReason::NoResponse,
        };
        // Exactly max_diff apart agrees; one µV more does not.
        assert_eq!(
            s_pin_mismatches(
                &[v(1_000), v(1_000)],
                &[v(1_500), v(1_501)],
                MicroVolts(500)
            ),
            Reading::Valid(0b10)
        );
        // A failure anywhere wins, even after a NotConverted slot.
        assert_eq!(
            s_pin_mismatches(
                &[Reading::NotConverted, v(0)],
                &[v(0), Reading::Failed(f)],
                MicroVolts(0)
            ),
            Reading::Failed(f)
        );
        assert_eq!(
            s_pin_mismatches(&[v(0), Reading::NotConverted], &[v(0), v(0)], MicroVolts(0)),
            Reading::NotConverted
        );
        // Extreme values do not overflow.
        assert_eq!(
            s_pin_mismatches(&[v(i32::MIN)], &[v(i32::MAX)], MicroVolts(i32::MAX)),
            Reading::Valid(1)
        );
        // Negative tolerance flags everything; nothing compared is no verdict.
        assert_eq!(
            s_pin_mismatches(&[v(7)], &[v(7)], MicroVolts(-1)),
            Reading::Valid(1)
        );
        assert_eq!(
            s_pin_mismatches(&[], &[], MicroVolts(0)),
            Reading::NotConverted
        );
    }
}
