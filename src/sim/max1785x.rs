//! A virtual MAX17841B bridge with a daisy chain of `N` MAX17852/MAX17853 devices
//! ([`Max1785xChain`]), at register level.
//!
//! What it models (the protocol facts of [`crate::max1785x`], with the model choices marked):
//!
//! * **Bridge**: CLR_RX_BUF, CLR_TX_BUF, WR_LD_Q0 (length byte + message), WR_NXT_LD_Q0
//!   (transmit), RD_NXT_MSG / RD_MSG, RX_STATUS (EMPTY, STOP, BUSY), the configuration
//!   registers (written values read back). A message comes back 12 µs per byte plus 5 µs per
//!   device after its transmission (model choice: 2 Mbit/s, two characters per byte); until
//!   then RX_STATUS shows EMPTY and RD_NXT_MSG reads zeros.
//! * **Wake-up**: devices start shut down and lose every register when put to sleep
//!   ([`VirtualChip::sleep`]). Preambles (CONFIGURATION_2 bit 5) held for 2 ms (model choice)
//!   wake every reachable device; RX_STATUS shows BUSY while the preambles come back
//!   around an intact, awake ring.
//! * **Ring**: a message travels through every device and back to the bridge. A device that
//!   is asleep or beyond a break ([`InjectedFault::BreakAfter`]) stops it: nothing comes
//!   back (the devices before still act on it).
//! * **Messages**: each device checks the PEC of the message it receives (its own plain
//!   bit-serial CRC below, not [`crate::crc`]); a bad PEC sets its STATUS1 ALRTPEC and the
//!   data-check PEC-error bit and it does not act. HELLOALL assigns addresses 0.. in chain
//!   order. WRITEALL/WRITEDEVICE write the register (STATUS1/FMEA1/FMEA2: bits written 0
//!   are cleared — model choice); HELLOALL also sets each device's ADDRESS register to its
//!   address (bits 4:0, model choice). READALL: each device inserts its two bytes after those of
//!   the devices before it (device 0 first — the crate's reading of the protocol, see the
//!   family docs), ORs its status into the data-check byte and recomputes the PEC, consuming
//!   two fill bytes (0xD3, 0xC2, as EngineerZone 583407 shows on the wire). READDEVICE: the
//!   addressed device replaces the fill bytes with its data. With the alive counter enabled
//!   ([`Max1785xChain::set_alive_counter_enabled`]) the byte after the PEC is incremented
//!   by every device that processes the message.
//! * **Scans**: SCANCTRL with SCAN starts a scan (SCANDONE cleared) that ends after 1 ms, 2 ms
//!   or 60 ms for OVSAMPL none / 4× / 128× (model choice, below the driver's hints); it
//!   converts the cells enabled in MEASUREEN1 (and BLOCK with BLOCKEN) to 14-bit codes
//!   (5 V and 65 V full scale, rounded to nearest), fills the AUX registers, sets the
//!   ALRTOVCELL/ALRTUVCELL bits of cells above OVTHSET / below UVTHSET, then SCANDONE and
//!   DATARDY; STATUS1 gets ALRTMSMTCH (max − min cell code above MSMTCH), ALRTBLKOV/UVST
//!   (BLOCK against BLKOVTHSET/BLKUVTHSET) and ALRTAUXOV/UVST (an AUX code against
//!   AUXROVTHSET/AUXRUVTHSET); the redundant comparator's ALRTCOMPOV/ALRTCOMPUV follow the
//!   ADC alerts unless [`Max1785xChain::blind_comparator`] (model choice: the comparator
//!   uses the ADC thresholds). Registers read 0 until converted.
//! * **Faults**: [`InjectedFault::CorruptResponses`] flips one seeded bit in the bytes a
//!   device inserts into READALL/READDEVICE answers (after its PEC, as a link fault would);
//!   [`InjectedFault::Silent`] makes a device forward everything untouched (it acts on
//!   nothing, inserts nothing, takes no address and does not count the alive counter);
//!   [`InjectedFault::BreakAfter`] cuts the ring; [`Max1785xChain::skip_alive_counter`]
//!   makes a device forward the alive counter without incrementing it.
//!   [`InjectedFault::OpenWire`] is not modelled (ignored).
//!
//! * **Balancing**: the switches of BALSWCTRL are closed while BALCTRL holds a non-zero
//!   mode (model choice: any non-zero value is manual mode), each until its BALEXPn
//!   expiration (minutes from the last BALCTRL write; 0 = no expiration, model choice).
//! * **AUX**: only the inputs enabled in MEASUREEN2 (bit `k` = AUX`k`) are converted.
//!
//! Not modelled: automatic balancing modes, diagnostics (DIAGCFG/CTSTCFG), the
//! thermistor physics (set AUX ratios with [`Max1785xChain::set_aux_ratio_ppm`], or give a
//! temperature-to-ratio function with [`Max1785xChain::set_thermistor_model`]), die
//! temperature, keep-alive timing and the device shutdown timeout.

