//! A virtual ADBMS6830-family daisy chain ([`Adbms6830Chain`]) of 1..=16 devices.
//!
//! Checks what the host sends as the silicon does and answers as the silicon does:
//!
//! * command PEC15 (a bad command is ignored and counted in [`Adbms6830Chain::bad_commands`]);
//! * write data PEC10 with **zero** counter bits, per device, farthest device first on the
//!   wire (a bad write frame is ignored by that device, does not increment its counter, and is
//!   counted in [`Adbms6830Chain::bad_writes`]);
//! * read responses: device 0 first, PEC10 over the data **and the device's own command
//!   counter**, which increments per its own INC table (wrap 63 → 1, 0 after power-up,
//!   RSTCC, SRST, sleep); CLOVUV increments only if [`Adbms6830Chain::set_clovuv_increments`]
//!   says so (Rev. SpA) — by default it does not (Rev. 0);
//! * ADCV/ADSV/ADAX/ADAX2 with conversion times (C 1 ms, RD/S 8 ms, AUX 1 ms per channel,
//!   AUX2 8 ms per channel); polls hold SDO low while busy; DCP=1 with CONT=1 is ignored;
//! * cleared registers 0x8000, status values 0x7FFF after power-up/sleep;
//! * OV/UV flags from the configured thresholds after each C conversion (latched until
//!   CLOVUV); THSD when the die is above 150 °C; CS flags when C and S differ beyond CTH;
//! * DCC switches (and MUTE), PWM registers; SNAP holds the result registers until UNSNAP;
//! * sleep after 2 s without a valid command (counter → 0, configuration to defaults,
//!   SLEEP flag); a sleeping chain needs one CS frame per device to wake (each frame wakes the
//!   lowest sleeping device and is otherwise swallowed);
//! * isoSPI idle: a device's port that saw no frame for longer than tIDLE goes IDLE (the sim
//!   uses the data-sheet **minimum**, 4.3 ms, so a driver relying on the typical 5.5 ms
//!   fails here); a frame reaching an idle port wakes it (ready after tREADY = 10 µs, the
//!   maximum) and is lost there and above, exactly like a frame reaching a sleeping device
//!   (ADBMS6830B-DS tIDLE/tREADY). Counted in
//!   [`Adbms6830Chain::lost_frames`];
//! * open sense wires: with the open-wire current on a channel whose wire is open the reading
//!   collapses to 0 V; intact channels read 10/12 (C path) or 9/10 (S path) of the cell;
//! * CFGA FLAG_D (ADBMS6830-SpA Table 104): a FLAG_D bit held for 1 ms
//!   (the model's choice) sets the status-C flags the crate's self-test expects
//!   ([`crate::adbms6830::latent::LatentTest::expected`], an unverified mapping): bit 0 or 1
//!   OSCCHK (and OC_CNTR reads 78 / 44 instead of the normal 61 — the model's values,
//!   around foxBMS 2's 70 / 52 thresholds), bit 2 VA_UV and VD_UV, bits 2+3 VA_OV, VD_OV,
//!   VDE and VDEL, bit 4 THSD, bit 5 CED and SED, bit 6 CMED and SMED, bit 7 TMODCHK;
//!   they stay latched until CLRFLAG after FLAG_D is cleared. Latent faults:
//!   [`Adbms6830Chain::set_flags_never_set`] and [`Adbms6830Chain::set_flags_never_clear`];
//!   a forced THSD can be made to reset a device ([`Adbms6830Chain::set_forced_thsd_resets`]);
//! * every [`InjectedFault`] kind (a `Silent` device still hears and executes commands but
//!   does not drive its response; devices above a `BreakAfter` neither hear nor answer), plus [`Adbms6830Chain::drop_commands`] (a device misses
//!   commands, so its counter falls behind) and an S-path offset for redundancy tests.
//!
//! Simplifications (documented, not silicon facts): the IIR filter and the average settle
//! instantly (FC and AC results equal the C result); RDCSALL/RDACSALL/RDASALL answer
//! with the group images in the ADI reference-code layout (RDASALL group order unverified
//! against the data sheet, see `adbms6830::readall`); COMM/STCOMM is stored but no I2C/SPI slave is modelled.

use core::marker::PhantomData;

use embedded_hal::spi::Operation;

use super::reference;
use super::{Clock, InjectedFault, SimError, SpiModel, VirtualChip, XorShift};
use crate::adbms6830::Variant;

const MAX_CELLS: usize = 18;
const MAX_N: usize = 16;
const MAX_FRAME: usize = 4 + 70 * MAX_N;
const CLEARED: u16 = 0x8000;
const RESET: u16 = 0x7FFF;

/// Result code of a voltage (signed, 150 µV LSB, +1.5 V offset), rounded, saturating. The
/// extreme codes are avoided so a real voltage never looks "not converted".
fn code(uv: i64) -> u16 {
    let d = uv - 1_500_000;
    let q = if d >= 0 {
        (d + 75) / 150
    } else {
        (d - 75) / 150
    };
    q.clamp(-32_767, 32_766) as i16 as u16
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    ready_ns: u64,
    c: Option<[u16; MAX_CELLS]>,
    s: Option<[u16; MAX_CELLS]>,
}

/// tIDLE minimum (ADBMS6830B-DS electrical characteristics): 4.3 ms.
const T_IDLE_NS: u64 = 4_300_000;
/// tREADY maximum: 10 µs.
const T_READY_NS: u64 = 10_000;

