//! The bq769x2 driver never panics and never returns data from a failed check, whatever the
//! bus returns: an I2C stub answers every read with arbitrary (proptest) bytes.

use bms_afe::bq769x2::{Bq769x2, Bq76952};
use bms_afe::io::Blocking;
use bms_afe::monitor::{CellMonitor, Reading};
use embedded_hal::i2c::{ErrorType, I2c, Operation};
use embedded_hal_mock::eh1::delay::NoopDelay;
use proptest::prelude::*;

mod common;
use common::oracle_crc8;

struct Noise {
    bytes: Vec<u8>,
    pos: usize,
}

impl ErrorType for Noise {
    type Error = core::convert::Infallible;
}

impl I2c for Noise {
    fn transaction(&mut self, _a: u8, ops: &mut [Operation<'_>]) -> Result<(), Self::Error> {
        for op in ops {
            if let Operation::Read(b) = op {
                for x in b.iter_mut() {
                    *x = self
                        .bytes
                        .get(self.pos % self.bytes.len().max(1))
                        .copied()
                        .unwrap_or(0xFF);
                    self.pos += 1;
                }
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_responses_never_panic(crc: bool, bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let io = Blocking::new(Noise { bytes, pos: 0 }, NoopDelay::new());
        let mut d = if crc { Bq769x2::<Bq76952, _>::new_crc(io) } else { Bq769x2::<Bq76952, _>::new(io) };
        let _ = d.probe();
        let _ = d.read_fw_version();
        let _ = d.read_manufacturing_status();
        let mut buf = [0u8; 40];
        let _ = d.subcommand_read(0x0071, &mut buf);
        let _ = d.read_data_memory(0x9180, &mut buf[..32]);
        let _ = d.read_safety();
        let _ = d.read_permanent_fail();
        let mut cells = [Reading::NotConverted; 16];
        let _ = d.read_cell_voltages(&mut cells);
        let mut t = [Reading::NotConverted; 1];
        let _ = d.measure_temperatures(&mut t);
        let mut f = [Reading::NotConverted; 1];
        let _ = d.read_faults(&mut f);
        let _ = CellMonitor::read_current(&mut d);
        let _ = d.security();
    }

    /// In CRC mode a cell burst whose bytes are random is accepted only if every CRC matches
    /// (then the values are exactly the data bytes).
    #[test]
    fn random_cell_bursts_are_valid_only_with_good_crcs(bytes in proptest::collection::vec(any::<u8>(), 64)) {
        let io = Blocking::new(Noise { bytes: bytes.clone(), pos: 0 }, NoopDelay::new());
        let mut d = Bq769x2::<Bq76952, _>::new_crc(io);
        d.set_retries(0);
        let mut cells = [Reading::NotConverted; 16];
        let r = d.read_cell_voltages(&mut cells).unwrap();
        let good = bytes.chunks(2).enumerate().all(|(i, p)| {
            let want = if i == 0 { oracle_crc8(&[0x10, 0x14, 0x11, p[0]]) } else { oracle_crc8(&[p[0]]) };
            p[1] == want
        });
        prop_assert_eq!(r.is_ok(), good);
        if !good {
            prop_assert!(cells.iter().all(|c| matches!(c, Reading::Failed(_))));
        }
    }
}
