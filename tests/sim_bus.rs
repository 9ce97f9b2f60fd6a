//! The virtual chips at the wire level (`sim::SimSpiBus` + `SpiTarget` chip selects) under
//! `embedded-hal-bus`: the conformance suite through `ExclusiveDevice` (blocking and async),
//! two chains sharing one bus through `RefCellDevice` with a fault on one of them, and the
//! wire semantics themselves (deselected MISO, split reads, over-long frames).
#![cfg(feature = "conformance")]

use core::cell::RefCell;

use bms_afe::adbms6830::register::{CfgA, CfgB};
use bms_afe::adbms6830::{Adbms6830, Adbms6830b};
use bms_afe::conformance::{SuiteConfig, SuiteReport, run_async, run_blocking};
use bms_afe::io::{Async, Blocking};
use bms_afe::ltc681x::{Ltc681x, Ltc6813};
use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::sim::ltc681x::Ltc681xChain;
use bms_afe::sim::{InjectedFault, Sim, SimError, SimSpiBus, SpiTarget, VirtualChip};
use bms_afe::units::MicroVolts;
use embedded_hal::delay::DelayNs;
use embedded_hal::digital::OutputPin;
use embedded_hal::spi::SpiBus;
use embedded_hal_bus::spi::{ExclusiveDevice, RefCellDevice};

mod common;
use common::{block_on, oracle_cmd, oracle_pec15};

/// Cases in the suite (`src/conformance.rs`); `current` is skipped (no current channel).
const CASES: u32 = 16;

fn check(name: &str, r: SuiteReport) {
    println!("{name}: {r}");
    assert!(r.is_pass(), "{name}: {r}");
    assert_eq!(r.skipped, 1, "{name}: {r}");
    assert_eq!(
        r.passed + r.skipped,
        CASES,
        "{name}: not every case ran: {r}"
    );
}

#[test]
fn ltc6813_conformance_through_exclusive_device() {
    let cfg = SuiteConfig::default();
    for asynchronous in [false, true] {
        let sim = Sim::new(Ltc681xChain::<Ltc6813, 4>::new());
        let port = SpiTarget::new(&sim);
        let bus = SimSpiBus::new([&port]);
        let spi = ExclusiveDevice::new(bus, port.cs(), sim.delay()).unwrap();
        let r = if asynchronous {
            let mut d = Ltc681x::<Ltc6813, 4, _>::new(Async::new(spi, sim.delay()));
            d.set_undervoltage(MicroVolts(2_000_000)).unwrap();
            d.set_overvoltage(MicroVolts(4_500_000)).unwrap();
            block_on(run_async(&sim, &mut d, &cfg))
        } else {
            let mut d = Ltc681x::<Ltc6813, 4, _>::new(Blocking::new(spi, sim.delay()));
            d.set_undervoltage(MicroVolts(2_000_000)).unwrap();
            d.set_overvoltage(MicroVolts(4_500_000)).unwrap();
            run_blocking(&sim, &mut d, &cfg)
        };
        check(&format!("ltc6813 x4 bus async={asynchronous}"), r);
    }
}

#[test]
fn adbms6830_conformance_through_exclusive_device() {
    let cfg = SuiteConfig::default();
    let mut b = CfgB::default();
    b.set_undervoltage(MicroVolts(2_000_000)).unwrap();
    b.set_overvoltage(MicroVolts(4_500_000)).unwrap();
    for asynchronous in [false, true] {
        let sim = Sim::new(Adbms6830Chain::<Adbms6830b, 3>::new());
        let port = SpiTarget::new(&sim);
        let bus = SimSpiBus::new([&port]);
        let spi = ExclusiveDevice::new(bus, port.cs(), sim.delay()).unwrap();
        let r = if asynchronous {
            let mut d = Adbms6830::<Adbms6830b, 3, _>::new(Async::new(spi, sim.delay()));
            block_on(d.wake()).unwrap();
            block_on(d.configure(CfgA::default(), b)).unwrap();
            block_on(run_async(&sim, &mut d, &cfg))
        } else {
            let mut d = Adbms6830::<Adbms6830b, 3, _>::new(Blocking::new(spi, sim.delay()));
            d.wake().unwrap();
            d.configure(CfgA::default(), b).unwrap();
            run_blocking(&sim, &mut d, &cfg)
        };
        check(&format!("adbms6830b x3 bus async={asynchronous}"), r);
    }
}

