//! A virtual BQ79600 bridge and a stack of `N` BQ7961x on a UART ([`UartModel`]), with fault
//! injection; or `N` BQ7961x with the base device on the UART (no bridge).
//!
//! The model decodes every host frame with its **own** bit-serial CRC-16 (x¹⁶ + x¹⁵ + x² + 1,
//! reflected, init 0xFFFF, low byte first — written from the SLUSE48B/SLUSDQ4 text, not the
//! crate's `crc` module) and drops frames that fail it, as the silicon does. It models:
//!
//! * wake: the bridge wakes on a 2.0–3.0 ms low pulse of its RX (a base BQ7961x on 2.0–2.5 ms,
//!   SLUSE81E tHLD_WAKE) and is ready 3.5 ms later (the base 10 ms later); the stack devices wake
//!   on the bridge's CONTROL1\[SEND_WAKE\] (or the base's tone), device `p` (0 = nearest) ready
//!   `(p + 1) × 11 ms` later (tSU(WAKE_SHUT) ≤ 10 ms per device plus the tone); before that they
//!   ignore frames. A WAKE resets a device that was asleep (address and settings lost).
//! * auto-addressing: CONTROL1\[ADDR_WR\], then each broadcast DIR0_ADDR (or DIR1_ADDR) write is
//!   taken by the first device along the path that has not taken one; COMM_CTRL STACK_DEV decides
//!   who answers stack reads; single frames match DIR0_ADDR (DIR1_ADDR when CONTROL1\[DIR_SEL\]).
//! * directions: frames travel the bridge's direction (CONTROL1\[DIR_SEL\]); a device takes part
//!   only when its own DIR_SEL matches, except broadcast-reverse frames, which every device
//!   reached takes. Without [`Bq79616Stack::with_ring`] nothing is reachable in reverse.
//! * responses: every answering device sends its own frame, the farthest first; a silent device
//!   relays but does not answer; a broken cable ends the path (the devices before it still
//!   answer — how the silicon behaves there is not documented in the sources used).
//! * the main ADC (ADC_CTRL1\[MAIN_GO\]): results (VCELL, DIETEMP1) appear 192 µs after GO and
//!   follow the true values while it runs; 0x8000 before the first conversion and for inactive
//!   cells; the OV/UV comparators (OVUV_CTRL\[OVUV_GO\], round robin) latch flags until
//!   FAULT_RST; balancing (BAL_CTRL2\[BAL_GO\]) samples the CB_CELLn_CTRL timers, refuses
//!   adjacent cells with BAL_STAT\[INVALID_CBCONF\].

use embedded_hal::spi::Operation;

use super::{
    Clock, InjectedFault, InputModel, SimError, SpiModel, UartModel, VirtualChip, XorShift,
};

const RESP_MAX: usize = 134;
const ROUND_ROBIN_NS: u64 = 192_000;
const WAKE_STEP_NS: u64 = 11_000_000;

/// The model's own CRC-16 (bitwise, reflected polynomial 0xA001, init 0xFFFF, no final xor).
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// The model's own VCELL quantisation: 190.73 µV per code, nearest.
fn vcell_code(uv: i32) -> u16 {
    let num = i64::from(uv) * 100;
    let c = if num >= 0 {
        (num + 19_073 / 2) / 19_073
    } else {
        (num - 19_073 / 2) / 19_073
    };
    c.clamp(-32_767, 32_767) as i16 as u16
}

fn ov_mv(code: u8) -> i32 {
    match code & 0x3F {
        c @ 0x02..=0x0E => 2_700 + 25 * (i32::from(c) - 2),
        c @ 0x12..=0x1E => 3_500 + 25 * (i32::from(c) - 0x12),
        c @ 0x22..=0x2E => 4_175 + 25 * (i32::from(c) - 0x22),
        _ => 2_700,
    }
}

fn uv_mv(code: u8) -> i32 {
    match code & 0x3F {
        c @ 0..=0x26 => 1_200 + 50 * i32::from(c),
        _ => 3_100,
    }
}

fn cb_seconds(code: u8) -> u64 {
    match code & 0x1F {
        0 => 0,
        1 => 10,
        2 => 30,
        3 => 60,
        4 => 300,
        c @ 5..=0x10 => 600 * u64::from(c - 4),
        c @ 0x11..=0x1E => 60 * (150 + 30 * u64::from(c - 0x11)),
        _ => 36_000,
    }
}