#[derive(Debug, Clone, Copy)]
struct Dev {
    awake: bool,
    /// Last frame that reached this device's port.
    last_activity_ns: u64,
    /// Frames before this time are lost at this port (waking from IDLE).
    ready_ns: u64,
    last_valid_ns: u64,
    cc: u8,
    cells_uv: [i32; MAX_CELLS],
    s_offset_uv: [i32; MAX_CELLS],
    gpio_uv: [i32; 10],
    gpio_open: u16,
    die_mc: i32,
    cfga: [u8; 6],
    cfgb: [u8; 6],
    pwma: [u8; 6],
    pwmb: [u8; 6],
    comm: [u8; 6],
    c: [u16; MAX_CELLS],
    s: [u16; MAX_CELLS],
    aux: [u16; 12],
    raux: [u16; 12],
    stata: [u16; 3],
    statb: [u16; 3],
    cs_flt: u16,
    st4: u8,
    st5: u8,
    uv_flags: u32,
    ov_flags: u32,
    conv: Option<Pending>,
    aux_ready_ns: Option<u64>,
    aux2_ready_ns: Option<u64>,
    continuous: bool,
    snap: bool,
    mute: bool,
    sid: [u8; 6],
    drop: u32,
}

const CFGA_DEFAULT: [u8; 6] = [0x01, 0x00, 0x00, 0xFF, 0x03, 0x00];
const CFGB_DEFAULT: [u8; 6] = [0x00, 0xF8, 0x7F, 0x00, 0x00, 0x00];

impl Dev {
    fn new(index: usize) -> Self {
        let mut d = Self {
            awake: false,
            last_activity_ns: 0,
            ready_ns: 0,
            last_valid_ns: 0,
            cc: 0,
            cells_uv: [3_600_000; MAX_CELLS],
            s_offset_uv: [0; MAX_CELLS],
            gpio_uv: [2_000_000; 10],
            gpio_open: 0,
            die_mc: 25_000,
            cfga: CFGA_DEFAULT,
            cfgb: CFGB_DEFAULT,
            pwma: [0; 6],
            pwmb: [0; 6],
            comm: [0; 6],
            c: [CLEARED; MAX_CELLS],
            s: [CLEARED; MAX_CELLS],
            aux: [CLEARED; 12],
            raux: [CLEARED; 12],
            stata: [RESET; 3],
            statb: [RESET; 3],
            cs_flt: 0,
            st4: 0,
            st5: 0,
            uv_flags: 0,
            ov_flags: 0,
            conv: None,
            aux_ready_ns: None,
            aux2_ready_ns: None,
            continuous: false,
            snap: false,
            mute: false,
            sid: [0x30, 0x68, 0x00, 0x00, 0x00, 0x03 << 1],
            drop: 0,
        };
        d.sid[2] = index as u8;
        d.sid[3] = 0xA5;
        d
    }

    /// Power-up / sleep: volatile state lost.
    fn reset(&mut self) {
        self.cc = 0;
        self.cfga = CFGA_DEFAULT;
        self.cfgb = CFGB_DEFAULT;
        self.pwma = [0; 6];
        self.pwmb = [0; 6];
        self.comm = [0; 6];
        self.c = [CLEARED; MAX_CELLS];
        self.s = [CLEARED; MAX_CELLS];
        self.aux = [CLEARED; 12];
        self.raux = [CLEARED; 12];
        self.stata = [RESET; 3];
        self.statb = [RESET; 3];
        self.cs_flt = 0;
        self.st4 = 0;
        self.uv_flags = 0;
        self.ov_flags = 0;
        self.conv = None;
        self.aux_ready_ns = None;
        self.aux2_ready_ns = None;
        self.continuous = false;
        self.snap = false;
        self.mute = false;
    }

    fn inc(&mut self) {
        self.cc = if self.cc >= 63 { 1 } else { self.cc + 1 };
    }

    fn vuv_vov(&self) -> (i32, i32) {
        let b = &self.cfgb;
        let vuv = u16::from(b[0]) | u16::from(b[1] & 0x0F) << 8;
        let vov = u16::from(b[1] >> 4) | u16::from(b[2]) << 4;
        let s = |v: u16| (((v << 4) as i16) >> 4) as i32;
        (s(vuv), s(vov))
    }

    fn cth_uv(&self) -> i32 {
        [5_100, 8_100, 9_000, 10_050, 15_000, 19_950, 25_050, 40_050][(self.cfga[0] & 7) as usize]
    }

    fn settle(&mut self, now: u64) {
        if let Some(p) = self.conv {
            if now >= p.ready_ns && !self.snap {
                if let Some(c) = p.c {
                    self.c = c;
                    let (vuv, vov) = self.vuv_vov();
                    for (k, &x) in c.iter().enumerate().take(16) {
                        let x = i32::from(x as i16);
                        if x > vov * 16 {
                            self.ov_flags |= 1 << k;
                        }
                        if x < vuv * 16 {
                            self.uv_flags |= 1 << k;
                        }
                    }
                }
                if let Some(s) = p.s {
                    self.s = s;
                }
                if let (Some(c), Some(s)) = (p.c, p.s) {
                    let th = self.cth_uv();
                    for k in 0..16 {
                        let d = (i32::from(c[k] as i16) - i32::from(s[k] as i16)).abs() * 150;
                        if d > th {
                            self.cs_flt |= 1 << k;
                        }
                    }
                }
                self.conv = None;
            }
        }
        if self.continuous && self.conv.is_none() && !self.snap {
            // Next continuous result.
            self.conv = Some(Pending {
                ready_ns: now + 1_000_000,
                c: Some(self.measure(false, 0)),
                s: None,
            });
        }
        if let Some(t) = self.aux_ready_ns {
            if now >= t {
                self.aux_ready_ns = None;
            }
        }
        if let Some(t) = self.aux2_ready_ns {
            if now >= t {
                self.aux2_ready_ns = None;
            }
        }
        if self.die_mc > 150_000 {
            self.st5 |= 0x04;
        }
    }

