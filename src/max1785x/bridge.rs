//! The MAX17841B SPI-to-UART bridge: its SPI command set, registers and status flags.
//!
//! Sources: foxBMS `mxm_41b_register_map.h` and `mxm_17841b.c` (foxBMS/foxbms-2 @308028fb,
//! BSD-3-Clause) and the ADI reference firmware `Max17841.h` / `Initialization.cpp`
//! (analogdevicesinc/MAXREFDES1301 @4751c026), which agree. SPI mode 0, MSB first
//! (MAXREFDES1301). Register addresses: even = write, odd = read.
//!
//! One battery-management message is one bridge transaction of five chip-select frames
//! (foxBMS `MXM_41BBufferWrite` / `MXM_41BStateHandlerUartTransaction`; MAXREFDES1301
//! `V_measure.cpp`):
//!
//! | frame | bytes | what |
//! |---|---|---|
//! | 1 | `E0` | [`CLR_RX_BUF`]: no stale message can be read as the answer |
//! | 2 | `C0 len msg…` | [`WR_LD_Q0`]: load the message; `len` = bytes the bridge clocks back (message + 2 per device for READALL, + 2 for READDEVICE, + 1 with the alive counter) |
//! | 3 | `B0` | [`WR_NXT_LD_Q0`]: queue it for transmission |
//! | 4… | `01 00` | read RX_STATUS until [`RxStatus::STOP`] (the message came back), bounded |
//! | 5 | `93 00×len` | [`RD_NXT_MSG`]: the returned message (the first byte out is clocked during the command) |

use bitflags::bitflags;

/// Clear the transmit buffer and queues.
pub const CLR_TX_BUF: u8 = 0x20;
/// Read the receive buffer from the read pointer.
pub const RD_MSG: u8 = 0x91;
/// Read the oldest unread message.
pub const RD_NXT_MSG: u8 = 0x93;
/// Select the next load queue (queue it for transmission), write from location 0.
pub const WR_NXT_LD_Q0: u8 = 0xB0;
/// Write the load queue from location 0.
pub const WR_LD_Q0: u8 = 0xC0;
/// Read the load queue from location 0.
pub const RD_LD_Q0: u8 = 0xC1;
/// Clear the receive buffer and pointers.
pub const CLR_RX_BUF: u8 = 0xE0;

/// A MAX17841B register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BridgeRegister {
    /// RX_STATUS (read only, 0x01), see [`RxStatus`].
    RxStatus,
    /// TX_STATUS (read only, 0x03).
    TxStatus,
    /// RX_INTERRUPT_ENABLE (0x04 / 0x05).
    RxInterruptEnable,
    /// TX_INTERRUPT_ENABLE (0x06 / 0x07).
    TxInterruptEnable,
    /// RX_INTERRUPT_FLAGS (0x08 / 0x09).
    RxInterruptFlags,
    /// TX_INTERRUPT_FLAGS (0x0A / 0x0B).
    TxInterruptFlags,
    /// CONFIGURATION_1 (0x0C / 0x0D).
    Configuration1,
    /// CONFIGURATION_2 (0x0E / 0x0F): transmit preambles.
    Configuration2,
    /// CONFIGURATION_3 (0x10 / 0x11): keep-alive.
    Configuration3,
    /// FMEA (read only, 0x13).
    Fmea,
    /// MODEL (read only, 0x15).
    Model,
    /// VERSION (read only, 0x17).
    Version,
    /// RX_BYTE (read only, 0x19).
    RxByte,
    /// RX_SPACE (read only, 0x1B).
    RxSpace,
}

impl BridgeRegister {
    /// The read command byte.
    pub const fn read(self) -> u8 {
        match self {
            Self::RxStatus => 0x01,
            Self::TxStatus => 0x03,
            Self::RxInterruptEnable => 0x05,
            Self::TxInterruptEnable => 0x07,
            Self::RxInterruptFlags => 0x09,
            Self::TxInterruptFlags => 0x0B,
            Self::Configuration1 => 0x0D,
            Self::Configuration2 => 0x0F,
            Self::Configuration3 => 0x11,
            Self::Fmea => 0x13,
            Self::Model => 0x15,
            Self::Version => 0x17,
            Self::RxByte => 0x19,
            Self::RxSpace => 0x1B,
        }
    }

    /// The write command byte, for writable registers.
    pub const fn write(self) -> Option<u8> {
        match self {
            Self::RxInterruptEnable => Some(0x04),
            Self::TxInterruptEnable => Some(0x06),
            Self::RxInterruptFlags => Some(0x08),
            Self::TxInterruptFlags => Some(0x0A),
            Self::Configuration1 => Some(0x0C),
            Self::Configuration2 => Some(0x0E),
            Self::Configuration3 => Some(0x10),
            _ => None,
        }
    }

