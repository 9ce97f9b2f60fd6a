//! A virtual BQ76952 on I2C (plain and CRC mode).
//!
//! Modelled as the silicon behaves at the register level (BQ76952 TRM SLUUBY2B and
//! BQ769x2 Software Development Guide SLUAA11B; see [`crate::bq769x2`] for the sources):
//!
//! * I2C at 7-bit address 0x08; in CRC mode every written byte's CRC is checked and a bad
//!   one is **NACKed** (the write is dropped); reads carry CRCs with the repeated-start
//!   coverage (`addr<<1, reg, addr<<1|1, d0`, later bytes alone).
//! * Direct commands: cells (mV), stack/PACK/LD (userV), CC2 (userA), temperatures (0.1 K),
//!   Battery/Control/Safety/PF/Alarm/FET status.
//! * Subcommands: the 0x3E/0x3F echo appears after a short processing time (polled by the
//!   host; reads 0xFF meanwhile), responses carry checksum and length at 0x60/0x61; writes are
//!   committed only when 0x61 is written with a matching checksum and length.
//! * **Reading 0x61 advances 0x3E/0x3F by 0x20 and refills the buffer** (the next
//!   data-memory block; other subcommand responses are cleared). This is documented for the
//!   BQ7690x (BQ76907 TRM SLUUCJ0 §3.1) and applied here conservatively: whichever way the
//!   bq769x2 behaves, a host must read the data before 0x60/0x61.
//! * Data memory 0x9180..0x93FF with defaults, readable when not SEALED, writable only in
//!   CONFIG_UPDATE (which needs FULLACCESS; the CFGUPDATE bit follows SET_CFGUPDATE /
//!   EXIT_CFGUPDATE after a delay). RESET restores the defaults.
//! * Security SEALED → UNSEALED → FULLACCESS with two-word keys (defaults 0x0414/0x3672 and
//!   0xFFFF/0xFFFF, settable with [`Bq76952Sim::set_keys`]).
//! * FETs: FET_EN (FET_ENABLE toggles it; off after reset as from the factory), FET_CONTROL
//!   host overrides, protections (COV turns CHG off, CUV turns DSG off when enabled in
//!   Enabled Protections A and the CHG/DSG FET Protections), all off in CONFIG_UPDATE.
//! * Host balancing through CB_ACTIVE_CELLS (connected inputs only; adjacent connected cells
//!   and more than Cell Balance Max Cells are refused, the register then keeps its value), in
//!   every security state, SEALED included (SLUAA81A "Host-Controlled Balancing": "these
//!   subcommands are also accessible in SEALED mode"); writes are ignored while Balancing
//!   Configuration CB_NO_CMD (0x9335 bit 4) is set.
//!
//! Model choices (not silicon facts): the die and every pin report the one temperature set
//! with [`VirtualChip::set_temperature`]; PACK and LD equal the stack voltage; Cell Balance Max
//! Cells defaults to 16 here; an open sense wire `k` makes cell `k` read 0 V and cell `k + 1`
//! read the sum of both (the floating node follows the node below), wire 0 / wire `n` zero
//! the bottom / top cell.
//!
//! Fault injection: `CorruptResponses` flips one seeded bit in each of the next read frames
//! (detected by the CRC in CRC mode and by the checksum on subcommand data; in plain mode
//! direct reads have no integrity code, as on the silicon); `Silent` NACKs everything;
//! `OpenWire` as above; `BreakAfter` has nothing to break on a single chip.

use embedded_hal::i2c::{Operation, SevenBitAddress};

use super::reference::crc8 as crc8_smbus;
use super::{Clock, I2cModel, InjectedFault, SimError, VirtualChip, XorShift};

const DM_BASE: u16 = 0x9180;
const DM_SIZE: usize = 0x280;
const SUB_PROCESS_NS: u64 = 150_000;
const CFG_ENTER_NS: u64 = 1_500_000;
const CFG_EXIT_NS: u64 = 800_000;