#[derive(Debug, Clone, Copy)]
struct Dev {
    awake: bool,
    sleeping: bool,
    ready_at: u64,
    dir0: Option<u8>,
    dir1: Option<u8>,
    reverse: bool,
    addr_wr: bool,
    comm_ctrl: u8,
    otp: [u8; 0x40],
    ctrl: [u8; 0x60],
    adc_running: bool,
    adc_t0: u64,
    codes: [u16; 16],
    die_code: u16,
    cells_uv: [i32; 16],
    temp_mc: i32,
    ovuv_running: bool,
    ovuv_t0: u64,
    ov_code: u8,
    uv_code: u8,
    ov_flags: u16,
    uv_flags: u16,
    bal_end_ns: [u64; 16],
    bal_mask: u16,
    bal_stat: u8,
    bal_t0: u64,
    bal_auto: bool,
}

impl Dev {
    fn new() -> Self {
        let mut d = Self {
            awake: false,
            sleeping: false,
            ready_at: 0,
            dir0: None,
            dir1: None,
            reverse: false,
            addr_wr: false,
            comm_ctrl: 0,
            otp: [0; 0x40],
            ctrl: [0; 0x60],
            adc_running: false,
            adc_t0: 0,
            codes: [0x8000; 16],
            die_code: 0x8000,
            cells_uv: [3_600_000; 16],
            temp_mc: 25_000,
            ovuv_running: false,
            ovuv_t0: 0,
            ov_code: 0,
            uv_code: 0,
            ov_flags: 0,
            uv_flags: 0,
            bal_end_ns: [0; 16],
            bal_mask: 0,
            bal_stat: 0,
            bal_t0: 0,
            bal_auto: false,
        };
        d.reset();
        d
    }

    /// Power-on / WAKE reset of the volatile state (the truth stays).
    fn reset(&mut self) {
        self.dir0 = None;
        self.dir1 = None;
        self.reverse = false;
        self.addr_wr = false;
        self.comm_ctrl = 0;
        self.otp = [0; 0x40];
        self.otp[0x03] = 0x0A;
        self.otp[0x0B] = 0xE0;
        self.ctrl = [0; 0x60];
        self.adc_running = false;
        self.codes = [0x8000; 16];
        self.die_code = 0x8000;
        self.ovuv_running = false;
        self.ov_flags = 0;
        self.uv_flags = 0;
        self.bal_mask = 0;
        self.bal_stat = 0;
    }

    fn active(&self) -> u8 {
        (self.otp[0x03] & 0x0F).saturating_add(6).min(16)
    }

    fn address(&self) -> Option<u8> {
        if self.reverse { self.dir1 } else { self.dir0 }
    }

    fn refresh(&mut self, now: u64) {
        let active = self.active();
        if self.adc_running && now >= self.adc_t0 + ROUND_ROBIN_NS {
            for cell in 1..=16u8 {
                let i = usize::from(cell - 1);
                self.codes[i] = if cell <= active {
                    vcell_code(self.cells_uv[i])
                } else {
                    0x8000
                };
            }
            // 0.025 °C per code, nearest.
            let t = self.temp_mc;
            let c = if t >= 0 { (t + 12) / 25 } else { (t - 12) / 25 };
            self.die_code = c.clamp(-32_767, 32_767) as i16 as u16;
        }
        if self.ovuv_running && now >= self.ovuv_t0 + ROUND_ROBIN_NS {
            let ov = ov_mv(self.ov_code) * 1000;
            let uv = uv_mv(self.uv_code) * 1000;
            for cell in 0..active {
                let v = self.cells_uv[usize::from(cell)];
                if v > ov {
                    self.ov_flags |= 1 << cell;
                }
                if v < uv {
                    self.uv_flags |= 1 << cell;
                }
            }
        }
        for cell in 0..16 {
            if self.bal_mask & (1 << cell) != 0 && now >= self.bal_end_ns[cell] {
                self.bal_mask &= !(1 << cell);
            }
        }
    }

    fn summary(&self) -> u8 {
        let mut s = 0;
        if self.ov_flags != 0 || self.uv_flags != 0 {
            s |= 1 << 2;
        }
        s
    }

