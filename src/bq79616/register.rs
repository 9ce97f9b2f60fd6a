//! Register map and typed fields of the BQ79616-Q1 family and the BQ79600-Q1 bridge.
//!
//! Addresses: TI BQ79612-Q1/BQ79614-Q1/BQ79616-Q1 data sheet SLUSE81E (rev. E, Nov 2023)
//! §9.5 "Register Maps", <https://www.ti.com/lit/ds/symlink/bq79616-q1.pdf>, and the same names in
//! TI's BQ79616-Q1 "B0" register header of the BQ796xx sample code. Bridge registers: TI
//! BQ79600-Q1 data sheet SLUSEA0 and "BQ79600-Q1 Software Design Reference" SLUAA17A.

use bitflags::bitflags;

use crate::error::ConfigError;
use crate::units::MicroVolts;

/// BQ79616 register addresses (SLUSE81E §9.5).
pub mod reg {
    /// Device address in the forward (COMH) direction, OTP shadow.
    pub const DIR0_ADDR_OTP: u16 = 0x0000;
    /// Device configuration (NO_ADJ_CB, MULTIDROP_EN, FCOMM_EN, TWO_STOP_EN, NFAULT_EN …).
    pub const DEV_CONF: u16 = 0x0002;
    /// ACTIVE_CELL\[NUM_CELL3:0\]: highest active cell − 6.
    pub const ACTIVE_CELL: u16 = 0x0003;
    /// Bus-bar position (cells 9–16).
    pub const BBVC_POSN1: u16 = 0x0005;
    /// ADC configuration 1 (LPF_VCELL, LPF_BB, AUX_SETTLE).
    pub const ADC_CONF1: u16 = 0x0007;
    /// OV comparator threshold.
    pub const OV_THRESH: u16 = 0x0009;
    /// UV comparator threshold.
    pub const UV_THRESH: u16 = 0x000A;
    /// OT/UT comparator thresholds.
    pub const OTUT_THRESH: u16 = 0x000B;
    /// GPIO1/2 configuration (then GPIO_CONF2..4 at 0x000F–0x0011).
    pub const GPIO_CONF1: u16 = 0x000E;
    /// Fault mask 1.
    pub const FAULT_MSK1: u16 = 0x0016;
    /// Fault mask 2 (MSK_OTP_CRC …).
    pub const FAULT_MSK2: u16 = 0x0017;
    /// Sleep timeout and TWARN threshold.
    pub const PWR_TRANSIT_CONF: u16 = 0x0018;
    /// Communication timeout configuration.
    pub const COMM_TIMEOUT_CONF: u16 = 0x0019;
    /// Customer OTP CRC (high byte; low at 0x0037).
    pub const CUST_CRC_HI: u16 = 0x0036;
    /// Device address in the forward direction.
    pub const DIR0_ADDR: u16 = 0x0306;
    /// Device address in the reverse (COML) direction.
    pub const DIR1_ADDR: u16 = 0x0307;
    /// COMM_CTRL: b1 STACK_DEV, b0 TOP_STACK.
    pub const COMM_CTRL: u16 = 0x0308;
    /// CONTROL1: DIR_SEL, SEND_SHUTDOWN, SEND_WAKE, SEND_SLPTOACT, GOTO_SHUTDOWN, GOTO_SLEEP,
    /// SOFT_RESET, ADDR_WR.
    pub const CONTROL1: u16 = 0x0309;
    /// CONTROL2 (TSREF_EN …).
    pub const CONTROL2: u16 = 0x030A;
    /// ADC_CTRL1: MAIN_MODE, MAIN_GO, LPF_VCELL_EN, LPF_BB_EN.
    pub const ADC_CTRL1: u16 = 0x030D;
    /// Cell 16 balancing timer (cells 15…1 follow up to 0x0327).
    pub const CB_CELL16_CTRL: u16 = 0x0318;
    /// Cell 1 balancing timer.
    pub const CB_CELL1_CTRL: u16 = 0x0327;
    /// OV/UV comparator control (OVUV_MODE, OVUV_GO).
    pub const OVUV_CTRL: u16 = 0x032C;
    /// OT/UT comparator control.
    pub const OTUT_CTRL: u16 = 0x032D;
    /// Balancing control 1 (duty cycle).
    pub const BAL_CTRL1: u16 = 0x032E;
    /// Balancing control 2 (BAL_GO, AUTO_BAL, OTCB_EN, FLTSTOP_EN …).
    pub const BAL_CTRL2: u16 = 0x032F;
    /// Fault reset 1 (write 1 to clear); FAULT_RST2 follows at 0x0332.
    pub const FAULT_RST1: u16 = 0x0331;
    /// First of the eight OTP ECC data-in registers used for the DLL-synchronising dummy
    /// accesses of auto-addressing.
    pub const OTP_ECC_DATAIN1: u16 = 0x0343;
    /// Part ID.
    pub const PARTID: u16 = 0x0500;
    /// Customer CRC computed by the device (high byte).
    pub const CUST_CRC_RSLT_HI: u16 = 0x050C;
    /// Main ADC status.
    pub const ADC_STAT1: u16 = 0x0527;
    /// Balancing status.
    pub const BAL_STAT: u16 = 0x052B;
    /// Device status.
    pub const DEV_STAT: u16 = 0x052C;
    /// Fault summary.
    pub const FAULT_SUMMARY: u16 = 0x052D;
    /// Communication faults 1 (FAULT_COMM2/3 follow).
    pub const FAULT_COMM1: u16 = 0x0530;
    /// OTP faults.
    pub const FAULT_OTP: u16 = 0x0535;
    /// System faults.
    pub const FAULT_SYS: u16 = 0x0536;
    /// Protector faults 1.
    pub const FAULT_PROT1: u16 = 0x053A;
    /// Overvoltage flags, cells 16…9 (FAULT_OV2 at 0x053D: cells 8…1).
    pub const FAULT_OV1: u16 = 0x053C;
    /// Undervoltage flags, cells 16…9 (FAULT_UV2 at 0x053F: cells 8…1).
    pub const FAULT_UV1: u16 = 0x053E;
    /// Overtemperature flags, GPIO8…1.
    pub const FAULT_OT: u16 = 0x0540;
    /// Undertemperature flags, GPIO8…1.
    pub const FAULT_UT: u16 = 0x0541;
    /// Cell 16 result (high byte); cell 1 ends at 0x0587.
    pub const VCELL16_HI: u16 = 0x0568;
    /// Bus-bar result.
    pub const BUSBAR_HI: u16 = 0x0588;
    /// TSREF result.
    pub const TSREF_HI: u16 = 0x058C;
    /// GPIO1 result (GPIO2…8 follow, 2 bytes each).
    pub const GPIO1_HI: u16 = 0x058E;
    /// Die temperature 1 (Main ADC).
    pub const DIETEMP1_HI: u16 = 0x05AE;
    /// Die temperature 2 (AUX ADC).
    pub const DIETEMP2_HI: u16 = 0x05B0;

