//! The bq769x2 driver: [`Bq769x2`] over [`Blocking`](crate::io::Blocking) or
//! [`Async`](crate::io::Async) I2C. All logic lives once in the async core; the public
//! methods are generated for both flavours.
//!
//! One file per capability: [`variant`] (family members), [`probe`] (identification),
//! [`measure`] (voltages, current, temperatures), [`diagnostics`] (status, safety, alarms),
//! [`config`] (data memory, CONFIG_UPDATE), [`security`] (seal/unseal), [`power`] (reset,
//! sleep, shutdown), [`fets`], [`balancing`], [`monitor`] (the `CellMonitor`
//! implementation); this file holds the type, its constructor and settings, and the
//! checked register and subcommand primitives.

use core::fmt;
use core::marker::PhantomData;

use bitflags::bitflags;

use crate::error::{ConfigError, DeviceFault, Error, FaultReason, VerifyMismatch};
use crate::io::{I2cError, I2cIo, twins};
use crate::monitor::{
    ChainReport, ConversionMode, Faults, MonitorCore, Reading, impl_cell_monitor,
};
use crate::units::{MicroAmps, MicroVolts, Microseconds, MilliCelsius};

use super::command::{direct, sub};
use super::data_memory::{Config, DaConfig, TempInputs, TempPin};
use super::frame::{self, MAX_RAW_READ, MAX_READ, MAX_TRANSFER, MAX_WRITE};
use super::status::{
    Alarm, BatteryStatus, ControlStatus, FetStatus, ManufacturingStatus, PermanentFail, Safety,
    SafetyA, SafetyB, SafetyC, Security,
};

mod balancing;
mod config;
mod diagnostics;
mod fets;
mod measure;
mod monitor;
mod power;
mod probe;
mod security;
mod variant;

pub use balancing::{check_balancing, logical_to_inputs};
pub use fets::{FetControl, Fets};
pub use probe::{DeviceInfo, SettingsSource};
pub use security::SecurityKeys;
pub use variant::{Bq76922, Bq76942, Bq76952, Bq769142, Variant};

/// Default 7-bit I2C address (8-bit 0x10/0x11; SLUAA11B).
pub const DEFAULT_ADDRESS: u8 = 0x08;

/// First wait after writing a subcommand before its echo is polled (µs; LibreSolar: 50 µs).
pub const SUBCOMMAND_FIRST_WAIT_US: u32 = 50;
/// Interval between echo polls (µs).
pub const SUBCOMMAND_POLL_US: u32 = 100;
/// Echo polls before [`Error::Timeout`] (100 × 100 µs = 10 ms, as LibreSolar).
pub const SUBCOMMAND_POLLS: u32 = 100;
/// Wait after SET_CFGUPDATE before the first CFGUPDATE poll (SLUUBY2B: ≥ 2 ms).
pub const CFGUPDATE_ENTER_WAIT_US: u32 = 2_000;
/// Wait after EXIT_CFGUPDATE before the first poll (≥ 1 ms).
pub const CFGUPDATE_EXIT_WAIT_US: u32 = 1_000;
/// Interval between CFGUPDATE polls (µs).
pub const CFGUPDATE_POLL_US: u32 = 1_000;
/// CFGUPDATE polls before [`Error::Timeout`] (100 ms after the first wait).
pub const CFGUPDATE_POLLS: u32 = 100;
/// Wait after a data-memory write before it is read back (LibreSolar, empirical: 200 µs).
pub const DATA_MEMORY_WRITE_WAIT_US: u32 = 200;
/// Hint returned by `start_cell_conversion`: a conservative bound on one full measurement
/// loop at default settings. Not a datasheet figure; Alarm Status FULLSCAN marks exactly when
/// a scan completed.
pub const SCAN_TIME: Microseconds = Microseconds(64_000);

/// The driver. `V` is the [`Variant`], `IO` is [`Blocking`](crate::io::Blocking) or
/// [`Async`](crate::io::Async) around an I2C bus and a delay.
#[derive(Debug)]
pub struct Bq769x2<V, IO> {
    pub(crate) core: Core<V, IO>,
}

#[derive(Debug)]
pub(crate) struct Core<V, IO> {
    io: IO,
    address: u8,
    crc: bool,
    retries: u8,
    da: DaConfig,
    vcell_mode: u16,
    temps: TempInputs,
    fet_intent: Option<Fets>,
    cov: Option<MicroVolts>,
    cuv: Option<MicroVolts>,
    cb_max_cells: u8,
    _v: PhantomData<V>,
}

