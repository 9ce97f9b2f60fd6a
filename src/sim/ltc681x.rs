//! A virtual LTC681x daisy chain ([`Ltc681xChain`]) at register level, for every part of the
//! family and chains of 1..=16 (any `N` up to 64 works).
//!
//! What it checks and models, as the silicon does (LTC6812-DS / LTC6804-DS; see
//! [`crate::ltc681x`] for the documents):
//!
//! * Command PEC: a frame with a bad command PEC is ignored by every device (no answer, no
//!   action). Write data: each device checks the PEC of its own 6 bytes and ignores a bad
//!   frame. Writes are shifted through the chain: the **last** 8 bytes on the wire belong to
//!   device 0 (nearest the host), so the farthest device's data goes first.
//! * Reads answer device 0 first, each 6 bytes with their PEC15; devices that are asleep,
//!   unreachable or silent read 0xFF.
//! * Conversion time: results appear when the conversion completes (times below the data
//!   sheet tables, per mode, ADCOPT, selection, plus tREFUP with REFON = 0); PLADC answers
//!   0x00 while any device converts. Cleared and power-up registers read 0xFF.
//! * OV/UV flags from VUV/VOV after each cell conversion; DCC discharge switches (muted by
//!   MUTE); DCTO discharge timer (DTEN pin high by default); THSD at ≥ 150 °C (resets the
//!   configuration); MUXFAIL from DIAGN (1 after power-up and CLRSTAT).
//! * Power: each device starts asleep. The watchdog puts a device to SLEEP 2 s after its last
//!   valid command (configuration reset; DCC kept while a discharge timer runs). A CS frame
//!   reaching a sleeping device wakes it (ready after tWAKE = 400 µs, the data-sheet
//!   maximum) but is lost there and above; an isoSPI port silent for more than 4.3 ms (tIDLE,
//!   the data-sheet minimum) needs one frame to wake (ready after tREADY = 10 µs, the
//!   maximum). The strictest silicon: so `N` dummy frames spaced by ≥ tWAKE wake a chain of
//!   `N`.
//! * ADOW: pull-up current pulls an open wire C(w) up to C(w+1), pull-down pulls it down to
//!   C(w−1), so the data-sheet algorithm finds it. CVST/AXST/STATST write the self-test
//!   pattern; ADOL writes the overlap cells twice (plus an injectable mismatch).
//! * Every [`InjectedFault`]: `CorruptResponses` flips one seeded bit in each of the next
//!   `frames` 8-byte response frames of that device (PEC included); `Silent` makes the device
//!   neither act on commands nor answer (its frame reads 0xFF) while it still passes the
//!   other devices' traffic; `BreakAfter` cuts the isoSPI link above device `after` (the
//!   devices beyond neither hear nor answer, and their watchdogs run out); `OpenWire` opens a
//!   sense wire for ADOW (normal ADCV readings are unaffected: the input filter holds the
//!   pin).
//!
//! * LTC6810 S-voltage groups (RDSA 0x008, RDSB 0x00A): an ADCV with SCONV = 1 (CFGR5 bit 3)
//!   also writes S1..S6 from the cell voltages of the selected cells, plus a per-cell offset
//!   set with [`Ltc681xChain::set_s_pin_offset`] (a degraded S path). With SCONV = 0 they keep
//!   their value; power-up and CLRCELL clear them to 0xFF (CLRCELL clearing them is a model
//!   choice, not verified against the data sheet). Other parts answer 0x008/0x00A with cell
//!   groups C/D.
//!
//! Not modelled: the GPIO pins as
//! I2C/SPI masters (STCOMM is accepted, RDCOMM returns what was written), PWM timing,
//! digital-redundancy mismatches, and thermistors (`set_temperature` sets the die
//! temperature; set GPIO voltages with [`Ltc681xChain::set_gpio_voltage`]).

use core::marker::PhantomData;

use embedded_hal::spi::Operation;

use super::reference;
use super::{Clock, InjectedFault, SimError, SpiModel, VirtualChip, XorShift};
use crate::ltc681x::{ConfigLayout, Variant};

const MAX_FRAME: usize = 4 + 8 * 64 + 16;
/// tWAKE, the data sheet's maximum (LTC6812-1 data sheet Rev. B, electrical table: typ
/// 200 µs, max 400 µs): the slowest core a driver must wait for.
const T_WAKE_NS: u64 = 400_000;
/// tREADY, the data sheet's maximum (10 µs).
const T_READY_NS: u64 = 10_000;
/// tIDLE, the data sheet's minimum (4.3 / 5.5 / 6.7 ms min/typ/max): the earliest a port
/// can go idle, so a driver that idles longer without re-waking fails here as it may on a
/// board.
const T_IDLE_NS: u64 = 4_300_000;
const T_SLEEP_NS: u64 = 2_000_000_000;
const T_REFUP_NS: u64 = 3_500_000;
const CLEARED: u16 = 0xFFFF;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Power {
    Sleep,
    Waking(u64),
    Standby,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    /// `s`: also convert the LTC6810 S voltages (SCONV = 1 when the conversion started).
    Cells {
        ch: u8,
        md: u8,
        s: bool,
    },
    OpenWire {
        ch: u8,
        pup: bool,
    },
    CellTest {
        pattern: u16,
    },
    Overlap,
    CellsAux,
    CellsSc,
    Aux {
        chg: u8,
    },
    AuxTest {
        pattern: u16,
    },
    Status {
        chst: u8,
    },
    StatusTest {
        pattern: u16,
    },
    Diagn,
}

