//! Direct-command addresses and subcommand codes (SLUAA11B "Direct Commands"; SLUUBY2B
//! command tables).
//!
//! Direct commands are 7-bit register addresses read (or written) directly over I2C;
//! multi-byte values are little-endian. Subcommands are 16-bit codes written to 0x3E/0x3F,
//! with data (if any) in the 0x40 transfer buffer.

/// Direct-command register addresses.
pub mod direct {
    /// Control Status (H2): b0 LD_ON, b1 LD_TIMEOUT, b2 DEEPSLEEP.
    pub const CONTROL_STATUS: u8 = 0x00;
    /// Safety Alert A (H1).
    pub const SAFETY_ALERT_A: u8 = 0x02;
    /// Safety Status A (H1).
    pub const SAFETY_STATUS_A: u8 = 0x03;
    /// Safety Alert B (H1).
    pub const SAFETY_ALERT_B: u8 = 0x04;
    /// Safety Status B (H1).
    pub const SAFETY_STATUS_B: u8 = 0x05;
    /// Safety Alert C (H1).
    pub const SAFETY_ALERT_C: u8 = 0x06;
    /// Safety Status C (H1).
    pub const SAFETY_STATUS_C: u8 = 0x07;
    /// Permanent-fail Alert A (H1); Alert/Status A–D alternate at 0x0A..=0x11.
    pub const PF_ALERT_A: u8 = 0x0A;
    /// Permanent-fail Status A (H1).
    pub const PF_STATUS_A: u8 = 0x0B;
    /// Battery Status (H2).
    pub const BATTERY_STATUS: u8 = 0x12;
    /// Cell 1 Voltage (I2, mV); cell `n` is at `0x14 + 2 (n − 1)`.
    pub const CELL1_VOLTAGE: u8 = 0x14;
    /// Stack (top-of-stack) Voltage (I2, userV).
    pub const STACK_VOLTAGE: u8 = 0x34;
    /// PACK pin voltage (I2, userV).
    pub const PACK_VOLTAGE: u8 = 0x36;
    /// LD pin voltage (I2, userV).
    pub const LD_VOLTAGE: u8 = 0x38;
    /// CC2 current (I2, userA).
    pub const CC2_CURRENT: u8 = 0x3A;
    /// Subcommand / data-memory address, low byte (high byte at 0x3F).
    pub const SUBCOMMAND: u8 = 0x3E;
    /// Start of the 32-byte transfer buffer.
    pub const TRANSFER_BUFFER: u8 = 0x40;
    /// Transfer-buffer checksum (length follows at 0x61).
    pub const TRANSFER_CHECKSUM: u8 = 0x60;
    /// Transfer length (data + 4); written last.
    pub const TRANSFER_LENGTH: u8 = 0x61;
    /// Alarm Status (H2, latched; write 1s to clear).
    pub const ALARM_STATUS: u8 = 0x62;
    /// Alarm Raw Status (H2).
    pub const ALARM_RAW_STATUS: u8 = 0x64;
    /// Alarm Enable (H2).
    pub const ALARM_ENABLE: u8 = 0x66;
    /// Internal (die) temperature (I2, 0.1 K).
    pub const INT_TEMPERATURE: u8 = 0x68;
    /// FET Status (H1).
    pub const FET_STATUS: u8 = 0x7F;
}

