//! MAX17841B transactions and message exchange: bridge registers, the bounded
//! transaction, write and read messages with their checks and retries, verified writes.

use embedded_hal::spi::Operation;

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn frame(&mut self, bytes: &[u8]) -> Result<(), Error<IO::Error>> {
        self.io
            .transaction(&mut [Operation::Write(bytes)])
            .await
            .map_err(Error::Bus)
    }

    pub(super) async fn bridge_write(
        &mut self,
        reg: BridgeRegister,
        v: u8,
    ) -> Result<(), Error<IO::Error>> {
        let w = reg
            .write()
            .ok_or(Error::InvalidArgument("read-only bridge register"))?;
        self.frame(&[w, v]).await
    }

    pub(super) async fn bridge_read(
        &mut self,
        reg: BridgeRegister,
    ) -> Result<u8, Error<IO::Error>> {
        let mut buf = [reg.read(), 0x00];
        self.io
            .transaction(&mut [Operation::TransferInPlace(&mut buf)])
            .await
            .map_err(Error::Bus)?;
        Ok(buf[1])
    }

    pub(super) async fn bridge_write_verified(
        &mut self,
        reg: BridgeRegister,
        v: u8,
    ) -> Result<(), Error<IO::Error>> {
        self.bridge_write(reg, v).await?;
        let r = self.bridge_read(reg).await?;
        if r == v {
            Ok(())
        } else {
            Err(Error::Verify(VerifyMismatch {
                device: 0,
                register: reg.name(),
                offset: 0,
                expected: v,
                actual: r,
            }))
        }
    }

    /// One bridge transaction: clear RX, load, transmit, poll RX_STATUS (bounded), read.
    /// `Ok(false)` if the message did not come back within the bound (or the receive buffer
    /// overflowed): nothing in `rx` is then meaningful.
    pub(super) async fn transact(
        &mut self,
        req: &Request,
        rx: &mut [u8; MAX_MESSAGE],
    ) -> Result<bool, Error<IO::Error>> {
        let len = req.response_len();
        self.frame(&[bridge::CLR_RX_BUF]).await?;
        let mut load = [0u8; 8];
        let n = bridge::load_queue_frame(req.bytes(), len, &mut load)
            .ok_or(Error::InvalidArgument("message too long for the bridge"))?;
        self.frame(load.get(..n).unwrap_or(&[])).await?;
        self.frame(&[bridge::WR_NXT_LD_Q0]).await?;
        // The message needs about 12 µs per byte at 2 Mbit/s (two 12-bit characters per
        // byte) plus each device's latency before anything can be back.
        self.io.delay_us(12 * len as u32 + 4 * N as u32).await;
        let mut arrived = false;
        for _ in 0..self.max_polls {
            let s = RxStatus::from_bits_retain(self.bridge_read(BridgeRegister::RxStatus).await?);
            if s.contains(RxStatus::OVERFLOW) {
                return Ok(false);
            }
            if s.contains(RxStatus::STOP) {
                arrived = true;
                break;
            }
            self.io.delay_us(MESSAGE_POLL_US).await;
        }
        if !arrived {
            return Ok(false);
        }
        let mut buf = [0u8; MAX_MESSAGE + 1];
        let frame = buf
            .get_mut(..len + 1)
            .ok_or(Error::InvalidArgument("message too long for the bridge"))?;
        frame[0] = bridge::RD_NXT_MSG;
        self.io
            .transaction(&mut [Operation::TransferInPlace(frame)])
            .await
            .map_err(Error::Bus)?;
        rx.fill(0);
        if let (Some(dst), Some(src)) = (rx.get_mut(..len), buf.get(1..len + 1)) {
            dst.copy_from_slice(src);
        }
        Ok(true)
    }

    /// A write message (WRITEALL or WRITEDEVICE `device`) with its echo checked, re-issued
    /// on failure. The fault names `device` (device 0 for WRITEALL: the echo cannot say
    /// which device saw the message damaged).
    pub(super) async fn write_msg(
        &mut self,
        device: Option<u8>,
        reg: u8,
        value: u16,
    ) -> Result<(), Error<IO::Error>> {
        let mut rx = [0u8; MAX_MESSAGE];
        let mut last = FaultReason::NoResponse;
        for _ in 0..=self.retries {
            let ac = self.next_alive();
            let req = match device {
                None => Request::write_all(reg, value, ac),
                Some(d) => Request::write_device(d, reg, value, ac).map_err(Error::Config)?,
            };
            if !self.transact(&req, &mut rx).await? {
                last = FaultReason::NoResponse;
                continue;
            }
            match message::check_write(&req, &rx, N) {
                Ok(()) => return Ok(()),
                Err(e) => last = self.note(e),
            }
        }
        Err(Error::Integrity(DeviceFault {
            device: device.unwrap_or(0),
            reason: last,
        }))
    }

    /// READDEVICE with retries; `came_back` is cleared if no attempt returned anything.
    pub(super) async fn read_one(
        &mut self,
        d: u8,
        reg: u8,
        came_back: &mut bool,
    ) -> Result<Result<(u16, DataCheck), FaultReason>, Error<IO::Error>> {
        let mut rx = [0u8; MAX_MESSAGE];
        let mut last = FaultReason::NoResponse;
        *came_back = false;
        for _ in 0..=self.retries {
            let req = Request::read_device(d, reg, self.next_alive()).map_err(Error::Config)?;
            if !self.transact(&req, &mut rx).await? {
                last = FaultReason::NoResponse;
                continue;
            }
            *came_back = true;
            match message::check_read_device(&req, &rx, N) {
                Ok(v) => return Ok(Ok(v)),
                Err(e) => last = self.note(e),
            }
        }
        Ok(Err(last))
    }

    /// Reads register `reg` of every device into `out` (per device: the value or its
    /// fault) and returns the data-check bits seen.
    pub(super) async fn read_reg(
        &mut self,
        reg: u8,
        out: &mut Slots<N>,
    ) -> Result<DataCheck, Error<IO::Error>> {
        let mut dc = DataCheck::empty();
        self.ring_open = false;
        if self.uses_read_all() {
            let mut rx = [0u8; MAX_MESSAGE];
            let mut came_back = false;
            let mut last = FaultReason::NoResponse;
            for _ in 0..=self.retries {
                let req = Request::read_all(reg, N, self.next_alive()).map_err(Error::Config)?;
                if !self.transact(&req, &mut rx).await? {
                    continue;
                }
                came_back = true;
                match message::check_read_all(&req, &rx) {
                    Ok(all) => {
                        for (d, o) in out.iter_mut().enumerate() {
                            *o = all.value(d).ok_or(FaultReason::Framing);
                        }
                        return Ok(all.dc);
                    }
                    Err(e) => last = self.note(e),
                }
            }
            if !came_back {
                // Nothing returned at all: a ring that loses one message loses the next
                // too; every device failed, without N more bounded waits.
                out.fill(Err(FaultReason::NoResponse));
                self.ring_open = true;
                return Ok(dc);
            }
            // A sequence failure cannot be attributed: every device failed it.
            if matches!(last, FaultReason::CommandCounter { .. }) {
                out.fill(Err(last));
                return Ok(dc);
            }
        }
        let mut came_back = true;
        for (d, o) in out.iter_mut().enumerate() {
            if !came_back {
                // Nothing came back for the previous device: the ring is open, so the
                // others are not asked (each would only wait out its bound).
                *o = Err(FaultReason::NoResponse);
                continue;
            }
            *o = match self.read_one(d as u8, reg, &mut came_back).await? {
                Ok((v, c)) => {
                    dc |= c;
                    Ok(v)
                }
                Err(e) => Err(e),
            };
        }
        self.ring_open = !came_back;
        Ok(dc)
    }

    pub(super) async fn read_bridge(
        &mut self,
        reg: BridgeRegister,
    ) -> Result<u8, Error<IO::Error>> {
        self.bridge_read(reg).await
    }

    pub(super) async fn write_bridge(
        &mut self,
        reg: BridgeRegister,
        value: u8,
    ) -> Result<(), Error<IO::Error>> {
        self.bridge_write(reg, value).await
    }

    pub(super) async fn write_all(
        &mut self,
        reg: Register,
        value: u16,
    ) -> Result<(), Error<IO::Error>> {
        if !V::accessible(reg.address()) {
            return Err(Error::Config(ConfigError::Unsupported(reg.name())));
        }
        self.write_msg(None, reg.address(), value).await
    }

    pub(super) async fn write_device(
        &mut self,
        device: u8,
        reg: Register,
        value: u16,
    ) -> Result<(), Error<IO::Error>> {
        if usize::from(device) >= N {
            return Err(Error::InvalidArgument("device index beyond the chain"));
        }
        if !V::accessible(reg.address()) {
            return Err(Error::Config(ConfigError::Unsupported(reg.name())));
        }
        self.write_msg(Some(device), reg.address(), value).await
    }

    /// Reads `reg` of every device and compares with `want[d]`.
    pub(super) async fn verify(
        &mut self,
        reg: Register,
        want: &[u16; N],
    ) -> Result<(), Error<IO::Error>> {
        let mut v: Slots<N> = [Ok(0); N];
        self.read_reg(reg.address(), &mut v).await?;
        for (d, (x, w)) in v.iter().zip(want).enumerate() {
            match x {
                Ok(r) if r == w => {}
                Ok(r) => {
                    let (rb, wb) = (r.to_le_bytes(), w.to_le_bytes());
                    let offset = usize::from(rb[0] == wb[0]);
                    return Err(Error::Verify(VerifyMismatch {
                        device: d as u8,
                        register: reg.name(),
                        offset: offset as u8,
                        expected: wb[offset],
                        actual: rb[offset],
                    }));
                }
                Err(reason) => {
                    return Err(Error::Integrity(DeviceFault {
                        device: d as u8,
                        reason: *reason,
                    }));
                }
            }
        }
        Ok(())
    }

    pub(super) async fn write_all_verified(
        &mut self,
        reg: Register,
        value: u16,
    ) -> Result<(), Error<IO::Error>> {
        self.write_all(reg, value).await?;
        self.verify(reg, &[value; N]).await
    }

    pub(super) async fn read_all(
        &mut self,
        reg: Register,
        out: &mut [Reading<u16>],
    ) -> Result<ChainReport, Error<IO::Error>> {
        check_len(out.len(), N)?;
        if !V::accessible(reg.address()) {
            return Err(Error::Config(ConfigError::Unsupported(reg.name())));
        }
        let mut v: Slots<N> = [Ok(0); N];
        self.read_reg(reg.address(), &mut v).await?;
        let mut report = ChainReport::OK;
        for (d, (o, x)) in out.iter_mut().zip(&v).enumerate() {
            *o = slot_reading(d, *x, &mut report, |r| r);
        }
        Ok(report)
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Max1785x<V, N> => core {
        /// Reads a MAX17841B register (RX_STATUS, the interrupt flags, FMEA, MODEL, VERSION …).
        pub fn read_bridge(&mut self, reg: BridgeRegister) -> Result<u8, Error<SpiError<B>>>;
        /// Writes a MAX17841B register ([`Error::InvalidArgument`] for read-only ones).
        pub fn write_bridge(&mut self, reg: BridgeRegister, value: u8) -> Result<(), Error<SpiError<B>>>;
        /// WRITEALL `value` to `reg` of every device; the echo is checked (re-issued on
        /// failure). Registers the part lacks are [`ConfigError::Unsupported`].
        pub fn write_all(&mut self, reg: Register, value: u16) -> Result<(), Error<SpiError<B>>>;
        /// [`write_all`](Self::write_all), then every device's value read back and compared
        /// ([`Error::Verify`] names device, register and byte).
        pub fn write_all_verified(&mut self, reg: Register, value: u16) -> Result<(), Error<SpiError<B>>>;
        /// WRITEDEVICE `value` to `reg` of `device`.
        pub fn write_device(&mut self, device: u8, reg: Register, value: u16) -> Result<(), Error<SpiError<B>>>;
        /// Reads `reg` of every device (`out.len() == N`), per device checked.
        pub fn read_all(&mut self, reg: Register, out: &mut [Reading<u16>]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
