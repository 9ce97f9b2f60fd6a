//! The [`CellMonitor`] trait (blocking) and its async twin [`AsyncCellMonitor`], with the
//! shared types generic BMS code needs.
//!
//! A monitor is one chain of `device_count()` devices (a single I2C chip is a chain of one)
//! with `cell_count()` cells in all. Device 0 is the device nearest the host.
//!
//! **Integrity at the type level.** Every value read comes as a [`Reading`]: `Valid` only if
//! its frame passed every integrity check, `NotConverted` when the chip reports its
//! cleared/reset code with a good PEC (e.g. LTC681x 0xFFFF, ADBMS6830 0x8000), and `Failed`
//! naming the device and the reason otherwise. A bad device fails only its own slots: the
//! call returns `Ok` with a [`ChainReport`] listing the failed devices, so the other devices'
//! data stays usable. Bus errors (the SPI/I2C HAL failed) are `Err`.
//!
//! # What each family needs before the trait methods work
//!
//! Generic code should not need chip knowledge to get a correct answer; where a chip state
//! matters, this is what the drivers do or require (details in each family's mapping table:
//! [`ltc681x`](crate::ltc681x#cellmonitor-mapping), [`adbms6830`](crate::adbms6830#mapping-to-cellmonitor),
//! [`bq769x2`](crate::bq769x2#mapping-onto-cellmonitor)).
//!
//! | | LTC681x | ADBMS6830 | bq769x2 |
//! |---|---|---|---|
//! | before the first call | `wake` (cores asleep after power-up and after ~2 s without a valid command; `wake` also writes the held configuration again) | `wake` (same reasons) | nothing: any security state, SEALED included |
//! | chain length | `N` unless `set_device_count` / `detect_device_count`; `device_count()` and every slice length follow it | same | 1 |
//! | measure / read methods | nothing more: each call wakes idle isoSPI ports itself | same | nothing (direct commands) |
//! | `set_balancing` | nothing | nothing | nothing in any security state (TI SLUAA81A: host balancing works SEALED), unless the chip's CB_NO_CMD is set; stopping with nothing balancing writes nothing |
//! | `read_faults` | nothing: the MUX decoder check runs inside each call (a fresh chain reads healthy); OV flags need an OV threshold set (else reported 0, `raw` bit 2) | nothing (status C/D; the SLEEP flag is not a fault) | nothing |
//!
//! An operation that needs an access state the chip is not in returns
//! [`Error::NeedsAccess`] naming the operation, the chip's state and the state needed.
//!
//! ```
//! use bms_afe::monitor::{ChainReport, Reading};
//! use bms_afe::units::MicroVolts;
//! use bms_afe::error::{DeviceFault, FaultReason};
//!
//! let cells = [
//!     Reading::Valid(MicroVolts(3_650_000)),
//!     Reading::NotConverted,
//!     Reading::Failed(DeviceFault { device: 1, reason: FaultReason::NoResponse }),
//! ];
//! let lowest = cells.iter().filter_map(|c| c.valid()).min();
//! assert_eq!(lowest, Some(MicroVolts(3_650_000)));
//! ```

use core::fmt::Debug;

use crate::error::{DeviceFault, Error};
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};

/// The largest chain the shared machinery supports (bits in a [`DeviceSet`]).
pub const MAX_DEVICES: usize = 64;

/// One value read from a device, with its integrity verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reading<T> {
    /// The frame passed every check and the code is a real measurement.
    Valid(T),
    /// The frame was intact but the register holds the chip's "no result" code (never
    /// converted since power-up or clear). Not a voltage.
    NotConverted,
    /// The frame (or the device) failed; nothing from it is used.
    Failed(DeviceFault),
}

impl<T> Reading<T> {
    /// The value if valid.
    pub fn valid(self) -> Option<T> {
        match self {
            Self::Valid(v) => Some(v),
            _ => None,
        }
    }