#[derive(Debug, Clone, Copy)]
struct Device {
    power: Power,
    last_activity: u64,
    last_valid: u64,
    cells_uv: [i32; 18],
    gpio_uv: [i32; 10],
    temp_mc: i32,
    cfga: [u8; 6],
    cfgb: [u8; 6],
    cv: [u16; 18],
    /// LTC6810 S-voltage registers S1..S6.
    sv: [u16; 6],
    /// Offset added to the S-pin measurement of each cell (a degraded S path).
    s_offset_uv: [i32; 6],
    aux: [u16; 12],
    stat: [u16; 4],
    ov: u32,
    uv: u32,
    mux_fail: bool,
    thsd: bool,
    sctrl: [u8; 6],
    pwm: [u8; 6],
    psb: [u8; 6],
    comm: [u8; 6],
    muted: bool,
    dcto_deadline: Option<u64>,
    open_wires: u32,
    mux_fault: bool,
    overlap_error: u16,
    job: Option<(Job, u64)>,
}

const CFGA_DEFAULT: [u8; 6] = [0xF8, 0, 0, 0, 0, 0];
const CFGB_DEFAULT: [u8; 6] = [0x0F, 0, 0, 0, 0, 0];

impl Device {
    const fn new() -> Self {
        Self {
            power: Power::Sleep,
            last_activity: 0,
            last_valid: 0,
            cells_uv: [3_600_000; 18],
            gpio_uv: [1_500_000; 10],
            temp_mc: 25_000,
            cfga: CFGA_DEFAULT,
            cfgb: CFGB_DEFAULT,
            cv: [CLEARED; 18],
            sv: [CLEARED; 6],
            s_offset_uv: [0; 6],
            aux: [CLEARED; 12],
            stat: [CLEARED; 4],
            ov: 0,
            uv: 0,
            mux_fail: true,
            thsd: false,
            sctrl: [0; 6],
            pwm: [0; 6],
            psb: [0; 6],
            comm: [0; 6],
            muted: false,
            dcto_deadline: None,
            open_wires: 0,
            mux_fault: false,
            overlap_error: 0,
            job: None,
        }
    }

    /// Configuration reset (watchdog, THSD): CFGAR0..3 always; DCC/DCTO unless a discharge
    /// timer keeps them.
    fn reset_config(&mut self, keep_dcc: bool) {
        let (a4, a5, b) = (self.cfga[4], self.cfga[5], self.cfgb);
        self.cfga = CFGA_DEFAULT;
        self.cfgb = CFGB_DEFAULT;
        if keep_dcc {
            self.cfga[4] = a4;
            self.cfga[5] = a5;
            self.cfgb[0] |= b[0] & 0xF0;
            self.cfgb[1] |= b[1] & 0x07;
        } else {
            self.dcto_deadline = None;
        }
        self.muted = false;
    }
}

/// A virtual chain of `N` devices of part `V`. Wrap it in a [`Sim`](super::Sim).
#[derive(Debug, Clone)]
pub struct Ltc681xChain<V: Variant, const N: usize> {
    now: u64,
    dev: [Device; N],
    corrupt: Option<(u8, XorShift, u32)>,
    silent: u64,
    break_after: Option<u8>,
    dten_pin: bool,
    revision: u8,
    valid_commands: u32,
    rejected_frames: u32,
    _v: PhantomData<V>,
}

impl<V: Variant, const N: usize> Default for Ltc681xChain<V, N> {
    fn default() -> Self {
        Self::new()
    }
}

// Oracle constants of the model, written from the notes independently of the driver's
// tables (LTC6812-DS Table 55, LTC6804-DS p.27, Linduino sketches): SC factor and ITMP slope/offset per part.
const fn sc_factor(l: ConfigLayout) -> i64 {
    match l {
        ConfigLayout::Ltc6810 => 10,
        ConfigLayout::Ltc6811 => 20,
        _ => 30,
    }
}
const fn itmp(l: ConfigLayout) -> (i64, i64) {
    match l {
        ConfigLayout::Ltc6810 | ConfigLayout::Ltc6811 => (75, 273_000),
        _ => (76, 276_000),
    }
}

fn code_of(uv: i32) -> u16 {
    let c = (i64::from(uv) + 50).div_euclid(100);
    c.clamp(0, 0xDFFF) as u16
}

impl<V: Variant, const N: usize> Ltc681xChain<V, N> {
    /// A chain with every device asleep, all cells at 3.6 V, GPIOs at 1.5 V, 25 °C.
    pub fn new() -> Self {
        Self {
            now: 0,
            dev: [Device::new(); N],
            corrupt: None,
            silent: 0,
            break_after: None,
            dten_pin: true,
            revision: 1,
            valid_commands: 0,
            rejected_frames: 0,
            _v: PhantomData,
        }
    }

