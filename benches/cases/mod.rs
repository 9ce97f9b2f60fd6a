//! The case registry. Each module registers its cases with [`Runner::case`] (pure
//! computation) or [`Runner::bus_case`] (through a driver over a replay bus); adding a case is
//! one call. To add a family's full-stack read, write a module like [`ltc681x`] and list its
//! `register` in [`ALL`]: build the canned response bytes (valid frames: PECs/CRCs computed
//! with the crate's functions, which the module first checks against published wire bytes),
//! construct the driver over [`ReplaySpi`](crate::support::mock::ReplaySpi) /
//! [`ReplayI2c`](crate::support::mock::ReplayI2c) with
//! [`NoDelay`](crate::support::mock::NoDelay), check once (outside the timing) that every
//! decoded value is the one encoded, then time it, and register the matching `bus_only`
//! case (the same reads through the bus alone) to subtract. As in [`ltc681x`]:
//!
//! ```text
//! let frames = isospi::chain_frames::<16>();           // RDCVA..F responses, PECs sealed
//! let rx = isospi::chain_rx(&frames);
//! let wire = Cell::new(0);
//! let mut afe = Ltc681x::<Ltc6813, 16, _>::new(Blocking::new(ReplaySpi::new(&rx, &wire), NoDelay));
//! let mut cells = [[Reading::NotConverted; 18]; 16];
//! let report = afe.read_cells(cells.as_flattened_mut()).expect("read");  // once: check
//! assert!(report.is_ok());
//! assert_eq!(cells[0][0], Reading::Valid(MicroVolts(3_300_000)));
//! r.bus_case("ltc6813x16/read_cells", Per::cell(288), &wire, || {
//!     afe.read_cells(black_box(cells.as_flattened_mut()))
//! });
//! ```
//!
//! `bytes_on_wire` is then what the driver really moved (for LTC681x the minimum is
//! `6 × (4 + 8·N)`: 792 bytes for 16 devices). The runner also checks, once per case, that
//! an iteration makes no heap allocation (a counting global allocator, `support::alloc`).

pub mod adbms6830;
pub mod bq7690x;
pub mod bq769x0;
pub mod bq769x2;
pub mod bq79616;
pub mod crc;
pub mod isospi;
pub mod ltc681x;
pub mod max1785x;
pub mod mc3377x;
pub mod tle9012;

use crate::support::Runner;

/// Every registry function, in output order.
pub const ALL: &[fn(&mut Runner)] = &[
    crc::register,
    isospi::register,
    ltc681x::register,
    adbms6830::register,
    bq769x0::register,
    bq769x2::register,
    bq7690x::register,
    bq79616::register,
    mc3377x::register,
    tle9012::register,
    max1785x::register,
];

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
