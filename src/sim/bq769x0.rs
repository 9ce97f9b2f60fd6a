//! A virtual bq769x0 (BQ76920 / BQ76930 / BQ76940) on I2C, with and without the CRC option.
//!
//! Modelled at register level after DS SLUSBK2I:
//!
//! * 7-bit address 0x08 or 0x18; on a CRC part every written byte's CRC is checked (the
//!   chip's own plain bit-serial CRC-8 below, not the crate's `crc` module) and a bad one is
//!   **NACKed**, the bytes before it kept (DS §8.3.1.4); reads carry CRCs over
//!   `addr<<1|1, d0`, then each byte alone. A plain part takes every byte as data.
//! * Measurement cycle every 250 ms while ADC_EN = 1: every VC input and BAT, TSx every 2 s
//!   (die temperature with TEMP_SEL = 0, the thermistor divider with TEMP_SEL = 1),
//!   coulomb counter every 250 ms with CC_EN, or once after CC_ONESHOT; results are 0 until
//!   the first conversion.
//! * Protections: OV/UV against OV_TRIP/UV_TRIP through the chip's gain and offset after
//!   their delays (UV ignores inputs below UVMINQUAL 0x0518), OCD/SCD against PROTECT1/2
//!   with the shunt; OV clears CHG_ON, the others DSG_ON (DS Table 8-1). SYS_STAT bits are
//!   cleared by writing ones.
//! * SHIP entry by the SHUT_A/SHUT_B sequence (then the chip NACKs everything until
//!   [`Bq769x0Sim::boot`]); boot restores every register default (ADC off, OV_TRIP 0xAC,
//!   UV_TRIP 0x97, CELLBALx 0).
//!
//! Model choices (not silicon facts): a FET bit written while its blocking SYS_STAT bit is
//! set stays 0; shorted inputs read 0 V; [`VirtualChip::sleep`] is a SHIP → boot cycle by the
//! board (all settings lost); balancing does not disturb the readings (the silicon pauses it
//! during the measurement window: about 70 % duty, DS §8.3.1.3.3, TI E2E 985977).
//!
//! Fault injection: `CorruptResponses` (one seeded bit flip per read frame), `Silent` (NACK),
//! [`Bq769x0Sim::nack_next`] (transient NACKs), [`Bq769x0Sim::raise_xready`] with a stuck
//! option, [`Bq769x0Sim::alert_storm`] (status bits that come back as soon as they are
//! cleared).

use embedded_hal::i2c::{Operation, SevenBitAddress};

use super::{Clock, I2cModel, InjectedFault, SimError, VirtualChip, XorShift};
use crate::bq769x0::{CellMap, Variant};

const CYCLE_NS: u64 = 250_000_000;
const UVMINQUAL: u16 = 0x0518;
/// SCD thresholds (mV) for RSNS = 0 / 1 (DS Table 8-9), the chip's own copy.
const SCD_MV: [[u16; 8]; 2] = [
    [22, 33, 44, 56, 67, 78, 89, 100],
    [44, 67, 89, 111, 133, 155, 178, 200],
];
/// OCD thresholds (mV) for RSNS = 0 / 1 (DS Table 8-10).
const OCD_MV: [[u16; 16]; 2] = [
    [
        8, 11, 14, 17, 19, 22, 25, 28, 31, 33, 36, 39, 42, 44, 47, 50,
    ],
    [
        17, 22, 28, 33, 39, 44, 50, 56, 61, 67, 72, 78, 83, 89, 94, 100,
    ],
];

/// The chip's CRC-8: x⁸ + x² + x + 1, initial 0, MSB first (DS §8.3.1.4), bit by bit.
fn crc8(bytes: &[u8]) -> u8 {
    let mut c = 0u8;
    for &b in bytes {
        for i in (0..8).rev() {
            let fb = ((c >> 7) ^ (b >> i)) & 1;
            c <<= 1;
            if fb == 1 {
                c ^= 0x07;
            }
        }
    }
    c
}

/// Counters of what the virtual chip saw (for tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bq769x0Stats {
    /// Writes NACKed for a bad CRC.
    pub crc_nacks: u32,
    /// Register writes accepted (bytes).
    pub writes: u32,
    /// I2C transactions answered.
    pub transactions: u32,
    /// CELLBAL writes that closed two adjacent switches of one group.
    pub adjacent_balancing: u32,
    /// Times the configuration was lost (boot, XREADY).
    pub resets: u32,
}

