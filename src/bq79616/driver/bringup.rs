//! Bring-up: wake pings, auto-addressing, chain-length detection, SLEEP / SHUTDOWN and
//! COMM CLEAR.

use super::*;

impl<V: Variant, const N: usize, IO: SerialIo> Core<V, N, IO> {
    pub(super) async fn wake_pings(&mut self) -> Result<(), Error<IO::Error>> {
        if !self.io.can_hold_tx_low() {
            return Err(Error::InvalidArgument(
                "the wake ping needs a SerialLine that can hold TX low",
            ));
        }
        let n = N.clamp(1, 63) as u32;
        match self.topology {
            Topology::Bridge => {
                for _ in 0..2 {
                    self.io.hold_tx_low(timing::BRIDGE_WAKE_PING_US).await;
                    self.io.delay_us(timing::BRIDGE_WAKE_WAIT_US).await;
                }
                self.bridge_reverse = false;
                self.write_raw(
                    Request::SingleWrite,
                    0,
                    reg::CONTROL1,
                    &[Control1::SEND_WAKE.bits()],
                )
                .await?;
                self.io
                    .delay_us(timing::WAKE_PER_DEVICE_US.saturating_mul(n))
                    .await;
            }
            Topology::Base => {
                self.io.hold_tx_low(timing::BASE_WAKE_PING_US).await;
                self.io
                    .delay_us(timing::WAKE_PER_DEVICE_US.saturating_mul(n))
                    .await;
            }
        }
        Ok(())
    }

    /// Auto-addressing (SLUAA17A / TI BQ796xx sample `AutoAddress`): DLL-sync dummy writes,
    /// ADDR_WR, sequential DIR0_ADDR, stack and top-of-stack marking, DLL-sync dummy reads,
    /// then every address read back. Returns how many devices answered in a row from the host.
    pub(super) async fn auto_address(&mut self) -> Result<u8, Error<IO::Error>> {
        self.reset_groups();
        self.bridge_reverse = false;
        let n = N.clamp(1, 63) as u8;
        // 1. Dummy writes of OTP_ECC_DATAIN1..8 synchronise the daisy-chain DLLs.
        let sync_req = match self.topology {
            Topology::Bridge => Request::StackWrite,
            Topology::Base => Request::BroadcastWrite,
        };
        for r in 0..8u16 {
            self.write_raw(sync_req, 0, reg::OTP_ECC_DATAIN1 + r, &[0])
                .await?;
        }
        // 2. Auto-address mode, then 3. addresses in chain order (the bridge takes 0).
        self.write_raw(
            Request::BroadcastWrite,
            0,
            reg::CONTROL1,
            &[Control1::ADDR_WR.bits()],
        )
        .await?;
        let total = match self.topology {
            Topology::Bridge => n + 1,
            Topology::Base => n,
        };
        for a in 0..total {
            self.write_raw(Request::BroadcastWrite, 0, reg::DIR0_ADDR, &[a])
                .await?;
        }
        // 4. Everybody a stack device, 5. the top device marked; the base is not a stack
        //    device.
        let top = total - 1;
        self.write_raw(
            Request::BroadcastWrite,
            0,
            reg::COMM_CTRL,
            &[CommCtrl::STACK_DEV.bits()],
        )
        .await?;
        if self.topology == Topology::Base {
            let base = if n == 1 {
                CommCtrl::TOP_STACK.bits()
            } else {
                0
            };
            self.write_raw(Request::SingleWrite, 0, reg::COMM_CTRL, &[base])
                .await?;
        }
        if !(self.topology == Topology::Base && n == 1) {
            self.write_raw(
                Request::SingleWrite,
                top,
                reg::COMM_CTRL,
                &[(CommCtrl::STACK_DEV | CommCtrl::TOP_STACK).bits()],
            )
            .await?;
        }
        // 6. Dummy reads of OTP_ECC_DATAIN1..8 synchronise the read direction; their answers
        //    are thrown away.
        let read_req = self.read_req();
        for r in 0..8u16 {
            let cmd = frame::read(read_req, 0, reg::OTP_ECC_DATAIN1 + r, 1).map_err(frame_err)?;
            self.io.expect(7 * usize::from(n));
            self.send(&cmd).await?;
            let mut sink = [0u8; 7];
            for _ in 0..n {
                let got = self
                    .io
                    .read_within(&mut sink, self.deadline(usize::from(n), 7 * usize::from(n)))
                    .await
                    .map_err(Error::Bus)?;
                if got < sink.len() {
                    break;
                }
            }
        }
        // 7. Read back every address: the chain length is the run of devices that answer.
        let mut reachable = 0u8;
        let mut buf = [0u8; MAX_RESPONSE];
        for i in 0..usize::from(n) {
            let addr = self.addr_of(i);
            match self.read_single(addr, reg::DIR0_ADDR, &mut buf, 1).await? {
                Ok(()) if buf.get(4) == Some(&addr) => reachable += 1,
                Ok(()) => {
                    return Err(Error::Verify(VerifyMismatch {
                        device: i as u8,
                        register: "DIR0_ADDR",
                        offset: 0,
                        expected: addr,
                        actual: buf.get(4).copied().unwrap_or(0),
                    }));
                }
                Err(_) => break,
            }
        }
        self.reachable = reachable;
        Ok(reachable)
    }