    /// `true` for [`Reading::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid(_))
    }

    /// Maps a valid value, keeping the verdict otherwise.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Reading<U> {
        match self {
            Self::Valid(v) => Reading::Valid(f(v)),
            Self::NotConverted => Reading::NotConverted,
            Self::Failed(d) => Reading::Failed(d),
        }
    }

    /// The value, or an error for anything but `Valid` (`NotConverted` becomes
    /// [`Error::Device`] with "not converted").
    pub fn into_result<E>(self, device: u8) -> Result<T, Error<E>> {
        match self {
            Self::Valid(v) => Ok(v),
            Self::NotConverted => Err(Error::Device {
                device,
                what: "result not converted",
            }),
            Self::Failed(d) => Err(Error::Integrity(d)),
        }
    }
}

/// A set of device indices (0..64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeviceSet(pub u64);

impl DeviceSet {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// Adds a device (indices ≥ 64 are ignored; chains are limited to [`MAX_DEVICES`]).
    pub fn insert(&mut self, device: usize) {
        if device < MAX_DEVICES {
            self.0 |= 1 << device;
        }
    }

    /// `true` if the device is in the set.
    pub fn contains(&self, device: usize) -> bool {
        device < MAX_DEVICES && self.0 & (1 << device) != 0
    }

    /// Number of devices in the set.
    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// `true` if no device is in the set.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The devices in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let bits = self.0;
        (0..MAX_DEVICES).filter(move |d| bits & (1 << d) != 0)
    }
}

/// Per-device outcome of a chain operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChainReport {
    /// Devices whose frames failed their integrity check (after retries).
    pub failed: DeviceSet,
    /// The fault of the lowest-indexed failed device.
    pub first_fault: Option<DeviceFault>,
}

impl ChainReport {
    /// A report with no failures.
    pub const OK: Self = Self {
        failed: DeviceSet::EMPTY,
        first_fault: None,
    };

    /// `true` if every device passed.
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty()
    }

    /// Records a device fault.
    pub fn record(&mut self, fault: DeviceFault) {
        self.failed.insert(fault.device as usize);
        match self.first_fault {
            Some(f) if f.device <= fault.device => {}
            _ => self.first_fault = Some(fault),
        }
    }

    /// Merges another report into this one.
    pub fn merge(&mut self, other: ChainReport) {
        self.failed.0 |= other.failed.0;
        if let Some(f) = other.first_fault {
            self.record(f);
        }
    }

    /// `Ok(())` if every device passed, else the first device's integrity error — for callers
    /// that want all-or-nothing.
    pub fn into_result<E>(self) -> Result<(), Error<E>> {
        match self.first_fault {
            None => Ok(()),
            Some(f) => Err(Error::Integrity(f)),
        }
    }
}

/// Cell-conversion speed, mapped by each family to its nearest ADC mode (see the family docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConversionMode {
    /// Fastest conversion, most noise (LTC681x 27 kHz).
    Fast,
    /// The data sheet's recommended default (LTC681x 7 kHz).
    Normal,
    /// Most filtering, slowest (LTC681x 26 Hz).
    Filtered,
}

/// Decoded fault and status flags of one device, common to all families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Faults {
    /// Bit `k` set: cell `k + 1` of this device is over its overvoltage threshold.
    pub overvoltage: u32,
    /// Bit `k` set: cell `k + 1` of this device is under its undervoltage threshold.
    pub undervoltage: u32,
    /// Over-temperature (chip or sensor, as the family defines).
    pub over_temperature: bool,
    /// Under-temperature.
    pub under_temperature: bool,
    /// The chip's thermal shutdown occurred (configuration was reset).
    pub thermal_shutdown: bool,
    /// The chip reports an internal integrity problem (MUX fail, redundancy mismatch,
    /// oscillator, supply …).
    pub internal: bool,
    /// Overcurrent in charge or discharge (current-sensing chips).
    pub overcurrent: bool,
    /// Short circuit in discharge.
    pub short_circuit: bool,
    /// Device-specific raw bits, documented by each family.
    pub raw: u32,
}

impl Faults {
    /// `true` if any flag is set (ignoring `raw`).
    pub fn any(&self) -> bool {
        self.overvoltage != 0
            || self.undervoltage != 0
            || self.over_temperature
            || self.under_temperature
            || self.thermal_shutdown
            || self.internal
            || self.overcurrent
            || self.short_circuit
    }
}