    /// Sets every cell of every device to `uv`.
    pub fn set_all_cells(&mut self, uv: i32) {
        for d in self.dev.iter_mut() {
            d.cells_uv = [uv; 18];
        }
    }

    /// Sets GPIO `gpio` (1-based; on the LTC6810 0 = S0) of `device` to `uv`.
    pub fn set_gpio_voltage(&mut self, device: usize, gpio: usize, uv: i32) {
        if let Some(g) = self
            .dev
            .get_mut(device)
            .and_then(|d| d.gpio_uv.get_mut(gpio))
        {
            *g = uv;
        }
    }

    /// Makes DIAGN of `device` report a MUX failure.
    pub fn set_mux_fault(&mut self, device: usize, fault: bool) {
        if let Some(d) = self.dev.get_mut(device) {
            d.mux_fault = fault;
        }
    }

    /// LTC6810: adds `uv` to what the S-pin measurement of cell `cell` (0-based) of `device`
    /// reads, modelling a degraded S path (0 = healthy, the default). Applies from the next
    /// ADCV with SCONV = 1; ignored on other parts.
    pub fn set_s_pin_offset(&mut self, device: usize, cell: usize, uv: i32) {
        if let Some(o) = self
            .dev
            .get_mut(device)
            .and_then(|d| d.s_offset_uv.get_mut(cell))
        {
            *o = uv;
        }
    }

    /// Adds `codes` to the second ADC's overlap results of `device` (ADOL mismatch).
    pub fn set_overlap_error(&mut self, device: usize, codes: u16) {
        if let Some(d) = self.dev.get_mut(device) {
            d.overlap_error = codes;
        }
    }

    /// Level of the DTEN pin (discharge timer enable; default high).
    pub fn set_dten_pin(&mut self, high: bool) {
        self.dten_pin = high;
    }

    /// Model time in µs.
    pub fn now_us(&self) -> u64 {
        self.now / 1000
    }

    /// Commands with a valid PEC seen by device 0.
    pub fn valid_commands(&self) -> u32 {
        self.valid_commands
    }

    /// Frames ignored for a bad command PEC.
    pub fn rejected_frames(&self) -> u32 {
        self.rejected_frames
    }

    /// The stored configuration groups `[CFGRA, CFGRB]` of `device`.
    pub fn config_bytes(&self, device: usize) -> Option<[[u8; 6]; 2]> {
        self.dev.get(device).map(|d| [d.cfga, d.cfgb])
    }

    /// `true` if `device` is muted.
    pub fn is_muted(&self, device: usize) -> bool {
        self.dev.get(device).is_some_and(|d| d.muted)
    }

    fn has_cfgb() -> bool {
        matches!(V::LAYOUT, ConfigLayout::Ltc6812 | ConfigLayout::Ltc6813)
    }

    fn dcc(&self, d: &Device) -> u32 {
        let a = u32::from(d.cfga[4]) | u32::from(d.cfga[5] & 0x0F) << 8;
        let bits = match V::LAYOUT {
            ConfigLayout::Ltc6810 => u32::from(d.cfga[4] & 0x3F),
            ConfigLayout::Ltc6811 => a,
            ConfigLayout::Ltc6812 => a | u32::from(d.cfgb[0] >> 4 & 0x07) << 12,
            ConfigLayout::Ltc6813 => {
                a | u32::from(d.cfgb[0] >> 4) << 12 | u32::from(d.cfgb[1] & 0x03) << 16
            }
        };
        bits & ((1 << V::CELLS) - 1)
    }

    fn dcto(d: &Device) -> u8 {
        d.cfga[5] >> 4
    }

    fn tick(&mut self) {
        let now = self.now;
        let dten = self.dten_pin;
        for d in self.dev.iter_mut() {
            if let Some((job, done)) = d.job {
                if done <= now {
                    d.job = None;
                    Self::finish(d, job);
                }
            }
            if let Some(t) = d.dcto_deadline {
                if t <= now {
                    d.dcto_deadline = None;
                    d.cfga[4] = 0;
                    d.cfga[5] = 0;
                    d.cfgb[0] &= 0x0F;
                    d.cfgb[1] &= !0x03;
                }
            }
            if d.power != Power::Sleep && now.saturating_sub(d.last_valid) >= T_SLEEP_NS {
                let keep = dten && d.dcto_deadline.is_some();
                d.power = Power::Sleep;
                d.job = None;
                d.reset_config(keep);
            }
        }
    }

    /// Propagates a CS frame up the chain; returns how many devices received it.
    fn reach(&mut self) -> usize {
        let now = self.now;
        let limit = self.break_after.map_or(N, |a| (a as usize + 1).min(N));
        let mut reached = 0;
        for d in self.dev.iter_mut().take(limit) {
            let passes = match d.power {
                Power::Sleep => {
                    d.power = Power::Waking(now + T_WAKE_NS);
                    d.last_valid = now;
                    false
                }
                Power::Waking(r) if now < r => false,
                Power::Waking(_) | Power::Standby => {
                    d.power = Power::Standby;
                    if now.saturating_sub(d.last_activity) > T_IDLE_NS {
                        // Port was idle: this pulse wakes it; ready after tREADY.
                        d.power = Power::Waking(now + T_READY_NS);
                        false
                    } else {
                        true
                    }
                }
            };
            d.last_activity = now;
            if !passes {
                break;
            }
            reached += 1;
        }
        reached
    }

