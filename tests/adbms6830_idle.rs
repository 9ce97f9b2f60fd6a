//! isoSPI idle timeout (ADBMS6830B-DS: tIDLE 4.3/5.5/6.7 ms, tREADY ≤ 10 µs; adi.md §6.6):
//! after more than 4.3 ms without a frame a port goes IDLE and the next frame is lost there.
//! The driver wakes the ports again after every wait that can exceed tIDLE. Retries are off in
//! these tests, so a lost frame cannot be hidden by a re-issued read.
#![cfg(feature = "sim")]

use bms_afe::adbms6830::command::Adcv;
use bms_afe::adbms6830::register::{CfgA, CfgB};
use bms_afe::adbms6830::{Adbms6830, Adbms6830b, AdcPath, CellSource};
use bms_afe::error::FaultReason;
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{ConversionMode, Reading};
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::sim::{Sim, VirtualChip};
use bms_afe::units::MicroVolts;
use bms_afe::{AsyncCellMonitor, CellMonitor};
use embedded_hal::delay::DelayNs;

mod common;
use common::{block_on, id, quantised};

macro_rules! both {
    ($n:literal, $scenario:ident) => {{
        {
            let sim = Sim::new(Adbms6830Chain::<Adbms6830b, $n>::new());
            let mut d = Adbms6830::<Adbms6830b, $n, _>::new(Blocking::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, id, CellMonitor, $n);
        }
        {
            let sim = Sim::new(Adbms6830Chain::<Adbms6830b, $n>::new());
            let mut d = Adbms6830::<Adbms6830b, $n, _>::new(Async::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, block_on, AsyncCellMonitor, $n);
        }
    }};
}

#[test]
fn virtual_chain_loses_a_frame_at_an_idle_port() {
    use embedded_hal::spi::{Operation, SpiDevice};
    let sim = Sim::new(Adbms6830Chain::<Adbms6830b, 1>::new());
    let mut spi = sim.spi();
    let rdsid = [0x00, 0x2C, 0x59, 0x90]; // adi.md §6.2 [D]
    let mut buf = [0xFFu8; 8];
    // First frame wakes the sleeping device (lost), the second is answered.
    for _ in 0..2 {
        buf = [0xFF; 8];
        spi.transaction(&mut [
            Operation::Write(&rdsid),
            Operation::TransferInPlace(&mut buf),
        ])
        .unwrap();
    }
    assert_ne!(buf, [0xFF; 8]);
    // 4.2 ms of silence: still active.
    sim.delay().delay_us(4_200);
    buf = [0xFF; 8];
    spi.transaction(&mut [
        Operation::Write(&rdsid),
        Operation::TransferInPlace(&mut buf),
    ])
    .unwrap();
    assert_ne!(buf, [0xFF; 8]);
    // 4.4 ms (> tIDLE min): the port idled; the frame wakes it and is lost.
    sim.delay().delay_us(4_400);
    buf = [0xFF; 8];
    spi.transaction(&mut [
        Operation::Write(&rdsid),
        Operation::TransferInPlace(&mut buf),
    ])
    .unwrap();
    assert_eq!(buf, [0xFF; 8]);
    assert!(sim.with(|m| m.is_awake()), "idle is not sleep");
    // After tREADY the next frame is answered.
    sim.delay().delay_us(10);
    spi.transaction(&mut [
        Operation::Write(&rdsid),
        Operation::TransferInPlace(&mut buf),
    ])
    .unwrap();
    assert_ne!(buf, [0xFF; 8]);
}

macro_rules! long_waits {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        let c = 16;
        $sim.with(|m| {
            for dev in 0..$n {
                for cell in 0..c {
                    m.set_cell_voltage(dev, cell, 3_100_000 + 10_000 * cell as i32);
                }
            }
        });
        $w($t::wake(&mut $d)).unwrap();
        $d.set_retries(0);
        let mut out = vec![Reading::NotConverted; $n * c];
        // Normal = RD single shot: 9.6 ms wait, more than tIDLE.
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap();
        assert!(r.is_ok(), "{r:?}");
        for (k, o) in out.iter().enumerate() {
            let cell = k % c;
            assert_eq!(
                *o,
                Reading::Valid(MicroVolts(quantised(3_100_000 + 10_000 * cell as i32))),
                "cell {k}"
            );
        }
        // A CellMonitor call after the host idled for 50 ms wakes the ports first.
        $sim.delay().delay_ms(50);
        let r = $w($t::read_cell_voltages(&mut $d, &mut out)).unwrap();
        assert!(r.is_ok(), "{r:?}");
        let mut f = vec![Reading::NotConverted; $n];
        $sim.delay().delay_ms(50);
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        $sim.delay().delay_ms(50);
        assert!($w($t::set_balancing(&mut $d, &[0; $n])).is_ok());
        // Diagnostics wait 9.6 ms (RD, S-ADC) or 21.6 ms (ADAX all) between steps.
        $w($d.configure(CfgA::default(), CfgB::default())).unwrap();
        let mut m = [Reading::NotConverted; $n];
        assert!($w($d.redundancy_check(&mut m)).unwrap().is_ok());
        assert!(m.iter().all(|x| *x == Reading::Valid(0)), "{m:?}");
        for path in [AdcPath::C, AdcPath::S] {
            assert!($w($d.cell_open_wire(path, &mut m)).unwrap().is_ok());
            assert!(m.iter().all(|x| *x == Reading::Valid(0)), "{path:?} {m:?}");
        }
        let mut aux = [Reading::NotConverted; $n];
        assert!(
            $w($d.aux_open_wire(MicroVolts(1_000_000), &mut aux))
                .unwrap()
                .is_ok()
        );
        let mut t = vec![Reading::NotConverted; $n];
        $sim.delay().delay_ms(50);
        assert!(
            $w($t::measure_temperatures(&mut $d, &mut t))
                .unwrap()
                .is_ok()
        );
        $sim.delay().delay_ms(50);
        let mut sv = vec![Reading::NotConverted; $n];
        assert!(
            $w($t::measure_stack_voltages(&mut $d, &mut sv))
                .unwrap()
                .is_ok()
        );
        // The low-level methods send exactly their frames: after a long wait the read is
        // lost at the idle port (device 0 reports no response, never stale data) …
        $w($d.start_cell_adc(Adcv::SINGLE)).unwrap();
        $sim.delay().delay_ms(5);
        let r = $w($d.read_cells(CellSource::C, &mut out)).unwrap();
        assert_eq!(
            r.first_fault.map(|f| (f.device, f.reason)),
            Some((0, FaultReason::NoResponse))
        );
        // (The first group read woke the ports one by one; cells of that group are not
        // valid on any device. Later groups go through: their data is genuine.)
        assert!(
            out.chunks(16)
                .all(|dev| dev[..3].iter().all(|o| !o.is_valid()))
        );
        // … and `wake_idle` first makes it work.
        $sim.delay().delay_ms(5);
        $w($d.wake_idle()).unwrap();
        assert!($w($d.read_cells(CellSource::C, &mut out)).unwrap().is_ok());
    }};
}

#[test]
fn long_waits_wake_the_ports_chain_of_2() {
    both!(2, long_waits);
}

#[test]
fn long_waits_wake_the_ports_chain_of_16() {
    both!(16, long_waits);
}