/// What generic BMS code needs from any cell monitor (blocking).
///
/// Slices passed in must have exactly the documented length, else
/// [`Error::InvalidArgument`] is returned and nothing is sent. Chip-specific abilities are
/// inherent methods of each driver.
pub trait CellMonitor {
    /// The bus error type.
    type BusError: Debug;

    /// Devices in the chain (1 for a single I2C chip).
    fn device_count(&self) -> usize;
    /// Cells monitored per device (as configured).
    fn cells_per_device(&self) -> usize;
    /// Cells in the whole chain (`device_count() × cells_per_device()`).
    fn cell_count(&self) -> usize {
        self.device_count() * self.cells_per_device()
    }
    /// Temperature channels per device that [`CellMonitor::measure_temperatures`] reports.
    fn temperatures_per_device(&self) -> usize;

    /// Wakes the chain (or device) from sleep/idle, with the data-sheet timings.
    fn wake(&mut self) -> Result<(), Error<Self::BusError>>;

    /// Starts a cell-voltage conversion on every device; returns how long to wait before
    /// reading. Chips that convert on their own return the time until fresh data.
    fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<Self::BusError>>;

    /// Reads the last converted cell voltages. `out.len() == cell_count()`, device 0's cells
    /// first, cell 1 first within a device.
    fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<Self::BusError>>;

    /// Starts a conversion, waits the returned time with the driver's delay, and reads.
    fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<Self::BusError>>;

    /// Converts (if the chip needs it), waits, and reads all temperature channels.
    /// `out.len() == device_count() × temperatures_per_device()`, device 0 first.
    fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<Self::BusError>>;

    /// Converts (if needed), waits, and reads each device's stack (sum-of-cells) voltage.
    /// `out.len() == device_count()`.
    fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<Self::BusError>>;

    /// Pack current, where the chip measures one; `Ok(None)` if it has no current channel.
    fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<Self::BusError>>;

    /// Sets the cells to balance: `masks.len() == device_count()`, bit `k` of `masks[d]` is
    /// cell `k + 1` of device `d`. Chip rules (cell count, adjacency, timers) are enforced and
    /// violations rejected with [`Error::Config`] before anything is sent. An all-zero mask
    /// stops balancing.
    fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<Self::BusError>>;

    /// Reads and decodes the fault/status flags of every device. `out.len() == device_count()`.
    fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<Self::BusError>>;
}

/// The async twin of [`CellMonitor`]: the same contract, `async`.
#[allow(async_fn_in_trait)]
pub trait AsyncCellMonitor {
    /// The bus error type.
    type BusError: Debug;

    /// See [`CellMonitor::device_count`].
    fn device_count(&self) -> usize;
    /// See [`CellMonitor::cells_per_device`].
    fn cells_per_device(&self) -> usize;
    /// See [`CellMonitor::cell_count`].
    fn cell_count(&self) -> usize {
        self.device_count() * self.cells_per_device()
    }
    /// See [`CellMonitor::temperatures_per_device`].
    fn temperatures_per_device(&self) -> usize;
    /// See [`CellMonitor::wake`].
    async fn wake(&mut self) -> Result<(), Error<Self::BusError>>;
    /// See [`CellMonitor::start_cell_conversion`].
    async fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<Self::BusError>>;
    /// See [`CellMonitor::read_cell_voltages`].
    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<Self::BusError>>;
    /// See [`CellMonitor::measure_cells`].
    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<Self::BusError>>;
    /// See [`CellMonitor::measure_temperatures`].
    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<Self::BusError>>;
    /// See [`CellMonitor::measure_stack_voltages`].
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<Self::BusError>>;
    /// See [`CellMonitor::read_current`].
    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<Self::BusError>>;
    /// See [`CellMonitor::set_balancing`].
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<Self::BusError>>;
    /// See [`CellMonitor::read_faults`].
    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<Self::BusError>>;
}