/// Counters of what the virtual chip refused (for tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq76952Stats {
    /// Writes NACKed for a bad CRC.
    pub crc_nacks: u32,
    /// Transfers refused for a bad checksum or length.
    pub bad_transfers: u32,
    /// Data-memory writes refused (not in CONFIG_UPDATE or not FULLACCESS).
    pub refused_dm_writes: u32,
    /// Data-memory writes accepted.
    pub dm_writes: u32,
    /// CONFIG_UPDATE sessions entered.
    pub config_sessions: u32,
    /// Subcommands refused for the security state.
    pub refused_subcommands: u32,
}

/// The virtual BQ76952.
#[derive(Debug, Clone)]
pub struct Bq76952Sim {
    now_ns: u64,
    address: u8,
    crc: bool,
    cells_uv: [i32; 16],
    temp_mc: i32,
    current_ua: i64,
    sec: u8,
    unseal_keys: (u16, u16),
    full_keys: (u16, u16),
    last_word: Option<u16>,
    dm: [u8; DM_SIZE],
    cfg_update: bool,
    cfg_target: Option<(bool, u64)>,
    fet_en: bool,
    fet_control: u8,
    cb_active: u16,
    cb_writes: u32,
    regs_3e: [u8; 2],
    sub_addr: u16,
    sub_ready_at: u64,
    buf: [u8; 32],
    resp_checksum: u8,
    resp_len: u8,
    w_checksum: u8,
    reg_ptr: u8,
    deep_sleep: bool,
    shut_down: bool,
    last_sub: u16,
    corrupt: Option<(XorShift, u32)>,
    silent: bool,
    open_wire: Option<u8>,
    stats: Bq76952Stats,
}

impl Default for Bq76952Sim {
    fn default() -> Self {
        Self::new()
    }
}

/// Data-memory defaults (BQ76952 defaults where the crate's notes give them: Enabled
/// Protections A 0x88, CHG FET Protections A 0x98, CUV 50, DA Configuration mA + cV).
const DEFAULTS: &[(u16, &[u8])] = &[
    (0x9234, &[0x82, 0x29]), // Power Config
    (0x9261, &[0x88]),       // Enabled Protections A: SCD | COV
    (0x9265, &[0x98]),       // CHG FET Protections A: SCD | OCC | COV
    (0x9269, &[0xE4]),       // DSG FET Protections A: SCD | OCD2 | OCD1 | CUV
    (0x9275, &[50]),         // CUV threshold 2530 mV
    (0x9276, &[74, 0]),      // CUV delay
    (0x9278, &[86]),         // COV threshold 4351.6 mV
    (0x9279, &[74, 0]),      // COV delay
    (0x927B, &[2]),
    (0x927C, &[2]),
    (0x92FD, &[0x07]),       // TS1: thermistor
    (0x9303, &[0x05]),       // DA Configuration: mA, cV
    (0x9304, &[0x00, 0x00]), // Vcell Mode: all inputs
    (0x9308, &[0x0D]),       // FET Options
    (0x9335, &[0x00]),       // Balancing Configuration
    (0x9339, &[20]),
    (0x933A, &[16]), // Cell Balance Max Cells (model default)
];

impl Bq76952Sim {
    /// A virtual BQ76952 in plain I2C mode, SEALED, all 16 inputs at 3.7 V, 25 °C, 0 A.
    pub fn new() -> Self {
        let mut s = Self {
            now_ns: 0,
            address: 0x08,
            crc: false,
            cells_uv: [3_700_000; 16],
            temp_mc: 25_000,
            current_ua: 0,
            sec: 3,
            unseal_keys: (0x0414, 0x3672),
            full_keys: (0xFFFF, 0xFFFF),
            last_word: None,
            dm: [0; DM_SIZE],
            cfg_update: false,
            cfg_target: None,
            fet_en: false,
            fet_control: 0,
            cb_active: 0,
            cb_writes: 0,
            regs_3e: [0; 2],
            sub_addr: 0,
            sub_ready_at: 0,
            buf: [0; 32],
            resp_checksum: 0,
            resp_len: 0,
            w_checksum: 0,
            reg_ptr: 0,
            deep_sleep: false,
            shut_down: false,
            last_sub: 0,
            corrupt: None,
            silent: false,
            open_wire: None,
            stats: Bq76952Stats::default(),
        };
        s.load_defaults();
        s
    }

