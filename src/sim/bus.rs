//! The virtual chips at the wire level: an [`SpiBus`](embedded_hal::spi::SpiBus) and one
//! chip-select [`OutputPin`](embedded_hal::digital::OutputPin) per chip, so bus-sharing
//! layers (`embedded-hal-bus` `ExclusiveDevice`, `RefCellDevice`, `CriticalSectionDevice`,
//! Embassy's shared-bus devices …) run against the same models as [`SimSpi`](super::SimSpi).
//!
//! * [`SpiTarget`] wraps a [`Sim`] whose model is an [`SpiModel`] + `Clone`; its
//!   [`cs`](SpiTarget::cs) pin frames the chip's transactions (low = selected).
//! * [`SimSpiBus`] is the shared clock/MOSI/MISO wires to `K` targets. Bytes clocked while a
//!   target's chip select is low go to that target; MISO reads `0xFF` (pulled up) when no
//!   target is selected, and the wired AND of the answers if several are (a bus conflict a
//!   real board would show as garbage too). MOSI during a read is `0xFF`, as on an isoSPI
//!   master's idle line.
//!
//! **How a frame is modelled.** A model handles one complete chip-select frame at a time
//! (that is how [`SpiModel::transaction`] is defined), but on a wire the host reads the
//! answer *while* it is still sending. So while the chip select is low, the target answers
//! each read from a copy of the model given everything the chip has heard so far in this
//! frame (a chip's answer depends only on bytes it already received), and when the chip
//! select rises the model itself receives the whole frame once — exactly as
//! [`SimSpi`](super::SimSpi) delivers it, with the same modelled time (8 µs per byte). A
//! frame longer than the target's buffer (`CAP` bytes, 1536 by default: a 16-device
//! ADBMS6830 read-all is 1124) fails with [`SimError::FrameTooLong`].
//!
//! ```
//! use core::cell::RefCell;
//! use bms_afe::io::Blocking;
//! use bms_afe::ltc681x::{Ltc681x, Ltc6813};
//! use bms_afe::adbms6830::{Adbms6830, Adbms6830b};
//! use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
//! use bms_afe::sim::{Sim, SimSpiBus, SpiTarget, VirtualChip};
//! use bms_afe::sim::{adbms6830::Adbms6830Chain, ltc681x::Ltc681xChain};
//! use bms_afe::units::MicroVolts;
//! use embedded_hal_bus::spi::RefCellDevice;
//!
//! // Two chains on one SPI bus, each behind its own chip select.
//! let ltc = Sim::new(Ltc681xChain::<Ltc6813, 2>::new());
//! let adbms = Sim::new(Adbms6830Chain::<Adbms6830b, 2>::new());
//! ltc.with(|c| c.set_all_cells(3_700_000));
//! adbms.with(|c| for d in 0..2 { for k in 0..16 { c.set_cell_voltage(d, k, 3_600_000) } });
//! let (ltc_port, adbms_port) = (SpiTarget::new(&ltc), SpiTarget::new(&adbms));
//! let bus = RefCell::new(SimSpiBus::new([&ltc_port, &adbms_port]));
//!
//! let spi_a = RefCellDevice::new(&bus, ltc_port.cs(), ltc.delay()).unwrap();
//! let spi_b = RefCellDevice::new(&bus, adbms_port.cs(), adbms.delay()).unwrap();
//! let mut a = Ltc681x::<Ltc6813, 2, _>::new(Blocking::new(spi_a, ltc.delay()));
//! let mut b = Adbms6830::<Adbms6830b, 2, _>::new(Blocking::new(spi_b, adbms.delay()));
//!
//! a.wake().unwrap();
//! b.wake().unwrap();
//! let mut cells_a = [Reading::NotConverted; 2 * 18];
//! let mut cells_b = [Reading::NotConverted; 2 * 16];
//! assert!(a.measure_cells(ConversionMode::Normal, &mut cells_a).unwrap().is_ok());
//! assert!(b.measure_cells(ConversionMode::Normal, &mut cells_b).unwrap().is_ok());
//! assert!(cells_a.iter().all(|c| *c == Reading::Valid(MicroVolts(3_700_000))));
//! assert!(cells_b.iter().all(|c| *c == Reading::Valid(MicroVolts(3_600_000))));
//! ```

use core::cell::RefCell;

use embedded_hal::spi::Operation;

use super::{Sim, SimError, SpiModel};

/// Bytes moved through a stack buffer at a time.
const CHUNK: usize = 64;

/// MOSI level while the host reads (the line idles high).
const IDLE: u8 = 0xFF;

/// Default frame buffer of a [`SpiTarget`], in bytes.
pub const DEFAULT_FRAME_CAPACITY: usize = 1536;