/// The crate-internal async core every family implements once; the public blocking and
/// async trait impls are generated from it by [`impl_cell_monitor`].
#[allow(async_fn_in_trait)]
pub(crate) trait MonitorCore {
    type BusError: Debug;
    fn device_count(&self) -> usize;
    fn cells_per_device(&self) -> usize;
    fn temperatures_per_device(&self) -> usize;
    async fn wake(&mut self) -> Result<(), Error<Self::BusError>>;
    async fn start_cell_conversion(
        &mut self,
        mode: ConversionMode,
    ) -> Result<Microseconds, Error<Self::BusError>>;
    async fn read_cell_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<Self::BusError>>;
    async fn measure_cells(
        &mut self,
        mode: ConversionMode,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<Self::BusError>>;
    async fn measure_temperatures(
        &mut self,
        out: &mut [Reading<MilliCelsius>],
    ) -> Result<ChainReport, Error<Self::BusError>>;
    async fn measure_stack_voltages(
        &mut self,
        out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, Error<Self::BusError>>;
    async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<Self::BusError>>;
    async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), Error<Self::BusError>>;
    async fn read_faults(
        &mut self,
        out: &mut [Reading<Faults>],
    ) -> Result<ChainReport, Error<Self::BusError>>;
}

/// Implements [`CellMonitor`] for `Ty<…, Blocking<B, D>>` and [`AsyncCellMonitor`] for
/// `Ty<…, Async<B, D>>`, forwarding to the field `$core: impl MonitorCore`.
///
/// `impl_cell_monitor!(spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core);`
macro_rules! impl_cell_monitor {
    ($kind:ident impl[$($g:tt)*] $ty:ident<$($ga:tt),*> => $core:ident) => {
        $crate::monitor::impl_cell_monitor!(@pick $kind [$($g)*] $ty [$($ga),*] $core);
    };
    (@pick spi [$($g:tt)*] $ty:ident [$($ga:tt),*] $core:ident) => {
        $crate::monitor::impl_cell_monitor!(@impl [$($g)*] $ty [$($ga),*] $core
            [embedded_hal::spi::SpiDevice] [embedded_hal_async::spi::SpiDevice]);
    };
    (@pick i2c [$($g:tt)*] $ty:ident [$($ga:tt),*] $core:ident) => {
        $crate::monitor::impl_cell_monitor!(@impl [$($g)*] $ty [$($ga),*] $core
            [embedded_hal::i2c::I2c] [embedded_hal_async::i2c::I2c]);
    };
    (@pick serial [$($g:tt)*] $ty:ident [$($ga:tt),*] $core:ident) => {
        $crate::monitor::impl_cell_monitor!(@impl [$($g)*] $ty [$($ga),*] $core
            [$crate::io::BlockingSerial] [$crate::io::AsyncSerial]);
    };
    (@impl [$($g:tt)*] $ty:ident [$($ga:tt),*] $core:ident [$($bb:tt)*] [$($ab:tt)*]) => {
        impl<$($g)*, B: $($bb)*, D: embedded_hal::delay::DelayNs> $crate::monitor::CellMonitor
            for $ty<$($ga,)* $crate::io::Blocking<B, D>>
        {
            type BusError = B::Error;
            fn device_count(&self) -> usize {
                $crate::monitor::MonitorCore::device_count(&self.$core)
            }
            fn cells_per_device(&self) -> usize {
                $crate::monitor::MonitorCore::cells_per_device(&self.$core)
            }
            fn temperatures_per_device(&self) -> usize {
                $crate::monitor::MonitorCore::temperatures_per_device(&self.$core)
            }
            fn wake(&mut self) -> Result<(), $crate::Error<B::Error>> {
                $crate::io::block_on($crate::monitor::MonitorCore::wake(&mut self.$core))
            }
            fn start_cell_conversion(
                &mut self,
                mode: $crate::monitor::ConversionMode,
            ) -> Result<$crate::units::Microseconds, $crate::Error<B::Error>> {
                $crate::io::block_on($crate::monitor::MonitorCore::start_cell_conversion(
                    &mut self.$core, mode))
            }
            fn read_cell_voltages(
                &mut self,
                out: &mut [$crate::monitor::Reading<$crate::units::MicroVolts>],
            ) -> Result<$crate::monitor::ChainReport, $crate::Error<B::Error>> {
                $crate::io::block_on($crate::monitor::MonitorCore::read_cell_voltages(
                    &mut self.$core, out))
            }
            fn measure_cells(
                &mut self,
                mode: $crate::monitor::ConversionMode,
                out: &mut [$crate::monitor::Reading<$crate::units::MicroVolts>],
            ) -> Result<$crate::monitor::ChainReport, $crate::Error<B::Error>> {
                $crate::io::block_on($crate::monitor::MonitorCore::measure_cells(
                    &mut self.$core, mode, out))
            }
            fn measure_temperatures(
                &mut self,
                out: &mut [$crate::monitor::Reading<$crate::units::MilliCelsius>],
            ) -> Result<$crate::monitor::ChainReport, $crate::Error<B::Error>> {
                $crate::io::block_on($crate::monitor::MonitorCore::measure_temperatures(
                    &mut self.$core, out))
            }
            fn measure_stack_voltages(
                &mut self,
                out: &mut [$crate::monitor::Reading<$crate::units::MicroVolts>],
            ) -> Result<$crate::monitor::ChainReport, $crate::Error<B::Error>> {
                $crate::io::block_on($crate::monitor::MonitorCore::measure_stack_voltages(
                    &mut self.$core, out))
            }
            fn read_current(
                &mut self,
            ) -> Result<Option<$crate::units::MicroAmps>, $crate::Error<B::Error>> {
                $crate::io::block_on($crate::monitor::MonitorCore::read_current(&mut self.$core))
            }
            fn set_balancing(&mut self, masks: &[u32]) -> Result<(), $crate::Error<B::Error>> {
                $crate::io::block_on($crate::monitor::MonitorCore::set_balancing(
                    &mut self.$core, masks))
            }
            fn read_faults(
                &mut self,
                out: &mut [$crate::monitor::Reading<$crate::monitor::Faults>],
            ) -> Result<$crate::monitor::ChainReport, $crate::Error<B::Error>> {
                $crate::io::block_on($crate::monitor::MonitorCore::read_faults(
                    &mut self.$core, out))
            }
        }

        impl<$($g)*, B: $($ab)*, D: embedded_hal_async::delay::DelayNs>
            $crate::monitor::AsyncCellMonitor for $ty<$($ga,)* $crate::io::Async<B, D>>
        {
            type BusError = B::Error;
            fn device_count(&self) -> usize {
                $crate::monitor::MonitorCore::device_count(&self.$core)
            }
            fn cells_per_device(&self) -> usize {
                $crate::monitor::MonitorCore::cells_per_device(&self.$core)
            }
            fn temperatures_per_device(&self) -> usize {
                $crate::monitor::MonitorCore::temperatures_per_device(&self.$core)
            }
            async fn wake(&mut self) -> Result<(), $crate::Error<B::Error>> {
                $crate::monitor::MonitorCore::wake(&mut self.$core).await
            }
            async fn start_cell_conversion(
                &mut self,
                mode: $crate::monitor::ConversionMode,
            ) -> Result<$crate::units::Microseconds, $crate::Error<B::Error>> {
                $crate::monitor::MonitorCore::start_cell_conversion(&mut self.$core, mode).await
            }
            async fn read_cell_voltages(
                &mut self,
                out: &mut [$crate::monitor::Reading<$crate::units::MicroVolts>],
            ) -> Result<$crate::monitor::ChainReport, $crate::Error<B::Error>> {
                $crate::monitor::MonitorCore::read_cell_voltages(&mut self.$core, out).await
            }
            async fn measure_cells(
                &mut self,
                mode: $crate::monitor::ConversionMode,
                out: &mut [$crate::monitor::Reading<$crate::units::MicroVolts>],
            ) -> Result<$crate::monitor::ChainReport, $crate::Error<B::Error>> {
                $crate::monitor::MonitorCore::measure_cells(&mut self.$core, mode, out).await
            }
            async fn measure_temperatures(
                &mut self,
                out: &mut [$crate::monitor::Reading<$crate::units::MilliCelsius>],
            ) -> Result<$crate::monitor::ChainReport, $crate::Error<B::Error>> {
                $crate::monitor::MonitorCore::measure_temperatures(&mut self.$core, out).await
            }
            async fn measure_stack_voltages(
                &mut self,
                out: &mut [$crate::monitor::Reading<$crate::units::MicroVolts>],
            ) -> Result<$crate::monitor::ChainReport, $crate::Error<B::Error>> {
                $crate::monitor::MonitorCore::measure_stack_voltages(&mut self.$core, out).await
            }
            async fn read_current(
                &mut self,
            ) -> Result<Option<$crate::units::MicroAmps>, $crate::Error<B::Error>> {
                $crate::monitor::MonitorCore::read_current(&mut self.$core).await
            }
            async fn set_balancing(&mut self, masks: &[u32]) -> Result<(), $crate::Error<B::Error>> {
                $crate::monitor::MonitorCore::set_balancing(&mut self.$core, masks).await
            }
            async fn read_faults(
                &mut self,
                out: &mut [$crate::monitor::Reading<$crate::monitor::Faults>],
            ) -> Result<$crate::monitor::ChainReport, $crate::Error<B::Error>> {
                $crate::monitor::MonitorCore::read_faults(&mut self.$core, out).await
            }
        }
    };
}
pub(crate) use impl_cell_monitor;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FaultReason;