    /// The same in I2C CRC mode.
    pub fn new_crc() -> Self {
        let mut s = Self::new();
        s.crc = true;
        s
    }

    fn load_defaults(&mut self) {
        self.dm = [0; DM_SIZE];
        for (a, v) in DEFAULTS {
            for (i, b) in v.iter().enumerate() {
                self.dm_set(a.wrapping_add(i as u16), *b);
            }
        }
    }

    /// Switches I2C CRC mode (as Comm Type would).
    pub fn set_crc_mode(&mut self, crc: bool) {
        self.crc = crc;
    }

    /// Sets the unseal and full-access keys.
    pub fn set_keys(&mut self, unseal: (u16, u16), full: (u16, u16)) {
        self.unseal_keys = unseal;
        self.full_keys = full;
    }

    /// Forces the security state: 1 FULLACCESS, 2 UNSEALED, 3 SEALED.
    pub fn set_security(&mut self, sec: u8) {
        self.sec = sec.clamp(1, 3);
    }

    /// Security state (1 FULLACCESS, 2 UNSEALED, 3 SEALED).
    pub fn security(&self) -> u8 {
        self.sec
    }

    /// `true` while in CONFIG_UPDATE.
    pub fn config_update(&self) -> bool {
        self.cfg_update
    }

    /// Manufacturing Status FET_EN.
    pub fn fet_enabled(&self) -> bool {
        self.fet_en
    }

    /// The FET_CONTROL byte last accepted.
    pub fn fet_control(&self) -> u8 {
        self.fet_control
    }

    /// FET Status as it would read now.
    pub fn fet_status(&self) -> u8 {
        self.fets()
    }

    /// CB_ACTIVE_CELLS writes received with a good checksum (accepted or ignored).
    pub fn cb_writes(&self) -> u32 {
        self.cb_writes
    }

    /// CB_ACTIVE_CELLS (physical inputs).
    pub fn cb_active_cells(&self) -> u16 {
        self.cb_active
    }

    /// One data-memory byte (0 outside the modelled range).
    pub fn data_memory(&self, address: u16) -> u8 {
        self.dm_get(address)
    }

    /// Refusal counters.
    pub fn stats(&self) -> Bq76952Stats {
        self.stats
    }

    /// `true` in DEEPSLEEP.
    pub fn deep_sleep(&self) -> bool {
        self.deep_sleep
    }

    fn dm_get(&self, a: u16) -> u8 {
        a.checked_sub(DM_BASE)
            .and_then(|i| self.dm.get(usize::from(i)))
            .copied()
            .unwrap_or(0)
    }

    fn dm_set(&mut self, a: u16, v: u8) {
        if let Some(b) = a
            .checked_sub(DM_BASE)
            .and_then(|i| self.dm.get_mut(usize::from(i)))
        {
            *b = v;
        }
    }

    fn dm_u16(&self, a: u16) -> u16 {
        u16::from_le_bytes([self.dm_get(a), self.dm_get(a.wrapping_add(1))])
    }

    fn connected(&self) -> u16 {
        match self.dm_u16(0x9304) {
            0 => 0xFFFF,
            m => m,
        }
    }

    fn cell_count(&self) -> usize {
        self.connected().count_ones() as usize
    }

    /// Physical input (0-based) of connected cell `k` (0-based).
    fn input_of(&self, k: usize) -> Option<usize> {
        let c = self.connected();
        (0..16).filter(|i| c & (1 << i) != 0).nth(k)
    }