#[test]
fn two_chains_share_one_bus_and_a_fault_stays_on_its_chain() {
    let ltc = Sim::new(Ltc681xChain::<Ltc6813, 2>::new());
    let adbms = Sim::new(Adbms6830Chain::<Adbms6830b, 2>::new());
    ltc.with(|c| c.set_all_cells(3_700_000));
    adbms.with(|c| {
        for d in 0..2 {
            for k in 0..16 {
                c.set_cell_voltage(d, k, 3_600_000);
            }
        }
    });
    let (pa, pb) = (SpiTarget::new(&ltc), SpiTarget::new(&adbms));
    let bus = RefCell::new(SimSpiBus::new([&pa, &pb]));
    let spi_a = RefCellDevice::new(&bus, pa.cs(), ltc.delay()).unwrap();
    let spi_b = RefCellDevice::new(&bus, pb.cs(), adbms.delay()).unwrap();
    let mut a = Ltc681x::<Ltc6813, 2, _>::new(Blocking::new(spi_a, ltc.delay()));
    let mut b = Adbms6830::<Adbms6830b, 2, _>::new(Blocking::new(spi_b, adbms.delay()));
    a.wake().unwrap();
    b.wake().unwrap();

    // Device 1 of the LTC chain corrupts every frame: only its own cells fail.
    ltc.with(|c| {
        c.inject(InjectedFault::CorruptResponses {
            device: 1,
            seed: 7,
            frames: u32::MAX,
        })
    });
    for _ in 0..3 {
        let mut ca = [Reading::NotConverted; 36];
        let mut cb = [Reading::NotConverted; 32];
        let ra = a.measure_cells(ConversionMode::Normal, &mut ca).unwrap();
        let rb = b.measure_cells(ConversionMode::Normal, &mut cb).unwrap();
        assert!(ra.failed.contains(1) && !ra.failed.contains(0), "{ra}");
        assert!(rb.is_ok(), "{rb}");
        assert!(
            ca[..18]
                .iter()
                .all(|c| *c == Reading::Valid(MicroVolts(3_700_000)))
        );
        assert!(
            ca[18..]
                .iter()
                .all(|c| matches!(c, Reading::Failed(f) if f.device == 1))
        );
        assert!(
            cb.iter()
                .all(|c| *c == Reading::Valid(MicroVolts(3_600_000)))
        );
    }
}

#[test]
fn wire_semantics() {
    let sim = Sim::new(Ltc681xChain::<Ltc6813, 1>::new());
    let port = SpiTarget::new(&sim);
    let mut bus = SimSpiBus::new([&port]);
    let mut cs = port.cs();

    // Deselected: the chip hears nothing and MISO idles high.
    let mut buf = [0x00u8; 12];
    bus.transfer_in_place(&mut buf).unwrap();
    assert_eq!(buf, [0xFF; 12]);

    // Wake the chain: a chip-select pulse, then tWAKE (400 µs maximum, LTC6812-DS).
    cs.set_low().unwrap();
    cs.set_high().unwrap();
    sim.delay().delay_us(500);

    // RDCFGA (0x002) split over three bus calls reads the same answer as one frame would:
    // the chip's configuration group with a PEC15 the test's own oracle confirms.
    cs.set_low().unwrap();
    bus.write(&oracle_cmd(0x002)).unwrap();
    let mut first = [0u8; 3];
    let mut rest = [0u8; 5];
    bus.read(&mut first).unwrap();
    bus.read(&mut rest).unwrap();
    cs.set_high().unwrap();
    let mut group = [0u8; 8];
    group[..3].copy_from_slice(&first);
    group[3..].copy_from_slice(&rest);
    assert_eq!(
        oracle_pec15(&group[..6]),
        [group[6], group[7]],
        "{group:02x?}"
    );
    assert_ne!(group, [0xFF; 8], "a cleared-looking answer proves nothing");

    // The same read as one SpiDevice transaction on an identical chip gives the same bytes.
    let sim2 = Sim::new(Ltc681xChain::<Ltc6813, 1>::new());
    embedded_hal::spi::SpiDevice::transaction(&mut sim2.spi(), &mut []).unwrap();
    sim2.delay().delay_us(500);
    let mut whole = [0xFFu8; 12];
    whole[..4].copy_from_slice(&oracle_cmd(0x002));
    embedded_hal::spi::SpiDevice::transaction(
        &mut sim2.spi(),
        &mut [embedded_hal::spi::Operation::TransferInPlace(&mut whole)],
    )
    .unwrap();
    assert_eq!(&whole[4..], &group);

    // A frame longer than the target's buffer is an error, not a truncated command.
    let small = SpiTarget::<_, 8>::with_capacity(&sim);
    let mut bus = SimSpiBus::new([&small]);
    let mut cs = small.cs();
    cs.set_low().unwrap();
    assert_eq!(bus.write(&[0u8; 9]), Err(SimError::FrameTooLong));
    assert_eq!(cs.set_high(), Err(SimError::FrameTooLong));
}
