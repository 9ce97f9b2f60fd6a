//! Errors.
//!
//! [`Error<E>`] is what every driver returns: generic over the bus error `E` (kept as is, so
//! the HAL's own `kind()` stays reachable), `#[non_exhaustive]`, with a non-generic
//! [`ErrorKind`] from [`Error::kind`]. Integrity failures always name the device in the chain
//! (index 0 = the device nearest the host). [`ConfigError`] is the bus-free error of the
//! pure configuration builders.

use core::fmt;

/// Why the data from one device could not be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FaultReason {
    /// The packet error code did not match (`expected` computed over the received data).
    Pec {
        /// PEC computed by the host over the received bytes.
        expected: u16,
        /// PEC received from the device.
        received: u16,
    },
    /// The ADBMS68xx command counter was not the one the host expected: a command was missed
    /// or seen twice by this device.
    CommandCounter {
        /// Counter value the host expected.
        expected: u8,
        /// Counter value the device reported (inside a frame whose PEC was good).
        received: u8,
    },
    /// The device did not drive the bus: every byte of its frame, PEC included, read as 0xFF
    /// (or 0x00). Usually a broken isoSPI link or a device that is not awake.
    NoResponse,
    /// A TI I2C CRC-8 byte did not match.
    Crc {
        /// CRC computed by the host.
        expected: u8,
        /// CRC received.
        received: u8,
    },
    /// A TI subcommand transfer-buffer checksum or length did not match.
    Checksum {
        /// Checksum computed by the host.
        expected: u8,
        /// Checksum read from the device.
        received: u8,
    },
    /// The response had an impossible length or framing.
    Framing,
}

impl fmt::Display for FaultReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Pec { expected, received } => {
                write!(
                    f,
                    "PEC mismatch (computed {expected:#06x}, received {received:#06x})"
                )
            }
            Self::CommandCounter { expected, received } => write!(
                f,
                "command counter mismatch (expected {expected}, device reports {received})"
            ),
            Self::NoResponse => f.write_str("no response (bus idle level)"),
            Self::Crc { expected, received } => {
                write!(
                    f,
                    "CRC-8 mismatch (computed {expected:#04x}, received {received:#04x})"
                )
            }
            Self::Checksum { expected, received } => write!(
                f,
                "checksum mismatch (computed {expected:#04x}, received {received:#04x})"
            ),
            Self::Framing => f.write_str("malformed response"),
        }
    }
}

/// An integrity failure at one device of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeviceFault {
    /// Index in the chain, 0 = nearest the host (a single I2C chip is device 0).
    pub device: u8,
    /// What was wrong.
    pub reason: FaultReason,
}

impl fmt::Display for DeviceFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "device {}: {}", self.device, self.reason)
    }
}

/// A configuration write whose read-back differed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct VerifyMismatch {
    /// Device index (0 = nearest the host).
    pub device: u8,
    /// Register (group) name as in the data sheet, e.g. `"CFGRA"`.
    pub register: &'static str,
    /// Byte offset within the register (group) of the first differing byte.
    pub offset: u8,
    /// Byte written (after masking read-only bits).
    pub expected: u8,
    /// Byte read back.
    pub actual: u8,
}

/// A configuration value the pure builders rejected; no bus involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// A value outside the range the chip can represent.
    OutOfRange {
        /// The setting, e.g. `"overvoltage threshold (µV)"`.
        field: &'static str,
        /// The value given.
        value: i64,
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// A cell index or mask bit that does not exist on this chip or chain.
    NoSuchCell {
        /// 1-based cell number, or the device-level bit position.
        cell: u16,
        /// Cells available.
        available: u16,
    },
    /// Settings that contradict each other or a chip rule (e.g. adjacent balancing cells).
    Conflict(&'static str),
    /// The chip does not have this function.
    Unsupported(&'static str),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::OutOfRange {
                field,
                value,
                min,
                max,
            } => {
                write!(f, "{field} = {value} is outside {min}..={max}")
            }
            Self::NoSuchCell { cell, available } => {
                write!(f, "cell {cell} does not exist ({available} available)")
            }
            Self::Conflict(what) => write!(f, "conflicting settings: {what}"),
            Self::Unsupported(what) => write!(f, "not supported by this chip: {what}"),
        }
    }
}

impl core::error::Error for ConfigError {}

