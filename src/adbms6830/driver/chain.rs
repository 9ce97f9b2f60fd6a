//! Chain length at run time: the devices actually on the chain (1..=N), set by hand or
//! detected with RDSID, and the buffer sizes the driver exports.

use super::*;
use crate::isospi::{ChainSeen, classify_chain};

impl<V: Variant, const N: usize, IO> Adbms6830<V, N, IO> {
    /// The compile-time capacity: the most devices this driver type can run.
    pub const MAX_DEVICES: usize = N;
    /// Cells per device of variant `V` (16 or 18).
    pub const CELLS_PER_DEVICE: usize = V::CELLS;
    /// Cells of a full chain (`N × V::CELLS`): a cell buffer that fits any device count.
    /// Pass `&mut buf[..bms.cell_count()]`.
    ///
    /// An associated constant needs the whole type: use your driver's type alias, or `()`
    /// for the transport (`Adbms6830::<Adbms6830b, 16, ()>::MAX_CELLS`).
    pub const MAX_CELLS: usize = N * V::CELLS;
    /// Temperature channels of a full chain through
    /// [`CellMonitor::measure_temperatures`](crate::CellMonitor) (one die temperature per
    /// device).
    pub const MAX_TEMPERATURES: usize = N;

    /// Devices on the chain (1..=N; `N` unless set with
    /// [`set_device_count`](Self::set_device_count) or found with
    /// [`detect_device_count`](Self::detect_device_count)). Every command wakes, writes and
    /// reads exactly this many devices; slices (`out`, `masks`) of the `CellMonitor` methods
    /// and of `read_cells` hold exactly this many devices' values; in the fixed `[_; N]`
    /// outputs of the inherent methods the slots past it are `NotConverted` (or
    /// `LatentReport::NOT_RUN`) and never in a report.
    pub fn device_count(&self) -> usize {
        self.core.n()
    }

    /// Cells on the chain: `device_count() × V::CELLS`.
    pub fn cell_count(&self) -> usize {
        self.core.n() * V::CELLS
    }

    /// Sets how many devices are on the chain, `1..=N`; anything else is
    /// [`ConfigError::OutOfRange`] and nothing is sent. The held configuration and counter
    /// bookkeeping of every slot are kept. Devices physically beyond the count still hear
    /// every command (a daisy chain forwards them); they are just not read.
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
    pub(crate) async fn detect_device_count(&mut self) -> Result<usize, E<IO>> {
        // Wake up to N + 1 devices, so a chain longer than the capacity answers the extra
        // slot too (dummy RDCFGA frames: reads, no counter moves).
        isospi::wake_chain(&mut self.io, N + 1, &cmd::RDCFGA, timing::WAKE_GAP_US)
            .await
            .map_err(Error::Bus)?;
        let mut attempt = 0;
        loop {
            let mut frames = [[0xFFu8; 8]; N];
            let mut extra = [0xFFu8; 8];
            let r = self
                .io
                .transaction(&mut [
                    Operation::Write(&cmd::RDSID),
                    Operation::TransferInPlace(frames.as_flattened_mut()),
                    Operation::TransferInPlace(&mut extra),
                ])
                .await;
            self.account(&cmd::RDSID, r.is_ok());
            r.map_err(Error::Bus)?;
            // Presence is a good PEC10; the counter it carries does not matter here (a
            // mismatch still proves a device; the next normal read checks it).
            let mut v = [Err(FaultReason::NoResponse); crate::monitor::MAX_DEVICES + 1];
            isospi::verify_chain_into(&frames, DataPec::Pec10, &mut v);
            if let Some(x) = v.get_mut(N) {
                *x = isospi::verify_frame(&extra, DataPec::Pec10);
            }
            match classify_chain(v.get(..N + 1).unwrap_or(&[]), N) {
                ChainSeen::Length(k) => {
                    self.active = k;
                    return Ok(k);
                }
                ChainSeen::Longer => {
                    return Err(Error::Device {
                        device: N as u8,
                        what: "a device answers beyond the driver's capacity N: the chain is longer",
                    });
                }
                ChainSeen::Unclear(device, reason) if attempt >= self.retries => {
                    return Err(Error::Integrity(DeviceFault { device, reason }));
                }
                ChainSeen::Unclear(..) => attempt += 1,
            }
        }
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core {
        /// Finds how many devices are on the chain and sets
        /// [`device_count`](Self::device_count) to it: wakes up to `N + 1` devices (one dummy
        /// frame each, 500 µs apart), then reads the serial IDs (RDSID) with `N + 1` frames in
        /// one CS frame. Returns `k` when devices `0..k` answer with a good PEC10 and every
        /// slot after them is silent (all 0xFF or 0x00). Then call
        /// [`wake`](Self::wake) (RSTCC and the configuration), as after power-up.
        ///
        /// * A good frame in slot `N` is [`Error::Device`] naming device `N`: the chain is
        ///   longer than this driver type can run; nothing is set.
        /// * Any other pattern (no device answers, a corrupted frame, a silent device with
        ///   answering ones beyond it) is re-read up to the retries and then
        ///   [`Error::Integrity`] naming the first device that broke it; nothing is set.
        ///
        /// It counts the devices that answer: a chain cut above device `k − 1` reads as a
        /// chain of `k` — compare with the length the board is built for. Unlike
        /// [`detect_chain_length`](Self::detect_chain_length) (a count within the current
        /// device count, nothing set) it looks past the count and sets it.
        ///
        /// Not verified against the data sheet: what a chain drives on SDO past its last
        /// device; only the clean "good frames, then silence" pattern is accepted.
        pub fn detect_device_count(&mut self) -> Result<usize, Error<SpiError<B>>>;
    }
}