    /// Wake pings with the data-sheet timing for `N` devices, auto-addressing with read-back
    /// of every address, then ACTIVE_CELL and the OV/UV comparators configured (read back) and
    /// the faults cleared. A device that does not read back its address is
    /// [`Error::Integrity`] with [`FaultReason::NoResponse`] naming the first missing device;
    /// the devices before it are addressed and usable.
    pub(crate) async fn bring_up(&mut self) -> Result<(), Error<IO::Error>> {
        if self.ngroups > 1 {
            self.unsplit().await?;
        }
        self.wake_pings().await?;
        let n = N.clamp(1, 63) as u8;
        let reachable = self.auto_address().await?;
        if reachable < n {
            return Err(Error::Integrity(DeviceFault {
                device: reachable,
                reason: FaultReason::NoResponse,
            }));
        }
        self.configure().await
    }

    /// Finds how many devices answer in a row from the host (single reads of DIR0_ADDR, no
    /// writes).
    pub(crate) async fn detect_chain_length(&mut self) -> Result<u8, Error<IO::Error>> {
        self.bridge_direction(false).await?;
        let mut buf = [0u8; MAX_RESPONSE];
        let mut n = 0u8;
        for i in 0..N {
            let addr = self.addr_of(i);
            match self.read_single(addr, reg::DIR0_ADDR, &mut buf, 1).await? {
                Ok(()) if buf.get(4) == Some(&addr) => n += 1,
                _ => break,
            }
        }
        Ok(n)
    }

    /// Sends the monitors to SLEEP (CONTROL1\[GOTO_SLEEP\]) and waits tSLP; the bridge stays
    /// awake. `wake` brings them back.
    pub(crate) async fn sleep(&mut self) -> Result<(), Error<IO::Error>> {
        self.write_all(reg::CONTROL1, &[Control1::GOTO_SLEEP.bits()])
            .await?;
        self.io.delay_us(timing::SLEEP_ENTRY_US).await;
        Ok(())
    }

