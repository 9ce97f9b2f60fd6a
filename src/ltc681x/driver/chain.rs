//! Chain length at run time: the devices actually on the chain (1..=N), set by hand or
//! detected, and the buffer sizes the driver exports.

use embedded_hal::spi::Operation;

use super::*;
use crate::isospi::{ChainSeen as Seen, classify_chain as classify};

impl<V: Variant, const N: usize, IO> Ltc681x<V, N, IO> {
    /// The compile-time capacity: the most devices this driver type can run.
    pub const MAX_DEVICES: usize = N;
    /// Cells per device of part `V`.
    pub const CELLS_PER_DEVICE: usize = V::CELLS;
    /// Cells of a full chain (`N × V::CELLS`): the size of a cell buffer that fits any device
    /// count. Pass `&mut buf[..bms.cell_count()]` to the cell reads.
    ///
    /// An associated constant needs the whole type: use your driver's type alias, or `()`
    /// for the transport (`Ltc681x::<Ltc6813, 16, ()>::MAX_CELLS`).
    pub const MAX_CELLS: usize = N * V::CELLS;
    /// Temperature channels of a full chain with every GPIO a thermistor
    /// (`N × (1 + V::GPIOS)`): fits any [`CellMonitor::measure_temperatures`](crate::CellMonitor)
    /// output.
    pub const MAX_TEMPERATURES: usize = N * (1 + V::GPIOS);
    /// Auxiliary channels of a full chain (`N × V::AUX_CHANNELS`, for `read_aux`).
    pub const MAX_AUX: usize = N * V::AUX_CHANNELS;

    /// Devices on the chain (1..=N; `N` unless set with [`set_device_count`](Self::set_device_count)
    /// or [`detect_device_count`](Self::detect_device_count)). Every chain operation sends
    /// and reads frames for exactly this many devices, and every per-device buffer
    /// (`out`, `masks`) must hold exactly this many devices' values.
    pub fn device_count(&self) -> usize {
        self.core.n()
    }

    /// Cells on the chain: `device_count() × V::CELLS`.
    pub fn cell_count(&self) -> usize {
        self.core.n() * V::CELLS
    }

    /// Sets how many devices are on the chain, `1..=N` (a board whose chain length is a
    /// run-time setting). Rejected with [`ConfigError::OutOfRange`] otherwise, before
    /// anything is sent. The held configuration of every slot is kept; the devices beyond
    /// the count are neither written nor read.
    ///
    /// ```
    /// use bms_afe::io::Blocking;
    /// use bms_afe::ltc681x::{Ltc681x, Ltc6813};
    /// # use embedded_hal_mock::eh1::{delay::NoopDelay, spi::Mock};
    /// # let spi = Mock::<u8>::new(&[]);
    /// let mut bms = Ltc681x::<Ltc6813, 16, _>::new(Blocking::new(spi, NoopDelay::new()));
    /// assert!(bms.set_device_count(0).is_err());
    /// assert!(bms.set_device_count(17).is_err());
    /// bms.set_device_count(3).unwrap();
    /// assert_eq!((bms.device_count(), bms.cell_count()), (3, 54));
    /// assert_eq!(Ltc681x::<Ltc6813, 16, ()>::MAX_CELLS, 288);
    /// # bms.release().release().0.done();
    /// ```
    pub fn set_device_count(&mut self, devices: usize) -> Result<(), ConfigError> {
        if devices == 0 || devices > N {
            return Err(ConfigError::OutOfRange {
                field: "device count",
                value: devices as i64,
                min: 1,
                max: N as i64,
            });
        }
        self.core.active = devices;
        Ok(())
    }
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn detect_device_count(&mut self) -> Result<usize, Error<IO::Error>> {
        // Wake up to N + 1 devices (one dummy frame per device, tWAKE apart): a chain longer
        // than the capacity must answer the extra slot too, so that it is seen.
        isospi::wake_chain(&mut self.io, N + 1, &command::RDCFGA, T_WAKE_US)
            .await
            .map_err(Error::Bus)?;
        let mut attempt = 0;
        loop {
            let mut frames = [[0xFFu8; 8]; N];
            let mut extra = [0xFFu8; 8];
            self.io
                .transaction(&mut [
                    Operation::Write(&command::RDCFGA),
                    Operation::TransferInPlace(frames.as_flattened_mut()),
                    Operation::TransferInPlace(&mut extra),
                ])
                .await
                .map_err(Error::Bus)?;
            let mut v = [Err(FaultReason::NoResponse); MAX_DEVICES + 1];
            isospi::verify_chain_into(&frames, DataPec::Pec15, &mut v);
            if let Some(x) = v.get_mut(N) {
                *x = isospi::verify_frame(&extra, DataPec::Pec15);
            }
            let seen = classify(v.get(..N + 1).unwrap_or(&[]), N);
            match seen {
                Seen::Length(k) => {
                    self.active = k;
                    return Ok(k);
                }
                Seen::Longer => {
                    return Err(Error::Device {
                        device: N as u8,
                        what: "a device answers beyond the driver's capacity N: the chain is longer",
                    });
                }
                Seen::Unclear(device, reason) if attempt >= self.retries => {
                    return Err(Error::Integrity(DeviceFault { device, reason }));
                }
                Seen::Unclear(..) => attempt += 1,
            }
        }
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Ltc681x<V, N> => core {
        /// Finds how many devices are on the chain and sets [`device_count`](Self::device_count)
        /// to it: wakes up to `N + 1` devices (one dummy frame each, tWAKE apart), then reads
        /// the configuration group RDCFGA with `N + 1` frames in one CS frame. The devices on
        /// the chain answer with a good PEC, device 0 first; the slots past the last device
        /// read as silence (every byte 0xFF or 0x00, PEC included). Returns `k` when devices
        /// `0..k` answer and every slot after them is silent.
        ///
        /// * A good frame in slot `N` (past the capacity) is [`Error::Device`] naming device
        ///   `N`: the chain is longer than this driver type can run — nothing is set.
        /// * Anything else (no device answers; a corrupted frame; a silent device with
        ///   answering ones beyond it) is re-read up to [`retries`](Self::retries) times and
        ///   then [`Error::Integrity`] naming the first device that broke the pattern; the
        ///   count is left unchanged.
        ///
        /// It counts the devices that *answer*: a chain broken above device `k − 1` (link
        /// cut, dead device with every device above it) reads as a chain of `k`. Compare the
        /// result with the length the board is built for.
        ///
        /// Not verified against the data sheet: what a chain drives on SDO past its last
        /// device. The LTC6812-DS read protocol clocks `8·N` bytes for `N` devices and says
        /// nothing of extra clocks; the driver only accepts a clean "good frames, then
        /// silence" pattern, so any other answer is an error, never a length.
        pub fn detect_device_count(&mut self) -> Result<usize, Error<SpiError<B>>>;
    }
}
