//! Property tests of the bq769x0 sans-IO core: decoders never panic, every single-bit flip of
//! a CRC read is caught, encodings round-trip, rules hold for every cell map.

use bms_afe::bq769x0::register::{OcdDelay, OvDelay, ScdDelay, UvDelay};
use bms_afe::bq769x0::{
    AdcCalibration, Bq76920, Bq76930, Bq76940, CellMap, Ntc, Protection, Variant, balancing_inputs,
    convert, frame,
};
use bms_afe::units::{MicroAmps, MicroVolts};
use proptest::prelude::*;

mod common;
use common::oracle_crc8;

fn crc_frame(addr: u8, data: &[u8]) -> Vec<u8> {
    let mut v = vec![];
    for (i, &d) in data.iter().enumerate() {
        v.push(d);
        v.push(if i == 0 {
            oracle_crc8(&[(addr << 1) | 1, d])
        } else {
            oracle_crc8(&[d])
        });
    }
    v
}

proptest! {
    #[test]
    fn decode_never_panics(crc: bool, addr: u8, raw in prop::collection::vec(any::<u8>(), 0..70), n in 0usize..40) {
        let mut out = vec![0u8; n];
        let r = frame::decode_read(crc, addr & 0x7F, &raw, &mut out);
        if raw.len() != frame::raw_read_len(crc, n) {
            prop_assert!(r.is_err());
        }
    }

    #[test]
    fn every_single_bit_flip_is_detected(addr in prop::sample::select(vec![0x08u8, 0x18]),
                                         data in prop::collection::vec(any::<u8>(), 1..30),
                                         bit in any::<prop::sample::Index>()) {
        let good = crc_frame(addr, &data);
        let mut out = vec![0u8; data.len()];
        prop_assert!(frame::decode_read(true, addr, &good, &mut out).is_ok());
        prop_assert_eq!(&out, &data);
        let b = bit.index(good.len() * 8);
        let mut bad = good.clone();
        bad[b / 8] ^= 1 << (b % 8);
        prop_assert!(frame::decode_read(true, addr, &bad, &mut out).is_err());
    }

    #[test]
    fn encode_write_matches_oracle(addr in 0u8..0x80, reg: u8, data in prop::collection::vec(any::<u8>(), 0..=8)) {
        let mut out = [0u8; frame::MAX_WRITE];
        let n = frame::encode_write(true, addr, reg, &data, &mut out).unwrap();
        let mut want = vec![reg];
        for (i, &d) in data.iter().enumerate() {
            want.push(d);
            want.push(if i == 0 { oracle_crc8(&[addr << 1, reg, d]) } else { oracle_crc8(&[d]) });
        }
        prop_assert_eq!(&out[..n], &want[..]);
    }

    #[test]
    fn trips_are_nearest_and_round_trip(gain in 365u16..=396, offset: i8, target in 2_000_000i32..4_700_000) {
        let cal = AdcCalibration::new(gain, offset).unwrap();
        let step = 16 * i32::from(gain);
        for (res, back) in [
            (cal.ov_trip(MicroVolts(target)), AdcCalibration::ov_trip_voltage as fn(AdcCalibration, u8) -> MicroVolts),
            (cal.uv_trip(MicroVolts(target)), AdcCalibration::uv_trip_voltage),
        ] {
            if let Ok((reg, achieved)) = res {
                prop_assert_eq!(back(cal, reg), achieved);
                prop_assert!((achieved.0 - target).abs() <= step / 2 + 1);
            }
        }
    }

    #[test]
    fn cell_code_round_trip(gain in 365u16..=396, offset: i8, code in 1u16..0x3FFF) {
        let cal = AdcCalibration::new(gain, offset).unwrap();
        prop_assert_eq!(cal.cell_code(cal.cell(code)), code);
        let (a, b, c) = cal.to_registers();
        prop_assert_eq!(AdcCalibration::from_registers(a, b, c), cal);
    }

    #[test]
    fn protection_build_never_panics(shunt: u32, scd: i64, ocd: i64, ov: i32, uv: i32, gain in 365u16..=396, off: i8) {
        let cal = AdcCalibration::new(gain, off).unwrap();
        let mut p = Protection::new(shunt);
        p.short_circuit(MicroAmps(scd), ScdDelay::Us200)
            .overcurrent(MicroAmps(ocd), OcdDelay::Ms20)
            .overvoltage(MicroVolts(ov), OvDelay::S4)
            .undervoltage(MicroVolts(uv), UvDelay::S8);
        if let Ok(r) = p.build(&cal) {
            // The comparators never trip later than asked.
            prop_assert!(r.achieved.short_circuit.0 <= scd.max(0) + 1);
            prop_assert!(r.achieved.overcurrent.0 <= ocd.max(0) + 1);
            prop_assert!(r.achieved.undervoltage.0 < r.achieved.overvoltage.0);
        }
    }

    #[test]
    fn ntc_is_monotonic(r in 100u32..2_000_000) {
        let t1 = Ntc::SEMITEC_103AT.temperature(r).unwrap();
        let t2 = Ntc::SEMITEC_103AT.temperature(r + r / 50 + 1).unwrap();
        prop_assert!(t2.0 < t1.0);
    }

    #[test]
    fn ts_and_cc_conversions_never_panic(code: u16, shunt: u32) {
        let _ = convert::die_temperature(code).0;
        prop_assert!(convert::thermistor_ohms(code).is_some() || convert::ts_voltage(code).0 >= 3_300_000);
        prop_assert_eq!(convert::cc_current(code, shunt).is_none(), shunt == 0);
    }

    #[test]
    fn maps_and_balancing_rules(mask: u32, n in 3u8..=15) {
        fn check<V: Variant>(n: u8, mask: u32) -> Result<(), TestCaseError> {
            let Ok(map) = CellMap::for_cells::<V>(n) else { return Ok(()) };
            prop_assert_eq!(map.cells(), n);
            // The top input of each group is always a cell (DS §9.1.8).
            for g in 0..V::INPUTS / 5 {
                prop_assert!(map.inputs() & (0x10 << (5 * g)) != 0);
            }
            let m = mask & ((1u32 << n) - 1);
            let inputs = map.cells_to_inputs(m).unwrap();
            prop_assert_eq!(map.inputs_to_cells(inputs), m);
            if let Ok(cb) = balancing_inputs(&map, m) {
                for g in 0..3 {
                    let b = (cb >> (5 * g)) & 0x1F;
                    prop_assert_eq!(b & (b >> 1), 0);
                }
            }
            if n < 31 {
                prop_assert!(balancing_inputs(&map, 1 << n).is_err());
            }
            Ok(())
        }
        check::<Bq76920>(n, mask)?;
        check::<Bq76930>(n, mask)?;
        check::<Bq76940>(n, mask)?;
    }
}

