//! isoSPI idle timeout (ADBMS6830B data sheet Rev. 0 timing table: tIDLE 4.3/5.5/6.7 ms,
//! tREADY ≤ 10 µs):
//! after more than 4.3 ms without a frame a port goes IDLE and the next frame is lost there.
//! The driver wakes the ports again after every wait that can exceed tIDLE. Retries are off in
//! these tests, so a lost frame cannot be hidden by a re-issued read.
#![cfg(feature = "sim")]

use bms_afe::adbms6830::command::Adcv;
use bms_afe::adbms6830::register::{CfgA, CfgB};
use bms_afe::adbms6830::{Adbms6830, Adbms6830b, AdcPath, CellSource};
use bms_afe::error::{DeviceFault, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{ConversionMode, Reading};
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::sim::{Sim, VirtualChip};
use bms_afe::units::{MicroVolts, MilliCelsius};
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
    let rdsid = [0x00, 0x2C, 0x59, 0x90]; // RDSID 0x02C with its PEC15 (ADBMS6830B-DS Table 50)
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

/// Values no read produces, written into every output slot before the read they check, so
/// a read that wrote nothing fails.
const SENTINEL_UV: Reading<MicroVolts> = Reading::Valid(MicroVolts(-7_777_777));
const SENTINEL_MASK: Reading<u32> = Reading::Valid(0xDEAD_BEEF);
const SENTINEL_FAULT: DeviceFault = DeviceFault {
    device: 0xEE,
    reason: FaultReason::Framing,
};

fn cell_uv(cell: usize) -> i32 {
    3_100_000 + 10_000 * cell as i32
}

/// Every cell of every device holds its set voltage (quantised to the 150 µV step).
fn assert_cells(out: &[Reading<MicroVolts>], what: &str) {
    for (k, o) in out.iter().enumerate() {
        assert_eq!(
            *o,
            Reading::Valid(MicroVolts(quantised(cell_uv(k % 16)))),
            "{what}: slot {k}"
        );
    }
}

macro_rules! long_waits {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $n:literal) => {{
        let c = 16;
        $sim.with(|m| {
            for dev in 0..$n {
                for cell in 0..c {
                    m.set_cell_voltage(dev, cell, cell_uv(cell));
                }
                m.set_temperature(dev, 30_000 + 1_000 * dev as i32);
            }
        });
        $w($t::wake(&mut $d)).unwrap();
        $d.set_retries(0);
        let mut out = vec![SENTINEL_UV; $n * c];
        // Normal = RD single shot: 9.6 ms wait, more than tIDLE.
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Normal, &mut out)).unwrap();
        assert!(r.is_ok(), "{r:?}");
        assert_cells(&out, "measure_cells");
        // A CellMonitor call after the host idled for 50 ms wakes the ports first.
        $sim.delay().delay_ms(50);
        out.fill(SENTINEL_UV);
        let r = $w($t::read_cell_voltages(&mut $d, &mut out)).unwrap();
        assert!(r.is_ok(), "{r:?}");
        assert_cells(&out, "read_cell_voltages after 50 ms");
        // Faults: no OV/UV with the default thresholds, no thermal shutdown.
        let mut f = vec![Reading::Failed(SENTINEL_FAULT); $n];
        $sim.delay().delay_ms(50);
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        for (dev, x) in f.iter().enumerate() {
            let Reading::Valid(x) = x else {
                panic!("faults of device {dev}: {x:?}")
            };
            assert_eq!((x.overvoltage, x.undervoltage), (0, 0), "device {dev}");
            assert!(!x.thermal_shutdown, "device {dev}");
        }
        // Balancing after a pause reaches every device (checked on the virtual chips:
        // CFGB byte 4 = DCC8..DCC1, byte 5 = DCC16..DCC9).
        $sim.delay().delay_ms(50);
        let masks: Vec<u32> = (0..$n).map(|dev| 0b101 << (dev % 8)).collect();
        $w($t::set_balancing(&mut $d, &masks)).unwrap();
        for (dev, m) in masks.iter().enumerate() {
            let b = $sim.with(|s| s.config(dev)).unwrap().1;
            assert_eq!(
                u32::from(b[4]) | u32::from(b[5]) << 8,
                *m,
                "device {dev} DCC"
            );
        }
        $sim.delay().delay_ms(50);
        $w($t::set_balancing(&mut $d, &[0; $n])).unwrap();
        for dev in 0..$n {
            let b = $sim.with(|s| s.config(dev)).unwrap().1;
            assert_eq!((b[4], b[5]), (0, 0), "device {dev} DCC cleared");
        }
        // Diagnostics wait 9.6 ms (RD, S-ADC) or 21.6 ms (ADAX all) between steps.
        $w($d.configure(CfgA::default(), CfgB::default())).unwrap();
        let mut m = [SENTINEL_MASK; $n];
        assert!($w($d.redundancy_check(&mut m)).unwrap().is_ok());
        assert!(m.iter().all(|x| *x == Reading::Valid(0)), "{m:?}");
        for path in [AdcPath::C, AdcPath::S] {
            m = [SENTINEL_MASK; $n];
            assert!($w($d.cell_open_wire(path, &mut m)).unwrap().is_ok());
            assert!(m.iter().all(|x| *x == Reading::Valid(0)), "{path:?} {m:?}");
        }
        let mut aux = [Reading::Valid(0xBEEF_u16); $n];
        assert!(
            $w($d.aux_open_wire(MicroVolts(1_000_000), &mut aux))
                .unwrap()
                .is_ok()
        );
        assert!(aux.iter().all(|x| *x == Reading::Valid(0)), "{aux:?}");
        let mut t = vec![Reading::Valid(MilliCelsius(-999_999)); $n];
        $sim.delay().delay_ms(50);
        assert!(
            $w($t::measure_temperatures(&mut $d, &mut t))
                .unwrap()
                .is_ok()
        );
        for (dev, x) in t.iter().enumerate() {
            let Reading::Valid(MilliCelsius(got)) = *x else {
                panic!("temperature {dev}: {x:?}")
            };
            // ITMP resolution: 150 µV / 7.5 mV/K = 20 m°C.
            let want = 30_000 + 1_000 * dev as i32;
            assert!((got - want).abs() <= 20, "temperature {dev}: {got} vs {want}");
        }
        $sim.delay().delay_ms(50);
        let mut sv = vec![SENTINEL_UV; $n];
        assert!(
            $w($t::measure_stack_voltages(&mut $d, &mut sv))
                .unwrap()
                .is_ok()
        );
        let sum: i32 = (0..c).map(cell_uv).sum();
        for (dev, x) in sv.iter().enumerate() {
            let Reading::Valid(MicroVolts(got)) = *x else {
                panic!("stack {dev}: {x:?}")
            };
            // VPV is read × 25: one code step is 25 × 150 µV; half a step of rounding.
            assert!((got - sum).abs() <= 25 * 75, "stack {dev}: {got} vs {sum}");
        }
        // The low-level methods send exactly their frames: after a long wait the read is
        // lost at the idle port (device 0 reports no response, never stale data) …
        $w($d.start_cell_adc(Adcv::SINGLE)).unwrap();
        $sim.delay().delay_ms(5);
        out.fill(SENTINEL_UV);
        let r = $w($d.read_cells(CellSource::C, &mut out)).unwrap();
        assert_eq!(
            r.first_fault.map(|f| (f.device, f.reason)),
            Some((0, FaultReason::NoResponse))
        );
        // The first group's frame is lost at the idle ports, so group A fails on every
        // device; later frames reach the ports that are awake by then. Every slot is either
        // a failure (no response) or exactly the voltage set on the chip — never anything
        // else, and never the sentinel.
        for (dev, cells) in out.chunks(16).enumerate() {
            for (k, o) in cells.iter().enumerate() {
                let genuine = Reading::Valid(MicroVolts(quantised(cell_uv(k))));
                let lost = matches!(o, Reading::Failed(f) if f.reason == FaultReason::NoResponse);
                assert!(
                    lost || (k >= 3 && *o == genuine),
                    "device {dev} cell {k}: {o:?}"
                );
            }
        }
        // … and `wake_idle` first makes it work.
        $sim.delay().delay_ms(5);
        $w($d.wake_idle()).unwrap();
        out.fill(SENTINEL_UV);
        assert!($w($d.read_cells(CellSource::C, &mut out)).unwrap().is_ok());
        assert_cells(&out, "read after wake_idle");
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