    /// The VCELLn_HI address: `0x0568 + 2 × (16 − n)` (cell 16 lowest).
    pub const fn vcell_hi(cell: u8) -> u16 {
        VCELL16_HI + 2 * (16 - cell as u16)
    }
    /// The CB_CELLn_CTRL address: `0x0318 + (16 − n)`.
    pub const fn cb_cell_ctrl(cell: u8) -> u16 {
        CB_CELL16_CTRL + (16 - cell as u16)
    }
}

/// BQ79600 bridge register addresses (SLUAA17A; SLUSEA0 register map).
pub mod bridge {
    /// Device address (forward).
    pub const DIR0_ADDR: u16 = 0x0306;
    /// CONTROL1 (same bit layout as the BQ79616's).
    pub const CONTROL1: u16 = 0x0309;
    /// DEV_CONF1 (SNIFDET, TONE_RX_EN, FCOMM_EN, TWO_STOP_EN, NFAULT_EN, HB_TX_EN).
    pub const DEV_CONF1: u16 = 0x2001;
    /// Communication timeouts (CTS_TIME b6:4, CTL_ACT b3, CTL_TIME b2:0).
    pub const COMM_TIMEOUT: u16 = 0x2005;
    /// Fault reset (write 1 to clear).
    pub const FAULT_RST: u16 = 0x2030;
    /// Fault summary.
    pub const FAULT_SUMMARY: u16 = 0x2100;
    /// Communication faults 1.
    pub const FAULT_COMM1: u16 = 0x2104;
    /// Part ID.
    pub const PARTID: u16 = 0x2120;
}

