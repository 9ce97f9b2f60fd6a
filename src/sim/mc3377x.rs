//! Virtual NXP MC33771C / MC33772C chips: one device on direct SPI ([`SpiModel`]), or a TPL
//! daisy chain behind a virtual MC33664 ([`tpl_port`] gives the [`TplLink`] /
//! [`AsyncTplLink`] handle).
//!
//! The model is register-level: 48-bit frames with the CRC-8 computed by its own bitwise code
//! (not [`crate::crc`]), the 4-bit message counter incremented with every response, CID
//! assignment through INIT on CID 0 (an unassigned device neither forwards frames nor the
//! wake-up pattern up the chain, and accepts no write but INIT), the SPI one-frame-late
//! answers and the null response after reset, global writes, on-demand conversions that take
//! the 650 µs × 2^AVG timeout (the strictest bound), DATA_RDY cleared at the start, OV/UV
//! comparison against TH_ALL_CT, balancing switches (CB_DRVEN and CB_EN), ISENSE from a
//! current and a shunt. It is strict where the public sources are silent: sleep loses the
//! CID and every register (as a reset would), and a sleeping device answers nothing until
//! the wake-up pattern (SPI: CSB low ≥ 65 µs; TPL: two CSB_TX low pulses ≥ 20 µs).
//!
//! Fault injection: [`InjectedFault`] (CRC corruption, silence, a broken chain) and
//! [`Mc3377xChain::skip_counter`] (a response with a valid CRC but a skipped message
//! counter, as if a frame had been lost).

use core::marker::PhantomData;

use embedded_hal::spi::Operation as SpiOperation;

use super::{Clock, InjectedFault, Sim, SimError, SpiModel, VirtualChip, XorShift};
use crate::mc3377x::{AsyncTplLink, TplLink, Variant};

/// The model's CRC-8: polynomial 0x2F, preset 0x42, MSB first, no final XOR, bit by bit.
fn crc8(bytes: &[u8]) -> u8 {
    let mut r: u8 = 0x42;
    for &b in bytes {
        r ^= b;
        for _ in 0..8 {
            r = if r & 0x80 != 0 {
                (r << 1) ^ 0x2F
            } else {
                r << 1
            };
        }
    }
    r
}

/// Populated inputs per cell count, typed in from the NXP driver's tables (s_cellMap33771c,
/// s_cellMap33772c in MR-BMS771 `bcc.c`), not computed.
fn input_mask(mc33772: bool, cells: u8) -> u16 {
    const M771: [u16; 8] = [
        0x380F, 0x3C0F, 0x3E0F, 0x3F0F, 0x3F8F, 0x3FCF, 0x3FEF, 0x3FFF,
    ];
    const M772: [u16; 4] = [0x0023, 0x0033, 0x003B, 0x003F];
    if mc33772 {
        M772[usize::from(cells.clamp(3, 6) - 3)]
    } else {
        M771[usize::from(cells.clamp(7, 14) - 7)]
    }
}

const LSB_CT_UV: i64 = 19_500;

#[derive(Debug, Clone, Copy)]
struct Bcc {
    regs: [u16; 128],
    cid: u8,
    awake: bool,
    counter: u8,
    null_next: bool,
    cells_uv: [i32; 14],
    temp_mc: i32,
    conv_done_at: Option<u64>,
    adc1b_offset_uv: i32,
}

impl Bcc {
    const fn new() -> Self {
        Self {
            regs: [0; 128],
            cid: 0,
            awake: false,
            counter: 0,
            null_next: true,
            cells_uv: [3_600_000; 14],
            temp_mc: 25_000,
            conv_done_at: None,
            adc1b_offset_uv: 0,
        }
    }

    fn reset(&mut self) {
        self.regs = [0; 128];
        self.cid = 0;
        self.counter = 0;
        self.null_next = true;
        self.conv_done_at = None;
    }
}