use core::marker::PhantomData;

use embedded_hal::spi::Operation;

use super::{Clock, InjectedFault, SimError, SpiModel, VirtualChip, XorShift};
use crate::max1785x::Variant;

const MAX_FRAME: usize = 128;
const REGS: usize = 0x99;
const RX_MAX: usize = 80;
const T_WAKE_NS: u64 = 2_000_000;
const T_BYTE_NS: u64 = 12_000;
const T_HOP_NS: u64 = 5_000;
const FILL: [u8; 2] = [0xD3, 0xC2];

// Register addresses, written out again here (the model's own copy).
const VERSION: usize = 0x00;
const STATUS1: usize = 0x02;
const FMEA1: usize = 0x05;
const FMEA2: usize = 0x06;
const ALRTOVCELL: usize = 0x08;
const ALRTUVCELL: usize = 0x09;
const OVTHSET: usize = 0x20;
const UVTHSET: usize = 0x22;
const CSA: usize = 0x46;
const ALRTCOMPOV: usize = 0x0E;
const ALRTCOMPUV: usize = 0x0F;
const MSMTCH: usize = 0x23;
const BLKOVTHSET: usize = 0x29;
const BLKUVTHSET: usize = 0x2B;
const AUXROVTHSET: usize = 0x31;
const AUXRUVTHSET: usize = 0x33;
const CELL1: usize = 0x47;
const BLOCK: usize = 0x55;
const AUX0: usize = 0x59;
const MEASUREEN1: usize = 0x64;
const MEASUREEN2: usize = 0x65;
const SCANCTRL: usize = 0x66;
const BALSWCTRL: usize = 0x6F;
const BALEXP1: usize = 0x70;
const BALCTRL: usize = 0x80;

/// Reflected CRC-8, polynomial 0xB2 (x^8+x^6+x^3+x^2+1), init 0, bit by bit.
fn pec(bytes: &[u8]) -> u8 {
    let mut c = 0u8;
    for &b in bytes {
        c ^= b;
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xB2 } else { c >> 1 };
        }
    }
    c
}

/// Nearest CSA code of `current_ua` through `shunt` µΩ at `lsb_nv` per code.
fn csa_code(current_ua: i64, lsb_nv: i64, shunt: i64) -> i64 {
    let nv = current_ua.saturating_mul(shunt) / 1000;
    nv.saturating_mul(2)
        .saturating_add(lsb_nv)
        .div_euclid(lsb_nv.saturating_mul(2))
}

/// Nearest 14-bit code of `uv` on a `full_scale_uv` range, clamped.
fn code(uv: i64, full_scale_uv: i64) -> u16 {
    let c = (uv.max(0) * 16_384 + full_scale_uv / 2) / full_scale_uv;
    c.clamp(0, 0x3FFF) as u16
}

#[derive(Debug, Clone, Copy)]
struct Dev {
    awake: bool,
    address: Option<u8>,
    regs: [u16; REGS],
    cells_uv: [i32; 14],
    aux_ppm: [u32; 6],
    scan_end: Option<u64>,
    /// Cells the redundant comparator never flags (an injected comparator fault).
    comp_blind: u16,
    /// When BALCTRL last started a balancing mode (the expiration timers count from it).
    bal_start: Option<u64>,
}