/// A chip on a [`SimSpiBus`]: object-safe, so one bus can carry targets of different models.
pub trait BusTarget {
    /// `true` while the target's chip select is low.
    fn selected(&self) -> bool;
    /// Clocks `mosi` into the selected target's frame; when `miso` is `Some`, writes the
    /// target's answer for those byte positions into it (same length as `mosi`).
    fn shift(&self, mosi: &[u8], miso: Option<&mut [u8]>) -> Result<(), SimError>;
}

#[derive(Debug)]
struct Frame<const CAP: usize> {
    selected: bool,
    len: usize,
    overflow: bool,
    mosi: [u8; CAP],
}

/// A [`Sim`] as a chip on a shared virtual SPI bus: its frame buffer and chip select.
#[derive(Debug)]
pub struct SpiTarget<'a, M, const CAP: usize = DEFAULT_FRAME_CAPACITY> {
    sim: &'a Sim<M>,
    frame: RefCell<Frame<CAP>>,
}

impl<'a, M> SpiTarget<'a, M> {
    /// The chip `sim` on a bus, deselected, with a frame buffer of
    /// [`DEFAULT_FRAME_CAPACITY`] bytes.
    pub const fn new(sim: &'a Sim<M>) -> Self {
        Self::with_capacity(sim)
    }
}

impl<'a, M, const CAP: usize> SpiTarget<'a, M, CAP> {
    /// The chip `sim` on a bus, deselected, with a frame buffer of `CAP` bytes
    /// (`SpiTarget::<_, 4096>::with_capacity(&sim)`).
    pub const fn with_capacity(sim: &'a Sim<M>) -> Self {
        Self {
            sim,
            frame: RefCell::new(Frame {
                selected: false,
                len: 0,
                overflow: false,
                mosi: [0; CAP],
            }),
        }
    }

    /// The chip-select pin (active low): give it to the bus-sharing layer.
    pub fn cs(&self) -> SimCs<'_, 'a, M, CAP> {
        SimCs { target: self }
    }

    /// The model.
    pub fn sim(&self) -> &'a Sim<M> {
        self.sim
    }
}

impl<M: SpiModel, const CAP: usize> SpiTarget<'_, M, CAP> {
    fn select(&self) {
        let mut f = self.frame.borrow_mut();
        if !f.selected {
            f.selected = true;
            f.len = 0;
            f.overflow = false;
        }
    }

    /// CS rising: the model receives the frame.
    fn deselect(&self) -> Result<(), SimError> {
        let mut f = self.frame.borrow_mut();
        if !f.selected {
            return Ok(());
        }
        f.selected = false;
        if f.overflow {
            return Err(SimError::FrameTooLong);
        }
        let len = f.len;
        let mut m = self
            .sim
            .model
            .try_borrow_mut()
            .map_err(|_| SimError::Busy)?;
        let r = m.transaction(&mut [Operation::Write(&f.mosi[..len])]);
        // The same time per byte as `SimSpi` (1 MHz isoSPI).
        m.advance_ns(len as u64 * 8_000);
        r
    }
}

impl<M: SpiModel + Clone, const CAP: usize> BusTarget for SpiTarget<'_, M, CAP> {
    fn selected(&self) -> bool {
        self.frame.borrow().selected
    }

    fn shift(&self, mosi: &[u8], miso: Option<&mut [u8]>) -> Result<(), SimError> {
        let mut f = self.frame.borrow_mut();
        let start = f.len;
        let end = start + mosi.len();
        if f.overflow || end > CAP {
            f.overflow = true;
            if let Some(out) = miso {
                out.fill(IDLE);
            }
            return Err(SimError::FrameTooLong);
        }
        f.mosi[start..end].copy_from_slice(mosi);
        f.len = end;
        let Some(out) = miso else {
            return Ok(());
        };
        // The answer so far: a copy of the model hears the frame up to here.
        let mut copy = self
            .sim
            .model
            .try_borrow()
            .map_err(|_| SimError::Busy)?
            .clone();
        let mut answer = [IDLE; CAP];
        answer[..end].copy_from_slice(&f.mosi[..end]);
        copy.transaction(&mut [Operation::TransferInPlace(&mut answer[..end])])?;
        out.copy_from_slice(&answer[start..end]);
        Ok(())
    }
}

/// The chip-select pin of a [`SpiTarget`] (`embedded_hal` `OutputPin`, active low).
#[derive(Debug)]
pub struct SimCs<'t, 'a, M, const CAP: usize = DEFAULT_FRAME_CAPACITY> {
    target: &'t SpiTarget<'a, M, CAP>,
}

impl<M, const CAP: usize> embedded_hal::digital::ErrorType for SimCs<'_, '_, M, CAP> {
    type Error = SimError;
}

impl<M: SpiModel, const CAP: usize> embedded_hal::digital::OutputPin for SimCs<'_, '_, M, CAP> {
    fn set_low(&mut self) -> Result<(), SimError> {
        self.target.select();
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), SimError> {
        self.target.deselect()
    }
}