    fn conv_ns(cfga0: u8, md: u8, kind: u8) -> u64 {
        // All-cell times below every part's data-sheet Table 5, per MD/ADCOPT.
        const ALL: [[u64; 2]; 4] = [
            [10_000, 6_000],
            [900, 1_000],
            [1_900, 2_500],
            [160_000, 3_600],
        ];
        let adcopt = usize::from(cfga0 & 1);
        let base = ALL[usize::from(md & 3)][adcopt] * 1000;
        let t = match kind {
            0 => base,            // all cells
            1 => base * 3 / 2,    // all aux
            2 => base * 6 / 10,   // all status
            3 => base / 6,        // one group / channel
            4 => base / 3,        // pair
            _ => base + base / 6, // combined (ADCVAX, ADCVSC)
        };
        if cfga0 & 0x04 == 0 { t + T_REFUP_NS } else { t }
    }

    fn self_test_pattern(st: u8, md: u8, adcopt: bool) -> u16 {
        // LTC6812-DS Table 13.
        match (st, md, adcopt) {
            (1, 1, false) => 0x9565,
            (1, 1, true) => 0x9553,
            (1, _, _) => 0x9555,
            (_, 1, false) => 0x6A9A,
            (_, 1, true) => 0x6AAC,
            _ => 0x6AAA,
        }
    }

    fn aux_slot(gpio: usize) -> Option<usize> {
        // Register order: 6810/6811 [G1..G5 | S0,G1..G4], REF at 5; 6812/6813 G1..G5, REF, G6..G9.
        match V::LAYOUT {
            ConfigLayout::Ltc6810 if gpio <= 4 => Some(gpio),
            ConfigLayout::Ltc6811 if (1..=5).contains(&gpio) => Some(gpio - 1),
            ConfigLayout::Ltc6812 | ConfigLayout::Ltc6813 if (1..=5).contains(&gpio) => {
                Some(gpio - 1)
            }
            ConfigLayout::Ltc6812 | ConfigLayout::Ltc6813 if (6..=9).contains(&gpio) => Some(gpio),
            _ => None,
        }
    }

    fn convert_gpio(d: &mut Device, gpio: usize) {
        if let (Some(slot), Some(&uv)) = (Self::aux_slot(gpio), d.gpio_uv.get(gpio)) {
            if let Some(w) = d.aux.get_mut(slot) {
                *w = code_of(uv);
            }
        }
    }

    fn finish(d: &mut Device, job: Job) {
        let cells = V::CELLS;
        match job {
            Job::Cells { ch, md: _, s } => {
                let stride = match V::LAYOUT {
                    ConfigLayout::Ltc6810 => 6,
                    ConfigLayout::Ltc6812 => 5,
                    _ => 6,
                };
                for c in 0..cells {
                    if ch == 0 || c % stride == usize::from(ch - 1) {
                        d.cv[c] = code_of(d.cells_uv[c]);
                        // SCONV = 1 (LTC6810): the same cell measured through its S pin.
                        if let (true, Some(sv), Some(off)) =
                            (s, d.sv.get_mut(c), d.s_offset_uv.get(c))
                        {
                            *sv = code_of(d.cells_uv[c].saturating_add(*off));
                        }
                    }
                }
                Self::flags(d);
            }
            Job::CellsAux => {
                Self::finish(
                    d,
                    Job::Cells {
                        ch: 0,
                        md: 0,
                        s: false,
                    },
                );
                Self::convert_gpio(d, 1);
                Self::convert_gpio(d, 2);
            }
            Job::CellsSc => {
                Self::finish(
                    d,
                    Job::Cells {
                        ch: 0,
                        md: 0,
                        s: false,
                    },
                );
                Self::status(d, 1);
            }
            Job::OpenWire { ch: _, pup } => {
                let mut pins = [0i64; 19];
                for c in 0..cells {
                    pins[c + 1] = pins[c] + i64::from(d.cells_uv[c]);
                }
                for w in 0..=cells {
                    if d.open_wires >> w & 1 == 0 {
                        continue;
                    }
                    if pup && w < cells {
                        pins[w] = pins[w + 1];
                    } else if !pup && w > 0 {
                        pins[w] = pins[w - 1];
                    }
                }
                for c in 0..cells {
                    d.cv[c] = code_of((pins[c + 1] - pins[c]).clamp(0, i64::from(i32::MAX)) as i32);
                }
                Self::flags(d);
            }
            Job::CellTest { pattern } => d.cv.iter_mut().take(cells).for_each(|c| *c = pattern),
            Job::Overlap => {
                let pairs: &[usize] = match V::LAYOUT {
                    ConfigLayout::Ltc6810 => &[],
                    ConfigLayout::Ltc6811 => &[6],
                    ConfigLayout::Ltc6812 => &[5, 10],
                    ConfigLayout::Ltc6813 => &[6, 12],
                };
                for (k, &cell) in pairs.iter().enumerate() {
                    let code = code_of(d.cells_uv[cell]);
                    let base = if k == 0 { 6 } else { 12 };
                    d.cv[base] = code;
                    d.cv[base + 1] = code.saturating_add(d.overlap_error);
                }
            }
            Job::Aux { chg } => {
                let pairs = matches!(V::LAYOUT, ConfigLayout::Ltc6812 | ConfigLayout::Ltc6813);
                let first = if V::LAYOUT == ConfigLayout::Ltc6810 {
                    0
                } else {
                    1
                };
                let last = if V::LAYOUT == ConfigLayout::Ltc6810 {
                    4
                } else {
                    V::GPIOS
                };
                for g in first..=last {
                    let sel = match (chg, pairs) {
                        (0, _) => true,
                        (1..=4, true) => g == usize::from(chg) || g == usize::from(chg) + 5,
                        (5, true) => g == 5,
                        (c @ 1..=5, false) => {
                            g == if V::LAYOUT == ConfigLayout::Ltc6810 {
                                usize::from(c) - 1
                            } else {
                                usize::from(c)
                            }
                        }
                        _ => false,
                    };
                    if sel {
                        Self::convert_gpio(d, g);
                    }
                }
                if chg == 0 || chg == 6 {
                    d.aux[5] = 30_000; // second reference 3.0 V
                }
            }
            Job::AuxTest { pattern } => d
                .aux
                .iter_mut()
                .take(V::AUX_CHANNELS)
                .for_each(|c| *c = pattern),
            Job::Status { chst } => Self::status(d, chst),
            Job::StatusTest { pattern } => d.stat = [pattern; 4],
            Job::Diagn => d.mux_fail = d.mux_fault,
        }
    }