impl<V: Variant, IO> Bq769x2<V, IO> {
    /// Devices in the "chain": one chip ([`CellMonitor::device_count`](crate::CellMonitor)
    /// is always 1).
    pub const MAX_DEVICES: usize = 1;
    /// Cells the part can monitor (its cell inputs, e.g. 16 on the BQ76952): the size of a
    /// cell buffer that fits any Vcell Mode. Pass `&mut buf[..cell_count()]`.
    ///
    /// An associated constant needs the whole type: use your driver's type alias, or `()`
    /// for the transport (`Bq769x2::<Bq76952, ()>::MAX_CELLS`).
    pub const MAX_CELLS: usize = V::CELL_INPUTS as usize;
    /// Temperature channels at most: the die and all nine multi-function pins
    /// ([`TempPin::ALL`]) as thermistors.
    pub const MAX_TEMPERATURES: usize = 1 + TempPin::ALL.len();

    /// A driver at the default address 0x08 in plain (no CRC) mode, with 2 retries.
    pub fn new(io: IO) -> Self {
        Self {
            core: Core {
                io,
                address: DEFAULT_ADDRESS,
                crc: false,
                retries: 2,
                da: DaConfig::ASSUMED_DEFAULT,
                vcell_mode: 0,
                temps: TempInputs::empty(),
                fet_intent: None,
                cov: None,
                cuv: None,
                cb_max_cells: 16,
                _v: PhantomData,
            },
        }
    }

    /// A driver in I2C CRC mode (the chip's Comm Type must select it). Recommended: in plain
    /// mode direct-command reads (cell voltages!) carry no integrity code at all.
    pub fn new_crc(io: IO) -> Self {
        let mut d = Self::new(io);
        d.core.crc = true;
        d
    }

    /// Changes the 7-bit I2C address (Settings:Configuration:I2C Address).
    pub fn with_address(mut self, address: u8) -> Self {
        self.core.address = address & 0x7F;
        self
    }

    /// Switches CRC mode on or off (after the chip's Comm Type changed — Settings:Configuration:
    /// Comm Type 0x9239 takes effect on CONFIG_UPDATE exit or SWAP_COMM_MODE; it is not
    /// accepted in a [`Config`] batch because it cuts the session's own traffic off).
    pub fn set_crc_mode(&mut self, crc: bool) {
        self.core.crc = crc;
    }

    /// `true` in CRC mode.
    pub fn crc_mode(&self) -> bool {
        self.core.crc
    }

    /// Re-reads after a CRC/checksum failure (each re-sends the register address or the
    /// subcommand). Default 2.
    pub fn set_retries(&mut self, retries: u8) {
        self.core.retries = retries;
    }

    /// The result units in use (from the last applied [`Config`] or
    /// `read_da_configuration`; [`DaConfig::ASSUMED_DEFAULT`] before).
    pub fn da_config(&self) -> DaConfig {
        self.core.da
    }

    /// Tells the driver the units without a bus access (e.g. from your OTP image).
    pub fn set_da_config(&mut self, da: DaConfig) {
        self.core.da = da;
    }

    /// The Vcell Mode the driver maps cells with (0 = every input).
    pub fn vcell_mode(&self) -> u16 {
        self.core.vcell_mode
    }

    /// Tells the driver the Vcell Mode without a bus access. Bits above the variant's inputs
    /// are refused.
    pub fn set_vcell_mode(&mut self, mask: u16) -> Result<(), ConfigError> {
        self.core.check_vcell_mode(mask)?;
        self.core.vcell_mode = mask;
        Ok(())
    }

    /// Tells the driver which pins are thermistors (reported after the die temperature).
    pub fn set_temperature_inputs(&mut self, inputs: TempInputs) {
        self.core.temps = inputs;
    }

    /// The pins reported as temperatures.
    pub fn temperature_inputs(&self) -> TempInputs {
        self.core.temps
    }

    /// The FETs the host last allowed (`None` before any FET command).
    pub fn fet_intent(&self) -> Option<Fets> {
        self.core.fet_intent
    }

    /// The cells in use, as physical inputs (bit `n − 1` = input `n`).
    pub fn connected_inputs(&self) -> u16 {
        self.core.connected()
    }

    /// Gives the bus wrapper back.
    pub fn release(self) -> IO {
        self.core.io
    }
}

impl<V: Variant, IO> Core<V, IO> {
    fn all_inputs() -> u16 {
        if V::CELL_INPUTS >= 16 {
            u16::MAX
        } else {
            (1u16 << V::CELL_INPUTS) - 1
        }
    }

    fn connected(&self) -> u16 {
        if self.vcell_mode == 0 {
            Self::all_inputs()
        } else {
            self.vcell_mode & Self::all_inputs()
        }
    }

    fn cells(&self) -> u8 {
        self.connected().count_ones() as u8
    }

