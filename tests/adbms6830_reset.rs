//! Command-counter recovery of the ADBMS6830 driver.
//!
//! * A device whose counter is back at 0 while the driver expected another value has reset
//!   (the counter returns to 0 only on power-up, sleep, RSTCC or SRST and wraps 63 → 1,
//!   ADBMS6830B-DS "Command Counter") and lost its configuration: its data stays
//!   failed until RSTCC and a verified configuration rewrite (or `wake`, which does both).
//! * A poll sequence cut by a bus error advances the expectation by the polls that went out,
//!   and a command whose frame failed on the bus may or may not have been counted.
#![cfg(feature = "sim")]

use bms_afe::adbms6830::command::{Adcv, PollTarget};
use bms_afe::adbms6830::register::{CfgA, CfgB};
use bms_afe::adbms6830::{Adbms6830, Adbms6830b};
use bms_afe::error::{DeviceFault, FaultReason};
use bms_afe::io::{Async, Blocking};
use bms_afe::monitor::{ConversionMode, Reading};
use bms_afe::sim::Sim;
use bms_afe::sim::adbms6830::Adbms6830Chain;
use bms_afe::units::{MicroVolts, Microseconds};
use bms_afe::{AsyncCellMonitor, CellMonitor, Error};
use embedded_hal::spi::{ErrorKind, ErrorType, Operation, SpiDevice};
use embedded_hal_mock::eh1::delay::NoopDelay;

mod common;
use common::{block_on, id, oracle_pec10};

macro_rules! both {
    ($scenario:ident) => {{
        {
            let sim = Sim::new(Adbms6830Chain::<Adbms6830b, 2>::new());
            let mut d = Adbms6830::<Adbms6830b, 2, _>::new(Blocking::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, id, CellMonitor);
        }
        {
            let sim = Sim::new(Adbms6830Chain::<Adbms6830b, 2>::new());
            let mut d = Adbms6830::<Adbms6830b, 2, _>::new(Async::new(sim.spi(), sim.delay()));
            $scenario!(sim, d, block_on, AsyncCellMonitor);
        }
    }};
}

/// Device 1 alone resets after the chain was configured; returns the counter the next
/// measurement expects (one more: its ADCV). The reset device counts that ADCV from 0 and
/// reads 1.
macro_rules! configure_then_reset_device_1 {
    ($sim:ident, $d:ident, $w:ident, $t:ident, $b:ident, $out:ident) => {{
        $w($t::wake(&mut $d)).unwrap();
        $w($d.configure(CfgA::default(), $b)).unwrap();
        assert!(
            $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut $out))
                .unwrap()
                .is_ok()
        );
        let e = $d.expected_counters()[1];
        assert_ne!(e, 0);
        $sim.with(|m| m.reset_device(1));
        e + 1
    }};
}

/// The mismatch that reveals the reset, repeated at every read until recovery.
fn reset_fault(expected_then: u8) -> DeviceFault {
    DeviceFault {
        device: 1,
        reason: FaultReason::CommandCounter {
            expected: expected_then,
            received: 1,
        },
    }
}

macro_rules! reset_needs_rstcc_and_config {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        let mut b = CfgB::default();
        b.set_overvoltage(MicroVolts(4_200_000)).unwrap();
        let mut out = vec![Reading::NotConverted; 32];
        let e = configure_then_reset_device_1!($sim, $d, $w, $t, b, out);
        // The reset is seen at the next read, and device 1 keeps failing: its OV threshold is
        // gone (the chip is back at the default +6.4 V), so its cells must not look normal.
        for _ in 0..3 {
            let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
            assert_eq!(r.first_fault, Some(reset_fault(e)));
            assert_eq!(r.failed.len(), 1);
            assert!(out[..16].iter().all(Reading::is_valid));
            assert!(
                out[16..]
                    .iter()
                    .all(|c| *c == Reading::Failed(reset_fault(e)))
            );
        }
        // RSTCC alone is not enough (configuration still lost) …
        $w($d.reset_command_counters()).unwrap();
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert_eq!(r.first_fault, Some(reset_fault(e)));
        // … a verified rewrite of both groups ends it.
        $w($d.write_cfga(&[CfgA::default(); 2])).unwrap();
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert_eq!(r.first_fault, Some(reset_fault(e)));
        $w($d.write_cfgb(&[b; 2])).unwrap();
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert!(r.is_ok(), "{r:?}");
        assert_eq!($sim.with(|m| m.config(1)).map(|c| c.1), Some(b.to_bytes()));
    }};
}

#[test]
fn a_reset_device_stays_failed_until_rstcc_and_config() {
    both!(reset_needs_rstcc_and_config);
}