    #[test]
    fn report_keeps_lowest_fault_and_all_devices() {
        let mut r = ChainReport::OK;
        r.record(DeviceFault {
            device: 9,
            reason: FaultReason::NoResponse,
        });
        r.record(DeviceFault {
            device: 3,
            reason: FaultReason::Framing,
        });
        r.record(DeviceFault {
            device: 12,
            reason: FaultReason::Framing,
        });
        assert_eq!(r.failed.iter().collect::<heapless_vec::V>().0, [3, 9, 12]);
        assert_eq!(r.first_fault.map(|f| f.device), Some(3));
        assert!(!r.is_ok());
        assert!(r.into_result::<()>().is_err());
        assert!(ChainReport::OK.into_result::<()>().is_ok());
    }

    #[test]
    fn reading_never_yields_failed_data() {
        let f: Reading<u16> = Reading::Failed(DeviceFault {
            device: 1,
            reason: FaultReason::NoResponse,
        });
        assert_eq!(f.valid(), None);
        assert_eq!(
            f.map(|x| x + 1),
            Reading::Failed(DeviceFault {
                device: 1,
                reason: FaultReason::NoResponse
            })
        );
        assert!(Reading::<u16>::NotConverted.into_result::<()>(4).is_err());
        assert_eq!(Reading::Valid(7u16).into_result::<()>(0), Ok(7));
    }