    /// Measured voltage per physical input, µV (open wire applied).
    fn measured(&self) -> [i32; 16] {
        let mut m = self.cells_uv;
        if let Some(w) = self.open_wire {
            let n = self.cell_count();
            let w = usize::from(w);
            if w == 0 {
                if let Some(i) = self.input_of(0) {
                    m[i] = 0;
                }
            } else if w >= n {
                if let Some(i) = self.input_of(n.saturating_sub(1)) {
                    m[i] = 0;
                }
            } else if let (Some(lo), Some(hi)) = (self.input_of(w - 1), self.input_of(w)) {
                m[hi] = m[hi].saturating_add(m[lo]);
                m[lo] = 0;
            }
        }
        m
    }

    fn da(&self) -> u8 {
        self.dm_get(0x9303)
    }

    fn safety(&self) -> (u8, u8, u8) {
        if self.cfg_update {
            return (0, 0, 0);
        }
        let en_a = self.dm_get(0x9261);
        let cov = i64::from(self.dm_get(0x9278)) * 50_600;
        let cuv = i64::from(self.dm_get(0x9275)) * 50_600;
        let m = self.measured();
        let c = self.connected();
        let mut a = 0u8;
        for (i, v) in m.iter().enumerate() {
            if c & (1 << i) == 0 {
                continue;
            }
            if en_a & 0x08 != 0 && i64::from(*v) > cov {
                a |= 0x08;
            }
            if en_a & 0x04 != 0 && i64::from(*v) < cuv {
                a |= 0x04;
            }
        }
        (a, 0, 0)
    }

    fn fets(&self) -> u8 {
        if self.cfg_update || !self.fet_en || self.shut_down {
            return 0;
        }
        let (a, _, _) = self.safety();
        let mut s = 0u8;
        let chg_trip = a & self.dm_get(0x9265) != 0;
        let dsg_trip = a & self.dm_get(0x9269) != 0;
        if self.fet_control & 0x04 == 0 && !chg_trip {
            s |= 0x01;
        }
        if self.fet_control & 0x01 == 0 && !dsg_trip {
            s |= 0x04;
        }
        s
    }

    fn battery_status(&self) -> u16 {
        let (a, b, c) = self.safety();
        let mut v = u16::from(self.sec) << 8;
        if self.cfg_update {
            v |= 1;
        }
        if a | b | c != 0 {
            v |= 1 << 11;
        }
        v
    }

    fn temp_raw(&self) -> u16 {
        ((self.temp_mc.saturating_add(273_150)) / 100) as i16 as u16
    }

    fn word(&self, reg: u8) -> u16 {
        let da = self.da();
        let uv_per = if da & 4 != 0 { 10_000 } else { 1_000 };
        let ua_per: i64 = match da & 3 {
            0 => 100,
            1 => 1_000,
            2 => 10_000,
            _ => 100_000,
        };
        match reg {
            0x00 => u16::from(self.deep_sleep) << 2,
            0x12 => self.battery_status(),
            0x14..=0x33 => {
                let i = usize::from((reg - 0x14) / 2);
                let mv = self.measured().get(i).copied().unwrap_or(0) / 1000;
                mv.clamp(i16::MIN as i32, i16::MAX as i32) as i16 as u16
            }
            0x34..=0x39 => {
                let m = self.measured();
                let c = self.connected();
                let sum: i64 = (0..16)
                    .filter(|i| c & (1 << i) != 0)
                    .map(|i| i64::from(m[i]))
                    .sum();
                (sum / uv_per).clamp(i16::MIN as i64, i16::MAX as i64) as i16 as u16
            }
            0x3A => {
                (self.current_ua / ua_per).clamp(i16::MIN as i64, i16::MAX as i64) as i16 as u16
            }
            0x62 | 0x64 => {
                let (a, b, c) = self.safety();
                let mut v = 0u16;
                if a != 0 {
                    v |= 1 << 14;
                }
                if b | c != 0 {
                    v |= 1 << 15;
                }
                if self.cb_active != 0 {
                    v |= 1 << 2;
                }
                v
            }
            0x66 => 0xF800,
            0x68..=0x7B => self.temp_raw(),
            _ => 0,
        }
    }