/// A chain of `N` virtual devices of part `V` with the same cell count.
#[derive(Debug)]
pub struct Mc3377xChain<V: Variant, const N: usize> {
    dev: [Bcc; N],
    cells: u8,
    mask: u16,
    now_ns: u64,
    corrupt: [Option<(XorShift, u32)>; N],
    skip: u64,
    silent: u64,
    break_after: Option<u8>,
    current_ua: i64,
    shunt_micro_ohm: u32,
    csb_low_since: Option<u64>,
    pulses: u8,
    spi_pending: Option<[u8; 6]>,
    /// Frames the host sent.
    pub frames_from_host: u64,
    /// Frames the host received (TPL: echoes included; SPI: every transfer's answer).
    pub frames_to_host: u64,
    _v: PhantomData<V>,
}

impl<V: Variant, const N: usize> Mc3377xChain<V, N> {
    /// `N` devices with `cells` cells each (clamped into the part's range), all cells at
    /// 3.6 V, 25 °C, asleep with CID 0, a 100 µΩ shunt and no current.
    pub fn new(cells: u8) -> Self {
        let cells = cells.clamp(V::MIN_CELLS, V::MAX_CELLS);
        Self {
            dev: [Bcc::new(); N],
            cells,
            mask: input_mask(V::IS_MC33772, cells),
            now_ns: 0,
            corrupt: [None; N],
            skip: 0,
            silent: 0,
            break_after: None,
            current_ua: 0,
            shunt_micro_ohm: 100,
            csb_low_since: None,
            pulses: 0,
            spi_pending: None,
            frames_from_host: 0,
            frames_to_host: 0,
            _v: PhantomData,
        }
    }

    /// The shunt the virtual ISENSE input sees (µΩ).
    pub fn set_shunt(&mut self, micro_ohm: u32) {
        self.shunt_micro_ohm = micro_ohm;
    }

    /// The next response of `device` carries a message counter one too far (valid CRC).
    pub fn skip_counter(&mut self, device: usize) {
        if device < 64 {
            self.skip |= 1 << device;
        }
    }

    /// Offsets ADC1-B's band-gap reading on `device` (a drifting ADC for the cross-check).
    pub fn set_adc1b_offset(&mut self, device: usize, microvolts: i32) {
        if let Some(b) = self.dev.get_mut(device) {
            b.adc1b_offset_uv = microvolts;
        }
    }

    /// Sets a register of a device directly (flags a real chip would raise, e.g. GPIO short).
    pub fn set_register(&mut self, device: usize, register: u8, value: u16) {
        if let Some(r) = self
            .dev
            .get_mut(device)
            .and_then(|b| b.regs.get_mut(usize::from(register)))
        {
            *r = value;
        }
    }

    /// A register of a device, as the model holds it.
    pub fn register(&self, device: usize, register: u8) -> Option<u16> {
        self.dev
            .get(device)
            .and_then(|d| d.regs.get(usize::from(register)).copied())
    }

    /// The CID a device holds.
    pub fn cid(&self, device: usize) -> Option<u8> {
        self.dev.get(device).map(|d| d.cid)
    }

    fn input_of(&self, cell: usize) -> Option<u8> {
        (0..V::INPUTS)
            .filter(|b| self.mask & (1 << b) != 0)
            .nth(cell)
            .map(|b| b + 1)
    }

