//! Cycle counters: the one piece of the bench that touches hardware.
//!
//! * **x86_64 host** — [`Tsc`]: `lfence; rdtsc; lfence`. The leading fence keeps earlier
//!   instructions from drifting past the read, the trailing one keeps later instructions from
//!   starting before it. The TSC counts at a constant reference rate (not the current core
//!   clock) and, on the machines this suite ran on, advances in steps of about 26 ticks, so a
//!   single call of a 40-cycle function cannot be timed: the runner times *batches* of many
//!   iterations and keeps the minimum over many batches.
//! * **Cortex-M3/M4/M7/M33** — [`Dwt`]: the DWT cycle counter `CYCCNT` (0xE000_1004), which
//!   counts core clock cycles exactly. It must be enabled once (`DEMCR.TRCENA`, then
//!   `DWT_CTRL.CYCCNTENA`), which [`Dwt::enable`] does with plain volatile accesses, so no
//!   extra crate is needed (the `cortex-m` crate's `DCB::enable_trace` +
//!   `DWT::enable_cycle_counter` do the same).
//! * **Cortex-M0/M0+** — [`SysTick`]: no DWT cycle counter on ARMv6-M, so the 24-bit SysTick
//!   down-counter (`SYST_CVR`, 0xE000_E018) clocked from the core clock (`SYST_CSR.CLKSOURCE =
//!   1`) with the reload at its maximum 0xFF_FFFF. A timed batch must stay below 2^24 cycles.
//!
//! The Cortex-M paths are compiled only for `target_arch = "arm", target_os = "none"`; they
//! cannot be built on this host (no thumb target installed) and are kept to `core` only.
#![allow(unsafe_code)]

/// A free-running cycle counter.
pub trait CycleCounter {
    /// What the counter counts, for the report header.
    const NAME: &'static str;
    /// The current count (wrapping at the counter's width).
    fn now(&self) -> u64;
    /// Ticks elapsed from `start` to `end` (both from [`now`](Self::now)), wrap and count
    /// direction handled.
    fn elapsed(&self, start: u64, end: u64) -> u64;
}

/// x86_64 time-stamp counter, serialised with `lfence` on both sides.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Default)]
pub struct Tsc;

#[cfg(target_arch = "x86_64")]
impl CycleCounter for Tsc {
    const NAME: &'static str = "x86_64 TSC (lfence; rdtsc; lfence)";

    #[inline(always)]
    fn now(&self) -> u64 {
        use core::arch::x86_64::{_mm_lfence, _rdtsc};
        // SAFETY: `lfence` (SSE2, part of the x86_64 baseline) and `rdtsc` have no memory
        // effects and no preconditions; user-mode RDTSC is enabled on every OS this runs on.
        unsafe {
            _mm_lfence();
            let t = _rdtsc();
            _mm_lfence();
            t
        }
    }

    #[inline(always)]
    fn elapsed(&self, start: u64, end: u64) -> u64 {
        end.wrapping_sub(start)
    }
}

/// Cortex-M3 and up: the DWT cycle counter (ARMv7-M ARM C1.8, `DWT_CYCCNT` at 0xE000_1004).
#[cfg(all(target_arch = "arm", target_os = "none"))]
#[derive(Clone, Copy, Default)]
pub struct Dwt;

#[cfg(all(target_arch = "arm", target_os = "none"))]
impl Dwt {
    /// Debug Exception and Monitor Control Register (bit 24 `TRCENA` powers the DWT).
    const DEMCR: *mut u32 = 0xE000_EDFC as *mut u32;
    /// DWT control register (bit 0 `CYCCNTENA`).
    const DWT_CTRL: *mut u32 = 0xE000_1000 as *mut u32;
    /// DWT cycle count register.
    const DWT_CYCCNT: *const u32 = 0xE000_1004 as *const u32;

    /// Powers the DWT and starts `CYCCNT`. Call once at start-up (a debugger may already have).
    /// On a Cortex-M7 the DWT is also behind a lock: write 0xC5AC_CE55 to `DWT_LAR`
    /// (0xE000_1FB0) first.
    pub fn enable() -> Self {
        // SAFETY: architecturally defined System Control Space registers, always mapped on
        // ARMv7-M/ARMv8-M mainline; read-modify-write of two enable bits only.
        unsafe {
            let demcr = core::ptr::read_volatile(Self::DEMCR);
            core::ptr::write_volatile(Self::DEMCR, demcr | (1 << 24));
            let ctrl = core::ptr::read_volatile(Self::DWT_CTRL);
            core::ptr::write_volatile(Self::DWT_CTRL, ctrl | 1);
        }
        Dwt
    }
}