/// The virtual bq769x0.
#[derive(Debug, Clone)]
pub struct Bq769x0Sim {
    now_ns: u64,
    next_cycle_ns: u64,
    cycles: u64,
    address: u8,
    crc: bool,
    inputs: u8,
    ts_inputs: u8,
    used: u16,
    regs: [u8; 0x60],
    ptr: u8,
    input_uv: [i32; 15],
    die_mc: i32,
    ntc_ohm: u32,
    current_ua: i64,
    shunt_uohm: u32,
    gain_uv: i32,
    offset_mv: i32,
    ship: bool,
    shut_step: u8,
    oneshot_at: Option<u64>,
    ov_ns: u64,
    uv_ns: u64,
    corrupt: Option<(XorShift, u32)>,
    silent: bool,
    nacks: u32,
    stuck_xready: bool,
    storm: u8,
    stats: Bq769x0Stats,
}

impl Bq769x0Sim {
    /// A chip of variant `V` wired as `map` (shorted inputs read 0 V), CRC option `crc`, at
    /// `address`; real cells at 3.7 V, 25 °C, 0 A, 1 mΩ shunt, gain 380 µV, offset +30 mV,
    /// just booted (ADC off).
    pub fn new<V: Variant>(map: CellMap, crc: bool, address: u8) -> Self {
        let mut s = Self {
            now_ns: 0,
            next_cycle_ns: CYCLE_NS,
            cycles: 0,
            address,
            crc,
            inputs: V::INPUTS,
            ts_inputs: V::TS_INPUTS,
            used: map.inputs(),
            regs: [0; 0x60],
            ptr: 0,
            input_uv: [0; 15],
            die_mc: 25_000,
            ntc_ohm: 10_000,
            current_ua: 0,
            shunt_uohm: 1_000,
            gain_uv: 380,
            offset_mv: 30,
            ship: false,
            shut_step: 0,
            oneshot_at: None,
            ov_ns: 0,
            uv_ns: 0,
            corrupt: None,
            silent: false,
            nacks: 0,
            stuck_xready: false,
            storm: 0,
            stats: Bq769x0Stats::default(),
        };
        for i in 0..15 {
            if s.used & (1 << i) != 0 {
                s.input_uv[i] = 3_700_000;
            }
        }
        s.reset_registers();
        s
    }

    fn reset_registers(&mut self) {
        let (g1, g2) = {
            let g = (self.gain_uv - 365) as u8;
            ((g >> 3) << 2, (g & 7) << 5)
        };
        self.regs = [0; 0x60];
        self.regs[0x09] = 0xAC;
        self.regs[0x0A] = 0x97;
        self.regs[0x50] = g1;
        self.regs[0x51] = self.offset_mv as i8 as u8;
        self.regs[0x59] = g2;
        self.shut_step = 0;
        self.oneshot_at = None;
        self.ov_ns = 0;
        self.uv_ns = 0;
        self.stats.resets += 1;
    }

    /// Sets the factory calibration (gain 365..=396 µV/LSB, offset mV).
    pub fn set_calibration(&mut self, gain_uv: i32, offset_mv: i8) {
        self.gain_uv = gain_uv.clamp(365, 396);
        self.offset_mv = i32::from(offset_mv);
        let g = (self.gain_uv - 365) as u8;
        self.regs[0x50] = (g >> 3) << 2;
        self.regs[0x51] = offset_mv as u8;
        self.regs[0x59] = (g & 7) << 5;
    }

    /// Sets the sense resistor the current is converted through (µΩ).
    pub fn set_shunt(&mut self, uohm: u32) {
        self.shunt_uohm = uohm;
    }

    /// Sets the thermistor resistance seen by every TS input (TEMP_SEL = 1).
    pub fn set_thermistor_ohms(&mut self, ohm: u32) {
        self.ntc_ohm = ohm;
    }

    /// Sets the voltage of a VC input (1-based), shorted or not.
    pub fn set_input_voltage(&mut self, input: u8, uv: i32) {
        if let Some(v) = self.input_uv.get_mut(usize::from(input).wrapping_sub(1)) {
            *v = uv;
        }
    }

    /// A register as the chip holds it.
    pub fn register(&self, reg: u8) -> u8 {
        self.regs.get(usize::from(reg)).copied().unwrap_or(0)
    }

    /// Counters.
    pub fn stats(&self) -> Bq769x0Stats {
        self.stats
    }

    /// `true` in SHIP mode.
    pub fn in_ship_mode(&self) -> bool {
        self.ship
    }