    fn read(&self, addr: u16) -> u8 {
        match addr {
            0x0000..=0x003F => self.otp[usize::from(addr)],
            0x0306 => self.dir0.unwrap_or(0),
            0x0307 => self.dir1.unwrap_or(0),
            0x0308 => self.comm_ctrl,
            0x0309 => u8::from(self.reverse) << 7,
            0x0300..=0x035F => self.ctrl[usize::from(addr - 0x0300)],
            0x0500 => 0x21,
            0x052B => self.bal_stat,
            0x052D => self.summary(),
            0x053C => (self.ov_flags >> 8) as u8,
            0x053D => self.ov_flags as u8,
            0x053E => (self.uv_flags >> 8) as u8,
            0x053F => self.uv_flags as u8,
            0x0568..=0x0587 => {
                let k = usize::from(addr - 0x0568);
                let cell = 16 - k / 2;
                let code = self.codes[cell - 1];
                if k % 2 == 0 {
                    (code >> 8) as u8
                } else {
                    code as u8
                }
            }
            0x0588 | 0x0589 => {
                if self.adc_running {
                    0
                } else if addr == 0x0588 {
                    0x80
                } else {
                    0
                }
            }
            // TSREF 0x4000, GPIOn 0x2000: a ratio of one half.
            0x058C => 0x40,
            0x058D => 0x00,
            0x058E..=0x059D => u8::from(addr % 2 == 0) * 0x20,
            0x05AE => (self.die_code >> 8) as u8,
            0x05AF => self.die_code as u8,
            _ => 0,
        }
    }

