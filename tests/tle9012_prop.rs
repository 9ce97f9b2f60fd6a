//! TLE9012 property tests: the reply checks detect every 1-, 2- and 3-bit error in a read
//! reply and every single-bit error and 3-bit burst in a write reply; the parsers and the
//! driver never panic on arbitrary reply streams, and never hand out a value from a corrupted
//! device.
#![cfg(feature = "sim")]

use bms_afe::io::{Blocking, Serial};
use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
use bms_afe::sim::tle9012::Tle9012Chain;
use bms_afe::sim::{Clock, InjectedFault, Sim, SimError, UartModel, VirtualChip};
use bms_afe::tle9012::Tle9012;
use bms_afe::tle9012::frame::{parse_read_reply, parse_write_reply};
use bms_afe::tle9012::register::Register;
use bms_afe::units::MicroVolts;
use proptest::prelude::*;

mod common;
#[path = "common/tle9012.rs"]
mod tle;
use tle::{oracle_crc3, oracle_crc8_j1850, reply};

/// Echoes every byte, then answers with the next bytes of an arbitrary stream.
struct Noise {
    stream: Vec<u8>,
    pos: usize,
    out: Vec<u8>,
}

impl Clock for Noise {
    fn advance_ns(&mut self, _ns: u64) {}
}

impl UartModel for Noise {
    fn receive(&mut self, bytes: &[u8]) -> Result<(), SimError> {
        self.out.extend_from_slice(bytes);
        let take = (self.stream.len() - self.pos).min(1 + 5 * 3);
        self.out
            .extend_from_slice(&self.stream[self.pos..self.pos + take]);
        self.pos += take;
        Ok(())
    }
    fn pending(&self) -> usize {
        self.out.len()
    }
    fn transmit(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.out.len());
        buf[..n].copy_from_slice(&self.out[..n]);
        self.out.drain(..n);
        n
    }
}

proptest! {
    #[test]
    fn read_reply_errors_up_to_two_bits_and_bursts_detected(node in 0u8..64, reg in any::<u8>(), v in any::<u16>()) {
        let good = reply(node, reg, v);
        prop_assert!(parse_read_reply(&good).is_ok());
        let bits = u64::from_be_bytes([0, 0, 0, good[0], good[1], good[2], good[3], good[4]]);
        let frame = |x: u64| {
            let b = x.to_be_bytes();
            [b[3], b[4], b[5], b[6], b[7]]
        };
        for i in 0..40 {
            for j in i..40 {
                let e = (1u64 << i) | (1u64 << j);
                prop_assert!(parse_read_reply(&frame(bits ^ e)).is_err(), "flips {} {} undetected", i, j);
            }
            // Every burst of up to 8 bits starting at bit i (CRC-8 detects all of them).
            for pattern in 1u64..256 {
                if pattern & 1 == 0 || i + 8 > 40 {
                    continue;
                }
                prop_assert!(parse_read_reply(&frame(bits ^ (pattern << i))).is_err(), "burst {:#x} at {} undetected", pattern, i);
            }
        }
    }

    #[test]
    fn write_reply_single_flips_and_short_bursts_detected(status in 0u8..32) {
        let good = status << 3 | oracle_crc3(status);
        prop_assert!(parse_write_reply(good).is_ok());
        for i in 0..8 {
            for pattern in [1u8, 3, 5, 7] {
                let p = u16::from(pattern) << i;
                if p > 0xFF {
                    continue;
                }
                prop_assert!(parse_write_reply(good ^ p as u8).is_err(), "{:#04x} ^ {:#04x}", good, p);
            }
        }
    }

    #[test]
    fn parsers_never_panic(frame in any::<[u8; 5]>(), b in any::<u8>()) {
        let ok = oracle_crc8_j1850(&frame[..4]) == frame[4] && frame[0] < 0x40;
        prop_assert_eq!(parse_read_reply(&frame).is_ok(), ok);
        prop_assert_eq!(parse_write_reply(b).is_ok(), oracle_crc3(b >> 3) == b & 7);
    }

    #[test]
    fn driver_never_panics_on_arbitrary_streams(stream in proptest::collection::vec(any::<u8>(), 0..400)) {
        let sim = Sim::new(Noise { stream, pos: 0, out: Vec::new() });
        let mut d = Tle9012::<3, _>::new(Blocking::new(Serial::new(sim.uart()), sim.delay()));
        let mut out = [Reading::NotConverted; 36];
        // Whatever comes back, the calls return (Ok or Err) and nothing converted is claimed
        // for a device that never confirmed a conversion start and completion.
        let _ = CellMonitor::wake(&mut d);
        if let Ok(r) = d.measure_cells(ConversionMode::Normal, &mut out) {
            for (i, x) in out.iter().enumerate() {
                if let Reading::Failed(f) = x {
                    prop_assert_eq!(f.device as usize, i / 12);
                    prop_assert!(r.failed.contains(i / 12));
                }
            }
        }
        let mut regs = [Reading::NotConverted; 3];
        let _ = d.read_register_all(Register::GEN_DIAG, &mut regs);
        let _ = d.keep_alive();
        let _ = d.check_chain();
    }

    #[test]
    fn corrupted_device_never_valid(k in 0u8..3, seed in any::<u32>(), frames in 1u32..40) {
        let sim = Sim::new(Tle9012Chain::<3>::new());
        let mut d = Tle9012::<3, _>::new(Blocking::new(sim.serial(), sim.delay()));
        CellMonitor::wake(&mut d).unwrap();
        sim.with(|m| {
            for dev in 0..3 {
                for c in 0..12 {
                    m.set_cell_voltage(dev, c, 3_300_000 + (dev * 12 + c) as i32 * 1000);
                }
            }
            m.inject(InjectedFault::CorruptResponses { device: k, seed, frames });
        });
        let mut out = [Reading::NotConverted; 36];
        let r = d.measure_cells(ConversionMode::Normal, &mut out).unwrap();
        // Retries may recover; anything Valid is the truth, and only device k may fail.
        prop_assert!(r.failed.iter().all(|x| x == usize::from(k)));
        for (i, x) in out.iter().enumerate() {
            if let Reading::Valid(MicroVolts(v)) = x {
                let truth = 3_300_000 + i as i32 * 1000;
                prop_assert!((v - truth).abs() <= 77, "cell {} = {} vs {}", i, v, truth);
            }
        }
    }
}