    /// Cell codes as measured; `ow` = OW\[1:0\]; `s_path` selects the S-ADC behaviour.
    fn measure_with(&self, s_path: bool, ow: u8, open: u32) -> [u16; MAX_CELLS] {
        let mut out = [CLEARED; MAX_CELLS];
        for (k, o) in out.iter_mut().enumerate() {
            let mut v = i64::from(self.cells_uv[k]);
            if s_path {
                v += i64::from(self.s_offset_uv[k]);
            }
            // Cell k+1 is odd when k is even; OW=01 even channels, 10 odd, 11 all.
            let pulled = match ow & 3 {
                1 => k % 2 == 1,
                2 => k % 2 == 0,
                3 => true,
                _ => false,
            };
            if pulled {
                let broken = open & (0b11 << k) != 0;
                v = if broken {
                    0
                } else if s_path {
                    v * 9 / 10
                } else {
                    v * 10 / 12
                };
            }
            *o = code(v);
        }
        out
    }

    fn measure(&self, s_path: bool, ow: u8) -> [u16; MAX_CELLS] {
        self.measure_with(s_path, ow, 0)
    }

    fn itmp_code(&self) -> u16 {
        code((i64::from(self.die_mc) + 273_000) * 15 / 2)
    }

    fn gpio_code(&self, k: usize, pull: Option<bool>) -> u16 {
        if self.gpio_open & (1 << k) != 0 {
            if let Some(up) = pull {
                return code(if up { 5_000_000 } else { 0 });
            }
        }
        code(i64::from(self.gpio_uv[k]))
    }

    fn stack_code(&self, cells: usize) -> u16 {
        let sum: i64 = self
            .cells_uv
            .iter()
            .take(cells)
            .map(|&v| i64::from(v))
            .sum();
        code(sum / 25)
    }
}

/// A virtual ADBMS6830-family chain of `N` devices (1..=16), device 0 nearest the host.
/// Starts asleep, as after power-up.
#[derive(Debug, Clone)]
pub struct Adbms6830Chain<V, const N: usize> {
    now_ns: u64,
    devs: [Dev; N],
    corrupt: [Option<(XorShift, u32)>; N],
    silent: [bool; N],
    break_after: Option<u8>,
    open: [u32; N],
    bad_commands: u32,
    bad_writes: u32,
    lost_frames: u32,
    clovuv_inc: bool,
    /// Start time of the frame being clocked: the ports it reached stay active until its
    /// last byte (tIDLE counts from the end of activity), see `Clock::advance_ns`.
    frame_started: Option<u64>,
    latent: [Latent; N],
    _v: PhantomData<V>,
}

impl<V: Variant, const N: usize> Default for Adbms6830Chain<V, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Variant, const N: usize> Adbms6830Chain<V, N> {
    /// A chain at power-up (asleep), every cell at 3.6 V, die at 25 °C, GPIOs at 2 V.
    pub fn new() -> Self {
        const { assert!(N >= 1 && N <= MAX_N) };
        let mut devs = [Dev::new(0); N];
        for (i, d) in devs.iter_mut().enumerate() {
            *d = Dev::new(i);
        }
        Self {
            now_ns: 0,
            devs,
            corrupt: [None; N],
            silent: [false; N],
            break_after: None,
            open: [0; N],
            bad_commands: 0,
            bad_writes: 0,
            lost_frames: 0,
            clovuv_inc: false,
            frame_started: None,
            latent: [Latent::default(); N],
            _v: PhantomData,
        }
    }

    /// The command counter of `device`.
    pub fn counter(&self, device: usize) -> Option<u8> {
        self.devs.get(device).map(|d| d.cc)
    }

    /// Commands rejected for a bad command PEC.
    pub fn bad_commands(&self) -> u32 {
        self.bad_commands
    }

    /// Write frames rejected by a device for a bad data PEC.
    pub fn bad_writes(&self) -> u32 {
        self.bad_writes
    }

    /// Frames lost at a sleeping, idle or not yet ready port (each woke that port).
    pub fn lost_frames(&self) -> u32 {
        self.lost_frames
    }

    /// Rev. SpA behaviour: CLOVUV increments the counter (default: Rev. 0, it does not).
    pub fn set_clovuv_increments(&mut self, on: bool) {
        self.clovuv_inc = on;
    }

    /// Device `device` ignores the next `count` commands (its counter falls behind).
    pub fn drop_commands(&mut self, device: usize, count: u32) {
        if let Some(d) = self.devs.get_mut(device) {
            d.drop = count;
        }
    }

    /// `device` alone resets (a brown-out or power-on reset while the rest of the chain
    /// stays up): counter 0, configuration and results to their power-up values; it stays
    /// awake.
    pub fn reset_device(&mut self, device: usize) {
        if let Some(d) = self.devs.get_mut(device) {
            d.reset();
        }
    }

    /// Adds `uv` to what the S-ADC sees on cell `cell` (0-based) of `device`.
    pub fn set_s_offset(&mut self, device: usize, cell: usize, uv: i32) {
        if let Some(x) = self
            .devs
            .get_mut(device)
            .and_then(|d| d.s_offset_uv.get_mut(cell))
        {
            *x = uv;
        }
    }

    /// Sets the voltage on GPIO `gpio` (1..=10) of `device`.
    pub fn set_gpio(&mut self, device: usize, gpio: usize, uv: i32) {
        if let Some(x) = self
            .devs
            .get_mut(device)
            .and_then(|d| gpio.checked_sub(1).and_then(|g| d.gpio_uv.get_mut(g)))
        {
            *x = uv;
        }
    }

    /// Leaves GPIO `gpio` (1..=10) of `device` floating (aux open wire).
    pub fn set_gpio_open(&mut self, device: usize, gpio: usize, open: bool) {
        if let (Some(d), Some(g)) = (self.devs.get_mut(device), gpio.checked_sub(1)) {
            if g < 10 {
                if open {
                    d.gpio_open |= 1 << g;
                } else {
                    d.gpio_open &= !(1 << g);
                }
            }
        }
    }