    fn read_byte(&self, reg: u8) -> u8 {
        match reg {
            0x02..=0x07 => {
                let (a, b, c) = self.safety();
                match reg {
                    0x02 | 0x03 => a,
                    0x04 | 0x05 => b,
                    _ => c,
                }
            }
            0x3E | 0x3F => {
                if self.now_ns < self.sub_ready_at {
                    0xFF
                } else {
                    self.sub_addr.to_le_bytes()[usize::from(reg - 0x3E)]
                }
            }
            0x40..=0x5F => self.buf[usize::from(reg - 0x40)],
            0x60 => self.resp_checksum,
            0x61 => self.resp_len,
            0x7F => self.fets(),
            _ => {
                let w = self.word(reg & !1);
                w.to_le_bytes()[usize::from(reg & 1)]
            }
        }
    }

    fn tick(&mut self) {
        if let Some((target, at)) = self.cfg_target {
            if self.now_ns >= at {
                self.cfg_update = target;
                self.cfg_target = None;
                if target {
                    self.stats.config_sessions = self.stats.config_sessions.saturating_add(1);
                }
            }
        }
    }

    fn respond(&mut self, data: &[u8]) {
        self.buf = [0; 32];
        let n = data.len().min(32);
        self.buf[..n].copy_from_slice(&data[..n]);
        let mut sum = self.sub_addr.to_le_bytes()[0].wrapping_add(self.sub_addr.to_le_bytes()[1]);
        for b in &data[..n] {
            sum = sum.wrapping_add(*b);
        }
        self.resp_checksum = !sum;
        self.resp_len = n as u8 + 4;
    }

