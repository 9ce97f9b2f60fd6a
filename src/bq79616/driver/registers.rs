//! Raw register access to the monitors and the BQ79600 bridge, for settings the driver does
//! not cover.

use super::*;

impl<V: Variant, const N: usize, IO: SerialIo> Core<V, N, IO> {
    /// Writes `data` (1…8 bytes) to `register` of every device and reads it back
    /// ([`Error::Verify`] names device and byte), for settings the driver does not cover.
    pub(crate) async fn write_registers(
        &mut self,
        register: u16,
        data: &[u8],
    ) -> Result<(), Error<IO::Error>> {
        if data.is_empty() || data.len() > frame::MAX_WRITE {
            return Err(Error::InvalidArgument("1…8 data bytes"));
        }
        self.write_verified(register, "register (raw write)", data)
            .await
    }

    /// Reads `count` (1…128) registers from every device: `out[d][..count]` is device `d`'s
    /// data where its verdict in the report is good.
    pub(crate) async fn read_registers(
        &mut self,
        register: u16,
        count: usize,
        out: &mut [[u8; MAX_RESPONSE]; N],
    ) -> Result<ChainReport, Error<IO::Error>> {
        let (_, report) = self.read_chain(register, count, out).await?;
        Ok(report)
    }

    /// Writes `value` to bridge register `register` (single write to device 0) and reads it
    /// back ([`Error::Verify`] with device 0 and the register named "BQ79600 register"), e.g.
    /// COMM_TIMEOUT (0x2005) or DEV_CONF1 (0x2001), whose fields the driver does not type.
    pub(crate) async fn write_bridge(
        &mut self,
        register: u16,
        value: u8,
    ) -> Result<(), Error<IO::Error>> {
        if self.topology != Topology::Bridge {
            return Err(Error::InvalidArgument("no BQ79600 bridge in this topology"));
        }
        self.write_raw(Request::SingleWrite, 0, register, &[value])
            .await?;
        let got = self.read_bridge(register).await?;
        if got != value {
            return Err(Error::Verify(VerifyMismatch {
                device: 0,
                register: "BQ79600 register",
                offset: 0,
                expected: value,
                actual: got,
            }));
        }
        Ok(())
    }

    /// Reads one bridge register (single read of device 0, CRC checked). A failed frame is
    /// [`Error::Integrity`] with device 0 (the bridge has no index among the monitors; the
    /// error names device 0).
    pub(crate) async fn read_bridge(&mut self, register: u16) -> Result<u8, Error<IO::Error>> {
        if self.topology != Topology::Bridge {
            return Err(Error::InvalidArgument("no BQ79600 bridge in this topology"));
        }
        let mut buf = [0u8; MAX_RESPONSE];
        match self.read_single(0, register, &mut buf, 1).await? {
            Ok(()) => Ok(buf.get(4).copied().unwrap_or(0)),
            Err(reason) => Err(Error::Integrity(DeviceFault { device: 0, reason })),
        }
    }
}

twins! {
    serial impl[V: Variant, const N: usize] Bq79616<V, N> => core {
        /// Writes 1…8 bytes to `register` of every device and reads them back.
        pub fn write_registers(&mut self, register: u16, data: &[u8]) -> Result<(), Error<SerialError<B>>>;
        /// Reads `count` registers of every device into `out[d][..count]` (valid where the
        /// report does not name `d`).
        pub fn read_registers(&mut self, register: u16, count: usize, out: &mut [[u8; MAX_RESPONSE]; N]) -> Result<ChainReport, Error<SerialError<B>>>;
        /// Writes one BQ79600 register and reads it back (e.g. COMM_TIMEOUT 0x2005).
        pub fn write_bridge(&mut self, register: u16, value: u8) -> Result<(), Error<SerialError<B>>>;
        /// Reads one BQ79600 register (e.g. DEV_CONF1 0x2001, FAULT_SUMMARY 0x2100).
        pub fn read_bridge(&mut self, register: u16) -> Result<u8, Error<SerialError<B>>>;
    }
}