/// Subcommand codes.
pub mod sub {
    /// Device number (U2).
    pub const DEVICE_NUMBER: u16 = 0x0001;
    /// Firmware version (6 bytes: device number, firmware version, build number).
    pub const FW_VERSION: u16 = 0x0002;
    /// Hardware version (U2).
    pub const HW_VERSION: u16 = 0x0003;
    /// Exit DEEPSLEEP.
    pub const EXIT_DEEPSLEEP: u16 = 0x000E;
    /// Enter DEEPSLEEP (must be sent twice in a row).
    pub const DEEPSLEEP: u16 = 0x000F;
    /// Enter SHUTDOWN (must be sent twice in a row).
    pub const SHUTDOWN: u16 = 0x0010;
    /// Reset: data memory returns to OTP/default values.
    pub const RESET: u16 = 0x0012;
    /// Toggle Manufacturing Status FET_EN (autonomous FET control).
    pub const FET_ENABLE: u16 = 0x0022;
    /// Toggle Manufacturing Status PF_EN.
    pub const PF_ENABLE: u16 = 0x0024;
    /// Seal the device.
    pub const SEAL: u16 = 0x0030;
    /// Security keys (read/write in FULLACCESS).
    pub const SECURITY_KEYS: u16 = 0x0035;
    /// Manufacturing Status (H2).
    pub const MANUFACTURING_STATUS: u16 = 0x0057;
    /// DASTATUS1 (cell 1–4 raw ADC counts); DASTATUS2..7 follow at 0x0072..=0x0077.
    pub const DASTATUS1: u16 = 0x0071;
    /// Cells the host asked to balance (H2).
    pub const CB_ACTIVE_CELLS: u16 = 0x0083;
    /// Enter CONFIG_UPDATE mode.
    pub const SET_CFGUPDATE: u16 = 0x0090;
    /// Exit CONFIG_UPDATE mode.
    pub const EXIT_CFGUPDATE: u16 = 0x0092;
    /// Turn DSG and PDSG off (host override).
    pub const DSG_PDSG_OFF: u16 = 0x0093;
    /// Turn CHG and PCHG off (host override).
    pub const CHG_PCHG_OFF: u16 = 0x0094;
    /// Turn all FETs off (host override).
    pub const ALL_FETS_OFF: u16 = 0x0095;
    /// Release the host FET overrides.
    pub const ALL_FETS_ON: u16 = 0x0096;
    /// FET_CONTROL (H1): b0 DSG_OFF, b1 PDSG_OFF, b2 CHG_OFF, b3 PCHG_OFF — a different layout
    /// from FET Status.
    pub const FET_CONTROL: u16 = 0x0097;
    /// Allow SLEEP.
    pub const SLEEP_ENABLE: u16 = 0x0099;
    /// Block SLEEP.
    pub const SLEEP_DISABLE: u16 = 0x009A;
    /// Swap to I2C (fast mode, no CRC unless configured).
    pub const SWAP_TO_I2C: u16 = 0x29E7;

    /// The TRM name of a subcommand this module lists (`"subcommand"` for others, and
    /// `"data memory"` for 0x9000..=0x9FFF), for error messages.
    pub const fn name(code: u16) -> &'static str {
        match code {
            DEVICE_NUMBER => "DEVICE_NUMBER",
            FW_VERSION => "FW_VERSION",
            HW_VERSION => "HW_VERSION",
            EXIT_DEEPSLEEP => "EXIT_DEEPSLEEP",
            DEEPSLEEP => "DEEPSLEEP",
            SHUTDOWN => "SHUTDOWN",
            RESET => "RESET",
            FET_ENABLE => "FET_ENABLE",
            PF_ENABLE => "PF_ENABLE",
            SEAL => "SEAL",
            SECURITY_KEYS => "SECURITY_KEYS",
            MANUFACTURING_STATUS => "MANUFACTURING_STATUS",
            0x0071..=0x0077 => "DASTATUS",
            CB_ACTIVE_CELLS => "CB_ACTIVE_CELLS",
            SET_CFGUPDATE => "SET_CFGUPDATE",
            EXIT_CFGUPDATE => "EXIT_CFGUPDATE",
            DSG_PDSG_OFF => "DSG_PDSG_OFF",
            CHG_PCHG_OFF => "CHG_PCHG_OFF",
            ALL_FETS_OFF => "ALL_FETS_OFF",
            ALL_FETS_ON => "ALL_FETS_ON",
            FET_CONTROL => "FET_CONTROL",
            SLEEP_ENABLE => "SLEEP_ENABLE",
            SLEEP_DISABLE => "SLEEP_DISABLE",
            SWAP_TO_I2C => "SWAP_TO_I2C",
            0x9000..=0x9FFF => "data memory",
            _ => "subcommand",
        }
    }
}