    /// Raw CFGA and CFGB data bytes of `device`.
    pub fn config(&self, device: usize) -> Option<([u8; 6], [u8; 6])> {
        self.devs.get(device).map(|d| (d.cfga, d.cfgb))
    }

    /// PWMA and PWMB data bytes of `device`.
    pub fn pwm(&self, device: usize) -> Option<([u8; 6], [u8; 6])> {
        self.devs.get(device).map(|d| (d.pwma, d.pwmb))
    }

    /// `true` if `device` is muted.
    pub fn muted(&self, device: usize) -> bool {
        self.devs.get(device).is_some_and(|d| d.mute)
    }

    /// Model time in ns.
    pub fn now_ns(&self) -> u64 {
        self.now_ns
    }

    fn reachable(&self) -> usize {
        match self.break_after {
            Some(a) => (usize::from(a) + 1).min(N),
            None => N,
        }
    }

    /// Device `d` hears commands (below any break). A silent device still hears and acts;
    /// it only stops driving its response frame.
    fn alive(&self, d: usize) -> bool {
        d < self.reachable()
    }

    /// Device `d` drives its response frame.
    fn answers(&self, d: usize) -> bool {
        self.alive(d) && !self.silent.get(d).copied().unwrap_or(true)
    }

    /// Handles one complete frame (MOSI in `mosi`), writes MISO into `miso`.
    fn frame(&mut self, mosi: &[u8], miso: &mut [u8]) {
        miso.fill(0xFF);
        let now = self.now_ns;
        self.frame_started = Some(now);
        // The frame travels up the chain port by port. A sleeping device wakes (its core and
        // port) and swallows the frame; an idle port (no frame for > tIDLE) wakes, ready after
        // tREADY, and swallows it; a port still waking loses it.
        let reach = self.reachable();
        for d in self.devs.iter_mut().take(reach) {
            let idle = now.saturating_sub(d.last_activity_ns) > T_IDLE_NS;
            let waking = now < d.ready_ns;
            d.last_activity_ns = now;
            if !d.awake {
                d.awake = true;
                d.last_valid_ns = now;
                self.lost_frames += 1;
                return;
            }
            if waking {
                self.lost_frames += 1;
                return;
            }
            if idle {
                d.ready_ns = now + T_READY_NS;
                self.lost_frames += 1;
                return;
            }
        }
        let Some((cmd, data)) = mosi.split_first_chunk::<4>() else {
            return;
        };
        let cc = u16::from(cmd[0]) << 8 | u16::from(cmd[1]);
        let pec = reference::pec15(&cmd[..2]);
        if cmd[0] > 0x07 || u16::from(cmd[2]) << 8 | u16::from(cmd[3]) != pec {
            self.bad_commands += 1;
            return;
        }
        for d in 0..reach {
            if self.alive(d) {
                let dev = &mut self.devs[d];
                dev.last_valid_ns = now;
                dev.settle(now);
            }
        }
        self.latent_tick();
        let Some(resp) = miso.get_mut(4..) else {
            return;
        };
        match cc {
            // ---- reads of 6-byte groups
            0x002
            | 0x026
            | 0x004
            | 0x006
            | 0x008
            | 0x00A
            | 0x009
            | 0x00B
            | 0x044
            | 0x046
            | 0x048
            | 0x04A
            | 0x049
            | 0x04B
            | 0x003
            | 0x005
            | 0x007
            | 0x00D
            | 0x00E
            | 0x00F
            | 0x012..=0x017
            | 0x019..=0x01F
            | 0x025
            | 0x030..=0x034
            | 0x072
            | 0x022
            | 0x023
            | 0x722
            | 0x02C => self.read(cc, resp, 8),
            0x00C | 0x04C | 0x010 | 0x018 => self.read(cc, resp, 34),
            // wide read-alls: RDCSALL, RDACSALL (64 data bytes), RDASALL (68)
            0x011 | 0x051 => self.read(cc, resp, 66),
            0x035 => self.read(cc, resp, 70),
            // ---- writes (6 data bytes per device, farthest first)
            0x001 | 0x024 | 0x020 | 0x021 | 0x721 | 0x717 | 0x715 => self.write(cc, data),
            // ---- polls
            0x718 | 0x71C | 0x71D | 0x71E | 0x71F => {
                let mut busy = false;
                for d in 0..reach {
                    if !self.alive(d) || self.take_drop(d) {
                        continue;
                    }
                    let dev = &mut self.devs[d];
                    dev.inc();
                    let c_busy = dev.conv.is_some_and(|p| p.c.is_some()) && !dev.continuous;
                    let s_busy = dev.conv.is_some_and(|p| p.s.is_some());
                    busy |= match cc {
                        0x718 => {
                            c_busy
                                || s_busy
                                || dev.aux_ready_ns.is_some()
                                || dev.aux2_ready_ns.is_some()
                        }
                        0x71C => c_busy,
                        0x71D => s_busy,
                        0x71E => dev.aux_ready_ns.is_some(),
                        _ => dev.aux2_ready_ns.is_some(),
                    };
                }
                resp.fill(if busy { 0x00 } else { 0xFF });
            }
            _ => self.command(cc),
        }
        self.latent_tick();
    }

    fn take_drop(&mut self, d: usize) -> bool {
        let dev = &mut self.devs[d];
        if dev.drop > 0 {
            dev.drop -= 1;
            true
        } else {
            false
        }
    }