impl Dev {
    fn reset<V: Variant>() -> Self {
        let mut regs = [0u16; REGS];
        regs[VERSION] = V::MODEL << 4 | 0x1;
        regs[OVTHSET] = 0xFFFC;
        regs[0x1F] = 0xFFFC;
        // Mismatch, block OV and ratiometric AUX high at full scale: no alert until set.
        regs[MSMTCH] = 0xFFFC;
        regs[BLKOVTHSET] = 0xFFFC;
        regs[AUXROVTHSET] = 0xFFFC;
        Self {
            awake: false,
            address: None,
            regs,
            cells_uv: [3_600_000; 14],
            aux_ppm: [500_000; 6],
            scan_end: None,
            comp_blind: 0,
            bal_start: None,
        }
    }

    fn get(&self, reg: usize) -> u16 {
        self.regs.get(reg).copied().unwrap_or(0)
    }

    /// The data-check bits this device ORs in.
    fn dc(&self) -> u8 {
        let mut dc = 0;
        if self.get(FMEA1) != 0 || self.get(FMEA2) != 0 {
            dc |= 0x40;
        }
        if self.get(STATUS1) != 0 {
            dc |= 0x20;
        }
        if self.get(ALRTOVCELL) != 0 {
            dc |= 0x04;
        }
        if self.get(ALRTUVCELL) != 0 {
            dc |= 0x02;
        }
        dc
    }
}

/// The virtual bridge and chain. See the [module docs](self).
#[derive(Debug)]
pub struct Max1785xChain<V: Variant, const N: usize> {
    now: u64,
    devs: [Dev; N],
    bregs: [u8; 0x20],
    load: [u8; 8],
    load_len: usize,
    load_resp: usize,
    rx: [u8; RX_MAX],
    rx_len: usize,
    rx_at: Option<u64>,
    preamble_since: Option<u64>,
    corrupt: [Option<(XorShift, u32)>; N],
    silent: u64,
    break_after: Option<u8>,
    alive_skip: u64,
    alive_enabled: bool,
    current_ua: i64,
    csa_scale: Option<(i64, i64)>,
    thermistor: Option<fn(i32) -> u32>,
    reversed_slots: bool,
    uart_messages: u32,
    _v: PhantomData<V>,
}

impl<V: Variant, const N: usize> Default for Max1785xChain<V, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Variant, const N: usize> Max1785xChain<V, N> {
    /// A chain of `N` devices, all shut down, cells at 3.6 V, AUX at half the reference.
    pub fn new() -> Self {
        Self {
            now: 0,
            devs: [Dev::reset::<V>(); N],
            bregs: [0; 0x20],
            load: [0; 8],
            load_len: 0,
            load_resp: 0,
            rx: [0; RX_MAX],
            rx_len: 0,
            rx_at: None,
            preamble_since: None,
            corrupt: [None; N],
            silent: 0,
            break_after: None,
            alive_skip: 0,
            alive_enabled: false,
            current_ua: 0,
            csa_scale: None,
            thermistor: None,
            reversed_slots: false,
            uart_messages: 0,
            _v: PhantomData,
        }
    }

    /// Sets every cell of every device.
    pub fn set_all_cells(&mut self, uv: i32) {
        for d in self.devs.iter_mut() {
            d.cells_uv = [uv; 14];
        }
    }

    /// Sets AUX input `input` of `device` to `ppm` of its reference.
    pub fn set_aux_ratio_ppm(&mut self, device: usize, input: usize, ppm: u32) {
        if let Some(a) = self
            .devs
            .get_mut(device)
            .and_then(|d| d.aux_ppm.get_mut(input))
        {
            *a = ppm.min(1_000_000);
        }
    }

    /// The thermistor network of every AUX input: temperature (m°C) to the input's ratio
    /// of its reference (ppm). With it, [`VirtualChip::set_temperature`] sets every AUX
    /// input of the device; without it, `set_temperature` does nothing.
    pub fn set_thermistor_model(&mut self, model: Option<fn(i32) -> u32>) {
        self.thermistor = model;
    }

    /// READALL answers carry the devices' slots in reverse order (the other reading of the
    /// protocol): the driver's start-up must notice.
    pub fn set_reversed_readall_slots(&mut self, on: bool) {
        self.reversed_slots = on;
    }

    /// The devices expect (and count) the alive-counter byte after the PEC: models the
    /// enable bit having been written.
    pub fn set_alive_counter_enabled(&mut self, on: bool) {
        self.alive_enabled = on;
    }

