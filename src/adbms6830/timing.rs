//! Timing constants (ADBMS6830B-DS electrical characteristics and serial-interface sections;
//! ADBMS6830-SpA C-ADC section), in microseconds.
//!
//! The wait hints the driver returns add a margin to the nominal cadence because the notes
//! give the cadence, not a maximum conversion time: **the exact maximum single-shot times
//! are unverified**; [`crate::adbms6830::Adbms6830::poll`] confirms completion on the chip
//! when that matters.

/// tWAKE maximum (SLEEP → STANDBY): 500 µs (LTC681x: 400 µs).
pub const T_WAKE_MAX_US: u32 = 500;
/// Gap between the per-device wake pulses: the data sheet's pseudo-code waits 500 µs
/// (≥ tWAKE, < tIDLE).
pub const WAKE_GAP_US: u32 = 500;
/// tIDLE minimum: the isoSPI port idles after 4.3 ms without activity.
pub const T_IDLE_MIN_US: u32 = 4_300;
/// tREADY maximum: an isoSPI port woken from IDLE is ready after 10 µs (the gap between the
/// dummy frames of [`crate::adbms6830::Adbms6830::wake_idle`]).
pub const T_READY_US: u32 = 10;
/// tSLEEP minimum (watchdog): 1.8 s without a valid command.
pub const T_SLEEP_MIN_US: u32 = 1_800_000;
/// tSLEEP typical: 2 s.
pub const T_SLEEP_TYP_US: u32 = 2_000_000;
/// tREFUP maximum: reference power-up 4.4 ms (when REFON = 0).
pub const T_REFUP_MAX_US: u32 = 4_400;
/// C-ADC result cadence: one 16-bit result every 1 ms.
pub const T_CADC_US: u32 = 1_000;
/// Redundant (RD = 1) single shot and S-ADC result cadence: 8 ms.
pub const T_SADC_US: u32 = 8_000;
/// AUX ADC: about 1 ms per channel.
pub const T_AUX_PER_CHANNEL_US: u32 = 1_000;
/// AUX2 ADC: about 8 ms per channel.
pub const T_AUX2_PER_CHANNEL_US: u32 = 8_000;
/// Channels converted by ADAX "all".
pub const AUX_ALL_CHANNELS: u32 = 18;
/// PWM discharge period (ADBMS6830-SpA): 937 ms.
pub const T_PWM_PERIOD_US: u32 = 937_000;

/// A wait hint: `nominal` plus 20 % margin for oscillator tolerance (the data sheet gives
/// ±tolerance figures this margin covers; unverified for every mode).
pub const fn with_margin(nominal: u32) -> u32 {
    nominal.saturating_add(nominal / 5)
}

/// Interval between poll commands.
pub const POLL_INTERVAL_US: u32 = 200;
