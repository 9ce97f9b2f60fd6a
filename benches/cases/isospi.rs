//! ADI isoSPI chain machinery shared by the LTC681x and ADBMS6830 drivers: command frame
//! build, verifying a 16-device chain's six cell-voltage groups, the same read through the
//! shared `isospi::read_verified` over the replay bus (and the bus traffic alone,
//! `isospi16/bus_only`, which the `ltc6813x16/*` driver cases subtract), and a 16-device
//! write build.

use core::cell::Cell;
use core::hint::black_box;

use bms_afe::io::{Async, Blocking};
use bms_afe::isospi::{self, DataPec};

use crate::support::mock::{NoDelay, ReplaySpi, block_on};
use crate::support::{Per, Runner};

/// Devices in the chain.
const N: usize = 16;
/// Cell-voltage register groups A..F (LTC6813: 18 cells, 3 per group).
const GROUPS: usize = 6;
const CELLS: usize = 3 * GROUPS;

/// RDCVA..RDCVF command codes (LTC6813-1 data sheet, Table 38): A=0x004, B=0x006, C=0x008,
/// D=0x00A, E=0x009, F=0x00B.
const RDCV: [[u8; 4]; GROUPS] = [
    isospi::command(0x004),
    isospi::command(0x006),
    isospi::command(0x008),
    isospi::command(0x00A),
    isospi::command(0x009),
    isospi::command(0x00B),
];

/// Realistic chain responses for `D` devices: per group, per device (device 0 first on the
/// wire), three little-endian 100 µV codes around 3.3 V and the PEC15 computed with the
/// crate's byte-wise `pec15` (not the group form under test). Reusable by the LTC681x driver
/// cases (`chain_frames::<1>()`, `::<4>()`, `::<16>()`).
pub fn chain_frames<const D: usize>() -> [[[u8; 8]; D]; GROUPS] {
    let mut out = [[[0u8; 8]; D]; GROUPS];
    for (g, group) in out.iter_mut().enumerate() {
        for (d, f) in group.iter_mut().enumerate() {
            for c in 0..3 {
                let code = 33_000 + 37 * d as u16 + 11 * g as u16 + 5 * c as u16;
                f[2 * c..2 * c + 2].copy_from_slice(&code.to_le_bytes());
            }
            let pec = bms_afe::crc::pec15(&f[..6]);
            f[6..].copy_from_slice(&pec.to_be_bytes());
        }
    }
    out
}

/// The replay-bus `rx` for reading groups A..F in order: every device's frame of every group,
/// as the chain clocks them out.
pub fn chain_rx<const D: usize>(frames: &[[[u8; 8]; D]; GROUPS]) -> Vec<u8> {
    frames.iter().flatten().flatten().copied().collect()
}

pub fn register(r: &mut Runner) {
    r.case("command/build", Per::frame(1), || {
        isospi::command(black_box(0x260))
    });

    let frames = chain_frames::<N>();
    for g in &frames {
        assert!(
            isospi::verify_chain(g, DataPec::Pec15)
                .iter()
                .all(Result::is_ok)
        );
    }
    r.case(
        "verify_chain/16dev_6groups",
        Per::group((N * GROUPS) as u32),
        || {
            for g in black_box(&frames) {
                let v = isospi::verify_chain(g, DataPec::Pec15);
                black_box(&v);
            }
        },
    );

    // The same chain with ADBMS68xx framing: PEC10 with a command counter (here 5) in PEC0.
    let mut frames10 = frames;
    for f in frames10.iter_mut().flatten() {
        let pec = bms_afe::crc::pec10(&f[..6], 5);
        f[6..].copy_from_slice(&((5u16 << 10) | pec).to_be_bytes());
    }
    for g in &frames10 {
        assert!(
            isospi::verify_chain(g, DataPec::Pec10)
                .iter()
                .all(|v| *v == Ok(5))
        );
    }
    r.case(
        "verify_chain_pec10/16dev_6groups",
        Per::group((N * GROUPS) as u32),
        || {
            for g in black_box(&frames10) {
                let v = isospi::verify_chain(g, DataPec::Pec10);
                black_box(&v);
            }
        },
    );

    // The same 6 reads through the shared chain reader over the replay bus.
    let rx = chain_rx(&frames);
    let wire = Cell::new(0);
    let mut io = Blocking::new(ReplaySpi::new(&rx, &wire), NoDelay);
    let mut buf = [[0u8; 8]; N];
    r.bus_case(
        "isospi16/bus_only",
        Per::cell((N * CELLS) as u32),
        &wire,
        || {
            for cmd in &RDCV {
                let Ok(()) = block_on(isospi::read_chain(&mut io, black_box(cmd), &mut buf));
            }
            buf[N - 1][0]
        },
    );
    let mut io = Blocking::new(ReplaySpi::new(&rx, &wire), NoDelay);
    r.bus_case(
        "isospi16/read_verify",
        Per::cell((N * CELLS) as u32),
        &wire,
        || {
            for cmd in &RDCV {
                // Infallible bus: the result is always `Ok`.
                let Ok(v) = block_on(isospi::read_verified(
                    &mut io,
                    black_box(cmd),
                    &mut buf,
                    DataPec::Pec15,
                    0,
                ));
                black_box(&v);
            }
        },
    );
    // The same through the async transport (one future for the six reads, polled once).
    let mut aio = Async::new(ReplaySpi::new(&rx, &wire), NoDelay);
    r.bus_case(
        "isospi16/read_verify_async",
        Per::cell((N * CELLS) as u32),
        &wire,
        || {
            block_on(async {
                for cmd in &RDCV {
                    let Ok(v) = isospi::read_verified(
                        &mut aio,
                        black_box(cmd),
                        &mut buf,
                        DataPec::Pec15,
                        0,
                    )
                    .await;
                    black_box(&v);
                }
            })
        },
    );
    // A 16-device configuration write: data in host order → sealed wire frames.
    let cfg: [[u8; 8]; N] = core::array::from_fn(|d| {
        let b: [u8; 8] = super::bytes(0x1000 + d as u32);
        b
    });
    let mut out = [[0u8; 8]; N];
    r.case("isospi16/build_write", Per::device(N as u32), || {
        isospi::build_write(black_box(&cfg), DataPec::Pec15, &mut out);
        out[0][7]
    });
}
