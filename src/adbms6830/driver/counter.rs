//! Command-counter bookkeeping: the expectation per device, what each command does to it,
//! and the verdict on a received counter (see the [module documentation](crate::adbms6830)).

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    /// bus, so whether the chain saw it is unknown).
    pub(super) fn account(&mut self, frame: &[u8; 4], ok: bool) {
        match cmd::increments(cmd::code_of(frame)) {
            Inc::No => {}
            Inc::Yes if ok => self.bump(),
            Inc::Yes => self.widen(),
            Inc::Reset if ok => {
                self.expected = [0; N];
                self.slack = [0; N];
                self.since = [0; N];
                for l in self.lost.iter_mut() {
                    *l &= !NEED_RSTCC;
                }
            }
            // A reset that may not have arrived: keep the old expectation; a device that did
            // reset then reads 0 and is treated as reset (safe side).
            Inc::Reset => {}
            Inc::Disputed => match self.disputed {
                DisputedCounting::NoIncrement => {}
                DisputedCounting::Increment if ok => self.bump(),
                DisputedCounting::Increment | DisputedCounting::Either => self.widen(),
            },
        }
    }

    pub(super) fn bump(&mut self) {
        for e in self.expected.iter_mut() {
            *e = cmd::next_counter(*e);
        }
        self.count_since();
    }

    /// One more increment may or may not have happened on every device.
    pub(super) fn widen(&mut self) {
        for s in self.slack.iter_mut() {
            *s = s.saturating_add(1).min(63);
        }
        self.count_since();
    }

    pub(super) fn count_since(&mut self) {
        for s in self.since.iter_mut() {
            *s = s.saturating_add(1).min(63);
        }
    }

    /// `true` if device `d`'s held configuration is the power-up default (what a device that
    /// slept or reset has anyway).
    pub(super) fn config_is_default(&self, d: usize) -> bool {
        let da = CfgA::default().to_bytes();
        let db = CfgB::default().to_bytes();
        let a_ok = self.cfga.get(d).is_none_or(|a| {
            a.to_bytes()
                .iter()
                .zip(da.iter())
                .zip(CfgA::WRITABLE.iter())
                .all(|((x, y), m)| x & m == y & m)
        });
        let b_ok = self.cfgb.get(d).is_none_or(|b| b.to_bytes() == db);
        a_ok && b_ok
    }

    #[inline]
    pub(super) fn check_counter(&mut self, device: usize, received: u8) -> Result<(), FaultReason> {
        let (Some(e), Some(s), Some(n)) = (
            self.expected.get_mut(device),
            self.slack.get_mut(device),
            self.since.get_mut(device),
        ) else {
            return Err(FaultReason::Framing);
        };
        let (expected, slack, since) = (*e, *s, *n);
        // Whatever the verdict, the expectation follows the device, so one missed command
        // is reported once (at the first read that sees it), not forever.
        *e = received;
        *s = 0;
        *n = 0;
        if received == expected {
            self.confirm(device);
            return Ok(());
        }
        self.counter_mismatch(device, expected, slack, since, received)
    }

    /// A good counter from `device`: the conversions started since it became stale reached
    /// it, so their result kinds are fresh again.
    #[inline]
    pub(super) fn confirm(&mut self, device: usize) {
        if !self.pending_any {
            return;
        }
        if let (Some(p), Some(s)) = (self.pending.get_mut(device), self.stale.get_mut(device)) {
            if *p != 0 {
                *s &= !*p;
                *p = 0;
            }
        }
        self.pending_any = self.pending.iter().any(|&p| p != 0);
    }

    /// A conversion start of result kinds `kinds` went out: a stale device confirms it at
    /// its next good counter.
    pub(super) fn started(&mut self, kinds: u8) {
        for (p, s) in self.pending.iter_mut().zip(self.stale.iter()) {
            if *s != 0 && kinds != 0 {
                *p |= kinds;
                self.pending_any = true;
            }
        }
    }

    /// Records a command-counter fault of `f.device` for [`Self::taint_mark`].
    pub(super) fn note_counter_fault(&mut self, f: DeviceFault) {
        if !matches!(f.reason, FaultReason::CommandCounter { .. }) {
            return;
        }
        let d = usize::from(f.device);
        if let (Some(at), Some(l)) = (
            self.fault_seq_at.get_mut(d),
            self.last_counter_fault.get_mut(d),
        ) {
            self.fault_seq = self.fault_seq.wrapping_add(1);
            *at = self.fault_seq;
            *l = f;
        }
    }

    /// The per-device counter-fault count, taken at the start of an operation of several
    /// reads; [`Self::tainted`] then tells which devices showed a counter fault since.
    pub(super) fn taint_mark(&self) -> u32 {
        self.fault_seq
    }

    /// `true` if any device showed a counter fault since `mark` (the cheap check before
    /// [`Self::tainted`]).
    #[inline]
    pub(super) fn tainted_since(&self, mark: u32) -> bool {
        self.fault_seq != mark
    }

    /// Per device, the last counter fault it showed since `mark`, if any: every value of
    /// that device in the operation must then fail (it may have missed a command, so values
    /// read before the mismatch showed can be stale too).
    pub(super) fn tainted(&self, mark: u32) -> [Option<DeviceFault>; N] {
        let mut out = [None; N];
        let since = self.fault_seq.wrapping_sub(mark);
        if since == 0 {
            return out;
        }
        for (d, o) in out.iter_mut().enumerate() {
            if let (Some(at), Some(f)) = (self.fault_seq_at.get(d), self.last_counter_fault.get(d))
            {
                let age = at.wrapping_sub(mark);
                if age != 0 && age <= since {
                    *o = Some(*f);
                }
            }
        }
        out
    }

    /// The rare path of [`Self::check_counter`].
    #[cold]
    #[inline(never)]
    pub(super) fn counter_mismatch(
        &mut self,
        device: usize,
        expected: u8,
        slack: u8,
        since: u8,
        received: u8,
    ) -> Result<(), FaultReason> {
        if (1..=u32::from(slack)).any(|k| received == cmd::advance_counter(expected, k)) {
            self.confirm(device);
            return Ok(());
        }
        // The device missed (or repeated) a command, possibly a conversion start: every
        // result kind is stale until a conversion started from now on is confirmed.
        if let (Some(st), Some(at), Some(p)) = (
            self.stale.get_mut(device),
            self.stale_at.get_mut(device),
            self.pending.get_mut(device),
        ) {
            *st = STALE_ALL;
            *at = (expected, received);
            *p = 0;
        }
        if received <= since {
            // The counter only returns to 0 on power-up, sleep, RSTCC or SRST (it wraps
            // 63 → 1); after a reset it counts the commands since. A mismatching value no
            // higher than the commands sent since the last check is therefore treated as a
            // reset (a device that missed commands right after RSTCC looks the same: the safe
            // reading). The device lost its configuration: its data stays failed until RSTCC
            // and, if the held configuration is not the default, a verified rewrite of CFGA
            // and CFGB.
            let need = NEED_RSTCC
                | if self.config_is_default(device) {
                    0
                } else {
                    NEED_CFGA | NEED_CFGB
                };
            if let (Some(l), Some(at)) = (self.lost.get_mut(device), self.lost_at.get_mut(device)) {
                *l = need;
                *at = (expected, received);
            }
        }
        Err(FaultReason::CommandCounter { expected, received })
    }
}