bitflags! {
    /// CONTROL1 (0x0309) bits, BQ79616 and BQ79600.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Control1: u8 {
        /// Auto-addressing: the next DIR0/DIR1_ADDR write is taken by the next device.
        const ADDR_WR = 1 << 0;
        /// Digital soft reset.
        const SOFT_RESET = 1 << 1;
        /// Go to SLEEP.
        const GOTO_SLEEP = 1 << 2;
        /// Go to SHUTDOWN.
        const GOTO_SHUTDOWN = 1 << 3;
        /// Send a SLEEPtoACTIVE tone up the stack.
        const SEND_SLPTOACT = 1 << 4;
        /// Send a WAKE tone up the stack.
        const SEND_WAKE = 1 << 5;
        /// Send a SHUTDOWN tone up the stack.
        const SEND_SHUTDOWN = 1 << 6;
        /// Direction select: 0 = forward (COMH), 1 = reverse (COML).
        const DIR_SEL = 1 << 7;
    }
}

bitflags! {
    /// COMM_CTRL (0x0308).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct CommCtrl: u8 {
        /// Top of the stack (the last device in the current direction).
        const TOP_STACK = 1 << 0;
        /// A stack device (answers stack reads/writes); 0 on the base.
        const STACK_DEV = 1 << 1;
    }
}

bitflags! {
    /// FAULT_SUMMARY (0x052D), SLUSE81E Table 9-23 order (MSB → LSB).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct FaultSummary: u8 {
        /// Power supply fault (FAULT_PWR1..3).
        const PWR = 1 << 0;
        /// System fault (FAULT_SYS).
        const SYS = 1 << 1;
        /// OV or UV comparator fault (FAULT_OV1/2, FAULT_UV1/2).
        const OVUV = 1 << 2;
        /// OT or UT comparator fault (FAULT_OT, FAULT_UT).
        const OTUT = 1 << 3;
        /// Communication fault (FAULT_COMM1..3).
        const COMM = 1 << 4;
        /// OTP fault (FAULT_OTP, incl. customer CRC).
        const OTP = 1 << 5;
        /// ADC vs comparator mismatch (FAULT_COMP_*).
        const COMP_ADC = 1 << 6;
        /// Protector self-check fault (FAULT_PROT1/2).
        const PROT = 1 << 7;
    }
}

bitflags! {
    /// FAULT_COMM1 (0x0530, SLUSE81E): UART faults of this device.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct FaultComm1: u8 {
        /// Unexpected STOP condition (also set by a COMM CLEAR or a SLEEPtoACTIVE in ACTIVE).
        const STOP_DET = 1 << 0;
        /// COMM CLEAR detected (also by a SLEEPtoACTIVE ping, or WAKE in ACTIVE).
        const COMMCLR_DET = 1 << 1;
        /// UART fault while receiving a command frame (details: DEBUG_UART_RC).
        const UART_RC = 1 << 2;
        /// UART fault while receiving a response frame (DEBUG_UART_RR_TR).
        const UART_RR = 1 << 3;
        /// UART fault while transmitting a response frame (DEBUG_UART_RR_TR).
        const UART_TR = 1 << 4;
    }
}

bitflags! {
    /// FAULT_COMM2 (0x0531, SLUSE81E): daisy-chain (COMH/COML) faults of this device.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct FaultComm2: u8 {
        /// COMH bit-level fault.
        const COMH_BIT = 1 << 0;
        /// COMH byte fault receiving a command frame.
        const COMH_RC = 1 << 1;
        /// COMH byte fault receiving a response frame.
        const COMH_RR = 1 << 2;
        /// COMH byte fault transmitting a response frame.
        const COMH_TR = 1 << 3;
        /// COML bit-level fault.
        const COML_BIT = 1 << 4;
        /// COML byte fault receiving a command frame.
        const COML_RC = 1 << 5;
        /// COML byte fault receiving a response frame.
        const COML_RR = 1 << 6;
        /// COML byte fault transmitting a response frame.
        const COML_TR = 1 << 7;
    }
}