/// The shared SPI wires to `K` virtual chips (`embedded_hal` and `embedded_hal_async`
/// `SpiBus<u8>`).
pub struct SimSpiBus<'a, const K: usize> {
    targets: [&'a dyn BusTarget; K],
}

impl<const K: usize> core::fmt::Debug for SimSpiBus<'_, K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimSpiBus").field("targets", &K).finish()
    }
}

impl<'a, const K: usize> SimSpiBus<'a, K> {
    /// A bus to these chips.
    pub const fn new(targets: [&'a dyn BusTarget; K]) -> Self {
        Self { targets }
    }

    /// Clocks `mosi` out; the answer goes to `miso` if given.
    fn clock(&mut self, mosi: &[u8], mut miso: Option<&mut [u8]>) -> Result<(), SimError> {
        if let Some(out) = miso.as_deref_mut() {
            out.fill(IDLE);
        }
        let mut result = Ok(());
        for t in self.targets.iter().filter(|t| t.selected()) {
            match miso.as_deref_mut() {
                None => {
                    if let Err(e) = t.shift(mosi, None) {
                        result = Err(e);
                    }
                }
                Some(out) => {
                    for (m, o) in mosi.chunks(CHUNK).zip(out.chunks_mut(CHUNK)) {
                        let mut answer = [IDLE; CHUNK];
                        let answer = &mut answer[..m.len()];
                        if let Err(e) = t.shift(m, Some(answer)) {
                            result = Err(e);
                        }
                        // Several selected chips: the wired AND of their answers.
                        for (o, a) in o.iter_mut().zip(answer.iter()) {
                            *o &= *a;
                        }
                    }
                }
            }
        }
        result
    }
}

impl<const K: usize> embedded_hal::spi::ErrorType for SimSpiBus<'_, K> {
    type Error = SimError;
}

impl<const K: usize> embedded_hal::spi::SpiBus<u8> for SimSpiBus<'_, K> {
    fn read(&mut self, words: &mut [u8]) -> Result<(), SimError> {
        let idle = [IDLE; CHUNK];
        let mut r = Ok(());
        for chunk in words.chunks_mut(CHUNK) {
            if let Err(e) = self.clock(&idle[..chunk.len()], Some(chunk)) {
                r = Err(e);
            }
        }
        r
    }

    fn write(&mut self, words: &[u8]) -> Result<(), SimError> {
        self.clock(words, None)
    }

    fn transfer(&mut self, read: &mut [u8], write: &[u8]) -> Result<(), SimError> {
        // embedded-hal: as many words as the longer buffer; the shorter write is padded,
        // extra read words are discarded.
        let n = read.len().max(write.len());
        let mut r = Ok(());
        let mut pos = 0;
        while pos < n {
            let len = CHUNK.min(n - pos);
            let mut out = [IDLE; CHUNK];
            let mut answer = [IDLE; CHUNK];
            for (i, b) in out[..len].iter_mut().enumerate() {
                *b = write.get(pos + i).copied().unwrap_or(IDLE);
            }
            if let Err(e) = self.clock(&out[..len], Some(&mut answer[..len])) {
                r = Err(e);
            }
            for (i, a) in answer[..len].iter().enumerate() {
                if let Some(slot) = read.get_mut(pos + i) {
                    *slot = *a;
                }
            }
            pos += len;
        }
        r
    }

    fn transfer_in_place(&mut self, words: &mut [u8]) -> Result<(), SimError> {
        let mut r = Ok(());
        for chunk in words.chunks_mut(CHUNK) {
            let mut out = [IDLE; CHUNK];
            let out = &mut out[..chunk.len()];
            out.copy_from_slice(chunk);
            if let Err(e) = self.clock(out, Some(chunk)) {
                r = Err(e);
            }
        }
        r
    }

    fn flush(&mut self) -> Result<(), SimError> {
        Ok(())
    }
}

impl<const K: usize> embedded_hal_async::spi::SpiBus<u8> for SimSpiBus<'_, K> {
    async fn read(&mut self, words: &mut [u8]) -> Result<(), SimError> {
        embedded_hal::spi::SpiBus::read(self, words)
    }

    async fn write(&mut self, words: &[u8]) -> Result<(), SimError> {
        embedded_hal::spi::SpiBus::write(self, words)
    }

    async fn transfer(&mut self, read: &mut [u8], write: &[u8]) -> Result<(), SimError> {
        embedded_hal::spi::SpiBus::transfer(self, read, write)
    }

    async fn transfer_in_place(&mut self, words: &mut [u8]) -> Result<(), SimError> {
        embedded_hal::spi::SpiBus::transfer_in_place(self, words)
    }

    async fn flush(&mut self) -> Result<(), SimError> {
        Ok(())
    }
}