    /// Device `device` forwards the alive counter without incrementing it (an alive-counter
    /// fault at that device).
    pub fn skip_alive_counter(&mut self, device: u8) {
        if usize::from(device) < N.min(64) {
            self.alive_skip |= 1 << device;
        }
    }

    /// The redundant comparator of `device` never flags cell `cell` (0-based): the
    /// comparator/ADC cross-check must find it.
    pub fn blind_comparator(&mut self, device: usize, cell: usize) {
        if let Some(d) = self.devs.get_mut(device) {
            d.comp_blind |= 1 << cell.min(15);
        }
    }

    /// The CSA scaling of the modelled current (nV per code, shunt µΩ); without it CSA
    /// reads 0.
    pub fn set_current_sense(&mut self, lsb_nv: i64, shunt_micro_ohm: i64) {
        self.csa_scale = Some((lsb_nv, shunt_micro_ohm));
    }

    /// A register of a device as it holds it now.
    pub fn register(&self, device: usize, reg: u8) -> Option<u16> {
        self.devs.get(device).map(|d| d.get(usize::from(reg)))
    }

    /// The address HELLOALL gave `device`, if any.
    pub fn address(&self, device: usize) -> Option<u8> {
        self.devs.get(device).and_then(|d| d.address)
    }

    /// Battery-management messages the bridge has sent so far.
    pub fn uart_messages(&self) -> u32 {
        self.uart_messages
    }

    /// A bridge register as written (CONFIGURATION_2 = 0x0E, CONFIGURATION_3 = 0x10, …).
    pub fn bridge_register(&self, write_address: u8) -> u8 {
        self.bregs
            .get(usize::from(write_address))
            .copied()
            .unwrap_or(0)
    }

    fn is_silent(&self, d: usize) -> bool {
        d < 64 && self.silent & (1 << d) != 0
    }

    /// The last device a message can reach, and whether the ring is closed.
    fn reach(&self) -> (usize, bool) {
        match self.break_after {
            Some(a) if usize::from(a) + 1 < N => (usize::from(a) + 1, false),
            _ => (N, true),
        }
    }

    fn update(&mut self) {
        if let Some(t) = self.preamble_since {
            if self.now >= t + T_WAKE_NS {
                let (reach, _) = self.reach();
                for d in self.devs.iter_mut().take(reach) {
                    d.awake = true;
                }
            }
        }
        let now = self.now;
        let scale = self.csa_scale;
        let current = self.current_ua;
        for d in self.devs.iter_mut() {
            if let Some(end) = d.scan_end {
                if now >= end && d.awake {
                    d.scan_end = None;
                    Self::complete_scan(d, scale, current);
                }
            }
        }
    }

