//! The BQ79600 SPI host link ([`BridgeSpi`]): the same driver over SPI with the SPI_RDY
//! handshake, against the virtual bridge + stack, blocking (`InputPin`) and async (`Wait`) from
//! one body.
#![cfg(feature = "sim")]

use bms_afe::bq79616::{Bq79616, Bq79616Q1, BridgeSpi, Variant};
use bms_afe::error::FaultReason;
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, ChainReport, ConversionMode, Reading};
use bms_afe::sim::bq79616::{Bq79616Stack, SPI_RDY};
use bms_afe::sim::{
    InjectedFault, Sim, SimDelay, SimError, SimInput, SimLine, SimSpi, VirtualChip,
};
use bms_afe::units::MicroVolts;

mod common;
use common::block_on;

type Link<'a, const N: usize> = BridgeSpi<
    SimSpi<'a, Bq79616Stack<N>>,
    SimInput<'a, Bq79616Stack<N>>,
    SimLine<'a, Bq79616Stack<N>>,
>;
type E = bms_afe::Error<bms_afe::bq79616::spi::LinkError<SimError, SimError>>;

#[allow(async_fn_in_trait)]
trait Drv {
    async fn bring_up(&mut self) -> Result<(), E>;
    async fn measure(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, E>;
}

impl<'a, V: Variant, const N: usize> Drv
    for Bq79616<V, N, Blocking<Link<'a, N>, SimDelay<'a, Bq79616Stack<N>>>>
{
    async fn bring_up(&mut self) -> Result<(), E> {
        self.bring_up()
    }
    async fn measure(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, E> {
        CellMonitor::measure_cells(self, ConversionMode::Normal, out)
    }
}

impl<'a, V: Variant, const N: usize> Drv
    for Bq79616<V, N, Async<Link<'a, N>, SimDelay<'a, Bq79616Stack<N>>>>
{
    async fn bring_up(&mut self) -> Result<(), E> {
        self.bring_up().await
    }
    async fn measure(&mut self, out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, E> {
        AsyncCellMonitor::measure_cells(self, ConversionMode::Normal, out).await
    }
}

async fn body<D: Drv, const N: usize>(sim: &Sim<Bq79616Stack<N>>, d: &mut D) {
    sim.with(|s| {
        for dev in 0..N {
            for c in 0..16 {
                s.set_cell_voltage(dev, c, 3_100_000 + 20_000 * c as i32 + 3_000 * dev as i32);
            }
        }
    });
    d.bring_up().await.unwrap();
    let mut out = vec![Reading::NotConverted; N * 16];
    let r = d.measure(&mut out).await.unwrap();
    assert!(r.is_ok(), "{r:?}");
    for dev in 0..N {
        for c in 0..16 {
            let want = 3_100_000 + 20_000 * c as i32 + 3_000 * dev as i32;
            assert!(
                matches!(out[dev * 16 + c], Reading::Valid(v) if (v.0 - want).abs() <= 96),
                "dev {dev} cell {c}: {:?}",
                out[dev * 16 + c]
            );
        }
    }
    // A 16 × 38-byte response spans five 128-byte FIFO buffers; corruption at one device
    // still fails only that device.
    sim.with(|s| {
        s.inject(InjectedFault::CorruptResponses {
            device: (N - 1) as u8,
            seed: 7,
            frames: u32::MAX,
        })
    });
    let r = d.measure(&mut out).await.unwrap();
    assert_eq!(r.failed.iter().collect::<Vec<_>>(), [N - 1]);
    // A silent device: SPI_RDY never rises for its bytes; the wait is bounded.
    sim.with(|s| {
        s.clear_faults();
        s.inject(InjectedFault::Silent { device: 0 });
    });
    let t0 = sim.with(|s| s.elapsed_ns().unwrap());
    let r = d.measure(&mut out).await.unwrap();
    assert_eq!(r.failed.iter().collect::<Vec<_>>(), [0]);
    assert_eq!(r.first_fault.unwrap().reason, FaultReason::NoResponse);
    assert!(sim.with(|s| s.elapsed_ns().unwrap()) - t0 < 200_000_000);
}

#[test]
fn bridge_over_spi_blocking_and_async() {
    let sim = Sim::new(Bq79616Stack::<16>::bridge(16));
    let link = BridgeSpi::with_line(sim.spi(), sim.input(SPI_RDY), sim.line());
    let mut d = Bq79616::<Bq79616Q1, 16, _>::new_bridge(Blocking::new(link, sim.delay()));
    block_on(body(&sim, &mut d));

    let sim = Sim::new(Bq79616Stack::<16>::bridge(16));
    let link = BridgeSpi::with_line(sim.spi(), sim.input(SPI_RDY), sim.line());
    let mut d = Bq79616::<Bq79616Q1, 16, _>::new_bridge(Async::new(link, sim.delay()));
    block_on(body(&sim, &mut d));

    let sim = Sim::new(Bq79616Stack::<1>::bridge(16));
    let link = BridgeSpi::with_line(sim.spi(), sim.input(SPI_RDY), sim.line());
    let mut d = Bq79616::<Bq79616Q1, 1, _>::new_bridge(Async::new(link, sim.delay()));
    block_on(body(&sim, &mut d));
}
