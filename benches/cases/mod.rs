//! The case registry. Each module registers its cases with [`Runner::case`] (pure
//! computation) or [`Runner::bus_case`] (through a driver over a replay bus); adding a case is
//! one call. To add a family's full-stack read, write a module like [`isospi`]: build the
//! canned response bytes, construct the driver over [`ReplaySpi`](crate::support::mock::ReplaySpi)
//! / [`ReplayI2c`](crate::support::mock::ReplayI2c) with [`NoDelay`](crate::support::mock::NoDelay),
//! check once (outside the timing) that the decoded values are the ones encoded, then call
//! `r.bus_case("ltc6813x16/read_cells", Per::cell(288), &wire, || driver.read_cells(...))`.

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
