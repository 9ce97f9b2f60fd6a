//! Ring recovery after a broken cable: the far devices turned around and read from the other
//! end.

use super::*;

/// Result of [`Bq79616::recover_ring`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RingStatus {
    /// `true` if the forward path reaches every device (then nothing was changed).
    pub intact: bool,
    /// Device index after which the forward path is broken: the last device still answering
    /// forward (`None` if intact, or if not even device 0 answers forward).
    pub break_after: Option<u8>,
    /// Devices now read in the forward direction (index 0 up).
    pub forward: u8,
    /// Devices now read in the reverse direction (the top ones).
    pub reverse: u8,
    /// Devices reached from neither side.
    pub unreachable: DeviceSet,
}

impl<V: Variant, const N: usize, IO: SerialIo> Core<V, N, IO> {
    /// Ring recovery (bridge topology): finds the break in the forward path, switches the
    /// bridge to the reverse direction (CONTROL1\[DIR_SEL\]), turns the devices reachable from
    /// the top around with a broadcast-reverse CONTROL1 = DIR_SEL, re-addresses them with
    /// DIR1_ADDR keeping their forward addresses, marks the new top, and reads every address
    /// back. From then on every operation is sent to both groups (the bridge direction toggled
    /// between them) until the next `wake`.
    pub(crate) async fn recover_ring(&mut self) -> Result<RingStatus, Error<IO::Error>> {
        if self.topology != Topology::Bridge {
            return Err(Error::InvalidArgument(
                "ring recovery needs the BQ79600 bridge",
            ));
        }
        self.reset_groups();
        let n = N.clamp(1, 63) as u8;
        let k = self.detect_chain_length().await?;
        if k >= n {
            return Ok(RingStatus {
                intact: true,
                break_after: None,
                forward: n,
                reverse: 0,
                unreachable: DeviceSet::EMPTY,
            });
        }
        // Forward group 1..=k: mark its new top.
        if k > 0 {
            self.write_raw(
                Request::SingleWrite,
                k,
                reg::COMM_CTRL,
                &[(CommCtrl::STACK_DEV | CommCtrl::TOP_STACK).bits()],
            )
            .await?;
        }
        // Reverse: bridge first, then every device reachable from the top end.
        self.bridge_direction(true).await?;
        self.write_raw(
            Request::BroadcastWriteReverse,
            0,
            reg::CONTROL1,
            &[Control1::DIR_SEL.bits()],
        )
        .await?;
        for r in 0..8u16 {
            self.write_raw(Request::BroadcastWrite, 0, reg::OTP_ECC_DATAIN1 + r, &[0])
                .await?;
        }
        self.write_raw(
            Request::BroadcastWrite,
            0,
            reg::CONTROL1,
            &[(Control1::DIR_SEL | Control1::ADDR_WR).bits()],
        )
        .await?;
        // The bridge takes 0, then the devices from the top down keep their numbers.
        self.write_raw(Request::BroadcastWrite, 0, reg::DIR1_ADDR, &[0])
            .await?;
        for a in (k + 1..=n).rev() {
            self.write_raw(Request::BroadcastWrite, 0, reg::DIR1_ADDR, &[a])
                .await?;
        }
        self.write_raw(
            Request::BroadcastWrite,
            0,
            reg::COMM_CTRL,
            &[CommCtrl::STACK_DEV.bits()],
        )
        .await?;
        // Read back from the top down: the reverse group is the run that answers.
        let mut buf = [0u8; MAX_RESPONSE];
        let mut lowest = n + 1;
        for a in (k + 1..=n).rev() {
            match self.read_single(a, reg::DIR1_ADDR, &mut buf, 1).await? {
                Ok(()) if buf.get(4) == Some(&a) => lowest = a,
                _ => break,
            }
        }
        if lowest <= n {
            self.write_raw(
                Request::SingleWrite,
                lowest,
                reg::COMM_CTRL,
                &[(CommCtrl::STACK_DEV | CommCtrl::TOP_STACK).bits()],
            )
            .await?;
        }
        let mut unreachable = DeviceSet::EMPTY;
        for a in k + 1..lowest.min(n + 1) {
            if let Some(i) = self.index_of(a) {
                unreachable.insert(i);
            }
        }
        self.groups = [
            Group {
                reverse: false,
                lo: 1,
                hi: k.max(1),
            },
            Group {
                reverse: true,
                lo: lowest.min(n),
                hi: n,
            },
        ];
        self.ngroups = 2;
        if k == 0 {
            // Nothing forward: the reverse group is the only one.
            self.groups[0] = self.groups[1];
            self.ngroups = 1;
        }
        if lowest > n {
            // Nothing reachable in reverse either.
            self.ngroups = 1;
            self.groups[0] = Group {
                reverse: false,
                lo: 1,
                hi: k.max(1),
            };
        }
        self.bridge_direction(self.groups[0].reverse).await?;
        Ok(RingStatus {
            intact: false,
            break_after: k.checked_sub(1),
            forward: k,
            reverse: if lowest <= n { n + 1 - lowest } else { 0 },
            unreachable,
        })
    }

    /// Turns the devices of a reverse group back to the forward direction: the bridge in
    /// reverse, then a broadcast-reverse CONTROL1 = 0 (DIR_SEL cleared) that every device
    /// reached from the top end takes — the bridge too, which leaves it forward.
    pub(super) async fn unsplit(&mut self) -> Result<(), Error<IO::Error>> {
        self.bridge_direction(true).await?;
        self.write_raw(Request::BroadcastWriteReverse, 0, reg::CONTROL1, &[0])
            .await?;
        self.bridge_reverse = false;
        self.reset_groups();
        Ok(())
    }
}

twins! {
    serial impl[V: Variant, const N: usize] Bq79616<V, N> => core {
        /// Ring recovery after a broken cable (bridge with the top device wired back to it):
        /// re-addresses the devices beyond the break from the other end (reverse direction)
        /// and splits the stack into two groups so every reachable device is read again.
        /// Reports the break position. `Ok` with `break_after: None` if nothing is broken.
        pub fn recover_ring(&mut self) -> Result<RingStatus, Error<SerialError<B>>>;
    }
}
