//! Bring-up: wake-up, software reset, CID assignment, chain length, sleep.

use super::*;

/// After a software reset, before initialisation (`BCC_T_VPWR_READY_MS`).
pub const T_RESET_READY_US: u32 = 5_000;

impl<V: Variant, T: Link<IO>, const N: usize, IO> Core<V, T, N, IO> {
    pub(super) async fn wake_pattern(&mut self) -> Result<(), Error<T::Error>> {
        T::wake(&mut self.io, N).await.map_err(Error::Bus)
    }

    /// Assigns CID `k + 1` to the first unassigned device (`BCC_AssignCid`).
    pub(super) async fn assign(&mut self, k: usize) -> Result<(), Error<T::Error>> {
        let init = Init::assign(k as u8 + 1, N, T::TPL, V::IS_MC33772).to_bits();
        let mut last = Err(Error::Integrity(fault(k, FaultReason::NoResponse)));
        for attempt in 0..2 {
            if attempt > 0 {
                T::delay_us(&mut self.io, 750).await;
            }
            let mut v = [0u16; 1];
            // Read INIT from CID 0 (the very first response may be the null response).
            if let Err(r) = self.read_regs_with(None, reg::INIT, &mut v, true).await? {
                last = Err(Error::Integrity(fault(k, r)));
                continue;
            }
            if let Err(r) = self.write_reg(None, reg::INIT, init).await? {
                last = Err(Error::Integrity(fault(k, r)));
                continue;
            }
            if T::TPL {
                let c = self.cid0_counter.take();
                if let Some(slot) = self.counters.get_mut(k) {
                    *slot = c;
                }
            }
            match self.read_regs(Some(k), reg::INIT, &mut v).await? {
                Err(r) => last = Err(Error::Integrity(fault(k, r))),
                Ok(()) if v[0] & 0x01FF != init => {
                    last = Err(Error::Verify(VerifyMismatch {
                        device: k as u8,
                        register: "INIT",
                        offset: 1,
                        expected: init as u8,
                        actual: v[0] as u8,
                    }))
                }
                Ok(()) => return Ok(()),
            }
        }
        last
    }

    pub(super) async fn reset_and_assign(
        &mut self,
        count: usize,
    ) -> Result<usize, Error<T::Error>> {
        self.wake_pattern().await?;
        // BCC_SoftwareReset: global on TPL, CID 1 on SPI; its answer is not checked (devices
        // without a CID ignore it).
        let tx = if T::TPL {
            frame::request_c(
                reg::sys_cfg1::SOFT_RST,
                reg::SYS_CFG1,
                0,
                Command::GlobalWrite,
            )
        } else {
            frame::request_c(reg::sys_cfg1::SOFT_RST, reg::SYS_CFG1, 1, Command::Write)
        };
        let mut rx = [0u8; FRAME_C];
        T::send(&mut self.io, &tx, &mut rx)
            .await
            .map_err(Error::Bus)?;
        T::delay_us(&mut self.io, T_RESET_READY_US).await;
        self.counters = [None; N];
        self.cid0_counter = None;
        self.null_ok = true;
        self.suspect = [None; N];
        self.initialised = false;
        for k in 0..count {
            if k > 0 {
                T::delay_us(&mut self.io, 2_000).await;
                if T::TPL {
                    self.wake_pattern().await?;
                }
            }
            self.assign(k).await?;
        }
        Ok(count)
    }

    pub(super) async fn init(&mut self) -> Result<(), Error<T::Error>> {
        let n = self.reset_and_assign(N).await?;
        if n != N {
            return Err(Error::Device {
                device: n as u8,
                what: "chain shorter than configured",
            });
        }
        self.configure().await?;
        self.initialised = true;
        Ok(())
    }

    pub(super) async fn detect_chain_length(&mut self) -> Result<usize, Error<T::Error>> {
        if !T::TPL {
            return Ok(1);
        }
        // Assign CIDs until no unassigned device answers on CID 0 (up to N).
        self.wake_pattern().await?;
        let tx = frame::request_c(
            reg::sys_cfg1::SOFT_RST,
            reg::SYS_CFG1,
            0,
            Command::GlobalWrite,
        );
        let mut rx = [0u8; FRAME_C];
        T::send(&mut self.io, &tx, &mut rx)
            .await
            .map_err(Error::Bus)?;
        T::delay_us(&mut self.io, T_RESET_READY_US).await;
        self.counters = [None; N];
        self.cid0_counter = None;
        self.initialised = false;
        let mut found = 0;
        for k in 0..N {
            if k > 0 {
                T::delay_us(&mut self.io, 2_000).await;
                self.wake_pattern().await?;
            }
            let mut v = [0u16; 1];
            let saved = self.retries;
            self.retries = 0;
            let probe = self.read_regs_with(None, reg::INIT, &mut v, true).await;
            self.retries = saved;
            match probe? {
                Ok(()) => {}
                Err(_) => break,
            }
            self.assign(k).await?;
            found = k + 1;
        }
        Ok(found)
    }

    pub(super) async fn wake(&mut self) -> Result<(), Error<T::Error>> {
        self.wake_pattern().await?;
        if self.initialised {
            let mut all = true;
            for d in 0..N {
                let mut v = [0u16; 1];
                match self.read_regs(Some(d), reg::INIT, &mut v).await? {
                    Ok(()) if v[0] & 0x3F == d as u16 + 1 => {}
                    _ => {
                        all = false;
                        break;
                    }
                }
            }
            if all {
                return Ok(());
            }
        }
        self.init().await
    }

    pub(super) async fn sleep(&mut self) -> Result<(), Error<T::Error>> {
        // BCC_Sleep: GO2SLEEP globally (TPL) or to CID 1 (SPI).
        self.write_global(reg::SYS_CFG_GLOBAL, 0x0001)
            .await?
            .map_err(|r| Error::Integrity(fault(0, r)))
    }
}

bcc_twins! {
    /// Full bring-up: wake-up pattern, software reset, CID assignment device by device
    /// (INIT written through CID 0, read back from the new CID, one retry after 750 µs), then
    /// the [`Settings`] written and read back (SYS_CFG1 CB_DRVEN and I_MEAS_EN, SYS_CFG2
    /// TIMEOUT_COMM, TH_ALL_CT, OV_UV_EN). A chain shorter than `N` is an
    /// [`Error::Device`] naming the first missing device.
    pub fn init(&mut self) -> Result<(), Error<B::Error>>;
    /// Wakes the chain (wake-up pattern); if every device still answers on its CID the
    /// configuration is kept, otherwise the chain is initialised again ([`init`](Self::init)).
    pub fn wake(&mut self) -> Result<(), Error<B::Error>>;
    /// Puts every device to sleep (SYS_CFG_GLOBAL GO2SLEEP, globally on TPL).
    pub fn sleep(&mut self) -> Result<(), Error<B::Error>>;
    /// Resets the chain and assigns CIDs until no unassigned device answers (at most `N`);
    /// returns the number found (1 on SPI). Call [`init`](Self::init) afterwards.
    pub fn detect_chain_length(&mut self) -> Result<usize, Error<B::Error>>;
}