    fn status(d: &mut Device, chst: u8) {
        let l = V::LAYOUT;
        if chst == 0 || chst == 1 {
            let sum: i64 = d
                .cells_uv
                .iter()
                .take(V::CELLS)
                .map(|&v| i64::from(v))
                .sum();
            let c = (sum + 50 * sc_factor(l)) / (100 * sc_factor(l));
            d.stat[0] = c.clamp(0, 0xDFFF) as u16;
        }
        if chst == 0 || chst == 2 {
            let (slope, off) = itmp(l);
            // code · 100 µV = (T + off) · slope/10 mV  →  code = (T_mC + off) · slope / 1000.
            let c = (i64::from(d.temp_mc) + off) * slope / 1000;
            d.stat[1] = c.clamp(0, 0xDFFF) as u16;
        }
        if chst == 0 || chst == 3 {
            d.stat[2] = 50_000;
        }
        if chst == 0 || chst == 4 {
            d.stat[3] = 33_000;
        }
    }

    fn flags(d: &mut Device) {
        let vuv = u32::from(d.cfga[1]) | u32::from(d.cfga[2] & 0x0F) << 8;
        let vov = u32::from(d.cfga[2] >> 4) | u32::from(d.cfga[3]) << 4;
        let (mut ov, mut uv) = (0, 0);
        for c in 0..V::CELLS {
            let code = u32::from(d.cv[c]);
            if code < (vuv + 1) * 16 {
                uv |= 1 << c;
            }
            if code > vov * 16 {
                ov |= 1 << c;
            }
        }
        d.ov = ov;
        d.uv = uv;
    }

    fn flag_bytes(ov: u32, uv: u32, first: usize, count: usize) -> u32 {
        let mut out = 0;
        for k in 0..count {
            let c = first + k;
            out |= (uv >> c & 1) << (2 * k) | (ov >> c & 1) << (2 * k + 1);
        }
        out
    }

