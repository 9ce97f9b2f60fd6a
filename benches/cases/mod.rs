//! The case registry. Each module registers its cases with [`Runner::case`] (pure
//! computation) or [`Runner::bus_case`] (through a driver over a replay bus); adding a case is
//! one call. To add a family's full-stack read, write a module like [`isospi`] and list its
//! `register` in [`ALL`]: build the canned response bytes, construct the driver over
//! [`ReplaySpi`](crate::support::mock::ReplaySpi) / [`ReplayI2c`](crate::support::mock::ReplayI2c)
//! with [`NoDelay`](crate::support::mock::NoDelay), check once (outside the timing) that the
//! decoded values are the ones encoded, then time it. For example (driver API as merged):
//!
//! ```text
//! let frames = isospi::chain_frames::<16>();           // RDCVA..F responses, PECs sealed
//! let rx = isospi::chain_rx(&frames);
//! let wire = Cell::new(0);
//! let mut afe = Ltc681x::<Ltc6813, 16, _>::new(Blocking::new(ReplaySpi::new(&rx, &wire), NoDelay), ..);
//! let mut cells = [[Reading::NotConverted; 18]; 16];
//! afe.read_cells(&mut cells).unwrap();                  // once: check the decoded values
//! assert_eq!(cells[0][0], Reading::Valid(MicroVolts(3_300_000)));
//! r.bus_case("ltc6813x16/read_cells", Per::cell(288), &wire, || afe.read_cells(&mut cells));
//! ```
//!
//! `bytes_on_wire` is then what the driver really moved (for LTC681x the minimum is
//! `6 × (4 + 8·N)`: 792 bytes for 16 devices). The `isospi16/bus_only` case is the bus cost to
//! subtract for "instructions per cell beyond the bus traffic".

pub mod crc;
pub mod isospi;

use crate::support::Runner;

/// Every registry function, in output order.
pub const ALL: &[fn(&mut Runner)] = &[crc::register, isospi::register];

/// Deterministic pseudo-random bytes (xorshift32).
pub fn bytes<const N: usize>(mut seed: u32) -> [u8; N] {
    let mut out = [0u8; N];
    for b in out.iter_mut() {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        *b = (seed >> 11) as u8;
    }
    out
}