    /// Wakes the monitors from SLEEP with their settings kept: the bridge's
    /// CONTROL1\[SEND_SLPTOACT\] (or, on a base device, a 275 µs SLEEPtoACTIVE ping), a wait of
    /// tSU(SLP2ACT) = 230 µs per device (SLUSE81E §8.6), then every address read back. A device
    /// that does not answer is [`Error::Integrity`] naming it (a WAKE and bring-up is then
    /// needed).
    pub(crate) async fn wake_from_sleep(&mut self) -> Result<(), Error<IO::Error>> {
        let n = N.clamp(1, 63) as u32;
        match self.topology {
            Topology::Bridge => {
                self.bridge_reverse = false;
                self.write_raw(
                    Request::SingleWrite,
                    0,
                    reg::CONTROL1,
                    &[Control1::SEND_SLPTOACT.bits()],
                )
                .await?;
            }
            Topology::Base => {
                if !self.io.can_hold_tx_low() {
                    return Err(Error::InvalidArgument(
                        "the SLEEPtoACTIVE ping needs a SerialLine that can hold TX low",
                    ));
                }
                self.io.hold_tx_low(timing::SLEEP_TO_ACTIVE_PING_US).await;
            }
        }
        self.io
            .delay_us(timing::SLEEP_TO_ACTIVE_PER_DEVICE_US.saturating_mul(n))
            .await;
        let k = self.detect_chain_length().await?;
        if usize::from(k) < N {
            return Err(Error::Integrity(DeviceFault {
                device: k,
                reason: FaultReason::NoResponse,
            }));
        }
        Ok(())
    }

    /// Sends the stack and the bridge to SHUTDOWN (CONTROL1\[GOTO_SHUTDOWN\] to the monitors,
    /// then the bridge) and waits tSHTDN.
    pub(crate) async fn shutdown(&mut self) -> Result<(), Error<IO::Error>> {
        self.write_all(reg::CONTROL1, &[Control1::GOTO_SHUTDOWN.bits()])
            .await?;
        if self.topology == Topology::Bridge {
            self.write_raw(
                Request::SingleWrite,
                0,
                reg::CONTROL1,
                &[Control1::GOTO_SHUTDOWN.bits()],
            )
            .await?;
        }
        self.reset_groups();
        self.io.delay_us(timing::SHUTDOWN_ENTRY_US).await;
        Ok(())
    }

    /// COMM CLEAR: holds TX low for 15–20 bit periods so every receiver drops a torn frame,
    /// then throws away whatever input is pending.
    pub(crate) async fn comm_clear(&mut self) -> Result<(), Error<IO::Error>> {
        self.io.hold_tx_low(timing::COMM_CLEAR_US).await;
        self.io
            .drain(timing::DRAIN_QUIET_US)
            .await
            .map(|_| ())
            .map_err(Error::Bus)
    }
}

twins! {
    serial impl[V: Variant, const N: usize] Bq79616<V, N> => core {
        /// Wake pings (bridge: two 2.75 ms pings 3.5 ms apart, then CONTROL1\[SEND_WAKE\] and
        /// 11.6 ms per device; base: one 2.25 ms ping and 11.6 ms per device), auto-addressing
        /// with every address read back, ACTIVE_CELL and the OV/UV comparators configured and
        /// read back, faults cleared. A device that does not read back its address is
        /// [`Error::Integrity`] ([`FaultReason::NoResponse`]) naming it; the devices before it
        /// are addressed. Also [`CellMonitor::wake`](crate::CellMonitor::wake).
        pub fn bring_up(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// Auto-addressing alone (no wake ping): returns how many devices read back their
        /// address in a row from the host (the chain length).
        pub fn auto_address(&mut self) -> Result<u8, Error<SerialError<B>>>;
        /// How many devices answer in a row from the host (reads only).
        pub fn detect_chain_length(&mut self) -> Result<u8, Error<SerialError<B>>>;
        /// Puts the monitors to SLEEP (bridge stays awake).
        pub fn sleep(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// Wakes the monitors from SLEEP keeping their settings (SLEEPtoACTIVE), then reads every
        /// address back.
        pub fn wake_from_sleep(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// Puts the stack and the bridge into SHUTDOWN.
        pub fn shutdown(&mut self) -> Result<(), Error<SerialError<B>>>;
        /// COMM CLEAR (TX low for 18 bit periods) and a drain of pending input.
        pub fn comm_clear(&mut self) -> Result<(), Error<SerialError<B>>>;
    }
}