    fn complete_scan(d: &mut Dev, scale: Option<(i64, i64)>, current_ua: i64) {
        let en = d.get(MEASUREEN1);
        let (mut ov, mut uv) = (0u16, 0u16);
        let ov_th = d.get(OVTHSET);
        let uv_th = d.get(UVTHSET);
        let mut sum: i64 = 0;
        for c in 0..V::CELLS {
            let v = d.cells_uv.get(c).copied().unwrap_or(0);
            sum += i64::from(v);
            if en & (1 << c) == 0 {
                continue;
            }
            let raw = code(i64::from(v), 5_000_000) << 2;
            if let Some(r) = d.regs.get_mut(CELL1 + c) {
                *r = raw;
            }
            if raw > ov_th {
                ov |= 1 << c;
            }
            if raw < uv_th {
                uv |= 1 << c;
            }
        }
        let mut status = 0u16;
        if en & (1 << 14) != 0 {
            let b = code(sum, 65_000_000) << 2;
            d.regs[BLOCK] = b;
            if b > d.get(BLKOVTHSET) {
                status |= 1 << 10;
            }
            if b < d.get(BLKUVTHSET) {
                status |= 1 << 9;
            }
        }
        let codes = (0..V::CELLS)
            .filter(|c| en & (1 << c) != 0)
            .map(|c| d.get(CELL1 + c));
        let (lo, hi) = codes.fold((u16::MAX, 0), |(a, b), x| (a.min(x), b.max(x)));
        if hi > lo && hi - lo > d.get(MSMTCH) {
            status |= 1 << 13;
        }
        let aux_en = d.get(MEASUREEN2);
        for i in (0..V::AUX_INPUTS).filter(|i| aux_en & (1 << i) != 0) {
            let ppm = i64::from(d.aux_ppm.get(i).copied().unwrap_or(0));
            let a = code(ppm, 1_000_000) << 2;
            d.regs[AUX0 + i] = a;
            if a > d.get(AUXROVTHSET) {
                status |= 1 << 8;
            }
            if a < d.get(AUXRUVTHSET) {
                status |= 1 << 7;
            }
        }
        d.regs[STATUS1] |= status;
        if V::HAS_CSA {
            d.regs[CSA] = match scale {
                Some((lsb_nv, shunt)) if lsb_nv != 0 => {
                    let c = csa_code(current_ua, lsb_nv, shunt);
                    ((c.clamp(-0x2000, 0x1FFF) as i16) << 2) as u16
                }
                _ => 0,
            };
        }
        d.regs[ALRTOVCELL] = ov;
        d.regs[ALRTUVCELL] = uv;
        // The redundant comparator: modelled with the ADC thresholds (model choice).
        d.regs[ALRTCOMPOV] = ov & !d.comp_blind;
        d.regs[ALRTCOMPUV] = uv & !d.comp_blind;
        if ov != 0 {
            d.regs[STATUS1] |= 1 << 12;
        }
        if uv != 0 {
            d.regs[STATUS1] |= 1 << 11;
        }
        d.regs[SCANCTRL] |= (1 << 15) | (1 << 13);
    }

    fn write_reg(&mut self, d: usize, reg: usize, value: u16) {
        if !V::accessible(reg as u8) {
            return;
        }
        let now = self.now;
        let Some(dev) = self.devs.get_mut(d) else {
            return;
        };
        match reg {
            VERSION
            | CELL1..=0x58
            | AUX0..=0x5E
            | CSA
            | ALRTOVCELL
            | ALRTUVCELL
            | ALRTCOMPOV
            | ALRTCOMPUV => {}
            STATUS1 | FMEA1 | FMEA2 => dev.regs[reg] &= value,
            SCANCTRL => {
                let keep = value & !((1 << 15) | (1 << 13) | (1 << 14));
                dev.regs[SCANCTRL] = keep & !1;
                if value & 1 != 0 {
                    let os = (value >> 3) & 0b111;
                    let t = match os {
                        0 => 1_000_000,
                        1 => 2_000_000,
                        _ => 60_000_000,
                    };
                    dev.scan_end = Some(now + t);
                }
            }
            BALCTRL => {
                dev.regs[BALCTRL] = value;
                // Any mode other than CBMODE = 000 (re)starts the timer (foxBMS
                // `mxm_register_map.h`); the sim treats any non-zero value as manual mode.
                dev.bal_start = (value != 0).then_some(now);
            }
            _ => {
                if let Some(r) = dev.regs.get_mut(reg) {
                    *r = value;
                }
            }
        }
    }