    /// The name (data-sheet spelling).
    pub const fn name(self) -> &'static str {
        match self {
            Self::RxStatus => "RX_STATUS",
            Self::TxStatus => "TX_STATUS",
            Self::RxInterruptEnable => "RX_INTERRUPT_ENABLE",
            Self::TxInterruptEnable => "TX_INTERRUPT_ENABLE",
            Self::RxInterruptFlags => "RX_INTERRUPT_FLAGS",
            Self::TxInterruptFlags => "TX_INTERRUPT_FLAGS",
            Self::Configuration1 => "CONFIGURATION_1",
            Self::Configuration2 => "CONFIGURATION_2",
            Self::Configuration3 => "CONFIGURATION_3",
            Self::Fmea => "FMEA",
            Self::Model => "MODEL",
            Self::Version => "VERSION",
            Self::RxByte => "RX_BYTE",
            Self::RxSpace => "RX_SPACE",
        }
    }
}

bitflags! {
    /// RX_STATUS bits (foxBMS `mxm_17841b.c` `MXM_41BReadRegisterFunction`: RX_EMPTY bit 0,
    /// RX_STOP bit 1, RX_OVERFLOW bit 3, RX_BUSY bit 5). Other bits are kept as read.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RxStatus: u8 {
        /// The receive buffer is empty.
        const EMPTY = 1 << 0;
        /// A stop character was received: a complete message is in the buffer.
        const STOP = 1 << 1;
        /// The receive buffer overflowed (a message was lost).
        const OVERFLOW = 1 << 3;
        /// The receiver is busy (characters, e.g. returning preambles, are arriving).
        const BUSY = 1 << 5;
        const _ = !0;
    }
}

bitflags! {
    /// RX_INTERRUPT_ENABLE bits (foxBMS `mxm_17841b.h`: `MXM_41B_RX_ERROR` bit 7,
    /// `MXM_41B_RX_OVERFLOW_INT_ENABLE` bit 3; foxBMS enables both at start-up). The flags
    /// register RX_INTERRUPT_FLAGS is read as raw bits by this crate (its layout is not in
    /// the cited sources).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RxInterrupt: u8 {
        /// Receive error (a character or message error on the UART) interrupt.
        const ERROR = 1 << 7;
        /// Receive buffer overflow interrupt.
        const OVERFLOW = 1 << 3;
        const _ = !0;
    }
}

/// CONFIGURATION_2 with transmit preambles on: the chain wake-up (MAXREFDES1301
/// `Initialization.cpp`; foxBMS `MXM_41B_TX_PREAMBLES`, bit 5).
pub const CONFIG2_PREAMBLES_ON: u8 = 0x30;
/// CONFIGURATION_2 with transmit preambles off (MAXREFDES1301).
pub const CONFIG2_PREAMBLES_OFF: u8 = 0x10;
/// CONFIGURATION_3 keep-alive of 160 µs (foxBMS `mxm_kConfig3KeepAlive160us41BRegister`,
/// MAXREFDES1301): the bridge keeps the UART chain awake between messages.
pub const CONFIG3_KEEP_ALIVE_160US: u8 = 0x05;

/// The bytes of a load-queue write: `[WR_LD_Q0, len, message…]` into `out`; returns the
/// frame length, or `None` if `out` is too small or `len` does not fit a byte.
pub fn load_queue_frame(message: &[u8], response_len: usize, out: &mut [u8]) -> Option<usize> {
    let n = message.len() + 2;
    let len = u8::try_from(response_len).ok()?;
    let frame = out.get_mut(..n)?;
    let (head, body) = frame.split_at_mut(2);
    head.copy_from_slice(&[WR_LD_Q0, len]);
    body.copy_from_slice(message);
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_commands_are_even_write_odd_read() {
        for r in [
            BridgeRegister::RxInterruptEnable,
            BridgeRegister::Configuration2,
            BridgeRegister::Configuration3,
        ] {
            assert_eq!(r.write().map(|w| w + 1), Some(r.read()));
        }
        assert_eq!(BridgeRegister::RxStatus.write(), None);
        assert_eq!(BridgeRegister::Configuration3.read(), 0x11);
        assert_eq!(BridgeRegister::RxSpace.read(), 0x1B);
    }

    #[test]
    fn load_frame_layout() {
        // MAXREFDES1301 `V_measure.cpp`: WR_LD_Q0, length, message.
        let mut out = [0u8; 8];
        assert_eq!(
            load_queue_frame(&[0x03, 0x47, 0x00, 0x6F], 8, &mut out),
            Some(6)
        );
        assert_eq!(out[..6], [0xC0, 0x08, 0x03, 0x47, 0x00, 0x6F]);
        assert_eq!(load_queue_frame(&[0; 7], 9, &mut out), None);
        assert_eq!(load_queue_frame(&[0; 2], 300, &mut out), None);
    }
}
