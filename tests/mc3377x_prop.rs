//! MC3377x properties: frame decoders never panic, every single-bit flip of a response is
//! caught, the cell map round-trips, and the driver hands out nothing from arbitrary bytes.

use bms_afe::io::Blocking;
use bms_afe::mc3377x::frame::{Command, check_counter, parse_b, parse_c, request_c};
use bms_afe::mc3377x::{CellMap, Mc3377x, Mc33771c, Mc33772c, Tpl, TplLink};
use bms_afe::monitor::Reading;
use embedded_hal_mock::eh1::delay::NoopDelay;
use proptest::prelude::*;

mod common;
use common::{nxp_frame, oracle_nxp_crc8};

proptest! {
    #[test]
    fn parse_never_panics_and_agrees_with_the_oracle(f in any::<[u8; 6]>(), b in any::<[u8; 5]>()) {
        let r = parse_c(&f);
        let idle = f.iter().all(|&x| x == 0xFF) || f.iter().all(|&x| x == 0);
        prop_assert_eq!(r.is_ok(), !idle && oracle_nxp_crc8(&f[..5]) == f[5]);
        if let Ok(r) = r {
            prop_assert_eq!(r.data, u16::from_be_bytes([f[0], f[1]]));
            prop_assert_eq!(r.counter, f[4] >> 4);
        }
        let rb = parse_b(&b);
        let idle = b.iter().all(|&x| x == 0xFF) || b.iter().all(|&x| x == 0);
        prop_assert_eq!(rb.is_ok(), !idle && oracle_nxp_crc8(&b[..4]) == b[4]);
    }

    #[test]
    fn any_single_bit_flip_is_detected(data in any::<u16>(), reg in 0u8..0x80, cid in 0u8..64, cnt in 0u8..16, bit in 0usize..48) {
        let f = nxp_frame(data, reg, cid, cnt << 4 | 1);
        prop_assert!(parse_c(&f).is_ok());
        let mut g = f;
        g[bit / 8] ^= 0x80 >> (bit % 8);
        prop_assert!(parse_c(&g).is_err());
    }

    #[test]
    fn requests_match_the_oracle(data in any::<u16>(), reg in 0u8..0x80, cid in 0u8..64, cmd in 0u8..4) {
        let c = [Command::Nop, Command::Read, Command::Write, Command::GlobalWrite][usize::from(cmd)];
        prop_assert_eq!(request_c(data, reg, cid, c), nxp_frame(data, reg, cid, cmd));
    }

    #[test]
    fn counter_accepts_only_the_successor(prev in 0u8..16, got in 0u8..16) {
        let mut last = Some(prev);
        prop_assert_eq!(check_counter(&mut last, got).is_ok(), got == (prev + 1) % 16);
        prop_assert_eq!(last, Some(got));
    }

    #[test]
    fn cell_map_round_trips(cells in 7u8..=14, mask in any::<u32>(), small in 3u8..=6) {
        let m = CellMap::new::<Mc33771c>(cells).unwrap();
        let valid = mask & ((1u32 << cells) - 1);
        let inputs = m.cells_to_inputs(valid).unwrap();
        prop_assert_eq!(inputs & !m.mask(), 0);
        prop_assert_eq!(m.inputs_to_cells(inputs), valid);
        prop_assert_eq!(m.cells_to_inputs(mask).is_ok(), mask >> cells == 0);
        let s = CellMap::new::<Mc33772c>(small).unwrap();
        prop_assert_eq!(s.mask().count_ones(), u32::from(small));
    }

    #[test]
    fn driver_hands_out_nothing_from_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut d = Mc3377x::<Mc33771c, Tpl, 2, _>::new_tpl(
            Blocking::new(Junk(bytes), NoopDelay::new()), 14).unwrap();
        let mut out = [Reading::NotConverted; 28];
        let r = d.read_cell_voltages(&mut out).unwrap();
        // A device's values are usable only if all 14 of its frames pass the oracle CRC.
        let frames_ok = bytes_ok(&d.release().release().0 .0);
        for (i, c) in out.iter().enumerate() {
            if !frames_ok {
                prop_assert!(matches!(c, Reading::Failed(f) if usize::from(f.device) == i / 14));
            }
        }
        if !frames_ok {
            prop_assert_eq!(r.failed.len(), 2);
        }
    }
}

fn bytes_ok(b: &[u8]) -> bool {
    b.len() >= 84 && b[..84].chunks(6).all(|f| oracle_nxp_crc8(&f[..5]) == f[5])
}

/// A link that echoes the frame correctly, then answers with the same arbitrary bytes.
struct Junk(Vec<u8>);

impl TplLink for Junk {
    type Error = ();
    fn transfer(&mut self, frame: &[u8], rx: &mut [u8], _t: u32) -> Result<usize, ()> {
        let e = frame.len().min(rx.len());
        rx[..e].copy_from_slice(&frame[..e]);
        let n = self.0.len().min(rx.len() - e);
        rx[e..e + n].copy_from_slice(&self.0[..n]);
        Ok(e + n)
    }
    fn set_csb_tx(&mut self, _high: bool) -> Result<(), ()> {
        Ok(())
    }
}
