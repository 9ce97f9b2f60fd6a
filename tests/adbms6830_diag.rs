//! Open-wire threshold and the RDSTATC ERR latent-fault read of the ADBMS6830 driver.
//!
//! Open-wire facts (ADBMS6830-SpA "Cell Open Wire Detection"): with the
//! open-wire current on, an intact channel reads ≈10/12 (C path) or ≈9/10 (S path) of the
//! cell; an open one discharges fully. The numbers below are written from those ratios.
#![cfg(feature = "sim")]

use bms_afe::CellMonitor;
use bms_afe::adbms6830::register::{CfgA, CfgB, StatusC};
use bms_afe::adbms6830::{
    Adbms6830, Adbms6830b, AdcPath, OPEN_WIRE_DEFAULT_PERMILLE, open_wire_mask,
};
use bms_afe::error::{ConfigError, DeviceFault, FaultReason};
use bms_afe::io::Blocking;
use bms_afe::monitor::Reading;
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::sim::{InjectedFault, Sim, VirtualChip};
use bms_afe::units::MicroVolts;

fn v(uv: i32) -> Reading<MicroVolts> {
    Reading::Valid(MicroVolts(uv))
}

#[test]
fn open_wire_threshold_is_a_parameter() {
    assert_eq!(OPEN_WIRE_DEFAULT_PERMILLE, 500);
    // Two cells at 3.6 V. Cell 1 (odd, pulled in `odd`): intact C-path reading 10/12 ×
    // 3.6 V = 3.0 V. Cell 2 (even): a partly discharged 1.7 V.
    let base = [v(3_600_000), v(3_600_000)];
    let odd = [v(3_000_000), v(3_600_000)];
    let even = [v(3_600_000), v(1_700_000)];
    // 500 ‰: 1.7 V < 1.8 V → cell 2 open; 3.0 V intact.
    assert_eq!(
        open_wire_mask(&base, &odd, &even, 500),
        Reading::Valid(0b10)
    );
    // 400 ‰: 1.7 V ≥ 1.44 V → nothing open.
    assert_eq!(open_wire_mask(&base, &odd, &even, 400), Reading::Valid(0));
    // 750 ‰ (the maximum): 3.0 V ≥ 2.7 V still intact.
    assert_eq!(
        open_wire_mask(&base, &odd, &even, 750),
        Reading::Valid(0b10)
    );
    // 0 V or below is open whatever the threshold.
    let even0 = [v(3_600_000), v(0)];
    assert_eq!(open_wire_mask(&base, &odd, &even0, 1), Reading::Valid(0b10));
    // A failed reading fails the device.
    let f = DeviceFault {
        device: 0,
        reason: FaultReason::NoResponse,
    };
    assert_eq!(
        open_wire_mask(&[Reading::Failed(f), v(1)], &odd, &even, 500),
        Reading::Failed(f)
    );

    let sim = Sim::new(Adbms6830Chain::<Adbms6830b, 2>::new());
    let mut d = Adbms6830::<Adbms6830b, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
    for bad in [0u16, 751, 1000] {
        assert!(matches!(
            d.set_open_wire_threshold(bad),
            Err(ConfigError::OutOfRange { .. })
        ));
    }
    assert_eq!(d.set_open_wire_threshold(750), Ok(750));
    // The chain still finds an open wire (device 1, wire 3: cells 3 and 4) on both paths
    // at the highest threshold, and no false ones (intact 10/12 and 9/10 > 750 ‰).
    CellMonitor::wake(&mut d).unwrap();
    d.configure(CfgA::default(), CfgB::default()).unwrap();
    sim.with(|m| m.inject(InjectedFault::OpenWire { device: 1, wire: 3 }));
    for path in [AdcPath::C, AdcPath::S] {
        let mut ow = [Reading::NotConverted; 2];
        assert!(d.cell_open_wire(path, &mut ow).unwrap().is_ok());
        assert_eq!(
            ow,
            [Reading::Valid(0), Reading::Valid(0b11 << 2)],
            "{path:?}"
        );
    }
}

#[test]
fn injected_error_read_reports_spiflt() {
    let sim = Sim::new(Adbms6830Chain::<Adbms6830b, 2>::new());
    let mut d = Adbms6830::<Adbms6830b, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
    CellMonitor::wake(&mut d).unwrap();
    let mut st = [Reading::NotConverted; 2];
    assert!(d.read_status_c(&mut st).unwrap().is_ok());
    assert!(
        st.iter()
            .all(|s| s.valid().unwrap().system_flags & StatusC::SPIFLT == 0)
    );
    assert!(d.read_status_c_injected(&mut st).unwrap().is_ok());
    // STCR5 bit 4 = SPIFLT (ADBMS6830B-DS status register group C).
    assert!(
        st.iter()
            .all(|s| s.valid().unwrap().system_flags & 0x10 != 0)
    );
}
