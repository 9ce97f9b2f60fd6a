//! Start-up: bridge set-up, chain wake-up, HELLOALL and the start-up checks (device count,
//! READALL slot order, VERSION model).

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(super) async fn hello_all(&mut self) -> Result<u8, Error<IO::Error>> {
        let mut rx = [0u8; MAX_MESSAGE];
        let req = Request::hello_all();
        let mut last = FaultReason::NoResponse;
        for _ in 0..=self.retries {
            if !self.transact(&req, &mut rx).await? {
                continue;
            }
            match message::check_hello_all(&rx) {
                Ok(n) => return Ok(n),
                Err(e) => last = self.note(e),
            }
        }
        Err(Error::Integrity(DeviceFault {
            device: 0,
            reason: last,
        }))
    }

    pub(super) async fn wake_chain(&mut self) -> Result<(), Error<IO::Error>> {
        self.frame(&[bridge::CLR_RX_BUF]).await?;
        self.bridge_write(BridgeRegister::Configuration2, bridge::CONFIG2_PREAMBLES_ON)
            .await?;
        let mut busy = false;
        for _ in 0..self.max_wake_polls {
            self.io.delay_us(WAKE_POLL_US).await;
            let s = RxStatus::from_bits_retain(self.bridge_read(BridgeRegister::RxStatus).await?);
            if s.contains(RxStatus::BUSY) {
                busy = true;
                break;
            }
        }
        self.bridge_write(
            BridgeRegister::Configuration2,
            bridge::CONFIG2_PREAMBLES_OFF,
        )
        .await?;
        if !busy {
            return Err(Error::Timeout("chain wake-up: preambles did not come back"));
        }
        let mut idle = false;
        for _ in 0..self.max_wake_polls {
            self.io.delay_us(WAKE_POLL_US).await;
            let s = RxStatus::from_bits_retain(self.bridge_read(BridgeRegister::RxStatus).await?);
            if !s.contains(RxStatus::BUSY) {
                idle = true;
                break;
            }
        }
        if !idle {
            return Err(Error::Timeout("chain wake-up: receiver stayed busy"));
        }
        self.frame(&[bridge::CLR_TX_BUF]).await?;
        self.frame(&[bridge::CLR_RX_BUF]).await
    }

    pub(super) async fn start_up(&mut self) -> Result<(), Error<IO::Error>> {
        self.bridge_write_verified(
            BridgeRegister::Configuration3,
            bridge::CONFIG3_KEEP_ALIVE_160US,
        )
        .await?;
        // Receive error and overflow interrupts on the INT pin, as foxBMS enables them.
        self.bridge_write_verified(
            BridgeRegister::RxInterruptEnable,
            (RxInterrupt::ERROR | RxInterrupt::OVERFLOW).bits(),
        )
        .await?;
        self.bridge_write(BridgeRegister::RxInterruptFlags, 0x00)
            .await?;
        self.wake_chain().await?;
        let n = self.hello_all().await?;
        if usize::from(n) != N {
            return Err(Error::Device {
                device: n,
                what: "HELLOALL counted a different number of devices than the chain",
            });
        }
        // Clear the power-up alerts (MAXREFDES1301 `clear_status_fmea`).
        for r in [Register::Status1, Register::Fmea1, Register::Fmea2] {
            self.write_msg(None, r.address(), 0x0000).await?;
        }
        self.verify_slot_order().await?;
        let mut v: Slots<N> = [Ok(0); N];
        self.read_reg(Register::Version.address(), &mut v).await?;
        for (d, x) in v.iter().enumerate() {
            match x {
                Ok(raw) if raw >> 4 == V::MODEL => {}
                Ok(_) => {
                    return Err(Error::Device {
                        device: d as u8,
                        what: "VERSION model is not the configured part",
                    });
                }
                Err(reason) => {
                    return Err(Error::Integrity(DeviceFault {
                        device: d as u8,
                        reason: *reason,
                    }));
                }
            }
        }
        self.write_all_verified(
            Register::MeasureEn1,
            register::measure_enable1(V::CELLS, true),
        )
        .await?;
        if let Some(t) = self.thermistors {
            self.write_all_verified(Register::MeasureEn2, register::measure_enable2(t.inputs))
                .await?;
        }
        self.balexp_written = false;
        self.write_thresholds().await
    }

    /// READALL of ADDRESS against one READDEVICE of ADDRESS per device: each device's
    /// ADDRESS register holds its own address, so the slots of a READALL must match the
    /// device-by-device answers in order. This checks the slot order the driver assumes
    /// (device 0 first) on the hardware itself, without knowing the register's layout.
    pub(super) async fn verify_slot_order(&mut self) -> Result<(), Error<IO::Error>> {
        if N < 2 {
            return Ok(());
        }
        let reg = Register::Address.address();
        let mut rx = [0u8; MAX_MESSAGE];
        let mut all: Option<[u16; N]> = None;
        let mut last = FaultReason::NoResponse;
        for _ in 0..=self.retries {
            let req = Request::read_all(reg, N, self.next_alive()).map_err(Error::Config)?;
            if !self.transact(&req, &mut rx).await? {
                continue;
            }
            match message::check_read_all(&req, &rx) {
                Ok(r) => {
                    let mut v = [0u16; N];
                    for (d, x) in v.iter_mut().enumerate() {
                        *x = r.value(d).unwrap_or(0);
                    }
                    all = Some(v);
                    break;
                }
                Err(e) => last = self.note(e),
            }
        }
        let Some(all) = all else {
            return Err(Error::Integrity(DeviceFault {
                device: 0,
                reason: last,
            }));
        };
        for (d, a) in all.iter().enumerate() {
            let mut came_back = true;
            match self.read_one(d as u8, reg, &mut came_back).await? {
                Ok((v, _)) if v == *a => {}
                Ok(_) => {
                    return Err(Error::Device {
                        device: d as u8,
                        what: "READALL slot order differs from the device addresses",
                    });
                }
                Err(reason) => {
                    return Err(Error::Integrity(DeviceFault {
                        device: d as u8,
                        reason,
                    }));
                }
            }
        }
        Ok(())
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Max1785x<V, N> => core {
        /// The full start-up: bridge keep-alive (CONFIGURATION_3 = 0x05, 160 µs) and the
        /// receive error/overflow interrupt enables ([`RxInterrupt`]), both verified by
        /// read-back, interrupt flags cleared, chain wake-up (preambles on until RX_STATUS shows the receiver busy,
        /// bounded; preambles off; buffers cleared), HELLOALL with the device count checked
        /// against `N` ([`Error::Device`] naming the count otherwise: with fewer devices,
        /// the first that took no address), STATUS1/FMEA1/FMEA2 cleared, the READALL slot
        /// order checked on the chain itself (a READALL of ADDRESS against one READDEVICE
        /// of ADDRESS per device; [`Error::Device`] if they differ), every
        /// device's VERSION model checked against `V`, MEASUREEN1 (all cells + block) and the
        /// held thresholds written and verified (foxBMS `MXM_5XStateHandlerInit`;
        /// MAXREFDES1301 `Initialization.cpp`). [`CellMonitor::wake`](crate::CellMonitor::wake)
        /// runs this.
        pub fn start_up(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Only the chain wake-up part of [`start_up`](Self::start_up).
        pub fn wake_chain(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// HELLOALL (seed 0): returns the number of devices that took an address.
        pub fn hello_all(&mut self) -> Result<u8, Error<SpiError<B>>>;
    }
}