    fn write(&mut self, addr: u16, v: u8, now: u64) {
        match addr {
            0x0000..=0x003F => self.otp[usize::from(addr)] = v,
            0x0306 => self.dir0 = Some(v & 0x3F),
            0x0307 => self.dir1 = Some(v & 0x3F),
            0x0308 => self.comm_ctrl = v & 0x03,
            0x0309 => {
                self.reverse = v & 0x80 != 0;
                if v & 0x01 != 0 {
                    self.addr_wr = true;
                }
                if v & 0x02 != 0 {
                    self.reset();
                }
                if v & 0x08 != 0 {
                    // SHUTDOWN: everything volatile is lost.
                    self.awake = false;
                    self.sleeping = false;
                    self.reset();
                } else if v & 0x04 != 0 {
                    // SLEEP keeps the settings; only SLEEPtoACTIVE keeps them on the way back.
                    self.awake = false;
                    self.sleeping = true;
                }
            }
            0x030D => {
                self.ctrl[0x0D] = v & !0x04;
                if v & 0x04 != 0 {
                    self.adc_running = true;
                    self.adc_t0 = now;
                }
            }
            0x032C => {
                self.ctrl[0x2C] = v & !0x04;
                if v & 0x04 != 0 {
                    self.ovuv_running = v & 0x03 == 0x01;
                    self.ovuv_t0 = now;
                    self.ov_code = self.otp[0x09];
                    self.uv_code = self.otp[0x0A];
                }
            }
            0x032F => {
                self.ctrl[0x2F] = v & !0x02;
                if v & 0x02 != 0 {
                    let mut mask = 0u16;
                    for cell in 1..=16u16 {
                        let code = self.ctrl[usize::from(0x18 + (16 - cell))] & 0x1F;
                        if code != 0 {
                            mask |= 1 << (cell - 1);
                            self.bal_end_ns[usize::from(cell - 1)] =
                                now + cb_seconds(code) * 1_000_000_000;
                        }
                    }
                    self.bal_t0 = now;
                    self.bal_auto = v & 0x01 != 0;
                    if mask & (mask >> 1) != 0 && !self.bal_auto {
                        self.bal_stat = 0x80;
                        self.bal_mask = 0;
                    } else {
                        self.bal_mask = mask;
                        self.bal_stat = if mask != 0 { 0x08 } else { 0x01 };
                    }
                }
            }
            0x0331 | 0x0332 if v != 0 => {
                self.ov_flags = 0;
                self.uv_flags = 0;
            }
            0x0300..=0x035F => self.ctrl[usize::from(addr - 0x0300)] = v,
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bridge {
    regs: [u8; 0x40],
    awake: bool,
    ready_at: u64,
    reverse: bool,
    addr_wr: bool,
}

/// Counters of what went over the virtual UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Bytes the host sent.
    pub bytes_from_host: u64,
    /// Bytes the stack sent to the host.
    pub bytes_to_host: u64,
    /// Host frames accepted (CRC good).
    pub frames: u64,
    /// Host bytes dropped while resynchronising (bad INIT, bad CRC).
    pub dropped: u64,
}

/// The virtual stack: `N` devices behind a bridge (or a base device).
#[derive(Debug)]
pub struct Bq79616Stack<const N: usize> {
    now_ns: u64,
    has_bridge: bool,
    ring: bool,
    cells: u8,
    bridge: Bridge,
    devs: [Dev; N],
    rx: [u8; 32],
    rx_len: usize,
    out: [[u8; RESP_MAX]; N],
    out_len: [usize; N],
    out_frames: usize,
    out_frame: usize,
    out_pos: usize,
    line_low_since: Option<u64>,
    resp_read: usize,
    corrupt: Option<(usize, XorShift, u32)>,
    silent: u64,
    break_after: Option<usize>,
    stats: Stats,
}

impl<const N: usize> Bq79616Stack<N> {
    fn new(has_bridge: bool, cells: u8) -> Self {
        Self {
            now_ns: 0,
            has_bridge,
            ring: false,
            cells: cells.clamp(6, 16),
            bridge: Bridge {
                regs: [0; 0x40],
                awake: false,
                ready_at: 0,
                reverse: false,
                addr_wr: false,
            },
            devs: [Dev::new(); N],
            rx: [0; 32],
            rx_len: 0,
            out: [[0; RESP_MAX]; N],
            out_len: [0; N],
            out_frames: 0,
            out_frame: 0,
            out_pos: 0,
            line_low_since: None,
            resp_read: 0,
            corrupt: None,
            silent: 0,
            break_after: None,
            stats: Stats::default(),
        }
    }

    /// A BQ79600 bridge and `N` monitors with `cells` cells each (what the driver will set in
    /// ACTIVE_CELL; the conformance suite uses it as the cell count), all in SHUTDOWN.
    pub fn bridge(cells: u8) -> Self {
        Self::new(true, cells)
    }

    /// `N` monitors, the base (device 0) on the UART, no bridge.
    pub fn base(cells: u8) -> Self {
        Self::new(false, cells)
    }

    /// Wires the top device back to the bridge (ring): the stack is reachable in reverse.
    pub fn with_ring(mut self) -> Self {
        self.ring = true;
        self
    }

    /// What went over the wire so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Resets the wire counters.
    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
    }

    /// The address device `d` answers to in the forward direction (`None` if not addressed).
    pub fn address(&self, d: usize) -> Option<u8> {
        self.devs.get(d).and_then(|x| x.dir0)
    }

    /// The DIR1 (reverse) address of device `d`.
    pub fn reverse_address(&self, d: usize) -> Option<u8> {
        self.devs.get(d).and_then(|x| x.dir1)
    }

    /// ACTIVE_CELL of device `d` as written by the host.
    pub fn active_cells(&self, d: usize) -> Option<u8> {
        self.devs.get(d).map(|x| x.active())
    }

    /// COMM_CTRL of device `d`.
    pub fn comm_ctrl(&self, d: usize) -> Option<u8> {
        self.devs.get(d).map(|x| x.comm_ctrl)
    }

    /// `true` if device `d` has its direction set to reverse.
    pub fn is_reversed(&self, d: usize) -> bool {
        self.devs.get(d).is_some_and(|x| x.reverse)
    }

    fn ready(&self, d: usize) -> bool {
        self.devs
            .get(d)
            .is_some_and(|x| x.awake && self.now_ns >= x.ready_at)
    }

    /// Device positions along the path in `reverse` or forward direction.
    fn path(&self, reverse: bool, out: &mut [usize; N]) -> usize {
        let mut n = 0;
        if !reverse {
            let last = self.break_after.map_or(N, |a| (a + 1).min(N));
            for p in 0..last {
                if let Some(slot) = out.get_mut(n) {
                    *slot = p;
                    n += 1;
                }
                // A sleeping device does not relay.
                if !self.ready(p) {
                    break;
                }
            }
        } else if self.ring && self.has_bridge {
            let first = self.break_after.map_or(0, |a| a + 1);
            for p in (first..N).rev() {
                if let Some(slot) = out.get_mut(n) {
                    *slot = p;
                    n += 1;
                }
                if !self.ready(p) {
                    break;
                }
            }
        }
        n
    }

    fn wake_stack(&mut self, start: usize) {
        let t = self.now_ns;
        for p in start..N {
            if self.break_after.is_some_and(|a| p > a) {
                break;
            }
            if let Some(d) = self.devs.get_mut(p) {
                if !d.awake {
                    d.sleeping = false;
                    d.reset();
                    d.awake = true;
                    d.ready_at = t + WAKE_STEP_NS * (p - start + 1) as u64;
                }
            }
        }
    }

    /// A SLEEPtoACTIVE tone: sleeping devices wake with their settings, device `p` ready
    /// `(p + 1) × 230 µs` later (SLUSE81E tSU(SLP2ACT)); a device in SHUTDOWN does not react.
    fn sleep_to_active(&mut self, start: usize) {
        let t = self.now_ns;
        for p in start..N {
            if self.break_after.is_some_and(|a| p > a) {
                break;
            }
            if let Some(d) = self.devs.get_mut(p) {
                if d.sleeping {
                    d.sleeping = false;
                    d.awake = true;
                    d.ready_at = t + 230_000 * (p - start + 1) as u64;
                } else if !d.awake {
                    break;
                }
            }
        }
    }

    fn push_frame(&mut self, pos: usize, addr: u8, register: u16, count: usize) {
        if self.silent & (1 << pos.min(63)) != 0 || self.out_frames >= N {
            return;
        }
        let Some(frame) = self.out.get_mut(self.out_frames) else {
            return;
        };
        let len = count + 6;
        frame[0] = (count - 1) as u8;
        frame[1] = addr;
        frame[2] = (register >> 8) as u8;
        frame[3] = register as u8;
        for i in 0..count {
            frame[4 + i] = match self.devs.get(pos) {
                Some(d) => d.read(register.wrapping_add(i as u16)),
                None => 0,
            };
        }
        let crc = crc16(&frame[..len - 2]);
        frame[len - 2] = crc as u8;
        frame[len - 1] = (crc >> 8) as u8;
        if let Some((dev, rng, left)) = self.corrupt.as_mut() {
            if *dev == pos && *left > 0 {
                let bit = rng.below((len * 8) as u32) as usize;
                frame[bit / 8] ^= 1 << (bit % 8);
                if *left != u32::MAX {
                    *left -= 1;
                }
            }
        }
        self.out_len[self.out_frames] = len;
        self.out_frames += 1;
    }

    fn bridge_frame(&mut self, req: u8, register: u16, data: &[u8], count: usize) {
        match req {
            0 => {
                // Single read of the bridge.
                let Some(frame) = self.out.get_mut(0) else {
                    return;
                };
                let len = count + 6;
                frame[0] = (count - 1) as u8;
                frame[1] = 0;
                frame[2] = (register >> 8) as u8;
                frame[3] = register as u8;
                for i in 0..count {
                    frame[4 + i] = match register.wrapping_add(i as u16) {
                        0x2001 => 0x14,
                        0x0309 => u8::from(self.bridge.reverse) << 7,
                        0x2120 => 0x00,
                        r @ 0x2002..=0x203F => self.bridge.regs[usize::from(r - 0x2000)],
                        _ => 0,
                    };
                }
                let crc = crc16(&frame[..len - 2]);
                frame[len - 2] = crc as u8;
                frame[len - 1] = (crc >> 8) as u8;
                self.out_len[0] = len;
                self.out_frames = 1;
            }
            _ => {
                for (i, &v) in data.iter().enumerate() {
                    let r = register.wrapping_add(i as u16);
                    if (0x2002..=0x202F).contains(&r) {
                        // Configuration registers keep what is written (FAULT_RST 0x2030 and
                        // up are commands).
                        self.bridge.regs[usize::from(r - 0x2000)] = v;
                    }
                    if r == 0x0309 {
                        self.bridge.reverse = v & 0x80 != 0;
                        if v & 0x01 != 0 {
                            self.bridge.addr_wr = true;
                        }
                        if v & 0x20 != 0 {
                            let start = 0;
                            self.wake_stack(start);
                        }
                        if v & 0x10 != 0 {
                            self.sleep_to_active(0);
                        }
                        if v & 0x0C != 0 {
                            self.bridge.awake = false;
                        }
                    }
                }
            }
        }
    }

    /// Handles one CRC-checked host frame.
    fn handle(&mut self, req: u8, device: u8, register: u16, data: &[u8]) {
        self.stats.frames += 1;
        self.resp_read = 0;
        self.out_frames = 0;
        self.out_frame = 0;
        self.out_pos = 0;
        let is_read = matches!(req, 0 | 2 | 4);
        let count = if is_read {
            usize::from(data.first().copied().unwrap_or(0) & 0x7F) + 1
        } else {
            0
        };
        let now = self.now_ns;
        let travel_reverse;
        if self.has_bridge {
            if !(self.bridge.awake && now >= self.bridge.ready_at) {
                return;
            }
            travel_reverse = self.bridge.reverse;
            match req {
                0 | 1 if device == 0 => {
                    self.bridge_frame(req, register, data, count);
                    return;
                }
                5 | 6 => {
                    let addr_reg = register == 0x0306 || register == 0x0307;
                    if addr_reg && self.bridge.addr_wr {
                        // The bridge takes the first address write.
                        self.bridge.addr_wr = false;
                        return;
                    }
                    self.bridge_frame(req, register, data, 0);
                }
                _ => {}
            }
        } else {
            travel_reverse = false;
        }
        let mut path = [0usize; N];
        let n = self.path(travel_reverse, &mut path);
        let mut responders = [0usize; N];
        let mut nr = 0usize;
        let mut address_taken = false;
        for &p in path.iter().take(n) {
            if !self.ready(p) {
                break;
            }
            let Some(d) = self.devs.get_mut(p) else {
                continue;
            };
            d.refresh(now);
            if req != 6 && d.reverse != travel_reverse {
                continue;
            }
            match req {
                0 => {
                    if d.address() == Some(device & 0x3F) {
                        if let Some(slot) = responders.get_mut(nr) {
                            *slot = p;
                            nr += 1;
                        }
                    }
                }
                1 => {
                    if d.address() == Some(device & 0x3F) {
                        for (i, &v) in data.iter().enumerate() {
                            d.write(register.wrapping_add(i as u16), v, now);
                        }
                    }
                }
                2 | 4 => {
                    if req == 4 || d.comm_ctrl & 0x02 != 0 {
                        if let Some(slot) = responders.get_mut(nr) {
                            *slot = p;
                            nr += 1;
                        }
                    }
                }
                3 => {
                    if d.comm_ctrl & 0x02 != 0 {
                        for (i, &v) in data.iter().enumerate() {
                            d.write(register.wrapping_add(i as u16), v, now);
                        }
                    }
                }
                _ => {
                    let addr_reg = register == 0x0306 || register == 0x0307;
                    if addr_reg && data.len() == 1 {
                        if d.addr_wr && !address_taken {
                            d.write(register, data[0], now);
                            d.addr_wr = false;
                            address_taken = true;
                        }
                        continue;
                    }
                    for (i, &v) in data.iter().enumerate() {
                        d.write(register.wrapping_add(i as u16), v, now);
                    }
                }
            }
        }
        // Farthest first.
        for i in (0..nr).rev() {
            let p = responders[i];
            let addr = self.devs.get(p).and_then(|d| d.address()).unwrap_or(0);
            self.push_frame(p, addr, register, count);
        }
    }

    fn drain_rx(&mut self) {
        loop {
            if self.rx_len == 0 {
                return;
            }
            let init = self.rx[0];
            let ok_init = init & 0x80 != 0 && init & 0x08 == 0 && (init >> 4) & 7 != 7;
            if !ok_init {
                self.drop_byte();
                continue;
            }
            let req = (init >> 4) & 7;
            let size = usize::from(init & 7);
            let is_read = matches!(req, 0 | 2 | 4);
            if is_read && size != 0 {
                self.drop_byte();
                continue;
            }
            let data_len = if is_read { 1 } else { size + 1 };
            let head = if matches!(req, 0 | 1) { 4 } else { 3 };
            let len = head + data_len + 2;
            if self.rx_len < len {
                return;
            }
            let frame = &self.rx[..len];
            if crc16(frame) != 0 {
                self.drop_byte();
                continue;
            }
            let device = if head == 4 { frame[1] } else { 0 };
            let register = u16::from_be_bytes([frame[head - 2], frame[head - 1]]);
            let mut data = [0u8; 8];
            data[..data_len].copy_from_slice(&frame[head..head + data_len]);
            self.rx.copy_within(len..self.rx_len, 0);
            self.rx_len -= len;
            self.handle(req, device, register, &data[..data_len]);
        }
    }

    fn drop_byte(&mut self) {
        self.rx.copy_within(1..self.rx_len, 0);
        self.rx_len -= 1;
        self.stats.dropped += 1;
    }
}

impl<const N: usize> Clock for Bq79616Stack<N> {
    fn advance_ns(&mut self, ns: u64) {
        self.now_ns = self.now_ns.saturating_add(ns);
    }
}

impl<const N: usize> UartModel for Bq79616Stack<N> {
    fn receive(&mut self, bytes: &[u8]) -> Result<(), SimError> {
        self.stats.bytes_from_host += bytes.len() as u64;
        for &b in bytes {
            if self.rx_len >= self.rx.len() {
                self.drop_byte();
            }
            self.rx[self.rx_len] = b;
            self.rx_len += 1;
            self.drain_rx();
        }
        Ok(())
    }