    fn finish_conversion(&mut self, d: usize) {
        let now = self.now_ns;
        let cells = usize::from(self.cells);
        let inputs: [Option<u8>; 14] =
            core::array::from_fn(|i| if i < cells { self.input_of(i) } else { None });
        let (current, shunt) = (self.current_ua, self.shunt_micro_ohm);
        let Some(b) = self.dev.get_mut(d) else { return };
        let Some(t) = b.conv_done_at else { return };
        if now < t {
            return;
        }
        b.conv_done_at = None;
        let code = |uv: i64, num: i64, den: i64| (uv.max(0) * num / den).min(0x7FFF) as u16;
        // Unpopulated inputs read 0 V.
        for n in 1..=V::INPUTS {
            b.regs[usize::from(0x41 - n)] = 0x8000;
        }
        let th = b.regs[0x4B];
        let (ov, uv) = (
            i64::from(th >> 8) * LSB_CT_UV,
            i64::from(th & 0xFF) * LSB_CT_UV,
        );
        let en = b.regs[0x08];
        let mut sum = 0i64;
        for (i, input) in inputs.iter().enumerate() {
            let Some(n) = *input else { continue };
            let v = i64::from(b.cells_uv[i]);
            sum += v;
            b.regs[usize::from(0x41 - n)] = 0x8000 | code(v, 512, 78_125);
            if en & (1 << (n - 1)) != 0 {
                if v > ov {
                    b.regs[0x09] |= 1 << (n - 1);
                    b.regs[0x24] |= 0x0002;
                }
                if v < uv {
                    b.regs[0x0A] |= 1 << (n - 1);
                    b.regs[0x24] |= 0x0001;
                }
            }
        }
        b.regs[0x32] = 0x8000 | code(sum, 32, 78_125);
        b.regs[0x48] = 0x8000 | code(i64::from(b.temp_mc) + 273_150, 1, 32);
        for k in 0..7 {
            b.regs[0x41 + k] = 0x8000 | 0x4000;
        }
        // Band gap 1.18 V on ADC1-A and (plus any injected offset) on ADC1-B.
        b.regs[0x49] = 0x8000 | code(1_180_000, 512, 78_125);
        b.regs[0x4A] = 0x8000 | code(1_180_000 + i64::from(b.adc1b_offset_uv), 512, 78_125);
        if b.regs[0x03] & (1 << 9) != 0 {
            // nV = µA × µΩ / 1000; 600 nV per LSB.
            let raw = (current * i64::from(shunt) / 1000 / 600) as i32;
            let raw = (raw as u32) & 0x7_FFFF;
            b.regs[0x30] = 0x8000 | ((raw >> 4) & 0x7FFF) as u16;
            b.regs[0x31] = (raw & 0xF) as u16;
            // Coulomb counter: one more sample, the signed code added.
            let signed = if raw & 0x4_0000 != 0 {
                (raw | 0xFFF8_0000) as i32
            } else {
                raw as i32
            };
            let cc = ((u32::from(b.regs[0x2E]) << 16 | u32::from(b.regs[0x2F])) as i32)
                .wrapping_add(signed) as u32;
            b.regs[0x2D] = b.regs[0x2D].wrapping_add(1);
            b.regs[0x2E] = (cc >> 16) as u16;
            b.regs[0x2F] = cc as u16;
        }
        b.regs[0x06] &= !(1 << 11);
    }

    fn read_value(&mut self, d: usize, register: u8) -> u16 {
        self.finish_conversion(d);
        self.dev
            .get(d)
            .and_then(|b| b.regs.get(usize::from(register & 0x7F)).copied())
            .unwrap_or(0)
    }

    fn write_value(&mut self, d: usize, register: u8, v: u16) {
        self.finish_conversion(d);
        let now = self.now_ns;
        let Some(b) = self.dev.get_mut(d) else { return };
        let r = usize::from(register & 0x7F);
        if b.cid == 0 && register != 0x01 {
            return; // only INIT of an unassigned device can be written
        }
        match register {
            0x01 => {
                b.cid = (v & 0x3F) as u8;
                b.regs[r] = v & 0x01FF;
            }
            0x02 => {
                if v & 1 != 0 {
                    b.awake = false;
                    b.reset();
                }
            }
            0x03 => {
                if v & (1 << 4) != 0 {
                    b.reset();
                } else {
                    b.regs[r] = v & !(1 << 6);
                }
            }
            0x06 => {
                if v & (1 << 11) != 0 {
                    let avg = u32::from((v >> 12).min(8));
                    b.conv_done_at = Some(now + (650_000u64 << avg));
                    for m in 0x30..=0x4A {
                        b.regs[m] &= 0x7FFF;
                    }
                }
                b.regs[r] = v;
            }
            0x09 | 0x0A | 0x24..=0x26 => b.regs[r] &= v,
            _ => b.regs[r] = v,
        }
    }

