//! The wide read-alls: RDCSALL / RDACSALL / RDASALL (decoders in
//! [`crate::adbms6830::readall`]).

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    /// RDCSALL (or RDACSALL with `averaged`): C (or averaged) and S cells 1–16 of every
    /// device from one 66-byte frame per device, verified (PEC10, counter, reset overlay);
    /// device `d`'s cells go to `c[d × stride ..]` and `s[d × stride ..]`. A failed device
    /// fails its 16 C and 16 S slots only.
    pub(super) async fn read_cs_strided(
        &mut self,
        averaged: bool,
        c: &mut [Reading<MicroVolts>],
        s: &mut [Reading<MicroVolts>],
        stride: usize,
    ) -> Result<ChainReport, E<IO>> {
        use crate::adbms6830::readall::{CS_CELLS, CS_FRAME_LEN, cs_from, fail_cs};
        let frame = if averaged {
            cmd::RDACSALL
        } else {
            cmd::RDCSALL
        };
        let mut frames = [[0u8; CS_FRAME_LEN]; N];
        let v = self.read(&frame, &mut frames).await?;
        let mut report = ChainReport::OK;
        let n = self.n();
        clear_past(c, n * stride);
        clear_past(s, n * stride);
        let devices = c.chunks_mut(stride).zip(s.chunks_mut(stride));
        for ((f, r), (co, so)) in frames.iter().zip(v.iter()).zip(devices).take(n) {
            let (Some(co), Some(so)) = (co.get_mut(..CS_CELLS), so.get_mut(..CS_CELLS)) else {
                continue;
            };
            match r {
                Ok(()) => cs_from(f, co, so),
                Err(e) => {
                    report.record(*e);
                    fail_cs(*e, co, so);
                }
            }
        }
        Ok(report)
    }

    pub(crate) async fn read_cells_cs(
        &mut self,
        averaged: bool,
        c_out: &mut [Reading<MicroVolts>],
        s_out: &mut [Reading<MicroVolts>],
    ) -> Result<ChainReport, E<IO>> {
        if V::CELLS != crate::adbms6830::readall::CS_CELLS {
            return Err(ConfigError::Unsupported(
                "RDCSALL/RDACSALL carry cells 1-16 only (18-cell variant)",
            )
            .into());
        }
        let n = self.n();
        if c_out.len() != n * V::CELLS || s_out.len() != n * V::CELLS {
            return Err(Error::InvalidArgument(
                "C and S output lengths must be devices × cells per device",
            ));
        }
        self.read_cs_strided(averaged, c_out, s_out, V::CELLS).await
    }

    pub(crate) async fn read_all_aux_status(
        &mut self,
        out: &mut [Reading<crate::adbms6830::readall::AuxStatus>; N],
    ) -> Result<ChainReport, E<IO>> {
        use crate::adbms6830::readall::{AS_FRAME_LEN, as_from};
        let mut frames = [[0u8; AS_FRAME_LEN]; N];
        let v = self.read(&cmd::RDASALL, &mut frames).await?;
        let mut report = ChainReport::OK;
        let n = self.n();
        clear_past(out, n);
        for ((f, r), o) in frames.iter().zip(v.iter()).zip(out.iter_mut()).take(n) {
            *o = match r {
                Ok(()) => Reading::Valid(as_from(f)),
                Err(e) => {
                    report.record(*e);
                    Reading::Failed(*e)
                }
            };
        }
        Ok(report)
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core {
        /// RDCSALL (`averaged = false`) or RDACSALL (`averaged = true`): C-ADC (or averaged)
        /// **and** S-ADC results of cells 1–16 in one 66-byte frame per device (64 data
        /// bytes + PEC10 over all of them and the command counter; ADBMS6830B-DS Table 50;
        /// layout in [`readall`](crate::adbms6830::readall)). `c_out` and `s_out` are
        /// `N × 16`, device 0 first. One frame instead of the twelve 8-byte group reads (or
        /// two 34-byte read-alls) of the same registers.
        ///
        /// **Weaker check**: at 528 bits the PEC10 no longer catches every double-bit error
        /// (17 of the 139 128 two-bit patterns — flips 511 bits apart — pass; group frames and
        /// the 34-byte read-alls catch all of them). It still catches every odd number of
        /// flipped bits and every burst of up to 10 bits. The driver never uses it by itself;
        /// prefer the group reads ([`Adbms6830::read_cells`]) where this matters. See the
        /// module documentation, "Error detection per frame length".
        ///
        /// Every device's frame is checked (PEC10 and command counter, as every read; the
        /// read moves no counter); a failed device fails its 32 slots only and is named in
        /// the report. Cleared/reset codes are [`Reading::NotConverted`].
        ///
        /// ADBMS6830B-DS says the read-all commands are intended "for single IC
        /// applications"; this method sends RDCSALL whatever `N` is (the caller asked for
        /// it): see [`Adbms6830::set_read_all`] for the driver's own use. 16-cell variants
        /// only: on ADBMS6832 it returns [`ConfigError::Unsupported`] and sends nothing.
        pub fn read_cells_cs(&mut self, averaged: bool, c_out: &mut [Reading<MicroVolts>], s_out: &mut [Reading<MicroVolts>]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// RDASALL: auxiliary (GPIO1..10, VMV, VPV), redundant auxiliary (GPIO1..10) and
        /// status A–E of every device in one 70-byte frame per device (68 data bytes +
        /// PEC10 with the command counter; ADBMS6830B-DS Table 50). The
        /// group order inside the frame comes from ADI's reference code only and is
        /// **UNVERIFIED** against the data sheet ([`readall`](crate::adbms6830::readall) explains);
        /// status C arrives without its conversion counter (STCR2/STCR3 omitted).
        ///
        /// Every frame is checked (PEC10, command counter); a failed device is
        /// [`Reading::Failed`] and named in the report, the others are decoded.
        ///
        /// **Weaker check**: at 560 bits the PEC10 misses 49 of the 156 520 two-bit error
        /// patterns (flips 511 bits apart); the group reads ([`Adbms6830::read_aux`],
        /// [`Adbms6830::read_supplies`], `read_status_*`) catch every double-bit error. See
        /// the module documentation, "Error detection per frame length".
        pub fn read_all_aux_status(&mut self, out: &mut [Reading<crate::adbms6830::readall::AuxStatus>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