    /// The board's boot pulse on TS1: SHIP → NORMAL with every register at its default.
    pub fn boot(&mut self) {
        self.ship = false;
        self.reset_registers();
        self.next_cycle_ns = self.now_ns + CYCLE_NS;
    }

    /// NACKs the next `n` transactions (transient bus trouble).
    pub fn nack_next(&mut self, n: u32) {
        self.nacks = n;
    }

    /// Raises DEVICE_XREADY (an internal fault): FETs and CELLBALx cleared, and with `stuck`
    /// the bit cannot be cleared.
    pub fn raise_xready(&mut self, stuck: bool) {
        self.regs[0] |= 0x20;
        self.regs[5] &= !0x03;
        self.regs[1..4].fill(0);
        self.stuck_xready = stuck;
    }

    /// SYS_STAT bits that are set again as soon as they are cleared (0 ends the storm).
    pub fn alert_storm(&mut self, bits: u8) {
        self.storm = bits;
        self.regs[0] |= bits;
        self.apply_fet_rules();
    }

    fn code_for_cell(&self, uv: i32) -> u16 {
        let n = i64::from(uv) - i64::from(self.offset_mv) * 1000;
        let g = i64::from(self.gain_uv);
        ((n + g / 2).div_euclid(g)).clamp(0, 0x3FFF) as u16
    }

    fn ov_code(&self) -> u16 {
        0x2008 | (u16::from(self.regs[0x09]) << 4)
    }

    fn uv_code(&self) -> u16 {
        0x1000 | (u16::from(self.regs[0x0A]) << 4)
    }

    fn put16(&mut self, reg: usize, v: u16) {
        self.regs[reg] = (v >> 8) as u8;
        self.regs[reg + 1] = v as u8;
    }

    fn ts_code(&self) -> u16 {
        let uv: i64 = if self.regs[4] & 0x08 != 0 {
            3_300_000 * i64::from(self.ntc_ohm) / (10_000 + i64::from(self.ntc_ohm))
        } else {
            // 1.200 V at 25 °C, −4.2 mV/°C.
            1_200_000 - (i64::from(self.die_mc) - 25_000) * 42 / 10
        };
        ((uv + 191) / 382).clamp(1, 0x3FFF) as u16
    }

    fn cc_code(&self) -> u16 {
        // V = I × R; code = V / 8.44 µV.
        let nv = self.current_ua as i128 * i128::from(self.shunt_uohm) / 1_000;
        (nv / 8_440).clamp(-32_768, 32_767) as i16 as u16
    }

    fn cycle(&mut self) {
        self.cycles += 1;
        let adc = self.regs[4] & 0x10 != 0;
        if adc {
            // BAT is the sum of the input codes divided by 4 (DS §8.3.1.1.6); a shorted
            // input's negative raw value clips at code 0.
            let mut sum: u32 = 0;
            for i in 0..usize::from(self.inputs) {
                let c = self.code_for_cell(self.input_uv[i]);
                self.put16(0x0C + 2 * i, c);
                sum += u32::from(c);
            }
            self.put16(0x2A, ((sum + 2) / 4).min(0xFFFF) as u16);
            if self.cycles % 8 == 0 {
                let t = self.ts_code();
                for k in 0..usize::from(self.ts_inputs) {
                    self.put16(0x2C + 2 * k, t);
                }
            }
            // OV / UV with their delays.
            let ov = self.ov_code();
            let uv = self.uv_code();
            let mut any_ov = false;
            let mut any_uv = false;
            for i in 0..usize::from(self.inputs) {
                let c = u16::from_be_bytes([self.regs[0x0C + 2 * i], self.regs[0x0D + 2 * i]]);
                any_ov |= c >= ov;
                any_uv |= c < uv && c >= UVMINQUAL;
            }
            let ov_delay = [1u64, 2, 4, 8][usize::from((self.regs[8] >> 4) & 3)] * 1_000_000_000;
            let uv_delay = [1u64, 4, 8, 16][usize::from(self.regs[8] >> 6)] * 1_000_000_000;
            self.ov_ns = if any_ov { self.ov_ns + CYCLE_NS } else { 0 };
            self.uv_ns = if any_uv { self.uv_ns + CYCLE_NS } else { 0 };
            let no_delay = self.regs[5] & 0x80 != 0;
            if any_ov && (no_delay || self.ov_ns >= ov_delay) {
                self.regs[0] |= 0x04;
            }
            if any_uv && (no_delay || self.uv_ns >= uv_delay) {
                self.regs[0] |= 0x08;
            }
        }
        // Current comparators (discharge = negative current), independent of ADC_EN.
        if self.current_ua < 0 {
            let mv = (-self.current_ua) as i128 * i128::from(self.shunt_uohm) / 1_000_000_000;
            let r = usize::from(self.regs[6] >> 7);
            let scd = SCD_MV[r][usize::from(self.regs[6] & 7)];
            let ocd = OCD_MV[r][usize::from(self.regs[7] & 15)];
            if mv >= i128::from(scd) {
                self.regs[0] |= 0x02;
            } else if mv >= i128::from(ocd) {
                self.regs[0] |= 0x01;
            }
        }
        if self.regs[5] & 0x40 != 0 {
            let c = self.cc_code();
            self.put16(0x32, c);
            self.regs[0] |= 0x80;
        }
        self.apply_fet_rules();
    }