bitflags! {
    /// BAL_CTRL2 (0x032F, SLUSE81E).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct BalCtrl2: u8 {
        /// Automatic odd/even balancing.
        const AUTO_BAL = 1 << 0;
        /// Start balancing (samples every CB register; self-clearing).
        const BAL_GO = 1 << 1;
        /// Pause balancing on overtemperature (OTCB).
        const OTCB_EN = 1 << 4;
        /// Stop balancing on any unmasked fault.
        const FLTSTOP_EN = 1 << 5;
        /// Pause all balancing (for diagnostics).
        const CB_PAUSE = 1 << 6;
    }
}

bitflags! {
    /// BAL_STAT (0x052B, SLUSE81E).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct BalStat: u8 {
        /// All cell balancing done.
        const CB_DONE = 1 << 0;
        /// Module balancing done.
        const MB_DONE = 1 << 1;
        /// Balancing aborted by an unmasked fault.
        const ABORTFLT = 1 << 2;
        /// Cell balancing running (also while paused).
        const CB_RUN = 1 << 3;
        /// Module balancing running.
        const MB_RUN = 1 << 4;
        /// Balancing paused.
        const CB_INPAUSE = 1 << 5;
        /// Overtemperature (or CB TWARN) pause detected.
        const OT_PAUSE_DET = 1 << 6;
        /// BAL_GO refused: invalid balancing configuration.
        const INVALID_CBCONF = 1 << 7;
    }
}

bitflags! {
    /// OVUV_CTRL (0x032C, SLUSE81E) fields the driver uses.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct OvuvCtrl: u8 {
        /// OVUV_MODE = 01: round robin over all active cells.
        const MODE_ROUND_ROBIN = 0b01;
        /// Start the comparators (samples the thresholds; self-clearing).
        const OVUV_GO = 1 << 2;
    }
}

bitflags! {
    /// ADC_CTRL1 (0x030D) bits used by the driver.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct AdcCtrl1: u8 {
        /// MAIN_MODE = 01: single run (8 round robins).
        const MAIN_MODE_SINGLE = 0b01;
        /// MAIN_MODE = 10: continuous.
        const MAIN_MODE_CONTINUOUS = 0b10;
        /// Start the main ADC (self-clearing).
        const MAIN_GO = 1 << 2;
        /// Post-ADC low-pass filter on VCELL.
        const LPF_VCELL_EN = 1 << 3;
        /// Low-pass filter on the bus-bar channel.
        const LPF_BB_EN = 1 << 4;
    }
}

/// The ACTIVE_CELL value for `cells` active cells (6…16): `cells − 6` (SLUSE81E ACTIVE_CELL:
/// 0x0A = 16S; TI sample code `ACTIVECHANNELS − 6`).
pub const fn active_cell_code(cells: u8) -> Option<u8> {
    if cells >= 6 && cells <= 16 {
        Some(cells - 6)
    } else {
        None
    }
}