    fn group(&self, d: usize, cc: u16, out: &mut [u8]) {
        if matches!(cc, 0x011 | 0x051 | 0x035) {
            return self.group_wide(d, cc, out);
        }
        let dev = &self.devs[d];
        let mut w = [0xFFFFu16; 16];
        let cells = |src: &[u16; MAX_CELLS], g: usize, w: &mut [u16; 16]| {
            for (j, x) in w.iter_mut().enumerate().take(3) {
                let k = 3 * g + j;
                if k < V::CELLS {
                    *x = src[k];
                }
            }
        };
        match cc {
            0x002 => return out[..6].copy_from_slice(&dev.cfga),
            0x026 => return out[..6].copy_from_slice(&dev.cfgb),
            0x022 => return out[..6].copy_from_slice(&dev.pwma),
            0x023 => return out[..6].copy_from_slice(&dev.pwmb),
            0x722 => return out[..6].copy_from_slice(&dev.comm),
            0x02C => return out[..6].copy_from_slice(&dev.sid),
            0x032 | 0x072 => {
                let mut b = [0u8; 6];
                b[..2].copy_from_slice(&dev.cs_flt.to_le_bytes());
                b[4] = dev.st4;
                b[5] = dev.st5 | if cc == 0x072 { 0x10 } else { 0 };
                return out[..6].copy_from_slice(&b);
            }
            0x033 => {
                let mut x = 0u32;
                for k in 0..16 {
                    x |= ((dev.uv_flags >> k) & 1) << (2 * k);
                    x |= ((dev.ov_flags >> k) & 1) << (2 * k + 1);
                }
                let b = x.to_le_bytes();
                return out[..6].copy_from_slice(&[b[0], b[1], b[2], b[3], 0xFF, self.oc_cntr(d)]);
            }
            0x034 => return out[..6].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x10]),
            0x004 | 0x044 | 0x012 => cells(&dev.c, 0, &mut w),
            0x006 | 0x046 | 0x013 => cells(&dev.c, 1, &mut w),
            0x008 | 0x048 | 0x014 => cells(&dev.c, 2, &mut w),
            0x00A | 0x04A | 0x015 => cells(&dev.c, 3, &mut w),
            0x009 | 0x049 | 0x016 => cells(&dev.c, 4, &mut w),
            0x00B | 0x04B | 0x017 => cells(&dev.c, 5, &mut w),
            0x003 => cells(&dev.s, 0, &mut w),
            0x005 => cells(&dev.s, 1, &mut w),
            0x007 => cells(&dev.s, 2, &mut w),
            0x00D => cells(&dev.s, 3, &mut w),
            0x00E => cells(&dev.s, 4, &mut w),
            0x00F => cells(&dev.s, 5, &mut w),
            0x019 => w[..3].copy_from_slice(&dev.aux[0..3]),
            0x01A => w[..3].copy_from_slice(&dev.aux[3..6]),
            0x01B => w[..3].copy_from_slice(&dev.aux[6..9]),
            0x01F => w[..3].copy_from_slice(&dev.aux[9..12]),
            0x01C => w[..3].copy_from_slice(&dev.raux[0..3]),
            0x01D => w[..3].copy_from_slice(&dev.raux[3..6]),
            0x01E => w[..3].copy_from_slice(&dev.raux[6..9]),
            0x025 => w[..3].copy_from_slice(&dev.raux[9..12]),
            0x030 => {
                w[0] = dev.stata[0];
                w[1] = dev.stata[1];
            }
            0x031 => w[..3].copy_from_slice(&dev.statb),
            // read-all: 16 words
            0x00C | 0x04C | 0x018 => w.copy_from_slice(&dev.c[..16]),
            0x010 => w.copy_from_slice(&dev.s[..16]),
            _ => {}
        }
        for (o, x) in out.chunks_exact_mut(2).zip(w.iter()) {
            o.copy_from_slice(&x.to_le_bytes());
        }
    }

    fn read(&mut self, cc: u16, resp: &mut [u8], len: usize) {
        for (d, f) in resp.chunks_mut(len).enumerate().take(N) {
            if f.len() != len || !self.answers(d) {
                continue;
            }
            if self.take_drop(d) {
                continue;
            }
            let data_len = len - 2;
            let mut buf = [0u8; 70];
            self.group(d, cc, &mut buf[..data_len]);
            let cnt = self.devs[d].cc;
            let p = reference::pec10(&buf[..data_len], cnt);
            buf[data_len] = (cnt << 2) | (p >> 8) as u8;
            buf[data_len + 1] = p as u8;
            f.copy_from_slice(&buf[..len]);
            if let Some((rng, left)) = &mut self.corrupt[d] {
                if *left > 0 {
                    let bit = rng.below(8 * len as u32) as usize;
                    f[bit / 8] ^= 0x80 >> (bit % 8);
                    if *left != u32::MAX {
                        *left -= 1;
                    }
                }
            }
        }
    }

    fn write(&mut self, cc: u16, data: &[u8]) {
        for d in 0..self.reachable() {
            if !self.alive(d) || self.take_drop(d) {
                continue;
            }
            // Device d receives the (N − 1 − d)-th frame on the wire.
            let Some(f) = data.get(8 * (N - 1 - d)..8 * (N - d)) else {
                self.bad_writes += 1;
                continue;
            };
            let (payload, p) = f.split_at(6);
            let got = u16::from(p[0]) << 8 | u16::from(p[1]);
            if got != reference::pec10(payload, 0) {
                self.bad_writes += 1;
                continue;
            }
            let mut b = [0u8; 6];
            b.copy_from_slice(payload);
            let dev = &mut self.devs[d];
            match cc {
                0x001 => {
                    dev.cfga = [
                        b[0] & 0x87,
                        b[1],
                        b[2] & 0xF8,
                        b[3],
                        b[4] & 0x03,
                        (b[5] & 0x0F) | (dev.cfga[5] & 0x30),
                    ]
                }
                0x024 => dev.cfgb = b,
                0x020 => dev.pwma = b,
                0x021 => dev.pwmb = b,
                0x721 => dev.comm = b,
                0x717 => {
                    dev.cs_flt &= !u16::from_le_bytes([b[0], b[1]]);
                    dev.st4 &= !b[4];
                    dev.st5 &= !b[5];
                }
                _ => {
                    // CLOVUV
                    dev.uv_flags = 0;
                    dev.ov_flags = 0;
                    if !self.clovuv_inc {
                        continue;
                    }
                }
            }
            dev.inc();
        }
    }

    fn command(&mut self, cc: u16) {
        let now = self.now_ns;
        for d in 0..self.reachable() {
            if !self.alive(d) || self.take_drop(d) {
                continue;
            }
            let open = self.open[d];
            let dev = &mut self.devs[d];
            let inc = match cc {
                0x02E => {
                    dev.cc = 0;
                    false
                }
                0x027 => {
                    dev.reset();
                    false
                }
                0x028 | 0x029 => {
                    dev.mute = cc == 0x028;
                    dev.cfga[5] = (dev.cfga[5] & !0x10) | if dev.mute { 0x10 } else { 0 };
                    true
                }
                0x02D | 0x02F => {
                    dev.snap = cc == 0x02D;
                    dev.cfga[5] = (dev.cfga[5] & !0x20) | if dev.snap { 0x20 } else { 0 };
                    if !dev.snap {
                        dev.settle(now);
                    }
                    true
                }
                0x711 => {
                    dev.c = [CLEARED; MAX_CELLS];
                    true
                }
                0x714 => true,
                0x712 => {
                    dev.aux = [CLEARED; 12];
                    dev.raux = [CLEARED; 12];
                    dev.stata = [CLEARED; 3];
                    dev.statb = [CLEARED; 3];
                    true
                }
                0x716 => {
                    dev.s = [CLEARED; MAX_CELLS];
                    true
                }
                0x723 => true,
                // ADCV
                c if c & 0x668 == 0x260 => {
                    let rd = c & 0x100 != 0;
                    let cont = c & 0x080 != 0;
                    let dcp = c & 0x010 != 0;
                    if dcp && cont {
                        continue;
                    }
                    let ow = (c & 3) as u8;
                    dev.continuous = cont;
                    dev.conv = Some(Pending {
                        ready_ns: now + if rd { 8_000_000 } else { 1_000_000 },
                        c: Some(dev.measure_with(false, ow, open)),
                        s: if rd {
                            Some(dev.measure_with(true, 0, open))
                        } else {
                            None
                        },
                    });
                    true
                }
                // ADSV
                c if c & 0x76C == 0x168 => {
                    let cont = c & 0x080 != 0;
                    let dcp = c & 0x010 != 0;
                    if dcp && cont {
                        continue;
                    }
                    let ow = (c & 3) as u8;
                    let s = dev.measure_with(true, ow, open);
                    let prev_c = dev.conv.and_then(|p| p.c);
                    dev.conv = Some(Pending {
                        ready_ns: now + 8_000_000,
                        c: prev_c,
                        s: Some(s),
                    });
                    true
                }
                // ADAX
                c if c & 0x630 == 0x410 => {
                    let ch = (c & 0x0F) | (c & 0x40) >> 2;
                    let pull = if c & 0x100 != 0 {
                        Some(c & 0x080 != 0)
                    } else {
                        None
                    };
                    let mut n = 1;
                    match ch {
                        0 => {
                            for k in 0..10 {
                                dev.aux[k] = dev.gpio_code(k, pull);
                            }
                            dev.aux[10] = code(0);
                            dev.aux[11] = dev.stack_code(V::CELLS);
                            dev.stata = [code(3_000_000), dev.itmp_code(), RESET];
                            dev.statb = [code(3_300_000), code(5_000_000), code(2_000_000)];
                            n = 18;
                        }
                        1..=10 => {
                            dev.aux[usize::from(ch - 1)] = dev.gpio_code(usize::from(ch - 1), pull)
                        }
                        0x10 => dev.stata[0] = code(3_000_000),
                        0x11 => dev.statb[0] = code(3_300_000),
                        0x12 => dev.statb[1] = code(5_000_000),
                        0x13 => dev.stata[1] = dev.itmp_code(),
                        0x14 => dev.aux[11] = dev.stack_code(V::CELLS),
                        0x15 => dev.aux[10] = code(0),
                        0x16 => dev.statb[2] = code(2_000_000),
                        _ => {}
                    }
                    dev.aux_ready_ns = Some(now + n * 1_000_000);
                    true
                }
                // ADAX2
                c if c & 0x7F0 == 0x400 => {
                    let ch = usize::from(c & 0x0F);
                    let n = if ch == 0 { 10 } else { 1 };
                    for k in 0..10 {
                        if ch == 0 || ch == k + 1 {
                            dev.raux[k] = dev.gpio_code(k, None);
                        }
                    }
                    dev.aux2_ready_ns = Some(now + n * 8_000_000);
                    true
                }
                _ => false,
            };
            if inc {
                dev.inc();
            }
        }
    }

    /// The data of the wide read-alls, assembled from the same register images the group
    /// reads answer with (ADI reference code layout; see `adbms6830::readall`):
    /// RDCSALL = C cells 1–16 ‖ S cells 1–16; RDACSALL = averaged ‖ S; RDASALL = AUXA..D
    /// (24) ‖ RAXA..C + RAXD word 0 (20) ‖ STATA ‖ STATB ‖ STATC bytes 0, 1, 4, 5 ‖ STATD ‖
    /// STATE bytes 4, 5.
    fn group_wide(&self, d: usize, cc: u16, out: &mut [u8]) {
        let mut g = [0u8; 32];
        let mut at = 0usize;
        let mut put = |src: &[u8], out: &mut [u8]| {
            if let Some(o) = out.get_mut(at..at + src.len()) {
                o.copy_from_slice(src);
            }
            at += src.len();
        };
        let parts: &[(u16, &[usize])] = match cc {
            0x011 => &[(0x00C, &[]), (0x010, &[])],
            0x051 => &[(0x04C, &[]), (0x010, &[])],
            _ => &[
                (0x019, &[]),
                (0x01A, &[]),
                (0x01B, &[]),
                (0x01F, &[]),
                (0x01C, &[]),
                (0x01D, &[]),
                (0x01E, &[]),
                (0x025, &[0, 1]),
                (0x030, &[]),
                (0x031, &[]),
                (0x032, &[0, 1, 4, 5]),
                (0x033, &[]),
                (0x034, &[4, 5]),
            ],
        };
        for &(code, pick) in parts {
            let len = if matches!(code, 0x00C | 0x04C | 0x010) {
                32
            } else {
                6
            };
            self.group(d, code, &mut g[..len]);
            if pick.is_empty() {
                put(&g[..len], out);
            } else {
                for &i in pick {
                    put(&g[i..i + 1], out);
                }
            }
        }
    }

    fn check_sleep(&mut self) {
        let now = self.now_ns;
        for d in self.devs.iter_mut() {
            if d.awake && now.saturating_sub(d.last_valid_ns) >= 2_000_000_000 {
                d.reset();
                d.awake = false;
                d.st5 |= 0x08;
            }
        }
    }
}