    fn response(&mut self, d: usize, register: u8, data: u16, cmd: u8) -> [u8; 6] {
        let skip = d < 64 && self.skip & (1 << d) != 0;
        if skip {
            self.skip &= !(1 << d);
        }
        let Some(b) = self.dev.get_mut(d) else {
            return [0xFF; 6];
        };
        if skip {
            b.counter = (b.counter + 1) & 0xF;
        }
        let mut f = if b.null_next {
            b.null_next = false;
            [0, 0, 0, 0, b.counter << 4, 0]
        } else {
            let [h, l] = data.to_be_bytes();
            [h, l, register & 0x7F, b.cid, b.counter << 4 | (cmd & 3), 0]
        };
        b.counter = (b.counter + 1) & 0xF;
        f[5] = crc8(&f[..5]);
        if let Some(Some((rng, left))) = self.corrupt.get_mut(d) {
            if *left > 0 {
                let bit = rng.below(48) as usize;
                f[bit / 8] ^= 0x80 >> (bit % 8);
                if *left != u32::MAX {
                    *left -= 1;
                }
            }
        }
        f
    }

    fn silent_dev(&self, d: usize) -> bool {
        d < 64 && self.silent & (1 << d) != 0
    }

    fn reachable(&self, d: usize) -> bool {
        self.break_after.is_none_or(|a| d <= usize::from(a))
    }

    /// One frame through the virtual MC33664 and up the chain; returns the responding device
    /// and the read request (device, first register, count).
    fn tpl_frame(&mut self, tx: &[u8; 6]) -> Option<(usize, u8, u8)> {
        if crc8(&tx[..5]) != tx[5] {
            return None;
        }
        let data = u16::from_be_bytes([tx[0], tx[1]]);
        let (register, cid, cmd) = (tx[2] & 0x7F, tx[3] & 0x3F, tx[4] & 3);
        for d in 0..N {
            if !self.reachable(d) || !self.dev[d].awake {
                return None;
            }
            let own = self.dev[d].cid;
            if cmd == 3 {
                self.write_value(d, register, data);
                if own == 0 {
                    return None;
                }
                continue;
            }
            if own == cid {
                return match cmd {
                    1 => Some((d, register, (data & 0x7F) as u8)),
                    2 => {
                        self.write_value(d, register, data);
                        None
                    }
                    _ => None,
                };
            }
            if own == 0 {
                return None;
            }
        }
        None
    }

    fn tpl_transfer(&mut self, tx: &[u8], rx: &mut [u8], timeout_us: u32) -> usize {
        self.pulses = 0;
        self.frames_from_host += 1;
        // 2 Mbit/s: 4 µs per byte.
        self.now_ns += tx.len() as u64 * 4_000;
        let mut got = 0;
        let Ok(frame) = <[u8; 6]>::try_from(tx) else {
            self.now_ns += u64::from(timeout_us) * 1_000;
            return 0;
        };
        if let Some(e) = rx.get_mut(..6) {
            e.copy_from_slice(&frame);
            got = 6;
            self.frames_to_host += 1;
        }
        if let Some((d, first, count)) = self.tpl_frame(&frame) {
            if !self.silent_dev(d) {
                for i in 0..count {
                    let r = first.wrapping_add(i) & 0x7F;
                    let v = self.read_value(d, r);
                    let f = self.response(d, r, v, 1);
                    match rx.get_mut(got..got + 6) {
                        Some(slot) => {
                            slot.copy_from_slice(&f);
                            got += 6;
                            self.frames_to_host += 1;
                            self.now_ns += 24_000;
                        }
                        None => break,
                    }
                }
            }
        }
        if got < rx.len() {
            self.now_ns += u64::from(timeout_us) * 1_000;
        }
        got
    }