    mod heapless_vec {
        extern crate std;
        pub struct V(pub std::vec::Vec<usize>);
        impl FromIterator<usize> for V {
            fn from_iter<I: IntoIterator<Item = usize>>(i: I) -> Self {
                V(i.into_iter().collect())
            }
        }
    }
}

/// Exercises the twin macros with a minimal one-device "chip" that answers a 4-byte command
/// with one verified PEC15 group, blocking and async from one expectation list.
#[cfg(test)]
mod macro_tests {
    use super::*;
    use crate::io::{Async, Blocking, SpiError, SpiIo, twins};
    use crate::isospi;
    use embedded_hal_mock::eh1::delay::NoopDelay;
    use embedded_hal_mock::eh1::spi::{Mock, Transaction};

    struct Core<IO> {
        io: IO,
    }
    struct Dummy<const N: usize, IO> {
        core: Core<IO>,
    }

    impl<IO: SpiIo> Core<IO> {
        async fn read_group(&mut self) -> Result<u16, Error<IO::Error>> {
            let mut frames = [[0u8; 8]; 1];
            let v = isospi::read_verified(
                &mut self.io,
                &isospi::command(0x004),
                &mut frames,
                isospi::DataPec::Pec15,
                0,
            )
            .await
            .map_err(Error::Bus)?;
            v[0].map_err(|reason| Error::Integrity(DeviceFault { device: 0, reason }))?;
            Ok(u16::from_le_bytes([frames[0][0], frames[0][1]]))
        }
    }