    fn check_vcell_mode(&self, mask: u16) -> Result<(), ConfigError> {
        if mask & !Self::all_inputs() != 0 {
            return Err(ConfigError::NoSuchCell {
                cell: (16 - mask.leading_zeros()) as u16,
                available: u16::from(V::CELL_INPUTS),
            });
        }
        Ok(())
    }
}

fn fault(reason: FaultReason) -> DeviceFault {
    DeviceFault { device: 0, reason }
}

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    async fn write_reg(&mut self, reg: u8, data: &[u8]) -> Result<(), Error<IO::Error>> {
        let mut buf = [0u8; MAX_WRITE];
        let n = frame::encode_write(self.crc, self.address, reg, data, &mut buf)
            .map_err(|_| Error::InvalidArgument("register write longer than 34 bytes"))?;
        let bytes = buf.get(..n).unwrap_or(&[]);
        self.io.write(self.address, bytes).await.map_err(Error::Bus)
    }

    /// Reads `out.len()` (≤ 32) bytes from `reg` with CRC checks; a failed check is retried
    /// with a fresh write of the register address (repeated-start read).
    async fn read_reg(&mut self, reg: u8, out: &mut [u8]) -> Result<(), Error<IO::Error>> {
        if out.len() > MAX_READ {
            return Err(Error::InvalidArgument("register read longer than 32 bytes"));
        }
        let n = frame::raw_read_len(self.crc, out.len());
        let mut raw = [0u8; MAX_RAW_READ];
        let raw = raw
            .get_mut(..n)
            .ok_or(Error::InvalidArgument("register read too long"))?;
        let mut last = FaultReason::Framing;
        for _ in 0..=self.retries {
            self.io
                .write_read(self.address, &[reg], raw)
                .await
                .map_err(Error::Bus)?;
            match frame::decode_read(self.crc, self.address, reg, raw, out) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
        Err(Error::Integrity(fault(last)))
    }

    async fn read_u16(&mut self, reg: u8) -> Result<u16, Error<IO::Error>> {
        let mut b = [0u8; 2];
        self.read_reg(reg, &mut b).await?;
        Ok(u16::from_le_bytes(b))
    }

    async fn read_u8(&mut self, reg: u8) -> Result<u8, Error<IO::Error>> {
        let mut b = [0u8; 1];
        self.read_reg(reg, &mut b).await?;
        Ok(b[0])
    }

    pub(crate) async fn subcommand(&mut self, cmd: u16) -> Result<(), Error<IO::Error>> {
        self.write_reg(direct::SUBCOMMAND, &cmd.to_le_bytes()).await
    }

    async fn wait_echo(&mut self, cmd: u16) -> Result<(), Error<IO::Error>> {
        self.io.delay_us(SUBCOMMAND_FIRST_WAIT_US).await;
        for _ in 0..SUBCOMMAND_POLLS {
            if self.read_u16(direct::SUBCOMMAND).await? == cmd {
                return Ok(());
            }
            self.io.delay_us(SUBCOMMAND_POLL_US).await;
        }
        Err(Error::Timeout("subcommand response (0x3E/0x3F echo)"))
    }

    /// Sends `cmd`, waits for its echo, reads the data, then checksum and length, verifies
    /// them and copies up to `out.len()` bytes. Returns the data length the chip announced.
    /// A checksum/length failure re-sends the subcommand (up to the retry count).
    pub(crate) async fn subcommand_read(
        &mut self,
        cmd: u16,
        out: &mut [u8],
    ) -> Result<usize, Error<IO::Error>> {
        self.subcommand_read_burst(cmd, out, out.len()).await
    }

    /// [`Self::subcommand_read`] with a first data burst of `burst` bytes (≤ 32).
    ///
    /// Order: echo, **data (one burst from 0x40), then 0x60/0x61**. On the BQ7690x reading
    /// 0x61 advances 0x3E/0x3F by 0x20 and refills the buffer (TI BQ76907 Technical
    /// Reference Manual, SLUUCJ0, Nov. 2023, §3.1, <https://www.ti.com/lit/pdf/sluucj0>); if the bq769x2 does the same, data read after 0x61 belongs to the next block. Reading
    /// the data first is right whichever behaviour the silicon has. If the chip announces
    /// more data than the burst held, the subcommand is sent again once with a burst of the
    /// announced length (the buffer cannot be re-read after 0x61).
    async fn subcommand_read_burst(
        &mut self,
        cmd: u16,
        out: &mut [u8],
        burst: usize,
    ) -> Result<usize, Error<IO::Error>> {
        let mut want = burst.min(MAX_TRANSFER);
        let mut grown = false;
        let mut left = u32::from(self.retries) + 1;
        let mut last = FaultReason::Framing;
        while left > 0 {
            left -= 1;
            self.subcommand(cmd).await?;
            self.wait_echo(cmd).await?;
            let mut buf = [0u8; MAX_TRANSFER];
            let data = buf.get_mut(..want).unwrap_or(&mut []);
            if !data.is_empty() {
                self.read_reg(direct::TRANSFER_BUFFER, data).await?;
            }
            let mut cl = [0u8; 2];
            self.read_reg(direct::TRANSFER_CHECKSUM, &mut cl).await?;
            let [ck, len_byte] = cl;
            let Some(len) = frame::data_len_from_length(len_byte) else {
                last = FaultReason::Framing;
                continue;
            };
            if len > want {
                // Longer than the burst: read it whole on a fresh send (once without using a
                // retry; a chip that keeps changing its length spends retries).
                want = len;
                last = FaultReason::Framing;
                if !grown {
                    grown = true;
                    left += 1;
                }
                continue;
            }
            let data = buf.get(..len).unwrap_or(&[]);
            match frame::verify_transfer(cmd, data, ck, len_byte) {
                Ok(()) => {
                    let n = out.len().min(len);
                    if let (Some(o), Some(d)) = (out.get_mut(..n), data.get(..n)) {
                        o.copy_from_slice(d);
                    }
                    return Ok(len);
                }
                Err(e) => last = e,
            }
        }
        Err(Error::Integrity(fault(last)))
    }

    /// Reads exactly `out.len()` bytes of a subcommand response (a shorter response is a
    /// framing fault).
    async fn subcommand_read_exact(
        &mut self,
        cmd: u16,
        out: &mut [u8],
    ) -> Result<(), Error<IO::Error>> {
        let len = self.subcommand_read(cmd, out).await?;
        if len < out.len() {
            // The response passed its checksum: the chip answered, with less than asked.
            // SEALED refuses most subcommands that way: name the state if that is why.
            self.require_access(sub::name(cmd), Security::Unsealed)
                .await?;
            return Err(Error::Device {
                device: 0,
                what: "subcommand answered with fewer bytes than expected (unsupported?)",
            });
        }
        Ok(())
    }

    /// Subcommand (or data-memory address) with data: address to 0x3E/0x3F, data to 0x40…,
    /// then checksum and length **last** to 0x60/0x61.
    pub(crate) async fn subcommand_write(
        &mut self,
        cmd: u16,
        data: &[u8],
    ) -> Result<(), Error<IO::Error>> {
        if data.len() > MAX_TRANSFER {
            return Err(Error::InvalidArgument(
                "subcommand data longer than 32 bytes",
            ));
        }
        self.subcommand(cmd).await?;
        self.write_reg(direct::TRANSFER_BUFFER, data).await?;
        let tail = [
            frame::checksum(cmd, data),
            frame::transfer_length(data.len()),
        ];
        self.write_reg(direct::TRANSFER_CHECKSUM, &tail).await
    }
}