/// OV_THRESH (0x0009, SLUSE81E): 25 mV steps in three windows, 0x02–0x0E = 2700–3000 mV,
/// 0x12–0x1E = 3500–3800 mV, 0x22–0x2E = 4175–4475 mV; other codes mean 2700 mV.
///
/// Returns the code for the nearest threshold **at or below** `target` and the threshold it
/// sets (a lower OV threshold trips earlier, the safe side), or an error outside the
/// windows' span.
///
/// ```
/// use bms_afe::bq79616::register::ov_thresh;
/// use bms_afe::units::MicroVolts;
/// assert_eq!(ov_thresh(MicroVolts(4_200_000)).unwrap(), (0x23, MicroVolts(4_200_000)));
/// // Between windows: the highest threshold below is taken.
/// assert_eq!(ov_thresh(MicroVolts(3_900_000)).unwrap(), (0x1E, MicroVolts(3_800_000)));
/// ```
pub fn ov_thresh(target: MicroVolts) -> Result<(u8, MicroVolts), ConfigError> {
    let mv = target.0 / 1000;
    if !(2_700..=4_475).contains(&mv) {
        return Err(ConfigError::OutOfRange {
            field: "OV threshold (mV)",
            value: i64::from(mv),
            min: 2_700,
            max: 4_475,
        });
    }
    let windows: [(u8, i32); 3] = [(0x22, 4_175), (0x12, 3_500), (0x02, 2_700)];
    for (base, start) in windows {
        if mv >= start {
            let steps = ((mv - start) / 25).min(12);
            let code = base + steps as u8;
            return Ok((code, MicroVolts::from_millivolts(start + steps * 25)));
        }
    }
    Err(ConfigError::Conflict("OV threshold"))
}

/// The threshold an OV_THRESH code sets (codes outside the windows mean 2700 mV).
pub const fn ov_thresh_value(code: u8) -> MicroVolts {
    let code = code & 0x3F;
    let mv = match code {
        0x02..=0x0E => 2_700 + (code as i32 - 0x02) * 25,
        0x12..=0x1E => 3_500 + (code as i32 - 0x12) * 25,
        0x22..=0x2E => 4_175 + (code as i32 - 0x22) * 25,
        _ => 2_700,
    };
    MicroVolts::from_millivolts(mv)
}

/// UV_THRESH (0x000A, SLUSE81E): 0x00–0x26 = 1200–3100 mV in 50 mV steps; other codes mean
/// 3100 mV. Returns the code of the nearest threshold **at or above** `target` (a higher UV
/// threshold trips earlier) and its value.
///
/// ```
/// use bms_afe::bq79616::register::uv_thresh;
/// use bms_afe::units::MicroVolts;
/// assert_eq!(uv_thresh(MicroVolts(2_800_000)).unwrap(), (0x20, MicroVolts(2_800_000)));
/// assert_eq!(uv_thresh(MicroVolts(2_810_000)).unwrap(), (0x21, MicroVolts(2_850_000)));
/// ```
pub fn uv_thresh(target: MicroVolts) -> Result<(u8, MicroVolts), ConfigError> {
    let uv = target.0;
    if !(1_200_000..=3_100_000).contains(&uv) {
        return Err(ConfigError::OutOfRange {
            field: "UV threshold (µV)",
            value: i64::from(uv),
            min: 1_200_000,
            max: 3_100_000,
        });
    }
    let steps = (uv - 1_200_000 + 49_999) / 50_000;
    Ok((steps as u8, uv_thresh_value(steps as u8)))
}

/// The threshold a UV_THRESH code sets.
pub const fn uv_thresh_value(code: u8) -> MicroVolts {
    let code = code & 0x3F;
    let mv = if code <= 0x26 {
        1_200 + code as i32 * 50
    } else {
        3_100
    };
    MicroVolts::from_millivolts(mv)
}

/// OTUT_THRESH (0x000B, SLUSE81E): OT_THR\[4:0\] = 10 %…39 % of TSREF in 1 % steps, UT_THR\[7:5\]
/// = 66 %…80 % in 2 % steps. Ratios are GPIO/TSREF of an NTC divider (NTC to ground, so hot =
/// low ratio). Returns the register byte and the achieved (OT %, UT %): OT rounded up (trips
/// earlier), UT rounded down.
///
/// ```
/// use bms_afe::bq79616::register::otut_thresh;
/// assert_eq!(otut_thresh(25, 75).unwrap(), (0b100_01111, (25, 74)));
/// ```
pub fn otut_thresh(ot_percent: u8, ut_percent: u8) -> Result<(u8, (u8, u8)), ConfigError> {
    if !(10..=39).contains(&ot_percent) {
        return Err(ConfigError::OutOfRange {
            field: "OT threshold (% of TSREF)",
            value: i64::from(ot_percent),
            min: 10,
            max: 39,
        });
    }
    if !(66..=80).contains(&ut_percent) {
        return Err(ConfigError::OutOfRange {
            field: "UT threshold (% of TSREF)",
            value: i64::from(ut_percent),
            min: 66,
            max: 80,
        });
    }
    let ot = ot_percent - 10;
    let ut = (ut_percent - 66) / 2;
    Ok(((ut << 5) | ot, (10 + ot, 66 + ut * 2)))
}

