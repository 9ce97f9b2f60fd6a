//! Chain management: wake, enumeration (node IDs), the health check, length detection and sleep.

use super::*;

impl<const N: usize, IO: SerialIo> Core<N, IO> {
    /// Sends the wake pattern and waits [`WAKE_US`].
    pub(crate) async fn wake_chain(&mut self) -> Result<(), Error<IO::Error>> {
        self.io.drain(0).await.map_err(Error::Bus)?;
        self.io.write(&WAKE_PATTERN).await.map_err(Error::Bus)?;
        self.io.delay_us(WAKE_US).await;
        self.io.drain(0).await.map_err(Error::Bus)?;
        Ok(())
    }

    /// Gives IDs to every device that does not answer at its own, reads them back, and
    /// configures the devices it enumerated.
    pub(crate) async fn enumerate(&mut self) -> Result<DeviceSet, Error<IO::Error>> {
        let mut fresh = DeviceSet::EMPTY;
        // Devices that answer a broadcast read with their expected CONFIG keep their ID.
        let present = self.read_all_raw(Register::CONFIG).await?;
        for d in 0..N {
            let want = NodeConfig {
                node_id: node_id(d),
                final_node: d + 1 == N,
            }
            .encode();
            if matches!(present.get(d), Ok(v) if v & NodeConfig::MASK == want) {
                continue;
            }
            // Asked on its own, with every retry: a device whose reply was only corrupted must
            // not be taken for a lost one, or the write through ID 0 below would give its ID to
            // an unaddressed device further up.
            let probe = self.read_node(node_id(d), Register::CONFIG).await?;
            if matches!(probe, Ok(v) if v & NodeConfig::MASK == want) {
                continue;
            }
            let wrote = self
                .write_node(UNASSIGNED_ID, Register::CONFIG, want)
                .await?;
            if let Err(reason) = wrote {
                // No unaddressed device answered: the device is missing (or kept a wrong ID).
                return Err(fault(d, reason));
            }
            let back = self
                .read_node(node_id(d), Register::CONFIG)
                .await?
                .map_err(|reason| fault(d, reason))?;
            check_back(d, Register::CONFIG, want, back & NodeConfig::MASK)?;
            fresh.insert(d);
        }
        for d in fresh.iter() {
            self.configure_device(d).await?;
            self.converted.0 &= !(1 << d);
            self.started.0 &= !(1 << d);
            self.start_fault[d] = None;
        }
        Ok(fresh)
    }

    pub(crate) async fn check_chain(&mut self) -> Result<ChainHealth, Error<IO::Error>> {
        let cfg = self.read_all(Register::CONFIG).await?;
        let mut h = ChainHealth::default();
        for (d, c) in cfg.iter().enumerate() {
            let want = NodeConfig {
                node_id: node_id(d),
                final_node: d + 1 == N,
            }
            .encode();
            if matches!(c, Ok(v) if v & NodeConfig::MASK == want) {
                h.answered.insert(d);
            }
        }
        h.unaddressed = self
            .read_node_tries(UNASSIGNED_ID, Register::CONFIG, 1)
            .await?
            .is_ok();
        Ok(h)
    }

    pub(crate) async fn detect_chain_length(&mut self) -> Result<usize, Error<IO::Error>> {
        // Sleep with a full register reset (reply not needed), then wake: every device is
        // unaddressed, and IDs are handed out until nobody answers at ID 0.
        let attempts = 1;
        let _ = self
            .write_node_tries(
                BROADCAST_ID,
                Register::OP_MODE,
                crate::tle9012::register::OpMode::SLEEP_REG_RESET,
                attempts,
            )
            .await?;
        self.io.delay_us(WAKE_US).await;
        self.wake_chain().await?;
        self.converted = DeviceSet::EMPTY;
        self.started = DeviceSet::EMPTY;
        let mut count = 0usize;
        while count < MAX_NODES {
            let id = node_id(count);
            if self
                .write_node(UNASSIGNED_ID, Register::CONFIG, u16::from(id))
                .await?
                .is_err()
            {
                break;
            }
            count += 1;
        }
        if count > 0 {
            let last = count - 1;
            let v = NodeConfig {
                node_id: node_id(last),
                final_node: true,
            }
            .encode();
            let node = node_id(last);
            self.write_node(node, Register::CONFIG, v)
                .await?
                .map_err(|reason| fault(last, reason))?;
            let back = self
                .read_node(node, Register::CONFIG)
                .await?
                .map_err(|reason| fault(last, reason))?;
            check_back(last, Register::CONFIG, v, back & NodeConfig::MASK)?;
        }
        if count == N {
            for d in 0..N {
                self.configure_device(d).await?;
            }
        }
        Ok(count)
    }

    pub(crate) async fn sleep(&mut self) -> Result<(), Error<IO::Error>> {
        // Sleeping devices do not answer; the FN reply may or may not come first.
        let _ = self
            .write_node_tries(
                BROADCAST_ID,
                Register::OP_MODE,
                crate::tle9012::register::OpMode::SLEEP,
                1,
            )
            .await?;
        self.converted = DeviceSet::EMPTY;
        self.started = DeviceSet::EMPTY;
        Ok(())
    }
}
