//! Wake-up (sleep and isoSPI idle), the settle wait, RSTCC and soft reset.

use super::*;

impl<V: Variant, const N: usize, IO: SpiIo> Core<V, N, IO> {
    pub(crate) async fn wake(&mut self) -> Result<(), E<IO>> {
        let n = self.n();
        isospi::wake_chain(&mut self.io, n, &cmd::RDCFGA, timing::WAKE_GAP_US)
            .await
            .map_err(Error::Bus)?;
        // A chain that slept lost its continuous conversion: restart it when asked.
        self.continuous = false;
        self.reset_command_counters().await?;
        // A device that slept lost its configuration, and after RSTCC nothing shows which
        // did: rewrite the held configuration unless it is the power-up default. Until the
        // verified rewrite succeeds on a device, its data stays failed.
        if (0..N).all(|d| self.config_is_default(d)) {
            return Ok(());
        }
        for l in self.lost.iter_mut() {
            *l |= NEED_CFGA | NEED_CFGB;
        }
        let (a, b) = (self.cfga, self.cfgb);
        self.write_cfga(&a).await?;
        self.write_cfgb(&b).await
    }

    pub(crate) async fn wake_idle(&mut self) -> Result<(), E<IO>> {
        let n = self.n();
        isospi::wake_idle(&mut self.io, n, &cmd::RDCFGA, timing::T_READY_US)
            .await
            .map_err(Error::Bus)
    }

    /// Waits `t`; after a wait that can exceed tIDLE (4.3 ms minimum) the ports are woken
    /// again so the next command is not lost at an idle port.
    pub(super) async fn settle(&mut self, t: Microseconds) -> Result<(), E<IO>> {
        let n = self.n();
        isospi::settle(
            &mut self.io,
            t.0,
            timing::T_IDLE_MIN_US,
            n,
            &cmd::RDCFGA,
            timing::T_READY_US,
        )
        .await
        .map_err(Error::Bus)
    }

    pub(crate) async fn reset_command_counters(&mut self) -> Result<(), E<IO>> {
        self.send(&cmd::RSTCC).await
    }

    pub(crate) async fn soft_reset(&mut self) -> Result<(), E<IO>> {
        self.send(&cmd::SRST).await?;
        self.cfga = [CfgA::default(); N];
        self.cfgb = [CfgB::default(); N];
        // Chip and driver now agree on the default configuration and counter 0.
        self.lost = [0; N];
        self.continuous = false;
        // The chip restarts (as from sleep): wake it again.
        let n = self.n();
        isospi::wake_chain(&mut self.io, n, &cmd::RDCFGA, timing::WAKE_GAP_US)
            .await
            .map_err(Error::Bus)
    }
}

twins! {
    spi impl[V: Variant, const N: usize] Adbms6830<V, N> => core {
        /// Wakes the chain: one dummy frame (RDCFGA, no data) per device, 500 µs apart
        /// (ADBMS6830B-DS "Waking a daisy chain", method 2; ≥ tWAKE max), then RSTCC so the
        /// counters are 0 on every device whether it slept or not. A device that slept lost
        /// its configuration and RSTCC hides which did, so unless the held configuration
        /// ([`Adbms6830::config`]) is the power-up default, `wake` then rewrites CFGA and CFGB
        /// (discharge bits included) and verifies them; a device whose rewrite fails keeps
        /// failing its reads until a later configuration write succeeds.
        pub fn wake(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// Wakes the isoSPI ports from IDLE (after more than tIDLE = 4.3 ms minimum without
        /// activity, cores still up; ADBMS6830B-DS timing table, tIDLE/tREADY): one dummy RDCFGA
        /// frame per device, tREADY (10 µs) apart. RDCFGA moves no counter. The `CellMonitor`
        /// methods and the diagnostics do this themselves (first, and after every wait that
        /// can exceed tIDLE); the low-level `start_*`/`read_*`/`write_*` methods send exactly
        /// their frames, so call this after waiting yourself.
        pub fn wake_idle(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// RSTCC: resets every device's command counter to 0 (and the driver's expectation).
        /// Part of the recovery of a device seen to reset (see the module docs).
        pub fn reset_command_counters(&mut self) -> Result<(), Error<SpiError<B>>>;
        /// SRST: soft reset (configuration to defaults, counters to 0), then wakes the chain.
        pub fn soft_reset(&mut self) -> Result<(), Error<SpiError<B>>>;
    }
}