impl<V: Variant, const N: usize> Clock for Adbms6830Chain<V, N> {
    fn advance_ns(&mut self, ns: u64) {
        self.now_ns = self.now_ns.saturating_add(ns);
        // The first advance after a frame is its own duration (the framework charges the
        // bytes after the transaction): the ports the frame reached (their last activity is
        // its start) were active until its end. Long frames (a 16-device RDCSALL lasts
        // 8.5 ms) would otherwise look like more than tIDLE of silence.
        if let Some(t) = self.frame_started.take() {
            let end = self.now_ns;
            for d in self.devs.iter_mut().filter(|d| d.last_activity_ns == t) {
                d.last_activity_ns = end;
            }
        }
        self.check_sleep();
        let now = self.now_ns;
        for d in self.devs.iter_mut().filter(|d| d.awake) {
            d.settle(now);
        }
        self.latent_tick();
    }
}

impl<V: Variant, const N: usize> SpiModel for Adbms6830Chain<V, N> {
    fn transaction(&mut self, ops: &mut [Operation<'_, u8>]) -> Result<(), SimError> {
        let mut mosi = [0xFFu8; MAX_FRAME];
        let mut len = 0usize;
        for op in ops.iter() {
            let src: &[u8] = match op {
                Operation::Write(b) => b,
                Operation::TransferInPlace(b) => b,
                Operation::Transfer(_, w) => w,
                Operation::Read(b) => {
                    len += b.len();
                    continue;
                }
                Operation::DelayNs(_) => continue,
            };
            for &x in src {
                if let Some(m) = mosi.get_mut(len) {
                    *m = x;
                }
                len += 1;
            }
        }
        let len = len.min(MAX_FRAME);
        let mut miso = [0xFFu8; MAX_FRAME];
        self.frame(&mosi[..len], &mut miso[..len]);
        let mut pos = 0usize;
        for op in ops.iter_mut() {
            match op {
                Operation::Write(b) => pos += b.len(),
                Operation::TransferInPlace(b) | Operation::Read(b) => {
                    for x in b.iter_mut() {
                        *x = miso.get(pos).copied().unwrap_or(0xFF);
                        pos += 1;
                    }
                }
                Operation::Transfer(r, w) => {
                    let n = r.len().max(w.len());
                    for (i, x) in r.iter_mut().enumerate() {
                        *x = miso.get(pos + i).copied().unwrap_or(0xFF);
                    }
                    pos += n;
                }
                Operation::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}

impl<V: Variant, const N: usize> VirtualChip for Adbms6830Chain<V, N> {
    fn device_count(&self) -> usize {
        N
    }

    fn cells_per_device(&self) -> usize {
        V::CELLS
    }

    fn set_cell_voltage(&mut self, device: usize, cell: usize, microvolts: i32) {
        if cell < V::CELLS {
            if let Some(x) = self
                .devs
                .get_mut(device)
                .and_then(|d| d.cells_uv.get_mut(cell))
            {
                *x = microvolts;
            }
        }
    }

    fn set_temperature(&mut self, device: usize, millicelsius: i32) {
        if let Some(d) = self.devs.get_mut(device) {
            d.die_mc = millicelsius;
        }
    }

    fn set_current(&mut self, _microamps: i64) {}

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
            InjectedFault::Silent { device } => {
                if let Some(s) = self.silent.get_mut(usize::from(device)) {
                    *s = true;
                }
            }
            InjectedFault::BreakAfter { after } => self.break_after = Some(after),
            InjectedFault::OpenWire { device, wire } => {
                if let Some(o) = self.open.get_mut(usize::from(device)) {
                    if wire <= 18 {
                        *o |= 1 << wire;
                    }
                }
            }
        }
    }

    fn clear_faults(&mut self) {
        self.corrupt = [None; N];
        self.silent = [false; N];
        self.break_after = None;
        self.open = [0; N];
    }

    fn balancing(&self, device: usize) -> u32 {
        self.devs
            .get(device)
            .map(|d| {
                if d.mute || !d.awake {
                    0
                } else {
                    u32::from(d.cfgb[4]) | u32::from(d.cfgb[5]) << 8
                }
            })
            .unwrap_or(0)
    }

    fn sleep(&mut self) {
        for d in self.devs.iter_mut() {
            d.reset();
            d.awake = false;
            d.st5 |= 0x08;
        }
    }

    fn is_awake(&self) -> bool {
        self.devs.iter().all(|d| d.awake)
    }

    fn cell_lsb_uv(&self) -> i32 {
        150
    }
    fn elapsed_ns(&self) -> Option<u64> {
        Some(self.now_ns)
    }
    /// ADBMS6830B-DS CFGB: threshold = code · 16 · 150 µV + 1.5 V (signed 12-bit codes).
    /// `None` while a threshold sits outside the measurable cell range (the power-up
    /// defaults −3.4152 V / +6.4128 V leave no window to test).
    fn cell_thresholds_uv(&self, device: usize) -> Option<(i32, i32)> {
        let (vuv, vov) = self.devs.get(device)?.vuv_vov();
        let (uv, ov) = (vuv * 2_400 + 1_500_000, vov * 2_400 + 1_500_000);
        (uv > 100_000 && ov < 6_000_000 && ov > uv).then_some((uv, ov))
    }
}

// ---- FLAG_D latent-fault model ------------------------------------------------------------

/// FLAG_D must be held this long before the forced flags appear (the model's choice; the
/// data sheet's figure is not in the notes).
const FLAG_D_SETTLE_NS: u64 = 1_000_000;
/// OC_CNTR normal / forced fast / forced slow (the model's values).
const OC_NORMAL: u8 = 61;
const OC_FAST: u8 = 78;
const OC_SLOW: u8 = 44;

/// Per-device FLAG_D state and latent-fault injection.
#[derive(Debug, Clone, Copy, Default)]
struct Latent {
    /// FLAG_D as last seen, and since when.
    flag_d: u8,
    since_ns: u64,
    /// STCR4/STCR5 bits whose detector is broken: they never set.
    never_set: (u8, u8),
    /// STCR4/STCR5 bits stuck high: they never clear.
    never_clear: (u8, u8),
    /// A forced THSD resets the device like a real thermal shutdown might.
    thsd_resets: bool,
}

/// STCR4/STCR5 flags a FLAG_D value forces (the crate's unverified mapping; see the module
/// docs).
fn forced_flags(fd: u8) -> (u8, u8) {
    let (mut st4, mut st5) = (0u8, 0u8);
    if fd & 0x03 != 0 {
        st5 |= 0x01; // OSCCHK
    }
    if fd & 0x04 != 0 {
        if fd & 0x08 != 0 {
            st4 |= 0x80 | 0x20; // VA_OV, VD_OV
            st5 |= 0x80 | 0x40; // VDEL, VDE
        } else {
            st4 |= 0x40 | 0x10; // VA_UV, VD_UV
        }
    }
    if fd & 0x10 != 0 {
        st5 |= 0x04; // THSD
    }
    if fd & 0x20 != 0 {
        st4 |= 0x08 | 0x02; // CED, SED
    }
    if fd & 0x40 != 0 {
        st4 |= 0x04 | 0x01; // CMED, SMED
    }
    if fd & 0x80 != 0 {
        st5 |= 0x02; // TMODCHK
    }
    (st4, st5)
}

impl<V: Variant, const N: usize> Adbms6830Chain<V, N> {
    /// Latent fault: on `device`, the STCR4 bits `stcr4` and STCR5 bits `stcr5` never set
    /// (their detector is broken), whether forced through FLAG_D or by a real event. 0, 0
    /// repairs it.
    pub fn set_flags_never_set(&mut self, device: usize, stcr4: u8, stcr5: u8) {
        if let Some(l) = self.latent.get_mut(device) {
            l.never_set = (stcr4, stcr5);
        }
        self.latent_tick();
    }

    /// On `device`, the STCR4 bits `stcr4` and STCR5 bits `stcr5` are stuck high: CLRFLAG
    /// does not clear them. 0, 0 repairs it.
    pub fn set_flags_never_clear(&mut self, device: usize, stcr4: u8, stcr5: u8) {
        if let Some(l) = self.latent.get_mut(device) {
            l.never_clear = (stcr4, stcr5);
        }
        self.latent_tick();
    }

    /// A forced THSD (FLAG_D bit 4) makes `device` reset like a real thermal shutdown might
    /// (counter 0, configuration and results to their power-up values; THSD stays set): a
    /// silicon behaviour the notes neither confirm nor rule out. Off by default.
    pub fn set_forced_thsd_resets(&mut self, device: usize, on: bool) {
        if let Some(l) = self.latent.get_mut(device) {
            l.thsd_resets = on;
        }
    }

    /// Raw STATC bytes 4 and 5 (STCR4, STCR5) of `device`, as the chip holds them.
    pub fn status_flags(&self, device: usize) -> Option<(u8, u8)> {
        self.devs.get(device).map(|d| (d.st4, d.st5))
    }

    /// OC_CNTR of device `d`.
    fn oc_cntr(&self, d: usize) -> u8 {
        let Some(l) = self.latent.get(d) else {
            return OC_NORMAL;
        };
        let held = self.now_ns.saturating_sub(l.since_ns) >= FLAG_D_SETTLE_NS;
        match l.flag_d & 0x03 {
            0x01 if held => OC_FAST,
            0x02 if held => OC_SLOW,
            _ => OC_NORMAL,
        }
    }

    /// Tracks FLAG_D changes and applies forced and stuck flags.
    fn latent_tick(&mut self) {
        let now = self.now_ns;
        for (dev, l) in self.devs.iter_mut().zip(self.latent.iter_mut()) {
            if dev.cfga[1] != l.flag_d {
                l.flag_d = dev.cfga[1];
                l.since_ns = now;
            }
            if dev.awake && l.flag_d != 0 && now.saturating_sub(l.since_ns) >= FLAG_D_SETTLE_NS {
                let (f4, f5) = forced_flags(l.flag_d);
                if l.flag_d & 0x10 != 0 && l.thsd_resets {
                    dev.reset();
                    l.flag_d = dev.cfga[1];
                    l.since_ns = now;
                }
                dev.st4 |= f4;
                dev.st5 |= f5;
            }
            dev.st4 = (dev.st4 | l.never_clear.0) & !l.never_set.0;
            dev.st5 = (dev.st5 | l.never_clear.1) & !l.never_set.1;
        }
    }
}
