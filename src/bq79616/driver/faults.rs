//! Fault registers: decoding, read and clear.

use super::*;

/// Per-device fault registers as read by `read_fault_registers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FaultRegisters {
    /// FAULT_SUMMARY.
    pub summary: u8,
    /// FAULT_COMM1..3.
    pub comm: [u8; 3],
    /// FAULT_OTP.
    pub otp: u8,
    /// FAULT_SYS.
    pub sys: u8,
    /// FAULT_PROT1/2.
    pub prot: [u8; 2],
    /// Overvoltage flags, bit k = cell k + 1 (FAULT_OV1 cells 16…9, FAULT_OV2 cells 8…1).
    pub ov: u16,
    /// Undervoltage flags, bit k = cell k + 1.
    pub uv: u16,
    /// Overtemperature flags, bit k = GPIO k + 1.
    pub ot: u8,
    /// Undertemperature flags, bit k = GPIO k + 1.
    pub ut: u8,
}

/// The registers 0x052D (FAULT_SUMMARY) … 0x0541 (FAULT_UT) read in one frame.
const FAULT_BLOCK: usize = (reg::FAULT_UT - reg::FAULT_SUMMARY + 1) as usize;

impl FaultRegisters {
    /// Decodes the 21-byte block starting at FAULT_SUMMARY (0x052D).
    pub fn decode(block: &[u8]) -> Option<Self> {
        let at = |r: u16| block.get(usize::from(r - reg::FAULT_SUMMARY)).copied();
        Some(Self {
            summary: at(reg::FAULT_SUMMARY)?,
            comm: [
                at(reg::FAULT_COMM1)?,
                at(reg::FAULT_COMM1 + 1)?,
                at(reg::FAULT_COMM1 + 2)?,
            ],
            otp: at(reg::FAULT_OTP)?,
            sys: at(reg::FAULT_SYS)?,
            prot: [at(reg::FAULT_PROT1)?, at(reg::FAULT_PROT1 + 1)?],
            ov: u16::from_be_bytes([at(reg::FAULT_OV1)?, at(reg::FAULT_OV1 + 1)?]),
            uv: u16::from_be_bytes([at(reg::FAULT_UV1)?, at(reg::FAULT_UV1 + 1)?]),
            ot: at(reg::FAULT_OT)?,
            ut: at(reg::FAULT_UT)?,
        })
    }

    /// FAULT_SUMMARY as flags.
    pub fn summary_flags(&self) -> FaultSummary {
        FaultSummary::from_bits_retain(self.summary)
    }

    /// FAULT_COMM1 (UART) and FAULT_COMM2 (daisy chain COMH/COML) as flags: where on the
    /// path this device saw communication faults.
    pub fn comm_flags(&self) -> (FaultComm1, FaultComm2) {
        (
            FaultComm1::from_bits_retain(self.comm[0]),
            FaultComm2::from_bits_retain(self.comm[1]),
        )
    }

    /// The common [`Faults`] view (`raw` = FAULT_SUMMARY).
    pub fn to_faults(&self, cells: u8) -> Faults {
        let mask = if cells >= 16 {
            u32::from(u16::MAX)
        } else {
            (1u32 << cells) - 1
        };
        let s = self.summary_flags();
        Faults {
            overvoltage: u32::from(self.ov) & mask,
            undervoltage: u32::from(self.uv) & mask,
            over_temperature: self.ot != 0,
            under_temperature: self.ut != 0,
            thermal_shutdown: false,
            internal: s.intersects(
                FaultSummary::PWR
                    | FaultSummary::SYS
                    | FaultSummary::OTP
                    | FaultSummary::COMP_ADC
                    | FaultSummary::PROT,
            ),
            overcurrent: false,
            short_circuit: false,
            raw: u32::from(self.summary),
        }
    }
}

impl<V: Variant, const N: usize, IO: SerialIo> Core<V, N, IO> {
    /// Clears every latched fault (FAULT_RST1/2 ← 0xFF 0xFF on the monitors; the bridge's
    /// FAULT_RST ← 0x22, FAULT_COMM and FAULT_SYS, as TI's sample does).
    pub(crate) async fn clear_faults(&mut self) -> Result<(), Error<IO::Error>> {
        self.write_all(reg::FAULT_RST1, &[0xFF, 0xFF]).await?;
        if self.topology == Topology::Bridge {
            self.write_raw(Request::SingleWrite, 0, bridge::FAULT_RST, &[0x22])
                .await?;
        }
        Ok(())
    }

    /// The fault registers of every device (one 21-byte read from FAULT_SUMMARY).
    pub(crate) async fn read_fault_registers(
        &mut self,
        out: &mut [Reading<FaultRegisters>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        if out.len() != N {
            return Err(Error::InvalidArgument("out.len() != device_count"));
        }
        let mut frames = [[0u8; FAULT_BLOCK]; N];
        let (verdict, report) = self
            .read_chain(reg::FAULT_SUMMARY, FAULT_BLOCK, &mut frames)
            .await?;
        for (d, o) in out.iter_mut().enumerate() {
            *o = match verdict.get(d).copied().flatten() {
                Some(reason) => Reading::Failed(DeviceFault {
                    device: d as u8,
                    reason,
                }),
                None => match frames.get(d).and_then(|f| FaultRegisters::decode(f)) {
                    Some(r) => Reading::Valid(r),
                    None => Reading::Failed(DeviceFault {
                        device: d as u8,
                        reason: FaultReason::Framing,
                    }),
                },
            };
        }
        Ok(report)
    }
}

twins! {
    serial impl[V: Variant, const N: usize] Bq79616<V, N> => core {
        /// Clears every latched fault (FAULT_RST1/2, and the bridge's FAULT_RST).
        pub fn clear_faults(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// FAULT_SUMMARY … FAULT_UT of every device, decoded.
        pub fn read_fault_registers(&mut self, out: &mut [Reading<FaultRegisters>]) -> Result<ChainReport, Error<SerialError<B>>>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_block_decodes_at_the_data_sheet_offsets() {
        let mut b = [0u8; FAULT_BLOCK];
        b[0] = 0b0001_0100; // FAULT_SUMMARY: COMM and OVUV
        b[3] = 0b0000_0110; // FAULT_COMM1 (0x0530): COMMCLR_DET | UART_RC
        b[4] = 0b1000_0001; // FAULT_COMM2: COML_TR | COMH_BIT
        b[0x0F] = 0x80; // FAULT_OV1 (0x053C): cell 16
        b[0x10] = 0x01; // FAULT_OV2: cell 1
        b[0x12] = 0x02; // FAULT_UV2 (0x053F): cell 2
        b[0x13] = 0x04; // FAULT_OT (0x0540): GPIO3
        let r = FaultRegisters::decode(&b).unwrap();
        assert_eq!(r.ov, 0x8001);
        assert_eq!(r.uv, 0x0002);
        assert_eq!(r.ot, 0x04);
        let (c1, c2) = r.comm_flags();
        assert_eq!(c1, FaultComm1::COMMCLR_DET | FaultComm1::UART_RC);
        assert_eq!(c2, FaultComm2::COML_TR | FaultComm2::COMH_BIT);
        assert_eq!(r.summary_flags(), FaultSummary::COMM | FaultSummary::OVUV);
        let f = r.to_faults(14);
        assert_eq!(f.overvoltage, 0x0001, "cell 16 is not active on 14 cells");
        assert_eq!(f.undervoltage, 0x0002);
        assert!(f.over_temperature && !f.internal);
        assert!(FaultRegisters::decode(&b[..20]).is_none());
    }
}