/// Balancing timer of CB_CELLn_CTRL \[TIME4:0\] in seconds per code (SLUSE81E CB_CELL*_CTRL,
/// 0x0318–0x0327): 0x00 = stop, 0x01 = 10 s, 0x02 = 30 s, 0x03 = 60 s, 0x04 = 300 s,
/// 0x05–0x10 = 10–120 min in 10-min steps, 0x11–0x1E = 150–540 min in 30-min steps,
/// 0x1F = 600 min.
pub const BALANCE_TIMES_S: [u32; 32] = [
    0, 10, 30, 60, 300, 600, 1_200, 1_800, 2_400, 3_000, 3_600, 4_200, 4_800, 5_400, 6_000, 6_600,
    7_200, 9_000, 10_800, 12_600, 14_400, 16_200, 18_000, 19_800, 21_600, 23_400, 25_200, 27_000,
    28_800, 30_600, 32_400, 36_000,
];

/// BAL_CTRL1 \[DUTY2:0\] (0x032E, SLUSE81E): how long automatic odd/even balancing stays on
/// one set before switching: 5 s, 10 s, 30 s, 60 s, 5 min, 10 min, 20 min, 30 min.
pub const DUTY_TIMES_S: [u32; 8] = [5, 10, 30, 60, 300, 600, 1_200, 1_800];

/// The largest DUTY code whose time is at most `seconds`, and its time (`None` below 5 s).
pub fn duty(seconds: u32) -> Option<(u8, u32)> {
    let mut best = None;
    for (i, &t) in DUTY_TIMES_S.iter().enumerate() {
        if t <= seconds {
            best = Some((i as u8, t));
        }
    }
    best
}

/// The largest timer code whose time is at most `seconds` (0 = off), and its time.
pub fn balance_timer(seconds: u32) -> (u8, u32) {
    let mut best = (0u8, 0u32);
    for (i, &t) in BALANCE_TIMES_S.iter().enumerate() {
        if t <= seconds && i > 0 {
            best = (i as u8, t);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ov_codes_round_trip() {
        for code in (0x02..=0x0E).chain(0x12..=0x1E).chain(0x22..=0x2E) {
            let v = ov_thresh_value(code);
            assert_eq!(ov_thresh(v).unwrap(), (code, v));
        }
        assert!(ov_thresh(MicroVolts(2_699_000)).is_err());
        assert!(ov_thresh(MicroVolts(4_476_000)).is_err());
        // 3000–3500 gap: 3.3 V → 3.0 V.
        assert_eq!(
            ov_thresh(MicroVolts(3_300_000)).unwrap().1,
            MicroVolts(3_000_000)
        );
    }

    #[test]
    fn uv_codes_round_trip() {
        for code in 0..=0x26 {
            let v = uv_thresh_value(code);
            assert_eq!(uv_thresh(v).unwrap(), (code, v));
        }
        assert!(uv_thresh(MicroVolts(1_199_999)).is_err());
    }

    #[test]
    fn timers_round_down() {
        assert_eq!(balance_timer(0), (0, 0));
        assert_eq!(balance_timer(9), (0, 0));
        assert_eq!(balance_timer(10), (1, 10));
        assert_eq!(balance_timer(299), (3, 60));
        assert_eq!(balance_timer(u32::MAX), (31, 36_000));
        assert_eq!(balance_timer(7_200), (16, 7_200));
        assert_eq!(balance_timer(9_000), (17, 9_000));
        assert_eq!(active_cell_code(16), Some(10));
        assert_eq!(duty(4), None);
        assert_eq!(duty(5), Some((0, 5)));
        assert_eq!(duty(299), Some((3, 60)));
        assert_eq!(duty(u32::MAX), Some((7, 1_800)));
        assert_eq!(active_cell_code(5), None);
    }
}