    /// Sends `msg` around the ring; `resp_len` = bytes the bridge clocks back.
    fn uart(&mut self, msg_len: usize, resp_len: usize) {
        self.uart_messages = self.uart_messages.wrapping_add(1);
        self.rx_len = 0;
        self.rx_at = None;
        let msg = self.load;
        let msg = &msg[..msg_len.min(8)];
        let Some(&cmd) = msg.first() else {
            return;
        };
        let (reach, closed) = self.reach();
        let mut out = [0u8; RX_MAX];
        let resp_len = resp_len.min(RX_MAX);
        let mut lost = !closed;
        let mut flips: [(usize, usize, usize); 2] = [(usize::MAX, 0, 0); 2];
        let mut n_flips = 0;
        let len;
        if cmd == 0x57 {
            let mut cnt = msg.get(2).copied().unwrap_or(0);
            for d in 0..reach {
                if !self.devs[d].awake {
                    lost = true;
                    break;
                }
                if !self.is_silent(d) {
                    self.devs[d].address = Some(cnt);
                    // ADDRESS holds the device's own address (model choice: bits 4:0).
                    self.devs[d].regs[0x01] = u16::from(cnt & 0x1F);
                    cnt = cnt.wrapping_add(1);
                }
            }
            out[..3].copy_from_slice(&[0x57, msg.get(1).copied().unwrap_or(0), cnt]);
            len = 3;
        } else {
            let is_write = cmd & 0x07 == 0x02 || cmd & 0x07 == 0x04;
            let body_len = if is_write { 4 } else { 3 };
            let body = msg.get(..body_len).unwrap_or(&[]);
            let sent_pec = msg.get(body_len).copied().unwrap_or(0);
            let mut ac = msg.get(body_len + 1).copied().unwrap_or(0);
            let good = body.len() == body_len && pec(body) == sent_pec;
            let reg = usize::from(msg.get(1).copied().unwrap_or(0));
            let mut data = [0u8; 2 * 32];
            let mut n_data = 0usize;
            let mut dc = msg.get(2).copied().unwrap_or(0);
            let mut replied = false;
            for d in 0..reach {
                if !self.devs[d].awake {
                    lost = true;
                    break;
                }
                if self.is_silent(d) {
                    continue;
                }
                if self.alive_enabled && !(d < 64 && self.alive_skip & (1 << d) != 0) {
                    ac = ac.wrapping_add(1);
                }
                if !good {
                    self.devs[d].regs[STATUS1] |= 1 << 5;
                    dc |= 0x80;
                    continue;
                }
                let addr = self.devs[d].address;
                match cmd & 0x07 {
                    0x02 if cmd == 0x02 => {
                        let v = u16::from_le_bytes([body[2], body[3]]);
                        self.write_reg(d, reg, v);
                    }
                    0x04 if addr == Some(cmd >> 3) => {
                        let v = u16::from_le_bytes([body[2], body[3]]);
                        self.write_reg(d, reg, v);
                    }
                    0x03 if cmd == 0x03 && n_data + 2 <= data.len() => {
                        let v = self.devs[d].get(reg).to_le_bytes();
                        data[n_data..n_data + 2].copy_from_slice(&v);
                        if self.corrupt[d].is_some() && n_flips < 2 {
                            flips[n_flips] = (d, 2 + n_data, 2);
                            n_flips += 1;
                        }
                        n_data += 2;
                        dc |= self.devs[d].dc();
                    }
                    0x05 if addr == Some(cmd >> 3) => {
                        let v = self.devs[d].get(reg).to_le_bytes();
                        data[..2].copy_from_slice(&v);
                        n_data = 2;
                        replied = true;
                        dc |= self.devs[d].dc();
                        if self.corrupt[d].is_some() {
                            flips[0] = (d, 2, 2);
                            n_flips = 1;
                        }
                    }
                    _ => {}
                }
            }
            let ac_byte = usize::from(self.alive_enabled);
            if is_write {
                out[..4].copy_from_slice(body.get(..4).unwrap_or(&[0; 4]));
                out[4] = sent_pec;
                out[5] = ac;
                len = 5 + ac_byte;
            } else if cmd == 0x03 || replied {
                if cmd == 0x03 && self.reversed_slots {
                    let n = n_data / 2;
                    for i in 0..n / 2 {
                        let (a, b) = (2 * i, 2 * (n - 1 - i));
                        data.swap(a, b);
                        data.swap(a + 1, b + 1);
                    }
                }
                out[0] = cmd;
                out[1] = reg as u8;
                out[2..2 + n_data].copy_from_slice(&data[..n_data]);
                let p = 2 + n_data;
                out[p] = dc;
                out[p + 1] = pec(&out[..p + 1]);
                out[p + 2] = ac;
                len = p + 2 + ac_byte;
            } else {
                // READDEVICE nobody answered: the request comes back as sent.
                out[..3].copy_from_slice(body.get(..3).unwrap_or(&[0; 3]));
                out[2] = dc;
                out[3] = sent_pec;
                out[4] = ac;
                len = 4 + ac_byte;
            }
        }
        if lost {
            return;
        }
        for (i, b) in out.iter_mut().enumerate().take(resp_len).skip(len) {
            *b = FILL[(i - len) % 2];
        }
        for &(d, at, width) in flips.iter().take(n_flips) {
            if let Some(Some((rng, left))) = self.corrupt.get_mut(d) {
                if *left > 0 {
                    let bit = rng.below(width as u32 * 8) as usize;
                    if let Some(b) = out.get_mut(at + bit / 8) {
                        *b ^= 1 << (bit % 8);
                    }
                    if *left != u32::MAX {
                        *left -= 1;
                    }
                }
            }
        }
        self.rx[..resp_len].copy_from_slice(&out[..resp_len]);
        self.rx_len = resp_len;
        self.rx_at = Some(self.now + T_BYTE_NS * resp_len as u64 + T_HOP_NS * N as u64);
    }