/// The error of every driver operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error<E> {
    /// The bus (SPI/I2C) failed; the HAL's error is kept.
    Bus(E),
    /// A response failed its integrity check; the device is named. No data from it was used.
    Integrity(DeviceFault),
    /// A bounded wait or poll ran out (`what` names the operation).
    Timeout(&'static str),
    /// A caller-supplied argument was unusable (wrong slice length, index out of range …).
    InvalidArgument(&'static str),
    /// A configuration value was rejected before anything was sent.
    Config(ConfigError),
    /// A configuration write read back differently.
    Verify(VerifyMismatch),
    /// The device answered with valid integrity codes but reported something impossible or
    /// refused the operation (wrong device ID, security state, …).
    Device {
        /// Device index.
        device: u8,
        /// What the device reported.
        what: &'static str,
    },
    /// The operation needs an access (security) state the chip is not in — e.g. a bq769x2
    /// that is SEALED refuses data-memory reads and FET_ENABLE until it is unsealed. Raised
    /// before anything is changed (the driver reads the state first) or when the chip's
    /// answer shows the refusal. The names are the data sheet's.
    NeedsAccess {
        /// Device index.
        device: u8,
        /// The operation refused, e.g. `"CONFIG_UPDATE"` or `"FET_ENABLE"`.
        operation: &'static str,
        /// The state the chip reported, e.g. `"SEALED"`.
        state: &'static str,
        /// The state the operation needs, e.g. `"UNSEALED"` or `"FULLACCESS"`.
        needs: &'static str,
    },
}

/// The kind of an [`Error`], without the bus error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::Bus`].
    Bus,
    /// [`Error::Integrity`] other than a missing response.
    Integrity,
    /// [`Error::Integrity`] with [`FaultReason::NoResponse`].
    NoResponse,
    /// [`Error::Timeout`].
    Timeout,
    /// [`Error::InvalidArgument`].
    InvalidArgument,
    /// [`Error::Config`].
    Config,
    /// [`Error::Verify`].
    Verify,
    /// [`Error::Device`].
    Device,
    /// [`Error::NeedsAccess`].
    NeedsAccess,
}

impl<E> Error<E> {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Bus(_) => ErrorKind::Bus,
            Self::Integrity(DeviceFault {
                reason: FaultReason::NoResponse,
                ..
            }) => ErrorKind::NoResponse,
            Self::Integrity(_) => ErrorKind::Integrity,
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Self::Config(_) => ErrorKind::Config,
            Self::Verify(_) => ErrorKind::Verify,
            Self::Device { .. } => ErrorKind::Device,
            Self::NeedsAccess { .. } => ErrorKind::NeedsAccess,
        }
    }

    /// The device this error is about, where there is one.
    pub fn device(&self) -> Option<u8> {
        match self {
            Self::Integrity(f) => Some(f.device),
            Self::Verify(v) => Some(v.device),
            Self::Device { device, .. } => Some(*device),
            Self::NeedsAccess { device, .. } => Some(*device),
            _ => None,
        }
    }
}

impl<E> From<ConfigError> for Error<E> {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl<E> From<DeviceFault> for Error<E> {
    fn from(e: DeviceFault) -> Self {
        Self::Integrity(e)
    }
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bus(e) => write!(f, "bus error: {e:?}"),
            Self::Integrity(d) => write!(f, "integrity failure at {d}"),
            Self::Timeout(what) => write!(f, "timed out waiting for {what}"),
            Self::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Self::Config(c) => write!(f, "invalid configuration: {c}"),
            Self::Verify(v) => write!(
                f,
                "read-back mismatch at device {} {} byte {}: wrote {:#04x}, read {:#04x}",
                v.device, v.register, v.offset, v.expected, v.actual
            ),
            Self::Device { device, what } => write!(f, "device {device}: {what}"),
            Self::NeedsAccess {
                device,
                operation,
                state,
                needs,
            } => write!(
                f,
                "device {device}: {operation} needs {needs}, the chip is {state}"
            ),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn kinds_and_display_name_the_device() {
        let e: Error<()> = Error::Integrity(DeviceFault {
            device: 9,
            reason: FaultReason::Pec {
                expected: 0x110C,
                received: 0x110D,
            },
        });
        assert_eq!(e.kind(), ErrorKind::Integrity);
        assert_eq!(e.device(), Some(9));
        assert_eq!(
            e.to_string(),
            "integrity failure at device 9: PEC mismatch (computed 0x110c, received 0x110d)"
        );
        let n: Error<()> = Error::Integrity(DeviceFault {
            device: 3,
            reason: FaultReason::NoResponse,
        });
        assert_eq!(n.kind(), ErrorKind::NoResponse);
        let c: Error<()> = ConfigError::OutOfRange {
            field: "x",
            value: 7,
            min: 0,
            max: 5,
        }
        .into();
        assert_eq!(c.kind(), ErrorKind::Config);
        assert_eq!(
            c.to_string(),
            "invalid configuration: x = 7 is outside 0..=5"
        );
        assert_eq!(c.device(), None);
        let a: Error<()> = Error::NeedsAccess {
            device: 0,
            operation: "CONFIG_UPDATE",
            state: "SEALED",
            needs: "FULLACCESS",
        };
        assert_eq!(a.kind(), ErrorKind::NeedsAccess);
        assert_eq!(a.device(), Some(0));
        assert_eq!(
            a.to_string(),
            "device 0: CONFIG_UPDATE needs FULLACCESS, the chip is SEALED"
        );
    }
}