    fn pending(&self) -> usize {
        let mut n = 0;
        for f in self.out_frame..self.out_frames {
            n += self.out_len[f];
        }
        n.saturating_sub(self.out_pos)
    }

    fn transmit(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() && self.out_frame < self.out_frames {
            let len = self.out_len[self.out_frame];
            buf[n] = self.out[self.out_frame][self.out_pos];
            n += 1;
            self.out_pos += 1;
            if self.out_pos >= len {
                self.out_frame += 1;
                self.out_pos = 0;
            }
        }
        self.stats.bytes_to_host += n as u64;
        self.resp_read += n;
        n
    }

    fn line_low(&mut self, low: bool) {
        if low {
            self.line_low_since = Some(self.now_ns);
            return;
        }
        let Some(t) = self.line_low_since.take() else {
            return;
        };
        let us = (self.now_ns - t) / 1_000;
        if (15..=20).contains(&us) {
            // COMM CLEAR: the receivers drop a torn frame.
            self.rx_len = 0;
            return;
        }
        if self.has_bridge {
            if (2_000..=3_000).contains(&us) && !self.bridge.awake {
                self.bridge.awake = true;
                self.bridge.reverse = false;
                self.bridge.addr_wr = false;
                self.bridge.ready_at = self.now_ns + 3_500_000;
            }
        } else if (2_000..=2_500).contains(&us) {
            if !self.devs.first().is_some_and(|d| d.awake) {
                if let Some(d) = self.devs.first_mut() {
                    d.sleeping = false;
                    d.reset();
                    d.awake = true;
                    d.ready_at = self.now_ns + 10_000_000;
                }
                self.wake_stack(1);
            }
        } else if (250..=300).contains(&us) {
            // SLEEPtoACTIVE ping on the base (TI sample: 250–300 µs).
            self.sleep_to_active(0);
        } else if (7_000..=13_000).contains(&us) {
            if let Some(d) = self.devs.first_mut() {
                d.awake = false;
                d.reset();
            }
        }
    }
}

/// The BQ79600 in SPI mode: writes are command bytes, reads take bytes from the TX FIFO
/// (0xFF when it is empty), at most to the end of the current 128-byte buffer per frame. The SPI_RDY pin is [`SPI_RDY`].
impl<const N: usize> SpiModel for Bq79616Stack<N> {
    fn transaction(&mut self, ops: &mut [Operation<'_, u8>]) -> Result<(), SimError> {
        for op in ops {
            match op {
                Operation::Write(b) => self.receive(b)?,
                Operation::Read(b) | Operation::TransferInPlace(b) => {
                    // One chip-select frame reads at most to the end of the current 128-byte
                    // ping-pong buffer; later bytes read as 0xFF and stay in the FIFO.
                    let room = 128 - self.resp_read % 128;
                    let end = b.len().min(room);
                    let n = self.transmit(b.get_mut(..end).unwrap_or(&mut []));
                    if let Some(rest) = b.get_mut(n..) {
                        rest.fill(0xFF);
                    }
                }
                Operation::Transfer(r, w) => {
                    self.receive(w)?;
                    let n = self.transmit(r);
                    if let Some(rest) = r.get_mut(n..) {
                        rest.fill(0xFF);
                    }
                }
                Operation::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}

/// The pin number of the BQ79600 SPI_RDY output for [`Sim::input`](super::Sim::input).
pub const SPI_RDY: u8 = 0;

impl<const N: usize> InputModel for Bq79616Stack<N> {
    /// SPI_RDY: high while the TX FIFO holds response bytes.
    fn input_high(&mut self, pin: u8) -> bool {
        pin == SPI_RDY && self.pending() > 0
    }
}

impl<const N: usize> VirtualChip for Bq79616Stack<N> {
    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        usize::from(self.cells)
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
        if let Some(d) = self.devs.get_mut(device) {
            d.temp_mc = millicelsius;
        }
    }
    fn set_current(&mut self, _microamps: i64) {}
    fn inject(&mut self, fault: InjectedFault) {
        match fault {
            InjectedFault::CorruptResponses {
                device,
                seed,
                frames,
            } => self.corrupt = Some((usize::from(device), XorShift(seed), frames)),
            InjectedFault::Silent { device } => self.silent |= 1 << device.min(63),
            InjectedFault::BreakAfter { after } => self.break_after = Some(usize::from(after)),
            _ => {}
        }
    }
    fn clear_faults(&mut self) {
        self.corrupt = None;
        self.silent = 0;
        self.break_after = None;
    }
    fn balancing(&self, device: usize) -> u32 {
        self.devs.get(device).map_or(0, |d| {
            if d.ctrl[0x2F] & 0x40 != 0 {
                // BAL_CTRL2[CB_PAUSE]: every switch open.
                return 0;
            }
            let mut m = d.bal_mask;
            if d.bal_auto {
                // Odd cells (1, 3, …) first, then even, switching every DUTY period.
                let duty_s =
                    [5u64, 10, 30, 60, 300, 600, 1_200, 1_800][usize::from(d.ctrl[0x2E] & 7)];
                let phase = (self.now_ns.saturating_sub(d.bal_t0) / (duty_s * 1_000_000_000)) % 2;
                m &= if phase == 0 { 0x5555 } else { 0xAAAA };
            }
            for cell in 0..16 {
                if self.now_ns >= d.bal_end_ns[cell] {
                    m &= !(1 << cell);
                }
            }
            u32::from(m)
        })
    }
    fn sleep(&mut self) {
        self.bridge.awake = false;
        for d in &mut self.devs {
            d.awake = false;
            d.sleeping = false;
            d.reset();
        }
    }
    fn is_awake(&self) -> bool {
        (!self.has_bridge || self.bridge.awake) && self.devs.iter().all(|d| d.awake)
    }
    fn cell_lsb_uv(&self) -> i32 {
        191
    }
    fn elapsed_ns(&self) -> Option<u64> {
        Some(self.now_ns)
    }
    fn cell_thresholds_uv(&self, device: usize) -> Option<(i32, i32)> {
        let d = self.devs.get(device)?;
        d.ovuv_running
            .then(|| (uv_mv(d.uv_code) * 1000, ov_mv(d.ov_code) * 1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_crc_matches_published_frames() {
        // SLVAE86B rev. B Table 1-2 (wire bytes CB 49) and SLUSDQ4 Table 20 (AC 33).
        assert_eq!(crc16(&[0x80, 0x00, 0x02, 0x15, 0x0B, 0xCB, 0x49]), 0);
        assert_eq!(
            crc16(&[
                0x0B, 0x05, 0x02, 0x15, 0xC1, 0x24, 0x45, 0x6F, 0xF4, 0x39, 0x71, 0x20, 0x28, 0x61,
                0x68, 0x1F, 0xAC, 0x33
            ]),
            0
        );
        assert_eq!(crc16(b"123456789"), 0x4B37);
        assert_eq!(cb_seconds(0x10), 7_200);
        assert_eq!(cb_seconds(0x11), 9_000);
        assert_eq!(cb_seconds(0x1E), 32_400);
    }
}