twins! {
    i2c impl[V: Variant] Bq769x2<V> => core {
        /// A command-only subcommand.
        pub fn subcommand(&mut self, cmd: u16) -> Result<(), Error<I2cError<B>>>;
        /// A subcommand with a response: polls the echo (bounded), verifies checksum and
        /// length ([`FaultReason::Checksum`]), copies up to `out.len()` bytes and returns the
        /// announced data length.
        pub fn subcommand_read(&mut self, cmd: u16, out: &mut [u8]) -> Result<usize, Error<I2cError<B>>>;
        /// A subcommand with data (≤ 32 bytes), checksum and length written last.
        pub fn subcommand_write(&mut self, cmd: u16, data: &[u8]) -> Result<(), Error<I2cError<B>>>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balancing_rules() {
        assert_eq!(check_balancing(0b101, 16, 16), Ok(()));
        assert!(matches!(
            check_balancing(0b11, 16, 16),
            Err(ConfigError::Conflict(_))
        ));
        assert!(matches!(
            check_balancing(1 << 16, 16, 16),
            Err(ConfigError::NoSuchCell {
                cell: 17,
                available: 16
            })
        ));
        assert!(matches!(
            check_balancing(0b10101, 16, 2),
            Err(ConfigError::Conflict(_))
        ));
    }

    #[test]
    fn logical_mapping_skips_unused_inputs() {
        // Inputs 1, 2, 3 and 16 used: connected cell 4 is input 16.
        assert_eq!(logical_to_inputs(0b1001, 0x8007), 0x8001);
    }

    #[test]
    fn keys_never_print() {
        extern crate std;
        let s = std::format!("{:?}", SecurityKeys::new(0x0414, 0x3672));
        assert!(!s.contains("414") && !s.contains("3672") && !s.contains("1044"));
    }
}