macro_rules! wake_recovers_a_reset_device {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        let mut b = CfgB::default();
        b.set_undervoltage(MicroVolts(2_800_000)).unwrap();
        let mut out = vec![Reading::NotConverted; 32];
        let e = configure_then_reset_device_1!($sim, $d, $w, $t, b, out);
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert_eq!(r.first_fault, Some(reset_fault(e)));
        // `wake` = RSTCC + rewrite of the held configuration.
        $w($t::wake(&mut $d)).unwrap();
        assert_eq!($sim.with(|m| m.config(1)).map(|c| c.1), Some(b.to_bytes()));
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert!(r.is_ok(), "{r:?}");
    }};
}

#[test]
fn wake_rewrites_the_configuration_of_a_reset_device() {
    both!(wake_recovers_a_reset_device);
}

macro_rules! default_config_needs_only_rstcc {
    ($sim:ident, $d:ident, $w:ident, $t:ident) => {{
        let b = CfgB::default();
        let mut out = vec![Reading::NotConverted; 32];
        let e = configure_then_reset_device_1!($sim, $d, $w, $t, b, out);
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert_eq!(r.first_fault, Some(reset_fault(e)));
        $w($d.reset_command_counters()).unwrap();
        let r = $w($t::measure_cells(&mut $d, ConversionMode::Fast, &mut out)).unwrap();
        assert!(r.is_ok(), "{r:?}");
    }};
}

#[test]
fn with_the_default_configuration_rstcc_is_enough() {
    both!(default_config_needs_only_rstcc);
}

// ---- bus errors and the counter ------------------------------------------------------------

/// One device: the `fail_at`-th transaction (0-based) fails; polls read busy; RDSID answers
/// with counter `cc`.
struct Scripted {
    calls: usize,
    fail_at: usize,
    cc: u8,
}

impl ErrorType for Scripted {
    type Error = ErrorKind;
}

impl SpiDevice for Scripted {
    fn transaction(&mut self, ops: &mut [Operation<'_, u8>]) -> Result<(), ErrorKind> {
        let k = self.calls;
        self.calls += 1;
        if k == self.fail_at {
            return Err(ErrorKind::Other);
        }
        let mut code = None;
        for op in ops {
            match op {
                Operation::Write(w) if w.len() == 4 && code.is_none() => {
                    code = Some(u16::from(w[0]) << 8 | u16::from(w[1]))
                }
                Operation::TransferInPlace(b) => match code {
                    Some(0x71C) => b.fill(0x00), // PLCADC: busy
                    Some(0x02C) => {
                        let data = [1, 2, 3, 4, 5, 6];
                        b[..6].copy_from_slice(&data);
                        b[6..8].copy_from_slice(&oracle_pec10(&data, self.cc));
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        Ok(())
    }
}

fn scripted(fail_at: usize, cc: u8) -> Adbms6830<Adbms6830b, 1, Blocking<Scripted, NoopDelay>> {
    let mut d = Adbms6830::<Adbms6830b, 1, _>::new(Blocking::new(
        Scripted {
            calls: 0,
            fail_at,
            cc,
        },
        NoopDelay::new(),
    ));
    d.set_retries(0);
    d
}

#[test]
fn a_poll_cut_by_a_bus_error_counts_the_polls_sent() {
    // ADCV (CC 1), then PLCADC busy twice (CC 2, 3), the third poll fails on the bus.
    for (cc, ok) in [(3, true), (4, true), (2, false), (5, false)] {
        let mut d = scripted(3, cc);
        d.start_cell_adc(Adcv::SINGLE).unwrap();
        assert!(matches!(
            d.poll(PollTarget::CAdc, Microseconds(10_000)),
            Err(Error::Bus(_))
        ));
        assert_eq!(d.expected_counters(), [3]);
        let mut ids = [Reading::NotConverted; 1];
        let r = d.read_serial_ids(&mut ids).unwrap();
        // 3: the failed poll never arrived; 4: it did. Anything else is a fault.
        assert_eq!(r.is_ok(), ok, "device counter {cc}: {r:?}");
    }
}

#[test]
fn a_command_that_failed_on_the_bus_may_or_may_not_have_counted() {
    for (cc, ok) in [(0, true), (1, true), (2, false)] {
        let mut d = scripted(0, cc);
        assert!(matches!(d.start_cell_adc(Adcv::SINGLE), Err(Error::Bus(_))));
        let mut ids = [Reading::NotConverted; 1];
        let r = d.read_serial_ids(&mut ids).unwrap();
        assert_eq!(r.is_ok(), ok, "device counter {cc}: {r:?}");
    }
}