    fn tpl_csb(&mut self, high: bool) {
        if !high {
            self.csb_low_since = Some(self.now_ns);
            return;
        }
        if let Some(t) = self.csb_low_since.take() {
            if self.now_ns.saturating_sub(t) >= 20_000 {
                self.pulses += 1;
            }
        }
        if self.pulses >= 2 {
            self.pulses = 0;
            for d in 0..N {
                if !self.reachable(d) {
                    break;
                }
                self.dev[d].awake = true;
                if self.dev[d].cid == 0 {
                    break;
                }
            }
        }
    }

    fn spi_frame(&mut self, buf: &mut [u8]) {
        self.frames_from_host += 1;
        self.frames_to_host += 1;
        let Ok(tx) = <[u8; 6]>::try_from(&*buf) else {
            buf.fill(0xFF);
            return;
        };
        let awake = self.dev.first().is_some_and(|b| b.awake);
        let out = if awake && !self.silent_dev(0) && self.reachable(0) {
            self.spi_pending.take().unwrap_or([0xFF; 6])
        } else {
            [0xFF; 6]
        };
        buf.copy_from_slice(&out);
        if !awake || crc8(&tx[..5]) != tx[5] {
            self.spi_pending = None;
            return;
        }
        let data = u16::from_be_bytes([tx[0], tx[1]]);
        let (register, cid, cmd) = (tx[2] & 0x7F, tx[3] & 0x3F, tx[4] & 3);
        let own = self.dev.first().map_or(0, |b| b.cid);
        let mine = cid == own;
        let value = match cmd {
            2 | 3 if mine || cmd == 3 => {
                self.write_value(0, register, data);
                self.read_value(0, register)
            }
            _ => self.read_value(0, register),
        };
        self.spi_pending = Some(self.response(0, register, value, cmd));
    }
}

impl<V: Variant, const N: usize> Clock for Mc3377xChain<V, N> {
    fn advance_ns(&mut self, ns: u64) {
        self.now_ns += ns;
    }
}