    /// OV clears CHG_ON; UV, OCD, SCD clear DSG_ON; XREADY and OVRD_ALERT clear both.
    fn apply_fet_rules(&mut self) {
        let st = self.regs[0];
        if st & (0x04 | 0x20 | 0x10) != 0 {
            self.regs[5] &= !0x01;
        }
        if st & (0x08 | 0x02 | 0x01 | 0x20 | 0x10) != 0 {
            self.regs[5] &= !0x02;
        }
    }

    fn write_reg(&mut self, reg: u8, v: u8) {
        self.stats.writes += 1;
        match reg {
            0x00 => {
                let mut clear = v;
                if self.stuck_xready {
                    clear &= !0x20;
                }
                self.regs[0] &= !clear;
                self.regs[0] |= self.storm;
                self.apply_fet_rules();
            }
            0x01..=0x03 => {
                if usize::from(reg) > usize::from(self.inputs / 5) {
                    return;
                }
                let b = v & 0x1F;
                if b & (b >> 1) != 0 {
                    self.stats.adjacent_balancing += 1;
                }
                self.regs[usize::from(reg)] = b;
            }
            0x04 => {
                let shut = v & 0x03;
                self.shut_step = match (self.shut_step, shut) {
                    (_, 0) => 1,
                    (1, 1) => 2,
                    (2, 2) => {
                        self.ship = true;
                        3
                    }
                    _ => 0,
                };
                self.regs[4] = (self.regs[4] & 0x80) | (v & 0x18) | shut;
            }
            0x05 => {
                let mut b = v & 0xE3;
                let st = self.regs[0];
                if st & (0x04 | 0x20 | 0x10) != 0 {
                    b &= !0x01;
                }
                if st & (0x08 | 0x02 | 0x01 | 0x20 | 0x10) != 0 {
                    b &= !0x02;
                }
                if b & 0x20 != 0 && b & 0x40 == 0 {
                    self.oneshot_at = Some(self.now_ns + CYCLE_NS);
                }
                self.regs[5] = b;
            }
            0x06..=0x0A => self.regs[usize::from(reg)] = v,
            0x0B => self.regs[0x0B] = v & 0x3F,
            _ => {} // read-only
        }
    }

    fn handle_write(&mut self, bytes: &[u8]) -> Result<(), SimError> {
        let Some((&reg, data)) = bytes.split_first() else {
            return Ok(());
        };
        self.ptr = reg;
        if !self.crc {
            for (i, &d) in data.iter().enumerate() {
                self.write_reg(reg.wrapping_add(i as u8), d);
            }
            return Ok(());
        }
        for (i, pair) in data.chunks(2).enumerate() {
            let [d, c] = pair else {
                return Ok(()); // a data byte without its CRC: dropped
            };
            let want = if i == 0 {
                crc8(&[self.address << 1, reg, *d])
            } else {
                crc8(&[*d])
            };
            if want != *c {
                self.stats.crc_nacks += 1;
                return Err(SimError::Nack);
            }
            self.write_reg(reg.wrapping_add(i as u8), *d);
        }
        Ok(())
    }

    fn handle_read(&mut self, buf: &mut [u8]) {
        let mut r = self.ptr;
        if self.crc {
            for (i, pair) in buf.chunks_mut(2).enumerate() {
                let d = self.register(r);
                r = r.wrapping_add(1);
                let c = if i == 0 {
                    crc8(&[(self.address << 1) | 1, d])
                } else {
                    crc8(&[d])
                };
                pair[0] = d;
                if let Some(x) = pair.get_mut(1) {
                    *x = c;
                }
            }
        } else {
            for b in buf.iter_mut() {
                *b = self.register(r);
                r = r.wrapping_add(1);
            }
        }
        self.ptr = r;
        if let Some((rng, left)) = self.corrupt.as_mut() {
            if *left > 0 && !buf.is_empty() {
                let bit = rng.below(buf.len() as u32 * 8) as usize;
                buf[bit / 8] ^= 1 << (bit % 8);
                *left -= 1;
            }
        }
    }
}