    fn subcommand(&mut self, w: u16) {
        // Security keys arrive as two consecutive words.
        if let Some(prev) = self.last_word {
            if self.sec == 3 && (prev, w) == self.unseal_keys {
                self.sec = 2;
                self.last_word = None;
                return;
            }
            if self.sec == 2 && (prev, w) == self.full_keys {
                self.sec = 1;
                self.last_word = None;
                return;
            }
        }
        self.last_word = Some(w);
        self.sub_addr = w;
        self.sub_ready_at = self.now_ns.saturating_add(SUB_PROCESS_NS);
        let sealed = self.sec == 3;
        let full = self.sec == 1;
        let twice = self.last_sub == w;
        self.last_sub = w;
        match w {
            0x0001 => self.respond(&[0x95, 0x76]),
            0x0002 => self.respond(&[0x95, 0x76, 0x01, 0x00, 0x12, 0x00]),
            0x0003 => self.respond(&[0x00, 0x01]),
            // SEALED answers only the identification reads, EXIT_DEEPSLEEP and the
            // host-balancing command CB_ACTIVE_CELLS ("also accessible in SEALED mode",
            // SLUAA81A "Host-Controlled Balancing").
            _ if sealed && w != 0x000E && w != 0x0083 => {
                self.stats.refused_subcommands = self.stats.refused_subcommands.saturating_add(1);
                self.respond(&[]);
            }
            0x000E => {
                self.deep_sleep = false;
                self.respond(&[]);
            }
            0x000F => {
                if twice {
                    self.deep_sleep = true;
                    self.last_sub = 0;
                }
                self.respond(&[]);
            }
            0x0010 => {
                if twice {
                    self.shut_down = true;
                }
                self.respond(&[]);
            }
            0x0012 => {
                self.load_defaults();
                self.fet_en = false;
                self.fet_control = 0;
                self.cb_active = 0;
                self.cfg_update = false;
                self.cfg_target = None;
                self.respond(&[]);
            }
            0x0022 => {
                self.fet_en = !self.fet_en;
                self.respond(&[]);
            }
            0x0030 => {
                self.sec = 3;
                self.respond(&[]);
            }
            0x0035 if full => {
                let (a, b) = (self.unseal_keys, self.full_keys);
                let mut k = [0u8; 8];
                k[..2].copy_from_slice(&a.0.to_le_bytes());
                k[2..4].copy_from_slice(&a.1.to_le_bytes());
                k[4..6].copy_from_slice(&b.0.to_le_bytes());
                k[6..].copy_from_slice(&b.1.to_le_bytes());
                self.respond(&k);
            }
            0x0057 => {
                let v = u16::from(self.fet_en) << 4;
                self.respond(&v.to_le_bytes());
            }
            0x0071..=0x0077 => self.respond(&[0; 32]),
            0x0083 => self.respond(&self.cb_active.to_le_bytes()),
            0x0090 if full => {
                self.cfg_target = Some((true, self.now_ns.saturating_add(CFG_ENTER_NS)));
                self.respond(&[]);
            }
            0x0092 => {
                if self.cfg_update {
                    self.cfg_target = Some((false, self.now_ns.saturating_add(CFG_EXIT_NS)));
                }
                self.respond(&[]);
            }
            0x0093 => {
                self.fet_control |= 0x03;
                self.respond(&[]);
            }
            0x0094 => {
                self.fet_control |= 0x0C;
                self.respond(&[]);
            }
            0x0095 => {
                self.fet_control = 0x0F;
                self.respond(&[]);
            }
            0x0096 => {
                self.fet_control = 0;
                self.respond(&[]);
            }
            0x0097 => self.respond(&[self.fet_control]),
            0x9180..=0x93FF => {
                let mut b = [0u8; 32];
                for (i, x) in b.iter_mut().enumerate() {
                    *x = self.dm_get(w.wrapping_add(i as u16));
                }
                self.respond(&b);
            }
            _ => self.respond(&[]),
        }
    }

    /// After a read of 0x61: 0x3E/0x3F advance by 0x20 and the buffer is refilled with the
    /// next block (data memory) or cleared (other subcommands; the model's choice). This is
    /// the BQ7690x behaviour (BQ76907 TRM SLUUCJ0 §3.1), applied to the bq769x2 model
    /// conservatively: a host that reads 0x60/0x61 before the data gets the wrong block.
    fn advance_block(&mut self) {
        if self.sub_addr == 0 || self.now_ns < self.sub_ready_at {
            return;
        }
        self.sub_addr = self.sub_addr.wrapping_add(0x20);
        if (DM_BASE..DM_BASE + DM_SIZE as u16).contains(&self.sub_addr) {
            let mut b = [0u8; 32];
            for (i, x) in b.iter_mut().enumerate() {
                *x = self.dm_get(self.sub_addr.wrapping_add(i as u16));
            }
            self.respond(&b);
        } else {
            self.respond(&[]);
        }
    }

