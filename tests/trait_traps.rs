//! Traps generic code written against the `CellMonitor` trait used to fall into, checked
//! against the virtual chips, blocking and async from one body each:
//!
//! * LTC681x `read_faults` on a fresh, healthy chain (MUXFAIL reads 1 after power-up until
//!   DIAGN runs) and with an injected MUX decoder fault;
//! * bq769x2 balancing on a SEALED / UNSEALED / FULLACCESS chip;
//! * a chain whose length is set at run time below the compile-time capacity, by hand and by
//!   detection.
#![cfg(feature = "sim")]

use bms_afe::io::{Async, Blocking};
use bms_afe::ltc681x::{Ltc681x, Ltc6811, Ltc6813};
use bms_afe::monitor::{AsyncCellMonitor, CellMonitor, ConversionMode, Faults, Reading};
use bms_afe::sim::ltc681x::Ltc681xChain;
use bms_afe::sim::{Sim, VirtualChip};

mod common;
use common::{block_on, id};

/// Runs `$scenario!(sim, driver, wrap, Trait)` once blocking and once async, on a fresh
/// virtual chain `$chain` and a driver `$drv` built with `::new`.
macro_rules! both {
    ($chain:ty, $drv:ty, $scenario:ident) => {{
        {
            let sim = Sim::new(<$chain>::new());
            let mut d = <$drv>::new(Blocking::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, id, CellMonitor);
        }
        {
            let sim = Sim::new(<$chain>::new());
            let mut d = <$drv>::new(Async::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, block_on, AsyncCellMonitor);
        }
    }};
}

// ---- LTC681x read_faults on a fresh chain ------------------------------------------------

/// Every device's faults are valid and clear.
fn all_healthy(f: &[Reading<Faults>]) {
    for (d, r) in f.iter().enumerate() {
        let Reading::Valid(x) = r else {
            panic!("device {d}: {r:?}")
        };
        assert!(!x.any(), "device {d} reads faulty: {x:?}");
        assert_eq!(x.raw & 0b11, 0, "device {d} raw bits: {x:?}");
    }
}

macro_rules! fresh_chain_reads_healthy {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        $sim.with(|c| c.set_all_cells(3_600_000));
        // Power-up: MUXFAIL = 1 in every STATB until DIAGN (LTC6812-DS "MUX Decoder Check").
        $w($t::wake(&mut $d)).unwrap();
        let mut f = [Reading::<Faults>::NotConverted; 3];
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        all_healthy(&f);
        // No OV threshold configured (VOV = 0): the comparison is off and says so.
        assert!(
            f.iter()
                .all(|x| x.valid().is_some_and(|x| x.raw & 0b100 != 0))
        );
        // After a measurement, too.
        let mut cells = [Reading::NotConverted; 3 * 12];
        assert!(
            $w($t::measure_cells(
                &mut $d,
                ConversionMode::Normal,
                &mut cells
            ))
            .unwrap()
            .is_ok()
        );
        assert!(cells.iter().all(|c| c.is_valid()));
        f = [Reading::NotConverted; 3];
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        all_healthy(&f);

        // A real MUX decoder fault on device 1 is still reported, at that device only.
        $sim.with(|c| c.set_mux_fault(1, true));
        f = [Reading::NotConverted; 3];
        assert!($w($t::read_faults(&mut $d, &mut f)).unwrap().is_ok());
        let f1 = f[1].valid().unwrap();
        assert!(f1.internal && f1.any(), "{f1:?}");
        assert_eq!(f1.raw & 0b10, 0b10, "raw bit 1 = MUXFAIL");
        all_healthy(&f[..1]);
        all_healthy(&f[2..]);
        // Fixed: the next check clears it.
        $sim.with(|c| c.set_mux_fault(1, false));
        f = [Reading::NotConverted; 3];
        $w($t::read_faults(&mut $d, &mut f)).unwrap();
        all_healthy(&f);

        // A conversion started through the trait is not disturbed by read_faults.
        $sim.with(|c| c.set_cell_voltage(2, 11, 3_701_200));
        let wait = $w($t::start_cell_conversion(&mut $d, ConversionMode::Fast)).unwrap();
        assert!(wait.0 > 0);
        f = [Reading::NotConverted; 3];
        $w($t::read_faults(&mut $d, &mut f)).unwrap();
        all_healthy(&f);
        cells = [Reading::NotConverted; 36];
        assert!(
            $w($t::read_cell_voltages(&mut $d, &mut cells))
                .unwrap()
                .is_ok()
        );
        assert_eq!(cells[35].valid().map(|v| v.0 / 100), Some(37_012));
    }};
}

#[test]
fn ltc681x_fresh_chain_reads_healthy_and_a_mux_fault_is_reported() {
    both!(
        Ltc681xChain<Ltc6811, 3>,
        Ltc681x<Ltc6811, 3, _>,
        fresh_chain_reads_healthy
    );
}