impl Clock for Bq769x0Sim {
    fn advance_ns(&mut self, ns: u64) {
        self.now_ns = self.now_ns.saturating_add(ns);
        if self.ship {
            self.next_cycle_ns = self.now_ns + CYCLE_NS;
            return;
        }
        // Bounded: at most one simulated hour of cycles per call.
        let mut n = 0;
        while self.next_cycle_ns <= self.now_ns && n < 14_400 {
            self.cycle();
            self.next_cycle_ns += CYCLE_NS;
            n += 1;
        }
        if self.next_cycle_ns <= self.now_ns {
            self.next_cycle_ns = self.now_ns + CYCLE_NS;
        }
        if let Some(t) = self.oneshot_at {
            if t <= self.now_ns {
                let c = self.cc_code();
                self.put16(0x32, c);
                self.regs[0] |= 0x80;
                self.regs[5] &= !0x20;
                self.oneshot_at = None;
            }
        }
    }
}

impl I2cModel for Bq769x0Sim {
    fn transaction(
        &mut self,
        address: SevenBitAddress,
        ops: &mut [Operation<'_>],
    ) -> Result<(), SimError> {
        if address != self.address || self.silent || self.ship {
            return Err(SimError::Nack);
        }
        if self.nacks > 0 {
            self.nacks -= 1;
            return Err(SimError::Nack);
        }
        self.stats.transactions += 1;
        for op in ops.iter_mut() {
            match op {
                Operation::Write(b) => self.handle_write(b)?,
                Operation::Read(b) => self.handle_read(b),
            }
        }
        Ok(())
    }
}

impl VirtualChip for Bq769x0Sim {
    fn device_count(&self) -> usize {
        1
    }
    fn cells_per_device(&self) -> usize {
        self.used.count_ones() as usize
    }
    fn set_cell_voltage(&mut self, _device: usize, cell: usize, microvolts: i32) {
        let mut k = 0;
        for i in 0..15 {
            if self.used & (1 << i) != 0 {
                if k == cell {
                    self.input_uv[i] = microvolts;
                    return;
                }
                k += 1;
            }
        }
    }
    fn set_temperature(&mut self, _device: usize, millicelsius: i32) {
        self.die_mc = millicelsius;
    }
    fn set_current(&mut self, microamps: i64) {
        self.current_ua = microamps;
    }
    fn inject(&mut self, fault: InjectedFault) {
        match fault {
            InjectedFault::CorruptResponses { seed, frames, .. } => {
                self.corrupt = Some((XorShift(seed), frames));
            }
            InjectedFault::Silent { .. } => self.silent = true,
            _ => {}
        }
    }
    fn clear_faults(&mut self) {
        self.corrupt = None;
        self.silent = false;
        self.nacks = 0;
        self.stuck_xready = false;
        self.storm = 0;
    }
    fn balancing(&self, _device: usize) -> u32 {
        let inputs = u16::from(self.regs[1])
            | (u16::from(self.regs[2]) << 5)
            | (u16::from(self.regs[3]) << 10);
        let mut out = 0u32;
        let mut k = 0;
        for i in 0..15 {
            if self.used & (1 << i) != 0 {
                if inputs & (1 << i) != 0 {
                    out |= 1 << k;
                }
                k += 1;
            }
        }
        out
    }
    fn sleep(&mut self) {
        self.ship = true;
        self.boot();
    }
    fn is_awake(&self) -> bool {
        !self.ship && self.regs[4] & 0x10 != 0
    }
    fn cell_lsb_uv(&self) -> i32 {
        self.gain_uv
    }
    fn stack_lsb_uv(&self) -> i32 {
        4 * self.gain_uv
    }
    fn elapsed_ns(&self) -> Option<u64> {
        Some(self.now_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_crc_matches_published_vectors() {
        assert_eq!(crc8(b"123456789"), 0xF4);
        assert_eq!(crc8(&[0x10, 0x0B, 0x19]), 0x7A);
        assert_eq!(crc8(&[0x31, 0x19]), 0xA3);
    }
}