    fn group_words(w: &[u16]) -> [u8; 6] {
        let mut out = [0xFF; 6];
        for (i, v) in w.iter().take(3).enumerate() {
            out[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// The 6 data bytes a device answers to read command `cc`, or `None` if not a read.
    fn read_data(&self, d: &Device, cc: u16) -> Option<[u8; 6]> {
        let cell_cmds = [0x004u16, 0x006, 0x008, 0x00A, 0x009, 0x00B];
        let aux_cmds = [0x00Cu16, 0x00E, 0x00D, 0x00F];
        if let Some(g) = cell_cmds.iter().position(|&c| c == cc) {
            if g >= V::CELL_GROUPS {
                // LTC6810: 0x008/0x00A are RDSA/RDSB, the S-voltage groups (Linduino
                // `LTC6810_rds_reg`).
                return if V::LAYOUT == ConfigLayout::Ltc6810 && g < 4 {
                    d.sv.get(3 * (g - 2)..3 * (g - 2) + 3)
                        .map(Self::group_words)
                } else {
                    None
                };
            }
            return Some(Self::group_words(&d.cv[3 * g..3 * g + 3]));
        }
        if let Some(g) = aux_cmds.iter().position(|&c| c == cc) {
            if g >= V::AUX_GROUPS {
                return None;
            }
            let mut out = Self::group_words(&d.aux[3 * g..3 * g + 3]);
            if g == 3 {
                let f = Self::flag_bytes(d.ov, d.uv, 12, V::CELLS - 12);
                out[4] = f as u8;
                out[5] = (f >> 8) as u8;
            }
            return Some(out);
        }
        match cc {
            0x002 => {
                let mut a = d.cfga;
                a[0] = a[0] & !0x02 | u8::from(self.dten_pin) << 1;
                Some(a)
            }
            0x026 if Self::has_cfgb() => {
                let mut b = d.cfgb;
                b[1] = b[1] & 0x7F | u8::from(d.muted) << 7;
                Some(b)
            }
            0x010 => Some(Self::group_words(&d.stat[..3])),
            0x012 => {
                let f = Self::flag_bytes(d.ov, d.uv, 0, V::CELLS.min(12));
                let vd = d.stat[3].to_le_bytes();
                Some([
                    vd[0],
                    vd[1],
                    f as u8,
                    (f >> 8) as u8,
                    (f >> 16) as u8,
                    self.revision << 4 | u8::from(d.mux_fail) << 1 | u8::from(d.thsd),
                ])
            }
            0x016 => Some(d.sctrl),
            0x022 => Some(d.pwm),
            0x01E if V::HAS_PSB => Some(d.psb),
            0x722 => Some(d.comm),
            0x02C if V::LAYOUT == ConfigLayout::Ltc6810 => {
                Some([0x10, 0x68, 0x00, 0x00, 0x00, 0x01])
            }
            _ => None,
        }
    }

    fn write_group(&mut self, d: usize, cc: u16, data: [u8; 6]) -> bool {
        let now = self.now;
        let has_b = Self::has_cfgb();
        let Some(dev) = self.dev.get_mut(d) else {
            return false;
        };
        match cc {
            0x001 => {
                dev.cfga = data;
                dev.cfga[0] &= !0x02; // DTEN is read only
                dev.dcto_deadline = match DCTO_S.get(usize::from(Self::dcto(dev))) {
                    Some(&s) if s > 0 => Some(now + s * 1_000_000_000),
                    _ => None,
                };
            }
            0x024 if has_b => {
                dev.cfgb = data;
                dev.cfgb[1] &= 0x7F; // MUTE is read only
            }
            0x014 => dev.sctrl = data,
            0x020 => dev.pwm = data,
            0x01C if V::HAS_PSB => dev.psb = data,
            0x721 => dev.comm = data,
            _ => return false,
        }
        true
    }

    fn is_write(cc: u16) -> bool {
        matches!(cc, 0x001 | 0x014 | 0x020 | 0x721)
            || (cc == 0x024 && Self::has_cfgb())
            || (cc == 0x01C && V::HAS_PSB)
    }

    /// Decodes an ADC command into its job and duration.
    fn adc_job(cfga0: u8, cc: u16) -> Option<(Job, u64)> {
        let md = ((cc >> 7) & 3) as u8;
        let adcopt = cfga0 & 1 != 0;
        let st = ((cc >> 5) & 3) as u8;
        let low3 = (cc & 7) as u8;
        let t = |kind| Self::conv_ns(cfga0, md, kind);
        if (cc & 0x61F == 0x207 || cc & 0x61F == 0x407 || cc & 0x61F == 0x40F)
            && (st == 1 || st == 2)
        {
            let pattern = Self::self_test_pattern(st, md, adcopt);
            return Some(match cc & 0x61F {
                0x207 => (Job::CellTest { pattern }, t(0)),
                0x407 => (Job::AuxTest { pattern }, t(1)),
                _ => (Job::StatusTest { pattern }, t(2)),
            });
        }
        if cc & 0x66F == 0x46F {
            return Some((Job::CellsAux, t(5)));
        }
        if cc & 0x66F == 0x467 {
            return Some((Job::CellsSc, t(5)));
        }
        if cc & 0x668 == 0x260 && low3 <= V::MAX_CELL_SELECT {
            return Some((
                Job::Cells {
                    ch: low3,
                    md,
                    s: false,
                },
                t(if low3 == 0 { 0 } else { 3 }),
            ));
        }
        if cc & 0x628 == 0x228 && low3 <= V::MAX_CELL_SELECT {
            let pup = cc & 0x40 != 0;
            return Some((
                Job::OpenWire { ch: low3, pup },
                t(if low3 == 0 { 0 } else { 3 }),
            ));
        }
        if cc & 0x66F == 0x201 && V::HAS_ADOL {
            return Some((Job::Overlap, t(0)));
        }
        if (cc & 0x678 == 0x460 || cc & 0x678 == 0x400 || cc & 0x638 == 0x410) && low3 <= 6 {
            let pairs = matches!(V::LAYOUT, ConfigLayout::Ltc6812 | ConfigLayout::Ltc6813);
            let kind = match low3 {
                0 => 1,
                1..=4 if pairs => 4,
                _ => 3,
            };
            return Some((Job::Aux { chg: low3 }, t(kind)));
        }
        if (cc & 0x678 == 0x468 || cc & 0x678 == 0x408) && low3 <= 4 {
            return Some((Job::Status { chst: low3 }, t(if low3 == 0 { 2 } else { 3 })));
        }
        None
    }

    fn command(&mut self, reach: usize, cc: u16) {
        let now = self.now;
        for (i, d) in self.dev.iter_mut().enumerate().take(reach) {
            if self.silent >> i & 1 != 0 {
                continue;
            }
            d.last_valid = now;
            match cc {
                0x711 => {
                    // Modelled: CLRCELL clears the LTC6810 S voltages too (not verified).
                    d.cv = [CLEARED; 18];
                    d.sv = [CLEARED; 6];
                }
                0x712 => {
                    d.aux = [CLEARED; 12];
                }
                0x713 => {
                    d.stat = [CLEARED; 4];
                    d.ov = u32::MAX >> (32 - V::CELLS);
                    d.uv = d.ov;
                    d.mux_fail = true;
                    d.thsd = true;
                }
                0x715 => d.job = Some((Job::Diagn, now + 4_000_000)),
                0x018 => d.sctrl = [0; 6],
                0x028 if V::HAS_MUTE => d.muted = true,
                0x029 if V::HAS_MUTE => d.muted = false,
                _ => {
                    if let Some((mut job, dur)) = Self::adc_job(d.cfga[0], cc) {
                        if let Job::Cells { s, .. } = &mut job {
                            // LTC6810 CFGR5 bit 3 = SCONV (Linduino `LTC6810.cpp`).
                            *s = V::LAYOUT == ConfigLayout::Ltc6810 && d.cfga[5] & 0x08 != 0;
                        }
                        d.job = Some((job, now + dur));
                    }
                }
            }
        }
    }
}

const DCTO_S: [u64; 16] = [
    0, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2400, 3600, 4500, 5400, 7200,
];

impl<V: Variant, const N: usize> Clock for Ltc681xChain<V, N> {
    fn advance_ns(&mut self, ns: u64) {
        self.now = self.now.saturating_add(ns);
        self.tick();
    }
}

fn for_each_byte(ops: &mut [Operation<'_, u8>], mut f: impl FnMut(usize, Option<u8>) -> u8) {
    let mut pos = 0;
    for op in ops.iter_mut() {
        match op {
            Operation::Write(w) => {
                for &b in w.iter() {
                    f(pos, Some(b));
                    pos += 1;
                }
            }
            Operation::Read(r) => {
                for b in r.iter_mut() {
                    *b = f(pos, None);
                    pos += 1;
                }
            }
            Operation::Transfer(r, w) => {
                let n = r.len().max(w.len());
                for i in 0..n {
                    let out = f(pos, Some(w.get(i).copied().unwrap_or(0xFF)));
                    if let Some(x) = r.get_mut(i) {
                        *x = out;
                    }
                    pos += 1;
                }
            }
            Operation::TransferInPlace(b) => {
                for x in b.iter_mut() {
                    *x = f(pos, Some(*x));
                    pos += 1;
                }
            }
            Operation::DelayNs(_) => {}
        }
    }
}

impl<V: Variant, const N: usize> SpiModel for Ltc681xChain<V, N> {
    fn transaction(&mut self, ops: &mut [Operation<'_, u8>]) -> Result<(), SimError> {
        self.tick();
        // Pass 1: what the host sends.
        let mut mosi = [0xFFu8; MAX_FRAME];
        let mut len = 0usize;
        for_each_byte(ops, |pos, b| {
            if let (Some(slot), Some(b)) = (mosi.get_mut(pos), b) {
                *slot = b;
            }
            len = pos + 1;
            0xFF
        });
        let reach = self.reach();
        let mut miso = [0xFFu8; MAX_FRAME];
        if len >= 4 && reach > 0 {
            let cc = u16::from_be_bytes([mosi[0], mosi[1]]);
            let pec = u16::from_be_bytes([mosi[2], mosi[3]]);
            if cc > 0x7FF || reference::pec15(&mosi[..2]) != pec {
                self.rejected_frames = self.rejected_frames.saturating_add(1);
            } else {
                self.valid_commands = self.valid_commands.saturating_add(1);
                self.respond(cc, reach, &mosi, len.min(MAX_FRAME), &mut miso);
            }
        }
        // Pass 2: what the host receives.
        for_each_byte(ops, |pos, _| miso.get(pos).copied().unwrap_or(0xFF));
        Ok(())
    }
}

impl<V: Variant, const N: usize> Ltc681xChain<V, N> {
    fn respond(
        &mut self,
        cc: u16,
        reach: usize,
        mosi: &[u8; MAX_FRAME],
        len: usize,
        miso: &mut [u8; MAX_FRAME],
    ) {
        let now = self.now;
        if Self::is_write(cc) {
            let data_len = len - 4;
            for d in 0..reach {
                if self.silent >> d & 1 != 0 {
                    continue;
                }
                // Shift register: device d holds the (d+1)-th last 8 bytes.
                let Some(start) = data_len.checked_sub(8 * (d + 1)) else {
                    continue;
                };
                let f = &mosi[4 + start..4 + start + 8];
                let pec = u16::from_be_bytes([f[6], f[7]]);
                if reference::pec15(&f[..6]) != pec {
                    continue;
                }
                let mut data = [0u8; 6];
                data.copy_from_slice(&f[..6]);
                if self.write_group(d, cc, data) {
                    self.dev[d].last_valid = now;
                }
            }
            // Device 0 acted on a valid command.
            for dev in self.dev.iter_mut().take(reach) {
                dev.last_valid = now;
            }
            return;
        }
        if cc == 0x714 {
            // PLADC: SDO low while any device converts.
            let busy = self.dev.iter().take(reach).any(|d| d.job.is_some());
            for b in miso.iter_mut().take(len).skip(4) {
                *b = if busy { 0x00 } else { 0xFF };
            }
            for dev in self.dev.iter_mut().take(reach) {
                dev.last_valid = now;
            }
            return;
        }
        let mut any_read = false;
        for d in 0..reach {
            let dev = self.dev[d];
            let Some(data) = self.read_data(&dev, cc) else {
                continue;
            };
            any_read = true;
            self.dev[d].last_valid = now;
            if self.silent >> d & 1 != 0 {
                continue;
            }
            let mut frame = [0u8; 8];
            frame[..6].copy_from_slice(&data);
            frame[6..].copy_from_slice(&reference::pec15(&data).to_be_bytes());
            if let Some((cd, rng, left)) = self.corrupt.as_mut() {
                if usize::from(*cd) == d && *left > 0 {
                    let bit = rng.below(64) as usize;
                    frame[bit / 8] ^= 1 << (bit % 8);
                    if *left != u32::MAX {
                        *left -= 1;
                    }
                }
            }
            let off = 4 + 8 * d;
            if let Some(dst) = miso.get_mut(off..off + 8) {
                dst.copy_from_slice(&frame);
            }
            if cc == 0x012 {
                self.dev[d].thsd = false; // THSD is cleared by reading STATB
            }
        }
        if !any_read {
            self.command(reach, cc);
        }
    }
}

impl<V: Variant, const N: usize> VirtualChip for Ltc681xChain<V, N> {
    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        V::CELLS
    }
    fn set_cell_voltage(&mut self, device: usize, cell: usize, microvolts: i32) {
        if let Some(c) = self
            .dev
            .get_mut(device)
            .and_then(|d| d.cells_uv.get_mut(cell))
        {
            *c = microvolts;
        }
    }
    fn set_temperature(&mut self, device: usize, millicelsius: i32) {
        let keep = self.dten_pin;
        if let Some(d) = self.dev.get_mut(device) {
            d.temp_mc = millicelsius;
            if millicelsius >= 150_000 {
                d.thsd = true;
                let k = keep && d.dcto_deadline.is_some();
                d.reset_config(k);
            }
        }
    }
    fn set_current(&mut self, _microamps: i64) {}
    fn inject(&mut self, fault: InjectedFault) {
        match fault {
            InjectedFault::CorruptResponses {
                device,
                seed,
                frames,
            } => self.corrupt = Some((device, XorShift(seed), frames)),
            InjectedFault::Silent { device } => {
                if usize::from(device) < 64 {
                    self.silent |= 1 << device;
                }
            }
            InjectedFault::BreakAfter { after } => self.break_after = Some(after),
            InjectedFault::OpenWire { device, wire } => {
                if let Some(d) = self.dev.get_mut(usize::from(device)) {
                    if usize::from(wire) <= V::CELLS {
                        d.open_wires |= 1 << wire;
                    }
                }
            }
        }
    }
    fn clear_faults(&mut self) {
        self.corrupt = None;
        self.silent = 0;
        self.break_after = None;
        for d in self.dev.iter_mut() {
            d.open_wires = 0;
            d.mux_fault = false;
            d.overlap_error = 0;
            d.s_offset_uv = [0; 6];
        }
    }
    fn balancing(&self, device: usize) -> u32 {
        match self.dev.get(device) {
            Some(d) if !d.muted => self.dcc(d),
            _ => 0,
        }
    }
    fn sleep(&mut self) {
        let dten = self.dten_pin;
        for d in self.dev.iter_mut() {
            d.power = Power::Sleep;
            d.job = None;
            let keep = dten && d.dcto_deadline.is_some();
            d.reset_config(keep);
        }
    }
    fn is_awake(&self) -> bool {
        self.dev.iter().all(|d| {
            d.power == Power::Standby || matches!(d.power, Power::Waking(r) if r <= self.now)
        })
    }
    fn cell_lsb_uv(&self) -> i32 {
        100
    }
    fn elapsed_ns(&self) -> Option<u64> {
        Some(self.now)
    }
    /// LTC6812-DS Table 55: UV when a cell < (VUV + 1) · 16 · 100 µV, OV when > VOV · 16 ·
    /// 100 µV. `None` while the thresholds are at their reset values (no usable window).
    fn cell_thresholds_uv(&self, device: usize) -> Option<(i32, i32)> {
        let d = self.dev.get(device)?;
        let vuv = i32::from(d.cfga[1]) | i32::from(d.cfga[2] & 0x0F) << 8;
        let vov = i32::from(d.cfga[2] >> 4) | i32::from(d.cfga[3]) << 4;
        let (uv, ov) = ((vuv + 1) * 1600, vov * 1600);
        (ov > uv).then_some((uv, ov))
    }
}