impl<V: Variant, const N: usize> SpiModel for Mc3377xChain<V, N> {
    fn transaction(&mut self, ops: &mut [SpiOperation<'_, u8>]) -> Result<(), SimError> {
        let only_delay = ops.iter().all(|o| matches!(o, SpiOperation::DelayNs(_)));
        if only_delay {
            let low: u64 = ops
                .iter()
                .map(|o| match o {
                    SpiOperation::DelayNs(ns) => u64::from(*ns),
                    _ => 0,
                })
                .sum();
            if low >= 65_000 {
                if let Some(b) = self.dev.first_mut() {
                    b.awake = true;
                }
            }
            return Ok(());
        }
        for op in ops.iter_mut() {
            match op {
                SpiOperation::TransferInPlace(b) => self.spi_frame(b),
                SpiOperation::Transfer(r, w) => {
                    let mut f = [0xFFu8; 6];
                    let n = w.len().min(6);
                    f[..n].copy_from_slice(&w[..n]);
                    self.spi_frame(&mut f);
                    let m = r.len().min(6);
                    r[..m].copy_from_slice(&f[..m]);
                }
                SpiOperation::Write(w) => {
                    let mut f = [0xFFu8; 6];
                    let n = w.len().min(6);
                    f[..n].copy_from_slice(&w[..n]);
                    self.spi_frame(&mut f);
                }
                SpiOperation::Read(r) => r.fill(0xFF),
                SpiOperation::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}

impl<V: Variant, const N: usize> VirtualChip for Mc3377xChain<V, N> {
    fn device_count(&self) -> usize {
        N
    }
    fn cells_per_device(&self) -> usize {
        usize::from(self.cells)
    }
    fn set_cell_voltage(&mut self, device: usize, cell: usize, microvolts: i32) {
        if let Some(c) = self
            .dev
            .get_mut(device)
            .and_then(|b| b.cells_uv.get_mut(cell))
        {
            *c = microvolts;
        }
    }
    fn set_temperature(&mut self, device: usize, millicelsius: i32) {
        if let Some(b) = self.dev.get_mut(device) {
            b.temp_mc = millicelsius;
        }
    }
    fn set_current(&mut self, microamps: i64) {
        self.current_ua = microamps;
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
        self.skip = 0;
        self.break_after = None;
    }
    fn balancing(&self, device: usize) -> u32 {
        let Some(b) = self.dev.get(device) else {
            return 0;
        };
        // CB_DRVEN off or CB_MANUAL_PAUSE on: every switch open.
        if b.regs[0x03] & (1 << 7) == 0 || b.regs[0x03] & (1 << 5) != 0 {
            return 0;
        }
        let mut out = 0;
        for i in 0..usize::from(self.cells) {
            if let Some(n) = self.input_of(i) {
                if b.regs[usize::from(0x0C + n - 1)] & (1 << 9) != 0 {
                    out |= 1 << i;
                }
            }
        }
        out
    }
    fn sleep(&mut self) {
        for b in self.dev.iter_mut() {
            b.awake = false;
            b.reset();
        }
        self.spi_pending = None;
    }
    fn is_awake(&self) -> bool {
        self.dev.iter().all(|b| b.awake)
    }
    fn cell_lsb_uv(&self) -> i32 {
        153
    }
    fn stack_lsb_uv(&self) -> i32 {
        2_442
    }
    fn elapsed_ns(&self) -> Option<u64> {
        Some(self.now_ns)
    }
    fn cell_thresholds_uv(&self, device: usize) -> Option<(i32, i32)> {
        let b = self.dev.get(device)?;
        if b.regs[0x08] & 0xC000 != 0xC000 || b.regs[0x08] & self.mask == 0 {
            return None;
        }
        let th = b.regs[0x4B];
        Some((
            (i64::from(th & 0xFF) * LSB_CT_UV) as i32,
            (i64::from(th >> 8) * LSB_CT_UV) as i32,
        ))
    }
}

/// The TPL handle of a virtual chain: implements [`TplLink`] and [`AsyncTplLink`].
#[derive(Debug)]
pub struct TplPort<'a, V: Variant, const N: usize> {
    sim: &'a Sim<Mc3377xChain<V, N>>,
}

/// The TPL handle (the MC33664's two SPIs and CSB_TX) of a virtual chain.
pub fn tpl_port<V: Variant, const N: usize>(sim: &Sim<Mc3377xChain<V, N>>) -> TplPort<'_, V, N> {
    TplPort { sim }
}

impl<V: Variant, const N: usize> TplLink for TplPort<'_, V, N> {
    type Error = SimError;
    fn transfer(
        &mut self,
        frame: &[u8],
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, SimError> {
        Ok(self.sim.with(|m| m.tpl_transfer(frame, rx, timeout_us)))
    }
    fn set_csb_tx(&mut self, high: bool) -> Result<(), SimError> {
        self.sim.with(|m| m.tpl_csb(high));
        Ok(())
    }
}

impl<V: Variant, const N: usize> AsyncTplLink for TplPort<'_, V, N> {
    type Error = SimError;
    async fn transfer(
        &mut self,
        frame: &[u8],
        rx: &mut [u8],
        timeout_us: u32,
    ) -> Result<usize, SimError> {
        TplLink::transfer(self, frame, rx, timeout_us)
    }
    async fn set_csb_tx(&mut self, high: bool) -> Result<(), SimError> {
        TplLink::set_csb_tx(self, high)
    }
}
