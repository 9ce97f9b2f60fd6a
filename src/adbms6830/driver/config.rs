//! Configuration: CFGA/CFGB read, verified writes, `configure`.

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(crate) async fn read_config(
        &mut self,
        a: &mut [Reading<CfgA>; N],
        b: &mut [Reading<CfgB>; N],
    ) -> Result<ChainReport, E<IO>> {
        let mark = self.taint_mark();
        let mut r = self.read_decoded(&cmd::RDCFGA, CfgA::from_bytes, a).await?;
        r.merge(self.read_decoded(&cmd::RDCFGB, CfgB::from_bytes, b).await?);
        let tainted = self.tainted(mark);
        taint(&tainted, a.chunks_mut(1), 1, &mut r);
        taint(&tainted, b.chunks_mut(1), 1, &mut r);
        for (d, x) in a.iter().enumerate() {
            if let (Reading::Valid(v), Some(c)) = (x, self.cfga.get_mut(d)) {
                *c = *v;
            }
        }
        for (d, x) in b.iter().enumerate() {
            if let (Reading::Valid(v), Some(c)) = (x, self.cfgb.get_mut(d)) {
                *c = *v;
            }
        }
        Ok(r)
    }

    pub(crate) async fn write_cfga(&mut self, cfg: &[CfgA; N]) -> Result<(), E<IO>> {
        for c in cfg.iter() {
            c.validate()?;
        }
        let data = cfg.map(|c| c.to_bytes());
        self.cfga = *cfg;
        self.write_verified(
            &cmd::WRCFGA,
            &cmd::RDCFGA,
            "CFGA",
            &data,
            &CfgA::WRITABLE,
            NEED_CFGA,
        )
        .await
    }

    pub(crate) async fn write_cfgb(&mut self, cfg: &[CfgB; N]) -> Result<(), E<IO>> {
        for c in cfg.iter() {
            c.validate()?;
            check_dcc::<V>(c.dcc as u32)?;
        }
        let data = cfg.map(|c| c.to_bytes());
        self.cfgb = *cfg;
        self.write_verified(
            &cmd::WRCFGB,
            &cmd::RDCFGB,
            "CFGB",
            &data,
            &[0xFF; 6],
            NEED_CFGB,
        )
        .await
    }

    pub(crate) async fn configure(&mut self, a: CfgA, b: CfgB) -> Result<(), E<IO>> {
        // Both groups are checked before either is sent.
        a.validate()?;
        b.validate()?;
        check_dcc::<V>(b.dcc as u32)?;
        self.write_cfga(&[a; N]).await?;
        self.write_cfgb(&[b; N]).await
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core {
        /// Reads CFGA and CFGB of every device (and updates the driver's copy where valid).
        pub fn read_config(&mut self, a: &mut [Reading<CfgA>; N], b: &mut [Reading<CfgB>; N]) -> Result<ChainReport, Error<SpiError<B>>>;
        /// Writes CFGA per device and verifies it by read-back (read-only bits masked). Every
        /// field is range-checked first ([`CfgA::validate`]): an out-of-range value is
        /// [`ConfigError::OutOfRange`] and nothing is sent.
        pub fn write_cfga(&mut self, cfg: &[CfgA; N]) -> Result<(), Error<SpiError<B>>>;
        /// Writes CFGB per device and verifies it by read-back. Every field is range-checked
        /// first ([`CfgB::validate`], DCC against the variant's cells): an out-of-range value
        /// is [`ConfigError::OutOfRange`] and nothing is sent.
        pub fn write_cfgb(&mut self, cfg: &[CfgB; N]) -> Result<(), Error<SpiError<B>>>;
        /// Writes the same CFGA and CFGB to every device, verified. Both are range-checked
        /// before either is sent.
        pub fn configure(&mut self, a: CfgA, b: CfgB) -> Result<(), Error<SpiError<B>>>;
    }
}