    fn rx_status(&self) -> u8 {
        let ready = self.rx_len > 0 && self.rx_at.is_some_and(|t| self.now >= t);
        let mut s = if ready { 0x02 } else { 0x01 };
        let (_, closed) = self.reach();
        if let Some(t) = self.preamble_since {
            if closed && self.now >= t + T_WAKE_NS && self.devs.iter().all(|d| d.awake) {
                s |= 0x20;
            }
        }
        s
    }

    fn spi_frame(&mut self, tx: &[u8], resp: &mut [u8]) {
        self.update();
        let Some(&c) = tx.first() else {
            return;
        };
        match c {
            0xE0 => {
                self.rx_len = 0;
                self.rx_at = None;
            }
            0x20 => self.load_len = 0,
            0xC0 => {
                let body = tx.get(2..).unwrap_or(&[]);
                let n = body.len().min(8);
                self.load[..n].copy_from_slice(&body[..n]);
                self.load_len = n;
                self.load_resp = usize::from(tx.get(1).copied().unwrap_or(0));
            }
            0xB0 if self.load_len > 0 => self.uart(self.load_len, self.load_resp),
            0x91 | 0x93 => {
                let ready = self.rx_len > 0 && self.rx_at.is_some_and(|t| self.now >= t);
                if ready {
                    for (o, b) in resp
                        .iter_mut()
                        .skip(1)
                        .zip(self.rx.iter().take(self.rx_len))
                    {
                        *o = *b;
                    }
                    if c == 0x93 {
                        self.rx_len = 0;
                        self.rx_at = None;
                    }
                }
            }
            0x01 => {
                if let Some(r) = resp.get_mut(1) {
                    *r = self.rx_status();
                }
            }
            r if r & 1 == 1 && usize::from(r) < self.bregs.len() => {
                if let Some(o) = resp.get_mut(1) {
                    *o = self.bregs[usize::from(r - 1)];
                }
            }
            w if w & 1 == 0 && (0x04..=0x10).contains(&w) => {
                let v = tx.get(1).copied().unwrap_or(0);
                self.bregs[usize::from(w)] = v;
                if w == 0x0E {
                    if v & 0x20 != 0 {
                        if self.preamble_since.is_none() {
                            self.preamble_since = Some(self.now);
                        }
                    } else {
                        self.update();
                        self.preamble_since = None;
                    }
                }
            }
            _ => {}
        }
    }
}

impl<V: Variant, const N: usize> Clock for Max1785xChain<V, N> {
    fn advance_ns(&mut self, ns: u64) {
        self.now = self.now.saturating_add(ns);
        self.update();
    }
}