    impl<IO: SpiIo> MonitorCore for Core<IO> {
        type BusError = IO::Error;
        fn device_count(&self) -> usize {
            1
        }
        fn cells_per_device(&self) -> usize {
            3
        }
        fn temperatures_per_device(&self) -> usize {
            0
        }
        async fn wake(&mut self) -> Result<(), Error<IO::Error>> {
            Ok(())
        }
        async fn start_cell_conversion(
            &mut self,
            _m: ConversionMode,
        ) -> Result<Microseconds, Error<IO::Error>> {
            Ok(Microseconds(5))
        }
        async fn read_cell_voltages(
            &mut self,
            out: &mut [Reading<MicroVolts>],
        ) -> Result<ChainReport, Error<IO::Error>> {
            let c = self.read_group().await?;
            out[0] = Reading::Valid(MicroVolts::from_lsb(c as u32, 100));
            Ok(ChainReport::OK)
        }
        async fn measure_cells(
            &mut self,
            _m: ConversionMode,
            out: &mut [Reading<MicroVolts>],
        ) -> Result<ChainReport, Error<IO::Error>> {
            self.read_cell_voltages(out).await
        }
        async fn measure_temperatures(
            &mut self,
            _o: &mut [Reading<MilliCelsius>],
        ) -> Result<ChainReport, Error<IO::Error>> {
            Ok(ChainReport::OK)
        }
        async fn measure_stack_voltages(
            &mut self,
            _o: &mut [Reading<MicroVolts>],
        ) -> Result<ChainReport, Error<IO::Error>> {
            Ok(ChainReport::OK)
        }
        async fn read_current(&mut self) -> Result<Option<MicroAmps>, Error<IO::Error>> {
            Ok(None)
        }
        async fn set_balancing(&mut self, _m: &[u32]) -> Result<(), Error<IO::Error>> {
            Ok(())
        }
        async fn read_faults(
            &mut self,
            _o: &mut [Reading<Faults>],
        ) -> Result<ChainReport, Error<IO::Error>> {
            Ok(ChainReport::OK)
        }
    }

    twins! {
        spi impl[const N: usize] Dummy<N> => core {
            /// Reads the first cell code.
            pub fn read_group(&mut self) -> Result<u16, Error<SpiError<B>>>;
        }
    }
    impl_cell_monitor!(spi impl[const N: usize] Dummy<N> => core);

    fn expectations() -> [Transaction<u8>; 3] {
        // rt tests/monitor.rs: RDCVA 00 04 07 C2, response 93 61 BB 1E AE 22 9A 1C.
        [
            Transaction::transaction_start(),
            Transaction::write_vec(vec![0x00, 0x04, 0x07, 0xC2]),
            Transaction::transaction_end(),
        ]
    }

    extern crate std;
    use std::vec;

    fn full() -> std::vec::Vec<Transaction<u8>> {
        let e = expectations();
        vec![
            e[0].clone(),
            e[1].clone(),
            Transaction::transfer_in_place(
                vec![0xFF; 8],
                vec![0x93, 0x61, 0xBB, 0x1E, 0xAE, 0x22, 0x9A, 0x1C],
            ),
            e[2].clone(),
        ]
    }

    #[test]
    fn blocking_and_async_share_one_list() {
        let mut d = Dummy::<1, _> {
            core: Core {
                io: Blocking::new(Mock::new(&full()), NoopDelay::new()),
            },
        };
        assert_eq!(d.read_group(), Ok(0x6193));
        let mut out = [Reading::NotConverted; 3];
        d.core.io.bus.update_expectations(&full());
        assert_eq!(
            CellMonitor::read_cell_voltages(&mut d, &mut out),
            Ok(ChainReport::OK)
        );
        assert_eq!(out[0], Reading::Valid(MicroVolts(2_497_900)));
        d.core.io.bus.done();

        let mut a = Dummy::<1, _> {
            core: Core {
                io: Async::new(Mock::new(&full()), NoopDelay::new()),
            },
        };
        assert_eq!(crate::io::block_on(a.read_group()), Ok(0x6193));
        a.core.io.bus.update_expectations(&full());
        let mut out = [Reading::NotConverted; 3];
        assert_eq!(
            crate::io::block_on(AsyncCellMonitor::read_cell_voltages(&mut a, &mut out)),
            Ok(ChainReport::OK)
        );
        assert_eq!(out[0], Reading::Valid(MicroVolts(2_497_900)));
        a.core.io.bus.done();
    }
}