#[cfg(all(target_arch = "arm", target_os = "none"))]
impl CycleCounter for Dwt {
    const NAME: &'static str = "Cortex-M DWT CYCCNT";

    #[inline(always)]
    fn now(&self) -> u64 {
        // SAFETY: read of an always-mapped, side-effect-free System Control Space register.
        u64::from(unsafe { core::ptr::read_volatile(Self::DWT_CYCCNT) })
    }

    #[inline(always)]
    fn elapsed(&self, start: u64, end: u64) -> u64 {
        // 32-bit up-counter: wraps every 2^32 cycles (≈ 26 s at 168 MHz).
        end.wrapping_sub(start) & 0xFFFF_FFFF
    }
}

/// Cortex-M0/M0+ (no DWT counter): SysTick as a 24-bit down-counter on the core clock
/// (ARMv6-M ARM B3.3; `SYST_CSR` 0xE000_E010, `SYST_RVR` 0xE000_E014, `SYST_CVR` 0xE000_E018).
#[cfg(all(target_arch = "arm", target_os = "none"))]
#[derive(Clone, Copy, Default)]
pub struct SysTick;

#[cfg(all(target_arch = "arm", target_os = "none"))]
impl SysTick {
    const SYST_CSR: *mut u32 = 0xE000_E010 as *mut u32;
    const SYST_RVR: *mut u32 = 0xE000_E014 as *mut u32;
    const SYST_CVR: *const u32 = 0xE000_E018 as *const u32;

    /// Starts SysTick free-running on the processor clock with the maximum reload, interrupt
    /// off. Takes SysTick from any RTOS tick that used it: benchmark firmware only.
    pub fn enable() -> Self {
        // SAFETY: architecturally defined SysTick registers; CSR = ENABLE | CLKSOURCE.
        unsafe {
            core::ptr::write_volatile(Self::SYST_RVR, 0x00FF_FFFF);
            core::ptr::write_volatile(Self::SYST_CVR as *mut u32, 0);
            core::ptr::write_volatile(Self::SYST_CSR, 0b101);
        }
        SysTick
    }
}

#[cfg(all(target_arch = "arm", target_os = "none"))]
impl CycleCounter for SysTick {
    const NAME: &'static str = "Cortex-M SysTick (24-bit, core clock)";

    #[inline(always)]
    fn now(&self) -> u64 {
        // SAFETY: read of an always-mapped SysTick register.
        u64::from(unsafe { core::ptr::read_volatile(Self::SYST_CVR) } & 0x00FF_FFFF)
    }

    #[inline(always)]
    fn elapsed(&self, start: u64, end: u64) -> u64 {
        // Counts down; one wrap (batch < 2^24 cycles) is accounted for by the mask.
        start.wrapping_sub(end) & 0x00FF_FFFF
    }
}

/// The counter the host build uses.
#[cfg(target_arch = "x86_64")]
pub type Counter = Tsc;

/// The counter a Cortex-M3+ build uses (swap for [`SysTick`] on an M0/M0+).
#[cfg(all(target_arch = "arm", target_os = "none"))]
pub type Counter = Dwt;

/// Fallback for other hosts (aarch64 Raspberry Pi, Apple silicon, …): monotonic nanoseconds
/// from `std::time::Instant`. Not cycles — the report header says so — but it keeps the
/// bench building and running everywhere `cargo test --all-targets` runs.
#[cfg(not(any(target_arch = "x86_64", all(target_arch = "arm", target_os = "none"))))]
#[derive(Debug, Clone, Copy)]
pub struct Monotonic(std::time::Instant);

#[cfg(not(any(target_arch = "x86_64", all(target_arch = "arm", target_os = "none"))))]
impl Default for Monotonic {
    fn default() -> Self {
        Self(std::time::Instant::now())
    }
}

#[cfg(not(any(target_arch = "x86_64", all(target_arch = "arm", target_os = "none"))))]
impl CycleCounter for Monotonic {
    const NAME: &'static str = "std::time::Instant (nanoseconds, not cycles)";

    fn now(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn elapsed(&self, start: u64, end: u64) -> u64 {
        end.saturating_sub(start)
    }
}

/// The counter other hosts use.
#[cfg(not(any(target_arch = "x86_64", all(target_arch = "arm", target_os = "none"))))]
pub type Counter = Monotonic;