impl<V: Variant, const N: usize> SpiModel for Max1785xChain<V, N> {
    fn transaction(&mut self, ops: &mut [Operation<'_, u8>]) -> Result<(), SimError> {
        let mut tx = [0u8; MAX_FRAME];
        let mut n = 0usize;
        for op in ops.iter() {
            let src: &[u8] = match op {
                Operation::Write(b) => b,
                Operation::TransferInPlace(b) => b,
                Operation::Transfer(_, w) => w,
                Operation::Read(b) => {
                    n += b.len();
                    continue;
                }
                Operation::DelayNs(_) => continue,
            };
            let dst = tx.get_mut(n..n + src.len()).ok_or(SimError::Bus)?;
            dst.copy_from_slice(src);
            n += src.len();
        }
        if n > MAX_FRAME {
            return Err(SimError::Bus);
        }
        let mut resp = [0u8; MAX_FRAME];
        self.spi_frame(&tx[..n], &mut resp[..n]);
        let mut pos = 0usize;
        for op in ops.iter_mut() {
            match op {
                Operation::TransferInPlace(b) | Operation::Read(b) => {
                    let l = b.len();
                    b.copy_from_slice(resp.get(pos..pos + l).ok_or(SimError::Bus)?);
                    pos += l;
                }
                Operation::Write(b) => pos += b.len(),
                Operation::Transfer(r, w) => {
                    let l = r.len().max(w.len());
                    for (i, x) in r.iter_mut().enumerate() {
                        *x = resp.get(pos + i).copied().unwrap_or(0);
                    }
                    pos += l;
                }
                Operation::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}

impl<V: Variant, const N: usize> VirtualChip for Max1785xChain<V, N> {
    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        V::CELLS
    }
    fn set_cell_voltage(&mut self, device: usize, cell: usize, microvolts: i32) {
        if let Some(c) = self
            .devs
            .get_mut(device)
            .and_then(|d| d.cells_uv.get_mut(cell))
        {
            *c = microvolts;
        }
    }
    fn set_temperature(&mut self, device: usize, millicelsius: i32) {
        let Some(model) = self.thermistor else {
            return;
        };
        if let Some(d) = self.devs.get_mut(device) {
            d.aux_ppm = [model(millicelsius).min(1_000_000); 6];
        }
    }
    fn set_current(&mut self, microamps: i64) {
        self.current_ua = microamps;
        let (scale, current) = (self.csa_scale, self.current_ua);
        if V::HAS_CSA {
            for d in self.devs.iter_mut().filter(|d| d.awake) {
                d.regs[CSA] = match scale {
                    Some((lsb_nv, shunt)) if lsb_nv != 0 => {
                        let c = csa_code(current, lsb_nv, shunt);
                        ((c.clamp(-0x2000, 0x1FFF) as i16) << 2) as u16
                    }
                    _ => 0,
                };
            }
        }
    }
    fn inject(&mut self, fault: InjectedFault) {
        match fault {
            InjectedFault::CorruptResponses {
                device,
                seed,
                frames,
            } => {
                if let Some(c) = self.corrupt.get_mut(usize::from(device)) {
                    *c = Some((XorShift(seed), frames));
                }
            }
            InjectedFault::Silent { device } if device < 64 => self.silent |= 1 << device,
            InjectedFault::BreakAfter { after } => self.break_after = Some(after),
            _ => {}
        }
    }
    fn clear_faults(&mut self) {
        self.corrupt = [None; N];
        self.silent = 0;
        self.break_after = None;
        self.alive_skip = 0;
        for d in self.devs.iter_mut() {
            d.comp_blind = 0;
        }
    }
    fn balancing(&self, device: usize) -> u32 {
        let Some(d) = self.devs.get(device).filter(|d| d.awake) else {
            return 0;
        };
        let Some(start) = d.bal_start else {
            return 0;
        };
        let sw = d.get(BALSWCTRL);
        let mut on = 0u32;
        for c in 0..V::CELLS {
            let minutes = u64::from(d.get(BALEXP1 + c));
            let live = minutes == 0 || self.now < start + minutes * 60_000_000_000;
            if sw & (1 << c) != 0 && live {
                on |= 1 << c;
            }
        }
        on
    }
    fn sleep(&mut self) {
        for d in self.devs.iter_mut() {
            // The registers are lost; the cells (the battery) stay as the test set them.
            let (cells, aux) = (d.cells_uv, d.aux_ppm);
            *d = Dev::reset::<V>();
            d.cells_uv = cells;
            d.aux_ppm = aux;
        }
        self.preamble_since = None;
        self.rx_len = 0;
        self.rx_at = None;
    }
    fn is_awake(&self) -> bool {
        self.devs.iter().all(|d| d.awake)
    }
    fn cell_lsb_uv(&self) -> i32 {
        306
    }
    fn stack_lsb_uv(&self) -> i32 {
        3_968
    }
    fn elapsed_ns(&self) -> Option<u64> {
        Some(self.now)
    }
    fn cell_thresholds_uv(&self, device: usize) -> Option<(i32, i32)> {
        let d = self.devs.get(device)?;
        let uv = |raw: u16| (i64::from(raw >> 2) * 5_000_000 / 16_384) as i32;
        Some((uv(d.get(UVTHSET)), uv(d.get(OVTHSET))))
    }
}
