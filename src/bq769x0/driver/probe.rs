//! Identification and calibration: the address and CRC-mode probe, the factory gain and offset.

use super::*;

impl<V: Variant, IO: I2cIo> Core<V, IO> {
    pub(crate) async fn probe(&mut self) -> Result<ProbeInfo, Error<IO::Error>> {
        let mut found = None;
        'addresses: for address in ADDRESSES {
            // 1. CC_CFG ← 0x19 with a good CRC: any bq769x0 ACKs it (a non-CRC part writes the
            //    CRC byte into the read-only VC1_HI, which ignores it).
            let c0 = frame::write_crc0(address, reg::CC_CFG, reg::CC_CFG_VALUE);
            if self
                .io
                .write(address, &[reg::CC_CFG, reg::CC_CFG_VALUE, c0])
                .await
                .is_err()
            {
                continue;
            }
            let mut last = FaultReason::Framing;
            for _ in 0..=self.retries {
                // 2. Read CC_CFG and the byte after it: a CRC part sends the CRC of
                //    (addr|R, 0x19), a plain part VC1_HI.
                let mut b = [0u8; 2];
                self.io
                    .write_read(address, &[reg::CC_CFG], &mut b)
                    .await
                    .map_err(Error::Bus)?;
                let expected = frame::read_crc0(address, b[0]);
                let crc_by_read = b[1] == expected;
                // 3. A CRC part NACKs a write with a wrong CRC (TI E2E 929619); a plain part
                //    ACKs it (writing 0x19 again and a byte into read-only VC1_HI).
                let crc_by_nack = self
                    .io
                    .write(address, &[reg::CC_CFG, reg::CC_CFG_VALUE, c0 ^ 0xFF])
                    .await
                    .is_err();
                match (crc_by_nack, crc_by_read) {
                    // A plain part (its VC1_HI may equal the CRC by chance).
                    (false, _) => {
                        if b[0] & 0x3F != reg::CC_CFG_VALUE {
                            return Err(Error::Device {
                                device: 0,
                                what: "CC_CFG did not read back 0x19: not a bq769x0",
                            });
                        }
                        found = Some((address, false));
                        break 'addresses;
                    }
                    (true, true) => {
                        if b[0] & 0x3F != reg::CC_CFG_VALUE {
                            return Err(Error::Device {
                                device: 0,
                                what: "CC_CFG did not read back 0x19: not a bq769x0",
                            });
                        }
                        found = Some((address, true));
                        break 'addresses;
                    }
                    // NACKed like a CRC part but the read's CRC failed: a corrupted read or
                    // a transient NACK. Never guess: try again, then report.
                    (true, false) => {
                        last = FaultReason::Crc {
                            expected,
                            received: b[1],
                        }
                    }
                }
            }
            return Err(Error::Integrity(fault(last)));
        }
        let (address, crc) = found.ok_or(Error::Device {
            device: 0,
            what: "no bq769x0 answered at 0x08 or 0x18",
        })?;
        self.address = address;
        self.crc = crc;
        let calibration = self.read_calibration().await?;
        Ok(ProbeInfo {
            address,
            crc,
            calibration,
        })
    }

    pub(crate) async fn read_calibration(&mut self) -> Result<AdcCalibration, Error<IO::Error>> {
        let mut g1o = [0u8; 2];
        self.read_regs(reg::ADCGAIN1, &mut g1o).await?;
        let g2 = self.read_u8(reg::ADCGAIN2).await?;
        let cal = AdcCalibration::from_registers(g1o[0], g1o[1], g2);
        self.cal = Some(cal);
        Ok(cal)
    }
}