    fn commit_transfer(&mut self, len_byte: u8) {
        let n = usize::from(len_byte).wrapping_sub(4);
        if !(4..=36).contains(&len_byte) {
            self.stats.bad_transfers = self.stats.bad_transfers.saturating_add(1);
            return;
        }
        let data = &self.buf[..n];
        let [lo, hi] = self.sub_addr.to_le_bytes();
        let mut sum = lo.wrapping_add(hi);
        for b in data {
            sum = sum.wrapping_add(*b);
        }
        if !sum != self.w_checksum {
            self.stats.bad_transfers = self.stats.bad_transfers.saturating_add(1);
            return;
        }
        let mut d = [0u8; 32];
        d[..n].copy_from_slice(data);
        let a = self.sub_addr;
        match a {
            0x9180..=0x93FF => {
                if self.cfg_update && self.sec == 1 {
                    for (i, b) in d[..n].iter().enumerate() {
                        self.dm_set(a.wrapping_add(i as u16), *b);
                    }
                    self.stats.dm_writes = self.stats.dm_writes.saturating_add(1);
                } else {
                    self.stats.refused_dm_writes = self.stats.refused_dm_writes.saturating_add(1);
                }
            }
            0x0097 if self.sec != 3 && n >= 1 => self.fet_control = d[0] & 0x0F,
            // Any security state (SLUAA81A); ignored with Balancing Configuration
            // CB_NO_CMD (bit 4, 0x9335) set (SLUUBY2B Balancing Configuration).
            0x0083 if n >= 2 => {
                self.cb_writes = self.cb_writes.saturating_add(1);
                let m = u16::from_le_bytes([d[0], d[1]]);
                if self.dm_get(0x9335) & 0x10 == 0 && self.balancing_allowed(m) {
                    self.cb_active = m;
                }
            }
            0x0035 if self.sec == 1 && n >= 8 => {
                self.unseal_keys = (
                    u16::from_le_bytes([d[0], d[1]]),
                    u16::from_le_bytes([d[2], d[3]]),
                );
                self.full_keys = (
                    u16::from_le_bytes([d[4], d[5]]),
                    u16::from_le_bytes([d[6], d[7]]),
                );
            }
            _ => self.stats.refused_subcommands += 1,
        }
    }

    fn balancing_allowed(&self, m: u16) -> bool {
        let c = self.connected();
        if m & !c != 0 || self.cfg_update {
            return false;
        }
        let mut logical = 0u32;
        let mut k = 0;
        for i in 0..16 {
            if c & (1 << i) != 0 {
                if m & (1 << i) != 0 {
                    logical |= 1 << k;
                }
                k += 1;
            }
        }
        logical & (logical >> 1) == 0 && logical.count_ones() <= u32::from(self.dm_get(0x933A))
    }

