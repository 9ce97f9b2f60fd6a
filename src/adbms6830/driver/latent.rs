//! The FLAG_D latent-fault self-test sequence of [`Adbms6830`] (the pure part — patterns,
//! expected flags, verdicts — is [`crate::adbms6830::latent`]).

use super::{Adbms6830, Core, E, NEED_CFGA, NEED_CFGB, Unconfirmed, check_dcc};
use crate::adbms6830::command as cmd;
use crate::adbms6830::latent::{
    self, LATENT_SETTLE_US, LatentFlags, LatentOutcome, LatentReport, LatentSet, LatentTest,
};
use crate::adbms6830::register::CfgA;
use crate::adbms6830::variant::Variant;
use crate::error::{Error, VerifyMismatch};
use crate::io::{SpiError, SpiIo, twins};
use crate::monitor::{ChainReport, Reading};
use crate::units::Microseconds;

/// A configuration write the read-back did not confirm, as a self-test outcome.
fn outcome(r: Result<(), Unconfirmed>) -> Result<(), LatentOutcome> {
    r.map_err(|u| match u {
        Unconfirmed::Frame(f) => LatentOutcome::NotTested(f),
        Unconfirmed::Differs(m) => LatentOutcome::NotApplied(m),
    })
}

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    /// OC_CNTR of every device (STATD STDR5).
    async fn read_oscillator_counters(
        &mut self,
        out: &mut [Reading<u8>; N],
    ) -> Result<ChainReport, E<IO>> {
        let mut d = [Reading::NotConverted; N];
        let r = self.read_status_d(&mut d).await?;
        for (o, s) in out.iter_mut().zip(d.iter()) {
            *o = s.map(|s| s.oscillator_counter);
        }
        Ok(r)
    }

    pub(crate) async fn latent_fault_self_test(
        &mut self,
        tests: LatentSet,
        out: &mut [LatentReport; N],
    ) -> Result<ChainReport, E<IO>> {
        *out = [LatentReport::NOT_RUN; N];
        if tests.is_empty() {
            return Ok(ChainReport::OK);
        }
        // The baseline every test returns to: the held configuration with FLAG_D = 0.
        // Checked before anything is sent.
        let mut base = self.cfga;
        for c in base.iter_mut() {
            c.flag_d = 0;
            c.validate()?;
        }
        for b in self.cfgb.iter() {
            b.validate()?;
            check_dcc::<V>(u32::from(b.dcc))?;
        }
        let mut report = ChainReport::OK;
        let mark = self.taint_mark();
        let run = self.latent_run(tests, &base, out, &mut report).await;
        // Whatever happened, put the held configuration (FLAG_D = 0) back on every device.
        let restore = self.latent_restore(&base, out, &mut report).await;
        // A device whose counter failed anywhere in the self-test may have missed a command
        // (a FLAG_D write, a CLRFLAG): none of its verdicts in this run is trusted.
        for (o, t) in out.iter_mut().zip(self.tainted(mark).iter()) {
            if let Some(f) = t {
                report.record(*f);
                for x in o.outcomes.iter_mut() {
                    if !matches!(x, LatentOutcome::NotRun) {
                        *x = LatentOutcome::NotTested(*f);
                    }
                }
                for r in [
                    &mut o.oscillator_fast,
                    &mut o.oscillator_slow,
                    &mut o.oscillator_normal,
                ] {
                    if matches!(r, Reading::Valid(_)) {
                        *r = Reading::Failed(*f);
                    }
                }
                if matches!(o.latched_before, Reading::Valid(_)) {
                    o.latched_before = Reading::Failed(*f);
                }
            }
        }
        // Capacity slots past the chain: no device, nothing run.
        for o in out.iter_mut().skip(self.n()) {
            *o = LatentReport::NOT_RUN;
        }
        match (run, restore) {
            // A failed restore matters most: FLAG_D may still be set somewhere.
            (_, Err(e)) | (Err(e), Ok(())) => Err(e),
            (Ok(()), Ok(())) => Ok(report),
        }
    }

    /// Runs every test of `tests` in order, filling `out` after each.
    async fn latent_run(
        &mut self,
        tests: LatentSet,
        base: &[CfgA; N],
        out: &mut [LatentReport; N],
        report: &mut ChainReport,
    ) -> Result<(), E<IO>> {
        self.wake_idle().await?;
        let clean = base.map(|c| c.to_bytes());
        let settle = Microseconds(LATENT_SETTLE_US);
        // 0. What was latched before the self-test touched anything: reported, since the
        //    clears below erase it.
        let mut found = [Reading::NotConverted; N];
        report.merge(self.read_status_c(&mut found).await?);
        for (o, f) in out.iter_mut().zip(found.iter()) {
            o.latched_before = f.map(|s| LatentFlags::of(&s));
        }
        for t in tests.iter() {
            // 1. Baseline: clear every flag the test can set, and check that they are clear,
            //    so that a flag seen while forcing was set by FLAG_D.
            self.clear_flags(t.clears().clrflag_bytes()).await?;
            let mut baseline = [Reading::NotConverted; N];
            report.merge(self.read_status_c(&mut baseline).await?);
            // 2. Force: the held configuration with the test's FLAG_D, verified per device.
            let forced_cfg = base.map(|c| {
                CfgA {
                    flag_d: t.flag_d(),
                    ..c
                }
                .to_bytes()
            });
            let applied = self
                .write_per_device(
                    &cmd::WRCFGA,
                    &cmd::RDCFGA,
                    "CFGA",
                    &forced_cfg,
                    &CfgA::WRITABLE,
                    0,
                    report,
                )
                .await?;
            self.settle(settle).await?;
            let mut forced = [Reading::NotConverted; N];
            report.merge(self.read_status_c(&mut forced).await?);
            let mut oc_forced = [Reading::NotConverted; N];
            if t.reads_oscillator_counter() {
                report.merge(self.read_oscillator_counters(&mut oc_forced).await?);
            }
            // 3. Undo: FLAG_D = 0 (the held configuration), verified; wait for the forced
            //    condition to go away; clear what the test may have set; check it is clear.
            let restored = self
                .write_per_device(
                    &cmd::WRCFGA,
                    &cmd::RDCFGA,
                    "CFGA",
                    &clean,
                    &CfgA::WRITABLE,
                    NEED_CFGA,
                    report,
                )
                .await?;
            self.settle(settle).await?;
            self.clear_flags(t.clears().clrflag_bytes()).await?;
            let mut cleared = [Reading::NotConverted; N];
            report.merge(self.read_status_c(&mut cleared).await?);
            let mut oc_normal = [Reading::NotConverted; N];
            if t.reads_oscillator_counter() {
                report.merge(self.read_oscillator_counters(&mut oc_normal).await?);
            }
            for (d, o) in out.iter_mut().enumerate() {
                let (Some(b), Some(a), Some(f), Some(r), Some(c)) = (
                    baseline.get(d),
                    applied.get(d),
                    forced.get(d),
                    restored.get(d),
                    cleared.get(d),
                ) else {
                    continue;
                };
                if let Some(x) = o.outcomes.get_mut(t.index()) {
                    *x = latent::judge(t, *b, outcome(*a), *f, outcome(*r), *c);
                }
                let oc = |a: &[Reading<u8>; N]| a.get(d).copied().unwrap_or(Reading::NotConverted);
                // A forced count exists only where FLAG_D was confirmed applied.
                let forced_count = match a {
                    Ok(()) => oc(&oc_forced),
                    Err(Unconfirmed::Frame(f)) => Reading::Failed(*f),
                    Err(Unconfirmed::Differs(_)) => Reading::NotConverted,
                };
                match t {
                    LatentTest::OscillatorFast => o.oscillator_fast = forced_count,
                    LatentTest::OscillatorSlow => o.oscillator_slow = forced_count,
                    _ => {}
                }
                if t.reads_oscillator_counter() {
                    o.oscillator_normal = oc(&oc_normal);
                }
            }
        }
        Ok(())
    }

    /// Writes the held configuration (CFGA with FLAG_D = 0, and CFGB) to every device and
    /// verifies it. A device whose read-back frame fails gets `restore_fault`; a device that
    /// answers with a different configuration is an [`Error::Verify`] (first such device).
    async fn latent_restore(
        &mut self,
        base: &[CfgA; N],
        out: &mut [LatentReport; N],
        report: &mut ChainReport,
    ) -> Result<(), E<IO>> {
        self.cfga = *base;
        let a = base.map(|c| c.to_bytes());
        let va = self
            .write_per_device(
                &cmd::WRCFGA,
                &cmd::RDCFGA,
                "CFGA",
                &a,
                &CfgA::WRITABLE,
                NEED_CFGA,
                report,
            )
            .await?;
        let b = self.cfgb.map(|c| c.to_bytes());
        let vb = self
            .write_per_device(
                &cmd::WRCFGB,
                &cmd::RDCFGB,
                "CFGB",
                &b,
                &[0xFF; 6],
                NEED_CFGB,
                report,
            )
            .await?;
        let mut first: Option<VerifyMismatch> = None;
        for ((o, ra), rb) in out.iter_mut().zip(va.iter()).zip(vb.iter()) {
            for r in [ra, rb] {
                match r {
                    Ok(()) => {}
                    Err(Unconfirmed::Differs(m)) => {
                        if first.is_none() {
                            first = Some(*m);
                        }
                    }
                    Err(Unconfirmed::Frame(f)) => {
                        if o.restore_fault.is_none() {
                            o.restore_fault = Some(*f);
                        }
                    }
                }
            }
        }
        match first {
            Some(m) => Err(Error::Verify(m)),
            None => Ok(()),
        }
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core {
        /// FLAG_D latent-fault self-test: checks that each device's own fault detectors
        /// (oscillator check, supply OV/UV/delta, thermal shutdown, fuse/NVM ECC, test-mode
        /// check) can still trip, by forcing them through CFGA FLAG_D (ADBMS6830B-DS Tables
        /// 55/56, ADBMS6830-SpA Table 104). See
        /// [`latent`](crate::adbms6830::latent) for the patterns and the **unverified**
        /// expected flags.
        ///
        /// First STATC is read once: the flags latched before the self-test go to
        /// [`LatentReport::latched_before`]. Then, for each test of `tests`, in run order
        /// ([`LatentTest::ALL`], thermal shutdown last):
        /// 1. CLRFLAG of [`LatentTest::clears`], read STATC: those flags must now be clear,
        ///    so that a flag seen while forcing was set by FLAG_D (one that stays set is
        ///    [`LatentOutcome::FlagNotCleared`], never a pass);
        /// 2. WRCFGA with the held configuration ([`Adbms6830::config`]) and the test's
        ///    FLAG_D, read back per device; wait
        ///    [`LATENT_SETTLE_US`](crate::adbms6830::latent::LATENT_SETTLE_US) (2 ms,
        ///    crate-chosen), read STATC (and STATD OC_CNTR for the oscillator tests);
        /// 3. WRCFGA with FLAG_D = 0, read back; wait again; CLRFLAG of
        ///    [`LatentTest::clears`]; read STATC (and STATD) again.
        ///
        /// Then, **even if a step failed** (best effort), the held configuration — CFGA with
        /// FLAG_D = 0, and CFGB — is written to every device and verified; the held CFGA's
        /// FLAG_D becomes 0. If that restore fails on the bus, or a device answers with a
        /// different configuration ([`Error::Verify`]), that error is returned (it wins over
        /// an earlier error): FLAG_D is never left set silently. A device whose restore
        /// read-back frame fails is named in its [`LatentReport::restore_fault`] and in the
        /// returned [`ChainReport`].
        ///
        /// `out[d]` gets device `d`'s [`LatentOutcome`] per test: passed, expected flag not
        /// set (a latent fault), flag not cleared, not tested (its frame failed: the
        /// [`DeviceFault`](crate::error::DeviceFault)), or not applied (CFGA read-back
        /// differed). One failing device does not affect the others' verdicts. Results of
        /// tests completed before a bus error stay in `out`. The returned [`ChainReport`]
        /// lists every device whose frame failed at any step.
        ///
        /// The ports are woken first ([`Adbms6830::wake_idle`]); every wait is below tIDLE
        /// and the driver re-wakes the ports after any wait that could exceed it. The held
        /// configuration is validated before anything is sent.
        ///
        /// Side effects to know: CLRFLAG clears the flags each test may have set (a real
        /// fault latched in those flags before the call is cleared too; it is reported in
        /// [`LatentReport::latched_before`]), but the flags forced by a test
        /// cut short by a bus error are not cleared (they stay visible in STATC; the restore
        /// only rewrites the configuration); the command counters advance
        /// (tracked). **Thermal shutdown**: forcing THSD may, on silicon, act like a real
        /// thermal shutdown (which may reset registers and the command counter — the notes
        /// do not say). The driver runs it last and rewrites the full configuration after
        /// it; a device whose counter restarted is detected as reset like any other
        /// (reported [`LatentOutcome::NotTested`] with a
        /// [`CommandCounter`](crate::error::FaultReason::CommandCounter) fault, and its reads
        /// stay failed until [`Adbms6830::wake`] recovers it). Leave
        /// [`LatentTest::ThermalShutdown`] out of `tests` if that is unwelcome.
        pub fn latent_fault_self_test(&mut self, tests: LatentSet, out: &mut [LatentReport; N]) -> Result<ChainReport, Error<SpiError<B>>>;
    }
}