/// An I2C bus that answers every read with the next bytes of a fuzz pattern and fails a
/// transaction when the pattern says so.
struct FuzzBus {
    bytes: Vec<u8>,
    pos: usize,
}

impl FuzzBus {
    fn next(&mut self) -> u8 {
        let b = self
            .bytes
            .get(self.pos % self.bytes.len().max(1))
            .copied()
            .unwrap_or(0);
        self.pos += 1;
        b
    }
}

impl embedded_hal::i2c::ErrorType for FuzzBus {
    type Error = embedded_hal::i2c::ErrorKind;
}

impl embedded_hal::i2c::I2c for FuzzBus {
    fn transaction(
        &mut self,
        _address: u8,
        ops: &mut [embedded_hal::i2c::Operation<'_>],
    ) -> Result<(), Self::Error> {
        if self.next() == 0xA5 {
            return Err(embedded_hal::i2c::ErrorKind::Other);
        }
        for op in ops {
            if let embedded_hal::i2c::Operation::Read(buf) = op {
                for b in buf.iter_mut() {
                    *b = self.next();
                }
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No bus reply makes the driver panic or hang; reports agree with their readings and
    /// valid arguments are never blamed for bad bus data.
    #[test]
    fn driver_never_panics_on_arbitrary_replies(bytes in prop::collection::vec(any::<u8>(), 1..200), crc: bool) {
        use bms_afe::bq769x0::Bq769x0;
        use bms_afe::io::Blocking;
        use bms_afe::monitor::{CellMonitor, ConversionMode, Reading};
        use embedded_hal_mock::eh1::delay::NoopDelay;
        let map = CellMap::for_cells::<Bq76940>(13).unwrap();
        let bus = FuzzBus { bytes, pos: 0 };
        let mut d = Bq769x0::<Bq76940, _>::new(Blocking::new(bus, NoopDelay::new()), map, 1_000)
            .unwrap()
            .with_bus_options(0x08, crc);
        // Valid arguments never give InvalidArgument, whatever the bus says.
        fn arg_ok<T>(r: &Result<T, bms_afe::Error<embedded_hal::i2c::ErrorKind>>) -> bool {
            !matches!(r, Err(e) if e.kind() == bms_afe::ErrorKind::InvalidArgument)
        }
        let r = d.probe();
        prop_assert!(arg_ok(&r));
        // A report agrees with its readings: failed slots iff a failed device.
        let mut cells = [Reading::NotConverted; 13];
        if let Ok(rep) = d.measure_cells(ConversionMode::Normal, &mut cells) {
            let failed = cells.iter().filter(|c| matches!(c, Reading::Failed(_))).count();
            prop_assert!(failed == 0 || failed == 13);
            prop_assert_eq!(rep.is_ok(), failed == 0);
        }
        let mut t = [Reading::NotConverted; 3];
        if let Ok(rep) = d.measure_temperatures(&mut t) {
            prop_assert_eq!(rep.is_ok(), !t.iter().any(|c| matches!(c, Reading::Failed(_))));
        }
        let mut s = [Reading::NotConverted; 1];
        let r = d.measure_stack_voltages(&mut s);
        prop_assert!(arg_ok(&r));
        let mut f = [Reading::NotConverted; 1];
        let r = d.read_faults(&mut f);
        prop_assert!(arg_ok(&r));
        if let Ok(rep) = r {
            prop_assert_eq!(rep.is_ok(), f[0].is_valid());
        }
        prop_assert!(arg_ok(&d.service_alerts()));
        prop_assert!(arg_ok(&d.read_current()));
        prop_assert!(arg_ok(&d.set_balancing(&[0b101])));
        prop_assert!(arg_ok(&d.set_fets(true, true)));
        let mut p = Protection::new(1_000);
        p.overvoltage(MicroVolts(4_200_000), OvDelay::S1);
        prop_assert!(arg_ok(&d.configure(&p)));
        prop_assert!(arg_ok(&d.enter_ship_mode()));
    }
}