    fn write_byte(&mut self, reg: u8, v: u8) {
        match reg {
            0x3E | 0x3F => self.regs_3e[usize::from(reg - 0x3E)] = v,
            0x40..=0x5F => self.buf[usize::from(reg - 0x40)] = v,
            0x60 => self.w_checksum = v,
            0x61 => self.commit_transfer(v),
            _ => {}
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), SimError> {
        let Some((&reg, rest)) = bytes.split_first() else {
            return Ok(());
        };
        let mut data = [0u8; 40];
        let n;
        if self.crc {
            if rest.len() % 2 != 0 || rest.len() / 2 > data.len() {
                self.stats.crc_nacks = self.stats.crc_nacks.saturating_add(1);
                return Err(SimError::Nack);
            }
            for (i, p) in rest.chunks_exact(2).enumerate() {
                let c = if i == 0 {
                    crc8_smbus(&[self.address << 1, reg, p[0]])
                } else {
                    crc8_smbus(&[p[0]])
                };
                if c != p[1] {
                    self.stats.crc_nacks = self.stats.crc_nacks.saturating_add(1);
                    return Err(SimError::Nack);
                }
                data[i] = p[0];
            }
            n = rest.len() / 2;
        } else {
            n = rest.len().min(data.len());
            data[..n].copy_from_slice(&rest[..n]);
        }
        self.reg_ptr = reg;
        for (i, &d) in data[..n].iter().enumerate() {
            let r = reg.wrapping_add(i as u8);
            self.write_byte(r, d);
            if r == 0x3F {
                let w = u16::from_le_bytes(self.regs_3e);
                self.subcommand(w);
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], repeated_start: bool) {
        let reg = self.reg_ptr;
        let addr = self.address;
        if self.crc {
            let mut r = reg;
            for (i, pair) in buf.chunks_mut(2).enumerate() {
                let d = self.read_byte(r);
                let c = if i == 0 {
                    if repeated_start {
                        crc8_smbus(&[addr << 1, reg, (addr << 1) | 1, d])
                    } else {
                        crc8_smbus(&[(addr << 1) | 1, d])
                    }
                } else {
                    crc8_smbus(&[d])
                };
                if let Some(x) = pair.get_mut(0) {
                    *x = d;
                }
                if let Some(x) = pair.get_mut(1) {
                    *x = c;
                }
                r = r.wrapping_add(1);
            }
        } else {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.read_byte(reg.wrapping_add(i as u8));
            }
        }
        // Reading 0x61 advances the transfer address by 0x20 and refills the buffer.
        let n = buf.len() / if self.crc { 2 } else { 1 };
        let end = usize::from(reg) + n;
        if n > 0 && usize::from(reg) <= 0x61 && end > 0x61 {
            self.advance_block();
        }
        if let Some((mut rng, left)) = self.corrupt {
            if left > 0 && !buf.is_empty() {
                let bit = rng.below(buf.len() as u32 * 8) as usize;
                buf[bit / 8] ^= 1 << (bit % 8);
                let left = if left == u32::MAX { left } else { left - 1 };
                self.corrupt = Some((rng, left));
            }
        }
    }
}

impl Clock for Bq76952Sim {
    fn advance_ns(&mut self, ns: u64) {
        self.now_ns = self.now_ns.saturating_add(ns);
        self.tick();
    }
}

impl I2cModel for Bq76952Sim {
    fn transaction(
        &mut self,
        address: SevenBitAddress,
        ops: &mut [Operation<'_>],
    ) -> Result<(), SimError> {
        if address != self.address || self.silent || self.shut_down {
            return Err(SimError::Nack);
        }
        self.tick();
        let mut wrote = false;
        for op in ops.iter_mut() {
            match op {
                Operation::Write(b) => {
                    self.write(b)?;
                    wrote = true;
                }
                Operation::Read(b) => self.read(b, wrote),
            }
        }
        Ok(())
    }
}

impl VirtualChip for Bq76952Sim {
    fn device_count(&self) -> usize {
        1
    }

    fn cells_per_device(&self) -> usize {
        self.cell_count()
    }

    fn set_cell_voltage(&mut self, device: usize, cell: usize, microvolts: i32) {
        if device == 0 {
            if let Some(i) = self.input_of(cell) {
                self.cells_uv[i] = microvolts;
            }
        }
    }

    fn set_temperature(&mut self, device: usize, millicelsius: i32) {
        if device == 0 {
            self.temp_mc = millicelsius;
        }
    }

    fn set_current(&mut self, microamps: i64) {
        self.current_ua = microamps;
    }

    fn inject(&mut self, fault: InjectedFault) {
        match fault {
            InjectedFault::CorruptResponses {
                device: 0,
                seed,
                frames,
            } => self.corrupt = Some((XorShift(seed), frames)),
            InjectedFault::Silent { device: 0 } => self.silent = true,
            InjectedFault::OpenWire { device: 0, wire } => self.open_wire = Some(wire),
            _ => {}
        }
    }

    fn clear_faults(&mut self) {
        self.corrupt = None;
        self.silent = false;
        self.open_wire = None;
    }

    fn balancing(&self, device: usize) -> u32 {
        if device != 0 {
            return 0;
        }
        let c = self.connected();
        let mut m = 0u32;
        let mut k = 0;
        for i in 0..16 {
            if c & (1 << i) != 0 {
                if self.cb_active & (1 << i) != 0 {
                    m |= 1 << k;
                }
                k += 1;
            }
        }
        m
    }

    fn sleep(&mut self) {
        self.deep_sleep = true;
    }

    fn is_awake(&self) -> bool {
        !self.deep_sleep
    }

    fn cell_lsb_uv(&self) -> i32 {
        1000
    }
    fn elapsed_ns(&self) -> Option<u64> {
        Some(self.now_ns)
    }
}
